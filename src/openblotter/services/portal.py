"""The portal's infrastructure, opened once per process from settings.

Services receive this object and the explicit arguments of their use case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from openblotter.config import Settings
from openblotter.domain.errors import Gone, NotFound
from openblotter.domain.releases import Dataset, Release
from openblotter.services.report_masking import mask_stored_reports
from openblotter.storage.catalog import Catalog
from openblotter.storage.catalog_cache import CachedCatalog
from openblotter.storage.files import LocalReleaseFiles
from openblotter.storage.scratch import clear_orphaned_uploads

if TYPE_CHECKING:
    from openblotter.storage.engine import QueryEngine


#: A file left by a publish is removed once untouched this long (a running publish is younger).
LEFTOVER_AGE_SECONDS = 3600.0


@dataclass
class Portal:
    """Settings, catalog and release files of one portal."""

    settings: Settings
    catalog: Catalog
    files: LocalReleaseFiles
    _engine: QueryEngine | None = field(default=None, repr=False)
    #: Resolved paths of release files (resolving walks the directories on every request).
    _paths: dict[str, Path] = field(default_factory=dict, repr=False)

    def query_engine(self) -> QueryEngine:
        """The DuckDB engine, created on first use (publishing never needs it)."""
        if self._engine is None:
            # DuckDB is imported on first query: a publish never needs it.
            from openblotter.storage.budget import auto_memory_limit
            from openblotter.storage.engine import QueryEngine

            settings = self.settings
            memory = settings.query_memory_limit
            temp = self.spill_directory
            self._engine = QueryEngine(
                threads=settings.query_threads or None,
                memory_limit=auto_memory_limit() if memory.strip().lower() == "auto" else memory,
                temp_directory=str(temp),
                timeout=settings.query_timeout_seconds,
                concurrency=settings.query_concurrency,
                export_concurrency=settings.export_concurrency,
                export_memory_limit=settings.export_memory_limit or None,
                export_threads=settings.export_threads or None,
                cache_cells=settings.query_cache_cells,
                cache_bytes=settings.query_cache_mb * 2**20,
                serving_directory=self.serving_directory if settings.query_serving_copies else None,
            )
        return self._engine

    @property
    def serving_directory(self) -> Path:
        """Where the DuckDB copies that queries read are kept (storage/serving.py)."""
        return self.settings.data_dir / ".serving"

    @property
    def spill_directory(self) -> Path:
        """Where DuckDB spills what does not fit in memory (query_temp_directory)."""
        return self.settings.query_temp_directory or self.settings.data_dir / ".duckdb-tmp"

    @classmethod
    def open(cls, settings: Settings) -> Portal:
        """Open (and create or migrate when needed) the catalog and data directory."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        clear_orphaned_uploads(settings.data_dir)  # raw copies left by a killed publish
        # Reads kept until any process commits to the catalog (storage/catalog_cache.py).
        catalog = CachedCatalog(settings.resolved_catalog_url)
        catalog.migrate()
        mask_stored_reports(catalog)  # reports stored before masking existed
        files = LocalReleaseFiles(settings.data_dir)
        # Files of publishes killed before their commit: staged, or stored but never recorded.
        files.remove_leftovers(catalog.file_keys(), older_than=LEFTOVER_AGE_SECONDS)
        return cls(settings=settings, catalog=catalog, files=files)

    def dataset(self, dataset_id: str) -> Dataset:
        """The dataset, or NotFound naming the datasets that exist."""
        dataset = self.catalog.dataset(dataset_id)
        if dataset is None:
            known = [d.id for d in self.catalog.datasets()]
            raise NotFound(
                f"There is no dataset '{dataset_id}'."
                + (f" Datasets: {', '.join(known)}." if known else " The catalog is empty."),
                detail={"parameter": "dataset", "value": dataset_id, "allowed": known},
            )
        return dataset

    def dataset_release(self, dataset_id: str, label: str | None = None) -> tuple[Dataset, Release]:
        """The dataset and its current (or named) release, with one catalog query when current."""
        found = self.catalog.dataset_and_current(dataset_id)
        if found is None:
            self.dataset(dataset_id)  # raises NotFound naming the datasets
            raise AssertionError("unreachable")
        dataset, current = found
        if label is not None:
            return dataset, self.release(dataset_id, label)
        if current is None:
            raise NotFound(
                f"Dataset '{dataset_id}' has no published release yet.",
                detail={"dataset": dataset_id},
            )
        return dataset, current

    def release(self, dataset_id: str, label: str | None = None) -> Release:
        """The current release, or the named one; withdrawn releases are not served."""
        if label is None:
            return self.dataset_release(dataset_id)[1]
        self.dataset(dataset_id)
        releases = self.catalog.releases(dataset_id)
        live = [r for r in releases if r.label == label and r.status == "published"]
        purged = [r for r in releases if r.label == label and r.status == "purged"]
        if not live and purged:
            raise gone(dataset_id, purged[-1])
        if not live:
            labels = [r.label for r in releases if r.status == "published"]
            withdrawn = any(r.label == label and r.status == "withdrawn" for r in releases)
            reason = "was withdrawn" if withdrawn else "does not exist"
            raise NotFound(
                f"Release {label} of '{dataset_id}' {reason}. Published releases: "
                f"{', '.join(labels) or 'none'}.",
                detail={"parameter": "_release", "value": label, "allowed": labels},
            )
        return live[-1]

    def release_path(self, release: Release) -> Path:
        if release.status == "purged":
            raise gone(release.dataset_id, release)
        path = self._paths.get(release.file_key)
        if path is None:
            if len(self._paths) >= 4096:
                self._paths.clear()
            path = self._paths[release.file_key] = self.files.local_path(release.file_key)
        return path


def worker_settings(settings: Settings, workers: int) -> Settings:
    """The settings of one of ``workers`` web processes on this machine: an 'auto' memory
    limit becomes its share of the machine's (a quarter of it for all of them)."""
    if settings.query_memory_limit.strip().lower() != "auto":
        return settings
    from openblotter.storage.budget import auto_memory_limit

    return settings.model_copy(update={"query_memory_limit": auto_memory_limit(workers)})


def gone(dataset_id: str, release: Release) -> Gone:
    """The 410 of a purged release: its tombstone (label, when, why), no rows."""
    when = release.withdrawn_at.isoformat() if release.withdrawn_at else None
    return Gone(
        f"Release {release.label} of '{dataset_id}' was purged"
        f"{' on ' + when[:10] if when else ''}: its rows and files are gone for good. "
        f"Reason: {release.withdrawn_reason or 'not given'}.",
        detail={
            "dataset": dataset_id,
            "release": release.label,
            "purged_at": when,
            "reason": release.withdrawn_reason,
        },
    )
