"""Which column of a survey export is what: options, header rules, and detection from a sample.

:func:`detect` maps the columns of an opened export (header names, the first rows' values, the
platform) to id, date, email, language, name, NPS, CSAT, consent and the free-text answers; every
choice can be overridden with :class:`SurveyOptions`, and a wrong override fails with the
columns that exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feedback_engine.errors import IngestError
from feedback_engine.ingest.records import (
    Invalid,
    normalise_email,
    parse_consent,
    parse_score,
)


@dataclass
class SurveyOptions:
    """Column overrides (names as in the file's header, case-insensitive)."""

    text_columns: Sequence[str] | None = None
    id_column: str | None = None
    email_column: str | None = None
    date_column: str | None = None
    nps_column: str | None = None
    csat_column: str | None = None
    consent_column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class Column:
    key: str  # what the file calls it (first header row)
    label: str  # the question as people read it
    extra: str = ""  # SurveyMonkey sub-header / Qualtrics ImportId
    tz: str | None = None  # Qualtrics: the time zone of a date column


@dataclass
class Mapping:
    id: int | None = None
    email: int | None = None
    date: int | None = None
    nps: int | None = None
    csat: int | None = None
    consent: int | None = None
    language: int | None = None
    names: list[int] = field(default_factory=list)
    texts: list[int] = field(default_factory=list)

    def describe(self, columns: list[Column]) -> dict[str, Any]:
        def name(i: int | None) -> str | None:
            return None if i is None else columns[i].key

        return {
            "id": name(self.id),
            "email": name(self.email),
            "date": name(self.date),
            "nps": name(self.nps),
            "csat": name(self.csat),
            "consent": name(self.consent),
            "language": name(self.language),
            "names": [columns[i].key for i in self.names],
            "texts": [columns[i].key for i in self.texts],
        }


Row = tuple[str, list[Any], str | None]  # location, values, error


# -- header rules ----------------------------------------------------------------------------------
_ID_NAMES = ["#", "respondent id", "responseid", "response id", "response_id", "respondent_id", "submission id",
             "submission_id", "token", "id", "uuid"]  # fmt: skip
_DATE_NAMES = ["submit date (utc)", "submitted at", "submitted_at", "recordeddate", "recorded date", "end date",
               "enddate", "date submitted", "submission date", "timestamp", "submitted", "completed at",
               "completed_at", "created_at", "created at", "date", "start date (utc)", "startdate", "start date"]  # fmt: skip
_EMAIL_NAMES = ["email address", "email", "e-mail", "recipientemail", "email_address", "e-mail address", "mail"]
_LANGUAGE_NAMES = ["userlanguage", "language", "lang", "locale"]
_NAME_NAMES = [["full name"], ["name"], ["respondent name"], ["first name", "last name"],
               ["recipientfirstname", "recipientlastname"], ["first_name", "last_name"]]  # fmt: skip
_META = re.compile(
    r"^(ip ?address|ipaddress|network id|collector id|user ?agent|status|progress|duration.*|finished|"
    r"location.*|distributionchannel|distribution channel|tags|response type|start date.*|stage date.*|"
    r"ending|custom data.*|externalreference|external reference|external data reference|recipient.*|"
    r"score|total score|browser|device|os|platform|referer|referrer|url|page|utm_.*|q_.*|"
    r"last name|first name|name|full name|respondent name|end date|enddate|startdate|recordeddate)$"
)
_NPS_HEADER = re.compile(r"(how likely.*recommend|likely to recommend|\bnps\b|net promoter)", re.I)
_CSAT_HEADER = re.compile(r"(\bcsat\b|satisf|how would you rate|rate your|\brating\b|overall experience)", re.I)
_CONSENT_HEADER = re.compile(
    r"(consent|contact you|contacted|follow[ -]?up|reach out|may we|can we (contact|email|follow)|"
    r"ok to contact|okay to contact|permission|opt[ -]?in)",
    re.I,
)
_TEXT_HEADER = re.compile(
    r"(comment|feedback|why|what|tell us|anything else|suggest|improve|reason|\btext\b|review|message|"
    r"describe|explain|open[- ]ended|thoughts|answer|verbatim|remarks|notes?)",
    re.I,
)


def norm_header(name: str) -> str:
    return re.sub(r"\s+", " ", str(name).strip().lstrip("\ufeff")).lower()


# -- column detection ---------------------------------------------------------------------------
def detect(columns: list[Column], sample: list[list[Any]], platform: str, opts: SurveyOptions, path: Path) -> Mapping:
    by_name: dict[str, int] = {}
    for i, col in enumerate(columns):
        for name in (col.key, col.label):
            by_name.setdefault(norm_header(name), i)
    found = ", ".join(repr(c.key) for c in columns[:25]) + (" ..." if len(columns) > 25 else "")

    def pick(name: str | None, flag: str) -> int | None:
        if name is None:
            return None
        idx = by_name.get(norm_header(name))
        if idx is None:
            raise IngestError(f"{path} has no column {name!r} for {flag}. Columns found: {found}.", source=str(path))
        return idx

    def first(names: Iterable[str]) -> int | None:
        for name in names:
            if name in by_name:
                return by_name[name]
        return None

    values = [[cell(row, i) for row in sample] for i in range(len(columns))]
    m = Mapping()
    m.id = pick(opts.id_column, "--id-column") if opts.id_column else first(_ID_NAMES)
    m.date = pick(opts.date_column, "--date-column") if opts.date_column else first(_DATE_NAMES)
    if opts.email_column:
        m.email = pick(opts.email_column, "--email-column")
    else:
        m.email = first(_EMAIL_NAMES)
        if m.email is None:
            m.email = next(
                (i for i, c in enumerate(columns) if "email" in norm_header(c.key) and _mostly(values[i], _is_email)),
                None,
            )
    m.language = first(_LANGUAGE_NAMES)
    for names in _NAME_NAMES:
        if all(n in by_name for n in names):
            m.names = [by_name[n] for n in names]
            break
    used = {i for i in (m.id, m.date, m.email, m.language) if i is not None} | set(m.names)
    group_of = {norm_header(c.key)[: -len("_nps_group")] for c in columns if norm_header(c.key).endswith("_nps_group")}
    if opts.nps_column:
        m.nps = pick(opts.nps_column, "--nps-column")
    else:
        for i, col in enumerate(columns):
            if i in used or norm_header(col.key).endswith("_nps_group"):
                continue
            if (
                norm_header(col.key) in group_of or _NPS_HEADER.search(col.label) or _NPS_HEADER.search(col.key)
            ) and _mostly(values[i], lambda v: _score_ok(v, 0, 10, "NPS")):
                m.nps = i
                break
    if m.nps is not None:
        used.add(m.nps)
    used |= {i for i, c in enumerate(columns) if norm_header(c.key).endswith("_nps_group")}
    if opts.csat_column:
        m.csat = pick(opts.csat_column, "--csat-column")
    else:
        for i, col in enumerate(columns):
            if i in used:
                continue
            if (_CSAT_HEADER.search(col.label) or _CSAT_HEADER.search(col.key)) and _mostly(
                values[i], lambda v: _score_ok(v, 1, 5, "CSAT")
            ):
                m.csat = i
                break
    if m.csat is not None:
        used.add(m.csat)
    if opts.consent_column:
        m.consent = pick(opts.consent_column, "--consent-column")
    else:
        for i, col in enumerate(columns):
            if i in used:
                continue
            if (_CONSENT_HEADER.search(col.label) or _CONSENT_HEADER.search(col.key)) and _mostly(
                values[i], lambda v: parse_consent(v) is not None
            ):
                m.consent = i
                break
    if m.consent is not None:
        used.add(m.consent)
    if opts.text_columns:
        m.texts = [pick(name, "--text-column") for name in opts.text_columns]  # type: ignore[misc]
    else:
        m.texts = [i for i, col in enumerate(columns) if i not in used and _is_text_column(col, values[i], platform)]
    if not m.texts:
        raise IngestError(
            f"No free-text column found in {path}. Columns found: {found}. "
            "Pass --text-column COLUMN (and --id-column COLUMN) to say which to import.",
            source=str(path),
        )
    return m


def zone(name: str | None) -> Any:
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _mostly(values: list[str], test: Any) -> bool:
    filled = [v for v in values if v]
    if not filled:
        return True
    return sum(1 for v in filled if test(v)) >= 0.8 * len(filled)


def _score_ok(value: str, low: int, high: int, name: str) -> bool:
    try:
        return parse_score(value, low, high, name) is not None
    except Invalid:
        return False


def _is_email(value: str) -> bool:
    return normalise_email(value) is not None


def _is_text_column(col: Column, values: list[str], platform: str) -> bool:
    if platform == "qualtrics" and col.extra:
        return col.extra.upper().endswith("_TEXT")
    if platform == "surveymonkey" and col.extra:
        return col.extra.lower() in ("open-ended response", "other (please specify)")
    if col.extra == "text":
        return True
    name = norm_header(col.key)
    if _META.match(name) or name.startswith("hidden."):
        return False
    filled = [v for v in values if v]
    if filled and all(_looks_scalar(v) for v in filled):
        return False
    if not filled:
        return bool(_TEXT_HEADER.search(col.label))
    words = sum(len(v.split()) for v in filled) / len(filled)
    length = sum(len(v) for v in filled) / len(filled)
    distinct = len(set(filled)) / len(filled)
    if _TEXT_HEADER.search(col.label) and words >= 1.5:
        return True
    return words >= 3 and length >= 15 and (distinct >= 0.6 or len(filled) < 5)


_SCALAR = re.compile(r"^[-+]?\d+([.,]\d+)?$|^\d{4}-\d\d-\d\d|^\d{1,2}/\d{1,2}/\d{2,4}|^(yes|no|true|false|n/a)$", re.I)


def _looks_scalar(value: str) -> bool:
    return bool(_SCALAR.match(value)) or _is_email(value)


def cell(values: Sequence[Any], i: int) -> str:
    if i >= len(values) or values[i] is None:
        return ""
    return str(values[i]).strip()
