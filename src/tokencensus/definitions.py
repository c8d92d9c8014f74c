"""The study's definitions, each stated once: segments, size classes, reasoning and tool calls,
periods and windows, the privacy floor and the confidence floor.

Every analysis, the catalog, the classifier and the report import these; nothing else restates
them. The study is OpenRouter and a16z's "State of AI: An Empirical 100 Trillion Token Study"
(2025); a section named below is a section of it. docs/analyses.md explains each in prose.

The expressions here take Ibis columns and never execute, so the same definition runs on every
engine.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Ibis is imported where an expression is built, so the CLI starts without it
    import ibis.expr.types as ir

# ---------------------------------------------------------------------------- the unknown model

UNKNOWN = "unknown"
"""Slug, author, origin and size class of the catalog's explicit row for model names no catalog
entry resolves; such a model is neither open nor closed, so its tokens form the segment
:data:`UNKNOWN_SEGMENT` rather than being guessed into one."""

UNKNOWN_SEGMENT = "Unknown"

# ---------------------------------------------------------------------------- open vs closed, origin

OPEN_WEIGHTS = "Open weights"
CLOSED = "Closed"
OPEN_SEGMENTS: tuple[str, ...] = (OPEN_WEIGHTS, CLOSED, UNKNOWN_SEGMENT)
"""Open vs closed weights (the study's "Open vs. Closed Source Models"): a model is open when its
weights are published for download, whatever its licence."""

CHINESE_OPEN = "Chinese open"
REST_OF_WORLD_OPEN = "Rest-of-world open"
PROPRIETARY = "Proprietary"
ORIGIN_SEGMENTS: tuple[str, ...] = (CHINESE_OPEN, REST_OF_WORLD_OPEN, PROPRIETARY, UNKNOWN_SEGMENT)
"""The study's three-way split of the market: open-weights models by where their author is based
(China, ``origin == "CN"``, or the rest of the world), and proprietary (closed-weights) models."""


def open_segment(open_weights: ir.BooleanValue) -> ir.StringValue:
    """:data:`OPEN_SEGMENTS` of a model from the catalog's ``open_weights`` (null: not in the catalog)."""
    import ibis

    return ibis.cases((open_weights.isnull(), UNKNOWN_SEGMENT), (open_weights, OPEN_WEIGHTS), else_=CLOSED)


def origin_segment(open_weights: ir.BooleanValue, origin: ir.StringValue) -> ir.StringValue:
    """:data:`ORIGIN_SEGMENTS` of a model from the catalog's ``open_weights`` and ``origin``."""
    import ibis

    return ibis.cases(
        (open_weights.isnull(), UNKNOWN_SEGMENT),
        (open_weights & (origin == "CN"), CHINESE_OPEN),
        (open_weights, REST_OF_WORLD_OPEN),
        else_=PROPRIETARY,
    )


# ---------------------------------------------------------------------------- model size

SMALL_BELOW_B = 15.0
LARGE_FROM_B = 70.0
SIZE_CLASSES: tuple[str, ...] = ("small", "medium", "large", UNKNOWN)
"""The study's size classes ("Open-Source Model Size"), by total parameters: small < 15B, medium
15B to < 70B, large ≥ 70B; unknown when the catalog does not know the count. Only open-weights
models publish a size, so the size shares are shares *within* open-weights tokens."""


def size_class(params_b: float | None) -> str:
    """The :data:`SIZE_CLASSES` entry of a model with ``params_b`` billion total parameters."""
    if params_b is None or (isinstance(params_b, float) and math.isnan(params_b)):
        return UNKNOWN
    if params_b < SMALL_BELOW_B:
        return "small"
    if params_b < LARGE_FROM_B:
        return "medium"
    return "large"


# ---------------------------------------------------------------------------- agentic use

REASONING = "Reasoning"
NON_REASONING = "Non-reasoning"


def reasoning_label(reasoning: ir.BooleanValue) -> ir.StringValue:
    """A reasoning model is one the catalog flags as reasoning (the study's "Agentic Inference":
    models that emit a reasoning trace before answering), whatever a single request did."""
    import ibis

    return ibis.ifelse(reasoning, REASONING, NON_REASONING)


TOOL_CALLS = "tool_calls"
"""The ``finish_reason`` of a request that ended by calling a tool."""


def is_tool_call(finish_reason: ir.Value) -> ir.BooleanValue:
    """A tool-call request is one that ended by calling a tool (the study's tool-invocation share:
    requests whose finish reason is ``tool_calls``)."""
    return finish_reason.cast("string") == TOOL_CALLS


# ---------------------------------------------------------------------------- periods and windows

# Weeks start on Monday, UTC, and months on the 1st, UTC (:func:`tokencensus.engine.utc_floor`).

WINDOW_WEEKS = 4
"""Headlines compare the first and the last this-many calendar weeks of the period; the top-models
figure ranks the last this-many weeks."""

NEW_MODEL_DAYS = 90
"""A model is new in a week when it was released within this many days before the week's end."""

NEW_MODEL = "Launched in the last {days} days"
OLDER_MODEL = "Older"
UNKNOWN_RELEASE = "Unknown"


def new_model_label(
    week: ir.DateValue, release_date: ir.DateValue, days: int = NEW_MODEL_DAYS
) -> ir.StringValue:
    """:data:`NEW_MODEL` when the model was released in the ``days`` before the end of ``week``,
    :data:`OLDER_MODEL` before that, :data:`UNKNOWN_RELEASE` without a release date."""
    import ibis

    week_end = week + ibis.interval(days=7)
    return ibis.cases(
        (release_date.isnull(), UNKNOWN_RELEASE),
        (
            (release_date >= week_end - ibis.interval(days=days)) & (release_date < week_end),
            NEW_MODEL.format(days=days),
        ),
        else_=OLDER_MODEL,
    )


# ---------------------------------------------------------------------------- floors

MIN_USERS = 50
"""The privacy floor k: a published cell is backed by at least this many distinct users (cells
below it are suppressed, with complementary cells, in every report and dashboard view)."""

CONFIDENCE_FLOOR = 0.25
"""A classifier label below this confidence counts as category :data:`OTHER_CATEGORY`."""

OTHER_CATEGORY = "other"


def floored_category(labels: ir.Table, floor: float = CONFIDENCE_FLOOR) -> ir.StringValue:
    """The category each label of ``labels`` (the classifier's labels table) counts as: ``other``
    under the confidence ``floor``; a missing confidence counts as 0, labels without a confidence
    column count as labelled."""
    import ibis

    if "confidence" not in labels.columns:
        return labels.category
    return ibis.ifelse(labels.confidence.fill_null(0.0) < floor, OTHER_CATEGORY, labels.category)
