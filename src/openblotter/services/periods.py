"""Analysis periods read from the data's own dates.

``2025`` (a year), ``2025-Q3`` (a quarter), ``last4q`` (the four quarters
ending with the quarter of the data's latest date, under the same filters)
and ``all`` (every date). Each resolves to query filters and to the first and
last dates of the events it holds; a period with no events is refused with
the span the data does cover, never answered with rates of zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openblotter.domain.errors import InvalidInput
from openblotter.domain.quarters import Quarter
from openblotter.domain.query.filters import main_date_field
from openblotter.services import reading
from openblotter.services.portal import Portal

Params = list[tuple[str, str]]
ALLOWED = ["YYYY", "YYYY-Qn", "last4q", "all"]


@dataclass(frozen=True)
class Period:
    """A chosen period: its name, the filters that select it, and its events' first and last dates."""

    name: str
    filters: Params
    first: date | None
    last: date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.name,
            "first_date": self.first.isoformat() if self.first else None,
            "last_date": self.last.isoformat() if self.last else None,
        }


def span(portal: Portal, dataset_id: str, filters: Params) -> tuple[date, date] | None:
    """The first and last dates of the matching events (None: no dated event, or no date field)."""
    t = reading.target(portal, dataset_id, filters)
    source = main_date_field(t.schema)
    if source is None:
        return None
    params = [*filters, ("_agg", f"min:{source.name},max:{source.name}")]
    groups = reading.aggregate(portal, dataset_id, params)["groups"]
    if not groups:
        return None
    low, high = groups[0].get(f"min_{source.name}"), groups[0].get(f"max_{source.name}")
    if low is None or high is None:
        return None
    return _day(low), _day(high)


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def period_filters(portal: Portal, dataset_id: str, period: str, filters: Params) -> Params:
    """The query filters that select ``period``, counted from the data's own dates."""
    text = period.strip()
    if text == "all":
        return []
    if text == "last4q":
        whole = span(portal, dataset_id, filters)
        if whole is None:
            return []
        quarters = [Quarter.of(whole[1])]
        while len(quarters) < 4:
            quarters.append(quarters[-1].previous())
        return [("quarter", q.label) for q in reversed(quarters)]
    if text.isdigit() and len(text) == 4:
        return [("year", text)]
    try:
        return [("quarter", Quarter.parse(text).label)]
    except InvalidInput as error:
        raise InvalidInput(
            f"'{period}' is not a period: use a year (2025), a quarter (2025-Q3), last4q (the "
            "four quarters to the data's latest date) or all.",
            detail={"parameter": "period", "allowed": ALLOWED},
        ) from error


def resolve(portal: Portal, dataset_id: str, period: str | None, filters: Params) -> Period:
    """``period`` as filters and dates; a 400 naming the data's span when it holds no event."""
    name = (period or "all").strip() or "all"
    t = reading.target(portal, dataset_id, filters)
    if name == "all" and main_date_field(t.schema) is None:
        return Period(name, [], None, None)  # an undated dataset: every row, no span to state
    chosen = period_filters(portal, dataset_id, name, filters)
    found = span(portal, dataset_id, [*filters, *chosen])
    if found is None:
        whole = span(portal, dataset_id, filters)
        covers = (
            f"the data covers {whole[0].isoformat()} to {whole[1].isoformat()}"
            if whole
            else "the data (with these filters) has no dated events"
        )
        raise InvalidInput(
            f"No events in the period '{name}' with these filters: {covers}. Choose a period "
            "inside it, or all.",
            detail={
                "parameter": "period",
                "allowed": ALLOWED,
                "data_first_date": whole[0].isoformat() if whole else None,
                "data_last_date": whole[1].isoformat() if whole else None,
            },
        )
    return Period(name, chosen, found[0], found[1])
