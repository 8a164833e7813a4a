"""Writing behind: in order, in one worker thread, a write's error raised at the next call."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from openblotter.services.overlap import WriteBehind


def test_writes_run_in_order_in_one_worker_and_errors_surface() -> None:
    written: list[tuple[int, str]] = []
    behind: WriteBehind[int] = WriteBehind(
        lambda n: written.append((n, threading.current_thread().name))
    )
    for n in range(20):
        behind.submit(n)
    behind.close()
    assert [n for n, _ in written] == list(range(20))
    assert all(name.startswith("write-behind") for _, name in written)

    def fail(n: int) -> None:
        if n == 2:
            raise OSError("disk full")

    failing: WriteBehind[int] = WriteBehind(fail)
    failing.submit(1)
    failing.submit(2)
    with pytest.raises(OSError, match="disk full"):
        failing.submit(3)  # the error of the write before it
    failing.close()


def test_a_side_file_leaving_on_an_error_reports_that_error(tmp_path: Path) -> None:
    """The publish's own error propagates, not the failed write behind it; a failed write
    with no error of the publish's own is raised."""
    import polars as pl

    from openblotter.services.publish_stream import _SideFile

    frame = pl.DataFrame({"a": [1, 2]})

    def broken(item: object) -> None:
        raise OSError("disk full")

    with pytest.raises(ValueError, match="row 7 is invalid"), _SideFile(tmp_path / "a") as side:
        side.behind = WriteBehind(broken)
        side.write(frame)
        raise ValueError("row 7 is invalid")
    with pytest.raises(OSError, match="disk full"), _SideFile(tmp_path / "b.parquet") as side:
        side.behind = WriteBehind(broken)
        side.write(frame)
