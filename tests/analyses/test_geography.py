"""Geography: golden numbers on a hand-made fixture, the packaged country table, planted recovery."""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tests.conftest import run
from tokencensus.analyses import geography
from tokencensus.engine import open_lake, open_table
from tokencensus.lake import Lake
from tokencensus.simulator import SimConfig, simulate
from tokencensus.simulator.world import COUNTRIES

W1, W2 = date(2025, 6, 2), date(2025, 6, 9)
COUNTRY = ["US", "DE", "US", None, "JP", "FR", "US", "ZZ", None]
COST = [1.0, 2.0, 3.0, None, 1.0, 1.0, 1.0, 1.0, 0.5]


@pytest.fixture
def events(tiny_events, tiny_catalog):
    """conftest.tiny_events with countries (r4 and r9 unknown, r8 an unknown code) and costs."""
    table = tiny_events.append_column("country", pa.array(COUNTRY)).append_column("cost_usd", pa.array(COST))
    return open_table(table, catalog=tiny_catalog).events


def test_country_table_is_complete():
    table = geography.country_continents()
    assert len(table) >= 249
    assert table.country.is_unique
    assert set(table.continent) == set(geography.CONTINENTS)
    assert geography.continent_of("tr") == "Asia"
    assert geography.continent_of("RU") == "Europe"
    assert geography.continent_of(None) == "Unknown"
    assert geography.continent_of("ZZ") == "Unknown"


def test_country_table_agrees_with_the_simulator():
    for code, continent, _ in COUNTRIES:
        assert geography.continent_of(code) == continent, code


def test_continent_weekly_golden(events):
    got = run(geography.region_share(events, "continent", "week"))
    cells = {(r.week, r.continent): (r.tokens, r.spend) for r in got.itertuples()}
    assert cells == {
        (W1, "North America"): (360, 4.0),  # r1 + r3
        (W1, "Europe"): (60, 2.0),  # r2
        (W1, "Unknown"): (30, 0.0),  # r4: no country, no cost
        (W2, "Asia"): (180, 1.0),  # r5
        (W2, "Europe"): (180, 1.0),  # r6
        (W2, "North America"): (200, 1.0),  # r7
        (W2, "Unknown"): (80, 1.5),  # r8 (ZZ) + r9 (none)
    }
    w2 = got[got.week == W2].set_index("continent")
    assert w2.loc["Asia", "token_share"] == pytest.approx(180 / 640)
    assert w2.loc["Unknown", "spend_share"] == pytest.approx(1.5 / 4.5)


def test_country_totals_golden(events):
    got = run(geography.region_share(events, "country", None)).set_index("country")
    assert got.loc["US", "tokens"] == 560
    assert got.loc["US", "users"] == 2
    assert got.loc["ZZ", "tokens"] == 60  # an unknown code is kept as itself
    assert got.loc["Unknown", "requests"] == 6  # r4 + r9 (5 requests)
    assert got.token_share.sum() == pytest.approx(1.0)
    assert got.loc["US", "spend_share"] == pytest.approx(5.0 / 10.5)


def test_language_share_golden(events):
    labels = ibis.memtable({"request_id": ["r1", "r2", "r5", "r7"], "language": ["en", "de", None, "en"]})
    got = run(geography.language_share(events, labels))
    shares = {(r.week, r.language): r.share for r in got.itertuples()}
    assert shares == pytest.approx(
        {(W1, "de"): 60 / 180, (W1, "en"): 120 / 180, (W2, "Unknown"): 180 / 380, (W2, "en"): 200 / 380}
    )


def test_bad_level_is_refused(events):
    with pytest.raises(ValueError, match="level"):
        geography.region_share(events, "planet")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    sim = simulate(SimConfig(requests=300_000, users=25_000, weeks=26, seed=11))
    lake = Lake(tmp_path_factory.mktemp("lake"))
    lake.append(sim.events, "sim")
    return sim.truth, open_lake(lake).events


def test_planted_country_mix_of_users_recovered(world):
    truth, events = world
    got = run(geography.region_share(events, "country", None)).set_index("country")
    observed = got["users"] / got["users"].sum()
    planted = truth.country_share.set_index("country")["share"]
    both = pd.concat([observed.rename("o"), planted.rename("p")], axis=1).fillna(0)
    assert (both.o - both.p).abs().max() < 0.01, both
    continents = run(geography.region_share(events, "continent", None)).set_index("continent")
    planted_cont = truth.country_share.groupby("continent")["share"].sum()
    obs_cont = continents["users"] / continents["users"].sum()
    assert (obs_cont - planted_cont).abs().max() < 0.015


def test_region_shares_are_proportions(world):
    _, events = world
    for level in geography.LEVELS:
        got = run(geography.region_share(events, level, "week"))
        assert got.token_share.between(0, 1).all()
        assert got.spend_share.between(0, 1).all()
        assert np.allclose(got.groupby("week").token_share.sum(), 1)
        assert np.allclose(got.groupby("week").spend_share.sum(), 1)
