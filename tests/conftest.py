"""Shared fixtures: small hand-made events and catalog tables whose totals are worked out by hand."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IN_CI = bool(os.environ.get("CI"))


def shared_file(relative: str) -> Path:
    """A file of ../shared/data; skipped when absent locally, a failure in CI."""
    path = SHARED_DATA / relative
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing in CI; shared/ must sit beside the checkout")
        pytest.skip(f"{path} not present")
    return path


def run(expr) -> pd.DataFrame:
    """Execute an analysis; weeks come back as datetime.date whatever the backend returns."""
    frame = expr.to_pandas()
    if "week" in frame:
        frame["week"] = pd.to_datetime(frame["week"]).dt.date
    return frame


def ts(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def tiny_catalog() -> pa.Table:
    """Four models, one per segment, plus the explicit unknown row."""
    return tiny_catalog_table()


def tiny_catalog_table() -> pa.Table:
    """:func:`tiny_catalog`, for fixtures of a wider scope."""
    return pa.table(
        {
            "slug": ["cn/open-large", "eu/open-small", "us/closed", "us/closed-reasoner", "unknown"],
            "name": ["CN Open Large", "EU Open Small", "US Closed", "US Closed Reasoner", "Unknown"],
            "author": ["cn", "eu", "us", "us", "unknown"],
            "open_weights": pa.array([True, True, False, False, None]),
            "origin": ["CN", "EU", "US", "US", "unknown"],
            "params_b": pa.array([671.0, 8.0, None, None, None]),
            "active_params_b": pa.array([37.0, None, None, None, None], pa.float64()),
            "size_class": ["large", "small", "unknown", "unknown", "unknown"],
            "reasoning": [True, False, False, True, False],
            "tools": [True, False, True, True, False],
            "release_date": pa.array([date(2025, 1, 20)] * 4 + [None], pa.date32()),
            "input_price": pa.array([0.5, 0.1, 3.0, 10.0, None]),
            "output_price": pa.array([2.0, 0.2, 15.0, 40.0, None]),
            "context_length": pa.array([128000, 32000, 200000, 200000, None], pa.int64()),
        }
    )


@pytest.fixture
def tiny_events() -> pa.Table:
    """Nine rows (13 requests) over two weeks (Mon 2025-06-02 and Mon 2025-06-09), hand-checkable.

    Week 1: cn/open-large 100+20, eu/open-small 50+10, us/closed 200+40, mystery 30+0
    Week 2: cn/open-large 300+60 (x2 requests), us/closed-reasoner 100+100 (reasoning 80),
            us/closed 50+10, eu/open-small 20+0 (pre-aggregated, 5 requests, no user)
    """
    rows = [
        ("r1", ts(2025, 6, 2, 9), "u1", "cn/open-large", 100, 20, 0),
        ("r2", ts(2025, 6, 3, 12), "u2", "eu/open-small", 50, 10, 0),
        ("r3", ts(2025, 6, 8, 23, 59), "u1", "us/closed", 200, 40, 0),
        ("r4", ts(2025, 6, 4), "u3", "mystery-model", 30, 0, 0),
        ("r5", ts(2025, 6, 9, 0, 0), "u1", "cn/open-large", 150, 30, 0),
        ("r6", ts(2025, 6, 10), "u4", "cn/open-large", 150, 30, 0),
        ("r7", ts(2025, 6, 11), "u2", "us/closed-reasoner", 100, 100, 80),
        ("r8", ts(2025, 6, 15, 23), "u2", "us/closed", 50, 10, 0),
        ("r9", ts(2025, 6, 12), None, "eu/open-small", 20, 0, 0),
    ]
    cols = list(zip(*rows, strict=True))
    return pa.table(
        {
            "request_id": pa.array(cols[0]),
            "ts": pa.array(cols[1], pa.timestamp("us", tz="UTC")),
            "user_id": pa.array(cols[2], pa.string()),
            "model": pa.array(cols[3]),
            "input_tokens": pa.array(cols[4], pa.int64()),
            "output_tokens": pa.array(cols[5], pa.int64()),
            "reasoning_tokens": pa.array(cols[6], pa.int64()),
            "requests": pa.array([1, 1, 1, 1, 1, 1, 1, 1, 5], pa.int64()),
            "provider": pa.array(["p1", "p2", "us", "p1", "p1", "p3", "us", "us", None]),
        }
    )


@pytest.fixture(scope="session")
def default_demo(tmp_path_factory):
    """The README's demo at its default size, with the study comparison (run once per session)."""
    from tokencensus.demo import run_demo

    return run_demo(tmp_path_factory.mktemp("demo"), compare=True, log=lambda _m: None)

