"""The report's figures: what each one is (id, section, chart kind, method note), in the study's order.

A figure's id is the key of its frame in the results of :func:`tokencensus.report.compute.compute`
and the name of its CSV. Sections follow the OpenRouter study: volume, open vs closed and origin,
model size, agentic use, categories, geography and language, cost vs usage, retention.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokencensus.definitions import WINDOW_WEEKS

OTHER = "Other"
"""The top-models frames' label for every model outside the top N."""

NO_MODEL = "(none)"
"""The churn flows' ``to_model`` when a churned user used no other model the next month."""


@dataclass(frozen=True)
class Section:
    """One part of the study: an anchor id and a heading."""

    id: str
    title: str


SECTIONS: tuple[Section, ...] = (
    Section("volume", "Volume"),
    Section("market", "Open vs closed & origin"),
    Section("size", "Model size"),
    Section("agentic", "Agentic use"),
    Section("categories", "Categories"),
    Section("geography", "Geography & language"),
    Section("costs", "Cost vs usage"),
    Section("retention", "Retention"),
)


@dataclass(frozen=True)
class Series:
    """One line of a "lines" figure: the frame column it draws and its legend label."""

    column: str
    label: str


@dataclass(frozen=True)
class FigureDef:
    """What one figure is: its id (= results key), title, section, chart kind and method note.

    Kinds: "volume" (weekly stacked bars), "share" (weekly stacked area of ``value`` by
    ``category``), "ranking" (bars of the top models), "leaderboard" (rank lines + a table of the
    last week), "lines" (weekly lines of ``series`` columns), "bars" (horizontal bars of ``value``
    per ``category``), "stacked_bars" (a mix per segment), "scatter" (log–log price vs usage),
    "intervals" (raw and corrected shares per ``category`` with their intervals), "curves"
    (retention by month since first use), "heatmap" (cohort × month retention), "flags"
    (bars of ``value`` per model, flagged ones highlighted) and "flows" (bars of churn flows).
    """

    id: str
    title: str
    section: str
    kind: str
    note: str
    category: str | None = None
    """Column holding the colour/label category, or None."""
    value: str = "share"
    """The measured column a share, bars or flags chart draws."""
    order: tuple[str, ...] = ()
    """Known categories in legend/stack order, others following by size; for "stacked_bars" the
    order of the bars (segments)."""
    trailing: tuple[str, ...] = ()
    """Categories kept last whatever their size (Unknown, Other)."""
    series: tuple[Series, ...] = ()
    """The columns a "lines" figure draws."""
    percent: bool = True
    """The measure is a share (percent axis) rather than a count."""
    log: bool = False
    """Draw the measure on a log scale."""
    top: int = 0
    """Draw only this many categories (rows, flows, models); 0 draws all. The CSV keeps every row."""
    table_open: bool = False
    """The table is the figure's main content: shown open rather than folded away."""


def _pct_share(what: str) -> str:
    return f"Each segment's share of the week's {what}; a week's shares sum to 100%."


FIGURES: tuple[FigureDef, ...] = (
    # ------------------------------------------------------------------ volume
    FigureDef(
        "volume",
        "Weekly token volume",
        "volume",
        "volume",
        "Token volume = input + output tokens, summed per week (weeks start Monday, UTC). Output tokens "
        "include reasoning tokens.",
    ),
    # ------------------------------------------------------------------ open vs closed, origin
    FigureDef(
        "share_open",
        "Open vs closed weights",
        "market",
        "share",
        "Each segment's share of the week's tokens: models whose weights are published (open weights), "
        "closed models, and models missing from the catalog (Unknown). A week's shares sum to 100%.",
        category="segment",
        order=("Open weights", "Closed"),
        trailing=("Unknown",),
    ),
    FigureDef(
        "share_origin",
        "Chinese vs rest-of-world open models",
        "market",
        "share",
        "Share of the week's tokens: open-weights models by the origin of their author (China vs the "
        "rest of the world), proprietary (closed-weights) models, and models missing from the catalog.",
        category="segment",
        order=("Chinese open", "Rest-of-world open", "Proprietary"),
        trailing=("Unknown",),
    ),
    FigureDef(
        "share_author",
        "Model authors",
        "market",
        "share",
        "Each author's (lab's) share of the week's tokens, over every model it publishes. The chart "
        "draws the 8 authors with most published tokens; the gap above them is every other author "
        "(each is in the CSV; nothing is merged, so suppressed cells stay out of every total).",
        category="author",
        trailing=("unknown", "Unknown"),
        top=8,
    ),
    FigureDef(
        "top_models",
        "Top models",
        "market",
        "ranking",
        f"The models with most tokens over the last {WINDOW_WEEKS} weeks of the period; share is of all "
        "tokens in those weeks. Models under the privacy floor are left out of the ranking.",
    ),
    FigureDef(
        "top_models_weekly",
        "Top models over time",
        "market",
        "share",
        "Weekly token share of the period's largest models; every other model is grouped as Other.",
        category="model",
        trailing=(OTHER,),
    ),
    FigureDef(
        "leaderboard",
        "Weekly leaderboard",
        "market",
        "leaderboard",
        "Each week's top models by tokens (ties by name). The change compares a model's rank with its "
        "rank the calendar week before (▲ climbed, ▼ fell, new = not in the top the week before). The "
        "chart follows the last week's leaders over the last 12 weeks. Models under the privacy floor "
        "(and any whose tokens would reveal one) are left out of the ranking.",
        category="model",
        table_open=True,
    ),
    FigureDef(
        "open_concentration",
        "Concentration among open-weights models",
        "market",
        "lines",
        "Over open-weights tokens only, per week: the largest model's share (top 1), the five largest "
        "models' share (top 5), and the Herfindahl–Hirschman index HHI = Σ share² (0–1; 1 / HHI is the "
        "effective number of models).",
        series=(
            Series("top1_share", "Top 1 share"),
            Series("top5_share", "Top 5 share"),
            Series("hhi", "HHI"),
        ),
    ),
    FigureDef(
        "share_new_models",
        "Tokens on newly launched models",
        "market",
        "share",
        "Share of the week's tokens served by models launched in the 90 days before the week's end "
        "(catalog release date), by older models, and by models without a known release date.",
        category="segment",
        trailing=("Unknown",),
    ),
    # ------------------------------------------------------------------ size
    FigureDef(
        "share_size",
        "Open-weights models by size",
        "size",
        "share",
        "Share within open-weights tokens only, by total parameters: small < 15B, medium 15–70B, "
        "large ≥ 70B; unknown when the catalog has no parameter count.",
        category="segment",
        order=("small", "medium", "large"),
        trailing=("unknown",),
    ),
    # ------------------------------------------------------------------ agentic use
    FigureDef(
        "share_reasoning",
        "Reasoning models",
        "agentic",
        "share",
        "Share of the week's tokens served by reasoning models (the catalog's reasoning flag), whatever "
        "the request asked for.",
        category="segment",
        order=("Reasoning", "Non-reasoning"),
    ),
    FigureDef(
        "reasoning",
        "Reasoning tokens",
        "agentic",
        "lines",
        "Reasoning-model share = tokens of models the catalog flags as reasoning / all tokens. "
        "Reasoning-token share = reasoning tokens / output tokens (output includes reasoning), over "
        "all models and within reasoning models only.",
        series=(
            Series("reasoning_model_share", "Reasoning models' share of tokens"),
            Series("reasoning_token_share", "Reasoning tokens / output tokens"),
            Series("reasoning_token_share_in_reasoning_models", "… within reasoning models"),
        ),
    ),
    FigureDef(
        "tool_calls",
        "Tool calls",
        "agentic",
        "lines",
        "Tool-call share = requests whose finish reason is tool_calls / all requests (pre-aggregated "
        "rows count as their request count), and the same for their tokens.",
        series=(
            Series("tool_call_share", "Share of requests"),
            Series("tool_call_token_share", "Share of tokens"),
        ),
    ),
    FigureDef(
        "lengths",
        "Prompt and completion length",
        "agentic",
        "lines",
        "Tokens per request, per week: mean = Σ tokens / Σ requests; median and 90th percentile over "
        "individual requests (approximate quantiles). Log scale.",
        series=(
            Series("mean_input_tokens", "Input, mean"),
            Series("median_input_tokens", "Input, median"),
            Series("p90_input_tokens", "Input, p90"),
            Series("mean_output_tokens", "Output, mean"),
            Series("median_output_tokens", "Output, median"),
            Series("p90_output_tokens", "Output, p90"),
        ),
        percent=False,
        log=True,
    ),
    # ------------------------------------------------------------------ categories
    FigureDef(
        "share_category",
        "What people use AI for",
        "categories",
        "share",
        "Each category's share of the month's classified tokens, from a deterministic sample of "
        "prompts (PII scrubbed, then classified); each label counts its request's tokens times its "
        "model's inverse sampling rate, and labels below the confidence floor count as other. Monthly: "
        "a week's sample mostly falls under the privacy floor. Counted as labelled (raw); the next "
        "figure corrects the period's mix for the classifier's errors.",
        category="segment",
        trailing=("other",),
    ),
    FigureDef(
        "category_corrected",
        "Use-case shares corrected for the classifier's errors",
        "categories",
        "intervals",
        "Each category's share of classified tokens over the whole period, as labelled (raw) and "
        "corrected for the classifier's measured confusion (adjusted classify-and-count: the shares q "
        "that the measured error rates M turn into the counted ones, M·q = raw, solved on the "
        "simplex). Bars are 95% bootstrap intervals over the prompt sample and the confusion's own "
        "measurement. The correction holds when the classifier errs on this traffic as it did where its "
        "errors were measured: on a labelled sample of this traffic it is headlined, on public sources "
        "only the raw share is (label a sample and run eval-classifier --data FILE.jsonl --lake LAKE).",
        category="category",
        value="corrected_share",
        trailing=("other",),
        table_open=True,
    ),
    FigureDef(
        "category_segments",
        "Categories by model segment",
        "categories",
        "stacked_bars",
        "Category mix of classified tokens over the whole period, within open-weights models and within "
        "each origin segment (Chinese open, rest-of-world open, proprietary); each bar sums to 100%. "
        "Weighted like the category shares.",
        category="category",
        order=("Open weights", "Chinese open", "Rest-of-world open", "Proprietary"),
        trailing=("other",),
    ),
    # ------------------------------------------------------------------ geography and language
    FigureDef(
        "geo_continent",
        "Tokens by continent",
        "geography",
        "share",
        "Each continent's share of the week's tokens, by the account's country (ISO 3166-1; Unknown "
        "when the log has no country).",
        category="continent",
        value="token_share",
        trailing=("Unknown",),
    ),
    FigureDef(
        "geo_country",
        "Top countries",
        "geography",
        "bars",
        "Each country's share of the last month's tokens (the account's country); the chart draws the "
        "15 largest, every month is in the CSV.",
        category="country",
        value="token_share",
        top=15,
    ),
    FigureDef(
        "language",
        "Prompt languages",
        "geography",
        "bars",
        "Share of classified tokens by the prompt's detected language (ISO 639 code; und = "
        "undetermined), over the whole period, weighted like the category shares.",
        category="language",
        top=15,
    ),
    # ------------------------------------------------------------------ cost vs usage
    FigureDef(
        "cost_vs_usage",
        "Cost vs usage",
        "costs",
        "scatter",
        "Effective price = spend / tokens × 10⁶ (USD per million tokens, over requests with a known "
        "cost) against all tokens, one point per model, log–log. The rules are the median price and "
        "median usage: they split the models into four quadrants. Elasticity = the slope of ln(tokens) "
        "on ln(price) across the published points (OLS, 95% CI): a cross-sectional association, not "
        "the effect of changing a price.",
        category="model",
        value="price_per_1m",
    ),
    FigureDef(
        "category_costs",
        "Cost vs usage by category",
        "costs",
        "scatter",
        "The same price-vs-usage map per use-case category (classified requests only); the rules are "
        "the categories' median price and usage.",
        category="category",
        value="price_per_1m",
    ),
    # ------------------------------------------------------------------ retention
    FigureDef(
        "retention_curves",
        "Retention of the largest models",
        "retention",
        "curves",
        "A model's cohort = users whose first request to it fell in month m; retention at k = share of "
        "the cohort with any request to the model in month m + k (returns after a gap count, so a curve "
        "may rise). Pooled over cohorts observed at k: Σ active / Σ cohort users.",
        category="model",
        value="retention",
    ),
    FigureDef(
        "retention_triangle",
        "Retention by cohort",
        "retention",
        "heatmap",
        "Activity retention of each monthly cohort (rows) k months later (columns) for the three "
        "models with the largest published cohorts; every model's cohorts are in the CSV. The first "
        "month of data mixes new users with earlier ones (left-censored).",
        category="model",
        value="retention",
        top=3,
    ),
    FigureDef(
        "glass_slipper",
        "Foundational launch cohorts (glass slipper)",
        "retention",
        "flags",
        "A model's launch cohort (its first month, when that is not the data's first month) is "
        "foundational when its retention at month 3 is at least twice the median of its later cohorts "
        "and at least 30%, every compared cohort having ≥ 50 users. Lift = launch retention / later "
        "median.",
        category="model",
        value="lift",
        top=15,
        table_open=True,
    ),
    FigureDef(
        "boomerang",
        "Boomerang models",
        "retention",
        "flags",
        "Pooling a model's cohorts (≥ 100 users, observed through month 3): the rise = retention at k "
        "minus the lowest retention before k. A boomerang has a rise of ≥ 5 points and ≥ 3 standard "
        "errors: users who left came back.",
        category="model",
        value="rise",
        top=15,
        table_open=True,
    ),
    FigureDef(
        "churn_flows",
        "Where churned users go",
        "retention",
        "flows",
        "Flows from the top models (by tokens). A user churns from model A after month m when active "
        "on A in m and not in m + 1; the churn goes to every top model the user is active on in m + 1, "
        "once to Other models when the user is on any other model, or to (none). Share = churns A → B "
        "/ churns from A. The chart draws the 15 largest flows to another model; the CSV keeps every flow.",
        value="share",
        top=15,
        table_open=True,
    ),
)
FIGURES_BY_ID: dict[str, FigureDef] = {fig.id: fig for fig in FIGURES}
SECTIONS_BY_ID: dict[str, Section] = {s.id: s for s in SECTIONS}

FINDINGS = (
    "volume",
    "share_open",
    "share_origin",
    "share_reasoning",
    "tool_calls",
    "share_category",
    "geo_continent",
    "cost_vs_usage",
    "glass_slipper",
    "top_models",
    "boomerang",
    "lengths",
)
"""Figures whose headline may be a key finding of the summary, most informative first."""
MAX_FINDINGS = 8
