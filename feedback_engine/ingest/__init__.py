"""Ingest stage: survey, review and social exports -> feedback rows (bad records -> quarantine).

Where a record goes, module by module:

- ``readers``  bytes -> decoded lines (BOM / UTF-16 / Latin-1 detection, per-line decode errors),
  CSV rows with line numbers, streamed JSON arrays, JSON Lines, XLSX rows.
- ``surveys`` / ``reviews`` / ``social``  rows -> :class:`records.FeedbackRecord` (validated,
  with a natural key), :class:`records.Quarantined` (location + reason) or :class:`records.Skipped`.
- ``loader``  records -> SQLite in batched transactions: dedupe by natural key, edits to history,
  customers by normalised e-mail or platform handle, quarantine rows, one ``ingest_runs`` row.
- ``export``  feedback rows (+ analysis fields when present) -> CSV / JSONL / Parquet.
- ``service``  ``engine.ingest`` (:class:`service.IngestService`): ``surveys``, ``reviews``,
  ``social``, ``files``, ``load`` (any :class:`~feedback_engine.contracts.Source`), ``status``,
  ``quarantine``, ``rows``, ``export``.
"""
