"""Caveats as data: plain words shown beside every comparison with the population.

Each caveat has a stable key (pages and the API can link to it), a short
title and a paragraph a resident can read. :func:`event_unit` says what one
counted event is (each family's ``countedEvent`` in its schema file), because
"events" means different things in different datasets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Caveat:
    """One plain-language warning about what a number can and cannot show."""

    key: str
    title: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


RESIDENTS_ARE_NOT_THE_POPULATION_AT_RISK = Caveat(
    key="residents_not_population_at_risk",
    title="Residents are not everyone the police meet",
    text=(
        "The census counts people who live in the city. The people police stop, arrest or "
        "use force on also include visitors, commuters, students and people driving through, "
        "and contact depends on where officers are sent, how much traffic there is and when "
        "and where people are out. A rate per 1,000 residents is a yardstick, not the true "
        "chance that a resident of a group has contact with police."
    ),
)

RECORDED_RACE_IS_OFTEN_PERCEIVED = Caveat(
    key="recorded_race_perceived",
    title="Race in police records is often what the officer saw",
    text=(
        "The census asks people to describe their own race and ethnicity. Police records "
        "often hold the race an officer perceived, sometimes without a separate Hispanic or "
        "Latino field. The two can differ, especially for Hispanic or Latino, multiracial "
        "and Native people, so a group's count in police records may not match how its "
        "members would describe themselves."
    ),
)

DISPARITY_IS_NOT_PROOF_OF_BIAS = Caveat(
    key="disparity_not_proof",
    title="A difference is not by itself proof of bias",
    text=(
        "A group with a higher rate than its share of residents shows a disparity: a "
        "difference worth asking about. On its own it does not show why the difference "
        "exists. Where people live, travel and are policed, and who calls the police, can "
        "all produce differences; so can biased decisions. Telling these apart needs more "
        "than a comparison with the census."
    ),
)

SMALL_NUMBERS = Caveat(
    key="small_numbers",
    title="Small numbers move a lot",
    text=(
        "When a group has few events or few residents, its rate can rise or fall sharply "
        "from one year to the next by chance alone. Rows marked not reliable have too few "
        "events (or too uncertain a population count) to read much into; the confidence "
        "interval shows how wide the plausible range is."
    ),
)

FINDINGS_ARE_ABOUT_ALLEGATIONS = Caveat(
    "findings_allegations",
    "A finding is about one allegation",
    "A complaint can hold several allegations, each with its own finding. Not sustained means "
    "the investigation could not prove or disprove the allegation, not that it did not happen. "
    "Complainant groups are as recorded, and many complaints do not record them.",
)

UNKNOWN_GROUP = Caveat(
    key="unknown_group",
    title="Some records do not say",
    text=(
        "Events whose record gives no race, or a value the portal cannot match to a census "
        "group, are shown in their own rows and not compared with any residents. The rates "
        "of the other groups count only the events that were recorded for them, so when "
        "many records are unknown every group's rate may be too low."
    ),
)

CENSUS_IS_AN_ESTIMATE = Caveat(
    key="census_estimate",
    title="The population counts are estimates too",
    text=(
        "American Community Survey counts come from a sample and have a margin of error; "
        "the confidence intervals here include it. Population also changes between the "
        "census year and the year of the police data."
    ),
)

CENSUS_WITHOUT_MOE = Caveat(
    key="census_estimate",
    title="The population counts are taken as exact",
    text=(
        "The population table gives no margin of error, so the intervals here reflect only "
        "the randomness of the event counts and treat the residents as counted exactly. If the "
        "table is a survey estimate (the American Community Survey), the intervals are too "
        "narrow. Population also changes between the census year and the year of the police "
        "data."
    ),
)

#: The caveats of a community benchmark whose figures need them all (the full set, in order).
BENCHMARK_CAVEATS: tuple[Caveat, ...] = (
    RESIDENTS_ARE_NOT_THE_POPULATION_AT_RISK,
    RECORDED_RACE_IS_OFTEN_PERCEIVED,
    DISPARITY_IS_NOT_PROOF_OF_BIAS,
    SMALL_NUMBERS,
    UNKNOWN_GROUP,
    CENSUS_IS_AN_ESTIMATE,
)


def benchmark_caveats(
    *,
    dimension: str,
    moe_used: bool,
    min_events: int,
    unreliable_rows: int,
    unknown_events: int,
    unmapped_events: int,
) -> tuple[Caveat, ...]:
    """The caveats a benchmark's own computation calls for, in display order.

    Each is chosen (or worded) from what the method did: the census caveat says
    whether the intervals include a margin of error; the small-numbers caveat
    names the event threshold and appears when a row falls under it; the
    unknown-group caveat appears when events were not compared with residents.
    """
    chosen = [RESIDENTS_ARE_NOT_THE_POPULATION_AT_RISK]
    if dimension == "race_ethnicity":
        chosen.append(RECORDED_RACE_IS_OFTEN_PERCEIVED)
    chosen.append(DISPARITY_IS_NOT_PROOF_OF_BIAS)
    if unreliable_rows:
        chosen.append(
            Caveat(
                SMALL_NUMBERS.key,
                SMALL_NUMBERS.title,
                f"{unreliable_rows} row(s) are marked not reliable: fewer than {min_events} "
                "events, or a population estimate too uncertain to divide by. Such a rate can "
                "rise or fall sharply from one year to the next by chance alone; its 95% "
                "interval shows how wide the plausible range is.",
            )
        )
    not_compared = unknown_events + unmapped_events
    if not_compared:
        chosen.append(
            Caveat(
                UNKNOWN_GROUP.key,
                UNKNOWN_GROUP.title,
                f"{not_compared:,} events record no group, or a value the portal cannot match "
                "to a census group; they are shown in their own rows and compared with no "
                "residents. The other groups' rates count only the events recorded for them, "
                "so every rate may be too low.",
            )
        )
    chosen.append(CENSUS_IS_AN_ESTIMATE if moe_used else CENSUS_WITHOUT_MOE)
    return tuple(chosen)


def event_unit(
    family: str, contact_types: list[str] | None = None, counted: str | None = None
) -> str:
    """What one event is in a dataset family: ``counted`` (the family's ``countedEvent``,
    from its schema file), or a generic phrase for a custom dataset.

    For contacts, ``contact_types`` (the types among the counted events) name
    the kind of contact: a dataset of traffic stops counts drivers in stops,
    whatever each stop ended in (warning, citation, arrest).
    """
    if family == "contacts" and contact_types:
        kinds = sorted({t for t in contact_types if t})
        if kinds == ["Traffic stop"]:
            return "one driver (or person stopped) in one traffic stop, whatever it ended in"
        if kinds:
            listed = ", ".join(k.lower() for k in kinds)
            return f"one community member in one contact ({listed})"
    return counted or "one row of the dataset"
