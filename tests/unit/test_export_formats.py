"""Dates and times as common exports write them, read without a hand-written format."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from openblotter.domain.report import ValidationReport
from openblotter.domain.schema import TableSchema
from openblotter.ingest.damage import report_damage
from openblotter.ingest.infer import infer_type
from openblotter.ingest.parsing import parse_column


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2016/01/01 00:00:00+00", None, datetime(2016, 1, 1, 0, 0)),  # ArcGIS/Esri
        ("2017/02/19 05:00:00+00", "America/Indiana/Indianapolis", datetime(2017, 2, 19)),
        ("2016-01-01T05:00:00Z", "America/Chicago", datetime(2015, 12, 31, 23, 0)),
        ("2016-01-01T05:00:00.000Z", None, datetime(2016, 1, 1, 5, 0)),
        ("2016-01-01 05:00:00+00:00", None, datetime(2016, 1, 1, 5, 0)),
        ("2016-01-01T05:00:00-0500", "America/New_York", datetime(2016, 1, 1, 5, 0)),
        ("42370", None, datetime(2016, 1, 1)),  # Excel serial day
        ("42370.5", None, datetime(2016, 1, 1, 12, 0)),
        ("01-JAN-2016", None, datetime(2016, 1, 1)),
        ("Jan 5, 2016", None, datetime(2016, 1, 5)),
        ("1/7/2010 0:00", None, datetime(2010, 1, 7)),
        ("not a date", None, None),
        ("12345678901", None, None),
    ],
)
def test_moments_are_read_by_default(text, zone, expected):
    parsed = parse_column(pl.Series([text]), "datetime", zone=zone)
    assert parsed.to_list() == [expected]


def test_times_with_milliseconds_after_a_colon_are_read():
    assert str(parse_column(pl.Series(["21:48:00:000"]), "time")[0]) == "21:48:00"


def test_dates_with_a_zone_are_the_citys_calendar_date():
    values = pl.Series(["2017/02/19 05:00:00+00", "2016-06-01T04:00:00Z", "42370"])
    parsed = parse_column(values, "date", zone="America/Indiana/Indianapolis")
    assert parsed.to_list() == [date(2017, 2, 19), date(2016, 6, 1), date(2016, 1, 1)]


def test_an_arcgis_column_of_local_midnights_is_inferred_as_dates_in_the_citys_zone():
    values = pl.Series(["2017/02/19 05:00:00+00", "2017/07/01 04:00:00+00"])
    assert infer_type(values, "America/Indiana/Indianapolis") == "date"
    assert infer_type(values) == "datetime"  # without a zone: 04:00 and 05:00 UTC


def test_scientific_notation_is_never_an_integer():
    assert parse_column(pl.Series(["2.02E+14", "12", "1,200", "3.0"]), "integer").to_list() == [
        None,
        12,
        1200,
        3,
    ]
    assert infer_type(pl.Series(["2.02E+14", "2.02E+14"])) == "string"


def test_damage_is_reported_per_distinct_value_with_rows():
    schema = TableSchema.from_descriptor(
        {
            "fields": [
                {"name": "case_id"},
                {"name": "zip"},
                {"name": "received_date", "type": "date"},
                {"name": "closed_date"},
            ]
        }
    )
    frame = pl.DataFrame(
        {
            "case_id": ["2.02E+14", "2.02E+14", "1.5E+13", "77"],
            "zip": ["02134", "2134", "73069", "2134"],
            "received_date": ["2016-01-01", "42370", "42370", "1/2/2016"],
            "closed_date": ["2016-02-01", "42401", "2016-03-01", "2016-04-01"],
            "__row": [2, 3, 4, 5],
        }
    )
    report = ValidationReport()
    report_damage(frame, schema, report)
    found = {
        (p.code, p.column, p.value, p.rows, p.row)
        for g in report.groups.values()
        for p in g.examples
    }
    assert found == {
        ("scientific_notation", "case_id", "2.02E+14", 2, 2),
        ("scientific_notation", "case_id", "1.5E+13", 1, 4),
        ("leading_zeros_lost", "zip", "2134", 2, 3),
        ("date_read_from_number", "received_date", "42370", 2, 3),
        ("date_as_number", "closed_date", "42401", 1, 3),
    }
    assert report.ok  # warnings: the clerk decides; nothing is blocked or changed
