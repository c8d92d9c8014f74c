"""LiteLLM proxy spend logs: the ``LiteLLM_SpendLogs`` table exported as CSV, JSON Lines or a JSON array.

Columns used::

    request_id → request_id            startTime → ts (naive = UTC)
    end_user (else user) → user_id
    metadata.user_api_key_alias (else team alias, else ``key-`` + a hash of api_key) → app
    model (else model_group) → model_raw                custom_llm_provider → provider
    prompt_tokens / completion_tokens → input / output tokens
    metadata.usage_object.prompt_tokens_details.cached_tokens (or cache_read_input_tokens) → cached
    metadata.usage_object.completion_tokens_details.reasoning_tokens → reasoning
    response.choices[0].finish_reason → finish_reason; status / metadata.status = failure → error
    response.choices[0].message.tool_calls → tool_calls
    endTime − startTime → latency_ms   completionStartTime − startTime → ttft_ms   spend → cost_usd

``metadata`` and ``response`` may be JSON text (CSV) or objects (JSON). ``messages`` (stored when the
proxy keeps prompts) feeds the samples table only; none of messages, response or metadata is copied
into the quarantine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.errors import InputError
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.normalize import map_distinct
from tokencensus.ingest.samples import user_text
from tokencensus.ingest.streams import (
    JSON_BATCH_RECORDS,
    Reject,
    batched,
    csv_batches,
    csv_header,
    dig,
    head_bytes,
    json_records,
)
from tokencensus.ingest.tabular import Mapper, raw_table

SCALARS = (
    "request_id",
    "startTime",
    "endTime",
    "completionStartTime",
    "model",
    "model_group",
    "custom_llm_provider",
    "prompt_tokens",
    "completion_tokens",
    "spend",
    "user",
    "end_user",
    "api_key",
    "status",
)
NESTED = ("metadata", "response", "messages")
_DERIVED = ("key_alias", "cached", "reasoning", "meta_status", "finish", "tool_calls")


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """Spend logs from CSV or JSON."""
    text = head_bytes(path, 1 << 12).lstrip()
    if text[:1] in (b"{", b"["):
        yield from _read_json(path, options)
    else:
        yield from _read_csv(path, options)


def _read_csv(path: Path, options: ReadOptions) -> Iterator[Batch]:
    header = csv_header(path)
    missing = [c for c in ("request_id", "startTime", "model") if c not in header]
    if missing:
        raise InputError(
            f"{path}: not a LiteLLM spend log: column(s) {', '.join(missing)} missing "
            f"(found {', '.join(header[:12])}); pick the right --format"
        )
    for raw in csv_batches(path, SCALARS + NESTED, keep_text=False):
        table = raw.table
        nested = {}
        for name in NESTED:
            if name in table.column_names:
                values = table.column(name).to_pylist()
                nested[name] = [json_value(v) for v in values]
                table = table.drop_columns([name])
        yield _batch(table, nested, raw.rows, raw.rejects, options)


def json_value(value: bytes | str | None) -> Any:
    """A JSON column's value (``metadata`` or ``response`` as text in a CSV), None when unreadable."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return None


def _read_json(path: Path, options: ReadOptions) -> Iterator[Batch]:
    for items in batched(json_records(path, keep_text=False), JSON_BATCH_RECORDS):
        rows: list[int] = []
        rejects: list[Reject] = []
        scalars: dict[str, list[Any]] = {c: [] for c in SCALARS}
        nested: dict[str, list[Any]] = {c: [] for c in NESTED}
        for item in items:
            if isinstance(item, Reject):
                rejects.append(item)
                continue
            row, value = item
            records = value if isinstance(value, list) else [value]
            for record in records:
                if not isinstance(record, dict):
                    rejects.append(Reject(row, "record", "record is not a JSON object"))
                    continue
                rows.append(row)
                for c in SCALARS:
                    scalars[c].append(record.get(c))
                for c in NESTED:
                    v = record.get(c)
                    nested[c].append(json_value(v) if isinstance(v, str) else v)
        yield _batch(raw_table(scalars, len(rows)), nested, np.array(rows, dtype=np.int64), rejects, options)


def key_pseudonym(key: Any) -> str | None:
    """``key-`` and 12 hex digits of the SHA-256 of an API key (or of its hash, as LiteLLM logs it):
    a key is a secret, only this pseudonym of it is kept. None for no key."""
    if not isinstance(key, str) or not key:
        return None
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def key_pseudonyms(keys: pa.ChunkedArray | pa.Array) -> pa.Array:
    """:func:`key_pseudonym` of each API key of a column (null stays null)."""
    if pa.types.is_binary(keys.type) or pa.types.is_large_binary(keys.type):
        text = [None if k is None else k.decode("utf-8", "replace") for k in keys.to_pylist()]
        keys = pa.array(text, pa.string())
    return map_distinct(keys, key_pseudonym)




def derive(metadata: Any, response: Any) -> dict[str, Any]:
    """What LiteLLM nests in ``metadata`` and ``response``: key alias, cached and reasoning tokens,
    status, finish reason and tool calls (shared with the StandardLoggingPayload reader)."""
    usage = dig(metadata, "usage_object") or dig(response, "usage") or {}
    choice = (dig(response, "choices") or [None])[0]
    calls = dig(choice, "message", "tool_calls")
    return {
        "key_alias": dig(metadata, "user_api_key_alias") or dig(metadata, "user_api_key_team_alias"),
        "cached": dig(usage, "prompt_tokens_details", "cached_tokens")
        or dig(usage, "cache_read_input_tokens"),
        "reasoning": dig(usage, "completion_tokens_details", "reasoning_tokens"),
        "meta_status": dig(metadata, "status"),
        "finish": dig(choice, "finish_reason"),
        "tool_calls": len(calls) if isinstance(calls, list) and calls else None,
    }


def _batch(
    table: pa.Table,
    nested: dict[str, list[Any]],
    rows: np.ndarray,
    rejects: list[Reject],
    options: ReadOptions,
) -> Batch:
    n = table.num_rows
    metadata = nested.get("metadata") or [None] * n
    response = nested.get("response") or [None] * n
    derived: dict[str, list[Any]] = {k: [] for k in _DERIVED}
    for meta, resp in zip(metadata, response, strict=True):
        for key, value in derive(meta, resp).items():
            derived[key].append(value)
    for key, values in derived.items():
        table = table.append_column(key, raw_table({key: values}, n).column(key))
    if "api_key" in table.column_names:
        # A key (LiteLLM stores its hash) is a secret: only a pseudonym of it is kept, as the app
        # when the key has no alias; the key itself reaches neither the lake nor the quarantine.
        index = table.column_names.index("api_key")
        table = table.set_column(index, "api_key", key_pseudonyms(table.column("api_key")))
    m = Mapper(table, ts_format=options.ts_format)
    m.set("request_id", m.text("request_id"))
    m.set_times("startTime", "endTime", "completionStartTime")
    m.set("user_id", m.first("text", ["end_user", "user"], "user_id"))
    m.set("app", m.first("text", ["key_alias", "api_key"], "app"))
    m.set("model_raw", m.first("text", ["model", "model_group"], "model"))
    m.set("provider", m.text("custom_llm_provider", "provider"))
    m.set("input_tokens", m.int("prompt_tokens", "input_tokens"))
    m.set("output_tokens", m.int("completion_tokens", "output_tokens"))
    m.set("cached_tokens", m.int("cached", "cached_tokens"))
    m.set("reasoning_tokens", m.int("reasoning", "reasoning_tokens"))
    m.set("tool_calls", m.int("tool_calls", "tool_calls"))
    finish = m.text("finish", "finish_reason")
    status = m.first("text", ["status", "meta_status"], "finish_reason")
    if status is not None:
        failed = pc.fill_null(pc.equal(pc.utf8_lower(status), "failure"), False)
        finish = pc.if_else(failed, "error", finish if finish is not None else pa.nulls(n, pa.string()))
    m.set("finish_reason", finish)
    m.set("cost_usd", m.float("spend", "cost_usd"))
    messages = nested.get("messages") or [None] * n
    return m.request_batch(rows, rejects, [user_text(msgs) for msgs in messages])
