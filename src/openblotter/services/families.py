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
