"""Compute step of the report: run the analyses on an engine and bring the results home.

This is the only place the report executes Ibis expressions; everything after works on plain
pandas frames (view-models are built from them in :mod:`tokencensus.report.data`).

The analyses read :class:`Sources`, built once per report by :func:`sources`: the request events,
the intermediate tables several analyses share (computed once), and the labelled requests when the
lake has labels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.engine import Tables, materialise
from tokencensus.report.data import ReportMeta


@dataclass(frozen=True)
class Sources:
    """What the report's analyses read, all on one backend connection."""

    events: ir.Table
    """Enriched events, one row per request."""
    activity: ir.Table
    """The (model, user, month) activity rollup of the retention analyses."""
    triangle: ir.Table
    """The retention triangle (every model × cohort × k), which three retention figures read."""
    labels: ir.Table | None = None
    labelled: ir.Table | None = None
    """Enriched events of the labelled requests only (events ⋈ labels on request_id)."""


Analysis = Callable[[Sources], ir.Table]


def sources(tables: Tables) -> Sources:
    """The report's sources over ``tables``, with what several analyses share computed once.

    The (model, user, month) activity rollup, read by all five retention analyses, the retention
    triangle built from it (read by three of them), and the labelled
    requests (events ⋈ labels, a few percent of the events), read by every category figure, are
    materialised (:func:`tokencensus.engine.materialise`). The other analyses read the events: a
    rollup keeping users (needed for exact distinct-user counts) measured 65M rows for 100M
    requests in bench/bench_report.py, too little reduction to pay for its build.
    """
    events = tables.events
    activity = materialise(tables, analyses.monthly_activity(events), "activity")
    labelled = None
    if tables.labels is not None:
        ids = tables.labels.select(lab_request_id=tables.labels.request_id).distinct()
        narrowed = events.semi_join(ids, events.request_id == ids.lab_request_id)
        labelled = materialise(tables, narrowed, "labelled_events")
    triangle = analyses.retention_triangle(events, activity)
    if tables.backend == "duckdb":
        # Spark cannot cache it: its k grid is an Ibis memtable, whose temporary view Ibis drops
        # after the first query while the cached plan still names it.
        triangle = materialise(tables, triangle, "triangle")
    return Sources(
        events=events,
        activity=activity,
        triangle=triangle,
        labels=tables.labels,
        labelled=labelled,
    )


def figure_analyses(top_n: int = 10) -> dict[str, Analysis]:
    """The analyses behind the report's figures, keyed by figure id, in report order."""
    n_curves = min(top_n, 5)
    return {
        # volume
        "volume": lambda s: analyses.weekly_volume(s.events),
        # open vs closed, origin, authors, models
        "share_open": lambda s: analyses.share_open(s.events),
        "share_origin": lambda s: analyses.share_origin(s.events),
        "share_author": lambda s: analyses.share_author(s.events),
        "top_models": lambda s: analyses.top_models(s.events, n=top_n, weeks=4),
        "top_models_weekly": lambda s: analyses.top_models_weekly(s.events, n=top_n),
        "leaderboard": lambda s: analyses.leaderboard(s.events, n=top_n),
        "open_concentration": lambda s: analyses.open_concentration(s.events),
        "share_new_models": lambda s: analyses.share_new_models(s.events, 90),
        # size
        "share_size": lambda s: analyses.share_size(s.events),
        # agentic use
        "share_reasoning": lambda s: analyses.share_reasoning(s.events),
        "reasoning": lambda s: analyses.reasoning_weekly(s.events),
        "tool_calls": lambda s: analyses.tool_calls_weekly(s.events),
        "lengths": lambda s: analyses.lengths_weekly(s.events),
        # geography
        "geo_continent": lambda s: analyses.region_share(s.events, "continent", "week"),
        "geo_country": lambda s: analyses.region_share(s.events, "country", "month"),
        # cost vs usage
        "cost_vs_usage": lambda s: analyses.model_costs(s.events),
        # retention
        "retention_curves": lambda s: analyses.retention_curves(
            s.events, n_curves, s.activity, triangle=s.triangle
        ),
        "retention_triangle": lambda s: s.triangle.order_by(["model", "cohort", "k"]),
        "glass_slipper": lambda s: analyses.foundational_cohorts(
            s.events, activity=s.activity, triangle=s.triangle
        ),
        "boomerang": lambda s: analyses.boomerangs(s.events, activity=s.activity, triangle=s.triangle),
        "churn_flows": lambda s: analyses.churn_flows(s.events, s.activity),
    }


def label_analyses() -> dict[str, Analysis]:
    """The figures that need the classifier's labels (Sources.labels is set)."""

    def lab(s: Sources) -> tuple[ir.Table, ir.Table]:
        assert s.labelled is not None and s.labels is not None
        return s.labelled, s.labels

    return {
        "share_category": lambda s: analyses.category_share(*lab(s), population=s.events).rename(
            segment="category"
        ),
        "category_segments": lambda s: analyses.mix_by_segment(*lab(s), population=s.events),
        "category_costs": lambda s: analyses.category_costs(*lab(s)),
        "language": lambda s: analyses.language_share(*lab(s), population=s.events),
    }


def compute(
    tables: Tables,
    *,
    min_users: int,
    top_n: int = 10,
    source: str = "",
    timings: dict[str, float] | None = None,
) -> tuple[dict[str, pd.DataFrame], ReportMeta]:
    """Execute every figure's analysis and the summary numbers; return frames and report metadata.

    ``timings``, when given, receives the seconds each step took (the shared sources under
    "(sources)", then each figure id), for bench/bench_report.py.
    """
    start = time.perf_counter()
    src = sources(tables)
    if timings is not None:
        timings["(sources)"] = time.perf_counter() - start
    todo = figure_analyses(top_n)
    if src.labels is not None:
        todo |= label_analyses()
    results = {}
    for name, analysis in todo.items():
        start = time.perf_counter()
        results[name] = _tidy(analysis(src).to_pandas())
        if timings is not None:
            timings[name] = time.perf_counter() - start
    start = time.perf_counter()
    meta = summarize(src.events, min_users=min_users, source=source)
    if timings is not None:
        timings["(summary)"] = time.perf_counter() - start
    return results, meta


def summarize(events: ir.Table, *, min_users: int, source: str = "") -> ReportMeta:
    """The summary block: period, data size and the share of tokens whose model is unresolved."""
    unresolved = events.tokens.sum(where=~events.resolved)
    row = (
        events.aggregate(
            period_start=events.ts.min().date(),
            period_end=events.ts.max().date(),
            requests=events.requests.sum(),
            tokens=events.tokens.sum(),
            unresolved=unresolved,
            users=events.user_id.nunique(),
            models=events.model.nunique(),
            providers=events.provider.nunique(),
        )
        .to_pandas()
        .iloc[0]
    )
    tokens = int(row["tokens"] or 0)
    return ReportMeta(
        period_start=_as_date(row["period_start"]),
        period_end=_as_date(row["period_end"]),
        requests=int(row["requests"]),
        tokens=tokens,
        users=int(row["users"]),
        models=int(row["models"]),
        providers=int(row["providers"]),
        unresolved_share=float(row["unresolved"] or 0) / tokens if tokens else 0.0,
        min_users=min_users,
        source=source,
    )


def _as_date(value: object) -> date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


DATE_COLUMNS = ("week", "month", "cohort", "launch_cohort")
COUNT_COLUMNS = (
    "requests",
    "input_tokens",
    "output_tokens",
    "tokens",
    "users",
    "rank",
    "k",
    "labelled",
    "models",
    "cohorts",
    "cohort_users",
    "active_users",
    "later_cohorts",
    "launch_users",
    "churns",
    "from_churns",
    "prev_rank",
    "prev_tokens",
    "rank_change",
)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Weeks, months and cohorts as datetime.date, integer counts as int64 (nullable Int64 where a
    count can be missing, e.g. a model's rank the week before it entered); backends differ in what
    they return (floats, decimals)."""
    for col in DATE_COLUMNS:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).dt.date
    for col in COUNT_COLUMNS:
        if col not in frame.columns:
            continue
        # weighted estimates (category tokens) are floats: publish them rounded
        values = pd.to_numeric(frame[col]).astype("float64").round()
        frame[col] = values.astype("Int64" if values.isna().any() else "int64")
    for col in frame.columns:
        if pd.api.types.is_float_dtype(frame[col]):
            frame[col] = _significant(frame[col])
    return frame.reset_index(drop=True)


SIGNIFICANT_DIGITS = 12


def _significant(values: pd.Series) -> pd.Series:
    """Floats rounded to 12 significant digits: parallel engines sum floats in a varying order, so
    the last bits of a spend or a share change from run to run; published to 12 digits, the same
    data gives the same report, byte for byte."""
    return values.map(lambda v: float(f"{v:.{SIGNIFICANT_DIGITS}g}") if pd.notna(v) else v).astype("float64")
