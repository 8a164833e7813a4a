"""One code written several ways in a column of codes (``White``, ``white``, ``WHITE``).

A family field's value map turns spellings into codes; a custom dataset has no
map, so its facets and charts would count ``White`` and ``WHITE`` as two
groups. Nothing is merged here (which spelling is right is the publisher's
call): each group of spellings that differ only by case, spaces or punctuation
is reported, with the rows of each spelling, so the clerk can fix the export
or write a mapping.
"""

from __future__ import annotations

import polars as pl

from openblotter.domain.report import EXAMPLES_PER_COLUMN, Problem, ValidationReport
from openblotter.domain.schema import SchemaField, TableSchema
from openblotter.ingest.conform import ROW, trimmed_cells


def _key(values: pl.Series) -> pl.Series:
    return values.str.to_lowercase().str.replace_all(r"[^0-9a-z]+", "")


def column_spellings(frame: pl.DataFrame, names: list[str]) -> dict[str, pl.DataFrame]:
    """Each spelling of several text columns of ``frame``: ``value``, rows ``n``, ``first``
    row (its ``__row``), the blank cells as one more spelling with ``value`` null. The
    group-bys run in parallel."""
    rows = frame[ROW] if ROW in frame.columns else pl.Series(ROW, range(2, frame.height + 2))
    queries = [
        pl.LazyFrame({"value": frame[name], "row": rows})
        .group_by("value")
        .agg(pl.len().cast(pl.Int64).alias("n"), pl.col("row").min().alias("first"))
        for name in names
    ]
    return dict(zip(names, pl.collect_all(queries), strict=True))


def merge_spellings(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The spellings of several chunks of one column as those of the whole column."""
    frame = pl.concat(parts)
    return frame.group_by("value").agg(pl.col("n").sum(), pl.col("first").min())


def text_spellings(frame: pl.DataFrame, names: list[str]) -> dict[str, pl.DataFrame]:
    """The spellings of several columns as the variant check compares them (trimmed text,
    blank cells left out)."""
    rows = [pl.col(ROW)] if ROW in frame.columns else []
    texts = frame.select(*(trimmed_cells(name) for name in names), *rows)
    return {name: s.drop_nulls("value") for name, s in column_spellings(texts, names).items()}


def needs_variants(field: SchemaField) -> bool:
    """Codes of a custom dataset that no value map or enum normalizes."""
    return field.type == "string" and field.categorical and not (field.enum or field.value_map)


def _grouped(spellings: pl.DataFrame) -> pl.DataFrame:
    spellings = spellings.with_columns(_key(pl.col("value")).alias("key")).filter(
        pl.col("key") != ""
    )
    grouped = spellings.sort(["n", "value"], descending=[True, False]).group_by(
        "key", maintain_order=True
    )
    groups = grouped.agg(
        pl.col("value"), pl.col("n"), pl.col("first").min().alias("first"), pl.len().alias("k")
    )
    return groups.filter(pl.col("k") > 1).sort("first")


def _message(field: SchemaField, values: list[str], counts: list[int]) -> str:
    spelled = ", ".join(f"'{v}' ({n:,} rows)" for v, n in zip(values, counts, strict=True))
    return (
        f"{field.name} writes one value {len(values)} ways: {spelled}. They are published as "
        "written, so counts and charts show them apart. Correct the export, or publish with a "
        "mapping whose value map turns them into one code."
    )


def report_variants(frame: pl.DataFrame, schema: TableSchema, report: ValidationReport) -> None:
    """Report every group of spellings of one value in the codes without a value map."""
    present = set(frame.columns)  # asked once: polars builds the list anew on every call
    fields = [f for f in schema.fields if needs_variants(f) and f.name in present]
    spelled = text_spellings(frame, [f.name for f in fields])
    for field in fields:
        report_spelling_groups(field, spelled[field.name], report)


def report_spelling_groups(
    field: SchemaField, spelled: pl.DataFrame, report: ValidationReport
) -> None:
    """Report the groups of spellings of one value among ``spelled`` (see :func:`spellings`)."""
    groups = _grouped(spelled)
    if groups.height:
        examples = [
            Problem(
                code="spelling_variants",
                severity="warning",
                row=int(g["first"]),
                column=field.name,
                value=" / ".join(g["value"]),
                rows=int(sum(g["n"])),
                message=_message(field, list(g["value"]), list(g["n"])),
            )
            for g in groups.head(EXAMPLES_PER_COLUMN).iter_rows(named=True)
        ]
        count = int(groups["n"].list.sum().sum())
        report.add_counted("spelling_variants", "warning", count, examples, distinct=groups.height)
