"""Recording changes: abrupt shifts in the shares of each coded field (services/recording.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from openblotter.services.analyses.base import (
    Analysis,
    Control,
    CountsOnly,
    Filters,
    Params,
    RecordingChange,
    Result,
)
from openblotter.services.portal import Portal
from openblotter.services.recording import changes
from openblotter.services.requirements import A_DATE


class RecordingChangesParams(Params):
    """Which release of which dataset to look at."""

    dataset: Annotated[str, Field(description="Dataset id.")]
    release: Annotated[
        str | None,
        Control(
            "Release (optional)", hint="A release label (2024-Q4), or blank for the current one."
        ),
    ] = Field(None, description="Release label (default: current).")


class RecordingChangesResult(Result):
    """Every abrupt change found, the fields checked and the method."""

    release: str
    date_field: str | None
    fields_checked: list[str]
    months: int
    testable: bool
    method: str
    changes: list[RecordingChange]
    withheld: bool


def run(portal: Portal, params: RecordingChangesParams, filters: Filters) -> RecordingChangesResult:
    """The recording changes of one release (filters do not apply: a whole release is read)."""
    return RecordingChangesResult.model_validate(changes(portal, params.dataset, params.release))


ANALYSIS = Analysis(
    order=70,
    name="recording-changes",
    title="How recording changed",
    summary="Abrupt shifts in the shares of each coded field, month by month: how the way "
    "records are filled in changed.",
    params=RecordingChangesParams,
    result=RecordingChangesResult,
    run=run,
    families=(),  # every dataset with a date
    needs=(A_DATE,),
    filters=False,
    counts_only=CountsOnly(
        "withheld",
        "the changes are not listed (the shares of six-month windows are counts outside the "
        "protected tables); the result says they were withheld",
    ),
)
