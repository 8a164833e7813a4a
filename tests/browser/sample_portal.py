"""A portal published from the real files, shared by the page tests (functional and browser).

- ``seattle_use_of_force``: Seattle PD use of force (13,886 rows), the ``use_of_force``
  family through its bundled mapping, so the pages show family prose and privacy treatment.
- ``philadelphia_complaints``: two real snapshots of Philadelphia PD's complaints file
  (2013-2018 and a later one with another layout), published as releases 2018-Q3 and
  2019-Q1 with one Table Schema, so the second release has a keyed diff: complaints added,
  one removed, districts and classifications corrected.
- ``denver_bias_crimes``: Denver bias-motivated crimes as a custom dataset (inferred schema).
- ``demo_contacts``: a few rows made up for the test and published as synthetic demo data,
  so that its pages must carry the demo notice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from openblotter.config import Settings
from openblotter.services.portal import Portal
from openblotter.services.publishing import PublishRequest, publish
from openblotter.web import errors, pages
from openblotter.web.app import create_app
from tests.conftest import REAL_DATA

REAL = REAL_DATA
MAPPINGS = Path(pages.__file__).resolve().parents[1] / "mappings"
SALT = "test-salt-pages-0123456789abcdef"

PHILADELPHIA_SCHEMA = {
    "fields": [
        {
            "name": "complaint_id",
            "type": "string",
            "title": "Complaint number",
            "sourceNames": ["cap_number"],
            "constraints": {"required": True},
        },
        {"name": "date_received", "type": "date", "title": "Date received"},
        {
            "name": "district_occurrence",
            "type": "string",
            "title": "District",
            "categorical": True,
            "sourceNames": ["dist_occurrence"],
        },
        {
            "name": "general_cap_classification",
            "type": "string",
            "title": "Classification",
            "categorical": True,
        },
        {"name": "summary", "type": "string", "freeText": True},
        {"name": "shortened_summary", "type": "string", "freeText": True},
    ],
    "primaryKey": ["complaint_id"],
}

DEMO_ROWS = [
    ["contact_id", "contact_date", "contact_type", "outcome"],
    ["D-1", "2024-01-05", "Traffic citation", "Citation issued"],
    ["D-2", "2024-02-11", "Arrest", "Booked"],
    ["D-3", "2024-04-20", "Traffic citation", "Warning"],
    ["D-4", "2024-05-02", "Field contact", "Released"],
]


@dataclass(frozen=True)
class SamplePortal:
    settings: Settings
    portal: Portal


def sample_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        salt=SALT,
        demo=False,
        portal_name="OpenBlotter test portal",
        agency="Test Police Department",
        rate_limit_enabled=False,  # one browser loads every page of the suite
    )


def publish_samples(data_dir: Path) -> SamplePortal:
    """Publish the sample datasets into ``data_dir`` (a temporary directory)."""
    settings = sample_settings(data_dir)
    portal = Portal.open(settings)
    _publish(
        portal,
        REAL / "seattle" / "Use_Of_Force.csv",
        "seattle_use_of_force",
        "2024-Q4",
        family="use_of_force",
        mapping=MAPPINGS / "seattle_use_of_force.toml",
        title="Seattle use of force",
    )
    schema_file = data_dir / "philadelphia_complaints.schema.json"
    schema_file.write_text(json.dumps(PHILADELPHIA_SCHEMA), encoding="utf-8")
    for name, label in (("ppd_complaints_7-18.csv", "2018-Q3"), ("ppd_complaints.csv", "2019-Q1")):
        _publish(
            portal,
            REAL / "philadelphia" / name,
            "philadelphia_complaints",
            label,
            schema_file=schema_file,
            title="Philadelphia complaints against police",
        )
    _publish(
        portal,
        REAL / "denver" / "BiasMotivatedCrimes.csv",
        "denver_bias_crimes",
        "2024-Q4",
        title="Denver bias-motivated crimes",
        description="Crimes the Denver Police Department recorded with a bias motivation.",
    )
    demo = data_dir / "demo_contacts.csv"
    demo.write_text("\n".join(",".join(row) for row in DEMO_ROWS) + "\n", encoding="utf-8")
    _publish(portal, demo, "demo_contacts", "2024-Q2", title="Demo contacts", synthetic=True)
    return SamplePortal(settings, portal)


def _publish(portal: Portal, path: Path, dataset_id: str, label: str, **options: object) -> None:
    options.setdefault("accept_privacy", True)  # the publisher has read the proposed treatments
    result = publish(
        portal, PublishRequest(path=path, dataset_id=dataset_id, label=label, **options)
    )  # type: ignore[arg-type]
    assert result.release is not None, result.report.to_dict()


def portal_app(settings: Settings) -> FastAPI:
    """The portal's app with the pages (added here until create_app includes them)."""
    app = create_app(settings)
    if not any(getattr(route, "path", None) == "/" for route in app.routes):
        errors.install(app, html_error=pages.html_error)
        app.include_router(pages.router)
        app.mount("/static", pages.static_files(), name="static")
    return app
