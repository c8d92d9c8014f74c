"""The evaluation harness behind ``tokencensus eval-classifier``.

How much to trust a classifier on traffic it never saw is measured by **leaving one source out**:
for each source of real labelled prompts (:mod:`.corpus`), a classifier is trained by its recipe on every
*other* source (plus the weakly labelled chats, the taxonomy's seeds and a minority of synthetic
prompts, :func:`.train.training_set`) and scores every prompt of the held-out source. Predictions of
all folds are pooled into one score (per-category precision, recall, F1, macro-F1 over the categories
present, the confusion matrix and a calibration table: confidence against accuracy); each source's
own accuracy and macro-F1 are listed too, and each detected language's. Throughput is the shipped
classifier's ``predict`` on real prompts (scrubbing excluded). Labels below the confidence floor count
as ``other``, as in the study.

:func:`run_evaluation` given a labelled JSONL file (``text``, ``category``), a user's own sample,
scores the shipped classifier on it (:func:`score_labelled`). Results hold counts and scores only,
never prompt text.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from tokencensus.classify.classifiers import Classifier, Prediction, apply_floor, get_classifier
from tokencensus.classify.corpus import LabelledPrompt, cap, load_corpus, load_labelled_jsonl
from tokencensus.classify.language import detect
from tokencensus.classify.prevalence import Confusion
from tokencensus.classify.scrub import scrub_texts
from tokencensus.definitions import CONFIDENCE_FLOOR
from tokencensus.errors import ConfigError
from tokencensus.settings import ENCODERS

CALIBRATION_EDGES = (0.0, 0.25, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
"""Confidence bins of the calibration table (the lowest holds the labels below the default floor)."""
THROUGHPUT_PROMPTS = 2_000
"""Real prompts the shipped classifier's throughput is timed on."""
MIN_PER_LANGUAGE = 20
"""A language's own scores are listed from this many prompts on."""


@dataclass
class Scores:
    """Classification scores of one run (``labels`` orders the rows of ``confusion``)."""

    name: str
    labels: list[str]
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    support: dict[str, int]
    macro_f1: float
    accuracy: float
    confusion: np.ndarray
    n: int

    def format(self) -> str:
        """A plain-text table: per-category scores, macro-F1, throughput and the confusion matrix."""
        width = max(len(c) for c in self.labels) + 2
        lines = [
            f"== {self.name}: {self.n} prompts",
            f"{'category':<{width}}precision  recall    f1  support",
        ]
        for c in self.labels:
            if self.support.get(c, 0) or self.precision.get(c, 0):
                lines.append(
                    f"{c:<{width}}{self.precision[c]:9.3f} {self.recall[c]:7.3f} "
                    f"{self.f1[c]:5.3f} {self.support[c]:8d}"
                )
        lines.append(f"macro-F1 {self.macro_f1:.3f}   accuracy {self.accuracy:.3f}")
        shown = [
            i for i, c in enumerate(self.labels) if self.confusion[i].sum() or self.confusion[:, i].sum()
        ]
        short = [self.labels[i][:6] for i in shown]
        lines.append("confusion (rows gold, columns predicted):")
        lines.append(" " * width + " ".join(f"{s:>6}" for s in short))
        for i in shown:
            lines.append(f"{self.labels[i]:<{width}}" + " ".join(f"{self.confusion[i, j]:6d}" for j in shown))
        return "\n".join(lines)


def score(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str], name: str = "") -> Scores:
    """Precision, recall, F1 per label, macro-F1 over the labels present in ``gold``, confusion."""
    index = {c: i for i, c in enumerate(labels)}
    conf = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for g, p in zip(gold, predicted, strict=True):
        conf[index[g], index[p]] += 1
    tp = np.diag(conf).astype(float)
    pred_n = conf.sum(axis=0).astype(float)
    gold_n = conf.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(pred_n > 0, tp / pred_n, 0.0)
        rec = np.where(gold_n > 0, tp / gold_n, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    present = gold_n > 0
    return Scores(
        name=name,
        labels=list(labels),
        precision=dict(zip(labels, prec.tolist(), strict=True)),
        recall=dict(zip(labels, rec.tolist(), strict=True)),
        f1=dict(zip(labels, f1.tolist(), strict=True)),
        support=dict(zip(labels, gold_n.astype(int).tolist(), strict=True)),
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        accuracy=float(tp.sum() / max(len(gold), 1)),
        confusion=conf,
        n=len(gold),
    )


@dataclass(frozen=True)
class CalibrationRow:
    low: float
    high: float
    n: int
    mean_confidence: float
    accuracy: float


def calibration(
    gold: Sequence[str], prediction: Prediction, edges: Sequence[float] = CALIBRATION_EDGES
) -> list[CalibrationRow]:
    """Per confidence bin: prompts, their mean confidence and the share labelled right (before the floor)."""
    conf = np.asarray(prediction.confidence, dtype=np.float64)
    right = np.array([g == p for g, p in zip(gold, prediction.categories, strict=True)], dtype=bool)
    rows = []
    for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
        last = i == len(edges) - 2
        inside = (conf >= lo) & ((conf <= hi) if last else (conf < hi))
        n = int(inside.sum())
        rows.append(
            CalibrationRow(
                lo,
                hi,
                n,
                float(conf[inside].mean()) if n else float("nan"),
                float(right[inside].mean()) if n else float("nan"),
            )
        )
    return rows


def expected_calibration_error(rows: Sequence[CalibrationRow]) -> float:
    """Mean |accuracy − confidence| over the bins, weighted by their prompts."""
    total = sum(r.n for r in rows)
    return sum(r.n * abs(r.accuracy - r.mean_confidence) for r in rows if r.n) / max(total, 1)


@dataclass
class Evaluation:
    """One classifier's evaluation: pooled scores, each source's, calibration and throughput."""

    title: str
    pooled: Scores
    per_source: list[Scores]
    per_language: list[Scores]
    calibration: list[CalibrationRow]
    prompts_per_s: float = float("nan")

    @property
    def confusion(self) -> Confusion:
        """The pooled confusion counts (rows true, columns predicted after the floor)."""
        return Confusion(tuple(self.pooled.labels), self.pooled.confusion)

    def format(self) -> str:
        lines = [f"# {self.title}", ""]
        if not np.isnan(self.prompts_per_s):
            lines.append(f"throughput {self.prompts_per_s:,.0f} prompts/s (shipped classifier, 1 process)")
        lines.append(f"pooled: macro-F1 {self.pooled.macro_f1:.3f}, accuracy {self.pooled.accuracy:.3f}")
        lines += [
            "",
            "per source:",
            f"  {'source':<26}{'prompts':>8}{'accuracy':>10}{'macro-F1':>10}  categories",
        ]
        for s in self.per_source:
            cats = ", ".join(c for c in s.labels if s.support.get(c))
            lines.append(f"  {s.name:<26}{s.n:>8}{s.accuracy:>10.3f}{s.macro_f1:>10.3f}  {cats}")
        if self.per_language:
            lines += ["", f"per language (detected; at least {MIN_PER_LANGUAGE} prompts):"]
            for s in self.per_language:
                lines.append(f"  {s.name:<26}{s.n:>8}{s.accuracy:>10.3f}{s.macro_f1:>10.3f}")
        lines += ["", "calibration (confidence of the top label vs share right):"]
        lines.append(f"  {'confidence':<13}{'prompts':>8}{'mean conf':>11}{'accuracy':>10}")
        for r in self.calibration:
            if r.n:
                lines.append(
                    f"  {r.low:.2f}–{r.high:.2f}   {r.n:>8}{r.mean_confidence:>11.3f}{r.accuracy:>10.3f}"
                )
        lines.append(f"  expected calibration error {expected_calibration_error(self.calibration):.3f}")
        lines += ["", self.pooled.format()]
        return "\n".join(lines)


class Recipe(Protocol):
    """How a classifier is trained: :meth:`fit` on labelled prompts gives a ready classifier."""

    @property
    def name(self) -> str: ...

    def fit(self, prompts: Sequence[LabelledPrompt]) -> Classifier: ...


def predict(classifier: Classifier, prompts: Sequence[LabelledPrompt]) -> Prediction:
    """The classifier's labels for ``prompts``, scrubbed first as at run time (before the floor)."""
    texts, _ = scrub_texts(p.text for p in prompts)
    return classifier.predict(texts)


def _evaluation(
    title: str,
    parts: Sequence[tuple[str, Sequence[LabelledPrompt], Prediction]],
    labels: Sequence[str],
    floor: float,
) -> Evaluation:
    gold: list[str] = []
    cats: list[str] = []
    conf: list[np.ndarray] = []
    per_source = []
    for name, prompts, pred in parts:
        truth = [p.category for p in prompts]
        floored = apply_floor(pred, floor).categories
        per_source.append(score(truth, floored, labels, name))
        gold += truth
        cats += pred.categories
        conf.append(np.asarray(pred.confidence, dtype=np.float64))
    raw = Prediction(cats, np.concatenate(conf) if conf else np.zeros(0))
    floored = apply_floor(raw, floor).categories
    pooled = score(gold, floored, labels, title)
    langs = detect([p.text for _, prompts, _ in parts for p in prompts])
    per_language = []
    for lang, n in Counter(langs).most_common():
        if n >= MIN_PER_LANGUAGE:
            pick = [i for i, x in enumerate(langs) if x == lang]
            per_language.append(score([gold[i] for i in pick], [floored[i] for i in pick], labels, lang))
    return Evaluation(title, pooled, per_source, per_language, calibration(gold, raw))


def _by_source(prompts: Sequence[LabelledPrompt]) -> dict[str, list[LabelledPrompt]]:
    out: dict[str, list[LabelledPrompt]] = {}
    for p in prompts:
        out.setdefault(p.source, []).append(p)
    return dict(sorted(out.items()))


def leave_one_source_out(
    recipe: Recipe,
    prompts: Sequence[LabelledPrompt],
    labels: Sequence[str],
    floor: float = CONFIDENCE_FLOOR,
    log: Callable[[str], None] | None = None,
) -> Evaluation:
    """Train ``recipe`` without each source in turn and score that source's prompts (see module doc)."""
    parts = []
    for source, held in _by_source(prompts).items():
        started = time.perf_counter()
        classifier = recipe.fit([p for p in prompts if p.source != source])
        parts.append((source, held, predict(classifier, held)))
        if log is not None:
            log(f"held out {source}: {len(held)} prompts ({time.perf_counter() - started:.0f} s)")
    title = f"{recipe.name}: leave one source out, {len(parts)} sources, {len(prompts)} prompts"
    return _evaluation(title, parts, labels, floor)


def throughput(classifier: Classifier, texts: Sequence[str]) -> float:
    """Prompts per second of ``classifier.predict`` on ``texts`` (after a small warm-up call)."""
    classifier.predict(list(texts[:20]))
    start = time.perf_counter()
    classifier.predict(list(texts))
    return len(texts) / max(time.perf_counter() - start, 1e-9)


def _timing_texts(prompts: Sequence[LabelledPrompt]) -> list[str]:
    ranked = sorted(prompts, key=lambda p: p.key)
    step = max(len(ranked) // THROUGHPUT_PROMPTS, 1)
    return scrub_texts(p.text for p in ranked[::step][:THROUGHPUT_PROMPTS])[0]


def score_labelled(
    classifier: Classifier, prompts: Sequence[LabelledPrompt], labels: Sequence[str], floor: float, title: str
) -> Evaluation:
    """The trained ``classifier`` on labelled ``prompts`` (a user's sample), by source and pooled."""
    parts = [(source, held, predict(classifier, held)) for source, held in _by_source(prompts).items()]
    return _evaluation(title, parts, labels, floor)


def recipe_for(classifier: str, data_dir: str | Path, **options: object) -> Recipe:
    """The training recipe of ``classifier`` (the weakly labelled chats under ``data_dir`` as extra data)."""
    from tokencensus.classify.weak import load_weak

    if classifier == "default":
        from tokencensus.classify.train import DefaultRecipe

        return DefaultRecipe(load_weak(data_dir))
    if classifier == "embedding":
        from tokencensus.classify.head import EmbeddingRecipe

        return EmbeddingRecipe(str(options.get("encoder") or ENCODERS[0]), load_weak(data_dir))
    return FixedRecipe(get_classifier(classifier, **options))


@dataclass
class FixedRecipe:
    """A classifier that is not trained here (an LLM): every source is unseen by it already."""

    classifier: Classifier

    @property
    def name(self) -> str:
        return self.classifier.name

    def fit(self, prompts: Sequence[LabelledPrompt]) -> Classifier:  # noqa: ARG002 (the Recipe protocol)
        return self.classifier


def run_evaluation(
    data: str | Path,
    classifier: str = "default",
    floor: float = CONFIDENCE_FLOOR,
    per_cell: int | None = None,
    log: Callable[[str], None] | None = None,
    lake: str | Path | None = None,
    **classifier_options: object,
) -> Evaluation:
    """``data`` a labelled JSONL file: the shipped classifier on it (stored as the ``lake``'s calibration
    when given, :func:`calibrate_lake`). A directory (``shared/data``): leave one source out over its
    real labelled prompts (each (source, category) cut to ``per_cell``), with the shipped classifier's
    throughput."""
    from tokencensus.classify.taxonomy import load_taxonomy

    labels = list(load_taxonomy().ids)
    if lake is not None and not Path(data).is_file():
        raise ConfigError(
            "--lake stores the errors measured on a labelled sample of the lake's own prompts: "
            "give that sample as --data FILE.jsonl (text, category), not a directory"
        )
    if lake is not None and floor != CONFIDENCE_FLOOR:
        raise ConfigError(
            f"--lake measures the errors at the report's confidence floor ({CONFIDENCE_FLOOR}); "
            f"drop --floor {floor}"
        )
    if Path(data).is_file():
        prompts = load_labelled_jsonl(data, labels)
        shipped = get_classifier(classifier, **classifier_options)
        if lake is not None:
            result = calibrate_lake(lake, prompts, shipped)
        else:
            title = f"{shipped.name} on {Path(data).name} ({len(prompts)} prompts)"
            result = score_labelled(shipped, prompts, labels, floor, title)
    else:
        prompts = cap(load_corpus(data), per_cell)
        result = leave_one_source_out(
            recipe_for(classifier, data, **classifier_options), prompts, labels, floor, log
        )
        shipped = get_classifier(classifier, **classifier_options)
    if classifier != "llm":  # an endpoint's speed is not the classifier's, and timing it costs money
        result.prompts_per_s = throughput(shipped, _timing_texts(prompts))
    return result


def calibrate_lake(lake: str | Path, prompts: Sequence[LabelledPrompt], classifier: Classifier) -> Evaluation:
    """Score ``classifier`` (the one that labelled the lake) on ``prompts``, a labelled sample of the
    lake's own prompts, and store its confusion at the default floor under its name in the lake
    (:attr:`tokencensus.lake.Lake.calibration_file`): the report then corrects the category shares
    of that classifier's labels with these errors rather than with those measured on public
    sources, and headlines the corrected shares."""
    from tokencensus.classify.classifiers import save_confusion
    from tokencensus.classify.taxonomy import load_taxonomy
    from tokencensus.lake import Lake

    target = Lake(lake, create=False)
    title = f"{classifier.name} on {len(prompts)} labelled prompts of {target.root}"
    result = score_labelled(classifier, prompts, list(load_taxonomy().ids), CONFIDENCE_FLOOR, title)
    save_confusion(classifier.name, result.confusion, target.calibration_file)
    return result
