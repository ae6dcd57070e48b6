"""PII redaction: each kind is replaced, look-alikes that are not PII are left alone."""

from __future__ import annotations

import pytest

from feedback_engine.nlp.redact import find_pii, luhn_ok, redact
from feedback_engine.nlp.text import TextPreparer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to jane.doe+billing@example.co.uk today.", "Write to [EMAIL] today."),
        ("Call me on +1 415-555-0134 please", "Call me on [PHONE] please"),
        ("My number is (415) 555-0199.", "My number is [PHONE]."),
        ("Ring 020 7946 0958 after six", "Ring [PHONE] after six"),
        ("Ring +44 20 7946 0958 after six", "Ring [PHONE] after six"),
        ("Charged on 4111 1111 1111 1111 twice", "Charged on [CARD] twice"),
        ("card 5500-0000-0000-0004 declined", "card [CARD] declined"),
        ("See https://shop.example.com/reset?token=abc123 now", "See [URL] now"),
        ("Invite: https://app.example.com/join/9f8e7d6c5b4a3f2e1d0c9b8a.", "Invite: [URL]."),
    ],
)
def test_each_pii_kind_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Paid $12.99 on 03/04/2024 for the annual plan.",
        "After updating to version 5.2.0 it crashes.",
        "Order 4417-2231-09 arrived late.",
        "Order number 4111-1111-1111-1112 is wrong.",  # 16 digits but fails Luhn
        "Ticket opened 2024-05-01 12:30, still waiting.",
        "Read https://example.com/help/billing for the steps.",
        "I gave it 4.5 stars out of 5 and paid 1,299.00 EUR.",
    ],
)
def test_non_pii_is_left_alone(text: str) -> None:
    assert redact(text) == text
    assert find_pii(text) == []


def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")


def test_person_names_from_spacy_ner(spacy_nlp) -> None:
    text = "Thanks to Michael Brown from support. Password reset links expire too fast."
    [prepared] = TextPreparer(spacy_nlp).prepare([text])
    assert redact(text, prepared.names) == "Thanks to [NAME] from support. Password reset links expire too fast."
    assert "michael brown" not in prepared.aspects


def test_browser_and_app_names_are_not_people(spacy_nlp) -> None:
    texts = [
        "I am using the website in Safari and it is fine.",
        "Works in Chrome but not in Firefox.",
        "My colleague Maria Lopez set it up in Chrome.",
    ]
    prepared = TextPreparer(spacy_nlp).prepare(texts)
    assert redact(texts[0], prepared[0].names) == texts[0]
    assert redact(texts[1], prepared[1].names) == texts[1]
    assert redact(texts[2], prepared[2].names) == "My colleague [NAME] set it up in Chrome."


def test_overlapping_spans_keep_one_placeholder() -> None:
    text = "mail bob@example.com or call +1 415 555 0134"
    assert redact(text, [(5, 8)]) == "mail [EMAIL] or call [PHONE]"
