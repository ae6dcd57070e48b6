"""CLI commands for themes (list, show, rename, merge, unmerge, split, move, seed)."""

from __future__ import annotations

from typing import Any

import click

from feedback_engine.cli.common import _cell, emit, json_option, pass_state, print_table


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


def print_theme_table(rows: list[dict[str, Any]]) -> None:
    """The triage table of `themes list` (also the end of `demo`)."""
    table = [
        {
            "id": r["id"],
            "label": r["label"],
            "volume": r["volume"],
            "negative": _pct(r["share_negative"]),
            "sentiment": r["mean_sentiment"],
            "trend": r["trend"],
        }
        for r in rows
    ]
    print_table(table, ["id", "label", "volume", "negative", "sentiment", "trend"], empty="No themes yet.")


def _show_text(theme: dict[str, Any]) -> None:
    s = theme["stats"]
    click.echo(f"Theme {theme['id']}: {_cell(theme['label'], 120)}")
    if theme["requested_id"] != theme["id"]:
        click.echo(f"(theme {theme['requested_id']} was merged into theme {theme['id']})")
    click.echo(f"origin {theme['origin']}, status {theme['status']}" + (", label pinned" if theme["pinned"] else ""))
    if theme["description"]:
        click.echo(f"description: {_cell(theme['description'], 200)}")
    line = f"volume {s['volume']}, negative {_pct(s['share_negative']) or '-'}, mean sentiment {_cell(s['mean_sentiment']) or '-'}"
    if s.get("nps") is not None:
        line += f", NPS {s['nps']:+.0f} ({s['nps_responses']} answers)"
    if s.get("mean_csat") is not None:
        line += f", CSAT {s['mean_csat']:.2f}"
    if s.get("mean_rating") is not None:
        line += f", rating {s['mean_rating']:.2f}"
    click.echo(line)
    for days in (7, 30):
        c = s.get(f"change_{days}d")
        if c:
            pct = "" if c["pct"] is None else f" ({c['pct'] * 100:+.0f}%)"
            click.echo(f"last {days} days: {c['current']} vs {c['previous']} before{pct}")
    click.echo("terms: " + ", ".join(_cell(t["term"]) for t in theme["terms"]))
    click.echo("")
    click.echo("quotes:")
    for q in theme["quotes"]:
        click.echo(f"  #{q['feedback_id']} [{q['channel']}, {q['sentiment'] or '?'}] {_cell(q['redacted_text'], 200)}")
    if not theme["quotes"]:
        click.echo("  (none)")
    click.echo("")
    print_table(
        theme["sentiment_by_channel"],
        ["channel", "items", "negative", "neutral", "positive", "mean_sentiment"],
        empty="No items in this theme.",
    )


def register(main: click.Group) -> None:
    """Add this module's commands to the root group."""

    @main.group("themes")
    def themes() -> None:
        """List, inspect and edit themes (run `analyze` first)."""

    @themes.command("list")
    @json_option
    @pass_state
    def list_cmd(state: Any, as_json: bool) -> None:
        """Themes by volume: id, label, volume, % negative, mean sentiment, 7-day trend."""
        emit(state.engine().themes.list(), as_json, print_theme_table)

    @themes.command("show")
    @click.argument("theme_id", type=int)
    @json_option
    @pass_state
    def show_cmd(state: Any, theme_id: int, as_json: bool) -> None:
        """One theme: terms, redacted quotes, stats and sentiment by channel."""
        emit(state.engine().themes.show(theme_id), as_json, _show_text)

    @themes.command("rename")
    @click.argument("theme_id", type=int)
    @click.argument("name")
    @json_option
    @pass_state
    def rename_cmd(state: Any, theme_id: int, name: str, as_json: bool) -> None:
        """Rename a theme; refits keep the new name."""
        row = state.engine().themes.rename(theme_id, name)

        def human(r: dict[str, Any]) -> None:
            if r["renamed"] != r["requested"]:
                click.echo(
                    f"Theme {r['requested']} was merged into theme {r['renamed']}; renamed theme {r['renamed']}."
                )
            click.echo(f"Theme {r['id']} renamed to {_cell(r['label'], 120)}.")

        emit(row, as_json, human)

    @themes.command("merge")
    @click.argument("theme_ids", type=int, nargs=-1, required=True)
    @click.option("--into", type=int, default=None, help="Theme id that survives (default: the largest).")
    @json_option
    @pass_state
    def merge_cmd(state: Any, theme_ids: tuple[int, ...], into: int | None, as_json: bool) -> None:
        """Merge themes into one; their items and links move to the survivor."""
        row = state.engine().themes.merge(list(theme_ids), into=into)
        merged = ", ".join(str(t) for t in row["merged"])
        emit(
            row,
            as_json,
            lambda r: click.echo(
                f"Merged {merged} into theme {r['id']} ({_cell(r['label'], 120)}), {r['size']} items."
            ),
        )

    @themes.command("unmerge")
    @click.argument("theme_id", type=int)
    @click.option("--by", help="Who makes the change (default: $USER).")
    @json_option
    @pass_state
    def unmerge_cmd(state: Any, theme_id: int, by: str | None, as_json: bool) -> None:
        """Undo a merge: the theme is active again with the items the merge had moved."""
        row = state.engine().themes.unmerge(theme_id, by=by)
        emit(
            row,
            as_json,
            lambda r: click.echo(
                f"Theme {r['id']} ({_cell(r['label'], 120)}) is its own theme again, out of theme "
                f"{r['unmerged_from']}: {r['assignments_moved']} assignments moved back, {r['size']} items."
            ),
        )

    @themes.command("split")
    @click.argument("theme_id", type=int)
    @click.option("--items", "items", required=True, help="Comma-separated item ids to move out, e.g. 12,40,41.")
    @click.option("--name", required=True, help="Name of the new theme.")
    @click.option("--by", help="Who makes the change (default: $USER).")
    @json_option
    @pass_state
    def split_cmd(state: Any, theme_id: int, items: str, name: str, by: str | None, as_json: bool) -> None:
        """Move picked items of a theme into a new theme (refits keep the split)."""
        try:
            ids = [int(part) for part in items.replace(" ", "").split(",") if part]
        except ValueError:
            raise click.BadParameter("use item ids separated by commas, e.g. 12,40,41", param_hint="--items") from None
        row = state.engine().themes.split(theme_id, ids, name, by=by)
        emit(
            row,
            as_json,
            lambda r: click.echo(
                f"Split {r['items_moved']} items out of theme {r['split_from']} into theme {r['id']} "
                f"({_cell(r['label'], 120)})."
            ),
        )

    @themes.command("move")
    @click.argument("item_id", type=int)
    @click.option("--to", "to", type=int, default=None, help="Theme id to put the item in (only that theme).")
    @click.option("--none", "none", is_flag=True, help="Take the item out of all themes.")
    @click.option("--by", help="Who makes the change (default: $USER).")
    @json_option
    @pass_state
    def move_cmd(state: Any, item_id: int, to: int | None, none: bool, by: str | None, as_json: bool) -> None:
        """Move one item to another theme, or out of all themes (refits keep it there)."""
        if (to is None) == (not none):
            raise click.UsageError("Pass exactly one of --to THEME and --none.")
        row = state.engine().themes.move(item_id, to, by=by)

        def human(r: dict[str, Any]) -> None:
            was = ", ".join(str(t) for t in r["from"]) or "no theme"
            now = "no theme" if r["to"] is None else f"theme {r['to']} ({_cell(r['label'], 120)})"
            click.echo(f"Item {r['feedback_id']} is in {now} now (was in {was}); refits keep it there.")

        emit(row, as_json, human)

    @themes.command("seed")
    @click.argument("name")
    @click.option("--description", default="", help="What belongs in the theme, e.g. 'charges, refunds, invoices'.")
    @json_option
    @pass_state
    def seed_cmd(state: Any, name: str, description: str, as_json: bool) -> None:
        """Create a guided theme; matching items go there now and on every analyze."""
        row = state.engine().themes.seed(name, description)
        emit(
            row,
            as_json,
            lambda r: click.echo(f"Seeded theme {r['id']} ({_cell(r['label'], 120)}): {r['items_moved']} items moved."),
        )
