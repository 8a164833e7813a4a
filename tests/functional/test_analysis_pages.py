"""The analysis pages and their JSON and CSV over real files: status, content, downloads, errors.

The portal publishes Rhode Island State Police stops (contacts), Philadelphia complaints
(complaints, with their allegations and complainants), Seattle use of force, Denver hate
crimes, New Jersey officers (department demographics) and a small table of residents.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape as html_escape

from openblotter.services.analyses import registry
from tests.factories_real import analysis_app, analysis_settings, publish_analysis_samples


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("analysis")
    publish_analysis_samples(directory)
    return directory


@pytest.fixture(scope="module")
def client(data_dir: Path):
    with TestClient(analysis_app(analysis_settings(data_dir))) as opened:
        yield opened


def page(client: TestClient, address: str, status: int = 200) -> str:
    response = client.get(address, headers={"Accept": "text/html"})
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def csv_rows(client: TestClient, address: str) -> list[dict[str, str]]:
    response = client.get(address)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def same_number(text: str, value: object) -> bool:
    if value is None:
        return text == ""
    if isinstance(value, bool):
        return text == str(value)
    if isinstance(value, int | float):
        return float(text) == float(value)
    if isinstance(value, list):  # notes: one cell, joined as analysis_csv joins them
        return text == "; ".join(str(v) for v in value)
    return text == str(value)


def test_index_explains_and_links_every_analysis(client):
    html = page(client, "/analysis")
    for name in ("benchmark", "funnel", "outcomes", "representation", "darkness"):
        assert f'href="/analysis/{name}"' in html
    assert 'href="/analysis?' not in html and '<a href="/analysis"' in html  # the site's nav
    assert "/analysis/darkness?dataset=ri_stops" in html
    assert "/analysis/representation?dataset=nj_officers" in html
    assert (
        "/analysis/outcomes?dataset=denver_custom" not in html
    )  # a custom dataset has no outcomes


def test_benchmark_page_shows_table_mapping_method_and_caveats(client):
    html = page(client, "/analysis/benchmark?dataset=ri_stops&by=subject_race&period=2007")
    body = client.get(
        "/api/v1/analysis/benchmark?dataset=ri_stops&by=subject_race&period=2007"
    ).json()
    black = next(r for r in body["rows"] if r["group"].startswith("Black"))
    assert f"{black['rate_per_1000']:,.1f}" in html and f"{black['events']:,}" in html
    unknown = next(r for r in body["rows"] if r["placement"] == "unknown")
    assert unknown["events"] > 0 and "No rate (no residents to compare)" in html
    assert re.search(
        rf"<th scope=\"row\">Unknown.*?</th>\s*<td class=\"ob-num\">{unknown['events']:,}<",
        html,
        re.S,
    )
    assert (
        "How the department's codes meet the census" in html
        and "Not compared with residents" in html
    )
    assert "exact Poisson (Garwood 1936)" in html  # the method, named
    assert (
        'href="/#about-the-data"' in html and "Residents are not everyone the police meet" in html
    )
    assert (
        'href="/api/v1/analysis/benchmark.csv?dataset=ri_stops&amp;by=subject_race&amp;period=2007"'
        in html
    )
    assert "data-vega-lite" in html and "/api/v1/analysis/benchmark?dataset=ri_stops" in html


def test_benchmark_csv_equals_the_json(client):
    query = "dataset=seattle_use_of_force&by=subject_sex&period=2019"
    body = client.get(f"/api/v1/analysis/benchmark?{query}").json()
    rows = csv_rows(client, f"/api/v1/analysis/benchmark.csv?{query}")
    assert len(rows) == len(body["rows"]) > 1
    for row, expected in zip(rows, body["rows"], strict=True):
        for key in (
            "group",
            "events",
            "rate_per_1000",
            "rate_ci_low",
            "rate_ratio",
            "ci_high",
            "reliable",
        ):
            assert same_number(row[key], expected[key]), (key, row[key], expected[key])


def test_bad_parameters_are_explained_on_the_page(client):
    html = page(client, "/analysis/benchmark?dataset=ri_stops&period=soon", 400)
    assert "&#39;soon&#39; is not a period" in html and 'value="soon"' in html  # the form keeps it
    html = page(client, "/analysis/funnel?dataset=ri_stops&by=street", 400)
    assert "&#39;by&#39; must be one of beat, sector, district, quarter" in html
    html = page(client, "/analysis/outcomes?dataset=denver_custom", 400)
    assert "a custom dataset" in html and "Allowed:" in html
    page(client, "/analysis/funnel?dataset=no_such_dataset", 404)
    bad = client.get("/api/v1/analysis/funnel.csv?dataset=ri_stops&by=street")
    assert bad.status_code == 400 and bad.json()["error"]["detail"]["parameter"] == "by"
    assert client.get("/api/v1/analysis/diff.csv?dataset=ri_stops").status_code == 400


def test_funnel_page_and_csv(client):
    html = page(client, "/analysis/funnel?dataset=seattle_use_of_force&by=beat")
    body = client.get("/api/v1/analysis/funnel?dataset=seattle_use_of_force&by=beat").json()
    assert body["basis"] == "average" and "Compared with the average, not with residents" in html
    assert (
        body["unplaced_events"] > 0 and f"{body['unplaced_events']:,} events record no beat" in html
    )
    rows = csv_rows(client, "/api/v1/analysis/funnel.csv?dataset=seattle_use_of_force&by=beat")
    assert [r["unit"] for r in rows] == [u["unit"] for u in body["units"]]
    for row, unit in zip(rows, body["units"], strict=True):
        for key in ("events", "rate", "limit_95_low", "limit_99_8_high", "position", "small"):
            assert same_number(row[key], unit[key])
    quarters = client.get("/api/v1/analysis/funnel?dataset=ri_stops&by=quarter&period=2006").json()
    assert quarters["basis"] == "residents" and [u["unit"] for u in quarters["units"]] == [
        "2006-Q1",
        "2006-Q2",
        "2006-Q3",
        "2006-Q4",
    ]
    assert "small number" in page(client, "/analysis/funnel?dataset=seattle_use_of_force&by=beat")


def test_outcomes_pages_per_family(client):
    html = page(client, "/analysis/outcomes?dataset=philadelphia_complaints")
    for title in (
        "Complaints by how they were received",
        "Anonymous complaints",
        "Allegations by finding",
        "Sustained rate by complainant group",
    ):
        assert title in html
    assert "Clopper-Pearson" in html and "A finding is about one allegation" in html
    assert "Force by type" in page(client, "/analysis/outcomes?dataset=seattle_use_of_force")
    assert "Contacts by outcome" in page(client, "/analysis/outcomes?dataset=ri_stops")
    assert "by category and year" in page(client, "/analysis/outcomes?dataset=denver_hate_crimes")


def test_outcomes_csv_equals_the_json(client):
    body = client.get("/api/v1/analysis/outcomes?dataset=philadelphia_complaints").json()
    rows = csv_rows(client, "/api/v1/analysis/outcomes.csv?dataset=philadelphia_complaints")
    expected = [(key, row) for key, table in body["tables"].items() for row in table["rows"]]
    assert len(rows) == len(expected)
    for got, (key, row) in zip(rows, expected, strict=True):
        assert got["table"] == key
        for name, value in row.items():
            assert same_number(got[name], value), (key, name, got[name], value)


def test_representation_and_darkness_pages(client):
    html = page(client, "/analysis/representation?dataset=nj_officers")
    assert "30,617 staff" in html and "Representation index" in html
    html = page(client, "/analysis/darkness?dataset=ri_stops")
    body = client.get("/api/v1/analysis/veil-of-darkness?dataset=ri_stops").json()
    assert f"{body['odds_ratio']:,.2f}" in html and "This result holds only if" in html
    assert str(html_escape(body["assumptions"][0])) in html and "Providence, Rhode Island" in html


def test_suppressed_cells_are_marked(data_dir):
    settings = analysis_settings(data_dir, suppression_threshold=11)
    with TestClient(analysis_app(settings)) as suppressed:
        body = suppressed.get("/api/v1/analysis/outcomes?dataset=denver_hate_crimes").json()
        cells = body["tables"]["bias_by_year"]["rows"]
        hidden = [c for c in cells if c["suppressed"]]
        assert hidden and all(c["count"] is None for c in hidden)
        assert {c["suppressed"] for c in hidden} <= {"primary", "complementary"}
        assert "Small counts are hidden" in [c["title"] for c in body["caveats"]]
        assert "Hidden" in page(suppressed, "/analysis/outcomes?dataset=denver_hate_crimes")


def test_csv_cells_cannot_run_as_formulas():
    result = {
        "rows": [
            {"group": "=HYPERLINK(1)", "events": -3},
            {"group": "+1", "events": 2},
            {"group": "@SUM(A1)", "events": 0},
            {"group": "-1", "events": 1},
        ]
    }
    text = registry.analysis_csv("benchmark", result)
    assert text.splitlines() == [
        "group,events",
        "'=HYPERLINK(1),-3",
        "'+1,2",
        "'@SUM(A1),0",
        "'-1,1",
    ]


def test_pages_work_without_javascript(client):
    """Every number is in the server-rendered table; charts are an addition."""
    html = page(client, "/analysis/outcomes?dataset=ri_stops")
    body = client.get("/api/v1/analysis/outcomes?dataset=ri_stops").json()
    for row in body["tables"]["outcome"]["rows"]:
        assert re.search(
            rf"<th scope=\"row\">{re.escape(row['value'])}</th><td class=\"ob-num\">{row['count']:,}<",
            html,
        )
