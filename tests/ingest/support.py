"""Shared pieces of the ingest tests: a stub catalog and writers of small realistic log files.

(No tests here; the module sits beside the tests that import it.)
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from tokencensus.ingest import IngestSummary, ingest_paths
from tokencensus.lake import Lake

SECRET_PROMPT = "ZEBRA-PLUM-7731 please summarise my medical record"
"""A distinctive prompt written into the text-bearing fixtures; it must never leave the samples table."""


class StubCatalog:
    """Resolves a handful of spellings; everything else is unknown (null)."""

    ALIASES: ClassVar[dict[str, str]] = {
        "anthropic/claude-4.5-sonnet-20250929": "anthropic/claude-sonnet-4.5",
        "claude-sonnet-4-5": "anthropic/claude-sonnet-4.5",
        "openrouter/anthropic/claude-sonnet-4.5": "anthropic/claude-sonnet-4.5",
        "deepseek/deepseek-v3.2-20251201": "deepseek/deepseek-v3.2",
        "gpt-4o": "openai/gpt-4o",
        "gpt-4o-2024-08-06": "openai/gpt-4o",
        "gpt-3.5-turbo": "openai/gpt-3.5-turbo",
    }

    def resolve(self, names: pa.Array) -> pa.Array:
        return pa.array([self.ALIASES.get(n) if n else None for n in names.to_pylist()], pa.string())

    def resolve_one(self, name: str | None) -> str | None:
        return self.ALIASES.get(name) if name else None


def ingest(paths: list[Path], lake_dir: Path, **kwargs: Any) -> IngestSummary:
    """ingest_paths with the stub catalog into ``lake_dir``."""
    kwargs.setdefault("catalog", StubCatalog())
    return ingest_paths(paths, Lake(lake_dir), **kwargs)


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# -- LiteLLM -----------------------------------------------------------------------------------------

LITELLM_HEADER = [
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "completionStartTime",
    "model",
    "model_group",
    "custom_llm_provider",
    "user",
    "end_user",
    "metadata",
    "cache_hit",
    "status",
    "messages",
    "response",
]


def litellm_rows() -> list[dict[str, Any]]:
    """Three spend-log rows: a tool call with cached tokens, a plain stop, a failure."""
    return [
        {
            "request_id": "chatcmpl-a1",
            "call_type": "acompletion",
            "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
            "spend": 0.0125,
            "total_tokens": 1300,
            "prompt_tokens": 1200,
            "completion_tokens": 100,
            "startTime": "2025-06-02 10:00:00.000",
            "endTime": "2025-06-02 10:00:02.500",
            "completionStartTime": "2025-06-02 10:00:00.400",
            "model": "claude-sonnet-4-5",
            "model_group": "claude-sonnet",
            "custom_llm_provider": "anthropic",
            "user": "internal-1",
            "end_user": "customer-9",
            "metadata": {
                "user_api_key_alias": "support-bot",
                "status": "success",
                "usage_object": {
                    "prompt_tokens_details": {"cached_tokens": 800},
                    "completion_tokens_details": {"reasoning_tokens": 40},
                },
            },
            "cache_hit": "False",
            "status": "success",
            "messages": [
                {"role": "system", "content": "be nice"},
                {"role": "user", "content": SECRET_PROMPT},
            ],
            "response": {
                "choices": [
                    {"finish_reason": "tool_calls", "message": {"tool_calls": [{"id": "t1"}, {"id": "t2"}]}}
                ]
            },
        },
        {
            "request_id": "chatcmpl-a2",
            "call_type": "acompletion",
            "api_key": "hashed-key-2",
            "spend": 0.002,
            "total_tokens": 350,
            "prompt_tokens": 300,
            "completion_tokens": 50,
            "startTime": "2025-06-03T08:00:00+00:00",
            "endTime": "2025-06-03T08:00:01+00:00",
            "completionStartTime": "2025-06-03T08:00:01+00:00",
            "model": "gpt-4o",
            "model_group": "gpt-4o",
            "custom_llm_provider": "openai",
            "user": "internal-2",
            "end_user": "",
            "metadata": {},
            "cache_hit": "False",
            "status": "success",
            "messages": [],
            "response": {},
        },
        {
            "request_id": "chatcmpl-a3",
            "call_type": "acompletion",
            "api_key": "hashed-key-2",
            "spend": 0.0,
            "total_tokens": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "startTime": "2025-06-03T09:00:00Z",
            "endTime": "2025-06-03T09:00:30Z",
            "completionStartTime": "",
            "model": "mystery-model-x",
            "model_group": "mystery",
            "custom_llm_provider": "vllm",
            "user": "internal-2",
            "end_user": "",
            "metadata": {"status": "failure"},
            "cache_hit": "False",
            "status": "failure",
            "messages": [],
            "response": {},
        },
    ]


def write_litellm_csv(path: Path) -> Path:
    rows = []
    for r in litellm_rows():
        rows.append([json.dumps(r[c]) if isinstance(r[c], dict | list) else r[c] for c in LITELLM_HEADER])
    return write_csv(path, LITELLM_HEADER, rows)


# -- OpenTelemetry -----------------------------------------------------------------------------------


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}}}
    return {"key": key, "value": {"stringValue": value}}


def otel_span(
    span_id: str,
    start_ns: int,
    attrs: dict[str, Any],
    *,
    error: bool = False,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": span_id,
        "name": "chat",
        "kind": 3,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + 1_500_000_000),
        "attributes": [_attr(k, v) for k, v in attrs.items()],
        "status": {"code": 2} if error else {},
    }
    if events:
        span["events"] = events
    return span


def otel_export(spans: list[dict[str, Any]], service: str = "travel-agent") -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attr("service.name", service)]},
                "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai"}, "spans": spans}],
            }
        ]
    }


def otel_spans() -> list[dict[str, Any]]:
    """Four inference spans (new and old attribute names) and one tool span that is not a request."""
    t0 = 1_748_858_400_000_000_000  # 2025-06-02T10:00:00Z
    return [
        otel_span(
            "a1",
            t0,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.response.id": "chatcmpl-otel-1",
                "gen_ai.usage.input_tokens": 500,
                "gen_ai.usage.output_tokens": 60,
                "gen_ai.usage.cache_read.input_tokens": 100,
                "gen_ai.response.finish_reasons": ["tool_calls"],
                "user.id": "u-1",
                "gen_ai.input.messages": json.dumps(
                    [{"role": "user", "parts": [{"type": "text", "content": SECRET_PROMPT}]}]
                ),
            },
        ),
        otel_span(
            "a2",
            t0 + 60_000_000_000,
            {
                "gen_ai.system": "anthropic",
                "gen_ai.request.model": "claude-sonnet-4-5",
                "gen_ai.usage.prompt_tokens": 1000,
                "gen_ai.usage.completion_tokens": 200,
                "gen_ai.usage.reasoning.output_tokens": 50,
                "gen_ai.response.finish_reasons": ["end_turn"],
            },
        ),
        otel_span(
            "a3",
            t0 + 120_000_000_000,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "search",
                "gen_ai.request.model": "gpt-4o",
            },
        ),
        otel_span(
            "a4",
            t0 + 180_000_000_000,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 40,
                "gen_ai.usage.output_tokens": 0,
            },
            error=True,
        ),
        otel_span(
            "a5",
            t0 + 240_000_000_000,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "gcp.gemini",
                "gen_ai.request.model": "gemini-2.5-flash",
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 5,
                "gen_ai.response.finish_reasons": ["MAX_TOKENS"],
            },
        ),
    ]


# -- OpenAI-style JSONL ------------------------------------------------------------------------------


def openai_records() -> list[dict[str, Any]]:
    """A proxy pair (chat), a Batch API output line (chat, tool calls), a Responses API pair, a failed
    batch line."""
    return [
        {
            "timestamp": "2025-06-02T10:00:00Z",
            "request": {
                "model": "gpt-4o",
                "stream": True,
                "user": "user-42",
                "messages": [
                    {"role": "system", "content": "sys"},
                    {"role": "user", "content": [{"type": "text", "text": SECRET_PROMPT}]},
                ],
            },
            "response": {
                "id": "chatcmpl-p1",
                "object": "chat.completion",
                "created": 1748858400,
                "model": "gpt-4o-2024-08-06",
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}
                ],
                "usage": {
                    "prompt_tokens": 120,
                    "completion_tokens": 30,
                    "total_tokens": 150,
                    "prompt_tokens_details": {"cached_tokens": 64},
                    "completion_tokens_details": {"reasoning_tokens": 0},
                },
            },
        },
        {
            "id": "batch_req_1",
            "custom_id": "task-7",
            "response": {
                "status_code": 200,
                "request_id": "req_1",
                "body": {
                    "id": "chatcmpl-b1",
                    "object": "chat.completion",
                    "created": 1748862000,
                    "model": "gpt-4o",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "tool_calls",
                            "message": {
                                "role": "assistant",
                                "tool_calls": [{"id": "c1"}, {"id": "c2"}, {"id": "c3"}],
                            },
                        }
                    ],
                    "usage": {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220},
                },
            },
            "error": None,
        },
        {
            "request": {"model": "o4-mini", "input": "What is 2+2?"},
            "response": {
                "id": "resp_1",
                "object": "response",
                "created_at": 1748865600,
                "model": "o4-mini-2025-04-16",
                "status": "completed",
                "output": [{"type": "reasoning"}, {"type": "message"}],
                "usage": {
                    "input_tokens": 15,
                    "output_tokens": 300,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens_details": {"reasoning_tokens": 256},
                },
            },
        },
        {
            "id": "batch_req_2",
            "custom_id": "task-8",
            "response": {
                "status_code": 500,
                "request_id": "req_2",
                "body": {"error": {"message": "server error"}, "created": 1748865600, "model": "gpt-4o"},
            },
            "error": None,
        },
    ]


# -- WildChat ----------------------------------------------------------------------------------------


def wildchat_records() -> list[dict[str, Any]]:
    return [
        {
            "conversation_hash": "c0ffee01",
            "model": "gpt-3.5-turbo",
            "timestamp": "2023-05-01T12:00:00Z",
            "conversation": [
                {"role": "user", "content": SECRET_PROMPT, "timestamp": "2023-05-01T11:59:00Z"},
                {
                    "role": "assistant",
                    "content": "Here is a summary of it.",
                    "timestamp": "2023-05-01T11:59:30Z",
                },
                {"role": "user", "content": "Thanks, shorter please"},
                {"role": "assistant", "content": "Sure."},
            ],
            "turn": 2,
            "language": "English",
            "country": "Germany",
            "state": "Bavaria",
            "hashed_ip": "abc123",
            "toxic": False,
            "redacted": False,
        },
        {
            "conversation_hash": "c0ffee02",
            "model": "gpt-4-0314",
            "timestamp": "2023-05-02T08:00:00Z",
            "conversation": [
                {"role": "user", "content": "hello"},
                {"role": "assistant", "content": "hi there"},
            ],
            "turn": 1,
            "language": "English",
            "country": "United States",
            "hashed_ip": "def456",
        },
    ]
