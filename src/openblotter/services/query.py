"""Query use cases: one model (domain/query/parse.py), one engine, for every door.

Every door (the native API, the pages, the CLI, and any new one) calls these
functions with the raw query parameters; the release to read is chosen by
``_release`` (default: the current release). Access is checked here, never in
a door: rows and exports of a dataset published only as counts are refused,
its facets and aggregates come from its protected tables, and withdrawn or
purged releases are not served (:mod:`openblotter.services.reading`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from openblotter.domain.checkpoints import checked_by
from openblotter.domain.errors import Gone, InvalidInput, NotFound
from openblotter.domain.formats import export_format
from openblotter.domain.query.cursor import bind_release, token_release
from openblotter.services import disclosure, disclosure_serving, reading
from openblotter.services.portal import Portal
from openblotter.services.reading import Params, Refine, engine, spec_for, target
from openblotter.storage import exports
from openblotter.storage.budget import CURRENT_REQUEST, Cancellation


@contextmanager
def cancellable_request(time_limit: float | None = None) -> Iterator[Cancellation]:
    """A request's cancellation token: cancel it (the client went away) and its queries stop.

    Its work in Python stops too, at the next checkpoint, and so does it once ``time_limit``
    seconds have passed (:mod:`openblotter.domain.checkpoints`).
    """
    request = Cancellation(time_limit)
    token = CURRENT_REQUEST.set(request)
    try:
        with checked_by(request.check):
            yield request
    finally:
        CURRENT_REQUEST.reset(token)


def rows_page(
    portal: Portal,
    dataset_id: str,
    params: Params,
    *,
    row_ids: bool = False,
    refine: Refine | None = None,
) -> dict[str, Any]:
    """A page of rows: ``{"rows", "next", "total", "release", "columns", "synthetic"}``
    (and ``row_ids``, each row's number in the release file, when asked)."""
    disclosure.refuse_rows(portal, dataset_id)
    params = _paged_release(portal, dataset_id, params)
    t = target(portal, dataset_id, params)
    spec = spec_for(t, params, portal)
    if refine is not None:
        spec = refine(spec)
    page = engine(portal).rows(t.path, t.schema, spec)
    columns = list(spec.fields or [f.name for f in t.schema.fields])
    token = bind_release(page.next, t.release.label, t.release.checksum) if page.next else None
    body: dict[str, Any] = {
        "rows": page.rows,
        "next": token,
        "total": page.total,
        "release": t.release.label,
        "columns": columns,
        "synthetic": t.dataset.synthetic,
    }
    if row_ids:
        body["row_ids"] = list(page.row_ids)
    return body


def _paged_release(portal: Portal, dataset_id: str, params: Params) -> Params:
    """Pin a ``_next`` page to the release its token was made on, so a page walk never mixes
    two releases across a publish or a rollback; Gone when that release is no longer served."""
    tokens = [value for key, value in params if key == "_next"]
    if len(tokens) != 1:
        return params  # none, or repeated (refused by the query model)
    ref = token_release(tokens[0])
    asked = [value for key, value in params if key == "_release"]
    if asked and asked[0] != ref.label:
        raise InvalidInput(
            f"This _next token pages release {ref.label}, not {asked[0]}; "
            f"drop _release or start again from the first page of {asked[0]}.",
            detail={"parameter": "_release", "allowed": [ref.label]},
        )
    try:
        release = portal.release(dataset_id, ref.label)
    except NotFound:
        release = None
    if release is None or not release.checksum.startswith(ref.checksum):
        current = portal.catalog.dataset_and_current(dataset_id)
        now = current[1].label if current and current[1] else None
        raise Gone(
            f"Release {ref.label} of '{dataset_id}', which these pages come from, is no longer "
            "served (withdrawn or replaced); start again from the first page"
            + (f" of the current release {now}." if now else "."),
            detail={"parameter": "_next", "release": ref.label, "current_release": now},
        )
    return params if asked else [*params, ("_release", ref.label)]


#: How a family field the agency's file does not have is described to readers.
NOT_RECORDED_NOTE = "not recorded by this agency"


def facet_counts(
    portal: Portal, dataset_id: str, params: Params, columns: Sequence[str] | None = None
) -> dict[str, Any]:
    """Value counts per facet column under the filters (contract shape), plus per-facet info."""
    protected = disclosure.aggregates_only(portal, dataset_id)
    not_recorded: set[str] = set()
    if protected:
        # Counts only: answered from the release's protected tables (services/disclosure_serving).
        result = disclosure_serving.facets(portal, dataset_id, list(params), columns)
    else:
        t = target(portal, dataset_id, params)
        result = engine(portal).facets(t.path, t.schema, spec_for(t, params, portal), columns)
        result.update(release=t.release.label, synthetic=t.dataset.synthetic)
        not_recorded = {f.name for f in t.schema.fields if f.not_recorded}
    facets = {name: info["values"] for name, info in result["facets"].items()}
    info = {
        name: {k: v for k, v in details.items() if k != "values"}
        for name, details in result["facets"].items()
    }
    for name in not_recorded & info.keys():
        # All null because the agency's file has no such column, not the agency's Unknown.
        info[name].update(recorded=False, note=NOT_RECORDED_NOTE)
    body = {
        "facets": facets,
        "facet_info": info,
        "total": result["total"],
        "release": result["release"],
        "synthetic": result["synthetic"],
    }
    if protected:
        body["suppression"] = result["suppression"]
    return body


def aggregate(
    portal: Portal, dataset_id: str, params: Params, *, refine: Refine | None = None
) -> dict[str, Any]:
    """Grouped aggregates: ``{"groups": [...], "total_groups", "truncated", "release", "synthetic"}``.

    For a dataset published only as counts, the answer comes from the release's
    protected tables (small counts hidden, :mod:`disclosure_serving`); a ``refine`` (a
    door's expression or offset) is refused there, as the tables answer native groupings
    only. An analysis that suppresses its own output reads :func:`reading.aggregate` instead.
    """
    if disclosure.aggregates_only(portal, dataset_id):
        if refine is not None:
            disclosure.refuse_rows(portal, dataset_id)
        return disclosure_serving.aggregate(portal, dataset_id, list(params))
    return reading.aggregate(portal, dataset_id, params, refine=refine)


@dataclass(frozen=True)
class Export:
    """A streamed download: bytes, media type and a file name."""

    chunks: Iterator[exports.Chunk]
    media_type: str
    filename: str
    synthetic: bool


def export(portal: Portal, dataset_id: str, params: Params, fmt: str) -> Export:
    """Every matching row in a format of ``domain.formats`` (streamed; no row cap)."""
    chosen = export_format(fmt)
    disclosure.refuse_rows(portal, dataset_id)
    t = target(portal, dataset_id, params)
    # Exports ignore paging: every matching row, in file order unless sorted.
    unpaged = [(k, v) for k, v in params if k not in ("_size", "_next", "_count")]
    spec = spec_for(t, unpaged, portal)
    writer = exports.EXPORTS[chosen.name]
    # The first bytes are made before the response starts: a query that cannot run
    # (busy, out of memory, too slow) is a 503/504, never a 200 that stops mid-file.
    chunks = exports.started(writer(engine(portal), t.path, t.schema, spec))
    prefix = "synthetic-demo-" if t.dataset.synthetic else ""
    return Export(
        chunks,
        chosen.media_type,
        f"{prefix}{dataset_id}-{t.release.label}.{chosen.extension}",
        t.dataset.synthetic,
    )
