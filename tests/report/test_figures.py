"""The figure registry and the figures added to it, each on a hand-made lake whose numbers are
worked out by hand below.

Every request of the lake is labelled, so each label's weight (requests of its model / labelled
requests of its model) is 1 and the weighted tokens are the requests' own. Four catalog models
(tests/conftest.py's tiny catalog): cn/open-large (Chinese open, reasoning), eu/open-small
(rest-of-world open), us/closed (proprietary) and us/closed-reasoner (proprietary, reasoning).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from tests.conftest import tiny_catalog_table, ts
from tokencensus.classify.labels import append_labels
from tokencensus.engine import open_lake, open_table
from tokencensus.lake import Lake
from tokencensus.report import figure as figure_shape
from tokencensus.report.compute import figure_analyses, tidy
from tokencensus.report.data import figure_view
from tokencensus.report.figures import FIGURES, FIGURES_BY_ID, MODULES, SECTIONS
from tokencensus.report.sources import sources

CN, EU, US, USR = "cn/open-large", "eu/open-small", "us/closed", "us/closed-reasoner"
JUNE, JULY = date(2025, 6, 1), date(2025, 7, 1)
W1, W2, W3 = date(2025, 6, 2), date(2025, 7, 7), date(2025, 8, 4)

# request, day, user, model, category, tokens (input; output 0), country
REQUESTS = [
    ("r1", ts(2025, 6, 2), "u1", CN, "programming", 100, "US"),
    ("r2", ts(2025, 6, 3), "u2", CN, "roleplay", 300, "US"),
    ("r3", ts(2025, 6, 4), "u3", EU, "programming", 100, "DE"),
    ("r4", ts(2025, 6, 5), "u1", US, "programming", 400, "US"),
    ("r5", ts(2025, 6, 6), "u4", USR, "general_qa", 100, "US"),
    ("r6", ts(2025, 7, 7), "u1", CN, "programming", 200, "US"),
    ("r7", ts(2025, 7, 8), "u2", EU, "roleplay", 200, "US"),
    ("r8", ts(2025, 7, 9), "u3", US, "programming", 200, "DE"),
    ("r9", ts(2025, 7, 10), "u4", USR, "programming", 400, "US"),
    # unlabelled, on a model missing from the catalog: it ends the data in August, so that June and
    # July are complete months for retention (and weights no labelled model)
    ("r10", ts(2025, 8, 5), "u1", "mystery-model", None, 100, "US"),
]


def events() -> pa.Table:
    cols = list(zip(*REQUESTS, strict=True))
    return pa.table(
        {
            "request_id": pa.array(cols[0]),
            "ts": pa.array(cols[1], pa.timestamp("us", tz="UTC")),
            "user_id": pa.array(cols[2]),
            "model": pa.array(cols[3]),
            "input_tokens": pa.array(cols[5], pa.int64()),
            "output_tokens": pa.array([0] * len(REQUESTS), pa.int64()),
            "requests": pa.array([1] * len(REQUESTS), pa.int64()),
            "country": pa.array(cols[6]),
            "cost_usd": pa.array([t / 100 for t in cols[5]], pa.float64()),  # 1 USD per 100 tokens
        }
    )


def hand_lake(root: Path) -> Lake:
    """The lake of :data:`REQUESTS` and their labels."""
    lake = Lake(root)
    lake.append(events(), "hand")
    labelled = [r for r in REQUESTS if r[4] is not None]
    append_labels(
        lake.root,
        pa.table(
            {
                "request_id": [r[0] for r in labelled],
                "language": ["en"] * len(labelled),
                "category": [r[4] for r in labelled],
                "subcategory": [r[4] for r in labelled],
                "confidence": [0.9] * len(labelled),
                "classifier": ["default"] * len(labelled),
            }
        ),
    )
    return lake


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """Every figure's frame on the hand-made lake."""
    lake = hand_lake(tmp_path_factory.mktemp("figures") / "lake")
    src = sources(open_lake(lake, catalog=tiny_catalog_table()), top_n=10)
    todo = figure_analyses(10, labels=True)
    return {fid: tidy(analysis(src).to_pandas()) for fid, analysis in todo.items()}


def cells(frame: pd.DataFrame, keys: list[str], value: str = "share") -> dict[tuple, float]:
    return {tuple(r[k] for k in keys): round(float(r[value]), 4) for r in frame.to_dict("records")}


# -- the registry ----------------------------------------------------------------------------------


def test_the_registry_lists_each_figure_once_in_its_modules_order() -> None:
    ids = [fig.id for fig in FIGURES]
    assert len(ids) == len(set(ids)) == len(FIGURES_BY_ID)
    assert ids == [fig.id for module in MODULES for fig in module.FIGURES]
    sections = [s.id for s in SECTIONS]
    order = [sections.index(fig.section) for fig in FIGURES]
    assert order == sorted(order), "figures follow the study's sections"
    for fig in FIGURES:
        assert fig.note, fig.id
        assert fig.title, fig.id
        assert fig.headline is not None, fig.id
        assert f'"{fig.kind}"' in (figure_shape.Figure.__doc__ or ""), f"{fig.id}: undocumented kind"


def test_every_figure_has_rows_on_the_hand_made_lake(results: dict[str, pd.DataFrame]) -> None:
    """Labels present: every figure; all have rows but the retention tests, whose cohorts must hold
    50 and 100 users."""
    assert {fig.id for fig in FIGURES} == set(results)
    assert {fid for fid, frame in results.items() if frame.empty} == {"glass_slipper", "boomerang"}


def test_the_relations_between_figures_hold_on_computed_frames(results: dict[str, pd.DataFrame]) -> None:
    """What complementary suppression tells a reader must be true of the numbers: every balance
    (Σ plus − Σ minus = 0) holds and every pair of linked cells (one quantity in two places) is
    equal, in every additive column both hold; a relation that did not hold would protect the wrong
    cells."""
    import numpy as np

    from tokencensus.report.data import _ordered
    from tokencensus.report.disclosure import Cells, relations

    frames = {fig.id: _ordered(fig, results[fig.id]) for fig in FIGURES}
    cells = Cells(frames)
    built = relations(cells)
    balances = [r for r in built.relations if r.exact and (r.coeffs < 0).any()]
    assert len(balances) > 20
    for rel in balances:
        for column in rel.columns:
            values = cells.values(column)[rel.cells]
            assert not np.isnan(values).any(), rel.why
            assert abs(float(values @ rel.coeffs)) <= 1e-6 * max(1.0, float(np.abs(values).max())), rel.why
    additive = ("requests", "input_tokens", "output_tokens", "tokens", "spend", "labelled", "churns")
    assert len(built.links) > 20
    for a, b in built.links:
        shared = [
            c for c in additive if not np.isnan(cells.values(c)[a]) and not np.isnan(cells.values(c)[b])
        ]
        for column in shared:
            assert cells.values(column)[a] == cells.values(column)[b], (
                cells.where(a),
                cells.where(b),
                column,
            )
    linked = {cells.where(a)[0] for a, _ in built.links} | {cells.where(b)[0] for _, b in built.links}
    assert {"reasoning_models", "size_supply", "geo_spend", "retention_cohorts"} <= linked


# -- the new figures, by hand ----------------------------------------------------------------------


def test_category_authors(results: dict[str, pd.DataFrame]) -> None:
    # cn: programming 100 + 200, roleplay 300; eu: programming 100, roleplay 200;
    # us: programming 400 + 200 + 400, general_qa 100
    got = results["category_authors"]
    assert cells(got, ["author", "category"]) == {
        ("cn", "programming"): 0.5,
        ("cn", "roleplay"): 0.5,
        ("eu", "programming"): round(1 / 3, 4),
        ("eu", "roleplay"): round(2 / 3, 4),
        ("us", "general_qa"): round(100 / 1100, 4),
        ("us", "programming"): round(1000 / 1100, 4),
    }
    assert cells(got, ["author", "category"], "users")[("us", "programming")] == 3  # u1, u3, u4


def test_categories_within_open_and_chinese_open_weights(tmp_path: Path) -> None:
    """The analysis (the report does not publish it: too sparse monthly, see figures/category_mix.py)."""
    from tokencensus.analyses.categories import share_within
    from tokencensus.definitions import CHINESE_OPEN, OPEN_WEIGHTS

    tables = open_lake(hand_lake(tmp_path / "lake"), catalog=tiny_catalog_table())
    assert tables.labels is not None

    def shares(column: str, value: str) -> dict[tuple, float]:
        return cells(
            tidy(share_within(tables.events, tables.labels, column, value).to_pandas()), ["month", "category"]
        )

    # open weights (cn + eu): June programming 100 + 100 of 500, roleplay 300; July 200 and 200
    assert shares("open_segment", OPEN_WEIGHTS) == {
        (JUNE, "programming"): 0.4,
        (JUNE, "roleplay"): 0.6,
        (JULY, "programming"): 0.5,
        (JULY, "roleplay"): 0.5,
    }
    # Chinese open (cn): June programming 100, roleplay 300; July programming 200 only
    assert shares("origin_segment", CHINESE_OPEN) == {
        (JUNE, "programming"): 0.25,
        (JUNE, "roleplay"): 0.75,
        (JULY, "programming"): 1.0,
    }


def test_programming_and_roleplay_by_origin(results: dict[str, pd.DataFrame]) -> None:
    # programming: June cn 100, eu 100, us 400 (of 600); July cn 200, us 200 + reasoner 400 (of 800)
    assert cells(results["programming_origin"], ["month", "segment"]) == {
        (JUNE, "Chinese open"): round(1 / 6, 4),
        (JUNE, "Proprietary"): round(4 / 6, 4),
        (JUNE, "Rest-of-world open"): round(1 / 6, 4),
        (JULY, "Chinese open"): 0.25,
        (JULY, "Proprietary"): 0.75,
    }
    assert cells(results["roleplay_origin"], ["month", "segment"]) == {
        (JUNE, "Chinese open"): 1.0,
        (JULY, "Rest-of-world open"): 1.0,
    }


def test_top_models_for_programming(results: dict[str, pd.DataFrame]) -> None:
    # programming tokens: us/closed 400 + 200, reasoner 400, cn 100 + 200, eu 100 (of 1,400)
    got = results["programming_models"]
    assert list(got["model"]) == [US, USR, CN, EU]
    assert list(got["rank"]) == [1, 2, 3, 4]
    assert list(got["tokens"]) == [600, 400, 300, 100]
    assert list(got["users"]) == [2, 1, 1, 1]  # us/closed: u1 (June) and u3 (July)


def test_top_reasoning_models_over_time(results: dict[str, pd.DataFrame]) -> None:
    # reasoning models: cn (400 in week 1, 200 in week 2) and the reasoner (100, then 400)
    got = results["reasoning_models"]
    assert cells(got, ["week", "model"]) == {
        (W1, CN): 0.8,
        (W1, USR): 0.2,
        (W2, CN): round(1 / 3, 4),
        (W2, USR): round(2 / 3, 4),
    }
    assert cells(got, ["week", "model"], "users") == {(W1, CN): 2, (W1, USR): 1, (W2, CN): 1, (W2, USR): 1}


def test_top_reasoning_models_name_only_the_largest() -> None:
    """With n = 1 only cn (600 tokens against the reasoner's 500) keeps its name."""
    from tokencensus.analyses.agentic import reasoning_models_weekly

    lake = open_table(events(), catalog=tiny_catalog_table())
    got = tidy(reasoning_models_weekly(lake.events, n=1).to_pandas())
    assert cells(got, ["week", "model"]) == {
        (W1, CN): 0.8,
        (W1, "Other"): 0.2,
        (W2, CN): round(1 / 3, 4),
        (W2, "Other"): round(2 / 3, 4),
    }


def test_spend_by_continent(results: dict[str, pd.DataFrame]) -> None:
    # 1 USD per 100 tokens; u3 is in Germany. Week 1: North America 1 + 3 + 4 + 1, Europe 1;
    # week 2: North America 2 + 2 + 4, Europe 2; week 3: the mystery request, 1 in North America
    got = results["geo_spend"]
    assert cells(got, ["week", "continent"], "spend_share") == {
        (W1, "Europe"): 0.1,
        (W1, "North America"): 0.9,
        (W2, "Europe"): 0.2,
        (W2, "North America"): 0.8,
        (W3, "North America"): 1.0,
    }
    pd.testing.assert_frame_equal(got, results["geo_continent"])  # the same cells, charted by spend


def test_retention_cohorts_follow_the_largest_models(results: dict[str, pd.DataFrame]) -> None:
    # tokens of requests with a user: cn 600, us/closed 600, reasoner 500, eu 300, mystery 100: the
    # three largest are followed (no cohort here is large enough for the glass-slipper or boomerang
    # tests). August is incomplete, so the June cohorts are seen at k = 0 and 1, July's at k = 0.
    got = results["retention_cohorts"]
    assert set(got["model"]) == {CN, US, USR}
    assert got["largest"].all()
    assert not got["foundational"].any()
    assert not got["boomerang"].any()
    retention = cells(got, ["model", "cohort", "k"], "retention")
    assert retention == {
        (CN, JUNE, 0): 1.0,
        (CN, JUNE, 1): 0.5,  # u1 and u2 in June, u1 back in July
        (US, JUNE, 0): 1.0,
        (US, JUNE, 1): 0.0,  # u1 in June, not in July
        (US, JULY, 0): 1.0,  # u3, new in July
        (USR, JUNE, 0): 1.0,
        (USR, JUNE, 1): 1.0,  # u4 both months
    }
    # the chart leaves the left-censored first month out: only us/closed has a later cohort to draw
    view = figure_view(FIGURES_BY_ID["retention_cohorts"], got, min_users=1)
    assert view.categories == (US,)
    assert set(view.chart_rows["cohort"]) == {JULY}


def test_prompt_length_by_category(results: dict[str, pd.DataFrame]) -> None:
    # programming: June 100 + 100 + 400 over 3 requests, July 200 + 200 + 400 over 3; every
    # classified request: June 1,000 / 5, July 1,000 / 4
    got = results["category_lengths"]
    means = cells(got, ["month", "category"], "mean_input_tokens")
    assert means[(JUNE, "programming")] == 200.0
    assert means[(JULY, "programming")] == round(800 / 3, 4)
    assert means[(JUNE, "all categories")] == 200.0
    assert means[(JULY, "all categories")] == 250.0
    assert means[(JUNE, "roleplay")] == 300.0
    assert cells(got, ["month", "category"], "users")[(JULY, "all categories")] == 4


def test_open_weights_supply_by_size(results: dict[str, pd.DataFrame]) -> None:
    # open weights: cn (large) and eu (small) each served tokens in weeks 1 and 2; cn 400 of 500 in
    # week 1, 200 of 400 in week 2
    got = results["size_supply"]
    assert cells(got, ["week", "segment"], "models") == {
        (W1, "large"): 1,
        (W1, "small"): 1,
        (W2, "large"): 1,
        (W2, "small"): 1,
    }
    assert cells(got, ["week", "segment"]) == {
        (W1, "large"): 0.8,
        (W1, "small"): 0.2,
        (W2, "large"): 0.5,
        (W2, "small"): 0.5,
    }
    pd.testing.assert_frame_equal(
        got.drop(columns="models"), results["share_size"], check_like=True
    )  # share_size's cells, with the models served


def test_models_served_count_distinct_models_with_tokens() -> None:
    """Two small open models in week 1 (eu 100 + 50 tokens, a second one 30), a third small one
    with no tokens, a large one (cn 200): 2 small models served, 1 large; shares 180 and 200 of 380."""
    catalog = tiny_catalog_table()
    extra = catalog.slice(1, 1)  # eu/open-small's row, twice more under other names
    twins = [extra.set_column(0, "slug", pa.array([slug])) for slug in ("eu/open-twin", "eu/open-idle")]
    catalog = pa.concat_tables([catalog, *twins])
    rows = [
        ("r1", "u1", "eu/open-small", 100),
        ("r2", "u2", "eu/open-small", 50),
        ("r3", "u1", "eu/open-twin", 30),
        ("r4", "u3", "eu/open-idle", 0),
        ("r5", "u2", CN, 200),
    ]
    table = pa.table(
        {
            "request_id": [r[0] for r in rows],
            "ts": pa.array([ts(2025, 6, 3)] * len(rows), pa.timestamp("us", tz="UTC")),
            "user_id": [r[1] for r in rows],
            "model": [r[2] for r in rows],
            "input_tokens": pa.array([r[3] for r in rows], pa.int64()),
            "output_tokens": pa.array([0] * len(rows), pa.int64()),
            "requests": pa.array([1] * len(rows), pa.int64()),
        }
    )
    from tokencensus.analyses.market import size_supply

    got = tidy(size_supply(open_table(table, catalog=catalog).events).to_pandas())
    assert cells(got, ["week", "segment"], "models") == {(W1, "large"): 1, (W1, "small"): 2}
    assert cells(got, ["week", "segment"]) == {
        (W1, "large"): round(200 / 380, 4),
        (W1, "small"): round(180 / 380, 4),
    }
    assert cells(got, ["week", "segment"], "users") == {(W1, "large"): 1, (W1, "small"): 3}


def test_followed_cohorts_are_the_flagged_and_the_largest() -> None:
    """cohorts_of keeps the triangle rows of models with a foundational launch cohort, of
    boomerangs and of the largest, each flagged with why; other models' rows go."""
    import ibis

    from tokencensus.analyses.retention import cohorts_of

    triangle = ibis.memtable(
        pd.DataFrame(
            {"model": ["a", "b", "c", "d"], "cohort": [JUNE] * 4, "k": [0] * 4, "retention": [1.0] * 4}
        )
    )
    foundational = ibis.memtable(pd.DataFrame({"model": ["a", "d"], "foundational": [True, False]}))
    boomerangs = ibis.memtable(pd.DataFrame({"model": ["b"], "boomerang": [True]}))
    largest = ibis.memtable(pd.DataFrame({"t_model": ["a", "c"]}))
    got = cohorts_of(triangle, foundational, boomerangs, largest).to_pandas().set_index("model")
    assert list(got.index) == ["a", "b", "c"]  # d is neither foundational, a boomerang nor large
    assert got[["foundational", "boomerang", "largest"]].to_dict("index") == {
        "a": {"foundational": True, "boomerang": False, "largest": True},
        "b": {"foundational": False, "boomerang": True, "largest": False},
        "c": {"foundational": False, "boomerang": False, "largest": True},
    }


def test_spend_by_continent_of_a_log_without_costs_draws_nothing_rather_than_fail(
    results: dict[str, pd.DataFrame],
) -> None:
    """A log without costs has no share of spend (a share of nothing): no point, no NaN in the page."""
    import json

    from tokencensus.report import charts

    frame = results["geo_spend"].assign(spend=0.0, spend_share=float("nan"))
    view = figure_view(FIGURES_BY_ID["geo_spend"], frame, min_users=1)
    spec = charts.chart_spec(view)
    assert spec is None or json.dumps(spec, allow_nan=False)
    assert view.headline == "No request has a known cost."
