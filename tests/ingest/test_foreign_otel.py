"""The OpenTelemetry reader on GenAI spans written by other projects' instrumentations.

The files (../shared/data/foreign/otel, see its MANIFEST.md) are the same recorded OpenAI calls
replayed through opentelemetry-python-contrib's openai-v2 instrumentation (default and latest
semantic conventions) and through traceloop's OpenLLMetry: 23 spans each, of which 20 chat spans with
usage (680/484 tokens), 1 streamed chat span without usage, 1 failed span (404) and 1 embeddings span.
Numbers below were counted by hand from the files. The reader is called directly (the batches'
tables concatenated); the one end-to-end check is marked.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import shared_file
from tokencensus.errors import InputError
from tokencensus.ingest import ingest_paths
from tokencensus.ingest.detect import detect_format
from tokencensus.ingest.format import ReadOptions
from tokencensus.ingest.otel import hex_id, read, tool_calls
from tokencensus.lake import Lake

LEGACY = "foreign/otel/contrib_openai_v2_legacy.jsonl"
LATEST = "foreign/otel/contrib_openai_v2_latest.jsonl"
PRETTY = "foreign/otel/contrib_openai_v2_latest_batched_pretty.json"
OPENLLMETRY = "foreign/otel/openllmetry_openai.jsonl"
ALL = (LEGACY, LATEST, PRETTY, OPENLLMETRY)
WITH_TOOL_LISTS = (LATEST, PRETTY, OPENLLMETRY)

# The four requests that end in two get_current_weather calls each (their response ids, which the
# reader keeps nowhere: they only pick the spans out here).
TOOL_RESPONSES = {
    "chatcmpl-ASYMdbuQwnGMCODejEnbp2ufs6WgR",
    "chatcmpl-ASYMbACebDoWcuraMEWQhU48q4dAp",
    "chatcmpl-ASYMW6w3m9qqpHUVhYTbQbw61zMqA",
    "chatcmpl-ASYMU9Ntix7ePttk0MSuerJstef6U",
}
PROMPT = "Say this is a test"  # the user message of most recorded calls
ID = re.compile(r"[0-9a-f]{32}:[0-9a-f]{16}")


def _read(path: Path) -> tuple[pa.Table, Counter[str], list[Any]]:
    """(rows, skipped counts, batches) of one file."""
    batches = list(read(path, ReadOptions()))
    skipped: Counter[str] = Counter()
    for b in batches:
        skipped.update(b.skipped)
        assert not b.rejects
        assert b.errors is None
    return pa.concat_tables([b.table for b in batches]), skipped, batches


def _rows(path: Path) -> list[dict[str, Any]]:
    return _read(path)[0].to_pylist()


def _ids_by_response(path: Path) -> dict[str, list[str]]:
    """request_id (``<traceId>:<spanId>``) of each span, grouped by its gen_ai.response.id."""
    out: dict[str, list[str]] = {}
    for doc in _documents(path):
        for rs in doc["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    attrs = {a["key"]: a["value"] for a in span["attributes"]}
                    rid = attrs.get("gen_ai.response.id", {}).get("stringValue")
                    out.setdefault(rid, []).append(f"{span['traceId']}:{span['spanId']}")
    return out


def _documents(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    if path.suffix == ".json":
        return [json.loads(text)]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("name", ALL)
def test_every_chat_span_lands_once(name: str) -> None:
    table, skipped, _ = _read(shared_file(name))
    rows = table.to_pylist()
    assert len(rows) == 22
    assert sum(r["input_tokens"] for r in rows) == 680
    assert sum(r["output_tokens"] for r in rows) == 484
    assert dict(skipped) == {"embeddings span (not a chat request)": 1}
    ids = [r["request_id"] for r in rows]
    assert len(set(ids)) == 22
    assert all(ID.fullmatch(i) for i in ids)
    # gen_ai.response.id is not identity (five spans reuse chatcmpl-ASYMQRl3...), and is kept nowhere.
    assert not any("chatcmpl-" in str(v) for r in rows for v in r.values())
    assert "response_id" not in table.column_names


@pytest.mark.parametrize("name", ALL)
def test_the_failed_span_is_an_error_row(name: str) -> None:
    rows = _rows(shared_file(name))
    errors = [r for r in rows if r["finish_reason"] == "error"]
    assert len(errors) == 1
    (error,) = errors
    assert error["model_raw"] == "this-model-does-not-exist"
    assert error["error_type"] == "NotFoundError"
    assert (error["input_tokens"], error["output_tokens"]) == (0, 0)
    assert all(r["error_type"] is None for r in rows if r is not error)


@pytest.mark.parametrize("name", ALL)
def test_a_stream_without_usage_is_a_request_with_zero_tokens(name: str) -> None:
    path = shared_file(name)
    (span,) = _ids_by_response(shared_file(LATEST if name == PRETTY else name))[
        "chatcmpl-ASYMZbRqo8Bkz53FVzaTj7W7feOn4"
    ]
    row = {r["request_id"]: r for r in _rows(path)}[span]
    assert row["model_raw"] == "gpt-4-0613"
    assert (row["input_tokens"], row["output_tokens"]) == (0, 0)
    assert row["finish_reason"] != "error"


@pytest.mark.parametrize("name", WITH_TOOL_LISTS)
def test_tool_calls_are_counted_from_the_output(name: str) -> None:
    path = shared_file(name)
    by_id = {r["request_id"]: r["tool_calls"] for r in _rows(path)}
    spans = _ids_by_response(shared_file(LATEST if name == PRETTY else name))
    tool_spans = {s for rid in TOOL_RESPONSES for s in spans[rid]}
    assert len(tool_spans) == 4
    assert {by_id[s] for s in tool_spans} == {2}  # two calls each, not 1 per tool_calls finish
    assert sum(v or 0 for v in by_id.values()) == 8
    assert all(v is None for s, v in by_id.items() if s not in tool_spans)


def test_legacy_spans_list_no_tool_calls() -> None:
    # Default conventions without content capture: the calls are not in the span (the pipeline
    # counts 1 per tool_calls finish; only two of the four say so, the streamed ones have no finish).
    rows = _rows(shared_file(LEGACY))
    assert all(r["tool_calls"] is None for r in rows)
    assert Counter(r["finish_reason"] for r in rows)["tool_calls"] == 2


def test_streamed_flag_from_openllmetry() -> None:
    rows = _rows(shared_file(OPENLLMETRY))
    assert Counter(r["streamed"] for r in rows) == {True: 7, False: 15}


@pytest.mark.parametrize("name", [LEGACY, LATEST])
def test_openai_v2_writes_no_streaming_flag(name: str) -> None:
    assert {r["streamed"] for r in _rows(shared_file(name))} == {None}


def test_batched_pretty_document_reads_like_the_lines() -> None:
    lines = sorted(_rows(shared_file(LATEST)), key=lambda r: r["request_id"])
    pretty = sorted(_rows(shared_file(PRETTY)), key=lambda r: r["request_id"])
    assert lines == pretty
    assert detect_format(shared_file(PRETTY)) == "otel"


def test_fields_of_one_span() -> None:
    rows = {r["request_id"]: r for r in _rows(shared_file(OPENLLMETRY))}
    (span,) = _ids_by_response(shared_file(OPENLLMETRY))["chatcmpl-AbMH70fQA9lMPIClvBPyBSjqJBm9F"]
    row = rows[span]
    assert row["model_raw"] == "gpt-4o-mini-2024-07-18"
    assert row["provider"] == "openai"
    assert (row["input_tokens"], row["output_tokens"], row["finish_reason"]) == (12, 12, "stop")
    assert row["app"] is not None
    assert row["latency_ms"] > 0


def test_prompt_text_goes_to_the_samples_only() -> None:
    _, _, batches = _read(shared_file(LATEST))
    samples = [t for b in batches for t in b.samples.column("text").to_pylist()]
    assert sum(PROMPT in t for t in samples) >= 10
    for b in batches:
        for table in (b.table, b.records):
            for column in table.columns:
                assert not any(PROMPT in str(v) for v in column.to_pylist())


# -- other encodings of the same spans ------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


_STATUS = {0: "STATUS_CODE_UNSET", 1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}


def _protobuf(value: Any, scopes: str) -> Any:
    """An OTLP/JSON value as ``MessageToJson(preserving_proto_field_name=True)`` writes it: protobuf
    field names, ids as base64, the status code as its enum name."""
    if isinstance(value, list):
        return [_protobuf(v, scopes) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        name = scopes if key == "scopeSpans" else _snake(key)
        if key in ("traceId", "spanId", "parentSpanId") and item:
            item = base64.b64encode(bytes.fromhex(item)).decode()
        elif key == "code" and isinstance(item, int):
            item = _STATUS[item]
        out[name] = _protobuf(item, scopes)
    return out


@pytest.mark.parametrize("scopes", ["scope_spans", "instrumentation_library_spans"])
def test_protobuf_field_names_and_base64_ids(tmp_path: Path, scopes: str) -> None:
    source = shared_file(LATEST)
    converted = [_protobuf(doc, scopes) for doc in _documents(source)]
    assert "resource_spans" in converted[0]
    assert "traceId" not in json.dumps(converted)
    path = tmp_path / "traces_proto.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in converted))
    assert detect_format(path) == "otel"
    original = sorted(_rows(source), key=lambda r: r["request_id"])
    proto = sorted(_rows(path), key=lambda r: r["request_id"])
    assert proto == original  # same rows, same hex ids, same tokens, tools, error row
    assert sum(r["input_tokens"] for r in proto) == 680
    assert sum(r["output_tokens"] for r in proto) == 484


def test_hex_id() -> None:
    trace = "5b8efff798038103d269b633813fc60c"
    assert hex_id(base64.b64encode(bytes.fromhex(trace)).decode()) == trace
    assert hex_id(base64.urlsafe_b64encode(bytes.fromhex(trace)).decode().rstrip("=")) == trace
    assert hex_id("5B8EFFF798038103D269B633813FC60C") == "5b8efff798038103d269b633813fc60c"
    assert hex_id(base64.b64encode(bytes.fromhex("b49f54b4bb8e393b")).decode()) == "b49f54b4bb8e393b"
    assert hex_id("a1") == "a1"
    assert hex_id(None) == ""


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_compressed_copies(tmp_path: Path, suffix: str) -> None:
    source = shared_file(OPENLLMETRY)
    path = tmp_path / f"traces.jsonl{suffix}"
    if suffix == ".gz":
        path.write_bytes(gzip.compress(source.read_bytes()))
    else:
        if not pa.Codec.is_available("zstd"):
            pytest.skip("pyarrow built without zstd")
        with pa.CompressedOutputStream(str(path), "zstd") as out:
            out.write(source.read_bytes())
    assert detect_format(path) == "otel"
    assert sorted(_rows(path), key=lambda r: r["request_id"]) == sorted(
        _rows(source), key=lambda r: r["request_id"]
    )


# -- files that hold no GenAI span ----------------------------------------------------------------------


def _http_span(span_id: str) -> dict[str, Any]:
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": span_id,
        "name": "GET /health",
        "kind": 2,
        "startTimeUnixNano": "1748858400000000000",
        "endTimeUnixNano": "1748858400001000000",
        "attributes": [
            {"key": "http.request.method", "value": {"stringValue": "GET"}},
            {"key": "http.response.status_code", "value": {"intValue": "200"}},
        ],
        "status": {},
    }


@pytest.mark.parametrize(
    ("documents", "found"),
    [
        (
            [
                {"resourceSpans": [{"scopeSpans": [{"spans": [_http_span(f"00f067aa0ba902b{i}")]}]}]}
                for i in range(3)
            ],
            "3 span(s) in 3 OTLP trace export(s)",
        ),
        ([{"resourceSpans": []}], "0 span(s) in 1 OTLP trace export(s)"),
    ],
    ids=["http-only", "empty-export"],
)
def test_no_genai_span_is_an_input_error(tmp_path: Path, documents: list[Any], found: str) -> None:
    path = tmp_path / "http.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in documents))
    with pytest.raises(InputError) as caught:
        list(read(path, ReadOptions()))
    message = str(caught.value)
    assert str(path) in message
    assert found in message
    assert "gen_ai" in message


def test_http_spans_beside_genai_spans_are_skipped(tmp_path: Path) -> None:
    source = shared_file(LEGACY)
    extra = {"resourceSpans": [{"scopeSpans": [{"spans": [_http_span("00f067aa0ba902b7")]}]}]}
    path = tmp_path / "mixed.jsonl"
    path.write_text(source.read_text() + json.dumps(extra) + "\n")
    table, skipped, _ = _read(path)
    assert table.num_rows == 22
    assert skipped["embeddings span (not a chat request)"] == 1
    assert sum(skipped.values()) == 2  # and the HTTP span, said so


# -- tool calls in the other places instrumentations list them ----------------------------------------


def test_tool_calls_from_openllmetry_attributes_and_choice_events() -> None:
    attrs = {
        "gen_ai.completion.0.finish_reason": "tool_calls",
        "gen_ai.completion.0.tool_calls.0.id": "call_a",
        "gen_ai.completion.0.tool_calls.0.name": "get_current_weather",
        "gen_ai.completion.0.tool_calls.0.arguments": "{}",
        "gen_ai.completion.0.tool_calls.1.id": "call_b",
        "gen_ai.completion.0.tool_calls.1.name": "get_current_weather",
    }
    assert tool_calls(attrs, None) == 2
    event = {
        "name": "gen_ai.choice",
        "attributes": [
            {"key": "finish_reason", "value": {"stringValue": "tool_calls"}},
            {
                "key": "message",
                "value": {
                    "kvlistValue": {
                        "values": [
                            {
                                "key": "tool_calls",
                                "value": {
                                    "arrayValue": {
                                        "values": [
                                            {"kvlistValue": {"values": [{"key": "id", "value": {}}]}},
                                            {"kvlistValue": {"values": [{"key": "id", "value": {}}]}},
                                            {"kvlistValue": {"values": [{"key": "id", "value": {}}]}},
                                        ]
                                    }
                                },
                            }
                        ]
                    }
                },
            },
        ],
    }
    assert tool_calls({}, [event]) == 3
    assert tool_calls({"gen_ai.output.messages": "[]"}, None) is None  # none listed: left to the finish


def test_end_to_end_totals(tmp_path: Path) -> None:
    # end-to-end
    summary = ingest_paths([shared_file(OPENLLMETRY)], Lake(tmp_path / "lake"))
    assert summary.total.rows_written == 22
    assert summary.total.errors == 1
