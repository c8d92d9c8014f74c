"""Retention: monthly cohorts per model, the activity triangle, curves, and two named patterns.

Every function takes the enriched events table of :mod:`tokencensus.engine` and returns an Ibis
expression (never executed here). They all start from :func:`monthly_activity`, the (model, user,
month) rollup, and most from the retention triangle over it (:func:`triangle_of`); the ``*_of``
functions take those parts, so a caller that has them materialised (the report) reads them once.

Definitions (DESIGN.md; docs/analyses.md):

* **Cohort** of a model = the users whose first request to that model (in the data) fell in month
  ``c``. **Activity retention** at ``k`` = share of the cohort with any request to the model in
  month ``c + k``; a user who returns after a gap counts again, so curves may rise. Retention at
  ``k = 0`` is 1 by construction. Only requests with a user id count.
* Months run in UTC. A month at the end of the data that is not complete (the data ends before its
  last day) is left out of every retention cell (its activity would read as churn).
* **Curve** of a model = pooled retention at each k over the cohorts observed at k:
  Σ active users / Σ cohort users.
* **Foundational ("glass slipper") launch cohort**: the launch cohort is the model's first cohort,
  and it is observable only when it is not the data's first month (users of a model already in use
  when the data starts all look new then). The model is flagged when, at month ``k`` (default 3),
  the launch cohort's retention is ≥ ``ratio`` (default 2) × the median retention of the model's
  later cohorts at the same k, **and** ≥ ``min_retention`` (default 0.3) in absolute terms, with
  the launch cohort and each compared later cohort holding ≥ ``min_cohort`` users (default 50) and
  at least one later cohort observed at k.
* **Boomerang**: take the model's cohorts with ≥ ``min_cohort`` users (default 100) observed
  through k = ``horizon`` (default 3), and pool them into one curve over 1 ≤ k ≤ horizon (the same
  cohorts at every k, so a strong early cohort cannot fake a rise). Its *rise* at k = pooled
  retention at k − the minimum pooled retention at 1 ≤ i < k (the dip). The model is a boomerang
  when its largest rise is ≥ ``min_rise`` (default 0.05, five points) **and** ≥ ``min_z``
  (default 3) standard errors, se = √(r(1 − r)/n + d(1 − d)/n) with n the pooled cohort users,
  r the retention after the rise and d at the dip.
* **Churn flows**: a user *churns* from model A after month m when active on A in m but not in
  m + 1 (m + 1 complete and in the data). The churn *goes to* model B when the user is active on B
  in m + 1 (with ``new_only``, only if not already on B in m). "(none)" counts churns with no other
  model that month. ``share`` = churns A → B / all churns from A; a churned user may use several
  models, so a model's shares sum to ≥ 1. With ``models`` (the report follows its top models),
  flows start from those models only, and a churn to any model outside them counts once, as
  "Other models".
* ``users`` = distinct users behind a cell: the cohort size for triangle cells and curves (the
  population the rate describes), the moving users for flows.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

NONE = "(none)"
OTHER_MODELS = "Other models"
MAX_K = 600
"""Longest retention horizon in months (50 years): the k grid the triangle is built on."""


def month_index(month: ir.DateValue) -> ir.IntegerValue:
    """Months since year 0 (portable month arithmetic: no interval-of-months on dates)."""
    return month.year() * 12 + month.month() - 1


def monthly_activity(events: ir.Table) -> ir.Table:
    """The rollup every retention analysis uses: one row per (model, user, month) with activity.

    Columns: model, user_id, month, mi (month index = year × 12 + month − 1), requests, tokens,
    last_day (the last request day in the cell; its maximum is the data's last day).
    """
    ev = events.filter(events.user_id.notnull())
    agg = ev.group_by(["model", "user_id", "month"]).aggregate(
        requests=ev.requests.sum(), tokens=ev.tokens.sum(), last_day=ev.ts.max().date()
    )
    return agg.mutate(mi=month_index(agg.month))


def _bounds(activity: ir.Table) -> ir.Table:
    """One row: first_mi (data's first month), end_mi (first month index NOT complete)."""
    return activity.aggregate(
        first_mi=activity.mi.min(),
        end_mi=month_index((activity.last_day.max() + ibis.interval(days=1)).truncate("M")),
    )


def _cohort_activity(activity: ir.Table) -> ir.Table:
    """activity ⋈ first month per (model, user): model, user_id, cohort, cohort_mi, mi, k."""
    first = activity.group_by(["model", "user_id"]).aggregate(
        cohort=activity.month.min(), cohort_mi=activity.mi.min()
    )
    first = first.rename(f_model="model", f_user="user_id")
    joined = activity.inner_join(first, [activity.model == first.f_model, activity.user_id == first.f_user])
    return joined.select("model", "user_id", "cohort", "cohort_mi", "mi", k=joined.mi - joined.cohort_mi)


def retention_triangle(events: ir.Table) -> ir.Table:
    """Activity retention of every (model, cohort month, k) over complete months.

    Columns: model, cohort (first day of the cohort month), k, cohort_users, active_users,
    retention (active / cohort users; 1 at k = 0), users (= cohort_users, for the privacy floor),
    left_censored (the cohort is the data's first month: it mixes new and earlier users).
    """
    return triangle_of(monthly_activity(events))


def triangle_of(activity: ir.Table) -> ir.Table:
    """:func:`retention_triangle` from the :func:`monthly_activity` rollup."""
    act = _cohort_activity(activity)
    bounds = _bounds(activity)
    active = act.group_by(["model", "cohort", "k"]).aggregate(active_users=act.user_id.nunique())
    sizes = (
        active.filter(active.k == 0)
        .select("model", "cohort", cohort_users="active_users")
        .mutate(cohort_mi=lambda t: month_index(t.cohort))
    )
    # Every observable k of every cohort, so that months nobody returned read as 0, not missing.
    ks = ibis.memtable({"k_": list(range(MAX_K))})
    grid = sizes.cross_join(bounds).cross_join(ks)
    grid = grid.filter((grid.k_ == 0) | (grid.cohort_mi + grid.k_ < grid.end_mi))
    act_k = active.rename(a_model="model", a_cohort="cohort", a_k="k")
    joined = grid.left_join(
        act_k, [grid.model == act_k.a_model, grid.cohort == act_k.a_cohort, grid.k_ == act_k.a_k]
    )
    active_users = joined.active_users.fill_null(0)
    return joined.select(
        "model",
        "cohort",
        k=joined.k_,
        cohort_users=joined.cohort_users,
        active_users=active_users,
        retention=active_users.cast("float64") / joined.cohort_users.cast("float64"),
        users=joined.cohort_users,
        left_censored=joined.cohort_mi == joined.first_mi,
    ).order_by(["model", "cohort", "k"])


def top_models_by_tokens(activity: ir.Table, n: int) -> ir.Table:
    """The ``n`` models with most tokens in ``activity`` (column ``t_model``; ties by name): in
    :func:`monthly_activity`, or any rows of model and tokens, the tokens of requests with a user."""
    per = activity.group_by("model").aggregate(tokens=activity.tokens.sum())
    return per.order_by([per.tokens.desc(), per.model]).limit(n).select(t_model="model")


def retention_curves(events: ir.Table, n: int = 5, min_cohort: int = 1) -> ir.Table:
    """Pooled retention curves of the ``n`` models with most tokens (of requests with a user).

    Pooled over the model's cohorts with ≥ ``min_cohort`` users observed at k. Columns: model, k,
    cohorts, cohort_users, active_users, retention, users (= cohort_users).
    """
    activity = monthly_activity(events)
    return curves_of(triangle_of(activity), top_models_by_tokens(activity, n), min_cohort)


def curves_of(triangle: ir.Table, models: ir.Table, min_cohort: int = 1) -> ir.Table:
    """:func:`retention_curves` from the triangle and the models to draw (column ``t_model``)."""
    tri = triangle.filter(triangle.cohort_users >= min_cohort)
    tri = tri.semi_join(models, tri.model == models.t_model)
    curve = tri.group_by(["model", "k"]).aggregate(
        cohorts=tri.cohort.count(),
        cohort_users=tri.cohort_users.sum(),
        active_users=tri.active_users.sum(),
    )
    return curve.mutate(
        retention=curve.active_users.cast("float64") / curve.cohort_users.cast("float64"),
        users=curve.cohort_users,
    ).order_by(["model", "k"])


def foundational_cohorts(
    events: ir.Table, k: int = 3, ratio: float = 2.0, min_retention: float = 0.3, min_cohort: int = 50
) -> ir.Table:
    """Glass-slipper test for every model with an observable launch cohort (rule: module docstring).

    Columns: model, launch_cohort, k, launch_retention, later_median, later_cohorts, lift
    (launch / later median), launch_users, users (= launch_users), foundational (bool).
    """
    activity = monthly_activity(events)
    return foundational_of(triangle_of(activity), activity, k, ratio, min_retention, min_cohort)


def foundational_of(
    triangle: ir.Table,
    activity: ir.Table,
    k: int = 3,
    ratio: float = 2.0,
    min_retention: float = 0.3,
    min_cohort: int = 50,
) -> ir.Table:
    """:func:`foundational_cohorts` from the triangle and the activity (whose first ``month`` is the
    data's first month, whose cohort is not observable)."""
    tri = triangle.filter(triangle.cohort_users >= min_cohort)
    launch = (
        tri.filter(tri.k == 0)
        .group_by("model")
        .aggregate(launch_cohort=tri.cohort.min())
        .rename(l_model="model")
    )
    at_k = tri.filter(tri.k == k)
    data_first = activity.aggregate(data_first=activity.month.min())
    lj = at_k.inner_join(launch, at_k.model == launch.l_model)
    launch_row = lj.filter(lj.cohort == lj.launch_cohort).select(
        "model",
        "launch_cohort",
        launch_retention="retention",
        launch_users="cohort_users",
        censored="left_censored",
    )
    later = lj.filter(lj.cohort > lj.launch_cohort)
    later = later.group_by(o_model=later.model).aggregate(
        later_median=later.retention.median(), later_cohorts=later.cohort.count()
    )
    out = launch_row.inner_join(later, launch_row.model == later.o_model).cross_join(data_first)
    out = out.filter(~out.censored & (out.launch_cohort > out.data_first))
    lift = ibis.ifelse(out.later_median > 0, out.launch_retention / out.later_median, None)
    flagged = (out.launch_retention >= ratio * out.later_median) & (out.launch_retention >= min_retention)
    return out.select(
        "model",
        "launch_cohort",
        k=ibis.literal(k),
        launch_retention=out.launch_retention,
        later_median=out.later_median,
        later_cohorts=out.later_cohorts,
        lift=lift,
        launch_users=out.launch_users,
        users=out.launch_users,
        foundational=flagged,
    ).order_by("model")


def boomerangs(
    events: ir.Table, min_rise: float = 0.05, min_z: float = 3.0, min_cohort: int = 100, horizon: int = 3
) -> ir.Table:
    """Boomerang test for every model with eligible cohorts (rule: module docstring).

    Columns: model, cohorts (eligible), users (their users), dip_k (k of the minimum before the
    largest rise), rise (largest rise, retention points as a fraction), z (rise / its standard
    error), boomerang (bool).
    """
    return boomerangs_of(retention_triangle(events), min_rise, min_z, min_cohort, horizon)


def boomerangs_of(
    triangle: ir.Table, min_rise: float = 0.05, min_z: float = 3.0, min_cohort: int = 100, horizon: int = 3
) -> ir.Table:
    """:func:`boomerangs` from the retention triangle."""
    tri = triangle.filter((triangle.cohort_users >= min_cohort) & (triangle.k >= 1))
    span = (
        tri.group_by(["model", "cohort"])
        .aggregate(max_k=tri.k.max())
        .rename(s_model="model", s_cohort="cohort")
    )
    tri = tri.inner_join(span, [tri.model == span.s_model, tri.cohort == span.s_cohort])
    tri = tri.filter((tri.max_k >= horizon) & (tri.k <= horizon))
    pooled = tri.group_by(["model", "k"]).aggregate(
        cohorts=tri.cohort.nunique(), users=tri.cohort_users.sum(), active=tri.active_users.sum()
    )
    f = "float64"
    pooled = pooled.mutate(retention=pooled.active.cast(f) / pooled.users.cast(f))
    before = ibis.window(group_by=pooled.model, order_by=pooled.k, rows=(None, -1))
    pooled = pooled.mutate(prev_min=pooled.retention.min().over(before))
    n = pooled.users.cast(f)
    se = ((pooled.retention * (1 - pooled.retention) + pooled.prev_min * (1 - pooled.prev_min)) / n).sqrt()
    rise = (pooled.retention - pooled.prev_min).fill_null(0.0)
    pooled = pooled.mutate(rise=rise, z=ibis.ifelse(se > 0, rise / se, 0.0))
    best = ibis.row_number().over(group_by=pooled.model, order_by=[pooled.rise.desc(), pooled.k])
    top = pooled.mutate(best=best).filter(lambda t: t.best == 0)
    dip = pooled.select(d_model="model", dip_k="k", d_ret="retention")
    out = top.left_join(dip, [top.model == dip.d_model, top.prev_min == dip.d_ret, dip.dip_k < top.k])
    out = out.group_by(["model", "cohorts", "users", "rise", "z"]).aggregate(dip_k=out.dip_k.min())
    return out.select(
        "model",
        "cohorts",
        "users",
        "dip_k",
        "rise",
        "z",
        boomerang=(out.rise >= min_rise) & (out.z >= min_z),
    ).order_by("model")


def followed_cohorts(
    events: ir.Table, n: int = 3, min_cohort: int = 50, min_boomerang_cohort: int = 100
) -> ir.Table:
    """The retention triangle of the models worth following cohort by cohort: those with a
    foundational launch cohort, the boomerangs, and the ``n`` with most tokens (rules: module
    docstring). Columns: the triangle's, and foundational, boomerang, largest (bool).
    """
    activity = monthly_activity(events)
    triangle = triangle_of(activity)
    return cohorts_of(
        triangle,
        foundational_of(triangle, activity, min_cohort=min_cohort),
        boomerangs_of(triangle, min_cohort=min_boomerang_cohort),
        top_models_by_tokens(activity, n),
    )


def cohorts_of(
    triangle: ir.Table, foundational: ir.Table, boomerangs: ir.Table, largest: ir.Table
) -> ir.Table:
    """:func:`followed_cohorts` from the triangle, the glass-slipper and boomerang tests, and the
    largest models (column ``t_model``)."""
    found = foundational.filter(foundational.foundational.fill_null(False)).model
    back = boomerangs.filter(boomerangs.boomerang.fill_null(False)).model
    flagged = triangle.mutate(
        foundational=triangle.model.isin(found),
        boomerang=triangle.model.isin(back),
        largest=triangle.model.isin(largest.t_model),
    )
    followed = flagged.filter(flagged.foundational | flagged.boomerang | flagged.largest)
    return followed.order_by(["model", "cohort", "k"])


def churn_flows(events: ir.Table, new_only: bool = False, models: list[str] | None = None) -> ir.Table:
    """Where users who stop using a model go the next month (model → model flows).

    ``models`` (default: every model) are the models followed: flows start from one of them, and a
    destination outside them counts once per churn as "Other models". Columns: from_model,
    to_model ("(none)" when no other model), churns (user-months), users (distinct users),
    from_churns (all churns from the model), share (churns / from_churns).
    """
    act = monthly_activity(events)
    slim = act.select("model", "user_id", "mi")
    bounds = _bounds(act)
    nxt = slim.select(n_model="model", n_user="user_id", n_mi=slim.mi - 1)
    churned = slim.anti_join(
        nxt, [slim.model == nxt.n_model, slim.user_id == nxt.n_user, slim.mi == nxt.n_mi]
    ).cross_join(bounds)
    churned = churned.filter(churned.mi + 1 < churned.end_mi).select("model", "user_id", "mi")
    if models is not None:
        churned = churned.filter(churned.model.isin(models))
    dest = slim.select(d_model="model", d_user="user_id", d_mi=slim.mi - 1)
    if new_only:
        cur = slim.select(c_model="model", c_user="user_id", c_mi="mi")
        dest = dest.anti_join(
            cur, [dest.d_model == cur.c_model, dest.d_user == cur.c_user, dest.d_mi == cur.c_mi]
        )
    moves = churned.left_join(
        dest,
        [churned.user_id == dest.d_user, churned.mi == dest.d_mi, churned.model != dest.d_model],
    )
    to_model = moves.d_model
    if models is not None:
        to_model = ibis.ifelse(to_model.isnull() | to_model.isin(models), to_model, OTHER_MODELS)
    moves = moves.select(
        from_model=moves.model,
        to_model=to_model.fill_null(NONE),
        user_id=moves.user_id,
        mi=moves.mi,
    ).distinct()
    flows = moves.group_by(["from_model", "to_model"]).aggregate(
        churns=moves.count(), users=moves.user_id.nunique()
    )
    totals = churned.group_by(t_model=churned.model).aggregate(from_churns=churned.count())
    out = flows.inner_join(totals, flows.from_model == totals.t_model)
    return out.select(
        "from_model",
        "to_model",
        "churns",
        "users",
        "from_churns",
        share=out.churns.cast("float64") / out.from_churns.cast("float64"),
    ).order_by(["from_model", ibis.desc("churns"), "to_model"])
