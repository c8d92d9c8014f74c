"""OpenAI-style logs written by others (shared/data/foreign/openai, see its MANIFEST.md): every request
lands, failed ones as error rows, streams assembled per response. Numbers are hand-counted from the
files; the readers are called directly (the lake's duplicate rule is checked end to end only)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import shared_file
from tokencensus.ingest import detect_format, ingest_paths, openai_jsonl, openai_stream
from tokencensus.ingest.format import Batch, ReadOptions
from tokencensus.lake import Lake


def read_all(module: Any, path: Path, options: ReadOptions | None = None) -> tuple[list[dict], list[Batch]]:
    """Rows (as dicts) of every batch of a reader, and the batches."""
    batches = list(module.read(path, options or ReadOptions()))
    tables = [b.table for b in batches if b.table.num_rows]
    rows = pa.concat_tables(tables, promote_options="permissive").to_pylist() if tables else []
    return rows, batches


def rejects(batches: list[Batch]) -> list[Any]:
    return [r for b in batches for r in b.rejects]


def tokens(rows: list[dict]) -> tuple[int, int]:
    return sum(r["input_tokens"] for r in rows), sum(r["output_tokens"] for r in rows)


def first_line(name: str, index: int) -> dict[str, Any]:
    """Record ``index`` of a shared OpenAI file."""
    return json.loads(shared_file(f"foreign/openai/{name}").read_text().splitlines()[index])


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("batch_api_output_mixed.jsonl", "openai-jsonl"),
        ("contrib_chat_pairs.jsonl", "openai-jsonl"),
        ("contrib_responses_api_pairs.jsonl", "openai-jsonl"),
        ("contrib_chat_stream_chunks.jsonl", "openai-stream"),
        ("contrib_responses_api_stream_final_events.jsonl", "openai-stream"),
    ],
)
def test_detected(name: str, fmt: str) -> None:
    assert detect_format(shared_file(f"foreign/openai/{name}")) == fmt


# -- openai-jsonl ----------------------------------------------------------------------------------------


def test_batch_api_output_successes_and_failures() -> None:
    rows, batches = read_all(openai_jsonl, shared_file("foreign/openai/batch_api_output_mixed.jsonl"))
    assert not rejects(batches)
    assert len(rows) == 7
    ok = [r for r in rows if r["finish_reason"] != "error"]
    failed = [r for r in rows if r["finish_reason"] == "error"]
    assert len(ok) == 5
    assert tokens(ok) == (489, 455)
    assert Counter(r["finish_reason"] for r in ok) == {"stop": 4, "length": 1}
    assert all(r["error_type"] is None for r in ok)
    assert sorted(r["error_type"] for r in failed) == ["batch_expired", "http 400: invalid_request_error"]
    assert tokens(failed) == (0, 0)
    assert {r["model_raw"] for r in failed} == {"unknown"}  # the error lines name no model
    # Identity: the line's batch request id (unique), not the body's chatcmpl id.
    ids = [r["request_id"] for r in rows]
    assert len(set(ids)) == 7
    assert "batch_req_123" in ids
    assert "batch_req_002" in ids
    assert not any(i.startswith("chatcmpl-") for i in ids)
    # Error lines carry no time: dated by the latest `created` of the others (the batch's end).
    latest = max(r["ts"] for r in ok)
    assert latest == datetime(2025, 2, 21, 15, 39, 16, tzinfo=UTC)
    assert all(r["ts"] == latest for r in failed)


def test_batch_file_of_error_lines_only_asks_for_a_date(tmp_path: Path) -> None:
    lines = shared_file("foreign/openai/batch_api_output_mixed.jsonl").read_text().splitlines()
    path = tmp_path / "errors.jsonl"
    path.write_text("\n".join(lines[5:]) + "\n")  # the two error lines
    rows, batches = read_all(openai_jsonl, path)
    assert rows == []
    found = rejects(batches)
    assert [(r.row, r.field) for r in found] == [(1, "ts"), (2, "ts")]
    assert all("--mapping" in r.reason and 'ts = "=YYYY-MM-DD"' in r.reason for r in found)
    # With the date given, they land.
    dated, batches = read_all(openai_jsonl, path, ReadOptions(mapping={"ts": "=2025-02-21"}))
    assert not rejects(batches)
    assert [r["ts"] for r in dated] == [datetime(2025, 2, 21, tzinfo=UTC)] * 2
    assert [r["finish_reason"] for r in dated] == ["error", "error"]


def test_chat_pairs() -> None:
    rows, batches = read_all(openai_jsonl, shared_file("foreign/openai/contrib_chat_pairs.jsonl"))
    assert not rejects(batches)
    assert len(rows) == 12  # the exact repeat is emitted: the lake, not the reader, dedupes
    distinct = {(r["request_id"], r["ts"], r["input_tokens"], r["output_tokens"]): r for r in rows}
    assert len(distinct) == 11
    ok = [r for r in distinct.values() if r["finish_reason"] != "error"]
    (failed,) = [r for r in distinct.values() if r["finish_reason"] == "error"]
    assert len(ok) == 10
    assert tokens(ok) == (420, 229)
    assert sum(r["tool_calls"] or 0 for r in ok) == 4
    assert Counter(r["finish_reason"] for r in ok) == {"stop": 8, "tool_calls": 2}
    assert failed["error_type"] == "http 404: model_not_found"
    assert (failed["input_tokens"], failed["output_tokens"]) == (0, 0)
    assert failed["model_raw"] == "this-model-does-not-exist"
    assert failed["request_id"].startswith("openai:")  # no response id: a content id
    assert failed["ts"] == datetime(2024, 11, 11, 23, 43, 52, tzinfo=UTC)


def test_responses_api_pairs() -> None:
    rows, batches = read_all(openai_jsonl, shared_file("foreign/openai/contrib_responses_api_pairs.jsonl"))
    assert not rejects(batches)
    assert len(rows) == 12
    ok = [r for r in rows if r["finish_reason"] != "error"]
    (failed,) = [r for r in rows if r["finish_reason"] == "error"]
    assert len(ok) == 11
    assert tokens(ok) == (312, 377)
    assert sum(r["reasoning_tokens"] for r in ok) == 9
    assert sum(r["tool_calls"] or 0 for r in ok) == 1
    assert Counter(r["finish_reason"] for r in ok) == {"stop": 10, "tool_calls": 1}
    # The pair logs no status code: the error type is the error's code alone.
    assert failed["error_type"] == "model_not_found"
    assert failed["request_id"].startswith("openai:")
    assert (failed["input_tokens"], failed["output_tokens"]) == (0, 0)


@pytest.mark.parametrize(
    "name",
    ["batch_api_output_mixed.jsonl", "contrib_chat_pairs.jsonl", "contrib_responses_api_pairs.jsonl"],
)
def test_ids_are_stable_across_reads(name: str) -> None:
    path = shared_file(f"foreign/openai/{name}")
    first, _ = read_all(openai_jsonl, path)
    again, _ = read_all(openai_jsonl, path)
    assert [r["request_id"] for r in first] == [r["request_id"] for r in again]


def test_legacy_function_call_counts_one(tmp_path: Path) -> None:
    body = {
        "id": "chatcmpl-f",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-3.5-turbo-0613",
        "choices": [
            {"finish_reason": "function_call", "message": {"function_call": {"name": "f", "arguments": "{}"}}}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3},
    }
    rows, _ = read_all(openai_jsonl, write_jsonl(tmp_path / "f.jsonl", [{"request": {}, "response": body}]))
    assert rows[0]["tool_calls"] == 1
    assert rows[0]["finish_reason"] == "function_call"


def test_stream_chunks_in_a_pairs_file_point_to_openai_stream(tmp_path: Path) -> None:
    pair = first_line("contrib_chat_pairs.jsonl", 1)
    piece = first_line("contrib_chat_stream_chunks.jsonl", 0)
    rows, batches = read_all(openai_jsonl, write_jsonl(tmp_path / "mixed.jsonl", [pair, piece]))
    assert len(rows) == 1
    (reject,) = rejects(batches)
    assert reject.row == 2
    assert "openai-stream" in reject.reason


# -- openai-stream -----------------------------------------------------------------------------------------


def test_chat_stream_chunks_assembled_per_response() -> None:
    rows, batches = read_all(openai_stream, shared_file("foreign/openai/contrib_chat_stream_chunks.jsonl"))
    assert not rejects(batches)
    assert len(rows) == 7
    assert all(r["streamed"] for r in rows)
    assert len({r["request_id"] for r in rows}) == 7
    (no_usage,) = [r for r in rows if r["request_id"] == "chatcmpl-ASYMZbRqo8Bkz53FVzaTj7W7feOn4"]
    assert (no_usage["input_tokens"], no_usage["output_tokens"]) == (0, 0)  # usage unknown: 0
    reported = [r for r in rows if r is not no_usage]
    assert tokens(reported) == (212, 235)
    assert Counter(r["finish_reason"] for r in rows) == {"stop": 5, "tool_calls": 2}
    assert [r["tool_calls"] for r in rows if r["finish_reason"] == "tool_calls"] == [2, 2]
    assert all(r["error_type"] is None for r in rows)
    first = rows[0]  # the 109-chunk, two-choice stream: one request
    assert first["request_id"] == "chatcmpl-ASYMaNc7XmbGRUNREnmvhyyISBHsv"
    assert (first["input_tokens"], first["output_tokens"]) == (26, 104)
    assert first["ts"] == datetime.fromtimestamp(1731368640, UTC)
    assert first["model_raw"] == "gpt-4o-mini-2024-07-18"


def test_responses_stream_final_events() -> None:
    path = shared_file("foreign/openai/contrib_responses_api_stream_final_events.jsonl")
    rows, batches = read_all(openai_stream, path)
    assert not rejects(batches)
    assert len(rows) == 9
    assert tokens(rows) == (194, 70)
    assert all(r["streamed"] and r["finish_reason"] == "stop" for r in rows)
    assert all(r["request_id"].startswith("resp_") for r in rows)


def chunk(rid: str, created: int, **choice: Any) -> dict[str, Any]:
    """A chat.completion.chunk of response ``rid`` with one choice-0 delta (or a usage chunk)."""
    usage = choice.pop("usage", None)
    choices = [] if usage else [{"index": 0, "delta": choice.pop("delta", {}), **choice}]
    return {
        "id": rid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": "gpt-4o-mini",
        "choices": choices,
        "usage": usage,
    }


def two_interleaved_streams() -> list[dict[str, Any]]:
    """Response A (two tool calls, usage 30/7) and B (text, usage 11/4), chunks alternating."""
    a, b = "chatcmpl-A", "chatcmpl-B"
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
    return [
        chunk(a, 100, delta={"role": "assistant", "content": None}),
        chunk(b, 101, delta={"role": "assistant", "content": ""}),
        chunk(a, 100, delta={"tool_calls": [{"index": 0, **call}]}),
        chunk(b, 101, delta={"content": "Hello"}),
        chunk(a, 100, delta={"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
        chunk(b, 101, delta={}, finish_reason="stop"),
        chunk(a, 100, delta={"tool_calls": [{"index": 1, **call, "id": "call_2"}]}),
        chunk(b, 101, usage={"prompt_tokens": 11, "completion_tokens": 4}),
        chunk(a, 100, delta={}, finish_reason="tool_calls"),
        chunk(a, 100, usage={"prompt_tokens": 30, "completion_tokens": 7}),
    ]


def test_interleaved_streams_assemble(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "chunks.jsonl", two_interleaved_streams())
    assert detect_format(path) == "openai-stream"
    rows, batches = read_all(openai_stream, path)
    assert not rejects(batches)
    got = {r["request_id"]: r for r in rows}
    assert set(got) == {"chatcmpl-A", "chatcmpl-B"}
    a, b = got["chatcmpl-A"], got["chatcmpl-B"]
    assert (a["input_tokens"], a["output_tokens"], a["finish_reason"], a["tool_calls"]) == (
        30,
        7,
        "tool_calls",
        2,
    )
    assert (b["input_tokens"], b["output_tokens"], b["finish_reason"]) == (11, 4, "stop")
    assert b["tool_calls"] is None
    assert a["ts"] == datetime.fromtimestamp(100, UTC)
    assert b["ts"] == datetime.fromtimestamp(101, UTC)
    assert list(batches[0].rows) == [1, 2]  # each request at the line of its first chunk


def test_idle_streams_are_emitted_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openai_stream, "IDLE_LINES", 3)
    monkeypatch.setattr(openai_stream, "JSON_BATCH_RECORDS", 1)  # a batch as soon as a request is done
    records = [
        chunk("chatcmpl-old", 100, delta={"role": "assistant"}, finish_reason="stop"),
        *[
            chunk("chatcmpl-new", 200, delta={"role": "assistant"} if i == 0 else {"content": "x"})
            for i in range(6)
        ],
    ]
    rows, batches = read_all(openai_stream, write_jsonl(tmp_path / "c.jsonl", records))
    assert [r["request_id"] for r in rows] == ["chatcmpl-old", "chatcmpl-new"]
    assert len(batches) == 2  # the old stream left before the end of the file


def test_reused_id_starts_another_request(tmp_path: Path) -> None:
    records = [
        chunk("chatcmpl-0", 100, delta={"role": "assistant", "content": "a"}),
        chunk("chatcmpl-0", 100, delta={}, finish_reason="stop"),
        chunk("chatcmpl-0", 100, usage={"prompt_tokens": 3, "completion_tokens": 1}),
        chunk("chatcmpl-0", 160, delta={"role": "assistant", "content": "b"}),
        chunk("chatcmpl-0", 160, delta={}, finish_reason="length"),
    ]
    rows, _ = read_all(openai_stream, write_jsonl(tmp_path / "ollama.jsonl", records))
    assert [(r["request_id"], r["finish_reason"], r["input_tokens"]) for r in rows] == [
        ("chatcmpl-0", "stop", 3),
        ("chatcmpl-0", "length", 0),
    ]


def test_responses_stream_failed_event_and_other_events(tmp_path: Path) -> None:
    response = {
        "id": "resp_x",
        "object": "response",
        "created_at": 1776481280,
        "status": "failed",
        "model": "gpt-4o-mini",
        "error": {"code": "server_error", "message": "The model failed."},
        "output": [],
        "usage": None,
    }
    records = [
        {"type": "response.created", "sequence_number": 0, "response": {**response, "status": "in_progress"}},
        {"type": "response.output_text.delta", "sequence_number": 1, "delta": "Hi"},
        {"type": "response.failed", "sequence_number": 2, "response": response},
        {"unrelated": True},
    ]
    rows, batches = read_all(openai_stream, write_jsonl(tmp_path / "events.jsonl", records))
    (row,) = rows
    assert row["request_id"] == "resp_x"
    assert row["finish_reason"] == "error"
    assert row["error_type"] == "server_error"
    assert (row["input_tokens"], row["output_tokens"]) == (0, 0)
    assert [(r.row, r.field) for r in rejects(batches)] == [(4, "record")]


def test_stream_chunk_without_id_is_rejected(tmp_path: Path) -> None:
    bad = chunk("", 100, delta={"role": "assistant"})
    rows, batches = read_all(openai_stream, write_jsonl(tmp_path / "c.jsonl", [bad]))
    assert rows == []
    assert [(r.row, r.field) for r in rejects(batches)] == [(1, "request_id")]


# -- end-to-end ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "written", "errors", "duplicates"),
    [
        ("batch_api_output_mixed.jsonl", 7, 2, 0),
        ("contrib_chat_pairs.jsonl", 11, 1, 1),
        ("contrib_responses_api_pairs.jsonl", 12, 1, 0),
        ("contrib_chat_stream_chunks.jsonl", 7, 0, 0),
        ("contrib_responses_api_stream_final_events.jsonl", 9, 0, 0),
    ],
)
def test_lands_end_to_end(tmp_path: Path, name: str, written: int, errors: int, duplicates: int) -> None:
    # end-to-end
    summary = ingest_paths([shared_file(f"foreign/openai/{name}")], Lake(tmp_path / "lake"))
    assert summary.total.rows_written == written
    assert summary.total.quarantined == 0
    assert summary.total.duplicates == duplicates
    events = Lake(tmp_path / "lake").read_events()
    assert events.column("finish_reason").cast(pa.string()).to_pylist().count("error") == errors
