"""Sampling, the labels table, classify_lake end to end, and the category analyses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tokencensus.analyses import categories as ca
from tokencensus.classify import classify_lake
from tokencensus.classify.labels import LABEL_SCHEMA, append_labels, read_labels
from tokencensus.classify.sample import choose, fractions
from tokencensus.classify.synthetic import prompts_for
from tokencensus.engine import open_lake, open_table
from tokencensus.errors import ConfigError, LakeError
from tokencensus.ingest.samples import SampleWriter, read_samples
from tokencensus.lake import Lake
from tokencensus.simulator import SimConfig, simulate

# ---------------------------------------------------------------- sampling


def _candidates(n_big: int, n_small: int) -> pa.Table:
    ids = [f"big-{i}" for i in range(n_big)] + [f"small-{i}" for i in range(n_small)]
    return pa.table({"request_id": ids, "model": ["big"] * n_big + ["small"] * n_small})


def test_sampling_is_deterministic_nested_and_stratified() -> None:
    cands = _candidates(20_000, 40)
    a = choose(cands, rate=0.01, min_per_model=10)
    b = choose(cands.take(np.random.default_rng(1).permutation(cands.num_rows)), rate=0.01, min_per_model=10)
    assert sorted(a.request_ids.to_pylist()) == sorted(b.request_ids.to_pylist())  # order-free
    chosen = a.request_ids.to_pylist()
    n_big = sum(r.startswith("big") for r in chosen)
    assert 150 <= n_big <= 250  # ~1% of 20,000
    assert sum(r.startswith("small") for r in chosen) == 10  # small model topped up to 10
    assert a.rate_by_model["big"] == 0.01
    assert a.rate_by_model["small"] > 0.01
    lower = set(choose(cands, rate=0.005, min_per_model=0).request_ids.to_pylist())
    assert lower <= set(chosen)  # a lower rate keeps a nested subset
    assert fractions(["x"])[0] == fractions(["x"])[0]


def test_sampling_rejects_bad_rates() -> None:
    with pytest.raises(ConfigError, match="rate"):
        choose(_candidates(2, 2), rate=0)
    with pytest.raises(ConfigError, match="rate"):
        choose(_candidates(2, 2), rate=1.5)


# ---------------------------------------------------------------- labels table


def _labels(ids: list[str], category: str = "roleplay", classifier: str = "default-v1") -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "request_id": ids,
            "language": ["en"] * n,
            "category": [category] * n,
            "subcategory": [category] * n,
            "confidence": [0.9] * n,
            "classifier": [classifier] * n,
        },
        schema=LABEL_SCHEMA,
    )


def test_labels_are_idempotent_per_request_and_classifier(tmp_path: Path) -> None:
    assert append_labels(tmp_path, _labels(["a", "b", "b"])) == 2
    assert append_labels(tmp_path, _labels(["a", "b", "c"])) == 1
    assert append_labels(tmp_path, _labels(["a"], classifier="llm:x")) == 1
    assert read_labels(tmp_path).num_rows == 4
    assert read_labels(tmp_path, "default-v1").num_rows == 3


# ---------------------------------------------------------------- classify_lake


def _t(day: int) -> datetime:
    return datetime(2025, 6, day, 12, tzinfo=UTC)


SECRET_PROMPT = (
    "Write a Python function to email alice@example.com the report; my key is sk-proj-ABCdef123456GHIjkl"
)


@pytest.fixture
def small_lake(tmp_path: Path) -> Path:
    sim = simulate(SimConfig(requests=4_000, users=400, seed=2, weeks=4, min_models=10, max_models=12))
    lake = Lake(tmp_path / "lake")
    lake.append(sim.events, "sim")
    writer = SampleWriter(lake.root, rate=1.0)
    samples = prompts_for(sim.categories.slice(0, 1_000), seed=4)
    secret = pa.table(
        {"request_id": [samples["request_id"][0].as_py()], "text": [SECRET_PROMPT]}, schema=samples.schema
    )
    writer.add(pa.concat_tables([secret, samples.slice(1)]))
    writer.flush()
    return lake.root


def test_classify_lake_writes_labels_once_and_never_keeps_text(small_lake: Path) -> None:
    summary = classify_lake(small_lake, rate=1.0)
    labels = read_labels(small_lake)
    assert summary.written == labels.num_rows == read_samples(small_lake).num_rows == 1_000
    assert labels.schema.equals(LABEL_SCHEMA)
    assert set(labels["classifier"].to_pylist()) == {"default-v3"}
    # the samples were scrubbed when they were stored: nothing is left for classify to find
    assert summary.scrubbed["email"] == 0
    assert summary.scrubbed["secret"] == 0
    texts = "\n".join(read_samples(small_lake)["text"].to_pylist())
    assert "[EMAIL]" in texts
    assert "[SECRET]" in texts
    for table in ("labels", "samples"):
        stored = b"".join(p.read_bytes() for p in (small_lake / table).glob("*.parquet"))
        assert b"alice@example.com" not in stored
        assert b"sk-proj" not in stored
    assert {p.stat().st_mode & 0o777 for p in (small_lake / "samples").glob("*.parquet")} == {0o600}
    assert "alice" not in str(summary)
    assert "sk-proj" not in str(summary)
    again = classify_lake(small_lake, rate=1.0)
    assert again.written == 0
    assert again.already_labelled == 1_000
    assert read_labels(small_lake).num_rows == 1_000


def test_classify_lake_without_samples_says_what_to_do(tmp_path: Path) -> None:
    Lake(tmp_path / "lake")
    with pytest.raises(LakeError, match="no prompt samples"):
        classify_lake(tmp_path / "lake")


# ---------------------------------------------------------------- analyses: golden shares by hand


@pytest.fixture
def hand_tables(tiny_catalog: pa.Table) -> tuple[object, object]:
    """cn/open-large: 4 requests of 100 tokens (80+20), 2 labelled (roleplay, programming): weight 2.
    us/closed: b1 240+60 programming, b2 80+20 roleplay at confidence 0.1 (→ other): weight 1.
    Estimated tokens: roleplay 200, programming 200 + 300 = 500, other 100; total 800."""
    events = pa.table(
        {
            "request_id": ["a1", "a2", "a3", "a4", "b1", "b2"],
            "ts": pa.array([_t(2), _t(3), _t(3), _t(4), _t(2), _t(5)], pa.timestamp("us", tz="UTC")),
            "user_id": ["u1", "u2", "u3", "u4", "u1", "u2"],
            "model": ["cn/open-large"] * 4 + ["us/closed"] * 2,
            "input_tokens": pa.array([80, 80, 80, 80, 240, 80], pa.int64()),
            "output_tokens": pa.array([20, 20, 20, 20, 60, 20], pa.int64()),
            "reasoning_tokens": pa.array([0] * 6, pa.int64()),
            "requests": pa.array([1] * 6, pa.int64()),
            "provider": ["p"] * 6,
        }
    )
    labels = pa.table(
        {
            "request_id": ["a1", "a2", "b1", "b2"],
            "language": ["en", "fr", "en", "en"],
            "category": ["roleplay", "programming", "programming", "roleplay"],
            "subcategory": ["roleplay_games", "programming", "programming", "character_chat"],
            "confidence": [0.9, 0.8, 0.7, 0.1],
            "classifier": ["default-v1"] * 4,
        },
        schema=LABEL_SCHEMA,
    )
    tables = open_table(events, catalog=tiny_catalog)
    return tables.events, tables.con.create_table("labels", labels)


def _shares(df: object, key: str = "category") -> dict[str, float]:
    return {r[key]: round(r["share"], 6) for r in df.to_dict("records")}  # type: ignore[attr-defined]


def test_golden_category_shares(hand_tables: tuple[object, object]) -> None:
    events, labels = hand_tables
    weekly = ca.category_share(events, labels).execute()  # type: ignore[arg-type]
    assert [str(w)[:10] for w in set(weekly["week"])] == ["2025-06-02"]
    assert _shares(weekly) == {"roleplay": 0.25, "programming": 0.625, "other": 0.125}
    assert _shares(ca.category_mix(events, labels, floor=0.75).execute()) == {  # type: ignore[arg-type]
        "roleplay": 0.25,
        "programming": 0.25,
        "other": 0.5,
    }
    seg = ca.mix_by_segment(events, labels).execute()  # type: ignore[arg-type]
    by = {(r["segment"], r["category"]): round(r["share"], 6) for r in seg.to_dict("records")}
    assert by == {
        ("Open weights", "programming"): 0.5,
        ("Open weights", "roleplay"): 0.5,
        ("Chinese open", "programming"): 0.5,
        ("Chinese open", "roleplay"): 0.5,
        ("Proprietary", "programming"): 0.75,
        ("Proprietary", "other"): 0.25,
    }
    authors = ca.mix_by_author(events, labels).execute()  # type: ignore[arg-type]
    assert {(r["author"], r["category"]) for r in authors.to_dict("records")} == {
        ("cn", "roleplay"),
        ("cn", "programming"),
        ("us", "programming"),
        ("us", "other"),
    }
    length = ca.length_by_category(events, labels).execute().set_index("category")  # type: ignore[arg-type]
    assert length.loc["programming", "requests"] == pytest.approx(3.0)
    assert length.loc["programming", "mean_input_tokens"] == pytest.approx((160 + 240) / 3)
    assert length.loc["programming", "mean_output_tokens"] == pytest.approx((40 + 60) / 3)
    lang = ca.language_share(events, labels).execute()  # type: ignore[arg-type]
    assert {r["language"]: round(r["share"], 6) for r in lang.to_dict("records")} == {"en": 0.75, "fr": 0.25}


# ---------------------------------------------------------------- recovery of the simulator's truth

RECOVERY_TOLERANCE = 0.02
"""Max absolute error of any category's token share (planted vs recovered through prompts)."""


def test_simulated_category_token_shares_are_recovered(tmp_path: Path) -> None:
    """simulate → synthetic prompts for a 20% ingest sample → classify 10% (stratified by model) →
    analyses: every category's share of tokens within RECOVERY_TOLERANCE of the planted one."""
    sim = simulate(SimConfig(requests=60_000, users=3_000, seed=3, min_models=20, max_models=30))
    lake = Lake(tmp_path / "lake")
    lake.append(sim.events, "sim")
    writer = SampleWriter(lake.root, rate=0.2)
    writer.add(prompts_for(sim.categories, seed=11))
    writer.flush()
    summary = classify_lake(lake.root, rate=0.1, min_per_model=30)
    assert summary.written > 5_000
    tables = open_lake(lake.root)
    labels = tables.con.create_table("labels", read_labels(lake.root))
    got = _shares(ca.category_mix(tables.events, labels).execute())
    ev = sim.events.select(["request_id", "input_tokens", "output_tokens"]).to_pandas()
    ev = ev.merge(sim.categories.to_pandas(), on="request_id")
    tok = ev.input_tokens + ev.output_tokens
    planted = (tok.groupby(ev.category).sum() / tok.sum()).to_dict()
    errors = {c: abs(got.get(c, 0.0) - planted[c]) for c in planted}
    assert max(errors.values()) <= RECOVERY_TOLERANCE, errors
    weekly = ca.category_share(tables.events, labels).execute()
    assert weekly.groupby("week").share.sum().round(9).eq(1.0).all()
