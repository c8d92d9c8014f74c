"""Market structure: authors, the weekly leaderboard, concentration and the pull of new models.

Every function takes the enriched events table of :mod:`tokencensus.engine` and returns an Ibis
expression (never executed here), so the same code runs on every backend.

Definitions (DESIGN.md; docs/analyses.md):

* **Author share** = the author's tokens / all tokens of the week (the catalog's author; ``unknown``
  for models missing from the catalog).
* **Leaderboard**: models ranked by tokens within each week (rank 1 = most tokens, ties broken by
  slug). **Week-over-week change** compares a model with itself in the calendar week before
  (``week - 7 days``): ``share_change`` = share − previous share (in share points, 0.01 = 1 point),
  ``tokens_change`` = tokens / previous tokens − 1, ``rank_change`` = previous rank − rank
  (positive = climbed). A model absent the week before has null previous values.
* **Concentration within open weights**, per week, over open-weights tokens only: ``top1_share`` =
  share of the largest model, ``top5_share`` = share of the five largest, ``hhi`` =
  Herfindahl–Hirschman index = Σ share² over the open-weights models (0–1 scale; multiply by
  10,000 for the antitrust convention; 1/hhi is the "effective number of models").
* **New-model share**: a model is *new* in week ``w`` when its catalog release date lies within
  the ``days`` days before the week's end, i.e. ``week + 7 days − days ≤ release_date < week + 7
  days``. The share is of the week's tokens; models without a release date form "Unknown".
* ``users`` = distinct non-null user ids behind a cell (the report's privacy floor).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tokencensus.analyses.market import user_counts, weekly_share
from tokencensus.definitions import NEW_MODEL_DAYS, OPEN_WEIGHTS
from tokencensus.definitions import new_model_label as _new_model_label


def share_author(events: ir.Table) -> ir.Table:
    """Weekly token share by model author. Columns: week, author, tokens, share, users."""
    return weekly_share(events, "author").rename(author="segment").order_by(["week", "author"])


def weekly_models(events: ir.Table, count_users: bool = True) -> ir.Table:
    """Each week's models: week, model, author, tokens, [users,] share (of the week), rank (1 = most
    tokens, ties by model name)."""
    count = user_counts(events) if count_users else {}
    cells = events.group_by(["week", "model", "author"]).aggregate(tokens=events.tokens.sum(), **count)
    total = cells.tokens.sum().over(group_by=cells.week)
    rank = ibis.row_number().over(group_by=cells.week, order_by=[cells.tokens.desc(), cells.model]) + 1
    return cells.filter(total > 0).mutate(share=cells.tokens / total, rank=rank)


def leaderboard(events: ir.Table, n: int = 10) -> ir.Table:
    """Each week's ``n`` largest models by tokens, with the change from the week before.

    Columns: week, rank, model, author, tokens, share, users, prev_rank, prev_tokens, prev_share,
    rank_change (previous rank − rank), share_change (share − previous share), tokens_change
    (tokens / previous tokens − 1). Previous values are null for a model absent the week before
    (and in the first week of the data).
    """
    cur = weekly_models(events)
    prev = cur.select(
        p_model=cur.model,
        p_week=cur.week,
        prev_rank=cur["rank"],
        prev_tokens=cur.tokens,
        prev_share=cur.share,
    )
    top = cur.filter(cur["rank"] <= n)
    joined = top.left_join(
        prev, [top.model == prev.p_model, top.week == (prev.p_week + ibis.interval(days=7))]
    )
    return (
        joined.mutate(
            rank_change=joined.prev_rank - joined["rank"],
            share_change=joined.share - joined.prev_share,
            tokens_change=joined.tokens.cast("float64") / joined.prev_tokens.cast("float64") - 1.0,
        )
        .select(
            "week",
            "rank",
            "model",
            "author",
            "tokens",
            "share",
            "users",
            "prev_rank",
            "prev_tokens",
            "prev_share",
            "rank_change",
            "share_change",
            "tokens_change",
        )
        .order_by(["week", "rank"])
    )


def open_concentration(events: ir.Table) -> ir.Table:
    """Weekly concentration of open-weights tokens across open-weights models.

    Columns: week, models (open-weights models with tokens), tokens (open-weights tokens),
    top_model, top1_share, top5_share, hhi, users (distinct users of open-weights models),
    top1_users (the largest model's users) and top5_users (the fewest users among the five
    largest): top1 and top5 shares are sums of those models' cells, so the report's privacy floor
    applies to them through these counts.
    """
    open_ev = events.filter(events.open_segment == OPEN_WEIGHTS)
    week_users = open_ev.group_by("week").aggregate(**user_counts(open_ev))
    return concentration_of(weekly_models(open_ev), week_users)


def concentration_of(models: ir.Table, week_users: ir.Table) -> ir.Table:
    """:func:`open_concentration` from its parts: the open-weights models of each week
    (:func:`weekly_models`, with users) and the open-weights users of each week (week, users)."""
    cells = models.mutate(m_users=models.users.fill_null(0).cast("int64"))
    per_week = cells.group_by("week").aggregate(
        models=cells.model.nunique(),
        tokens=cells.tokens.sum(),
        top_model=cells.model.arbitrary(where=cells["rank"] == 1),
        top1_share=cells.share.sum(where=cells["rank"] == 1),
        top5_share=cells.share.sum(where=cells["rank"] <= 5),
        hhi=(cells.share * cells.share).sum(),
        top1_users=cells.m_users.max(where=cells["rank"] == 1),
        top5_users=cells.m_users.min(where=cells["rank"] <= 5),
    )
    users = week_users.select(u_week="week", users="users")
    joined = per_week.left_join(users, per_week.week == users.u_week)
    joined = joined.mutate(users=joined.users.fill_null(0).cast("int64"))
    return joined.select(
        "week", "models", "tokens", "top_model", "top1_share", "top5_share", "hhi", "users", "top1_users",
        "top5_users",
    ).order_by("week")  # fmt: skip


def ranked_models(events: ir.Table, n: int) -> ir.Table:
    """The models that make some week's top ``n`` by tokens (column ``model``): the rows a weekly
    ranking of ``n`` (the leaderboard) can show."""
    cells = weekly_models(events, count_users=False)
    return cells.filter(cells["rank"] <= n).select("model").distinct()


def open_top_models(events: ir.Table, n: int = 5) -> ir.Table:
    """The open-weights models that make some week's top ``n`` by tokens (column ``model``): the
    cells behind :func:`open_concentration`'s top shares."""
    return ranked_models(events.filter(events.open_segment == OPEN_WEIGHTS), n)


def new_model_label(events: ir.Table, days: int = NEW_MODEL_DAYS) -> ir.StringValue:
    """Each row's :func:`tokencensus.definitions.new_model_label` for its week and model."""
    return _new_model_label(events.week, events.release_date, days)


def share_new_models(events: ir.Table, days: int = NEW_MODEL_DAYS) -> ir.Table:
    """Weekly token share of models launched within ``days`` days before the week's end.

    Segments: "Launched in the last {days} days", "Older", "Unknown" (no release date).
    Columns: week, segment, tokens, share, users.
    """
    return weekly_share(events, new_model_label(events, days))
