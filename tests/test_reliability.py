"""Reliability: an ingest killed with SIGKILL at random points loses nothing and doubles nothing.

Each trial starts ``tokencensus ingest`` as its own process on four log files, kills it with
SIGKILL after a random delay (seeded, so a failure can be replayed), and kills the re-run too in
half the trials; a last run then finishes. The lake must then hold exactly the requests of an
ingest that was never interrupted, every file in it must read, no staging leftovers may remain, and
one more run must add nothing. The malformed-input corpus (tests/ingest/test_malformed.py), the
disclosure attack (tests/report/test_disclosure.py) and the scrubber's adversarial file
(tests/classify/test_scrub.py) complete the reliability suite.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tokencensus.lake import Lake
from tokencensus.simulator import SimConfig, simulate

TRIALS = 4
SEED = 20261207


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four Parquet logs of a simulated market, 160,000 requests over 26 weeks."""
    folder = tmp_path_factory.mktemp("logs")
    events = simulate(SimConfig(requests=160_000, users=5_000, weeks=26, seed=5)).events
    paths = []
    for i in range(4):
        path = folder / f"requests-{i}.parquet"
        pq.write_table(events.slice(i * 40_000, 40_000), path)
        paths.append(path)
    return paths


def _ingest(lake: Path, logs: list[Path]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "tokencensus", "ingest", "--lake", str(lake), "--format", "parquet"]
    return subprocess.Popen(
        [*cmd, *map(str, logs)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy()
    )


def _finish(lake: Path, logs: list[Path]) -> str:
    proc = _ingest(lake, logs)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    return err.decode()


def _requests(lake: Path) -> pa.Table:
    files = Lake(lake, create=False).event_files()
    tables = [pq.read_table(f, columns=["request_id", "ts", "model_raw", "input_tokens"]) for f in files]
    return pa.concat_tables(tables) if tables else pa.table({})


def test_sigkill_at_random_points_loses_and_doubles_nothing(tmp_path: Path, logs: list[Path]) -> None:
    # the kills are timed against the faster of two full ingests: a first run slowed by a cold cache
    # would time them past the end of the (faster) runs they are meant to interrupt
    took = float("inf")
    for reference in ("reference", "reference-again"):
        start = time.perf_counter()
        _finish(tmp_path / reference, logs)
        took = min(took, time.perf_counter() - start)
    want = _requests(tmp_path / "reference")
    assert want.num_rows == 160_000
    rng = random.Random(SEED)
    killed, partial = 0, 0
    for trial in range(TRIALS):
        lake = tmp_path / f"trial-{trial}"
        for _ in range(1 + trial % 2):  # every other trial is killed twice before it finishes
            proc = _ingest(lake, logs)
            time.sleep(rng.uniform(0.1, 0.9) * took)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait(timeout=60)
        if lake.exists() and 0 < _requests(lake).num_rows < want.num_rows:
            partial += 1  # killed halfway through: some files or days had landed
        _finish(lake, logs)
        got = _requests(lake)
        assert got.num_rows == want.num_rows, f"trial {trial}"
        assert pc.count_distinct(got["request_id"]).as_py() == want.num_rows
        assert sorted(got["request_id"].to_pylist()) == sorted(want["request_id"].to_pylist())
        assert not (lake / "_staging").exists()
        _finish(lake, logs)  # once more: nothing is added
        assert _requests(lake).num_rows == want.num_rows
    assert killed >= TRIALS
    assert partial >= 1
