"""People's names in free text, without a language model.

A word is part of a name when a title or a role comes before it ("Officer
Nagle", "witness Maria Gonzalez", "victim NG"), when it follows a listed
given name ("Kevin Ng"), or when it is a listed surname written capitalized
inside a sentence. Every part of a name found once is then masked wherever
else it appears in the same text ("Mr. Locke" two sentences later), and so
is every part of the row's own personal values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from openblotter.ingest import name_lists

Range = tuple[int, int]

_WORD = re.compile(r"[^\W\d_][\w'’-]*\.?")


def _words(text: str) -> list[str]:
    """A word list written as text (one word list per constant, easy to read and extend)."""
    return text.split()


#: Words that announce a name right after them.
TITLES = frozenset(
    _words(
        """
        officer ofc ofc. po p.o. sgt sgt. sergeant det det. detective lt lt. lieutenant capt
        capt. captain deputy dep dep. trooper tpr cpl cpl. corporal agent mr mr. mrs mrs. ms
        ms. miss dr dr. judge attorney chief inv inv. investigator prosecutor
        """
    )
)
ROLES = frozenset(
    _words(
        """
        witness witnesses victim victims suspect suspects complainant complainants subject
        subjects driver passenger named juvenile mother father son daughter wife husband
        girlfriend boyfriend neighbor neighbour brother sister friend roommate arrestee
        caller owner grandmother grandfather aunt uncle cousin tenant manager employee as
        aka a.k.a.
        """
    )
)
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
#: Lower-case words inside surnames (De La Cruz, van der Berg, bin Laden).
_PARTICLES = frozenset(
    {
        "de",
        "del",
        "della",
        "la",
        "le",
        "van",
        "von",
        "der",
        "den",
        "da",
        "di",
        "dos",
        "bin",
        "al",
        "el",
        "st",
    }
)
#: Verbs that follow a person in a narrative: a capitalized word before one is a name ("Ng said").
_SPEECH = frozenset(
    _words(
        """
        said says stated states told advised reported admitted denied refused fled claimed
        explained indicated confirmed agreed declined yelled screamed shouted alleged
        """
    )
)
#: Words after a capitalized word that make it a place, not a person (``Porter Ave``).
_PLACE_WORDS = frozenset(
    _words(
        """
        st st. street ave ave. avenue rd rd. road blvd blvd. boulevard dr dr. drive ln lane
        ct court way pl place pkwy parkway hwy highway cir circle ter terrace trl trail loop
        hospital regional county park school center centre mall church college university
        apartments apts plaza station market store bank
        """
    )
)


def name_spans(text: str, known: Iterable[object] = ()) -> list[Range]:
    """Character ranges of people's names in ``text``."""
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    shouting = _mostly_upper(text)
    found: list[Range] = []
    index = 0
    while index < len(words):
        length = _name_at(words, index, shouting)
        if length:
            found.append((words[index][0], _strip_end(text, words[index + length - 1])))
            index += length
        else:
            index += 1
    parts = {p for s, e in found for p in _parts(text[s:e])}
    parts |= {p for value in known for p in _parts(value)}
    found += _occurrences(text, parts)
    return found


def _name_at(words: list[tuple[int, int, str]], index: int, shouting: bool) -> int:
    """How many words starting at ``index`` form a name (0 when none does)."""
    length = _cued_or_listed(words, index, shouting)
    if length and not shouting:
        last = index + length - 1
        if name_lists.is_first_name(_bare(words[last][2])) and _titlecase(words, last + 1):
            length += 1  # "Elijah Brown", "John White": a given name, then any surname
    return length


def _cued_or_listed(words: list[tuple[int, int, str]], index: int, shouting: bool) -> int:
    word = words[index][2]
    previous = words[index - 1][2].lower() if index else ""
    bare = _bare(word)
    if (previous in TITLES or previous.rstrip(".") in TITLES) and not _street_drive(words, index):
        if (
            (_capitalized(word, shouting) or bare.isupper())
            and bare.lower() not in TITLES
            and not _place_at(words, index + 1)
            and (not shouting or _listed(word) or not name_lists.is_common_word(bare))
        ):
            return max(1, _name_length(words, index, shouting, cue=True))
        return 0
    role_named = (shouting and _listed(word)) or (not shouting and _titlecase(words, index))
    if previous in ROLES and _nameish(word, shouting) and role_named:
        return _name_length(words, index, shouting, cue=True)
    if (shouting or _titlecase(words, index)) and name_lists.is_first_name(bare):
        following = _name_length(words, index + 1, shouting, cue=False)
        if following and (not name_lists.is_common_word(bare) or _surname_at(words, index + 1)):
            return 1 + following
        if not shouting and not name_lists.is_common_word(bare) and _titlecase(words, index + 1):
            return 2  # "Dustin South": a given name, then a surname that is also a word
    if not shouting and _titlecase(words, index) and not name_lists.is_common_word(bare):
        speaks = index + 1 < len(words) and words[index + 1][2].lower() in _SPEECH
        if speaks and bare.lower() not in ROLES:
            return 1  # "Ng said", "Okafor stated"
        return _surname_here(words, index)
    return 0


def _surname_here(words: list[tuple[int, int, str]], index: int) -> int:
    """A capitalized word before a listed surname ("Rondall Carpenter"), or a listed surname."""
    bare = _bare(words[index][2])
    if _surname_at(words, index + 1, only=True) or (
        index
        and not words[index - 1][2].endswith(".")
        and name_lists.is_last_name(bare)
        and not _place_at(words, index + 1)
    ):
        return _name_length(words, index, False, cue=False)
    return 0


def _street_drive(words: list[tuple[int, int, str]], index: int) -> bool:
    """``Interstate Dr. Loss``: the "Dr" before ``index`` ends a street name, it is no title."""
    if index < 2 or words[index - 1][2].lower().rstrip(".") != "dr":
        return False
    before = words[index - 2][2]
    return before[0].isupper() and before.lower().rstrip(".") not in TITLES


def _listed(word: str) -> bool:
    bare = _bare(word)
    return name_lists.is_first_name(bare) or name_lists.is_last_name(bare)


def _titlecase(words: list[tuple[int, int, str]], index: int) -> bool:
    """A word written ``Gonzalez`` (not ``PIU``, not ``the``, not a place word)."""
    if index >= len(words):
        return False
    bare = _bare(words[index][2])
    return (
        len(bare) >= 2
        and bare[0].isupper()
        and not bare[1:].isupper()
        and bare.lower() not in TITLES
        and bare.lower() not in _PLACE_WORDS
    )


def _place_at(words: list[tuple[int, int, str]], index: int) -> bool:
    return index < len(words) and words[index][2].lower() in _PLACE_WORDS


def _name_length(words: list[tuple[int, int, str]], index: int, shouting: bool, cue: bool) -> int:
    """How many name-like words follow from ``index`` (at most four)."""
    length = 0
    while index + length < len(words) and length < 4:
        word = words[index + length][2]
        if _initial(word) and (length or cue) and not shouting:
            length += 1
            continue
        if word.lower() in _SUFFIXES and length:
            length += 1
            continue
        if length and word.lower() in _PARTICLES and index + length + 1 < len(words):
            length += 1
            continue
        if word.lower() in _PLACE_WORDS:
            return 0 if length <= 1 and not cue else length
        listed = _listed(word)
        if not _nameish(word, shouting) and not (cue and shouting and listed):
            break
        if shouting and length >= 2 and not listed:
            break  # in capitals, a third unlisted word is more likely a verb than a name
        length += 1
        if word.endswith(".") and not _initial(word):
            break
    return length


def _surname_at(words: list[tuple[int, int, str]], index: int, only: bool = False) -> bool:
    """A listed surname written capitalized (``only``: and not also a given name)."""
    if not _titlecase(words, index):
        return False
    bare = _bare(words[index][2])
    if only and name_lists.is_first_name(bare):
        return False
    return name_lists.is_last_name(bare) and not name_lists.is_common_word(bare)


def _nameish(word: str, shouting: bool) -> bool:
    """Written like a name and not an everyday word."""
    bare = _bare(word)
    if len(bare) < 2 or name_lists.is_common_word(bare) or bare.lower() in TITLES:
        return False
    return _capitalized(word, shouting)


def _capitalized(word: str, shouting: bool) -> bool:
    return word[0].isupper() and (shouting or not word.isupper() or len(_bare(word)) <= 3)


def _initial(word: str) -> bool:
    return len(word) == 2 and word[0].isupper() and word[1] == "."


_POSSESSIVE = re.compile(r"(?:['’]s|['’])?\.?$")


@lru_cache(maxsize=65536)
def _bare(word: str) -> str:
    """A word without its possessive or full stop: ``Locke's`` -> ``Locke``."""
    return _POSSESSIVE.sub("", word)


def _strip_end(text: str, word: tuple[int, int, str]) -> int:
    start, end, token = word
    return end - 1 if token.endswith(".") and not _initial(token) else end


def _mostly_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) > 0.8 * len(letters)


def _parts(value: object) -> set[str]:
    """The parts of a name worth masking elsewhere: two letters or more, not everyday words."""
    if value is None:
        return set()
    text = str(value).strip()
    pieces = {_bare(p) for p in re.split(r"[\s,]+", text)}
    parts = {p for p in pieces if len(p) >= 2 and p.lower() not in TITLES}
    parts = {p for p in parts if not name_lists.is_common_word(p) or len(pieces) == 1}
    if text and len(pieces) > 1:
        parts.add(text)
    return parts


def _occurrences(text: str, parts: set[str]) -> list[Range]:
    ranges: list[Range] = []
    # Short parts ("Ng", "Al") only as written: lower-case "ng" is part of words.
    long = sorted((p for p in parts if len(p) >= 4), key=len, reverse=True)
    short = sorted((p for p in parts if len(p) < 4), key=len, reverse=True)
    for group, flags in ((long, re.IGNORECASE), (short, 0)):
        if group:
            either = "|".join(re.escape(p) for p in group)
            pattern = re.compile(rf"(?<![A-Za-z])(?:{either})(?![A-Za-z])", flags)
            ranges += [m.span() for m in pattern.finditer(text)]
    return ranges
