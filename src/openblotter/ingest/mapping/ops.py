"""Frame operations that apply a mapping file (the rules are in ingest.mapping)."""

from __future__ import annotations

import re

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import Problem
from openblotter.domain.schema import TableSchema
from openblotter.ingest.mapping.spec import (
    YES,
    ColumnSpec,
    Combine,
    Concat,
    Copy,
    DateInText,
    Explode,
    Flags,
    Join,
    RowNumber,
    Source,
    Unpivot,
)
from openblotter.ingest.text_dates import date_in_text

ROW = "__row"
_INDEX = "__item_of"


def trim_cells(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.String).str.strip_chars())


def keep_where(
    frame: pl.DataFrame, where: dict[str, tuple[str, ...]], problems: list[Problem]
) -> pl.DataFrame:
    if not where:
        return frame
    for column, allowed in where.items():
        name = resolve(frame.columns, column)
        if name is None:
            raise InvalidInput(
                f"The mapping keeps rows by column '{column}', which the file does not have.",
                detail={"column": column},
            )
        frame = frame.filter(pl.col(name).is_in(list(allowed)))
    problems.append(
        Problem(
            code="rows_selected",
            severity="info",
            message=f"The mapping keeps {frame.height} row(s) of the file "
            f"(where {', '.join(where)} match).",
        )
    )
    return frame


def _normal(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.replace("\ufeff", "")).strip().casefold()


def resolve(columns: list[str], wanted: str) -> str | None:
    if wanted in columns:
        return wanted
    loose = {_normal(c): c for c in columns}
    return loose.get(_normal(wanted))


def build_fields(
    source: pl.DataFrame,
    specs: dict[str, ColumnSpec],
    constants: dict[str, str],
    schema: TableSchema,
    problems: list[Problem],
) -> tuple[pl.DataFrame, set[str]]:
    """The family fields from the source columns; also the source columns used."""
    used: set[str] = set()
    exprs: list[pl.Expr] = []
    for target, spec in specs.items():
        if isinstance(spec, Copy):
            continue
        expr = _field_expr(source.columns, target, spec, schema, used, problems)
        exprs.append(expr.alias(target))
    exprs += [pl.lit(value, dtype=pl.String).alias(k) for k, value in constants.items()]
    return source.select([*exprs, pl.col(ROW)]), used


def _field_expr(
    columns: list[str],
    target: str,
    spec: ColumnSpec,
    schema: TableSchema,
    used: set[str],
    problems: list[Problem],
) -> pl.Expr:
    if isinstance(spec, RowNumber):
        return pl.lit(spec.prefix) + pl.col(ROW).cast(pl.String)
    found = [resolve(columns, c) for c in spec.columns]  # type: ignore[union-attr]
    present = [c for c in found if c is not None]
    used.update(present)
    missing = [c for c, f in zip(spec.columns, found, strict=True) if f is None]  # type: ignore[union-attr]
    if isinstance(spec, Source | DateInText):
        if not present:
            _report_missing(target, list(spec.columns), columns, schema, problems)
            return pl.lit(None, dtype=pl.String)
        if isinstance(spec, DateInText):
            return date_in_text(present[0])
        return pl.col(present[0])
    if missing:
        _report_missing(target, missing, columns, schema, problems)
    if not present:
        return pl.lit(None, dtype=pl.String)
    if isinstance(spec, Concat):
        return pl.concat_str([pl.col(c) for c in present], separator=spec.separator)
    if isinstance(spec, Flags):
        said_yes = [pl.col(c).str.strip_chars().str.to_lowercase().is_in(YES) for c in present]
        items = pl.concat_list(
            [pl.when(y).then(pl.lit(c)) for y, c in zip(said_yes, present, strict=True)]
        )
    else:
        items = pl.concat_list([pl.col(c) for c in present])
    return items.list.eval(pl.element().filter(pl.element().is_not_null() & (pl.element() != "")))


def _report_missing(
    target: str, wanted: list[str], columns: list[str], schema: TableSchema, problems: list[Problem]
) -> None:
    field = schema.field(target)
    required = bool(field and field.constraints.required)
    names = ", ".join(c for c in columns if c != ROW)
    problems.append(
        Problem(
            code="mapped_column_missing",
            severity="error" if required else "warning",
            column=target,
            message=f"The mapping fills {target} from {' or '.join(repr(w) for w in wanted)}, but the "
            f"file has no such column. Its columns are: {names}. "
            "Correct the mapping's [columns] (a list gives alternative names).",
        )
    )


def join_related(
    frame: pl.DataFrame,
    other: pl.DataFrame,
    join: Join,
    trim: bool,
    schema: TableSchema,
    problems: list[Problem],
) -> pl.DataFrame:
    """Left-join the fields of a related file on the join's key fields."""
    if trim:
        other = trim_cells(other)
    related, _ = build_fields(other, join.columns, {}, schema, problems)
    related = related.drop(ROW)
    clash = (set(related.columns) & set(frame.columns)) - set(join.on)
    if clash:
        raise InvalidInput(
            f"The join '{join.name}' fills {', '.join(sorted(clash))}, which the "
            "main file already fills; each field must come from one file."
        )
    if join.number:
        related = related.with_columns(
            (pl.int_range(pl.len()).over(list(join.on)) + 1).cast(pl.String).alias(join.number)
        )
    unmatched = related.join(frame.select(join.on).unique(), on=list(join.on), how="anti")
    if unmatched.height:
        first = unmatched.select(join.on).row(0)
        problems.append(
            Problem(
                code="related_rows_unmatched",
                severity="warning",
                column=",".join(join.on),
                value=", ".join(str(v) for v in first),
                message=f"{unmatched.height} row(s) of the related file '{join.name}' match no row of "
                f"the main file by {', '.join(join.on)}, so they are not published.",
            )
        )
    joined = frame.join(related, on=list(join.on), how="left", maintain_order="left")
    if join.number:
        joined = joined.with_columns(pl.col(join.number).fill_null("0"))
    return joined


def unpivot_rows(
    frame: pl.DataFrame,
    source: pl.DataFrame,
    entries: tuple[Unpivot, ...],
    used: set[str],
    problems: list[Problem],
) -> pl.DataFrame:
    """Wide -> long: one copy of every row per entry (``source`` is row-aligned with ``frame``)."""
    if not entries:
        return frame
    parts = []
    for entry in entries:
        column = resolve(source.columns, entry.column)
        if column is not None:
            used.add(column)
        if column is None:
            problems.append(
                Problem(
                    code="mapped_column_missing",
                    severity="warning",
                    column=entry.value_field,
                    message=f"The mapping unpivots column '{entry.column}', which "
                    "the file does not have; it is skipped.",
                )
            )
            continue
        parts.append(
            frame.with_columns(
                source[column].alias(entry.value_field),
                *[pl.lit(v, dtype=pl.String).alias(k) for k, v in entry.set.items()],
            )
        )
    return pl.concat(parts, how="diagonal") if parts else frame.clear()


def explode_group(frame: pl.DataFrame, group: Explode, problems: list[Problem]) -> pl.DataFrame:
    """One row per item of the group's fields (zipped); see ingest.mapping for the rules."""
    fields = [f for f in group.fields if f in frame.columns]
    if not fields:
        return frame
    frame = frame.with_columns(pl.int_range(pl.len()).alias(_INDEX))
    frame = frame.with_columns([_as_list(frame[f], group.separator).alias(f) for f in fields])
    frame = frame.with_columns(
        pl.max_horizontal([pl.col(f).list.len() for f in fields]).alias("__n")
    )
    uneven = frame.select(
        pl.any_horizontal(
            [(pl.col(f).list.len() > 1) & (pl.col(f).list.len() < pl.col("__n")) for f in fields]
        )
    ).to_series()
    if uneven.any():
        rows = frame.filter(uneven)[ROW]
        problems.append(
            Problem(
                code="explode_mismatch",
                severity="warning",
                row=int(rows[0]),
                column=",".join(fields),
                value=str(frame.filter(uneven).row(0, named=True)[fields[0]]),
                message=f"{rows.len()} row(s) list different numbers of items in {', '.join(fields)}; "
                "the shorter lists were padded with blanks. Check that these cells line up.",
            )
        )
    frame = frame.with_columns([_pad(f) for f in fields]).drop("__n")
    frame = frame.explode(fields, empty_as_null=True)
    if group.number:
        frame = frame.with_columns(
            (pl.int_range(pl.len()).over(_INDEX) + 1).cast(pl.String).alias(group.number)
        )
    return frame.drop(_INDEX)


_UNIT = "\x1f"


def _as_list(values: pl.Series, separator: str | None) -> pl.Series:
    """Items of each cell. A blank cell has no items; a blank position between separators
    stays a blank item (``32 | `` is two items, the second blank), so later items keep
    their places."""
    if isinstance(values.dtype, pl.List):
        if separator is None:
            return values.fill_null([])
        # combined cells that hold lists themselves ("No Allegation;Information Only")
        values = (
            values.list.join(_UNIT)
            .replace("", None)
            .str.replace_all(separator, _UNIT, literal=True)
        )
        separator = _UNIT
    if separator is None:
        listed = pl.select(pl.concat_list([pl.lit(values)])).to_series()
    else:
        listed = values.str.split(separator)
    stripped = listed.list.eval(pl.element().str.strip_chars().replace("", None))
    has_item = stripped.list.eval(pl.element().is_not_null()).list.any()
    return (
        pl.select(pl.when(has_item).then(stripped).otherwise(pl.lit([], dtype=pl.List(pl.String))))
        .to_series()
        .alias(values.name)
    )


def _pad(name: str) -> pl.Expr:
    """Repeat a single item to the longest length; pad a shorter list with nulls."""
    col, n = pl.col(name), pl.col("__n")
    length = col.list.len()
    padding = pl.lit(None, dtype=pl.String).repeat_by(n - length)
    return (
        pl.when(length == 1)
        .then(col.list.first().repeat_by(n))
        .when(length < n)
        .then(pl.concat_list([col, padding]))
        .otherwise(col)
        .alias(name)
    )


def join_unexploded_lists(frame: pl.DataFrame, specs: dict[str, ColumnSpec]) -> pl.DataFrame:
    lists = [c for c in frame.columns if isinstance(frame.schema[c], pl.List)]
    return frame.with_columns(
        [pl.col(c).list.join(_separator(specs.get(c))).replace("", None) for c in lists]
    )


def _separator(spec: ColumnSpec | None) -> str:
    return spec.separator if isinstance(spec, Combine | Flags) else ", "


def copy_fields(specs: dict[str, ColumnSpec]) -> set[str]:
    return {k for k, s in specs.items() if isinstance(s, Copy)}


def map_values(
    frame: pl.DataFrame, values: dict[str, dict[str, str]], exclude: set[str] | None = None
) -> pl.DataFrame:
    """Replace source spellings by codes (trimmed, case-folded match); others unchanged."""
    exclude = exclude or set()
    exprs = []
    for name, spellings in values.items():
        if name in exclude or name not in frame.columns or not spellings:
            continue
        lookup = {k.strip().casefold(): v for k, v in spellings.items()}
        key = pl.col(name).str.strip_chars().str.to_lowercase()
        exprs.append(
            key.replace_strict(lookup, default=pl.col(name), return_dtype=pl.String).alias(name)
        )
    return frame.with_columns(exprs) if exprs else frame


def copy_and_map(
    frame: pl.DataFrame, specs: dict[str, ColumnSpec], values: dict[str, dict[str, str]]
) -> pl.DataFrame:
    copies = {
        k: s.field for k, s in specs.items() if isinstance(s, Copy) and s.field in frame.columns
    }
    if not copies:
        return frame
    frame = frame.with_columns([pl.col(origin).alias(k) for k, origin in copies.items()])
    return map_values(frame, {k: v for k, v in values.items() if k in copies})


def apply_formats(
    frame: pl.DataFrame, formats: dict[str, tuple[str, ...]], schema: TableSchema
) -> pl.DataFrame:
    exprs = []
    for name, patterns in formats.items():
        field = schema.field(name)
        if field is None or name not in frame.columns:
            continue
        parsed = pl.coalesce([_parse(pl.col(name), p, field.type) for p in patterns])
        exprs.append(pl.coalesce(parsed, pl.col(name)).alias(name))
    return frame.with_columns(exprs) if exprs else frame


_OUTPUT = {"date": "%Y-%m-%d", "time": "%H:%M:%S", "datetime": "%Y-%m-%dT%H:%M:%S"}


def _parse(col: pl.Expr, pattern: str, field_type: str) -> pl.Expr:
    """One pattern as ISO text (null where it does not fit)."""
    out = _OUTPUT.get(field_type, "%Y-%m-%d")
    if pattern.lower() == "hhmm":
        clock = col.str.zfill(4).str.to_time("%H%M", strict=False)
        return pl.when(col.str.contains(r"^\d{1,4}$")).then(clock.dt.strftime(out))
    has_date = any(d in pattern for d in ("%d", "%m", "%y", "%Y", "%b", "%B", "%j"))
    if not has_date:
        return col.str.to_time(pattern, strict=False).dt.strftime(out)
    moment = col.str.to_datetime(pattern, strict=False, time_unit="us")
    if field_type == "date":
        return moment.dt.date().dt.strftime(out)
    return moment.dt.strftime(out)


def in_schema_order(frame: pl.DataFrame, schema: TableSchema) -> pl.DataFrame:
    names = [f for f in schema.field_names if f in frame.columns]
    return frame.select([pl.col(n).cast(pl.String) for n in names] + [pl.col(ROW)])


def match_own_names(
    columns: list[str], schema: TableSchema, problems: list[Problem]
) -> tuple[dict[str, str], list[str]]:
    """Source column -> field, by exact name, then ignoring case/spacing, then sourceNames."""
    loose: dict[str, str] = {}
    for f in schema.fields:
        for alias in (f.name, *f.source_names):
            loose.setdefault(_normal(alias), f.name)
    renames: dict[str, str] = {}
    dropped: list[str] = []
    for column in columns:
        if column == ROW:
            continue
        target = column if column in schema.field_names else loose.get(_normal(column))
        if target is None or target in renames.values():
            dropped.append(column)
            problems.append(
                Problem(
                    code="extra_column",
                    severity="warning",
                    column=column,
                    message=f"Column '{column}' is not a field of this dataset, so it is not "
                    "published. Use a mapping file to say which field it is, if it is one.",
                )
            )
            continue
        renames[column] = target
    return renames, dropped
