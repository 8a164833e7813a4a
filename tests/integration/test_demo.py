"""The synthetic demo: deterministic files, loaded through the real publish pipeline.

A short history keeps this quick: 2016-Q1 to 2017-Q2 for most checks, and
2020-Q4 to 2021-Q1 for the changes of 2021 (the new use-of-force layout and
hate crimes derived from Contacts).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from openblotter.demo import DATASETS, DemoSpan, DemoWorld, generate_demo
from openblotter.domain.errors import Conflict
from openblotter.domain.quarters import Quarter
from openblotter.ingest.privacy import hash_token
from openblotter.services import releases as release_service
from openblotter.services.analysis import benchmark
from openblotter.services.demo import GROUPS, load_demo, publish_group
from openblotter.services.metadata import catalog
from openblotter.services.portal import Portal
from openblotter.services.publishing import PublishRequest, publish
from tests.factories import make_portal

EARLY = DemoSpan(Quarter(2016, 1), Quarter(2017, 2))
CHANGE_OF_2021 = DemoSpan(Quarter(2020, 4), Quarter(2021, 1))


def _checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _frame(portal: Portal, dataset_id: str, label: str | None = None) -> pl.DataFrame:
    return pl.read_parquet(portal.release_path(portal.release(dataset_id, label)))


@pytest.fixture(scope="module")
def early(tmp_path_factory: pytest.TempPathFactory) -> Portal:
    portal = make_portal(tmp_path_factory.mktemp("demo-early"))
    load_demo(portal, span=EARLY)
    return portal


@pytest.fixture(scope="module")
def roster_ids() -> set[str]:
    world = DemoWorld.build(EARLY)
    return {
        str(i)
        for i, sworn in zip(world.roster.employee_id, world.roster.sworn, strict=True)
        if sworn
    }


def test_the_same_seed_writes_the_same_files_byte_for_byte(tmp_path: Path) -> None:
    first = generate_demo(tmp_path / "one", span=EARLY)
    generate_demo(tmp_path / "two", span=EARLY)
    sums = _checksums(tmp_path / "one")
    assert sums == _checksums(tmp_path / "two")
    assert len(first) == len(DATASETS) * len(EARLY.quarters)
    assert {p.rsplit(".", 1)[1] for p in sums} == {"csv", "xlsx"}


def test_the_full_demo_plans_a_release_per_quarter_from_2016_to_2026_q3() -> None:
    quarters = {d.id: d.quarters(DemoSpan()) for d in DATASETS}
    assert {len(q) for k, q in quarters.items() if k != "hate_crimes"} == {43}
    assert quarters["contacts"][-1] == Quarter(2026, 3)
    # Hate crimes have their own releases until 2020; later ones are derived from Contacts.
    assert (len(quarters["hate_crimes"]), quarters["hate_crimes"][-1]) == (20, Quarter(2020, 4))


def test_every_family_has_one_release_per_quarter_without_errors(early: Portal) -> None:
    for dataset in DATASETS:
        releases = release_service.list_releases(early, dataset.id)
        assert [r.label for r in releases] == [q.label for q in EARLY.quarters], dataset.id
        assert all(r.report["errors"] == 0 and r.row_count > 0 for r in releases), dataset.id


def test_the_catalog_marks_every_dataset_as_a_synthetic_demo(early: Portal) -> None:
    entries = {e["id"]: e for e in catalog(early)}
    assert set(entries) == {d.id for d in DATASETS}
    for entry in entries.values():
        assert entry["synthetic"] is True and entry["notice"]
        assert entry["title"].startswith("Synthetic demo")
        assert "Synthetic demo data" in entry["description"]


def test_loading_again_changes_nothing(early: Portal) -> None:
    before = {d.id: len(release_service.list_releases(early, d.id)) for d in DATASETS}
    message = load_demo(early, span=EARLY)
    assert "already loaded" in message
    assert before == {d.id: len(release_service.list_releases(early, d.id)) for d in DATASETS}


def test_deliberately_unmapped_codes_are_reported_in_some_releases_only(early: Portal) -> None:
    # Inquiries closed in 2017 were written "Admin Closure" (no map knows it).
    warned = {
        r.label: r.report["counts"].get("unmapped_value", 0)
        for r in release_service.list_releases(early, "complaints")
    }
    assert warned["2016-Q4"] == 0 and warned["2017-Q2"] > 0
    findings = _frame(early, "complaints", "2017-Q2")["finding"]
    assert "Admin Closure" in findings.to_list()


def test_officers_everywhere_are_officers_of_the_roster(
    early: Portal, roster_ids: set[str]
) -> None:
    salt = early.settings.salt.get_secret_value()
    roster_hashes = {hash_token(i, salt) for i in roster_ids}
    for dataset_id in ("contacts", "use_of_force", "complaints"):
        officers = set(_frame(early, dataset_id)["officer_id"].drop_nulls().to_list())
        assert officers and officers <= roster_hashes, dataset_id
    # The officers of use of force had contacts: the same hashed IDs, stable across datasets.
    contacts = set(_frame(early, "contacts")["officer_id"].to_list())
    assert set(_frame(early, "use_of_force")["officer_id"].to_list()) <= contacts


def test_department_head_count_matches_the_roster(early: Portal) -> None:
    world = DemoWorld.build(EARLY)
    day = EARLY.last.end
    active = world.roster.active_on(day)
    staff = _frame(early, "department_demographics").filter(
        (pl.col("as_of_date") == day) & (pl.col("measure") == "Employees")
    )
    by_type = dict(staff.group_by("employee_type").agg(pl.col("count").sum()).iter_rows())
    assert by_type == {
        "Sworn": int((active & world.roster.sworn).sum()),
        "Non-sworn": int((active & ~world.roster.sworn).sum()),
    }
    assert 150 <= by_type["Sworn"] <= 190


def test_the_community_benchmark_shows_the_planted_disparity(early: Portal) -> None:
    result = benchmark(
        early,
        "contacts",
        by="subject_race",
        period="last4q",
        filters=[("contact_type", "Traffic stop")],
    )
    black = next(r for r in result["rows"] if r["group"].startswith("Black or African American"))
    assert 1.4 < black["rate_ratio"] < 2.2 and black["ci_low"] > 1.1
    assert result["population_source"]["source"].startswith("ACS")  # the newest survey year
    stops = _frame(early, "contacts").filter(pl.col("contact_type") == "Traffic stop")
    assert stops["incident_time"].drop_nulls().dt.hour().n_unique() == 24  # for a veil of darkness


def test_diffs_between_releases_show_corrections(early: Portal) -> None:
    contacts = release_service.diff_releases(early, "contacts", "2017-Q1", "2017-Q2")
    assert contacts.added > 0 and contacts.changed > 0
    assert contacts.changed_fields.get("case_status", 0) > 0  # cases cleared since
    pending_then_decided = 0
    for old, new in zip(EARLY.quarters, EARLY.quarters[1:], strict=False):
        diff = release_service.diff_releases(
            early, "complaints", old.label, new.label, change="changed", limit=500
        )
        pending_then_decided += sum(
            1
            for row in diff.rows
            if row["changes"].get("finding", {}).get("old") == "Pending"
            and row["changes"]["finding"]["new"]
            in ("Sustained", "Not Sustained", "Exonerated", "Unfounded")
        )
    assert pending_then_decided > 0


def test_the_changes_of_2021_new_force_layout_and_hate_crimes_from_contacts(tmp_path: Path) -> None:
    portal = make_portal(tmp_path)
    said: list[str] = []
    load_demo(portal, span=CHANGE_OF_2021, processes=1, progress=said.append)
    force = release_service.list_releases(portal, "use_of_force")
    assert [r.report["errors"] for r in force] == [0, 0]
    assert portal.dataset("use_of_force").mapping == "norman_use_of_force_2021.toml"
    old, new = _frame(portal, "use_of_force", "2020-Q4"), _frame(portal, "use_of_force", "2021-Q1")
    # Blank on every row of the old layout: not recorded (null), not the agency's Unknown.
    assert old["force_effective"].unique().to_list() == [None]
    assert set(new["force_effective"].unique().to_list()) <= {"Yes", "No", "Limited", "Unknown"}
    assert old["incident_time"].null_count() == 0 and new["incident_time"].null_count() == 0
    hate = release_service.list_releases(portal, "hate_crimes")
    assert [r.label for r in hate] == ["2020-Q4", "2021-Q1"]
    # The progress says what the portal shows: the derived release and its rows included.
    line = next(m for m in said if m.startswith("  hate_crimes:"))
    shown = portal.release("hate_crimes").row_count
    assert line.startswith(
        f"  hate_crimes: 2 releases (1 derived from contacts), {shown:,} rows in the current release"
    )
    assert hate[1].source_name.startswith("derived from contacts")
    derived = _frame(portal, "hate_crimes", "2021-Q1")
    biased = _frame(portal, "contacts", "2021-Q1").filter(
        pl.col("bias_motivation") != "None (no bias)"
    )
    # A complete snapshot: the contacts rows with a bias, and the history before 2021 as the
    # last release of the hate-crime files published it.
    # (tests/integration/test_derived_views.py has a history to carry; this span has none.)
    own = _frame(portal, "hate_crimes", "2020-Q4")
    before = own.filter(pl.col("incident_date") < date(2021, 1, 1))
    assert biased.height > 0
    assert derived.height == biased.height + before.height
    assert hate[1].changelog["removed"] == 0


def test_an_interrupted_load_resumes_where_it_stopped(tmp_path: Path) -> None:
    span = DemoSpan(Quarter(2016, 1), Quarter(2016, 4))
    portal = make_portal(tmp_path)
    world = DemoWorld.build(span)
    first_half = {d.id: d.quarters(span)[:2] for d in DATASETS}
    for group in GROUPS:  # as if the load had been stopped after 2016-Q2
        publish_group(portal, world, group, first_half, lambda message: None)
    message = load_demo(portal, span=span, processes=1)
    assert f"{len(DATASETS) * 2} releases" in message
    for dataset in DATASETS:
        labels = [r.label for r in release_service.list_releases(portal, dataset.id)]
        assert labels == ["2016-Q1", "2016-Q2", "2016-Q3", "2016-Q4"], dataset.id


def test_the_demo_never_publishes_into_a_dataset_holding_real_data(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "data")
    contacts = next(d for d in DATASETS if d.id == "contacts")
    file = DemoWorld.build(EARLY).write(contacts, Quarter(2016, 1), tmp_path)
    request = PublishRequest(
        path=file.path,
        dataset_id="contacts",
        label="2016-Q1",
        family="contacts",
        mapping=file.mapping,
    )
    assert publish(portal, request).release is not None  # published as real data
    with pytest.raises(Conflict, match="holds real"):
        load_demo(portal, span=EARLY, processes=1)
    assert [d.id for d in portal.catalog.datasets()] == ["contacts"]
