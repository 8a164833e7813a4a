"""Fields whose cells hold several values of one record (``[lists]`` in a mapping).

A merged record (``Probable Cause|Reasonable Suspicion`` for one stop) is one row
with two values, not two rows and not two people. The mapping says so once::

    [lists]
    reason = "|"            # or a list of separators: ["|", ";"]

The values are split, trimmed, blanks dropped, and written as the portal's
multi-valued form (``Probable Cause, Reasonable Suspicion``, as ``combine`` writes
it), so no list separator is left for the packed-value check to refuse.

``report_packed`` is that check: a coded value that still holds a list separator after
mapping (``White | Black``) stops the publish, and is never published.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import Problem
from openblotter.domain.schema import TableSchema

#: How the values of a multi-valued field are joined in published files.
JOINED_BY = ", "


def lists_spec(value: Any, source: str) -> dict[str, tuple[str, ...]]:
    """Parse ``[lists]``: field = separator (text or a list of text, not blank)."""
    if not isinstance(value, dict):
        raise InvalidInput(f'{source}: write [lists] as field = "separator" lines.')
    parsed: dict[str, tuple[str, ...]] = {}
    for name, separators in value.items():
        items = [separators] if isinstance(separators, str) else separators
        if not isinstance(items, list) or not all(isinstance(s, str) and s.strip() for s in items):
            raise InvalidInput(
                f"{source} [lists] {name}: the separator must be text or a list of text "
                "(not blank)."
            )
        parsed[str(name)] = tuple(s.strip() for s in items)
    return parsed


def split_lists(frame: pl.DataFrame, lists: dict[str, tuple[str, ...]]) -> pl.DataFrame:
    """Each declared field's values re-joined with ``JOINED_BY`` (blank positions dropped)."""
    exprs = []
    for name, separators in lists.items():
        if name not in frame.columns or frame.schema[name] != pl.String:
            continue
        pattern = "|".join(re.escape(s) for s in separators)
        items = (
            pl.col(name)
            .str.replace_all(pattern, "\x1f")
            .str.split("\x1f")
            .list.eval(pl.element().str.strip_chars())
            .list.eval(pl.element().filter(pl.element() != ""))
            .list.join(JOINED_BY)
        )
        exprs.append(items.replace("", None).alias(name))
    return frame.with_columns(exprs) if exprs else frame


ROW = "__row"
#: Separators that, left inside a coded value, mean several values were packed in one cell.
PACKED_SEPARATORS = ("|", ";")


def report_packed(
    frame: pl.DataFrame,
    schema: TableSchema,
    separators: tuple[str, ...],
    identity: list[str],
    problems: list[Problem],
) -> pl.DataFrame:
    """Refuse every coded value that still holds a list separator (``White | Black``): a
    packed cell no mapping rule split must not pass as one code. Each is an error (the
    publish stops, naming row, column, value and the fix) and is blanked in the frame."""
    for f in schema.fields:
        if not f.coded or f.name not in frame.columns:
            continue
        text = pl.col(f.name).cast(pl.String)
        packed = pl.any_horizontal([text.str.contains(s, literal=True) for s in separators])
        packed = packed.fill_null(False)
        hits = frame.filter(packed).unique(subset=identity, keep="first", maintain_order=True)
        for row, value in hits.select(ROW, text).iter_rows():
            problems.append(
                Problem(
                    code="packed_value",
                    severity="error",
                    row=int(row),
                    column=f.name,
                    value=value,
                    message=f"{f.name} '{value}' holds several values in one cell, which "
                    "cannot be published as one code. Fix the mapping: if they are several "
                    "people, declare the field in [[people]]; if several items of the record "
                    "(one row each), in [[explode]] with its separator; if several values of "
                    "one record, in [lists].",
                )
            )
        if hits.height:
            frame = frame.with_columns(
                pl.when(packed).then(None).otherwise(pl.col(f.name)).alias(f.name)
            )
    return frame
