"""Processes for the benchmarks: timed commands with peak memory, and loopback servers.

Peak memory is the resident set of the whole process tree (a command may fork
workers), sampled with psutil every 50 ms, and never below any member's own
kernel-reported peak (VmHWM), which catches spikes between samples. (The
``wait4`` rusage peak is not used: it counts the harness's own memory, copied
into the child when it forks.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

SAMPLE_INTERVAL_S = 0.05
# Finding a tree's members scans every process on the machine (milliseconds of CPU taken
# from the process being measured), so it is done every this many samples only.
REFRESH_MEMBERS_EVERY = 20


def tree_members(root: psutil.Process) -> list[psutil.Process]:
    """A process and all its descendants (empty once it is gone)."""
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def members_rss(members: list[psutil.Process]) -> int:
    """Resident bytes of these processes, skipping those that have exited."""
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def high_water_rss(pid: int) -> int:
    """The kernel's peak resident bytes of one process since it started its program
    (VmHWM), which catches spikes between samples; 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def tree_rss(root: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants (0 once it is gone)."""
    return members_rss(tree_members(root))


class PeakRss:
    """Samples the tree RSS of a pid in a background thread until stopped.

    ``peak_bytes`` is never below a member's own lifetime peak (VmHWM), which may come
    from before the sampling began; ``start_bytes`` and ``sampled_peak_bytes`` (the
    samples alone) tell what happened while it ran."""

    def __init__(self, pid: int, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self._process = psutil.Process(pid)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak_bytes = 0
        self.start_bytes = 0
        self.sampled_peak_bytes = 0

    def _run(self) -> None:
        sample = 0
        members = tree_members(self._process)
        while not self._stop.is_set():
            if sample % REFRESH_MEMBERS_EVERY == 0:
                members = tree_members(self._process)
            resident = members_rss(members)
            self.sampled_peak_bytes = max(self.sampled_peak_bytes, resident)
            own_peaks = (high_water_rss(member.pid) for member in members)
            self.peak_bytes = max(self.peak_bytes, resident, *own_peaks)
            sample += 1
            self._stop.wait(self._interval_s)

    def __enter__(self) -> PeakRss:
        self.start_bytes = self.sampled_peak_bytes = self.peak_bytes = tree_rss(self._process)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class CommandRun:
    """One finished command: wall time, peak memory of its tree, exit status, output tail."""

    argv: tuple[str, ...]
    seconds: float
    peak_rss_bytes: int
    returncode: int
    output_tail: str


def run_measured(
    argv: Sequence[str], env: Mapping[str, str] | None = None, log: Path | None = None
) -> CommandRun:
    """Run a command to completion, timing it and tracking its peak tree memory."""
    log_file = log.open("wb") if log else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - argv comes from the harness, not from input
        list(argv), env=dict(env) if env else None, stdout=log_file, stderr=subprocess.STDOUT
    )
    sampler = PeakRss(proc.pid)
    with sampler:
        _, status = os.waitpid(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if log:
        log_file.close()  # type: ignore[union-attr]
    tail = log.read_text(errors="replace")[-2000:] if log else ""
    return CommandRun(tuple(argv), seconds, sampler.peak_bytes, proc.returncode, tail)


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running loopback server: its process, base URL and log file."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


class ServerFailed(RuntimeError):
    """A server exited or never became ready."""


def _wait_ready(server: Server, ready_path: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailed(
                f"{server.name} exited with status {server.process.returncode} before it was "
                f"ready; end of its log ({server.log}):\n{server.log_tail()}"
            )
        try:
            if httpx.get(server.base_url + ready_path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise ServerFailed(
        f"{server.name} did not answer {ready_path} within {timeout_s:.0f} s; "
        f"end of its log ({server.log}):\n{server.log_tail()}"
    )


def stop(server: Server) -> None:
    """Stop a server and whatever it started (its own process group), politely then firmly."""
    if server.process.poll() is not None:
        return
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)


@contextmanager
def serving(
    name: str,
    argv: Sequence[str],
    port: int,
    log: Path,
    ready_path: str,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 120,
) -> Iterator[Server]:
    """Start a server on 127.0.0.1:port in its own process group; stop it on exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - argv comes from the harness
            list(argv),
            env=dict(env) if env else None,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_ready(server, ready_path, timeout_s)
        yield server
    finally:
        stop(server)
