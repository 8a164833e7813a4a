"""Analysis use cases: measure police actions against the community they serve.

The community benchmark counts events by group in one dataset and period
(with the query API's filters), reads the residents by group from the
community demographics dataset, and hands both to
:func:`openblotter.analysis.benchmark.community_benchmark`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from typing import Any

from openblotter.analysis.caveats import event_unit
from openblotter.analysis.census_mapping import (
    DEFAULT_RACE_ETHNICITY_MAPPING,
    DEFAULT_SEX_MAPPING,
    HISPANIC,
    NH_AIAN,
    NH_ASIAN,
    NH_BLACK,
    NH_NHPI,
    NH_OTHER,
    NH_TWO_OR_MORE,
    NH_WHITE,
    CodeMapping,
    combine_race_ethnicity,
)
from openblotter.analysis.population import PopulationEstimate
from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.domain.quarters import Quarter
from openblotter.services import query
from openblotter.services.portal import Portal

#: The families a community benchmark is made for, and how one event is counted in each.
UNIT_FIELDS: dict[str, tuple[str, ...]] = {
    "use_of_force": ("incident_id", "subject_id"),
    "complaints": ("complaint_id", "complainant_number"),
    "contacts": (),
    "hate_crimes": (),
}
BY_DIMENSIONS = {"subject_race": "race_ethnicity", "subject_sex": "sex"}

# The family schemas' race codes beside the default mapping's short ones.
_FAMILY_RACE_CODES: dict[str, str | None] = {
    "Black or African American": NH_BLACK,
    "Two or more races": NH_TWO_OR_MORE,
}
_CENSUS_RACE = {
    "White": NH_WHITE,
    "Black or African American": NH_BLACK,
    "American Indian or Alaska Native": NH_AIAN,
    "Asian": NH_ASIAN,
    "Native Hawaiian or Other Pacific Islander": NH_NHPI,
    "Other": NH_OTHER,
    "Two or more races": NH_TWO_OR_MORE,
}


def race_mapping(portal: Portal) -> CodeMapping:
    """The portal's code-to-census mapping: a JSON file from settings, or the default."""
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


def period_filters(period: str, current: Quarter) -> list[tuple[str, str]]:
    """``2025`` (a year), ``2025-Q3`` (a quarter) or ``last4q`` (four quarters to ``current``)."""
    text = period.strip()
    if text == "last4q":
        quarters = [current]
        while len(quarters) < 4:
            quarters.append(quarters[-1].previous())
        return [("quarter", q.label) for q in reversed(quarters)]
    if text.isdigit() and len(text) == 4:
        return [("year", text)]
    try:
        return [("quarter", Quarter.parse(text).label)]
    except InvalidInput as error:
        raise InvalidInput(
            f"'{period}' is not a period: use a year (2025), a quarter (2025-Q3) or last4q.",
            detail={"parameter": "period", "allowed": ["YYYY", "YYYY-Qn", "last4q"]},
        ) from error


def _events(
    portal: Portal, dataset_id: str, family: str, by: str, filters: list[tuple[str, str]]
) -> Counter[str | None]:
    """Events per department code, counting the family's unit (people, complainants, rows)."""
    t = query.target(portal, dataset_id, filters)
    names = {f.name for f in t.schema.fields}
    group = (
        [by, "subject_ethnicity"] if by == "subject_race" and "subject_ethnicity" in names else [by]
    )
    unit = [u for u in UNIT_FIELDS.get(family, ()) if u in names]
    if unit:
        # One event per person (or complainant): every distinct unit, never a capped list of groups.
        frame = query.table(portal, dataset_id, filters, [*group, *unit]).unique([*group, *unit])
        counted = frame.group_by(group).len("count")
    else:
        counted = query.table(portal, dataset_id, filters, group).group_by(group).len("count")
    counts: Counter[str | None] = Counter()
    for row in counted.iter_rows(named=True):
        code = row[by]
        if len(group) == 2:
            code = combine_race_ethnicity(row[by], row["subject_ethnicity"]) or row[by]
        counts[code] += int(row["count"])
    return counts


def residents_by_group(
    portal: Portal, dimension: str
) -> tuple[dict[str, PopulationEstimate], PopulationEstimate, dict[str, Any]]:
    """Residents by census category (``race_ethnicity`` or ``sex``), all residents, and the source.

    Read from the newest year of the portal's community demographics dataset.
    """
    demographics_id = portal.settings.demographics_dataset
    try:
        rows = query.rows_page(portal, demographics_id, [("_size", "1000"), ("_sort", "-year")])[
            "rows"
        ]
    except NotFound as error:
        raise NotFound(
            f"A benchmark needs the community demographics dataset '{demographics_id}' "
            "(residents by race, sex and age); publish it first.",
            detail={"dataset": demographics_id},
        ) from error
    if not rows:
        raise NotFound(
            f"Dataset '{demographics_id}' has no rows.", detail={"dataset": demographics_id}
        )
    rows = _newest_complete_year(rows)
    source = {
        "dataset": demographics_id,
        "geography": rows[0].get("geography_name"),
        "year": rows[0]["year"],
        "source": rows[0].get("source"),
    }

    def estimate(r: dict[str, Any]) -> PopulationEstimate:
        return PopulationEstimate(float(r["population"]), r.get("margin_of_error"))

    everyone = [
        r
        for r in rows
        if (r["race"], r["ethnicity"], r["sex"], r["age_group"]) == ("All", "All", "All", "All")
    ]
    if not everyone:
        raise NotFound(
            f"'{demographics_id}' has no total row (race, ethnicity, sex and age group All)."
        )
    by: dict[str, PopulationEstimate] = {}
    for r in rows:
        if r["age_group"] != "All":
            continue
        if (
            dimension == "sex"
            and r["race"] == "All"
            and r["ethnicity"] == "All"
            and r["sex"] in ("Male", "Female")
        ):
            by[r["sex"]] = estimate(r)
        if dimension == "race_ethnicity" and r["sex"] == "All":
            category = _census_category(r["race"], r["ethnicity"])
            if category:
                by[category] = estimate(r)
    return by, estimate(everyone[0]), source


def _newest_complete_year(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the newest year (first geography) that counts residents by group, not only a total."""
    geography = rows[0]["geography_id"]
    years = sorted({r["year"] for r in rows if r["geography_id"] == geography}, reverse=True)
    for year in years:
        chosen = [r for r in rows if r["year"] == year and r["geography_id"] == geography]
        if any(r["race"] != "All" or r["sex"] != "All" for r in chosen):
            return chosen
    return [r for r in rows if r["year"] == years[0] and r["geography_id"] == geography]


def _census_category(race: str, ethnicity: str) -> str | None:
    if race == "Hispanic or Latino" or (race == "All" and ethnicity == "Hispanic or Latino"):
        return HISPANIC
    if ethnicity == "Not Hispanic or Latino":
        return _CENSUS_RACE.get(race)
    return None


def benchmark(
    portal: Portal,
    dataset_id: str,
    *,
    by: str = "subject_race",
    period: str = "last4q",
    reference: str | None = None,
    filters: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Events by group against residents by group: rates, ratios, intervals, caveats."""
    # The statistics pull in SciPy and statsmodels (~140 MB); a web process that only
    # serves data never imports them.
    from openblotter.analysis.benchmark import community_benchmark

    dataset = portal.dataset(dataset_id)
    family = dataset.family or ""
    if by not in BY_DIMENSIONS:
        raise InvalidInput(
            f"'by' must be one of {', '.join(BY_DIMENSIONS)}.",
            detail={"parameter": "by", "allowed": list(BY_DIMENSIONS)},
        )
    dimension = BY_DIMENSIONS[by]
    current = portal.release(
        dataset_id, next((v for k, v in filters or [] if k == "_release"), None)
    )
    chosen = [*(filters or []), *period_filters(period, current.quarter)]
    events = _events(portal, dataset_id, family, by, chosen)
    population, total, source = residents_by_group(portal, dimension)
    mapping = race_mapping(portal) if dimension == "race_ethnicity" else DEFAULT_SEX_MAPPING
    chosen_reference = reference or portal.settings.reference_group
    ref = None if chosen_reference == "all" else chosen_reference
    result = community_benchmark(
        dict(events),
        population,
        mapping=mapping,
        total_population=total,
        reference=ref,
        min_events=portal.settings.small_number_threshold,
        event_unit=event_unit(family),
    ).to_dict()
    rows = [_row(g) for g in result["groups"]]
    return {
        "dataset": dataset_id,
        "release": current.label,
        "by": by,
        "period": period,
        "filters": [list(f) for f in filters or [] if f[0] != "_release"],
        "event_unit": result["event_unit"],
        "reference": result["reference"],
        "reference_rate_per_1000": result["reference_rate"],
        "events_total": result["events_total"],
        "population_total": result["population_total"],
        "population_source": source,
        "rows": rows,
        "method": result["methods"],
        "mapping": result["mapping"],
        "caveats": result["caveats"],
        "synthetic": dataset.synthetic,
    }


def _row(group: dict[str, Any]) -> dict[str, Any]:
    ratio_ci = group.get("rate_ratio_ci") or {}
    rate_ci = group.get("rate_ci") or {}
    return {
        "group": group["group"],
        "placement": group["placement"],
        "department_codes": list(group["department_codes"]),
        "events": group["events"],
        "share_of_events": group["share_of_events"],
        "population": group["population"],
        "population_moe": group["population_moe"],
        "share_of_population": group["share_of_population"],
        "rate_per_1000": group["rate"],
        "rate_ci_low": rate_ci.get("low"),
        "rate_ci_high": rate_ci.get("high"),
        "rate_ratio": group["rate_ratio"],
        "ci_low": ratio_ci.get("low"),
        "ci_high": ratio_ci.get("high"),
        "reliable": group["reliable"],
        "notes": list(group["notes"]),
    }
