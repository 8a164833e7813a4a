"""Native JSON API under /api/v1 (catalog, metadata, release files, health)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from openblotter.services import metadata
from openblotter.services.releases import find_release_or_404, release_summary
from openblotter.web.deps import PortalDep

router = APIRouter()


@router.get("/healthz", tags=["operations"])
def healthz(portal: PortalDep) -> dict[str, Any]:
    """Ready when the catalog answers."""
    datasets = portal.catalog.datasets()
    return {"status": "ok", "datasets": len(datasets)}


@router.get("/api/v1/datasets", tags=["catalog"])
def list_datasets(portal: PortalDep) -> dict[str, Any]:
    """The catalog: every dataset with its current release."""
    return {"datasets": metadata.catalog(portal)}


@router.get("/api/v1/datasets/{dataset_id}", tags=["catalog"])
def get_dataset(dataset_id: str, portal: PortalDep) -> dict[str, Any]:
    """One dataset: metadata, data dictionary (with privacy treatment), releases."""
    return metadata.dataset_detail(portal, dataset_id)


@router.get("/api/v1/datasets/{dataset_id}/releases/{label}", tags=["releases"])
def get_release(dataset_id: str, label: str, portal: PortalDep) -> dict[str, Any]:
    """A release's manifest, with its full validation report."""
    portal.dataset(dataset_id)
    release = find_release_or_404(portal, dataset_id, label)
    return {**release_summary(release), "report": release.report, "schema": release.schema}


@router.get("/api/v1/datasets/{dataset_id}/releases/{label}/file.parquet", tags=["releases"])
def download_release_file(dataset_id: str, label: str, portal: PortalDep) -> FileResponse:
    """The release's stored Parquet file, byte for byte (its sha256 is in the manifest)."""
    release = portal.release(dataset_id, label)
    dataset = portal.dataset(dataset_id)
    prefix = "synthetic-demo-" if dataset.synthetic else ""
    return FileResponse(
        portal.release_path(release),
        media_type="application/vnd.apache.parquet",
        filename=f"{prefix}{dataset_id}-{label}.parquet",
        headers={
            "ETag": f'"{release.checksum}"',
            "Cache-Control": "public, max-age=31536000, immutable",
            "Digest": f"sha-256={release.checksum}",
        },
    )
