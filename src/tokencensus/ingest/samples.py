"""The samples table: prompt text of a deterministic sample of requests, kept apart from the events.

Layout: ``<lake>/samples/part-<id>.parquet`` with columns ``request_id`` and ``text``. The text is
scrubbed of PII (:mod:`tokencensus.classify.scrub`) *before* it is written, and the files are
readable by their owner only (0600, in a 0700 directory). Only the classifier reads it; the events
table, the quarantine, the ingest summary and the logs never carry prompt text.

Which requests are sampled is a pure function of the request id (:func:`sample_fraction` below the
rate), so re-ingesting a file samples the same requests, and a later step that wants fewer samples
keeps a nested subset by comparing the same fraction with a lower rate. The text is the request's
user messages (system and tool messages left out), capped at :data:`MAX_SAMPLE_CHARS`.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tokencensus import settings
from tokencensus.lake import write_atomic

SAMPLES_DIR = "samples"
"""Directory of the samples table inside the lake."""
SAMPLE_SCHEMA = pa.schema(
    [pa.field("request_id", pa.string(), nullable=False), pa.field("text", pa.string(), nullable=False)]
)
"""One row per sampled request: its id and its prompt text."""
SAMPLE_RATE: float = settings.SAMPLE_RATE.default
"""Default share of requests (with prompt text) whose text is kept (the ``--sample-rate`` setting)."""
MAX_SAMPLE_CHARS = 8_000
"""Longer prompts are cut to this many characters (classification needs the gist, not the whole)."""
_FLUSH_ROWS = 50_000


def sample_fraction(request_id: str) -> float:
    """A number in [0, 1) fixed by the request id: sampled when below the rate."""
    return _digest(request_id) / 2**64


def _digest(request_id: str) -> int:
    """The request id's 64-bit hash: its sampling fraction, and its fingerprint among the samples."""
    return int.from_bytes(hashlib.blake2b(request_id.encode(), digest_size=8).digest(), "big")


def samples_dir(lake_root: Path) -> Path:
    """Where the samples table of a lake lives."""
    return Path(lake_root) / SAMPLES_DIR


def read_samples(lake_root: Path) -> pa.Table:
    """Every stored sample."""
    files = sorted(samples_dir(lake_root).glob("*.parquet"))
    if not files:
        return SAMPLE_SCHEMA.empty_table()
    return pa.concat_tables([pq.read_table(f, schema=SAMPLE_SCHEMA) for f in files])


class SampleWriter:
    """Keeps the sampled prompts of an ingest run and writes them, once each, to the samples table.

    Which requests already have a sample is known by their ids' 64-bit hashes (:func:`_digest`), in
    a sorted NumPy array: 8 bytes per stored sample (0.8 bytes per request at the default rate),
    read once from the table's ``request_id`` column, never its text. Two ids with one hash (odds
    of about n² / 2⁶⁵) would only cost the second its sample."""

    def __init__(self, lake_root: Path, rate: float = SAMPLE_RATE) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"sample rate must be between 0 and 1, not {rate}")
        self.dir = samples_dir(lake_root)
        self.rate = rate
        self.known: np.ndarray | None = None
        self.fresh: set[int] = set()
        """Hashes of the samples kept since :attr:`known` was last merged (at most a flush's worth)."""
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.written = 0

    def _stored(self) -> np.ndarray:
        hashes = []
        for f in sorted(self.dir.glob("*.parquet")):
            ids = pq.read_table(f, columns=["request_id"]).column("request_id").to_pylist()
            hashes.append(np.fromiter((_digest(r) for r in ids), dtype=np.uint64, count=len(ids)))
        return np.unique(np.concatenate(hashes)) if hashes else np.empty(0, dtype=np.uint64)

    def _seen(self, digest: int) -> bool:
        known = self.known
        assert known is not None
        i = int(np.searchsorted(known, np.uint64(digest)))
        return digest in self.fresh or (i < len(known) and int(known[i]) == digest)

    def add(self, samples: pa.Table | None) -> None:
        """Offer (request_id, text) rows; the sampled, new, non-empty ones are kept."""
        if samples is None or not samples.num_rows or self.rate <= 0:
            return
        ids = samples.column("request_id").to_pylist()
        texts = samples.column("text").to_pylist()
        if self.known is None:
            self.known = self._stored()
        keep_ids: list[str] = []
        keep_texts: list[str] = []
        for rid, text in zip(ids, texts, strict=True):
            if not rid or not text or not text.strip():
                continue
            digest = _digest(rid)
            if (self.rate < 1.0 and digest / 2**64 >= self.rate) or self._seen(digest):
                continue
            self.fresh.add(digest)
            keep_ids.append(rid)
            keep_texts.append(text[:MAX_SAMPLE_CHARS])
        if keep_ids:
            from tokencensus.classify.scrub import scrub_texts  # late: classify imports this module

            scrubbed, _ = scrub_texts(keep_texts)
            self.buffer.append(pa.table({"request_id": keep_ids, "text": scrubbed}, schema=SAMPLE_SCHEMA))
            self.buffered += len(keep_ids)
        if self.buffered >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered (atomically: a temporary file renamed into place)."""
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)
        self.buffer, self.buffered = [], 0
        if self.known is not None and self.fresh:
            fresh = np.fromiter(self.fresh, dtype=np.uint64, count=len(self.fresh))
            self.known, self.fresh = np.union1d(self.known, fresh), set()
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        write_atomic(table, self.dir / f"part-{name}.parquet", self.dir.parent / "_staging", private=True)
        self.written += table.num_rows


def user_text(messages: object) -> str | None:
    """The user turns of an OpenAI/Anthropic-style message list, joined; None when there are none."""
    if isinstance(messages, str):
        return messages
    if not isinstance(messages, list):
        return None
    parts = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role", "user") not in ("user", "human"):
            continue
        text = content_text(message.get("content"))
        if text:
            parts.append(text)
    return "\n\n".join(parts) or None


def content_text(content: object) -> str:
    """Text of a message content: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
        return "\n".join(texts)
    return ""


def samples_table(request_ids: list[str | None], texts: list[str | None]) -> pa.Table:
    """(request_id, text) rows for :meth:`SampleWriter.add`, rows without text dropped."""
    table = pa.table({"request_id": pa.array(request_ids, pa.string()), "text": pa.array(texts, pa.string())})
    keep = pc.and_(pc.is_valid(table["request_id"]), pc.is_valid(table["text"]))
    return table.filter(keep)
