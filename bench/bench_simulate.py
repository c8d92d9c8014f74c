"""Throughput and peak memory of the simulator.

Each measurement runs in a fresh subprocess so that its peak RSS is its own:

* ``simulate``: the whole table in memory (``simulate()``, events + categories);
* ``stream``: ``iter_simulate()`` chunks consumed and dropped (how the demo and 100M-row runs use it).

Usage: ``PYTHONPATH=src python bench/bench_simulate.py [--sizes 1000000 10000000] [--modes simulate stream]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_CHILD = r"""
import json, resource, sys, time
from tokencensus.catalog import load_catalog
from tokencensus.simulator import SimConfig, iter_simulate, simulate

requests, mode = int(sys.argv[1]), sys.argv[2]
catalog = load_catalog().table
config = SimConfig(requests=requests)
start = time.perf_counter()
if mode == "simulate":
    sim = simulate(config, catalog)
    rows, nbytes, users = sim.events.num_rows, sim.events.nbytes, len(sim.truth.models)
else:
    truth, chunks = iter_simulate(config, catalog)
    rows = nbytes = 0
    for chunk in chunks:
        rows += chunk.num_rows
        nbytes = max(nbytes, chunk.nbytes)
    users = len(truth.models)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
result = {"rows": rows, "seconds": seconds, "peak_rss": peak, "arrow_bytes": nbytes, "models": users}
print(json.dumps(result))
"""


def measure(requests: int, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(requests), mode], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--modes", nargs="+", default=["simulate", "stream"], choices=["simulate", "stream"])
    args = parser.parse_args()
    print(f"{'rows':>12} {'mode':>9} {'seconds':>8} {'rows/s':>12} {'peak RSS':>10} {'Arrow':>10}")
    for size in args.sizes:
        for mode in args.modes:
            r = measure(size, mode)
            arrow = "table" if mode == "simulate" else "max chunk"
            print(
                f"{r['rows']:>12,} {mode:>9} {r['seconds']:>8.2f} {r['rows'] / r['seconds']:>12,.0f} "
                f"{r['peak_rss'] / 2**20:>8,.0f}MB {r['arrow_bytes'] / 2**20:>8,.0f}MB ({arrow})"
            )


if __name__ == "__main__":
    main()
