"""Doors for harvesters and feed readers: DCAT-US ``/data.json``, a Data Package per release,
and Atom feeds of releases (the portal's and each dataset's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from feedgen.feed import FeedGenerator

from openblotter.services import feeds, harvest
from openblotter.services.feeds import ReleaseEvent
from openblotter.services.portal import Portal
from openblotter.web.api_answers import files
from openblotter.web.deps import PortalDep
from openblotter.web.security import public_url

router = APIRouter()
ATOM = "application/atom+xml; charset=utf-8"


def base_url(request: Request) -> str:
    """The portal's address as links should carry it (no trailing slash): the setting
    ``public_base_url``, never the request's Host header; unset, links stay relative."""
    return public_url(request, "")


@router.get("/data.json", tags=["metadata"])
def data_json(request: Request, portal: PortalDep) -> dict[str, Any]:
    """DCAT-US 1.1 catalog (non-federal profile) of every published dataset, for data.gov and
    other harvesters; records change only when a release changes."""
    return harvest.data_json(portal, base_url(request))


@router.get("/api/v1/datasets/{dataset_id}/releases/{label}/datapackage.json", tags=["releases"])
def get_datapackage(
    dataset_id: str, label: str, request: Request, portal: PortalDep
) -> dict[str, Any]:
    """A Frictionless Data Package of one published release: its Parquet file (bytes, sha256)
    and its CSV, each with the release's Table Schema."""
    return harvest.datapackage(portal, base_url(request), dataset_id, label)


@router.get(
    "/feed.atom",
    tags=["metadata"],
    response_class=Response,
    responses=files("Atom feed of the portal's releases", ATOM),
)
def portal_feed(request: Request, portal: PortalDep) -> Response:
    """Atom feed of every dataset's releases: publications, withdrawals and purges."""
    base = base_url(request)
    title = f"{portal.settings.portal_name}: new and withdrawn releases"
    body = _atom(portal, base, f"{base}/feed.atom", title, feeds.release_events(portal))
    return Response(body, media_type=ATOM)


@router.get(
    "/datasets/{dataset_id}/feed.atom",
    tags=["metadata"],
    response_class=Response,
    responses=files("Atom feed of the dataset's releases", ATOM),
)
def dataset_feed(dataset_id: str, request: Request, portal: PortalDep) -> Response:
    """Atom feed of one dataset's releases: publications, withdrawals and purges."""
    base = base_url(request)
    dataset = portal.dataset(dataset_id)
    events = feeds.release_events(portal, dataset_id)
    title = f"{dataset.title}: new and withdrawn releases"
    body = _atom(portal, base, f"{base}/datasets/{dataset_id}/feed.atom", title, events)
    return Response(body, media_type=ATOM)


def _atom(
    portal: Portal, base: str, self_url: str, title: str, events: list[ReleaseEvent]
) -> bytes:
    host = urlsplit(base).hostname or portal.settings.portal_name.lower().replace(" ", "-")
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(title)
    feed.author({"name": portal.settings.agency or portal.settings.portal_name})
    feed.link(href=self_url, rel="self")
    feed.link(href=f"{base}/", rel="alternate")
    # The newest event, not the time of the request: an unchanged feed stays byte-identical.
    feed.updated(events[0].at if events else datetime(2016, 1, 1, tzinfo=UTC))
    for event in reversed(events):  # feedgen puts the last added entry first
        entry = feed.add_entry()
        entry.id(f"tag:{host},2016:{event.key}")
        entry.title(event.title)
        entry.updated(event.at)
        entry.published(event.at)
        entry.link(href=f"{base}/datasets/{event.dataset_id}#release-{event.label}")
        entry.summary(_summary(event))
    body: bytes = feed.atom_str(pretty=True)
    return body


def _summary(event: ReleaseEvent) -> str:
    reason = f" Reason: {event.reason}" if event.reason else ""
    if event.kind == "withdrawn":
        return f"Release {event.label} of {event.dataset_title} was withdrawn.{reason}"
    if event.kind == "purged":
        return (
            f"Release {event.label} of {event.dataset_title} was purged: its rows and files "
            f"were removed for good.{reason}"
        )
    return f"Release {event.label} of {event.dataset_title}: {event.rows:,} rows."
