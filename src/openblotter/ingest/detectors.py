"""Column detectors: which columns of a new layout hold personal data, and what to do.

Each column of an inferred schema is read whole (its header and every value)
and gets a proposal: drop it (names, phones, e-mails, SSNs, licence and plate
numbers), hash it (people's IDs), publish the hundred block (street
addresses), round it to a grid (coordinates), publish the age at the event
(dates of birth), or withhold it (free text). ``propose_treatments`` is what a
dry run shows; ``apply_proposals`` writes the accepted proposals into the
schema as privacy markers, so the data dictionary states them.

A proposal never carries a value of the column, only counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import polars as pl

from openblotter.domain.schema import Privacy, SchemaField, TableSchema
from openblotter.ingest.column_shapes import (
    address_share,
    coordinate_pair_share,
    counted,
    email_share,
    name_share,
    phone_share,
    plate_share,
    ssn_share,
)

#: Share of a column's values that must have a shape for the column to be taken as that kind.
VALUE_SHARE = 0.5

_NAME_TOKENS = {"name", "names", "fname", "lname", "firstname", "lastname", "surname",
                "fullname", "first", "last", "middle", "given", "aka", "alias"}  # fmt: skip
_NOT_PEOPLE = {"street", "division", "unit", "agency", "beat", "city", "offense", "location",
               "business", "school", "department", "dept", "district", "file", "dataset", "place",
               "premise", "premises", "county", "state", "type", "category", "code", "desc",
               "description", "product", "event", "team", "facility", "station", "precinct",
               "area", "zone", "neighborhood", "road", "rank", "crime", "charge", "statute",
               "weapon", "vehicle", "make", "model", "bureau", "section", "shift", "org", "command",
               "date", "time", "seen", "updated", "modified", "reported", "occurred"}  # fmt: skip
_PEOPLE = {"officer", "subject", "suspect", "victim", "complainant", "witness", "arrestee",
           "driver", "person", "employee", "emp", "inmate", "citizen", "member", "individual"}  # fmt: skip
_ID_TOKENS = {"id", "number", "num", "no", "nbr", "badge", "serial", "payroll", "pin", "mni"}
_COORDINATE_TOKENS = {"x", "y", "lat", "latitude", "lon", "lng", "long", "longitude", "xcoord",
                      "ycoord", "easting", "northing", "geox", "geoy"}  # fmt: skip
_FREE_TEXT_TOKENS = {"narrative", "narratives", "remarks", "remark", "comments", "comment",
                     "notes", "note", "summary", "synopsis", "details", "statement"}  # fmt: skip


@dataclass
class Sample:
    """A column's sampled values (cleaned text, blanks removed), and each distinct value
    once with its number of rows: the shapes are judged over the distinct values."""

    values: pl.Series

    @cached_property
    def counted(self) -> pl.DataFrame:
        return counted(self.values)


@dataclass(frozen=True)
class ColumnProposal:
    """What the detectors found in one column and the treatment they propose."""

    field: str
    header: str
    finding: str = ""
    evidence: str = ""
    privacy: Privacy | None = None
    withhold: bool = False

    @property
    def protects(self) -> bool:
        """The proposal changes what is published (it needs the publisher's confirmation)."""
        return self.privacy is not None or self.withhold

    @property
    def treatment(self) -> str:
        """The proposal in plain words."""
        if self.withhold:
            return "withhold (free text is not published)"
        if self.privacy is None:
            return "publish as recorded"
        return SchemaField(name=self.field, privacy=self.privacy).privacy_label() or ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "header": self.header,
            "finding": self.finding,
            "evidence": self.evidence,
            "treatment": self.treatment,
            "privacy": self.privacy.model_dump(by_alias=True, exclude_none=True)
            if self.privacy
            else None,
        }


def propose_treatments(schema: TableSchema, frame: pl.DataFrame) -> list[ColumnProposal]:
    """One proposal per field of ``schema`` (``frame``: the cleaned text of the file)."""
    proposals = []
    present = set(frame.columns)  # asked once: polars builds the list anew on every call
    for f in schema.fields:
        values = frame[f.name].drop_nulls() if f.name in present else pl.Series([], dtype=pl.String)
        proposals.append(_propose(f, Sample(values.cast(pl.String)), schema))
    return proposals


def apply_proposals(
    schema: TableSchema, proposals: list[ColumnProposal], only: set[str] | None = None
) -> TableSchema:
    """``schema`` with the proposals (of the fields in ``only``, when given) as privacy markers."""
    by_field = {p.field: p for p in proposals if p.protects and (only is None or p.field in only)}
    fields = []
    for f in schema.fields:
        proposal = by_field.get(f.name)
        if proposal is not None:
            update: dict[str, Any] = {"free_text": True} if proposal.withhold else {}
            if proposal.privacy is not None:
                update["privacy"] = proposal.privacy
            f = f.model_copy(update=update)
        fields.append(f)
    return schema.model_copy(update={"fields": fields})


def describe(proposals: list[ColumnProposal]) -> str:
    """The proposals as lines a publisher reads before confirming."""
    lines = []
    for p in proposals:
        if p.finding:
            lines.append(f"  - {p.header} ({p.field}): {p.finding}; {p.evidence} -> {p.treatment}")
        else:
            lines.append(
                f"  - {p.header} ({p.field}): nothing personal found -> publish as recorded"
            )
    return "\n".join(lines)


def _tokens(f: SchemaField) -> set[str]:
    names = [f.name, re.sub(r"([a-z])([A-Z])", r"\1_\2", f.title or "")]
    return {t for n in names for t in re.split(r"[^a-z0-9]+", n.lower()) if t}


Detector = Callable[[SchemaField, set[str], Sample, TableSchema], ColumnProposal | None]


def _propose(f: SchemaField, sample: Sample, schema: TableSchema) -> ColumnProposal:
    tokens = _tokens(f)
    for detector in _DETECTORS:
        proposal = detector(f, tokens, sample, schema)
        if proposal is not None:
            return proposal
    return ColumnProposal(f.name, f.title or f.name)


def _found(f: SchemaField, finding: str, evidence: str, **treatment: Any) -> ColumnProposal:
    return ColumnProposal(f.name, f.title or f.name, finding, evidence, **treatment)


def _share_text(share: float, sample: Sample, what: str) -> str:
    rows = sample.values.len()
    return f"{round(share * rows):,} of {rows:,} values look like {what}"


def _drop(reason: str) -> Privacy:
    return Privacy(treatment="drop", reason=reason)


def _by_shape(
    header_tokens: set[str], share_of: Callable[[pl.DataFrame], float], finding: str, what: str
) -> Detector:
    def detect(
        f: SchemaField, tokens: set[str], sample: Sample, _s: TableSchema
    ) -> ColumnProposal | None:
        named = bool(tokens & header_tokens)
        share = share_of(sample.counted) if sample.values.len() else 0.0
        if not named and share < VALUE_SHARE:
            return None
        evidence = f"header '{f.title or f.name}'" if named else _share_text(share, sample, what)
        return _found(f, finding, evidence, privacy=_drop(finding))

    return detect


def _birth_date(
    f: SchemaField, tokens: set[str], sample: Sample, schema: TableSchema
) -> ColumnProposal | None:
    if not (tokens & {"dob", "birth", "birthdate", "birthday", "born"}):
        return None
    if f.type not in ("date", "datetime"):
        return _found(f, "date of birth", f"header '{f.title}'", privacy=_drop("date of birth"))
    events = [g.name for g in schema.fields if g.type in ("date", "datetime") and g.name != f.name]
    taken = set(schema.field_names)
    privacy = Privacy.model_validate(
        {
            "treatment": "generalize",
            "method": "age",
            "reason": "date of birth",
            "referenceField": events[0] if events else None,
            "as": "age" if "age" not in taken else f"{f.name}_age",
        }
    )
    at = f"the age at {events[0]}" if events else "the age at the end of the quarter"
    return _found(
        f, "date of birth", f"header '{f.title or f.name}'; published as {at}", privacy=privacy
    )


def _licence(
    f: SchemaField, tokens: set[str], sample: Sample, _s: TableSchema
) -> ColumnProposal | None:
    licence = bool(tokens & {"dl", "oln", "dlnumber"}) or (
        bool(tokens & {"license", "licence", "lic"})
        and bool(tokens & {"driver", "drivers", "operator", "dl"})
    )
    plate = bool(tokens & {"plate", "plates", "tag", "vin"}) or "licenseplate" in tokens
    shaped = plate_share(sample.counted) if not (licence or plate) and f.type == "string" else 0.0
    if not (licence or plate or shaped >= VALUE_SHARE):
        return None
    finding = "driver licence numbers" if licence else "licence plates or vehicle numbers"
    evidence = (
        _share_text(shaped, sample, "licence plates (letters and digits drawn at random)")
        if shaped >= VALUE_SHARE
        else f"header '{f.title or f.name}'"
    )
    return _found(f, finding, evidence, privacy=_drop(finding))


def _person_names(
    f: SchemaField, tokens: set[str], sample: Sample, _s: TableSchema
) -> ColumnProposal | None:
    if f.type != "string" or tokens & _NOT_PEOPLE:
        return None
    share = name_share(sample.counted) if sample.values.len() else 0.0
    named = bool(tokens & _NAME_TOKENS) or (
        bool(tokens & _PEOPLE) and not tokens & _ID_TOKENS and share >= 0.3
    )
    if not named and share < VALUE_SHARE:
        return None
    evidence = f"header '{f.title or f.name}'" + (
        f"; {_share_text(share, sample, 'person names')}" if share else ""
    )
    return _found(f, "person names", evidence, privacy=_drop("person names"))


def _people_ids(
    f: SchemaField, tokens: set[str], sample: Sample, _s: TableSchema
) -> ColumnProposal | None:
    if not (tokens & _PEOPLE and tokens & _ID_TOKENS) and not tokens & {
        "badge",
        "serial",
        "payroll",
    }:
        return None
    finding = "identifiers of people"
    privacy = Privacy(treatment="hash", reason=finding)
    return _found(
        f,
        finding,
        f"header '{f.title or f.name}'; the same person keeps one token",
        privacy=privacy,
    )


def _address(
    f: SchemaField, tokens: set[str], sample: Sample, _s: TableSchema
) -> ColumnProposal | None:
    if f.type != "string" or not sample.values.len():
        return None
    share = address_share(sample.counted)
    if share < VALUE_SHARE:
        return None
    privacy = Privacy(treatment="generalize", method="hundred_block", reason="street addresses")
    return _found(
        f, "street addresses", _share_text(share, sample, "house-number addresses"), privacy=privacy
    )


def _coordinates(
    f: SchemaField, tokens: set[str], sample: Sample, _s: TableSchema
) -> ColumnProposal | None:
    named = (
        bool(tokens & _COORDINATE_TOKENS)
        or {"x", "coordinate"} <= tokens
        or {"y", "coordinate"} <= tokens
    )
    if f.type in ("number", "integer") and named and sample.values.len():
        numbers = sample.values.cast(pl.Float64, strict=False).drop_nulls().abs()
        degrees = bool(numbers.len()) and float(numbers.max() or 0) <= 180
        size = 0.01 if degrees else 1000.0
        unit = "0.01 degree (about 1 km)" if degrees else "1000 map units (feet or metres)"
        privacy = Privacy.model_validate(
            {
                "treatment": "generalize",
                "method": "grid",
                "gridSize": size,
                "reason": "exact location",
            }
        )
        return _found(
            f,
            "exact coordinates",
            f"header '{f.title or f.name}'; rounded to {unit}",
            privacy=privacy,
        )
    if (
        f.type == "string"
        and sample.values.len()
        and coordinate_pair_share(sample.counted) >= VALUE_SHARE
    ):
        return _found(
            f,
            "exact coordinates",
            "values are latitude/longitude pairs",
            privacy=_drop("exact location"),
        )
    return None


def _free_text(
    f: SchemaField, tokens: set[str], sample: Sample, _s: TableSchema
) -> ColumnProposal | None:
    if f.type != "string" or f.categorical:
        return None
    mean = sample.values.str.len_chars().mean() if sample.values.len() else 0
    if f.free_text or (tokens & _FREE_TEXT_TOKENS and float(mean or 0) >= 30):
        evidence = f"long text (about {float(mean or 0):.0f} characters on average)"
        return _found(f, "free text that may name people", evidence, withhold=True)
    return None


def _ages(
    f: SchemaField, tokens: set[str], sample: Sample, schema: TableSchema
) -> ColumnProposal | None:
    if "age" not in tokens or f.type not in ("integer", "number"):
        return None
    dated = any(g.type in ("date", "datetime") for g in schema.fields)
    note = "ages next to exact dates narrow down who a person is; " if dated else ""
    return _found(f, "ages", f"{note}kept as recorded (ages are not names)")


_DETECTORS: list[Detector] = [
    _by_shape(
        {"email", "mail", "emailaddress"}, email_share, "e-mail addresses", "e-mail addresses"
    ),
    _by_shape({"ssn", "social", "socsec"}, ssn_share, "social security numbers", "SSNs"),
    _by_shape(
        {"phone", "telephone", "tel", "cell", "mobile", "fax"},
        phone_share,
        "phone numbers",
        "phone numbers",
    ),
    _birth_date,
    _licence,
    _coordinates,
    _people_ids,
    _person_names,
    _address,
    _free_text,
    _ages,
]

__all__ = ["ColumnProposal", "apply_proposals", "describe", "propose_treatments"]
