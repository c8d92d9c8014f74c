"""Cost vs usage: golden numbers on a hand-made fixture, the elasticity fit, planted data."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tokencensus.analyses import costs
from tokencensus.engine import open_lake, open_table
from tokencensus.lake import Lake
from tokencensus.simulator import SimConfig, simulate

COST = [1.0, 2.0, 3.0, None, 1.0, 1.0, 1.0, 1.0, 0.5]


@pytest.fixture
def events(tiny_events, tiny_catalog):
    """conftest.tiny_events with costs (r4, the unknown model, has none)."""
    return open_table(tiny_events.append_column("cost_usd", pa.array(COST)), catalog=tiny_catalog).events


def test_model_costs_golden(events):
    got = costs.model_costs(events).to_pandas().set_index("model")
    # cn/open-large: $1 + $1 + $1 over 120 + 180 + 180 tokens
    assert got.loc["cn/open-large", "price_per_1m"] == pytest.approx(3.0 / 480 * 1e6)
    assert got.loc["us/closed", "price_per_1m"] == pytest.approx(4.0 / 300 * 1e6)
    assert got.loc["eu/open-small", "price_per_1m"] == pytest.approx(2.5 / 80 * 1e6)
    assert math.isnan(got.loc["mystery-model", "price_per_1m"])  # no cost known: no price
    # medians over the four priced models: prices 6250, 13333, 5000, 31250 → 9791.67; tokens 250
    assert got.median_price.iloc[0] == pytest.approx((6250 + 13333.333333) / 2)
    assert got.median_tokens.iloc[0] == pytest.approx(250)
    assert pd.isna(got.loc["mystery-model", "quadrant"])
    assert got.quadrant.dropna().to_dict() == {
        "cn/open-large": "Efficient giants",
        "us/closed": "Premium leaders",
        "us/closed-reasoner": "Long tail",
        "eu/open-small": "Premium specialists",
    }
    assert got.loc["us/closed", "log10_price"] == pytest.approx(math.log10(4.0 / 300 * 1e6))


def test_category_costs_golden(events):
    labels = ibis.memtable(
        {
            "request_id": ["r1", "r2", "r5", "r7"],
            "category": ["programming", "programming", "roleplay", "programming"],
        }
    )
    got = costs.category_costs(events, labels).to_pandas().set_index("category")
    assert got.loc["programming", "price_per_1m"] == pytest.approx(4.0 / 380 * 1e6)  # r1 r2 r7
    assert got.loc["roleplay", "price_per_1m"] == pytest.approx(1.0 / 180 * 1e6)
    assert got.loc["programming", "users"] == 2


def test_elasticity_recovers_a_planted_slope():
    rng = np.random.default_rng(0)
    price = np.exp(rng.uniform(-2, 4, 200))
    tokens = np.exp(20 - 0.7 * np.log(price) + rng.normal(0, 0.5, 200))
    fit = costs.fit_elasticity(pd.DataFrame({"price_per_1m": price, "tokens": tokens}))
    assert fit.ci_low < -0.7 < fit.ci_high
    assert fit.n == 200
    assert fit.slope == pytest.approx(np.polyfit(np.log(price), np.log(tokens), 1)[0])
    assert fit.ci_high - fit.ci_low == pytest.approx(2 * 1.97196 * fit.stderr, rel=1e-3)


def test_elasticity_golden_by_hand():
    # ln y = 1 + 2 ln x exactly at three points (plus a skipped zero price): slope 2, no error
    frame = pd.DataFrame(
        {"price_per_1m": [1.0, math.e, math.e**2, 0.0], "tokens": [math.e, math.e**3, math.e**5, 5]}
    )
    fit = costs.fit_elasticity(frame)
    assert (fit.slope, fit.n) == (pytest.approx(2.0), 3)
    assert fit.intercept == pytest.approx(1.0)
    assert fit.stderr == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError, match="at least 3"):
        costs.fit_elasticity(frame.iloc[:2])


@pytest.mark.parametrize(("dof", "expected"), [(3, 3.18245), (10, 2.22814), (30, 2.04227), (1000, 1.96234)])
def test_t_quantile(dof, expected):
    assert costs.t_quantile(0.975, dof) == pytest.approx(expected, abs=5e-3)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    sim = simulate(SimConfig(requests=200_000, users=20_000, weeks=26, seed=11))
    lake = Lake(tmp_path_factory.mktemp("lake"))
    lake.append(sim.events, "sim")
    return sim, open_lake(lake).events


def test_planted_prices_are_catalog_prices(world):
    sim, events = world
    got = costs.model_costs(events).to_pandas().set_index("model")
    info = sim.truth.model_info.set_index("model")
    # the simulator charges catalog list prices: the effective price lies between them
    both = got.join(info[["input_price", "output_price"]], how="inner")
    both = both[both.price_per_1m.notna()]
    lo = np.minimum(both.input_price, both.output_price) - 1e-9
    hi = np.maximum(both.input_price, both.output_price) + 1e-9
    assert ((both.price_per_1m >= lo) & (both.price_per_1m <= hi)).all()
    assert set(got.quadrant.dropna()) == set(costs.ARCHETYPES.values())
    fit = costs.fit_elasticity(got.reset_index())
    assert fit.ci_low <= fit.slope <= fit.ci_high
    assert fit.n > 100
