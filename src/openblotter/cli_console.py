"""The command line's consoles: wrapped to a terminal's width, never wrapped when piped or logged."""

from __future__ import annotations

import os

from rich.console import Console

#: Width tables may use when the output is not a terminal (a log, a pipe, CI); text never wraps.
PIPED_WIDTH = 200


def make_console(*, stderr: bool = False) -> Console:
    """A Rich console for stdout or stderr.

    In a terminal, Rich wraps at the terminal's width. Anywhere else Rich would
    assume 80 columns and break messages mid-phrase in logs: there lines are
    printed whole (``soft_wrap``) and tables get room (``COLUMNS`` still wins).
    """
    terminal = Console(stderr=stderr)
    if terminal.is_terminal:
        return terminal
    width = None if os.environ.get("COLUMNS") else PIPED_WIDTH
    return Console(stderr=stderr, soft_wrap=True, width=width)
