"""Factories for test portals and releases: each test gets its own data directory."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from openblotter.config import Settings
from openblotter.domain.schema import TableSchema
from openblotter.services.portal import Portal
from openblotter.services.publishing import PublishRequest, PublishResult, publish
from tests.conftest import REAL_DATA

TEST_SALT = "test-salt-not-secret-0123456789abcdef"

#: A contacts table with a field of every type, a categorical code, free narrative text and
#: a field the publisher drops: the query model's and the engine's tests read the same one.
CONTACTS_SCHEMA = TableSchema.from_descriptor(
    {
        "fields": [
            {"name": "case_number", "type": "string"},
            {"name": "contact_date", "type": "date"},
            {"name": "contact_time", "type": "time"},
            {"name": "reported_at", "type": "datetime"},
            {"name": "subject_race", "type": "string", "categorical": True},
            {"name": "subject_age", "type": "integer"},
            {"name": "fine_amount", "type": "number"},
            {"name": "arrested", "type": "boolean"},
            {"name": "narrative", "type": "string"},
            {"name": "home_address", "type": "string", "privacy": {"treatment": "drop"}},
        ]
    }
)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    # Tests make hundreds of requests from one client; the rate-limit tests turn it on.
    overrides.setdefault("rate_limit_enabled", False)
    return Settings(data_dir=data_dir, salt=TEST_SALT, **overrides)


def make_portal(data_dir: Path, **overrides: Any) -> Portal:
    return Portal.open(make_settings(data_dir, **overrides))


def publish_file(
    portal: Portal, path: Path, dataset_id: str, label: str, **options: Any
) -> PublishResult:
    # A publisher who has read the proposed privacy treatments of a new layout (the review
    # itself is tested in tests/integration/test_privacy_review.py).
    options.setdefault("accept_privacy", True)
    result = publish(
        portal, PublishRequest(path=path, dataset_id=dataset_id, label=label, **options)
    )
    assert result.release is not None, result.report.to_dict()
    return result


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


DEMOGRAPHICS_HEADER = [
    "geography_id",
    "geography_name",
    "geography_level",
    "state",
    "year",
    "source",
    "race",
    "ethnicity",
    "sex",
    "age_group",
    "population",
    "margin_of_error",
]


def write_demographics(
    path: Path, area: list[str], groups: list[tuple[str, str, str, int]]
) -> Path:
    """A community demographics CSV: ``area`` = (id, name, level, state, year, source);
    ``groups`` = (race, ethnicity, sex, residents), all ages."""
    rows = [
        [*area, race, ethnicity, sex, "All", residents, ""]
        for race, ethnicity, sex, residents in groups
    ]
    return write_csv(path, DEMOGRAPHICS_HEADER, rows)


def write_small_city_residents(path: Path) -> Path:
    """Residents of a 1,000-person test city by race and ethnicity, and by sex (2020)."""
    area = ["4052500", "Test city", "Place", "Oklahoma", "2020", "2020 Census"]
    return write_demographics(
        path,
        area,
        [
            ("All", "All", "All", 1000),
            ("Hispanic or Latino", "Hispanic or Latino", "All", 100),
            ("White", "Not Hispanic or Latino", "All", 600),
            ("Black or African American", "Not Hispanic or Latino", "All", 200),
            ("Asian", "Not Hispanic or Latino", "All", 100),
            ("All", "All", "Male", 490),
            ("All", "All", "Female", 510),
        ],
    )


def write_contacts_by_race(path: Path) -> Path:
    """107 arrests in 2025 by race and ethnicity (7 unknown) and 99 in 2024, all male."""
    rows, n = [], 0
    for race, ethnicity, count, year in [
        ("Black", "Not Hispanic or Latino", 40, 2025),
        ("White", "Not Hispanic or Latino", 50, 2025),
        ("White", "Hispanic or Latino", 10, 2025),
        ("", "", 7, 2025),
        ("White", "", 99, 2024),
    ]:
        for _ in range(count):
            n += 1
            rows.append([n, "Arrest", f"{year}-05-01", race, ethnicity, "Male"])
    return write_csv(
        path,
        [
            "record_id",
            "contact_type",
            "incident_date",
            "subject_race",
            "subject_ethnicity",
            "subject_sex",
        ],
        rows,
    )


def write_aged_contacts(path: Path) -> Path:
    """43 contacts in 2025 (and 9 in 2024) with an age, an agency band, both or neither."""
    groups = [
        ("17", "", 10, 2025),  # Under 18
        ("18", "", 5, 2025),  # 18 to 24
        ("24", "", 5, 2025),  # 18 to 24
        ("", "18 - 24", 4, 2025),  # 18 to 24, from the band
        ("30", "26 - 35", 3, 2025),  # the age wins: 25 to 34
        ("", "26 - 35", 6, 2025),  # straddles two bands: its own row
        ("", "65+", 2, 2025),  # 65 and over
        ("", "Under 18", 1, 2025),  # Under 18
        ("", "", 7, 2025),  # Unknown
        ("40", "", 9, 2024),  # outside the period
    ]
    rows, n = [], 0
    for age, band, count, year in groups:
        for _ in range(count):
            n += 1
            rows.append([n, "Arrest", f"{year}-05-01", age, band])
    header = ["record_id", "contact_type", "incident_date", "subject_age", "subject_age_group"]
    return write_csv(path, header, rows)


#: Rhode Island's residents in the 2010 census: the state police stops' benchmark.
RHODE_ISLAND_AREA = ["44", "Rhode Island", "State", "Rhode Island", "2010", "2010 Census"]
RHODE_ISLAND_RESIDENTS = [
    ("All", "All", "All", 1052567),
    ("Hispanic or Latino", "Hispanic or Latino", "All", 130655),
    ("White", "Not Hispanic or Latino", "All", 803685),
    ("Black or African American", "Not Hispanic or Latino", "All", 51560),
    ("Asian", "Not Hispanic or Latino", "All", 29988),
]


#: Dallas PD's real 2016 use-of-force file and the bundled mapping of its layout.
DALLAS_USE_OF_FORCE = REAL_DATA / "dallas" / "37-00049_UOF-P_2016_prepped.csv"
MAPPINGS = Path(__file__).resolve().parents[1] / "src" / "openblotter" / "mappings"
#: Dallas residents in 2016, rounded from the census (test values): benchmark denominators.
DALLAS_RESIDENTS = [
    ("All", "All", "All", 1_317_000),
    ("Hispanic or Latino", "Hispanic or Latino", "All", 553_000),
    ("White", "Not Hispanic or Latino", "All", 383_000),
    ("Black or African American", "Not Hispanic or Latino", "All", 318_000),
    ("American Indian or Alaska Native", "Not Hispanic or Latino", "All", 3_000),
    ("Asian", "Not Hispanic or Latino", "All", 44_000),
]


def publish_dallas(portal: Portal, work: Path, *, residents: bool = True) -> None:
    """Dallas's 2016 use of force as ``use_of_force`` 2016-Q4, and its residents."""
    publish_file(
        portal,
        DALLAS_USE_OF_FORCE,
        "use_of_force",
        "2016-Q4",
        mapping=MAPPINGS / "dallas_use_of_force.toml",
    )
    if residents:
        area = ["4819000", "Dallas city, Texas", "place", "TX", "2016", "ACS 2016 (rounded)"]
        publish_file(
            portal,
            write_demographics(work / "dallas-residents.csv", area, DALLAS_RESIDENTS),
            "community_demographics",
            "2016-Q4",
            family="community_demographics",
        )


#: Rhode Island State Police stops are timed by Providence's sun, not another city's.
PROVIDENCE = {
    "city_name": "Providence",
    "state": "Rhode Island",
    "city_latitude": 41.824,
    "city_longitude": -71.4128,
    "city_timezone": "America/New_York",
}


def publish_rhode_island(portal: Portal, dataset_id: str = "ri_stops") -> PublishResult:
    """The real Rhode Island stops (27,918) as contacts, through the bundled mapping."""
    return publish_file(
        portal,
        REAL_DATA / "rhode_island/police.csv",
        dataset_id,
        "2008-Q3",
        family="contacts",
        mapping=MAPPINGS / "rhode_island_traffic_stops.toml",
    )
