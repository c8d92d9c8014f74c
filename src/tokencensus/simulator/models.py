"""Which catalog models take part, and each one's fixed simulated traits.

Traits that are random (popularity, category mix, hosts, speed, retention curve) come from a
generator seeded by (seed, slug), so a model keeps its traits when the catalog around it changes.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from tokencensus.simulator.config import SimConfig
from tokencensus.simulator.world import (
    AUTHOR_POPULARITY,
    CATEGORIES,
    CATEGORY_PROFILES,
    CODER_AUTHORS,
    FIRST_PARTY,
    OPEN_HOSTS,
)

SEGMENTS: tuple[str, ...] = ("Chinese open", "Rest-of-world open", "Proprietary")
"""Origin segments, as the analyses name them (index = segment code)."""

UNKNOWN_SLUG = "unknown"
OLD_RELEASE_DAYS = 730
"""A model without a release date is taken to have been out this many days before the period."""

_INFO_COLUMNS = (
    "slug",
    "name",
    "author",
    "open_weights",
    "origin",
    "params_b",
    "size_class",
    "reasoning",
    "tools",
    "release_date",
    "input_price",
    "output_price",
)


@dataclass(frozen=True)
class Models:
    """The simulated models (sorted by slug; index = model code) and their traits."""

    info: pd.DataFrame
    """Catalog attributes plus ``segment``; one row per model in code order."""
    slug: list[str]
    segment: np.ndarray
    """Segment code per model (see SEGMENTS)."""
    release_day: np.ndarray
    """Release date as days since the period start (negative: released before)."""
    reasoning: np.ndarray
    tools: np.ndarray
    input_price: np.ndarray
    """USD per 1M input tokens (0 when the catalog has no price)."""
    output_price: np.ndarray
    popularity: np.ndarray
    """Relative demand for the model within its segment, before launch ramps and ageing."""
    category_mix: np.ndarray
    """(models, categories) request mix before the programming trend."""
    providers: list[str]
    provider_p: np.ndarray
    """(models, providers) share of the model's requests served by each provider."""
    tokens_per_s: np.ndarray
    """Generation speed, for latency."""
    curve: np.ndarray
    """(models, 3): first-month retention, plateau and decay time (months) of the plain curve."""
    alias: list[str]
    """An alternative spelling of the slug seen in some logs (``model_raw``)."""

    def __len__(self) -> int:
        return len(self.slug)

    def subset(self, keep: np.ndarray) -> Models:
        """The models at the sorted indices ``keep``."""
        providers_used = self.provider_p[keep].sum(axis=0) > 0
        return Models(
            info=self.info.iloc[keep].reset_index(drop=True),
            slug=[self.slug[i] for i in keep],
            segment=self.segment[keep],
            release_day=self.release_day[keep],
            reasoning=self.reasoning[keep],
            tools=self.tools[keep],
            input_price=self.input_price[keep],
            output_price=self.output_price[keep],
            popularity=self.popularity[keep],
            category_mix=self.category_mix[keep],
            providers=[p for p, used in zip(self.providers, providers_used, strict=True) if used],
            provider_p=self.provider_p[keep][:, providers_used],
            tokens_per_s=self.tokens_per_s[keep],
            curve=self.curve[keep],
            alias=[self.alias[i] for i in keep],
        )


def _frame(catalog: pa.Table) -> pd.DataFrame:
    missing = [
        c
        for c in ("slug", "author", "open_weights", "origin", "release_date")
        if c not in catalog.column_names
    ]
    if missing:
        raise ValueError(f"catalog table lacks column(s) {', '.join(missing)}; pass load_catalog().table")
    cols = [c for c in _INFO_COLUMNS if c in catalog.column_names]
    df = catalog.select(cols).to_pandas()
    for col in _INFO_COLUMNS:
        if col not in df.columns:
            df[col] = None
    df = df[(df["slug"] != UNKNOWN_SLUG) & df["open_weights"].notna() & df["slug"].notna()]
    df = df.drop_duplicates("slug").copy()
    df["open_weights"] = df["open_weights"].astype(bool)
    df["reasoning"] = df["reasoning"].fillna(False).astype(bool)
    df["tools"] = df["tools"].fillna(False).astype(bool)
    df["origin"] = df["origin"].fillna("unknown")
    df["author"] = df["author"].fillna("").astype(str)
    df["segment"] = np.where(
        df["open_weights"], np.where(df["origin"] == "CN", SEGMENTS[0], SEGMENTS[1]), SEGMENTS[2]
    )
    return df


def qualified_models(catalog: pa.Table, config: SimConfig) -> pd.DataFrame:
    """The catalog rows released before the period ends (sorted by slug), with ``segment``.

    Raises ValueError when fewer than ``min_models`` qualify.
    """
    df = _frame(catalog)
    start = pd.Timestamp(config.start)
    release = pd.to_datetime(df["release_date"])
    df["_release"] = release.fillna(start - pd.Timedelta(days=OLD_RELEASE_DAYS))
    df = df[df["_release"] < pd.Timestamp(config.end)]
    if config.exclude:
        pattern = re.compile("|".join(f"(?:{p})" for p in config.exclude))
        df = df[~df["slug"].astype(str).map(lambda slug: bool(pattern.search(slug)))]
    if len(df) < config.min_models:
        raise ValueError(
            f"the catalog has {len(df)} models released before {config.end} (the period's end), "
            f"fewer than SimConfig.min_models={config.min_models}; lower min_models or use a fuller catalog"
        )
    return df.sort_values("slug").reset_index(drop=True)


def _rng(seed: int, slug: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(slug.encode())])


def _norm_author(author: str) -> str:
    return author.strip().lower()


def build_models(catalog: pa.Table, config: SimConfig) -> Models:
    """Every qualifying model (see :func:`qualified_models`) with its traits."""
    df = qualified_models(catalog, config)
    slugs = df["slug"].astype(str).tolist()
    start = pd.Timestamp(config.start)
    release_day = ((df["_release"] - start) / pd.Timedelta(days=1)).to_numpy().astype(np.int64)
    segment = np.array([SEGMENTS.index(s) for s in df["segment"]], dtype=np.int8)
    m = len(slugs)
    authors = [_norm_author(a) for a in df["author"]]

    hosts: list[list[tuple[str, float]]] = []
    pop = np.empty(m)
    mix = np.empty((m, len(CATEGORY_PROFILES["open"])))
    tps = np.empty(m)
    curve = np.empty((m, 3))
    by_author = AUTHOR_POPULARITY if config.author_popularity is None else config.author_popularity
    for i, slug in enumerate(slugs):
        rng = _rng(config.seed, slug)
        author = authors[i]
        pop[i] = (
            np.exp(config.popularity_sigma * rng.standard_normal())
            * by_author.get(author, 1.0)
            * config.model_popularity.get(slug, 1.0)
        )
        if author in config.author_mix:
            profile = category_profile(config.author_mix[author], f"SimConfig.author_mix[{author!r}]")
        elif segment[i] < 2:
            profile = CATEGORY_PROFILES["open"]
        elif author in CODER_AUTHORS:
            profile = CATEGORY_PROFILES["coder"]
        else:
            profile = CATEGORY_PROFILES["general"]
        mix[i] = rng.dirichlet(profile * 80 + 0.05)
        tps[i] = float(np.exp(rng.normal(np.log(70.0), 0.4)))
        curve[i] = (rng.uniform(0.25, 0.45), rng.uniform(0.05, 0.18), rng.uniform(1.0, 3.0))
        own = FIRST_PARTY.get(author)
        if segment[i] == 2:
            name, others = own if own else (author.title() or "Unknown", ())
            rest = 1.0 - sum(s for _, s in others)
            hosts.append([(name, rest), *others])
        else:
            k = int(rng.integers(2, 6))
            picked = rng.choice(len(OPEN_HOSTS), size=k, replace=False)
            weights = rng.dirichlet(np.full(k, 2.0))
            entry = [(OPEN_HOSTS[j], float(w)) for j, w in zip(picked, weights, strict=True)]
            if own:
                entry = [(own[0], 1.0)] + [(h, w) for h, w in entry]
            hosts.append(entry)
    providers = sorted({h for entry in hosts for h, _ in entry})
    index = {p: j for j, p in enumerate(providers)}
    provider_p = np.zeros((m, len(providers)))
    for i, entry in enumerate(hosts):
        for h, w in entry:
            provider_p[i, index[h]] += w
    provider_p /= provider_p.sum(axis=1, keepdims=True)

    info = df.drop(columns=["_release"]).rename(columns={"slug": "model"})
    return Models(
        info=info,
        slug=slugs,
        segment=segment,
        release_day=release_day,
        reasoning=df["reasoning"].to_numpy(bool),
        tools=df["tools"].to_numpy(bool),
        input_price=pd.to_numeric(df["input_price"]).fillna(0.0).to_numpy(float),
        output_price=pd.to_numeric(df["output_price"]).fillna(0.0).to_numpy(float),
        popularity=pop,
        category_mix=mix,
        providers=providers,
        provider_p=provider_p,
        tokens_per_s=tps,
        curve=curve,
        alias=[s.split("/", 1)[1] if "/" in s else s for s in slugs],
    )


def category_profile(mix: Mapping[str, float], name: str) -> np.ndarray:
    """A request mix over CATEGORIES from ``{category: share}`` (normalised; missing categories 0)."""
    unknown = sorted(set(mix) - set(CATEGORIES))
    if unknown:
        raise ValueError(
            f"{name} names unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}"
        )
    out = np.array([float(mix.get(c, 0.0)) for c in CATEGORIES])
    if (out < 0).any() or out.sum() <= 0:
        raise ValueError(f"{name} must have non-negative shares that sum above 0")
    return out / out.sum()


def period_days(config: SimConfig) -> list[date]:
    """Every day of the period."""
    return [config.start + timedelta(days=d) for d in range(7 * config.weeks)]
