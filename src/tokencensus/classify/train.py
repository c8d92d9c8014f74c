"""Training the default backend's linear model (needs scipy: ``pip install 'tokencensus[train]'``).

:func:`fit` is multinomial logistic regression with L2, solved with L-BFGS over a sparse matrix of
hashed features (:mod:`.features`). Samples are weighted so every category weighs the same in the
loss and, inside a category, a large source (GSM8K's 1,300 math problems) does not drown a small one:
a (category, source) cell of n prompts gets total weight ∝ sqrt(n).

``python -m tokencensus.classify.train --data ../shared/data`` rebuilds the packaged
``backends/default_model.npz`` from the *train* split of the labelled prompts plus synthetic ones.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tokencensus.classify.backends.default import MODEL_FILE, LinearModel
from tokencensus.classify.corpus import LabelledPrompt, load_corpus
from tokencensus.classify.features import featurise
from tokencensus.classify.synthetic import training_prompts
from tokencensus.classify.taxonomy import load_taxonomy
from tokencensus.errors import MissingDependencyError

BITS = 17
L2 = 1e-5
SYNTHETIC_PER_CATEGORY = 150


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
    Both classifier backends (hashed n-grams here, embeddings in :mod:`.head`) fit with it.
    """
    try:
        from scipy import optimize
    except ImportError as exc:
        raise MissingDependencyError(f"training {need[0]}", need[1], "scipy") from exc
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[c] for c in labels])
    n, d = x.shape
    k = len(classes)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    total = sw.sum()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: d * k].reshape(d, k)
        z = x @ w + theta[d * k :]
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        value = -(sw * logp[np.arange(n), y]).sum() / total + 0.5 * l2 * (w * w).sum()
        g = (np.exp(logp) - onehot) * sw[:, None] / total
        grad_w = x.T @ g + l2 * w
        return value, np.concatenate([np.asarray(grad_w).ravel(), g.sum(axis=0)])

    res = optimize.minimize(
        loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": max_iter}
    )
    return res.x[: d * k].reshape(d, k).astype(np.float32), res.x[d * k :].astype(np.float32)


def training_set(
    prompts: Sequence[LabelledPrompt], synthetic: int = SYNTHETIC_PER_CATEGORY
) -> tuple[list[str], list[str], np.ndarray]:
    """Texts, labels and balanced weights: ``prompts`` plus ``synthetic`` made-up prompts per category."""
    texts = [p.text for p in prompts]
    labels = [p.category for p in prompts]
    sources = [p.source for p in prompts]
    syn_texts, syn_labels = training_prompts(synthetic, seed=1)
    texts += syn_texts
    labels += syn_labels
    sources += ["synthetic"] * len(syn_texts)
    return texts, labels, balanced_weights(labels, sources)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="the shared data directory (with prompts/)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "backends" / MODEL_FILE))
    args = parser.parse_args(argv)
    train = [p for p in load_corpus(args.data) if p.split == "train"]
    texts, labels, weights = training_set(train)
    model = fit(texts, labels, weights)
    model.save(Path(args.out))
    print(f"trained on {len(texts)} prompts ({len(train)} real); wrote {args.out}")


if __name__ == "__main__":
    main()
