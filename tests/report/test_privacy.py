"""Privacy floor: every new analysis publishes a ``users`` column, and nothing under k survives
``report.data.suppress`` (property tests with hypothesis)."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokencensus.analyses import agentic, concentration, costs, geography, retention
from tokencensus.engine import open_table
from tokencensus.report.data import KEY_COLUMNS, SUPPRESSED, suppress

FINISH = ["stop", "tool_calls", "stop", "stop", "tool_calls", "stop", "stop", "stop", "stop"]


@pytest.fixture
def events(tiny_events, tiny_catalog):
    table = (
        tiny_events.append_column("finish_reason", pa.array(FINISH).dictionary_encode())
        .append_column("country", pa.array(["US", "DE", "US", None, "JP", "FR", "US", "ZZ", None]))
        .append_column("cost_usd", pa.array([1.0, 2, 3, None, 1, 1, 1, 1, 0.5]))
    )
    return open_table(table, catalog=tiny_catalog).events


LABELS = {"request_id": ["r1", "r2", "r5", "r7"], "category": ["a", "a", "b", "a"], "language": ["en"] * 4}


def published(events) -> dict[str, pd.DataFrame]:
    labels = ibis.memtable(LABELS)
    exprs = {
        "share_author": concentration.share_author(events),
        "leaderboard": concentration.leaderboard(events),
        "open_concentration": concentration.open_concentration(events),
        "share_new_models": concentration.share_new_models(events),
        "reasoning": agentic.reasoning_weekly(events),
        "tool_calls": agentic.tool_calls_weekly(events),
        "tool_calls_cat": agentic.tool_calls_weekly(events, labels),
        "lengths": agentic.lengths_weekly(events),
        "lengths_cat": agentic.lengths_weekly(events, labels),
        "continents": geography.region_share(events),
        "countries": geography.region_share(events, "country", "month"),
        "languages": geography.language_share(events, labels),
        "model_costs": costs.model_costs(events),
        "category_costs": costs.category_costs(events, labels),
        "triangle": retention.retention_triangle(events),
        "curves": retention.retention_curves(events),
        "foundational": retention.foundational_cohorts(events, min_cohort=1),
        "boomerangs": retention.boomerangs(events, min_cohort=1),
        "flows": retention.churn_flows(events),
    }
    return {name: expr.to_pandas() for name, expr in exprs.items()}


def test_every_published_table_counts_users(events):
    for name, frame in published(events).items():
        assert "users" in frame.columns, name
        ok, n = suppress(frame, min_users=2)
        assert n == int((frame["users"].isna() | (frame["users"] < 2)).sum()), name
        assert_floor(ok, 2)


def assert_floor(out: pd.DataFrame, k: int) -> None:
    """No unsuppressed row has users < k; suppressed rows show no measured value."""
    shown = out[~out[SUPPRESSED]]
    assert (shown["users"] >= k).all()
    hidden = out[out[SUPPRESSED]]
    for col in hidden.columns:
        if col in KEY_COLUMNS | {SUPPRESSED} or not pd.api.types.is_numeric_dtype(out[col]):
            continue
        if pd.api.types.is_bool_dtype(out[col]):
            continue
        assert hidden[col].isna().all(), col


frames = st.integers(min_value=0, max_value=40).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            "users": st.lists(st.one_of(st.none(), st.integers(0, 200)), min_size=n, max_size=n),
            "tokens": st.lists(st.integers(0, 10**12), min_size=n, max_size=n),
            "share": st.lists(st.floats(0, 1), min_size=n, max_size=n),
            "segment": st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n),
        }
    )
)


@settings(max_examples=200, deadline=None)
@given(data=frames, k=st.integers(1, 100))
def test_no_cell_under_k_is_published(data, k):
    frame = pd.DataFrame(data).astype({"users": "Int64", "tokens": "int64", "share": "float64"})
    out, n = suppress(frame, k)
    assert_floor(out, k)
    users = frame["users"]
    assert n == int((users.isna() | (users < k)).sum())
    assert list(out["segment"]) == list(frame["segment"])  # keys are kept


random_events = st.lists(
    st.tuples(
        st.integers(0, 60),  # day offset from Monday 2025-06-02
        st.sampled_from(["u1", "u2", "u3", None]),
        st.sampled_from(["cn/open-large", "eu/open-small", "us/closed", "other-model"]),
        st.integers(0, 500),
        st.integers(1, 500),
        st.sampled_from(["US", "DE", "CN", None]),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=random_events)
def test_shares_are_proportions_and_retention_starts_at_one(rows, tiny_catalog):
    """For any events: weekly shares lie in [0, 1] and sum to 1; retention at k = 0 is 1."""
    start = pd.Timestamp("2025-06-02", tz="UTC")
    table = pa.table(
        {
            "request_id": [f"r{i}" for i in range(len(rows))],
            "ts": pa.array([start + pd.Timedelta(days=r[0]) for r in rows], pa.timestamp("us", tz="UTC")),
            "user_id": pa.array([r[1] for r in rows], pa.string()),
            "model": [r[2] for r in rows],
            "input_tokens": pa.array([r[3] for r in rows], pa.int64()),
            "output_tokens": pa.array([r[4] for r in rows], pa.int64()),
            "requests": pa.array([1] * len(rows), pa.int64()),
            "country": pa.array([r[5] for r in rows], pa.string()),
            "cost_usd": pa.array([1.0] * len(rows)),
        }
    )
    events = open_table(table, catalog=tiny_catalog).events
    for expr in (
        concentration.share_author(events),
        concentration.share_new_models(events, 30),
        geography.region_share(events).rename(share="token_share"),
    ):
        got = expr.to_pandas()
        assert got.share.between(0, 1).all()
        assert np.allclose(got.groupby("week").share.sum(), 1.0)
    tri = retention.retention_triangle(events).to_pandas()
    assert (tri[tri.k == 0].retention == 1.0).all()
    assert tri.retention.between(0, 1).all()
