"""The results table: medians of both sides, their ratio, the target, and whether it is met.

Also describes the machine and the software versions, so a reader can judge and
reproduce the numbers.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import psutil

NOT_AVAILABLE = "not available"


@dataclass(frozen=True)
class Line:
    """One row of the results table; values already formatted for people."""

    benchmark: str
    peer: str
    ours: str
    ratio: str
    target: str
    met: str
    note: str = ""
    #: DuckDB in-process over what the server reads (its serving copy), same predicate.
    floor: str = "—"
    #: OpenBlotter answering the same request again (its result cache), beside the headline.
    cached: str = "—"


def seconds_text(value: float | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def bytes_text(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value / 2**20:,.0f} MiB"


def rate_text(value: float | None, unit: str) -> str:
    return NOT_AVAILABLE if value is None else f"{value:,.0f} {unit}"


def ratio_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}x"


def verdict(condition: bool | None) -> str:
    """'yes' / 'no', or '—' when one side could not be measured."""
    return "—" if condition is None else ("yes" if condition else "**no**")


def speedup(peer_seconds: float | None, our_seconds: float | None) -> float | None:
    """How many times faster OpenBlotter is (peer time over ours)."""
    if peer_seconds is None or our_seconds is None or our_seconds <= 0:
        return None
    return peer_seconds / our_seconds


def markdown_table(lines: list[Line], peer_label: str, our_label: str) -> str:
    head = (
        f"| benchmark | {peer_label} (median) | {our_label} (median) | ratio | target | met "
        "| DuckDB in-process (floor) | OpenBlotter, same request repeated (cached) |"
    )
    out = [head, "| --- | ---: | ---: | ---: | --- | :---: | ---: | ---: |"]
    notes: list[str] = []
    for line in lines:
        name = line.benchmark
        if line.note:
            notes.append(line.note)
            name += f" [{len(notes)}]"
        cells = (
            name,
            line.peer,
            line.ours,
            line.ratio,
            line.target,
            line.met,
            line.floor,
            line.cached,
        )
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out += [f"[{n}] {note}" for n, note in enumerate(notes, start=1)]
    return "\n".join(out)


def _command_output(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{NOT_AVAILABLE} ({error})"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if done.returncode == 0 and text else NOT_AVAILABLE


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return NOT_AVAILABLE


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or NOT_AVAILABLE


def machine(repo: Path, openblotter_python: Path, chromium: str) -> dict[str, str]:
    """What the numbers were measured on: hardware, system, and every version that matters."""
    ob_versions = (
        "import importlib.metadata as m; "
        "print(m.version('openblotter'), m.version('duckdb'), m.version('polars'))"
    )
    return {
        "cpus (nproc)": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "system": platform.platform(),
        "python (harness, Datasette)": platform.python_version(),
        "datasette": _version("datasette"),
        "sqlite-utils": _version("sqlite-utils"),
        "sqlite": sqlite3.sqlite_version,
        "openblotter, duckdb, polars": _command_output(
            [str(openblotter_python), "-c", ob_versions]
        ),
        "chromium": _command_output([chromium, "--version"]),
        "commit": _command_output(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"]),
    }


def as_dict(line: Line) -> dict[str, str]:
    return asdict(line)
