"""Survey exports (CSV, TSV, XLSX, JSON) -> feedback items, one per free-text answer.

Recognised layouts (auto-detected; every column overridable):

- **Typeform** CSV: ``#`` (response token), one column per question, ``Submit Date (UTC)``,
  ``Network ID``; hidden fields such as ``email``. Responses API JSON (``{"items": [...]}``).
- **SurveyMonkey** CSV/XLSX: two header rows (questions, then ``Open-Ended Response`` /
  ``Response`` / option labels), ``Respondent ID``, ``End Date``, ``Email Address``.
- **Google Forms** CSV/TSV: ``Timestamp``, ``Email Address``, one column per question.
- **Qualtrics** CSV/TSV: three header rows (``ResponseId``/``Q1``..., question text,
  ``{"ImportId": "QID3_TEXT"}``), ``RecordedDate``, ``RecipientEmail``, ``Q2_NPS_GROUP``.
- **generic**: any table with an id and a text column (``--id-column id --text-column text``).

Several free-text questions in one response become several items that share ``response_id``
and customer; the response's NPS/CSAT and consent go with each of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any

from feedback_engine.errors import IngestError
from feedback_engine.ingest.readers import (
    BadValue,
    JsonStreamError,
    escape_undecodable,
    first_json_char,
    iter_json_array,
    load_json,
    open_csv,
    read_sample,
    xlsx_rows,
)
from feedback_engine.ingest.records import (
    MAX_TEXT_CHARS,
    UNEXPECTED_ERRORS,
    FeedbackRecord,
    Invalid,
    Quarantined,
    RowKeys,
    clean_text,
    expect_list,
    expect_object,
    normalise_email,
    parse_consent,
    parse_date,
    parse_score,
    safe_dump,
    value_problem,
)
from feedback_engine.ingest.survey_columns import Column, Row, SurveyOptions, cell, detect, norm_header, zone

__all__ = ["SurveyOptions", "SurveySource", "flatten", "open_survey"]

SAMPLE_ROWS = 200


# -- opening -----------------------------------------------------------------------------------------
class SurveySource:
    """An opened survey export: platform, columns, mapping and a record iterator."""

    def __init__(
        self, path: Path, platform: str, columns: list[Column], rows: Iterator[Row], opts: SurveyOptions
    ) -> None:
        self.path = path
        self.platform = platform
        self.columns = columns
        sample = list(islice(rows, SAMPLE_ROWS))
        self._rows: Iterable[Row] = chain(sample, rows)
        self.mapping = detect(columns, [r[1] for r in sample if r[2] is None], platform, opts, path)

    @property
    def options(self) -> dict[str, Any]:
        return {"platform": self.platform, "columns": self.mapping.describe(self.columns)}

    def records(self) -> Iterator[FeedbackRecord | Quarantined]:
        return _records(self)


def open_survey(path: Path, opts: SurveyOptions) -> SurveySource:
    """Open a survey export (validated header and mapping) or raise :class:`IngestError`."""
    sample = read_sample(path)
    suffix = path.suffix.lower()
    if sample.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        if not sample.startswith(b"PK\x03\x04"):
            raise IngestError(f"{path} is not a valid XLSX workbook. Export the responses again as .xlsx or as CSV.")
        return _open_xlsx(path, opts)
    is_json = suffix in (".json", ".jsonl", ".ndjson") or first_json_char(sample, _enc(sample, path)) in ("{", "[")
    if is_json and suffix not in (".csv", ".tsv", ".txt"):
        return _open_json(path, sample, opts)
    return _open_csv(path, sample, opts)


def _enc(sample: bytes, path: Path) -> str:
    from feedback_engine.ingest.readers import detect_encoding

    return detect_encoding(sample, path)


def _open_csv(path: Path, sample: bytes, opts: SurveyOptions) -> SurveySource:
    table = open_csv(path, sample)

    def rows() -> Iterator[Row]:
        for start, end, fields, problem in table.rows():
            loc = f"line {start}" if start == end else f"lines {start}-{end}"
            if problem:
                yield loc, [escape_undecodable(f) for f in fields], problem
            else:
                yield loc, fields, None

    return _from_rows(path, rows(), opts)


def _open_xlsx(path: Path, opts: SurveyOptions) -> SurveySource:
    def rows() -> Iterator[Row]:
        for number, values in xlsx_rows(path):
            yield f"row {number}", values, None

    return _from_rows(path, rows(), opts)


def _from_rows(path: Path, rows: Iterator[Row], opts: SurveyOptions) -> SurveySource:
    first = next(rows, None)
    if first is None:
        raise IngestError(f"{path} has no header row. Export the responses again with column headers.")
    header = ["" if v is None else str(v).strip().lstrip("\ufeff") for v in first[1]]
    if first[2] is not None or not any(header):
        raise IngestError(f"{path} has no readable header row ({first[2] or 'all empty'}). Export it again as CSV.")
    lowered = {norm_header(h) for h in header}
    platform = "generic"
    columns = [Column(h, h) for h in header]
    rest = rows
    peek = list(islice(rest, 2))
    rows = chain(peek, rest)
    if "responseid" in lowered or ("startdate" in lowered and "recordeddate" in lowered):
        platform = "qualtrics"
        if len(peek) == 2 and str(peek[1][1][0] if peek[1][1] else "").lstrip().startswith("{"):
            labels, imports = peek[0][1], peek[1][1]
            columns = [Column(h, cell(labels, i) or h, *_import_id(cell(imports, i))) for i, h in enumerate(header)]
            rows = rest
        elif peek and "responseid" in lowered:  # legacy export: ids, then question text, no ImportId row
            at = [norm_header(h) for h in header].index("responseid")
            if norm_header(cell(peek[0][1], at)) == "response id":
                columns = [Column(h, cell(peek[0][1], i) or h) for i, h in enumerate(header)]
                rows = chain(peek[1:], rest)
    elif "respondent id" in lowered and "collector id" in lowered:
        platform = "surveymonkey"
        if peek and not str(cell(peek[0][1], 0)).strip():
            subs = peek[0][1]
            columns = []
            question = ""
            for i, h in enumerate(header):
                sub = cell(subs, i)
                if h:
                    question = h
                label = question if sub in ("", "Response", "Open-Ended Response") else f"{question} - {sub}"
                key = h if h and sub in ("", "Response", "Open-Ended Response") else label
                columns.append(Column(key, label, sub))
            rows = chain(peek[1:], rest)
    elif header[0] == "#" or "submit date (utc)" in lowered or "network id" in lowered:
        platform = "typeform"
    elif norm_header(header[0]) == "timestamp":
        platform = "googleforms"
    _dedupe_keys(columns)
    return SurveySource(path, platform, columns, rows, opts)


def _import_id(text: str) -> tuple[str, str | None]:
    try:
        data = json.loads(text)
    except (ValueError, TypeError, RecursionError):  # not JSON, a huge integer, nested too deeply
        return "", None
    if not isinstance(data, dict):
        return "", None
    return str(data.get("ImportId", "")), data.get("timeZone")


def _dedupe_keys(columns: list[Column]) -> None:
    seen: dict[str, int] = {}
    for col in columns:
        n = seen.get(col.key, 0)
        seen[col.key] = n + 1
        if n:
            col.key = f"{col.key} ({n + 1})"


# -- JSON ------------------------------------------------------------------------------------------
def _open_json(path: Path, sample: bytes, opts: SurveyOptions) -> SurveySource:
    from feedback_engine.ingest.readers import detect_encoding

    encoding = detect_encoding(sample, path)
    start = first_json_char(sample, encoding)
    if start == "[":
        items: Iterator[Any] = _guard_stream(iter_json_array(path, encoding), path)
        peek = list(islice(items, SAMPLE_ROWS))
        items = chain(peek, items)
    elif start == "{":
        doc = load_json(path, encoding)
        if isinstance(doc.get("items"), list) and any(_is_typeform_item(i) for i in doc["items"]):
            return _typeform_api(path, doc["items"], opts)
        for key in ("responses", "data", "items", "results", "records", "rows"):
            if isinstance(doc.get(key), list):
                peek = doc[key]
                items = iter(doc[key])
                break
        else:
            raise IngestError(
                f"{path} is JSON but holds no list of responses (looked for a top-level array or "
                "'responses', 'data', 'items', 'results'). Export the responses as CSV or as a JSON array."
            )
    else:
        raise IngestError(f"{path} is not valid JSON. Make sure to pass the survey export exactly as downloaded.")
    if peek and _is_typeform_item(peek[0]):
        return _typeform_api(path, items, opts)
    keys: list[str] = []
    for item in peek:
        if isinstance(item, dict):
            for k in flatten(item):
                if k not in keys:
                    keys.append(k)
    if not keys:
        raise IngestError(f"{path} holds no JSON objects with fields. Export the responses as CSV or JSON objects.")
    columns = [Column(k, k) for k in keys]
    lowered = {norm_header(k) for k in keys}
    platform = "typeform" if "submit date (utc)" in lowered else "generic"

    def rows() -> Iterator[Row]:
        for n, item in enumerate(items, start=1):
            if isinstance(item, _StreamBroken):
                yield f"record {n}", [item.message], "invalid JSON"
                return
            if isinstance(item, BadValue):
                yield f"record {n}", [item.raw], item.reason
                continue
            if not isinstance(item, dict):
                yield f"record {n}", [item], "not a JSON object"
                continue
            problem = value_problem(item)
            if problem is not None:
                yield f"record {n}", [safe_dump(item)], problem
                continue
            flat = flatten(item)  # fields first seen after the sample are not mapped (kept nowhere else)
            yield f"record {n}", [_flat(flat.get(k)) for k in keys], None

    return SurveySource(path, platform, columns, rows(), opts)


def _is_typeform_item(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("answers"), list)


class _StreamBroken:
    def __init__(self, message: str) -> None:
        self.message = message


def _guard_stream(items: Iterator[Any], path: Path) -> Iterator[Any]:
    try:
        yield from items
    except JsonStreamError as exc:
        if exc.count == 0 and "not closed" not in str(exc):
            raise IngestError(f"{path} is not valid JSON ({exc}). Pass the export exactly as downloaded.") from exc
        yield _StreamBroken(f"{exc}; the rest of the file could not be read")


def flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys: ``{"answers": {"reason": ...}}`` -> ``answers.reason``."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and len(prefix) < 200:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _flat(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _typeform_row(item: dict[str, Any], refs: list[str]) -> list[Any]:
    values: dict[str, Any] = {}
    for answer in expect_list(item.get("answers"), "answers"):
        if not isinstance(answer, dict):
            continue
        f = expect_object(answer.get("field"), "answers.field")
        ref = str(f.get("ref") or f.get("id") or "")
        kind = answer.get("type")
        value = answer.get(kind) if isinstance(kind, str) else None
        if isinstance(value, dict):
            value = value.get("label") or value.get("labels") or value.get("other")
        values[ref] = _flat(value)
    for k, v in expect_object(item.get("hidden"), "hidden").items():
        values[f"hidden.{k}"] = v
    return [item.get("response_id") or item.get("token"), item.get("submitted_at")] + [values.get(r) for r in refs]


def _typeform_api(path: Path, items: Iterable[Any], opts: SurveyOptions) -> SurveySource:
    """Typeform Responses API pages -> one flat row per response (answers become columns)."""
    items = list(items) if not isinstance(items, list) else items
    fields: dict[str, tuple[str, str]] = {}  # ref -> (label, kind)
    for item in items:
        if not isinstance(item, dict):
            continue
        answers = item.get("answers")
        for answer in answers if isinstance(answers, list) else []:
            f = answer.get("field") if isinstance(answer, dict) else None
            if not isinstance(f, dict):
                continue
            ref = str(f.get("ref") or f.get("id") or "")
            if ref and ref not in fields:
                fields[ref] = (str(f.get("title") or ref), str(f.get("type") or answer.get("type") or ""))
        hidden_fields = item.get("hidden")
        for hidden in hidden_fields if isinstance(hidden_fields, dict) else {}:
            fields.setdefault(f"hidden.{hidden}", (str(hidden), "hidden"))
    columns = [Column("response_id", "response_id"), Column("submitted_at", "submitted_at")]
    for ref, (label, kind) in fields.items():
        columns.append(Column(ref, label, kind))
    for col in columns:
        if col.extra in ("long_text", "short_text") and opts.text_columns is None:
            col.extra = "text"
    refs = list(fields)

    def rows() -> Iterator[Row]:
        for n, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                yield f"record {n}", [item], "not a JSON object"
                continue
            problem = value_problem(item)
            if problem is None:
                try:
                    yield f"record {n}", _typeform_row(item, refs), None
                    continue
                except Invalid as exc:
                    problem = str(exc)
                except UNEXPECTED_ERRORS as exc:
                    problem = f"unexpected value types ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
            yield f"record {n}", [safe_dump(item)], problem

    return SurveySource(path, "typeform", columns, rows(), opts)


# -- records ---------------------------------------------------------------------------------------
def _records(src: SurveySource) -> Iterator[FeedbackRecord | Quarantined]:
    columns = src.columns
    m = src.mapping
    platform = src.platform
    width = len(columns)
    id_i, date_i, email_i, nps_i, csat_i = m.id, m.date, m.email, m.nps, m.csat
    consent_i, lang_i, names = m.consent, m.language, m.names
    texts = [(i, columns[i].key, columns[i].label) for i in m.texts]
    keys = [c.key for c in columns]
    encode = json.JSONEncoder(ensure_ascii=False, default=str).encode
    escape = json.encoder.encode_basestring
    prefixes = [escape(k) + ": " for k in keys] if len(set(keys)) == len(keys) else None
    emails: dict[str, str | None] = {}
    date_tz = zone(columns[date_i].tz) if date_i is not None else None
    pad_short = src.path.suffix.lower() in (".xlsx", ".xlsm")  # read-only openpyxl drops trailing empty cells
    row_keys = RowKeys()
    for loc, values, error in src._rows:
        try:
            n = len(values)
            if error is not None:
                yield Quarantined(loc, error, encode(values))
                continue
            if n != width:
                if n < width and pad_short:
                    values = list(values) + [None] * (width - n)
                else:
                    yield Quarantined(
                        loc,
                        f"wrong column count: {n} fields, expected {width}",
                        encode(values),
                    )
                    continue
            try:
                created = parse_date(values[date_i], date_tz) if date_i is not None else None
                nps = parse_score(values[nps_i], 0, 10, "NPS") if nps_i is not None else None
                csat = parse_score(values[csat_i], 1, 5, "CSAT") if csat_i is not None else None
            except Invalid as exc:
                reason = str(exc)
                if reason.startswith(("unparsable date", "date out of range")) and date_i is not None:
                    reason += f" in column {columns[date_i].key!r}"
                yield Quarantined(loc, reason, encode(dict(zip(keys, values, strict=False))))
                continue
            try:  # CSV values are all str: escape each one (C speed) instead of building a dict to encode
                if prefixes is None:
                    raise TypeError("duplicate column names")
                raw = "{" + ", ".join([p + escape(v) for p, v in zip(prefixes, values, strict=True)]) + "}"
            except TypeError:
                raw = encode(dict(zip(keys, values, strict=False)))
            email = None
            if email_i is not None:
                value = values[email_i]
                if value:
                    value = str(value)
                    email = emails.get(value, "")
                    if email == "":
                        email = normalise_email(value)
                        if len(emails) < 100_000:
                            emails[value] = email
            response = str(values[id_i]).strip() if id_i is not None and values[id_i] not in (None, "") else None
            external = response
            if response is None:  # no id: the row's content and its occurrence ("ok", "ok" are two answers)
                response = row_keys.key(raw)
            consent = parse_consent(values[consent_i]) if consent_i is not None else None
            name = " ".join(str(values[i]).strip() for i in names if values[i]) or None if names else None
            language = str(values[lang_i]).strip() or None if lang_i is not None and values[lang_i] else None
            produced = 0
            for i, key, label in texts:
                text = values[i]
                if text is None or text == "":
                    continue
                text = clean_text(text)
                if not text:
                    continue
                if len(text) > MAX_TEXT_CHARS:
                    yield Quarantined(
                        f"{loc}, column {key!r}", f"text over {MAX_TEXT_CHARS} characters ({len(text)})", raw
                    )
                    produced += 1
                    continue
                produced += 1
                yield FeedbackRecord(
                    "survey",
                    platform,
                    f"{platform}:{response}:{key}",
                    text,
                    raw,
                    external,
                    response,
                    label,
                    None,
                    None,
                    nps,
                    csat,
                    language,
                    None,
                    created,
                    None,
                    email,
                    None,
                    name,
                    consent,
                    loc,
                )
            if not produced:
                names_ = ", ".join(repr(t[1]) for t in texts[:5])
                yield Quarantined(loc, f"empty text (no answer in {names_})", raw)
        except UNEXPECTED_ERRORS as exc:  # a value of a type nothing expected: this row only
            detail = " ".join(str(exc).split())[:200]
            yield Quarantined(loc, f"unexpected value types ({type(exc).__name__}: {detail})", safe_dump(values))
