"""Where the analyses run: the one place that picks a backend.

:func:`open_lake` connects to a backend through Ibis, reads the lake's Parquet files and the model
catalog, and returns :class:`Tables`, whose ``events`` is the request events joined with the catalog
and enriched with the derived columns every analysis uses (``tokens``, ``week``, ``month``,
segments). Analyses take and return Ibis tables and never execute; the caller executes.

Backends (:data:`BACKENDS`):

* ``duckdb`` (default): embedded, in memory unless a database file is given.
* ``pyspark``: Apache Spark through Ibis. The session's master is ``TOKENCENSUS_SPARK_MASTER``
  (default ``local[2]``; ``spark://host:7077``, ``yarn``, ``k8s://...`` reach a cluster), or a Spark
  Connect server when ``TOKENCENSUS_SPARK_REMOTE`` (``sc://host:15002``) is set. Spark reads the lake's
  Parquet files itself, so the lake may be any path Spark can read (``s3a://bucket/lake`` with the
  hadoop-aws jars on the cluster). See docs/backends.md.

Both run with a UTC session time zone: weeks are Monday-start and months start on the 1st, in UTC.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from tokencensus import definitions, settings
from tokencensus.errors import ConfigError, LakeError, MissingDependencyError
from tokencensus.lake import Lake

logger = logging.getLogger(__name__)

BACKENDS = settings.BACKENDS
"""Backends :func:`connect` knows."""

SPARK_MASTER_ENV = "TOKENCENSUS_SPARK_MASTER"
"""Environment variable naming the Spark master URL (``local[2]`` when unset)."""
SPARK_REMOTE_ENV = "TOKENCENSUS_SPARK_REMOTE"
"""Environment variable naming a Spark Connect server (``sc://host:15002``); wins over the master."""
SPARK_DEFAULT_MASTER = "local[2]"
SPARK_LOCAL_SHUFFLE_PARTITIONS = 4
"""Shuffle partitions for a local master: Spark's default (200) is tuned for clusters, and on a
couple of cores the per-task overhead of 200 tiny partitions dominates the report's small group-bys."""


@dataclass
class Tables:
    """The tables analyses work on, all on one backend connection."""

    con: Any
    events: ir.Table
    """Events ⋈ catalog, one row per request (see :func:`enrich` for the columns)."""
    catalog: ir.Table
    backend: str
    labels: ir.Table | None = None
    """The classifier's labels, when the lake has any (``tokencensus classify``)."""
    base: ir.Table | None = None
    """The request events with ``week``, ``month`` and ``tokens`` only (no catalog join): what the
    report's rollups scan (:mod:`tokencensus.analyses.rollups`)."""
    calibration: Path | None = None
    """The lake's file of the classifier's errors on its own labelled prompts, when it has one
    (:attr:`tokencensus.lake.Lake.calibration_file`)."""


def connect(backend: str = "duckdb", database: str | None = None, **options: Any) -> Any:
    """Connect to ``backend`` and return the Ibis connection.

    ``duckdb``: an embedded DuckDB, in memory unless ``database``; ``options`` go to
    ``ibis.duckdb.connect``. ``pyspark``: a Spark session from :func:`spark_session` (``options``:
    ``master``, ``remote``, ``shuffle_partitions``, ``conf``, ``session``); ``database`` is not used.
    """
    if backend == "duckdb":
        con = ibis.duckdb.connect(database or ":memory:", **options)
        # Weeks and months are UTC (DESIGN.md); DuckDB truncates timestamptz in the session zone.
        con.raw_sql("SET TimeZone = 'UTC'")
        return con
    if backend == "pyspark":
        if database is not None:
            raise ConfigError("the pyspark backend takes no database file; it reads the lake directly")
        session = options.pop("session", None) or spark_session(**options)
        # ibis.pyspark.connect also sets spark.sql.session.timeZone=UTC on the session.
        return ibis.pyspark.connect(session)
    raise ConfigError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")


def spark_session(
    *,
    master: str | None = None,
    remote: str | None = None,
    shuffle_partitions: int | None = None,
    conf: dict[str, str] | None = None,
) -> Any:
    """Get or create the Spark session the pyspark backend runs on.

    ``remote`` (default ``$TOKENCENSUS_SPARK_REMOTE``) connects to a Spark Connect server;
    otherwise ``master`` (default ``$TOKENCENSUS_SPARK_MASTER``, else ``local[2]``) starts a driver
    here. The session zone is UTC, and ``shuffle_partitions`` (default 4 on a local master, Spark's
    own setting elsewhere) sets ``spark.sql.shuffle.partitions``; ``conf`` adds any Spark setting.
    An already running session in this process is reused (with these settings applied).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise MissingDependencyError("the pyspark backend", "spark", "pyspark") from exc
    # No console progress bars: the CLI prints its own progress.
    settings: dict[str, str] = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false"}
    remote = remote or os.environ.get(SPARK_REMOTE_ENV) or None
    builder = SparkSession.builder.appName("tokencensus")
    if remote:
        builder = builder.remote(remote)
    else:
        master = master or os.environ.get(SPARK_MASTER_ENV) or SPARK_DEFAULT_MASTER
        builder = builder.master(master)
        if master.startswith("local"):
            settings["spark.ui.enabled"] = "false"  # no web UI to serve for a local run
            if shuffle_partitions is None:
                shuffle_partitions = SPARK_LOCAL_SHUFFLE_PARTITIONS
    if shuffle_partitions is not None:
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start or the server is unreachable: say which
        where = f"the Spark Connect server {remote}" if remote else f"Spark master {master!r}"
        raise ConfigError(
            f"could not start a Spark session on {where} ({exc}); the pyspark backend needs Java 17 "
            f"on PATH (or JAVA_HOME) for a local master, or set {SPARK_MASTER_ENV} / {SPARK_REMOTE_ENV}"
        ) from exc
    for key, value in settings.items():
        # getOrCreate on a running session keeps its SQL settings; set them (the others, such as
        # driver memory, only apply when the session starts and cannot change at run time).
        if key.startswith("spark.sql."):
            session.conf.set(key, value)
    if not remote:
        session.sparkContext.setLogLevel("ERROR")  # Spark's WARN lines would drown the CLI's output
    return session


def open_lake(
    lake: Lake | str | Path,
    *,
    backend: str = "duckdb",
    catalog: pa.Table | None = None,
    database: str | None = None,
    con: Any = None,
) -> Tables:
    """Open a lake's events on ``backend``, joined with ``catalog`` (default: the packaged one).

    The engine reads the Parquet files itself: on Spark the lake may be any path the cluster can
    read. ``con`` reuses a connection from :func:`connect` instead of opening one.
    """
    if backend == "pyspark" and _is_url(lake):
        # A lake on object storage (s3a://bucket/lake, abfss://, gs://): only Spark sees it.
        con = connect(backend, database) if con is None else con
        raw = _read_spark_events(con, f"{str(lake).rstrip('/')}/events/date=*/*.parquet")
        return tables_from(con, raw, catalog, backend)
    lake = lake if isinstance(lake, Lake) else Lake(lake, create=False)
    if lake.is_empty():
        raise LakeError(f"the lake at {lake.root} holds no events yet; ingest some with `tokencensus ingest`")
    con = connect(backend, database) if con is None else con
    if backend == "pyspark":
        raw = _read_spark_events(con, lake.events_glob())
    else:
        raw = _read_duckdb_events(con, lake.events_glob())
    tables = tables_from(con, raw, catalog, backend)
    labels = sorted((lake.root / "labels").glob("*.parquet"))
    if labels:
        # The classifier's labels (request_id, language, category, ...), for the category analyses.
        glob = str(lake.root / "labels" / "*.parquet")
        name = _spark_name("labels") if backend == "pyspark" else "labels"
        tables.labels = con.read_parquet(glob, table_name=name)
        if lake.calibration_file.exists():
            tables.calibration = lake.calibration_file
    return tables


def open_table(
    events: pa.Table, *, backend: str = "duckdb", catalog: pa.Table | None = None, con: Any = None
) -> Tables:
    """Load an in-memory Arrow table of events (tests, small inputs) onto ``backend``.

    ``con`` reuses a connection from :func:`connect` (a Spark session is slow to start). On DuckDB
    the tables are ``events_raw`` and ``catalog``; on Spark, temporary views with those names plus
    a unique suffix, so several opened tables can live on one session.
    """
    con = connect(backend) if con is None else con
    raw = _register(con, backend, "events_raw", events, overwrite=False)
    return tables_from(con, raw, catalog, backend)


def tables_from(con: Any, raw: ir.Table, catalog: pa.Table | None, backend: str) -> Tables:
    """Register the catalog on ``con`` and build the enriched events table."""
    if catalog is None:
        catalog = _packaged_catalog()
    cat = _register(con, backend, "catalog", catalog, overwrite=True)
    base = with_periods(raw, backend)
    return Tables(con=con, events=with_catalog(base, cat), catalog=cat, backend=backend, base=base)


def register(tables: Tables, name: str, table: pa.Table) -> ir.Table:
    """Put a small Arrow table (e.g. a rollup's dimension table) on the tables' connection under
    ``name``: a DuckDB table (replacing one of that name), or a session-unique Spark view that,
    unlike an Ibis memtable's, outlives the first query and so may sit in a cached plan."""
    return _register(tables.con, tables.backend, name, table, overwrite=True)


def _register(con: Any, backend: str, name: str, table: pa.Table, *, overwrite: bool) -> ir.Table:
    """Put an Arrow table on ``con`` under ``name``."""
    if backend == "pyspark":
        # A temporary view over the Arrow rows, handed to Spark as Arrow: Ibis's own path goes
        # through pandas, where pandas 3 turns null strings into NaN (and Spark into "NaN"), and
        # Ibis's create_table would write a managed table under ./spark-warehouse.
        frame = con._session.createDataFrame(_decode_dictionaries(table))
        name = _spark_name(name)
        frame.createOrReplaceTempView(name)
        return con.table(name)
    return con.create_table(name, table, overwrite=overwrite)


def _is_url(lake: Lake | str | Path) -> bool:
    return isinstance(lake, str) and "://" in lake and not lake.startswith("file://")


def _read_spark_events(con: Any, glob: str) -> ir.Table:
    """The lake's events files as read by Spark itself (local path or any URL the cluster reads)."""
    try:
        raw = con.read_parquet(glob, table_name=_spark_name("events_raw"))
    except Exception as exc:  # AnalysisException: PATH_NOT_FOUND, or no credentials for the bucket
        raise LakeError(
            f"Spark could not read the lake's events at {glob} ({str(exc).splitlines()[0]}); "
            "check the path, that it holds ingested events, and the cluster's storage credentials"
        ) from exc
    # Globbing the files keeps partition discovery from adding `date`, as DuckDB's
    # hive_partitioning=False does; drop it should a Spark version add it anyway.
    return raw.drop("date") if "date" in raw.columns else raw


def _read_duckdb_events(con: Any, glob: str) -> ir.Table:
    """The lake's events on DuckDB, with the partition's ``date`` when every file holds its day.

    The lake writes each request under the ``date=`` partition of its UTC day, so a file's day is
    a constant that DuckDB hands out per vector: weeks and months derived from it cost nothing,
    where deriving them from each row's ``ts`` costs ~2.5 s per 100M requests in every pass that
    groups by them. The files' own ``ts`` statistics (Parquet footers, ~0.1 s for a year of days)
    must confirm it: should any file hold a request outside its partition's day, or lack the
    statistics, the periods come from ``ts`` as on the other backends, and a warning says which.
    """
    raw = con.read_parquet(glob, table_name="events_raw", hive_partitioning=True)
    if "date" not in raw.columns:  # pragma: no cover - the glob names date= directories
        return raw
    if raw.schema()["date"].is_date():
        stray = _files_outside_their_day(con, glob)
        if not stray:
            return raw
        logger.warning(
            "%d events file(s) hold requests outside their date= partition's UTC day or lack ts "
            "statistics (e.g. %s): weeks and months are computed from each request's ts, which is slower",
            len(stray),
            stray[0],
        )
    return raw.drop("date")


def _files_outside_their_day(con: Any, glob: str) -> list[str]:
    """Events files whose ``ts`` statistics fall outside their ``date=`` partition's UTC day, or
    that have none (or none that reads as a timestamp)."""
    query = """
        SELECT file_name FROM (
            SELECT file_name,
                   regexp_extract(file_name, 'date=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) AS part,
                   min(TRY_CAST(stats_min_value AS TIMESTAMPTZ)) AS lo,
                   max(TRY_CAST(stats_max_value AS TIMESTAMPTZ)) AS hi,
                   count(*) FILTER (WHERE stats_min_value IS NULL OR stats_max_value IS NULL) AS missing
            FROM parquet_metadata(?) WHERE path_in_schema = 'ts' GROUP BY file_name
        )
        WHERE missing > 0 OR part = '' OR lo IS NULL OR hi IS NULL
           OR strftime(lo, '%Y-%m-%d') <> part OR strftime(hi, '%Y-%m-%d') <> part
        ORDER BY file_name
    """
    return [row[0] for row in con.con.execute(query, [glob]).fetchall()]


def _spark_name(name: str) -> str:
    """A session-unique temporary view name: one Spark session may hold several lakes or tables
    at once (tests, notebooks), and a view replaced under a live expression would change its data."""
    return f"{name}_{uuid.uuid4().hex[:12]}"


def _decode_dictionaries(table: pa.Table) -> pa.Table:
    """Dictionary columns (finish_reason, ...) as plain values: Spark takes no Arrow dictionaries."""
    fields = [
        pa.field(f.name, f.type.value_type, f.nullable) if pa.types.is_dictionary(f.type) else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def _packaged_catalog() -> pa.Table:
    try:
        from tokencensus.catalog import load_catalog
    except ImportError as exc:  # pragma: no cover - the catalog ships with the package
        raise MissingDependencyError("the model catalog", "all", "tokencensus") from exc
    return load_catalog().table


@ibis.udf.scalar.builtin(name="epoch_us")
def _epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB's microseconds since the epoch (a builtin: no Python runs)."""


US_PER_DAY = 86_400_000_000


@ibis.udf.scalar.builtin(name="divide")
def _divide(a: dt.int64, b: dt.int64) -> dt.int64:  # type: ignore[empty-body]
    """DuckDB's integer division (truncating; used on non-negative operands only)."""


@ibis.udf.scalar.builtin(name="add")
def _add_days(day: dt.date, n: dt.int32) -> dt.date:  # type: ignore[empty-body]
    """DuckDB's DATE + INTEGER: the date ``n`` days after ``day``."""


EPOCH_SHIFT_DAYS = 7 * 20_000
"""Days added to the epoch before dividing, so that integer division floors for every timestamp
after 1586 (a multiple of 7 keeps week boundaries on Mondays)."""


def utc_floor(ts: ir.TimestampValue, unit: str, backend: str) -> ir.DateValue:
    """The UTC day ("D"), or the first day of the UTC week ("W", Monday-start) or month ("M"),
    holding ``ts``, as a date.

    On DuckDB the day comes from integer arithmetic on the epoch: truncating a ``TIMESTAMPTZ``
    goes through the ICU time-zone library and costs about 0.2 s per million rows, which every
    analysis would pay for its ``week``; the week is whole integer arithmetic (DATE + days, 0.7 s
    per 100M rows less than truncating a timestamp). Elsewhere it is ``ts.truncate(unit)`` in the
    UTC session zone.
    """
    if backend != "duckdb":
        return ts.date() if unit == "D" else ts.truncate(unit).date()
    us = _epoch_us(ts)
    epoch = ibis.date(1970, 1, 1)
    shift = EPOCH_SHIFT_DAYS
    if unit == "W":  # 1970-01-01 was a Thursday: Monday-start weeks count from day -3
        weeks = _divide(us + (shift + 3) * US_PER_DAY, 7 * US_PER_DAY)
        return _add_days(epoch, (weeks * 7 - 3 - shift).cast("int32"))
    days = _divide(us + shift * US_PER_DAY, US_PER_DAY) - shift
    day = _add_days(epoch, days.cast("int32"))
    return day if unit == "D" else day.truncate(unit).cast("date")


def enrich(raw: ir.Table, catalog: ir.Table, backend: str = "duckdb") -> ir.Table:
    """Events left-joined with the catalog, plus the derived columns.

    Added columns: ``tokens`` (input + output), ``week`` (Monday-start, UTC, a date), ``month``
    (first day, a date) from :func:`with_periods`, and the catalog's from :func:`with_catalog`.
    """
    return with_catalog(with_periods(raw, backend), catalog)


def with_periods(raw: ir.Table, backend: str = "duckdb") -> ir.Table:
    """Events plus ``tokens`` (input + output) and, all UTC dates, ``day``, ``week`` (Monday-start)
    and ``month`` (first day).

    From the partition's ``date`` where the lake's reader kept it (:func:`_read_duckdb_events`:
    constant per file, so the periods cost nothing per row), else from ``ts``."""
    if "date" in raw.columns:
        day = raw.date
        return raw.mutate(
            tokens=raw.input_tokens + raw.output_tokens,
            day=day,
            week=day.truncate("W").cast("date"),
            month=day.truncate("M").cast("date"),
        ).drop("date")
    return raw.mutate(
        tokens=raw.input_tokens + raw.output_tokens,
        day=utc_floor(raw.ts, "D", backend),
        week=utc_floor(raw.ts, "W", backend),
        month=utc_floor(raw.ts, "M", backend),
    )


def on_days(table: ir.Table, start: date | None = None, end: date | None = None) -> ir.Table:
    """The rows of ``table`` (with a ``ts``) whose UTC day lies in ``start`` .. ``end``, both
    inclusive; an end that is None is open."""
    day = table.ts.date()
    keep = ([day >= start] if start is not None else []) + ([day <= end] if end is not None else [])
    return table.filter(*keep) if keep else table


def with_catalog(events: ir.Table, catalog: ir.Table) -> ir.Table:
    """Rows with a ``model`` column (events, or a rollup of them) left-joined with the catalog.

    Added columns: catalog attributes (``author``, ``open_weights``, ``origin``, ``params_b``,
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
    ).filter(lambda c: c.cat_slug != definitions.UNKNOWN)
    joined = events.left_join(cat, events.model == cat.cat_slug)
    resolved = joined.cat_slug.notnull()
    return joined.mutate(
        resolved=resolved,
        author=joined.author.fill_null(definitions.UNKNOWN),
        origin=joined.origin.fill_null(definitions.UNKNOWN),
        size_class=joined.size_class.fill_null(definitions.UNKNOWN),
        reasoning=joined.reasoning.fill_null(False),
        tools=joined.tools.fill_null(False),
        open_segment=definitions.open_segment(joined.open_weights),
        origin_segment=definitions.origin_segment(joined.open_weights, joined.origin),
    ).drop("cat_slug")


SCRATCH = "tokencensus_scratch"
"""Name of the DuckDB database :func:`materialise` attaches for intermediate tables."""


def materialise(tables: Tables, expr: ir.Table, name: str) -> ir.Table:
    """Compute ``expr`` once and return a table over its stored result, for analyses that reuse it.

    DuckDB stores it in a scratch database file, attached once per connection in a temporary
    directory that is removed when the process exits: there DuckDB compresses the table and pages it
    through its buffer manager, whereas an in-memory table of a large rollup (tens of millions of
    (model, user, month) rows at 100M requests) stays whole in RAM and pushed the report past an
    8 GB budget. Measured at 20M requests, the file costs no time and 0.9 GB less peak memory.
    Spark caches the DataFrame.
    """
    if tables.backend != "duckdb":
        return expr.cache()
    con = tables.con
    attached = {row[0] for row in con.raw_sql("SELECT database_name FROM duckdb_databases()").fetchall()}
    if SCRATCH not in attached:
        folder = tempfile.mkdtemp(prefix="tokencensus-scratch-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        con.raw_sql(f"ATTACH '{os.path.join(folder, 'scratch.duckdb')}' AS {SCRATCH}")
    return con.create_table(name, expr, database=(SCRATCH, "main"), overwrite=True)
