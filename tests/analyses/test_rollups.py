"""The report's rollups give the same numbers as the standalone analyses.

The report computes every figure from a few passes (tokencensus.analyses.rollups): sums cubes,
users counted through bit masks of segments, weeks and months. Here each report figure is checked
against the analysis run directly on the events, on simulated lakes (one spanning more than 63
weeks, so week masks take two words), and the month-mask retention and churn rollups on hand-made
data spanning more than 63 months (two-word month masks, churns across the word boundary).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from tokencensus import analyses
from tokencensus.analyses import retention, rollups
from tokencensus.engine import open_lake, open_table, register, utc_floor
from tokencensus.lake import Lake
from tokencensus.report.compute import figure_analyses, tidy
from tokencensus.report.sources import _churn, sources
from tokencensus.simulator import SimConfig, simulate

TOP_N = 4


def reference(events, top_n: int, follow: list[str]) -> dict:
    """Each report figure's analysis, run standalone on the events (distinct users counted directly)."""
    return {
        "volume": lambda: analyses.weekly_volume(events),
        "share_open": lambda: analyses.share_open(events),
        "share_origin": lambda: analyses.share_origin(events),
        "share_author": lambda: analyses.share_author(events),
        "top_models": lambda: analyses.top_models(events, n=top_n, weeks=4),
        "top_models_weekly": lambda: analyses.top_models_weekly(events, n=top_n),
        "leaderboard": lambda: analyses.leaderboard(events, n=top_n),
        "open_concentration": lambda: analyses.open_concentration(events),
        "share_new_models": lambda: analyses.share_new_models(events, 90),
        "share_size": lambda: analyses.share_size(events),
        "size_supply": lambda: analyses.market.size_supply(events),
        "share_reasoning": lambda: analyses.share_reasoning(events),
        "reasoning_models": lambda: analyses.agentic.reasoning_models_weekly(events, n=top_n),
        "reasoning": lambda: analyses.reasoning_weekly(events),
        "tool_calls": lambda: analyses.tool_calls_weekly(events),
        "lengths": lambda: analyses.lengths_weekly(events),
        "geo_continent": lambda: analyses.region_share(events, "continent", "week"),
        "geo_spend": lambda: analyses.region_share(events, "continent", "week"),
        "geo_country": lambda: analyses.region_share(events, "country", "month"),
        "cost_vs_usage": lambda: analyses.model_costs(events),
        "retention_curves": lambda: analyses.retention_curves(events, min(top_n, 5)),
        "retention_triangle": lambda: analyses.retention_triangle(events),
        "retention_cohorts": lambda: analyses.retention.followed_cohorts(events, n=min(top_n, 3)),
        "glass_slipper": lambda: analyses.foundational_cohorts(events),
        "boomerang": lambda: analyses.boomerangs(events),
        "churn_flows": lambda: analyses.churn_flows(events, models=follow),
    }


@pytest.fixture(scope="module", params=[(8, 5), (70, 9)], ids=["8-weeks", "70-weeks"])
def lake(request, tmp_path_factory) -> Lake:
    weeks, seed = request.param
    sim = simulate(SimConfig(requests=30_000, users=2_500, weeks=weeks, seed=seed))
    lake = Lake(tmp_path_factory.mktemp("rollup-lake"))
    lake.append(sim.events, "sim")
    return lake


def test_every_report_figure_equals_the_standalone_analysis(lake):
    tables = open_lake(lake)
    src = sources(tables, TOP_N)
    follow = list(analyses.leading_models(tables.events, TOP_N).to_pandas()["model"])
    want = reference(tables.events, TOP_N, follow)
    figures = figure_analyses(TOP_N)
    assert set(figures) == set(want)
    empty = set()
    for name, analysis in figures.items():
        got = tidy(analysis(src).to_pandas())
        expected = tidy(want[name]().to_pandas())
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, obj=name)
        if got.empty:
            empty.add(name)
    # cohorts of these small lakes fall under the glass-slipper and boomerang size floors, and 8
    # weeks hold under two complete months, so no churn can be seen there
    short = len(volume_weeks(src)) < 10
    assert empty <= {"glass_slipper", "boomerang"} | ({"churn_flows"} if short else set())
    # users behind the cells are really counted: the weekly users are not all equal to the week's
    volume = tidy(figures["volume"](src).to_pandas())
    share = tidy(figures["share_open"](src).to_pandas())
    assert (share.groupby("week")["users"].sum() >= volume.set_index("week")["users"]).all()
    assert src.total_users == int(tables.events.user_id.nunique().to_pandas())


def volume_weeks(src) -> list:
    return list(tidy(figure_analyses(TOP_N)["volume"](src).to_pandas())["week"])


def test_summary_from_the_rollup_equals_the_events(lake):
    from tokencensus.report.compute import summarize

    tables = open_lake(lake)
    src = sources(tables, TOP_N)
    fast = summarize(src.cells, min_users=50, users=src.total_users)
    slow = summarize(tables.events, min_users=50)
    assert fast == slow


# -- month masks over more than 63 months ---------------------------------------------------------
A, B, C = "cn/open-large", "eu/open-small", "us/closed"


def month(i: int) -> datetime:
    """The 10th of month i after January 2020 (i = 0 .. 79)."""
    return datetime(2020 + i // 12, i % 12 + 1, 10, tzinfo=UTC)


@pytest.fixture
def long_events(tiny_catalog):
    """Users over 76 months: churns in month 62 → 63 and 63 → 64 cross the 63-bit word boundary."""
    visits = []
    for i in range(0, 76):  # u1 on A every month, u2 on A every other month
        visits.append(("u1", A, i))
        if i % 2 == 0:
            visits.append(("u2", A, i))
    visits += [("u3", A, 62), ("u3", B, 63), ("u3", C, 63)]  # leaves A after 62 for B and C
    visits += [("u4", B, 63), ("u4", A, 64), ("u4", C, 65)]  # A from 64 on, then only C
    visits += [("u5", C, 70), ("u5", A, 71)]
    visits.append(("u6", B, 75))  # the data ends on the 10th of month 75: an incomplete month
    n = len(visits)
    table = pa.table(
        {
            "request_id": [f"r{i}" for i in range(n)],
            "ts": pa.array([month(i) for _, _, i in visits], pa.timestamp("us", tz="UTC")),
            "user_id": [u for u, _, _ in visits],
            "model": [m for _, m, _ in visits],
            "input_tokens": pa.array([10] * n, pa.int64()),
            "output_tokens": pa.array([5] * n, pa.int64()),
            "requests": pa.array([1] * n, pa.int64()),
            # u4 is seen in two countries (a row per country in the accounts)
            "country": ["DE" if (u, i) == ("u4", 65) else "FR" for u, _, i in visits],
        }
    )
    return open_table(table, catalog=tiny_catalog)


def test_month_masks_span_two_words(long_events):
    events, base = long_events.events, long_events.base
    first_mi, n_months = 2020 * 12, 76
    end_mi = first_mi + 75  # the data ends on the 10th of its last month: incomplete
    follow = [A, B]
    recent_from = date(2026, 2, 23)  # a Monday: months 74 and 75 come after it
    dim = rollups.user_dim([A, B, C], follow, date(2019, 12, 30), 340, first_mi, n_months, recent_from)
    dim = register(long_events, "user_dim", dim)
    both = rollups.user_masks(base, dim, len(follow), 340, n_months)
    masks = rollups.model_month_masks(both, dim, first_mi, n_months)
    assert rollups.n_words(n_months) == 2
    recent = rollups.recent_users(both, dim).to_pandas().set_index("model")["users"].to_dict()
    assert recent == {A: 2, B: 1}  # u1 and u2 on A (months 74, 75), u6 on B (month 75)
    got = tidy(rollups.triangle_from_masks(masks, first_mi, end_mi, n_months).to_pandas())
    want = tidy(retention.retention_triangle(events).to_pandas())
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # u1 at k = 70 of A's first cohort, past the first word
    a = got[(got.model == A) & (got.cohort == date(2020, 1, 1))].set_index("k")
    assert a.loc[70, "active_users"] == 2
    assert a.loc[69, "active_users"] == 1

    accounts = rollups.account_masks(both, len(follow), 340, n_months)
    flows = tidy(_churn(accounts, follow, n_months, end_mi - first_mi).to_pandas())
    want = tidy(retention.churn_flows(events, models=follow).to_pandas())
    pd.testing.assert_frame_equal(flows, want, check_dtype=False)
    # without the user seen in two countries, the accounts need no merging per user
    single = accounts.filter(accounts.user_id != "u4")
    merged = tidy(_churn(single, follow, n_months, end_mi - first_mi).to_pandas())
    as_is = tidy(_churn(single, follow, n_months, end_mi - first_mi, one_row_per_user=True).to_pandas())
    pd.testing.assert_frame_equal(as_is, merged)
    assert accounts.count().to_pandas() == single.user_id.nunique().to_pandas() + 2
    # u3 leaves A after month 62 for B and for C (another model), across the word boundary
    moves = flows.set_index(["from_model", "to_model"])
    assert moves.loc[(A, B), "users"] >= 1
    assert moves.loc[(A, retention.OTHER_MODELS), "users"] >= 1


def test_bit_helpers_across_words():
    positions = [0, 1, 62, 63, 64, 125, 126, 130]
    words = rollups.n_words(131)
    rows = [rollups._words_of(p, words) for p in positions]  # each row's bit, as the dims hold them
    t = ibis.memtable({f"m{j}": [r[j] for r in rows] for j in range(words)})
    per = t.aggregate(**{f"m{j}": rollups.bit_or(t[f"m{j}"]) for j in range(words)})
    row = per.to_pandas().iloc[0]
    mask = sum(int(row[f"m{j}"]) << (rollups.WORD_BITS * j) for j in range(words))
    assert mask == sum(1 << p for p in positions)
    totals = per.aggregate(**rollups.bit_totals(per, "m", 131)).to_pandas().iloc[0]
    assert [p for p in range(131) if totals[f"p{p}"]] == positions
    down = per.select(*(d.name(f"d{j}") for j, d in enumerate(rollups._shift_down(per, "m", words))))
    row = down.to_pandas().iloc[0]
    shifted = sum(int(row[f"d{j}"]) << (rollups.WORD_BITS * j) for j in range(words))
    assert shifted == sum(1 << (p - 1) for p in positions if p > 0)


def test_utc_floor_is_the_calendar_week_and_month():
    """DuckDB's integer-arithmetic weeks and months equal the calendar's, before and after 1970."""
    rng = random.Random(5)
    start = datetime(1700, 1, 1, tzinfo=UTC)
    stamps = [start + timedelta(seconds=rng.randrange(0, 420 * 365 * 86400)) for _ in range(3000)]
    stamps += [
        datetime(1969, 12, 28, 23, 59, 59, 999999, tzinfo=UTC),  # a Sunday: the week of Monday 22nd
        datetime(1969, 12, 29, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 2, tzinfo=UTC),
    ]
    con = ibis.duckdb.connect()
    t = ibis.memtable(pa.table({"ts": pa.array(stamps, pa.timestamp("us", tz="UTC"))}))
    got = con.to_pyarrow(
        t.select(week=utc_floor(t.ts, "W", "duckdb"), month=utc_floor(t.ts, "M", "duckdb"))
    ).to_pylist()
    for ts, row in zip(stamps, got, strict=True):
        day = ts.date()
        assert row == {"week": day - timedelta(days=day.weekday()), "month": day.replace(day=1)}, ts


def _boundary_events() -> pa.Table:
    """Requests a second either side of week and month boundaries (UTC)."""
    stamps = [
        datetime(2025, 5, 31, 23, 59, 59, tzinfo=UTC),  # Saturday, May: week of 26 May
        datetime(2025, 6, 1, 23, 59, 59, tzinfo=UTC),  # Sunday, June: still the week of 26 May
        datetime(2025, 6, 2, 0, 0, 0, tzinfo=UTC),  # Monday: a new week
        datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC),  # Monday 30 June
        datetime(2025, 7, 1, 0, 0, 1, tzinfo=UTC),  # Tuesday, July, the week of 30 June
    ]
    n = len(stamps)
    return pa.table(
        {
            "request_id": [f"r{i}" for i in range(n)],
            "ts": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "user_id": [f"u{i}" for i in range(n)],
            "model": ["m"] * n,
            "input_tokens": pa.array([1] * n, pa.int64()),
        }
    )


def test_periods_come_from_the_partition_only_where_every_file_holds_its_day(tmp_path, caplog):
    lake = Lake(tmp_path / "lake")
    lake.append(_boundary_events(), "edges")
    want = {
        "day": [date(2025, 5, 31), date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 30), date(2025, 7, 1)],
        "week": [
            date(2025, 5, 26),
            date(2025, 5, 26),
            date(2025, 6, 2),
            date(2025, 6, 30),
            date(2025, 6, 30),
        ],
        "month": [date(2025, 5, 1), date(2025, 6, 1), date(2025, 6, 1), date(2025, 6, 1), date(2025, 7, 1)],
    }

    def periods(tables) -> dict[str, list[date]]:
        frame = tables.base.order_by("ts").select("day", "week", "month").to_pandas()
        return {c: [pd.Timestamp(v).date() for v in frame[c]] for c in want}

    with caplog.at_level("WARNING", logger="tokencensus.engine"):
        tables = open_lake(lake)
    assert "date" in tables.con.table("events_raw").columns  # read from the partitions
    assert periods(tables) == want
    assert not caplog.records
    assert periods(open_table(lake.read_events())) == want  # from ts: the same

    # a file under another day's partition: the periods come from ts, and a warning says so
    moved = lake.events_dir / "date=2025-06-03"
    moved.mkdir()
    [source] = (lake.events_dir / "date=2025-06-02").glob("*.parquet")
    source.rename(moved / source.name)
    with caplog.at_level("WARNING", logger="tokencensus.engine"):
        tables = open_lake(lake)
    assert "date" not in tables.base.columns
    assert periods(tables) == want
    assert any("date=2025-06-03" in r.getMessage() for r in caplog.records)
