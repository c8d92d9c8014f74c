"""Open vs closed weights, origin, authors and models: who wins the tokens, week by week."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.definitions import (
    CHINESE_OPEN,
    CLOSED,
    NEW_MODEL_DAYS,
    OPEN_WEIGHTS,
    PROPRIETARY,
    REST_OF_WORLD_OPEN,
    WINDOW_WEEKS,
)
from tokencensus.report.disclosure import SEGMENTS_OF_WEEK
from tokencensus.report.figure import OTHER, Figure, Options, Period, Series, on_frame, on_period
from tokencensus.report.headlines import (
    Caveat,
    frame_windows,
    headline_share,
    largest_recent,
    published_rows,
    recent_weeks,
    trend,
    weeks_phrase,
    window_ratio,
)
from tokencensus.report.numbers import fmt_count, fmt_pct
from tokencensus.report.sources import TOP_MODEL_WEEKS, Sources, model_among, weekly_segments, with_users
from tokencensus.report.tables import as_text


def top_models(s: Sources, o: Options) -> ir.Table:
    top = analyses.top_models(s.cells, n=o.top_n, weeks=TOP_MODEL_WEEKS)
    return with_users(top, s.users["top_models"], ["model"])


def leaderboard(s: Sources, o: Options) -> ir.Table:
    board = analyses.leaderboard(s.cells, n=o.top_n)
    return with_users(board, s.users["leaderboard"], ["week", "model"], {"model": "segment"})


def open_concentration(s: Sources, _: Options) -> ir.Table:
    """Concentration among the open-weights models: the top open models' weekly users gate its top
    shares, the open-weights segment's weekly users its week."""
    models = analyses.concentration.weekly_models(s.cells.filter(s.cells.open_segment == OPEN_WEIGHTS))
    models = models.order_by(["week", "model"])
    models = with_users(models, s.users["open_concentration"], ["week", "model"], {"model": "segment"})
    weekly = s.users["share_open"].filter(lambda t: t.segment == OPEN_WEIGHTS).select("week", "users")
    return analyses.concentration.concentration_of(models, weekly)


def headline_open(frame: pd.DataFrame, period: Period | None) -> str:
    return headline_share(frame, "segment", OPEN_WEIGHTS, "Open-weights models", period=period)


def headline_origin(frame: pd.DataFrame, period: Period | None) -> str:
    return headline_share(frame, "segment", CHINESE_OPEN, "Chinese open-weights models", period=period)


def headline_author(frame: pd.DataFrame, period: Period | None = None) -> str:
    """The author with most tokens in the last weeks (models missing from the catalog excluded)."""
    if frame.empty:
        return Caveat("No tokens in this period.")
    authors = sorted(set(frame["author"].astype(str)) - {"unknown", "Unknown"}) or ["unknown"]
    top = largest_recent(frame, "author", authors, period)
    return headline_share(frame, "author", top, f"Models by {top}", period=period)


def headline_new_models(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Share of tokens on models launched in the last N days."""
    launched = sorted(s for s in set(frame["segment"].astype(str)) if s.startswith("Launched"))
    if frame.empty or not launched:
        return Caveat("No tokens on newly launched models in this period.")
    seg = launched[0]
    return headline_share(frame, "segment", seg, "Models l" + seg[1:], period=period)


def headline_top_models(frame: pd.DataFrame) -> str:
    """E.g. "m1 led the last four weeks with 24% of tokens; the top 3 together carried 61%."."""
    if frame.empty:
        return Caveat("No models to rank in the last weeks of the period (none above the privacy floor).")
    ordered = frame.sort_values("rank", kind="stable")
    leader = ordered.iloc[0]
    led = weeks_phrase("last", WINDOW_WEEKS)
    text = f"{leader['model']} led {led} with {fmt_pct(leader['share'])} of tokens"
    top3 = ordered.head(3)
    if len(top3) == 3:
        text += f"; the top 3 together carried {fmt_pct(float(top3['share'].sum()))}"
    return text + "."


def headline_top_weekly(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Concentration: the share of the named top models (everything but Other)."""
    if frame.empty:
        return Caveat("No tokens in this period.")
    n = frame.loc[frame["model"] != OTHER, "model"].nunique()
    subject = f"The top {n} {'model' if n == 1 else 'models'}"
    return headline_share(frame, "model", OTHER, subject, complement=True, period=period)


def headline_leaderboard(frame: pd.DataFrame) -> str:
    """The last week's leader and its biggest climber."""
    if frame.empty:
        return Caveat("No models to rank in this period (none above the privacy floor).")
    last = max(frame["week"])
    week = frame[frame["week"] == last].sort_values("rank", kind="stable")
    leader = week.iloc[0]
    text = (
        f"In the week of {last.isoformat()}, {leader['model']} ranked first "
        f"with {fmt_pct(leader['share'])} of tokens"
    )
    movers = published_rows(week)
    movers = movers[movers["rank_change"].notna() & (movers["rank_change"] > 0)]
    if movers.empty:
        return text + "."
    best = movers.sort_values(["rank_change", "rank"], ascending=[False, True], kind="stable").iloc[0]
    places = int(best["rank_change"])
    return (
        f"{text}; the biggest climber, {best['model']}, rose {places} "
        f"{'place' if places == 1 else 'places'} to #{int(best['rank'])}."
    )


def headline_concentration(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Token-weighted top-5 share among open-weights models, and the effective number of models."""
    if frame.empty:
        return Caveat("No open-weights tokens in this period.")
    win = frame_windows(frame, period)
    # a week counts where its measure is published: the top-5 share is blank when one of the five
    # models is under the privacy floor (a blank is not a 0% share)
    top5 = frame[frame["top5_share"].notna()]
    top5 = top5.assign(_top5=top5["top5_share"] * top5["tokens"])
    text = trend(
        frame,
        win,
        lambda w: window_ratio(top5, "_top5", "tokens", w),
        lambda v, when: f"The five largest open-weights models carried {v} of open-weights tokens {when}",
        noun="open-weights tokens",
    )
    known = frame[frame["hhi"].notna()]
    weeks = recent_weeks(frame, win)
    hhi = window_ratio(known.assign(_hhi=known["hhi"] * known["tokens"]), "_hhi", "tokens", weeks)
    if not hhi:
        return text if isinstance(text, Caveat) else text + "."
    effective = f"{1 / hhi:.1f}" if 1 / hhi < 9.95 else f"{1 / hhi:.0f}"
    effective = effective.removesuffix(".0")
    if isinstance(text, Caveat):  # the top-5 share is hidden, the index is not
        return (
            f"The effective number of open-weights models was {effective} (1 / HHI) in "
            f"{weeks_phrase('last', len(weeks))}; the five largest models' share is under the privacy floor."
        )
    return text + f"; the effective number of open models was {effective} (1 / HHI)."


FIGURES = (
    Figure(
        "share_open",
        "Open vs closed weights",
        "market",
        "share",
        "Each segment's share of the week's tokens: models whose weights are published (open weights), "
        "closed models, and models missing from the catalog (Unknown). A week's shares sum to 100%.",
        data=weekly_segments("share_open", lambda cells, _: analyses.share_open(cells)),
        headline=on_period(headline_open),
        segment=lambda cells, _: cells.open_segment,
        partitions=(SEGMENTS_OF_WEEK,),
        category="segment",
        order=(OPEN_WEIGHTS, CLOSED),
        trailing=("Unknown",),
    ),
    Figure(
        "share_origin",
        "Chinese vs rest-of-world open models",
        "market",
        "share",
        "Share of the week's tokens: open-weights models by the origin of their author (China vs the "
        "rest of the world), proprietary (closed-weights) models, and models missing from the catalog.",
        data=weekly_segments("share_origin", lambda cells, _: analyses.share_origin(cells)),
        headline=on_period(headline_origin),
        segment=lambda cells, _: cells.origin_segment,
        partitions=(SEGMENTS_OF_WEEK,),
        category="segment",
        order=(CHINESE_OPEN, REST_OF_WORLD_OPEN, PROPRIETARY),
        trailing=("Unknown",),
    ),
    Figure(
        "share_author",
        "Model authors",
        "market",
        "share",
        "Each author's (lab's) share of the week's tokens, over every model it publishes. The chart "
        "draws the 8 authors with most published tokens; the gap above them is every other author "
        "(each is in the CSV; nothing is merged, so suppressed cells stay out of every total).",
        data=weekly_segments("share_author", lambda cells, _: analyses.share_author(cells), "author"),
        headline=on_period(headline_author),
        segment=lambda cells, _: cells.author,
        partitions=(SEGMENTS_OF_WEEK,),
        category="author",
        trailing=("unknown", "Unknown"),
        top=8,
    ),
    Figure(
        "top_models",
        "Top models",
        "market",
        "ranking",
        f"The models with most tokens over the last {WINDOW_WEEKS} weeks of the period; share is of all "
        "tokens in those weeks. Models under the privacy floor are left out of the ranking.",
        data=top_models,
        headline=on_frame(headline_top_models),
        axis="Share of tokens, last four weeks",
        caption=f"Last {WINDOW_WEEKS} weeks.",
        columns=(
            [("rank", "Rank", str), ("model", "Model", as_text), ("author", "Author", as_text)],
            [("tokens", "Tokens", fmt_count), ("share", "Share", fmt_pct)],
        ),
    ),
    Figure(
        "top_models_weekly",
        "Top models over time",
        "market",
        "share",
        "Weekly token share of the period's largest models; every other model is grouped as Other.",
        data=weekly_segments(
            "top_models_weekly", lambda cells, o: analyses.top_models_weekly(cells, n=o.top_n), "model"
        ),
        headline=on_period(headline_top_weekly),
        segment=lambda cells, top: analyses.market.leader_label(cells, list(top.models)),
        partitions=(SEGMENTS_OF_WEEK,),
        category="model",
        trailing=(OTHER,),
    ),
    Figure(
        "leaderboard",
        "Weekly leaderboard",
        "market",
        "leaderboard",
        "Each week's top models by tokens (ties by name). The change compares a model's rank with its "
        "rank the calendar week before (▲ climbed, ▼ fell, new = not in the top the week before). The "
        "chart follows the last week's leaders over the last 12 weeks. Models under the privacy floor "
        "(and any whose tokens would reveal one) are left out of the ranking.",
        data=leaderboard,
        headline=on_frame(headline_leaderboard),
        segment=lambda cells, top: model_among(cells, analyses.concentration.ranked_models(cells, top.n)),
        category="model",
        table_open=True,
    ),
    Figure(
        "open_concentration",
        "Concentration among open-weights models",
        "market",
        "lines",
        "Over open-weights tokens only, per week: the largest model's share (top 1), the five largest "
        "models' share (top 5), and the Herfindahl–Hirschman index HHI = Σ share² (0–1; 1 / HHI is the "
        "effective number of models).",
        data=open_concentration,
        headline=on_period(headline_concentration),
        segment=lambda cells, _: model_among(cells, analyses.concentration.open_top_models(cells)),
        series=(
            Series("top1_share", "Top 1 share"),
            Series("top5_share", "Top 5 share"),
            Series("hhi", "HHI", axis="HHI (0–1)"),
        ),
    ),
    Figure(
        "share_new_models",
        "Tokens on newly launched models",
        "market",
        "share",
        "Share of the week's tokens served by models launched in the 90 days before the week's end "
        "(catalog release date), by older models, and by models without a known release date.",
        data=weekly_segments(
            "share_new_models", lambda cells, _: analyses.share_new_models(cells, NEW_MODEL_DAYS)
        ),
        headline=on_period(headline_new_models),
        segment=lambda cells, _: analyses.concentration.new_model_label(cells, NEW_MODEL_DAYS),
        partitions=(SEGMENTS_OF_WEEK,),
        category="segment",
        trailing=("Unknown",),
    ),
)
