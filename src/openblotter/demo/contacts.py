"""Contacts: traffic stops, citations, arrests, field contacts and case reports, 2016 onwards.

About 7,500 people a year appear in Contacts (one row per person in a
contact). Every contact has a dispatch (CAD) case number from one yearly
sequence, an officer from the roster who was on duty that month, a place,
and the community member's race, sex and age (see people.py for the planted
disparity).

TRAFFIC STOPS AND DARKNESS. Stop times follow a daily rhythm (few before
dawn, most in the afternoon and evening), and the driver's race is drawn
independently of the time and of daylight: NO darkness effect is planted, so
a veil-of-darkness test should find an odds ratio near 1.

CORRECTIONS between releases: case statuses move from Open to cleared or
inactive; about 1% of people are first entered with an unknown race and
corrected later; records entered in 2019 to 2021 sometimes carry the race
code ``X`` until corrected; a few victims' ages are added later; some simple
assaults are reclassified as aggravated assaults; a few records are entered
weeks after the event, so they first appear in a later release.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from openblotter.demo import norman
from openblotter.demo.common import (
    DemoSpan,
    clock_minutes,
    days_of_year,
    event_days,
    lags,
    stream,
    table,
)
from openblotter.demo.contact_kinds import KIND_ORDER, KINDS, RANK_WEIGHT, Kind, details
from openblotter.demo.people import draw_by_role
from openblotter.demo.roster import Roster


def build_contacts(seed: int, span: DemoSpan, roster: Roster, hate: pl.DataFrame) -> pl.DataFrame:
    """Every person in every contact of the span, with the values each correction changes."""
    years = [
        _numbered(seed, year, _contacts_of_year(seed, year, span, hate)) for year in span.years
    ]
    contacts = pl.concat([y for y in years if y.height], how="diagonal_relaxed")
    if "hate_index" not in contacts.columns:
        contacts = contacts.with_columns(pl.lit(None, dtype=pl.UInt32).alias("hate_index"))
    contacts = _assign_officers(seed, contacts, roster)
    people = _hate_victims(_people_in_contacts(seed, contacts), hate)
    return _with_corrections(seed, people).join(roster.frame(), on="officer", how="left")


def _hate_victims(people: pl.DataFrame, hate: pl.DataFrame) -> pl.DataFrame:
    """The first victim of a hate crime is the victim the hate-crime record describes."""
    if not hate.height:
        return people.with_columns(
            pl.lit(None, dtype=pl.String).alias("bias"),
            pl.lit(None, dtype=pl.Date).alias("bias_found_on"),
        )
    victims = hate.select(
        pl.col("hate_index").alias("hate_victim"),
        pl.col("victim_race").alias("h_race"),
        pl.col("victim_sex").alias("h_sex"),
        pl.col("victim_age").alias("h_age"),
        "bias",
        "bias_found_on",
    )
    joined = people.join(victims, on="hate_victim", how="left")
    return joined.with_columns(
        pl.coalesce("h_race", "race").alias("race"),
        pl.coalesce("h_sex", "sex").alias("sex"),
        pl.coalesce("h_age", "age").alias("age"),
    ).drop("h_race", "h_sex", "h_age")


def _contacts_of_year(seed: int, year: int, span: DemoSpan, hate: pl.DataFrame) -> pl.DataFrame:
    days = days_of_year(year, span)
    growth = 1.012 ** (year - 2016)
    frames = []
    for kind in KINDS:
        rng = stream(seed, "contacts", kind.key, year)
        when = event_days(
            rng, days, kind.per_year * growth, summer=0.08, weekend=1.1, covid_low=kind.covid_low
        )
        frames.append(_base(rng, kind, when).hstack(table(details(rng, kind, when.size))))
    this_year = hate.filter(pl.col("year") == year) if hate.height else hate
    if this_year.height:
        frames.append(_hate_cases(this_year))
    return pl.concat([f for f in frames if f.height], how="diagonal_relaxed")


def _base(rng: np.random.Generator, kind: Kind, when: np.ndarray) -> pl.DataFrame:
    n = when.size
    late = rng.random(n) < (0.03 if kind.key == "case" else 0.01)
    delay = np.where(late, lags(rng, n, 30, least=8), lags(rng, n, 0.3))
    place = norman.locations(rng, n, intersections=0.3 if kind.key in ("stop", "tcite") else 0.1)
    return table(
        {
            "kind": np.full(n, kind.key, dtype=object),
            "incident_date": when,
            "minutes": clock_minutes(rng, n, kind.hours),
            "entered": when + delay,
            "address": place["address"],
            "beat": place["beat"],
            "district": place["district"],
            "latitude": place["latitude"],
            "longitude": place["longitude"],
        }
    ).with_columns(pl.col("incident_date", "entered").cast(pl.Date))


def _hate_cases(hate: pl.DataFrame) -> pl.DataFrame:
    """Hate-crime offenses as case reports (their people are added with the other cases)."""
    return hate.select(
        pl.lit("case").alias("kind"),
        "incident_date",
        "minutes",
        "entered",
        "address",
        "beat",
        "district",
        "latitude",
        "longitude",
        "offense_code",
        "offense",
        pl.lit("Report Written").alias("outcome"),
        pl.col("victims"),
        pl.col("offenders").alias("suspects"),
        pl.lit(0).alias("witnesses"),
        "status",
        "status_on",
        pl.lit(0).alias("status_lag"),
        pl.lit(False).alias("reclassified"),
        "hate_index",
    ).with_columns(pl.col("victims", "suspects", "witnesses", "status_lag").cast(pl.Int64))


def _numbered(seed: int, year: int, contacts: pl.DataFrame) -> pl.DataFrame:
    """CAD case numbers in time order (gaps for calls that made no record); contact numbers."""
    rng = stream(seed, "contacts", "numbers", year)
    contacts = contacts.with_columns(
        pl.col("kind").replace_strict(KIND_ORDER, return_dtype=pl.Int64).alias("kind_order"),
    ).sort("incident_date", "minutes", "kind_order", maintain_order=True)
    sequence = np.cumsum(1 + rng.geometric(0.3, contacts.height)) + 100
    prefix = {k.key: k.prefix for k in KINDS}
    numbered = contacts.with_columns(
        pl.format(
            "{}-{}", pl.lit(str(year)), pl.Series(sequence).cast(pl.String).str.zfill(8)
        ).alias("case_number"),
        (pl.int_range(pl.len()).over("kind") + 1).alias("kind_seq"),
    )
    return numbered.with_columns(
        pl.when(pl.col("kind") == "case")
        .then(pl.col("case_number"))
        .otherwise(
            pl.format(
                "{}{}-{}",
                pl.col("kind").replace_strict(prefix, return_dtype=pl.String),
                pl.lit(f"{year % 100:02d}"),
                pl.col("kind_seq").cast(pl.String).str.zfill(5),
            )
        )
        .alias("contact_id"),
        pl.lit(year).alias("year"),
    ).drop("kind_order", "kind_seq")


def _assign_officers(seed: int, contacts: pl.DataFrame, roster: Roster) -> pl.DataFrame:
    """An officer on duty that whole month, weighted by unit, rank and personal activity."""
    groups = (
        contacts.with_row_index("position")
        .group_by(pl.col("incident_date").dt.month_start().alias("month"), "kind")
        .agg("position")
        .sort("month", "kind")
    )
    officers = np.zeros(contacts.height, dtype="int64")
    unit_weight = {k.key: np.array([k.units.get(u, 0.0) for u in roster.unit]) for k in KINDS}
    weights: dict[date, np.ndarray] = {}
    for month, key, positions in groups.iter_rows():
        if month not in weights:
            last = np.datetime64(month, "M") + 1
            on_duty = (
                (roster.hired <= np.datetime64(month))
                & roster.sworn
                & (np.isnat(roster.separated) | (roster.separated >= last.astype("datetime64[D]")))
            )
            weights[month] = (
                on_duty * RANK_WEIGHT[np.clip(roster.rank_on(month), 0, None)] * roster.activity
            )
        weight = weights[month] * unit_weight[key]
        rng = stream(seed, "contacts", "officers", month.isoformat(), key)
        officers[positions] = rng.choice(len(weight), size=len(positions), p=weight / weight.sum())
    return contacts.with_columns(pl.Series("officer", officers))


def _people_in_contacts(seed: int, contacts: pl.DataFrame) -> pl.DataFrame:
    """One row per person: the case reports' victims, suspects, witnesses, reporting persons."""
    single = contacts.filter(pl.col("kind") != "case").with_columns(pl.lit(1).alias("person_seq"))
    cases = contacts.filter(pl.col("kind") == "case").with_columns(
        pl.when(pl.col("victims") == 0).then(1).otherwise(0).alias("reporters")
    )
    roles = pl.concat_list(
        pl.lit("V").repeat_by(pl.col("victims")),
        pl.lit("S").repeat_by(pl.col("suspects")),
        pl.lit("W").repeat_by(pl.col("witnesses")),
        pl.lit("P").repeat_by(pl.col("reporters")),
    )
    persons = (
        cases.with_columns(roles.alias("role"))
        .explode("role")
        .with_columns((pl.int_range(pl.len()).over("contact_id") + 1).alias("person_seq"))
    )
    rng = stream(seed, "contacts", "case_people")
    drawn = draw_by_role(rng, persons["role"].to_numpy())
    persons = persons.with_columns(
        pl.Series("race", drawn["race"], dtype=pl.String),
        pl.Series("sex", drawn["sex"], dtype=pl.String),
        pl.Series("age", drawn["age"]),
        (pl.col("role") == "S").alias("suspect"),
    )
    first_victim = (pl.col("role") == "V") & (pl.col("person_seq") == 1)
    persons = persons.with_columns(
        pl.when(first_victim & pl.col("hate_index").is_not_null())
        .then(pl.col("hate_index"))
        .alias("hate_victim")
    )
    return pl.concat([single, persons], how="diagonal_relaxed").sort(
        "year", "case_number", "person_seq"
    )


def _with_corrections(seed: int, people: pl.DataFrame) -> pl.DataFrame:
    """The value first entered and the corrected value, with the day of the correction."""
    rng = stream(seed, "contacts", "corrections")
    n = people.height
    entered = people["entered"].to_numpy()
    era2 = (entered >= np.datetime64(date(2019, 1, 1))) & (
        entered < np.datetime64(date(2022, 1, 1))
    )
    slip = rng.random(n)
    race = people["race"].to_numpy()
    shown = np.where(slip < 0.01, "U", np.where(era2 & (slip > 0.9975), "X", race))
    fixed = np.where(shown != race, entered + lags(rng, n, 150, least=20), np.datetime64("NaT"))
    victim_no_age = (people["role"].to_numpy() == "V") & (rng.random(n) < 0.03)
    return people.with_columns(
        pl.Series("race_shown", shown.astype(str)),
        pl.Series("race_fixed_on", fixed.astype("datetime64[D]")).cast(pl.Date),
        pl.Series(
            "age_fixed_on",
            np.where(
                victim_no_age, entered + lags(rng, n, 60, least=5), np.datetime64("NaT")
            ).astype("datetime64[D]"),
        ).cast(pl.Date),
        pl.Series("dob_offset", rng.integers(0, 365, n)),
        pl.coalesce(
            "status_on", pl.col("entered") + pl.duration(days=pl.col("status_lag").fill_null(0))
        ).alias("status_due"),
        (pl.col("entered") + pl.duration(days=pl.col("status_lag").fill_null(0) // 2 + 10)).alias(
            "reclass_on"
        ),
    )


def officers_that_month(
    rng: np.random.Generator, contacts: pl.DataFrame, days: np.ndarray
) -> np.ndarray:
    """For each day, an officer who had a contact in its month (busier officers more often)."""
    working = contacts.select(
        "officer", pl.col("incident_date").dt.month_start().alias("month")
    ).sort("month", "officer")
    months, pool = working["month"].to_numpy(), working["officer"].to_numpy()
    wanted = days.astype("datetime64[M]").astype("datetime64[D]")
    start = np.minimum(np.searchsorted(months, wanted, "left"), len(pool) - 1)
    stop = np.maximum(np.searchsorted(months, wanted, "right"), start + 1)
    return pool[start + (rng.random(len(days)) * (stop - start)).astype(int)]
