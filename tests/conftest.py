"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The real, messy police data, copied into the project byte for byte (provenance in
#: tests/data/real/SOURCES.md, what was left out in tests/data/real/README.md).
REAL_DATA = Path(__file__).resolve().parent / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real police data files."""
    return REAL_DATA


@pytest.fixture()
def portal(tmp_path: Path):
    """A fresh portal with its own catalog and data directory."""
    from tests.factories import make_portal

    return make_portal(tmp_path / "portal")
