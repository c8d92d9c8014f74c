"""What a report figure is: :class:`Figure`, the one shape every figure module of
:mod:`tokencensus.report.figures` fills in.

A figure declares everything the report does with it: its data (the analysis it runs on the
report's shared rollups, :class:`~tokencensus.report.sources.Sources`), the users behind its weekly
cells when they come from the shared weekly-users pass (``segment``), its headline, its table
columns, its chart (``kind`` and the fields the chart reads), its method note, and the sums a reader
knows about its cells (``partitions``, for complementary suppression). The registry
(:mod:`tokencensus.report.figures`) lists the figures in report order; compute, render and the
dashboard iterate over it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tokencensus.report.sources import Sources

OTHER = "Other"
"""The top-models frames' label for every model outside the top N."""

NO_MODEL = "(none)"
"""The churn flows' ``to_model`` when a churned user used no other model the next month."""

Period = tuple[date, date]
"""A report's first and last day (:class:`~tokencensus.report.data.ReportMeta`'s period)."""


@dataclass(frozen=True)
class Section:
    """One part of the study: an anchor id and a heading."""

    id: str
    title: str


@dataclass(frozen=True)
class Series:
    """One line of a "lines" figure: the frame column it draws and its legend label."""

    column: str
    label: str
    axis: str = ""
    """The title of the series' own axis, on the right, for a measure on another scale than the
    others (the HHI beside shares); empty: the chart's shared axis."""


@dataclass(frozen=True)
class Options:
    """The report's options a figure's data may depend on."""

    top_n: int = 10
    """How many models the model rankings (and the followed models) hold."""
    min_users: int = 1
    """The privacy floor: pooled retention pools only cohorts this large."""


@dataclass(frozen=True)
class Partition:
    """The figure's cells of each group of ``keys`` sum to a total a reader knows, for each of
    ``columns``: through the shares of its published cells (``via_shares``), or always (another
    figure or the summary states it). See :mod:`tokencensus.report.disclosure`."""

    keys: tuple[str, ...]
    columns: tuple[str, ...]
    why: str
    via_shares: bool = True


Format = Callable[[Any], str]
Column = tuple[str, str, Format]
"""A table column: (frame column, header, formatter)."""

Data = Callable[["Sources", Options], "ir.Table"]
"""A figure's analysis over the report's sources: an Ibis expression (its frame once executed)."""


@dataclass(frozen=True)
class Shown:
    """What a headline may need besides its figure's published frame."""

    period: Period | None = None
    """The report's first and last day, whose first and last calendar weeks a weekly headline
    compares (None: the frame's own first to last week)."""
    drawn: tuple[str, ...] = ()
    """The categories the chart draws, in order."""


Headline = Callable[[pd.DataFrame, Shown], str]
"""A figure's one-sentence finding from its published (suppressed) frame."""


def on_period(sentence: Callable[[pd.DataFrame, Period | None], str]) -> Headline:
    """A headline comparing the first and last weeks of the report's period."""
    return lambda frame, shown: sentence(frame, shown.period)


def on_frame(sentence: Callable[[pd.DataFrame], str]) -> Headline:
    """A headline from the published frame alone."""

    def headline(frame: pd.DataFrame, _shown: Shown) -> str:
        return sentence(frame)

    return headline


@dataclass(frozen=True)
class Leaders:
    """The report's model ranking, which a segment label may use."""

    n: int
    """The report's ``top_n``."""
    models: tuple[str, ...]
    """The ``n`` models with most tokens over the period."""


SegmentLabel = Callable[["ir.Table", Leaders], "ir.Value"]
"""A weekly figure's segment of each row of the sums cube (null: in none); the weekly-users pass
counts each segment's users."""


@dataclass(frozen=True)
class Figure:
    """One figure of the report.

    Chart kinds (:mod:`tokencensus.report.charts`): "volume" (weekly stacked bars), "share" (weekly
    stacked area of ``value`` by ``category``), "ranking" (bars of the top models), "leaderboard"
    (rank lines + a table of the last week), "lines" (weekly lines of ``series`` columns), "bars"
    (horizontal bars of ``value`` per ``category``), "category_lines" (weekly or monthly lines
    of ``value``, one per ``category``), "stacked_bars" (a mix per ``bars``: segment,
    author), "scatter" (log–log price vs usage), "intervals" (raw and corrected shares per
    ``category`` with their intervals), "curves" (retention by month since first use), "heatmap"
    (cohort × month retention), "cohorts" (a panel per model, a retention line per cohort), "flags"
    (bars of ``value`` per model, flagged ones highlighted) and "flows" (bars of churn flows).
    """

    id: str
    """The key of its frame in the results and the name of its CSV."""
    title: str
    section: str
    kind: str
    note: str
    """The method note: how each number is defined."""
    data: Data
    headline: Headline | None = None
    labels: bool = False
    """It reads the classifier's labels: only a lake with labels has it."""
    segment: SegmentLabel | None = None
    """Its weekly cells' users come from the shared weekly-users pass, by this segment label."""
    columns: tuple[Sequence[Column], Sequence[Column]] | None = None
    """Its table's (key columns, value columns), one row per drawn row; None: its kind's table."""
    partitions: tuple[Partition, ...] = ()
    category: str | None = None
    """Column holding the colour/label category, or None."""
    value: str = "share"
    """The measured column a share, bars or flags chart draws."""
    order: tuple[str, ...] = ()
    """Known categories in legend/stack order, others following by size; for "stacked_bars" the
    order of the bars (segments)."""
    trailing: tuple[str, ...] = ()
    """Categories kept last whatever their size (Unknown, Other)."""
    series: tuple[Series, ...] = ()
    """The columns a "lines" figure draws."""
    percent: bool = True
    """The measure is a share (percent axis) rather than a count."""
    log: bool = False
    """Draw the measure on a log scale."""
    top: int = 0
    """Draw only this many categories (rows, flows, models); 0 draws all. The CSV keeps every row."""
    table_open: bool = False
    """The table is the figure's main content: shown open rather than folded away."""
    bars: str = "segment"
    """The column whose values are the bars of a "stacked_bars" chart."""
    axis: str = ""
    """The measure's axis title where the kind's own does not fit (a ranking's share)."""
    caption: str = ""
    """The caption of a table of ``columns`` (a ranking's: what it ranks over)."""
