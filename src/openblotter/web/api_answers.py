"""What the query API and the downloads answer, as the OpenAPI document shows them.

The hot routes (rows, facets, aggregate) render their JSON with orjson and skip
FastAPI's response validation (web/api.py, ``FastJSON``), so FastAPI cannot see
their shape and documented each as a bare string. These models describe the
bodies for the document only: no request is validated against them (the fuzz test,
tests/functional/test_api_fuzz.py, checks that the answers match). The downloads
document their media types instead of FastAPI's ``application/json``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from openblotter.domain.formats import EXPORT_FORMATS
from openblotter.services.analyses.base import Suppression

_SYNTHETIC = "Present when the dataset is the demo's synthetic data: not real records."


class RowsPage(BaseModel):
    """A page of rows of the current release (or `_release`)."""

    rows: list[dict[str, Any]] = Field(description="The rows, each column by name.")
    next: str | None = Field(
        description="Token of the next page (`_next=`), also in the Link header; null on the "
        "last page. It names the release, so a walk never mixes two."
    )
    total: int | None = Field(description="Rows matching the filters, with `_count=true`.")
    release: str = Field(description="The release the rows come from.")
    notice: str | None = Field(default=None, description=_SYNTHETIC)


class FacetValue(BaseModel):
    """One value of a facet column and its rows."""

    value: Any = Field(description="A value of the column (null for blanks).")
    count: int | None = Field(description="Rows with it; null when hidden (counts only).")
    suppressed: str | None = Field(
        default=None, description="Why a count is hidden (a dataset published only as counts)."
    )


class FacetInfo(BaseModel):
    """What a facet's list leaves out; a column the agency's file lacks also says
    `recorded: false` with a note."""

    model_config = {"extra": "allow"}

    distinct: int | None = Field(description="Distinct values of the column under the filters.")
    truncated_values: int = Field(description="Values left out of the list.")
    truncated: bool


class Facets(BaseModel):
    """Value counts per `_facet` column under the same filters, most frequent first."""

    facets: dict[str, list[FacetValue]]
    facet_info: dict[str, FacetInfo] | None = None
    total: int | None = Field(description="Rows matching the filters.")
    release: str
    suppression: Suppression | None = Field(
        default=None, description="What a dataset published only as counts hides, and how."
    )
    notice: str | None = Field(default=None, description=_SYNTHETIC)


class Aggregate(BaseModel):
    """Groups with their aggregates (`count`, `sum_col`, `avg_col`, ... by the `_agg` asked)."""

    groups: list[dict[str, Any]]
    total_groups: int = Field(description="Groups under the filters, all of them.")
    truncated: bool = Field(description="More groups exist than were returned (`_size`).")
    release: str
    suppression: Suppression | None = Field(
        default=None, description="What a dataset published only as counts hides, and how."
    )
    notice: str | None = Field(default=None, description=_SYNTHETIC)


def answers(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """A JSON route's 200 as ``model`` (its schema in the document's components)."""
    return {200: {"model": model, "description": (model.__doc__ or "").strip()}}


def files(description: str, *media_types: str) -> dict[int | str, dict[str, Any]]:
    """A download's 200: its media types, each a file (text or bytes)."""
    return {
        200: {
            "description": description,
            "content": {
                media.split(";")[0].strip(): {"schema": _file_schema(media)}
                for media in media_types
            },
        }
    }


def _file_schema(media_type: str) -> dict[str, Any]:
    if media_type.startswith(("text/", "application/x-ndjson", "application/atom+xml")):
        return {"type": "string"}
    if "json" in media_type:
        return {}  # a JSON value
    return {"type": "string", "format": "binary"}


#: The media types of ``rows.{fmt}``, from the formats every door reads.
EXPORT_MEDIA_TYPES = tuple(f.media_type for f in EXPORT_FORMATS)
