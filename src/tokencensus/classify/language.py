"""Language of a prompt, with py3langid (a pure-Python/numpy port of langid.py; 97 languages).

Prompts with fewer than :data:`MIN_LETTERS` letters (``hi``, code-only snippets of symbols, empty)
get ``und`` (undetermined) rather than a guess. Code is mostly English keywords, so code-heavy
prompts usually come out as ``en``, which is what the study reports too.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

from tokencensus.errors import MissingDependencyError

UNDETERMINED = "und"
MIN_LETTERS = 10
MAX_CHARS = 1_000
"""Characters looked at (identification needs far fewer; speed grows with length)."""
RECENT = 8_192
"""Answers kept for the prompts asked about last: classify asks twice per batch of 4,096 prompts (the
default classifier routes by language, the label records it)."""


@cache
def _identifier() -> Any:
    try:
        from py3langid import langid
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise MissingDependencyError("language detection", "all", "py3langid") from exc
    # langid.classify loads the packaged model once, on first use (no download).
    return langid.classify


def detect(texts: Sequence[str]) -> list[str]:
    """ISO 639-1 code of each prompt's language (``und`` when there is too little text)."""
    return [_language(text[:MAX_CHARS]) for text in texts]


@lru_cache(maxsize=RECENT)
def _language(snippet: str) -> str:
    if sum(ch.isalpha() for ch in snippet[:200]) < MIN_LETTERS:
        return UNDETERMINED
    return str(_identifier()(snippet)[0])
