"""CRM / billing exports (CSV, TSV, XLSX, JSON, JSON Lines) -> customer attributes.

``feedback-engine ingest customers PATH`` reads one row per customer: an e-mail address and/or a
platform handle (what the feedback already knows them by), and what the CRM knows: name, segment,
plan, revenue, country, signup and churn dates. :mod:`feedback_engine.ingest.customer_loader`
matches each row to a stored customer.

Column detection: each header is compared, lower-cased and with ``_``/``-``/``.`` as spaces, to
the names in :data:`HEADERS` (HubSpot, Salesforce, Stripe and ChartMogul exports use these); the
first match per field wins. ``--column field=header`` overrides or adds a mapping (``field``: one of
:data:`FIELDS`). Values:

- ``email``: normalised like every e-mail in the store (:func:`~feedback_engine.ingest.records.normalise_email`);
  a cell that holds no address quarantines the row.
- ``platform`` + ``handle``: ``twitter``/``reddit``/... and the user name as the social ingest
  stores it (a leading ``@`` dropped); a handle without a platform column takes ``--platform``.
- ``mrr`` / ``arr``: a number, optionally with a currency symbol or code and thousands separators
  (``$1,200.50``, ``1.200,50 EUR``); ARR is stored as MRR = ARR / 12. Negative or unreadable:
  quarantined. ``currency``: the column, else the symbol in the amount, else ``--currency``.
- ``signup`` / ``churned``: any date the ingest reads; a churn date before the signup date is
  quarantined. An empty churn cell means "not churned" (a reactivated customer loses the date).
- ``name``, ``segment``, ``plan``, ``country``: printable text, at most 200 characters (control
  characters become spaces; the text is escaped wherever shown and passed through ``csv_safe``
  in exports). ``first name`` + ``last name`` columns make a name when there is no name column.

A mapped column's empty cell clears that attribute; a field with no column leaves it alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any

from feedback_engine.errors import IngestError
from feedback_engine.ingest.readers import (
    BadValue,
    JsonStreamError,
    detect_encoding,
    escape_undecodable,
    first_json_char,
    iter_json_array,
    iter_jsonl,
    load_json,
    open_csv,
    read_sample,
    xlsx_rows,
)
from feedback_engine.ingest.records import (
    UNEXPECTED_ERRORS,
    Invalid,
    Quarantined,
    normalise_email,
    parse_date,
    safe_dump,
    value_problem,
)
from feedback_engine.ingest.surveys import flatten

__all__ = ["FIELDS", "HEADERS", "CustomerRecord", "CustomerSource", "open_customers", "parse_amount"]

FIELDS = (
    "external_id",
    "email",
    "platform",
    "handle",
    "name",
    "first_name",
    "last_name",
    "segment",
    "plan",
    "mrr",
    "arr",
    "currency",
    "country",
    "signup",
    "churned",
)
#: Header names per field, normalised (lower case, ``_ - .`` as spaces); the first match wins.
HEADERS: dict[str, tuple[str, ...]] = {
    "external_id": ("customer id", "account id", "crm id", "contact id", "record id", "stripe customer id", "id"),
    "email": ("email", "email address", "e mail", "contact email", "billing email", "customer email", "user email"),
    "platform": ("platform", "social platform", "network"),
    "handle": ("handle", "username", "user name", "screen name", "twitter handle", "twitter", "social handle"),
    "name": ("name", "full name", "customer name", "contact name", "account name", "company", "company name"),
    "first_name": ("first name", "firstname", "given name"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "segment": ("segment", "customer segment", "tier", "customer tier", "market segment", "lifecycle stage"),
    "plan": ("plan", "plan name", "subscription plan", "pricing plan", "product", "subscription"),
    "mrr": ("mrr", "monthly revenue", "monthly recurring revenue", "mrr amount", "monthly amount"),
    "arr": ("arr", "annual revenue", "annual recurring revenue", "acv", "annual contract value"),
    "currency": ("currency", "currency code", "mrr currency", "billing currency"),
    "country": ("country", "country code", "billing country", "billing address country", "address country"),
    "signup": (
        "signup date",
        "sign up date",
        "signed up",
        "signed up at",
        "signup at",
        "customer since",
        "created",
        "created at",
        "create date",
        "start date",
        "subscription start",
    ),
    "churned": (
        "churned at",
        "churn date",
        "churned",
        "churned on",
        "cancelled at",
        "canceled at",
        "cancellation date",
        "cancel date",
        "cancelled on",
        "canceled on",
        "ended at",
        "end date",
        "subscription end",
    ),
}
_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "C$": "CAD", "A$": "AUD"}
_CODE = re.compile(r"^[A-Za-z]{3}$")
MAX_LABEL = 200
SAMPLE_ROWS = 200


@dataclass(slots=True)
class CustomerRecord:
    """One customer row, validated; ``present`` names the attributes the file has a column for."""

    location: str
    raw: str
    email: str | None = None
    platform: str | None = None
    handle: str | None = None
    external_id: str | None = None
    name: str | None = None
    segment: str | None = None
    plan: str | None = None
    mrr: float | None = None
    currency: str | None = None
    country: str | None = None
    signup_at: str | None = None
    churned_at: str | None = None
    present: frozenset[str] = field(default_factory=frozenset)

    def attributes(self) -> dict[str, Any]:
        """The attribute columns this row sets (only those the file maps)."""
        return {k: getattr(self, k) for k in ATTRIBUTE_COLUMNS if k in self.present}

    def digest(self) -> str:
        blob = json.dumps(self.attributes(), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


#: customers columns an import writes, and the fields that feed them.
ATTRIBUTE_COLUMNS = ("external_id", "name", "segment", "plan", "mrr", "currency", "country", "signup_at", "churned_at")
_FEEDS = {
    "external_id": ("external_id",),
    "name": ("name", "first_name", "last_name"),
    "segment": ("segment",),
    "plan": ("plan",),
    "mrr": ("mrr", "arr"),
    "currency": ("currency", "mrr", "arr"),
    "country": ("country",),
    "signup_at": ("signup",),
    "churned_at": ("churned",),
}


def norm_header(text: Any) -> str:
    return " ".join(re.sub(r"[_\-.]+", " ", str(text or "").lstrip("\ufeff")).lower().split())


def parse_overrides(pairs: list[str] | tuple[str, ...] | None) -> dict[str, str]:
    """``["email=Work Email", ...]`` -> ``{"email": "Work Email"}``; :class:`IngestError` on a bad pair."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, header = str(pair).partition("=")
        name = name.strip().lower().replace("-", "_")
        if not sep or not header.strip():
            raise IngestError(f"--column {pair!r} is not FIELD=HEADER; e.g. --column email='Work Email'.")
        if name not in FIELDS:
            raise IngestError(f"--column {pair!r}: unknown field {name!r}; use one of {', '.join(FIELDS)}.")
        out[name] = header.strip()
    return out


def detect_columns(headers: list[str], overrides: dict[str, str]) -> dict[str, int]:
    """Field -> column index (see the module docstring); :class:`IngestError` for an override that names
    no column, or a file with neither an email nor a handle column."""
    normalised = [norm_header(h) for h in headers]
    mapping: dict[str, int] = {}
    for name, header in overrides.items():
        wanted = norm_header(header)
        matches = [i for i, h in enumerate(headers) if h == header] or [
            i for i, h in enumerate(normalised) if h == wanted
        ]
        if not matches:
            shown = ", ".join(repr(h) for h in headers[:30])
            raise IngestError(f"--column {name}={header!r}: the file has no such column (it has {shown}).")
        mapping[name] = matches[0]
    taken = set(mapping.values())
    for name in FIELDS:
        if name in mapping:
            continue
        for candidate in HEADERS[name]:
            if candidate in normalised:
                i = normalised.index(candidate)
                if i not in taken:
                    mapping[name] = i
                    taken.add(i)
                    break
    if "email" not in mapping and "handle" not in mapping:
        shown = ", ".join(repr(h) for h in headers[:30])
        raise IngestError(
            f"No e-mail or handle column found (columns: {shown}). Name it with --column email=HEADER "
            "or --column handle=HEADER (and --platform)."
        )
    return mapping


def clean_label(value: Any) -> str | None:
    """Printable text of at most :data:`MAX_LABEL` characters (control characters as spaces), or None."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise Invalid("a JSON object or array where text was expected")
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    text = " ".join(text.split())
    return text[:MAX_LABEL] or None


def parse_amount(value: Any) -> tuple[float | None, str | None]:
    """``(amount, currency or None)`` from ``1200``, ``"$1,200.50"``, ``"1.200,50 EUR"``; :class:`Invalid` otherwise."""
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise Invalid(f"invalid revenue {value!r} (expected an amount)")
        return None, None
    if isinstance(value, (int, float)):
        number = float(value)
        currency = None
    else:
        text = str(value).strip()
        if not text:
            return None, None
        currency = None
        for symbol in sorted(_SYMBOLS, key=len, reverse=True):
            if symbol in text:
                currency = _SYMBOLS[symbol]
                text = text.replace(symbol, "")
                break
        parts = text.split()
        codes = [p for p in parts if _CODE.match(p)]
        if codes:
            currency = codes[0].upper()
            parts = [p for p in parts if p not in codes]
        digits = "".join(parts)
        if not re.fullmatch(r"-?[\d.,']+", digits) or not re.search(r"\d", digits):
            raise Invalid(f"invalid revenue {str(value)[:40]!r} (expected an amount such as 1200 or $1,200.50)")
        digits = digits.replace("'", "")
        if "," in digits and "." in digits:
            decimal = "," if digits.rindex(",") > digits.rindex(".") else "."
            digits = digits.replace("." if decimal == "," else ",", "").replace(",", ".")
        elif "," in digits:
            head, _, tail = digits.rpartition(",")
            digits = digits.replace(",", "") if len(tail) == 3 and head.replace(",", "").lstrip("-") else digits
            digits = digits.replace(",", ".")
        if digits.count(".") > 1:
            digits = digits.replace(".", "")  # 1.200.000: thousands separators
        try:
            number = float(digits)
        except ValueError:
            raise Invalid(f"invalid revenue {str(value)[:40]!r} (expected an amount)") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise Invalid(f"invalid revenue {value!r} (expected a finite amount)")
    if number < 0:
        raise Invalid(f"invalid revenue {value!r} (negative)")
    return number, currency


# -- opening ---------------------------------------------------------------------------------------
Row = tuple[str, list[Any], str | None]  # location, values, problem


class CustomerSource:
    """An opened customer export: header, column mapping and a lazy stream of records."""

    def __init__(
        self,
        path: Path,
        headers: list[str],
        rows: Iterator[Row],
        overrides: dict[str, str],
        platform: str | None,
        currency: str | None,
        fmt: str,
    ) -> None:
        self.path = path
        self.headers = headers
        self.format = fmt
        self.platform = platform
        self.currency = currency.upper() if currency else None
        self.mapping = detect_columns(headers, overrides)
        if "handle" in self.mapping and "platform" not in self.mapping and not platform:
            raise IngestError(
                f"{path} has handles ({headers[self.mapping['handle']]!r}) but no platform column; "
                "pass --platform twitter (or reddit, appstore, ...)."
            )
        self._rows = rows

    @property
    def options(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "columns": {name: self.headers[i] for name, i in sorted(self.mapping.items(), key=lambda kv: kv[1])},
            "platform": self.platform,
            "currency": self.currency,
        }

    def records(self) -> Iterator[CustomerRecord | Quarantined]:
        keys = self.headers
        for loc, values, problem in self._rows:
            if problem is not None:
                yield Quarantined(loc, problem, safe_dump(values))
                continue
            raw = safe_dump(dict(zip(keys, values, strict=False)))
            if len(values) != len(keys) and self.format == "csv":
                yield Quarantined(loc, f"wrong column count: {len(values)} fields, expected {len(keys)}", raw)
                continue
            try:
                yield self._record(loc, values, raw)
            except Invalid as exc:
                yield Quarantined(loc, str(exc), raw)
            except UNEXPECTED_ERRORS as exc:
                detail = " ".join(str(exc).split())[:200]
                yield Quarantined(loc, f"unexpected value types ({type(exc).__name__}: {detail})", raw)

    def _record(self, loc: str, values: list[Any], raw: str) -> CustomerRecord:
        m = self.mapping

        def get(name: str) -> Any:
            i = m.get(name)
            if i is None or i >= len(values):
                return None
            v = values[i]
            return None if isinstance(v, str) and not v.strip() else v

        rec = CustomerRecord(loc, raw)
        email_value = get("email")
        if email_value is not None:
            rec.email = normalise_email(email_value)
            if rec.email is None:
                raise Invalid(f"invalid e-mail address {clean_label(email_value)!r:.60}")
        handle = clean_label(get("handle"))
        if handle:
            rec.handle = handle.lstrip("@") or None
            rec.platform = (clean_label(get("platform")) or self.platform or "").lower() or None
            if rec.platform is None:
                raise Invalid("a handle without a platform (fill the platform column or pass --platform)")
        if rec.email is None and rec.handle is None:
            raise Invalid("no e-mail address or platform handle: the row names no customer")
        rec.external_id = clean_label(get("external_id"))
        name = clean_label(get("name"))
        if name is None and ("first_name" in m or "last_name" in m):
            name = clean_label(" ".join(str(v) for v in (get("first_name"), get("last_name")) if v is not None))
        rec.name = name
        rec.segment = clean_label(get("segment"))
        rec.plan = clean_label(get("plan"))
        rec.country = clean_label(get("country"))
        mrr, cur_m = parse_amount(get("mrr"))
        arr, cur_a = parse_amount(get("arr"))
        rec.mrr = round(mrr, 4) if mrr is not None else round(arr / 12, 4) if arr is not None else None
        currency = clean_label(get("currency"))
        if currency is not None and not _CODE.match(currency):
            found = _SYMBOLS.get(currency)
            if found is None:
                raise Invalid(f"invalid currency {currency!r:.40} (expected a code such as USD or EUR)")
            currency = found
        rec.currency = (currency or cur_m or cur_a or (self.currency if rec.mrr is not None else None) or "").upper()
        rec.currency = rec.currency or None
        rec.signup_at = _date(get("signup"), "signup date")
        rec.churned_at = _date(get("churned"), "churn date")
        if rec.signup_at and rec.churned_at and rec.churned_at < rec.signup_at:
            raise Invalid(f"churn date {rec.churned_at} is before the signup date {rec.signup_at}")
        present = {col for col, feeds in _FEEDS.items() if any(f in m for f in feeds)}
        if "currency" in present and not ({"mrr", "arr", "currency"} & set(m)):
            present.discard("currency")
        rec.present = frozenset(present)
        return rec


def _date(value: Any, what: str) -> str | None:
    try:
        return parse_date(value)
    except Invalid as exc:
        raise Invalid(f"{exc} in the {what}") from None


def open_customers(
    path: Path,
    *,
    columns: dict[str, str] | None = None,
    platform: str | None = None,
    currency: str | None = None,
) -> CustomerSource:
    """Open a customer export (CSV/TSV, XLSX, JSON array or object with a list, JSON Lines)."""
    if currency is not None and not _CODE.match(currency.strip()):
        raise IngestError(f"--currency {currency!r} is not a currency code; pass e.g. --currency USD.")
    overrides = columns or {}
    sample = read_sample(path)
    suffix = path.suffix.lower()
    if sample.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        rows: Iterator[Row] = ((f"row {n}", v, None) for n, v in xlsx_rows(path))
        return _tabular(path, rows, overrides, platform, currency, "xlsx")
    encoding = detect_encoding(sample, path)
    start = first_json_char(sample, encoding)
    if suffix in (".jsonl", ".ndjson"):
        return _objects(path, _jsonl(path, encoding), overrides, platform, currency, "jsonl")
    if start in ("[", "{") and suffix not in (".csv", ".tsv", ".txt"):
        return _objects(path, _json(path, encoding, start), overrides, platform, currency, "json")
    table = open_csv(path, sample)

    def csv_rows() -> Iterator[Row]:
        for first, last, values, problem in table.rows():
            loc = f"line {first}" if first == last else f"lines {first}-{last}"
            yield loc, [escape_undecodable(v) for v in values] if problem else values, problem

    return _tabular(path, csv_rows(), overrides, platform, currency, "csv")


def _tabular(
    path: Path, rows: Iterator[Row], overrides: dict[str, str], platform: str | None, currency: str | None, fmt: str
) -> CustomerSource:
    first = next(rows, None)
    if first is None or first[2] is not None:
        raise IngestError(f"{path} has no readable header row. Export the customers again as CSV with headers.")
    headers = ["" if v is None else str(v).strip().lstrip("\ufeff") for v in first[1]]
    return CustomerSource(path, headers, rows, overrides, platform, currency, fmt)


def _json(path: Path, encoding: str, start: str) -> Iterator[tuple[str, Any, str | None]]:
    if start == "[":
        try:
            for n, item in enumerate(iter_json_array(path, encoding), start=1):
                if isinstance(item, BadValue):
                    yield f"record {n}", item.raw, item.reason
                else:
                    yield f"record {n}", item, None
        except JsonStreamError as exc:
            if exc.count == 0:
                raise IngestError(f"{path} is not valid JSON ({exc}). Pass the export exactly as downloaded.") from exc
            yield f"record {exc.count + 1}", "", f"invalid JSON: {exc}; the rest of the file could not be read"
        return
    doc = load_json(path, encoding)
    for key in ("customers", "data", "results", "records", "items", "contacts", "accounts", "rows"):
        if isinstance(doc, dict) and isinstance(doc.get(key), list):
            for n, item in enumerate(doc[key], start=1):
                yield f"record {n}", item, None
            return
    raise IngestError(
        f"{path} is JSON but holds no list of customers (looked for a top-level array or 'customers', 'data', "
        "'results', 'records'). Export the customers as CSV or as a JSON array."
    )


def _jsonl(path: Path, encoding: str) -> Iterator[tuple[str, Any, str | None]]:
    for n, value, error, raw in iter_jsonl(path, encoding):
        yield f"line {n}", raw if error else value, error


def _objects(
    path: Path,
    items: Iterator[tuple[str, Any, str | None]],
    overrides: dict[str, str],
    platform: str | None,
    currency: str | None,
    fmt: str,
) -> CustomerSource:
    peek = list(islice(items, SAMPLE_ROWS))
    keys: list[str] = []
    for _loc, item, problem in peek:
        if problem is None and isinstance(item, dict) and value_problem(item) is None:
            for k in flatten(item):
                if k not in keys:
                    keys.append(k)
    if not keys:
        raise IngestError(f"{path} holds no JSON objects with fields. Export the customers as CSV or JSON objects.")

    def rows() -> Iterator[Row]:
        for loc, item, problem in chain(peek, items):
            if problem is not None:
                yield loc, [item], problem
            elif not isinstance(item, dict):
                yield loc, [item], "not a JSON object"
            elif (why := value_problem(item)) is not None:
                yield loc, [safe_dump(item)], why
            else:
                flat = flatten(item)
                yield loc, [flat.get(k) for k in keys], None

    return CustomerSource(path, keys, rows(), overrides, platform, currency, fmt)
