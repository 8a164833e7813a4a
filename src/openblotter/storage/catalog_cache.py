"""The catalog's reads kept in the process until the catalog changes, in any process.

Every API request asks the catalog for its dataset and current release; a
SQLAlchemy query with JSON columns costs more than a small DuckDB page. The
catalog changes only when something is published, rolled back, withdrawn,
purged or described anew, so :class:`CachedCatalog` keeps what it read and asks
one cheap question per read instead: has anything been committed since?

For SQLite (the default) that question is ``PRAGMA data_version`` on a
connection of its own, which changes whenever *another* connection — in this
process, in another web worker or in ``openblotter publish`` — commits to the
file. It is asked before every cached read, so a worker never answers from a
catalog older than the last commit it could see (no time-to-live, no window).
For other databases (PostgreSQL) there is no such cheap question here: every
read goes to the database, as before.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from openblotter.domain.releases import Dataset, Release
from openblotter.storage.catalog import Catalog

T = TypeVar("T")
#: Entries kept at once; dataset ids come from URLs, so unknown ones are never kept.
MAX_ENTRIES = 1024


class DataVersion:
    """``PRAGMA data_version`` of an SQLite file, on a connection that never writes."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def current(self) -> int:
        """A number that changes whenever another connection commits to the file."""
        with self._lock:
            if self._connection is None:
                self._connection = sqlite3.connect(
                    self.database, check_same_thread=False, isolation_level=None
                )
            row = self._connection.execute("PRAGMA data_version").fetchone()
            return int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def data_version_for(url: str) -> DataVersion | None:
    """The change counter of an SQLite catalog file; None for other databases or memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return DataVersion(parsed.database)


class CachedCatalog(Catalog):
    """A :class:`Catalog` whose hot reads are kept until the catalog file changes."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._version = data_version_for(url)
        self._seen: int | None = None
        self._entries: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def _kept(self, key: Hashable, read: Callable[[], T], keep: Callable[[T], bool]) -> T:
        """``read()``, or what it gave since the last commit anywhere."""
        if self._version is None:
            return read()
        # The version is asked before reading: what is read is at least as new as it.
        version = self._version.current()
        with self._lock:
            if version != self._seen:
                self._entries.clear()
                self._seen = version
            elif key in self._entries:
                found: T = self._entries[key]
                return found
        value = read()
        if keep(value):
            with self._lock:
                if self._seen == version:
                    if len(self._entries) >= MAX_ENTRIES:
                        self._entries.clear()
                    self._entries[key] = value
        return value

    def dataset_and_current(self, dataset_id: str) -> tuple[Dataset, Release | None] | None:
        return self._kept(
            ("current", dataset_id),
            lambda: super(CachedCatalog, self).dataset_and_current(dataset_id),
            lambda found: found is not None,
        )

    def dataset(self, dataset_id: str) -> Dataset | None:
        return self._kept(
            ("dataset", dataset_id),
            lambda: super(CachedCatalog, self).dataset(dataset_id),
            lambda found: found is not None,
        )

    def releases(self, dataset_id: str) -> list[Release]:
        # A copy each time: callers may sort or extend the list they get.
        return list(
            self._kept(
                ("releases", dataset_id),
                lambda: tuple(super(CachedCatalog, self).releases(dataset_id)),
                bool,
            )
        )

    def datasets(self) -> list[Dataset]:
        return list(
            self._kept("datasets", lambda: tuple(super(CachedCatalog, self).datasets()), bool)
        )

    def current_releases(self) -> dict[str, Release]:
        return dict(self._kept("current_releases", super().current_releases, lambda found: True))

    def close_version(self) -> None:
        """Close the connection that asks for the data version (tests, shutdown)."""
        if self._version is not None:
            self._version.close()
