"""SoQL, the Socrata Query Language, parsed by a grammar (lark, LALR) into a small syntax tree.

This module knows SoQL's syntax only: the clauses of ``$select``, ``$where``,
``$order``, ``$group``, ``$having`` and a whole ``$query`` statement. What the
names mean (columns of a release, types, the query model) is decided by
:mod:`openblotter.domain.query.soql_spec`. Every clause is bounded in length
and nesting before it is parsed, and a syntax error is an InvalidInput that
says where (column) and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from openblotter.domain.errors import InvalidInput

#: Characters in one SoQL parameter (a URL is capped before this by the server).
MAX_SOQL_LENGTH = 8_000
#: Nesting of parentheses, NOTs and AND/OR groups in one clause (the syntax tree's depth).
MAX_SOQL_DEPTH = 24

GRAMMAR = r"""
statement: "SELECT"i select_list where? group? having? order? search? limit? offset?
where: "WHERE"i expr
group: "GROUP"i "BY"i group_list
having: "HAVING"i expr
order: "ORDER"i "BY"i order_list
search: "SEARCH"i STRING
limit: "LIMIT"i INT
offset: "OFFSET"i INT

select_list: select_item ("," select_item)*
?select_item: "*" -> star
    | SYSTEM_STAR -> system_star
    | expr [_AS name] -> selected
order_list: order_item ("," order_item)*
order_item: expr [DIRECTION]
group_list: expr ("," expr)*

?expr: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negation
    | predicate
?predicate: value COMPARISON value -> compare
    | value [NOT] _IN "(" value ("," value)* ")" -> in_list
    | value [NOT] _BETWEEN value _AND value -> between
    | value [NOT] _LIKE value -> like
    | value _IS [NOT] _NULL -> is_null
    | value
?value: "(" expr ")"
    | NAME "(" "*" ")" -> call_star
    | NAME "(" [expr ("," expr)*] ")" -> call
    | STRING -> string
    | NUMBER -> number
    | _TRUE -> true
    | _FALSE -> false
    | _NULL -> null
    | name

name: NAME | QUOTED_NAME | SYSTEM_NAME

_AS: "AS"i
_OR: "OR"i
_AND: "AND"i
_NOT: "NOT"i
NOT: "NOT"i
_IN: "IN"i
_BETWEEN: "BETWEEN"i
_LIKE: "LIKE"i
_IS: "IS"i
_NULL: "NULL"i
_TRUE: "TRUE"i
_FALSE: "FALSE"i
DIRECTION: "ASC"i | "DESC"i
COMPARISON: "=" | "!=" | "<>" | "<=" | ">=" | "<" | ">"
SYSTEM_STAR: ":*"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
QUOTED_NAME: /`[^`]+`/
SYSTEM_NAME: /:@?[A-Za-z_][A-Za-z0-9_]*/
STRING: /'(?:[^']|'')*'/
NUMBER: /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/
INT: /\d+/

%import common.WS
%ignore WS
"""

_CLAUSES = {
    "$select": "select_list",
    "$where": "expr",
    "$order": "order_list",
    "$group": "group_list",
    "$having": "expr",
    "$query": "statement",
}


# --- the syntax tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """A column (``:id`` and other system fields start with a colon)."""

    name: str


@dataclass(frozen=True)
class Literal:
    """A string, number, boolean or null as written (numbers keep their text)."""

    value: str | bool | None
    kind: str  # "string" | "number" | "boolean" | "null"


@dataclass(frozen=True)
class Call:
    """A function call; ``star`` for ``count(*)``."""

    function: str
    args: tuple[Node, ...]
    star: bool = False


@dataclass(frozen=True)
class Compare:
    operator: str  # = != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class InList:
    operand: Node
    values: tuple[Node, ...]
    negated: bool


@dataclass(frozen=True)
class Between:
    operand: Node
    low: Node
    high: Node
    negated: bool


@dataclass(frozen=True)
class Like:
    operand: Node
    pattern: Node
    negated: bool


@dataclass(frozen=True)
class IsNull:
    operand: Node
    negated: bool


@dataclass(frozen=True)
class Logical:
    """``and``/``or`` of two or more items."""

    operator: str
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Negation:
    item: Node


Node: TypeAlias = (
    Name | Literal | Call | Compare | InList | Between | Like | IsNull | Logical | Negation
)


@dataclass(frozen=True)
class Selected:
    """One ``$select`` item: an expression and its alias; ``*`` and ``:*`` as names."""

    expr: Node
    alias: str | None = None


@dataclass(frozen=True)
class Ordered:
    expr: Node
    descending: bool = False


@dataclass(frozen=True)
class Statement:
    """A whole SoQL statement (``$query``), each clause None when absent."""

    select: tuple[Selected, ...]
    where: Node | None = None
    group: tuple[Node, ...] | None = None
    having: Node | None = None
    order: tuple[Ordered, ...] | None = None
    search: str | None = None
    limit: int | None = None
    offset: int | None = None


# --- building the tree --------------------------------------------------------------------------


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


@v_args(inline=True)
class _Build(Transformer[Token, Any]):
    """Lark's parse tree to the syntax tree above (run inline by the LALR parser)."""

    def name(self, token: Token) -> Name:
        text = str(token)
        return Name(text[1:-1] if text.startswith("`") else text)

    def string(self, token: Token) -> Literal:
        return Literal(_unquote(str(token)), "string")

    def number(self, token: Token) -> Literal:
        return Literal(str(token), "number")

    def true(self) -> Literal:
        return Literal(True, "boolean")

    def false(self) -> Literal:
        return Literal(False, "boolean")

    def null(self) -> Literal:
        return Literal(None, "null")

    def call_star(self, function: Token) -> Call:
        return Call(str(function).lower(), (), star=True)

    def call(self, function: Token, *args: Node | None) -> Call:
        return Call(str(function).lower(), tuple(a for a in args if a is not None))

    def compare(self, left: Node, operator: Token, right: Node) -> Compare:
        symbol = "!=" if str(operator) == "<>" else str(operator)
        return Compare(symbol, left, right)

    def in_list(self, operand: Node, negated: Token | None, *values: Node) -> InList:
        return InList(operand, values, negated is not None)

    def between(self, operand: Node, negated: Token | None, low: Node, high: Node) -> Between:
        return Between(operand, low, high, negated is not None)

    def like(self, operand: Node, negated: Token | None, pattern: Node) -> Like:
        return Like(operand, pattern, negated is not None)

    def is_null(self, operand: Node, negated: Token | None) -> IsNull:
        return IsNull(operand, negated is not None)

    def or_expr(self, *items: Node) -> Logical:
        return Logical("or", items)

    def and_expr(self, *items: Node) -> Logical:
        return Logical("and", items)

    def negation(self, item: Node) -> Negation:
        return Negation(item)

    def star(self) -> Selected:
        return Selected(Name("*"))

    def system_star(self, _token: Token) -> Selected:
        return Selected(Name(":*"))

    def selected(self, expr: Node, alias: Name | None) -> Selected:
        return Selected(expr, alias.name if alias is not None else None)

    def select_list(self, *items: Selected) -> tuple[Selected, ...]:
        return items

    def order_item(self, expr: Node, direction: Token | None) -> Ordered:
        return Ordered(expr, direction is not None and str(direction).lower() == "desc")

    def order_list(self, *items: Ordered) -> tuple[Ordered, ...]:
        return items

    def group_list(self, *items: Node) -> tuple[Node, ...]:
        return items

    def statement(self, select: tuple[Selected, ...], *clauses: Any) -> Statement:
        parts: dict[str, Any] = {}
        for clause in clauses:
            if clause is not None:
                parts[clause[0]] = clause[1]
        return Statement(select, **parts)

    def where(self, expr: Node) -> tuple[str, Node]:
        return ("where", expr)

    def group(self, items: tuple[Node, ...]) -> tuple[str, tuple[Node, ...]]:
        return ("group", items)

    def having(self, expr: Node) -> tuple[str, Node]:
        return ("having", expr)

    def order(self, items: tuple[Ordered, ...]) -> tuple[str, tuple[Ordered, ...]]:
        return ("order", items)

    def search(self, token: Token) -> tuple[str, str]:
        return ("search", _unquote(str(token)))

    def limit(self, token: Token) -> tuple[str, int]:
        return ("limit", int(token))

    def offset(self, token: Token) -> tuple[str, int]:
        return ("offset", int(token))


@lru_cache(maxsize=len(_CLAUSES))
def _parser(start: str) -> Lark:
    return Lark(
        GRAMMAR,
        start=start,
        parser="lalr",
        transformer=_Build(),
        maybe_placeholders=True,
    )


def parse_clause(parameter: str, text: str) -> Any:
    """One SoQL clause (``$select``, ``$where``, ...) as its syntax tree; InvalidInput if not."""
    _check_size(parameter, text)
    try:
        tree = _parser(_CLAUSES[parameter]).parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(parameter, text, error) from None
    except (LarkError, RecursionError):
        raise InvalidInput(
            f"{parameter} could not be read as SoQL.", detail={"parameter": parameter}
        ) from None
    if _depth(tree) > MAX_SOQL_DEPTH:
        raise _too_deep(parameter)
    return tree


def _children(item: Any) -> tuple[Any, ...]:
    if isinstance(item, tuple):
        return item
    if isinstance(item, Logical | Call):
        return item.items if isinstance(item, Logical) else item.args
    if isinstance(item, Negation):
        return (item.item,)
    if isinstance(item, Compare):
        return (item.left, item.right)
    if isinstance(item, InList):
        return (item.operand, *item.values)
    if isinstance(item, Between):
        return (item.operand, item.low, item.high)
    if isinstance(item, Like):
        return (item.operand, item.pattern)
    if isinstance(item, IsNull):
        return (item.operand,)
    if isinstance(item, Selected | Ordered):
        return (item.expr,)
    if isinstance(item, Statement):
        return (item.select, item.where, item.group or (), item.having, item.order or ())
    return ()


def _depth(tree: Any) -> int:
    """How deep the syntax tree nests (walked without recursion: the tree may be deep)."""
    deepest, stack = 0, [(tree, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_SOQL_DEPTH:
            break
        stack.extend((child, depth + 1) for child in _children(item) if child is not None)
    return deepest


def _too_deep(parameter: str) -> InvalidInput:
    return InvalidInput(
        f"{parameter} nests conditions (parentheses, NOT, AND/OR groups) more than "
        f"{MAX_SOQL_DEPTH} deep.",
        detail={"parameter": parameter, "allowed": MAX_SOQL_DEPTH},
    )


def _check_size(parameter: str, text: str) -> None:
    if len(text) > MAX_SOQL_LENGTH:
        raise InvalidInput(
            f"{parameter} has {len(text):,} characters; SoQL clauses have at most "
            f"{MAX_SOQL_LENGTH:,}.",
            detail={"parameter": parameter, "allowed": MAX_SOQL_LENGTH, "given": len(text)},
        )
    depth = deepest = 0
    quoted = False
    for character in text:
        if character == "'":
            quoted = not quoted
        elif not quoted and character == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and character == ")":
            depth -= 1
    if deepest > MAX_SOQL_DEPTH:
        raise _too_deep(parameter)


def _syntax_error(parameter: str, text: str, error: UnexpectedInput) -> InvalidInput:
    column = getattr(error, "column", None)
    position = f" at character {column}" if isinstance(column, int) and column > 0 else ""
    expected: list[str] = []
    if isinstance(error, UnexpectedToken):
        expected = sorted(str(e) for e in error.expected)[:12]
    elif isinstance(error, UnexpectedCharacters):
        expected = sorted(str(e) for e in error.allowed or ())[:12]
    near = text[max(0, (column or 1) - 1) :][:30] if isinstance(column, int) else ""
    return InvalidInput(
        f"{parameter} is not valid SoQL{position}"
        + (f", near '{near}'" if near else "")
        + ". Check quotes ('text'), commas and parentheses.",
        detail={"parameter": parameter, "position": column, "expected": expected},
    )
