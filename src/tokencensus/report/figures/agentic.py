"""Agentic use: reasoning models and tokens, tool calls, prompt and completion lengths."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.definitions import NON_REASONING, REASONING
from tokencensus.report.disclosure import SEGMENTS_OF_WEEK
from tokencensus.report.figure import OTHER, Figure, Options, Partition, Period, Series, on_period
from tokencensus.report.headlines import (
    Caveat,
    change,
    compare,
    frame_windows,
    headline_share,
    largest_recent,
    published_rows,
    recent_weeks,
    trend,
    window_ratio,
)
from tokencensus.report.numbers import fmt_pct, fmt_tokens
from tokencensus.report.sources import Sources, weekly_segments, with_users


def reasoning(s: Sources, _: Options) -> ir.Table:
    return with_users(analyses.reasoning_weekly(s.cells), s.users["all"], ["week"])


def tool_calls(s: Sources, _: Options) -> ir.Table:
    return with_users(analyses.tool_calls_weekly(s.cells), s.users["all"], ["week"])


def lengths(s: Sources, _: Options) -> ir.Table:
    """Means from the sums cube, quantiles over the single requests (not the pre-aggregated rows)."""
    single = s.rows.filter(s.rows.requests == 1)
    return with_users(analyses.agentic.lengths_of(s.cells, single, ["week"]), s.users["all"], ["week"])


def headline_top_reasoning(frame: pd.DataFrame, period: Period | None) -> str:
    """The reasoning model with most reasoning-model tokens in the last weeks."""
    if frame.empty:
        return Caveat("No tokens on reasoning models in this period.")
    named = sorted(set(frame["model"].astype(str)) - {OTHER}) or [OTHER]
    top = largest_recent(frame, "model", named, period)
    return headline_share(frame, "model", top, top, of="reasoning-model tokens", period=period)


def headline_reasoning_models(frame: pd.DataFrame, period: Period | None) -> str:
    return headline_share(frame, "segment", REASONING, "Reasoning models", verb="served", period=period)


def headline_reasoning(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Reasoning tokens' share of output tokens, over all models and within reasoning models."""
    if frame.empty:
        return Caveat("No tokens in this period.")
    win = frame_windows(frame, period)
    text = trend(
        frame,
        win,
        lambda w: window_ratio(frame, "reasoning_tokens", "output_tokens", w),
        lambda v, when: f"Reasoning tokens made up {v} of output tokens {when}",
    )
    if isinstance(text, Caveat):
        return text
    weeks = recent_weeks(frame, win)
    rows = published_rows(frame)
    rows = rows[rows["week"].isin(weeks)]
    within = rows["reasoning_model_tokens"].sum()
    if within > 0:
        # the frame has no output tokens of reasoning models alone: weight their weekly shares by the
        # reasoning models' tokens instead
        share = float(
            (rows["reasoning_token_share_in_reasoning_models"] * rows["reasoning_model_tokens"]).sum()
        )
        text += f" ({fmt_pct(share / float(within))} within reasoning models)"
    return text + "."


def headline_tool_calls(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Share of requests ending in a tool call, and of tokens."""
    if frame.empty:
        return Caveat("No requests in this period.")
    win = frame_windows(frame, period)
    text = trend(
        frame,
        win,
        lambda w: window_ratio(frame, "tool_call_requests", "requests", w),
        lambda v, when: f"Tool calls ended {v} of requests {when}",
    )
    if isinstance(text, Caveat):
        return text
    tokens = window_ratio(frame, "tool_call_tokens", "tokens", recent_weeks(frame, win))
    if tokens is not None:
        text += f", and those requests carried {fmt_pct(tokens)} of tokens"
    return text + "."


def headline_lengths(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Mean prompt and completion tokens per request, last weeks against first weeks."""
    if frame.empty:
        return Caveat("No requests in this period.")
    win = frame_windows(frame, period)
    text = trend(
        frame,
        win,
        lambda w: window_ratio(frame, "input_tokens", "requests", w),
        lambda v, when: f"Prompts averaged {v} tokens per request {when}",
        fmt=fmt_tokens,
    )
    if isinstance(text, Caveat):
        return text
    got = compare(frame, win, lambda w: window_ratio(frame, "output_tokens", "requests", w))
    if got is not None:
        now, then = got
        text += f"; completions averaged {fmt_tokens(now)}"
        if then is not None and win is not None:
            text += f" ({change(now, then, win.n, fmt_tokens)})"
    return text + "."


FIGURES = (
    Figure(
        "share_reasoning",
        "Reasoning models",
        "agentic",
        "share",
        "Share of the week's tokens served by reasoning models (the catalog's reasoning flag), whatever "
        "the request asked for.",
        data=weekly_segments("share_reasoning", lambda cells, _: analyses.share_reasoning(cells)),
        headline=on_period(headline_reasoning_models),
        segment=lambda cells, _: analyses.market.reasoning_label(cells),
        partitions=(SEGMENTS_OF_WEEK,),
        category="segment",
        order=(REASONING, NON_REASONING),
    ),
    Figure(
        "reasoning_models",
        "Top reasoning models over time",
        "agentic",
        "share",
        "Each reasoning model's share of the week's tokens on reasoning models (the catalog's reasoning "
        "flag). The chart draws the period's largest reasoning models; the gap above them is every "
        "other reasoning model (Other in the CSV).",
        data=weekly_segments(
            "reasoning_models",
            lambda cells, o: analyses.agentic.reasoning_models_weekly(cells, n=o.top_n),
            "model",
        ),
        headline=on_period(headline_top_reasoning),
        segment=lambda cells, top: analyses.agentic.reasoning_model_label(cells, top.n),
        partitions=(
            Partition(("week",), ("tokens",), "models sum to the reasoning models' week (via shares)"),
        ),
        category="model",
        trailing=(OTHER,),
        top=10,
    ),
    Figure(
        "reasoning",
        "Reasoning tokens",
        "agentic",
        "lines",
        "Reasoning-model share = tokens of models the catalog flags as reasoning / all tokens. "
        "Reasoning-token share = reasoning tokens / output tokens (output includes reasoning), over "
        "all models and within reasoning models only.",
        data=reasoning,
        headline=on_period(headline_reasoning),
        series=(
            Series("reasoning_model_share", "Reasoning models' share of tokens"),
            Series("reasoning_token_share", "Reasoning tokens / output tokens"),
            Series("reasoning_token_share_in_reasoning_models", "… within reasoning models"),
        ),
    ),
    Figure(
        "tool_calls",
        "Tool calls",
        "agentic",
        "lines",
        "Tool-call share = requests whose finish reason is tool_calls / all requests (pre-aggregated "
        "rows count as their request count), and the same for their tokens.",
        data=tool_calls,
        headline=on_period(headline_tool_calls),
        series=(
            Series("tool_call_share", "Share of requests"),
            Series("tool_call_token_share", "Share of tokens"),
        ),
    ),
    Figure(
        "lengths",
        "Prompt and completion length",
        "agentic",
        "lines",
        "Tokens per request, per week: mean = Σ tokens / Σ requests; median and 90th percentile over "
        "individual requests (approximate quantiles). Log scale.",
        data=lengths,
        headline=on_period(headline_lengths),
        series=(
            Series("mean_input_tokens", "Input, mean"),
            Series("median_input_tokens", "Input, median"),
            Series("p90_input_tokens", "Input, p90"),
            Series("mean_output_tokens", "Output, mean"),
            Series("median_output_tokens", "Output, median"),
            Series("p90_output_tokens", "Output, p90"),
        ),
        percent=False,
        log=True,
    ),
)
