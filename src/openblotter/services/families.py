"""The bundled dataset families as the doors show them: schema, prose, title.

Pages and the CLI ask here, never ``ingest.families`` (an import-linter
contract keeps the doors out of ingest).
"""

from __future__ import annotations

from openblotter.ingest.families import FAMILY_NAMES, Family, list_families, load_family


def families() -> list[Family]:
    """Every bundled family, in catalog order."""
    return list_families()


def family(name: str | None) -> Family | None:
    """The bundled family called ``name`` (schema and prose), or None (a custom dataset)."""
    return load_family(name) if name in FAMILY_NAMES else None


def family_titles() -> dict[str, str]:
    """Each family's title by name, in catalog order."""
    return {f.name: f.title for f in list_families()}


def event_families() -> tuple[str, ...]:
    """The families whose rows are events an analysis counts against the community
    (``eventFields`` in their schema file), in catalog order."""
    return tuple(f.name for f in list_families() if f.event_fields is not None)


def event_fields(name: str | None) -> tuple[str, ...]:
    """The fields that identify one counted event of a family (empty: one row, one event)."""
    found = family(name)
    return found.event_fields or () if found else ()


def counted_event(name: str | None) -> str | None:
    """What one counted event of a family is, in words; None for a custom dataset."""
    found = family(name)
    return found.counted_event if found else None
