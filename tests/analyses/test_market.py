"""Market analyses: golden numbers on the hand-made fixture (see conftest.tiny_events)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.conftest import run
from tokencensus import analyses
from tokencensus.engine import open_table

W1, W2 = date(2025, 6, 2), date(2025, 6, 9)


@pytest.fixture
def events(tiny_events, tiny_catalog):
    return open_table(tiny_events, catalog=tiny_catalog).events


def shares(frame: pd.DataFrame, key: str = "segment") -> dict[tuple[date, str], float]:
    return {(r.week, getattr(r, key)): r.share for r in frame.itertuples()}


def test_weekly_volume_golden(events):
    got = run(analyses.weekly_volume(events))
    assert got.to_dict("records") == [
        # week 1: 100+50+200+30 in, 20+10+40+0 out; u1 u2 u3
        {"week": W1, "requests": 4, "input_tokens": 380, "output_tokens": 70, "tokens": 450, "users": 3},
        # week 2: 150+150+100+50+20 in, 30+30+100+10+0 out; r9 weighs 5 requests and has no user
        {"week": W2, "requests": 9, "input_tokens": 470, "output_tokens": 170, "tokens": 640, "users": 3},
    ]


def test_week_starts_monday_utc(events):
    # r3 at Sunday 23:59 UTC belongs to week 1, r5 at Monday 00:00 UTC to week 2.
    got = run(analyses.weekly_share(events, "model"))
    assert (W1, "us/closed") in shares(got)
    assert shares(got)[(W2, "cn/open-large")] == pytest.approx(360 / 640)


def test_share_open_golden(events):
    got = shares(run(analyses.share_open(events)))
    assert got == pytest.approx(
        {
            (W1, "Open weights"): 180 / 450,
            (W1, "Closed"): 240 / 450,
            (W1, "Unknown"): 30 / 450,  # the model missing from the catalog is not dropped
            (W2, "Open weights"): 380 / 640,
            (W2, "Closed"): 260 / 640,
        }
    )


def test_share_origin_golden(events):
    got = shares(run(analyses.share_origin(events)))
    assert got == pytest.approx(
        {
            (W1, "Chinese open"): 120 / 450,
            (W1, "Rest-of-world open"): 60 / 450,
            (W1, "Proprietary"): 240 / 450,
            (W1, "Unknown"): 30 / 450,
            (W2, "Chinese open"): 360 / 640,
            (W2, "Rest-of-world open"): 20 / 640,
            (W2, "Proprietary"): 260 / 640,
        }
    )


def test_share_size_is_within_open_weights(events):
    got = shares(run(analyses.share_size(events)))
    assert got == pytest.approx(
        {(W1, "large"): 120 / 180, (W1, "small"): 60 / 180, (W2, "large"): 360 / 380, (W2, "small"): 20 / 380}
    )


def test_share_reasoning_golden(events):
    got = shares(run(analyses.share_reasoning(events)))
    assert got == pytest.approx(
        {
            (W1, "Reasoning"): 120 / 450,
            (W1, "Non-reasoning"): 330 / 450,
            (W2, "Reasoning"): 560 / 640,
            (W2, "Non-reasoning"): 80 / 640,
        }
    )


def test_users_per_cell_are_distinct_and_ignore_null(events):
    got = run(analyses.share_open(events)).set_index(["week", "segment"])["users"].to_dict()
    assert got[(W1, "Open weights")] == 2  # u1, u2
    assert got[(W2, "Open weights")] == 2  # u1, u4 (r9 has no user)
    assert got[(W2, "Closed")] == 1  # u2 twice


def test_top_models_golden(events):
    got = run(analyses.top_models(events, n=3, weeks=None))
    assert got[["rank", "model", "tokens"]].to_dict("records") == [
        {"rank": 1, "model": "cn/open-large", "tokens": 480},
        {"rank": 2, "model": "us/closed", "tokens": 300},
        {"rank": 3, "model": "us/closed-reasoner", "tokens": 200},
    ]
    assert got["share"].tolist() == pytest.approx([480 / 1090, 300 / 1090, 200 / 1090])
    assert got.loc[2, "author"] == "us"


def test_top_models_recent_window(events):
    got = run(analyses.top_models(events, n=10, weeks=1))  # week 2 only
    assert dict(zip(got.model, got.tokens, strict=True)) == {
        "cn/open-large": 360,
        "us/closed-reasoner": 200,
        "us/closed": 60,
        "eu/open-small": 20,
    }
    assert got["share"].sum() == pytest.approx(1.0)


def test_top_models_weekly_groups_the_rest(events):
    got = shares(run(analyses.top_models_weekly(events, n=2)), key="model")
    assert got == pytest.approx(
        {
            (W1, "cn/open-large"): 120 / 450,
            (W1, "us/closed"): 240 / 450,
            (W1, "Other"): 90 / 450,
            (W2, "cn/open-large"): 360 / 640,
            (W2, "us/closed"): 60 / 640,
            (W2, "Other"): 220 / 640,
        }
    )


def test_unknown_model_gets_unknown_attributes(events):
    row = run(events.filter(events.model == "mystery-model")).iloc[0]
    assert (row["author"], row["origin"], row["size_class"], row["resolved"]) == (
        "unknown",
        "unknown",
        "unknown",
        False,
    )
