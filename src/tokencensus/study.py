"""The study over a lake, for notebooks and programs: every figure of the report as a DataFrame or
an Ibis expression, and the report itself.

>>> import tokencensus as tc
>>> study = tc.Lake("lake").study(min_users=50)          # doctest: +SKIP
>>> study.figure("share_open")                             # doctest: +SKIP

A :class:`Study` opens the lake on its engine once and computes lazily. The first figure asked for
runs the report's rollup passes over the requests (most of a report's time) and keeps them; then
one figure's raw frame or expression is cheap. A *published* figure or the report computes every
figure once (the privacy floor protects cells across figures, so one figure's published cells
depend on the others) and keeps the results. Close it (or use it in a ``with``) to free the engine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tokencensus import settings
from tokencensus.definitions import MIN_USERS
from tokencensus.errors import ConfigError
from tokencensus.lake import Lake

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    import pyarrow as pa

    from tokencensus.engine import Tables
    from tokencensus.report import ReportOutput
    from tokencensus.report.compute import Analysis
    from tokencensus.report.data import ReportMeta, ReportView
    from tokencensus.report.sources import Sources


class Study:
    """The report's figures over one lake, on one engine, under one privacy floor.

    ``backend`` is the query engine (``duckdb`` or ``pyspark``); ``min_users`` the privacy floor k
    (published cells are backed by at least this many distinct users); ``top_n`` how many models the
    model rankings follow; ``catalog`` replaces the packaged model catalog (an Arrow table in its
    schema); ``period`` keeps only the requests of those UTC days (:func:`parse_period`: a
    ``(start, end)`` pair, either None for an open end, or ``"START..END"``); ``title`` and ``org``
    head the report.
    """

    def __init__(
        self,
        lake: Lake | str | Path,
        *,
        backend: str = "duckdb",
        min_users: int = MIN_USERS,
        top_n: int = 10,
        catalog: pa.Table | None = None,
        period: str | tuple[date | None, date | None] = "",
        title: str = settings.TITLE.default,
        org: str = "",
    ) -> None:
        self.lake = lake if isinstance(lake, Lake) else Lake(lake, create=False)
        self.backend = backend
        self.min_users = min_users
        self.top_n = top_n
        self.period = parse_period(period) if isinstance(period, str) else period
        self.title = title
        self.org = org
        self._catalog = catalog
        self._raw: dict[str, pd.DataFrame] = {}

    def __repr__(self) -> str:
        return f"Study({str(self.lake.root)!r}, backend={self.backend!r}, min_users={self.min_users})"

    # -- the engine ----------------------------------------------------------------------------
    @cached_property
    def tables(self) -> Tables:
        """The lake opened on the engine: enriched events, the catalog and the labels."""
        from tokencensus.engine import on_days, open_lake

        tables = open_lake(self.lake, backend=self.backend, catalog=self._catalog)
        if self.period == (None, None):
            return tables
        base = on_days(tables.base, *self.period) if tables.base is not None else None
        return dataclasses.replace(tables, events=on_days(tables.events, *self.period), base=base)

    @property
    def events(self) -> ir.Table:
        """The enriched events (one row per request, with the catalog's columns and the study's
        segments): what every analysis of :mod:`tokencensus.analyses` takes."""
        return self.tables.events

    @cached_property
    def _sources(self) -> Sources:
        from tokencensus.report.sources import sources

        return sources(self.tables, self.top_n)

    @cached_property
    def _analyses(self) -> dict[str, Analysis]:
        from tokencensus.report.compute import analyses_for

        return analyses_for(self._sources, self.top_n, self.min_users)

    # -- figures -------------------------------------------------------------------------------
    @property
    def figures(self) -> tuple[str, ...]:
        """The ids of the figures this lake has, in report order (the category figures only when
        the lake has labels: ``tokencensus classify``)."""
        return tuple(self._analyses)

    def expr(self, figure: str) -> ir.Table:
        """The Ibis expression the report executes for ``figure``, over the study's materialised
        rollups (``.to_pandas()``, ``.to_pyarrow()``, or compose it further). The analyses of
        :mod:`tokencensus.analyses` over :attr:`events` are the same definitions, unoptimised;
        ``category_corrected``'s bootstrap runs in NumPy, so its expression holds the result."""
        return self._analyses[self._known(figure)](self._sources)

    def figure(self, figure: str, *, published: bool = True) -> pd.DataFrame:
        """One figure's frame. ``published`` (the default): as the report publishes it, cells below
        the privacy floor (and the cells that would give them away) blanked, the figure's CSV row
        for row. ``published=False``: the raw result, for the lake's owner only."""
        figure = self._known(figure)
        if not published:
            if figure not in self._raw:
                from tokencensus.report.compute import tidy

                self._raw[figure] = tidy(self.expr(figure).to_pandas())
            return self._raw[figure].copy()
        views = {f.id: f for f in self._view.figures}
        if figure not in views:
            raise ConfigError(f"figure {figure!r} has no data in this lake, so the report leaves it out")
        return views[figure].frame.copy()

    def results(self) -> dict[str, pd.DataFrame]:
        """Every figure's raw frame, by id (for the lake's owner: nothing is suppressed)."""
        return {fid: frame.copy() for fid, frame in self._results.items()}

    @cached_property
    def meta(self) -> ReportMeta:
        """The summary: period, requests, tokens, users, models, the privacy floor."""
        from tokencensus.report.compute import summarize

        src = self._sources
        meta = summarize(
            src.cells, min_users=self.min_users, source=str(self.lake.root), users=src.total_users
        )
        return dataclasses.replace(meta, title=self.title, org=self.org)

    def report(self, out: str | Path, formats: Sequence[str] = ("html",)) -> ReportOutput:
        """Write the report to ``out`` (``report.html``, ``figures/*.csv``; ``formats`` adds md,
        json and png) and say what was written."""
        from tokencensus.report import build_report

        results, meta = self._computed
        return build_report(results, meta, Path(out), formats=formats, view=self._view)

    def close(self) -> None:
        """Free the engine (its connection and scratch files); the study is unusable after."""
        if "tables" in self.__dict__:
            disconnect = getattr(self.tables.con, "disconnect", None)
            if disconnect is not None:
                disconnect()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- computed once -------------------------------------------------------------------------
    @cached_property
    def _computed(self) -> tuple[dict[str, pd.DataFrame], ReportMeta]:
        from tokencensus.report.compute import run

        results = run(self._sources, self._analyses)
        self._raw |= results
        return results, self.meta

    @property
    def _results(self) -> dict[str, pd.DataFrame]:
        return self._computed[0]

    @cached_property
    def _view(self) -> ReportView:
        from tokencensus.report.data import report_view

        results, meta = self._computed
        return report_view(results, meta)

    def _known(self, figure: str) -> str:
        if figure not in self._analyses:
            from tokencensus.report.figures import FIGURES_BY_ID

            why = (
                "it needs the classifier's labels: run `tokencensus classify` (Lake.classify) first"
                if figure in FIGURES_BY_ID
                else "choose from " + ", ".join(self._analyses)
            )
            raise ConfigError(f"no figure {figure!r} in this study; {why}")
        return figure


def parse_period(text: str) -> tuple[date | None, date | None]:
    """``"START..END"`` (ISO dates, both inclusive; an end left empty is open) as ``(start, end)``;
    ``""`` is all the data. Raises :class:`ConfigError` saying what a period looks like."""
    text = text.strip()
    if not text:
        return None, None
    first, sep, last = text.partition("..")
    try:
        if not sep:
            raise ValueError
        start = date.fromisoformat(first.strip()) if first.strip() else None
        end = date.fromisoformat(last.strip()) if last.strip() else None
    except ValueError:
        raise ConfigError(
            f"period {text!r} is not START..END with ISO dates (e.g. 2025-01-01..2025-06-30, or "
            "2025-01-01.. for everything from that day)"
        ) from None
    if start is not None and end is not None and end < start:
        raise ConfigError(f"period {text!r} ends before it starts")
    return start, end
