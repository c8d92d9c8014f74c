"""The model catalog: packaged invariants, hand-checked facts, alias resolution, validation, importers."""

from __future__ import annotations

import csv
import json
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import shared_file
from tokencensus.catalog import (
    AUTHOR_ORIGIN,
    CATALOG_SCHEMA,
    SIZE_CLASSES,
    UNKNOWN,
    import_litellm_prices,
    import_openrouter_aliases,
    import_openrouter_models,
    load_catalog,
    size_class,
    write_catalog,
)
from tokencensus.catalog.aliases import AliasIndex
from tokencensus.catalog.importers import SNAPSHOTS, parse_params, snapshot_paths
from tokencensus.catalog.models import PACKAGED_ALIASES, PACKAGED_CATALOG, read_aliases_csv
from tokencensus.errors import CatalogError
from tokencensus.ingest.chat import SHAREGPT_MODEL

CATALOG = load_catalog()
ROWS = {r["slug"]: r for r in CATALOG.table.to_pylist()}
MODELS = {s: r for s, r in ROWS.items() if s != UNKNOWN}

# ── the packaged catalog ────────────────────────────────────────────────────────────────────────


def test_packaged_catalog_has_the_schema_and_enough_unique_models():
    assert CATALOG.table.schema.equals(CATALOG_SCHEMA)
    slugs = CATALOG.table.column("slug").to_pylist()
    assert len(slugs) == len(set(slugs))
    assert len(MODELS) >= 150
    assert len(CATALOG) == len(MODELS)


def test_unknown_row_is_explicit_and_empty():
    row = ROWS[UNKNOWN]
    assert (row["author"], row["origin"], row["size_class"]) == (UNKNOWN, UNKNOWN, "unknown")
    assert row["open_weights"] is None
    assert (row["reasoning"], row["tools"]) == (False, False)
    assert row["input_price"] is None
    assert row["output_price"] is None


def test_every_author_has_the_origin_of_the_curated_table():
    for slug, row in MODELS.items():
        assert row["author"] == slug.split("/", 1)[0]
        assert row["author"] in AUTHOR_ORIGIN, f"{row['author']} has no origin"
        assert row["origin"] == AUTHOR_ORIGIN[row["author"]], slug
        assert row["origin"] in ("CN", "US", "EU", "other")


def test_size_class_follows_params_and_closed_models_have_no_size():
    for slug, row in MODELS.items():
        p = row["params_b"]
        expected = "unknown" if p is None else "small" if p < 15 else "medium" if p < 70 else "large"
        assert row["size_class"] == expected, slug
        assert row["open_weights"] is not None, slug
        if not row["open_weights"]:
            assert (row["size_class"], p, row["active_params_b"]) == ("unknown", None, None), slug
        if row["active_params_b"] is not None:
            assert p is not None, slug
            assert row["active_params_b"] <= p, slug


def test_prices_dates_and_context_are_present_and_sane():
    for slug, row in MODELS.items():
        assert row["input_price"] is not None, slug
        assert row["input_price"] >= 0, slug
        assert row["output_price"] is not None, slug
        assert row["output_price"] >= 0, slug
        assert date(2023, 1, 1) <= row["release_date"] <= date(2026, 12, 31), slug
        assert row["context_length"], slug
        assert row["context_length"] > 0, slug


def test_segments_are_all_populated():
    open_cn = [r for r in MODELS.values() if r["open_weights"] and r["origin"] == "CN"]
    open_row = [r for r in MODELS.values() if r["open_weights"] and r["origin"] != "CN"]
    closed = [r for r in MODELS.values() if not r["open_weights"]]
    assert min(len(open_cn), len(open_row), len(closed)) >= 30
    assert {r["size_class"] for r in MODELS.values()} == set(SIZE_CLASSES)
    assert 30 <= sum(r["reasoning"] for r in MODELS.values()) < len(MODELS)


# Facts checked by hand against the model cards: (open, origin, params_b, active, size, reasoning).
FACTS = {
    "deepseek/deepseek-r1": (True, "CN", 671.0, 37.0, "large", True),
    "anthropic/claude-sonnet-4.5": (False, "US", None, None, "unknown", True),
    "anthropic/claude-3.5-sonnet": (False, "US", None, None, "unknown", False),
    "openai/gpt-4o": (False, "US", None, None, "unknown", False),
    "openai/o3": (False, "US", None, None, "unknown", True),
    "google/gemini-2.5-pro": (False, "US", None, None, "unknown", True),
    "x-ai/grok-4": (False, "US", None, None, "unknown", True),
    "mistralai/mistral-medium-3": (False, "EU", None, None, "unknown", False),
    "mistralai/mistral-small-3.2-24b-instruct": (True, "EU", 24.0, None, "medium", False),
    "mistralai/mixtral-8x7b-instruct": (True, "EU", 47.0, 13.0, "medium", False),
    "meta-llama/llama-3.3-70b-instruct": (True, "US", 70.0, None, "large", False),
    "meta-llama/llama-4-maverick": (True, "US", 400.0, 17.0, "large", False),
    "qwen/qwen3-8b": (True, "CN", 8.0, None, "small", True),
    "qwen/qwen3-235b-a22b": (True, "CN", 235.0, 22.0, "large", True),
    "qwen/qwq-32b": (True, "CN", 32.0, None, "medium", True),
    "openai/gpt-oss-120b": (True, "US", 117.0, 5.1, "large", True),
    "openai/gpt-oss-20b": (True, "US", 21.0, 3.6, "medium", True),
    "moonshotai/kimi-k2": (True, "CN", 1000.0, 32.0, "large", False),
    "z-ai/glm-4.5": (True, "CN", 355.0, 32.0, "large", True),
    "google/gemma-3-27b-it": (True, "US", 27.0, None, "medium", False),
    "cohere/command-a": (True, "other", 111.0, None, "large", False),
    "ai21/jamba-large-1.7": (True, "other", 398.0, 94.0, "large", False),
    "liquid/lfm-2.2-6b": (True, "US", 2.6, None, "small", False),
}


@pytest.mark.parametrize("slug", sorted(FACTS))
def test_hand_checked_facts(slug):
    row = ROWS[slug]
    got = tuple(row[k] for k in ("open_weights", "origin", "params_b", "active_params_b"))
    got += (row["size_class"], row["reasoning"])
    assert got == FACTS[slug]


def test_variants_fold_onto_their_base_slug():
    assert not [s for s in MODELS if ":" in s or s.startswith("~")]
    assert "openrouter/auto" not in ROWS
    assert "thudm/glm-4-32b" not in ROWS
    assert "z-ai/glm-4-32b" in ROWS


# ── alias resolution ────────────────────────────────────────────────────────────────────────────

# Real spellings from OpenRouter activity exports, provider APIs and LiteLLM's map → slug.
ALIASES = {
    # one model, every spelling
    "anthropic/claude-4.5-sonnet-20250929": "anthropic/claude-sonnet-4.5",  # OpenRouter permaslug
    "claude-sonnet-4-5": "anthropic/claude-sonnet-4.5",  # Anthropic API / LiteLLM
    "claude-sonnet-4-5-20250929": "anthropic/claude-sonnet-4.5",
    "openrouter/anthropic/claude-sonnet-4.5": "anthropic/claude-sonnet-4.5",
    "anthropic/claude-sonnet-4.5:thinking": "anthropic/claude-sonnet-4.5",
    "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0": "anthropic/claude-sonnet-4.5",
    "vertex_ai/claude-sonnet-4-5@20250929": "anthropic/claude-sonnet-4.5",
    "  Anthropic: Claude Sonnet 4.5 ": "anthropic/claude-sonnet-4.5",  # display name
    # dated versions stay apart where the catalog has them apart
    "anthropic.claude-3-5-sonnet-20240620-v1:0": "anthropic/claude-3.5-sonnet-20240620",
    "vertex_ai/claude-3-5-sonnet@20240620": "anthropic/claude-3.5-sonnet-20240620",
    "anthropic.claude-3-5-sonnet-20241022-v2:0": "anthropic/claude-3.5-sonnet",
    "claude-3-opus-20240229": "anthropic/claude-3-opus",
    "anthropic/claude-4-sonnet-20250522": "anthropic/claude-sonnet-4",
    "gpt-4o-2024-08-06": "openai/gpt-4o-2024-08-06",
    "gpt-4-0314": "openai/gpt-4-0314",  # an -MMDD snapshot the catalog lists
    "gpt-3.5-turbo-0125": "openai/gpt-3.5-turbo-0125",
    # dated snapshots the catalog does not list fall back to the base model
    "gpt-4-0613": "openai/gpt-4",  # "gpt-4" has meant the 0613 snapshot since June 2023
    "gpt-4-turbo-2024-04-09": "openai/gpt-4-turbo",
    "gpt-4.1-2025-04-14": "openai/gpt-4.1",
    "claude-3-5-sonnet-20241022": "anthropic/claude-3.5-sonnet",
    "claude-3-7-sonnet-latest": "anthropic/claude-3.7-sonnet",
    "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0": "anthropic/claude-3.5-sonnet-20240620",
    "gemini-2.0-flash-001": "google/gemini-2.0-flash-001",
    "models/gemini-1.5-pro-002": "google/gemini-pro-1.5",  # Gemini API resource name
    "vertex_ai/gemini-1.5-flash-002": "google/gemini-flash-1.5",
    "gemini-1.5-flash-latest": "google/gemini-flash-1.5",
    "accounts/fireworks/models/llama-v3p1-70b-instruct": "meta-llama/llama-3.1-70b-instruct",
    "meta-llama/llama-3.1-70b-instruct:free": "meta-llama/llama-3.1-70b-instruct",
    # same-weights snapshots (importers.SNAPSHOTS): an OpenAI response's dated name and LiteLLM's
    # undated one are one model
    "gpt-4o-mini-2024-07-18": "openai/gpt-4o-mini",
    "openai/gpt-4o-mini-2024-07-18": "openai/gpt-4o-mini",
    "azure/gpt-4o-mini-2024-07-18": "openai/gpt-4o-mini",
    "o1-mini-2024-09-12": "openai/o1-mini",
    "claude-3-5-haiku-20241022": "anthropic/claude-3.5-haiku",
    "chatgpt": "openai/gpt-3.5-turbo",  # ShareGPT's model name (see CURATED_ALIASES)
    "azure/gpt-4o-mini": "openai/gpt-4o-mini",
    "azure/gpt-35-turbo": "openai/gpt-3.5-turbo",
    "o3-mini-2025-01-31": "openai/o3-mini",
    "ft:gpt-4o-2024-08-06:acme::abc123": "openai/gpt-4o-2024-08-06",
    "openai.gpt-oss-120b-1:0": "openai/gpt-oss-120b",
    "gemini-2-5-pro": "google/gemini-2.5-pro",
    "gemini/gemini-2.5-flash": "google/gemini-2.5-flash",
    "vertex_ai/gemini-2.0-flash": "google/gemini-2.0-flash-001",
    "google/gemini-3-flash-preview-20251217": "google/gemini-3-flash-preview",
    "deepseek-reasoner": "deepseek/deepseek-r1",
    "deepseek/deepseek-v3.2-20251201": "deepseek/deepseek-v3.2",
    "together_ai/deepseek-ai/DeepSeek-V3": "deepseek/deepseek-chat",
    "deepseek.r1-v1:0": "deepseek/deepseek-r1",
    "fireworks_ai/accounts/fireworks/models/deepseek-v3p1": "deepseek/deepseek-chat-v3.1",
    "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct": "meta-llama/llama-3.1-8b-instruct",
    "meta.llama3-1-70b-instruct-v1:0": "meta-llama/llama-3.1-70b-instruct",
    "us.meta.llama4-maverick-17b-instruct-v1:0": "meta-llama/llama-4-maverick",
    "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo": "meta-llama/llama-3.3-70b-instruct",
    "groq/llama-3.3-70b-versatile": "meta-llama/llama-3.3-70b-instruct",
    "groq/llama3-70b-8192": "meta-llama/llama-3-70b-instruct",
    "Qwen/Qwen3-235B-A22B": "qwen/qwen3-235b-a22b",
    "qwen3-235b-a22b-instruct-2507": "qwen/qwen3-235b-a22b-2507",
    "dashscope/qwen-max": "qwen/qwen-max",
    "mistral/mistral-large-latest": "mistralai/mistral-large",
    "mistral.mistral-large-2407-v1:0": "mistralai/mistral-large-2407",
    "mistral/open-mistral-nemo": "mistralai/mistral-nemo",
    "xai/grok-3": "x-ai/grok-3",
    "moonshot/kimi-k2-0711-preview": "moonshotai/kimi-k2",
    "zai/glm-4.5": "z-ai/glm-4.5",
    "glm-4-7-251222": "z-ai/glm-4.7",
    "amazon.nova-pro-v1:0": "amazon/nova-pro-v1",
    "cohere.command-r-plus-v1:0": "cohere/command-r-plus",
    "xiaomi/mimo-v2-flash-20251210:free": "xiaomi/mimo-v2-flash",
    "thudm/glm-4-32b": "z-ai/glm-4-32b",
    "ollama/gemma3:27b": "google/gemma-3-27b-it",
}

# Names that must stay unresolved: unknown models, routers, and near misses of another model.
UNRESOLVED = [
    None,
    "",
    "   ",
    "random junk",
    "openrouter/auto",
    "openrouter/hunter-alpha",  # a stealth model no snapshot lists
    "~anthropic/claude-sonnet-latest",  # a moving pointer, not a model
    "claude-opus-4-8",  # not claude-opus-4
    "gpt-6-luna",
    "ai21.jamba-1-5-large-v1:0",  # Jamba 1.5 is not in the catalog; 1.6 is a different model
    "azure_ai/Phi-4-mini-reasoning",  # not phi-4-mini-instruct
    "text-embedding-3-small",
]


@pytest.mark.parametrize(("name", "slug"), sorted(ALIASES.items()))
def test_alias_resolves(name, slug):
    assert slug in ROWS
    assert CATALOG.resolve_one(name) == slug


@pytest.mark.parametrize("name", UNRESOLVED)
def test_unknown_names_resolve_to_null(name):
    assert CATALOG.resolve_one(name) is None


# Spellings of one model that different logs use: each group must land on one slug, or the report
# would list the model twice.
ONE_MODEL = [
    ["gpt-4o-mini-2024-07-18", "gpt-4o-mini", "openai/gpt-4o-mini", "azure/gpt-4o-mini-2024-07-18",
     "OpenAI: GPT-4o-mini (2024-07-18)", "openai/gpt-4o-mini-2024-07-18:free"],
    ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5", "anthropic/claude-4.5-sonnet-20250929",
     "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", "vertex_ai/claude-sonnet-4-5@20250929"],
    ["o3-mini-2025-01-31", "o3-mini", "openai/o3-mini", "azure/o3-mini-2025-01-31"],
    ["gemini-1.5-pro-002", "models/gemini-1.5-pro-002", "vertex_ai/gemini-1.5-pro-002", "gemini-1.5-pro"],
]  # fmt: skip


@pytest.mark.parametrize("names", ONE_MODEL, ids=lambda names: names[0])
def test_spellings_of_one_model_resolve_to_one_slug(names):
    slugs = CATALOG.resolve(names).to_pylist()
    assert None not in slugs, dict(zip(names, slugs, strict=True))
    assert len(set(slugs)) == 1, dict(zip(names, slugs, strict=True))


def test_a_listed_name_wins_and_stripping_never_passes_an_ambiguity():
    index = AliasIndex(["x/m", "x/m-2024-01-01", "x/n", "x/n-0613", "a/k", "b/k", "a/j-v2", "b/j-v2", "c/j"])
    assert index.resolve("m-2024-01-01") == "x/m-2024-01-01"  # the catalog lists the snapshot
    assert index.resolve("m-2024-02-02") == "x/m"  # it does not: the base model
    assert index.resolve("azure/m-20240202") == "x/m"
    assert index.resolve("n-0613") == "x/n-0613"
    assert index.resolve("n-0125-preview") == "x/n"  # one suffix at a time: -preview, then -0125
    assert index.resolve("k-20250101") is None  # two models claim "k"
    assert index.resolve("a/k-20250101") == "a/k"  # an author settles it
    assert index.resolve("j-v2-20250101") is None  # "j-v2" is ambiguous: never stripped on to "j"


def test_same_weights_snapshots_are_aliases_not_rows():
    for dated, undated in SNAPSHOTS.items():
        assert dated not in ROWS
        assert undated in ROWS
        assert CATALOG.resolve_one(dated) == undated
        assert CATALOG.resolve_one(dated.split("/", 1)[1]) == undated


def test_sharegpt_model_name_resolves_to_gpt_3_5_turbo():
    assert CATALOG.resolve_one(SHAREGPT_MODEL) == "openai/gpt-3.5-turbo"
    assert CATALOG.resolve_one("chatgpt-4o-latest") == "openai/chatgpt-4o-latest"  # listed: not folded
    assert CATALOG.resolve_one("chatgpt/gpt-5") == "openai/gpt-5"  # LiteLLM's chatgpt/ provider prefix


def test_litellm_spellings_in_the_table_are_real_keys():
    keys: set[str] = set()
    for version in ("v1.74.0", "v1.110.2"):
        path = shared_file(f"catalogs/litellm_model_prices_and_context_window_{version}.json")
        keys |= set(json.loads(path.read_text()))
    litellm_spellings = {n for n in ALIASES if n in keys}
    assert len(litellm_spellings) >= 20, sorted(litellm_spellings)


def test_every_slug_and_its_model_part_resolve_to_itself():
    for slug in MODELS:
        assert CATALOG.resolve_one(slug) == slug
        assert CATALOG.resolve_one(slug.upper()) == slug
        assert CATALOG.resolve_one(slug.split("/", 1)[1]) == slug, slug


def test_every_packaged_alias_resolves_to_its_slug():
    aliases = read_aliases_csv(PACKAGED_ALIASES).to_pylist()
    assert len(aliases) > len(MODELS)
    wrong = [(a["alias"], a["slug"]) for a in aliases if CATALOG.resolve_one(a["alias"]) != a["slug"]]
    assert not wrong


def test_get_returns_attributes_and_the_unknown_row_for_unknown_names():
    assert CATALOG.get("deepseek/deepseek-r1")["params_b"] == 671.0
    assert CATALOG.get("claude-sonnet-4-5")["slug"] == "anthropic/claude-sonnet-4.5"
    assert CATALOG.get("no-such-model")["slug"] == UNKNOWN


NAME_POOL = sorted(MODELS) + sorted(ALIASES) + [n for n in UNRESOLVED if n is not None]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(NAME_POOL), st.text(max_size=30), st.none()),
        max_size=60,
    )
)
def test_vectorised_resolve_equals_resolve_one(names):
    expected = [CATALOG.resolve_one(n) for n in names]
    assert CATALOG.resolve(names).to_pylist() == expected
    assert CATALOG.resolve(pa.array(names, pa.string())).to_pylist() == expected
    assert CATALOG.resolve(pa.array(names, pa.large_string())).to_pylist() == expected
    chunked = pa.chunked_array([pa.array(names[:3], pa.string()), pa.array(names[3:], pa.string())])
    assert CATALOG.resolve(chunked).to_pylist() == expected
    assert CATALOG.resolve(pa.array(names, pa.string()).dictionary_encode()).to_pylist() == expected


def test_resolve_empty_inputs():
    assert CATALOG.resolve([]).to_pylist() == []
    assert CATALOG.resolve(pa.chunked_array([], pa.string())).to_pylist() == []
    assert CATALOG.resolve(pa.array([None, None], pa.string())).to_pylist() == [None, None]


def test_resolve_a_million_names_in_well_under_a_second():
    pool = [*sorted(MODELS), "claude-sonnet-4-5", "bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0"]
    names = pa.array([pool[(i * 7919) % len(pool)] for i in range(1_000_000)], pa.string())
    catalog = load_catalog()  # a cold cache: every distinct name is resolved from scratch
    start = time.perf_counter()
    slugs = catalog.resolve(names)
    elapsed = time.perf_counter() - start
    assert len(slugs) == 1_000_000
    assert slugs.null_count == 0
    assert elapsed < 1.0, f"{elapsed:.2f}s"


# ── sizes ──────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("params", "expected"),
    [(None, "unknown"), (0.5, "small"), (14.9, "small"), (15.0, "medium"), (69.9, "medium"), (70.0, "large")],
)
def test_size_class_boundaries(params, expected):
    assert size_class(params) == expected


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("mistralai/Mixtral-8x7B-Instruct-v0.1",), (47.0, 13.0)),
        (("qwen3-235b-a22b",), (235.0, 22.0)),
        (("llama-3.3-70b-instruct",), (70.0, None)),
        (("LiquidAI/LFM2-2.6B", "lfm-2.2-6b"), (2.6, None)),  # the Hugging Face id wins
        (("ling-2.6-1t",), (1000.0, None)),
        (("kimi-vl-a3b-thinking",), (None, None)),  # an active count alone says nothing of the total
        (("gpt-4o",), (None, None)),
    ],
)
def test_parse_params(texts, expected):
    assert parse_params(*texts) == expected


# ── validation ─────────────────────────────────────────────────────────────────────────────────

HEADER = list(CATALOG_SCHEMA.names)
GOOD = [
    "x/open-8b",
    "X Open 8B",
    "x",
    "true",
    "US",
    "8",
    "",
    "small",
    "false",
    "true",
    "2025-01-02",
    "0.1",
    "0.2",
    "8192",
]


def write_rows(path: Path, *rows: list[str]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def test_a_minimal_catalog_loads_and_gains_the_unknown_row(tmp_path):
    catalog = load_catalog(write_rows(tmp_path / "models.csv", GOOD))
    assert catalog.slugs() == ["x/open-8b", UNKNOWN]
    assert catalog.resolve_one("open-8b") == "x/open-8b"
    assert catalog.resolve_one("X Open 8B") == "x/open-8b"
    assert catalog.resolve_one("open-9b") is None
    assert catalog.resolve_one("claude-sonnet-4-5") is None  # packaged aliases of absent slugs are ignored


def bad(field: str, value: str) -> list[str]:
    row = list(GOOD)
    row[HEADER.index(field)] = value
    return row


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([GOOD, GOOD], "slug"),  # duplicate slug
        ([bad("open_weights", "yes please")], "open_weights"),
        ([bad("reasoning", "")], "reasoning"),
        ([bad("origin", "Mars")], "origin"),
        ([bad("size_class", "large")], "size_class"),  # 8B is small
        ([bad("params_b", "80")], "size_class"),  # now the declared "small" contradicts 80B
        ([bad("release_date", "02/01/2025")], "release_date"),
        ([bad("input_price", "-1")], "input_price"),
        ([bad("output_price", "cheap")], "output_price"),
        ([bad("context_length", "8k")], "context_length"),
        ([bad("author", "y")], "author"),
        ([bad("slug", "no-author")], "slug"),
    ],
)
def test_bad_rows_raise_catalog_error_naming_file_line_and_field(tmp_path, rows, field):
    path = write_rows(tmp_path / "models.csv", *rows)
    with pytest.raises(CatalogError) as excinfo:
        load_catalog(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert f"line {len(rows) + 1}" in message
    assert f"field {field!r}" in message


def test_closed_model_with_a_size_is_rejected(tmp_path):
    row = bad("open_weights", "false")
    with pytest.raises(CatalogError, match="params_b"):
        load_catalog(write_rows(tmp_path / "models.csv", row))


def test_bad_header_and_missing_file(tmp_path):
    path = tmp_path / "models.csv"
    path.write_text("slug,name\nx/y,Y\n")
    with pytest.raises(CatalogError, match=r"line 1: the header"):
        load_catalog(path)
    with pytest.raises(CatalogError, match="cannot open"):
        load_catalog(tmp_path / "absent.csv")


def test_write_catalog_round_trips_the_packaged_file(tmp_path):
    out = tmp_path / "models.csv"
    write_catalog(CATALOG.table, out)
    assert out.read_text() == PACKAGED_CATALOG.read_text()
    assert load_catalog(out).table.equals(CATALOG.table)


# ── importers on the real snapshots ────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def snapshots() -> list[Path]:
    paths = snapshot_paths(shared_file("catalogs/openrouter_models_2026-05-22_sinkers.json").parent)
    assert len(paths) == 3
    return paths


def test_importer_reproduces_the_packaged_catalog(snapshots):
    imported = import_openrouter_models(snapshots)
    assert imported.schema.equals(CATALOG_SCHEMA)
    assert imported.sort_by("slug").equals(CATALOG.table.sort_by("slug"))


@pytest.mark.parametrize(
    ("slug", "released", "input_price", "output_price"),
    [
        ("deepseek/deepseek-r1", date(2025, 1, 20), 0.7, 2.5),  # newest snapshot: $0.0000007/token
        ("anthropic/claude-sonnet-4.5", date(2025, 9, 29), 3.0, 15.0),
        ("openai/gpt-oss-120b", date(2025, 8, 5), 0.039, 0.18),  # its :free variant sits beside it
        ("openai/gpt-4o", date(2024, 5, 13), 2.5, 10.0),
    ],
)
def test_importer_facts(snapshots, slug, released, input_price, output_price):
    rows = {r["slug"]: r for r in import_openrouter_models(snapshots).to_pylist()}
    row = rows[slug]
    assert (row["release_date"], row["input_price"], row["output_price"]) == (
        released,
        input_price,
        output_price,
    )
    assert ROWS[slug]["release_date"] == released
    assert ROWS[slug]["input_price"] == input_price


def test_alias_importer_reproduces_the_packaged_aliases(snapshots):
    assert import_openrouter_aliases(snapshots).equals(read_aliases_csv(PACKAGED_ALIASES))


def test_litellm_prices_resolve_against_the_catalog():
    path = shared_file("catalogs/litellm_model_prices_and_context_window_v1.74.0.json")
    table = import_litellm_prices(path, CATALOG)
    rows = {r["name"]: r for r in table.to_pylist()}
    assert rows["gpt-4o"]["slug"] == "openai/gpt-4o"
    assert (rows["gpt-4o"]["input_price"], rows["gpt-4o"]["output_price"]) == (2.5, 10.0)
    resolved = sum(r["slug"] is not None for r in rows.values())
    assert resolved / len(rows) > 0.5
    # LiteLLM and the catalog agree on who reasons where both say so for a first-party key.
    assert rows["o3-mini"]["reasoning"]
    assert ROWS[rows["o3-mini"]["slug"]]["reasoning"]
