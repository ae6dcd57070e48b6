"""Property tests: arbitrary bytes never crash an ingestor; valid rows are never lost; counts add up."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from feedback_engine import Engine
from feedback_engine.errors import IngestError

# real answers: any Unicode except surrogates and control characters other than tab / newlines
TEXT = st.text(
    alphabet=st.one_of(st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from("\t\n")),
    min_size=1,
    max_size=80,
).filter(lambda t: t.strip() != "")
GOOD = st.tuples(st.just("good"), TEXT, st.integers(0, 10))
BAD = st.one_of(
    st.tuples(st.just("bad"), TEXT, st.sampled_from(["11", "-1", "x", "7.5"])),
    st.tuples(st.just("bad"), st.sampled_from(["", "   "]), st.integers(0, 10).map(str)),
)
GARBAGE = st.binary(min_size=1, max_size=40).filter(lambda b: not set(b) & set(b'"\r\n,'))

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _report_adds_up(report) -> None:
    assert report.records == report.added + report.updated + report.unchanged + report.quarantined + report.skipped


@SETTINGS
@given(
    rows=st.lists(st.one_of(GOOD, BAD), min_size=1, max_size=30),
    garbage=st.lists(st.tuples(st.integers(0, 30), GARBAGE), max_size=4),
)
@example(rows=[("good", "0", 0)], garbage=[(0, b"\x00")] * 4)  # junk in most lines of a tiny file
def test_valid_rows_survive_bad_rows_and_garbage_lines(rows, garbage):
    def record(fields: list[object]) -> bytes:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(fields)
        return buf.getvalue().encode("utf-8")

    chunks = [record([f"r{i}", text, nps]) for i, (_kind, text, nps) in enumerate(rows)]
    # garbage lines go between records, never inside a quoted multi-line field
    for pos, junk in sorted(garbage, reverse=True):
        chunks.insert(min(pos, len(chunks)), b"zz" + junk + b"\n")
    data = record(["id", "text", "nps"]) + b"".join(chunks)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_bytes(data)
        with Engine(Path(tmp) / "f.db") as engine:
            report = engine.ingest.surveys(path, id_column="id", text_columns=["text"], nps_column="nps")
            _report_adds_up(report)
            stored = {r["external_id"]: (r["text"], r["nps"]) for r in engine.store.query("SELECT * FROM feedback")}
            for i, (kind, text, nps) in enumerate(rows):
                if kind == "good":
                    assert stored.get(f"r{i}") == (text.strip(), nps)
                else:
                    assert f"r{i}" not in stored
            bad_rows = sum(1 for kind, _, _ in rows if kind == "bad")
            assert report.quarantined >= bad_rows
            again = engine.ingest.surveys(path, id_column="id", text_columns=["text"], nps_column="nps")
            assert again.added == 0 and again.updated == 0


@SETTINGS
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".json", ".jsonl", ".tsv", ".xlsx"]))
def test_arbitrary_bytes_never_crash_any_ingestor(data, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        with Engine(Path(tmp) / "f.db") as engine:
            for call in (
                lambda: engine.ingest.surveys(path),
                lambda: engine.ingest.surveys(path, id_column="a", text_columns=["b"]),
                lambda: engine.ingest.reviews(path),
                lambda: engine.ingest.social(path),
            ):
                try:
                    report = call()
                except IngestError as exc:
                    assert "\n" not in str(exc)
                else:
                    _report_adds_up(report)


@SETTINGS
@given(
    lines=st.lists(
        st.one_of(st.binary(max_size=80), st.just(b'{"data": [{"id": "1", "text": "hi there"}]}')), max_size=8
    )
)
def test_arbitrary_jsonl_lines_never_crash_the_twitter_reader(lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        path.write_bytes(b'{"data": [{"id": "0", "text": "first"}]}\n' + b"\n".join(lines))
        with Engine(Path(tmp) / "f.db") as engine:
            try:
                report = engine.ingest.social(path, "twitter")
            except IngestError:
                return
            _report_adds_up(report)
            assert engine.store.scalar("SELECT count(*) FROM feedback WHERE external_id = '0'") == 1
