"""OpenAPI links: how one answer of the API leads to the next request.

The catalog names dataset ids, a dataset names its releases, a page of rows
names the token of the next page. The links say so in the OpenAPI document
(``responses.200.links``), for client generators, and for the stateful
property-based test that walks the API the way a client does.
"""

from __future__ import annotations

from typing import Any

_DATASETS = "/api/v1/datasets"
_DATASET = "/api/v1/datasets/{dataset_id}"
_ROWS = "/api/v1/datasets/{dataset_id}/rows"
_FIRST_ID = "$response.body#/datasets/0/id"
_SAME_ID = "$request.path.dataset_id"
_FIRST_LABEL = "$response.body#/releases/0/label"

#: (from path, link name, to path, parameters of the request it leads to)
LINKS: list[tuple[str, str, str, dict[str, str]]] = [
    (_DATASETS, "dataset", _DATASET, {"path.dataset_id": _FIRST_ID}),
    (_DATASETS, "rows", _ROWS, {"path.dataset_id": _FIRST_ID}),
    (_DATASETS, "facets", f"{_DATASET}/facets", {"path.dataset_id": _FIRST_ID}),
    (_DATASETS, "aggregate", f"{_DATASET}/aggregate", {"path.dataset_id": _FIRST_ID}),
    (_DATASETS, "benchmark", "/api/v1/analysis/benchmark", {"query.dataset": _FIRST_ID}),
    (_DATASETS, "outcomes", "/api/v1/analysis/outcomes", {"query.dataset": _FIRST_ID}),
    (_DATASETS, "funnel", "/api/v1/analysis/funnel", {"query.dataset": _FIRST_ID}),
    (
        _DATASET,
        "release",
        f"{_DATASET}/releases/{{label}}",
        {"path.dataset_id": _SAME_ID, "path.label": _FIRST_LABEL},
    ),
    (
        _DATASET,
        "rows_of_release",
        _ROWS,
        {"path.dataset_id": _SAME_ID, "query._release": _FIRST_LABEL},
    ),
    (
        _DATASET,
        "diff",
        f"{_DATASET}/releases/{{old}}/diff/{{new}}",
        {"path.dataset_id": _SAME_ID, "path.old": _FIRST_LABEL, "path.new": _FIRST_LABEL},
    ),
    (
        _ROWS,
        "next_page",
        _ROWS,
        {"path.dataset_id": _SAME_ID, "query._next": "$response.body#/next"},
    ),
]


def _operation_ids(schema: dict[str, Any]) -> dict[str, str]:
    return {
        path: item["get"]["operationId"] for path, item in schema["paths"].items() if "get" in item
    }


def add_links(schema: dict[str, Any]) -> None:
    """Add :data:`LINKS` to the generated document (web/app.py edits it once)."""
    ids = _operation_ids(schema)
    for source, name, target, parameters in LINKS:
        if source not in ids or target not in ids:
            continue
        response = schema["paths"][source]["get"]["responses"]["200"]
        response.setdefault("links", {})[name] = {
            "operationId": ids[target],
            "parameters": parameters,
        }
