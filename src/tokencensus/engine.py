"""Where the analyses run: the one place that picks a backend.

:func:`open_lake` connects to a backend through Ibis, reads the lake's Parquet files and the model
catalog, and returns :class:`Tables`, whose ``events`` is the request events joined with the catalog
and enriched with the derived columns every analysis uses (``tokens``, ``week``, ``month``,
segments). Analyses take and return Ibis tables and never execute; the caller executes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from tokencensus.errors import ConfigError, LakeError, MissingDependencyError
from tokencensus.lake import Lake

BACKENDS = ("duckdb",)
"""Backends :func:`connect` knows."""

UNKNOWN = "unknown"

OPEN_SEGMENTS = ("Open weights", "Closed", "Unknown")
ORIGIN_SEGMENTS = ("Chinese open", "Rest-of-world open", "Proprietary", "Unknown")


@dataclass
class Tables:
    """The tables analyses work on, all on one backend connection."""

    con: Any
    events: ir.Table
    """Events ⋈ catalog, one row per request (see :func:`enrich` for the columns)."""
    catalog: ir.Table
    backend: str


def connect(backend: str = "duckdb", database: str | None = None, **options: Any) -> Any:
    """Connect to ``backend`` (an embedded DuckDB by default, in memory unless ``database``)."""
    if backend == "duckdb":
        con = ibis.duckdb.connect(database or ":memory:", **options)
        # Weeks and months are UTC (DESIGN.md); DuckDB truncates timestamptz in the session zone.
        con.raw_sql("SET TimeZone = 'UTC'")
        return con
    raise ConfigError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")


def open_lake(
    lake: Lake | str | Path,
    *,
    backend: str = "duckdb",
    catalog: pa.Table | None = None,
    database: str | None = None,
) -> Tables:
    """Open a lake's events on ``backend``, joined with ``catalog`` (default: the packaged one)."""
    lake = lake if isinstance(lake, Lake) else Lake(lake, create=False)
    if lake.is_empty():
        raise LakeError(f"the lake at {lake.root} holds no events yet; ingest some with `tokencensus ingest`")
    con = connect(backend, database)
    raw = con.read_parquet(lake.events_glob(), table_name="events_raw", hive_partitioning=False)
    return tables_from(con, raw, catalog, backend)


def open_table(events: pa.Table, *, backend: str = "duckdb", catalog: pa.Table | None = None) -> Tables:
    """Load an in-memory Arrow table of events (tests, small inputs) onto ``backend``."""
    con = connect(backend)
    raw = con.create_table("events_raw", events)
    return tables_from(con, raw, catalog, backend)


def tables_from(con: Any, raw: ir.Table, catalog: pa.Table | None, backend: str) -> Tables:
    """Register the catalog on ``con`` and build the enriched events table."""
    if catalog is None:
        catalog = _packaged_catalog()
    cat = con.create_table("catalog", catalog, overwrite=True)
    return Tables(con=con, events=enrich(raw, cat), catalog=cat, backend=backend)


def _packaged_catalog() -> pa.Table:
    try:
        from tokencensus.catalog import load_catalog
    except ImportError as exc:  # pragma: no cover - the catalog ships with the package
        raise MissingDependencyError("the model catalog", "all", "tokencensus") from exc
    return load_catalog().table


def enrich(raw: ir.Table, catalog: ir.Table) -> ir.Table:
    """Events left-joined with the catalog, plus the derived columns.

    Added columns: ``tokens`` (input + output), ``week`` (Monday-start, UTC, a date), ``month``
    (first day, a date), catalog attributes (``author``, ``open_weights``, ``origin``, ``params_b``,
    ``size_class``, ``reasoning``, ``tools``, ``release_date``, ``input_price``, ``output_price``)
    with models missing from the catalog taking the explicit ``unknown`` values, ``resolved``
    (model found in the catalog), ``open_segment`` (Open weights / Closed / Unknown) and
    ``origin_segment`` (Chinese open / Rest-of-world open / Proprietary / Unknown).
    """
    cat = catalog.select(
        cat_slug=catalog.slug,
        author=catalog.author,
        open_weights=catalog.open_weights,
        origin=catalog.origin,
        params_b=catalog.params_b,
        size_class=catalog.size_class,
        reasoning=catalog.reasoning,
        tools=catalog.tools,
        release_date=catalog.release_date,
        input_price=catalog.input_price,
        output_price=catalog.output_price,
    ).filter(lambda c: c.cat_slug != UNKNOWN)
    joined = raw.left_join(cat, raw.model == cat.cat_slug)
    resolved = joined.cat_slug.notnull()
    open_segment = ibis.cases(
        (joined.open_weights.isnull(), "Unknown"),
        (joined.open_weights, "Open weights"),
        else_="Closed",
    )
    origin_segment = ibis.cases(
        (joined.open_weights.isnull(), "Unknown"),
        (joined.open_weights & (joined.origin == "CN"), "Chinese open"),
        (joined.open_weights, "Rest-of-world open"),
        else_="Proprietary",
    )
    return joined.mutate(
        tokens=joined.input_tokens + joined.output_tokens,
        week=joined.ts.truncate("W").date(),
        month=joined.ts.truncate("M").date(),
        resolved=resolved,
        author=joined.author.fill_null(UNKNOWN),
        origin=joined.origin.fill_null(UNKNOWN),
        size_class=joined.size_class.fill_null(UNKNOWN),
        reasoning=joined.reasoning.fill_null(False),
        tools=joined.tools.fill_null(False),
        open_segment=open_segment,
        origin_segment=origin_segment,
    ).drop("cat_slug")
