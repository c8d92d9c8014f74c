"""Compute step of the report: run the analyses on an engine and bring the results home.

This is the only place the report executes Ibis expressions; everything after works on plain
pandas frames (view-models are built from them in :mod:`tokencensus.report.data`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.engine import Tables
from tokencensus.report.data import ReportMeta

Analysis = Callable[[ir.Table], ir.Table]


def figure_analyses(top_n: int = 10) -> dict[str, Analysis]:
    """The analyses behind the report's figures, keyed by figure id, in report order."""
    return {
        "volume": analyses.weekly_volume,
        "share_open": analyses.share_open,
        "share_origin": analyses.share_origin,
        "share_size": analyses.share_size,
        "share_reasoning": analyses.share_reasoning,
        "top_models": lambda ev: analyses.top_models(ev, n=top_n, weeks=4),
        "top_models_weekly": lambda ev: analyses.top_models_weekly(ev, n=top_n),
    }


def label_analyses(labels: ir.Table) -> dict[str, Analysis]:
    """The figures that need the classifier's labels."""
    return {"share_category": lambda ev: analyses.category_share(ev, labels).rename(segment="category")}


def compute(
    tables: Tables, *, min_users: int, top_n: int = 10, source: str = ""
) -> tuple[dict[str, pd.DataFrame], ReportMeta]:
    """Execute every figure's analysis and the summary numbers; return frames and report metadata."""
    todo = figure_analyses(top_n)
    if tables.labels is not None:
        todo |= label_analyses(tables.labels)
    results = {name: _tidy(tables.events.pipe(analysis).to_pandas()) for name, analysis in todo.items()}
    return results, summarize(tables.events, min_users=min_users, source=source)


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


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Weeks as datetime.date, integer counts as int64 (backends differ in what they return)."""
    if "week" in frame.columns:
        frame["week"] = pd.to_datetime(frame["week"]).dt.date
    for col in ("requests", "input_tokens", "output_tokens", "tokens", "users", "rank"):
        if col in frame.columns:
            frame[col] = frame[col].astype("int64")
    return frame.reset_index(drop=True)
