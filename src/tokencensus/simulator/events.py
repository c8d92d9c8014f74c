"""Turn a month of planted counts and users into request rows (Arrow, canonical schema).

Everything is vectorised: rows come from ``np.repeat`` over (model, day, category) cells, per-row
choices from cumulative tables, and string columns from ``take`` on small dictionaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.schema import EVENT_SCHEMA, FINISH_REASONS
from tokencensus.simulator.config import SimConfig
from tokencensus.simulator.market import Market
from tokencensus.simulator.models import Models
from tokencensus.simulator.retention import Cohorts, assign_users
from tokencensus.simulator.sampling import AliasTable, group_shuffle
from tokencensus.simulator.users import Users
from tokencensus.simulator.world import APPS, CATEGORIES, HOURLY, PROGRAMMING, app_table

CATEGORY_COLUMN = "category"
"""The extra, last column of the tables iter_simulate yields (not part of EVENT_SCHEMA)."""
CHUNK_SCHEMA = EVENT_SCHEMA.append(pa.field(CATEGORY_COLUMN, pa.string(), nullable=False))
"""Schema of a yielded chunk: the canonical event columns, then the request's category."""

ID_WIDTH = 10
ALIAS_RATE = 0.03
CONTENT_FILTER_RATE = 0.001
CANCELLED_RATE = 0.003
STREAMED_RATE = 0.75
STREAMED_UNKNOWN = 0.03
CACHED_RATE = 0.3
CACHED_RATE_PROGRAMMING = 0.6
TOOL_CALLS_P = 0.55
"""Tool calls per tool-calling response are geometric with this p (mean about 1.8)."""
_US_PER_DAY = 86_400_000_000
_US_PER_HOUR = 3_600_000_000
_FR = {name: i for i, name in enumerate(FINISH_REASONS)}
SIMULATED_ERROR = "http 503: overloaded"
"""The ``error_type`` of a simulated failed request."""


def _sorted_fractions(rng: np.random.Generator, bucket: np.ndarray, n_buckets: int) -> np.ndarray:
    """For rows sorted by ``bucket``, uniform fractions in [0, 1) sorted within each bucket.

    The k sorted uniforms of a bucket are partial sums of k + 1 exponentials over their total
    (order statistics without a sort).
    """
    counts = np.bincount(bucket, minlength=n_buckets)
    cum = np.cumsum(rng.standard_exponential(len(bucket) + n_buckets))
    starts = np.concatenate([[0], np.cumsum(counts + 1)[:-1]])
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    span = cum[starts + counts] - base
    b = bucket.astype(np.int64)
    return (cum[np.arange(len(bucket)) + b] - base[b]) / span[b]


@dataclass(frozen=True)
class Vocab:
    """Dictionaries the string columns are taken from."""

    model: pa.Array
    model_raw: pa.Array
    provider: pa.Array
    app: pa.Array
    category: pa.Array
    finish: pa.Array
    provider_table: AliasTable
    """P(provider | model)."""
    app_table: AliasTable
    """P(app | category); the last outcome is no app."""
    hour_table: AliasTable


def build_vocab(models: Models) -> Vocab:
    """String dictionaries and cumulative choice tables shared by all months."""
    return Vocab(
        model=pa.array(models.slug, pa.string()),
        model_raw=pa.array(models.slug + models.alias, pa.string()),
        provider=pa.array(models.providers, pa.string()),
        app=pa.array(APPS, pa.string()),
        category=pa.array(CATEGORIES, pa.string()),
        finish=pa.array(FINISH_REASONS, pa.string()),
        provider_table=AliasTable(models.provider_p),
        app_table=AliasTable(app_table()),
        hour_table=AliasTable(HOURLY),
    )


def month_tables(
    config: SimConfig,
    models: Models,
    market: Market,
    users: Users,
    cohorts: Cohorts,
    vocab: Vocab,
    month: int,
    first_id: int,
) -> Iterator[pa.Table]:
    """The month's requests, sorted by ts, as tables of at most ``config.chunk_rows`` rows."""
    if not market.month_requests[:, month].any():
        return
    rng = np.random.default_rng([config.seed, 4, month])
    day_idx = np.flatnonzero(market.month_of_day == month)
    n_models, n_cat = len(models), len(CATEGORIES)
    cells = market.counts[day_idx].transpose(1, 0, 2).ravel()
    per_model = cells.size // n_models
    cell = np.repeat(np.arange(cells.size, dtype=np.int64), cells)
    model = (cell // per_model).astype(np.int32)
    rem = cell % per_model
    day = day_idx[0] + rem // n_cat
    cat = (rem % n_cat).astype(np.int8)
    del cell, rem
    user = assign_users(cohorts, users, month, market.month_requests[:, month], rng)

    # Hour buckets from the diurnal pattern, rows shuffled within buckets, then sorted times.
    n = len(model)
    bucket = ((day - day_idx[0]) * 24 + vocab.hour_table.draw(rng, 0, n)).astype(np.int16)
    order = group_shuffle(rng, bucket)
    bucket, model, cat, user = bucket[order], model[order], cat[order], user[order]
    del order, day
    frac = _sorted_fractions(rng, bucket, 24 * len(day_idx))
    day_us = datetime(config.start.year, config.start.month, config.start.day, tzinfo=UTC).timestamp()
    first_us = int(day_us) * 10**6 + int(day_idx[0]) * _US_PER_DAY
    ts = first_us + bucket.astype(np.int64) * _US_PER_HOUR + (frac * _US_PER_HOUR).astype(np.int64)
    day = day_idx[0] + bucket // 24
    del frac, bucket

    week = market.week_of_day[day]
    del day
    mean_in = market.mean_in[cat, week]
    mean_out = market.mean_out[cat, week]
    s_in, s_out = config.input_sigma, config.output_sigma
    input_tokens = np.floor(
        mean_in * np.exp(s_in * rng.standard_normal(n) - s_in * s_in / 2) + rng.random(n)
    ).astype(np.int64)
    error = rng.random(n) < config.error_rate
    output_tokens = np.floor(
        mean_out * np.exp(s_out * rng.standard_normal(n) - s_out * s_out / 2) + rng.random(n)
    ).astype(np.int64)
    output_tokens[error] = 0
    del mean_in, mean_out

    tool = models.tools[model] & ~error & (rng.random(n) < market.tool_p[cat, week])
    v = rng.random(n)
    finish = np.full(n, _FR["stop"], dtype=np.int8)
    plain = ~error & ~tool
    length_to = config.length_rate
    finish[plain & (v < length_to)] = _FR["length"]
    finish[plain & (v >= length_to) & (v < length_to + CONTENT_FILTER_RATE)] = _FR["content_filter"]
    cancel_from = length_to + CONTENT_FILTER_RATE
    finish[plain & (v >= cancel_from) & (v < cancel_from + CANCELLED_RATE)] = _FR["cancelled"]
    finish[tool] = _FR["tool_calls"]
    finish[error] = _FR["error"]
    tool_calls = np.zeros(n, dtype=np.int32)
    tool_calls[tool] = rng.geometric(TOOL_CALLS_P, size=int(tool.sum()))
    del v, plain, week

    reasoner = models.reasoning[model]
    mu = config.reasoning_fraction
    half = 0.75 * min(mu, 1.0 - mu)
    frac = rng.uniform(mu - half, mu + half, size=n)
    reasoning_tokens = np.where(reasoner, np.floor(output_tokens * frac + rng.random(n)), 0).astype(np.int64)
    np.minimum(reasoning_tokens, output_tokens, out=reasoning_tokens)
    cached_p = np.where(cat == PROGRAMMING, CACHED_RATE_PROGRAMMING, CACHED_RATE)
    cached = rng.random(n) < cached_p
    cached_tokens = np.where(cached, np.floor(input_tokens * rng.uniform(0.2, 0.9, n)), 0).astype(np.int64)
    del frac, cached_p, cached

    tps = models.tokens_per_s[model]
    ttft = np.exp(rng.normal(np.log(350.0), 0.5, n)) * (1.0 + input_tokens / 20_000.0)
    ttft += reasoning_tokens / tps * 1000.0
    latency = ttft + (output_tokens - reasoning_tokens) / tps * 1000.0 * np.exp(rng.normal(0.0, 0.2, n))
    cost = (input_tokens * models.input_price[model] + output_tokens * models.output_price[model]) / 1e6
    del tps, reasoner

    streamed = rng.random(n) < STREAMED_RATE
    streamed_null = rng.random(n) < STREAMED_UNKNOWN
    n_apps = len(APPS) + 1
    app = vocab.app_table.draw(rng, cat)
    provider = vocab.provider_table.draw(rng, model)
    raw = model + np.where(rng.random(n) < ALIAS_RATE, n_models, 0)
    country = users.country[user]

    for lo in range(0, n, config.chunk_rows):
        s = slice(lo, min(n, lo + config.chunk_rows))
        k = s.stop - s.start
        ids = pa.array(np.arange(first_id + lo, first_id + s.stop, dtype=np.int64)).cast(pa.string())
        columns = [
            pc.binary_join_element_wise("sim-", pc.utf8_lpad(ids, ID_WIDTH, "0"), ""),
            pa.array(ts[s], pa.timestamp("us", tz="UTC")),
            users.ids.take(pa.array(user[s])),
            vocab.app.take(pa.array(app[s], mask=app[s] == n_apps - 1)),
            vocab.model.take(pa.array(model[s])),
            vocab.model_raw.take(pa.array(raw[s])),
            vocab.provider.take(pa.array(provider[s])),
            pa.array(input_tokens[s]),
            pa.array(output_tokens[s]),
            pa.array(reasoning_tokens[s]),
            pa.array(cached_tokens[s]),
            pa.DictionaryArray.from_arrays(pa.array(finish[s]), vocab.finish),
            pc.if_else(pa.array(finish[s] == _FR["error"]), SIMULATED_ERROR, pa.scalar(None, pa.string())),
            pa.array(tool_calls[s]),
            pa.array(streamed[s], mask=streamed_null[s]),
            pa.array(latency[s]),
            pa.array(ttft[s]),
            pa.array(cost[s]),
            users.countries.take(pa.array(country[s])),
            pa.array(np.ones(k, dtype=np.int64)),
            pa.array(np.zeros(k, dtype=bool)),
            vocab.category.take(pa.array(cat[s])),
        ]
        yield pa.Table.from_arrays(columns, schema=CHUNK_SCHEMA)
