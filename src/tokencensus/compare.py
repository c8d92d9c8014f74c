"""The study's published figures beside the ones the demo computes (``tokencensus demo --compare-study``).

Each ``[[figure]]`` of ``simulator/study.toml`` names a published aggregate of the OpenRouter study,
its value as published and the range the demo must land in. :func:`compare_study` measures each on
a demo lake with the same analyses the report runs (model-level figures over the study's window,
retention over the whole history) and :func:`study_markdown` writes the table of docs/study.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from tokencensus.analyses import agentic, categories, costs, geography, market, retention
from tokencensus.analyses.costs import ARCHETYPES
from tokencensus.definitions import CHINESE_OPEN, OPEN_WEIGHTS, PROPRIETARY, REASONING, REST_OF_WORLD_OPEN
from tokencensus.engine import Tables, materialise, open_lake
from tokencensus.simulator.study import StudyWorld, study_world

LAST_WEEKS = 4
"""'Late 2025' and 'late 2024' read as the window's last and first four weeks."""


@dataclass(frozen=True)
class Row:
    """One published figure beside the demo's."""

    id: str
    section: str
    figure: str
    published: str
    demo: str
    tolerance: str
    ok: bool


class Measures:
    """The demo lake's measurements, each computed once on demand."""

    def __init__(self, tables: Tables, world: StudyWorld) -> None:
        self.tables = tables
        self.world = world
        self.all = tables.events
        self.events = tables.events.filter(tables.events.week >= ibis.date(world.study_start))
        self._cache: dict[str, Any] = {}

    def frame(self, name: str, expr: Callable[[], ir.Table]) -> pd.DataFrame:
        if name not in self._cache:
            frame = expr().to_pandas()
            for col in ("week", "month", "cohort", "launch_cohort"):
                if col in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[col]):
                    frame[col] = frame[col].dt.date
            self._cache[name] = frame
        return self._cache[name]

    # --- shares over the window's weeks --------------------------------------------------------
    def weekly(self, column: str) -> pd.DataFrame:
        """week × segment token shares of the window (missing segments 0)."""
        got = self.frame(f"weekly:{column}", lambda: market.weekly_share(self.events, column))
        return got.pivot(index="week", columns="segment", values="share").fillna(0.0).sort_index()

    def open_models(self) -> pd.DataFrame:
        ev = self.events.filter(self.events.open_segment == OPEN_WEIGHTS)
        got = self.frame("open_models", lambda: market.weekly_share(ev, "model"))
        return got.pivot(index="week", columns="segment", values="share").fillna(0.0).sort_index()

    def labels(self) -> ir.Table:
        if self.tables.labels is None:
            raise ValueError("the lake has no labels: run the demo (it classifies a sample)")
        return self.tables.labels


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _weeks(frame: pd.DataFrame, first: bool) -> pd.DataFrame:
    return frame.iloc[:LAST_WEEKS] if first else frame.iloc[-LAST_WEEKS:]


def _segment_mean(seg: str) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        v = float(m.weekly("origin_segment").get(seg, pd.Series([0.0])).mean())
        return v, _pct(v)

    return measure


def _cn_first(m: Measures) -> tuple[float, str]:
    v = float(_weeks(m.weekly("origin_segment"), True)[CHINESE_OPEN].mean())
    return v, _pct(v)


def _cn_peak(m: Measures) -> tuple[float, str]:
    s = m.weekly("origin_segment")[CHINESE_OPEN]
    return float(s.max()), f"{_pct(float(s.max()))} (week of {s.idxmax()})"


def _open_late(m: Measures) -> tuple[float, str]:
    v = float(_weeks(m.weekly("open_segment"), False)[OPEN_WEIGHTS].mean())
    return v, _pct(v)


def _open_author_tokens(m: Measures) -> pd.DataFrame:
    ev = m.events.filter(m.events.open_segment == OPEN_WEIGHTS)
    return m.frame(
        "open_authors",
        lambda: (
            ev.group_by("author").aggregate(tokens=ev.tokens.sum()).order_by([ibis.desc("tokens"), "author"])
        ),
    )


def _open_authors(m: Measures) -> tuple[float, str]:
    """Largest gap between an author's share of the ten authors' tokens and the published one;
    the demo column lists the demo's top ten open-weights authors in order."""
    got = _open_author_tokens(m)
    published = m.world.config.open_author_tokens
    mine = got.set_index("author")["tokens"].reindex(list(published)).fillna(0.0)
    want = pd.Series(published, dtype=float)
    gap = float((mine / mine.sum() - want / want.sum()).abs().max())
    order = ", ".join(got["author"].head(10))
    return gap, f"{order} (largest share gap {gap * 100:.1f} pts)"


def _open_top10(m: Measures) -> tuple[float, str]:
    """How many of the published top ten open-weights authors are the demo's top ten."""
    top = set(_open_author_tokens(m)["author"].head(10))
    n = len(top & set(m.world.config.open_author_tokens))
    return float(n), f"{n} of 10"


def _deepseek_early(m: Measures) -> tuple[float, str]:
    frame = m.open_models()
    early = frame[(frame.index >= date(2024, 12, 23)) & (frame.index < date(2025, 3, 3))]
    best, text = 0.0, "-"
    for week, row in early.iterrows():
        top = row.nlargest(2)
        if all(name.startswith("deepseek/") for name in top.index) and top.sum() > best:
            best, text = (
                float(top.sum()),
                f"{_pct(float(top.sum()))}: {' + '.join(top.index)} (week of {week})",
            )
    return best, text


def _open_top_late(m: Measures) -> tuple[float, str]:
    frame = m.open_models()
    late = frame[frame.index >= date(2025, 9, 1)]
    top = late.max(axis=0)
    return float(top.max()), f"{_pct(float(top.max()))} ({top.idxmax()})"


def _size(size: str) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        frame = m.frame("size", lambda: market.share_size(m.events))
        s = frame[frame.segment == size].set_index("week")["share"].sort_index()
        weeks = m.weekly("open_segment").index
        s = s.reindex(weeks).fillna(0.0)
        first, last = float(s.iloc[:13].mean()), float(s.iloc[-13:].mean())
        return last - first, f"{_pct(first)} → {_pct(last)} (first vs last 13 weeks)"

    return measure


def _reasoning_late(m: Measures) -> tuple[float, str]:
    got = m.frame("reasoning", lambda: market.share_reasoning(m.events))
    frame = got.pivot(index="week", columns="segment", values="share").fillna(0.0).sort_index()
    v = float(_weeks(frame, False)[REASONING].mean())
    return v, _pct(v)


def _tools(m: Measures) -> pd.DataFrame:
    return m.frame("tools", lambda: agentic.tool_calls_weekly(m.events)).sort_values("week")


def _tool_rise(m: Measures) -> tuple[float, str]:
    t = _tools(m)
    first, last = (
        float(t.tool_call_token_share.iloc[:13].mean()),
        float(t.tool_call_token_share.iloc[-13:].mean()),
    )
    return last - first, f"{_pct(first)} → {_pct(last)} of tokens (first vs last 13 weeks)"


def _tool_gap(m: Measures) -> tuple[float, str]:
    t = _tools(m).iloc[-13:]
    tok = float(t.tool_call_tokens.sum() / t.tokens.sum())
    req = float(t.tool_call_requests.sum() / t.requests.sum())
    return tok - req, f"{_pct(tok)} of tokens vs {_pct(req)} of requests (last 13 weeks)"


def _growth(column: str) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        ev = m.events
        got = m.frame(
            "monthly_lengths",
            lambda: (
                ev.group_by("month")
                .aggregate(i=ev.input_tokens.mean(), o=ev.output_tokens.mean())
                .order_by("month")
            ),
        )
        first, last = float(got[column].iloc[0]), float(got[column].iloc[-1])
        return last / first, f"{last / first:.2f}× ({first:,.0f} → {last:,.0f}, first vs last month)"

    return measure


def _region(level: str, name: str) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        got = m.frame(f"region:{level}", lambda: geography.region_share(m.events, level, None))
        s = got.set_index(level)["token_share"]
        v = float(s.get(name, 0.0))
        return v, _pct(v)

    return measure


def _asia_spend(first: bool) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        got = m.frame("region:month", lambda: geography.region_share(m.events, "continent", "month"))
        asia = got[got.continent == "Asia"].set_index("month")["spend_share"].sort_index()
        v = float(asia.iloc[0] if first else asia.iloc[-1])
        month = asia.index[0] if first else asia.index[-1]
        return v, f"{_pct(v)} ({month:%b %Y})"

    return measure


def _language(code: str) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        got = m.frame("languages", lambda: categories.language_share(m.events, m.labels()))
        v = float(got.set_index("language")["share"].get(code, 0.0))
        return v, _pct(v)

    return measure


def _programming(month: date) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        got = m.frame("categories", lambda: categories.category_share(m.events, m.labels(), period="month"))
        got = got[got.category == "programming"].set_index("month")["share"]
        v = float(got.get(month, np.nan))
        return v, f"{_pct(v)} ({month:%b %Y})"

    return measure


def _mix(kind: str, name: str, cats: tuple[str, ...]) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        ev = m.events.filter(m.events.month >= ibis.date(2025, 5, 1))  # the study classified from May 2025
        if kind == "author":
            got = m.frame("mix:author", lambda: categories.mix_by_author(ev, m.labels()))
        else:
            got = m.frame("mix:segment", lambda: categories.mix_by_segment(ev, m.labels()))
        rows = got[got[kind] == name]
        v = float(rows[rows.category.isin(cats)]["share"].sum())
        return v, _pct(v)

    return measure


def _model_costs(m: Measures) -> pd.DataFrame:
    return m.frame("costs", lambda: costs.model_costs(m.events))


def _median_price(m: Measures) -> tuple[float, str]:
    v = float(_model_costs(m)["median_price"].iloc[0])
    return v, f"${v:.2f} per 1M tokens"


def _elasticity(m: Measures) -> tuple[float, str]:
    fit = costs.fit_elasticity(_model_costs(m))
    return fit.slope, f"{fit.slope:+.3f} (95% CI {fit.ci_low:+.3f} … {fit.ci_high:+.3f})"


def _archetype(quadrant: str, models: tuple[str, ...]) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        got = _model_costs(m).set_index("model")["quadrant"]
        placed = [str(got.get(model, "absent")) for model in models]
        n = sum(p == quadrant for p in placed)
        count = int((_model_costs(m)["quadrant"] == quadrant).sum())
        detail = "; ".join(f"{model.split('/')[-1]}: {p}" for model, p in zip(models, placed, strict=True))
        return float(n), f"{detail} ({count} models in the quadrant)"

    return measure


def _triangle_table(m: Measures) -> ir.Table:
    """The retention triangle, stored once: the cohort figures read it as a frame, the
    foundational-cohort test as a table."""
    if "triangle_table" not in m._cache:
        m._cache["triangle_table"] = materialise(
            m.tables, retention.retention_triangle(m.all), "study_triangle"
        )
    return m._cache["triangle_table"]


def _triangle(m: Measures) -> pd.DataFrame:
    return m.frame("triangle", lambda: _triangle_table(m))


def _cohort(m: Measures, model: str, cohort: date) -> pd.Series:
    t = _triangle(m)
    rows = t[(t.model == model) & (t.cohort == cohort)].set_index("k")["retention"].sort_index()
    return rows


def _foundational(model: str, cohort: date, k: int) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        curve = _cohort(m, model, cohort)
        v = float(curve.get(k, np.nan))
        t = _triangle(m)
        later = t[(t.model == model) & (t.cohort > cohort) & (t.k == 3)]["retention"]
        launch3, later3 = _pct(float(curve.get(3, np.nan))), _pct(float(later.median()))
        return v, f"{_pct(v)} at month {k}; at month 3 {launch3} vs later cohorts' median {later3}"

    return measure


def _flagged(model: str) -> Callable[[Measures], tuple[float, str]]:
    def measure(m: Measures) -> tuple[float, str]:
        got = m.frame(
            "foundational",
            lambda: retention.foundational_of(_triangle_table(m), retention.monthly_activity(m.all)),
        )
        row = got[got.model == model]
        if row.empty:
            return 0.0, "not observable"
        r = row.iloc[0]
        flagged = bool(r["foundational"])
        launch, later = _pct(float(r["launch_retention"])), _pct(float(r["later_median"]))
        verdict = "foundational" if flagged else "not foundational"
        return float(flagged), f"{verdict}: launch {launch} vs later {later} at month {int(r['k'])}"

    return measure


def _boomerang(model: str, cohort: date, k: int) -> Callable[[Measures], tuple[float, str]]:
    """The cohort's retention at month ``k`` minus its lowest retention at months 1 … k − 1."""

    def measure(m: Measures) -> tuple[float, str]:
        curve = _cohort(m, model, cohort)
        dip = curve[(curve.index >= 1) & (curve.index < k)]
        if k not in curve.index or dip.empty:
            return float("nan"), "not observed"
        rise = float(curve[k] - dip.min())
        low, at = _pct(float(dip.min())), int(dip.idxmin())
        return rise, f"{rise * 100:+.1f} pts: {low} at month {at}, {_pct(float(curve[k]))} at month {k}"

    return measure


def _in_window(m: Measures) -> tuple[float, str]:
    ev = m.events
    got = m.frame("span", lambda: ev.aggregate(first=ev.day.min(), last=ev.day.max()))
    first, last = got["first"].iloc[0], got["last"].iloc[0]
    ok = pd.Timestamp(first).date() == m.world.study_start and pd.Timestamp(last).date() == date(2025, 11, 30)
    return float(ok), f"{pd.Timestamp(first):%Y-%m-%d} … {pd.Timestamp(last):%Y-%m-%d}"


def _chat_only(m: Measures) -> tuple[float, str]:
    ev = m.all
    got = m.frame("models", lambda: ev.select("model").distinct())
    pattern = re.compile(r"guard|embed|moderation|-image|audio|lyria")
    bad = [s for s in got["model"] if pattern.search(str(s))]
    return float(len(bad)), f"{len(got)} models, {len(bad)} guard/embedding/image/audio" + (
        f" ({', '.join(bad)})" if bad else ""
    )


MEASURES: dict[str, Callable[[Measures], tuple[float, str]]] = {
    "window": _in_window,
    "chat_only": _chat_only,
    "open_late": _open_late,
    "cn_first": _cn_first,
    "cn_peak": _cn_peak,
    "cn_mean": _segment_mean(CHINESE_OPEN),
    "row_mean": _segment_mean(REST_OF_WORLD_OPEN),
    "proprietary_mean": _segment_mean(PROPRIETARY),
    "open_authors": _open_authors,
    "open_top10": _open_top10,
    "deepseek_early": _deepseek_early,
    "open_top_late": _open_top_late,
    "small_open": _size("small"),
    "medium_open": _size("medium"),
    "reasoning_late": _reasoning_late,
    "tool_rise": _tool_rise,
    "tool_gap": _tool_gap,
    "prompt_growth": _growth("i"),
    "completion_growth": _growth("o"),
    "na": _region("continent", "North America"),
    "asia": _region("continent", "Asia"),
    "europe": _region("continent", "Europe"),
    "south_america": _region("continent", "South America"),
    "oceania": _region("continent", "Oceania"),
    "africa": _region("continent", "Africa"),
    "us": _region("country", "US"),
    "sg": _region("country", "SG"),
    "de": _region("country", "DE"),
    "cn": _region("country", "CN"),
    "kr": _region("country", "KR"),
    "asia_spend_first": _asia_spend(True),
    "asia_spend_last": _asia_spend(False),
    "lang_en": _language("en"),
    "lang_zh": _language("zh"),
    "lang_ru": _language("ru"),
    "lang_es": _language("es"),
    "lang_th": _language("th"),
    "programming_early": _programming(date(2025, 1, 1)),
    "programming_late": _programming(date(2025, 11, 1)),
    "roleplay_open": _mix("segment", OPEN_WEIGHTS, ("roleplay",)),
    "deepseek_roleplay": _mix("author", "deepseek", ("roleplay", "other")),
    "qwen_programming": _mix("author", "qwen", ("programming",)),
    "anthropic_programming": _mix("author", "anthropic", ("programming",)),
    "median_price": _median_price,
    "elasticity": _elasticity,
    "efficient_giants": _archetype(
        ARCHETYPES[False, True], ("google/gemini-2.0-flash-001", "deepseek/deepseek-chat-v3-0324")
    ),
    "premium_leaders": _archetype(
        ARCHETYPES[True, True], ("anthropic/claude-3.7-sonnet", "anthropic/claude-sonnet-4")
    ),
    "premium_specialists": _archetype(ARCHETYPES[True, False], ("openai/gpt-4", "openai/gpt-5-pro")),
    "long_tail": lambda m: (
        float((_model_costs(m)["quadrant"] == ARCHETYPES[False, False]).sum()),
        f"{int((_model_costs(m)['quadrant'] == ARCHETYPES[False, False]).sum())} models",
    ),
    "slipper_claude": _foundational("anthropic/claude-sonnet-4", date(2025, 5, 1), 5),
    "slipper_gemini": _foundational("google/gemini-2.5-pro", date(2025, 6, 1), 5),
    "flag_claude": _flagged("anthropic/claude-sonnet-4"),
    "flag_gemini": _flagged("google/gemini-2.5-pro"),
    "flag_gpt4o_mini": _flagged("openai/gpt-4o-mini"),
    "flag_gemini_flash": _flagged("google/gemini-2.0-flash-001"),
    "flag_maverick": _flagged("meta-llama/llama-4-maverick"),
    "boomerang_r1": _boomerang("deepseek/deepseek-r1", date(2025, 4, 1), 3),
    "boomerang_v3": _boomerang("deepseek/deepseek-chat-v3-0324", date(2025, 7, 1), 2),
}
"""Figure id (``[[figure]]`` in study.toml) → its measurement on the demo lake: (value, as shown)."""


def _within(value: float, spec: dict[str, Any]) -> bool:
    if np.isnan(value):
        return False
    return float(spec.get("low", -np.inf)) <= value <= float(spec.get("high", np.inf))


UNITS: dict[str, str] = {
    "boomerang_r1": "pts",
    "boomerang_v3": "pts",
    "small_open": "pts",
    "medium_open": "pts",
    "tool_rise": "pts",
    "tool_gap": "pts",
    "open_authors": "pts",
    "prompt_growth": "×",
    "completion_growth": "×",
    "median_price": "$",
    "elasticity": "",
}
"""How a figure's range is written: shares (the default) as percentages, else these units."""


def _bound(value: float, unit: str) -> str:
    if unit == "%":
        return f"{100 * value:.4g}%"
    if unit == "pts":
        return f"{100 * value:+.4g} pts"
    if unit == "×":
        return f"{value:.4g}×"
    if unit == "$":
        return f"${value:.2f}"
    return f"{value:+.4g}"


def _tolerance(spec: dict[str, Any]) -> str:
    if "tolerance" in spec:
        return str(spec["tolerance"])
    unit = UNITS.get(spec["id"], "%")
    low = None if spec.get("low") is None else _bound(float(spec["low"]), unit)
    high = None if spec.get("high") is None else _bound(float(spec["high"]), unit)
    if low is not None and high is not None:
        return f"{low} … {high}"
    return f"≥ {low}" if low is not None else f"≤ {high}"


def compare_study(lake: str | Path, backend: str = "duckdb", world: StudyWorld | None = None) -> list[Row]:
    """Every published figure of the study beside the demo lake's (see the module docstring)."""
    world = world or study_world()
    measures = Measures(open_lake(lake, backend=backend), world)
    rows = []
    for spec in world.figures:
        fid = spec["id"]
        if fid not in MEASURES:
            raise ValueError(f"study.toml: figure {fid!r} has no measurement in tokencensus.compare.MEASURES")
        value, shown = MEASURES[fid](measures)
        rows.append(
            Row(
                id=fid,
                section=spec["section"],
                figure=spec["figure"],
                published=spec["published"],
                demo=shown,
                tolerance=_tolerance(spec),
                ok=_within(value, spec),
            )
        )
    return rows


def study_markdown(rows: list[Row], command: str = "tokencensus demo --compare-study") -> str:
    """docs/study.md: the table of the study's figures beside the demo's."""
    lines = [
        "# The demo beside the study",
        "",
        "The demo's world (`src/tokencensus/simulator/study.toml`) is calibrated to the published",
        'aggregates of "State of AI: An Empirical 100 Trillion Token Study with OpenRouter" (December 2025).',
        "Each row is a figure the study publishes, the value the demo's pipeline computes from its own",
        "lake (simulate → ingest → classify → the report's analyses; model-level figures over the study's",
        "window 2024-11-04 … 2025-11-30, retention over the whole history), and the range it must land in",
        "(tests/test_compare.py). Generated by `"
        + command
        + "`; shares are of tokens (prompt + completion).",
        "",
        "| Section | Study figure | Published | Demo | Range | |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r.section, r.figure, r.published, r.demo, r.tolerance, "✓" if r.ok else "✗"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    passed = sum(r.ok for r in rows)
    lines += ["", f"{passed} of {len(rows)} figures within range.", ""]
    return "\n".join(lines)
