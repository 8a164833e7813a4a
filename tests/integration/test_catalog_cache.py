"""The catalog's reads are kept in the process (issue 15: a catalog query cost more than a small
page), and a publish, rollback or withdrawal made by this process or by any other is seen by the
very next read: no time-to-live, no window of stale answers."""

from __future__ import annotations

from sqlalchemy import event

from openblotter.services import query, releases
from openblotter.storage.catalog_cache import CachedCatalog, data_version_for
from tests.conftest import REAL_DATA
from tests.factories import make_portal, publish_file

SOUTH_BEND = REAL_DATA / "south_bend/Police_Use_of_Force_Incidents.csv"


def _statements(portal) -> list[str]:
    """The SQL the portal's catalog sends from now on."""
    sent: list[str] = []
    event.listen(
        portal.catalog.engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_args: sent.append(statement),
    )
    return sent


def _page_release(portal, dataset_id: str = "force") -> str:
    return query.rows_page(portal, dataset_id, [("_size", "5")])["release"]


def test_repeated_requests_do_not_ask_the_catalog_again(tmp_path) -> None:
    portal = make_portal(tmp_path)
    publish_file(portal, SOUTH_BEND, "force", "2024-Q1")
    assert isinstance(portal.catalog, CachedCatalog)
    _page_release(portal)
    sent = _statements(portal)
    for _ in range(20):
        assert _page_release(portal) == "2024-Q1"
    assert sent == []


def test_a_publish_by_another_process_is_seen_at_the_next_request(tmp_path) -> None:
    serving = make_portal(tmp_path)  # the web process
    publishing = make_portal(tmp_path)  # `openblotter publish`: its own catalog connections
    publish_file(publishing, SOUTH_BEND, "force", "2024-Q1")
    assert _page_release(serving) == "2024-Q1"
    assert _page_release(serving) == "2024-Q1"  # now kept

    publish_file(publishing, SOUTH_BEND, "force", "2024-Q2")
    assert _page_release(serving) == "2024-Q2"
    assert [r.label for r in serving.catalog.releases("force")] == ["2024-Q1", "2024-Q2"]

    releases.rollback(publishing, "force", reason="wrong file")
    assert _page_release(serving) == "2024-Q1"
    assert serving.catalog.dataset_and_current("force")[1].label == "2024-Q1"


def test_a_change_made_by_the_same_process_is_seen_too(tmp_path) -> None:
    portal = make_portal(tmp_path)
    publish_file(portal, SOUTH_BEND, "force", "2024-Q1")
    publish_file(portal, SOUTH_BEND, "force", "2024-Q2")
    assert _page_release(portal) == "2024-Q2"
    releases.withdraw(portal, "force", "2024-Q2", reason="wrong file")
    assert _page_release(portal) == "2024-Q1"
    statuses = {r.label: r.status for r in portal.catalog.releases("force")}
    assert statuses == {"2024-Q1": "published", "2024-Q2": "withdrawn"}


def test_unknown_datasets_are_not_kept(tmp_path) -> None:
    portal = make_portal(tmp_path)
    for n in range(50):
        assert portal.catalog.dataset_and_current(f"nope-{n}") is None
    assert portal.catalog._entries == {}


def test_only_a_sqlite_file_has_a_change_counter() -> None:
    assert data_version_for("sqlite:////tmp/catalog.sqlite") is not None
    assert data_version_for("sqlite://") is None
    assert data_version_for("postgresql+psycopg://user@localhost/catalog") is None
