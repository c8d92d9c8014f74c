"""Market analyses: how much is used, and which models and segments win share.

Every function takes the enriched events table of :mod:`tokencensus.engine` and returns an Ibis
expression (never executed here), so the same code runs on every backend.

Definitions (DESIGN.md, after the OpenRouter "State of AI" study):

* **Token volume** = input + output tokens, summed per week (Monday-start, UTC).
* **Share** of a segment in a week = the segment's tokens / all tokens that week; shares of a
  week's segments sum to 1.
* **Users** of a cell = distinct non-null ``user_id`` (pre-aggregated rows carry no user); the report
  suppresses cells backed by too few users.
* **Segments**: open vs closed weights; origin × open weights (Chinese open, rest-of-world open,
  proprietary); size class by total parameters (small < 15B, medium 15–70B, large ≥ 70B), reported
  *within* open-weights tokens since closed models publish no size; reasoning vs non-reasoning
  models (the catalog's flag). Models missing from the catalog form an explicit "Unknown" segment.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tokencensus import definitions
from tokencensus.definitions import OPEN_WEIGHTS, WINDOW_WEEKS

OTHER = "Other"
NANO = 1_000_000_000


def spend_sum(cost: ir.FloatingColumn) -> ir.FloatingScalar:
    """Σ cost in USD, added up in whole nano-dollars (null when every cost is null).

    Floats summed in parallel come out in a varying order, so the last bits of a float sum change
    from run to run; integer nano-dollars add up exactly, so the same data gives the same spend on
    every run and every backend. Rounding each cost to 1e-9 USD changes nothing visible.
    """
    return (cost * NANO).round().cast("int64").sum().cast("float64") / NANO


def user_counts(events: ir.Table) -> dict[str, ir.Value]:
    """The ``users`` aggregate of a cell: its distinct non-null user ids."""
    return {"users": events.user_id.nunique()}


def weekly_volume(events: ir.Table) -> ir.Table:
    """Weekly requests, input/output/total tokens and distinct users, ordered by week.

    Columns: week, requests, input_tokens, output_tokens, tokens, users.
    """
    cells = events.group_by("week").aggregate(
        requests=events.requests.sum(),
        input_tokens=events.input_tokens.sum(),
        output_tokens=events.output_tokens.sum(),
        tokens=events.tokens.sum(),
        **user_counts(events),
    )
    return cells.order_by("week")


def weekly_share(events: ir.Table, segment: ir.Value | str) -> ir.Table:
    """Each segment's share of the week's tokens (:func:`period_share` by ``week``)."""
    return period_share(events, segment, "week")


def period_share(events: ir.Table, segment: ir.Value | str, period: str = "week") -> ir.Table:
    """Each segment's share of the period's tokens, per ``period`` (``week`` or ``month``).

    ``segment`` is a column name of ``events`` or a string expression over it. Columns: period,
    segment, tokens, share, users; ordered by period then segment. Periods where the segment total
    is 0 have no rows (a share of nothing is undefined).
    """
    seg = events[segment] if isinstance(segment, str) else segment
    labelled = events.mutate(segment=seg.cast("string"))
    cells = labelled.group_by([period, "segment"]).aggregate(
        tokens=labelled.tokens.sum(), **user_counts(labelled)
    )
    total = cells.tokens.sum().over(group_by=cells[period])
    return (
        cells.filter(total > 0)
        .mutate(share=cells.tokens / total)
        .select(period, "segment", "tokens", "share", "users")
        .order_by([period, "segment"])
    )


def share_open(events: ir.Table) -> ir.Table:
    """Weekly token share of open-weights vs closed models (and Unknown)."""
    return weekly_share(events, "open_segment")


def share_origin(events: ir.Table) -> ir.Table:
    """Weekly token share of Chinese open, rest-of-world open and proprietary models."""
    return weekly_share(events, "origin_segment")


def size_label(events: ir.Table) -> ir.StringValue:
    """Size class of open-weights rows, null for the rest (share_size covers open weights only)."""
    return ibis.ifelse(events.open_segment == OPEN_WEIGHTS, events.size_class, ibis.null("string"))


def share_size(events: ir.Table) -> ir.Table:
    """Weekly share of small / medium / large models within open-weights tokens."""
    return weekly_share(events.filter(events.open_segment == OPEN_WEIGHTS), "size_class")


def size_supply(events: ir.Table) -> ir.Table:
    """Open-weights supply against demand by size class, week by week: the models of the class that
    served any tokens, and the class's share of the week's open-weights tokens.

    Columns: week, segment (size class), models, tokens, share, users.
    """
    open_w = events.filter(events.open_segment == OPEN_WEIGHTS)
    share = weekly_share(open_w, "size_class")
    served = open_w.filter(open_w.tokens > 0)
    models = served.group_by(["week", "size_class"]).aggregate(models=served.model.nunique())
    models = models.rename(m_week="week", m_segment="size_class")
    joined = share.left_join(models, (share.week == models.m_week) & (share.segment == models.m_segment))
    return (
        joined.mutate(models=joined.models.fill_null(0))
        .select("week", "segment", "models", "tokens", "share", "users")
        .order_by(["week", "segment"])
    )


def reasoning_label(events: ir.Table) -> ir.StringValue:
    """Each row's :func:`tokencensus.definitions.reasoning_label` (the catalog's flag)."""
    return definitions.reasoning_label(events.reasoning)


def share_reasoning(events: ir.Table) -> ir.Table:
    """Weekly token share of reasoning models (catalog flag) vs the rest."""
    return weekly_share(events, reasoning_label(events))


def recent(events: ir.Table, weeks: int) -> ir.Table:
    """The events of the last ``weeks`` weeks of the data (by the latest week present)."""
    last = events.week.max()
    return events.filter(events.week > last - ibis.interval(days=7 * weeks))


def top_models(events: ir.Table, n: int = 10, weeks: int | None = WINDOW_WEEKS) -> ir.Table:
    """The ``n`` models with most tokens over the last ``weeks`` weeks (all data if None).

    Columns: rank (1 = most tokens), model, author, tokens, share (of all tokens in the window),
    users. Ties are broken by model name so the ranking is deterministic.
    """
    window = recent(events, weeks) if weeks else events
    per_model = window.group_by(["model", "author"]).aggregate(
        tokens=window.tokens.sum(), **user_counts(window)
    )
    total = per_model.tokens.sum().over()
    ranked = per_model.mutate(
        share=per_model.tokens / total,
        rank=ibis.row_number().over(order_by=[per_model.tokens.desc(), per_model.model]) + 1,
    )
    return (
        ranked.filter(ranked["rank"] <= n)
        .select("rank", "model", "author", "tokens", "share", "users")
        .order_by("rank")
    )


def leading_models(events: ir.Table, n: int) -> ir.Table:
    """The ``n`` models with most tokens over all the data (column ``model``; ties by name)."""
    per_model = events.group_by("model").aggregate(tokens=events.tokens.sum())
    rank = ibis.row_number().over(order_by=[per_model.tokens.desc(), per_model.model])
    return per_model.mutate(rank=rank).filter(lambda t: t["rank"] < n).select("model")


def leader_label(events: ir.Table, leaders: ir.Column | list[str]) -> ir.StringValue:
    """The model when it is one of ``leaders``, else "Other"."""
    return ibis.ifelse(events.model.isin(leaders), events.model, OTHER)


def top_models_weekly(events: ir.Table, n: int = 10) -> ir.Table:
    """Weekly token share of the ``n`` largest models over the whole period, the rest as "Other".

    Columns: week, model, tokens, share, users.
    """
    leaders = leading_models(events, n).model
    return (
        weekly_share(events, leader_label(events, leaders))
        .rename(model="segment")
        .order_by(["week", "model"])
    )
