"""Socrata metadata: ``/api/views/{id}.json`` (one dataset as Socrata describes a view) and
``/api/catalog/v1`` (the Discovery API's list), from the catalog and release schemas.

Times in a view are Unix seconds, as Socrata gives them; the catalog's are ISO
8601. A counts-only dataset is listed (its description is public) and says that
its rows are not served.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.soql_groups import soda_type
from openblotter.domain.releases import Dataset, Release
from openblotter.domain.schema import TableSchema
from openblotter.services import disclosure, reading
from openblotter.services.portal import Portal
from openblotter.services.soda import Resource, release_ids, resolve, target
from openblotter.services.soda_ids import dataset_soda_id

CATEGORY = "Public Safety"
#: Results per catalog page unless ``limit`` asks otherwise (the Discovery API's default).
CATALOG_LIMIT = 100
MAX_CATALOG_LIMIT = 10_000


def _seconds(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _columns(schema: TableSchema) -> list[dict[str, Any]]:
    return [
        {
            "id": position,
            "name": f.title or f.name,
            "fieldName": f.name,
            "dataTypeName": soda_type(f.type),
            "renderTypeName": soda_type(f.type),
            "description": f.description,
            "position": position,
        }
        for position, f in enumerate(schema.published_fields(), start=1)
    ]


def view(portal: Portal, soda_id: str, base: str) -> dict[str, Any]:
    """A dataset (or one release of it) as Socrata's ``/api/views/{id}.json`` describes it."""
    resource = resolve(portal, soda_id)
    t = target(portal, resource)
    dataset, release = t.dataset, t.release
    rows_public = not disclosure.aggregates_only(portal, dataset.id)
    name = dataset.title if resource.label is None else f"{dataset.title} ({resource.label})"
    return {
        "id": resource.soda_id,
        "name": name,
        "description": dataset.description,
        "category": CATEGORY,
        "tags": _tags(dataset),
        "attribution": portal.settings.agency or portal.settings.portal_name,
        "assetType": "dataset",
        "displayType": "table",
        "viewType": "tabular",
        "createdAt": _seconds(dataset.created_at),
        "publicationDate": _seconds(release.published_at),
        "rowsUpdatedAt": _seconds(release.published_at or release.created_at),
        "viewLastModified": _seconds(dataset.updated_at),
        "columns": _columns(t.schema),
        "metadata": _metadata(t.schema),
        "license": {"name": portal.settings.license} if portal.settings.license else {},
        "openblotter": _links(portal, resource, release, base, rows_public=rows_public),
    }


def _metadata(schema: TableSchema) -> dict[str, Any]:
    published = {f.name for f in schema.published_fields()}
    key = [k for k in schema.primary_key if k in published]
    return {"rowIdentifier": key[0]} if len(key) == 1 else {}


def _tags(dataset: Dataset) -> list[str]:
    return ["police"] + ([dataset.family.replace("_", " ")] if dataset.family else [])


def _links(
    portal: Portal, resource: Resource, release: Release, base: str, *, rows_public: bool
) -> dict[str, Any]:
    dataset_id = resource.dataset.id
    links: dict[str, Any] = {
        "dataset": dataset_id,
        "release": release.label,
        "pinned": resource.label is not None,
        "current_id": dataset_soda_id(dataset_id),
        "release_ids": release_ids(portal, dataset_id),
        "page": f"{base}/datasets/{dataset_id}",
        "access": "rows" if rows_public else "aggregates",
    }
    if rows_public:
        links["resource"] = f"{base}/resource/{resource.soda_id}.json"
    else:
        links["note"] = (
            "Published only as counts: rows are not served through SODA; a grouped count(*) "
            "is answered from the protected tables (small counts hidden), as "
            f"{base}/api/v1/datasets/{dataset_id}/aggregate answers it."
        )
    return links


def catalog(portal: Portal, base: str, params: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The Discovery API's answer: ``results`` (one per dataset) and ``resultSetSize``."""
    one = dict(params)
    limit = _number(one.get("limit"), CATALOG_LIMIT, "limit")
    offset = _number(one.get("offset"), 0, "offset")
    ids = {v for k, v in params if k == "ids"}
    words = (one.get("q") or "").lower().split()
    current = portal.catalog.current_releases()
    listed = []
    for dataset in portal.catalog.datasets():
        release = current.get(dataset.id)
        soda_id = dataset_soda_id(dataset.id)
        if release is None or (ids and soda_id not in ids):
            continue
        text = f"{dataset.title} {dataset.description}".lower()
        if all(word in text for word in words):
            listed.append(_result(portal, dataset, release, base))
    return {
        "results": listed[offset : offset + limit],
        "resultSetSize": len(listed),
        "timings": {"serviceMillis": 0, "searchMillis": [0, 0]},
    }


def _result(portal: Portal, dataset: Dataset, release: Release, base: str) -> dict[str, Any]:
    schema = reading.release_schema(release, portal.release_path(release))
    fields = schema.published_fields()
    soda_id = dataset_soda_id(dataset.id)
    return {
        "resource": {
            "name": dataset.title,
            "id": soda_id,
            "description": dataset.description,
            "attribution": portal.settings.agency or portal.settings.portal_name,
            "type": "dataset",
            "updatedAt": (release.published_at or release.created_at).isoformat(),
            "createdAt": dataset.created_at.isoformat(),
            "columns_name": [f.title or f.name for f in fields],
            "columns_field_name": [f.name for f in fields],
            "columns_datatype": [soda_type(f.type) for f in fields],
            "columns_description": [f.description for f in fields],
        },
        "classification": {
            "categories": [CATEGORY],
            "tags": _tags(dataset),
            "domain_category": CATEGORY,
        },
        "metadata": {"domain": urlsplit(base).netloc},
        "permalink": f"{base}/d/{soda_id}",
        "link": f"{base}/datasets/{dataset.id}",
    }


def _number(text: str | None, default: int, name: str) -> int:
    if text is None:
        return default
    if not text.strip().isdigit() or int(text) > MAX_CATALOG_LIMIT * 100:
        raise InvalidInput(
            f"'{name}' is a whole number.", detail={"parameter": name, "allowed": "0, 1, 2 ..."}
        )
    return min(int(text), MAX_CATALOG_LIMIT) if name == "limit" else int(text)
