"""Anthropic Messages API logs: bodies, pairs, error bodies, batch results and stream events.

No Anthropic log is in ../shared/data, so the fixtures are written here, in the shapes the Messages
API documents (response body, error body, the SSE events of a stream); every expected number is
counted by hand from them (the comments show the sums).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tokencensus.errors import ConfigError
from tokencensus.ingest import anthropic, ingest_paths, openai_jsonl
from tokencensus.ingest.detect import _json_kind, detect_format
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.ingest.streams import Reject
from tokencensus.lake import Lake

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"
HAIKU = "claude-haiku-4-5-20251001"

# -- fixtures: the documented shapes ------------------------------------------------------------------

TOOL_USE_RESPONSE = {
    "id": "msg_01Aq9w938a90dw8q",
    "type": "message",
    "role": "assistant",
    "model": SONNET,
    "content": [
        {"type": "text", "text": "I'll look up the weather and the local time."},
        {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather",
         "input": {"location": "San Francisco, CA"}},
        {"type": "tool_use", "id": "toolu_01B77k21mn48pq02", "name": "get_time",
         "input": {"timezone": "America/Los_Angeles"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 472, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
              "output_tokens": 91, "service_tier": "standard"},
}  # fmt: skip
CACHED_RESPONSE = {
    "id": "msg_01Cached5kT3xWq",
    "type": "message",
    "role": "assistant",
    "model": SONNET,
    "content": [{"type": "text", "text": "The contract's termination clause requires 30 days' notice."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 21, "cache_creation_input_tokens": 1888, "cache_read_input_tokens": 3120,
              "output_tokens": 410},
}  # fmt: skip
OVERLOADED = {
    "type": "error",
    "error": {"type": "overloaded_error", "message": "Overloaded"},
    "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
}


def _message(
    mid: str, model: str, stop: str, usage: dict[str, int], content: list[Any] | None = None
) -> dict:
    return {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content or [{"type": "text", "text": "..."}],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def _request(model: str, text: str, user: str | None = None, stream: bool = False) -> dict:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 1024,
        "system": "You are a careful assistant.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
    }
    if user:
        body["metadata"] = {"user_id": user}
    if stream:
        body["stream"] = True
    return body


PAIRS = [
    # line 1: two tool calls; 472 in, 91 out
    {
        "timestamp": "2025-10-01T09:00:00Z",
        "status_code": 200,
        "request": _request(SONNET, "What is the weather in San Francisco?", user="user-7"),
        "response": TOOL_USE_RESPONSE,
        "latency_ms": 2310,
    },
    # line 2: cached prompt; 21 + 1888 + 3120 = 5029 in (3120 cached), 410 out
    {
        "timestamp": "2025-10-01T09:01:00Z",
        "status_code": 200,
        "request": _request(SONNET, "Summarise the termination clause.", user="user-7"),
        "response": CACHED_RESPONSE,
    },
    # line 3: overloaded, HTTP 529: an error row, 0 tokens, model from the request
    {
        "timestamp": "2025-10-01T09:02:00Z",
        "status_code": 529,
        "request": _request(OPUS, "Draft a reply to the landlord.", user="user-9"),
        "response": OVERLOADED,
    },
    # line 4: cut at max_tokens; 1200 in, 4096 out
    {
        "timestamp": 1759309380,  # 2025-10-01T09:03:00Z as epoch seconds
        "request": _request(HAIKU, "Write a long story.", stream=True),
        "response": _message(
            "msg_01MaxTok", HAIKU, "max_tokens", {"input_tokens": 1200, "output_tokens": 4096}
        ),
    },
    # line 5: refused; 30 in, 12 out
    {
        "timestamp": "2025-10-01T09:04:00Z",
        "request": _request(SONNET, "..."),
        "response": _message("msg_01Refusal", SONNET, "refusal", {"input_tokens": 30, "output_tokens": 12}),
    },
    # line 6: a paused turn (a server tool loop) is a finished request; 800 in, 150 out
    {
        "timestamp": "2025-10-01T09:05:00Z",
        "request": _request(SONNET, "Search the web for the release notes."),
        "response": _message(
            "msg_01Paused", SONNET, "pause_turn", {"input_tokens": 800, "output_tokens": 150}
        ),
    },
]
# Successes: 472 + 5029 + 1200 + 30 + 800 = 7531 in; 91 + 410 + 4096 + 12 + 150 = 4759 out; cached 3120.

MESSAGE_START_A = {
    "type": "message_start",
    "message": {
        "id": "msg_01StreamA",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": HAIKU,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                  "output_tokens": 1},
    },
}  # fmt: skip
MESSAGE_START_B = {
    "type": "message_start",
    "message": {
        "id": "msg_01StreamB",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": SONNET,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2048,
                  "output_tokens": 2},
    },
}  # fmt: skip
STREAM = [
    # lines 1-9: message A, a plain answer: 25 in, 15 out (message_delta's count replaces the 1)
    MESSAGE_START_A,
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
     "usage": {"output_tokens": 15}},
    {"type": "message_stop"},
    {"type": "ping"},  # a keep-alive between the streams: nothing
    # lines 10-19: message B, text then one tool call: 12 + 2048 = 2060 in (2048 cached), 89 out
    MESSAGE_START_B,
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Checking."}},
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1,
     "content_block": {"type": "tool_use", "id": "toolu_01T1x", "name": "get_weather", "input": {}}},
    {"type": "content_block_delta", "index": 1,
     "delta": {"type": "input_json_delta", "partial_json": "{\"location\": \"Paris\"}"}},
    {"type": "content_block_stop", "index": 1},
    {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
     "usage": {"output_tokens": 89}},
    {"type": "message_stop"},
]  # fmt: skip


def _write(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _read(
    path: Path, options: ReadOptions | None = None
) -> tuple[pa.Table, list[Reject], pa.Table, list[Batch]]:
    batches = list(anthropic.read(path, options or ReadOptions()))
    table = pa.concat_tables([b.table for b in batches])
    rejects = [r for b in batches for r in b.rejects]
    samples = pa.concat_tables([b.samples for b in batches if b.samples is not None])
    return table, rejects, samples, batches


def _rows(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {r["request_id"]: r for r in table.to_pylist()}


# -- bodies and pairs ---------------------------------------------------------------------------------


def test_pairs_land_with_tokens_tools_errors_and_finish_reasons(tmp_path: Path) -> None:
    table, rejects, samples, batches = _read(_write(tmp_path / "pairs.jsonl", PAIRS))
    assert rejects == []
    assert all(b.errors is None for b in batches)
    assert table.num_rows == 6
    rows = _rows(table)
    tool = rows["msg_01Aq9w938a90dw8q"]
    assert (tool["input_tokens"], tool["output_tokens"], tool["cached_tokens"]) == (472, 91, 0)
    assert (tool["finish_reason"], tool["tool_calls"], tool["error_type"]) == ("tool_calls", 2, None)
    assert tool["model_raw"] == SONNET
    assert tool["user_id"] == "user-7"
    assert tool["latency_ms"] == 2310.0
    assert tool["ts"] == datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
    cached = rows["msg_01Cached5kT3xWq"]
    assert (cached["input_tokens"], cached["cached_tokens"], cached["output_tokens"]) == (5029, 3120, 410)
    assert cached["finish_reason"] == "stop"
    failed = rows["req_011CSHoEeqs5C35K2UUqR7Fy"]
    assert failed["finish_reason"] == "error"
    assert failed["error_type"] == "http 529: overloaded_error"
    assert (failed["input_tokens"], failed["output_tokens"], failed["tool_calls"]) == (0, 0, 0)
    assert failed["model_raw"] == OPUS
    assert failed["user_id"] == "user-9"
    long = rows["msg_01MaxTok"]
    assert (long["finish_reason"], long["streamed"]) == ("length", True)
    assert long["ts"] == datetime(2025, 10, 1, 9, 3, tzinfo=UTC)
    assert rows["msg_01Refusal"]["finish_reason"] == "content_filter"
    assert rows["msg_01Paused"]["finish_reason"] == "stop"
    ok = [r for r in table.to_pylist() if r["finish_reason"] != "error"]
    assert sum(r["input_tokens"] for r in ok) == 7531
    assert sum(r["output_tokens"] for r in ok) == 4759
    assert sum(r["cached_tokens"] for r in ok) == 3120
    assert sum(r["tool_calls"] for r in table.to_pylist()) == 2
    assert set(table.column("reasoning_tokens").to_pylist()) == {0}
    # Prompt text: only in the samples, keyed by request id; never in the events.
    texts = dict(zip(samples["request_id"].to_pylist(), samples["text"].to_pylist(), strict=True))
    assert texts["msg_01Aq9w938a90dw8q"] == "What is the weather in San Francisco?"
    assert texts["req_011CSHoEeqs5C35K2UUqR7Fy"] == "Draft a reply to the landlord."
    assert "careful assistant" not in " ".join(texts.values())  # the system prompt is not a user turn
    assert "San Francisco" not in json.dumps(table.to_pylist(), default=str)


def test_bare_bodies_need_a_time_and_take_the_mapping_constant(tmp_path: Path) -> None:
    path = _write(tmp_path / "bodies.jsonl", [TOOL_USE_RESPONSE, CACHED_RESPONSE, OVERLOADED])
    table, rejects, _, _ = _read(path)
    # Messages bodies carry no time: each record is rejected, and the reason says how to date them.
    assert table.num_rows == 0
    assert [(r.row, r.field) for r in rejects] == [(1, "ts"), (2, "ts"), (3, "ts")]
    assert '--mapping with ts = "=YYYY-MM-DD"' in rejects[0].reason
    table, rejects, _, _ = _read(path, ReadOptions(mapping={"ts": "=2025-10-01"}))
    assert rejects == []
    assert table.num_rows == 3
    assert set(table.column("ts").to_pylist()) == {datetime(2025, 10, 1, tzinfo=UTC)}
    rows = _rows(table)
    assert rows["msg_01Aq9w938a90dw8q"]["tool_calls"] == 2
    assert rows["msg_01Cached5kT3xWq"]["input_tokens"] == 5029
    failed = rows["req_011CSHoEeqs5C35K2UUqR7Fy"]
    # No HTTP status logged: the error type alone. A bare error names no model.
    assert (failed["finish_reason"], failed["error_type"]) == ("error", "overloaded_error")
    assert failed["model_raw"] == anthropic.UNKNOWN_MODEL
    # ... unless the mapping names the model the log was written for
    table, _, _, _ = _read(path, ReadOptions(mapping={"ts": "=2025-10-01", "model": f"={OPUS}"}))
    assert _rows(table)["req_011CSHoEeqs5C35K2UUqR7Fy"]["model_raw"] == OPUS
    assert _rows(table)["msg_01Cached5kT3xWq"]["model_raw"] == SONNET  # a body's own model stays


def test_a_bad_ts_constant_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "bodies.jsonl", [CACHED_RESPONSE])
    with pytest.raises(ConfigError, match="ts constant"):
        list(anthropic.read(path, ReadOptions(mapping={"ts": "=last tuesday"})))


def test_records_time_wins_over_the_constant(tmp_path: Path) -> None:
    path = _write(tmp_path / "mixed.jsonl", [PAIRS[1], CACHED_RESPONSE | {"id": "msg_undated"}])
    table, rejects, _, _ = _read(path, ReadOptions(mapping={"ts": "=2025-09-30"}))
    assert rejects == []
    ts = {r["request_id"]: r["ts"] for r in table.to_pylist()}
    assert ts == {
        "msg_01Cached5kT3xWq": datetime(2025, 10, 1, 9, 1, tzinfo=UTC),
        "msg_undated": datetime(2025, 9, 30, tzinfo=UTC),
    }


def test_errors_without_ids_get_stable_content_ids(tmp_path: Path) -> None:
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests exceeded"}}
    records = [
        {"timestamp": "2025-10-01T10:00:00Z", "status_code": 429, "request": _request(OPUS, "hi"),
         "response": error},
        error,  # undated, identical twice: two requests (a burst of 429s), told apart by their lines
        error,
    ]  # fmt: skip
    path = _write(tmp_path / "errors.jsonl", records)
    options = ReadOptions(mapping={"ts": "=2025-10-01"})
    first, rejects, _, _ = _read(path, options)
    again, _, _, _ = _read(path, options)
    assert rejects == []
    assert first.column("request_id").to_pylist() == again.column("request_id").to_pylist()
    assert len(set(first.column("request_id").to_pylist())) == 3
    assert all(i.startswith("anthropic:") for i in first.column("request_id").to_pylist())
    assert first.column("error_type").to_pylist() == [
        "http 429: rate_limit_error",
        "rate_limit_error",
        "rate_limit_error",
    ]


def test_bad_usage_and_unknown_records_are_rejected_not_fatal(tmp_path: Path) -> None:
    bad = _message("msg_bad", SONNET, "end_turn", {"input_tokens": "lots", "output_tokens": 3})
    records = [
        {"timestamp": "2025-10-01T11:00:00Z", "request": {}, "response": bad},
        {"timestamp": "2025-10-01T11:01:00Z", "what": "not an anthropic record"},
        ["not", "objects"],
        PAIRS[1],
    ]
    path = _write(tmp_path / "odd.jsonl", records)
    with path.open("a") as handle:
        handle.write('{"type": "message", "trunc\n')
    table, rejects, _, _ = _read(path)
    assert table.column("request_id").to_pylist() == ["msg_01Cached5kT3xWq"]
    assert [(r.row, r.field) for r in rejects] == [
        (1, "usage"),
        (2, "record"),
        (3, "record"),
        (3, "record"),
        (5, "line"),
    ]
    assert rejects[0].reason == "usage.input_tokens is not a non-negative integer"


# -- streams ------------------------------------------------------------------------------------------


def test_two_streams_in_sequence_assemble_per_message(tmp_path: Path) -> None:
    path = _write(tmp_path / "stream.jsonl", STREAM)
    table, rejects, samples, _ = _read(path, ReadOptions(mapping={"ts": "=2025-10-02"}))
    assert rejects == []
    assert table.num_rows == 2
    a, b = table.to_pylist()
    assert (a["request_id"], a["model_raw"], a["input_tokens"], a["output_tokens"]) == (
        "msg_01StreamA",
        HAIKU,
        25,
        15,
    )
    assert (a["finish_reason"], a["tool_calls"], a["streamed"], a["cached_tokens"]) == ("stop", 0, True, 0)
    assert (b["request_id"], b["input_tokens"], b["cached_tokens"], b["output_tokens"]) == (
        "msg_01StreamB",
        2060,
        2048,
        89,
    )
    assert (b["finish_reason"], b["tool_calls"]) == ("tool_calls", 1)
    assert samples.num_rows == 0  # a stream carries no request


def test_stream_rows_are_the_message_start_lines(tmp_path: Path) -> None:
    _, _, _, batches = _read(_write(tmp_path / "s.jsonl", STREAM), ReadOptions(mapping={"ts": "=2025-10-02"}))
    assert [int(r) for b in batches for r in b.rows] == [1, 10]


def test_sse_dump_with_times_an_error_event_and_a_cut_stream(tmp_path: Path) -> None:
    def sse(event: dict, second: int) -> dict:
        return {"timestamp": f"2025-10-03T08:00:{second:02d}Z", "event": event["type"], "data": event}

    start_c = json.loads(json.dumps(MESSAGE_START_A).replace("msg_01StreamA", "msg_01StreamC"))
    start_d = json.loads(json.dumps(MESSAGE_START_B).replace("msg_01StreamB", "msg_01StreamD"))
    records = [
        # message C fails mid-stream: an error event ends it (error row, 0 tokens)
        sse(start_c, 0),
        sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}, 1),
        sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, 2),
        # message D is cut off: no message_delta, no message_stop (the log ends)
        sse(start_d, 5),
        sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}, 6),
    ]
    table, rejects, _, _ = _read(_write(tmp_path / "sse.jsonl", records))
    assert rejects == []
    c, d = table.to_pylist()
    assert c["request_id"] == "msg_01StreamC"
    assert (c["finish_reason"], c["error_type"], c["input_tokens"], c["output_tokens"]) == (
        "error",
        "overloaded_error",
        0,
        0,
    )
    assert (c["streamed"], c["model_raw"]) == (True, HAIKU)
    assert c["ts"] == datetime(2025, 10, 3, 8, 0, 0, tzinfo=UTC)
    # What the cut stream said it read is kept; how it ended is unknown.
    assert (d["finish_reason"], d["input_tokens"], d["output_tokens"], d["error_type"]) == (
        "unknown",
        2060,
        2,
        None,
    )
    assert d["ts"] == datetime(2025, 10, 3, 8, 0, 5, tzinfo=UTC)


def test_a_new_message_start_closes_an_unfinished_stream(tmp_path: Path) -> None:
    records = [MESSAGE_START_A, MESSAGE_START_B, *STREAM[10:]]
    table, rejects, _, _ = _read(
        _write(tmp_path / "s.jsonl", records), ReadOptions(mapping={"ts": "=2025-10-02"})
    )
    assert rejects == []
    assert table.column("request_id").to_pylist() == ["msg_01StreamA", "msg_01StreamB"]
    assert table.column("finish_reason").to_pylist() == ["unknown", "tool_calls"]


def test_events_outside_a_message_are_rejected(tmp_path: Path) -> None:
    records = [STREAM[6], STREAM[7], *STREAM[9:]]  # starts at a message_delta: its message_start is lost
    table, rejects, _, _ = _read(
        _write(tmp_path / "s.jsonl", records), ReadOptions(mapping={"ts": "=2025-10-02"})
    )
    assert [(r.row, r.field) for r in rejects] == [(1, "type"), (2, "type")]
    assert "message_delta outside a message" in rejects[0].reason
    assert table.column("request_id").to_pylist() == ["msg_01StreamB"]


# -- Message Batches results --------------------------------------------------------------------------


def test_batch_results(tmp_path: Path) -> None:
    records = [
        {"custom_id": "req-1", "result": {"type": "succeeded", "message": CACHED_RESPONSE}},
        {"custom_id": "req-2", "result": {"type": "errored", "error": {
            "type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: required"}}}},
        {"custom_id": "req-3", "result": {"type": "expired"}},
        {"custom_id": "req-4", "result": {"type": "canceled"}},
    ]  # fmt: skip
    table, rejects, _, _ = _read(
        _write(tmp_path / "results.jsonl", records), ReadOptions(mapping={"ts": "=2025-10-04"})
    )
    assert rejects == []
    rows = _rows(table)
    assert rows["msg_01Cached5kT3xWq"]["input_tokens"] == 5029
    assert (rows["req-2"]["finish_reason"], rows["req-2"]["error_type"]) == ("error", "invalid_request_error")
    assert (rows["req-3"]["finish_reason"], rows["req-3"]["error_type"]) == ("error", "batch_expired")
    assert (rows["req-4"]["finish_reason"], rows["req-4"]["error_type"]) == ("cancelled", None)
    assert sum(rows[k]["input_tokens"] + rows[k]["output_tokens"] for k in ("req-2", "req-3", "req-4")) == 0


# -- detection ----------------------------------------------------------------------------------------


OPENAI_CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1759309200,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
}
OPENAI_RESPONSES = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1759309200,
    "status": "completed",
    "model": "gpt-4o-mini",
    "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}],
    "usage": {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6},
}
OPENAI_ERROR = {
    "error": {"message": "The model does not exist", "type": "invalid_request_error", "code": None}
}


@pytest.mark.parametrize(
    "record",
    [
        TOOL_USE_RESPONSE,
        OVERLOADED,
        PAIRS[0],
        PAIRS[2],
        MESSAGE_START_A,
        {"event": "message_start", "data": MESSAGE_START_A},
        {"custom_id": "req-1", "result": {"type": "succeeded", "message": CACHED_RESPONSE}},
        {"custom_id": "req-3", "result": {"type": "expired"}},
        [TOOL_USE_RESPONSE],
    ],
)
def test_anthropic_shapes_are_detected(record: Any) -> None:
    assert _json_kind(record) == "anthropic"


@pytest.mark.parametrize(
    "record",
    [
        OPENAI_CHAT,
        OPENAI_RESPONSES,
        {"timestamp": "2025-10-01T00:00:00Z", "request": {"model": "gpt-4o-mini"}, "response": OPENAI_CHAT},
        {"request": {"model": "gpt-4o-mini"}, "response": OPENAI_RESPONSES},
        {"request": {"model": "gpt-4o-mini"}, "response": OPENAI_ERROR, "status_code": 404},
        {"id": "batch_req_1", "custom_id": "r1", "response": {"status_code": 200, "body": OPENAI_CHAT}},
    ],
)
def test_openai_shapes_are_not_taken(record: Any) -> None:
    assert not anthropic.looks_like(record)
    assert _json_kind(record) == "openai-jsonl"


def test_an_anthropic_pair_would_pass_openai_looks_like_so_order_matters() -> None:
    assert openai_jsonl.looks_like(PAIRS[0])  # why detect checks anthropic first
    assert _json_kind(PAIRS[0]) == "anthropic"


def test_detect_format_on_files(tmp_path: Path) -> None:
    assert detect_format(_write(tmp_path / "pairs.jsonl", PAIRS)) == "anthropic"
    assert detect_format(_write(tmp_path / "stream.jsonl", STREAM)) == "anthropic"
    array = tmp_path / "bodies.json"
    array.write_text(json.dumps([TOOL_USE_RESPONSE, CACHED_RESPONSE]))
    assert detect_format(array) == "anthropic"


def test_end_to_end_totals(tmp_path: Path) -> None:
    # end-to-end: rows written and errors, through detection, the pipeline and the lake
    path = _write(tmp_path / "pairs.jsonl", PAIRS + STREAM[:8])
    lake = Lake(tmp_path / "lake")
    ingest_paths([path], lake, mapping={"ts": "=2025-10-02"})
    table = lake.read_events()
    assert table.num_rows == 7  # 6 pair records + stream A
    assert table.column("finish_reason").cast(pa.string()).to_pylist().count("error") == 1
    assert sum(table.column("input_tokens").to_pylist()) == 7531 + 25
    assert sum(table.column("output_tokens").to_pylist()) == 4759 + 15
    again = ingest_paths([path], lake, mapping={"ts": "=2025-10-02"}).total
    assert (again.rows_written, again.duplicates) == (0, 7)  # the identity is stable
