"""CLI commands of the loop stage."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Add this module's commands to the root group."""
    return None
