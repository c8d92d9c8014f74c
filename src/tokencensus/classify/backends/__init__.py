"""Classifier backends behind one interface: ``predict(texts) -> Prediction``.

* ``default``: a linear model over hashed n-gram features, numpy only, weights shipped in the
  package (:mod:`.default`).
* ``embedding``: MiniLM sentence embeddings (optional extra ``embedding``) with a linear head
  (:mod:`.embedding`).
* ``llm``: any OpenAI-compatible chat endpoint (vLLM, Ollama, OpenRouter) with batching, retries
  and a cost guard (:mod:`.llm`).

Every backend gets prompts that are already scrubbed (``classify.scrub``) and returns, per prompt, a
category id of the taxonomy and a confidence in [0, 1]; :func:`apply_floor` turns labels below the
confidence floor into ``other``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tokencensus.classify.taxonomy import OTHER
from tokencensus.errors import ConfigError

BACKENDS = ("default", "embedding", "llm")
DEFAULT_FLOOR = 0.25
"""Labels whose confidence is below this count as ``other`` (DESIGN.md)."""


@dataclass(frozen=True)
class Prediction:
    """One category and one confidence per prompt, in input order."""

    categories: list[str]
    confidence: np.ndarray


class Backend(Protocol):
    name: str
    """Identifies the classifier (and its version) in the labels table."""

    def predict(self, texts: Sequence[str]) -> Prediction: ...


def apply_floor(prediction: Prediction, floor: float) -> Prediction:
    """Labels with confidence below ``floor`` become ``other`` (confidence kept)."""
    cats = [
        c if conf >= floor else OTHER
        for c, conf in zip(prediction.categories, prediction.confidence, strict=True)
    ]
    return Prediction(cats, prediction.confidence)


def get_backend(name: str = "default", **options: Any) -> Backend:
    """The backend called ``name``; ``options`` go to its constructor."""
    if name == "default":
        from tokencensus.classify.backends.default import DefaultBackend

        return DefaultBackend(**options)
    if name == "embedding":
        from tokencensus.classify.backends.embedding import EmbeddingBackend

        return EmbeddingBackend(**options)
    if name == "llm":
        from tokencensus.classify.backends.llm import LLMBackend

        return LLMBackend(**options)
    raise ConfigError(f"unknown classifier backend {name!r}; choose one of: {', '.join(BACKENDS)}")
