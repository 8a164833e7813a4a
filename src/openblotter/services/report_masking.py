"""Reports stored before masking existed, masked when the portal opens.

Releases published before the stored report withheld raw values
(ingest.report_privacy) keep examples that quote them: a date of birth given as an
invalid value, a coordinate, a name. Their manifests are public, also for
withdrawn releases. Every time the portal opens, each stored report without the
mark of the masking is masked the way a new publish masks it, with the schema the
release was published with, and marked; a masked report is never read again, so
after the first start the pass is one query.
"""

from __future__ import annotations

from openblotter.domain.schema import TableSchema
from openblotter.ingest.report_privacy import MASKED_MARK, public_report
from openblotter.storage.catalog import Catalog


def mask_stored_reports(catalog: Catalog) -> int:
    """Mask every stored report not masked yet; returns how many were rewritten."""
    pending = catalog.reports_without(MASKED_MARK)
    for release_id, schema, report in pending:
        masked = public_report(report, TableSchema.from_descriptor(schema))
        with catalog.transaction() as conn:
            catalog.set_report(conn, release_id, masked)
    return len(pending)
