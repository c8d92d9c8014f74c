"""LiteLLM ``StandardLoggingPayload``: what LiteLLM's GCS, S3, generic API and file loggers write.

One payload per LLM call (successes and failures), as JSON Lines, a JSON array or one JSON object;
a record that wraps the payload as ``{"standard_logging_object": {...}}`` (a custom callback's
``kwargs``) is unwrapped. Fields used::

    id → request_id                    startTime (epoch seconds, or a naive timestamp = UTC) → ts
    endTime − startTime → latency_ms   completionStartTime − startTime → ttft_ms
    model (else model_group) → model_raw                custom_llm_provider → provider
    prompt_tokens / completion_tokens → input / output tokens (absent: 0)
    usage .prompt_tokens_details.cached_tokens / .cache_read_input_tokens /
        .input_tokens_details.cached_tokens → cached      (usage: metadata.usage_object, else response.usage)
    usage .completion_tokens_details / .output_tokens_details .reasoning_tokens → reasoning
    response: choices[0].finish_reason (chat), stop_reason (Anthropic), status (Responses) → finish_reason
    response: choices[0].message.tool_calls, content[type=tool_use], output[type=function_call] → tool_calls
    stream → streamed                  response_cost → cost_usd
    end_user (else metadata.user_api_key_end_user_id, else metadata.user_api_key_user_id) → user_id
    metadata.user_api_key_alias (else user_api_key_team_alias, else ``key-`` + a hash of
    user_api_key_hash: a key is a secret, only a pseudonym of it is kept) → app
    status "failure" → finish_reason error; error_type from error_information (error_code → "http 429",
        error_class → "RateLimitError"), else the codes found in error_str (:mod:`failures`)

Identity: the payload's ``id`` (LiteLLM's call id); a payload without one gets a content id over
startTime, model, status and token counts.

``call_type`` says what the call was: chat and text completions, the Responses API, Anthropic
``/v1/messages`` and Gemini ``generate_content`` are requests; pass-through calls are requests when
they report tokens; every other call (embeddings, images, moderation, speech, transcription, files,
batches, ...) is not a chat request and is counted in ``Batch.skipped``. A payload without
``call_type`` is taken as a request.

This is a module apart from :mod:`tokencensus.ingest.litellm` (the SpendLogs table) because the
record differs where it matters (``id`` not ``request_id``, ``response_cost`` not ``spend``, the
call type, the error information, JSON only); the usage and response helpers are shared.
``messages`` feeds the samples table only; neither messages, response, error_str nor metadata is
copied into the events or the quarantine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tokencensus.identity import content_id
from tokencensus.ingest.failures import error_code, http_status, join_error
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.litellm import derive, json_value, key_pseudonym
from tokencensus.ingest.samples import user_text
from tokencensus.ingest.streams import JSON_BATCH_RECORDS, Reject, batched, dig, json_records
from tokencensus.ingest.tabular import Mapper, raw_table

SCALARS = (
    "id",
    "startTime",
    "endTime",
    "completionStartTime",
    "model",
    "model_group",
    "custom_llm_provider",
    "prompt_tokens",
    "completion_tokens",
    "response_cost",
    "stream",
)
_DERIVED = ("_id", "_user", "_app", "_cached", "_reasoning", "_finish", "_tool_calls", "_failed", "_error")

REQUEST_CALL_TYPES = frozenset(
    {
        "completion",
        "acompletion",
        "text_completion",
        "atext_completion",
        "responses",
        "aresponses",
        "_aresponses_websocket",
        "anthropic_messages",
        "generate_content",
        "agenerate_content",
        "generate_content_stream",
        "agenerate_content_stream",
    }
)
"""LiteLLM call types that are LLM requests (chat, text, Responses, Anthropic messages, Gemini)."""
PASS_THROUGH_CALL_TYPES = frozenset(
    {"pass_through_endpoint", "llm_passthrough_route", "allm_passthrough_route"}
)
"""Calls LiteLLM forwarded untouched: requests when they report tokens (an LLM call), else skipped."""



def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """StandardLoggingPayload records from JSON Lines, a JSON array or one JSON object."""
    for items in batched(json_records(path, keep_text=False), JSON_BATCH_RECORDS):
        rows: list[int] = []
        rejects: list[Reject] = []
        skipped: dict[str, int] = {}
        values: dict[str, list[Any]] = {c: [] for c in SCALARS + _DERIVED}
        prompts: list[str | None] = []
        for item in items:
            if isinstance(item, Reject):
                rejects.append(item)
                continue
            row, value = item
            for record in payload_records(value):
                if not isinstance(record, dict):
                    rejects.append(Reject(row, "record", "record is not a JSON object"))
                    continue
                not_request = skip_reason(record)
                if not_request:
                    skipped[not_request] = skipped.get(not_request, 0) + 1
                    continue
                rows.append(row)
                for c in SCALARS:
                    values[c].append(record.get(c))
                for key, v in _derive_payload(record).items():
                    values[key].append(v)
                prompts.append(user_text(_nested(record.get("messages"))))
        batch = _batch(
            raw_table(values, len(rows)), prompts, np.array(rows, dtype=np.int64), rejects, options
        )
        batch.skipped = skipped
        yield batch


def payload_records(value: Any) -> list[Any]:
    """The payloads of one JSON value: a payload, a list of them, or ``{"standard_logging_object": ...}``."""
    if isinstance(value, list):
        return [r for item in value for r in payload_records(item)]
    if isinstance(value, dict) and isinstance(value.get("standard_logging_object"), dict):
        return [value["standard_logging_object"]]
    return [value]


def looks_like(value: Any) -> bool:
    """True for a StandardLoggingPayload (or a wrapper of one): ``id``, ``call_type`` and ``startTime``,
    and none of the SpendLogs keys (``request_id``, ``spend``)."""
    records = payload_records(value)
    if not records or not isinstance(records[0], dict):
        return False
    keys = set(records[0])
    return {"id", "call_type", "startTime"} <= keys and not keys & {"request_id", "spend"}


def skip_reason(record: dict[str, Any]) -> str | None:
    """Why a payload is not a chat request (the ``Batch.skipped`` key), or None for a request."""
    call_type = record.get("call_type")
    if not isinstance(call_type, str) or not call_type or call_type in REQUEST_CALL_TYPES:
        return None
    if call_type in PASS_THROUGH_CALL_TYPES:
        tokens = [record.get("prompt_tokens"), record.get("completion_tokens")]
        if any(isinstance(t, int | float) and not isinstance(t, bool) and t > 0 for t in tokens):
            return None
        return f"LiteLLM {call_type} call without tokens (not a chat request)"
    return f"LiteLLM {call_type} call (not a chat request)"


def _nested(value: Any) -> Any:
    """Objects may arrive as JSON text (a logger that serialised them); parse those."""
    return json_value(value) if isinstance(value, str) and value[:1] in ("{", "[") else value


def _first(*values: Any) -> Any:
    """The first value that is not None or an empty string."""
    for value in values:
        if value is not None and value != "":
            return value
    return None


def _count(items: Any, types: tuple[str, ...]) -> int | None:
    if not isinstance(items, list):
        return None
    n = sum(1 for i in items if isinstance(i, dict) and i.get("type") in types)
    return n or None


def _derive_payload(record: dict[str, Any]) -> dict[str, Any]:
    metadata = _nested(record.get("metadata"))
    response = _nested(record.get("response"))
    shared = derive(metadata, response)
    usage = dig(metadata, "usage_object") or dig(response, "usage") or {}
    failed = str(record.get("status") or "").strip().lower() == "failure"
    finish = shared["finish"]
    if finish is None and isinstance(response, dict):
        # Anthropic /v1/messages answers with stop_reason, the Responses API with a status.
        finish = _first(response.get("stop_reason"), response.get("status"))
    tool_calls = _first(
        shared["tool_calls"],
        _count(dig(response, "content"), ("tool_use",)),
        _count(dig(response, "output"), ("function_call", "custom_tool_call")),
    )
    rid = record.get("id")
    if rid is None or rid == "":
        rid = content_id(
            "litellm",
            record.get("startTime"),
            record.get("model"),
            record.get("status"),
            record.get("prompt_tokens"),
            record.get("completion_tokens"),
        )
    return {
        "_id": rid,
        "_user": _first(
            record.get("end_user"),
            dig(metadata, "user_api_key_end_user_id"),
            dig(metadata, "user_api_key_user_id"),
        ),
        "_app": _first(shared["key_alias"], key_pseudonym(dig(metadata, "user_api_key_hash"))),
        "_cached": _first(shared["cached"], dig(usage, "input_tokens_details", "cached_tokens")),
        "_reasoning": _first(shared["reasoning"], dig(usage, "output_tokens_details", "reasoning_tokens")),
        "_finish": finish,
        "_tool_calls": tool_calls,
        "_failed": failed,
        "_error": _error_type(record) if failed else None,
    }


def _error_type(record: dict[str, Any]) -> str:
    """What failed, as a short label: "http 429: RateLimitError", never the error message itself."""
    info = _nested(record.get("error_information"))
    code = dig(info, "error_code")
    klass = dig(info, "error_class")
    label = join_error(http_status(code) or code, klass)
    return label or error_code(record.get("error_str")) or "litellm status failure"


def _batch(
    table: pa.Table, prompts: list[str | None], rows: np.ndarray, rejects: list[Reject], options: ReadOptions
) -> Batch:
    m = Mapper(table, ts_format=options.ts_format)
    m.set("request_id", m.text("_id", "request_id"))
    m.set_times("startTime", "endTime", "completionStartTime")
    m.set("user_id", m.text("_user", "user_id"))
    m.set("app", m.text("_app", "app"))
    m.set("model_raw", m.first("text", ["model", "model_group"], "model"))
    m.set("provider", m.text("custom_llm_provider", "provider"))
    m.set_usage("prompt_tokens", "completion_tokens")  # usage the payload does not give is unknown: 0
    m.set("cached_tokens", m.int("_cached", "cached_tokens"))
    m.set("reasoning_tokens", m.int("_reasoning", "reasoning_tokens"))
    m.set("tool_calls", m.int("_tool_calls", "tool_calls"))
    m.set_finish("_finish", "_failed")
    m.set("error_type", m.text("_error", "error_type"))
    m.set("streamed", m.bool("stream", "streamed"))
    m.set("cost_usd", m.float("response_cost", "cost_usd"))
    return m.request_batch(rows, rejects, prompts)
