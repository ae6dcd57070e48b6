"""`feedback-engine users ...`: add, list, passwd, role, disable, revoke, token; clear errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from feedback_engine.cli import main
from feedback_engine.engine import Engine


def run(db_path, *args, password: str | None = "a long enough password"):
    env = {"FEEDBACK_ENGINE_PASSWORD": password} if password else {}
    return CliRunner().invoke(main, ["--db", str(db_path), *args], env=env)


def test_users_lifecycle(db_path):
    Engine(db_path).close()
    result = run(db_path, "users", "add", "Ann@Example.com", "--role", "editor")
    assert result.exit_code == 0 and result.output == "Added Ann@Example.com (editor).\n"
    assert run(db_path, "users", "add", "ann@example.com", "--role", "viewer").output.startswith(
        "Error: A user ann@example.com exists already"
    )
    listed = json.loads(run(db_path, "users", "list", "--json").output)
    assert [(u["email"], u["role"]) for u in listed] == [("Ann@Example.com", "editor")]
    assert "password_hash" not in listed[0]
    with Engine(db_path) as engine:
        session = engine.accounts.login("ann@example.com", "a long enough password")
        assert engine.accounts.session(session.token) is not None
    result = run(db_path, "users", "passwd", "ann@example.com", password="another long password")
    assert result.exit_code == 0 and "1 open session(s) ended" in result.output
    with Engine(db_path) as engine:
        assert engine.accounts.session(session.token) is None
    assert run(db_path, "users", "role", "ann@example.com", "admin").output == "Ann@Example.com is now admin.\n"
    assert run(db_path, "users", "disable", "ann@example.com").output == "Ann@Example.com is disabled.\n"
    token = run(db_path, "users", "token", "ann@example.com").output.strip()
    assert token.startswith("fe_")
    with Engine(db_path) as engine:
        assert engine.accounts.api_user(token) is None  # disabled
    assert run(db_path, "users", "disable", "ann@example.com", "--undo").output == "Ann@Example.com is enabled.\n"
    with Engine(db_path) as engine:
        assert engine.accounts.api_user(token)["role"] == "admin"
        stored = engine.store.scalar("SELECT password_hash FROM users")
        assert stored.startswith("$argon2id$")


def test_users_bad_input_is_one_line(db_path):
    Engine(db_path).close()
    assert run(db_path, "users", "add", "not-an-email", "--role", "viewer").output == (
        "Error: 'not-an-email' is not an email address.\n"
    )
    short = run(db_path, "users", "add", "bo@example.com", "--role", "viewer", password="short")
    assert short.exit_code != 0 and short.output.startswith("Error: The password is too short")
    assert run(db_path, "users", "passwd", "nobody@example.com").output.startswith("Error: No user nobody@example.com")
    assert "Invalid value for '--role'" in run(db_path, "users", "add", "bo@example.com", "--role", "root").output


def test_sessions_expire_and_rate_limits_count_per_email(db_path):
    from feedback_engine.accounts import LoginRefused

    with Engine(db_path) as engine:
        engine.accounts.add("ann@example.com", "viewer", "a long enough password")
        session = engine.accounts.login("ann@example.com", "a long enough password", client="10.0.0.1")
        assert engine.accounts.session(session.token).user["email"] == "ann@example.com"
        with engine.store.transaction() as conn:
            conn.execute("UPDATE web_sessions SET expires_at = '2000-01-01T00:00:00+00:00'")
        assert engine.accounts.session(session.token) is None  # expired
        assert engine.accounts.session("not a token") is None and engine.accounts.session("x" * 500) is None
        for _ in range(5):
            with pytest.raises(LoginRefused) as wrong:
                engine.accounts.login("nobody@example.com", "whatever", client="10.0.0.2")
            assert not wrong.value.limited
        with pytest.raises(LoginRefused) as limited:
            engine.accounts.login("nobody@example.com", "whatever", client="10.0.0.3")
        assert limited.value.limited
        # another email from another client is not limited by those failures
        assert engine.accounts.login("ann@example.com", "a long enough password", client="10.0.0.4").user
