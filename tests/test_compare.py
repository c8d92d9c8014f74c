"""The demo's world against the published study: the calibrated file, the comparison, docs/study.md."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from tokencensus.catalog import load_catalog
from tokencensus.compare import MEASURES, Row, study_markdown
from tokencensus.simulator import iter_simulate
from tokencensus.simulator.study import study_world

DOCS = Path(__file__).resolve().parents[1] / "docs" / "study.md"


def test_every_published_figure_has_a_measurement_and_a_range():
    world = study_world()
    ids = [f["id"] for f in world.figures]
    assert len(ids) == len(set(ids)) >= 50
    assert set(ids) == set(MEASURES)
    for f in world.figures:
        assert f["published"]
        assert f["section"]
        assert f["figure"]
        assert "low" in f or "high" in f, f["id"]


def test_the_world_names_only_catalog_models_and_the_study_period():
    world = study_world()
    config = world.config
    slugs = set(load_catalog().table.column("slug").to_pylist())
    named = set(config.model_popularity) | {p.model for p in config.retention_plants}
    assert named <= slugs, sorted(named - slugs)
    # the model-level window: Monday 2024-11-04 to Sunday 2025-11-30; history from June 2024
    assert world.study_start == date(2024, 11, 4)
    assert world.study_start.weekday() == 0
    assert config.end == date(2025, 12, 1)
    assert config.start <= date(2024, 6, 30)
    # shares among the ten open-weights authors, as published (trillions of tokens)
    assert list(config.open_author_tokens) == [
        "deepseek", "qwen", "meta-llama", "mistralai", "openai",
        "minimax", "z-ai", "tngtech", "moonshotai", "google",
    ]  # fmt: skip
    assert config.open_author_tokens["deepseek"] == 14.37


def test_the_demo_world_is_chat_models_on_their_real_release_dates():
    world = study_world(requests=20_000, users=3_000)
    truth, _chunks = iter_simulate(world.config)
    info = truth.model_info
    assert not info["model"].str.contains("guard|embed|moderation|-image|audio").any()
    catalog = load_catalog().table.to_pandas().set_index("slug")["release_date"]
    assert (info["release_date"].to_numpy() == catalog[info["model"]].to_numpy()).all()
    # no traffic in a week that ends before the model's release
    shares = truth.model_share.merge(info[["model", "release_date"]], on="model")
    before = shares[[(r - w).days > 6 for w, r in zip(shares.week, shares.release_date, strict=True)]]
    assert len(before) > 0
    assert before["share"].sum() == 0


def test_markdown_table_escapes_and_counts():
    rows = [
        Row("a", "Data", "x | y", "1%", "2%", "0 … 1", True),
        Row("b", "Data", "z", "3%", "9%", "≥ 5", False),
    ]
    text = study_markdown(rows)
    assert "| Data | x \\| y | 1% | 2% | 0 … 1 | ✓ |" in text
    assert "| Data | z | 3% | 9% | ≥ 5 | ✗ |" in text
    assert "1 of 2 figures within range." in text


def test_docs_study_lists_every_published_figure():
    """docs/study.md is the command's output: one row per [[figure]], with its published value."""
    text = DOCS.read_text(encoding="utf-8")
    for f in study_world().figures:
        assert f"| {f['section']} | {f['figure']} | {f['published'].replace('|', chr(92) + '|')} |" in text, (
            f["id"]
        )
    total = len(study_world().figures)
    assert re.search(rf"\b{total} of {total} figures within range", text)


@pytest.mark.slow
def test_the_demo_reproduces_the_published_figures(default_demo):
    """The whole pipeline on the calibrated world lands every published figure within its range."""
    text = default_demo.study.read_text(encoding="utf-8")
    failed = [line for line in text.splitlines() if line.endswith("| ✗ |")]
    assert not failed, "\n".join(failed)
    n = len(study_world().figures)
    assert f"{n} of {n} figures within range." in text
