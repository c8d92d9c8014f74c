"""Training and scoring the embedding backend's linear heads (extra ``embedding``; scipy).

:func:`fit_head` is multinomial logistic regression with L2 on unit-length embeddings, solved with
L-BFGS; samples are weighted as for the default model (:func:`.train.balanced_weights`). The data
are the default model's: the *train* split of the public labelled prompts plus the synthetic ones,
scrubbed as at run time. Prompts are embedded once (:class:`EmbeddedCorpus`), so the
leave-one-source-out evaluation (:func:`cross_source`) only refits the head per fold.

``python -m tokencensus.classify.head --data ../shared/data`` rebuilds the packaged
``backends/embedding_head.npz`` (every encoder, or ``--encoder``) and prints both scores.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tokencensus.classify.backends import DEFAULT_FLOOR, apply_floor
from tokencensus.classify.backends.embedding import (
    ENCODERS,
    HEAD_FILE,
    Encoder,
    LinearHead,
    get_encoder,
    load_head,
    save_heads,
)
from tokencensus.classify.corpus import LabelledPrompt, load_corpus
from tokencensus.classify.evaluate import Scores, score
from tokencensus.classify.scrub import scrub_texts
from tokencensus.classify.synthetic import training_prompts
from tokencensus.classify.taxonomy import load_taxonomy
from tokencensus.classify.train import SYNTHETIC_PER_CATEGORY, balanced_weights, softmax_regression

L2 = {"static": 1e-5, "minilm": 1e-4}
"""L2 strength per encoder, picked by in-source and cross-source macro-F1 (1e-3 ... 1e-6 tried)."""


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
    x = np.asarray(x, dtype=np.float64)
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


@dataclass
class EmbeddedCorpus:
    """The labelled prompts and the synthetic training prompts, each embedded once."""

    prompts: list[LabelledPrompt]
    x: np.ndarray
    synthetic_labels: list[str]
    synthetic_x: np.ndarray
    prompts_per_s: float
    l2: float = 1e-4

    @classmethod
    def build(
        cls, encoder: Encoder, prompts: Sequence[LabelledPrompt], synthetic: int = SYNTHETIC_PER_CATEGORY
    ) -> EmbeddedCorpus:
        texts, _ = scrub_texts(p.text for p in prompts)
        start = time.perf_counter()
        x = encoder.encode(texts)
        rate = len(texts) / max(time.perf_counter() - start, 1e-9)
        syn_texts, syn_labels = training_prompts(synthetic, seed=1)
        return cls(list(prompts), x, syn_labels, encoder.encode(syn_texts), rate, L2[encoder.name])

    def fit(self, keep: np.ndarray, classes: Sequence[str]) -> LinearHead:
        """A head trained on the prompts where ``keep`` is true plus every synthetic prompt."""
        chosen = [p for p, k in zip(self.prompts, keep, strict=True) if k]
        labels = [p.category for p in chosen] + self.synthetic_labels
        sources = [p.source for p in chosen] + ["synthetic"] * len(self.synthetic_labels)
        x = np.concatenate([self.x[keep], self.synthetic_x])
        return fit_head(x, labels, balanced_weights(labels, sources), classes=classes, l2=self.l2)

    def mask(
        self, split: str | None = None, source: str | None = None, exclude: str | None = None
    ) -> np.ndarray:
        return np.array(
            [
                (split is None or p.split == split)
                and (source is None or p.source == source)
                and (exclude is None or p.source != exclude)
                for p in self.prompts
            ]
        )


def in_source(
    data: EmbeddedCorpus, head: LinearHead, labels: Sequence[str], floor: float, name: str
) -> Scores:
    """``head`` on the *test* split (throughput: embedding + head, prompts/s)."""
    test = data.mask(split="test")
    pred = apply_floor(head.predict(data.x[test]), floor)
    gold = [p.category for p, t in zip(data.prompts, test, strict=True) if t]
    result = score(gold, pred.categories, labels, name)
    result.prompts_per_s = data.prompts_per_s
    return result


def cross_source(data: EmbeddedCorpus, labels: Sequence[str], floor: float, name: str) -> Scores:
    """Leave one source out: train on the other sources' train split, score all held-out prompts."""
    gold: list[str] = []
    predicted: list[str] = []
    notes = []
    for source in sorted({p.source for p in data.prompts}):
        held = data.mask(source=source)
        head = data.fit(data.mask(split="train", exclude=source), labels)
        pred = apply_floor(head.predict(data.x[held]), floor).categories
        truth = [p.category for p, h in zip(data.prompts, held, strict=True) if h]
        fold = score(truth, pred, labels, source)
        notes.append(f"  held out {source}: {fold.n} prompts, accuracy {fold.accuracy:.3f}")
        gold += truth
        predicted += pred
    result = score(gold, predicted, labels, f"{name} cross-source (leave one source out, pooled)")
    result.notes = notes
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="the shared data directory (with prompts/)")
    parser.add_argument("--encoder", choices=ENCODERS, action="append", help="default: every encoder")
    parser.add_argument("--out", default=str(Path(__file__).parent / "backends" / HEAD_FILE))
    parser.add_argument("--floor", type=float, default=DEFAULT_FLOOR)
    args = parser.parse_args(argv)
    labels = list(load_taxonomy().ids)
    prompts = load_corpus(args.data)
    out = Path(args.out)
    heads = {}
    if out.exists():  # keep the heads of encoders not rebuilt now
        with np.load(out) as z:
            heads = {e: load_head(e, out) for e in ENCODERS if f"{e}.weights" in z.files}
    for name in args.encoder or ENCODERS:
        data = EmbeddedCorpus.build(get_encoder(name), prompts)
        head = data.fit(data.mask(split="train"), labels)
        heads[name] = head
        print(in_source(data, head, labels, args.floor, f"embedding-{name} in-source (test split)").format())
        print(cross_source(data, labels, args.floor, f"embedding-{name}").format())
    save_heads(heads, out)
    print(f"wrote {out} ({', '.join(sorted(heads))})")


if __name__ == "__main__":
    main()
