"""Analyses: Ibis expressions over the enriched events table, one module per family.

They take and return Ibis tables and never execute; :mod:`tokencensus.engine` picks the backend.
"""

from tokencensus.analyses.agentic import lengths_weekly, reasoning_weekly, tool_calls_weekly
from tokencensus.analyses.categories import (
    category_mix,
    category_share,
    labelled_events,
    language_share,
    length_by_category,
    mix_by_author,
    mix_by_segment,
)
from tokencensus.analyses.concentration import (
    leaderboard,
    open_concentration,
    share_author,
    share_new_models,
)
from tokencensus.analyses.costs import category_costs, fit_elasticity, model_costs
from tokencensus.analyses.geography import region_share
from tokencensus.analyses.market import (
    leading_models,
    share_open,
    share_origin,
    share_reasoning,
    share_size,
    top_models,
    top_models_weekly,
    weekly_share,
    weekly_volume,
)
from tokencensus.analyses.retention import (
    boomerangs,
    churn_flows,
    foundational_cohorts,
    monthly_activity,
    retention_curves,
    retention_triangle,
)

__all__ = [
    "boomerangs",
    "category_costs",
    "category_mix",
    "category_share",
    "churn_flows",
    "fit_elasticity",
    "foundational_cohorts",
    "labelled_events",
    "language_share",
    "leaderboard",
    "leading_models",
    "length_by_category",
    "lengths_weekly",
    "mix_by_author",
    "mix_by_segment",
    "model_costs",
    "monthly_activity",
    "open_concentration",
    "reasoning_weekly",
    "region_share",
    "retention_curves",
    "retention_triangle",
    "share_author",
    "share_new_models",
    "share_open",
    "share_origin",
    "share_reasoning",
    "share_size",
    "tool_calls_weekly",
    "top_models",
    "top_models_weekly",
    "weekly_share",
    "weekly_volume",
]
