"""A publish and the views derived from it become current together (issue 17).

Before: a publish killed between the contacts commit and the hate-crimes derivation left
contacts at 2026-Q4 and hate crimes at 2026-Q3, and a retry was refused ("already exists").
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openblotter.domain.errors import Conflict
from openblotter.services.publishing import PublishRequest, publish
from openblotter.services.storing import commit_releases, prepare_release
from tests.factories import TEST_SALT, make_portal, publish_file, write_csv

HEADER = ["record_id", "incident_date", "bias_motivation"]

# Dies the way `kill -9` kills: the moment the hate-crime rows are derived from contacts.
_KILLED_WHILE_DERIVING = """
import os, signal, sys
from pathlib import Path
from openblotter.config import load_settings
from openblotter.services import derived
from openblotter.services.portal import Portal
from openblotter.services.publishing import PublishRequest, publish

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

derived.derive_rows = die
portal = Portal.open(load_settings(data_dir=Path(sys.argv[1])))
publish(portal, PublishRequest(path=Path(sys.argv[2]), dataset_id="contacts", label="2026-Q4",
                               family="contacts"))
"""


def _contacts(path: Path, quarter: str) -> Path:
    day = {"2026-Q3": "2026-08-01", "2026-Q4": "2026-11-01"}[quarter]
    rows = [
        ["C-1", "2026-07-02", "Anti-Asian"],
        ["C-2", "2026-07-03", "None (no bias)"],
        [f"C-{quarter}", day, "Anti-Jewish"],
    ]
    return write_csv(path, HEADER, rows)


def _current(portal: object, dataset_id: str) -> str:
    return portal.release(dataset_id).label  # type: ignore[attr-defined,no-any-return]


def test_a_kill_while_deriving_leaves_both_on_the_previous_release(tmp_path: Path) -> None:
    data_dir = tmp_path / "portal"
    portal = make_portal(data_dir)
    publish_file(
        portal, _contacts(tmp_path / "q3.csv", "2026-Q3"), "contacts", "2026-Q3", family="contacts"
    )
    q4 = _contacts(tmp_path / "q4.csv", "2026-Q4")
    env = {**os.environ, "OPENBLOTTER_SALT": TEST_SALT}
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_DERIVING, str(data_dir), str(q4)],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]

    after = make_portal(data_dir)
    assert (_current(after, "contacts"), _current(after, "hate_crimes")) == ("2026-Q3", "2026-Q3")

    retried = publish_file(after, q4, "contacts", "2026-Q4", family="contacts")
    assert retried.release is not None
    assert (_current(after, "contacts"), _current(after, "hate_crimes")) == ("2026-Q4", "2026-Q4")


def test_files_left_by_killed_publishes_are_removed_on_the_next_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "portal"
    portal = make_portal(data_dir)
    publish_file(
        portal, _contacts(tmp_path / "q3.csv", "2026-Q3"), "contacts", "2026-Q3", family="contacts"
    )
    kept = {p for p in (data_dir / "releases").rglob("*.parquet")}
    staged = portal.files.staging_path(".parquet")
    orphan = data_dir / "releases" / "contacts" / "2026-Q4-0123456789abcdef.parquet"
    orphan.write_bytes(b"PAR1")
    fresh = data_dir / "releases" / "contacts" / "2026-Q4-fedcba9876543210.parquet"
    fresh.write_bytes(b"PAR1")  # as if a publish running now had just stored it
    hour_ago = time.time() - 2 * 3600
    for old in (staged, orphan, *kept):
        os.utime(old, (hour_ago, hour_ago))

    make_portal(data_dir)

    assert not staged.exists() and not orphan.exists()
    assert fresh.exists()
    assert all(path.exists() for path in kept)


def test_two_publishes_of_one_label_end_in_a_clear_conflict(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "portal")
    first = _contacts(tmp_path / "q3.csv", "2026-Q3")
    publish_file(portal, first, "contacts", "2026-Q3", family="contacts")
    # The slower of two publishes of 2026-Q4: its file is stored when the other one commits.
    from openblotter.services import publishing

    prepared: list[object] = []
    real = publishing.store_with_derived_views

    def slower(portal_: object, new: object, conformed: object, **also: object) -> object:
        prepared.append(prepare_release(portal_, new))  # type: ignore[arg-type]
        return real(portal_, new, conformed, **also)  # type: ignore[arg-type]

    mp = pytest.MonkeyPatch()
    mp.setattr(publishing, "store_with_derived_views", slower)
    try:
        publish(
            portal,
            PublishRequest(
                path=_contacts(tmp_path / "q4.csv", "2026-Q4"),
                dataset_id="contacts",
                label="2026-Q4",
                family="contacts",
            ),
        )
    finally:
        mp.undo()
    with pytest.raises(Conflict) as refused:
        commit_releases(portal, prepared)  # type: ignore[arg-type]
    assert "Another publish recorded contacts 2026-Q4 first" in refused.value.message
    assert [r.label for r in portal.catalog.releases("contacts")] == ["2026-Q3", "2026-Q4"]
