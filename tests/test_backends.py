"""One analysis suite on every backend: each backend's results equal DuckDB's, golden numbers hold.

Every analysis runs on two inputs: the hand-made tiny fixture (conftest) and a small simulated lake
read from its Parquet files by each engine. Each backend's frame is compared with DuckDB's: integer
columns exactly, floating columns within 1e-9 relative, everything else (strings, booleans, dates)
exactly, nulls equal to nulls. The tiny fixture's golden numbers are checked on every backend.

To cover a new analysis, append a ``(name, callable)`` pair to :data:`ANALYSES` (the callable takes
the enriched events table and returns an Ibis table). Public analyses whose only parameter is
``events`` are picked up from ``tokencensus.analyses`` without listing; others must be listed (a
test checks this). A construct a backend lacks is a strict xfail in :data:`KNOWN_GAPS`, with the
reason, so the suite notices when the gap closes.

The pyspark backend is skipped only when pyspark is not installed and ``CI`` is unset; in CI a
missing pyspark or Java fails. Its Spark session (local[2]) is started once for this module.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import sys
from collections.abc import Callable
from datetime import date

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import IN_CI
from tokencensus import analyses
from tokencensus.classify.labels import LABEL_SCHEMA
from tokencensus.engine import BACKENDS, connect, open_lake, open_table
from tokencensus.errors import ConfigError, MissingDependencyError
from tokencensus.lake import Lake
from tokencensus.report.compute import figure_analyses
from tokencensus.report.sources import Sources, sources
from tokencensus.simulator import SimConfig, simulate

Analysis = Callable[[ir.Table], ir.Table]

# pyspark 4.0's pandas conversion passes copy= to astype, which pandas 3 deprecates: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")

W1, W2 = date(2025, 6, 2), date(2025, 6, 9)

ANALYSES: list[tuple[str, Analysis]] = [
    ("weekly_volume", analyses.weekly_volume),
    ("share_open", analyses.share_open),
    ("share_origin", analyses.share_origin),
    ("share_size", analyses.share_size),
    ("share_reasoning", analyses.share_reasoning),
    ("weekly_share", lambda ev: analyses.weekly_share(ev, "model")),
    ("top_models", lambda ev: analyses.top_models(ev, n=3, weeks=None)),
    ("top_models_recent", lambda ev: analyses.top_models(ev, n=10, weeks=1)),
    ("top_models_weekly", lambda ev: analyses.top_models_weekly(ev, n=2)),
    ("leading_models", lambda ev: analyses.leading_models(ev, 3).order_by("model")),
    # the engine's own work: the catalog join, unknown-model defaults, UTC weeks and months
    ("enriched_events", lambda ev: ev),
]
"""(name, callable) pairs run on every backend, on the tiny fixture and the simulated lake; append
new analyses here (or to FULL_SCHEMA_ANALYSES when they need columns the tiny fixture lacks)."""


def _late(module: str, name: str, **kwargs: object) -> Analysis:
    """``tokencensus.analyses.<module>.<name>(events, **kwargs)``, imported when the test runs, so a
    renamed analysis fails its own cases rather than the whole suite's collection."""

    def run(events: ir.Table) -> ir.Table:
        fn = getattr(importlib.import_module(f"tokencensus.analyses.{module}"), name)
        return fn(events, **kwargs)

    return run


class Labelled:
    """An analysis of events and the classifier's labels (run on the lake, which has labels)."""

    def __init__(self, analysis: Callable[[ir.Table, ir.Table], ir.Table]) -> None:
        self.analysis = analysis


LABELLED_ANALYSES: list[tuple[str, Analysis]] = [
    (name, Labelled(getattr(analyses, name)))  # type: ignore[misc]
    for name in (
        "category_share",
        "category_mix",
        "mix_by_author",
        "mix_by_segment",
        "length_by_category",
        "language_share",
        "labelled_events",
        "category_costs",
    )
]

NOT_IBIS = {"fit_elasticity"}
"""Public helpers of the analyses that are not Ibis expressions (a NumPy fit on executed points)."""


FULL_SCHEMA_ANALYSES: list[tuple[str, Analysis]] = [
    ("agentic.reasoning_weekly", _late("agentic", "reasoning_weekly")),
    ("agentic.tool_calls_weekly", _late("agentic", "tool_calls_weekly")),
    ("agentic.lengths_weekly", _late("agentic", "lengths_weekly")),
    ("concentration.leaderboard", _late("concentration", "leaderboard")),
    ("concentration.open_concentration", _late("concentration", "open_concentration")),
    ("concentration.share_author", _late("concentration", "share_author")),
    ("concentration.share_new_models", _late("concentration", "share_new_models")),
    ("costs.model_costs", _late("costs", "model_costs")),
    ("geography.region_share", _late("geography", "region_share")),
    ("geography.with_region", _late("geography", "with_region")),
    ("retention.monthly_activity", _late("retention", "monthly_activity")),
    ("retention.retention_curves", _late("retention", "retention_curves")),
    ("retention.retention_triangle", _late("retention", "retention_triangle")),
    ("retention.top_models_by_tokens", _late("retention", "top_models_by_tokens", n=3)),
    ("retention.churn_flows", _late("retention", "churn_flows")),
]
"""Analyses over the full canonical schema (finish_reason, country, cost, ...): simulated lake only.
Analyses that also need a labels table are in LABELLED_ANALYSES."""


def _discovered() -> list[tuple[str, Analysis]]:
    """Public analyses taking just ``events`` that ANALYSES does not list yet."""
    # Those FULL_SCHEMA_ANALYSES lists (as module.name) need columns the tiny fixture lacks.
    listed = {name.rsplit(".", 1)[-1] for name, _ in ANALYSES + FULL_SCHEMA_ANALYSES}
    found = []
    for name in analyses.__all__:
        fn = getattr(analyses, name)
        required = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD
        ]
        if name not in listed and [p.name for p in required] == ["events"]:
            found.append((name, fn))
    return found


class ReportFigure:
    """One of the report's figure analyses, run on the report's shared sources (simulated lake)."""

    def __init__(self, analysis: Callable[[Sources], ir.Table]) -> None:
        self.analysis = analysis


def _report_figures() -> list[tuple[str, Analysis]]:
    """The report's own figure analyses (as the report calls them, on its materialised sources), so
    the report is covered too."""
    todo = figure_analyses(top_n=3, labels=True)
    return [(f"report:{name}", ReportFigure(fn)) for name, fn in todo.items()]  # type: ignore[misc]


SUITE = ANALYSES + _discovered()
FULL_SUITE = SUITE + FULL_SCHEMA_ANALYSES + LABELLED_ANALYSES + _report_figures()

KNOWN_GAPS: dict[tuple[str, str], str] = {}
"""(backend, analysis name) → why it cannot run there; each becomes a strict xfail."""

OTHER_BACKENDS = [b for b in BACKENDS if b != "duckdb"]


# -- engines and cached results ---------------------------------------------------------------------
class Engines:
    """Connections (started on first use) and each (dataset, backend, analysis)'s executed frame."""

    def __init__(self, request: pytest.FixtureRequest, lake: Lake) -> None:
        self.request, self.lake = request, lake
        self.events: dict[tuple[str, str], ir.Table] = {}
        self.labels: dict[tuple[str, str], ir.Table | None] = {}
        self.sources: dict[tuple[str, str], Sources] = {}
        self.results: dict[tuple[str, str, str], pd.DataFrame] = {}

    def con(self, backend: str):
        if backend == "pyspark":
            return self.request.getfixturevalue("spark_con")
        return connect(backend)

    def open(self, dataset: str, backend: str, tiny_events, tiny_catalog) -> ir.Table:
        key = (dataset, backend)
        if key not in self.events:
            con = self.con(backend)
            if dataset == "tiny":
                tables = open_table(tiny_events, catalog=tiny_catalog, backend=backend, con=con)
            else:
                tables = open_lake(self.lake, backend=backend, con=con)
            self.events[key] = tables.events
            self.labels[key] = tables.labels
            if dataset == "lake":
                self.sources[key] = sources(tables, top_n=3)
        return self.events[key]

    def expr(self, dataset: str, backend: str, fn: Analysis, tiny_events, tiny_catalog) -> ir.Table:
        events = self.open(dataset, backend, tiny_events, tiny_catalog)
        if isinstance(fn, Labelled):
            return fn.analysis(events, self.labels[(dataset, backend)])
        if isinstance(fn, ReportFigure):
            return fn.analysis(self.sources[(dataset, backend)])
        return fn(events)

    def result(self, dataset: str, backend: str, name: str, fn: Analysis, tiny_events, tiny_catalog):
        key = (dataset, backend, name)
        if key not in self.results:
            expr = self.expr(dataset, backend, fn, tiny_events, tiny_catalog)
            self.results[key] = normalized(expr.to_pandas(), expr.schema())
        return self.results[key]


def normalized(frame: pd.DataFrame, schema) -> pd.DataFrame:
    """Backend-neutral values: dates as datetime.date, timestamps as UTC, integers as Int64."""
    frame = frame.reset_index(drop=True).copy()
    for name, dtype in schema.items():
        col = frame[name]
        if dtype.is_date():
            frame[name] = [None if v is None or v is pd.NaT else pd.Timestamp(v).date() for v in col]
        elif dtype.is_timestamp():
            stamps = pd.to_datetime(col)
            frame[name] = (
                stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")
            )
        elif dtype.is_integer():
            frame[name] = col.astype("Int64")
        elif dtype.is_floating() or dtype.is_decimal():
            frame[name] = col.astype("float64")
        else:
            frame[name] = col.astype(object).where(col.notna(), None)
    return frame


def assert_same(got: pd.DataFrame, want: pd.DataFrame, schema) -> None:
    """Equal up to row order: integers exact, floats within 1e-9 relative (1e-12 absolute near 0),
    the rest exact."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want), f"{len(got)} rows, DuckDB has {len(want)}"
    keys = [n for n, t in schema.items() if not (t.is_floating() or t.is_decimal())]
    got = _sorted(got, keys)
    want = _sorted(want, keys)
    for name, dtype in schema.items():
        g, w = got[name], want[name]
        if dtype.is_floating() or dtype.is_decimal():
            gv, wv = g.to_numpy(dtype=float, na_value=np.nan), w.to_numpy(dtype=float, na_value=np.nan)
            # atol: a float that is 0 on one engine may be 1e-16 on another (log10(1) = ln 1/ln 10)
            close = np.isclose(gv, wv, rtol=1e-9, atol=1e-12, equal_nan=True)
            assert close.all(), f"{name}: {gv[~close][:5].tolist()} vs DuckDB {wv[~close][:5].tolist()}"
        else:
            diff = [(a, b) for a, b in zip(g.tolist(), w.tolist(), strict=True) if not _equal(a, b)]
            assert not diff, f"{name}: {diff[:5]} (backend, DuckDB)"


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    order = frame[keys].astype(str) if keys else frame.astype(str)
    return frame.loc[order.sort_values(list(order.columns)).index].reset_index(drop=True)


def _equal(a: object, b: object) -> bool:
    if a is None or b is None or a is pd.NA or b is pd.NA:
        return (a is None or a is pd.NA) and (b is None or b is pd.NA)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


@pytest.fixture(scope="module")
def spark_con():
    """One local[2] Spark session for the whole module (starting one takes seconds)."""
    if importlib.util.find_spec("pyspark") is None:
        if IN_CI:
            pytest.fail("pyspark is missing in CI; install the test extra: pip install -e '.[test]'")
        pytest.skip("pyspark not installed (pip install 'tokencensus[spark]')")
    # No skip past this point: with pyspark installed, a missing Java is a failure.
    con = connect("pyspark", master="local[2]", shuffle_partitions=2)
    yield con
    con.disconnect()


@pytest.fixture(scope="module")
def sim_lake(tmp_path_factory) -> Lake:
    """A small simulated lake on disk, which each engine reads from the Parquet files."""
    sim = simulate(SimConfig(requests=20_000, users=2_000, weeks=8, seed=5))
    lake = Lake(tmp_path_factory.mktemp("lake"))
    lake.append(sim.events, "sim")
    # Labels as the classifier writes them, for every third request; some below the 0.25 floor.
    cats = sim.categories.take(list(range(0, sim.categories.num_rows, 3)))
    n = cats.num_rows
    labels = pa.table(
        {
            "request_id": cats["request_id"],
            "language": ["en", "fr", "zh", "en"] * (n // 4) + ["en"] * (n % 4),
            "category": cats["category"],
            "subcategory": [""] * n,
            "confidence": [0.2, 0.9, 0.6, 0.95, 0.5] * (n // 5) + [0.9] * (n % 5),
            "classifier": ["default"] * n,
        },
        schema=LABEL_SCHEMA,
    )
    (lake.root / "labels").mkdir()
    pq.write_table(labels, lake.root / "labels" / "part-0.parquet")
    return lake


@pytest.fixture(scope="module")
def engines(request, sim_lake) -> Engines:
    return Engines(request, sim_lake)


def _cases(backends: list[str], suite: list[tuple[str, Analysis]]) -> list:
    cases = []
    for backend in backends:
        for name, fn in suite:
            marks = []
            if (backend, name) in KNOWN_GAPS:
                marks = [pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[backend, name])]
            cases.append(pytest.param(backend, name, fn, marks=marks, id=f"{backend}-{name}"))
    return cases


# -- the suite ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("backend", "name", "fn"), _cases(OTHER_BACKENDS, SUITE))
def test_same_result_as_duckdb_on_tiny(engines, backend, name, fn, tiny_events, tiny_catalog):
    _compare(engines, "tiny", backend, name, fn, tiny_events, tiny_catalog)


@pytest.mark.parametrize(("backend", "name", "fn"), _cases(OTHER_BACKENDS, FULL_SUITE))
def test_same_result_as_duckdb_on_lake(engines, backend, name, fn, tiny_events, tiny_catalog):
    _compare(engines, "lake", backend, name, fn, tiny_events, tiny_catalog)


def _compare(engines, dataset, backend, name, fn, tiny_events, tiny_catalog) -> None:
    want = engines.result(dataset, "duckdb", name, fn, tiny_events, tiny_catalog)
    got = engines.result(dataset, backend, name, fn, tiny_events, tiny_catalog)
    schema = engines.expr(dataset, "duckdb", fn, tiny_events, tiny_catalog).schema()
    assert_same(got, want, schema)


def _frame(engines, backend, name, tiny_events, tiny_catalog) -> pd.DataFrame:
    fn = dict(SUITE)[name]
    return engines.result("tiny", backend, name, fn, tiny_events, tiny_catalog)


def _shares(frame: pd.DataFrame, key: str = "segment") -> dict[tuple[date, str], float]:
    return {(r.week, getattr(r, key)): r.share for r in frame.itertuples()}


GOLDEN_SHARES = {
    "share_open": {
        (W1, "Open weights"): 180 / 450,
        (W1, "Closed"): 240 / 450,
        (W1, "Unknown"): 30 / 450,
        (W2, "Open weights"): 380 / 640,
        (W2, "Closed"): 260 / 640,
    },
    "share_origin": {
        (W1, "Chinese open"): 120 / 450,
        (W1, "Rest-of-world open"): 60 / 450,
        (W1, "Proprietary"): 240 / 450,
        (W1, "Unknown"): 30 / 450,
        (W2, "Chinese open"): 360 / 640,
        (W2, "Rest-of-world open"): 20 / 640,
        (W2, "Proprietary"): 260 / 640,
    },
    "share_size": {
        (W1, "large"): 120 / 180,
        (W1, "small"): 60 / 180,
        (W2, "large"): 360 / 380,
        (W2, "small"): 20 / 380,
    },
    "share_reasoning": {
        (W1, "Reasoning"): 120 / 450,
        (W1, "Non-reasoning"): 330 / 450,
        (W2, "Reasoning"): 560 / 640,
        (W2, "Non-reasoning"): 80 / 640,
    },
}
"""The tiny fixture's shares, worked out by hand (see conftest.tiny_events and test_market)."""


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


def test_golden_weekly_volume(engines, backend, tiny_events, tiny_catalog):
    got = _frame(engines, backend, "weekly_volume", tiny_events, tiny_catalog)
    assert got.to_dict("records") == [
        {"week": W1, "requests": 4, "input_tokens": 380, "output_tokens": 70, "tokens": 450, "users": 3},
        # r9 weighs 5 requests and has no user: null users are not counted
        {"week": W2, "requests": 9, "input_tokens": 470, "output_tokens": 170, "tokens": 640, "users": 3},
    ]


@pytest.mark.parametrize("name", sorted(GOLDEN_SHARES))
def test_golden_shares(engines, backend, name, tiny_events, tiny_catalog):
    got = _shares(_frame(engines, backend, name, tiny_events, tiny_catalog))
    assert got == pytest.approx(GOLDEN_SHARES[name], rel=1e-12)


def test_golden_week_starts_monday_utc(engines, backend, tiny_events, tiny_catalog):
    # r3 at Sunday 23:59 UTC belongs to week 1, r5 at Monday 00:00 UTC to week 2.
    got = _shares(_frame(engines, backend, "weekly_share", tiny_events, tiny_catalog))
    assert got[(W1, "us/closed")] == pytest.approx(240 / 450)
    assert got[(W2, "cn/open-large")] == pytest.approx(360 / 640)


def test_golden_users_per_cell(engines, backend, tiny_events, tiny_catalog):
    got = _frame(engines, backend, "share_open", tiny_events, tiny_catalog)
    users = got.set_index(["week", "segment"])["users"].to_dict()
    assert (users[(W1, "Open weights")], users[(W2, "Open weights")], users[(W2, "Closed")]) == (2, 2, 1)


def test_golden_top_models(engines, backend, tiny_events, tiny_catalog):
    got = _frame(engines, backend, "top_models", tiny_events, tiny_catalog)
    assert got[["rank", "model", "author", "tokens"]].to_dict("records") == [
        {"rank": 1, "model": "cn/open-large", "author": "cn", "tokens": 480},
        {"rank": 2, "model": "us/closed", "author": "us", "tokens": 300},
        {"rank": 3, "model": "us/closed-reasoner", "author": "us", "tokens": 200},
    ]
    assert got["share"].tolist() == pytest.approx([480 / 1090, 300 / 1090, 200 / 1090], rel=1e-12)
    recent = _frame(engines, backend, "top_models_recent", tiny_events, tiny_catalog)
    assert dict(zip(recent.model, recent.tokens, strict=True)) == {
        "cn/open-large": 360,
        "us/closed-reasoner": 200,
        "us/closed": 60,
        "eu/open-small": 20,
    }


def test_golden_top_models_weekly(engines, backend, tiny_events, tiny_catalog):
    got = _shares(_frame(engines, backend, "top_models_weekly", tiny_events, tiny_catalog), key="model")
    assert got == pytest.approx(
        {
            (W1, "cn/open-large"): 120 / 450,
            (W1, "us/closed"): 240 / 450,
            (W1, "Other"): 90 / 450,
            (W2, "cn/open-large"): 360 / 640,
            (W2, "us/closed"): 60 / 640,
            (W2, "Other"): 220 / 640,
        },
        rel=1e-12,
    )


def test_golden_enrichment(engines, backend, tiny_events, tiny_catalog):
    got = _frame(engines, backend, "enriched_events", tiny_events, tiny_catalog).set_index("request_id")
    assert (got.loc["r4", "author"], got.loc["r4", "size_class"], got.loc["r4", "resolved"]) == (
        "unknown",
        "unknown",
        False,
    )
    assert got.loc["r4", "open_segment"] == "Unknown"
    assert got.loc["r3", "week"] == W1
    assert got.loc["r5", "week"] == W2
    assert got.loc["r8", "month"] == date(2025, 6, 1)
    assert got.loc["r9", "user_id"] is None  # a null user stays null on every backend


# -- the suite itself and the engine's contract --------------------------------------------------
def test_every_public_analysis_is_in_the_suite():
    covered = {name.rsplit(".", 1)[-1] for name, _ in FULL_SUITE}
    missing = [name for name in analyses.__all__ if name not in covered | NOT_IBIS]
    assert not missing, f"append (name, callable) pairs for {missing} to ANALYSES in tests/test_backends.py"


def test_known_gaps_name_real_cases():
    names = {name for name, _ in FULL_SUITE}
    assert all(b in BACKENDS and n in names for b, n in KNOWN_GAPS), "a stale KNOWN_GAPS entry"


def test_missing_pyspark_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'tokencensus\[spark\]'"):
        connect("pyspark")


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(ConfigError, match="duckdb, pyspark"):
        connect("oracle")


def test_spark_session_runs_in_utc(spark_con):
    conf = spark_con._session.conf
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.sql.shuffle.partitions") == "2"
