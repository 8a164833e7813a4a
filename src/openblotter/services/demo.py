"""Load the synthetic demo: every dataset family, one release per quarter, 2016-Q1 to 2026-Q3.

The demo's export files are generated (openblotter.demo) and published
through the normal pipeline with the demo's mapping files, as synthetic
datasets. Since 2021 the hate-crime releases are derived from Contacts by the
publish pipeline; the demo publishes the older ones from their own files,
before Contacts.

Loading is idempotent: releases already in the catalog are skipped, so a
second run does nothing and an interrupted run resumes. The datasets are
published by two worker processes (each regenerates the same seeded data),
which keeps two cores busy; each dataset's releases go in order, the next
file written while the current one is published.
"""

from __future__ import annotations

import multiprocessing
import queue
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openblotter.config import Settings
from openblotter.demo import DATASETS, DemoDataset, DemoFile, DemoSpan, DemoWorld
from openblotter.domain.errors import Conflict, InvalidInput, OpenBlotterError
from openblotter.domain.quarters import Quarter
from openblotter.services.portal import Portal
from openblotter.services.publishing import PublishRequest, publish

Say = Callable[[str], None]

#: Which datasets each worker publishes, in order: about the same work for each. Hate
#: crimes go before Contacts, whose releases from 2021 derive the later hate-crime ones.
GROUPS = (
    ("hate_crimes", "contacts", "community_demographics"),
    ("complaints", "use_of_force", "department_demographics", "community_engagement"),
)


@dataclass
class Outcome:
    """What one dataset's publishing did."""

    dataset: str
    published: int = 0
    rows: int = 0
    notes: dict[str, int] = field(default_factory=dict)


def load_demo(
    portal: Portal, progress: Say | None = None, *, span: DemoSpan | None = None, processes: int = 2
) -> str:
    """Publish the demo releases that are not in the catalog yet; returns a one-line summary.

    ``span`` (default 2016-Q1 to 2026-Q3) lets tests load a shorter history;
    ``processes=1`` publishes in this process. Raises Conflict when a dataset
    with a demo dataset's id holds real data.
    """
    say = progress or (lambda message: None)
    span = span or DemoSpan()
    missing = missing_releases(portal, span)
    total = sum(len(quarters) for quarters in missing.values())
    where = portal.settings.data_dir
    if total == 0:
        return (
            f"The demo is already loaded in {where} ({len(DATASETS)} synthetic datasets, "
            f"{span.first.label} to {span.last.label}); nothing to do."
        )
    started = time.perf_counter()
    period = f"{span.first.label} to {span.last.label}"
    say(
        f"Generating synthetic data for a Norman-sized city ({period}) and publishing "
        f"{total} releases; every dataset is marked synthetic…"
    )
    if processes > 1:
        outcomes = _in_workers(portal.settings, span, missing, say)
    else:
        world = DemoWorld.build(span)
        outcomes = [
            o for group in GROUPS for o in publish_group(portal, world, group, missing, say)
        ]
    seconds = time.perf_counter() - started
    return (
        f"Loaded the synthetic demo into {where}: {sum(o.published for o in outcomes)} releases "
        f"of {len(outcomes)} datasets in {seconds:.0f} s (hate crimes since 2021 derived from "
        "Contacts). Not real police data."
    )


def missing_releases(portal: Portal, span: DemoSpan) -> dict[str, list[Quarter]]:
    """For each demo dataset, the quarters of ``span`` not published yet.

    Raises Conflict when a dataset with a demo id exists and is not synthetic.
    """
    missing: dict[str, list[Quarter]] = {}
    for dataset in DATASETS:
        existing = portal.catalog.dataset(dataset.id)
        if existing is not None and not existing.synthetic:
            raise Conflict(
                f"Dataset '{dataset.id}' already exists in {portal.settings.data_dir} and "
                "holds real (not synthetic) data, so the demo will not publish into it. Load the "
                "demo into an empty data directory, for example: "
                "OPENBLOTTER_DATA_DIR=demo-data openblotter demo",
                detail={"dataset": dataset.id},
            )
        have = {r.label for r in portal.catalog.releases(dataset.id)} if existing else set()
        missing[dataset.id] = [q for q in dataset.quarters(span) if q.label not in have]
    return missing


def _in_workers(
    settings: Settings, span: DemoSpan, missing: dict[str, list[Quarter]], say: Say
) -> list[Outcome]:
    """Run each group in its own (spawned) process; relay their messages; re-raise a failure."""
    context = multiprocessing.get_context("spawn")
    messages: Any = context.Queue()
    groups = [g for g in GROUPS if any(missing[d] for d in g)]
    workers = [
        context.Process(target=_worker, args=(settings, span, g, missing, messages), daemon=True)
        for g in groups
    ]
    for worker in workers:
        worker.start()
    outcomes: list[Outcome] = []
    finished = 0
    try:
        while finished < len(workers):
            try:
                kind, payload = messages.get(timeout=1.0)
            except queue.Empty:
                if any(w.exitcode not in (None, 0) for w in workers):
                    raise RuntimeError(
                        "A demo worker process stopped unexpectedly. The releases it had "
                        "published stay in the catalog; run `openblotter demo` again "
                        "to resume."
                    ) from None
                continue
            if kind == "say":
                say(payload)
            elif kind == "done":
                outcomes += payload
                finished += 1
            else:
                raise InvalidInput(payload)
    finally:
        for worker in workers:
            if worker.is_alive() and finished < len(workers):
                worker.terminate()
            worker.join()
    return outcomes


def _worker(
    settings: Settings,
    span: DemoSpan,
    group: tuple[str, ...],
    missing: dict[str, list[Quarter]],
    messages: Any,
) -> None:
    """A worker process: regenerate the (seeded, identical) data and publish its group."""
    try:
        portal = Portal.open(settings)
        world = DemoWorld.build(span)
        outcomes = publish_group(portal, world, group, missing, lambda m: messages.put(("say", m)))
        messages.put(("done", outcomes))
    except OpenBlotterError as error:
        messages.put(("error", error.message))
    except Exception as error:  # noqa: BLE001 - sent to the parent, which reports it to a person
        messages.put(("error", f"The demo failed unexpectedly: {type(error).__name__}: {error}"))


def publish_group(
    portal: Portal,
    world: DemoWorld,
    group: tuple[str, ...],
    missing: dict[str, list[Quarter]],
    say: Say,
) -> list[Outcome]:
    """Publish the missing releases of the group's datasets, one dataset after another."""
    staging = Path(tempfile.mkdtemp(prefix="demo-", dir=portal.files.staging))
    try:
        by_id = {d.id: d for d in DATASETS}
        outcomes = [
            _publish_dataset(portal, world, by_id[name], missing[name], staging, say)
            for name in group
            if missing[name]
        ]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Said once the whole group is in: contacts add the hate-crime releases derived from them.
    for outcome in outcomes:
        say(_shown_line(portal, outcome))
    return outcomes


def _shown_line(portal: Portal, outcome: Outcome) -> str:
    """What the portal now shows of a dataset: releases (derived ones too) and current rows."""
    releases = [r for r in portal.catalog.releases(outcome.dataset) if r.status == "published"]
    derived = sum(r.source_name.startswith("derived from") for r in releases)
    rows = portal.release(outcome.dataset).row_count
    noted = ", ".join(f"{code} {count:,}" for code, count in sorted(outcome.notes.items()))
    return (
        f"  {outcome.dataset}: {len(releases)} releases"
        + (f" ({derived} derived from contacts)" if derived else "")
        + f", {rows:,} rows in the current release"
        + (f"; validation notes over all releases: {noted}" if noted else "")
    )


def _publish_dataset(
    portal: Portal,
    world: DemoWorld,
    dataset: DemoDataset,
    quarters: list[Quarter],
    staging: Path,
    say: Say,
) -> Outcome:
    """Publish one dataset's releases in order; each file is deleted once published."""
    outcome = Outcome(dataset.id)
    for file in _files_ahead(world, dataset, quarters, staging):
        result = publish(
            portal,
            PublishRequest(
                path=file.path,
                dataset_id=dataset.id,
                label=file.label,
                family=dataset.family,
                mapping=file.mapping,
                title=dataset.title,
                description=dataset.description,
                synthetic=True,
                actor="demo",
            ),
        )
        file.path.unlink()
        if result.release is None:
            raise InvalidInput(
                _failure(dataset, file.quarter, result.report.to_dict()),
                detail={"dataset": dataset.id, "release": file.label},
            )
        outcome.published += 1
        outcome.rows = result.release.row_count
        for code, count in result.report.counts().items():
            outcome.notes[code] = outcome.notes.get(code, 0) + count
    return outcome


def _files_ahead(
    world: DemoWorld, dataset: DemoDataset, quarters: list[Quarter], folder: Path
) -> Iterator[DemoFile]:
    """The export files in order, each next one written while the current one is published."""
    with ThreadPoolExecutor(max_workers=1) as writer:
        upcoming = writer.submit(world.write, dataset, quarters[0], folder)
        for following in [*quarters[1:], None]:
            current = upcoming.result()
            if following is not None:
                upcoming = writer.submit(world.write, dataset, following, folder)
            yield current


def _failure(dataset: DemoDataset, quarter: Quarter, report: dict[str, Any]) -> str:
    problems: list[dict[str, Any]] = report.get("problems", [])
    first = [f"{p['code']} ({p['count']})" for p in problems if p["severity"] == "error"][:5]
    return (
        f"The demo's {dataset.id} file for {quarter.label} did not validate ({', '.join(first)}). "
        "This is a bug in the demo generator; please report it with this message."
    )
