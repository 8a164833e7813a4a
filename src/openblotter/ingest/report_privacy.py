"""The validation report as it is stored and served: no raw value of a protected column.

The publisher sees the whole report when publishing (the CLI prints it, and
``--report`` writes it to a file of theirs). The copy kept in the release
manifest is public, so an example keeps its value only when the value's column
is published as recorded; every other value (a protected or withheld field, a
column that is not published, a raw line of the file) is replaced by
``[withheld]``, in the example and wherever the message quotes it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from openblotter.domain.schema import TableSchema

WITHHELD = "[withheld]"
#: Set in every report this module made public, so a pass over stored reports (reports
#: stored before masking existed, services.report_masking) knows which are done.
MASKED_MARK = "examplesMasked"
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def public_report(report: dict[str, Any], schema: TableSchema) -> dict[str, Any]:
    """A copy of ``report`` (``ValidationReport.to_dict()``) safe to publish with the release."""
    public = copy.deepcopy(report)
    shown = _published_as_recorded(schema)
    for group in public.get("problems", []):
        for example in group.get("examples", []):
            _mask_example(example, shown)
    # The rules' examples quote the values they blanked ({row, column, value}).
    for rule in (public.get("facts") or {}).get("rules_applied", []) or []:
        for example in rule.get("examples", []) or []:
            _mask_example(example, shown)
    public[MASKED_MARK] = True
    return public


def _published_as_recorded(schema: TableSchema) -> set[str]:
    return {
        f.name
        for f in schema.fields
        if not f.free_text and (f.privacy is None or f.privacy.treatment == "keep")
    }


def _mask_example(example: dict[str, Any], shown: set[str]) -> None:
    value = example.get("value")
    if value in (None, ""):
        return
    columns = [c.strip() for c in str(example.get("column") or "").split(",") if c.strip()]
    if columns and all(c in shown for c in columns):
        return
    example["value"] = WITHHELD
    message = str(example.get("message") or "")
    message = message.replace(str(value), WITHHELD)
    # Readers quote raw text in messages ('…'); a quoted column name is not a value here.
    example["message"] = _QUOTED.sub(
        lambda m: m.group() if m.group()[1:-1] in shown else f"'{WITHHELD}'", message
    )
