"""Outcomes and funnel plots over published real files, checked against polars and scipy.

Every count is worked out again with polars from the release's Parquet file (the
same data the service reads through the query engine); every interval is worked
out again with scipy and statsmodels.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from scipy.stats import binomtest, poisson
from statsmodels.stats.proportion import proportion_confint

from openblotter.services import funnel as funnels
from openblotter.services import outcomes
from openblotter.services.portal import Portal
from tests.conftest import REAL_DATA
from tests.factories import make_portal, publish_file, write_demographics

RESIDENTS = 1_097_379


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Portal:
    directory = tmp_path_factory.mktemp("outcomes")
    published = make_portal(directory)
    base = ["44", "Rhode Island", "State", "Rhode Island", "2020", "test"]
    residents = write_demographics(
        directory / "residents.csv",
        base,
        [
            ("All", "All", "All", RESIDENTS),
            ("All", "All", "Male", 537000),
            ("All", "All", "Female", 560379),
        ],
    )
    publish_file(
        published, residents, "community_demographics", "2026-Q1", family="community_demographics"
    )
    for path, dataset_id, family, mapping in (
        ("rhode_island/police.csv", "ri_stops", "contacts", "rhode_island_traffic_stops"),
        ("philadelphia/ppd_complaints.csv", "complaints", "complaints", "philadelphia_complaints"),
        ("seattle/Use_Of_Force.csv", "force", "use_of_force", "seattle_use_of_force"),
        ("denver/BiasMotivatedCrimes.csv", "hate_crimes", "hate_crimes", "denver_hate_crimes"),
    ):
        publish_file(
            published, REAL_DATA / path, dataset_id, "2024-Q4", family=family, mapping=Path(mapping)
        )
    return published


def release_frame(portal: Portal, dataset_id: str) -> pl.DataFrame:
    return pl.read_parquet(portal.release_path(portal.release(dataset_id, None)))


def as_counts(table: dict, key: str = "value") -> dict:
    return {row[key]: row["count"] for row in table["rows"]}


def label(column: pl.Expr) -> pl.Expr:
    text = column.cast(pl.String)
    return pl.when(text.is_null() | (text == "")).then(pl.lit("Not recorded")).otherwise(text)


def test_complaints_channels_and_findings_match_polars(portal):
    result = outcomes.outcomes(portal, "complaints")
    frame = release_frame(portal, "complaints")
    channels = (
        frame.unique(["complaint_id", "received_channel"])
        .group_by(label(pl.col("received_channel")).alias("value"))
        .len()
    )
    assert as_counts(result["tables"]["received_channel"]) == dict(channels.iter_rows())
    assert result["tables"]["received_channel"]["total"] == frame["complaint_id"].n_unique() == 5296
    findings = (
        frame.unique(["complaint_id", "allegation_number"])
        .group_by(label(pl.col("finding")).alias("value"))
        .len()
    )
    assert as_counts(result["tables"]["finding"]) == dict(findings.iter_rows())
    anonymous = result["tables"]["anonymous"]["rows"]
    assert anonymous == [{"value": "Not recorded", "count": 5296, "share": 1.0, "suppressed": None}]


def test_sustained_rates_and_exact_intervals(portal):
    rows = {
        r["value"]: r
        for r in outcomes.outcomes(portal, "complaints")["tables"]["sustained_by_group"]["rows"]
    }
    frame = release_frame(portal, "complaints").with_columns(
        pl.when(pl.col("subject_ethnicity") == "Hispanic or Latino")
        .then(pl.lit("Hispanic or Latino"))
        .otherwise(pl.col("subject_race"))
        .alias("group")
    )
    investigated = frame.filter(
        pl.col("finding").is_in(outcomes.INVESTIGATED_FINDINGS)
    ).with_columns(label(pl.col("group")).alias("group"))
    expected = (
        investigated.unique(["complaint_id", "allegation_number", "group", "finding"])
        .group_by("group")
        .agg(pl.len().alias("n"), (pl.col("finding") == "Sustained").sum().alias("k"))
    )
    assert {g for g in expected["group"]} == set(rows)
    for group, n, k in expected.iter_rows():
        row = rows[group]
        assert (row["allegations"], row["sustained"]) == (n, k)
        assert row["sustained_rate"] == pytest.approx(k / n, rel=1e-12)
        scipy_ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        beta_low, beta_high = proportion_confint(k, n, alpha=0.05, method="beta")
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(
            (scipy_ci.low, scipy_ci.high), rel=1e-12
        )
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(
            (beta_low, beta_high), rel=1e-9, abs=1e-12
        )
    black = rows["Black or African American"]
    assert black["allegations"] > 5000 and black["reliable"] is True


def test_force_contacts_and_hate_crimes_match_polars(portal):
    force = outcomes.outcomes(portal, "force")["tables"]
    frame = release_frame(portal, "force")
    assert as_counts(force["force_type"]) == dict(
        frame.group_by(label(pl.col("force_type"))).len().iter_rows()
    )
    assert force["force_type"]["total"] == frame.height == 13886
    people = frame.unique(["incident_id", "subject_id", "subject_injured"])
    assert force["subject_injured"]["total"] == people.height
    contacts = outcomes.outcomes(portal, "ri_stops")["tables"]
    stops = release_frame(portal, "ri_stops")
    assert as_counts(contacts["outcome"]) == dict(
        stops.group_by(label(pl.col("outcome"))).len().iter_rows()
    )
    assert as_counts(contacts["subject_role"]) == {"Driver": 27918}
    assert "bias_by_year" not in contacts  # stops record no bias motivation
    bias = outcomes.outcomes(portal, "hate_crimes")["tables"]["bias_by_year"]
    crimes = release_frame(portal, "hate_crimes").filter(
        pl.col("bias_category") != "None (no bias)"
    )
    expected = crimes.group_by(
        label(pl.col("incident_date").dt.year()).alias("year"),
        label(pl.col("bias_category")).alias("bias"),
    ).len()
    assert {(r["year"], r["bias_category"]): r["count"] for r in bias["rows"]} == {
        (y, b): n for y, b, n in expected.iter_rows()
    }


def test_funnel_by_beat_against_polars_and_poisson(portal):
    result = funnels.funnel(portal, "force", by="beat")
    beats = release_frame(portal, "force").group_by("beat").len()
    placed = {b: n for b, n in beats.iter_rows() if b not in funnels.UNPLACED}
    assert {u["unit"]: u["events"] for u in result["units"]} == placed
    assert result["unplaced_events"] == sum(
        n for b, n in beats.iter_rows() if b in funnels.UNPLACED
    )
    mean = sum(placed.values()) / len(placed)
    assert result["basis"] == "average" and result["target_rate"] == pytest.approx(mean)
    low_r, high_r = poisson.ppf(0.025, mean), poisson.ppf(0.975, mean)
    for unit in result["units"]:
        # Spiegelhalter's interpolation puts each limit between the quantile and the one below.
        assert (
            low_r - 1 <= unit["limit_95_low"] <= low_r
            and high_r - 1 <= unit["limit_95_high"] <= high_r
        )
        assert unit["small"] == (unit["events"] < portal.settings.small_number_threshold)
        outside = not unit["limit_99_8_low"] <= unit["rate"] <= unit["limit_99_8_high"]
        assert outside == ("99.8%" in unit["position"] and "within" not in unit["position"])
    assert result["beyond_99_8"] > 5 and "funnel_overdispersion" in [
        c["key"] for c in result["caveats"]
    ]


def test_funnel_by_quarter_per_1000_residents(portal):
    result = funnels.funnel(portal, "ri_stops", by="quarter", period="2007")
    stops = release_frame(portal, "ri_stops").filter(pl.col("incident_date").dt.year() == 2007)
    per_quarter = stops.group_by(pl.col("incident_date").dt.quarter()).len().sort("incident_date")
    assert [u["events"] for u in result["units"]] == per_quarter["len"].to_list()
    for unit in result["units"]:
        assert unit["rate"] == pytest.approx(unit["events"] / RESIDENTS * 1000, rel=1e-12)
    assert result["target_rate"] == pytest.approx(stops.height / 4 / RESIDENTS * 1000)
    assert result["basis"] == "residents" and result["population_source"]["year"] == 2020


def test_suppression_hides_small_cells(portal, tmp_path):
    strict = Portal.open(portal.settings.model_copy(update={"suppression_threshold": 11}))
    result = outcomes.outcomes(strict, "hate_crimes")
    rows = result["tables"]["bias_by_year"]["rows"]
    assert all(r["count"] is None or r["count"] >= 11 or r["count"] == 0 for r in rows)
    primary = [r for r in rows if r["suppressed"] == "primary"]
    assert primary and result["suppressed_cells"] >= len(primary)
    funnel = funnels.funnel(strict, "force", by="beat")
    assert all(u["events"] is None or u["events"] >= 11 for u in funnel["units"])
