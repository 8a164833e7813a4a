"""Each real file, read and fitted with its bundled mapping, then conformed to its family.

Expected numbers are computed here from the raw file with plain polars (not through the
mapping code), and a few are pinned as literals checked by hand against the file.
"""

from __future__ import annotations

from collections import Counter
from datetime import time
from pathlib import Path

import polars as pl
import pytest

from openblotter.ingest.families import load_family
from openblotter.ingest.mapping.apply import (
    bundled_mapping,
    bundled_mappings,
)
from tests.conftest import REAL_DATA
from tests.factories_real import FILES, REFUSED, conformed, mapped

REAL = REAL_DATA


def raw(path: str, **options) -> pl.DataFrame:
    """The raw file as text, read independently of the portal's reader."""
    return pl.read_csv(REAL / path, infer_schema=False, **options)


def counts(frame: pl.DataFrame, column: str) -> dict:
    return dict(frame[column].value_counts().iter_rows())


def test_every_bundled_mapping_has_a_real_file_and_fits_its_name() -> None:
    assert set(bundled_mappings()) == set(FILES) | set(REFUSED)
    for name, path in (FILES | REFUSED).items():
        assert bundled_mapping(name).fits(Path(path).name), name


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_real_file_conforms_without_errors(name: str) -> None:
    frame, report = conformed(name)
    assert report.error_count == 0, report.to_dict()["problems"]
    assert frame.height == mapped(name).frame.height > 0


def test_dallas_one_row_per_type_of_force() -> None:
    source = raw(FILES["dallas_use_of_force"]).slice(1)  # row 2 is a second header
    force_columns = [f"TYPE_OF_FORCE_USED{i}" for i in range(1, 11)]
    per_row = source.select(
        pl.sum_horizontal([pl.col(c).is_not_null() for c in force_columns]).alias("n"),
        "SUBJECT_RACE",
    )
    frame, _ = conformed("dallas_use_of_force")
    assert frame.height == per_row["n"].sum() == 5526
    listed = Counter(v for c in force_columns for v in source[c].drop_nulls())
    types = counts(frame, "force_type")
    assert types["Conducted energy weapon (Taser) used"] == listed["Taser"] == 184
    assert types["Conducted energy weapon (Taser) displayed"] == listed["Taser Display at Person"]
    assert types["Verbal command"] == listed["Verbal Command"] == 1300
    assert types["Takedown"] == sum(
        listed[k]
        for k in (
            "Take Down - Arm",
            "Take Down - Body",
            "Take Down - Group",
            "Take Down - Head",
            "Handcuffing Take Down",
            "BD - Tripped",
        )
    )
    assert counts(frame, "force_detail")["Held Suspect Down"] == listed["Held Suspect Down"]
    # FORCE_EFFECTIVE lines up with the force types, one answer per force
    effective = Counter(v.strip() for cell in source["FORCE_EFFECTIVE"] for v in cell.split(","))
    assert counts(frame, "force_effective") == {k: effective[k] for k in ("Yes", "No", "Limited")}
    # each person's race is repeated once per force used on them
    by_race = dict(per_row.group_by("SUBJECT_RACE").agg(pl.col("n").sum()).iter_rows())
    races = counts(frame, "subject_race")
    assert races["Black or African American"] == by_race["Black"] == 3097
    assert races["Hispanic or Latino"] == by_race["Hispanic"]
    assert races["Unknown"] == by_race["NULL"]
    assert races["American Indian or Alaska Native"] == by_race["American Ind"]
    assert frame.filter(pl.col("record_id") == "DAL-2016-3")["incident_time"].to_list() == [
        time(4, 14)
    ]
    assert frame.select(pl.struct("record_id", "force_number").is_unique().all()).item()


def test_seattle_use_of_force() -> None:
    source = raw(FILES["seattle_use_of_force"], encoding="utf8-lossy")
    frame, _ = conformed("seattle_use_of_force")
    assert frame.height == source.height == 13886
    race = Counter(source["Subject_Race"])
    races = counts(frame, "subject_race")
    assert races["Black or African American"] == race["Black or African American"] == 4124
    assert races["Unknown"] == race["Not Specified"] == 2998
    nhpi = "Native Hawaiian or Other Pacific Islander"
    assert races[nhpi] == race["Nat Hawaiian/Oth Pac Islander"]
    assert races["American Indian or Alaska Native"] == race["American Indian/Alaska Native"]
    assert counts(frame, "force_type") == {"Firearm discharged": 99, "Unknown": 13886 - 99}
    assert counts(frame, "force_level") == dict(Counter(source["Incident_Type"]))
    first = frame.row(0, named=True)
    assert (str(first["incident_date"]), str(first["incident_time"])) == ("2014-06-07", "00:09:00")


def test_seattle_terry_stops() -> None:
    source = raw(FILES["seattle_terry_stops"])
    frame, _ = conformed("seattle_terry_stops")
    assert frame.height == source.height == 19753
    race = Counter(source["SubjectPerceivedRace"])
    races = counts(frame, "subject_race")
    assert races["Black or African American"] == race["Black"] == 6105
    assert races["Unknown"] == race["Unknown"] + race["-"] == 1223
    assert races["Two or more races"] == race["Multi-Racial"]
    assert races["American Indian or Alaska Native"] == race["American Indian / Alaskan Native"]
    assert counts(frame, "officer_sex") == {"Male": 17471, "Female": 2278, "N": 4}
    assert counts(frame, "arrest_made") == {True: 4248, False: 15505}
    assert counts(frame, "contact_type") == {"Field contact": 19753}
    assert counts(frame, "subject_age_group")["Unknown"] == Counter(source["SubjectAgeGroup"])["-"]
    assert str(frame["incident_time"][0]) == "21:08:00"


def test_rhode_island_stops() -> None:
    frame, report = conformed("rhode_island_traffic_stops")
    assert frame.height == 27918
    assert counts(frame, "subject_sex") == {"Male": 19077, "Female": 7387, "Unknown": 1454}
    outcomes = counts(frame, "outcome")
    assert outcomes == {
        "Citation": 24650,
        "Arrest": 975,
        "Warning": 375,
        "No action": 180,
        "Arrest of passenger": 88,
        "Unknown": 196 + 1454,
    }
    assert counts(frame, "subject_race")["Hispanic or Latino"] == 1456
    assert counts(frame, "subject_role") == {"Driver": 27918}
    assert report.ok


def _expected_complaint_rows(
    complaints: pl.DataFrame, allegations: pl.DataFrame, people: pl.DataFrame, key: str
) -> int:
    per = (
        complaints.select(key)
        .join(allegations.group_by(key).len("a"), on=key, how="left")
        .join(people.group_by(key).len("c"), on=key, how="left")
        .fill_null(1)
    )
    return int((per["a"] * per["c"]).sum())


@pytest.mark.parametrize(
    ("name", "files", "key", "old_findings"),
    [
        (
            "philadelphia_complaints",
            (
                "ppd_complaints.csv",
                "ppd_complaint_disciplines.csv",
                "ppd_complainant_demographics.csv",
            ),
            "complaint_id",
            False,
        ),
        (
            "philadelphia_complaints_2018",
            (
                "ppd_complaints_7-18.csv",
                "ppd_complaint_disciplines_7-18.csv",
                "ppd_complaint_complainants_7-18_corrected.csv",
            ),
            "cap_number",
            True,
        ),
    ],
)
def test_philadelphia_complaints_join(name, files, key, old_findings) -> None:
    complaints, allegations, people = (raw(f"philadelphia/{f}") for f in files)
    frame, _ = conformed(name)
    assert frame.height == _expected_complaint_rows(complaints, allegations, people, key)
    assert frame["complaint_id"].n_unique() == complaints.height
    # one allegation counted once, whatever the number of complainants
    per_allegation = frame.filter(pl.col("allegation_number") > 0).unique(
        ["complaint_id", "allegation_number"]
    )
    assert per_allegation.height == allegations.height
    findings = Counter(allegations["investigative_findings"])
    got = counts(per_allegation, "finding")
    assert got["Sustained"] == findings["Sustained Finding"]
    not_sustained = "Other than Sustained Finding" if old_findings else "No Sustained Findings"
    assert got["Other Than Sustained"] == findings[not_sustained]
    assert got["Pending"] == findings["Pending"]
    # one complainant counted once, whatever the number of allegations
    per_person = frame.filter(pl.col("complainant_number") > 0).unique(
        ["complaint_id", "complainant_number"]
    )
    matched = people.filter(pl.col(key).is_in(complaints[key].to_list()))
    assert per_person.height == matched.height
    race = Counter(v.strip().lower() if v else None for v in matched["complainant_race"])
    assert counts(per_person, "subject_race")["Black or African American"] == (
        race["black"] + race["b"]
    )
    assert frame.select(
        pl.struct("complaint_id", "allegation_number", "complainant_number").is_unique().all()
    ).item()


def test_philadelphia_pinned_numbers() -> None:
    new, _ = conformed("philadelphia_complaints")
    old, _ = conformed("philadelphia_complaints_2018")
    allegations = new.filter(pl.col("allegation_number") > 0).unique(
        ["complaint_id", "allegation_number"]
    )
    assert counts(allegations, "finding") == {
        "Other Than Sustained": 10026,
        "Sustained": 2418,
        "Pending": 648,
        "No Finding": 240,
    }
    old_allegations = old.filter(pl.col("allegation_number") > 0).unique(
        ["complaint_id", "allegation_number"]
    )
    assert counts(old_allegations, "finding") == {
        "Other Than Sustained": 7078,
        "Sustained": 1283,
        "Pending": 617,
    }
    assert counts(old_allegations, "officer_race")["Unknown"] == 481  # UNK
    assert new.filter(pl.col("allegation_number") == 0)["complaint_id"].n_unique() == 27
    assert str(new.filter(pl.col("complaint_id") == "13-0001")["received_date"][0]) == "2013-01-07"
    assert str(old.filter(pl.col("complaint_id") == "13-0001")["received_date"][0]) == "2013-01-07"
    assert old["classification"][0] == "PHYSICAL ABUSE"  # leading space trimmed
    assert mapped("philadelphia_complaints").problems[0].code == "related_rows_unmatched"


def test_denver_hate_crimes() -> None:
    source = raw(FILES["denver_hate_crimes"])
    frame, _ = conformed("denver_hate_crimes")
    assert frame.height == source.height == 368
    bias = Counter(source["Bias Type"])
    got = counts(frame, "bias_motivation")
    assert (
        got["Anti-Lesbian, Gay, Bisexual, or Transgender (Mixed Group)"]
        == (bias["ANTI-HOMOSEXUAL (GAY AND LESBIAN)"] + bias["ANTI-HOMOSEXUAL (GAY AND LESBIAN"])
        == 67
    )
    assert got["Anti-Black or African American"] == bias["ANTI-BLACK"] == 83
    assert got["Anti-Gay (Male)"] == bias["ANTI-MALE HOMOSEXUAL (GAY)"]
    assert got["Anti-Other Race/Ethnicity/Ancestry"] == bias["ANTI-OTHER ETHNICITY/NATIONAL ORIGIN"]
    assert got["Anti-Asian/Pacific Islander"] == bias["ANTI-ASIAN/PACIFIC ISLANDER"]
    assert set(got) <= set(load_family("hate_crimes").schema.field("bias_motivation").enum)
    categories = counts(frame, "bias_category")
    assert categories["Sexual Orientation"] == 67 + 34 + 11
    first = frame.row(0, named=True)
    assert (first["record_id"], str(first["incident_date"]), str(first["incident_time"])) == (
        "201014158-1316-0",
        "2010-01-07",
        "20:00:00",
    )
    assert (
        Counter(str(t) for t in frame["incident_time"])["00:00:00"]
        == Counter(source["OCC_TIME"])["0"]
    )
    assert frame["location_type"][0] == "RESIDENCE/HOME"


def test_austin_hate_crimes_one_row_per_bias() -> None:
    frame, report = conformed("austin_hate_crimes")
    assert frame.height == 121 + 3  # three incidents list two biases
    got = counts(frame, "bias_motivation")
    assert got["Anti-Gay (Male)"] == 27 + 2 + 1
    assert got["Anti-Transgender"] == 7 + 2
    assert got["Anti-Jewish"] == 10 + 1
    assert got["Anti-Lesbian, Gay, Bisexual, or Transgender (Mixed Group)"] == 2 + 1
    assert got["Anti-Disability"] == 1  # ambiguous: kept as written and reported
    # 71 incidents name a White offender (White/Non-Hispanic, White/Hispanic, ...); one of them
    # lists two biases, so it has two rows.
    assert counts(frame, "subject_race")["White"] == 71 + 1
    assert frame.filter(pl.col("record_id") == "2020-680226")["bias_number"].to_list() == [1, 2]
    unmapped = {(p.column, p.value) for p in report.groups["unmapped_value"].examples}
    assert ("bias_motivation", "Anti-Disability") in unmapped


def test_new_jersey_officers() -> None:
    source = raw(FILES["new_jersey_officers"])
    frame, _ = conformed("new_jersey_officers")
    assert frame.height == source.height == 30617 == frame["count"].sum()
    race = Counter(source["Race/Ethnicity"])
    races = counts(frame, "officer_race")
    assert races["White"] == race["White"] + race["white"] == 21315
    assert races["Hispanic or Latino"] == race["Hispanic"]
    assert races["Native Hawaiian or Other Pacific Islander"] == 28 + 20
    assert races["Unknown"] == race["Not provided"] == 205
    assert counts(frame, "officer_sex") == {
        "Male": 27152,
        "Female": 3186,
        "Unknown": 267,
        "Non-binary": 12,
    }
    assert counts(frame, "agency_type")["Unknown"] == 191
    assert (
        frame["officer_age"].null_count()
        == source["Age"].null_count() + Counter(source["Age"])["-"]
    )


def test_census_files() -> None:
    county, _ = conformed("census_acs2017_county")
    assert county.height == 9
    rows = {(r["race"], r["ethnicity"], r["sex"]): r for r in county.iter_rows(named=True)}
    assert rows[("All", "All", "All")]["population"] == 274024
    assert rows[("All", "All", "Male")]["population"] == 136970
    assert rows[("White", "Not Hispanic or Latino", "All")]["percent"] == 72.8
    assert rows[("All", "Hispanic or Latino", "All")]["percent"] == 8.2
    places, _ = conformed("census_pep2019_places")
    norman = {(r["year"], r["source"]): r["population"] for r in places.iter_rows(named=True)}
    assert norman[(2010, "2010 Census")] == 110925
    assert norman[(2019, "Population Estimates, Vintage 2019 (July 1)")] == 124880
    assert set(places["geography_id"]) == {"4052500"}


def test_fbi_bias_labels_of_1991_to_2014_are_all_codes() -> None:
    labels = raw("fbi/hate_crime_state_year_bias_1991-2014.csv")["bias_motivation"].unique()
    field = load_family("hate_crimes").schema.field("bias_motivation")
    lookup = field.normalized_value_map()
    codes = {label: lookup.get(label.strip().casefold()) for label in labels}
    assert None not in codes.values(), [k for k, v in codes.items() if v is None]
    assert codes["Anti-Islamic (Muslem)"] == "Anti-Islamic (Muslim)"
    assert codes["Anti-Not Hispanic or Latino"] == "Anti-Other Race/Ethnicity/Ancestry"
    assert len(labels) == 27
