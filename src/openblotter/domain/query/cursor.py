"""The ``_next`` keyset token: where a page ended, for the page after it.

A token is URL-safe base64 of a small JSON payload: a fingerprint of the sort
it was made for, the last row's sort values and its ``_row_id``, and the
release it pages (label and checksum, added by :func:`bind_release`). Decoding
checks the fingerprint and every value against the column's type and range, so
a token cannot carry anything the query model would not accept.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.model import Cursor, SortKey
from openblotter.domain.query.values import convert_value, json_value, published_field
from openblotter.domain.schema import TableSchema

_MAX_TOKEN = 16_384
#: Row ids and integer values are 64-bit in the release files.
_INT64 = 2**63
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,), "year": (int,), "number": (int, float), "boolean": (bool,),
    "string": (str,), "any": (str,), "date": (str,), "datetime": (str,), "time": (str,),
}  # fmt: skip


def sort_fingerprint(sort: Sequence[SortKey]) -> str:
    """A short digest of a sort, so a token is only used with the sort that made it."""
    return hashlib.sha256(",".join(k.label for k in sort).encode()).hexdigest()[:16]


def encode_cursor(sort: Sequence[SortKey], values: Sequence[Any], row_id: int) -> str:
    """The opaque, URL-safe ``_next`` token for the page after a row."""
    payload = {"s": sort_fingerprint(sort), "v": [json_value(v) for v in values], "r": row_id}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: str, schema: TableSchema, sort: Sequence[SortKey]) -> Cursor:
    """Check a ``_next`` token against the sort and the column types; InvalidInput if it fails."""
    payload = _token_payload(token)
    if payload.get("s") != sort_fingerprint(sort):
        raise InvalidInput(
            "This _next token was made for another _sort; start again from the first page.",
            detail={"parameter": "_next", "allowed": "the token from a page with the same _sort"},
        )
    values, row_id = payload.get("v"), payload.get("r")
    if not isinstance(values, list) or len(values) != len(sort) or not isinstance(row_id, int):
        raise _bad_token()
    if not _in_range(row_id):
        raise _bad_token()
    typed = tuple(
        _cursor_value(schema, key, value) for key, value in zip(sort, values, strict=True)
    )
    return Cursor(typed, row_id)


def _token_payload(token: str) -> dict[str, Any]:
    if len(token) > _MAX_TOKEN:
        raise _bad_token()
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, RecursionError):
        raise _bad_token() from None
    if not isinstance(payload, dict):
        raise _bad_token()
    return payload


def _cursor_value(schema: TableSchema, key: SortKey, value: Any) -> Any:
    target = published_field(schema, key.column, "_next")
    if value is None:
        return None
    expected = _JSON_TYPES.get(target.type, (str,))
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        raise _bad_token()
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad_token()
    if isinstance(value, int) and not isinstance(value, bool) and not _in_range(value):
        raise _bad_token()
    if target.type in ("date", "datetime", "time"):
        return convert_value(target, str(value), "_next")
    return value


def _in_range(value: Any) -> bool:
    return type(value) is int and -_INT64 <= value < _INT64


@dataclass(frozen=True)
class ReleaseRef:
    """The release a token pages: its label, and a prefix of its checksum (a label can be
    withdrawn and published again with other rows)."""

    label: str
    checksum: str


def bind_release(token: str, label: str, checksum: str) -> str:
    """The token with the release it was made on, so the next page reads the same release."""
    payload = _token_payload(token)
    payload["l"], payload["k"] = label, checksum[:16]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def token_release(token: str) -> ReleaseRef:
    """The release a token was made on; InvalidInput if it is damaged or names none."""
    payload = _token_payload(token)
    label, checksum = payload.get("l"), payload.get("k")
    if not isinstance(label, str) or not isinstance(checksum, str):
        raise _bad_token()
    return ReleaseRef(label, checksum)


def _bad_token() -> InvalidInput:
    return InvalidInput(
        "This _next token is damaged or not one of ours; use the 'next' link of the previous page.",
        detail={"parameter": "_next", "allowed": "the token from the previous page"},
    )
