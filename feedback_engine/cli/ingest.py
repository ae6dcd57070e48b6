"""CLI commands of the ingest stage: ``ingest surveys|reviews|social``, ``status``, ``quarantine list``,
``export feedback``. Each parses its options, calls one Engine method and prints a table or JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from feedback_engine.cli.common import emit, json_option, pass_state, print_table, progress_for
from feedback_engine.ingest.loader import IngestReport

_PATH = click.Path(path_type=Path)


def register(main: click.Group) -> None:
    """Add this module's commands to the root group."""
    main.add_command(ingest)
    main.add_command(status)
    main.add_command(quarantine)
    main.add_command(export)


def _print_report(report: IngestReport) -> None:
    click.echo(f"Imported {report.source} ({report.kind}, {report.platform or 'mixed'}) as run {report.run_id}")
    rows = [
        ("added", report.added),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("quarantined", report.quarantined),
        ("skipped", report.skipped),
    ]
    for name, value in rows:
        click.echo(f"  {name:<12}{value:>8}")
    if report.nothing_new:
        click.echo(f"nothing new: all {report.unchanged} records were already imported")
    if report.quarantined:
        click.echo(f"See why with: feedback-engine quarantine list --run {report.run_id}")


def _emit_report(report: IngestReport, as_json: bool) -> None:
    emit(report.to_dict(), as_json, lambda _data: _print_report(report))


@click.group()
def ingest() -> None:
    """Import survey, review and social exports into the database."""


@ingest.command("surveys")
@click.argument("path", type=_PATH)
@click.option("--text-column", "text_columns", multiple=True, help="Free-text column to import (repeatable).")
@click.option("--id-column", help="Column with the response id.")
@click.option("--email-column", help="Column with the respondent's e-mail.")
@click.option("--date-column", help="Column with the submission date.")
@click.option("--nps-column", help="Column with the 0-10 likelihood-to-recommend score.")
@click.option("--csat-column", help="Column with the 1-5 satisfaction score.")
@click.option("--consent-column", help="Column saying whether the respondent may be contacted.")
@json_option
@pass_state
def ingest_surveys(
    state: Any,
    path: Path,
    text_columns: tuple[str, ...],
    id_column: str | None,
    email_column: str | None,
    date_column: str | None,
    nps_column: str | None,
    csat_column: str | None,
    consent_column: str | None,
    as_json: bool,
) -> None:
    """Import a survey export (Typeform, SurveyMonkey, Google Forms, Qualtrics, generic CSV/TSV/XLSX/JSON)."""
    report = state.engine().ingest.surveys(
        path,
        text_columns=list(text_columns) or None,
        id_column=id_column,
        email_column=email_column,
        date_column=date_column,
        nps_column=nps_column,
        csat_column=csat_column,
        consent_column=consent_column,
        progress=progress_for(as_json, "records"),
    )
    _emit_report(report, as_json)


@ingest.command("reviews")
@click.argument("path", type=_PATH)
@click.option(
    "--platform",
    type=click.Choice(["appstore", "googleplay", "trustpilot", "generic"]),
    help="Where the reviews come from (detected from the file when left out).",
)
@json_option
@pass_state
def ingest_reviews(state: Any, path: Path, platform: str | None, as_json: bool) -> None:
    """Import reviews: App Store RSS/Connect JSON, Google Play CSV, Trustpilot JSON, generic CSV/JSON."""
    report = state.engine().ingest.reviews(path, platform, progress=progress_for(as_json, "records"))
    _emit_report(report, as_json)


@ingest.command("social")
@click.argument("path", type=_PATH)
@click.option(
    "--platform",
    type=click.Choice(["twitter", "reddit"]),
    help="Where the mentions come from (detected from the file when left out).",
)
@json_option
@pass_state
def ingest_social(state: Any, path: Path, platform: str | None, as_json: bool) -> None:
    """Import social mentions: X/Twitter API v2 JSON Lines, Reddit JSON listings."""
    report = state.engine().ingest.social(path, platform, progress=progress_for(as_json, "records"))
    _emit_report(report, as_json)


@ingest.command("customers")
@click.argument("path", type=_PATH)
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=HEADER",
    help="Map a field to a column, e.g. --column email='Work Email' (repeatable). Fields: external_id, email,"
    " platform, handle, name, first_name, last_name, segment, plan, mrr, arr, currency, country, signup, churned.",
)
@click.option("--platform", help="Platform of the handles when the file has no platform column (e.g. twitter).")
@click.option("--currency", help="Currency code of amounts that name none (e.g. USD).")
@json_option
@pass_state
def ingest_customers(
    state: Any, path: Path, columns: tuple[str, ...], platform: str | None, currency: str | None, as_json: bool
) -> None:
    """Import a CRM/billing export of customers: segment, plan, MRR/ARR, country, signup and churn dates.

    Rows are matched to known customers by e-mail, else by platform and handle; unmatched rows add
    customers (never contactable by this import). Re-importing the same file changes nothing.
    """
    report = state.engine().ingest.customers(
        path, columns=list(columns), platform=platform, currency=currency, progress=progress_for(as_json, "rows")
    )
    _emit_report(report, as_json)


@ingest.command("auto")
@click.argument("path", type=_PATH)
@json_option
@pass_state
def ingest_auto(state: Any, path: Path, as_json: bool) -> None:
    """Import a file, or every export under a folder, detecting surveys / reviews / social per file.

    One file's failure never stops the others; the exit code is 1 when any file failed (each is
    listed with its whole reason), 0 when every file was imported.
    """
    reports = state.engine().ingest.files(path, progress=progress_for(as_json, "records"))
    failed = [r for r in reports if r.error]

    def human(_data: Any) -> None:
        rows = [
            {
                "source": r.source,
                "kind": r.kind,
                "platform": r.platform or "",
                "added": r.added,
                "updated": r.updated,
                "unchanged": r.unchanged,
                "quarantined": r.quarantined,
                "skipped": r.skipped,
                "result": "FAILED" if r.error else "ok",
            }
            for r in reports
        ]
        columns = ["source", "kind", "platform", "added", "updated", "unchanged", "quarantined", "skipped", "result"]
        print_table(rows, columns, empty="(no export files found)")

    emit([r.to_dict() for r in reports], as_json, human)
    for r in failed:
        click.echo(f"Error: {_printable(r.error or '')}", err=True)
    if failed:
        click.echo(f"{len(failed)} of {len(reports)} files failed; the others were imported.", err=True)
        raise SystemExit(1)


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)


def print_status(d: dict[str, Any]) -> None:
    click.echo(f"Database: {d['database']}")
    click.echo(f"Feedback items: {d['feedback']}")
    print_table(d["platforms"], ["channel", "platform", "items", "first", "last"], empty="(no feedback yet)")
    click.echo(f"Customers: {d['customers']} ({d['consenting_customers']} may be contacted)")
    click.echo(f"Edited versions kept: {d['edited_versions']}")
    click.echo(f"Quarantined records: {d['quarantined']}")
    click.echo(f"Ingest runs: {d['runs']} ({d['failed_runs']} failed)")
    last = d["last_ingest"]
    if last:
        click.echo(
            f"Last ingest: run {last['id']} {last['source']} at {last['finished_at'] or last['started_at']}"
            f" ({last['status']}: added {last['added']}, updated {last['updated']},"
            f" unchanged {last['unchanged']}, quarantined {last['quarantined']}, skipped {last['skipped']})"
        )
    if d.get("analysis_backlog"):
        click.echo(f"Analysis backlog: {d['analysis_backlog']} items not analysed yet (`feedback-engine analyze`)")
    outbox = {k: v for k, v in (d.get("outbox") or {}).items() if v}
    if outbox:
        click.echo("Outbox: " + ", ".join(f"{v} {k}" for k, v in outbox.items()))
    for src in d.get("sources") or []:
        when = src["last_pull_at"] or "never pulled"
        result = "" if not src["last_status"] else f" ({src['last_status']}: added {src['last_added'] or 0})"
        click.echo(f"Source {src['name']} ({src['kind']}): last pull {when}{result}")
    themes = d.get("themes")
    if themes and themes.get("english_items"):
        click.echo(
            f"Themes: {themes['active_themes']} active; {themes['confident_items']} of {themes['english_items']} "
            f"English items ({themes['coverage']:.0%}) have a confident theme"
        )
        general = themes.get("general") or {}
        if general:
            click.echo(
                f"No clear theme: {general.get('praise', 0)} general praise, {general.get('complaint', 0)} general "
                f"complaint, {general.get('neutral', 0)} neutral (they name no theme's subject)"
            )
        if themes.get("unfit_items"):
            click.echo(
                f"Since the last theme fit: {themes['new_items']} new items, {themes['unfit_items']} fit no theme well"
                " (`feedback-engine analyze --refit` rediscovers themes)"
            )


@click.command()
@json_option
@pass_state
def status(state: Any, as_json: bool) -> None:
    """What the database holds: items per channel and platform, quarantine, runs, last import."""
    data = state.engine().status()

    emit(data, as_json, print_status)


@click.group()
def quarantine() -> None:
    """Records that could not be imported, with where they were and why."""


@quarantine.command("list")
@click.option("--run", "run_id", type=int, help="Only this ingest run.")
@click.option("--limit", type=int, help="Show at most this many.")
@json_option
@pass_state
def quarantine_list(state: Any, run_id: int | None, limit: int | None, as_json: bool) -> None:
    """List quarantined records (newest run first)."""
    rows = state.engine().ingest.quarantine(run_id, limit=limit)
    emit(
        rows,
        as_json,
        lambda r: print_table(r, ["run_id", "source", "location", "reason", "raw"], empty="(nothing quarantined)"),
    )


@click.group()
def export() -> None:
    """Write data out of the database."""


@export.command("feedback")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv", show_default=True, help="Format."
)
@click.option("-o", "--output", "out", type=_PATH, help="File to write (stdout when left out; parquet needs it).")
@click.option("--since", help="Only items written on or after this date (YYYY-MM-DD).")
@click.option("--until", help="Only items written on or before this date (YYYY-MM-DD).")
@click.option("--channel", help="Only this channel (survey, review, social, support).")
@click.option("--source", help="Only items from this file (as imported) or API source name.")
@click.option("--theme", type=int, help="Only items in this theme (item or sentence level).")
@pass_state
def export_feedback(
    state: Any,
    fmt: str,
    out: Path | None,
    since: str | None,
    until: str | None,
    channel: str | None,
    source: str | None,
    theme: int | None,
) -> None:
    """One row per feedback item with customer, scores and (when analysed) sentiment, theme and the
    themes of its sentences; Parquet keeps real types (nullable integers, UTC timestamps)."""
    engine = state.engine()
    filters = {"since": since, "until": until, "channel": channel, "source": source, "theme": theme}
    if out is None:
        engine.ingest.export(fmt, sys.stdout if fmt != "parquet" else None, **filters)
        return
    count = engine.ingest.export(fmt, out, **filters)
    click.echo(f"Wrote {count} items to {out}", err=True)
