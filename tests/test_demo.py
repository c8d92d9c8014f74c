"""End to end: the demo and the ingest → report commands, through the real CLI."""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import pandas as pd
import pyarrow.compute as pc
import pytest

from tests.conftest import shared_file
from tokencensus.demo import run_demo
from tokencensus.lake import Lake

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", re.I)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokencensus", *args], capture_output=True, text=True, timeout=600
    )


def test_demo_command_writes_an_offline_report(tmp_path):
    out = cli("demo", "--demo-out", str(tmp_path), "--requests", "150000", "--users", "15000")
    assert out.returncode == 0, out.stderr
    html = tmp_path / "report.html"
    assert out.stdout.strip() == f"Report: {html}"
    text = html.read_text()
    assert not EXTERNAL.search(text)
    figures = (
        "volume",
        "share_open",
        "share_origin",
        "share_size",
        "share_reasoning",
        "share_category",
        "top_models",
    )
    for figure in figures:
        assert f'data-chart="chart-{figure}"' in text
        assert (tmp_path / "figures" / f"{figure}.csv").exists()
    assert "150K" in text  # the summary's request count
    # the demo went through ingest: every simulated request landed once
    assert Lake(tmp_path / "lake").read_events(["request_id"]).num_rows == 150_000


def test_demo_twice_starts_afresh(tmp_path):
    first = run_demo(tmp_path, requests=20_000, users=3_000, log=lambda _m: None)
    second = run_demo(tmp_path, requests=20_000, users=3_000, log=lambda _m: None)
    assert first.ingest.total.rows_written == second.ingest.total.rows_written == 20_000
    assert first.report.html.read_bytes() == second.report.html.read_bytes()  # deterministic


@pytest.mark.slow
def test_demo_default_size(default_demo):
    """The README's demo at its default size: >= 1M requests, >= 50k users, >= 150 models."""
    result = default_demo
    tmp_path = result.out_dir
    events = Lake(tmp_path / "lake").read_events(["user_id", "model"])
    assert events.num_rows >= 1_000_000
    assert pc.count_distinct(events["user_id"]).as_py() >= 50_000
    assert pc.count_distinct(events["model"]).as_py() >= 150
    # the category section is complete over the study's window: every monthly category cell from
    # November 2024 clears the floor (the thin history months before it may not), and the shares
    # are corrected with the errors measured on the demo's labelled sample (headlined)
    figures = tmp_path / "figures"
    monthly = pd.read_csv(figures / "share_category.csv")
    assert monthly["month"].nunique() >= 12
    assert monthly["segment"].nunique() == 16
    assert not monthly[monthly["month"] >= "2024-11-01"]["suppressed"].any()
    history = {"2024-06-01", "2024-07-01", "2024-08-01", "2024-09-01", "2024-10-01"}
    assert set(monthly[monthly["suppressed"]]["month"]) <= history
    corrected = pd.read_csv(figures / "category_corrected.csv")
    assert not corrected["suppressed"].any()
    assert set(corrected["headlined"]) == {"corrected"}
    assert corrected["corrected_share"].sum() == pytest.approx(1.0, abs=1e-6)
    print(f"demo seconds: {result.seconds}")


def test_ingest_then_report_on_the_real_openrouter_export(tmp_path):
    sample = shared_file("openrouter/activity_export_sample.csv")
    lake, report_dir = tmp_path / "lake", tmp_path / "report"
    out = cli("ingest", str(sample), "--lake", str(lake))
    assert out.returncode == 0, out.stderr
    with sample.open(newline="") as handle:
        n_rows = sum(1 for _ in csv.DictReader(handle))
    written = int(re.search(r"([\d,]+) requests written", out.stdout).group(1).replace(",", ""))
    quarantined = int(re.search(r"([\d,]+) quarantined", out.stdout).group(1).replace(",", ""))
    assert written + quarantined == n_rows
    again = cli("ingest", str(sample), "--lake", str(lake))
    assert " 0 requests written" in again.stdout
    assert f"{written:,} duplicates skipped" in again.stdout

    # an account export carries no user ids: every cell is under any floor k >= 1, so publish with k = 0
    out = cli("report", "--lake", str(lake), "--out", str(report_dir), "--min-users", "0", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert (report_dir / "report.json").exists()
    volume = list(csv.DictReader((report_dir / "figures" / "volume.csv").open()))
    assert sum(int(r["requests"]) for r in volume) == written
