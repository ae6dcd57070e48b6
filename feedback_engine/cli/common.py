"""Shared CLI plumbing: the engine per invocation, JSON/table output, error handling.

``--db`` and missing files: only the commands in :data:`CREATES_DATABASE` (the imports and
``demo``) may create the database file. Every other command needs an existing one, so a typo in
``--db`` or ``FEEDBACK_ENGINE_DB`` gets one line and exit status 1 instead of a new empty
database::

    Error: No database at PATH; check --db or FEEDBACK_ENGINE_DB, or run `feedback-engine ingest ...` first to create one.

:meth:`CliState.database` applies this rule for the command that is running (``CliState.engine``
and ``serve`` go through it). Every command is listed in exactly one of :data:`CREATES_DATABASE`,
:data:`NEEDS_DATABASE` and :data:`NO_DATABASE`; ``tests/test_cli_common.py`` walks the command
tree, so a new command fails the tests until it is classified (an unlisted one needs a database).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from feedback_engine.errors import FeedbackEngineError, StoreError
from feedback_engine.progress import Progress, terminal_progress

# Command paths below the root, as typed after `feedback-engine`.
CREATES_DATABASE = frozenset(
    {"ingest surveys", "ingest reviews", "ingest social", "ingest auto", "ingest customers", "demo", "sources add"}
)
NEEDS_DATABASE = frozenset(
    {
        # read only
        "status",
        "search",
        "sources list",
        "quarantine list",
        "export feedback",
        "themes list",
        "themes show",
        "actions list",
        "actions recipients",
        "actions show",
        "customers list",
        "customers show",
        "serve",
        "users list",
        "insights emerging",
        "insights churn-risk",
        "insights themes-by-segment",
        "insights loop-effect",
        "alerts",
        "insights drivers",
        "insights impact",
        # change what is there (nothing to do in an empty database)
        "analyze",
        "themes rename",
        "themes merge",
        "themes unmerge",
        "themes split",
        "themes move",
        "themes seed",
        "actions add",
        "actions update",
        "actions exclude",
        "customers unsubscribe",
        "customers resubscribe",
        "customers unsuppress",
        "notify",
        "pull",
        "sources remove",
        "users add",
        "users passwd",
        "users role",
        "users disable",
        "users revoke",
        "users token",
    }
)
NO_DATABASE = frozenset({"train-sentiment"})


def command_key(ctx: click.Context) -> str:
    """``"themes list"`` for ``feedback-engine --db x themes list``: the command names below the root."""
    names: list[str] = []
    while ctx.parent is not None:
        names.append(ctx.command.name or ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def missing_database_error(path: Path) -> StoreError:
    return StoreError(
        f"No database at {path}; check --db or FEEDBACK_ENGINE_DB, or run `feedback-engine ingest ...` first"
        " to create one.",
        path=str(path),
    )


@dataclass
class CliState:
    db_path: Path
    _engine: Any = field(default=None, repr=False)

    def database(self) -> Path:
        """``--db``, refused when the file does not exist, unless the running command creates databases."""
        if not self.db_path.exists() and command_key(click.get_current_context()) not in CREATES_DATABASE:
            raise missing_database_error(self.db_path)
        return self.db_path

    def engine(self, **kwargs: Any) -> Any:
        """The Engine for this invocation (opened once, closed when the command ends)."""
        if self._engine is None:
            from feedback_engine.engine import Engine

            self._engine = Engine(self.database(), **kwargs)
            click.get_current_context().call_on_close(self.close)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


pass_state = click.make_pass_decorator(CliState)

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")


class FriendlyGroup(click.Group):
    """A group that turns domain errors into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FeedbackEngineError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted. Work committed so far is kept; run the command again to continue.", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(1)


def progress_for(as_json: bool, unit: str = "items") -> Progress:
    return terminal_progress(quiet=as_json, unit=unit)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], empty: str = "(none)") -> None:
    """A plain left-aligned text table; cell text is shown with control characters escaped."""
    if not rows:
        click.echo(empty)
        return
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
    click.echo("  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=False)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for r in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip())


def _cell(value: Any, limit: int = 60) -> str:
    if value is None:
        return ""
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def emit(data: Any, as_json: bool, human: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON or through ``human``."""
    if as_json:
        print_json(data)
    else:
        human(data)
