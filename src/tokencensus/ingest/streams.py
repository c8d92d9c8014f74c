"""Reading log files piece by piece, in constant memory, remembering where every row came from.

* :func:`csv_batches` streams a CSV (optionally ``.gz``/``.bz2``/``.zst``) with Arrow's streaming
  reader, every selected column read as raw bytes so that no value can fail a whole block; each
  row's *line number* is kept (header = line 1), and a line with the wrong number of fields (a
  truncated or ragged line) is turned into a :class:`Reject` instead of stopping the read.
* :func:`json_records` yields the records of JSON Lines (one value per line), of a top-level JSON
  array (streamed element by element), or of a single JSON document; a line that is not JSON is a
  :class:`Reject` with its line number and the read goes on.

Row numbers are file line numbers, as an editor shows them. They are exact as long as no CSV field
spans lines (a quoted newline splits the row, which is then rejected as ragged).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os
import re
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tokencensus.errors import InputError, TokencensusError
from tokencensus.schema import QUARANTINE_SCHEMA

try:  # orjson is several times faster; the stdlib is the fallback
    import orjson

    def loads(data: bytes | str) -> Any:
        """Parse one JSON value."""
        return orjson.loads(data)

    _JSON_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, UnicodeDecodeError, ValueError)
except ImportError:  # pragma: no cover - depends on the environment

    def loads(data: bytes | str) -> Any:
        """Parse one JSON value."""
        return json.loads(data)

    _JSON_ERRORS = (json.JSONDecodeError, UnicodeDecodeError, ValueError)

CSV_BLOCK_BYTES = 16 << 20
"""Bytes of CSV parsed at a time (about 60,000 rows of a typical export); bounds memory per block."""
JSON_BATCH_RECORDS = 20_000
"""JSON records mapped to one Arrow batch."""
MAX_JSON_VALUE_BYTES = 256 << 20
"""A single JSON value larger than this (in a top-level array) is an error, not a memory blow-up."""
RECORD_PREVIEW_CHARS = 2_000
"""How much of an unparseable line is kept in the quarantine (formats without prompt text only)."""


@dataclass(frozen=True)
class Reject:
    """An input row that could not be read at all: where, which field, why, and (maybe) the raw text."""

    row: int
    field: str
    reason: str
    record: str | None = None


@dataclass
class RawBatch:
    """Source rows as read, the line number of each, and the lines that could not be parsed."""

    table: pa.Table
    rows: np.ndarray
    rejects: list[Reject] = field(default_factory=list)


def rejects_table(source: str, rejects: Iterable[Reject]) -> pa.Table:
    """Rejects in the lake's quarantine schema."""
    items = list(rejects)
    now = datetime.now(UTC)
    return pa.table(
        {
            "source": pa.array([source] * len(items), pa.string()),
            "row": pa.array([r.row for r in items], pa.int64()),
            "field": pa.array([r.field for r in items], pa.string()),
            "reason": pa.array([r.reason for r in items], pa.string()),
            "record": pa.array([r.record for r in items], pa.string()),
            "quarantined_at": pa.array([now] * len(items), pa.timestamp("us", tz="UTC")),
        },
        schema=QUARANTINE_SCHEMA,
    )


class _Source(io.RawIOBase):
    """A log file's bytes as UTF-8 text lines would have them, read defensively.

    Decompresses ``.gz`` (zlib, so a truncated file yields every byte before the cut) and, through
    Arrow, ``.bz2``/``.zst``/...; drops a UTF-8 byte order mark; transcodes UTF-16 (with a BOM) to
    UTF-8; turns CR-only line ends (classic Mac) into LF. A read error (a truncated or corrupt
    archive, an I/O error) ends the stream instead of raising: :attr:`fault` then says why, the
    partial line before the fault is dropped, and :attr:`lines` tells how many lines were delivered.
    """

    _line_count: int | None
    _bytes: int

    @property
    def lines(self) -> int:
        """Lines delivered before a fault (0 when there was none). Counted only when asked after a
        fault, by reading the delivered bytes again: counting every block as it goes costs a scan of
        the whole file for an answer that is almost never needed."""
        if self.fault is None:
            return 0
        if self._line_count is None:
            again = _Source(self.path, self.blank, self._drop_binary)
            left, count = self._bytes, 0
            while left > 0:
                data = again.read(min(left, self.CHUNK))
                if not data:
                    break
                count += data.count(b"\n")
                left -= len(data)
            self._line_count = count
        return self._line_count

    CHUNK = 4 << 20

    def __init__(self, path: Path, blank: frozenset[int] = frozenset(), drop_binary: bool = False) -> None:
        super().__init__()
        self.path = path
        self.blank = blank
        self.dropped: list[int] = []  # lines emptied by drop_binary
        self.control_seen = False  # drop_binary met a control byte (a NUL, ...) somewhere so far
        self.fault: str | None = None
        self._drop_binary = drop_binary
        self._bytes = 0  # delivered so far
        self._line_count: int | None = None
        self._chunks = self._decoded()
        if drop_binary:
            self._chunks = self._binary_dropped(self._chunks)
        if blank:
            self._chunks = self._blanked(self._chunks)
        self._pending = b""  # one chunk of lookahead: on a fault its partial last line is dropped
        self._out = b""
        self._done = False

    # -- raw bytes -----------------------------------------------------------------------------
    def _raw(self) -> Iterator[bytes]:
        name = self.path.name.lower()
        if name.endswith(".gz"):
            yield from self._gunzip()
            return
        stream = pa.input_stream(str(self.path), compression="detect")
        try:
            while True:
                block = stream.read(self.CHUNK)
                if not block:
                    return
                yield block
        finally:
            stream.close()

    def _gunzip(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            decoder = zlib.decompressobj(wbits=47)
            started = False
            while True:
                block = handle.read(1 << 20)
                if not block:
                    break
                while block:
                    started = True
                    out = decoder.decompress(block)
                    if out:
                        yield out
                    if decoder.eof:  # a multi-member gzip: the next member starts after this one
                        block = decoder.unused_data
                        decoder = zlib.decompressobj(wbits=47)
                        started = False
                    else:
                        block = b""
            tail = decoder.flush()
            if tail:
                yield tail
            if started and not decoder.eof:
                raise EOFError("the gzip stream is cut short (truncated file)")

    def _decoded(self) -> Iterator[bytes]:
        raw = self._raw()
        head = b""
        for block in raw:
            head += block
            if len(head) >= 4:
                break
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
            yield from self._cr_fixed(self._utf16(head, raw))
            return
        yield from self._cr_fixed(itertools.chain([head] if head else [], raw))

    @staticmethod
    def _utf16(head: bytes, raw: Iterator[bytes]) -> Iterator[bytes]:
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        for block in itertools.chain([head], raw):
            text = decoder.decode(block)
            if text:
                yield text.encode("utf-8", errors="replace")
        text = decoder.decode(b"", final=True)
        if text:
            yield text.encode("utf-8", errors="replace")

    @staticmethod
    def _cr_fixed(blocks: Iterator[bytes]) -> Iterator[bytes]:
        first = next(blocks, b"")
        if b"\r" in first and b"\n" not in first:  # CR-only line ends (a CRLF file has its LFs)
            yield first.replace(b"\r", b"\n")
            for block in blocks:
                yield block.replace(b"\r", b"\n")
            return
        if first:
            yield first
        yield from blocks

    def _binary_dropped(self, blocks: Iterator[bytes]) -> Iterator[bytes]:
        """Lines that are binary (control characters and bytes that are not UTF-8) emptied; their
        numbers kept in :attr:`dropped`. Arrow's CSV reader cannot even report such a line."""
        line: int | None = None  # line number at the start of `data`: counted from the first hit on
        consumed, carry = 0, b""  # bytes handed on before `data`; the partial line after it
        for block in itertools.chain(blocks, [b""]):
            data = carry + block if carry else block
            cut = data.rfind(b"\n") + 1 if block else len(data)
            data, carry = data[:cut], data[cut:]
            # The common case, nothing to look at, is told by deleting every text byte (a C loop,
            # ~8x faster than the regular expression over the whole block).
            hit = _CONTROL.search(data) if data.translate(None, _TEXT_BYTES) else None
            consumed += len(data)
            if hit is None:
                if line is not None:
                    line += data.count(b"\n")
            else:
                self.control_seen = True
                if line is None:  # lines are numbered only once there is one to name
                    line = 1 + self._newlines_before(consumed - len(data))
                pieces, at, counted = [], 0, 0
                while hit is not None:
                    start = data.rfind(b"\n", 0, hit.start()) + 1
                    end = data.find(b"\n", hit.start())
                    end = len(data) if end < 0 else end
                    if not _is_text(data[start:end]):
                        line += data.count(b"\n", counted, start)
                        counted = start
                        self.dropped.append(line)
                        pieces.append(data[at:start])
                        at = end
                    hit = _CONTROL.search(data, end)
                line += data.count(b"\n", counted)
                pieces.append(data[at:])
                data = b"".join(pieces)
            if data:
                yield data
            if not block:
                break

    def _newlines_before(self, size: int) -> int:
        """Line ends in the first ``size`` bytes of the decoded file (read again: rarely needed)."""
        count = 0
        for block in self._decoded():
            count += block.count(b"\n", 0, size)
            size -= len(block)
            if size <= 0:
                break
        return count

    def _blanked(self, blocks: Iterator[bytes]) -> Iterator[bytes]:
        """The lines numbered in :attr:`blank` emptied (a slow path, for lines Arrow cannot parse)."""
        line, carry = 1, b""
        for block in blocks:
            parts = (carry + block).split(b"\n")
            carry = parts.pop()
            for i in range(len(parts)):
                if line + i in self.blank:
                    parts[i] = b""
            line += len(parts)
            if parts:
                yield b"\n".join(parts) + b"\n"
        if carry and line not in self.blank:
            yield carry

    # -- the file interface ----------------------------------------------------------------------
    def _next_chunk(self) -> bytes:
        """The next chunk to hand out (one behind the decoder), b"" at the end or after a fault."""
        while not self._done:
            try:
                block = next(self._chunks)
            except StopIteration:
                self._done = True
                break
            except (OSError, EOFError, zlib.error, pa.ArrowInvalid, pa.ArrowException, ValueError) as exc:
                self._done = True
                self.fault = _short(exc) or type(exc).__name__
                cut = self._pending.rfind(b"\n")
                self._pending = self._pending[: cut + 1]  # the line the fault cut in two is dropped
                break
            if not block:
                continue
            out, self._pending = self._pending, block
            if out:
                return out
        out, self._pending = self._pending, b""
        return out

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts = [self._out]
            self._out = b""
            while chunk := self._next_chunk():
                parts.append(chunk)
            data = b"".join(parts)
        else:
            parts, have = [self._out], len(self._out)
            while have < size:  # gather, then join once (adding chunk by chunk copies quadratically)
                chunk = self._next_chunk()
                if not chunk:
                    break
                parts.append(chunk)
                have += len(chunk)
            data = parts[0] if len(parts) == 1 else b"".join(parts)
            if len(data) > size:
                data, self._out = data[:size], data[size:]
            else:
                self._out = b""
        self._bytes += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_TEXT_BYTES = bytes(b for b in range(256) if not _CONTROL.match(bytes([b])))
"""Every byte :data:`_CONTROL` does not match."""


def _is_text(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def open_binary(path: Path, blank: frozenset[int] = frozenset(), drop_binary: bool = False) -> _Source:
    """The file's bytes (decompressed when its name ends in .gz, .bz2 or .zst), as UTF-8 with LF or
    CRLF line ends; see :class:`_Source` for what is repaired and how a read error ends the stream."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"{path}: cannot be opened ({exc.strerror or exc})") from exc
    return _Source(path, blank, drop_binary)


def head_bytes(path: Path, size: int = 64 << 10) -> bytes:
    """The first ``size`` bytes (decompressed, as :func:`open_binary` delivers them), for sniffing."""
    with open_binary(path) as handle:
        return handle.read(size)


class _Clean:
    """What :func:`_csv_pass` asks of a source, for a file :func:`_plain_text` found clean: it is
    read by Arrow natively (no Python call per block, so no wait for the interpreter's lock while
    the lake writes), and there is nothing to repair or report."""

    control_seen = False
    dropped: list[int] = []  # noqa: RUF012 (never appended to: a clean file drops nothing)
    fault: str | None = None
    lines = 0


_CLEAN = _Clean()
_COMPRESSED = (".gz", ".bz2", ".zst", ".zstd", ".lz4", ".br", ".brotli", ".snappy")


def _plain_text(path: Path) -> bool:
    """True for an uncompressed file that needs none of :class:`_Source`'s repairs: no byte order
    mark, not UTF-16, not CR-only line ends, and no control byte anywhere (one pass over the file,
    ~0.15 s per 300 MB: cheaper than repairing every block of it)."""
    if path.name.lower().endswith(_COMPRESSED):
        return False
    stream = pa.input_stream(str(path))
    try:
        first = True
        while block := stream.read(16 << 20):
            if first:
                if block.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
                    return False
                if b"\r" in block and b"\n" not in block:
                    return False
                first = False
            if block.translate(None, _TEXT_BYTES):
                return False
        return True
    except (OSError, pa.ArrowException):
        return False
    finally:
        stream.close()


def truncation(handle: _Source | _Clean, row: int) -> Reject | None:
    """A :class:`Reject` saying where the stream of ``handle`` stopped early, if it did."""
    if handle.fault is None:
        return None
    return Reject(
        row,
        "file",
        f"the file could not be read past line {row - 1} ({handle.fault}); every row before was kept",
    )


def csv_header(path: Path) -> list[str]:
    """The column names on the first line of a CSV file."""
    head = head_bytes(path, 1 << 20)
    if not head.strip():
        raise InputError(f"{path}: the file is empty; nothing to ingest")
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: line 1 is not UTF-8 text, so this is not a CSV log (binary or another encoding); "
            "convert it to UTF-8 CSV or pass the right --format"
        ) from exc
    try:
        return next(csv.reader([text]), [])
    except csv.Error as exc:
        raise InputError(f"{path}: line 1 is not a CSV header ({exc})") from exc


def csv_batches(
    path: Path,
    columns: Iterable[str] | None = None,
    *,
    keep_text: bool = True,
    block_size: int = CSV_BLOCK_BYTES,
) -> Iterator[RawBatch]:
    """Stream a CSV file: ``columns`` (those present; all when None), every value as text.

    Values are read as UTF-8 strings (the fast path); when a block holds bytes that are not UTF-8,
    the file is read again from that line on with every value as raw bytes, so that only the rows
    with bad bytes fail (in the parsers) and the rest land. With ``keep_text`` False (logs that carry
    prompt text) a ragged line is not copied into the quarantine.
    """
    header = csv_header(path)
    wanted = [c for c in (columns if columns is not None else header) if c in header]
    resume = 2  # line 1 is the header
    value_type = pa.string()
    blank: set[int] = set()
    while True:
        try:
            for batch in _csv_pass(path, wanted, value_type, resume, keep_text, block_size, frozenset(blank)):
                yield batch
                seen = [int(batch.rows[-1])] if len(batch.rows) else []
                resume = max([resume, *(r + 1 for r in seen), *(r.row + 1 for r in batch.rejects)])
            return
        except _NotUtf8:
            if value_type == pa.binary():
                raise InputError(
                    f"{path}: not a readable CSV file (invalid UTF-8 that cannot be isolated)"
                ) from None
            value_type = pa.binary()  # read again from where it stopped, every value as bytes
        except _BadLine as bad:
            if bad.line in blank or len(blank) >= MAX_CSV_RESTARTS:
                raise InputError(f"{path}: reading stopped near line {bad.line}: {bad.reason}") from None
            blank.add(bad.line)  # Arrow cannot even show this line: read again without it
            yield RawBatch(
                pa.table({c: pa.array([], value_type) for c in wanted}),
                np.array([], np.int64),
                [Reject(bad.line, "line", f"line is not CSV text ({bad.reason})")]
                if bad.line >= resume
                else [],
            )


MAX_CSV_RESTARTS = 20
"""Lines of a CSV that Arrow cannot parse at all (binary garbage) skipped by reading again; past
this many the file is an error."""


class _BadLine(Exception):
    """Arrow stopped at a line it could not parse (its text is not UTF-8 and its fields are off)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


_ARROW_ROW = re.compile(r"Row #(\d+): ([^:]*)")


def _arrow_failure(path: Path, exc: Exception, near: int) -> Exception:
    """A :class:`_BadLine` for an Arrow parse error that names its line, else an :class:`InputError`;
    never with the line's text (it may be a prompt)."""
    text = str(exc)
    found = _ARROW_ROW.search(text)
    if found:
        return _BadLine(int(found.group(1)), found.group(2).strip())
    first = text.splitlines()[0] if text else type(exc).__name__
    return InputError(f"{path}: reading stopped near line {near}: {first[:160]}")


class _NotUtf8(Exception):
    """A block of the CSV is not valid UTF-8 (read it again as bytes)."""


def _csv_pass(
    path: Path,
    wanted: list[str],
    value_type: pa.DataType,
    resume: int,
    keep_text: bool,
    block_size: int,
    blank_lines: frozenset[int] = frozenset(),
) -> Iterator[RawBatch]:
    """One streaming read, yielding the rows (and ragged lines) from line ``resume`` on."""
    skipped: list[tuple[int, str, int, int]] = []

    def on_invalid(row: Any) -> str:
        try:  # the raw line may not be text (a garbage tail): then it is kept as nothing
            text = row.text
        except (UnicodeDecodeError, ValueError):
            text = "\ufffd"
        skipped.append(
            (row.number if row.number is not None else 0, text, row.actual_columns, row.expected_columns)
        )
        return "skip"

    source = _CLEAN if not blank_lines and _plain_text(path) else open_binary(path, blank_lines, True)
    try:
        reader = pacsv.open_csv(
            pa.input_stream(str(path)) if source is _CLEAN else source,
            read_options=pacsv.ReadOptions(block_size=block_size, use_threads=False),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={c: value_type for c in wanted},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        if value_type == pa.string() and "UTF8" in str(exc):
            raise _NotUtf8 from exc
        raise _arrow_failure(path, exc, 2) from None
    next_line = 2  # line 1 is the header
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError) as exc:
            if value_type == pa.string() and "UTF8" in str(exc):
                raise _NotUtf8 from exc
            raise _arrow_failure(path, exc, next_line) from None
        n = batch.num_rows
        end = next_line + n - 1
        mine: list[tuple[int, str, int, int]] = []
        skipped.sort()
        while skipped and skipped[0][0] <= end:  # a skipped line inside the batch pushes its end
            mine.append(skipped.pop(0))
            end += 1
        lines = np.arange(next_line, end + 1, dtype=np.int64)
        if mine:
            lines = np.setdiff1d(lines, np.array([m[0] for m in mine], dtype=np.int64), assume_unique=True)
        next_line = end + 1
        if end < resume:
            continue  # read before, in the first pass
        table = pa.Table.from_batches([batch])
        keep = lines >= resume
        if table.num_columns and table.num_rows:
            blank = _all_null(table)
            if blank is not None:  # blank lines: not rows, not errors
                keep &= ~blank.to_numpy(zero_copy_only=False)
        if not keep.all():
            table, lines = table.filter(pa.array(keep)), lines[keep]
        rejects = _ragged([m for m in mine if m[0] >= resume], keep_text)
        # Rows holding a NUL are looked for only once the source has met a control byte at all.
        table, lines, nul = _without_nul(table, lines) if source.control_seen else (table, lines, [])
        yield RawBatch(table, lines, rejects + nul)
    skipped.sort()
    tail = _ragged([m for m in skipped if m[0] >= resume], keep_text)
    tail.extend(Reject(n, "line", "line is binary data, not text") for n in source.dropped if n >= resume)
    cut = truncation(source, max(next_line, source.lines + 1))
    if cut is not None:
        tail.append(cut)
    if tail:  # ragged lines after the last full row (a truncated tail), a read that stopped early
        yield RawBatch(
            pa.table({c: pa.array([], value_type) for c in wanted}),
            np.array([], np.int64),
            tail,
        )


def _without_nul(table: pa.Table, lines: np.ndarray) -> tuple[pa.Table, np.ndarray, list[Reject]]:
    """Rows holding a NUL character are rejects (no raw text kept), not data."""
    bad = None
    where: dict[int, str] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not (pa.types.is_string(column.type) or pa.types.is_binary(column.type)):
            continue
        hit = pc.fill_null(pc.match_substring(column, "\x00"), False)
        if not pc.any(hit).as_py():
            continue
        mask = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
        for i in np.nonzero(mask)[0]:
            where.setdefault(int(i), name)
        bad = mask if bad is None else bad | mask
    if bad is None:
        return table, lines, []
    rejects = [
        Reject(int(lines[i]), column, f"{column} holds a NUL byte") for i, column in sorted(where.items())
    ]
    return table.filter(pa.array(~bad)), lines[~bad], rejects


def _all_null(table: pa.Table) -> pa.Array | None:
    mask = None
    for column in table.columns:
        if column.null_count == 0:
            return None
        nulls = pc.is_null(column)
        mask = nulls if mask is None else pc.and_(mask, nulls)
    if mask is None or not pc.any(mask).as_py():
        return None
    return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask


def _ragged(items: list[tuple[int, str, int, int]], keep_text: bool) -> list[Reject]:
    out = []
    for line, text, actual, expected in items:
        if not text.strip():
            continue  # a blank line is not a row
        reason = (
            f"line has {actual} fields, the header has {expected} "
            f"({'truncated line' if actual < expected else 'unquoted separator?'})"
        )
        out.append(Reject(line, "line", reason, text[:RECORD_PREVIEW_CHARS] if keep_text else None))
    return out


# -- JSON --------------------------------------------------------------------------------------------


_PARSE_ERRORS: tuple[type[Exception], ...] = (*_JSON_ERRORS, RecursionError)
MAX_DEPTH = 256
"""A JSON value nested deeper than this is a rejected record (readers walk values recursively)."""
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_DATA_ARRAY = re.compile(rb'"data"\s*:\s*\[')
_WS = re.compile(r"[ \t\r\n]*")
_WS_COMMAS = re.compile(r"[ \t\r\n,]*")
_STRUCTURE = re.compile(r'["\[\]{},]')
_IN_STRING = re.compile(r'["\\]')
_DECODER = json.JSONDecoder()
_HEAD = 1 << 16


def json_records(
    path: Path, *, keep_text: bool = True, data_array: bool = True
) -> Iterator[tuple[int, Any] | Reject]:
    """Yield ``(row, value)`` for each record, or a :class:`Reject` for what cannot be parsed.

    JSON Lines: one record a line, ``row`` = line number. A top-level array: each element, ``row`` =
    the line it starts on. Any other single document is yielded whole as row 1, except that (with
    ``data_array``, the default) a document ``{"data": [...]}`` (an API page, as OpenRouter and
    Langfuse answer) is streamed: the elements of its ``data`` array are yielded one by one, each
    with the line it starts on (the other keys are dropped). With ``keep_text`` False (logs that carry
    prompt text) a rejected line is not copied into the quarantine.

    A bad record never stops the read: a line that is not JSON, nested deeper than
    :data:`MAX_DEPTH`, with a lone surrogate escape, or longer than :data:`MAX_JSON_VALUE_BYTES` is
    a :class:`Reject` and the next one is read; a read error (a truncated archive) ends the file
    with one :class:`Reject` after every record before it.
    """
    yield from _records(Path(path), keep_text, data_array, wrap=False)


def first_json_record(path: Path) -> Any:
    """The first record :func:`json_records` finds (a ``data`` page's first element comes wrapped,
    ``{"data": [element]}``, as the page would have it), or None; for sniffing the format."""
    for item in itertools.islice(_records(Path(path), False, True, wrap=True), 10):
        if not isinstance(item, Reject):
            return item[1]
    return None


def _records(path: Path, keep_text: bool, data_array: bool, wrap: bool) -> Iterator[tuple[int, Any] | Reject]:
    head = head_bytes(path, _HEAD)
    stripped = head.lstrip()
    if not stripped:
        raise InputError(f"{path}: the file is empty; nothing to ingest")
    if stripped[:1] == b"[":
        yield from _json_stream(path, keep_text, wrap)
        return
    whole_first = b"\n" in stripped or len(head) < _HEAD  # the first line ends within the head
    first = stripped.split(b"\n", 1)[0]
    first_ok = whole_first and _parses(first)
    if stripped[:1] == b"{" and data_array and not first_ok and _DATA_ARRAY.search(head):
        yield from _json_stream(path, keep_text, wrap)
        return
    if stripped[:1] == b"{" and whole_first and not first_ok:
        yield from _json_document(path, keep_text)  # pretty-printed over several lines (or a bad line 1)
        return
    yield from _json_lines(path, keep_text)


def _parses(line: bytes) -> bool:
    try:
        loads(line)
        return True
    except _PARSE_ERRORS:
        return False


class _Overlong:
    """A line longer than :data:`MAX_JSON_VALUE_BYTES`, skipped without being held in memory."""

    def __init__(self, size: int) -> None:
        self.size = size


def _lines(handle: IO[bytes] | _Source, limit: int | None = None) -> Iterator[bytes | _Overlong]:
    """The lines of ``handle`` (without the LF), in time linear in the file's size; a line longer
    than ``limit`` bytes comes as an :class:`_Overlong` marker."""
    limit = MAX_JSON_VALUE_BYTES if limit is None else limit
    carry: list[bytes] = []
    size = 0
    overlong = False
    while True:
        block = handle.read(4 << 20)
        if not block:
            break
        pieces = block.split(b"\n")
        if len(pieces) == 1:  # a long line goes on
            size += len(block)
            if overlong or size > limit:
                overlong, carry = True, []
            else:
                carry.append(block)
            continue
        size += len(pieces[0])
        if overlong or size > limit:
            yield _Overlong(size)
        elif carry:
            carry.append(pieces[0])
            yield b"".join(carry)
        else:
            yield pieces[0]
        yield from pieces[1:-1]
        last = pieces[-1]
        carry, size, overlong = ([last] if last else []), len(last), False
    if overlong:
        yield _Overlong(size)
    elif carry:
        yield b"".join(carry)


def _json_lines(path: Path, keep_text: bool) -> Iterator[tuple[int, Any] | Reject]:
    clean = _plain_text(path)
    with pa.input_stream(str(path)) if clean else open_binary(path) as handle:
        number = 0
        for number, line in enumerate(_lines(handle), start=1):
            if isinstance(line, _Overlong):
                yield Reject(number, "line", _too_long(line.size))
                continue
            if not line.strip():
                continue
            try:
                value = loads(line)
            except _PARSE_ERRORS as exc:
                yield Reject(
                    number,
                    "line",
                    f"line is not valid JSON ({_short(exc)})",
                    _preview(line) if keep_text else None,
                )
                continue
            problem = _problem(value, line)
            if problem:
                yield Reject(number, "line", problem)
                continue
            yield number, value
        cut = None if clean else truncation(handle, handle.lines + 1)
        if cut is not None:
            yield cut


def _too_long(size: int) -> str:
    return (
        f"record is {size / (1 << 20):,.0f} MB long, over the {MAX_JSON_VALUE_BYTES >> 20} MB a record "
        "may have; skipped"
    )


def _problem(value: Any, raw: bytes | str) -> str | None:
    """Why a parsed value cannot be a record (too deep, a lone surrogate), or None."""
    # Cheap tests first: a record is at least two bytes a level deep, and a surrogate is escaped.
    deep = len(raw) > 2 * MAX_DEPTH
    if isinstance(raw, bytes):
        brackets = raw.count(b"[") + raw.count(b"{") if deep else 0
        surrogate = b"\\u" in raw and _SURROGATE_BYTES.search(raw) is not None
    else:
        brackets = raw.count("[") + raw.count("{") if deep else 0
        surrogate = "\\u" in raw and _SURROGATE.search(raw) is not None
    if brackets > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        return f"record is nested more than {MAX_DEPTH} levels deep"
    if surrogate:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return "record holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not text"
    return None


def _depth(value: Any) -> int:
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _json_document(path: Path, keep_text: bool) -> Iterator[tuple[int, Any] | Reject]:
    with open_binary(path) as handle:
        data = handle.read()
        fault = truncation(handle, handle.lines + 1)
    try:
        value = loads(data)
    except _PARSE_ERRORS as exc:
        if _mostly_lines(data):  # JSON Lines whose first line is bad: read line by line
            yield from _json_lines(path, keep_text)
            return
        yield fault or Reject(
            1,
            "file",
            f"file is not valid JSON ({_short(exc)}); was it truncated?",
            None if not keep_text else _preview(data),
        )
        return
    problem = _problem(value, data)
    yield Reject(1, "file", problem) if problem else (1, value)


def _mostly_lines(data: bytes) -> bool:
    """True when most of the first non-blank lines of ``data`` are JSON objects by themselves."""
    lines = [line for line in itertools.islice(data.split(b"\n"), 1000) if line.strip()]
    good = sum(1 for line in lines if line.lstrip()[:1] == b"{" and _parses(line))
    return len(lines) > 1 and good * 2 > len(lines)


class _Text:
    """Decoded text of a stream, read as far as needed; ``pos`` and ``line`` say where parsing is."""

    CHUNK = 4 << 20

    def __init__(self, handle: _Source) -> None:
        self.handle = handle
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.eof = False
        self.stopped = False  # the rest of the stream cannot be read

    def more(self, want: int = CHUNK) -> bool:
        """Read about ``want`` more bytes; False at the end of the stream."""
        while not self.eof:
            data = self.handle.read(want)
            text = self.decoder.decode(data, final=not data)
            self.eof = not data
            if text:
                self.buf = self.buf[self.pos :] + text
                self.pos = 0
                return True
        return False

    def move(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def peek(self, skip: re.Pattern[str] = _WS) -> str:
        """The next character after whitespace (``skip``), or "" at the end."""
        while True:
            self.move(skip.match(self.buf, self.pos).end())  # type: ignore[union-attr]
            if self.pos < len(self.buf) or not self.more():
                return self.buf[self.pos : self.pos + 1]

    def value(self) -> tuple[Any, str | None, bool]:
        """(value, None, False), or (None, why not, fatal): fatal when the rest cannot be read."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except RecursionError:
                return self._skip(f"record is nested more than {MAX_DEPTH} levels deep")
            except json.JSONDecodeError as exc:
                pending = len(self.buf) - self.pos
                if self.eof:
                    return None, f"record is not valid JSON ({exc.msg}; truncated file?)", True
                if not exc.msg.startswith("Unterminated string") and exc.pos < len(self.buf) - 16:
                    return self._skip(f"record is not valid JSON ({exc.msg})")
                if pending > MAX_JSON_VALUE_BYTES:
                    return self._skip(_too_long(pending))
                self.more(max(self.CHUNK, pending))  # grow geometrically: linear time on long values
                continue
            if end == len(self.buf) and not self.eof and self.more():
                continue  # a number at the end of the buffer may go on
            raw = self.buf[self.pos : end]
            self.move(end)
            problem = _problem(value, raw)
            return (None, problem, False) if problem else (value, None, False)

    def _skip(self, reason: str) -> tuple[Any, str | None, bool]:
        """Skip the value at ``pos`` by its brackets and quotes, holding little of it in memory."""
        depth, in_string, i = 0, False, self.pos
        while True:
            buf = self.buf
            while i < len(buf):
                if in_string:
                    m = _IN_STRING.search(buf, i)
                    if m is None:
                        i = len(buf)
                        break
                    i = m.end()
                    if m.group() == "\\":
                        i += 1
                        continue
                    in_string = False
                    if depth == 0:
                        self.move(i)
                        return None, reason, False
                    continue
                m = _STRUCTURE.search(buf, i)
                if m is None:
                    i = len(buf)
                    break
                c, i = m.group(), m.end()
                if c == '"':
                    in_string = True
                elif c in "[{":
                    depth += 1
                elif c in "]}" and depth > 0:
                    depth -= 1
                    if depth == 0:
                        self.move(i)
                        return None, reason, False
                elif c in "]},":  # the value ended before this separator
                    self.move(i - 1)
                    return None, reason, False
            carry = i - len(buf)  # an escape's second character may be in the next chunk
            self.move(len(buf))
            if not self.more():
                return None, reason + "; the rest of the file was not read", True
            i = self.pos + carry

    def skip_line(self) -> None:
        while True:
            at = self.buf.find("\n", self.pos)
            if at >= 0:
                self.move(at + 1)
                return
            self.move(len(self.buf))
            if not self.more():
                return


def _json_stream(path: Path, keep_text: bool, wrap: bool) -> Iterator[tuple[int, Any] | Reject]:
    """Top-level arrays (element by element) and objects (a ``data`` array streamed), in sequence."""
    with open_binary(path) as handle:
        text = _Text(handle)
        while True:
            c = text.peek()
            if not c:
                break
            text_line = text.line
            if c == "[":
                text.move(text.pos + 1)
                if not (yield from _elements(text, keep_text, None)):
                    return
            elif c == "{":
                if not (yield from _document(text, keep_text, wrap)):
                    if text.stopped:
                        return
                    text.skip_line()  # a broken object: go on with the next line
            else:
                yield Reject(text_line, "line", "not a JSON object or array", None)
                text.skip_line()
        cut = truncation(handle, text.line)
        if cut is not None:
            yield cut


def _end_reject(text: _Text, reason: str) -> Reject:
    return truncation(text.handle, text.line) or Reject(text.line, "file", reason)


def _elements(text: _Text, keep_text: bool, wrap: Any) -> Generator[tuple[int, Any] | Reject, None, bool]:
    """The elements of the array whose '[' was just read; returns False when the rest is lost."""
    while True:
        c = text.peek(_WS_COMMAS)
        if not c:
            yield _end_reject(text, "the JSON array is not closed with ']' (truncated file?)")
            text.handle.fault = None  # reported
            text.stopped = True
            return False
        if c == "]":
            text.move(text.pos + 1)
            return True
        line = text.line
        preview = _preview(text.buf[text.pos : text.pos + RECORD_PREVIEW_CHARS]) if keep_text else None
        value, problem, fatal = text.value()
        if problem is not None:
            if fatal and text.handle.fault is not None:
                yield _end_reject(text, problem)
                text.handle.fault = None
            else:
                yield Reject(line, "record", problem, preview if "JSON" in problem else None)
            if fatal:
                text.stopped = True
                return False
            continue
        yield line, (value if wrap is None else {wrap: [value]})


def _document(text: _Text, keep_text: bool, wrap: bool) -> Generator[tuple[int, Any] | Reject, None, bool]:
    """A top-level object at ``pos``: the elements of its ``data`` array one by one, or the whole
    object when it has none. Returns False when the object could not be read to its end."""
    start = text.line
    text.move(text.pos + 1)
    others: dict[str, Any] = {}
    streamed = False
    while True:
        c = text.peek()
        if c == "}":
            text.move(text.pos + 1)
            break
        if c == ",":
            text.move(text.pos + 1)
            continue
        if not c:
            yield _end_reject(text, "the JSON document is not closed with '}' (truncated file?)")
            text.handle.fault = None
            text.stopped = True
            return False
        key, problem, _ = text.value() if c == '"' else (None, "a key is expected", True)
        if problem is not None or not isinstance(key, str) or text.peek() != ":":
            yield Reject(text.line, "file", f"not valid JSON ({problem or 'a key: value is expected'})")
            return False
        text.move(text.pos + 1)
        if text.peek() == "[" and key == "data":
            text.move(text.pos + 1)
            streamed = True
            if not (yield from _elements(text, keep_text, "data" if wrap else None)):
                return False
            continue
        line = text.line
        value, problem, fatal = text.value()
        if problem is not None:
            yield Reject(line, "record", f"{key}: {problem}")
            if fatal:
                text.stopped = True
                return False
            continue
        others[key] = value
    if not streamed:
        yield start, others
    return True


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:160]


def _preview(data: bytes | str) -> str:
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    return data[:RECORD_PREVIEW_CHARS]


def dig(value: Any, *keys: str | int) -> Any:
    """``value[k1][k2]...`` through JSON objects (str keys) and arrays (int indexes); None as soon as
    a step is missing or of another type."""
    for key in keys:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and -len(value) <= key < len(value) else None
        elif isinstance(value, dict):
            value = value.get(key)
        else:
            return None
    return value


def batched(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Lists of up to ``size`` consecutive items."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


DEBUG_ENV = "TOKENCENSUS_DEBUG"
"""Set (``tokencensus --debug``): an unexpected error in a reader propagates with its traceback."""


def guarded(read: Callable[[Path, Any], Iterator[Any]]) -> Callable[[Path, Any], Iterator[Any]]:
    """``read`` whose unexpected errors (a bug a strange file reveals) become an :class:`InputError`
    naming the file and the error's type only (its message may quote the data), instead of a
    traceback; with ``$TOKENCENSUS_DEBUG`` set they propagate as they are."""

    def run(path: Path, options: Any) -> Iterator[Any]:
        try:
            yield from read(path, options)
        except (TokencensusError, KeyboardInterrupt, GeneratorExit):
            raise
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            raise InputError(
                f"{path}: reading failed ({type(exc).__name__}); the rows before were passed on. "
                "Run with --debug for the traceback, and please report it"
            ) from exc

    run.__name__ = getattr(read, "__name__", "read")
    run.__doc__ = read.__doc__
    return run
