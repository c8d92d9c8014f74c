"""Langfuse observations and LiteLLM StandardLoggingPayload: real files of others (shared/data/foreign,
numbers from its MANIFEST) and hand-written records whose expectations are counted by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pytest

from tests.conftest import shared_file
from tokencensus.ingest import detect_format, ingest_paths, langfuse, litellm_payload
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.lake import Lake


def read_all(read, path: Path) -> tuple[list[dict], list[Batch]]:
    batches = list(read(path, ReadOptions()))
    tables = [b.table for b in batches if b.table.num_rows]
    rows = pa.concat_tables(tables, promote_options="default").to_pylist() if tables else []
    return rows, batches


def skipped(batches: list[Batch]) -> dict[str, int]:
    out: dict[str, int] = {}
    for b in batches:
        for what, n in b.skipped.items():
            out[what] = out.get(what, 0) + n
    return out


def samples(batches: list[Batch]) -> dict[str, str]:
    out: dict[str, str] = {}
    for b in batches:
        if b.samples is not None:
            out.update(zip(b.samples["request_id"].to_pylist(), b.samples["text"].to_pylist(), strict=True))
    return out


def errors(batches: list[Batch]) -> list[tuple[int, str]]:
    out = []
    for b in batches:
        if b.errors is not None:
            out += [
                (int(r), f) for r, f, bad in zip(b.rows, b.errors.field, b.errors.mask, strict=True) if bad
            ]
    return out


# -- LiteLLM StandardLoggingPayload -------------------------------------------------------------------


def test_litellm_standard_logging_payload_manifest() -> None:
    path = shared_file("foreign/litellm/standard_logging_payload.json")
    assert detect_format(path) == "litellm-payload"
    rows, batches = read_all(litellm_payload.read, path)
    assert len(rows) == 1
    assert not errors(batches)
    assert not skipped(batches)
    row = rows[0]
    assert row["request_id"] == "chatcmpl-2299b6a2-82a3-465a-b47c-04e685a2227f"
    assert (row["model_raw"], row["provider"]) == ("gpt-4o", "openai")
    assert (row["input_tokens"], row["output_tokens"]) == (10, 20)
    assert row["cost_usd"] == pytest.approx(0.000225)
    assert row["finish_reason"] == "stop"
    assert row["error_type"] is None
    assert row["streamed"] is True
    assert row["ts"].isoformat() == "2025-01-24T09:20:46.847371+00:00"
    assert row["latency_ms"] == pytest.approx(4.583)  # 09:20:46.851954 − 09:20:46.847371
    assert row["user_id"] is None  # end_user "" and no key user
    assert samples(batches) == {row["request_id"]: "Hello, world!"}


def test_spend_logs_are_still_litellm() -> None:
    assert detect_format(shared_file("foreign/litellm/spend_logs_payload.json")) == "litellm"


SECRET = "my tax return for 2024"
"""Prompt text a failure message quotes: it must reach no column."""


def payloads() -> list[dict]:
    base = {
        "trace_id": "t-1",
        "stream": False,
        "custom_llm_provider": "openai",
        "startTime": 1735732800.0,  # 2025-01-01T12:00:00Z, epoch seconds as the spec documents
        "endTime": 1735732801.5,
        "completionStartTime": 1735732801.5,
        "model_group": "gpt-4o-mini",
        "metadata": {"user_api_key_alias": "team-search", "user_api_key_user_id": "u-key"},
        "end_user": "",
        "messages": [{"role": "user", "content": SECRET}],
    }
    return [
        {  # a success with cached and reasoning tokens and two tool calls
            **base,
            "id": "call-ok",
            "call_type": "acompletion",
            "status": "success",
            "model": "gpt-4o-mini",
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "response_cost": 0.00005,
            "end_user": "alice",
            "response": {
                "choices": [
                    {
                        "finish_reason": "tool_calls",
                        "message": {"role": "assistant", "tool_calls": [{"id": "a"}, {"id": "b"}]},
                    }
                ],
                "usage": {
                    "prompt_tokens_details": {"cached_tokens": 100},
                    "completion_tokens_details": {"reasoning_tokens": 12},
                },
            },
        },
        {  # a failure with LiteLLM's error information
            **base,
            "id": "call-429",
            "call_type": "acompletion",
            "status": "failure",
            "model": "gpt-4o-mini",
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "response_cost": 0.0,
            "response": {},
            "error_str": f"litellm.RateLimitError: quota exceeded while answering {SECRET}",
            "error_information": {
                "error_code": "429",
                "error_class": "RateLimitError",
                "llm_provider": "openai",
                "traceback": f"Traceback ... {SECRET}",
                "error_message": SECRET,
            },
        },
        {  # a failure with only the error string (no tokens, no error information)
            **base,
            "id": "call-404",
            "call_type": "completion",
            "status": "failure",
            "model": "",
            "model_group": "gpt-x",
            "response": None,
            "error_str": "litellm.NotFoundError: OpenAIException - Error code: 404 - {'error': {'message': "
            f"'{SECRET}', 'type': 'invalid_request_error', 'code': 'model_not_found'}}}}",
            "error_information": None,
        },
        {  # an embedding call: not a chat request
            **base,
            "id": "call-embed",
            "call_type": "aembedding",
            "status": "success",
            "model": "text-embedding-3-small",
            "prompt_tokens": 8,
            "completion_tokens": 0,
            "response_cost": 0.0000002,
        },
    ]


def test_litellm_payload_failures_and_embeddings(tmp_path: Path) -> None:
    path = tmp_path / "payloads.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in payloads()))
    assert detect_format(path) == "litellm-payload"
    rows, batches = read_all(litellm_payload.read, path)
    assert not errors(batches)
    assert skipped(batches) == {"LiteLLM aembedding call (not a chat request)": 1}
    by_id = {r["request_id"]: r for r in rows}
    assert sorted(by_id) == ["call-404", "call-429", "call-ok"]
    ok = by_id["call-ok"]
    assert (ok["input_tokens"], ok["output_tokens"], ok["cached_tokens"], ok["reasoning_tokens"]) == (
        120,
        30,
        100,
        12,
    )
    assert (ok["tool_calls"], ok["finish_reason"], ok["error_type"]) == (2, "tool_calls", None)
    assert (ok["user_id"], ok["app"], ok["streamed"]) == ("alice", "team-search", False)
    assert ok["ts"].isoformat() == "2025-01-01T12:00:00+00:00"
    assert ok["latency_ms"] == pytest.approx(1500.0)
    failed = by_id["call-429"]
    assert (failed["finish_reason"], failed["error_type"]) == ("error", "http 429: RateLimitError")
    assert (failed["input_tokens"], failed["output_tokens"]) == (0, 0)
    assert failed["user_id"] == "u-key"  # no end user: the key's user
    missing = by_id["call-404"]
    assert (missing["finish_reason"], missing["error_type"]) == ("error", "http 404: model_not_found")
    assert missing["model_raw"] == "gpt-x"  # model "" → model_group
    assert (missing["input_tokens"], missing["output_tokens"]) == (0, 0)  # usage absent: 0
    # the prompt text is in the samples only, never in a column
    assert SECRET not in json.dumps(rows, default=str)
    assert set(samples(batches).values()) == {SECRET}


def test_litellm_payload_end_to_end(tmp_path: Path) -> None:  # end-to-end
    path = tmp_path / "payloads.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in payloads()))
    summary = ingest_paths([path], Lake(tmp_path / "lake"), fmt="litellm-payload")
    assert (summary.total.rows_written, summary.total.errors, summary.total.quarantined) == (3, 2, 0)
    assert summary.total.skipped == {"LiteLLM aembedding call (not a chat request)": 1}


# -- Langfuse observations -----------------------------------------------------------------------------


def test_langfuse_api_page_manifest() -> None:
    path = shared_file("foreign/langfuse/observations_api_page.json")
    assert detect_format(path) == "langfuse"
    rows, batches = read_all(langfuse.read, path)
    assert not errors(batches)
    assert skipped(batches) == {"Langfuse SPAN observation (not an LLM call)": 3}
    by_model = {r["model_raw"]: r for r in rows}
    assert sorted(by_model) == ["gemini-2.5-flash", "llama-3.3-70b-versatile"]
    gemini = by_model["gemini-2.5-flash"]
    assert gemini["request_id"] == "d8ab9e3ca45022e6"
    # usageDetails: input 24; output 378 + output_reasoning_tokens 1029 = 1407 (Langfuse's outputUsage)
    assert (gemini["input_tokens"], gemini["output_tokens"], gemini["reasoning_tokens"]) == (24, 1407, 1029)
    assert gemini["cached_tokens"] == 0
    assert gemini["cost_usd"] == pytest.approx(0.0009522)
    assert gemini["latency_ms"] == pytest.approx(7878.0)
    assert gemini["ttft_ms"] == pytest.approx(6322.0)
    assert (gemini["user_id"], gemini["finish_reason"], gemini["error_type"]) == ("demo-user", "stop", None)
    llama = by_model["llama-3.3-70b-versatile"]
    assert (llama["request_id"], llama["input_tokens"], llama["output_tokens"]) == (
        "fa4043fd7006773b",
        58,
        282,
    )
    assert llama["cost_usd"] is None  # costDetails {} and totalCost 0: no price known, not free
    assert llama["ttft_ms"] == pytest.approx(92.0)


def test_langfuse_api_page_end_to_end(tmp_path: Path) -> None:  # end-to-end
    path = shared_file("foreign/langfuse/observations_api_page.json")
    summary = ingest_paths([path], Lake(tmp_path / "lake"))
    assert (summary.total.rows_written, summary.total.errors, summary.total.quarantined) == (2, 0, 0)
    assert summary.total.skipped == {"Langfuse SPAN observation (not an LLM call)": 3}


EXPORT_COLUMNS = [
    "id", "traceId", "projectId", "type", "environment", "parentObservationId", "startTime", "endTime",
    "name", "metadata", "level", "statusMessage", "version", "input", "output", "modelParameters",
    "completionStartTime", "promptId", "createdAt", "updatedAt", "usageDetails", "costDetails",
    "providedCostDetails", "model", "internalModelId", "promptName", "promptVersion", "latency",
    "timeToFirstToken", "inputCost", "outputCost", "totalCost", "inputUsage", "outputUsage", "totalUsage",
    "traceName", "traceTags", "traceTimestamp", "userId", "modelId", "inputPrice", "outputPrice",
    "totalPrice", "scores", "comments",
]  # fmt: skip
"""The observations export's columns: the keys of the rows Langfuse's batch export writes
(worker observation-stream: convertObservation + trace name/tags/timestamp/userId + model prices +
scores + comments)."""


def export_cell(value: object) -> str:
    """A value as Langfuse's CSV export writes it: strings as-is, anything else JSON (dates in quotes)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def write_langfuse_export(path: Path) -> None:
    base = {c: None for c in EXPORT_COLUMNS}
    rows = [
        {  # a generation: 100 input (20 of them cached), 50 output, two tool calls
            **base,
            "id": "obs-1",
            "traceId": "trace-a",
            "type": "GENERATION",
            "startTime": '"2025-03-01T10:00:00.000Z"',  # a Date, JSON.stringify'd: in quotes
            "endTime": '"2025-03-01T10:00:02.500Z"',
            "completionStartTime": '"2025-03-01T10:00:00.400Z"',
            "level": "DEFAULT",
            "input": [{"role": "system", "content": "be brief"}, {"role": "user", "content": SECRET}],
            "output": {"role": "assistant", "tool_calls": [{"id": "x"}, {"id": "y"}]},
            "modelParameters": {"temperature": 0},
            "usageDetails": {"input": 80, "input_cached_tokens": 20, "output": 50, "total": 150},
            "costDetails": {"input": 0.00006, "output": 0.00004, "total": 0.0001},
            "model": "gpt-4o-mini",
            "inputUsage": 100,
            "outputUsage": 50,
            "totalUsage": 150,
            "totalCost": 0.0001,
            "traceName": "support-bot",
            "userId": "user-7",
            "metadata": {},
            "scores": {},
            "comments": [],
        },
        {  # a failed generation: Langfuse level ERROR, a status message quoting the prompt
            **base,
            "id": "obs-2",
            "traceId": "trace-b",
            "type": "GENERATION",
            "startTime": '"2025-03-01T11:00:00.000Z"',
            "endTime": '"2025-03-01T11:00:00.300Z"',
            "level": "ERROR",
            "statusMessage": "Error code: 429 - {'type': 'error', 'error': {'type': 'rate_limit_error', "
            f"'message': '{SECRET}'}}}}",
            "usageDetails": {},
            "costDetails": {},
            "model": "claude-3-5-sonnet-20241022",
            "inputUsage": 0,
            "outputUsage": 0,
            "totalCost": 0,
            "metadata": {"user_id": "user-8"},
        },
        {  # a span: not an LLM call
            **base,
            "id": "obs-3",
            "traceId": "trace-a",
            "type": "SPAN",
            "startTime": '"2025-03-01T09:59:59.000Z"',
            "endTime": '"2025-03-01T10:00:03.000Z"',
            "level": "DEFAULT",
            "usageDetails": {},
            "costDetails": {},
            "inputUsage": 0,
            "outputUsage": 0,
        },
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow([export_cell(row[c]) for c in EXPORT_COLUMNS])


def test_langfuse_ui_csv_export(tmp_path: Path) -> None:
    path = tmp_path / "observations.csv"
    write_langfuse_export(path)
    assert detect_format(path) == "langfuse"
    rows, batches = read_all(langfuse.read, path)
    assert not errors(batches)
    assert skipped(batches) == {"Langfuse SPAN observation (not an LLM call)": 1}
    by_id = {r["request_id"]: r for r in rows}
    assert sorted(by_id) == ["obs-1", "obs-2"]
    ok = by_id["obs-1"]
    assert ok["ts"].isoformat() == "2025-03-01T10:00:00+00:00"  # the export's quoted date, unquoted
    assert (ok["input_tokens"], ok["output_tokens"], ok["cached_tokens"]) == (100, 50, 20)
    assert (ok["tool_calls"], ok["cost_usd"], ok["user_id"]) == (2, pytest.approx(0.0001), "user-7")
    assert ok["latency_ms"] == pytest.approx(2500.0)
    assert ok["ttft_ms"] == pytest.approx(400.0)
    failed = by_id["obs-2"]
    assert failed["finish_reason"] == "error"
    assert failed["error_type"] == "langfuse level ERROR (http 429: rate_limit_error)"
    assert (failed["input_tokens"], failed["output_tokens"], failed["cost_usd"]) == (0, 0, None)
    assert failed["user_id"] == "user-8"  # from the metadata
    assert SECRET not in json.dumps(rows, default=str)
    assert samples(batches) == {"obs-1": SECRET}


def test_langfuse_old_generations_export(tmp_path: Path) -> None:
    """The generations-table export of older Langfuse versions: no type, promptTokens, "$" costs."""
    header = (
        "id,name,traceId,traceName,startTime,endTime,timeToFirstToken,scores,latency,latencyPerToken,"
        "inputCost,outputCost,totalCost,level,statusMessage,model,promptTokens,completionTokens,totalTokens,"
        "input,output,metadata,promptName,promptVersion"
    )
    line = (
        '"gen-1","chat","tr-1","bot","2024-06-01T08:00:00.000Z","2024-06-01T08:00:01.000Z","","{}","1.00s",'
        '"0.05s","$0.00001000","$0.00002000","$0.00003000","DEFAULT","","gpt-3.5-turbo","12","20","32",'
        '"""hi""","""hello""","{}","",""'
    )
    path = tmp_path / "generations.csv"
    path.write_text(header + "\n" + line + "\n")
    assert detect_format(path) == "langfuse"
    rows, batches = read_all(langfuse.read, path)
    assert not errors(batches)
    assert not skipped(batches)
    assert [(r["request_id"], r["input_tokens"], r["output_tokens"]) for r in rows] == [("gen-1", 12, 20)]
    assert rows[0]["cost_usd"] == pytest.approx(0.00003)
    assert samples(batches) == {"gen-1": "hi"}


def test_langfuse_bad_usage_is_reported_not_dropped(tmp_path: Path) -> None:
    page = {
        "data": [
            {"id": "g1", "traceId": "t", "type": "GENERATION", "startTime": "2025-01-01T00:00:00Z",
             "model": "gpt-4o", "usageDetails": {"input": "many", "output": 3}},
            {"id": "g2", "traceId": "t", "type": "GENERATION", "startTime": "2025-01-01T00:00:01Z",
             "model": "gpt-4o", "usage": {"input": 5, "output": 6}},
            {"id": "e1", "traceId": "t", "type": "EVENT", "startTime": "2025-01-01T00:00:02Z"},
        ],
        "meta": {"page": 1, "limit": 50, "totalItems": 3, "totalPages": 1},
    }  # fmt: skip
    path = tmp_path / "page.jsonl"
    path.write_text(json.dumps(page) + "\n")
    assert detect_format(path) == "langfuse"
    rows, batches = read_all(langfuse.read, path)
    assert errors(batches) == [(1, "input_tokens")]
    assert [(r["request_id"], r["input_tokens"], r["output_tokens"]) for r in rows][1] == ("g2", 5, 6)
    assert skipped(batches) == {"Langfuse EVENT observation (not an LLM call)": 1}
