"""Serving copies (storage/serving.py): a DuckDB table per release file, read by queries.

The copy is derived data: the answers must be the same with it, without it, while it is
built, when it is stale or damaged, and when another process is building it. The file
is the Washington Post's real fatal police shootings (messy: blank races and ages), and
Dallas's real 2016 use of force published through the portal.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient

from openblotter.domain.query.parse import parse_query
from openblotter.domain.schema import TableSchema
from openblotter.services.purge import purge
from openblotter.services.warmup import prepare_serving_copies
from openblotter.storage import serving
from openblotter.storage.engine import QueryEngine
from openblotter.storage.serving import RECHECK_SECONDS
from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import make_portal, make_settings, publish_dallas

SHOOTINGS_CSV = REAL_DATA / "national" / "fatal-police-shootings-data_wapo_2021snapshot.csv"
SCHEMA = TableSchema.from_descriptor(
    {
        "fields": [
            {"name": "id", "type": "integer"},
            {"name": "date", "type": "date"},
            {"name": "age", "type": "integer"},
            *({"name": n, "type": "string"} for n in ("race", "gender", "state", "flee")),
        ]
    }
)


def write_shootings(path: Path, rows: int | None = None) -> Path:
    frame = pl.read_csv(SHOOTINGS_CSV, infer_schema=False).select(
        pl.col("id").cast(pl.Int64),
        pl.col("date").str.to_date("%Y-%m-%d"),
        pl.col("age").cast(pl.Int64),
        "race",
        "gender",
        "state",
        "flee",
    )
    frame = frame.head(rows) if rows else frame
    frame = frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_row_id"))
    frame.write_parquet(path, row_group_size=500)
    return path


def identity(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_size, stat.st_mtime_ns


def answers(engine: QueryEngine, path: Path) -> dict[str, Any]:
    """Pages, a count, facets and a group-by, under filters and a sort."""
    spec = parse_query({"race": "B", "_size": "50"}, SCHEMA)
    page = engine.rows(path, SCHEMA, spec)
    following = parse_query({"race": "B", "_size": "50", "_next": page.next or ""}, SCHEMA)
    sorted_spec = parse_query({"age__gte": "60", "_sort": "-age", "_size": "20"}, SCHEMA)
    group = parse_query({"_group": "race,gender", "_agg": "count,avg:age"}, SCHEMA)
    return {
        "page": page.rows,
        "next": engine.rows(path, SCHEMA, following).rows,
        "count": engine.count(path, SCHEMA, parse_query({"age__lt": "21"}, SCHEMA)),
        "facets": engine.facets(path, SCHEMA, spec, ["state", "flee"]),
        "sorted": engine.rows(path, SCHEMA, sorted_spec).rows,
        "groups": engine.aggregate(path, SCHEMA, group).groups,
    }


def test_the_first_queries_read_the_parquet_then_the_copy_answers_the_same(
    tmp_path: Path,
) -> None:
    (tmp_path / "release").mkdir()
    path = write_shootings(tmp_path / "release" / "2021-Q1.parquet")
    engine = QueryEngine(cache_cells=0, serving_directory=tmp_path / "serving")
    assert engine.serving is not None
    copy = engine.serving.copy_path(path)
    first = answers(engine, path)  # asks for the copy; read from the Parquet meanwhile
    engine.serving.wait()
    assert copy.exists()
    assert copy.stat().st_mode & 0o777 == 0o600  # the release's rows: the portal's user only
    assert engine.serving.table(path, identity(path)) is not None
    assert answers(engine, path) == first
    plain = QueryEngine(cache_cells=0)
    assert answers(plain, path) == first
    assert first["count"] > 0 and first["next"] and first["sorted"][0]["age"] >= 60


@pytest.fixture
def release(tmp_path: Path) -> Path:
    (tmp_path / "release").mkdir()
    return write_shootings(tmp_path / "release" / "2021-Q1.parquet")


def built(release: Path, serving: Path) -> Path:
    engine = QueryEngine(cache_cells=0, serving_directory=serving)
    assert engine.serving is not None
    engine.prepare([release])
    engine.serving.wait()
    copy = engine.serving.copy_path(release)
    assert copy.exists()
    engine.close()
    return copy


def test_a_copy_of_an_earlier_version_of_the_file_is_not_read(
    release: Path, tmp_path: Path
) -> None:
    copy = built(release, tmp_path / "serving")
    write_shootings(release, rows=300)  # the same path, other rows (a repaired file)
    engine = QueryEngine(cache_cells=0, serving_directory=tmp_path / "serving")
    assert engine.serving is not None
    whole = parse_query({}, SCHEMA)
    assert engine.count(release, SCHEMA, whole) == 300
    assert engine.serving.table(release, identity(release)) is None
    engine.serving.wait()
    assert engine.serving.table(release, identity(release)) is not None
    assert engine.count(release, SCHEMA, whole) == 300
    assert copy.exists()


def test_a_damaged_copy_is_built_again(release: Path, tmp_path: Path) -> None:
    copy = built(release, tmp_path / "serving")
    expected = answers(QueryEngine(cache_cells=0), release)
    copy.write_bytes(b"not a DuckDB file" * 100)
    engine = QueryEngine(cache_cells=0, serving_directory=tmp_path / "serving")
    assert engine.serving is not None
    assert answers(engine, release) == expected
    engine.serving.wait()
    assert engine.serving.table(release, identity(release)) is not None
    assert answers(engine, release) == expected


def test_while_another_process_builds_the_copy_queries_read_the_parquet(
    release: Path, tmp_path: Path
) -> None:
    engine = QueryEngine(cache_cells=0, serving_directory=tmp_path / "serving")
    assert engine.serving is not None
    copy = engine.serving.copy_path(release)
    copy.parent.mkdir(parents=True)
    expected = answers(QueryEngine(cache_cells=0), release)
    with open(copy.with_name(copy.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as another web process holds it while it builds
        assert answers(engine, release) == expected
        engine.serving.wait()
        assert not copy.exists()
    time.sleep(RECHECK_SECONDS)
    assert answers(engine, release) == expected  # looks again: builds it now
    engine.serving.wait()
    assert copy.exists()
    assert engine.serving.table(release, identity(release)) is not None


def test_the_portal_keeps_copies_in_its_data_directory_and_the_api_answers_the_same(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    publish_dallas(make_portal(data), tmp_path, residents=False)
    asked = [
        "/api/v1/datasets/use_of_force/rows?_size=7&_count=true",
        "/api/v1/datasets/use_of_force/rows?_sort=-subject_race&_size=5",
        "/api/v1/datasets/use_of_force/facets?_facet=subject_race",
        "/api/v1/datasets/use_of_force/aggregate?_group=subject_race&_agg=count",
    ]
    with TestClient(create_app(make_settings(data, query_cache_cells=0))) as client:
        before = [client.get(url).json() for url in asked]
        engine = client.app.state.portal.query_engine()  # type: ignore[attr-defined]
        engine.serving.wait()
        copies = list((data / ".serving").glob("*.duckdb"))
        assert len(copies) == 1
        after = [client.get(url).json() for url in asked]
    assert after == before
    assert all("error" not in body for body in before), before
    assert len(before[0]["rows"]) == 7 and before[0]["total"] > 7

    off = tmp_path / "off"
    publish_dallas(make_portal(off), tmp_path, residents=False)
    settings = make_settings(off, query_serving_copies=False)
    with TestClient(create_app(settings)) as client:
        assert [client.get(url).json() for url in asked] == before
        assert client.app.state.portal.query_engine().serving is None  # type: ignore[attr-defined]
    assert not (off / ".serving").exists()


def _open_copies(directory: Path, dataset: str = "use_of_force") -> list[str]:
    """The copies of a dataset this process holds open (a deleted one's blocks stay on disk)."""
    held = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(directory / f"{dataset}--")) and ".duckdb" in target:
            held.append(target)
    return held


def test_a_purge_deletes_the_copy_and_a_running_server_lets_it_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    portal = make_portal(data)
    publish_dallas(portal, tmp_path)
    url = "/api/v1/datasets/use_of_force/rows?_size=3"
    other = "/api/v1/datasets/community_demographics/rows?_size=3"
    with TestClient(create_app(make_settings(data, query_cache_cells=0))) as client:
        assert client.get(url).status_code == 200
        engine = client.app.state.portal.query_engine()  # type: ignore[attr-defined]
        engine.serving.wait()
        assert client.get(url).status_code == 200  # now from the copy
        copies = data / ".serving"
        purged = [p for p in copies.glob("*.duckdb") if p.name.startswith("use_of_force--")]
        assert len(purged) == 1 and set(_open_copies(copies)) == {str(purged[0])}

        result = purge(portal, "use_of_force", "2016-Q4", reason="a name was published")
        assert result.files_deleted
        assert not list(copies.glob("use_of_force--*"))  # the copy and its lock file

        monkeypatch.setattr(serving, "SWEEP_SECONDS", 0.0)
        assert client.get(url).status_code == 404  # no release left to answer
        assert client.get(other).status_code == 200  # any query looks over the copies
        assert _open_copies(copies) == []


def test_a_server_starts_when_a_current_release_file_is_missing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    publish_dallas(make_portal(data), tmp_path)
    missing = next((data / "releases" / "use_of_force").glob("*.parquet"))
    missing.unlink()
    portal = make_portal(data)
    prepare_serving_copies(portal)  # what `serve` does before it answers
    engine = portal.query_engine()
    assert engine.serving is not None
    engine.serving.wait()
    copies = sorted(p.name for p in (data / ".serving").glob("*.duckdb"))
    assert [name.split("--")[0] for name in copies] == ["community_demographics"]
    with TestClient(create_app(make_settings(data))) as client:
        answer = client.get("/api/v1/datasets/use_of_force/rows")
    assert answer.status_code == 404
    assert "missing from the data directory" in answer.json()["error"]["message"]
