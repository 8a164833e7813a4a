"""Find personal details in free text (police narratives) and mask them.

Detectors, each made for its job, run over the whole text, not only over the
row's own values:

- e-mail addresses and SSNs: exact patterns (an SSN without dashes only after
  "SSN" or "social");
- phone numbers: Google's libphonenumber (``phonenumbers.PhoneNumberMatcher``);
- dates (every date, so every date of birth): numeric and written-out forms;
- licence plates and driver licence numbers: a letters-and-digits token after
  "plate", "tag", "licence", "OL", "DL" …;
- street addresses: a house number followed by what ``usaddress`` (a CRF
  address parser) tags as street parts;
- people's names: a title or role ("Officer", "Mr.", "witness", "victim" …)
  followed by name-like words; a given name from the name lists followed by a
  capitalized word; a listed surname written capitalized; and every further
  occurrence of a part of a name found anywhere in the same text;
- the row's own personal values (names from dropped fields), parts of two
  letters or more ("Ng").

Measured on the labelled corpus in ``tests/data/narratives`` (docs/privacy.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from openblotter.ingest import name_lists, text_names, text_plates

TOKENS = {
    "email": "[email]",
    "ssn": "[ssn]",
    "phone": "[phone]",
    "date": "[date]",
    "plate": "[plate]",
    "licence": "[licence]",
    "address": "[address]",
    "name": "[name]",
}

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_SSN = re.compile(
    r"\b\d{3}-\d{2}-\d{4}\b|(?i:\b(?:ssn|ss#|social security(?: number| no\.?)?)\W{0,3})(\d{9})\b"
)
_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE = re.compile(
    r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
    rf"|\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS},?\s+\d{{4}}\b",
    re.IGNORECASE,
)
_ID_TOKEN = r"([A-Z0-9][A-Z0-9-]{1,11}[A-Z0-9](?:\s(?=[A-Z]{0,4}\d)[A-Z0-9]{1,5}\b)?)"  # noqa: S105 - a pattern
_PLATE = re.compile(
    r"(?i:\b(?:plates?|tags?|registration)(?:\s+(?:number|no\.?|num|#))?\s*(?:#|:|of|was|is|reading)?\s*"
    r"(?-i:[a-z]{2,12}\s+)?)" + _ID_TOKEN + r"\b"
)
_LICENCE = re.compile(
    r"(?i:\b(?:driver'?s?\s+licen[cs]e|licen[cs]e|OLN?|DL|operator'?s?\s+licen[cs]e"
    r"|ID\s+card|identification(?:\s+card)?)"
    r"(?:,?\s+(?:number|no\.?|num|#))?\s*(?:#|:|of)?\s*(?-i:[a-z]{2,12}\s+)?)" + _ID_TOKEN + r"\b"
)
_PHONE_SHAPE = re.compile(r"^(?:\+?1[\s.-]?)?(?:\(?\d{3}\)?[\s.-]?)?\d{3}[\s.-]?\d{4}$")
_HOUSE_NUMBER = re.compile(r"\b\d{1,6}[A-Za-z]?\b")
_ADDRESS_LABELS = {
    "AddressNumber",
    "AddressNumberSuffix",
    "StreetNamePreDirectional",
    "StreetNamePreType",
    "StreetNamePreModifier",
    "StreetName",
    "StreetNamePostType",
    "StreetNamePostDirectional",
    "OccupancyType",
    "OccupancyIdentifier",
}


@dataclass(frozen=True)
class Span:
    """A detected personal detail: characters ``start:end`` of the text are a ``kind``."""

    start: int
    end: int
    kind: str


def find_pii(text: str, known: Iterable[object] = ()) -> list[Span]:
    """Every personal detail in ``text``; ``known`` are the row's own personal values."""
    spans: list[Span] = []
    spans += _pattern_spans(text, _EMAIL, "email")
    spans += _pattern_spans(text, _SSN, "ssn")
    spans += _phone_spans(text)
    spans += _pattern_spans(text, _DATE, "date")
    spans += _pattern_spans(text, _PLATE, "plate")
    spans += _pattern_spans(text, _LICENCE, "licence")
    spans += [Span(s, e, "plate") for s, e in text_plates.plate_spans(text)]
    taken = _merge(spans)
    taken = _merge(taken + _address_spans(text, taken))
    names = text_names.name_spans(text, known)
    return _merge(taken + [Span(s, e, "name") for s, e in names])


def mask_text(text: str, known: Iterable[object] = ()) -> str:
    """``text`` with each personal detail replaced by its kind (``[name]``) and digits by ``#``."""
    masked = text
    for span in sorted(find_pii(text, known), key=lambda s: s.start, reverse=True):
        masked = masked[: span.start] + TOKENS[span.kind] + masked[span.end :]
    return re.sub(r"\d", "#", masked)


def _pattern_spans(text: str, pattern: re.Pattern[str], kind: str) -> list[Span]:
    spans = []
    for match in pattern.finditer(text):
        group = match.lastindex or 0
        start, end = match.span(group)
        if kind in ("plate", "licence") and not _looks_like_id(match.group(group)):
            continue
        spans.append(Span(start, end, kind))
    return spans


def _looks_like_id(token: str) -> bool:
    """A plate or licence number has digits, or is all capitals (``ABC1234``, ``LOVEME``)."""
    if name_lists.is_common_word(token):
        return False
    return any(c.isdigit() for c in token) or (token.isupper() and len(token) >= 4)


def _phone_spans(text: str) -> list[Span]:
    matcher = phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.POSSIBLE)
    return [
        Span(m.start, m.end, "phone") for m in matcher if _PHONE_SHAPE.match(m.raw_string.strip())
    ]


def _address_spans(text: str, taken: list[Span]) -> list[Span]:
    import usaddress

    spans = []
    for number in _HOUSE_NUMBER.finditer(text):
        if any(s.start <= number.start() < s.end for s in taken) or _inside_number(text, number):
            continue
        window = text[number.start() : number.start() + 90]
        try:
            tagged = usaddress.parse(window)
        except (ValueError, IndexError):  # pragma: no cover - the parser refuses odd input
            continue
        end = _address_end(window, tagged)
        if end:
            spans.append(Span(number.start(), number.start() + end, "address"))
    return spans


def _address_end(window: str, tagged: list[tuple[str, str]]) -> int:
    """Where the address that starts ``window`` ends (0 when it is not an address)."""
    labels: list[str] = []
    position = 0
    end = 0
    for token, label in tagged:
        found = window.find(token, position)
        if label not in _ADDRESS_LABELS or found < 0 or (labels and label == "AddressNumber"):
            break
        if label == "OccupancyIdentifier" and not any(c.isdigit() for c in token):
            break
        if label == "StreetName" and "StreetName" not in labels and token[0].islower():
            break  # "Division 3 of Circuit Court": a street name is written capitalized
        if token.lower().rstrip(".") in ("block", "blk"):
            break  # a hundred block is not anyone's address
        if label == "StreetName" and not re.fullmatch(r"[A-Za-z'’.-]+,?|\d+(?:st|nd|rd|th)", token):
            break
        if labels and labels[-1] == "StreetNamePostType" and label.startswith("StreetName"):
            break
        position = found + len(token)
        labels.append(label)
        end = position
    if not labels or labels[0] != "AddressNumber" or "StreetName" not in labels:
        return 0
    has_street_word = "StreetNamePostType" in labels or "StreetNamePreDirectional" in labels
    return end if has_street_word else 0


def _inside_number(text: str, number: re.Match[str]) -> bool:
    """A number that is part of a date, a time or an ID (``3/14``, ``12:30``, ``A-12``)."""
    before = text[number.start() - 1] if number.start() else " "
    after = text[number.end()] if number.end() < len(text) else " "
    return before in "-/.:#$" or before.isalnum() or after in "-/:"


def _merge(spans: list[Span]) -> list[Span]:
    """Overlapping spans as one (the first-found kind wins)."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.kind)
        else:
            merged.append(span)
    return merged
