"""Temporary copies of raw uploads live only in the data directory's staging area.

A publish that must transcode an upload (a Windows-1252 CSV) writes the UTF-8
copy under ``<data_dir>/.staging/raw-uploads/<pid>-<random>/``, never in the
system temp folder: the copy holds every raw value of the file. The folder is
removed when the read ends, also on failure; a folder left by a publish that
was killed (its process is gone) is removed on the next start of the portal.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: The staging subfolder that holds temporary copies of raw uploads (and nothing else).
UPLOADS = "raw-uploads"


def uploads_root(data_dir: Path) -> Path:
    """The folder for temporary copies of raw uploads (created when missing)."""
    root = data_dir / ".staging" / UPLOADS
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    return root


def clear_orphaned_uploads(data_dir: Path) -> int:
    """Remove copies left by publishes whose process is gone; returns how many folders."""
    root = data_dir / ".staging" / UPLOADS
    if not root.is_dir():
        return 0
    removed = 0
    for leftover in root.iterdir():
        pid = leftover.name.split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
