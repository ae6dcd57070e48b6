"""``feedback-engine``: a thin command line over :class:`feedback_engine.Engine`.

Each stage registers its commands from its own module; no logic lives only here.
"""

from __future__ import annotations

from pathlib import Path

import click

from feedback_engine import __version__
from feedback_engine.cli import demo, ingest, insights, loop, nlp, sources, themes, web
from feedback_engine.cli.common import CliState, FriendlyGroup


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="FEEDBACK_ENGINE_DB",
    default="feedback.db",
    show_default=True,
    help="SQLite database file (env: FEEDBACK_ENGINE_DB).",
)
@click.version_option(__version__, prog_name="feedback-engine")
@click.pass_context
def main(ctx: click.Context, db: Path) -> None:
    """Customer-feedback analytics: ingest, understand, close the loop."""
    ctx.obj = CliState(db_path=db)


for _module in (ingest, sources, nlp, themes, loop, insights, demo, web):
    _module.register(main)
