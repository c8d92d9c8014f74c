"""Time every analysis and the whole report on DuckDB over a simulated lake of N requests.

Generation (``iter_simulate`` month by month, written straight to the lake's day partitions) runs in
a subprocess so that the measured peak RSS is the analyses' own. DuckDB gets 2 threads and a memory
limit (``--memory-limit``). Retention analyses share one materialised (model, user, month) rollup,
so the events are scanned once for all of them (its build time is reported on its own line and is
part of the whole-report time).

Usage::

    PYTHONPATH=src python bench/bench_report.py --rows 100000000 --lake /tmp/bench-lake-100m

Prints one line per analysis: seconds, rows/s (input requests / seconds) and then the whole report's
seconds and peak RSS. Re-runs reuse an existing lake of the same size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

_GENERATE = r"""
import sys, time, pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
from pathlib import Path
from tokencensus.simulate import SimConfig, iter_simulate, split_chunk
rows, root = int(sys.argv[1]), Path(sys.argv[2])
users = max(1000, min(2_000_000, rows // 16))
config = SimConfig(requests=rows, users=users, weeks=52, seed=7, chunk_rows=4_000_000)
truth, chunks = iter_simulate(config)
start = time.perf_counter()
n = 0
for i, chunk in enumerate(chunks):
    events, _ = split_chunk(chunk)
    # rows are sorted by ts: each day is one contiguous slice
    day = pc.strftime(events.column("ts"), format="%Y-%m-%d").to_numpy(zero_copy_only=False)
    cuts = [0, *(j for j in range(1, len(day)) if day[j] != day[j - 1]), len(day)] if len(day) < 2 else None
    if cuts is None:
        import numpy as np
        edges = np.flatnonzero(day[1:] != day[:-1]) + 1
        cuts = [0, *edges.tolist(), len(day)]
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        d = day[lo]
        part = events.slice(lo, hi - lo)
        out = root / "events" / f"date={d}"
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, out / f"part-{i:05d}.parquet", row_group_size=1_000_000)
    n += events.num_rows
print(n, time.perf_counter() - start)
"""


def generate(rows: int, lake: Path) -> None:
    marker = lake / "_bench_rows"
    if marker.exists() and int(marker.read_text()) == rows:
        print(f"reusing {lake} ({rows:,} rows)")
        return
    if lake.exists():
        sys.exit(f"{lake} exists and is not a bench lake of {rows:,} rows; remove it or pick another --lake")
    (lake / "quarantine").mkdir(parents=True)
    proc = subprocess.run(
        [sys.executable, "-c", _GENERATE, str(rows), str(lake)], check=True, capture_output=True, text=True
    )
    n, seconds = proc.stdout.split()
    print(f"generated {int(n):,} rows in {float(seconds):.1f} s ({int(n) / float(seconds):,.0f} rows/s)")
    marker.write_text(str(rows))


def analyses(events, activity, top_n: int = 10):  # noqa: ANN001, ANN201 - bench script
    from tokencensus.analyses import agentic, concentration, costs, geography, market, retention

    return {
        "volume": market.weekly_volume(events),
        "share_open": market.share_open(events),
        "share_origin": market.share_origin(events),
        "share_size": market.share_size(events),
        "share_reasoning": market.share_reasoning(events),
        "top_models": market.top_models(events, n=top_n, weeks=4),
        "top_models_weekly": market.top_models_weekly(events, n=top_n),
        "share_author": concentration.share_author(events),
        "leaderboard": concentration.leaderboard(events, n=top_n),
        "open_concentration": concentration.open_concentration(events),
        "share_new_models": concentration.share_new_models(events, 90),
        "reasoning": agentic.reasoning_weekly(events),
        "tool_calls": agentic.tool_calls_weekly(events),
        "lengths": agentic.lengths_weekly(events),
        "continents": geography.region_share(events, "continent", "week"),
        "countries": geography.region_share(events, "country", "month"),
        "model_costs": costs.model_costs(events),
        "retention_triangle": retention.retention_triangle(events, activity),
        "retention_curves": retention.retention_curves(events, 5, activity),
        "foundational": retention.foundational_cohorts(events, activity=activity),
        "boomerangs": retention.boomerangs(events, activity=activity),
        "churn_flows": retention.churn_flows(events, activity),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--lake", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="6GB")
    args = parser.parse_args()
    lake = args.lake or Path(f"/tmp/tokencensus-bench-{args.rows}")
    generate(args.rows, lake)

    from tokencensus.analyses import costs
    from tokencensus.analyses.retention import monthly_activity
    from tokencensus.engine import open_lake

    tables = open_lake(lake)
    con = tables.con
    con.raw_sql(f"SET threads = {args.threads}")
    con.raw_sql(f"SET memory_limit = '{args.memory_limit}'")
    con.raw_sql("SET preserve_insertion_order = false")
    rows = args.rows
    results: dict[str, float] = {}
    whole = time.perf_counter()
    start = time.perf_counter()
    activity = con.create_table("activity_rollup", monthly_activity(tables.events), overwrite=True)
    results["(rollup) monthly_activity"] = time.perf_counter() - start
    for name, expr in analyses(tables.events, activity).items():
        start = time.perf_counter()
        frame = expr.to_pyarrow()
        if name == "model_costs":
            costs.fit_elasticity(frame.to_pandas())
        results[name] = time.perf_counter() - start
        print(
            f"{name:28s} {results[name]:7.2f} s  {rows / results[name]:>14,.0f} rows/s"
            f"  ({frame.num_rows} rows out)",
            flush=True,
        )
    total = time.perf_counter() - whole
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"{'(rollup) monthly_activity':28s} {results['(rollup) monthly_activity']:7.2f} s")
    print(
        f"whole report: {total:.1f} s over {rows:,} requests ({rows / total:,.0f} rows/s),"
        f" peak RSS {peak:.2f} GB"
    )
    print(json.dumps({"rows": rows, "seconds": total, "peak_rss_gb": peak, "analyses": results}))


if __name__ == "__main__":
    main()
