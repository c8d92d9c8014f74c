"""The retention layer: which users are active on which model in which month.

Request counts per (model, month) come first, from the volume layer, so retention never moves the
planted token shares. A model gains new users each month (its cohort for that month, drawn from the
pool without replacement, favouring active users); a member of an earlier cohort c is active in
month t with the planted probability r[model, c, t - c], independently of other months, so curves
may rise again (boomerangs). Every active user gets at least one of the model's requests that month
and the rest go to active users in proportion to their activity.

Cohorts are sized so that active users stay below the month's requests; for the planted models
(glass slipper, boomerang, controls) the size is chosen with a 4-sigma margin and a breach raises
instead of silently distorting the planted curve.

A calendar month only partly inside the period (the last one, usually) is thinned: a member is
active there with probability curve × (share of the month's days inside the period), and
planted-model guarantees and the recorded truth cover complete months only.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np

from tokencensus.simulator.config import SimConfig
from tokencensus.simulator.market import Market
from tokencensus.simulator.models import Models
from tokencensus.simulator.sampling import group_shuffle, successive_sample
from tokencensus.simulator.users import Users

MIN_PLANTED_REQUESTS = 30
"""A planted model needs at least this many requests in every month from its first."""
ACTIVE_CEILING = 0.8
"""Planted models: expected active users stay below this share of the month's requests."""
MAX_POOL_SHARE = 0.9
"""A model's cohorts together hold at most this share of the user pool."""
PLANT_COHORT_SHARE = 0.7
"""A named plant's cohort takes up to this many new users per request of its month (a launch draws
a crowd), as far as the active-user ceiling of every later month allows."""


@dataclass(frozen=True)
class Cohorts:
    """Planted curves, the planted models and every model's cohort members."""

    curves: np.ndarray
    """(models, months, months): P(member of cohort c active in month c + k) at [m, c, k]; k=0 is 1."""
    glass_slipper: int | None
    slipper_cohort: int | None
    """Month index of the glass slipper's launch cohort."""
    boomerang: int | None
    controls: list[int]
    named: list[int]
    """Models of ``SimConfig.retention_plants``, in their order."""
    planted: np.ndarray
    """(models,) bool: the models whose curves must not be distorted."""
    new_users: np.ndarray
    """(models, months) cohort sizes."""
    month_fraction: np.ndarray
    """(months,) share of the month's days inside the period (1 for complete months)."""
    member_model: np.ndarray
    member_cohort: np.ndarray
    member_user: np.ndarray
    """Cohort members, sorted by model then cohort."""


def plain_curve(k: np.ndarray, first: float, plateau: float, tau: float) -> np.ndarray:
    """Retention at month k >= 1 decaying from ``first`` to ``plateau`` with time constant ``tau``."""
    return plateau + (first - plateau) * np.exp(-(k - 1) / tau)


def _curves(models: Models, n_months: int) -> np.ndarray:
    k = np.arange(n_months)[None, :]
    first, plateau, tau = (models.curve[:, i : i + 1] for i in range(3))
    per_k = np.where(k == 0, 1.0, plateau + (first - plateau) * np.exp(-(k - 1) / tau))
    return np.repeat(per_k[:, None, :], n_months, axis=1)


def _choose(models: Models, market: Market) -> tuple[int | None, int | None, int | None, list[int]]:
    """Glass slipper (and its launch month), boomerang and two controls, from popular early models."""
    r = market.month_requests
    n_models, n_months = r.shape
    has = r > 0
    first = np.where(has.any(axis=1), has.argmax(axis=1), n_months)

    complete = _month_fraction(market) >= 1.0

    def steady(m: int, t0: int) -> bool:
        return t0 < n_months and bool((r[m, t0:][complete[t0:]] >= MIN_PLANTED_REQUESTS).all())

    n_days = len(market.days)
    launch = np.full(n_models, -1)
    inside = (models.release_day >= 0) & (models.release_day < n_days)
    launch[inside] = market.month_of_day[models.release_day[inside]]
    slipper = slipper_month = None
    # The launch cohort and the one after it must both reach month 3, where foundational_cohorts
    # compares a launch cohort with the later ones: the launch is at least five months from the end.
    for last_launch in (2, n_months - 5):
        cands = [
            m
            for m in range(n_models)
            if 0 <= launch[m] <= last_launch and n_months - launch[m] >= 5 and steady(m, int(launch[m]))
        ]
        if cands:
            slipper = max(cands, key=lambda m: (r[m, launch[m]], -m))
            slipper_month = int(launch[slipper])
            break
    others = [
        m
        for m in range(n_models)
        if m != slipper and first[m] <= 2 and n_months - first[m] >= 5 and steady(m, int(first[m]))
    ]
    others.sort(key=lambda m: (-int(r[m].sum()), m))
    boomerang = others[0] if others else None
    return slipper, slipper_month, boomerang, others[1:3]


def _plant(
    curves: np.ndarray, config: SimConfig, slipper: int | None, month: int | None, boomerang: int | None
) -> None:
    n_months = curves.shape[1]
    k = np.arange(1, n_months)
    if slipper is not None and month is not None:
        launch_plateau, later_plateau = config.slipper_plateau
        curves[slipper, :, 1:] = plain_curve(k, min(later_plateau + 0.15, 1.0), later_plateau, 1.5)
        curves[slipper, month, 1:] = plain_curve(k, min(launch_plateau + 0.1, 1.0), launch_plateau, 1.0)
    if boomerang is not None:
        values = np.array(config.boomerang_curve, dtype=float)
        curves[boomerang, :, 1:] = values[np.minimum(k - 1, len(values) - 1)]


def _plant_named(
    curves: np.ndarray, models: Models, market: Market, config: SimConfig
) -> tuple[int | None, int | None, int | None, list[tuple[int, int]]]:
    """Apply ``config.retention_plants``: (glass slipper, its cohort, boomerang, every applied
    plant's (model, cohort)).

    A named model with fewer than MIN_PLANTED_REQUESTS in some complete month after its first (a
    small simulation) keeps its plain curve.
    """
    n_months = curves.shape[1]
    k = np.arange(1, n_months)

    def curve(values: tuple[float, ...]) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        return v[np.minimum(k - 1, len(v) - 1)]

    r = market.month_requests
    complete = _month_fraction(market) >= 1.0
    slipper = slipper_month = boomerang = None
    applied: list[tuple[int, int]] = []
    for plant in config.retention_plants:
        if plant.model not in models.slug:
            raise ValueError(f"SimConfig.retention_plants: {plant.model!r} is not a simulated model")
        first = plant.cohort.replace(day=1)
        if first not in market.months:
            raise ValueError(
                f"SimConfig.retention_plants: cohort {plant.cohort} of {plant.model} is outside the period"
            )
        m, c = models.slug.index(plant.model), market.months.index(first)
        live = r[m] > 0
        after = int(np.argmax(live)) + 1 if live.any() else r.shape[1]  # the launch month may be thin
        if not (r[m, after:][complete[after:]] >= MIN_PLANTED_REQUESTS).all():
            continue  # too little traffic at this size to hold the planted curve: the model stays plain
        curves[m, :, 1:] = curve(plant.later)
        curves[m, c, 1:] = curve(plant.curve)
        applied.append((m, c))
        if plant.kind == "foundational" and slipper is None:
            slipper, slipper_month = m, c
        elif plant.kind == "boomerang" and boomerang is None:
            boomerang = m
    return slipper, slipper_month, boomerang, applied


def _ceiling(r: np.ndarray) -> np.ndarray:
    """Expected active users a model-month may hold: below ACTIVE_CEILING of its requests, with a
    4-sigma margin for the draw."""
    return np.minimum(ACTIVE_CEILING * r, (np.sqrt(r + 4.0) - 2.0) ** 2)


def _active(new: np.ndarray, curve: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """(months,) expected active users of a model with cohort sizes ``new``."""
    n = len(new)
    return np.array(
        [new[t] + fraction[t] * sum(new[c] * curve[c, t - c] for c in range(t)) for t in range(n)]
    )


def _plant_cohort(new: np.ndarray, r: np.ndarray, curve: np.ndarray, fraction: np.ndarray, c: int) -> int:
    """The largest size (up to PLANT_COHORT_SHARE of month c's requests, at least the current one)
    for cohort ``c`` that keeps every complete month's expected active users under the ceiling."""
    live = (r > 0) & (fraction >= 1.0)
    others = new.astype(float).copy()
    others[c] = 0.0
    room = _ceiling(r) - _active(others, curve, fraction)
    per_user = np.array(
        [1.0 if t == c else fraction[t] * curve[c, t - c] if t > c else 0.0 for t in range(len(r))]
    )
    binding = live & (per_user > 0)
    largest = PLANT_COHORT_SHARE * r[c]
    if binding.any():
        largest = min(largest, float((room[binding] / per_user[binding]).min()))
    return max(int(new[c]), int(np.floor(largest)))


def _month_fraction(market: Market) -> np.ndarray:
    """(months,) share of each calendar month's days that lie inside the period."""
    inside = np.bincount(market.month_of_day, minlength=len(market.months))
    length = np.array([calendar.monthrange(m.year, m.month)[1] for m in market.months])
    return np.minimum(inside / length, 1.0)


def _planted_rate(r: np.ndarray, curve: np.ndarray, fraction: np.ndarray, rate: float, pool: float) -> float:
    """Largest new-user rate (<= rate) that keeps expected active users safely below requests."""
    coef = _active(r.astype(float), curve, fraction)
    live = (r > 0) & (fraction >= 1.0)
    best = min(rate, pool / max(float(r.sum()), 1.0))
    if live.any():
        best = min(best, float((_ceiling(r)[live] / coef[live]).min()))
    return best


def build_cohorts(models: Models, market: Market, users: Users, config: SimConfig) -> Cohorts:
    """Plant the curves, size every cohort and draw its members."""
    r = market.month_requests
    n_models, n_months = r.shape
    curves = _curves(models, n_months)
    applied: list[tuple[int, int]] = []
    if config.retention_plants:
        slipper, month, boomerang, applied = _plant_named(curves, models, market, config)
        controls: list[int] = []
    else:
        slipper, month, boomerang, controls = _choose(models, market)
        _plant(curves, config, slipper, month, boomerang)
    planted = np.zeros(n_models, dtype=bool)
    named = [m for m, _ in applied]
    for m in [slipper, boomerang, *controls, *named]:
        if m is not None:
            planted[m] = True

    rng = np.random.default_rng([config.seed, 3])
    fraction = _month_fraction(market)
    pool = MAX_POOL_SHARE * config.users
    rate = np.full(n_models, config.new_user_rate)
    for p in np.flatnonzero(planted):
        rate[p] = _planted_rate(r[p], curves[p], fraction, config.new_user_rate, pool)
    jitter = np.where(planted[:, None], 0.5, rng.random(r.shape))
    new = np.floor(rate[:, None] * r + jitter).astype(np.int64)
    for m, c in applied:
        new[m, c] = _plant_cohort(new[m], r[m], curves[m], fraction, c)
    total = new.sum(axis=1)
    over = total > pool
    new[over] = np.floor(new[over] * (pool / total[over])[:, None]).astype(np.int64)
    new = np.where(r > 0, np.maximum(new, 1), 0)

    members_model, members_cohort, members_user = [], [], []
    for m in range(n_models):
        k = int(new[m].sum())
        if not k:
            continue
        members_user.append(users.by_rank[successive_sample(rng, users.join, k)])
        members_model.append(np.full(k, m, dtype=np.int32))
        members_cohort.append(np.repeat(np.arange(n_months, dtype=np.int32), new[m]))
    return Cohorts(
        curves=curves,
        glass_slipper=slipper,
        slipper_cohort=month,
        boomerang=boomerang,
        controls=controls,
        named=named,
        planted=planted,
        new_users=new,
        month_fraction=fraction,
        member_model=np.concatenate(members_model),
        member_cohort=np.concatenate(members_cohort),
        member_user=np.concatenate(members_user).astype(np.int64),
    )


def assign_users(
    cohorts: Cohorts, users: Users, month: int, requests: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The user of each of the month's requests, grouped by model in model order.

    ``requests`` is (models,) the month's request counts; within a model's group the order is
    random.
    """
    n_models = len(requests)
    if not requests.any():
        return np.empty(0, dtype=np.int64)
    k = month - cohorts.member_cohort
    p = cohorts.curves[cohorts.member_model, cohorts.member_cohort, np.clip(k, 0, None)]
    p *= cohorts.month_fraction[month]
    u = rng.random(len(k))
    active = (k == 0) | ((k > 0) & (u < p))
    act_model = cohorts.member_model[active]
    act_user = cohorts.member_user[active]
    count = np.bincount(act_model, minlength=n_models)
    over = count > requests
    if over.any():
        breached = np.flatnonzero(over & cohorts.planted)
        if len(breached) and cohorts.month_fraction[month] >= 1.0:
            raise RuntimeError(
                f"month {month}: planted model(s) {breached.tolist()} have more active users than requests; "
                "simulate more requests or lower SimConfig.new_user_rate"
            )
        # Unplanted models: keep a random subset of the active users, one request each.
        key = act_model + rng.random(len(act_model))
        order = np.argsort(key, kind="stable")
        model_sorted = act_model[order]
        starts = np.concatenate([[0], np.cumsum(count)[:-1]])
        rank = np.arange(len(order)) - starts[model_sorted]
        keep = np.sort(order[rank < requests[model_sorted]])
        act_model, act_user = act_model[keep], act_user[keep]
        count = np.bincount(act_model, minlength=n_models)
    extra = requests - count
    if (extra > 0).any() and (count[extra > 0] == 0).any():
        raise RuntimeError(f"month {month}: a model has requests but no active user")
    weight = users.activity_in(act_user, (month + 0.5) / len(cohorts.month_fraction))
    cum = np.cumsum(weight)
    ends = np.cumsum(count)
    starts = ends - count
    lo = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    hi = np.where(count > 0, cum[np.maximum(ends - 1, 0)], 0.0)
    extra_model = np.repeat(np.arange(n_models), extra)
    x = lo[extra_model] + rng.random(len(extra_model)) * (hi - lo)[extra_model]
    pos = np.searchsorted(cum, x, side="right")
    pos = np.clip(pos, starts[extra_model], ends[extra_model] - 1)
    all_model = np.concatenate([act_model, extra_model])
    all_user = np.concatenate([act_user, act_user[pos]])
    return all_user[group_shuffle(rng, all_model)]
