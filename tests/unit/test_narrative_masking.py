"""Free text is masked with real detectors, measured on labelled police narratives."""

import polars as pl
import pytest

from openblotter.ingest.privacy import mask_free_text
from openblotter.ingest.text_pii import mask_text
from tests.narrative_scoring import load, score

#: Floors the detectors must keep on the labelled corpus (figures in docs/privacy.md).
RECALL_FLOOR = {
    "NAME": 0.95,
    "PHONE": 0.95,
    "EMAIL": 0.95,
    "SSN": 0.95,
    "DOB": 0.95,
    "ADDRESS": 0.9,
    "PLATE": 0.9,
    "LICENCE": 0.9,
    "DATE": 0.95,
}
PRECISION_FLOOR = {
    "name": 0.85,
    "phone": 0.9,
    "email": 0.9,
    "ssn": 0.9,
    "date": 0.9,
    "address": 0.85,
    "plate": 0.85,
    "licence": 0.85,
}


@pytest.fixture(scope="module")
def scores():
    return score()


def test_the_corpus_holds_the_real_louisville_narratives_and_every_entity_type():
    items = load()
    assert sum(i["source"] == "louisville" for i in items) == 5
    assert {"written", "written-heldout"} <= {i["source"] for i in items}
    labelled = {kind for item in items for kind, _ in item["entities"]}
    assert labelled == set(RECALL_FLOOR)


@pytest.mark.parametrize("kind", sorted(RECALL_FLOOR))
def test_recall_per_entity_type(scores, kind):
    assert scores.recall(kind) >= RECALL_FLOOR[kind], [m for m in scores.missed if m[0] == kind]


@pytest.mark.parametrize("kind", sorted(PRECISION_FLOOR))
def test_precision_per_detector(scores, kind):
    assert scores.precision(kind) >= PRECISION_FLOOR[kind], [
        w for w in scores.wrong if w[0] == kind
    ]


def test_held_out_narratives_written_after_the_detectors_were_tuned():
    held_out = score([i for i in load() if i["source"] == "written-heldout"])
    assert held_out.recall("NAME") >= 0.95 and held_out.labelled["NAME"] >= 30


def test_a_witness_who_is_not_a_field_of_the_row_is_masked():
    masked = mask_text("Officer spoke with witness Maria Gonzalez, who saw the car leave.")
    assert "Maria" not in masked and "Gonzalez" not in masked
    assert masked == "Officer spoke with witness [name], who saw the car leave."


def test_short_name_parts_of_the_row_are_masked_as_written():
    row = pl.DataFrame({"subject_name": ["Kevin Ng"]})
    text = pl.Series("narrative", ["Ng said the Ng family van was parked at the bank."])
    masked = mask_free_text(text, row)[0]
    assert "Ng" not in masked
    assert "parked at the bank" in masked  # "ng" inside words is left alone


def test_every_number_left_is_hidden_too():
    assert mask_text("Sentenced to 7 years on case 2015-123456.") == (
        "Sentenced to # years on case ####-######."
    )
