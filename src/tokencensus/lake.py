"""The lake: a directory of Parquet files in the canonical schema, partitioned by day.

Layout::

    <root>/events/date=YYYY-MM-DD/part-<id>.parquet   valid request events (hive partitioning)
    <root>/quarantine/part-<id>.parquet                rejected rows with file, row, field, reason
    <root>/_manifest.json                              one entry per append (what was read/written)
    <root>/calibration.npz                             the classifier's errors on a labelled sample of
                                                       the lake's prompts (``eval-classifier --lake``)
    <root>/_staging/                                   files being written; never read

Guarantees:

* **Idempotent appends, no request lost to a reused id.** A request is identified by its id *and*
  its content (:data:`tokencensus.identity.CONTENT_COLUMNS`: time, model, tokens). The
  same id with the same content is a duplicate (skipped and counted, whether it is already in the lake
  or repeated in the input); the same id with different content is another request (Ollama numbers
  its responses ``chatcmpl-0`` ... ``chatcmpl-998``, a proxy may log one provider id for a retry):
  it is kept, stored as ``<id>~<12 hex digits of its content>`` and counted as an "id collision kept".
  Identity is checked within the request's day partition: the time is part of the content, so the
  same request always lands on the same day (an id reused on another day is another request there).
* **Atomic writes.** Every file is written under ``_staging/`` and moved into place with
  ``os.replace``; a killed append leaves no half file, and re-running it completes it.
* **Nothing lost.** Every input row is either written, a duplicate, or in the quarantine with a reason.
* **One writer.** An advisory lock (released by the OS if the process dies) serialises writers; an
  ingest holds it for its whole run (:meth:`Lake.writing`), so two runs never interleave.
* **Durable.** Every file is flushed to disk before it is renamed into place, and the directory
  after, so a crash leaves the old state or the new one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tokencensus import definitions, settings
from tokencensus.errors import LakeError, TokencensusError
from tokencensus.identity import COLLISION_SEPARATOR, CONTENT_COLUMNS, fingerprint_text, fingerprints
from tokencensus.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA, validate

if TYPE_CHECKING:
    from tokencensus.classify import ClassifySummary
    from tokencensus.ingest import IngestSummary
    from tokencensus.study import Study

FLUSH_ROWS = 1_000_000
"""Valid rows buffered before they are written (bounds memory on huge inputs)."""
WRITE_THREADS = 2
"""Day files are encoded and compressed by this many threads (Arrow releases the GIL), while the
next rows are read and validated."""
CALIBRATION_FILE = "calibration.npz"
"""The classifier's confusion counts measured on a labelled sample of the lake's own prompts."""
_DICTIONARY_COLUMNS = ("user_id", "app", "model", "model_raw", "provider", "finish_reason", "country")
"""Low-cardinality columns; dictionary-encoding request_id or ts costs time and saves nothing."""


@dataclass
class Chunk:
    """A piece of one input, as a reader hands it to :meth:`Lake.append`.

    ``table`` holds the rows mapped to canonical column names (not yet validated); ``first_row`` is
    the 1-based row number of its first row in ``source``; ``records`` optionally holds the raw
    rows (stored as JSON in the quarantine); ``rejects`` are rows the reader could not parse at
    all, already in the quarantine schema.
    """

    table: pa.Table
    source: str
    first_row: int = 1
    records: pa.Table | None = None
    rejects: pa.Table | None = None


@dataclass
class AppendSummary:
    """What one append did; ``rows_read == rows_written + duplicates + quarantined`` always.

    ``rows_written`` counts every request that landed; ``errors`` those of them that failed
    (finish_reason ``error``) and ``collisions`` those kept although another request had their id.
    ``skipped`` counts records a reader read that are not requests (by what they are); they are not
    rows and not part of ``rows_read``.
    """

    source: str
    rows_read: int = 0
    rows_written: int = 0
    duplicates: int = 0
    quarantined: int = 0
    partitions: int = 0
    errors: int = 0
    collisions: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def merge(self, other: AppendSummary) -> None:
        """Add another summary's counts to this one."""
        self.rows_read += other.rows_read
        self.rows_written += other.rows_written
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.partitions += other.partitions
        self.errors += other.errors
        self.collisions += other.collisions
        self.reasons = dict(Counter(self.reasons) + Counter(other.reasons))
        self.skipped = dict(Counter(self.skipped) + Counter(other.skipped))

    def __str__(self) -> str:
        text = (
            f"{self.source}: {self.rows_read:,} rows read, {self.rows_written:,} requests written "
            f"(of which {self.errors:,} failed), {self.duplicates:,} duplicates skipped, "
            f"{self.collisions:,} id collisions kept, {self.quarantined:,} quarantined"
        )
        if self.reasons:
            top = sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
            text += " (" + "; ".join(f"{reason}: {n:,}" for reason, n in top) + ")"
        if self.skipped:
            items = sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0]))
            text += "; not requests, skipped: " + ", ".join(f"{n:,} {what}" for what, n in items)
        return text


class Lake:
    """A lake directory. ``Lake(path)`` opens or creates one."""

    def __init__(self, root: str | Path, *, create: bool = True) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise LakeError(f"{self.root} is a file, not a lake directory; pick another --lake path")
        if not self.root.exists():
            if not create:
                raise LakeError(
                    f"no lake at {self.root}; create one with `tokencensus ingest --lake {self.root} FILE...`"
                )
            self.root.mkdir(parents=True)
        self._held = False
        (self.root / "events").mkdir(exist_ok=True)
        for private in (self.root / "quarantine", self.root / "samples"):  # may hold text from the logs
            if private.name == "quarantine" or private.exists():
                private.mkdir(mode=0o700, exist_ok=True)
                private.chmod(0o700)  # also a directory an older version made world-readable

    # -- paths ---------------------------------------------------------------------------------
    @property
    def events_dir(self) -> Path:
        """Directory of the day partitions."""
        return self.root / "events"

    @property
    def quarantine_dir(self) -> Path:
        """Directory of quarantined rows."""
        return self.root / "quarantine"

    @property
    def calibration_file(self) -> Path:
        """Where ``eval-classifier --data FILE.jsonl --lake`` stores the classifier's errors on the
        lake's own labelled prompts, which the report corrects category shares with."""
        return self.root / CALIBRATION_FILE

    def event_files(self) -> list[Path]:
        """Every events Parquet file, sorted."""
        return sorted(self.events_dir.glob("date=*/*.parquet"))

    def events_glob(self) -> str:
        """A glob over every events file, for engines that read Parquet directly."""
        return str(self.events_dir / "date=*" / "*.parquet")

    def partitions(self) -> list[str]:
        """The day partitions present, as YYYY-MM-DD strings."""
        return sorted(p.name.removeprefix("date=") for p in self.events_dir.glob("date=*") if p.is_dir())

    def is_empty(self) -> bool:
        """True when the lake holds no events."""
        return not self.event_files()

    # -- reading -------------------------------------------------------------------------------
    def read_events(self, columns: list[str] | None = None) -> pa.Table:
        """All events as one Arrow table (small lakes and tests; analyses go through the engine)."""
        files = self.event_files()
        if not files:
            return (
                EVENT_SCHEMA.empty_table() if columns is None else EVENT_SCHEMA.empty_table().select(columns)
            )
        return pa.concat_tables([pq.read_table(f, columns=columns, schema=EVENT_SCHEMA) for f in files])

    def read_quarantine(self) -> pa.Table:
        """Every quarantined row."""
        files = sorted(self.quarantine_dir.glob("*.parquet"))
        if not files:
            return QUARANTINE_SCHEMA.empty_table()
        return pa.concat_tables([pq.read_table(f, schema=QUARANTINE_SCHEMA) for f in files])

    def manifest(self) -> list[dict[str, object]]:
        """The append history, oldest first."""
        path = self.root / "_manifest.json"
        if not path.exists():
            return []
        try:
            return list(json.loads(path.read_text()))
        except json.JSONDecodeError as exc:
            raise LakeError(f"{path} is corrupt ({exc}); delete it to reset the history") from exc

    # -- writing -------------------------------------------------------------------------------
    def append(self, data: pa.Table | Chunk | Iterable[pa.Table | Chunk], source: str) -> AppendSummary:
        """Validate, deduplicate and write rows; return what happened.

        ``data`` is a table, a :class:`Chunk`, or an iterable of either (a streaming reader).
        Valid new rows are written to their day partition, rejected rows to the quarantine.
        """
        summary = AppendSummary(source=source)
        with self._locked():
            writer = _Writer(self)
            try:
                self._append(writer, data, source, summary)
            except TokencensusError:
                # A file that cannot be read on (a reader's clear error): the good rows read before
                # land and are recorded, then the error is raised.
                writer.flush()
                writer.close()
                self._finish(summary, writer)
                raise
            finally:
                writer.close()  # waits for the day files still being written
            self._finish(summary, writer)
        return summary

    def _finish(self, summary: AppendSummary, writer: _Writer) -> None:
        summary.rows_written = writer.written
        summary.duplicates = writer.duplicates
        summary.errors = writer.errors
        summary.collisions = writer.collisions
        summary.partitions = len(writer.touched)
        self._record(summary)

    def _append(
        self,
        writer: _Writer,
        data: pa.Table | Chunk | Iterable[pa.Table | Chunk],
        source: str,
        summary: AppendSummary,
    ) -> None:
        for chunk in _chunks(data, source):
            checked = validate(chunk.table, chunk.source, chunk.first_row, chunk.records)
            rejects = checked.quarantine
            if chunk.rejects is not None and chunk.rejects.num_rows:
                rejects = pa.concat_tables([chunk.rejects.cast(QUARANTINE_SCHEMA), rejects])
            summary.rows_read += chunk.table.num_rows + (
                chunk.rejects.num_rows if chunk.rejects is not None else 0
            )
            summary.quarantined += rejects.num_rows
            if rejects.num_rows:
                summary.reasons = dict(
                    Counter(summary.reasons) + Counter(rejects.column("reason").to_pylist())
                )
                writer.quarantine(rejects)
            writer.add(checked.valid)
        writer.flush()

    @contextmanager
    def writing(self) -> Iterator[Lake]:
        """Hold the lake's writer lock for a whole run (several appends): no other process can
        write in between. Appends inside take it again without waiting; another process that
        tries gets a :class:`LakeError` at once."""
        with self._locked():
            yield self

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self._held:
            yield  # this Lake already holds the lock (inside writing())
            return
        lock_path = self.root / ".lock"
        with open(lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise LakeError(
                    f"another tokencensus process is writing to {self.root}; wait for it to finish"
                ) from exc
            staging = self.root / "_staging"
            shutil.rmtree(staging, ignore_errors=True)  # leftovers of a killed append
            staging.mkdir()
            self._held = True
            try:
                yield
            finally:
                self._held = False
                shutil.rmtree(staging, ignore_errors=True)
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- the pipeline ----------------------------------------------------------------------------
    def ingest(
        self,
        paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        *,
        format: str | None = None,
        mapping: str | os.PathLike[str] | dict[str, str] | None = None,
        hash_users: bool = False,
        sample_rate: float = settings.SAMPLE_RATE.default,
        progress: Callable[[int], None] | None = None,
    ) -> IngestSummary:
        """Read log files (directories: every file in them) into the lake; what was read, written,
        skipped as a duplicate or quarantined (with the file, row, field and reason).

        ``format`` forces one format (default: detected per file); ``mapping`` maps canonical
        columns to a generic CSV/Parquet's columns (a TOML/JSON file, or the dict); ``hash_users``
        replaces user ids by a salted SHA-256; ``sample_rate`` is the share of requests whose prompt
        text is kept (scrubbed) for classification; ``progress`` gets the rows read so far.
        """
        from tokencensus.ingest import ingest_paths, load_mapping

        listed = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        if isinstance(mapping, str | os.PathLike):
            mapping = load_mapping(Path(mapping))
        return ingest_paths(
            [Path(p) for p in listed],
            self,
            fmt=format,
            mapping=mapping,
            hash_users=hash_users,
            progress=progress,
            sample_rate=sample_rate,
        )

    def classify(
        self,
        classifier: str = "default",
        *,
        rate: float = settings.CLASSIFY_RATE.default,
        floor: float = definitions.CONFIDENCE_FLOOR,
        min_per_model: int = settings.MIN_PER_MODEL.default,
        **classifier_options: Any,
    ) -> ClassifySummary:
        """Classify a sample of the lake's prompts (scrubbed; language and category) into
        ``labels/``. ``classifier``: ``default``, ``embedding`` or ``llm``; ``rate``, ``floor`` and
        ``min_per_model`` as :func:`tokencensus.classify.classify_lake` takes them;
        ``classifier_options`` are the classifier's own (``encoder``; ``base_url``, ``model``,
        ``max_usd``)."""
        from tokencensus.classify import classify_lake

        return classify_lake(
            self.root, classifier, rate=rate, floor=floor, min_per_model=min_per_model, **classifier_options
        )

    def study(
        self,
        *,
        backend: str = "duckdb",
        min_users: int = definitions.MIN_USERS,
        top_n: int = 10,
        catalog: pa.Table | None = None,
    ) -> Study:
        """The :class:`~tokencensus.study.Study` over this lake, on the ``backend`` engine."""
        from tokencensus.study import Study

        return Study(self, backend=backend, min_users=min_users, top_n=top_n, catalog=catalog)

    def purge(self, older_than_days: float, *, now: datetime | None = None) -> dict[str, int]:
        """Delete the prompt samples and quarantined rows stored more than ``older_than_days`` ago
        (by when each file was written: one per ingest run); return the files deleted per table.

        The events stay. A purge is recorded in the manifest.
        """
        from tokencensus.ingest.samples import samples_dir

        if older_than_days < 0:
            raise LakeError(f"--older-than must be 0 days or more, not {older_than_days}")
        cutoff = (now or datetime.now(UTC)).timestamp() - older_than_days * 86_400
        removed: dict[str, int] = {}
        with self._locked():
            for name, directory in (("samples", samples_dir(self.root)), ("quarantine", self.quarantine_dir)):
                old = [f for f in directory.glob("*.parquet") if f.stat().st_mtime < cutoff]
                for f in old:
                    f.unlink()
                if old:
                    _fsync_dir(directory)
                removed[name] = len(old)
            self._write_manifest(
                {"at": _stamp(), "purge": {"older_than_days": older_than_days, "files_deleted": removed}}
            )
        return removed

    def delete(self, *, request_ids: Sequence[str] = (), where: str | None = None) -> int:
        """Delete the requests with these ids, or matching ``where`` (a SQL condition on the event
        columns, e.g. ``"model = 'bad/model' AND ts < '2025-01-01'"``); return how many.

        Each day file that holds a match is rewritten without it and renamed into place (atomic:
        a reader sees the old file or the new one), under the writer lock. The deletion is recorded
        in the manifest. A re-ingest of the same log brings the rows back.
        """
        import duckdb

        if not request_ids and not where:
            raise LakeError("say what to delete: --request-id ID (repeatable) or --where CONDITION")
        conditions = [f"({where})"] if where else []
        con = duckdb.connect()
        if request_ids:
            con.register("_ids", pa.table({"id": pa.array(list(request_ids), pa.string())}))
            # a reused id's other requests are stored as <id>~<content>: they go with it
            conditions.append(
                f"regexp_replace(request_id, '{_COLLISION_SUFFIX}', '') IN (SELECT id FROM _ids)"
            )
        condition = " OR ".join(conditions)
        deleted = rewritten = 0
        with self._locked():
            for path in self.event_files():
                try:
                    query = f"SELECT coalesce({condition}, false) AS hit FROM read_parquet($path)"
                    hits = con.sql(query, params={"path": str(path)}).to_arrow_table()["hit"]
                except duckdb.Error as exc:
                    raise LakeError(f"--where {where!r} is not a condition on the events: {exc}") from exc
                n = pc.sum(pc.cast(hits, pa.int64())).as_py() or 0
                if not n:
                    continue
                table = pq.read_table(path, schema=EVENT_SCHEMA).filter(pc.invert(hits))
                if table.num_rows:
                    write_atomic(table, path, self.root / "_staging")
                else:
                    path.unlink()
                    _fsync_dir(path.parent)
                deleted += n
                rewritten += 1
            entry = {"where": where, "request_ids": len(request_ids), "rows_deleted": deleted}
            self._write_manifest({"at": _stamp(), "delete": {**entry, "files_rewritten": rewritten}})
        return deleted

    def _record(self, summary: AppendSummary) -> None:
        self._write_manifest({"at": _stamp(), **asdict(summary)})

    def _write_manifest(self, entry: dict[str, object]) -> None:
        entries = self.manifest()
        entries.append(entry)
        _write_atomic_text(
            self.root / "_manifest.json", json.dumps(entries, indent=1), self.root / "_staging"
        )


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _chunks(data: pa.Table | Chunk | Iterable[pa.Table | Chunk], source: str) -> Iterator[Chunk]:
    if isinstance(data, pa.Table):
        yield Chunk(data, source)
        return
    if isinstance(data, Chunk):
        yield data
        return
    row = 1
    for item in data:
        chunk = item if isinstance(item, Chunk) else Chunk(item, source, first_row=row)
        row = chunk.first_row + chunk.table.num_rows
        yield chunk


class _Writer:
    """Buffers valid rows, drops known requests, keeps reused ids apart, writes one file per touched day."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.seen: dict[str, pa.Array] = {}  # day -> its request_ids (lake and this run), recent days
        self.touched: set[str] = set()
        self.written = 0
        self.duplicates = 0
        self.errors = 0
        self.collisions = 0
        self.quarantined: set[tuple[str, int, str, str, str | None]] | None = None  # stored rejects
        self.pool = ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="tokencensus-lake")
        self.pending: list[Future[None]] = []

    def add(self, table: pa.Table) -> None:
        if table.num_rows:
            self.buffer.append(table)
            self.buffered += table.num_rows
        if self.buffered >= FLUSH_ROWS:
            self.flush()

    def quarantine(self, rejects: pa.Table) -> None:
        """Store rejected rows: once each (a row quarantined by an earlier run is not stored again),
        their records scrubbed of PII, in a file only the owner can read."""
        scrubbed = pa.array([_scrub_record(r) for r in rejects["record"].to_pylist()], pa.string())
        rejects = rejects.set_column(rejects.schema.get_field_index("record"), "record", scrubbed)
        if self.quarantined is None:
            self.quarantined = set(_quarantine_keys(self.lake.read_quarantine()))
        keys = _quarantine_keys(rejects)
        fresh = [i for i, key in enumerate(keys) if key not in self.quarantined]
        if not fresh:
            return
        self.quarantined.update(keys[i] for i in fresh)
        rejects = rejects.take(pa.array(fresh, pa.int64()))
        path = self.lake.quarantine_dir / f"part-{uuid.uuid4().hex}.parquet"
        write_atomic(rejects, path, self.lake.root / "_staging", private=True)

    def flush(self) -> None:
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)
        self.buffer, self.buffered = [], 0
        # ts is UTC, so the date32 cast is the UTC day. Logs come in time order (either way), so
        # each day is usually one run of rows: slice the runs; sort only when a day is split.
        days = pc.cast(table["ts"], pa.date32()).cast(pa.int32()).to_numpy()
        bounds = _runs(days)
        if len(bounds) - 1 != len(np.unique(days)):
            order = np.argsort(days, kind="stable")
            table, days = table.take(pa.array(order)), days[order]
            bounds = _runs(days)
        self._wait()  # at most one flush in flight: memory stays bounded
        names = [(_EPOCH + timedelta(days=int(days[start]))).isoformat() for start in bounds[:-1]]
        # Logs run forward in time: the ids of days this flush does not touch are let go (read
        # again from the day's files should a later flush come back to them), so memory stays flat
        # however long the log.
        for day in set(self.seen) - set(names):
            del self.seen[day]
        for name, (start, end) in zip(names, pairwise(bounds), strict=True):
            self._write_day(name, table.slice(start, end - start))

    def _wait(self) -> None:
        pending, self.pending = self.pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        """Wait for every file being written, then stop the write threads."""
        try:
            self._wait()
        finally:
            self.pool.shutdown(wait=True)

    def _write_day(self, day: str, part: pa.Table) -> None:
        known = self._known(day)
        ids = part["request_id"]
        overlap = pc.any(pc.is_in(ids, value_set=known)).as_py() if len(known) else False
        # The common case (new, distinct ids) pays for two vectorised checks and nothing more.
        identified = overlap or pc.count_distinct(ids).as_py() != part.num_rows
        if identified:
            part = self._identify(day, part, known if overlap else None)
        if not part.num_rows:
            return
        directory = self.lake.events_dir / f"date={day}"
        directory.mkdir(exist_ok=True)
        target = directory / f"part-{uuid.uuid4().hex}.parquet"
        self.pending.append(self.pool.submit(write_atomic, part, target, self.lake.root / "_staging"))
        written = part["request_id"].combine_chunks()
        self.seen[day] = pa.concat_arrays([known, _base_ids(written) if identified else written])
        self.touched.add(day)
        self.written += part.num_rows
        failed = pc.equal(part["finish_reason"].cast(pa.string()), "error")
        self.errors += int(pc.sum(pc.cast(failed, pa.int64())).as_py() or 0)

    def _identify(self, day: str, part: pa.Table, known: pa.Array | None) -> pa.Table:
        """The rows of ``part`` that are new requests, with reused ids made distinct (see the module
        docstring): duplicates of the lake or of each other dropped, collisions renamed."""
        n = part.num_rows
        keys = pa.table(
            {"request_id": part["request_id"], "fp": fingerprints(part), "_i": np.arange(n, dtype=np.int64)}
        )
        taken = pa.array([], pa.string())  # ids the lake's day holds, as stored
        if known is not None:
            stored = self._stored(day, pc.unique(part["request_id"]))
            taken = stored["stored_id"].combine_chunks()
            # Stored already: the same id as written and the same content, under the bare id or
            # under a collision's suffixed id.
            same = keys.join(stored.select(["request_id", "fp"]), ["request_id", "fp"], join_type="left semi")
            keys = keys.filter(pc.invert(pc.is_in(keys["_i"], value_set=same["_i"])))
        # Repeats inside the input: the first of each (id, content) stays.
        first = keys.group_by(["request_id", "fp"], use_threads=False).aggregate([("_i", "min")])
        keys = keys.filter(pc.is_in(keys["_i"], value_set=first["_i_min"]))
        # The first content of an id keeps the bare id, unless the lake's day holds that id already.
        bare = keys.group_by("request_id", use_threads=False).aggregate([("_i", "min")])
        renamed = pc.invert(pc.is_in(keys["_i"], value_set=bare["_i_min"]))
        renamed = pc.or_(renamed, pc.is_in(keys["request_id"], value_set=taken))
        out = part.take(keys["_i"].combine_chunks())
        self.duplicates += n - out.num_rows
        if not pc.any(renamed).as_py():
            return out
        flagged = np.asarray(renamed.to_numpy(zero_copy_only=False), dtype=bool)
        ids = keys["request_id"].combine_chunks().to_numpy(zero_copy_only=False).astype(object)
        suffix = fingerprint_text(keys["fp"].combine_chunks().filter(pa.array(flagged)).to_numpy())
        ids[flagged] = [
            f"{i}{COLLISION_SEPARATOR}{s}" for i, s in zip(ids[flagged], suffix.to_pylist(), strict=True)
        ]
        self.collisions += int(np.count_nonzero(flagged))
        return out.set_column(
            out.schema.get_field_index("request_id"), "request_id", pa.array(ids, pa.string())
        )

    def _stored(self, day: str, ids: pa.Array) -> pa.Table:
        """(request_id as the log wrote it, fp, stored_id) of the day's stored requests whose id, or
        whose id before a collision's suffix, is one of ``ids``."""
        self._wait()  # this run's files of the day must be on disk before they are read
        files = sorted((self.lake.events_dir / f"date={day}").glob("*.parquet"))
        parts = []
        for f in files:
            table = pq.read_table(f, columns=["request_id", *CONTENT_COLUMNS], schema=None)
            base = _base_ids(table["request_id"])
            hit = pc.is_in(base, value_set=ids)
            if pc.any(hit).as_py():
                rows = table.filter(hit)
                parts.append(
                    pa.table(
                        {
                            "request_id": base.filter(hit),
                            "fp": fingerprints(rows),
                            "stored_id": rows["request_id"],
                        }
                    )
                )
        if not parts:
            empty = pa.array([], pa.string())
            return pa.table({"request_id": empty, "fp": pa.array([], pa.uint64()), "stored_id": empty})
        return pa.concat_tables(parts)

    def _known(self, day: str) -> pa.Array:
        if day not in self.seen:
            if day in self.touched:
                self._wait()  # this run wrote the day: its files must be on disk to be read back
            files = sorted((self.lake.events_dir / f"date={day}").glob("*.parquet"))
            ids = [pq.read_table(f, columns=["request_id"])["request_id"].combine_chunks() for f in files]
            # Ids as the logs wrote them (a collision's suffix taken off): a request whose stored id
            # is suffixed (its bare id deleted, or never stored) is still found again.
            self.seen[day] = _base_ids(pa.concat_arrays(ids)) if ids else pa.array([], pa.string())
        return self.seen[day]


_EPOCH = date(1970, 1, 1)
_COLLISION_SUFFIX = f"{COLLISION_SEPARATOR}[0-9a-f]{{12}}$"


def _scrub_record(record: str | None) -> str | None:
    """A quarantined record with PII scrubbed from its text: from each string of a JSON record (so it
    stays JSON), or from the whole line when it is not JSON."""
    from tokencensus.classify.scrub import scrub  # late: importing classify costs a second

    if not record:
        return record
    try:
        value = json.loads(record)
    except ValueError:
        return scrub(record)

    def clean(item: object) -> object:
        if isinstance(item, str):
            return scrub(item)
        if isinstance(item, dict):
            return {k: clean(v) for k, v in item.items()}
        if isinstance(item, list):
            return [clean(v) for v in item]
        return item

    return json.dumps(clean(value), sort_keys=True, default=str)


def _base_ids(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Request ids with a collision's ``~<12 hex digits>`` suffix taken off."""
    base = pc.replace_substring_regex(ids, _COLLISION_SUFFIX, "")
    return base.combine_chunks() if isinstance(base, pa.ChunkedArray) else base


def _quarantine_keys(rejects: pa.Table) -> list[tuple[str, int, str, str, str | None]]:
    """What makes a quarantined row the same row again: its file, row, field, reason and record (as
    stored, scrubbed): a rotated log with another bad row at the same line is another row."""
    columns = [rejects[c].to_pylist() for c in ("source", "row", "field", "reason", "record")]
    return list(zip(*columns, strict=True))


def _runs(days: np.ndarray) -> list[int]:
    """Boundaries of the runs of equal values: [0, ..., len]."""
    return [0, *(np.flatnonzero(np.diff(days)) + 1).tolist(), len(days)]


def write_atomic(table: pa.Table, path: Path, staging: Path, *, private: bool = False) -> None:
    """Write under ``staging``, flush to disk, move into place and flush the directory (``private``:
    readable by the owner only, for files that may hold text taken from the logs). ``staging`` is
    the lake's ``_staging``: whatever a killed writer left there is wiped when the lock is next taken."""
    staging.mkdir(exist_ok=True)
    tmp = staging / f"{uuid.uuid4().hex}.tmp"
    dictionary = [c for c in _DICTIONARY_COLUMNS if c in table.column_names]
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        pq.write_table(
            table, handle, compression="zstd", compression_level=1, use_dictionary=dictionary or False
        )
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a crash after it cannot bring the old entry back)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic_text(path: Path, text: str, staging: Path) -> None:
    staging.mkdir(exist_ok=True)
    tmp = staging / f"{uuid.uuid4().hex}.tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
