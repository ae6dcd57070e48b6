"""CLI commands of the insights stage: ``insights ...`` (each one a call to ``engine.insights``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from feedback_engine.cli.common import CliState, emit, json_option, pass_state

CHANNELS = ["survey", "review", "social"]


@click.group("insights")
def insights() -> None:
    """What is emerging, what drives scores, whether fixes worked, who is at risk."""


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


since_option = click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (UTC, YYYY-MM-DD) looked at.")
until_option = click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (UTC, YYYY-MM-DD) looked at.")
channel_option = click.option("--channel", type=click.Choice(CHANNELS), help="Only items of this channel.")
segment_option = click.option("--segment", help="Only items of customers in this segment (after `ingest customers`).")


def _clean(text: Any) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in str(text or ""))


@insights.command("emerging")
@since_option
@until_option
@channel_option
@segment_option
@click.option(
    "--fdr", type=click.FloatRange(0.0001, 0.5), default=0.05, show_default=True, help="False discovery rate."
)
@json_option
@pass_state
def insights_emerging(
    state: CliState,
    since: datetime | None,
    until: datetime | None,
    channel: str | None,
    segment: str | None,
    fdr: float,
    as_json: bool,
) -> None:
    """Themes rising above their baseline share (volume or share negative), channel crossings, new themes.

    Default window: the 7 days up to the newest item, against the 28 days before it; each flag
    passes Benjamini-Hochberg at --fdr across every theme x day test and states its counts.
    """
    result = state.engine().insights.emerging(
        since=_day(since), until=_day(until), channel=channel, segment=segment, fdr=fdr
    )
    emit(result, as_json, _emerging_human)


def _emerging_human(r: dict[str, Any]) -> None:
    if r["window"] is None:
        click.echo("No dated items yet.")
        return
    w, b = r["window"], r["baseline"]
    click.echo(
        f"Window {w['since']}..{w['until']} ({r['window_items']} items) against {b['since']}..{b['until']} "
        f"({b['items']} items); {r['tests']} tests, {len(r['flags'])} flagged at FDR {r['fdr']:.0%}."
    )
    for f in r["flags"]:
        click.echo(f"  [{f['kind']}] {_clean(f['text'])}")
    for t in r["new_themes"]:
        click.echo(f"  [new_theme] {_clean(t['text'])}")
    if not r["flags"] and not r["new_themes"]:
        click.echo("  Nothing rises above its baseline.")


def register(main: click.Group) -> None:
    main.add_command(insights)
