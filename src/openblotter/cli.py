"""The ``openblotter`` command: a thin wrapper over the services.

Errors are printed for people (what, where, what to do), never as a
traceback; set OPENBLOTTER_DEBUG=1 to see one for an unexpected failure.
"""

from __future__ import annotations

import os

#: polars' allocator (jemalloc), read when polars loads; a user's own setting wins.
#: One arena, and freed pages kept for 200 ms: polars' default (8 arenas here, pages kept
#: 0.5 + 1 s) adds up to ~55 MB to the peak of a 1,000,000-row publish; returning every freed
#: page at once (0 ms) made 490,000 page faults there (1.2 s of the kernel's time) and
#: this 115,000 (0.4 s). 10,000,000 rows: 25.8 -> 20.1 s, peak 422 -> 423 MiB.
POLARS_MALLOC_CONF = "narenas:1,dirty_decay_ms:200,muzzy_decay_ms:0"
os.environ.setdefault("_RJEM_MALLOC_CONF", POLARS_MALLOC_CONF)

import gc  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, Any  # noqa: E402

import click  # noqa: E402
import typer  # noqa: E402
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402
from typer.core import TyperGroup  # noqa: E402

from openblotter.cli_console import make_console  # noqa: E402
from openblotter.cli_init import init_command  # noqa: E402
from openblotter.config import Settings, load_settings  # noqa: E402
from openblotter.domain.errors import OpenBlotterError  # noqa: E402
from openblotter.services import releases as release_service  # noqa: E402
from openblotter.services.checking import check as check_publish  # noqa: E402
from openblotter.services.portal import Portal  # noqa: E402
from openblotter.services.publishing import PublishRequest, PublishResult, publish  # noqa: E402
from openblotter.services.report_files import unit, write_report  # noqa: E402

app = typer.Typer(
    name="openblotter",
    help="OpenBlotter: publish and serve a police department's open data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = make_console()
errors = make_console(stderr=True)
app.command("init")(init_command)

#: How many examples of each problem the terminal shows (the JSON report keeps more).
SHOWN_PER_PROBLEM = 10


def _portal(**overrides: Any) -> Portal:
    return Portal.open(load_settings(**overrides))


class _Bar:
    """Rich progress bar over the bytes of the file being read, plus stage names."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("Reading", total=None)

    def stage(self, name: str) -> None:
        self.progress.update(self.task, description=name)

    def advance(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)


@app.command("publish")
def publish_command(
    file: Annotated[Path, typer.Argument(help="The export to publish (CSV or XLSX).")],
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset id, e.g. use_of_force.")],
    release: Annotated[str, typer.Option("--release", help="Quarter label, e.g. 2026-Q3.")],
    family: Annotated[
        str | None, typer.Option(help="Dataset family (see `openblotter families`).")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Mapping file of the source layout (TOML).")
    ] = None,
    schema: Annotated[
        Path | None, typer.Option("--schema", help="Frictionless Table Schema (JSON).")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title of a new dataset.")] = None,
    sheet: Annotated[
        str | None, typer.Option(help="XLSX sheet name (default: the first with data).")
    ] = None,
    allow_invalid: Annotated[
        bool,
        typer.Option(
            help="Store cells that do not fit their type as blank (counted in the report)."
        ),
    ] = False,
    accept_layout_change: Annotated[
        bool, typer.Option(help="Accept a changed column layout and infer the schema anew.")
    ] = False,
    accept_privacy: Annotated[
        bool,
        typer.Option(
            help="Accept the proposed privacy treatment of each column of a new layout "
            "(publish once without it to read the proposal)."
        ),
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Also write the full validation report here: .html or .md for a person, "
            "any other name for JSON."
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Dry run: validate, show the schema, each column's privacy treatment and a "
            "sample of what would be public; store nothing.",
        ),
    ] = False,
) -> None:
    """Validate, scrub and publish FILE as a dataset's release for a quarter."""
    portal = _portal()
    request = PublishRequest(
        path=file,
        dataset_id=dataset,
        label=release,
        family=family,
        mapping=mapping,
        schema_file=schema,
        title=title,
        sheet=sheet,
        allow_invalid=allow_invalid,
        accept_layout_change=accept_layout_change,
        accept_privacy=accept_privacy,
    )
    columns = [TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn()]
    if check:
        with Progress(*columns, console=errors, transient=True) as bar:
            dry_run = check_publish(portal, request, _Bar(bar))
        _print_check(dry_run.to_dict(), dry_run.report.to_dict(), report)
        raise typer.Exit(0 if dry_run.report.ok else 1)
    with Progress(*columns, console=errors, transient=True) as bar:
        result = publish(portal, request, _Bar(bar))
    if report:
        write_report(report, result.report.to_dict())
    _print_publish(result)
    if result.release is None:
        raise typer.Exit(1)


def _print_publish(result: PublishResult) -> None:
    if result.schema_inferred:
        _print_schema(result)
    _print_report(result.report.to_dict())
    if result.release is None:
        errors.print(
            f"[bold red]Not published:[/] {result.report.error_count} error(s) above. "
            "Nothing was stored; the current release is unchanged."
        )
        return
    r = result.release
    console.print(
        f"[bold green]Published[/] {r.dataset_id} {r.label}: {r.row_count:,} rows, "
        f"sha256 {r.checksum[:16]}…"
    )
    for role, table in result.report.facts.get("people", {}).items():
        console.print(
            f"[bold green]Published[/] {table['dataset']} {r.label}: {table['rows']:,} {role}"
        )
    log = result.changelog
    if log.get("previous"):
        console.print(
            f"Since {log['previous']}: {log['added']:,} added, {log['removed']:,} removed, "
            f"{log['changed']:,} changed."
        )


def _print_schema(result: PublishResult) -> None:
    table = Table(title="Inferred schema (new dataset)")
    for column in ("field", "type", "categorical", "privacy", "source header"):
        table.add_column(column)
    for f in result.schema.fields:
        privacy = "withheld (free text)" if f.free_text and not f.privacy else f.privacy_label()
        table.add_row(f.name, f.type, "yes" if f.categorical else "", privacy or "", f.title or "")
    key = ", ".join(result.schema.primary_key) or "none found (diffs compare whole rows)"
    console.print(table)
    console.print(f"Primary key: {key}")
    if any(f.free_text for f in result.schema.fields):
        console.print(
            "Free-text fields are not published unless OPENBLOTTER_PUBLISH_FREE_TEXT allows "
            "them; allowed ones are masked for personal details."
        )


def _print_check(dry_run: dict[str, Any], report: dict[str, Any], path: Path | None) -> None:
    """A dry run: the schema with each column's privacy treatment, the report, a public sample."""
    table = Table(title="Schema and privacy (dry run: nothing is stored)")
    for column in ("field", "type", "source header", "privacy", "published as"):
        table.add_column(column)
    for c in dry_run["columns"]:
        kind = c["type"] + (" (not recorded)" if not c["recorded"] else "")
        public = c["published_as"] if c["public"] else "not published"
        table.add_row(c["name"], kind, c["source"] or "", c["privacy"], public)
    console.print(table)
    _print_report(report)
    rows = dry_run["sample"]
    if rows:  # one line per column, one column per row: readable however wide the file is
        sample = Table(title=f"The first {len(rows)} rows as they would be public")
        for heading in ["column", *(f"row {n}" for n in range(1, len(rows) + 1))]:
            sample.add_column(heading, overflow="fold")
        for name in rows[0]:
            sample.add_row(name, *("" if r[name] is None else str(r[name]) for r in rows))
        console.print(sample)
    for table in dry_run["people"]:
        console.print(
            f"Would also publish {table['dataset']} ({table['role']}): {table['rows']:,} rows."
        )
    if dry_run["counts_only"]:
        console.print("This dataset is published only as counts: no row would be public.")
    if path:
        write_report(path, report, dry_run)
        console.print(f"Report written to {path}.")
    verdict = "would be published" if report["ok"] else "would NOT be published (errors above)"
    console.print(f"Dry run: the file {verdict}. Nothing was stored.")


def _print_report(report: dict[str, Any]) -> None:
    facts = report.get("facts", {})
    console.print(
        f"Read {facts.get('source_rows', '?'):,} rows from {report['source']} "
        f"({facts.get('format')}, {facts.get('encoding') or 'xlsx'}"
        + (f", header on row {facts['header_row']}" if facts.get("header_row", 1) != 1 else "")
        + ")."
    )
    for name, count in (facts.get("blank_coded_as_unknown") or {}).items():
        console.print(f"Blank {name} in {count:,} rows is published as Unknown.", highlight=False)
    if facts.get("not_recorded"):
        console.print(
            "Not recorded by this agency (blank on every row): " + ", ".join(facts["not_recorded"]),
            highlight=False,
        )
    if not report["problems"]:
        console.print(
            "Validation: no problems of the kinds checked (types, codes, keys, required "
            "values, spreadsheet damage)."
        )
        return
    counts = Table(
        title=f"Validation: {report['errors']} error(s), {report['warnings']} warning(s)"
    )
    for column in ("problem", "severity", "rows", "columns"):
        counts.add_column(column)
    for group in report["problems"]:
        names = ", ".join(str(c["column"]) for c in group.get("columns", []) if c["column"])
        counts.add_row(group["code"], group["severity"], f"{group['count']:,}", names)
    console.print(counts)
    for group in report["problems"]:
        console.print(
            f"[bold]{group['code']}[/] ({group['severity']}, {group['count']:,} {unit(group)}):"
        )
        if unit(group) == "columns":  # one line each: the column and what to do
            for example in group["examples"]:
                console.print(f"  {example['message']}", highlight=False, markup=False)
            continue
        for column in group.get("columns", []):
            _print_column(group, column)


def _print_column(group: dict[str, Any], column: dict[str, Any]) -> None:
    """One column's examples of one problem: up to SHOWN_PER_PROBLEM, then how many more."""
    name = column["column"]
    examples = [e for e in group["examples"] if e.get("column") == name]
    if name:
        distinct = column.get("distinct_values")
        what = f"{distinct:,} distinct value(s) in " if distinct is not None else ""
        console.print(f"  column {name}: {what}{column['count']:,} rows", highlight=False)
    for example in examples[:SHOWN_PER_PROBLEM]:
        where = f"row {example['row']}" if example.get("row") is not None else "file"
        console.print(f"    {where}: {example['message']}", highlight=False, markup=False)
    hidden = max(len(examples) - SHOWN_PER_PROBLEM, 0) + column.get("more", 0)
    if hidden:
        console.print(
            f"    … and {hidden:,} more {column.get('more_unit', 'values')} in this column "
            "(--report FILE.html lists every distinct value, up to 100 a column).",
            highlight=False,
        )


@app.command("releases")
def releases_command(dataset: Annotated[str, typer.Argument(help="Dataset id.")]) -> None:
    """List every release of a dataset."""
    portal = _portal()
    current = portal.dataset(dataset).current_release_id
    table = Table(title=f"Releases of {dataset}")
    for column in ("label", "status", "rows", "period", "published", "source", "changes"):
        table.add_column(column)
    for r in release_service.list_releases(portal, dataset):
        log = r.changelog
        changes = (
            f"+{log.get('added', 0):,} -{log.get('removed', 0):,} ~{log.get('changed', 0):,}"
            if log.get("previous")
            else "first"
        )
        status = r.status + (" (current)" if r.id == current else "")
        period = f"{r.period_start or '?'} – {r.period_end}"
        published = f"{r.published_at:%Y-%m-%d %H:%M}" if r.published_at else ""
        table.add_row(
            r.label, status, f"{r.row_count:,}", period, published, r.source_name, changes
        )
    console.print(table)


@app.command("diff")
def diff_command(
    dataset: Annotated[str, typer.Argument(help="Dataset id.")],
    old: Annotated[str, typer.Argument(help="Older release label.")],
    new: Annotated[str, typer.Argument(help="Newer release label.")],
    show: Annotated[int, typer.Option(help="Rows of each kind of change to show.")] = 5,
) -> None:
    """Rows added, removed and changed between two releases (by primary key)."""
    portal = _portal()
    summary = release_service.diff_releases(portal, dataset, old, new)
    key = ", ".join(summary.key) or "whole rows (no primary key)"
    console.print(f"{dataset}: {old} -> {new}, compared by {key}")
    console.print(
        f"  added {summary.added:,}   removed {summary.removed:,}   changed {summary.changed:,}"
        f"   unchanged {summary.unchanged:,}"
    )
    for name, count in sorted(summary.changed_fields.items(), key=lambda kv: -kv[1]):
        console.print(f"    {name}: changed in {count:,} rows")
    for change in release_service.DIFF_CHANGES:
        rows = release_service.diff_releases(
            portal, dataset, old, new, change=change, limit=show
        ).rows
        for row in rows:
            console.print(
                f"  {change}: {json.dumps(row, default=str)}", highlight=False, markup=False
            )


@app.command("withdraw")
def withdraw_command(
    dataset: Annotated[str, typer.Argument(help="Dataset id.")],
    label: Annotated[str, typer.Argument(help="Release label to withdraw.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Withdraw a release; if it was current, the latest remaining one becomes current."""
    current = release_service.withdraw(_portal(), dataset, label, reason=reason)
    after = current.label if current else "none (no published release left)"
    console.print(f"Withdrew {dataset} {label}. Current release: {after}.")


@app.command("rollback")
def rollback_command(
    dataset: Annotated[str, typer.Argument(help="Dataset id.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Withdraw the current release and make the previous one current again."""
    previous = release_service.rollback(_portal(), dataset, reason=reason)
    console.print(f"Rolled back {dataset}: current release is {previous.label} again.")


@app.command("repair")
def repair_command() -> None:
    """Derive views a stopped publish left behind their source (hate crimes from contacts)."""
    from openblotter.services.derivation_repair import complete_derivations

    portal = _portal()
    stored = complete_derivations(portal)
    if not stored:
        console.print("Nothing to repair: every derived view is in step with its source.")
    for item in stored:
        made, current = item.release, portal.release(item.release.dataset_id).label
        source = made.source_name.removeprefix("derived ")
        console.print(f"Derived {made.dataset_id} {made.label} {source}; current: {current}.")


@app.command("purge")
def purge_command(
    dataset: Annotated[str, typer.Argument(help="Dataset id.")],
    label: Annotated[str, typer.Argument(help="Release label to purge.")],
    reason: Annotated[str, typer.Option(help="Why (shown on its public tombstone).")] = "",
    release_id: Annotated[
        int | None, typer.Option("--id", help="Which release, when several have this label.")
    ] = None,
) -> None:
    """Remove a release that should never have been public, for good (a tombstone stays)."""
    from openblotter.services.purge import purge

    result = purge(_portal(), dataset, label, reason=reason, release_id=release_id)
    for release in result.purged:
        console.print(f"Purged {release.dataset_id} {release.label}.")
    console.print(
        f"Files deleted: {len(result.files_deleted)}; kept because another release holds the "
        f"same bytes: {len(result.files_kept)}."
    )
    for name, current in result.current.items():
        console.print(f"Current release of {name}: {current or 'none'}.")


@app.command("serve")
def serve_command(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Web processes over the same data directory (default 1; see docs/operations.md).",
        ),
    ] = 1,
) -> None:
    """Serve the portal: pages, JSON API, downloads (needs no salt: serving hashes nothing)."""
    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    _serve(load_settings(**overrides), workers)


def _serve(settings: Settings, workers: int = 1) -> None:
    """Serve (no salt needed: serving hashes nothing); says where only once the port is bound."""
    from openblotter.web.server import serve

    serve(settings, say=console.print, workers=workers)


@app.command("demo")
def demo_command(
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after loading.")] = True,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Load the synthetic demo data (when not loaded yet) and serve it."""
    from openblotter.services.demo import load_demo

    overrides: dict[str, Any] = {"demo": True}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    settings = load_settings(**overrides)
    portal = Portal.open(settings)
    loaded = load_demo(portal, progress=lambda message: console.print(message))
    console.print(loaded)
    if serve:
        _serve(settings)


class _AnalyzeGroup(TyperGroup):
    """The ``analyze`` commands, one per analysis of the registry, made when the group is
    first used: importing every analysis takes ~0.4 s that a publish does not need."""

    def _made(self) -> None:
        if self.commands:
            return
        from openblotter.cli_analysis import add_commands

        commands = typer.Typer()
        add_commands(commands, _portal, console)
        group = typer.main.get_command(commands)
        self.commands.update(getattr(group, "commands", {}))

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._made()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._made()
        return super().get_command(ctx, cmd_name)


analyze_app = typer.Typer(
    cls=_AnalyzeGroup, help="Measure police actions against the community they serve."
)
app.add_typer(analyze_app, name="analyze")


@app.command("families")
def families_command() -> None:
    """List the dataset families and their fields."""
    from openblotter.services.families import families

    for family in families():
        table = Table(title=f"{family.name}: {family.title}", title_justify="left")
        for column in ("field", "type", "privacy", "description"):
            table.add_column(column)
        for f in family.schema.fields:
            table.add_row(f.name, f.type, f.privacy_label() or "", f.description)
        console.print(table)


def main() -> None:
    """Entry point: run the app, turning portal errors into plain messages."""
    try:
        app()
    except OpenBlotterError as error:
        errors.print(f"[bold red]Error:[/] {error.message}", highlight=False)
        sys.exit(2)
    except Exception as error:  # noqa: BLE001 - the last line of defence for people, not code
        if os.environ.get("OPENBLOTTER_DEBUG"):
            raise
        errors.print(
            f"[bold red]Unexpected error:[/] {type(error).__name__}: {error}. "
            "Nothing was changed unless a message above says so. Run again with "
            "OPENBLOTTER_DEBUG=1 for the details, and please report it."
        )
        sys.exit(70)
    finally:
        # The command is done and the process ends with it. One collection closes what is
        # left open (the catalog's connections: SQLite folds its write-ahead log back into
        # the file), and what remains is frozen, which the interpreter's teardown then
        # passes over: 1,000,000-row publish, exit 0.22 -> 0.07 + 0.045 s.
        gc.collect()
        gc.freeze()


if __name__ == "__main__":
    main()
