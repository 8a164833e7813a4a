"""The bundled dataset families: schemas load, codes agree, privacy is marked, prose exists."""

from __future__ import annotations

import json
from datetime import date
from importlib.resources import files

import polars as pl
import pytest

from openblotter.domain.errors import InvalidInput
from openblotter.domain.schema import SchemaField, TableSchema
from openblotter.ingest.families import (
    FAMILY_NAMES,
    derive_rows,
    list_families,
    load_family,
    parse_prose,
)

FAMILIES = list_families()
BY_NAME = {f.name: f for f in FAMILIES}

# The FBI's NIBRS bias motivation list, written out here independently of the schema.
FBI_BIAS_CODES = [
    "Anti-White",
    "Anti-Black or African American",
    "Anti-American Indian or Alaska Native",
    "Anti-Asian",
    "Anti-Native Hawaiian or Other Pacific Islander",
    "Anti-Multiple Races, Group",
    "Anti-Arab",
    "Anti-Hispanic or Latino",
    "Anti-Other Race/Ethnicity/Ancestry",
    "Anti-Jewish",
    "Anti-Catholic",
    "Anti-Protestant",
    "Anti-Islamic (Muslim)",
    "Anti-Other Religion",
    "Anti-Multiple Religions, Group",
    "Anti-Atheism/Agnosticism",
    "Anti-Mormon",
    "Anti-Jehovah's Witness",
    "Anti-Eastern Orthodox (Russian, Greek, Other)",
    "Anti-Other Christian",
    "Anti-Buddhist",
    "Anti-Hindu",
    "Anti-Sikh",
    "Anti-Gay (Male)",
    "Anti-Lesbian (Female)",
    "Anti-Lesbian, Gay, Bisexual, or Transgender (Mixed Group)",
    "Anti-Heterosexual",
    "Anti-Bisexual",
    "Anti-Physical Disability",
    "Anti-Mental Disability",
    "Anti-Male",
    "Anti-Female",
    "Anti-Transgender",
    "Anti-Gender Non-Conforming",
]


def _descriptor(name: str) -> dict:
    return json.loads((files("openblotter") / "schemas" / f"{name}.json").read_text("utf-8"))


def _normalize(field: SchemaField, value: str) -> str:
    """What conform does with a spelling: trim, case-fold, look up; unmapped stays."""
    return field.normalized_value_map().get(value.strip().casefold(), value)


def test_the_families_in_catalog_order() -> None:
    assert [f.name for f in FAMILIES] == [
        "community_demographics",
        "department_demographics",
        "complaints",
        "complaints_officers",
        "use_of_force",
        "use_of_force_officers",
        "use_of_force_subjects",
        "contacts",
        "community_engagement",
        "hate_crimes",
    ]
    shipped = {p.name for p in (files("openblotter") / "schemas").iterdir()}
    assert shipped == {f"{n}.{ext}" for n in FAMILY_NAMES for ext in ("json", "md")}


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_each_descriptor_is_a_table_schema_with_its_own_name(name: str) -> None:
    descriptor = _descriptor(name)
    schema = TableSchema.from_descriptor(descriptor)
    family = load_family(name)
    assert descriptor["name"] == name and family.title == descriptor["title"]
    assert family.event_unit and family.date_field == descriptor["dateField"]
    assert schema.field(family.date_field).type in ("date", "year")
    assert schema.primary_key and all(schema.field(k) for k in schema.primary_key)
    for key in schema.primary_key:
        field = schema.field(key)
        assert field.constraints.required or field.coded, f"{name}.{key} may be blank"
    for field in schema.fields:
        assert field.description, f"{name}.{field.name} has no description"


def test_unknown_family_names_the_families() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_family("arrests")
    assert "use_of_force" in caught.value.message and "hate_crimes" in caught.value.message
    assert caught.value.detail["allowed"] == list(FAMILY_NAMES)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_codes_are_coherent(family) -> None:
    for field in family.fields:
        enum = field.enum or []
        if field.coded and enum:
            assert field.unknown_value in enum, field.name
        if enum:
            stray = {v for v in field.value_map.values() if v not in enum}
            assert not stray, f"{family.name}.{field.name} maps onto non-codes {stray}"
            targets: dict[str, str] = {}
            for spelling, code in field.value_map.items():
                key = spelling.strip().casefold()
                assert targets.setdefault(key, code) == code, f"{field.name}: '{spelling}' twice"
                enum_match = [e for e in enum if str(e).casefold() == key]
                assert not enum_match or enum_match[0] == code, f"{field.name}: '{spelling}'"


def test_fields_of_the_same_name_mean_the_same_in_every_family() -> None:
    seen: dict[str, tuple[str, SchemaField]] = {}
    for family in FAMILIES:
        for field in family.fields:
            if field.name not in seen:
                seen[field.name] = (family.name, field)
                continue
            first_family, first = seen[field.name]
            where = f"{field.name} in {first_family} and {family.name}"
            assert (field.type, field.value_map) == (first.type, first.value_map), where
            # community_demographics adds the code All to race, ethnicity and sex.
            assert set(first.enum or []) - {"All"} == set(field.enum or []) - {"All"}, where
            assert (field.privacy is None) == (first.privacy is None), where


def test_bias_motivation_has_every_fbi_code_plus_unknown_and_none() -> None:
    for name in ("contacts", "hate_crimes"):
        bias = BY_NAME[name].schema.field("bias_motivation")
        assert set(FBI_BIAS_CODES) <= set(bias.enum)
        assert {"Unknown (offender's motivation not known)", "None (no bias)"} <= set(bias.enum)
        assert len(FBI_BIAS_CODES) == 34
    assert BY_NAME["contacts"].schema.field("bias_motivation").unknown_value == "None (no bias)"
    hate = BY_NAME["hate_crimes"].schema.field("bias_motivation")
    assert hate.unknown_value == "Unknown (offender's motivation not known)"
    category = BY_NAME["hate_crimes"].schema.field("bias_category")
    assert _normalize(category, "Anti-Sikh") == "Religion"
    assert _normalize(category, "ANTI-HISPANIC") == "Race/Ethnicity/Ancestry"
    assert _normalize(category, "Anti-Gender Non-Conforming") == "Gender Identity"
    for code in FBI_BIAS_CODES:  # every code has a category
        assert _normalize(category, code) in category.enum, code


@pytest.mark.parametrize(
    ("field", "spellings", "code"),
    [
        (
            "subject_race",
            ["B", "BLACK", "Black", "Black or African American", " black "],
            "Black or African American",
        ),
        (
            "subject_race",
            ["Nat Hawaiian/Oth Pac Islander", "P"],
            "Native Hawaiian or Other Pacific Islander",
        ),
        ("subject_race", ["Not Specified", "UNK", "Unable to Determine"], "Unknown"),
        ("subject_sex", ["M", "Male", "MALE", "male "], "Male"),
        ("subject_sex", ["X", "X Or Non-Binary"], "Non-binary"),
        ("subject_ethnicity", ["H", "Hispanic", "Non-Hispanic"], None),  # checked separately below
        ("bias_motivation", ["ANTI-JEWISH", "Anti-Semitic"], "Anti-Jewish"),
        ("bias_motivation", ["Anti-Islamic (Muslem)", "ANTI-ISLAMIC"], "Anti-Islamic (Muslim)"),
        (
            "bias_motivation",
            ["ANTI-HOMOSEXUAL (GAY AND LESBIAN)"],
            "Anti-Lesbian, Gay, Bisexual, or Transgender (Mixed Group)",
        ),
        ("contact_type", ["Terry Stop", "Field Interview"], "Field contact"),
        ("subject_role", ["Offender"], "Suspect"),
    ],
)
def test_standard_synonyms_become_one_code(
    field: str, spellings: list[str], code: str | None
) -> None:
    schema = BY_NAME["contacts"].schema
    if code is None:
        ethnicity = schema.field(field)
        assert [_normalize(ethnicity, s) for s in spellings] == [
            "Hispanic or Latino",
            "Hispanic or Latino",
            "Not Hispanic or Latino",
        ]
        return
    assert {_normalize(schema.field(field), s) for s in spellings} == {code}


def test_ambiguous_spellings_are_left_for_a_person_to_decide() -> None:
    race = BY_NAME["contacts"].schema.field("subject_race")
    # "Indian" may be American Indian or Asian Indian; "N" may be Native or Non-Hispanic.
    assert _normalize(race, "Indian") == "Indian"
    assert _normalize(race, "N") == "N"
    force = BY_NAME["use_of_force"].schema.field("force_type")
    displayed = "Conducted energy weapon (Taser) displayed"
    assert _normalize(force, "Taser Display at Person") == displayed
    assert _normalize(force, "Taser") == "Conducted energy weapon (Taser) used"


def test_complaint_findings_and_channels() -> None:
    schema = BY_NAME["complaints"].schema
    assert {
        "Sustained",
        "Not Sustained",
        "Exonerated",
        "Unfounded",
        "Policy Failure",
        "Withdrawn",
        "Pending",
        "No Finding",
    } <= set(schema.field("finding").enum)
    assert {"Written", "Email", "In person", "Telephone", "Online"} <= set(
        schema.field("received_channel").enum
    )
    assert schema.field("record_type").enum[:2] == ["Complaint", "Inquiry"]
    assert schema.field("anonymous").type == schema.field("third_party").type == "boolean"
    finding = schema.field("finding")
    assert _normalize(finding, "Other than Sustained Finding") == "Other Than Sustained"
    assert _normalize(finding, "No Sustained Findings") == "Other Than Sustained"
    assert _normalize(finding, "Sustained Finding") == "Sustained"


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_personal_data_is_marked(family) -> None:
    schema = family.schema
    for field in schema.fields:
        name = field.name
        treatment = field.privacy.treatment if field.privacy else None
        if name.endswith("_name") and name != "geography_name" and name != "location_name":
            assert treatment == "drop", name
        if name in ("officer_id", "subject_id"):
            assert treatment == "hash", name
        if name in ("latitude", "longitude", "subject_address"):
            assert treatment == "drop", name
        if name == "block_address":
            assert field.privacy.method == "hundred_block"
        if name.endswith("_date_of_birth"):
            assert field.privacy.method == "age"
            assert field.privacy.reference_field == family.date_field
        if name in ("narrative", "summary", "description"):
            assert field.free_text
    public = schema.public_schema()
    names = [f.name for f in public.fields]
    assert len(names) == len(set(names)), "a generalized field is published over another"
    assert not any(
        n.endswith(("_name", "_date_of_birth", "_address"))
        and n not in ("geography_name", "location_name", "block_address")
        for n in names
    )


def test_hate_crimes_are_a_view_of_contacts() -> None:
    hate, contacts = BY_NAME["hate_crimes"], BY_NAME["contacts"]
    derived = hate.derived_from
    assert derived["family"] == "contacts"
    assert derived["where"] == {"bias_motivation__notin": ["None (no bias)"]}
    hate_only = set(derived["notDerived"]) | set(derived["constants"])
    for field in hate.fields:
        if field.name in hate_only:
            continue
        assert derived["fields"][field.name] == field.name
        other = contacts.schema.field(field.name)
        assert other is not None, f"{field.name} is not in contacts"
        assert (other.type, other.enum, other.value_map) == (
            field.type,
            field.enum,
            field.value_map,
        )
    assert set(derived["fields"]) | hate_only == set(hate.schema.field_names)


def test_prose_speaks_to_residents() -> None:
    for family in FAMILIES:
        prose = family.prose
        assert all([prose.summary, prose.collection, prose.definitions, prose.caveats])
    assert "foundation" in BY_NAME["community_demographics"].prose.summary
    definitions = BY_NAME["use_of_force"].prose.definitions
    assert "presentation of a conducted electrical weapon" in definitions
    assert "not personnel" in BY_NAME["complaints"].prose.definitions.replace("\n", " ")
    assert "incomplete" in BY_NAME["community_engagement"].prose.caveats


def test_prose_without_a_section_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Caveats"):
        parse_prose("## Summary\nx\n## How it is collected\ny\n## Definitions\nz\n", source="t.md")
    with pytest.raises(InvalidInput, match="unknown section 'Notes'"):
        parse_prose("## Notes\nx\n", source="t.md")


def test_the_hate_crime_view_is_built_from_contacts_rows() -> None:
    contacts = pl.DataFrame(
        {
            "record_id": ["1", "2", "3"],
            "incident_date": [date(2021, 1, 2), date(2021, 1, 3), date(2021, 2, 1)],
            "bias_motivation": [
                "None (no bias)",
                "Anti-Sikh",
                "Unknown (offender's motivation not known)",
            ],
            "bias_category": ["None (no bias)", "Religion", "Unknown"],
            "subject_role": ["Driver", "Victim", "Victim"],
            "contact_type": ["Traffic stop", "Case report", "Case report"],
            "__row": [2, 3, 4],
        }
    )
    hate = derive_rows(BY_NAME["hate_crimes"], contacts)
    assert hate.columns == [*BY_NAME["hate_crimes"].schema.field_names, "__row"]
    assert hate.select("record_id", "bias_number", "bias_motivation", "subject_role").rows() == [
        ("2", 1, "Anti-Sikh", "Victim"),
        ("3", 1, "Unknown (offender's motivation not known)", "Victim"),
    ]
    assert hate["victim_count"].null_count() == 2
    with pytest.raises(InvalidInput, match="not derived"):
        derive_rows(BY_NAME["contacts"], contacts)


def test_families_are_the_schema_files_in_their_catalog_order() -> None:
    """Issue 14: adding a family is adding its files; its place and analysis facts are data."""
    root = files("openblotter") / "schemas"
    found = {p.name.removesuffix(".json") for p in root.iterdir() if p.name.endswith(".json")}
    assert set(FAMILY_NAMES) == found
    orders = [_descriptor(n)["openblotter"]["catalogOrder"] for n in FAMILY_NAMES]
    assert orders == sorted(orders)


def test_analysis_facts_are_read_from_the_schema_files() -> None:
    from openblotter.services.families import counted_event, event_families, event_fields

    assert event_families() == (
        "complaints",
        "use_of_force",
        "use_of_force_subjects",
        "contacts",
        "hate_crimes",
    )
    assert event_fields("use_of_force") == ("incident_id", "subject_id")
    assert event_fields("contacts") == () and event_fields("custom") == ()
    assert "complainant" in (counted_event("complaints") or "")
    for name in event_families():
        family = load_family(name)
        assert all(family.schema.field(f) for f in family.event_fields or ())
