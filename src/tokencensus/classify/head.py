"""Training the embedding classifier's linear heads (extra ``embedding``; scipy).

:func:`fit_head` is multinomial logistic regression with L2 on unit-length embeddings, solved with
L-BFGS; samples are weighted as for the default model (:func:`.train.balanced_weights`). The data
are the default model's (:func:`.train.training_set`), scrubbed as at run time. Each distinct text is
embedded once (:class:`CachedEncoder`), so the leave-one-source-out evaluation only refits the head
per fold.

``python -m tokencensus.classify.head --data ../shared/data`` rebuilds the packaged
``classifiers/embedding_head.npz`` (every encoder, or ``--encoder``), measures each recipe leaving one
source out and stores the pooled confusion (``classifiers/confusion.npz``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tokencensus.classify.classifiers import save_confusion
from tokencensus.classify.classifiers.embedding import (
    ENCODERS,
    HEAD_FILE,
    EmbeddingClassifier,
    Encoder,
    LinearHead,
    get_encoder,
    load_head,
    save_heads,
)
from tokencensus.classify.corpus import LabelledPrompt, cap, load_corpus
from tokencensus.classify.evaluate import leave_one_source_out
from tokencensus.classify.taxonomy import load_taxonomy
from tokencensus.classify.train import softmax_regression, training_set
from tokencensus.classify.weak import load_weak

L2 = {"static": 1e-5, "minilm": 1e-4, "use": 1e-4}
"""L2 strength per encoder, picked by macro-F1 on held-out prompts (1e-3 ... 1e-6 tried; for use,
leaving one source out: 1e-3 0.408, 1e-4 0.430, 1e-5 0.398)."""


def fit_head(
    x: np.ndarray,
    labels: Sequence[str],
    sample_weight: np.ndarray | None = None,
    *,
    classes: Sequence[str] | None = None,
    l2: float = 1e-4,
    max_iter: int = 500,
) -> LinearHead:
    """Fit softmax regression on embeddings ``x`` (n × d) with category ``labels``."""
    classes = tuple(classes or load_taxonomy().ids)
    x = np.asarray(x)  # softmax_regression computes in float32
    w, b = softmax_regression(
        x,
        labels,
        classes,
        sample_weight,
        l2=l2,
        max_iter=max_iter,
        need=("the embedding classifier", "embedding"),
    )
    return LinearHead(w, b, classes)


class CachedEncoder:
    """An encoder that embeds each distinct text once (the folds of an evaluation share most texts)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            self._cache.update(zip(missing, self.encoder.encode(missing), strict=True))
        if not texts:
            return self.encoder.encode([])
        return np.stack([self._cache[t] for t in texts])


class EmbeddingRecipe:
    """The embedding classifier's recipe: a head fitted on the encoder's embeddings of
    :func:`.train.training_set` (``extra``: the weakly labelled chats)."""

    def __init__(self, encoder: str | Encoder, extra: Sequence[LabelledPrompt] = ()) -> None:
        self.encoder = CachedEncoder(get_encoder(encoder) if isinstance(encoder, str) else encoder)
        self.extra = list(extra)
        self.name = f"embedding-{self.encoder.name}"

    def head(self, prompts: Sequence[LabelledPrompt]) -> LinearHead:
        data = training_set(prompts, self.extra)
        return fit_head(self.encoder.encode(data.texts), data.labels, data.weights, l2=L2[self.encoder.name])

    def fit(self, prompts: Sequence[LabelledPrompt]) -> EmbeddingClassifier:
        return EmbeddingClassifier(self.encoder, head=self.head(prompts))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="the shared data directory (with prompts/)")
    parser.add_argument("--encoder", choices=ENCODERS, action="append", help="default: every encoder")
    parser.add_argument("--out", default=str(Path(__file__).parent / "classifiers" / HEAD_FILE))
    parser.add_argument(
        "--no-loso", action="store_true", help="skip measuring the errors leaving one source out"
    )
    parser.add_argument(
        "--per-source-cap", type=int, default=1000, help="prompts per (source, category) of that measurement"
    )
    args = parser.parse_args(argv)
    prompts = load_corpus(args.data)
    weak = load_weak(args.data)
    out = Path(args.out)
    heads = {}
    if out.exists():  # keep the heads of encoders not rebuilt now
        with np.load(out) as z:
            heads = {e: load_head(e, out) for e in ENCODERS if f"{e}.weights" in z.files}
    recipes = {name: EmbeddingRecipe(name, weak) for name in args.encoder or ENCODERS}
    for name, recipe in recipes.items():
        heads[name] = recipe.head(prompts)
        print(f"trained the {name} head on {len(prompts)} labelled prompts and {len(weak)} weak labels")
    save_heads(heads, out)
    print(f"wrote {out} ({', '.join(sorted(heads))})")
    if args.no_loso:
        return
    labels = list(load_taxonomy().ids)
    for name, recipe in recipes.items():
        result = leave_one_source_out(recipe, cap(prompts, args.per_source_cap), labels, log=print)
        print(result.format())
        classifier = EmbeddingClassifier(recipe.encoder, head=heads[name])
        print(f"stored the errors of {classifier.name}: {save_confusion(classifier.name, result.confusion)}")


if __name__ == "__main__":
    main()
