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

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tokencensus.errors import InputError
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


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when its name ends in .gz, .bz2 or .zst."""
    try:
        return pa.input_stream(str(path), compression="detect")  # type: ignore[return-value]
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"{path}: cannot be opened ({exc})") from exc


def head_bytes(path: Path, size: int = 64 << 10) -> bytes:
    """The first ``size`` bytes (decompressed), for sniffing the format."""
    try:
        with open_binary(path) as handle:
            return handle.read(size)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from exc


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
    return next(csv.reader([text]), [])


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
    try:
        for batch in _csv_pass(path, wanted, pa.string(), 2, keep_text, block_size):
            yield batch
            resume = int(batch.rows[-1]) + 1 if len(batch.rows) else resume
        return
    except _NotUtf8:
        pass
    yield from _csv_pass(path, wanted, pa.binary(), resume, keep_text, block_size)


class _NotUtf8(Exception):
    """A block of the CSV is not valid UTF-8 (read it again as bytes)."""


def _csv_pass(
    path: Path, wanted: list[str], value_type: pa.DataType, resume: int, keep_text: bool, block_size: int
) -> Iterator[RawBatch]:
    """One streaming read, yielding the rows (and ragged lines) from line ``resume`` on."""
    skipped: list[tuple[int, str, int, int]] = []

    def on_invalid(row: Any) -> str:
        skipped.append(
            (row.number if row.number is not None else 0, row.text, row.actual_columns, row.expected_columns)
        )
        return "skip"

    try:
        reader = pacsv.open_csv(
            open_binary(path),
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
        raise InputError(f"{path}: not a readable CSV file ({exc})") from exc
    next_line = 2  # line 1 is the header
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError) as exc:
            if value_type == pa.string() and "UTF8" in str(exc):
                raise _NotUtf8 from exc
            raise InputError(f"{path}: reading stopped near line {next_line}: {exc}") from exc
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
        yield RawBatch(table, lines, _ragged([m for m in mine if m[0] >= resume], keep_text))
    skipped.sort()
    tail = [m for m in skipped if m[0] >= resume]
    if tail:  # ragged lines after the last full row (a truncated tail)
        yield RawBatch(
            pa.table({c: pa.array([], value_type) for c in wanted}),
            np.array([], np.int64),
            _ragged(tail, keep_text),
        )


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


def json_records(path: Path, *, keep_text: bool = True) -> Iterator[tuple[int, Any] | Reject]:
    """Yield ``(row, value)`` for each record, or a :class:`Reject` for what cannot be parsed.

    JSON Lines: one record a line, ``row`` = line number. A top-level array: each element, ``row`` =
    the line it starts on. Any other single document is yielded whole as row 1. With ``keep_text``
    False (logs that carry prompt text) a rejected line is not copied into the quarantine.
    """
    head = head_bytes(path, 1 << 16)
    stripped = head.lstrip()
    if not stripped:
        raise InputError(f"{path}: the file is empty; nothing to ingest")
    if stripped[:1] == b"[":
        yield from _json_array(path, keep_text)
        return
    with open_binary(path) as handle:
        first = next(_lines(handle), b"")
        try:
            loads(first)
            whole = False
        except _JSON_ERRORS:
            whole = stripped[:1] == b"{"
    if whole:
        yield from _json_document(path, keep_text)
        return
    with open_binary(path) as handle:
        for number, line in enumerate(_lines(handle), start=1):
            if not line.strip():
                continue
            try:
                yield number, loads(line)
            except _JSON_ERRORS as exc:
                yield Reject(
                    number,
                    "line",
                    f"line is not valid JSON ({_short(exc)})",
                    _preview(line) if keep_text else None,
                )


def _lines(handle: IO[bytes]) -> Iterator[bytes]:
    # pa.input_stream has no line iterator; read blocks and split.
    rest = b""
    while True:
        block = handle.read(4 << 20)
        if not block:
            break
        block = rest + block
        parts = block.split(b"\n")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _json_document(path: Path, keep_text: bool) -> Iterator[tuple[int, Any] | Reject]:
    with open_binary(path) as handle:
        data = handle.read()
    try:
        yield 1, loads(data)
    except _JSON_ERRORS as exc:
        yield Reject(
            1,
            "file",
            f"file is not valid JSON ({_short(exc)}); was it truncated?",
            None if not keep_text else _preview(data),
        )


def _json_array(path: Path, keep_text: bool) -> Iterator[tuple[int, Any] | Reject]:
    """Stream the elements of a top-level JSON array without loading the file."""
    decoder = json.JSONDecoder()
    with open_binary(path) as raw:
        handle = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")  # type: ignore[arg-type]
        buf, pos, line, eof = "", 0, 1, False

        def more() -> bool:
            nonlocal buf, pos, eof
            try:
                chunk = handle.read(4 << 20)
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}: not UTF-8 text near line {line} ({exc})") from exc
            if not chunk:
                eof = True
                return False
            buf = buf[pos:] + chunk
            pos = 0
            return True

        more()
        pos = buf.index("[") + 1
        line += buf.count("\n", 0, pos)
        while True:
            # skip separators
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n,":
                    if buf[pos] == "\n":
                        line += 1
                    pos += 1
                if pos < len(buf) or not more():
                    break
            if pos >= len(buf):
                yield Reject(line, "file", "the JSON array is not closed with ']' (truncated file?)")
                return
            if buf[pos] == "]":
                return
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError as exc:
                    if len(buf) - pos > MAX_JSON_VALUE_BYTES or not more():
                        where = "truncated file?" if eof else "invalid JSON"
                        yield Reject(
                            line,
                            "record",
                            f"record is not valid JSON ({exc.msg}; {where}); "
                            "the rest of the file was not read",
                            _preview(buf[pos:]) if keep_text else None,
                        )
                        return
            yield line, value
            line += buf.count("\n", pos, end)
            pos = end


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:160]


def _preview(data: bytes | str) -> str:
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    return data[:RECORD_PREVIEW_CHARS]


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
