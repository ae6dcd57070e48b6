"""PII kinds added for issue 13, one focused test each, and the words that must stay readable."""

from __future__ import annotations

import pytest

from feedback_engine.nlp.pii_allow import learn_allow_list, medicine_context, not_a_name
from feedback_engine.nlp.redact import BRAND_HANDLES_ENV, find_pii, iban_ok, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My SSN is 123-45-6789, why do you need it?", "My SSN is [SSN], why do you need it?"),
        ("It was left at 221B Baker Street again.", "It was left at [ADDRESS] again."),
        ("Ship to 1600 Pennsylvania Ave NW please", "Ship to [ADDRESS] please"),
        ("I moved to 42 Elm Road, Apt 4B last year", "I moved to [ADDRESS] last year"),
        ("Send it to PO Box 1234 instead", "Send it to [ADDRESS] instead"),
        ("Courier refuses SW1A 1AA and M1 1AE", "Courier refuses [POSTCODE] and [POSTCODE]"),
        ("Blocked from 192.168.10.42 since Monday", "Blocked from [IP] since Monday"),
        ("My IPv6 is 2001:db8:85a3::8a2e:370:7334.", "My IPv6 is [IP]."),
        ("write to john dot smith at yahoo dot com", "write to [EMAIL]"),
        ("write to john[at]gmail[dot]com", "write to [EMAIL]"),
        ("or jo_55 (at) outlook (dot) net", "or [EMAIL]"),
        ("Refund to GB82 WEST 1234 5698 7654 32 please", "Refund to [IBAN] please"),
        ("Refund to DE89370400440532013000 please", "Refund to [IBAN] please"),
        ("cc @kevin_obrien this is broken", "cc [HANDLE] this is broken"),
        ("Charged on 4111 1111 1111 1111 twice", "Charged on [CARD] twice"),
    ],
)
def test_new_kinds_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I looked at amazon.com and at ebay dot com for a cheaper one.",
        "See you at 10.30 tomorrow, the meeting is at 12:30:45.",
        "Updated to version 10.0.19041.1 and to 5.2.0, still crashing.",
        "Waited 3 hours on the phone, then 2 more.",
        "Order 123-4567-890 and ticket 12-34-5678 are still open.",
        "Model SM-G991B with 128 GB, bought in 2021.",
        "My email is fine, they emailed me at work.",
    ],
)
def test_look_alikes_stay(text: str) -> None:
    assert find_pii(text) == []


def test_iban_half_tagged_as_phone_is_one_iban() -> None:
    spans = find_pii("IBAN GB82 WEST 1234 5698 7654 32 was charged")
    assert [s.kind for s in spans] == ["IBAN"]
    assert iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not iban_ok("GB82 WEST 1234 5698 7654 33")


def test_brand_handles_stay_from_argument_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "@United lost my bag, @bob_smith had the same"
    assert redact(text) == "[HANDLE] lost my bag, [HANDLE] had the same"
    monkeypatch.setenv(BRAND_HANDLES_ENV, "united, @delta")
    assert redact(text) == "@United lost my bag, [HANDLE] had the same"
    assert [s.kind for s in find_pii(text, brand_handles=["bob_smith"])] == ["HANDLE"]


def test_handle_inside_email_is_the_email() -> None:
    assert redact("mail ann@example.com or @ann") == "mail [EMAIL] or [HANDLE]"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Prozac made me dizzy", "Prozac"),
        ("I am on Seroquel now", "Seroquel"),
        ("Posted it on Twitter", "Twitter"),
        ("My Samsung died", "Samsung"),
        ("Yay it works", "Yay"),
        ("Sweet, fixed", "Sweet"),
        ("the flight to Manchester", "Manchester"),
        ("my new iPhone", "iPhone"),
    ],
)
def test_products_medicines_interjections_are_not_names(text: str, name: str) -> None:
    start = text.index(name)
    assert find_pii(text, [(start, start + len(name))]) == []


def test_full_name_containing_an_allowed_word_is_a_name() -> None:
    text = "Thanks Yay Kevin O'Brien"
    start = text.index("Yay")
    assert redact(text, [(start, len(text))]) == "Thanks Yay [NAME]"


def test_surname_the_model_left_out_is_added() -> None:
    text = "Kevin O'Brien was rude"
    assert redact(text, [(0, 5)]) == "[NAME] was rude"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I spoke with Nina twice", "I spoke with [NAME] twice"),
        ("My name is Rachel Okafor and I am annoyed", "My name is [NAME] and I am annoyed"),
        ("John from the billing team never called", "[NAME] from the billing team never called"),
        ("Thanks to Support for nothing", "Thanks to Support for nothing"),
        ("I spoke with Samsung twice", "I spoke with Samsung twice"),
    ],
)
def test_names_after_cue_phrases(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_unknown_medicine_in_medicine_context_is_not_a_name() -> None:
    text = "I started Savella 50 mg last week"
    start = text.index("Savella")
    assert medicine_context(text, start, start + 7)
    assert find_pii(text, [(start, start + 7)]) == []


def test_allow_words() -> None:
    assert not_a_name("Sertraline") and not_a_name("Levofloxacin") and not_a_name("PlayStation")
    assert not not_a_name("Kevin") and not not_a_name("McDonald") and not not_a_name("O'Brien")
    assert not not_a_name("Mary-Jane")


def test_learned_allow_list_and_allow_argument() -> None:
    corpus = [f"item {i}: the new Zorbix app is slow" for i in range(30)] + ["thanks to the agent, Kevin Smith"]
    learned = learn_allow_list(corpus, min_items=25)
    assert "zorbix" in learned and "kevin" not in learned
    text = "I love Zorbix"
    assert find_pii(text, [(7, 13)], allow=learned) == []
    assert [s.kind for s in find_pii(text, [(7, 13)])] == ["NAME"]


@pytest.mark.parametrize(
    "text",
    [
        "Row 9 window cover on N366SW could use some work",  # aircraft tail number, not a postcode
        "Volvo Is About To Put 100 Driverless Cars On The Road In Sweden",  # headline, not an address
        "Game Gets Twist Thanks To Deflated Footballs",  # headline case, no cue
        "Thank you America for the support",
    ],
)
def test_real_tweet_look_alikes_stay(text: str) -> None:
    assert find_pii(text) == []


def test_hashtag_and_sentence_opener_are_not_names() -> None:
    text = "#Durham Driverless car causes crash"
    assert find_pii(text, [(1, 17)]) == []
    text = "Took Prozac for a month."
    assert find_pii(text, [(0, 11)]) == []


def test_iban_followed_by_a_code_is_cut_at_the_iban() -> None:
    assert redact("IBAN GB82 WEST 1234 5698 7654 32 REF 2024 please") == "IBAN [IBAN] REF 2024 please"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me at 415 555 0134 tonight", "call me at [PHONE] tonight"),
        ("my postcode is sw1a1aa", "my postcode is [POSTCODE]"),
        ("Postcode: m1 1ae", "Postcode: [POSTCODE]"),
    ],
)
def test_spaced_phone_and_lowercase_postcode_after_the_word(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "name"),
    [("Kevin helped me a lot", "Kevin"), ("I tried calling Kevin twice", "Kevin"), ("Thanks Kevin, sorted", "Kevin")],
)
def test_people_in_sentences_that_look_like_medicine_talk_stay_names(text: str, name: str) -> None:
    start = text.index(name)
    assert [s.kind for s in find_pii(text, [(start, start + len(name))])] == ["NAME"]
