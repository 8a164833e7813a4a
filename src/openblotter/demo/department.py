"""Department demographics: head counts on the last day of every quarter, hires, departures.

Each release recomputes every quarter since 2016 from the personnel records
of its day (so a corrected race changes older quarters too): employees by
sworn or civilian, rank or title, race and sex; the positions the budget
authorizes; and the hires and departures of the quarter. Every count comes
from the roster that the other datasets' officers belong to.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from openblotter.demo import codes
from openblotter.demo.common import DemoSpan, as_of
from openblotter.demo.roster import CIVILIAN_TITLES, RANK_CODES, RANKS, Roster

_TITLE_CODES = {
    title: "".join(w[0] for w in title.split() if w[0].isupper()) for title in CIVILIAN_TITLES
}
_MEASURES = {"EMP": "Actual", "AUTH": "Authorized", "HIRE": "Hired", "SEP": "Separated"}
_TYPES = {
    1: {"S": "Commissioned", "N": "Civilian"},
    2: {"S": "Commissioned", "N": "Civilian"},
    3: {"S": "Sworn", "N": "Non-Sworn"},
}


def build_department(roster: Roster, span: DemoSpan) -> pl.DataFrame:
    """One row per employee per quarter: on the payroll that day, hired or gone that quarter."""
    frames = []
    for quarter in span.quarters:
        day = quarter.end
        ranks = roster.rank_on(day)
        title = np.where(
            roster.sworn, np.asarray(RANKS, dtype=object)[np.clip(ranks, 0, None)], roster.unit
        )
        code = np.where(
            roster.sworn,
            np.asarray(RANK_CODES, dtype=object)[np.clip(ranks, 0, None)],
            [_TITLE_CODES.get(t, "X") for t in roster.unit],
        )
        start, end = np.datetime64(quarter.start), np.datetime64(day)
        gone = ~np.isnat(roster.separated) & (roster.separated >= start) & (roster.separated <= end)
        for measure, who in (
            ("EMP", roster.active_on(day)),
            ("HIRE", (roster.hired >= start) & (roster.hired <= end)),
            ("SEP", gone),
        ):
            where = np.flatnonzero(who)
            frames.append(
                pl.DataFrame(
                    {
                        "as_of": [day] * where.size,
                        "measure": [measure] * where.size,
                        "type": np.where(roster.sworn[where], "S", "N").tolist(),
                        "rank": title[where].tolist() if measure == "EMP" else [None] * where.size,
                        "rank_code": code[where].tolist()
                        if measure == "EMP"
                        else ["ALL"] * where.size,
                        "race": roster.race[where].tolist(),
                        "race_recorded": roster.race_recorded[where].tolist(),
                        "race_fixed_on": roster.race_fixed_on[where],
                        "sex": roster.sex[where].tolist(),
                    },
                    schema_overrides={"rank": pl.String, "race_fixed_on": pl.Date},
                )
            )
    return pl.concat(frames)


def _authorized(day: date) -> dict[str, int]:
    """Positions in the budget of the fiscal year (July to June); frozen in the 2021 budget."""
    fiscal = day.year + (1 if day.month >= 7 else 0)
    growth = min(fiscal, 2020) - 2016 + max(fiscal - 2021, 0)
    return {"S": 172 + 2 * growth, "N": 66 + growth // 2}


def department_export(people: pl.DataFrame, end: date) -> pl.DataFrame:
    """The department-demographics file as of ``end``: every quarter up to it."""
    era = codes.era_of(end)
    counted = (
        people.filter(pl.col("as_of") <= end)
        .with_columns(as_of("race_recorded", "race", "race_fixed_on", end).alias("race_now"))
        .group_by("as_of", "measure", "type", "rank", "rank_code", "race_now", "sex")
        .agg(pl.len().cast(pl.Int64).alias("count"))
    )
    budget = pl.DataFrame(
        [
            {
                "as_of": day,
                "measure": "AUTH",
                "type": kind,
                "rank": None,
                "rank_code": "ALL",
                "race_now": None,
                "sex": None,
                "count": n,
            }
            for day in sorted(set(counted["as_of"].to_list()))
            for kind, n in _authorized(day).items()
        ],
        schema=counted.schema,
    )
    rows = pl.concat([counted, budget]).sort(
        "as_of", "measure", "type", "rank_code", "race_now", "sex", nulls_last=True
    )
    key = pl.format(
        "{}-{}-{}-{}-{}-{}",
        pl.col("as_of").dt.strftime("%Y%m%d"),
        pl.col("measure"),
        pl.col("type"),
        pl.col("rank_code"),
        pl.col("race_now").fill_null("ALL"),
        pl.col("sex").fill_null("ALL"),
    )
    return rows.select(
        key.alias("Row ID"),
        codes.us_date(pl.col("as_of")).alias("As Of"),
        pl.col("measure").replace_strict(_MEASURES, return_dtype=pl.String).alias("Measure"),
        pl.col("type").replace_strict(_TYPES[era], return_dtype=pl.String).alias("Employee Type"),
        pl.col("rank").alias("Rank or Title"),
        codes.spell(pl.col("race_now"), pl.lit(era), codes.RACE).alias("Race"),
        codes.spell(pl.col("sex"), pl.lit(era), codes.SEX).alias("Sex"),
        pl.col("count").alias("Count"),
    )
