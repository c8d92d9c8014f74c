"""The full study report: every figure, its section, headline, chart, CSV and PNG; summary findings;
the privacy floor on every figure kind; hostile names.

``full_results`` builds a small hand-made frame for every figure id, each with a planted cell below
the privacy floor whose values (:data:`PLANT_INT`, :data:`PLANT_FLOAT`) would change the figure's
headline if they leaked, and log-sourced names that try to break out of the HTML, the embedded JSON,
the Markdown and a spreadsheet. Every headline number is worked out in the docstrings and tests.
"""

from __future__ import annotations

import io
import json
import re
import struct
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import escape

from tests.report.test_report import HOSTILE, SPEC_RE, WEEKS, K, _share_frame, make_meta, make_results
from tokencensus.report import FORMATS, ReportOutput, build_report, suppress
from tokencensus.report.compute import tidy
from tokencensus.report.data import FIGURES, FIGURES_BY_ID, SECTIONS, FigureView, report_view
from tokencensus.report.headlines import Caveat, headline

HOSTILE2 = 'x"</script><!--y'
FORMULA = '=HYPERLINK("http://evil.example")'
PLANT_INT = 86_420_975
PLANT_FLOAT = 0.0864209753
PLANT_DIGITS = ("86420975", "864209")
"""What a leaked planted cell would print as (integer, or the digits of any float rendering)."""
SECRET = "secret-top-model"
LOW = 3  # users of every planted cell: below K = 50
MONTHS = [date(2025, 6, 1), date(2025, 7, 1)]


def _weekly(values: dict[str, list[float]], users: int = 400) -> pd.DataFrame:
    frame = pd.DataFrame({"week": WEEKS, **values, "users": users})
    return frame


def _rows(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def full_results() -> dict[str, pd.DataFrame]:
    """A frame for every figure, hand-checkable (see each test's arithmetic)."""
    base = make_results()
    planted = {"tiny": ([PLANT_INT] * 8, LOW)}
    results = dict(base)
    results["share_origin"] = _share_frame(
        {"Chinese open": ([50] * 4 + [200] * 4, 90), "Proprietary": ([950] * 4 + [800] * 4, 300)}
    )
    results["share_size"] = full_size()
    # share_category (monthly): programming 200/1000 in June, 600/1000 in July; legal is suppressed.
    results["share_category"] = _rows(
        ["month", "segment", "tokens", "share", "users"],
        [
            (MONTHS[0], "programming", 200, 0.2, 90),
            (MONTHS[0], "roleplay", 800, 0.8, 90),
            (MONTHS[1], "programming", 600, 0.6, 90),
            (MONTHS[1], "roleplay", 400, 0.4, 90),
            (MONTHS[1], "legal", PLANT_INT, PLANT_FLOAT, LOW),
        ],
    )
    # category_corrected: legal is under the floor, so every corrected share is withheld (each one is
    # computed from legal's count too) and the raw leader, roleplay (60%), is headlined.
    corrected_cols = ["category", "tokens", "users", "raw_share", "raw_low", "raw_high", "corrected_share",
                      "corrected_low", "corrected_high", "headlined", "errors"]  # fmt: skip
    traffic = "a labelled sample of this traffic (500 prompts)"
    results["category_corrected"] = _rows(
        corrected_cols,
        [
            ("programming", 800, 120, 0.4, 0.35, 0.45, 0.5, 0.4, 0.6, "corrected", traffic),
            ("roleplay", 1200, 150, 0.6, 0.55, 0.65, 0.5, 0.4, 0.6, "corrected", traffic),
            (
                "legal",
                PLANT_INT,
                LOW,
                PLANT_FLOAT,
                0.0,
                PLANT_FLOAT,
                PLANT_FLOAT,
                0.0,
                PLANT_FLOAT,
                "corrected",
                traffic,
            ),
        ],
    )
    # share_author: last four weeks deepseek 400/1000 = 40%, first four 200/1000 = 20%.
    results["share_author"] = _share_frame(
        {
            "openai": ([500] * 4 + [300] * 4, 200),
            "deepseek": ([200] * 4 + [400] * 4, 150),
            HOSTILE2: ([300] * 8, 100),
            **planted,
        }
    ).rename(columns={"segment": "author"})
    # leaderboard: last week HOSTILE leads with 30%; b climbed 4 → 2; tiny (suppressed) "climbed" 9.
    lb_cols = ["week", "rank", "model", "author", "tokens", "share", "users", "prev_rank", "prev_tokens",
               "prev_share", "rank_change", "share_change", "tokens_change"]  # fmt: skip
    w6, w7 = WEEKS[6], WEEKS[7]
    results["leaderboard"] = _rows(
        lb_cols,
        [
            (w6, 1, HOSTILE, HOSTILE2, 300, 0.30, 200, None, None, None, None, None, None),
            (w6, 2, "d", "lab", 250, 0.25, 200, None, None, None, None, None, None),
            (w6, 3, "e", "lab", 200, 0.20, 200, None, None, None, None, None, None),
            (w6, 4, "b", "lab", 150, 0.15, 150, None, None, None, None, None, None),
            (w7, 1, HOSTILE, HOSTILE2, 300, 0.30, 200, 1, 300, 0.30, 0, 0.0, 0.0),
            (w7, 2, "b", "lab", 200, 0.20, 150, 4, 150, 0.15, 2, 0.05, 0.33),
            (w7, 3, "c", "lab", 150, 0.15, 120, None, None, None, None, None, None),
            (w7, 4, "d", "lab", 100, 0.10, 100, 2, 250, 0.25, -2, -0.15, -0.6),
            (
                w7,
                5,
                "tiny",
                "tiny",
                PLANT_INT,
                PLANT_FLOAT,
                LOW,
                14,
                PLANT_INT,
                PLANT_FLOAT,
                9,
                PLANT_FLOAT,
                0.5,
            ),
        ],
    )
    # open_concentration: last four weeks tokens 100, 100, 100, 300 with top-5 shares .6 .6 .6 .4 →
    # (60·3 + 120) / 600 = 50% (an unweighted mean would say 55%); first four 80%. HHI last four
    # (20·3 + 15) / 600 = 0.125 → 8 effective models. Week 3 is suppressed.
    results["open_concentration"] = _rows(
        ["week", "models", "tokens", "top_model", "top1_share", "top5_share", "hhi", "users"],
        [
            (w, 20, tok, SECRET if i == 2 else HOSTILE, 0.3, t5, hhi, LOW if i == 2 else 300)
            for i, (w, tok, t5, hhi) in enumerate(
                zip(
                    WEEKS,
                    [100] * 4 + [100, 100, 100, 300],
                    [0.8, 0.8, PLANT_FLOAT, 0.8, 0.6, 0.6, 0.6, 0.4],
                    [0.3] * 4 + [0.2, 0.2, 0.2, 0.05],
                    strict=True,
                )
            )
        ],
    )
    results["open_concentration"].loc[2, "tokens"] = PLANT_INT
    # share_new_models: 100 → 250 of 1000.
    results["share_new_models"] = _share_frame(
        {
            "Launched in the last 90 days": ([100] * 4 + [250] * 4, 90),
            "Older": ([900] * 4 + [750] * 4, 300),
        }
    )
    # reasoning: output 400 a week (800 in the last), reasoning tokens 40 then 100 →
    # first four 160/1600 = 10%; last four (100·4)/(400·3 + 800) = 20%. Within reasoning models 50%.
    out_tokens = [400] * 7 + [800]
    results["reasoning"] = _weekly(
        {
            "tokens": [1000] * 8,
            "reasoning_model_tokens": [500] * 8,
            "reasoning_model_share": [0.5] * 8,
            "output_tokens": out_tokens,
            "reasoning_tokens": [40] * 4 + [100] * 4,
            "reasoning_token_share": [40 / 400] * 4 + [100 / o for o in out_tokens[4:]],
            "reasoning_token_share_in_reasoning_models": [0.4] * 4 + [0.5] * 4,
        }
    )
    # tool_calls: 50 then 150 of 1000 requests (5.0% → 15%); 2000 of 10000 tokens in the last (20%).
    results["tool_calls"] = _weekly(
        {
            "requests": [1000] * 8,
            "tool_call_requests": [50] * 4 + [150] * 4,
            "tool_call_share": [0.05] * 4 + [0.15] * 4,
            "tokens": [10_000] * 8,
            "tool_call_tokens": [1000] * 4 + [2000] * 4,
            "tool_call_token_share": [0.1] * 4 + [0.2] * 4,
        }
    )
    # lengths: 100 requests a week; input 50,000 → 200,000 (500 → 2,000 a request), output 100 → 300.
    inp, outp = [50_000] * 4 + [200_000] * 4, [10_000] * 4 + [30_000] * 4
    results["lengths"] = _weekly(
        {
            "requests": [100] * 8,
            "input_tokens": inp,
            "output_tokens": outp,
            "mean_input_tokens": [i / 100 for i in inp],
            "median_input_tokens": [i / 200 for i in inp],
            "p90_input_tokens": [i / 50 for i in inp],
            "mean_output_tokens": [o / 100 for o in outp],
            "median_output_tokens": [o / 200 for o in outp],
            "p90_output_tokens": [o / 50 for o in outp],
            "input_output_ratio": [i / o for i, o in zip(inp, outp, strict=True)],
        }
    )
    # category_segments: proprietary led by programming (50%), open weights by roleplay (60%); the
    # suppressed legal cell (would lead proprietary with 86%) stays out.
    results["category_segments"] = _rows(
        ["segment", "category", "tokens", "labelled", "users", "share"],
        [
            ("Proprietary", "programming", 500, 50, 100, 0.5),
            ("Proprietary", "roleplay", 300, 30, 100, 0.3),
            ("Proprietary", HOSTILE2, 200, 20, 100, 0.2),
            ("Proprietary", "legal", PLANT_INT, 1, LOW, 0.864209753),
            ("Open weights", "roleplay", 600, 60, 100, 0.6),
            ("Open weights", "programming", 300, 30, 100, 0.3),
            ("Open weights", "other", 100, 10, 100, 0.1),
        ],
    )
    # geo_continent: Europe 300 → 450 of 1000 leads the last four weeks.
    geo = _share_frame(
        {
            "Asia": ([400] * 4 + [300] * 4, 200),
            "Europe": ([300] * 4 + [450] * 4, 200),
            "North America": ([300] * 4 + [250] * 4, 200),
        }
    ).rename(columns={"segment": "continent", "share": "token_share"})
    # spend: Asia 40 → 30, Europe 30 → 50, North America 30 → 20 of 100 a week
    spend = {"Asia": [40] * 4 + [30] * 4, "Europe": [30] * 4 + [50] * 4, "North America": [30] * 4 + [20] * 4}
    geo["spend"] = [
        float(spend[c][WEEKS.index(w)]) for c, w in zip(geo["continent"], geo["week"], strict=True)
    ]
    geo = geo.assign(requests=10, spend_share=geo["spend"] / 100)
    results["geo_continent"] = geo
    # geo_country: July 2025: US 40%, then DE 20, FR 10, JP 10, BR 5 → top five 85%.
    country = [("US", 0.40), ("DE", 0.20), ("FR", 0.10), ("JP", 0.10), ("BR", 0.05), ("Unknown", 0.1),
               (HOSTILE2, 0.05)]  # fmt: skip
    rows = [(m, c, 10, int(s * 1000), 1.0, s, s, 100) for m in MONTHS for c, s in country]
    rows.append((MONTHS[1], "ZZ", 1, PLANT_INT, 1.0, 0.864209753, 0.5, LOW))
    results["geo_country"] = _rows(
        ["month", "country", "requests", "tokens", "spend", "token_share", "spend_share", "users"], rows
    )
    # language: en 70%, then fr 20%; und (undetermined) is not named; xx is suppressed.
    results["language"] = _rows(
        ["language", "tokens", "requests", "labelled", "users", "share", "request_share"],
        [
            ("en", 700, 70, 70, 300, 0.7, 0.7),
            ("fr", 200, 20, 20, 100, 0.2, 0.2),
            ("und", 50, 5, 5, 60, 0.05, 0.05),
            (HOSTILE2, 50, 5, 5, 60, 0.05, 0.05),
            ("xx", PLANT_INT, 1, 1, LOW, 0.864209753, 0.1),
        ],
    )
    # cost_vs_usage: four points on tokens = 10⁹ · price^−0.5 exactly → elasticity −0.50 with a CI of
    # width 0; the suppressed point (price 1000, far off the line) would change it.
    cost_cols = ["model", "author", "open_segment", "requests", "tokens", "spend", "price_per_1m",
                 "log10_price", "log10_tokens", "median_price", "median_tokens", "quadrant",
                 "users"]  # fmt: skip
    points = [(HOSTILE, 0.01, 10**10), ("b", 1.0, 10**9), (FORMULA, 100.0, 10**8), ("d", 10_000.0, 10**7)]
    cost_rows = [
        (m, "lab", "Closed", 10, t, p * t / 1e6, p, 0.0, 0.0, 50.5, 5.05e8, "Long tail", 100)
        for m, p, t in points
    ]
    cost_rows.append(
        (
            "tiny",
            "tiny",
            "Closed",
            1,
            PLANT_INT,
            1.0,
            1000.0,
            3.0,
            7.9,
            50.5,
            5.05e8,
            "Premium leaders",
            LOW,
        )
    )
    results["cost_vs_usage"] = _rows(cost_cols, cost_rows)
    # category_costs: programming has most tokens at $5.00; legal is the priciest at $12.
    cat_cols = ["category", *cost_cols[3:]]
    results["category_costs"] = _rows(
        cat_cols,
        [
            ("programming", 10, 1000, 0.005, 5.0, 0.7, 3.0, 5.0, 500.0, "Premium workloads", 300),
            ("legal", 10, 100, 0.0012, 12.0, 1.1, 2.0, 5.0, 500.0, "Specialized experts", 100),
            (HOSTILE2, 10, 500, 0.001, 2.0, 0.3, 2.7, 5.0, 500.0, "Mass-market volume drivers", 100),
            ("secret", 1, PLANT_INT, 1.0, 99.0, 2.0, 7.9, 5.0, 500.0, "Premium workloads", LOW),
        ],
    )
    # retention_curves: month 1: HOSTILE 40%, b 25%; tiny (90%) is suppressed.
    curve_cols = ["model", "k", "cohorts", "cohort_users", "active_users", "retention", "users"]
    results["retention_curves"] = _rows(
        curve_cols,
        [
            (HOSTILE, 0, 3, 500, 500, 1.0, 500),
            (HOSTILE, 1, 2, 400, 160, 0.4, 400),
            (HOSTILE, 2, 1, 200, 60, 0.3, 200),
            ("b", 0, 3, 300, 300, 1.0, 300),
            ("b", 1, 2, 200, 50, 0.25, 200),
            ("tiny", 0, 1, LOW, LOW, 1.0, LOW),
            ("tiny", 1, 1, LOW, 2, PLANT_FLOAT, LOW),
        ],
    )
    # retention_triangle: the three models with the largest cohorts are drawn (HOSTILE 500, b 300,
    # c 200; d 100 is not). HOSTILE's month-1 retention: 50% (2025-07) and 30% (2025-08); the
    # left-censored first cohort (90%) and the suppressed 2025-09 cohort do not count.
    tri = []
    for model, size in ((HOSTILE, 200), ("b", 150), ("c", 100), ("d", 60)):
        tri += [(model, date(2025, 6, 1), 0, size, size, 1.0, size, True)]
        tri += [(model, date(2025, 6, 1), 1, size, int(size * 0.9), 0.9, size, True)]
    tri += [
        (HOSTILE, date(2025, 7, 1), 0, 200, 200, 1.0, 200, False),
        (HOSTILE, date(2025, 7, 1), 1, 200, 100, 0.5, 200, False),
        (HOSTILE, date(2025, 8, 1), 0, 100, 100, 1.0, 100, False),
        (HOSTILE, date(2025, 8, 1), 1, 100, 30, 0.3, 100, False),
        (HOSTILE, date(2025, 9, 1), 0, LOW, LOW, 1.0, LOW, False),
        (HOSTILE, date(2025, 9, 1), 1, LOW, 2, PLANT_FLOAT, LOW, False),
        ("b", date(2025, 7, 1), 0, 150, 150, 1.0, 150, False),
        ("c", date(2025, 7, 1), 0, 100, 100, 1.0, 100, False),
    ]
    results["retention_triangle"] = _rows(
        ["model", "cohort", "k", "cohort_users", "active_users", "retention", "users", "left_censored"], tri
    )
    # glass_slipper: HOSTILE (2.5×) and m2 (2.1×) are foundational; tiny's flag is suppressed.
    gs_cols = ["model", "launch_cohort", "k", "launch_retention", "later_median", "later_cohorts", "lift",
               "launch_users", "users", "foundational"]  # fmt: skip
    results["glass_slipper"] = _rows(
        gs_cols,
        [
            (HOSTILE, date(2025, 8, 1), 3, 0.6, 0.24, 6, 2.5, 256, 256, True),
            ("m2", date(2025, 7, 1), 3, 0.42, 0.2, 5, 2.1, 120, 120, True),
            ("m3", date(2025, 7, 1), 3, 0.3, 0.25, 5, 1.2, 90, 90, False),
            ("tiny", date(2025, 7, 1), 3, PLANT_FLOAT, 0.01, 1, 86.4209753, LOW, LOW, True),
        ],
    )
    # boomerang: b1 rose 13 points after its month-2 dip (z = 9.1); tiny's flag is suppressed.
    results["boomerang"] = _rows(
        ["model", "cohorts", "users", "dip_k", "rise", "z", "boomerang"],
        [
            ("b1", 9, 2135, 2.0, 0.13, 9.1, True),
            (HOSTILE, 3, 383, 2.0, 0.015, 0.5, False),
            ("flat", 3, 400, None, 0.0, 0.0, False),
            ("tiny", 1, LOW, 1.0, PLANT_FLOAT, 40.0, True),
        ],
    )
    # churn_flows: the largest published flow is HOSTILE → b, 30% of HOSTILE's 1,000 churns; 40% of
    # them used no other model. The suppressed HOSTILE → secret flow (900 churns) would be larger.
    flows = [
        (HOSTILE, "(none)", 400, 300, 1000, 0.4),
        (HOSTILE, "b", 300, 250, 1000, 0.3),
        ("b", HOSTILE2, 100, 90, 500, 0.2),
        (HOSTILE, "secret", 900, LOW, 1000, PLANT_FLOAT),
    ]
    flows += [("c", f"m{i:02d}", 10 + i, 60, 800, (10 + i) / 800) for i in range(20)]
    results["churn_flows"] = _rows(
        ["from_model", "to_model", "churns", "users", "from_churns", "share"], flows
    )
    results |= new_figures(geo)
    return {fid: tidy(frame) for fid, frame in results.items()}


def new_figures(geo: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The frames of the figures added with the figure registry, consistent with the cells of the
    figures they sum to (the complementary suppression's relations)."""
    out = {}
    # reasoning_models: the reasoning segment's 100 (then 250) tokens a week: r1 60, r2 30, Other 10,
    # then r1 75, r2 150, Other 25 → r2 30% → 60%.
    rows = []
    for i, week in enumerate(WEEKS):
        total, parts = (
            (100, {"r1": 60, "r2": 30, "Other": 10}) if i < 4 else (250, {"r1": 75, "r2": 150, "Other": 25})
        )
        rows += [(week, model, tokens, tokens / total, 90) for model, tokens in parts.items()]
    out["reasoning_models"] = _rows(["week", "model", "tokens", "share", "users"], rows)
    # geo_spend: the continents' cells again (spend Europe 30 → 50 of 100 a week)
    out["geo_spend"] = geo
    # category_authors: programming 800 = openai 500 + anthropic 300, roleplay 1,200 = openai 400 +
    # deepseek 800 (category_corrected's cells); openai is the largest author: programming 500 / 900.
    out["category_authors"] = _rows(
        ["author", "category", "tokens", "labelled", "users", "share"],
        [
            ("anthropic", "programming", 300, 30, 100, 1.0),
            ("deepseek", "roleplay", 800, 80, 100, 1.0),
            ("openai", "programming", 500, 50, 100, 500 / 900),
            ("openai", "roleplay", 400, 40, 100, 400 / 900),
            ("tiny", "legal", PLANT_INT, 1, LOW, 1.0),
        ],
    )
    monthly = ["month", "segment", "tokens", "share", "users"]
    # by origin: the months sum to share_category's (programming 200 then 600, roleplay 800 then
    # 400), proprietary's months to category_segments' (programming 500, roleplay 300).
    out["programming_origin"] = _rows(
        monthly,
        [
            (MONTHS[0], "Chinese open", 20, 0.1, 90),
            (MONTHS[0], "Proprietary", 100, 0.5, 90),
            (MONTHS[0], "Rest-of-world open", 80, 0.4, 90),
            (MONTHS[1], "Chinese open", 150, 0.25, 90),
            (MONTHS[1], "Proprietary", 400, 400 / 600, 90),
            (MONTHS[1], "Rest-of-world open", 50, 50 / 600, 90),
        ],
    )
    # roleplay: the unknown segment holds what proprietary (300 in all) leaves of share_category's
    # 800 and 400
    out["roleplay_origin"] = _rows(
        monthly,
        [
            (MONTHS[0], "Chinese open", 320, 0.4, 90),
            (MONTHS[0], "Proprietary", 200, 0.25, 90),
            (MONTHS[0], "Rest-of-world open", 80, 0.1, 90),
            (MONTHS[0], "Unknown", 200, 0.25, 90),
            (MONTHS[1], "Chinese open", 100, 0.25, 90),
            (MONTHS[1], "Proprietary", 100, 0.25, 90),
            (MONTHS[1], "Rest-of-world open", 100, 0.25, 90),
            (MONTHS[1], "Unknown", 100, 0.25, 90),
        ],
    )
    out["programming_models"] = _rows(
        ["rank", "model", "author", "tokens", "share", "users"],
        [
            (1, HOSTILE, HOSTILE2, 400, 0.4, 200),
            (2, "b", "lab", 300, 0.3, 100),
            (3, "c", "lab", 200, 0.2, 80),
            (4, "tiny", "tiny", PLANT_INT, 0.1, LOW),
        ],
    )
    # retention_cohorts: HOSTILE (the largest) and m2 (foundational: drawn first); month 1 of the
    # single cohorts after the left-censored first: HOSTILE 50% (2025-07), 30% (2025-08), m2 60%
    # (2025-07); tiny's 90% is suppressed.
    cohort_cols = ["model", "cohort", "k", "cohort_users", "active_users", "retention", "users",
                   "left_censored", "foundational", "boomerang", "largest"]  # fmt: skip
    rows = [
        (HOSTILE, date(2025, 6, 1), 0, 200, 200, 1.0, 200, True, False, False, True),
        (HOSTILE, date(2025, 6, 1), 1, 200, 180, 0.9, 200, True, False, False, True),
        (HOSTILE, date(2025, 7, 1), 0, 200, 200, 1.0, 200, False, False, False, True),
        (HOSTILE, date(2025, 7, 1), 1, 200, 100, 0.5, 200, False, False, False, True),
        (HOSTILE, date(2025, 8, 1), 0, 100, 100, 1.0, 100, False, False, False, True),
        (HOSTILE, date(2025, 8, 1), 1, 100, 30, 0.3, 100, False, False, False, True),
        ("m2", date(2025, 7, 1), 0, 120, 120, 1.0, 120, False, True, False, False),
        ("m2", date(2025, 7, 1), 1, 120, 72, 0.6, 120, False, True, False, False),
        ("tiny", date(2025, 7, 1), 0, LOW, LOW, 1.0, LOW, False, False, True, False),
        ("tiny", date(2025, 7, 1), 1, LOW, 2, PLANT_FLOAT, LOW, False, False, True, False),
    ]
    out["retention_cohorts"] = _rows(cohort_cols, rows)
    # size_supply: share_size's cells with the models served: 5 large throughout, small 20 → 30
    supply = full_size()
    supply["models"] = [
        5 if s == "large" else (20 if w < WEEKS[4] else 30)
        for s, w in zip(supply["segment"], supply["week"], strict=True)
    ]
    out["size_supply"] = supply
    # category_lengths: programming 500 → 1,500 tokens a prompt, all classified prompts 750 in July
    out["category_lengths"] = _rows(
        ["month", "category", "mean_input_tokens", "mean_output_tokens", "users"],
        [
            (MONTHS[0], "all categories", 400.0, 100.0, 300),
            (MONTHS[0], "programming", 500.0, 120.0, 90),
            (MONTHS[1], "all categories", 750.0, 150.0, 300),
            (MONTHS[1], "legal", PLANT_FLOAT, 1.0, LOW),
            (MONTHS[1], "programming", 1500.0, 200.0, 90),
            (MONTHS[1], "roleplay", 300.0, 100.0, 90),
        ],
    )
    return out


def full_size() -> pd.DataFrame:
    return _share_frame({"large": ([600] * 8, 80), "small": ([400] * 8, 80)})


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportOutput, str]:
    out = build_report(full_results(), make_meta(), tmp_path_factory.mktemp("full"), formats=FORMATS)
    assert out.html is not None
    return out, out.html.read_text(encoding="utf-8")


def specs_of(page: str) -> dict[str, dict]:
    return {m.group(1): json.loads(m.group(3)) for m in SPEC_RE.finditer(page)}


def test_the_fixture_covers_every_figure() -> None:
    assert set(full_results()) == {fig.id for fig in FIGURES}
    assert len(FIGURES) == 36
    assert {fig.section for fig in FIGURES} == {s.id for s in SECTIONS}


# ---------------------------------------------------------------- sections, charts, CSVs, PNGs


def test_sections_in_the_study_order_with_a_table_of_contents(full: tuple[ReportOutput, str]) -> None:
    _, page = full
    order = [s.id for s in SECTIONS]
    assert order == ["volume", "market", "size", "agentic", "categories", "geography", "costs", "retention"]
    positions = [page.index('id="summary"')] + [
        page.index(f'<section class="study" id="sec-{s}">') for s in order
    ]
    assert positions == sorted(positions)
    figure_positions = [page.index(f'id="fig-{fig.id}"') for fig in FIGURES]
    assert figure_positions == sorted(figure_positions)
    for fig in FIGURES:  # each figure sits inside its own section
        start = page.index(f'id="sec-{fig.section}"')
        following = [page.index(f'id="sec-{s}"') for s in order if page.index(f'id="sec-{s}"') > start]
        assert start < page.index(f'id="fig-{fig.id}"') < min(following, default=len(page))
    nav = page[page.index("<nav") : page.index("</nav>")]
    for s in SECTIONS:
        assert f'href="#sec-{s.id}">{escape(s.title)}</a>' in nav
    assert all(f'href="#fig-{fig.id}"' in nav for fig in FIGURES)


def test_every_figure_has_a_valid_chart_a_csv_and_a_png(full: tuple[ReportOutput, str]) -> None:
    import vl_convert

    out, page = full
    specs = specs_of(page)
    assert set(specs) == {fig.id for fig in FIGURES}
    assert page.count('<div class="chart" id="chart-') == len(FIGURES)
    figures = out.html.parent / "figures"  # type: ignore[union-attr]
    for fig in FIGURES:
        spec = specs[fig.id]
        assert spec["data"]["values"]
        assert "datasets" not in spec
        svg = vl_convert.vegalite_to_svg(spec, vl_version="6.4")
        assert svg.startswith("<svg"), fig.id
        assert svg.count("<path") + svg.count("<rect") > 3, fig.id
        assert "tooltip" in json.dumps(spec), fig.id
        assert (figures / f"{fig.id}.csv").exists()
        png = (figures / f"{fig.id}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n", fig.id
        width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
        assert 800 <= width <= 4000, (fig.id, width, height)
        assert 150 <= height <= 4000, (fig.id, width, height)
        assert len(png) > 10_000, (fig.id, width, height)
    assert sorted(p.name for p in out.pngs) == sorted(f"{fig.id}.png" for fig in FIGURES)
    # Every chart with a colour legend filters on a legend click.
    for fid in ("share_author", "leaderboard", "open_concentration", "category_segments", "cost_vs_usage",
                "retention_curves", "glass_slipper", "churn_flows"):  # fmt: skip
        assert any(p.get("bind") == "legend" for p in specs[fid]["params"] + _layer_params(specs[fid])), fid


def test_every_picture_says_where_it_comes_from(full: tuple[ReportOutput, str]) -> None:
    """A PNG carries the report's title, whose traffic, its period and its source in a footer below
    the chart and its legend (the outermost title, at the bottom)."""
    import vl_convert

    from tokencensus.report.charts import png_spec
    from tokencensus.report.render import picture_footer

    footer = picture_footer(make_meta(org="the Acme gateway"))
    assert footer == (
        f"State of AI — tokencensus — the Acme gateway · {WEEKS[0].isoformat()} to "
        f"{(WEEKS[-1] + timedelta(days=6)).isoformat()} · source: /data/lake"
    )
    _, page = full
    for fid, spec in specs_of(page).items():
        picture = png_spec(spec, "A title", "A headline", footer=footer)
        assert picture["title"]["text"] == footer, fid
        assert picture["title"]["orient"] == "bottom", fid
        assert picture["vconcat"][0]["title"]["text"] == "A title", fid
        svg = vl_convert.vegalite_to_svg(picture, vl_version="6.4")
        assert "the Acme gateway" in svg, fid


def _layer_params(spec: dict) -> list[dict]:
    return [p for layer in spec.get("layer", []) for p in layer.get("params", [])]


def test_stacked_shares_end_at_100_percent(full: tuple[ReportOutput, str]) -> None:
    """A stacked share's axis is 0–100% exactly: not rounded up to 110%, not cut short at 90%."""
    _, page = full
    specs = specs_of(page)
    stacked = [fig.id for fig in FIGURES if fig.kind in ("share", "stacked_bars")]
    assert len(stacked) >= 9
    for fid in stacked:
        scales = [enc.get("scale") for enc in _encodings(specs[fid]) if enc.get("field") == "share"]
        assert scales, fid
        assert all(s == {"domain": [0, 1], "nice": False} for s in scales), fid


def _encodings(spec: dict) -> list[dict]:
    parts = (spec, *spec.get("layer", []))
    return [e for part in parts for e in part.get("encoding", {}).values() if isinstance(e, dict)]


def test_charts_embed_only_what_they_draw(full: tuple[ReportOutput, str]) -> None:
    _, page = full
    specs = specs_of(page)
    triangle = specs["retention_triangle"]["data"]["values"]
    assert {v["model"] for v in triangle} == {HOSTILE, "b", "c"}  # the top 3; "d" is only in the CSV
    flows = specs["churn_flows"]["data"]["values"]
    assert len(flows) == 15
    assert all(v["to_model"] != "(none)" for v in flows)
    assert flows[0]["to_model"] == "b"
    assert flows[0]["share"] == 0.3
    authors = {v["author"] for v in specs["share_author"]["data"]["values"]}
    assert authors == {"openai", "deepseek", HOSTILE2}  # tiny is suppressed: not drawn, not merged
    assert [v["label"] for v in specs["geo_country"]["data"]["values"]][:2] == [
        "United States (US)",
        "Germany (DE)",
    ]
    assert all(v["share"] != 0.864209753 for v in specs["geo_country"]["data"]["values"])
    scatter = [v for v in specs["cost_vs_usage"]["data"]["values"] if v["kind"] == "point"]
    assert len(scatter) == 4
    rules = {v["kind"] for v in specs["cost_vs_usage"]["data"]["values"]} - {"point"}
    assert rules == {"median_price", "median_tokens", "corner"}
    # the scatter names its points on the chart (a picture reads without hovering), its models
    # coloured by weights, and the four archetypes in their corners
    assert {v["short"] for v in scatter if v["named"]} == {HOSTILE, "b", FORMULA, "d"}
    assert {v["group"] for v in scatter} == {"Closed"}
    corners = {v["text"]: (v["align"], v["price"], v["tokens"])
               for v in specs["cost_vs_usage"]["data"]["values"] if v["kind"] == "corner"}  # fmt: skip
    assert corners == {
        "Efficient giants": ("left", 0.01, 2 * 10**10),
        "Premium leaders": ("right", 10_000.0, 2 * 10**10),
        "Long tail": ("left", 0.01, 10**7 / 2),
        "Premium specialists": ("right", 10_000.0, 10**7 / 2),
    }


# ---------------------------------------------------------------- headlines


HEADLINES = {
    "share_author": "Models by deepseek carried 40% of tokens in the last four weeks, up from 20% in the "
    "first four.",
    "leaderboard": f"In the week of {WEEKS[7].isoformat()}, {HOSTILE} ranked first with 30% of tokens; the "
    "biggest climber, b, rose 2 places to #2.",
    "open_concentration": "The five largest open-weights models carried 50% of open-weights tokens in the "
    "last four weeks, down from 80% in the first four; the effective number of open models was 8 (1 / HHI).",
    "share_new_models": "Models launched in the last 90 days carried 25% of tokens in the last four weeks, "
    "up from 10% in the first four.",
    "reasoning": "Reasoning tokens made up 20% of output tokens in the last four weeks, up from 10% in the "
    "first four (50% within reasoning models).",
    "tool_calls": "Tool calls ended 15% of requests in the last four weeks, up from 5.0% in the first four, "
    "and those requests carried 20% of tokens.",
    "lengths": "Prompts averaged 2,000 tokens per request in the last four weeks, up from 500 in the first "
    "four; completions averaged 300 (up from 100 in the first four).",
    "share_category": "Programming carried 60% of classified tokens in July 2025, up from 20% in June 2025.",
    "category_corrected": "As labelled, roleplay carried 60% (95% interval 55%–65%) of classified tokens; "
    "the corrected shares are withheld, as a category has too few users to publish.",
    "category_segments": "Programming led proprietary models' classified tokens (50%); roleplay led "
    "open-weights models' classified tokens (60%).",
    "geo_continent": "Accounts in Europe carried 45% of tokens in the last four weeks, up from 30% in the "
    "first four.",
    "geo_country": "In July 2025, accounts in United States (US) used 40% of tokens; the top 5 countries "
    "together 85%.",
    "language": "Prompts in English (en) carried 70% of classified tokens; next came French (fr) with 20%.",
    "cost_vs_usage": "Across 4 models, a 1% higher price went with 0.5% less usage (elasticity −0.50, 95% CI "
    "−0.50 to −0.50): an association across models, not the effect of a price change.",
    "category_costs": "Programming carried the most classified tokens at $5.00 per million; the priciest "
    "category was legal at $12.",
    "retention_curves": f"A month after first use, 40% of {HOSTILE}'s users came back, the most of the 2 "
    "largest models; b kept 25%.",
    "retention_triangle": f"Month-1 retention of {HOSTILE}'s cohorts ranged from 30% (2025-08 cohort) to 50% "
    "(2025-07) across 2 cohorts.",
    "glass_slipper": f"2 models have a foundational launch cohort, retaining more than their later cohorts: "
    f"{HOSTILE} (2.5×), m2 (2.1×).",
    "boomerang": "Users came back to b1: its pooled retention rose 13 points after its month-2 dip "
    "(z = 9.1).",
    "reasoning_models": "r2 carried 60% of reasoning-model tokens in the last four weeks, up from 30% in the "
    "first four.",
    "geo_spend": "Accounts in Europe paid 50% of spend in the last four weeks, up from 30% in the first "
    "four.",
    "category_authors": "Programming led openai's classified tokens (56%); programming weighed most in "
    "anthropic's mix (100%).",
    "programming_origin": "Chinese open-weights models carried 25% of programming tokens in July 2025, up "
    "from 10% in June 2025.",
    "roleplay_origin": "Chinese open-weights models carried 25% of roleplay tokens in July 2025, down from "
    "40% in June 2025.",
    "programming_models": f"{HOSTILE} served 40% of programming tokens over the period; the top 3 together "
    "90%.",
    "retention_cohorts": f"Month-1 retention of single cohorts ran from 30% ({HOSTILE}, 2025-08) to 60% (m2, "
    "2025-07) across the 2 followed models.",
    "size_supply": f"In the week of {WEEKS[7].isoformat()}, 30 small, 5 large open-weights models served "
    "tokens; small models were the most numerous but carried 40% of open-weights tokens, large ones 60%.",
    "category_lengths": "Programming prompts averaged 1,500 tokens in July 2025, 2.0× the average classified "
    "prompt (3.0× their length in June 2025).",
    "churn_flows": f"The largest flow: 30% of the churns from {HOSTILE} (1K) went to b the next month; 40% "
    "used no other model.",
}


@pytest.fixture(scope="module")
def views() -> dict[str, FigureView]:
    return {f.id: f for f in report_view(full_results(), make_meta()).figures}


@pytest.mark.parametrize("fid", sorted(HEADLINES))
def test_headlines_are_worked_out_from_published_cells(
    fid: str, full: tuple[ReportOutput, str], views: dict[str, FigureView]
) -> None:
    _, page = full
    view = views[fid]
    assert view.headline == HEADLINES[fid]
    assert view.is_finding
    assert str(escape(HEADLINES[fid])) in page  # as the template writes it


def test_elasticity_uses_only_published_points() -> None:
    frame = full_results()["cost_vs_usage"]
    published, n = suppress(frame, K)
    assert n == 1
    everything = frame.assign(suppressed=False)  # what a leak would compute
    assert "elasticity −0.50" in headline(FIGURES_BY_ID["cost_vs_usage"], published)
    assert "elasticity −0.50" not in headline(FIGURES_BY_ID["cost_vs_usage"], everything)


def test_caveats_are_not_findings() -> None:
    fig = FIGURES_BY_ID["glass_slipper"]
    none_flagged, _ = suppress(full_results()["glass_slipper"].assign(foundational=False), K)
    text = headline(fig, none_flagged)
    assert isinstance(text, Caveat)
    assert text == "No model among 3 published has a foundational launch cohort."
    # a sparse or filtered view with no model to test says so, not "no model among 0 published"
    for fid in ("glass_slipper", "boomerang"):
        nothing, _ = suppress(full_results()[fid].assign(users=1), K)
        text = headline(FIGURES_BY_ID[fid], nothing)
        assert isinstance(text, Caveat)
        assert "among 0" not in text
        assert text.startswith("No model has ")
    share = FIGURES_BY_ID["share_open"]
    gone, _ = suppress(make_results()["share_open"].assign(users=1), K)
    assert isinstance(headline(share, gone), Caveat)


# ---------------------------------------------------------------- summary


def test_summary_lists_the_key_findings(full: tuple[ReportOutput, str]) -> None:
    out, page = full
    view = report_view(full_results(), make_meta())
    by_id = {f.id: f.headline for f in view.figures}
    expected = ["volume", "share_open", "share_origin", "share_reasoning", "tool_calls", "share_category",
                "geo_continent", "cost_vs_usage"]  # fmt: skip
    assert [f.figure_id for f in view.findings] == expected
    assert 6 <= len(view.findings) <= 8
    summary = page[page.index('id="summary"') : page.index('id="sec-volume"')]
    items = re.findall(r'<li><a href="#fig-(\w+)">(.*?)</a></li>', summary)
    assert [fid for fid, _ in items] == expected
    assert [text for _, text in items] == [str(escape(by_id[fid])) for fid in expected]
    assert "Weekly token volume grew 4.2×" in items[0][1]
    for fact in ("2025-06-02 to 2025-07-27", "208K", "21B", "1.2K", "17", "2.0% of tokens", "fewer than 50"):
        assert fact in summary, fact
    doc = json.loads(out.json.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    assert [f["figure"] for f in doc["findings"]] == expected
    md = out.markdown.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "## Key findings" in md
    assert "1. Weekly token volume grew 4.2×" in md


def test_a_suppressed_headline_gives_way_to_the_next_finding() -> None:
    results = full_results()
    results["share_open"] = results["share_open"].assign(users=1)  # everything suppressed
    view = report_view(results, make_meta())
    ids = [f.figure_id for f in view.findings]
    assert "share_open" not in ids
    assert ids[-1] == "glass_slipper"
    assert len(ids) == 8


# ---------------------------------------------------------------- privacy floor


def test_planted_cells_never_leak(full: tuple[ReportOutput, str]) -> None:
    out, page = full
    texts = {"report.html": page}
    texts["report.md"] = out.markdown.read_text(encoding="utf-8")  # type: ignore[union-attr]
    texts["report.json"] = out.json.read_text(encoding="utf-8")  # type: ignore[union-attr]
    texts |= {p.name: p.read_text(encoding="utf-8") for p in out.csvs}
    assert len(texts) == 3 + len(FIGURES)
    for name, text in texts.items():
        for digits in PLANT_DIGITS:
            assert digits not in text, (name, digits)
        assert SECRET not in text, name  # the largest model of a suppressed week
    # the planted cells are still listed, blank and marked
    flows = pd.read_csv(io.StringIO(texts["churn_flows.csv"]), keep_default_na=False, dtype=str)
    secret = flows[flows["to_model"] == "secret"].iloc[0]
    assert (secret["churns"], secret["users"], secret["share"], secret["suppressed"]) == ("", "", "", "true")


def test_flags_and_derived_labels_of_suppressed_rows_are_blank(full: tuple[ReportOutput, str]) -> None:
    out, _ = full
    figures = out.html.parent / "figures"  # type: ignore[union-attr]

    def row(fid: str, col: str, value: str) -> dict[str, str]:
        frame = pd.read_csv(figures / f"{fid}.csv", keep_default_na=False, dtype=str)
        return frame[frame[col] == value].iloc[0].to_dict()

    tiny = row("glass_slipper", "model", "tiny")
    assert tiny["foundational"] == ""
    assert tiny["lift"] == ""
    assert tiny["launch_cohort"] == "2025-07-01"
    assert row("glass_slipper", "model", "m2")["foundational"] == "true"
    assert row("boomerang", "model", "tiny")["boomerang"] == ""
    assert row("cost_vs_usage", "model", "tiny")["quadrant"] == ""
    # quadrants are taken again over the published points: b ($1, 10⁹ tokens) is under the median
    # price ($50.50) and at or over the median usage (5.5 × 10⁸), whatever the fixture said
    b = row("cost_vs_usage", "model", "b")
    assert (b["quadrant"], b["median_price"], b["median_tokens"]) == (
        "Efficient giants",
        "50.5",
        "550000000.0",
    )
    week3 = row("open_concentration", "week", WEEKS[2].isoformat())
    assert week3["top_model"] == ""
    assert week3["suppressed"] == "true"
    censored = pd.read_csv(figures / "retention_triangle.csv", keep_default_na=False, dtype=str)
    hidden = censored[censored["suppressed"] == "true"]
    assert set(hidden["left_censored"]) == {""}
    assert set(hidden["k"]) == {"0", "1"}
    assert set(hidden["cohort"]) == {"2025-09-01"}


def test_suppress_keeps_keys_and_blanks_flags() -> None:
    frame = full_results()["retention_triangle"]
    published, n = suppress(frame, K)
    hidden = published[published["suppressed"]]
    assert n == 2
    assert hidden["k"].tolist() == [0, 1]
    assert hidden["cohort"].tolist() == [date(2025, 9, 1)] * 2
    assert hidden["left_censored"].isna().all()
    assert hidden["retention"].isna().all()
    shown = published[~published["suppressed"]]
    assert shown["left_censored"].notna().all()
    assert str(shown["left_censored"].dtype) == "boolean"


def test_tidy_turns_backend_decimals_into_nullable_counts() -> None:
    from decimal import Decimal

    frame = pd.DataFrame({"prev_tokens": [None, Decimal(12)], "rank_change": [None, 2.0], "users": [60, 70]})
    tidied = tidy(frame)
    assert str(tidied["prev_tokens"].dtype) == "Int64"
    assert tidied["prev_tokens"].tolist()[1] == 12
    published, _ = suppress(pd.DataFrame({"prev": [Decimal(5), None], "users": [1, 99]}), K)
    assert published["prev"].isna().tolist() == [True, True]  # a decimal column is a value column


# ---------------------------------------------------------------- hostile names


def test_hostile_names_are_inert_in_every_output(full: tuple[ReportOutput, str]) -> None:
    out, page = full
    lower = page.lower()
    assert "<script>alert" not in lower
    assert "<!--" not in page
    # one module script + one JSON script per chart, each closed by its own tag
    specs = specs_of(page)
    assert lower.count("<script") == lower.count("</script>") == 1 + len(specs)
    for m in SPEC_RE.finditer(page):
        assert "<" not in m.group(3)
        assert ">" not in m.group(3)
    assert str(escape(HOSTILE)) in page
    assert str(escape(HOSTILE2)) in page
    # ...and the embedded JSON gives every chart its names back intact
    for fid in ("leaderboard", "retention_curves", "retention_triangle", "glass_slipper", "churn_flows",
                "cost_vs_usage", "top_models", "top_models_weekly"):  # fmt: skip
        assert any(HOSTILE in text for text in _strings(specs[fid]["data"])), fid
    for fid in ("share_author", "category_segments", "geo_country", "language", "category_costs"):
        assert any(HOSTILE2 in text for text in _strings(specs[fid]["data"])), fid
    md = out.markdown.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "<script" not in md.lower()
    assert "<!--" not in md
    assert "&lt;script>alert(1)&lt;/script>" in md
    assert not re.search(r"<[A-Za-z/!?]", md)  # nothing a renderer could take for HTML
    csv_text = (out.html.parent / "figures" / "cost_vs_usage.csv").read_text(encoding="utf-8")  # type: ignore[union-attr]
    back = pd.read_csv(io.StringIO(csv_text), keep_default_na=False, dtype=str)
    assert "'" + FORMULA in set(back["model"])
    assert FORMULA not in set(back["model"])
    doc = json.loads(out.json.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    assert HOSTILE in {r["model"] for f in doc["figures"] if f["id"] == "glass_slipper" for r in f["data"]}


def _strings(value: object) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# ---------------------------------------------------------------- determinism and formats


def test_full_report_is_deterministic(tmp_path: Path) -> None:
    formats = ("html", "md", "json")
    build_report(full_results(), make_meta(), tmp_path / "a", formats=formats)
    build_report(full_results(), make_meta(), tmp_path / "b", formats=formats)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 3 + len(FIGURES)
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_report_json_inlines_small_frames_and_points_to_the_csv_of_large_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokencensus.report import render

    monkeypatch.setattr(render, "JSON_ROWS", 10)
    out = build_report(full_results(), make_meta(), tmp_path, formats=("json",))
    doc = json.loads(out.json.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    by_id = {f["id"]: f for f in doc["figures"]}
    for fid, fig in by_id.items():
        csv = pd.read_csv(tmp_path / fig["csv"], keep_default_na=False, dtype=str)
        assert fig["rows"] == len(csv), fid
        assert fig["columns"] == list(csv.columns), fid
        assert ("data" in fig) == (len(csv) <= 10), fid
    assert "data" not in by_id["churn_flows"]  # 24 flows
    assert len(by_id["top_models"]["data"]) == by_id["top_models"]["rows"] == 2  # its 7-user model dropped


def test_png_is_a_format_and_stale_pictures_go(tmp_path: Path) -> None:
    assert "png" in FORMATS
    results = {fid: make_results()[fid] for fid in ("share_open", "top_models")}
    build_report(results, make_meta(), tmp_path, formats=("png",))
    assert (tmp_path / "figures" / "share_open.png").exists()
    assert not (tmp_path / "report.html").exists()
    results["share_open"] = results["share_open"].assign(users=1)  # nothing to draw any more
    out = build_report(results, make_meta(), tmp_path, formats=("png",))
    assert not (tmp_path / "figures" / "share_open.png").exists()
    assert [p.name for p in out.pngs] == ["top_models.png"]


def test_every_chart_draws_in_a_browser(full: tuple[ReportOutput, str]) -> None:
    """Headless Chromium (when installed): every chart renders an SVG, with no error and no request."""
    sync_api = pytest.importorskip("playwright.sync_api")
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on this machine")
    out, _ = full
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        requests: list[str] = []
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith("file:") else None)
        page.goto(out.html.as_uri())  # type: ignore[union-attr]
        page.wait_for_function(
            "[...document.querySelectorAll('.chart')].every(c => c.querySelector('svg'))", timeout=20_000
        )
        n_charts = page.eval_on_selector_all(".chart", "els => els.length")
        browser.close()
    assert n_charts == len(FIGURES)
    assert errors == []
    assert requests == []
    assert dialogs == []
