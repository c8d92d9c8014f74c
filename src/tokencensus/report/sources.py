"""The report's sources: the rollups every figure reads, computed once per report by :func:`sources`.

The analyses (:mod:`tokencensus.analyses`) are the study's definitions over enriched events. The
report does not run them on the events: it reads :class:`Sources`: the rollups of
:mod:`tokencensus.analyses.rollups` (sums cubes, and the exact distinct-user counts of every
figure's cells, from a few passes over the requests) and the labelled requests when the lake has
labels. Each figure runs its analysis on the sums cube, whose rows carry no user id, and
:func:`with_users` puts the exact user counts of its cells in. That this fast path gives the
definitions' numbers is what tests/analyses/test_rollups.py proves, figure by figure.
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
from tokencensus.definitions import WINDOW_WEEKS
from tokencensus.engine import Tables, materialise, register, with_catalog
from tokencensus.report.figure import Data, Leaders, Options

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


def segment_labels(cells: ir.Table, top_n: int, leaders: list[str]) -> dict[str, ir.Value]:
    """Each weekly figure's segment label (:attr:`Figure.segment`) over the cells' rows, by figure
    id (``leaders``: :func:`analyses.leading_models` of the cells)."""
    from tokencensus.report.figures import FIGURES

    top = Leaders(top_n, tuple(leaders))
    return {fig.id: fig.segment(cells, top) for fig in FIGURES if fig.segment is not None}


def model_among(cells: ir.Table, models: ir.Table) -> ir.StringValue:
    """A segment label: the row's model when it is one of ``models`` (a table with a ``model``
    column), else null."""
    return ibis.ifelse(cells.model.isin(models.model), cells.model, ibis.null("string"))


def weekly_segments(
    fid: str, analysis: Callable[[ir.Table, Options], ir.Table], key: str = "segment"
) -> Data:
    """The data of a weekly share figure: ``analysis`` of the sums cube, with each (week, ``key``)
    cell's users from the weekly-users pass (the figure declares its :attr:`Figure.segment`)."""

    def data(s: Sources, options: Options) -> ir.Table:
        return with_users(analysis(s.cells, options), s.users[fid], ["week", key], {key: "segment"})

    return data


def _week_masks(
    cells: ir.Table, top_n: int, leaders: list[str]
) -> tuple[pa.Table, list[str], list[tuple[str, str]]]:
    """Each (week, model)'s segment bits, the figures they are for, and what each bit stands for:
    (figure id, segment)."""
    labels = {name: expr.cast("string") for name, expr in segment_labels(cells, top_n, leaders).items()}
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
        "week": pa.array([as_date(w) for w in frame["week"]], pa.date32()),
        "model": pa.array(frame["model"], pa.string()),
    }
    split = [rollups.mask_words(m, words) for m in masks]
    for j in range(words):
        columns[f"s{j}"] = pa.array([w[j] for w in split], pa.int64())
    return pa.table(columns), list(labels), meaning


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
    first_week, last_week = as_date(b["first_week"]), as_date(b["last_week"])
    n_weeks = (last_week - first_week).days // 7 + 1
    if pd.isna(b["first_month"]):  # no request has a user (e.g. an account's pre-aggregated export)
        data_month = as_date(b["data_month"])
        first_mi = end_mi = rollups.month_number(data_month)
        n_months = 1
    else:
        first_m, last_m = as_date(b["first_month"]), as_date(b["last_month"])
        first_mi = rollups.month_number(first_m)
        n_months = rollups.month_number(last_m) + 1 - first_mi
        after = as_date(b["last_day"]) + timedelta(days=1)
        end_mi = rollups.month_number(after)

    follow = list(analyses.leading_models(cells, top_n).to_pandas()["model"])
    segment_masks, weekly, meaning = _week_masks(cells, top_n, follow)
    wide = rollups.week_segment_users(base, ibis.memtable(segment_masks), len(meaning)).to_pandas()
    weeks = _dates([as_date(w) for w in wide["week"]])
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
    for name in weekly:  # a filtered view may leave a figure without any segment
        users.setdefault(name, ibis.memtable(empty))
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


def as_date(value: object) -> date:
    """A backend's date, timestamp or string as a datetime.date."""
    return pd.Timestamp(value).date()  # type: ignore[arg-type]
