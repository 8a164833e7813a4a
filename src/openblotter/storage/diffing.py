"""Compare two release files by primary key with DuckDB (both sides stay on disk)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from openblotter.domain.releases import ROW_ID


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@dataclass
class DiffResult:
    """Rows added, removed and changed between an older and a newer release."""

    key: list[str]
    added: int
    removed: int
    changed: int
    unchanged: int
    changed_fields: dict[str, int] = field(default_factory=dict)
    added_columns: list[str] = field(default_factory=list)
    removed_columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "changed_fields": self.changed_fields,
            "added_columns": self.added_columns,
            "removed_columns": self.removed_columns,
        }


def diff_files(
    old: Path,
    new: Path,
    key: list[str],
    *,
    change: str | None = None,
    limit: int = 0,
    offset: int = 0,
    run: Callable[[Callable[[duckdb.DuckDBPyConnection], DiffResult]], DiffResult] | None = None,
) -> DiffResult:
    """Diff ``old`` -> ``new``. Without a key, whole rows are compared (no 'changed').

    ``change`` (added / removed / changed) with ``limit`` and ``offset`` also
    returns that page of rows, each with the fields that changed. ``run`` gives the
    work a connection (the web's engine: its memory, time limit and turns, see
    :meth:`QueryEngine.with_cursor`); by default a connection of its own (a publish).
    """

    def work(con: duckdb.DuckDBPyConnection) -> DiffResult:
        return _diff(con, old, new, key, change, limit, offset)

    if run is not None:
        return run(work)
    con = duckdb.connect()
    try:
        return work(con)
    finally:
        con.close()


def _diff(
    con: duckdb.DuckDBPyConnection,
    old: Path,
    new: Path,
    key: list[str],
    change: str | None,
    limit: int,
    offset: int,
) -> DiffResult:
    # Temporary views: visible to this connection only (a cursor of a shared engine).
    con.execute(
        f"CREATE TEMP VIEW a AS SELECT * EXCLUDE ({ROW_ID}) FROM read_parquet({_path(old)})"
    )
    con.execute(
        f"CREATE TEMP VIEW b AS SELECT * EXCLUDE ({ROW_ID}) FROM read_parquet({_path(new)})"
    )
    cols_a = [r[0] for r in con.execute("DESCRIBE a").fetchall()]
    cols_b = [r[0] for r in con.execute("DESCRIBE b").fetchall()]
    common = [c for c in cols_b if c in cols_a]
    usable_key = [k for k in key if k in cols_a and k in cols_b]
    result = _diff_by_key(con, usable_key, common) if usable_key else _diff_by_rows(con, common)
    result.added_columns = [c for c in cols_b if c not in cols_a]
    result.removed_columns = [c for c in cols_a if c not in cols_b]
    if change and limit:
        result.rows = _rows(con, usable_key, common, change, limit, offset)
    return result


def _join_on(key: list[str]) -> str:
    return " AND ".join(f"a.{_q(k)} IS NOT DISTINCT FROM b.{_q(k)}" for k in key)


def _diff_by_key(con: duckdb.DuckDBPyConnection, key: list[str], common: list[str]) -> DiffResult:
    on = _join_on(key)
    values = [c for c in common if c not in key]
    flags = (
        ", ".join(f"(a.{_q(c)} IS DISTINCT FROM b.{_q(c)})::INT AS {_q('d_' + c)}" for c in values)
        or "0 AS d_none"
    )
    con.execute(f"CREATE TEMP TABLE both_sides AS SELECT {flags} FROM a JOIN b ON {on}")
    sums = ", ".join(f"SUM({_q('d_' + c)})" for c in values) or "0"
    any_changed = " OR ".join(f"{_q('d_' + c)} = 1" for c in values) or "FALSE"
    per_field = con.execute(f"SELECT {sums} FROM both_sides").fetchone() or ()
    changed = con.execute(f"SELECT count(*) FROM both_sides WHERE {any_changed}").fetchone()
    matched = con.execute("SELECT count(*) FROM both_sides").fetchone()
    count_a = con.execute("SELECT count(*) FROM a").fetchone()
    count_b = con.execute("SELECT count(*) FROM b").fetchone()
    assert changed and matched and count_a and count_b
    changed_fields = {c: int(n or 0) for c, n in zip(values, per_field, strict=False) if n}
    return DiffResult(
        key=key,
        added=int(count_b[0]) - int(matched[0]),
        removed=int(count_a[0]) - int(matched[0]),
        changed=int(changed[0]),
        unchanged=int(matched[0]) - int(changed[0]),
        changed_fields=changed_fields,
    )


def _diff_by_rows(con: duckdb.DuckDBPyConnection, common: list[str]) -> DiffResult:
    cols = ", ".join(_q(c) for c in common)
    added = con.execute(
        f"SELECT count(*) FROM (SELECT {cols} FROM b EXCEPT ALL SELECT {cols} FROM a)"
    ).fetchone()
    removed = con.execute(
        f"SELECT count(*) FROM (SELECT {cols} FROM a EXCEPT ALL SELECT {cols} FROM b)"
    ).fetchone()
    count_b = con.execute("SELECT count(*) FROM b").fetchone()
    assert added and removed and count_b
    return DiffResult(
        key=[],
        added=int(added[0]),
        removed=int(removed[0]),
        changed=0,
        unchanged=int(count_b[0]) - int(added[0]),
    )


def _rows(
    con: duckdb.DuckDBPyConnection,
    key: list[str],
    common: list[str],
    change: str,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    cols = ", ".join(_q(c) for c in common)
    if not key:
        sides = {"added": ("b", "a"), "removed": ("a", "b")}
        if change not in sides:
            return []
        first, second = sides[change]
        # Ordered by every column: without a key, pages of the difference are otherwise in
        # whatever order the hash of EXCEPT ALL gives, and an offset repeats or skips rows.
        sql = (
            f"SELECT * FROM (SELECT {cols} FROM {first} EXCEPT ALL SELECT {cols} FROM {second}) "
            "ORDER BY ALL LIMIT ? OFFSET ?"
        )
        return _records(con.execute(sql, [limit, offset]))
    on = _join_on(key)
    order = ", ".join(_q(k) for k in key)
    if change == "added":
        sql = f"SELECT b.* FROM b ANTI JOIN a ON {on} ORDER BY {order} LIMIT ? OFFSET ?"
        return _records(con.execute(sql, [limit, offset]))
    if change == "removed":
        sql = f"SELECT a.* FROM a ANTI JOIN b ON {on} ORDER BY {order} LIMIT ? OFFSET ?"
        return _records(con.execute(sql, [limit, offset]))
    values = [c for c in common if c not in key]
    differs = " OR ".join(f"a.{_q(c)} IS DISTINCT FROM b.{_q(c)}" for c in values) or "FALSE"
    select = ", ".join(
        [f"b.{_q(k)} AS {_q(k)}" for k in key]
        + [f"a.{_q(c)} AS {_q('old:' + c)}, b.{_q(c)} AS {_q('new:' + c)}" for c in values]
    )
    sql = f"SELECT {select} FROM a JOIN b ON {on} WHERE {differs} ORDER BY {', '.join('b.' + _q(k) for k in key)} LIMIT ? OFFSET ?"
    out = []
    for record in _records(con.execute(sql, [limit, offset])):
        row: dict[str, Any] = {k: record[k] for k in key}
        row["changes"] = {
            c: {"old": record[f"old:{c}"], "new": record[f"new:{c}"]}
            for c in values
            if record[f"old:{c}"] != record[f"new:{c}"]
        }
        out.append(row)
    return out


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
