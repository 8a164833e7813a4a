"""Whole-mapping checks: every target is a field of the family, each filled once."""

from __future__ import annotations

from openblotter.domain.errors import InvalidInput
from openblotter.domain.schema import TableSchema
from openblotter.ingest.mapping.model import Mapping
from openblotter.ingest.mapping.spec import Copy


def check_targets(mapping: Mapping, schema: TableSchema, source: str) -> None:
    """Every field a mapping fills must be a field of its family."""
    names = set(schema.field_names)
    targets: dict[str, list[str]] = {
        "[columns]": list(mapping.columns),
        "[constants]": list(mapping.constants),
        "[values]": list(mapping.values),
        "[formats]": list(mapping.formats),
        "[[explode]]": [f for g in mapping.explode for f in g.fields]
        + [g.number for g in mapping.explode if g.number],
        "[[join]]": [f for j in mapping.joins for f in j.columns]
        + [j.number for j in mapping.joins if j.number],
        "[[unpivot]]": [u.value_field for u in mapping.unpivot]
        + [f for u in mapping.unpivot for f in u.set],
        "[[rules]]": [f for r in mapping.rules for f in (*r.fields, *r.key)],
        "[lists]": list(mapping.lists),
    }
    for section, fields in targets.items():
        bad = sorted({f for f in fields if f not in names})
        if bad:
            raise InvalidInput(
                f"{source} {section}: {', '.join(bad)} not field(s) of {mapping.family}. "
                f"Its fields are: {', '.join(schema.field_names)}.",
                detail={"file": source},
            )
    copies = {k: s.field for k, s in mapping.columns.items() if isinstance(s, Copy)}
    for target, origin in copies.items():
        if origin not in mapping.columns or origin in copies:
            raise InvalidInput(
                f"{source} [columns] {target}: copies '{origin}', which the "
                "mapping does not fill from a column.",
                detail={"file": source},
            )
    exploded = {f for g in mapping.explode for f in g.fields}
    if exploded & set(copies):
        raise InvalidInput(
            f"{source} [[explode]]: copied fields follow their source; do not "
            f"explode {', '.join(sorted(exploded & set(copies)))}."
        )
    _check_filled_once(mapping, source)


def _check_filled_once(mapping: Mapping, source: str) -> None:
    """Each field gets its value from one place: a column, a constant, an unpivot or a join."""
    sections: dict[str, set[str]] = {
        "[columns]": set(mapping.columns),
        "[constants]": set(mapping.constants),
        "[[unpivot]]": {u.value_field for u in mapping.unpivot}
        | {f for u in mapping.unpivot for f in u.set},
        "[[explode]] number": {g.number for g in mapping.explode if g.number},
        "[[rules]] number_within": {
            r.fields[0] for r in mapping.rules if r.check == "number_within" and not r.renumber
        },
    }
    for join in mapping.joins:
        sections[f"[[join]] {join.name}"] = (set(join.columns) - set(join.on)) | (
            {join.number} if join.number else set()
        )
    seen: dict[str, str] = {}
    for section, fields in sections.items():
        for name in sorted(fields):
            if name in seen:
                raise InvalidInput(
                    f"{source}: {name} is filled both in {seen[name]} and in {section}; "
                    "give each field one source.",
                    detail={"file": source},
                )
            seen[name] = section
