"""Race pairs: officer race by community-member race (services/community.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from openblotter.services.analyses.base import (
    Analysis,
    Caveat,
    CountsOnly,
    Filters,
    Params,
    Record,
    RecordingChange,
    Result,
    Suppression,
)
from openblotter.services.community import race_pairs
from openblotter.services.portal import Portal


class RacePairsParams(Params):
    """Which dataset of events with both races to count."""

    dataset: Annotated[str, Field(description="Use of force, complaints or contacts dataset id.")]


class PairCell(Record):
    """One officer group by community-member group: its count and three shares."""

    officer_group: str
    subject_group: str
    count: int | None
    share_of_all: float | None
    share_of_officer_group: float | None
    share_of_subject_group: float | None
    suppressed: str | None = None


class RacePairsResult(Result):
    """Counts by officer group and community-member group, every pair listed (zeros too)."""

    event_unit: str
    officer_groups: list[str]
    subject_groups: list[str]
    total: int | None
    officer_totals: dict[str, int | None]
    subject_totals: dict[str, int | None]
    cells: list[PairCell]
    recording_changes: list[RecordingChange] = []
    caveats: list[Caveat] = []
    suppression: Suppression | None = None


def run(portal: Portal, params: RacePairsParams, filters: Filters) -> RacePairsResult:
    """The race pairs of one dataset."""
    return RacePairsResult.model_validate(race_pairs(portal, params.dataset, filters=filters))


ANALYSIS = Analysis(
    order=80,
    name="race-pairs",
    title="Officer and community-member race",
    summary="How many events paired an officer of each race with a community member of each "
    "race, with the shares of all events, of the officer's group and of the member's group.",
    params=RacePairsParams,
    result=RacePairsResult,
    run=run,
    families=("use_of_force", "complaints", "contacts"),
    needs=("officer_race", "subject_race"),
    counts_only=CountsOnly(
        "tables",
        "counts come from the protected two-way table of officer by subject race; a hidden "
        "cell has no count and no shares, and a share is hidden when its total is",
    ),
)
