"""What the publisher says about a release, for its readers.

The mapping file's description and notes (what was blanked, how codes were
read), the source columns left out, the family fields the agency does not
record, blanks stored as Unknown, spreadsheet damage found, and the rules a
mapping applied with their counts. Publishing records them in the release's
report facts (the manifest); the dataset page, the dataset and release API and
the manifest read them back through :func:`release_notes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openblotter.ingest.mapping.model import Mapping

#: The report fact holding the mapping's words (written at publish time).
PUBLISHER = "publisher"
#: The report fact holding the source columns left out of this release.
COLUMNS_LEFT_OUT = "columns_left_out"
#: The report fact where a mapping's rules record what they did (ingest.mapping.rules):
#: ``[{rule, check, fields, action, count, examples}]``, ``rule`` in plain words for readers.
RULES = "rules_applied"


def mapping_facts(mapping: Mapping | None) -> dict[str, Any]:
    """The publisher's own words from a mapping file (empty without a mapping)."""
    if mapping is None:
        return {}
    words = {
        "mapping": Path(mapping.path).name,
        "description": mapping.description.strip(),
        "agency": mapping.agency.strip(),
        "source_url": mapping.source_url.strip(),
        "notes": mapping.notes.strip(),
    }
    return {k: v for k, v in words.items() if v}


def _rules(facts: dict[str, Any]) -> list[dict[str, Any]]:
    rules = facts.get(RULES) or []
    if isinstance(rules, dict):  # {rule name: details} is accepted as well as a list
        rules = [
            {"rule": name, **(v if isinstance(v, dict) else {"count": v})}
            for name, v in rules.items()
        ]
    return [r for r in rules if isinstance(r, dict)]


def release_notes(report: dict[str, Any]) -> dict[str, Any]:
    """What a reader should know about how a release was made, from its stored report."""
    facts = report.get("facts") or {}
    damage = facts.get("spreadsheet_damage") or {}
    return {
        "publisher": dict(facts.get(PUBLISHER) or {}),
        "columns_left_out": list(facts.get(COLUMNS_LEFT_OUT) or []),
        "not_recorded": list(facts.get("not_recorded") or []),
        "blank_as_unknown": dict(facts.get("blank_coded_as_unknown") or {}),
        "spreadsheet_damage": {
            column: sum(int(n) for n in kinds.values()) for column, kinds in damage.items()
        },
        "rules": _rules(facts),
    }


def has_notes(notes: dict[str, Any]) -> bool:
    """Whether any note is worth showing."""
    return any(bool(v) for v in notes.values())
