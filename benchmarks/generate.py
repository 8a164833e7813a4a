"""Deterministic synthetic Contacts file for the benchmarks.

One row per community member in a police contact (citation, arrest, field
contact, case report, collision report), cumulative from 2016-Q1 to 2026-Q3 as
a department's records system would export it: sorted by date and time, with
sequential ``contact_id``. Distributions are skewed the way real ones are
(traffic citations dominate, a few officers and beats carry most of the work,
a COVID dip in 2020, summer and weekend peaks, a few blanks). Standard library
only, so it runs in any environment; the same seed and row count give the same
bytes.

Above ``STREAMED_ABOVE`` rows (the 100-million-row run) the rows are made day by
day (each day's count set in advance by its weight), so memory does not grow
with the row count; the 1,000,000-row file keeps the bytes it always had.

Usage: python benchmarks/generate.py --rows 1000000 --out contacts.csv
       python benchmarks/generate.py --rows 1000000 --cache-dir benchmarks/work
       python benchmarks/generate.py --rows 100000000 --cache-dir benchmarks/work
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

DEFAULT_SEED = 20260701
FIRST_DAY = date(2016, 1, 1)
LAST_DAY = date(2026, 9, 30)
COLUMNS = (
    "contact_id",
    "quarter",
    "contact_date",
    "contact_time",
    "contact_type",
    "role",
    "subject_race",
    "subject_sex",
    "subject_age",
    "officer_id",
    "beat",
    "outcome",
)

# contact type -> (share of all contacts, roles with weights, outcomes with weights)
CONTACT_TYPES: dict[str, tuple[float, dict[str, float], dict[str, float]]] = {
    "Traffic citation": (
        0.44,
        {"Driver": 0.97, "Passenger": 0.02, "Pedestrian": 0.01},
        {"Citation issued": 0.95, "Citation issued, vehicle towed": 0.05},
    ),
    "Non-traffic citation": (
        0.11,
        {"Cited person": 1.0},
        {"Citation issued": 0.92, "Citation issued, property seized": 0.08},
    ),
    "Arrest": (
        0.10,
        {"Arrestee": 1.0},
        {
            "Booked into jail": 0.70,
            "Released on citation": 0.20,
            "Transported to detox": 0.05,
            "Released to juvenile authority": 0.05,
        },
    ),
    "Field contact": (
        0.13,
        {"Subject": 0.80, "Witness": 0.10, "Reporting party": 0.10},
        {"No action": 0.55, "Verbal warning": 0.30, "Information only": 0.15},
    ),
    "Case report": (
        0.18,
        {"Victim": 0.45, "Suspect": 0.25, "Witness": 0.12, "Reporting party": 0.13, "Other": 0.05},
        {
            "Report taken": 0.60,
            "Referred to investigations": 0.20,
            "Cleared by arrest": 0.10,
            "Unfounded": 0.05,
            "Inactive": 0.05,
        },
    ),
    "Collision report": (
        0.04,
        {"Driver": 0.80, "Passenger": 0.12, "Pedestrian": 0.05, "Cyclist": 0.03},
        {"Report taken": 0.85, "Citation issued": 0.15},
    ),
}

RACES = {
    "White": 0.60,
    "Black": 0.15,
    "Hispanic": 0.10,
    "American Indian or Alaska Native": 0.05,
    "Asian": 0.03,
    "Middle Eastern": 0.007,
    "Native Hawaiian or Pacific Islander": 0.003,
    "Unknown": 0.05,
    "": 0.01,  # left blank in the records system
}
# Arrests and field contacts fall more heavily on Black residents, as in most real files.
RACES_STOPPED_MORE = {**RACES, "White": 0.53, "Black": 0.22}
SEXES = {"Male": 0.63, "Female": 0.35, "Unknown": 0.02}
SEXES_ARREST = {"Male": 0.76, "Female": 0.23, "Unknown": 0.01}
# Contacts by hour of day, midnight first: quiet before dawn, busy afternoons, a bar-close bump.
HOURS = (5, 5, 5, 3, 2, 2, 3, 5, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 7, 6, 6, 6, 6, 5)
OFFICERS = 220
BEATS = 24
#: Files larger than this are made day by day (bounded memory) instead of all at once.
STREAMED_ABOVE = 2_000_000


class _Picker:
    """Weighted choice with precomputed cumulative weights (fast for millions of rows)."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.values = list(weights)
        self.cum = list(accumulate(weights.values()))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> str:
        return self.values[bisect(self.cum, rng.random() * self.total)]


def _zipf_weights(count: int, exponent: float) -> list[float]:
    return [1 / (rank**exponent) for rank in range(1, count + 1)]


def _day_weight(day: date) -> float:
    """Relative volume of a day: slow growth, summer and weekend peaks, the 2020 dip."""
    growth = 1 + 0.04 * (day.year - FIRST_DAY.year)
    season = 1.12 if day.month in (6, 7, 8) else 1.0
    weekend = 1.15 if day.weekday() in (4, 5) else 1.0
    covid = 0.7 if date(2020, 3, 15) <= day <= date(2020, 12, 31) else 1.0
    return growth * season * weekend * covid


def _contact_days(rng: random.Random, rows: int) -> list[date]:
    days = [FIRST_DAY + timedelta(n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
    chosen = rng.choices(days, weights=[_day_weight(d) for d in days], k=rows)
    chosen.sort()
    return chosen


def _age(rng: random.Random) -> str:
    if rng.random() < 0.02:
        return ""  # unknown age
    return str(min(89, max(12, round(rng.lognormvariate(3.4, 0.35)))))


class _Draws:
    """Everything of a row but its date and time, drawn the same way in both generators."""

    def __init__(self) -> None:
        self.types = list(CONTACT_TYPES)
        self.type_cum = list(accumulate(share for share, _, _ in CONTACT_TYPES.values()))
        self.roles = {t: _Picker(r) for t, (_, r, _) in CONTACT_TYPES.items()}
        self.outcomes = {t: _Picker(o) for t, (_, _, o) in CONTACT_TYPES.items()}
        self.races, self.races_more = _Picker(RACES), _Picker(RACES_STOPPED_MORE)
        self.sexes, self.sexes_arrest = _Picker(SEXES), _Picker(SEXES_ARREST)
        self.officer_ids = [f"P{1000 + 7 * n:04d}" for n in range(OFFICERS)]
        self.officer_cum = list(accumulate(_zipf_weights(OFFICERS, 0.8)))
        self.beat_ids = [f"B{n:02d}" for n in range(1, BEATS + 1)]
        self.beat_cum = list(accumulate(_zipf_weights(BEATS, 0.6)))
        self.hour_cum = list(accumulate(HOURS))


def _day_counts(rows: int) -> list[tuple[date, int]]:
    """Each day's share of ``rows`` by its weight (largest remainders: the sum is exact)."""
    days = [FIRST_DAY + timedelta(n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
    weights = [_day_weight(d) for d in days]
    total = sum(weights)
    exact = [rows * w / total for w in weights]
    counts = [int(x) for x in exact]
    short = rows - sum(counts)
    by_remainder = sorted(range(len(days)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[:short]:
        counts[i] += 1
    return list(zip(days, counts, strict=True))


def generate_rows_streamed(rows: int, seed: int = DEFAULT_SEED) -> Iterator[Sequence[str]]:
    """Yield ``rows`` contact rows day by day: memory holds one day, whatever ``rows`` is."""
    rng = random.Random(seed)
    r = _Draws()
    number = 0
    for day, count in _day_counts(rows):
        hours = rng.choices(range(24), cum_weights=r.hour_cum, k=count)
        minutes = rng.choices(range(60), k=count)
        kinds = rng.choices(r.types, cum_weights=r.type_cum, k=count)
        officers = rng.choices(r.officer_ids, cum_weights=r.officer_cum, k=count)
        beats = rng.choices(r.beat_ids, cum_weights=r.beat_cum, k=count)
        quarter = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        iso = day.isoformat()
        clock = sorted(zip(hours, minutes, strict=True))
        for i, (hour, minute) in enumerate(clock):
            number += 1
            kind = kinds[i]
            more = kind in ("Arrest", "Field contact")
            yield (
                f"C{number:09d}" if rows >= 100_000_000 else f"C{number:08d}",
                quarter,
                iso,
                f"{hour:02d}:{minute:02d}",
                kind,
                r.roles[kind].pick(rng),
                (r.races_more if more else r.races).pick(rng),
                (r.sexes_arrest if kind == "Arrest" else r.sexes).pick(rng),
                _age(rng),
                officers[i],
                beats[i],
                r.outcomes[kind].pick(rng),
            )


def generate_rows(rows: int, seed: int = DEFAULT_SEED) -> Iterator[Sequence[str]]:
    """Yield ``rows`` contact rows (without the header) in date and time order."""
    if rows > STREAMED_ABOVE:
        yield from generate_rows_streamed(rows, seed)
        return
    rng = random.Random(seed)
    types = list(CONTACT_TYPES)
    type_cum = list(accumulate(share for share, _, _ in CONTACT_TYPES.values()))
    roles = {t: _Picker(r) for t, (_, r, _) in CONTACT_TYPES.items()}
    outcomes = {t: _Picker(o) for t, (_, _, o) in CONTACT_TYPES.items()}
    races, races_more = _Picker(RACES), _Picker(RACES_STOPPED_MORE)
    sexes, sexes_arrest = _Picker(SEXES), _Picker(SEXES_ARREST)
    officer_ids = [f"P{1000 + 7 * n:04d}" for n in range(OFFICERS)]
    officer_cum = list(accumulate(_zipf_weights(OFFICERS, 0.8)))
    beat_ids = [f"B{n:02d}" for n in range(1, BEATS + 1)]
    beat_cum = list(accumulate(_zipf_weights(BEATS, 0.6)))
    hour_cum = list(accumulate(HOURS))
    days = _contact_days(rng, rows)
    hours = rng.choices(range(24), cum_weights=hour_cum, k=rows)
    minutes = rng.choices(range(60), k=rows)
    times = sorted(zip(days, hours, minutes, strict=True))
    kinds = rng.choices(types, cum_weights=type_cum, k=rows)
    officers = rng.choices(officer_ids, cum_weights=officer_cum, k=rows)
    beats = rng.choices(beat_ids, cum_weights=beat_cum, k=rows)
    for number, (day, hour, minute) in enumerate(times, start=1):
        kind = kinds[number - 1]
        more = kind in ("Arrest", "Field contact")
        yield (
            f"C{number:08d}",
            f"{day.year}-Q{(day.month - 1) // 3 + 1}",
            day.isoformat(),
            f"{hour:02d}:{minute:02d}",
            kind,
            roles[kind].pick(rng),
            (races_more if more else races).pick(rng),
            (sexes_arrest if kind == "Arrest" else sexes).pick(rng),
            _age(rng),
            officers[number - 1],
            beats[number - 1],
            outcomes[kind].pick(rng),
        )


def write_contacts_csv(path: Path, rows: int, seed: int = DEFAULT_SEED) -> str:
    """Write the file atomically (temporary name, then rename); return its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(generate_rows(rows, seed))
    digest = file_sha256(partial)
    os.replace(partial, path)
    return digest


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def cache_paths(work_dir: Path, rows: int, seed: int = DEFAULT_SEED) -> tuple[Path, Path]:
    """Where the cached file for (rows, seed) and its checksum live."""
    path = work_dir / f"contacts_{rows}_{seed}.csv"
    return path, path.with_suffix(".sha256")


def cached_contacts_csv(work_dir: Path, rows: int, seed: int = DEFAULT_SEED) -> tuple[Path, str]:
    """The generated file for (rows, seed) under ``work_dir``, made once and then reused."""
    path, stamp = cache_paths(work_dir, rows, seed)
    if path.exists() and stamp.exists():
        return path, stamp.read_text().strip()
    digest = write_contacts_csv(path, rows, seed)
    stamp.write_text(digest + "\n")
    return path, digest


def main() -> None:
    """Command line: write the file and print its path and checksum."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="write this file")
    where.add_argument("--cache-dir", type=Path, help="make the file here once, then reuse it")
    args = parser.parse_args()
    if args.out:
        path, digest = args.out, write_contacts_csv(args.out, args.rows, args.seed)
    else:
        path, digest = cached_contacts_csv(args.cache_dir, args.rows, args.seed)
    print(f"{path}  {args.rows} rows  sha256 {digest}")


if __name__ == "__main__":
    main()
