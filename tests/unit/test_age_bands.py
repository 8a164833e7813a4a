"""Age group labels (census and police forms) read as age ranges and put into age bands."""

from __future__ import annotations

import pytest

from openblotter.analysis.census_mapping import (
    DEFAULT_AGE_BANDS,
    age_band_mapping,
    age_band_of_label,
    age_label_range,
    band_of_range,
)
from openblotter.analysis.census_population import age_band_of_group, age_group_range
from openblotter.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        # the census's words
        ("18 to 24 years", (18, 24)),
        ("18 and 19 years", (18, 19)),
        ("20 years", (20, 20)),
        ("Under 18 years", (0, 17)),
        ("Under 5 years", (0, 4)),
        ("65 years and over", (65, None)),
        # the forms police files use
        ("18-24", (18, 24)),
        ("18 - 24", (18, 24)),
        ("25\u201334", (25, 34)),  # an en dash, as spreadsheets write it
        ("<18", (0, 17)),
        ("< 18", (0, 17)),
        ("Under 18", (0, 17)),
        ("UNDER 18", (0, 17)),
        ("65+", (65, None)),
        ("65 and over", (65, None)),
        ("65 and older", (65, None)),
        ("56 and Above", (56, None)),  # Seattle's
        ("  1 - 17 ", (1, 17)),  # Seattle's, with stray spaces
        ("17", (17, 17)),
    ],
)
def test_age_labels_are_read_as_ranges(label, expected):
    assert age_label_range(label) == expected


@pytest.mark.parametrize("label", [None, "", "-", "Unknown", "Adult", "24-18", "Under 0", "18 to"])
def test_labels_that_name_no_age_range_are_not_guessed(label):
    assert age_label_range(label) is None


def test_a_range_is_in_a_band_only_when_the_band_holds_all_of_it():
    assert band_of_range(0, 17) == "Under 18 years"
    assert band_of_range(18, 19) == "18 to 24 years"
    assert band_of_range(85, None) == "65 years and over"
    assert band_of_range(18, 25) is None  # 18 to 24 and 25 to 34
    assert band_of_range(56, None) is None  # 55 to 64 and 65 and over
    assert band_of_range(18, None) is None
    bands = ((0, 15, "Under 16"), (16, None, "16 and over"))
    assert band_of_range(16, 19, bands) == "16 and over"
    assert band_of_range(15, 19, bands) is None


@pytest.mark.parametrize(
    ("label", "band"),
    [
        ("18 - 24", "18 to 24 years"),
        ("Under 18", "Under 18 years"),
        ("1 - 17", "Under 18 years"),
        ("65 and older", "65 years and over"),
        ("20 years", "18 to 24 years"),
        ("", "Unknown"),
        ("  ", "Unknown"),
        ("-", "Unknown"),
        (None, "Unknown"),
        ("Unknown", "Unknown"),
        (" 18 - 25 ", "18 - 25"),  # straddles: its own row, trimmed
        ("56 and Above", "56 and Above"),
        ("Juvenile", "Juvenile"),  # cannot be read: its own row
    ],
)
def test_an_event_label_goes_to_its_band_unknown_or_its_own_row(label, band):
    assert age_band_of_label(label) == band


def test_own_rows_and_unknown_are_placed_by_the_age_band_mapping():
    mapping = age_band_mapping()
    assert mapping.place(age_band_of_label("-")) == ("unknown", None)
    assert mapping.place(age_band_of_label("18 - 25")) == ("not_in_mapping", None)
    assert mapping.place(age_band_of_label("18-24")) == ("category", "18 to 24 years")
    notes = " ".join(mapping.notes)
    assert "age at the event" in notes and "census or survey date" in notes
    assert "own row" in notes


def test_census_age_groups_fall_in_whole_bands():
    assert age_band_of_group("Under 5 years") == "Under 18 years"
    assert age_band_of_group("15 to 17 years") == "Under 18 years"
    assert age_band_of_group("18 and 19 years") == "18 to 24 years"
    assert age_band_of_group("22 to 24 years") == "18 to 24 years"
    assert age_band_of_group("62 to 64 years") == "55 to 64 years"
    assert age_band_of_group("85 years and over") == "65 years and over"
    assert age_band_of_group("18-24") == "18 to 24 years"  # a hand-made table's form
    assert {age_band_of_group(label) for _, _, label in DEFAULT_AGE_BANDS} == {
        label for _, _, label in DEFAULT_AGE_BANDS
    }


def test_census_age_groups_that_straddle_or_cannot_be_read_are_refused():
    with pytest.raises(InvalidInput, match="'35 to 64 years' straddles") as error:
        age_band_of_group("35 to 64 years")
    assert error.value.detail == {"age_group": "35 to 64 years"}
    with pytest.raises(InvalidInput, match="'Adults' is not an age group"):
        age_band_of_group("Adults")
    with pytest.raises(InvalidInput, match="not an age group"):
        age_group_range("")
