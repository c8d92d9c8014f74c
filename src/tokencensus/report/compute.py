"""Compute step of the report: the report's planner. It runs each figure's analysis on the
report's sources and brings the results home.

This is the only place the report executes Ibis expressions; everything after works on plain
pandas frames (view-models are built from them in :mod:`tokencensus.report.data`). The figures and
what each one reads are declared in :mod:`tokencensus.report.figures`; the shared rollups they
read are built once by :func:`tokencensus.report.sources.sources`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

import ibis.expr.types as ir
import pandas as pd

from tokencensus.engine import Tables
from tokencensus.report.data import ReportMeta
from tokencensus.report.figure import Options
from tokencensus.report.numbers import significant
from tokencensus.report.sources import Sources, as_date, sources

logger = logging.getLogger(__name__)

Analysis = Callable[[Sources], ir.Table]


def figure_analyses(top_n: int = 10, min_users: int = 1, labels: bool = False) -> dict[str, Analysis]:
    """The analyses behind the report's figures, keyed by figure id, in report order: the figures
    that need no labels, and with ``labels`` also those that read the classifier's labels.

    They read the :class:`Sources` built for the same ``top_n``. Pooled retention (curves, the
    glass slipper's later cohorts, boomerangs) pools only cohorts of at least ``min_users`` users,
    the privacy floor: a pooled figure over a hidden cohort, minus the published cohorts, would give
    the hidden one back.
    """
    from tokencensus.report.figures import FIGURES

    options = Options(top_n=top_n, min_users=min_users)

    def bind(fig_data: Callable[[Sources, Options], ir.Table]) -> Analysis:
        return lambda src: fig_data(src, options)

    return {fig.id: bind(fig.data) for fig in FIGURES if labels or not fig.labels}


def analyses_for(src: Sources, top_n: int = 10, min_users: int = 1) -> dict[str, Analysis]:
    """The figures ``src`` has data for, in report order: every figure, and the category figures
    when the lake has labels."""
    return figure_analyses(top_n, min_users, labels=src.labels is not None)


def run(
    src: Sources, todo: Mapping[str, Analysis], timings: dict[str, float] | None = None
) -> dict[str, pd.DataFrame]:
    """Execute each analysis of ``todo`` on ``src``: its frame, tidied, by figure id (``timings``
    receives each one's seconds)."""
    results = {}
    for name, analysis in todo.items():
        start = time.perf_counter()
        results[name] = tidy(analysis(src).to_pandas())
        logger.debug("figure %s: %.2f s", name, time.perf_counter() - start)
        if timings is not None:
            timings[name] = time.perf_counter() - start
    return results


def compute(
    tables: Tables,
    *,
    min_users: int,
    top_n: int = 10,
    source: str = "",
    timings: dict[str, float] | None = None,
) -> tuple[dict[str, pd.DataFrame], ReportMeta]:
    """Execute every figure's analysis and the summary numbers; return frames and report metadata.

    ``timings``, when given, receives the seconds each step took (the rollup passes of
    :func:`sources`, then each figure id), for bench/bench_report.py.
    """
    src = sources(tables, top_n, timings)
    results = run(src, analyses_for(src, top_n, min_users), timings)
    start = time.perf_counter()
    meta = summarize(src.cells, min_users=min_users, source=source, users=src.total_users)
    if timings is not None:
        timings["(summary)"] = time.perf_counter() - start
    return results, meta


def summarize(
    cells: ir.Table,
    *,
    min_users: int,
    source: str = "",
    users: int | None = None,
) -> ReportMeta:
    """The summary block: period, data size and the share of tokens whose model is unresolved.

    ``cells`` is the events or their rollup (:func:`tokencensus.analyses.rollups.model_cube`,
    with ``day_min``/``day_max`` and no user ids: then ``users`` gives the distinct users).
    """
    rollup = "day_min" in cells.columns
    unresolved = cells.tokens.sum(where=~cells.resolved)
    row = (
        cells.aggregate(
            period_start=cells.day_min.min() if rollup else cells.ts.min().date(),
            period_end=cells.day_max.max() if rollup else cells.ts.max().date(),
            requests=cells.requests.sum(),
            tokens=cells.tokens.sum(),
            unresolved=unresolved,
            models=cells.model.nunique(),
            providers=cells.provider.nunique(),
            **({} if users is not None else {"users": cells.user_id.nunique()}),
        )
        .to_pandas()
        .iloc[0]
    )
    tokens = int(row["tokens"] or 0)
    return ReportMeta(
        period_start=as_date(row["period_start"]),
        period_end=as_date(row["period_end"]),
        requests=int(row["requests"]),
        tokens=tokens,
        users=int(users if users is not None else row["users"]),
        models=int(row["models"]),
        providers=int(row["providers"]),
        unresolved_share=float(row["unresolved"] or 0) / tokens if tokens else 0.0,
        min_users=min_users,
        source=source,
    )


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


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
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
            frame[col] = significant(frame[col])
    return frame.reset_index(drop=True)
