"""Property-based: every query door (API rows, facets, aggregate, exports, the explore and
charts pages, the analyses and their pages) over generated filters and controls — names of
real columns with every operator, controls, and text, digits, dates and long values — answers
2xx or a 4xx, with the error shape on the API (issue 17). The OpenAPI schema cannot describe
the filters (any column is a parameter), so schemathesis does not reach them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openblotter.domain.query.model import SUFFIX_OPERATORS
from openblotter.web.app import create_app
from tests.factories import make_settings, publish_dallas

DOORS = [
    "/api/v1/datasets/use_of_force/rows",
    "/api/v1/datasets/use_of_force/facets",
    "/api/v1/datasets/use_of_force/aggregate",
    "/api/v1/datasets/use_of_force/rows.csv",
    "/datasets/use_of_force/explore",
    "/datasets/use_of_force/charts",
    "/api/v1/analysis/benchmark?dataset=use_of_force",
    "/api/v1/analysis/funnel?dataset=use_of_force",
    "/api/v1/analysis/outcomes?dataset=use_of_force",
    "/api/v1/analysis/race-pairs?dataset=use_of_force",
    "/analysis/benchmark?dataset=use_of_force",
    "/analysis/funnel?dataset=use_of_force",
]
CONTROLS = ["_q", "_sort", "_fields", "_size", "_next", "_count", "_facet", "_group", "_agg",
            "_release", "by", "period", "reference", "dataset", "_bogus"]  # fmt: skip


@pytest.fixture(scope="module")
def portal_app(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("query-fuzz")
    app = create_app(make_settings(data_dir))
    publish_dallas(app.state.portal, data_dir)
    return app


def _columns(app) -> list[str]:
    with TestClient(app) as client:
        fields = client.get("/api/v1/datasets/use_of_force").json()["schema"]["fields"]
    return [f["name"] for f in fields] + ["quarter", "year", "month", "no_such_column"]


def values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=30),
        st.from_regex(r"-?\d{1,25}(\.\d{0,5})?", fullmatch=True),
        st.from_regex(r"\d{4}(-Q\d|-\d\d(-\d\d)?)?", fullmatch=True),
        st.sampled_from(
            [
                "true",
                "no",
                "",
                ",",
                "a,b,c",
                "-count",
                "count",
                "sum:subject_age",
                "White",
                "2016-Q4",
                "last4q",
                "Unknown",
                "9" * 2500,
            ]
        ),  # fmt: skip
    )


def test_no_server_error_on_any_door_under_generated_filters(portal_app):
    names = _columns(portal_app)
    keys = st.one_of(
        st.sampled_from(names),
        st.builds(
            lambda c, op: f"{c}__{op}", st.sampled_from(names), st.sampled_from(SUFFIX_OPERATORS)
        ),
        st.sampled_from(CONTROLS),
        st.text(min_size=1, max_size=12),
    )
    failures: list[str] = []
    checked = {"n": 0}
    client = TestClient(portal_app, raise_server_exceptions=False)

    @settings(
        max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(door=st.sampled_from(DOORS), params=st.lists(st.tuples(keys, values()), max_size=6))
    def run(door, params):
        response = client.get(door, params=params)
        checked["n"] += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {door} {params}")
        elif response.status_code >= 400 and door.startswith("/api/"):
            error = response.json().get("error", {})
            if set(error) != {"code", "message", "detail"}:
                failures.append(f"{response.status_code} without the error shape: {door} {params}")

    run()
    assert checked["n"] == 300
    assert not failures, failures[:10]
