"""Census tables as downloaded from data.census.gov, read into one tidy table.

data.census.gov offers a table as CSV in two layouts, and both are read here:

- the **table** layout ("Download Table" as CSV): the first column is
  ``Label (Grouping)`` with one row per census line, the hierarchy shown by
  indenting the label with non-breaking spaces (``Total:``, then
  ``Not Hispanic or Latino:``, then ``White alone``); the other columns are
  ``<geography>!!Estimate`` and ``<geography>!!Margin of Error`` (ACS, with
  ``±`` and thousands separators) or just ``<geography>`` (decennial census);
- the **data** layout (``...-Data.csv``): one row per geography, columns
  ``GEO_ID``, ``NAME`` and one per variable (``B03002_003E`` estimate,
  ``B03002_003M`` margin of error, ``P2_005N`` decennial count), with a second
  header row of labels (``Geography``, ``Geographic Area Name``,
  ``Estimate!!Total:!!Not Hispanic or Latino:!!White alone``; decennial labels
  start with `` !!``).

Tables in mind: ACS B03002 (Hispanic or Latino origin by race), 2020 census
P2 (the same for the census count) and ACS B01001 (sex by age); any table of
counts in these layouts reads the same way.

The tidy table has one row per geography and census line, with the columns
in :data:`TIDY_SCHEMA`. ``label`` is the line's path with colons removed and
parts joined by ``!!`` (``Total!!Not Hispanic or Latino!!White alone``), and
the path is split into the dimensions ``hispanic_origin``, ``race``, ``sex``
and ``age_group``. Census symbols become numbers or notes: a ``*****``
margin of error (a controlled estimate, no sampling error) is 0; ``-``,
``N``, ``(X)``, ``**``, ``***`` and the API's negative annotation codes leave
the value empty and say why in ``note``.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from openblotter.domain.errors import InvalidInput

TIDY_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "table_id": pl.String(),
    "geo_id": pl.String(),
    "geography": pl.String(),
    "variable": pl.String(),
    "label": pl.String(),
    "hispanic_origin": pl.String(),
    "race": pl.String(),
    "sex": pl.String(),
    "age_group": pl.String(),
    "estimate": pl.Float64(),
    "margin_of_error": pl.Float64(),
    "note": pl.String(),
}

#: Census symbols in place of a number: (value, note). Value 0 only for a controlled MOE.
_SYMBOLS: dict[str, tuple[float | None, str]] = {
    "*****": (0.0, "controlled estimate: no sampling error"),
    "-": (None, "too few sample observations to compute an estimate"),
    "N": (None, "not available: too few sample cases to publish"),
    "(X)": (None, "not applicable"),
    "**": (None, "too few sample observations to compute a margin of error"),
    "***": (None, "median falls in the upper interval: no margin of error"),
    "null": (None, "not available"),
    "-555555555": (0.0, "controlled estimate: no sampling error"),
    "-666666666": (None, "too few sample observations to compute an estimate"),
    "-888888888": (None, "not applicable"),
    "-999999999": (None, "too few sample observations to compute a margin of error"),
    "-222222222": (None, "too few sample observations to compute a margin of error"),
    "-333333333": (None, "median falls in the upper interval: no margin of error"),
}
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_VARIABLE = re.compile(r"^(?P<variable>[A-Z]+\d+[A-Z]*_\d+)(?P<kind>[A-Z]+)$")
_TABLE_IN_NAME = re.compile(r"\.(?P<table>[A-Z]+\d+[A-Z]*)(?=[-_.])")
_AGE = re.compile(r"^(Under \d+ years|\d+ (to|and) \d+ years|\d+ years( and over)?)$")
_INDENT = " \u00a0\t"


@dataclass(frozen=True)
class _Cell:
    value: float | None
    note: str | None


def read_census_table(path: str | Path, *, table_id: str | None = None) -> pl.DataFrame:
    """Read a data.census.gov CSV (table or data layout) into the tidy table."""
    file = Path(path)
    try:
        content = file.read_bytes()
    except OSError as error:
        raise InvalidInput(f"Cannot read the census file {file}: {error.strerror}.") from error
    return parse_census_csv(content, source=file.name, table_id=table_id)


def parse_census_csv(content: bytes, *, source: str, table_id: str | None = None) -> pl.DataFrame:
    """Parse the bytes of a data.census.gov CSV; ``source`` names it in errors and in the result."""
    rows = _raw_rows(content, source)
    if not rows or not rows[0]:
        raise InvalidInput(f"{source}: the file is empty.", detail={"file": source})
    first = rows[0][0].strip()
    table = table_id or _table_from_name(source)
    if first == "Label (Grouping)":
        records = _table_layout(rows, source, table)
    elif first == "GEO_ID":
        records = _data_layout(rows, source, table)
    else:
        raise InvalidInput(
            f"{source}: not a data.census.gov table. Its first column is '{first}'; expected "
            "'Label (Grouping)' (a table downloaded as CSV) or 'GEO_ID' (a data file).",
            detail={"file": source, "row": 1, "column": first},
        )
    return pl.DataFrame(records, schema=TIDY_SCHEMA, orient="row")


def _raw_rows(content: bytes, source: str) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252")  # a file re-saved by a spreadsheet program
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")), has_header=False, infer_schema=False, quote_char='"'
        )
    except pl.exceptions.ComputeError as error:
        raise InvalidInput(
            f"{source}: not a readable CSV file ({error}).", detail={"file": source}
        ) from error
    return [[cell if cell is not None else "" for cell in row] for row in frame.iter_rows()]


def _table_from_name(source: str) -> str | None:
    match = _TABLE_IN_NAME.search(source)
    return match["table"] if match else None


def _table_layout(
    rows: list[list[str]], source: str, table_id: str | None
) -> list[tuple[Any, ...]]:
    columns = _table_columns(rows[0], source)
    records: list[tuple[Any, ...]] = []
    stack: list[tuple[int, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        raw = row[0]
        name = _clean_part(raw)
        if not name:
            continue
        indent = len(raw) - len(raw.lstrip(_INDENT))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, name))
        path = [part for _, part in stack]
        for geography, (estimate_at, moe_at) in columns.items():
            estimate = _cell(row[estimate_at], source, number, rows[0][estimate_at])
            moe = (
                _cell(row[moe_at], source, number, rows[0][moe_at]) if moe_at is not None else None
            )
            if (
                estimate.value is None
                and estimate.note == "blank"
                and (moe is None or moe.note == "blank")
            ):
                continue  # a heading line with no numbers
            records.append(_record(source, table_id, None, geography, None, path, estimate, moe))
    return records


def _table_columns(header: list[str], source: str) -> dict[str, tuple[int, int | None]]:
    """Geography -> (estimate column, margin-of-error column or None)."""
    estimates: dict[str, int] = {}
    margins: dict[str, int] = {}
    for index, name in enumerate(header[1:], start=1):
        parts = [p.strip() for p in name.split("!!")]
        if not parts[0]:
            continue
        measure = parts[-1] if len(parts) > 1 else "Estimate"
        if measure == "Estimate" and len(parts) <= 2:
            estimates[parts[0]] = index
        elif measure == "Margin of Error" and len(parts) == 2:
            margins[parts[0]] = index
        elif not measure.startswith("Percent"):
            raise InvalidInput(
                f"{source}: column '{name}' is not '<geography>!!Estimate' or "
                "'<geography>!!Margin of Error'; tables with column groups are not supported.",
                detail={"file": source, "row": 1, "column": name},
            )
    if not estimates:
        raise InvalidInput(
            f"{source}: no estimate columns found.", detail={"file": source, "row": 1}
        )
    return {geo: (at, margins.get(geo)) for geo, at in estimates.items()}


def _data_layout(rows: list[list[str]], source: str, table_id: str | None) -> list[tuple[Any, ...]]:
    header = rows[0]
    if len(rows) < 2 or rows[1][0].strip() not in ("Geography", "id"):
        raise InvalidInput(
            f"{source}: the second header row of labels (Geography, Geographic Area Name, "
            "Estimate!!Total: ...) is missing. Download the data file again from "
            "data.census.gov with its column labels.",
            detail={"file": source, "row": 2},
        )
    labels = rows[1]
    variables = _data_columns(header, source)
    records: list[tuple[Any, ...]] = []
    for number, row in enumerate(rows[2:], start=3):
        geo_id, geography = row[0].strip(), row[1].strip()
        if not geo_id and not geography:
            continue
        for variable, (estimate_at, moe_at) in variables.items():
            path = _label_path(labels[estimate_at])
            estimate = _cell(row[estimate_at], source, number, header[estimate_at])
            moe = _cell(row[moe_at], source, number, header[moe_at]) if moe_at is not None else None
            table = table_id or variable.split("_")[0]
            records.append(_record(source, table, geo_id, geography, variable, path, estimate, moe))
    return records


def _data_columns(header: list[str], source: str) -> dict[str, tuple[int, int | None]]:
    """Variable -> (estimate column, margin-of-error column or None)."""
    estimates: dict[str, int] = {}
    margins: dict[str, int] = {}
    for index, name in enumerate(header):
        code = name.strip()
        if code in ("GEO_ID", "NAME", ""):
            continue
        match = _VARIABLE.match(code)
        if match is None:
            raise InvalidInput(
                f"{source}: column '{code}' is not a census variable (like B03002_001E).",
                detail={"file": source, "row": 1, "column": code},
            )
        if match["kind"] in ("E", "N"):
            estimates[match["variable"]] = index
        elif match["kind"] == "M":
            margins[match["variable"]] = index
        # other kinds are annotations (EA, MA) and percentages (PE, PM): not counts
    return {variable: (at, margins.get(variable)) for variable, at in estimates.items()}


def _label_path(label: str) -> list[str]:
    parts = label.split("!!")
    if parts and parts[0].strip() in ("Estimate", ""):
        parts = parts[1:]
    return [p for p in (_clean_part(part) for part in parts) if p]


def _clean_part(part: str) -> str:
    return part.strip(_INDENT).rstrip(":").strip(_INDENT)


def _cell(raw: str, source: str, row: int, column: str) -> _Cell:
    text = raw.strip()
    if not text:
        return _Cell(None, "blank")
    if text in _SYMBOLS:
        value, note = _SYMBOLS[text]
        return _Cell(value, note)
    number = text.replace(",", "").replace("±", "").replace("+/-", "").strip()
    if not _NUMBER.match(number):
        raise InvalidInput(
            f"{source}, row {row}, column '{column}': '{raw}' is not a number or a census symbol.",
            detail={"file": source, "row": row, "column": column, "value": raw},
        )
    return _Cell(float(number), None)


def _record(
    source: str,
    table_id: str | None,
    geo_id: str | None,
    geography: str,
    variable: str | None,
    path: list[str],
    estimate: _Cell,
    moe: _Cell | None,
) -> tuple[Any, ...]:
    dims = _dimensions(path)
    notes = [c.note for c in (estimate, moe) if c is not None and c.note and c.note != "blank"]
    margin = None if moe is None else moe.value
    return (
        source, table_id, geo_id, geography, variable, "!!".join(path),
        dims["hispanic_origin"], dims["race"], dims["sex"], dims["age_group"],
        estimate.value, margin, "; ".join(notes) or None,
    )  # fmt: skip


def _dimensions(path: list[str]) -> dict[str, str | None]:
    """Split a label path into Hispanic origin, race, sex and age group (census words)."""
    dims: dict[str, str | None] = {
        "hispanic_origin": None,
        "race": None,
        "sex": None,
        "age_group": None,
    }
    rest: list[str] = []
    for part in path[1:] if path and path[0].casefold() == "total" else path:
        folded = part.casefold()
        if folded in ("hispanic or latino", "not hispanic or latino"):
            dims["hispanic_origin"] = (
                "Hispanic or Latino" if folded.startswith("h") else "Not Hispanic or Latino"
            )
        elif folded in ("male", "female"):
            dims["sex"] = part.capitalize()
        elif _AGE.match(part):
            dims["age_group"] = part
        else:
            rest.append(part)
    dims["race"] = rest[-1] if rest else None
    return dims


_KAGGLE_RACE_COLUMNS = (
    ("Hispanic", "Total!!Hispanic or Latino"),
    ("White", "Total!!Not Hispanic or Latino!!White alone"),
    ("Black", "Total!!Not Hispanic or Latino!!Black or African American alone"),
    ("Native", "Total!!Not Hispanic or Latino!!American Indian and Alaska Native alone"),
    ("Asian", "Total!!Not Hispanic or Latino!!Asian alone"),
    ("Pacific", "Total!!Not Hispanic or Latino!!Native Hawaiian and Other Pacific Islander alone"),
)
_KAGGLE_REMAINDER = "Total!!Not Hispanic or Latino!!Some other race alone or Two or more races"


def read_acs2017_county_row(path: str | Path, *, state: str, county: str) -> pl.DataFrame:
    """One county of the Kaggle "US Census Demographic Data" ACS 2017 file, as tidy counts.

    Sex comes as counts (``Men``, ``Women``); race/ethnicity as percentages
    rounded to 0.1, turned into people here (percentage x ``TotalPop`` / 100,
    rounded to a whole person) with a note of how far off rounding can make
    them. ``White``, ``Black``, ``Native``, ``Asian`` and ``Pacific`` are read
    as non-Hispanic, single race: in the file they plus ``Hispanic`` never add
    up to more than 100 (Puerto Rico: Hispanic 100, White 0), which is true of
    the non-Hispanic categories only. The rest of the population (non-Hispanic
    some other race, or two or more races) is one remainder row.
    """
    file = Path(path)
    row = _county_row(file, state, county)
    total = int(row["TotalPop"])
    geo_id, geography = f"0500000US{int(row['CountyId']):05d}", f"{county}, {state}"

    def record(
        variable: str | None, label: str, people: float, note: str | None
    ) -> tuple[Any, ...]:
        dims = _dimensions(label.split("!!"))
        return (
            file.name, "ACS 2017 5-year county data (Kaggle)", geo_id, geography, variable, label,
            dims["hispanic_origin"], dims["race"], dims["sex"], dims["age_group"],
            float(people), None, note,
        )  # fmt: skip

    records = [
        record("TotalPop", "Total", total, None),
        record("Men", "Total!!Male", row["Men"], None),
        record("Women", "Total!!Female", row["Women"], None),
    ]
    counted = 0
    for column, label in _KAGGLE_RACE_COLUMNS:
        people = int(float(row[column]) * total / 100 + 0.5)
        counted += people
        note = (
            f"{row[column]}% of {total:,}; the source rounds percentages to 0.1, so this count "
            f"is exact only to within {total * 0.0005:,.0f} people"
        )
        records.append(record(column, label, people, note))
    remainder_note = "total minus the groups above; the source does not split it"
    records.append(record(None, _KAGGLE_REMAINDER, total - counted, remainder_note))
    return pl.DataFrame(records, schema=TIDY_SCHEMA, orient="row")


def _county_row(file: Path, state: str, county: str) -> dict[str, Any]:
    try:
        frame = pl.read_csv(file, infer_schema_length=None)
    except (OSError, pl.exceptions.ComputeError) as error:
        raise InvalidInput(f"Cannot read the county file {file}: {error}.") from error
    match = frame.filter((pl.col("State") == state) & (pl.col("County") == county))
    if match.height != 1:
        raise InvalidInput(
            f"{file.name}: expected one row for {county}, {state}; found {match.height}. "
            "Give the state and county names as the file spells them (State='Oklahoma', "
            "County='Cleveland County').",
            detail={"file": file.name, "state": state, "county": county},
        )
    return match.row(0, named=True)
