"""Shapes of a whole column's values: what share looks like names, phones, addresses…

Each function reads a column's distinct values with their row counts
(``counted``: cleaned text, blanks removed) and returns the share of rows
whose value has the shape. A coded column of 200,000 sampled rows has a few
dozen distinct values, so each pattern runs over those, not the rows.
"""

from __future__ import annotations

import re

import polars as pl

from openblotter.ingest import name_lists

_EMAIL = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
_SSN = r"^\d{3}-\d{2}-\d{4}$"
_PHONE = r"^(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s*|\d{3}[\s.-])\d{3}[\s.-]\d{4}$"
_COORDINATE_PAIR = (
    r"^[\(\[]?\s*-?\d{1,3}\.\d{3,}\s*[,; ]\s*-?\d{1,3}\.\d{3,}\s*[\)\]]?$|^POINT\s*\("
)
#: A house number, then words: ``1234 N Main St``; not ``1200 BLOCK``, ``12XX MAIN``, ``100 HRS``.
_ADDRESS = (
    r"^\d{1,6}[A-Z]?\s+(?:[NSEW]\.?\s+)?[A-Za-z0-9][A-Za-z0-9'.]*(?:\s+[A-Za-z0-9'.#-]+){0,6}$"
)
_GENERALIZED = r"(?i)\bBLO?C?K\b|\d+X+\b|\bBLK\b"


def counted(values: pl.Series) -> pl.DataFrame:
    """Each distinct value of ``values`` once (``value``), with its number of rows (``n``)."""
    text = values.cast(pl.String).rename("value")
    return text.value_counts(name="n").with_columns(pl.col("n").cast(pl.Int64))


def _rows(counted: pl.DataFrame, hits: pl.Series | None = None) -> int:
    n = counted["n"] if hits is None else counted["n"].filter(hits.fill_null(False))
    return int(n.sum())


def _share(counted: pl.DataFrame, pattern: str, *, exclude: str | None = None) -> float:
    rows = _rows(counted)
    if rows == 0:
        return 0.0
    text = counted["value"].str.strip_chars()
    hits = text.str.contains(pattern)
    if exclude is not None:
        hits = hits & ~text.str.contains(exclude)
    return _rows(counted, hits) / rows


def email_share(counted: pl.DataFrame) -> float:
    """Share of values that are e-mail addresses."""
    return _share(counted, _EMAIL)


def ssn_share(counted: pl.DataFrame) -> float:
    """Share of values written like an SSN (``123-45-6789``)."""
    return _share(counted, _SSN)


def phone_share(counted: pl.DataFrame) -> float:
    """Share of values written like a US phone number."""
    return _share(counted, _PHONE)


def coordinate_pair_share(counted: pl.DataFrame) -> float:
    """Share of values that are a latitude/longitude pair or a WKT point."""
    return _share(counted, _COORDINATE_PAIR)


def address_share(counted: pl.DataFrame) -> float:
    """Share of values that are a street address with a house number (not a hundred block)."""
    return _share(counted, _ADDRESS, exclude=_GENERALIZED)


#: A US plate: 5 to 8 letters and digits, both present, one space or hyphen at most.
PLATE_SHAPE = r"^[A-Z0-9]{1,4}[- ]?[A-Z0-9]{1,5}$"
_PLATE_LENGTH = (5, 8)


def plate_share(counted: pl.DataFrame) -> float:
    """Share of values shaped like licence plates (``ABC1234``, ``7XYZ123``, ``HJK-4521``).

    Record numbers and badges have the shape too, but their letters repeat (``P190001``,
    ``P190002``); a plate's letters are drawn at random. So the letters of the plate-shaped
    values must be mostly distinct (at least half as many letter groups as values), else
    the share is 0.
    """
    rows = _rows(counted)
    if rows == 0:
        return 0.0
    text = counted["value"].str.strip_chars().str.to_uppercase()
    length = text.str.replace_all(r"[- ]", "").str.len_chars()
    low, high = _PLATE_LENGTH
    both = text.str.contains(r"[A-Z]") & text.str.contains(r"\d")
    is_shaped = (
        (text.str.contains(PLATE_SHAPE) & both).fill_null(False)
        & (length >= low)
        & (length <= high)
    )
    shaped = _rows(counted, is_shaped)
    if shaped < 2:
        return 0.0
    letters = text.filter(is_shaped).str.replace_all(r"[^A-Z]", "")
    if letters.n_unique() * 2 < shaped:
        return 0.0
    return shaped / rows


#: Two to five words of letters (a title, a comma): the only values worth a name-list lookup.
_WORDS = r"^\s*[^\W\d_][\w'’.-]*(?:,?\s+[^\W\d_][\w'’.-]*){1,4}\s*$"


def name_share(counted: pl.DataFrame) -> float:
    """Share of values that look like a person's name (``Maria Gonzalez``, ``NG, KEVIN``)."""
    rows = _rows(counted)
    if rows == 0:
        return 0.0
    worded = counted.filter(pl.col("value").str.contains(_WORDS))
    named = sum(
        n
        for value, n in zip(worded["value"].to_list(), worded["n"].to_list(), strict=True)
        if value is not None and looks_like_name(value)
    )
    return named / rows


def looks_like_name(value: str) -> bool:
    """Two to five words of letters, with a listed given name or surname among them."""
    text = re.sub(
        r"^(?:ofc|officer|sgt|det|lt|capt|mr|mrs|ms|dr)\.?\s+", "", value.strip(), flags=re.I
    )
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first} {last}"
    words = [w.strip(".") for w in text.split()]
    if not 2 <= len(words) <= 5 or not all(
        re.fullmatch(r"[^\W\d_][\w'’-]*", w) for w in words if w
    ):
        return False
    listed_first = name_lists.is_first_name(words[0])
    listed_last = name_lists.is_last_name(words[-1])
    everyday = sum(name_lists.is_common_word(w) for w in words)
    return (listed_first or listed_last) and everyday < len(words) - 1 + (
        listed_first and listed_last
    )
