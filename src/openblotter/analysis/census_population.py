"""Population by category from a tidy census table.

The tidy table is what :mod:`openblotter.ingest.census.tables` returns: one row per
geography and census cell, with the columns ``geography``, ``label`` (the
census label path joined by ``!!``, colons removed, e.g.
``Total!!Not Hispanic or Latino!!White alone``), ``hispanic_origin``,
``race``, ``sex``, ``age_group``, ``estimate`` and ``margin_of_error``. Only
those columns are read here, so any table with them works.
"""

from __future__ import annotations

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
    AgeBands,
    age_label_range,
    band_of_range,
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
    bands: AgeBands = DEFAULT_AGE_BANDS,
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
        parts[age_band_of_group(row["age_group"], bands)].append(_estimate(row))
    return {label: sum_estimates(values) for label, values in parts.items() if values}


def age_group_range(label: str) -> tuple[int, int | None]:
    """First and last age of a census age group label (``18 and 19 years`` -> (18, 19)).

    Also reads the shorter forms a hand-made table may use (``18-24``, ``65+``).
    """
    found = age_label_range(label)
    if found is None:
        raise InvalidInput(
            f"'{label}' is not an age group this portal understands (expected forms like "
            "'Under 5 years', '5 to 9 years', '20 years', '85 years and over', '18-24', '65+').",
            detail={"age_group": label},
        )
    return found


def age_band_of_group(label: str, bands: AgeBands = DEFAULT_AGE_BANDS) -> str:
    """The age band a census age group falls in whole (``18 and 19 years`` -> ``18 to 24 years``).

    Raises :class:`InvalidInput` when the group straddles two bands: its residents
    cannot be split between them.
    """
    first, last = age_group_range(label)
    band = band_of_range(first, last, bands)
    if band is None:
        raise InvalidInput(
            f"The census age group '{label}' straddles two of the age bands "
            f"({', '.join(b for _, _, b in bands)}), and its residents cannot be split "
            "between them. Use census age groups that fit inside the bands (those of table "
            "B01001 do), or bands made of whole census age groups.",
            detail={"age_group": label},
        )
    return band


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
