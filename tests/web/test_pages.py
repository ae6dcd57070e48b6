"""The web app in-process (httpx's ASGI transport): login, roles, CSRF, pages, escaping, headers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import numpy as np
import pytest
from markupsafe import escape

from feedback_engine.engine import Engine
from feedback_engine.loop.settings import Settings
from feedback_engine.store import Store
from feedback_engine.web.app import build_app
from feedback_engine.web.pages import SORTS

from . import seed

SETTINGS = Settings.from_env({"FEEDBACK_ENGINE_SECRET": "pages-test-secret-0123456789-abcdef"})


@pytest.fixture
def site(tmp_path: Path):
    db_path = tmp_path / "feedback.db"
    ids = seed.build(db_path)
    return build_app(db_path, SETTINGS, quiet=True), db_path, ids


class Browser:
    """A cookie-keeping client over the ASGI app (sync facade over httpx.AsyncClient)."""

    def __init__(self, app, base_url: str = "http://testserver") -> None:
        import anyio

        self.base_url = base_url
        self._anyio = anyio
        self.app = app
        self.cookies = httpx.Cookies()

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url, cookies=self.cookies) as c:
                response = await c.request(method, url, **kwargs)
                self.cookies = c.cookies
                return response

        return self._anyio.run(go)

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, str] | None = None, **kwargs) -> httpx.Response:
        return self.request("POST", url, data=data or {}, **kwargs)

    def csrf(self, url: str = "/") -> str:
        match = re.search(r'name="csrf" value="([^"]+)"', self.get(url).text)
        assert match, "no CSRF field on the page"
        return match.group(1)

    def login(self, email: str, password: str = seed.PASSWORD) -> httpx.Response:
        nonce = self.csrf("/login")
        return self.post("/login", {"csrf": nonce, "email": email, "password": password, "next": "/"})


def logged_in(app, role: str) -> Browser:
    browser = Browser(app)
    response = browser.login(seed.USERS[role])
    assert response.status_code == 303 and response.headers["location"] == "/"
    return browser


def test_pages_need_a_login_and_keep_where_you_were_going(site):
    app, _, ids = site
    browser = Browser(app)
    response = browser.get(f"/themes/{ids['refunds']}?offset=0")
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Fthemes%2F{ids['refunds']}%3Foffset%3D0"
    assert browser.post(f"/themes/{ids['refunds']}/rename", {"name": "x"}).status_code == 403


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_each_role_logs_in_and_sees_triage(site, role):
    app, _, ids = site
    browser = logged_in(app, role)
    page = browser.get("/")
    assert page.status_code == 200 and "Refunds are slow" in page.text and f"({role})" in page.text
    assert ("Seed a new theme" in page.text) == (role != "viewer")
    theme = browser.get(f"/themes/{ids['refunds']}")
    assert theme.status_code == 200 and "My refund took weeks" in theme.text
    assert ('id="rename"' in theme.text) == (role != "viewer")


def test_session_cookie_flags_and_security_headers(site):
    app, _, _ = site
    browser = Browser(app)
    response = browser.login(seed.USERS["viewer"])
    cookie = response.headers["set-cookie"]
    assert "fe_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    page = browser.get("/")
    csp = page.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
        and "unsafe-inline" not in csp.split("style-src")[0]
    )
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in page.text and 'src="/static/app.js"' in page.text
    assert browser.get("/static/app.js").status_code == 200


def test_secure_cookie_behind_https(tmp_path):
    db_path = tmp_path / "feedback.db"
    seed.build(db_path)
    browser = Browser(build_app(db_path, SETTINGS, quiet=True, secure_cookies=True), "https://testserver")
    assert "Secure" in browser.login(seed.USERS["viewer"]).headers["set-cookie"]


def test_wrong_password_then_rate_limit(site):
    app, _, _ = site
    browser = Browser(app)
    for _ in range(5):
        response = browser.login(seed.USERS["editor"], "wrong password!")
        assert response.status_code == 401 and "The email or the password is wrong." in response.text
    response = browser.login(seed.USERS["editor"])  # the right password, but too many failures
    assert response.status_code == 429 and "Too many failed logins" in response.text


def test_login_form_without_its_token_is_refused(site):
    app, _, _ = site
    response = Browser(app).post("/login", {"email": seed.USERS["editor"], "password": seed.PASSWORD})
    assert response.status_code == 403 and "fe_session" not in response.headers.get("set-cookie", "")


def test_login_never_redirects_off_site(site):
    app, _, _ = site
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        browser = Browser(app)
        nonce = browser.csrf("/login")
        data = {"csrf": nonce, "email": seed.USERS["viewer"], "password": seed.PASSWORD, "next": target}
        assert browser.post("/login", data).headers["location"] == "/"


def test_editor_renames_and_merges(site):
    app, db_path, ids = site
    browser = logged_in(app, "editor")
    token = browser.csrf(f"/themes/{ids['refunds']}")
    response = browser.post(f"/themes/{ids['refunds']}/rename", {"csrf": token, "name": "Refund delays"})
    assert response.status_code == 303
    assert "Refund delays" in browser.get(f"/themes/{ids['refunds']}").text
    response = browser.post(f"/themes/{ids['refunds']}/merge", {"csrf": token, "other": str(ids["login"])})
    assert response.status_code == 303
    page = browser.get(f"/themes/{ids['refunds']}")
    assert "Items (10)" in page.text
    assert browser.get(f"/themes/{ids['login']}").headers["location"] == f"/themes/{ids['refunds']}"
    with Store(db_path) as store:
        assert store.scalar("SELECT by FROM theme_edits WHERE edit = 'rename'") == seed.USERS["editor"]


def test_viewer_posts_and_csrf_less_posts_are_refused(site):
    app, db_path, ids = site
    viewer = logged_in(app, "viewer")
    token = viewer.csrf("/")
    response = viewer.post(f"/themes/{ids['refunds']}/rename", {"csrf": token, "name": "hacked"})
    assert response.status_code == 403 and "needs the editor role" in response.text
    editor = logged_in(app, "editor")
    assert editor.post(f"/themes/{ids['refunds']}/rename", {"name": "no token"}).status_code == 403
    assert editor.post(f"/themes/{ids['refunds']}/rename", {"csrf": token, "name": "viewer's token"}).status_code == 403
    with Store(db_path) as store:
        assert store.scalar("SELECT label FROM themes WHERE id = ?", (ids["refunds"],)) == "Refunds are slow"


def test_logout_revokes_the_session(site):
    app, _, _ = site
    browser = logged_in(app, "viewer")
    old = browser.cookies.get("fe_session")
    assert browser.post("/logout", {"csrf": browser.csrf("/")}).status_code == 303
    again = Browser(app)
    again.cookies.set("fe_session", old)
    assert again.get("/").status_code == 303  # back to the login page


def test_password_change_ends_sessions(site):
    app, db_path, _ = site
    browser = logged_in(app, "viewer")
    with Engine(db_path) as engine:
        assert engine.accounts.set_password(seed.USERS["viewer"], "another long password") == 1
    assert browser.get("/").status_code == 303


def test_search_highlights_and_escapes(site):
    app, db_path, ids = site
    with Store(db_path) as store:
        seed.add_item(store, 'refund <script>window.pwned=1</script> "><img src=x onerror=alert(1)>', ids["refunds"])
    page = logged_in(app, "viewer").get("/", params={"q": "refund"})
    assert page.status_code == 200 and "8 items match" in page.text
    assert "<mark>refund</mark>" in page.text
    assert "<script>window" not in page.text and "&lt;script&gt;" in page.text
    assert "<img src=x" not in page.text


@pytest.mark.parametrize("q", ['"', "AND OR NOT", "*", "NEAR(", "a" * 500, "\x00", "ü"])
def test_search_with_fts_syntax_is_plain_text(site, q):
    app, _, _ = site
    assert logged_in(app, "viewer").get("/", params={"q": q}).status_code == 200


def test_bad_ids_and_unknown_pages(site):
    app, _, _ = site
    browser = logged_in(app, "viewer")
    assert browser.get("/themes/999").status_code == 404
    assert browser.get("/items/999").status_code == 404
    assert browser.get("/themes/abc").status_code == 404
    assert browser.get("/?sort=nonsense&dir=sideways").status_code == 200
    assert browser.get("/themes/1?offset=-5").status_code == 200


def test_item_page(site):
    app, _, _ = site
    page = logged_in(app, "viewer").get("/items/1")
    assert page.status_code == 200 and "My refund took weeks" in page.text and "Ann" in page.text


def test_editor_creates_updates_and_ships_an_action_through_the_preview(site):
    app, db_path, ids = site
    editor = logged_in(app, "editor")
    token = editor.csrf(f"/themes/{ids['refunds']}")
    data = {"csrf": token, "theme": str(ids["refunds"]), "title": "Faster refunds", "description": "Pay in 2 days"}
    response = editor.post("/actions", {**data, "owner": "pat", "due": "2030-01-31"})
    assert response.status_code == 303
    url = response.headers["location"]
    action_id = int(url.rsplit("/", 1)[1])
    assert "Faster refunds" in editor.get("/actions").text
    response = editor.post(f"{url}/update", {"csrf": token, "status": "planned", "note": "agreed in standup"})
    assert response.status_code == 303
    page = editor.get(url)
    assert 'id="status">planned<' in page.text and "agreed in standup" in page.text
    assert editor.post(f"{url}/update", {"csrf": token, "status": "shipped"}).headers["location"] == f"{url}/ship"
    preview = editor.get(f"{url}/ship")
    assert preview.status_code == 200 and "Ann" in preview.text and "My refund took weeks" in preview.text
    response = editor.post(f"{url}/exclude", {"csrf": token, "customer": "ann@example.com"})
    assert response.status_code == 303
    assert "Nobody would be told." in editor.get(f"{url}/ship").text
    assert editor.post(f"{url}/ship", {"csrf": token}).status_code == 400  # no confirm
    assert editor.post(f"{url}/ship", {"csrf": token, "confirm": "yes"}).status_code == 303
    with Engine(db_path) as engine:
        assert engine.actions.show(action_id)["status"] == "shipped"
        verdict = engine.insights.impact(action_id)["actions"][0]["verdict"]
    page = editor.get(url).text
    assert 'id="impact"' in page and str(escape(verdict)) in page  # the insights stage's verdict, shown once shipped
    assert "Faster refunds" in editor.get("/outbox").text


def test_the_ship_page_offers_a_theme_about_the_same_subject_escaped(site):
    app, db_path, ids = site
    with Store(db_path) as store, store.transaction():
        centroid = bytes(np.ones(384, dtype="<f4").tobytes())
        store.execute("UPDATE themes SET centroid = ? WHERE id = ?", (centroid, ids["refunds"]))
        store.execute(
            "INSERT INTO themes (label, origin, status, terms, quotes, centroid, size, created_at, updated_at) "
            "VALUES ('<b>Money back</b>', 'discovered', 'active', '[]', '[]', ?, 0, '2026-01-01', '2026-01-01')",
            (centroid,),
        )
    editor = logged_in(app, "editor")
    token = editor.csrf(f"/themes/{ids['refunds']}")
    data = {"csrf": token, "theme": str(ids["refunds"]), "title": "Faster refunds", "description": "Pay in 2 days"}
    url = editor.post("/actions", data).headers["location"]
    page = editor.get(f"{url}/ship").text
    assert 'id="related"' in page and "&lt;b&gt;Money back&lt;/b&gt;" in page and "<b>Money back" not in page
    assert "similarity 1.00" in page


def test_viewer_cannot_create_or_ship(site):
    app, db_path, ids = site
    viewer = logged_in(app, "viewer")
    token = viewer.csrf("/")
    data = {"csrf": token, "theme": str(ids["refunds"]), "title": "nope", "description": ""}
    assert viewer.post("/actions", data).status_code == 403
    assert "New action on this theme" not in viewer.get(f"/themes/{ids['refunds']}").text
    assert viewer.get("/actions/1/ship").status_code == 403
    with Store(db_path) as store:
        assert store.scalar("SELECT count(*) FROM actions") == 0


def test_bad_action_input_is_a_clear_400(site):
    app, _, ids = site
    editor = logged_in(app, "editor")
    token = editor.csrf("/")
    base = {"csrf": token, "theme": str(ids["refunds"]), "title": "t", "description": "d"}
    assert editor.post("/actions", {**base, "description": ""}).status_code == 400
    assert editor.post("/actions", {**base, "theme": "x"}).status_code == 400
    assert editor.post("/actions", {**base, "title": " "}).status_code == 400
    bad_due = editor.post("/actions", {**base, "due": "tomorrow-ish"})
    assert bad_due.status_code == 400 and "Traceback" not in bad_due.text
    unknown = editor.post("/actions", {**base, "theme": "999"})
    assert unknown.status_code == 404 and "No theme with id 999" in unknown.text
    assert editor.get("/actions/999").status_code == 404


def test_customer_page_and_admin_only_resubscribe(site):
    app, db_path, ids = site
    with Engine(db_path, settings=SETTINGS) as engine:
        engine.customers.unsubscribe("ann@example.com")
    editor = logged_in(app, "editor")
    page = editor.get(f"/customers/{ids['ann']}")
    assert page.status_code == 200 and "unsubscribed" in page.text and "Resubscribe" not in page.text
    assert editor.post(f"/customers/{ids['ann']}/resubscribe", {"csrf": editor.csrf("/")}).status_code == 403
    admin = logged_in(app, "admin")
    assert "Resubscribe" in admin.get(f"/customers/{ids['ann']}").text
    assert admin.post(f"/customers/{ids['ann']}/resubscribe", {"csrf": admin.csrf("/")}).status_code == 303
    with Store(db_path) as store:
        assert store.scalar("SELECT unsubscribed_at FROM customers WHERE id = ?", (ids["ann"],)) is None


def test_editor_splits_items_out_and_unmerges(site):
    app, db_path, ids = site
    editor = logged_in(app, "editor")
    token = editor.csrf(f"/themes/{ids['refunds']}")
    url = f"/themes/{ids['refunds']}"
    response = editor.request(
        "POST",
        f"{url}/split",
        content=f"csrf={token}&item=1&item=2&name=Refund+emails".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 303
    new = editor.get(response.headers["location"])
    assert "Refund emails" in new.text and "Items (2)" in new.text
    assert "Items (5)" in editor.get(url).text
    assert editor.post(f"{url}/split", {"csrf": token, "name": "nothing ticked"}).status_code == 400
    editor.post(f"{url}/merge", {"csrf": token, "other": str(ids["login"])})
    page = editor.get(url)
    assert f"Unmerge theme {ids['login']}" in page.text
    assert editor.post(f"{url}/unmerge", {"csrf": token, "merged": str(ids["login"])}).status_code == 303
    assert editor.get(f"/themes/{ids['login']}").status_code == 200  # active again
    assert "Items (5)" in editor.get(url).text


def test_admin_manages_users_and_others_cannot(site):
    app, db_path, _ = site
    editor = logged_in(app, "editor")
    assert editor.get("/settings").status_code == 403
    assert "Settings</a>" not in editor.get("/").text
    admin = logged_in(app, "admin")
    token = admin.csrf("/settings")
    data = {"csrf": token, "email": "new@example.com", "role": "viewer", "password": "a fine long password"}
    assert admin.post("/settings/users", data).status_code == 303
    assert admin.post("/settings/users", {**data, "password": "short"}).status_code == 400
    assert admin.post("/settings/users", {**data, "role": "root"}).status_code == 400
    change = {"csrf": token, "email": "new@example.com"}
    assert admin.post("/settings/users/change", {**change, "change": "role", "role": "editor"}).status_code == 303
    assert admin.post("/settings/users/change", {**change, "change": "disable"}).status_code == 303
    own = {"csrf": token, "email": seed.USERS["admin"], "change": "role", "role": "viewer"}
    assert admin.post("/settings/users/change", own).status_code == 400
    page = admin.get("/settings")
    assert "new@example.com" in page.text and "disabled" in page.text
    with Engine(db_path) as engine:
        assert engine.accounts.user("new@example.com")["role"] == "editor"
    assert editor.post("/settings/users", {**data, "csrf": editor.csrf("/")}).status_code == 403


def test_the_cached_themes_table_follows_edits_and_new_items(site):
    app, db_path, ids = site
    editor = logged_in(app, "editor")
    assert "Refunds are slow" in editor.get("/").text  # computed and cached
    token = editor.csrf("/")
    editor.post(f"/themes/{ids['refunds']}/rename", {"csrf": token, "name": "Refund delays"})
    page = editor.get("/")
    assert "Refund delays" in page.text and "Refunds are slow" not in page.text
    with Store(db_path) as store:
        seed.add_item(store, "Another refund story. Slow", ids["refunds"], day=9)
    assert '<td class="n">8</td>' in editor.get("/").text


def test_outbox_counts_notifications_by_state(site):
    app, db_path, ids = site
    with Engine(db_path, settings=SETTINGS) as engine:
        action_id = engine.actions.add(themes=[ids["refunds"]], title="Faster refunds", description="d")
        engine.actions.update(action_id, status="shipped")
        with engine.store.transaction() as conn:
            conn.execute(
                "INSERT INTO notifications (idem_key, action_id, customer_id, feedback_ids, created_at, updated_at)"
                " VALUES ('k1', ?, ?, '[1]', ?, ?)",
                (action_id, ids["ann"], seed.T0, seed.T0),
            )
    page = logged_in(app, "viewer").get("/outbox")
    assert page.status_code == 200 and "Faster refunds" in page.text and "waiting 1" in page.text


def test_triage_filters_by_channel_and_dates(site):
    app, db_path, ids = site
    with Store(db_path) as store, store.transaction() as conn:
        conn.execute("UPDATE feedback SET channel = 'review', platform = 'appstore' WHERE id IN (1, 2)")
    viewer = logged_in(app, "viewer")
    page = viewer.get("/", params={"channel": "review"})
    assert page.status_code == 200 and '<td class="n">2</td>' in page.text and "No themes" not in page.text
    page = viewer.get("/", params={"since": "2025-02-05", "until": "2025-02-06"})
    assert '<td class="n">2</td>' in page.text  # refunds on days 5 and 6
    assert "sort=volume&amp;dir=asc&amp;since=2025-02-05&amp;until=2025-02-06" in page.text  # sorting keeps filters
    assert viewer.get("/", params={"since": "yesterday"}).status_code == 400
    assert viewer.get("/", params={"channel": "<script>"}).status_code == 200


def test_theme_page_shows_weekly_trend_and_sentiment_by_channel(site):
    app, _, ids = site
    page = logged_in(app, "viewer").get(f"/themes/{ids['refunds']}")
    assert 'aria-label="items per week: 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7"' in page.text
    assert '<table id="by-channel">' in page.text and "<td>survey</td>" in page.text


def test_editor_moves_items_from_the_theme_page_and_the_item_page(site):
    app, db_path, ids = site
    editor = logged_in(app, "editor")
    url = f"/themes/{ids['refunds']}"
    page = editor.get(url).text
    assert (
        f'formaction="/themes/{ids["refunds"]}/move"' in page
        and '<option value="none">(out of all themes)</option>' in page
    )
    token = editor.csrf(url)
    form = f"csrf={token}&item=1&item=2&to={ids['login']}".encode()
    kind = {"Content-Type": "application/x-www-form-urlencoded"}
    response = editor.request("POST", f"{url}/move", content=form, headers=kind)
    assert response.status_code == 303 and response.headers["location"] == url
    assert "Items (5)" in editor.get(url).text and "Items (5)" in editor.get(f"/themes/{ids['login']}").text
    assert (
        editor.request("POST", f"{url}/move", content=f"csrf={token}&to=none".encode(), headers=kind).status_code == 400
    )
    response = editor.post("/items/3/move", {"csrf": token, "to": "none"})
    assert response.status_code == 303 and response.headers["location"] == "/items/3"
    item = editor.get("/items/3").text
    assert "In no theme." in item and "Placed by hand" in item
    assert f'moved from <a href="/themes/{ids["refunds"]}">theme {ids["refunds"]}</a> to no theme' in item
    assert seed.USERS["editor"] in item
    assert "Items (4)" in editor.get(url).text
    moved = editor.get("/items/1").text
    assert f'to <a href="/themes/{ids["login"]}">theme {ids["login"]}</a>' in moved
    assert editor.post("/items/3/move", {"csrf": token, "to": "none"}).status_code == 400  # already there: says so
    assert editor.post("/items/3/move", {"csrf": token}).status_code == 400
    assert editor.post("/items/3/move", {"csrf": token, "to": "999"}).status_code == 404
    with Store(db_path) as store:
        assert store.scalar("SELECT count(*) FROM theme_edits WHERE edit = 'move'") == 3


def test_viewer_and_csrf_less_moves_are_refused(site):
    app, db_path, ids = site
    viewer = logged_in(app, "viewer")
    token = viewer.csrf("/")
    assert 'id="move"' not in viewer.get("/items/1").text
    assert "formaction" not in viewer.get(f"/themes/{ids['refunds']}").text
    assert viewer.post("/items/1/move", {"csrf": token, "to": "none"}).status_code == 403
    editor = logged_in(app, "editor")
    assert editor.post("/items/1/move", {"to": "none"}).status_code == 403
    with Store(db_path) as store:
        assert store.scalar("SELECT count(*) FROM theme_assignments WHERE feedback_id = 1") == 1
        assert store.scalar("SELECT count(*) FROM theme_edits") == 0


def test_editor_edits_an_actions_title_description_owner_due_and_themes(site):
    app, db_path, ids = site
    editor = logged_in(app, "editor")
    token = editor.csrf(f"/themes/{ids['refunds']}")
    data = {"csrf": token, "theme": str(ids["refunds"]), "title": "Faster refunds", "description": "Pay in 2 days"}
    url = editor.post("/actions", {**data, "owner": "pat", "due": "2030-01-31"}).headers["location"]
    page = editor.get(url).text
    assert 'name="themes_shown"' in page and f'<option value="{ids["refunds"]}" selected>' in page
    form = {
        "csrf": token,
        "status": "proposed",
        "title": "Refunds <b>in a day</b>",
        "description": "Pay the same day",
        "owner": "",
        "due": "2030-02-28",
        "themes_shown": "1",
        "note": "wider scope",
    }
    body = "&".join(f"{k}={v}" for k, v in httpx.QueryParams(form).multi_items())
    body += f"&theme={ids['refunds']}&theme={ids['login']}"
    kind = {"Content-Type": "application/x-www-form-urlencoded"}
    assert editor.request("POST", f"{url}/update", content=body.encode(), headers=kind).status_code == 303
    page = editor.get(url).text
    assert "Refunds &lt;b&gt;in a day&lt;/b&gt;" in page and "<b>in a day" not in page
    assert "owner none" in page and "due 2030-02-28" in page and "10 items in all" in page
    assert "wider scope" in page and "themes: 1 → 1,2" in page.replace(str(ids["refunds"]), "1").replace(
        str(ids["login"]), "2"
    )
    assert "Login problems" in editor.get("/actions").text  # the list shows the new theme with its volume
    emptied = {"csrf": token, "themes_shown": "1", "title": "x"}
    response = editor.post(f"{url}/update", emptied)
    assert response.status_code == 400 and "at least one theme" in response.text
    with Engine(db_path) as engine:
        shown = engine.actions.show(int(url.rsplit("/", 1)[1]))
        assert shown["title"] == "Refunds <b>in a day</b>" and shown["owner"] is None
        assert [h["field"] for h in shown["history"]] == [
            "status",
            "title",
            "description",
            "themes",
            "owner",
            "due_date",
        ]


def test_plotly_is_served_by_the_app_with_a_long_cache(site):
    from feedback_engine.web.charts import plotly_file, plotly_url

    app, _, ids = site
    viewer = logged_in(app, "viewer")
    url = plotly_url()
    assert url is not None and url.startswith("/static/vendor/plotly-")
    page = viewer.get(f"/themes/{ids['refunds']}").text
    assert f'<script src="{url}" defer></script>' in page and '<script src="/static/charts.js" defer></script>' in page
    data = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page).group(1))
    assert data["trend"]["weekly"][-1] == 7 and len(data["trend"]["weeks"]) == 12
    assert [c["channel"] for c in data["channels"]] == ["survey"]
    response = Browser(app).get(url)  # no login needed: it is the public library
    assert response.status_code == 200 and response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("text/javascript")
    assert len(response.content) == plotly_file()[0].stat().st_size and b"plotly.js v" in response.content[:200]
    assert Browser(app).get("/static/vendor/plotly-0.0.1.min.js").status_code == 404
    assert Browser(app).get("/static/charts.js").status_code == 200


def test_theme_page_head_holds_only_its_own_scripts(site):
    app, db_path, ids = site
    with Store(db_path) as store, store.transaction() as conn:
        conn.execute("UPDATE themes SET label = ? WHERE id = ?", ("</script><script>alert(1)</script>", ids["refunds"]))
    page = logged_in(app, "viewer").get(f"/themes/{ids['refunds']}").text
    head = page.split("</head>")[0]
    assert head.count("<script") == 4  # app.js, the data block, plotly, charts.js: nothing injected


def _volumes(page: str) -> dict[str, int]:
    rows = re.findall(r'<td><a href="/themes/\d+">([^<]+)</a></td>\s*<td class="n">(\d+)</td>', page)
    return {label: int(n) for label, n in rows}


def test_triage_filters_by_platform_language_and_segment_and_sorts_any_column(site):
    app, db_path, ids = site
    with Store(db_path) as store, store.transaction() as conn:
        conn.execute("UPDATE feedback SET platform = 'appstore' WHERE id IN (1, 2, 8)")
        conn.execute("UPDATE analysis SET language = 'de' WHERE feedback_id IN (3, 9)")
        conn.execute("UPDATE customers SET segment = 'enterprise' WHERE id = ?", (ids["ann"],))
    viewer = logged_in(app, "viewer")
    page = viewer.get("/").text
    for choice in ('<option value="appstore">', '<option value="de">', '<option value="enterprise">'):
        assert choice in page  # the filters offer what the data holds
    assert _volumes(page) == {"Refunds are slow": 7, "Login problems": 3}
    assert _volumes(viewer.get("/", params={"platform": "appstore"}).text) == {
        "Refunds are slow": 2,
        "Login problems": 1,
    }
    assert _volumes(viewer.get("/", params={"language": "de"}).text) == {"Refunds are slow": 1, "Login problems": 1}
    page = viewer.get("/", params={"segment": "enterprise", "language": "en"}).text
    assert _volumes(page) == {"Refunds are slow": 6, "Login problems": 0}  # Ann's items, not the one in German
    assert '<option value="enterprise" selected>' in page and '<option value="en" selected>' in page
    assert "sort=label&amp;dir=desc&amp;language=en&amp;segment=enterprise" in page  # sorting keeps the filters
    for column in SORTS:
        asc = viewer.get("/", params={"sort": column, "dir": "asc", "platform": "typeform"})
        assert asc.status_code == 200 and "platform=typeform" in asc.text
    ordered = list(_volumes(viewer.get("/", params={"sort": "label", "dir": "asc"}).text))
    assert ordered == ["Login problems", "Refunds are slow"]
    page = viewer.get("/", params={"sort": "volume", "dir": "desc"}).text
    assert "7 vs 0 (+7)" in page and "3 vs 0 (+3)" in page  # the change is counted, not a bare percentage


def test_search_keeps_the_chosen_channel_and_dates(site):
    app, db_path, _ = site
    with Store(db_path) as store, store.transaction() as conn:
        conn.execute("UPDATE feedback SET channel = 'review' WHERE id IN (1, 2)")
    viewer = logged_in(app, "viewer")
    page = viewer.get("/", params={"q": "refund", "channel": "review"}).text
    assert "2 items match “refund” in review" in page and '<input type="hidden" name="channel" value="review">' in page
    page = viewer.get("/", params={"q": "refund", "since": "2025-02-06", "until": "2025-02-07"}).text
    assert "2 items match “refund” from 2025-02-06 to 2025-02-07" in page
    assert viewer.get("/", params={"q": "refund", "since": "2025-13-45"}).status_code == 400
    assert viewer.get("/", params={"since": "2025-02-30"}).status_code == 400
