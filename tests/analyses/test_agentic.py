"""Agentic analyses: golden numbers on a hand-made fixture, planted recovery and properties."""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run
from tokencensus.analyses import agentic
from tokencensus.engine import open_lake, open_table
from tokencensus.lake import Lake
from tokencensus.simulator import SimConfig, simulate

W1, W2 = date(2025, 6, 2), date(2025, 6, 9)
FINISH = ["stop", "tool_calls", "stop", "stop", "tool_calls", "stop", "stop", "stop", "stop"]


@pytest.fixture
def events(tiny_events, tiny_catalog):
    """conftest.tiny_events with finish reasons: r2 (week 1) and r5 (week 2) end in tool calls."""
    table = tiny_events.append_column("finish_reason", pa.array(FINISH).dictionary_encode())
    return open_table(table, catalog=tiny_catalog).events


@pytest.fixture
def labels():
    """r2's label is under the confidence floor, so it counts as "other"."""
    return ibis.memtable(
        {
            "request_id": ["r1", "r2", "r5", "r7"],
            "category": ["programming", "programming", "roleplay", "programming"],
            "confidence": [0.9, 0.1, 0.9, 0.9],
        }
    )


def test_reasoning_weekly_golden(events):
    got = run(agentic.reasoning_weekly(events)).set_index("week")
    # reasoning models: cn/open-large (120 | 360 tokens) and us/closed-reasoner (200, week 2)
    assert got.loc[W1, "reasoning_model_share"] == pytest.approx(120 / 450)
    assert got.loc[W2, "reasoning_model_share"] == pytest.approx(560 / 640)
    assert got.loc[W1, "reasoning_token_share"] == 0
    assert got.loc[W2, "reasoning_token_share"] == pytest.approx(80 / 170)  # r7's 80 of all output
    # within reasoning models: output 30 + 30 + 100 = 160
    assert got.loc[W2, "reasoning_token_share_in_reasoning_models"] == pytest.approx(80 / 160)


def test_tool_calls_weekly_golden(events):
    got = run(agentic.tool_calls_weekly(events)).set_index("week")
    assert got.loc[W1, "tool_call_share"] == pytest.approx(1 / 4)
    assert got.loc[W1, "tool_call_token_share"] == pytest.approx(60 / 450)
    # week 2 has 9 requests (r9 weighs 5); r5 is the tool call with 180 tokens
    assert got.loc[W2, "tool_call_share"] == pytest.approx(1 / 9)
    assert got.loc[W2, "tool_call_token_share"] == pytest.approx(180 / 640)
    assert list(got.users) == [3, 3]


def test_tool_calls_by_category_golden(events, labels):
    got = run(agentic.tool_calls_weekly(events, labels))
    cells = {(r.week, r.category): (r.requests, r.tool_call_share) for r in got.itertuples()}
    assert cells == {
        (W1, "other"): (1, 1.0),  # r2, floored
        (W1, "programming"): (1, 0.0),  # r1
        (W2, "programming"): (1, 0.0),  # r7
        (W2, "roleplay"): (1, 1.0),  # r5
    }


def test_lengths_weekly_golden(events):
    got = run(agentic.lengths_weekly(events)).set_index("week")
    assert got.loc[W1, "mean_input_tokens"] == pytest.approx(380 / 4)
    assert got.loc[W1, "mean_output_tokens"] == pytest.approx(70 / 4)
    # the pre-aggregated row (5 requests, 20 tokens in) counts as 5 requests in the means
    assert got.loc[W2, "mean_input_tokens"] == pytest.approx(470 / 9)
    assert got.loc[W2, "input_output_ratio"] == pytest.approx(470 / 170)
    # exact discrete quantiles over request-level rows (the smallest value whose cumulative count
    # reaches q × n): week 1 inputs 30 50 100 200 → median 50 (2 ≥ 0.5 × 4), p90 200 (4 ≥ 3.6);
    # week 2 inputs 50 100 150 150 → median 100, p90 150
    assert got.loc[W1, "median_input_tokens"] == 50
    assert got.loc[W1, "p90_input_tokens"] == 200
    assert got.loc[W2, "median_input_tokens"] == 100
    assert got.loc[W2, "p90_input_tokens"] == 150


def test_lengths_by_category_golden(events, labels):
    got = run(agentic.lengths_weekly(events, labels))
    means = {(r.week, r.category): r.mean_input_tokens for r in got.itertuples()}
    assert means == {
        (W1, "other"): 50,
        (W1, "programming"): 100,
        (W2, "programming"): 100,
        (W2, "roleplay"): 150,
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    sim = simulate(SimConfig(requests=300_000, users=25_000, weeks=26, seed=11))
    lake = Lake(tmp_path_factory.mktemp("lake"))
    lake.append(sim.events, "sim")
    return sim, open_lake(lake).events


def windows(frame: pd.DataFrame, weeks: list, columns: dict[str, str]) -> pd.DataFrame:
    """4-week windows: ratio of sums (numerator column / denominator column)."""
    index = {w: i // 4 for i, w in enumerate(sorted(weeks))}
    frame = frame.assign(window=frame["week"].map(index))
    sums = frame.groupby("window").sum(numeric_only=True)
    return pd.DataFrame({name: sums[num] / sums[den] for name, (num, den) in columns.items()})


def planted_windows(truth, column: str, weight: pd.Series) -> pd.Series:
    index = {w: i // 4 for i, w in enumerate(sorted(truth.weeks))}
    a = truth.agentic.set_index("week")
    w = weight.reindex(a.index)
    window = a.index.map(index)
    return (a[column] * w).groupby(window).sum() / w.groupby(window).sum()


def test_planted_tool_call_share_recovered(world):
    sim, events = world
    truth = sim.truth
    got = run(agentic.tool_calls_weekly(events))
    obs = windows(got, truth.weeks, {"share": ("tool_call_requests", "requests")})["share"]
    planted = planted_windows(truth, "tool_call_share", truth.volume.set_index("week")["requests"])
    assert np.abs(obs.to_numpy() - planted.to_numpy()).max() < 0.01
    assert obs.iloc[-1] > obs.iloc[0] + 0.05  # the planted rise is visible


def test_planted_lengths_recovered(world):
    sim, events = world
    truth = sim.truth
    got = run(agentic.lengths_weekly(events))
    req = truth.volume.set_index("week")["requests"]
    obs = windows(
        got, truth.weeks, {"in": ("input_tokens", "requests"), "out": ("output_tokens", "requests")}
    )
    for col, planted_col in (("in", "mean_input_tokens"), ("out", "mean_output_tokens")):
        planted = planted_windows(truth, planted_col, req)
        rel = np.abs(obs[col].to_numpy() / planted.to_numpy() - 1)
        assert rel.max() < 0.05, (col, rel)  # log-normal lengths: a few % of noise per window
    assert (got.median_input_tokens <= got.mean_input_tokens).all()  # right-skewed lengths
    assert (got.p90_input_tokens >= got.median_input_tokens).all()


def test_planted_reasoning_token_share_recovered(world):
    sim, events = world
    truth = sim.truth
    got = run(agentic.reasoning_weekly(events))
    obs = windows(got, truth.weeks, {"r": ("reasoning_tokens", "output_tokens")})["r"]
    out = truth.agentic.set_index("week")["mean_output_tokens"] * truth.volume.set_index("week")["requests"]
    planted = planted_windows(truth, "reasoning_token_share", out)
    assert np.abs(obs.to_numpy() - planted.to_numpy()).max() < 0.02


def test_planted_tool_calls_by_category(world):
    sim, events = world
    labels = ibis.memtable(sim.categories.to_pandas())
    got = run(agentic.tool_calls_weekly(events, labels))
    assert set(got.category) <= set(sim.categories.column("category").to_pylist())
    # every request is labelled here, so categories add up to the weekly totals
    total = run(agentic.tool_calls_weekly(events)).set_index("week")
    summed = got.groupby("week")[["requests", "tool_call_requests"]].sum()
    assert (summed["requests"] == total["requests"]).all()
    assert (summed["tool_call_requests"] == total["tool_call_requests"]).all()


def test_agentic_properties(world):
    _, events = world
    for frame in (run(agentic.tool_calls_weekly(events)), run(agentic.reasoning_weekly(events))):
        shares = frame.filter(like="share")
        assert ((shares >= 0) & (shares <= 1)).all().all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 60)), min_size=1, max_size=60))
def test_quantiles_match_the_sorted_definition(rows):
    """quantile_disc: the smallest value whose cumulative count reaches q × n, per cell."""
    frame = pd.DataFrame(rows, columns=["cell", "v"])
    got = run(agentic.quantiles(ibis.memtable(frame), ["cell"], "v", (0.5, 0.9, 0.25)))
    got = got.set_index("cell")
    for cell, values in frame.groupby("cell")["v"]:
        ordered = np.sort(values.to_numpy())
        n = len(ordered)
        for q, col in ((0.5, "median_v"), (0.9, "p90_v"), (0.25, "p25_v")):
            want = ordered[int(np.ceil(q * n)) - 1]
            assert got.loc[cell, col] == want, (cell, q, ordered.tolist())
