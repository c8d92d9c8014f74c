"""Cost vs usage: effective price per million tokens against volume, its quadrants and elasticity.

:func:`model_costs` and :func:`category_costs` are Ibis expressions over the enriched events table
(never executed here). :func:`fit_elasticity` is the small regression finished in NumPy on the
executed per-model points (a few hundred rows), clearly apart from the Ibis part.

Definitions (DESIGN.md; docs/analyses.md):

* **Effective price** of a model (or category) = spend / tokens × 1,000,000 (USD per 1M tokens),
  spend = Σ ``cost_usd`` over requests with a known cost and tokens = Σ (input + output) tokens of
  those same requests, so requests without a cost do not dilute the price. ``tokens`` in the output
  is all tokens (the usage axis).
* **Quadrants** (the study's cost-vs-usage map): a point is *high price* when its effective price is
  at or above the median effective price of the points, *high usage* when its tokens are at or
  above the median tokens of the points (medians over points with a price, unweighted). Models
  take the study's archetypes: "Premium leaders" (high price, high usage), "Efficient giants"
  (low price, high usage), "Premium specialists" (high price, low usage), "Long tail" (low, low);
  categories its use-case names: "Premium workloads", "Mass-market volume drivers", "Specialized
  experts", "Niche utilities" (:data:`ARCHETYPES`, :data:`QUADRANTS`).
* **Elasticity** = the OLS slope of ln(tokens) on ln(price) across points with positive price and
  tokens (each point weighs the same), with a 95% confidence interval from the slope's standard
  error and Student's t with n − 2 degrees of freedom. It is a cross-sectional association, not a
  causal demand elasticity.
* ``users`` = distinct non-null user ids behind a point (the report's privacy floor).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from tokencensus.analyses.agentic import with_category
from tokencensus.analyses.market import spend_sum, user_counts
from tokencensus.definitions import CONFIDENCE_FLOOR

PER_MILLION = 1_000_000.0
QUADRANTS = {
    (True, True): "Premium workloads",
    (False, True): "Mass-market volume drivers",
    (True, False): "Specialized experts",
    (False, False): "Niche utilities",
}
"""(high price, high usage) → a use case's quadrant, as the study names them for categories."""
ARCHETYPES = {
    (True, True): "Premium leaders",
    (False, True): "Efficient giants",
    (True, False): "Premium specialists",
    (False, False): "Long tail",
}
"""(high price, high usage) → a model's quadrant: the study's four model archetypes."""


def quadrant_names(keys: list[str]) -> dict[tuple[bool, bool], str]:
    """The quadrants' names for points of ``keys``: archetypes for models, else use-case names."""
    return ARCHETYPES if "model" in keys else QUADRANTS


def _costs(ev: ir.Table, keys: list[str]) -> ir.Table:
    priced = ev.cost_usd.notnull()
    cells = ev.group_by(keys).aggregate(
        requests=ev.requests.sum(),
        tokens=ev.tokens.sum(),
        priced_tokens=ev.tokens.sum(where=priced),
        spend=spend_sum(ev.cost_usd),
        **user_counts(ev),
    )
    f = "float64"
    price = ibis.ifelse(
        cells.priced_tokens > 0, cells.spend / cells.priced_tokens.cast(f) * PER_MILLION, None
    )
    points = cells.mutate(spend=cells.spend.fill_null(0.0), price_per_1m=price)
    valid = points.filter(points.price_per_1m.notnull())
    medians = valid.aggregate(
        median_price=valid.price_per_1m.median(), median_tokens=valid.tokens.cast(f).median()
    )
    joined = points.cross_join(medians)
    high_price = joined.price_per_1m >= joined.median_price
    high_usage = joined.tokens.cast(f) >= joined.median_tokens
    quadrant = ibis.cases(
        (joined.price_per_1m.isnull(), None),
        *(
            ((high_price if hp else ~high_price) & (high_usage if hu else ~high_usage), name)
            for (hp, hu), name in quadrant_names(keys).items()
        ),
    )
    positive = (joined.price_per_1m > 0) & (joined.tokens > 0)
    return (
        joined.mutate(
            quadrant=quadrant,
            log10_price=ibis.ifelse(positive, joined.price_per_1m.log10(), None),
            log10_tokens=ibis.ifelse(positive, joined.tokens.cast(f).log10(), None),
        )
        .select(
            *keys,
            "requests",
            "tokens",
            "spend",
            "price_per_1m",
            "log10_price",
            "log10_tokens",
            "median_price",
            "median_tokens",
            "quadrant",
            "users",
        )
        .order_by([ibis.desc("tokens"), *keys])
    )


def requadrant(points: pd.DataFrame, published: np.ndarray) -> pd.DataFrame:
    """The medians and quadrants of executed points taken again over the ``published`` ones only.

    Every row carries the medians, so medians over points a report hides would give one of them
    back (with an odd count a median is a point's value; with an even count, twice it minus the
    other middle one); the report takes them over what it publishes."""
    out = points.copy()
    price = pd.to_numeric(out["price_per_1m"]).astype("float64")
    tokens = pd.to_numeric(out["tokens"]).astype("float64")
    shown = np.asarray(published, dtype=bool) & price.notna().to_numpy()
    med_price = float(price[shown].median()) if shown.any() else math.nan
    med_tokens = float(tokens[shown].median()) if shown.any() else math.nan
    out["median_price"], out["median_tokens"] = med_price, med_tokens
    high_price, high_usage = price >= med_price, tokens >= med_tokens
    names = quadrant_names(list(out.columns))
    out["quadrant"] = [
        None if pd.isna(p) or math.isnan(med_price) else names[(bool(hp), bool(hu))]
        for p, hp, hu in zip(price, high_price, high_usage, strict=True)
    ]
    return out


def model_costs(events: ir.Table) -> ir.Table:
    """Per model: usage, spend, effective price per 1M tokens and the quadrant.

    Columns: model, author, open_segment, requests, tokens, spend, price_per_1m, log10_price,
    log10_tokens, median_price, median_tokens, quadrant, users; ordered by tokens descending.
    """
    return _costs(events, ["model", "author", "open_segment"])


def category_costs(events: ir.Table, labels: ir.Table, floor: float = CONFIDENCE_FLOOR) -> ir.Table:
    """Per category (labelled requests): usage, spend, effective price and the quadrant.

    Columns: category, requests, tokens, spend, price_per_1m, log10_price, log10_tokens,
    median_price, median_tokens, quadrant, users.
    """
    return _costs(with_category(events, labels, floor), ["category"])


@dataclass(frozen=True)
class Elasticity:
    """OLS of ln(tokens) on ln(price): slope with its 95% interval."""

    slope: float
    intercept: float
    stderr: float
    ci_low: float
    ci_high: float
    r2: float
    n: int

    def as_frame(self) -> pd.DataFrame:
        """One row with the fields as columns (for the CSV export)."""
        return pd.DataFrame([self.__dict__])


def t_quantile(p: float, dof: int) -> float:
    """Student's t quantile (Cornish–Fisher expansion around the normal; error < 1e-3 from 3 dof)."""
    z = _norm_quantile(p)
    v = float(dof)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4)
    )


def _norm_quantile(p: float) -> float:
    # Acklam's rational approximation (relative error < 1.2e-9), then one Newton step.
    a = (
        -39.69683028665376,
        220.9460984245205,
        -275.9285104469687,
        138.3577518672690,
        -30.66479806614716,
        2.506628277459239,
    )
    b = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572)
    c = (
        -0.007784894002430293,
        -0.3223964580411365,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    )
    d = (0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    elif p > 1 - 0.02425:
        return -_norm_quantile(1 - p)
    else:
        q = p - 0.5
        r = q * q
        x = (
            (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
            * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        )
    err = 0.5 * math.erfc(-x / math.sqrt(2)) - p
    return x - err * math.sqrt(2 * math.pi) * math.exp(x * x / 2)


def fit_elasticity(
    points: pd.DataFrame, price: str = "price_per_1m", usage: str = "tokens", level: float = 0.95
) -> Elasticity:
    """OLS slope of ln(``usage``) on ln(``price``) over the executed points, with a ``level`` CI.

    Rows with a missing or non-positive price or usage are left out. Raises ValueError under three
    usable points or when every price is the same.
    """
    frame = points[[price, usage]].apply(pd.to_numeric, errors="coerce").dropna()
    frame = frame[(frame[price] > 0) & (frame[usage] > 0)]
    n = len(frame)
    if n < 3:
        raise ValueError(f"elasticity needs at least 3 points with a positive price and usage; got {n}")
    x = np.log(frame[price].to_numpy(dtype=float))
    y = np.log(frame[usage].to_numpy(dtype=float))
    xc = x - x.mean()
    sxx = float(xc @ xc)
    if sxx == 0:
        raise ValueError("elasticity is undefined: every point has the same price")
    slope = float(xc @ (y - y.mean())) / sxx
    intercept = float(y.mean() - slope * x.mean())
    resid = y - intercept - slope * x
    sse = float(resid @ resid)
    sst = float(((y - y.mean()) ** 2).sum())
    stderr = math.sqrt(sse / (n - 2) / sxx)
    t = t_quantile(0.5 + level / 2, n - 2)
    return Elasticity(
        slope=slope,
        intercept=intercept,
        stderr=stderr,
        ci_low=slope - t * stderr,
        ci_high=slope + t * stderr,
        r2=1.0 - sse / sst if sst > 0 else 1.0,
        n=n,
    )
