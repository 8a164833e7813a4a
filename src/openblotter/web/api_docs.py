"""The API's documentation, served by the portal itself: nothing from a CDN.

- ``/api/docs``: Swagger UI (vendored from npm by scripts/vendor-assets.sh, same
  Content-Security-Policy as every page) over ``/openapi.json``;
- ``/api/reference``: every route as plain HTML generated from the same OpenAPI
  schema, readable without JavaScript.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from openblotter.web import pages

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    """Swagger UI over the OpenAPI schema, with a link to the plain reference."""
    return pages.render(request, "api_docs.html", {"api_version": request.app.version})


@router.get("/api/reference", response_class=HTMLResponse)
def api_reference(request: Request) -> Response:
    """Every route of the API, its parameters and answers: plain HTML, no JavaScript."""
    schema = request.app.openapi()
    return pages.render(
        request,
        "api_reference.html",
        {"info": schema.get("info", {}), "sections": reference_sections(schema)},
    )


def reference_sections(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema's operations grouped by tag (in first-seen order), each ready to print."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for path, operations in schema.get("paths", {}).items():
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["other"])[0]
            sections.setdefault(tag, []).append(_operation(path, method, operation))
    return [{"tag": tag, "operations": found} for tag, found in sections.items()]


def _operation(path: str, method: str, operation: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": operation.get("operationId") or f"{method}-{path}",
        "method": method.upper(),
        "path": path,
        "summary": operation.get("summary", ""),
        "description": operation.get("description", ""),
        "parameters": [_parameter(p) for p in operation.get("parameters", [])],
        "responses": [
            # Joined into one sentence by the page: each without its own closing period.
            {"status": status, "description": answer.get("description", "").removesuffix(".")}
            for status, answer in operation.get("responses", {}).items()
        ],
    }


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    schema = parameter.get("schema", {})
    return {
        "name": parameter.get("name", ""),
        "where": parameter.get("in", ""),
        "required": bool(parameter.get("required")),
        "type": type_name(schema),
        "default": schema.get("default"),
        "description": parameter.get("description") or schema.get("description", ""),
    }


def type_name(schema: dict[str, Any]) -> str:
    """A JSON Schema in words: 'string', 'list of string', 'one of: a, b', 'integer or null'."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    if "anyOf" in schema:
        kinds = [type_name(s) for s in schema["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds) or "null"
    if schema.get("type") == "array":
        return f"list of {type_name(schema.get('items', {}))}"
    return str(schema.get("type", "any"))
