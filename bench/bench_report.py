"""Time every analysis and the whole report on DuckDB over a simulated lake of N requests.

Generation (``iter_simulate`` month by month, written straight to the lake's day partitions) runs in
a subprocess so that the measured peak RSS is the analyses' own. DuckDB gets 2 threads and a memory
limit (``--memory-limit``). It runs the report's own compute step
(:func:`tokencensus.report.compute.compute`: the rollup passes, then every figure's analysis, then
the summary) and renders the HTML, timing each step.

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
from tokencensus.simulator import SimConfig, iter_simulate, split_chunk
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


class Progress(dict):
    """The timings dict compute() fills, printing each step as it ends (a step that fails, e.g. on
    DuckDB's memory limit, is then the one after the last line printed)."""

    def __setitem__(self, key: str, value: float) -> None:
        super().__setitem__(key, value)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(f"  done {key:26s} {value:7.2f} s  (peak RSS so far {peak:.2f} GB)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--lake", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--out", type=Path, default=None, help="report directory (default: a temp dir)")
    args = parser.parse_args()
    lake = args.lake or Path(f"/tmp/tokencensus-bench-{args.rows}")
    generate(args.rows, lake)

    import tempfile

    from tokencensus.engine import open_lake
    from tokencensus.report import build_report
    from tokencensus.report.compute import compute

    rows = args.rows
    whole = time.perf_counter()
    tables = open_lake(lake)
    tables.con.raw_sql(f"SET threads = {args.threads}")
    tables.con.raw_sql(f"SET memory_limit = '{args.memory_limit}'")
    tables.con.raw_sql("SET preserve_insertion_order = false")
    timings: dict[str, float] = Progress()
    results, meta = compute(tables, min_users=50, source=str(lake), timings=timings)
    start = time.perf_counter()
    out = args.out or Path(tempfile.mkdtemp(prefix="tokencensus-bench-report-"))
    written = build_report(results, meta, out, formats=("html",))
    timings["(render)"] = time.perf_counter() - start
    total = time.perf_counter() - whole
    for name, seconds in timings.items():
        n_out = f"  ({len(results[name])} rows out)" if name in results else ""
        print(f"{name:28s} {seconds:7.2f} s  {rows / seconds:>14,.0f} rows/s{n_out}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"whole report: {total:.1f} s over {rows:,} requests ({rows / total:,.0f} rows/s),"
        f" peak RSS {peak:.2f} GB; {written.html}"
    )
    print(json.dumps({"rows": rows, "seconds": total, "peak_rss_gb": peak, "steps": timings}))


if __name__ == "__main__":
    main()
