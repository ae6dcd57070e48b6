"""Theme labels and top terms: social-post noise, stop terms (env, keyword, learned), acronym case,
casing learned from how customers write a word, and terms too few members wrote."""

from __future__ import annotations

import pytest

from feedback_engine.nlp.redact import BRAND_HANDLES_ENV
from feedback_engine.themes.labels import (
    ENV_STOP_TERMS,
    clean_for_terms,
    corpus_stop_terms,
    default_vectorizer,
    display_term,
    is_noise_word,
    learn_casing,
    make_label,
    merge_terms,
    min_support,
    shown_terms,
    supported_terms,
    usable_terms,
    vector_text,
    word_support,
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


def test_a_word_repeated_is_that_word_once():
    # "late, late again" makes the bigram "late late": it is the word "late", said twice
    assert make_label([("late late", 0.8)]) == "Late"
    assert make_label([("wait wait", 0.6), ("hold", 0.5)]) == "Wait: hold"
    assert kept(["agent", "agents", "agents agents"]) == ["agent", "agents"]
    assert usable_terms([("late late", 0.8), ("crew", 0.5), ("late", 0.4)]) == [("late", 0.8), ("crew", 0.5)]
    assert kept(["late flight", "flight late"]) == ["late flight", "flight late"]


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


# -- casing learned from how customers write a word --------------------------------------------


def test_learn_casing_takes_the_case_most_customers_write():
    texts = [
        "stuck at JFK again, two hours",
        "@united moved me from jfk to EWR",
        "the gate at JFK is chaos",
        "why does JFK never have agents",
        "landed at EWR, no bags",
        "EWR to LAX was fine",
        "my new iPhone has no signal on the plane",
        "wifi dropped and my iPhone died",
        "can't charge my iPhone at the seat",
        "the wifi is slow",
        "no WiFi again",
        "wifi never works",
    ]
    casing = learn_casing(texts)
    assert casing["jfk"] == "JFK"  # 3 of 4 as JFK, once lower case: the lower case is rare
    assert casing["ewr"] == "EWR"
    assert casing["iphone"] == "iPhone"
    assert "wifi" not in casing  # mostly written lower case
    assert "lax" not in casing  # written once: too few to tell
    assert "gate" not in casing and "stuck" not in casing


def test_learn_casing_reads_hashtags_and_skips_handles_and_urls():
    texts = [
        "loved the flight #DestinationDragons",
        "so excited for #DestinationDragons tonight",
        "who else got tickets for #DestinationDragons",
        "@SWA_Help @SWA_Help @SWA_Help my bag",
        "see https://example.com/SWA/SWA/SWA for more",
    ]
    casing = learn_casing(texts)
    assert casing == {"destinationdragons": "DestinationDragons"}  # no "SWA" from the handle or the URL


def test_sentence_start_and_title_case_say_nothing():
    # "Ice" is written at sentence starts and in titles only: it stays "ice" (a label writes "Ice" as head)
    texts = ["Ice on the wings again.", "Ice delayed us. Ice everywhere", "De-Icing Takes Forever At Ice Station"] * 3
    assert "ice" not in learn_casing(texts)
    assert display_term("ice", head=True, casing=learn_casing(texts)) == "Ice"
    # ... unless customers write ICE in a clear majority
    shouted = ["deicing with ICE trucks again", "the ICE crew was late", "waited for ICE removal", "ice on the wing"]
    assert learn_casing(shouted)["ice"] == "ICE"
    assert learn_casing(shouted[:3] + ["ice on the wing"] * 2) == {}  # 3 of 5 lower: lower case is not rare


def test_shouting_texts_and_phrases_are_not_acronyms():
    texts = ["WHERE IS MY BAG YOU LOST IT", "I WANT MY BAG BACK NOW", "MY BAG IS STILL MISSING", "NICE CREW"] * 2
    assert learn_casing(texts) == {}
    phrases = ["you LOST MY BAG again", "they LOST MY BAG twice", "someone LOST MY BAG today"]
    assert learn_casing(phrases) == {}  # a run of capitals is a shouted phrase, not three acronyms
    assert learn_casing(["flew SWA again", "SWA lost my bag", "love SWA crews"]) == {"swa": "SWA"}


def test_casing_thresholds():
    texts = ["flew SWA today", "SWA again", "the SWA app", "swa is late"]
    assert learn_casing(texts) == {"swa": "SWA"}
    assert learn_casing(texts, min_count=4) == {}
    assert learn_casing(texts, max_lower=0.2) == {}
    assert learn_casing(["flew SWA today", "SWA again"]) == {}  # two occurrences: too few
    assert learn_casing(["DELAYED again", "DELAYED twice", "DELAYED today"]) == {}  # long capitals: shouting


def test_labels_use_learned_casing():
    terms = [("swa", 0.9), ("awesome", 0.8), ("jfk gate", 0.7)]
    casing = {"swa": "SWA", "jfk": "JFK", "ios": "IOS"}
    assert make_label(terms) == "Swa: awesome, jfk gate"  # unchanged without casing
    assert make_label(terms, casing=casing) == "SWA: awesome, JFK gate"
    dragons = {"destinationdragons": "DestinationDragons"}
    assert make_label([("destinationdragons", 0.9), ("fly", 0.5)], casing=dragons) == "DestinationDragons: fly"
    assert display_term("ios crash", head=True, casing=casing) == "iOS crash"  # the fixed list has the last word
    assert display_term("gate", head=True, casing=casing) == "Gate"
    assert shown_terms([("jfk gate", 0.5)], casing) == '[["JFK gate", 0.5]]'
    assert shown_terms([("jfk gate", 0.5)]) == '[["jfk gate", 0.5]]'


# -- a term needs words enough members wrote ---------------------------------------------------


def test_word_support_counts_items_as_the_vectorizer_reads_them():
    texts = [
        "the wi-fi is down",
        "wifi down again",
        "@wifi_help no wifi",
        "delayed...really",
        "wifi https://wifi.com/x",
    ]
    support = word_support(texts)
    assert support["wifi"] == 4  # "wi-fi" reads as "wifi"; the handle and the URL do not count
    assert support["delayedreally"] == 1  # run together as BERTopic reads it
    assert vector_text("advisory...really #Storm @united").split() == ["advisoryreally", "Storm"]
    # sentences of one item count once
    assert word_support(["evry flight", "evry time", "late"], items=[7, 7, 8])["evry"] == 1


def test_min_support():
    assert [min_support(n) for n in (1, 2, 3, 12, 300, 301, 1000)] == [1, 2, 3, 3, 3, 4, 10]
    assert min_support(50, min_items=5) == 5
    assert min_support(100, share=0.1) == 10


def test_supported_terms_skip_typos_and_keep_artefacts():
    texts = [
        "delayed evry time, Cancelled Flightled again",
        "delayed two hours, Cancelled Flightled",
        "weather advisory...really? Cancelled Flightled",
        "delayed at the gate",
        "delayed and delayed again",
    ]
    terms = [("evry", 0.9), ("advisoryreally", 0.8), ("delayed", 0.7), ("cancelled flightled", 0.6), ("gate", 0.5)]
    support = word_support(texts)
    kept_terms = [t for t, _ in supported_terms(terms, support, len(texts))]
    assert kept_terms == ["delayed", "cancelled flightled"]  # "flightled": an artefact three wrote, kept
    assert make_label(supported_terms(terms, support, len(texts))) == "Delayed: cancelled flightled"
    assert [t for t, _ in supported_terms(terms, support, len(texts), min_items=1)] == [t for t, _ in terms]
    # a theme of two items: each word in both
    two = word_support(texts[:2])
    assert [t for t, _ in supported_terms(terms, two, 2)] == ["delayed", "cancelled flightled"]


def test_a_theme_without_well_held_terms_keeps_a_label():
    """No term three members share: the terms two share, else the terms as they are (never "Unlabelled theme")."""
    texts = ["gate agent was rude", "rude gate staff", "lounge closed", "no lounge access", "wifi down"]
    terms = [("rude", 0.9), ("lounge", 0.8), ("wifi", 0.7)]
    assert [t for t, _ in supported_terms(terms, word_support(texts), len(texts))] == ["rude", "lounge"]
    alone = ["gate agent", "lounge closed", "wifi down"]
    assert [t for t, _ in supported_terms(terms, word_support(alone), len(alone))] == ["rude", "lounge", "wifi"]


@pytest.mark.slow
def test_cluster_terms_skip_words_too_few_members_wrote():
    """The real BERTopic c-TF-IDF ranks a word one member repeats high; cluster_terms skips it."""
    import numpy as np

    from feedback_engine.themes.discovery import cluster_terms, default_topic_model

    bags = [f"my bag was lost on flight {i}, the luggage desk did nothing" for i in range(8)]
    bags.append("lost bag lost bag, midght midght midght midght midght at the baggage claim")
    seats = [f"the seat {i} was broken" + (" and the legroom awful" if i < 3 else "") for i in range(9)]
    docs = bags + seats
    groups = np.array([0] * len(bags) + [1] * len(seats))
    rng = np.random.default_rng(0)
    embeddings = np.vstack([rng.normal(g * 5.0, 1.0, 8) for g in groups]).astype(np.float32)
    model = default_topic_model(len(docs))
    model.fit(docs, embeddings=embeddings)
    terms = cluster_terms(model, docs, groups)
    assert "midght" in [t for t, _ in model.get_topic(0)]  # c-TF-IDF alone ranks it
    assert not any("midght" in t for t, _ in terms[0])
    assert {"bag", "luggage"} <= {t for t, _ in terms[0]}
    assert "legroom" in {t for t, _ in terms[1]}  # three items wrote it
    # the sentences of one item count once: "legroom" in three sentences of one item is no term
    items = [*range(len(docs))]
    items[len(bags) : len(bags) + 3] = [99, 99, 99]
    assert "legroom" not in {w for t, _ in cluster_terms(model, docs, groups, items=items)[1] for w in t.split()}
