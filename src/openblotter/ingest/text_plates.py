"""Licence plates in free text by their shape, where no "plate" or "tag" announces them.

"a silver Honda Civic, Ohio ABC1234, left northbound" names a plate without the
word. A token is taken as a plate when it has a plate's shape (5 to 8 letters and
digits, both present: ``ABC1234``, ``7XYZ123``, ``HJK-4521``, ``KLM 4482``) and a
vehicle is named in the same sentence (a make, "vehicle", "car", "truck"...). A
token right after a word that names another kind of number (case, report, unit,
badge, beat, item...) is not a plate, and neither is a token that is a date, a time
(``1343 hours``), a word of the everyday-word list, or a word and a year (``HIS 2014``). Measured on the labelled
narratives (docs/privacy.md).
"""

from __future__ import annotations

import re

from openblotter.ingest import name_lists

_TOKEN = re.compile(r"(?<![\w-])([A-Z0-9]{1,4}(?:[- ][A-Z0-9]{1,5}|[A-Z0-9]{0,5}))(?![\w-])")
_SENTENCE = re.compile(r"[^.!?;\n]+(?:[.!?;\n]|$)")
_VEHICLE = re.compile(
    r"(?i)\b(?:vehicles?|cars?|trucks?|pick-?ups?|vans?|sedans?|suvs?|coupes?|motorcycles?"
    r"|minivans?|hatchbacks?|jeeps?|honda|toyota|ford|chevy|chevrolet|nissan|dodge|hyundai"
    r"|kia|buick|cadillac|gmc|chrysler|mazda|subaru|volkswagen|vw|bmw|mercedes|audi|lexus"
    r"|acura|infiniti|lincoln|pontiac|saturn|mitsubishi|volvo|tesla|ram|registered|registration)\b"
)
_NOT_PLATE_BEFORE = re.compile(
    r"(?i)\b(?:case|report|incident|unit|badge|beat|item|evidence|cad|run|district|sector"
    r"|zone|squad|car|cruiser|apartment|apt|suite|room|ext|extension|docket|warrant|citation"
    r"|number|no|#|ucr|code|form|file|id|employee|serial|vin)\.?\s*#?\s*$"
)


def plate_spans(text: str) -> list[tuple[int, int]]:
    """Start and end of every plate-shaped token in a sentence that names a vehicle."""
    found = []
    for sentence in _SENTENCE.finditer(text):
        if not _VEHICLE.search(sentence.group()):
            continue
        for token in _TOKEN.finditer(sentence.group()):
            start = sentence.start() + token.start(1)
            end = sentence.start() + token.end(1)
            if _is_plate(token.group(1), text[max(0, start - 25) : start], text[end : end + 8]):
                found.append((start, end))
    return found


def _is_plate(token: str, before: str, after: str) -> bool:
    letters_digits = re.sub(r"[- ]", "", token)
    if not 5 <= len(letters_digits) <= 8:
        return False
    if not (re.search(r"[A-Z]", token) and re.search(r"\d", token)):
        return False
    if _NOT_PLATE_BEFORE.search(before) or re.match(r"\s*(?:hours|hrs)\b", after, re.I):
        return False
    first, _, second = token.replace("-", " ").partition(" ")
    if second and (name_lists.is_common_word(first) or re.fullmatch(r"(?:19|20)\d\d", second)):
        return False  # "HIS 2014": a word and a year, not a plate
    return not name_lists.is_common_word(letters_digits)
