"""Hate crimes: a handful of offenses a year with FBI (NIBRS) bias motivations.

Each offense is also a case report in Contacts (same case number). Until 2020
the department published hate crimes as their own dataset, in an older export
(upper-case FBI wording, clock times as integers such as ``1435``); from 2021
the records system stores the bias motivation on the Contacts row of the
first victim, and the hate-crime view is derived from Contacts. Some offenses
are first recorded with an unknown bias that the investigation later
determines, and case statuses change as cases are cleared.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from openblotter.demo import norman
from openblotter.demo.common import DemoSpan, clock_minutes, days_of_year, lags, pick, stream, table

PER_YEAR = 5.0
LAST_OWN_RELEASE_YEAR = 2020  # from 2021 hate crimes are part of Contacts

OFFENSES = {
    "13C": ("Intimidation", 0.35),
    "13B": ("Simple Assault", 0.25),
    "290": ("Destruction/Damage/Vandalism of Property", 0.25),
    "13A": ("Aggravated Assault", 0.1),
    "120": ("Robbery", 0.05),
}
#: NIBRS bias motivation -> (share, the victim's race code when the bias implies it,
#: the spelling of the pre-2021 export).
BIASES: dict[str, tuple[float, str | None, str]] = {
    "Anti-Black or African American": (0.30, "B", "ANTI-BLACK OR AFRICAN AMERICAN"),
    "Anti-Gay (Male)": (0.12, None, "ANTI-MALE HOMOSEXUAL (GAY)"),
    "Anti-Jewish": (0.10, None, "ANTI-JEWISH"),
    "Anti-White": (0.08, "W", "ANTI-WHITE"),
    "Anti-Hispanic or Latino": (0.08, "H", "ANTI-HISPANIC"),
    "Anti-American Indian or Alaska Native": (0.07, "I", "ANTI-AMERICAN INDIAN/ALASKAN NATIVE"),
    "Anti-Islamic (Muslim)": (0.05, None, "ANTI-ISLAMIC (MUSLIM)"),
    "Anti-Transgender": (0.05, None, "ANTI-TRANSGENDER"),
    "Anti-Lesbian, Gay, Bisexual, or Transgender (Mixed Group)": (
        0.05,
        None,
        "ANTI-HOMOSEXUAL (GAY AND LESBIAN)",
    ),
    "Anti-Asian": (0.04, "A", "ANTI-ASIAN"),
    "Anti-Multiple Races, Group": (0.02, None, "ANTI-MULTI-RACIAL GROUP"),
    "Unknown (offender's motivation not known)": (0.04, None, "UNKNOWN BIAS"),
}
UNKNOWN_BIAS = "Unknown (offender's motivation not known)"
#: The old export cut this one code short (as Denver's did); no value map knows it.
TRUNCATED = "ANTI-HOMOSEXUAL (GAY AND LESBIAN"
LOCATIONS = {
    "Residence/Home": 0.35,
    "Highway/Road/Alley/Street/Sidewalk": 0.25,
    "School/College": 0.12,
    "Parking/Drop Lot/Garage": 0.1,
    "Church/Synagogue/Temple/Mosque": 0.06,
    "Bar/Nightclub": 0.06,
    "Commercial/Office Building": 0.06,
}
STATUSES = {"Cleared by Arrest": 0.3, "Inactive": 0.6, "Exceptionally Cleared": 0.1}
CASE_HOURS = (
    2,
    1.5,
    1.2,
    1,
    0.8,
    0.8,
    1.5,
    3,
    5,
    6,
    6.5,
    6.5,
    6.5,
    6.5,
    6.5,
    6.5,
    6,
    6,
    5.5,
    5,
    4.5,
    4,
    3.5,
    2.5,
)


def build_hate_crimes(seed: int, span: DemoSpan) -> pl.DataFrame:
    """One row per offense (bias motivations as a list), every year of the span."""
    frames = [_year(seed, year, span) for year in span.years]
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame()
    return plant_truncated_code(pl.concat(frames).with_row_index("hate_index"))


def _year(seed: int, year: int, span: DemoSpan) -> pl.DataFrame:
    rng = stream(seed, "hate_crimes", year)
    days = days_of_year(year, span)
    n = int(rng.poisson(PER_YEAR * days.size / 365.25)) if days.size else 0
    if n == 0:
        return pl.DataFrame()
    when = np.sort(days[rng.integers(0, days.size, n)])
    bias = pick(rng, {k: v[0] for k, v in BIASES.items()}, n)
    second = np.where(rng.random(n) < 0.06, "Anti-Black or African American", None)
    second = np.where(bias == second, "Anti-Gay (Male)", second)
    second = np.where(bias == UNKNOWN_BIAS, None, second)
    found_later = (rng.random(n) < 0.15) & (bias != UNKNOWN_BIAS)
    implied = np.array([BIASES[b][1] or "" for b in bias], dtype=object)
    population_race = pick(rng, {"W": 0.7, "B": 0.07, "I": 0.05, "A": 0.05, "H": 0.1, "U": 0.03}, n)
    place = norman.locations(rng, n, intersections=0.1)
    offense = pick(rng, {k: v[1] for k, v in OFFENSES.items()}, n)
    victims = rng.choice([1, 2, 3], size=n, p=[0.8, 0.15, 0.05])
    offenders = rng.choice([0, 1, 2], size=n, p=[0.2, 0.6, 0.2])
    return table(
        {
            "incident_date": when,
            "minutes": clock_minutes(rng, n, CASE_HOURS),
            "entered": when + lags(rng, n, 3),
            "offense_code": offense,
            "offense": [OFFENSES[o][0] for o in offense],
            "bias": bias,
            "bias_second": second,
            "bias_found_on": np.where(
                found_later, when + lags(rng, n, 60, least=10), np.datetime64("NaT")
            ),
            "status": pick(rng, STATUSES, n),
            "status_on": when + lags(rng, n, 90, least=14),
            "location_type": pick(rng, LOCATIONS, n),
            "address": place["address"],
            "beat": place["beat"],
            "district": place["district"],
            "latitude": place["latitude"],
            "longitude": place["longitude"],
            "victims": victims,
            "juvenile_victims": (rng.random(n) < 0.1).astype(int),
            "offenders": offenders,
            "juvenile_offenders": np.minimum(offenders, (rng.random(n) < 0.15).astype(int)),
            "victim_race": np.where(implied != "", implied, population_race),
            "victim_sex": np.where(rng.random(n) < 0.55, "M", "F"),
            "victim_age": np.clip(12 + rng.gamma(2.5, 9, n), 12, 90).astype(int),
        }
    ).with_columns(
        pl.col("incident_date", "entered", "bias_found_on", "status_on").cast(pl.Date),
        pl.lit(year).alias("year"),
    )


def plant_truncated_code(frame: pl.DataFrame) -> pl.DataFrame:
    """The first 2018 offense is recorded with the cut-short LGBT code of the old export."""
    first_2018 = frame.filter(pl.col("year") == 2018)["hate_index"].min()
    if first_2018 is None:
        return frame
    lgbt = "Anti-Lesbian, Gay, Bisexual, or Transgender (Mixed Group)"
    return frame.with_columns(
        pl.when(pl.col("hate_index") == first_2018)
        .then(pl.lit(lgbt))
        .otherwise(pl.col("bias"))
        .alias("bias")
    )


def old_export(offenses: pl.DataFrame, case_numbers: pl.DataFrame, end: date) -> pl.DataFrame:
    """The pre-2021 hate-crime export as of ``end``: one row per offense and bias motivation."""
    first_2018 = offenses.filter(pl.col("year") == 2018)["hate_index"].min()
    first_2018 = -1 if first_2018 is None else first_2018
    spelled = {k: v[2] for k, v in BIASES.items()}
    rows = _as_of(offenses, end).join(case_numbers, on="hate_index", how="left")
    bias_text = pl.col("bias_list").replace_strict(spelled, return_dtype=pl.String)
    truncated = (pl.col("hate_index") == first_2018) & (pl.col("bias_list") != UNKNOWN_BIAS)
    return rows.select(
        pl.col("case_number").alias("CASE_NUMBER"),
        pl.lit(1).alias("OFFENSE_SEQ"),
        pl.col("bias_seq").alias("BIAS_SEQ"),
        pl.col("incident_date").alias("OCC_DATE"),
        (pl.col("minutes") // 60 * 100 + pl.col("minutes") % 60).alias("OCC_TIME"),
        pl.col("offense_code").alias("UCR_CODE"),
        pl.col("offense").str.to_uppercase().alias("OFFENSE_DESC"),
        pl.when(truncated & (pl.col("bias_seq") == 1))
        .then(pl.lit(TRUNCATED))
        .otherwise(bias_text)
        .alias("BIAS_TYPE"),
        pl.col("status_now").str.to_uppercase().alias("CASE_STATUS"),
        pl.col("location_type").str.to_uppercase().alias("LOCATION_TYPE"),
        pl.col("address").alias("ADDRESS"),
        pl.col("beat").alias("BEAT"),
        pl.col("district").alias("DISTRICT"),
        pl.col("victims").alias("VICTIMS"),
        pl.col("juvenile_victims").alias("JUV_VICTIMS"),
        pl.col("offenders").alias("OFFENDERS"),
        pl.col("juvenile_offenders").alias("JUV_OFFENDERS"),
        pl.col("victim_race").alias("VICTIM_RACE"),
        pl.col("victim_sex").alias("VICTIM_SEX"),
        pl.col("victim_age").alias("VICTIM_AGE"),
        pl.col("latitude").alias("LATITUDE"),
        pl.col("longitude").alias("LONGITUDE"),
    ).sort("CASE_NUMBER", "BIAS_SEQ")


def _as_of(offenses: pl.DataFrame, end: date) -> pl.DataFrame:
    """Offenses entered by ``end``, one row per bias motivation known then."""
    pending = pl.col("bias_found_on").is_not_null() & (pl.col("bias_found_on") > end)
    return (
        offenses.filter(
            (pl.col("entered") <= end)
            & (pl.col("incident_date").dt.year() <= LAST_OWN_RELEASE_YEAR)
        )
        .with_columns(
            pl.when(pending).then(pl.lit(UNKNOWN_BIAS)).otherwise(pl.col("bias")).alias("bias_now"),
            pl.when(pl.col("status_on") <= end)
            .then(pl.col("status"))
            .otherwise(pl.lit("Open"))
            .alias("status_now"),
        )
        .with_columns(
            pl.concat_list(pl.col("bias_now"), pl.col("bias_second"))
            .list.drop_nulls()
            .alias("bias_list")
        )
        .explode("bias_list")
        .with_columns((pl.int_range(pl.len()).over("hate_index") + 1).alias("bias_seq"))
    )
