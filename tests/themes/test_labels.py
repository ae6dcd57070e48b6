"""Theme labels and top terms: social-post noise, stop terms (env, keyword, learned), acronym case."""

from __future__ import annotations

import pytest

from feedback_engine.nlp.redact import BRAND_HANDLES_ENV
from feedback_engine.themes.labels import (
    ENV_STOP_TERMS,
    clean_for_terms,
    corpus_stop_terms,
    default_vectorizer,
    is_noise_word,
    make_label,
    merge_terms,
    usable_terms,
)


@pytest.fixture(autouse=True)
def _no_env_stop_terms(monkeypatch):
    monkeypatch.delenv(ENV_STOP_TERMS, raising=False)
    monkeypatch.delenv(BRAND_HANDLES_ENV, raising=False)


def kept(terms: list[str], **kwargs) -> list[str]:
    return [t for t, _ in usable_terms([(t, 1.0) for t in terms], **kwargs)]


# -- ordinary labels stay as they were ---------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "label"),
    [
        (
            [("refund", 0.9), ("charged twice", 0.8), ("invoice", 0.7), ("billing", 0.6)],
            "Refund: charged twice, invoice",
        ),
        ([("billing", 0.9), ("refund", 0.8), ("charged twice", 0.7)], "Billing: refund, charged twice"),
        ([("refund", 0.9), ("refunds", 0.8), ("refund request", 0.7), ("invoice", 0.6)], "Refund: invoice"),
        (
            [("login", 0.9), ("password reset", 0.8), ("", 1e-5), ("reset link", 0.7), ("locked", 0.6)],
            "Login: password reset, locked",
        ),
        ([("support", 0.9), ("help", 0.8), ("agent", 0.7)], "Support: help, agent"),
        ([("slow", 0.9), ("loading", 0.8), ("dashboard", 0.7), ("slow loading", 0.6)], "Slow: loading, dashboard"),
        ([("export", 0.9), ("the export", 0.5)], "Export"),
    ],
)
def test_ordinary_labels_unchanged(terms, label):
    assert make_label(terms) == label


def test_fallback_and_padding():
    assert make_label([]) == "Unlabelled theme"
    assert make_label([("", 1e-05)], "Old label") == "Old label"
    assert make_label([("the", 0.9), ("and", 0.8)]) == "Unlabelled theme"
    assert usable_terms([("refund", 0.9), ("", 1e-05), ("invoice", 0.0)]) == [("refund", 0.9)]


def test_merge_terms_sums_and_filters():
    merged = merge_terms([[("refund", 0.5), ("invoice", 0.2), ("rt", 0.9)], [("refund", 0.3), ("login", 0.4)]])
    assert merged == [("refund", 0.8), ("login", 0.4), ("invoice", 0.2)]
    assert merge_terms([[("a b", 1.0)], [("refund", 0.1)]], top_n=1, stop_terms=["refund"]) == []


# -- social-post noise never becomes a term ----------------------------------------------------


def test_tweet_terms_give_a_flight_label():
    terms = [("httpurlremoved", 0.9), ("@united", 0.8), ("rt", 0.7), ("flight delayed", 0.6), ("lost bag", 0.5)]
    assert make_label(terms) == "Flight delayed: lost bag"
    assert [t for t, _ in usable_terms(terms)] == ["flight delayed", "lost bag"]


@pytest.mark.parametrize(
    ("terms", "label"),
    [
        ([("damn", 0.9), ("gross", 0.8), ("lost", 0.7)], "Gross: lost"),
        ([("anonymous", 0.9), ("anonymous anonymous", 0.8), ("lol", 0.7), ("happy birthday", 0.6)], "Happy birthday"),
        ([("httpurlremoved", 0.9), ("video", 0.8), ("giveaway", 0.7)], "Video: giveaway"),
        ([("$aapl", 0.9), ("patent", 0.8), ("lawsuit", 0.7)], "Patent: lawsuit"),
        ([("wtf", 0.9), ("omg", 0.8), ("lmao", 0.7), ("hahaha", 0.6), ("battery drain", 0.5)], "Battery drain"),
        ([("rt @delta", 0.9), ("via", 0.8), ("seat upgrade", 0.7), ("fucking delay", 0.6)], "Seat upgrade"),
    ],
)
def test_noisy_heads_are_skipped(terms, label):
    assert make_label(terms) == label


@pytest.mark.parametrize(
    "word",
    [
        "@united",
        "@jet_blue",
        "jet_blue",
        "user123",
        "john1990",
        "httpurlremoved",
        "http",
        "https",
        "www",
        "url",
        "url_removed",
        "link_removed",
        "urlremoved",
        "https://t.co/abc",
        "t.co/abc",
        "bit.ly",
        "rt",
        "via",
        "$aapl",
        "$TSLA",
        "2024",
        "12345",
        "1,000",
        "a123",
        "1234a",
        "9x9x9",
        "ab12",
        "x",
        "xy",
        "yo",
        "damn",
        "Shit",
        "fucking",
        "crap",
        "wtf",
        "lol",
        "lmao",
        "omg",
        "lolol",
        "hahahaha",
        "ugh",
        "anonymous",
        ":)",
    ],
)
def test_noise_words(word):
    assert is_noise_word(word)
    assert kept([word]) == []
    assert kept([f"refund {word}"]) == [] and kept([f"{word} refund"]) == []


@pytest.mark.parametrize(
    "word", ["refund", "ui", "ai", "ux", "2fa", "ios", "tv", "4k", "link", "delay", "#outage", "hurl", "ps5"]
)
def test_ordinary_words_and_acronyms_are_not_noise(word):
    assert not is_noise_word(word)
    assert kept([f"{word} broken"]) == [f"{word} broken"]


def test_stop_word_only_terms_dropped_but_mixed_kept():
    assert kept(["the and", "just really", "of course", "the refund"]) == ["the refund"]


def test_clean_for_terms_removes_urls_handles_and_cashtags():
    text = "RT @United: flight delayed https://t.co/x1 see www.news.com/a and bit.ly/zz $AAPL [URL] <link> [EMAIL]"
    cleaned = clean_for_terms(text)
    for gone in ("@United", "t.co", "www", "news.com", "bit.ly", "$AAPL", "AAPL", "[URL]", "<link>", "[EMAIL]"):
        assert gone not in cleaned
    assert "flight delayed" in cleaned
    assert clean_for_terms("costs $5 now") == "costs $5 now"


def test_vectorizer_never_makes_noise_terms():
    docs = [
        "RT @united my flight delayed again httpurlremoved http://t.co/abc lol",
        "$AAPL patent lawsuit https://x.com/y damn omg",
        "Apple patent lawsuit news www.foo.com via @reuters",
    ]
    vec = default_vectorizer()
    vec.fit(docs)
    names = set(vec.get_feature_names_out())
    assert {"flight delayed", "patent lawsuit", "apple"} <= names
    for noise in ("united", "aapl", "rt", "lol", "damn", "omg", "httpurlremoved", "http", "via", "reuters", "foo"):
        assert not any(noise in name.split() for name in names), noise


# -- configurable and learned stop terms -------------------------------------------------------


def test_env_stop_terms(monkeypatch):
    terms = [("brightdesk", 0.9), ("brightdesk app", 0.85), ("Bright Desk support", 0.8), ("slow sync", 0.7)]
    assert make_label(terms).startswith("Brightdesk")
    monkeypatch.setenv(ENV_STOP_TERMS, " BrightDesk , bright desk,, ")
    assert make_label(terms) == "Slow sync"
    assert kept(["brightdesk", "desk chair", "bright screen"]) == ["desk chair", "bright screen"]
    vec = default_vectorizer()
    vec.fit(["Brightdesk sync is slow", "brightdesk crashes on export"])
    assert not any("brightdesk" in name for name in vec.get_feature_names_out())


def test_brand_handles_are_stop_terms(monkeypatch):
    """The brand's own handles (set for PII redaction) never become a label: tweets name the
    airline as a word or hashtag ("usairways", "#AmericanAir") as often as an @handle."""
    terms = [("usairways", 0.9), ("americanair hold", 0.85), ("hold music", 0.8), ("call back", 0.7)]
    assert make_label(terms).startswith("Usairways")
    monkeypatch.setenv(BRAND_HANDLES_ENV, "@USAirways, americanair")
    label = make_label(terms)
    assert label.startswith("Hold music") and "usairways" not in label.lower() and "americanair" not in label.lower()
    assert kept(["usairways", "united", "hold music"]) == ["united", "hold music"]
    # the name cut short is the brand too ("usair", "american"); a short or unrelated word is not
    assert kept(["usair hold", "american", "amer", "hold", "americas"]) == ["amer", "hold", "americas"]


def test_keyword_stop_terms():
    terms = [("acme", 0.9), ("acme login", 0.8), ("password reset", 0.7)]
    assert make_label(terms, stop_terms=["ACME"]) == "Password reset"
    assert kept(["acme", "login"], stop_terms={"acme"}) == ["login"]
    assert make_label(terms) == "Acme: password reset"


def test_corpus_stop_terms_learns_the_product_name():
    themes = [
        [("brightdesk", 0.9), ("refund", 0.8), ("charged twice", 0.7)],
        [("brightdesk app", 0.9), ("login", 0.8), ("password reset", 0.7)],
        [("love brightdesk", 0.9), ("slow sync", 0.8)],
        [("export", 0.9), ("csv", 0.8)],
        [("dark mode", 0.9), ("ui", 0.8)],
    ]
    learned = corpus_stop_terms(themes)
    assert learned == frozenset({"brightdesk"})
    assert [make_label(t, stop_terms=learned) for t in themes] == [
        "Refund: charged twice",
        "Login: password reset",
        "Slow sync",
        "Export: CSV",
        "Dark mode: UI",
    ]
    assert make_label(themes[0]) == "Brightdesk: refund, charged twice"


def test_corpus_stop_terms_thresholds():
    shared = [[("brightdesk", 0.9), (f"topic{i} word", 0.5)] for i in range(2)]
    assert corpus_stop_terms(shared) == frozenset()  # fewer than 3 themes
    others = [[(f"other{c}", 0.9)] for c in "abcdefg"]
    three_of_ten = [[("brightdesk", 0.9)]] * 3 + others
    assert corpus_stop_terms(three_of_ten) == frozenset()  # 30% is not more than 30%
    four_of_ten = [[("brightdesk", 0.9)]] * 4 + others[:6]
    assert corpus_stop_terms(four_of_ten) == frozenset({"brightdesk"})
    assert corpus_stop_terms(four_of_ten, share=0.5) == frozenset()
    two_of_five = [[("brightdesk", 0.9)]] * 2 + others[:3]
    assert corpus_stop_terms(two_of_five) == frozenset()  # 40% but fewer than 3 themes
    assert corpus_stop_terms(two_of_five, min_themes=2) == frozenset({"brightdesk"})
    assert corpus_stop_terms([[("rt", 0.9), ("a", 0.1)]] * 5) == frozenset()  # noise is not counted
    beyond_top = [[(f"t{c}{i}", 1.0) for i in range(10)] + [("brightdesk", 0.1)] for c in "abcd"]
    assert corpus_stop_terms(beyond_top) == frozenset()  # only the top 10 terms count
    assert corpus_stop_terms(iter(four_of_ten)) == frozenset({"brightdesk"})  # any iterable


def test_learned_stop_terms_never_leave_a_theme_unlabelled():
    assert make_label([("brightdesk", 0.9)], stop_terms={"brightdesk"}) == "Brightdesk"


# -- acronyms ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "label"),
    [
        ([("ui", 0.9), ("dark mode", 0.8)], "UI: dark mode"),
        ([("ai", 0.9), ("chatbot", 0.8)], "AI: chatbot"),
        ([("ios", 0.9), ("crash", 0.8)], "iOS: crash"),
        ([("ios app crash", 0.9), ("new ui", 0.8), ("2fa", 0.7)], "iOS app crash: new UI, 2FA"),
        ([("sso login", 0.9), ("api", 0.8), ("csv export", 0.7)], "SSO login: API, CSV export"),
        ([("pdf invoice", 0.9), ("sms code", 0.8), ("nps", 0.7)], "PDF invoice: SMS code, NPS"),
        ([("csat survey", 0.9), ("faq", 0.8), ("apple id", 0.7)], "CSAT survey: FAQ, apple ID"),
        ([("vpn", 0.9), ("gps", 0.8), ("tv", 0.7)], "VPN: GPS, TV"),
        ([("pc", 0.9), ("ceo", 0.8), ("ux", 0.7)], "PC: CEO, UX"),
        ([("login page", 0.9), ("guide", 0.8)], "Login page: guide"),
    ],
)
def test_acronym_case(terms, label):
    assert make_label(terms) == label
