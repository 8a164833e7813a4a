"""Long work in Python stops when the request that asked for it is over.

The engine interrupts a running query when its time limit passes or its client
goes away; a loop in Python (a sample of a hundred thousand stops, one pass per
field over a release's history) cannot be interrupted from outside. Such loops
call :func:`checkpoint` between steps: the request's owner (the web layer)
installs a check that raises a portal error (``TimedOut``, ``Unavailable``)
when the request's time is up or its client left. Outside a request (the CLI,
tests) no check is installed and a checkpoint costs one lookup.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

#: How many items :func:`checked` lets pass between two checks.
EVERY = 2048

_CHECK: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "openblotter_checkpoint", default=None
)


def checkpoint() -> None:
    """Raise the request's error when its time limit passed or its client went away."""
    check = _CHECK.get()
    if check is not None:
        check()


def checked(items: Iterable[T], every: int = EVERY) -> Iterator[T]:
    """``items`` with a :func:`checkpoint` before the first and after every ``every`` items."""
    check = _CHECK.get()
    if check is None:
        yield from items
        return
    for position, item in enumerate(items):
        if position % every == 0:
            check()
        yield item


@contextmanager
def checked_by(check: Callable[[], None]) -> Iterator[None]:
    """Install ``check`` for the checkpoints reached in this context (a request)."""
    token = _CHECK.set(check)
    try:
        yield
    finally:
        _CHECK.reset(token)
