"""Validation reports: typed problems with row, column, value and a message.

A report counts every problem exactly, by code, and lists examples of each.
When it lists fewer examples than it counted it says so (``more``): a report
is never cut short silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

#: How many examples of one problem code a report keeps.
EXAMPLES_PER_CODE = 50


@dataclass(frozen=True)
class Problem:
    """One problem in one place. ``row`` is the row as a spreadsheet numbers it (header = 1)."""

    code: str
    message: str
    severity: Severity = "warning"
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ProblemGroup:
    """Every occurrence of one problem code: the exact count and the first examples."""

    code: str
    severity: Severity
    count: int = 0
    examples: list[Problem] = field(default_factory=list)

    @property
    def more(self) -> int:
        """How many occurrences are counted but not listed."""
        return self.count - len(self.examples)


@dataclass
class ValidationReport:
    """What a publish found in a file. ``ok`` is false when any error was found."""

    source: str = ""
    groups: dict[str, ProblemGroup] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        """Count one problem; keep it as an example while there is room."""
        group = self._group(problem.code, problem.severity)
        group.count += 1
        if len(group.examples) < EXAMPLES_PER_CODE:
            group.examples.append(problem)

    def add_counted(
        self, code: str, severity: Severity, count: int, examples: list[Problem]
    ) -> None:
        """Record ``count`` occurrences found in bulk, with up to the cap of examples."""
        if count <= 0:
            return
        group = self._group(code, severity)
        group.count += count
        room = EXAMPLES_PER_CODE - len(group.examples)
        group.examples.extend(examples[: max(room, 0)])

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
            group.examples = [
                Problem(
                    code=e["code"],
                    message=e["message"],
                    severity=e["severity"],
                    row=e.get("row"),
                    column=e.get("column"),
                    value=e.get("value"),
                )
                for e in item.get("examples", [])
            ]
            report.groups[group.code] = group
        return report
