"""Synthetic demo data: a Norman-sized city and police department, 2016-Q1 to 2026-Q3.

A deterministic, seeded generator of the seven dataset families as the
department's systems would export them every quarter (cumulative files, old
records corrected between releases, codes and layouts that drift), with the
mapping files that read them. Nothing here is real police data.

- :func:`generate_demo` writes every export file of a span into a folder;
- :class:`DemoWorld` generates the records once and cuts any release from them;
- :data:`DATASETS` lists the datasets, their files and mappings.
"""

from openblotter.demo.common import DEMO_SEED, FIRST_QUARTER, LAST_QUARTER, DemoSpan
from openblotter.demo.plan import DATASETS, NOTICE, DemoDataset, DemoFile, DemoWorld, generate_demo

__all__ = [
    "DATASETS",
    "DEMO_SEED",
    "FIRST_QUARTER",
    "LAST_QUARTER",
    "NOTICE",
    "DemoDataset",
    "DemoFile",
    "DemoSpan",
    "DemoWorld",
    "generate_demo",
]
