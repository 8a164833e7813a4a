"""Fit a real agency's file onto a dataset family, described by a TOML mapping file.

A mapping file is data: a new agency or a new layout needs a new file, never
code. Its keys (all optional except ``family``)::

    family = "use_of_force"                  # the family the file fits
    description = "Dallas PD response to resistance, 2016"
    agency = "Dallas Police Department"     # who publishes the source (documentation)
    files = ["37-00049_UOF-P_*.csv"]         # file names (globs) this mapping is for
    source_url = "https://..."
    notes = "..."                            # what a publisher should know
    trim = true                              # strip spaces around every cell (default)

    [where]                                  # keep only rows whose column has one of these values
    CountyId = ["40027"]

    [columns]                                # family field = where its value comes from
    incident_date = "INCIDENT_DATE"          # one source column
    officer_id = ["OFFICER_ID", "CURRENT_BA"]  # the first of these the file has (layout changes)
    record_id = { concat = ["Case", "UCR_EXT_CODE"], separator = "-" }  # joined into one value
    force_detail = { combine = ["TYPE_OF_FORCE_USED1", "TYPE_OF_FORCE_USED2"] }  # a list of items
    force_detail = { flags = ["Taser Used", "K9 Used"] }  # names of the columns that say yes
    record_id = { row_number = true }        # the row's number in the file (no key in the source)
    force_type = { copy = "force_detail" }   # the values of another field, after its value map

    [constants]                              # the same value on every row
    contact_type = "Field contact"

    [[explode]]                              # one row per item
    fields = ["force_detail", "force_effective"]
    separator = ","                          # splits text cells, and the items of combined lists
    number = "force_number"                  # receives 1, 2, 3... for the items of each row

    [values.subject_race]                    # source spelling -> family code
    "American Ind" = "American Indian or Alaska Native"

    [formats]                                # date/time patterns tried in order
    incident_date = ["%m/%d/%y"]
    incident_time = ["%I:%M:%S %p", "%H:%M:%S"]   # 12-hour one quarter, 24-hour the next
    # "hhmm" reads clock times written as integers (800 = 08:00, 0 = midnight)

    [[join]]                                 # columns from a second file of the same export
    name = "disciplines"
    files = ["ppd_complaint_disciplines.csv"]
    on = ["complaint_id"]
    number = "allegation_number"             # 1, 2... per matching row; 0 where none matched
    [join.columns]
    complaint_id = "complaint_id"

    [[unpivot]]                              # one output row per listed column (wide -> long)
    column = "Men"
    value_field = "population"
    set = { sex = "Male" }

    [lists]                                  # several values of one record in one cell
    reason = "|"                             # written "a, b" (ingest.mapping.lists)

    [[skip]], [[people]], [[rules]], sentinel_dates: see mappings/README.md

Semantics, in the order they are applied:

1. ``where`` keeps matching rows; ``trim`` strips every cell.
2. ``columns`` and ``constants`` build the family fields (source names are
   matched exactly, then ignoring case and spacing). ``combine`` keeps the
   non-blank cells of its columns as a list (blank tails are skipped); if the
   field is not exploded the items are joined with its ``separator`` (", ").
3. ``unpivot`` turns listed columns into rows: each source row gives one row per
   entry, with ``value_field`` = that column's cell and ``set`` fields fixed.
4. ``join`` adds the fields of each related file: a left join on ``on`` (the
   family fields both sides fill). A row with several matches becomes several
   rows; two joins on the same key give every combination. ``number`` numbers
   the related rows of each key in file order (0 where nothing matched).
5. ``explode``: within one group, the fields explode together: the first item
   of each goes on the first new row, and so on. A field with a single item is
   repeated on every new row; a shorter list is padded with blanks and
   reported. Groups explode one after another, so two groups give every
   combination. A row with no items stays one row with blanks. ``__row`` is
   kept, so several rows can share it.
6. ``values`` maps spellings (trimmed, case-folded) to codes, after exploding,
   so each item is mapped. Unmapped spellings are left for the schema's
   valueMap, and values in neither are kept as written and reported later.
7. ``copy`` fields take the mapped values of their source, then their own map.
8. ``formats`` parse dates and times, written out as ISO text (2016-09-03,
   04:14:00); cells no pattern reads are left as written for validation to report.

``skip`` drops rows before anything else; ``continuation`` then adds the people of
rows that continue the record above to that record (ingest.mapping.continuation).
``{ date_in_text = "Narrative" }`` takes the first date a text gives (ingest.text_dates). ``people`` splits the lists of each
role into a person table before ``explode`` (ingest.mapping.people), and the
incident table keeps only how many there were. ``rules`` and ``sentinel_dates``
run last, on every table (ingest.mapping.rules). The syntax is documented for
publishers in ``openblotter/mappings/README.md``.

``apply_mapping(raw, None, schema)`` reads a file whose columns are already the
family's field names (or a field's ``sourceNames``): unknown columns are dropped
and listed, missing required fields reported.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from fnmatch import fnmatch
from importlib.resources import files
from pathlib import Path
from typing import Any

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import Problem
from openblotter.domain.schema import TableSchema
from openblotter.ingest.families import load_family
from openblotter.ingest.mapping import continuation as continuation_ops
from openblotter.ingest.mapping import lists as lists_ops
from openblotter.ingest.mapping import ops, spec
from openblotter.ingest.mapping import people as people_ops
from openblotter.ingest.mapping import rules as rule_ops
from openblotter.ingest.mapping.checks import check_targets
from openblotter.ingest.mapping.model import MappedTable, Mapping, PersonTable, RawTableLike
from openblotter.ingest.mapping.ops import ROW
from openblotter.ingest.mapping.people_rows import gather_people
from openblotter.ingest.mapping.skip import skip_rows
from openblotter.ingest.mapping.spec import DateInText
from openblotter.ingest.text_dates import report_undated

_TOP_KEYS = {
    "family",
    "description",
    "agency",
    "files",
    "source_url",
    "notes",
    "trim",
    "where",
    "columns",
    "constants",
    "explode",
    "values",
    "formats",
    "join",
    "unpivot",
    "skip",
    "people",
    "rules",
    "sentinel_dates",
    "lists",
    "continuation",
}


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; InvalidInput says what is wrong and where."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise InvalidInput(
            f"Mapping file {path} does not exist.", detail={"file": str(path)}
        ) from error
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(
            f"Mapping file {path} is not valid TOML: {error}. Fix the line it names.",
            detail={"file": str(path)},
        ) from error
    return mapping_from_dict(data, source=str(path))


def mapping_from_dict(data: dict[str, Any], *, source: str = "mapping") -> Mapping:
    """Build and check a Mapping from parsed TOML (``source`` names it in messages)."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise InvalidInput(
            f"{source}: unknown key(s) {', '.join(unknown)}; the keys are "
            f"{', '.join(sorted(_TOP_KEYS))}.",
            detail={"file": source},
        )
    if "family" not in data:
        raise InvalidInput(
            f"{source}: the mapping must say which family it fits (family = ...).",
            detail={"file": source},
        )
    family = load_family(str(data["family"]))

    def each(key: str, parse: Any) -> tuple[Any, ...]:
        items = data.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise InvalidInput(
                f"{source}: write {key} as [[{key}]] sections (one per entry).",
                detail={"file": source},
            )
        return tuple(parse(item, f"{source} [[{key}]]") for item in items)

    def table(key: str) -> dict[str, Any]:
        return dict(data.get(key, {}))

    mapping = Mapping(
        family=family.name,
        path=source,
        description=str(data.get("description", "")),
        agency=str(data.get("agency", "")),
        files=tuple(spec.as_strings(data.get("files", []), f"{source} files")),
        source_url=str(data.get("source_url", "")),
        notes=str(data.get("notes", "")),
        trim=bool(data.get("trim", True)),
        where={
            k: tuple(spec.as_strings(v, f"{source} [where] {k}")) for k, v in table("where").items()
        },
        columns={
            k: spec.column_spec(v, f"{source} [columns] {k}") for k, v in table("columns").items()
        },
        constants={k: str(v) for k, v in table("constants").items()},
        explode=each("explode", spec.explode_spec),
        values={k: {str(a): str(b) for a, b in v.items()} for k, v in table("values").items()},
        formats={
            k: tuple(spec.as_strings(v, f"{source} [formats] {k}"))
            for k, v in table("formats").items()
        },
        joins=each("join", spec.join_spec),
        unpivot=each("unpivot", spec.unpivot_spec),
        skip=each("skip", spec.skip_spec),
        people=each("people", people_ops.people_spec),
        rules=each("rules", rule_ops.rule_spec),
        sentinel_dates=tuple(
            spec.as_strings(
                data.get("sentinel_dates", list(rule_ops.DEFAULT_SENTINEL_DATES)),
                f"{source} sentinel_dates",
            )
        ),
        lists=lists_ops.lists_spec(data.get("lists", {}), source),
        continuation=each("continuation", continuation_ops.continuation_spec),
    )
    check_targets(mapping, family.schema, source)
    mapping = replace(mapping, people=people_ops.with_copies(mapping.people, mapping.columns))
    people_ops.check_people(mapping.people, family.name, _filled(mapping), source)
    continuation_ops.check_continuations(mapping, source)
    exploded = {f for g in mapping.explode for f in g.fields}
    both = sorted(exploded & {f for g in mapping.people for f in g.fields})
    if both:
        raise InvalidInput(
            f"{source}: {', '.join(both)} in both [[people]] and [[explode]]; a person's "
            "fields are split by [[people]] only.",
            detail={"file": source},
        )
    if any(g.count for g in mapping.people) and (mapping.joins or mapping.unpivot):
        raise InvalidInput(
            f"{source}: a [[people]] count reads a column of the main file row by row, which "
            "[[join]] and [[unpivot]] change; leave 'count' out (the lists then say how many).",
            detail={"file": source},
        )
    return mapping


def _filled(mapping: Mapping) -> set[str]:
    """The fields a mapping fills from the file: its columns and its joins' columns."""
    return set(mapping.columns) | {f for j in mapping.joins for f in j.columns}


def bundled_mappings() -> dict[str, Path]:
    """The mapping files shipped with OpenBlotter, by name (file name without .toml)."""
    folder = files("openblotter") / "mappings"
    return {
        entry.name.removesuffix(".toml"): Path(str(entry))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    }


def bundled_mapping(name: str) -> Mapping:
    """A shipped mapping by name; InvalidInput listing the names if there is none."""
    available = bundled_mappings()
    if name not in available:
        raise InvalidInput(
            f"There is no bundled mapping called '{name}'. The mappings are: "
            f"{', '.join(available)}.",
            detail={"parameter": "mapping", "value": name, "allowed": list(available)},
        )
    return load_mapping(available[name])


def related_paths(mapping: Mapping, main_file: str | Path) -> dict[str, Path]:
    """The files a mapping's joins need, found next to ``main_file`` by their ``files`` patterns."""
    folder = Path(main_file).parent
    found: dict[str, Path] = {}
    for join in mapping.joins:
        matches = sorted(p for p in folder.iterdir() if any(fnmatch(p.name, g) for g in join.files))
        if not matches:
            raise InvalidInput(
                f"The mapping {mapping.path} joins '{join.name}' from a file named like "
                f"{' or '.join(join.files)}, but {folder} has none. Put it next to "
                f"{Path(main_file).name}.",
                detail={"file": str(main_file), "parameter": join.name},
            )
        found[join.name] = matches[0]
    return found


def apply_mapping(
    raw: RawTableLike,
    mapping: Mapping | None,
    schema: TableSchema,
    *,
    related: dict[str, RawTableLike] | None = None,
) -> MappedTable:
    """Rename, combine, join, explode and normalize ``raw`` into ``schema``'s fields (text)."""
    if mapping is None:
        return _apply_identity(raw, schema)
    problems: list[Problem] = []
    frame, used, counts = _fields(raw, mapping, schema, related or {}, problems)
    frame = frame.with_row_index(people_ops.INCIDENT)
    splits = []
    for packed in mapping.people:
        if packed.from_rows:
            frame, split = gather_people(frame, packed, mapping.family, problems)
        else:
            frame, split = people_ops.split_people(
                frame, counts[packed.role], packed, mapping.family, problems
            )
        splits.append(split)
    for group in mapping.explode:
        frame = ops.explode_group(frame, group, problems)
    frame = _map_and_format(frame, mapping, schema)
    main_schema = people_ops.incident_schema(
        schema, mapping.family, mapping.people, _filled(mapping)
    )
    for split in splits:
        split.frame = _map_and_format(split.frame, mapping, split.role.family.schema)
    frame, outcomes = rule_ops.apply_mapping_rules(
        frame, main_schema, splits, mapping.rules, mapping.sentinel_dates, problems
    )
    persons = [
        PersonTable(
            split.group.role, split.role.family.name, *people_ops.person_table(split, frame)
        )
        for split in splits
    ]
    dropped = [c for c in raw.frame.columns if c != ROW and c not in used]
    return MappedTable(
        ops.in_schema_order(frame, main_schema),
        main_schema,
        dropped,
        problems,
        people=persons,
        rules_applied=[o.to_dict() for o in outcomes],
    )


def _fields(
    raw: RawTableLike,
    mapping: Mapping,
    schema: TableSchema,
    related: dict[str, RawTableLike],
    problems: list[Problem],
) -> tuple[pl.DataFrame, set[str], dict[str, pl.Series | None]]:
    """Rows kept, family fields built, unpivoted and joined; the source columns used; and
    each people role's count column (row-aligned with the fields before any unpivot)."""
    source = raw.frame
    if mapping.trim:
        source = ops.trim_cells(source)
    source = skip_rows(source, mapping.skip, problems)
    source = continuation_ops.attach_continuations(source, mapping, problems)
    source = ops.keep_where(source, mapping.where, problems)
    frame, used = ops.build_fields(source, mapping.columns, mapping.constants, schema, problems)
    in_text = {
        k: ops.resolve(source.columns, s.columns[0]) or s.columns[0]
        for k, s in mapping.columns.items()
        if isinstance(s, DateInText)
    }
    report_undated(frame, source, in_text, problems)
    counts = {g.role: people_ops.count_column(source, g.count) for g in mapping.people}
    frame = ops.unpivot_rows(frame, source, mapping.unpivot, used, problems)
    for join in mapping.joins:
        other = related.get(join.name)
        if other is None:
            raise InvalidInput(
                f"The mapping {mapping.path} needs the related file '{join.name}' "
                f"({' or '.join(join.files)}); read it and pass it as related['{join.name}'].",
                detail={"parameter": join.name, "file": raw.source_name},
            )
        frame = ops.join_related(frame, other.frame, join, mapping.trim, schema, problems)
    return frame, used, counts


def _map_and_format(frame: pl.DataFrame, mapping: Mapping, schema: TableSchema) -> pl.DataFrame:
    frame = ops.join_unexploded_lists(frame, mapping.columns)
    frame = lists_ops.split_lists(frame, mapping.lists)
    frame = ops.map_values(frame, mapping.values, exclude=ops.copy_fields(mapping.columns))
    frame = ops.copy_and_map(frame, mapping.columns, mapping.values)
    return ops.apply_formats(frame, mapping.formats, schema)


def _apply_identity(raw: RawTableLike, schema: TableSchema) -> MappedTable:
    problems: list[Problem] = []
    renames, dropped = ops.match_own_names(raw.frame.columns, schema, problems)
    frame = raw.frame.select([pl.col(src).alias(dst) for src, dst in renames.items()] + [ROW])
    present = set(renames.values())
    for f in schema.fields:
        if f.constraints.required and f.name not in present:
            problems.append(
                Problem(
                    code="missing_column",
                    severity="error",
                    column=f.name,
                    message=f"The file has no column '{f.name}' ({f.title}), which this dataset "
                    "requires. Add it, or publish with a mapping file that says which column "
                    "holds it.",
                )
            )
    # Sentinel dates mean "no date" in a file named in the family's own words too.
    frame, outcomes = rule_ops.apply_mapping_rules(
        frame, schema, [], (), rule_ops.DEFAULT_SENTINEL_DATES, problems
    )
    return MappedTable(
        ops.in_schema_order(frame, schema),
        schema,
        dropped,
        problems,
        rules_applied=[o.to_dict() for o in outcomes],
    )
