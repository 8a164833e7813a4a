"""Quarter labels (``2026-Q3``) and the periods they cover."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from openblotter.domain.errors import InvalidInput

_LABEL = re.compile(r"^(?P<year>\d{4})-Q(?P<quarter>[1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    """One calendar quarter; orders chronologically."""

    year: int
    quarter: int

    @classmethod
    def parse(cls, label: str) -> Quarter:
        """Parse ``2026-Q3``; raise InvalidInput naming the expected form otherwise."""
        match = _LABEL.match(label.strip())
        if not match:
            raise InvalidInput(
                f"'{label}' is not a quarter label; use the form 2026-Q3 (year, dash, Q1 to Q4).",
                detail={"parameter": "release", "value": label, "allowed": "YYYY-Q1..YYYY-Q4"},
            )
        return cls(int(match["year"]), int(match["quarter"]))

    @classmethod
    def of(cls, day: date) -> Quarter:
        """The quarter that contains a date."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.quarter}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * (self.quarter - 1) + 1, 1)

    @property
    def end(self) -> date:
        """The last day of the quarter."""
        return self.next().start - timedelta(days=1)

    def next(self) -> Quarter:
        if self.quarter == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.quarter + 1)

    def previous(self) -> Quarter:
        if self.quarter == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.quarter - 1)

    def __str__(self) -> str:
        return self.label


def quarter_range(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    out: list[Quarter] = []
    current = first
    while current <= last:
        out.append(current)
        current = current.next()
    return out
