"""CLI commands of the API connectors: ``sources add|list|remove``, ``pull``, and ``search``.

``pull`` exit codes: 0 every source pulled; 1 at least one source failed (each failure is one
``Error:`` line naming the source and what to do; the other sources were pulled); 2 a setting is
missing (no sources configured, a bad ``--since``); 3 another ``pull`` holds the lock (safe
from cron: it exits at once).
"""

from __future__ import annotations

from typing import Any

import click

from feedback_engine.cli.common import emit, json_option, pass_state, print_table, progress_for
from feedback_engine.ingest.connectors import KINDS

_SETTING_OPTIONS = (
    (
        "--base-url",
        "API root to call instead of the kind's default (proxies, gateways, tests); https, or http to loopback.",
    ),
    ("--token-env", "Environment variable that holds the credential (default: the kind's, e.g. ZENDESK_API_TOKEN)."),
    ("--token-file", "File whose first line is the credential (instead of an environment variable)."),
    ("--app-id", "appstore-rss / appstore-connect: the app's id (digits after /id in its App Store URL)."),
    ("--country", "appstore-rss: storefront country code (default us)."),
    ("--business-unit-id", "trustpilot: the business unit id."),
    ("--subreddit", "reddit: subreddit name (without r/)."),
    ("--query", "reddit / x-recent: search query."),
    ("--user-agent", "reddit: the User-Agent Reddit sees (name your app)."),
    ("--subdomain", "zendesk: acme for acme.zendesk.com."),
    ("--email", "zendesk: e-mail of the agent whose API token is used."),
    ("--form-id", "typeform: the form's id (after /to/ in its link)."),
    ("--package", "googleplay: the app's package name (com.acme.notes)."),
    ("--survey-id", "surveymonkey / qualtrics: the survey's id."),
    ("--datacenter", "qualtrics: data center id (iad1 for https://iad1.qualtrics.com)."),
    ("--key-id", "appstore-connect: the API key's id."),
    ("--issuer-id", "appstore-connect: the team's issuer id."),
)


def register(main: click.Group) -> None:
    """Add this module's commands to the root group."""
    main.add_command(sources)
    main.add_command(pull)
    main.add_command(search)


def _printable(text: Any) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in str(text))


@click.group()
def sources() -> None:
    """API sources that `pull` reads on a schedule (settings and cursors live in the database)."""


def _add_setting_options(fn: Any) -> Any:
    for flag, help_text in reversed(_SETTING_OPTIONS):
        fn = click.option(flag, help=help_text)(fn)
    return fn


@sources.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(sorted(KINDS)), help="Which API the source reads.")
@_add_setting_options
@json_option
@pass_state
def sources_add(state: Any, name: str, kind: str, as_json: bool, **settings: Any) -> None:
    """Add an API source NAME of a kind, with its settings (credentials: only where they live).

    Examples: `sources add ios --kind appstore-rss --app-id 284882215 --country gb`;
    `sources add help --kind zendesk --subdomain acme --email bot@acme.com` (token in ZENDESK_API_TOKEN).
    """
    source = state.engine().sources.add(name, kind, settings)

    def human(s: dict[str, Any]) -> None:
        shown = ", ".join(f"{k}={_printable(v)}" for k, v in sorted(s["settings"].items()))
        click.echo(f"Added source {s['name']} ({s['kind']}): {shown}")
        click.echo(f"Pull it with: feedback-engine pull {s['name']}")

    emit(source, as_json, human)


@sources.command("list")
@json_option
@pass_state
def sources_list(state: Any, as_json: bool) -> None:
    """List the sources with their settings, cursor and last pull."""
    rows = state.engine().sources.configured()

    def human(data: list[dict[str, Any]]) -> None:
        table = [
            {
                "name": s["name"],
                "kind": s["kind"],
                "settings": " ".join(f"{k}={v}" for k, v in sorted(s["settings"].items())),
                "last pull": s["last_pull_at"] or "never",
                "result": s["last_status"] or "",
                "added": s["last_added"],
            }
            for s in data
        ]
        print_table(table, ["name", "kind", "settings", "last pull", "result", "added"], empty="(no sources)")

    emit(rows, as_json, human)


@sources.command("remove")
@click.argument("name")
@json_option
@pass_state
def sources_remove(state: Any, name: str, as_json: bool) -> None:
    """Remove a source and its cursor (the items it pulled stay)."""
    source = state.engine().sources.remove(name)
    emit(source, as_json, lambda s: click.echo(f"Removed source {s['name']} ({s['kind']}); its items stay."))


@click.command()
@click.argument("name", required=False)
@click.option("--all", "pull_all", is_flag=True, help="Pull every source (the default when NAME is left out).")
@click.option("--since", help="Backfill from this date (first pull default: 30 days back).")
@json_option
@pass_state
def pull(state: Any, name: str | None, pull_all: bool, since: str | None, as_json: bool) -> None:
    """Pull new feedback from one API source or all of them (holds a lock; safe from cron).

    Exit codes: 0 every source pulled; 1 a source failed (the others were pulled); 2 a setting is
    missing; 3 another pull is running.
    """
    if name and pull_all:
        raise click.UsageError("Pass a source NAME or --all, not both.")
    report = state.engine().sources.pull(name, since=since, progress=progress_for(as_json, "records"))

    def human(_data: Any) -> None:
        rows = [
            {
                "source": r.source,
                "kind": r.kind,
                "added": r.added,
                "updated": r.updated,
                "unchanged": r.unchanged,
                "quarantined": r.quarantined,
                "skipped": r.skipped,
                "requests": r.requests,
                "result": "ok" if r.status == "ok" else "FAILED",
            }
            for r in report.sources
        ]
        print_table(
            rows, ["source", "kind", "added", "updated", "unchanged", "quarantined", "skipped", "requests", "result"]
        )
        quarantined = [r for r in report.sources if r.quarantined and r.run_id]
        for r in quarantined:
            click.echo(f"See what {r.source} quarantined with: feedback-engine quarantine list --run {r.run_id}")

    emit(report.to_dict(), as_json, human)
    for r in report.failed:
        click.echo(f"Error: {r.source}: {_printable(r.error or 'failed')}", err=True)
    if report.failed:
        raise SystemExit(report.exit_code)


@click.command()
@click.argument("query")
@click.option("--channel", help="Only this channel (survey, review, social, support).")
@click.option("--since", help="Only items written on or after this date (YYYY-MM-DD).")
@click.option("--until", help="Only items written on or before this date (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="At most this many items.")
@json_option
@pass_state
def search(
    state: Any, query: str, channel: str | None, since: str | None, until: str | None, limit: int, as_json: bool
) -> None:
    """Full-text search of the feedback (every word a prefix; quotes and operators are plain text).

    Shows the redacted text of analysed items with the hits marked [like this].
    """
    found = state.engine().browse.search(query, limit=limit, channel=channel, since=since, until=until)

    def human(data: dict[str, Any]) -> None:
        click.echo(
            f"{data['total']} items match {_printable(data['query'])!r}"
            + (" (showing the first " + str(len(data["items"])) + ")" if data["total"] > len(data["items"]) else "")
        )
        for item in data["items"]:
            click.echo(f"#{item['id']}  {item['channel']}/{item['platform']}  {item['created_at'] or ''}")
            click.echo(f"    {_printable(item['snippet'])}")

    emit(found, as_json, human)
