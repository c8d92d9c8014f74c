"""Classifiers behind one interface: ``predict(texts) -> Prediction``.

* ``default``: a linear model over hashed n-gram features, numpy only, weights shipped in the
  package (:mod:`.default`).
* ``embedding``: MiniLM sentence embeddings (optional extra ``embedding``) with a linear head
  (:mod:`.embedding`).
* ``llm``: any OpenAI-compatible chat endpoint (vLLM, Ollama, OpenRouter) with batching, retries
  and a cost guard (:mod:`.llm`).

Every classifier gets prompts that are already scrubbed (``classify.scrub``) and returns, per prompt, a
category id of the taxonomy and a confidence in [0, 1]; :func:`apply_floor` turns labels below the
confidence floor into ``other``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from tokencensus.classify.taxonomy import OTHER
from tokencensus.errors import ConfigError

if TYPE_CHECKING:
    from tokencensus.classify.prevalence import Confusion

CLASSIFIERS = ("default", "embedding", "llm")
CONFUSION_FILE = "confusion.npz"
"""Each shipped classifier's errors measured leaving one source out (``eval-classifier``), by name."""


@dataclass(frozen=True)
class Prediction:
    """One category and one confidence per prompt, in input order."""

    categories: list[str]
    confidence: np.ndarray


class Classifier(Protocol):
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


def get_classifier(name: str = "default", **options: Any) -> Classifier:
    """The classifier called ``name``; ``options`` go to its constructor."""
    if name == "default":
        from tokencensus.classify.classifiers.default import DefaultClassifier

        return DefaultClassifier(**options)
    if name == "embedding":
        from tokencensus.classify.classifiers.embedding import EmbeddingClassifier

        return EmbeddingClassifier(**options)
    if name == "llm":
        from tokencensus.classify.classifiers.llm import LLMClassifier

        return LLMClassifier(**options)
    raise ConfigError(f"unknown classifier {name!r}; choose one of: {', '.join(CLASSIFIERS)}")


def shipped_confusion(name: str) -> Confusion | None:
    """How the shipped classifier ``name`` errs on sources it was not trained on (counts, rows
    true, columns predicted after the default floor), or ``None`` when it was not measured."""
    ref = resources.files("tokencensus.classify.classifiers").joinpath(CONFUSION_FILE)
    with resources.as_file(ref) as path:
        return load_confusion(name, path) if path.exists() else None


def load_confusion(name: str, path: Path) -> Confusion | None:
    """The confusion stored for ``name`` in ``path`` (:func:`save_confusion`), or ``None``."""
    from tokencensus.classify.prevalence import Confusion

    with np.load(path) as z:
        if f"{name}.counts" not in z.files:
            return None
        labels = tuple(str(c) for c in z[f"{name}.labels"])
        return Confusion(labels, z[f"{name}.counts"].astype(np.int64))


def save_confusion(name: str, confusion: Confusion, path: Path | None = None) -> Path:
    """Store ``confusion`` for ``name`` (default: in the package), keeping other classifiers';
    the file is replaced atomically."""
    path = path or Path(__file__).parent / CONFUSION_FILE
    arrays: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files if not k.startswith(f"{name}.")}
    arrays[f"{name}.labels"] = np.array(confusion.labels)
    arrays[f"{name}.counts"] = np.asarray(confusion.counts, dtype=np.int64)
    staging = path.with_name(f".{path.stem}.tmp.npz")
    np.savez_compressed(staging, **arrays)  # type: ignore[arg-type]
    os.replace(staging, path)
    return path
