"""Community benchmark: events by group against residents by census category."""

from __future__ import annotations

import orjson
import pytest

from openblotter.analysis.benchmark import ALL_RESIDENTS, UNKNOWN, community_benchmark
from openblotter.analysis.caveats import (
    BENCHMARK_CAVEATS,
    CENSUS_IS_AN_ESTIMATE,
    event_unit,
)
from openblotter.analysis.census_mapping import (
    DEFAULT_RACE_ETHNICITY_MAPPING,
    DEFAULT_SEX_MAPPING,
    HISPANIC,
    NH_AIAN,
    NH_ASIAN,
    NH_BLACK,
    NH_NHPI,
    NH_OTHER,
    NH_TWO_OR_MORE,
    NH_WHITE,
    CodeMapping,
    age_band,
    age_band_mapping,
    combine_race_ethnicity,
)
from openblotter.analysis.census_population import (
    population_by_race_ethnicity,
    population_by_sex,
    total_population,
)
from openblotter.analysis.intervals import rate_interval
from openblotter.analysis.population import PopulationEstimate as Pop
from openblotter.domain.errors import InvalidInput
from openblotter.ingest.census.tables import read_acs2017_county_row
from openblotter.services.families import counted_event

# A city with ACS estimates and margins of error, B03002 style.
CITY = {
    HISPANIC: Pop(11_362, 398),
    NH_WHITE: Pop(89_502, 1_095),
    NH_BLACK: Pop(5_640, 612),
    NH_AIAN: Pop(4_021, 402),
    NH_ASIAN: Pop(5_210, 488),
    NH_NHPI: Pop(96, 71),
    NH_OTHER: Pop(412, 190),
    NH_TWO_OR_MORE: Pop(11_234, 905),
}
CITY_TOTAL = Pop(127_477, 34)
EVENTS = {
    "White": 310,
    "Black": 95,
    "Hispanic or Latino": 41,
    "American Indian or Alaska Native": 12,
    "Asian": 4,
    "Multiple": 0,
    "Unknown": 17,
    None: 3,
    "Martian": 2,
}


def rows_by_group(result):
    return {row.group: row for row in result.groups}


def benchmark(**kwargs):
    return community_benchmark(
        EVENTS,
        CITY,
        mapping=DEFAULT_RACE_ETHNICITY_MAPPING,
        total_population=CITY_TOTAL,
        **kwargs,
    )


def test_every_event_is_counted_in_some_row():
    result = benchmark()
    assert sum(row.events for row in result.groups) == sum(EVENTS.values()) == result.events_total
    assert result.events_known == 310 + 95 + 41 + 12 + 4


def test_unknown_race_is_its_own_row_without_a_rate():
    rows = rows_by_group(benchmark())
    unknown = rows[UNKNOWN]
    assert unknown.events == 20  # "Unknown" and the blank code
    assert set(unknown.department_codes) == {"Unknown", "(blank)"}
    assert unknown.share_of_events == pytest.approx(20 / 484)
    assert unknown.rate is None and unknown.rate_ratio is None and unknown.reliable is None
    assert "not recorded" in unknown.notes[0]
    unmapped = rows["Martian"]
    assert (unmapped.placement, unmapped.events, unmapped.rate) == ("not_in_mapping", 2, None)
    assert "not in the code-to-census mapping" in unmapped.notes[0]


def test_rates_and_shares_are_the_plain_unrounded_ratios():
    result = benchmark()
    black = rows_by_group(result)[NH_BLACK]
    assert black.rate == 95 / 5_640 * 1000
    assert black.share_of_population == 5_640 / 127_477
    assert black.share_of_known_events == 95 / 462
    assert black.rate_ratio == pytest.approx((95 / 462) / (5_640 / 127_477))
    assert result.reference == ALL_RESIDENTS
    assert result.reference_rate == 462 / 127_477 * 1000
    assert black.rate_ci == rate_interval(95, CITY[NH_BLACK], per=1000)
    assert black.rate_ci.low < black.rate < black.rate_ci.high
    assert black.rate_ratio_ci.low < black.rate_ratio < black.rate_ratio_ci.high


def test_ratios_to_all_residents_average_to_one_weighted_by_residents():
    result = benchmark()
    rows = [r for r in result.groups if r.rate_ratio is not None]
    assert sum(r.rate_ratio * r.share_of_population for r in rows) == pytest.approx(1.0, abs=5e-3)


def test_small_groups_are_marked_not_reliable_but_still_shown():
    rows = rows_by_group(benchmark(min_events=20))
    asian = rows[NH_ASIAN]
    assert asian.reliable is False
    assert asian.rate is not None and asian.rate_ci is not None
    assert any("Fewer than 20 events" in n for n in asian.notes)
    assert rows[NH_WHITE].reliable is True
    nhpi = rows[NH_NHPI]  # 96 residents, MOE 71: CV 45%
    assert any("coefficient of variation" in n for n in nhpi.notes)


def test_zero_event_groups_get_a_finite_upper_bound():
    rows = rows_by_group(benchmark())
    two_or_more = rows[NH_TWO_OR_MORE]
    assert two_or_more.events == 0 and two_or_more.rate == 0.0
    assert two_or_more.rate_ci.low == 0.0
    assert 0 < two_or_more.rate_ci.high < 1.0
    assert two_or_more.rate_ratio_ci.low == 0.0 and two_or_more.rate_ratio_ci.high > 0


def test_a_category_no_code_points_to_has_no_rate():
    rows = rows_by_group(benchmark())
    # The default mapping sends "Other" to Some other race; no "Other" events were given,
    # but the code exists, so the row has a rate of 0 with an upper bound.
    assert rows[NH_OTHER].rate == 0.0
    mapping = CodeMapping.from_dict(
        DEFAULT_RACE_ETHNICITY_MAPPING.to_dict()
        | {"codes": {k: v for k, v in DEFAULT_RACE_ETHNICITY_MAPPING.codes.items() if k != "Other"}}
    )
    result = community_benchmark(EVENTS, CITY, mapping=mapping, total_population=CITY_TOTAL)
    other = rows_by_group(result)[NH_OTHER]
    assert other.rate is None and "No department code" in other.notes[0]


def test_reference_can_be_any_group():
    result = benchmark(reference=NH_WHITE)
    rows = rows_by_group(result)
    assert rows[NH_WHITE].rate_ratio == 1.0 and rows[NH_WHITE].rate_ratio_ci is None
    black = rows[NH_BLACK]
    assert black.rate_ratio == pytest.approx((95 / 5_640) / (310 / 89_502))
    assert black.rate_ratio_ci.low > 1  # clearly higher than the reference
    assert result.reference_rate == 310 / 89_502 * 1000


def test_a_reference_without_events_gives_no_ratio_and_says_why():
    rows = rows_by_group(benchmark(reference=NH_TWO_OR_MORE))
    assert rows[NH_BLACK].rate_ratio is None
    assert any("has no events" in n for n in rows[NH_BLACK].notes)


def test_a_reference_that_is_not_a_category_is_refused():
    with pytest.raises(InvalidInput) as caught:
        benchmark(reference="White")
    assert caught.value.detail["parameter"] == "reference"
    assert NH_WHITE in caught.value.detail["allowed"]


def test_the_result_carries_its_mapping_methods_and_caveats_and_is_json():
    result = benchmark()
    assert result.mapping == DEFAULT_RACE_ETHNICITY_MAPPING.to_dict()
    assert result.mapping["codes"]["White"] == NH_WHITE
    assert "Garwood" in result.methods["rate_interval"]
    assert "MOVER" in result.methods["rate_ratio_interval"]
    # The caveats come from the computation: this population has margins of error, so the
    # census caveat says the intervals include them; rows under 20 events bring small numbers.
    assert [c.key for c in result.caveats] == [c.key for c in BENCHMARK_CAVEATS]
    assert result.caveats[-1] == CENSUS_IS_AN_ESTIMATE
    data = orjson.loads(orjson.dumps(result.to_dict()))
    black = next(g for g in data["groups"] if g["group"] == NH_BLACK)
    assert black["rate"] == 95 / 5_640 * 1000  # not rounded on the way out
    assert data["caveats"][0]["key"] == "residents_not_population_at_risk"


def test_counts_must_be_whole_and_not_negative():
    with pytest.raises(InvalidInput, match="whole number"):
        community_benchmark({"White": -1}, CITY, mapping=DEFAULT_RACE_ETHNICITY_MAPPING)
    with pytest.raises(InvalidInput, match="whole number"):
        community_benchmark({"White": 2.5}, CITY, mapping=DEFAULT_RACE_ETHNICITY_MAPPING)


def test_mapping_targets_must_be_its_categories():
    with pytest.raises(InvalidInput, match="does not list"):
        CodeMapping("bad", "race_ethnicity", (NH_WHITE,), {"White": "White alone"})
    with pytest.raises(InvalidInput, match="needs"):
        CodeMapping.from_dict({"name": "x"})


def test_codes_match_after_trimming_and_case_folding():
    assert DEFAULT_RACE_ETHNICITY_MAPPING.place("  black ") == ("category", NH_BLACK)
    assert DEFAULT_RACE_ETHNICITY_MAPPING.place("") == ("unknown", None)
    assert DEFAULT_RACE_ETHNICITY_MAPPING.place("Green") == ("not_in_mapping", None)


def test_separate_ethnicity_field_is_combined_first():
    assert combine_race_ethnicity("White", "Hispanic") == "Hispanic or Latino"
    assert combine_race_ethnicity("Black", "Not Hispanic") == "Black"
    assert combine_race_ethnicity(None, None) is None


def test_the_frame_expression_combines_like_the_function():
    import polars as pl

    from openblotter.analysis.census_mapping import combined_race_ethnicity

    pairs = [
        ("White", "Hispanic"),
        ("White", " hispanic or latino "),
        ("Black", "Not Hispanic"),
        ("Asian", None),
        (None, "H"),
        (None, None),
    ]
    frame = pl.DataFrame(pairs, schema=["race", "ethnicity"], orient="row")
    combined = frame.select(combined_race_ethnicity("race", "ethnicity"))["race"].to_list()
    assert combined == [combine_race_ethnicity(r, e) for r, e in pairs]
    assert combined[:2] == ["Hispanic or Latino", "Hispanic or Latino"]


def test_sex_benchmark_against_the_real_cleveland_county_row(real_data):
    tidy = read_acs2017_county_row(
        real_data / "census" / "acs2017_county_data.csv",
        state="Oklahoma",
        county="Cleveland County",
    )
    result = community_benchmark(
        {"M": 70, "F": 30, "X": 1},
        population_by_sex(tidy),
        mapping=DEFAULT_SEX_MAPPING,
        total_population=total_population(tidy),
    )
    rows = rows_by_group(result)
    assert rows["Male"].rate == 70 / 136_970 * 1000
    assert rows["Female"].rate == 30 / 137_054 * 1000
    assert rows["X"].placement == "not_in_mapping"
    assert "no margin of error" in result.methods["population_error"]
    assert "MOVER" not in rows["Male"].rate_ci.method


def test_race_benchmark_on_the_real_county_row_shows_missing_census_categories(real_data):
    tidy = read_acs2017_county_row(
        real_data / "census" / "acs2017_county_data.csv",
        state="Oklahoma",
        county="Cleveland County",
    )
    result = community_benchmark(
        {"White": 500, "Black": 90, "Other": 5},
        population_by_race_ethnicity(tidy),
        mapping=DEFAULT_RACE_ETHNICITY_MAPPING,
        total_population=total_population(tidy),
    )
    rows = rows_by_group(result)
    assert rows[NH_WHITE].rate == 500 / 199_489 * 1000
    other = rows[NH_OTHER]  # the county file does not split out Some other race
    assert other.events == 5 and other.rate is None
    assert "no count" in other.notes[0]
    assert result.events_known == 595


def test_age_bands():
    assert age_band(17) == "Under 18 years"
    assert age_band(18) == "18 to 24 years"
    assert age_band(64.9) == "55 to 64 years"
    assert age_band(101) == "65 years and over"
    assert age_band(None) == age_band(-3) == age_band(float("nan")) == "Unknown"
    mapping = age_band_mapping()
    assert mapping.place("Under 18 years") == ("category", "Under 18 years")
    assert mapping.place("Unknown") == ("unknown", None)


def test_event_units_say_what_one_event_is():
    """The words come from each family's schema file (``openblotter.countedEvent``)."""
    assert "complainant" in event_unit("complaints", counted=counted_event("complaints"))
    assert "force was used" in event_unit("use_of_force", counted=counted_event("use_of_force"))
    assert event_unit("custom", counted=counted_event("custom")) == "one row of the dataset"
    stops = event_unit("contacts", ["Traffic stop"], counted_event("contacts"))
    assert stops.startswith("one driver")
