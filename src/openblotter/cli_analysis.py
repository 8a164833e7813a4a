"""How the CLI prints the veil of darkness, the outcome tests and the recording changes.

Kept out of ``cli.py`` so the commands stay thin: each takes the service's
result and prints it as a table with its comparison, controls, caveats and
flags, or as JSON (numbers unrounded).
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table


def _number(value: Any, digits: int = 3) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _json(console: Console, result: dict[str, Any]) -> None:
    console.print_json(json.dumps(result, default=str))


def _caveats(console: Console, result: dict[str, Any]) -> None:
    for caveat in result.get("caveats", []):
        console.print(f"- {caveat['title']}: {caveat['text']}", highlight=False)
    if "suppression" in result:
        console.print(result["suppression"]["note"], highlight=False)


def print_darkness(console: Console, result: dict[str, Any], as_json: bool) -> None:
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


def print_outcome_tests(console: Console, result: dict[str, Any], as_json: bool) -> None:
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


def print_recording_changes(console: Console, result: dict[str, Any], as_json: bool) -> None:
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
