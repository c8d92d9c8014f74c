"""The report's figures: one module per part of the study, each declaring its figures
(:class:`~tokencensus.report.figure.Figure`: data, headline, table, chart and method note). This
registry lists them in the study's order; compute, render and the dashboard iterate over it.

To add a figure, declare it in its section's module (or a new module listed in :data:`MODULES`)
and test it on a hand-made fixture.
"""

from __future__ import annotations

from tokencensus.report.figure import Figure, Section
from tokencensus.report.figures import (
    agentic,
    categories,
    category_mix,
    costs,
    geography,
    market,
    retention,
    size,
    volume,
)

SECTIONS: tuple[Section, ...] = (
    Section("volume", "Volume"),
    Section("market", "Open vs closed & origin"),
    Section("size", "Model size"),
    Section("agentic", "Agentic use"),
    Section("categories", "Categories"),
    Section("geography", "Geography & language"),
    Section("costs", "Cost vs usage"),
    Section("retention", "Retention"),
)
MODULES = (volume, market, size, agentic, categories, category_mix, geography, costs, retention)
"""The figure modules, in the study's order: sections follow the OpenRouter study."""

FIGURES: tuple[Figure, ...] = tuple(fig for module in MODULES for fig in module.FIGURES)
FIGURES_BY_ID: dict[str, Figure] = {fig.id: fig for fig in FIGURES}
SECTIONS_BY_ID: dict[str, Section] = {s.id: s for s in SECTIONS}

FINDINGS = (
    "volume",
    "share_open",
    "share_origin",
    "share_reasoning",
    "tool_calls",
    "share_category",
    "geo_continent",
    "cost_vs_usage",
    "glass_slipper",
    "top_models",
    "boomerang",
    "lengths",
)
"""Figures whose headline may be a key finding of the summary, most informative first."""
MAX_FINDINGS = 8
