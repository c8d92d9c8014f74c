"""Colours of the report's charts: one colour per model, author, segment and category across every
chart (:func:`entity_colors`), greys for the catch-alls.

A chart that draws a value takes that value's colour of the whole report, so openai or programming
looks the same wherever it appears. The colours go to values in the order the report first draws
them, from a palette whose first colours are the most distinct; a chart whose values would share a
colour (a report with more values than the palette has) falls back to its own colours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tokencensus.definitions import CHINESE_OPEN, CLOSED, OPEN_WEIGHTS, PROPRIETARY, REST_OF_WORLD_OPEN

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
PALETTE_LONG = (
    "#4c78a8",
    "#9ecae9",
    "#f58518",
    "#ffbf79",
    "#54a24b",
    "#88d27a",
    "#b79a20",
    "#f2cf5b",
    "#439894",
    "#83bcb6",
    "#e45756",
    "#ff9d98",
    "#79706e",
    "#d6a5c9",
    "#d67195",
    "#fcbfd2",
    "#b279a2",
    "#9e765f",
    "#d8b5a5",
    "#eeca3b",
)
"""Twenty colours (Vega's tableau20) for charts with more categories than :data:`PALETTE` has."""
DISTINCT = (
    *PALETTE[:9],
    "#bcbd22",
    "#1f4e79",
    "#b35900",
    "#2d6a2d",
    "#9e1b32",
    "#3b8686",
    "#a88b00",
    "#6b3e75",
    "#d6616b",
    "#5c4033",
    "#17becf",
)
"""The report-wide palette: Vega's ten (olive for its grey, which reads as a catch-all), then ten
darker ones, each far from the others."""
SAME = {PROPRIETARY: CLOSED}
"""Names of one thing in two figures (proprietary = closed weights): one colour."""
FIXED = {OPEN_WEIGHTS: "#4c78a8", CLOSED: "#f58518", CHINESE_OPEN: "#e45756", REST_OF_WORLD_OPEN: "#54a24b"}
"""The market's segments keep the colours they have always had."""
GREY = "#bab0ac"
"""Colour of the catch-all categories (Unknown, Other), whatever their position."""
GREYS = ("Unknown", "unknown", "Other", "other")


def colors(
    categories: Sequence[str], greys: Sequence[str], palette: Mapping[str, str] | None = None
) -> list[str]:
    """One colour per category in order: the report's colour of each (``palette``) when it gives
    them all distinct colours, else the chart's own (catch-alls grey; past 12 categories the
    20-colour palette, which repeats past its end)."""
    if palette:
        mine = [GREY if cat in greys else palette.get(cat) for cat in categories]
        named = [c for c, cat in zip(mine, categories, strict=True) if cat not in greys]
        if None not in mine and len(set(named)) == len(named):
            return [str(c) for c in mine]
    n = sum(1 for cat in categories if cat not in greys)
    own = PALETTE if n <= len(PALETTE) else PALETTE_LONG
    out, i = [], 0
    for cat in categories:
        if cat in greys:
            out.append(GREY)
        else:
            out.append(own[i % len(own)])
            i += 1
    return out


def entity_colors(drawn: Iterable[Sequence[str]]) -> dict[str, str]:
    """Each value's colour in the whole report, given the values each chart draws in report order:
    the market's segments their fixed colours, every other value the next colour of
    :data:`DISTINCT` in the order the report first draws it."""
    out: dict[str, str] = {}
    taken = set(FIXED.values())
    free = [c for c in DISTINCT if c not in taken] + [c for c in DISTINCT if c in taken]
    given = 0
    for values in drawn:
        for value in values:
            if value in out or value in GREYS:
                continue
            name = SAME.get(value, value)
            if name in FIXED:
                out[value] = FIXED[name]
            else:
                out[value] = free[given % len(free)]
                given += 1
    return out
