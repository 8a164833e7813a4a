"""What a web process loads before it serves: the analysis libraries
(``server_preload_analysis``) and the serving copies of the current releases.

The statistics libraries are imported on first use, which keeps a process that
only publishes or streams small. A server that waits for its first analysis to
import them makes that request, and every request beside it, wait: importing
SciPy and statsmodels is seconds of work under the interpreter's lock (7.3 s
on a loaded 2-core machine), and under 16 clients the analyses that queued
behind it passed their time limit (504). A server imports them before it
answers anything instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openblotter.services.portal import Portal


def load_analysis_libraries() -> None:
    """Import every analysis module (and SciPy, statsmodels, patsy, astral with them)."""
    from scipy.optimize import linprog  # noqa: F401 - imported by the audits on first use
    from scipy.stats import binomtest  # noqa: F401 - imported by outcome tests on first use

    import openblotter.analysis.benchmark
    import openblotter.analysis.darkness
    import openblotter.analysis.funnel
    import openblotter.analysis.intervals
    import openblotter.analysis.linked_tables
    import openblotter.analysis.outcome_tests
    import openblotter.analysis.recording
    import openblotter.analysis.suppression  # noqa: F401


def prepare_serving_copies(portal: Portal) -> None:
    """Start building the DuckDB copies of every current release in the background, so
    that the first queries of a fresh server do not read the Parquet (storage/serving.py)."""
    if not portal.settings.query_serving_copies:
        return
    current = portal.catalog.current_releases().values()
    portal.query_engine().prepare([portal.release_path(release) for release in current])
