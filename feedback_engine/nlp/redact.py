"""PII redaction: find spans of personal data in raw text and replace them with placeholders.

Kinds and placeholders: ``[EMAIL]`` (also written out: "john dot smith at yahoo dot com",
"john[at]gmail[dot]com"), ``[PHONE]``, ``[CARD]`` (13-19 digits passing the Luhn check),
``[SSN]`` (123-45-6789; nine bare digits only after "SSN" / "social security number"),
``[IBAN]`` (passing the ISO 13616 mod-97 check), ``[IP]`` (IPv4 and IPv6), ``[POSTCODE]`` (UK
postcodes), ``[ADDRESS]`` (a house number and a street: "221B Baker Street", "1600 Pennsylvania
Ave NW"), ``[HANDLE]`` (@handles, except the brand's own: the ``FEEDBACK_ENGINE_BRAND_HANDLES``
environment variable, comma separated, or ``brand_handles=``),
``[URL]`` (only URLs carrying a token or secret in the query or path; a plain help-page link
stays readable) and ``[NAME]`` (spaCy NER PERSON spans, handed in by the caller, less products,
medicines and interjections: :mod:`feedback_engine.nlp.pii_allow`). Dates, prices, version
numbers (5.2.0) and order numbers that fail Luhn are left alone.

The raw text stays in the store; ``redacted_text`` is what every display and email uses.
Spans are character offsets into the raw text, so sentences are redacted with the same spans
(:func:`apply_spans` with an offset window). Precision and recall per kind on a labelled set:
``python bench/pii_eval.py``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from feedback_engine.nlp.pii_allow import medicine_context, not_a_name

__all__ = ["BRAND_HANDLES_ENV", "PiiSpan", "apply_spans", "find_pii", "iban_ok", "luhn_ok", "merge_spans", "redact"]

BRAND_HANDLES_ENV = "FEEDBACK_ENGINE_BRAND_HANDLES"
KINDS = ("URL", "EMAIL", "IBAN", "CARD", "SSN", "IP", "PHONE", "ADDRESS", "POSTCODE", "HANDLE", "NAME")
PLACEHOLDERS = {kind: f"[{kind}]" for kind in KINDS}

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Written-out emails: "john dot smith at yahoo dot com", "john[at]gmail[dot]com", "jo (at) x.org".
_AT = r"(?:\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\.)"
_TLD = r"(?:com|net|org|edu|gov|co|uk|io|de|fr|es|it|nl|info|me|us|ca|au|in|ie|biz)"
_EMAIL_SPOKEN = re.compile(
    rf"(?<![\w.@-])(?P<user>[A-Za-z0-9_+-]+(?:{_DOT}[A-Za-z0-9_+-]+)*){_AT}"
    rf"(?P<domain>[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*?){_DOT}{_TLD}\b",
    re.IGNORECASE,
)
_AT_DOTTED = re.compile(rf"\bat\s*[\])}}>]?\s*[\w-]+\.{_TLD}\b")
_MAIL_HOSTS = frozenset(
    [
        "gmail",
        "googlemail",
        "yahoo",
        "hotmail",
        "outlook",
        "live",
        "msn",
        "aol",
        "icloud",
        "me",
        "mac",
        "protonmail",
        "proton",
        "gmx",
        "mail",
        "yandex",
        "comcast",
        "btinternet",
        "sky",
        "verizon",
        "att",
        "zoho",
        "fastmail",
    ]
)
_NOT_A_USER = frozenset(
    [
        "me",
        "us",
        "him",
        "her",
        "them",
        "it",
        "this",
        "that",
        "look",
        "looking",
        "looked",
        "here",
        "there",
        "available",
        "shop",
    ]
)
_URL = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"']+", re.IGNORECASE)
_CARD = re.compile(r"(?<![\d.,/-])\d(?:[ -]?\d){12,18}(?![\d.,/]\d)")
_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])")
# Nine digits with no separators are an SSN only right after the words that name one ("SSN 123456789",
# "social security number is 123456789"): bare nine-digit runs are order and tracking numbers.
_SSN_CUED = re.compile(
    r"\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?)\s*(?:is|was|:|#|-)?\s*"
    r"(?P<ssn>(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4})(?![\w-])",
    re.IGNORECASE,
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)"
)
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
# UK postcodes: outward code (A9, A9A, A99, AA9, AA9A, AA99), a space and the inward code (9AA).
# Without the space the same shape is an aircraft tail number (N366SW) or a booking reference.
_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) \d[ABD-HJLNP-UW-Z]{2}\b")
# After the word "postcode" any case and no space will do: "postcode sw1a1aa".
_POSTCODE_CUED = re.compile(r"(?i)\bpost ?code(?: is|:)?\s+([a-z]{1,2}\d[a-z\d]? ?\d[abd-hjlnp-uw-z]{2})\b")
_STREET = (
    r"(?:Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|Close|"
    r"Crescent|Parkway|Pkwy|Highway|Hwy|Square|Sq|Circle|Cir|Gardens|Grove|Mews|Row|Walk|Hill|Trail)"
)
_ADDRESS = re.compile(
    r"(?<![\w.,-])\d{1,5}[A-Za-z]?,?\s+"
    r"(?:(?:(?!(?:On|The|In|To|Of|And|At|For|By|A|An|My|Your)\b)[A-Z][A-Za-z'-]+|\d{1,3}(?:st|nd|rd|th))\.?\s+){1,4}"
    rf"{_STREET}\b\.?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Unit|Flat|Ste)\.?\s*#?\w{1,5})?"
)
_PO_BOX = re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@./])@([A-Za-z0-9_]{1,30})\b")
# International (+country code) numbers, or national formats: (415) 555-1234, 415-555-1234,
# 415.555.1234, 07700 900123, 020 7946 0958.
_PHONE = re.compile(
    r"(?<![\w+/.-])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}"
    r"|\(\d{3}\)\s?\d{3}[\s.-]\d{4}"
    r"|[2-9]\d{2} [2-9]\d{2} \d{4}"
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
# A surname part that the small model leaves out of the PERSON span ("Kevin" + " O'Brien").
_NAME_TAIL = re.compile(r"[ -](?:O'|O’|D'|Mc|Mac)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?")
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?")
# Names the model misses in the phrases where feedback names an agent or the writer: "I spoke
# with Nina", "my name is Rachel Okafor", "John from the billing team".
_NAME_WORD = r"(?:O'|O’|D'|D’|Mc|Mac)?[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)?"
_NAME_CUE = re.compile(
    r"\b(?:(?:[Ss]poke|[Ss]peaking|[Tt]alked|[Tt]alking|[Cc]hatted) (?:with|to)|[Aa]sk(?:ed)? for|[Tt]hanks to|"
    r"[Tt]hank you|[Mm]y name is|(?:[Aa]gent|rep|representative|advisor|adviser|[Mm]anager|technician|engineer|"
    r"driver|nurse|colleague|named|M[Rr]s?\.?|M[Ss]\.?),?) "
    rf"(?P<name>{_NAME_WORD}(?: {_NAME_WORD})?)\b"
    rf"|(?P<name2>{_NAME_WORD}(?: {_NAME_WORD})?) (?:from|at|in|on) (?:the |your |customer )?"
    r"(?:support|billing|sales|service|help ?desk|front desk|returns|complaints|accounts)\b",
)
# Cheap first pass: most texts hold no cue word, and then the cue pattern does not run.
_CUE_HINTS = (
    "spoke", "speaking", "talk", "chatted", "ask", "thank", "name is", "agent", "rep", "advis", "manager",
    "technician", "engineer", "driver", "nurse", "colleague", "named", "mr", "ms", "support", "billing", "sales",
    "service", "desk", "returns", "complaints", "accounts",
)  # fmt: skip
_NOT_NAMES = frozenset(
    ["support", "customer", "service", "team", "everyone", "all", "god", "again", "the", "your", "corp", "car", "who"]
)
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)\W*$")


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    kind: str  # one of KINDS

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


def iban_ok(iban: str) -> bool:
    """The ISO 13616 check: country and check digits moved to the end, letters as 10..35, mod 97 == 1."""
    s = iban.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s.isalnum():
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _iban_end(candidate: str) -> int:
    """Length of the IBAN at the start of ``candidate`` (0: none); a word run on after it ("... 32 ABCD") is cut."""
    while len(candidate.replace(" ", "")) >= 15:
        if iban_ok(candidate):
            return len(candidate)
        cut = candidate.rfind(" ")
        if cut < 0:
            return 0
        candidate = candidate[:cut]
    return 0


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


_brand_cache: tuple[str, frozenset[str]] = ("", frozenset())


def _env_brand_handles() -> frozenset[str]:
    global _brand_cache
    raw = os.environ.get(BRAND_HANDLES_ENV, "")
    if raw != _brand_cache[0]:
        _brand_cache = (raw, frozenset(h.strip().lstrip("@").lower() for h in raw.split(",") if h.strip()))
    return _brand_cache[1]


def _spoken_email_ok(m: re.Match[str]) -> bool:
    """A written-out email, not "look at amazon.com": brackets, a "dot" in the user part, or a mail host."""
    text = m.group(0)
    if re.search(r"[\[({<]\s*at\s*[\])}>]", text, re.IGNORECASE):
        return True
    user = m.group("user")
    if user.lower() in _NOT_A_USER:
        return False
    host = re.split(_DOT, m.group("domain"), flags=re.IGNORECASE)[0].lower()
    return host in _MAIL_HOSTS or bool(re.search(r"\sdot\s|[._\d]", user, re.IGNORECASE))


def _names(text: str, names: Iterable[tuple[int, int]], allow: frozenset[str]) -> list[PiiSpan]:
    """PERSON spans less products, medicines, places and interjections at either end (a surname
    the model left out, "O'Brien", is added back), plus names after cue phrases ("I spoke with
    Nina", "my name is ...", "John from billing")."""
    out: list[PiiSpan] = []
    for s, e in names:
        words = list(_WORD.finditer(text, s, e))
        if s > 0 and text[s - 1] == "#":
            continue  # a hashtag ("#Durham Driverless car ...") is a topic, not a person
        before = len(words)
        while words and not_a_name(words[0].group(0), allow):
            words.pop(0)
        while words and not_a_name(words[-1].group(0), allow):
            words.pop()
        if not words or (len(words) == 1 < before and _SENTENCE_START.search(text, 0, words[0].start())):
            continue  # nothing left, or one sentence-initial word left over ("Took" of "Took Prozac")
        if len(words) == 1 and medicine_context(text, words[0].start(), words[0].end()):
            continue  # "started Savella", "Lasix 40 mg": a medicine the lists do not know
        start, end = words[0].start(), words[-1].end()
        tail = _NAME_TAIL.match(text, end)
        if tail and not not_a_name(tail.group(0)[1:], allow):
            end = tail.end()
        out.append(PiiSpan(start, end, "NAME"))
    low = text.lower()
    for m in _NAME_CUE.finditer(text) if any(k in low for k in _CUE_HINTS) else ():
        group = "name" if m.group("name") else "name2"
        parts = m.group(group).split(" ")
        while parts and (parts[-1].lower() in _NOT_NAMES or not_a_name(parts[-1], allow)):
            parts.pop()
        if parts and parts[0].lower() not in _NOT_NAMES and not not_a_name(parts[0], allow):
            start = m.start(group)
            out.append(PiiSpan(start, start + len(" ".join(parts)), "NAME"))
    return out


def find_pii(
    text: str,
    names: Iterable[tuple[int, int]] = (),
    *,
    brand_handles: Iterable[str] | None = None,
    allow: Iterable[str] = (),
) -> list[PiiSpan]:
    """Non-overlapping PII spans of ``text``, sorted; ``names`` are PERSON (start, end) offsets.

    ``brand_handles`` (without "@", any case) stay readable; ``None`` reads them from the
    ``FEEDBACK_ENGINE_BRAND_HANDLES`` environment variable. ``allow`` adds words that are never
    a name (a corpus's learned product words, :func:`feedback_engine.nlp.pii_allow.learn_allow_list`).
    """
    spans: list[PiiSpan] = []
    has_digit = any(c.isdigit() for c in text)
    if "www." in text or "://" in text:
        for m in _URL.finditer(text):
            url = m.group(0).rstrip(".,;:!?)]}")
            if _url_has_secret(url):
                spans.append(PiiSpan(m.start(), m.start() + len(url), "URL"))
    if "@" in text:
        spans.extend(PiiSpan(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text))
        own = _env_brand_handles() if brand_handles is None else frozenset(h.lstrip("@").lower() for h in brand_handles)
        spans.extend(
            PiiSpan(m.start(), m.end(), "HANDLE") for m in _HANDLE.finditer(text) if m.group(1).lower() not in own
        )
    low = text.lower()
    if ("dot" in low and "at" in low) or _AT_DOTTED.search(low):
        spans.extend(PiiSpan(m.start(), m.end(), "EMAIL") for m in _EMAIL_SPOKEN.finditer(text) if _spoken_email_ok(m))
    if has_digit:
        for m in _IBAN.finditer(text):
            end = _iban_end(m.group(0))
            if end:
                spans.append(PiiSpan(m.start(), m.start() + end, "IBAN"))
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
                spans.append(PiiSpan(m.start(), m.end(), "CARD"))
        spans.extend(PiiSpan(m.start(), m.end(), "SSN") for m in _SSN.finditer(text))
        spans.extend(PiiSpan(m.start("ssn"), m.end("ssn"), "SSN") for m in _SSN_CUED.finditer(text))
        if "." in text:
            spans.extend(PiiSpan(m.start(), m.end(), "IP") for m in _IPV4.finditer(text))
        if "::" in text or text.count(":") >= 7:
            for m in _IPV6.finditer(text):
                if _ipv6_ok(m.group(0)):
                    spans.append(PiiSpan(m.start(), m.end(), "IP"))
        for m in _PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 7 <= len(digits) <= 15:
                spans.append(PiiSpan(m.start(), m.end(), "PHONE"))
        spans.extend(PiiSpan(m.start(), m.end(), "ADDRESS") for m in _ADDRESS.finditer(text))
        spans.extend(PiiSpan(m.start(), m.end(), "ADDRESS") for m in _PO_BOX.finditer(text))
        spans.extend(PiiSpan(m.start(), m.end(), "POSTCODE") for m in _POSTCODE.finditer(text))
        if "ost" in low:
            spans.extend(PiiSpan(m.start(1), m.end(1), "POSTCODE") for m in _POSTCODE_CUED.finditer(text))
    spans.extend(_names(text, [(s, e) for s, e in names if e > s], frozenset(w.lower() for w in allow)))
    return merge_spans(spans)


def _ipv6_ok(candidate: str) -> bool:
    if candidate.count(":") < 2 or sum(c.isalnum() for c in candidate) < 3:
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


_PRIORITY = {kind: i for i, kind in enumerate(KINDS)}


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
