"""Analysis use cases: measure police actions against the community they serve.

The community benchmark counts events by group in one dataset and period
(with the query API's filters), reads the residents by group from the
community demographics dataset, and hands both to
:func:`openblotter.analysis.benchmark.community_benchmark`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl

from openblotter.analysis.caveats import event_unit
from openblotter.analysis.census_mapping import (
    DEFAULT_SEX_MAPPING,
    CodeMapping,
    age_band,
    age_band_mapping,
    age_band_of_label,
    combine_race_ethnicity,
)
from openblotter.domain.errors import InvalidInput
from openblotter.services import disclosure, disclosure_analyses, periods, reading, recording
from openblotter.services.families import counted_event, event_fields
from openblotter.services.portal import Portal
from openblotter.services.requirements import A_DATE, require_fields
from openblotter.services.residents import race_mapping, residents_by_group

#: The ``by`` values of a benchmark and the census dimension each is compared with.
BY_DIMENSIONS = {
    "subject_race": "race_ethnicity",
    "subject_sex": "sex",
    "subject_age_group": "age_group",
}
#: Where an event's age is read: the age at the event, else the agency's age band.
AGE_FIELDS = ("subject_age", "subject_age_group")


def _counted(
    portal: Portal,
    dataset_id: str,
    family: str,
    names: set[str],
    group: list[str],
    filters: list[tuple[str, str]],
) -> pl.DataFrame:
    """Events per distinct value of the ``group`` columns, counting the family's unit."""
    unit = [u for u in event_fields(family) if u in names]
    if unit:
        # One event per person (or complainant): every distinct unit, never a capped list of groups.
        frame = reading.table(portal, dataset_id, filters, [*group, *unit]).unique([*group, *unit])
        return frame.group_by(group).len("count")
    return reading.table(portal, dataset_id, filters, group).group_by(group).len("count")


def _events(
    portal: Portal, dataset_id: str, family: str, by: str, filters: list[tuple[str, str]]
) -> Counter[str | None]:
    """Events per department code, counting the family's unit (people, complainants, rows)."""
    t = reading.target(portal, dataset_id, filters)
    names = {f.name for f in t.schema.fields}
    if by == "subject_age_group":
        return _age_events(portal, dataset_id, family, names, filters)
    if by not in names:
        raise InvalidInput(
            f"Dataset '{dataset_id}' has no {by} field, so its events cannot be counted by it; "
            "choose a dataset of events about people (use of force, contacts, complaints).",
            detail={"parameter": "by", "dataset": dataset_id, "fields_needed": [by]},
        )
    group = (
        [by, "subject_ethnicity"] if by == "subject_race" and "subject_ethnicity" in names else [by]
    )
    counts: Counter[str | None] = Counter()
    for row in _counted(portal, dataset_id, family, names, group, filters).iter_rows(named=True):
        code = row[by]
        if len(group) == 2:
            code = combine_race_ethnicity(row[by], row["subject_ethnicity"]) or row[by]
        counts[code] += int(row["count"])
    return counts


def _age_events(
    portal: Portal, dataset_id: str, family: str, names: set[str], filters: list[tuple[str, str]]
) -> Counter[str | None]:
    """Events per age band: the age at the event when recorded, else the agency's age band.

    The events are grouped by the age columns first (a few hundred distinct
    values at most) and only those values are binned here.
    """
    group = [f for f in AGE_FIELDS if f in names]
    if not group:
        raise InvalidInput(
            f"Dataset '{dataset_id}' has no subject_age or subject_age_group field, so its "
            "events cannot be counted by age group; compare by subject_race or subject_sex.",
            detail={"parameter": "by", "dataset": dataset_id, "fields_needed": list(AGE_FIELDS)},
        )
    counts: Counter[str | None] = Counter()
    for row in _counted(portal, dataset_id, family, names, group, filters).iter_rows(named=True):
        band = _event_age_band(row.get("subject_age"), row.get("subject_age_group"))
        counts[band] += int(row["count"])
    return counts


def _event_age_band(age: object, label: str | None) -> str:
    """The band of one event: its age when recorded, else its agency band (blank: Unknown)."""
    if isinstance(age, int | float):
        return age_band(age)
    if isinstance(age, str) and age.strip():  # a custom dataset whose ages were read as text
        return age_band_of_label(age)
    return age_band_of_label(label)


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
    needed = AGE_FIELDS if by == "subject_age_group" else by
    require_fields(portal, dataset_id, "community benchmark", [needed, A_DATE], filters)
    dimension = BY_DIMENSIONS[by]
    current = portal.release(
        dataset_id, next((v for k, v in filters or [] if k == "_release"), None)
    )
    chosen_period = periods.resolve(portal, dataset_id, period, filters or [])
    chosen = [*(filters or []), *chosen_period.filters]
    counts_only = disclosure.aggregates_only(portal, dataset_id)
    if counts_only:  # from the release's protected tables, with the codes to hide
        events, hidden = disclosure_analyses.benchmark_events(portal, dataset_id, by, chosen)
    else:
        events = _events(portal, dataset_id, family, by, chosen)
    population, total, source = residents_by_group(portal, dimension)
    mapping = _mapping(portal, dimension)
    chosen_reference = reference or portal.settings.reference_group
    ref = None if chosen_reference == "all" else chosen_reference
    result = community_benchmark(
        dict(events),
        population,
        mapping=mapping,
        total_population=total,
        reference=ref,
        min_events=portal.settings.small_number_threshold,
        event_unit=event_unit(
            family, _contact_types(portal, dataset_id, family, chosen), counted_event(family)
        ),
    ).to_dict()
    rows = [_row(g) for g in result["groups"]]
    flags = _recording_flags(portal, dataset_id, by, chosen_period, rows, filters or [])
    body = {
        "dataset": dataset_id,
        "release": current.label,
        "by": by,
        "period": period,
        **chosen_period.to_dict(),
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
        "caveats": [*result["caveats"], *flags["recording_caveats"]],
        "recording_changes": flags["recording_changes"],
        "synthetic": dataset.synthetic,
    }
    if counts_only:
        body = disclosure_analyses.protect_benchmark(portal, body, hidden)
    return body


#: The coded fields behind each ``by``: a recording change in one of them flags the benchmark.
RECORDED_FIELDS = {
    "subject_race": ["subject_race", "subject_ethnicity"],
    "subject_sex": ["subject_sex"],
    "subject_age_group": ["subject_age_group"],
}


def _contact_types(
    portal: Portal, dataset_id: str, family: str, filters: list[tuple[str, str]]
) -> list[str] | None:
    """The contact types among the counted events (contacts only): they name the event unit."""
    if family != "contacts":
        return None
    names = {f.name for f in reading.target(portal, dataset_id, filters).schema.fields}
    if "contact_type" not in names:
        return None
    params = [*filters, ("_group", "contact_type"), ("_agg", "count")]
    groups = reading.aggregate(portal, dataset_id, params)["groups"]
    return [str(g["contact_type"]) for g in groups if g.get("contact_type")]


def _recording_flags(
    portal: Portal,
    dataset_id: str,
    by: str,
    period: periods.Period,
    rows: list[dict[str, Any]],
    filters: list[tuple[str, str]],
) -> dict[str, Any]:
    """Mark the rows whose group's recording changed inside (or after) the period.

    A row whose department codes include a changed category is not reliable
    when the period spans the change or lies wholly before it, and says so.
    """
    if period.first is None or period.last is None:
        return {"recording_changes": [], "recording_caveats": []}
    flags = recording.flag(
        portal, dataset_id, RECORDED_FIELDS[by], None, period.first, period.last, filters
    )
    for row in rows:
        # A change of the row's own group, or of a filtered value (it selects every row's events).
        changes = flags["recording_changes"]
        own = [
            c
            for c in changes
            if c["field"] in RECORDED_FIELDS[by] and c["category"] in row["department_codes"]
        ]
        shared = [c for c in changes if c["field"] not in RECORDED_FIELDS[by]]
        recording.mark_row(row, own, shared)
    return flags


def _mapping(portal: Portal, dimension: str) -> CodeMapping:
    if dimension == "race_ethnicity":
        return race_mapping(portal)
    return age_band_mapping() if dimension == "age_group" else DEFAULT_SEX_MAPPING


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
