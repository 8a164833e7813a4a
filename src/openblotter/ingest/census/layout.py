"""A census table as downloaded from data.census.gov, laid out as the demographics family.

The census parser (:mod:`openblotter.ingest.census.tables`) reads the download into
tidy cells; this module turns those cells into the community demographics
family's rows: one row per area, group and year, with the margin of error
kept. Breakdowns finer than the family's groups (the kinds of "Two or more
races") are left out and counted.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from openblotter.domain.report import Problem

#: Census race words -> the race codes every dataset of the portal uses.
CENSUS_RACES = {
    "White alone": "White",
    "Black or African American alone": "Black or African American",
    "American Indian and Alaska Native alone": "American Indian or Alaska Native",
    "Asian alone": "Asian",
    "Native Hawaiian and Other Pacific Islander alone": "Native Hawaiian or Other Pacific Islander",
    "Some other race alone": "Other",
    "Two or more races": "Two or more races",
    "Population of two or more races": "Two or more races",
    "Population of one race": None,
}
_LEVELS = {
    "010": "Nation",
    "040": "State",
    "050": "County",
    "060": "County subdivision",
    "140": "Census tract",
    "150": "Block group",
    "160": "Place",
    "860": "ZIP code tabulation area",
}


def is_census_download(header: list[str]) -> bool:
    """A data.census.gov CSV starts with ``Label (Grouping)`` (table) or ``GEO_ID`` (data)."""
    first = header[0].strip().lstrip("\ufeff") if header else ""
    return first in ("Label (Grouping)", "GEO_ID")


def census_rows(path: Path) -> tuple[pl.DataFrame, list[Problem]]:
    """The download as text rows of the community demographics family, plus what was left out."""
    from openblotter.ingest.census.tables import read_census_table  # census publishes only

    tidy = read_census_table(path)
    year = _year(path.name)
    rows: list[dict[str, str | None]] = []
    skipped = 0
    for number, cell in enumerate(tidy.iter_rows(named=True), start=2):
        race = _race(cell["race"], cell["hispanic_origin"])
        if race is None:
            skipped += 1
            continue
        rows.append(
            {
                "geography_id": cell["geo_id"] or cell["geography"],
                "geography_name": cell["geography"],
                "geography_level": _level(cell["geo_id"], cell["geography"]),
                "state": (cell["geography"] or "").rpartition(", ")[2] or None,
                "year": year,
                "source": f"{cell['table_id'] or 'census table'} ({cell['source']})",
                "race": race,
                "ethnicity": cell["hispanic_origin"] or "All",
                "sex": cell["sex"] or "All",
                "age_group": cell["age_group"] or "All",
                "population": None if cell["estimate"] is None else str(round(cell["estimate"])),
                "margin_of_error": None
                if cell["margin_of_error"] is None
                else str(round(cell["margin_of_error"])),
                "__row": str(number),
            }
        )
    problems = []
    if skipped:
        problems.append(
            Problem(
                code="census_detail_left_out",
                severity="info",
                message=f"{skipped} census cells break a group down further than the demographics "
                "family does (for example the kinds of 'Two or more races'); they are not published.",
            )
        )
    if year is None:
        problems.append(
            Problem(
                code="missing_column",
                severity="error",
                column="year",
                message=f"The file name {path.name} does not say the year (data.census.gov names its "
                "downloads like ACSDT5Y2022.B03002-Data.csv); rename the file to include the year.",
            )
        )
    frame = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]} if rows else None)
    return frame.with_columns(pl.col("__row").cast(pl.Int64)) if rows else frame, problems


def _year(name: str) -> str | None:
    match = re.search(r"(?:Y|PL|DHC|P)?((?:19|20)\d{2})", name)
    return match.group(1) if match else None


def _race(race: str | None, hispanic: str | None) -> str | None:
    if race is None:
        return "All"
    if race in CENSUS_RACES:
        return CENSUS_RACES[race]
    if race.casefold().startswith(("two races", "three or more")):
        return None
    return race


def _level(geo_id: str | None, name: str | None) -> str:
    if geo_id and len(geo_id) >= 3 and geo_id[:3] in _LEVELS:
        return _LEVELS[geo_id[:3]]
    if name and re.search(r"\b(city|town|village|CDP)\b", name):
        return "Place"
    return "Other"
