"""Residents by group: the denominators of every community benchmark.

Read from the portal's community demographics dataset (``demographics_dataset``):
the newest year that counts residents by the asked dimension (race and
ethnicity, sex, or age group), with margins of error where the source has them.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from openblotter.analysis.census_mapping import (
    DEFAULT_RACE_ETHNICITY_MAPPING,
    DEMOGRAPHICS_RACES,
    HISPANIC,
    NH_BLACK,
    NH_TWO_OR_MORE,
    CodeMapping,
)
from openblotter.analysis.census_population import age_band_of_group
from openblotter.analysis.population import PopulationEstimate, sum_estimates
from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.services import reading
from openblotter.services.portal import Portal

#: The community demographics columns a benchmark reads.
REQUIRED_COLUMNS = ("geography_id", "year", "race", "ethnicity", "sex", "age_group", "population")
DEMOGRAPHICS_COLUMNS = (
    *REQUIRED_COLUMNS,
    "geography_name",
    "source",
    "margin_of_error",
    "percent",
)
#: The count table to publish instead of shares that cannot be turned into people.
COUNT_TABLE_HINT = (
    "publish the census table of counts instead (ACS B03002, Hispanic or Latino origin by "
    "race, with its margins of error)"
)


def residents_by_group(
    portal: Portal, dimension: str
) -> tuple[dict[str, PopulationEstimate], PopulationEstimate, dict[str, Any]]:
    """Residents by census category, all residents, and the source.

    ``dimension`` is ``race_ethnicity``, ``sex`` or ``age_group``. Read from the
    newest year of the portal's community demographics dataset that counts
    residents by that dimension. Age groups are added up into the bands of
    :data:`DEFAULT_AGE_BANDS`.
    """
    demographics_id = portal.settings.demographics_dataset
    rows = _newest_year_with(_demographics_rows(portal, demographics_id), dimension)
    rows, converted = _people_from_percent(rows, demographics_id)
    used = [r for r in rows if _counts_by(r, dimension)]
    first = (used or rows)[0]
    source = {
        "dataset": demographics_id,
        "geography": first.get("geography_name"),
        "year": first["year"],
        "source": first.get("source"),
    }
    if converted:
        source["converted_from_percent"] = converted
    everyone = [
        r
        for r in rows
        if (r["race"], r["ethnicity"], r["sex"], r["age_group"]) == ("All", "All", "All", "All")
    ]
    if not everyone:
        raise NotFound(
            f"'{demographics_id}' has no total row (race, ethnicity, sex and age group All)."
        )
    if dimension == "age_group":
        return _residents_by_age_band(used, demographics_id), _estimate(everyone[0]), source
    by: dict[str, PopulationEstimate] = {}
    for r in used:
        group = r["sex"] if dimension == "sex" else _census_category(r["race"], r["ethnicity"])
        by[str(group)] = _estimate(r)
    return by, _estimate(everyone[0]), source


def _demographics_rows(portal: Portal, demographics_id: str) -> list[dict[str, Any]]:
    """Every row of the community demographics dataset, newest year first.

    Read whole (a city's census cells for every year are a few thousand rows), and
    through the engine rather than the rows API, so a demographics dataset published
    only as counts still serves as the denominator.
    """
    try:
        frame = reading.table(portal, demographics_id, [], DEMOGRAPHICS_COLUMNS)
    except NotFound as error:
        raise NotFound(
            f"A benchmark needs the community demographics dataset '{demographics_id}' "
            "(residents by race, sex and age); publish it first.",
            detail={"dataset": demographics_id},
        ) from error
    if frame.height == 0:
        raise NotFound(
            f"Dataset '{demographics_id}' has no rows.", detail={"dataset": demographics_id}
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"Dataset '{demographics_id}' is not a community demographics dataset: it has no "
            f"{', '.join(missing)} column. Set OPENBLOTTER_DEMOGRAPHICS_DATASET to the dataset "
            "of residents by group.",
            detail={"dataset": demographics_id, "missing": missing},
        )
    return frame.sort("year", descending=True, maintain_order=True).to_dicts()


def _people_from_percent(
    rows: list[dict[str, Any]], demographics_id: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Rows given as a percentage of the area's residents, turned into people.

    people = percent / 100 x the total row (race, ethnicity, sex and age group
    All) of the same area and year. The table's shares are rounded (to 0.1 point
    in the ACS county profile), so each converted count is uncertain by up to half
    a rounding step of the total; that error and any sampling error of the share
    are unknown, so the converted counts carry no margin of error and the
    benchmark says its intervals do not include one.
    """
    shares = [r for r in rows if r.get("population") is None]
    if not shares:
        return rows, None
    totals = [
        r
        for r in rows
        if (r["race"], r["ethnicity"], r["sex"], r["age_group"]) == ("All", "All", "All", "All")
        and r.get("population") is not None
    ]
    for r in shares:
        if r.get("percent") is None or not totals:
            raise InvalidInput(
                f"'{demographics_id}' has a row ({r['race']}, {r['ethnicity']}, {r['sex']}, "
                f"{r['age_group']}, {r['year']}) with neither a population nor a percentage "
                f"of a published total, so it cannot be turned into people; {COUNT_TABLE_HINT}.",
                detail={"dataset": demographics_id, "year": r["year"]},
            )
    total = float(totals[0]["population"])
    converted = [
        {**r, "population": float(r["percent"]) / 100 * total, "margin_of_error": None}
        if r.get("population") is None
        else r
        for r in rows
    ]
    note = {
        "rows": len(shares),
        "total": total,
        "method": "people = percent / 100 x the area's total population; the shares are "
        "rounded, and neither their rounding nor their sampling error is known, so these "
        f"counts carry no margin of error ({COUNT_TABLE_HINT} for counts with one)",
    }
    return converted, note


def _estimate(r: dict[str, Any]) -> PopulationEstimate:
    return PopulationEstimate(float(r["population"]), r.get("margin_of_error"))


def _counts_by(r: dict[str, Any], dimension: str) -> bool:
    """Whether a demographics row counts the residents of one group of ``dimension``."""
    if dimension == "age_group":
        return bool(r["race"] == "All" and r["ethnicity"] == "All" and r["age_group"] != "All")
    if r["age_group"] != "All":
        return False
    if dimension == "sex":
        return bool(
            r["race"] == "All" and r["ethnicity"] == "All" and r["sex"] in ("Male", "Female")
        )
    return bool(r["sex"] == "All" and _census_category(r["race"], r["ethnicity"]) is not None)


def _newest_year_with(rows: list[dict[str, Any]], dimension: str) -> list[dict[str, Any]]:
    """Rows of the newest year (first geography) that counts residents by ``dimension``.

    A year with race only (a census redistricting table) is not picked for
    sex or age; with no such year, the newest year (its total still counts).
    """
    geography = rows[0]["geography_id"]
    years = sorted({r["year"] for r in rows if r["geography_id"] == geography}, reverse=True)
    for year in years:
        chosen = [r for r in rows if r["year"] == year and r["geography_id"] == geography]
        if any(_counts_by(r, dimension) for r in chosen):
            return chosen
    return [r for r in rows if r["year"] == years[0] and r["geography_id"] == geography]


def _residents_by_age_band(
    rows: list[dict[str, Any]], demographics_id: str
) -> dict[str, PopulationEstimate]:
    """Residents per age band: each age group's row of both sexes, or its Male and Female added."""
    if not rows:
        raise NotFound(
            f"'{demographics_id}' does not count residents by age group (rows with race and "
            "ethnicity All and an age group); publish a census table of sex by age (B01001) "
            "to compare by age group.",
            detail={"dataset": demographics_id},
        )
    by_group: dict[str, dict[str, PopulationEstimate]] = {}
    for r in rows:
        by_group.setdefault(r["age_group"], {})[r["sex"]] = _estimate(r)
    parts: dict[str, list[PopulationEstimate]] = {}
    for label, by_sex in by_group.items():
        if "All" in by_sex:
            residents = by_sex["All"]
        elif "Male" in by_sex and "Female" in by_sex:
            residents = sum_estimates([by_sex["Male"], by_sex["Female"]])
        else:
            raise InvalidInput(
                f"'{demographics_id}' counts residents aged '{label}' for {', '.join(by_sex)} "
                "only; a benchmark by age group needs a row for both sexes (sex All) or rows "
                "for Male and Female.",
                detail={"dataset": demographics_id, "age_group": label},
            )
        try:
            band = age_band_of_group(label)
        except InvalidInput as error:
            raise InvalidInput(
                f"'{demographics_id}' counts residents in the age group '{label}', which the "
                f"benchmark cannot use. {error.message}",
                detail={"dataset": demographics_id, "age_group": label},
            ) from error
        parts.setdefault(band, []).append(residents)
    return {band: sum_estimates(values) for band, values in parts.items()}


def _census_category(race: str, ethnicity: str) -> str | None:
    if race == "Hispanic or Latino" or (race == "All" and ethnicity == "Hispanic or Latino"):
        return HISPANIC
    if ethnicity == "Not Hispanic or Latino":
        return DEMOGRAPHICS_RACES.get(race)
    return None


# The family schemas' race codes beside the default mapping's short ones.
_FAMILY_RACE_CODES: dict[str, str | None] = {
    "Black or African American": NH_BLACK,
    "Two or more races": NH_TWO_OR_MORE,
}


def race_mapping(portal: Portal) -> CodeMapping:
    """The portal's code-to-census mapping of race and ethnicity codes, by which events and staff
    meet the residents: a JSON file from settings, or the default."""
    path = portal.settings.race_mapping_file
    if path is not None:
        try:
            return CodeMapping.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as error:
            raise InvalidInput(
                f"Cannot read the race mapping file {path}: {error}.",
                detail={"setting": "OPENBLOTTER_RACE_MAPPING_FILE"},
            ) from error
    codes = {**DEFAULT_RACE_ETHNICITY_MAPPING.codes, **_FAMILY_RACE_CODES}
    return replace(DEFAULT_RACE_ETHNICITY_MAPPING, codes=codes)
