"""Analyses: Ibis expressions over the enriched events table, one module per family.

They take and return Ibis tables and never execute; :mod:`tokencensus.engine` picks the backend.
"""

from tokencensus.analyses.categories import (
    category_mix,
    category_share,
    labelled_events,
    language_share,
    length_by_category,
    mix_by_author,
    mix_by_segment,
)
from tokencensus.analyses.market import (
    share_open,
    share_origin,
    share_reasoning,
    share_size,
    top_models,
    top_models_weekly,
    weekly_share,
    weekly_volume,
)

__all__ = [
    "category_mix",
    "category_share",
    "labelled_events",
    "language_share",
    "length_by_category",
    "mix_by_author",
    "mix_by_segment",
    "share_open",
    "share_origin",
    "share_reasoning",
    "share_size",
    "top_models",
    "top_models_weekly",
    "weekly_share",
    "weekly_volume",
]
