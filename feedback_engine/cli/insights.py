"""CLI commands of the insights stage: ``insights ...`` (each one a call to ``engine.insights``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from feedback_engine.cli.common import CliState, emit, json_option, pass_state, print_table

CHANNELS = ["survey", "review", "social", "support"]


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


@insights.command("drivers")
@click.option(
    "--score", type=click.Choice(["nps", "csat", "rating"]), default="nps", show_default=True, help="Which score."
)
@since_option
@until_option
@channel_option
@segment_option
@json_option
@pass_state
def insights_drivers(
    state: CliState,
    score: str,
    since: datetime | None,
    until: datetime | None,
    channel: str | None,
    segment: str | None,
    as_json: bool,
) -> None:
    """Which themes move NPS, CSAT or the rating: leave-one-out impact and an OLS model, with 95% intervals.

    A theme is flagged a driver when its OLS effect passes Benjamini-Hochberg at 5% across the
    modelled themes (30+ responses each); by segment when customers carry one.
    """
    result = state.engine().insights.drivers(
        score, since=_day(since), until=_day(until), channel=channel, segment=segment
    )
    emit(result, as_json, _drivers_human)


def _interval(ci: list[float] | None) -> str:
    return "" if not ci else f"{ci[0]:.1f}..{ci[1]:.1f}"


def _driver_rows(block: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": t["theme_id"],
            "theme": t["label"],
            "n": t["responses"],
            "score": t["score_theme"],
            "loo": t["loo_impact"],
            "loo 95%": _interval(t["loo_ci"]),
            "ols": t["ols_effect"],
            "ols 95%": _interval(t["ols_ci"]),
            "driver": "yes" if t["driver"] else "",
        }
        for t in block["themes"]
    ]


def _drivers_human(r: dict[str, Any]) -> None:
    o = r["overall"]
    if not o["n"]:
        click.echo(f"No responses with a {r['score']} score.")
        return
    click.echo(f"{r['score'].upper()} {o['score']:.1f} (95% CI {_interval(o['ci'])}) over {o['n']} responses.")
    columns = ["id", "theme", "n", "score", "loo", "loo 95%", "ols", "ols 95%", "driver"]
    print_table(_driver_rows(r), columns, empty="(no themed responses)")
    for d in r["drivers"]:
        click.echo(f"Driver: {_clean(d['text'])}")
    click.echo(f"Rule: {r['rule']}.")
    for seg, block in (r.get("by_segment") or {}).items():
        click.echo(f"Segment {_clean(seg)}: {block['responses']} responses")
        for d in block["drivers"]:
            click.echo(f"  Driver: {_clean(d['text'])}")


@insights.command("impact")
@click.argument("action_id", type=int, required=False)
@click.option(
    "--window-days",
    type=click.IntRange(1, 365),
    default=28,
    show_default=True,
    help="Days before and after the ship date.",
)
@channel_option
@segment_option
@json_option
@pass_state
def insights_impact(
    state: CliState, action_id: int | None, window_days: int, channel: str | None, segment: str | None, as_json: bool
) -> None:
    """Did each shipped action (or ACTION) work: its themes' share, complaints, share negative and NPS
    before vs after the ship date, against the other themes, with 95% intervals and a verdict."""
    result = state.engine().insights.impact(action_id, window_days=window_days, channel=channel, segment=segment)
    emit(result, as_json, _impact_human)


def impact_lines(a: dict[str, Any]) -> list[str]:
    """The lines of one action's impact (also shown by ``actions show``)."""
    lines = [f"Impact: {a['verdict']}"]
    if "before" not in a:
        return lines
    b, f = a["before"], a["after"]
    r = a["complaints_vs_others"]
    if r.get("ratio") is not None:
        lo, hi = r["ci"]
        lines.append(
            f"  complaints vs other themes: x{r['ratio']:.2f} (95% CI {lo:.2f}..{hi:.2f}); complaints "
            f"{b['complaints']} -> {f['complaints']}, other themes' items {b['other_theme_items']} -> {f['other_theme_items']}"
        )
    vb, va = a["volume_share"]["before"], a["volume_share"]["after"]
    if vb["share"] is not None and va["share"] is not None:
        lines.append(
            f"  volume share: {vb['share']:.1%} of {vb['n']} -> {va['share']:.1%} of {va['n']} items "
            f"(95% CI {va['ci'][0]:.1%}..{va['ci'][1]:.1%}; {f['days']} days since)"
        )
    v = a.get("volume_vs_others") or {}
    if v.get("ratio") is not None:
        lines.append(f"  volume vs other themes: x{v['ratio']:.2f} (95% CI {v['ci'][0]:.2f}..{v['ci'][1]:.2f})")
    s = a["share_negative_did"]
    if s.get("did") is not None:
        lines.append(
            f"  share negative: {s['members'][0]:.0%} -> {s['members'][1]:.0%} (others {s['others'][0]:.0%} -> "
            f"{s['others'][1]:.0%}); difference in differences {s['did'] * 100:+.1f} points "
            f"(95% CI {s['ci'][0] * 100:+.1f}..{s['ci'][1] * 100:+.1f}; n {'/'.join(str(x) for x in s['n'])})"
        )
    n = a["nps_did"]
    if n.get("did") is not None:
        lines.append(
            f"  NPS: {n['members'][0]:.0f} -> {n['members'][1]:.0f} (others {n['others'][0]:.0f} -> {n['others'][1]:.0f}); "
            f"difference in differences {n['did']:+.1f} (95% CI {n['ci'][0]:+.1f}..{n['ci'][1]:+.1f}; "
            f"n {'/'.join(str(x) for x in n['n'])})"
        )
    return lines


def _impact_human(r: dict[str, Any]) -> None:
    if not r["actions"]:
        click.echo("No shipped actions yet.")
    for a in r["actions"]:
        click.echo(f"Action {a['action_id']}: {_clean(a['title'])} (shipped {a['shipped_at'] or '-'})")
        for line in impact_lines(a):
            click.echo(_clean(line))


@click.command("alerts")
@click.option(
    "--send", is_flag=True, help="Record the current flags and send each due alert once (holds a lock; safe from cron)."
)
@json_option
@pass_state
def alerts(state: CliState, send: bool, as_json: bool) -> None:
    """Alert staff to emerging themes: a digest email (FEEDBACK_ENGINE_ALERT_TO) and/or a webhook POST.

    Without --send, lists what is flagged now and what was already sent; changes nothing.
    Exit codes: 0 done; 2 a setting is missing; 3 another run holds the lock; 75 a send failed
    (its alerts stay due for the next run).
    """
    report = state.engine().insights.alerts(send=send)
    emit(report.as_dict(), as_json, _alerts_human)
    if report.stopped:
        from feedback_engine.loop.delivery import DeliveryDeferred

        raise DeliveryDeferred(_clean(report.stopped))


def _alerts_human(r: dict[str, Any]) -> None:
    if r["mode"] == "preview":
        click.echo(f"{r['found']} flags now, {r['new']} not yet recorded (alerts --send sends them).")
        for a in r["alerts"]:
            seen = "" if a.get("recorded") is None else f" (email {a['recorded'][0]}, webhook {a['recorded'][1]})"
            click.echo(f"  [{a['kind']}] {_clean(a['text'])}{seen}")
            for q in a.get("quotes", []):
                click.echo(f'      "{_clean(q)}"')
        return
    click.echo(f"{r['found']} flags now, {r['new']} new alerts recorded.")
    if r["email"]:
        e = r["email"]
        click.echo(f"Email to {', '.join(_clean(t) for t in e['to'])}: {e['sent']} alerts sent, {e['retry']} to retry.")
    if r["webhook"]:
        w = r["webhook"]
        click.echo(f"Webhook: {w['sent']} alerts sent, {w['retry']} to retry ({w['tries']} tries).")
    if r["unconfirmed"]:
        click.echo(f"Unconfirmed (a run stopped while sending; not resent): alerts {r['unconfirmed']}")


def register(main: click.Group) -> None:
    from feedback_engine.cli.insights_customers import attach  # churn-risk, themes-by-segment, loop-effect

    attach(insights)
    main.add_command(insights)
    main.add_command(alerts)
