"""The outcome-test use case: search, hit and arrest rates by group in a stops (contacts) dataset.

Counts one row per person in a contact, under the query API's filters and a
period read from the data's dates; groups by recorded race (combined with a
separate ethnicity field as the benchmark does) or sex; rates come from
:mod:`openblotter.analysis.outcome_tests` with exact intervals; the caveats
follow what was computed (no infra-marginality caveat without hit rates) and
recording changes of the fields involved are flagged.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from openblotter.analysis.census_mapping import combined_race_ethnicity
from openblotter.domain.errors import InvalidInput
from openblotter.services import disclosure_analyses, periods, reading, recording
from openblotter.services.portal import Portal

Params = list[tuple[str, str]]
BY = ("subject_race", "subject_sex")
NOT_RECORDED = "Not recorded"
OUTCOME_FIELDS = ("search_conducted", "contraband_found", "arrest_made")


def _frame(portal: Portal, dataset_id: str, by: str, filters: Params) -> pl.DataFrame:
    columns = [by, "subject_ethnicity", *OUTCOME_FIELDS, "outcome"]
    frame = reading.table(portal, dataset_id, filters, columns)
    if by not in frame.columns or "search_conducted" not in frame.columns:
        raise InvalidInput(
            f"Dataset '{dataset_id}' does not record {by} and search_conducted: an outcome test "
            "needs the group of each stopped person and whether they were searched.",
            detail={"dataset": dataset_id, "fields_needed": [by, "search_conducted"]},
        )
    if by == "subject_race" and "subject_ethnicity" in frame.columns:
        frame = frame.with_columns(combined_race_ethnicity("subject_race", "subject_ethnicity"))
    if "arrest_made" not in frame.columns and "outcome" in frame.columns:
        # Without an arrest flag, an arrest is an outcome of Arrest; other outcomes are not.
        arrested = pl.when(pl.col("outcome").is_null() | (pl.col("outcome") == "Unknown"))
        frame = frame.with_columns(
            arrested.then(None).otherwise(pl.col("outcome") == "Arrest").alias("arrest_made")
        )
    label = pl.col(by).cast(pl.String)
    return frame.with_columns(
        pl.when(label.is_null() | (label == ""))
        .then(pl.lit(NOT_RECORDED))
        .otherwise(label)
        .alias(by)
    )


def _counts(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    has = set(frame.columns)
    searched = pl.col("search_conducted") == True  # noqa: E712 - polars boolean expression
    aggregates = [
        pl.len().alias("stops"),
        searched.sum().alias("searches"),
        pl.col("search_conducted").is_not_null().sum().alias("search_recorded"),
    ]
    if "contraband_found" in has:
        aggregates += [
            (searched & (pl.col("contraband_found") == True)).sum().alias("hits"),  # noqa: E712
            (searched & pl.col("contraband_found").is_not_null()).sum().alias("hit_recorded"),
        ]
    if "arrest_made" in has:
        aggregates += [
            (pl.col("arrest_made") == True).sum().alias("arrests"),  # noqa: E712
            pl.col("arrest_made").is_not_null().sum().alias("arrest_recorded"),
        ]
    return frame.group_by(by).agg(aggregates).sort(["stops", by], descending=[True, False])


def outcome_tests(
    portal: Portal,
    dataset_id: str,
    *,
    by: str = "subject_race",
    period: str | None = "all",
    filters: Params | None = None,
) -> dict[str, Any]:
    """Search, hit and arrest rates per group with exact intervals, method and caveats."""
    from openblotter.analysis.outcome_tests import group_outcomes, method_text, outcome_caveats

    if by not in BY:
        raise InvalidInput(
            f"'by' must be one of {', '.join(BY)}.", detail={"parameter": "by", "allowed": list(BY)}
        )
    disclosure_analyses.refuse_analysis(portal, dataset_id, "outcome tests")
    dataset = portal.dataset(dataset_id)
    chosen_period = periods.resolve(portal, dataset_id, period, filters or [])
    frame = _frame(portal, dataset_id, by, [*(filters or []), *chosen_period.filters])
    has_hits = (
        "contraband_found" in frame.columns and frame["contraband_found"].drop_nulls().len() > 0
    )
    has_arrests = "arrest_made" in frame.columns
    small = portal.settings.small_number_threshold
    rows = []
    for r in _counts(frame, by).iter_rows(named=True):
        result = group_outcomes(
            r[by],
            int(r["stops"]),
            searches=(int(r["searches"]), int(r["search_recorded"])),
            hits=(int(r["hits"]), int(r["hit_recorded"])) if has_hits else None,
            arrests=(int(r["arrests"]), int(r["arrest_recorded"])) if has_arrests else None,
            min_events=small,
        )
        rows.append(_row(result.to_dict()))
    flags = _flag(portal, dataset_id, by, chosen_period, rows, filters or [])
    caveats = outcome_caveats(
        has_hits=has_hits,
        has_searches=True,
        unreliable=sum(1 for r in rows if not r["reliable"]),
        min_events=small,
    )
    body = {
        "dataset": dataset_id,
        "release": portal.release(dataset_id, _release(filters)).label,
        "by": by,
        **chosen_period.to_dict(),
        "filters": [list(f) for f in filters or [] if f[0] != "_release"],
        "event_unit": "one person in one stop (one row of the dataset)",
        "stops_total": frame.height,
        "rows": rows,
        "method": method_text(has_hits=has_hits, has_arrests=has_arrests),
        "measures": {
            "search_rate": "searches / stops that record whether there was a search",
            "hit_rate": "searches that found contraband / searches that record what was found"
            if has_hits
            else None,
            "arrest_rate": "arrests / stops that record whether there was an arrest"
            if has_arrests
            else None,
        },
        "caveats": [c.to_dict() for c in caveats] + flags["recording_caveats"],
        "recording_changes": flags["recording_changes"],
        "synthetic": dataset.synthetic,
    }
    return body


def _release(filters: Params | None) -> str | None:
    return next((v for k, v in filters or [] if k == "_release"), None)


def _row(group: dict[str, Any]) -> dict[str, Any]:
    """One flat row (the CSV's and the page's): counts, rates and interval ends."""
    row: dict[str, Any] = {k: group[k] for k in ("group", "stops", "searches", "hits", "arrests")}
    for name in ("search_rate", "hit_rate", "arrest_rate"):
        rate = group[name] or {}
        row[f"{name}_denominator"] = rate.get("denominator")
        row[name] = rate.get("rate")
        row[f"{name}_ci_low"] = rate.get("ci_low")
        row[f"{name}_ci_high"] = rate.get("ci_high")
    return {**row, "reliable": group["reliable"], "notes": list(group["notes"])}


def _flag(
    portal: Portal,
    dataset_id: str,
    by: str,
    period: periods.Period,
    rows: list[dict[str, Any]],
    filters: Params,
) -> dict[str, Any]:
    """Rows of a group (or every row, for an outcome field) whose recording changed."""
    if period.first is None or period.last is None:
        return {"recording_changes": [], "recording_caveats": []}
    fields = (
        [by, "subject_ethnicity", *OUTCOME_FIELDS]
        if by == "subject_race"
        else [by, *OUTCOME_FIELDS]
    )
    flags = recording.flag(portal, dataset_id, fields, None, period.first, period.last, filters)
    grouped = (by, "subject_ethnicity")
    for row in rows:
        changes = flags["recording_changes"]
        own = [c for c in changes if c["field"] in grouped and c["category"] == row["group"]]
        shared = [c for c in changes if c["field"] not in grouped]
        recording.mark_row(row, own, shared)
    return flags
