"""CLI of the customer insights: ``insights churn-risk``, ``insights themes-by-segment``, ``insights loop-effect``.

Attached to the ``insights`` group by :func:`attach` (from ``cli/insights.py``); each command calls one
``engine.insights`` method and prints a table, or ``--json``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from feedback_engine.cli.common import CliState, emit, json_option, pass_state, print_table


def _clean(text: Any) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in str(text if text is not None else ""))


def _ci(ci: list[float | None] | None, pct: bool = False) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "n/a"
    if pct:
        return f"[{ci[0]:.1%}, {ci[1]:.1%}]"
    return f"[{ci[0]:.3g}, {ci[1]:.3g}]"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _day(value: datetime | None) -> Any:
    return value.date() if value is not None else None


def _filters(fn: Any) -> Any:
    fn = click.option("--segment", help="Only customers in this segment (from `ingest customers`).")(fn)
    fn = click.option("--channel", type=click.Choice(["survey", "review", "social"]), help="Only this channel.")(fn)
    fn = click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (UTC, YYYY-MM-DD) looked at.")(fn)
    fn = click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (UTC, YYYY-MM-DD) looked at.")(fn)
    return fn


@click.command("churn-risk")
@_filters
@click.option(
    "--horizon",
    "horizon_days",
    type=click.IntRange(7, 730),
    default=90,
    show_default=True,
    help="Days ahead the churn model predicts (and the length of its time split).",
)
@click.option("--limit", type=click.IntRange(1, None), default=50, show_default=True, help="Customers shown.")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), help="Also write the whole list as CSV here.")
@json_option
@pass_state
def churn_risk(
    state: CliState,
    since: datetime | None,
    until: datetime | None,
    channel: str | None,
    segment: str | None,
    horizon_days: int,
    limit: int,
    csv_path: Path | None,
    as_json: bool,
) -> None:
    """Customers to call: detractors and negative feedback in themes with no shipped action, by revenue and
    recency; where churn dates are known, a churn model validated on a time split (AUC, calibration) and
    the themes most associated with churn."""
    result = state.engine().insights.churn_risk(
        since=_day(since),
        until=_day(until),
        channel=channel,
        segment=segment,
        horizon_days=horizon_days,
        limit=limit,
        csv_path=csv_path,
    )
    emit(result, as_json, _churn_human)


def _churn_human(r: dict[str, Any]) -> None:
    revenue = ", ".join(f"{v:,.2f} {_clean(k)}" for k, v in r["revenue_at_risk"]["mrr"].items()) or "none known"
    click.echo(
        f"As of {r['as_of']}: {r['at_risk']} of {r['customers']} customers at risk; MRR at risk {revenue}"
        f" ({r['revenue_at_risk']['customers_without_revenue']} at-risk customers without revenue)."
    )
    click.echo(f"Rule: {r['rule']}.")
    rows = [
        {
            "rank": x["rank"],
            "customer": _clean(x["email"] or x["handle"] or x["customer_id"]),
            "segment": _clean(x["segment"] or ""),
            "mrr": "" if x["mrr"] is None else f"{x['mrr']:,.2f} {_clean(x['currency'] or '')}".strip(),
            "last signal": (x["last_signal_at"] or "")[:10],
            "detractor": x["detractor_responses"],
            "neg open": x["negative_open_items"],
            "themes": _clean(", ".join(str(t["label"]) for t in x["open_themes"])),
            "p(churn)": "" if x["churn_probability"] is None else f"{x['churn_probability']:.0%}",
        }
        for x in r["risk"]
    ]
    columns = ["rank", "customer", "segment", "mrr", "last signal", "detractor", "neg open", "themes", "p(churn)"]
    print_table(rows, columns, empty="(nobody at risk)")
    m = r["model"]
    if m.get("status") == "ok":
        v = m["validation"]
        click.echo(
            f"Churn model ({m['horizon_days']} days ahead): trained at {m['train_snapshot'][:10]} on"
            f" {m['train']['customers']} customers ({m['train']['churned']} churned), tested at"
            f" {m['test_snapshot'][:10]} on {v['n']} ({v['churned']} churned): AUC {v['auc']:.3f}"
            f" {_ci(v['auc_ci'])}, Brier {v['brier']:.3f}, predicted {v['mean_predicted']:.1%} vs observed"
            f" {_pct(v['observed']['share'])} {_ci(v['observed']['ci'], True)}, calibration slope"
            f" {v['calibration_slope']}."
        )
    else:
        click.echo(f"Churn model: {m.get('status')}: {_clean(m.get('note'))}.")
    t = r["themes"]
    flagged = [x for x in t["themes"] if x["flagged"]]
    click.echo(
        f"Themes and churn ({t['customers']} customers with feedback and a known status, {t['churned']} churned;"
        f" flagged at FDR {t['fdr']:.0%}): {len(flagged)} flagged."
    )
    for x in flagged[:10]:
        click.echo(
            f"  {_clean(x['label'])}: churn {_pct(x['raised']['share'])} of {x['raised']['n']} who raised it vs"
            f" {_pct(x['not_raised']['share'])} of {x['not_raised']['n']}; difference {x['diff']:+.1%}"
            f" {_ci(x['ci'], True)}, q={x['q']:.2g}"
        )
    if "csv" in r:
        click.echo(f"Wrote {r['csv']['rows']} customers to {_clean(r['csv']['path'])}", err=True)


def _period(text: str) -> tuple[Any, Any]:
    """``2025-01-01..2025-03-31`` (either end may be left out) -> (since, until) dates."""
    start, sep, end = text.partition("..")
    if not sep:
        raise click.BadParameter(f"{text!r} is not a period; write it as YYYY-MM-DD..YYYY-MM-DD.")
    try:
        return (
            datetime.strptime(start, "%Y-%m-%d").date() if start else None,
            datetime.strptime(end, "%Y-%m-%d").date() if end else None,
        )
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a period; write it as YYYY-MM-DD..YYYY-MM-DD.") from None


def _money(mrr: dict[str, Any] | None) -> str:
    if not mrr or not mrr["total"]:
        return ""
    return ", ".join(f"{v:,.0f} {_clean(k)}" for k, v in mrr["total"].items())


@click.command("themes-by-segment")
@_filters
@click.option("--segments", nargs=2, metavar="A B", help="Compare the theme table of two segments.")
@click.option("--periods", nargs=2, metavar="P1 P2", help="Compare two periods, each YYYY-MM-DD..YYYY-MM-DD.")
@click.option("--limit", type=click.IntRange(1, None), default=30, show_default=True, help="Themes shown.")
@json_option
@pass_state
def themes_by_segment(
    state: CliState,
    since: datetime | None,
    until: datetime | None,
    channel: str | None,
    segment: str | None,
    segments: tuple[str, str] | None,
    periods: tuple[str, str] | None,
    limit: int,
    as_json: bool,
) -> None:
    """Per theme: the customers and revenue (MRR) behind it and the revenue at risk (negative, not churned);
    with --segments or --periods, the theme table of both groups and their differences with intervals."""
    parsed = (_period(periods[0]), _period(periods[1])) if periods else None
    result = state.engine().insights.themes_by_segment(
        since=_day(since),
        until=_day(until),
        channel=channel,
        segment=segment,
        segments=tuple(segments) if segments else None,
        periods=parsed,
    )
    emit(result, as_json, lambda r: _segments_human(r, limit))


def _segments_human(r: dict[str, Any], limit: int) -> None:
    o = r["overall"]
    click.echo(f"{o['customers']} customers with {o['items']} items; MRR behind them {_money(o['mrr']) or 'unknown'}.")
    rows = [
        {
            "theme": _clean(t["label"]),
            "customers": t["customers"]["k"],
            "share": f"{_pct(t['customers']['share'])} {_ci(t['customers']['ci'], True)}",
            "items": t["items"],
            "negative": f"{_pct(t['share_negative']['share'])} {_ci(t['share_negative']['ci'], True)}",
            "mrr": _money(t["mrr"]),
            "mrr at risk": _money(t["mrr_at_risk"]),
        }
        for t in o["themes"][:limit]
    ]
    print_table(rows, ["theme", "customers", "share", "items", "negative", "mrr", "mrr at risk"], empty="(no themes)")
    c = r["comparison"]
    if not c:
        return
    click.echo(
        f"\nA = {_clean(c['a']['name'])} ({c['a']['customers']} customers), B = {_clean(c['b']['name'])}"
        f" ({c['b']['customers']} customers); flagged at FDR {c['fdr']:.0%}:"
    )
    rows = [
        {
            "theme": _clean(t["label"]),
            "share A": f"{t['customers_a']['k']}/{t['customers_a']['n']}",
            "share B": f"{t['customers_b']['k']}/{t['customers_b']['n']}",
            "A - B": "n/a" if t["customer_share_diff"] is None else f"{t['customer_share_diff']:+.1%}",
            "95% CI": _ci(t["customer_share_ci"], True),
            "q": f"{t['q']:.2g}",
            "neg A - B": "n/a" if t["share_negative_diff"] is None else f"{t['share_negative_diff']:+.1%}",
            "flag": "*" if t["flagged"] else "",
        }
        for t in c["themes"][:limit]
    ]
    print_table(rows, ["theme", "share A", "share B", "A - B", "95% CI", "q", "neg A - B", "flag"])


@click.command("loop-effect")
@click.argument("action_id", type=int, required=False)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (UTC, YYYY-MM-DD) looked at.")
@click.option("--channel", type=click.Choice(["survey", "review", "social"]), help="Only this channel.")
@click.option("--segment", help="Only customers in this segment (from `ingest customers`).")
@json_option
@pass_state
def loop_effect(
    state: CliState,
    action_id: int | None,
    until: datetime | None,
    channel: str | None,
    segment: str | None,
    as_json: bool,
) -> None:
    """Does closing the loop work? Notified against held-back customers of a shipped action (every action
    shipped with --holdout when ACTION is left out): later feedback volume, sentiment, NPS and churn."""
    result = state.engine().insights.loop_effect(action_id, until=_day(until), channel=channel, segment=segment)
    emit(result, as_json, _loop_human)


def _diff(cmp: dict[str, Any] | None, key: str, fmt: str) -> dict[str, str]:
    if cmp is None:
        return {"notified": "n/a", "held back": "n/a", "difference": "no churn dates", "95% CI": "", "p": ""}

    def side(s: dict[str, Any]) -> str:
        value = s.get(key)
        return "n/a" if value is None else f"{format(value, fmt)} (n={s['n']})"

    return {
        "notified": side(cmp["a"]),
        "held back": side(cmp["b"]),
        "difference": "n/a" if cmp["diff"] is None else format(cmp["diff"], "+" + fmt),
        "95% CI": _ci(cmp["ci"]),
        "p": "" if cmp["p"] is None else f"{cmp['p']:.2g}",
    }


def _loop_human(r: dict[str, Any]) -> None:
    if not r["actions"]:
        click.echo(_clean(r["note"]))
        return
    for a in r["actions"]:
        h = a["holdout"] or {}
        click.echo(
            f"Action {a['action_id']} {_clean(a['title'])!r}, shipped {a['shipped_at']} ({a['days_since']} days"
            f" ago): {a['notified']} notified ({a['emailed']} emailed so far), {a['held_back']} held back"
            f" ({h.get('share', 0):.0%} holdout, seed {h.get('seed')})."
        )
        after = a["after"]
        rows = [
            {"measure": "items per customer", **_diff(after["volume"], "mean", ".2f")},
            {"measure": "mean sentiment", **_diff(after["sentiment"], "mean", ".3f")},
            {"measure": "share negative", **_diff(after["share_negative"], "share", ".3f")},
            {"measure": "NPS", **_diff(after["nps"], "nps", ".1f")},
            {"measure": "NPS change per customer", **_diff(after["nps_change"], "mean", ".2f")},
            {"measure": "churned since", **_diff(after["churn"], "share", ".3f")},
        ]
        print_table(rows, ["measure", "notified", "held back", "difference", "95% CI", "p"])
        click.echo(f"Verdict: {a['verdict']}.")


def attach(group: click.Group) -> None:
    """Add this module's commands to the ``insights`` group."""
    group.add_command(churn_risk)
    group.add_command(themes_by_segment)
    group.add_command(loop_effect)
