"""OpenTelemetry GenAI spans, OTLP/JSON: one ``{"resourceSpans": [...]}`` export a file, or one a line
(as the collector's file exporter writes them).

A span is a request when it names a model (``gen_ai.request.model`` or ``gen_ai.response.model``) and
its ``gen_ai.operation.name`` is not agent/tool bookkeeping (``execute_tool``, ``invoke_agent``,
``create_agent``, ``embeddings``, ``retrieval``: their tokens belong to the inference spans under them).

===================================  ==========================================================
request_id                           ``gen_ai.response.id``, else ``<traceId>:<spanId>``
ts / latency_ms                      ``startTimeUnixNano`` / end − start
model_raw                            ``gen_ai.response.model``, else ``gen_ai.request.model``
provider                             ``gen_ai.provider.name``, else the older ``gen_ai.system``
input / output tokens                ``gen_ai.usage.input_tokens`` / ``output_tokens``
                                     (older ``prompt_tokens`` / ``completion_tokens``)
cached tokens                        ``gen_ai.usage.cache_read.input_tokens`` (and older spellings)
reasoning tokens                     ``gen_ai.usage.reasoning.output_tokens`` (and older spellings)
finish_reason                        first of ``gen_ai.response.finish_reasons``; span status ERROR → error
user_id / app                        ``user.id`` (``enduser.id``) / the resource's ``service.name``
streamed / cost_usd                  ``gen_ai.request.stream`` (``llm.is_streaming``) / ``gen_ai.usage.cost``
===================================  ==========================================================

Prompt text (``gen_ai.input.messages``, ``gen_ai.prompt.N.content``, ``gen_ai.user.message`` events)
feeds the samples table only. The quarantine row is the line of the export the span came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc

from tokencensus.ingest.columns import ms_between
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.normalize import finish_reasons
from tokencensus.ingest.samples import content_text, samples_table
from tokencensus.ingest.streams import JSON_BATCH_RECORDS, Reject, json_records
from tokencensus.ingest.tabular import Mapper, raw_table

SKIPPED_OPERATIONS = {"execute_tool", "invoke_agent", "create_agent", "embeddings", "retrieval"}
_ATTRS = {
    "response_id": ("gen_ai.response.id",),
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
    "streamed": ("gen_ai.request.stream", "llm.is_streaming", "gen_ai.request.streaming"),
    "cost": ("gen_ai.usage.cost", "gen_ai.usage.cost_usd"),
}
_COLUMNS = ("request_id", "start", "end", "service", "status", "finish", *_ATTRS)


def any_value(value: Any) -> Any:
    """The Python value of an OTLP/JSON ``AnyValue`` ({"stringValue": ...}, {"intValue": "12"}, ...)."""
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return attributes((value["kvlistValue"] or {}).get("values", []))
    return None


def attributes(items: Any) -> dict[str, Any]:
    """OTLP/JSON attributes (a list of {"key", "value"}) as a dict."""
    if isinstance(items, dict):  # some exporters write a plain mapping
        return items
    out = {}
    for item in items or []:
        if isinstance(item, dict) and "key" in item:
            out[item["key"]] = any_value(item.get("value"))
    return out


def spans(document: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource attributes, span) for every span of an export request."""
    if not isinstance(document, dict):
        return
    for resource_spans in document.get("resourceSpans") or document.get("resource_spans") or []:
        resource = attributes((resource_spans.get("resource") or {}).get("attributes"))
        scopes = resource_spans.get("scopeSpans") or resource_spans.get("instrumentationLibrarySpans") or []
        for scope in scopes:
            for span in scope.get("spans") or []:
                if isinstance(span, dict):
                    yield resource, span


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return value
    return None


def _prompt(attrs: dict[str, Any], span: dict[str, Any]) -> str | None:
    messages = attrs.get("gen_ai.input.messages")
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except ValueError:
            messages = None
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
    joined = "\n\n".join(t for t in texts if t)
    return joined or None


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """GenAI inference spans of an OTLP/JSON file, streamed export by export."""
    values: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
    rows: list[int] = []
    prompts: list[str | None] = []
    rejects: list[Reject] = []
    for item in json_records(path, keep_text=False):
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        line, document = item
        documents = document if isinstance(document, list) else [document]
        for doc in documents:
            if not isinstance(doc, dict) or not ("resourceSpans" in doc or "resource_spans" in doc):
                rejects.append(Reject(line, "record", "not an OTLP/JSON export (no resourceSpans)"))
                continue
            for resource, span in spans(doc):
                attrs = attributes(span.get("attributes"))
                if _first(attrs, _ATTRS["model"]) is None:
                    continue
                if attrs.get("gen_ai.operation.name") in SKIPPED_OPERATIONS:
                    continue
                rows.append(line)
                values["request_id"].append(
                    _first(attrs, _ATTRS["response_id"])
                    or f"{span.get('traceId', '')}:{span.get('spanId', '')}"
                )
                values["start"].append(span.get("startTimeUnixNano"))
                values["end"].append(span.get("endTimeUnixNano"))
                values["service"].append(resource.get("service.name"))
                status = span.get("status") or {}
                code = status.get("code")
                values["status"].append("error" if code in (2, "STATUS_CODE_ERROR") else None)
                finish = attrs.get("gen_ai.response.finish_reasons")
                values["finish"].append(finish[0] if isinstance(finish, list) and finish else finish or None)
                for key, names in _ATTRS.items():
                    values[key].append(_first(attrs, names))
                prompts.append(_prompt(attrs, span))
        if len(rows) >= JSON_BATCH_RECORDS:
            yield _batch(values, rows, prompts, rejects, options)
            values, rows, prompts, rejects = {c: [] for c in _COLUMNS}, [], [], []
    if rows or rejects:
        yield _batch(values, rows, prompts, rejects, options)


def _batch(
    values: dict[str, list[Any]],
    rows: list[int],
    prompts: list[str | None],
    rejects: list[Reject],
    options: ReadOptions,
) -> Batch:

    m = Mapper(raw_table(values, len(rows)), ts_format="epoch_ns")
    m.set("request_id", m.text("request_id"))
    start = m.ts("start", "ts")
    m.set("ts", start)
    if start is not None:
        m.set("latency_ms", ms_between(start, m.ts("end", "latency_ms")))
    m.set("user_id", m.text("user", "user_id"))
    m.set("app", m.text("service", "app"))
    m.set("model_raw", m.text("model", "model"))
    m.set("provider", m.text("provider", "provider"))
    m.set("input_tokens", m.int("input", "input_tokens"))
    m.set("output_tokens", m.int("output", "output_tokens"))
    m.set("cached_tokens", m.int("cached", "cached_tokens"))
    m.set("reasoning_tokens", m.int("reasoning", "reasoning_tokens"))
    finish = m.text("finish", "finish_reason")
    status = m.text("status", "finish_reason")
    if finish is not None and status is not None:
        # A finish reason the span reports wins; an ERROR status fills in where it reports none.
        finish = pc.coalesce(pc.if_else(pc.equal(finish_reasons(finish), "unknown"), status, finish), status)
    m.set("finish_reason", finish)
    m.set("streamed", m.bool("streamed", "streamed"))
    m.set("cost_usd", m.float("cost", "cost_usd"))
    ids = m.columns["request_id"].to_pylist() if "request_id" in m.columns else []
    return m.batch(np.array(rows, dtype=np.int64), rejects, samples=samples_table(ids, prompts))
