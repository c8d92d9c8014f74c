"""OpenRouter logs: the activity export CSV (logs page) and /api/v1/generation JSON records.

Activity export CSV columns used::

    generation_id → request_id        created_at → ts (UTC)         user → user_id
    app_name (else api_key_name) → app                              model_permaslug → model_raw
    provider_name → provider          tokens_prompt/completion/reasoning/cached → *_tokens
    finish_reason_normalized (else finish_reason_raw) → finish_reason; cancelled=true → cancelled
    streamed → streamed               generation_time_ms → latency_ms
    time_to_first_token_ms → ttft_ms  cost_total → cost_usd

Generation JSON (one record a line, a JSON array, or ``{"data": ...}`` as the API answers; snake_case
or the SDKs' camelCase): ``id``, ``created_at``, ``model``, ``provider_name``, the native token counts
when present (``native_tokens_prompt``/``_completion``/``_reasoning``/``_cached``: the provider's own
tokenizer, what is billed) else ``tokens_prompt``/``tokens_completion``, ``finish_reason`` (else
``native_finish_reason``), ``cancelled``, ``streamed``, ``latency`` → latency_ms (total),
``total_cost`` → cost_usd, ``app_id`` → app, ``external_user`` → user_id.

OpenRouter reports a tool call as finish reason ``tool_calls`` without a count: ``tool_calls`` is 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.errors import InputError
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.streams import (
    JSON_BATCH_RECORDS,
    Reject,
    batched,
    csv_batches,
    csv_header,
    json_records,
)
from tokencensus.ingest.tabular import Mapper, raw_table

CSV_COLUMNS = (
    "generation_id",
    "created_at",
    "user",
    "app_name",
    "api_key_name",
    "model_permaslug",
    "model",
    "provider_name",
    "tokens_prompt",
    "tokens_completion",
    "tokens_reasoning",
    "tokens_cached",
    "finish_reason_normalized",
    "finish_reason_raw",
    "cancelled",
    "streamed",
    "generation_time_ms",
    "time_to_first_token_ms",
    "cost_total",
)
CSV_REQUIRED = ("generation_id", "created_at", "tokens_prompt", "tokens_completion")


def read_csv(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """The activity export CSV, streamed."""
    header = csv_header(path)
    missing = [c for c in CSV_REQUIRED if c not in header]
    if not ("model_permaslug" in header or "model" in header):
        missing.append("model_permaslug")
    if missing:
        raise InputError(
            f"{path}: not an OpenRouter activity export: column(s) {', '.join(missing)} missing "
            f"(found {', '.join(header[:12])}{', ...' if len(header) > 12 else ''}); "
            "pick the right --format, or --format csv with a --mapping"
        )
    for raw in csv_batches(path, CSV_COLUMNS):
        m = Mapper(raw.table, ts_format=options.ts_format)
        m.set("request_id", m.text("generation_id", "request_id"))
        m.set("ts", m.ts("created_at"))
        m.set("user_id", m.text("user", "user_id"))
        m.set("app", m.first("text", ["app_name", "api_key_name"], "app"))
        m.set("model_raw", m.first("text", ["model_permaslug", "model"], "model"))
        m.set("provider", m.text("provider_name", "provider"))
        m.set("input_tokens", m.int("tokens_prompt", "input_tokens"))
        m.set("output_tokens", m.int("tokens_completion", "output_tokens"))
        m.set("reasoning_tokens", m.int("tokens_reasoning", "reasoning_tokens"))
        m.set("cached_tokens", m.int("tokens_cached", "cached_tokens"))
        finish = m.first("text", ["finish_reason_normalized", "finish_reason_raw"], "finish_reason")
        m.set("finish_reason", _cancelled(finish, m.bool("cancelled", "finish_reason"), m.n))
        m.set("streamed", m.bool("streamed", "streamed"))
        m.set("latency_ms", m.float("generation_time_ms", "latency_ms"))
        m.set("ttft_ms", m.float("time_to_first_token_ms", "ttft_ms"))
        m.set("cost_usd", m.float("cost_total", "cost_usd"))
        yield m.batch(raw.rows, raw.rejects)


def _cancelled(finish: pa.Array | None, cancelled: pa.Array | None, n: int) -> pa.Array | None:
    """A cancelled generation's finish reason is ``cancelled``, whatever the provider said."""
    if cancelled is None:
        return finish
    if finish is None:
        finish = pa.nulls(n, pa.string())
    return pc.if_else(pc.fill_null(cancelled, False), "cancelled", finish)


# -- generation JSON ---------------------------------------------------------------------------------

JSON_FIELDS = (
    "id",
    "created_at",
    "model",
    "provider_name",
    "native_tokens_prompt",
    "native_tokens_completion",
    "native_tokens_reasoning",
    "native_tokens_cached",
    "tokens_prompt",
    "tokens_completion",
    "finish_reason",
    "native_finish_reason",
    "cancelled",
    "streamed",
    "latency",
    "generation_time",
    "total_cost",
    "app_id",
    "external_user",
)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def generation_records(value: Any) -> list[Any]:
    """The generation records of one JSON value: a record, ``{"data": record or [records]}``, or a list."""
    if isinstance(value, list):
        return [r for item in value for r in generation_records(item)]
    if isinstance(value, dict) and "data" in value and isinstance(value["data"], dict | list):
        return generation_records(value["data"])
    return [value]


def _snake(record: dict[str, Any]) -> dict[str, Any]:
    if "createdAt" in record or "tokensPrompt" in record or "nativeTokensPrompt" in record:
        return {_CAMEL.sub("_", k).lower(): v for k, v in record.items()}
    return record


def read_json(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """Generation records, streamed from JSON Lines or a JSON array."""
    for items in batched(json_records(path), JSON_BATCH_RECORDS):
        rejects: list[Reject] = []
        rows: list[int] = []
        values: dict[str, list[Any]] = {f: [] for f in JSON_FIELDS}
        for item in items:
            if isinstance(item, Reject):
                rejects.append(item)
                continue
            row, value = item
            for record in generation_records(value):
                if not isinstance(record, dict):
                    rejects.append(Reject(row, "record", "record is not a JSON object", str(record)[:200]))
                    continue
                record = _snake(record)
                rows.append(row)
                for f in JSON_FIELDS:
                    values[f].append(record.get(f))
        raw = raw_table(values, len(rows))
        m = Mapper(raw, ts_format=options.ts_format)
        native = m.int("native_tokens_prompt", "input_tokens")
        has_native = native is not None and native.null_count < len(native)
        m.set("request_id", m.text("id", "request_id"))
        m.set("ts", m.ts("created_at"))
        m.set("user_id", m.text("external_user", "user_id"))
        m.set("app", m.text("app_id", "app"))
        m.set("model_raw", m.text("model", "model"))
        m.set("provider", m.text("provider_name", "provider"))
        if has_native:
            m.set("input_tokens", m.first("int", ["native_tokens_prompt", "tokens_prompt"], "input_tokens"))
            m.set(
                "output_tokens",
                m.first("int", ["native_tokens_completion", "tokens_completion"], "output_tokens"),
            )
        else:
            m.set("input_tokens", m.int("tokens_prompt", "input_tokens"))
            m.set("output_tokens", m.int("tokens_completion", "output_tokens"))
        m.set("reasoning_tokens", m.int("native_tokens_reasoning", "reasoning_tokens"))
        m.set("cached_tokens", m.int("native_tokens_cached", "cached_tokens"))
        finish = m.first("text", ["finish_reason", "native_finish_reason"], "finish_reason")
        m.set("finish_reason", _cancelled(finish, m.bool("cancelled", "finish_reason"), m.n))
        m.set("streamed", m.bool("streamed", "streamed"))
        m.set("latency_ms", m.float("latency", "latency_ms"))
        m.set("cost_usd", m.float("total_cost", "cost_usd"))
        yield m.batch(np.array(rows, dtype=np.int64), rejects)


def looks_like_generation(record: Any) -> bool:
    """True for an OpenRouter generation record (or a ``{"data": ...}`` wrapper of one)."""
    records = generation_records(record)
    if not records or not isinstance(records[0], dict):
        return False
    first = _snake(records[0])
    return ("tokens_prompt" in first or "native_tokens_prompt" in first) and "id" in first


def is_activity_header(header: list[str]) -> bool:
    """True for the header of an OpenRouter activity export."""
    return "generation_id" in header and "tokens_prompt" in header
