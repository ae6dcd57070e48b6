"""CLI commands of the insights stage: ``insights ...`` (each one a call to ``engine.insights``)."""

from __future__ import annotations

import click


@click.group("insights")
def insights() -> None:
    """What is emerging, what drives scores, whether fixes worked, who is at risk."""


def register(main: click.Group) -> None:
    main.add_command(insights)
