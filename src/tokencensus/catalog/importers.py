"""Regenerate the packaged catalog from OpenRouter ``/api/v1/models`` snapshots, and read LiteLLM's map.

The facts (ids, names, release dates, prices, context lengths, supported parameters, Hugging Face
ids) come from the snapshots; the attributes the study segments by (open weights, origin,
parameter counts) are curated here, in the tables below, because no API states them reliably.
Regenerating is two calls and never touches the network::

    paths = sorted(Path("../shared/data/catalogs").glob("openrouter_models_*.json"))
    write_catalog(import_openrouter_models(paths), Path("src/tokencensus/catalog/models.csv"))
    write_aliases(import_openrouter_aliases(paths), Path("src/tokencensus/catalog/aliases.csv"))

(:func:`build_catalog_files` does both.) One row per base id: ``:free``, ``:thinking``,
``:extended``, ``:beta``, ``:nitro`` and ``:exacto`` variants fold onto it and become aliases, as do
OpenRouter's ``canonical_slug`` permaslugs, Hugging Face ids and display names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa

from tokencensus.catalog.aliases import drop_date_stamp, normalize
from tokencensus.catalog.models import (
    ALIAS_SCHEMA,
    CATALOG_SCHEMA,
    UNKNOWN,
    Catalog,
    size_class,
    unknown_row,
    write_aliases,
    write_catalog,
)
from tokencensus.errors import CatalogError

# ── curated facts ───────────────────────────────────────────────────────────────────────────────

AUTHOR_ORIGIN: dict[str, str] = {
    # China
    **dict.fromkeys(
        "01-ai alibaba baidu bytedance bytedance-seed deepseek inclusionai kwaipilot meituan minimax "
        "moonshotai nex-agi opengvlab qwen stepfun stepfun-ai tencent thudm xiaomi z-ai".split(),
        "CN",
    ),
    # United States
    **dict.fromkeys(
        "agentica-org all-hands allenai amazon anthropic arcee-ai cognitivecomputations deepcogito "
        "eleutherai essentialai featherless google ibm-granite inception infermatic inflection liquid "
        "mancer meta-llama microsoft morph nousresearch nvidia open-r1 openai perceptron perplexity "
        "poolside prime-intellect rekaai relace writer x-ai".split(),
        "US",
    ),
    # Europe
    **dict.fromkeys("mistralai tngtech".split(), "EU"),
    # Elsewhere: Canada (cohere), Israel (ai21), Korea (upstage), Thailand (scb10x), Japan
    # (shisa-ai); and community fine-tuners that state no country.
    **dict.fromkeys(
        "ai21 aion-labs cohere scb10x shisa-ai upstage aetherwiing alfredpros alpindale "
        "anthracite-org arliai eva-unit-01 gryphe neversleep nothingiisreal pygmalionai raifle "
        "sao10k sophosympatheia thedrummer undi95".split(),
        "other",
    ),
}
"""Author (lab) → origin. Every author in models.csv must be here (the importer fails otherwise)."""

SKIP_AUTHORS = frozenset({"openrouter", "switchpoint"})
"""Routers, not models: ``openrouter/auto``, ``openrouter/free``, ``switchpoint/router``."""

RENAMED: dict[str, str] = {
    "thudm/glm-4-32b": "z-ai/glm-4-32b",  # THUDM became Z.ai; the same GLM-4-32B-0414 weights
    "inception/mercury-coder-small-beta": "inception/mercury-coder",  # OpenRouter renamed the id
}
"""Old OpenRouter id → the id it became; the old one is kept as an alias, not as a row."""

SNAPSHOTS: dict[str, str] = {
    # The vendor's undated name has only ever pointed at this one snapshot, and OpenRouter lists the
    # two ids with the same release time, prices and context length.
    "openai/gpt-4o-mini-2024-07-18": "openai/gpt-4o-mini",
    "openai/o1-mini-2024-09-12": "openai/o1-mini",
    "openai/o1-preview-2024-09-12": "openai/o1-preview",
    "anthropic/claude-3.5-haiku-20241022": "anthropic/claude-3.5-haiku",
}
"""Dated OpenRouter id → the undated id serving the same weights; the dated one is kept as an alias,
not as a row, so a log naming the snapshot (OpenAI responses) and one naming the undated model
(LiteLLM) count as one model. A dated id whose undated name moved on to a later snapshot
(``openai/gpt-4o-2024-05-13``, ``anthropic/claude-3.5-sonnet-20240620``) stays a row of its own."""

OPEN_WEIGHTS: dict[str, bool] = {
    # No Hugging Face id in the snapshots, but the weights are downloadable.
    **dict.fromkeys(
        """aion-labs/aion-rp-llama-3.1-8b cohere/command-r cohere/command-r-03-2024
        cohere/command-r-08-2024 cohere/command-r-plus cohere/command-r-plus-04-2024
        cohere/command-r-plus-08-2024 cohere/command-r7b-12-2024 deepcogito/cogito-v2.1-671b
        minimax/minimax-m1 mistralai/ministral-8b mistralai/mistral-large-2407
        mistralai/mistral-large-2411 mistralai/mistral-large-2512 mistralai/pixtral-large-2411
        mistralai/mistral-tiny nvidia/nemotron-3-nano-omni-30b-a3b-reasoning
        tngtech/tng-r1t-chimera z-ai/glm-4-32b""".split(),
        True,
    ),
    # A Hugging Face id is listed, but it names the base model, not weights of this one.
    "aion-labs/aion-1.0-mini": False,
}
"""Overrides of the rule "open weights iff the snapshot lists a Hugging Face id"."""

# Total / active parameters in billions where the name does not say them (or says only the active
# count); everything else is parsed from the Hugging Face id or the slug by :func:`parse_params`.
_V3 = (671.0, 37.0)  # DeepSeek-V3 architecture: V3, R1 and their fine-tunes and merges
_K2 = (1000.0, 32.0)  # Kimi K2 architecture
_GLM45 = (355.0, 32.0)
_GLM_AIR = (106.0, 12.0)
PARAMS: dict[str, tuple[float | None, float | None]] = {
    **dict.fromkeys(
        """deepseek/deepseek-chat deepseek/deepseek-chat-v3-0324 deepseek/deepseek-chat-v3.1
        deepseek/deepseek-r1 deepseek/deepseek-r1-0528 deepseek/deepseek-r1-zero
        deepseek/deepseek-v3-base deepseek/deepseek-v3.1-terminus deepseek/deepseek-v3.2
        deepseek/deepseek-v3.2-exp deepseek/deepseek-v3.2-speciale deepseek/deepseek-prover-v2
        microsoft/mai-ds-r1 perplexity/r1-1776 tngtech/deepseek-r1t-chimera
        tngtech/deepseek-r1t2-chimera tngtech/tng-r1t-chimera nex-agi/deepseek-v3.1-nex-n1
        deepcogito/cogito-v2-preview-deepseek-671b deepcogito/cogito-v2.1-671b""".split(),
        _V3,
    ),
    **dict.fromkeys(
        "moonshotai/kimi-k2 moonshotai/kimi-k2-0905 moonshotai/kimi-k2-thinking moonshotai/kimi-k2.5".split(),
        _K2,
    ),
    **dict.fromkeys("z-ai/glm-4.5 z-ai/glm-4.6 z-ai/glm-4.7".split(), _GLM45),
    **dict.fromkeys(
        "z-ai/glm-4.5-air z-ai/glm-4.5v z-ai/glm-4.6v prime-intellect/intellect-3".split(), _GLM_AIR
    ),
    "z-ai/glm-4.7-flash": (30.0, 3.0),
    "deepseek/deepseek-coder": (236.0, 21.0),
    "openai/gpt-oss-120b": (117.0, 5.1),
    "openai/gpt-oss-20b": (21.0, 3.6),
    "openai/gpt-oss-safeguard-20b": (21.0, 3.6),
    "meta-llama/llama-4-maverick": (400.0, 17.0),
    "meta-llama/llama-4-scout": (109.0, 17.0),
    "deepcogito/cogito-v2-preview-llama-109b-moe": (109.0, 17.0),
    "minimax/minimax-01": (456.0, 45.9),
    "minimax/minimax-m1": (456.0, 45.9),
    "minimax/minimax-m2": (230.0, 10.0),
    "minimax/minimax-m2.1": (230.0, 10.0),
    "meituan/longcat-flash-chat": (560.0, 27.0),
    "stepfun-ai/step3": (321.0, 38.0),
    "xiaomi/mimo-v2-flash": (309.0, 15.0),
    "tencent/hunyuan-a13b-instruct": (80.0, 13.0),
    "moonshotai/kimi-vl-a3b-thinking": (16.0, 3.0),
    "ai21/jamba-1.6-large": (398.0, 94.0),
    "ai21/jamba-large-1.7": (398.0, 94.0),
    "ai21/jamba-1.6-mini": (52.0, 12.0),
    "ai21/jamba-mini-1.7": (52.0, 12.0),
    "arcee-ai/trinity-mini": (26.0, 3.0),
    "arcee-ai/arcee-blitz": (24.0, None),
    "arcee-ai/virtuoso-medium-v2": (32.0, None),
    "cohere/command-a": (111.0, None),
    "cohere/command-r": (35.0, None),
    "cohere/command-r-03-2024": (35.0, None),
    "cohere/command-r-08-2024": (32.0, None),
    "cohere/command-r-plus": (104.0, None),
    "cohere/command-r-plus-04-2024": (104.0, None),
    "cohere/command-r-plus-08-2024": (104.0, None),
    "cohere/command-r7b-12-2024": (7.0, None),
    "mistralai/mistral-large-2407": (123.0, None),
    "mistralai/mistral-large-2411": (123.0, None),
    "mistralai/mistral-large-2512": (675.0, 41.0),
    "mistralai/pixtral-large-2411": (124.0, None),
    "mistralai/ministral-8b": (8.0, None),
    "mistralai/mistral-tiny": (7.0, None),
    "mistralai/mistral-nemo": (12.0, None),
    "mistralai/devstral-small": (24.0, None),
    "mistralai/devstral-small-2505": (24.0, None),
    "mistralai/magistral-small-2506": (24.0, None),
    "google/gemma-3n-e2b-it": (5.0, None),  # "E2B": 2B effective, 5B raw parameters
    "google/gemma-3n-e4b-it": (8.0, None),
    "ibm-granite/granite-4.0-h-micro": (3.0, None),
    "microsoft/phi-3-medium-128k-instruct": (14.0, None),
    "microsoft/phi-3-mini-128k-instruct": (3.8, None),
    "microsoft/phi-3.5-mini-128k-instruct": (3.8, None),
    "microsoft/phi-4": (14.0, None),
    "microsoft/phi-4-mini-instruct": (3.8, None),
    "microsoft/phi-4-multimodal-instruct": (5.6, None),
    "microsoft/phi-4-reasoning": (14.0, None),
    "microsoft/phi-4-reasoning-plus": (14.0, None),
    "rekaai/reka-flash-3": (21.0, None),
    "aion-labs/aion-rp-llama-3.1-8b": (8.0, None),
    "liquid/lfm-2.2-6b": (2.6, None),  # the slug says 6b; the weights are LFM2-2.6B
    "z-ai/glm-4-32b": (32.0, None),
}
"""Slug → (total, active) parameters in billions for open models whose names do not say them."""

_MOE_GRID: dict[str, tuple[float, float]] = {"8x7": (47.0, 13.0), "8x22": (141.0, 39.0)}
"""Mixtral-style ``NxMb`` names: total and active parameters (experts share attention weights)."""

REASONING = re.compile(
    r"^openai/o\d|deepseek-r1|/qwq|thinking|reasoning|r1t2?-chimera|/r1-1776|mai-ds-r1|glm-z1|"
    r"magistral|deep-?research|deephermes|olympiccoder|deepcoder|deepseek-prover"
)
"""Known reasoning models, in addition to those whose snapshot lists a ``reasoning`` parameter."""

CURATED_ALIASES: dict[str, str] = {
    "gemini-1.5-pro": "google/gemini-pro-1.5",
    "gemini-1.5-flash": "google/gemini-flash-1.5",
    "gemini-1.5-flash-8b": "google/gemini-flash-1.5-8b",
    "gemini-2.0-flash": "google/gemini-2.0-flash-001",
    "gemini-2.0-flash-lite": "google/gemini-2.0-flash-lite-001",
    "deepseek-reasoner": "deepseek/deepseek-r1",
    "deepseek-v3": "deepseek/deepseek-chat",
    "deepseek.v3-v1:0": "deepseek/deepseek-chat-v3.1",  # Bedrock's DeepSeek-V3.1
    "llama-4-maverick-17b-instruct": "meta-llama/llama-4-maverick",
    "llama-4-scout-17b-instruct": "meta-llama/llama-4-scout",
    "grok-2": "x-ai/grok-2-1212",
    "grok-4-fast-reasoning": "x-ai/grok-4-fast",  # xAI names the modes of one model
    "grok-4-1-fast-reasoning": "x-ai/grok-4.1-fast",
    "grok-4.20-reasoning": "x-ai/grok-4.20",
    "gpt-4-0125-preview": "openai/gpt-4-turbo-preview",
    "mistral-large-3": "mistralai/mistral-large-2512",
    "llama-3.2-11b-instruct": "meta-llama/llama-3.2-11b-vision-instruct",  # Bedrock drops "vision"
    "llama-3.2-90b-instruct": "meta-llama/llama-3.2-90b-vision-instruct",
    "grok-2-vision": "x-ai/grok-2-vision-1212",
    "jamba-large-1.6": "ai21/jamba-1.6-large",
    "jamba-mini-1.6": "ai21/jamba-1.6-mini",
    "jamba-1.7-large": "ai21/jamba-large-1.7",
    "jamba-1.7-mini": "ai21/jamba-mini-1.7",
    "nova-pro": "amazon/nova-pro-v1",
    "nova-lite": "amazon/nova-lite-v1",
    "nova-micro": "amazon/nova-micro-v1",
    "nova-premier": "amazon/nova-premier-v1",
    "nova-2-lite": "amazon/nova-2-lite-v1",
    "mistral-medium-2505": "mistralai/mistral-medium-3",
    "mistral-medium-2508": "mistralai/mistral-medium-3.1",
    "mistral-small-2501": "mistralai/mistral-small-24b-instruct-2501",
    "mistral-small-2503": "mistralai/mistral-small-3.1-24b-instruct",
    "mistral-small-2506": "mistralai/mistral-small-3.2-24b-instruct",
    "devstral-small-2507": "mistralai/devstral-small",
    "mixtral-8x7b": "mistralai/mixtral-8x7b-instruct",
    "mixtral-8x22b": "mistralai/mixtral-8x22b-instruct",
    # ShareGPT's default model name (tokencensus.ingest.chat.SHAREGPT_MODEL): ShareGPT V3 holds
    # ChatGPT conversations shared up to April 2023, when ChatGPT's default model was GPT-3.5
    # (GPT-4 was for Plus subscribers only); no catalog row is "ChatGPT" itself (chatgpt-4o-latest
    # is the GPT-4o of August 2024).
    "chatgpt": "openai/gpt-3.5-turbo",
}
"""Spellings no rule reaches (vendor API names that differ from OpenRouter's) → slug."""

_VARIANT_ID = re.compile(r":[a-z]+$")
_VARIANT_NAME = re.compile(r"\s*\((?:free|thinking|extended|beta|nitro|exacto|self-moderated)\)\s*$", re.I)
_NxM = re.compile(r"(?<![a-z0-9.])(\d+)x(\d+)b(?![a-z0-9])")
_TOTAL = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)([bt])(?![a-z0-9])")
_ACTIVE = re.compile(r"(?<![a-z0-9.])a(\d+(?:\.\d+)?)b(?![a-z0-9])")

# ── snapshot reading ────────────────────────────────────────────────────────────────────────────


@dataclass
class _Seen:
    """One model id in one snapshot."""

    rank: int  # position of the snapshot, oldest first
    id: str
    record: dict[str, Any]


@dataclass
class _Model:
    """Everything the snapshots say about one base id, across variants and snapshots."""

    slug: str
    seen: list[_Seen] = field(default_factory=list)


def read_snapshot(path: Path) -> list[dict[str, Any]]:
    """The model records of one ``/api/v1/models`` snapshot (a bare list or ``{"data": [...]}``)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read an OpenRouter models snapshot: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("data")
    if not isinstance(data, list) or not all(isinstance(m, dict) and "id" in m for m in data):
        raise CatalogError(f"{path}: expected a JSON list of models or {{'data': [...]}} with an 'id' each")
    return data


def _snapshots(paths: Sequence[Path]) -> list[list[dict[str, Any]]]:
    """Snapshots ordered oldest first by their newest ``created`` time (file names may not say)."""
    loaded = [read_snapshot(p) for p in paths]
    return sorted(loaded, key=lambda recs: max((int(r.get("created") or 0) for r in recs), default=0))


def base_id(model_id: str) -> str:
    """The OpenRouter id without its routing variant (``:free``, ``:thinking``, ...), renames and
    same-weights snapshots (:data:`SNAPSHOTS`) applied."""
    base = _VARIANT_ID.sub("", model_id.strip().lower())
    base = RENAMED.get(base, base)
    return SNAPSHOTS.get(base, base)


def _is_text_model(record: dict[str, Any]) -> bool:
    outputs = (record.get("architecture") or {}).get("output_modalities") or ["text"]
    return "text" in outputs


def _wanted(model_id: str) -> bool:
    return not model_id.startswith("~") and model_id.split("/", 1)[0] not in SKIP_AUTHORS


def _collect(paths: Sequence[Path]) -> dict[str, _Model]:
    models: dict[str, _Model] = {}
    for rank, records in enumerate(_snapshots(paths)):
        for record in records:
            model_id = str(record["id"]).strip().lower()
            if not _wanted(model_id) or not _is_text_model(record):
                continue
            slug = base_id(model_id)
            models.setdefault(slug, _Model(slug)).seen.append(_Seen(rank, model_id, record))
    return dict(sorted(models.items()))


# ── attribute derivation ────────────────────────────────────────────────────────────────────────


def parse_params(*texts: str) -> tuple[float | None, float | None]:
    """(total, active) parameters in billions as written in a model name (``-70b``, ``a22b``, ``8x7b``).

    The first text that states a total wins, so pass the Hugging Face id before the slug.
    """
    for text in texts:
        s = text.lower()
        grid = _NxM.search(s)
        if grid and f"{grid.group(1)}x{grid.group(2)}" in _MOE_GRID:
            return _MOE_GRID[f"{grid.group(1)}x{grid.group(2)}"]
        total = _TOTAL.search(s)
        if total:
            value = float(total.group(1)) * (1000.0 if total.group(2) == "t" else 1.0)
            active = _ACTIVE.search(s)
            return value, float(active.group(1)) if active else None
    return None, None


def _price(record: dict[str, Any], part: str) -> float | None:
    """USD per million tokens from a snapshot's USD-per-token string (Decimal: no float noise)."""
    raw = (record.get("pricing") or {}).get(part)
    if raw is None:
        return None
    try:
        value = Decimal(str(raw)) * 1_000_000
    except InvalidOperation:
        return None
    return float(value) if value >= 0 else None


def _is_free(seen: _Seen) -> bool:
    return seen.id.endswith(":free") or (
        _price(seen.record, "prompt"),
        _price(seen.record, "completion"),
    ) == (
        0.0,
        0.0,
    )


def _priced(model: _Model) -> _Seen:
    """The record prices come from: the newest paid base id, else the newest paid variant, else any.

    A ``:free`` variant never overrides a paid price; ``:thinking`` / ``:extended`` variants are
    priced differently from the base, so the base id is preferred whenever it was ever listed.
    """
    newest_first = sorted(model.seen, key=lambda s: -s.rank)
    for wanted in (
        lambda s: s.id == model.slug and not _is_free(s),
        lambda s: not _is_free(s),
        lambda s: s.id == model.slug,
        lambda _s: True,
    ):
        for seen in newest_first:
            if wanted(seen):
                return seen
    raise AssertionError("a collected model is seen at least once")


def _supports(model: _Model, *params: str) -> bool:
    return any(p in (s.record.get("supported_parameters") or []) for s in model.seen for p in params)


def _hf_ids(model: _Model) -> list[str]:
    return sorted({str(s.record["hugging_face_id"]) for s in model.seen if s.record.get("hugging_face_id")})


def _display_name(model: _Model) -> str:
    newest = max(model.seen, key=lambda s: (s.rank, s.id == model.slug))
    return _VARIANT_NAME.sub("", str(newest.record.get("name") or model.slug)).strip()


def _row(model: _Model) -> dict[str, Any]:
    slug = model.slug
    author = slug.split("/", 1)[0]
    if author not in AUTHOR_ORIGIN:
        raise CatalogError(
            f"author {author!r} (model {slug!r}) has no origin; add it to AUTHOR_ORIGIN in {__file__}"
        )
    hf_ids = _hf_ids(model)
    open_weights = OPEN_WEIGHTS.get(slug, bool(hf_ids))
    params: float | None = None
    active: float | None = None
    if open_weights:
        params, active = PARAMS[slug] if slug in PARAMS else parse_params(*hf_ids, slug.split("/", 1)[1])
    priced = _priced(model)
    created = min(int(s.record["created"]) for s in model.seen if s.record.get("created"))
    context = priced.record.get("context_length") or (priced.record.get("top_provider") or {}).get(
        "context_length"
    )
    return {
        "slug": slug,
        "name": _display_name(model),
        "author": author,
        "open_weights": open_weights,
        "origin": AUTHOR_ORIGIN[author],
        "params_b": params,
        "active_params_b": active,
        "size_class": size_class(params),
        "reasoning": _supports(model, "reasoning", "include_reasoning") or bool(REASONING.search(slug)),
        "tools": _supports(model, "tools"),
        "release_date": datetime.fromtimestamp(created, tz=UTC).date(),
        "input_price": _price(priced.record, "prompt"),
        "output_price": _price(priced.record, "completion"),
        "context_length": int(context) if context else None,
    }


def import_openrouter_models(paths: Sequence[Path]) -> pa.Table:
    """Rows for models.csv from OpenRouter ``/api/v1/models`` snapshots, plus the curated attributes.

    Only text-output models are kept (image- or audio-only generators and routers are not); each
    base id becomes one row. ``release_date`` is the earliest ``created`` seen; prices (USD per
    million tokens) and context length come from the newest snapshot listing the paid base id.
    The explicit ``unknown`` row is appended last.
    """
    rows = [_row(model) for model in _collect(paths).values()]
    rows.append(unknown_row())
    return pa.Table.from_pylist(rows, schema=CATALOG_SCHEMA)


def import_openrouter_aliases(paths: Sequence[Path]) -> pa.Table:
    """Alias rows (alias, slug, source) for aliases.csv from the same snapshots, plus curated ones.

    Sources: ``curated`` (:data:`CURATED_ALIASES`), ``renamed`` (:data:`RENAMED`), ``snapshot``
    (:data:`SNAPSHOTS`), ``canonical``
    (OpenRouter permaslugs such as ``anthropic/claude-4.5-sonnet-20250929``), ``hf`` (Hugging Face
    ids) and ``name`` (display names, with and without the ``Author:`` prefix).
    """
    models = _collect(paths)
    rows: dict[tuple[str, str], str] = {}

    def add(alias: str, slug: str, source: str) -> None:
        alias = normalize(alias)
        if alias and alias != slug and slug in models:
            rows.setdefault((alias, slug), source)

    for alias, slug in CURATED_ALIASES.items():
        add(alias, slug, "curated")
    for old, new in RENAMED.items():
        add(old, new, "renamed")
    for dated, undated in SNAPSHOTS.items():
        add(dated, undated, "snapshot")
    for slug, model in models.items():
        for seen in model.seen:
            if seen.record.get("canonical_slug"):
                canonical = _VARIANT_ID.sub("", str(seen.record["canonical_slug"]))
                add(canonical, slug, "canonical")
                # Vendors drop OpenRouter's date: claude-4.5-sonnet-20250929 → claude-4.5-sonnet.
                add(drop_date_stamp(canonical), slug, "undated")
        for hf_id in _hf_ids(model):
            add(hf_id, slug, "hf")
        name = _display_name(model)
        add(name, slug, "name")
        if ": " in name:
            add(name.split(": ", 1)[1], slug, "name")
    ordered = sorted(rows.items(), key=lambda item: (item[0][1], item[1], item[0][0]))
    table = pa.Table.from_pylist(
        [{"alias": a, "slug": s, "source": src} for (a, s), src in ordered], schema=ALIAS_SCHEMA
    )
    # Keep only pairs that hold once everything is indexed: an alias that a slug or a better
    # source claims for another model (OpenRouter's undated permaslug "openai/gpt-4o" of
    # gpt-4o-2024-08-06), or that two models claim, would only mislead a reader of aliases.csv.
    catalog = Catalog(import_openrouter_models(paths), table)
    return table.filter(
        pa.array(
            [
                catalog.resolve_one(a) == s
                for a, s in zip(
                    table.column("alias").to_pylist(), table.column("slug").to_pylist(), strict=True
                )
            ]
        )
    )


def build_catalog_files(paths: Sequence[Path], out_dir: Path) -> tuple[Path, Path]:
    """Write models.csv and aliases.csv for ``paths`` into ``out_dir``; returns the two paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    models_csv, aliases_csv = out_dir / "models.csv", out_dir / "aliases.csv"
    write_catalog(import_openrouter_models(paths), models_csv)
    write_aliases(import_openrouter_aliases(paths), aliases_csv)
    return models_csv, aliases_csv


# ── LiteLLM ─────────────────────────────────────────────────────────────────────────────────────

LITELLM_SCHEMA = pa.schema(
    [
        pa.field("name", pa.string()),
        pa.field("provider", pa.string()),
        pa.field("slug", pa.string()),
        pa.field("input_price", pa.float64()),
        pa.field("output_price", pa.float64()),
        pa.field("reasoning", pa.bool_()),
        pa.field("tools", pa.bool_()),
        pa.field("context_length", pa.int64()),
    ]
)


def import_litellm_prices(path: Path, catalog: Catalog) -> pa.Table:
    """LiteLLM's price map (chat models only) with each key resolved to a catalog slug (or null).

    Prices are USD per million tokens. Useful to price models a log names by a provider's own
    spelling (``bedrock/...``, ``azure/...``) and to see which provider keys the catalog misses.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read a LiteLLM price map: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a JSON object of model name → properties")
    rows = []
    for name, spec in data.items():
        if not isinstance(spec, dict) or spec.get("mode") != "chat":
            continue
        rows.append(
            {
                "name": name,
                "provider": spec.get("litellm_provider"),
                "slug": catalog.resolve_one(name),
                "input_price": _per_million(spec.get("input_cost_per_token")),
                "output_price": _per_million(spec.get("output_cost_per_token")),
                "reasoning": bool(spec.get("supports_reasoning")),
                "tools": bool(spec.get("supports_function_calling")),
                "context_length": _int_or_none(spec.get("max_input_tokens") or spec.get("max_tokens")),
            }
        )
    return pa.Table.from_pylist(rows, schema=LITELLM_SCHEMA)


def _per_million(value: Any) -> float | None:
    try:
        return float(Decimal(str(value)) * 1_000_000) if value is not None else None
    except InvalidOperation:
        return None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def snapshot_paths(directory: Path) -> list[Path]:
    """The OpenRouter snapshots (``openrouter_models_*.json``) in ``directory``, by name."""
    return sorted(Path(directory).glob("openrouter_models_*.json"))


def authors_without_origin(authors: Iterable[str]) -> list[str]:
    """Authors (other than ``unknown``) that :data:`AUTHOR_ORIGIN` does not map."""
    return sorted({a for a in authors if a != UNKNOWN and a not in AUTHOR_ORIGIN})


__all__ = [
    "AUTHOR_ORIGIN",
    "CURATED_ALIASES",
    "LITELLM_SCHEMA",
    "OPEN_WEIGHTS",
    "PARAMS",
    "build_catalog_files",
    "import_litellm_prices",
    "import_openrouter_aliases",
    "import_openrouter_models",
    "parse_params",
    "read_snapshot",
    "snapshot_paths",
]
