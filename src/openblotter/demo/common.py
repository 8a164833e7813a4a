"""Shared pieces of the demo generator: the span, seeded random streams, dates and times.

Every random draw comes from a stream named by what it is for and, for events,
the year (``stream(seed, "contacts", 2019)``), so a shorter span gives the same
records for the years it covers, and one component never shifts another's draws.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from openblotter.domain.quarters import Quarter, quarter_range

#: The seed of the demo; the same seed gives the same files byte for byte.
DEMO_SEED = 20160101
FIRST_QUARTER = Quarter(2016, 1)
LAST_QUARTER = Quarter(2026, 3)

#: Start of the 2020 pandemic slowdown (stay-at-home orders in Oklahoma, spring 2020).
COVID_START = date(2020, 3, 16)
COVID_END = date(2021, 3, 31)


@dataclass(frozen=True)
class DemoSpan:
    """The quarters the demo covers: one cumulative release per quarter."""

    first: Quarter = FIRST_QUARTER
    last: Quarter = LAST_QUARTER

    @property
    def quarters(self) -> list[Quarter]:
        return quarter_range(self.first, self.last)

    @property
    def start(self) -> date:
        return self.first.start

    @property
    def end(self) -> date:
        return self.last.end

    @property
    def years(self) -> list[int]:
        return list(range(self.first.year, self.last.year + 1))


def stream(seed: int, *keys: str | int) -> np.random.Generator:
    """A random generator for one purpose (named by ``keys``), independent of the others."""
    words = [seed] + [k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))


def days_of_year(year: int, span: DemoSpan) -> np.ndarray:
    """The days of ``year`` inside the span, as ``datetime64[D]``."""
    first = max(date(year, 1, 1), span.start)
    last = min(date(year, 12, 31), span.end)
    if last < first:
        return np.array([], dtype="datetime64[D]")
    return np.arange(np.datetime64(first), np.datetime64(last) + 1, dtype="datetime64[D]")


def covid_factor(days: np.ndarray, low: float) -> np.ndarray:
    """1 outside the slowdown; ``low`` at its deepest (April 2020), easing back by spring 2021."""
    start, end = np.datetime64(COVID_START), np.datetime64(COVID_END)
    inside = (days >= start) & (days <= end)
    progress = (days - start).astype(float) / float((end - start).astype(int))
    recovery = low + (1 - low) * np.clip(progress, 0, 1) ** 1.5
    return np.where(inside, recovery, 1.0)


def event_days(
    rng: np.random.Generator,
    days: np.ndarray,
    per_year: float,
    *,
    summer: float = 0.0,
    weekend: float = 1.0,
    covid_low: float = 1.0,
) -> np.ndarray:
    """The date of every event: Poisson counts per day around ``per_year`` / 365.

    ``summer`` raises (positive) or lowers the July rate relative to January;
    ``weekend`` multiplies Saturday and Sunday; ``covid_low`` is the rate at
    the depth of the 2020 slowdown.
    """
    if days.size == 0:
        return days
    day_of_year = (days - days.astype("datetime64[Y]")).astype(int)
    season = 1 + summer * np.sin(2 * np.pi * (day_of_year - 100) / 365.25)
    weekday = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
    weekly = np.where(weekday >= 5, weekend, 1.0)
    rate = per_year / 365.25 * season * weekly * covid_factor(days, covid_low)
    return np.repeat(days, rng.poisson(rate))


def clock_minutes(rng: np.random.Generator, n: int, hourly: tuple[float, ...]) -> np.ndarray:
    """Minutes after midnight: an hour drawn from ``hourly`` weights, the minute uniform."""
    weights = np.asarray(hourly, dtype=float)
    hours = rng.choice(24, size=n, p=weights / weights.sum())
    return hours * 60 + rng.integers(0, 60, size=n)


def lags(rng: np.random.Generator, n: int, mean_days: float, *, least: int = 0) -> np.ndarray:
    """Whole-day delays (exponential around ``mean_days``), as ``timedelta64[D]``."""
    return (least + rng.exponential(mean_days, size=n)).astype("int64").astype("timedelta64[D]")


def pick(rng: np.random.Generator, choices: dict[str, float], n: int) -> np.ndarray:
    """``n`` draws from a {value: weight} table."""
    values = list(choices)
    weights = np.asarray(list(choices.values()), dtype=float)
    return np.asarray(values, dtype=object)[
        rng.choice(len(values), size=n, p=weights / weights.sum())
    ]


def as_of(before: str, after: str, changed_on: str, end: date) -> pl.Expr:
    """The value a record showed at ``end``: ``after`` once ``changed_on`` has passed."""
    return (
        pl.when(pl.col(changed_on).is_not_null() & (pl.col(changed_on) <= end))
        .then(pl.col(after))
        .otherwise(pl.col(before))
    )


def table(columns: dict[str, np.ndarray]) -> pl.DataFrame:
    """A DataFrame from numpy columns; text (object) columns become polars strings."""
    series = []
    for name, values in columns.items():
        array = np.asarray(values)
        if array.dtype == object or array.dtype.kind == "U":
            series.append(
                pl.Series(
                    name, [None if v is None else str(v) for v in array.tolist()], dtype=pl.String
                )
            )
        else:
            series.append(pl.Series(name, array))
    return pl.DataFrame(series)
