"""The Python API (``import tokencensus as tc``): a Study gives the report's figures, as published and
raw, and the expressions behind them; the CLI's report is the API's report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import tokencensus as tc
from tokencensus.errors import ConfigError, LakeError
from tokencensus.report import render
from tokencensus.report.compute import tidy

K = 20


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tc.Lake:
    work = tmp_path_factory.mktemp("api")
    sim = tc.simulate(tc.SimConfig(requests=20_000, users=2_000, weeks=8, seed=3))
    pq.write_table(sim.events, work / "requests.parquet")
    lake = tc.Lake(work / "lake")
    summary = lake.ingest(work / "requests.parquet")
    assert summary.total.rows_written == 20_000
    return lake


@pytest.fixture(scope="module")
def study(lake: tc.Lake) -> tc.Study:
    return lake.study(min_users=K)


def test_the_package_exports_load_on_first_use() -> None:
    import subprocess
    import sys

    code = "import sys, tokencensus; print('ibis' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    assert set(tc.__all__) <= set(dir(tc))
    import tokencensus.dashboard
    import tokencensus.simulator  # noqa: F401 (a module import binds its name on the package)

    assert callable(tc.simulate)
    assert callable(tc.serve)
    assert callable(tc.run_demo)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = tc.Nope  # type: ignore[attr-defined]


def test_published_figures_are_the_report_csvs(study: tc.Study, tmp_path: Path) -> None:
    out = study.report(tmp_path / "report", formats=("html", "md"))
    assert out.html is not None
    assert out.markdown is not None
    written = {p.stem: p for p in out.csvs}
    assert set(written) == set(study.figures)  # a lake without labels: no category figure
    assert "share_category" not in written
    for fid in ("volume", "share_open", "top_models", "retention_curves"):
        assert render.figure_csv(study.figure(fid)) == written[fid].read_text(encoding="utf-8")


def test_raw_figures_hold_what_publishing_hides(study: tc.Study) -> None:
    published = study.figure("share_author")
    raw = study.figure("share_author", published=False)
    assert len(raw) == len(published)
    hidden = published["share"].isna()
    assert hidden.any(), "a 2,000-user world has author cells under 20 users"
    assert raw.loc[hidden, "share"].notna().all()
    assert (raw.loc[hidden, "users"] < K).any()
    # the raw frame is the expression, executed
    pd.testing.assert_frame_equal(tidy(study.expr("share_author").to_pandas()), raw)


def test_expressions_compose_with_ibis(study: tc.Study) -> None:
    expr = study.expr("volume")
    total = expr.aggregate(tokens=expr.tokens.sum()).to_pandas()["tokens"].iloc[0]
    assert total == study.meta.tokens
    assert study.meta.requests == 20_000


def test_asking_for_what_is_not_there_says_what_to_do(study: tc.Study, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs the classifier's labels"):
        study.figure("share_category")
    with pytest.raises(ConfigError, match="choose from volume, share_open"):
        study.figure("shares_open")
    with pytest.raises(LakeError, match="no lake at"):
        tc.Study(tmp_path / "missing")


def test_a_figure_frame_is_a_copy(study: tc.Study) -> None:
    frame = study.figure("volume")
    frame["tokens"] = 0
    assert study.figure("volume")["tokens"].sum() > 0


def test_a_study_closes_its_engine(lake: tc.Lake) -> None:
    with lake.study(min_users=K) as study:
        assert study.meta.requests == 20_000
        con = study.tables.con
    with pytest.raises(Exception):  # noqa: B017, PT011 (the engine's own error for a closed connection)
        con.raw_sql("SELECT 1")


def test_ingest_takes_one_path_or_many_and_path_like(tmp_path: Path, lake: tc.Lake) -> None:
    source = lake.root.parent / "requests.parquet"
    one = tc.Lake(tmp_path / "one").ingest(str(source))
    many = tc.Lake(tmp_path / "many").ingest([source])
    assert one.total.rows_written == many.total.rows_written == 20_000


def test_title_org_and_period_head_and_cut_the_report(lake: tc.Lake, study: tc.Study, tmp_path: Path) -> None:
    """The simulated world runs 2025-06-02 .. 2025-07-27; a period of its first three weeks keeps
    those weeks' requests only, counted from the raw events by hand."""
    from datetime import date

    events = lake.read_events(["ts"]).to_pandas()
    days = events["ts"].dt.date
    expected = int(((days >= date(2025, 6, 2)) & (days <= date(2025, 6, 22))).sum())
    with tc.Study(
        lake,
        min_users=K,
        period="2025-06-02..2025-06-22",
        title="Usage review",
        org="the <b>Acme</b> gateway",
    ) as cut:
        assert cut.meta.requests == expected < study.meta.requests
        assert (cut.meta.period_start, cut.meta.period_end) == (date(2025, 6, 2), date(2025, 6, 22))
        weeks = cut.figure("volume")["week"]
        assert list(weeks) == [date(2025, 6, 2), date(2025, 6, 9), date(2025, 6, 16)]
        out = cut.report(tmp_path / "cut", formats=("html", "md"))
    assert out.html is not None
    assert out.markdown is not None
    page = out.html.read_text(encoding="utf-8")
    assert "<title>Usage review</title>" in page
    assert (
        "LLM usage at the &lt;b&gt;Acme&lt;/b&gt; gateway from gateway logs, 2025-06-02 to 2025-06-22."
        in page
    )
    assert out.markdown.read_text(encoding="utf-8").startswith(
        "# Usage review\n\nLLM usage at the &lt;b>Acme"
    )
    with tc.Study(lake, min_users=K, period="2025-07-21..") as tail:
        assert tail.meta.period_start == date(2025, 7, 21)
        assert tail.meta.period_end == study.meta.period_end


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-01-01", "is not START..END"),
        ("2025-13-01..", "is not START..END"),
        ("2025-06-30..2025-06-01", "ends before it starts"),
    ],
)
def test_a_bad_period_says_what_a_period_is(text: str, message: str) -> None:
    from tokencensus.study import parse_period

    with pytest.raises(ConfigError, match=message):
        parse_period(text)
    assert parse_period("..2025-01-31") == (None, __import__("datetime").date(2025, 1, 31))
