"""Cost vs usage: what people pay against how much they use, per model and per use case."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.report.figure import Figure, Options, Partition, on_frame
from tokencensus.report.headlines import Caveat, published_rows, words
from tokencensus.report.numbers import fmt_count, fmt_price, fmt_signed
from tokencensus.report.sources import Sources, with_users
from tokencensus.report.tables import as_text

SCATTER_COLUMNS = (
    ("quadrant", "Quadrant", as_text),
    ("price_per_1m", "Price per 1M", fmt_price),
    ("tokens", "Tokens", fmt_count),
    ("users", "Users", fmt_count),
)


def cost_vs_usage(s: Sources, _: Options) -> ir.Table:
    return with_users(analyses.model_costs(s.cells), s.users["cost_vs_usage"], ["model"])


def category_costs(s: Sources, _: Options) -> ir.Table:
    assert s.labelled is not None
    assert s.labels is not None
    return analyses.category_costs(s.labelled, s.labels)


def headline_costs(frame: pd.DataFrame) -> str:
    """The price elasticity of usage across the published models (an association)."""
    from tokencensus.analyses.costs import fit_elasticity

    try:
        fit = fit_elasticity(published_rows(frame))
    except ValueError:
        return Caveat("Too few published models with a price to relate price and usage.")
    direction = "less" if fit.slope < 0 else "more"
    size = f"{abs(fit.slope):.1f}%" if abs(fit.slope) >= 0.05 else f"{abs(fit.slope):.2f}%"
    text = (
        f"Across {fit.n} models, a 1% higher price went with {size} {direction} usage "
        f"(elasticity {fmt_signed(fit.slope)}, 95% CI {fmt_signed(fit.ci_low)} to {fmt_signed(fit.ci_high)}"
    )
    if fit.ci_low <= 0 <= fit.ci_high:
        text += ", not distinguishable from zero"
    return text + "): an association across models, not the effect of a price change."


def headline_category_costs(frame: pd.DataFrame) -> str:
    """The most-used category and its price, and the priciest category."""
    published = published_rows(frame)
    priced = published[published["price_per_1m"].notna()]
    if priced.empty:
        return Caveat("No category has a published price.")
    used = priced.sort_values(["tokens", "category"], ascending=[False, True], kind="stable").iloc[0]
    dear = priced.sort_values(["price_per_1m", "category"], ascending=[False, True], kind="stable").iloc[0]
    text = (
        f"{words(used['category']).capitalize()} carried the most classified tokens at "
        f"{fmt_price(used['price_per_1m'])} per million"
    )
    if dear["category"] != used["category"]:
        text += f"; the priciest category was {words(dear['category'])} at {fmt_price(dear['price_per_1m'])}"
    return text + "."


FIGURES = (
    Figure(
        "cost_vs_usage",
        "Cost vs usage",
        "costs",
        "scatter",
        "Effective price = spend / tokens × 10⁶ (USD per million tokens, over requests with a known "
        "cost) against all tokens, one point per model, log–log. The rules are the median price and "
        "median usage: they split the models into four quadrants. Elasticity = the slope of ln(tokens) "
        "on ln(price) across the published points (OLS, 95% CI): a cross-sectional association, not "
        "the effect of changing a price.",
        data=cost_vs_usage,
        headline=on_frame(headline_costs),
        columns=([("model", "Model", as_text)], SCATTER_COLUMNS),
        partitions=(
            Partition(
                (),
                ("requests", "tokens", "spend"),
                "models sum to the period (the summary)",
                via_shares=False,
            ),
        ),
        category="model",
        value="price_per_1m",
    ),
    Figure(
        "category_costs",
        "Cost vs usage by category",
        "costs",
        "scatter",
        "The same price-vs-usage map per use-case category (classified requests only); the rules are "
        "the categories' median price and usage.",
        data=category_costs,
        headline=on_frame(headline_category_costs),
        labels=True,
        columns=([("category", "Category", as_text)], SCATTER_COLUMNS),
        partitions=(
            Partition((), ("requests", "tokens", "spend"), "categories sum to the classified total"),
        ),
        category="category",
        value="price_per_1m",
    ),
)
