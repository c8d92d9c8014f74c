"""The simulator: canonical, deterministic output whose planted truth the data actually carries.

Statistical checks compute the empirical quantity straight from the events with pandas and compare
it with :class:`Truth` under a stated tolerance (mostly a few standard errors).
"""

from __future__ import annotations

import importlib.util
import resource
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokencensus.schema import EVENT_SCHEMA, validate
from tokencensus.simulator import (
    CATEGORIES,
    CATEGORY_COLUMN,
    CHUNK_SCHEMA,
    SEGMENTS,
    SimConfig,
    iter_simulate,
    simulate,
    split_chunk,
)

HAVE_CATALOG = importlib.util.find_spec("tokencensus.catalog") is not None
START = date(2025, 6, 2)


def handmade_catalog(extra: int = 0) -> pa.Table:
    """36 models over the three segments, released 2024..2025, plus one after the period and 'unknown'.

    ``extra`` adds that many old closed models (for the selection test).
    """
    rows = []

    def add(
        slug, author, open_w, origin, released, reasoning=False, tools=True, params=None, price=(1.0, 4.0)
    ):
        size = (
            "unknown"
            if params is None
            else ("small" if params < 15 else "medium" if params < 70 else "large")
        )
        rows.append((slug, author, open_w, origin, params, size, reasoning, tools, released, *price))

    pre = [date(2024, 9, 1), date(2025, 1, 20), date(2025, 3, 10), date(2025, 5, 1)]
    inside = [date(2025, 6, 9), date(2025, 7, 3), date(2025, 8, 5), date(2025, 9, 15), date(2025, 11, 2)]
    for i, d in enumerate(pre + inside):
        add(
            f"deepseek/ds-{i}",
            "deepseek",
            True,
            "CN",
            d,
            reasoning=i % 2 == 1,
            params=671.0,
            price=(0.3, 1.1),
        )
        add(
            f"meta-llama/llama-{i}",
            "meta-llama",
            True,
            "US",
            d,
            params=8.0 if i % 2 else 70.0,
            price=(0.1, 0.2),
        )
        add(f"openai/gpt-{i}", "openai", False, "US", d, reasoning=i % 3 == 0, price=(2.0, 8.0))
        add(f"anthropic/claude-{i}", "anthropic", False, "US", d, reasoning=i > 4, price=(3.0, 15.0))
    add("google/gemini-x", "google", False, "US", date(2025, 2, 1), tools=False, price=(None, None))
    add("google/gemini-y", "google", False, "US", date(2025, 6, 20), reasoning=True)
    add("mistralai/mistral-z", "mistralai", True, "EU", date(2025, 4, 1), params=24.0)
    add("qwen/qwen-z", "qwen", True, "CN", date(2025, 7, 20), params=32.0)
    add("openai/future", "openai", False, "US", date(2027, 1, 1))
    for i in range(extra):
        add(f"old/closed-{i}", "old", False, "other", date(2023, 6, 1) + timedelta(days=i))
    cols = list(zip(*rows, strict=True))
    n = len(rows)
    return pa.table(
        {
            "slug": pa.array([*cols[0], "unknown"]),
            "name": pa.array([*cols[0], "Unknown"]),
            "author": pa.array([*cols[1], "unknown"]),
            "open_weights": pa.array([*cols[2], None], pa.bool_()),
            "origin": pa.array([*cols[3], "unknown"]),
            "params_b": pa.array([*cols[4], None], pa.float64()),
            "active_params_b": pa.nulls(n + 1, pa.float64()),
            "size_class": pa.array([*cols[5], "unknown"]),
            "reasoning": pa.array([*cols[6], False]),
            "tools": pa.array([*cols[7], False]),
            "release_date": pa.array([*cols[8], None], pa.date32()),
            "input_price": pa.array([*cols[9], None], pa.float64()),
            "output_price": pa.array([*cols[10], None], pa.float64()),
            "context_length": pa.array([128_000] * n + [None], pa.int64()),
        }
    )


SMALL = SimConfig(requests=20_000, users=2_000, weeks=20, min_models=10)
STATS = SimConfig(requests=250_000, users=20_000, weeks=35, min_models=10)
"""Size of the statistical checks: 8 calendar months, so later cohorts have k = 3."""


CATALOG = handmade_catalog()


@pytest.fixture(scope="module")
def small():
    return simulate(SMALL, handmade_catalog())


def _catalogs() -> list:
    params = [pytest.param("handmade", id="handmade")]
    if HAVE_CATALOG:
        params.append(pytest.param("real", id="real-catalog"))
    return params


@pytest.fixture(scope="module", params=_catalogs())
def stats(request):
    """A mid-size simulation and its events as pandas, with week/month/tokens/segment/category."""
    if request.param == "real":
        from tokencensus.catalog import load_catalog

        sim = simulate(STATS, load_catalog().table)
    else:
        sim = simulate(STATS, handmade_catalog())
    ev = sim.events.to_pandas()
    ts = ev["ts"].dt.tz_convert("UTC").dt.tz_localize(None)
    day = ts.dt.normalize()
    ev["week"] = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.date
    ev["month"] = ts.dt.to_period("M").dt.start_time.dt.date
    ev["tokens"] = ev["input_tokens"] + ev["output_tokens"]
    info = sim.truth.model_info.set_index("model")
    ev["segment"] = ev["model"].map(info["segment"])
    cats = sim.categories.to_pandas()
    assert (cats["request_id"].to_numpy() == ev["request_id"].to_numpy()).all()
    ev["category"] = cats["category"].to_numpy()
    return sim, ev


# --- shape, schema, determinism --------------------------------------------------------------


def test_events_are_canonical_and_valid(small):
    ev = small.events
    assert ev.schema == EVENT_SCHEMA
    assert ev.num_rows == SMALL.requests
    checked = validate(ev, "simulate")
    assert checked.quarantine.num_rows == 0
    assert checked.valid.num_rows == SMALL.requests
    ids = ev["request_id"].to_pandas()
    assert ids.is_unique
    assert ids.str.fullmatch(r"sim-\d{10}").all()
    assert small.categories.schema.names == ["request_id", "category"]
    assert small.categories["request_id"].equals(ev["request_id"])
    assert set(small.categories["category"].to_pylist()) <= set(CATEGORIES)


def test_columns_are_plausible(small):
    df = small.events.to_pandas()
    info = small.truth.model_info.set_index("model")
    ts = df["ts"]
    assert ts.is_monotonic_increasing
    assert ts.min() >= pd.Timestamp(SMALL.start, tz="UTC")
    assert ts.max() < pd.Timestamp(SMALL.end, tz="UTC")
    assert set(df["model"]) <= set(small.truth.models)
    assert "unknown" not in small.truth.models
    assert "openai/future" not in small.truth.models
    reasoner = df["model"].map(info["reasoning"]).astype(bool)
    assert (df.loc[~reasoner, "reasoning_tokens"] == 0).all()
    assert (df.loc[reasoner, "reasoning_tokens"] > 0).any()
    assert (df["reasoning_tokens"] <= df["output_tokens"]).all()
    assert (df["cached_tokens"] <= df["input_tokens"]).all()
    tool = df["finish_reason"] == "tool_calls"
    assert (df.loc[tool, "tool_calls"] >= 1).all()
    assert (df.loc[~tool, "tool_calls"] == 0).all()
    assert df.loc[tool, "model"].map(info["tools"]).astype(bool).all()
    assert (df.loc[df["finish_reason"] == "error", "output_tokens"] == 0).all()
    assert (df["ttft_ms"] > 0).all()
    assert (df["latency_ms"] >= df["ttft_ms"]).all()
    price_in = df["model"].map(info["input_price"]).astype(float).fillna(0.0)
    price_out = df["model"].map(info["output_price"]).astype(float).fillna(0.0)
    cost = (df["input_tokens"] * price_in + df["output_tokens"] * price_out) / 1e6
    np.testing.assert_allclose(df["cost_usd"], cost, rtol=1e-12)
    assert (df.loc[df["model"] == "google/gemini-x", "cost_usd"] == 0).all()
    assert df.groupby("user_id")["country"].nunique().max() == 1
    assert df["user_id"].str.fullmatch(r"u\d{6}").all()
    closed = ~df["model"].map(info["open_weights"]).astype(bool)
    assert set(df.loc[closed & df["model"].str.startswith("anthropic/"), "provider"]) <= {
        "Anthropic",
        "Amazon Bedrock",
        "Google Vertex",
    }
    assert (df["model_raw"] != df["model"]).any()
    assert df["app"].isna().any()
    assert df["app"].notna().mean() > 0.5
    assert set(df["finish_reason"]) <= {
        "stop",
        "length",
        "tool_calls",
        "content_filter",
        "error",
        "cancelled",
    }
    assert (df["requests"] == 1).all()
    assert not df["tokens_estimated"].any()


def test_same_seed_same_data_other_seed_other_data():
    catalog = handmade_catalog()
    config = SimConfig(requests=5_000, users=500, weeks=20, min_models=10)
    a, b = simulate(config, catalog), simulate(config, catalog)
    assert a.events.equals(b.events)
    assert a.categories.equals(b.categories)
    pd.testing.assert_frame_equal(a.truth.model_share, b.truth.model_share)
    pd.testing.assert_frame_equal(a.truth.retention, b.truth.retention)
    c = simulate(SimConfig(requests=5_000, users=500, weeks=20, min_models=10, seed=8), catalog)
    assert not a.events.equals(c.events)
    assert not a.events["user_id"].equals(c.events["user_id"])


def test_iter_simulate_chunks_concatenate_to_simulate(small):
    config = SimConfig(**{**SMALL.__dict__, "chunk_rows": 700})
    truth, chunks = iter_simulate(config, handmade_catalog())
    tables = list(chunks)
    assert len(tables) > len(truth.months)
    assert all(t.schema == CHUNK_SCHEMA and t.num_rows <= 700 for t in tables)
    whole = pa.concat_tables(tables)
    events, categories = split_chunk(whole)
    assert events.equals(small.events)
    assert whole[CATEGORY_COLUMN].equals(small.categories["category"])
    assert categories.equals(small.categories)
    pd.testing.assert_frame_equal(truth.segment_share, small.truth.segment_share)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    requests=st.integers(1, 4_000),
    weeks=st.integers(1, 30),
    seed=st.integers(0, 2**31),
    users=st.integers(100, 3_000),
)
def test_any_small_config_gives_valid_rows(requests, weeks, seed, users):
    sim = simulate(SimConfig(requests=requests, users=users, weeks=weeks, seed=seed, min_models=10), CATALOG)
    assert sim.events.num_rows == requests
    assert validate(sim.events, "simulate").quarantine.num_rows == 0
    assert sim.events["request_id"].to_pandas().is_unique
    shares = sim.truth.model_share.groupby("week")["share"].sum()
    np.testing.assert_allclose(shares, 1.0, atol=1e-9)


# --- config and catalog handling --------------------------------------------------------------


def test_rejects_bad_config_and_thin_catalog():
    with pytest.raises(ValueError, match="Monday"):
        simulate(SimConfig(start=date(2025, 6, 3), min_models=10), CATALOG)
    with pytest.raises(ValueError, match="min_models"):
        simulate(SimConfig(requests=1_000, users=200, weeks=4), CATALOG)
    with pytest.raises(ValueError, match="chinese_open_share"):
        simulate(SimConfig(chinese_open_share=(0.9, 0.9), min_models=10), CATALOG)


def test_selection_keeps_recent_models_and_every_segment():
    config = SimConfig(requests=3_000, users=300, weeks=20, min_models=10, max_models=30)
    sim = simulate(config, handmade_catalog(extra=30))
    info = sim.truth.model_info
    assert len(sim.truth.models) == 30
    pre = pd.to_datetime(info["release_date"]) < pd.Timestamp(config.start)
    for seg in SEGMENTS:
        assert (pre & (info["segment"] == seg)).sum() >= 1, seg
    # the old closed models matter least, so they are the ones dropped
    assert sum(m.startswith("old/") for m in sim.truth.models) < 30
    first_week = sim.truth.segment_share[sim.truth.segment_share["week"] == config.start]
    assert (first_week["share"] > 0).all()
    assert len(first_week) == 3


# --- planted market shares --------------------------------------------------------------------


def test_truth_shares_sum_to_one_and_aggregate(stats):
    sim, _ = stats
    truth = sim.truth
    for frame in (truth.model_share, truth.segment_share):
        np.testing.assert_allclose(frame.groupby("week")["share"].sum(), 1.0, atol=1e-9)
    by_open = truth.share_by("open_weights").pivot(index="week", columns="open_weights", values="share")
    seg = truth.segment_share.pivot(index="week", columns="segment", values="share")
    np.testing.assert_allclose(by_open[False], seg["Proprietary"], atol=1e-12)
    # planted segment targets move linearly over the period
    first, last = seg.iloc[0], seg.iloc[-1]
    assert first["Chinese open"] == pytest.approx(0.05, abs=0.005)
    assert last["Chinese open"] == pytest.approx(0.25, abs=0.005)
    assert last["Rest-of-world open"] == pytest.approx(0.14, abs=0.005)
    reasoning = truth.share_by("reasoning").pivot(index="week", columns="reasoning", values="share")[True]
    assert reasoning.iloc[-4:].mean() > reasoning.iloc[:4].mean()


def test_segment_token_shares_recovered(stats):
    """Empirical segment token shares on 4-week windows are within 0.03 of the truth."""
    sim, ev = stats
    truth = sim.truth
    window = {w: i // 4 for i, w in enumerate(truth.weeks)}
    ev = ev.assign(window=ev["week"].map(window))
    emp = ev.groupby(["window", "segment"])["tokens"].sum()
    emp = emp / emp.groupby(level="window").transform("sum")
    planted = truth.segment_share.merge(truth.volume, on="week")
    planted["window"] = planted["week"].map(window)
    planted["weighted"] = planted["share"] * planted["tokens"]
    grouped = planted.groupby(["window", "segment"])
    expected = grouped["weighted"].sum() / grouped["tokens"].sum()
    diff = (emp.reindex(expected.index, fill_value=0.0) - expected).abs()
    assert diff.max() < 0.03, diff.sort_values().tail()


def test_model_shares_recovered_over_the_period(stats):
    sim, ev = stats
    truth = sim.truth
    emp = ev.groupby("model")["tokens"].sum() / ev["tokens"].sum()
    planted = truth.model_share.merge(truth.volume[["week", "tokens"]], on="week")
    planted["t"] = planted["share"] * planted["tokens"]
    expected = planted.groupby("model")["t"].sum() / truth.volume["tokens"].sum()
    assert (emp.reindex(expected.index, fill_value=0.0) - expected).abs().max() < 0.01


# --- agentic use, lengths, categories, users ---------------------------------------------------


def _quarters(truth, ev):
    n = len(truth.weeks)
    first, last = set(truth.weeks[: n // 4]), set(truth.weeks[-(n // 4) :])
    return first, last, ev[ev["week"].isin(first)], ev[ev["week"].isin(last)]


def test_tool_calls_and_input_lengths_rise_as_planted(stats):
    sim, ev = stats
    truth = sim.truth
    first, last, q1, q4 = _quarters(truth, ev)
    agentic = truth.agentic.merge(truth.volume, on="week")

    def planted(weeks, column):
        sel = agentic[agentic["week"].isin(weeks)]
        return float((sel[column] * sel["requests"]).sum() / sel["requests"].sum())

    tool1, tool4 = (q["finish_reason"].eq("tool_calls").mean() for q in (q1, q4))
    assert tool4 > 2 * tool1
    assert tool1 == pytest.approx(planted(first, "tool_call_share"), abs=0.01)
    assert tool4 == pytest.approx(planted(last, "tool_call_share"), abs=0.01)
    in1, in4 = q1["input_tokens"].mean(), q4["input_tokens"].mean()
    assert in4 > 2 * in1
    assert in1 == pytest.approx(planted(first, "mean_input_tokens"), rel=0.06)
    assert in4 == pytest.approx(planted(last, "mean_input_tokens"), rel=0.06)
    out1, out4 = q1["output_tokens"].mean(), q4["output_tokens"].mean()
    assert out4 > 1.4 * out1
    assert out4 == pytest.approx(planted(last, "mean_output_tokens"), rel=0.06)
    ratio = ev["reasoning_tokens"].sum() / ev["output_tokens"].sum()
    expected = (agentic["reasoning_token_share"] * agentic["tokens"]).sum() / agentic["tokens"].sum()
    assert ratio == pytest.approx(expected, rel=0.15)


def test_programming_share_rises_and_categories_shape_lengths(stats):
    sim, ev = stats
    truth = sim.truth
    first, last, q1, q4 = _quarters(truth, ev)
    share1, share4 = (
        q.loc[q["category"] == "programming", "tokens"].sum() / q["tokens"].sum() for q in (q1, q4)
    )
    planted = truth.category_share[truth.category_share["category"] == "programming"].merge(
        truth.volume, on="week"
    )

    def expected(weeks):
        sel = planted[planted["week"].isin(weeks)]
        return float((sel["token_share"] * sel["tokens"]).sum() / sel["tokens"].sum())

    assert share4 > share1 + 0.1
    assert share1 == pytest.approx(expected(first), abs=0.03)
    assert share4 == pytest.approx(expected(last), abs=0.03)
    means = ev.groupby("category")[["input_tokens", "output_tokens"]].mean()
    assert means.loc["programming", "input_tokens"] > 3 * means.loc["translation", "input_tokens"]
    assert means.loc["roleplay", "output_tokens"] > 2 * means.loc["translation", "output_tokens"]
    # open models are roleplay-heavy, Anthropic's programming-heavy (request shares)
    by_seg = ev[ev["segment"] != "Proprietary"]["category"].value_counts(normalize=True)
    assert by_seg.index[0] == "roleplay"
    anthropic = ev[ev["model"].str.startswith("anthropic/")]["category"].value_counts(normalize=True)
    if len(anthropic):
        assert anthropic.index[0] == "programming"


def test_users_have_planted_countries_and_heavy_tail(stats):
    sim, ev = stats
    users = ev.drop_duplicates("user_id")
    assert len(users) > 0.8 * STATS.users
    emp = users["country"].value_counts(normalize=True)
    planted = sim.truth.country_share.set_index("country")["share"]
    assert (emp.reindex(planted.index, fill_value=0) - planted).abs().max() < 0.015
    per_user = ev.groupby("user_id").size().sort_values(ascending=False)
    assert per_user.head(len(per_user) // 100).sum() > 0.2 * len(ev)  # top 1% of users: > 20% of requests


# --- retention ---------------------------------------------------------------------------------


def _empirical_retention(ev: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    active = ev[ev["model"].isin(models)][["model", "user_id", "month"]].drop_duplicates()
    cohort = active.groupby(["model", "user_id"])["month"].min().rename("cohort")
    active = active.join(cohort, on=["model", "user_id"])
    active["k"] = [
        (m.year - c.year) * 12 + m.month - c.month
        for m, c in zip(active["month"], active["cohort"], strict=True)
    ]
    size = active[active["k"] == 0].groupby(["model", "cohort"]).size().rename("n")
    out = active.groupby(["model", "cohort", "k"]).size().rename("active").reset_index()
    out = out.join(size, on=["model", "cohort"])
    out["emp"] = out["active"] / out["n"]
    return out


def _pooled(frame: pd.DataFrame, column: str = "emp") -> pd.Series:
    """Cohort-size-weighted mean by k."""
    return (frame[column] * frame["n"]).groupby(frame["k"]).sum() / frame.groupby("k")["n"].sum()


def test_planted_retention_is_recovered(stats):
    sim, ev = stats
    truth = sim.truth
    assert truth.glass_slipper
    assert truth.boomerang
    assert len(truth.retention_controls) >= 2
    planted_models = [truth.glass_slipper, truth.boomerang, *truth.retention_controls]
    assert len(set(planted_models)) == len(planted_models)
    emp = _empirical_retention(ev, planted_models)
    merged = truth.retention.merge(emp, on=["model", "cohort", "k"], how="left").fillna({"emp": 0.0})
    # cohort sizes are exact: nothing was capped or moved for the planted models
    sizes = emp[emp["k"] == 0].set_index(["model", "cohort"])["n"]
    planted_sizes = truth.retention[truth.retention["k"] == 0].set_index(["model", "cohort"])["users"]
    assert set(planted_sizes.index) <= set(sizes.index)
    assert (sizes.reindex(planted_sizes.index) == planted_sizes).all()
    p = merged["retention"]
    tolerance = 4 * np.sqrt(p * (1 - p) / merged["users"]) + 0.01
    bad = merged[(merged["emp"] - p).abs() > tolerance]
    assert bad.empty, bad


def test_glass_slipper_boomerang_and_controls_have_their_shapes(stats):
    sim, ev = stats
    truth = sim.truth
    emp = _empirical_retention(ev, [truth.glass_slipper, truth.boomerang, *truth.retention_controls])

    slipper = emp[emp["model"] == truth.glass_slipper]
    launch = slipper[(slipper["cohort"] == truth.glass_slipper_cohort) & (slipper["k"] == 3)]
    later = slipper[(slipper["cohort"] > truth.glass_slipper_cohort) & (slipper["k"] == 3)]
    assert len(launch) == 1
    assert len(later) >= 1
    assert launch["emp"].iloc[0] >= 2 * _pooled(later).iloc[0]

    boomerang = _pooled(emp[emp["model"] == truth.boomerang])
    assert boomerang[2] < boomerang[1] - 0.1  # the dip
    assert boomerang[3] > boomerang[2] + 0.05
    assert boomerang[4] > boomerang[3]

    for model in truth.retention_controls:
        rows = emp[(emp["model"] == model) & (emp["k"] >= 1)]
        curve = _pooled(rows)
        n = rows.groupby("k")["n"].sum()
        noise = 3 * np.sqrt(curve * (1 - curve) / n)
        assert (curve.diff().dropna() <= noise.iloc[1:]).all(), (model, curve)
        planted = truth.retention[(truth.retention["model"] == model) & (truth.retention["k"] >= 1)]
        assert (planted.groupby("cohort")["retention"].diff().dropna() <= 1e-12).all()


# --- full size ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_CATALOG, reason="needs tokencensus.catalog")
def test_default_size_with_real_catalog():
    from tokencensus.catalog import load_catalog

    catalog = load_catalog().table
    start = time.perf_counter()
    sim = simulate(SimConfig(), catalog)
    seconds = time.perf_counter() - start
    ev = sim.events
    assert ev.num_rows >= 1_000_000
    assert len(sim.truth.models) >= 150
    assert pa.compute.count_distinct(ev["user_id"]).as_py() >= 50_000
    assert pa.compute.count_distinct(ev["model"]).as_py() == len(sim.truth.models)
    assert validate(ev, "simulate").quarantine.num_rows == 0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nsimulate(): {ev.num_rows / seconds:,.0f} rows/s, {seconds:.2f} s, "
        f"process peak RSS {peak_mb:,.0f} MB"
    )
