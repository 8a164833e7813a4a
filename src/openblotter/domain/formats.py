"""The download formats of a query's rows: one entry each, read by every door.

The rows API (``rows.<name>``), the pages' download links, DCAT-US and JSON-LD
distributions and the exporters' media types all come from :data:`EXPORT_FORMATS`.
Adding a format is one entry here and its writer in ``storage/exports.py``
(a test checks each entry has one).
"""

from __future__ import annotations

from dataclasses import dataclass

from openblotter.domain.errors import InvalidInput

#: Data rows an XLSX sheet holds (Excel's 1,048,576 rows less the header).
XLSX_MAX_ROWS = 1_048_575


@dataclass(frozen=True)
class ExportFormat:
    """A download format of a query's rows."""

    #: The name in URLs (``rows.csv``) and the ``format`` parameter.
    name: str
    #: The response's Content-Type (with its parameters, e.g. ``charset``).
    media_type: str
    #: The file name's extension, without the dot.
    extension: str
    #: The format's short name, as DCAT ``format`` gives it.
    title: str
    #: The words people know it by, for a download link.
    label: str
    #: Written as rows arrive, with flat memory (no whole-file buffer).
    streams: bool = True
    #: Most rows the format holds (None: no limit).
    max_rows: int | None = None

    @property
    def bare_media_type(self) -> str:
        """The media type without parameters (DCAT ``mediaType``, JSON-LD ``encodingFormat``)."""
        return self.media_type.split(";")[0]

    def holds(self, row_count: int | None) -> bool:
        """Whether ``row_count`` rows fit (unknown counts fit)."""
        return self.max_rows is None or row_count is None or row_count <= self.max_rows


EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("csv", "text/csv; charset=utf-8", "csv", "CSV", "CSV"),
    ExportFormat("ndjson", "application/x-ndjson", "ndjson", "NDJSON", "NDJSON"),
    ExportFormat("parquet", "application/vnd.apache.parquet", "parquet", "Parquet", "Parquet"),
    ExportFormat(
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        "XLSX",
        "Excel (XLSX)",
        max_rows=XLSX_MAX_ROWS,
    ),
)
#: The stored release file (``file.parquet``) is Parquet.
RELEASE_FILE_FORMAT = next(f for f in EXPORT_FORMATS if f.name == "parquet")


def export_format(name: str) -> ExportFormat:
    """The format called ``name``; InvalidInput listing the formats otherwise."""
    for fmt in EXPORT_FORMATS:
        if fmt.name == name:
            return fmt
    names = [f.name for f in EXPORT_FORMATS]
    raise InvalidInput(
        f"'{name}' is not a download format; use one of {', '.join(names)}.",
        detail={"parameter": "format", "allowed": names},
    )


def format_names() -> list[str]:
    """The formats' names, in the order links list them."""
    return [f.name for f in EXPORT_FORMATS]
