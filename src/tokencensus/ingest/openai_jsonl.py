"""OpenAI-style request/response JSON Lines, as proxies and the Batch API write them.

One record a line, in any of these shapes:

* Batch API output: ``{"id", "custom_id", "response": {"status_code", "body": <response>}, "error"}``
* a pair: ``{"request": <request body>, "response": <response body>, "timestamp"?, "status_code"?,
  "user"?, ...}`` (also ``request_body``/``response_body``, ``input``/``output``)
* a bare response body: a ``chat.completion`` or a Responses API ``response`` object

Stream chunks (``chat.completion.chunk``) and Responses API stream events are another format,
``openai-stream`` (:mod:`tokencensus.ingest.openai_stream`); here they are rejected with that hint.

==================  ==============================================================================
canonical           source
==================  ==============================================================================
request_id          Batch API line: the line's ``id`` (the batch request id), else ``custom_id``;
                    other records: the response ``id``, else the record's ``id``; else a content id
ts                  the response's ``created``/``created_at``, else the record's ``timestamp``/
                    ``created_at``/``start_time``/``ts``; an undated Batch API line: see below
user_id             request ``user`` / record ``user`` / request ``safety_identifier``
app                 record ``app`` / ``api_key_name``
model_raw           response ``model`` / request ``model`` / record ``model``; ``unknown`` for a
                    failed request that names no model (a Batch API error line)
provider            record ``provider``
input_tokens        ``usage.prompt_tokens`` (chat) / ``usage.input_tokens`` (Responses); 0 when failed
output_tokens       ``usage.completion_tokens`` / ``usage.output_tokens``; 0 when failed
cached_tokens       ``usage.prompt_tokens_details.cached_tokens`` / ``input_tokens_details...``
reasoning_tokens    ``usage.completion_tokens_details.reasoning_tokens`` / ``output_tokens_details...``
finish_reason       chat: ``choices[0].finish_reason``; Responses: ``tool_calls`` when it called a
                    function, else ``incomplete_details.reason``, else from ``status``; ``error``
                    for a failed request
error_type          a failed request: ``http <status>: <error.code or error.type>`` (``http 404:
                    model_not_found``), without the ``http`` part when no status is logged
                    (``batch_expired``); null otherwise
tool_calls          chat: entries of ``choices[0].message.tool_calls`` (a legacy ``function_call``
                    counts 1); Responses: ``function_call``/``custom_tool_call`` output items
streamed            request ``stream``
latency_ms          record ``latency_ms`` / ``duration_ms``
cost_usd            record ``cost_usd`` / ``cost``
==================  ==============================================================================

Identity: the Batch API line's ``id`` (unique per batch request; the response body's id is not used,
it is the provider's), else ``custom_id``; a pair's or body's response id; a record with no id at all
(a failed request: the provider answered with an error, not a response) gets
:func:`~tokencensus.identity.content_id` over its time, model, status, error, usage, user and
``custom_id``, so a re-ingest finds it again. Readers never dedupe: an exact repeat is emitted and
the lake counts it as a duplicate.

A failed request (a Batch API line with ``error`` set or a ``status_code`` ≥ 400, a pair with
``status_code`` ≥ 400, a response whose body is an ``error`` object, a Responses API ``status:
failed``) is a request: finish reason ``error``, ``error_type`` as above, and 0 tokens where the log
bills none.

Dating Batch API lines: a line carries no time of its own. A success is dated by its body's
``created``. A line without one (an error line: ``response: null`` or an error body) is dated by
the ``ts = "=..."`` constant of ``--mapping`` when given, else by the latest ``created`` among the
file's other lines (the batch finished after its last answer, so errors are dated to the batch's
end); those lines are held until the end of the file. When no line of the file is dated, they are
rejected with a hint to pass ``--mapping`` with ``ts = "=YYYY-MM-DD"``.

The request's user messages go to the samples table only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tokencensus.identity import content_id
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.samples import user_text
from tokencensus.ingest.streams import JSON_BATCH_RECORDS, Reject, batched, dig, json_records
from tokencensus.ingest.tabular import RECORD_COLUMNS, Mapper, raw_table

NOTE = (
    "openai-jsonl: Batch API error lines carry no time; each is dated by the latest 'created' of the "
    "file's other lines (the batch's end), or by a ts constant given with --mapping"
)
"""Printed under the ingest summary (how undated Batch API lines were dated)."""

UNKNOWN_MODEL = "unknown"
"""Model of a failed request whose log names none (a Batch API error line)."""

_RESPONSE_STATUS = {"completed": "stop", "failed": "error", "cancelled": "cancelled", "incomplete": "length"}
_RESPONSES_TOOL_ITEMS = ("function_call", "custom_tool_call")
_CODE = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")
_UNDATED_HINT = (
    "Batch API line has no time of its own and no line of the file is dated; "
    'pass --mapping with ts = "=YYYY-MM-DD" (the day the batch ran)'
)
_STREAM_HINT = "a stream chunk or event: read this file with --format openai-stream"
_NO_RESPONSE = "record has no response (a Batch API input line?)"
STREAM_OBJECTS = ("chat.completion.chunk",)
"""``object`` values of stream chunks (the ``openai-stream`` format)."""


def looks_like(record: Any) -> bool:
    """True for a record in one of the shapes this format reads."""
    if not isinstance(record, dict):
        return False
    if record.get("object") in STREAM_OBJECTS:
        return False  # a stream chunk: openai-stream assembles those
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




def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def error_type(status: Any, error: Any) -> str:
    """Short text saying what failed: ``http <status>: <code or type>``, either part alone when the
    other is unknown, ``unknown`` when neither is logged.

    Only codes are used, never the error's message (it may quote the request).
    """
    what = None
    if isinstance(error, dict):
        for key in ("code", "type"):
            value = error.get(key)
            if value is not None and value != "" and _CODE.match(str(value)):
                what = str(value)
                break
    elif isinstance(error, str) and _CODE.match(error):
        what = error
    code = status if isinstance(status, int) and not isinstance(status, bool) else None
    if code is not None and what:
        return f"http {code}: {what}"
    if code is not None:
        return f"http {code}"
    return what or "unknown"


def _status(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def responses_values(response: dict[str, Any]) -> dict[str, Any]:
    """Canonical raw values of a Responses API ``response`` object (also what a stream's
    ``response.completed``/``failed``/``incomplete`` event carries): id, ts, model, tokens, finish
    reason, tool calls, and for a failed response its error type."""
    usage = as_dict(response.get("usage"))
    calls = sum(
        1 for it in as_list(response.get("output")) if as_dict(it).get("type") in _RESPONSES_TOOL_ITEMS
    )
    status = response.get("status")
    reason = dig(response, "incomplete_details", "reason")
    out: dict[str, Any] = {
        "request_id": response.get("id"),
        "ts": response.get("created_at") or response.get("created"),
        "model": response.get("model"),
        "input": usage.get("input_tokens"),
        "output": usage.get("output_tokens"),
        "cached": dig(usage, "input_tokens_details", "cached_tokens"),
        "reasoning": dig(usage, "output_tokens_details", "reasoning_tokens"),
        "finish": "tool_calls" if calls else (reason or _RESPONSE_STATUS.get(str(status), status)),
        "tool_calls": calls or None,
    }
    error = response.get("error")
    if status == "failed" or (isinstance(error, dict) and not usage):
        out.update(finish="error", error_type=error_type(None, error))
    return out


def chat_values(response: dict[str, Any]) -> dict[str, Any]:
    """Canonical raw values of a ``chat.completion`` body (also of a stream assembled into one)."""
    usage = as_dict(response.get("usage"))
    choice = dig(response, "choices", 0)
    message = dig(choice, "message")
    calls_list = dig(message, "tool_calls")
    calls = len(calls_list) if isinstance(calls_list, list) else 0
    if not calls and isinstance(dig(message, "function_call"), dict):
        calls = 1  # the legacy functions API: one call a response
    return {
        "request_id": response.get("id"),
        "ts": response.get("created"),
        "model": response.get("model"),
        "input": usage.get("prompt_tokens"),
        "output": usage.get("completion_tokens"),
        "cached": dig(usage, "prompt_tokens_details", "cached_tokens"),
        "reasoning": dig(usage, "completion_tokens_details", "reasoning_tokens"),
        "finish": dig(choice, "finish_reason"),
        "tool_calls": calls or None,
    }


def is_responses_body(response: dict[str, Any]) -> bool:
    """True for a Responses API object (rather than a chat completion)."""
    usage = response.get("usage")
    return response.get("object") == "response" or (isinstance(usage, dict) and "input_tokens" in usage)


def is_batch_line(record: dict[str, Any]) -> bool:
    """True for a Batch API output line (``custom_id`` and a ``response`` envelope, maybe null)."""
    return "custom_id" in record and "response" in record


def extract(record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(canonical raw values, prompt text) of one record (see the module's mapping table)."""
    request, response = _pair(record)
    batch_line = is_batch_line(record)
    status = _status(record.get("status_code"))
    error: Any = record.get("error") or None
    if batch_line:
        envelope = as_dict(record.get("response"))
        response = envelope.get("body") if isinstance(envelope.get("body"), dict) else None
        status = _status(envelope.get("status_code"))
        request = record.get("request") or record.get("body")
    elif response is None:
        response = record
    response = response or {}
    body_error = response.get("error")
    if isinstance(body_error, dict) and not response.get("usage"):
        error = error or body_error
    failed = bool(error) or (status is not None and status >= 400)
    if is_responses_body(response):
        values = responses_values(response)
        prompt = user_text(dig(request, "input"))
    else:
        values = chat_values(response)
        prompt = user_text(dig(request, "messages"))
    if values.get("finish") == "error":  # a Responses API ``status: failed``, or a log that says so
        failed = True
        error = error or response.get("error")
    ts = values.pop("ts") or (
        record.get("timestamp") or record.get("created_at") or record.get("start_time") or record.get("ts")
    )
    model = values.pop("model") or dig(request, "model") or record.get("model")
    user = dig(request, "user") or record.get("user") or dig(request, "safety_identifier")
    if batch_line:
        # The line's id is the batch request's own (unique); the body's id is the provider's.
        request_id = record.get("id") or record.get("custom_id")
    else:
        request_id = values.get("request_id") or record.get("id")
    values.pop("request_id", None)
    if not request_id:
        request_id = content_id(
            "openai", ts, model, status, error, response.get("usage"), user, record.get("custom_id")
        )
    out: dict[str, Any] = {
        **values,
        "request_id": request_id,
        "ts": ts,
        "user": user,
        "app": record.get("app") or record.get("api_key_name"),
        "model": model,
        "provider": record.get("provider"),
        "streamed": dig(request, "stream"),
        "latency": record.get("latency_ms") or record.get("duration_ms"),
        "cost": record.get("cost_usd") or record.get("cost"),
    }
    if failed:
        out["finish"] = "error"
        out["error_type"] = error_type(status, error)
        # Tokens the log does not bill are 0 (not unknown): a failed request is still a request.
        out["input"] = out["input"] or 0
        out["output"] = out["output"] or 0
        out["model"] = out["model"] or UNKNOWN_MODEL
    return out, prompt


def to_batch(
    values: dict[str, list[Any]],
    rows: list[int],
    rejects: list[Reject],
    prompts: list[str | None],
    options: ReadOptions,
) -> Batch:
    """A batch from :data:`~tokencensus.ingest.tabular.RECORD_COLUMNS` value lists (one entry a
    request), their line numbers, the lines rejected, and each request's prompt text (samples only)."""
    m = Mapper(raw_table(values, len(rows)), ts_format=options.ts_format)
    m.map_columns(RECORD_COLUMNS)
    return m.request_batch(rows, rejects, prompts)


class Collector:
    """Values of the requests of one batch, column by column (shared with the stream reader)."""

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {c: [] for c in RECORD_COLUMNS}
        self.rows: list[int] = []
        self.prompts: list[str | None] = []
        self.rejects: list[Reject] = []

    def add(self, row: int, extracted: dict[str, Any], prompt: str | None = None) -> None:
        self.rows.append(row)
        self.prompts.append(prompt)
        for c in RECORD_COLUMNS:
            self.values[c].append(extracted.get(c))

    def size(self) -> int:
        """Requests and rejects collected."""
        return len(self.rows) + len(self.rejects)

    def batch(self, options: ReadOptions) -> Batch:
        return to_batch(self.values, self.rows, self.rejects, self.prompts, options)


def ts_constant(options: ReadOptions) -> str | None:
    """The ``ts = "=..."`` constant of the mapping, or None."""
    value = options.mapping.get("ts")
    return value[1:] if isinstance(value, str) and value.startswith("=") and value[1:] else None


def _epoch(value: Any) -> int | float | None:
    """An epoch number (Batch API ``created``), or None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """Request/response records, streamed from JSON Lines (or a JSON array).

    Undated Batch API lines are held until the end of the file (they are dated by the latest
    ``created`` of the others; see the module docstring); every other record is mapped as read.
    """
    undated: list[tuple[int, dict[str, Any]]] = []
    latest: int | float | None = None
    for items in batched(json_records(path, keep_text=False), JSON_BATCH_RECORDS):
        out = Collector()
        for item in items:
            if isinstance(item, Reject):
                out.rejects.append(item)
                continue
            row, value = item
            for record in value if isinstance(value, list) else [value]:
                if not isinstance(record, dict):
                    out.rejects.append(Reject(row, "record", "record is not a JSON object"))
                    continue
                if record.get("object") in STREAM_OBJECTS or (
                    str(record.get("type", "")).startswith("response.") and "response" in record
                ):
                    out.rejects.append(Reject(row, "record", _STREAM_HINT))
                    continue
                if not looks_like(record):
                    out.rejects.append(Reject(row, "record", _NO_RESPONSE))
                    continue
                extracted, prompt = extract(record)
                if is_batch_line(record):
                    created = _epoch(extracted.get("ts"))
                    if created is not None:
                        latest = created if latest is None else max(latest, created)
                    elif extracted.get("ts") is None:
                        undated.append((row, extracted))  # no prompt text: Batch output lines carry none
                        continue
                out.add(row, extracted, prompt)
        yield out.batch(options)
    if undated:
        yield _dated(undated, latest, options)


def _dated(undated: list[tuple[int, dict[str, Any]]], latest: float | None, options: ReadOptions) -> Batch:
    """The held Batch API lines, dated by the mapping's ts constant or the file's latest ``created``;
    rejected with a hint when there is neither."""
    out = Collector()
    when: Any = ts_constant(options) or latest
    for row, extracted in undated:
        if when is None:
            out.rejects.append(Reject(row, "ts", _UNDATED_HINT))
        else:
            out.add(row, {**extracted, "ts": when}, None)
    return out.batch(options)
