"""cli.common: every command is classified by what it needs of --db; a missing database is refused in one line."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from feedback_engine.cli import main
from feedback_engine.cli.common import CREATES_DATABASE, NEEDS_DATABASE, NO_DATABASE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from _leaves(cmd, (*prefix, name))
        else:
            yield " ".join((*prefix, name))


def _missing(path: Path) -> str:
    return (
        f"Error: No database at {path}; check --db or FEEDBACK_ENGINE_DB, or run `feedback-engine ingest ...` first"
        " to create one.\n"
    )


def test_every_command_is_classified_once():
    commands = set(_leaves(main))
    sets = {"CREATES_DATABASE": CREATES_DATABASE, "NEEDS_DATABASE": NEEDS_DATABASE, "NO_DATABASE": NO_DATABASE}
    unclassified = sorted(c for c in commands if not any(c in s for s in sets.values()))
    assert unclassified == [], "add each to one set in feedback_engine/cli/common.py"
    twice = sorted(c for c in commands if sum(c in s for s in sets.values()) > 1)
    assert twice == []
    stale = sorted(set().union(*sets.values()) - commands)
    assert stale == [], "these are classified but no longer exist"


# One invocation per command that needs an existing database (arguments valid, so only --db is wrong).
NEEDS_ARGV = {
    "status": ["status"],
    "search": ["search", "refund"],
    "sources list": ["sources", "list"],
    "sources remove": ["sources", "remove", "ios"],
    "pull": ["pull", "--all"],
    "quarantine list": ["quarantine", "list"],
    "export feedback": ["export", "feedback", "--format", "csv"],
    "themes list": ["themes", "list"],
    "themes show": ["themes", "show", "1"],
    "themes rename": ["themes", "rename", "1", "Billing"],
    "themes merge": ["themes", "merge", "1", "2"],
    "themes unmerge": ["themes", "unmerge", "1"],
    "themes split": ["themes", "split", "1", "--items", "1", "--name", "SSO"],
    "themes move": ["themes", "move", "1", "--none"],
    "themes seed": ["themes", "seed", "Billing"],
    "actions list": ["actions", "list", "--json"],
    "actions show": ["actions", "show", "1"],
    "actions exclude": ["actions", "exclude", "1", "--item", "1"],
    "actions recipients": ["actions", "recipients", "1"],
    "actions add": ["actions", "add", "--theme", "1", "--title", "t", "--description", "d"],
    "actions update": ["actions", "update", "1", "--status", "planned"],
    "customers list": ["customers", "list"],
    "customers show": ["customers", "show", "ann@example.com"],
    "customers unsubscribe": ["customers", "unsubscribe", "ann@example.com"],
    "customers resubscribe": ["customers", "resubscribe", "ann@example.com"],
    "customers unsuppress": ["customers", "unsuppress", "ann@example.com"],
    "notify": ["notify", "--dry-run", "OUT"],
    "serve": ["serve", "--port", "0"],
    "analyze": ["analyze"],
    "users list": ["users", "list"],
    "insights emerging": ["insights", "emerging"],
    "insights churn-risk": ["insights", "churn-risk"],
    "insights themes-by-segment": ["insights", "themes-by-segment"],
    "insights loop-effect": ["insights", "loop-effect"],
    "alerts": ["alerts"],
    "insights drivers": ["insights", "drivers"],
    "insights impact": ["insights", "impact"],
    "users add": ["users", "add", "ann@example.com", "--role", "viewer"],
    "users passwd": ["users", "passwd", "ann@example.com"],
    "users role": ["users", "role", "ann@example.com", "admin"],
    "users disable": ["users", "disable", "ann@example.com"],
    "users revoke": ["users", "revoke", "ann@example.com"],
    "users token": ["users", "token", "ann@example.com"],
}


def test_every_command_that_needs_a_database_has_a_case_below():
    assert set(NEEDS_ARGV) == set(NEEDS_DATABASE)


@pytest.mark.parametrize("command", sorted(NEEDS_ARGV))
def test_a_missing_database_is_refused_in_one_line(tmp_path, monkeypatch, command):
    monkeypatch.setenv("FEEDBACK_ENGINE_SECRET", "cli-common-test-secret-0123456789abcdef")
    db = tmp_path / "typo.db"
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in NEEDS_ARGV[command]]
    result = CliRunner().invoke(main, ["--db", str(db), *argv])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", _missing(db))
    assert not db.exists()  # no empty database left behind
    assert not (tmp_path / "out").exists()


def test_the_env_var_path_is_named_and_notify_send_is_refused_too(tmp_path, monkeypatch):
    db = tmp_path / "nested" / "feedback.db"
    monkeypatch.setenv("FEEDBACK_ENGINE_DB", str(db))
    result = CliRunner().invoke(main, ["notify", "--send"])
    assert (result.exit_code, result.stderr) == (1, _missing(db))
    assert not db.parent.exists()


def test_commands_that_create_a_database_still_do(tmp_path):
    db = tmp_path / "new.db"
    result = CliRunner().invoke(
        main, ["--db", str(db), "ingest", "surveys", str(FIXTURES / "surveys/plain_id_text.csv")]
    )
    assert result.exit_code == 0, result.output
    assert db.exists()
    status = CliRunner().invoke(main, ["--db", str(db), "status", "--json"])
    assert status.exit_code == 0 and '"feedback": 25' in status.stdout


def test_an_existing_empty_database_is_not_refused(tmp_path):
    db = tmp_path / "feedback.db"
    assert CliRunner().invoke(main, ["--db", str(db), "ingest", "auto", str(tmp_path / "nothing-here")]).exit_code
    assert db.exists()  # ingest created it (and then found no exports)
    result = CliRunner().invoke(main, ["--db", str(db), "customers", "list"])
    assert (result.exit_code, result.stdout) == (0, "(no customers)\n")
