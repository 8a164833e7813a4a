"""Use of force: about one arrest in twenty, and a few mental-health and welfare contacts.

Each incident starts from a contact in Contacts (same officer, person, place
and time); one or two more officers on duty that month may join. Each
officer used one to three types of force on the person. Force follows
arrests of Black residents a little more often (1.25 times), on top of the
arrest disparity (see people.py).

Until 2020 the export had one row per officer and person, the types of force
listed in one cell and 12-hour times; from 2021 the new system exports one
row per type of force, with renamed and reordered columns and 24-hour times
(two mapping files). Injuries are often recorded a few weeks after the
report is entered, so later releases change older rows.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from openblotter.demo.common import lags, pick, stream, table
from openblotter.demo.contacts import officers_that_month
from openblotter.demo.roster import Roster

FORCES = {
    "Control Hold": 0.30,
    "Takedown": 0.22,
    "Taser Display": 0.10,
    "Taser Deployment": 0.08,
    "OC Spray": 0.04,
    "Hand Strike": 0.07,
    "Firearm Pointed": 0.07,
    "Leg Restraint": 0.04,
    "Escort": 0.05,
    "K-9": 0.01,
    "Baton Strike": 0.01,
}
FORCE_REASONS = {
    "Resisting Arrest": 0.4,
    "Non-Compliance": 0.25,
    "Assault on Officer": 0.1,
    "Fleeing": 0.12,
    "Danger to Self": 0.08,
    "Armed Subject": 0.05,
}
CONDITIONS = {"Alcohol": 0.3, "Drugs": 0.2, "Mental Illness": 0.15, "None Detected": 0.35}
OFFENSE_RISK = {
    "ASSAULT AND BATTERY": 1.8,
    "DOMESTIC ABUSE": 1.6,
    "OBSTRUCTING AN OFFICER": 3.0,
    "DUI": 0.6,
    "PUBLIC INTOXICATION": 1.3,
}


def build_use_of_force(seed: int, contacts: pl.DataFrame, roster: Roster) -> pl.DataFrame:
    """One row per officer and person in a use-of-force incident, its force types as a list."""
    rng = stream(seed, "use_of_force")
    people = contacts.filter(pl.col("kind").is_in(["arrest", "field"])).sort("year", "case_number")
    race = people["race"].to_numpy()
    offense_risk = people["offense"].replace_strict(
        OFFENSE_RISK, default=1.0, return_dtype=pl.Float64
    )
    chance = np.where(people["kind"].to_numpy() == "arrest", 0.065, 0.02) * offense_risk.to_numpy()
    chance *= np.where(race == "B", 1.25, 1.0)
    incidents = people.filter(pl.Series(rng.random(people.height) < chance))
    incidents = _numbered(incidents)
    officers = _officers(rng, incidents, contacts)
    officers = officers.drop(
        [c for c in officers.columns if c.startswith("officer_") and c != "officer_seq"]
    )
    return _forces(rng, officers.join(roster.frame(), on="officer", how="left"))


def _numbered(incidents: pl.DataFrame) -> pl.DataFrame:
    return incidents.with_columns(
        pl.format(
            "UF{}-{}",
            (pl.col("year") % 100).cast(pl.String).str.zfill(2),
            (pl.int_range(pl.len()).over("year") + 1).cast(pl.String).str.zfill(4),
        ).alias("incident_id"),
    )


def _officers(
    rng: np.random.Generator, incidents: pl.DataFrame, contacts: pl.DataFrame
) -> pl.DataFrame:
    """The contact's officer, and for some incidents one or two officers working that month."""
    extra = rng.choice([0, 1, 2], size=incidents.height, p=[0.55, 0.33, 0.12])
    days = incidents["incident_date"].to_numpy()
    chosen = [incidents["officer"].to_numpy()]
    rows = []
    for number in range(3):
        if number:
            chosen.append(officers_that_month(rng, contacts, days))
        others = np.any([chosen[number] == earlier for earlier in chosen[:number]], axis=0)
        keep = (extra >= number) & ~(others if number else np.zeros_like(extra, dtype=bool))
        rows.append(
            incidents.filter(pl.Series(keep)).with_columns(
                pl.Series("officer", chosen[number][keep]), pl.lit(number + 1).alias("officer_seq")
            )
        )
    return pl.concat(rows).sort("incident_id", "officer_seq")


def _forces(rng: np.random.Generator, records: pl.DataFrame) -> pl.DataFrame:
    n = records.height
    how_many = rng.choice([1, 2, 3], size=n, p=[0.5, 0.35, 0.15])
    names = list(FORCES)
    weights = np.asarray(list(FORCES.values()))
    forces = [
        list(rng.choice(names, size=k, replace=False, p=weights / weights.sum())) for k in how_many
    ]
    effective = [list(pick(rng, {"Yes": 0.75, "No": 0.15, "Limited": 0.1}, len(f))) for f in forces]
    injured = rng.random(n) < 0.3
    serious = injured & (rng.random(n) < 0.13)
    officer_hurt = rng.random(n) < 0.1
    entered = records["incident_date"].to_numpy() + lags(rng, n, 8, least=1)
    late_injury = rng.random(n) < 0.2
    details = table(
        {
            "force_reason": pick(rng, FORCE_REASONS, n),
            "condition": pick(rng, CONDITIONS, n),
            "subject_injured": injured,
            "injury_severity": np.where(serious, "Serious", np.where(injured, "Minor", "None")),
            "subject_hospitalized": serious & (rng.random(n) < 0.4)
            | (injured & (rng.random(n) < 0.05)),
            "officer_injured": officer_hurt,
            "officer_hospitalized": officer_hurt & (rng.random(n) < 0.1),
            "uof_entered": entered,
            "injury_recorded_on": np.where(
                late_injury, entered + lags(rng, n, 45, least=7), entered
            ),
            "officer_injury_recorded_on": np.where(
                officer_hurt & (rng.random(n) < 0.3), entered + lags(rng, n, 30, least=5), entered
            ),
            "cew_cycles": rng.choice(["1", "2", "3"], size=n, p=[0.7, 0.25, 0.05]),
        }
    )
    return records.hstack(details).with_columns(
        pl.Series("forces", forces, dtype=pl.List(pl.String)),
        pl.Series("effective", effective, dtype=pl.List(pl.String)),
        pl.col("uof_entered", "injury_recorded_on", "officer_injury_recorded_on").cast(pl.Date),
    )
