"""Officers and community: representation index and officer-subject pair tables."""

from __future__ import annotations

import csv
from collections import Counter

import polars as pl
import pytest

from openblotter.analysis.census_mapping import (
    DEFAULT_RACE_ETHNICITY_MAPPING,
    HISPANIC,
    NH_AIAN,
    NH_ASIAN,
    NH_BLACK,
    NH_NHPI,
    NH_OTHER,
    NH_TWO_OR_MORE,
    NH_WHITE,
    RACE_ETHNICITY_CATEGORIES,
    CodeMapping,
)
from openblotter.analysis.census_population import population_by_race_ethnicity, total_population
from openblotter.analysis.population import PopulationEstimate as Pop
from openblotter.analysis.representation import (
    race_pair_table,
    representation_by,
    representation_index,
)
from openblotter.domain.errors import InvalidInput
from openblotter.ingest.census.tables import read_acs2017_county_row

CITY = {NH_WHITE: Pop(700), NH_BLACK: Pop(100), HISPANIC: Pop(150), NH_ASIAN: Pop(50)}


def by_group(result):
    return {row.group: row for row in result.rows}


def test_index_is_share_of_staff_over_share_of_residents():
    result = representation_index(
        {"White": 80, "Black": 5, "Hispanic or Latino": 15, "Unknown": 3, None: 1},
        CITY,
        mapping=DEFAULT_RACE_ETHNICITY_MAPPING,
    )
    rows = by_group(result)
    assert result.staff_total == 104 and result.staff_known == 100
    assert rows[NH_WHITE].representation_index == pytest.approx(0.80 / 0.70)
    assert rows[NH_BLACK].representation_index == pytest.approx(0.05 / 0.10)
    assert rows[NH_ASIAN].staff == 0 and rows[NH_ASIAN].representation_index == 0.0
    assert rows["Unknown"].staff == 4 and rows["Unknown"].representation_index is None
    assert rows[NH_AIAN].representation_index is None  # no census count given
    assert result.to_dict()["subset"] == "All staff"


def test_index_by_sworn_status_and_rank():
    roster = pl.DataFrame(
        {
            "race": ["White"] * 6 + ["Black"] * 2 + ["Hispanic or Latino"] * 2,
            "sworn": [True, True, True, True, False, False, True, False, True, True],
            "rank": ["Officer", "Officer", "Sergeant", "Lieutenant", "Clerk", "Clerk",
                     "Officer", "Clerk", "Officer", "Sergeant"],
        }
    )  # fmt: skip
    results = representation_by(
        roster,
        CITY,
        group_column="race",
        by=("sworn", "rank"),
        mapping=DEFAULT_RACE_ETHNICITY_MAPPING,
    )
    subsets = {r.subset: r for r in results}
    assert list(subsets)[0] == "All staff"
    assert {"sworn: True", "sworn: False", "rank: Officer", "rank: Sergeant"} <= set(subsets)
    sworn = by_group(subsets["sworn: True"])
    assert subsets["sworn: True"].staff_known == 7
    assert sworn[NH_WHITE].representation_index == pytest.approx((4 / 7) / 0.70)
    assert sworn[HISPANIC].representation_index == pytest.approx((2 / 7) / 0.15)
    sergeants = by_group(subsets["rank: Sergeant"])
    assert sergeants[NH_WHITE].staff == 1 and sergeants[HISPANIC].staff == 1


def test_counts_can_come_in_a_column():
    counts = pl.DataFrame({"race": ["White", "Black"], "n": [30, 10], "sworn": [True, True]})
    [everyone, sworn] = representation_by(
        counts,
        CITY,
        group_column="race",
        by=("sworn",),
        mapping=DEFAULT_RACE_ETHNICITY_MAPPING,
        count_column="n",
    )
    assert everyone.staff_total == 40 and sworn.staff_total == 40
    assert by_group(everyone)[NH_BLACK].share_of_staff == 0.25


def test_missing_columns_are_named():
    with pytest.raises(InvalidInput, match="'rank'"):
        representation_by(
            pl.DataFrame({"race": ["White"]}),
            CITY,
            group_column="race",
            by=("rank",),
            mapping=DEFAULT_RACE_ETHNICITY_MAPPING,
        )


# New Jersey's officer roster (real) against Essex County, NJ (real ACS 2017 row).
NJ_MAPPING = CodeMapping(
    name="NJ OAG officer race/ethnicity",
    dimension="race_ethnicity",
    categories=RACE_ETHNICITY_CATEGORIES,
    codes={
        "White": NH_WHITE,
        "Black or African American": NH_BLACK,
        "Hispanic": HISPANIC,
        "Asian": NH_ASIAN,
        "American Indian or Alaska Native": NH_AIAN,
        "Native Hawaiian or other Pacific Islander": NH_NHPI,
        "Two or more races": NH_TWO_OR_MORE,
        "Other": NH_OTHER,
        "Not provided": None,
    },
)


def test_essex_county_officers_against_essex_county_residents(real_data):
    officers = pl.read_csv(
        real_data / "new_jersey" / "2021_NJOAGLEOD_Officer_Information.csv", infer_schema=False
    ).filter(pl.col("County") == "Essex")
    tidy = read_acs2017_county_row(
        real_data / "census" / "acs2017_county_data.csv", state="New Jersey", county="Essex County"
    )
    [everyone, *by_gender] = representation_by(
        officers,
        population_by_race_ethnicity(tidy),
        group_column="Race/Ethnicity",
        by=("Gender",),
        mapping=NJ_MAPPING,
        total_population=total_population(tidy),
    )
    rows = by_group(everyone)
    # Counted independently with the csv module: 3,030 officers, 17 "Not provided".
    with open(real_data / "new_jersey" / "2021_NJOAGLEOD_Officer_Information.csv", newline="") as f:
        essex = Counter(r["Race/Ethnicity"] for r in csv.DictReader(f) if r["County"] == "Essex")
    assert everyone.staff_total == sum(essex.values()) == 3030
    known = 3030 - essex["Not provided"]
    assert rows["Unknown"].staff == essex["Not provided"] == 17
    assert rows[NH_WHITE].representation_index == pytest.approx((1200 / known) / 0.311, rel=2e-3)
    assert rows[NH_BLACK].representation_index == pytest.approx((910 / known) / 0.388, rel=2e-3)
    assert rows[HISPANIC].representation_index == pytest.approx((849 / known) / 0.224, rel=2e-3)
    assert rows[NH_BLACK].representation_index < 1 < rows[NH_WHITE].representation_index
    assert {r.subset for r in by_gender} >= {"Gender: Male", "Gender: Female"}


def test_pair_table_on_seattle_terry_stops_keeps_every_row(real_data):
    path = real_data / "seattle" / "Terry_Stops.csv"
    stops = pl.read_csv(path, infer_schema=False)
    table = race_pair_table(
        stops, officer_column="Officer_Race", subject_column="SubjectPerceivedRace"
    )
    with open(path, newline="", encoding="utf-8") as f:
        expected = Counter(
            (r["Officer_Race"], r["SubjectPerceivedRace"]) for r in csv.DictReader(f)
        )
    assert table.total == sum(expected.values()) == 19753
    cells = {(c.officer_group, c.subject_group): c for c in table.cells}
    assert len(cells) == len(table.officer_groups) * len(table.subject_groups)
    for pair, count in expected.items():
        assert cells[pair].count == count
    white_black = cells[("White", "Black")]
    assert white_black.share_of_all == pytest.approx(white_black.count / 19753)
    assert white_black.share_of_officer_group == pytest.approx(
        white_black.count / table.officer_totals["White"]
    )
    assert white_black.share_of_subject_group == pytest.approx(
        white_black.count / table.subject_totals["Black"]
    )
    assert sum(c.share_of_all for c in table.cells) == pytest.approx(1.0)


def test_pair_table_counts_blank_groups_as_unknown():
    frame = pl.DataFrame({"o": ["White", None, "Black"], "s": [None, "Black", "Black"]})
    table = race_pair_table(frame, officer_column="o", subject_column="s")
    cells = {(c.officer_group, c.subject_group): c.count for c in table.cells}
    assert cells[("White", "Unknown")] == 1 and cells[("Unknown", "Black")] == 1
    assert table.total == 3
