"""Vega-Lite specs of the report's figures, built with Altair and returned as plain dicts.

Each spec carries its data inline (``data.values``), so the report needs no data files or network to
draw. Suppressed cells are not drawn (they stay in the CSV, blank, with ``suppressed=true``).
Selection parameters are named explicitly: Altair numbers anonymous ones from a process-wide
counter, which would make two builds in one process differ.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from tokencensus.report.data import FigureView, fmt_count

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
PALETTE = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#eeca3b",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#79706e",
    "#8cd17d",
    "#d37295",
)
GREY = "#bab0ac"
"""Colour of the catch-all categories (Unknown, Other), whatever their position."""

HEIGHT = 300
BAR_HEIGHT = 22
PICK = "pick"
HOVER = "hover"


def chart_spec(view: FigureView) -> dict[str, Any] | None:
    """The Vega-Lite spec of one figure (data inline), or None when it has nothing to draw."""
    if view.drawable.empty:
        return None
    kind = view.figure.kind
    chart: alt.Chart | alt.LayerChart
    if kind == "volume":
        chart, values = volume_chart(view)
    elif kind == "share":
        chart, values = share_chart(view)
    elif kind == "ranking":
        chart, values = ranking_chart(view)
    else:
        raise ValueError(f"figure {view.id!r}: unknown chart kind {kind!r}")
    chart = chart.properties(data=alt.InlineData(values=values), width="container")
    return inline_datasets(chart.configure(font=FONT).to_dict())


def inline_datasets(spec: dict[str, Any]) -> dict[str, Any]:
    """Move Altair's consolidated ``datasets`` back into ``data.values`` (one self-describing spec)."""
    datasets = spec.pop("datasets", {})
    if "name" in spec.get("data", {}) and spec["data"]["name"] in datasets:
        spec["data"] = {"values": datasets[spec["data"]["name"]]}
    if datasets and "values" not in spec.get("data", {}):
        raise ValueError(f"chart spec has datasets {sorted(datasets)} not bound to its top-level data")
    return spec


def colors(categories: tuple[str, ...], greys: tuple[str, ...]) -> list[str]:
    """One colour per category in order; catch-alls grey; the palette repeats past its end."""
    out, i = [], 0
    for cat in categories:
        if cat in greys:
            out.append(GREY)
        else:
            out.append(PALETTE[i % len(PALETTE)])
            i += 1
    return out


def _week_x() -> alt.X:
    # Weeks are UTC dates: a utc scale keeps them on their day in every viewer's time zone.
    return alt.X("week:T", title=None, scale=alt.Scale(type="utc"), axis=alt.Axis(labelOverlap=True))


def _legend_pick(field: str) -> Any:
    return alt.selection_point(name=PICK, fields=[field], bind="legend")


def share_chart(view: FigureView) -> tuple[alt.LayerChart, list[dict[str, Any]]]:
    """Stacked area of weekly shares; click a legend entry to show only that category."""
    cat = view.figure.category
    assert cat is not None
    categories = view.categories
    title = "Model" if cat == "model" else "Segment"
    color = alt.Color(
        f"{cat}:N",
        title=title,
        sort=list(categories),
        scale=alt.Scale(domain=list(categories), range=colors(categories, view.figure.trailing)),
        legend=alt.Legend(orient="bottom", columns=4, symbolType="square", labelLimit=240),
    )
    order = alt.Order("order:Q", sort="ascending")
    pick = _legend_pick(cat)
    hover = alt.selection_point(name=HOVER, on="pointerover", nearest=True, fields=["week", cat], empty=False)
    y = alt.Y("share:Q", stack="zero", title="Share of tokens", axis=alt.Axis(format=".0%"))
    tooltip = [
        alt.Tooltip("week_label:N", title="Week of"),
        alt.Tooltip(f"{cat}:N", title=title),
        alt.Tooltip("share:Q", title="Share", format=".1%"),
        alt.Tooltip("tokens_label:N", title="Tokens"),
    ]
    base = alt.Chart().transform_filter(pick).encode(x=_week_x(), y=y, color=color, order=order)
    area = base.mark_area(opacity=0.85, line={"strokeWidth": 0.5}).add_params(pick)
    points = (
        base.mark_point(filled=True, size=50)
        .encode(opacity=alt.condition(hover, alt.value(1), alt.value(0)), tooltip=tooltip)
        .add_params(hover)
    )
    position = {c: i for i, c in enumerate(categories)}
    values = [
        {
            "week": r["week"].isoformat(),
            "week_label": r["week"].isoformat(),
            cat: str(r[cat]),
            "order": position[str(r[cat])],
            "share": float(r["share"]),
            "tokens": int(r["tokens"]),
            "tokens_label": fmt_count(r["tokens"]),
        }
        for r in view.drawable.to_dict("records")
    ]
    return alt.LayerChart(layer=[area, points], height=HEIGHT), values


def volume_chart(view: FigureView) -> tuple[alt.Chart, list[dict[str, Any]]]:
    """Weekly stacked bars of input and output tokens."""
    kinds = ("Input", "Output")
    pick = _legend_pick("kind")
    n_weeks = view.frame["week"].nunique()
    chart = (
        alt.Chart()
        # Bars on a time axis have a fixed default width; size them to the number of weeks instead.
        .mark_bar(width=alt.ExprRef(f"max(1, 0.7 * width / {n_weeks + 1})"))
        .encode(
            x=_week_x(),
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
            opacity=alt.condition(pick, alt.value(0.9), alt.value(0.15)),
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
    for r in view.drawable.to_dict("records"):
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


def ranking_chart(view: FigureView) -> tuple[alt.Chart, list[dict[str, Any]]]:
    """Horizontal bars of each top model's share, in rank order, coloured by author."""
    rows = view.drawable.to_dict("records")
    authors: list[str] = []
    for r in rows:
        if str(r["author"]) not in authors:
            authors.append(str(r["author"]))
    labels = [f"{r['rank']}. {r['model']}" for r in rows]
    pick = _legend_pick("author")
    chart = (
        alt.Chart()
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=labels, axis=alt.Axis(labelLimit=320)),
            x=alt.X("share:Q", title="Share of tokens, last four weeks", axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "author:N",
                title="Author",
                sort=authors,
                scale=alt.Scale(domain=authors, range=colors(tuple(authors), ("unknown", "Unknown"))),
                legend=alt.Legend(orient="bottom", columns=4, labelLimit=240),
            ),
            opacity=alt.condition(pick, alt.value(0.9), alt.value(0.15)),
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
