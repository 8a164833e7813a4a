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

from openblotter.services import query
from openblotter.web.app import create_app
from tests.factories import make_portal, make_settings, publish_dallas

THRESHOLD = 10
API = "/api/v1/datasets/use_of_force"


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
    # Every group with people is listed, and only those (a combination not listed is 0).
    assert set(got) == set(true)
    races = sorted({k[0] for k in true}, key=str)
    sexes = sorted({k[1] for k in true}, key=str)
    table = np.array([[true.get((r, s), 0) for s in sexes] for r in races])
    hidden = np.array([[got.get((r, s), {}).get("count", 0) is None for s in sexes] for r in races])
    small = (table > 0) & (table < THRESHOLD)
    assert small.any() and (hidden & small).sum() == small.sum()
    assert not (hidden & (table == 0)).any()
    # That no hidden cell can be worked out from every published number together is
    # checked by the attacker (tests/integration/test_counts_only_attacker.py).
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
        ([("_group", "subject_race,subject_sex,quarter")], "at most two columns"),
        ([("_group", "subject_race"), ("_agg", "max:subject_age")], "only counts"),
        ([("_group", "subject_race"), ("_agg", "avg:officer_years_of_service")], "only counts"),
        ([("_group", "subject_race,subject_condition")], "no published table"),
        ([("_group", "incident_id")], "not one of its dimensions"),
        ([("_group", "subject_race"), ("_q", "taser")], "text search"),
        (
            [("_group", "subject_race"), ("subject_sex", "Male"), ("quarter", "2016-Q1")],
            "one filter",
        ),
        ([("_group", "subject_sex"), ("officer_years_of_service__gt", "3")], "dimension=one value"),
    ],
)
def test_what_the_protected_tables_do_not_hold_is_refused(
    client: TestClient, params: list[tuple[str, str]], word: str
) -> None:
    response = client.get("/api/v1/datasets/use_of_force/aggregate", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert word in error["message"]
    assert "subject_race" in error["detail"]["dimensions"]
    assert "incident_id" not in error["detail"]["dimensions"]


def test_facets_of_ids_and_dates_are_refused(client: TestClient) -> None:
    for facet in ("record_id", "incident_id", "officer_id", "incident_date", "narrative"):
        response = client.get(
            "/api/v1/datasets/use_of_force/facets",
            params=[("_facet", facet), ("subject_injured", "true")],
        )
        assert response.status_code in (400, 404), facet
        assert facet not in response.json()["error"].get("detail", {}).get("dimensions", [])


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


def test_officer_subject_race_pairs_come_from_the_protected_table(
    client: TestClient, truth: Any
) -> None:
    true = _true_groups(truth, [("_group", "officer_race,subject_race")])
    body = client.get("/api/v1/analysis/race-pairs", params={"dataset": "use_of_force"}).json()
    table = client.get(
        "/api/v1/datasets/use_of_force/aggregate", params={"_group": "officer_race,subject_race"}
    ).json()
    published = {(g["officer_race"], g["subject_race"]): g["count"] for g in table["groups"]}
    assert body["event_unit"].startswith("one row of the dataset")
    for cell in body["cells"]:
        key = (cell["officer_group"], cell["subject_group"])
        assert cell["count"] == published.get(key, 0)  # the same numbers as the table
        if cell["count"] is None:
            assert cell["share_of_all"] is None and cell["suppressed"]
            assert true[key] > 0
        else:
            assert cell["count"] == true.get(key, 0)
    small = {k for k, n in true.items() if 0 < n < THRESHOLD}
    assert small and all(published[k] is None for k in small)


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


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/analysis/outcomes", {"dataset": "use_of_force", "subject_sex": "Male"}),
        ("/api/v1/analysis/veil-of-darkness", {"dataset": "use_of_force"}),
    ],
)
def test_analyses_that_do_not_read_the_protected_tables_are_refused(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400
    assert "published only as counts" in response.json()["error"]["message"]


def test_outcome_tables_read_the_protected_one_way_tables(client: TestClient, truth: Any) -> None:
    body = client.get("/api/v1/analysis/outcomes", params={"dataset": "use_of_force"}).json()
    force = body["tables"]["force_type"]
    table = client.get(f"{API}/facets", params={"_facet": "force_type"}).json()["facets"]
    published = {v["value"]: v["count"] for v in table["force_type"]}
    true = _true_groups(truth, [("_group", "force_type")])
    assert {r["value"]: r["count"] for r in force["rows"]} == published
    assert any(r["count"] is None for r in force["rows"])
    for row in force["rows"]:
        if row["count"] is not None:
            assert row["count"] == true[(row["value"],)] and row["count"] >= THRESHOLD
        else:
            assert row["share"] is None and row["suppressed"]
    injured = {r["value"] for r in body["tables"]["subject_injured"]["rows"]}
    assert injured <= {"Yes", "No", "Not recorded"}
    assert body["suppressed_cells"] > 0
    csv = client.get("/api/v1/analysis/outcomes.csv", params={"dataset": "use_of_force"})
    assert csv.status_code == 200 and "force_type" in csv.text


def test_funnels_read_the_protected_one_way_tables(client: TestClient, truth: Any) -> None:
    true = _true_groups(truth, [("_group", "sector")])
    body = client.get(
        "/api/v1/analysis/funnel", params={"dataset": "use_of_force", "by": "sector"}
    ).json()
    table = client.get(f"{API}/facets", params={"_facet": "sector"}).json()["facets"]["sector"]
    published = {v["value"]: v["count"] for v in table}
    assert body["event_unit"].startswith("one row of the dataset")
    for unit in body["units"]:
        assert unit["events"] == published[unit["unit"]]  # the table's numbers, hidden with it
        if unit["events"] is None:
            assert unit["rate"] is None and unit["position"] is None
        else:
            assert unit["events"] == true[(unit["unit"],)]
    beat = client.get("/api/v1/analysis/funnel", params={"dataset": "use_of_force", "by": "beat"})
    assert (
        beat.status_code == 400 and "not one of its dimensions" in beat.json()["error"]["message"]
    )


def test_an_analysis_filter_the_tables_do_not_hold_is_refused(client: TestClient) -> None:
    response = client.get(
        "/api/v1/analysis/benchmark",
        params={"dataset": "use_of_force", "period": "2016-Q1", "subject_sex": "Female"},
    )
    assert response.status_code == 400
    assert "at most one filter" in response.json()["error"]["message"]


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
    from tests.factories_real import analysis_settings, publish_analysis_samples

    data_dir = tmp_path_factory.mktemp("analysis-counts-only")
    public = publish_analysis_samples(data_dir)
    counts_only = Portal.open(
        analysis_settings(data_dir, aggregates_only_datasets=["nj_officers", "ri_stops"])
    )
    return public, counts_only


def test_representation_reads_the_protected_tables(analysis_portals: tuple[Any, Any]) -> None:
    from openblotter.domain.errors import InvalidInput
    from openblotter.services import community

    public, counts_only = analysis_portals
    true = community.representation(public, "nj_officers")["results"][0]
    shown = community.representation(counts_only, "nj_officers")
    assert shown["event_unit"].startswith("one row of the dataset")
    everyone = shown["results"][0]
    assert everyone["subset"] == "All staff"
    assert everyone["staff_total"] == true["staff_total"] == 30_617
    for before, after in zip(true["rows"], everyone["rows"], strict=True):
        assert after["staff"] == before["staff"] or after.get("suppressed")
    # A county is not a dimension of a published two-way table with race: refused.
    with pytest.raises(InvalidInput, match="published only as counts"):
        community.representation(counts_only, "nj_officers", filters=[("county", "Salem")])


def test_representation_hides_staff_known_when_it_would_give_hidden_counts_away(
    analysis_portals: tuple[Any, Any],
) -> None:
    """The issue's case: staff_total and staff_known both published reveal the unknown group."""
    from openblotter.analysis.representation import representation_index
    from openblotter.services.disclosure_analyses import _protect_subset
    from openblotter.services.residents import race_mapping

    _, counts_only = analysis_portals
    mapping = race_mapping(counts_only)
    staff = {"White": 150, "Black or African American": 40, "Asian": 3, "Unknown": 12}
    result = representation_index(staff, {}, mapping=mapping).to_dict()
    assert result["staff_total"] - result["staff_known"] == 12  # the leak, unprotected
    protected = _protect_subset(result, mapping, {"Asian", "Unknown"}, total_hidden=False)
    assert protected["staff_total"] == 205 and protected["staff_known"] is None
    assert all(r["share_of_staff"] is None for r in protected["rows"])
    hidden = {r["group"] for r in protected["rows"] if r.get("suppressed")}
    assert hidden == {"Asian alone, not Hispanic or Latino", "Unknown"}
    both_inside = _protect_subset(result, mapping, {"Asian", "White"}, total_hidden=False)
    assert both_inside["staff_known"] == 193  # the hidden sum is total minus shown: no news


def test_darkness_is_refused_with_a_pointer(analysis_portals: tuple[Any, Any]) -> None:
    from openblotter.domain.errors import InvalidInput
    from openblotter.services.darkness import darkness
    from tests.factories_real import analysis_app

    _, counts_only = analysis_portals
    with pytest.raises(InvalidInput, match="published only as counts"):
        darkness(counts_only, "ri_stops", group="Asian")
    with TestClient(analysis_app(counts_only.settings)) as pages:
        html = pages.get("/analysis/darkness", params={"dataset": "ri_stops", "group": "Asian"})
        assert html.status_code == 400 and "published only as counts" in html.text
        rep = pages.get("/analysis/representation", params={"dataset": "nj_officers"})
        assert rep.status_code == 200 and "30,617" in rep.text


def test_declared_dimensions_are_the_only_ones(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The portal names the dimensions; an ID it names by mistake stays out."""
    settings = make_settings(
        tmp_path_factory.mktemp("declared"),
        aggregates_only_datasets=["use_of_force"],
        aggregates_dimensions={"use_of_force": ["subject_race", "subject_sex", "officer_id"]},
    )
    app = create_app(settings)
    publish_dallas(app.state.portal, tmp_path_factory.mktemp("declared-residents"), residents=False)
    with TestClient(app) as declared:
        refused = declared.get(f"{API}/aggregate", params={"_group": "officer_race"})
        assert refused.status_code == 400
        assert refused.json()["error"]["detail"]["dimensions"] == ["subject_race", "subject_sex"]
        assert refused.json()["error"]["detail"]["tables"] == ["subject_race,subject_sex"]
        assert declared.get(f"{API}/facets", params={"_facet": "officer_id"}).status_code == 400
        two_way = declared.get(f"{API}/aggregate", params={"_group": "subject_race,subject_sex"})
        assert two_way.status_code == 200


def test_release_summaries_count_no_rows_but_the_total(client: TestClient) -> None:
    """Blanks and codes per field, rules applied and row changes are counts of rows too."""
    entry = client.get(API).json()
    manifest = client.get(f"{API}/releases/2016-Q4").json()
    for summary in [*entry["releases"], manifest]:
        assert set(summary["validation"]) == {"ok"}
        assert "rules_applied" not in summary
        assert not {"added", "removed", "changed"} & set(summary["changelog"])
    assert manifest["row_count"] == entry["releases"][0]["row_count"]
