"""Rules a mapping states about plausible values (``[[rules]]`` and ``sentinel_dates``).

A records clerk knows that a complaint is not closed before it was received,
that nobody in the file is 0 or 119 years old, and that 1900-01-01 is what the
records system writes when nobody typed a date. The rules say so once, for every
quarter's file, instead of listing bad values one by one::

    sentinel_dates = ["1900-01-01", "1970-01-01"]   # the default; [] turns it off

    [[rules]]
    check = "date_window"          # dates outside [min, max] are not real dates
    fields = ["received_date", "closed_date"]
    min = "2000-01-01"
    max = "today"                  # the day of the publish
    action = "blank"               # blank and report (default) | "error": stop the publish

    [[rules]]
    check = "range"                # numbers outside [min, max] are unknown
    fields = ["subject_age", "officer_age"]
    min = 1
    max = 110

    [[rules]]
    check = "sentinel"             # the agency's codes for "not recorded" are blanks
    fields = ["subject_age", "city"]
    values = ["-1", "999"]         # compared as text, and as numbers (-1.0 is -1)

    [[rules]]
    check = "order"                # each date is on or after the one before it
    fields = ["received_date", "closed_date"]
    blank = "closed_date"          # which one is blanked (default: the last)

    [[rules]]
    check = "number_within"        # 1, 2, 3... in file order within each key
    field = "allegation_number"
    key = ["complaint_id", "complainant_number"]

    [[rules]]
    check = "number_within"        # renumber: each distinct value becomes 1, 2, 3...
    field = "complainant_number"   # (filled from a column, e.g. a citizen record number)
    key = ["complaint_id"]         # in order of first appearance; a blank becomes 0
    renumber = true

Rules run on the mapped text (dates already ISO), on every table the mapping
produces that has the rule's fields (the incident table and the person tables).
Every value a rule blanks is reported with its row, column and value, and every
rule is listed with its count (``RuleOutcome``) for the release manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import Problem
from openblotter.domain.schema import TableSchema
from openblotter.ingest.mapping.lists import PACKED_SEPARATORS, report_packed
from openblotter.ingest.mapping.people import PersonSplit
from openblotter.ingest.parsing import parse_column

ROW = "__row"

#: Dates records systems write when nobody typed one (Excel's day 0, the Unix epoch).
DEFAULT_SENTINEL_DATES = ("1899-12-30", "1899-12-31", "1900-01-01", "1970-01-01")
CHECKS = ("date_window", "range", "order", "number_within", "sentinel")
ACTIONS = ("blank", "error")
_EXAMPLES = 5


@dataclass(frozen=True)
class Rule:
    """One ``[[rules]]`` entry (or the default sentinel-date rule)."""

    check: str
    fields: tuple[str, ...]
    action: str = "blank"
    min: Any = None
    max: Any = None
    key: tuple[str, ...] = ()
    blank: str | None = None
    sentinels: tuple[str, ...] = ()
    renumber: bool = False
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        """The rule in plain words, as readers see it."""
        fields = ", ".join(self.fields)
        if self.check == "sentinel_dates":
            return f"dates {', '.join(self.sentinels)} mean no date was recorded ({fields})"
        if self.check == "date_window":
            return f"{fields}: dates before {self.min or 'any'} or after {self.max or 'any'} are not real dates"
        if self.check == "range":
            return f"{fields}: values below {self.min} or above {self.max} are unknown"
        if self.check == "sentinel":
            return f"{fields}: {', '.join(self.values)} mean not recorded (published as blank)"
        if self.check == "order":
            return f"{' <= '.join(self.fields)}: a date before the one it follows is not real ({self.blank or self.fields[-1]} is the one questioned)"
        what = "its distinct values" if self.renumber else "the rows"
        return (
            f"{fields} numbers {what} 1, 2, 3... within each {', '.join(self.key)}, in file order"
        )


@dataclass
class RuleOutcome:
    """What one rule did to one publish: how many values, and the first examples."""

    rule: Rule
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.describe(),
            "check": self.rule.check,
            "fields": list(self.rule.fields),
            "action": "number" if self.rule.check == "number_within" else self.rule.action,
            "count": self.count,
            "examples": self.examples,
        }


def rule_spec(value: dict[str, Any], where: str) -> Rule:
    """Parse one ``[[rules]]`` entry; InvalidInput says what is missing."""
    check = value.get("check")
    if check not in CHECKS:
        raise InvalidInput(f"{where}: 'check' must be one of {', '.join(CHECKS)} (got {check!r}).")
    action = str(value.get("action", "blank"))
    if action not in ACTIONS:
        raise InvalidInput(f"{where}: 'action' must be 'blank' or 'error' (got {action!r}).")
    allowed = {"check", "fields", "field", "action", "min", "max", "key", "blank", "sentinels"}
    allowed |= {"renumber", "values"}
    unknown = set(value) - allowed
    if unknown:
        raise InvalidInput(f"{where}: unknown key(s) {', '.join(sorted(unknown))}.")
    raw_fields = value.get("fields", value.get("field"))
    fields = [raw_fields] if isinstance(raw_fields, str) else raw_fields
    if not fields or not all(isinstance(f, str) for f in fields):
        raise InvalidInput(f"{where}: name the field(s) the rule checks ('fields = [...]').")
    rule = Rule(
        check=check,
        fields=tuple(fields),
        action=action,
        min=value.get("min"),
        max=value.get("max"),
        key=tuple(value.get("key", [])),
        blank=value.get("blank"),
        sentinels=tuple(str(s) for s in value.get("sentinels", DEFAULT_SENTINEL_DATES)),
        renumber=bool(value.get("renumber", False)),
        values=tuple(str(v) for v in value.get("values", [])),
    )
    _check_rule(rule, where)
    return rule


def _check_rule(rule: Rule, where: str) -> None:
    if rule.check in ("date_window", "range") and rule.min is None and rule.max is None:
        raise InvalidInput(f"{where}: a {rule.check} rule needs 'min', 'max' or both.")
    if rule.check == "date_window":
        for bound in (rule.min, rule.max):
            if bound is not None and bound != "today":
                _as_date(bound, where)
    if rule.check == "range":
        for bound in (rule.min, rule.max):
            if bound is not None and not isinstance(bound, int | float):
                raise InvalidInput(f"{where}: 'min' and 'max' of a range are numbers.")
    if rule.check == "order" and len(rule.fields) < 2:
        raise InvalidInput(f"{where}: an order rule compares two or more fields.")
    if rule.blank is not None and rule.blank not in rule.fields:
        raise InvalidInput(f"{where}: 'blank' must be one of the rule's fields.")
    if rule.check == "sentinel" and not rule.values:
        raise InvalidInput(f'{where}: a sentinel rule lists its codes: values = ["-1", "999"].')
    if rule.check == "number_within" and (len(rule.fields) != 1 or not rule.key):
        raise InvalidInput(f"{where}: number_within needs one 'field' and a 'key' list.")


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise InvalidInput(f"{where}: {value!r} is not a date (write 2016-01-01).") from error


def sentinel_rule(
    values: tuple[str, ...], schemas: list[TableSchema], present: set[str]
) -> Rule | None:
    """The default rule: these dates are blanks, in every date field the tables have."""
    names = sorted(
        {
            f.name
            for s in schemas
            for f in s.fields
            if f.type in ("date", "datetime") and f.name in present
        }
    )
    if not values or not names:
        return None
    return Rule("sentinel_dates", tuple(names), "blank", sentinels=values)


def apply_rules(
    frame: pl.DataFrame,
    rules: list[Rule],
    outcomes: list[RuleOutcome],
    identity: list[str],
    problems: list[Problem],
) -> pl.DataFrame:
    """Apply every rule whose fields ``frame`` has; count by ``identity`` (one source row,
    or one person), so exploded copies of a row are counted once."""
    for rule, outcome in zip(rules, outcomes, strict=True):
        if rule.check == "number_within":
            frame = _number_within(frame, rule, outcome)
            continue
        for name, bad in _violations(frame, rule):
            frame = _act(frame, rule, outcome, name, bad, identity, problems)
    return frame


def _dates(frame: pl.DataFrame, name: str) -> pl.Expr:
    """The field's dates: ISO text (what ``formats`` write), else any date the portal reads
    by default (7/31/2026...), so a rule needs no ``formats`` entry to see the dates."""
    text = frame[name].cast(pl.String)
    iso = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    other = parse_column(text, "date")
    if other.dtype != pl.Date:
        other = other.cast(pl.Date, strict=False)
    return pl.lit(pl.select(pl.coalesce(pl.lit(iso), pl.lit(other))).to_series())


def _violations(frame: pl.DataFrame, rule: Rule) -> list[tuple[str, pl.Expr]]:
    present = [f for f in rule.fields if f in frame.columns]
    if rule.check == "sentinel_dates":
        wanted = [date.fromisoformat(s) for s in rule.sentinels]
        return [(f, _dates(frame, f).is_in(wanted)) for f in present]
    if rule.check == "date_window":
        low = _bound(rule.min)
        high = _bound(rule.max)
        found = []
        for f in present:
            value = _dates(frame, f)
            bad = pl.lit(False)
            if low is not None:
                bad |= value < low
            if high is not None:
                bad |= value > high
            found.append((f, bad.fill_null(False)))
        return found
    if rule.check == "sentinel":
        return [(f, _is_code(pl.col(f), rule.values)) for f in present]
    if rule.check == "range":
        found = []
        for f in present:
            value = pl.col(f).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
            bad = pl.lit(False)
            if rule.min is not None:
                bad |= value < float(rule.min)
            if rule.max is not None:
                bad |= value > float(rule.max)
            found.append((f, bad.fill_null(False)))
        return found
    if len(present) < len(rule.fields):
        return []
    target = rule.blank or rule.fields[-1]
    bad = pl.lit(False)
    for before, after in zip(rule.fields, rule.fields[1:], strict=False):
        bad |= (_dates(frame, after) < _dates(frame, before)).fill_null(False)
    return [(target, bad)]


def _is_code(column: pl.Expr, codes: tuple[str, ...]) -> pl.Expr:
    """Cells that are one of ``codes``, as written or as the same number (``-1.0``)."""
    text = column.cast(pl.String).str.strip_chars()
    numbers = [float(c) for c in codes if _is_number(c)]
    hit = text.is_in(list(codes))
    if numbers:
        hit |= text.cast(pl.Float64, strict=False).is_in(numbers)
    return hit.fill_null(False)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bound(value: Any) -> date | None:
    if value is None:
        return None
    return date.today() if value == "today" else _as_date(value, "rule")


def _act(
    frame: pl.DataFrame,
    rule: Rule,
    outcome: RuleOutcome,
    name: str,
    bad: pl.Expr,
    identity: list[str],
    problems: list[Problem],
) -> pl.DataFrame:
    hits = frame.filter(bad).unique(subset=identity, keep="first", maintain_order=True)
    if not hits.height:
        return frame
    outcome.count += hits.height
    blank = rule.action == "blank"
    for row, value in hits.select(ROW, pl.col(name).cast(pl.String)).iter_rows():
        if len(outcome.examples) < _EXAMPLES:
            outcome.examples.append({"row": row, "column": name, "value": value})
        problems.append(
            Problem(
                code="rule_blanked" if blank else "rule_failed",
                severity="warning" if blank else "error",
                row=int(row),
                column=name,
                value=value,
                message=f"{name} '{value}' breaks the mapping's rule: {rule.describe()}; "
                + ("it is published as blank." if blank else "correct the file or the rule."),
            )
        )
    if not blank:
        return frame
    return frame.with_columns(pl.when(bad).then(None).otherwise(pl.col(name)).alias(name))


def _number_within(frame: pl.DataFrame, rule: Rule, outcome: RuleOutcome) -> pl.DataFrame:
    key = [k for k in rule.key if k in frame.columns]
    if len(key) < len(rule.key):
        return frame
    target = rule.fields[0]
    outcome.count += frame.height
    if not rule.renumber:
        number = pl.int_range(pl.len()).over(key) + 1
        return frame.with_columns(number.cast(pl.String).alias(target))
    order = "__first_seen"
    frame = frame.with_row_index(order)
    firsts = (
        frame.filter(pl.col(target).str.strip_chars().fill_null("") != "")
        .group_by([*key, target])
        .agg(pl.col(order).min())
        .sort(order)
        .with_columns((pl.int_range(pl.len()).over(key) + 1).alias("__rank"))
        .drop(order)
    )
    frame = frame.join(firsts, on=[*key, target], how="left").sort(order).drop(order)
    return frame.with_columns(pl.col("__rank").fill_null(0).cast(pl.String).alias(target)).drop(
        "__rank"
    )


def apply_mapping_rules(
    frame: pl.DataFrame,
    schema: TableSchema,
    splits: list[PersonSplit],
    rules: tuple[Rule, ...],
    sentinel_dates: tuple[str, ...],
    problems: list[Problem],
) -> tuple[pl.DataFrame, list[RuleOutcome]]:
    """The mapping's rules and the sentinel dates, on the incident table and on each role's
    people (before they get their incident's fields, so those are checked once); then
    every coded value still holding a list separator is refused (and blanked)."""
    schemas = [schema, *(s.role.family.schema for s in splits)]
    present = {*frame.columns, *(c for s in splits for c in s.frame.columns)}
    sentinel = sentinel_rule(sentinel_dates, schemas, present)
    applied = [*([sentinel] if sentinel else []), *rules]
    outcomes = [RuleOutcome(r) for r in applied]
    separators = tuple({*PACKED_SEPARATORS, *(c for s in splits for c in s.group.separators)})
    frame = apply_rules(frame, applied, outcomes, [ROW], problems)
    frame = report_packed(frame, schema, separators, [ROW], problems)
    for split in splits:
        identity = [ROW, split.role.number]
        split.frame = apply_rules(split.frame, applied, outcomes, identity, problems)
        split.frame = report_packed(
            split.frame, split.role.family.schema, separators, identity, problems
        )
    return frame, outcomes
