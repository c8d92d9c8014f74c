"""Retention: who stays with a model, launch cohorts that stay (glass slipper), users who come back
(boomerang), and where churned users go."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.report.figure import NO_MODEL, Figure, Options, Shown, on_frame
from tokencensus.report.headlines import Caveat, month_iso, published_rows
from tokencensus.report.numbers import fmt_count, fmt_int, fmt_pct, fmt_points, fmt_ratio, missing
from tokencensus.report.sources import Sources
from tokencensus.report.tables import as_decimal, as_flag, as_month, as_ratio, as_text

CURVES = 5
"""The retention curves follow at most this many of the largest models."""
FOLLOWED_LARGEST = 3
"""Beside the foundational and boomerang models, the cohort panels follow this many of the largest."""
PANELS = 6
"""The cohort panels draw at most this many models (foundational first, then boomerangs)."""


def retention_curves(s: Sources, o: Options) -> ir.Table:
    models = analyses.retention.top_models_by_tokens(s.activity, min(o.top_n, CURVES))
    return analyses.retention.curves_of(s.triangle, models, min_cohort=o.min_users)


def retention_triangle(s: Sources, _: Options) -> ir.Table:
    return s.triangle.order_by(["model", "cohort", "k"])


def glass_slipper(s: Sources, o: Options) -> ir.Table:
    return analyses.retention.foundational_of(s.triangle, s.activity, min_cohort=max(50, o.min_users))


def boomerang(s: Sources, o: Options) -> ir.Table:
    return analyses.retention.boomerangs_of(s.triangle, min_cohort=max(100, o.min_users))


def retention_cohorts(s: Sources, o: Options) -> ir.Table:
    """The cohorts of the models worth following: foundational launch cohorts, boomerangs and the
    largest models."""
    largest = analyses.retention.top_models_by_tokens(s.activity, min(o.top_n, FOLLOWED_LARGEST))
    return analyses.retention.cohorts_of(s.triangle, glass_slipper(s, o), boomerang(s, o), largest)


def churn_flows(s: Sources, _: Options) -> ir.Table:
    return s.churn


def headline_curves(frame: pd.DataFrame) -> str:
    """Month-1 retention: the best and the worst of the largest models."""
    month1 = published_rows(frame)
    month1 = month1[month1["k"] == 1].sort_values(
        ["retention", "model"], ascending=[False, True], kind="stable"
    )
    if month1.empty:
        return Caveat("No published month-1 retention.")
    best = month1.iloc[0]
    text = f"A month after first use, {fmt_pct(best['retention'])} of {best['model']}'s users came back"
    if len(month1) > 1:
        worst = month1.iloc[-1]
        text += f", the most of the {len(month1)} largest models"
        text += f"; {worst['model']} kept {fmt_pct(worst['retention'])}"
    return text + "."


def headline_triangle(frame: pd.DataFrame, shown: Shown) -> str:
    """Month-1 retention across the cohorts of the largest drawn model."""
    models = shown.drawn
    if not models:
        return Caveat("No published retention cohorts.")
    rows = published_rows(frame)
    rows = rows[(rows["model"] == models[0]) & (rows["k"] == 1)]
    rows = rows[~rows["left_censored"].astype(bool)].sort_values(["retention", "cohort"], kind="stable")
    if rows.empty:
        return Caveat(f"No published month-1 retention for {models[0]}'s cohorts.")
    low, high = rows.iloc[0], rows.iloc[-1]
    if len(rows) == 1:
        cohort = month_iso(low["cohort"])
        return f"{fmt_pct(low['retention'])} of {models[0]}'s {cohort} cohort came back a month later."
    return (
        f"Month-1 retention of {models[0]}'s cohorts ranged from {fmt_pct(low['retention'])} "
        f"({month_iso(low['cohort'])} cohort) to {fmt_pct(high['retention'])} ({month_iso(high['cohort'])}) "
        f"across {len(rows)} cohorts."
    )


def headline_cohorts(frame: pd.DataFrame, shown: Shown) -> str:
    """The spread of month-1 retention between single cohorts of the drawn models: what a pooled
    curve hides."""
    rows = published_rows(frame)
    rows = rows[rows["model"].isin(shown.drawn) & (rows["k"] == 1) & ~rows["left_censored"].astype(bool)]
    if rows.empty:
        return Caveat("No published month-1 retention of a single cohort among the followed models.")
    rows = rows.sort_values(["retention", "model", "cohort"], kind="stable")
    low, high = rows.iloc[0], rows.iloc[-1]
    if len(rows) == 1:
        cohort = f"{low['model']}'s {month_iso(low['cohort'])} cohort"
        return f"{fmt_pct(low['retention'])} of {cohort} came back a month later."
    return (
        f"Month-1 retention of single cohorts ran from {fmt_pct(low['retention'])} ({low['model']}, "
        f"{month_iso(low['cohort'])}) to {fmt_pct(high['retention'])} ({high['model']}, "
        f"{month_iso(high['cohort'])}) across the {len(shown.drawn)} followed models."
    )


def headline_glass_slipper(frame: pd.DataFrame) -> str:
    """The models whose launch cohort is foundational, and their lift."""
    published = published_rows(frame)
    flagged = published[published["foundational"].fillna(False).astype(bool)]
    flagged = flagged.sort_values(["lift", "model"], ascending=[False, True], kind="stable")
    if flagged.empty:
        if published.empty:
            return Caveat("No model has a launch cohort large enough to test (or above the floor).")
        return Caveat(f"No model among {len(published)} published has a foundational launch cohort.")
    if len(flagged) == 1:
        r = flagged.iloc[0]
        return (
            f"{r['model']} has a foundational launch cohort: {fmt_pct(r['launch_retention'])} of its "
            f"{month_iso(r['launch_cohort'])} launch users were active in month {int(r['k'])}, "
            f"{fmt_ratio(float(r['lift']))} the median of its later cohorts."
        )
    names = ", ".join(
        f"{r['model']} ({fmt_ratio(float(r['lift']))})" for r in flagged.head(3).to_dict("records")
    )
    more = f" and {len(flagged) - 3} more" if len(flagged) > 3 else ""
    return (
        f"{len(flagged)} models have a foundational launch cohort, retaining more than their later "
        f"cohorts: {names}{more}."
    )


def headline_boomerang(frame: pd.DataFrame) -> str:
    """The models users came back to after a dip."""
    published = published_rows(frame)
    flagged = published[published["boomerang"].fillna(False).astype(bool)]
    flagged = flagged.sort_values(["rise", "model"], ascending=[False, True], kind="stable")
    if flagged.empty:
        if published.empty:
            return Caveat("No model has cohorts large enough to test for returns (or above the floor).")
        return Caveat(f"No boomerang among {len(published)} published models: no curve rose after a dip.")
    r = flagged.iloc[0]
    after = f" after its month-{int(r['dip_k'])} dip" if not missing(r["dip_k"]) else ""
    rise = fmt_points(r["rise"]).lstrip("+").replace(" pts", " points")
    text = f"Users came back to {r['model']}: its pooled retention rose {rise}{after} (z = {r['z']:.1f})"
    if len(flagged) > 1:
        text += f"; {len(flagged) - 1} more {'model' if len(flagged) == 2 else 'models'} boomeranged"
    return text + "."


def headline_flows(frame: pd.DataFrame) -> str:
    """The largest flow between two models."""
    published = published_rows(frame)
    moves = published[published["to_model"] != NO_MODEL]
    if moves.empty:
        return Caveat("No published flow between models.")
    top = moves.sort_values(
        ["churns", "from_model", "to_model"], ascending=[False, True, True], kind="stable"
    ).iloc[0]
    text = (
        f"The largest flow: {fmt_pct(top['share'])} of the churns from {top['from_model']} "
        f"({fmt_count(top['from_churns'])}) went to {top['to_model']} the next month"
    )
    gone = published[(published["from_model"] == top["from_model"]) & (published["to_model"] == NO_MODEL)]
    if not gone.empty:
        text += f"; {fmt_pct(gone['share'].iloc[0])} used no other model"
    return text + "."


FIGURES = (
    Figure(
        "retention_curves",
        "Retention of the largest models",
        "retention",
        "curves",
        "A model's cohort = users whose first request to it fell in month m; retention at k = share of "
        "the cohort with any request to the model in month m + k (returns after a gap count, so a curve "
        "may rise). Pooled over cohorts observed at k: Σ active / Σ cohort users.",
        data=retention_curves,
        headline=on_frame(headline_curves),
        category="model",
        value="retention",
    ),
    Figure(
        "retention_triangle",
        "Retention by cohort",
        "retention",
        "heatmap",
        "Activity retention of each monthly cohort (rows) k months later (columns) for the three "
        "models with the largest published cohorts; every model's cohorts are in the CSV. The first "
        "month of data mixes new users with earlier ones (left-censored).",
        data=retention_triangle,
        headline=headline_triangle,
        category="model",
        value="retention",
        top=3,
    ),
    Figure(
        "retention_cohorts",
        "Retention by cohort of the models to follow",
        "retention",
        "cohorts",
        "One panel per followed model, one line per monthly cohort: the share of the cohort active k "
        "months after its first month (retention as in the curves above, cohort by cohort, not pooled). "
        "Followed: models with a foundational launch cohort, then boomerangs, then the "
        f"{FOLLOWED_LARGEST} largest (by tokens of requests with a user); at most {PANELS} panels. The "
        "first month of data mixes new users with earlier ones (left-censored) and is not drawn; every "
        "cohort is in the CSV.",
        data=retention_cohorts,
        headline=headline_cohorts,
        category="model",
        value="retention",
        top=PANELS,
    ),
    Figure(
        "glass_slipper",
        "Foundational launch cohorts (glass slipper)",
        "retention",
        "flags",
        "A model's launch cohort (its first month, when that is not the data's first month) is "
        "foundational when its retention at month 3 is at least twice the median of its later cohorts "
        "and at least 30%, every compared cohort having ≥ 50 users. Lift = launch retention / later "
        "median.",
        data=glass_slipper,
        headline=on_frame(headline_glass_slipper),
        columns=(
            [("model", "Model", as_text), ("launch_cohort", "Launch cohort", as_month)],
            [
                ("launch_retention", "Launch retention", fmt_pct),
                ("later_median", "Later cohorts' median", fmt_pct),
                ("lift", "Lift", as_ratio),
                ("launch_users", "Launch users", fmt_int),
                ("foundational", "Foundational", as_flag),
            ],
        ),
        category="model",
        value="lift",
        top=15,
        table_open=True,
    ),
    Figure(
        "boomerang",
        "Boomerang models",
        "retention",
        "flags",
        "Pooling a model's cohorts (≥ 100 users, observed through month 3): the rise = retention at k "
        "minus the lowest retention before k. A boomerang has a rise of ≥ 5 points and ≥ 3 standard "
        "errors: users who left came back.",
        data=boomerang,
        headline=on_frame(headline_boomerang),
        columns=(
            [("model", "Model", as_text)],
            [
                ("cohorts", "Cohorts", fmt_int),
                ("users", "Users", fmt_int),
                ("dip_k", "Dip at month", lambda v: "" if missing(v) else str(int(v))),
                ("rise", "Rise", fmt_points),
                ("z", "z", as_decimal),
                ("boomerang", "Boomerang", as_flag),
            ],
        ),
        category="model",
        value="rise",
        top=15,
        table_open=True,
    ),
    Figure(
        "churn_flows",
        "Where churned users go",
        "retention",
        "flows",
        "Flows from the top models (by tokens). A user churns from model A after month m when active "
        "on A in m and not in m + 1; the churn goes to every top model the user is active on in m + 1, "
        "once to Other models when the user is on any other model, or to (none). Share = churns A → B "
        "/ churns from A. The chart draws the 15 largest flows to another model; the CSV keeps every flow.",
        data=churn_flows,
        headline=on_frame(headline_flows),
        columns=(
            [("from_model", "From", as_text), ("to_model", "To", as_text)],
            [("churns", "Churns", fmt_int), ("share", "Share of churns from", fmt_pct)],
        ),
        value="share",
        top=15,
        table_open=True,
    ),
)
