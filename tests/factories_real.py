"""The real files (tests/data/real, SOURCES.md) as tests use them: which file each bundled
mapping reads, the file mapped and conformed, and the analysis pages' sample portal."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl
from fastapi import FastAPI

from openblotter.config import Settings
from openblotter.domain.report import ValidationReport
from openblotter.ingest.conform import conform
from openblotter.ingest.families import load_family
from openblotter.ingest.mapping.apply import apply_mapping, bundled_mapping, related_paths
from openblotter.ingest.mapping.model import MappedTable
from openblotter.ingest.read.readers import read_table
from openblotter.services.portal import Portal
from openblotter.web import analysis_pages
from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import make_settings, publish_file, write_demographics

REAL = REAL_DATA

FILES = {
    "dallas_use_of_force": "dallas/37-00049_UOF-P_2016_prepped.csv",
    "seattle_use_of_force": "seattle/Use_Of_Force.csv",
    "seattle_terry_stops": "seattle/Terry_Stops.csv",
    "rhode_island_traffic_stops": "rhode_island/police.csv",
    "philadelphia_complaints": "philadelphia/ppd_complaints.csv",
    "philadelphia_complaints_2018": "philadelphia/ppd_complaints_7-18.csv",
    "denver_hate_crimes": "denver/BiasMotivatedCrimes.csv",
    "austin_hate_crimes": "austin/Austin_Hate_Crimes_2017-2022_Cleaned.xlsx",
    "new_jersey_officers": "new_jersey/2021_NJOAGLEOD_Officer_Information.csv",
    "census_acs2017_county": "census/acs2017_county_data.csv",
    "census_pep2019_places": "census/sub-est2019_all_places_subset.csv",
    "orlando_use_of_force": "orlando/OPD_Response_To_Resistance.csv",
    "south_bend_use_of_force": "south_bend/Police_Use_of_Force_Incidents.csv",
    "indianapolis_complaints": "indianapolis/IMPD_complaints_Dec_2020.csv",
    "milwaukee_complaints": "milwaukee/Wisconsin_Milwaukee_COMPLAINTS.csv",
    "oakland_stops": "oakland/ca_oakland_2020_04_01_SHORT.csv",
}

# Real files whose mapping is right but whose family cannot take them: the publish says why
# (tests/integration/test_packed_people.py).
REFUSED = {"louisville_shootings": "louisville/2015list.csv"}


@cache
def mapped(name: str) -> MappedTable:
    mapping = bundled_mapping(name)
    main = REAL / (FILES | REFUSED)[name]
    related = {k: read_table(p) for k, p in related_paths(mapping, main).items()}
    return apply_mapping(
        read_table(main), mapping, load_family(mapping.family).schema, related=related
    )


@cache
def conformed(name: str) -> tuple[pl.DataFrame, ValidationReport]:
    table = mapped(name)
    result = conform(table.frame, table.schema, ValidationReport(source=name))
    return result.frame, result.report


#: Orlando's use of force: officers and subjects packed in one cell.
ORLANDO = REAL_DATA / FILES["orlando_use_of_force"]


#: Residents of Rhode Island by race and ethnicity, close to the 2020 Census (P2) counts for Rhode Island;
#: test values, not a source of truth.
ANALYSIS_RESIDENTS = [
    ("All", "All", "All", 1097379),
    ("Hispanic or Latino", "Hispanic or Latino", "All", 182101),
    ("White", "Not Hispanic or Latino", "All", 781718),
    ("Black or African American", "Not Hispanic or Latino", "All", 56384),
    ("American Indian or Alaska Native", "Not Hispanic or Latino", "All", 3252),
    ("Asian", "Not Hispanic or Latino", "All", 38590),
    ("Native Hawaiian or Other Pacific Islander", "Not Hispanic or Latino", "All", 326),
    ("Other", "Not Hispanic or Latino", "All", 7826),
    ("Two or more races", "Not Hispanic or Latino", "All", 27182),
    ("All", "All", "Male", 537000),
    ("All", "All", "Female", 560379),
]
CITY = {
    "city_name": "Providence, Rhode Island",
    "city_latitude": 41.824,
    "city_longitude": -71.4128,
    "city_timezone": "America/New_York",
}


def analysis_settings(data_dir: Path, **overrides: object) -> Settings:
    return make_settings(data_dir, **{**CITY, **overrides})


def publish_analysis_samples(data_dir: Path) -> Portal:
    """Publish the real files the analysis pages are shown on into ``data_dir``."""
    portal = Portal.open(analysis_settings(data_dir))
    base = ["44", "Rhode Island", "State", "Rhode Island", "2020", "2020 Census (test values)"]
    demographics = write_demographics(data_dir / "residents.csv", base, ANALYSIS_RESIDENTS)
    publish_file(
        portal, demographics, "community_demographics", "2026-Q1", family="community_demographics"
    )
    for path, dataset_id, label, family, mapping in (
        (
            "rhode_island/police.csv",
            "ri_stops",
            "2008-Q3",
            "contacts",
            "rhode_island_traffic_stops",
        ),
        (
            "philadelphia/ppd_complaints.csv",
            "philadelphia_complaints",
            "2019-Q1",
            "complaints",
            "philadelphia_complaints",
        ),
        (
            "seattle/Use_Of_Force.csv",
            "seattle_use_of_force",
            "2024-Q4",
            "use_of_force",
            "seattle_use_of_force",
        ),
        (
            "denver/BiasMotivatedCrimes.csv",
            "denver_hate_crimes",
            "2024-Q4",
            "hate_crimes",
            "denver_hate_crimes",
        ),
        (
            "new_jersey/2021_NJOAGLEOD_Officer_Information.csv",
            "nj_officers",
            "2021-Q4",
            "department_demographics",
            "new_jersey_officers",
        ),
    ):
        publish_file(
            portal, REAL_DATA / path, dataset_id, label, family=family, mapping=Path(mapping)
        )
    publish_file(portal, REAL_DATA / "denver/BiasMotivatedCrimes.csv", "denver_custom", "2024-Q4")
    return portal


def analysis_app(settings: Settings) -> FastAPI:
    """The portal's app with the analysis pages (included here until create_app includes them)."""
    app = create_app(settings)
    if not any(getattr(route, "path", None) == "/analysis" for route in app.routes):
        app.include_router(analysis_pages.router)
    return app
