"""Which census category each department code is compared with: an explicit, editable mapping.

A police record says ``White`` or ``Hispanic or Latino``; the census counts
"White alone, not Hispanic or Latino" and "Hispanic or Latino (of any race)".
The mapping between the two is a choice, so it is data: a portal can change
it, and every benchmark returns the mapping it used so a reader can see it.

Census categories follow the Census Bureau's table B03002 (ACS) and P2
(2020 census): Hispanic or Latino of any race, then seven non-Hispanic
groups (one race alone, or two or more races).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from openblotter.domain.errors import InvalidInput

HISPANIC = "Hispanic or Latino"
NH_WHITE = "White alone, not Hispanic or Latino"
NH_BLACK = "Black or African American alone, not Hispanic or Latino"
NH_AIAN = "American Indian and Alaska Native alone, not Hispanic or Latino"
NH_ASIAN = "Asian alone, not Hispanic or Latino"
NH_NHPI = "Native Hawaiian and Other Pacific Islander alone, not Hispanic or Latino"
NH_OTHER = "Some other race alone, not Hispanic or Latino"
NH_TWO_OR_MORE = "Two or more races, not Hispanic or Latino"

#: The census race/ethnicity categories, in the order tables show them.
RACE_ETHNICITY_CATEGORIES: tuple[str, ...] = (
    HISPANIC,
    NH_WHITE,
    NH_BLACK,
    NH_AIAN,
    NH_ASIAN,
    NH_NHPI,
    NH_OTHER,
    NH_TWO_OR_MORE,
)

#: The community demographics family's race words (for residents who are not
#: Hispanic or Latino) -> census category.
DEMOGRAPHICS_RACES: dict[str, str] = {
    "White": NH_WHITE,
    "Black or African American": NH_BLACK,
    "American Indian or Alaska Native": NH_AIAN,
    "Asian": NH_ASIAN,
    "Native Hawaiian or Other Pacific Islander": NH_NHPI,
    "Other": NH_OTHER,
    "Two or more races": NH_TWO_OR_MORE,
}

SEX_CATEGORIES: tuple[str, ...] = ("Male", "Female")

#: Age bands: (first age, last age or None for "and over", label), youngest first.
AgeBands = tuple[tuple[int, int | None, str], ...]

#: Age bands (first age, last age or None for "and over", label) built from whole
#: B01001 age groups, so each band's population is an exact sum of census cells.
DEFAULT_AGE_BANDS: AgeBands = (
    (0, 17, "Under 18 years"),
    (18, 24, "18 to 24 years"),
    (25, 34, "25 to 34 years"),
    (35, 44, "35 to 44 years"),
    (45, 54, "45 to 54 years"),
    (55, 64, "55 to 64 years"),
    (65, None, "65 years and over"),
)

Placement = Literal["category", "unknown", "not_in_mapping"]


@dataclass(frozen=True)
class CodeMapping:
    """Department codes -> census categories for one dimension (race/ethnicity, sex, age).

    ``codes`` maps a department code to a census category, or to None when the
    code means "not known" (those events are counted in their own row).
    Codes match after trimming and case-folding.
    """

    name: str
    dimension: str
    categories: tuple[str, ...]
    codes: Mapping[str, str | None]
    notes: tuple[str, ...] = ()
    _lookup: dict[str, str | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        wrong = sorted(
            {c for c in self.codes.values() if c is not None and c not in self.categories}
        )
        if wrong:
            raise InvalidInput(
                f"Mapping '{self.name}' sends codes to categories it does not list: "
                f"{', '.join(wrong)}. Use one of: {', '.join(self.categories)}.",
                detail={"mapping": self.name, "unknown_categories": wrong},
            )
        lookup = {_key(code): target for code, target in self.codes.items()}
        object.__setattr__(self, "_lookup", lookup)

    def place(self, code: str | None) -> tuple[Placement, str | None]:
        """Where events with this code are counted: a census category, Unknown, or their own row."""
        if code is None or not str(code).strip():
            return "unknown", None
        key = _key(code)
        if key not in self._lookup:
            return "not_in_mapping", None
        target = self._lookup[key]
        return ("unknown", None) if target is None else ("category", target)

    def codes_for(self, category: str) -> list[str]:
        """The department codes compared with one census category."""
        return [code for code, target in self.codes.items() if target == category]

    def to_dict(self) -> dict[str, Any]:
        """The mapping as plain data, to show beside a result."""
        return {
            "name": self.name,
            "dimension": self.dimension,
            "categories": list(self.categories),
            "codes": dict(self.codes),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CodeMapping:
        """Build a mapping from plain data (a portal's configuration); checks its targets."""
        missing = [k for k in ("name", "dimension", "categories", "codes") if k not in data]
        if missing:
            raise InvalidInput(
                f"A code mapping needs {', '.join(missing)}.", detail={"missing": missing}
            )
        return cls(
            name=str(data["name"]),
            dimension=str(data["dimension"]),
            categories=tuple(data["categories"]),
            codes=dict(data["codes"]),
            notes=tuple(data.get("notes", ())),
        )


def _key(code: str) -> str:
    return str(code).strip().casefold()


DEFAULT_RACE_ETHNICITY_MAPPING = CodeMapping(
    name="NIBRS-style race/ethnicity codes to census B03002 / P2 categories",
    dimension="race_ethnicity",
    categories=RACE_ETHNICITY_CATEGORIES,
    codes={
        "Hispanic or Latino": HISPANIC,
        "White": NH_WHITE,
        "Black": NH_BLACK,
        "American Indian or Alaska Native": NH_AIAN,
        "Asian": NH_ASIAN,
        "Native Hawaiian or Other Pacific Islander": NH_NHPI,
        "Other": NH_OTHER,
        "Multiple": NH_TWO_OR_MORE,
        "Unknown": None,
    },
    notes=(
        "Each race code is compared with the residents of that race alone who are not "
        "Hispanic or Latino, and 'Hispanic or Latino' with Hispanic or Latino residents of "
        "any race. This is right when the department records Hispanic or Latino as its own "
        "value; if it records ethnicity in a separate field, combine the two first "
        "(combine_race_ethnicity) or White and other rates will include Hispanic people "
        "the population counts do not.",
        "'Other' is compared with 'Some other race alone', a small census category; "
        "the two rarely mean the same thing, so read that row with care.",
        "'Multiple' is compared with 'Two or more races'.",
        "'Unknown' (and blank) is not compared with any residents: those events are "
        "counted in their own row.",
    ),
)

DEFAULT_SEX_MAPPING = CodeMapping(
    name="Sex codes to census sex",
    dimension="sex",
    categories=SEX_CATEGORIES,
    codes={"Male": "Male", "M": "Male", "Female": "Female", "F": "Female", "Unknown": None},
    notes=(
        "The census counts residents as male or female; records with another or no "
        "value are counted in their own row.",
    ),
)


def age_band_mapping(
    bands: AgeBands = DEFAULT_AGE_BANDS,
) -> CodeMapping:
    """The identity mapping for age bands (events are binned with :func:`age_band` first)."""
    labels = tuple(label for _, _, label in bands)
    codes: dict[str, str | None] = {label: label for label in labels}
    codes["Unknown"] = None
    return CodeMapping(
        name="Age bands",
        dimension="age_group",
        categories=labels,
        codes=codes,
        notes=(
            "Ages are grouped into bands made of whole census age groups (table B01001).",
            "An event's age is the person's age at the event, as the department recorded it; "
            "a resident's age is their age on the census or survey date.",
            "Where the department publishes age bands instead of ages, a band is counted in "
            "the census band that holds it; a band that straddles two census bands (18 - 25) "
            "is counted in its own row, not compared with residents.",
            "Events with no age are counted in their own row (Unknown).",
        ),
    )


def age_band(age: float | None, bands: AgeBands = DEFAULT_AGE_BANDS) -> str:
    """The band label an age in years falls in; ``Unknown`` for a missing or impossible age."""
    if age is None or age != age or age < 0 or age > 125:  # age != age: NaN
        return "Unknown"
    whole = int(age)
    for first, last, label in bands:
        if whole >= first and (last is None or whole <= last):
            return label
    return "Unknown"


# Words that say nothing about the age range: dropped before a label is read.
_AGE_NOISE = re.compile(r"\b(?:years?|yrs?\.?|old)\b")
# 18 to 24, 18 - 24, 18-24, 18 through 24, and the census's 18 and 19
_AGE_RANGE = re.compile(r"^(\d+) ?(?:-|to|and|through|thru) ?(\d+)$")
_AGE_ONE = re.compile(r"^(\d+)$")
_AGE_UNDER = re.compile(r"^(?:under|<|less than|younger than|below) ?(\d+)$")
_AGE_AND_OVER = re.compile(r"^(\d+) ?(?:\+|plus|(?:and|or) (?:over|older|above))$")


def age_label_range(label: str | None) -> tuple[int, int | None] | None:
    """First and last age (None: no upper limit) an age group label names; None if unreadable.

    Reads the census forms (``18 to 24 years``, ``Under 18 years``,
    ``65 years and over``, ``18 and 19 years``) and the forms police files use
    (``18-24``, ``18 - 24``, ``<18``, ``Under 18``, ``65+``, ``65 and older``).
    """
    if label is None:
        return None
    text = label.casefold().replace("\u2013", "-").replace("\u2014", "-")
    text = " ".join(_AGE_NOISE.sub(" ", text).split())
    if match := _AGE_RANGE.match(text):
        first, last = int(match[1]), int(match[2])
        return (first, last) if first <= last else None
    if match := _AGE_ONE.match(text):
        return int(match[1]), int(match[1])
    if match := _AGE_UNDER.match(text):
        return (0, int(match[1]) - 1) if int(match[1]) > 0 else None
    if match := _AGE_AND_OVER.match(text):
        return int(match[1]), None
    return None


def band_of_range(first: int, last: int | None, bands: AgeBands = DEFAULT_AGE_BANDS) -> str | None:
    """The band that holds every age from ``first`` to ``last``; None when they straddle bands."""
    for band_first, band_last, band_label in bands:
        if first < band_first or (band_last is not None and first > band_last):
            continue
        if band_last is None or (last is not None and last <= band_last):
            return band_label
        return None
    return None


def age_band_of_label(label: str | None, bands: AgeBands = DEFAULT_AGE_BANDS) -> str:
    """The band an event's age group label falls in.

    ``Unknown`` for a blank label (or one with no letter or digit, such as
    ``-``); the label itself, trimmed, when it cannot be read as an age range
    or straddles two bands, so the benchmark counts it in its own row.
    """
    if label is None or not any(ch.isalnum() for ch in label):
        return "Unknown"
    found = age_label_range(label)
    band = band_of_range(found[0], found[1], bands) if found is not None else None
    return band if band is not None else label.strip()


#: Ethnicity codes that mean Hispanic or Latino (matched trimmed and case-folded).
HISPANIC_ETHNICITY_CODES: tuple[str, ...] = ("Hispanic or Latino", "Hispanic", "H")


def combine_race_ethnicity(
    race: str | None,
    ethnicity: str | None,
    *,
    hispanic_values: Collection[str] = HISPANIC_ETHNICITY_CODES,
) -> str | None:
    """One race/ethnicity code from separate race and ethnicity fields (NIBRS records both).

    A person recorded as Hispanic or Latino counts as ``Hispanic or Latino``
    whatever the race; anyone else keeps the race code (None when missing).
    """
    hispanic = {_key(v) for v in hispanic_values}
    if ethnicity is not None and _key(ethnicity) in hispanic:
        return "Hispanic or Latino"
    return race


def combined_race_ethnicity(race: str, ethnicity: str) -> pl.Expr:
    """:func:`combine_race_ethnicity` over two columns of a frame, as an expression
    (named ``race``): Hispanic or Latino whatever the race, else the race."""
    hispanic = [_key(v) for v in HISPANIC_ETHNICITY_CODES]
    return (
        pl.when(pl.col(ethnicity).str.strip_chars().str.to_lowercase().is_in(hispanic))
        .then(pl.lit(HISPANIC))
        .otherwise(pl.col(race))
        .alias(race)
    )
