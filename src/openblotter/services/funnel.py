"""Funnel plots: each beat's (or quarter's) rate against the limits of chance variation.

Each unit's events against an exposure (residents for quarters; the average area
for beats, sectors and districts, which have no population), with exact Poisson
control limits (:mod:`openblotter.analysis.funnel`). Small counts are flagged and,
when the portal sets a threshold, suppressed with their complements.
"""

from __future__ import annotations

from typing import Any

from openblotter.analysis.caveats import (
    RESIDENTS_ARE_NOT_THE_POPULATION_AT_RISK,
    SMALL_NUMBERS,
    Caveat,
)
from openblotter.analysis.population import PopulationEstimate
from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.domain.query.filters import main_date_field
from openblotter.services import (
    disclosure,
    disclosure_analyses,
    periods,
    reading,
    recording,
    residents,
)
from openblotter.services.portal import Portal
from openblotter.services.requirements import A_DATE, require_fields

Params = list[tuple[str, str]]
FUNNEL_BY = ("beat", "sector", "district", "quarter")
#: Area or period values that place an event nowhere: counted apart, not charted.
UNPLACED = (None, "", "Unknown")

AVERAGE_UNIT = Caveat(
    "funnel_average_unit",
    "Compared with the average, not with residents",
    "The portal has no count of residents for each area, so each area's count is compared with "
    "the average area. An area with more people, more traffic or more calls for service will "
    "stand out for that reason alone.",
)

OVERDISPERSION = Caveat(
    "funnel_overdispersion",
    "The units differ for more reasons than chance",
    "Many units fall outside the 99.8% limits. The limits assume every unit has the same "
    "underlying rate; here they plainly do not, so the limits are too narrow to single one out.",
)

PARTIAL_QUARTERS = Caveat(
    "funnel_partial_quarters",
    "The first and last quarters may be incomplete",
    "A dataset often starts or ends part way through a quarter, and records of the latest "
    "quarter may still be coming in, so those quarters can look low for that reason alone.",
)

SUPPRESSED = Caveat(
    "suppressed_cells",
    "Small counts are hidden",
    "Counts below the portal's threshold are hidden to protect the people in them, and some "
    "other counts are hidden too so the small ones cannot be worked out from the totals.",
)


def population_total(portal: Portal) -> tuple[PopulationEstimate, dict[str, Any]] | None:
    """All residents and where the count comes from, or None when no demographics are published."""
    try:
        _, total, source = residents.residents_by_group(portal, "sex")
    except NotFound:
        return None
    return total, source


def funnel_by_choices(portal: Portal, dataset_id: str, filters: Params | None = None) -> list[str]:
    """The ``by`` values a dataset can be compared by: its area columns, and quarters of its dates."""
    schema = reading.target(portal, dataset_id, filters or []).schema
    return [
        by
        for by in FUNNEL_BY
        if schema.field(by) is not None or (by == "quarter" and main_date_field(schema))
    ]


def funnel(
    portal: Portal,
    dataset_id: str,
    *,
    by: str = "beat",
    period: str | None = None,
    filters: Params | None = None,
) -> dict[str, Any]:
    """Events per beat (sector, district) or per quarter against limits of chance variation."""
    dataset = portal.dataset(dataset_id)
    if by not in FUNNEL_BY:
        raise InvalidInput(
            f"'by' must be one of {', '.join(FUNNEL_BY)}, not '{by}'.",
            detail={"parameter": "by", "allowed": list(FUNNEL_BY)},
        )
    usable = funnel_by_choices(portal, dataset_id, filters)
    if by not in usable:
        raise InvalidInput(
            f"Dataset '{dataset_id}' has no {by} to compare; "
            + (f"choose 'by' from {', '.join(usable)}." if usable else "choose another dataset."),
            detail={"parameter": "by", "allowed": usable},
        )
    if period:  # a period is read from the dataset's main date
        require_fields(portal, dataset_id, f"funnel plot by {by}", [A_DATE], filters)
    release = portal.release(dataset_id, release_label(filters))
    chosen_period = periods.resolve(portal, dataset_id, period, filters or [])
    chosen = [*(filters or []), *chosen_period.filters]
    counts_only = disclosure.aggregates_only(portal, dataset_id)
    hidden: set[str] = set()
    if counts_only:  # from the release's protected table, with the units to hide
        groups, hidden = disclosure_analyses.funnel_groups(portal, dataset_id, by, chosen)
    else:
        # Unprotected counts: small units are suppressed below, with the funnel's own rule.
        groups = reading.aggregate(
            portal, dataset_id, [*chosen, ("_group", by), ("_agg", "count")]
        )["groups"]
    threshold = disclosure.threshold_for(portal, dataset_id)
    placed = {str(g[by]): int(g["count"]) for g in groups if g[by] not in UNPLACED}
    if not placed:
        raise InvalidInput(
            f"No event in '{dataset_id}' records a {by} under these filters; "
            "choose another 'by' or fewer filters.",
            detail={"parameter": "by"},
        )
    residents = population_total(portal) if by == "quarter" else None
    exposure, per = (residents[0].estimate, 1000.0) if residents else (1.0, 1.0)
    from openblotter.analysis.funnel import funnel_plot  # SciPy: imported on first use

    result = funnel_plot({unit: (n, exposure) for unit, n in placed.items()}, per=per)
    units = [_funnel_row(u.__dict__, portal.settings.small_number_threshold) for u in result.units]
    suppressed = _suppress_units(units, threshold)
    beyond = sum(
        1
        for u in units
        if u["position"] and "99.8%" in u["position"] and "within" not in u["position"]
    )
    caveats: list[Caveat | None] = [
        RESIDENTS_ARE_NOT_THE_POPULATION_AT_RISK if residents else AVERAGE_UNIT,
        _small_units(units, portal.settings.small_number_threshold),
    ]
    if by == "quarter":
        caveats.append(PARTIAL_QUARTERS)
    if beyond > max(1, 0.05 * len(units)):
        caveats.append(OVERDISPERSION)
    if suppressed or hidden:
        caveats.append(SUPPRESSED)
    flags = _recording_flags(portal, dataset_id, by, chosen_period, filters or [])
    body = {
        "dataset": dataset_id,
        "release": release.label,
        "by": by,
        "period": period,
        **{k: v for k, v in chosen_period.to_dict().items() if k != "period"},
        "filters": [list(f) for f in filters or [] if f[0] != "_release"],
        "basis": "residents" if residents else "average",
        "rate_unit": "events per 1,000 residents" if residents else f"events per {by}",
        "population_source": residents[1] if residents else None,
        "per": per,
        "target_rate": result.target_rate,
        "levels": list(result.levels),
        "units": units,
        "unplaced_events": _unplaced(groups, by, threshold),
        "beyond_99_8": beyond,
        "method": {"limits": result.method},
        "small_number_threshold": portal.settings.small_number_threshold,
        "suppression_threshold": threshold,
        "caveats": [c.to_dict() for c in caveats if c is not None] + flags["recording_caveats"],
        "recording_changes": flags["recording_changes"],
        "synthetic": dataset.synthetic,
    }
    return disclosure_analyses.protect_funnel(portal, body, hidden) if counts_only else body


def _recording_flags(
    portal: Portal, dataset_id: str, by: str, period: periods.Period, filters: Params
) -> dict[str, Any]:
    """Recording changes of the unit field (beats redrawn) or of a filtered value."""
    if period.first is None or period.last is None:
        return {"recording_changes": [], "recording_caveats": []}
    fields = [] if by == "quarter" else [by]
    return recording.flag(portal, dataset_id, fields, None, period.first, period.last, filters)


def _small_units(units: list[dict[str, Any]], small: int) -> Caveat | None:
    """The small-numbers caveat of a funnel plot: about its control limits, when a unit is small."""
    count = sum(1 for u in units if u["small"])
    if not count:
        return None
    return Caveat(
        SMALL_NUMBERS.key,
        SMALL_NUMBERS.title,
        f"{count} unit(s) have fewer than {small} events. The funnel's control limits widen "
        "for them, so a small unit falls outside only when its count is far from the average; "
        "within the limits does not mean it matches the average.",
    )


def release_label(filters: Params | None) -> str | None:
    """The `_release` among query parameters, if any."""
    return next((v for k, v in filters or [] if k == "_release"), None)


def _funnel_row(unit: dict[str, Any], small: int) -> dict[str, Any]:
    row = {
        k: unit[k] for k in ("unit", "events", "exposure", "rate", "expected_events", "position")
    }
    for limit in unit["limits"]:
        key = f"{limit.level * 100:g}".replace(".", "_")
        row[f"limit_{key}_low"], row[f"limit_{key}_high"] = limit.lower, limit.upper
    return {**row, "small": unit["events"] < small, "suppressed": None}


def _suppress_units(units: list[dict[str, Any]], threshold: int) -> int:
    if threshold <= 0:
        return 0
    from openblotter.analysis.suppression import suppress_counts  # SciPy: on first use

    hidden = suppress_counts({u["unit"]: u["events"] for u in units}, threshold=threshold)
    for unit, item in zip(units, hidden.items, strict=True):
        if item.count is None:
            unit.update(events=None, rate=None, position=None, suppressed=item.status)
    return sum(1 for item in hidden.items if item.count is None)


def _unplaced(groups: list[dict[str, Any]], by: str, threshold: int) -> int | None:
    """Events with no unit (blank beat); None when it is a count small enough to hide."""
    unplaced = sum(int(g["count"]) for g in groups if g[by] in UNPLACED)
    return None if 0 < unplaced < threshold else unplaced
