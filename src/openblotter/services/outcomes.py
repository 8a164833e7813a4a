"""What happens after police act: outcomes per dataset family.

:func:`outcomes` counts what each family records about results: complaints by
channel and finding with sustained rates by complainant group, force by type
and injury, contacts by role and outcome, hate crimes by bias category and
year. Counts use the query API's filters; small cells are suppressed when the
portal sets a threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from openblotter.analysis.caveats import FINDINGS_ARE_ABOUT_ALLEGATIONS, SMALL_NUMBERS
from openblotter.analysis.census_mapping import combined_race_ethnicity
from openblotter.domain.errors import InvalidInput
from openblotter.services import disclosure, disclosure_outcomes, reading
from openblotter.services.funnel import SUPPRESSED, release_label
from openblotter.services.portal import Portal

Params = list[tuple[str, str]]
NOT_RECORDED = "Not recorded"
#: Findings that close an investigation of an allegation: the denominator of a sustained rate.
INVESTIGATED_FINDINGS = (
    "Sustained",
    "Not Sustained",
    "Exonerated",
    "Unfounded",
    "Policy Failure",
    "Other Than Sustained",
)
SUSTAINED_METHOD = (
    "sustained allegations / investigated allegations (findings: "
    + ", ".join(INVESTIGATED_FINDINGS)
    + "); exact (Clopper-Pearson) 95% binomial interval, scipy.stats.binomtest"
)


# --- outcomes ------------------------------------------------------------------------------


class _Source:
    """One dataset under the query API's filters, counted by groups of columns."""

    def __init__(self, portal: Portal, dataset_id: str, filters: Params) -> None:
        self.portal, self.dataset_id, self.filters = portal, dataset_id, filters
        self.columns = {f.name for f in reading.target(portal, dataset_id, filters).schema.fields}

    def counts(self, by: Sequence[str], unit: Sequence[str] = ()) -> pl.DataFrame:
        """Counts per group: rows (the query API's aggregate), or distinct ``unit`` keys."""
        unit = [u for u in unit if u in self.columns]
        if not unit:
            params = [*self.filters, ("_group", ",".join(by)), ("_agg", "count")]
            # Unprotected counts: the outcome tables suppress their own small cells.
            result = reading.aggregate(self.portal, self.dataset_id, params)
            if result["truncated"]:
                raise InvalidInput(f"More than {len(result['groups']):,} groups; add filters.")
            schema = {**{b: pl.String for b in by}, "count": pl.Int64}
            return pl.DataFrame(
                [{**g, **{b: _label(g[b]) for b in by}} for g in result["groups"]], schema=schema
            )
        frame = reading.table(self.portal, self.dataset_id, self.filters, [*by, *unit])
        return _labelled(frame.unique([*by, *unit]), by).group_by(by).len("count")

    def table(self, columns: Sequence[str]) -> pl.DataFrame:
        return reading.table(self.portal, self.dataset_id, self.filters, columns)


def _label(value: Any) -> str:
    if value is None or value == "":
        return NOT_RECORDED
    return (
        {True: "Yes", False: "No"}.get(value, str(value)) if isinstance(value, bool) else str(value)
    )


def _labelled(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Group labels as the tables show them: Yes/No for flags, "Not recorded" for blanks."""

    def label(name: str) -> pl.Expr:
        column = pl.col(name)
        if frame.schema[name] == pl.Boolean:
            return (
                pl.when(column)
                .then(pl.lit("Yes"))
                .when(~column)
                .then(pl.lit("No"))
                .otherwise(pl.lit(NOT_RECORDED))
            )
        text = column.cast(pl.String)
        return pl.when(text.is_null() | (text == "")).then(pl.lit(NOT_RECORDED)).otherwise(text)

    return frame.with_columns(label(c).alias(c) for c in columns)


def _count_table(
    source: _Source, key: str, title: str, column: str, unit_name: str, unit: Sequence[str] = ()
) -> dict[str, Any] | None:
    if column not in source.columns:
        return None
    counts = source.counts([column], unit).sort(["count", column], descending=[True, False])
    total = int(counts["count"].sum())
    rows = [
        {
            "value": r[column],
            "count": int(r["count"]),
            "share": r["count"] / total if total else None,
            "suppressed": None,
        }
        for r in counts.iter_rows(named=True)
    ]
    return {
        "key": key,
        "title": title,
        "kind": "counts",
        "dimensions": [column],
        "unit": unit_name,
        "total": total,
        "rows": rows,
    }


def _complaint_tables(source: _Source) -> list[dict[str, Any] | None]:
    complaint = ["complaint_id"]
    return [
        _count_table(
            source,
            "received_channel",
            "Complaints by how they were received",
            "received_channel",
            "complaints",
            complaint,
        ),
        _count_table(
            source, "anonymous", "Anonymous complaints", "anonymous", "complaints", complaint
        ),
        _count_table(
            source,
            "third_party",
            "Complaints made by a third party",
            "third_party",
            "complaints",
            complaint,
        ),
        _count_table(
            source,
            "finding",
            "Allegations by finding",
            "finding",
            "allegations",
            ["complaint_id", "allegation_number"],
        ),
        _sustained_table(source),
    ]


def _sustained_table(source: _Source) -> dict[str, Any] | None:
    if not {"finding", "subject_race"} <= source.columns:
        return None
    keys = [
        c for c in ("complaint_id", "allegation_number", "subject_ethnicity") if c in source.columns
    ]
    frame = source.table(["finding", "subject_race", *keys])
    if "subject_ethnicity" in frame.columns:
        frame = frame.with_columns(combined_race_ethnicity("subject_race", "subject_ethnicity"))
    unit = [c for c in ("complaint_id", "allegation_number") if c in frame.columns]
    investigated = _labelled(
        frame.filter(pl.col("finding").is_in(INVESTIGATED_FINDINGS)), ["subject_race"]
    )
    if unit:  # one allegation counted once per complainant group
        investigated = investigated.unique([*unit, "subject_race", "finding"])
    groups = (
        investigated.group_by("subject_race")
        .agg(
            pl.len().alias("allegations"),
            (pl.col("finding") == "Sustained").sum().alias("sustained"),
        )
        .sort(["allegations", "subject_race"], descending=[True, False])
    )
    rows = [
        _sustained_row(
            r["subject_race"],
            int(r["allegations"]),
            int(r["sustained"]),
            source.portal.settings.small_number_threshold,
        )
        for r in groups.iter_rows(named=True)
    ]
    return {
        "key": "sustained_by_group",
        "title": "Sustained rate by complainant group",
        "kind": "rates",
        "dimensions": ["subject_race"],
        "unit": "investigated allegations, per complainant group",
        "total": sum(r["allegations"] for r in rows),
        "rows": rows,
        "method": SUSTAINED_METHOD,
    }


def _sustained_row(group: str, allegations: int, sustained: int, small: int) -> dict[str, Any]:
    from scipy.stats import binomtest  # imported on first use, like the other statistics

    interval = binomtest(sustained, allegations).proportion_ci(
        confidence_level=0.95, method="exact"
    )
    return {
        "value": group,
        "allegations": allegations,
        "sustained": sustained,
        "sustained_rate": sustained / allegations,
        "ci_low": float(interval.low),
        "ci_high": float(interval.high),
        "reliable": allegations >= small,
        "suppressed": None,
        "notes": [],
    }


def _force_tables(source: _Source) -> list[dict[str, Any] | None]:
    return [
        _count_table(
            source, "force_type", "Force by type", "force_type", "force applications (rows)"
        ),
        _count_table(
            source,
            "subject_injured",
            "People on whom force was used, by injury",
            "subject_injured",
            "people in an incident",
            ["incident_id", "subject_id"],
        ),
    ]


def _contact_tables(source: _Source) -> list[dict[str, Any] | None]:
    tables = [
        _count_table(
            source,
            "subject_role",
            "Contacts by the person's role",
            "subject_role",
            "community members in a contact",
        ),
        _count_table(
            source, "outcome", "Contacts by outcome", "outcome", "community members in a contact"
        ),
    ]
    recorded = _count_table(source, "bias_category", "", "bias_category", "")
    if recorded and any(
        r["value"] not in (NOT_RECORDED, "None (no bias)") for r in recorded["rows"]
    ):
        tables.append(_bias_table(source))
    return tables


def _bias_table(source: _Source) -> dict[str, Any] | None:
    if "bias_category" not in source.columns:
        return None
    counts = source.counts(["year", "bias_category"]).filter(
        pl.col("bias_category") != "None (no bias)"
    )
    counts = counts.sort(["year", "bias_category"])
    rows = [
        {
            "year": r["year"],
            "bias_category": r["bias_category"],
            "count": int(r["count"]),
            "suppressed": None,
        }
        for r in counts.iter_rows(named=True)
    ]
    return {
        "key": "bias_by_year",
        "title": "Offenses with a bias motivation, by category and year",
        "kind": "crosstab",
        "dimensions": ["year", "bias_category"],
        "unit": "bias motivations of offenses (rows)",
        "total": sum(r["count"] for r in rows),
        "rows": rows,
    }


def _hate_crime_tables(source: _Source) -> list[dict[str, Any] | None]:
    return [_bias_table(source)]


FAMILY_TABLES: dict[str, Callable[[_Source], list[dict[str, Any] | None]]] = {
    "complaints": _complaint_tables,
    "use_of_force": _force_tables,
    "contacts": _contact_tables,
    "hate_crimes": _hate_crime_tables,
}


def outcomes(portal: Portal, dataset_id: str, *, filters: Params | None = None) -> dict[str, Any]:
    """The outcome tables of a dataset's family, with intervals, suppression and caveats."""
    if disclosure.aggregates_only(portal, dataset_id):  # from the protected tables
        return disclosure_outcomes.outcomes(portal, dataset_id, filters or [])
    dataset = portal.dataset(dataset_id)
    builder = FAMILY_TABLES.get(dataset.family or "")
    if builder is None:
        eligible = [d.id for d in portal.catalog.datasets() if d.family in FAMILY_TABLES]
        raise InvalidInput(
            f"'{dataset_id}' is {'a ' + dataset.family + ' dataset' if dataset.family else 'a custom dataset'}; "
            "outcomes are counted for complaints, use of force, contacts and hate crimes.",
            detail={"parameter": "dataset", "allowed": eligible},
        )
    source = _Source(portal, dataset_id, filters or [])
    tables = [t for t in builder(source) if t is not None]
    threshold = disclosure.threshold_for(portal, dataset_id)
    hidden = sum(_suppress_table(t, threshold) for t in tables) if threshold > 0 else 0
    caveats = [FINDINGS_ARE_ABOUT_ALLEGATIONS] if dataset.family == "complaints" else []
    # The small-numbers caveat speaks of rates and intervals: only tables of rates carry them.
    unreliable = any(
        r.get("reliable") is False for t in tables if t["kind"] == "rates" for r in t["rows"]
    )
    caveats += ([SMALL_NUMBERS] if unreliable else []) + ([SUPPRESSED] if hidden else [])
    flags = _recording_flags(portal, dataset_id, tables, filters or [])
    return {
        "dataset": dataset_id,
        "family": dataset.family,
        "release": portal.release(dataset_id, release_label(filters)).label,
        "filters": [list(f) for f in filters or [] if f[0] != "_release"],
        "tables": {t["key"]: t for t in tables},
        "suppression_threshold": threshold,
        "small_number_threshold": portal.settings.small_number_threshold,
        "suppressed_cells": hidden,
        "caveats": [c.to_dict() for c in caveats] + flags["recording_caveats"],
        "recording_changes": flags["recording_changes"],
        "synthetic": dataset.synthetic,
    }


def _recording_flags(
    portal: Portal, dataset_id: str, tables: list[dict[str, Any]], filters: Params
) -> dict[str, Any]:
    """Recording changes of the fields the tables count by, each table told which are its own."""
    from openblotter.services import recording

    fields = sorted({d for t in tables for d in t["dimensions"]} | {"subject_ethnicity"})
    flags = recording.flag_whole(portal, dataset_id, fields, filters)
    for table in tables:
        table["recording_changes"] = [
            c
            for c in flags["recording_changes"]
            if c["field"] in table["dimensions"]
            or (c["field"] == "subject_ethnicity" and "subject_race" in table["dimensions"])
        ]
        if table["kind"] == "rates":  # rates by group: a group's own change lowers its rate
            for row in table["rows"]:
                own = [c for c in table["recording_changes"] if c["category"] == row["value"]]
                recording.mark_row(row, own, [])
    return flags


def _suppress_table(table: dict[str, Any], threshold: int) -> int:
    """Hide small cells of one outcome table in place; the number of cells hidden."""
    from openblotter.analysis.suppression import suppress_counts, suppress_table  # SciPy

    rows = table["rows"]
    if table["kind"] == "counts":
        items = suppress_counts({r["value"]: r["count"] for r in rows}, threshold=threshold).items
        for row, item in zip(rows, items, strict=True):
            if item.count is None:
                row.update(count=None, share=None, suppressed=item.status)
        return sum(1 for item in items if item.count is None)
    if table["kind"] == "rates":
        cells = [[r["sustained"], r["allegations"] - r["sustained"]] for r in rows]
        names = [r["value"] for r in rows]
        result = suppress_table(
            cells, rows=names, columns=["sustained", "other"], threshold=threshold
        )
        status = {c.row: c.status for c in result.cells if c.count is None}
        for row in rows:
            if row["value"] in status:
                row.update(
                    sustained=None,
                    sustained_rate=None,
                    ci_low=None,
                    ci_high=None,
                    suppressed=status[row["value"]],
                )
        return len(status)
    years = sorted({r["year"] for r in rows})
    categories = sorted({r["bias_category"] for r in rows})
    grid = {(r["year"], r["bias_category"]): r["count"] for r in rows}
    result = suppress_table(
        [[grid.get((y, c), 0) for c in categories] for y in years],
        rows=years,
        columns=categories,
        threshold=threshold,
    )
    hidden = {(c.row, c.column): c.status for c in result.cells if c.count is None}
    for row in rows:
        if (row["year"], row["bias_category"]) in hidden:
            row.update(count=None, suppressed=hidden[(row["year"], row["bias_category"])])
    return len(hidden)
