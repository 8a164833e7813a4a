"""A dataset published only as counts: rows refused, small counts and their complements hidden.

Dallas's real 2016 use-of-force file, published through its mapping, with the
portal's ``aggregates_only_datasets`` naming it. The true counts come from a
second portal that publishes the same file with its rows public.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from openblotter.analysis.suppression import is_derivable
from openblotter.services import query
from openblotter.web.app import create_app
from tests.factories import make_portal, make_settings, publish_dallas

THRESHOLD = 10


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    settings = make_settings(
        tmp_path_factory.mktemp("counts-only"), aggregates_only_datasets=["use_of_force"]
    )
    app = create_app(settings)
    publish_dallas(app.state.portal, tmp_path_factory.mktemp("residents"))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The same release with its rows public: the counts before suppression."""
    work = tmp_path_factory.mktemp("rows-public")
    portal = make_portal(work)
    publish_dallas(portal, work, residents=False)
    return portal


def _true_groups(truth: Any, params: list[tuple[str, str]]) -> dict[tuple[Any, ...], int]:
    result = query.aggregate(truth, "use_of_force", params)
    group = next(v for k, v in params if k == "_group").split(",")
    return {tuple(g[n] for n in group): g["count"] for g in result["groups"]}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/datasets/use_of_force/rows",
        "/api/v1/datasets/use_of_force/rows.csv",
        "/api/v1/datasets/use_of_force/releases/2016-Q4/file.parquet",
        "/api/v1/datasets/use_of_force/releases/2016-Q4/diff/2016-Q4",
    ],
)
def test_rows_downloads_and_files_are_refused_with_a_pointer_to_counts(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert "published only as counts" in error["message"]
    assert error["detail"]["links"]["aggregate"] == "/api/v1/datasets/use_of_force/aggregate"


def test_the_catalog_says_counts_only_and_offers_no_row_links(client: TestClient) -> None:
    entry = client.get("/api/v1/datasets/use_of_force").json()
    assert entry["access"] == "aggregates"
    assert "rows" not in entry["links"] and "downloads" not in entry["links"]
    assert entry["links"]["aggregate"].endswith("/aggregate")
    assert all(r["links"] == {} for r in entry["releases"])


def test_one_way_counts_hide_small_cells_and_one_more(client: TestClient, truth: Any) -> None:
    params = [("_group", "subject_race")]
    true = _true_groups(truth, params)
    small = {k for k, n in true.items() if 0 < n < THRESHOLD}
    assert len(small) == 1, "the real file has exactly one race with fewer than 10 people"
    body = client.get("/api/v1/datasets/use_of_force/aggregate", params=params).json()
    assert body["suppression"]["threshold"] == THRESHOLD
    hidden = {(g["subject_race"],): g["suppressed"] for g in body["groups"] if g["count"] is None}
    assert {k for k, s in hidden.items() if s == "primary"} == small
    # One hidden count could be worked out from the total: a second one is hidden with it.
    assert list(hidden.values()).count("complementary") == 1
    published = {(g["subject_race"],): g["count"] for g in body["groups"] if g["count"] is not None}
    assert published == {k: n for k, n in true.items() if k not in hidden}
    assert body["suppression"]["hidden"] == 2


def test_two_way_counts_leave_no_hidden_cell_derivable(client: TestClient, truth: Any) -> None:
    params = [("_group", "subject_race,subject_sex")]
    true = _true_groups(truth, params)
    body = client.get("/api/v1/datasets/use_of_force/aggregate", params=params).json()
    got = {(g["subject_race"], g["subject_sex"]): g for g in body["groups"]}
    # Every group with people is listed; a hidden zero is listed too (its absence would say 0).
    assert set(got) >= set(true)
    assert all(got[k]["count"] is None for k in set(got) - set(true))
    races = sorted({k[0] for k in true}, key=str)
    sexes = sorted({k[1] for k in true}, key=str)
    table = np.array([[true.get((r, s), 0) for s in sexes] for r in races])
    hidden = np.array([[got.get((r, s), {}).get("count", 0) is None for s in sexes] for r in races])
    small = (table > 0) & (table < THRESHOLD)
    assert small.any() and (hidden & small).sum() == small.sum()
    assert (hidden & (table == 0)).any(), "this table needs a hidden zero to protect a small cell"
    for r, s in zip(*np.nonzero(hidden), strict=True):
        assert not is_derivable(table, hidden, (int(r), int(s))), (races[r], sexes[s])
    for key, group in got.items():
        if group["count"] is not None:
            assert group["count"] == true[key]


def test_a_filtered_total_below_the_threshold_is_hidden_with_its_groups(
    client: TestClient, truth: Any
) -> None:
    true = _true_groups(truth, [("_group", "subject_race")])
    race, n = min(((k[0], v) for k, v in true.items() if v > 0), key=lambda kv: kv[1])
    assert n < THRESHOLD
    body = client.get(
        "/api/v1/datasets/use_of_force/facets",
        params=[("subject_race", race), ("_facet", "subject_sex")],
    ).json()
    assert body["total"] is None
    assert all(v["count"] is None for v in body["facets"]["subject_sex"])


def test_facets_hide_small_counts_and_keep_the_rest(client: TestClient, truth: Any) -> None:
    body = client.get(
        "/api/v1/datasets/use_of_force/facets", params=[("_facet", "subject_race")]
    ).json()
    values = body["facets"]["subject_race"]
    true = _true_groups(truth, [("_group", "subject_race")])
    hidden = [v for v in values if v["count"] is None]
    assert len(hidden) >= 2 and all(true[(v["value"],)] > 0 for v in hidden)
    assert body["total"] == sum(true.values())
    shown = sum(v["count"] for v in values if v["count"] is not None)
    assert body["total"] - shown == sum(true[(v["value"],)] for v in hidden)


def test_sorted_by_count_hidden_groups_come_last_and_size_cuts_after(client: TestClient) -> None:
    body = client.get(
        "/api/v1/datasets/use_of_force/aggregate",
        params=[("_group", "subject_race"), ("_sort", "-count")],
    ).json()
    counts = [g["count"] for g in body["groups"]]
    first_hidden = counts.index(None)
    assert all(c is None for c in counts[first_hidden:])
    assert counts[:first_hidden] == sorted(counts[:first_hidden], reverse=True)
    two = client.get(
        "/api/v1/datasets/use_of_force/aggregate",
        params=[("_group", "subject_race"), ("_sort", "-count"), ("_size", "2")],
    ).json()
    assert two["groups"] == body["groups"][:2] and two["truncated"] is True


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ([("_group", "subject_race,subject_sex,quarter")], "at most 2"),
        ([("_group", "subject_race"), ("_agg", "max:subject_age")], "one person's value"),
    ],
)
def test_what_suppression_cannot_protect_is_refused(
    client: TestClient, params: list[tuple[str, str]], word: str
) -> None:
    response = client.get("/api/v1/datasets/use_of_force/aggregate", params=params)
    assert response.status_code == 400
    assert word in response.json()["error"]["message"]


def test_sums_of_hidden_groups_are_hidden_too(client: TestClient) -> None:
    body = client.get(
        "/api/v1/datasets/use_of_force/aggregate",
        params=[
            ("_group", "subject_race"),
            ("_agg", "count"),
            ("_agg", "avg:officer_years_of_service"),
        ],
    ).json()
    for group in body["groups"]:
        if group["count"] is None:
            assert group["avg_officer_years_of_service"] is None
        else:
            assert group["avg_officer_years_of_service"] is not None


def test_pages_offer_counts_not_rows(client: TestClient) -> None:
    about = client.get("/datasets/use_of_force").text
    assert 'id="counts-only"' in about and "/explore" not in about
    assert "rows.csv" not in about and "file.parquet" not in about
    explore = client.get("/datasets/use_of_force/explore")
    assert explore.status_code == 403 and "published only as counts" in explore.text
    charts = client.get("/datasets/use_of_force/charts")
    assert charts.status_code == 200
    assert 'id="suppression"' in charts.text and ">Hidden<" in charts.text
    assert "Counts only" in client.get("/").text


def test_officer_subject_race_pairs_hide_small_cells_safely(client: TestClient, truth: Any) -> None:
    from openblotter.services import community

    true = community.race_pairs(truth, "use_of_force")
    body = client.get("/api/v1/analysis/race-pairs", params={"dataset": "use_of_force"}).json()
    officers, subjects = list(true["officer_groups"]), list(true["subject_groups"])
    assert (body["officer_groups"], body["subject_groups"]) == (officers, subjects)
    table = np.zeros((len(officers), len(subjects)), dtype=np.int64)
    hidden = np.zeros_like(table, dtype=bool)
    for cell, shown in zip(true["cells"], body["cells"], strict=True):
        at = officers.index(cell["officer_group"]), subjects.index(cell["subject_group"])
        table[at] = cell["count"]
        hidden[at] = shown["count"] is None
        if shown["count"] is not None:
            assert shown["count"] == cell["count"]
        else:
            assert shown["share_of_all"] is None and shown["suppressed"]
    assert (hidden | ~((table > 0) & (table < THRESHOLD))).all()
    assert hidden.any()
    for r, c in zip(*np.nonzero(hidden), strict=True):
        assert not is_derivable(table, hidden, (int(r), int(c)))
    assert body["suppression"]["hidden"] == int(hidden.sum())


def test_the_benchmark_hides_small_groups_and_every_figure_made_from_them(
    client: TestClient,
) -> None:
    body = client.get(
        "/api/v1/analysis/benchmark",
        params={"dataset": "use_of_force", "by": "subject_race", "period": "2016"},
    ).json()
    rows = {r["group"]: r for r in body["rows"]}
    hidden = [r for r in body["rows"] if r.get("suppressed")]
    assert len(hidden) >= 2 and body["suppression"]["hidden"] == len(hidden)
    for row in hidden:
        assert row["events"] is None and row["rate_per_1000"] is None
        assert row["rate_ci_low"] is None and row["rate_ratio"] is None
        assert row["notes"] == []  # a note would quote the count: "Fewer than 20 events (2)"
    shown = [r for r in body["rows"] if not r.get("suppressed")]
    assert all(r["events"] == 0 or r["events"] >= THRESHOLD for r in shown)
    assert body["events_total"] - sum(r["events"] for r in shown) >= 2  # two hidden, not one
    aian = "American Indian and Alaska Native alone, not Hispanic or Latino"
    assert rows[aian]["suppressed"] == "primary"
    page = client.get(
        "/analysis/benchmark", params={"dataset": "use_of_force", "period": "2016"}
    ).text
    assert 'id="suppression"' in page and "Hidden" in page


def test_outcome_tables_and_funnels_suppress_with_the_counts_only_threshold(
    client: TestClient,
) -> None:
    outcomes = client.get("/api/v1/analysis/outcomes", params={"dataset": "use_of_force"}).json()
    assert outcomes["suppression_threshold"] == THRESHOLD  # the setting is 0: counts only uses 10
    assert outcomes["suppressed_cells"] > 0
    funnel = client.get(
        "/api/v1/analysis/funnel", params={"dataset": "use_of_force", "by": "beat"}
    ).json()
    assert funnel["suppression_threshold"] == THRESHOLD
    shown = [u["events"] for u in funnel["units"] if u["events"] is not None]
    assert len(shown) < len(funnel["units"])
    assert all(n >= THRESHOLD for n in shown)


def test_the_release_manifest_keeps_its_row_quoting_report_back(
    client: TestClient, truth: Any
) -> None:
    manifest = client.get("/api/v1/datasets/use_of_force/releases/2016-Q4").json()
    assert set(manifest["report"]) == {"withheld"}
    assert manifest["row_count"] == truth.release("use_of_force", "2016-Q4").row_count
    assert manifest["schema"]["fields"]  # the data dictionary stays public


@pytest.fixture(scope="module")
def analysis_portals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """The analysis samples (NJ officers, Rhode Island stops) with rows public, and counts only."""
    from openblotter.services.portal import Portal
    from tests.functional.test_analysis_pages import analysis_settings, publish_analysis_samples

    data_dir = tmp_path_factory.mktemp("analysis-counts-only")
    public = publish_analysis_samples(data_dir)
    counts_only = Portal.open(
        analysis_settings(data_dir, aggregates_only_datasets=["nj_officers", "ri_stops"])
    )
    return public, counts_only


def test_representation_hides_small_staff_counts_in_every_subset(
    analysis_portals: tuple[Any, Any],
) -> None:
    from openblotter.services import community

    public, counts_only = analysis_portals
    salem = [("county", "Salem")]  # 211 officers: some groups have fewer than 10
    true = community.representation(public, "nj_officers", filters=salem)
    shown = community.representation(counts_only, "nj_officers", filters=salem)
    assert shown["suppression"]["hidden"] > 0
    for before, after in zip(true["results"], shown["results"], strict=True):
        small = {r["group"] for r in before["rows"] if 0 < r["staff"] < THRESHOLD}
        hidden = {r["group"] for r in after["rows"] if r.get("suppressed")}
        assert small <= hidden and len(hidden) != 1  # one hidden would follow from the total
        for row in after["rows"]:
            if row.get("suppressed"):
                assert row["staff"] is None and row["representation_index"] is None
            else:
                assert row == next(r for r in before["rows"] if r["group"] == row["group"])


def test_veil_of_darkness_keeps_the_model_and_hides_small_counts(
    analysis_portals: tuple[Any, Any],
) -> None:
    from openblotter.services import community

    public, counts_only = analysis_portals
    true = community.darkness(public, "ri_stops", group="Asian")
    shown = community.darkness(counts_only, "ri_stops", group="Asian")
    assert shown["odds_ratio"] == true["odds_ratio"] and shown["ci"] == true["ci"]
    for reason, count in shown["excluded"].items():
        assert count == true["excluded"][reason] or 0 < true["excluded"][reason] < THRESHOLD
    dark_in_group = round(true["share_in_group_dark"] * true["n_dark"])
    expected_hidden = 0 < dark_in_group < THRESHOLD
    assert (shown["share_in_group_dark"] is None) == expected_hidden


def test_representation_and_darkness_pages_show_hidden_counts(
    analysis_portals: tuple[Any, Any],
) -> None:
    from tests.functional.test_analysis_pages import analysis_app

    _, counts_only = analysis_portals
    with TestClient(analysis_app(counts_only.settings)) as pages:
        html = pages.get(
            "/analysis/representation", params={"dataset": "nj_officers", "county": "Salem"}
        ).text
        assert 'id="suppression"' in html and ">Hidden<" in html
        dark = pages.get("/analysis/darkness", params={"dataset": "ri_stops", "group": "Asian"})
        assert dark.status_code == 200 and 'id="suppression"' in dark.text
