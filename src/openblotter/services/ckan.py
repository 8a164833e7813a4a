"""The catalog as CKAN's Action API shows it: packages, resources, the organization.

Each dataset is a CKAN *package* named by its dataset id; each published
release is a *resource* (format CSV, its download URL, ``datastore_active``),
plus one "current" resource per dataset that always reads the current release.
Ids are UUIDs derived from the dataset id and the release label, so they never
change. A dataset published only as counts has one resource pointing at its
counts API, ``datastore_active: false``: no door hands out its rows.
Datastore queries are in :mod:`openblotter.services.ckan_datastore`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openblotter import __version__
from openblotter.domain.errors import NotFound
from openblotter.domain.releases import Dataset, Release
from openblotter.services import disclosure
from openblotter.services.harvest import license_uri
from openblotter.services.portal import Portal

#: The namespace of every id this door makes (uuid5 of a fixed URL: the same ids everywhere).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://openblotter.org/ckan")
#: The CKAN version whose conventions the door follows (status_show reports it).
CKAN_VERSION = "2.10.0"
CURRENT = "current"


def package_id(dataset_id: str) -> str:
    """The stable CKAN id of a dataset's package."""
    return str(uuid.uuid5(NAMESPACE, f"package/{dataset_id}"))


def resource_id(dataset_id: str, label: str) -> str:
    """The stable CKAN id of a release's resource (``label`` ``current``: the current one)."""
    return str(uuid.uuid5(NAMESPACE, f"resource/{dataset_id}/{label}"))


def organization_name(portal: Portal) -> str:
    """The agency's CKAN name: lowercase letters, digits and dashes."""
    title = portal.settings.agency or portal.settings.portal_name
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split()) or "agency"


@dataclass(frozen=True)
class ResourceRef:
    """What a resource id names: a dataset, and a release label or ``current``."""

    dataset_id: str
    label: str

    @property
    def release(self) -> str | None:
        """The release label to read (None: the current release)."""
        return None if self.label == CURRENT else self.label


def find_resource(portal: Portal, given: str) -> ResourceRef:
    """The dataset and release a resource id (or a dataset id, read as its current resource)
    names; NotFound when none does."""
    datasets = portal.catalog.datasets()
    if any(d.id == given for d in datasets):  # a dataset id: CKAN's alias of a resource
        return ResourceRef(given, CURRENT)
    for dataset in datasets:
        if given == resource_id(dataset.id, CURRENT):
            return ResourceRef(dataset.id, CURRENT)
        for release in portal.catalog.releases(dataset.id):
            if release.status == "published" and given == resource_id(dataset.id, release.label):
                return ResourceRef(dataset.id, release.label)
    raise NotFound(f"Resource '{given}' was not found.", detail={"parameter": "resource_id"})


def find_package(portal: Portal, given: str) -> Dataset:
    """The dataset a package name or id names; NotFound when none does."""
    for dataset in portal.catalog.datasets():
        if given in (dataset.id, package_id(dataset.id)):
            return dataset
    raise NotFound(f"Dataset '{given}' was not found.", detail={"parameter": "id"})


def status(portal: Portal, base: str) -> dict[str, Any]:
    """``status_show``: the site and the CKAN conventions it follows."""
    settings = portal.settings
    return {
        "site_title": settings.portal_name,
        "site_description": f"Open data of {settings.agency or settings.portal_name}",
        "site_url": base,
        "ckan_version": CKAN_VERSION,
        "openblotter_version": __version__,
        "error_emails_to": None,
        "locale_default": "en",
        "extensions": ["datastore"]
        + (["datastore_search_sql"] if settings.ckan_sql_enabled else []),
    }


def organization(portal: Portal, *, with_count: bool = True) -> dict[str, Any]:
    """The agency as a CKAN organization (every dataset belongs to it)."""
    settings = portal.settings
    name = organization_name(portal)
    title = settings.agency or settings.portal_name
    body: dict[str, Any] = {
        "id": str(uuid.uuid5(NAMESPACE, f"organization/{name}")),
        "name": name,
        "title": title,
        "display_name": title,
        "description": f"Open data published by {title}.",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
    }
    if with_count:
        body["package_count"] = len(public_datasets(portal))
    return body


def public_datasets(portal: Portal) -> list[tuple[Dataset, Release]]:
    """Datasets with a current release, in id order (CKAN lists packages by name)."""
    current = portal.catalog.current_releases()
    return sorted(
        ((d, current[d.id]) for d in portal.catalog.datasets() if d.id in current),
        key=lambda pair: pair[0].id,
    )


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=None).isoformat() if value else None


def _resource(
    base: str, dataset: Dataset, release: Release, label: str, position: int, rows_public: bool
) -> dict[str, Any]:
    api = f"{base}/api/v1/datasets/{dataset.id}"
    current = label == CURRENT
    name = f"Current release ({release.label})" if current else f"Release {release.label}"
    body: dict[str, Any] = {
        "id": resource_id(dataset.id, label),
        "package_id": package_id(dataset.id),
        "name": name,
        "description": (
            "Always the current release: its rows change when a new quarter is published."
            if current
            else f"The release of {release.label}, as published; it never changes."
        ),
        "position": position,
        "state": "active",
        "created": _iso(release.published_at or release.created_at),
        "last_modified": _iso(release.published_at),
        "metadata_modified": _iso(release.published_at),
        "url_type": None,
        "hash": "" if current else f"sha256:{release.checksum}",
        "openblotter_release": release.label,
    }
    if not rows_public:  # counts only: the counts API, and no datastore of rows
        body.update(
            format="API", mimetype="application/json", url=f"{api}/aggregate",
            datastore_active=False,
        )  # fmt: skip
        return body
    query = "" if current else f"?_release={release.label}"
    body.update(
        format="CSV", mimetype="text/csv", url=f"{api}/rows.csv{query}", datastore_active=True
    )
    return body


def resources(
    portal: Portal, base: str, dataset: Dataset, current: Release
) -> list[dict[str, Any]]:
    """The current resource, then one resource per published release (newest first)."""
    rows_public = not disclosure.aggregates_only(portal, dataset.id)
    listed = [_resource(base, dataset, current, CURRENT, 0, rows_public)]
    if not rows_public:
        return listed
    published = [r for r in portal.catalog.releases(dataset.id) if r.status == "published"]
    for position, release in enumerate(reversed(published), start=1):
        listed.append(_resource(base, dataset, release, release.label, position, rows_public))
    return listed


def package(portal: Portal, base: str, dataset: Dataset, current: Release) -> dict[str, Any]:
    """One dataset as a CKAN package dict."""
    settings = portal.settings
    listed = resources(portal, base, dataset, current)
    tags = ["police"] + ([dataset.family.replace("_", " ")] if dataset.family else [])
    org = organization(portal, with_count=False)
    return {
        "id": package_id(dataset.id),
        "name": dataset.id,
        "title": dataset.title,
        "notes": dataset.description,
        "type": "dataset",
        "state": "active",
        "private": False,
        "version": current.label,
        "url": f"{base}/datasets/{dataset.id}",
        "author": org["title"],
        "author_email": settings.contact_email,
        "maintainer": org["title"],
        "maintainer_email": settings.contact_email,
        "license_id": settings.license or "notspecified",
        "license_title": settings.license or "License not specified",
        "license_url": license_uri(settings.license),
        "metadata_created": _iso(dataset.created_at),
        "metadata_modified": _iso(current.published_at or dataset.updated_at),
        "owner_org": org["id"],
        "organization": org,
        "tags": [{"name": t, "display_name": t, "state": "active"} for t in tags],
        "num_tags": len(tags),
        "groups": [],
        "extras": [{"key": "accrual_periodicity", "value": "R/P3M"}]
        + ([{"key": "synthetic", "value": "true"}] if dataset.synthetic else []),
        "resources": listed,
        "num_resources": len(listed),
        "isopen": license_uri(settings.license) is not None,
    }


def package_show(portal: Portal, base: str, given: str) -> dict[str, Any]:
    """``package_show``: a package by name (dataset id) or id."""
    dataset = find_package(portal, given)
    found = portal.catalog.dataset_and_current(dataset.id)
    if found is None or found[1] is None:
        raise NotFound(f"Dataset '{given}' has no published release.", detail={"parameter": "id"})
    return package(portal, base, found[0], found[1])


def resource_show(portal: Portal, base: str, given: str) -> dict[str, Any]:
    """``resource_show``: a resource by id (a dataset id names its current resource)."""
    ref = find_resource(portal, given)
    for item in package_show(portal, base, ref.dataset_id)["resources"]:
        if item["id"] == resource_id(ref.dataset_id, ref.label):
            return dict(item)
    raise NotFound(f"Resource '{given}' was not found.", detail={"parameter": "id"})
