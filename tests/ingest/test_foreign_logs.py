"""Every log file written by others (../shared/data/foreign) lands exactly as its MANIFEST.md says.

Each expectation below was counted by hand from the file (MANIFEST.md, "what must land"): requests,
failed requests, input/output tokens, tool calls, and the records that are not requests. Each file
goes through the whole ingest (detection → reader → pipeline → lake) and a second time (nothing more
lands: every format's identity is stable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tests.conftest import shared_file
from tokencensus.ingest import detect_format, ingest_paths
from tokencensus.lake import Lake


@dataclass(frozen=True)
class Lands:
    """What must land from one file."""

    fmt: str
    rows: int
    errors: int
    tokens: tuple[int, int]  # input, output, failed requests included (they bill 0)
    tool_calls: int | None = None
    duplicates: int = 0
    skipped: int = 0
    extra: dict[str, object] = field(default_factory=dict)


OTEL = Lands("otel", rows=22, errors=1, tokens=(680, 484), skipped=1)
OTEL_LATEST = Lands("otel", rows=22, errors=1, tokens=(680, 484), tool_calls=8, skipped=1)

MANIFEST: dict[str, Lands] = {
    "otel/contrib_openai_v2_legacy.jsonl": OTEL,
    "otel/contrib_openai_v2_latest.jsonl": OTEL_LATEST,
    "otel/contrib_openai_v2_latest_batched_pretty.json": OTEL_LATEST,
    "otel/openllmetry_openai.jsonl": Lands(
        "otel", rows=22, errors=1, tokens=(680, 484), tool_calls=8, skipped=1, extra={"streamed": 7}
    ),
    "openai/contrib_chat_pairs.jsonl": Lands(
        "openai-jsonl", rows=11, errors=1, tokens=(420, 229), tool_calls=4, duplicates=1
    ),
    "openai/contrib_chat_stream_chunks.jsonl": Lands(
        "openai-stream", rows=7, errors=0, tokens=(212, 235), extra={"streamed": 7}
    ),
    "openai/contrib_responses_api_pairs.jsonl": Lands(
        "openai-jsonl", rows=12, errors=1, tokens=(312, 377), tool_calls=1, extra={"reasoning": 9}
    ),
    "openai/contrib_responses_api_stream_final_events.jsonl": Lands(
        "openai-stream", rows=9, errors=0, tokens=(194, 70)
    ),
    "openai/batch_api_output_mixed.jsonl": Lands(
        "openai-jsonl", rows=7, errors=2, tokens=(489, 455), extra={"length": 1}
    ),
    "litellm/spend_logs_payload.json": Lands(
        "litellm", rows=1, errors=0, tokens=(10, 20), extra={"cost": 0.000225, "model": "openai/gpt-4o"}
    ),
    "litellm/standard_logging_payload.json": Lands(
        "litellm-payload",
        rows=1,
        errors=0,
        tokens=(10, 20),
        extra={"cost": 0.000225, "model": "openai/gpt-4o"},
    ),
    "openrouter/generation_docs_example.json": Lands(
        "openrouter-json", rows=1, errors=0, tokens=(24, 29), extra={"cost": 0.00492}
    ),
    "openrouter/generation_sdk_docs_camelcase.json": Lands(
        "openrouter-json",
        rows=1,
        errors=0,
        tokens=(10, 25),
        extra={"reasoning": 5, "cached": 3, "user": "user-123"},
    ),
    "chat/fastchat_dummy_conversation.json": Lands("sharegpt", rows=1000, errors=0, tokens=(17_898, 14_727)),
    "chat/llamafactory_glaive_toolcall_en_demo.json": Lands(
        "sharegpt", rows=746, errors=0, tokens=(155_723, 83_668), tool_calls=211
    ),
    "chat/llamafactory_mllm_demo.json": Lands("sharegpt", rows=12, errors=0, tokens=(241, 283)),
    "langfuse/observations_api_page.json": Lands(
        "langfuse",
        rows=2,
        errors=0,
        tokens=(24 + 58, 1407 + 282),
        skipped=3,
        extra={"reasoning": 1029, "cost": 0.0009522},
    ),
}


def _sum(events: pa.Table, column: str) -> int | float:
    return pc.sum(events[column]).as_py() or 0


@pytest.mark.parametrize("relative", sorted(MANIFEST))
def test_foreign_log_lands_as_its_manifest_says(tmp_path: Path, relative: str) -> None:
    path = shared_file(f"foreign/{relative}")
    want = MANIFEST[relative]
    assert detect_format(path) == want.fmt
    lake = Lake(tmp_path / "lake")
    summary = ingest_paths([path], lake).total
    events = lake.read_events()
    assert (summary.rows_written, summary.errors, summary.quarantined) == (want.rows, want.errors, 0)
    assert summary.duplicates == want.duplicates
    assert sum(summary.skipped.values()) == want.skipped
    assert events.num_rows == want.rows
    assert (_sum(events, "input_tokens"), _sum(events, "output_tokens")) == want.tokens
    failed = events.filter(pc.equal(events["finish_reason"].cast(pa.string()), "error"))
    assert failed.num_rows == want.errors
    assert pc.all(pc.is_valid(failed["error_type"])).as_py() is not False
    ok = events.filter(pc.not_equal(events["finish_reason"].cast(pa.string()), "error"))
    assert pc.all(pc.is_null(ok["error_type"])).as_py() is not False
    if want.tool_calls is not None:
        assert _sum(events, "tool_calls") == want.tool_calls
    extra = want.extra
    if "streamed" in extra:
        assert events["streamed"].to_pylist().count(True) == extra["streamed"]
    if "reasoning" in extra:
        assert _sum(events, "reasoning_tokens") == extra["reasoning"]
    if "cached" in extra:
        assert _sum(events, "cached_tokens") == extra["cached"]
    if "cost" in extra:
        assert _sum(events, "cost_usd") == pytest.approx(extra["cost"])
    if "length" in extra:
        assert events["finish_reason"].cast(pa.string()).to_pylist().count("length") == extra["length"]
    if "user" in extra:
        assert events["user_id"].to_pylist() == [extra["user"]]
    if "model" in extra:
        assert set(events["model"].to_pylist()) == {extra["model"]}
    # the same file again: every request is found again, nothing lands twice
    again = ingest_paths([path], lake).total
    assert (again.rows_written, again.duplicates) == (0, want.rows + want.duplicates)


def test_failed_requests_say_what_failed(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    ingest_paths([shared_file("foreign/openai/batch_api_output_mixed.jsonl")], lake)
    events = lake.read_events().to_pylist()
    failed = sorted(
        (e["error_type"], e["input_tokens"], e["output_tokens"]) for e in events if e["error_type"]
    )
    assert failed == [("batch_expired", 0, 0), ("http 400: invalid_request_error", 0, 0)]
    # Batch lines carry no time: the failed ones are dated by the file's latest response
    latest = max(e["ts"] for e in events if not e["error_type"])
    assert {e["ts"] for e in events if e["error_type"]} == {latest}


def test_one_model_under_its_snapshot_and_alias_names(tmp_path: Path) -> None:
    """OpenAI responses name the dated snapshot, LiteLLM the alias: one model in the lake."""
    lake = Lake(tmp_path / "lake")
    ingest_paths([shared_file("foreign/openai/batch_api_output_mixed.jsonl")], lake)
    alias = tmp_path / "alias.csv"
    alias.write_text("request_id,ts,model,input_tokens,output_tokens\nx,2024-12-23T20:00:00Z,gpt-4o-mini,1,1\n")
    ingest_paths([alias], lake)
    events = lake.read_events(["model", "model_raw"]).to_pylist()
    models = {e["model_raw"]: e["model"] for e in events}
    assert models["gpt-4o-mini-2024-07-18"] == models["gpt-4o-mini"]


# -- reused ids ---------------------------------------------------------------------------------------


def ollama_log(path: Path, n: int = 2000) -> Path:
    """An Ollama-style OpenAI-compatible log: response ids chatcmpl-0 … chatcmpl-998 and again."""
    lines = []
    for i in range(n):
        body = {
            "id": f"chatcmpl-{i % 999}",
            "object": "chat.completion",
            "created": 1_735_000_000 + 37 * i,
            "model": "llama3.2:3b",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 10 + i % 7, "completion_tokens": 1 + i % 13, "total_tokens": 0},
        }
        lines.append(json.dumps(body))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_ollama_log_with_reused_ids_lands_whole(tmp_path: Path) -> None:
    path = ollama_log(tmp_path / "ollama.jsonl")
    lake = Lake(tmp_path / "lake")
    summary = ingest_paths([path], lake).total
    # 2,000 requests; ids repeat after 999, on the same or the next day (created every 37 s)
    assert (summary.rows_read, summary.rows_written, summary.duplicates) == (2000, 2000, 0)
    events = lake.read_events(["request_id", "ts", "input_tokens", "output_tokens"])
    assert _sum(events, "input_tokens") == sum(10 + i % 7 for i in range(2000))
    assert _sum(events, "output_tokens") == sum(1 + i % 13 for i in range(2000))
    days = pc.cast(events["ts"], pa.date32())
    pairs = {(r, d) for r, d in zip(events["request_id"].to_pylist(), days.to_pylist(), strict=True)}
    assert len(pairs) == 2000
    assert summary.collisions == sum("~" in r for r in events["request_id"].to_pylist()) > 0
    again = ingest_paths([path], lake).total
    assert (again.rows_written, again.duplicates, again.collisions) == (0, 2000, 0)
