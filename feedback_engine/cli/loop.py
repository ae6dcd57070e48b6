"""CLI commands of the loop stage: actions, notify, customers unsubscribe/resubscribe/unsuppress/show/list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from feedback_engine.cli.common import CliState, emit, json_option, pass_state, print_table, progress_for
from feedback_engine.loop.mail import clean_header_text

STATUS_CHOICES = ["proposed", "planned", "in_progress", "shipped", "declined"]


def _theme_cell(themes: list[dict[str, Any]]) -> str:
    return ", ".join(f"{t['id']} {t['label'] or ''}".strip() for t in themes)


def _action_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "status": r["status"],
            "due": (r["due_date"] or "") + (" (overdue)" if r["overdue"] else ""),
            "owner": r["owner"],
            "title": r["title"],
            "themes": _theme_cell(r["themes"]),
            "items": r["items"],
            "sentiment": r["sentiment"],
        }
        for r in rows
    ]


@click.group("actions")
def actions_group() -> None:
    """The action backlog: what is done about each theme."""


@actions_group.command("add")
@click.option("--theme", "themes", type=int, multiple=True, required=True, help="Theme id (repeat for several).")
@click.option("--item", "items", type=int, multiple=True, help="A specific feedback item id (repeatable).")
@click.option("--title", required=True, help="Short title of the action.")
@click.option("--description", required=True, help="What was done, in words customers will read.")
@click.option("--owner", help="Who owns it.")
@click.option("--due", help="Due date, YYYY-MM-DD.")
@click.option("--by", help="Who makes the change (default: $USER).")
@json_option
@pass_state
def actions_add(
    state: CliState,
    themes: tuple[int, ...],
    items: tuple[int, ...],
    title: str,
    description: str,
    owner: str | None,
    due: str | None,
    by: str | None,
    as_json: bool,
) -> None:
    """Create an action tied to one or more themes; prints its id."""
    engine = state.engine()
    action_id = engine.actions.add(
        themes=list(themes), items=list(items), title=title, description=description, owner=owner, due=due, by=by
    )
    followed = {t: engine.themes.survivor(t) for t in themes}
    for given, survivor in followed.items():
        if given != survivor:  # stderr: stdout stays the id alone for scripts
            click.echo(
                f"Theme {given} was merged into theme {survivor}; the action follows theme {survivor}.", err=True
            )
    emit({"id": action_id}, as_json, lambda d: click.echo(d["id"]))


@actions_group.command("list")
@click.option("--status", help="Only this status (proposed, planned, in_progress, shipped, declined, or all).")
@click.option("--overdue", is_flag=True, help="Only open actions past their due date.")
@click.option("--owner", help="Only actions of this owner.")
@click.option("--theme", type=int, help="Only actions on this theme (merged themes resolved).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Export format (with -o).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Export to this file.")
@json_option
@pass_state
def actions_list(
    state: CliState,
    status: str | None,
    overdue: bool,
    owner: str | None,
    theme: int | None,
    fmt: str | None,
    output: Path | None,
    as_json: bool,
) -> None:
    """Open actions by due date, with each theme's volume and sentiment."""
    filters = {"status": status, "overdue": overdue, "owner": owner, "theme": theme}
    engine = state.engine()
    if output is not None or fmt is not None:
        if output is None or fmt is None:
            raise click.UsageError("Pass both --format csv|jsonl and -o PATH to export.")
        n = engine.actions.export(output, fmt, **filters)
        emit({"exported": n, "path": str(output)}, as_json, lambda d: click.echo(f"Wrote {n} actions to {output}"))
        return
    rows = engine.actions.list(**filters)
    emit(
        rows,
        as_json,
        lambda r: print_table(
            _action_rows(r),
            ["id", "status", "due", "owner", "title", "themes", "items", "sentiment"],
            empty="(no actions)",
        ),
    )


def _show(action: dict[str, Any]) -> None:
    click.echo(f"Action {action['id']}: {_clean(action['title'])}")
    for label, key in (
        ("status", "status"),
        ("owner", "owner"),
        ("due", "due_date"),
        ("shipped", "shipped_at"),
        ("created", "created_at"),
        ("updated", "updated_at"),
    ):
        if action.get(key):
            extra = f" by {_clean(action['created_by'])}" if key == "created_at" else ""
            extra = f" by {_clean(action['updated_by'])}" if key == "updated_at" else extra
            click.echo(f"  {label + ':':9}{_clean(str(action[key]))}{extra}")
    click.echo(
        f"  {'items:':9}{action['items']}"
        + (f" (sentiment {action['sentiment']:.2f})" if action["sentiment"] is not None else "")
    )
    click.echo("Description:")
    for line in action["description"].splitlines() or [""]:
        click.echo(f"  {_clean(line)}")
    click.echo("Themes:")
    print_table(action["themes"], ["id", "label", "status", "volume", "sentiment"])
    click.echo("History:")
    print_table(action["history"], ["at", "by", "field", "from_value", "to_value", "note"])
    if action.get("impact"):
        from feedback_engine.cli.insights import impact_lines

        for line in impact_lines(action["impact"]):
            click.echo(_clean(line))
    if action["notifications"]:
        click.echo("Notifications: " + ", ".join(f"{k} {v}" for k, v in sorted(action["notifications"].items())))


def _clean(text: str | None) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in (text or ""))


@actions_group.command("show")
@click.argument("action_id", type=int)
@json_option
@pass_state
def actions_show(state: CliState, action_id: int, as_json: bool) -> None:
    """One action with its themes, history and notifications; a shipped one also with its impact
    (complaints, share negative, NPS before vs after against the other themes: `insights impact`)."""
    engine = state.engine()
    action = engine.actions.show(action_id)
    if action.get("status") == "shipped":  # the loop stage cannot import insights: the CLI asks both
        action["impact"] = engine.insights.impact(action_id)["actions"][0]
    emit(action, as_json, _show)


@actions_group.command("recipients")
@click.argument("action_id", type=int)
@json_option
@pass_state
def actions_recipients(state: CliState, action_id: int, as_json: bool) -> None:
    """Who the action's email reaches: each customer with the sentence that matched, strongest first."""
    result = state.engine().actions.recipients(action_id)

    def human(r: dict[str, Any]) -> None:
        rows = r["recipients"]
        click.echo(
            f"Action {r['action_id']} ({r['status']}) reaches {len(rows)} customer(s) "
            f"for feedback written before {r['as_of']}."
        )
        for rec in rows:
            score = "linked" if rec["score"] is None else f"{rec['score']:.2f}"
            quoted = (
                f"{rec['context']} {rec['sentence']}" if rec.get("context") and rec["sentence"] else rec["sentence"]
            )
            said = clean_header_text(quoted or "(no quotable sentence)", 100)
            click.echo(f"  {score:>6}  {clean_header_text(rec['email'] or '', 60)}  item {rec['feedback_id']}: {said}")
        if r["excluded"]:
            click.echo("  left out: " + ", ".join(f"{n} {reason}" for reason, n in r["excluded"].items()))
        if r["items_without_evidence"]:
            click.echo(
                f"  {r['items_without_evidence']} item(s) of the theme say nothing specific about it "
                "(no confident, topical sentence) and are not counted as raising it."
            )
        for t in r.get("related_themes") or []:
            click.echo(
                f"  maybe the same subject: theme {t['theme_id']} {clean_header_text(t['label'], 60)!r} "
                f"(similarity {t['similarity']:.2f}, {t['more_items']} more item(s) that raise it); add it with "
                f"`feedback-engine actions update {r['action_id']} --theme ...` listing every theme"
            )

    emit(result, as_json, human)


@actions_group.command("exclude")
@click.argument("action_id", type=int)
@click.option("--customer", help="The customer's email address.")
@click.option("--item", type=int, help="A feedback item id (from `actions recipients`).")
@click.option("--note", help="Why, kept with the exclusion.")
@click.option("--undo", is_flag=True, help="Put the customer or item back.")
@click.option("--by", help="Who makes the change (default: $USER).")
@json_option
@pass_state
def actions_exclude(
    state: CliState,
    action_id: int,
    customer: str | None,
    item: int | None,
    note: str | None,
    undo: bool,
    by: str | None,
    as_json: bool,
) -> None:
    """Take a customer or an item out of an action's recipients (before or after shipping)."""
    result = state.engine().actions.exclude(action_id, customer=customer, item=item, note=note, by=by, undo=undo)

    def human(r: dict[str, Any]) -> None:
        who = f"item {r['feedback_id']}" if r.get("feedback_id") is not None else "the customer"
        if undo:
            click.echo(f"{who.capitalize()} {'is' if r['changed'] else 'was already'} back in action {action_id}.")
            return
        click.echo(
            f"{who.capitalize()} {'excluded from' if r['changed'] else 'was already out of'} action {action_id}."
        )
        if r["cancelled"]:
            click.echo(f"{r['cancelled']} queued update(s) cancelled.")
        if r["already_sent"]:
            click.echo(f"{r['already_sent']} email(s) had already been sent; they cannot be recalled.")

    emit(result, as_json, human)


@actions_group.command("update")
@click.argument("action_id", type=int)
@click.option("--status", help="New status: proposed, planned, in_progress, shipped or declined.")
@click.option("--owner", help="New owner ('' clears it).")
@click.option("--due", help="New due date YYYY-MM-DD ('' clears it).")
@click.option("--title", help="New title.")
@click.option("--description", help="New description (what was done, in words customers will read).")
@click.option(
    "--theme", "themes", type=int, multiple=True, help="The action's themes from now on (repeat for several)."
)
@click.option("--note", help="A note kept in the history.")
@click.option("--by", help="Who makes the change (default: $USER).")
@click.option(
    "--holdout",
    metavar="SHARE",
    help="With --status shipped: hold back this share of the recipients (e.g. 10%) as a control group, never"
    " emailed about this action (`insights loop-effect` compares them later).",
)
@click.option("--holdout-seed", type=int, help="Seed of the holdout draw (default: a random one, recorded).")
@json_option
@pass_state
def actions_update(
    state: CliState,
    action_id: int,
    status: str | None,
    owner: str | None,
    due: str | None,
    title: str | None,
    description: str | None,
    themes: tuple[int, ...],
    note: str | None,
    by: str | None,
    holdout: str | None,
    holdout_seed: int | None,
    as_json: bool,
) -> None:
    """Change an action's status, owner, due date, title, description or themes (history is kept)."""
    result = state.engine().actions.update(
        action_id,
        status=status,
        owner=owner,
        due=due,
        note=note,
        by=by,
        title=title,
        description=description,
        themes=list(themes) if themes else None,
        holdout=holdout,
        holdout_seed=holdout_seed,
    )

    def human(r: dict[str, Any]) -> None:
        if r["changed"]:
            click.echo(f"Action {r['id']} updated ({', '.join(r['changed'])}); status {r['status']}.")
        else:
            click.echo(f"Action {r['id']} unchanged; status {r['status']}.")

    emit(result, as_json, human)


@click.command("notify")
@click.option(
    "--dry-run",
    "dry_run",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each email as a .eml file into this folder; send nothing.",
)
@click.option("--send", is_flag=True, help="Send the due emails over SMTP (holds a lock; safe from cron).")
@json_option
@pass_state
def notify(state: CliState, dry_run: Path | None, send: bool, as_json: bool) -> None:
    """Send "you said, we did" emails for shipped actions (or write them with --dry-run).

    Exit codes: 0 done; 2 a setting is missing; 3 another run holds the lock; 75 the run
    stopped early because the SMTP server is unreachable or faulty (emails stay queued).
    """
    if (dry_run is None) == (not send):
        raise click.UsageError("Pass either --dry-run DIR or --send.")
    report = state.engine().outbox.notify(dry_run_dir=dry_run, send=send, progress=progress_for(as_json, "emails"))
    emit(report.as_dict(), as_json, _notify_human)
    if report.stopped:
        from feedback_engine.loop.delivery import DeliveryDeferred

        advice = "" if report.server_fault else " The emails stay queued for the next run."
        raise DeliveryDeferred(f"Stopped early: {_clean(report.stopped)}{advice}")


DRY_RUN_LINES = 50


def _notify_human(r: dict[str, Any]) -> None:
    if r["mode"] == "dry-run":
        folder = Path(r["files"][0]).parent if r["files"] else None
        click.echo(
            f"Wrote {len(r['files'])} emails" + (f" to {folder}" if folder else "") + f" ({r['planned']} new "
            f"notifications, {r['held']} held by the frequency cap, {r['cancelled']} cancelled)."
        )
        for e in r.get("emails", [])[:DRY_RUN_LINES]:  # the same people and sentences as `actions recipients`
            score = "linked" if e.get("score") is None else f"{e['score']:.2f}"
            quote = clean_header_text(e.get("quote") or "(no quotable sentence)", 100)
            actions = ",".join(str(a) for a in e.get("actions", []))
            click.echo(f"  {score:>6}  {clean_header_text(e['to'], 60)}  action {actions}: {quote}")
        if len(r.get("emails", [])) > DRY_RUN_LINES:
            click.echo(f"  ... and {len(r['emails']) - DRY_RUN_LINES} more (--json lists them all)")
    else:
        click.echo(
            f"Sent {r['sent']} emails; {r['retry']} to retry later; {r['held']} notifications held by the "
            f"frequency cap; {r['cancelled']} cancelled; {r['planned']} new notifications planned."
        )
    for b in r["bounced"]:
        click.echo(f"Bounced and suppressed: {_clean(b['to'])} ({_clean(b['reason'])})")
    for u in r["unconfirmed"]:
        click.echo(f"Unconfirmed (run stopped while sending; not resent): {_clean(u['to'])} {u['message_id']}")
    if r["invalid"]:
        ids = ", ".join(str(i["customer_id"]) for i in r["invalid"][:10]) + (", ..." if len(r["invalid"]) > 10 else "")
        click.echo(
            f"Not sent: {len(r['invalid'])} customers have an unusable email address (customer ids {ids}); "
            "fix them in the source data."
        )
    for note in r["notes"]:
        click.echo(f"Note: {_clean(note)}")


def _customers_group(main: click.Group) -> click.Group:
    existing = main.commands.get("customers")
    if isinstance(existing, click.Group):
        return existing

    @main.group("customers")
    def customers() -> None:
        """Customers and their contact preferences."""

    return customers


def register(main: click.Group) -> None:
    """Add this module's commands to the root group."""
    main.add_command(actions_group)
    main.add_command(notify)
    customers = _customers_group(main)

    by_option = click.option("--by", help="Who makes the change (default: $USER).")

    @customers.command("unsubscribe")
    @click.argument("email")
    @by_option
    @json_option
    @pass_state
    def customers_unsubscribe(state: CliState, email: str, by: str | None, as_json: bool) -> None:
        """Stop all "you said, we did" emails to EMAIL."""
        result = state.engine().customers.unsubscribe(email, source="cli", by=by)
        emit(
            result,
            as_json,
            lambda r: click.echo(
                f"{_clean(r['email'])} {'was already' if r['already'] else 'is now'} unsubscribed "
                f"(since {r['unsubscribed_at']})."
            ),
        )

    @customers.command("resubscribe")
    @click.argument("email")
    @by_option
    @json_option
    @pass_state
    def customers_resubscribe(state: CliState, email: str, by: str | None, as_json: bool) -> None:
        """Undo an unsubscribe of EMAIL: later updates reach them again (recorded with who and when)."""
        result = state.engine().customers.resubscribe(email, by=by)

        def human(r: dict[str, Any]) -> None:
            if not r["changed"]:
                click.echo(f"{_clean(r['email'])} was not unsubscribed; nothing changed.")
                return
            line = f"{_clean(r['email'])} is subscribed again (unsubscribed since {r['unsubscribed_since']})"
            consent = "" if r["consent"] == 1 else "; consent is not recorded as yes, so they still get no email"
            click.echo(f"{line}; by {_clean(r['by'])} at {r['at']}{consent}.")

        emit(result, as_json, human)

    @customers.command("unsuppress")
    @click.argument("email")
    @by_option
    @json_option
    @pass_state
    def customers_unsuppress(state: CliState, email: str, by: str | None, as_json: bool) -> None:
        """Lift the bounce suppression of EMAIL; the updates it cancelled are queued again."""
        result = state.engine().customers.unsuppress(email, by=by)

        def human(r: dict[str, Any]) -> None:
            if not r["changed"]:
                click.echo(f"{_clean(r['email'])} was not suppressed; nothing changed.")
                return
            click.echo(
                f"{_clean(r['email'])} is no longer suppressed (since {r['suppressed_since']}: "
                f"{_clean(r['reason'] or 'no reason recorded')}); {r['requeued']} updates queued again; "
                f"by {_clean(r['by'])} at {r['at']}."
            )

        emit(result, as_json, human)

    @customers.command("show")
    @click.argument("email")
    @json_option
    @pass_state
    def customers_show(state: CliState, email: str, as_json: bool) -> None:
        """One customer: contact state, who changed it and when, and their emails."""
        emit(state.engine().customers.show(email), as_json, _customer_human)

    if "list" not in customers.commands:

        @customers.command("list")
        @json_option
        @pass_state
        def customers_list(state: CliState, as_json: bool) -> None:
            """Customers with consent, unsubscribe and suppression state."""
            rows = state.engine().customers.list()
            emit(
                rows,
                as_json,
                lambda r: print_table(
                    r,
                    ["id", "email", "display_name", "consent", "unsubscribed_at", "suppressed_at"],
                    empty="(no customers)",
                ),
            )


def _customer_human(c: dict[str, Any]) -> None:
    click.echo(
        f"Customer {c['id']}: {_clean(c['email'])}" + (f" ({_clean(c['display_name'])})" if c["display_name"] else "")
    )
    consent = {1: "yes", 0: "no"}.get(c["consent"], "unknown")
    click.echo(f"  {'consent:':14}{consent}")
    click.echo(f"  {'unsubscribed:':14}{c['unsubscribed_at'] or 'no'}")
    suppressed = f"{c['suppressed_at']} ({_clean(c['suppressed_reason'])})" if c["suppressed_at"] else "no"
    click.echo(f"  {'suppressed:':14}{suppressed}")
    click.echo("Contact history:")
    print_table(c["events"], ["at", "by", "event", "detail"])
    click.echo("Emails:")
    print_table(c["emails"], ["id", "status", "created_at", "sent_at", "attempts", "last_error"])
