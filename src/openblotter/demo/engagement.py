"""Community engagement: about 170 events a year, known to be incomplete.

Officers log events themselves, often late: most within a week, some a month
or two later, a few only after several months, so a later release adds rows
with old dates. Attendance is often filled in afterwards. Events stopped
almost entirely in spring 2020 and came back through 2021. The types were
written ``POP``, ``Relationships`` and ``Activities`` until 2019.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from openblotter.demo import norman
from openblotter.demo.common import DemoSpan, days_of_year, event_days, lags, pick, stream, table

ACTIVITIES: dict[str, tuple[str, float, tuple[int, int]]] = {
    "Neighborhood problem-solving meeting": ("P", 0.08, (8, 40)),
    "Traffic safety project": ("P", 0.05, (0, 0)),
    "Park safety walk": ("P", 0.04, (5, 30)),
    "Business crime prevention visit": ("P", 0.05, (2, 10)),
    "Homeless outreach with partners": ("P", 0.04, (5, 25)),
    "Coffee with a Cop": ("R", 0.1, (10, 60)),
    "School visit": ("R", 0.12, (20, 300)),
    "Neighborhood association meeting": ("R", 0.1, (10, 80)),
    "Faith community meeting": ("R", 0.04, (15, 120)),
    "Citizens Police Academy class": ("R", 0.06, (15, 30)),
    "Youth sports clinic": ("R", 0.04, (20, 80)),
    "University of Oklahoma student orientation": ("R", 0.03, (100, 600)),
    "National Night Out": ("A", 0.02, (200, 900)),
    "Shop with a Cop": ("A", 0.02, (30, 80)),
    "Bike rodeo": ("A", 0.03, (20, 120)),
    "Child car seat check": ("A", 0.04, (5, 40)),
    "Holiday toy drive": ("A", 0.02, (50, 300)),
    "Community festival booth": ("A", 0.06, (50, 500)),
    "Drug Take Back Day": ("A", 0.02, (20, 150)),
    "Other event": ("O", 0.03, (5, 50)),
}
TYPE_WORDS = {
    1: {"P": "POP", "R": "Relationships", "A": "Activities", "O": "Other"},
    2: {
        "P": "Problem Solving",
        "R": "Relationship Building",
        "A": "Community Activity",
        "O": "Other",
    },
}
PLACES = (
    "Norman Public Library Central",
    "Reaves Park",
    "Andrews Park",
    "Legacy Park",
    "Norman High School",
    "Norman North High School",
    "University of Oklahoma campus",
    "Westwood Park",
    "Sutton Wilderness",
    "Norman Police Department",
    "Lions Park",
    "Little Axe Community Center",
    "Irving Middle School",
    "Whittier Middle School",
    "Sooner Mall",
    "Main Street downtown",
)
PARTNERS = (
    "",
    "",
    "",
    "Norman Public Schools",
    "University of Oklahoma Police",
    "Food and Shelter",
    "Norman Chamber of Commerce",
    "Boys & Girls Club",
    "Salvation Army",
    "NAACP Norman Branch",
    "Neighborhood association",
)
UNITS = {
    "Community Outreach": 0.45,
    "Patrol": 0.3,
    "School Resource Officers": 0.15,
    "Traffic": 0.1,
}
TYPE_WORDS_CHANGE = date(2019, 1, 1)


def build_engagement(seed: int, span: DemoSpan) -> pl.DataFrame:
    """Every engagement event of the span with the day it was logged."""
    frames = [_year(seed, year, span) for year in span.years]
    return pl.concat([f for f in frames if f.height]).sort("event_date", "event_id")


def _year(seed: int, year: int, span: DemoSpan) -> pl.DataFrame:
    rng = stream(seed, "engagement", year)
    when = np.sort(
        event_days(rng, days_of_year(year, span), 170, summer=0.2, weekend=0.6, covid_low=0.1)
    )
    n = when.size
    activity = pick(rng, {k: v[1] for k, v in ACTIVITIES.items()}, n)
    low = np.array([ACTIVITIES[a][2][0] for a in activity])
    high = np.array([ACTIVITIES[a][2][1] for a in activity])
    attendees = (low + rng.random(n) * (high - low)).astype(int)
    delay = pick(rng, {"week": 0.7, "months": 0.2, "late": 0.1}, n)
    logged = when + np.select(
        [delay == "week", delay == "months"],
        [lags(rng, n, 3), lags(rng, n, 30, least=20)],
        lags(rng, n, 120, least=90),
    )
    place = norman.locations(rng, n, intersections=0.0)
    nameless = rng.random(n) < 0.3
    return table(
        {
            "event_id": [f"CE{year % 100:02d}-{i + 1:04d}" for i in range(n)],
            "event_date": when,
            "minutes": (
                rng.choice([8, 9, 10, 11, 13, 14, 15, 17, 18, 19], n) * 60 + rng.choice([0, 30], n)
            ),
            "type": np.array([ACTIVITIES[a][0] for a in activity], dtype=object),
            "activity": activity,
            "location_name": np.where(
                nameless, None, np.asarray(PLACES, dtype=object)[rng.integers(0, len(PLACES), n)]
            ),
            "address": place["address"],
            "beat": place["beat"],
            "district": place["district"],
            "partner": np.asarray(PARTNERS, dtype=object)[rng.integers(0, len(PARTNERS), n)],
            "unit": pick(rng, UNITS, n),
            "officers": rng.choice([1, 1, 2, 2, 3, 4, 6, 8], n),
            "attendees": np.where(activity == "Traffic safety project", -1, attendees),
            "hours": rng.choice([1.0, 1.5, 2.0, 2.5, 3.0, 4.0], n),
            "logged": logged,
            "attendance_added": np.where(
                rng.random(n) < 0.15, logged + lags(rng, n, 40, least=10), logged
            ),
        }
    ).with_columns(pl.col("event_date", "logged", "attendance_added").cast(pl.Date))


def engagement_export(events: pl.DataFrame, end: date) -> pl.DataFrame:
    """The engagement log as of ``end``: the events logged by then."""
    shown = events.filter(pl.col("logged") <= end)
    words = TYPE_WORDS[1] if end < TYPE_WORDS_CHANGE else TYPE_WORDS[2]
    hours, minutes = pl.col("minutes") // 60, pl.col("minutes") % 60
    clock = pl.format(
        "{}:{} {}",
        ((hours + 11) % 12 + 1).cast(pl.String),
        minutes.cast(pl.String).str.zfill(2),
        pl.when(hours < 12).then(pl.lit("AM")).otherwise(pl.lit("PM")),
    )
    attendance = pl.when((pl.col("attendance_added") <= end) & (pl.col("attendees") >= 0)).then(
        pl.col("attendees")
    )
    return shown.select(
        pl.col("event_id").alias("Event ID"),
        pl.col("event_date").dt.strftime("%m/%d/%Y").alias("Event Date"),
        clock.alias("Start Time"),
        pl.col("type").replace_strict(words, return_dtype=pl.String).alias("Engagement Type"),
        pl.col("activity").alias("Activity"),
        pl.col("location_name").alias("Location"),
        pl.col("address").alias("Address"),
        pl.col("beat").alias("Beat"),
        pl.col("district").alias("District"),
        pl.when(pl.col("partner") != "").then(pl.col("partner")).alias("Partner"),
        pl.col("unit").alias("Unit"),
        pl.col("officers").alias("Officers"),
        attendance.alias("Attendees"),
        pl.col("hours").alias("Hours"),
    )
