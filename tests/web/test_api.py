"""``/api/...`` with per-user bearer tokens: the same reads as the pages, JSON errors."""

from __future__ import annotations

import json

import pytest

from feedback_engine.engine import Engine
from feedback_engine.store import Store

from .test_pages import Browser, site  # noqa: F401  (the fixture)

from . import seed  # isort: skip


@pytest.fixture
def token(site):  # noqa: F811
    _, db_path, _ = site
    with Engine(db_path) as engine:
        return engine.accounts.new_api_token(seed.USERS["viewer"], "tests")


def get(app, url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = Browser(app).get(url, headers=headers)
    return response.status_code, json.loads(response.text), response.headers


def test_reads_with_a_token(site, token):  # noqa: F811
    app, _, ids = site
    status, body, headers = get(app, "/api/themes", token)
    assert status == 200 and headers["content-type"] == "application/json"
    assert [t["label"] for t in body] == ["Refunds are slow", "Login problems"]
    status, body, _ = get(app, f"/api/themes/{ids['refunds']}/items?limit=2", token)
    assert status == 200 and body["total"] == 7 and len(body["items"]) == 2
    status, body, _ = get(app, "/api/search?q=password", token)
    assert status == 200 and body["total"] == 3
    assert get(app, "/api/items/1", token)[1]["customer"]["display_name"] == "Ann"
    assert get(app, "/api/actions", token)[:2] == (200, [])
    assert get(app, "/api/status", token)[0] == 200


def test_no_or_bad_token_is_401_and_errors_are_json(site, token):  # noqa: F811
    app, db_path, _ = site
    status, body, headers = get(app, "/api/themes", None)
    assert status == 401 and "Bearer" in body["error"] and headers["www-authenticate"] == "Bearer"
    assert get(app, "/api/themes", "fe_forged")[0] == 401
    assert get(app, "/api/themes/999", token)[0] == 404
    assert get(app, "/api/themes/1/items?offset=abc", token)[0] == 400
    assert get(app, "/api/actions?status=bogus", token)[0] == 400
    with Engine(db_path) as engine:
        engine.accounts.disable(seed.USERS["viewer"])
    assert get(app, "/api/themes", token)[0] == 401


def test_themes_take_the_triage_filters(site, token):  # noqa: F811
    app, db_path, _ = site
    with Store(db_path) as store, store.transaction() as conn:
        conn.execute("UPDATE feedback SET platform = 'appstore' WHERE id IN (1, 2, 8)")
    status, body, _ = get(app, "/api/themes?platform=appstore", token)
    assert status == 200 and {t["label"]: t["volume"] for t in body} == {"Refunds are slow": 2, "Login problems": 1}
    status, body, _ = get(app, "/api/themes?since=2025-02-05&until=2025-02-07&channel=survey", token)
    assert {t["label"]: t["volume"] for t in body} == {"Refunds are slow": 3, "Login problems": 0}
    assert get(app, "/api/themes?since=2025-02-30", token)[0] == 400
