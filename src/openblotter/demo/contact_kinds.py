"""The kinds of contact: how often each happens, when, by which units, and what is recorded.

Traffic stops, traffic and non-traffic citations, custodial arrests, field
interviews and case reports (offense reports, whose people are added
separately). Volumes are per year in 2016 and grow a little each year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openblotter.demo.common import lags, pick
from openblotter.demo.hate_crimes import CASE_HOURS
from openblotter.demo.people import draw

TRAFFIC_HOURS = (
    3.5,
    2.8,
    2.5,
    1.5,
    0.8,
    0.8,
    1.5,
    4,
    5.5,
    5,
    5,
    5,
    5,
    5,
    5.5,
    6.5,
    7,
    6.5,
    5.5,
    5,
    5,
    5,
    4.5,
    4,
)
NIGHT_HOURS = (
    5,
    5,
    4.5,
    3.5,
    2,
    1,
    1,
    1.5,
    2.5,
    3,
    3.5,
    4,
    4,
    4,
    4.5,
    5,
    5,
    5,
    5,
    5.5,
    6,
    6.5,
    6.5,
    6,
)


@dataclass(frozen=True)
class Kind:
    """One kind of contact and how often, when and by whom it happens."""

    key: str
    label: str  # Contact Type, as the export spells it
    prefix: str  # of the contact number
    per_year: float
    role: str
    profile: str
    hours: tuple[float, ...]
    covid_low: float
    units: dict[str, float]


KINDS = (
    Kind(
        "stop",
        "Traffic",
        "TS",
        2400,
        "D",
        "driver",
        TRAFFIC_HOURS,
        0.45,
        {"Patrol": 1, "Traffic": 6, "Criminal Investigations": 0.05, "Special Operations": 0.6},
    ),
    Kind(
        "tcite",
        "Citation - Traffic",
        "TC",
        300,
        "C",
        "cited",
        CASE_HOURS,
        0.7,
        {"Patrol": 1, "Traffic": 4, "Criminal Investigations": 0.05, "Special Operations": 0.3},
    ),
    Kind(
        "ncite",
        "Citation - Non-Traffic",
        "NC",
        600,
        "C",
        "cited",
        NIGHT_HOURS,
        0.6,
        {"Patrol": 1, "Traffic": 0.3, "Criminal Investigations": 0.1, "Special Operations": 1.2},
    ),
    Kind(
        "arrest",
        "Custodial Arrest",
        "AR",
        1300,
        "R",
        "arrestee",
        NIGHT_HOURS,
        0.7,
        {"Patrol": 1, "Traffic": 0.6, "Criminal Investigations": 0.3, "Special Operations": 1.5},
    ),
    Kind(
        "field",
        "Field Interview",
        "FI",
        350,
        "F",
        "stopped",
        NIGHT_HOURS,
        0.5,
        {"Patrol": 1, "Traffic": 0.3, "Criminal Investigations": 0.2, "Special Operations": 2},
    ),
    Kind(
        "case",
        "Offense Report",
        "",
        1500,
        "",
        "",
        CASE_HOURS,
        0.85,
        {"Patrol": 1, "Traffic": 0.2, "Criminal Investigations": 0.5, "Special Operations": 0.5},
    ),
)
KIND_ORDER = {k.key: i for i, k in enumerate(KINDS)}
RANK_WEIGHT = np.array([1.0, 0.9, 0.35, 0.08, 0.0, 0.0, 0.0])

STOP_REASONS = {
    "Speeding": 0.45,
    "Disregarded Stop Sign or Signal": 0.12,
    "Defective Equipment": 0.15,
    "Expired Tag or Registration": 0.12,
    "Seat Belt": 0.04,
    "Improper Lane Change": 0.07,
    "Other Moving Violation": 0.05,
}
STOP_OUTCOMES = {
    "Citation Issued": 0.5,
    "Written Warning": 0.3,
    "Verbal Warning": 0.15,
    "Custodial Arrest": 0.03,
    "No Action Taken": 0.02,
}
STOP_SEARCHES = {"Consent": 0.4, "Probable Cause": 0.35, "Inventory": 0.1, "Plain View": 0.15}
TRAFFIC_OFFENSES = {
    "FAILURE TO YIELD": 0.25,
    "FOLLOWING TOO CLOSELY": 0.2,
    "NO INSURANCE": 0.2,
    "INATTENTIVE DRIVING": 0.2,
    "NO DRIVER LICENSE": 0.15,
}
CITY_OFFENSES = {
    "PUBLIC INTOXICATION": 0.2,
    "POSSESSION OF MARIJUANA": 0.12,
    "LARCENY - PETIT": 0.18,
    "MINOR IN POSSESSION": 0.12,
    "DISTURBING THE PEACE": 0.1,
    "TRESPASSING": 0.1,
    "NOISE VIOLATION": 0.08,
    "ANIMAL AT LARGE": 0.1,
}
ARREST_OFFENSES = {
    "DUI": ("90D", 0.18),
    "OUTSTANDING WARRANT": ("90Z", 0.25),
    "ASSAULT AND BATTERY": ("13B", 0.1),
    "DOMESTIC ABUSE": ("13B", 0.1),
    "POSSESSION OF CDS": ("35A", 0.1),
    "PUBLIC INTOXICATION": ("90E", 0.08),
    "LARCENY": ("23C", 0.07),
    "DRIVING UNDER SUSPENSION": ("90Z", 0.06),
    "BURGLARY": ("220", 0.03),
    "OBSTRUCTING AN OFFICER": ("90Z", 0.03),
}
ARREST_REASONS = {
    "Call for Service": 0.55,
    "On View": 0.3,
    "Traffic Stop": 0.1,
    "Warrant Service": 0.05,
}
FIELD_REASONS = {
    "Suspicious Person": 0.45,
    "Suspicious Vehicle": 0.3,
    "Trespass Warning": 0.15,
    "Welfare Check": 0.1,
}
FIELD_OUTCOMES = {"No Action Taken": 0.7, "Verbal Warning": 0.2, "Report Written": 0.1}
CASE_OFFENSES = {
    "23H": ("All Other Larceny", 0.16),
    "23F": ("Theft From Motor Vehicle", 0.10),
    "290": ("Destruction/Damage/Vandalism of Property", 0.12),
    "13B": ("Simple Assault", 0.14),
    "220": ("Burglary/Breaking & Entering", 0.08),
    "240": ("Motor Vehicle Theft", 0.05),
    "26A": ("False Pretenses/Swindle/Confidence Game", 0.09),
    "13A": ("Aggravated Assault", 0.04),
    "13C": ("Intimidation", 0.04),
    "35A": ("Drug/Narcotic Violations", 0.06),
    "23C": ("Shoplifting", 0.06),
    "120": ("Robbery", 0.01),
    "11A": ("Rape", 0.01),
    "90Z": ("All Other Offenses", 0.04),
}
CASE_STATUSES = {
    "Cleared by Arrest": 0.22,
    "Exceptionally Cleared": 0.05,
    "Inactive": 0.58,
    "Unfounded": 0.05,
    "Open": 0.10,
}


def details(rng: np.random.Generator, kind: Kind, n: int) -> dict[str, np.ndarray]:
    """What happened: reason, offense, outcome, search; the person for one-person contacts."""
    if kind.key == "case":
        return _case(rng, n)
    none = np.full(n, None, dtype=object)
    out = {
        "role": np.full(n, kind.role, dtype=object),
        **draw(rng, kind.profile, n),
        "reason": none,
        "offense": none,
        "offense_code": none,
        "outcome": none,
        "search": np.zeros(n, dtype=bool),
        "search_type": none,
    }
    fill = {
        "stop": _stop,
        "tcite": _citation,
        "ncite": _citation,
        "arrest": _arrest,
        "field": _field,
    }
    fill[kind.key](rng, kind, out, n)
    return out


def _case(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    offense = pick(rng, {k: v[1] for k, v in CASE_OFFENSES.items()}, n)
    return {
        "offense_code": offense,
        "offense": np.array([CASE_OFFENSES[o][0] for o in offense], dtype=object),
        "outcome": np.full(n, "Report Written", dtype=object),
        "victims": rng.choice([0, 1, 2], size=n, p=[0.06, 0.84, 0.10]),
        "suspects": rng.choice([0, 1, 2], size=n, p=[0.55, 0.35, 0.10]),
        "witnesses": (rng.random(n) < 0.15).astype(int),
        "status": pick(rng, CASE_STATUSES, n),
        "status_lag": lags(rng, n, 75, least=7).astype(int),
        "reclassified": (offense == "13B") & (rng.random(n) < 0.08),
    }


def _stop(rng: np.random.Generator, kind: Kind, out: dict[str, np.ndarray], n: int) -> None:
    """Searches are planted a little more often for Black, Hispanic and American Indian drivers."""
    out["reason"] = pick(rng, STOP_REASONS, n)
    out["offense"] = np.char.upper(out["reason"].astype(str)).astype(object)
    out["outcome"] = pick(rng, STOP_OUTCOMES, n)
    race = out["race"]
    boost = np.select([race == "B", race == "H", race == "I"], [1.6, 1.3, 1.2], 1.0)
    arrested = out["outcome"] == "Custodial Arrest"
    out["search"] = arrested | (rng.random(n) < 0.035 * boost)
    searched = np.where(out["search"], pick(rng, STOP_SEARCHES, n), None)
    out["search_type"] = np.where(arrested, "Incident to Arrest", searched)


def _citation(rng: np.random.Generator, kind: Kind, out: dict[str, np.ndarray], n: int) -> None:
    out["offense"] = pick(rng, TRAFFIC_OFFENSES if kind.key == "tcite" else CITY_OFFENSES, n)
    out["reason"] = np.where(rng.random(n) < 0.6, "Call for Service", "On View").astype(object)
    out["outcome"] = np.full(n, "Citation Issued", dtype=object)


def _arrest(rng: np.random.Generator, kind: Kind, out: dict[str, np.ndarray], n: int) -> None:
    offense = pick(rng, {k: v[1] for k, v in ARREST_OFFENSES.items()}, n)
    out["offense"] = offense
    out["offense_code"] = np.array([ARREST_OFFENSES[o][0] for o in offense], dtype=object)
    out["reason"] = pick(rng, ARREST_REASONS, n)
    out["outcome"] = np.full(n, "Custodial Arrest", dtype=object)
    out["search"] = rng.random(n) < 0.85
    out["search_type"] = np.where(out["search"], "Incident to Arrest", None)


def _field(rng: np.random.Generator, kind: Kind, out: dict[str, np.ndarray], n: int) -> None:
    out["reason"] = pick(rng, FIELD_REASONS, n)
    out["outcome"] = pick(rng, FIELD_OUTCOMES, n)
    out["search"] = rng.random(n) < 0.08
    out["search_type"] = np.where(out["search"], "Consent", None)
