"""Language detection: short English feedback stays English, real foreign text is caught."""

from __future__ import annotations

import pytest

from feedback_engine.nlp.language import LanguageDetector, normalise_code


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(
    "text", ["ok", "love it!!", "meh", "Great app", "N/A", "5 stars", "too expensive", "bad support", "fine", ""]
)
def test_short_english_is_english(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text).language == "en"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Le service client ne répond jamais, je suis très déçu.", "fr"),
        ("Die Lieferung kam zu spät und die Verpackung war beschädigt.", "de"),
        ("La aplicación se cierra cada vez que intento pagar, muy frustrante.", "es"),
        ("Ik kan niet inloggen sinds de laatste update.", "nl"),
    ],
)
def test_foreign_sentences_are_detected(detector: LanguageDetector, text: str, lang: str) -> None:
    result = detector.detect(text)
    assert (result.language, result.is_english) == (lang, False)


def test_source_language_wins_for_short_text(detector: LanguageDetector) -> None:
    assert detector.detect("Super!", "fr-FR").language == "fr"
    assert detector.detect("ok", "en_US").is_english


def test_source_language_overridden_only_by_certain_long_text(detector: LanguageDetector) -> None:
    text = "Die Lieferung kam viel zu spät und die Verpackung war leider stark beschädigt."
    assert detector.detect(text, "en").language == "de"
    assert detector.detect("The app keeps crashing every single time I open the camera screen.", "en").is_english


def test_normalise_code() -> None:
    assert normalise_code("en-US") == "en"
    assert normalise_code(" English ") == "en"
    assert normalise_code("") is None
    assert normalise_code("??") is None
