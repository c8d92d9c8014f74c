"""The planted truth: what a correct analysis of the simulated events must recover.

All values are *expected* values under the simulator (exact, in closed form), as plain pandas and
Python objects. Weeks are Mondays (``datetime.date``), months their first day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from tokencensus.simulator.config import SimConfig
from tokencensus.simulator.market import Market
from tokencensus.simulator.models import Models
from tokencensus.simulator.retention import Cohorts
from tokencensus.simulator.world import CATEGORIES, COUNTRIES


@dataclass(frozen=True)
class Truth:
    """Planted effects of one simulation (see each field)."""

    models: list[str]
    """Slugs of the simulated models."""
    model_info: pd.DataFrame
    """Catalog attributes of the simulated models: model (slug), author, open_weights, origin,
    params_b, size_class, reasoning, tools, release_date, input_price, output_price, segment."""
    weeks: list[date]
    """Monday of every week of the period."""
    months: list[date]
    """First day of every calendar month the period touches."""
    model_share: pd.DataFrame
    """week, model, share: expected share of the week's tokens (input + output); sums to 1 a week."""
    segment_share: pd.DataFrame
    """week, segment, share for Chinese open / Rest-of-world open / Proprietary."""
    volume: pd.DataFrame
    """week, requests (exact rows that week), tokens (expected input + output)."""
    agentic: pd.DataFrame
    """week, tool_call_rate (P(tool_calls) for a model with tools, among non-failed requests),
    tool_call_share (expected share of all requests finishing with tool_calls),
    mean_input_tokens, mean_output_tokens (expected per request; failed requests have 0 output),
    reasoning_token_share (expected reasoning tokens / output tokens)."""
    token_means: pd.DataFrame
    """week, category, mean_input_tokens, mean_output_tokens (of requests that do not fail)."""
    category_share: pd.DataFrame
    """week, category, token_share, request_share over all models."""
    category_mix: pd.DataFrame
    """model, week, category, share: each model's request mix by category."""
    country_share: pd.DataFrame
    """country (ISO alpha-2), continent, share: planted distribution of users' countries."""
    glass_slipper: str | None
    """Model whose launch-month cohort retains far better than its later cohorts."""
    glass_slipper_cohort: date | None
    """The glass slipper's launch month (first day)."""
    boomerang: str | None
    """Model whose retention curve dips, then rises (users come back)."""
    retention_controls: list[str]
    """Models with plain decaying retention, planted and protected like the two above."""
    retention: pd.DataFrame
    """model, cohort (first day of month), k, retention (expected share of the cohort with a
    request to the model in month cohort + k; 1 at k = 0), users (exact cohort size) for the glass
    slipper, boomerang, controls and the config's named plants. Months only partly inside the
    period are left out."""

    def share_by(self, column: str, catalog: pa.Table | None = None) -> pd.DataFrame:
        """Expected weekly token share by a model attribute: columns week, <column>, share.

        ``column`` is ``segment`` or a column of :attr:`model_info` (open_weights, origin,
        size_class, reasoning, author, ...); with ``catalog``, any catalog column (joined on slug).
        """
        if catalog is not None and column != "segment":
            info = catalog.select(["slug", column]).to_pandas().rename(columns={"slug": "model"})
        elif column in self.model_info.columns:
            info = self.model_info[["model", column]]
        else:
            raise KeyError(f"{column!r} is not a model attribute; pass the catalog table to share_by")
        merged = self.model_share.merge(info, on="model", how="left")
        out = merged.groupby(["week", column], dropna=False, sort=True)["share"].sum().reset_index()
        return out[["week", column, "share"]]


def build_truth(config: SimConfig, models: Models, market: Market, cohorts: Cohorts) -> Truth:
    """Assemble the planted truth from the plan (no events needed)."""
    n_weeks = config.weeks
    weeks = [config.start + timedelta(weeks=w) for w in range(n_weeks)]
    day_w = market.day_requests.astype(float)
    week_total = day_w.reshape(n_weeks, 7).sum(axis=1)
    day_w = np.where(week_total[market.week_of_day] > 0, day_w, 1.0)
    req = (market.p_model * day_w[:, None]).reshape(n_weeks, 7, -1).sum(axis=1).T  # (models, weeks)
    ok = 1.0 - config.error_rate
    out_mean = ok * market.mean_out
    tok = market.mean_in + out_mean  # (categories, weeks)
    req_c = req[:, :, None] * market.p_cat  # (models, weeks, categories)
    tok_mw = np.einsum("mwc,cw->mw", req_c, tok)
    share = tok_mw / tok_mw.sum(axis=0, keepdims=True)
    n_models = len(models)
    slugs = np.array(models.slug, dtype=object)

    model_share = pd.DataFrame(
        {
            "week": np.repeat(np.array(weeks, dtype=object), n_models),
            "model": np.tile(slugs, n_weeks),
            "share": share.T.ravel(),
        }
    )
    seg_names = models.info["segment"].to_numpy()
    segment_share = (
        model_share.assign(segment=np.tile(seg_names, n_weeks))
        .groupby(["week", "segment"], sort=True)["share"]
        .sum()
        .reset_index()
    )
    n_w = req.sum(axis=0)
    out_tokens = np.einsum("mwc,cw->mw", req_c, out_mean)
    agentic = pd.DataFrame(
        {
            "week": weeks,
            "tool_call_rate": market.tool_rate,
            "tool_call_share": np.einsum("mwc,cw->w", req_c * models.tools[:, None, None], market.tool_p)
            * ok
            / n_w,
            "mean_input_tokens": np.einsum("mwc,cw->w", req_c, market.mean_in) / n_w,
            "mean_output_tokens": out_tokens.sum(axis=0) / n_w,
            "reasoning_token_share": config.reasoning_fraction
            * out_tokens[models.reasoning].sum(axis=0)
            / out_tokens.sum(axis=0),
        }
    )
    volume = pd.DataFrame(
        {
            "week": weeks,
            "requests": market.day_requests.reshape(n_weeks, 7).sum(axis=1),
            "tokens": tok_mw.sum(axis=0),
        }
    )
    n_cat = len(CATEGORIES)
    cats = np.array(CATEGORIES, dtype=object)
    week_col = np.repeat(np.array(weeks, dtype=object), n_cat)
    token_means = pd.DataFrame(
        {
            "week": week_col,
            "category": np.tile(cats, n_weeks),
            "mean_input_tokens": market.mean_in.T.ravel(),
            "mean_output_tokens": market.mean_out.T.ravel(),
        }
    )
    cat_tok = np.einsum("mwc,cw->wc", req_c, tok)
    cat_req = req_c.sum(axis=0)
    category_share = pd.DataFrame(
        {
            "week": week_col,
            "category": np.tile(cats, n_weeks),
            "token_share": (cat_tok / cat_tok.sum(axis=1, keepdims=True)).ravel(),
            "request_share": (cat_req / cat_req.sum(axis=1, keepdims=True)).ravel(),
        }
    )
    category_mix = pd.DataFrame(
        {
            "model": np.repeat(slugs, n_weeks * n_cat),
            "week": np.tile(week_col, n_models),
            "category": np.tile(cats, n_models * n_weeks),
            "share": market.p_cat.ravel(),
        }
    )
    table = COUNTRIES if config.countries is None else config.countries
    total = sum(s for _, _, s in table)
    country_share = pd.DataFrame(
        {
            "country": [c for c, _, _ in table],
            "continent": [k for _, k, _ in table],
            "share": [s / total for _, _, s in table],
        }
    )

    def name(m: int | None) -> str | None:
        return None if m is None else models.slug[m]

    rows = []
    n_months = len(market.months)
    followed = [cohorts.glass_slipper, cohorts.boomerang, *cohorts.controls, *cohorts.named]
    for m in dict.fromkeys(m for m in followed if m is not None):
        for c in range(n_months):
            size = int(cohorts.new_users[m, c])
            if not size:
                continue
            for k in range(n_months - c):
                if cohorts.month_fraction[c + k] < 1.0 and c + k > 0:
                    continue
                rows.append((models.slug[m], market.months[c], k, float(cohorts.curves[m, c, k]), size))
    retention = pd.DataFrame(rows, columns=["model", "cohort", "k", "retention", "users"])
    info = models.info.reset_index(drop=True).copy()
    return Truth(
        models=list(models.slug),
        model_info=info,
        weeks=weeks,
        months=list(market.months),
        model_share=model_share,
        segment_share=segment_share,
        volume=volume,
        agentic=agentic,
        token_means=token_means,
        category_share=category_share,
        category_mix=category_mix,
        country_share=country_share,
        glass_slipper=name(cohorts.glass_slipper),
        glass_slipper_cohort=None
        if cohorts.slipper_cohort is None
        else market.months[cohorts.slipper_cohort],
        boomerang=name(cohorts.boomerang),
        retention_controls=[models.slug[m] for m in cohorts.controls],
        retention=retention,
    )
