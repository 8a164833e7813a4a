"""Set up a portal for an agency: its identity and a fresh salt, in a settings file only its owner reads.

``openblotter init`` asks for the answers; this module checks them and writes
``openblotter.toml`` (the file :mod:`openblotter.config` reads). Re-running it
over an existing file keeps that file's salt: hashed IDs stay stable only
while the salt never changes.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openblotter.domain.errors import Conflict, InvalidInput

#: Owner read/write only: the file holds the salt.
SETTINGS_FILE_MODE = 0o600
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class PortalIdentity:
    """Who publishes the portal and where: the answers of ``openblotter init``."""

    agency: str
    city_name: str
    state: str
    latitude: float
    longitude: float
    timezone: str
    data_dir: Path
    contact_email: str | None = None
    license: str | None = None
    portal_name: str | None = None


@dataclass(frozen=True)
class WrittenSettings:
    """The settings file written, and whether an earlier file's salt was kept."""

    path: Path
    salt_kept: bool


def check_text(value: str, setting: str) -> str:
    """A non-blank answer, trimmed."""
    text = value.strip()
    if not text:
        raise InvalidInput(f"{setting} cannot be blank.", detail={"setting": setting})
    return text


def check_coordinate(value: str | float, setting: str) -> float:
    """A latitude (-90..90) or longitude (-180..180) in decimal degrees."""
    limit = 90 if setting == "city_latitude" else 180
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not -limit <= number <= limit:
        raise InvalidInput(
            f"{setting} must be decimal degrees between -{limit} and {limit} (got '{value}'); "
            "for example 41.824 and -71.4128 for Providence (west and south are negative).",
            detail={"setting": setting, "value": str(value)},
        )
    return number


def check_timezone(value: str) -> str:
    """An IANA time zone name such as America/Chicago."""
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"'{value}' is not an IANA time zone. US examples: America/New_York, America/Chicago, "
            "America/Denver, America/Phoenix, America/Los_Angeles, America/Anchorage, "
            "Pacific/Honolulu.",
            detail={"setting": "city_timezone", "value": value},
        ) from None
    return name


def check_email(value: str) -> str | None:
    """An e-mail address, or None when left blank."""
    text = value.strip()
    if not text:
        return None
    if not _EMAIL.match(text):
        raise InvalidInput(
            f"'{value}' does not look like an e-mail address (name@example.gov).",
            detail={"setting": "contact_email", "value": value},
        )
    return text


def write_settings_file(
    path: Path, identity: PortalIdentity, *, replace: bool = False
) -> WrittenSettings:
    """Write the portal's settings and a salt to ``path``, readable only by its owner.

    Raises Conflict when the file exists and ``replace`` is false. When replacing,
    the existing salt is kept (a new salt would change every hashed ID).
    """
    salt, kept = secrets.token_hex(32), False
    if path.exists():
        if not replace:
            raise Conflict(
                f"{path} already exists. Run again with --force to rewrite it (its salt is kept), "
                "or edit it by hand.",
                detail={"file": str(path)},
            )
        old_salt = _existing_salt(path)
        if old_salt:
            salt, kept = old_salt, True
    _write_private(path, _settings_toml(identity, salt))
    return WrittenSettings(path=path, salt_kept=kept)


def _existing_salt(path: Path) -> str | None:
    try:
        found = tomllib.loads(path.read_text(encoding="utf-8")).get("salt")
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(
            f"{path} is not valid TOML ({error}); fix or move it before running init again, "
            "keeping its salt.",
            detail={"file": str(path)},
        ) from None
    return found if isinstance(found, str) and found else None


def _settings_toml(identity: PortalIdentity, salt: str) -> str:
    values: dict[str, str | float | None] = {
        "portal_name": identity.portal_name,
        "agency": identity.agency,
        "city_name": identity.city_name,
        "state": identity.state,
        "city_latitude": identity.latitude,
        "city_longitude": identity.longitude,
        "city_timezone": identity.timezone,
        "contact_email": identity.contact_email,
        "license": identity.license,
        "data_dir": str(identity.data_dir),
    }
    lines = [
        "# OpenBlotter settings, written by `openblotter init` (see docs/operations.md).",
        "# Readable only by its owner: it holds the salt. Back it up; never change the salt,",
        "# or hashed officer and subject IDs stop matching across releases.",
    ]
    for name, value in values.items():
        if value is not None:
            lines.append(f"{name} = {_toml_value(value)}")
    lines.append(f"salt = {_toml_value(salt)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: str | float) -> str:
    # A JSON string (ASCII, with \" \\ \uXXXX escapes) is a valid TOML basic string.
    return repr(value) if isinstance(value, float) else json.dumps(value)


def _write_private(path: Path, text: str) -> None:
    """Write through a temporary file created 0600, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SETTINGS_FILE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(staging, SETTINGS_FILE_MODE)
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
