"""Census downloads as data.census.gov writes them (table layout): the test values the
census reader's tests and the census-fed benchmarks share."""

from __future__ import annotations

NBSP4 = "\u00a0" * 4

TABLE_HEADER = (
    '"Label (Grouping)","Norman city, Oklahoma!!Estimate","Norman city, Oklahoma!!Margin of Error"'
)
# Table layout, exactly as "Download Table" -> CSV writes it (NBSP indentation, ±, commas).
B03002_TABLE_CSV = f'''{TABLE_HEADER}
"Total:","127,477","±34"
"{NBSP4}Not Hispanic or Latino:","116,115","±412"
"{NBSP4 * 2}White alone","89,502","±1,095"
"{NBSP4 * 2}Black or African American alone","5,640","±612"
"{NBSP4 * 2}American Indian and Alaska Native alone","4,021","±402"
"{NBSP4 * 2}Asian alone","5,210","±488"
"{NBSP4 * 2}Native Hawaiian and Other Pacific Islander alone","96","±71"
"{NBSP4 * 2}Some other race alone","412","±190"
"{NBSP4 * 2}Two or more races:","11,234","±905"
"{NBSP4 * 3}Two races including Some other race","301","±150"
"{NBSP4 * 3}Two races excluding Some other race, and three or more races","10,933","±890"
"{NBSP4}Hispanic or Latino:","11,362","±398"
"{NBSP4 * 2}White alone","4,512","±601"
"{NBSP4 * 2}Black or African American alone","120","±88"
"{NBSP4 * 2}American Indian and Alaska Native alone","310","±140"
"{NBSP4 * 2}Asian alone","15","±24"
"{NBSP4 * 2}Native Hawaiian and Other Pacific Islander alone","0","±30"
"{NBSP4 * 2}Some other race alone","2,905","±510"
"{NBSP4 * 2}Two or more races:","3,500","±540"
"{NBSP4 * 3}Two races including Some other race","1,900","±400"
"{NBSP4 * 3}Two races excluding Some other race, and three or more races","1,600","±350"
'''

AGES = [
    "Under 5 years", "5 to 9 years", "10 to 14 years", "15 to 17 years", "18 and 19 years",
    "20 years", "21 years", "22 to 24 years", "25 to 29 years", "30 to 34 years",
    "35 to 39 years", "40 to 44 years", "45 to 49 years", "50 to 54 years", "55 to 59 years",
    "60 and 61 years", "62 to 64 years", "65 and 66 years", "67 to 69 years", "70 to 74 years",
    "75 to 79 years", "80 to 84 years", "85 years and over",
]  # fmt: skip
MALE = [3100, 3200, 3300, 2000, 4100, 2300, 2200, 5200, 5600, 4800, 4200, 3900, 3500, 3400,
        3300, 1200, 1700, 1000, 1300, 1900, 1200, 800, 700]  # fmt: skip
FEMALE = [3000, 3100, 3250, 1900, 4300, 2400, 2300, 5100, 5300, 4700, 4100, 3800, 3600, 3500,
          3500, 1300, 1800, 1100, 1500, 2200, 1600, 1100, 1300]  # fmt: skip


def b01001_table() -> bytes:
    """Sex by age (B01001) as "Download Table" writes it, from AGES, MALE and FEMALE."""
    lines = [TABLE_HEADER]
    lines.append(f'"Total:","{sum(MALE) + sum(FEMALE):,}","±34"')
    for sex, values in (("Male", MALE), ("Female", FEMALE)):
        lines.append(f'"{NBSP4}{sex}:","{sum(values):,}","±600"')
        lines += [
            f'"{NBSP4 * 2}{age}","{v:,}","±{v // 10}"' for age, v in zip(AGES, values, strict=True)
        ]
    return ("\n".join(lines) + "\n").encode("utf-8")
