"""Census tables as data.census.gov serves them, and the real ACS 2017 county file.

No data.census.gov download is among the real files (SOURCES.md, "Not found"),
so the fixtures below reproduce the two CSV layouts: the "table" layout
(labels indented with non-breaking spaces, ``<geography>!!Estimate`` /
``!!Margin of Error`` columns, ``±`` and thousands separators) and the "data"
layout (``GEO_ID``, ``NAME``, variable codes, a second header row of labels,
every field quoted, a trailing comma). Variable codes and labels are the
Census Bureau's for B03002, P2 and B01001; the numbers are made up but add
up the way the real tables do.
"""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest

from openblotter.analysis.census_mapping import (
    HISPANIC,
    NH_AIAN,
    NH_ASIAN,
    NH_BLACK,
    NH_NHPI,
    NH_OTHER,
    NH_TWO_OR_MORE,
    NH_WHITE,
)
from openblotter.analysis.census_population import (
    age_group_range,
    population_by_age_band,
    population_by_race_ethnicity,
    population_by_sex,
    total_population,
)
from openblotter.domain.errors import InvalidInput
from openblotter.ingest.census.tables import (
    TIDY_SCHEMA,
    parse_census_csv,
    read_acs2017_county_row,
    read_census_table,
)
from tests.factories_census import (
    B03002_TABLE_CSV,
    FEMALE,
    MALE,
    NBSP4,
    TABLE_HEADER,
    b01001_table,
)

# B03002 line, label as the data file's second header row shows it (after "Estimate!!").
B03002_LINES = [
    ("001", "Total:"),
    ("002", "Total:!!Not Hispanic or Latino:"),
    ("003", "Total:!!Not Hispanic or Latino:!!White alone"),
    ("004", "Total:!!Not Hispanic or Latino:!!Black or African American alone"),
    ("005", "Total:!!Not Hispanic or Latino:!!American Indian and Alaska Native alone"),
    ("006", "Total:!!Not Hispanic or Latino:!!Asian alone"),
    ("007", "Total:!!Not Hispanic or Latino:!!Native Hawaiian and Other Pacific Islander alone"),
    ("008", "Total:!!Not Hispanic or Latino:!!Some other race alone"),
    ("009", "Total:!!Not Hispanic or Latino:!!Two or more races:"),
    (
        "010",
        "Total:!!Not Hispanic or Latino:!!Two or more races:!!Two races including Some other race",
    ),
    (
        "011",
        "Total:!!Not Hispanic or Latino:!!Two or more races:!!"
        "Two races excluding Some other race, and three or more races",
    ),
    ("012", "Total:!!Hispanic or Latino:"),
    ("013", "Total:!!Hispanic or Latino:!!White alone"),
    ("014", "Total:!!Hispanic or Latino:!!Black or African American alone"),
    ("015", "Total:!!Hispanic or Latino:!!American Indian and Alaska Native alone"),
    ("016", "Total:!!Hispanic or Latino:!!Asian alone"),
    ("017", "Total:!!Hispanic or Latino:!!Native Hawaiian and Other Pacific Islander alone"),
    ("018", "Total:!!Hispanic or Latino:!!Some other race alone"),
    ("019", "Total:!!Hispanic or Latino:!!Two or more races:"),
    ("020", "Total:!!Hispanic or Latino:!!Two or more races:!!Two races including Some other race"),
    (
        "021",
        "Total:!!Hispanic or Latino:!!Two or more races:!!"
        "Two races excluding Some other race, and three or more races",
    ),
]

NORMAN = [
    (127477, 34), (116115, 412), (89502, 1095), (5640, 612), (4021, 402), (5210, 488),
    (96, 71), (412, 190), (11234, 905), (301, 150), (10933, 890), (11362, 398),
    (4512, 601), (120, 88), (310, 140), (15, 24), (0, 30), (2905, 510), (3500, 540),
    (1900, 400), (1600, 350),
]  # fmt: skip
CLEVELAND = [
    (295528, "*****"), (269000, "*****"), (207000, 600), (12900, 700), (11000, 500),
    (11700, 400), (300, 150), (700, 250), (25400, 1200), (900, 300), (24500, 1150),
    (26528, "*****"), (11000, 900), (400, 150), (800, 250), (100, 80), (28, 40),
    (6200, 800), (8000, 700), (4000, 500), (4000, 450),
]  # fmt: skip


def _data_layout_csv(
    table: str, lines, geographies, *, moe: bool = True, prefix: str = "Estimate"
) -> bytes:
    """A data.census.gov ``-Data.csv``: BOM, every field quoted, trailing comma, label row."""
    codes, labels = ["GEO_ID", "NAME"], ["Geography", "Geographic Area Name"]
    for line, label in lines:
        suffix = "E" if moe else "N"
        codes.append(f"{table}_{line}{suffix}")
        labels.append(f"{prefix}!!{label}")
        if moe:
            codes.append(f"{table}_{line}M")
            labels.append(f"Margin of Error!!{label}")
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow([*codes, ""])
    writer.writerow([*labels, ""])
    for geo_id, name, values in geographies:
        cells = []
        for value in values:
            cells.extend([str(value[0]), str(value[1])] if moe else [str(value)])
        writer.writerow([geo_id, name, *cells, ""])
    return ("\ufeff" + out.getvalue()).replace('""\n', "\n").encode("utf-8")


def _b03002_data() -> bytes:
    return _data_layout_csv(
        "B03002",
        B03002_LINES,
        [
            ("1600000US4052500", "Norman city, Oklahoma", NORMAN),
            ("0500000US40027", "Cleveland County, Oklahoma", CLEVELAND),
        ],
    )


def test_table_layout_reads_the_indented_hierarchy_and_census_number_formats():
    tidy = parse_census_csv(
        B03002_TABLE_CSV.encode("utf-8"), source="ACSDT5Y2022.B03002-2024-03-14T180532.csv"
    )
    assert tidy.schema == pl.Schema(TIDY_SCHEMA)
    assert tidy.height == 21
    assert set(tidy["table_id"]) == {"B03002"}
    assert set(tidy["geography"]) == {"Norman city, Oklahoma"}
    assert tidy["estimate"].to_list() == [float(e) for e, _ in NORMAN]
    assert tidy["margin_of_error"].to_list() == [float(m) for _, m in NORMAN]
    white = tidy.filter(pl.col("race") == "White alone")
    assert white.select("hispanic_origin", "estimate").rows() == [
        ("Not Hispanic or Latino", 89502.0),
        ("Hispanic or Latino", 4512.0),
    ]
    assert white["label"].to_list() == [
        "Total!!Not Hispanic or Latino!!White alone",
        "Total!!Hispanic or Latino!!White alone",
    ]
    detail = tidy.filter(pl.col("label").str.contains("Two races including")).row(0, named=True)
    assert detail["race"] == "Two races including Some other race"
    assert detail["hispanic_origin"] == "Not Hispanic or Latino"


def test_data_layout_gives_the_same_cells_as_the_table_layout():
    table = parse_census_csv(B03002_TABLE_CSV.encode("utf-8"), source="table.csv")
    data = parse_census_csv(_b03002_data(), source="ACSDT5Y2022.B03002-Data.csv")
    assert data.height == 42
    norman = data.filter(pl.col("geo_id") == "1600000US4052500")
    columns = ["label", "hispanic_origin", "race", "estimate", "margin_of_error"]
    assert norman.select(columns).rows() == table.select(columns).rows()
    assert norman["variable"].to_list() == [f"B03002_{line}" for line, _ in B03002_LINES]
    assert set(data["table_id"]) == {"B03002"}


def test_controlled_margin_of_error_is_zero_and_says_so():
    data = parse_census_csv(_b03002_data(), source="ACSDT5Y2022.B03002-Data.csv")
    county_total = data.filter(
        (pl.col("geo_id") == "0500000US40027") & (pl.col("label") == "Total")
    ).row(0, named=True)
    assert county_total["estimate"] == 295528.0
    assert county_total["margin_of_error"] == 0.0
    assert "controlled" in county_total["note"]


def test_population_by_race_ethnicity_from_b03002_adds_up_to_the_total():
    data = parse_census_csv(_b03002_data(), source="ACSDT5Y2022.B03002-Data.csv")
    groups = population_by_race_ethnicity(data, "Norman city, Oklahoma")
    assert {k: v.estimate for k, v in groups.items()} == {
        HISPANIC: 11362.0, NH_WHITE: 89502.0, NH_BLACK: 5640.0, NH_AIAN: 4021.0,
        NH_ASIAN: 5210.0, NH_NHPI: 96.0, NH_OTHER: 412.0, NH_TWO_OR_MORE: 11234.0,
    }  # fmt: skip
    assert groups[NH_WHITE].margin_of_error == 1095.0
    total = total_population(data, "Norman city, Oklahoma")
    assert (total.estimate, total.margin_of_error) == (127477.0, 34.0)
    assert sum(v.estimate for v in groups.values()) == total.estimate


def test_several_geographies_need_a_choice():
    data = parse_census_csv(_b03002_data(), source="ACSDT5Y2022.B03002-Data.csv")
    with pytest.raises(InvalidInput, match="several geographies"):
        population_by_race_ethnicity(data)
    with pytest.raises(InvalidInput, match="no geography 'Norman'"):
        total_population(data, "Norman")


P2_LINES = [
    ("001", "Total:"),
    ("002", "Total:!!Hispanic or Latino"),
    ("003", "Total:!!Not Hispanic or Latino:"),
    ("004", "Total:!!Not Hispanic or Latino:!!Population of one race:"),
    ("005", "Total:!!Not Hispanic or Latino:!!Population of one race:!!White alone"),
    (
        "006",
        "Total:!!Not Hispanic or Latino:!!Population of one race:!!Black or African American alone",
    ),
    (
        "007",
        "Total:!!Not Hispanic or Latino:!!Population of one race:!!"
        "American Indian and Alaska Native alone",
    ),
    ("008", "Total:!!Not Hispanic or Latino:!!Population of one race:!!Asian alone"),
    (
        "009",
        "Total:!!Not Hispanic or Latino:!!Population of one race:!!"
        "Native Hawaiian and Other Pacific Islander alone",
    ),
    ("010", "Total:!!Not Hispanic or Latino:!!Population of one race:!!Some Other Race alone"),
    ("011", "Total:!!Not Hispanic or Latino:!!Population of two or more races:"),
    (
        "012",
        "Total:!!Not Hispanic or Latino:!!Population of two or more races:!!"
        "Population of two races:",
    ),
    (
        "013",
        "Total:!!Not Hispanic or Latino:!!Population of two or more races:!!"
        "Population of two races:!!White; Black or African American",
    ),
]
P2_NORMAN = [128026, 12100, 115926, 104700, 88200, 5500, 4300, 6000, 100, 600, 11226, 10100, 1500]


def test_decennial_p2_data_layout_has_counts_and_no_margin_of_error():
    content = _data_layout_csv(
        "P2",
        P2_LINES,
        [("1600000US4052500", "Norman city, Oklahoma", P2_NORMAN)],
        moe=False,
        prefix=" ",
    )
    tidy = parse_census_csv(content, source="DECENNIALPL2020.P2-Data.csv")
    assert tidy["label"][1] == "Total!!Hispanic or Latino"
    assert tidy["margin_of_error"].null_count() == tidy.height
    assert tidy["variable"][4] == "P2_005"
    groups = population_by_race_ethnicity(tidy)
    assert groups[HISPANIC].estimate == 12100.0
    assert groups[NH_OTHER].estimate == 600.0  # "Some Other Race alone", capitalized in P2
    assert groups[NH_TWO_OR_MORE].estimate == 11226.0
    assert groups[HISPANIC].margin_of_error is None
    assert sum(v.estimate for v in groups.values()) == 128026.0


def test_decennial_table_layout_has_one_column_per_geography():
    text = (
        '"Label (Grouping)","Norman city, Oklahoma"\r\n'
        '"Total:","128,026"\r\n'
        f'"{NBSP4}Hispanic or Latino","12,100"\r\n'
        f'"{NBSP4}Not Hispanic or Latino:","115,926"\r\n'
        f'"{NBSP4 * 2}Population of one race:","104,700"\r\n'
        f'"{NBSP4 * 3}White alone","88,200"\r\n'
        f'"{NBSP4 * 2}Population of two or more races:","11,226"\r\n'
    )
    tidy = parse_census_csv(text.encode("utf-8"), source="DECENNIALPL2020.P2-2024-01-01T000000.csv")
    assert tidy.select("label", "estimate").rows() == [
        ("Total", 128026.0),
        ("Total!!Hispanic or Latino", 12100.0),
        ("Total!!Not Hispanic or Latino", 115926.0),
        ("Total!!Not Hispanic or Latino!!Population of one race", 104700.0),
        ("Total!!Not Hispanic or Latino!!Population of one race!!White alone", 88200.0),
        ("Total!!Not Hispanic or Latino!!Population of two or more races", 11226.0),
    ]
    assert set(tidy["table_id"]) == {"P2"}
    groups = population_by_race_ethnicity(tidy)
    assert groups[NH_WHITE].estimate == 88200.0 and groups[NH_TWO_OR_MORE].estimate == 11226.0


def test_b01001_sex_by_age_splits_sex_and_age_group():
    tidy = parse_census_csv(b01001_table(), source="ACSDT5Y2022.B01001-2024-03-14T180700.csv")
    assert tidy.height == 49
    cell = tidy.filter((pl.col("sex") == "Female") & (pl.col("age_group") == "85 years and over"))
    assert cell.select("estimate", "margin_of_error").row(0) == (1300.0, 130.0)
    sexes = population_by_sex(tidy)
    assert {k: v.estimate for k, v in sexes.items()} == {"Male": sum(MALE), "Female": sum(FEMALE)}


def test_age_bands_sum_whole_census_age_groups_with_root_sum_square_moe():
    tidy = parse_census_csv(b01001_table(), source="ACSDT5Y2022.B01001-x.csv")
    bands = population_by_age_band(tidy)
    under_18 = sum(MALE[:4]) + sum(FEMALE[:4])
    assert bands["Under 18 years"].estimate == under_18
    moe = sum((v // 10) ** 2 for v in MALE[:4] + FEMALE[:4]) ** 0.5
    assert bands["Under 18 years"].margin_of_error == pytest.approx(moe)
    assert bands["18 to 24 years"].estimate == sum(MALE[4:8]) + sum(FEMALE[4:8])
    assert bands["65 years and over"].estimate == sum(MALE[17:]) + sum(FEMALE[17:])
    assert sum(b.estimate for b in bands.values()) == sum(MALE) + sum(FEMALE)
    assert age_group_range("18 and 19 years") == (18, 19)
    assert age_group_range("Under 5 years") == (0, 4)
    assert age_group_range("85 years and over") == (85, None)


def test_bands_that_cut_a_census_age_group_are_refused():
    tidy = parse_census_csv(b01001_table(), source="ACSDT5Y2022.B01001-x.csv")
    with pytest.raises(InvalidInput, match="straddles"):
        population_by_age_band(tidy, bands=((0, 15, "Under 16"), (16, None, "16 and over")))


def test_annotation_and_percent_columns_are_skipped_and_symbols_become_notes():
    text = (
        '"GEO_ID","NAME","B03002_001E","B03002_001EA","B03002_001M","B03002_001MA"\n'
        '"Geography","Geographic Area Name","Estimate!!Total:","Annotation of Estimate!!Total:",'
        '"Margin of Error!!Total:","Annotation of Margin of Error!!Total:"\n'
        '"1600000US4052500","Norman city, Oklahoma","-","-","**","**"\n'
    )
    tidy = parse_census_csv(text.encode("utf-8"), source="x-Data.csv")
    row = tidy.row(0, named=True)
    assert row["estimate"] is None and row["margin_of_error"] is None
    assert "too few sample observations to compute an estimate" in row["note"]


def test_a_value_that_is_not_a_number_names_the_row_and_column():
    broken = B03002_TABLE_CSV.replace('"5,640"', '"5,64O"').encode("utf-8")
    with pytest.raises(InvalidInput) as caught:
        parse_census_csv(broken, source="b03002.csv")
    assert caught.value.detail["row"] == 5
    assert caught.value.detail["column"] == "Norman city, Oklahoma!!Estimate"
    assert "5,64O" in caught.value.message


def test_files_that_are_not_census_downloads_are_refused_with_what_to_do():
    with pytest.raises(InvalidInput, match="Label \\(Grouping\\)"):
        parse_census_csv(b"name,count\nWhite,3\n", source="mine.csv")
    no_labels = (
        b'"GEO_ID","NAME","B03002_001E"\n"1600000US4052500","Norman city, Oklahoma","127477"\n'
    )
    with pytest.raises(InvalidInput, match="second header row"):
        parse_census_csv(no_labels, source="api.csv")


def test_read_census_table_reads_a_file(tmp_path):
    path = tmp_path / "ACSDT5Y2022.B03002-Data.csv"
    path.write_bytes(_b03002_data())
    assert read_census_table(path).height == 42
    with pytest.raises(InvalidInput, match="Cannot read"):
        read_census_table(tmp_path / "missing.csv")


# The real ACS 2017 county file (Kaggle), Cleveland County, OK: numbers from SOURCES.md.


def test_cleveland_county_row_becomes_counts(real_data):
    tidy = read_acs2017_county_row(
        real_data / "census" / "acs2017_county_data.csv",
        state="Oklahoma",
        county="Cleveland County",
    )
    assert set(tidy["geo_id"]) == {"0500000US40027"}
    assert set(tidy["geography"]) == {"Cleveland County, Oklahoma"}
    assert total_population(tidy).estimate == 274024
    assert {k: v.estimate for k, v in population_by_sex(tidy).items()} == {
        "Male": 136970,
        "Female": 137054,
    }
    groups = population_by_race_ethnicity(tidy)
    # 8.2%, 72.8%, 4.6%, 3.5%, 4.3%, 0.1% of 274,024, to the nearest person.
    assert {k: v.estimate for k, v in groups.items()} == {
        HISPANIC: 22470, NH_WHITE: 199489, NH_BLACK: 12605,
        NH_AIAN: 9591, NH_ASIAN: 11783, NH_NHPI: 274,
    }  # fmt: skip
    remainder = tidy.filter(pl.col("label").str.contains("Two or more races")).row(0, named=True)
    assert remainder["estimate"] == 274024 - 256212
    hispanic_note = tidy.filter(pl.col("variable") == "Hispanic")["note"][0]
    assert "8.2% of 274,024" in hispanic_note and "137" in hispanic_note


def test_county_names_repeat_across_states_so_the_state_is_required(real_data):
    path = real_data / "census" / "acs2017_county_data.csv"
    arkansas = read_acs2017_county_row(path, state="Arkansas", county="Cleveland County")
    assert total_population(arkansas).estimate == 8332
    with pytest.raises(InvalidInput, match="found 0"):
        read_acs2017_county_row(path, state="Oklahoma", county="Cleveland")


def test_table_layout_with_two_geographies_and_percent_columns():
    text = (
        TABLE_HEADER + ',"Norman city, Oklahoma!!Percent",'
        '"Oklahoma!!Estimate","Oklahoma!!Margin of Error",'
        '"Oklahoma!!Percent"\n'
        '"Total:","127,477","±34","(X)","3,948,136","*****","(X)"\n'
        f'"{NBSP4}Male:","64,083","±610","50.3%","1,958,327","±1,204","49.6%"\n'
    )
    tidy = parse_census_csv(text.encode("utf-8"), source="ACSDT5Y2022.B01001-x.csv")
    assert tidy.select("geography", "label", "sex", "estimate", "margin_of_error").rows() == [
        ("Norman city, Oklahoma", "Total", None, 127477.0, 34.0),
        ("Oklahoma", "Total", None, 3948136.0, 0.0),
        ("Norman city, Oklahoma", "Total!!Male", "Male", 64083.0, 610.0),
        ("Oklahoma", "Total!!Male", "Male", 1958327.0, 1204.0),
    ]
    assert population_by_sex(tidy, "Oklahoma")["Male"].estimate == 1958327.0
