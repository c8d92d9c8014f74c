"""OpenTelemetry GenAI spans, OTLP/JSON: one export request a file (possibly pretty-printed, as a
Collector writes a batch), or one a line (as the Collector's file exporter writes them). Both JSON
spellings are read: OTLP/JSON's camelCase (``resourceSpans``, ``startTimeUnixNano``, ``stringValue``,
hex ids) and the protobuf field names of ``MessageToJson(preserving_proto_field_name=True)``
(``resource_spans``, ``start_time_unix_nano``, ``string_value``, base64 ids, ``STATUS_CODE_ERROR``).

A span is a request when it names a model (``gen_ai.request.model`` or ``gen_ai.response.model``) or
an inference operation (``gen_ai.operation.name`` ``chat``, ``text_completion``, ...), unless the
operation is agent/tool bookkeeping or not a chat request (``embeddings``, ``execute_tool``,
``invoke_agent``, ``create_agent``, ``retrieval``: their tokens are not chat tokens, or belong to the
inference spans under them). Those, and spans without GenAI attributes (HTTP, database), are counted in
:attr:`Batch.skipped`, never quarantined. A file without a single GenAI span is an
:class:`~tokencensus.errors.InputError`: it is not a GenAI trace export.

Identity: ``<traceId>:<spanId>`` in lowercase hex (base64 ids are converted). ``gen_ai.response.id``
is not used: providers and test replays reuse one response id on several spans.

===================================  ==========================================================
request_id                           ``<traceId>:<spanId>``
ts / latency_ms                      ``startTimeUnixNano`` / end − start
model_raw                            ``gen_ai.response.model``, else ``gen_ai.request.model``
provider                             ``gen_ai.provider.name``, else the older ``gen_ai.system``
input / output tokens                ``gen_ai.usage.input_tokens`` / ``output_tokens`` (older
                                     ``prompt_tokens`` / ``completion_tokens``); 0 when the span has
                                     none (a failed request, a stream without usage)
cached tokens                        ``gen_ai.usage.cache_read.input_tokens`` (and older spellings)
reasoning tokens                     ``gen_ai.usage.reasoning.output_tokens`` (and older spellings)
finish_reason                        span status ERROR → ``error``; else the first of
                                     ``gen_ai.response.finish_reasons``
error_type                           ``error.type`` (e.g. ``NotFoundError``), else the status message
tool_calls                           the calls listed in the output: ``tool_call`` parts of
                                     ``gen_ai.output.messages``, OpenLLMetry's
                                     ``gen_ai.completion.N.tool_calls.M.*``, ``gen_ai.choice`` events;
                                     null when the span lists none (the pipeline infers 1 from a
                                     ``tool_calls`` finish)
streamed                             ``gen_ai.request.stream``, OpenLLMetry ``gen_ai.is_streaming`` /
                                     ``llm.is_streaming``, OpenLIT ``gen_ai.request.is_stream``
                                     (the contrib openai-v2 instrumentation writes none: null)
user_id / app                        ``user.id`` (``enduser.id``) / the resource's ``service.name``
cost_usd                             ``gen_ai.usage.cost``
===================================  ==========================================================

Prompt text (``gen_ai.input.messages``, ``gen_ai.prompt.N.content``, ``gen_ai.user.message`` events)
feeds the samples table only. The quarantine row is the line of the export the span came from.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tokencensus.errors import InputError
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.samples import content_text
from tokencensus.ingest.streams import JSON_BATCH_RECORDS, Reject, json_records
from tokencensus.ingest.tabular import RECORD_COLUMNS, Mapper, raw_table

SKIPPED_OPERATIONS = {
    "embeddings": "embeddings",
    "embedding": "embeddings",  # OpenLIT, OpenLLMetry's llm.request.type
    "rerank": "rerank",
    "execute_tool": "execute_tool",
    "invoke_agent": "invoke_agent",
    "create_agent": "create_agent",
    "retrieval": "retrieval",
}
"""Operations (``gen_ai.operation.name``, else OpenLLMetry's ``llm.request.type``) that are not chat
requests, by the name the skipped count uses."""
NON_GENAI_SPAN = "span without gen_ai.* attributes (not a GenAI request)"
"""The :attr:`Batch.skipped` key of spans that carry no GenAI attributes at all (HTTP, database...)."""
NO_MODEL_SPAN = "GenAI span without a model or operation (not a request)"
"""The :attr:`Batch.skipped` key of framework spans with some ``gen_ai.*`` attributes but no model."""
MAX_ERROR_TYPE_CHARS = 200
"""A status message used as ``error_type`` is cut to this length (it names what failed, briefly)."""

_ATTRS = {
    "model": ("gen_ai.response.model", "gen_ai.request.model"),
    "provider": ("gen_ai.provider.name", "gen_ai.system"),
    "input": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
    "output": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
    "cached": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.input_tokens.cached",
    ),
    "reasoning": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.output_tokens.reasoning",
        "gen_ai.usage.reasoning_tokens",
    ),
    "user": ("user.id", "enduser.id", "gen_ai.request.user"),
    "streamed": (
        "gen_ai.request.stream",
        "gen_ai.is_streaming",  # OpenLLMetry
        "llm.is_streaming",  # OpenLLMetry before the gen_ai.* rename
        "gen_ai.request.is_stream",  # OpenLIT
        "gen_ai.request.streaming",
    ),
    "cost": ("gen_ai.usage.cost", "gen_ai.usage.cost_usd"),
}
_COLUMNS = ("request_id", "start", "end", "service", "finish", "error_type", "tool_calls", *_ATTRS)
_HEX = re.compile(r"[0-9a-fA-F]+")
_COMPLETION_TOOL = re.compile(r"gen_ai\.completion\.(\d+)\.(?:tool_calls\.(\d+)\.|function_call\.)")
# AnyValue's members in both spellings: OTLP/JSON camelCase, protobuf field names.
_SCALARS = (
    ("stringValue", "string_value"),
    ("boolValue", "bool_value"),
    ("doubleValue", "double_value"),
    ("bytesValue", "bytes_value"),
)


def looks_like(record: Any) -> bool:
    """True for an OTLP/JSON trace export request (either spelling): what :func:`read` reads."""
    return isinstance(record, dict) and ("resourceSpans" in record or "resource_spans" in record)


def _get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    """A field under its OTLP/JSON (camelCase) name, else its protobuf name."""
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def any_value(value: Any) -> Any:
    """The Python value of an OTLP ``AnyValue`` ({"stringValue": ...}, {"int_value": "12"}, ...)."""
    if not isinstance(value, dict):
        return value
    for camel, snake in _SCALARS:
        if camel in value:
            return value[camel]
        if snake in value:
            return value[snake]
    for key in ("intValue", "int_value"):
        if key in value:
            try:  # int64 is written as a string in JSON
                return int(value[key])
            except (TypeError, ValueError):
                return value[key]
    array = _get(value, "arrayValue", "array_value")
    if array is not None:
        return [any_value(v) for v in (array or {}).get("values") or []]
    kvlist = _get(value, "kvlistValue", "kvlist_value")
    if kvlist is not None:
        return attributes((kvlist or {}).get("values") or [])
    return None


def attributes(items: Any) -> dict[str, Any]:
    """OTLP attributes (a list of {"key", "value"}) as a dict."""
    if isinstance(items, dict):  # some exporters write a plain mapping
        return items
    out = {}
    for item in items or []:
        if isinstance(item, dict) and "key" in item:
            out[item["key"]] = any_value(item.get("value"))
    return out


def hex_id(value: Any) -> str:
    """A trace or span id as lowercase hex.

    OTLP/JSON writes ids as hex; protobuf's JSON mapping writes ``bytes`` fields as base64 (16 bytes
    for a trace id, 8 for a span id). Anything else is kept as written.
    """
    if value is None:
        return ""
    text = str(value)
    if len(text) in (16, 32) and _HEX.fullmatch(text):
        return text.lower()
    try:
        raw = base64.b64decode(
            text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
        )
    except (binascii.Error, ValueError):
        return text
    return raw.hex() if len(raw) in (8, 16) else text


def spans(document: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource attributes, span) for every span of an export request."""
    if not isinstance(document, dict):
        return
    for resource_spans in _get(document, "resourceSpans", "resource_spans") or []:
        if not isinstance(resource_spans, dict):
            continue
        resource = attributes((resource_spans.get("resource") or {}).get("attributes"))
        scopes = (
            _get(resource_spans, "scopeSpans", "scope_spans")
            or _get(resource_spans, "instrumentationLibrarySpans", "instrumentation_library_spans")
            or []
        )
        for scope in scopes:
            if not isinstance(scope, dict):
                continue
            for span in scope.get("spans") or []:
                if isinstance(span, dict):
                    yield resource, span


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return value
    return None


def _json(value: Any) -> Any:
    """A structured attribute: instrumentations write it as a JSON string or as an OTLP array."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _operation(attrs: dict[str, Any]) -> str | None:
    op = attrs.get("gen_ai.operation.name") or attrs.get("llm.request.type")
    return str(op).strip().lower() if op else None


def _is_error(status: Any) -> bool:
    if not isinstance(status, dict):
        return False
    return status.get("code") in (2, "2", "STATUS_CODE_ERROR")


def tool_calls(attrs: dict[str, Any], events: Any) -> int | None:
    """How many tool calls the span's output lists; None when it lists none (or the content was not
    captured), so that the pipeline falls back on the finish reason."""
    count = 0
    messages = _json(attrs.get("gen_ai.output.messages"))
    if isinstance(messages, list):  # one message per choice
        for message in messages:
            if not isinstance(message, dict):
                continue
            parts = message.get("parts")
            if isinstance(parts, list):
                count += sum(1 for p in parts if isinstance(p, dict) and p.get("type") == "tool_call")
            listed = message.get("tool_calls")
            if isinstance(listed, list):
                count += len(listed)
    # OpenLLMetry (legacy attributes): gen_ai.completion.N.tool_calls.M.{id,name,arguments}
    # (or one gen_ai.completion.N.function_call.*): one call per (N, M).
    calls = set()
    for key in attrs:
        if key.startswith("gen_ai.completion."):
            match = _COMPLETION_TOOL.match(key)
            if match:
                calls.add(match.groups())
    count += len(calls)
    for event in events or []:  # openai-v2 before the latest conventions, with content capture
        if isinstance(event, dict) and event.get("name") == "gen_ai.choice":
            body = attributes(event.get("attributes"))
            message = _json(body.get("message"))
            listed = message.get("tool_calls") if isinstance(message, dict) else body.get("tool_calls")
            listed = _json(listed)
            if isinstance(listed, list):
                count += len(listed)
    return count or None


def _prompt(attrs: dict[str, Any], span: dict[str, Any]) -> str | None:
    messages = _json(attrs.get("gen_ai.input.messages"))
    texts: list[str] = []
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict) and message.get("role") == "user":
                parts = message.get("parts") or []
                texts.extend(
                    p.get("content", "") for p in parts if isinstance(p, dict) and p.get("type") == "text"
                )
                if "content" in message:
                    texts.append(content_text(message["content"]))
    i = 0
    while f"gen_ai.prompt.{i}.content" in attrs:
        if attrs.get(f"gen_ai.prompt.{i}.role", "user") == "user":
            texts.append(str(attrs[f"gen_ai.prompt.{i}.content"]))
        i += 1
    for event in span.get("events") or []:
        if isinstance(event, dict) and event.get("name") == "gen_ai.user.message":
            content = attributes(event.get("attributes")).get("content")
            if isinstance(content, str):
                texts.append(content)
    joined = "\n\n".join(t for t in texts if isinstance(t, str) and t)
    return joined or None


class _Census:
    """What a read has seen, for the error raised when a file holds no GenAI span."""

    def __init__(self) -> None:
        self.exports = 0
        self.spans = 0
        self.genai = 0
        self.not_exports = 0

    def message(self, path: Path) -> str:
        found = f"{self.spans} span(s) in {self.exports} OTLP trace export(s)"
        if self.not_exports:
            found += f"; {self.not_exports} record(s) are not OTLP/JSON trace exports"
        return (
            f"{path}: no OpenTelemetry GenAI span to ingest: {found}, none with gen_ai.* model "
            "attributes (gen_ai.request.model / gen_ai.response.model / gen_ai.operation.name). "
            "Export the spans of a GenAI instrumentation (e.g. opentelemetry-instrumentation-openai-v2, "
            "OpenLLMetry)."
        )


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:  # noqa: ARG001 (every reader's signature)
    """GenAI inference spans of an OTLP/JSON file, streamed export by export.

    Raises :class:`~tokencensus.errors.InputError` when the file holds no GenAI span at all (only
    HTTP spans, an empty export, or no trace export): nothing is yielded then.
    """
    values: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
    rows: list[int] = []
    prompts: list[str | None] = []
    rejects: list[Reject] = []
    skipped: Counter[str] = Counter()
    census = _Census()
    for item in json_records(path, keep_text=False):
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        line, document = item
        documents = document if isinstance(document, list) else [document]
        for doc in documents:
            if not looks_like(doc):
                census.not_exports += 1
                rejects.append(Reject(line, "record", "not an OTLP/JSON trace export (no resourceSpans)"))
                continue
            census.exports += 1
            for resource, span in spans(doc):
                census.spans += 1
                attrs = attributes(span.get("attributes"))
                what = _classify(attrs)
                if what is not None:
                    skipped[what] += 1
                    census.genai += what not in (NON_GENAI_SPAN, NO_MODEL_SPAN)
                    continue
                census.genai += 1
                rows.append(line)
                _add_request(values, prompts, resource, span, attrs)
        if len(rows) >= JSON_BATCH_RECORDS:
            yield _batch(values, rows, prompts, rejects, skipped)
            values, rows, prompts, rejects = {c: [] for c in _COLUMNS}, [], [], []
            skipped = Counter()
    if not census.genai:
        raise InputError(census.message(path))
    if rows or rejects or skipped:
        yield _batch(values, rows, prompts, rejects, skipped)


def _classify(attrs: dict[str, Any]) -> str | None:
    """None for a request; else the :attr:`Batch.skipped` key of what the span is."""
    op = _operation(attrs)
    if op in SKIPPED_OPERATIONS:
        return f"{SKIPPED_OPERATIONS[op]} span (not a chat request)"
    if op or _first(attrs, _ATTRS["model"]) is not None:
        return None
    if any(key.startswith(("gen_ai.", "llm.")) for key in attrs):
        return NO_MODEL_SPAN
    return NON_GENAI_SPAN


def _add_request(
    values: dict[str, list[Any]],
    prompts: list[str | None],
    resource: dict[str, Any],
    span: dict[str, Any],
    attrs: dict[str, Any],
) -> None:
    trace = hex_id(_get(span, "traceId", "trace_id"))
    span_id = hex_id(_get(span, "spanId", "span_id"))
    values["request_id"].append(f"{trace}:{span_id}" if trace or span_id else None)
    values["start"].append(_get(span, "startTimeUnixNano", "start_time_unix_nano"))
    values["end"].append(_get(span, "endTimeUnixNano", "end_time_unix_nano"))
    values["service"].append(resource.get("service.name"))
    status = span.get("status") or {}
    failed = _is_error(status)
    finish = attrs.get("gen_ai.response.finish_reasons")
    if isinstance(finish, list):
        finish = finish[0] if finish else None
    # A span with status ERROR is a failed request, whatever finish reason it got before failing.
    values["finish"].append("error" if failed else finish or None)
    error_type = attrs.get("error.type")
    if not error_type and failed:
        error_type = str(status.get("message") or "").strip()[:MAX_ERROR_TYPE_CHARS] or "error"
    values["error_type"].append(error_type or None)
    values["tool_calls"].append(tool_calls(attrs, span.get("events")))
    for key, names in _ATTRS.items():
        values[key].append(_first(attrs, names))
    prompts.append(_prompt(attrs, span))


def _batch(
    values: dict[str, list[Any]],
    rows: list[int],
    prompts: list[str | None],
    rejects: list[Reject],
    skipped: Counter[str],
) -> Batch:
    m = Mapper(raw_table(values, len(rows)), ts_format="epoch_ns")
    m.set("request_id", m.text("request_id"))
    m.set_times("start", "end")
    m.set("app", m.text("service", "app"))
    m.set_usage("input", "output")
    plain = ("user", "model", "provider", "cached", "reasoning", "finish", "error_type", "tool_calls")
    m.map_columns({c: RECORD_COLUMNS[c] for c in (*plain, "streamed", "cost")})
    batch = m.request_batch(rows, rejects, prompts)
    batch.skipped = dict(skipped)
    return batch
