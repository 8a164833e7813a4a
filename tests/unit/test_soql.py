"""SoQL: the grammar (lark) and its translation into the query model, checked against a schema."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openblotter.domain.errors import InvalidInput, NotFound, OpenBlotterError
from openblotter.domain.query.model import (
    Aggregate,
    And,
    Filter,
    GroupKey,
    Not,
    Or,
    SortKey,
)
from openblotter.domain.query.parse import check_spec
from openblotter.domain.query.soql import (
    MAX_SOQL_DEPTH,
    Call,
    Compare,
    Literal,
    Name,
    Selected,
    parse_clause,
)
from openblotter.domain.query.soql_spec import DEFAULT_LIMIT, SodaPlan, plan
from openblotter.domain.schema import TableSchema

STOPS = TableSchema.from_descriptor(
    {
        "primaryKey": ["case_number"],
        "fields": [
            {"name": "case_number", "type": "string"},
            {"name": "stop_date", "type": "date"},
            {"name": "reported_at", "type": "datetime"},
            {"name": "subject_race", "type": "string"},
            {"name": "subject_age", "type": "integer"},
            {"name": "fine_amount", "type": "number"},
            {"name": "arrested", "type": "boolean"},
            {"name": "home_address", "type": "string", "privacy": {"treatment": "drop"}},
        ],
    }
)
UNKEYED = TableSchema.from_descriptor({"fields": [{"name": "note", "type": "string"}]})


def soda(**clauses: str) -> SodaPlan:
    made = plan(
        [(f"${k}" if k != "race" else "subject_race", v) for k, v in clauses.items()], STOPS
    )
    check_spec(made.spec, STOPS)
    return made


def refused(**clauses: str) -> OpenBlotterError:
    with pytest.raises(OpenBlotterError) as caught:
        soda(**clauses)
    return caught.value


# --- the grammar ---------------------------------------------------------------------------------


def test_the_grammar_reads_every_clause() -> None:
    assert parse_clause("$select", "count(*) AS n, `odd name`, :id") == (
        Selected(Call("count", (), star=True), "n"),
        Selected(Name("odd name")),
        Selected(Name(":id")),
    )
    assert parse_clause("$where", "subject_age <> 3") == Compare(
        "!=", Name("subject_age"), Literal("3", "number")
    )
    statement = parse_clause(
        "$query",
        "select subject_race, count(*) where arrested group by subject_race "
        "having count(*) > 2 order by count(*) desc search 'x' limit 5 offset 10",
    )
    assert (statement.limit, statement.offset, statement.search) == (5, 10, "x")
    assert statement.order[0].descending is True


def test_a_syntax_error_says_where_and_what_was_expected() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_clause("$where", "subject_age > ) x")
    assert caught.value.detail["position"] == 15
    assert "NUMBER" in caught.value.detail["expected"]
    assert "') x'" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "(" * 400 + "a = 1" + ")" * 400,
        "NOT " * 1_900 + "a = 1",
        "a = 1 AND " * 2_000 + "b = 2",
        "NOT (" * 30 + "a = 1" + ")" * 30,
    ],
)
def test_deep_or_long_clauses_are_refused_before_parsing(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_clause("$where", text)


def test_quotes_inside_strings_are_doubled() -> None:
    where = soda(where="subject_race = 'O''Brien (x'").spec.where
    assert where == Filter("subject_race", "eq", ("O'Brien (x",), parameter="$where")
    assert MAX_SOQL_DEPTH >= 10


# --- rows -----------------------------------------------------------------------------------------


def test_defaults_are_every_column_and_a_thousand_rows() -> None:
    made = soda()
    assert made.spec.limit == DEFAULT_LIMIT == 1000 and made.spec.offset == 0
    assert [f.name for f in made.fields] == [f.name for f in STOPS.published_fields()]
    assert {f.name: f.soda_type for f in made.fields}["stop_date"] == "floating_timestamp"
    assert made.spec.sort == () and made.grouped is False


def test_not_equal_is_sql_not_equal_and_between_is_a_range() -> None:
    where = soda(where="subject_race != 'White' AND subject_age BETWEEN 18 AND 25").spec.where
    assert where == And(
        (
            Not(Filter("subject_race", "eq", ("White",), parameter="$where")),
            And(
                (
                    Filter("subject_age", "gte", (18,), parameter="$where"),
                    Filter("subject_age", "lte", (25,), parameter="$where"),
                )
            ),
        )
    )


def test_literals_take_the_column_type_and_dates_are_floating_timestamps() -> None:
    where = soda(where="stop_date < '2024-05-01T12:00:00.000' OR arrested").spec.where
    assert where == Or(
        (
            Filter("stop_date", "lt", (datetime(2024, 5, 1, 12),), parameter="$where"),
            Filter("arrested", "eq", (True,), parameter="$where"),
        )
    )
    for bad in ("arrested = 'maybe'", "subject_age > 'old'", "stop_date = 'yesterday'"):
        assert isinstance(refused(where=bad), InvalidInput)
    assert isinstance(refused(where="subject_race = null"), InvalidInput)


def test_simple_filters_are_equalities_anded_with_where() -> None:
    made = soda(race="Black", where="subject_age > 20")
    assert made.spec.where == And(
        (
            Filter("subject_race", "eq", ("Black",), parameter="subject_race"),
            Filter("subject_age", "gt", (20,), parameter="$where"),
        )
    )


def test_order_by_id_is_the_primary_key_and_select_takes_aliases() -> None:
    made = soda(select="case_number AS id, :id", order=":id, subject_age DESC")
    assert made.spec.sort == (SortKey("case_number"), SortKey("subject_age", True))
    assert [(f.name, f.source) for f in made.fields] == [("id", "case_number"), (":id", ":id")]
    assert made.key == ("case_number",)
    unkeyed = plan([("$order", ":id")], UNKEYED)
    assert unkeyed.spec.sort == ()  # file order, which is _row_id order
    with pytest.raises(InvalidInput):
        plan([("$order", ":id DESC")], UNKEYED)


@pytest.mark.parametrize(
    ("clauses", "kind"),
    [
        ({"where": "home_address = 'x'"}, NotFound),  # dropped for privacy: not a column
        ({"select": "upper(subject_race)"}, InvalidInput),  # a function of rows needs a group
        ({"where": "upper(subject_age) = '1'"}, InvalidInput),
        ({"where": "soundex(subject_race) = 'x'"}, InvalidInput),
        ({"where": "subject_age"}, InvalidInput),  # not a condition
        ({"where": "subject_age = fine_amount"}, InvalidInput),
        ({"where": "count(*) > 1"}, InvalidInput),
        ({"limit": "-1"}, InvalidInput),
        ({"offset": "ten"}, InvalidInput),
        ({"select": "case_number, case_number"}, InvalidInput),
    ],
)
def test_what_cannot_be_answered_is_refused_with_our_errors(
    clauses: dict[str, str], kind: type[OpenBlotterError]
) -> None:
    error = refused(**clauses)
    assert isinstance(error, kind) and error.message and "parameter" in error.detail


def test_query_holds_the_whole_statement_alone() -> None:
    made = soda(query="SELECT case_number WHERE arrested ORDER BY case_number LIMIT 3 OFFSET 6")
    assert (made.spec.limit, made.spec.offset) == (3, 6)
    assert isinstance(refused(query="SELECT *", limit="5"), InvalidInput)
    with pytest.raises(InvalidInput):
        plan([("$select", "*"), ("$select", "case_number")], STOPS)
    with pytest.raises(InvalidInput):
        plan([("$bogus", "1")], STOPS)
    assert plan([("$$app_token", "x"), ("$$exclude_system_fields", "false")], STOPS).fields


# --- groups ---------------------------------------------------------------------------------------


def test_groups_aggregates_having_and_order_by_outputs() -> None:
    made = soda(
        select="date_trunc_ym(stop_date) AS month, subject_race, count(*), sum(fine_amount)",
        group="month, subject_race",
        having="count(*) > 5 AND max(subject_age) < 60",
        order="sum_fine_amount DESC, month",
    )
    assert made.grouped is True
    assert made.spec.group == (
        GroupKey("month", "stop_date", transform="date_trunc_ym"),
        GroupKey("subject_race", "subject_race"),
    )
    assert made.spec.aggregates == (
        Aggregate("count"),
        Aggregate("sum", "fine_amount"),
        Aggregate("max", "subject_age"),  # computed for $having, not answered
    )
    assert [f.name for f in made.fields] == ["month", "subject_race", "count", "sum_fine_amount"]
    assert made.spec.sort == (SortKey("sum_fine_amount", True), SortKey("month"))
    assert made.spec.having == And(
        (
            Filter("count", "gt", (5,), parameter="$having"),
            Filter("max_subject_age", "lt", (60,), parameter="$having"),
        )
    )


def test_a_grouping_without_group_by_is_one_row_and_plain_columns_must_be_grouped() -> None:
    made = soda(select="count(*) AS n, avg(subject_age)")
    assert made.spec.group == () and [f.name for f in made.fields] == ["n", "avg_subject_age"]
    assert isinstance(refused(select="subject_race, count(*)"), InvalidInput)
    assert isinstance(refused(select="sum(subject_race)", group="subject_race"), InvalidInput)
    assert isinstance(refused(select="*", group="subject_race"), InvalidInput)


# --- anything at all -----------------------------------------------------------------------------

_PIECES = st.sampled_from(
    ["subject_age", "subject_race", "stop_date", "arrested", ":id", "count(*)", "upper(", "(", ")",
     ",", "'x'", "'2024-01-01'", "12", "-3.5", "=", "!=", ">", "AND", "OR", "NOT", "IN", "BETWEEN",
     "LIKE", "'a%'", "IS", "NULL", "true", "AS", "n", "date_trunc_y(", "*", "DESC"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["$select", "$where", "$order", "$group", "$having", "$query"]),
    st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=12).map(" ".join)),
)
def test_any_clause_gives_a_plan_or_one_of_our_errors(parameter: str, text: str) -> None:
    try:
        made = plan([(parameter, text)], STOPS)
    except OpenBlotterError as error:
        assert error.message and isinstance(error.detail, dict)
        return
    try:
        check_spec(made.spec, STOPS)
    except OpenBlotterError as error:
        assert error.message


def test_many_conditions_side_by_side_are_not_deep() -> None:
    where = " AND ".join(
        f"subject_age IS NOT NULL AND subject_race NOT IN ('x{i}')" for i in range(30)
    )
    made = soda(where=where)
    assert len(made.spec.where.items) == 60  # type: ignore[union-attr]
