"""PII redaction: find spans of personal data in raw text and replace them with placeholders.

Kinds and placeholders: ``[EMAIL]``, ``[PHONE]``, ``[CARD]`` (13-19 digits passing the Luhn
check), ``[URL]`` (only URLs carrying a token or secret in the query or path; a plain help-page
link stays readable) and ``[NAME]`` (spaCy NER PERSON spans, handed in by the caller). Dates,
prices, version numbers (5.2.0) and order numbers that fail Luhn are left alone.

The raw text stays in the store; ``redacted_text`` is what every display and email uses.
Spans are character offsets into the raw text, so sentences are redacted with the same spans
(:func:`apply_spans` with an offset window).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["PiiSpan", "apply_spans", "find_pii", "luhn_ok", "merge_spans", "redact"]

PLACEHOLDERS = {"EMAIL": "[EMAIL]", "PHONE": "[PHONE]", "CARD": "[CARD]", "URL": "[URL]", "NAME": "[NAME]"}

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_URL = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"']+", re.IGNORECASE)
_CARD = re.compile(r"(?<![\d.,/-])\d(?:[ -]?\d){12,18}(?![\d.,/]\d)")
# International (+country code) numbers, or national formats: (415) 555-1234, 415-555-1234,
# 415.555.1234, 07700 900123, 020 7946 0958.
_PHONE = re.compile(
    r"(?<![\w+/.-])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}"
    r"|\(\d{3}\)\s?\d{3}[\s.-]\d{4}"
    r"|\d{3}([.-])\d{3}\1\d{4}"
    r"|0\d{2,4}\s\d{3,4}\s?\d{3,4}"
    r")(?![\w/-]|\.\d)"
)
_SECRET_KEYS = re.compile(
    r"(?:^|[_-])(?:token|access_token|auth|key|apikey|api_key|secret|sig|signature|session|sessionid|sid|"
    r"code|password|pass|pwd|otp|jwt|hash|reset|invite|x-amz-signature|x-amz-credential)(?:$|[_-])",
    re.IGNORECASE,
)
_RANDOMISH = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-]{16,}$|^[A-Fa-f0-9]{24,}$")


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    kind: str  # EMAIL | PHONE | CARD | URL | NAME

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits (card numbers pass it, most order numbers don't)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _url_has_secret(url: str) -> bool:
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url if "://" in url else "http://" + url)
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_KEYS.search(key) or _RANDOMISH.match(value):
            return True
    if parts.username or parts.password:
        return True
    segments = [s for s in parts.path.split("/") if s]
    fragment = parts.fragment
    return any(_RANDOMISH.match(s) for s in segments) or bool(fragment and _SECRET_KEYS.search(fragment))


def find_pii(text: str, names: Iterable[tuple[int, int]] = ()) -> list[PiiSpan]:
    """Non-overlapping PII spans of ``text``, sorted; ``names`` are PERSON (start, end) offsets."""
    spans: list[PiiSpan] = []
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?)]}")
        if _url_has_secret(url):
            spans.append(PiiSpan(m.start(), m.start() + len(url), "URL"))
    spans.extend(PiiSpan(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text))
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
            spans.append(PiiSpan(m.start(), m.end(), "CARD"))
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 7 <= len(digits) <= 15:
            spans.append(PiiSpan(m.start(), m.end(), "PHONE"))
    spans.extend(PiiSpan(s, e, "NAME") for s, e in names if e > s)
    return merge_spans(spans)


_PRIORITY = {"URL": 0, "EMAIL": 1, "CARD": 2, "PHONE": 3, "NAME": 4}


def merge_spans(spans: Sequence[PiiSpan]) -> list[PiiSpan]:
    """Sorted, non-overlapping spans; on overlap the earlier (then higher-priority, longer) span wins."""
    ordered = sorted(spans, key=lambda s: (s.start, _PRIORITY[s.kind], -(s.end - s.start)))
    out: list[PiiSpan] = []
    for span in ordered:
        if out and span.start < out[-1].end:
            last = out[-1]
            if span.end > last.end and _PRIORITY[span.kind] < _PRIORITY[last.kind]:
                out[-1] = PiiSpan(last.start, span.end, span.kind)
            elif span.end > last.end:
                out[-1] = PiiSpan(last.start, span.end, last.kind)
            continue
        out.append(span)
    return out


def apply_spans(text: str, spans: Sequence[PiiSpan], start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` with every span inside it replaced by its placeholder."""
    end = len(text) if end is None else end
    pieces: list[str] = []
    pos = start
    for span in spans:
        if span.end <= start or span.start >= end:
            continue
        s, e = max(span.start, start), min(span.end, end)
        pieces.append(text[pos:s])
        pieces.append(span.placeholder)
        pos = e
    pieces.append(text[pos:end])
    return "".join(pieces)


def redact(text: str, names: Iterable[tuple[int, int]] = ()) -> str:
    """``text`` with every PII span replaced (regex kinds always; names when given)."""
    return apply_spans(text, find_pii(text, names))
