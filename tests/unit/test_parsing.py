"""Typed parsing of text cells as real exports write them."""

from datetime import date, datetime, time

import polars as pl
import pytest

from openblotter.ingest.parsing import parse_column


def parse(values, kind, fmt=None):
    return parse_column(pl.Series("v", values, dtype=pl.String), kind, fmt).to_list()


def test_dates_in_the_formats_agencies_use():
    assert parse(["9/3/16", "2016-09-03", "3/22/2016", "1/7/2010 0:00", None, "soon"], "date") == [
        date(2016, 9, 3),
        date(2016, 9, 3),
        date(2016, 3, 22),
        date(2010, 1, 7),
        None,
        None,
    ]


def test_two_digit_years_are_not_read_as_the_first_century():
    assert parse(["9/3/16"], "date") == [date(2016, 9, 3)]


def test_times_12_hour_24_hour_fractional_and_hhmm_integers():
    values = ["4:14:00 AM", "12:09:00 AM", "21:08:00.0000000", "800", "0", "2000", "13:05", "2500"]
    assert parse(values, "time") == [
        time(4, 14),
        time(0, 9),
        time(21, 8),
        time(8, 0),
        time(0, 0),
        time(20, 0),
        time(13, 5),
        None,
    ]


def test_datetimes_mixed_in_one_column():
    assert parse(["06/07/2014 12:09:00 AM", "2015-03-30T21:08:00", "2015-03-30"], "datetime") == [
        datetime(2014, 6, 7, 0, 9),
        datetime(2015, 3, 30, 21, 8),
        datetime(2015, 3, 30),
    ]


def test_explicit_format_is_the_only_one_tried():
    assert parse(["03/04/2020", "2020-03-04"], "date", "%d/%m/%Y") == [date(2020, 4, 3), None]


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        ("integer", ["1,234", "12.0", "12.5", "-3", "x"], [1234, 12, None, -3, None]),
        ("number", ["$1,234.50", "7%", "-0.5", "abc"], [1234.5, 7.0, -0.5, None]),
        ("boolean", ["TRUE", "no", "Y", "0", "maybe"], [True, False, True, False, None]),
        ("year", ["1999", "0016", "2030"], [1999, None, 2030]),
    ],
)
def test_numbers_booleans_years(kind, values, expected):
    assert parse(values, kind) == expected


def test_every_cell_is_decided_on_itself_not_on_a_sample():
    # 10,000 ISO dates, then one US date at the very end: still parsed.
    values = ["2020-01-01"] * 10_000 + ["12/31/2021"]
    assert parse(values, "date")[-1] == date(2021, 12, 31)
