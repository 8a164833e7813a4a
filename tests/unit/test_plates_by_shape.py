"""Licence plates found by their shape: in a column with any header, and in free text
where a vehicle is named but no "plate" or "tag" announces the number."""

from __future__ import annotations

import polars as pl

from openblotter.ingest.column_shapes import address_share, counted, name_share, plate_share
from openblotter.ingest.detectors import propose_treatments
from openblotter.ingest.infer import infer_schema
from openblotter.ingest.text_pii import mask_text


def _proposals(frame: pl.DataFrame):
    schema, _, cleaned = infer_schema(frame)
    return {p.field: p for p in propose_treatments(schema, cleaned)}


def test_a_column_of_plates_is_found_by_its_values_and_dropped() -> None:
    frame = pl.DataFrame(
        {
            "veh": ["ABC1234", "7XYZ123", "HJK-4521", "KLM 4482", "FGT902", "PQR8812"],
            "case_no": ["P190001", "P190002", "P190003", "P190004", "P190005", "P190006"],
            "zone": ["ZONE X4", "ZONE K3", "ZONE X4", "ZONE K3", "ZONE X4", "ZONE K3"],
        }
    )
    proposals = _proposals(frame)
    plate = proposals["veh"]
    assert plate.finding == "licence plates or vehicle numbers"
    assert plate.privacy.treatment == "drop"
    assert "6 of 6 values look like licence plates" in plate.evidence
    # record numbers share their letters; Rhode Island's "ZONE X4" is a district
    assert plate_share(counted(frame["case_no"])) == 0.0
    assert plate_share(counted(frame["zone"])) == 0.0
    assert not proposals["zone"].protects


def test_a_plate_in_a_sentence_that_names_a_vehicle_is_masked_without_the_word_plate() -> None:
    text = (
        "At 2215 hours a grey Toyota Camry, Ohio PKR4471, was stopped. Unit 3A114 and "
        "badge 4471A followed the car. Case CR20931 was opened."
    )
    masked = mask_text(text)
    assert "PKR" not in masked and "[plate]" in masked
    assert "Unit #A###" in masked and "badge ####A" in masked  # other numbers stay words
    assert "CR#####" in masked  # no vehicle in its sentence
    # no vehicle named: a plate-shaped token is left to the digit rule
    assert mask_text("He wrote ABC1234 on the form.") == "He wrote ABC#### on the form."
    # a word and a year is not a plate
    assert "[plate]" not in mask_text("HIS 2014 FORD was towed.")


def test_shapes_are_judged_over_distinct_values_and_weighed_by_their_rows() -> None:
    """Each distinct value is looked at once; the share is still of rows."""
    addresses = pl.Series(["123 N Main St"] * 3 + ["1200 BLOCK MAIN"] * 5 + ["77 Elm Ave"])
    assert address_share(counted(addresses)) == 4 / 9
    names = pl.Series(["Maria Gonzalez"] * 6 + ["TRAFFIC STOP"] * 2)
    assert name_share(counted(names)) == 6 / 8
    plates = pl.Series(["ABC1234", "7XYZ123", "HJK-4521", "abc1234", "FGT902", "OTHER"])
    assert plate_share(counted(plates)) == 5 / 6
