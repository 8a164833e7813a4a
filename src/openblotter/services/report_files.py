"""A validation report as a file a records clerk can read: Markdown or HTML (or JSON).

The file lists every problem column by column, one line per distinct problem
value (how many rows hold it, the first row, what to do), says how many more
distinct values a column has than are listed, and — for a dry run — the
schema, each column's privacy treatment and a sample of what would become
public. It is made from the same dictionary as the JSON report and the
console, so the three agree.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@cache
def _markdown() -> MarkdownIt:
    """The renderer, made on first use: a publish that writes no HTML report skips it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


# Characters that would change a Markdown line; "_" inside names is left alone (CommonMark
# does not read it as emphasis inside a word).
_SPECIAL = re.compile(r"([\\`*\[\]<>|~])")
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.45}table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
    "th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#eee}code{background:#f4f4f4}"
)


def _cell(value: Any) -> str:
    """A value as Markdown text: specials escaped, on one line, blank shown as (blank)."""
    if value is None or value == "":
        return "(blank)"
    text = " ".join(str(value).split())
    return _SPECIAL.sub(r"\\\1", text)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _summary(report: dict[str, Any]) -> list[str]:
    facts = report.get("facts", {})
    verdict = (
        "It can be published."
        if report["ok"]
        else f"It cannot be published until the {report['errors']:,} error(s) are corrected."
    )
    lines = [
        f"# Validation report: {_cell(report['source'])}",
        "",
        f"{facts.get('source_rows', '?'):,} rows read ({facts.get('format') or '?'}, "
        f"{facts.get('encoding') or 'xlsx'}). {report['errors']:,} error(s), "
        f"{report['warnings']:,} warning(s). {verdict}",
        "",
    ]
    if not report["problems"]:
        lines += [
            "No problems of the kinds checked were found (types, codes, keys, required values, "
            "spreadsheet damage). Look at the sample of what would be public before publishing.",
            "",
        ]
    return lines


def _facts(report: dict[str, Any]) -> list[str]:
    facts = report.get("facts", {})
    lines: list[str] = []
    for name, count in (facts.get("blank_coded_as_unknown") or {}).items():
        lines.append(f"- Blank {_cell(name)} in {count:,} rows is published as Unknown.")
    if facts.get("not_recorded"):
        names = ", ".join(_cell(n) for n in facts["not_recorded"])
        lines.append(f"- Not recorded by this agency (blank on every row): {names}.")
    if facts.get("columns_left_out"):
        names = ", ".join(_cell(n) for n in facts["columns_left_out"])
        lines.append(f"- Columns of the file left out: {names}.")
    return ["## What was done", "", *lines, ""] if lines else []


def unit(group: dict[str, Any]) -> str:
    """What a problem group counts: rows, or columns (a column missing from the file)."""
    examples = group["examples"]
    whole_columns = examples and all(e.get("row") is None and e.get("column") for e in examples)
    return "columns" if whole_columns else "rows"


def _problems(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for group in report["problems"]:
        lines += [f"## {group['code']} ({group['severity']}, {group['count']:,} {unit(group)})", ""]
        if unit(group) == "columns":
            lines += [f"- {_cell(e['message'])}" for e in group["examples"]] + [""]
            continue
        for column in group.get("columns") or [{"column": None}]:
            name = column.get("column")
            examples = [e for e in group["examples"] if e.get("column") == name]
            title = f"Column {_cell(name)}" if name else "Whole rows"
            lines += [f"### {title}", ""]
            lines += _table(
                ["value", "rows", "first row", "what it means and what to do"],
                [
                    [e.get("value"), e.get("rows") or 1, e.get("row") or "", e["message"]]
                    for e in examples
                ],
            )
            if column.get("more"):
                lines += [
                    f"… and {column['more']:,} more {column.get('more_unit', 'values')} in this "
                    "column, not listed here.",
                    "",
                ]
    return lines


def _check(check: dict[str, Any]) -> list[str]:
    lines = ["## What would be published (dry run: nothing was stored)", ""]
    lines += _table(
        ["column", "source header", "type", "privacy", "published as"],
        [
            [
                c["name"],
                c.get("source") or "",
                c["type"] + ("" if c.get("recorded", True) else " (not recorded by this agency)"),
                c["privacy"],
                c["published_as"] if c.get("public") else "not published",
            ]
            for c in check["columns"]
        ],
    )
    sample = check.get("sample") or []
    if sample:  # one line per column, one column per row: readable however wide the file is
        header = ["column", *(f"row {n}" for n in range(1, len(sample) + 1))]
        lines += [f"### The first {len(sample)} rows as they would be public", ""]
        lines += _table(header, [[name, *(r.get(name) for r in sample)] for name in sample[0]])
    return lines


def report_markdown(report: dict[str, Any], check: dict[str, Any] | None = None) -> str:
    """The report (and a dry run's schema and sample) as Markdown."""
    lines = _summary(report) + _facts(report) + _problems(report)
    if check is not None:
        lines += _check(check)
    return "\n".join(lines)


def report_html(report: dict[str, Any], check: dict[str, Any] | None = None) -> str:
    """The same report as one self-contained HTML page."""
    body = _markdown().render(report_markdown(report, check))
    title = f"Validation report: {report['source']}"
    escaped = _markdown().renderInline(_cell(title))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escaped}</title><style>{_STYLE}</style></head>\n<body>\n{body}</body></html>\n"
    )


def write_report(path: Path, report: dict[str, Any], check: dict[str, Any] | None = None) -> None:
    """Write the report as HTML (``.html``), Markdown (``.md``) or JSON (any other suffix)."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        text = report_html(report, check)
    elif suffix in (".md", ".markdown"):
        text = report_markdown(report, check)
    else:
        text = json.dumps({**report, **({"check": check} if check else {})}, indent=2, default=str)
    path.write_text(text, encoding="utf-8")
