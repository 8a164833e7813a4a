"""How recording changed: abrupt shifts in the coded fields of a release, and the flags they raise.

:func:`changes` counts each coded field of a release month by month and runs
:func:`openblotter.analysis.recording.detect_changes` on it (cached per
release file: a release never changes). :func:`flag` tells an analysis
whether its period or comparison spans such a change, with a caveat written
from the changes it found, so the figure and its warning cannot disagree.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import polars as pl

from openblotter.analysis.caveats import Caveat
from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.domain.query.filters import main_date_field
from openblotter.services import disclosure, reading
from openblotter.services.portal import Portal

#: A field with more distinct values than this is not a code list (names, addresses, ids).
MAX_CATEGORIES = 30
NOT_RECORDED = "Not recorded"
#: Values that say nothing was recorded: a change in their share is stated, not held against rates.
MISSING = (NOT_RECORDED, "Unknown")
_SKIP_SUFFIXES = ("_id", "_number", "_name", "_address")
WINDOW_MONTHS = 6
_CACHE: dict[tuple[str, str, str], dict[str, Any]] = {}
#: One lock per release being checked: under 16 clients every analysis page asked for the
#: same release's changes at once, each computed them, and none finished in time.
_LOCKS: dict[tuple[str, str, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def changes(portal: Portal, dataset_id: str, release: str | None = None) -> dict[str, Any]:
    """Every recording change of a release's coded fields, with the method that found them."""
    from openblotter.analysis.recording import method_text

    t = reading.target(portal, dataset_id, [("_release", release)] if release else [])
    key = (str(portal.settings.data_dir), dataset_id, t.release.checksum)
    if key not in _CACHE:
        with _computing(key):  # one request computes it; the others wait for its result
            if key not in _CACHE:
                with reading.shared_work():
                    found = _detect(portal, dataset_id, t)
                if len(_CACHE) > 64:
                    _CACHE.clear()
                _CACHE[key] = found
    found = _CACHE[key]
    listed = found["changes"]
    withheld = disclosure.aggregates_only(portal, dataset_id)
    if withheld:
        # Shares of six-month windows are counts outside the protected tables: not listed.
        listed = []
    return {
        "dataset": dataset_id,
        "release": t.release.label,
        "date_field": found["date_field"],
        "fields_checked": found["fields"],
        "months": found["months"],
        # Six months either side of a boundary, with enough records, before anything can be found.
        "testable": found["months"] >= 2 * WINDOW_MONTHS,
        "method": method_text(window=WINDOW_MONTHS),
        "changes": listed,
        "withheld": withheld,
    }


@contextmanager
def _computing(key: tuple[str, str, str]) -> Iterator[None]:
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:
        yield


def _detect(portal: Portal, dataset_id: str, t: Any) -> dict[str, Any]:
    from openblotter.analysis.recording import detect_changes

    source = main_date_field(t.schema)
    if source is None:
        return {"date_field": None, "fields": [], "changes": [], "months": 0}
    fields = _coded_fields(t.schema)
    release = [("_release", t.release.label)]
    months = reading.table(portal, dataset_id, release, [source.name])
    covered = months[source.name].drop_nulls().dt.strftime("%Y-%m").n_unique()
    found: list[dict[str, Any]] = []
    checked: list[str] = []
    for field in fields:
        # One field at a time beside the date: memory stays two columns, whatever the width.
        frame = reading.table(portal, dataset_id, release, [source.name, field])
        if field not in frame.columns or frame[field].drop_nulls().n_unique() < 1:
            continue
        frame = frame.filter(pl.col(source.name).is_not_null()).with_columns(
            pl.col(source.name).dt.strftime("%Y-%m").alias("_month")
        )
        monthly = _monthly(frame, field)
        if monthly is None:
            continue
        checked.append(field)
        month_labels, counts = monthly
        found += [
            c.to_dict() for c in detect_changes(field, month_labels, counts, window=WINDOW_MONTHS)
        ]
    return {"date_field": source.name, "fields": checked, "changes": found, "months": covered}


def _coded_fields(schema: Any) -> list[str]:
    return [
        f.name
        for f in schema.published_fields()
        if f.type in ("string", "boolean")
        and not f.free_text
        and f.privacy is None
        and f.name != "record_id"
        and not f.name.endswith(_SKIP_SUFFIXES)
    ]


def _monthly(frame: pl.DataFrame, field: str) -> tuple[list[str], dict[str, list[int]]] | None:
    """Records per month and value of one field (every calendar month from first to last)."""
    grouped = frame.group_by(["_month", field]).len("count")
    values = {_label(v) for v in grouped[field].to_list()}
    if grouped.height == 0 or len(values) > MAX_CATEGORIES or len(values) < 2:
        return None
    months = _calendar(str(grouped["_month"].min()), str(grouped["_month"].max()))
    position = {m: i for i, m in enumerate(months)}
    counts = {v: [0] * len(months) for v in values}
    for month, value, count in grouped.iter_rows():
        counts[_label(value)][position[month]] += int(count)
    return months, counts


def _label(value: Any) -> str:
    if value is None or value == "":
        return NOT_RECORDED
    return (
        {True: "Yes", False: "No"}.get(value, str(value)) if isinstance(value, bool) else str(value)
    )


def _calendar(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def flag(
    portal: Portal,
    dataset_id: str,
    fields: list[str],
    categories: list[str] | None,
    first: date,
    last: date,
    filters: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The recording changes an analysis of ``first``..``last`` must state, and its reliability.

    Beside ``fields``, a filter on a coded value (``subject_race=Hispanic or
    Latino``) makes the changes of that value relevant: the events it selects
    were recorded differently before and after.

    A change of one of ``fields`` (in one of ``categories``; None: any) inside
    the period makes the figure mix two ways of recording (``spans``); a period
    wholly before a change uses a way of recording the department later
    replaced (``before``); both lower the figure's reliability. A period wholly
    after a change is only noted (``after``): compare it with earlier periods
    with care.
    """
    try:
        listed = changes(portal, dataset_id)["changes"]
    except (InvalidInput, NotFound):
        return {"recording_changes": [], "recording_reliable": True, "recording_caveats": []}
    chosen = {(k, v) for k, v in filters or [] if not k.startswith("_")}
    relevant = []
    for change in listed:
        used = change["field"] in fields and (
            categories is None or change["category"] in categories
        )
        if used or (change["field"], change["category"]) in chosen:
            relevant.append({**change, "position": position(change["month"], first, last)})
    reliable = not any(lowers_reliability(c) for c in relevant)
    caveats = [recording_caveat(relevant, first, last).to_dict()] if relevant else []
    return {
        "recording_changes": relevant,
        "recording_reliable": reliable,
        "recording_caveats": caveats,
    }


def lowers_reliability(change: dict[str, Any]) -> bool:
    """A change inside or after the period, of a value (not of blanks, which every analysis
    leaves out of its rates and counts apart), makes the figure not reliable."""
    return change["position"] in ("spans", "before") and change["category"] not in MISSING


_WHERE = {
    "spans": "this period spans the change",
    "before": "this period lies before it, in the way of recording later replaced",
    "after": "this period lies after it",
}


def mark_row(row: dict[str, Any], own: list[dict[str, Any]], shared: list[dict[str, Any]]) -> None:
    """Note on one table row the changes of its own group, once those that touch every row,
    and lower its reliability when one of them calls for it."""
    for change in own:
        row["notes"].append(
            f"How '{change['category']}' was recorded changed from {change['month']} "
            f"({change['share_before']:.1%} of records before, {change['share_after']:.1%} "
            f"after); {_WHERE[change['position']]}."
        )
    if shared:
        row["notes"].append(
            "A field these figures count or filter on changed how it was recorded during "
            "this period (see the warning beside the figure)."
        )
    if row.get("reliable") is not None and any(lowers_reliability(c) for c in own + shared):
        row["reliable"] = False
    row["recording_change"] = bool(own or shared)


def position(month: str, first: date, last: date) -> str:
    """Where a change starting in ``month`` (YYYY-MM) falls against the period first..last."""
    start = date(int(month[:4]), int(month[5:7]), 1)
    if last < start:
        return "before"
    if first >= start:
        return "after"
    return "spans"


def recording_caveat(relevant: list[dict[str, Any]], first: date, last: date) -> Caveat:
    """A caveat naming each change, where the period falls, and what to do."""
    said = {
        "spans": "the period spans it, so the figure mixes two ways of recording",
        "before": "the period lies wholly before it, in the way of recording later replaced",
        "after": "the period lies wholly after it; earlier periods were recorded differently",
    }
    parts = [
        f"{c['field']} '{c['category']}' went from {c['share_before']:.1%} of records to "
        f"{c['share_after']:.1%} from {c['month']} ({said[c['position']]})"
        for c in relevant
    ]
    return Caveat(
        "recording_changed",
        "How the data was recorded changed",
        f"Between {first.isoformat()} and {last.isoformat()}: " + "; ".join(parts) + ". A change "
        "this abrupt is usually a change in how records are filled in, not in what police do. "
        "Compare periods on the same side of the change, or control for year.",
    )


def for_dataset_page(portal: Portal, dataset_id: str) -> dict[str, Any] | None:
    """The current release's recording changes, or None when there is nothing to read."""
    try:
        return changes(portal, dataset_id)
    except (InvalidInput, NotFound):
        return None


def flag_whole(
    portal: Portal, dataset_id: str, fields: list[str], filters: list[tuple[str, str]]
) -> dict[str, Any]:
    """:func:`flag` for an analysis without a period: the span of the events it counts."""
    from openblotter.services.periods import span

    found = span(portal, dataset_id, filters)
    if found is None:
        return {"recording_changes": [], "recording_reliable": True, "recording_caveats": []}
    return flag(portal, dataset_id, fields, None, found[0], found[1], filters)
