"""Every command has help text (a command without it is a defect users hit first)."""

from __future__ import annotations

import click
from click.testing import CliRunner

from feedback_engine.cli import main


def _walk(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in sorted(group.commands.items()):
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, prefix + (name,))


def test_every_command_has_help_text():
    missing = [" ".join(path) for path, cmd in _walk(main) if not (cmd.help or "").strip()]
    assert missing == []


def test_every_command_answers_help():
    runner = CliRunner()
    for path, _cmd in _walk(main):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_root_help_lists_the_stages():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "--db" in result.output
