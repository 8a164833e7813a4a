"""Bounded work per request: the query model refuses oversized input before parsing it, its
value parsers are linear in their input, and a ``_next`` token stays in range and carries its
release (issue 17)."""

from __future__ import annotations

import base64
import json

import pytest

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.cursor import (
    bind_release,
    encode_cursor,
    sort_fingerprint,
    token_release,
)
from openblotter.domain.query.model import (
    MAX_FACETS,
    MAX_FILTERS,
    MAX_PARAMETERS,
    MAX_VALUE_LENGTH,
)
from openblotter.domain.query.parse import parse_query
from openblotter.domain.query.values import convert_value
from openblotter.domain.schema import SchemaField, TableSchema

FORCE = TableSchema.from_descriptor(
    {
        "fields": [
            {"name": "incident_id", "type": "string"},
            {"name": "incident_date", "type": "date"},
            {"name": "officer_years_of_service", "type": "number"},
            {"name": "subject_age", "type": "integer"},
            {"name": "subject_race", "type": "string", "categorical": True},
        ]
    }
)
YEARS = SchemaField(name="officer_years_of_service", type="number")


def refused(params: list[tuple[str, str]]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_query(params, FORCE)
    return caught.value


def test_the_issue_s_40000_digit_number_is_refused_by_its_length_before_parsing():
    error = refused([("officer_years_of_service", "9" * 40_000 + "x")])
    assert error.detail == {
        "parameter": "officer_years_of_service",
        "allowed": MAX_VALUE_LENGTH,
        "given": 40_001,
    }
    assert "40,001 characters" in error.message and "9999" not in error.message


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["number", "integer", "date", "datetime", "time"])
def test_value_parsers_are_linear_in_their_input(kind):
    # The number pattern was `\d+\.?\d*`: a failed match of n digits took n² steps (34 s for
    # 40,000 digits). 300,000 digits would take hours that way; linear, well under a second.
    field = SchemaField(name="value", type=kind)
    with pytest.raises(InvalidInput) as caught:
        convert_value(field, "9" * 300_000 + "x", "value")
    assert caught.value.detail["type"] == kind
    assert len(caught.value.detail["value"]) == 200  # the value is quoted, shortened


def test_numbers_still_parse_in_every_written_form():
    for text, value in [("12", 12.0), ("12.", 12.0), ("12.5", 12.5), (".5", 0.5), ("-1e3", -1e3)]:
        assert convert_value(YEARS, text, "v") == value
    for text in [".", "1.2.3", "1e", "e3", "1e99999", "--1"]:
        with pytest.raises(InvalidInput):
            convert_value(YEARS, text, "v")


def test_a_long_value_is_refused_but_a_long_next_token_has_its_own_bound():
    assert refused([("subject_race", "W" * (MAX_VALUE_LENGTH + 1))]).detail["parameter"] == (
        "subject_race"
    )
    parse_query([("subject_race", "W" * MAX_VALUE_LENGTH)], FORCE)
    long_token = refused([("_next", "A" * (MAX_VALUE_LENGTH + 10))])
    assert long_token.detail["parameter"] == "_next"  # a damaged token, not a length error
    assert "damaged" in long_token.message


def test_parameter_names_filters_facets_and_parameters_are_counted():
    name = refused([("x" * 5000, "1")])
    assert name.detail["given"] == 5000 and len(name.detail["parameter"]) == 40
    # Counted before the columns are looked up: 51 unknown columns are a count error.
    many = [(f"column_{i}", "W") for i in range(MAX_FILTERS + 1)]
    assert refused(many).detail["allowed"] == MAX_FILTERS
    facets = [("_facet", "subject_race")] * (MAX_FACETS + 1)
    assert refused(facets).detail == {
        "parameter": "_facet",
        "allowed": MAX_FACETS,
        "given": MAX_FACETS + 1,
    }
    repeated = [("subject_race", str(i)) for i in range(MAX_PARAMETERS + 1)]
    assert refused(repeated).detail["allowed"] == MAX_PARAMETERS
    # At the bounds, all is well: 500 values of one column are one filter.
    assert len(parse_query([("subject_race", str(i)) for i in range(500)], FORCE).filters) == 1


def _token(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    ("values", "row_id"),
    [([], 2**127), ([], -(2**70)), ([], 2**63), ([2**127], 5), ([1e308 * 10], 5)],
)
def test_next_tokens_out_of_the_engine_s_range_are_a_400(values, row_id):
    from openblotter.domain.query.model import SortKey

    sort = (SortKey("subject_age"),) if values else ()
    token = _token({"s": sort_fingerprint(sort), "v": values, "r": row_id})
    params = [("_next", token)] + ([("_sort", "subject_age")] if values else [])
    error = refused(params)
    assert error.detail["parameter"] == "_next"


def test_a_token_carries_its_release_and_still_decodes_as_a_cursor():
    token = bind_release(encode_cursor((), [], 41), "2026-Q3", "ab" * 32)
    ref = token_release(token)
    assert (ref.label, ref.checksum) == ("2026-Q3", "ab" * 8)
    assert parse_query([("_next", token)], FORCE).after.row_id == 41
    with pytest.raises(InvalidInput):
        token_release(encode_cursor((), [], 41))  # made by the engine, not bound: refused
