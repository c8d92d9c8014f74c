"""Vega-Lite specs of the report's figures, built with Altair and returned as plain dicts.

Each spec carries its data inline (``data.values``), so the report needs no data files or network to
draw. A chart draws :attr:`FigureView.chart_rows`: published rows only, cut to what is shown (the
CSV keeps every row, suppressed cells blank with ``suppressed=true``). Every chart has tooltips, and
every chart with a colour legend filters on a legend click. Selection parameters are named
explicitly: Altair numbers anonymous ones from a process-wide counter, which would make two builds
in one process differ.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd
from altair.utils.schemapi import debug_mode

from tokencensus.definitions import CLOSED, OPEN_WEIGHTS
from tokencensus.report.colors import GREY, GREYS, PALETTE, colors
from tokencensus.report.data import FigureView
from tokencensus.report.names import country_name, language_name
from tokencensus.report.numbers import (
    fmt_count,
    fmt_pct,
    fmt_points,
    fmt_price,
    fmt_ratio,
    fmt_tokens,
    missing,
)
from tokencensus.report.tables import bar_order

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
QUADRANT_COLORS = {
    "Premium workloads": "#e45756",
    "Mass-market volume drivers": "#54a24b",
    "Specialized experts": "#b279a2",
    "Niche utilities": "#4c78a8",
}
"""The use-case quadrants' colours (a category scatter; a model scatter is coloured by weights)."""

PERCENT = ".2~%"
"""Percent axes and legends: whole percents where the ticks are whole, 0.5% or 0.25% on a small
share's axis (never "0% 0% 1%")."""
HEIGHT = 300
BAR_HEIGHT = 22
FACET_WIDTH = 250
PNG_WIDTH = 800
"""Width of an exported PNG's plot area (the HTML charts fill their container instead)."""
PICK = "pick"
HOVER = "hover"

Values = list[dict[str, Any]]
WHOLE = alt.Scale(domain=[0, 1], nice=False)
"""The scale of a stacked share: it ends at 100% (Vega's nice rounding ran some charts to 110%, and
a chart whose drawn shares sum to less stopped short of 100%)."""


def chart_spec(view: FigureView) -> dict[str, Any] | None:
    """The Vega-Lite spec of one figure (data inline), or None when it has nothing to draw.

    Altair checks every object it builds, and the whole spec, against the Vega-Lite schema: ~2 s
    for the report's charts, most of it on the inline rows. Here it does not; the tests check every
    chart of the report against the schema instead (tests/report/test_report.py).
    """
    if view.chart_rows.empty:
        return None
    draw = _KINDS.get(view.figure.kind)
    if draw is None:
        raise ValueError(f"figure {view.id!r}: unknown chart kind {view.figure.kind!r}")
    with debug_mode(False):
        chart, values = draw(view)
        if not values:
            return None
        if not isinstance(chart, alt.FacetChart):  # a facet carries its data; its panels have fixed widths
            chart = chart.properties(data=alt.InlineData(values=values), width="container")
        return inline_datasets(chart.configure(font=FONT).to_dict(validate=False))


def png_spec(
    spec: dict[str, Any], title: str = "", subtitle: str = "", width: int = PNG_WIDTH, footer: str = ""
) -> dict[str, Any]:
    """A copy of ``spec`` for a picture: a fixed width (outside a page there is no container to
    fill) and, for slides, the figure's title and headline on top and ``footer`` (the report's
    title, period and source) below, so that a picture says where it comes from on its own."""
    out = copy.deepcopy(spec)
    if out.get("width") == "container":
        out["width"] = width
    if title:
        out["title"] = {
            "text": title,
            "subtitle": textwrap.wrap(subtitle, 140) if subtitle else "",
            "anchor": "start",
            "fontSize": 16,
            "subtitleFontSize": 12,
            "offset": 12,
        }
    if not footer:
        return out
    page: dict[str, Any] = {key: out.pop(key) for key in ("$schema", "config") if key in out}
    page["title"] = {
        "text": footer,
        "orient": "bottom",  # outermost: below the chart and its legend
        "anchor": "start",
        "fontSize": 11,
        "fontWeight": "normal",
        "color": "#555",
        "offset": 16,
    }
    return {**page, "vconcat": [out]}


def inline_datasets(spec: dict[str, Any]) -> dict[str, Any]:
    """Move Altair's consolidated ``datasets`` back into ``data.values`` (one self-describing spec)."""
    datasets = spec.pop("datasets", {})
    if "name" in spec.get("data", {}) and spec["data"]["name"] in datasets:
        spec["data"] = {"values": datasets[spec["data"]["name"]]}
    if datasets and "values" not in spec.get("data", {}):
        raise ValueError(f"chart spec has datasets {sorted(datasets)} not bound to its top-level data")
    return spec


def _color(
    field: str,
    title: str | None,
    domain: Sequence[str],
    greys: Sequence[str] = GREYS,
    palette: Mapping[str, str] | None = None,
    **legend: Any,
) -> alt.Color:
    """A colour scale over ``domain``: each value's colour of the whole report (``palette``: a
    model, author, segment or category looks the same in every chart), or the chart's own."""
    return alt.Color(
        f"{field}:N",
        title=title,
        sort=list(domain),
        scale=alt.Scale(domain=list(domain), range=colors(domain, greys, palette)),
        legend=alt.Legend(orient="bottom", columns=legend.pop("columns", 4), labelLimit=260, **legend),
    )


def _time_x(period: str = "week") -> alt.X:
    # Weeks and months are UTC dates: a utc scale keeps them on their day in every viewer's time zone.
    axis = alt.Axis(labelOverlap=True, format="%b %Y") if period == "month" else alt.Axis(labelOverlap=True)
    return alt.X(f"{period}:T", title=None, scale=alt.Scale(type="utc"), axis=axis)


def _legend_pick(field: str) -> Any:
    return alt.selection_point(name=PICK, fields=[field], bind="legend")


def _fade(pick: Any) -> Any:
    return alt.condition(pick, alt.value(0.9), alt.value(0.15))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")  # type: ignore[return-value]


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------- weekly charts


def share_chart(view: FigureView) -> tuple[alt.LayerChart, Values]:
    """Stacked area of weekly (or monthly) shares; click a legend entry to show only that category."""
    fig = view.figure
    cat, value = fig.category, fig.value
    assert cat is not None
    period = "month" if "month" in view.frame.columns else "week"
    categories = view.categories
    title = {"model": "Model", "author": "Author", "continent": "Continent"}.get(cat, "Segment")
    color = _color(cat, title, categories, fig.trailing, view.palette, symbolType="square")
    pick = _legend_pick(cat)
    hover = alt.selection_point(name=HOVER, on="pointerover", nearest=True, fields=[period, cat], empty=False)
    amount = "spend" if value == "spend_share" else "tokens"  # what the share is of
    axis_title = fig.axis or f"Share of {amount}"
    y = alt.Y("share:Q", stack="zero", title=axis_title, axis=alt.Axis(format=PERCENT), scale=WHOLE)
    tooltip = [
        alt.Tooltip("period_label:N", title="Month" if period == "month" else "Week of"),
        alt.Tooltip(f"{cat}:N", title=title),
        alt.Tooltip("share:Q", title="Share", format=".1%"),
        alt.Tooltip("amount_label:N", title="Spend" if amount == "spend" else "Tokens"),
    ]
    order = alt.Order("order:Q", sort="ascending")
    base = alt.Chart().transform_filter(pick).encode(x=_time_x(period), y=y, color=color, order=order)
    area = base.mark_area(opacity=0.85, line={"strokeWidth": 0.5}).add_params(pick)
    points = (
        base.mark_point(filled=True, size=50)
        .encode(opacity=alt.condition(hover, alt.value(1), alt.value(0)), tooltip=tooltip)
        .add_params(hover)
    )
    position = {c: i for i, c in enumerate(categories)}
    values = [
        {
            period: r[period].isoformat(),
            "period_label": r[period].strftime("%B %Y") if period == "month" else r[period].isoformat(),
            cat: str(r[cat]),
            "order": position[str(r[cat])],
            "share": float(r[value]),
            "amount_label": fmt_price(r["spend"]) if amount == "spend" else fmt_count(r["tokens"]),
        }
        for r in _records(view.chart_rows)
        if str(r[cat]) in position and pd.notna(r[value])  # no share of a week without spend
    ]
    return alt.LayerChart(layer=[area, points], height=HEIGHT), values


def volume_chart(view: FigureView) -> tuple[alt.Chart, Values]:
    """Weekly stacked bars of input and output tokens."""
    kinds = ("Input", "Output")
    pick = _legend_pick("kind")
    n_weeks = view.frame["week"].nunique()
    chart = (
        alt.Chart()
        # Bars on a time axis have a fixed default width; size them to the number of weeks instead.
        .mark_bar(width=alt.ExprRef(f"max(1, 0.7 * width / {n_weeks + 1})"))
        .encode(
            x=_time_x(),
            y=alt.Y(
                "tokens:Q",
                title="Tokens per week",
                axis=alt.Axis(labelExpr="replace(format(datum.value, '~s'), 'G', 'B')"),
            ),
            color=alt.Color(
                "kind:N",
                title=None,
                sort=list(kinds),
                scale=alt.Scale(domain=list(kinds), range=list(PALETTE[:2])),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("order:Q", sort="ascending"),
            opacity=_fade(pick),
            tooltip=[
                alt.Tooltip("week_label:N", title="Week of"),
                alt.Tooltip("kind:N", title="Tokens"),
                alt.Tooltip("tokens_label:N", title="Amount"),
                alt.Tooltip("total_label:N", title="Total (input + output)"),
                alt.Tooltip("requests_label:N", title="Requests"),
            ],
        )
        .add_params(pick)
        .properties(height=HEIGHT)
    )
    values = []
    for r in _records(view.chart_rows):
        for order, (kind, col) in enumerate(zip(kinds, ("input_tokens", "output_tokens"), strict=True)):
            values.append(
                {
                    "week": r["week"].isoformat(),
                    "week_label": r["week"].isoformat(),
                    "kind": kind,
                    "order": order,
                    "tokens": int(r[col]),
                    "tokens_label": fmt_count(r[col]),
                    "total_label": fmt_count(r["tokens"]),
                    "requests_label": fmt_count(r["requests"]),
                }
            )
    return chart, values


def lines_chart(view: FigureView) -> tuple[alt.LayerChart, Values]:
    """Weekly lines, one per series column; click a legend entry to show only that line."""
    fig = view.figure
    labels = [s.label for s in fig.series]
    pick = _legend_pick("series")
    hover = alt.selection_point(
        name=HOVER, on="pointerover", nearest=True, fields=["week", "series"], empty=False
    )
    if fig.percent:
        y = alt.Y("value:Q", title="Share", axis=alt.Axis(format=PERCENT))
    else:
        y = alt.Y("value:Q", title="Tokens per request", scale=alt.Scale(type="log" if fig.log else "linear"))
    color = _color("series", None, labels, (), columns=3)
    tooltip = [
        alt.Tooltip("week_label:N", title="Week of"),
        alt.Tooltip("series:N", title="Measure"),
        alt.Tooltip("value_label:N", title="Value"),
    ]
    base = (
        alt.Chart()
        .transform_filter(pick)
        .transform_filter("!datum.right")
        .encode(x=_time_x(), y=y, color=color)
    )
    lines = base.mark_line(strokeWidth=2, interpolate="monotone").add_params(pick)
    points = (
        base.mark_point(filled=True, size=45)
        .encode(opacity=alt.condition(hover, alt.value(1), alt.value(0)), tooltip=tooltip)
        .add_params(hover)
    )
    right = [s for s in fig.series if s.axis]
    other_scale = None
    if right:  # a measure on its own scale: a dashed line on a right-hand axis
        y_right = alt.Y("value:Q", title=right[0].axis, axis=alt.Axis(orient="right", format=".2f"))
        other_scale = (
            alt.Chart()
            .transform_filter(pick)
            .transform_filter("datum.right")
            .mark_line(strokeWidth=2, strokeDash=[6, 3], interpolate="monotone")
            .encode(x=_time_x(), y=y_right, color=color, tooltip=tooltip)
        )
    fmt: Callable[[Any], str] = fmt_pct if fig.percent else fmt_tokens
    values = [
        {
            "week": r["week"].isoformat(),
            "week_label": r["week"].isoformat(),
            "series": s.label,
            "right": bool(s.axis),
            "value": float(r[s.column]),
            "value_label": f"{float(r[s.column]):.3f}" if s.axis else fmt(r[s.column]),
        }
        for r in _records(view.chart_rows)
        for s in fig.series
        if pd.notna(r[s.column]) and (not fig.log or float(r[s.column]) > 0)
    ]
    if other_scale is None:
        return alt.LayerChart(layer=[lines, points], height=HEIGHT), values
    # independent y scales: the points draw the lines' values, so their own scale is the lines' one
    # (no second left axis); a nested layer would duplicate the legend's selection signals
    points = points.encode(y=alt.Y("value:Q", axis=None))
    layers = alt.LayerChart(layer=[lines, points, other_scale], height=HEIGHT)
    return layers.resolve_scale(y="independent"), values


def category_lines_chart(view: FigureView) -> tuple[alt.LayerChart, Values]:
    """One line per category over the weeks (or months) of ``value``; click a legend entry to
    show only that line."""
    fig = view.figure
    category, value = fig.category or "", fig.value
    period = "month" if "month" in view.chart_rows.columns else "week"
    pick = _legend_pick(category)
    scale = alt.Scale(type="log" if fig.log else "linear")
    axis = alt.Axis(format=PERCENT) if fig.percent else alt.Axis(format="~s")
    y = alt.Y(f"{value}:Q", title=fig.axis or None, scale=scale, axis=axis)
    color = _color(category, category.capitalize(), view.categories, fig.trailing, view.palette)
    tooltip = [
        alt.Tooltip("period_label:N", title="Month" if period == "month" else "Week of"),
        alt.Tooltip(f"{category}:N", title=category.capitalize()),
        alt.Tooltip("value_label:N", title=fig.axis or value),
    ]
    base = alt.Chart().transform_filter(pick).encode(x=_time_x(period), y=y, color=color)
    lines = base.mark_line(strokeWidth=2).add_params(pick)
    points = base.mark_point(filled=True, size=30).encode(tooltip=tooltip)
    fmt: Callable[[Any], str] = fmt_pct if fig.percent else fmt_tokens
    values = [
        {
            period: r[period].isoformat(),
            "period_label": r[period].strftime("%B %Y") if period == "month" else r[period].isoformat(),
            category: str(r[category]),
            value: float(r[value]),
            "value_label": fmt(r[value]),
        }
        for r in _records(view.chart_rows)
        if pd.notna(r[value]) and (not fig.log or float(r[value]) > 0)
    ]
    return alt.LayerChart(layer=[lines, points], height=HEIGHT), values


def leaderboard_chart(view: FigureView) -> tuple[alt.LayerChart, Values]:
    """Bump chart: the last week's leaders' weekly rank over the last weeks (1 on top)."""
    models = list(view.categories)
    pick = _legend_pick("model")
    n = max([len(models), *(int(r) for r in view.chart_rows["rank"])])
    color = _color("model", "Model", models, (), view.palette, columns=3)
    y = alt.Y(
        "rank:Q",
        title="Rank",
        scale=alt.Scale(reverse=True, domain=[1, n], nice=False),
        axis=alt.Axis(tickMinStep=1, values=list(range(1, n + 1))),
    )
    tooltip = [
        alt.Tooltip("week_label:N", title="Week of"),
        alt.Tooltip("model:N", title="Model"),
        alt.Tooltip("rank:Q", title="Rank"),
        alt.Tooltip("share:Q", title="Share", format=".1%"),
        alt.Tooltip("tokens_label:N", title="Tokens"),
    ]
    base = alt.Chart().encode(x=_time_x(), y=y, color=color, opacity=_fade(pick))
    lines = base.mark_line(strokeWidth=2).add_params(pick)
    points = base.mark_point(filled=True, size=60).encode(tooltip=tooltip)
    values = [
        {
            "week": r["week"].isoformat(),
            "week_label": r["week"].isoformat(),
            "model": str(r["model"]),
            "rank": int(r["rank"]),
            "share": float(r["share"]),
            "tokens_label": fmt_count(r["tokens"]),
        }
        for r in _records(view.chart_rows)
    ]
    return alt.LayerChart(layer=[lines, points], height=HEIGHT), values


# ---------------------------------------------------------------- bars


def ranking_chart(view: FigureView) -> tuple[alt.Chart, Values]:
    """Horizontal bars of each top model's share, in rank order, coloured by author."""
    rows = _records(view.chart_rows)
    authors = _unique([str(r["author"]) for r in rows])
    labels = [f"{r['rank']}. {r['model']}" for r in rows]
    pick = _legend_pick("author")
    chart = (
        alt.Chart()
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=labels, axis=alt.Axis(labelLimit=320)),
            x=alt.X("share:Q", title=view.figure.axis or "Share of tokens", axis=alt.Axis(format=PERCENT)),
            color=_color("author", "Author", authors, GREYS, view.palette),
            opacity=_fade(pick),
            tooltip=[
                alt.Tooltip("rank:Q", title="Rank"),
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("author:N", title="Author"),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("tokens_label:N", title="Tokens"),
            ],
        )
        .add_params(pick)
        .properties(height=max(len(rows), 1) * BAR_HEIGHT)
    )
    values = [
        {
            "rank": int(r["rank"]),
            "label": label,
            "model": str(r["model"]),
            "author": str(r["author"]),
            "share": float(r["share"]),
            "tokens": int(r["tokens"]),
            "tokens_label": fmt_count(r["tokens"]),
        }
        for r, label in zip(rows, labels, strict=True)
    ]
    return chart, values


def bars_chart(view: FigureView) -> tuple[alt.Chart, Values]:
    """Horizontal bars of one share per country or language, largest first."""
    fig = view.figure
    assert fig.category is not None
    name = country_name if fig.category == "country" else language_name
    rows = _records(view.chart_rows)
    labels = [name(str(r[fig.category])) for r in rows]
    period = ""
    if "month" in view.chart_rows.columns:
        period = ", " + max(view.chart_rows["month"]).strftime("%B %Y")
    chart = (
        alt.Chart()
        .mark_bar(color=PALETTE[0])
        .encode(
            y=alt.Y("label:N", title=None, sort=labels, axis=alt.Axis(labelLimit=320)),
            x=alt.X("share:Q", title=f"Share of tokens{period}", axis=alt.Axis(format=PERCENT)),
            tooltip=[
                alt.Tooltip("label:N", title=fig.category.capitalize()),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("tokens_label:N", title="Tokens"),
            ],
        )
        .properties(height=max(len(rows), 1) * BAR_HEIGHT)
    )
    values = [
        {"label": label, "share": float(r[fig.value]), "tokens_label": fmt_count(r["tokens"])}
        for r, label in zip(rows, labels, strict=True)
    ]
    return chart, values


ESTIMATES = ("Raw (as labelled)", "Corrected")
"""The two estimates an intervals chart draws per category, in legend order."""


def intervals_chart(view: FigureView) -> tuple[alt.LayerChart, Values]:
    """Per category, the raw and the corrected share with their 95% intervals (a dot on a bar)."""
    rows = _records(view.chart_rows)
    order = [str(c) for c in view.categories]
    values = []
    for r in rows:
        for estimate, prefix in zip(ESTIMATES, ("raw", "corrected"), strict=True):
            if missing(r[f"{prefix}_share"]):
                continue
            values.append(
                {
                    "category": str(r["category"]),
                    "estimate": estimate,
                    "share": float(r[f"{prefix}_share"]),
                    "low": float(r[f"{prefix}_low"]),
                    "high": float(r[f"{prefix}_high"]),
                }
            )
    drawn = [e for e in ESTIMATES if any(v["estimate"] == e for v in values)]
    color = alt.Color(
        "estimate:N",
        title=None,
        sort=list(ESTIMATES),
        scale=alt.Scale(domain=list(ESTIMATES), range=[GREY, PALETTE[0]]),
        legend=alt.Legend(orient="bottom", values=drawn),
    )
    base = alt.Chart().encode(
        y=alt.Y("category:N", title=None, sort=order, axis=alt.Axis(labelLimit=260)),
        yOffset=alt.YOffset("estimate:N", sort=list(ESTIMATES)),
        color=color,
        tooltip=[
            alt.Tooltip("category:N", title="Category"),
            alt.Tooltip("estimate:N", title="Estimate"),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
            alt.Tooltip("low:Q", title="95% interval from", format=".1%"),
            alt.Tooltip("high:Q", title="to", format=".1%"),
        ],
    )
    bars = base.mark_rule(strokeWidth=3, opacity=0.6).encode(
        x=alt.X("low:Q", title="Share of classified tokens, whole period", axis=alt.Axis(format=PERCENT)),
        x2="high:Q",
    )
    dots = base.mark_point(filled=True, size=60).encode(x="share:Q")
    height = max(len(order), 1) * BAR_HEIGHT * 1.5
    return alt.LayerChart(layer=[bars, dots], height=height), values


def mix_chart(view: FigureView) -> tuple[alt.Chart, Values]:
    """One 100% bar per segment, stacked by category; click a legend entry to fade the others."""
    fig = view.figure
    categories = list(view.categories)
    rows = _records(view.chart_rows)
    bars = fig.bars
    segments = bar_order(fig, view.chart_rows)
    position = {c: i for i, c in enumerate(categories)}
    pick = _legend_pick("category")
    chart = (
        alt.Chart()
        .mark_bar()
        .encode(
            y=alt.Y(f"{bars}:N", title=None, sort=segments, axis=alt.Axis(labelLimit=240)),
            x=alt.X(
                "share:Q",
                stack="zero",
                title="Share of classified tokens",
                axis=alt.Axis(format=PERCENT, tickCount=10),
                scale=WHOLE,
            ),
            color=_color("category", "Category", categories, fig.trailing, view.palette, symbolType="square"),
            order=alt.Order("order:Q", sort="ascending"),
            opacity=_fade(pick),
            tooltip=[
                alt.Tooltip(f"{bars}:N", title=bars.capitalize()),
                alt.Tooltip("category:N", title="Category"),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("tokens_label:N", title="Tokens (weighted)"),
            ],
        )
        .add_params(pick)
        .properties(height=max(len(segments), 1) * 2 * BAR_HEIGHT)
    )
    values = [
        {
            bars: str(r[bars]),
            "category": str(r["category"]),
            "order": position[str(r["category"])],
            "share": float(r["share"]),
            "tokens_label": fmt_count(r["tokens"]),
        }
        for r in rows
        if str(r["category"]) in position
    ]
    return chart, values


def flags_chart(view: FigureView) -> tuple[alt.Chart, Values]:
    """Bars of a retention test's statistic per model (lift, rise), flagged models highlighted."""
    fig = view.figure
    flag = {"glass_slipper": "foundational", "boomerang": "boomerang"}[fig.id]
    rows = _records(view.chart_rows)
    models = [str(r["model"]) for r in rows]
    domain = ["Flagged", "Not flagged"]
    pick = _legend_pick("status")
    is_lift = fig.value == "lift"
    title = "Lift: launch cohort / later cohorts' median (month 3)" if is_lift else "Rise after the dip"
    chart = (
        alt.Chart()
        .mark_bar()
        .encode(
            y=alt.Y("model:N", title=None, sort=models, axis=alt.Axis(labelLimit=320)),
            x=alt.X("value:Q", title=title, axis=alt.Axis(format=".1f" if is_lift else ".0%", tickCount=6)),
            color=alt.Color(
                "status:N",
                title=None,
                sort=domain,
                scale=alt.Scale(domain=domain, range=[PALETTE[3], GREY]),
                legend=alt.Legend(orient="bottom"),
            ),
            opacity=_fade(pick),
            tooltip=[
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("value_label:N", title="Lift" if is_lift else "Rise"),
                alt.Tooltip("status:N", title="Test"),
                alt.Tooltip("users_label:N", title="Users"),
            ],
        )
        .add_params(pick)
        .properties(height=max(len(rows), 1) * BAR_HEIGHT)
    )
    values = [
        {
            "model": str(r["model"]),
            "value": float(r[fig.value]),
            "value_label": fmt_ratio(float(r[fig.value])) if is_lift else fmt_points(r[fig.value]),
            "status": "Flagged" if bool(r[flag]) else "Not flagged",
            "users_label": fmt_count(r["users"]),
        }
        for r in rows
    ]
    return chart, values


def flows_chart(view: FigureView) -> tuple[alt.Chart, Values]:
    """The largest churn flows between models: share of the source model's churns."""
    rows = _records(view.chart_rows)
    labels = [f"{r['from_model']} → {r['to_model']}" for r in rows]
    sources = _unique([str(r["from_model"]) for r in rows])
    pick = _legend_pick("from_model")
    chart = (
        alt.Chart()
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=labels, axis=alt.Axis(labelLimit=420)),
            x=alt.X("share:Q", title="Share of the source model's churns", axis=alt.Axis(format=PERCENT)),
            color=_color("from_model", "From", sources, (), view.palette, columns=2),
            opacity=_fade(pick),
            tooltip=[
                alt.Tooltip("from_model:N", title="From"),
                alt.Tooltip("to_model:N", title="To"),
                alt.Tooltip("share:Q", title="Share of churns", format=".1%"),
                alt.Tooltip("churns:Q", title="Churns", format=","),
            ],
        )
        .add_params(pick)
        .properties(height=max(len(rows), 1) * BAR_HEIGHT)
    )
    values = [
        {
            "label": label,
            "from_model": str(r["from_model"]),
            "to_model": str(r["to_model"]),
            "share": float(r["share"]),
            "churns": int(r["churns"]),
        }
        for r, label in zip(rows, labels, strict=True)
    ]
    return chart, values


# ---------------------------------------------------------------- cost vs usage


SCATTER_LABELS = (6, 2, 2)
"""A model scatter names its 6 largest points by tokens, its 2 priciest and its 2 cheapest (every
point of a category scatter is named)."""


def _notable(rows: list[dict[str, Any]], name: str) -> set[str]:
    """The points a scatter names on the chart itself (so that a picture reads without hovering)."""
    if name != "model":
        return {str(r[name]) for r in rows}
    largest, priciest, cheapest = SCATTER_LABELS
    by_tokens = sorted(rows, key=lambda r: (-int(r["tokens"]), str(r[name])))[:largest]
    by_price = sorted(rows, key=lambda r: (-float(r["price_per_1m"]), str(r[name])))
    return {str(r[name]) for r in [*by_tokens, *by_price[:priciest], *by_price[::-1][:cheapest]]}


def _short(model: str, author: str) -> str:
    """A model's name without its author's prefix (anthropic/claude-sonnet-4 → claude-sonnet-4)."""
    return model[len(author) + 1 :] if author and model.startswith(author + "/") else model


def scatter_chart(view: FigureView) -> tuple[alt.LayerChart, Values]:
    """Log–log price vs usage with the median price and usage as rules: models coloured by open or
    closed weights, categories by quadrant; the notable points named, the quadrants' names in
    their corners."""
    from tokencensus.analyses.costs import quadrant_names

    fig = view.figure
    name = fig.category or "model"
    rows = _records(view.chart_rows)
    by_weights = name == "model" and "open_segment" in view.chart_rows.columns
    group = "open_segment" if by_weights else "quadrant"
    present = {str(r[group]) for r in rows}
    if by_weights:
        groups = [g for g in (OPEN_WEIGHTS, CLOSED) if g in present] + sorted(
            present - {OPEN_WEIGHTS, CLOSED}
        )
        color = _color("group", "Weights", groups, GREYS, view.palette, columns=3)
    else:
        groups = [q for q in QUADRANT_COLORS if q in present]
        scale = alt.Scale(domain=groups, range=[QUADRANT_COLORS[q] for q in groups])
        legend = alt.Legend(orient="bottom", columns=2)
        color = alt.Color("group:N", title="Quadrant", sort=groups, scale=scale, legend=legend)
    pick = _legend_pick("group")
    x = alt.X(
        "price:Q",
        title="Price (USD per 1M tokens, log)",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(tickCount=6),
    )
    y = alt.Y(
        "tokens:Q",
        title="Tokens (log)",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(labelExpr="replace(format(datum.value, '~s'), 'G', 'B')", tickCount=6),
    )
    points = (
        alt.Chart()
        .transform_filter("datum.kind === 'point'")
        .mark_circle(size=70)
        .encode(
            x=x,
            y=y,
            color=color,
            opacity=alt.condition(pick, alt.value(0.8), alt.value(0.1)),
            tooltip=[
                alt.Tooltip("name:N", title=name.capitalize()),
                alt.Tooltip("price_label:N", title="Price per 1M tokens"),
                alt.Tooltip("tokens_label:N", title="Tokens"),
                alt.Tooltip("quadrant:N", title="Quadrant"),
            ],
        )
        .add_params(pick)
    )
    labels = (
        alt.Chart()
        .transform_filter("datum.kind === 'point' && datum.named")
        .mark_text(align="left", dx=7, fontSize=10, color="#333")
        .encode(x=x, y=y, text="short:N")
    )
    corners = [
        alt.Chart()
        .transform_filter(f"datum.kind === 'corner' && datum.align === '{align}'")
        .mark_text(align=align, baseline="middle", fontSize=12, fontStyle="italic", color="#5b6475")
        .encode(x=x, y=y, text="text:N")
        for align in ("left", "right")
    ]
    vrule = (
        alt.Chart()
        .transform_filter("datum.kind === 'median_price'")
        .mark_rule(color="#5b6475", strokeDash=[4, 4])
        .encode(x=x)
    )
    hrule = (
        alt.Chart()
        .transform_filter("datum.kind === 'median_tokens'")
        .mark_rule(color="#5b6475", strokeDash=[4, 4])
        .encode(y=y)
    )
    named = _notable(rows, name)
    values: Values = [
        {
            "kind": "point",
            "name": str(r[name]),
            "short": _short(str(r[name]), str(r.get("author") or "")),
            "named": str(r[name]) in named,
            "group": str(r[group]),
            "price": float(r["price_per_1m"]),
            "tokens": int(r["tokens"]),
            "quadrant": str(r["quadrant"]),
            "price_label": fmt_price(r["price_per_1m"]),
            "tokens_label": fmt_count(r["tokens"]),
        }
        for r in rows
    ]
    if rows:
        prices, tokens = [v["price"] for v in values], [v["tokens"] for v in values]
        names = quadrant_names([name])
        for (high_price, high_usage), text in names.items():
            values.append(
                {
                    "kind": "corner",
                    "text": text,
                    "align": "right" if high_price else "left",
                    "price": max(prices) if high_price else min(prices),
                    # above the highest point, below the lowest: clear of the points' labels
                    "tokens": max(tokens) * 2 if high_usage else min(tokens) / 2,
                }
            )
    if rows and pd.notna(rows[0]["median_price"]) and float(rows[0]["median_price"]) > 0:
        values.append({"kind": "median_price", "price": float(rows[0]["median_price"])})
    if rows and pd.notna(rows[0]["median_tokens"]) and float(rows[0]["median_tokens"]) > 0:
        values.append({"kind": "median_tokens", "tokens": float(rows[0]["median_tokens"])})
    layers = [points, labels, *corners, vrule, hrule]
    return alt.LayerChart(layer=layers, height=HEIGHT + 100), values


# ---------------------------------------------------------------- retention


def curves_chart(view: FigureView) -> tuple[alt.LayerChart, Values]:
    """Pooled retention by months since first use, one line per model."""
    models = list(view.categories)
    pick = _legend_pick("model")
    x = alt.X("k:Q", title="Months since first request", axis=alt.Axis(tickMinStep=1, format="d"))
    y = alt.Y("retention:Q", title="Share of the cohort active", axis=alt.Axis(format=PERCENT))
    base = alt.Chart().encode(
        x=x, y=y, color=_color("model", "Model", models, (), view.palette, columns=2), opacity=_fade(pick)
    )
    lines = base.mark_line(strokeWidth=2).add_params(pick)
    points = base.mark_point(filled=True, size=50).encode(
        tooltip=[
            alt.Tooltip("model:N", title="Model"),
            alt.Tooltip("k:Q", title="Month"),
            alt.Tooltip("retention:Q", title="Retention", format=".1%"),
            alt.Tooltip("cohort_users_label:N", title="Cohort users"),
        ]
    )
    values = [
        {
            "model": str(r["model"]),
            "k": int(r["k"]),
            "retention": float(r["retention"]),
            "cohort_users_label": fmt_count(r["cohort_users"]),
        }
        for r in _records(view.chart_rows)
        if pd.notna(r["retention"])
    ]
    return alt.LayerChart(layer=[lines, points], height=HEIGHT), values


def heatmap_chart(view: FigureView) -> tuple[alt.FacetChart, Values]:
    """Cohort × month retention, one panel per drawn model."""
    models = list(view.categories)
    rows = _records(view.chart_rows)
    cohorts = sorted({r["cohort"].isoformat()[:7] for r in rows})
    cell = (
        alt.Chart()
        .mark_rect()
        .encode(
            x=alt.X("k:O", title="Months since first request"),
            y=alt.Y("cohort:O", title="Cohort", sort=cohorts),
            color=alt.Color(
                "retention:Q",
                title="Retention",
                scale=alt.Scale(scheme="blues", domain=[0, 1]),
                legend=alt.Legend(format=PERCENT, orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("cohort:O", title="Cohort"),
                alt.Tooltip("k:O", title="Month"),
                alt.Tooltip("retention:Q", title="Retention", format=".1%"),
                alt.Tooltip("cohort_users_label:N", title="Cohort users"),
            ],
        )
        .properties(width=FACET_WIDTH, height=max(len(cohorts), 1) * 18)
    )
    values = _cohort_cells(rows, "model", {m: m for m in models})
    chart = cell.facet(
        facet=alt.Facet("model:N", title=None, sort=models, header=alt.Header(labelLimit=FACET_WIDTH)),
        columns=max(len(models), 1),
        data=alt.InlineData(values=values),
    )
    return chart, values


def cohorts_chart(view: FigureView) -> tuple[alt.FacetChart, Values]:
    """One panel per followed model, one line per monthly cohort (later cohorts darker); the panel's
    title says why the model is followed (foundational, boomerang, largest)."""
    models = list(view.categories)
    rows = _records(view.chart_rows)
    cohorts = sorted({r["cohort"].isoformat()[:7] for r in rows})
    line = (
        alt.Chart()
        .mark_line(point=alt.OverlayMarkDef(size=24), strokeWidth=1.5)
        .encode(
            x=alt.X("k:Q", title="Months since first request", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("retention:Q", title="Share of the cohort active", axis=alt.Axis(format=PERCENT)),
            color=alt.Color(
                "cohort:O",
                title="Cohort",
                sort=cohorts,
                scale=alt.Scale(scheme="viridis", reverse=True),
                legend=alt.Legend(orient="bottom", columns=6),
            ),
            tooltip=[
                alt.Tooltip("panel:N", title="Model"),
                alt.Tooltip("cohort:O", title="Cohort"),
                alt.Tooltip("k:Q", title="Month"),
                alt.Tooltip("retention:Q", title="Retention", format=".1%"),
                alt.Tooltip("cohort_users_label:N", title="Cohort users"),
            ],
        )
        .properties(width=FACET_WIDTH, height=180)
    )
    panels = {m: _panel_title(view.chart_rows, m) for m in models}
    values = _cohort_cells(rows, "panel", panels)
    chart = line.facet(
        facet=alt.Facet(
            "panel:N", title=None, sort=[panels[m] for m in models], header=alt.Header(labelLimit=FACET_WIDTH)
        ),
        columns=min(max(len(models), 1), 3),
        data=alt.InlineData(values=values),
    )
    return chart, values


def _cohort_cells(rows: list[dict[str, Any]], field: str, names: dict[str, str]) -> Values:
    """A retention chart's cells: the model under ``field`` (named by ``names``), cohort month, k,
    retention and cohort users; cells without a retention left out."""
    return [
        {
            field: names[str(r["model"])],
            "cohort": r["cohort"].isoformat()[:7],
            "k": int(r["k"]),
            "retention": float(r["retention"]),
            "cohort_users_label": fmt_count(r["cohort_users"]),
        }
        for r in rows
        if pd.notna(r["retention"])
    ]


def _panel_title(rows: pd.DataFrame, model: str) -> str:
    """ "model (foundational, largest)": why a panel is drawn."""
    mine = rows[rows["model"].astype(str) == model]
    reasons = (("foundational", "foundational"), ("boomerang", "boomerang"), ("largest", "largest"))
    why = [w for w, col in reasons if bool(mine[col].fillna(False).astype(bool).any())]
    return f"{model} ({', '.join(why)})" if why else model


_KINDS: dict[str, Callable[[FigureView], tuple[Any, Values]]] = {
    "volume": volume_chart,
    "share": share_chart,
    "ranking": ranking_chart,
    "leaderboard": leaderboard_chart,
    "lines": lines_chart,
    "category_lines": category_lines_chart,
    "bars": bars_chart,
    "stacked_bars": mix_chart,
    "intervals": intervals_chart,
    "scatter": scatter_chart,
    "curves": curves_chart,
    "heatmap": heatmap_chart,
    "cohorts": cohorts_chart,
    "flags": flags_chart,
    "flows": flows_chart,
}
