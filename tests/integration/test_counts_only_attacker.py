"""An attacker against a counts-only dataset: every number its routes publish, then linprog.

Dallas's real 2016 use-of-force file is published only as counts. The attacker
asks every facet, every aggregate with every filter the portal allows, and
every analysis, keeps each number and each hidden cell, and then, for each
hidden cell, solves two linear programs (scipy ``linprog``, HiGHS) for the
smallest and largest count it can have given everything published, that
counts are not negative, that a listed group has at least one row, that a
combination a two-way table does not list is zero, and which sector lies in
which district (and which force detail is which force type), as a reader who
knows the city's map would. No hidden cell may be
narrowed to fewer values than the protection interval allows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy.optimize import linprog

from openblotter.web.app import create_app
from tests.factories import make_settings, publish_dallas

API = "/api/v1/datasets/use_of_force"
Assignment = frozenset[tuple[str, Any]]


@dataclass
class Attacker:
    """What the attacker learned: sums of cells (None: hidden but listed), and listed pairs."""

    facts: dict[tuple[Assignment, ...], int | None] = field(default_factory=dict)
    values: dict[str, set[Any]] = field(default_factory=dict)
    pairs: dict[tuple[str, str], set[tuple[Any, Any]]] = field(default_factory=dict)

    def learn(self, cells: list[dict[str, Any]], count: int | None, *, listed: bool = True) -> None:
        """``count`` is the sum of the cells (each a {dimension: value}); None when hidden.

        ``listed``: the cells are groups a response lists (so each has a row).
        """
        key = tuple(frozenset(c.items()) for c in cells)
        for cell in cells:
            for name, value in cell.items():
                if listed:
                    self.values.setdefault(name, set()).add(value)
        known = self.facts.get(key)
        assert known is None or count is None or known == count, (key, known, count)
        if count is not None or key not in self.facts:
            self.facts[key] = count

    def learn_pair(self, a: str, b: str, listed: set[tuple[Any, Any]]) -> None:
        self.pairs.setdefault((a, b), set()).update(listed)

    def components(self) -> list[list[str]]:
        groups: list[set[str]] = [{d} for d in self.values]
        for a, b in self.pairs:
            joined = [g for g in groups if a in g or b in g]
            groups = [g for g in groups if g not in joined] + [set().union(*joined)]
        return [sorted(g) for g in groups]

    def ranges(self) -> Iterator[tuple[tuple[Assignment, ...], int, float, float]]:
        """Each hidden cell with the attacker's smallest and largest value for it."""
        for dims in self.components():
            grid = self._grid(dims)
            facts = {
                k: v
                for k, v in self.facts.items()
                if all({name for name, _ in cell} <= set(dims) for cell in k)
            }
            rows = {k: self._row(k, dims, grid) for k in facts}
            published = [k for k, v in facts.items() if v is not None]
            hidden = [k for k, v in facts.items() if v is None]
            a_eq = np.array([rows[k] for k in published])
            b_eq = np.array([facts[k] for k in published], dtype=float)
            a_ub = np.array([-rows[k] for k in hidden]) if hidden else None
            b_ub = -np.ones(len(hidden)) if hidden else None
            for k in hidden:
                options = {"A_ub": a_ub, "b_ub": b_ub, "A_eq": a_eq, "b_eq": b_eq}
                low = linprog(rows[k], bounds=(0, None), method="highs", **options)
                high = linprog(-rows[k], bounds=(0, None), method="highs", **options)
                assert low.status == 0 and high.status in (0, 3), (low.message, high.message)
                top = float("inf") if high.status == 3 else -high.fun
                yield k, len(grid), float(low.fun), top

    def _grid(self, dims: list[str]) -> list[dict[str, Any]]:
        out = []
        for combo in itertools.product(*(sorted(self.values[d], key=str) for d in dims)):
            cell = dict(zip(dims, combo, strict=True))
            if all(
                (cell[a], cell[b]) in listed
                for (a, b), listed in self.pairs.items()
                if a in cell and b in cell
            ):
                out.append(cell)
        return out

    @staticmethod
    def _row(
        key: tuple[Assignment, ...], dims: list[str], grid: list[dict[str, Any]]
    ) -> np.ndarray:
        return np.array(
            [
                float(any(all(g[name] == value for name, value in cell) for cell in key))
                for g in grid
            ]
        )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("attacked"), aggregates_only_datasets=["use_of_force"]
    )
    app = create_app(settings)
    publish_dallas(app.state.portal, tmp_path_factory.mktemp("residents"))
    with TestClient(app) as test_client:
        yield test_client


def _ok(client: TestClient, path: str, params: list[tuple[str, str]]) -> dict[str, Any] | None:
    response = client.get(path, params=params)
    assert response.status_code in (200, 400), (path, params, response.text[:300])
    return response.json() if response.status_code == 200 else None


def _collect(client: TestClient) -> tuple[Attacker, int]:
    attacker = Attacker()
    refused = client.get(f"{API}/aggregate", params={"_group": "record_id"}).json()
    dims = refused["error"]["detail"]["dimensions"]
    tables = [tuple(t.split(",")) for t in refused["error"]["detail"]["tables"]]
    requests = 0
    for dim in dims:
        for path, params in (
            ("facets", [("_facet", dim)]),
            ("aggregate", [("_group", dim)]),
            ("aggregate", [("_group", dim), ("_sort", "-count")]),
        ):
            body = _ok(client, f"{API}/{path}", params)
            requests += 1
            assert body is not None, (dim, path)
            _learn_listing(attacker, body, [dim])
    for a, b in tables:
        body = _ok(client, f"{API}/aggregate", [("_group", f"{a},{b}")])
        requests += 1
        assert body is not None
        _learn_listing(attacker, body, [a, b])
        for fixed, free in ((a, b), (b, a)):
            for value in sorted(attacker.values[fixed], key=str):
                text = str(value).lower() if isinstance(value, bool) else str(value)
                for path, params in (
                    ("facets", [("_facet", free), (fixed, text)]),
                    ("aggregate", [("_group", free), (fixed, text)]),
                ):
                    body = _ok(client, f"{API}/{path}", params)
                    requests += 1
                    if body is not None:
                        _learn_listing(attacker, body, [free], {fixed: value})
    # Filters the tables do not hold: refused, so they add nothing.
    for params in ([("_facet", dims[0]), (dims[1], "x"), (dims[2], "y")], [("_q", "taser")]):
        assert client.get(f"{API}/facets", params=params).status_code in (400, 404)
    requests += _collect_analyses(client, attacker)
    _learn_hierarchies(client, attacker)
    return attacker, requests


#: Hierarchies a reader can know from outside the data: the city's map, the force codes.
HIERARCHIES = (("sector", "district"), ("force_detail", "force_type"))


def _learn_hierarchies(client: TestClient, attacker: Attacker) -> None:
    """Which sectors lie in which district (and force details in which type): public maps.

    Read here from the rows themselves, as a reader would read them from the city's map.
    """
    from openblotter.services import reading

    portal = client.app.state.portal
    for a, b in HIERARCHIES:
        groups = reading.aggregate(portal, "use_of_force", [("_group", f"{a},{b}")])
        attacker.learn_pair(a, b, {(g[a], g[b]) for g in groups["groups"]})


def _learn_listing(
    attacker: Attacker, body: dict[str, Any], dims: list[str], where: dict[str, Any] | None = None
) -> None:
    where = where or {}
    if "facets" in body:
        listed = [(v["value"],) for v in body["facets"][dims[0]]]
        counts = [v["count"] for v in body["facets"][dims[0]]]
        attacker.learn([where], body["total"])
    else:
        listed = [tuple(g[d] for d in dims) for g in body["groups"]]
        counts = [g["count"] for g in body["groups"]]
    for key, count in zip(listed, counts, strict=True):
        attacker.learn([{**where, **dict(zip(dims, key, strict=True))}], count)
    if len(dims) == 2:
        attacker.learn_pair(dims[0], dims[1], set(listed))
    if where:
        (fixed, value), free = next(iter(where.items())), dims[0]
        attacker.learn_pair(fixed, free, {(value, k[0]) for k in listed})


def _collect_analyses(client: TestClient, attacker: Attacker) -> int:
    requests = 0
    for by, period, reference in itertools.product(
        ("subject_race", "subject_sex"),
        ("2016", "last4q"),
        (None, "White alone, not Hispanic or Latino"),
    ):
        params = [("dataset", "use_of_force"), ("by", by), ("period", period)]
        body = _ok(
            client,
            "/api/v1/analysis/benchmark",
            params + [("reference", reference)] * bool(reference),
        )
        requests += 1
        if body is None:
            continue
        _learn_benchmark(attacker, body, by)
    pairs = _ok(client, "/api/v1/analysis/race-pairs", [("dataset", "use_of_force")])
    requests += 1
    if pairs is not None:
        for cell in pairs["cells"]:
            attacker.learn(
                [{"officer_race": cell["officer_group"], "subject_race": cell["subject_group"]}],
                cell["count"],
            )
        for name, totals in (
            ("officer_race", "officer_totals"),
            ("subject_race", "subject_totals"),
        ):
            for group, count in pairs[totals].items():
                attacker.learn([{name: group}], count)
    for by in ("sector", "district", "quarter"):
        body = _ok(client, "/api/v1/analysis/funnel", [("dataset", "use_of_force"), ("by", by)])
        requests += 1
        assert body is not None, by
        _learn_funnel(attacker, body, by)
    outcomes = _ok(client, "/api/v1/analysis/outcomes", [("dataset", "use_of_force")])
    requests += 1
    assert outcomes is not None
    for table in outcomes["tables"].values():
        column = table["dimensions"][0]
        for row in table["rows"]:
            value = {"Yes": True, "No": False, "Not recorded": None}.get(row["value"], row["value"])
            if isinstance(row["value"], str) and row["value"] not in ("Yes", "No"):
                value = row["value"]
            attacker.learn([{column: value}], row["count"], listed=False)
    requests += 1
    assert _ok(client, "/api/v1/analysis/veil-of-darkness", [("dataset", "use_of_force")]) is None
    return requests


def _learn_funnel(attacker: Attacker, body: dict[str, Any], by: str) -> None:
    """Each unit's events, the unplaced events, and the target rate: the placed events."""
    placed = []
    for unit in body["units"]:
        value = unit["unit"]
        attacker.learn([{by: value}], unit["events"], listed=False)
        placed.append({by: value})
    if body["target_rate"] is not None and body["basis"] == "average":
        attacker.learn(placed, round(body["target_rate"] * len(placed)), listed=False)
    if body["unplaced_events"] is not None and placed:
        total = next(v for k, v in attacker.facts.items() if k == (frozenset(),))
        if total is not None:
            attacker.learn(placed, total - body["unplaced_events"], listed=False)


def _learn_benchmark(attacker: Attacker, body: dict[str, Any], by: str) -> None:
    """Each row's events, and the reference rate: the events of every compared group."""
    attacker.learn([{}], body["events_total"])
    compared = []
    for row in body["rows"]:
        cells = [{by: code} for code in row["department_codes"]]
        if row["events"] != 0:  # a code with no row has no cell; zero is not learned here
            attacker.learn(cells, row["events"], listed=False)
        if row["placement"] == "category":
            compared += cells
    rate = body["reference_rate_per_1000"]
    if rate is not None and body["reference"] == "All residents":
        attacker.learn(compared, round(rate * body["population_total"] / 1000), listed=False)
    ratios = [r for r in body["rows"] if r["rate_ratio"] is not None and r["rate_per_1000"]]
    if ratios and rate is None:
        raise AssertionError("rate ratios were published without their reference rate")


def test_no_hidden_cell_is_narrowed_below_the_protection_interval(client: TestClient) -> None:
    attacker, requests = _collect(client)
    interval = client.app.state.portal.settings.aggregates_interval
    assert requests > 100
    hidden = list(attacker.ranges())
    assert len(hidden) > 10, "the real file has small counts to protect"
    narrow = [(k, low, high) for k, _, low, high in hidden if high - low < interval - 1e-6]
    assert narrow == []


def test_the_attacker_recovers_what_a_list_protected_on_its_own_leaves() -> None:
    """The same attacker against a one-way list protected on its own (the old rule)."""
    from openblotter.analysis.suppression import suppress_counts

    counts = {"White": 40, "Asian": 1, "Native Hawaiian or Other Pacific Islander": 1}
    attacker = Attacker()
    attacker.learn([{}], 42)
    for item in suppress_counts(counts, threshold=10).items:
        attacker.learn([{"subject_race": item.label}], item.count)
    ranges = {dict(k[0])["subject_race"]: (low, high) for k, _, low, high in attacker.ranges()}
    assert ranges == {
        "Asian": (1.0, 1.0),
        "Native Hawaiian or Other Pacific Islander": (1.0, 1.0),
    }


def _benchmark_body(events: dict[str, int], compared: set[str]) -> dict[str, Any]:
    population = 100_000
    known = sum(n for code, n in events.items() if code in compared)
    rate = known / population * 1000
    rows = [
        {
            "group": code,
            "placement": "category" if code in compared else "unknown",
            "department_codes": [code],
            "events": n,
            "share_of_events": n / sum(events.values()),
            "rate_per_1000": n / 25_000 * 1000 if code in compared else None,
            "rate_ci_low": None,
            "rate_ci_high": None,
            "rate_ratio": (n / 25_000 * 1000) / rate if code in compared else None,
            "ci_low": None,
            "ci_high": None,
            "reliable": True,
            "notes": [],
        }
        for code, n in events.items()
    ]
    return {
        "reference": "All residents",
        "reference_rate_per_1000": rate,
        "events_total": sum(events.values()),
        "population_total": population,
        "rows": rows,
    }


def _facets_attacker(events: dict[str, int], hidden: set[str]) -> Attacker:
    """What the facets of the same table publish: every group listed, the hidden ones blank."""
    attacker = Attacker()
    for code, n in events.items():
        attacker.learn([{"subject_race": code}], None if code in hidden else n)
    return attacker


def test_the_reference_rate_no_longer_gives_a_hidden_group_and_unknown_away(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The issue's case: Asian 3 and Unknown 12 hidden, recovered from the reference rate."""
    from types import SimpleNamespace

    from openblotter.services.disclosure_analyses import protect_benchmark

    events = {"White": 400, "Black or African American": 300, "Asian": 3, "Unknown": 12}
    compared = {"White", "Black or African American", "Asian"}
    body = _benchmark_body(events, compared)
    hidden = {"Asian", "Unknown"}
    # Hiding the two rows but keeping the reference rate (the old rule) gives both away.
    leaky = {
        **body,
        "rows": [{**r, "events": None} if r["group"] in hidden else r for r in body["rows"]],
    }
    attacker = _facets_attacker(events, hidden)
    _learn_benchmark(attacker, leaky, "subject_race")
    found = {dict(k[0])["subject_race"]: (lo, hi) for k, _, lo, hi in attacker.ranges()}
    assert found == {"Asian": (3.0, 3.0), "Unknown": (12.0, 12.0)}
    portal = SimpleNamespace(settings=make_settings(tmp_path_factory.mktemp("benchmark")))
    protected = protect_benchmark(portal, body, hidden)  # type: ignore[arg-type]
    assert protected["reference_rate_per_1000"] is None
    assert all(r["rate_ratio"] is None for r in protected["rows"])
    attacker = _facets_attacker(events, hidden)
    _learn_benchmark(attacker, protected, "subject_race")
    found = {dict(k[0])["subject_race"]: (lo, hi) for k, _, lo, hi in attacker.ranges()}
    assert found == {"Asian": (1.0, 14.0), "Unknown": (1.0, 14.0)}
