"""Score the free-text masking on the labelled narratives (tests/data/narratives).

Run ``python -m tests.narrative_scoring`` to print the table that docs/privacy.md quotes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from openblotter.ingest.text_pii import find_pii

CORPUS = Path(__file__).resolve().parent / "data" / "narratives" / "corpus.jsonl"

#: Which detector kind answers for which labelled type (a date of birth is masked as a date).
KIND_OF = {
    "NAME": "name",
    "DOB": "date",
    "DATE": "date",
    "ADDRESS": "address",
    "PHONE": "phone",
    "EMAIL": "email",
    "SSN": "ssn",
    "PLATE": "plate",
    "LICENCE": "licence",
}


@dataclass
class Scores:
    found: Counter[str] = field(default_factory=Counter)
    labelled: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    detected: Counter[str] = field(default_factory=Counter)
    missed: list[tuple[str, str]] = field(default_factory=list)
    wrong: list[tuple[str, str]] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.labelled[kind] if self.labelled[kind] else 1.0

    def precision(self, kind: str) -> float:
        return self.right[kind] / self.detected[kind] if self.detected[kind] else 1.0


def load() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def gold_spans(item: dict) -> list[tuple[int, int, str]]:
    spans = []
    for kind, surface in item["entities"]:
        context = surface.replace("{", "").replace("}", "")
        offset = surface.index("{") if "{" in surface else 0
        length = len(surface[offset:].split("}")[0].lstrip("{")) if "{" in surface else len(surface)
        pattern = rf"(?<![A-Za-z0-9]){re.escape(context)}(?![A-Za-z0-9])"
        matches = list(re.finditer(pattern, item["text"]))
        assert matches, f"{surface!r} is not in: {item['text'][:60]}"
        spans += [(m.start() + offset, m.start() + offset + length, kind) for m in matches]
    return spans


def _covered(start: int, end: int, text: str, masked: list[bool]) -> bool:
    return all(masked[i] for i in range(start, end) if text[i].isalnum())


def score(items: list[dict] | None = None) -> Scores:
    scores = Scores()
    for item in items or load():
        text = item["text"]
        gold = gold_spans(item)
        found = find_pii(text)
        masked = [False] * len(text)
        for span in found:
            masked[span.start : span.end] = [True] * (span.end - span.start)
        for start, end, kind in gold:
            scores.labelled[kind] += 1
            if _covered(start, end, text, masked):
                scores.found[kind] += 1
            else:
                scores.missed.append((kind, text[start:end]))
        for span in found:
            scores.detected[span.kind] += 1
            if any(s < span.end and span.start < e for s, e, _ in gold):
                scores.right[span.kind] += 1
            else:
                scores.wrong.append((span.kind, text[span.start : span.end]))
    return scores


def table(scores: Scores) -> str:
    lines = [
        "| entity | labelled | recall | precision (of the detector answering) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind in KIND_OF:
        detector = KIND_OF[kind]
        lines.append(
            f"| {kind} | {scores.labelled[kind]} | {scores.recall(kind):.3f} | "
            f"{scores.precision(detector):.3f} ({detector}) |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    result = score()
    print(table(result))
    print("missed:", result.missed)
    print("wrong:", result.wrong)
