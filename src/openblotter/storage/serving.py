"""Serving copies: each release file queried kept as a DuckDB table beside it.

A release file is Parquet: what is published, hashed, downloaded and diffed. A query
over Parquet decodes whole column pages and binds the file each time; the same
query over a DuckDB table reads DuckDB's own blocks. On the 1,000,000-row benchmark
release, one thread: the first page of 100 rows 3.7 ms from Parquet, 1.0 ms from a
table; a facet 7.1 ms and 3.9 ms (docs/performance.md).

A copy is derived data, never published. It is built in a background thread on a
release's first query (or at a server's start, :meth:`ServingCopies.prepare`), in
one DuckDB thread under its own memory limit, written under a temporary name and
renamed into place, so a reader sees a whole copy or none. It records the size and
modification time of the Parquet it was made from and is attached read-only only
when they still match; a copy that does not match, or that DuckDB cannot open, is
removed and built again. Until a copy is attached, queries read the Parquet: the
answers are the same, only slower. Several web processes share the copies; a file
lock lets one of them build each.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import duckdb

from openblotter.storage.sql import quote

log = logging.getLogger(__name__)

#: The table of a copy, and the table recording the Parquet file it was made from.
TABLE = "release"
SOURCE = "source_file"
#: How long a process waits before it looks again for a copy it did not find.
RECHECK_SECONDS = 1.0
#: How often a process looks whether copies it attached were deleted (a purge).
SWEEP_SECONDS = 5.0
#: Memory of the DuckDB that builds copies (it streams the Parquet into the table).
BUILD_MEMORY_LIMIT = "256MB"

#: A file's identity as the engine keeps it: path, size, modification time (ns).
Identity = tuple[str, int, int]


class ServingCopies:
    """The copies of one process: attached to its query connections, built in the background."""

    def __init__(
        self,
        directory: Path,
        connections: Sequence[duckdb.DuckDBPyConnection],
        temp_directory: str | None = None,
    ) -> None:
        self.directory = directory
        self._connections = list(connections)
        self._temp_directory = temp_directory
        self._lock = threading.Lock()
        self._attached: dict[Identity, str] = {}
        self._looked: dict[Identity, float] = {}
        self._queued: set[Identity] = set()
        self._work: queue.SimpleQueue[tuple[Path, Identity] | None] = queue.SimpleQueue()
        self._builder: threading.Thread | None = None
        self._closed = False
        self._aliases = 0
        #: Each attached copy's alias and file, and when they were last looked over.
        self._files: dict[Identity, tuple[str, Path, int | None]] = {}
        self._swept = time.monotonic()

    def table(self, path: Path, identity: Identity) -> str | None:
        """The attached copy of ``path`` as a table name, or None: read the Parquet
        (a copy is then built in the background, or looked for again a second later)."""
        now = time.monotonic()
        if now - self._swept >= SWEEP_SECONDS:
            self._sweep(now)
        table = self._attached.get(identity)
        if table is not None:
            return table
        if now - self._looked.get(identity, -RECHECK_SECONDS) < RECHECK_SECONDS:
            return None
        with self._lock:
            if identity in self._attached:
                return self._attached[identity]
            self._looked[identity] = now
            if not self._closed and self._usable(self.copy_path(path), identity):
                return self._attach(self.copy_path(path), identity)
            self._schedule(path, identity)
        return None

    def prepare(self, paths: Iterable[tuple[Path, Identity]]) -> None:
        """Build (in the background) and attach the copies of these files, before queries."""
        for path, identity in paths:
            self.table(path, identity)

    def wait(self, timeout: float = 60.0) -> None:
        """Until every build asked for so far is done (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while self._queued and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        """Stop the builder after its current build; attached copies close with their DuckDB."""
        with self._lock:
            self._closed = True
            if self._builder is not None:
                self._work.put(None)

    def copy_path(self, path: Path) -> Path:
        """Where the copy of a release file lives (:func:`copy_path`)."""
        return copy_path(self.directory, path)

    # --- attaching -------------------------------------------------------------------

    def _usable(self, copy: Path, identity: Identity) -> bool:
        """Whether ``copy`` exists, opens and was made from the file ``identity`` names."""
        if not copy.exists():
            return False
        try:
            with duckdb.connect(str(copy), read_only=True) as connection:
                found = connection.execute(f"SELECT size, mtime_ns FROM {SOURCE}").fetchone()
        except duckdb.Error as error:
            log.warning("serving copy %s cannot be read (%s); building it again", copy, error)
            return False
        return found is not None and (int(found[0]), int(found[1])) == identity[1:]

    def _attach(self, copy: Path, identity: Identity) -> str | None:
        self._aliases += 1
        alias = f"serving_{self._aliases}"
        try:
            for connection in self._connections:
                cursor = connection.cursor()
                try:
                    cursor.execute(f"ATTACH $1 AS {quote(alias)} (READ_ONLY)", [str(copy)])
                finally:
                    cursor.close()
        except duckdb.Error as error:
            log.warning("serving copy %s could not be attached: %s", copy, error)
            return None
        table = f"{quote(alias)}.main.{quote(TABLE)}"
        self._attached[identity] = table
        self._files[identity] = (alias, copy, _inode(copy))
        return table

    def _sweep(self, now: float) -> None:
        """Detach the copies deleted or replaced since they were attached (a purge deletes
        its release's copy, :func:`remove_copy`): their rows leave the disk once detached."""
        with self._lock:
            self._swept = now
            gone = [i for i, (_, copy, inode) in self._files.items() if _inode(copy) != inode]
            for identity in gone:
                alias, _, _ = self._files.pop(identity)
                self._attached.pop(identity, None)
                for connection in self._connections:
                    cursor = connection.cursor()
                    try:
                        cursor.execute(f"DETACH {quote(alias)}")
                    except duckdb.Error as error:
                        log.warning("serving copy %s not detached: %s", alias, error)
                    finally:
                        cursor.close()

    # --- building --------------------------------------------------------------------

    def _schedule(self, path: Path, identity: Identity) -> None:
        if identity in self._queued:
            return
        self._queued.add(identity)
        self._work.put((path, identity))
        if self._builder is None:
            # A daemon: a process that stops does not wait for a build (its temporary file
            # is removed by the next build of the same copy).
            self._builder = threading.Thread(
                target=self._build_loop, name="serving-copies", daemon=True
            )
            self._builder.start()

    def _build_loop(self) -> None:
        while (item := self._work.get()) is not None:
            path, identity = item
            try:
                self._build(path, identity)
            except (duckdb.Error, OSError) as error:
                # Queries keep reading the Parquet; the next look builds again.
                log.warning("serving copy of %s not built: %s", path, error)
            finally:
                with self._lock:
                    self._queued.discard(identity)
                    self._looked.pop(identity, None)

    def _build(self, path: Path, identity: Identity) -> None:
        copy = self.copy_path(path)
        copy.parent.mkdir(parents=True, exist_ok=True)
        with _lock_file(copy) as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another process builds it; this one looks again later
            if self._usable(copy, identity):
                return
            building = copy.with_name(copy.name + ".building")
            for leftover in (building, building.with_name(building.name + ".wal")):
                leftover.unlink(missing_ok=True)
            config: dict[str, Any] = {"threads": 1, "memory_limit": BUILD_MEMORY_LIMIT}
            if self._temp_directory:
                config["temp_directory"] = self._temp_directory
            with duckdb.connect(str(building), config=config) as connection:
                # Insertion order is kept: the table's rows are in the file's order.
                connection.execute(
                    f"CREATE TABLE {quote(TABLE)} AS SELECT * FROM read_parquet($1)", [str(path)]
                )
                connection.execute(
                    f"CREATE TABLE {SOURCE} AS SELECT $1::BIGINT AS size, $2::BIGINT AS mtime_ns",
                    [identity[1], identity[2]],
                )
                connection.execute("CHECKPOINT")
            if _identity(path) != identity:
                # Replaced or deleted (a purge) while it was read: its rows must not stay.
                building.unlink(missing_ok=True)
                return
            os.chmod(building, 0o600)  # the same rows as the release file, as private
            os.replace(building, copy)


def copy_path(directory: Path, path: Path) -> Path:
    """Where the copy of a release file lives: named after its dataset folder and file."""
    return directory / f"{path.parent.name}--{path.stem}.duckdb"


def remove_copy(directory: Path, path: Path) -> bool:
    """Delete the copy of a release file (a purge): after any build of it that is running
    (its lock), with what a killed build left. Returns whether a copy was there."""
    copy = copy_path(directory, path)
    lock_path = copy.with_name(copy.name + ".lock")
    if not lock_path.exists():
        return False
    with _lock_file(copy) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = copy.exists()
        building = copy.with_name(copy.name + ".building")
        for leftover in (copy, building, building.with_name(building.name + ".wal")):
            leftover.unlink(missing_ok=True)
    lock_path.unlink(missing_ok=True)
    return found


def _identity(path: Path) -> Identity | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return str(path), stat.st_size, stat.st_mtime_ns


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def _lock_file(copy: Path) -> IO[str]:
    """The copy's lock file, opened (created readable by the portal's user only)."""
    descriptor = os.open(copy.with_name(copy.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    return os.fdopen(descriptor, "r+")
