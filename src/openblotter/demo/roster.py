"""The department: about 170 sworn officers and 65 civilians, hired, promoted and leaving.

Everyone on the roster has an employee number that stays the same across
every dataset (contacts, use of force, complaints), so the hashed officer IDs
of the published data line up. Officers are hired in academy classes twice a
year to keep the sworn strength near the budget; they are promoted after
years of service and leave by retirement or resignation. A few employees were
entered with an unknown race that human resources corrects later, which
changes the older department-demographics snapshots in the release after the
correction (each release recomputes its history from current records).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from openblotter.demo.common import DemoSpan, pick, stream

RANKS = (
    "Police Officer",
    "Master Police Officer",
    "Sergeant",
    "Lieutenant",
    "Captain",
    "Major",
    "Chief of Police",
)
RANK_CODES = ("PO", "MPO", "SGT", "LT", "CPT", "MAJ", "CHF")
CHIEF = 6
SWORN_UNITS = {
    "Patrol": 0.68,
    "Traffic": 0.09,
    "Criminal Investigations": 0.15,
    "Special Operations": 0.08,
}
CIVILIAN_TITLES = {
    "Communications Specialist": 0.35,
    "Records Clerk": 0.2,
    "Administrative Assistant": 0.12,
    "Crime Analyst": 0.06,
    "Property and Evidence Technician": 0.08,
    "Crime Scene Investigator": 0.07,
    "Animal Welfare Officer": 0.12,
}
#: Race of sworn officers on the roster in 2016 and of later hires (human-resources records).
SWORN_RACE = {"W": 0.80, "B": 0.035, "I": 0.06, "A": 0.015, "H": 0.065, "M": 0.02, "U": 0.005}
HIRE_RACE = {"W": 0.72, "B": 0.055, "I": 0.065, "A": 0.02, "H": 0.105, "M": 0.03, "U": 0.005}
CIVILIAN_RACE = {"W": 0.76, "B": 0.06, "I": 0.06, "A": 0.02, "H": 0.08, "M": 0.02}

_START = date(2016, 1, 1)
_INITIAL_SWORN, _INITIAL_CIVILIANS = 166, 62
_CHIEF_HANDOVER = date(2021, 7, 1)


@dataclass
class Roster:
    """Every employee of the span, one array element each (hire order)."""

    employee_id: np.ndarray
    sworn: np.ndarray
    race: np.ndarray  # as human resources knows it after any correction
    race_recorded: np.ndarray  # as first entered ("U" for the few corrected later)
    race_fixed_on: np.ndarray  # datetime64[D]; NaT when never corrected
    sex: np.ndarray
    birth: np.ndarray  # datetime64[D]
    hired: np.ndarray
    separated: np.ndarray  # NaT while still employed
    unit: np.ndarray  # sworn: unit; civilians: job title
    promotion_years: np.ndarray  # (n, 5): years of service to MPO, SGT, LT, CPT, MAJ (inf: never)
    chief_from: np.ndarray
    chief_to: np.ndarray
    activity: np.ndarray  # how busy an officer is (some make many more stops than others)

    def active_on(self, day: date) -> np.ndarray:
        """Who is employed on ``day``."""
        today = np.datetime64(day)
        return (self.hired <= today) & (np.isnat(self.separated) | (self.separated > today))

    def rank_on(self, day: date) -> np.ndarray:
        """Rank index (into RANKS) of every sworn employee on ``day`` (civilians: -1)."""
        years = (np.datetime64(day) - self.hired).astype(float) / 365.25
        rank = (years[:, None] >= self.promotion_years).sum(axis=1)
        today = np.datetime64(day)
        chief = (self.chief_from <= today) & (self.chief_to >= today)
        return np.where(~self.sworn, -1, np.where(chief, CHIEF, rank))

    def unit_on(self, day: date) -> np.ndarray:
        """The unit of every employee on ``day`` (captains and above are Administration)."""
        return np.where(self.rank_on(day) >= 4, "Administration", self.unit).astype(object)

    def frame(self) -> pl.DataFrame:
        """The roster as a table (for joining officer details onto events)."""
        return pl.DataFrame(
            {
                "officer": np.arange(len(self.employee_id)),
                "officer_id": self.employee_id.astype(str),
                "officer_race": self.race.astype(str),
                "officer_race_recorded": self.race_recorded.astype(str),
                "officer_race_fixed_on": self.race_fixed_on,
                "officer_sex": self.sex.astype(str),
                "officer_birth": self.birth,
                "officer_hired": self.hired,
                "officer_unit": self.unit.astype(str),
            }
        ).with_columns(
            pl.col("officer_race_fixed_on", "officer_birth", "officer_hired").cast(pl.Date)
        )


def build_roster(seed: int, span: DemoSpan) -> Roster:
    """Everyone employed at some time from 2016 to the end of ``span``."""
    people = [_initial(seed, sworn=True), _initial(seed, sworn=False)]
    _appoint_chiefs(people[0])
    for day, kind in _hiring_days(span):
        hire = _academy_class if kind == "academy" else _civilian_hires
        people.append(hire(seed, _as_roster(people), day))
    return _numbered(_as_roster(people))


def _hiring_days(span: DemoSpan) -> list[tuple[date, str]]:
    """Academy classes start in January and July; civilians are hired each quarter."""
    days = [(date(year, month, 1), "civilians") for year in span.years for month in (1, 4, 7, 10)]
    days += [(date(year, month, 15), "academy") for year in span.years for month in (1, 7)]
    return sorted(d for d in days if _START < d[0] <= span.end)


def _people(
    rng: np.random.Generator,
    n: int,
    hired: np.ndarray,
    *,
    sworn: bool,
    races: dict[str, float],
    women: float,
) -> dict[str, np.ndarray]:
    age_at_hire = np.clip(21 + rng.gamma(2.0, 2.4, n), 21, 45)
    birth = hired - (age_at_hire * 365.25).astype("int64").astype("timedelta64[D]")
    race = pick(rng, races, n)
    unknown_first = rng.random(n) < 0.04
    fixed_on = hired + (120 + rng.exponential(500, n)).astype("int64").astype("timedelta64[D]")
    mpo = np.clip(rng.normal(5, 0.8, n), 3.5, None)
    steps = [mpo]
    for share, mean in ((0.5, 4.5), (0.55, 4.0), (0.55, 3.5), (0.5, 3.0)):
        chosen = rng.random(n) < share
        steps.append(
            np.where(chosen, steps[-1] + np.clip(rng.normal(mean, 1.3, n), 2, None), np.inf)
        )
    return {
        "sworn": np.full(n, sworn),
        "race": race,
        "race_recorded": np.where(unknown_first, "U", race).astype(object),
        "race_fixed_on": np.where(unknown_first, fixed_on, np.datetime64("NaT")),
        "sex": np.where(rng.random(n) < women, "F", "M").astype(object),
        "birth": birth,
        "hired": hired,
        "unit": pick(rng, SWORN_UNITS if sworn else CIVILIAN_TITLES, n),
        "promotion_years": np.stack(steps, axis=1) if sworn else np.full((n, 5), np.inf),
        "activity": rng.lognormal(0, 0.5, n),
    }


def _initial(seed: int, *, sworn: bool) -> dict[str, np.ndarray]:
    rng = stream(seed, "roster", "initial", "sworn" if sworn else "civilian")
    n = _INITIAL_SWORN if sworn else _INITIAL_CIVILIANS
    years = np.clip(rng.exponential(9.5 if sworn else 8.0, n), 0.1, 29.5)
    hired = np.datetime64(_START) - (years * 365.25).astype("int64").astype("timedelta64[D]")
    order = np.argsort(hired, kind="stable")
    hired = hired[order]
    group = _people(
        rng,
        n,
        hired,
        sworn=sworn,
        races=SWORN_RACE if sworn else CIVILIAN_RACE,
        women=0.11 if sworn else 0.7,
    )
    service = (np.datetime64(_START) - hired).astype(float) / 365.25
    retire = np.clip(rng.normal(25, 3.5, n), 20, 33)
    retire = np.where(retire <= service, service + rng.uniform(0.2, 4, n), retire)
    leave = np.datetime64(_START) + (rng.exponential(1 / 0.03, n) * 365.25).astype("int64").astype(
        "timedelta64[D]"
    )
    group["separated"] = np.minimum(
        hired + (retire * 365.25).astype("int64").astype("timedelta64[D]"), leave
    )
    return group


def _appoint_chiefs(sworn: dict[str, np.ndarray]) -> None:
    """The most senior officer is chief until mid-2021; a senior officer succeeds them."""
    n = len(sworn["hired"])
    sworn["chief_from"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    sworn["chief_to"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    first = 0  # hire order: the most senior
    sworn["chief_from"][first] = np.datetime64(_START)
    sworn["chief_to"][first] = np.datetime64(_CHIEF_HANDOVER - timedelta(days=1))
    sworn["separated"][first] = np.datetime64(_CHIEF_HANDOVER)
    handover = np.datetime64(_CHIEF_HANDOVER)
    senior = (sworn["hired"] < np.datetime64(date(2004, 1, 1))) & (sworn["separated"] > handover)
    senior[first] = False
    successor = int(np.flatnonzero(senior)[0]) if senior.any() else 1
    sworn["chief_from"][successor] = handover
    sworn["chief_to"][successor] = np.datetime64(date(2099, 1, 1))
    sworn["separated"][successor] = np.datetime64("NaT")


def _academy_class(seed: int, roster: Roster, day: date) -> dict[str, np.ndarray]:
    rng = stream(seed, "roster", "academy", day.isoformat())
    years = (day - _START).days / 365.25
    target = 170 + 1.1 * years - (4 if date(2020, 7, 1) <= day <= date(2021, 7, 1) else 0)
    active = int((roster.active_on(day) & roster.sworn).sum())
    n = int(np.clip(round(target - active) + rng.integers(0, 4), 2, 16))
    group = _people(rng, n, np.full(n, np.datetime64(day)), sworn=True, races=HIRE_RACE, women=0.16)
    return _with_leaving(rng, group, day, quit_rate=0.05)


def _civilian_hires(seed: int, roster: Roster, day: date) -> dict[str, np.ndarray]:
    rng = stream(seed, "roster", "civilians", day.isoformat())
    target = 64 + 0.6 * (day - _START).days / 365.25
    active = int((roster.active_on(day) & ~roster.sworn).sum())
    n = int(np.clip(round(target - active) + rng.integers(-1, 2), 0, 8))
    group = _people(
        rng, n, np.full(n, np.datetime64(day)), sworn=False, races=CIVILIAN_RACE, women=0.7
    )
    return _with_leaving(rng, group, day, quit_rate=0.09)


def _with_leaving(
    rng: np.random.Generator, group: dict[str, np.ndarray], day: date, *, quit_rate: float
) -> dict[str, np.ndarray]:
    n = len(group["hired"])
    career = np.clip(rng.normal(25, 3.5, n), 20, 33)
    leave = np.minimum(rng.exponential(1 / quit_rate, n), career)
    group["separated"] = np.datetime64(day) + (leave * 365.25).astype("int64").astype(
        "timedelta64[D]"
    )
    return group


def _as_roster(groups: list[dict[str, np.ndarray]]) -> Roster:
    def joined(key: str, empty: object) -> np.ndarray:
        parts = [g[key] if key in g else np.full(len(g["hired"]), empty) for g in groups]
        return np.concatenate(parts)

    nat = np.datetime64("NaT", "D")
    return Roster(
        employee_id=np.zeros(sum(len(g["hired"]) for g in groups), dtype=object),
        sworn=joined("sworn", False),
        race=joined("race", "U"),
        race_recorded=joined("race_recorded", "U"),
        race_fixed_on=joined("race_fixed_on", nat).astype("datetime64[D]"),
        sex=joined("sex", "U"),
        birth=joined("birth", nat).astype("datetime64[D]"),
        hired=joined("hired", nat).astype("datetime64[D]"),
        separated=joined("separated", nat).astype("datetime64[D]"),
        unit=joined("unit", ""),
        promotion_years=np.concatenate([g["promotion_years"] for g in groups]),
        chief_from=joined("chief_from", nat).astype("datetime64[D]"),
        chief_to=joined("chief_to", nat).astype("datetime64[D]"),
        activity=joined("activity", 1.0),
    )


def _numbered(roster: Roster) -> Roster:
    """Employee numbers in hire order: sworn 1001, 1002...; civilians C2001, C2002..."""
    ids = np.empty(len(roster.sworn), dtype=object)
    sworn = np.flatnonzero(roster.sworn)
    civilians = np.flatnonzero(~roster.sworn)
    ids[sworn] = [str(1001 + i) for i in range(len(sworn))]
    ids[civilians] = [f"C{2001 + i}" for i in range(len(civilians))]
    roster.employee_id = ids
    return roster
