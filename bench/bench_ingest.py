"""Ingest throughput: rows/s and peak memory for CSV and JSONL logs into a fresh lake.

Usage::

    python bench/bench_ingest.py                      # 5M-row CSVs, 1M-row JSONL, in a temp dir
    python bench/bench_ingest.py --rows 1000000 --jsonl-rows 200000 --workdir /tmp/bench
    python bench/bench_ingest.py --scale 5000000 20000000 40000000 --workdir /tmp/bench

Writes three synthetic logs once (reused on later runs with the same sizes):

* ``openrouter-5000000.csv``: the OpenRouter activity export's 23 columns, a year of traffic;
* ``canonical-5000000.csv``: a generic log with canonical columns (request_id, ts, user_id, model,
  input/output tokens, finish_reason, cost_usd);
* ``generations-1000000.jsonl``: OpenRouter /api/v1/generation records, one a line.

Each file is ingested in its own process (so that the peak resident memory is that ingest's alone)
with the packaged catalog, and one line per file is printed: rows, seconds, rows/s, peak RSS.
The goal is >= 1M rows/s for CSV on 2 cores; memory must stay flat as the file grows:
``--scale N ...`` ingests the canonical CSV at each size and prints its peak RSS, to show it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

MODELS = [
    "deepseek/deepseek-v3.2-20251201",
    "google/gemini-3-flash-preview-20251217",
    "anthropic/claude-4.5-sonnet-20250929",
    "openai/gpt-4o",
    "x-ai/grok-code-fast-1",
    "qwen/qwen3-coder",
    "mystery/unlisted-model",
]
FINISH = ["stop", "tool_calls", "length", "stop", "tool_calls", "STOP", "end_turn"]


def _columns(n: int, seed: int) -> dict[str, pa.Array]:
    rng = np.random.default_rng(seed)
    serial = pa.array(np.arange(n)).cast(pa.string())
    noise = pa.array(rng.integers(0, 2**62, n)).cast(pa.string())
    ids = pc.binary_join_element_wise("gen", serial, noise, "-")
    start = np.datetime64("2025-01-01T00:00:00", "ms").astype(np.int64)
    ts = pa.array(start + np.sort(rng.integers(0, 365 * 86_400_000, n)), pa.timestamp("ms"))
    completion = rng.integers(1, 3000, n)
    users = pa.array(rng.integers(0, 50_000, n)).cast(pa.string())
    return {
        "id": ids,
        "ts": ts,
        "model": pa.array(np.array(MODELS)[rng.integers(0, len(MODELS), n)]),
        "prompt": pa.array(rng.integers(10, 100_000, n)),
        "completion": pa.array(completion),
        "reasoning": pa.array(completion // 3),
        "cached": pa.array(rng.integers(0, 5_000, n)),
        "finish": pa.array(np.array(FINISH)[rng.integers(0, len(FINISH), n)]),
        "cost": pa.array(rng.random(n) / 100),
        "user": pc.binary_join_element_wise("user-", users, ""),
        "latency": pa.array(rng.integers(100, 50_000, n)),
        "ttft": pa.array(rng.integers(50, 5_000, n)),
    }


def write_openrouter_csv(path: Path, n: int, seed: int = 1) -> None:
    """An OpenRouter activity export with ``n`` rows."""
    c = _columns(n, seed)
    rng = np.random.default_rng(seed + 1)
    table = pa.table(
        {
            "generation_id": c["id"],
            "created_at": pc.strftime(c["ts"], "%Y-%m-%d %H:%M:%S"),
            "cost_total": c["cost"],
            "cost_web_search": pa.nulls(n, pa.float64()),
            "cost_cache": pc.negate(c["cost"]),
            "cost_file_processing": pa.nulls(n, pa.float64()),
            "byok_usage_inference": pa.array(np.zeros(n, np.int64)),
            "tokens_prompt": c["prompt"],
            "tokens_completion": c["completion"],
            "tokens_reasoning": c["reasoning"],
            "tokens_cached": c["cached"],
            "model_permaslug": c["model"],
            "provider_name": pa.array(np.array(["Google", "AtlasCloud", "Anthropic"])[rng.integers(0, 3, n)]),
            "variant": pa.repeat(pa.scalar("standard"), n),
            "cancelled": pa.array(rng.random(n) < 0.01),
            "streamed": pa.array(rng.random(n) < 0.9),
            "user": c["user"],
            "finish_reason_raw": c["finish"],
            "finish_reason_normalized": c["finish"],
            "generation_time_ms": c["latency"],
            "time_to_first_token_ms": c["ttft"],
            "app_name": pa.array(np.array(["OpenClaw", "Cline", "Roo"])[rng.integers(0, 3, n)]),
            "api_key_name": pa.repeat(pa.scalar("k1"), n),
        }
    )
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def write_canonical_csv(path: Path, n: int, seed: int = 2) -> None:
    """A generic CSV log with canonical column names and ``n`` rows."""
    c = _columns(n, seed)
    table = pa.table(
        {
            "request_id": c["id"],
            "ts": pc.strftime(c["ts"], "%Y-%m-%dT%H:%M:%SZ"),
            "user_id": c["user"],
            "model": c["model"],
            "input_tokens": c["prompt"],
            "output_tokens": c["completion"],
            "finish_reason": c["finish"],
            "cost_usd": c["cost"],
        }
    )
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def write_generations_jsonl(path: Path, n: int, seed: int = 3) -> None:
    """OpenRouter generation records, one JSON object a line."""
    c = _columns(n, seed)
    created = pc.strftime(c["ts"], "%Y-%m-%dT%H:%M:%S+00:00").to_pylist()
    cols = {k: v.to_pylist() for k, v in c.items() if k != "ts"}
    with path.open("w") as handle:
        for i in range(n):
            record = {
                "id": cols["id"][i], "created_at": created[i], "model": cols["model"][i],
                "provider_name": "DeepInfra", "tokens_prompt": cols["prompt"][i],
                "tokens_completion": cols["completion"][i], "native_tokens_prompt": cols["prompt"][i],
                "native_tokens_completion": cols["completion"][i],
                "native_tokens_reasoning": cols["reasoning"][i],
                "native_tokens_cached": cols["cached"][i], "finish_reason": cols["finish"][i],
                "total_cost": cols["cost"][i], "latency": cols["latency"][i], "streamed": True,
                "cancelled": False, "external_user": cols["user"][i], "app_id": 12345,
            }  # fmt: skip
            handle.write(json.dumps(record) + "\n")


def measure(path: Path, fmt: str, lake: Path) -> dict[str, float]:
    """Ingest ``path`` into a fresh lake in this process; rows, seconds, peak RSS (MiB)."""
    from tokencensus.ingest import ingest_paths
    from tokencensus.lake import Lake

    shutil.rmtree(lake, ignore_errors=True)
    start = time.perf_counter()
    summary = ingest_paths([path], Lake(lake), fmt=fmt)
    seconds = time.perf_counter() - start
    assert summary.total.rows_written == summary.total.rows_read, str(summary)
    return {"rows": summary.total.rows_read, "seconds": seconds, "peak_mib": peak_rss_mib()}


def peak_rss_mib() -> float:
    """This process's peak resident memory. Linux's VmHWM belongs to the process image, while
    ``ru_maxrss`` survives exec: a child started after the parent wrote a 40M-row log in memory
    would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows of each CSV log")
    parser.add_argument("--jsonl-rows", type=int, default=1_000_000, help="records of the JSONL log")
    parser.add_argument("--workdir", type=Path, default=None, help="logs and lake dir (default: temp)")
    parser.add_argument("--measure", nargs=3, metavar=("PATH", "FORMAT", "LAKE"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--scale", type=int, nargs="+", metavar="ROWS", help="only the canonical CSV, at each of these sizes"
    )
    args = parser.parse_args(argv)
    if args.measure:  # the child process: one ingest, result as JSON on stdout
        path, fmt, lake = args.measure
        print(json.dumps(measure(Path(path), fmt, Path(lake))))
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="tokencensus-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    n, m = args.rows, args.jsonl_rows
    if args.scale:
        logs = [(work / f"canonical-{k}.csv", "csv", write_canonical_csv, k) for k in args.scale]
    else:
        logs = [
            (work / f"openrouter-{n}.csv", "openrouter-csv", write_openrouter_csv, n),
            (work / f"canonical-{n}.csv", "csv", write_canonical_csv, n),
            (work / f"generations-{m}.jsonl", "openrouter-json", write_generations_jsonl, m),
        ]
    for path, fmt, write, size in logs:
        if not path.exists():
            start = time.perf_counter()
            write(path, size)
            mib = path.stat().st_size / 2**20
            print(f"wrote {path} ({mib:,.0f} MiB) in {time.perf_counter() - start:.1f} s")
        out = subprocess.run(
            [sys.executable, __file__, "--measure", str(path), fmt, str(work / "lake")],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        result = json.loads(out.strip().splitlines()[-1])
        rate = result["rows"] / result["seconds"]
        print(
            f"{fmt:16s} {result['rows']:>10,} rows  {result['seconds']:6.2f} s  {rate:>12,.0f} rows/s  "
            f"peak RSS {result['peak_mib']:,.0f} MiB"
        )
    shutil.rmtree(work / "lake", ignore_errors=True)


if __name__ == "__main__":
    main()
