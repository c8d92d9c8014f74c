"""The privacy floor survives subtraction: complementary suppression, and the attack that checks it.

A report is attacked through what it writes (its CSVs), two ways:

* subtraction, written out here without the library: a week's total minus its published segments,
  a month's countries, a model's period minus its published weeks, the pooled retention curve minus
  the published cohorts, the rankings;
* the linear system of every relation between the figures (:mod:`tokencensus.report.disclosure`),
  solved for each hidden cell's smallest and largest value (linear programs).

No cell under the floor may be pinned to within ±50% of its value. The same attack on primary
suppression alone recovers cells exactly, so the test can fail.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from tests.report.test_report import make_meta
from tokencensus.demo import run_demo
from tokencensus.engine import open_lake
from tokencensus.lake import Lake
from tokencensus.report.compute import compute
from tokencensus.report.data import FIGURES, _ordered, report_view
from tokencensus.report.disclosure import PROTECTION, Cells, audit, protect, relations, rerank

K = 50
P = PROTECTION
RANKINGS = tuple(f.id for f in FIGURES if f.kind in ("ranking", "leaderboard"))
WEEK_PARTITIONS = ("share_open", "share_origin", "share_reasoning", "share_new_models", "share_author",
                   "top_models_weekly", "geo_continent")  # fmt: skip


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, dict]:
    """A small demo (200k requests, 8,000 users, 78 weeks) at k = 50: hundreds of cells under the floor.

    Returns the true frames (in report order), the published CSVs, and each figure's hidden rows
    as the CSVs show them (a ranking's hidden rows are the ones it left out)."""
    out = tmp_path_factory.mktemp("disclosure")
    run_demo(out, requests=200_000, users=8_000, seed=11, min_users=K, log=lambda _m: None)
    results, _ = compute(open_lake(Lake(out / "lake", create=False)), min_users=K)
    true = {f.id: _ordered(f, results[f.id]) for f in FIGURES if f.id in results}
    csvs = {
        fid: pd.read_csv(out / "figures" / f"{fid}.csv", keep_default_na=False, dtype=str) for fid in true
    }
    hidden = {}
    for fid, frame in true.items():
        csv = csvs[fid]
        if fid in RANKINGS:
            keys = ["week", "model"] if fid == "leaderboard" else ["model"]
            shown = set(csv[keys].astype(str).itertuples(index=False, name=None))
            rows = frame[keys].astype(str).itertuples(index=False, name=None)
            hidden[fid] = np.array([r not in shown for r in rows], dtype=bool)
        else:
            assert len(csv) == len(frame), fid
            hidden[fid] = (csv["suppressed"] == "true").to_numpy()
    return true, csvs, hidden


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace("", np.nan))


def _sensitive(frame: pd.DataFrame) -> np.ndarray:
    return (frame["users"].isna() | (frame["users"] < K)).to_numpy()


def test_every_cell_under_the_floor_is_hidden_and_more_are(study) -> None:
    true, _, hidden = study
    n_sensitive = n_hidden = 0
    for fid, frame in true.items():
        sens = _sensitive(frame)
        assert not (sens & ~hidden[fid]).any(), fid
        n_sensitive += int(sens.sum())
        n_hidden += int(hidden[fid].sum())
    assert n_sensitive > 300
    assert n_hidden > n_sensitive


def _protected(x: float, upper: float) -> bool:
    """A reader who knows only that the cell lies in [0, upper] cannot pin it to ±p."""
    return upper >= (1 + P) * x - 1e-6 * max(1.0, x)


def _attack(frame: pd.DataFrame, rows: np.ndarray, rest: float, where: object) -> int:
    """A total minus the published cells of ``rows`` is ``rest``: each hidden cell under the floor
    among them lies in [0, rest], and must not be pinned; returns how many were attacked."""
    sensitive = rows[_sensitive(frame.iloc[rows])]
    for r in sensitive:
        assert _protected(float(frame["tokens"].iloc[r]), rest), (where, frame.iloc[r].to_dict())
    return len(sensitive)


def test_subtraction_within_a_week_recovers_no_hidden_segment(study) -> None:
    """Week total (the volume's tokens) − published segments = what the hidden segments hold together:
    each hidden cell under the floor is at most that, and that must be ≥ 1.5× the cell."""
    true, csvs, hidden = study
    totals = dict(zip(csvs["volume"]["week"], _num(csvs["volume"]["tokens"]), strict=True))
    attacked = 0
    for fid in (*WEEK_PARTITIONS, "share_size"):
        frame, csv = true[fid], csvs[fid]
        tokens = _num(csv["tokens"])
        for week, rows in csv.groupby("week").groups.items():
            rows = np.asarray(rows)
            if fid == "share_size":  # sizes split the open-weights segment of the week
                opn = csvs["share_open"]
                cell = opn[(opn["week"] == week) & (opn["segment"] == "Open weights")]
                total = float(_num(cell["tokens"]).iloc[0]) if len(cell) else np.nan
                if np.isnan(total):  # hidden too: its share of the week is all a reader has
                    continue
            else:
                total = totals[week]
            assert hidden[fid][rows[_sensitive(frame.iloc[rows])]].all()
            attacked += _attack(frame, rows, total - tokens.iloc[rows].sum(), (fid, week))
    assert attacked > 100


def test_subtraction_over_a_month_and_a_continent_recovers_no_country(study) -> None:
    true, csvs, hidden = study
    frame, csv = true["geo_country"], csvs["geo_country"]
    tokens, shares = _num(csv["tokens"]), _num(csv["token_share"])
    attacked = 0
    for _, rows in csv.groupby("month").groups.items():
        rows = np.asarray(rows)
        published = ~hidden["geo_country"][rows]
        if not published.any():  # nothing published: no share gives the month's total away
            continue
        total = float((tokens.iloc[rows][published] / shares.iloc[rows][published]).median())
        attacked += _attack(frame, rows, total - tokens.iloc[rows].sum(), "month")
    assert attacked > 0


def test_a_models_period_minus_its_published_weeks_recovers_no_week(study) -> None:
    true, csvs, _hidden = study
    period = dict(zip(csvs["cost_vs_usage"]["model"], _num(csvs["cost_vs_usage"]["tokens"]), strict=True))
    frame, csv = true["top_models_weekly"], csvs["top_models_weekly"]
    tokens = _num(csv["tokens"])
    attacked = 0
    for model, rows in csv.groupby("model").groups.items():
        if model not in period or np.isnan(period[model]):
            continue
        rows = np.asarray(rows)
        attacked += _attack(frame, rows, period[model] - tokens.iloc[rows].sum(), model)
    assert attacked > 0


def test_pooled_retention_holds_only_published_cohorts(study) -> None:
    """Curve − published cohorts would be the hidden cohorts: it is zero at every k."""
    _, csvs, _ = study
    tri, curves = csvs["retention_triangle"], csvs["retention_curves"]
    published = tri[tri["suppressed"] == "false"]
    pooled = published.assign(cu=_num(published["cohort_users"]), au=_num(published["active_users"]))
    pooled = pooled.groupby(["model", "k"])[["cu", "au"]].sum()
    assert len(curves) > 10
    for row in curves.itertuples(index=False):
        assert (_num(pd.Series([row.cohort_users])).iloc[0], _num(pd.Series([row.active_users])).iloc[0]) == (
            pooled.loc[(row.model, row.k), "cu"],
            pooled.loc[(row.model, row.k), "au"],
        )
    assert (tri["suppressed"] == "true").sum() > 100


def test_rankings_name_no_hidden_model_and_their_changes_are_published(study) -> None:
    true, csvs, hidden = study
    weekly = true["top_models_weekly"]
    hidden_weeks = set(
        weekly.loc[hidden["top_models_weekly"], ["week", "model"]]
        .astype(str)
        .itertuples(index=False, name=None)
    )
    board = csvs["leaderboard"]
    assert hidden["leaderboard"].any()  # some of the true leaders were under the floor
    assert not set(board[["week", "model"]].itertuples(index=False, name=None)) & hidden_weeks
    for fid in RANKINGS:  # ranks run 1..n among the published rows
        csv = csvs[fid]
        groups = csv.groupby("week") if fid == "leaderboard" else [(None, csv)]
        for _, rows in groups:
            assert list(rows["rank"].astype(int)) == list(range(1, len(rows) + 1))
    # a change is against the published ranking of the week before
    prev = board.assign(week=[(date.fromisoformat(w) + timedelta(days=7)).isoformat() for w in board["week"]])
    lookup = dict(zip(zip(prev["week"], prev["model"], strict=True), prev["tokens"], strict=True))
    for row in board.itertuples(index=False):
        assert row.prev_tokens == lookup.get((row.week, row.model), ""), row


def test_the_linear_attack_on_every_figure_recovers_no_hidden_cell(study) -> None:
    true, _, hidden = study
    cells = Cells(true)
    rels = relations(cells).relations
    mask = np.concatenate([hidden[fid] for fid in true])
    sensitive = np.concatenate([_sensitive(true[fid]) for fid in true])
    assert audit(cells, rels, mask, sensitive) == []
    # the same attack on the floor alone (no complementary cells) recovers cells, most exactly
    exposed = audit(cells, rels, sensitive, sensitive)
    figures = {e.figure for e in exposed}
    assert len(exposed) > 20, figures
    assert {"top_models_weekly", "share_size", "geo_continent"} <= figures, figures
    assert sum(e.low == e.high for e in exposed) > 10


# ---------------------------------------------------------------- by hand


def _week(tokens: dict[str, tuple[int, int]]) -> dict[str, pd.DataFrame]:
    week = date(2025, 6, 2)
    total = sum(t for t, _ in tokens.values())
    share_open = pd.DataFrame(
        [(week, seg, t, t / total, u) for seg, (t, u) in tokens.items()],
        columns=["week", "segment", "tokens", "share", "users"],
    )
    volume = pd.DataFrame(
        [(week, 10, total, total, 0, 900)],
        columns=["week", "requests", "tokens", "input_tokens", "output_tokens", "users"],
    )
    return {"volume": volume, "share_open": share_open}


def test_one_hidden_segment_takes_the_smallest_sufficient_one_with_it() -> None:
    """Closed 500 (100 users), Open 300 (100), Unknown 20 (3 users): Unknown alone would be the week's
    820 − 800; with Open hidden too a reader knows only Open + Unknown = 320, so Unknown ∈ [0, 320]."""
    frames = _week({"Closed": (500, 100), "Open weights": (300, 100), "Unknown": (20, 3)})
    got = protect(frames, K)
    assert list(got.hidden["share_open"]) == [False, True, True]
    assert got.exposures == []
    cells = Cells(frames)
    rels = relations(cells).relations
    hidden = np.array([False, False, True, True])  # the volume's week, Closed, Open, Unknown
    sensitive = np.array([False, False, False, True])
    assert audit(cells, rels, hidden, sensitive) == []
    alone = audit(cells, rels, sensitive, sensitive)
    assert [(e.figure, e.row, e.column, e.value, e.low, e.high) for e in alone] == [
        ("share_open", 2, "tokens", 20.0, 20.0, 20.0)
    ]


def test_a_complement_too_small_to_protect_is_not_enough() -> None:
    """Unknown 400 (3 users) with Open 100: Open + Unknown = 500 puts Unknown in [0, 500], under
    1.5 × 400 = 600, so Closed 1,000 is hidden as well (everything: the week's total is public)."""
    frames = _week({"Closed": (1000, 100), "Open weights": (100, 100), "Unknown": (400, 3)})
    assert list(protect(frames, K).hidden["share_open"]) == [True, True, True]
    assert not protect(frames, K, p=0).hidden["share_open"][:2].any()  # p = 0: the floor alone


def test_the_report_says_what_is_protected_and_counts_the_complements() -> None:
    frames = _week({"Closed": (500, 100), "Open weights": (300, 100), "Unknown": (20, 3)})
    view = report_view(frames, make_meta(protection=P))
    fig = next(f for f in view.figures if f.id == "share_open")
    assert fig.n_suppressed == 2
    assert fig.suppression_note == (
        "2 cells suppressed: 1 under 50 users, 1 more so that those cannot be worked out from "
        "published totals (blank in the CSV, not drawn)."
    )
    floor = next(f.value for f in view.summary if f.label == "Privacy floor")
    assert "within ±50%" in floor
    assert "not covered" in floor


def test_rerank_drops_hidden_rows_and_recomputes_changes() -> None:
    w1, w2 = date(2025, 6, 2), date(2025, 6, 9)
    cols = ["week", "rank", "model", "author", "tokens", "share", "users", "prev_rank", "prev_tokens",
            "prev_share", "rank_change", "share_change", "tokens_change"]  # fmt: skip
    frame = pd.DataFrame(
        [
            (w1, 1, "a", "x", 500, 0.5, 90, None, None, None, None, None, None),
            (w1, 2, "secret", "x", 300, 0.3, 3, None, None, None, None, None, None),
            (w1, 3, "b", "x", 200, 0.2, 90, None, None, None, None, None, None),
            (w2, 1, "b", "x", 600, 0.6, 90, 3, 200, 0.2, 2, 0.4, 2.0),
            (w2, 2, "a", "x", 400, 0.4, 90, 1, 500, 0.5, -1, -0.1, -0.2),
        ],
        columns=cols,
    )
    out = rerank(frame, (frame["users"] < K).to_numpy(), leaderboard=True)
    assert list(out["model"]) == ["a", "b", "b", "a"]
    assert list(out["rank"]) == [1, 2, 1, 2]
    # b was 2nd of the published week before (not 3rd): it climbed one place
    assert list(out["prev_rank"].astype("float").fillna(0)) == [0, 0, 2, 1]
    assert list(out["rank_change"].astype("float").fillna(0)) == [0, 0, 1, -1]
    assert out.loc[2, "tokens_change"] == pytest.approx(2.0)


def test_a_total_the_summary_states_is_owned_up_to() -> None:
    """One week of data used by 10 people: the week is hidden, but the summary's totals are that
    week; no suppression can hide it, and the summary says so."""
    week = _week({"Closed": (500, 5), "Open weights": (300, 5)})
    week["volume"]["users"] = 10
    view = report_view({"volume": week["volume"]}, make_meta(protection=P))
    floor = next(f.value for f in view.summary if f.label == "Privacy floor")
    assert "1 cell suppressed in this report; 1 of them can still be worked out from published" in floor


def test_the_largest_open_model_is_named_only_above_the_floor(study) -> None:
    """top1_share × open tokens is the top model's weekly cell, top5_share the sum of five: they are
    published only when those cells clear the floor (and the top model's cell is not hidden)."""
    true, csvs, hidden = study
    conc, csv = true["open_concentration"], csvs["open_concentration"]
    hidden_cells = set()
    for fid in ("top_models_weekly", "leaderboard"):  # the model's weekly cell, where published
        keys = zip(true[fid]["week"].map(date.isoformat), true[fid]["model"], strict=True)
        hidden_cells |= {key for key, h in zip(keys, hidden[fid], strict=True) if h}
    named = gated = 0
    for i, row in csv.iterrows():
        truth = conc.iloc[i]
        if row["top1_share"] != "":
            named += 1
            assert truth["top1_users"] >= K
            assert (row["week"], row["top_model"]) not in hidden_cells
        elif row["suppressed"] == "false":
            gated += 1
            assert truth["top1_users"] < K or (truth["week"].isoformat(), truth["top_model"]) in hidden_cells
        if row["top5_share"] != "":
            assert truth["top5_users"] >= K
    assert named
    assert gated


def test_cost_medians_are_taken_over_the_published_points(study) -> None:
    _, csvs, _ = study
    for fid in ("cost_vs_usage", "category_costs"):
        csv = csvs[fid]
        shown = csv[(csv["suppressed"] == "false") & (csv["price_per_1m"] != "")]
        assert float(shown["median_tokens"].iloc[0]) == pytest.approx(_num(shown["tokens"]).median())
        assert float(shown["median_price"].iloc[0]) == pytest.approx(_num(shown["price_per_1m"]).median())


def _flows() -> dict[str, pd.DataFrame]:
    """A's 100 churns: 40 went nowhere (3 users), 60 to B, 20 to C. Nowhere + B ≤ 100 pins nowhere at
    ≤ 40, its value, and Σ ≥ 100 at ≥ 20: B must be hidden with it."""
    return {
        "churn_flows": pd.DataFrame(
            [("A", "(none)", 40, 3, 100, 0.4), ("A", "B", 60, 80, 100, 0.6), ("A", "C", 20, 80, 100, 0.2)],
            columns=["from_model", "to_model", "churns", "users", "from_churns", "share"],
        )
    }


def test_a_flow_that_went_nowhere_is_bounded_by_every_other_flow() -> None:
    frames = _flows()
    cells = Cells(frames)
    rels = relations(cells).relations
    alone = audit(cells, rels, np.array([True, False, False]), np.array([True, False, False]))
    assert [(e.row, e.low, e.high) for e in alone] == [(0, 20.0, 40.0)]
    got = protect(frames, K)
    assert list(got.hidden["churn_flows"]) == [True, True, True]
    assert got.exposures == []


def test_the_audit_fails_closed_when_the_solver_does(monkeypatch) -> None:
    import scipy.optimize

    class Failed:
        status, x, fun = 4, None, None

    monkeypatch.setattr(scipy.optimize, "linprog", lambda *_a, **_k: Failed())
    frames = _flows()
    cells = Cells(frames)
    hidden = np.array([True, True, False])  # nowhere and B hidden, C published: the floor holds
    exposed = audit(cells, relations(cells).relations, hidden, np.array([True, False, False]))
    assert [(e.row, e.low, e.high) for e in exposed] == [(0, 40.0, 40.0)]
