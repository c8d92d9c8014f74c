"""Market structure (authors, leaderboard, open-weights concentration, new models): golden numbers
on the hand-made fixture (conftest.tiny_events), plus planted recovery and properties."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run
from tokencensus.analyses import concentration
from tokencensus.engine import open_lake, open_table
from tokencensus.lake import Lake
from tokencensus.simulator import SimConfig, simulate

W1, W2 = date(2025, 6, 2), date(2025, 6, 9)


@pytest.fixture
def events(tiny_events, tiny_catalog):
    return open_table(tiny_events, catalog=tiny_catalog).events


def test_share_author_golden(events):
    got = run(concentration.share_author(events))
    shares = {(r.week, r.author): r.share for r in got.itertuples()}
    assert shares == pytest.approx(
        {
            (W1, "cn"): 120 / 450,
            (W1, "eu"): 60 / 450,
            (W1, "us"): 240 / 450,
            (W1, "unknown"): 30 / 450,
            (W2, "cn"): 360 / 640,
            (W2, "eu"): 20 / 640,
            (W2, "us"): 260 / 640,  # closed 60 + reasoner 200
        }
    )
    assert list(got.columns) == ["week", "author", "tokens", "share", "users"]


def test_leaderboard_week_over_week_golden(events):
    got = run(concentration.leaderboard(events, n=3))
    w1 = got[got.week == W1]
    assert list(w1.model) == ["us/closed", "cn/open-large", "eu/open-small"]  # 240, 120, 60
    assert w1.prev_rank.isna().all()  # no week before the first
    w2 = got[got.week == W2].set_index("model")
    assert list(w2.index) == ["cn/open-large", "us/closed-reasoner", "us/closed"]  # 360, 200, 60
    cn = w2.loc["cn/open-large"]
    assert (cn["rank"], cn.prev_rank, cn.rank_change) == (1, 2, 1)
    assert cn.share_change == pytest.approx(360 / 640 - 120 / 450)
    assert cn.tokens_change == pytest.approx(360 / 120 - 1)
    closed = w2.loc["us/closed"]
    assert (closed["rank"], closed.prev_rank, closed.rank_change) == (3, 1, -2)
    assert closed.tokens_change == pytest.approx(60 / 240 - 1)
    assert np.isnan(w2.loc["us/closed-reasoner"].prev_share)  # new this week


def test_open_concentration_golden(events):
    got = run(concentration.open_concentration(events)).set_index("week")
    # week 1 open weights: cn 120, eu 60 of 180; week 2: cn 360, eu 20 of 380
    assert got.loc[W1, "top_model"] == "cn/open-large"
    assert got.loc[W1, "top1_share"] == pytest.approx(120 / 180)
    assert got.loc[W1, "top5_share"] == pytest.approx(1.0)
    assert got.loc[W1, "hhi"] == pytest.approx((120 / 180) ** 2 + (60 / 180) ** 2)
    assert got.loc[W2, "hhi"] == pytest.approx((360 / 380) ** 2 + (20 / 380) ** 2)
    assert list(got.models) == [2, 2]
    assert list(got.users) == [2, 2]  # u1 u2; u1 u4 (r9 has no user)
    # the cells behind the top shares: week 1 cn (u1) and eu (u2); week 2 cn (u1, u4) and eu (no user)
    assert list(got.top1_users) == [1, 2]
    assert list(got.top5_users) == [1, 0]


def test_share_new_models_golden(events):
    # every catalog model was released 2025-01-20; week 1 ends 2025-06-09, 140 days after it
    got = run(concentration.share_new_models(events, days=140))
    shares = {(r.week, r.segment): r.share for r in got.itertuples()}
    new = "Launched in the last 140 days"
    assert shares == pytest.approx({(W1, new): 420 / 450, (W1, "Unknown"): 30 / 450, (W2, "Older"): 1.0})
    older = {(r.week, r.segment) for r in run(concentration.share_new_models(events, 139)).itertuples()}
    assert (W1, "Older") in older
    assert (W1, "Launched in the last 139 days") not in older


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    sim = simulate(SimConfig(requests=200_000, users=20_000, weeks=26, seed=11))
    lake = Lake(tmp_path_factory.mktemp("lake"))
    lake.append(sim.events, "sim")
    return sim.truth, open_lake(lake).events


def test_planted_author_shares_recovered(world):
    truth, events = world
    got = run(concentration.share_author(events))
    tokens = got.groupby("author")["tokens"].sum()
    observed = tokens / tokens.sum()
    planted = truth.share_by("author").merge(truth.volume[["week", "tokens"]], on="week")
    mass = (planted["share"] * planted["tokens"]).groupby(planted["author"]).sum()
    planted = mass / mass.sum()
    both = pd.concat([observed.rename("o"), planted.rename("p")], axis=1).fillna(0)
    assert (both.o - both.p).abs().max() < 0.02, both


def test_concentration_properties(world):
    _, events = world
    got = run(concentration.open_concentration(events))
    assert ((got.top1_share <= got.top5_share + 1e-12) & (got.top5_share <= 1 + 1e-12)).all()
    # HHI lies between 1/models and top1 share (Σ s² ≤ max s · Σ s)
    assert (got.hhi >= 1 / got.models - 1e-12).all()
    assert (got.hhi <= got.top1_share + 1e-12).all()
    board = run(concentration.leaderboard(events, n=5))
    assert board.groupby("week")["rank"].apply(list).map(lambda r: r == [1, 2, 3, 4, 5]).all()
    new = run(concentration.share_new_models(events, 90))
    assert new.share.between(0, 1).all()
    assert np.allclose(new.groupby("week").share.sum(), 1)
