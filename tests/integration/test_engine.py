"""The DuckDB engine and the exports, checked against polars computing the same thing.

Two release files: a small contacts table built to have ties, nulls, every
column type and spreadsheet-formula text, and the Washington Post's real
fatal police shootings file (messy: blank races and ages, 2,467 cities).
"""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openblotter.domain.errors import OpenBlotterError, TooLarge
from openblotter.domain.query.model import (
    FACET_VALUE_LIMIT,
    SUFFIX_OPERATORS,
    Aggregate,
    And,
    Expr,
    Filter,
    GroupKey,
    Not,
    Or,
    QuerySpec,
    SortKey,
)
from openblotter.domain.query.parse import parse_query
from openblotter.domain.query.values import json_value
from openblotter.domain.schema import TableSchema
from openblotter.storage import exports
from openblotter.storage.engine import QueryEngine
from tests.conftest import REAL_DATA
from tests.factories import CONTACTS_SCHEMA

REAL = REAL_DATA
SHOOTINGS_CSV = REAL / "national" / "fatal-police-shootings-data_wapo_2021snapshot.csv"

#: The release file holds the published fields (the dropped home address is not in it).
CONTACTS = CONTACTS_SCHEMA.public_schema()
ARROW_TYPES = {
    "case_number": pa.string(),
    "contact_date": pa.date32(),
    "contact_time": pa.time64("us"),
    "reported_at": pa.timestamp("us"),
    "subject_race": pa.string(),
    "subject_age": pa.int64(),
    "fine_amount": pa.float64(),
    "arrested": pa.bool_(),
    "narrative": pa.string(),
}
FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tindent", "\rreturn"]


def _contacts(rows: int = 260) -> pa.Table:
    rng = random.Random(20240501)
    races = ["White", "Black", "Hispanic", "Asian", None]
    columns: dict[str, list[Any]] = {name: [] for name in ARROW_TYPES}
    for i in range(rows):
        day = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 540))
        columns["case_number"].append(f"C-{i:04d}")
        columns["contact_date"].append(None if i % 37 == 5 else day)
        columns["contact_time"].append(time(rng.randrange(24), rng.choice([0, 30]), 0, i % 2 * 500))
        columns["reported_at"].append(
            datetime.combine(day, time(rng.randrange(24), 15, 0, rng.choice([0, 250])))
        )
        columns["subject_race"].append(rng.choice(races))
        columns["subject_age"].append(None if i % 11 == 3 else rng.choice([19, 25, 25, 40, 61]))
        columns["fine_amount"].append(
            None if i % 13 == 7 else rng.choice([0.0, 50.0, 100.5, 100.5, 250.25])
        )
        columns["arrested"].append(None if i % 17 == 2 else rng.random() < 0.3)
        narrative = (
            FORMULAS[i % len(FORMULAS)]
            if i % 9 == 0
            else rng.choice(['Stop, "quoted"', "Line\nbreak", "", "plain text", None])
        )
        columns["narrative"].append(narrative)
    table = pa.table(
        {name: pa.array(values, ARROW_TYPES[name]) for name, values in columns.items()}
    )
    return table.append_column("_row_id", pa.array(range(1, rows + 1), pa.int64()))


@pytest.fixture(scope="module", params=["parquet", "serving copies"])
def engine(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    contacts: tuple[Path, pl.DataFrame],
    shuffled: Path,
    written_by_polars: Path,
    shootings: tuple[Path, pl.DataFrame],
) -> QueryEngine:
    """Every test twice: over the Parquet files, and over their DuckDB serving copies
    (storage/serving.py), built before the tests and checked to be the ones read."""
    if request.param == "parquet":
        return QueryEngine(cache_cells=0)
    engine = QueryEngine(cache_cells=0, serving_directory=tmp_path_factory.mktemp("serving"))
    assert engine.serving is not None
    files = [contacts[0], shuffled, written_by_polars, shootings[0]]
    engine.prepare(files)
    engine.serving.wait()
    for path in files:
        identity = (str(path), path.stat().st_size, path.stat().st_mtime_ns)
        assert engine.serving.table(path, identity) is not None, path
    return engine


@pytest.fixture(scope="module")
def contacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    table = _contacts()
    path = tmp_path_factory.mktemp("release") / "contacts.parquet"
    pq.write_table(table, path, row_group_size=64)
    return path, pl.from_arrow(table)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def shuffled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same rows stored out of ``_row_id`` order."""
    table = _contacts()
    order = list(range(table.num_rows))
    random.Random(7).shuffle(order)
    path = tmp_path_factory.mktemp("release") / "shuffled.parquet"
    pq.write_table(table.take(order), path, row_group_size=64)
    return path


@pytest.fixture(scope="module")
def written_by_polars(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same rows as the publish step writes them: polars stores times in nanoseconds."""
    path = tmp_path_factory.mktemp("release") / "polars.parquet"
    frame = pl.from_arrow(_contacts())
    assert isinstance(frame, pl.DataFrame)
    frame.write_parquet(path, compression="zstd", statistics=True, row_group_size=64)
    assert pq.read_schema(path).field("contact_time").type == pa.time64("ns")
    return path


SHOOTINGS = TableSchema.from_descriptor(
    {
        "fields": [
            {"name": "id", "type": "integer"},
            {"name": "name", "type": "string", "privacy": {"treatment": "drop"}},
            {"name": "date", "type": "date"},
            *({"name": n, "type": "string"} for n in ("manner_of_death", "armed")),
            {"name": "age", "type": "integer"},
            *({"name": n, "type": "string"} for n in ("gender", "race", "city", "state")),
            {"name": "signs_of_mental_illness", "type": "boolean"},
            *({"name": n, "type": "string"} for n in ("threat_level", "flee")),
            {"name": "body_camera", "type": "boolean"},
        ]
    }
)


@pytest.fixture(scope="module")
def shootings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    raw = pl.read_csv(SHOOTINGS_CSV, infer_schema=False)
    frame = raw.drop("name").with_columns(
        pl.col("id").cast(pl.Int64),
        pl.col("date").str.to_date("%Y-%m-%d"),
        pl.col("age").cast(pl.Int64),
        *(pl.col(c) == "True" for c in ("signs_of_mental_illness", "body_camera")),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_row_id"),
    )
    path = tmp_path_factory.mktemp("release") / "shootings.parquet"
    frame.write_parquet(path, row_group_size=1000)
    return path, frame


def all_rows(
    engine: QueryEngine, path: Path, schema: TableSchema, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every row, by following ``_next`` tokens."""
    rows: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page_params = dict(params) | ({"_next": token} if token else {})
        page = engine.rows(path, schema, parse_query(page_params, schema))
        rows += page.rows
        token = page.next
        if token is None:
            return rows


def as_json(frame: pl.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in row.items()} for row in frame.select(columns).to_dicts()]


def _quarter_label(column: str) -> pl.Expr:
    return pl.format("{}-Q{}", pl.col(column).dt.year(), pl.col(column).dt.quarter())


# --- filters and search ----------------------------------------------------------------------

c = pl.col
FILTERS: list[tuple[dict[str, Any], pl.Expr]] = [
    ({"subject_race": ["Black", "Asian"]}, c("subject_race").is_in(["Black", "Asian"])),
    ({"subject_race__ne": "White"}, c("subject_race").ne_missing("White")),
    (
        {"subject_race__ne": ["White", "Black"], "subject_age__ne": "25"},
        c("subject_race").is_in(["White", "Black"]).not_().fill_null(True)
        & c("subject_age").ne_missing(25),
    ),
    (
        {"subject_race__in": "White,Hispanic", "arrested": "yes"},
        c("subject_race").is_in(["White", "Hispanic"]) & c("arrested"),
    ),
    ({"fine_amount__gt": "100"}, c("fine_amount") > 100),
    (
        {"fine_amount__gte": "100.5", "fine_amount__lt": "250.25"},
        (c("fine_amount") >= 100.5) & (c("fine_amount") < 250.25),
    ),
    ({"subject_age__lte": "25"}, c("subject_age") <= 25),
    ({"subject_age__isnull": "true"}, c("subject_age").is_null()),
    (
        {"arrested__isnull": "false", "arrested__ne": "true"},
        c("arrested").is_not_null() & ~c("arrested"),
    ),
    ({"contact_date": "2023-03-05"}, c("contact_date") == date(2023, 3, 5)),
    ({"contact_date__lt": "2023-06-30"}, c("contact_date") < date(2023, 6, 30)),
    ({"reported_at__gte": "2024-01-01T12:00"}, c("reported_at") >= datetime(2024, 1, 1, 12)),
    ({"contact_time__lt": "06:30:00"}, c("contact_time") < time(6, 30)),
    (
        {"narrative__contains": "QUOTED"},
        c("narrative").str.to_lowercase().str.contains("quoted", literal=True),
    ),
    ({"narrative__contains": "%"}, c("narrative").str.contains("%", literal=True)),
    ({"narrative": ""}, c("narrative") == ""),
    (
        {"quarter": ["2023-Q2", "2024-Q1"]},
        _quarter_label("contact_date").is_in(["2023-Q2", "2024-Q1"]),
    ),
    ({"quarter__gte": "2024-Q2"}, c("contact_date") >= date(2024, 4, 1)),
    ({"year__ne": "2023"}, c("contact_date").dt.year().ne_missing(2023)),
    ({"month__lte": "2023-02"}, c("contact_date") < date(2023, 3, 1)),
    (
        {"_q": "c-01 white"},
        c("case_number").str.to_lowercase().str.contains("c-01", literal=True)
        & pl.any_horizontal(
            c(n).str.to_lowercase().str.contains("white", literal=True)
            for n in ("case_number", "subject_race", "narrative")
        ),
    ),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS, ids=[str(p) for p, _ in FILTERS])
def test_filters_match_polars(
    engine: QueryEngine,
    contacts: tuple[Path, pl.DataFrame],
    params: dict[str, Any],
    expected: pl.Expr,
) -> None:
    path, frame = contacts
    page = engine.rows(
        path, CONTACTS, parse_query(params | {"_size": "1000", "_count": "true"}, CONTACTS)
    )
    wanted = frame.filter(expected)
    assert [r["case_number"] for r in page.rows] == wanted["case_number"].to_list()
    assert page.total == wanted.height and page.next is None


def test_rows_are_json_ready_and_hide_the_row_id(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = contacts
    page = engine.rows(path, CONTACTS, parse_query({"_size": "5"}, CONTACTS))
    assert page.rows == as_json(frame.head(5), CONTACTS.field_names)
    assert all("_row_id" not in row for row in page.rows)
    assert page.rows[0]["reported_at"].count("T") == 1 and page.total is None
    narrow = engine.rows(
        path,
        CONTACTS,
        parse_query({"_fields": "fine_amount,case_number", "_sort": "subject_age"}, CONTACTS),
    )
    assert list(narrow.rows[0]) == ["fine_amount", "case_number"]


# --- sort and keyset pages ------------------------------------------------------------------

SORTS = [
    "",
    "subject_race",
    "-fine_amount,contact_date",
    "arrested,-subject_age",
    "-reported_at",
    "contact_time,-subject_race,narrative",
]


@pytest.mark.parametrize("sort", SORTS)
def test_keyset_pages_visit_every_row_once_in_sort_order(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame], sort: str
) -> None:
    path, frame = contacts
    params = {"_size": "7"} | ({"_sort": sort} if sort else {})
    seen = [row["case_number"] for row in all_rows(engine, path, CONTACTS, params)]
    keys = [k for k in sort.split(",") if k]
    expected = frame.sort(
        [k.lstrip("-") for k in keys] + ["_row_id"],
        descending=[k.startswith("-") for k in keys] + [False],
        nulls_last=True,
        maintain_order=True,
    )
    assert seen == expected["case_number"].to_list()
    assert len(set(seen)) == frame.height


def test_keyset_pages_under_a_filter(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = contacts
    params = {"_size": "4", "_sort": "-subject_age,fine_amount", "subject_race__ne": "White"}
    seen = [row["case_number"] for row in all_rows(engine, path, CONTACTS, params)]
    expected = frame.filter(c("subject_race").ne_missing("White")).sort(
        ["subject_age", "fine_amount", "_row_id"], descending=[True, False, False], nulls_last=True
    )
    assert seen == expected["case_number"].to_list()


@pytest.mark.parametrize("ages", ["19,25", "19,25,40,61,99", "19,25,40,61,99,7,8"])
def test_file_order_holds_under_short_and_long_value_lists(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame], ages: str
) -> None:
    """DuckDB runs long IN lists as a join (which may reorder); pages must not notice."""
    path, frame = contacts
    wanted = frame.filter(c("subject_age").is_in([int(a) for a in ages.split(",")]))
    for _ in range(5):
        seen = all_rows(engine, path, CONTACTS, {"_size": "9", "subject_age__in": ages})
        assert [r["case_number"] for r in seen] == wanted["case_number"].to_list()
        text = body(
            exports.stream_csv(
                engine, path, CONTACTS, parse_query({"subject_age__in": ages}, CONTACTS)
            )
        )
        assert [r[0] for r in csv.reader(io.StringIO(text.decode(), newline=""))][1:] == wanted[
            "case_number"
        ].to_list()


def test_rows_of_a_file_stored_out_of_order_come_in_row_id_order(
    engine: QueryEngine, shuffled: Path, contacts: tuple[Path, pl.DataFrame]
) -> None:
    seen = [row["case_number"] for row in all_rows(engine, shuffled, CONTACTS, {"_size": "50"})]
    assert seen == contacts[1]["case_number"].to_list()


# --- facets ------------------------------------------------------------------------------


def polars_facet(frame: pl.DataFrame, expression: pl.Expr) -> list[dict[str, Any]]:
    counted = frame.group_by(expression.alias("value")).len("count")
    ordered = counted.sort(["count", "value"], descending=[True, False], nulls_last=True)
    return [
        {"value": json_value(r["value"]), "count": r["count"]}
        for r in ordered.head(FACET_VALUE_LIMIT).to_dicts()
    ]


def test_facets_match_polars_under_filters(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = contacts
    spec = parse_query(
        {"_facet": ["subject_race", "arrested", "quarter", "subject_age"], "fine_amount__gt": "0"},
        CONTACTS,
    )
    result = engine.facets(path, CONTACTS, spec)
    matched = frame.filter(c("fine_amount") > 0)
    assert result["total"] == matched.height
    assert list(result["facets"]) == ["subject_race", "arrested", "quarter", "subject_age"]
    for name, expression in [
        ("subject_race", c("subject_race")),
        ("arrested", c("arrested")),
        ("quarter", _quarter_label("contact_date")),
        ("subject_age", c("subject_age")),
    ]:
        facet = result["facets"][name]
        assert facet["values"] == polars_facet(matched, expression), name
        assert facet["truncated_values"] == 0 and facet["truncated"] is False
        assert sum(v["count"] for v in facet["values"]) == matched.height
    assert {"value": None, "count": matched["subject_race"].null_count()} in result["facets"][
        "subject_race"
    ]["values"]


def test_a_facet_with_many_values_lists_the_cap_and_says_how_many_it_left_out(
    engine: QueryEngine, shootings: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = shootings
    result = engine.facets(path, SHOOTINGS, parse_query({}, SHOOTINGS), ["city", "race", "flee"])
    city = result["facets"]["city"]
    distinct = frame["city"].n_unique()
    assert distinct > FACET_VALUE_LIMIT
    assert city["values"] == polars_facet(frame, c("city"))
    assert len(city["values"]) == FACET_VALUE_LIMIT
    assert city["distinct"] == distinct and city["truncated_values"] == distinct - FACET_VALUE_LIMIT
    assert city["truncated"] is True
    assert result["facets"]["race"]["values"] == polars_facet(frame, c("race"))
    assert result["facets"]["flee"]["values"] == polars_facet(frame, c("flee"))
    assert result["total"] == frame.height == 5407


def test_facets_of_nothing_are_empty(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, _ = contacts
    spec = parse_query({"subject_age__gt": "500", "_facet": ["subject_race", "year"]}, CONTACTS)
    assert engine.facets(path, CONTACTS, spec) == {
        "facets": {
            name: {"values": [], "distinct": 0, "truncated_values": 0, "truncated": False}
            for name in ("subject_race", "year")
        },
        "total": 0,
    }


# --- aggregates ---------------------------------------------------------------------------


def test_group_by_quarter_and_race_matches_polars(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = contacts
    params = [
        ("_group", "quarter,subject_race"),
        ("_agg", "count"),
        ("_agg", "sum:fine_amount,avg:subject_age"),
        ("_agg", "min:contact_time"),
        ("_agg", "max:reported_at"),
        ("arrested__ne", "true"),
    ]
    result = engine.aggregate(path, CONTACTS, parse_query(params, CONTACTS))
    expected = (
        frame.filter(c("arrested").ne_missing(True))
        .group_by(_quarter_label("contact_date").alias("quarter"), "subject_race")
        .agg(
            pl.len().alias("count"),
            c("fine_amount").sum().alias("sum_fine_amount"),
            c("subject_age").mean().alias("avg_subject_age"),
            c("contact_time").min().alias("min_contact_time"),
            c("reported_at").max().alias("max_reported_at"),
        )
        .sort(["quarter", "subject_race"], nulls_last=True)
    )
    assert result.total_groups == expected.height and result.truncated is False
    for got, want in zip(result.groups, as_json(expected, expected.columns), strict=True):
        assert got == want | {
            "sum_fine_amount": pytest.approx(want["sum_fine_amount"]),
            "avg_subject_age": pytest.approx(want["avg_subject_age"]),
        }


def test_groups_sorted_by_an_aggregate_and_cut_short_say_so(
    engine: QueryEngine, shootings: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = shootings
    spec = parse_query({"_group": "year,race", "_sort": "-count,year", "_size": "5"}, SHOOTINGS)
    result = engine.aggregate(path, SHOOTINGS, spec)
    expected = (
        frame.group_by(c("date").dt.year().alias("year"), "race")
        .len("count")
        .sort(["count", "year", "race"], descending=[True, False, False], nulls_last=True)
    )
    assert result.groups == expected.head(5).to_dicts()
    assert result.total_groups == expected.height and result.truncated is True


def test_an_aggregate_without_groups_is_one_row(
    engine: QueryEngine, shootings: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = shootings
    spec = parse_query({"_agg": ["count", "avg:age", "min:date"], "race": "B"}, SHOOTINGS)
    result = engine.aggregate(path, SHOOTINGS, spec)
    black = frame.filter(c("race") == "B")
    assert result.groups == [
        {
            "count": black.height,
            "avg_age": pytest.approx(black["age"].mean()),
            "min_date": json_value(black["date"].min()),
        }
    ]


def test_real_file_pages_counts_and_search(
    engine: QueryEngine, shootings: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = shootings
    seen = [
        r["id"] for r in all_rows(engine, path, SHOOTINGS, {"_sort": "-age,state", "_size": "1000"})
    ]
    assert (
        seen
        == frame.sort(
            ["age", "state", "_row_id"], descending=[True, False, False], nulls_last=True
        )["id"].to_list()
    )
    knife = engine.count(path, SHOOTINGS, parse_query({"_q": "KNIFE", "state": "TX"}, SHOOTINGS))
    strings = [n for n, t in frame.schema.items() if t == pl.String]
    expected = frame.filter(
        (c("state") == "TX")
        & pl.any_horizontal(
            c(n).str.to_lowercase().str.contains("knife", literal=True) for n in strings
        )
    )
    assert knife == expected.height > 0


def test_a_file_written_by_polars_answers_the_same(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame], written_by_polars: Path
) -> None:
    path, _ = contacts
    queries = [
        {"contact_time__lt": "06:30", "_sort": "-contact_time,reported_at", "_size": "1000"},
        {"contact_time": "10:30:00.0005", "_count": "true"},
        {"_group": "quarter", "_agg": ["min:contact_time", "max:reported_at"]},
    ]
    for params in queries:
        spec = parse_query(params, CONTACTS)
        if spec.is_aggregate:
            assert engine.aggregate(written_by_polars, CONTACTS, spec) == engine.aggregate(
                path, CONTACTS, spec
            )
        else:
            assert engine.rows(written_by_polars, CONTACTS, spec) == engine.rows(
                path, CONTACTS, spec
            )
    walk = {"_sort": "contact_time", "_size": "11"}
    assert all_rows(engine, written_by_polars, CONTACTS, walk) == all_rows(
        engine, path, CONTACTS, walk
    )
    facet = parse_query({"_facet": "contact_time"}, CONTACTS)
    assert engine.facets(written_by_polars, CONTACTS, facet) == engine.facets(path, CONTACTS, facet)
    for export in (exports.stream_csv, exports.stream_ndjson):
        assert body(export(engine, written_by_polars, CONTACTS, facet)) == body(
            export(engine, path, CONTACTS, facet)
        )


# --- names, cache ---------------------------------------------------------------------------


def test_odd_column_names_are_quoted_not_run(engine: QueryEngine, tmp_path: Path) -> None:
    names = ["GO / SC Num", 'say "hi"', "x'); DROP TABLE t; --", "Officer, ID"]
    schema = TableSchema.from_descriptor({"fields": [{"name": n} for n in names]})
    path = tmp_path / "odd.parquet"
    values = [["b", "a", "a"], ["1", "2", "3"], ["p", "q", "r"], ["7", "8", "9"]]
    columns = {n: v for n, v in zip(names, values, strict=True)} | {"_row_id": [1, 2, 3]}
    pq.write_table(pa.table(columns), path)
    spec = parse_query({names[0]: "a", "_sort": f"-{names[1]}", "_facet": names[2]}, schema)
    assert [r[names[3]] for r in engine.rows(path, schema, spec).rows] == ["9", "8"]
    assert engine.facets(path, schema, spec)["facets"][names[2]]["values"] == [
        {"value": "q", "count": 1},
        {"value": "r", "count": 1},
    ]
    grouped = parse_query({"_group": names[0], "_agg": f"max:{names[1]}"}, schema)
    assert engine.aggregate(path, schema, grouped).groups == [
        {names[0]: "a", f"max_{names[1]}": "3"},
        {names[0]: "b", f"max_{names[1]}": "1"},
    ]
    lines = body(exports.stream_ndjson(engine, path, schema, parse_query({}, schema))).splitlines()
    assert json.loads(lines[0]) == {n: v[0] for n, v in zip(names, values, strict=True)}


def test_cached_results_are_not_shared(contacts: tuple[Path, pl.DataFrame]) -> None:
    path, _ = contacts
    cached = QueryEngine(cache_cells=100_000)
    spec = parse_query({"_size": "3", "_facet": "subject_race"}, CONTACTS)
    first = cached.rows(path, CONTACTS, spec)
    first.rows[0]["case_number"] = "changed"
    again = cached.rows(path, CONTACTS, spec)
    assert again.rows[0]["case_number"] == "C-0000" and again.next == first.next
    facets = cached.facets(path, CONTACTS, spec)
    facets["facets"]["subject_race"]["values"].clear()
    assert cached.facets(path, CONTACTS, spec)["facets"]["subject_race"]["values"]


def test_the_result_cache_keeps_within_its_memory(contacts: tuple[Path, pl.DataFrame]) -> None:
    """Distinct pages fill the cache up to its bytes, not its cells; the estimate from a
    sample of rows is the fetched rows' real size (the 2,000,000 cells of the default were
    130 MiB of a web process on the benchmark's rows)."""
    path, _ = contacts
    budget = 200_000
    engine = QueryEngine(cache_cells=10_000_000, cache_bytes=budget)
    for n in range(60):
        engine.rows(path, CONTACTS, parse_query({"_size": "40", "fine_amount__ne": str(-n)}, CONTACTS))
    cells, held = engine._cache.held
    assert 0 < held <= budget and cells < 10_000_000
    entries = list(engine._cache._entries.values())
    assert 2 < len(entries) < 60
    real = sum(
        sys.getsizeof(rows) + sum(sys.getsizeof(r) + sum(map(sys.getsizeof, r)) for r in rows)
        for rows, _, _ in entries
    )
    assert 0.8 < held / real < 1.25


def test_a_result_computed_twice_at_once_is_counted_once() -> None:
    from threading import Barrier

    from openblotter.storage.engine import _ResultCache

    cache = _ResultCache(max_cells=1000, max_bytes=10**6)
    both = Barrier(2)

    def compute() -> list[tuple[int, str]]:
        both.wait(timeout=10)  # the two threads missed the cache before either stored
        return [(1, "a"), (2, "b")]

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: cache.get_or_compute("k", len, compute), range(2)))
    assert answers[0] == answers[1] and len(cache._entries) == 1
    assert cache.held[0] == 2


def test_threads_share_one_engine(contacts: tuple[Path, pl.DataFrame]) -> None:
    path, _ = contacts
    shared = QueryEngine(cache_cells=0, export_concurrency=6)
    specs = [
        parse_query({"_sort": "-fine_amount", "_size": "50"}, CONTACTS),
        parse_query({"subject_race": "White", "_count": "true"}, CONTACTS),
        parse_query({"_group": "quarter,arrested"}, CONTACTS),
    ]

    def answers() -> list[Any]:
        return [
            shared.rows(path, CONTACTS, specs[0]),
            shared.rows(path, CONTACTS, specs[1]).total,
            shared.aggregate(path, CONTACTS, specs[2]),
            body(exports.stream_csv(shared, path, CONTACTS, specs[1])),
        ]

    expected = answers()
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: answers(), range(24)))
    assert all(result == expected for result in results)


# --- exports -------------------------------------------------------------------------------


def body(chunks: Any) -> bytes:
    return b"".join(chunks)


def test_csv_export_has_every_row_and_inert_formulas(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = contacts
    text = body(exports.stream_csv(engine, path, CONTACTS, parse_query({}, CONTACTS))).decode()
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records[0] == CONTACTS.field_names
    assert [r[0] for r in records[1:]] == frame["case_number"].to_list()
    narratives = [r[-1] for r in records[1:]]
    for original, written in zip(frame["narrative"].to_list(), narratives, strict=True):
        if original and original[0] in "=+-@\t\r":
            assert written == "'" + original
        else:
            assert written == (original or "")
    as_text = [
        [str(v) if v is not None else "" for v in row]
        for row in frame.select("contact_date", "contact_time", "reported_at").rows()
    ]
    assert [r[1:4] for r in records[1:]] == as_text  # Python's str(): 13:45:00.000500


def test_ndjson_export_lines_equal_the_rows_api(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, _ = contacts
    params = {
        "_sort": "-fine_amount",
        "subject_race__ne": "Asian",
        "_fields": "case_number,contact_time,reported_at,fine_amount,arrested,narrative",
    }
    lines = (
        body(exports.stream_ndjson(engine, path, CONTACTS, parse_query(params, CONTACTS)))
        .decode()
        .splitlines()
    )
    assert [json.loads(line) for line in lines] == all_rows(
        engine, path, CONTACTS, params | {"_size": "1000"}
    )


def test_ndjson_writes_nan_as_null(engine: QueryEngine, tmp_path: Path) -> None:
    schema = TableSchema.from_descriptor({"fields": [{"name": "x", "type": "number"}]})
    path = tmp_path / "nan.parquet"
    pq.write_table(
        pa.table({"x": [1.5, float("nan"), float("inf"), None], "_row_id": [1, 2, 3, 4]}), path
    )
    lines = (
        body(exports.stream_ndjson(engine, path, schema, parse_query({}, schema)))
        .decode()
        .splitlines()
    )
    assert [json.loads(line) for line in lines] == [
        {"x": 1.5},
        {"x": None},
        {"x": None},
        {"x": None},
    ]


def test_parquet_export_round_trips_without_the_row_id(
    engine: QueryEngine, shuffled: Path, contacts: tuple[Path, pl.DataFrame]
) -> None:
    table = pq.read_table(
        io.BytesIO(
            body(exports.stream_parquet(engine, shuffled, CONTACTS, parse_query({}, CONTACTS)))
        )
    )
    assert table.column_names == CONTACTS.field_names
    assert table.equals(_contacts().drop(["_row_id"]))


def test_xlsx_export_keeps_text_as_text(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = contacts
    spec = parse_query(
        {"_fields": "case_number,contact_date,reported_at,fine_amount,arrested,narrative"}, CONTACTS
    )
    workbook = openpyxl.load_workbook(
        io.BytesIO(body(exports.write_xlsx(engine, path, CONTACTS, spec))), read_only=True
    )
    rows = list(workbook.active.iter_rows(values_only=True))
    assert list(rows[0]) == list(spec.fields or ())
    assert len(rows) == frame.height + 1
    first = frame.row(0, named=True)
    assert rows[1][:5] == (
        "C-0000",
        datetime.combine(first["contact_date"], time()),
        first["reported_at"],
        first["fine_amount"],
        first["arrested"],
    )
    formulas = [r[5] for r in rows[1:] if isinstance(r[5], str) and r[5][:1] in ("=", "+", "@")]
    assert formulas and all(value in FORMULAS for value in formulas)


def test_xlsx_over_the_sheet_limit_is_refused_before_writing(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, frame = contacts
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", frame.height - 1)
    with pytest.raises(TooLarge) as caught:
        exports.write_xlsx(engine, path, CONTACTS, parse_query({}, CONTACTS))
    assert caught.value.detail["rows"] == frame.height
    assert body(
        exports.write_xlsx(engine, path, CONTACTS, parse_query({"arrested": "true"}, CONTACTS))
    )


def test_an_export_with_no_rows_is_a_header(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, _ = contacts
    spec = parse_query({"subject_age__gt": "1000", "_fields": "case_number,subject_age"}, CONTACTS)
    assert (
        body(exports.stream_csv(engine, path, CONTACTS, spec)) == b'"case_number","subject_age"\n'
    )
    assert body(exports.stream_ndjson(engine, path, CONTACTS, spec)) == b""


# --- property: only our own errors, whatever the parameters ------------------------------------

_NAMES = [*CONTACTS.field_names, "quarter", "year", "month", "zzz"]
_PARAMS = st.lists(
    st.tuples(
        st.one_of(
            st.sampled_from(_NAMES),
            st.builds("{}__{}".format, st.sampled_from(_NAMES), st.sampled_from(SUFFIX_OPERATORS)),
            st.sampled_from(["_q", "_sort", "_size", "_facet", "_group", "_agg", "_count"]),
        ),
        st.one_of(
            st.sampled_from(
                [
                    "White",
                    "2023-05-01",
                    "2024-Q1",
                    "2023",
                    "10:00",
                    "2023-06-01T10:00",
                    "25",
                    "100.5",
                    "true",
                    "-fine_amount",
                    "subject_race",
                    "quarter,arrested",
                    "sum:fine_amount",
                    "max:narrative",
                    "min:arrested",
                    "max:contact_time",
                    "avg:subject_age",
                    "C-01,C-02",
                    "1000",
                    "'; DROP TABLE x; --",
                    '"',
                    "%_",
                ]
            ),
            st.text(max_size=10),
        ),
    ),
    max_size=6,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_PARAMS)
def test_any_parameters_run_or_fail_with_our_errors(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame], params: list[tuple[str, str]]
) -> None:
    path, _ = contacts
    try:
        spec = parse_query(params, CONTACTS)
        if spec.is_aggregate:
            engine.aggregate(path, CONTACTS, spec)
        else:
            engine.rows(path, CONTACTS, spec)
            engine.facets(path, CONTACTS, spec, ["subject_race", "quarter"])
    except OpenBlotterError:
        pass


# --- memory -----------------------------------------------------------------------------


def _million_row_release(path: Path, rows: int = 1_000_000) -> None:
    rng = np.random.default_rng(1)
    races = np.array(["White", "Black", "Hispanic", "Asian", "=cmd|' /C calc'!A0"])
    table = pa.table(
        {
            "case_number": pa.array(np.char.add("C-", np.arange(rows).astype(str))),
            "contact_date": pa.array(
                np.datetime64("2016-01-01") + np.sort(rng.integers(0, 3650, rows)), pa.date32()
            ),
            "subject_race": pa.array(races[rng.integers(0, 5, rows)]),
            "fine_amount": rng.gamma(2, 80, rows),
            "_row_id": np.arange(1, rows + 1),
        }
    )
    pq.write_table(table, path, row_group_size=65_536)


def test_downloads_are_handed_over_in_pieces_not_batches(tmp_path: Path) -> None:
    """A batch of 16,384 rows is megabytes of CSV or JSON lines; the server is handed it
    in pieces of about 256 KiB (JSON lines: views of whole lines, not copies)."""
    path = tmp_path / "release.parquet"
    _million_row_release(path, rows=60_000)
    schema = TableSchema.from_descriptor(
        {"fields": [{"name": "case_number"}, {"name": "contact_date", "type": "date"},
                    {"name": "subject_race"}, {"name": "fine_amount", "type": "number"}]}
    )  # fmt: skip
    engine = QueryEngine(cache_cells=0)
    for name in ("csv", "ndjson", "parquet", "xlsx"):
        spec = parse_query({}, schema)
        pieces = list(exports.EXPORTS[name](engine, path, schema, spec))
        sizes = [len(piece) for piece in pieces]
        assert sum(sizes) > 2 * exports.BATCH_ROWS * 20, name  # batches of megabytes
        # A piece closes at the first part (a writer's write, or a line) that reaches the size.
        assert max(sizes) < exports.PIECE_BYTES + 64 * 1024, (name, max(sizes))
        if name == "ndjson":
            assert all(isinstance(piece, memoryview) for piece in pieces)
            assert all(bytes(piece[-1:]) == b"\n" for piece in pieces)
            assert len(b"".join(pieces).splitlines()) == 60_000


def test_json_line_pieces_keep_every_line_whole() -> None:
    long = "x" * (exports.PIECE_BYTES + 10) + "\n"
    lines = pa.array([f"{i}\n" for i in range(100_000)] + [long, "end\n"])
    for array in (lines, lines.slice(3, 99_998)):  # a slice starts inside the buffer
        pieces = list(exports._line_pieces(array))
        assert b"".join(pieces) == "".join(array.to_pylist()).encode()
        assert all(bytes(piece).endswith(b"\n") for piece in pieces)
    # A piece ends at the first line end past its size: longer by less than one line.
    assert max(len(p) for p in exports._line_pieces(lines)) < exports.PIECE_BYTES + len(long)
    with_null = pa.array(["a\n", None, "b\n"])
    assert b"".join(exports._line_pieces(with_null)) == b"a\nb\n"


# Peak memory is the process's VmHWM: unlike ru_maxrss, it is not inherited from the parent
# across fork and exec (the parent holds the generated million rows).
_EXPORT = """
import sys
from pathlib import Path
from openblotter.domain.query.parse import parse_query
from openblotter.domain.schema import TableSchema
from openblotter.storage import exports
from openblotter.storage.engine import QueryEngine
schema = TableSchema.from_descriptor({"fields": [
    {"name": "case_number"}, {"name": "contact_date", "type": "date"},
    {"name": "subject_race"}, {"name": "fine_amount", "type": "number"}]})
spec = parse_query({}, schema)
chunks = exports.EXPORTS[sys.argv[2]](QueryEngine(), Path(sys.argv[1]), schema, spec)
written = sum(len(chunk) for chunk in chunks)
status = Path("/proc/self/status").read_text()
print(written, int(status.split("VmHWM:")[1].split()[0]) // 1024)
"""


@pytest.mark.slow
def test_million_row_exports_stay_small(tmp_path: Path) -> None:
    path = tmp_path / "million.parquet"
    _million_row_release(path)
    for name in ("csv", "ndjson", "parquet"):
        done = subprocess.run(
            [sys.executable, "-c", _EXPORT, str(path), name],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        written, peak_mb = (int(x) for x in done.stdout.split())
        assert written > 10_000_000, name
        assert peak_mb < 300, f"{name}: peak RSS {peak_mb} MB"


# --- what the doors build in code: offsets, boolean expressions, having, transforms -----------

OFFSET_SORTS = [(), (SortKey("subject_race"),), (SortKey("fine_amount", True), SortKey("arrested"))]


def _sorted(frame: pl.DataFrame, sort: tuple[SortKey, ...]) -> list[str]:
    ordered = frame.sort(
        [k.column for k in sort] + ["_row_id"],
        descending=[k.descending for k in sort] + [False],
        nulls_last=True,
        maintain_order=True,
    )
    return ordered["case_number"].to_list()


@pytest.mark.parametrize("sort", OFFSET_SORTS, ids=str)
def test_offset_pages_walk_every_row_once_in_sort_then_row_id_order(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame], shuffled: Path, sort: Any
) -> None:
    path, frame = contacts
    for release in (path, shuffled):
        walked: list[str] = []
        for offset in range(0, frame.height + 37, 37):
            spec = QuerySpec(sort=sort, size=37, offset=offset, fields=("case_number",))
            walked += [r["case_number"] for r in engine.rows(release, CONTACTS, spec).rows]
        assert walked == _sorted(frame, sort)


@pytest.mark.parametrize("sort", OFFSET_SORTS, ids=str)
def test_streamed_rows_take_an_offset_and_a_limit(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame], sort: Any
) -> None:
    path, frame = contacts

    def streamed(offset: int, limit: int | None) -> list[str]:
        spec = QuerySpec(sort=sort, offset=offset, limit=limit, fields=("case_number",))
        batches = engine.batches(path, CONTACTS, spec, batch_rows=16, download=False)
        return [n for b in batches for n in b.column("case_number").to_pylist()]

    expected = _sorted(frame, sort)
    assert streamed(25, 100) == expected[25:125]
    assert streamed(200, None) == expected[200:]
    assert streamed(0, 0) == [] and streamed(frame.height, 10) == []


def test_groups_take_an_offset_with_the_total_still_counted(
    engine: QueryEngine, shootings: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = shootings
    group = (GroupKey("race", "race"), GroupKey("state", "state"))
    whole = engine.aggregate(
        path, SHOOTINGS, QuerySpec(group=group, aggregates=(Aggregate("count"),))
    )
    pages = []
    for offset in range(0, whole.total_groups, 50):
        spec = QuerySpec(
            group=group, aggregates=(Aggregate("count"),), size=50, size_given=True, offset=offset
        )
        page = engine.aggregate(path, SHOOTINGS, spec)
        assert page.total_groups == whole.total_groups
        assert page.truncated == (offset + 50 < whole.total_groups)
        pages += page.groups
    assert pages == whole.groups
    assert whole.total_groups == frame.select("race", "state").unique().height


ATOMS: list[tuple[Filter, pl.Expr]] = [
    (Filter("subject_race", "eq", ("Black",)), c("subject_race") == "Black"),
    (
        Filter("subject_race", "in", ("White", "Asian")),
        (c("subject_race") == "White") | (c("subject_race") == "Asian"),
    ),
    (Filter("subject_age", "gt", (25,)), c("subject_age") > 25),
    (Filter("fine_amount", "lte", (100.5,)), c("fine_amount") <= 100.5),
    (Filter("arrested", "eq", (True,)), c("arrested") == True),  # noqa: E712 (a polars expression)
    (Filter("subject_age", "isnull", (True,)), c("subject_age").is_null()),
    (Filter("fine_amount", "isnull", (False,)), c("fine_amount").is_not_null()),
    (
        Filter("narrative", "contains", ("text",)),
        c("narrative").str.to_lowercase().str.contains("text", literal=True),
    ),
    (Filter("case_number", "like", ("C-00%",)), c("case_number").str.starts_with("C-00")),
    (Filter("narrative", "like", ("%_quoted%",)), c("narrative").str.contains(r".quoted")),
    (Filter("contact_date", "lt", (date(2023, 9, 1),)), c("contact_date") < date(2023, 9, 1)),
    (
        Filter("subject_race", "eq", ("WHITE",), transform="upper"),
        c("subject_race").str.to_uppercase() == "WHITE",
    ),
    (
        Filter("reported_at", "gte", (datetime(2024, 3, 1),), transform="date_trunc_ym"),
        c("reported_at").dt.truncate("1mo") >= datetime(2024, 3, 1),
    ),
    (
        Filter("contact_date", "eq", ((date(2024, 1, 1), date(2024, 4, 1)),), part="quarter"),
        (c("contact_date") >= date(2024, 1, 1)) & (c("contact_date") < date(2024, 4, 1)),
    ),
]


def _and(items: list[tuple[Expr, pl.Expr]]) -> tuple[Expr, pl.Expr]:
    joined = pl.lit(True)
    for _, expression in items:
        joined = joined & expression
    return And(tuple(i for i, _ in items)), joined


def _or(items: list[tuple[Expr, pl.Expr]]) -> tuple[Expr, pl.Expr]:
    joined = pl.lit(False)
    for _, expression in items:
        joined = joined | expression
    return Or(tuple(i for i, _ in items)), joined


EXPRESSIONS = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(_and),
        st.lists(inner, max_size=3).map(_or),
        inner.map(lambda pair: (Not(pair[0]), ~pair[1])),
    ),
    max_leaves=8,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(EXPRESSIONS)
def test_boolean_expressions_match_polars_three_valued_logic(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame], pair: tuple[Expr, pl.Expr]
) -> None:
    """AND/OR/NOT as SQL has them: a condition on a null is neither true nor false."""
    path, frame = contacts
    where, expected = pair
    spec = QuerySpec(where=where, size=1000, count=True, fields=("case_number",))
    page = engine.rows(path, CONTACTS, spec)
    wanted = frame.filter(expected)["case_number"].to_list()
    assert [r["case_number"] for r in page.rows] == wanted and page.total == len(wanted)


def test_not_equal_in_an_expression_leaves_out_nulls_unlike_the_native_ne(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = contacts
    door = QuerySpec(where=Not(Filter("subject_race", "eq", ("White",))), count=True)
    native = parse_query({"subject_race__ne": "White", "_count": "true"}, CONTACTS)
    nulls = frame.filter(c("subject_race").is_null()).height
    assert nulls > 0
    door_total = engine.rows(path, CONTACTS, door).total
    assert door_total == frame.filter(c("subject_race") != "White").height
    assert engine.rows(path, CONTACTS, native).total == door_total + nulls


def test_long_value_lists_inside_an_expression_keep_row_id_order(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame], shuffled: Path
) -> None:
    path, frame = contacts
    ages = (19, 25, 40, 61, 99, 7)
    where = Or((Filter("subject_age", "in", ages), Filter("subject_race", "isnull", (True,))))
    wanted = frame.filter(c("subject_age").is_in(ages) | c("subject_race").is_null())
    for release in (path, shuffled):
        spec = QuerySpec(where=where, size=1000, fields=("case_number",))
        seen = [r["case_number"] for r in engine.rows(release, CONTACTS, spec).rows]
        assert seen == wanted["case_number"].to_list()


def test_having_aliases_and_truncated_dates_match_polars(
    engine: QueryEngine, contacts: tuple[Path, pl.DataFrame]
) -> None:
    path, frame = contacts
    spec = QuerySpec(
        where=Not(Filter("subject_race", "eq", ("White",))),
        group=(
            GroupKey("month", "contact_date", transform="date_trunc_ym"),
            GroupKey("race", "subject_race", transform="upper"),
        ),
        aggregates=(Aggregate("count", alias="n"), Aggregate("max", "subject_age", alias="oldest")),
        having=Or((Filter("n", "gte", (3,)), Filter("oldest", "isnull", (True,)))),
        sort=(SortKey("n", True),),
        offset=4,
        size=10,
        size_given=True,
    )
    result = engine.aggregate(path, CONTACTS, spec)
    grouped = (
        frame.filter(c("subject_race") != "White")
        .group_by(
            c("contact_date").dt.truncate("1mo").cast(pl.Datetime("us")).alias("month"),
            c("subject_race").str.to_uppercase().alias("race"),
        )
        .agg(pl.len().alias("n"), c("subject_age").max().alias("oldest"))
        .filter((c("n") >= 3) | c("oldest").is_null())
        .sort(["n", "month", "race"], descending=[True, False, False], nulls_last=True)
    )
    assert result.total_groups == grouped.height > 14
    assert result.groups == as_json(grouped.slice(4, 10), ["month", "race", "n", "oldest"])
    assert result.groups[0]["month"].endswith("-01T00:00:00")
