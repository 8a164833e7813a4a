"""Community demographics: Norman's census tables as a department would download them.

Each release holds what the Census Bureau had published by the end of its
quarter: the 2010 Census from the start; the American Community Survey
1-year estimates for each year (race and ethnicity, sex, age, with margins of
error) once they are out, in September of the next year (there is no 2020
1-year release); the 2020 Census race and ethnicity table (P.L. 94-171) from
the release of 2021-Q3 and its sex and age table (DHC) from 2023-Q2. The
newest year is always a survey year with every group, which is what the
benchmarks read. Race is written in the Census Bureau's words (``White
alone``); the mapping file turns them into the portal's codes. See norman.py
for where the numbers come from (approximations; the survey figures are
invented around them).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from openblotter.demo import norman
from openblotter.demo.common import DEMO_SEED, stream

CENSUS_2010 = "2010 Census (SF1)"
CENSUS_2020_RACE = "2020 Census (P.L. 94-171)"
CENSUS_2020_AGE = "2020 Census (DHC)"
PUBLISHED = {CENSUS_2020_RACE: date(2021, 8, 12), CENSUS_2020_AGE: date(2023, 5, 25)}
_TOTAL = "Total"
_Z90 = 1.645
_COLUMNS = {
    "GEO_ID": pl.String,
    "NAME": pl.String,
    "YEAR": pl.Int64,
    "PRODUCT": pl.String,
    "RACE": pl.String,
    "HISPANIC_ORIGIN": pl.String,
    "SEX": pl.String,
    "AGE_GROUP": pl.String,
    "VALUE": pl.Int64,
    "PERCENT": pl.Float64,
    "MOE": pl.Int64,
}

Row = tuple[object, ...]


def community_export(end: date, seed: int = DEMO_SEED) -> pl.DataFrame:
    """The census rows published by ``end``, one per area, year, product and group."""
    rows = _census(
        2010, CENSUS_2010, norman.RACE_2010, norman.AGE_2010, with_race=True, with_age=True
    )
    if end >= PUBLISHED[CENSUS_2020_RACE]:
        rows += _census(
            2020,
            CENSUS_2020_RACE,
            norman.RACE_2020,
            norman.AGE_2020,
            with_race=True,
            with_age=False,
        )
    if end >= PUBLISHED[CENSUS_2020_AGE]:
        rows += _census(
            2020, CENSUS_2020_AGE, norman.RACE_2020, norman.AGE_2020, with_race=False, with_age=True
        )
    for year in sorted(norman.POPULATION):
        if year != 2020 and date(year + 1, 9, 15) <= end:
            rows += _survey(year, seed)
    return pl.DataFrame(rows, schema=_COLUMNS, orient="row")


def _row(
    year: int,
    product: str,
    value: int,
    total: int,
    *,
    race: str = _TOTAL,
    origin: str = _TOTAL,
    sex: str = _TOTAL,
    age: str = _TOTAL,
    survey: bool = False,
) -> Row:
    everyone = (race, origin, sex, age) == (_TOTAL,) * 4
    percent = None if everyone else round(100 * value / total, 1)
    moe = None if everyone or not survey else _margin(value, total)
    return (
        norman.GEO_ID,
        norman.GEO_NAME,
        year,
        product,
        race,
        origin,
        sex,
        age,
        value,
        percent,
        moe,
    )


def _margin(value: float, total: float) -> int:
    """A 90% margin of error like a 1-year survey's (sampling error, design effect about 16)."""
    return int(round(_Z90 * 4 * np.sqrt(max(value * (1 - value / total), 1.0))))


def _census(
    year: int,
    product: str,
    races: dict[tuple[str, str], int],
    ages: tuple[int, ...],
    *,
    with_race: bool,
    with_age: bool,
) -> list[Row]:
    total = norman.CENSUS_TOTALS[year]
    rows = [_row(year, product, total, total)]
    if with_race:
        rows += [
            _row(year, product, n, total, race=race, origin=origin)
            for (race, origin), n in races.items()
        ]
    if with_age:
        rows += _sex_and_age(year, product, total, ages, survey=False)
    return rows


def _sex_and_age(
    year: int, product: str, total: int, ages: tuple[int, ...], *, survey: bool
) -> list[Row]:
    men = [round(n * share) for n, share in zip(ages, norman.MALE_SHARE, strict=True)]
    women = [n - m for n, m in zip(ages, men, strict=True)]
    rows = [
        _row(year, product, sum(men), total, sex="Male", survey=survey),
        _row(year, product, sum(women), total, sex="Female", survey=survey),
    ]
    rows += [
        _row(year, product, n, total, age=age, survey=survey)
        for age, n in zip(norman.AGE_GROUPS, ages, strict=True)
    ]
    for sex, counts in (("Male", men), ("Female", women)):
        rows += [
            _row(year, product, n, total, sex=sex, age=age, survey=survey)
            for age, n in zip(norman.AGE_GROUPS, counts, strict=True)
        ]
    return rows


def _survey(year: int, seed: int) -> list[Row]:
    """ACS 1-year estimates: census shares moved along their 2010-2020 trend, plus noise."""
    rng = stream(seed, "community", "acs", year)
    total = norman.POPULATION[year]
    step = min((year - 2010) / 10, 1.3)
    product = f"ACS {year} 1-year estimates"

    def estimate(then: list[int], now: list[int]) -> list[int]:
        before, after = np.array(then) / sum(then), np.array(now) / sum(now)
        counts = np.clip(before + (after - before) * step, 0.0005, None)
        counts = counts / counts.sum() * total
        noise = [rng.normal(0, _margin(c, total) / _Z90) for c in counts]
        values = [max(int(round(c + e)), 0) for c, e in zip(counts, noise, strict=True)]
        biggest = int(np.argmax(values))
        values[biggest] += total - sum(values)  # the parts add up to the total, as in the tables
        return values

    races = estimate(list(norman.RACE_2010.values()), list(norman.RACE_2020.values()))
    rows = [_row(year, product, total, total)]
    rows += [
        _row(year, product, n, total, race=race, origin=origin, survey=True)
        for (race, origin), n in zip(norman.RACE_2020, races, strict=True)
    ]
    ages = estimate(list(norman.AGE_2010), list(norman.AGE_2020))
    return rows + _sex_and_age(year, product, total, tuple(ages), survey=True)
