"""The CLI's ``analyze`` commands, made from the registry of analyses, and how they print.

One command per analysis (``openblotter analyze <name> DATASET``), with an option per
parameter of the analysis (names, defaults and help from its parameter model), ``--filter``
for the query filters and ``--json``. Each prints the typed result as a table with its
comparison, controls, caveats and flags (the analyses in :data:`PRINTERS`), or as JSON
(numbers unrounded; the only output of an analysis without a printer).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openblotter.services.analyses import registry
from openblotter.services.analyses.base import Analysis, Result
from openblotter.services.portal import Portal


def _number(value: Any, digits: int = 3) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _json(console: Console, result: Result) -> None:
    console.print_json(json.dumps(result.model_dump(mode="json", exclude_unset=True)))


def _caveats(console: Console, result: Result) -> None:
    for caveat in result.get("caveats", []):
        console.print(f"- {caveat['title']}: {caveat['text']}", highlight=False)
    if "suppression" in result:
        console.print(result["suppression"]["note"], highlight=False)


def print_darkness(console: Console, result: Result, as_json: bool) -> None:
    """The comparison, both estimates side by side, the sample, exclusions and flags."""
    if as_json:
        _json(console, result)
        return
    console.print(
        f"Veil of darkness, {result['comparison']}, {result['place']['name']}, "
        f"{result['first_date']} to {result['last_date']} (period {result['period']}).",
        highlight=False,
    )
    table = Table(title="Odds ratio of a stopped driver being in the group, dark vs light")
    for column in ("model", "odds ratio", "95% CI", "p", "controls"):
        table.add_column(column, justify="left" if column in ("model", "controls") else "right")
    for estimate in result["estimates"]:
        ci = estimate["ci"]
        table.add_row(
            estimate["label"],
            _number(estimate["odds_ratio"]),
            f"{_number(ci['low'])}–{_number(ci['high'])}",
            f"{estimate['p_value']:.3g}",
            "; ".join(estimate["controls"]),
        )
    console.print(table)
    console.print(
        f"Window {result['window_start']}–{result['window_end']}; {result['n']:,} stops "
        f"({result['n_light']:,} light, {result['n_dark']:,} dark). Left out: "
        + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result["excluded"].items()),
        highlight=False,
    )
    if not result.get("reliable", True):
        console.print("[bold]Not reliable:[/] see the recording changes below.")
    _caveats(console, result)
    for assumption in result.get("assumptions", []):
        console.print(f"- {assumption}", highlight=False)


def print_outcome_tests(console: Console, result: Result, as_json: bool) -> None:
    """Search, hit and arrest rates per group with their intervals."""
    if as_json:
        _json(console, result)
        return
    table = Table(
        title=f"{result['dataset']} {result['release']}, {result['first_date']} to "
        f"{result['last_date']}: outcome tests by {result['by']}"
    )
    for column in ("group", "stops", "search rate", "hit rate", "arrest rate", "reliable"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for row in result["rows"]:
        table.add_row(
            row["group"],
            "hidden" if row["stops"] is None else f"{row['stops']:,}",
            *(_rate(row, name) for name in ("search_rate", "hit_rate", "arrest_rate")),
            "yes" if row["reliable"] else "no",
        )
    console.print(table)
    console.print(f"Method: {result['method']}.", highlight=False)
    _caveats(console, result)


def _rate(row: dict[str, Any], name: str) -> str:
    if row.get(name) is None:
        return ""
    low, high = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    return f"{row[name]:.1%} ({low:.1%}–{high:.1%})"


def print_recording_changes(console: Console, result: Result, as_json: bool) -> None:
    """Every abrupt change in a coded field, with the method that found it."""
    if as_json:
        _json(console, result)
        return
    table = Table(title=f"How recording changed in {result['dataset']} {result['release']}")
    for column in ("field", "value", "from month", "share before", "share after"):
        table.add_column(column)
    for change in result["changes"]:
        table.add_row(
            change["field"],
            change["category"],
            change["month"],
            f"{change['share_before']:.1%}",
            f"{change['share_after']:.1%}",
        )
    console.print(table)
    console.print(
        f"Fields checked: {', '.join(result['fields_checked']) or 'none'}. Method: "
        f"{result['method']}.",
        highlight=False,
    )


def print_benchmark(console: Console, result: Result, as_json: bool) -> None:
    """Events, residents, rates and ratios per group, the reference, residents and caveats."""
    if as_json:
        _json(console, result)
        return
    table = Table(
        title=f"{result['dataset']} {result['release']}, {result['period']}: one event is "
        f"{result['event_unit']}"
    )
    for column in ("group", "events", "residents", "per 1,000", "ratio", "95% CI", "reliable"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for r in result["rows"]:
        interval = (
            f"{_number(r['ci_low'], 2)}–{_number(r['ci_high'], 2)}"
            if r["ci_low"] is not None
            else ""
        )
        reliable = "" if r["reliable"] is None else ("yes" if r["reliable"] else "no")
        hidden = bool(r.get("suppressed"))  # a dataset published only as counts
        table.add_row(
            r["group"],
            "hidden" if hidden else f"{r['events']:,}",
            _number(r["population"], 0),
            _number(r["rate_per_1000"], 2),
            _number(r["rate_ratio"], 2),
            interval,
            reliable,
        )
    console.print(table)
    console.print(
        f"Reference: {result['reference']}. Residents: {_residents(result['population_source'])}.",
        highlight=False,
    )
    if "suppression" in result:
        console.print(result["suppression"]["note"], highlight=False)
    for caveat in result["caveats"]:
        console.print(f"- {caveat['title']}: {caveat['text']}", highlight=False)


def _residents(source: Any) -> str:
    """ "Test city, 2020 Census (2020; dataset community_demographics)", not a Python dict."""
    named = ", ".join(str(source[k]) for k in ("geography", "source") if source.get(k))
    return f"{named or 'residents'} ({source.get('year')}; dataset {source.get('dataset')})"


Printer = Callable[[Console, Result, bool], None]
#: The analyses printed as tables (any other prints its JSON).
PRINTERS: dict[str, Printer] = {
    "benchmark": print_benchmark,
    "darkness": print_darkness,
    "outcome-tests": print_outcome_tests,
    "recording-changes": print_recording_changes,
}


# --- the commands --------------------------------------------------------------------------


def add_commands(app: typer.Typer, portal: Callable[[], Portal], console: Console) -> None:
    """One ``analyze`` command per analysis of the registry."""
    for spec in registry.ANALYSES.values():
        app.command(spec.name, help=spec.summary)(_command(spec, portal, console))


def _command(spec: Analysis, portal: Callable[[], Portal], console: Console) -> Callable[..., None]:
    def command(**given: Any) -> None:
        filters = [tuple(f.split("=", 1)) for f in given.pop("filter_", None) or [] if "=" in f]
        as_json = given.pop("as_json")
        raw = [(k, str(v)) for k, v in given.items() if v is not None]
        result = registry.run(portal(), spec.name, [*raw, *filters])
        printer = PRINTERS.get(spec.name)
        if printer is None:
            _json(console, result)
        else:
            printer(console, result, as_json)

    command.__signature__ = inspect.Signature(_options(spec))  # type: ignore[attr-defined]
    command.__doc__ = spec.summary
    return command


def _options(spec: Analysis) -> list[inspect.Parameter]:
    """The dataset as the argument, every other parameter as an option, then --filter, --json."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    options = []
    for name, info in spec.params.model_fields.items():
        kind = typer.Argument if name == "dataset" else typer.Option
        default = inspect.Parameter.empty if info.is_required() else info.default
        annotation = Annotated[info.annotation, kind(help=info.description)]  # type: ignore[name-defined]
        options.append(inspect.Parameter(name, keyword, default=default, annotation=annotation))
    if spec.filters:
        example = "A query filter, e.g. contact_type=Arrest."
        filter_option = typer.Option("--filter", help=example)
        options.append(
            inspect.Parameter(
                "filter_",
                keyword,
                default=None,
                annotation=Annotated[list[str] | None, filter_option],
            )
        )
    as_json = typer.Option("--json", help="Print the result as JSON (numbers unrounded).")
    options.append(
        inspect.Parameter("as_json", keyword, default=False, annotation=Annotated[bool, as_json])
    )
    return options
