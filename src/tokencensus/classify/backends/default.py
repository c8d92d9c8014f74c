"""The default backend: multinomial logistic regression over hashed character and word n-grams.

Installs with the package, needs no GPU and no download: the weights (``default_model.npz``, a few
MB, int8-quantised) ship in the package and inference is numpy only (:mod:`..features`).

How the weights were made (``python -m tokencensus.classify.train --data ../shared/data``): trained
on every real labelled prompt of ``shared/data/prompts`` and ``shared/data/prompts_extra`` (14 sources,
labelled by their own metadata, :mod:`..corpus`), weakly labelled ShareGPT turns (:mod:`..weak`), the
taxonomy's descriptions and seeds, and a minority of synthetic prompts (:mod:`..synthetic`). Only
derived weights are shipped, never the prompts. ``tokencensus eval-classifier`` measures the recipe
leaving one source out (docs/classify.md); those errors ship in ``confusion.npz``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from tokencensus.classify.backends import Prediction
from tokencensus.classify.features import featurise, scores

MODEL_FILE = "default_model.npz"
_BATCH = 512


@dataclass
class LinearModel:
    """Weights (buckets × classes), bias, class ids and the hashing width."""

    weights: np.ndarray
    bias: np.ndarray
    classes: tuple[str, ...]
    bits: int

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), _BATCH):
            s = scores(featurise(list(texts[i : i + _BATCH]), self.bits), self.weights, self.bias)
            s -= s.max(axis=1, keepdims=True)
            e = np.exp(s)
            out.append(e / e.sum(axis=1, keepdims=True))
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)), np.float32)

    def save(self, path: Path) -> None:
        """Write int8-quantised weights (per-class scale) to a compressed npz."""
        scale = np.abs(self.weights).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        q = np.round(self.weights / scale).astype(np.int8)
        np.savez_compressed(
            path,
            q=q,
            scale=scale.astype(np.float32),
            bias=self.bias.astype(np.float32),
            classes=np.array(self.classes),
            bits=np.array(self.bits),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> LinearModel:
        """Load a saved model (default: the packaged one)."""
        if path is None:
            ref = resources.files("tokencensus.classify.backends").joinpath(MODEL_FILE)
            with resources.as_file(ref) as p:
                return cls.load(p)
        with np.load(path) as z:
            weights = z["q"].astype(np.float32) * z["scale"][None, :]
            return cls(weights, z["bias"], tuple(str(c) for c in z["classes"]), int(z["bits"]))


class DefaultBackend:
    """The packaged linear model (or one passed in, e.g. while evaluating leaving one source out)."""

    def __init__(self, model: LinearModel | None = None, model_path: str | Path | None = None) -> None:
        self.model = model or LinearModel.load(Path(model_path) if model_path else None)
        self.name = "default-v2"

    def predict(self, texts: Sequence[str]) -> Prediction:
        proba = self.model.predict_proba(texts)
        best = proba.argmax(axis=1) if len(proba) else np.zeros(0, np.int64)
        cats = [self.model.classes[i] for i in best]
        return Prediction(cats, proba[np.arange(len(best)), best].astype(np.float64))
