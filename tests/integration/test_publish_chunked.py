"""A large CSV is published chunk by chunk (issue 15, item 3): the same release, the same
report, row for row, as reading it whole; and memory that does not grow with the rows."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openblotter.ingest import infer_batches
from openblotter.ingest.read import csv_batches
from openblotter.services.publishing import PublishRequest, PublishResult, publish
from tests.conftest import REAL_DATA
from tests.factories import make_portal, publish_file, write_csv

REAL_FILES = [
    "rhode_island/police.csv",  # a short last row
    "dallas/37-00049_UOF-P_2016_prepped.csv",  # a second header row
    "louisville/2015list.csv",  # a blank row
    "seattle/Terry_Stops.csv",
    "oakland/ca_oakland_2020_04_01_SHORT.csv",
]


def _publish(tmp: Path, path: Path, chunked: bool, **options: Any) -> tuple[PublishResult, Any]:
    portal = make_portal(tmp, publish_chunked_min_bytes=0 if chunked else 10**12)
    options.setdefault("accept_privacy", True)
    result = publish(portal, PublishRequest(path=path, dataset_id="d", label="2026-Q3", **options))
    frame = pl.read_parquet(portal.release_path(result.release)) if result.release else None
    return result, frame


def _report(result: PublishResult) -> dict[str, Any]:
    report = json.loads(json.dumps(result.report.to_dict(), default=str))
    report["facts"].pop("read_in_chunks", None)
    return report


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_file_in_small_chunks_is_the_same_release_and_report(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_batches, "CHUNK_ROWS", 700)
    monkeypatch.setattr(csv_batches, "STREAM_BLOCK_BYTES", 64 * 1024)
    whole, whole_rows = _publish(tmp_path / "whole", REAL_DATA / name, chunked=False)
    chunked, chunked_rows = _publish(tmp_path / "chunked", REAL_DATA / name, chunked=True)
    assert chunked.report.facts.get("read_in_chunks") is True
    assert "read_in_chunks" not in whole.report.facts
    assert _report(chunked) == _report(whole)
    assert chunked.schema.to_descriptor() == whole.schema.to_descriptor()
    assert chunked.release is not None and whole.release is not None
    assert chunked.release.row_count == whole.release.row_count
    assert (chunked.release.period_start, chunked.release.period_end) == (
        whole.release.period_start,
        whole.release.period_end,
    )
    assert chunked_rows is not None and chunked_rows.equals(whole_rows)


def test_the_release_file_has_statistics_and_the_side_files_are_gone(tmp_path: Path) -> None:
    """The released Parquet keeps min/max statistics (DuckDB skips row groups with them)
    and plain strings; the work files of the two passes, written without, are not left."""
    portal = make_portal(tmp_path, publish_chunked_min_bytes=0)
    request = PublishRequest(
        path=REAL_DATA / "seattle/Terry_Stops.csv", dataset_id="d", label="2026-Q3",
        accept_privacy=True,
    )  # fmt: skip
    result = publish(portal, request)
    assert result.release is not None and result.report.facts.get("read_in_chunks") is True
    released = pq.ParquetFile(portal.release_path(result.release)).metadata
    columns = [released.row_group(0).column(i) for i in range(released.num_columns)]
    assert all(c.is_stats_set and c.statistics.has_min_max for c in columns if c.num_values)
    # Work files take polars' string views as they are; the release's Arrow schema keeps
    # plain strings, which every Parquet reader (pandas, older pyarrow, R) takes.
    types = pq.read_schema(portal.release_path(result.release)).types
    assert pa.string_view() not in types and pa.large_string() in types
    left = [p.name for p in portal.settings.data_dir.rglob("*.parquet")]
    assert left == [portal.release_path(result.release).name]


def test_only_columns_that_repeat_values_get_a_parquet_dictionary(tmp_path: Path) -> None:
    """A column of distinct values (an id) is written plain from the start rather than
    through a dictionary that overflows; a code column keeps its dictionary."""
    header = ["Stop ID", "Race", "Age"]
    rows = [[f"S{n:06d}", ["White", "Black", "Asian"][n % 3], 20 + n % 40] for n in range(5000)]
    path = write_csv(tmp_path / "stops.csv", header, rows)
    portal = make_portal(tmp_path / "portal", publish_chunked_min_bytes=0)
    request = PublishRequest(path=path, dataset_id="d", label="2026-Q3", accept_privacy=True)
    result = publish(portal, request)
    assert result.release is not None and result.report.facts.get("read_in_chunks") is True
    meta = pq.ParquetFile(portal.release_path(result.release)).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    encodings = {n: meta.row_group(0).column(i).encodings for i, n in enumerate(names)}
    assert not any("DICTIONARY" in e for e in encodings["stop_id"])
    assert any("DICTIONARY" in e for e in encodings["race"])
    assert any("DICTIONARY" in e for e in encodings["age"])


def test_damage_in_one_late_chunk_of_a_text_column_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A column of words with numbers only in its last chunk (an id pasted through Excel,
    a sentinel): pass 2 knows from pass 1's distinct values that the column holds numbers
    and examines it in every chunk; the report is the one of reading whole."""
    monkeypatch.setattr(csv_batches, "CHUNK_ROWS", 50)
    monkeypatch.setattr(csv_batches, "STREAM_BLOCK_BYTES", 1024)
    header = ["Stop ID", "Stop Date", "Reference"]
    rows = [[f"S{n:05d}", "2026-04-01", f"ref {n % 9}"] for n in range(300)]
    rows[270][2] = "4.10E+11"
    rows[280][2] = "-9"
    rows[281][2] = "-9"
    path = write_csv(tmp_path / "refs.csv", header, rows)
    whole, _ = _publish(tmp_path / "whole", path, chunked=False)
    chunked, _ = _publish(tmp_path / "chunked", path, chunked=True)
    assert chunked.report.facts.get("read_in_chunks") is True
    assert _report(chunked) == _report(whole)
    damaged = chunked.report.facts["spreadsheet_damage"]["reference"]
    assert damaged == {"scientific_notation": 1, "suspicious_sentinel": 2}


def test_counts_from_distinct_values_give_the_whole_file_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pass 1 counts each distinct value of a column once per chunk (with its rows); the
    blanks, spaced cells and spellings it derives are weighed by those rows. A narrative
    whose one spaced sentence fills 60% of the rows is free text (not by distinct values:
    1 in 121); spellings of one code in different chunks are one variant group; a column
    with more distinct values than are kept is counted cell by cell. All as read whole."""
    monkeypatch.setattr(csv_batches, "CHUNK_ROWS", 50)
    monkeypatch.setattr(csv_batches, "STREAM_BLOCK_BYTES", 1024)
    monkeypatch.setattr(infer_batches, "DISTINCT_LIMIT", 200)
    sentence = "the driver was stopped for a broken tail light and given a written warning"
    header = ["Stop ID", "Race", "Circumstances"]
    rows = [
        [
            f"S{n:05d}",
            "" if n % 11 == 0 else ("WHITE" if n >= 250 and n % 2 else ["White", "Black"][n % 2]),
            sentence if n % 5 < 3 else f"{'x' * 70}{n:03d}",
        ]
        for n in range(300)
    ]
    path = write_csv(tmp_path / "stops.csv", header, rows)
    whole, _ = _publish(tmp_path / "whole", path, chunked=False)
    chunked, _ = _publish(tmp_path / "chunked", path, chunked=True)
    assert chunked.report.facts.get("read_in_chunks") is True
    assert _report(chunked) == _report(whole)
    assert chunked.schema.to_descriptor() == whole.schema.to_descriptor()
    assert chunked.schema.field("circumstances").free_text
    assert chunked.schema.field("race").categorical
    variants = [p for p in _report(chunked)["problems"] if p["code"] == "spelling_variants"]
    assert [e["value"] for e in variants[0]["examples"]] == ["White / WHITE"]
    assert variants[0]["examples"][0]["rows"] == 136 + 22  # even rows, odd from row 250: not blank


def _second_release(tmp: Path, first: Path, second: Path, chunked: bool) -> PublishResult:
    portal = make_portal(tmp, publish_chunked_min_bytes=10**12)
    publish_file(portal, first, "stops", "2026-Q2")
    portal = make_portal(tmp, publish_chunked_min_bytes=0 if chunked else 10**12)
    return publish(portal, PublishRequest(path=second, dataset_id="stops", label="2026-Q3"))


def test_errors_across_chunks_name_the_same_rows_and_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A duplicate key and cells that are not numbers, in different chunks of a later
    release: the same counts, and every example names a true row, column and value. One
    difference is known and asserted: a bad value found in two chunks is listed once per
    chunk (reading whole lists it once with both rows counted)."""
    monkeypatch.setattr(csv_batches, "CHUNK_ROWS", 50)
    monkeypatch.setattr(csv_batches, "STREAM_BLOCK_BYTES", 1024)
    header = ["Stop ID", "Stop Date", "Age", "Race", "Officer ID"]
    first = [[f"S{n:05d}", "2026-04-01", 20 + n % 50, "W", f"P{n % 7}"] for n in range(300)]
    write_csv(tmp_path / "q2.csv", header, first)
    second = [list(row) for row in first]
    second[40][2] = "forty"  # row 42 of the file: the header is row 1
    second[260][2] = "forty"  # row 262, in another chunk
    second[180][0] = second[10][0]  # row 182 repeats the key of row 12
    second[290][2] = "n/a?"
    write_csv(tmp_path / "q3.csv", header, second)
    whole = _second_release(tmp_path / "whole", tmp_path / "q2.csv", tmp_path / "q3.csv", False)
    chunked = _second_release(tmp_path / "ch", tmp_path / "q2.csv", tmp_path / "q3.csv", True)
    assert chunked.release is None and whole.release is None
    report, expected = _report(chunked), _report(whole)
    assert report["counts"] == expected["counts"] == {"duplicate_key": 2, "type_error": 3}
    problems = {p["code"]: p for p in report["problems"]}
    wanted = {p["code"]: p for p in expected["problems"]}
    assert problems["duplicate_key"] == wanted["duplicate_key"]
    assert [e["row"] for e in problems["duplicate_key"]["examples"]] == [12, 182]
    listed = {(e["row"], e["column"], e["value"]) for e in problems["type_error"]["examples"]}
    assert listed == {(42, "age", "forty"), (262, "age", "forty"), (292, "age", "n/a?")}
    whole_listed = [(e["row"], e["value"], e["rows"]) for e in wanted["type_error"]["examples"]]
    assert (42, "forty", 2) in whole_listed


def test_a_later_release_keeps_the_published_hashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_batches, "CHUNK_ROWS", 40)
    monkeypatch.setattr(csv_batches, "STREAM_BLOCK_BYTES", 1024)
    header = ["Stop ID", "Stop Date", "Race", "Officer ID"]
    rows = [[f"S{n:04d}", "2026-04-01", "B" if n % 3 else "W", f"P{n % 9}"] for n in range(200)]
    write_csv(tmp_path / "q2.csv", header, rows)
    write_csv(tmp_path / "q3.csv", header, [*rows, ["S9999", "2026-07-02", "W", "P1"]])
    results = {}
    for mode in (False, True):
        result = _second_release(
            tmp_path / str(mode), tmp_path / "q2.csv", tmp_path / "q3.csv", mode
        )
        assert result.release is not None
        results[mode] = (_report(result), result.changelog)
    assert results[True] == results[False]
    assert results[True][1]["added"] == 1


_MEASURE = textwrap.dedent(
    """
    import sys, tempfile
    from pathlib import Path

    def kib(field):
        status = Path("/proc/self/status").read_text().splitlines()
        return int(next(line for line in status if line.startswith(field)).split()[1])

    sys.path.insert(0, sys.argv[3])
    from openblotter.ingest import infer_batches
    from openblotter.ingest.read import csv_batches
    from openblotter.storage import key_check
    from openblotter.services import publish_stream
    from openblotter.services.publishing import PublishRequest, publish
    from tests.factories import make_portal
    csv_batches.CHUNK_ROWS = 10_000
    infer_batches.DISTINCT_LIMIT = 10_000
    key_check.KEY_CHECK_MEMORY = "32MB"
    key_check.PART_ROWS = 50_000
    publish_stream.SAMPLE_ROWS = 10_000
    with tempfile.TemporaryDirectory() as tmp:
        portal = make_portal(Path(tmp), publish_chunked_min_bytes=int(sys.argv[2]))
        # The peak so far (imports) is forgotten: VmHWM restarts from the current RSS.
        Path("/proc/self/clear_refs").write_text("5")
        base = kib("VmRSS:")
        request = PublishRequest(
            path=Path(sys.argv[1]), dataset_id="big", label="2026-Q3", accept_privacy=True
        )
        result = publish(portal, request)
        assert result.release is not None, result.report.to_dict()
        print(kib("VmHWM:") - base)
    """
)


def _generated(path: Path, rows: int) -> Path:
    races = ["White", "Black", "Hispanic", "Asian", "Unknown", ""]
    with path.open("w", encoding="utf-8") as out:
        out.write("contact_id,contact_date,contact_time,subject_race,subject_age,officer_id,beat\n")
        for n in range(rows):
            day = f"20{16 + n % 10}-{1 + n % 12:02d}-{1 + n % 28:02d}"
            out.write(
                f"C{n:08d},{day},{n % 24:02d}:{n % 60:02d},{races[n % 6]},{18 + n % 60},"
                f"P{1000 + n % 220},B{n % 24:02d}\n"
            )
    return path


def _peak_growth_kb(path: Path, threshold: int) -> int:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(threshold), str(root)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_memory_does_not_grow_with_the_rows(tmp_path: Path) -> None:
    """Peak RSS above the process's start, for N and 4N rows, in fresh processes: reading
    whole it grows with the file (the control), chunk by chunk it does not. The bounds of
    the chunked path (chunk, distinct values kept, detector sample, key check partition) are
    set small, so both files are well past them."""
    small = _generated(tmp_path / "small.csv", 150_000)
    large = _generated(tmp_path / "large.csv", 600_000)
    # The least of two runs each: the allocator's timing only ever adds to a peak (one run
    # alone varied by up to 35 MB here, with or without the write-behind thread).
    chunked_small, chunked_large = (
        min(_peak_growth_kb(p, 0) for _ in range(2)) for p in (small, large)
    )
    whole_small, whole_large = (_peak_growth_kb(p, 10**12) for p in (small, large))
    # Reading whole: 4x the rows costs clearly more (the test can tell growth from noise).
    assert whole_large - whole_small > 100_000, (whole_small, whole_large)
    # Chunk by chunk: a bounded peak, grown by under 15 MB for 4x the rows (least of two
    # runs). So: at most a fifth of what reading whole adds for the same rows, and under
    # the 500 MB at every size.
    growth = (chunked_small, chunked_large, whole_small, whole_large)
    assert chunked_large - chunked_small < (whole_large - whole_small) / 5, growth
    assert chunked_large < 500_000, growth


def test_counts_weighed_by_rows_do_not_wrap_at_a_hundred_million_rows() -> None:
    """A 60-character value on 100 million rows is 6 billion characters: more than a
    32-bit count holds (polars' row counts are 32-bit, and their products wrap silently)."""
    column = infer_batches.ColumnProfile("Reason", "reason")
    spelled = pl.DataFrame(
        {"value": ["x" * 59 + " ", None], "n": [100_000_000, 5], "first": [2, 3]},
        schema={"value": pl.String, "n": pl.UInt32, "first": pl.Int64},
    )
    column.add_spellings(spelled, None)
    assert (column.present, column.nulls) == (100_000_000, 5)
    assert column.cells()["length"] == 6_000_000_000
    assert column.cells()["spaced"] == 100_000_000 and column.free_text()
