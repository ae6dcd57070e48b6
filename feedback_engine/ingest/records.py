"""What every ingestor yields: :class:`FeedbackRecord`, :class:`Quarantined` or :class:`Skipped`.

Ingestors are generators over a file; they never write to the store. The loader turns records
into rows (natural-key dedupe, customers, history) and quarantined items into quarantine rows.

Validation helpers shared by the ingestors live here too: score parsing (NPS 0-10, CSAT 1-5,
stars 1-5), date parsing to UTC ISO 8601, consent answers, e-mail normalisation.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

__all__ = [
    "MAX_TEXT_CHARS",
    "Checkpoint",
    "FeedbackRecord",
    "Invalid",
    "Quarantined",
    "Skipped",
    "clean_text",
    "content_hash",
    "normalise_email",
    "parse_consent",
    "parse_date",
    "parse_score",
]

MAX_TEXT_CHARS = 20_000


@dataclass(slots=True)
class FeedbackRecord:
    """One feedback item, ready for the loader.

    ``natural_key`` identifies the item across imports: ``platform:external_id[:question]`` or
    ``platform:sha256`` of the content when the source has no id. ``raw`` is the source record
    (a JSON-able dict, or an already serialised JSON string).
    """

    channel: str
    platform: str
    natural_key: str
    text: str
    raw: Any
    external_id: str | None = None
    response_id: str | None = None
    question: str | None = None
    title: str | None = None
    rating: int | None = None
    nps: int | None = None
    csat: int | None = None
    language: str | None = None
    url: str | None = None
    created_at: str | None = None
    source_updated_at: str | None = None
    email: str | None = None
    handle: str | None = None
    display_name: str | None = None
    consent: int | None = None
    location: str = ""
    hash: str = field(default="")

    def content_hash(self) -> str:
        if not self.hash:
            self.hash = content_hash(self.text, self.title, self.rating, self.nps, self.csat)
        return self.hash


@dataclass(slots=True)
class Quarantined:
    """A record that could not be imported: where it was, why, and what it held."""

    location: str
    reason: str
    raw: str


@dataclass(slots=True)
class Skipped:
    """A record that is not feedback by design (a retweet, a removed comment): counted, not stored."""

    location: str
    reason: str


@dataclass(slots=True)
class Checkpoint:
    """Yielded by an API connector after the records its ``cursor`` (JSON-able) covers: the loader
    commits those records and the cursor in one transaction, so a killed pull loses nothing."""

    cursor: Any


class Invalid(ValueError):
    """A field value fails validation; the message is the quarantine reason."""


def content_hash(text: str, title: str | None, rating: int | None, nps: int | None, csat: int | None) -> str:
    key = f"{text}\x1f{title or ''}\x1f{'' if rating is None else rating}\x1f{'' if nps is None else nps}\x1f{'' if csat is None else csat}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def clean_text(value: Any) -> str:
    """Text as stored: str, NUL bytes removed, outer whitespace stripped (inner kept).

    A JSON object or array where text belongs is :class:`Invalid` (its record is quarantined).
    """
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        raise Invalid(f"a JSON {json_type(value)} where text was expected")
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text.strip()


def check_text(text: str, title: str | None = None) -> None:
    """Raise :class:`Invalid` for empty or oversized text."""
    if not text and not title:
        raise Invalid("empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise Invalid(f"text over {MAX_TEXT_CHARS} characters ({len(text)})")


# -- scores ---------------------------------------------------------------------------------
_LEADING_INT = re.compile(r"^\s*(-?\d+(?:\.0+)?)\s*(?:$|[-–—:(/]|\s)")

_CSAT_LABELS = {
    "very dissatisfied": 1,
    "extremely dissatisfied": 1,
    "very unsatisfied": 1,
    "dissatisfied": 2,
    "somewhat dissatisfied": 2,
    "unsatisfied": 2,
    "neither satisfied nor dissatisfied": 3,
    "neither satisfied or dissatisfied": 3,
    "neutral": 3,
    "satisfied": 4,
    "somewhat satisfied": 4,
    "very satisfied": 5,
    "extremely satisfied": 5,
}


def parse_score(value: Any, low: int, high: int, name: str) -> int | None:
    """An integer score in ``[low, high]``; ``None`` when empty; :class:`Invalid` otherwise.

    Accepts ``9``, ``"9"``, ``9.0``, ``"10 - Extremely likely"`` and, for CSAT, the usual
    satisfaction labels ("Very satisfied" = 5).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise Invalid(f"invalid {name} {value!r} (expected an integer {low}-{high})")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise Invalid(f"invalid {name} {value!r} (expected an integer {low}-{high})")
        number = int(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        if text.isdigit():
            number = int(text)
        else:
            match = _LEADING_INT.match(text)
            if match:
                number = int(float(match.group(1)))
            elif name == "CSAT" and text.lower() in _CSAT_LABELS:
                number = _CSAT_LABELS[text.lower()]
            else:
                raise Invalid(f"invalid {name} {_show(text)} (expected an integer {low}-{high})")
    if not low <= number <= high:
        raise Invalid(f"invalid {name} {number} (expected an integer {low}-{high})")
    return number


def _show(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


# -- consent ------------------------------------------------------------------------------------
_YES = (
    "yes",
    "y",
    "true",
    "1",
    "agree",
    "i agree",
    "ok",
    "okay",
    "sure",
    "x",
    "checked",
    "opt in",
    "opt-in",
    "oui",
    "ja",
    "sí",
    "si",
)
_NO = ("no", "n", "false", "0", "disagree", "don't", "do not", "opt out", "opt-out", "non", "nein", "nope")


def parse_consent(value: Any) -> int | None:
    """1 for a yes, 0 for a no, ``None`` when empty or unclear (unclear never counts as consent)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return 1 if value == 1 else 0 if value == 0 else None
    text = str(value).strip().lower()
    if not text:
        return None
    first = re.split(r"[\s,.;:!]+", text, maxsplit=1)[0]
    if text.startswith(_NO) and (first in _NO or text.startswith(("don't", "do not"))):
        return 0
    if first in _YES or text in _YES:
        return 1
    return None


# -- e-mail -------------------------------------------------------------------------------------
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


def normalise_email(value: Any) -> str | None:
    """Trimmed, lower-cased address, or ``None`` when it is not an e-mail address.

    ``"Name <Ann@Example.COM>"`` and ``"mailto:ann@example.com"`` normalise too.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if "<" in text and text.endswith(">"):
        text = text[text.rindex("<") + 1 : -1].strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.lower()
    return text if _EMAIL.match(text) else None


# -- dates --------------------------------------------------------------------------------------
_TZ_ABBREVIATIONS = {
    name: hours * 3600
    for name, hours in {
        "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
        "IST": 5.5, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
        "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
        "AKST": -9, "AKDT": -8, "HST": -10,
    }.items()
}  # fmt: skip


MIN_YEAR, MAX_YEAR = 1970, 2100


def _to_utc_text(moment: datetime) -> str:
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise Invalid(f"date out of range ({moment.isoformat()}; expected a year {MIN_YEAR}-{MAX_YEAR})")
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except (OverflowError, ValueError) as exc:
            raise Invalid(f"date out of range ({moment.isoformat()})") from exc
    return moment.replace(microsecond=0).isoformat() + "Z"


def parse_date(value: Any, tz: tzinfo | None = None) -> str | None:
    """UTC ISO 8601 text (``2026-10-03T14:22:01Z``); ``None`` when empty; :class:`Invalid` otherwise.

    Naive times are taken as UTC. Accepts ISO 8601, epoch seconds or milliseconds, and the
    formats survey tools write ("10/03/2026 02:14:33 PM", "2026/10/03 2:14:33 PM EET").
    ``tz`` is the zone of naive times when the export says so (Qualtrics ``timeZone``).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _to_utc_text(value if tz is None or value.tzinfo else value.replace(tzinfo=tz))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(float(value))
    text = str(value).strip()
    if not text:
        return None
    if (
        tz is None
        and len(text) in (19, 20)
        and text[4] == "-"
        and text[10] in "T "
        and (len(text) == 19 or text[19] == "Z")
    ):
        # fast path for "2026-10-03T14:22:01Z" / "2026-10-03 14:22:01" (naive = UTC): validate, no conversion
        try:
            year = datetime.fromisoformat(text[:19]).year
        except ValueError:
            pass
        else:
            if MIN_YEAR <= year <= MAX_YEAR:
                return f"{text[:10]}T{text[11:19]}Z"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if tz is None:
            return _parse_date_slow(text)
        moment = datetime.fromisoformat(_parse_date_slow(text, naive=True))
    if tz is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return _to_utc_text(moment)


def _from_epoch(number: float) -> str:
    if number > 1e11:  # milliseconds
        number /= 1000.0
    try:
        return _to_utc_text(datetime(1970, 1, 1) + timedelta(seconds=number))
    except (OverflowError, ValueError) as exc:
        raise Invalid(f"unparsable date {number!r}") from exc


@lru_cache(maxsize=8192)
def _parse_date_slow(text: str, naive: bool = False) -> str:
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _from_epoch(float(text))
    if len(text) > 64 or not re.search(r"\d", text):
        raise Invalid(f"unparsable date {_show(text)}")
    from dateutil import parser as date_parser

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            moment = date_parser.parse(text, tzinfos=_TZ_ABBREVIATIONS)
    except (ValueError, OverflowError, TypeError) as exc:
        raise Invalid(f"unparsable date {_show(text)}") from exc
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise Invalid(f"unparsable date {_show(text)} (year {moment.year})")
    if naive and moment.tzinfo is None:
        return moment.replace(microsecond=0).isoformat()
    return _to_utc_text(moment)


class Source:
    """An opened export: its platform and format, and the lazy stream of records it yields."""

    def __init__(self, path: Any, platform: str, records: Any, fmt: str) -> None:
        self.path = path
        self.platform = platform
        self.format = fmt
        self._records = records

    @property
    def options(self) -> dict[str, Any]:
        return {"platform": self.platform, "format": self.format}

    def records(self) -> Any:
        return self._records


# -- one bad record never stops a file ----------------------------------------------------------
MAX_DEPTH = 64
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # how readers mark bytes they could not decode
TOO_DEEP = "\x00feedback_engine: nested too deeply\x00"


class HugeNumber(str):
    """A JSON integer with more digits than Python converts (4,300): kept as its text, never as a number."""


def json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null" if value is None else type(value).__name__


def expect_object(value: Any, name: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, ``{}`` if missing/null; :class:`Invalid` for any other type."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise Invalid(f"{name!r} is a JSON {json_type(value)}, expected an object")


def expect_list(value: Any, name: str) -> list[Any]:
    """``value`` if it is a JSON array, ``[]`` if missing/null; :class:`Invalid` for any other type."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise Invalid(f"{name!r} is a JSON {json_type(value)}, expected an array")


def value_problem(value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a parsed JSON value cannot be a record (nested too deeply, a number too long), or ``None``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            if isinstance(node, str):
                if type(node) is HugeNumber:
                    return f"a number with {len(node)} digits"
                if node == TOO_DEEP:
                    return f"nested more than {max_depth} levels deep"
                if _UNDECODABLE.search(node):
                    return "undecodable bytes (not valid in the file's encoding)"
            continue
        if depth > max_depth:
            return f"nested more than {max_depth} levels deep"
        stack.extend((child, depth + 1) for child in children)
    return None


def safe_dump(value: Any) -> str:
    """JSON text of a record for quarantine; never raises (deep or odd values fall back to repr)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):
        return repr(value)[:20_000]


UNEXPECTED_ERRORS = (
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
    UnicodeError,
)


def guarded(
    location: str, value: Any, build: Callable[..., Any], *args: Any, raw: str | None = None
) -> Iterator[FeedbackRecord | Quarantined | Skipped]:
    """What ``build(*args)`` returns for one source record (one item, or an iterable of items);
    a value that breaks it becomes one :class:`Quarantined` entry with the reason, so the rest of
    the file still lands. ``value`` is the parsed record (checked first, see :func:`value_problem`),
    ``raw`` its text when known (what quarantine keeps)."""
    problem = None if isinstance(value, str) else value_problem(value)
    if problem is not None:
        yield Quarantined(location, problem, raw if raw is not None else safe_dump(value))
        return
    try:
        out = build(*args)
        if isinstance(out, (FeedbackRecord, Quarantined, Skipped)):
            yield out
        else:
            yield from out
    except Invalid as exc:
        yield Quarantined(location, str(exc), raw if raw is not None else safe_dump(value))
    except UNEXPECTED_ERRORS as exc:
        detail = " ".join(str(exc).split())[:200]
        reason = f"unexpected value types ({type(exc).__name__}: {detail})"
        yield Quarantined(location, reason, raw if raw is not None else safe_dump(value))


class RowKeys:
    """Natural keys for records without an id: their content plus the occurrence of that content.

    The second identical row of a file is a second item ("ok", "ok" are two answers), while
    re-importing the file -- or a newer export that repeats its rows -- finds the same keys.
    """

    def __init__(self) -> None:
        self._seen: dict[bytes, int] = {}

    def key(self, *parts: Any) -> str:
        basis = "\x1f".join("" if p is None else str(p) for p in parts)
        digest = hashlib.sha256(basis.encode("utf-8", "surrogatepass")).digest()
        n = self._seen.get(digest[:16], 0) + 1
        self._seen[digest[:16]] = n
        return f"h{digest.hex()[:32]}" + (f"-{n}" if n > 1 else "")
