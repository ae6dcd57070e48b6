"""The unsubscribe server against malformed and hostile requests: raw sockets, the real server on loopback.

Each answer is checked on the wire (status line, headers) and the server's stderr is captured:
client mistakes get a status, never a traceback, and no log line holds a query string (tokens).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from feedback_engine.loop.settings import Settings
from feedback_engine.loop.tokens import make_token
from feedback_engine.store import Store, utcnow
from feedback_engine.web.server import make_server

SECRET = "hardening-test-secret-0123456789-abcdef"
TOKEN = make_token(SECRET, 1)


def _customer_db(tmp_path: Path) -> Path:
    db_path = tmp_path / "feedback.db"
    with Store(db_path) as store:
        now = utcnow()
        store.execute(
            "INSERT INTO customers (email, display_name, consent, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
            ("ann@example.com", "Ann", now, now),
        )
        store.conn.commit()
    return db_path


@pytest.fixture
def port(tmp_path: Path):
    """A real server on 127.0.0.1 that logs (quiet=False) and gives up on a stalled read after 1 s."""
    settings = Settings.from_env({"FEEDBACK_ENGINE_SECRET": SECRET})
    server = make_server(_customer_db(tmp_path), port=0, settings=settings, quiet=False, request_timeout=1.0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def with_host(data: bytes) -> bytes:
    """An HTTP/1.1 request gets the Host header RFC 9112 requires (h11 refuses one without it with a 400)."""
    line, sep, rest = data.partition(b"\r\n")
    if not line.endswith(b" HTTP/1.1") or b"\r\nhost:" in (b"\r\n" + rest).lower():
        return data
    return line + sep + b"Host: 127.0.0.1\r\n" + rest


def raw(port: int, data: bytes, *, close_write: bool = False, timeout: float = 15.0) -> bytes:
    """Send ``data`` (with a Host header, see :func:`with_host`) and read the answer until the server closes."""
    data = with_host(data)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    line = response.split(b"\r\n", 1)[0]
    match = re.fullmatch(rb"HTTP/1\.[01] (\d{3}) .*", line)
    assert match, f"no status line in {response[:200]!r}"
    return int(match.group(1))


def header(response: bytes, name: str) -> str | None:
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def body_of(response: bytes) -> str:
    return response.split(b"\r\n\r\n", 1)[1].decode("utf-8")


def clean_log(capfd: pytest.CaptureFixture[str]) -> str:
    err = capfd.readouterr().err
    assert "Traceback" not in err, err
    assert "Exception" not in err, err
    assert TOKEN not in err and "token=" not in err, err  # query strings are never logged
    return err


MALFORMED = {
    "one word": (b"GARBAGE\r\n\r\n", 400),
    "four words with a token": (f"GET /unsubscribe?token={TOKEN} x HTTP/1.1\r\n\r\n".encode(), 400),
    "bad version": (b"GET /healthz HTTP/1.x\r\n\r\n", 400),
    "not http": (b"GET /healthz FTP/1.0\r\n\r\n", 400),
    "HTTP/9.9": (b"GET /healthz HTTP/9.9\r\n\r\n", 505),
    "HTTP/2.0": (b"GET /healthz HTTP/2.0\r\n\r\n", 505),
    "HTTP/0.9 simple request": (b"GET /healthz\r\n\r\n", 400),
    "70 KB request line": (b"GET /unsubscribe?token=" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    "70 KB header line": (b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    "101 headers": (b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(101)) + b"\r\n", 431),
    "invalid IPv6 host in the URL": (b"GET http://[broken/healthz HTTP/1.1\r\n\r\n", 400),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_requests_get_a_status_and_no_traceback(port, capfd, name):
    request, expected = MALFORMED[name]
    response = raw(port, request)
    assert status_of(response) == expected
    assert header(response, "Connection") == "close"
    assert header(response, "Content-Type") == "text/plain; charset=utf-8"
    assert header(response, "X-Content-Type-Options") == "nosniff"
    text = body_of(response)
    assert text.startswith(f"{expected} ") and len(text) < 200
    assert TOKEN not in text and "aaaa" not in text  # the request is never echoed back
    err = clean_log(capfd)
    assert f" {expected}\n" in err  # still logged, with its status


METHODS = [
    (b"PUT /unsubscribe HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "GET, HEAD, POST"),
    (b"DELETE /unsubscribe HTTP/1.1\r\n\r\n", 405, "GET, HEAD, POST"),
    (b"PATCH /unsubscribe HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "GET, HEAD, POST"),
    (b"OPTIONS /unsubscribe HTTP/1.1\r\n\r\n", 405, "GET, HEAD, POST"),
    (b"TRACE /healthz HTTP/1.1\r\n\r\n", 405, "GET, HEAD"),
    (b"POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "GET, HEAD"),
    (b"PUT /admin HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 404, None),
    (b"BREW /unsubscribe HTTP/1.1\r\n\r\n", 501, None),
    (b"get /healthz HTTP/1.1\r\n\r\n", 501, None),  # methods are case-sensitive
]


@pytest.mark.parametrize(("request_bytes", "expected", "allow"), METHODS)
def test_methods_a_route_does_not_take_get_405_with_allow(port, capfd, request_bytes, expected, allow):
    response = raw(port, request_bytes)
    assert status_of(response) == expected
    assert header(response, "Allow") == allow
    clean_log(capfd)


def _post(length_headers: bytes, body: bytes = b"") -> bytes:
    return b"POST /unsubscribe?token=" + TOKEN.encode() + b" HTTP/1.1\r\n" + length_headers + b"\r\n" + body


BODIES = {
    "no Content-Length": (_post(b""), 411),
    "Content-Length abc": (_post(b"Content-Length: abc\r\n"), 400),
    "Content-Length -1": (_post(b"Content-Length: -1\r\n"), 400),
    "Content-Length +5": (_post(b"Content-Length: +5\r\n", b"12345"), 400),
    "Content-Length 1_0": (_post(b"Content-Length: 1_0\r\n", b"0123456789"), 400),
    "Content-Length superscript two": (_post(b"Content-Length: \xb2\r\n", b"12"), 400),
    "two Content-Lengths": (_post(b"Content-Length: 26\r\nContent-Length: 5\r\n", b"List-Unsubscribe=One-Click"), 400),
    "huge Content-Length": (_post(b"Content-Length: " + b"9" * 5000 + b"\r\n"), 400),  # h11: over 20 digits
    "Content-Length just over the limit": (_post(b"Content-Length: 9999999999\r\n"), 413),
    "body over 16 KiB": (_post(b"Content-Length: 20000\r\n", b"x" * 20000), 413),
    "chunked": (_post(b"Transfer-Encoding: chunked\r\n", b"1a\r\nList-Unsubscribe=One-Click\r\n0\r\n\r\n"), 501),
}


@pytest.mark.parametrize("name", list(BODIES))
def test_bad_post_bodies_are_refused_and_change_nothing(port, capfd, tmp_path, name):
    request, expected = BODIES[name]
    assert status_of(raw(port, request)) == expected
    clean_log(capfd)
    with Store(tmp_path / "feedback.db") as store:
        assert store.scalar("SELECT unsubscribed_at FROM customers WHERE id = 1") is None


def test_a_body_shorter_than_its_content_length_times_out_with_408(port, capfd):
    started = time.monotonic()
    response = raw(port, _post(b"Content-Length: 26\r\n", b"List-Unsub"))  # and then nothing
    assert status_of(response) == 408
    assert time.monotonic() - started < 10  # request_timeout is 1 s: it does not hang
    clean_log(capfd)


def test_a_request_that_stops_in_the_headers_times_out_with_408(port, capfd):
    assert status_of(raw(port, b"GET /healthz HTTP/1.1\r\nHost: x")) == 408
    clean_log(capfd)


def test_a_body_cut_short_by_the_client_is_a_400(port, capfd):
    response = raw(port, _post(b"Content-Length: 26\r\n", b"List-Unsub"), close_write=True)
    assert status_of(response) == 400 and "shorter than its Content-Length" in body_of(response)
    clean_log(capfd)


def test_a_valid_one_click_post_over_a_raw_socket_still_works(port, capfd, tmp_path):
    response = raw(port, _post(b"Content-Length: 26\r\n", b"List-Unsubscribe=One-Click"))
    assert status_of(response) == 200 and "You are unsubscribed" in body_of(response)
    assert "POST /unsubscribe 200\n" in clean_log(capfd)
    with Store(tmp_path / "feedback.db") as store:
        assert store.scalar("SELECT unsubscribed_at FROM customers WHERE id = 1") is not None


def test_non_utf8_query_strings_and_paths(port, capfd):
    for target in (b"/unsubscribe?token=%ff%fe%80", b"/unsubscribe?token=%"):
        response = raw(port, b"GET " + target + b" HTTP/1.1\r\n\r\n")
        assert status_of(response) == 400, target
        assert "This unsubscribe link does not work" in body_of(response)
    assert status_of(raw(port, b"GET /healthz?x=%ff HTTP/1.1\r\n\r\n")) == 200
    assert status_of(raw(port, b"GET /%ff%fe HTTP/1.1\r\n\r\n")) == 404
    # raw non-ASCII bytes in the target are refused by h11 (RFC 9112 allows none) before any route
    for target in (b"/unsubscribe?token=\xff\xfe", b"/healthz?x=\xff", b"/\xff\xfe%ff"):
        assert status_of(raw(port, b"GET " + target + b" HTTP/1.1\r\n\r\n")) == 400, target
    err = clean_log(capfd)
    assert "\xff" not in err  # non-ASCII is escaped in the log


def test_control_characters_in_the_path_never_reach_the_log(port, capfd):
    # raw control characters: h11 refuses the request line (400), logged without the path
    assert status_of(raw(port, b"GET /a\x1b[31mred\x07 HTTP/1.1\r\n\r\n")) == 400
    # percent-encoded ones reach the router (404) and are logged as sent, still escaped
    assert status_of(raw(port, b"GET /a%1b[31mred%07 HTTP/1.1\r\n\r\n")) == 404
    err = clean_log(capfd)
    assert "\x1b" not in err and "\x07" not in err
    assert " - - 400\n" in err and "GET /a%1b[31mred%07 404" in err


def test_head_answers_headers_only(port, capfd):
    response = raw(port, b"HEAD /healthz HTTP/1.1\r\n\r\n")
    assert status_of(response) == 200 and response.endswith(b"\r\n\r\n")
    assert status_of(raw(port, b"HEAD /healthz HTTP/9.9\r\n\r\n")) == 505
    clean_log(capfd)


def test_clients_that_hang_up_early_leave_no_traceback(port, capfd):
    for data in (b"GET /unsub", b"POST /unsubscribe HTTP/1.1\r\nContent-Length: 26\r\n\r\nList"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(data)
        # an RST instead of a FIN: the server's read fails with ConnectionResetError
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.sendall(data)
    assert status_of(raw(port, b"GET /healthz HTTP/1.1\r\n\r\n")) == 200  # still serving
    time.sleep(1.5)  # let the handlers of the dropped connections finish
    clean_log(capfd)


# -- the real command: `feedback-engine serve` in a subprocess -------------------------------------


def _start_serve(db_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ, "FEEDBACK_ENGINE_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedback_engine", "--db", str(db_path), "serve", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline().decode()  # "Serving on http://127.0.0.1:PORT (Ctrl+C to stop)"
    match = re.match(r"Serving on http://127\.0\.0\.1:(\d+) \(Ctrl\+C to stop\)$", first.strip())
    if match is None:
        proc.kill()
        pytest.fail(f"serve did not start: {first}{proc.communicate()[1].decode()}")
    return proc, int(match.group(1))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_on_ctrl_c_and_sigterm(tmp_path, signum):
    proc, port = _start_serve(_customer_db(tmp_path))
    try:
        for request, expected in MALFORMED.values():  # the real process, its real stderr
            assert status_of(raw(port, request)) == expected
        assert status_of(raw(port, b"GET /healthz HTTP/1.1\r\n\r\n")) == 200
        proc.send_signal(signum)
        _, err_bytes = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    err = err_bytes.decode()
    assert proc.returncode == 0, err
    assert err.endswith("Stopped serving.\n"), err
    assert "Interrupted" not in err and "Traceback" not in err and TOKEN not in err
    assert "GET /healthz 200\n" in err and " 414\n" in err and " 505\n" in err


def test_a_broken_stderr_never_breaks_an_answer(port, monkeypatch):
    class BrokenPipe:
        def write(self, _text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stderr", BrokenPipe())  # e.g. `feedback-engine serve 2>&1 | head`
    assert status_of(raw(port, b"GET /healthz HTTP/1.1\r\n\r\n")) == 200
    assert status_of(raw(port, b"GARBAGE\r\n\r\n")) == 400


def test_cookies_are_secure_behind_an_https_proxy_on_loopback(port, capfd):
    plain = raw(port, b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(plain) == 200 and "Secure" not in (header(plain, "Set-Cookie") or "")
    proxied = raw(port, b"GET /login HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n")
    assert status_of(proxied) == 200 and "Secure" in (header(proxied, "Set-Cookie") or "")
    clean_log(capfd)
