"""SODA counts of a dataset published only as counts: a grouped ``count(*)`` answered by the
native aggregate service, so from the release's protected tables with small counts hidden.

Only what those tables hold can be asked: ``count(*)`` grouped by one or two of
their columns, with at most one ``column = value`` condition; anything else is
refused with the tables' own explanation. Rows are never read here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.model import Filter, QuerySpec
from openblotter.domain.query.soql_spec import SodaPlan
from openblotter.services import query as query_service
from openblotter.services.portal import Portal


def _refuse(dataset_id: str, what: str) -> InvalidInput:
    api = f"/api/v1/datasets/{dataset_id}/aggregate"
    return InvalidInput(
        f"Dataset '{dataset_id}' is published only as counts: through SODA it answers "
        f"count(*) grouped by its published dimensions, with at most one column = value "
        f"condition; {what} The native counts API ({api}) lists the dimensions.",
        detail={"dataset": dataset_id, "access": "aggregates", "links": {"aggregate": api}},
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _native_params(dataset_id: str, spec: QuerySpec) -> list[tuple[str, str]]:
    """The native aggregate parameters of a counts-only SODA grouping, or a refusal."""
    if any(a.function != "count" or a.column is not None for a in spec.aggregates):
        raise _refuse(dataset_id, "only count(*) is published.")
    if spec.having is not None or spec.search:
        raise _refuse(dataset_id, "$having and $q read rows.")
    if any(k.transform is not None or k.part is not None for k in spec.group):
        raise _refuse(dataset_id, "group by the columns themselves.")
    params: list[tuple[str, str]] = [("_agg", "count")]
    if spec.group:
        params.append(("_group", ",".join(k.column for k in spec.group)))
    where = spec.where
    if where is not None:
        if not (
            isinstance(where, Filter)
            and where.operator in ("eq", "in")
            and len(where.values) == 1
            and where.transform is None
        ):
            raise _refuse(dataset_id, "the one condition must be column = value.")
        params.append((where.column, _text(where.values[0])))
    names = {k.name: k.column for k in spec.group} | {a.name: "count" for a in spec.aggregates}
    if spec.sort:
        keys = [("-" if k.descending else "") + names[k.column] for k in spec.sort]
        params.append(("_sort", ",".join(keys)))
    return params


def counts(portal: Portal, dataset_id: str, soda_plan: SodaPlan) -> Iterator[dict[str, Any]]:
    """The groups of a counts-only dataset for a SODA grouping (a hidden count is null)."""
    spec = soda_plan.spec
    result = query_service.aggregate(portal, dataset_id, _native_params(dataset_id, spec))
    limit = spec.limit if spec.limit is not None else len(result["groups"])
    count_name = spec.aggregates[0].name if spec.aggregates else "count"
    for group in result["groups"][spec.offset : spec.offset + limit]:
        row = {k.name: group.get(k.column) for k in spec.group}
        row[count_name] = group.get("count")
        yield row
