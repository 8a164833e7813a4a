"""``openblotter init``: set the portal up for an agency (a door over :mod:`services.setup`).

Asks for what no flag gave (agency, city, state, coordinates, time zone,
contact, licence, data directory), checks every answer as it is typed, writes
``openblotter.toml`` readable only by its owner with a fresh salt, and prints
the next commands.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import click
import typer

from openblotter.cli_console import make_console
from openblotter.domain.errors import InvalidInput
from openblotter.services import setup

DEFAULT_LICENSE = "CC-BY-4.0"
console = make_console()


def _ask(
    given: Any,
    label: str,
    check: Callable[[str], Any],
    *,
    interactive: bool,
    default: str | None = None,
) -> Any:
    """The flag's value, checked; else ask (again until the answer passes its check)."""
    if given is not None:
        return check(str(given))
    if not interactive:
        if default is not None:
            return check(default)
        raise InvalidInput(
            f"{label} is needed: give it as a flag (see openblotter init --help) or run "
            "openblotter init in a terminal to be asked.",
            detail={"setting": label},
        )

    def checked(text: str) -> Any:
        try:
            return check(text)
        except InvalidInput as error:
            raise click.BadParameter(error.message) from None

    return click.prompt(label, default=default, value_proc=checked, show_default=bool(default))


def init_command(
    agency: Annotated[
        str | None, typer.Option(help="The agency, e.g. 'Providence Police Department'.")
    ] = None,
    city: Annotated[str | None, typer.Option(help="The city it serves, e.g. Providence.")] = None,
    state: Annotated[str | None, typer.Option(help="The state, e.g. Rhode Island.")] = None,
    latitude: Annotated[
        float | None, typer.Option(help="The city's latitude in decimal degrees, e.g. 41.824.")
    ] = None,
    longitude: Annotated[
        float | None,
        typer.Option(help="The city's longitude (west is negative), e.g. -71.4128."),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone, e.g. America/New_York.")
    ] = None,
    contact_email: Annotated[
        str | None, typer.Option(help="Where readers write about the data (optional).")
    ] = None,
    license_name: Annotated[
        str | None,
        typer.Option("--license", help=f"Licence of the data (SPDX id or URL; {DEFAULT_LICENSE})."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the catalog and release files live (./data).")
    ] = None,
    config: Annotated[Path, typer.Option("--config", help="The settings file to write.")] = Path(
        "openblotter.toml"
    ),
    force: Annotated[
        bool, typer.Option(help="Rewrite an existing settings file (its salt is kept).")
    ] = False,
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Never ask: fail if a needed flag is missing.")
    ] = False,
) -> None:
    """Set the portal up for your agency: writes openblotter.toml with a new salt (owner-only)."""
    interactive = not no_input and sys.stdin.isatty()
    ask = functools.partial(_ask, interactive=interactive)
    identity = setup.PortalIdentity(
        agency=ask(agency, "Agency", lambda v: setup.check_text(v, "agency")),
        city_name=ask(city, "City", lambda v: setup.check_text(v, "city_name")),
        state=ask(state, "State", lambda v: setup.check_text(v, "state")),
        latitude=ask(latitude, "Latitude", lambda v: setup.check_coordinate(v, "city_latitude")),
        longitude=ask(
            longitude, "Longitude", lambda v: setup.check_coordinate(v, "city_longitude")
        ),
        timezone=ask(timezone, "Time zone", setup.check_timezone),
        contact_email=ask(contact_email, "Contact e-mail", setup.check_email, default=""),
        license=ask(license_name, "Data licence", str.strip, default=DEFAULT_LICENSE) or None,
        data_dir=Path(ask(data_dir, "Data directory", str.strip, default="data")).resolve(),
    )
    written = setup.write_settings_file(config, identity, replace=force)
    _print_next_steps(written, identity)


def _print_next_steps(written: setup.WrittenSettings, identity: setup.PortalIdentity) -> None:
    salt = "kept the salt it had" if written.salt_kept else "with a new random salt"
    console.print(
        f"Wrote {written.path} ({salt}; readable only by you). Back it up: the salt keeps "
        "hashed IDs stable across releases and must never change.",
        highlight=False,
    )
    console.print(
        f"{identity.agency}, {identity.city_name}, {identity.state} "
        f"({identity.latitude}, {identity.longitude}, {identity.timezone}); "
        f"data in {identity.data_dir}.",
        highlight=False,
    )
    found_here = written.path.resolve() == Path("openblotter.toml").resolve()
    prefix = "" if found_here else f"export OPENBLOTTER_CONFIG={written.path.resolve()}\n  "
    console.print(
        "Next, from this folder: see the dataset families, publish a quarter's export, serve.\n"
        f"  {prefix}openblotter families\n"
        "  openblotter publish export.csv --dataset use_of_force --family use_of_force "
        "--release 2026-Q3\n"
        "  openblotter serve --port 8000",
        highlight=False,
        markup=False,
    )
