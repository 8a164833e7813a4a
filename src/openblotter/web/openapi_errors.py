"""Error answers in the OpenAPI document, as each door gives them.

FastAPI documents a "422 Validation Error" in its own ``{"detail": [...]}`` shape on
every route with a parameter. The portal never answers 422: a parameter it cannot read
is a 400 in the portal's error shape (web/errors.py), and the SODA and CKAN doors answer
in Socrata's and CKAN's shapes (web/soda.py, web/ckan.py). A client generated from the
document would expect the wrong status and the wrong body, so the document says instead:

- on the portal's routes, ``400`` and ``default`` with the portal's error object;
- on the SODA door (``/resource/``, ``/api/views/``, ``/api/catalog/``), ``default``
  with Socrata's;
- on the CKAN door (``/api/3/action/``), ``default`` with CKAN's (or, for an action
  it does not know, a JSON string, as CKAN does);
- everywhere, ``414`` and ``429`` with the portal's error object: the limits in front
  of every route answer so (web/limits.py).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorObject(BaseModel):
    """What went wrong: a code to branch on, a message to show, and what it concerns."""

    code: str = Field(
        description="What kind of error, to branch on: invalid_input, not_found, gone, "
        "too_large, conflict, forbidden, rate_limited, unavailable, timeout, http_error.",
        examples=["invalid_input"],
    )
    message: str = Field(description="What went wrong and what to do, for a person.")
    detail: dict[str, Any] = Field(
        description="What the error concerns: the parameter, the allowed values or range, "
        "the problems found, retry_after (seconds)."
    )


class Error(BaseModel):
    """The portal's answer to a request it refuses or cannot complete."""

    error: ErrorObject


class SodaError(BaseModel):
    """Socrata's error shape (the SODA door)."""

    code: str = Field(description="Socrata's code, e.g. query.soql.no-such-column, not_found.")
    error: Literal[True]
    message: str
    data: dict[str, Any]


class CkanErrorObject(BaseModel):
    """CKAN's error object: its kind, then a message or, for a Validation Error, each
    parameter with its messages."""

    model_config = {"extra": "allow"}

    type_: str = Field(
        alias="__type",
        description="CKAN's kind of error: Validation Error, Not Found Error, "
        "Authorization Error, Search Query Error, Service Unavailable.",
    )


class CkanError(BaseModel):
    """CKAN's error shape (the CKAN door): the action's help, success false, the error;
    a Validation Error names each parameter with its messages."""

    help: str
    success: Literal[False]
    error: CkanErrorObject


#: The statuses of the portal's errors. Descriptions end without a period: the reference
#: page (/api/reference) joins a route's answers into one sentence.
STATUSES = (
    "400 invalid input, 403 not public, 404 not found, 410 withdrawn, 413 too large for "
    "the format, 429 over the rate limit, 503 busy or out of memory (Retry-After), 504 over "
    "the time limit"
)
SODA_STATUSES = (
    "400 a query it cannot read, 403 not public, 404 no such dataset or column (a withdrawn "
    "release too), 503 busy or out of memory (Retry-After), 504 over the time limit"
)
LIMITS = {
    "414": "The path and query string are longer than the portal accepts",
    "429": "Over this client's rate limit: wait the seconds of Retry-After",
}


def _json(schema: str, description: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _door(path: str) -> str:
    if path.startswith(("/resource/", "/api/views/", "/api/catalog/")):
        return "soda"
    if path.startswith("/api/3/action/"):
        return "ckan"
    return "portal"


def _reads_parameters(operation: dict[str, Any]) -> bool:
    """Whether a request can carry a parameter the route cannot read: a query parameter, or
    a path parameter that is more than any text (FastAPI's 422 was on every route with one)."""
    return any(
        parameter["in"] == "query" or parameter.get("schema", {}).get("type") != "string"
        for parameter in operation.get("parameters", [])
    )


def _document(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    door = _door(path)
    if door == "soda":
        responses["default"] = _json("SodaError", f"An error in Socrata's shape: {SODA_STATUSES}")
    elif door == "ckan":
        answer = _json("CkanError", "An error in CKAN's shape (409 for a Validation Error)")
        answer["content"]["application/json"]["schema"] = {
            "oneOf": [
                answer["content"]["application/json"]["schema"],
                {"type": "string", "description": "An action the door does not know (400)"},
            ]
        }
        responses["default"] = answer
    else:
        if _reads_parameters(operation):
            responses["400"] = _json("Error", "A parameter the portal cannot read")
        described = f"An error in the portal's error object: {STATUSES}"
        responses["default"] = _json("Error", described)
    for status, description in LIMITS.items():
        responses.setdefault(status, _json("Error", description))
    ordered = sorted(responses.items(), key=lambda item: (item[0] == "default", item[0]))
    responses.clear()
    responses.update(ordered)  # statuses in order, then default (the reference page's order)


def document_errors(schema: dict[str, Any]) -> None:
    """Document the errors each route really answers with (web/app.py edits it once)."""
    for path, item in schema["paths"].items():
        for operation in item.values():
            _document(path, operation)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for model in (Error, SodaError, CkanError):
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(definition.pop("$defs", {}))
        schemas[model.__name__] = definition
