"""The PII rules added for issue 13's measured gaps, one focused case each (no model), and the
look-alikes each rule must leave alone."""

from __future__ import annotations

import pytest

from feedback_engine.nlp.redact import find_pii, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("talked to kevin o'brien on the phone", "talked to [NAME] on the phone"),
        ("my name is sarah jones and im still waiting", "my name is [NAME] and im still waiting"),
        ("thanks to Maria at the gate", "thanks to [NAME] at the gate"),
        ("Kudos to Ana at the counter!", "Kudos to [NAME] at the counter!"),
        ("My wife Ines got the same email", "My wife [NAME] got the same email"),
        ("Dr. Okafor switched my prescription", "Dr. [NAME] switched my prescription"),
        ("Anna Berg, the store manager, was rude", "[NAME], the store manager, was rude"),
        ("Thanks to Thérèse in customer care", "Thanks to [NAME] in customer care"),
        ("Tom Brady and Bill Belichick again", "[NAME] and [NAME] again"),
    ],
)
def test_names_without_the_model(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "talked to someone for an hour",
        "talked to customer service twice",
        "my name is spelled wrong on the card",
        "ask for a refund, they said",
        "thanks to you guys",
        "thanks to the snow we were stuck",
        "Game Gets Twist Thanks To Deflated Footballs",
        "Bill Payment failed again",
        "Grace Hopper would be proud",
    ],
)
def test_cue_look_alikes_stay(text: str) -> None:
    assert find_pii(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm in Austin, TX 78701 now", "I'm in Austin, TX [POSTCODE] now"),
        ("Ship to Springfield, IL 62701-1234 please", "Ship to Springfield, IL [POSTCODE] please"),
        ("Guam too: Dededo, GU 96929", "Guam too: Dededo, GU [POSTCODE]"),
        ("my zip code is 90210", "my zip code is [POSTCODE]"),
        ("Date of birth 04/12/1987 is on file", "Date of birth [DOB] is on file"),
        ("born on March 3, 1990, still", "born on [DOB], still"),
        ("DOB: 1990-03-15", "DOB: [DOB]"),
        ("You have my cell, it's 882 313 687.", "You have my cell, it's [PHONE]."),
        ("Nobody answered when I called from 64 7282-7885.", "Nobody answered when I called from [PHONE]."),
        ("Call me on 01 23 45 67 89", "Call me on [PHONE]"),
        ("ring +49(0)1777 63170 or 00420 736 559 365", "ring [PHONE] or [PHONE]"),
        ("Deliver to 00806 Tanya Stream Apt. 837 next time", "Deliver to [ADDRESS] next time"),
        ("Our clinic is at 6373 Baldwin Inlet", "Our clinic is at [ADDRESS]"),
        ("It went to Flat 66, Fraser Place again", "It went to [ADDRESS] again"),
        ("ship to 12 N Main St now", "ship to [ADDRESS] now"),
        ("mail me at jane.doe+orders@mail.example.co.uk", "mail me at [EMAIL]"),
    ],
)
def test_structured_kinds(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "My order number is 123456789 and ticket 55512345",
        "I called 3 times on 12/03/2024 and waited 45 minutes",
        "born in 1985, still not old",
        "Delivered 03/04/2021 at 10:30",
        "Order 00123456789 arrived",
        "Top 10 Tech Center opened",
        "Waited at gate 22 Terminal Point",
        "text 12345 to opt out",
        "flight AA 12345 was late",
    ],
)
def test_number_look_alikes_stay(text: str) -> None:
    assert find_pii(text) == []


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("I've tried Ritalin, Adderall, Dextrastat, Emsam and more", "Dextrastat"),
        ("I just took my first dose of the 10mg Brintellix", "Brintellix"),
        ("It was much cheaper than Frova at the pharmacy.", "Frova"),
        ("Effexor XR in the morning", "Effexor"),
        ("the Nuvaring was messing with my thyroid", "Nuvaring"),
        ("Zorbix app crashed twice today", "Zorbix"),
    ],
)
def test_medicines_and_products_the_lists_do_not_know(text: str, word: str) -> None:
    start = text.index(word)
    assert find_pii(text, [(start, start + len(word))]) == []


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Kevin at the pharmacy gave me the wrong dose", "Kevin"),  # a given name is never a medicine
        ("Dr Kim prescribed Mobic 15mg", "Kim"),
    ],
)
def test_people_in_medicine_talk_stay_names(text: str, word: str) -> None:
    start = text.index(word)
    assert [s.kind for s in find_pii(text, [(start, start + len(word))])] == ["NAME"]


def test_a_town_after_a_street_or_before_a_state_is_not_a_name() -> None:
    text = "New address: 19 Sian Gateway, Colleenborough."
    start = text.index("Colleenborough")
    assert [s.kind for s in find_pii(text, [(start, start + 14)])] == ["ADDRESS"]
    text = "I'm in Nicolefurt, AS 23158-9010 and nobody delivers"
    assert [s.kind for s in find_pii(text, [(7, 17)])] == ["POSTCODE"]
