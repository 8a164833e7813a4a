"""Veil of darkness and representation over published real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openblotter.domain.errors import InvalidInput
from openblotter.services.community import representation
from openblotter.services.darkness import darkness
from tests.conftest import REAL_DATA
from tests.factories import (
    PROVIDENCE,
    make_portal,
    publish_file,
    publish_rhode_island,
    write_small_city_residents,
)


def test_veil_of_darkness_on_rhode_island_stops(tmp_path):
    portal = make_portal(tmp_path / "portal", **PROVIDENCE)
    publish_rhode_island(portal)
    result = darkness(portal, "ri_stops", group="Black or African American")
    assert (
        result["n"] > 1000 and 0 < result["ci"]["low"] < result["odds_ratio"] < result["ci"]["high"]
    )
    assert result["assumptions"]
    said = json.dumps(result, default=str)  # the result names the place whose sun it used
    assert "Providence, Rhode Island" in said and "America/New_York" in said
    assert "Norman" not in said and "America/Chicago" not in said


def test_veil_of_darkness_refuses_a_portal_with_no_location(portal):
    """No city configured: a 400 naming the settings, never another city's sunsets."""
    with pytest.raises(InvalidInput, match="no location configured") as refused:
        darkness(portal, "ri_stops")
    assert refused.value.detail["settings"] == ["city_latitude", "city_longitude", "city_timezone"]


def test_representation_of_new_jersey_officers(portal, tmp_path):
    publish_file(
        portal,
        write_small_city_residents(tmp_path / "d.csv"),
        "community_demographics",
        "2026-Q3",
        family="community_demographics",
    )
    publish_file(
        portal,
        REAL_DATA / "new_jersey/2021_NJOAGLEOD_Officer_Information.csv",
        "department_demographics",
        "2021-Q4",
        family="department_demographics",
        mapping=Path("new_jersey_officers"),
    )
    result = representation(portal, "department_demographics")
    overall = result["results"][0]
    rows = {r["group"]: r for r in overall["rows"]}
    staff = sum(r["staff"] for r in overall["rows"])
    assert staff == 30617
    white = rows["White alone, not Hispanic or Latino"]
    assert (
        white["representation_index"] > 1
    )  # NJ officers are whiter than the test city's 60% White residents


def test_officer_subject_race_pairs_on_seattle_terry_stops(portal):
    import polars as pl

    from openblotter.services.community import race_pairs

    publish_file(
        portal,
        REAL_DATA / "seattle/Terry_Stops.csv",
        "terry",
        "2017-Q3",
        family="contacts",
        mapping=Path("seattle_terry_stops"),
    )
    result = race_pairs(portal, "terry")
    assert result["total"] == 19753
    stored = pl.read_parquet(portal.release_path(portal.release("terry")))
    expected = stored.filter(
        (pl.col("officer_race") == "White")
        & (pl.col("subject_race") == "Black or African American")
    ).height
    cell = next(
        c
        for c in result["cells"]
        if c["officer_group"] == "White" and c["subject_group"] == "Black or African American"
    )
    assert cell["count"] == expected > 0
