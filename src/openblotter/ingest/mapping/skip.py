"""Rows that are not records (``[[skip]]`` in a mapping): dropped first, each reported."""

from __future__ import annotations

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import Problem
from openblotter.ingest.mapping.ops import resolve
from openblotter.ingest.mapping.spec import Skip

ROW = "__row"


def skip_rows(
    frame: pl.DataFrame, skips: tuple[Skip, ...], problems: list[Problem]
) -> pl.DataFrame:
    """Drop the rows that are not records, each kind reported with its rows and reason."""
    for skip in skips:
        name = resolve(frame.columns, skip.column)
        if name is None:
            raise InvalidInput(
                f"The mapping skips rows by column '{skip.column}', which the file does not have.",
                detail={"column": skip.column},
            )
        cell = pl.col(name).str.strip_chars()
        hit = cell.is_in(list(skip.values))
        if skip.matches is not None:
            hit |= cell.str.contains(f"^(?:{skip.matches})$")
        hit = hit.fill_null(False)
        skipped = frame.filter(hit).select(ROW, pl.col(name))
        frame = frame.filter(~hit)
        why = f" ({skip.reason})" if skip.reason else ""
        for row, value in skipped.iter_rows():
            problems.append(
                Problem(
                    code="rows_skipped",
                    severity="info",
                    row=int(row),
                    column=skip.column,
                    value=value,
                    message=f"Row {row} is not a record{why}, so it is skipped "
                    f"({skip.column} is '{value}').",
                )
            )
    return frame
