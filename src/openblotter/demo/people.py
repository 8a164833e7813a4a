"""Who the community members in police records are: race, sex and age by kind of contact.

THE PLANTED DISPARITY. Race is drawn from the census shares of Norman's
residents, multiplied per kind of contact: Black residents are about 1.75
times as likely as an average resident to be a stopped driver, about 2 times
as likely to be arrested, and a little more often searched at a stop (1.6
times the search rate) and subjected to force after an arrest (1.25 times).
Hispanic and American Indian residents are slightly over-represented (1.1 to
1.5), Asian residents under-represented (0.4 to 0.8). The remainder is White,
so White residents come out near 1.1 (residents of two or more races, 10% of
the census, are almost never recorded as such by an officer). These are
modest, round multipliers meant to make the community benchmark show
something; they describe nothing real.

Officers record perceived race, so a small share is Unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openblotter.demo.common import pick

#: Residents' shares by the police race codes (from norman.RACE_2020; two or more races left out).
RESIDENT_SHARES = {"B": 0.0445, "I": 0.0387, "A": 0.0437, "P": 0.001, "H": 0.0855}


@dataclass(frozen=True)
class Profile:
    """The demographics of one kind of person in one kind of contact."""

    multipliers: dict[str, float]
    unknown: float
    male: float
    youngest: int
    age_shape: float
    age_scale: float

    def race_weights(self) -> dict[str, float]:
        weights = {
            code: share * self.multipliers.get(code, 1.0) for code, share in RESIDENT_SHARES.items()
        }
        weights["U"] = self.unknown
        weights["W"] = 1.0 - sum(weights.values())
        return weights


PROFILES = {
    "driver": Profile({"B": 1.75, "H": 1.15, "I": 1.2, "A": 0.6}, 0.012, 0.6, 16, 2.2, 8.0),
    "cited": Profile({"B": 1.7, "H": 1.2, "I": 1.3, "A": 0.55}, 0.01, 0.64, 16, 2.2, 8.0),
    "arrestee": Profile({"B": 2.0, "H": 1.1, "I": 1.5, "A": 0.4}, 0.008, 0.75, 18, 2.5, 6.0),
    "stopped": Profile({"B": 2.2, "H": 1.2, "I": 1.5, "A": 0.5}, 0.02, 0.78, 16, 2.0, 7.0),
    "victim": Profile({"B": 1.3, "H": 1.0, "I": 1.2, "A": 0.8}, 0.02, 0.48, 10, 2.8, 10.0),
    "suspect": Profile({"B": 1.9, "H": 1.1, "I": 1.4, "A": 0.4}, 0.15, 0.72, 14, 2.5, 7.0),
    "witness": Profile({"B": 1.0, "H": 0.9, "I": 1.0, "A": 0.9}, 0.03, 0.5, 16, 2.5, 10.0),
    "complainant": Profile({"B": 1.6, "H": 1.0, "I": 1.2, "A": 0.7}, 0.1, 0.55, 18, 3.0, 9.0),
}
#: Contact role code (see codes.ROLE) -> profile.
ROLE_PROFILES = {
    "D": "driver",
    "C": "cited",
    "R": "arrestee",
    "F": "stopped",
    "V": "victim",
    "S": "suspect",
    "W": "witness",
    "P": "witness",
}


def draw(rng: np.random.Generator, profile: str, n: int) -> dict[str, np.ndarray]:
    """Race code, sex code and age of ``n`` people of one profile."""
    chosen = PROFILES[profile]
    age = chosen.youngest + rng.gamma(chosen.age_shape, chosen.age_scale, n)
    return {
        "race": pick(rng, chosen.race_weights(), n),
        "sex": np.where(rng.random(n) < chosen.male, "M", "F").astype(object),
        "age": np.clip(age, chosen.youngest, 95).astype("int64"),
    }


def draw_by_role(rng: np.random.Generator, roles: np.ndarray) -> dict[str, np.ndarray]:
    """Demographics for people whose roles differ row by row."""
    n = len(roles)
    out = {
        "race": np.empty(n, dtype=object),
        "sex": np.empty(n, dtype=object),
        "age": np.zeros(n, dtype="int64"),
    }
    for role, profile in ROLE_PROFILES.items():
        where = np.flatnonzero(roles == role)
        if where.size:
            drawn = draw(rng, profile, where.size)
            for key in out:
                out[key][where] = drawn[key]
    return out
