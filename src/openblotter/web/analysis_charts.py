"""The analysis pages' Vega-Lite charts: each reads the JSON API, and the page's table
holds the same numbers (hidden counts are left out of the charts, "Hidden" in the tables).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openblotter.services.analyses.base import Result

COLORS = {"blue": "#005ea2", "gray": "#71767a", "light": "#a9aeb1", "red": "#b50909"}
POSITION_COLORS = {
    "above the 99.8% limit": "#b50909",
    "above the 95% limit": "#d83933",
    "within the 95% limits": "#71767a",
    "below the 95% limit": "#2378c3",
    "below the 99.8% limit": "#1a4480",
}
# Census names are long; the chart drops "(alone), not Hispanic or Latino" (the table keeps it).
SHORT_GROUP_AXIS = {
    "labelLimit": 150,
    "labelExpr": "replace(replace(datum.label, ' alone, not Hispanic or Latino', ''), "
    "', not Hispanic or Latino', '')",
}
CONFIG = {
    "font": "Source Sans Pro Web, Helvetica Neue, Helvetica, Arial, sans-serif",
    "axis": {"labelFontSize": 12, "titleFontSize": 13},
    "legend": {"labelFontSize": 12},
}


def _spec(url: str, prop: str | None, description: str, **spec: Any) -> dict[str, Any]:
    data_format: dict[str, Any] = {"type": "json", **({"property": prop} if prop else {})}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": description,
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"url": url, "format": data_format},
        **spec,
        "config": CONFIG,
    }


def _interval_chart(
    url: str,
    prop: str,
    category: str,
    value: str,
    low: str,
    high: str,
    title: str,
    reference: float | None,
    *,
    percent: bool = False,
) -> dict[str, Any]:
    """Points with interval bars, one line per category, and a dashed reference line."""
    axis = {"format": ".0%"} if percent else {}
    y = {
        "field": category,
        "type": "nominal",
        "sort": None,
        "title": None,
        "axis": SHORT_GROUP_AXIS,
    }
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "errorbar", "ticks": True, "color": COLORS["gray"]},
            "encoding": {
                "y": y,
                "x": {"field": low, "type": "quantitative", "title": title, "axis": axis},
                "x2": {"field": high},
            },
        },
        {
            "mark": {
                "type": "point",
                "filled": True,
                "size": 80,
                "color": COLORS["blue"],
                "tooltip": True,
            },
            "encoding": {
                "y": y,
                "x": {"field": value, "type": "quantitative", "title": title, "axis": axis},
            },
        },
    ]
    if reference is not None:
        layers.append(
            {
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": COLORS["red"]},
                "encoding": {"x": {"datum": reference}},
            }
        )
    return _spec(
        url,
        prop,
        f"{title}, with 95% intervals, by {category}",
        transform=[{"filter": f"isValid(datum.{value})"}],
        height={"step": 26},
        layer=layers,
    )


def benchmark_charts(url: str, result: Result) -> list[dict[str, Any]]:
    """Rate per 1,000 residents of each group with its interval; the reference rate dashed."""
    spec = _interval_chart(
        url,
        "rows",
        "group",
        "rate_per_1000",
        "rate_ci_low",
        "rate_ci_high",
        "Rate per 1,000 residents",
        result.get("reference_rate_per_1000"),
    )
    return [{"id": "benchmark", "spec": spec}]


def funnel_charts(url: str, result: Result) -> list[dict[str, Any]]:
    """Each unit's rate against its 95% (dark) and 99.8% (light) control limits; the target dashed."""
    by = {
        "field": "unit",
        "type": "ordinal",
        "sort": None,
        "title": result["by"].capitalize(),
        "axis": {"labelLimit": 160},
    }
    title = result["rate_unit"].capitalize()
    layers = [
        {
            "mark": {"type": "errorbar", "color": COLORS["light"], "thickness": 6},
            "encoding": {
                "y": by,
                "x": {"field": "limit_99_8_low", "type": "quantitative", "title": title},
                "x2": {"field": "limit_99_8_high"},
            },
        },
        {
            "mark": {"type": "errorbar", "color": COLORS["gray"], "thickness": 6},
            "encoding": {
                "y": by,
                "x": {"field": "limit_95_low", "type": "quantitative", "title": title},
                "x2": {"field": "limit_95_high"},
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 60, "tooltip": True},
            "encoding": {
                "y": by,
                "x": {"field": "rate", "type": "quantitative", "title": title},
                "color": {
                    "field": "position",
                    "type": "nominal",
                    "title": "Where it falls",
                    "scale": {
                        "domain": list(POSITION_COLORS),
                        "range": list(POSITION_COLORS.values()),
                    },
                    "legend": {"orient": "bottom", "direction": "vertical"},
                },
            },
        },
        {
            "mark": {"type": "rule", "strokeDash": [4, 4], "color": COLORS["red"]},
            "encoding": {"x": {"datum": result["target_rate"]}},
        },
    ]
    spec = _spec(
        url,
        "units",
        f"Rates by {result['by']} with 95% and 99.8% control limits",
        transform=[{"filter": "isValid(datum.rate)"}],
        height={"step": 16},
        layer=layers,
    )
    return [{"id": "funnel", "spec": spec}]


def outcome_charts(url: str, result: Result) -> list[dict[str, Any]]:
    """One chart per outcome table: bars of counts, sustained rates with intervals, bias by year."""
    charts = []
    for key, table in result["tables"].items():
        prop = f"tables.{key}.rows"
        if table["kind"] == "rates":
            spec = _interval_chart(
                url,
                prop,
                "value",
                "sustained_rate",
                "ci_low",
                "ci_high",
                "Share of investigated allegations sustained",
                None,
                percent=True,
            )
        elif table["kind"] == "crosstab":
            spec = _spec(
                url,
                prop,
                table["title"],
                transform=[{"filter": "isValid(datum.count)"}],
                mark={"type": "bar", "tooltip": True},
                height=260,
                encoding={
                    "x": {"field": "year", "type": "ordinal", "title": "Year"},
                    "y": {"field": "count", "type": "quantitative", "title": "Offenses"},
                    "color": {
                        "field": "bias_category",
                        "type": "nominal",
                        "title": "Bias",
                        "legend": {"orient": "bottom", "direction": "vertical"},
                    },
                },
            )
        else:
            spec = _spec(
                url,
                prop,
                table["title"],
                transform=[{"filter": "isValid(datum.count)"}],
                mark={"type": "bar", "color": COLORS["blue"], "tooltip": True},
                height={"step": 24},
                encoding={
                    "y": {
                        "field": "value",
                        "type": "nominal",
                        "sort": "-x",
                        "title": None,
                        "axis": {"labelLimit": 200},
                    },
                    "x": {
                        "field": "count",
                        "type": "quantitative",
                        "title": table["unit"].capitalize(),
                    },
                },
            )
        charts.append({"id": key, "spec": spec})
    return charts


def representation_charts(url: str, result: Result) -> list[dict[str, Any]]:
    """The representation index of every staff member's group; 1 (the city's mix) dashed."""
    spec = _spec(
        url,
        "results[0].rows",
        "Representation index by group, all staff",
        transform=[{"filter": "isValid(datum.representation_index)"}],
        height={"step": 26},
        layer=[
            {
                "mark": {"type": "bar", "color": COLORS["blue"], "tooltip": True},
                "encoding": {
                    "y": {
                        "field": "group",
                        "type": "nominal",
                        "sort": None,
                        "title": None,
                        "axis": SHORT_GROUP_AXIS,
                    },
                    "x": {
                        "field": "representation_index",
                        "type": "quantitative",
                        "title": "Share of staff / share of residents",
                    },
                },
            },
            {
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": COLORS["red"]},
                "encoding": {"x": {"datum": 1}},
            },
        ],
    )
    return [{"id": "representation", "spec": spec}]


def darkness_charts(url: str, result: Result) -> list[dict[str, Any]]:
    """The group's share of stopped drivers in daylight and after dark, in the same clock-time window."""
    spec = _spec(
        url,
        None,
        "Share of stopped drivers in the group, daylight and dark",
        transform=[
            {"fold": ["share_in_group_light", "share_in_group_dark"], "as": ["light", "share"]},
            {
                "calculate": "datum.light === 'share_in_group_dark' ? 'After dark' : 'In daylight'",
                "as": "when",
            },
        ],
        mark={"type": "bar", "color": COLORS["blue"], "tooltip": True},
        height={"step": 40},
        encoding={
            "y": {
                "field": "when",
                "type": "nominal",
                "title": None,
                "sort": ["In daylight", "After dark"],
            },
            "x": {
                "field": "share",
                "type": "quantitative",
                "axis": {"format": ".0%"},
                "title": "Share of stopped drivers in the group",
            },
        },
    )
    return [{"id": "darkness", "spec": spec}]


def outcome_test_charts(url: str, result: Result) -> list[dict[str, Any]]:
    """Search, hit and arrest rates by group, each with its exact interval (hit rate only when
    the dataset records what searches found)."""
    measures = [
        ("search_rate", "Searched, share of stops"),
        ("hit_rate", "Contraband found, share of searches"),
        ("arrest_rate", "Arrested, share of stops"),
    ]
    return [
        {
            "id": name,
            "title": title,
            "spec": _interval_chart(
                url,
                "rows",
                "group",
                name,
                f"{name}_ci_low",
                f"{name}_ci_high",
                title,
                None,
                percent=True,
            ),
        }
        for name, title in measures
        if result["measures"].get(name)
    ]


#: The charts of each analysis page, by analysis name (an analysis without one shows its table).
CHARTS: dict[str, Callable[[str, Result], list[dict[str, Any]]]] = {
    "benchmark": benchmark_charts,
    "funnel": funnel_charts,
    "outcomes": outcome_charts,
    "representation": representation_charts,
    "darkness": darkness_charts,
    "outcome-tests": outcome_test_charts,
}


def charts_for(name: str, url: str, result: Result) -> list[dict[str, Any]]:
    """The Vega-Lite specs of an analysis page, reading ``url`` (its JSON)."""
    chart = CHARTS.get(name)
    return chart(url, result) if chart else []
