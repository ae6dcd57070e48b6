"""Streaming readers: bytes on disk -> decoded lines, CSV rows, JSON values, XLSX rows.

Encoding is decided per file from the first megabyte: a BOM (UTF-8, UTF-16 LE/BE), the NUL
pattern of BOM-less UTF-16, else UTF-8 unless the sample is clearly Latin-1/Windows-1252.
Decoding itself is per line, so a single undecodable line in an otherwise UTF-8 file does
not flip the whole file: its line number is recorded in :attr:`DecodedLines.bad` and the
record that contains it goes to quarantine (its bytes kept as ``\\xNN`` escapes).

Nothing here reads a whole file into memory, except :func:`load_json` for JSON documents
that are not a top-level array (API pages: a few MB), which is capped at ``MAX_JSON_BYTES``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import stat
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from feedback_engine.errors import IngestError
from feedback_engine.ingest.records import TOO_DEEP, HugeNumber

__all__ = [
    "BadValue",
    "DecodedLines",
    "JsonStreamError",
    "CsvTable",
    "check_file",
    "detect_encoding",
    "escape_undecodable",
    "iter_json_array",
    "load_json",
    "open_csv",
    "read_sample",
    "xlsx_rows",
]

SAMPLE_BYTES = 1 << 20
MAX_JSON_BYTES = 256 << 20
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_MARK = re.compile("[\udc00-\udcff]")


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(chr(0xDC00 + b) for b in bad), exc.end


codecs.register_error("feedback_engine.mark", _mark_undecodable)


def escape_undecodable(text: str) -> str:
    """Replace the marks of undecodable bytes by ``\\xNN`` escapes (for quarantine and display)."""
    return _MARK.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def check_file(path: str | Path, what: str) -> Path:
    """The path, if it is a readable, non-empty file; :class:`IngestError` otherwise."""
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p} does not exist. Check the path of the {what} export.", source=str(p))
    if p.is_dir():
        raise IngestError(f"{p} is a folder. Pass one {what} export file.", source=str(p))
    try:
        info = p.stat()
    except OSError as exc:
        raise IngestError(f"Cannot read {p} ({exc.strerror}). Check its permissions.", source=str(p)) from exc
    if not stat.S_ISREG(info.st_mode):
        kind = "a named pipe" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise IngestError(
            f"{p} is {kind}, not a regular file. Save the {what} export to a file and pass that.", source=str(p)
        )
    size = info.st_size
    try:
        with p.open("rb"):
            pass
    except OSError as exc:
        raise IngestError(f"Cannot read {p} ({exc.strerror}). Check its permissions.", source=str(p)) from exc
    if size == 0:
        raise IngestError(f"{p} is empty. Export the {what} again; nothing was imported.", source=str(p))
    return p


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


# -- encoding -------------------------------------------------------------------------------
def detect_encoding(sample: bytes, path: Path | None = None) -> str:
    """``utf-8-sig``, ``utf-16``, ``utf-16-le``/``-be`` (no BOM), ``utf-8`` or ``cp1252``."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = sample[:4096]
    if head and b"\x00" in head:
        even = head[0::2].count(0)
        odd = head[1::2].count(0)
        half = len(head) // 2
        if odd > 0.3 * half and even < 0.05 * half:
            return "utf-16-le"
        if even > 0.3 * half and odd < 0.05 * half:
            return "utf-16-be"
    if _looks_binary(sample):
        raise IngestError(
            f"{path or 'The file'} looks like binary data, not a text export. "
            "Make sure to pass the CSV, TSV, JSON or XLSX file the tool exported.",
            source=str(path),
        )
    truncated = len(sample) >= SAMPLE_BYTES
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(sample) - 4:
            return "utf-8"
    # Some lines fail. A line with real UTF-8 in it -- the whole line, or a multi-byte sequence
    # beside the bad byte -- is evidence of UTF-8; a failing line that reads as Windows-1252 text is
    # evidence of Latin-1. The majority wins (UTF-8 on a tie). In a UTF-8 file the failing lines are
    # quarantined; in a Latin-1 file, lines that are valid UTF-8 are still read as UTF-8 (per line).
    utf8_lines = 0
    bad_lines = 0
    latin_like = 0
    for line in sample.splitlines()[:-1] if truncated else sample.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            if _has_utf8_sequence(line):
                utf8_lines += 1
                continue
            bad_lines += 1
            if _looks_like_cp1252_text(line):
                latin_like += 1
    if bad_lines > 0 and latin_like == bad_lines and latin_like > utf8_lines:
        return "cp1252"
    return "utf-8"


def _has_utf8_sequence(line: bytes) -> bool:
    """Whether the line holds at least one valid multi-byte UTF-8 sequence (text in Latin-1 almost never does)."""
    text = line.decode("utf-8", "surrogateescape")
    return any(ord(ch) > 0x7F and not 0xDC80 <= ord(ch) <= 0xDCFF for ch in text)


def _looks_like_cp1252_text(line: bytes) -> bool:
    try:
        text = line.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)


_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"\x1f\x8b", b"\x7fELF", b"BZh", b"\xfd7zXZ", b"Rar!")
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 26))


#: A NUL in most lines makes a file binary only from this many such lines: a one-row export
#: with four junk lines ("zz\x00") is text whose junk goes to quarantine (a property test found it).
MIN_NUL_LINES = 8


def _looks_binary(sample: bytes) -> bool:
    """A known binary signature, a NUL in the header line or in most lines, or mostly control bytes.

    One line of stray bytes inside a text export is not binary: that record goes to quarantine.
    """
    if sample.startswith(_MAGIC):
        return True
    head = sample[:65536]
    lines = head.split(b"\n")[:200]
    if b"\x00" in lines[0]:
        return True
    nul_lines = sum(1 for line in lines if b"\x00" in line)
    if nul_lines > len(lines) / 2 and nul_lines >= MIN_NUL_LINES:
        return True
    return len(head) >= 64 and len(head) - len(head.translate(None, _CONTROL)) > 0.3 * len(head)


class DecodedLines:
    """Iterates the decoded lines of a text file (line endings kept, as ``newline=""`` does).

    ``line_no`` is the number of the last line yielded; ``bad`` the numbers of lines with
    undecodable bytes (marked, see :func:`escape_undecodable`).
    """

    def __init__(self, path: Path, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self.bad: set[int] = set()
        self.line_no = 0
        self.last = ""
        head = read_sample(path, 1 << 16)
        # Excel for Mac writes CR-only line endings ("Comma Separated Values (.csv)" on older versions)
        self.cr_only = b"\r" in head and b"\n" not in head

    def _raw_lines(self, fh: BinaryIO) -> Iterator[bytes]:
        if not self.cr_only:
            yield from fh
            return
        rest = b""
        while chunk := fh.read(1 << 20):
            parts = (rest + chunk).split(b"\r")
            rest = parts.pop()
            for part in parts:
                yield part + b"\r"
        if rest:
            yield rest

    def __iter__(self) -> Iterator[str]:
        if self.encoding.startswith("utf-16"):
            yield from self._iter_wide()
        elif self.encoding == "cp1252":
            yield from self._iter_cp1252()
        else:
            yield from self._iter_utf8()

    def _iter_utf8(self) -> Iterator[str]:
        bad = self.bad
        n = 0
        with self.path.open("rb", buffering=1 << 20) as fh:
            first = True
            for raw in self._raw_lines(fh):
                n += 1
                if first:
                    first = False
                    if raw.startswith(codecs.BOM_UTF8):
                        raw = raw[3:]
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    bad.add(n)
                    line = raw.decode("utf-8", "feedback_engine.mark")
                self.line_no = n
                self.last = line
                yield line

    def _iter_cp1252(self) -> Iterator[str]:
        # Decoded per line: a line that is valid UTF-8 with multi-byte text is read as UTF-8 (an export
        # whose first megabyte looked Latin-1 may hold UTF-8 further on; cp1252 would garble it).
        n = 0
        with self.path.open("rb", buffering=1 << 20) as fh:
            for raw in self._raw_lines(fh):
                n += 1
                if raw.isascii():
                    line = raw.decode("ascii")
                else:
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        try:
                            line = raw.decode("cp1252")
                        except UnicodeDecodeError:
                            line = raw.decode("latin-1")
                self.line_no = n
                self.last = line
                yield line

    def _iter_wide(self) -> Iterator[str]:
        n = 0
        bad = self.bad
        search = _MARK.search
        with self.path.open("rb", buffering=1 << 20) as fh:
            text = io.TextIOWrapper(fh, encoding=self.encoding, errors="feedback_engine.mark", newline="")
            for line in text:
                n += 1
                if n == 1 and line.startswith("\ufeff"):
                    line = line[1:]
                if search(line):
                    bad.add(n)
                self.line_no = n
                self.last = line
                yield line


# -- CSV --------------------------------------------------------------------------------------
class CsvTable:
    """A CSV/TSV file: encoding, dialect, and an iterator of ``(start_line, end_line, fields, problem)``.

    ``problem`` is ``None``, or why the record cannot be read (undecodable bytes, a NUL byte).
    """

    def __init__(self, path: Path, encoding: str, delimiter: str) -> None:
        self.path = path
        self.encoding = encoding
        self.delimiter = delimiter
        self.lines = DecodedLines(path, encoding)

    def rows(self) -> Iterator[tuple[int, int, list[str], str | None]]:
        lines = self.lines
        undecodable = "undecodable bytes (not valid " + _enc_name(self.encoding) + ")"
        reader = csv.reader(lines, delimiter=self.delimiter, strict=False)
        bad = lines.bad
        end = 0
        while True:
            start = end + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a NUL byte; keep going with the next line
                end = reader.line_num
                yield start, end, [escape_undecodable(lines.last.rstrip("\r\n"))], f"unreadable CSV record ({exc})"
                continue
            end = reader.line_num
            if not fields:
                continue
            problem = None
            if bad:
                for n in range(start, end + 1):
                    if n in bad:
                        problem = undecodable
                        bad.discard(n)
            yield start, end, fields, problem


def open_csv(path: Path, sample: bytes, *, delimiter: str | None = None) -> CsvTable:
    """A :class:`CsvTable` with encoding and delimiter detected from ``sample``."""
    encoding = detect_encoding(sample, path)
    if delimiter is None:
        delimiter = sniff_delimiter(_decode_sample(sample, encoding), prefer_tab=path.suffix.lower() == ".tsv")
    return CsvTable(path, encoding, delimiter)


def _decode_sample(sample: bytes, encoding: str) -> str:
    enc = "latin-1" if encoding == "cp1252" else encoding
    return codecs.getincrementaldecoder(enc)(errors="replace").decode(sample, final=False)


def sniff_delimiter(text: str, *, prefer_tab: bool = False) -> str:
    lines = text.splitlines(keepends=True)[:30]
    if len(text) >= SAMPLE_BYTES // 2 and len(lines) > 1:
        lines = lines[:-1]
    best, best_score = ",", (-1, 0)
    candidates = ["\t", ",", ";", "|"] if prefer_tab else [",", "\t", ";", "|"]
    for delim in candidates:
        try:
            rows = [r for r in csv.reader(lines, delimiter=delim, strict=False) if r]
        except csv.Error:
            continue
        if not rows:
            continue
        widths = [len(r) for r in rows]
        header = widths[0]
        if header < 2:
            continue
        consistent = sum(1 for w in widths if w == header)
        score = (consistent, header)
        if score > best_score:
            best, best_score = delim, score
    return best


# -- JSON -------------------------------------------------------------------------------------
class JsonStreamError(ValueError):
    """The JSON stream is broken after ``count`` complete values."""

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count


# Hostile JSON: a number of 5,000 digits makes ``json`` raise ValueError (Python converts at most
# 4,300), and 5,000 levels of nesting a RecursionError. Neither may cost the rest of the file: such
# a number is kept as a HugeNumber string, and a value nested too deeply for the parser is cut at
# PARSE_DEPTH levels (replaced by a marker), so that the record holding it is quarantined and the
# others land (see ``records.value_problem``).
PARSE_DEPTH = 200
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_STRUCT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|"|[\[\]{}]', re.S)
_SCALAR_END = re.compile(r"[,\]}\s]")


def _huge_int(text: str) -> int | HugeNumber:
    return int(text) if len(text) <= 4000 else HugeNumber(text)


_PLAIN = json.JSONDecoder()
_HUGE = json.JSONDecoder(parse_int=_huge_int)


def loads(text: str) -> Any:
    """``json.loads`` that survives huge integers; RecursionError still means "nested too deeply"."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer too long to convert
        return json.loads(text, parse_int=_huge_int)


def raw_decode(text: str, pos: int) -> tuple[Any, int]:
    """``JSONDecoder.raw_decode`` that survives huge integers (see :func:`loads`)."""
    try:
        return _PLAIN.raw_decode(text, pos)
    except json.JSONDecodeError:
        raise
    except ValueError:
        return _HUGE.raw_decode(text, pos)


def value_end(text: str, pos: int) -> int | None:
    """Where the JSON value starting at ``pos`` ends (brackets and strings matched, nothing parsed);
    ``None`` when it does not end within ``text``."""
    ch = text[pos]
    if ch == '"':
        m = _STRING.match(text, pos)
        return m.end() if m else None
    if ch not in "[{":
        m = _SCALAR_END.search(text, pos)
        return m.start() if m else None
    depth = 0
    for m in _STRUCT.finditer(text, pos):
        token = m.group()
        if token == '"':
            return None  # a string that does not end
        if token[0] == '"':
            continue
        depth += 1 if token in "[{" else -1
        if depth == 0:
            return m.end()
    return None


def cap_depth(text: str, limit: int = PARSE_DEPTH) -> str:
    """``text`` with every value nested deeper than ``limit`` replaced by the TOO_DEEP marker."""
    out: list[str] = []
    depth = last = pos = 0
    marker = json.dumps(TOO_DEEP)
    while m := _STRUCT.search(text, pos):
        token = m.group()
        if token == '"':
            break
        pos = m.end()
        if token[0] == '"':
            continue
        if token in "[{":
            if depth >= limit:
                end = value_end(text, m.start())
                if end is None:
                    break
                out += [text[last : m.start()], marker]
                last = pos = end
                continue
            depth += 1
        else:
            depth -= 1
    out.append(text[last:])
    return "".join(out)


def loads_document(text: str) -> Any:
    """Parse a whole document; values nested too deeply are cut (their records get quarantined)."""
    try:
        return loads(text)
    except RecursionError:
        return loads(cap_depth(text))


class BadValue:
    """An element of a JSON array that cannot be parsed on its own: why, and its text."""

    def __init__(self, reason: str, raw: str) -> None:
        self.reason = reason
        self.raw = raw


def _open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    enc = "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding
    return io.TextIOWrapper(path.open("rb"), encoding=enc, errors="feedback_engine.mark")


def first_json_char(sample: bytes, encoding: str) -> str:
    text = _decode_sample(sample[:4096], encoding).lstrip("\ufeff \t\r\n")
    return text[:1]


def iter_json_array(path: Path, encoding: str, chunk_chars: int = 1 << 20) -> Iterator[Any]:
    """Yield the elements of a top-level JSON array one at a time (memory: one element + a chunk)."""
    ws = " \t\r\n"
    count = 0
    with _open_text(path, encoding) as fh:
        buf = fh.read(chunk_chars).lstrip("\ufeff" + ws)
        eof = False
        if not buf.startswith("["):
            raise JsonStreamError("not a JSON array", 0)
        pos = 1
        expect_value = True
        while True:
            while pos < len(buf) and buf[pos] in ws:
                pos += 1
            if pos >= len(buf):
                if eof:
                    raise JsonStreamError("the JSON array is not closed (file truncated?)", count)
                more = fh.read(chunk_chars)
                eof = not more
                buf = buf[pos:] + more
                pos = 0
                continue
            ch = buf[pos]
            if ch == "]" and (expect_value is False or count == 0):
                return
            if ch == "," and not expect_value:
                pos += 1
                expect_value = True
                continue
            if not expect_value:
                raise JsonStreamError(f"expected ',' or ']' at character {pos} after element {count}", count)
            try:
                value, end = raw_decode(buf, pos)
            except RecursionError:
                skip = value_end(buf, pos)
                if skip is None:
                    if not eof:
                        more = fh.read(chunk_chars)
                        eof = not more
                        buf = buf[pos:] + more
                        pos = 0
                        continue
                    raise JsonStreamError(f"element {count + 1} is nested too deeply and never closed", count) from None
                try:  # cut what is too deep: the records inside that hold it are quarantined, not the others
                    value, end = loads(cap_depth(buf[pos:skip])), skip
                except (json.JSONDecodeError, RecursionError):
                    value, end = BadValue("invalid JSON: nested too deeply", buf[pos : min(skip, pos + 20_000)]), skip
            except json.JSONDecodeError as exc:
                if not eof and len(buf) - pos < 64 * chunk_chars:
                    more = fh.read(chunk_chars)
                    eof = not more
                    buf = buf[pos:] + more
                    pos = 0
                    if more:
                        continue
                raise JsonStreamError(f"invalid JSON in element {count + 1}: {exc.msg}", count) from exc
            if end >= len(buf) and not eof:
                # a number at the end of the buffer may continue in the next chunk
                more = fh.read(chunk_chars)
                eof = not more
                if more:
                    buf = buf[pos:] + more
                    pos = 0
                    continue
            count += 1
            yield value
            pos = end
            expect_value = False
            if pos > chunk_chars:
                buf = buf[pos:]
                pos = 0


def load_json(path: Path, encoding: str) -> Any:
    """Parse a whole JSON document (not a top-level array); capped at ``MAX_JSON_BYTES``."""
    if path.stat().st_size > MAX_JSON_BYTES:
        raise IngestError(
            f"{path} is a JSON document over {MAX_JSON_BYTES >> 20} MB. Export it as JSON Lines "
            "(one record per line) or as a top-level array, which are read as a stream.",
            source=str(path),
        )
    with _open_text(path, encoding) as fh:
        text = fh.read()
    try:
        return loads_document(text)
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}). "
            "Make sure to pass the JSON file exactly as exported.",
            source=str(path),
        ) from exc


def iter_jsonl(path: Path, encoding: str) -> Iterator[tuple[int, Any, str | None, str]]:
    """``(line_no, value, error, raw_line)`` for each non-blank line; ``error`` set when invalid."""
    lines = DecodedLines(path, encoding)
    for line in lines:
        n = lines.line_no
        stripped = line.strip()
        if not stripped:
            continue
        if n in lines.bad:
            yield n, None, "undecodable bytes (not valid " + _enc_name(encoding) + ")", escape_undecodable(stripped)
            continue
        try:
            yield n, loads(stripped), None, stripped
        except json.JSONDecodeError as exc:
            yield n, None, f"invalid JSON: {exc.msg} (column {exc.colno})", stripped
        except RecursionError:
            yield n, None, "invalid JSON: nested too deeply", stripped[:20_000]


def _enc_name(encoding: str) -> str:
    return "UTF-16" if encoding.startswith("utf-16") else "UTF-8"


# -- XLSX -------------------------------------------------------------------------------------
def xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """``(row_number, values)`` of the first sheet, streamed (openpyxl read-only mode)."""
    import zipfile
    from datetime import date, datetime, time

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    def unreadable(exc: BaseException) -> IngestError:
        return IngestError(
            f"{path} is not a valid XLSX workbook ({type(exc).__name__}). "
            "Export the responses again as .xlsx or as CSV.",
            source=str(path),
        )

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles/extensions it does not read
            workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError, IndexError) as exc:
        raise unreadable(exc) from exc
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            values: list[Any] = []
            for v in row:
                if isinstance(v, (datetime, date, time)):
                    v = v.isoformat()
                elif isinstance(v, float) and v.is_integer():
                    v = int(v)
                values.append(v)
            while values and values[-1] is None:
                values.pop()
            if not values:
                continue
            yield number, values
    except IngestError:
        raise
    except Exception as exc:  # a damaged workbook fails inside openpyxl's XML parsing, in many ways
        raise unreadable(exc) from exc
    finally:
        workbook.close()
