"""The small data table under each figure, formatted as strings from the published frame.

A table shows what its chart draws in a readable form (the last weeks, the drawn rows); the figure's
CSV has every row. A suppressed cell reads "suppressed"; a cell with no row reads "–".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from tokencensus.definitions import WINDOW_WEEKS
from tokencensus.report.figure import Column, Figure, Format
from tokencensus.report.names import country_name, language_name
from tokencensus.report.numbers import (
    fmt_count,
    fmt_pct,
    fmt_points,
    fmt_ratio,
    fmt_tokens,
    missing,
)
from tokencensus.report.privacy import SUPPRESSED

NO_ROW = "–"
TABLE_MONTHS = 7
"""Retention tables show months since first use 0 to this − 1."""


@dataclass(frozen=True)
class Table:
    """A small data table, already formatted: header cells and rows of strings."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def as_text(value: object) -> str:
    return "" if missing(value) else str(value)


def as_iso(value: object) -> str:
    return "" if missing(value) else value.isoformat()  # type: ignore[attr-defined]


def as_month(value: object) -> str:
    return "" if missing(value) else value.strftime("%Y-%m")  # type: ignore[attr-defined]


def as_flag(value: object) -> str:
    return "" if missing(value) else ("yes" if value else "no")


def as_ratio(value: object) -> str:
    return "" if missing(value) else fmt_ratio(float(value))  # type: ignore[arg-type]


def as_index(value: object) -> str:
    """A 0–1 index such as the HHI: three decimals."""
    return "" if missing(value) else f"{float(value):.3f}"  # type: ignore[arg-type]


def as_decimal(value: object) -> str:
    return "" if missing(value) else f"{float(value):.1f}"  # type: ignore[arg-type]


def _change(record: Mapping[str, Any]) -> str:
    """Rank change as an arrow: ▲2 climbed, ▼1 fell, = held, new (not ranked the week before)."""
    if record[SUPPRESSED]:
        return SUPPRESSED
    change = record["rank_change"]
    if missing(change):
        return "new"
    change = int(change)
    return "=" if change == 0 else (f"▲{change}" if change > 0 else f"▼{-change}")


def rows_table(frame: pd.DataFrame, keys: Sequence[Column], values: Sequence[Column]) -> Table:
    """One table row per frame row: key cells always, value cells blank-marked when suppressed."""
    rows = []
    for r in frame.to_dict("records"):
        cells = [fmt(r[col]) for col, _, fmt in keys]
        if r[SUPPRESSED]:
            cells += [SUPPRESSED] * len(values)
        else:
            cells += [fmt(r[col]) if col in r else "" for col, _, fmt in values]
        rows.append(tuple(cells))
    return Table(tuple(h for _, h, _ in (*keys, *values)), tuple(rows))


def grid_table(
    frame: pd.DataFrame, row: str, col: str, value: str, rows: Sequence[Any], cols: Sequence[Any], fmt: Format
) -> list[tuple[str, ...]]:
    """A row × column grid of ``value`` (e.g. category × week share)."""
    cells = {(r[row], r[col]): r for r in frame.to_dict("records")}
    out = []
    for key in rows:
        line = [str(key)]
        for c in cols:
            rec = cells.get((key, c))
            line.append(NO_ROW if rec is None else (SUPPRESSED if rec[SUPPRESSED] else fmt(rec[value])))
        out.append(tuple(line))
    return out


def figure_table(
    fig: Figure, frame: pd.DataFrame, plotted: pd.DataFrame, categories: Sequence[str]
) -> tuple[Table, str]:
    """The table of one figure and its caption; ``plotted`` are the rows its chart draws."""
    if frame.empty:
        return Table((), ()), ""
    if fig.columns is not None:
        keys, values = fig.columns
        shown = frame if fig.kind == "ranking" else plotted
        if fig.kind == "scatter":
            shown = shown.sort_values("tokens", ascending=False, kind="stable").head(15)
        noun = {"ranking": fig.caption, "scatter": "The 15 largest by tokens"}
        caption = noun.get(fig.kind, f"The {len(shown)} rows drawn")
        if fig.kind != "ranking":
            caption += "; every row is in the CSV."
        return rows_table(shown, keys, values), caption
    kind = fig.kind
    if kind == "leaderboard":
        return leaderboard_table(frame)
    if kind in ("curves", "heatmap", "cohorts"):
        return retention_table(fig, frame, categories)
    if kind == "bars":
        return bars_table(fig, plotted)
    if kind == "stacked_bars":
        return mix_table(fig, frame, plotted, categories)
    if kind == "intervals":
        return intervals_table(plotted, categories)
    return weekly_table(fig, frame, categories)


def weekly_table(fig: Figure, frame: pd.DataFrame, categories: Sequence[str]) -> tuple[Table, str]:
    """The last weeks: volume columns, lines' series, or a category × week grid of shares (× month
    for a monthly frame)."""
    period = "month" if "month" in frame.columns else "week"
    weeks = sorted(set(frame[period]))[-WINDOW_WEEKS:]
    recent = frame[frame[period].isin(weeks)]
    noun = "month" if period == "month" else "week"
    shown = noun if len(weeks) == 1 else noun + "s"
    caption = f"Last {len(weeks)} {shown} shown; every {noun} is in the CSV."
    if fig.kind == "volume":
        values: list[Column] = [
            ("requests", "Requests", fmt_count),
            ("input_tokens", "Input tokens", fmt_count),
            ("output_tokens", "Output tokens", fmt_count),
            ("tokens", "Tokens", fmt_count),
            ("users", "Users", fmt_count),
        ]
        return rows_table(recent, [("week", "Week", as_iso)], values), caption
    if fig.kind == "lines":
        fmt = fmt_pct if fig.percent else fmt_tokens
        values = [(s.column, s.label, as_index if s.axis else fmt) for s in fig.series]
        return rows_table(recent, [("week", "Week", as_iso)], values), caption
    assert fig.category is not None
    fmt = fmt_pct if fig.percent else fmt_tokens
    rows = grid_table(recent, fig.category, period, fig.value, categories, weeks, fmt)
    header = (fig.category.capitalize(), *((as_month if period == "month" else as_iso)(w) for w in weeks))
    if fig.top and len(categories) < frame[fig.category].nunique():
        caption = f"The {len(categories)} largest shown; " + caption[0].lower() + caption[1:]
    return Table(header, tuple(rows)), caption


def intervals_table(plotted: pd.DataFrame, categories: Sequence[str]) -> tuple[Table, str]:
    """Per category, in the chart's order: the raw and corrected shares with their 95% intervals,
    and the users."""

    def interval(prefix: str) -> Format:
        def fmt(r: Mapping[str, Any]) -> str:
            share, low, high = (r[f"{prefix}_{part}"] for part in ("share", "low", "high"))
            return NO_ROW if missing(share) else f"{fmt_pct(share)} ({fmt_pct(low)}–{fmt_pct(high)})"

        return fmt

    raw, corrected = interval("raw"), interval("corrected")
    by_name = {str(r["category"]): r for r in plotted.to_dict("records")}
    rows = tuple(
        (c, raw(by_name[c]), corrected(by_name[c]), fmt_count(by_name[c]["users"])) for c in categories
    )
    header = ("Category", "Raw share (95% interval)", "Corrected share (95% interval)", "Users")
    return Table(header, rows), "Published categories; every row is in the CSV."


def leaderboard_table(frame: pd.DataFrame) -> tuple[Table, str]:
    """The last week's ranking with each model's rank change."""
    last = max(frame["week"])
    week = frame[frame["week"] == last].sort_values("rank", kind="stable")
    rows = []
    for r in week.to_dict("records"):
        values = (
            (SUPPRESSED,) * 3
            if r[SUPPRESSED]
            else (fmt_count(r["tokens"]), fmt_pct(r["share"]), fmt_points(r["share_change"]))
        )
        rows.append((str(r["rank"]), _change(r), as_text(r["model"]), as_text(r["author"]), *values))
    header = ("Rank", "Change", "Model", "Author", "Tokens", "Share", "Share change")
    return Table(header, tuple(rows)), f"Week of {last.isoformat()}; change against the week before."


def retention_table(fig: Figure, frame: pd.DataFrame, models: Sequence[str]) -> tuple[Table, str]:
    """Retention by month since first use: per model (curves) or per cohort of the first drawn model."""
    ks = list(range(TABLE_MONTHS))
    header = ("Model" if fig.kind == "curves" else "Cohort", *(f"Month {k}" for k in ks))
    if fig.kind == "curves":
        rows = grid_table(frame, "model", "k", "retention", models, ks, fmt_pct)
        return Table(header, tuple(rows)), "Every month is in the CSV."
    if not models:
        return Table((), ()), ""
    first = frame[frame["model"] == models[0]]
    cohorts = sorted(set(first["cohort"]))
    grid = grid_table(first, "cohort", "k", "retention", cohorts, ks, fmt_pct)
    by_cohort = tuple((as_month(date.fromisoformat(line[0])), *line[1:]) for line in grid)
    return Table(header, by_cohort), f"Cohorts of {models[0]}; every model's cohorts are in the CSV."


def bars_table(fig: Figure, plotted: pd.DataFrame) -> tuple[Table, str]:
    """The drawn bars: name, share, tokens."""
    assert fig.category is not None
    name = country_name if fig.category == "country" else language_name
    rows = rows_table(
        plotted,
        [(fig.category, fig.category.capitalize(), lambda v: name(str(v)))],
        [(fig.value, "Share of tokens", fmt_pct), ("tokens", "Tokens", fmt_count)],
    )
    caption = f"The {len(plotted)} largest"
    if "month" in plotted.columns and not plotted.empty:
        caption += f" in {max(plotted['month']).strftime('%B %Y')}"
    return rows, caption + "; every row is in the CSV."


def bar_order(fig: Figure, rows: pd.DataFrame) -> list[str]:
    """The bars of a "stacked_bars" figure among ``rows``: the known ones in the figure's order, then
    the rest (as the rows come, largest first, when the figure draws its top N; else by name)."""
    present = list(dict.fromkeys(rows[fig.bars].astype(str)))
    known = [b for b in fig.order if b in present]
    rest = [b for b in present if b not in known]
    return known + (rest if fig.top else sorted(rest))


def mix_table(
    fig: Figure, frame: pd.DataFrame, plotted: pd.DataFrame, categories: Sequence[str]
) -> tuple[Table, str]:
    """Category (rows) × bar (columns: segments, authors) shares: every bar, or the bars the chart
    draws when it draws the top N."""
    drawn = bar_order(fig, plotted if fig.top else frame)
    if fig.top:
        caption = f"The {len(drawn)} {fig.bars}s drawn; every {fig.bars} is in the CSV."
    else:
        caption = f"Shares of each {fig.bars}'s classified tokens."
    rows = grid_table(frame, "category", fig.bars, "share", categories, drawn, fmt_pct)
    return Table(("Category", *drawn), tuple(rows)), caption
