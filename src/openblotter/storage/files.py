"""Release files behind a small interface: local disk now, object storage by config.

Files are written once under a content-addressed key and never overwritten,
so a reader of the current release can never see a half-written file, and a
killed publish leaves at most an orphan (in staging, or a stored file no release
refers to), removed on the next start.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Protocol

from openblotter.storage.scratch import UPLOADS


class ReleaseFiles(Protocol):
    """Where release artifacts live. Keys are relative POSIX paths."""

    def staging_path(self, suffix: str) -> Path:
        """A fresh local path to write a new artifact to before it is stored."""

    def store(self, staged: Path, key: str) -> None:
        """Move a finished staged file to ``key`` atomically; never overwrite."""

    def local_path(self, key: str) -> Path:
        """A local path the query engine can read (downloads it first for remote stores)."""

    def open(self, key: str) -> BinaryIO:
        """Open the stored artifact for reading."""

    def exists(self, key: str) -> bool:
        """Whether an artifact is stored under ``key``."""

    def delete(self, key: str) -> bool:
        """Remove a stored artifact for good (a purge); False when it was not there."""


class LocalReleaseFiles:
    """Release files in a folder on local disk (the embedded default)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / ".staging"
        self.staging.mkdir(parents=True, exist_ok=True)

    def staging_path(self, suffix: str) -> Path:
        handle, name = tempfile.mkstemp(dir=self.staging, suffix=suffix)
        os.close(handle)
        return Path(name)

    def store(self, staged: Path, key: str) -> None:
        target = self.local_path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        _fsync_file(staged)
        if target.exists():
            # Content-addressed: an existing file with this key has these exact bytes.
            staged.unlink()
            return
        os.replace(staged, target)
        _fsync_dir(target.parent)

    def local_path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"release file key escapes the data directory: {key}")
        return path

    def open(self, key: str) -> BinaryIO:
        return self.local_path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self.local_path(key).is_file()

    def delete(self, key: str) -> bool:
        path = self.local_path(key)
        if not path.is_file():
            return False
        path.unlink()
        _fsync_dir(path.parent)
        return True

    def clear_staging(self) -> int:
        """Remove files left by publishes that were killed; returns how many."""
        count = 0
        for leftover in self.staging.iterdir():
            if leftover.is_file():
                leftover.unlink()
                count += 1
            else:
                shutil.rmtree(leftover)
                count += 1
        return count

    def remove_leftovers(self, referenced: set[str], older_than: float) -> list[str]:
        """Remove what killed publishes left: files in staging, and release files no release
        refers to; only those untouched for ``older_than`` seconds (a publish running now
        may be about to record its file). Returns the keys removed.
        """
        cutoff = time.time() - older_than
        removed = []
        # Raw-upload copies belong to a running publish until its process is gone; they are
        # cleared by storage/scratch.py, which asks whether that process still runs.
        uploads = self.staging / UPLOADS
        staged = [p for p in self.staging.rglob("*") if not p.is_relative_to(uploads)]
        for path in [*staged, *(self.root / "releases").rglob("*.parquet")]:
            key = path.relative_to(self.root).as_posix()
            try:
                stale = path.is_file() and path.stat().st_mtime < cutoff
            except FileNotFoundError:
                continue
            if stale and key not in referenced:
                path.unlink(missing_ok=True)
                removed.append(key)
        return removed


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
