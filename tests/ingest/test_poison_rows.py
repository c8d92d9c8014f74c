"""Rows that would break the report or the dashboard for good are quarantined at ingest (issue #15:
cost inf or ≥ 9.2e9 USD, token counts near the int64 limit, timestamps in year 1, 2262 or 9999)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from tests.ingest.support import StubCatalog
from tokencensus.ingest import ingest_paths
from tokencensus.lake import Lake

GOOD = ["ok-1", "2025-03-03T10:00:00Z", "gpt-4o", "100", "20", "0.01", "1200"]
NAN_COST = ["cost-nan", "2025-03-03T10:00:00Z", "gpt-4o", "1", "1", "nan", "10"]
POISON = {
    "cost-inf": (["cost-inf", "2025-03-03T10:00:00Z", "gpt-4o", "1", "1", "inf", "10"], "cost_usd"),
    "cost-huge": (["cost-huge", "2025-03-03T10:00:00Z", "gpt-4o", "1", "1", "9300000000", "10"], "cost_usd"),
    "tokens-max": (
        ["tokens-max", "2025-03-03T10:00:00Z", "gpt-4o", str(2**63 - 2), "1", "0.1", "10"],
        "input_tokens",
    ),
    "year-1": (["year-1", "0001-01-01T00:00:00Z", "gpt-4o", "1", "1", "0.1", "10"], "ts"),
    "year-2262": (["year-2262", "2262-04-11T23:47:16Z", "gpt-4o", "1", "1", "0.1", "10"], "ts"),
    "year-9999": (["year-9999", "9999-12-31T23:59:59Z", "gpt-4o", "1", "1", "0.1", "10"], "ts"),
    "latency-inf": (["latency-inf", "2025-03-03T10:00:00Z", "gpt-4o", "1", "1", "0.1", "inf"], "latency_ms"),
}


def test_poison_rows_are_quarantined_and_the_good_rows_land(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["request_id", "ts", "model", "input_tokens", "output_tokens", "cost_usd", "latency_ms"]
        )
        writer.writerow(GOOD)
        for row, _ in POISON.values():
            writer.writerow(row)
        writer.writerow(NAN_COST)
    lake = Lake(tmp_path / "lake")
    summary = ingest_paths([path], lake, catalog=StubCatalog(), fmt="csv").total
    assert (summary.rows_written, summary.quarantined) == (2, len(POISON))
    quarantine = lake.read_quarantine().to_pylist()
    fields = {q["row"]: q["field"] for q in quarantine}
    assert fields == {i + 3: field for i, (_, field) in enumerate(POISON.values())}
    landed = {
        r["request_id"]: r["cost_usd"] for r in lake.read_events(["request_id", "cost_usd"]).to_pylist()
    }
    assert landed == {"ok-1": 0.01, "cost-nan": None}  # NaN is an unknown cost, not a poison


def test_a_lake_of_extreme_but_valid_rows_reports(tmp_path: Path) -> None:
    """Values at every bound go through the engine and the report (no overflow, no abort)."""
    path = tmp_path / "edge.csv"
    rows = [
        ["a", "2000-01-01T00:00:00Z", "gpt-4o", str(10**10), str(10**10), "999999", "2591999999"],
        ["b", "2099-12-31T23:59:59Z", "gpt-4o", str(10**10), str(10**10), "999999", "1"],
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["request_id", "ts", "model", "input_tokens", "output_tokens", "cost_usd", "latency_ms"]
        )
        writer.writerows(rows)
    lake = Lake(tmp_path / "lake")
    assert ingest_paths([path], lake, catalog=StubCatalog(), fmt="csv").total.rows_written == 2
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tokencensus",
            "report",
            "--lake",
            str(lake.root),
            "--out",
            str(tmp_path / "r"),
            "--min-users",
            "0",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    volume = list(csv.DictReader((tmp_path / "r" / "figures" / "volume.csv").open()))
    assert sum(int(r["requests"]) for r in volume) == 2
