"""Training data and honest evaluation of the classifiers: the source-label mapping, weak labels,
the training set's composition, leave-one-source-out mechanics, calibration, a user's labelled file."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.conftest import shared_file
from tokencensus.classify.classifiers import Prediction
from tokencensus.classify.corpus import (
    LabelledPrompt,
    awesome_category,
    cap,
    load_corpus,
    load_labelled_jsonl,
)
from tokencensus.classify.evaluate import (
    calibration,
    expected_calibration_error,
    leave_one_source_out,
    run_evaluation,
)
from tokencensus.classify.taxonomy import OTHER, load_taxonomy
from tokencensus.classify.train import (
    GUIDANCE,
    SYNTHETIC,
    SYNTHETIC_SHARE,
    DefaultRecipe,
    balanced_weights,
    training_set,
)
from tokencensus.classify.weak import SOURCE as WEAK
from tokencensus.classify.weak import load_weak, weak_label
from tokencensus.cli import cli
from tokencensus.errors import InputError

LABELS = list(load_taxonomy().ids)


def _data_dir() -> Path:
    return shared_file("prompts_extra/README.md").parent.parent


def test_persona_prompts_take_their_topic() -> None:
    assert awesome_category("Linux Terminal", "TRUE") == "programming"
    assert awesome_category("Legal Advisor", "FALSE") == "legal"
    assert awesome_category("English Translator and Improver", "FALSE") == "translation"
    assert awesome_category("Accountant", "FALSE") == "finance"
    assert awesome_category("Doctor", "FALSE") == "health"
    assert awesome_category("Advertiser", "FALSE") == "marketing"
    assert awesome_category("Poet", "FALSE") == "creative_writing"
    assert awesome_category("Text Based Adventure Game", "FALSE") == "roleplay"
    assert awesome_category("Travel Guide", "FALSE") == "general_qa"
    assert awesome_category("Gemini", "FALSE") is None  # no rule: left out, not roleplay


def test_corpus_holds_every_real_source_with_its_rows() -> None:
    corpus = load_corpus(_data_dir())
    sizes = Counter(p.source for p in corpus)
    # prompts_extra/README.md's rows per file (exact duplicates already dropped there).
    assert sizes["mmlu_subjects"] == 6433
    assert sizes["stackoverflow_titles"] == 19985
    assert sizes["nq_open_queries"] == 7179
    assert sizes["medquad_questions"] == 4953
    assert sizes["medicationqa_consumer"] == 651
    assert sizes["liveqa_medical_consumer"] == 104
    assert sizes["jeopardy_clues"] == 1382
    assert sizes["openai_moderation_sexual"] == 52
    assert sizes["gsm8k"] == 1319
    assert sizes["humaneval"] == 164
    assert sizes["vicuna"] == 80
    mmlu = Counter(p.category for p in corpus if p.source == "mmlu_subjects")
    assert mmlu == {
        "legal": 1778, "health": 1593, "science": 1425, "trivia": 893,
        "marketing": 352, "finance": 287, "technology": 105,
    }  # fmt: skip
    awesome = Counter(p.category for p in corpus if p.source == "awesome_chatgpt")
    assert len(awesome) >= 12
    assert awesome["roleplay"] < awesome["programming"]
    assert {p.category for p in corpus} <= set(LABELS) - {OTHER}
    assert len({p.key for p in corpus}) == len(corpus)


def test_cap_keeps_the_same_prompts_per_cell() -> None:
    prompts = [LabelledPrompt("s", str(i), f"t{i}", "health" if i % 3 else "legal") for i in range(300)]
    kept = cap(prompts, 40)
    assert Counter(p.category for p in kept) == {"health": 40, "legal": 40}
    assert cap(list(reversed(prompts)), 40) == list(reversed(kept))
    assert cap(prompts, None) == prompts


def test_weak_labels_need_exactly_one_category() -> None:
    assert weak_label("Please translate the following paragraph into Spanish for me") == "translation"
    assert weak_label("위 내용을 한국어로 번역해서 보여줘 (the table above)") == "translation"
    assert weak_label("Write me a short story about a lighthouse keeper and his cat") == "creative_writing"
    assert weak_label("Write an email to my landlord about the broken heating") == "writing"
    assert weak_label("What are the symptoms of anemia and how is it treated?") == "health"
    # Rules of two categories (a legal question about taxes) abstain; so does a short turn.
    assert weak_label("Is it legal to deduct my home office from taxes?") is None
    assert weak_label("continue") is None
    assert weak_label("Tell me something nice about the weather today") is None


def test_weak_labels_of_the_real_chats() -> None:
    shared_file("chat_logs/sharegpt_v3_first3000.jsonl")
    weak = load_weak(_data_dir())
    counts = Counter(p.category for p in weak)
    assert 1000 < len(weak) < 3000  # of 10,185 human turns: the rest abstain
    assert {"translation", "writing", "creative_writing", "marketing", "roleplay"} <= set(counts)
    assert all(p.source == WEAK for p in weak)
    assert len({p.key for p in weak}) == len(weak)


def test_training_set_keeps_templates_a_minority_of_every_category() -> None:
    corpus = load_corpus(_data_dir())
    held_out = "mmlu_subjects"
    data = training_set([p for p in corpus if p.source != held_out], load_weak(_data_dir()))
    assert len(data.texts) == len(data.labels) == len(data.sources) == len(data.weights)
    count: Counter[str] = Counter()
    weight: Counter[str] = Counter()
    syn_count: Counter[str] = Counter()
    syn_weight: Counter[str] = Counter()
    for label, source, w in zip(data.labels, data.sources, data.weights, strict=True):
        count[label] += 1
        weight[label] += w
        if source == SYNTHETIC:
            syn_count[label] += 1
            syn_weight[label] += w
    for cat in LABELS:
        assert syn_count[cat] <= SYNTHETIC_SHARE * count[cat], cat
        assert syn_weight[cat] < 0.5 * weight[cat], cat
    assert {"sharegpt_weak", GUIDANCE, SYNTHETIC, "stackoverflow_titles"} <= set(data.sources)
    # Every category weighs the same in the loss; nothing of the held-out source is in it.
    assert max(weight.values()) == pytest.approx(min(weight.values()), rel=1e-6)
    assert held_out not in data.sources
    assert not {p.text for p in corpus if p.source == held_out} & set(data.texts)


def test_balanced_weights_by_hand() -> None:
    # a: cells (a, s1) 4 prompts and (a, s2) 1 prompt -> cell masses 2 and 1; b: one cell of 1.
    w = balanced_weights(["a"] * 5 + ["b"], ["s1"] * 4 + ["s2", "s1"])
    raw = np.array([2 / 4 / 3] * 4 + [1 / 3, 1.0])
    np.testing.assert_allclose(w, raw * 6 / raw.sum())
    assert w[:5].sum() == pytest.approx(w[5])  # categories weigh the same


def test_guidance_is_every_category_description_and_seeds() -> None:
    from tokencensus.classify.train import guidance

    rows = guidance()
    tax = load_taxonomy()
    assert len(rows) == sum(1 + len(c.seeds) for c in tax.categories)
    assert {r.source for r in rows} == {GUIDANCE}
    assert all(len(c.seeds) >= 6 for c in tax.categories)


class _Memo:
    """Recipe that records what each fold was trained on and predicts each prompt's mapped label."""

    name = "memo"

    def __init__(self, answers: dict[str, tuple[str, float]]) -> None:
        self.answers = answers
        self.folds: list[set[str]] = []

    def fit(self, prompts: Sequence[LabelledPrompt]) -> _Memo:
        self.folds.append({p.source for p in prompts})
        return self

    def predict(self, texts: Sequence[str]) -> Prediction:
        got = [self.answers[t] for t in texts]
        return Prediction([c for c, _ in got], np.array([p for _, p in got]))


def test_leave_one_source_out_by_hand() -> None:
    prompts = [
        LabelledPrompt("a", "1", "alpha one", "health"),
        LabelledPrompt("a", "2", "alpha two", "health"),
        LabelledPrompt("b", "1", "beta one", "legal"),
        LabelledPrompt("b", "2", "beta two", "health"),
        LabelledPrompt("c", "1", "gamma one", "legal"),
    ]
    answers = {
        "alpha one": ("health", 0.9),
        "alpha two": ("legal", 0.8),
        "beta one": ("legal", 0.95),
        "beta two": ("health", 0.2),  # below the floor: other
        "gamma one": ("legal", 0.6),
    }
    recipe = _Memo(answers)
    result = leave_one_source_out(recipe, prompts, LABELS, floor=0.25)
    assert recipe.folds == [{"b", "c"}, {"a", "c"}, {"a", "b"}]
    assert [s.name for s in result.per_source] == ["a", "b", "c"]
    assert [s.accuracy for s in result.per_source] == [0.5, 0.5, 1.0]
    pooled = result.pooled
    # health: 3 gold, 1 right, predicted health once -> P 1, R 1/3; legal: 2 gold, 2 right, predicted 3x.
    assert pooled.precision["health"] == 1.0
    assert pooled.recall["health"] == pytest.approx(1 / 3)
    assert pooled.precision["legal"] == pytest.approx(2 / 3)
    assert pooled.recall["legal"] == 1.0
    assert pooled.macro_f1 == pytest.approx((0.5 + 0.8) / 2)
    # Calibration takes the labels before the floor: "beta two" at 0.2 said health, and was right.
    rows = {(r.low, r.high): (r.n, r.accuracy) for r in result.calibration if r.n}
    assert rows == {
        (0.0, 0.25): (1, 1.0), (0.6, 0.7): (1, 1.0), (0.8, 0.9): (1, 0.0),
        (0.9, 0.95): (1, 1.0), (0.95, 1.0): (1, 1.0),
    }  # fmt: skip


def test_calibration_error_by_hand() -> None:
    pred = Prediction(["a", "a", "b", "b"], np.array([0.3, 0.3, 0.9, 0.9]))
    rows = calibration(["a", "b", "b", "b"], pred, edges=(0.0, 0.5, 1.0))
    assert [(r.n, r.mean_confidence, r.accuracy) for r in rows] == [(2, 0.3, 0.5), (2, 0.9, 1.0)]
    assert expected_calibration_error(rows) == pytest.approx((2 * 0.2 + 2 * 0.1) / 4)


def test_leave_one_source_out_of_the_default_recipe_on_real_sources() -> None:
    """Five real sources, each held out in turn (the others, the weak labels, seeds and synthetic
    prompts train it); each (source, category) cut to 80 prompts to keep it short."""
    data = _data_dir()
    keep = {"medicationqa_consumer", "mmlu_subjects", "nq_open_queries", "stackoverflow_titles", "vicuna"}
    prompts = cap([p for p in load_corpus(data) if p.source in keep], 80)
    result = leave_one_source_out(DefaultRecipe(load_weak(data)), prompts, LABELS)
    print(result.format())
    assert [s.name for s in result.per_source] == sorted(keep)
    assert result.pooled.n == len(prompts)
    by_source = {s.name: s.accuracy for s in result.per_source}
    # Measured: macro-F1 0.338; accuracy MMLU 0.357, Vicuna 0.600, search queries 0.438, Stack
    # Overflow titles 0.100, NLM medication questions 0.075 (docs/classify.md has the full figures).
    assert result.pooled.macro_f1 >= 0.3
    assert by_source["mmlu_subjects"] >= 0.3
    assert by_source["vicuna"] >= 0.5


def test_labelled_file_errors_name_the_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(
        '{"text": "fix my loop", "category": "programming"}\n{"text": "x", "category": "cooking"}\n'
    )
    with pytest.raises(InputError, match=r"mine.jsonl, line 2, field 'category': 'cooking'"):
        load_labelled_jsonl(path, LABELS)
    path.write_text('{"text": "", "category": "legal"}\n')
    with pytest.raises(InputError, match=r"line 1, field 'text'"):
        load_labelled_jsonl(path, LABELS)
    path.write_text("not json\n")
    with pytest.raises(InputError, match=r"line 1: not JSON"):
        load_labelled_jsonl(path, LABELS)


def test_eval_classifier_scores_a_users_labelled_file(tmp_path: Path) -> None:
    rows = [
        ("Write a Python function that merges two sorted lists", "programming"),
        ("def f(x):\n    return x[0]\n\nWhy does this raise IndexError on an empty list?", "programming"),
        ("What are the side effects of ibuprofen and can I take it with coffee?", "health"),
        ("Translate this sentence into French: the meeting moved to Tuesday", "translation"),
    ]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps({"text": t, "category": c}) + "\n" for t, c in rows))
    result = run_evaluation(path)
    assert result.pooled.n == 4
    assert result.pooled.support["programming"] == 2
    assert result.per_source[0].name == "mine"
    assert result.prompts_per_s > 0
    out = CliRunner().invoke(cli, ["eval-classifier", "--data", str(path)])
    assert out.exit_code == 0, out.output
    assert "per source:" in out.output
    assert "calibration" in out.output
    assert "macro-F1" in out.output
    assert "ibuprofen" not in out.output  # counts and scores only, never prompt text
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi"}\n')
    out = CliRunner().invoke(cli, ["eval-classifier", "--data", str(bad)])
    assert isinstance(out.exception, InputError)
    assert "bad.jsonl, line 1, field 'category'" in str(out.exception)
