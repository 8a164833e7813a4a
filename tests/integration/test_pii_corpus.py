"""Planted personal data never reaches a file, an export, a manifest, a page or an API response.

Names, dates of birth, addresses, phones, e-mails, SSNs and plates are planted
in structured columns AND in narratives that name other people (not fields of
their row), and published twice: as a custom dataset (its treatments proposed
by the column detectors and accepted) and through the use-of-force family,
with invalid dates of birth and coordinates let through by --allow-invalid and
an earlier release withdrawn. Then every GET route of the app is requested
with every dataset and release, every export format, facets and counts by
every field, and every file under the data directory is read.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from openblotter.ingest.families import load_family
from openblotter.services.releases import withdraw
from openblotter.web.app import create_app
from tests.factories import make_settings, publish_file, write_csv

# In structured columns (each only in its own field of its own row).
NAMES = ["Jolene Quarterfield", "Bartholomew Nakashima-Reyes", "Kevin Ng"]
BIRTH_DATES = ["1987-03-14", "1999-11-02", "1979-01-17"]
ADDRESSES = ["4417 Wrenfield Ave", "1208 Osage Hollow Rd", "2209 E Lindsey St"]
PHONES = ["405-555-0187", "(405) 555-0142", "918.555.0163"]
EMAILS = ["jolene.q@example.org", "bnreyes@example.net", "kng79@example.com"]
SSNS = ["512-44-9081", "623-18-7745", "401-22-6718"]
PLATES = ["ABC1234", "7XYZ123", "HJK4521"]
OFFICER_IDS = ["NPD-88231", "NPD-77410", "NPD-66120"]
COORDINATES = ["35.214567", "-97.441234"]
#: Raw values that fail validation and are let through by --allow-invalid.
INVALID = ["1991-02-30", "35.21456x"]

# Only in the narratives, about people who are not fields of the row.
NARRATIVE_PEOPLE = ["Maria Gonzalez", "Thanh Nguyen", "Darnell Hughes", "Fiona McAllister"]
NARRATIVE_DETAILS = ["3305 Rambling Oaks Dr", "580-555-0102", "dmoss88@example.com",
                     "578-21-3344", "02/09/2011", "KLM4481", "Sept 9, 1990"]  # fmt: skip

NARRATIVES = [
    "Officer Hale responded. Witness Maria Gonzalez, who lives at 3305 Rambling Oaks Dr, "
    "said the driver of a silver Honda, plate KLM4481, left before officers arrived.",
    "The victim's mother, Thanh Nguyen, can be reached at 580-555-0102 or dmoss88@example.com. "
    "Her son's SSN 578-21-3344 and DOB 02/09/2011 were confirmed with the school.",
    "Neighbor Darnell Hughes (DOB Sept 9, 1990) and his cousin Fiona McAllister saw the "
    "struggle from across the street. Ng said nothing after arrest.",
]


def _secrets() -> list[str]:
    parts = [p for n in NAMES + NARRATIVE_PEOPLE for p in n.split()]
    return (
        NAMES + parts + BIRTH_DATES + ADDRESSES + PHONES + EMAILS + SSNS + PLATES + OFFICER_IDS
        + COORDINATES + INVALID + NARRATIVE_PEOPLE + NARRATIVE_DETAILS
        + ["555-0187", "555-0142", "Rambling Oaks", "3/14/1987"]
    )  # fmt: skip


def _leaks(text: str) -> list[str]:
    found = []
    readable = _readable_runs(text)
    for secret in _secrets():
        if len(secret) >= 5:
            if secret.lower() in text.lower():
                found.append(secret)
        elif re.search(rf"(?<![A-Za-z]){re.escape(secret)}(?![A-Za-z])", readable):
            found.append(secret)  # "Ng" as written: "ng" is inside many words
    return found


def _readable_runs(text: str) -> str:
    """The runs of at least six printable characters, one per line (what ``strings`` shows).

    A two-letter secret is looked for only there: in the random bytes of a
    binary file (a SQLite WAL's salts and checksums, a DuckDB block) "Ng"
    between two non-letters turns up by chance about once in forty runs, and
    text that was written holds it inside a readable run.
    """
    return "\n".join(re.findall(r"[\x20-\x7e]{6,}", text))


#: Every family whose schema has personal fields (hate crimes are derived from contacts).
FAMILIES = ["use_of_force", "contacts", "complaints", "community_engagement"]


def _family_value(f, i: int, invalid: bool):
    """A value for field ``f`` of row ``i``: planted personal data where the field holds it."""
    name = f.name
    planted = {
        "officer_name": NAMES[(i + 1) % 3], "subject_name": NAMES[i],
        "subject_date_of_birth": INVALID[0] if invalid else BIRTH_DATES[i],
        "subject_address": ADDRESSES[i], "block_address": ADDRESSES[i],
        "latitude": INVALID[1] if invalid else COORDINATES[0], "longitude": COORDINATES[1],
        "officer_id": OFFICER_IDS[i], "subject_id": f"S{i}",
    }  # fmt: skip
    if name in planted:
        return planted[name]
    if f.free_text:
        return NARRATIVES[i]
    if f.enum:
        return f.enum[0]
    return {"date": "2026-08-01", "datetime": "2026-08-01T10:00:00", "time": "10:00",
            "integer": i + 1, "number": i + 1, "year": 2026,
            "boolean": "true"}.get(f.type, f"{name[:3].upper()}-{i}")  # fmt: skip


def _family_file(path: Path, family: str, invalid: bool) -> Path:
    schema = load_family(family).schema
    header = [f.name for f in schema.fields]
    rows = [[_family_value(f, i, invalid and i == 2) for f in schema.fields] for i in range(3)]
    return write_csv(path, header, rows)


CUSTOM_HEADER = ["Case Number", "Report Date", "Victim Name", "DOB", "Home Address",
                 "Contact Phone", "E-mail", "SSN", "Plate", "DL Number", "Lat", "Lon",
                 "Offense", "Narrative"]  # fmt: skip


def _custom_file(path: Path) -> Path:
    rows = [
        [f"2026-{1000 + i}", "2026-08-0" + str(i + 1), NAMES[i], BIRTH_DATES[i], ADDRESSES[i],
         PHONES[i], EMAILS[i], SSNS[i], PLATES[i], f"D{48213570 + i}", COORDINATES[0],
         COORDINATES[1], ["Burglary", "Assault", "Theft"][i], NARRATIVES[i]]
        for i in range(3)
    ]  # fmt: skip
    return write_csv(path, CUSTOM_HEADER, rows)


FREE_TEXT = ["narrative", "summary", "description"]


@pytest.fixture(params=[[], FREE_TEXT], ids=["narrative-withheld", "narrative-allowed"])
def portal_app(request, tmp_path):
    settings = make_settings(tmp_path / "portal", publish_free_text=request.param)
    app = create_app(settings)
    portal = app.state.portal
    for label, invalid in (("2026-Q2", False), ("2026-Q3", True)):
        for family in FAMILIES:
            source = _family_file(tmp_path / f"{family}-{label}.csv", family, invalid)
            publish_file(portal, source, family, label, family=family, allow_invalid=True)
    withdraw(portal, "use_of_force", "2026-Q2", reason="planted test data")
    publish_file(portal, _custom_file(tmp_path / "reports.csv"), "incident_reports", "2026-Q3")
    return app


def _get_paths(routes, prefix=""):
    for route in routes:
        if hasattr(route, "original_router"):
            yield from _get_paths(
                route.original_router.routes, prefix + route.include_context.prefix
            )
        elif "GET" in (getattr(route, "methods", None) or ()):
            yield prefix + route.path


def _urls(app, http) -> list[str]:
    portal = app.state.portal
    datasets = {d.id: portal.catalog.releases(d.id) for d in portal.catalog.datasets()}
    urls: list[str] = []
    for path in _get_paths(app.routes):
        for dataset_id, releases in datasets.items():
            labels = [r.label for r in releases]
            values = {"dataset_id": [dataset_id], "label": labels, "old": labels[:1],
                      "new": labels[-1:], "fmt": ["csv", "ndjson", "parquet", "xlsx", "json"],
                      "name": ["benchmark", "outcomes", "representation"]}  # fmt: skip
            urls += _fill(path, values)
    for dataset_id in datasets:
        fields = http.get(f"/api/v1/datasets/{dataset_id}").json()["schema"]["fields"]
        for f in fields:
            urls.append(f"/api/v1/datasets/{dataset_id}/facets?_facet={f['name']}")
            urls.append(f"/api/v1/datasets/{dataset_id}/aggregate?_group={f['name']}")
            urls.append(f"/datasets/{dataset_id}/explore?_sort={f['name']}")
    return sorted(set(urls))


def _fill(path: str, values: dict[str, list[str]]) -> list[str]:
    names = re.findall(r"{(\w+)}", path)
    urls = [path]
    for name in names:
        urls = [u.replace(f"{{{name}}}", v) for u in urls for v in values.get(name, ["x"])]
    return urls


def _text_of(content: bytes, url_or_name: str) -> str:
    if content[:4] == b"PAR1":
        return repr(pq.read_table(io.BytesIO(content)).to_pylist())
    if content[:2] == b"PK":
        book = load_workbook(io.BytesIO(content), read_only=True)
        return " ".join(str(c) for sheet in book for row in sheet.iter_rows(values_only=True)
                        for c in row)  # fmt: skip
    # "replace", not "ignore": dropping a bad byte would join its neighbours into new text
    return content.decode("utf-8", errors="replace") + "\n" + content.decode("latin-1")


def test_leak_search_finds_written_text_not_binary_noise():
    wal_noise = b"\x00\x17\x9c\x02Ng\x01\xf3\x00\x00" + b"N\xffg " + b"\x04 Ng\x7f"
    assert _leaks(_text_of(wal_noise, "catalog.sqlite-wal")) == []
    written = b"\x00\x00\x0d\x01Ng said nothing after arrest.\x00"
    assert _leaks(_text_of(written, "catalog.sqlite-wal")) == ["Ng"]
    assert _leaks(_text_of(b"\x00\x01Kevin Ng\x00", "page")) == ["Kevin Ng", "Kevin", "Ng"]
    assert _leaks(_text_of(b"Darnell was here", "page")) == ["Darnell"]


def test_no_planted_personal_data_in_any_route_file_or_manifest(portal_app):
    leaks: dict[str, list[str]] = {}
    with TestClient(portal_app) as http:
        urls = _urls(portal_app, http)
        for url in urls:
            response = http.get(url)
            assert response.status_code < 500, url
            found = _leaks(_text_of(response.content, url))
            if found:
                leaks[url] = found
    data_dir = portal_app.state.portal.settings.data_dir
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    for path in files:
        found = _leaks(_text_of(path.read_bytes(), str(path)))
        if found:
            leaks[str(path.relative_to(data_dir))] = found
    assert leaks == {}, "\n".join(f"{k}: {v}" for k, v in leaks.items())
    assert len(urls) > 60 and any(p.suffix == ".parquet" for p in files)
    assert any("/releases/2026-Q2" in u for u in urls)  # the withdrawn release's manifest too


def test_what_is_published_instead(portal_app):
    portal = portal_app.state.portal
    allowed = portal.settings.free_text_allowed("use_of_force", "narrative")
    with TestClient(portal_app) as http:
        rows = http.get("/api/v1/datasets/use_of_force/rows").json()["rows"]
        custom = http.get("/api/v1/datasets/incident_reports").json()["schema"]
        manifest = http.get("/api/v1/datasets/use_of_force/releases/2026-Q3").json()
    first = rows[0]
    assert {d.id for d in portal.catalog.datasets()} >= {
        *FAMILIES,
        "hate_crimes",
        "incident_reports",
    }
    assert first["block_address"] == "4400 BLOCK WRENFIELD AVE"
    assert first["subject_age_from_birth_date"] == 39
    assert len(first["officer_id"]) == 20 and first["officer_id"] != OFFICER_IDS[0]
    assert ("narrative" in first) == allowed
    if allowed:
        assert "Witness [name], who lives at [address]" in first["narrative"]
        assert "plate [plate]" in first["narrative"]
    treatments = {f["name"]: f["privacy"] for f in custom["fields"]}
    assert treatments["home_address"] == "generalized (hundred_block)"
    assert treatments["lat"].startswith("generalized (grid)")
    assert treatments["offense"] is None
    withheld = {f["name"] for f in custom["withheld_fields"]}
    assert {"victim_name", "contact_phone", "e_mail", "ssn", "plate", "dl_number"} <= withheld
    examples = [e for g in manifest["report"]["problems"] if g["code"] == "type_error"
                for e in g["examples"]]  # fmt: skip
    assert {e["column"] for e in examples} == {"subject_date_of_birth", "latitude"}
    assert {e["value"] for e in examples} == {"[withheld]"}
