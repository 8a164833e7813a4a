"""Issue 14: every door is made from the one registry of analyses.

The registry, the API routes (their OpenAPI parameters), the pages' forms and the CLI's
``analyze`` commands list the same analyses with the same parameters and defaults, and every
analysis route has a response model in the OpenAPI schema.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from fastapi.testclient import TestClient

from openblotter.cli import app as cli_app
from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.services.analyses import registry
from openblotter.services.analyses.base import allowed_values
from openblotter.services.portal import Portal
from openblotter.web.app import create_app
from tests.factories import make_settings

#: The analyses every door had before the registry (a public contract: URLs, names, defaults).
PUBLIC_PARAMETERS = {
    "benchmark": {"dataset": None, "by": "subject_race", "period": "last4q", "reference": None},
    "funnel": {"dataset": None, "by": "beat", "period": None},
    "outcomes": {"dataset": None},
    "representation": {"dataset": "department_demographics"},
    "outcome-tests": {"dataset": None, "by": "subject_race", "period": "all"},
    "darkness": {
        "dataset": None,
        "group": "Black or African American",
        "reference": "White",
        "controls": None,
        "period": "all",
    },
    "recording-changes": {"dataset": None, "release": None},
    "race-pairs": {"dataset": None},
}


def _registry() -> dict[str, dict[str, Any]]:
    return {
        name: {
            p: (None if info.is_required() else info.default)
            for p, info in spec.params.model_fields.items()
        }
        for name, spec in registry.ANALYSES.items()
    }


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    with TestClient(create_app(make_settings(tmp_path_factory.mktemp("registry")))) as opened:
        yield opened


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    return client.app.openapi()  # type: ignore[attr-defined]


def test_the_registry_keeps_every_public_parameter_and_default() -> None:
    listed = _registry()
    assert {name: listed.get(name) for name in PUBLIC_PARAMETERS} == PUBLIC_PARAMETERS


def test_every_analysis_route_has_a_response_model(openapi: dict[str, Any]) -> None:
    routes = {
        path: item["get"]
        for path, item in openapi["paths"].items()
        if path.startswith("/api/v1/analysis/") and "get" in item
    }
    json_routes = {p: op for p, op in routes.items() if not p.endswith(".csv")}
    assert set(json_routes) == {spec.path for spec in registry.ANALYSES.values()}
    for path, operation in json_routes.items():
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].startswith("#/components/schemas/"), path
        model = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        assert model["properties"], path  # a model with its fields, not an untyped object


def test_the_api_routes_take_the_registry_parameters(openapi: dict[str, Any]) -> None:
    for spec in registry.ANALYSES.values():
        operation = openapi["paths"][spec.path]["get"]
        query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert list(query) == list(spec.params.model_fields), spec.name
        for name, info in spec.params.model_fields.items():
            parameter = query[name]
            assert parameter["required"] == info.is_required(), (spec.name, name)
            assert parameter["schema"].get("default") == info.default or info.is_required()
            assert parameter["description"] == info.description
            assert parameter["schema"].get("enum", []) == list(allowed_values(spec.params, name))
    csv = openapi["paths"]["/api/v1/analysis/{name}.csv"]["get"]["parameters"]
    names = next(p for p in csv if p["name"] == "name")["schema"]["enum"]
    assert names == registry.csv_analyses()
    assert {"benchmark", "funnel", "outcomes", "outcome-tests"} <= set(names)


def _form_controls(html: str) -> list[str]:
    form = re.search(r'<form class="usa-form ob-filter-form".*?</form>', html, re.S)
    assert form, "the page has its form"
    return re.findall(r'<(?:input|select)[^>]* name="([^"]+)"', form.group(0))


def test_the_page_forms_ask_for_the_registry_parameters(client: TestClient) -> None:
    pages = [spec for spec in registry.ANALYSES.values() if spec.page]
    index = client.get("/analysis").text
    assert re.findall(r'<h2 class="usa-card__heading"><a href="/analysis/([^"]+)"', index) == [
        spec.name for spec in pages
    ]
    for spec in pages:
        response = client.get(f"/analysis/{spec.name}")
        assert response.status_code == 200, spec.name
        assert _form_controls(response.text) == list(spec.params.model_fields), spec.name
    for spec in registry.ANALYSES.values():
        if not spec.page:
            assert client.get(f"/analysis/{spec.name}").status_code == 404


def test_a_page_form_keeps_the_chosen_values(client: TestClient) -> None:
    html = client.get("/analysis/darkness?dataset=x&reference=all&period=2007").text
    assert re.search(
        r'<option value="all" selected>Every other driver of known race</option>', html
    )
    assert 'id="darkness-period" name="period" value="2007"' in html


def test_the_cli_commands_take_the_registry_parameters() -> None:
    group = typer.main.get_command(cli_app).commands["analyze"]  # type: ignore[attr-defined]
    context = click.Context(group)  # the commands are made on first use, through click's API
    assert group.list_commands(context) == list(registry.ANALYSES)
    for name, spec in registry.ANALYSES.items():
        command = group.get_command(context, name)
        own = {p.name: p for p in command.params if p.name in spec.params.model_fields}
        assert list(own) == list(spec.params.model_fields), name
        argument = own["dataset"]
        assert argument.param_type_name == "argument"
        assert argument.required == spec.params.model_fields["dataset"].is_required()
        for option, info in spec.params.model_fields.items():
            if option == "dataset":
                continue
            assert own[option].opts == [f"--{option}"], (name, option)
            assert own[option].default == info.default, (name, option)
        flags = {o for p in command.params for o in p.opts}
        assert "--json" in flags
        assert ("--filter" in flags) == spec.filters


def test_a_command_other_than_analyze_does_not_import_the_analyses() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from openblotter.cli import app; "
        "CliRunner().invoke(app, ['families']); "
        "print(sorted(m for m in sys.modules if m.startswith('openblotter.services.analyses')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_only_an_analysis_with_a_table_has_a_csv(client: TestClient) -> None:
    answer = client.get("/api/v1/analysis/representation.csv", params={"dataset": "x"})
    assert answer.status_code == 400  # not one of the CSV names the route allows
    with pytest.raises(NotFound, match="choose benchmark, funnel"):
        registry.analysis("moon")
    with pytest.raises(NotFound, match="no table to download"):
        registry.analysis_csv("race-pairs", {"rows": []})


def test_a_refused_analysis_is_refused_before_it_runs(tmp_path: Path) -> None:
    """The registry refuses a counts-only dataset for the analyses whose protection is a
    refusal, whatever door asks (the dataset need not even be published)."""
    portal = Portal.open(make_settings(tmp_path, aggregates_only_datasets=["stops"]))
    refused = [s for s in registry.ANALYSES.values() if s.counts_only.policy == "refused"]
    assert {"darkness", "outcome-tests"} <= {s.name for s in refused}
    for spec in refused:
        with pytest.raises(InvalidInput, match="published only as counts"):
            registry.run(portal, spec.name, [("dataset", "stops")])
