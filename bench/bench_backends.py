"""The report's computation on DuckDB and on Spark local[2], on the same lake, in one run.

Simulates N requests (default 10M) into a fresh lake (or reuses ``--lake``), then times, for each
backend, opening the lake and computing every figure of the report plus its summary
(``tokencensus.report.compute.compute``, ``min_users=50``): the work ``tokencensus report`` does
before rendering. Spark's session start is timed apart (a long-lived cluster session pays it once),
and the two backends' figures are checked equal (exact integers, 1e-9 relative floats). Prints the
seconds of each and their ratio.

Run: ``PYTHONPATH=src python bench/bench_backends.py [--requests 10000000] [--users 60000]
[--lake DIR] [--master local[2]] [--driver-memory 4g]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tokencensus.engine import connect, open_lake, spark_session
from tokencensus.lake import Lake
from tokencensus.report.compute import compute
from tokencensus.simulator import SimConfig, iter_simulate, split_chunk

MIN_USERS = 50


def build_lake(root: Path, requests: int, users: int) -> Lake:
    """Stream the simulator into a fresh lake (flat memory at any size)."""
    lake = Lake(root)
    _truth, chunks = iter_simulate(SimConfig(requests=requests, users=users))
    lake.append((split_chunk(chunk)[0] for chunk in chunks), "simulate")
    return lake


def time_report(lake: Lake, backend: str, con: object) -> tuple[float, dict[str, pd.DataFrame]]:
    start = time.perf_counter()
    tables = open_lake(lake, backend=backend, con=con)
    frames, meta = compute(tables, min_users=MIN_USERS)
    seconds = time.perf_counter() - start
    frames["_summary"] = pd.DataFrame(
        [{"requests": meta.requests, "tokens": meta.tokens, "users": meta.users}]
    )
    return seconds, frames


def differences(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> list[str]:
    """Figures whose frames differ beyond integer-exact / 1e-9-relative equality."""
    bad = []
    for name, left in a.items():
        right = b[name]
        keys = [c for c in left.columns if left[c].dtype.kind not in "f"]
        left = left.sort_values(keys).reset_index(drop=True) if keys else left
        right = right.sort_values(keys).reset_index(drop=True) if keys else right
        same = list(left.columns) == list(right.columns) and len(left) == len(right)
        for col in left.columns if same else []:
            if left[col].dtype.kind == "f":
                same &= bool(np.isclose(left[col], right[col].astype(float), rtol=1e-9, atol=0).all())
            else:
                same &= left[col].astype(str).tolist() == right[col].astype(str).tolist()
        if not same:
            bad.append(name)
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=60_000)
    parser.add_argument("--lake", type=Path, help="reuse this lake instead of simulating one")
    parser.add_argument("--master", default="local[2]", help="Spark master URL")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory (local master)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tokencensus-bench-") as tmp:
        if args.lake:
            lake = Lake(args.lake, create=False)
        else:
            start = time.perf_counter()
            lake = build_lake(Path(tmp) / "lake", args.requests, args.users)
            took = time.perf_counter() - start
            print(f"lake: {args.requests:,} requests simulated and ingested in {took:.1f} s")
        size = sum(f.stat().st_size for f in lake.event_files()) / 1024**2
        print(f"lake: {len(lake.event_files())} Parquet files, {size:,.0f} MiB")

        duck_s, duck = time_report(lake, "duckdb", connect("duckdb"))
        print(f"duckdb          report: {duck_s:7.2f} s")

        start = time.perf_counter()
        session = spark_session(master=args.master, conf={"spark.driver.memory": args.driver_memory})
        spark = connect("pyspark", session=session)
        start_s = time.perf_counter() - start
        print(f"pyspark {args.master:<8}session start: {start_s:7.2f} s")
        spark_s, sparked = time_report(lake, "pyspark", spark)
        print(f"pyspark {args.master:<8}report: {spark_s:7.2f} s")
        spark.disconnect()

    bad = differences(duck, sparked)
    print(f"same results on both: {'yes' if not bad else 'NO, differ in ' + ', '.join(bad)}")
    print(
        f"ratio spark/duckdb: {spark_s / duck_s:.1f}x on the report "
        f"({(spark_s + start_s) / duck_s:.1f}x counting the session start)"
    )


if __name__ == "__main__":
    main()
