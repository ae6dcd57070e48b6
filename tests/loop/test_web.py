"""Unsubscribe through the real HTTP server (stdlib http.server on loopback) and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from feedback_engine.cli import main
from feedback_engine.loop.tokens import make_token
from feedback_engine.web.server import make_server

from .conftest import SECRET, add_customer, free_port, make_settings


@pytest.fixture
def web(db_path, store):
    server = make_server(db_path, host="127.0.0.1", port=0, settings=make_settings(25), quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(url: str, data: bytes | None = None) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8"), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8"), dict(exc.headers)


ONE_CLICK = b"List-Unsubscribe=One-Click"


def unsubscribed(store, cid):
    return store.scalar("SELECT unsubscribed_at FROM customers WHERE id = ?", (cid,))


def test_get_confirms_and_one_click_post_unsubscribes(web, store):
    cid = add_customer(store, "ann@example.com")
    url = f"{web}/unsubscribe?token={make_token(SECRET, cid)}"
    status, body, headers = fetch(url)
    assert status == 200 and "Unsubscribe?" in body and "a***@example.com" in body
    assert f'action="/unsubscribe?token={make_token(SECRET, cid)}"' in body
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    assert unsubscribed(store, cid) is None  # GET changes nothing (mail scanners follow links)
    status, body, _ = fetch(url, ONE_CLICK)
    assert status == 200 and "You are unsubscribed" in body
    first = unsubscribed(store, cid)
    assert first is not None
    assert fetch(url, ONE_CLICK)[0] == 200
    assert unsubscribed(store, cid) == first
    assert store.query("SELECT source FROM unsubscribe_events WHERE customer_id = ?", (cid,)) == [
        {"source": "web"},
        {"source": "web"},
    ]


def test_tampered_and_forged_tokens_get_an_error_page_and_change_nothing(web, store):
    ann = add_customer(store, "ann@example.com")
    bob = add_customer(store, "bob@example.com")
    good = make_token(SECRET, ann)
    prefix, _, sig = good.split(".")
    bad_tokens = [
        f"{prefix}.{bob}.{sig}",  # Ann's signature on Bob's id
        good[:-2] + ("AA" if good[-2:] != "AA" else "BB"),
        make_token("a-completely-different-secret-123", bob),
        "",
        "<script>alert(1)</script>",
    ]
    for token in bad_tokens:
        for data in (None, ONE_CLICK):
            status, body, _ = fetch(f"{web}/unsubscribe?token={quote(token)}", data)
            assert status == 400, token
            assert "This unsubscribe link does not work" in body and "Nothing was changed." in body
            assert "<script>alert" not in body
    assert unsubscribed(store, ann) is None and unsubscribed(store, bob) is None
    assert store.scalar("SELECT count(*) FROM unsubscribe_events") == 0


def test_post_without_one_click_body_is_refused(web, store):
    cid = add_customer(store, "ann@example.com")
    status, body, _ = fetch(f"{web}/unsubscribe?token={make_token(SECRET, cid)}", b"something=else")
    assert status == 400 and "List-Unsubscribe=One-Click" in body
    assert unsubscribed(store, cid) is None


def test_healthz_and_unknown_paths(web):
    assert fetch(f"{web}/healthz")[:2] == (200, "ok\n")
    assert fetch(f"{web}/admin")[0] == 404


def test_cli_unsubscribe(db_path, store):
    cid = add_customer(store, "ann@example.com")
    result = CliRunner().invoke(main, ["--db", str(db_path), "customers", "unsubscribe", " Ann@Example.com "])
    assert result.exit_code == 0
    assert result.output == f"ann@example.com is now unsubscribed (since {unsubscribed(store, cid)}).\n"
    again = CliRunner().invoke(main, ["--db", str(db_path), "customers", "unsubscribe", "ann@example.com"])
    assert again.output.startswith("ann@example.com was already unsubscribed")
    missing = CliRunner().invoke(main, ["--db", str(db_path), "customers", "unsubscribe", "nobody@example.com"])
    assert missing.exit_code == 1
    assert (
        missing.output == "Error: No customer with email 'nobody@example.com'; see `feedback-engine customers list`.\n"
    )


def test_serve_command_runs_and_needs_a_secret(db_path, store, monkeypatch):
    monkeypatch.delenv("FEEDBACK_ENGINE_SECRET", raising=False)
    result = CliRunner().invoke(main, ["--db", str(db_path), "serve", "--port", "0"])
    assert result.exit_code == 2 and result.output.startswith("Error: FEEDBACK_ENGINE_SECRET is not set.")
    port = free_port()
    env = {**os.environ, "FEEDBACK_ENGINE_SECRET": SECRET}
    cid = add_customer(store, "ann@example.com")
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedback_engine", "--db", str(db_path), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if fetch(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
            time.sleep(0.1)
        token = make_token(SECRET, cid)
        assert fetch(f"http://127.0.0.1:{port}/unsubscribe?token={token}", ONE_CLICK)[0] == 200
        assert unsubscribed(store, cid) is not None
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert token.encode() not in err  # request logs never contain tokens
    assert b"POST /unsubscribe" in err
