"""Time the demo at its default size: seconds per step, total wall time and peak memory.

Run: python bench/bench_demo.py [--requests N] [--users N]
Goal (issue 2): under 2 minutes on 2 cores at >= 1M requests, >= 50k users, >= 150 models.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from tokencensus.demo import run_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=60_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_demo(Path(tmp), requests=args.requests, users=args.users, log=lambda _m: None)
        wall = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    for step, seconds in result.seconds.items():
        print(f"{step:>10}: {seconds:6.2f} s  ({args.requests / seconds:,.0f} rows/s)")
    print(f"{'total':>10}: {wall:6.2f} s for {args.requests:,} requests; peak RSS {peak_gib:.2f} GiB")


if __name__ == "__main__":
    main()
