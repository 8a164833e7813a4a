"""A census table exactly as downloaded publishes as community demographics and feeds the benchmark."""

from __future__ import annotations

import pytest

from openblotter.services.analysis import benchmark
from openblotter.services.query import rows_page
from tests.factories import publish_file, write_aged_contacts, write_contacts_by_race
from tests.factories_census import B03002_TABLE_CSV


def test_b03002_download_publishes_with_margins_of_error(portal, tmp_path):
    download = tmp_path / "ACSDT5Y2022.B03002-2024-03-14T180532.csv"
    download.write_bytes(B03002_TABLE_CSV.encode("utf-8"))
    result = publish_file(
        portal, download, "community_demographics", "2026-Q3", family="community_demographics"
    )
    assert result.report.counts().get("census_detail_left_out") == 1
    rows = rows_page(portal, "community_demographics", [("_size", "100")])["rows"]
    by_group = {(r["race"], r["ethnicity"]): r for r in rows}
    total = by_group[("All", "All")]
    assert (total["population"], total["margin_of_error"], total["year"]) == (127477, 34, 2022)
    white = by_group[("White", "Not Hispanic or Latino")]
    assert (white["population"], white["margin_of_error"]) == (89502, 1095)
    assert by_group[("All", "Hispanic or Latino")]["population"] == 11362
    assert (
        total["geography_name"] == "Norman city, Oklahoma" and total["geography_level"] == "Place"
    )

    publish_file(
        portal, write_contacts_by_race(tmp_path / "c.csv"), "contacts", "2026-Q3", family="contacts"
    )
    result = benchmark(portal, "contacts", period="2025")
    white_row = next(r for r in result["rows"] if r["group"].startswith("White alone"))
    assert white_row["population"] == 89502 and white_row["population_moe"] == 1095
    assert white_row["rate_per_1000"] == pytest.approx(50 / 89502 * 1000)


def test_b01001_download_feeds_the_benchmark_by_age_group(portal, tmp_path):
    """Sex by age as downloaded: each band is both sexes' census groups added, MOE root-sum-square."""
    import math

    from tests.factories_census import AGES, FEMALE, MALE, b01001_table

    download = tmp_path / "ACSDT5Y2022.B01001-2024-03-14T180700.csv"
    download.write_bytes(b01001_table())
    publish_file(
        portal, download, "community_demographics", "2026-Q3", family="community_demographics"
    )
    publish_file(
        portal, write_aged_contacts(tmp_path / "c.csv"), "contacts", "2026-Q3", family="contacts"
    )
    result = benchmark(portal, "contacts", by="subject_age_group", period="2025")
    rows = {r["group"]: r for r in result["rows"]}
    # 18 to 24: "18 and 19 years", "20 years", "21 years", "22 to 24 years" of each sex.
    parts = [v for values in (MALE, FEMALE) for v in values[4:8]]
    assert AGES[4:8] == ["18 and 19 years", "20 years", "21 years", "22 to 24 years"]
    assert rows["18 to 24 years"]["population"] == sum(parts)
    assert rows["18 to 24 years"]["population_moe"] == pytest.approx(
        math.sqrt(sum((v // 10) ** 2 for v in parts))
    )
    assert rows["18 to 24 years"]["events"] == 14
    assert rows["65 years and over"]["population"] == sum(MALE[17:]) + sum(FEMALE[17:])
    assert result["population_total"] == sum(MALE) + sum(FEMALE)
    assert result["mapping"]["dimension"] == "age_group"
