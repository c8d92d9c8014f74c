"""Use cases within the market's cuts: categories by author, programming and roleplay by origin,
prompt length by category, and the top models within programming.

The use cases within open weights and within Chinese open weights month by month
(:func:`tokencensus.analyses.categories.share_within`) are not figures: on the 1M-request demo 207
of their 287 monthly cells fall under the privacy floor, and publishing the rest made complementary
suppression hide nearly all of them and ~40 cells of the category figures besides. The mix within
each segment over the whole period is the category_segments figure."""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.definitions import CHINESE_OPEN, PROPRIETARY, REST_OF_WORLD_OPEN, UNKNOWN_SEGMENT
from tokencensus.report.figure import Figure, Options, Partition, Period, on_frame, on_period
from tokencensus.report.figures.categories import labelled
from tokencensus.report.headlines import (
    Caveat,
    compared_months,
    headline_month_share,
    published_rows,
    window_share,
    words,
)
from tokencensus.report.numbers import fmt_count, fmt_pct, fmt_ratio, fmt_tokens
from tokencensus.report.sources import Sources
from tokencensus.report.tables import as_text

PROGRAMMING, ROLEPLAY = "programming", "roleplay"
ALL_CATEGORIES = "all categories"
"""The lengths figure's line over every classified request."""
TOP_AUTHORS = 8
"""The category-by-author chart draws the authors with most classified tokens."""
_WEIGHTED = "weighted like the category shares (each label counts its request's tokens times its model's "
_WEIGHTED += "inverse sampling rate; labels below the confidence floor count as other)"


def category_authors(s: Sources, _: Options) -> ir.Table:
    return analyses.mix_by_author(*labelled(s), population=s.cells)


def by_origin(category: str) -> Callable[[Sources, Options], ir.Table]:
    """The monthly origin shares within one category."""

    def data(s: Sources, _: Options) -> ir.Table:
        return analyses.categories.origin_share(*labelled(s), category, population=s.cells)

    return data


def programming_models(s: Sources, o: Options) -> ir.Table:
    return analyses.categories.top_models_in(*labelled(s), PROGRAMMING, o.top_n, population=s.cells)


def category_lengths(s: Sources, _: Options) -> ir.Table:
    """Mean prompt and completion tokens per request by month, for each category and for every
    classified request (the category :data:`ALL_CATEGORIES`). Only the means are published: the
    categories' labelled and estimated requests would sum to the line of all, and give a hidden
    category's away."""
    lab = analyses.labelled_events(*labelled(s), population=s.cells)
    keys = ["month", "category"]
    each = analyses.categories.lengths_of(lab, keys)
    every = analyses.categories.lengths_of(lab.mutate(category=ibis.literal(ALL_CATEGORIES)), keys)
    means = ("mean_input_tokens", "mean_output_tokens", "users")
    return each.union(every).select(*keys, *means).order_by(keys)


def headline_lengths(frame: pd.DataFrame) -> str:
    """Programming's mean prompt in the last month against all classified prompts', and its growth
    since the first month (the category with the longest prompts when programming is hidden)."""
    rows = published_rows(frame)
    if rows.empty:
        return Caveat("No category has published prompt lengths in this period.")
    last, first = max(rows["month"]), min(rows["month"])
    month = rows[rows["month"] == last].set_index("category")["mean_input_tokens"]
    cats = month.drop(ALL_CATEGORIES, errors="ignore").drop("other", errors="ignore")
    if cats.empty:
        return Caveat(f"No category has a published prompt length in {last.strftime('%B %Y')}.")
    top = PROGRAMMING if PROGRAMMING in cats.index else str(cats.sort_index().idxmax())
    now = float(cats[top])
    text = f"{words(top).capitalize()} prompts averaged {fmt_tokens(now)} tokens in {last.strftime('%B %Y')}"
    if ALL_CATEGORIES in month.index and float(month[ALL_CATEGORIES]) > 0:
        text += f", {fmt_ratio(now / float(month[ALL_CATEGORIES]))} the average classified prompt"
    then = rows[(rows["month"] == first) & (rows["category"] == top)]["mean_input_tokens"]
    if first != last and not then.empty and float(then.iloc[0]) > 0:
        text += f" ({fmt_ratio(now / float(then.iloc[0]))} their length in {first.strftime('%B %Y')})"
    return text + "."


def headline_authors(frame: pd.DataFrame) -> str:
    """The largest author's leading category, and the author whose mix leans most on programming."""
    rows = published_rows(frame)
    rows = rows[(rows["category"] != "other") & ~rows["author"].isin(["unknown", "Unknown"])]
    if rows.empty:
        return Caveat("No published category mix per author.")
    sizes = rows.groupby("author")["tokens"].sum().sort_index()
    author = str(sizes.idxmax())
    mine = rows[rows["author"] == author].sort_values(["share", "category"], ascending=[False, True])
    top = mine.iloc[0]
    text = f"{words(top['category']).capitalize()} led {author}'s classified tokens ({fmt_pct(top['share'])})"
    coding = rows[rows["category"] == PROGRAMMING].sort_values(["share", "author"], ascending=[False, True])
    if not coding.empty and str(coding.iloc[0]["author"]) != author:
        lead = coding.iloc[0]
        text += f"; programming weighed most in {lead['author']}'s mix ({fmt_pct(lead['share'])})"
    return text + "."


ORIGIN_SUBJECTS = {
    CHINESE_OPEN: "Chinese open-weights models",
    REST_OF_WORLD_OPEN: "Rest-of-world open-weights models",
    PROPRIETARY: "Proprietary models",
    UNKNOWN_SEGMENT: "Models missing from the catalog",
}


def origin_of(category: str) -> Callable[[pd.DataFrame, Period | None], str]:
    """Chinese open models' share of the category's last month against its first; the largest
    published segment's when theirs is suppressed."""

    def headline(frame: pd.DataFrame, period: Period | None) -> str:
        of = f"{words(category)} tokens"
        if frame.empty:
            return Caveat(f"No classified {of} in this period.")
        last = compared_months(frame, period)[-1]
        shares = {s: window_share(frame, "segment", s, [last], key="month") for s in ORIGIN_SUBJECTS}
        known = {s: v for s, v in shares.items() if v is not None}
        top = CHINESE_OPEN if CHINESE_OPEN in known or not known else max(known, key=lambda s: known[s])
        return headline_month_share(frame, top, ORIGIN_SUBJECTS[top], of, period)

    return headline


def headline_programming_models(frame: pd.DataFrame) -> str:
    if frame.empty:
        return Caveat("No model has published programming tokens (too few users or no labels).")
    ordered = frame.sort_values("rank", kind="stable")
    lead = ordered.iloc[0]
    text = f"{lead['model']} served {fmt_pct(lead['share'])} of programming tokens over the period"
    if len(ordered) >= 3:
        text += f"; the top 3 together {fmt_pct(float(ordered['share'].head(3).sum()))}"
    return text + "."


MONTHLY = Partition(("month",), ("tokens",), "segments sum to the month's total (through shares)")


def origin_figure(category: str, note: str) -> Figure:
    """The split of one category's classified tokens by model origin, month by month."""
    return Figure(
        f"{category}_origin",
        f"{words(category).capitalize()} by model origin",
        "categories",
        "share",
        note,
        data=by_origin(category),
        headline=on_period(origin_of(category)),
        labels=True,
        partitions=(MONTHLY,),
        category="segment",
        order=(CHINESE_OPEN, REST_OF_WORLD_OPEN, PROPRIETARY),
        trailing=(UNKNOWN_SEGMENT,),
    )


FIGURES = (
    Figure(
        "category_authors",
        "Categories by model author",
        "categories",
        "stacked_bars",
        f"Each author's category mix of classified tokens over the whole period, {_WEIGHTED}. Each bar "
        f"sums to 100%; the chart draws the {TOP_AUTHORS} authors with most classified tokens, the "
        "CSV every author.",
        data=category_authors,
        headline=on_frame(headline_authors),
        labels=True,
        partitions=(Partition(("author",), ("tokens", "labelled"), "categories sum to the author"),),
        category="category",
        bars="author",
        trailing=("other",),
        top=TOP_AUTHORS,
    ),
    origin_figure(
        PROGRAMMING,
        "Each segment's share of the month's classified programming tokens: open-weights models by "
        "their author's origin (China, rest of the world), proprietary models and unknown ones, "
        f"{_WEIGHTED}.",
    ),
    origin_figure(ROLEPLAY, f"The same split for the month's classified roleplay tokens, {_WEIGHTED}."),
    Figure(
        "category_lengths",
        "Prompt length by category",
        "categories",
        "category_lines",
        "Mean prompt tokens per request by month, per category and over all classified requests "
        f"(Σ weighted input tokens / Σ estimated requests), {_WEIGHTED}. Log scale. The chart draws "
        "the largest categories; the CSV has every category, and completion lengths too.",
        data=category_lengths,
        headline=on_frame(headline_lengths),
        labels=True,
        category="category",
        value="mean_input_tokens",
        order=(ALL_CATEGORIES,),
        trailing=("other",),
        top=7,
        percent=False,
        log=True,
        axis="Prompt tokens per request",
    ),
    Figure(
        "programming_models",
        "Top models for programming",
        "categories",
        "ranking",
        "The models with most classified programming tokens over the whole period; share is of all "
        f"programming tokens, {_WEIGHTED}. Models under the privacy floor are left out of the ranking.",
        data=programming_models,
        headline=on_frame(headline_programming_models),
        axis="Share of programming tokens",
        caption="The whole period.",
        labels=True,
        columns=(
            [("rank", "Rank", str), ("model", "Model", as_text), ("author", "Author", as_text)],
            [("tokens", "Tokens (weighted)", fmt_count), ("share", "Share", fmt_pct)],
        ),
    ),
)
