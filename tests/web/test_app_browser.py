"""The web app in a real browser (Debian's Chromium, headless): roles, triage edits, shipping an
action through the preview, refused POSTs, and an XSS corpus that must stay inert.

Screenshots go to the test's tmp folder (``screenshots/``). Skipped only when Chromium or
chromedriver are not installed (`.ci/run` installs them on Debian).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from feedback_engine.loop.settings import Settings
from feedback_engine.store import Store
from feedback_engine.web.server import make_server

from . import seed
from .browser import needs_browser, start_chromium

pytestmark = needs_browser

SECRET = "app-browser-test-secret-0123456789-abcdef"

# Each payload would set window.__xss or open an alert if it ever ran.
XSS = [
    "<script>window.__xss=1</script>",
    '"><script>window.__xss=2</script>',
    '\'><img src=x onerror="window.__xss=3">',
    '<svg onload="window.__xss=4"><svg/onload=alert(4)>',
    '<a href="javascript:window.__xss=5">click</a>',
    "javascript:window.__xss=6",
    '<iframe srcdoc="<script>parent.__xss=7</script>"></iframe>',
    "\u202e<script>window.__xss=8</script>\u202c \ufeff<scr\u0000ipt>window.__xss=9</script>",
    "{{ 7*7 }} {% raw %}x{% endraw %} <style>body{display:none}</style>",
    '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=10">',
]


@pytest.fixture
def served(tmp_path: Path):
    db_path = tmp_path / "feedback.db"
    ids = seed.build(db_path)
    with Store(db_path) as store:
        bad_theme = seed.add_theme(store, "Bad " + XSS[0] + XSS[2])
        for n, payload in enumerate(XSS):
            cid = seed.add_customer(store, f"x{n}@example.com", payload)
            seed.add_item(store, f"xss refund {payload}. Second {payload}", bad_theme, cid, day=n + 1)
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO actions (title, description, created_at, created_by, updated_at, updated_by) "
                "VALUES (?, ?, ?, 'test', ?, 'test')",
                (XSS[1], XSS[4], seed.T0, seed.T0),
            )
            action_id = conn.execute("SELECT max(id) FROM actions").fetchone()[0]
            conn.execute("INSERT INTO action_themes (action_id, theme_id) VALUES (?, ?)", (action_id, bad_theme))
    ids.update(bad=bad_theme, xss_action=action_id)
    settings = Settings.from_env({"FEEDBACK_ENGINE_SECRET": SECRET})
    server = make_server(db_path, host="127.0.0.1", port=0, settings=settings, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", db_path, ids
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(tmp_path: Path):
    driver = start_chromium(tmp_path / "chromium-profile", window="1280,1000")
    yield driver
    driver.quit()


def shot(driver, tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def click_and_wait(driver, element) -> None:
    """Click something that loads a new page, and wait until the old page is gone."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(old))


def login(driver, base: str, role: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "email").send_keys(seed.USERS[role])
    driver.find_element(By.ID, "password").send_keys(seed.PASSWORD)
    click_and_wait(driver, driver.find_element(By.ID, "login"))
    assert f"({role})" in driver.find_element(By.CSS_SELECTOR, "header .who").text


def no_script_ran(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    assert driver.execute_script("return window.__xss === undefined && window.parent.__xss === undefined")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018


def post_without_js_rules(driver, url: str, body: str) -> int:
    """A POST from the page itself (same origin, the session cookie goes along); returns the status."""
    return int(
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {method: 'POST', body: arguments[1], credentials: 'same-origin',"
            " headers: {'Content-Type': 'application/x-www-form-urlencoded'}}).then(r => done(r.status));",
            url,
            body,
        )
    )


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_each_role_logs_in(served, browser, tmp_path, role):
    from selenium.webdriver.common.by import By

    base, _, ids = served
    login(browser, base, role)
    assert "Refunds are slow" in browser.find_element(By.ID, "themes").text
    browser.get(f"{base}/themes/{ids['refunds']}")
    assert bool(browser.find_elements(By.ID, "rename")) == (role != "viewer")
    shot(browser, tmp_path, f"theme-{role}")


def test_editor_renames_creates_and_ships_an_action(served, browser, tmp_path):
    from selenium.webdriver.common.by import By

    base, db_path, ids = served
    login(browser, base, "editor")
    browser.get(f"{base}/?q=refund")
    assert browser.find_elements(By.CSS_SELECTOR, "#results mark")
    shot(browser, tmp_path, "search")
    browser.get(f"{base}/themes/{ids['refunds']}")
    name = browser.find_element(By.CSS_SELECTOR, "#rename input[name=name]")
    name.clear()
    name.send_keys("Refund delays")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#rename button"))
    assert browser.find_element(By.ID, "label").text == "Refund delays"
    form = browser.find_element(By.ID, "new-action")
    form.find_element(By.NAME, "title").send_keys("Pay refunds within 2 days")
    form.find_element(By.NAME, "description").send_keys("New refund pipeline")
    form.find_element(By.NAME, "owner").send_keys("pat")
    click_and_wait(browser, form.find_element(By.TAG_NAME, "button"))
    assert browser.find_element(By.ID, "title").text == "Pay refunds within 2 days"
    click_and_wait(browser, browser.find_element(By.ID, "ship"))
    recipients = browser.find_element(By.ID, "recipients").text
    assert "Ann" in recipients and "My refund took weeks" in recipients
    shot(browser, tmp_path, "ship-preview")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#confirm button"))
    assert browser.find_element(By.ID, "status").text == "shipped"
    browser.get(f"{base}/outbox")
    assert "Pay refunds within 2 days" in browser.find_element(By.ID, "outbox").text
    browser.get(f"{base}/actions")
    shot(browser, tmp_path, "backlog")
    with Store(db_path) as store:
        assert store.scalar("SELECT status FROM actions WHERE title = 'Pay refunds within 2 days'") == "shipped"


def test_editor_moves_items_and_edits_an_action(served, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, db_path, ids = served
    login(browser, base, "editor")
    browser.get(f"{base}/")  # triage: filter, then sort; the filter stays in the address
    Select(browser.find_element(By.CSS_SELECTOR, "#filters select[name=channel]")).select_by_value("survey")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#filters button"))
    assert "channel=survey" in browser.current_url
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Theme"))
    assert "sort=label" in browser.current_url and "channel=survey" in browser.current_url
    assert "Refunds are slow" in browser.find_element(By.ID, "themes").text
    shot(browser, tmp_path, "triage-filtered")
    browser.get(f"{base}/themes/{ids['refunds']}")
    browser.find_element(By.CSS_SELECTOR, "input[name=item][value='1']").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=item][value='2']").click()
    Select(browser.find_element(By.CSS_SELECTOR, "#move select[name=to]")).select_by_visible_text("Login problems")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#move button"))
    assert "Items (5)" in browser.find_element(By.TAG_NAME, "main").text
    browser.get(f"{base}/items/3")
    Select(browser.find_element(By.CSS_SELECTOR, "#move select[name=to]")).select_by_value("none")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#move button"))
    assert "In no theme." in browser.find_element(By.TAG_NAME, "main").text
    assert "moved from theme" in browser.find_element(By.ID, "theme-edits").text
    shot(browser, tmp_path, "item-moved")
    browser.get(f"{base}/actions/{ids['xss_action']}")
    title = browser.find_element(By.CSS_SELECTOR, "#update input[name=title]")
    title.clear()
    title.send_keys("Fix refunds")
    owner = browser.find_element(By.CSS_SELECTOR, "#update input[name=owner]")
    owner.send_keys("pat")
    themes = Select(browser.find_element(By.CSS_SELECTOR, "#update select[name=theme]"))
    themes.select_by_visible_text("Refunds are slow")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#update button"))
    assert browser.find_element(By.ID, "title").text == "Fix refunds"
    assert "Refunds are slow" in browser.find_element(By.ID, "themes").text
    shot(browser, tmp_path, "action-edited")
    browser.get(f"{base}/themes/{ids['refunds']}")
    Select(browser.find_element(By.CSS_SELECTOR, "#merge select[name=other]")).select_by_visible_text("Login problems")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#merge button"))
    assert "Items (9)" in browser.find_element(By.TAG_NAME, "main").text  # 4 left + 5 of login (3 + 2 moved)
    with Store(db_path) as store:
        assert store.scalar("SELECT count(*) FROM theme_edits WHERE edit = 'move'") == 3
        assert store.scalar("SELECT owner FROM actions WHERE id = ?", (ids["xss_action"],)) == "pat"


def test_viewer_sees_no_edit_forms_and_its_posts_are_refused(served, browser):
    from selenium.webdriver.common.by import By

    base, db_path, ids = served
    login(browser, base, "viewer")
    browser.get(f"{base}/themes/{ids['refunds']}")
    assert not browser.find_elements(By.CSS_SELECTOR, "form[method=post]:not([action='/logout'])")
    token = browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] input[name=csrf]").get_attribute("value")
    rename = f"/themes/{ids['refunds']}/rename"
    assert post_without_js_rules(browser, rename, f"csrf={token}&name=hacked") == 403
    assert post_without_js_rules(browser, "/actions", f"csrf={token}&theme=1&title=x&description=y") == 403
    login(browser, base, "editor")
    assert post_without_js_rules(browser, rename, "name=no+csrf") == 403  # an editor, but no CSRF token
    with Store(db_path) as store:
        assert store.scalar("SELECT label FROM themes WHERE id = ?", (ids["refunds"],)) == "Refunds are slow"
        assert store.scalar("SELECT count(*) FROM actions") == 1  # only the seeded one


def test_xss_corpus_renders_inert_everywhere(served, browser, tmp_path):
    from selenium.webdriver.common.by import By

    base, _, ids = served
    login(browser, base, "admin")
    pages = [
        "/",
        "/?q=xss",
        "/?q=" + "%3Cscript%3E",
        f"/themes/{ids['bad']}",
        "/items/12",
        "/customers/3",
        "/actions",
        f"/actions/{ids['xss_action']}",
        f"/actions/{ids['xss_action']}/ship",
    ]
    for path in pages:
        browser.get(base + path)
        no_script_ran(browser)
        assert not browser.find_elements(
            By.CSS_SELECTOR,
            "main script, main img, main svg:not(.spark):not(.chart svg), main iframe, main style, .chart a",
        )
        assert not browser.find_elements(By.CSS_SELECTOR, "main a[href^='javascript']")
    browser.get(f"{base}/themes/{ids['bad']}")
    assert "<script>window.__xss=1</script>" in browser.find_element(By.ID, "label").text  # shown as text
    shot(browser, tmp_path, "xss-theme")
