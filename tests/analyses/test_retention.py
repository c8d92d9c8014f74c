"""Retention: golden triangles and flows on hand-made fixtures, the glass-slipper and boomerang
rules, and recovery of the simulator's planted curves."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tokencensus.analyses import retention
from tokencensus.engine import open_lake, open_table
from tokencensus.lake import Lake
from tokencensus.simulator import SimConfig, simulate

A, B = "cn/open-large", "eu/open-small"
JAN, FEB, MAR, APR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)


def build(visits: list[tuple[str, str, date]], end: date | None = None) -> pa.Table:
    """Events: one request per (user, model, month) visit on the 10th, plus one at ``end``."""
    rows = [(u, m, datetime(d.year, d.month, 10, tzinfo=UTC)) for u, m, d in visits]
    if end is not None:
        rows.append(("u-end", B, datetime(end.year, end.month, end.day, tzinfo=UTC)))
    n = len(rows)
    return pa.table(
        {
            "request_id": [f"r{i}" for i in range(n)],
            "ts": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
            "user_id": [r[0] for r in rows],
            "model": [r[1] for r in rows],
            "input_tokens": pa.array([10] * n, pa.int64()),
            "output_tokens": pa.array([5] * n, pa.int64()),
            "requests": pa.array([1] * n, pa.int64()),
        }
    )


@pytest.fixture
def hand(tiny_catalog):
    """Model A: u1 Jan Feb Mar, u2 Jan Mar, u3 Jan, u4 Feb Mar, u5 Feb; u3 on B in Feb.

    The data ends on 15 April (u1 uses B then), so April is incomplete and left out.
    """
    visits = [
        ("u1", A, JAN), ("u1", A, FEB), ("u1", A, MAR),
        ("u2", A, JAN), ("u2", A, MAR),
        ("u3", A, JAN), ("u3", B, FEB),
        ("u4", A, FEB), ("u4", A, MAR),
        ("u5", A, FEB),
    ]  # fmt: skip
    table = build(visits)
    table = pa.concat_tables([table, build([("u1", B, APR)]).set_column(0, "request_id", pa.array(["rx"]))])
    table = table.set_column(1, "ts", pa.concat_arrays([
        table.column("ts").combine_chunks()[:-1],
        pa.array([datetime(2025, 4, 15, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
    ]))  # fmt: skip
    return open_table(table, catalog=tiny_catalog).events


def cells(frame: pd.DataFrame, model: str) -> dict[tuple[date, int], float]:
    sub = frame[frame.model == model]
    return {(pd.Timestamp(r.cohort).date(), r.k): r.retention for r in sub.itertuples()}


def test_triangle_golden(hand):
    got = retention.retention_triangle(hand).to_pandas()
    assert cells(got, A) == pytest.approx(
        {
            (JAN, 0): 1.0, (JAN, 1): 1 / 3, (JAN, 2): 2 / 3,  # u1 | u1 u2 (u2 returns: the curve rises)
            (FEB, 0): 1.0, (FEB, 1): 1 / 2,  # u4 u5 → u4; April (incomplete) is left out
        }
    )  # fmt: skip
    # B: u3's February cohort (March: gone) and u1's April cohort (k = 0 only)
    # (nobody came back in March: a 0 cell, not a missing one)
    assert cells(got, B) == {(FEB, 0): 1.0, (FEB, 1): 0.0, (APR, 0): 1.0}
    a = got[got.model == A].set_index(["cohort", "k"])
    assert list(a.users) == list(a.cohort_users) == [3, 3, 3, 2, 2]
    assert a.left_censored.tolist() == [True] * 3 + [False] * 2  # January is the data's first month


def test_curves_golden(hand):
    got = retention.retention_curves(hand, n=1).to_pandas()
    assert set(got.model) == {A}
    by_k = got.set_index("k")
    assert by_k.loc[1, "retention"] == pytest.approx((1 + 1) / (3 + 2))  # pooled over Jan and Feb
    assert by_k.loc[2, "retention"] == pytest.approx(2 / 3)
    assert by_k.loc[0, "retention"] == 1.0


def test_churn_flows_golden(hand):
    got = retention.churn_flows(hand).to_pandas()
    flows = {(r.from_model, r.to_model): (r.churns, r.share) for r in got.itertuples()}
    # from A: u2 and u3 after January, u5 after February (March and later churns would need April)
    assert flows[(A, B)] == (1, pytest.approx(1 / 3))  # u3 went to B
    assert flows[(A, "(none)")] == (2, pytest.approx(2 / 3))  # u2, u5 used nothing the next month
    assert flows[(B, "(none)")] == (1, 1.0)  # u3 left B after February


def months(start: date, n: int) -> list[date]:
    return [
        date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1) for i in range(n)
    ]


def synthetic(curves: dict[str, dict[int, list[int]]], first: date = JAN) -> list[tuple[str, str, date]]:
    """Visits from cohorts given as {model: {cohort month index: [active count at k=1, 2, ...]}};
    each cohort has 4 users, and an anchor user on B in the first month starts the data there."""
    ms = months(first, 12)
    visits = [("anchor", B, ms[0])]
    for model, cohorts in curves.items():
        for c, active in cohorts.items():
            users = [f"{model}-{c}-{i}" for i in range(4)]
            visits += [(u, model, ms[c]) for u in users]
            for k, count in enumerate(active, start=1):
                visits += [(u, model, ms[c + k]) for u in users[:count]]
    return visits


def test_glass_slipper_rule_by_hand(tiny_catalog):
    # A launches in February (after the data starts): launch cohort 3/4 at k=1, later ones 1/4.
    # "us/closed" has the same 2/4 for every cohort. Data ends 31 May: every month complete.
    visits = synthetic({A: {1: [3], 2: [1], 3: [1]}, "us/closed": {1: [2], 2: [2], 3: [2]}})
    events = open_table(build(visits, end=date(2025, 5, 31)), catalog=tiny_catalog).events
    got = retention.foundational_cohorts(events, k=1, min_cohort=1).to_pandas().set_index("model")
    assert got.loc[A, "foundational"]
    assert pd.Timestamp(got.loc[A, "launch_cohort"]).date() == FEB
    assert (got.loc[A, "launch_retention"], got.loc[A, "later_median"]) == (0.75, 0.25)
    assert got.loc[A, "lift"] == pytest.approx(3.0)
    assert not got.loc["us/closed", "foundational"]
    # launch at least 2x the later median but under the 0.3 floor: not flagged
    got = retention.foundational_cohorts(events, k=1, min_cohort=1, min_retention=0.8).to_pandas()
    assert not got.foundational.any()
    # B's only cohort is the data's first month: no observable launch, so no row
    assert B not in set(got.model)


def test_boomerang_rule_by_hand(tiny_catalog):
    # A: 4 users, active 2, 1, 3 at k = 1, 2, 3 → dip at k=2 (0.25), rise to 0.75 (+0.5)
    # us/closed: 3, 2, 1 (plain decay) → no rise
    visits = synthetic({A: {0: [2, 1, 3]}, "us/closed": {0: [3, 2, 1]}})
    events = open_table(build(visits, end=date(2025, 4, 30)), catalog=tiny_catalog).events
    got = retention.boomerangs(events, min_cohort=1, min_z=1.0).to_pandas().set_index("model")
    assert got.loc[A, "rise"] == pytest.approx(0.5)
    assert got.loc[A, "dip_k"] == 2
    assert got.loc[A, "z"] == pytest.approx(0.5 / np.sqrt((0.75 * 0.25 + 0.25 * 0.75) / 4))
    assert got.loc[A, "boomerang"]
    assert not got.loc["us/closed", "boomerang"]
    assert got.loc["us/closed", "rise"] == 0
    strict = retention.boomerangs(events, min_cohort=1, min_z=3.0).to_pandas()
    assert not strict.boomerang.any()  # four users cannot show a rise beyond 3 standard errors


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    sim = simulate(SimConfig(requests=300_000, users=25_000, weeks=26, seed=11))
    lake = Lake(tmp_path_factory.mktemp("lake"))
    lake.append(sim.events, "sim")
    events = open_lake(lake).events
    return sim.truth, events, retention.retention_triangle(events).to_pandas()


def test_planted_models_exist(world):
    truth, _, _ = world
    assert truth.glass_slipper
    assert truth.boomerang
    assert len(truth.retention_controls) == 2
    assert truth.glass_slipper_cohort > truth.months[0]  # the launch cohort is observable


TOLERANCE_SE = 4.0
"""Planted retention cells must lie within 4 binomial standard errors (+ 0.01) of the planted curve."""


def test_planted_retention_curves_recovered(world):
    truth, _, tri = world
    tri = tri.assign(cohort=pd.to_datetime(tri.cohort).dt.date)
    both = truth.retention.merge(tri, on=["model", "cohort", "k"], suffixes=("_planted", ""))
    assert len(both) == len(truth.retention)  # every planted cell is observed
    assert (both.cohort_users == both.users_planted).all()  # cohort sizes are exact
    p = both.retention_planted
    se = np.sqrt(p * (1 - p) / both.cohort_users)
    gap = (both.retention - p).abs()
    assert (gap <= TOLERANCE_SE * se + 0.01).all(), both[gap > TOLERANCE_SE * se + 0.01]


def test_planted_glass_slipper_detected_and_nothing_else(world):
    truth, events, _ = world
    got = retention.foundational_cohorts(events).to_pandas()
    flagged = got[got.foundational]
    assert list(flagged.model) == [truth.glass_slipper]
    assert pd.Timestamp(flagged.launch_cohort.iloc[0]).date() == truth.glass_slipper_cohort
    assert not set(truth.retention_controls) & set(flagged.model)


def test_planted_boomerang_detected_and_nothing_else(world):
    truth, events, _ = world
    got = retention.boomerangs(events).to_pandas()
    assert list(got[got.boomerang].model) == [truth.boomerang]
    controls = got[got.model.isin([*truth.retention_controls, truth.glass_slipper])]
    assert len(controls) == 3
    assert not controls.boomerang.any()


def test_retention_properties(world):
    _, events, tri = world
    assert (tri[tri.k == 0].retention == 1.0).all()
    assert tri.retention.between(0, 1).all()
    assert (tri.users == tri.cohort_users).all()
    curves = retention.retention_curves(events, n=5).to_pandas()
    assert curves.model.nunique() == 5
    assert (curves[curves.k == 0].retention == 1).all()
    flows = retention.churn_flows(events).to_pandas()
    assert (flows.from_model != flows.to_model).all()
    assert (flows.groupby("from_model").share.sum() >= 1 - 1e-9).all()
