"""The date a text gives (``{ date_in_text = "Narrative" }`` in a mapping).

Some exports carry the date of the event only inside a narrative ("On 3/14/2015
at approximately 1343 hours..."). The mapping can say so: the field takes the
first date written in the text (3/14/2015, 2015-03-14, June 13, 2015, Jun. 13
2015), as ISO text. A text that names no date leaves the field blank, and each
such row is reported, so a publish that needs the date says exactly which rows
lack it and why.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from openblotter.domain.report import Problem

ROW = "__row"
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_PATTERN = re.compile(
    r"\b(?:(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}|\d{2})"
    r"|(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
    rf"|(?P<mn>{_MONTH})\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<my>\d{{4}}))(?!\d)",
    re.IGNORECASE,
)


def first_date(text: str | None) -> str | None:
    """The first real date written in ``text`` (ISO), or None."""
    if not text:
        return None
    for found in _PATTERN.finditer(text):
        parts = found.groupdict()
        if parts["m"]:
            year = int(parts["y"]) + (2000 if len(parts["y"]) == 2 else 0)
            numbers = (year, int(parts["m"]), int(parts["d"]))
        elif parts["iy"]:
            numbers = (int(parts["iy"]), int(parts["im"]), int(parts["id"]))
        else:
            numbers = (int(parts["my"]), _MONTHS[parts["mn"].lower()], int(parts["md"]))
        try:
            return date(*numbers).isoformat()
        except ValueError:
            continue  # 2/30/2015 is not a date; look further
    return None


def date_in_text(column: str) -> pl.Expr:
    """The expression giving each row's first date in ``column``."""
    return pl.col(column).map_elements(first_date, return_dtype=pl.String, skip_nulls=True)


def report_undated(
    frame: pl.DataFrame, source: pl.DataFrame, fields: dict[str, str], problems: list[Problem]
) -> None:
    """Each row whose text gives no date (``fields``: family field -> source column)."""
    for target, column in fields.items():
        if target not in frame.columns or column not in source.columns:
            continue
        undated = frame[target].is_null()
        # The text itself is not quoted: a narrative names people.
        texts = source[column].filter(undated)
        for row, text in zip(frame[ROW].filter(undated), texts, strict=True):
            blank = " (it is blank)" if not (text or "").strip() else ""
            problems.append(
                Problem(
                    code="no_date_in_text",
                    severity="warning",
                    row=int(row),
                    column=column,
                    message=f"{target} is read from the first date written in {column}, and "
                    f"row {row}'s {column} gives no date{blank}, so {target} is blank on "
                    "that row.",
                )
            )
