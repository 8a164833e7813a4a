"""The dataset families bundled with OpenBlotter: Table Schemas and prose, loaded as data.

Each family is two files in ``openblotter/schemas/``: ``<name>.json`` (a Table
Schema with OpenBlotter's markers, plus ``name``, ``title``, ``dateField``,
``eventUnit`` and an ``openblotter`` section of facts the portal reads) and
``<name>.md`` (plain-words prose with four sections: Summary, How it is
collected, Definitions, Caveats). The families are the schema files found
there: adding or changing a family is adding or editing those files, never code.

The ``openblotter`` section:

- ``catalogOrder``: the family's place in the catalog (the community first,
  since everything is measured against it);
- ``countedEvent``: what one counted event is, in words, for the analyses;
- ``eventFields``: present for a family whose rows are events an analysis
  counts against the community (benchmark, funnel, outcomes); the fields that
  together identify one counted event (empty: each row is one event).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import polars as pl
from pydantic import ValidationError

from openblotter.domain.errors import InvalidInput
from openblotter.domain.schema import SchemaField, TableSchema


def _schemas_dir() -> Traversable:
    return files("openblotter") / "schemas"


def _discover() -> tuple[str, ...]:
    """The families: every ``<name>.json`` in the schemas folder, in catalog order."""
    places: dict[str, tuple[int, str]] = {}
    for entry in _schemas_dir().iterdir():
        if entry.name.endswith(".json"):
            facts = json.loads(entry.read_text(encoding="utf-8")).get("openblotter", {})
            name = entry.name.removesuffix(".json")
            places[name] = (int(facts.get("catalogOrder", 1_000)), name)
    return tuple(sorted(places, key=places.__getitem__))


#: The families found in the schemas folder, in catalog order (``catalogOrder``).
FAMILY_NAMES: tuple[str, ...] = _discover()

#: Prose section headings (``## ...`` in the .md file) -> FamilyProse attribute.
PROSE_SECTIONS = {
    "summary": "summary",
    "how it is collected": "collection",
    "definitions": "definitions",
    "caveats": "caveats",
}


@dataclass(frozen=True)
class FamilyProse:
    """What a resident reads about a family, as Markdown strings."""

    summary: str
    collection: str
    definitions: str
    caveats: str


@dataclass(frozen=True)
class Family:
    """One dataset family: its schema, its prose and what one row means."""

    name: str
    title: str
    schema: TableSchema
    prose: FamilyProse
    event_unit: str
    date_field: str
    derived_from: dict[str, Any] | None = field(default=None)
    #: What one counted event is, in words (``openblotter.countedEvent``).
    counted_event: str | None = None
    #: The fields that identify one counted event; None when analyses count no events here.
    event_fields: tuple[str, ...] | None = None

    @property
    def fields(self) -> list[SchemaField]:
        """The family's fields in schema order (for listings and data dictionaries)."""
        return self.schema.fields

    @property
    def published_fields(self) -> list[SchemaField]:
        """The fields that appear in release files (dropped fields left out)."""
        return self.schema.published_fields()


def list_families() -> list[Family]:
    """Every bundled family, in catalog order."""
    return [load_family(name) for name in FAMILY_NAMES]


@cache
def load_family(name: str) -> Family:
    """The family called ``name``; InvalidInput naming the families if there is none."""
    if name not in FAMILY_NAMES:
        raise InvalidInput(
            f"There is no dataset family called '{name}'. The families are: "
            f"{', '.join(FAMILY_NAMES)}.",
            detail={"parameter": "family", "value": name, "allowed": list(FAMILY_NAMES)},
        )
    descriptor = json.loads(_read_text(f"{name}.json"))
    try:
        schema = TableSchema.from_descriptor(descriptor)
    except ValidationError as error:
        raise InvalidInput(
            f"The bundled schema of '{name}' (schemas/{name}.json) is not a valid Table Schema: "
            f"{error.errors()[0]['msg']}. Correct the file.",
            detail={"file": f"schemas/{name}.json"},
        ) from error
    date_field = descriptor.get("dateField", "")
    if schema.field(date_field) is None:
        raise InvalidInput(
            f"schemas/{name}.json names dateField '{date_field}', which is not one of its fields.",
            detail={"file": f"schemas/{name}.json", "column": date_field},
        )
    facts = descriptor.get("openblotter", {})
    unknown = [f for f in facts.get("eventFields", []) if schema.field(f) is None]
    if unknown:
        raise InvalidInput(
            f"schemas/{name}.json names eventFields {unknown}, which are not among its fields.",
            detail={"file": f"schemas/{name}.json", "column": unknown[0]},
        )
    return Family(
        name=name,
        title=descriptor.get("title", name),
        schema=schema,
        prose=parse_prose(_read_text(f"{name}.md"), source=f"schemas/{name}.md"),
        event_unit=descriptor.get("eventUnit", ""),
        date_field=date_field,
        derived_from=descriptor.get("derivedFrom"),
        counted_event=facts.get("countedEvent"),
        event_fields=tuple(facts["eventFields"]) if "eventFields" in facts else None,
    )


@cache
def _read_text(filename: str) -> str:
    return (_schemas_dir() / filename).read_text(encoding="utf-8")


def parse_prose(text: str, *, source: str = "prose") -> FamilyProse:
    """Split a family's Markdown into its four sections (``## Summary`` ... ``## Caveats``)."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        heading = re.match(r"^##\s+(.+?)\s*$", line)
        if heading:
            key = PROSE_SECTIONS.get(heading.group(1).strip().lower())
            if key is None:
                raise InvalidInput(
                    f"{source}: unknown section '{heading.group(1)}'; the sections are "
                    f"{', '.join(s.capitalize() for s in PROSE_SECTIONS)}.",
                    detail={"file": source},
                )
            current = key
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    missing = [title for title, key in PROSE_SECTIONS.items() if not "".join(sections.get(key, []))]
    if missing:
        raise InvalidInput(
            f"{source} has no text under: {', '.join(m.capitalize() for m in missing)}.",
            detail={"file": source},
        )
    return FamilyProse(**{key: "\n".join(lines).strip() for key, lines in sections.items()})


def derive_rows(family: Family, source: pl.DataFrame) -> pl.DataFrame:
    """The rows of a derived family (hate crimes) taken from its source family's table.

    Follows the family's ``derivedFrom``: keep the rows that match ``where``
    (``field``: equal, ``field__in`` / ``field__notin``: in or not in a list),
    take ``fields`` (derived name -> source name), set ``constants`` and leave
    ``notDerived`` fields blank. Columns come back in the family's schema order,
    with ``__row`` when the source has it.
    """
    spec = family.derived_from
    if not spec:
        raise InvalidInput(f"The family '{family.name}' is not derived from another one.")
    keep = pl.lit(True)
    for key, value in spec.get("where", {}).items():
        name, _, op = key.partition("__")
        column = pl.col(name)
        keep &= {"in": column.is_in(value), "notin": ~column.is_in(value)}.get(op, column == value)
    rows = source.filter(keep)
    columns: list[pl.Expr] = []
    for f in family.schema.fields:
        origin = spec.get("fields", {}).get(f.name)
        if origin is not None and origin in rows.columns:
            columns.append(pl.col(origin).alias(f.name))
        elif f.name in spec.get("constants", {}):
            columns.append(pl.lit(spec["constants"][f.name]).alias(f.name))
        else:
            columns.append(pl.lit(None).alias(f.name))
    if "__row" in rows.columns:
        columns.append(pl.col("__row"))
    return rows.select(columns)
