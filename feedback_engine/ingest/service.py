"""``engine.ingest``: the ingest stage as a service of the :class:`~feedback_engine.Engine`.

``engine.ingest.surveys("responses.csv")`` returns an :class:`IngestReport`; ``reviews`` and
``social`` detect the platform unless told; ``files(path)`` picks the kind of each file from a
folder name (``surveys/``, ``reviews/``, ``social/``) or from the content; ``load(kind, source)``
imports any :class:`~feedback_engine.contracts.Source` (the file readers, later the API connectors).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from feedback_engine.contracts import Source
from feedback_engine.errors import FeedbackEngineError, IngestError, NotFoundError
from feedback_engine.ingest import export as _export
from feedback_engine.ingest import queries
from feedback_engine.ingest.customer_loader import CustomerLoader
from feedback_engine.ingest.customers import open_customers, parse_overrides
from feedback_engine.ingest.loader import IngestReport, Loader, mark_interrupted_runs
from feedback_engine.ingest.readers import check_file, detect_encoding, first_json_char, read_sample, sniff_delimiter
from feedback_engine.ingest.reviews import open_reviews
from feedback_engine.ingest.social import detect_social, open_social
from feedback_engine.ingest.surveys import SurveyOptions, open_survey
from feedback_engine.progress import Progress

if TYPE_CHECKING:
    from feedback_engine.store import Store

__all__ = ["IngestReport", "IngestService", "detect_kind"]

_EXTENSIONS = {".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".xlsx", ".xlsm"}


class IngestService:
    """Import exports into the store, idempotently; read back status, quarantine and rows."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- imports ------------------------------------------------------------------------------
    def surveys(
        self,
        path: str | Path,
        *,
        text_columns: Sequence[str] | None = None,
        id_column: str | None = None,
        email_column: str | None = None,
        date_column: str | None = None,
        nps_column: str | None = None,
        csat_column: str | None = None,
        consent_column: str | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Import a survey export (CSV, TSV, XLSX, JSON); every column mapping can be overridden."""
        p = check_file(path, "survey")
        opts = SurveyOptions(
            text_columns=list(text_columns) if text_columns else None,
            id_column=id_column,
            email_column=email_column,
            date_column=date_column,
            nps_column=nps_column,
            csat_column=csat_column,
            consent_column=consent_column,
        )
        source = open_survey(p, opts)
        return self.load("survey", source, p, name=str(path), progress=progress)

    def reviews(
        self, path: str | Path, platform: str | None = None, *, progress: Progress | None = None
    ) -> IngestReport:
        """Import App Store (RSS or Connect), Google Play, Trustpilot or generic reviews."""
        p = check_file(path, "review")
        source = open_reviews(p, platform)
        return self.load("review", source, p, name=str(path), progress=progress)

    def social(
        self, path: str | Path, platform: str | None = None, *, progress: Progress | None = None
    ) -> IngestReport:
        """Import X/Twitter API v2 JSON Lines or Reddit JSON listings."""
        p = check_file(path, "social")
        source = open_social(p, platform)
        return self.load("social", source, p, name=str(path), progress=progress)

    def customers(
        self,
        path: str | Path,
        *,
        columns: Sequence[str] | dict[str, str] | None = None,
        platform: str | None = None,
        currency: str | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Import a CRM/billing export of customers (CSV, TSV, XLSX, JSON, JSON Lines): segment, plan,
        revenue, country, signup and churn dates, matched by e-mail or (platform, handle)
        (:mod:`feedback_engine.ingest.customers`). ``columns``: ``["field=Header", ...]`` overrides."""
        p = check_file(path, "customer")
        overrides = dict(columns) if isinstance(columns, dict) else parse_overrides(list(columns or []))
        source = open_customers(p, columns=overrides, platform=platform, currency=currency)
        sha256, lines = _scan(p)
        loader = CustomerLoader(
            self.store, source=str(path), options=source.options, source_sha256=sha256, progress=progress
        )
        return loader.run(source.records(), expected=_expected_records(p, lines))

    def files(self, path: str | Path, *, progress: Progress | None = None) -> list[IngestReport]:
        """Import a file or every export under a folder, picking surveys/reviews/social per file.

        In a folder, files with other extensions (README.md, .DS_Store) are left alone, and a file
        that cannot be imported -- unreadable, of a kind not recognised with confidence, or failing
        in any other way -- gives a report with ``error`` set while the other files go on. A single
        file that fails raises its error.
        """
        root = Path(path)
        if not root.exists():
            raise IngestError(f"{root} does not exist. Pass an export file or a folder of exports.")
        if root.is_dir():
            files = sorted(f for f in root.rglob("*") if f.suffix.lower() in _EXTENSIONS and not f.is_dir())
        else:
            files = [root]
        reports = []
        for f in files:
            try:
                kind = detect_kind(f)
                if kind == "survey":
                    reports.append(self.surveys(f, progress=progress))
                elif kind == "review":
                    reports.append(self.reviews(f, progress=progress))
                else:
                    reports.append(self.social(f, progress=progress))
            except FeedbackEngineError as exc:
                if not root.is_dir():
                    raise
                reports.append(_failed(f, exc.message))
            except Exception as exc:  # a defect of ours on one file must not cost the other files
                if not root.is_dir():
                    raise
                reports.append(_failed(f, f"unexpected error ({type(exc).__name__}: {exc}); please report this file"))
        return reports

    def load(
        self, kind: str, source: Source, path: Path, *, name: str | None = None, progress: Progress | None = None
    ) -> IngestReport:
        """Import the records of an opened ``source`` read from the file ``path`` as one run of ``kind``
        (``name``: how the run names its source, default the path)."""
        return self._load(kind, source.platform, name or str(path), source.options, source.records(), path, progress)

    def _load(
        self,
        kind: str,
        platform: str | None,
        source: str,
        options: dict[str, Any],
        records: Iterable[Any],
        path: Path,
        progress: Progress | None,
    ) -> IngestReport:
        sha256, lines = _scan(path)
        loader = Loader(
            self.store,
            kind=kind,
            platform=platform,
            source=source,
            options=options,
            source_sha256=sha256,
            progress=progress,
        )
        return loader.run(records, expected=_expected_records(path, lines))

    # -- reading back ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Items per channel and platform, customers, quarantine, runs and the last import (a run
        whose process died is reported failed, "interrupted")."""
        mark_interrupted_runs(self.store)
        return queries.status(self.store)

    def quarantine(self, run_id: int | None = None, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Quarantined records (newest run first), optionally of one run."""
        if run_id is not None and not queries.run_exists(self.store, run_id):
            raise NotFoundError(f"No ingest run {run_id}. See `feedback-engine status` for the runs.")
        return queries.quarantined(self.store, run_id, limit=limit)

    def rows(self, *, sentences: bool = False, filters: _export.ExportFilter | None = None) -> Iterator[dict[str, Any]]:
        """Every item (or those ``filters`` keep) with customer and analysis fields (see
        :mod:`feedback_engine.ingest.export`)."""
        return _export.feedback_rows(self.store, sentences=sentences, filters=filters)

    def export(
        self,
        fmt: str = "csv",
        out: str | Path | IO[str] | None = None,
        *,
        since: str | None = None,
        until: str | None = None,
        channel: str | None = None,
        source: str | None = None,
        theme: int | None = None,
    ) -> int:
        """Write every item as csv, jsonl or parquet, optionally only those written ``since`` ..
        ``until`` (ISO dates), of a ``channel``, a ``source`` or a ``theme``; returns the number written."""
        filters = _export.ExportFilter(since=since, until=until, channel=channel, source=source, theme=theme)
        return _export.export_feedback(self.store, fmt, out, filters)


def _scan(path: Path) -> tuple[str, int]:
    """SHA-256 of the file and its number of line breaks, in one read."""
    digest = hashlib.sha256()
    lines = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    return digest.hexdigest(), lines


def _expected_records(path: Path, lines: int) -> int | None:
    """About how many records a line-based export holds (for the progress bar's ETA); ``None`` for
    formats whose records are not lines (JSON, XLSX). UTF-16 files count a break as two bytes
    ``\n\0`` or ``\0\n``: still one ``\n`` each. Multi-line quoted fields make it an upper bound."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return lines or None
    if suffix in (".csv", ".tsv", ".txt"):
        return max(0, lines - 1) or None
    return None


def _kind_hint(path: Path) -> str | None:
    for part in reversed(path.parts[:-1]):
        name = part.lower()
        for kind in ("survey", "review", "social"):
            if name.startswith(kind):
                return kind
    return None


def _failed(path: Path, reason: str) -> IngestReport:
    return IngestReport(kind=_kind_hint(path) or "unknown", platform=None, source=str(path), error=reason)


def _refuse(path: Path, why: str) -> IngestError:
    return IngestError(
        f"{path}: {why}. Pass it to `feedback-engine ingest surveys|reviews|social` to say what it is.",
        source=str(path),
    )


def _tabular(text: str) -> bool:
    """Whether the sample reads as a table: a header of 2+ columns and rows of the same width."""
    lines = text.splitlines(keepends=True)[:60]
    if len(lines) > 2:
        lines = lines[:-1]  # the sample may end inside a line
    delimiter = sniff_delimiter("".join(lines))
    try:
        rows = [r for r in csv.reader(lines, delimiter=delimiter, strict=False) if r]
    except csv.Error:
        return False
    if not rows or len(rows[0]) < 2:
        return False
    width = len(rows[0])
    return sum(1 for r in rows if len(r) == width) >= 0.8 * len(rows)


def detect_kind(path: Path) -> str:
    """``survey``, ``review`` or ``social`` for one file: its folder name, else its content.

    :class:`IngestError` when the file is not an export format we read, or its content is not
    recognised with confidence (prose, a one-column list): guessing would import junk items.
    """
    if path.suffix.lower() not in _EXTENSIONS:
        known = ", ".join(sorted(_EXTENSIONS))
        raise _refuse(path, f"not an export file we read (expected one of {known})")
    hint = _kind_hint(path)
    if hint:
        return hint
    p = check_file(path, "feedback")
    sample = read_sample(p)
    if sample.startswith(b"PK\x03\x04"):
        return "survey"
    encoding = detect_encoding(sample, p)
    if detect_social(p, sample, encoding):
        return "social"
    start = first_json_char(sample, encoding)
    text = sample[:65536].decode("utf-8", "ignore") if not encoding.startswith("utf-16") else ""
    if encoding.startswith("utf-16"):
        text = sample[:65536].decode(encoding, "ignore")
    if start == "{":
        if any(marker in text for marker in ('"feed"', '"customerReviews"', '"stars"', '"consumer"', '"reviews"')):
            return "review"
        return "survey"
    if start == "[":
        first_obj = text[:4096]
        if '"rating"' in first_obj or '"stars"' in first_obj:
            return "review"
        return "survey"
    if path.suffix.lower() in (".json", ".jsonl", ".ndjson"):
        raise _refuse(path, "JSON that is not an export we recognise")
    if not _tabular(text):
        raise _refuse(path, "not a table with a header row (it reads like prose or a one-column list)")
    header = text.splitlines()[0].lower() if text else ""
    if "package name" in header and "star rating" in header:
        return "review"
    fields = {f.strip().strip('"') for f in header.replace("\t", ",").split(",")}
    if fields & {"rating", "stars", "star_rating"} and fields & {"title", "review", "body", "author"}:
        return "review"
    return "survey"
