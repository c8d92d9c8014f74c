"""Corrected category shares (:mod:`tokencensus.classify.prevalence`): hand cases, planted truth
and real labelled prompts re-sampled to other category mixes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tests.conftest import shared_file
from tokencensus.classify import prevalence
from tokencensus.classify.classifiers import load_confusion, save_confusion, shipped_confusion
from tokencensus.classify.evaluate import run_evaluation
from tokencensus.classify.labels import append_labels
from tokencensus.classify.prevalence import (
    CORRECTED_COLUMNS,
    Confusion,
    adjust,
    corrected_shares,
    em_shares,
)
from tokencensus.classify.taxonomy import load_taxonomy
from tokencensus.engine import open_lake
from tokencensus.errors import ConfigError
from tokencensus.lake import Lake
from tokencensus.report.compute import compute
from tokencensus.report.data import FigureView, report_view
from tokencensus.simulator import SimConfig, simulate

LABELS = ("a", "b", "c", "d")
# M[j, i] = P(predicted j | true i): each column sums to 1
RATES = np.array(
    [
        [0.80, 0.10, 0.10, 0.20],
        [0.10, 0.70, 0.10, 0.10],
        [0.05, 0.10, 0.70, 0.10],
        [0.05, 0.10, 0.10, 0.60],
    ]
)


def test_adjust_inverts_a_known_confusion_by_hand() -> None:
    """Two categories, a right 90% and b right 80%: true (0.3, 0.7) is counted as
    (0.9·0.3 + 0.2·0.7, 0.1·0.3 + 0.8·0.7) = (0.41, 0.59); the correction gives (0.3, 0.7) back."""
    rates = np.array([[0.9, 0.2], [0.1, 0.8]])
    assert np.allclose(adjust(np.array([0.41, 0.59]), rates), [0.3, 0.7], atol=1e-7)
    # counts are shares once normalised
    assert np.allclose(adjust(np.array([41.0, 59.0]), rates), [0.3, 0.7], atol=1e-7)


def test_adjust_stays_in_the_simplex_when_the_counts_cannot_come_from_the_rates() -> None:
    """Counted (0.05, 0.95) is below a's floor of 0.2·1 (b alone is counted a 20% of the time): the
    nearest point of the simplex is all b, not a negative share."""
    q = adjust(np.array([0.05, 0.95]), np.array([[0.9, 0.2], [0.1, 0.8]]))
    assert np.allclose(q, [0.0, 1.0], atol=1e-7)
    assert (q >= 0).all()


def test_a_label_without_labelled_prompts_is_an_error_of_the_measured_ones() -> None:
    """a is right 80% of the time and called b otherwise; no prompt labelled b measured b's errors,
    so b is not estimated: every request counted b is one of a's errors, and a's share is 1."""
    conf = Confusion(("a", "b"), np.array([[8, 2], [0, 0]]))
    assert list(conf.measured) == [True, False]
    assert np.allclose(conf.rates(), [[0.8], [0.2]])
    got = corrected_shares(["a"] * 9 + ["b"], np.ones(10), conf, replicates=50)
    assert got["share"].tolist()[0] == pytest.approx(1.0)
    assert np.isnan(got["share"].tolist()[1])
    assert got["raw_share"].tolist() == pytest.approx([0.9, 0.1])


def test_confusion_and_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="2×2"):
        Confusion(("a", "b"), np.zeros((3, 3)))
    conf = Confusion(("a", "b"), np.eye(2, dtype=int) * 10)
    with pytest.raises(ValueError, match="without measured errors: z"):
        corrected_shares(["a", "z"], [1, 1], conf)
    with pytest.raises(ValueError, match="2 categories but 1 weights"):
        corrected_shares(["a", "b"], [1], conf)


def _planted(q: np.ndarray, n: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    gold = rng.choice(len(q), n, p=q)
    cumulative = np.cumsum(RATES[:, gold].T, axis=1)  # each prompt's P(predicted ≤ j)
    pred = np.minimum((rng.random(n)[:, None] > cumulative).sum(axis=1), len(q) - 1)
    return [LABELS[p] for p in pred], gold


def test_planted_shares_are_recovered_with_intervals_that_cover_them() -> None:
    """Errors measured on 5,000 prompts per category; traffic of 50,000 with mix (0.5, 0.2, 0.2, 0.1).
    Raw counting shrinks the mix toward uniform (a counted ~0.46, d ~0.13); the correction is
    within 0.015 of each true share, has under a quarter of raw counting's L1 error, and its 95%
    interval holds each true share."""
    rng = np.random.default_rng(1)
    counts = np.array([rng.multinomial(5_000, RATES[:, i]) for i in range(4)])
    conf = Confusion(LABELS, counts)
    q = np.array([0.5, 0.2, 0.2, 0.1])
    cats, _ = _planted(q, 50_000, rng)
    got = corrected_shares(cats, np.ones(len(cats)), conf, replicates=400)
    assert list(got["category"]) == list(LABELS)
    raw_err = np.abs(got["raw_share"] - q).sum()
    err = np.abs(got["share"] - q)
    assert err.max() < 0.015, (err.sum(), raw_err)
    assert err.sum() < raw_err / 4, (err.sum(), raw_err)
    assert ((got["low"] <= q) & (q <= got["high"])).all()
    # raw intervals are narrower and in the wrong place: they miss a and d
    assert not ((got["raw_low"] <= q) & (q <= got["raw_high"])).all()
    assert np.isclose(got["share"].sum(), 1.0)
    assert np.isclose(got["raw_share"].sum(), 1.0)


def test_above_the_exact_bootstraps_size_the_normal_approximation_gives_the_same_intervals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """60,000 requests with lognormal weights over the four categories: the category sums drawn from
    their normal approximation give the redraw's intervals (raw and corrected) to within Monte Carlo
    noise: measured widths within 0.90–1.07× and bounds within 5% of a width; asserted 15% and 10%."""
    rng = np.random.default_rng(3)
    counts = np.array([rng.multinomial(2_000, RATES[:, i]) for i in range(4)])
    conf = Confusion(LABELS, counts)
    cats, _ = _planted(np.array([0.4, 0.3, 0.2, 0.1]), 60_000, rng)
    weights = rng.lognormal(7.0, 1.2, len(cats))
    normal = corrected_shares(cats, weights, conf, replicates=1_000)
    monkeypatch.setattr(prevalence, "EXACT_BOOTSTRAP", 10**9)
    exact = corrected_shares(cats, weights, conf, replicates=1_000)
    assert normal["raw_share"].tolist() == exact["raw_share"].tolist()
    for low, high in (("raw_low", "raw_high"), ("low", "high")):
        width = exact[high] - exact[low]
        assert ((normal[high] - normal[low]) / width).between(0.85, 1.15).all()
        assert ((normal[low] - exact[low]).abs() / width).max() < 0.10


def test_weights_count_as_requests_do() -> None:
    """A request of weight 3 is three requests of weight 1: the same shares."""
    conf = Confusion(("a", "b"), np.array([[9, 1], [2, 8]]))
    one = corrected_shares(["a", "b"], [3, 1], conf, replicates=50)
    many = corrected_shares(["a", "a", "a", "b"], [1, 1, 1, 1], conf, replicates=50)
    assert np.allclose(one[["raw_share", "share"]], many[["raw_share", "share"]])


def test_em_recovers_a_shifted_prior_from_calibrated_posteriors() -> None:
    """Three classes, one-dimensional Gaussians at 0, 2, 4 (sd 1), classifier posteriors exact under a
    uniform training mix; traffic drawn at (0.6, 0.3, 0.1). EM lands within 0.02; the mean of the
    posteriors (soft counting) is pulled toward uniform."""
    rng = np.random.default_rng(2)
    q = np.array([0.6, 0.3, 0.1])
    y = rng.choice(3, 20_000, p=q)
    x = rng.normal(2.0 * y, 1.0)
    like = np.exp(-0.5 * (x[:, None] - np.array([0.0, 2.0, 4.0])) ** 2)
    post = like / like.sum(axis=1, keepdims=True)
    soft = post.mean(axis=0)
    got = em_shares(post, np.full(3, 1 / 3))
    assert np.abs(got - q).max() < 0.02 < np.abs(soft - q).max()


def test_on_real_prompts_resampled_to_other_mixes_the_correction_is_closer_to_the_truth() -> None:
    """The default recipe trained without ../shared/data/prompts_extra (on prompts/, the weak labels,
    seeds and synthetic prompts), applied to its 40,739 real prompts, of sources it never saw:
    errors measured on one half (by hash of the prompt's id), the other half re-sampled to five
    random mixes (3,000 prompts each) of the six categories with at least 200 prompts in that half.
    Measured: raw counting is off by L1 1.16–1.41 (of at most 2), the correction by 0.17–0.33, and
    its intervals hold the true share in 53% of the cells (raw: 10%). The misses are where two
    categories' errors are nearly alike (general_qa and trivia, confused both ways): the estimate
    then sits on the simplex's edge and the percentile interval is too narrow. Asserted: the
    correction's mean L1 under a quarter of raw counting's, its intervals holding at least half the
    cells, raw ones under a fifth."""
    from tokencensus.classify.classifiers import apply_floor
    from tokencensus.classify.corpus import EXTRA_DIR, load_corpus
    from tokencensus.classify.evaluate import predict, score
    from tokencensus.classify.taxonomy import load_taxonomy
    from tokencensus.classify.train import DefaultRecipe
    from tokencensus.classify.weak import load_weak
    from tokencensus.definitions import CONFIDENCE_FLOOR
    from tokencensus.ingest.samples import sample_fraction

    data = shared_file(EXTRA_DIR).parent
    corpus = load_corpus(data)
    extra = {p.stem for p in (data / EXTRA_DIR).glob("*.jsonl")}
    backend = DefaultRecipe(load_weak(data)).fit([p for p in corpus if p.source not in extra])
    labels = list(load_taxonomy().ids)
    prompts = [p for p in corpus if p.source in extra]
    pred = np.array(apply_floor(predict(backend, prompts), CONFIDENCE_FLOOR).categories)
    gold = np.array([p.category for p in prompts])
    measure = np.array([sample_fraction(f"errors:{p.source}:{p.uid}") < 0.5 for p in prompts])
    pool = {c: np.flatnonzero(~measure & (gold == c)) for c in labels}
    present = [c for c in labels if len(pool[c]) >= 200]
    assert len(present) == 6, present
    counts = score(gold[measure], pred[measure], labels).confusion
    counts[[i for i, c in enumerate(labels) if c not in present]] = 0  # the mixes hold no others
    conf = Confusion(tuple(labels), counts)
    m = conf.measured

    rng = np.random.default_rng(3)
    raw_errors, errors, covered, raw_covered = [], [], [], []
    for _ in range(5):
        mix = rng.dirichlet(np.ones(len(present)))
        idx = np.concatenate(
            [rng.choice(pool[c], round(3_000 * x)) for c, x in zip(present, mix, strict=True)]
        )
        truth = np.array([np.mean(gold[idx] == c) for c in labels])[m]
        got = corrected_shares(list(pred[idx]), np.ones(len(idx)), conf, replicates=200)
        assert got.loc[~m, "share"].isna().all()
        assert np.isclose(got["share"].sum(), 1.0)
        shown = got[m]
        # raw counting also spends share on labels no prompt of the mix has
        raw_errors.append(np.abs(shown["raw_share"] - truth).sum() + got.loc[~m, "raw_share"].sum())
        errors.append(np.abs(shown["share"] - truth).sum())
        covered += list((shown["low"] <= truth + 1e-12) & (truth <= shown["high"] + 1e-12))
        raw_covered += list((shown["raw_low"] <= truth) & (truth <= shown["raw_high"]))
    assert np.mean(errors) < 0.25 * np.mean(raw_errors), (errors, raw_errors)
    assert np.mean(covered) >= 0.5, (np.mean(covered), np.mean(raw_covered))
    assert np.mean(raw_covered) < 0.2, (np.mean(covered), np.mean(raw_covered))


# ---------------------------------------------------------------- in the report


def _confused_lake(
    root: Path, classifier: str = "default-v3", counts: tuple[tuple[str, int], ...] = (("programming", 410),)
) -> Path:
    """1,000 requests of 100 tokens, each its own user and all labelled (every weight is 1): by
    default 410 labelled programming and 590 roleplay, what a classifier right on 90% of programming
    and 80% of roleplay prompts (the rest called the other) counts on a true mix of 30% / 70%;
    ``counts`` gives the first categories' labels, roleplay the rest."""
    sim = simulate(SimConfig(requests=1_000, users=100, seed=5, weeks=4, min_models=10, max_models=12))
    events = sim.events
    n = events.num_rows
    ids = events["request_id"].to_pylist()
    events = events.set_column(events.schema.get_field_index("user_id"), "user_id", pa.array(ids))
    for name, value in (("input_tokens", 100), ("output_tokens", 0), ("reasoning_tokens", 0)):
        column = pa.array([value] * n, pa.int64())
        events = events.set_column(events.schema.get_field_index(name), name, column)
    lake = Lake(root)
    lake.append(events, "sim")
    cats = [c for c, k in counts for _ in range(k)]
    cats += ["roleplay"] * (n - len(cats))
    append_labels(
        lake.root,
        pa.table(
            {
                "request_id": ids,
                "language": ["en"] * n,
                "category": cats,
                "subcategory": cats,
                "confidence": [0.9] * n,
                "classifier": [classifier] * n,
            }
        ),
    )
    return lake.root


def _traffic_errors() -> Confusion:
    """100 labelled prompts of each category: programming 90 right, 10 called roleplay; roleplay 80
    right, 20 called programming (the taxonomy's other labels unmeasured)."""
    labels = load_taxonomy().ids
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    p, r = labels.index("programming"), labels.index("roleplay")
    counts[p, p], counts[p, r], counts[r, r], counts[r, p] = 90, 10, 80, 20
    return Confusion(tuple(labels), counts)


def _corrected_figure(lake: Path) -> pd.DataFrame:
    results, _ = compute(open_lake(lake), min_users=50)
    return results["category_corrected"].set_index("category")


def _published_figure(lake: Path, min_users: int, without: tuple[str, ...] = ()) -> FigureView:
    """The figure as the report publishes it (privacy floor and complementary cells applied), in a
    report without the figures ``without``."""
    results, meta = compute(open_lake(lake), min_users=min_users)
    results = {fid: frame for fid, frame in results.items() if fid not in without}
    return next(f for f in report_view(results, meta).figures if f.figure.id == "category_corrected")


def test_the_report_corrects_with_the_errors_measured_on_the_lakes_own_sample(tmp_path: Path) -> None:
    """Counted 41% / 59%; M·q = raw with M = [[0.9, 0.2], [0.1, 0.8]] gives q = (0.3, 0.7) exactly:
    0.9·0.3 + 0.2·0.7 = 0.41. The corrected share is headlined; its interval holds the truth."""
    lake = _confused_lake(tmp_path / "lake")
    save_confusion("default-v3", _traffic_errors(), Lake(lake).calibration_file)
    fig = _corrected_figure(lake)
    assert list(fig.index) == ["programming", "roleplay"]
    assert fig["raw_share"].tolist() == pytest.approx([0.41, 0.59])
    assert fig["corrected_share"].tolist() == pytest.approx([0.30, 0.70], abs=1e-3)
    assert (fig["corrected_low"] <= [0.3, 0.7]).all()
    assert (fig["corrected_high"] >= [0.3, 0.7]).all()
    assert fig["tokens"].tolist() == [41_000, 59_000]
    assert fig["users"].tolist() == [410, 590]
    assert set(fig["headlined"]) == {"corrected"}
    assert set(fig["errors"]) == {"a labelled sample of this traffic (200 prompts)"}
    view = _published_figure(lake, 50)
    assert view.headline.startswith(
        "Corrected for the classifier's errors on a labelled sample of this traffic (200 prompts), "
        "roleplay carried 70% (95% interval"
    )
    assert view.headline.endswith("of classified tokens, against 59% as labelled.")


def test_a_category_under_the_floor_withholds_every_corrected_share(tmp_path: Path) -> None:
    """410 programming, 100 writing, 490 roleplay in one month; floor 120: writing is hidden, and
    programming with it (writing's count would be the total minus the others); roleplay keeps its
    raw share (49%), but no corrected share is published (each is computed from every category's
    count). Shown here with the category figures of the period; the split of programming by origin
    (below) gives programming's month away, and roleplay then goes too."""
    lake = _confused_lake(tmp_path / "lake", counts=(("programming", 410), ("writing", 100)))
    save_confusion("default-v3", _traffic_errors(), Lake(lake).calibration_file)
    view = _published_figure(lake, 120, without=("programming_origin",))
    frame = view.frame.set_index("category")
    assert frame["suppressed"].tolist() == [True, False, True]  # programming, roleplay, writing
    assert frame.loc["roleplay", "raw_share"] == pytest.approx(0.49)
    assert frame[list(CORRECTED_COLUMNS)].isna().all().all()
    assert view.headline.startswith("As labelled, roleplay carried 49% (95% interval")
    assert view.headline.endswith("withheld, as a category has too few users to publish.")
    # programming by origin publishes proprietary programming (349 users) and its share, so the
    # month's programming tokens are known (34,900 / 85.1%): writing = total − programming − roleplay,
    # unless roleplay is hidden too. The complementary suppression sees it and hides roleplay.
    view = _published_figure(lake, 120)
    assert view.frame["suppressed"].tolist() == [True, True, True]
    assert view.headline == "No published category shares (too few users or no classified prompts)."


def test_without_its_own_sample_the_report_headlines_the_raw_share(tmp_path: Path) -> None:
    """No calibration in the lake: the shipped backend's out-of-source errors correct the shares
    (shown, not headlined); a classifier nobody measured (an LLM endpoint) gets raw shares only."""
    lake = _confused_lake(tmp_path / "lake")
    fig = _corrected_figure(lake)
    shipped = shipped_confusion("default-v3")
    assert shipped is not None
    assert set(fig["headlined"]) == {"raw"}
    assert fig["corrected_share"].notna().all()
    assert set(fig["errors"]) == {
        f"public sources the classifier was not trained on ({int(shipped.counts.sum()):,} prompts)"
    }
    text = _published_figure(lake, 50).headline
    assert text.startswith("As labelled, roleplay carried 59% (95% interval")
    assert "The raw share is headlined: those prompts are not this traffic's." in text
    other = _confused_lake(tmp_path / "llm", classifier="llm-some-model")
    fig = _corrected_figure(other)
    assert fig["corrected_share"].isna().all()
    assert set(fig["errors"]) == {"not measured"}


def test_eval_classifier_stores_the_errors_on_a_labelled_sample_in_the_lake(tmp_path: Path) -> None:
    lake = _confused_lake(tmp_path / "lake")
    sample = tmp_path / "mine.jsonl"
    rows = [
        {"text": "Write a Python function that reverses a linked list", "category": "programming"},
        {"text": "Fix this TypeError in my JavaScript fetch call", "category": "programming"},
        {"text": "You are a pirate captain. Stay in character and greet me.", "category": "roleplay"},
    ]
    sample.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run_evaluation(sample, lake=lake)
    stored = load_confusion("default-v3", Lake(lake).calibration_file)
    assert stored is not None
    assert int(stored.counts.sum()) == 3
    labels = list(stored.labels)
    assert stored.counts[labels.index("programming")].sum() == 2
    assert stored.counts[labels.index("roleplay")].sum() == 1
    with pytest.raises(ConfigError, match=r"give that sample as --data FILE\.jsonl"):
        run_evaluation(tmp_path, lake=lake)
    with pytest.raises(ConfigError, match="confidence floor"):
        run_evaluation(sample, lake=lake, floor=0.5)
