"""Error answers in the OpenAPI document, as each door gives them.

FastAPI documents a "422 Validation Error" in its own ``{"detail": [...]}`` shape on
every route with a parameter. The portal never answers 422: a parameter it cannot read
is a 400 in the portal's error shape (web/errors.py), and the SODA and CKAN doors answer
in Socrata's and CKAN's shapes (web/soda.py, web/ckan.py). A client generated from the
document would expect the wrong status and the wrong body, so:

- the app declares :data:`PORTAL_ERRORS` for every route: ``default`` with the portal's
  error object, and ``414`` and ``429``, which the limits in front of every route answer
  (web/limits.py);
- the SODA router declares :data:`SODA_ERRORS` and CKAN's actions :data:`CKAN_ERRORS`,
  which replace ``default`` on their routes;
- :func:`document_errors` turns FastAPI's 422 into a 400 in the route's own error shape,
  where the route reads a parameter it can refuse.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, RootModel


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


class CkanAnswer(RootModel[CkanError | str]):
    """CKAN's error, or for an action the door does not know (400) a JSON string, as CKAN."""


STATUSES = (
    "400 invalid input, 403 not public, 404 not found, 410 withdrawn, 413 too large for "
    "the format, 429 over the rate limit, 503 busy or out of memory (Retry-After), 504 over "
    "the time limit"
)
SODA_STATUSES = (
    "400 a query it cannot read, 403 not public, 404 no such dataset or column (a withdrawn "
    "release too), 503 busy or out of memory (Retry-After), 504 over the time limit"
)

#: Every route's errors (the app's ``responses``); a door's own ``default`` replaces it.
PORTAL_ERRORS: dict[int | str, dict[str, Any]] = {
    414: {"model": Error, "description": "The path and query string are longer than the portal accepts"},
    429: {"model": Error, "description": "Over this client's rate limit: wait the seconds of Retry-After"},
    "default": {"model": Error, "description": f"An error in the portal's error object: {STATUSES}"},
}  # fmt: skip
SODA_ERRORS: dict[int | str, dict[str, Any]] = {
    "default": {"model": SodaError, "description": f"An error in Socrata's shape: {SODA_STATUSES}"}
}
CKAN_ERRORS: dict[int | str, dict[str, Any]] = {
    "default": {
        "model": CkanAnswer,
        "description": "An error in CKAN's shape (409 for a Validation Error)",
    }
}


def _reads_parameters(operation: dict[str, Any]) -> bool:
    """Whether a request can carry a parameter the route cannot read: a query parameter, or
    a path parameter that is more than any text (FastAPI's 422 was on every route with one)."""
    return any(
        parameter["in"] == "query" or parameter.get("schema", {}).get("type") != "string"
        for parameter in operation.get("parameters", [])
    )


def document_errors(schema: dict[str, Any]) -> None:
    """Replace FastAPI's 422 by a 400 in the route's own error shape (web/app.py edits the
    generated document once), statuses in order and ``default`` last."""
    for item in schema["paths"].values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if _reads_parameters(operation):
                responses["400"] = {
                    "description": "A parameter the route cannot read",
                    "content": responses["default"]["content"],
                }
            ordered = sorted(responses.items(), key=lambda item: (item[0] == "default", item[0]))
            responses.clear()
            responses.update(ordered)
    schemas = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
