"""The use-of-force export in its two layouts: before 2021 and from 2021 (see force.py)."""

from __future__ import annotations

from datetime import date

import polars as pl

from openblotter.demo import codes
from openblotter.demo.common import as_of

NEW_LAYOUT_FROM = date(2021, 1, 1)


def force_export(records: pl.DataFrame, end: date) -> pl.DataFrame:
    """The export of the release whose quarter ends on ``end``, in the layout of that time."""
    rows = (
        records.filter(pl.col("uof_entered") <= end)
        .sort("incident_id", "officer_seq")
        .with_columns(
            as_of("officer_race_recorded", "officer_race", "officer_race_fixed_on", end).alias(
                "officer_race_now"
            ),
            (pl.col("injury_recorded_on") <= end).alias("injury_known"),
            (pl.col("officer_injury_recorded_on") <= end).alias("officer_injury_known"),
            ((pl.col("incident_date") - pl.col("officer_hired")).dt.total_days() / 365.25).alias(
                "service"
            ),
            ((pl.col("incident_date") - pl.col("officer_birth")).dt.total_days() // 365.25)
            .cast(pl.Int64)
            .alias("officer_age"),
            _service_type().alias("service_type"),
        )
    )
    return _new_layout(rows) if end >= NEW_LAYOUT_FROM else _old_layout(rows)


def _service_type() -> pl.Expr:
    field_reason = (
        pl.when(pl.col("reason") == "Welfare Check")
        .then(pl.lit("Mental Health Call"))
        .otherwise(pl.lit("Suspicious Activity"))
    )
    return pl.when(pl.col("kind") == "arrest").then(pl.col("reason")).otherwise(field_reason)


def _when_known(flag: str, known: str, era: pl.Expr) -> pl.Expr:
    return codes.yes_no(pl.when(pl.col(known)).then(pl.col(flag)), era)


def _old_layout(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per officer and person; the force types in one cell; 12-hour times."""
    era = codes.era(pl.col("uof_entered"))
    return rows.select(
        pl.col("incident_id").alias("Incident Number"),
        pl.col("officer_seq").alias("Officer No"),
        codes.us_date(pl.col("incident_date")).alias("Date"),
        codes.clock_12h(pl.col("minutes")).alias("Time"),
        pl.col("service_type").alias("Service Type"),
        pl.col("force_reason").alias("Reason"),
        pl.col("forces").list.join(", ").alias("Force Types"),
        pl.col("officer_id").alias("Officer ID"),
        _when_known("officer_injured", "officer_injury_known", era).alias("Off Injured"),
        _when_known("officer_hospitalized", "officer_injury_known", era).alias("Off Hospitalized"),
        pl.col("service").floor().cast(pl.Int64).alias("Experience"),
        pl.col("officer_age").alias("Officer Age"),
        codes.spell(pl.col("officer_race_now"), era, codes.RACE).alias("Officer Race"),
        codes.spell(pl.col("officer_sex"), era, codes.SEX).alias("Officer Sex"),
        codes.yes_no(pl.col("kind") == "arrest", era).alias("Arrested"),
        pl.col("offense").alias("Charge"),
        _when_known("subject_injured", "injury_known", era).alias("Subj Injured"),
        _when_known("subject_hospitalized", "injury_known", era).alias("Subj Hospitalized"),
        codes.spell(pl.col("race"), era, codes.RACE).alias("Subject Race"),
        codes.spell(pl.col("sex"), era, codes.SEX).alias("Subject Sex"),
        pl.col("age").alias("Subject Age"),
        pl.col("address").alias("Address"),
        pl.col("beat").alias("Beat"),
        pl.col("district").alias("District"),
    )


def _new_layout(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per type of force; renamed, reordered columns; 24-hour times; new words."""
    era = pl.lit(3)
    actions = rows.with_columns(
        pl.int_ranges(1, pl.col("forces").list.len() + 1).alias("action_no"),
    ).explode("forces", "effective", "action_no")
    return actions.select(
        pl.col("incident_id").alias("IncidentNo"),
        pl.col("incident_date").dt.strftime("%Y-%m-%d").alias("OccurredDate"),
        codes.clock(pl.col("minutes"), era).alias("OccurredTime"),
        pl.col("officer_seq").alias("OfficerSeq"),
        pl.col("action_no").alias("ActionNo"),
        pl.col("forces").alias("ForceAction"),
        pl.col("effective").alias("ActionEffective"),
        pl.when(pl.col("forces") == "Taser Deployment")
        .then(pl.col("cew_cycles"))
        .alias("CEWCycles"),
        pl.col("officer_id").alias("Badge"),
        codes.spell(pl.col("officer_race_now"), era, codes.RACE).alias("OfficerRace"),
        codes.spell(pl.col("officer_sex"), era, codes.SEX).alias("OfficerGender"),
        pl.col("officer_age").alias("OfficerAge"),
        pl.col("service").round(1).alias("YearsOfService"),
        pl.col("officer_unit").alias("OfficerUnit"),
        _when_known("officer_injured", "officer_injury_known", era).alias("OfficerInjured"),
        _when_known("officer_hospitalized", "officer_injury_known", era).alias(
            "OfficerHospitalized"
        ),
        pl.col("service_type").alias("CallType"),
        pl.col("force_reason").alias("ForceReason"),
        codes.spell(pl.col("race"), era, codes.RACE).alias("SubjectRace"),
        codes.ethnicity(pl.col("race"), era).alias("SubjectEthnicity"),
        codes.spell(pl.col("sex"), era, codes.SEX).alias("SubjectGender"),
        pl.col("age").alias("SubjectAge"),
        pl.col("condition").alias("SubjectCondition"),
        _when_known("subject_injured", "injury_known", era).alias("SubjectInjured"),
        pl.when(pl.col("injury_known")).then(pl.col("injury_severity")).alias("SubjectInjury"),
        _when_known("subject_hospitalized", "injury_known", era).alias("SubjectHospitalized"),
        codes.yes_no(pl.col("kind") == "arrest", era).alias("SubjectArrested"),
        pl.col("offense").alias("Charge"),
        pl.col("address").alias("Location"),
        pl.col("beat").alias("Beat"),
        pl.col("district").alias("District"),
    )
