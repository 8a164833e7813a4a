"""The veil-of-darkness use case: stops of a dataset, at the portal's city, as Pierson et al. specify.

Reads the date, clock time, recorded race (with a separate ethnicity field
combined as the benchmark does) and area of each stop; refuses to run when
the portal has no location and time zone (sunset is meaningless elsewhere);
states the comparison, controls, window, sample and exclusions; and flags the
result when how race was recorded changed inside the stops' dates.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from openblotter.analysis.census_mapping import combined_race_ethnicity
from openblotter.domain.checkpoints import checked
from openblotter.domain.errors import InvalidInput
from openblotter.services import disclosure_analyses, periods, reading, recording
from openblotter.services.location import city_location
from openblotter.services.portal import Portal
from openblotter.services.requirements import require_fields
from openblotter.storage.budget import CURRENT_REQUEST, Gate

if TYPE_CHECKING:
    from openblotter.analysis.darkness import Place

#: Where a stop's area is read, coarsest first: the geography fixed effect of the model.
GEOGRAPHY_FIELDS = ("district", "sector", "beat")
DEFAULT_GROUP = "Black or African American"
DEFAULT_REFERENCE = "White"


def place_of(portal: Portal) -> Place:
    """The portal's city as a :class:`~openblotter.analysis.darkness.Place`, or a 400 naming the
    location settings to set (:func:`openblotter.services.location.city_location`)."""
    from openblotter.analysis.darkness import Place  # statsmodels: on first use

    return Place(*city_location(portal.settings))


def parse_controls(text: str | None) -> list[str] | None:
    """``controls=geography,year`` as a list; absent: None (the published default); ``none``: []."""
    if text is None or not text.strip():
        return None
    if text.strip().lower() == "none":
        return []
    return [c.strip() for c in text.split(",") if c.strip()]


def _stops(portal: Portal, dataset_id: str, filters: list[tuple[str, str]]) -> pl.DataFrame:
    columns = ["incident_date", "incident_time", "subject_race", "subject_ethnicity"]
    frame = reading.table(portal, dataset_id, filters, [*columns, *GEOGRAPHY_FIELDS])
    if not {"incident_date", "incident_time", "subject_race"} <= set(frame.columns):
        raise InvalidInput(
            f"Dataset '{dataset_id}' has no incident_date, incident_time and subject_race: the veil "
            "of darkness needs the date and clock time of each stop and the driver's recorded race.",
            detail={"dataset": dataset_id},
        )
    if "subject_ethnicity" in frame.columns:
        frame = frame.with_columns(combined_race_ethnicity("subject_race", "subject_ethnicity"))
    return frame


#: Results by release and parameters: the same test of the same release is answered once.
_DONE: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_KEPT = 256
_DONE_LOCK = threading.Lock()
#: Veils of darkness computed at once per process. Each is seconds of work in Python; more
#: at once only share the interpreter, and under 16 clients all of them finished late
#: (past the time limit) instead of most finishing soon.
_TURNS = Gate(2)


def _time_left(portal: Portal) -> float:
    """Seconds the request may still wait for a turn (its time limit, less what it used)."""
    request = CURRENT_REQUEST.get()
    if request is None or request.deadline is None:
        return portal.settings.query_timeout_seconds
    return request.deadline - time.monotonic()


def _geography(frame: pl.DataFrame) -> str | None:
    for name in GEOGRAPHY_FIELDS:
        if name in frame.columns and frame[name].drop_nulls().n_unique() > 1:
            return name
    return None


def darkness(
    portal: Portal,
    dataset_id: str,
    *,
    group: str = DEFAULT_GROUP,
    reference: str | None = DEFAULT_REFERENCE,
    controls: list[str] | None = None,
    period: str | None = "all",
    filters: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Veil of darkness for stops with a date and a clock time, at the portal's city.

    ``reference`` is the group compared with (``all``: every other driver of
    known race); ``controls`` the fixed effects (None: geography and year when
    the data has them, as published); ``period`` a year, quarter, last4q or all.
    """
    disclosure_analyses.refuse_analysis(portal, dataset_id, "veil of darkness")
    place = place_of(portal)
    needs = ["incident_date", "incident_time", "subject_race"]
    require_fields(portal, dataset_id, "veil of darkness", needs, filters)
    chosen_period = periods.resolve(portal, dataset_id, period, filters or [])
    release = reading.target(portal, dataset_id, filters or []).release
    key = (
        str(portal.settings.data_dir),
        release.file_key,
        place,
        group,
        reference,
        None if controls is None else tuple(controls),
        chosen_period.name,
        tuple(chosen_period.filters),
        tuple(filters or []),
    )
    body = _recalled(key)
    if body is None:
        with _TURNS.slot(wait=_time_left(portal)):
            body = _recalled(key)  # computed by a request ahead of this one meanwhile?
            if body is None:
                body = _veil(
                    portal, dataset_id, group, reference, controls, chosen_period, filters, place
                )
                _remember(key, body)
    return copy.deepcopy(body)


def _recalled(key: tuple[Any, ...]) -> dict[str, Any] | None:
    with _DONE_LOCK:
        return _DONE.get(key)


def _remember(key: tuple[Any, ...], body: dict[str, Any]) -> None:
    """Keep a result (a release never changes): the last ``_KEPT`` asked, a few kB each."""
    with _DONE_LOCK:
        _DONE[key] = body
        while len(_DONE) > _KEPT:
            _DONE.popitem(last=False)


def _veil(
    portal: Portal,
    dataset_id: str,
    group: str,
    reference: str | None,
    controls: list[str] | None,
    chosen_period: periods.Period,
    filters: list[tuple[str, str]] | None,
    place: Place,
) -> dict[str, Any]:
    from openblotter.analysis.darkness import veil_of_darkness  # statsmodels: on first use

    frame = _stops(portal, dataset_id, [*(filters or []), *chosen_period.filters])
    stops = frame.drop_nulls(["incident_date", "incident_time"])
    # Every stop goes in: one without a date or time is counted in excluded.missing_time.
    moments = [
        datetime.combine(d, t) if d is not None and t is not None else None
        for d, t in checked(zip(frame["incident_date"], frame["incident_time"], strict=True))
    ]
    area = _geography(frame)
    chosen_reference = None if (reference or "").strip().lower() in ("", "all") else reference
    result = veil_of_darkness(
        moments,
        frame["subject_race"].to_list(),
        group_of_interest=group,
        reference=chosen_reference,
        place=place,
        geography=frame[area].cast(pl.String).to_list() if area else None,
        geography_name=area or "area",
        controls=controls,
    )
    body: dict[str, Any] = {
        "dataset": dataset_id,
        "period": chosen_period.name,
        "group": group,
        "reference_group": chosen_reference or "all other known groups",
        "geography_field": area,
        "stops_without_time": frame.height - stops.height,
        **result.to_dict(),
        "available_controls": _available(area, result.first_date, result.last_date),
    }
    flags = recording.flag(
        portal,
        dataset_id,
        ["subject_race", "subject_ethnicity"],
        [group, chosen_reference] if chosen_reference else None,
        date.fromisoformat(result.first_date),
        date.fromisoformat(result.last_date),
        filters,
    )
    body.update(flags)
    body["reliable"] = bool(flags["recording_reliable"] and result.converged)
    body["caveats"] = flags["recording_caveats"]
    return body


def _available(area: str | None, first: str, last: str) -> list[str]:
    from openblotter.analysis.darkness import CONTROLS

    multi_year = first[:4] != last[:4]
    return [
        c for c in CONTROLS if (c != "geography" or area) and (c not in ("year",) or multi_year)
    ]
