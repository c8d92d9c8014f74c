"""Request identity: which requests are the same request, and an id for records that carry none.

Every format states its identity (docs/ingest.md lists them): OpenTelemetry a span's trace id and
span id, OpenRouter the generation id, LiteLLM its ``request_id``, the Batch API the batch request id
and ``custom_id``, chat datasets the conversation id and the turn. An id the provider may reuse
(Ollama numbers responses ``chatcmpl-0`` ... ``chatcmpl-998``; a proxy logs one provider id for a
retried request) is identity only *together with the request's content*: the lake
(:mod:`tokencensus.lake`) treats the same id with the same content (time, model, tokens) as a
duplicate and the same id with different content as another request (an "id collision", kept).
Records with no id at all get :func:`content_id`: a hash of what they hold, so a re-ingest finds
them again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CONTENT_COLUMNS = ("ts", "model_raw", "input_tokens", "output_tokens")
"""What a request *is* besides its id: same id and same values here = the same request. The user is
left out on purpose: its stored value depends on an option (``--hash-users`` and its salt), and a
re-ingest with another setting must still find the same requests."""
COLLISION_SEPARATOR = "~"
"""A request whose id another request of the same day already holds is stored as ``<id>~<content>``."""


def content_id(prefix: str, *parts: Any) -> str:
    """A stable id for a record that carries none: ``<prefix>:`` and 16 hex digits of the SHA-256 of
    the parts as JSON (so the same record gets the same id in every run)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)
    return f"{prefix}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


_MIX = np.uint64(0x9E3779B97F4A7C15)


def fingerprints(table: pa.Table) -> np.ndarray:
    """A 64-bit hash of each row's :data:`CONTENT_COLUMNS` (missing columns and nulls hash as null).

    Vectorised: strings are hashed once per distinct value, numbers mixed with multiply-xorshift
    steps, so a million rows cost milliseconds. Equal content gives equal fingerprints in every run.
    """
    n = table.num_rows
    acc = np.full(n, 0x84222325CBF29CE4, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for name in CONTENT_COLUMNS:
            if name in table.column_names:
                part = _column_hash(table.column(name))
            else:
                part = np.zeros(n, dtype=np.uint64)
            acc = _mix(acc ^ part)
    return acc


def fingerprint_text(values: np.ndarray) -> pa.Array:
    """Fingerprints as 12 hex digits (the suffix of a collision's stored id)."""
    return pa.array([f"{int(v) >> 16:012x}" for v in values], pa.string())


def _mix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _column_hash(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    valid = np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), dtype=bool)
    t = column.type
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
        encoded = column.dictionary_encode()
        words = np.array(
            [
                int.from_bytes(hashlib.blake2b(str(v).encode(), digest_size=8).digest(), "big")
                for v in encoded.dictionary.to_pylist()
            ],
            dtype=np.uint64,
        )
        idx = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
        out = words[idx] if len(words) else np.zeros(n, dtype=np.uint64)
    else:
        if pa.types.is_timestamp(t):
            column = column.cast(pa.timestamp("us", tz=t.tz)).cast(pa.int64())
        elif pa.types.is_boolean(t):
            column = column.cast(pa.int64())
        elif pa.types.is_floating(t):
            column = pc.round(column, 6).cast(pa.float64())
            raw = pc.fill_null(column, 0.0).to_numpy(zero_copy_only=False).astype(np.float64)
            out = _mix(raw.view(np.uint64) + _MIX)
            return np.where(valid, out, np.uint64(0))
        raw = pc.fill_null(column.cast(pa.int64()), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        out = _mix(raw.view(np.uint64) + _MIX)
    return np.where(valid, out, np.uint64(0))
