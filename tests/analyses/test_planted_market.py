"""The market analyses recover the simulator's planted segment shares (through ingest → lake → engine)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run
from tokencensus import analyses
from tokencensus.engine import open_lake
from tokencensus.lake import Lake
from tokencensus.simulator import SimConfig, simulate

TOLERANCE = 0.02
"""Absolute tolerance on a 4-week window's token share (sampling noise here is ~0.005)."""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    sim = simulate(SimConfig(requests=300_000, users=25_000, weeks=26, seed=11))
    lake = Lake(tmp_path_factory.mktemp("lake"))
    assert lake.append(sim.events, "sim").rows_written == sim.events.num_rows
    return sim.truth, open_lake(lake).events


def window_of(weeks: pd.Series, all_weeks: list) -> pd.Series:
    index = {w: i // 4 for i, w in enumerate(sorted(all_weeks))}
    return weeks.map(index)


def observed_windows(frame: pd.DataFrame, weeks: list) -> pd.DataFrame:
    frame = frame.assign(window=window_of(frame["week"], weeks))
    tokens = frame.groupby(["window", "segment"])["tokens"].sum()
    return (tokens / tokens.groupby(level="window").transform("sum")).rename("observed")


def planted_windows(truth, shares: pd.DataFrame, key: str) -> pd.DataFrame:
    """Token-weighted window shares of weekly planted shares (columns week, key, share)."""
    shares = shares.merge(truth.volume[["week", "tokens"]], on="week")
    shares = shares.assign(
        window=window_of(shares["week"], truth.weeks), mass=shares["share"] * shares["tokens"]
    )
    mass = shares.groupby(["window", key])["mass"].sum()
    planted = mass / mass.groupby(level="window").transform("sum")
    planted.index = planted.index.set_names(["window", "segment"])
    return planted.rename("planted")


def compare(observed: pd.Series, planted: pd.Series) -> pd.DataFrame:
    both = pd.concat([observed, planted], axis=1).fillna(0.0)
    assert len(both) >= 6
    return both


def test_origin_segment_shares_recovered(world):
    truth, events = world
    both = compare(
        observed_windows(run(analyses.share_origin(events)), truth.weeks),
        planted_windows(truth, truth.segment_share, "segment"),
    )
    gap = (both.observed - both.planted).abs()
    assert gap.max() < TOLERANCE, both[gap >= TOLERANCE]
    # the planted rise of Chinese open weights is visible, not just matched
    chinese = both.xs("Chinese open", level="segment").observed
    assert chinese.iloc[-1] > chinese.iloc[0] + 0.08


def test_open_vs_closed_recovered(world):
    truth, events = world
    planted = truth.share_by("open_weights").assign(
        open_weights=lambda f: np.where(f.open_weights, "Open weights", "Closed")
    )
    both = compare(
        observed_windows(run(analyses.share_open(events)), truth.weeks),
        planted_windows(truth, planted, "open_weights"),
    )
    assert (both.observed - both.planted).abs().max() < TOLERANCE


def test_reasoning_share_recovered_and_growing(world):
    truth, events = world
    planted = truth.share_by("reasoning").assign(
        reasoning=lambda f: np.where(f.reasoning, "Reasoning", "Non-reasoning")
    )
    both = compare(
        observed_windows(run(analyses.share_reasoning(events)), truth.weeks),
        planted_windows(truth, planted, "reasoning"),
    )
    assert (both.observed - both.planted).abs().max() < TOLERANCE
    reasoning = both.xs("Reasoning", level="segment").planted
    assert reasoning.iloc[-1] > reasoning.iloc[0]


def test_size_class_within_open_weights_recovered(world):
    truth, events = world
    info = truth.model_info[["model", "open_weights", "size_class"]]
    open_share = truth.model_share.merge(info, on="model").query("open_weights")
    planted = open_share.groupby(["week", "size_class"], as_index=False)["share"].sum()
    planted["share"] /= planted.groupby("week")["share"].transform("sum")
    # weight each week by its open-weights tokens
    open_tokens = open_share.groupby("week")["share"].sum() * truth.volume.set_index("week")["tokens"]
    vol = truth.volume.assign(tokens=truth.volume["week"].map(open_tokens))
    both = compare(
        observed_windows(run(analyses.share_size(events)), truth.weeks),
        planted_windows(type("T", (), {"volume": vol, "weeks": truth.weeks}), planted, "size_class"),
    )
    assert (both.observed - both.planted).abs().max() < TOLERANCE, both


def test_weekly_shares_are_proportions(world):
    _, events = world
    for analysis in (
        analyses.share_open,
        analyses.share_origin,
        analyses.share_size,
        analyses.share_reasoning,
    ):
        frame = run(analysis(events))
        assert frame["share"].between(0, 1).all()
        assert np.allclose(frame.groupby("week")["share"].sum(), 1.0)


def test_volume_matches_the_events(world):
    truth, events = world
    volume = run(analyses.weekly_volume(events))
    assert volume["requests"].sum() == 300_000
    assert len(volume) == 26
    assert list(volume["week"]) == truth.weeks
    # planted volume is an expectation; the realised weekly tokens follow it
    ratio = volume.set_index("week")["tokens"] / truth.volume.set_index("week")["tokens"]
    assert ratio.between(0.85, 1.15).all()


def test_top_models_match_planted_shares(world):
    truth, events = world
    top = analyses.top_models(events, n=5, weeks=4).to_pandas()
    last = truth.model_share[truth.model_share["week"].isin(truth.weeks[-4:])]
    last = last.merge(truth.volume[["week", "tokens"]], on="week")
    planted = (last["share"] * last["tokens"]).groupby(last["model"]).sum() / last.drop_duplicates("week")[
        "tokens"
    ].sum()
    for row in top.itertuples():
        assert row.share == pytest.approx(planted[row.model], abs=TOLERANCE)
    assert list(top["rank"]) == [1, 2, 3, 4, 5]
