"""Checkpoints of long work in Python (issue 17): a request's time limit and its client leaving."""

from __future__ import annotations

import pytest

from openblotter.domain.checkpoints import checked, checked_by, checkpoint
from openblotter.domain.errors import TimedOut
from openblotter.storage.budget import Cancellation, Cancelled


def test_outside_a_request_a_checkpoint_does_nothing() -> None:
    checkpoint()
    assert list(checked(range(5))) == [0, 1, 2, 3, 4]


def test_checked_items_are_checked_before_the_first_and_every_n() -> None:
    calls: list[int] = []
    with checked_by(lambda: calls.append(1)):
        assert list(checked(range(10), every=4)) == list(range(10))
    assert len(calls) == 3  # before items 0, 4 and 8


def test_a_cancelled_request_stops_at_its_next_checkpoint() -> None:
    request = Cancellation()
    seen = []
    with checked_by(request.check), pytest.raises(Cancelled):
        for item in checked(range(10_000), every=100):
            seen.append(item)
            if item == 150:
                request.cancel()
    assert seen[-1] == 199


def test_a_request_past_its_time_limit_stops_with_a_timeout_that_says_the_limit() -> None:
    request = Cancellation(time_limit=20)
    request.check()  # within the limit
    request.deadline = 0.0  # the limit has passed
    with pytest.raises(TimedOut) as stopped:
        request.check()
    assert stopped.value.detail == {"limit_seconds": 20}
    assert "limit of 20 s" in stopped.value.message
    Cancellation().check()  # no time limit: never times out
