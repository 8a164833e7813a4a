"""The new real files through their mappings: people counted as people, incidents as
incidents, every rule's blanks counted, and no row lost or duplicated.

Every expected number is computed here from the raw file with duckdb or polars, not
through the mapping code; a few are also pinned as literals from tests/data/real/SOURCES.md.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest

from openblotter.domain.errors import NotFound
from openblotter.domain.report import ValidationReport
from openblotter.ingest.conform import conform
from openblotter.ingest.families import load_family
from openblotter.services import query as query_service
from openblotter.services import releases as release_service
from openblotter.services.publishing import PublishRequest, publish
from tests.conftest import REAL_DATA
from tests.factories import publish_file
from tests.factories_real import FILES, ORLANDO, REFUSED, conformed, mapped

FLAGS = {
    "Electronic Device Used": "Conducted energy weapon (Taser) used",
    "Chemical Agent Used": "Chemical agent (pepper spray)",
    "Tackle Take Down": "Takedown",
    "Impact Weapons Used": "Impact weapon (baton or other)",
    "Physical Strikes Made": "Physical strike (hands, feet, knees)",
    "Deflation Device Used": "Other",
    "K9 Unit Involved": "Canine",
}


def sql(query: str, path: Path) -> list[tuple]:
    """A query over the raw file as text (``RAW`` is the file), read by duckdb alone."""
    source = f"read_csv('{path}', all_varchar=true, header=true)"
    return duckdb.sql(query.replace("RAW", source)).fetchall()


def people(name: str, role: str) -> pl.DataFrame:
    [table] = [p for p in mapped(name).people if p.role == role]
    report = ValidationReport()
    frame = conform(table.frame, table.schema, report).frame
    assert report.error_count == 0, report.to_dict()["problems"]
    return frame


def problem_count(name: str, code: str, column: str | None = None) -> int:
    return sum(
        1
        for p in mapped(name).problems
        if p.code == code and (column is None or p.column == column)
    )


def rule(name: str, check: str) -> dict:
    [entry] = [r for r in mapped(name).rules_applied if r["check"] == check]
    return entry


ORLANDO_ROWS = "RAW WHERE \"Incident Number\" <> 'IncidentNumber'"


def test_orlando_incidents_are_counted_once_and_no_row_is_lost() -> None:
    [(incidents,)] = sql(f"SELECT count(*) FROM {ORLANDO_ROWS}", ORLANDO)
    assert incidents == 5656  # 5658 rows less the 2 repeated headers (SOURCES.md)
    frame, report = conformed("orlando_use_of_force")
    assert frame["__row"].n_unique() == incidents
    flags = " + ".join(f"(\"{c}\" = 'Yes')::INT" for c in FLAGS)
    [(rows,)] = sql(f"SELECT sum(greatest(1, {flags})) FROM {ORLANDO_ROWS}", ORLANDO)
    assert frame.height == rows
    assert frame.select("record_id", "force_number").is_duplicated().sum() == 0
    skipped = [p for p in mapped("orlando_use_of_force").problems if p.code == "rows_skipped"]
    assert [p.row for p in skipped] == [28, 2727]


def test_orlando_incidents_by_force_type_count_each_incident_once_per_type() -> None:
    frame, _ = conformed("orlando_use_of_force")
    by_type = frame.group_by("force_type").agg(
        pl.len().alias("rows"), pl.col("record_id").n_unique().alias("incidents")
    )
    got = {t: (r, i) for t, r, i in by_type.iter_rows()}
    for column, force_type in FLAGS.items():
        [(yes,)] = sql(f"SELECT count(*) FROM {ORLANDO_ROWS} AND \"{column}\" = 'Yes'", ORLANDO)
        assert got[force_type] == (yes, yes), column
    assert got["Conducted energy weapon (Taser) used"][0] == 2358


def test_orlando_subjects_are_counted_as_people() -> None:
    subjects = people("orlando_use_of_force", "subjects")
    [(stated,)] = sql(f'SELECT sum("Offenders Involved"::INT) FROM {ORLANDO_ROWS}', ORLANDO)
    assert subjects.height == stated
    listed = dict(
        sql(
            "SELECT trim(code), count(*) FROM (SELECT unnest(string_split(\"Offenders Race\", ';'))"
            f" AS code FROM {ORLANDO_ROWS} AND \"Offenders Involved\" <> '0') GROUP BY 1",
            ORLANDO,
        )
    )
    race = Counter(subjects["subject_race"].to_list())
    assert race["White"] == listed["W"]
    assert race["Black or African American"] == listed["B"]
    assert race["Asian"] == listed.get("A", 0)
    assert sum(race.values()) == sum(listed.values())
    assert subjects.select("record_id", "subject_number").is_duplicated().sum() == 0
    # 230 incidents say 0 offenders but still write U: no subject row, and reported
    [(none,)] = sql(
        f"SELECT count(*) FROM {ORLANDO_ROWS} AND \"Offenders Involved\" = '0'", ORLANDO
    )
    assert none == 230
    assert (
        problem_count("orlando_use_of_force", "people_count_differs", "Offenders Involved") == 230
    )


def test_orlando_officers_cut_lists_keep_their_places() -> None:
    officers = people("orlando_use_of_force", "officers")
    [(stated,)] = sql(f'SELECT sum("Officers Involved"::INT) FROM {ORLANDO_ROWS}', ORLANDO)
    assert officers.height == stated
    sexes = dict(
        sql(
            "SELECT code, count(*) FROM (SELECT unnest(string_split(\"Officers Sex\", ';'))"
            f" AS code FROM {ORLANDO_ROWS}) GROUP BY 1",
            ORLANDO,
        )
    )
    got = Counter(officers["officer_sex"].to_list())
    assert got["Male"] == sexes["M"] and got["Female"] == sexes["F"]
    # races and sexes are cut at 8 codes for 9-12 officers (7 rows, SOURCES.md)
    cut = sql(
        f'SELECT count(*) FROM {ORLANDO_ROWS} AND "Officers Involved"::INT > '
        "len(string_split(\"Officers Race\", ';'))",
        ORLANDO,
    )
    assert (
        cut == [(7,)]
        and problem_count("orlando_use_of_force", "people_list_length", "officer_race") == 7
    )
    [(ethnicity_cut,)] = sql(
        f'SELECT count(*) FROM {ORLANDO_ROWS} AND "Officers Involved"::INT <> '
        "len(string_split(\"Officers Ethnicity\", ';'))",
        ORLANDO,
    )
    assert (
        problem_count("orlando_use_of_force", "people_list_length", "officer_ethnicity")
        == ethnicity_cut
    )
    # the officers of a cut incident keep their own values; the ninth's race is blank
    [table] = [p for p in mapped("orlando_use_of_force").people if p.role == "officers"]
    cut_row = table.frame.filter(pl.col("record_id") == "ORL-172").sort("officer_number")
    assert cut_row["officer_race"].to_list() == ["W"] * 7 + ["A", None]
    assert officers.filter(pl.col("record_id") == "ORL-172")["officer_race"].to_list()[:8] == [
        "White"
    ] * 7 + ["Asian"]


def test_south_bend_force_types_and_arcgis_dates() -> None:
    path = REAL_DATA / FILES["south_bend_use_of_force"]
    frame, _ = conformed("south_bend_use_of_force")
    [(incidents, parts)] = sql(
        "SELECT count(*), sum(len(string_split(Response, '/'))) FROM RAW", path
    )
    assert frame["record_id"].n_unique() == incidents == 203
    assert frame.height == parts == 204
    [(pepper,)] = sql(
        "SELECT count(*) FROM RAW WHERE trim(Response) IN ('OC', 'OC Spray', 'Pepper Spray')", path
    )
    assert Counter(frame["force_type"])["Chemical agent (pepper spray)"] == pepper == 13
    assert str(frame["incident_date"].min()) == "2017-01-01"
    assert str(frame["incident_date"].max()) == "2020-04-21"


def test_indianapolis_allegations_complainants_and_officers() -> None:
    path = REAL_DATA / FILES["indianapolis_complaints"]
    frame, _ = conformed("indianapolis_complaints")
    [(rows, complaints, pairs)] = sql(
        "SELECT count(*), count(DISTINCT INCNUM), count(DISTINCT (INCNUM, coalesce(CITNUM, '')))"
        " FROM RAW",
        path,
    )
    assert frame.height == rows == 3676
    assert frame["complaint_id"].n_unique() == complaints == 1298
    assert frame.select("complaint_id", "complainant_number").n_unique() == pairs
    key = ["complaint_id", "allegation_number", "complainant_number"]
    assert frame.select(key).is_duplicated().sum() == 0
    findings = dict(sql("SELECT FINDING, count(*) FROM RAW GROUP BY 1", path))
    assert Counter(frame["finding"])["Sustained"] == findings["Sustained"] == 354
    # an officer's impossible age is counted once per officer of a complaint (officers table)
    [(young, old)] = sql(
        "SELECT count(*) FILTER (CIT_AGE::INT < 1 OR CIT_AGE::INT > 110),"
        " count(DISTINCT (INCNUM, OFFNUM)) FILTER (OFF_AGE::INT < 18 OR OFF_AGE::INT > 80)"
        " FROM RAW",
        path,
    )
    ages = [r for r in mapped("indianapolis_complaints").rules_applied if r["check"] == "range"]
    assert [a["count"] for a in ages] == [young, old] == [4, 2]
    assert frame["subject_age"].drop_nulls().min() >= 1
    assert "officer_age" not in frame.columns
    assert people("indianapolis_complaints", "officers")["officer_age"].drop_nulls().min() >= 18


def test_milwaukee_markers_skipped_and_impossible_closing_dates_blanked() -> None:
    path = REAL_DATA / FILES["milwaukee_complaints"]
    frame, report = conformed("milwaukee_complaints")
    real = "RAW WHERE regexp_matches(_id, '^[0-9]+$')"
    # a cell of spaces is blank (Category3 of complaint 1202 is " ")
    filled = " + ".join(f"(nullif(trim(Category{i}), '') IS NOT NULL)::INT" for i in range(1, 5))
    # a category cell "No Allegation;Information Only" holds two allegations
    entries = " + ".join(
        f"coalesce(len(list_filter(string_split(Category{i}, ';'), lambda x: trim(x) <> '')), 0)"
        for i in range(1, 5)
    )
    [(complaints, categories, allegations)] = sql(
        f"SELECT count(*), sum(greatest(1, {filled})), sum(greatest(1, {entries})) FROM {real}",
        path,
    )
    assert frame["__row"].n_unique() == complaints == 1904
    assert frame.height == allegations == categories + 4
    assert not frame["allegation"].drop_nulls().str.contains(";").any()
    [(backwards,)] = sql(
        f"SELECT count(*) FROM {real} AND try_strptime(\"Date Closed\", '%m/%d/%Y')"
        " < try_strptime(DateReported, '%m/%d/%Y')",
        path,
    )
    blanked = (
        rule("milwaukee_complaints", "date_window")["count"]
        + rule("milwaukee_complaints", "order")["count"]
    )
    assert blanked == backwards == 3
    closed = frame.filter(pl.col("closed_date").is_not_null())
    assert (closed["closed_date"] >= closed["received_date"]).all()
    # 18 quarter dividers and 31 VOID, DUP and SKIP rows (SOURCES.md), each reported
    [(markers,)] = sql("SELECT count(*) FROM RAW WHERE NOT regexp_matches(_id, '^[0-9]+$')", path)
    assert problem_count("milwaukee_complaints", "rows_skipped") == markers == 49
    [(packed,)] = sql(
        f"SELECT count(*) FROM {real} AND (Category1 LIKE '%;%' OR Category2 LIKE '%;%'"
        " OR Category3 LIKE '%;%' OR Category4 LIKE '%;%')",
        path,
    )
    assert packed == 4
    assert problem_count("milwaukee_complaints", "packed_value") == 0


def test_oakland_merged_records_are_reported_and_skips_are_counted() -> None:
    path = REAL_DATA / FILES["oakland_stops"]
    frame, _ = conformed("oakland_stops")
    # duckdb's sniffer gives up on the malformed row, so polars reads this one
    source = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True)
    assert source.height == 98
    merged = source.filter(pl.col("raw_row_number").str.contains("|", literal=True)).height
    assert merged == 3
    assert frame.height == 98 - 3  # two NA dates and the malformed row, each reported
    assert frame.filter(pl.col("record_id").str.contains("|", literal=True)).height == merged
    # the merged stop's two reasons are one stop's list ([lists]), never a packed code
    assert not [p for p in mapped("oakland_stops").problems if p.code == "packed_value"]
    packed = source.filter(pl.col("reason_for_stop").str.contains("|", literal=True))
    assert packed["reason_for_stop"].to_list() == ["Probable Cause|Reasonable Suspicion"]
    [row] = frame.filter(pl.col("record_id") == packed["raw_row_number"][0]).rows(named=True)
    assert row["reason"] == "Probable Cause, Reasonable Suspicion"


def test_louisville_officers_split_and_the_publish_says_why_it_stops(portal) -> None:
    path = REAL_DATA / REFUSED["louisville_shootings"]
    table = mapped("louisville_shootings")
    officers = [p for p in table.people if p.role == "officers"][0]
    source = pl.read_csv(path, infer_schema=False)
    raw = source.filter(pl.col("Lethal Y/N").is_not_null() & (pl.col("Lethal Y/N") != "Continued"))
    listed = raw["RaceO"].str.split(",").list.len().sum()
    assert officers.frame.height == listed == 8
    assert sorted(officers.frame.filter(pl.col("record_id") == "LOU-2015-4")["officer_age"]) == [
        "25",
        "35",
    ]
    result = publish(
        portal,
        PublishRequest(
            path=path,
            dataset_id="louisville_shootings",
            label="2015-Q4",
            mapping=Path("louisville_shootings"),
        ),
    )
    assert result.release is None
    # the date is read from the narratives; the two that give none are named as the reason
    undated = [p.row for p in result.report.groups["no_date_in_text"].examples]
    assert undated == [4, 10]
    missing = result.report.groups["missing_column"].examples
    assert "incident_date" not in {p.column for p in missing}
    errors = [p for g in result.report.groups.values() for p in g.examples if p.severity == "error"]
    assert {(p.row, p.column) for p in errors} == {(4, "incident_date"), (10, "incident_date")}
    assert portal.catalog.dataset("louisville_shootings_officers") is None


def test_louisville_dates_come_from_the_narratives_and_continued_rows_join_their_incident() -> None:
    path = REAL_DATA / REFUSED["louisville_shootings"]
    table = mapped("louisville_shootings")
    source = pl.read_csv(path, infer_schema=False).with_row_index("line", offset=2)
    records = source.filter(
        pl.col("Lethal Y/N").is_not_null() & (pl.col("Lethal Y/N") != "Continued")
    )
    continued = source.filter(pl.col("Lethal Y/N") == "Continued")
    assert continued.height == 2
    # one row per incident: the two continuation rows are not incidents of their own
    assert table.frame.height == records.height == 6
    dates = dict(table.frame.select("__row", "incident_date").iter_rows())
    assert dates == {
        3: "2015-03-14",  # "On 3/14/2015 at approximately 1343 hours"
        4: None,
        6: "2015-04-14",
        7: "2015-06-13",  # "On Saturday, June 13, 2015"
        8: "2015-08-05",
        10: None,  # "Investigation Pending"
    }
    # each continued row is one more subject of the record right above it
    subjects = [p for p in table.people if p.role == "subjects"][0].frame
    assert subjects.height == records.height + continued.height == 8
    lines = source["line"].to_list()
    for line, race, sex in continued.select("line", "RaceS", "SexS").iter_rows():
        above = records.filter(pl.col("line") < line)["line"].max()
        second = subjects.filter((pl.col("__row") == above) & (pl.col("subject_number") == "2"))
        assert second.select("subject_race", "subject_sex").row(0) == (race, sex)
        assert line in lines
    involved = dict(table.frame.select("__row", "subjects_involved").iter_rows())
    assert involved == {3: "1", 4: "2", 6: "1", 7: "1", 8: "2", 10: "1"}
    attached = [p.row for p in table.problems if p.code == "continuation_attached"]
    assert attached == [5, 9]


@pytest.fixture(scope="module")
def orlando_portal(tmp_path_factory):
    from tests.factories import make_portal

    portal = make_portal(tmp_path_factory.mktemp("orlando"))
    result = publish_file(
        portal, ORLANDO, "orlando_uof", "2019-Q2", mapping=Path("orlando_use_of_force")
    )
    return portal, result


def test_a_publish_makes_the_person_tables_datasets_of_their_own(orlando_portal) -> None:
    portal, result = orlando_portal
    assert result.report.facts["people"] == {
        "officers": {"dataset": "orlando_uof_officers", "rows": 11305},
        "subjects": {"dataset": "orlando_uof_subjects", "rows": 5924},
    }
    for dataset_id, family in (
        ("orlando_uof_officers", "use_of_force_officers"),
        ("orlando_uof_subjects", "use_of_force_subjects"),
    ):
        dataset = portal.catalog.dataset(dataset_id)
        assert dataset is not None and dataset.family == family
        assert [r.label for r in release_service.list_releases(portal, dataset_id)] == ["2019-Q2"]
    page = query_service.rows_page(
        portal, "orlando_uof_subjects", [("record_id", "ORL-3"), ("_size", "10")]
    )
    assert [row["subject_number"] for row in page["rows"]] == [1]
    groups = query_service.aggregate(
        portal, "orlando_uof_subjects", [("_group", "subject_race"), ("_agg", "count")]
    )["groups"]
    by_race = {g["subject_race"]: g["count"] for g in groups}
    assert (
        by_race["White"]
        == Counter(people("orlando_use_of_force", "subjects")["subject_race"])["White"]
    )
    facets = query_service.facet_counts(portal, "orlando_uof_officers", [("_facet", "officer_sex")])
    sexes = {v["value"]: v["count"] for v in facets["facets"]["officer_sex"]}
    assert sum(sexes.values()) == 11305
    with pytest.raises(NotFound):  # people live in their own tables
        query_service.facet_counts(portal, "orlando_uof", [("_facet", "officer_race")])


def test_the_manifest_lists_the_rules_applied(orlando_portal) -> None:
    portal, _ = orlando_portal
    release = portal.release("orlando_uof", "2019-Q2")
    manifest = release_service.release_summary(release)
    checks = [r["check"] for r in manifest["rules_applied"]]
    assert checks == ["sentinel_dates", "date_window"]
    assert all(
        {"rule", "fields", "action", "count", "examples"} <= set(r)
        for r in manifest["rules_applied"]
    )
    officers = portal.release("orlando_uof_officers", "2019-Q2")
    assert officers.report["facts"]["people_of"] == {"dataset": "orlando_uof", "role": "officers"}


def test_publishing_the_same_quarter_again_is_refused_before_anything_is_stored(
    orlando_portal,
) -> None:
    portal, _ = orlando_portal
    from openblotter.domain.errors import Conflict

    with pytest.raises(Conflict):
        publish(
            portal,
            PublishRequest(
                path=ORLANDO,
                dataset_id="orlando_uof",
                label="2019-Q2",
                mapping=Path("orlando_use_of_force"),
            ),
        )
    assert len(release_service.list_releases(portal, "orlando_uof_officers")) == 1


def test_person_families_repeat_the_use_of_force_fields_exactly() -> None:
    main = load_family("use_of_force").schema
    for name in ("use_of_force_officers", "use_of_force_subjects"):
        person = load_family(name).schema
        for field in person.fields:
            # the incident's own key and date are described (and required) on the incident
            if field.name in main.field_names and field.name not in ("record_id", "incident_date"):
                assert field == main.field(field.name), (name, field.name)


def test_withdrawing_the_incident_release_takes_its_person_tables_down(portal, tmp_path) -> None:
    from openblotter.domain.errors import NotFound as Gone

    first = publish_file(
        portal,
        REAL_DATA / FILES["orlando_use_of_force"],
        "orl",
        "2019-Q1",
        mapping=Path("orlando_use_of_force"),
    )
    assert first.release is not None
    release_service.withdraw(portal, "orl", "2019-Q1", reason="wrong file")
    for person_id in ("orl_officers", "orl_subjects"):
        with pytest.raises(Gone):
            portal.release(person_id, "2019-Q1")
    # the corrected file can then be published under the same label, people included
    again = publish_file(
        portal,
        REAL_DATA / FILES["orlando_use_of_force"],
        "orl",
        "2019-Q1",
        mapping=Path("orlando_use_of_force"),
    )
    assert again.release is not None
    assert portal.release("orl_officers", "2019-Q1").row_count == 11305


def test_a_community_benchmark_counts_each_subject_once(orlando_portal, tmp_path) -> None:
    from openblotter.services.analysis import benchmark
    from tests.factories import write_demographics

    portal, _ = orlando_portal
    if portal.catalog.dataset("community_demographics") is None:
        area = ["1253000", "Orlando city", "Place", "Florida", "2018", "2018 ACS"]
        demographics = write_demographics(
            tmp_path / "d.csv",
            area,
            [
                ("All", "All", "All", 1000),
                ("White", "Not Hispanic or Latino", "All", 400),
                ("Black or African American", "Not Hispanic or Latino", "All", 300),
                ("Hispanic or Latino", "Hispanic or Latino", "All", 300),
            ],
        )
        publish_file(
            portal,
            demographics,
            "community_demographics",
            "2019-Q2",
            family="community_demographics",
        )
    result = benchmark(portal, "orlando_uof_subjects", by="subject_race", period="2018")
    year = "\"Incident Date Time\" LIKE '%/2018 %'"
    stated = f'SELECT sum("Offenders Involved"::INT) FROM {ORLANDO_ROWS} AND {year}'
    [(subjects_2018,)] = sql(stated, ORLANDO)
    assert result["events_total"] == subjects_2018
    assert "one person force was used on" in result["event_unit"]
