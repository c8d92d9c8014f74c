"""The evaluation harness behind ``tokencensus eval-classifier``.

Scores a backend on the public labelled prompts (:mod:`.corpus`): per-category precision, recall
and F1, macro-F1 (mean F1 over the categories present in the gold labels), the confusion matrix
and throughput (prompts/s of ``predict``, scrubbing and language detection excluded). Labels below
the confidence floor count as ``other``, as in the study.

* **in-source**: the backend on the *test* split (the default backend was trained on the *train*
  split of the same sources, so prompts are disjoint but their sources are shared).
* **cross-source** (default backend): for each source, retrain on the train split of every *other*
  source plus the synthetic prompts, and score on all prompts of the held-out source; predictions
  of all folds are pooled into one score. It measures how the model does on prompts unlike any it
  saw, which is the case for real gateway traffic.

Reports hold counts and scores only, never prompt text.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tokencensus.classify.backends import DEFAULT_FLOOR, Backend, apply_floor, get_backend
from tokencensus.classify.corpus import LabelledPrompt, load_corpus
from tokencensus.classify.scrub import scrub_texts


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
    prompts_per_s: float = float("nan")
    notes: list[str] = field(default_factory=list)

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
        if not np.isnan(self.prompts_per_s):
            lines.append(f"throughput {self.prompts_per_s:,.0f} prompts/s")
        shown = [
            i for i, c in enumerate(self.labels) if self.confusion[i].sum() or self.confusion[:, i].sum()
        ]
        short = [self.labels[i][:6] for i in shown]
        lines.append("confusion (rows gold, columns predicted):")
        lines.append(" " * width + " ".join(f"{s:>6}" for s in short))
        for i in shown:
            lines.append(f"{self.labels[i]:<{width}}" + " ".join(f"{self.confusion[i, j]:6d}" for j in shown))
        lines.extend(self.notes)
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


def evaluate_backend(
    backend: Backend, prompts: Sequence[LabelledPrompt], labels: Sequence[str], floor: float, name: str
) -> Scores:
    """Scrub, predict (timed), floor, score."""
    texts, _ = scrub_texts(p.text for p in prompts)
    start = time.perf_counter()
    pred = backend.predict(texts)
    elapsed = time.perf_counter() - start
    pred = apply_floor(pred, floor)
    result = score([p.category for p in prompts], pred.categories, labels, name)
    result.prompts_per_s = len(texts) / elapsed if elapsed > 0 else float("inf")
    return result


def cross_source(prompts: Sequence[LabelledPrompt], labels: Sequence[str], floor: float) -> Scores:
    """Leave-one-source-out scores of the default backend (retrains once per source; needs scipy)."""
    from tokencensus.classify.backends.default import DefaultBackend
    from tokencensus.classify.train import fit, training_set

    gold: list[str] = []
    predicted: list[str] = []
    notes = []
    for source in sorted({p.source for p in prompts}):
        held = [p for p in prompts if p.source == source]
        rest = [p for p in prompts if p.source != source and p.split == "train"]
        texts, y, w = training_set(rest)
        backend = DefaultBackend(model=fit(texts, y, w, classes=labels))
        fold = evaluate_backend(backend, held, labels, floor, source)
        notes.append(f"  held out {source}: {fold.n} prompts, accuracy {fold.accuracy:.3f}")
        gold += [p.category for p in held]
        scrubbed, _ = scrub_texts(p.text for p in held)
        predicted += apply_floor(backend.predict(scrubbed), floor).categories
    result = score(gold, predicted, labels, "cross-source (leave one source out, pooled)")
    result.notes = notes
    return result


def run_evaluation(
    data_dir: str,
    backend: str = "default",
    floor: float = DEFAULT_FLOOR,
    cross: bool = True,
    **backend_options: object,
) -> list[Scores]:
    """In-source scores of ``backend`` on the test split, and (default backend) cross-source ones."""
    from tokencensus.classify.taxonomy import load_taxonomy

    labels = list(load_taxonomy().ids)
    prompts = load_corpus(data_dir)
    test = [p for p in prompts if p.split == "test"]
    impl = get_backend(backend, **backend_options)
    results = [evaluate_backend(impl, test, labels, floor, f"{impl.name} in-source (test split)")]
    if cross and backend == "default":
        results.append(cross_source(prompts, labels, floor))
    return results
