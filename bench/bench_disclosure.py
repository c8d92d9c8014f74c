"""What the privacy floor costs and what it protects: primary suppression alone vs complementary.

Runs the demo (simulate → ingest → classify → report) once into ``--out``, computes the report's
figures at each ``--min-users`` and prints, per floor: the sensitive cells (under the floor), what the
linear attack (:func:`tokencensus.report.disclosure.audit`) solves for when only they are hidden
(cells pinned to within ±50%, and how many exactly), what :func:`~tokencensus.report.disclosure.protect`
hides on top and how long it takes, and what the attack still solves for after it (the goal: 0).

Usage::

    PYTHONPATH=src python bench/bench_disclosure.py --requests 1000000 --users 60000 --min-users 50 200
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np

from tokencensus.demo import run_demo
from tokencensus.engine import open_lake
from tokencensus.lake import Lake
from tokencensus.report.compute import compute
from tokencensus.report.data import FIGURES, _ordered
from tokencensus.report.disclosure import Cells, audit, protect, relations
from tokencensus.report.privacy import below_floor


def measure(lake: Path, k: int) -> None:
    results, _ = compute(open_lake(Lake(lake, create=False)), min_users=k)
    frames = {f.id: _ordered(f, results[f.id]) for f in FIGURES if f.id in results}
    cells = Cells(frames)
    rels = relations(cells).relations
    sensitive = below_floor(cells.values("users"), k)
    alone = audit(cells, rels, sensitive, sensitive)
    start = time.perf_counter()
    got = protect(frames, k)
    seconds = time.perf_counter() - start
    hidden = np.concatenate([got.hidden[fid] for fid in frames])
    # protect() widens sensitivity to every copy of a sensitive quantity: count its own view
    after = audit(cells, rels, hidden, sensitive)
    pinned = Counter(e.figure for e in alone)
    extra = Counter(cells.where(int(c))[0] for c in np.flatnonzero(hidden & ~sensitive))
    print(
        f"k={k}: {len(rels):,} relations over {cells.n:,} cells; {int(sensitive.sum()):,} sensitive\n"
        f"  floor alone: {len(alone)} pinned within ±50% ({sum(e.low == e.high for e in alone)} exactly)"
        f" {dict(pinned.most_common())}\n"
        f"  complementary: {int((hidden & ~sensitive).sum()):,} more cells hidden in {seconds:.2f} s;"
        f" {dict(extra.most_common())}\n"
        f"  pinned after: {len(after)}; left for the summary: {len(got.exposures)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-users", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-disclosure"))
    args = parser.parse_args()
    run_demo(args.out, requests=args.requests, users=args.users, seed=args.seed, log=lambda _m: None)
    for k in args.min_users:
        measure(args.out / "lake", k)


if __name__ == "__main__":
    main()
