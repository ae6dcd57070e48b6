"""One row per feedback item, with its customer and (when analysed) sentiment, theme and language.

:func:`feedback_rows` is the contract with the NLP stage and with ``export feedback``: it works
before analysis (analysis fields are ``None``) and after it (``analysis``, ``sentences`` and
``theme_assignments`` tables, merged themes resolved to their survivor). Rows stream from SQLite.

CSV cells pass through :func:`csv_safe` (also used by ``actions list --format csv``): a text cell
that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, tab or CR)
gets a leading ``'``. Numbers (ids, scores, a sentiment score of ``-0.5``) are written as they are.
Rows end in CRLF (RFC 4180, as Excel writes them), so a text holding a lone CR is quoted and
stays inside its cell.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from feedback_engine.errors import IngestError
from feedback_engine.store import Store

__all__ = ["EXPORT_COLUMNS", "ExportFilter", "csv_safe", "export_feedback", "feedback_rows", "typed_frame"]

EXPORT_COLUMNS = [
    "id", "natural_key", "external_id", "channel", "platform", "source", "response_id", "question",
    "customer_id", "customer_email", "customer_handle", "customer_name", "text", "title", "rating", "nps", "csat",
    "language", "source_language", "created_at", "ingested_at",
    "sentiment", "sentiment_score", "theme_id", "theme_label", "redacted_text", "sentence_theme_ids",
]  # fmt: skip
INT_COLUMNS = ("id", "customer_id", "rating", "nps", "csat", "theme_id")
FLOAT_COLUMNS = ("sentiment_score",)
TIME_COLUMNS = ("created_at", "ingested_at")


@dataclass(frozen=True)
class ExportFilter:
    """Which items an export holds: written ``since`` .. ``until`` (ISO dates, inclusive), of one
    ``channel``, of one ``source`` (a file path as imported, or an API source's name), in one
    ``theme`` (a merged theme's id means its survivor; item- or sentence-level membership)."""

    since: str | None = None
    until: str | None = None
    channel: str | None = None
    source: str | None = None
    theme: int | None = None

    def sql(self, have_themes: bool) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        for name, value, op in (("since", self.since, ">="), ("until", self.until, "<=")):
            if value:
                where.append(f"substr(f.created_at, 1, 10) {op} ?")
                params.append(_day(name, value))
        if self.channel:
            where.append("f.channel = ?")
            params.append(self.channel)
        if self.source:
            where.append("f.source IN (?, 'api:' || ?)")
            params += [self.source, self.source]
        if self.theme is not None:
            if not have_themes:
                where.append("0")
            else:
                where.append(
                    "EXISTS (SELECT 1 FROM theme_assignments tf JOIN survivor sf ON sf.start = tf.theme_id"
                    " WHERE tf.feedback_id = f.id AND sf.cur = (SELECT cur FROM survivor WHERE start = ?))"
                )
                params.append(int(self.theme))
        return (" WHERE " + " AND ".join(where)) if where else "", params


def _day(name: str, value: str) -> str:
    try:
        return date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        raise IngestError(f"--{name} {value!r} is not a date; pass YYYY-MM-DD.") from None


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """``value`` for a CSV cell with spreadsheet formulas neutralised (CSV injection, OWASP).

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'`` so
    Excel, LibreOffice and Google Sheets show it as text instead of evaluating it. Anything that is
    not a ``str`` -- ints, floats such as a sentiment score of ``-0.5``, ``None`` -- is returned
    unchanged, so numeric columns stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _columns(store: Store, table: str) -> set[str]:
    return {row[1] for row in store.conn.execute(f"PRAGMA table_info({table})")}


def feedback_rows(
    store: Store, *, sentences: bool = False, filters: ExportFilter | None = None
) -> Iterator[dict[str, Any]]:
    """Every feedback item (or those ``filters`` keep) as a dict with :data:`EXPORT_COLUMNS` (and
    ``sentences`` if asked). ``sentence_theme_ids``: the themes its sentences are in (survivors,
    ascending), ``[]`` when none."""
    analysis = _columns(store, "analysis")
    themes = _columns(store, "themes")
    assignments = _columns(store, "theme_assignments")

    def a(col: str) -> str:
        return f"a.{col}" if col in analysis else "NULL"

    have_themes = {"id", "label", "merged_into"} <= themes and {"feedback_id", "theme_id"} <= assignments
    where, params = (filters or ExportFilter()).sql(have_themes)
    select = f"""
        SELECT f.id, f.natural_key, f.external_id, f.channel, f.platform, f.source, f.response_id, f.question,
               f.customer_id, c.email, c.handle, c.display_name, f.text, f.title, f.rating, f.nps, f.csat,
               coalesce({a("language")}, f.language), f.language, f.created_at, f.ingested_at,
               {a("sentiment")}, {a("sentiment_score")},
               {"t.id" if have_themes else "NULL"}, {"t.label" if have_themes else "NULL"}, {a("redacted_text")},
               {_SENTENCE_THEMES if have_themes else "NULL"}
        FROM feedback f
        LEFT JOIN customers c ON c.id = f.customer_id
        {"LEFT JOIN analysis a ON a.feedback_id = f.id" if "feedback_id" in analysis else ""}
        {_THEME_JOIN if have_themes else ""}
        {where}
        ORDER BY f.id
    """
    prefix = _SURVIVOR_CTE if have_themes else ""
    cursor = store.conn.execute(prefix + select, params)
    sentence_iter = _sentences(store, have_themes) if sentences else None
    pending: tuple[int, list[dict[str, Any]]] | None = None
    for values in cursor:
        row = dict(zip(EXPORT_COLUMNS, values, strict=False))
        ids = row["sentence_theme_ids"]
        row["sentence_theme_ids"] = sorted({int(x) for x in ids.split(",")}) if ids else []
        if sentence_iter is not None:
            found: list[dict[str, Any]] = []
            while True:
                if pending is None:
                    pending = next(sentence_iter, None)
                    if pending is None:
                        break
                if pending[0] < row["id"]:
                    pending = None
                    continue
                if pending[0] == row["id"]:
                    found = pending[1]
                    pending = None
                break
            row["sentences"] = found
        yield row


_SURVIVOR_CTE = """
WITH RECURSIVE chain(start, cur, depth) AS (
    SELECT id, id, 0 FROM themes
    UNION ALL
    SELECT chain.start, themes.merged_into, chain.depth + 1 FROM chain JOIN themes ON themes.id = chain.cur
    WHERE themes.merged_into IS NOT NULL AND chain.depth < 64
),
survivor AS (
    SELECT start, cur FROM chain
    WHERE NOT EXISTS (SELECT 1 FROM themes x WHERE x.id = chain.cur AND x.merged_into IS NOT NULL)
)
"""
_SENTENCE_THEMES = (
    "(SELECT group_concat(DISTINCT sv2.cur) FROM theme_assignments ta2 JOIN survivor sv2 ON sv2.start = ta2.theme_id"
    " WHERE ta2.feedback_id = f.id AND ta2.sentence_idx >= 0)"
)
_THEME_JOIN = """
        LEFT JOIN theme_assignments ta ON ta.feedback_id = f.id AND ta.sentence_idx = -1
        LEFT JOIN survivor s ON s.start = ta.theme_id
        LEFT JOIN themes t ON t.id = s.cur
"""


def _sentences(store: Store, have_themes: bool) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    cols = _columns(store, "sentences")
    if not {"feedback_id", "idx", "text"} <= cols:
        return

    def s(col: str) -> str:
        return f"s.{col}" if col in cols else "NULL"

    theme = "t.id" if have_themes else "NULL"
    join = (
        """LEFT JOIN theme_assignments ta ON ta.feedback_id = s.feedback_id AND ta.sentence_idx = s.idx
           LEFT JOIN survivor sv ON sv.start = ta.theme_id LEFT JOIN themes t ON t.id = sv.cur"""
        if have_themes
        else ""
    )
    sql = (_SURVIVOR_CTE if have_themes else "") + (
        f"SELECT s.feedback_id, s.idx, s.text, {s('redacted_text')}, {s('sentiment')}, {s('sentiment_score')}, {theme}"
        f" FROM sentences s {join} ORDER BY s.feedback_id, s.idx"
    )
    current: int | None = None
    group: list[dict[str, Any]] = []
    for fid, idx, text, redacted, sentiment, score, theme_id in store.conn.execute(sql):
        if fid != current:
            if current is not None:
                yield current, group
            current, group = fid, []
        group.append(
            {
                "idx": idx,
                "text": text,
                "redacted_text": redacted,
                "sentiment": sentiment,
                "sentiment_score": score,
                "theme_id": theme_id,
            }
        )
    if current is not None:
        yield current, group


def export_feedback(
    store: Store, fmt: str, out: str | Path | IO[str] | None, filters: ExportFilter | None = None
) -> int:
    """Write every item (or those ``filters`` keep) as CSV, JSONL or Parquet to ``out`` (a path, or
    a text stream for CSV/JSONL); returns the number of items written."""
    fmt = fmt.lower()
    if fmt not in ("csv", "jsonl", "parquet"):
        raise IngestError(f"Unknown export format {fmt!r}. Use csv, jsonl or parquet.")
    if filters is not None:
        filters.sql(True)  # a bad date fails here, before a header is written
    if fmt == "parquet":
        if out is None or not isinstance(out, (str, Path)):
            raise IngestError("Parquet is binary: pass -o PATH (e.g. -o feedback.parquet).")
        return _parquet(store, Path(out), filters)
    if isinstance(out, (str, Path)):
        path = Path(out)
        if path.is_dir():
            raise IngestError(f"{path} is a folder. Pass a file path with -o.")
        if not path.parent.exists():
            raise IngestError(f"The folder {path.parent} does not exist. Create it or pass another -o path.")
        with path.open("w", encoding="utf-8", newline="") as fh:
            return _write_text(store, fmt, fh, filters)
    assert out is not None
    return _write_text(store, fmt, out, filters)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return csv_safe(value)


def _write_text(store: Store, fmt: str, fh: IO[str], filters: ExportFilter | None) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(fh)  # CRLF rows (RFC 4180): a cell holding a CR or LF is then always quoted
        writer.writerow(EXPORT_COLUMNS)
        for row in feedback_rows(store, filters=filters):
            writer.writerow([_cell(row[c]) for c in EXPORT_COLUMNS])
            count += 1
    else:
        for row in feedback_rows(store, sentences=True, filters=filters):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def typed_frame(rows: Iterable[dict[str, Any]]) -> Any:
    """A pandas DataFrame of export rows with analyst dtypes: ids and scores as nullable ``Int64``,
    the sentiment score ``Float64`` (missing is ``<NA>``, never a float NaN that turns ids into
    floats), ``created_at`` / ``ingested_at`` as timezone-aware UTC ``datetime64``."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(EXPORT_COLUMNS))
    for col in INT_COLUMNS:
        frame[col] = frame[col].astype("Int64")
    for col in FLOAT_COLUMNS:
        frame[col] = frame[col].astype("Float64")
    for col in TIME_COLUMNS:
        frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601")
    return frame


def _parquet(store: Store, path: Path, filters: ExportFilter | None, batch: int = 50_000) -> int:
    """Parquet with real types: int64 / double columns (nulls kept as nulls, read back by pandas as
    ``Int64`` / ``Float64`` from the file's pandas metadata), UTC timestamps, a list of theme ids."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.is_dir() or not path.parent.exists():
        raise IngestError(f"Cannot write {path}. Pass a file path in an existing folder with -o.")

    def kind(c: str) -> Any:
        if c in INT_COLUMNS:
            return pa.int64()
        if c in FLOAT_COLUMNS:
            return pa.float64()
        if c in TIME_COLUMNS:
            return pa.timestamp("us", tz="UTC")
        if c == "sentence_theme_ids":
            return pa.list_(pa.int64())
        return pa.string()

    schema = pa.schema([(c, kind(c)) for c in EXPORT_COLUMNS])
    count = 0
    writer = None
    try:
        chunk: list[dict[str, Any]] = []
        rows = feedback_rows(store, filters=filters)
        while True:
            row = next(rows, None)
            if row is not None:
                chunk.append(row)
            if len(chunk) >= batch or (row is None and (chunk or writer is None)):
                table = pa.Table.from_pandas(typed_frame(chunk), schema=schema, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(str(path), table.schema)
                writer.write_table(table)
                count += len(chunk)
                chunk = []
            if row is None:
                break
    finally:
        if writer is not None:
            writer.close()
    return count
