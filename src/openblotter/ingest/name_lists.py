"""Lists of people's first and last names, and of common English words, from Faker.

Faker (a maintained PyPI package) ships the given names and surnames of its
86 locales as plain data; the Latin-script ones, folded to ASCII, give about
19,000 first names and 19,000 surnames (Spanish, Vietnamese, Indian, Nigerian,
Polish, … as well as US census names). Nothing is downloaded at run time.
Faker's English lorem word list (about 1,000 everyday words) tells which
capitalized words in a narrative are ordinary words rather than names.

Importing Faker's locales and folding their names takes about 0.2 s, once per
process: the lists are kept in the user's cache directory (``$XDG_CACHE_HOME``
or ``~/.cache``, ``openblotter/``), in a file named for Faker's version and this
module's text, so that a new Faker or a change here makes them again. A cache
that cannot be read or written is done without.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import pkgutil
import re
import tempfile
import unicodedata
from functools import lru_cache
from importlib import metadata
from pathlib import Path

_NAME = re.compile(r"[A-Za-z'\- ]+")
#: Fewer words than this in a cached list (Faker gives about 20,000 names and 1,000 words)
#: means the cache is damaged: the lists are made again.
MIN_WORDS = 500


def _words(text: str) -> list[str]:
    """A word list written as text (one word list per constant, easy to read and extend)."""
    return text.split()


#: Words that are names in some list but in police narratives are almost always words.
POLICE_WORDS = frozenset(
    _words(
        """
        officer officers police department division district unit sergeant detective deputy
        lieutenant captain chief trooper agent patrol dispatch dispatched hours hour street
        avenue road boulevard drive lane court place way highway parkway circle terrace
        trail block north south east west county city state hospital university center
        school church park station jail prison court circuit attorney judge commonwealth
        district assistant public victim suspect witness subject complainant driver
        passenger juvenile male female adult white black hispanic asian red blue green gray
        grey brown silver gold january february march april may june july august september
        october november december monday tuesday wednesday thursday friday saturday sunday
        mr mrs ms miss dr jr sr ii iii iv ofc sgt det lt capt handgun rifle shotgun knife
        vehicle car truck van suv sedan ford chevrolet chevy dodge honda toyota nissan jeep
        ram camry civic accord impala altima malibu tahoe cherokee explorer on at in of to
        and or the a an he she they his her him them was were is are no yes not none unknown
        other
        """
    )
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().strip()


def _person_providers() -> list[type]:
    from faker.providers import person

    providers = []
    for module in pkgutil.iter_modules(person.__path__):
        loaded = importlib.import_module(f"faker.providers.person.{module.name}")
        providers.append(loaded.Provider)
    return providers


def _collect(attributes: tuple[str, ...]) -> frozenset[str]:
    raw: set[str] = set()  # the locales share many names: each is folded once
    for provider in _person_providers():
        for attribute in attributes:
            values = getattr(provider, attribute, None)
            if not values or isinstance(values, property):
                continue
            raw.update(v for v in values if isinstance(v, str))
    folded = (_fold(value) for value in raw)
    return frozenset(f.lower() for f in folded if f and _NAME.fullmatch(f))


def _made() -> dict[str, frozenset[str]]:
    from faker.providers.lorem.en_US import Provider as Lorem

    return {
        "first": _collect(("first_names", "first_names_male", "first_names_female")),
        "last": _collect(("last_names",)),
        "words": frozenset(w.lower() for w in Lorem.word_list) | POLICE_WORDS,
    }


def cache_path() -> Path | None:
    """Where the lists are kept for this Faker and this module (None: no cache directory)."""
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        key = hashlib.sha256(metadata.version("faker").encode() + Path(__file__).read_bytes())
    except (OSError, RuntimeError, metadata.PackageNotFoundError):
        return None
    return base / "openblotter" / f"name-lists-{key.hexdigest()[:16]}.json"


def _cached(path: Path) -> dict[str, frozenset[str]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or set(data) != {"first", "last", "words"}:
        return None
    if not all(isinstance(v, list) and all(isinstance(w, str) for w in v) for v in data.values()):
        return None
    if any(len(words) < MIN_WORDS for words in data.values()):
        return None  # emptied or cut short: lists this short would let names through
    return {name: frozenset(words) for name, words in data.items()}


def _keep(path: Path, lists: dict[str, frozenset[str]]) -> None:
    """Write the cache whole or not at all (a temporary file renamed over it)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({key: sorted(words) for key, words in lists.items()}, out)
        os.replace(name, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)


@lru_cache(maxsize=1)
def _lists() -> dict[str, frozenset[str]]:
    path = cache_path()
    cached = _cached(path) if path is not None else None
    if cached is not None:
        return cached
    lists = _made()
    if path is not None:
        _keep(path, lists)
    return lists


def first_names() -> frozenset[str]:
    """Given names, lower case, ASCII."""
    return _lists()["first"]


def last_names() -> frozenset[str]:
    """Surnames, lower case, ASCII."""
    return _lists()["last"]


def common_words() -> frozenset[str]:
    """Everyday English words (lower case) that are not taken as names on their own."""
    return _lists()["words"]


def is_first_name(word: str) -> bool:
    """Whether ``word`` is a given name in the lists (case-insensitive)."""
    return _fold(word).lower() in first_names()


def is_last_name(word: str) -> bool:
    """Whether ``word`` is a surname in the lists (case-insensitive)."""
    return _fold(word).lower() in last_names()


def is_common_word(word: str) -> bool:
    """Whether ``word`` is an everyday or police word (case-insensitive)."""
    return word.lower().strip(".") in common_words()
