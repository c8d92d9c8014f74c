"""Compute step of the report: run the analyses on an engine and bring the results home.

This is the only place the report executes Ibis expressions; everything after works on plain
pandas frames (view-models are built from them in :mod:`tokencensus.report.data`).

The analyses read :class:`Sources`, built once per report by :func:`sources`: the request events,
the shared rollups the analyses read instead of rescanning the events (see
:mod:`tokencensus.analyses.rollup`), and the labelled requests when the lake has labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.engine import Tables
from tokencensus.report.data import ReportMeta


@dataclass(frozen=True)
class Sources:
    """What the report's analyses read, all on one backend connection."""

    events: ir.Table
    """Enriched events, one row per request (per-request quantiles need them)."""
    rollup: ir.Table
    """Events pre-aggregated per (week, month, model, user, country, finish reason, priced): the
    same columns as ``events`` with ``requests`` as the weight; every sum and distinct-user count
    the analyses take over it equals the one over ``events``."""
    activity: ir.Table
    """The (model, user, month) activity rollup of the retention analyses."""
    labels: ir.Table | None = None
    labelled: ir.Table | None = None
    """Enriched events of the labelled requests only (events ⋈ labels on request_id)."""


Analysis = Callable[[Sources], ir.Table]


def sources(tables: Tables) -> Sources:
    """The report's sources over ``tables``: events, rollups and labelled events."""
    events = tables.events
    rollup = events
    activity = analyses.monthly_activity(events)
    labelled = None
    if tables.labels is not None:
        labelled = events
    return Sources(events=events, rollup=rollup, activity=activity, labels=tables.labels, labelled=labelled)


def figure_analyses(top_n: int = 10) -> dict[str, Analysis]:
    """The analyses behind the report's figures, keyed by figure id, in report order."""
    n_curves = min(top_n, 5)
    return {
        # volume
        "volume": lambda s: analyses.weekly_volume(s.rollup),
        # open vs closed, origin, authors, models
        "share_open": lambda s: analyses.share_open(s.rollup),
        "share_origin": lambda s: analyses.share_origin(s.rollup),
        "share_author": lambda s: analyses.share_author(s.rollup),
        "top_models": lambda s: analyses.top_models(s.rollup, n=top_n, weeks=4),
        "top_models_weekly": lambda s: analyses.top_models_weekly(s.rollup, n=top_n),
        "leaderboard": lambda s: analyses.leaderboard(s.rollup, n=top_n),
        "open_concentration": lambda s: analyses.open_concentration(s.rollup),
        "share_new_models": lambda s: analyses.share_new_models(s.rollup, 90),
        # size
        "share_size": lambda s: analyses.share_size(s.rollup),
        # agentic use
        "share_reasoning": lambda s: analyses.share_reasoning(s.rollup),
        "reasoning": lambda s: analyses.reasoning_weekly(s.rollup),
        "tool_calls": lambda s: analyses.tool_calls_weekly(s.rollup),
        "lengths": lambda s: analyses.lengths_weekly(s.events),
        # geography
        "geo_continent": lambda s: analyses.region_share(s.rollup, "continent", "week"),
        "geo_country": lambda s: analyses.region_share(s.rollup, "country", "month"),
        # cost vs usage
        "cost_vs_usage": lambda s: analyses.model_costs(s.rollup),
        # retention
        "retention_curves": lambda s: analyses.retention_curves(s.rollup, n_curves, s.activity),
        "retention_triangle": lambda s: analyses.retention_triangle(s.rollup, s.activity),
        "glass_slipper": lambda s: analyses.foundational_cohorts(s.rollup, activity=s.activity),
        "boomerang": lambda s: analyses.boomerangs(s.rollup, activity=s.activity),
        "churn_flows": lambda s: analyses.churn_flows(s.rollup, s.activity),
    }


def label_analyses() -> dict[str, Analysis]:
    """The figures that need the classifier's labels (Sources.labels is set)."""

    def lab(s: Sources) -> tuple[ir.Table, ir.Table]:
        assert s.labelled is not None and s.labels is not None
        return s.labelled, s.labels

    return {
        "share_category": lambda s: analyses.category_share(*lab(s), population=s.rollup).rename(
            segment="category"
        ),
        "category_segments": lambda s: analyses.mix_by_segment(*lab(s), population=s.rollup),
        "category_costs": lambda s: analyses.category_costs(*lab(s)),
        "language": lambda s: analyses.language_share(*lab(s), population=s.rollup),
    }


def compute(
    tables: Tables, *, min_users: int, top_n: int = 10, source: str = ""
) -> tuple[dict[str, pd.DataFrame], ReportMeta]:
    """Execute every figure's analysis and the summary numbers; return frames and report metadata."""
    src = sources(tables)
    todo = figure_analyses(top_n)
    if src.labels is not None:
        todo |= label_analyses()
    results = {name: _tidy(analysis(src).to_pandas()) for name, analysis in todo.items()}
    return results, summarize(src.rollup, min_users=min_users, source=source)


def summarize(events: ir.Table, *, min_users: int, source: str = "") -> ReportMeta:
    """The summary block: period, data size and the share of tokens whose model is unresolved.

    ``events`` is the events or their rollup (whose ``ts_first`` / ``ts`` hold each cell's first and
    last request time).
    """
    first = events["ts_first"] if "ts_first" in events.columns else events.ts
    unresolved = events.tokens.sum(where=~events.resolved)
    row = (
        events.aggregate(
            period_start=first.min().date(),
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
COUNT_COLUMNS = ("requests", "input_tokens", "output_tokens", "tokens", "users", "rank", "k")


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Weeks, months and cohorts as datetime.date, integer counts as int64 (backends differ in what
    they return)."""
    for col in DATE_COLUMNS:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).dt.date
    for col in COUNT_COLUMNS:
        if col in frame.columns and not frame[col].isna().any():
            # weighted estimates (category tokens) are floats: publish them rounded
            frame[col] = frame[col].round().astype("int64")
    return frame.reset_index(drop=True)
