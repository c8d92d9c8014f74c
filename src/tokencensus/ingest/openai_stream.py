"""OpenAI streaming logs: chat-completion chunks assembled per response, and Responses API stream
events.

One JSON record a line (or a JSON array), of two kinds, possibly mixed:

* ``chat.completion.chunk`` objects, as a proxy logs a streamed chat completion chunk by chunk.
  The chunks of one response share its ``id``; they are assembled into one request. Streams of
  different ids may interleave.
* Responses API stream events: ``response.completed`` / ``response.failed`` /
  ``response.incomplete`` carry the final ``response`` object and are one request each, read as
  :mod:`tokencensus.ingest.openai_jsonl` reads a Responses body. The other events
  (``response.created``, ``response.output_text.delta``, ...) repeat or precede that object and
  are passed over (neither requests nor skipped records).

==================  ==============================================================================
canonical           source (chunks of one response)
==================  ==============================================================================
request_id          the chunks' ``id``
ts                  ``created`` of the first chunk
model_raw           ``model`` of the first chunk that has one
input_tokens        ``usage.prompt_tokens`` of the usage chunk (sent last with
                    ``stream_options.include_usage``); 0 when the stream reported no usage
output_tokens       ``usage.completion_tokens`` of the usage chunk; 0 when none
cached_tokens       ``usage.prompt_tokens_details.cached_tokens``
reasoning_tokens    ``usage.completion_tokens_details.reasoning_tokens``
finish_reason       the last ``finish_reason`` of choice 0
tool_calls          distinct ``delta.tool_calls[].index`` of choice 0 (a legacy
                    ``delta.function_call`` counts 1)
streamed            true
(Responses events)  as openai-jsonl reads a Responses API body; ``streamed`` true
==================  ==============================================================================

Identity: the response id (``chatcmpl-...`` / ``resp_...``). A chunk that opens a new stream (its
choice 0 delta carries ``role``) under an id whose open stream already had its role is taken as a
new response reusing the id (servers such as Ollama number responses); the lake then tells them
apart by content.

Memory: open streams are kept by id until the end of the file, except that a stream with no chunk in
the last :data:`IDLE_LINES` lines is assembled and emitted early (a finished stream sends nothing
more), so memory is bounded by the streams in flight, not by the file. A stream whose usage never
arrives (no ``include_usage``, or cut off) is still a request, with 0 tokens. Chunks carry output
text only, never the prompt: no samples.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokencensus.identity import content_id
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.openai_jsonl import (
    STREAM_OBJECTS,
    UNKNOWN_MODEL,
    Collector,
    as_dict,
    chat_values,
    responses_values,
)
from tokencensus.ingest.streams import JSON_BATCH_RECORDS, Reject, json_records

NOTE = (
    "openai-stream: chunks are assembled per response id; a stream that sent no usage chunk is a "
    "request with 0 tokens (usage unknown)"
)
"""Printed under the ingest summary."""
IDLE_LINES = 50_000
"""A stream with no chunk in this many lines is taken as finished and emitted."""
FINAL_EVENTS = ("response.completed", "response.failed", "response.incomplete")
"""Responses API stream events that carry the final ``response`` object (one request each)."""


def looks_like(record: Any) -> bool:
    """True for a chat-completion chunk or a Responses API stream event carrying a response."""
    if not isinstance(record, dict):
        return False
    if record.get("object") in STREAM_OBJECTS:
        return True
    kind = record.get("type")
    return isinstance(kind, str) and kind.startswith("response.") and isinstance(record.get("response"), dict)


@dataclass
class _Stream:
    """What the chunks of one response said so far."""

    id: str
    row: int
    """Line of the first chunk (the request's row)."""
    last: int
    """Line of the latest chunk."""
    created: Any = None
    model: Any = None
    usage: dict[str, Any] | None = None
    finish: Any = None
    role_seen: bool = False
    tool_indices: set[Any] = field(default_factory=set)
    function_call: bool = False

    def add(self, chunk: dict[str, Any], row: int) -> None:
        """Merge one chunk."""
        self.last = row
        if self.created is None:
            self.created = chunk.get("created")
        if not self.model:
            self.model = chunk.get("model")
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue  # one request, several choices: tokens are the response's, calls choice 0's
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
            delta = as_dict(choice.get("delta"))
            if delta.get("role"):
                self.role_seen = True
            for call in delta.get("tool_calls") or []:
                # A call's arguments arrive over several chunks under one index; without an index
                # (some proxies), the chunk that opens a call carries its id.
                key = call.get("index", call.get("id")) if isinstance(call, dict) else None
                if key is not None:
                    self.tool_indices.add(key)
            if isinstance(delta.get("function_call"), dict):
                self.function_call = True

    def opens_another(self, chunk: dict[str, Any]) -> bool:
        """True when ``chunk`` starts a new stream under this id (choice 0 sends its role again)."""
        if not self.role_seen:
            return False
        for choice in chunk.get("choices") or []:
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                delta = choice.get("delta")
                return isinstance(delta, dict) and bool(delta.get("role"))
        return False

    def values(self) -> dict[str, Any]:
        """The assembled request, read as the chat.completion body it amounts to."""
        calls = len(self.tool_indices) or (1 if self.function_call else 0)
        body = {
            "id": self.id,
            "created": self.created,
            "model": self.model,
            "choices": [{"finish_reason": self.finish, "message": {"tool_calls": [{}] * calls}}],
            "usage": self.usage,
        }
        out = chat_values(body)
        # Usage unknown (never sent) is still a request: 0 tokens, as the validator needs numbers.
        out["input"] = out["input"] or 0
        out["output"] = out["output"] or 0
        out["streamed"] = True
        return out


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """Streamed requests, assembled from chunks and final events, streamed from JSON Lines."""
    open_streams: OrderedDict[str, _Stream] = OrderedDict()  # least recently fed first
    out = Collector()
    for item in json_records(path, keep_text=False):
        if isinstance(item, Reject):
            out.rejects.append(item)
        else:
            row, value = item
            for record in value if isinstance(value, list) else [value]:
                _take(record, row, open_streams, out)
            while open_streams:  # streams idle long enough are finished: bound memory
                stream = next(iter(open_streams.values()))
                if row - stream.last <= IDLE_LINES:
                    break
                del open_streams[stream.id]
                out.add(stream.row, stream.values())
        if out.size() >= JSON_BATCH_RECORDS:
            yield out.batch(options)
            out = Collector()
    for stream in sorted(open_streams.values(), key=lambda s: s.row):
        out.add(stream.row, stream.values())
    if out.size():
        yield out.batch(options)


def _take(record: Any, row: int, open_streams: OrderedDict[str, _Stream], out: Collector) -> None:
    """Feed one record: merge a chunk into its stream, emit a final event, reject anything else."""
    if not isinstance(record, dict):
        out.rejects.append(Reject(row, "record", "record is not a JSON object"))
        return
    if record.get("object") in STREAM_OBJECTS:
        rid = record.get("id")
        if not isinstance(rid, str) or not rid:
            out.rejects.append(Reject(row, "request_id", "stream chunk has no id to assemble it by"))
            return
        stream = open_streams.get(rid)
        if stream is not None and stream.opens_another(record):
            del open_streams[rid]  # the id is reused by a new response: the old one is complete
            out.add(stream.row, stream.values())
            stream = None
        if stream is None:
            stream = _Stream(rid, row, row)
            open_streams[rid] = stream
        else:
            open_streams.move_to_end(rid)
        stream.add(record, row)
        return
    kind = record.get("type")
    if isinstance(kind, str) and kind.startswith("response."):
        if kind in FINAL_EVENTS and isinstance(record.get("response"), dict):
            response = record["response"]
            values = responses_values(response)
            values["request_id"] = values["request_id"] or content_id(
                "openai", values["ts"], values["model"], response.get("status"), response.get("error")
            )
            values["streamed"] = True
            # A failed response bills nothing; usage never sent is unknown: both are 0 tokens.
            values["input"] = values["input"] or 0
            values["output"] = values["output"] or 0
            if values.get("finish") == "error":
                values["model"] = values["model"] or UNKNOWN_MODEL
            out.add(row, values)
        return  # the other events precede or repeat the final one
    out.rejects.append(Reject(row, "record", "not a chat.completion.chunk or a Responses API stream event"))
