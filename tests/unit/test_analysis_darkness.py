"""Veil of darkness: finds a planted effect, finds none when there is none, runs on real stops."""

from __future__ import annotations

import csv
import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from astral import Observer
from astral.sun import dusk, sunset

from openblotter.analysis.darkness import NORMAN_OK, Place, sun_times, veil_of_darkness
from openblotter.domain.errors import InvalidInput

ZONE = ZoneInfo("America/Chicago")
OBSERVER = Observer(latitude=35.2226, longitude=-97.4395)


def _minutes(moment: datetime) -> float:
    return moment.hour * 60 + moment.minute + moment.second / 60


def simulate_stops(odds_ratio: float, n: int, seed: int, first=date(2024, 1, 1), days=731):
    """Stops in Norman between 16:00 and 22:00 over two years.

    The chance that a stopped driver is Black rises with clock time and is
    multiplied (in odds) by ``odds_ratio`` after the end of civil dusk. Darkness
    here is computed straight from astral, not by the code under test.
    """
    rng = np.random.default_rng(seed)
    suns: dict[date, tuple[float, float]] = {}
    times, groups = [], []
    for offset, minute in zip(
        rng.integers(0, days, n), rng.uniform(16 * 60, 22 * 60, n), strict=True
    ):
        day = first + timedelta(days=int(offset))
        if day not in suns:
            suns[day] = (
                _minutes(sunset(OBSERVER, day, tzinfo=ZONE)),
                _minutes(dusk(OBSERVER, day, tzinfo=ZONE)),
            )
        dark = minute > suns[day][1]
        logit = -1.0 + 0.15 * (minute - 1140) / 60 + math.log(odds_ratio) * dark
        in_group = rng.random() < 1 / (1 + math.exp(-logit))
        times.append(datetime.combine(day, datetime.min.time()) + timedelta(minutes=float(minute)))
        groups.append("Black" if in_group else "White")
    return times, groups


def test_recovers_a_planted_darkness_effect():
    times, groups = simulate_stops(0.7, 20_000, seed=7)
    result = veil_of_darkness(times, groups, group_of_interest="Black", place=NORMAN_OK)
    assert result.ci.low < 0.7 < result.ci.high
    assert result.ci.high < 1.0
    assert result.p_value < 0.001
    assert result.converged
    assert result.odds_ratio == pytest.approx(math.exp(result.log_odds_ratio))
    assert result.share_in_group_dark < result.share_in_group_light


def test_no_planted_effect_gives_an_interval_that_covers_one():
    times, groups = simulate_stops(1.0, 20_000, seed=11)
    result = veil_of_darkness(times, groups, group_of_interest={"Black"}, place=NORMAN_OK)
    assert result.ci.low < 1.0 < result.ci.high
    assert result.p_value > 0.05


def test_window_is_latest_sunset_to_earliest_dusk_and_every_stop_is_accounted_for():
    times, groups = simulate_stops(1.0, 4_000, seed=3)
    groups[:5] = ["Unknown", None, "", "Unknown", None]
    times[5] = None
    result = veil_of_darkness(times, groups, group_of_interest="Black", place=NORMAN_OK)
    # Norman: earliest dusk about 17:45 (early December, CST), latest sunset about 20:48
    # (late June, CDT).
    assert result.window_start == "17:45"
    assert result.window_end in ("20:47", "20:48")
    assert result.excluded["unknown_group"] == 5 and result.excluded["missing_time"] == 1
    assert result.n + sum(result.excluded.values()) == 4_000
    assert result.n == result.n_dark + result.n_light
    assert result.excluded["between_sunset_and_dusk"] > 0
    assert any("spline" in c for c in result.controls)
    assert len(result.assumptions) >= 4
    assert result.to_dict()["place"]["timezone"] == "America/Chicago"


def test_sun_times_are_local_clock_minutes():
    suns = sun_times({date(2025, 6, 21), date(2025, 12, 21)}, NORMAN_OK)
    june_sunset, june_dusk = suns[date(2025, 6, 21)]
    december_sunset, _ = suns[date(2025, 12, 21)]
    assert 20 * 60 + 40 < june_sunset < 20 * 60 + 55  # about 8:47 pm CDT
    assert 25 < june_dusk - june_sunset < 35
    assert 17 * 60 + 15 < december_sunset < 17 * 60 + 25  # about 5:20 pm CST


def test_aware_times_are_converted_to_the_city_clock():
    times, groups = simulate_stops(1.0, 3_000, seed=5)
    utc = [t.replace(tzinfo=ZONE).astimezone(ZoneInfo("UTC")) for t in times]
    naive = veil_of_darkness(times, groups, group_of_interest="Black", place=NORMAN_OK)
    aware = veil_of_darkness(utc, groups, group_of_interest="Black", place=NORMAN_OK)
    assert aware.n == naive.n and aware.odds_ratio == pytest.approx(naive.odds_ratio)


def test_one_season_has_no_window_and_says_what_to_do():
    times, groups = simulate_stops(1.0, 2_000, seed=2, first=date(2024, 6, 1), days=30)
    with pytest.raises(InvalidInput, match="full year"):
        veil_of_darkness(times, groups, group_of_interest="Black", place=NORMAN_OK)


def test_lengths_must_match():
    with pytest.raises(InvalidInput, match="one group per stop"):
        veil_of_darkness([datetime(2024, 1, 1, 18)], [], group_of_interest="Black", place=NORMAN_OK)


def test_runs_on_real_rhode_island_state_police_stops(real_data):
    # The Stanford Open Policing Project sample; its last line is cut short (SOURCES.md).
    times, groups = [], []
    with open(real_data / "rhode_island" / "police.csv", newline="") as f:
        for row in csv.DictReader(f):
            stamp = f"{row['stop_date']} {row['stop_time']}"
            times.append(datetime.strptime(stamp, "%Y-%m-%d %H:%M") if row["stop_time"] else None)
            groups.append(row.get("driver_race") or None)
    providence = Place("Providence, Rhode Island", 41.824, -71.4128, "America/New_York")
    result = veil_of_darkness(
        times, groups, group_of_interest="Black", reference=None, place=providence
    )
    assert result.n + sum(result.excluded.values()) == len(times) == 27918
    assert result.excluded["unknown_group"] >= 1454  # rows blank apart from date, time, district
    assert result.n > 1000 and result.n_dark > 100 and result.n_light > 100
    assert 0 < result.ci.low < result.odds_ratio < result.ci.high
    assert "16:" in result.window_start and result.window_end.startswith("20:")


def test_only_the_two_groups_compared_are_in_the_sample_and_the_rest_are_counted():
    times, groups = simulate_stops(1.0, 3_000, seed=9)
    groups[:300] = ["Asian"] * 300
    against_white = veil_of_darkness(times, groups, group_of_interest="Black", place=NORMAN_OK)
    against_all = veil_of_darkness(
        times, groups, group_of_interest="Black", reference=None, place=NORMAN_OK
    )
    assert against_white.excluded["other_group"] == 300
    assert against_all.excluded["other_group"] == 0
    assert against_all.n > against_white.n
    assert "against drivers recorded as White" in against_white.comparison
    assert "every other driver" in against_all.comparison


def test_controls_follow_the_data_and_the_plain_estimate_stands_beside():
    times, groups = simulate_stops(0.7, 6_000, seed=4)
    areas = ["North" if i % 2 else "South" for i in range(len(times))]
    result = veil_of_darkness(
        times, groups, group_of_interest="Black", place=NORMAN_OK, geography=areas
    )
    assert result.control_keys == ("geography", "year")  # two years of stops, two areas
    assert [e.label for e in result.estimates] == ["clock time only", "with controls"]
    assert result.estimates[-1].odds_ratio == result.odds_ratio
    assert any("geography" in c for c in result.controls)
    one_year = veil_of_darkness(
        times, groups, group_of_interest="Black", place=NORMAN_OK, controls=["day_of_week"]
    )
    assert one_year.control_keys == ("day_of_week",)
    with pytest.raises(InvalidInput, match="no district, beat or sector"):
        veil_of_darkness(
            times, groups, group_of_interest="Black", place=NORMAN_OK, controls=["geography"]
        )
