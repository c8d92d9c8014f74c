"""Category analyses: what the tokens are spent on, from a classified sample of prompts.

Every function takes the enriched events table (:mod:`tokencensus.engine`) and the labels table
(``<lake>/labels``, see :mod:`tokencensus.classify.labels`) as Ibis tables and returns an Ibis
expression; nothing executes here.

Definitions (DESIGN.md, after the OpenRouter "State of AI" study):

* Only a sample of requests is labelled. A labelled request of model ``m`` stands for
  ``N_m / n_m`` requests (all requests of ``m`` / labelled requests of ``m``): post-stratification
  by model, which undoes the model-stratified sampling of ``classify`` (small models are sampled at
  higher rates).
* **Category share** of a cell = estimated tokens (input + output) of the category / estimated
  tokens of all classified requests in the cell, where a labelled request contributes its own
  tokens × its weight. Shares are of *classified* tokens and sum to 1 per cell.
* Labels whose confidence is below ``floor`` count as ``other``.
* ``users`` = distinct users among the labelled requests of the cell (for the report's k floor).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tokencensus.analyses.market import period_share, top_models
from tokencensus.definitions import CONFIDENCE_FLOOR, floored_category


def labelled_events(
    events: ir.Table,
    labels: ir.Table,
    floor: float = CONFIDENCE_FLOOR,
    classifier: str | None = None,
    population: ir.Table | None = None,
) -> ir.Table:
    """Labelled events with ``category`` (floored), ``language``, ``subcategory``, ``weight`` and
    weighted ``tokens`` / ``input_tokens`` / ``output_tokens`` (raw counts kept as ``raw_*``).

    ``classifier`` picks one classifier's labels when the table holds several. ``population`` is
    the table the per-model request totals ``N_m`` come from (default ``events``): pass the events'
    rollup when ``events`` is already narrowed to the labelled requests.
    """
    if classifier is not None:
        labels = labels.filter(labels.classifier == classifier)
    lab = labels.select(
        lab_id=labels.request_id,
        category=floored_category(labels, floor),
        subcategory=labels.subcategory,
        language=labels.language,
        confidence=labels.confidence,
    )
    joined = events.inner_join(lab, events.request_id == lab.lab_id).drop("lab_id")
    pop = events if population is None else population
    all_req = pop.group_by("model").aggregate(n_all=pop.requests.sum())
    lab_req = joined.group_by("model").aggregate(n_lab=joined.requests.sum())
    w = (
        all_req.inner_join(lab_req, "model")
        .mutate(weight=lambda t: t.n_all.cast("float64") / t.n_lab.cast("float64"))
        .select(w_model="model", weight="weight")
    )
    out = joined.inner_join(w, joined.model == w.w_model).drop("w_model")
    return out.mutate(
        raw_tokens=out.tokens,
        raw_input_tokens=out.input_tokens,
        raw_output_tokens=out.output_tokens,
        # whole estimated tokens: integer sums are exact in any order, so shares do not change in
        # their last bits from run to run (rounding moves an estimate by under one token)
        tokens=(out.tokens.cast("float64") * out.weight).round().cast("int64"),
        input_tokens=(out.input_tokens.cast("float64") * out.weight).round().cast("int64"),
        output_tokens=(out.output_tokens.cast("float64") * out.weight).round().cast("int64"),
        est_requests=out.requests.cast("float64") * out.weight,
    )


def mix(lab: ir.Table, by: list[str]) -> ir.Table:
    """The category mix of labelled events (:func:`labelled_events`) within each group of ``by``
    (over everything when empty). Columns: ``by``, category, tokens, labelled, users, share."""
    cells = lab.group_by([*by, "category"]).aggregate(
        tokens=lab.tokens.sum(), labelled=lab.count(), users=lab.user_id.nunique()
    )
    total = cells.tokens.sum().over(group_by=[cells[c] for c in by]) if by else cells.tokens.sum().over()
    return cells.filter(total > 0).mutate(share=cells.tokens / total).order_by([*by, "category"])


def category_share(
    events: ir.Table,
    labels: ir.Table,
    floor: float = CONFIDENCE_FLOOR,
    classifier: str | None = None,
    population: ir.Table | None = None,
    period: str = "week",
) -> ir.Table:
    """Share of classified tokens by category per ``period`` (``week`` or ``month``).

    Columns: period, category, tokens, share, users."""
    lab = labelled_events(events, labels, floor, classifier, population)
    return period_share(lab, "category", period).rename(category="segment")


def category_mix(
    events: ir.Table,
    labels: ir.Table,
    floor: float = CONFIDENCE_FLOOR,
    classifier: str | None = None,
    population: ir.Table | None = None,
) -> ir.Table:
    """Category share of classified tokens over the whole period.

    Columns: category, tokens, labelled, users, share.
    """
    return mix(labelled_events(events, labels, floor, classifier, population), [])


def mix_by_author(
    events: ir.Table,
    labels: ir.Table,
    floor: float = CONFIDENCE_FLOOR,
    classifier: str | None = None,
    population: ir.Table | None = None,
) -> ir.Table:
    """Each model author's category mix. Columns: author, category, tokens, labelled, users, share."""
    return mix(labelled_events(events, labels, floor, classifier, population), ["author"])


def mix_by_segment(
    events: ir.Table,
    labels: ir.Table,
    floor: float = CONFIDENCE_FLOOR,
    classifier: str | None = None,
    population: ir.Table | None = None,
) -> ir.Table:
    """Category mix inside open weights, and inside each origin segment (Chinese open, ...).

    Columns: segment ('Open weights', 'Chinese open', 'Rest-of-world open', 'Proprietary',
    'Unknown'), category, tokens, labelled, users, share.
    """
    lab = labelled_events(events, labels, floor, classifier, population)
    open_w = lab.filter(lab.open_segment == "Open weights").mutate(segment=ibis.literal("Open weights"))
    by_origin = lab.mutate(segment=lab.origin_segment)
    return mix(open_w.union(by_origin), ["segment"])


def share_within(
    events: ir.Table,
    labels: ir.Table,
    column: str,
    value: str,
    period: str = "month",
    floor: float = CONFIDENCE_FLOOR,
    classifier: str | None = None,
    population: ir.Table | None = None,
) -> ir.Table:
    """Each category's share of the period's classified tokens among the requests whose ``column``
    is ``value`` (e.g. ``open_segment`` = Open weights): the use cases within one segment.

    Columns: ``period``, category, tokens, share, users.
    """
    lab = labelled_events(events, labels, floor, classifier, population)
    shares = period_share(lab.filter(lab[column] == value), "category", period)
    return shares.rename(category="segment").order_by([period, "category"])


def origin_share(
    events: ir.Table,
    labels: ir.Table,
    category: str,
    period: str = "month",
    floor: float = CONFIDENCE_FLOOR,
    classifier: str | None = None,
    population: ir.Table | None = None,
) -> ir.Table:
    """Within one category (e.g. programming): each origin segment's share of the category's
    classified tokens per period (Chinese open, rest-of-world open, proprietary, unknown).

    Columns: ``period``, segment, tokens, share, users.
    """
    lab = labelled_events(events, labels, floor, classifier, population)
    return period_share(lab.filter(lab.category == category), "origin_segment", period)


def top_models_in(
    events: ir.Table,
    labels: ir.Table,
    category: str,
    n: int = 10,
    floor: float = CONFIDENCE_FLOOR,
    classifier: str | None = None,
    population: ir.Table | None = None,
) -> ir.Table:
    """The ``n`` models with most classified tokens of ``category`` over the whole period.

    Columns: rank, model, author, tokens, share (of the category's classified tokens), users.
    """
    lab = labelled_events(events, labels, floor, classifier, population)
    return top_models(lab.filter(lab.category == category), n, weeks=None)


def length_by_category(
    events: ir.Table,
    labels: ir.Table,
    floor: float = CONFIDENCE_FLOOR,
    classifier: str | None = None,
    population: ir.Table | None = None,
    period: str | None = None,
) -> ir.Table:
    """Mean prompt and completion tokens per request by category (weighted like the shares), over
    the whole data or per ``period`` (``week`` or ``month``).

    Columns: [period], category, labelled, requests (estimated), mean_input_tokens,
    mean_output_tokens, users.
    """
    lab = labelled_events(events, labels, floor, classifier, population)
    return lengths_of(lab, [period, "category"] if period else ["category"])


def lengths_of(lab: ir.Table, keys: list[str]) -> ir.Table:
    """:func:`length_by_category` of labelled events (:func:`labelled_events`) grouped by ``keys``:
    mean = Σ weighted tokens / Σ estimated requests."""
    agg = lab.group_by(keys).aggregate(
        labelled=lab.count(),
        requests=lab.est_requests.sum(),
        input_tokens=lab.input_tokens.sum(),
        output_tokens=lab.output_tokens.sum(),
        users=lab.user_id.nunique(),
    )
    return (
        agg.mutate(
            mean_input_tokens=agg.input_tokens / agg.requests,
            mean_output_tokens=agg.output_tokens / agg.requests,
        )
        .select(*keys, "labelled", "requests", "mean_input_tokens", "mean_output_tokens", "users")
        .order_by(keys)
    )


def language_share(
    events: ir.Table,
    labels: ir.Table,
    floor: float = CONFIDENCE_FLOOR,
    classifier: str | None = None,
    population: ir.Table | None = None,
) -> ir.Table:
    """Share of classified tokens and requests by prompt language (ISO 639-1; ``und`` = undetermined).

    Columns: language, tokens, requests, labelled, users, share, request_share.
    """
    lab = labelled_events(events, labels, floor, classifier, population)
    agg = lab.group_by("language").aggregate(
        tokens=lab.tokens.sum(),
        requests=lab.est_requests.sum(),
        labelled=lab.count(),
        users=lab.user_id.nunique(),
    )
    return agg.mutate(
        share=agg.tokens / agg.tokens.sum().over(), request_share=agg.requests / agg.requests.sum().over()
    ).order_by(ibis.desc("tokens"))
