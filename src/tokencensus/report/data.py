"""View-models of the report: the privacy floor applied, headlines, summary findings and tables.

Everything the templates show is decided here, as plain dataclasses of strings and frames, so that
the templates only loop and escape (coverage.py's html.py does the same). Nothing here depends on
the time of generation: the same results and meta give the same view, byte for byte.

Privacy: a published cell backed by fewer than ``min_users`` distinct users is *suppressed*
(:func:`suppress`): its value columns (and its user count) are blanked and ``suppressed`` is True.
Headlines, tables, charts and CSVs are all computed from the suppressed frames, so nothing below
the floor leaks through them; what a chart draws is a subset of the published rows, never a sum
that would fold suppressed cells back in.

Each figure (its headline, table columns, chart kind) is declared in its module of :mod:`.figures`;
the sentences' shared parts are in :mod:`.headlines`, the tables' in :mod:`.tables`, the colours in
:mod:`.colors`; their public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import pandas as pd

from tokencensus import settings
from tokencensus.analyses.costs import requadrant
from tokencensus.definitions import WINDOW_WEEKS
from tokencensus.report.colors import entity_colors
from tokencensus.report.disclosure import PROTECTION, Protection, protect, rerank
from tokencensus.report.figure import NO_MODEL, OTHER, Figure, Period, Section, Series
from tokencensus.report.figures import FIGURES, FIGURES_BY_ID, FINDINGS, MAX_FINDINGS, SECTIONS
from tokencensus.report.headlines import Caveat, Windows, headline, window_share, windows
from tokencensus.report.numbers import fmt_count, fmt_int, fmt_pct, fmt_ratio
from tokencensus.report.privacy import (
    KEY_COLUMNS,
    SUPPRESSED,
    below_floor,
    suppress,
    suppression_note,
    users_word,
)
from tokencensus.report.tables import Table, figure_table

__all__ = [
    "FIGURES",
    "FIGURES_BY_ID",
    "KEY_COLUMNS",
    "OTHER",
    "SECTIONS",
    "SUPPRESSED",
    "WINDOW_WEEKS",
    "Fact",
    "Figure",
    "FigureView",
    "Finding",
    "Period",
    "ReportMeta",
    "ReportView",
    "Section",
    "SectionView",
    "Series",
    "Table",
    "Windows",
    "figure_view",
    "fmt_count",
    "fmt_int",
    "fmt_pct",
    "fmt_ratio",
    "headline",
    "report_view",
    "suppress",
    "suppression_note",
    "window_share",
    "windows",
]

LEADERBOARD_WEEKS = 12
"""The leaderboard chart follows the last week's leaders over this many weeks."""


@dataclass(frozen=True)
class ReportMeta:
    """Facts about the whole report: its period, data size, and privacy floor.

    Deliberately holds nothing about when the report was generated, so output is deterministic.
    """

    period_start: date
    period_end: date
    requests: int
    tokens: int
    users: int
    models: int
    providers: int
    unresolved_share: float
    """Share of tokens whose model could not be resolved to a catalog entry."""
    min_users: int
    """The privacy floor k: cells backed by fewer distinct users are suppressed."""
    protection: float = PROTECTION
    """p of complementary suppression (:mod:`.disclosure`): no suppressed cell can be worked out to
    within ±p of its value; 0 hides only the cells under the floor."""
    source: str = ""
    title: str = settings.TITLE.default
    org: str = ""
    """Whose traffic the report describes (``--org``); empty: not said."""


@dataclass(frozen=True)
class FigureView:
    """One figure as shown: definition, headline, the published (suppressed) frame and a table."""

    figure: Figure
    headline: str
    frame: pd.DataFrame = field(repr=False)
    """The data the figure shows after suppression, in deterministic order: this is its CSV."""
    categories: tuple[str, ...]
    """Categories the chart draws, in legend/stack order (empty for figures without categories)."""
    n_suppressed: int
    suppression_note: str
    table: Table
    table_caption: str
    plotted: pd.DataFrame | None = field(default=None, repr=False)
    """The published rows the chart draws (a subset of ``frame``; None: all of :attr:`drawable`)."""
    palette: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The colour of each value the report draws (:func:`~tokencensus.report.colors.entity_colors`):
    empty, the chart picks its own."""

    @property
    def id(self) -> str:
        return self.figure.id

    @property
    def csv_path(self) -> str:
        """Path of the figure's CSV relative to the report."""
        return f"figures/{self.figure.id}.csv"

    @property
    def png_path(self) -> str:
        """Path of the figure's PNG (``--format png``) relative to the report."""
        return f"figures/{self.figure.id}.png"

    @property
    def drawable(self) -> pd.DataFrame:
        """The published rows: suppressed cells are never drawn."""
        return self.frame[~self.frame[SUPPRESSED].astype(bool)]

    @property
    def chart_rows(self) -> pd.DataFrame:
        """The rows the chart draws."""
        return self.drawable if self.plotted is None else self.plotted

    @property
    def is_finding(self) -> bool:
        """Whether the headline states a finding (not a caveat about missing or suppressed data)."""
        return bool(self.headline) and not isinstance(self.headline, Caveat)


@dataclass(frozen=True)
class Fact:
    """One line of the summary block; ``wide`` facts are sentences rather than numbers."""

    label: str
    value: str
    wide: bool = False


@dataclass(frozen=True)
class Finding:
    """A key finding of the summary: a figure's headline, linking to the figure."""

    figure_id: str
    text: str


@dataclass(frozen=True)
class SectionView:
    """One section of the study with the figures it has in this report."""

    section: Section
    figures: tuple[FigureView, ...]

    @property
    def id(self) -> str:
        return self.section.id


@dataclass(frozen=True)
class ReportView:
    """The whole report: summary facts, key findings and the figures, in order and by section."""

    meta: ReportMeta
    summary: tuple[Fact, ...]
    figures: tuple[FigureView, ...]
    n_suppressed: int
    findings: tuple[Finding, ...] = ()
    sections: tuple[SectionView, ...] = ()


# ---------------------------------------------------------------- view-models


def report_view(results: Mapping[str, pd.DataFrame], meta: ReportMeta) -> ReportView:
    """Build every figure present in ``results`` (in report order) and the summary block.

    Keys of ``results`` that are not in :data:`FIGURES` are ignored; missing keys skip their figure.
    """
    period = (meta.period_start, meta.period_end)
    ordered = {fig.id: _ordered(fig, results[fig.id]) for fig in FIGURES if fig.id in results}
    protection = protect(ordered, meta.min_users, meta.protection)
    figures = tuple(
        figure_view(fig, ordered[fig.id], meta.min_users, period, protection)
        for fig in FIGURES
        if fig.id in ordered
    )
    palette = entity_colors(f.categories for f in figures)
    figures = tuple(replace(f, palette=palette) for f in figures)
    n_suppressed = sum(f.n_suppressed for f in figures)
    sections = tuple(
        SectionView(section, tuple(f for f in figures if f.figure.section == section.id))
        for section in SECTIONS
    )
    return ReportView(
        meta=meta,
        summary=summary(meta, n_suppressed, len({(e.figure, e.row) for e in protection.exposures})),
        figures=figures,
        n_suppressed=n_suppressed,
        findings=findings(figures),
        sections=tuple(s for s in sections if s.figures),
    )


def findings(figures: Sequence[FigureView], limit: int = MAX_FINDINGS) -> tuple[Finding, ...]:
    """The summary's key findings: the headlines of :data:`FINDINGS` that state one, best first."""
    by_id = {f.id: f for f in figures}
    picked = [by_id[fid] for fid in FINDINGS if fid in by_id and by_id[fid].is_finding]
    return tuple(Finding(f.id, f.headline) for f in picked[:limit])


def summary(meta: ReportMeta, n_suppressed: int, exposed: int = 0) -> tuple[Fact, ...]:
    """The summary block: period, data size, unresolved share and the privacy floor (with the
    number of hidden cells that stay ``exposed`` to the summary's own totals, if any)."""
    floor = (
        f"cells backed by fewer than {meta.min_users} distinct {users_word(meta.min_users)} are suppressed"
    )
    if meta.protection > 0:
        floor += (
            f", with further cells so that none of them can be worked out to within ±{meta.protection:.0%} "
            "from the report's totals, shares and other figures (not covered: distinct-user counts, "
            "medians and other derived statistics, and comparing reports of other periods or floors)"
        )
    cells = f"{n_suppressed} {'cell' if n_suppressed == 1 else 'cells'} suppressed in this report"
    if exposed:
        cells += (
            f"; {exposed} of them can still be worked out from published totals (hiding more cells "
            "could not prevent it)"
        )
    items = [
        Fact("Period", f"{meta.period_start.isoformat()} to {meta.period_end.isoformat()}", wide=True),
        Fact("Requests", fmt_count(meta.requests)),
        Fact("Tokens", fmt_count(meta.tokens)),
        Fact("Users", fmt_count(meta.users)),
        Fact("Models", fmt_int(meta.models)),
        Fact("Providers", fmt_int(meta.providers)),
        Fact("Unresolved models", f"{fmt_pct(meta.unresolved_share)} of tokens"),
        Fact("Privacy floor", f"{floor} ({cells})", wide=True),
    ]
    if meta.source:
        items.append(Fact("Source", meta.source, wide=True))
    return tuple(items)


def figure_view(
    fig: Figure,
    raw: pd.DataFrame,
    min_users: int,
    period: Period | None = None,
    protection: Protection | None = None,
) -> FigureView:
    """Suppress, order and describe one figure's frame; weekly headlines compare the first and last
    calendar weeks of ``period`` (None: of the frame's own weeks).

    ``protection`` (:func:`~tokencensus.report.disclosure.protect` over every figure of the report)
    adds the complementary cells; without it only the cells under the floor are hidden. A ranking
    drops its hidden rows and ranks the rest again (:func:`~tokencensus.report.disclosure.rerank`).
    """
    frame = _ordered(fig, raw)
    primary = below_floor(frame["users"], min_users) if "users" in frame else None
    hidden = protection.hidden.get(fig.id) if protection else None
    blanked = protection.blanked.get(fig.id) if protection else None
    if fig.kind == "scatter" and primary is not None:  # medians over the published points only
        frame = requadrant(frame, ~(primary if hidden is None else hidden | primary))
    if fig.kind in ("ranking", "leaderboard") and primary is not None:
        mask = primary if hidden is None else hidden | primary
        frame, n_hidden = rerank(frame, mask, fig.kind == "leaderboard"), int(mask.sum())
        frame, _ = suppress(frame, min_users)
        n_primary = int(primary.sum())
    else:
        frame, n_hidden = suppress(frame, min_users, hidden, blanked)
        n_primary = int(primary.sum()) if primary is not None else n_hidden
    categories = category_order(fig, frame)
    rows, drawn = plotted(fig, frame, categories)
    table, caption = figure_table(fig, frame, rows, drawn)
    return FigureView(
        figure=fig,
        headline=headline(fig, frame, drawn, period),
        frame=frame,
        categories=drawn,
        n_suppressed=n_hidden,
        suppression_note=suppression_note(
            n_hidden, min_users, n_primary, fig.kind in ("ranking", "leaderboard")
        ),
        table=table,
        table_caption=caption,
        plotted=rows,
    )


_SORT_KEYS = ("model", "cohort", "k", "rank", "from_model", "to_model")


def _ordered(fig: Figure, raw: pd.DataFrame) -> pd.DataFrame:
    """Dates as dates and rows in a fixed order: by period, segment and category, then by model,
    cohort, month since first use, rank; rankings by rank."""
    frame = raw.copy()
    for col in ("week", "month", "cohort", "launch_cohort"):
        if col in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.date
    if fig.kind == "ranking":
        keys = ["rank", "model"]
    elif fig.kind == "leaderboard":
        keys = ["week", "rank"]
    else:
        keys = ["week", "month", "segment", fig.bars, fig.category or "", *_SORT_KEYS]
    keys = list(dict.fromkeys(c for c in keys if c and c in frame.columns))
    if keys:
        frame = frame.sort_values(keys, kind="stable")
    return frame.reset_index(drop=True)


def _weights(frame: pd.DataFrame, category: str) -> pd.Series:
    """Size of each category by published tokens (users at month 0 for retention frames)."""
    published = frame[~frame[SUPPRESSED].astype(bool)]
    if "tokens" in published.columns:
        weight = published["tokens"]
    else:
        if "k" in published.columns:
            published = published[published["k"] == 0]
        weight = published["users"]
    return weight.astype("float64").groupby(published[category].astype(str)).sum()


def category_order(fig: Figure, frame: pd.DataFrame) -> tuple[str, ...]:
    """Known categories in their order, then the rest by published size (desc, then name), then
    the trailing ones (Unknown, Other)."""
    if fig.category is None or frame.empty or fig.category not in frame.columns:
        return ()
    present = set(frame[fig.category].astype(str))
    totals = _weights(frame, fig.category)
    rest = sorted(
        (c for c in present if c not in fig.order and c not in fig.trailing),
        key=lambda c: (-float(totals.get(c, 0) or 0), c),
    )
    known = [c for c in fig.order if c in present]
    trailing = [c for c in fig.trailing if c in present]
    return tuple(known + rest + trailing)


def plotted(
    fig: Figure, frame: pd.DataFrame, categories: tuple[str, ...]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The published rows the chart draws and the categories among them, in order.

    Large frames are cut to what a reader can see (the top authors, the last month's top
    countries, the largest flows, three models' cohorts); nothing is merged or summed, so a chart
    never shows a total that would include a suppressed cell. The CSV keeps every row.
    """
    rows = frame[~frame[SUPPRESSED].astype(bool)]
    kind, top = fig.kind, fig.top
    if kind == "share" and top:
        drawn = tuple(c for c in categories if c not in fig.trailing)[:top]
        return rows[rows[fig.category].astype(str).isin(drawn)], drawn
    if kind == "leaderboard":
        if rows.empty:
            return rows, ()
        last = max(frame["week"])
        leaders = rows[rows["week"] == last].sort_values("rank", kind="stable")["model"].astype(str)
        weeks = sorted(set(frame["week"]))[-LEADERBOARD_WEEKS:]
        kept = rows[rows["week"].isin(weeks) & rows["model"].astype(str).isin(set(leaders))]
        return kept, tuple(leaders)
    if kind == "bars":
        name = fig.category or ""
        if "month" in rows.columns and not frame.empty:  # the last month only
            rows = rows[rows["month"] == max(frame["month"])]
        ordered = rows.sort_values([fig.value, name], ascending=[False, True], kind="stable")
        ordered = ordered.head(top) if top else ordered
        return ordered, tuple(ordered[name].astype(str))
    if kind == "category_lines":  # the first categories in order (the known ones, then the largest)
        drawn = categories[:top] if top else categories
        return rows[rows[fig.category].astype(str).isin(drawn)], drawn
    if kind == "stacked_bars" and top:  # the bars with most published tokens
        sizes = rows.groupby(rows[fig.bars].astype(str))["tokens"].sum()
        bars = sorted(sizes.index, key=lambda b: (-float(sizes[b]), b))[:top]
        kept = rows[rows[fig.bars].astype(str).isin(bars)]
        order = {b: i for i, b in enumerate(bars)}
        kept = kept.sort_values(fig.bars, key=lambda col: col.astype(str).map(order), kind="stable")
        return kept, categories
    if kind == "intervals":
        published = set(rows[fig.category or ""].astype(str))
        return rows, tuple(c for c in categories if c in published)
    if kind == "scatter":
        kept = rows[(rows["price_per_1m"] > 0) & (rows["tokens"] > 0)]
        return kept, ()
    if kind == "heatmap":
        present = set(rows["model"].astype(str))
        models = tuple(c for c in categories if c in present)[:top]
        return rows[rows["model"].astype(str).isin(models)], models
    if kind == "cohorts":  # foundational models first, then boomerangs, then the largest
        rows = rows[~rows["left_censored"].astype(bool)]
        flagged = rows.groupby(rows["model"].astype(str))[["foundational", "boomerang"]].max()
        rank = {c: i for i, c in enumerate(categories)}
        followed = sorted(
            flagged.index,
            key=lambda m: (not flagged.at[m, "foundational"], not flagged.at[m, "boomerang"], rank.get(m, 0)),
        )[:top]
        return rows[rows["model"].astype(str).isin(followed)], tuple(followed)
    if kind == "flags":
        kept = rows[rows[fig.value].notna() & (rows[fig.value] > 0)]
        kept = kept.sort_values([fig.value, "model"], ascending=[False, True], kind="stable")
        kept = kept.head(top) if top else kept
        return kept, tuple(kept["model"].astype(str))
    if kind == "flows":
        kept = rows[rows["to_model"] != NO_MODEL]
        kept = kept.sort_values(
            ["churns", "from_model", "to_model"], ascending=[False, True, True], kind="stable"
        )
        return (kept.head(top) if top else kept), ()
    return rows, categories
