"""Metadata for harvesters: DCAT-US 1.1 ``data.json`` and a Frictionless Data Package per release.

Both are built from the catalog alone and hold no per-request value (no "generated at", no
counter), so a harvester that hashes records sees a change only when a release changes.
Absolute URLs start from ``base``, which the web door takes from the portal's settings.
"""

from __future__ import annotations

import re
from typing import Any

from openblotter.domain.errors import Gone, NotFound
from openblotter.domain.formats import EXPORT_FORMATS, RELEASE_FILE_FORMAT, export_format
from openblotter.domain.releases import ROW_ID, Dataset, Release
from openblotter.services import disclosure
from openblotter.services.metadata import public_schema
from openblotter.services.portal import Portal

POD_SCHEMA = "https://project-open-data.cio.gov/v1.1/schema"
#: Releases come every quarter (ISO 8601 repeating duration, as DCAT-US asks).
QUARTERLY = "R/P3M"
#: Licence identifiers a department is likely to name, as the URIs DCAT-US wants.
LICENSE_URIS = {
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-sa-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "odc-by-1.0": "https://opendatacommons.org/licenses/by/1-0/",
    "odbl-1.0": "https://opendatacommons.org/licenses/odbl/1-0/",
    "pddl-1.0": "https://opendatacommons.org/licenses/pddl/1-0/",
    "public-domain": "https://creativecommons.org/publicdomain/mark/1.0/",
}


def media_type(fmt: str) -> str:
    """A download format's media type without parameters (``file``: the stored Parquet)."""
    return (RELEASE_FILE_FORMAT if fmt == "file" else export_format(fmt)).bare_media_type


ROW_ID_FIELD = {
    "name": ROW_ID,
    "type": "integer",
    "description": "The row's number within this release (what keyset pages and _next use).",
    "constraints": {"required": True, "unique": True},
}


def license_uri(license_name: str | None) -> str | None:
    """The licence as a URI: a URL as given, a known identifier (CC-BY-4.0 …) as its URL."""
    if not license_name:
        return None
    if re.match(r"^https?://", license_name):
        return license_name
    return LICENSE_URIS.get(license_name.strip().lower())


def _published(portal: Portal, dataset_id: str) -> list[Release]:
    return [r for r in portal.catalog.releases(dataset_id) if r.status == "published"]


def _temporal(releases: list[Release]) -> str | None:
    """The data's own period over every published release (ISO 8601 interval)."""
    starts = [r.period_start for r in releases if r.period_start]
    ends = [r.period_end for r in releases if r.period_end]
    if not starts or not ends:
        return None
    return f"{min(starts).isoformat()}/{max(ends).isoformat()}"


def _keywords(portal: Portal, dataset: Dataset) -> list[str]:
    words = ["police", "open data"]
    if dataset.family:
        words.append(dataset.family.replace("_", " "))
    if portal.settings.agency:
        words.append(portal.settings.agency)
    return list(dict.fromkeys(words))


def _distributions(base: str, dataset: Dataset, rows_public: bool) -> list[dict[str, Any]]:
    api = f"{base}/api/v1/datasets/{dataset.id}"
    if not rows_public:  # counts only: the counts API is the way in, no file of rows
        return [
            {
                "@type": "dcat:Distribution",
                "accessURL": f"{api}/aggregate",
                "format": "API",
                "title": f"{dataset.title}: counts (aggregates API)",
                "description": "Only counts are published for this dataset; small counts are hidden.",
            }
        ]
    return [
        {
            "@type": "dcat:Distribution",
            "downloadURL": f"{api}/rows.{fmt.name}",
            "mediaType": fmt.bare_media_type,
            "format": fmt.title,
            "title": f"{dataset.title} ({fmt.title}, current release)",
            "describedBy": api,
            "describedByType": "application/json",
        }
        for fmt in EXPORT_FORMATS
    ]


def dcat_dataset(portal: Portal, base: str, dataset: Dataset) -> dict[str, Any]:
    """One DCAT-US 1.1 dataset record (non-federal profile: no bureau or program code)."""
    settings = portal.settings
    releases = _published(portal, dataset.id)
    rows_public = not settings.aggregates_only(dataset.id)
    latest = max((r.published_at for r in releases if r.published_at), default=None)
    publisher = settings.agency or settings.portal_name
    record: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": f"{base}/datasets/{dataset.id}",
        "title": dataset.title,
        "description": dataset.description or dataset.title,
        "keyword": _keywords(portal, dataset),
        "modified": (latest or dataset.updated_at).date().isoformat(),
        "publisher": {"@type": "org:Organization", "name": publisher},
        "contactPoint": {"@type": "vcard:Contact", "fn": publisher},
        "accessLevel": "public" if rows_public else "restricted public",
        "accrualPeriodicity": QUARTERLY,
        "landingPage": f"{base}/datasets/{dataset.id}",
        "describedBy": f"{base}/api/v1/datasets/{dataset.id}",
        "describedByType": "application/json",
        "distribution": _distributions(base, dataset, rows_public),
    }
    if settings.contact_email:
        record["contactPoint"]["hasEmail"] = f"mailto:{settings.contact_email}"
    if not rows_public:
        record["rights"] = (
            "Rows are not published; counts only, with small counts hidden to protect privacy."
        )
    optional = {
        "temporal": _temporal(releases),
        "license": license_uri(settings.license),
        "spatial": settings.place_name,
        "issued": min((r.published_at for r in releases if r.published_at), default=None),
    }
    for name, value in optional.items():
        if value is not None:
            record[name] = value if isinstance(value, str) else value.date().isoformat()
    return record


def data_json(portal: Portal, base: str) -> dict[str, Any]:
    """The portal's ``/data.json``: every dataset with a published release."""
    current = portal.catalog.current_releases()
    return {
        "@context": f"{POD_SCHEMA}/catalog.jsonld",
        "@id": f"{base}/data.json",
        "@type": "dcat:Catalog",
        "conformsTo": POD_SCHEMA,
        "describedBy": f"{POD_SCHEMA}/catalog.json",
        "dataset": [
            dcat_dataset(portal, base, dataset)
            for dataset in portal.catalog.datasets()
            if dataset.id in current
        ],
    }


def _package_name(*parts: str) -> str:
    """A Data Package name: lowercase letters, digits and - _ . only."""
    return re.sub(r"[^a-z0-9._-]+", "-", "-".join(parts).lower()).strip("-")


def datapackage(portal: Portal, base: str, dataset_id: str, label: str) -> dict[str, Any]:
    """A Frictionless (tabular) Data Package describing one published release.

    Two resources hold the same rows: the stored Parquet file (with its bytes and sha256)
    and the CSV export of that release; both carry the release's published Table Schema.
    """
    dataset = portal.dataset(dataset_id)
    disclosure.refuse_rows(portal, dataset_id)
    release = portal.release(dataset_id, label)
    if release.status == "purged":
        raise Gone(
            f"Release {label} of {dataset_id} was purged: its rows and files are gone for good.",
            detail={"dataset": dataset_id, "release": label, "reason": release.withdrawn_reason},
        )
    if release.status != "published":
        raise NotFound(
            f"Release {label} of {dataset_id} is {release.status}: no data package is published "
            "for it.",
            detail={"dataset": dataset_id, "release": label, "status": release.status},
        )
    schema = _package_schema(public_schema(portal, dataset, release.schema).to_descriptor())
    # The stored file leads with the row number the keyset pages use; the CSV leaves it out.
    stored = {**schema, "fields": [ROW_ID_FIELD, *schema["fields"]]}
    api = f"{base}/api/v1/datasets/{dataset_id}"
    name = _package_name(dataset_id, label)
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": name,
        "title": f"{dataset.title}, release {label}",
        "description": dataset.description,
        "version": label,
        "homepage": f"{base}/datasets/{dataset_id}",
        "resources": [
            {
                "name": f"{name}-parquet",
                "path": f"{api}/releases/{label}/file.parquet",
                "profile": "tabular-data-resource",
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "bytes": release.file_size,
                "hash": f"sha256:{release.checksum}",
                "schema": stored,
            },
            {
                "name": f"{name}-csv",
                "path": f"{api}/rows.csv?_release={label}",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": schema,
            },
        ],
        # Not in the Data Package standard (extra properties are allowed): what OpenBlotter
        # knows of the release beyond it, for readers who want the row count and the period.
        "openblotter": {
            "rows": release.row_count,
            "period_start": _iso(release.period_start),
            "period_end": _iso(release.period_end),
        },
    }
    if release.published_at:
        package["created"] = release.published_at.isoformat()
    uri = license_uri(portal.settings.license)
    if uri:
        package["licenses"] = [{"name": portal.settings.license, "path": uri}]
    return package


def _package_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The Table Schema as a validator may hold the files to it.

    A family's codes are what the agency's values were mapped to, but a value the mapping
    did not know is kept as the agency wrote it (and reported at publish): the codes are
    listed as ``familyCodes``, not as an ``enum`` constraint the file would break.
    """
    fields = []
    for field in schema["fields"]:
        constraints = dict(field.get("constraints") or {})
        codes = constraints.pop("enum", None)
        field = {k: v for k, v in field.items() if k != "constraints"}
        if constraints:
            field["constraints"] = constraints
        if codes:
            field["familyCodes"] = codes
        fields.append(field)
    return {**schema, "fields": fields}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
