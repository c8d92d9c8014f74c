"""Compute step of the report: the report's planner. It runs the analyses on an engine and brings
the results home.

This is the only place the report executes Ibis expressions; everything after works on plain
pandas frames (view-models are built from them in :mod:`tokencensus.report.data`).

The analyses (:mod:`tokencensus.analyses`) are the study's definitions over enriched events. The
report does not run them on the events: it reads :class:`Sources`, built once per report by
:func:`sources`: the rollups of :mod:`tokencensus.analyses.rollups` (sums cubes, and the exact
distinct-user counts of every figure's cells, from a few passes over the requests) and the labelled
requests when the lake has labels. Each figure runs its analysis on the sums cube, whose rows carry
no user id, and :func:`with_users` puts the exact user counts of its cells in. That this fast path
gives the definitions' numbers is what tests/analyses/test_rollups.py proves, figure by figure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from tokencensus import analyses
from tokencensus.analyses import rollups
from tokencensus.definitions import NEW_MODEL_DAYS, OPEN_WEIGHTS, WINDOW_WEEKS
from tokencensus.engine import Tables, materialise, register, with_catalog
from tokencensus.report.data import ReportMeta
from tokencensus.report.numbers import significant

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sources:
    """What the report's analyses read, all on one backend connection (built by :func:`sources`)."""

    events: ir.Table
    """Enriched events, one row per request."""
    cells: ir.Table
    """The events' sums per (week, month, model, provider, ...) with the catalog's columns
    (:func:`tokencensus.analyses.rollups.model_cube`): the events every sum reads. Its ``user_id``
    is null: an analysis counts no users on it, and :func:`with_users` joins the exact counts."""
    geo: ir.Table
    """Sums per (week, month, country) (:func:`tokencensus.analyses.rollups.geo_cube`); its
    ``user_id`` is null, as the cells'."""
    rows: ir.Table
    """The request events with week and month, no catalog (request lengths' quantiles)."""
    users: dict[str, ir.Table]
    """Exact distinct-user counts behind each figure's cells, by figure id."""
    activity: ir.Table
    """Tokens of requests with a user per (model, month): which models the retention curves show,
    and the data's first month."""
    triangle: ir.Table
    """The retention triangle (every model × cohort × k), which three retention figures read."""
    churn: ir.Table
    """Churn flows between the ``top_n`` models with most tokens."""
    total_users: int
    labels: ir.Table | None = None
    labelled: ir.Table | None = None
    """Enriched events of the labelled requests only (events ⋈ labels on request_id)."""
    calibration: Path | None = None
    """The lake's file of the classifier's errors on its own labelled prompts, if any."""


Analysis = Callable[[Sources], ir.Table]


def with_users(
    result: ir.Table, users: ir.Table, keys: Sequence[str], renamed: Mapping[str, str] | None = None
) -> ir.Table:
    """``result``, an analysis run on :attr:`Sources.cells` (its ``users`` all 0), with the exact
    distinct users of each of its cells from ``users`` (columns: ``keys``, users; ``renamed`` maps a
    key of ``result`` to its name in ``users``) joined on ``keys``; 0 for a cell missing there (only
    rows without a user behind it). The columns and their order stay those of ``result``, and so
    does the row order the analysis sorts by (its last step must be that sort, by columns)."""
    renamed = renamed or {}
    op = result.op()
    if not isinstance(op, ops.Sort) or not all(isinstance(k.arg, ops.Field) for k in op.keys):
        raise TypeError("with_users needs an analysis that ends in order_by(columns): a join loses order")
    order = [k.arg.name if k.ascending else ibis.desc(k.arg.name) for k in op.keys]
    counts = users.select(*(users[renamed.get(k, k)].name(f"u_{k}") for k in keys), u_users=users.users)
    cells = result.drop("users")
    joined = cells.left_join(counts, [cells[k] == counts[f"u_{k}"] for k in keys])
    joined = joined.mutate(users=joined.u_users.fill_null(0).cast("int64")).select(*result.columns)
    return joined.order_by(order)


TOP_MODEL_WEEKS = WINDOW_WEEKS
"""The top models figure ranks the last four calendar weeks, counted back from the period's last
week (its users are those weeks' users); its headline and table say :data:`WINDOW_WEEKS`."""
SEGMENT_FIGURES = (
    "share_open",
    "share_origin",
    "share_size",
    "share_reasoning",
    "share_author",
    "share_new_models",
    "top_models_weekly",
    "leaderboard",
    "open_top_models",
)
"""The weekly figures whose users come from the segment bits of :func:`_week_masks` (and the
open-weights models whose weekly users gate the concentration figure's top shares)."""


def _segment_labels(cells: ir.Table, top_n: int, leaders: list[str]) -> dict[str, ir.Value]:
    """Each weekly figure's segment label, as its analysis defines it, over the cells' rows
    (``leaders``: :func:`analyses.leading_models` of the cells)."""
    board = analyses.concentration.ranked_models(cells, top_n).model
    open_top = analyses.concentration.open_top_models(cells).model
    return {
        "share_open": cells.open_segment,
        "share_origin": cells.origin_segment,
        "share_size": analyses.market.size_label(cells),
        "share_reasoning": analyses.market.reasoning_label(cells),
        "share_author": cells.author,
        "share_new_models": analyses.concentration.new_model_label(cells, NEW_MODEL_DAYS),
        "top_models_weekly": analyses.market.leader_label(cells, leaders),
        "leaderboard": ibis.ifelse(cells.model.isin(board), cells.model, ibis.null("string")),
        "open_top_models": ibis.ifelse(cells.model.isin(open_top), cells.model, ibis.null("string")),
    }


def _week_masks(cells: ir.Table, top_n: int, leaders: list[str]) -> tuple[pa.Table, list[tuple[str, str]]]:
    """Each (week, model)'s segment bits, and what each bit stands for: (figure id, segment)."""
    labels = {name: expr.cast("string") for name, expr in _segment_labels(cells, top_n, leaders).items()}
    assert tuple(labels) == SEGMENT_FIGURES
    frame = cells.select("week", "model", **labels).distinct().to_pandas()
    meaning: list[tuple[str, str]] = []
    masks = [0] * len(frame)
    for name in labels:
        values = sorted(v for v in frame[name].dropna().unique())
        position = {v: len(meaning) + i for i, v in enumerate(values)}
        meaning += [(name, v) for v in values]
        for row, value in enumerate(frame[name]):
            if isinstance(value, str):
                masks[row] |= 1 << position[value]
    words = rollups.n_words(len(meaning))
    columns = {
        "week": pa.array([_as_date(w) for w in frame["week"]], pa.date32()),
        "model": pa.array(frame["model"], pa.string()),
    }
    split = [rollups.mask_words(m, words) for m in masks]
    for j in range(words):
        columns[f"s{j}"] = pa.array([w[j] for w in split], pa.int64())
    return pa.table(columns), meaning


def _dates(values: list[date]) -> pa.Array:
    return pa.array(values, pa.date32())


def sources(tables: Tables, top_n: int = 10, timings: dict[str, float] | None = None) -> Sources:
    """The report's sources over ``tables``: the rollups every figure reads, computed once.

    Three passes over the requests (:mod:`tokencensus.analyses.rollups`): the sums cubes, the
    weekly users of every segment, and one scan grouped two ways, into the (model, user) month sets
    behind retention and recent users and the (user, country) week and month sets behind
    geography, all users and churn flows. The figures then read these: their numbers equal those
    of the standalone analyses on the events (tests/analyses/test_rollups.py). The labelled requests
    (events ⋈ labels, a few percent of the events) are materialised for the category figures.
    ``timings`` receives each pass's seconds.
    """
    clock = _Clock(timings)
    events = tables.events
    base = tables.base if tables.base is not None else events
    both = materialise(tables, rollups.sums(base), "sums")
    cube = materialise(tables, rollups.model_cube(both), "model_cube")
    cells = with_catalog(cube, tables.catalog).mutate(user_id=ibis.null("string"))
    geo = materialise(tables, rollups.geo_cube(both), "geo_cube").mutate(user_id=ibis.null("string"))
    clock("(sums)")

    # bounds: the data's weeks, and the months of requests with a user (retention's months)
    b = (
        cube.aggregate(
            first_week=cube.week.min(),
            last_week=cube.week.max(),
            data_month=cube.month.min(),
            first_month=cube.month.min(where=cube.has_user),
            last_month=cube.month.max(where=cube.has_user),
            last_day=cube.day_max.max(where=cube.has_user),
        )
        .to_pandas()
        .iloc[0]
    )
    first_week, last_week = _as_date(b["first_week"]), _as_date(b["last_week"])
    n_weeks = (last_week - first_week).days // 7 + 1
    if pd.isna(b["first_month"]):  # no request has a user (e.g. an account's pre-aggregated export)
        data_month = _as_date(b["data_month"])
        first_mi = end_mi = rollups.month_number(data_month)
        n_months = 1
    else:
        first_m, last_m = _as_date(b["first_month"]), _as_date(b["last_month"])
        first_mi = rollups.month_number(first_m)
        n_months = rollups.month_number(last_m) + 1 - first_mi
        after = _as_date(b["last_day"]) + timedelta(days=1)
        end_mi = rollups.month_number(after)

    follow = list(analyses.leading_models(cells, top_n).to_pandas()["model"])
    segment_masks, meaning = _week_masks(cells, top_n, follow)
    wide = rollups.week_segment_users(base, ibis.memtable(segment_masks), len(meaning)).to_pandas()
    weeks = _dates([_as_date(w) for w in wide["week"]])
    users: dict[str, ir.Table] = {"all": ibis.memtable(pa.table({"week": weeks, "users": wide["users"]}))}
    for name in {m[0] for m in meaning}:
        parts = [
            pa.table({"week": weeks, "segment": [value] * len(wide), "users": wide[f"p{i}"]})
            for i, (fig, value) in enumerate(meaning)
            if fig == name
        ]
        users[name] = ibis.memtable(pa.concat_tables(parts))
    empty = pa.table(
        {"week": _dates([]), "segment": pa.array([], pa.string()), "users": pa.array([], pa.int64())}
    )
    for name in SEGMENT_FIGURES:  # a filtered view may leave a figure without any segment
        users.setdefault(name, ibis.memtable(empty))
    users["leaderboard"] = users["leaderboard"].rename(model="segment")
    users["open_top_models"] = users["open_top_models"].rename(model="segment")
    users["open_concentration"] = (
        users["share_open"].filter(lambda t: t.segment == OPEN_WEIGHTS).select("week", "users")
    )
    clock("(weekly users)")

    models = sorted(cube.select("model").distinct().to_pandas()["model"])
    recent_from = last_week - timedelta(days=7 * (TOP_MODEL_WEEKS - 1))  # top_models' weeks
    dim = rollups.user_dim(models, follow, first_week, n_weeks, first_mi, n_months, recent_from)
    dim = register(tables, "user_dim", dim)
    masks = materialise(tables, rollups.user_masks(base, dim, len(follow), n_weeks, n_months), "user_masks")
    clock("(user masks)")

    months = materialise(tables, rollups.model_month_masks(masks, dim, first_mi, n_months), "model_months")
    triangle = rollups.triangle_from_masks(months, first_mi, end_mi, n_months)
    if tables.backend == "duckdb":
        # Spark cannot cache it: its k grid is an Ibis memtable, whose temporary view Ibis drops
        # after the first query while the cached plan still names it.
        triangle = materialise(tables, triangle, "triangle")
    users["cost_vs_usage"] = rollups.model_users(months)
    users["top_models"] = materialise(tables, rollups.recent_users(masks, dim), "recent_users")
    clock("(model months)")

    accounts = materialise(tables, rollups.account_masks(masks, len(follow), n_weeks, n_months), "accounts")
    users["geo_country"] = _country_users(accounts, first_mi, n_months)
    users["geo_continent"] = _continent_users(accounts, first_week, n_weeks)
    counts = accounts.aggregate(rows=accounts.count(), users=accounts.user_id.nunique()).to_pandas().iloc[0]
    total_users = int(counts["users"] or 0)
    churn = _churn(
        accounts, follow, n_months, end_mi - first_mi, one_row_per_user=counts["rows"] == total_users
    )
    clock("(accounts)")

    labelled = None
    if tables.labels is not None:
        ids = tables.labels.select(lab_request_id=tables.labels.request_id).distinct()
        narrowed = events.semi_join(ids, events.request_id == ids.lab_request_id)
        labelled = materialise(tables, narrowed, "labelled_events")
        clock("(labelled)")
    activity = cells.filter(cells.has_user).select("model", "month", "tokens")
    return Sources(
        events=events,
        cells=cells,
        geo=geo,
        rows=base,
        users=users,
        activity=activity,
        triangle=triangle,
        churn=churn,
        total_users=total_users,
        labels=tables.labels,
        labelled=labelled,
        calibration=tables.calibration,
    )


class _Clock:
    """Records the seconds since the previous call under each name (when given a dict), and logs
    them (``tokencensus -v report`` shows each pass)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings, self.last = timings, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[name] = now - self.last
        logger.info("report pass %s: %.1f s", name.strip("()"), now - self.last)
        self.last = now


def _long(wide: pd.DataFrame, key: str, period: str, dates: list[date]) -> pd.DataFrame:
    """A wide frame of ``p{i}`` counts per ``key`` as rows (period, key, users), zeros left out."""
    frames = [pd.DataFrame({period: d, key: wide[key], "users": wide[f"p{i}"]}) for i, d in enumerate(dates)]
    out = pd.concat(frames, ignore_index=True)
    return out[out["users"] > 0]


def _memtable(frame: pd.DataFrame, period: str, key: str) -> ir.Table:
    return ibis.memtable(
        pa.table(
            {
                period: _dates(list(frame[period])),
                key: pa.array(frame[key], pa.string()),
                "users": pa.array(frame["users"], pa.int64()),
            }
        )
    )


def _country_users(accounts: ir.Table, first_mi: int, n_months: int) -> ir.Table:
    """(month, country, users) from the accounts' month sets."""
    acc = analyses.geography.with_region(accounts)
    wide = acc.group_by("country").aggregate(**rollups.bit_totals(acc, "m", n_months)).to_pandas()
    frame = _long(wide, "country", "month", [rollups.month_start(first_mi + i) for i in range(n_months)])
    return _memtable(frame, "month", "country")


def _continent_users(accounts: ir.Table, first_week: date, n_weeks: int) -> ir.Table:
    """(week, continent, users) from the accounts' week sets (a user counted once per continent)."""
    acc = analyses.geography.with_region(accounts)
    words = [f"w{j}" for j in range(rollups.n_words(n_weeks))]
    per = acc.group_by(["user_id", "continent"]).aggregate(**{w: rollups.bit_or(acc[w]) for w in words})
    wide = per.group_by("continent").aggregate(**rollups.bit_totals(per, "w", n_weeks)).to_pandas()
    frame = _long(wide, "continent", "week", [first_week + timedelta(days=7 * i) for i in range(n_weeks)])
    return _memtable(frame, "week", "continent")


def _churn(
    accounts: ir.Table, follow: list[str], n_months: int, complete: int, *, one_row_per_user: bool = False
) -> ir.Table:
    """The churn flows between the followed models, as :func:`analyses.churn_flows` lays them out."""
    none, other = analyses.retention.NONE, analyses.retention.OTHER_MODELS
    wide = rollups.churn_from_masks(
        accounts, follow, n_months, complete, one_row_per_user=one_row_per_user
    ).to_pandas()
    rows = []
    for a, model in enumerate(follow):
        total = int(wide[f"t_{a}"].iloc[0] or 0)
        targets = {str(b): m for b, m in enumerate(follow) if b != a} | {"o": other, "n": none}
        for b, target in targets.items():
            churns = int(wide[f"c_{a}_{b}"].iloc[0] or 0)
            if churns:
                users = int(wide[f"u_{a}_{b}"].iloc[0])
                rows.append((model, target, churns, users, total, churns / total))
    frame = pd.DataFrame(rows, columns=["from_model", "to_model", "churns", "users", "from_churns", "share"])
    frame = frame.astype({"churns": "int64", "users": "int64", "from_churns": "int64", "share": "float64"})
    table = ibis.memtable(pa.Table.from_pandas(frame, preserve_index=False))
    return table.order_by(["from_model", ibis.desc("churns"), "to_model"])


def figure_analyses(top_n: int = 10, min_users: int = 1) -> dict[str, Analysis]:
    """The analyses behind the report's figures, keyed by figure id, in report order.

    They read the :class:`Sources` built for the same ``top_n``. Pooled retention (curves, the
    glass slipper's later cohorts, boomerangs) pools only cohorts of at least ``min_users`` users,
    the privacy floor: a pooled figure over a hidden cohort, minus the published cohorts, would give
    the hidden one back.
    """
    n_curves = min(top_n, 5)

    def weekly(fig: str, result: Callable[[ir.Table], ir.Table], key: str = "segment") -> Analysis:
        """A weekly share figure: its segment's users by (week, segment)."""
        return lambda s: with_users(result(s.cells), s.users[fig], ["week", key], {key: "segment"})

    def concentration(s: Sources) -> ir.Table:
        models = analyses.concentration.weekly_models(s.cells.filter(s.cells.open_segment == OPEN_WEIGHTS))
        models = models.order_by(["week", "model"])
        models = with_users(models, s.users["open_top_models"], ["week", "model"])
        return analyses.concentration.concentration_of(models, s.users["open_concentration"])

    def lengths(s: Sources) -> ir.Table:
        single = s.rows.filter(s.rows.requests == 1)
        return with_users(analyses.agentic.lengths_of(s.cells, single, ["week"]), s.users["all"], ["week"])

    curves, foundational, boomerangs = (
        analyses.retention.curves_of,
        analyses.retention.foundational_of,
        analyses.retention.boomerangs_of,
    )
    return {
        # volume
        "volume": lambda s: with_users(analyses.weekly_volume(s.cells), s.users["all"], ["week"]),
        # open vs closed, origin, authors, models
        "share_open": weekly("share_open", analyses.share_open),
        "share_origin": weekly("share_origin", analyses.share_origin),
        "share_author": weekly("share_author", analyses.share_author, "author"),
        "top_models": lambda s: with_users(
            analyses.top_models(s.cells, n=top_n, weeks=TOP_MODEL_WEEKS), s.users["top_models"], ["model"]
        ),
        "top_models_weekly": weekly(
            "top_models_weekly", lambda c: analyses.top_models_weekly(c, n=top_n), "model"
        ),
        "leaderboard": lambda s: with_users(
            analyses.leaderboard(s.cells, n=top_n), s.users["leaderboard"], ["week", "model"]
        ),
        "open_concentration": concentration,
        "share_new_models": weekly(
            "share_new_models", lambda c: analyses.share_new_models(c, NEW_MODEL_DAYS)
        ),
        # size
        "share_size": weekly("share_size", analyses.share_size),
        # agentic use
        "share_reasoning": weekly("share_reasoning", analyses.share_reasoning),
        "reasoning": lambda s: with_users(analyses.reasoning_weekly(s.cells), s.users["all"], ["week"]),
        "tool_calls": lambda s: with_users(analyses.tool_calls_weekly(s.cells), s.users["all"], ["week"]),
        "lengths": lengths,
        # geography
        "geo_continent": lambda s: with_users(
            analyses.region_share(s.geo, "continent", "week"),
            s.users["geo_continent"],
            ["week", "continent"],
        ),
        "geo_country": lambda s: with_users(
            analyses.region_share(s.geo, "country", "month"),
            s.users["geo_country"],
            ["month", "country"],
        ),
        # cost vs usage
        "cost_vs_usage": lambda s: with_users(
            analyses.model_costs(s.cells), s.users["cost_vs_usage"], ["model"]
        ),
        # retention
        "retention_curves": lambda s: curves(
            s.triangle, analyses.retention.top_models_by_tokens(s.activity, n_curves), min_cohort=min_users
        ),
        "retention_triangle": lambda s: s.triangle.order_by(["model", "cohort", "k"]),
        "glass_slipper": lambda s: foundational(s.triangle, s.activity, min_cohort=max(50, min_users)),
        "boomerang": lambda s: boomerangs(s.triangle, min_cohort=max(100, min_users)),
        "churn_flows": lambda s: s.churn,
    }


def label_analyses() -> dict[str, Analysis]:
    """The figures that need the classifier's labels (Sources.labels is set). Category shares are
    monthly: a month's sample of prompts clears the privacy floor where a week's mostly does not."""

    def lab(s: Sources) -> tuple[ir.Table, ir.Table]:
        assert s.labelled is not None
        assert s.labels is not None
        return s.labelled, s.labels

    return {
        "share_category": lambda s: analyses.category_share(
            *lab(s), population=s.cells, period="month"
        ).rename(segment="category"),
        "category_corrected": _corrected_mix,
        "category_segments": lambda s: analyses.mix_by_segment(*lab(s), population=s.cells),
        "category_costs": lambda s: analyses.category_costs(*lab(s)),
        "language": lambda s: analyses.language_share(*lab(s), population=s.cells),
    }


def _corrected_mix(s: Sources) -> ir.Table:
    """The category mix, raw and corrected for the classifier's measured errors
    (:func:`tokencensus.classify.prevalence.corrected_mix`, a bootstrap in NumPy over the labelled
    requests in request-id order, so every engine gives the same intervals): corrected with the
    lake's own calibration when it has one, else the shipped classifier's out-of-source errors; none
    when the labels come from several classifiers (whose errors differ)."""
    from tokencensus.classify.prevalence import corrected_mix, errors_for

    assert s.labelled is not None
    assert s.labels is not None
    lab = analyses.labelled_events(s.labelled, s.labels, population=s.cells)
    mix = analyses.categories.mix(lab, []).to_pandas()
    requests = lab.select("request_id", "category", "tokens").order_by(["request_id", "category"]).to_pandas()
    names = list(s.labels.select("classifier").distinct().to_pandas()["classifier"].dropna())
    errors = errors_for(str(names[0]), s.calibration) if len(names) == 1 else None
    frame = corrected_mix(mix, list(requests["category"]), requests["tokens"].to_numpy(), errors)
    return ibis.memtable(frame)


def analyses_for(src: Sources, top_n: int = 10, min_users: int = 1) -> dict[str, Analysis]:
    """The figures ``src`` has data for, in report order: every figure, and the category figures
    when the lake has labels."""
    todo = figure_analyses(top_n, min_users)
    if src.labels is not None:
        todo |= label_analyses()
    return todo


def run(
    src: Sources, todo: Mapping[str, Analysis], timings: dict[str, float] | None = None
) -> dict[str, pd.DataFrame]:
    """Execute each analysis of ``todo`` on ``src``: its frame, tidied, by figure id (``timings``
    receives each one's seconds)."""
    results = {}
    for name, analysis in todo.items():
        start = time.perf_counter()
        results[name] = tidy(analysis(src).to_pandas())
        logger.debug("figure %s: %.2f s", name, time.perf_counter() - start)
        if timings is not None:
            timings[name] = time.perf_counter() - start
    return results


def compute(
    tables: Tables,
    *,
    min_users: int,
    top_n: int = 10,
    source: str = "",
    timings: dict[str, float] | None = None,
) -> tuple[dict[str, pd.DataFrame], ReportMeta]:
    """Execute every figure's analysis and the summary numbers; return frames and report metadata.

    ``timings``, when given, receives the seconds each step took (the rollup passes of
    :func:`sources`, then each figure id), for bench/bench_report.py.
    """
    src = sources(tables, top_n, timings)
    results = run(src, analyses_for(src, top_n, min_users), timings)
    start = time.perf_counter()
    meta = summarize(src.cells, min_users=min_users, source=source, users=src.total_users)
    if timings is not None:
        timings["(summary)"] = time.perf_counter() - start
    return results, meta


def summarize(
    cells: ir.Table,
    *,
    min_users: int,
    source: str = "",
    users: int | None = None,
) -> ReportMeta:
    """The summary block: period, data size and the share of tokens whose model is unresolved.

    ``cells`` is the events or their rollup (:func:`tokencensus.analyses.rollups.model_cube`,
    with ``day_min``/``day_max`` and no user ids: then ``users`` gives the distinct users).
    """
    rollup = "day_min" in cells.columns
    unresolved = cells.tokens.sum(where=~cells.resolved)
    row = (
        cells.aggregate(
            period_start=cells.day_min.min() if rollup else cells.ts.min().date(),
            period_end=cells.day_max.max() if rollup else cells.ts.max().date(),
            requests=cells.requests.sum(),
            tokens=cells.tokens.sum(),
            unresolved=unresolved,
            models=cells.model.nunique(),
            providers=cells.provider.nunique(),
            **({} if users is not None else {"users": cells.user_id.nunique()}),
        )
        .to_pandas()
        .iloc[0]
    )
    tokens = int(row["tokens"] or 0)
    return ReportMeta(
        period_start=_as_date(row["period_start"]),
        period_end=_as_date(row["period_end"]),
        requests=int(row["requests"]),
        tokens=tokens,
        users=int(users if users is not None else row["users"]),
        models=int(row["models"]),
        providers=int(row["providers"]),
        unresolved_share=float(row["unresolved"] or 0) / tokens if tokens else 0.0,
        min_users=min_users,
        source=source,
    )


def _as_date(value: object) -> date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


DATE_COLUMNS = ("week", "month", "cohort", "launch_cohort")
COUNT_COLUMNS = (
    "requests",
    "input_tokens",
    "output_tokens",
    "tokens",
    "users",
    "rank",
    "k",
    "labelled",
    "models",
    "cohorts",
    "cohort_users",
    "active_users",
    "later_cohorts",
    "launch_users",
    "churns",
    "from_churns",
    "prev_rank",
    "prev_tokens",
    "rank_change",
)


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Weeks, months and cohorts as datetime.date, integer counts as int64 (nullable Int64 where a
    count can be missing, e.g. a model's rank the week before it entered); backends differ in what
    they return (floats, decimals)."""
    for col in DATE_COLUMNS:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).dt.date
    for col in COUNT_COLUMNS:
        if col not in frame.columns:
            continue
        # weighted estimates (category tokens) are floats: publish them rounded
        values = pd.to_numeric(frame[col]).astype("float64").round()
        frame[col] = values.astype("Int64" if values.isna().any() else "int64")
    for col in frame.columns:
        if pd.api.types.is_float_dtype(frame[col]):
            frame[col] = significant(frame[col])
    return frame.reset_index(drop=True)
