"""SSNs written without separators: redacted after the words that name one, never as bare digits."""

from __future__ import annotations

import pytest

from feedback_engine.nlp.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My SSN 123456789 was on the form.", "My SSN [SSN] was on the form."),
        ("my social security number is 123456789!", "my social security number is [SSN]!"),
        ("Social Security #: 078051120", "Social Security #: [SSN]"),
        ("SSN 123-45-6789", "SSN [SSN]"),
    ],
)
def test_cued_ssn_without_separators(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Order 123456789 never arrived.",
        "Tracking number 987654321, still nothing.",
        "SSN 000123456 is not a valid one.",  # area 000 is never issued
        "ssn 1234567890 has ten digits",
    ],
)
def test_bare_or_invalid_nine_digit_runs_stay(text: str) -> None:
    assert "[SSN]" not in redact(text)
