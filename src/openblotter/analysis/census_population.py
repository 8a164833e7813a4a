"""Population by category from a tidy census table.

The tidy table is what :mod:`openblotter.ingest.census` returns: one row per
geography and census cell, with the columns ``geography``, ``label`` (the
census label path joined by ``!!``, colons removed, e.g.
``Total!!Not Hispanic or Latino!!White alone``), ``hispanic_origin``,
``race``, ``sex``, ``age_group``, ``estimate`` and ``margin_of_error``. Only
those columns are read here, so any table with them works.
"""

from __future__ import annotations

import re

import polars as pl

from openblotter.analysis.census_mapping import (
    DEFAULT_AGE_BANDS,
    HISPANIC,
    NH_AIAN,
    NH_ASIAN,
    NH_BLACK,
    NH_NHPI,
    NH_OTHER,
    NH_TWO_OR_MORE,
    NH_WHITE,
)
from openblotter.analysis.population import PopulationEstimate, sum_estimates
from openblotter.domain.errors import InvalidInput

#: Census words for a non-Hispanic race (B03002 and P2 spellings, case-folded) -> category.
_NON_HISPANIC_RACES = {
    "white alone": NH_WHITE,
    "black or african american alone": NH_BLACK,
    "american indian and alaska native alone": NH_AIAN,
    "asian alone": NH_ASIAN,
    "native hawaiian and other pacific islander alone": NH_NHPI,
    "some other race alone": NH_OTHER,
    "two or more races": NH_TWO_OR_MORE,
    "population of two or more races": NH_TWO_OR_MORE,
}

_AGE_RANGE = re.compile(r"^(?P<first>\d+) (?:to|and) (?P<last>\d+) years$")
_AGE_ONE = re.compile(r"^(?P<first>\d+) years$")
_AGE_UNDER = re.compile(r"^Under (?P<limit>\d+) years$")
_AGE_OVER = re.compile(r"^(?P<first>\d+) years and over$")


def census_geographies(tidy: pl.DataFrame) -> list[str]:
    """The geographies in a tidy census table, in order of appearance."""
    return list(dict.fromkeys(tidy["geography"].to_list()))


def total_population(tidy: pl.DataFrame, geography: str | None = None) -> PopulationEstimate:
    """The table's ``Total`` cell for one geography."""
    rows = _one_geography(tidy, geography).filter(pl.col("label") == "Total")
    if rows.height != 1:
        raise InvalidInput(
            "The census table has no single 'Total' row for this geography; "
            "download the whole table, including its Total line.",
            detail={"geography": geography, "rows_found": rows.height},
        )
    return _estimate(rows.row(0, named=True))


def population_by_race_ethnicity(
    tidy: pl.DataFrame, geography: str | None = None
) -> dict[str, PopulationEstimate]:
    """Residents by census race/ethnicity category (from B03002 or P2 style tables).

    Picks the "Hispanic or Latino" subtotal and, among non-Hispanic residents,
    each race alone and "Two or more races"; other cells (sub-details such as
    "Two races including Some other race") are not used. Categories the table
    does not have are absent from the result.
    """
    frame = _one_geography(tidy, geography).filter(
        pl.col("sex").is_null() & pl.col("age_group").is_null()
    )
    found: dict[str, PopulationEstimate] = {}
    for row in frame.iter_rows(named=True):
        origin, race = row["hispanic_origin"], row["race"]
        if origin == "Hispanic or Latino" and race is None:
            found[HISPANIC] = _estimate(row)
        elif origin == "Not Hispanic or Latino" and race is not None:
            category = _NON_HISPANIC_RACES.get(race.casefold())
            if category is not None:
                found[category] = _estimate(row)
    return found


def population_by_sex(
    tidy: pl.DataFrame, geography: str | None = None
) -> dict[str, PopulationEstimate]:
    """Residents by sex: the ``Male`` and ``Female`` subtotals (B01001 or a county row)."""
    frame = _one_geography(tidy, geography).filter(
        pl.col("sex").is_not_null()
        & pl.col("age_group").is_null()
        & pl.col("race").is_null()
        & pl.col("hispanic_origin").is_null()
    )
    return {row["sex"]: _estimate(row) for row in frame.iter_rows(named=True)}


def population_by_age_band(
    tidy: pl.DataFrame,
    geography: str | None = None,
    bands: tuple[tuple[int, int | None, str], ...] = DEFAULT_AGE_BANDS,
) -> dict[str, PopulationEstimate]:
    """Residents by age band, summing the B01001 sex-by-age cells of both sexes.

    Each band must be made of whole census age groups; the MOE of a band is
    the Census Bureau's root-sum-of-squares approximation.
    """
    frame = _one_geography(tidy, geography).filter(
        pl.col("sex").is_not_null() & pl.col("age_group").is_not_null()
    )
    parts: dict[str, list[PopulationEstimate]] = {label: [] for _, _, label in bands}
    for row in frame.iter_rows(named=True):
        first, last = age_group_range(row["age_group"])
        parts[_band_of(first, last, bands, row["age_group"])].append(_estimate(row))
    return {label: sum_estimates(values) for label, values in parts.items() if values}


def age_group_range(label: str) -> tuple[int, int | None]:
    """First and last age of a census age group label (``18 and 19 years`` -> (18, 19))."""
    text = label.strip()
    if match := _AGE_RANGE.match(text):
        return int(match["first"]), int(match["last"])
    if match := _AGE_ONE.match(text):
        return int(match["first"]), int(match["first"])
    if match := _AGE_UNDER.match(text):
        return 0, int(match["limit"]) - 1
    if match := _AGE_OVER.match(text):
        return int(match["first"]), None
    raise InvalidInput(
        f"'{label}' is not a census age group this portal understands "
        "(expected forms like 'Under 5 years', '5 to 9 years', '20 years', '85 years and over').",
        detail={"age_group": label},
    )


def _band_of(
    first: int, last: int | None, bands: tuple[tuple[int, int | None, str], ...], label: str
) -> str:
    for band_first, band_last, band_label in bands:
        starts_inside = first >= band_first and (band_last is None or first <= band_last)
        if not starts_inside:
            continue
        ends_inside = band_last is None or (last is not None and last <= band_last)
        if ends_inside:
            return band_label
        break
    raise InvalidInput(
        f"The census age group '{label}' straddles the age bands; choose bands made of "
        "whole census age groups.",
        detail={"age_group": label},
    )


def _one_geography(tidy: pl.DataFrame, geography: str | None) -> pl.DataFrame:
    names = census_geographies(tidy)
    if geography is None:
        if len(names) != 1:
            raise InvalidInput(
                "The census table covers several geographies; say which one to use: "
                f"{', '.join(names)}.",
                detail={"geographies": names},
            )
        geography = names[0]
    elif geography not in names:
        raise InvalidInput(
            f"The census table has no geography '{geography}'. It has: {', '.join(names)}.",
            detail={"geography": geography, "geographies": names},
        )
    return tidy.filter(pl.col("geography") == geography)


def _estimate(row: dict[str, object]) -> PopulationEstimate:
    value, moe = row["estimate"], row["margin_of_error"]
    if value is None:
        raise InvalidInput(
            f"The census cell '{row['label']}' has no estimate; its note says: "
            f"{row.get('note') or 'not available'}.",
            detail={"label": row["label"], "geography": row["geography"]},
        )
    return PopulationEstimate(float(value), None if moe is None else float(moe))  # type: ignore[arg-type]
