"""The Contacts export as the records system writes it on the last day of a quarter.

Cumulative: every person in every contact entered since 2016, with the values
the records held on that day (a case still Open, a race not yet corrected),
each record spelled as the system of its time wrote it (see codes.py).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from openblotter.demo import codes
from openblotter.demo.common import as_of
from openblotter.demo.hate_crimes import UNKNOWN_BIAS

BIAS_RECORDED_FROM = date(2021, 1, 1)

_STATUS_ERA_1 = {
    "Open": "OPEN",
    "Cleared by Arrest": "CLEARED BY ARREST",
    "Exceptionally Cleared": "EXCEPTIONALLY CLEARED",
    "Inactive": "INACTIVE",
    "Unfounded": "UNFOUNDED",
}


#: Raw columns each release needs to compute the values of its day.
_DYNAMIC = (
    "entered",
    "era",
    "kind",
    "role",
    "race",
    "race_shown",
    "race_fixed_on",
    "age",
    "age_fixed_on",
    "officer_race",
    "officer_race_recorded",
    "officer_race_fixed_on",
    "offense",
    "offense_code",
    "reclassified",
    "reclass_on",
    "hate_victim",
    "incident_date",
    "bias",
    "bias_found_on",
    "status",
    "status_due",
)


def prepare_contacts(people: pl.DataFrame) -> pl.DataFrame:
    """The columns that read the same in every release, written once; the rest stay raw."""
    ordered = people.sort("year", "case_number", "person_seq")
    return ordered.with_columns(codes.era(pl.col("entered")).alias("era")).select(
        *_DYNAMIC, *_static_columns(pl.col("era"))
    )


def _static_columns(era: pl.Expr) -> list[pl.Expr]:
    return [
        pl.col("kind").replace_strict(_KIND_LABELS, return_dtype=pl.String).alias("Contact Type"),
        pl.col("contact_id").alias("Contact No"),
        pl.col("person_seq").alias("Person Seq"),
        pl.col("case_number").alias("Case No"),
        codes.us_date(pl.col("incident_date")).alias("Date"),
        codes.clock(pl.col("minutes"), era).alias("Time"),
        pl.col("reason").alias("Reason"),
        codes.spell(pl.col("role"), era, codes.ROLE).alias("Role"),
        codes.spell(pl.col("sex"), era, codes.SEX).alias("Sex"),
        _birth_date().alias("DOB"),
        pl.col("officer_id").alias("Officer ID"),
        codes.spell(pl.col("officer_sex"), era, codes.SEX).alias("Officer Sex"),
        _years(pl.col("officer_birth"), pl.col("incident_date")).alias("Officer Age"),
        pl.col("officer_unit").alias("Unit"),
        pl.col("outcome").alias("Disposition"),
        codes.yes_no(
            pl.when(pl.col("kind") != "case").then(pl.col("outcome") == "Custodial Arrest"), era
        ).alias("Arrest"),
        codes.yes_no(
            pl.when(pl.col("kind").is_in(["stop", "arrest", "field"])).then(pl.col("search")), era
        ).alias("Search"),
        pl.col("search_type").alias("Search Type"),
        pl.col("address").alias("Address"),
        pl.col("beat").alias("Beat"),
        pl.col("district").alias("District"),
    ]


def contacts_export(prepared: pl.DataFrame, end: date) -> pl.DataFrame:
    """The export file's table for the release whose quarter ends on ``end``."""
    era = pl.col("era")
    race = as_of("race_shown", "race", "race_fixed_on", end)
    officer_race = as_of("officer_race_recorded", "officer_race", "officer_race_fixed_on", end)
    return prepared.filter(pl.col("entered") <= end).select(
        "Contact Type",
        "Contact No",
        "Person Seq",
        "Case No",
        "Date",
        "Time",
        "Reason",
        _offense(end).alias("Offense"),
        _offense_code(end).alias("Offense Code"),
        "Role",
        codes.spell(race, era, codes.RACE).alias("Race"),
        codes.ethnicity(race, era).alias("Ethnicity"),
        "Sex",
        _age(end).alias("Age"),
        "DOB",
        "Officer ID",
        codes.spell(officer_race, era, codes.RACE).alias("Officer Race"),
        "Officer Sex",
        "Officer Age",
        "Unit",
        "Disposition",
        "Arrest",
        "Search",
        "Search Type",
        _bias(end).alias("Bias Motivation"),
        _case_status(end, era).alias("Case Status"),
        "Address",
        "Beat",
        "District",
    )


_KIND_LABELS = {
    "stop": "Traffic",
    "tcite": "Citation - Traffic",
    "ncite": "Citation - Non-Traffic",
    "arrest": "Custodial Arrest",
    "field": "Field Interview",
    "case": "Offense Report",
}


def _reclassified(end: date) -> pl.Expr:
    return pl.col("reclassified").fill_null(False) & (pl.col("reclass_on") <= end)


def _offense(end: date) -> pl.Expr:
    return (
        pl.when(_reclassified(end)).then(pl.lit("Aggravated Assault")).otherwise(pl.col("offense"))
    )


def _offense_code(end: date) -> pl.Expr:
    return pl.when(_reclassified(end)).then(pl.lit("13A")).otherwise(pl.col("offense_code"))


def _age(end: date) -> pl.Expr:
    later = pl.col("age_fixed_on").is_not_null() & (pl.col("age_fixed_on") > end)
    unknown_suspect = (pl.col("role") == "S") & (pl.col("race") == "U")
    return pl.when(later | unknown_suspect).then(None).otherwise(pl.col("age"))


def _birth_date() -> pl.Expr:
    """Arrest records carry a date of birth (published only as an age)."""
    born = pl.col("incident_date").dt.offset_by(pl.format("-{}y", pl.col("age"))) - pl.duration(
        days=pl.col("dob_offset")
    )
    return pl.when(pl.col("role") == "R").then(codes.us_date(born))


def _years(born: pl.Expr, day: pl.Expr) -> pl.Expr:
    return ((day - born).dt.total_days() // 365.25).cast(pl.Int64)


def _bias(end: date) -> pl.Expr:
    """Bias motivation, recorded on the first victim's row from 2021 (Unknown until determined)."""
    recorded = pl.col("hate_victim").is_not_null() & (pl.col("incident_date") >= BIAS_RECORDED_FROM)
    pending = pl.col("bias_found_on").is_not_null() & (pl.col("bias_found_on") > end)
    return pl.when(recorded).then(
        pl.when(pending).then(pl.lit(UNKNOWN_BIAS)).otherwise(pl.col("bias"))
    )


def _case_status(end: date, era: pl.Expr) -> pl.Expr:
    status = pl.when(pl.col("status_due") <= end).then(pl.col("status")).otherwise(pl.lit("Open"))
    spelled = pl.when(era == 1).then(status.replace(_STATUS_ERA_1)).otherwise(status)
    return pl.when(pl.col("kind") == "case").then(spelled)
