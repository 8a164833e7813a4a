"""The query model: parameters -> a typed QuerySpec, or an error naming the parameter."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openblotter.domain.errors import InvalidInput, NotFound, OpenBlotterError
from openblotter.domain.query.cursor import encode_cursor, sort_fingerprint
from openblotter.domain.query.filters import main_date_field
from openblotter.domain.query.model import (
    DEFAULT_PAGE_SIZE,
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_NODES,
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    SUFFIX_OPERATORS,
    Aggregate,
    And,
    Expr,
    Filter,
    GroupKey,
    Not,
    Or,
    QuerySpec,
    SortKey,
    expression_filters,
)
from openblotter.domain.query.parse import check_spec, parse_query
from openblotter.domain.schema import TableSchema
from tests.factories import CONTACTS_SCHEMA

CONTACTS = CONTACTS_SCHEMA


def parse(params: dict[str, str | list[str]] | list[tuple[str, str]]) -> QuerySpec:
    return parse_query(params, CONTACTS)


def raised(params: dict[str, str | list[str]]) -> OpenBlotterError:
    with pytest.raises(OpenBlotterError) as caught:
        parse(params)
    return caught.value


# --- filters ---------------------------------------------------------------------------


def test_no_parameters_is_the_first_page_in_file_order() -> None:
    spec = parse({})
    assert spec == QuerySpec()
    assert spec.size == DEFAULT_PAGE_SIZE and spec.sort == () and not spec.is_aggregate


def test_values_are_converted_to_the_column_type() -> None:
    spec = parse(
        {
            "contact_date": "2024-05-01",
            "reported_at__gte": "2024-05-01T13:45:00",
            "contact_time__lt": "06:30",
            "subject_age__gt": "17",
            "fine_amount__lte": "250.5",
            "arrested": "yes",
        }
    )
    values = {f.column: (f.operator, f.values) for f in spec.filters}
    assert values == {
        "contact_date": ("in", (date(2024, 5, 1),)),
        "reported_at": ("gte", (datetime(2024, 5, 1, 13, 45),)),
        "contact_time": ("lt", (time(6, 30),)),
        "subject_age": ("gt", (17,)),
        "fine_amount": ("lte", (250.5,)),
        "arrested": ("in", (True,)),
    }


def test_repeated_equality_and_in_lists_mean_any_of() -> None:
    spec = parse([("subject_race", "Black"), ("subject_race", "White"), ("subject_age__in", "1,2")])
    assert (
        Filter("subject_race", "in", ("Black", "White"), parameter="subject_race") in spec.filters
    )
    assert [f.values for f in spec.filters if f.column == "subject_age"] == [(1, 2)]


def test_contains_isnull_and_not_equal() -> None:
    spec = parse(
        {
            "case_number__contains": "AB-12",
            "subject_age__isnull": "true",
            "subject_race__ne": "Unknown",
        }
    )
    assert {(f.column, f.operator, f.values) for f in spec.filters} == {
        ("case_number", "contains", ("ab-12",)),
        ("subject_age", "isnull", (True,)),
        ("subject_race", "ne", ("Unknown",)),
    }


@pytest.mark.parametrize(
    ("parameter", "value", "kind", "example"),
    [
        ("subject_age", "seventeen", "integer", "42"),
        ("subject_age", "1.5", "integer", "42"),
        ("subject_age", "99999999999999999999", "integer", "42"),
        ("fine_amount", "nan", "number", "12.5"),
        ("fine_amount", "1e999", "number", "12.5"),
        ("contact_date", "05/01/2024", "date", "2024-05-01"),
        ("contact_date", "2024-02-30", "date", "2024-05-01"),
        ("reported_at", "2024-05-01T10:00:00+02:00", "datetime", "2024-05-01T13:45:00"),
        ("contact_time", "25:00", "time", "13:45:00"),
        ("arrested", "maybe", "boolean", "true (or false, 1, 0, yes, no)"),
    ],
)
def test_a_bad_value_names_the_parameter_the_type_and_an_example(
    parameter: str, value: str, kind: str, example: str
) -> None:
    error = raised({parameter: value})
    assert isinstance(error, InvalidInput)
    assert error.detail["parameter"] == parameter
    assert error.detail["type"] == kind and error.detail["allowed"] == example
    assert parameter in error.message and example in error.message


def test_unknown_and_dropped_columns_are_not_found_and_list_the_columns() -> None:
    for name in ("officer_name", "home_address", "subject_race__nope__gt"):
        error = raised({name: "x"})
        assert isinstance(error, NotFound)
        assert "home_address" not in error.detail["allowed"]
        assert "subject_race" in error.detail["allowed"]


def test_unknown_operator_lists_the_operators() -> None:
    error = raised({"subject_age__between": "1"})
    assert isinstance(error, InvalidInput)
    assert error.detail == {"parameter": "subject_age__between", "allowed": list(SUFFIX_OPERATORS)}


def test_operators_that_do_not_fit_the_type_are_refused() -> None:
    assert raised({"subject_age__contains": "1"}).detail["parameter"] == "subject_age__contains"
    assert "contains" not in raised({"arrested__gt": "true"}).detail["allowed"]


def test_unknown_controls_are_refused_but_release_is_left_to_the_caller() -> None:
    error = raised({"_limit": "5"})
    assert isinstance(error, InvalidInput) and "_size" in error.detail["allowed"]
    assert parse({"_release": "2024-Q2"}) == QuerySpec()
    assert parse_query({"_format": "csv"}, CONTACTS, caller_parameters={"_format"}) == QuerySpec()


def test_controls_other_than_facet_and_agg_are_given_once() -> None:
    assert raised({"_sort": ["subject_age", "fine_amount"]}).detail["parameter"] == "_sort"
    assert len(parse({"_facet": ["subject_race", "arrested"]}).facets) == 2


# --- page controls ------------------------------------------------------------------------


def test_sort_fields_size_and_count() -> None:
    spec = parse(
        {
            "_sort": "-fine_amount, contact_date",
            "_fields": "case_number,fine_amount",
            "_size": "1000",
            "_count": "true",
        }
    )
    assert spec.sort == (SortKey("fine_amount", True), SortKey("contact_date"))
    assert spec.fields == ("case_number", "fine_amount")
    assert spec.size == MAX_PAGE_SIZE and spec.count is True


@pytest.mark.parametrize("size", ["0", "1001", "-1", "ten", ""])
def test_size_out_of_range_is_refused(size: str) -> None:
    assert raised({"_size": size}).detail == {
        "parameter": "_size",
        "allowed": f"1..{MAX_PAGE_SIZE}",
    }


def test_sort_and_fields_name_real_columns_once() -> None:
    assert isinstance(raised({"_sort": "home_address"}), NotFound)
    assert raised({"_sort": "fine_amount,-fine_amount"}).detail["parameter"] == "_sort"
    assert raised({"_fields": "case_number,case_number"}).detail["parameter"] == "_fields"
    assert raised({"_fields": ","}).detail["parameter"] == "_fields"


def test_search_is_split_into_lowercase_words() -> None:
    assert parse({"_q": "  Black  MALE black "}).search == ("black", "male")
    numbers_only = TableSchema.from_descriptor({"fields": [{"name": "n", "type": "integer"}]})
    with pytest.raises(InvalidInput, match="_q"):
        parse_query({"_q": "x"}, numbers_only)


# --- keyset tokens ------------------------------------------------------------------------


def test_a_next_token_round_trips_with_its_sort() -> None:
    sort = (SortKey("reported_at", True), SortKey("subject_race"))
    token = encode_cursor(sort, [datetime(2024, 5, 1, 13, 45, 0, 500), None], 41)
    assert token.isascii() and "=" not in token and "/" not in token and "+" not in token
    spec = parse({"_sort": "-reported_at,subject_race", "_next": token})
    assert spec.after is not None
    assert spec.after.values == (datetime(2024, 5, 1, 13, 45, 0, 500), None)
    assert spec.after.row_id == 41


def test_a_token_from_another_sort_is_refused() -> None:
    token = encode_cursor((SortKey("fine_amount"),), [12.5], 3)
    error = raised({"_sort": "-fine_amount", "_next": token})
    assert error.detail["parameter"] == "_next" and "another _sort" in error.message


def _forged(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


AGE = sort_fingerprint((SortKey("subject_age"),))


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "%%%",
        _forged([1, 2]),
        _forged({"s": AGE, "v": [], "r": 1}),
        _forged({"s": AGE, "v": ["one"], "r": 1}),
        _forged({"s": AGE, "v": [True], "r": 1}),
        _forged({"s": AGE, "v": [1], "r": "1"}),
        "W" * 20_000,
        base64.urlsafe_b64encode(b"[" * 3000).decode(),
    ],
)
def test_damaged_tokens_are_refused_as_invalid_input(token: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse({"_sort": "subject_age", "_next": token})
    assert caught.value.detail["parameter"] == "_next"


# --- groups, aggregates, facets ---------------------------------------------------------------


def test_group_by_derived_quarter_and_a_column_with_aggregates() -> None:
    spec = parse(
        [
            ("_group", "quarter,subject_race"),
            ("_agg", "count"),
            ("_agg", "sum:fine_amount,max:reported_at"),
            ("_sort", "-count"),
        ]
    )
    assert spec.group == (
        GroupKey("quarter", "contact_date", "quarter"),
        GroupKey("subject_race", "subject_race"),
    )
    assert spec.aggregates == (
        Aggregate("count"),
        Aggregate("sum", "fine_amount"),
        Aggregate("max", "reported_at"),
    )
    assert [a.name for a in spec.aggregates] == ["count", "sum_fine_amount", "max_reported_at"]
    assert spec.sort == (SortKey("count", True),)


def test_group_alone_counts() -> None:
    assert parse({"_group": "year"}).aggregates == (Aggregate("count"),)


def test_sum_and_avg_need_a_number_column() -> None:
    error = raised({"_group": "year", "_agg": "avg:subject_race"})
    assert error.detail == {"parameter": "_agg", "allowed": ["subject_age", "fine_amount"]}
    assert raised({"_agg": "median:fine_amount"}).detail["parameter"] == "_agg"
    assert raised({"_agg": "count:fine_amount"}).detail["parameter"] == "_agg"


def test_grouped_results_refuse_page_controls_and_sort_by_outputs() -> None:
    assert raised({"_group": "year", "_fields": "case_number"}).detail["parameter"] == "_fields"
    assert raised({"_group": "year", "_sort": "fine_amount"}).detail["allowed"] == ["year", "count"]


def test_date_parts_can_be_filtered_as_periods() -> None:
    spec = parse({"quarter": ["2024-Q2", "2024-q3"], "year__gte": "2020", "month__lt": "2024-12"})
    periods = {f.part: (f.operator, f.values) for f in spec.filters}
    assert periods["quarter"] == (
        "in",
        ((date(2024, 4, 1), date(2024, 7, 1)), (date(2024, 7, 1), date(2024, 10, 1))),
    )
    assert periods["year"] == ("gte", ((date(2020, 1, 1), date(2021, 1, 1)),))
    assert periods["month"] == ("lt", ((date(2024, 12, 1), date(2025, 1, 1)),))
    assert all(f.column == "contact_date" for f in spec.filters)
    for bad in (
        {"quarter": "2024-Q5"},
        {"year": "9999"},
        {"month": "2024-13"},
        {"quarter__contains": "Q"},
    ):
        assert isinstance(raised(bad), InvalidInput)


def test_a_real_column_named_quarter_wins_over_the_date_part() -> None:
    schema = TableSchema.from_descriptor(
        {"fields": [{"name": "quarter", "type": "string"}, {"name": "day", "type": "date"}]}
    )
    assert parse_query({"_group": "quarter"}, schema).group == (GroupKey("quarter", "quarter"),)
    assert parse_query({"_group": "year"}, schema).group == (GroupKey("year", "day", "year"),)


def test_the_main_date_field_can_be_named_by_the_schema() -> None:
    descriptor = CONTACTS.to_descriptor() | {"dateField": "reported_at"}
    schema = TableSchema.from_descriptor(descriptor)
    assert [main_date_field(s) for s in (schema, CONTACTS)] == [
        schema.field("reported_at"),
        CONTACTS.field("contact_date"),
    ]
    broken = TableSchema.from_descriptor(CONTACTS.to_descriptor() | {"dateField": "subject_race"})
    with pytest.raises(InvalidInput, match="dateField"):
        parse_query({"_group": "quarter"}, broken)
    undated = TableSchema.from_descriptor({"fields": [{"name": "n", "type": "integer"}]})
    with pytest.raises(NotFound):
        parse_query({"_facet": "quarter"}, undated)


def test_check_spec_catches_specs_built_in_code() -> None:
    check_spec(parse({"_sort": "fine_amount", "subject_age__gt": "3"}), CONTACTS)
    with pytest.raises(NotFound):
        check_spec(QuerySpec(filters=(Filter("home_address", "in", ("x",)),)), CONTACTS)
    with pytest.raises(InvalidInput):
        check_spec(QuerySpec(filters=(Filter("arrested", "contains", ("x",)),)), CONTACTS)
    with pytest.raises(InvalidInput):
        check_spec(
            QuerySpec(
                group=(GroupKey("year", "contact_date", "year"),),
                aggregates=(Aggregate("sum", "case_number"),),
            ),
            CONTACTS,
        )


# --- property: nothing but our own errors ------------------------------------------------------

_NAMES = [f.name for f in CONTACTS.fields] + ["quarter", "year", "month", "nope", "", "a__b"]
_KEYS = st.one_of(
    st.sampled_from(_NAMES),
    st.builds(
        lambda n, o: f"{n}__{o}",
        st.sampled_from(_NAMES),
        st.sampled_from([*SUFFIX_OPERATORS, "eq", "x", ""]),
    ),
    st.sampled_from(
        [
            "_q",
            "_sort",
            "_fields",
            "_size",
            "_next",
            "_count",
            "_facet",
            "_group",
            "_agg",
            "_release",
            "_x",
            "_",
        ]
    ),
    st.text(max_size=12),
)
_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "2024-05-01",
            "2024-05-01T10:00",
            "10:00",
            "2024-Q2",
            "2024-05",
            "2024",
            "1,2",
            "-1",
            "1e5",
            "true",
            "no",
            "-fine_amount,contact_date",
            "count",
            "sum:fine_amount",
            "min:contact_date",
            "quarter,subject_race",
            "case_number",
            "0",
            "1000",
            "nan",
            "inf",
            "\x00",
            "eyJzIjoiIn0",
        ]
    ),
    st.integers().map(str),
    st.floats().map(str),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_KEYS, _VALUES), max_size=8))
def test_any_parameters_give_a_spec_or_one_of_our_errors(pairs: list[tuple[str, str]]) -> None:
    try:
        spec = parse_query(pairs, CONTACTS)
    except OpenBlotterError as error:
        assert error.message and isinstance(error.detail, dict)
        return
    check_spec(spec, CONTACTS)


def test_column_names_with_spaces_and_punctuation_work_as_written() -> None:
    schema = TableSchema.from_descriptor(
        {
            "fields": [
                {"name": "GO / SC Num"},
                {"name": "Officer, ID"},
                {"name": "age", "type": "integer"},
            ]
        }
    )
    spec = parse_query({"GO / SC Num__contains": "2015", "_sort": "-GO / SC Num,age"}, schema)
    assert spec.filters[0].column == "GO / SC Num"
    assert spec.sort == (SortKey("GO / SC Num", True), SortKey("age"))
    assert parse_query({"Officer, ID": ["7"]}, schema).filters[0].values == ("7",)


def test_check_spec_checks_the_sort_and_size_of_grouped_specs() -> None:
    grouped = QuerySpec(
        group=(GroupKey("subject_race", "subject_race"),), aggregates=(Aggregate("count"),)
    )
    check_spec(grouped, CONTACTS)
    with pytest.raises(NotFound):
        check_spec(
            QuerySpec(
                group=grouped.group, aggregates=grouped.aggregates, sort=(SortKey("fine_amount"),)
            ),
            CONTACTS,
        )
    with pytest.raises(InvalidInput):
        check_spec(QuerySpec(size=5000), CONTACTS)
    with pytest.raises(InvalidInput):
        check_spec(
            QuerySpec(filters=(Filter("contact_date", "contains", ("1",), part="year"),)), CONTACTS
        )


# --- what the doors build in code: expressions, transforms, offsets ---------------------------


def test_expressions_of_filters_are_checked_column_by_column() -> None:
    where = Or(
        (
            And((Filter("subject_race", "eq", ("Black",)), Not(Filter("arrested", "eq", (True,))))),
            Filter("case_number", "like", ("C-01%",)),
        )
    )
    spec = QuerySpec(where=where, offset=40)
    check_spec(spec, CONTACTS)
    assert [f.column for f in expression_filters(where)] == [
        "subject_race",
        "arrested",
        "case_number",
    ]
    with pytest.raises(NotFound):
        check_spec(QuerySpec(where=Not(Filter("home_address", "eq", ("x",)))), CONTACTS)
    with pytest.raises(InvalidInput) as caught:
        check_spec(QuerySpec(where=Filter("subject_age", "like", ("1%",))), CONTACTS)
    assert "like" not in caught.value.detail["allowed"]


def test_transforms_fit_their_column_types() -> None:
    check_spec(
        QuerySpec(
            where=Filter("subject_race", "eq", ("BLACK",), transform="upper"),
            group=(GroupKey("month", "reported_at", transform="date_trunc_ym"),),
            aggregates=(Aggregate("count", alias="n"),),
        ),
        CONTACTS,
    )
    with pytest.raises(InvalidInput):
        check_spec(QuerySpec(where=Filter("subject_age", "eq", (1,), transform="upper")), CONTACTS)
    with pytest.raises(InvalidInput):
        check_spec(
            QuerySpec(
                group=(GroupKey("y", "subject_race", transform="date_trunc_y"),),
                aggregates=(Aggregate("count"),),
            ),
            CONTACTS,
        )


def test_having_names_outputs_of_the_grouping() -> None:
    group = (GroupKey("race", "subject_race"),)
    counted = (Aggregate("count", alias="n"), Aggregate("avg", "fine_amount"))
    check_spec(QuerySpec(group=group, aggregates=counted, having=Filter("n", "gt", (3,))), CONTACTS)
    check_spec(
        QuerySpec(group=group, aggregates=counted, having=Filter("avg_fine_amount", "lt", (9,))),
        CONTACTS,
    )
    with pytest.raises(InvalidInput):  # not an output
        check_spec(
            QuerySpec(group=group, aggregates=counted, having=Filter("subject_age", "gt", (3,))),
            CONTACTS,
        )
    with pytest.raises(InvalidInput):  # no grouping
        check_spec(QuerySpec(having=Filter("n", "gt", (3,))), CONTACTS)
    with pytest.raises(InvalidInput):  # two outputs named n
        check_spec(QuerySpec(group=(GroupKey("n", "subject_race"),), aggregates=counted), CONTACTS)


def test_aliases_name_the_aggregate_output() -> None:
    assert Aggregate("count", alias="total").name == "total"
    assert Aggregate("sum", "fine_amount").name == "sum_fine_amount"


@pytest.mark.parametrize("offset", [-1, MAX_OFFSET + 1])
def test_offsets_and_limits_are_bounded(offset: int) -> None:
    check_spec(QuerySpec(offset=MAX_OFFSET, limit=0), CONTACTS)
    with pytest.raises(InvalidInput):
        check_spec(QuerySpec(offset=offset), CONTACTS)
    with pytest.raises(InvalidInput):
        check_spec(QuerySpec(limit=offset), CONTACTS)


def test_expressions_are_bounded_in_size_and_depth() -> None:
    leaf = Filter("subject_age", "eq", (1,))
    with pytest.raises(InvalidInput):
        check_spec(QuerySpec(where=Or((leaf,) * (MAX_EXPRESSION_NODES + 1))), CONTACTS)
    deep: Expr = leaf
    for _ in range(MAX_EXPRESSION_DEPTH + 1):
        deep = Not(deep)
    with pytest.raises(InvalidInput):
        check_spec(QuerySpec(where=deep), CONTACTS)


def test_the_native_parameters_do_not_take_the_door_operators() -> None:
    error = raised({"case_number__like": "C%"})
    assert error.detail["allowed"] == list(SUFFIX_OPERATORS)
    assert "like" not in SUFFIX_OPERATORS
    spec = parse({"subject_race": "Black"})
    assert spec.where is None and spec.having is None and spec.offset == 0 and spec.limit is None
