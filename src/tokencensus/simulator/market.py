"""The volume layer: how many requests each model serves each day, in which category.

Token shares are planted exactly in expectation. A model's daily token share is its segment's
target share times its weight within the segment (popularity × launch ramp × ageing × reasoning
boost). Request lengths depend only on (category, week), so a model's expected tokens per request
E[tokens | m, w] = Σ_c p(c | m, w) · E[tokens | c, w] is known, and the model is drawn with
probability ∝ share / E[tokens | m, w]. The category mix, the base lengths and the programming
trend are solved by a short fixed-point iteration so that the planted overall mean lengths and
programming share hold week by week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from tokencensus.simulator.config import SimConfig, along
from tokencensus.simulator.models import SEGMENTS, Models, period_days
from tokencensus.simulator.world import CATEGORIES, INPUT_MULT, OUTPUT_MULT, PROGRAMMING, WEEKDAY

AGEING_FLOOR = 0.03
"""Old models keep at least this share of their weight (somebody always still calls them)."""
PRE_PERIOD_PER_SEGMENT = 3
"""When models are dropped, each segment keeps at least this many models released before the period."""
CALIBRATION_ROUNDS = 60
"""Fixed-point rounds that solve the open-weights authors' popularity (``open_author_tokens``)."""


@dataclass(frozen=True)
class Market:
    """The planted volume layer and its realised request counts."""

    days: list[date]
    week_of_day: np.ndarray
    """(days,) week index of each day."""
    month_of_day: np.ndarray
    """(days,) month index of each day."""
    months: list[date]
    """First day of each calendar month the period touches."""
    day_requests: np.ndarray
    """(days,) requests per day (fixed; sums to config.requests)."""
    share_day: np.ndarray
    """(models, days) planted token share of each model per day."""
    p_model: np.ndarray
    """(days, models) probability that a request of the day goes to the model."""
    p_cat: np.ndarray
    """(models, weeks, categories) category mix of a model's requests."""
    mean_in: np.ndarray
    """(categories, weeks) mean input tokens per request."""
    mean_out: np.ndarray
    """(categories, weeks) mean output tokens of a request that does not fail."""
    tool_rate: np.ndarray
    """(weeks,) P(tool_calls | model has tools, request does not fail)."""
    tool_p: np.ndarray
    """(categories, weeks) the same by the request's category (``tool_category_weight``)."""
    counts: np.ndarray
    """(days, models, categories) realised request counts."""
    month_requests: np.ndarray
    """(models, months) realised requests."""


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    rest = total - int(out.sum())
    if rest:
        order = np.lexsort((np.arange(len(exact)), -(exact - out)))
        out[order[:rest]] += 1
    return out


def model_weights(models: Models, config: SimConfig, n_days: int) -> np.ndarray:
    """(models, days) weight of each model within its segment."""
    x = np.arange(n_days) / max(n_days - 1, 1)
    age = np.arange(n_days)[None, :] - models.release_day[:, None]
    scale = config.adoption_days / 3.0
    z = np.clip((age - config.adoption_days) / scale, -60, 60)
    adoption = np.where(age >= 0, 1.0 / (1.0 + np.exp(-z)), 0.0)
    ageing = np.maximum(0.5 ** (np.maximum(age, 0) / config.half_life_days), AGEING_FLOOR)
    boost = np.where(models.reasoning[:, None], config.reasoning_boost ** x[None, :], 1.0)
    return models.popularity[:, None] * adoption * ageing * boost


def day_volume(config: SimConfig, n_days: int) -> np.ndarray:
    """(days,) relative requests per day: linear growth times the weekday pattern."""
    x = np.arange(n_days) / max(n_days - 1, 1)
    return (1.0 + (config.volume_growth - 1.0) * x) * WEEKDAY[np.arange(n_days) % 7]


def planted_shares(models: Models, config: SimConfig, n_days: int) -> np.ndarray:
    """(models, days) token share of each model: segment target × weight within the segment.

    With ``open_author_tokens``, the named open-weights authors' weights are scaled (a fixed point)
    until their shares of the open-weights tokens since ``calibrate_from`` match the targets.
    """
    days = period_days(config)[:n_days]
    cn = along(config.chinese_open_share, days)
    row = along(config.row_open_share, days)
    target = np.stack([cn, row, 1.0 - cn - row])
    weight = model_weights(models, config, n_days)

    def shares(weight: np.ndarray) -> np.ndarray:
        seg_weight = np.stack([weight[models.segment == s].sum(axis=0) for s in range(len(SEGMENTS))])
        present = seg_weight > 0
        if not present.any(axis=0).all():
            first = config.start.toordinal() + int(np.argmin(present.any(axis=0)))
            raise ValueError(
                f"no simulated model is released by {date.fromordinal(first)}; check the catalog"
            )
        # A segment with no released model yet gives its target to the others.
        eff = target * present
        eff /= eff.sum(axis=0, keepdims=True)
        denom = np.where(present, seg_weight, 1.0)
        return eff[models.segment] * weight / denom[models.segment]

    if not config.open_author_tokens:
        return shares(weight)
    authors = models.info["author"].str.strip().str.lower().to_numpy()
    named = [a for a in config.open_author_tokens if ((authors == a) & (models.segment < 2)).any()]
    goal = np.array([config.open_author_tokens[a] for a in named], dtype=float)
    goal /= goal.sum()
    member = np.stack([(authors == a) & (models.segment < 2) for a in named])
    start = config.calibrate_from or config.start
    inside = np.array([d >= start for d in days])
    tokens = day_volume(config, n_days) * (
        along(config.mean_input_tokens, days, geometric=True)
        + along(config.mean_output_tokens, days, geometric=True)
    )
    tokens = np.where(inside, tokens, 0.0)

    def scaled(scale: np.ndarray) -> np.ndarray:
        return weight * (1.0 + member.T @ (scale - 1.0))[:, None]  # a model has one author

    scale = np.ones(len(named))
    for _ in range(CALIBRATION_ROUNDS):
        got = member @ (shares(scaled(scale)) @ tokens)
        got /= got.sum()
        if np.abs(got - goal).max() < 1e-6:
            break
        scale *= goal / np.maximum(got, 1e-12)
    return shares(scaled(scale))


def choose_models(models: Models, config: SimConfig) -> Models:
    """At most ``config.max_models`` models: those with the largest mean planted share.

    Each segment keeps its ``PRE_PERIOD_PER_SEGMENT`` most relevant models released before the
    period, so that every segment has traffic from the first week, and the models the config names
    (``model_popularity``, ``retention_plants``) are always kept.
    """
    if len(models) <= config.max_models:
        return models
    score = planted_shares(models, config, 7 * config.weeks).mean(axis=1)
    rank = np.lexsort((np.arange(len(models)), -score))
    named = set(config.model_popularity) | {p.model for p in config.retention_plants}
    keep: list[int] = [i for i, slug in enumerate(models.slug) if slug in named]
    for s in range(len(SEGMENTS)):
        pre = [
            int(i)
            for i in rank
            if models.segment[i] == s and models.release_day[i] < 0 and int(i) not in keep
        ]
        keep.extend(pre[:PRE_PERIOD_PER_SEGMENT])
    for i in rank:
        if len(keep) >= config.max_models:
            break
        if int(i) not in keep:
            keep.append(int(i))
    return models.subset(np.sort(np.array(keep)))


def solve_mix(
    models: Models, config: SimConfig, share_day: np.ndarray, day_volume: np.ndarray, week_of_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Category mix and base lengths that meet the planted weekly means and programming share.

    Returns p_cat (models, weeks, categories), p_model (days, models), mean_in and mean_out
    (categories, weeks; mean_out is of requests that do not fail).
    """
    n_weeks = config.weeks
    mondays = period_days(config)[::7]
    tgt_prog = along(config.programming_share, mondays)
    tgt_in = along(config.mean_input_tokens, mondays, geometric=True)
    tgt_out = along(config.mean_output_tokens, mondays, geometric=True)
    ok = 1.0 - config.error_rate
    g = np.ones(n_weeks)
    s_in, s_out = tgt_in.copy(), tgt_out.copy()
    base = models.category_mix
    for _ in range(60):
        p_cat = np.repeat(base[:, None, :], n_weeks, axis=1)
        p_cat[:, :, PROGRAMMING] *= g[None, :]
        p_cat /= p_cat.sum(axis=2, keepdims=True)
        mean_in = INPUT_MULT[:, None] * s_in[None, :]
        mean_out = OUTPUT_MULT[:, None] * s_out[None, :]
        tok = mean_in + ok * mean_out
        p_model = _p_model(p_cat, tok, share_day, week_of_day)
        req = _weekly(p_model * day_volume[:, None], n_weeks).T[:, :, None] * p_cat
        n_w = req.sum(axis=(0, 2))
        cur_in = np.einsum("mwc,cw->w", req, mean_in) / n_w
        cur_out = ok * np.einsum("mwc,cw->w", req, mean_out) / n_w
        tok_c = np.einsum("mwc,cw->wc", req, tok)
        cur_prog = tok_c[:, PROGRAMMING] / tok_c.sum(axis=1)
        err = max(
            np.abs(cur_in / tgt_in - 1).max(),
            np.abs(cur_out / tgt_out - 1).max(),
            np.abs(cur_prog - tgt_prog).max(),
        )
        if err < 1e-9:
            break
        s_in *= tgt_in / cur_in
        s_out *= tgt_out / cur_out
        g *= (tgt_prog / (1 - tgt_prog)) / (cur_prog / (1 - cur_prog))
    p_cat = np.repeat(base[:, None, :], n_weeks, axis=1)
    p_cat[:, :, PROGRAMMING] *= g[None, :]
    p_cat /= p_cat.sum(axis=2, keepdims=True)
    mean_in = INPUT_MULT[:, None] * s_in[None, :]
    mean_out = OUTPUT_MULT[:, None] * s_out[None, :]
    p_model = _p_model(p_cat, mean_in + ok * mean_out, share_day, week_of_day)
    return p_cat, p_model, mean_in, mean_out


def _p_model(
    p_cat: np.ndarray, tok: np.ndarray, share_day: np.ndarray, week_of_day: np.ndarray
) -> np.ndarray:
    per_request = np.einsum("mwc,cw->mw", p_cat, tok)
    p = (share_day / per_request[:, week_of_day]).T
    return p / p.sum(axis=1, keepdims=True)


def _weekly(per_day: np.ndarray, n_weeks: int) -> np.ndarray:
    """Sum a (days, ...) array into (weeks, ...)."""
    return per_day.reshape(n_weeks, 7, *per_day.shape[1:]).sum(axis=1)


def tool_by_category(
    models: Models,
    config: SimConfig,
    p_cat: np.ndarray,
    day_model: np.ndarray,
    tool_rate: np.ndarray,
) -> np.ndarray:
    """(categories, weeks) P(tool_calls | category, week) for a model with tools, among non-errors.

    Proportional to ``tool_category_weight`` and scaled so that the week's rate over all requests
    to models with tools is ``tool_rate`` (capped at 1 per category).
    """
    weight = np.array([config.tool_category_weight.get(c, 1.0) for c in CATEGORIES])
    weekly = _weekly(day_model, config.weeks).T  # (models, weeks)
    mix = np.einsum("mw,mwc->cw", weekly * models.tools[:, None], p_cat)
    mix /= np.maximum(mix.sum(axis=0, keepdims=True), 1e-300)
    mean = weight @ mix
    return np.minimum(weight[:, None] * (tool_rate / np.where(mean > 0, mean, 1.0))[None, :], 1.0)


def build_market(models: Models, config: SimConfig) -> Market:
    """Plant the shares, solve the mix and draw every day's request counts."""
    days = period_days(config)
    n_days = len(days)
    week_of_day = np.arange(n_days) // 7
    month_keys = [(d.year, d.month) for d in days]
    months_sorted = sorted(set(month_keys))
    months = [date(y, m, 1) for y, m in months_sorted]
    month_index = {k: i for i, k in enumerate(months_sorted)}
    month_of_day = np.array([month_index[k] for k in month_keys])

    volume = day_volume(config, n_days)
    day_requests = _allocate(config.requests, volume)
    share_day = planted_shares(models, config, n_days)
    p_cat, p_model, mean_in, mean_out = solve_mix(models, config, share_day, volume, week_of_day)
    tool_rate = along(config.tool_call_rate, days[::7])
    tool_p = tool_by_category(models, config, p_cat, p_model * volume[:, None], tool_rate)

    rng = np.random.default_rng([config.seed, 1])
    n_models, n_cat = len(models), p_cat.shape[2]
    cell_p = p_model[:, :, None] * p_cat[:, week_of_day, :].transpose(1, 0, 2)
    cell_p = cell_p.reshape(n_days, -1)
    cell_p /= cell_p.sum(axis=1, keepdims=True)
    counts = rng.multinomial(day_requests, cell_p).reshape(n_days, n_models, n_cat)
    month_requests = np.zeros((n_models, len(months)), dtype=np.int64)
    per_day_model = counts.sum(axis=2)
    for t in range(len(months)):
        month_requests[:, t] = per_day_model[month_of_day == t].sum(axis=0)
    return Market(
        days=days,
        week_of_day=week_of_day,
        month_of_day=month_of_day,
        months=months,
        day_requests=day_requests,
        share_day=share_day,
        p_model=p_model,
        p_cat=p_cat,
        mean_in=mean_in,
        mean_out=mean_out,
        tool_rate=tool_rate,
        tool_p=tool_p,
        counts=counts,
        month_requests=month_requests,
    )
