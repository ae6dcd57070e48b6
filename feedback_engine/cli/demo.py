"""``feedback-engine demo``: the main job on the shipped fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from feedback_engine.cli.common import json_option, pass_state, print_json, print_table, progress_for
from feedback_engine.cli.ingest import print_status
from feedback_engine.cli.themes import print_theme_table


@click.command("demo")
@click.option(
    "--fixtures",
    "fixtures_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of exports to use (default: the project's fixtures/).",
)
@click.option(
    "--emails",
    "emails_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-emails"),
    show_default=True,
    help="Where the dry-run emails (.eml) are written.",
)
@click.option("--no-analyze", is_flag=True, help="Only ingest (skip the NLP stage and the loop).")
@json_option
@pass_state
def demo(state: Any, fixtures_dir: Path | None, emails_dir: Path, no_analyze: bool, as_json: bool) -> None:
    """Ingest the fixtures, analyse them, triage themes and dry-run the "you said, we did" emails."""
    from feedback_engine.demo import run_demo

    report = run_demo(state.engine(), fixtures_dir, emails_dir, analyze=not no_analyze, progress=progress_for(as_json))
    if as_json:
        print_json(report.as_dict())
        return
    _print_human(report, state.db_path)


def _print_human(report: Any, db_path: Path) -> None:
    click.echo(f"== Ingest into {db_path} ==")
    rows = [
        {
            "source": _short(r.get("source")),
            "channel": r.get("kind"),
            "platform": r.get("platform"),
            "added": r.get("added"),
            "updated": r.get("updated"),
            "unchanged": r.get("unchanged"),
            "quarantined": r.get("quarantined"),
            "skipped": r.get("skipped"),
        }
        for r in report.ingest
    ]
    print_table(rows, ["source", "channel", "platform", "added", "updated", "unchanged", "quarantined", "skipped"])
    click.echo("")
    print_status(report.status)
    if report.analysis is None:
        return
    a = report.analysis
    click.echo("")
    click.echo("== Analyze ==")
    click.echo(
        f"analysed {a.get('analysed', 0)} items ({a.get('sentences', 0)} sentences), "
        f"other language {a.get('other_language', 0)}"
    )
    click.echo("")
    click.echo("== Themes (triage) ==")
    print_theme_table(report.themes)
    if report.action:
        act = report.action
        click.echo("")
        click.echo("== Close the loop ==")
        click.echo(f"action {act.get('id')} '{act.get('title')}' is {act.get('status')}")
        n = report.notify or {}
        click.echo(f"{len(n.get('files', []))} emails it would send are in {report.emails_dir}")


def _short(source: str | None) -> str:
    """``surveys/typeform_nps.csv`` rather than the whole absolute path."""
    if not source:
        return ""
    path = Path(source)
    return f"{path.parent.name}/{path.name}"


def register(main: click.Group) -> None:
    main.add_command(demo)
