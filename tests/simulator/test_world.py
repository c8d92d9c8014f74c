"""The simulator's world knobs the calibrated demo world uses, each on a small world of its own.

Knot trajectories, excluded models, per-author and per-model popularity and mixes, the open-weights
author calibration, per-category tool calls, named retention plants, continent growth and the
multilingual synthetic prompts.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from tests.simulator.test_simulate import handmade_catalog
from tokencensus.classify.language import detect
from tokencensus.classify.synthetic import FOREIGN_LANGUAGES, prompt_for
from tokencensus.simulator import CATEGORIES, SimConfig, iter_simulate, simulate
from tokencensus.simulator.config import RetentionPlant, along
from tokencensus.simulator.market import day_volume
from tokencensus.simulator.world import WEEKDAY

CATALOG = handmade_catalog()
BASE = SimConfig(requests=60_000, users=4_000, weeks=30, min_models=10, start=date(2025, 3, 3))


def test_knots_interpolate_by_date_and_hold_outside():
    days = [date(2025, 1, 1) + timedelta(days=d) for d in range(0, 40, 10)]  # Jan 1, 11, 21, 31
    knots = ((date(2025, 1, 11), 0.1), (date(2025, 1, 31), 0.3))
    assert along(knots, days) == pytest.approx([0.1, 0.1, 0.2, 0.3])
    geo = ((date(2025, 1, 11), 100.0), (date(2025, 1, 31), 400.0))
    assert along(geo, days, geometric=True) == pytest.approx([100.0, 100.0, 200.0, 400.0])
    # pairs run from the first to the last day, as before
    assert along((0.0, 0.3), days) == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert along((1.0, 8.0), days, geometric=True) == pytest.approx([1.0, 2.0, 4.0, 8.0])


def test_segment_knots_are_planted_week_by_week():
    knots = ((date(2025, 3, 3), 0.05), (date(2025, 5, 5), 0.05), (date(2025, 5, 12), 0.30))
    sim = simulate(dataclasses.replace(BASE, chinese_open_share=knots), CATALOG)
    seg = sim.truth.segment_share.pivot(index="week", columns="segment", values="share")["Chinese open"]
    assert seg[date(2025, 3, 3)] == pytest.approx(0.05, abs=1e-3)
    # the week of the jump: day d (Monday = 0) at 0.05 + 0.25 d / 7, weighted by the weekday volume
    # (the volume's growth within the week tilts it a little further)
    d = np.arange(7)
    assert seg[date(2025, 5, 5)] == pytest.approx(0.05 + 0.25 * (WEEKDAY @ d) / WEEKDAY.sum() / 7, abs=2e-3)
    assert seg[date(2025, 6, 2)] == pytest.approx(0.30, abs=1e-3)


def test_excluded_and_named_models():
    config = dataclasses.replace(
        BASE,
        exclude=("^google/", "llama-3$"),
        model_popularity={"openai/gpt-2": 50.0},
        author_popularity={"anthropic": 0.01},
    )
    truth, _ = iter_simulate(config, CATALOG)
    assert not any(m.startswith("google/") or m == "meta-llama/llama-3" for m in truth.models)
    share = truth.model_share.groupby("model")["share"].mean()
    closed = share[[m.startswith(("openai/", "anthropic/")) for m in share.index]]
    assert closed.idxmax() == "openai/gpt-2"
    assert share[[m.startswith("anthropic/") for m in share.index]].sum() < 0.02 * closed.sum()


def test_open_author_tokens_are_calibrated():
    """The named authors' shares of open-weights tokens (expected, over the span) match the targets."""
    goal = {"deepseek": 6.0, "meta-llama": 3.0, "qwen": 1.0}
    start = date(2025, 4, 7)
    config = dataclasses.replace(BASE, open_author_tokens=goal, calibrate_from=start)
    truth, _ = iter_simulate(config, CATALOG)
    info = truth.model_info.set_index("model")
    tokens = truth.model_share.merge(truth.volume[["week", "tokens"]], on="week")
    tokens = tokens[tokens.week >= start]
    tokens["t"] = tokens["share"] * tokens["tokens"]
    tokens["author"] = info.loc[tokens.model, "author"].to_numpy()
    tokens["open"] = info.loc[tokens.model, "open_weights"].to_numpy()
    by_author = tokens[tokens.open].groupby("author")["t"].sum()
    got = by_author[list(goal)] / by_author[list(goal)].sum()
    want = pd.Series(goal) / sum(goal.values())
    assert (got - want).abs().max() < 0.01, got


def test_author_mix_and_tool_calls_by_category():
    config = dataclasses.replace(
        BASE,
        author_mix={"anthropic": {"programming": 0.9, "writing": 0.1}},
        tool_category_weight={"programming": 4.0, "roleplay": 0.0},
        tool_call_rate=(0.2, 0.2),
    )
    sim = simulate(config, CATALOG)
    ev = sim.events.to_pandas().assign(category=sim.categories.column("category").to_pylist())
    claude = ev[ev.model.str.startswith("anthropic/")]
    # each model's mix is drawn around its author's profile (a Dirichlet with a small floor), then
    # the week's programming trend scales programming for every model alike
    assert claude.category.isin(["programming", "writing"]).mean() > 0.85
    plain = simulate(dataclasses.replace(BASE, tool_call_rate=(0.2, 0.2)), CATALOG)
    plain_cats = pd.Series(plain.categories.column("category").to_pylist())
    plain_claude = plain_cats[plain.events.column("model").to_pandas().str.startswith("anthropic/")]
    assert plain_claude.isin(["programming", "writing"]).mean() < 0.6
    tool = ev.finish_reason.astype(str) == "tool_calls"
    assert not tool[ev.category == "roleplay"].any()
    # the planted share of tool-call requests is what the events carry
    weekly = ev.assign(week=ev.ts.dt.tz_convert(None).dt.to_period("W-SUN").dt.start_time.dt.date, tool=tool)
    got = weekly.groupby("week")["tool"].mean()
    want = sim.truth.agentic.set_index("week")["tool_call_share"]
    assert (got - want).abs().mean() < 0.01
    # tool calls concentrate on long programming prompts: a larger share of tokens than of requests
    tokens = ev.input_tokens + ev.output_tokens
    assert tokens[tool].sum() / tokens.sum() > tool.mean() + 0.03


def test_named_retention_plants_hold_in_the_events():
    plant = RetentionPlant(
        model="deepseek/ds-3", cohort=date(2025, 5, 1), curve=(0.6, 0.5, 0.45), later=(0.2, 0.1, 0.08)
    )
    config = dataclasses.replace(
        BASE,
        requests=200_000,
        users=15_000,
        model_popularity={"deepseek/ds-3": 20.0},
        retention_plants=(plant,),
    )
    sim = simulate(config, CATALOG)
    assert sim.truth.glass_slipper == "deepseek/ds-3"
    assert sim.truth.glass_slipper_cohort == date(2025, 5, 1)
    ev = sim.events.select(["ts", "user_id", "model"]).to_pandas()
    ev = ev[ev.model == "deepseek/ds-3"]
    ev["month"] = ev.ts.dt.tz_convert(None).dt.to_period("M")
    first = ev.groupby("user_id")["month"].min()
    cohort = set(first[first == pd.Period("2025-05", "M")].index)
    active = ev.groupby("month")["user_id"].agg(set)
    for k, want in ((1, 0.6), (2, 0.5), (3, 0.45)):
        got = len(cohort & active[pd.Period("2025-05", "M") + k]) / len(cohort)
        assert got == pytest.approx(want, abs=4 * np.sqrt(want * (1 - want) / len(cohort)) + 0.01)


def test_named_plant_of_an_unknown_model_is_refused():
    plant = RetentionPlant(model="nobody/none", cohort=date(2025, 5, 1), curve=(0.5,), later=(0.2,))
    with pytest.raises(ValueError, match="nobody/none"):
        simulate(dataclasses.replace(BASE, retention_plants=(plant,)), CATALOG)


@pytest.mark.parametrize(
    ("plant", "message"),
    [
        (RetentionPlant("deepseek/ds-3", date(2025, 5, 1), (0.5,), (0.2,), kind="slipper"), "kind 'slipper'"),
        (RetentionPlant("deepseek/ds-3", date(2025, 5, 1), (1.5,), (0.2,)), r"shares in \[0, 1\]"),
    ],
)
def test_bad_retention_plants_are_refused(plant, message):
    with pytest.raises(ValueError, match=message):
        simulate(dataclasses.replace(BASE, retention_plants=(plant,)), CATALOG)


def test_continent_growth_moves_traffic_to_a_continent():
    countries = (("US", "North America", 0.8), ("SG", "Asia", 0.2))
    flat = simulate(dataclasses.replace(BASE, countries=countries), CATALOG)
    grow = simulate(dataclasses.replace(BASE, countries=countries, continent_growth={"Asia": 30.0}), CATALOG)

    def asia_by_month(sim):
        ev = sim.events.select(["ts", "country"]).to_pandas()
        ev["month"] = ev.ts.dt.tz_convert(None).dt.to_period("M")
        return ev.groupby("month")["country"].apply(lambda c: (c == "SG").mean())

    f, g = asia_by_month(flat), asia_by_month(grow)
    assert abs(f.iloc[-1] - f.iloc[0]) < 0.1
    assert g.iloc[-1] > g.iloc[0] + 0.15
    assert set(grow.events.column("country").to_pylist()) == {"US", "SG"}


def test_day_volume_grows_linearly():
    config = dataclasses.replace(BASE, volume_growth=3.0, weeks=2)
    v = day_volume(config, 14)
    assert v[13] / v[0] == pytest.approx(3.0 * 0.75)  # the last day is a Sunday (weekday weight 0.75)


@pytest.mark.parametrize("language", FOREIGN_LANGUAGES)
def test_synthetic_prompts_are_written_in_their_language(language):
    texts = [prompt_for(c, f"r{i}", seed=3, language=language) for c in CATEGORIES for i in range(3)]
    # greetings are too short for any detector; every other prompt is detected as its language
    long = [t for t in texts if len(t) >= 12]
    got = detect(long)
    assert sum(g == language for g in got) >= 0.95 * len(long), [
        t for t, g in zip(long, got, strict=True) if g != language
    ]


def test_unknown_prompt_language_is_refused():
    with pytest.raises(ValueError, match="xx"):
        prompt_for("programming", "r1", language="xx")
