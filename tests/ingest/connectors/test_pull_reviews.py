"""Pulls of review and social APIs from a real loopback server serving pages in each API's format:
pagination to the end, the cutoff, cursors, malformed records and pages, idempotent re-pulls."""

from __future__ import annotations

import json

from tests.ingest.connectors.server import Answer, page

APP = "/us/rss/customerreviews/page={n}/id=284882215/sortby=mostrecent/json"
TP = "/v1/business-units/46d6a890000064000500e0c3/reviews"


def texts(engine, platform: str) -> list[str]:
    return [
        r["text"] for r in engine.store.query("SELECT text FROM feedback WHERE platform = ? ORDER BY id", (platform,))
    ]


def test_appstore_rss_pages_until_the_cutoff_then_repull_is_idempotent(engine, api):
    api.route(APP.format(n=1), page("appstore-rss-page1.json"))
    api.route(APP.format(n=2), page("appstore-rss-page2.json"))
    api.route(APP.format(n=3), page("appstore-rss-empty.json"))
    engine.sources.add("ios", "appstore-rss", {"app_id": "284882215", "base_url": api.base})
    report = engine.sources.pull("ios", since="2026-11-01")
    (r,) = report.sources
    assert (r.status, r.added, r.quarantined, r.skipped, r.requests) == ("ok", 4, 1, 0, 2)
    assert report.exit_code == 0
    # the review of 2026-10-05 is older than --since: the walk stopped there, page 3 was never asked for
    assert not api.hits(APP.format(n=3))
    assert texts(engine, "appstore")[0] == "Since the last update the app crashes every time I log in."
    assert engine.store.scalar("SELECT count(*) FROM feedback WHERE text LIKE 'Works well%'") == 0
    (q,) = engine.ingest.quarantine(r.run_id)
    assert q["location"].startswith(f"{api.base}{APP.format(n=2)} entry 2")
    assert "star rating" in q["reason"] and "seven" in q["raw"]
    assert engine.sources.get("ios")["cursor"] == {"newest": "2026-11-20T17:12:03Z"}
    run = engine.store.query("SELECT kind, platform, source, status FROM ingest_runs WHERE id = ?", (r.run_id,))[0]
    assert run == {"kind": "review", "platform": "appstore", "source": "api:ios", "status": "done"}
    # the next pull starts from the cursor: one page, the newest review seen again, nothing new
    again = engine.sources.pull("ios").sources[0]
    assert (again.status, again.added, again.updated, again.unchanged, again.requests) == ("ok", 0, 0, 1, 1)
    assert engine.store.scalar("SELECT count(*) FROM feedback") == 4


def test_a_page_of_invalid_json_is_quarantined_with_its_url_the_walk_goes_on_and_the_cursor_stays(engine, api):
    api.route(APP.format(n=1), page("appstore-rss-page1.json"))
    api.route(APP.format(n=2), Answer(200, '{"feed": {"entry": [{"id": {"label": "1"}, '))
    api.route(APP.format(n=3), page("appstore-rss-empty.json"))
    engine.sources.add("ios", "appstore-rss", {"app_id": "284882215", "base_url": api.base})
    r = engine.sources.pull("ios", since="2026-11-01").sources[0]
    assert (r.status, r.added, r.quarantined) == ("ok", 3, 1)
    assert api.hits(APP.format(n=3))  # numbered pages: the one after the broken page was still read
    (q,) = engine.ingest.quarantine(r.run_id)
    assert q["location"] == f"page {api.base}{APP.format(n=2)}"
    assert q["reason"].startswith("invalid JSON") and q["raw"].startswith('{"feed"')
    assert engine.sources.get("ios")["cursor"] is None  # a broken page: the next pull walks it again


def test_trustpilot_follows_next_page_with_the_key_in_a_header_only(engine, api, env):
    env["TRUSTPILOT_API_KEY"] = "tp-secret-123"
    api.route(TP, page("trustpilot-page2.json"), page="2")
    api.route(TP, page("trustpilot-page1.json"))
    engine.sources.add("tp", "trustpilot", {"business_unit_id": "46d6a890000064000500e0c3", "base_url": api.base})
    r = engine.sources.pull("tp", since="2026-11-01").sources[0]
    assert (r.status, r.added, r.requests) == ("ok", 3, 2)
    first, second = api.hits(TP)
    assert first["query"] == {"page": "1", "perPage": "100", "orderBy": "createdat.desc"}
    assert second["query"]["page"] == "2"
    assert all(h["headers"].get("apikey") == "tp-secret-123" for h in (first, second))
    assert all("tp-secret" not in json.dumps(h["query"]) for h in (first, second))
    rows = engine.store.query("SELECT rating, title, created_at FROM feedback ORDER BY created_at")
    assert [row["rating"] for row in rows] == [3, 5, 1]
    assert "tp-secret" not in json.dumps(engine.store.query("SELECT * FROM sources"))
    assert "tp-secret" not in json.dumps(engine.store.query("SELECT options FROM ingest_runs"))


def test_reddit_pages_by_after_and_skips_removed_posts(engine, api):
    api.route("/r/acmeapp/new.json", page("reddit-new-page2.json"), after="t3_1h0002")
    api.route("/r/acmeapp/new.json", page("reddit-new-page1.json"))
    engine.sources.add("sub", "reddit", {"subreddit": "acmeapp", "base_url": api.base})
    r = engine.sources.pull("sub", since="2025-01-01").sources[0]
    assert (r.status, r.added, r.skipped, r.requests) == ("ok", 3, 1, 2)
    assert api.hits("/r/acmeapp/new.json")[0]["query"] == {"limit": "100", "raw_json": "1"}
    rows = engine.store.query("SELECT channel, external_id, url FROM feedback ORDER BY created_at DESC")
    assert [row["external_id"] for row in rows] == ["t3_1h0001", "t3_1h0002", "t3_1h0003"]
    assert rows[0]["channel"] == "social" and rows[0]["url"].startswith("https://www.reddit.com/r/acmeapp/")
    assert engine.sources.get("sub")["cursor"] == {"newest": "2025-11-28T03:20:00Z"}


def test_reddit_search_sends_the_query_and_restricts_to_the_subreddit(engine, api):
    api.route("/r/acmeapp/search.json", page("reddit-new-page2.json"))
    engine.sources.add("s", "reddit", {"subreddit": "acmeapp", "query": 'acme "log out"', "base_url": api.base})
    r = engine.sources.pull("s", since="2025-01-01").sources[0]
    assert (r.status, r.added) == ("ok", 1)
    query = api.hits("/r/acmeapp/search.json")[0]["query"]
    assert query["q"] == 'acme "log out"' and query["sort"] == "new" and query["restrict_sr"] == "1"


def test_x_recent_search_pages_by_next_token_then_asks_since_the_newest_id(engine, api, env):
    env["X_BEARER_TOKEN"] = "x-bearer-secret"
    path = "/2/tweets/search/recent"
    api.route(path, page("x-recent-page2.json"), next_token="b26v89c19zqg8o3fpzbkk0v1d8mh0lkb4yv3fj")
    api.route(path, page("x-recent-page1.json"))
    engine.sources.add("x", "x-recent", {"query": "@acme -is:retweet", "base_url": api.base})
    r = engine.sources.pull("x").sources[0]
    assert (r.status, r.added, r.skipped, r.requests) == ("ok", 3, 1, 2)
    first = api.hits(path)[0]
    assert first["headers"]["Authorization"] == "Bearer x-bearer-secret"
    assert first["query"]["query"] == "@acme -is:retweet" and "start_time" in first["query"]
    assert "author_id" in first["query"]["expansions"]
    handles = engine.store.query(
        "SELECT c.handle FROM feedback f JOIN customers c ON c.id = f.customer_id ORDER BY f.id"
    )
    assert [h["handle"] for h in handles] == ["devperson", "X", "devperson"]
    assert engine.sources.get("x")["cursor"]["since_id"] == "1864000000000000003"
    api.route(path, Answer(200, {"meta": {"result_count": 0}}), since_id="1864000000000000003")
    again = engine.sources.pull("x").sources[0]
    assert (again.status, again.added, again.unchanged) == ("ok", 0, 0)
    last = api.hits(path)[-1]["query"]
    assert last["since_id"] == "1864000000000000003" and "start_time" not in last


def test_typeform_names_questions_from_the_form_and_keys_like_the_file_import(engine, api, env):
    env["TYPEFORM_TOKEN"] = "tf-secret"
    api.route("/forms/Ab12Cd", page("typeform-form.json"))
    api.route("/forms/Ab12Cd/responses", page("typeform-responses.json"))
    engine.sources.add("nps", "typeform", {"form_id": "Ab12Cd", "base_url": api.base})
    r = engine.sources.pull("nps", since="2026-11-01").sources[0]
    assert (r.status, r.added, r.requests) == ("ok", 4, 2)
    assert api.hits("/forms/Ab12Cd/responses")[0]["query"] == {"page_size": "1000", "since": "2026-11-01T00:00:00Z"}
    assert api.hits("/forms/Ab12Cd")[0]["headers"]["Authorization"] == "Bearer tf-secret"
    rows = engine.store.query(
        "SELECT f.response_id, f.question, f.text, f.nps, c.email FROM feedback f"
        " LEFT JOIN customers c ON c.id = f.customer_id ORDER BY f.id"
    )
    assert rows[0] == {
        "response_id": "21085286190ffad1248d17c4135ee56f",
        "question": "What is the main reason for your score?",
        "text": "Invoices are impossible to find.",
        "nps": 3,
        "email": "ann@example.com",
    }
    assert [(row["question"], row["nps"]) for row in rows[1:]] == [
        ("What should we improve first?", 3),
        ("What is the main reason for your score?", 9),
        ("What should we improve first?", 6),
    ]
    assert engine.sources.get("nps")["cursor"] == {"newest": "2026-11-20T09:39:56Z"}


def test_googleplay_pages_by_token_and_keys_like_the_console_csv(engine, api, env):
    env["GOOGLE_PLAY_ACCESS_TOKEN"] = "ya29.secret"
    path = "/androidpublisher/v3/applications/com.acme.notes/reviews"
    api.route(path, page("googleplay-page2.json"), token="CpYBCo8BAVaOLc4")
    api.route(path, page("googleplay-page1.json"))
    engine.sources.add("play", "googleplay", {"package": "com.acme.notes", "base_url": api.base})
    r = engine.sources.pull("play", since="2025-11-01").sources[0]
    assert (r.status, r.added, r.quarantined, r.requests) == ("ok", 3, 1, 2)
    assert api.hits(path)[0]["headers"]["Authorization"] == "Bearer ya29.secret"
    rows = engine.store.query("SELECT natural_key, text, rating, language, created_at FROM feedback ORDER BY id")
    assert rows[0] == {
        "natural_key": "googleplay:gp:AOqpTOE1",
        "text": "Widget stopped updating after 4.12.",
        "rating": 2,
        "language": "en",
        "created_at": "2025-11-30T10:53:20Z",
    }
    (q,) = engine.ingest.quarantine(r.run_id)
    assert q["location"].startswith(f"{api.base}{path}?") and "star rating" in q["reason"]
    assert engine.sources.get("play")["cursor"] == {"newest": "2025-11-30T10:53:20Z"}


def test_surveymonkey_bulk_names_answers_from_the_details_and_commits_each_page(engine, api, env):
    env["SURVEYMONKEY_TOKEN"] = "sm-secret"
    bulk = "/v3/surveys/405123456/responses/bulk"
    api.route("/v3/surveys/405123456/details", page("surveymonkey-details.json"))
    api.route(bulk, page("surveymonkey-bulk-page2.json"), page="2")
    api.route(bulk, page("surveymonkey-bulk-page1.json"))
    engine.sources.add("sm", "surveymonkey", {"survey_id": "405123456", "base_url": api.base})
    r = engine.sources.pull("sm", since="2026-11-01").sources[0]
    assert (r.status, r.added, r.requests) == ("ok", 3, 3)
    first = api.hits(bulk)[0]
    assert first["query"] == {
        "per_page": "100",
        "sort_by": "date_modified",
        "sort_order": "ASC",
        "start_modified_at": "2026-11-01T00:00:00",
    }
    assert first["headers"]["Authorization"] == "Bearer sm-secret"
    rows = engine.store.query(
        "SELECT f.natural_key, f.question, f.text, f.nps, c.email FROM feedback f"
        " LEFT JOIN customers c ON c.id = f.customer_id ORDER BY f.id"
    )
    assert rows == [
        {"natural_key": "surveymonkey:114000001:q_why", "question": "What is the primary reason for your score?",
         "text": "Checkout kept failing on my card.", "nps": 2, "email": "ann@example.com"},
        {"natural_key": "surveymonkey:114000002:q_plan", "question": "Which plan are you on?",
         "text": "Team plan, annual", "nps": 10, "email": "bo@example.com"},
        {"natural_key": "surveymonkey:114000003:q_why", "question": "What is the primary reason for your score?",
         "text": "Reports are good, exports slow.", "nps": 7, "email": "cy@example.com"},
    ]  # fmt: skip
    assert engine.sources.get("sm")["cursor"] == {"modified": "2026-11-22T09:15:00Z"}


QUALTRICS_CSV = (
    "StartDate,EndDate,Status,Progress,Finished,RecordedDate,ResponseId,RecipientEmail,Q1,Q2\r\n"
    "Start Date,End Date,Response Type,Progress,Finished,Recorded Date,Response ID,Recipient Email,"
    "How likely are you to recommend Acme to a friend?,Why did you give that score?\r\n"
    '"{""ImportId"":""startDate"",""timeZone"":""UTC""}","{""ImportId"":""endDate"",""timeZone"":""UTC""}",'
    '"{""ImportId"":""status""}","{""ImportId"":""progress""}","{""ImportId"":""finished""}",'
    '"{""ImportId"":""recordedDate"",""timeZone"":""UTC""}","{""ImportId"":""_recordId""}",'
    '"{""ImportId"":""recipientEmail""}","{""ImportId"":""QID1""}","{""ImportId"":""QID2_TEXT""}"\r\n'
    "2026-11-20 09:00:00,2026-11-20 09:04:00,IP Address,100,True,2026-11-20 09:04:01,R_1a2b3c,ann@example.com,3,"
    "Billing page times out every time.\r\n"
    "2026-11-21 10:00:00,2026-11-21 10:02:00,IP Address,100,True,2026-11-21 10:02:30,R_4d5e6f,bo@example.com,9,"
    "Support solved it in minutes.\r\n"
)


def test_qualtrics_export_is_started_polled_and_downloaded(engine, api, env, sleeps):
    import io
    import zipfile

    env["QUALTRICS_API_TOKEN"] = "q-secret"
    root = "/API/v3/surveys/SV_abc123/export-responses"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Acme NPS.csv", QUALTRICS_CSV)
    api.route(root, Answer(200, {"result": {"progressId": "ES_0d1", "percentComplete": 0.0, "status": "inProgress"}}))
    api.route(
        f"{root}/ES_0d1",
        Answer(200, {"result": {"status": "inProgress", "percentComplete": 40.0}}),
        Answer(200, {"result": {"status": "complete", "percentComplete": 100.0, "fileId": "1dc4-file"}}),
    )
    api.route(f"{root}/1dc4-file/file", Answer(200, buffer.getvalue()))
    engine.sources.add("q", "qualtrics", {"survey_id": "SV_abc123", "base_url": api.base})
    r = engine.sources.pull("q", since="2026-11-01").sources[0]
    assert (r.status, r.added, r.requests) == ("ok", 2, 4)
    (start,) = api.hits(root)
    assert start["method"] == "POST" and start["headers"]["X-API-TOKEN"] == "q-secret"
    assert json.loads(start["body"]) == {"format": "csv", "startDate": "2026-11-01T00:00:00Z", "useLabels": True}
    assert len(api.hits(f"{root}/ES_0d1")) == 2 and sleeps == [0.05]  # one wait between the two polls
    rows = engine.store.query("SELECT response_id, question, text, nps, created_at FROM feedback ORDER BY id")
    assert rows[0] == {
        "response_id": "R_1a2b3c",
        "question": "Why did you give that score?",
        "text": "Billing page times out every time.",
        "nps": 3,
        "created_at": "2026-11-20T09:04:01Z",
    }
    assert engine.sources.get("q")["cursor"] == {"newest": "2026-11-21T10:02:30Z"}


def test_appstore_connect_signs_an_es256_token_and_follows_links_next(engine, api, tmp_path):
    import base64
    from pathlib import Path

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key = ec.generate_private_key(ec.SECP256R1())
    p8 = tmp_path / "AuthKey_ABC123DEFG.p8"
    p8.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    doc = json.loads(
        (Path(__file__).resolve().parents[3] / "fixtures/reviews/appstore_connect_reviews.json").read_text()
    )
    reviews = doc["data"]
    path = "/v1/apps/284882215/customerReviews"
    first = {
        "data": reviews[:2],
        "links": {"self": "x", "next": "{BASE}" + path + "?cursor=Mg&limit=200&sort=-createdDate"},
    }
    api.route(path, Answer(200, {"data": reviews[2:], "links": {"self": "y"}}), cursor="Mg")
    api.route(path, Answer(200, first))
    settings = {"app_id": "284882215", "key_id": "ABC123DEFG", "issuer_id": "57246542-96fe-1a63-e053-0824d011072a"}
    engine.sources.add("asc", "appstore-connect", {**settings, "base_url": api.base, "token_file": str(p8)})
    r = engine.sources.pull("asc", since="2020-01-01").sources[0]
    assert (r.status, r.added, r.quarantined, r.requests) == ("ok", 38, 2, 2)  # as `ingest reviews` of the file
    hits = api.hits(path)
    assert hits[0]["query"] == {"sort": "-createdDate", "limit": "200"} and hits[1]["query"]["cursor"] == "Mg"
    token = hits[0]["headers"]["Authorization"].removeprefix("Bearer ")
    head, claims, signature = token.split(".")

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    assert json.loads(decode(head)) == {"alg": "ES256", "kid": "ABC123DEFG", "typ": "JWT"}
    body = json.loads(decode(claims))
    assert body["iss"] == settings["issuer_id"] and body["aud"] == "appstoreconnect-v1"
    assert body["exp"] - body["iat"] == 900
    raw = decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.public_key().verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    assert "PRIVATE KEY" not in json.dumps(engine.store.query("SELECT * FROM sources"))
