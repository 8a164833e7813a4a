"""The validation report as a file for a clerk: every column listed, values escaped."""

from __future__ import annotations

from pathlib import Path

from openblotter.domain.report import Problem, ValidationReport
from openblotter.services.report_files import report_html, report_markdown, write_report


def _report() -> ValidationReport:
    report = ValidationReport(source="export.csv", facts={"source_rows": 3, "format": "csv"})
    hostile = "<script>alert(1)</script> [x](javascript:alert(1)) | *"
    report.add(
        Problem("unmapped_value", f"'{hostile}' is not a code", "warning", 2, "race", hostile)
    )
    report.add(Problem("unmapped_value", "'Blace' is not a code", "warning", 3, "race", "Blace"))
    report.add(Problem("type_error", "'soon' is not a date", "error", 4, "incident_date", "soon"))
    return report


def test_values_from_the_file_cannot_inject_markup_or_links():
    page = report_html(_report().to_dict())
    assert "<script>" not in page and "<a " not in page  # the link stays text
    assert "&lt;script&gt;" in page


def test_every_column_and_value_is_listed_with_its_rows():
    text = report_markdown(_report().to_dict())
    assert "## type_error (error, 1 rows)" in text and "### Column incident_date" in text
    assert "### Column race" in text and "| Blace | 1 | 3 |" in text
    assert "cannot be published until the 1 error(s) are corrected" in text


def test_the_suffix_chooses_the_format(tmp_path: Path):
    data = _report().to_dict()
    for name, start in (
        ("r.html", "<!DOCTYPE html>"),
        ("r.md", "# Validation report"),
        ("r.json", "{"),
    ):
        write_report(tmp_path / name, data)
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(start)
