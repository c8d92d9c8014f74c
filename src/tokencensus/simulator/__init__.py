"""LLM-marketplace traffic with planted truth: the demo's data and the analyses' oracle.

The default world (:func:`study_config`, ``study.toml``) is calibrated to the published aggregates
of the OpenRouter "State of AI" study; tests build smaller worlds of their own with :class:`SimConfig`.

:func:`simulate` returns the request events (canonical schema), each request's category and the
:class:`Truth` the analyses must recover: segment token shares (Chinese open, rest-of-world open,
proprietary) moving over the year, launch ramps, a rising share of reasoning models and of tool
calls, growing prompts, per-model category mixes with programming on the rise, a planted user
country mix, and per-model retention curves with a "glass slipper" launch cohort and a
"boomerang". :func:`iter_simulate` yields the same rows month by month for large runs.

Layers (one module each): ``models`` (which catalog models, their traits) → ``market`` (planted
shares → request counts per model, day and category) → ``users`` and ``retention`` (who sends
them) → ``events`` (rows and Arrow tables) → ``truth``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from tokencensus.schema import EVENT_SCHEMA
from tokencensus.simulator.config import SimConfig
from tokencensus.simulator.events import CATEGORY_COLUMN, CHUNK_SCHEMA, build_vocab, month_tables
from tokencensus.simulator.market import build_market, choose_models
from tokencensus.simulator.models import SEGMENTS, build_models
from tokencensus.simulator.retention import build_cohorts
from tokencensus.simulator.study import StudyWorld, study_config, study_world
from tokencensus.simulator.truth import Truth, build_truth
from tokencensus.simulator.users import build_users
from tokencensus.simulator.world import CATEGORIES

__all__ = [
    "CATEGORIES",
    "CATEGORY_COLUMN",
    "CHUNK_SCHEMA",
    "SEGMENTS",
    "SimConfig",
    "Simulation",
    "StudyWorld",
    "Truth",
    "iter_simulate",
    "simulate",
    "split_chunk",
    "study_config",
    "study_world",
]

DEFAULT_CONFIG = study_config()
"""The default run: the world calibrated to the published OpenRouter study (``study.toml``), 1M
requests by 60k users from June 2024 to November 2025. ``SimConfig()`` is the analyses' plainer
test world (52 weeks from Monday 2025-06-02)."""

CATEGORIES_SCHEMA = pa.schema(
    [pa.field("request_id", pa.string(), nullable=False), pa.field("category", pa.string(), nullable=False)]
)


@dataclass(frozen=True)
class Simulation:
    """The simulated events, each request's category, and the planted truth."""

    events: pa.Table
    """Requests in the canonical EVENT_SCHEMA, sorted by ts."""
    categories: pa.Table
    """request_id, category (one of CATEGORIES) for every request."""
    truth: Truth
    config: SimConfig


def _catalog_table(catalog: pa.Table | None) -> pa.Table:
    if catalog is not None:
        return catalog
    from tokencensus.catalog import load_catalog

    return load_catalog().table


def iter_simulate(
    config: SimConfig = DEFAULT_CONFIG, catalog: pa.Table | None = None
) -> tuple[Truth, Iterator[pa.Table]]:
    """The truth, and the requests as tables of at most ``config.chunk_rows`` rows, month by month.

    Each table has :data:`CHUNK_SCHEMA`: the EVENT_SCHEMA columns followed by ``category``
    (use :func:`split_chunk`, or let ``schema.conform`` drop it). Rows are sorted by ts and the
    request ids count up across tables. ``catalog`` defaults to ``load_catalog().table``.
    Raises ValueError when the config or catalog cannot be simulated.
    """
    config.check()
    models = choose_models(build_models(_catalog_table(catalog), config), config)
    market = build_market(models, config)
    users = build_users(config)
    cohorts = build_cohorts(models, market, users, config)
    truth = build_truth(config, models, market, cohorts)
    vocab = build_vocab(models)

    def chunks() -> Iterator[pa.Table]:
        first = 0
        for month in range(len(market.months)):
            yield from month_tables(config, models, market, users, cohorts, vocab, month, first)
            first += int(market.month_requests[:, month].sum())

    return truth, chunks()


def split_chunk(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    """A yielded table as (events in EVENT_SCHEMA, categories table)."""
    events = table.drop_columns([CATEGORY_COLUMN]).cast(EVENT_SCHEMA)
    categories = table.select(["request_id", CATEGORY_COLUMN]).cast(CATEGORIES_SCHEMA)
    return events, categories


def simulate(config: SimConfig = DEFAULT_CONFIG, catalog: pa.Table | None = None) -> Simulation:
    """Simulate ``config.requests`` requests over ``config.weeks`` weeks (see the module docstring)."""
    truth, chunks = iter_simulate(config, catalog)
    tables = list(chunks)
    table = pa.concat_tables(tables) if tables else CHUNK_SCHEMA.empty_table()
    events, categories = split_chunk(table)
    return Simulation(events=events, categories=categories, truth=truth, config=config)
