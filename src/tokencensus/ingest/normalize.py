"""Normalising the values every log writes differently: finish reasons, model names, users, countries.

Each function works over the *distinct* values of a column (logs repeat a few dozen model names and
finish reasons millions of times), so Python only ever sees each spelling once.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.errors import ConfigError, MissingDependencyError
from tokencensus.schema import FINISH_REASONS

_STOP = (
    "stop",
    "end_turn",
    "stop_sequence",
    "eos",
    "eos_token",
    "complete",
    "completed",
    "finished",
    "stopped",
    "end",
    "done",
)
_LENGTH = (
    "length",
    "max_tokens",
    "max_output_tokens",
    "max_length",
    "token_limit",
    "model_length",
    "max_completion_tokens",
    "context_length_exceeded",
    "context_window_exceeded",
    "max_context_length",
)
_TOOLS = (
    "tool_calls",
    "tool_use",
    "tool_call",
    "function_call",
    "function_calls",
    "tools",
    "requires_action",
)
_FILTER = (
    "content_filter",
    "safety",
    "recitation",
    "blocklist",
    "prohibited_content",
    "spii",
    "image_safety",
    "refusal",
    "content_filtered",
    "filtered",
    "moderation",
)
_CANCELLED = (
    "cancelled",
    "canceled",
    "abort",
    "aborted",
    "user_cancelled",
    "client_disconnect",
    "interrupted",
)
_ERROR = (
    "error",
    "failed",
    "failure",
    "malformed_function_call",
    "unexpected_tool_call",
    "exception",
    "timeout",
    "server_error",
    "rate_limit",
    "rate_limited",
)

FINISH_REASON_SPELLINGS: dict[str, str] = {
    **{s: "stop" for s in _STOP},
    **{s: "length" for s in _LENGTH},
    **{s: "tool_calls" for s in _TOOLS},
    **{s: "content_filter" for s in _FILTER},
    **{s: "cancelled" for s in _CANCELLED},
    **{s: "error" for s in _ERROR},
}
"""Lower-cased spellings of finish reasons seen in OpenAI, Anthropic, Gemini, OpenRouter, LiteLLM and
OTel logs, and the normalised reason each maps to; anything else is ``unknown``."""


def finish_reason(value: str) -> str:
    """One log spelling → one of :data:`tokencensus.schema.FINISH_REASONS`."""
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    key = key.removeprefix("finish_reason_").removeprefix("stop_reason_")
    if key in FINISH_REASONS:
        return key
    return FINISH_REASON_SPELLINGS.get(key, "unknown")


def finish_reasons(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Normalise a column of finish reasons; null becomes ``unknown``."""
    out = map_distinct(values, finish_reason)
    return pc.fill_null(out, "unknown")


def map_distinct(values: pa.Array | pa.ChunkedArray, fn: Callable[[str], str | None]) -> pa.Array:
    """Apply ``fn`` to each distinct non-null string of ``values``; nulls stay null."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    encoded = values.dictionary_encode()
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return mapped.take(encoded.indices)


# -- models ------------------------------------------------------------------------------------------


class Catalog(Protocol):
    """What ingest needs of :class:`tokencensus.catalog.Catalog`: alias resolution."""

    def resolve(self, names: pa.Array) -> pa.Array:
        """Canonical slug of each name, null where the catalog does not know it."""
        ...


class ModelResolver:
    """Canonical model slugs through the catalog, each distinct raw name resolved once per run.

    A name the catalog cannot resolve becomes its own lower-cased, stripped spelling, and is
    counted (requests and tokens) so that the ingest summary can list it for the catalog.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.cache: dict[str, str | None] = {}

    def resolve(self, raw: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
        """(model, unresolved mask) for a column of raw model names."""
        if isinstance(raw, pa.ChunkedArray):
            raw = raw.combine_chunks()
        encoded = raw.cast(pa.string()).dictionary_encode()
        names = encoded.dictionary.to_pylist()
        new = [n for n in names if n not in self.cache]
        if new:
            slugs = self.catalog.resolve(pa.array(new, pa.string())).to_pylist()
            self.cache.update(zip(new, slugs, strict=True))
        models, unresolved = [], []
        for name in names:
            slug = self.cache[name]
            fallback = name.strip().lower() or None
            models.append(slug if slug else fallback)
            unresolved.append(not slug and fallback is not None)
        model = pa.array(models, pa.string()).take(encoded.indices)
        missing = pa.array(unresolved, pa.bool_()).take(encoded.indices)
        return model, pc.fill_null(missing, False)


def default_catalog() -> Catalog:
    """The packaged model catalog."""
    from tokencensus.catalog import load_catalog

    return load_catalog()


# -- users -------------------------------------------------------------------------------------------

SALT_ENV = "TOKENCENSUS_USER_SALT"
"""Environment variable holding the salt for ``--hash-users``."""
SALT_FILE = "_user_salt"
"""File in the lake root holding a generated salt when neither the option nor the variable gives one."""


def user_salt(lake_root: Path, salt: str | None = None) -> str:
    """The salt for hashing user ids: ``salt``, else ``$TOKENCENSUS_USER_SALT``, else the lake's own.

    The lake's own salt is generated once (random, 128 bits) and kept in ``<lake>/_user_salt`` with
    owner-only permissions, so that every ingest into the same lake hashes a user the same way (and
    retention cohorts survive) while the hashes cannot be reversed without that file.
    """
    if salt:
        return salt
    from_env = os.environ.get(SALT_ENV)
    if from_env:
        return from_env
    path = lake_root / SALT_FILE
    if path.exists():
        text = path.read_text().strip()
        if not text:
            raise ConfigError(f"{path} is empty; delete it (a new salt is made) or set {SALT_ENV}")
        return text
    generated = secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generated + "\n")
    return generated


def hash_users(users: pa.Array | pa.ChunkedArray, salt: str) -> pa.Array:
    """Salted SHA-256 (hex) of each user id; null stays null."""
    prefix = salt.encode() + b"\x00"
    return map_distinct(users, lambda u: hashlib.sha256(prefix + u.encode()).hexdigest())


# -- countries ---------------------------------------------------------------------------------------

_COUNTRY_ALIASES = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "russia": "RU",
    "turkey": "TR",
    "the netherlands": "NL",
    "holland": "NL",
    "palestine": "PS",
    "ivory coast": "CI",
    "cape verde": "CV",
    "brunei": "BN",
    "macedonia": "MK",
    "swaziland": "SZ",
    "burma": "MM",
    "kosovo": "XK",
    "congo republic": "CG",
    "republic of the congo": "CG",
    "dr congo": "CD",
    "democratic republic of the congo": "CD",
    "north korea": "KP",
    "czech republic": "CZ",
    "macau": "MO",
    "micronesia": "FM",
    "vatican": "VA",
    "south korea": "KR",
    "korea": "KR",
    "iran": "IR",
    "vietnam": "VN",
    "taiwan": "TW",
    "syria": "SY",
    "laos": "LA",
    "moldova": "MD",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
}


def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 for a code or an English country name; None when unknown."""
    text = value.strip()
    if not text:
        return None
    if len(text) == 2 and text.isalpha() and text.isascii():
        return text.upper()
    alias = _COUNTRY_ALIASES.get(text.lower())
    if alias:
        return alias
    try:
        import pycountry
    except ImportError as exc:
        raise MissingDependencyError("reading country names", "datasets", "pycountry") from exc
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def countries(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Normalise a country column to alpha-2 codes; names no one knows become null (the row stays)."""
    return map_distinct(values, country_code)
