"""The HTTP client against a real loopback server: 429 with Retry-After (capped), a 500 then
success, a timeout then success, retries that run out, an expired token (401), a wrong setting (404)."""

from __future__ import annotations

import pytest

from feedback_engine.ingest.connectors.http import HttpClient, SourceAuthError, SourceHttpError, SourceUnavailable
from tests.ingest.connectors.server import Answer


def client(sleeps, **kwargs) -> HttpClient:
    return HttpClient(**{"timeout": 0.5, "retries": 3, "backoff": 0.01, "max_wait": 0.05, "sleep": sleeps, **kwargs})


def test_429_waits_retry_after_capped_then_succeeds(api, sleeps):
    api.route("/p", Answer(429, {"error": "slow down"}, {"Retry-After": "7"}), Answer(200, {"ok": 1}))
    with client(sleeps) as http:
        page = http.get_json(f"{api.base}/p")
    assert page.data == {"ok": 1} and page.error is None
    assert sleeps == [0.05]  # Retry-After 7 s, capped at max_wait
    assert len(api.hits("/p")) == 2


def test_429_retry_after_below_the_cap_is_waited_as_given(api, sleeps):
    api.route("/p", Answer(429, {}, {"Retry-After": "2"}), Answer(200, {"ok": 1}))
    with client(sleeps, max_wait=60) as http:
        http.get_json(f"{api.base}/p")
    assert sleeps == [2.0]


def test_a_500_then_success_is_retried_with_backoff(api, sleeps):
    api.route("/p", Answer(500, "oops"), Answer(502, "bad gateway"), Answer(200, [1, 2]))
    with client(sleeps) as http:
        assert http.get_json(f"{api.base}/p").data == [1, 2]
    assert sleeps == [0.01, 0.02]  # doubling


def test_a_timeout_then_success(api, sleeps):
    api.route("/p", Answer(200, {"late": True}, delay=1.0), Answer(200, {"ok": 1}))
    with client(sleeps, timeout=0.2) as http:
        assert http.get_json(f"{api.base}/p").data == {"ok": 1}
    assert len(sleeps) == 1


def test_retries_run_out_and_say_so(api, sleeps):
    api.route("/p", Answer(503, "down"))
    with client(sleeps) as http, pytest.raises(SourceUnavailable, match=r"kept failing \(HTTP 503\).*4 tries"):
        http.get_json(f"{api.base}/p", api="Zendesk")
    assert len(api.hits("/p")) == 4 and len(sleeps) == 3


def test_a_refused_connection_is_retried_then_reported(sleeps):
    from tests.ingest.connectors.server import ApiServer

    gone = ApiServer()
    base = gone.base
    gone.close()  # nothing listens on that port any more
    with client(sleeps) as http, pytest.raises(SourceUnavailable, match="Cannot reach Reddit"):
        http.get_json(f"{base}/p", api="Reddit")
    assert len(sleeps) == 3


def test_an_expired_token_stops_at_once_naming_where_the_credential_comes_from(api, sleeps):
    api.route("/p", Answer(401, {"error": "invalid_token"}))
    with client(sleeps) as http, pytest.raises(SourceAuthError) as info:
        http.get_json(f"{api.base}/p", api="Zendesk", credential="the environment variable ZENDESK_API_TOKEN")
    assert str(info.value) == (
        f"Zendesk answered 401 Unauthorized at {api.base}/p: the environment variable ZENDESK_API_TOKEN"
        " is missing, wrong or expired; set it and pull again."
    )
    assert sleeps == [] and len(api.hits("/p")) == 1


def test_a_404_is_a_wrong_setting_not_retried(api, sleeps):
    with client(sleeps) as http, pytest.raises(SourceHttpError, match="HTTP 404"):
        http.get_json(f"{api.base}/nothing-here")
    assert sleeps == []


def test_invalid_json_comes_back_as_a_broken_page(api, sleeps):
    api.route("/p", Answer(200, "<html>maintenance</html>"))
    with client(sleeps) as http:
        page = http.get_json(f"{api.base}/p")
    assert page.data is None and page.error.startswith("invalid JSON") and page.text == "<html>maintenance</html>"


def test_redirects_are_followed_on_the_same_host_only(api, sleeps):
    from tests.ingest.connectors.server import ApiServer

    other = ApiServer()
    try:
        api.route("/moved", Answer(301, "", {"Location": "/here"}))
        api.route("/here", Answer(200, {"ok": 1}))
        api.route("/away", Answer(302, "", {"Location": f"http://localhost:{other.base.rsplit(':', 1)[1]}/steal"}))
        with client(sleeps) as http:
            assert http.get_json(f"{api.base}/moved", headers={"apikey": "k"}).data == {"ok": 1}
            assert api.hits("/here")[0]["headers"]["apikey"] == "k"
            with pytest.raises(SourceHttpError, match="redirected .* to another host"):
                http.get_json(f"{api.base}/away", headers={"apikey": "k"})
        assert other.requests == []  # the key never left for the other host
    finally:
        other.close()
