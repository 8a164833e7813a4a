"""CKAN's ``package_search`` over the catalog: ``q``, ``fq``, ``sort``, ``rows``/``start``, facets.

CKAN answers from Solr; a portal holds a few dozen datasets, so the packages
are built and filtered here. ``fq`` takes the Solr terms clients send
(``name:x``, ``organization:x``, ``res_format:CSV``, ``tags:x``,
``metadata_modified:[A TO B]``, ``+dataset_type:dataset``); a field it does not
know is a "Search Query Error", as Solr's undefined field is. ``rows`` is held
to CKAN's 1000 (``ckan.search.rows_max``), and ``count`` always says how many
match, so a client pages with ``start`` to the last one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from openblotter.domain.errors import InvalidInput
from openblotter.services import ckan
from openblotter.services.portal import Portal

ROWS_DEFAULT = 10
ROWS_MAX = 1000
FACET_LIMIT_DEFAULT = 50
SORTABLE = ("id", "name", "title", "metadata_modified", "metadata_created", "score")
_TERM = re.compile(r'([+-]?)([A-Za-z_]+):("[^"]*"|\[[^\]]*\]|\S+)')


class SearchQueryError(InvalidInput):
    """A ``q``, ``fq`` or ``sort`` Solr would refuse (CKAN's "Search Query Error")."""

    code = "search_query_error"


def _values(package: dict[str, Any], field: str) -> list[str] | None:
    """The values a package has for a search field (None: not a field we search)."""
    resources = package["resources"]
    table: dict[str, Callable[[], list[str]]] = {
        "id": lambda: [package["id"]],
        "name": lambda: [package["name"]],
        "title": lambda: [package["title"]],
        "organization": lambda: [package["organization"]["name"]],
        "owner_org": lambda: [package["owner_org"]],
        "res_format": lambda: sorted({r["format"] for r in resources}),
        "tags": lambda: [t["name"] for t in package["tags"]],
        "license_id": lambda: [package["license_id"]],
        "dataset_type": lambda: ["dataset"],
        "type": lambda: ["dataset"],
        "state": lambda: ["active"],
        "capacity": lambda: ["public"],
        "private": lambda: ["false"],
        "metadata_modified": lambda: [package["metadata_modified"] or ""],
        "metadata_created": lambda: [package["metadata_created"] or ""],
        "datastore_active": lambda: sorted({str(r["datastore_active"]).lower() for r in resources}),
    }
    getter = table.get(field)
    return getter() if getter else None


def _fq_filter(fq: str) -> Callable[[dict[str, Any]], bool]:
    terms = _TERM.findall(fq)
    rest = _TERM.sub("", fq).replace("AND", "").strip()
    if rest:
        raise SearchQueryError(
            f"fq '{fq}': only field:value terms (joined by spaces or AND) are understood here.",
            detail={"parameter": "fq"},
        )
    for _, field, _ in terms:
        if field not in _FQ_FIELDS:
            raise SearchQueryError(
                f"fq names the field '{field}', which packages do not have here.",
                detail={"parameter": "fq", "allowed": list(_FQ_FIELDS)},
            )

    def keep(package: dict[str, Any]) -> bool:
        for sign, field, value in terms:
            hit = _matches(_values(package, field) or [], value)
            if hit == (sign == "-"):
                return False
        return True

    return keep


_FQ_FIELDS = (
    "id", "name", "title", "organization", "owner_org", "res_format", "tags", "license_id",
    "dataset_type", "type", "state", "capacity", "private", "metadata_modified",
    "metadata_created", "datastore_active",
)  # fmt: skip


def _matches(values: list[str], pattern: str) -> bool:
    if pattern.startswith("["):  # a Solr range [A TO B], * for open
        low, _, high = pattern[1:-1].partition(" TO ")
        return any(
            (low.strip() == "*" or v >= low.strip().rstrip("Z"))
            and (high.strip() == "*" or v <= high.strip().rstrip("Z"))
            for v in values
        )
    wanted = pattern.strip('"').lower()
    return any(v.lower() == wanted for v in values) or wanted == "*"


def _q_filter(q: str) -> Callable[[dict[str, Any]], bool]:
    if ":" in q and q.strip() != "*:*":
        return _fq_filter(q)  # CKAN passes field:value terms in q to Solr as they are
    words = [] if q.strip() in ("", "*:*") else q.lower().split()

    def keep(package: dict[str, Any]) -> bool:
        text = " ".join(
            [package["name"], package["title"], package["notes"] or ""]
            + [t["name"] for t in package["tags"]]
        ).lower()
        return all(word in text for word in words)

    return keep


def _sort_keys(sort: str) -> list[tuple[str, bool]]:
    keys = []
    for part in sort.split(","):
        pieces = part.split()
        if not pieces:
            continue
        field, direction = pieces[0], (pieces[1].lower() if len(pieces) > 1 else "asc")
        if field not in SORTABLE or direction not in ("asc", "desc") or len(pieces) > 2:
            raise SearchQueryError(
                f"sort '{sort}': sort by {', '.join(SORTABLE)} followed by asc or desc.",
                detail={"parameter": "sort", "allowed": list(SORTABLE)},
            )
        if field != "score":  # every package scores alike: relevance leaves the order as is
            keys.append((field, direction == "desc"))
    return keys


def _sorted(packages: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    ordered = sorted(packages, key=lambda p: p["name"])
    for field, descending in reversed(_sort_keys(sort)):
        ordered.sort(key=lambda p: p[field] or "", reverse=descending)
    return ordered


def whole_number(value: Any, parameter: str, default: int) -> int:
    """A CKAN integer parameter (text from a query string, or a JSON number)."""
    if value is None or value == "":
        return default
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        raise InvalidInput(
            f"{parameter} '{text[:40]}' is not a whole number.",
            detail={"parameter": parameter, "ckan": {parameter: ["Invalid integer"]}},
        )
    return int(text)


def _facets(
    packages: list[dict[str, Any]], fields: list[str], limit: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for field in fields:
        counts: Counter[str] = Counter()
        for package in packages:
            counts.update(set(_values(package, field) or []))
        top = counts.most_common(limit)
        facets[field] = dict(top)
        search_facets[field] = {
            "title": field,
            "items": [{"name": v, "display_name": v, "count": n} for v, n in top],
        }
    return facets, search_facets


def facet_fields(value: Any) -> list[str]:
    """``facet.field``: a JSON list as text (CKAN's form), or a list."""
    import json

    if value is None or value == "":
        return []
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = [value]
    if not isinstance(parsed, list) or not all(isinstance(f, str) for f in parsed):
        raise InvalidInput(
            'facet.field is a JSON list of field names, like ["organization","res_format"].',
            detail={"parameter": "facet.field", "ckan": {"facet.field": ["Not a list"]}},
        )
    for field in parsed:
        if field not in _FQ_FIELDS:
            raise SearchQueryError(
                f"facet.field names '{field}', which packages do not have here.",
                detail={"parameter": "facet.field", "allowed": list(_FQ_FIELDS)},
            )
    return parsed


def package_search(portal: Portal, base: str, params: dict[str, Any]) -> dict[str, Any]:
    """``package_search``: packages matching ``q`` and ``fq``, sorted, one page of ``rows``."""
    rows = min(whole_number(params.get("rows"), "rows", ROWS_DEFAULT), ROWS_MAX)
    start = whole_number(params.get("start"), "start", 0)
    sort = str(params.get("sort") or "score desc, metadata_modified desc")
    keep_q = _q_filter(str(params.get("q") or ""))
    keep_fq = _fq_filter(str(params.get("fq") or ""))
    fields = facet_fields(params.get("facet.field"))
    limit = whole_number(params.get("facet.limit"), "facet.limit", FACET_LIMIT_DEFAULT)
    everything = [ckan.package(portal, base, d, r) for d, r in ckan.public_datasets(portal)]
    found = _sorted([p for p in everything if keep_q(p) and keep_fq(p)], sort)
    facets, search_facets = _facets(found, fields, limit)
    return {
        "count": len(found),
        "sort": sort,
        "results": found[start : start + rows],
        "facets": facets,
        "search_facets": search_facets,
    }
