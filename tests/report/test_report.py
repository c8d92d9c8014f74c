"""The report: offline HTML, figure CSVs, the privacy floor, headlines and hostile names.

The fixture is hand-made so every headline number can be worked out on paper (see ``results``).
"""

from __future__ import annotations

import html
import io
import json
import math
import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokencensus.errors import AnalysisError, ConfigError
from tokencensus.report import ReportMeta, ReportOutput, build_report, suppress
from tokencensus.report import render as report_render
from tokencensus.report.data import fmt_count, fmt_pct

HOSTILE = "<script>alert(1)</script>"
K = 50
WEEKS = [date(2025, 6, 2) + timedelta(weeks=i) for i in range(8)]  # Mondays
SPEC_RE = re.compile(
    r'<script type="application/json" id="spec-(\w+)" data-chart="chart-(\w+)">(.*?)</script>', re.S
)


def _share_frame(cells: dict[str, tuple[list[int], int]], total: int = 1000) -> pd.DataFrame:
    """Weekly share rows from {segment: (tokens per week, users)}; each week totals ``total``."""
    rows = [
        (week, seg, tokens[i], tokens[i] / total, users)
        for i, week in enumerate(WEEKS)
        for seg, (tokens, users) in sorted(cells.items())
    ]
    frame = pd.DataFrame(rows, columns=["week", "segment", "tokens", "share", "users"])
    return frame.astype({"tokens": "int64", "users": "int64"})


def make_results() -> dict[str, pd.DataFrame]:
    """Eight weeks, hand-checkable.

    volume: 1.0B tokens a week for four weeks, then 4.2B → "grew 4.2×".
    share_open: open weights 120/1000 then 310/1000 → 12% → 31%; Unknown (20/1000) has 3 users → 8
    suppressed cells. share_reasoning: 100 then 250 per 1000 → 10% → 25%.
    top_models: the hostile name leads with 42%; rank 3 has 7 users → suppressed.
    top_models_weekly: Other 30% then 20% → the top 2 carried 70% → 80%.
    """
    tokens = [1_000_000_000] * 4 + [4_200_000_000] * 4
    volume = pd.DataFrame(
        {
            "week": WEEKS,
            "requests": [10_000] * 4 + [42_000] * 4,
            "input_tokens": [t * 3 // 4 for t in tokens],
            "output_tokens": [t // 4 for t in tokens],
            "tokens": tokens,
            "users": [400] * 8,
        }
    ).astype({c: "int64" for c in ("requests", "input_tokens", "output_tokens", "tokens", "users")})
    open_tokens = [120] * 4 + [310] * 4
    share_open = _share_frame(
        {
            "Open weights": (open_tokens, 80),
            "Closed": ([1000 - 20 - t for t in open_tokens], 300),
            "Unknown": ([20] * 8, 3),
        }
    )
    reasoning = [100] * 4 + [250] * 4
    share_reasoning = _share_frame(
        {"Reasoning": (reasoning, 90), "Non-reasoning": ([1000 - t for t in reasoning], 300)}
    )
    top_models = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "model": [HOSTILE, "meta/llama-3-70b", "tiny/model"],
            "author": ["evil\"'&", "meta", "tiny"],
            "tokens": [4200, 3000, 500],
            "share": [0.42, 0.30, 0.05],
            "users": [120, 90, 7],
        }
    ).astype({"rank": "int64", "tokens": "int64", "users": "int64"})
    other = [300] * 4 + [200] * 4
    weekly = _share_frame(
        {
            HOSTILE: ([400] * 8, 100),
            "meta/llama-3-70b": ([600 - t for t in other], 100),
            "Other": (other, 300),
        }
    ).rename(columns={"segment": "model"})
    return {
        "volume": volume,
        "share_open": share_open,
        "share_reasoning": share_reasoning,
        "top_models": top_models,
        "top_models_weekly": weekly,
    }


def make_meta(**changes: object) -> ReportMeta:
    fields: dict[str, object] = dict(
        period_start=WEEKS[0],
        period_end=WEEKS[-1] + timedelta(days=6),
        requests=208_000,
        tokens=20_800_000_000,
        users=1234,
        models=17,
        providers=5,
        unresolved_share=0.02,
        min_users=K,
        # These hand-made figures plant cells under the floor far larger than their neighbours, to
        # prove such a cell never reaches a headline, chart or file; complementary suppression would
        # hide whole figures around them. They test the primary floor; tests/report/test_disclosure.py
        # tests the complementary cells and the attack.
        protection=0.0,
        source="/data/lake",
    )
    fields.update(changes)
    return ReportMeta(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportOutput, str]:
    out = build_report(make_results(), make_meta(), tmp_path_factory.mktemp("report"), formats=FORMATS_ALL)
    assert out.html is not None
    return out, out.html.read_text(encoding="utf-8")


FORMATS_ALL = ("html", "md", "json")


def specs_of(page: str) -> dict[str, dict]:
    return {m.group(1): json.loads(m.group(3)) for m in SPEC_RE.finditer(page)}


# ---------------------------------------------------------------- the HTML file


def test_writes_one_html_and_a_csv_per_figure(built: tuple[ReportOutput, str]) -> None:
    out, page = built
    assert out.html is not None
    assert out.html.name == "report.html"
    assert sorted(p.name for p in out.csvs) == sorted(f"{fid}.csv" for fid in make_results())
    assert all(p.parent == out.html.parent / "figures" and p.exists() for p in out.csvs)
    assert out.n_suppressed == 9  # 8 Unknown weeks + the rank-3 model, left out of the ranking
    assert page.startswith("<!doctype html>")
    # Sections in report order: summary first, then the figures in the study's order (volume, open
    # vs closed and the top models, then agentic use with the reasoning share).
    positions = [page.index(f'id="{sid}"') for sid in ("summary", "fig-volume", "fig-share_open")]
    positions += [
        page.index(f'id="fig-{fid}"') for fid in ("top_models", "top_models_weekly", "share_reasoning")
    ]
    assert positions == sorted(positions)


EXTERNAL = [
    r"""\bsrc\s*=\s*["']?\s*(?:https?:)?//""",
    r"""\bhref\s*=\s*["']?\s*(?:https?:)?//""",
    r"""url\(\s*["']?\s*(?:https?:)?//""",
    r"@import",
    r"""fetch\(\s*["'`]?\s*(?:https?:)?//""",
    r"<link\b",
    r"<script\b[^>]*\bsrc\s*=",
    r"<iframe\b",
]


def test_html_makes_no_network_reference(built: tuple[ReportOutput, str]) -> None:
    _, page = built
    for pattern in EXTERNAL:
        assert not re.search(pattern, page, re.I), pattern
    # The only links are in-page anchors and the figures' relative CSVs.
    hrefs = re.findall(r"""\bhref\s*=\s*["']([^"']*)["']""", page)
    assert hrefs
    assert all(h.startswith("#") or re.fullmatch(r"figures/\w+\.csv", h) for h in hrefs), hrefs
    # Vega-Embed is inlined with its actions menu (links to editors, exports) turned off.
    assert "vegaEmbed" not in page or "actions:false" in page.replace(" ", "")
    assert 'actions:false,renderer:"svg"' in page.replace(" ", "")
    assert len(page) > 500_000  # the JS bundle really is inline


def test_every_figure_has_a_chart_with_inline_data(built: tuple[ReportOutput, str]) -> None:
    import vl_convert
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    vegalite_schema = load_schema()

    _, page = built
    specs = specs_of(page)
    assert set(specs) == set(make_results())
    for fid, spec in specs.items():
        assert f'<div class="chart" id="chart-{fid}"' in page
        values = spec["data"]["values"]
        assert isinstance(values, list)
        assert values
        assert "datasets" not in spec
        assert "url" not in json.dumps(spec["data"])
        validate_jsonschema(spec, vegalite_schema)  # the schema, which chart_spec leaves unchecked
        vega = vl_convert.vegalite_to_vega(spec)  # compiles: a valid Vega-Lite spec
        assert vega["data"]
    # Suppressed cells are not drawn.
    assert {v["segment"] for v in specs["share_open"]["data"]["values"]} == {"Open weights", "Closed"}
    assert [v["model"] for v in specs["top_models"]["data"]["values"]] == [HOSTILE, "meta/llama-3-70b"]
    # Legends filter by click; share charts carry tooltips.
    assert any(p.get("bind") == "legend" for p in specs["share_open"]["params"])
    assert "tooltip" in json.dumps(specs["share_open"])


@pytest.mark.parametrize(
    "sentence",
    [
        "Weekly token volume grew 4.2× from the first four weeks to the last four "
        "(from 1B to 4.2B tokens a week).",
        "Open-weights models carried 31% of tokens in the last four weeks, up from 12% in the first four.",
        "Reasoning models served 25% of tokens in the last four weeks, up from 10% in the first four.",
        f"{HOSTILE} led the last four weeks with 42% of tokens.",
        "The top 2 models carried 80% of tokens in the last four weeks, up from 70% in the first four.",
        "8 cells under 50 users suppressed",
    ],
)
def test_headlines_are_computed_from_the_data(built: tuple[ReportOutput, str], sentence: str) -> None:
    _, page = built
    assert html.escape(sentence, quote=False) in page


def test_summary_block(built: tuple[ReportOutput, str]) -> None:
    _, page = built
    summary = page[page.index('id="summary"') : page.index('id="fig-volume"')]
    for text in ("2025-06-02 to 2025-07-27", "208K", "21B", "1.2K", "17", "2.0% of tokens", "/data/lake"):
        assert text in summary, text
    assert "fewer than 50 distinct users are suppressed (9 cells suppressed in this report)" in summary


def test_hostile_names_are_escaped_everywhere(built: tuple[ReportOutput, str]) -> None:
    out, page = built
    assert "<script>alert" not in page.lower()
    assert html.escape(HOSTILE) in page  # shown as text
    # Inside the embedded JSON "<" is \u003c, so no name can close the <script> element...
    for m in SPEC_RE.finditer(page):
        assert "<" not in m.group(3)
        assert ">" not in m.group(3)
    # ...and the JSON still decodes to the original names.
    specs = specs_of(page)
    assert HOSTILE in {v["model"] for v in specs["top_models_weekly"]["data"]["values"]}
    assert "evil\"'&" in {v["author"] for v in specs["top_models"]["data"]["values"]}
    # Every <script> opened is closed by its own tag: 1 module + one spec per figure.
    assert page.lower().count("<script") == page.lower().count("</script>") == 1 + len(specs)
    assert out.markdown is not None
    assert "<script>" not in out.markdown.read_text(encoding="utf-8")


# ---------------------------------------------------------------- CSVs and the privacy floor


def test_suppress_blanks_cells_under_the_floor() -> None:
    frame = make_results()["share_open"]
    before = frame.copy()
    published, n = suppress(frame, K)
    pd.testing.assert_frame_equal(frame, before)  # the input is left alone
    low = published["users"].isna()
    assert n == 8
    assert published["suppressed"].sum() == 8
    assert (published.loc[published["suppressed"], "segment"] == "Unknown").all()
    assert published.loc[published["suppressed"], ["tokens", "share", "users"]].isna().all().all()
    kept = published[~published["suppressed"]]
    assert (kept["users"] >= K).all()
    assert not low[~published["suppressed"]].any()
    original = frame[frame["users"] >= K]
    assert kept["tokens"].astype("int64").tolist() == original["tokens"].tolist()
    assert kept["share"].tolist() == original["share"].tolist()
    assert kept["week"].tolist() == original["week"].tolist()  # keys never blanked


def test_suppress_needs_a_users_column() -> None:
    with pytest.raises(AnalysisError, match="users"):
        suppress(pd.DataFrame({"week": WEEKS, "tokens": range(8)}), K)


@settings(max_examples=60, deadline=None)
@given(
    users=st.lists(st.integers(min_value=0, max_value=200), min_size=0, max_size=30),
    k=st.integers(min_value=0, max_value=150),
)
def test_suppress_invariants(users: list[int], k: int) -> None:
    frame = pd.DataFrame(
        {
            "rank": range(1, len(users) + 1),
            "tokens": [10 * (i + 1) for i in range(len(users))],
            "share": [0.01 * i for i in range(len(users))],
            "users": users,
        }
    ).astype({"rank": "int64", "tokens": "int64", "users": "int64"})
    published, n = suppress(frame, k)
    assert n == sum(u < k for u in users) == int(published["suppressed"].sum())
    assert published["rank"].tolist() == frame["rank"].tolist()
    for row, orig in zip(published.to_dict("records"), frame.to_dict("records"), strict=True):
        if row["suppressed"]:
            assert pd.isna(row["users"])
            assert pd.isna(row["tokens"])
            assert math.isnan(row["share"])
        else:
            assert (row["users"], row["tokens"], row["share"]) == (
                orig["users"],
                orig["tokens"],
                orig["share"],
            )
            assert row["users"] >= k


def test_csvs_match_the_frames_with_suppressed_cells_blank(built: tuple[ReportOutput, str]) -> None:
    out, _ = built
    figures = out.html.parent / "figures"  # type: ignore[union-attr]
    for fid, frame in make_results().items():
        text = (figures / f"{fid}.csv").read_text(encoding="utf-8")
        assert text.splitlines()[0] == ",".join([*frame.columns, "suppressed"])
        back = pd.read_csv(io.StringIO(text), keep_default_na=False, dtype=str)
        if fid == "top_models":  # a ranking leaves out its models under the floor
            frame = frame[frame["users"] >= K].reset_index(drop=True)
        assert len(back) == len(frame)
        key = "rank" if "rank" in frame.columns else "week"
        expected = frame.astype(str)
        if "week" in frame.columns:
            expected["week"] = [w.isoformat() for w in frame["week"]]
        for i, row in back.iterrows():
            src = expected.iloc[i]  # same order as the analyses: week then category, or rank
            assert row[key] == src[key]
            if int(frame["users"].iloc[i]) < K:
                assert row["suppressed"] == "true"
                assert {row[c] for c in frame.columns if c in ("tokens", "share", "users", "requests")} == {
                    ""
                }
            else:
                assert row["suppressed"] == "false"
                for col in frame.columns:
                    if col == "share":
                        assert float(row[col]) == float(frame[col].iloc[i])
                    else:
                        assert row[col] == src[col], (fid, col)
    top = (figures / "top_models.csv").read_text(encoding="utf-8").splitlines()
    assert len(top) == 3
    assert "tiny/model" not in "".join(top)


# ---------------------------------------------------------------- determinism, formats, edge cases


def test_output_is_deterministic(tmp_path: Path) -> None:
    first = build_report(make_results(), make_meta(), tmp_path / "a", formats=FORMATS_ALL)
    second = build_report(make_results(), make_meta(), tmp_path / "b", formats=FORMATS_ALL)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    assert len(files_a) == 3 + len(first.csvs)
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert second.n_suppressed == first.n_suppressed


def test_missing_keys_skip_their_figures(tmp_path: Path) -> None:
    results = {"volume": make_results()["volume"]}
    out = build_report(results, make_meta(), tmp_path)
    page = out.html.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert 'id="fig-volume"' in page
    assert 'id="fig-share_open"' not in page
    assert [p.name for p in out.csvs] == ["volume.csv"]
    assert set(specs_of(page)) == {"volume"}
    empty = build_report({}, make_meta(), tmp_path / "none")
    assert empty.csvs == ()
    assert 'id="summary"' in empty.html.read_text(encoding="utf-8")


def test_a_figure_skipped_later_loses_its_old_csv(tmp_path: Path) -> None:
    build_report(make_results(), make_meta(), tmp_path)
    assert (tmp_path / "figures" / "share_open.csv").exists()
    build_report({"volume": make_results()["volume"]}, make_meta(), tmp_path)
    assert not (tmp_path / "figures" / "share_open.csv").exists()


def test_empty_short_and_fully_suppressed_frames(tmp_path: Path) -> None:
    full = make_results()
    results = {
        "volume": full["volume"].head(1),
        "share_open": full["share_open"].iloc[0:0],
        "share_reasoning": full["share_reasoning"].assign(users=1),
        "top_models": full["top_models"].tail(1),
    }
    out = build_report(results, make_meta(), tmp_path)
    page = out.html.read_text(encoding="utf-8")  # type: ignore[union-attr]
    # one week of data in an eight-week period: the last four weeks of the period have none
    assert "No requests in the last four weeks of the period (2025-06-30 … 2025-07-27)." in page
    assert "No tokens in this period." in page
    assert "16 cells under 50 users suppressed" in page
    assert "1 model under 50 users left out of the ranking." in page
    assert "No models to rank in the last weeks of the period (none above the privacy floor)." in page
    assert set(specs_of(page)) == {"volume"}  # nothing to draw elsewhere
    assert page.count("Nothing to draw") == 3
    assert (tmp_path / "figures" / "share_open.csv").read_text(encoding="utf-8") == (
        "week,segment,tokens,share,users,suppressed\n"
    )


def test_markdown_and_json_formats(built: tuple[ReportOutput, str]) -> None:
    out, _ = built
    assert out.markdown is not None
    assert out.json is not None
    md = out.markdown.read_text(encoding="utf-8")
    assert "Open-weights models carried 31% of tokens in the last four weeks" in md
    assert "&lt;script>alert(1)&lt;/script>" in md  # the hostile name, inert
    assert "<script" not in md
    assert "&amp;" not in md  # our own text reads as written ("Open vs closed & origin")
    assert "## Open vs closed & origin" in md
    assert "[figures/volume.csv](figures/volume.csv)" in md
    assert "](figures/volume.png)" not in md  # no pictures were written
    doc = json.loads(out.json.read_text(encoding="utf-8"))
    assert doc["meta"]["min_users"] == K
    assert doc["meta"]["period_start"] == "2025-06-02"
    assert [f["id"] for f in doc["figures"]] == [
        "volume", "share_open", "top_models", "top_models_weekly", "share_reasoning"
    ]  # fmt: skip
    top = next(f for f in doc["figures"] if f["id"] == "top_models")
    assert [r["model"] for r in top["data"]] == [HOSTILE, "meta/llama-3-70b"]  # tiny/model: 7 users
    assert top["n_suppressed"] == 1
    assert "tiny/model" not in json.dumps(doc)


def test_unknown_format_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pdf"):
        build_report(make_results(), make_meta(), tmp_path, formats=("html", "pdf"))


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.2e12, "1.2T"), (3.4e11, "340B"), (5.6e6, "5.6M"), (12_345, "12K"), (950, "950"), (999.6e9, "1T"),
     (1e9, "1B"), (0, "0")],
)  # fmt: skip
def test_fmt_count(value: float, text: str) -> None:
    assert fmt_count(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(0.31, "31%"), (0.045, "4.5%"), (0.0004, "<0.1%"), (0.0, "0%"), (1.0, "100%")]
)
def test_fmt_pct(value: float, text: str) -> None:
    assert fmt_pct(value) == text


def test_a_year_of_weekly_results_builds_every_format(tmp_path: Path) -> None:
    weeks = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(52)]
    models = [f"lab{i}/model-{i}" for i in range(10)] + ["Other"]
    weekly = pd.DataFrame(
        [(w, m, 1000 + j, (1000 + j) / 11_055, 500) for w in weeks for j, m in enumerate(models)],
        columns=["week", "model", "tokens", "share", "users"],
    )
    shares = weekly.rename(columns={"model": "segment"})
    results = {
        "volume": pd.DataFrame(
            {"week": weeks, "requests": 10, "input_tokens": 7, "output_tokens": 3, "tokens": 10, "users": 99}
        ),
        **{fid: shares for fid in ("share_open", "share_origin", "share_size", "share_reasoning")},
        "top_models": weekly.head(10).drop(columns="week").assign(rank=range(1, 11), author="lab"),
        "top_models_weekly": weekly,
    }
    out = build_report(results, make_meta(), tmp_path, formats=FORMATS_ALL)
    assert len(out.csvs) == 7
    assert out.html is not None
    assert out.markdown is not None
    assert out.json is not None
    assert len(pd.read_csv(tmp_path / "figures" / "top_models_weekly.csv")) == 52 * 11


def test_the_vega_bundle_is_built_once_then_read_from_the_cache(tmp_path, monkeypatch):
    import vl_convert

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    report_render.javascript_bundle.cache_clear()
    built = report_render.javascript_bundle()
    files = list((tmp_path / "tokencensus").glob("vega-bundle-*.js"))
    assert len(files) == 1
    assert files[0].read_text(encoding="utf-8") == built

    def bundle_again(*_args, **_kwargs):
        raise AssertionError("bundled again")

    monkeypatch.setattr(vl_convert, "javascript_bundle", bundle_again)
    report_render.javascript_bundle.cache_clear()  # a new process: read from the cache
    assert report_render.javascript_bundle() == built
    # a cached file that could not be inlined is not used
    files[0].write_text('x</script><script>alert("x")', encoding="utf-8")
    report_render.javascript_bundle.cache_clear()
    with pytest.raises(AssertionError, match="bundled again"):
        report_render.javascript_bundle()
    report_render.javascript_bundle.cache_clear()


def test_csv_defuses_spreadsheet_formulas_in_names():
    from tokencensus.report.render import figure_csv

    frame = pd.DataFrame(
        {
            "rank": [1, 2],
            "model": ['=HYPERLINK("x")', "plain/model"],
            "share": [-0.5, 0.5],
            "suppressed": [False] * 2,
        }
    )
    text = figure_csv(frame)
    assert "'=HYPERLINK" in text
    assert ",plain/model," in text
    assert ",-0.5," in text  # numbers are numbers, not text


def test_category_headline_names_the_leading_category():
    from datetime import date

    from tokencensus.report.data import FIGURES_BY_ID, headline

    months = [date(2025, 6 + i, 1) for i in range(7)]  # June to December 2025
    rows = []
    for i, month in enumerate(months):
        programming = 10 + 10 * i  # 10% of 100 tokens in June ... 70% in December
        for segment, tokens in (("programming", programming), ("roleplay", 100 - programming)):
            rows.append(
                {"month": month, "segment": segment, "tokens": tokens, "share": tokens / 100, "users": 99}
            )
    frame = pd.DataFrame(rows).assign(suppressed=False)
    text = headline(FIGURES_BY_ID["share_category"], frame)
    assert text == "Programming carried 70% of classified tokens in December 2025, up from 10% in June 2025."
    # the first month hidden: compared with the first month published (July: 20 of 100 tokens)
    frame.loc[frame["month"] == months[0], "suppressed"] = True
    text = headline(FIGURES_BY_ID["share_category"], frame)
    assert text == "Programming carried 70% of classified tokens in December 2025, up from 20% in July 2025."
    # every month before the last hidden: said, not compared
    frame.loc[frame["month"] < months[-1], "suppressed"] = True
    text = headline(FIGURES_BY_ID["share_category"], frame)
    assert text == (
        "Programming carried 70% of classified tokens in December 2025 "
        "(earlier months are below the privacy floor)."
    )


# -- headlines on sparse data: calendar windows of the period ------------------------------------------

SPARSE_PERIOD = (date(2025, 9, 1), date(2025, 11, 30))  # Monday 1 September to Sunday 30 November
SPARSE_WEEKS = [SPARSE_PERIOD[0] + timedelta(weeks=i) for i in range(13)]  # its 13 Mondays


def _sparse_share(open_tokens: dict[int, int]) -> pd.DataFrame:
    """share_open rows for the weeks (indices into SPARSE_WEEKS) that have data; 1000 tokens a week."""
    rows = [
        (SPARSE_WEEKS[i], seg, tokens, tokens / 1000, 99)
        for i, t in sorted(open_tokens.items())
        for seg, tokens in (("Closed", 1000 - t), ("Open weights", t))
    ]
    frame = pd.DataFrame(rows, columns=["week", "segment", "tokens", "share", "users"])
    return frame.assign(suppressed=False)


def _sparse_volume(weeks: list[int], tokens: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"week": [SPARSE_WEEKS[i] for i in weeks], "tokens": tokens, "requests": tokens, "users": 99}
    )
    return frame.assign(suppressed=False)


def test_calendar_windows_of_a_period() -> None:
    from tokencensus.report.headlines import windows

    win = windows(SPARSE_PERIOD)
    assert win is not None
    assert win.n == 4
    assert win.first == tuple(SPARSE_WEEKS[:4])
    assert win.last == tuple(SPARSE_WEEKS[-4:])
    assert win.dates("last") == "2025-11-03 … 2025-11-30"
    # a period starting on a Wednesday and ending on a Tuesday: Monday weeks, dates kept in the period
    win = windows((date(2025, 9, 3), date(2025, 11, 25)))
    assert win is not None
    assert win.first[0] == date(2025, 9, 1)
    assert win.last[-1] == date(2025, 11, 24)
    assert (win.dates("first"), win.dates("last")) == ("2025-09-03 … 2025-09-28", "2025-11-03 … 2025-11-25")
    # short periods: the windows shrink so they never overlap; within one week there are none
    short = windows((date(2025, 9, 1), date(2025, 9, 21)))
    assert short is not None
    assert (short.first, short.last) == ((date(2025, 9, 1),), (date(2025, 9, 15),))
    assert windows((date(2025, 9, 2), date(2025, 9, 7))) is None


def test_share_headline_on_sparse_weeks_compares_the_calendar_windows() -> None:
    from tokencensus.report.data import FIGURES_BY_ID, headline, window_share

    # Open-weights tokens per 1000 in the seven weeks with data, of the period's thirteen.
    frame = _sparse_share({0: 100, 2: 200, 5: 900, 6: 900, 7: 900, 10: 400, 12: 600})
    text = headline(FIGURES_BY_ID["share_open"], frame, period=SPARSE_PERIOD)
    # weeks 0-3 hold data in weeks 0 and 2: 300/2000; weeks 9-12 in weeks 10 and 12: 1000/2000
    assert text == (
        "Open-weights models carried 50% of tokens in the last four weeks, up from 15% in the first four."
    )
    # The first and last weeks that happen to have data (three each, so they do not overlap) would
    # have said 63% (weeks 7, 10, 12) against 40% (weeks 0, 2, 5).
    data_weeks = sorted(set(frame["week"]))
    assert round(window_share(frame, "segment", "Open weights", data_weeks[-3:]), 2) == 0.63
    assert round(window_share(frame, "segment", "Open weights", data_weeks[:3]), 2) == 0.40


def test_headlines_say_when_a_window_of_the_period_is_empty() -> None:
    from tokencensus.report.data import FIGURES_BY_ID, Caveat, headline

    # Requests in weeks 0-8 only: the period's last four weeks (9-12) have none.
    volume = _sparse_volume(list(range(9)), [100] * 4 + [0] + [300] * 4)
    text = headline(FIGURES_BY_ID["volume"], volume, period=SPARSE_PERIOD)
    assert isinstance(text, Caveat)
    assert text == "No requests in the last four weeks of the period (2025-11-03 … 2025-11-30)."
    # Without the period the frame's own weeks are the calendar: weeks 5-8 against 0-3.
    assert headline(FIGURES_BY_ID["volume"], volume) == (
        "Weekly token volume grew 3.0× from the first four weeks to the last four "
        "(from 100 to 300 tokens a week)."
    )
    # A week without data inside a window counts as a week without tokens: (200 + 600) / 4.
    gappy = _sparse_volume([0, 3, 9, 12], [100, 100, 300, 300])
    assert headline(FIGURES_BY_ID["volume"], gappy, period=SPARSE_PERIOD) == (
        "Weekly token volume grew 3.0× from the first four weeks to the last four "
        "(from 50 to 150 tokens a week)."
    )
    # Every week with data in the last window suppressed: its other weeks had no requests, but that
    # is not a mean of zero (it read "rose from zero to 0 tokens a week" on a log without user ids)
    hidden_last = gappy.assign(suppressed=[False, False, True, True])
    text = headline(FIGURES_BY_ID["volume"], hidden_last, period=SPARSE_PERIOD)
    assert isinstance(text, Caveat)
    assert text == "Too few users in the first or last weeks to compare token volume."
    # Open-weights data from week 6 on: the first four weeks of the period have none.
    late = _sparse_share({6: 100, 9: 300, 12: 500})
    assert headline(FIGURES_BY_ID["share_open"], late, period=SPARSE_PERIOD) == (
        "Open-weights models carried 40% of tokens in the last four weeks, with no tokens in the first "
        "four weeks of the period (2025-09-01 … 2025-09-28)."
    )
    tools = pd.DataFrame(
        {
            "week": SPARSE_WEEKS[2:5],
            "requests": [100, 100, 100],
            "tool_call_requests": [10, 20, 30],
            "tokens": [1000, 1000, 1000],
            "tool_call_tokens": [100, 200, 300],
            "suppressed": False,
        }
    )
    assert headline(FIGURES_BY_ID["tool_calls"], tools, period=SPARSE_PERIOD) == (
        "No requests in the last four weeks of the period (2025-11-03 … 2025-11-30)."
    )


def test_report_headlines_use_the_report_period() -> None:
    from tokencensus.report.data import report_view

    volume = make_results()["volume"].head(1)
    views = {
        meta.period_end: {f.id: f for f in report_view({"volume": volume}, meta).figures}["volume"]
        for meta in (make_meta(), make_meta(period_end=WEEKS[0] + timedelta(days=6)))
    }
    assert views[WEEKS[-1] + timedelta(days=6)].headline == (
        "No requests in the last four weeks of the period (2025-06-30 … 2025-07-27)."
    )
    assert views[WEEKS[0] + timedelta(days=6)].headline == "1B tokens in the single week of data."


def test_markdown_shows_the_pictures_written_beside_it(tmp_path: Path) -> None:
    out = build_report(make_results(), make_meta(), tmp_path, formats=("md", "png"))
    md = out.markdown.read_text(encoding="utf-8")  # type: ignore[union-attr]
    pictures = re.findall(r"!\[[^\]]*\]\((figures/\w+\.png)\)", md)
    assert sorted(pictures) == sorted(str(p.relative_to(tmp_path)) for p in out.pngs)
    assert "![Weekly token volume](figures/volume.png)" in md


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Geography & language", "Geography & language"),
        ("small < 15B, large ≥ 70B", "small < 15B, large ≥ 70B"),
        ("R&D", "R&D"),
        ("<img src=x>", "&lt;img src=x>"),
        ("&amp; &#60; &#x3c;", "&amp;amp; &amp;\\#60; &amp;\\#x3c;"),
        ("> not a quote", "\\> not a quote"),
    ],
)
def test_md_escape_reads_as_written_unless_it_could_be_html(text: str, shown: str) -> None:
    assert report_render.md_escape(text) == shown


@given(st.text(alphabet=st.sampled_from("<>&;#x3cabz/!? \n`~|")))
def test_md_escape_leaves_nothing_that_starts_html(name: str) -> None:
    out = report_render.md_escape(name)
    assert not re.search(r"<[A-Za-z/!?]", out)
    # no character reference but the escapes' own (removing those first would join "&" + "a;" of
    # "&&lt;a;" into one that the output does not hold)
    assert not re.search(r"&(?!amp;|lt;)([A-Za-z][A-Za-z0-9]*|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});", out)


@given(st.text())
def test_md_escape_keeps_any_name_on_its_line_and_inert(name: str) -> None:
    """A model name holding a line break and ~~~ (or ```) must not open a code block over the rest of
    report.md: no character any renderer breaks lines on survives, and no fence is left unescaped."""
    out = report_render.md_escape(name)
    assert not re.search(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]", out)
    assert not re.search(r"(?<!\\)[`~]", out)
    assert report_render.md_escape("gpt\r\n~~~\n```x|y") == "gpt \\~\\~\\~ \\`\\`\\`x\\|y"
