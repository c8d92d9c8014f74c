"""Writes the malformed-input corpus (``python tests/data/malformed/make_corpus.py``).

Every case is one small file; ``cases.toml`` says what ingesting it must give. The few cases that
need a big file (a field over 16 MB) are not stored: :func:`generate` writes them on demand.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
HEADER = "request_id,ts,model,input_tokens,output_tokens,cost_usd"


def csv_row(i: int, ts: str | None = None) -> str:
    return f"r{i},{ts or f'2025-06-{1 + i % 28:02d}T10:00:00Z'},gpt-4o,{100 + i},{10 + i},0.5"


def gen(i: int, **extra: object) -> dict:
    """An OpenRouter generation record."""
    record = {
        "id": f"gen-{i}",
        "created_at": f"2025-06-{1 + i % 28:02d}T10:00:00Z",
        "model": "openai/gpt-4o",
        "tokens_prompt": 100 + i,
        "tokens_completion": 10 + i,
        "total_cost": 0.001,
    }
    record.update(extra)
    return record


def jl(records: list) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def observation(i: int) -> dict:
    """A Langfuse GENERATION observation as the public API returns it."""
    return {
        "id": f"obs-{i}",
        "traceId": f"trace-{i}",
        "type": "GENERATION",
        "startTime": f"2025-06-{1 + i % 28:02d}T10:00:00.000Z",
        "endTime": f"2025-06-{1 + i % 28:02d}T10:00:01.000Z",
        "model": "gpt-4o",
        "usageDetails": {"input": 100 + i, "output": 10 + i},
    }


def otel_span(i: int, start: object) -> dict:
    return {
        "traceId": f"{i:032x}",
        "spanId": f"{i:016x}",
        "name": "chat gpt-4o",
        "startTimeUnixNano": start,
        "endTimeUnixNano": "1750000001000000000",
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(100 + i)}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": str(10 + i)}},
        ],
    }


def otel_export(spans: list[dict]) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "app"}}]},
                "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
            }
        ]
    }


def canonical_table(n: int, start: int = 0) -> pa.Table:
    return pa.table(
        {
            "request_id": [f"p{start + i}" for i in range(n)],
            "ts": pa.array([f"2025-06-{1 + i % 28:02d}T10:00:00" for i in range(n)], pa.string()).cast(
                pa.timestamp("us")
            ),
            "model": ["gpt-4o"] * n,
            "input_tokens": pa.array([100 + i for i in range(n)], pa.int64()),
            "output_tokens": pa.array([10 + i for i in range(n)], pa.int64()),
        }
    )


def write_all(out: Path = HERE) -> None:
    out.mkdir(parents=True, exist_ok=True)

    def put(name: str, data: bytes | str) -> None:
        (out / name).write_bytes(data.encode() if isinstance(data, str) else data)

    good5 = [gen(i) for i in range(5)]
    # deeply nested JSON: one line 100,000 levels deep among good lines
    deep = '{"id": "gen-x", "extra": ' + "[" * 5_000 + "]" * 5_000 + "}"
    put("deep_nesting.jsonl", jl(good5[:3]) + deep + "\n" + jl(good5[3:]))
    put(
        "deep_nesting_array.json",
        "[\n"
        + ",\n".join(
            [json.dumps(r) for r in good5[:3]]
            + ["[" * 5_000 + "]" * 5_000]
            + [json.dumps(r) for r in good5[3:]]
        )
        + "\n]\n",
    )
    # a lone surrogate escape
    put(
        "lone_surrogate.jsonl",
        jl(good5[:2]) + '{"id": "gen-s", "model": "gpt\\ud800", "tokens_prompt": 1, '
        '"created_at": "2025-06-01T00:00:00Z"}\n' + jl(good5[2:]),
    )
    put(
        "lone_surrogate_array.json",
        "[\n"
        + ",\n".join(
            [json.dumps(r) for r in good5[:2]]
            + [
                '{"id": "gen-s", "model": "gpt\\ud800", "tokens_prompt": 1, '
                '"created_at": "2025-06-01T00:00:00Z"}'
            ]
            + [json.dumps(r) for r in good5[2:]]
        )
        + "\n]\n",
    )
    # 22-digit and negative epochs
    rows = [csv_row(i) for i in range(5)]
    rows[1] = csv_row(1, "1234567890123456789012")
    rows[3] = csv_row(3, "-1750000000")
    put("epoch_22_digits.csv", HEADER + "\n" + "\n".join(rows) + "\n")
    lines = [gen(i) for i in range(5)]
    lines[1]["created_at"] = 1234567890123456789012
    lines[3]["created_at"] = -1750000000
    put("epoch_22_digits.jsonl", jl(lines))
    # CR-only line ends (classic Mac)
    put("cr_only.csv", (HEADER + "\r" + "\r".join(csv_row(i) for i in range(5)) + "\r"))
    put("cr_only.jsonl", jl(good5).replace("\n", "\r"))
    # a duplicated Parquet column name
    t = canonical_table(5)
    dup = pa.Table.from_arrays([*t.columns, t.column("model")], names=[*t.column_names, "model"])
    pq.write_table(dup, out / "duplicate_column.parquet")
    # a bad OTel start time in one of three spans
    put(
        "otel_bad_start.json",
        json.dumps(
            otel_export(
                [
                    otel_span(1, "1750000000000000000"),
                    otel_span(2, "not-a-time"),
                    otel_span(3, "1750000000500000000"),
                    otel_span(4, "99999999999999999999999999"),
                    otel_span(5, -5),
                ]
            )
        ),
    )
    # one NUL byte
    body = [csv_row(i) for i in range(5)]
    body[2] = body[2].replace("gpt-4o", "gpt\x00-4o")
    put("nul_byte.csv", HEADER + "\n" + "\n".join(body) + "\n")
    put(
        "nul_byte.jsonl",
        jl(good5[:2]) + json.dumps(gen(2))[:-1].replace("gen-2", "gen\x00-2") + "}\n" + jl(good5[3:]),
    )
    # a garbage tail after valid lines
    garbage = bytes(range(256)) * 4
    put(
        "garbage_tail.csv",
        (HEADER + "\n" + "\n".join(csv_row(i) for i in range(5)) + "\n").encode() + garbage,
    )
    put("garbage_tail.jsonl", jl(good5).encode() + garbage)
    # a truncated gzip
    many = [gen(i) for i in range(400)]
    blob = gzip.compress(jl(many).encode(), mtime=0)
    put("truncated.jsonl.gz", blob[: len(blob) * 2 // 3])
    csv_blob = gzip.compress(
        (HEADER + "\n" + "\n".join(csv_row(i) for i in range(400)) + "\n").encode(), mtime=0
    )
    put("truncated.csv.gz", csv_blob[: len(csv_blob) * 2 // 3])
    # a corrupt Parquet page in the third of four row groups
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, canonical_table(1).schema, compression="none") as writer:
        for g in range(4):
            writer.write_table(canonical_table(100, 100 * g))
    data = bytearray(sink.getvalue())
    meta = pq.ParquetFile(io.BytesIO(bytes(data))).metadata
    col = meta.row_group(2).column(0)
    start = col.data_page_offset
    for k in range(start, start + 40):
        data[k] = 0xFF
    put("corrupt_page.parquet", bytes(data))
    # UTF-16 with a BOM
    put("utf16.csv", (HEADER + "\r\n" + "\r\n".join(csv_row(i) for i in range(5)) + "\r\n").encode("utf-16"))
    put("utf16.jsonl", jl(good5).encode("utf-16"))
    # a UTF-8 BOM before a JSON array
    put("bom_array.json", "\ufeff" + json.dumps(good5, indent=1))
    put("bom.jsonl", "\ufeff" + jl(good5))
    # an invalid ts_format in the mapping
    put("bad_ts_format.csv", HEADER + "\n" + "\n".join(csv_row(i) for i in range(5)) + "\n")
    put("bad_ts_format.toml", 'ts_format = "YYYY-MM-DD hh:mm"\n')
    # {"data": [...]} pages (streamed element by element)
    put("openrouter_data.json", json.dumps({"data": good5}, indent=1))
    put(
        "langfuse_page.json",
        json.dumps(
            {"data": [observation(i) for i in range(5)], "meta": {"page": 1, "limit": 50, "totalItems": 5}}
        ),
    )


def generate(name: str, out: Path) -> Path:
    """Write the big case ``name`` (not stored in the repository) into ``out``; its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    big = "x" * (17 << 20)
    if name == "huge_field.csv":
        rows = [csv_row(i) for i in range(5)]
        rows[2] = f"r2,2025-06-03T10:00:00Z,{big},1,1,0.5"
        path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    elif name == "huge_field.jsonl":
        records = [gen(i) for i in range(5)]
        records[2]["model"] = big
        path.write_text(jl(records))
    else:
        raise KeyError(name)
    return path


if __name__ == "__main__":
    write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print("corpus written")
