"""Anthropic Messages API logs: response bodies, request/response pairs, error bodies, stream events.

One JSON value a line (or a JSON array), in any of these shapes, mixed freely in one file:

* a response body: ``{"id": "msg_...", "type": "message", "role": "assistant", "model", "content",
  "stop_reason", "usage": {...}}``
* a pair: ``{"request": <request body>, "response": <response or error body>, "timestamp"?,
  "status_code"?, "user"?, ...}`` (also ``request_body``/``response_body``, ``input``/``output``)
* an error body: ``{"type": "error", "error": {"type": "overloaded_error", "message"}, "request_id"?}``
* a Message Batches result line: ``{"custom_id", "result": {"type": "succeeded", "message": {...}}}``
  (or ``errored`` with an error, ``expired``, ``canceled``; the request, when joined in, as ``params``)
* streaming events, one a line, as the SSE ``data:`` payloads (optionally wrapped as
  ``{"event", "data": <event>, "timestamp"?}``): ``message_start`` opens a message, and every event
  after it (``content_block_*``, ``message_delta``, ``ping``) belongs to it until ``message_stop``,
  an ``error`` event, or the next ``message_start``; a file may hold several streams in sequence.
  Message ids appear on ``message_start`` only, so the events are assembled in file order.

===============================  =====================================================================
canonical                        Anthropic
===============================  =====================================================================
request_id                       the message ``id``; an error body's ``request_id``; a batch line's
                                 ``custom_id`` (when it has no message)
ts                               the record's ``timestamp``/``created_at``/``start_time``/``ts``/
                                 ``time`` (bodies carry no time); else the ``--mapping`` constant
                                 ``ts = "=YYYY-MM-DD"``; else the record is rejected, saying so
model_raw                        ``model`` (response, else the request's), as written: the catalog
                                 resolves dated snapshots (``claude-sonnet-4-5-20250929``); a failed
                                 request that names no model: the ``--mapping`` constant
                                 ``model = "=..."``, else ``unknown``
user_id                          request ``metadata.user_id``, else the record's ``user``/``user_id``
app / provider                   the record's ``app``/``api_key_name`` / ``provider`` (none assumed:
                                 Bedrock, Vertex and proxies serve the same shape)
input_tokens                     usage ``input_tokens`` + ``cache_creation_input_tokens`` +
                                 ``cache_read_input_tokens`` (Anthropic's ``input_tokens`` excludes
                                 the cached part; the canonical count includes it, as OpenAI's does)
cached_tokens                    usage ``cache_read_input_tokens``
output_tokens                    usage ``output_tokens`` (streams: the last ``message_delta``'s,
                                 which is cumulative)
reasoning_tokens                 0 (thinking tokens are billed inside ``output_tokens``, not split out)
finish_reason                    ``stop_reason``: ``end_turn``/``stop_sequence``/``pause_turn`` →
                                 stop (a paused turn is a finished request; the client continues in
                                 a new one), ``max_tokens``/``model_context_window_exceeded`` →
                                 length, ``tool_use`` → tool_calls, ``refusal`` → content_filter,
                                 none (a stream cut off before ``message_delta``) → unknown
tool_calls                       ``tool_use`` content blocks (streams: ``content_block_start`` of
                                 type ``tool_use``); at least 1 when ``stop_reason`` is ``tool_use``
                                 (server tools run by Anthropic, ``server_tool_use``, are not counted)
streamed                         the request's ``stream``; true for assembled stream events
latency_ms / cost_usd            the record's ``latency_ms``/``duration_ms`` / ``cost_usd``/``cost``
error_type                       failed requests: ``"http <status>: <error.type>"`` with a status
                                 (``status_code`` ≥ 400 on the pair), else ``"<error.type>"``;
                                 ``batch_expired`` for an expired batch request; null otherwise
===============================  =====================================================================

Failed requests (an error body, ``status_code`` ≥ 400, a stream's ``error`` event, a batch line
``errored``/``expired``) are rows with finish reason ``error`` and 0 tokens; a canceled batch request
is a row with finish reason ``cancelled``. The request's user messages go to the samples table only.

Identity: the message id (``msg_...``); for a failed request the error body's ``request_id``
(``req_...``), else a batch line's ``custom_id``, else :func:`~tokencensus.identity.content_id`
over the record (and its line number when the record carries no time, so that identical undated
errors stay distinct requests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.errors import ConfigError
from tokencensus.identity import content_id
from tokencensus.ingest import columns
from tokencensus.ingest.failures import http_status, join_error
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.samples import user_text
from tokencensus.ingest.streams import JSON_BATCH_RECORDS, Reject, batched, dig, json_records
from tokencensus.ingest.tabular import RECORD_COLUMNS, Mapper, raw_table

_TIME_KEYS = ("timestamp", "created_at", "start_time", "ts", "time")
_PAIRS = (("request", "response"), ("request_body", "response_body"), ("input", "output"))
STREAM_EVENTS = frozenset(
    {
        "message_start",
        "message_delta",
        "message_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "ping",
    }
)
"""The ``type`` of Anthropic streaming events (an ``error`` event is read like an error body)."""
STOP_REASONS: dict[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
"""Anthropic ``stop_reason`` → canonical finish reason (anything else: ``unknown``)."""
UNKNOWN_MODEL = "unknown"
"""model_raw of a failed request that names no model (a bare error body, an errored batch line) when
the mapping gives no ``model = "=..."`` constant: a failed request is still a request, and the schema
requires a model."""
_UNDATED = (
    'Anthropic Messages bodies carry no time and this record has none; pass --mapping with ts = "=YYYY-MM-DD"'
    " (the day the log covers) to date them"
)


# -- shapes -------------------------------------------------------------------------------------------


def _is_message(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and body.get("type") == "message"
        and isinstance(body.get("usage"), dict)
        and "input_tokens" in body["usage"]
    )


def _is_error(body: Any) -> bool:
    return isinstance(body, dict) and body.get("type") == "error" and isinstance(body.get("error"), dict)


def _event(record: dict[str, Any]) -> dict[str, Any] | None:
    """The stream event (or error body: a stream's ``error`` event has its shape) a record is: the
    record itself, or the ``data`` of an SSE dump; None for anything else."""
    if record.get("type") in STREAM_EVENTS or _is_error(record):
        return record
    data = record.get("data")
    if isinstance(data, dict) and (data.get("type") in STREAM_EVENTS or _is_error(data)):
        return data
    return None


def _pair(record: dict[str, Any]) -> tuple[Any, Any]:
    for req, resp in _PAIRS:
        body = record.get(resp)
        if req in record and (_is_message(body) or _is_error(body)):
            return record.get(req), body
    return None, None


_BATCH_RESULTS = frozenset({"succeeded", "errored", "expired", "canceled"})


def _batch_result(record: dict[str, Any]) -> dict[str, Any] | None:
    result = record.get("result")
    if "custom_id" in record and isinstance(result, dict) and result.get("type") in _BATCH_RESULTS:
        if result["type"] != "succeeded" or _is_message(result.get("message")):
            return result
    return None


def looks_like(record: Any) -> bool:
    """True for a record in one of the shapes this format reads.

    Never true for OpenAI bodies: Anthropic bodies say ``"type": "message"`` (OpenAI's say
    ``"object"``), Anthropic errors ``"type": "error"`` at the top, and a pair counts only when its
    response is one of those. Check it *before* :func:`tokencensus.ingest.openai_jsonl.looks_like`,
    which takes any request/response pair.
    """
    if not isinstance(record, dict):
        return False
    if _is_message(record) or _is_error(record):
        return True
    if _event(record) is not None:
        return True
    return _pair(record)[1] is not None or _batch_result(record) is not None


# -- values -------------------------------------------------------------------------------------------


class _BadCount(ValueError):
    """A usage count that is not a non-negative integer (names the field)."""


def _count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    if value is None:
        return 0
    if isinstance(value, bool):
        raise _BadCount(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise _BadCount(key)
    return value


def _tokens(usage: Any) -> dict[str, int]:
    """input (uncached + cache writes + cache reads), cached (cache reads) and output tokens."""
    usage = usage if isinstance(usage, dict) else {}
    read = _count(usage, "cache_read_input_tokens")
    total_in = _count(usage, "input_tokens") + _count(usage, "cache_creation_input_tokens") + read
    return {"input": total_in, "cached": read, "output": _count(usage, "output_tokens")}


def _finish(stop_reason: Any, tool_calls: int) -> tuple[str, int]:
    finish = STOP_REASONS.get(str(stop_reason), "unknown") if stop_reason is not None else "unknown"
    if finish == "tool_calls":
        # A tool_use stop means the message ended in a tool_use block, even if the log dropped the
        # content; the schema wants tool_calls >= 1 there.
        tool_calls = max(tool_calls, 1)
    return finish, tool_calls


def _tool_uses(content: Any) -> int:
    if not isinstance(content, list):
        return 0
    return sum(1 for block in content if isinstance(block, dict) and block.get("type") == "tool_use")


def _error_type(error: Any, status: Any) -> str:
    kind = error.get("type") if isinstance(error, dict) else None
    if kind == "error" and isinstance(error.get("error"), dict):  # a whole error body
        kind = error["error"].get("type")
    # join_error keeps identifier-shaped parts only (never the error's message text).
    failed_status = http_status(int(status)) if _http_failure(status) else None
    return join_error(failed_status, kind) or "error"


def _http_failure(status: Any) -> bool:
    return isinstance(status, int | float) and not isinstance(status, bool) and status >= 400


def _status(record: dict[str, Any], response: Any) -> Any:
    for holder in (record, response if isinstance(response, dict) else {}):
        for key in ("status_code", "status", "http_status"):
            value = holder.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
    return None


def _first(record: dict[str, Any], *keys: str) -> Any:
    """The first of ``keys`` the record holds a value for (0 counts: it is a value)."""
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return value
    return None


def _time(record: dict[str, Any]) -> Any:
    return _first(record, *_TIME_KEYS)




def _context(record: dict[str, Any], request: Any) -> dict[str, Any]:
    """What the record around a body says: user, app, provider, latency, cost, streamed."""
    return {
        "user": dig(request, "metadata", "user_id") or record.get("user") or record.get("user_id"),
        "app": record.get("app") or record.get("api_key_name"),
        "provider": record.get("provider"),
        "latency": _first(record, "latency_ms", "duration_ms"),
        "cost": _first(record, "cost_usd", "cost"),
        "streamed": dig(request, "stream"),
    }


def _failed_row(
    row: int, record: dict[str, Any], error: Any, status: Any, model: Any, request_id: Any
) -> dict[str, Any]:
    """A failed request: finish ``error``, 0 tokens, the error's type."""
    ts = _time(record)
    if not request_id:
        # No id: the record's content is its identity; an undated record also needs its line, or
        # two identical undated errors (a burst of 529s) would read as one request logged twice.
        request_id = (
            content_id("anthropic", record) if ts is not None else content_id("anthropic", row, record)
        )
    return {
        "request_id": request_id,
        "ts": ts,
        "model": model,  # None: read() names it (the mapping's model constant, else UNKNOWN_MODEL)
        "input": 0,
        "output": 0,
        "cached": 0,
        "finish": "error",
        "error_type": _error_type(error, status),
        "tool_calls": 0,
    }


def _body_row(row: int, record: dict[str, Any], request: Any, response: dict[str, Any]) -> dict[str, Any]:
    """One request from a response (or error) body and what surrounds it."""
    status = _status(record, response)
    request_model = dig(request, "model")
    out = _context(record, request)
    if _is_error(response) or _http_failure(status):
        error = response.get("error") if _is_error(response) else None
        request_id = response.get("request_id") or record.get("request_id")
        if not _is_error(response):
            request_id = response.get("id") or request_id
        out.update(
            _failed_row(row, record, error, status, response.get("model") or request_model, request_id)
        )
        return out
    tokens = _tokens(response.get("usage"))
    finish, calls = _finish(response.get("stop_reason"), _tool_uses(response.get("content")))
    out.update(
        request_id=response.get("id") or content_id("anthropic", record),
        ts=_time(record),
        model=response.get("model") or request_model,
        finish=finish,
        error_type=None,
        tool_calls=calls,
        **tokens,
    )
    return out


def _batch_row(row: int, record: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    kind = result.get("type")
    request = record.get("params") if isinstance(record.get("params"), dict) else None
    if kind == "succeeded":
        message = result["message"]
        out = _body_row(row, record, request, message)
        out["request_id"] = message.get("id") or record.get("custom_id")
        return out
    out = _context(record, request)
    custom_id = record.get("custom_id")
    model = dig(request, "model")
    if kind == "canceled":
        out.update(_failed_row(row, record, None, None, model, custom_id))
        out.update(finish="cancelled", error_type=None)
    elif kind == "expired":
        out.update(_failed_row(row, record, None, None, model, custom_id))
        out["error_type"] = "batch_expired"
    else:
        out.update(_failed_row(row, record, result.get("error"), None, model, custom_id))
    return out


@dataclass
class _Stream:
    """A streamed message being assembled from its events."""

    row: int
    record: dict[str, Any]
    message: dict[str, Any]
    ts: Any
    usage: dict[str, Any] = field(default_factory=dict)
    stop_reason: Any = None
    tool_calls: int = 0
    error: Any = None

    def add(self, record: dict[str, Any], event: dict[str, Any]) -> None:
        """Merge one event into the message."""
        if self.ts is None:
            self.ts = _time(record)
        kind = event.get("type")
        if kind == "content_block_start" and dig(event, "content_block", "type") == "tool_use":
            self.tool_calls += 1
        elif kind == "message_delta":
            stop = dig(event, "delta", "stop_reason")
            if stop is not None:
                self.stop_reason = stop
            if isinstance(event.get("usage"), dict):
                # message_delta usage is cumulative: its counts replace message_start's.
                self.usage.update({k: v for k, v in event["usage"].items() if v is not None})

    def finish(self) -> dict[str, Any]:
        """The assembled request."""
        out = _context(self.record, None)
        model = self.message.get("model")
        request_id = self.message.get("id")
        if self.error is not None:
            out.update(_failed_row(self.row, self.record, self.error, None, model, request_id))
            out.update(ts=self.ts, streamed=True)
            return out
        finish, calls = _finish(self.stop_reason, self.tool_calls)
        out.update(
            request_id=request_id or content_id("anthropic", self.row, self.message),
            ts=self.ts,
            model=model,
            finish=finish,
            error_type=None,
            tool_calls=calls,
            streamed=True,
            **_tokens(self.usage),
        )
        return out


def _start(row: int, record: dict[str, Any], event: dict[str, Any]) -> _Stream:
    found = event.get("message")
    message: dict[str, Any] = found if isinstance(found, dict) else {}
    found = message.get("usage")
    usage: dict[str, Any] = found if isinstance(found, dict) else {}
    stream = _Stream(
        row, record, message, _time(record), usage={k: v for k, v in usage.items() if v is not None}
    )
    stream.tool_calls = _tool_uses(message.get("content"))
    return stream


_Item = tuple[int, dict[str, Any], str | None] | Reject


def _requests(path: Path) -> Iterator[_Item]:
    """(row, values, prompt) per request in file order, or a Reject; streams assembled on the way."""
    open_stream: _Stream | None = None

    def close() -> Iterator[_Item]:
        nonlocal open_stream
        if open_stream is not None:
            stream, open_stream = open_stream, None
            yield from _checked(stream.row, stream.finish)

    for item in json_records(path, keep_text=False):
        if isinstance(item, Reject):
            yield item
            continue
        row, value = item
        for record in value if isinstance(value, list) else [value]:
            if not isinstance(record, dict):
                yield Reject(row, "record", "record is not a JSON object")
                continue
            event = _event(record)
            if event is not None and _is_error(event):
                if open_stream is not None:
                    # An error event ends the stream it interrupts: that request failed.
                    open_stream.error = event
                    if open_stream.ts is None:
                        open_stream.ts = _time(record)
                    yield from close()
                else:  # an error body on its own (a request refused before any stream began)
                    yield from _checked(row, partial(_body_row, row, record, None, event))
                continue
            if event is not None:
                kind = event.get("type")
                if kind == "message_start":
                    yield from close()
                    open_stream = _start(row, record, event)
                elif open_stream is not None:
                    open_stream.add(record, event)
                    if kind == "message_stop":
                        yield from close()
                elif kind != "ping":  # a keep-alive between streams is nothing
                    yield Reject(
                        row, "type", f"stream event {kind} outside a message (no message_start before it)"
                    )
                continue
            yield from close()
            yield from _record(row, record)
    yield from close()


def _record(row: int, record: dict[str, Any]) -> Iterator[_Item]:
    request, response = _pair(record)
    if response is not None:
        yield from _checked(row, lambda: _body_row(row, record, request, response), dig(request, "messages"))
    elif _is_message(record):
        yield from _checked(row, lambda: _body_row(row, record, None, record))
    elif (result := _batch_result(record)) is not None:
        yield from _checked(row, lambda: _batch_row(row, record, result), dig(record, "params", "messages"))
    else:
        yield Reject(
            row, "record", "record is not an Anthropic message, error, pair, batch result or stream event"
        )


def _checked(row: int, build: Callable[[], dict[str, Any]], messages: Any = None) -> Iterator[_Item]:
    try:
        values = build()
    except _BadCount as exc:
        yield Reject(row, "usage", f"usage.{exc} is not a non-negative integer")
        return
    yield row, values, user_text(messages) if messages is not None else None


def _ts_constant(options: ReadOptions) -> datetime | None:
    """The ``ts = "=YYYY-MM-DD"`` mapping constant, for records without a time."""
    value = options.mapping.get("ts")
    if not value or not value.startswith("="):
        return None
    parsed, bad = columns.as_timestamp(pa.array([value[1:]]))
    if bad is not None or parsed[0].as_py() is None:
        raise ConfigError(f'mapping: ts constant {value[1:]!r} is not a timestamp (write ts = "=2025-10-01")')
    return parsed[0].as_py()


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """Anthropic Messages records, streamed from JSON Lines (or a JSON array)."""
    fallback = _ts_constant(options)
    model = options.mapping.get("model", "")
    unnamed = model[1:] if model.startswith("=") and len(model) > 1 else UNKNOWN_MODEL
    for items in batched(_requests(path), JSON_BATCH_RECORDS):
        values: dict[str, list[Any]] = {c: [] for c in RECORD_COLUMNS}
        rows: list[int] = []
        prompts: list[str | None] = []
        undated: list[bool] = []
        rejects: list[Reject] = []
        for item in items:
            if isinstance(item, Reject):
                rejects.append(item)
                continue
            row, extracted, prompt = item
            if extracted.get("ts") is None and fallback is None:
                rejects.append(Reject(row, "ts", _UNDATED))
                continue
            if extracted.get("model") is None and extracted.get("finish") in ("error", "cancelled"):
                extracted["model"] = unnamed
            rows.append(row)
            prompts.append(prompt)
            undated.append(extracted.get("ts") is None)
            for c in RECORD_COLUMNS:
                values[c].append(extracted.get(c))
        m = Mapper(raw_table(values, len(rows)), ts_format=options.ts_format)
        m.set("request_id", m.text("request_id"))
        ts = m.ts("ts")
        if fallback is not None and any(undated) and ts is not None:
            ts = pc.if_else(pa.array(undated, pa.bool_()), pa.scalar(fallback, columns.TS_TYPE), ts)
        m.set("ts", ts)
        m.map_columns({c: RECORD_COLUMNS[c] for c in RECORD_COLUMNS if c not in ("request_id", "ts")})
        m.constant("reasoning_tokens", 0, pa.int64())  # the Messages API reports none
        yield m.request_batch(rows, rejects, prompts)
