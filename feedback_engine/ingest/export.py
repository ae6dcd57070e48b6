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
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from feedback_engine.errors import IngestError
from feedback_engine.store import Store

__all__ = ["EXPORT_COLUMNS", "csv_safe", "export_feedback", "feedback_rows"]

EXPORT_COLUMNS = [
    "id", "natural_key", "external_id", "channel", "platform", "source", "response_id", "question",
    "customer_id", "customer_email", "customer_handle", "customer_name", "text", "title", "rating", "nps", "csat",
    "language", "source_language", "created_at", "ingested_at",
    "sentiment", "sentiment_score", "theme_id", "theme_label", "redacted_text",
]  # fmt: skip


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


def feedback_rows(store: Store, *, sentences: bool = False) -> Iterator[dict[str, Any]]:
    """Every feedback item as a dict with :data:`EXPORT_COLUMNS` (and ``sentences`` if asked)."""
    analysis = _columns(store, "analysis")
    themes = _columns(store, "themes")
    assignments = _columns(store, "theme_assignments")

    def a(col: str) -> str:
        return f"a.{col}" if col in analysis else "NULL"

    have_themes = {"id", "label", "merged_into"} <= themes and {"feedback_id", "theme_id"} <= assignments
    select = f"""
        SELECT f.id, f.natural_key, f.external_id, f.channel, f.platform, f.source, f.response_id, f.question,
               f.customer_id, c.email, c.handle, c.display_name, f.text, f.title, f.rating, f.nps, f.csat,
               coalesce({a("language")}, f.language), f.language, f.created_at, f.ingested_at,
               {a("sentiment")}, {a("sentiment_score")},
               {"t.id" if have_themes else "NULL"}, {"t.label" if have_themes else "NULL"}, {a("redacted_text")}
        FROM feedback f
        LEFT JOIN customers c ON c.id = f.customer_id
        {"LEFT JOIN analysis a ON a.feedback_id = f.id" if "feedback_id" in analysis else ""}
        {_THEME_JOIN if have_themes else ""}
        ORDER BY f.id
    """
    prefix = _SURVIVOR_CTE if have_themes else ""
    cursor = store.conn.execute(prefix + select)
    sentence_iter = _sentences(store, have_themes) if sentences else None
    pending: tuple[int, list[dict[str, Any]]] | None = None
    for values in cursor:
        row = dict(zip(EXPORT_COLUMNS, values, strict=False))
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


def export_feedback(store: Store, fmt: str, out: str | Path | IO[str] | None) -> int:
    """Write every item as CSV, JSONL or Parquet to ``out`` (a path, or a text stream for CSV/JSONL)."""
    fmt = fmt.lower()
    if fmt not in ("csv", "jsonl", "parquet"):
        raise IngestError(f"Unknown export format {fmt!r}. Use csv, jsonl or parquet.")
    if fmt == "parquet":
        if out is None or not isinstance(out, (str, Path)):
            raise IngestError("Parquet is binary: pass -o PATH (e.g. -o feedback.parquet).")
        return _parquet(store, Path(out))
    if isinstance(out, (str, Path)):
        path = Path(out)
        if path.is_dir():
            raise IngestError(f"{path} is a folder. Pass a file path with -o.")
        if not path.parent.exists():
            raise IngestError(f"The folder {path.parent} does not exist. Create it or pass another -o path.")
        with path.open("w", encoding="utf-8", newline="") as fh:
            return _write_text(store, fmt, fh)
    assert out is not None
    return _write_text(store, fmt, out)


def _write_text(store: Store, fmt: str, fh: IO[str]) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(fh)  # CRLF rows (RFC 4180): a cell holding a CR or LF is then always quoted
        writer.writerow(EXPORT_COLUMNS)
        for row in feedback_rows(store):
            writer.writerow(["" if row[c] is None else csv_safe(row[c]) for c in EXPORT_COLUMNS])
            count += 1
    else:
        for row in feedback_rows(store, sentences=True):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _parquet(store: Store, path: Path, batch: int = 50_000) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.is_dir() or not path.parent.exists():
        raise IngestError(f"Cannot write {path}. Pass a file path in an existing folder with -o.")
    ints = {"id", "customer_id", "rating", "nps", "csat", "theme_id"}
    schema = pa.schema(
        [
            (c, pa.int64() if c in ints else pa.float64() if c == "sentiment_score" else pa.string())
            for c in EXPORT_COLUMNS
        ]
    )
    count = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        chunk: list[dict[str, Any]] = []
        for row in feedback_rows(store):
            chunk.append(row)
            if len(chunk) >= batch:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                count += len(chunk)
                chunk = []
        if chunk or count == 0:
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            count += len(chunk)
    return count
