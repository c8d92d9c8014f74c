"""From files to the lake: pick each file's reader, normalise its batches, append them, and sum up.

Per batch a reader yields, the pipeline resolves model names through the catalog, normalises finish
reasons and countries, hashes user ids when asked, fills the counts a log leaves out (reasoning and
cached tokens 0, ``tool_calls`` 1 on a tool-call finish), stores sampled prompt text apart, and hands
the lake a :class:`~tokencensus.lake.Chunk` whose quarantine rows name the file, line and reason.
Parsing runs one batch ahead of the lake in a background thread: Arrow releases the GIL, so the
second core parses while the first validates and writes.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.errors import ConfigError, InputError
from tokencensus.ingest import normalize
from tokencensus.ingest.format import Batch, Format, ReadOptions, RowErrors
from tokencensus.ingest.generic import constant, split_mapping
from tokencensus.ingest.samples import SAMPLE_RATE, SampleWriter
from tokencensus.ingest.streams import rejects_table
from tokencensus.lake import AppendSummary, Chunk, Lake
from tokencensus.schema import DEFAULTS, EVENT_SCHEMA, QUARANTINE_SCHEMA, conform, validate

logger = logging.getLogger(__name__)

_INT32_MAX = 2**31 - 1
_NULLABLE = pa.schema([f.with_nullable(True) for f in EVENT_SCHEMA])


@dataclass
class IngestSummary:
    """What an ingest run did: one :class:`AppendSummary` per file, their total, and the model names
    the catalog could not resolve as (model_raw, requests, tokens), most tokens first."""

    files: list[AppendSummary] = field(default_factory=list)
    total: AppendSummary = field(default_factory=lambda: AppendSummary(source="total"))
    unresolved: list[tuple[str, int, int]] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    samples_written: int = 0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{s}  [{self.formats.get(s.source, '?')}]" for s in self.files]
        if len(self.files) > 1:
            lines.append(str(self.total))
        if self.samples_written:
            lines.append(f"{self.samples_written:,} prompt samples stored for classification")
        lines.extend(self.notes)
        if self.unresolved:
            lines.append(
                f"{len(self.unresolved)} model name(s) not in the catalog (kept as written; add aliases "
                "to the catalog to resolve them):"
            )
            for name, requests, tokens in self.unresolved[:20]:
                lines.append(f"  {name!r}: {requests:,} requests, {tokens:,} tokens")
            if len(self.unresolved) > 20:
                lines.append(f"  ... and {len(self.unresolved) - 20} more")
        return "\n".join(lines)


def ingest_files(
    plans: Sequence[tuple[Path, Format]],
    lake: Lake,
    *,
    options: ReadOptions,
    catalog: normalize.Catalog,
    salt: str | None,
    progress: Callable[[int], None] | None,
    sample_rate: float = SAMPLE_RATE,
) -> IngestSummary:
    """Append each (file, format) to the lake; see :func:`tokencensus.ingest.ingest_paths`."""
    summary = IngestSummary()
    constants = {k: constant(k, v) for k, v in split_mapping(options.mapping).constants().items()}
    state = _RunState(normalize.ModelResolver(catalog), salt, SampleWriter(lake.root, sample_rate))
    rows = _Progress(progress)
    with lake.writing():  # one writer for the whole run: another ingest cannot interleave
        for path, fmt in plans:
            source = str(path)
            summary.formats[source] = fmt.name
            if fmt.note and fmt.note not in summary.notes:
                summary.notes.append(fmt.note)
            skipped: Counter[str] = Counter()
            fill = {} if fmt.mapped else constants
            batches = _counting(fmt.read(path, options), skipped)
            chunks = _prefetch(state.chunk(batch, source, fill) for batch in batches)
            logger.info("reading %s as %s", source, fmt.name)
            result = lake.append(rows.count(chunks), source)
            logger.info("%s", result)
            result.skipped = dict(skipped)
            summary.files.append(result)
            summary.total.merge(result)
        state.samples.flush()
    summary.samples_written = state.samples.written
    summary.unresolved = sorted(
        ((name, int(v[0]), int(v[1])) for name, v in state.unresolved.items()),
        key=lambda item: (-item[2], -item[1], item[0]),
    )
    return summary


class _Progress:
    """Input rows handed to the lake so far (all files of the run), reported as they go."""

    def __init__(self, report: Callable[[int], None] | None) -> None:
        self.report = report
        self.done = 0

    def count(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        for chunk in chunks:
            yield chunk
            self.done += chunk.table.num_rows + (chunk.rejects.num_rows if chunk.rejects is not None else 0)
            if self.report is not None:
                self.report(self.done)


class _RunState:
    """What persists across the batches of one run: caches, the sample writer, unresolved counts."""

    def __init__(self, resolver: normalize.ModelResolver, salt: str | None, samples: SampleWriter) -> None:
        self.resolver = resolver
        self.salt = salt
        self.samples = samples
        self.unresolved: dict[str, list[int]] = {}

    def chunk(self, batch: Batch, source: str, constants: dict[str, pa.Scalar]) -> Chunk:
        """Normalise one batch and turn it into a lake chunk."""
        self.samples.add(batch.samples)
        table = self.normalise(batch, constants)
        if self.salt is not None:
            # Users are to be hashed everywhere: the quarantine keeps the normalised rows (user ids
            # hashed) instead of the rows as read, and no raw text of the lines it cannot parse.
            batch.records = None
            batch.rejects = [replace(r, record=None) for r in batch.rejects]
        return _to_chunk(table, batch, source)

    def normalise(self, batch: Batch, constants: dict[str, pa.Scalar] | None = None) -> pa.Table:
        table = batch.table
        n = table.num_rows
        if n == 0:
            return _NULLABLE.empty_table()
        cols: dict[str, Any] = {name: table.column(name) for name in table.column_names}
        for name, value in (constants or {}).items():
            # A mapping's constant fills in what the log leaves out (a provider, a date).
            target = "model_raw" if name == "model" else name
            fill = pa.repeat(value, n)
            cols[target] = fill if target not in cols else pc.coalesce(cols[target], fill)
        if "model_raw" not in cols and "model" in cols:
            cols["model_raw"] = cols["model"]
        raw = cols.get("model_raw", pa.nulls(n, pa.string()))
        cols["model_raw"] = raw
        cols["model"], unresolved = self.resolver.resolve(raw)
        finish = (
            normalize.finish_reasons(cols["finish_reason"])
            if "finish_reason" in cols
            else pa.array(["unknown"] * n)
        )
        cols["finish_reason"] = finish
        implied = pc.if_else(pc.equal(finish, "tool_calls"), 1, 0).cast(pa.int64())
        tools = cols.get("tool_calls")
        cols["tool_calls"] = implied if tools is None else pc.coalesce(tools.cast(pa.int64()), implied)
        for name in ("reasoning_tokens", "cached_tokens"):
            if name in cols:
                cols[name] = pc.fill_null(cols[name], 0)
        if self.salt is not None and "user_id" in cols:
            cols["user_id"] = normalize.hash_users(cols["user_id"], self.salt)
        if "country" in cols and cols["country"].null_count < n:
            cols["country"] = normalize.countries(cols["country"])
        # Fill the columns the log lacks here, cheaply (conform would build them from Python lists).
        for f in _NULLABLE:
            if f.name not in cols:
                default = DEFAULTS.get(f.name)
                fill = pa.nulls(n, f.type) if default is None else pa.repeat(pa.scalar(default, f.type), n)
                cols[f.name] = fill
        table = pa.table(cols)
        if pc.any(unresolved).as_py():
            self._count_unresolved(table.filter(unresolved))
        return table

    def _count_unresolved(self, rows: pa.Table) -> None:
        n = rows.num_rows
        requests = (
            rows.column("requests") if "requests" in rows.column_names else pa.array([1] * n, pa.int64())
        )
        tokens = pa.array([0] * n, pa.int64())
        for name in ("input_tokens", "output_tokens"):
            if name in rows.column_names:
                tokens = pc.add(tokens, pc.fill_null(rows.column(name).cast(pa.int64()), 0))
        grouped = (
            pa.table(
                {"m": rows.column("model_raw"), "r": pc.fill_null(requests.cast(pa.int64()), 1), "t": tokens}
            )
            .group_by("m")
            .aggregate([("r", "sum"), ("t", "sum")])
        )
        for name, r, t in zip(*(grouped.column(c).to_pylist() for c in ("m", "r_sum", "t_sum")), strict=True):
            entry = self.unresolved.setdefault(name, [0, 0])
            entry[0] += r
            entry[1] += t


def _counting(batches: Iterator[Batch], skipped: Counter[str]) -> Iterator[Batch]:
    """The batches, adding up what each says it skipped (records that are not requests)."""
    for batch in batches:
        skipped.update(batch.skipped)
        yield batch


def _to_chunk(table: pa.Table, batch: Batch, source: str) -> Chunk:
    """A lake chunk. Rows that failed parsing, or whose numbers are not consecutive, are validated
    here so that each quarantined row keeps its own line number."""
    n = table.num_rows
    rows = batch.rows
    errors = batch.errors
    mask = errors.mask if errors is not None else None
    if "tool_calls" in table.column_names and n:
        too_big = pc.fill_null(pc.greater(table["tool_calls"], _INT32_MAX), False)
        if pc.any(too_big).as_py():
            big = np.asarray(too_big.to_numpy(zero_copy_only=False), dtype=bool)
            if errors is None:
                errors = _errors(n)
            new = big & ~errors.mask
            errors.field[new] = "tool_calls"
            errors.reason[new] = "tool_calls is too large"
            mask = errors.mask
            table = table.set_column(
                table.column_names.index("tool_calls"),
                "tool_calls",
                pc.if_else(too_big, 0, table["tool_calls"]),
            )
    table = conform(table, source) if n else _NULLABLE.empty_table()
    records = batch.records if batch.records is not None and batch.records.num_rows == n else table
    rejects = rejects_table(source, batch.rejects) if batch.rejects else None
    consecutive = n == 0 or bool(np.all(np.diff(rows) == 1))
    if (mask is None or not mask.any()) and consecutive:
        return Chunk(table, source, first_row=int(rows[0]) if n else 1, records=records, rejects=rejects)
    parts = [rejects] if rejects is not None else []
    good = ~mask if mask is not None else np.ones(n, dtype=bool)
    if mask is not None and mask.any() and errors is not None:
        bad = np.nonzero(mask)[0]
        raw_rows = records.take(pa.array(bad)).to_pylist()
        parts.append(
            pa.table(
                {
                    "source": pa.array([source] * len(bad), pa.string()),
                    "row": pa.array(rows[bad], pa.int64()),
                    "field": pa.array(errors.field[bad].tolist(), pa.string()),
                    "reason": pa.array(errors.reason[bad].tolist(), pa.string()),
                    "record": pa.array(
                        [json.dumps(r, default=str, sort_keys=True) for r in raw_rows], pa.string()
                    ),
                    "quarantined_at": pa.array([_now()] * len(bad), pa.timestamp("us", tz="UTC")),
                },
                schema=QUARANTINE_SCHEMA,
            )
        )
    keep = pa.array(good)
    good_rows = rows[good]
    checked = validate(table.filter(keep), source, first_row=0, records=records.filter(keep))
    if checked.quarantine.num_rows:
        q = checked.quarantine
        where = good_rows[q.column("row").to_numpy()]
        moved = q.set_column(q.column_names.index("row"), "row", pa.array(where, pa.int64()))
        parts.append(moved.cast(QUARANTINE_SCHEMA))
    all_rejects = pa.concat_tables(parts) if parts else None
    first = int(good_rows[0]) if len(good_rows) else 1
    return Chunk(checked.valid, source, first_row=first, rejects=all_rejects)


def _errors(n: int) -> RowErrors:
    return RowErrors(np.full(n, None, dtype=object), np.full(n, None, dtype=object))


def _now() -> datetime:
    return datetime.now(UTC)


_DONE = object()


def _prefetch(items: Iterable[Chunk], depth: int = 2) -> Iterator[Chunk]:
    """Produce ``items`` in a background thread, up to ``depth`` ahead of the consumer."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("done", None))
        except BaseException as exc:  # handed to the consumer, raised there
            put(("error", exc))

    thread = threading.Thread(target=work, name="tokencensus-ingest-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "item":
                yield value
            elif kind == "done":
                return
            else:
                raise value
    finally:
        stop.set()
        thread.join(timeout=5)


def check_format(name: str, formats: dict[str, Format], mapping: dict[str, str] | None = None) -> Format:
    """The format called ``name``, or a :class:`ConfigError` listing the known ones (or saying that
    ``mapping`` names source columns, which only the generic formats read)."""
    try:
        fmt = formats[name]
    except KeyError:
        raise ConfigError(f"unknown --format {name!r}; known formats: {', '.join(formats)}") from None
    if fmt.mapped:
        return fmt
    opts = split_mapping(mapping or {})
    given = [f"{k} = {v!r}" for k, v in opts.columns.items() if not v.startswith("=")]
    given += [k for k in ("ts_format", "latency_unit") if k in (mapping or {})]
    given += [f"[where] {k}" for k in opts.where]
    if given:
        mapped = ", ".join(n for n, f in formats.items() if f.mapped)
        raise ConfigError(
            f"--mapping gives {', '.join(given)}, but the {name} format reads its own columns; only "
            f"{mapped} take column mappings and options. Other formats take constants only "
            '(e.g. provider = "=ollama")'
        )
    return fmt


def expand(paths: Sequence[Path]) -> list[Path]:
    """Files named, with directories replaced by the files in them (sorted, hidden ones left out)."""
    out: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not files:
                raise InputError(f"{path}: the directory has no files to ingest")
            out.extend(files)
        elif not path.exists():
            raise InputError(f"{path}: no such file")
        else:
            out.append(path)
    return out
