"""The city the demo is about: Norman, Oklahoma, as numbers and places.

The census figures below are APPROXIMATIONS written from the public 2010 and
2020 census summaries for Norman city, Oklahoma (place 40-52500: 2010 Census
SF1 / P.L. 94-171, 2020 Census P.L. 94-171 table P2 and DHC tables P12, and
the Census Bureau's QuickFacts page), rounded and adjusted so that the parts
add up. The totals are exact: 110,925 residents in 2010 (also in
shared/data/real/census/sub-est2019_all_places_subset.csv) and 128,026 in
2020; the 2019 population estimate, 124,880, is from the same file. The
other yearly totals are a smooth trend through those points, and the yearly
survey (ACS) figures built from them are invented. Do not cite any of them:
for real work, download the tables from data.census.gov.

Beats, districts and street segments are invented for the demo (the street
names are real Norman streets; house numbers are random).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GEO_ID = "1600000US4052500"
GEO_NAME = "Norman city, Oklahoma"

# Census race/ethnicity cells, keyed by (census race words, Hispanic origin words).
# Hispanic or Latino residents of any race are one cell; the others are non-Hispanic.
HISPANIC_CELL = ("Total", "Hispanic or Latino")
_NH = "Not Hispanic or Latino"

#: 2020 Census (P.L. 94-171, table P2), Norman city: approximations (see the module docstring).
RACE_2020: dict[tuple[str, str], int] = {
    HISPANIC_CELL: 10_950,
    ("White alone", _NH): 86_800,
    ("Black or African American alone", _NH): 5_700,
    ("American Indian and Alaska Native alone", _NH): 4_950,
    ("Asian alone", _NH): 5_600,
    ("Native Hawaiian and Other Pacific Islander alone", _NH): 120,
    ("Some other race alone", _NH): 620,
    ("Two or more races", _NH): 13_286,
}
#: 2010 Census (SF1, table P9), Norman city: approximations.
RACE_2010: dict[tuple[str, str], int] = {
    HISPANIC_CELL: 7_000,
    ("White alone", _NH): 83_600,
    ("Black or African American alone", _NH): 4_650,
    ("American Indian and Alaska Native alone", _NH): 4_650,
    ("Asian alone", _NH): 4_650,
    ("Native Hawaiian and Other Pacific Islander alone", _NH): 60,
    ("Some other race alone", _NH): 140,
    ("Two or more races", _NH): 6_175,
}

AGE_GROUPS = (
    "Under 18 years",
    "18 to 24 years",
    "25 to 34 years",
    "35 to 44 years",
    "45 to 54 years",
    "55 to 64 years",
    "65 years and over",
)
#: Residents by age group (a college town: many 18 to 24), 2020 DHC P12 and 2010 SF1 P12.
AGE_2020 = (24_970, 22_400, 19_850, 15_100, 12_800, 14_080, 18_826)
AGE_2010 = (22_185, 22_740, 17_300, 12_200, 12_420, 11_090, 12_990)
#: Share of men in each age group (fewer men among older residents).
MALE_SHARE = (0.512, 0.505, 0.508, 0.502, 0.492, 0.482, 0.445)

#: Residents each year: exact for 2019 (the Census Bureau's estimate, vintage 2019) and the
#: censuses; a smooth trend in between and after (used as the yearly survey totals).
POPULATION = {
    2014: 118_550,
    2015: 120_390,
    2016: 122_180,
    2017: 123_050,
    2018: 123_960,
    2019: 124_880,
    2021: 128_710,
    2022: 129_180,
    2023: 130_060,
    2024: 131_150,
    2025: 132_090,
}
CENSUS_TOTALS = {2010: 110_925, 2020: 128_026}


@dataclass(frozen=True)
class Beat:
    """A patrol beat: its district, how busy it is, and its middle."""

    name: str
    district: str
    weight: float
    latitude: float
    longitude: float


BEATS: tuple[Beat, ...] = (
    Beat("101", "Northwest", 0.8, 35.262, -97.487),
    Beat("102", "Northwest", 0.9, 35.245, -97.478),
    Beat("103", "Northwest", 0.6, 35.275, -97.460),
    Beat("104", "Northwest", 0.5, 35.290, -97.500),
    Beat("201", "Northeast", 0.7, 35.255, -97.425),
    Beat("202", "Northeast", 0.5, 35.270, -97.400),
    Beat("203", "Northeast", 0.3, 35.290, -97.370),
    Beat("204", "Northeast", 0.2, 35.260, -97.330),
    Beat("301", "Central", 1.6, 35.222, -97.441),
    Beat("302", "Central", 1.4, 35.210, -97.445),
    Beat("303", "Central", 1.2, 35.205, -97.430),
    Beat("304", "Central", 1.0, 35.230, -97.455),
    Beat("401", "South", 0.9, 35.190, -97.460),
    Beat("402", "South", 0.7, 35.180, -97.420),
    Beat("403", "South", 0.4, 35.170, -97.390),
    Beat("404", "South", 0.2, 35.150, -97.330),
)

STREETS = (
    "W MAIN ST",
    "E MAIN ST",
    "W GRAY ST",
    "E GRAY ST",
    "W LINDSEY ST",
    "E LINDSEY ST",
    "W ROBINSON ST",
    "E ROBINSON ST",
    "E ALAMEDA ST",
    "W BOYD ST",
    "E BOYD ST",
    "N PORTER AVE",
    "S PORTER AVE",
    "N BERRY RD",
    "S BERRY RD",
    "N FLOOD AVE",
    "12TH AVE NE",
    "24TH AVE NW",
    "36TH AVE NW",
    "48TH AVE NW",
    "CLASSEN BLVD",
    "JENKINS AVE",
    "ASP AVE",
    "W TECUMSEH RD",
    "W ROCK CREEK RD",
    "E STATE HIGHWAY 9",
    "IMHOFF RD",
    "CONSTITUTION ST",
    "W BROOKS ST",
    "TIMBERDELL RD",
    "CHAUTAUQUA AVE",
    "S UNIVERSITY BLVD",
    "WEBSTER AVE",
    "PETERS AVE",
    "CRAWFORD AVE",
    "SANTA FE AVE",
    "JAMES GARNER AVE",
    "W FRANKLIN RD",
    "24TH AVE SE",
    "HIGHLAND PKWY",
    "W HUGHBERT ST",
    "E ACRES ST",
    "BROOKHAVEN BLVD",
    "ED NOBLE PKWY",
)


def locations(
    rng: np.random.Generator, n: int, *, intersections: float = 0.15
) -> dict[str, np.ndarray]:
    """Where ``n`` events happened: street address (or intersection), beat, district, lat/lon."""
    weights = np.array([b.weight for b in BEATS])
    beat_index = rng.choice(len(BEATS), size=n, p=weights / weights.sum())
    streets = np.asarray(STREETS, dtype=object)
    first = streets[rng.integers(0, len(STREETS), size=n)]
    second = streets[rng.integers(0, len(STREETS), size=n)]
    numbers = rng.integers(1, 48, size=n) * 100 + rng.integers(0, 100, size=n)
    house = np.char.add(np.char.add(numbers.astype(str), " "), first.astype(str))
    corner = np.char.add(np.char.add(first.astype(str), " / "), second.astype(str))
    at_corner = (rng.random(n) < intersections) & (first != second)
    lat = np.array([b.latitude for b in BEATS])[beat_index] + rng.normal(0, 0.006, n)
    lon = np.array([b.longitude for b in BEATS])[beat_index] + rng.normal(0, 0.008, n)
    return {
        "address": np.where(at_corner, corner, house).astype(object),
        "beat": np.array([b.name for b in BEATS], dtype=object)[beat_index],
        "district": np.array([b.district for b in BEATS], dtype=object)[beat_index],
        "latitude": np.round(lat, 6),
        "longitude": np.round(lon, 6),
    }
