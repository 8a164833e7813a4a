"""Complaints and inquiries: about 35 complaints and 22 inquiries a year, with findings.

A complaint names one or two officers (who had contacts that month) and one to
three allegations against each; each row is one allegation for one
complainant. Every allegation is Pending until the investigation closes
(weeks to months later), then gets its finding; a few sustained findings are
reversed on appeal months after that. Complaints from inside the department
are sustained more often. Inquiries (questions about police conduct that are
not personnel complaints) close quickly with No Finding; in 2017 they were
closed as "Admin Closure", a code no map knows, until a clean-up in mid-2019.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from openblotter.demo import codes
from openblotter.demo.common import (
    DemoSpan,
    as_of,
    days_of_year,
    event_days,
    lags,
    pick,
    stream,
    table,
)
from openblotter.demo.contacts import officers_that_month
from openblotter.demo.people import draw
from openblotter.demo.roster import RANKS, Roster

ALLEGATIONS = {
    "Discourtesy": 0.25,
    "Improper Procedure": 0.2,
    "Excessive Force": 0.12,
    "Conduct Unbecoming": 0.12,
    "Neglect of Duty": 0.1,
    "Bias-Based Policing": 0.06,
    "Improper Search or Seizure": 0.07,
    "Untruthfulness": 0.03,
    "Department Vehicle Collision": 0.05,
}
EXTERNAL_FINDINGS = {
    "Sustained": 0.12,
    "Not Sustained": 0.2,
    "Exonerated": 0.27,
    "Unfounded": 0.3,
    "Policy Failure": 0.02,
    "Informally Resolved": 0.06,
    "Withdrawn": 0.03,
}
INTERNAL_FINDINGS = {
    "Sustained": 0.5,
    "Not Sustained": 0.2,
    "Exonerated": 0.15,
    "Unfounded": 0.1,
    "Policy Failure": 0.05,
}
DISCIPLINE = {
    "Counseling": 0.3,
    "Written Reprimand": 0.35,
    "Training": 0.15,
    "Suspension": 0.17,
    "Termination": 0.03,
}
CHANNELS = {"Online Form": 0.22, "E-mail": 0.2, "Phone": 0.25, "Walk-in": 0.2, "Letter": 0.13}
ADMIN_CLOSURE = "Admin Closure"
CLEAN_UP = date(2019, 6, 30)


def build_complaints(
    seed: int, span: DemoSpan, contacts: pl.DataFrame, roster: Roster
) -> pl.DataFrame:
    """One row per allegation and complainant, with each finding's dates."""
    years = [_year(seed, year, span) for year in span.years]
    cases = pl.concat([y for y in years if y.height])
    rows = _allegations(stream(seed, "complaints", "allegations"), cases, contacts)
    rows = _complainants(stream(seed, "complaints", "complainants"), rows)
    return rows.join(roster.frame(), on="officer", how="left").with_columns(
        pl.Series("rank_index", _ranks(rows, roster))
    )


def _year(seed: int, year: int, span: DemoSpan) -> pl.DataFrame:
    rng = stream(seed, "complaints", year)
    days = days_of_year(year, span)
    received = event_days(rng, days, 57)
    n = received.size
    inquiry = rng.random(n) < 22 / 57
    order = np.argsort(received, kind="stable")
    received, inquiry = received[order], inquiry[order]
    internal = ~inquiry & (rng.random(n) < 0.15)
    channels = (
        dict(CHANNELS)
        if year >= 2018
        else {k: v for k, v in CHANNELS.items() if k != "Online Form"}
    )
    return table(
        {
            "complaint_id": [
                f"{'IQ' if q else 'IA'}{year}-{i + 1:03d}" for i, q in enumerate(inquiry)
            ],
            "inquiry": inquiry,
            "internal": internal,
            "received": received,
            "incident_date": received - lags(rng, n, 12),
            "closed": received
            + np.where(inquiry, lags(rng, n, 15, least=2), lags(rng, n, 90, least=20)),
            "channel": np.where(internal, "Other", pick(rng, channels, n)),
            "anonymous": ~internal & (rng.random(n) < 0.08),
            "third_party": ~internal & (rng.random(n) < 0.06),
            "officers": np.where(
                inquiry, (rng.random(n) < 0.6).astype(int), rng.choice([1, 2], n, p=[0.8, 0.2])
            ),
            "complainants": rng.choice([1, 2], n, p=[0.9, 0.1]),
        }
    ).with_columns(pl.col("received", "incident_date", "closed").cast(pl.Date))


def _allegations(
    rng: np.random.Generator, cases: pl.DataFrame, contacts: pl.DataFrame
) -> pl.DataFrame:
    """One row per allegation: an officer who had contacts that month, and the finding to come."""
    rows = cases.with_columns(
        pl.int_ranges(0, pl.col("officers").clip(lower_bound=1)).alias("officer_seq"),
    ).explode("officer_seq")
    counts = rng.choice([1, 2, 3], size=rows.height, p=[0.65, 0.25, 0.1])
    rows = rows.with_columns(
        pl.when(pl.col("inquiry")).then(1).otherwise(pl.Series(counts)).alias("allegation_count")
    )
    rows = rows.with_columns(pl.int_ranges(0, pl.col("allegation_count")).alias("a")).explode("a")
    rows = rows.with_columns(
        (pl.int_range(pl.len()).over("complaint_id") + 1).alias("allegation_number")
    )
    n = rows.height
    internal = rows["internal"].to_numpy()
    finding = np.where(internal, pick(rng, INTERNAL_FINDINGS, n), pick(rng, EXTERNAL_FINDINGS, n))
    reversed_ = (finding == "Sustained") & (rng.random(n) < 0.06)
    return rows.with_columns(
        pl.Series("officer", _officers(rng, rows, contacts)),
        pl.Series("allegation", pick(rng, ALLEGATIONS, n), dtype=pl.String),
        pl.Series("finding", finding, dtype=pl.String),
        pl.Series("discipline", pick(rng, DISCIPLINE, n), dtype=pl.String),
        pl.Series(
            "reversed_on",
            np.where(
                reversed_,
                rows["closed"].to_numpy() + lags(rng, n, 150, least=30),
                np.datetime64("NaT"),
            ).astype("datetime64[D]"),
        ).cast(pl.Date),
    ).with_columns(
        pl.when(pl.col("officers") == 0).then(None).otherwise(pl.col("officer")).alias("officer")
    )


def _officers(rng: np.random.Generator, rows: pl.DataFrame, contacts: pl.DataFrame) -> np.ndarray:
    """An officer with contacts in the incident's month, the same for each of their allegations."""
    drawn = officers_that_month(rng, contacts, rows["incident_date"].to_numpy())
    slots = rows.select("complaint_id", "officer_seq").with_columns(pl.Series("o", drawn))
    return slots.with_columns(pl.col("o").first().over("complaint_id", "officer_seq"))[
        "o"
    ].to_numpy()


def _complainants(rng: np.random.Generator, rows: pl.DataFrame) -> pl.DataFrame:
    rows = rows.with_columns(
        pl.int_ranges(1, pl.col("complainants") + 1).alias("complainant_number")
    ).explode("complainant_number")
    people = draw(rng, "complainant", rows.height)
    unknown = (rows["anonymous"] | rows["internal"]).to_numpy()
    return rows.with_columns(
        pl.Series("c_race", np.where(unknown, None, people["race"]), dtype=pl.String),
        pl.Series("c_sex", np.where(unknown, None, people["sex"]), dtype=pl.String),
        pl.Series("c_age", np.where(unknown, -1, people["age"])),
    ).with_columns(
        pl.when(pl.col("c_age") < 0).then(None).otherwise(pl.col("c_age")).alias("c_age")
    )


def _ranks(rows: pl.DataFrame, roster: Roster) -> np.ndarray:
    """The officer's rank on the incident date (-1 when no officer is named)."""
    out = np.full(rows.height, -1)
    officers = rows["officer"].to_numpy()
    dates = rows["incident_date"].to_list()
    for i, (officer, day) in enumerate(zip(officers, dates, strict=True)):
        if officer is not None and not np.isnan(officer):
            out[i] = roster.rank_on(day)[int(officer)]
    return out


def complaints_export(rows: pl.DataFrame, end: date) -> pl.DataFrame:
    """The complaints workbook as of ``end`` (one sheet, one row per allegation and complainant)."""
    shown = rows.filter(pl.col("received") <= end).sort(
        "complaint_id", "allegation_number", "complainant_number"
    )
    closed = pl.col("closed") <= end
    era = pl.lit(codes.era_of(end))
    officer_race = as_of("officer_race_recorded", "officer_race", "officer_race_fixed_on", end)
    return shown.with_columns(_finding(end).alias("finding_now")).select(
        pl.col("complaint_id").alias("IA No"),
        pl.col("allegation_number").alias("Allegation No"),
        pl.col("complainant_number").alias("Complainant No"),
        _either("inquiry", "Inquiry", pl.lit("Complaint")).alias("Record Type"),
        pl.col("received").alias("Received Date"),
        pl.col("incident_date").alias("Incident Date"),
        pl.when(closed).then(pl.col("closed")).alias("Closed Date"),
        pl.col("channel").alias("Received Via"),
        _either("internal", "Internal", pl.lit("Citizen")).alias("Complainant Type"),
        codes.yes_no(pl.col("anonymous"), era).alias("Anonymous"),
        codes.yes_no(pl.col("third_party"), era).alias("Third Party"),
        pl.when(closed).then(pl.lit("Closed")).otherwise(pl.lit("Active")).alias("Status"),
        _either("inquiry", "Inquiry", pl.col("allegation")).alias("Allegation"),
        pl.col("finding_now").alias("Finding"),
        pl.when(pl.col("finding_now") == "Sustained")
        .then(pl.col("discipline"))
        .alias("Discipline"),
        pl.col("officer_id").alias("Officer ID"),
        codes.spell(officer_race, era, codes.RACE).alias("Officer Race"),
        codes.spell(pl.col("officer_sex"), era, codes.SEX).alias("Officer Sex"),
        pl.col("rank_index")
        .replace_strict(dict(enumerate(RANKS)), default=None, return_dtype=pl.String)
        .alias("Officer Rank"),
        ((pl.col("incident_date") - pl.col("officer_hired")).dt.total_days() / 365.25)
        .round(1)
        .alias("Years of Service"),
        codes.spell(pl.col("c_race"), era, codes.RACE).alias("Complainant Race"),
        codes.spell(pl.col("c_sex"), era, codes.SEX).alias("Complainant Sex"),
        pl.col("c_age").alias("Complainant Age"),
    )


def _either(flag: str, word: str, otherwise: pl.Expr) -> pl.Expr:
    return pl.when(pl.col(flag)).then(pl.lit(word)).otherwise(otherwise)


def _finding(end: date) -> pl.Expr:
    """Pending until closed; inquiries closed in 2017 read Admin Closure until the clean-up."""
    closed = pl.col("closed") <= end
    reversed_ = pl.col("reversed_on").is_not_null() & (pl.col("reversed_on") <= end)
    admin_closure = pl.col("inquiry") & (pl.col("closed").dt.year() == 2017) & (end < CLEAN_UP)
    return (
        pl.when(~closed)
        .then(pl.lit("Pending"))
        .when(admin_closure)
        .then(pl.lit(ADMIN_CLOSURE))
        .when(pl.col("inquiry"))
        .then(pl.lit("No Finding"))
        .when(reversed_)
        .then(pl.lit("Not Sustained"))
        .otherwise(pl.col("finding"))
    )
