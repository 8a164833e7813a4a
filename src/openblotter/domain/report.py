"""Validation reports: typed problems with row, column, value and a message.

A report counts every problem exactly, by code and by column, and lists
examples of each: one per distinct problem value of a column (the row it is
first seen on, and how many rows hold it), up to ``EXAMPLES_PER_COLUMN`` per
column and code — a cap per column, never across columns, so one noisy column
cannot hide another. When it lists fewer than it found it says how many more
distinct values (or rows, for problems without a value) it did not list: a
report is never cut short silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

#: How many examples of one problem code the readers keep (row-level problems).
EXAMPLES_PER_CODE = 50
#: How many distinct problem values of one column (per code) a report lists.
EXAMPLES_PER_COLUMN = 100


@dataclass(frozen=True)
class Problem:
    """One problem in one place. ``row`` is the row as a spreadsheet numbers it (header = 1)."""

    code: str
    message: str
    severity: Severity = "warning"
    row: int | None = None
    column: str | None = None
    value: str | None = None
    #: How many rows hold this value in this column (a per-value example); None for one row.
    rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "rows": self.rows,
            "message": self.message,
        }


@dataclass
class ColumnTally:
    """One problem code in one column: rows, distinct values, and the examples listed."""

    column: str | None
    count: int = 0
    #: Distinct problem values found; None when the problem has no value (a missing cell).
    distinct: int | None = None
    examples: list[Problem] = field(default_factory=list)
    seen: set[str] = field(default_factory=set, repr=False)

    @property
    def more(self) -> int:
        """Distinct values (or rows, for problems without a value) found but not listed."""
        found = self.distinct if self.distinct is not None else self.count
        return max(found - len(self.examples), 0)

    @property
    def unit(self) -> str:
        return "distinct values" if self.distinct is not None else "rows"

    def add(self, problem: Problem) -> None:
        """Count one problem; list it unless its value is listed already or the column is full."""
        self.count += problem.rows or 1
        if problem.value is not None:
            if problem.value in self.seen:
                return
            self.seen.add(problem.value)
            self.distinct = len(self.seen)
        if len(self.examples) < EXAMPLES_PER_COLUMN:
            self.examples.append(problem)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "count": self.count,
            "distinct_values": self.distinct,
            "listed": len(self.examples),
            "more": self.more,
            "more_unit": self.unit,
        }


@dataclass
class ProblemGroup:
    """Every occurrence of one problem code: the exact count, and examples column by column."""

    code: str
    severity: Severity
    count: int = 0
    columns: dict[str | None, ColumnTally] = field(default_factory=dict)

    def tally(self, column: str | None) -> ColumnTally:
        if column not in self.columns:
            self.columns[column] = ColumnTally(column)
        return self.columns[column]

    @property
    def examples(self) -> list[Problem]:
        """The listed examples, column after column."""
        return [p for t in self.columns.values() for p in t.examples]

    @property
    def more(self) -> int:
        """How many distinct values (or rows) are counted but not listed, over all columns."""
        return sum(t.more for t in self.columns.values())


@dataclass
class ValidationReport:
    """What a publish found in a file. ``ok`` is false when any error was found."""

    source: str = ""
    groups: dict[str, ProblemGroup] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        """Count one problem; list it unless its value is listed already or the column is full."""
        group = self._group(problem.code, problem.severity)
        group.count += problem.rows or 1
        group.tally(problem.column).add(problem)

    def add_counted(
        self,
        code: str,
        severity: Severity,
        count: int,
        examples: list[Problem],
        *,
        distinct: int | None = None,
    ) -> None:
        """Record ``count`` occurrences found in bulk (in one column, or none), with examples.

        ``distinct`` is how many distinct problem values were found when the
        examples are one per value (there may be more than are passed).
        """
        if count <= 0:
            return
        group = self._group(code, severity)
        group.count += count
        columns = {p.column for p in examples}
        tally = group.tally(columns.pop() if len(columns) == 1 else None)
        tally.count += count
        if distinct is not None:
            tally.distinct = (tally.distinct or 0) + distinct
        room = EXAMPLES_PER_COLUMN - len(tally.examples)
        tally.examples.extend(examples[: max(room, 0)])

    def _group(self, code: str, severity: Severity) -> ProblemGroup:
        if code not in self.groups:
            self.groups[code] = ProblemGroup(code=code, severity=severity)
        return self.groups[code]

    @property
    def error_count(self) -> int:
        return sum(g.count for g in self.groups.values() if g.severity == "error")

    @property
    def warning_count(self) -> int:
        return sum(g.count for g in self.groups.values() if g.severity == "warning")

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def counts(self) -> dict[str, int]:
        return {code: g.count for code, g in sorted(self.groups.items())}

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "errors": self.error_count,
            "warnings": self.warning_count,
            "counts": self.counts(),
            "facts": self.facts,
            "problems": [
                {
                    "code": g.code,
                    "severity": g.severity,
                    "count": g.count,
                    "listed": len(g.examples),
                    "more": g.more,
                    "columns": [t.to_dict() for t in g.columns.values()],
                    "examples": [p.to_dict() for p in g.examples],
                }
                for g in sorted(self.groups.values(), key=lambda g: (g.severity != "error", g.code))
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        report = cls(source=data.get("source", ""), facts=dict(data.get("facts", {})))
        for item in data.get("problems", []):
            group = ProblemGroup(code=item["code"], severity=item["severity"], count=item["count"])
            for e in item.get("examples", []):
                problem = Problem(
                    code=e["code"],
                    message=e["message"],
                    severity=e["severity"],
                    row=e.get("row"),
                    column=e.get("column"),
                    value=e.get("value"),
                    rows=e.get("rows"),
                )
                group.tally(problem.column).examples.append(problem)
            for c in item.get("columns", []):
                tally = group.tally(c["column"])
                tally.count, tally.distinct = c["count"], c.get("distinct_values")
            report.groups[group.code] = group
        return report
