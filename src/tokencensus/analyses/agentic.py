"""Agentic use: reasoning, tool calls and request lengths, week by week (and by category).

Every function takes the enriched events table of :mod:`tokencensus.engine` and returns an Ibis
expression (never executed here). Functions with a ``labels`` argument cut by category when given a
labels table (``request_id``, ``category`` and optionally ``confidence``): they then cover the
labelled requests only (an inner join on ``request_id``), unweighted.

Definitions (DESIGN.md; docs/analyses.md):

* **Reasoning-model share** = tokens (input + output) served by models the catalog flags as
  reasoning models / all tokens of the week. Reported beside the **reasoning-token share** =
  reasoning tokens / output tokens (all models; output tokens include reasoning tokens), and the
  same ratio within reasoning models only.
* **Tool-call share of requests** = requests whose ``finish_reason`` is ``tool_calls`` / all
  requests (the ``requests`` weight counts); **of tokens** = those requests' tokens / all tokens.
* **Lengths**: mean input (output) tokens per request = Σ input (output) tokens / Σ requests, so a
  pre-aggregated row counts as its ``requests``. Median and p90 are per request over request-level
  rows (``requests = 1``), exact discrete quantiles (the smallest value whose cumulative share of
  requests reaches 50% / 90%; see :func:`quantiles`).
  **Input/output ratio** = Σ input tokens / Σ output tokens.
* ``users`` = distinct non-null user ids behind a cell (the report's privacy floor).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tokencensus.analyses.market import leader_label, leading_models, period_share, user_counts
from tokencensus.definitions import CONFIDENCE_FLOOR, floored_category, is_tool_call


def with_category(events: ir.Table, labels: ir.Table, floor: float = CONFIDENCE_FLOOR) -> ir.Table:
    """Events that have a label, with its ``category`` (``other`` under the confidence ``floor``)."""
    lab = labels.select(lab_id=labels.request_id, category=floored_category(labels, floor))
    return events.inner_join(lab, events.request_id == lab.lab_id).drop("lab_id")


def _keys(events: ir.Table, labels: ir.Table | None, floor: float) -> tuple[ir.Table, list[str]]:
    if labels is None:
        return events, ["week"]
    return with_category(events, labels, floor), ["week", "category"]


def reasoning_weekly(events: ir.Table) -> ir.Table:
    """Weekly reasoning-model token share and reasoning tokens / output tokens.

    Columns: week, tokens, reasoning_model_tokens, reasoning_model_share, output_tokens,
    reasoning_tokens, reasoning_token_share (reasoning / output tokens, all models),
    reasoning_token_share_in_reasoning_models, users.
    """
    r = events.reasoning
    agg = events.group_by("week").aggregate(
        tokens=events.tokens.sum(),
        reasoning_model_tokens=events.tokens.sum(where=r),
        output_tokens=events.output_tokens.sum(),
        reasoning_tokens=events.reasoning_tokens.sum(),
        reasoning_model_output=events.output_tokens.sum(where=r),
        **user_counts(events),
    )
    f = "float64"
    return (
        agg.filter(agg.tokens > 0)
        .mutate(
            reasoning_model_tokens=agg.reasoning_model_tokens.fill_null(0),
            reasoning_model_share=agg.reasoning_model_tokens.fill_null(0).cast(f) / agg.tokens.cast(f),
            reasoning_token_share=ibis.ifelse(
                agg.output_tokens > 0, agg.reasoning_tokens.cast(f) / agg.output_tokens.cast(f), None
            ),
            reasoning_token_share_in_reasoning_models=ibis.ifelse(
                agg.reasoning_model_output > 0,
                agg.reasoning_tokens.cast(f) / agg.reasoning_model_output.cast(f),
                None,
            ),
        )
        .select(
            "week",
            "tokens",
            "reasoning_model_tokens",
            "reasoning_model_share",
            "output_tokens",
            "reasoning_tokens",
            "reasoning_token_share",
            "reasoning_token_share_in_reasoning_models",
            "users",
        )
        .order_by("week")
    )


def reasoning_model_label(events: ir.Table, n: int = 10) -> ir.StringValue:
    """A reasoning model's row: its model when it is one of the ``n`` reasoning models with most
    tokens over the period (ties by name), else "Other"; null for the rows of other models."""
    is_reasoning = events.reasoning.fill_null(False)
    leaders = leading_models(events.filter(is_reasoning), n).model
    return ibis.ifelse(is_reasoning, leader_label(events, leaders), ibis.null("string"))


def reasoning_models_weekly(events: ir.Table, n: int = 10) -> ir.Table:
    """Each reasoning model's share of the week's reasoning-model tokens: the ``n`` largest
    reasoning models over the period by name, every other reasoning model as "Other".

    Columns: week, model, tokens, share, users.
    """
    reasoning = events.filter(events.reasoning.fill_null(False))
    return (
        period_share(reasoning, reasoning_model_label(reasoning, n), "week")
        .rename(model="segment")
        .order_by(["week", "model"])
    )


def tool_calls_weekly(
    events: ir.Table,
    labels: ir.Table | None = None,
    floor: float = CONFIDENCE_FLOOR,
) -> ir.Table:
    """Weekly share of requests (and of tokens) that end in tool calls; by category with ``labels``.

    Columns: week, [category,] requests, tool_call_requests, tool_call_share, tokens,
    tool_call_tokens, tool_call_token_share, users.
    """
    ev, keys = _keys(events, labels, floor)
    is_tool = is_tool_call(ev.finish_reason)
    agg = ev.group_by(keys).aggregate(
        requests=ev.requests.sum(),
        tool_call_requests=ev.requests.sum(where=is_tool),
        tokens=ev.tokens.sum(),
        tool_call_tokens=ev.tokens.sum(where=is_tool),
        **user_counts(ev),
    )
    f = "float64"
    treq = agg.tool_call_requests.fill_null(0)
    ttok = agg.tool_call_tokens.fill_null(0)
    return (
        agg.filter(agg.requests > 0)
        .mutate(
            tool_call_requests=treq,
            tool_call_tokens=ttok,
            tool_call_share=treq.cast(f) / agg.requests.cast(f),
            tool_call_token_share=ibis.ifelse(agg.tokens > 0, ttok.cast(f) / agg.tokens.cast(f), None),
        )
        .select(
            *keys,
            "requests",
            "tool_call_requests",
            "tool_call_share",
            "tokens",
            "tool_call_tokens",
            "tool_call_token_share",
            "users",
        )
        .order_by(keys)
    )


def quantiles(rows: ir.Table, keys: list[str], col: str, qs: tuple[float, ...] = (0.5, 0.9)) -> ir.Table:
    """Exact discrete quantiles of integer column ``col`` per ``keys`` cell.

    The q-quantile is the smallest value v whose cumulative count reaches q × n (``quantile_disc``),
    computed from the counts of each distinct value: one group-by and a running sum, the same
    numbers on every backend (unlike approximate quantiles) and cheap, since token counts take few
    distinct values per week. Columns: keys, then ``median_<col>`` for 0.5 and ``p<100q>_<col>``.
    """
    counts = rows.group_by([*keys, rows[col].name("v")]).aggregate(n=rows.count())
    running = ibis.cumulative_window(group_by=[counts[k] for k in keys], order_by=counts.v)
    cum = counts.mutate(cum=counts.n.sum().over(running), total=counts.n.sum().over(group_by=keys))
    reached = {
        ("median" if q == 0.5 else f"p{round(q * 100)}") + f"_{col}": cum.v.min(
            where=cum.cum >= q * cum.total
        )
        for q in qs
    }
    out = cum.group_by(keys).aggregate(**reached)
    return out.mutate(**{name: out[name].cast("float64") for name in reached})


def lengths_weekly(
    events: ir.Table, labels: ir.Table | None = None, floor: float = CONFIDENCE_FLOOR
) -> ir.Table:
    """Weekly input/output tokens per request: mean, median, p90 and the input/output ratio.

    Columns: week, [category,] requests, input_tokens, output_tokens, mean_input_tokens,
    median_input_tokens, p90_input_tokens, mean_output_tokens, median_output_tokens,
    p90_output_tokens, input_output_ratio, users. Quantiles are exact (see :func:`quantiles`).
    """
    ev, keys = _keys(events, labels, floor)
    return lengths_of(ev, ev, keys)


def lengths_of(sums: ir.Table, requests: ir.Table, keys: list[str]) -> ir.Table:
    """:func:`lengths_weekly` from its parts: per ``keys``, the means from ``sums`` (events or a
    rollup of them: requests, input and output tokens, user ids) and the median and p90 from
    ``requests``, the request-level rows (``requests == 1``) with the same ``keys``."""
    agg = sums.group_by(keys).aggregate(
        requests=sums.requests.sum(),
        input_tokens=sums.input_tokens.sum(),
        output_tokens=sums.output_tokens.sum(),
        **user_counts(sums),
    )
    single = requests
    for col in ("input_tokens", "output_tokens"):
        q = quantiles(single.filter(single.requests == 1), keys, col)
        q = q.rename(**{f"q_{k}": k for k in keys})
        agg = agg.left_join(q, [agg[k] == q[f"q_{k}"] for k in keys]).drop(*(f"q_{k}" for k in keys))
    f = "float64"
    n = agg.requests.cast(f)
    return (
        agg.filter(agg.requests > 0)
        .mutate(
            mean_input_tokens=agg.input_tokens.cast(f) / n,
            mean_output_tokens=agg.output_tokens.cast(f) / n,
            input_output_ratio=ibis.ifelse(
                agg.output_tokens > 0, agg.input_tokens.cast(f) / agg.output_tokens.cast(f), None
            ),
        )
        .select(
            *keys,
            "requests",
            "input_tokens",
            "output_tokens",
            "mean_input_tokens",
            "median_input_tokens",
            "p90_input_tokens",
            "mean_output_tokens",
            "median_output_tokens",
            "p90_output_tokens",
            "input_output_ratio",
            "users",
        )
        .order_by(keys)
    )
