"""OpenAI-style request/response JSON Lines, as proxies and the Batch API write them.

One record a line, in any of these shapes:

* Batch API output: ``{"id", "custom_id", "response": {"status_code", "body": <response>}, "error"}``
* a pair: ``{"request": <request body>, "response": <response body>, "timestamp"?, "user"?, ...}``
  (also ``request_body``/``response_body``, ``input``/``output``)
* a bare response body: a ``chat.completion`` or a Responses API ``response`` object

Response bodies of Chat Completions (``usage.prompt_tokens``, ``completion_tokens``,
``prompt_tokens_details.cached_tokens``, ``completion_tokens_details.reasoning_tokens``,
``choices[0].finish_reason``, ``choices[0].message.tool_calls``) and of the Responses API
(``usage.input_tokens``/``output_tokens`` and their details, ``status``, ``incomplete_details``,
``function_call`` output items) are read. ``request_id`` is the response id, else ``custom_id``;
``ts`` the response's ``created``/``created_at``, else the record's ``timestamp``/``created_at``/
``start_time``. A failed request (``error`` set, or ``status_code`` ≥ 400) is kept with finish reason
``error``. The request's user messages go to the samples table only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.samples import samples_table, user_text
from tokencensus.ingest.streams import JSON_BATCH_RECORDS, Reject, batched, json_records
from tokencensus.ingest.tabular import Mapper, raw_table

_COLUMNS = (
    "request_id",
    "ts",
    "user",
    "app",
    "model",
    "provider",
    "input",
    "output",
    "cached",
    "reasoning",
    "finish",
    "tool_calls",
    "streamed",
    "latency",
    "cost",
)
_RESPONSE_STATUS = {"completed": "stop", "failed": "error", "cancelled": "cancelled", "incomplete": "length"}


def looks_like(record: Any) -> bool:
    """True for a record in one of the shapes this format reads."""
    if not isinstance(record, dict):
        return False
    if "custom_id" in record and "response" in record:
        return True
    if _pair(record)[1] is not None:
        return True
    return record.get("object") in ("chat.completion", "response") or (
        "choices" in record and "usage" in record
    )


def _pair(record: dict[str, Any]) -> tuple[Any, Any]:
    for req, resp in (("request", "response"), ("request_body", "response_body"), ("input", "output")):
        if isinstance(record.get(resp), dict) and (req in record):
            return record.get(req), record[resp]
    return None, None


def _get(obj: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(key, int):
            obj = obj[key] if isinstance(obj, list) and len(obj) > key else None
        elif isinstance(obj, dict):
            obj = obj.get(key)
        else:
            return None
    return obj


def extract(record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(canonical raw values, prompt text) of one record."""
    request, response = _pair(record)
    failed = bool(record.get("error"))
    if "custom_id" in record and isinstance(record.get("response"), dict):
        envelope = record["response"]
        response = envelope.get("body") if isinstance(envelope.get("body"), dict) else None
        status_code = envelope.get("status_code")
        failed = failed or (isinstance(status_code, int) and status_code >= 400)
        request = record.get("request") or record.get("body")
    elif response is None:
        response = record
    response = response or {}
    if isinstance(response.get("error"), dict) and not response.get("usage"):
        failed = True
    usage = response.get("usage") or {}
    is_responses_api = response.get("object") == "response" or "input_tokens" in usage
    out: dict[str, Any] = {
        "request_id": response.get("id") or record.get("custom_id") or record.get("id"),
        "ts": response.get("created")
        or response.get("created_at")
        or record.get("timestamp")
        or record.get("created_at")
        or record.get("start_time")
        or record.get("ts"),
        "user": _get(request, "user") or record.get("user") or _get(request, "safety_identifier"),
        "app": record.get("app") or record.get("api_key_name"),
        "model": response.get("model") or _get(request, "model") or record.get("model"),
        "provider": record.get("provider"),
        "streamed": _get(request, "stream"),
        "latency": record.get("latency_ms") or record.get("duration_ms"),
        "cost": record.get("cost_usd") or record.get("cost"),
    }
    if is_responses_api:
        items = response.get("output") or []
        calls = sum(1 for it in items if isinstance(it, dict) and it.get("type") == "function_call")
        status = response.get("status")
        reason = _get(response, "incomplete_details", "reason")
        out.update(
            input=usage.get("input_tokens"),
            output=usage.get("output_tokens"),
            cached=_get(usage, "input_tokens_details", "cached_tokens"),
            reasoning=_get(usage, "output_tokens_details", "reasoning_tokens"),
            finish="tool_calls" if calls else (reason or _RESPONSE_STATUS.get(str(status), status)),
            tool_calls=calls or None,
        )
        prompt = user_text(_get(request, "input"))
    else:
        choice = _get(response, "choices", 0)
        calls_list = _get(choice, "message", "tool_calls")
        out.update(
            input=usage.get("prompt_tokens"),
            output=usage.get("completion_tokens"),
            cached=_get(usage, "prompt_tokens_details", "cached_tokens"),
            reasoning=_get(usage, "completion_tokens_details", "reasoning_tokens"),
            finish=_get(choice, "finish_reason"),
            tool_calls=len(calls_list) if isinstance(calls_list, list) and calls_list else None,
        )
        prompt = user_text(_get(request, "messages"))
    if failed:
        out["finish"] = "error"
        out["input"] = out["input"] or 0
        out["output"] = out["output"] or 0
    return out, prompt


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """Request/response records, streamed from JSON Lines (or a JSON array)."""
    for items in batched(json_records(path, keep_text=False), JSON_BATCH_RECORDS):
        values: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
        rows: list[int] = []
        prompts: list[str | None] = []
        rejects: list[Reject] = []
        for item in items:
            if isinstance(item, Reject):
                rejects.append(item)
                continue
            row, value = item
            for record in value if isinstance(value, list) else [value]:
                if not isinstance(record, dict):
                    rejects.append(Reject(row, "record", "record is not a JSON object"))
                    continue
                if not looks_like(record):
                    rejects.append(Reject(row, "record", "record has no response (a Batch API input line?)"))
                    continue
                extracted, prompt = extract(record)
                rows.append(row)
                prompts.append(prompt)
                for c in _COLUMNS:
                    values[c].append(extracted.get(c))
        m = Mapper(raw_table(values, len(rows)), ts_format=options.ts_format)
        m.set("request_id", m.text("request_id"))
        m.set("ts", m.ts("ts"))
        m.set("user_id", m.text("user", "user_id"))
        m.set("app", m.text("app"))
        m.set("model_raw", m.text("model", "model"))
        m.set("provider", m.text("provider"))
        m.set("input_tokens", m.int("input", "input_tokens"))
        m.set("output_tokens", m.int("output", "output_tokens"))
        m.set("cached_tokens", m.int("cached", "cached_tokens"))
        m.set("reasoning_tokens", m.int("reasoning", "reasoning_tokens"))
        m.set("finish_reason", m.text("finish", "finish_reason"))
        m.set("tool_calls", m.int("tool_calls", "tool_calls"))
        m.set("streamed", m.bool("streamed", "streamed"))
        m.set("latency_ms", m.float("latency", "latency_ms"))
        m.set("cost_usd", m.float("cost", "cost_usd"))
        ids = m.columns["request_id"].to_pylist() if "request_id" in m.columns else []
        yield m.batch(np.array(rows, dtype=np.int64), rejects, samples=samples_table(ids, prompts))
