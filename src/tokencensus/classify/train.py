"""Training the default classifier's linear model (needs scipy: ``pip install 'tokencensus[train]'``).

:func:`fit` is multinomial logistic regression with L2, solved with L-BFGS over a sparse matrix of
hashed features (:mod:`.features`). Samples are weighted so every category weighs the same in the
loss and, inside a category, a large source (GSM8K's 1,300 math problems) does not drown a small one:
a (category, source) cell of n prompts gets total weight ∝ sqrt(n).

``python -m tokencensus.classify.train --data ../shared/data`` rebuilds the packaged
``classifiers/default_model.npz`` from every real labelled prompt, the weakly labelled chats, the
taxonomy's seeds and a minority of synthetic prompts (:func:`training_set`), then measures the
recipe leaving one source out and stores the pooled confusion (``classifiers/confusion.npz``).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tokencensus.classify.classifiers.default import MODEL_FILE, DefaultClassifier, LinearModel
from tokencensus.classify.corpus import LabelledPrompt, cap, load_corpus
from tokencensus.classify.features import featurise
from tokencensus.classify.scrub import scrub_texts
from tokencensus.classify.synthetic import training_prompts
from tokencensus.classify.taxonomy import load_taxonomy
from tokencensus.classify.weak import load_weak
from tokencensus.errors import MissingDependencyError

if TYPE_CHECKING:
    from tokencensus.classify.head import EmbeddingRecipe

BITS = 17
L2 = 1e-5
SYNTHETIC_PER_CATEGORY = 150
SYNTHETIC_SHARE = 1 / 3
"""Template prompts are at most this share of any category's training prompts (a minority)."""
TRAIN_CAP = 3_000
"""Real prompts kept per (source, category): more adds training time, not accuracy (weights are ∝ sqrt)."""
GUIDANCE = "guidance"
SYNTHETIC = "synthetic"


def balanced_weights(labels: Sequence[str], sources: Sequence[str]) -> np.ndarray:
    """Per-sample weights: categories equal, sources inside a category ∝ sqrt(size); mean 1."""
    cells = Counter(zip(labels, sources, strict=True))
    cat_mass: Counter[str] = Counter()
    for (cat, _), n in cells.items():
        cat_mass[cat] += np.sqrt(n)
    w = np.array(
        [np.sqrt(cells[(c, s)]) / cells[(c, s)] / cat_mass[c] for c, s in zip(labels, sources, strict=True)]
    )
    return w * len(w) / w.sum()


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    sample_weight: np.ndarray | None = None,
    *,
    classes: Sequence[str] | None = None,
    bits: int = BITS,
    l2: float = L2,
    max_iter: int = 300,
) -> LinearModel:
    """Fit the linear model on ``texts`` with category ``labels``."""
    try:
        from scipy import sparse
    except ImportError as exc:
        raise MissingDependencyError("training the default classifier", "train", "scipy") from exc
    classes = tuple(classes or load_taxonomy().ids)
    n, d = len(texts), 2**bits
    f = featurise(list(texts), bits)
    x = sparse.csr_matrix((f.norm[f.doc], (f.doc, f.bucket)), shape=(n, d), dtype=np.float64)
    w, b = softmax_regression(
        x, labels, classes, sample_weight, l2=l2, max_iter=max_iter, need=("the default classifier", "train")
    )
    return LinearModel(w, b, classes, bits)


def softmax_regression(
    x: Any,
    labels: Sequence[str],
    classes: Sequence[str],
    sample_weight: np.ndarray | None,
    *,
    l2: float,
    max_iter: int,
    need: tuple[str, str],
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted, L2-regularised softmax regression fitted with L-BFGS: weights (d × k) and biases.

    ``x`` is n × d, a NumPy array or a SciPy sparse matrix; ``labels`` are ids in ``classes``.
    ``need`` names what is being trained and the extra that brings scipy, for the error message.
    Both classifiers (hashed n-grams here, embeddings in :mod:`.head`) fit with it.
    """
    try:
        from scipy import optimize
    except ImportError as exc:
        raise MissingDependencyError(f"training {need[0]}", need[1], "scipy") from exc
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[c] for c in labels])
    n, d = x.shape
    # The products run in float32 with the transpose stored row-major: ~6x faster than float64 x.T @ g;
    # L-BFGS itself keeps float64.
    x = x.astype(np.float32)
    xt = x.T.tocsr() if hasattr(x, "tocsr") else np.ascontiguousarray(x.T)
    k = len(classes)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    total = sw.sum()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: d * k].reshape(d, k)
        z = np.asarray(x @ w.astype(np.float32), dtype=np.float64) + theta[d * k :]
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        value = -(sw * logp[np.arange(n), y]).sum() / total + 0.5 * l2 * (w * w).sum()
        g = (np.exp(logp) - onehot) * sw[:, None] / total
        grad_w = np.asarray(xt @ g.astype(np.float32), dtype=np.float64) + l2 * w
        return value, np.concatenate([np.asarray(grad_w).ravel(), g.sum(axis=0)])

    res = optimize.minimize(
        loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": max_iter}
    )
    return res.x[: d * k].reshape(d, k).astype(np.float32), res.x[d * k :].astype(np.float32)


def guidance() -> list[LabelledPrompt]:
    """Each category's description and seed phrases (``taxonomy.toml``) as training prompts."""
    out = []
    for cat in load_taxonomy().categories:
        for i, text in enumerate((cat.description, *cat.seeds)):
            out.append(LabelledPrompt(GUIDANCE, f"{cat.id}:{i}", text, cat.id))
    return out


def synthetic_counts(categories: Sequence[str], per_category: int) -> dict[str, int]:
    """Template prompts per category: ``per_category``, but at most :data:`SYNTHETIC_SHARE` of it."""
    have = Counter(categories)
    return {
        c: min(per_category, int(have[c] * SYNTHETIC_SHARE / (1 - SYNTHETIC_SHARE)))
        for c in load_taxonomy().ids
    }


@dataclass(frozen=True)
class TrainingSet:
    """What a classifier learns from: texts (scrubbed), their labels and sources, balanced weights."""

    texts: list[str]
    labels: list[str]
    sources: list[str]
    weights: np.ndarray


def training_set(
    prompts: Sequence[LabelledPrompt],
    extra: Sequence[LabelledPrompt] = (),
    synthetic: int = SYNTHETIC_PER_CATEGORY,
) -> TrainingSet:
    """Everything a classifier learns from.

    ``prompts`` (real, labelled by their source; each (source, category) cut to :data:`TRAIN_CAP`),
    ``extra`` (the weakly labelled chats, :mod:`.weak`), every category's description and seeds, and
    synthetic template prompts, never more than :data:`SYNTHETIC_SHARE` of a category.
    """
    chosen = cap(prompts, TRAIN_CAP) + list(extra) + guidance()
    texts, _ = scrub_texts(p.text for p in chosen)  # as the classifier sees prompts at run time
    labels = [p.category for p in chosen]
    sources = [p.source for p in chosen]
    wanted = synthetic_counts(labels, synthetic)
    syn_texts, syn_labels = training_prompts(synthetic, seed=1)
    taken: Counter[str] = Counter()
    for text, label in zip(syn_texts, syn_labels, strict=True):
        if taken[label] < wanted[label]:
            taken[label] += 1
            texts.append(text)
            labels.append(label)
            sources.append(SYNTHETIC)
    return TrainingSet(texts, labels, sources, balanced_weights(labels, sources))


@dataclass
class DefaultRecipe:
    """The default classifier's recipe: :func:`fit` on :func:`training_set` (``extra``: weak labels), and
    the multilingual encoder's head on the same prompts for the other languages."""

    extra: Sequence[LabelledPrompt] = ()
    name: str = "default"
    multilingual: EmbeddingRecipe = field(init=False)

    def __post_init__(self) -> None:
        from tokencensus.classify.head import EmbeddingRecipe

        self.multilingual = EmbeddingRecipe("use", self.extra)

    def fit(self, prompts: Sequence[LabelledPrompt]) -> DefaultClassifier:
        data = training_set(prompts, self.extra)
        model = fit(data.texts, data.labels, data.weights)
        return DefaultClassifier(model=model, multilingual=self.multilingual.fit(prompts))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="the shared data directory (with prompts/)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "classifiers" / MODEL_FILE))
    parser.add_argument(
        "--no-loso", action="store_true", help="skip measuring the errors leaving one source out (~15 min)"
    )
    args = parser.parse_args(argv)
    prompts = load_corpus(args.data)
    weak = load_weak(args.data)
    data = training_set(prompts, weak)
    fit(data.texts, data.labels, data.weights).save(Path(args.out))
    print(
        f"trained on {len(data.texts)} prompts ({len(prompts)} labelled by source, {len(weak)} weakly): "
        f"{args.out}"
    )
    if not args.no_loso:
        from tokencensus.classify.classifiers import save_confusion
        from tokencensus.classify.evaluate import run_evaluation

        result = run_evaluation(args.data, "default", per_cell=TRAIN_CAP, log=print)
        print(result.format())
        name = DefaultClassifier(model_path=args.out).name
        print(f"stored the errors of {name}: {save_confusion(name, result.confusion)}")


if __name__ == "__main__":
    main()
