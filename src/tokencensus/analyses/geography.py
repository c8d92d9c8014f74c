"""Geography: tokens and spend by continent and country over time, and language share.

Every function takes the enriched events table of :mod:`tokencensus.engine` and returns an Ibis
expression (never executed here). The country → continent table ships with the package
(``analyses/countries.csv``: ISO 3166-1 alpha-2, continent, English name; 249 ISO countries plus
XK for Kosovo) and travels into the expression as an Ibis memtable, so it works on any backend.

Definitions (DESIGN.md; docs/analyses.md):

* A request's **country** is its account's country (``country``, ISO alpha-2); its **continent**
  comes from the package table (Africa, Antarctica, Asia, Europe, North America, Oceania, South
  America; Turkey, Cyprus and the Caucasus count as Asia, Russia as Europe). A missing country is
  "Unknown"; a code the table does not know keeps its code and has continent "Unknown".
* **Token share** of a region in a period = its tokens / all tokens of the period; **spend share**
  likewise with ``cost_usd`` (requests without a cost count as 0 spend).
* **Language share** (from classifier labels) = the language's tokens / all labelled tokens of the
  week, over labelled requests only (unweighted).
* ``users`` = distinct non-null user ids behind a cell (the report's privacy floor).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import ibis
import ibis.expr.types as ir
import pandas as pd

from tokencensus.analyses.market import spend_sum, user_counts

UNKNOWN = "Unknown"
CONTINENTS = ("Africa", "Antarctica", "Asia", "Europe", "North America", "Oceania", "South America")
LEVELS = ("continent", "country")


@cache
def _rows() -> tuple[tuple[str, str, str], ...]:
    text = resources.files("tokencensus.analyses").joinpath("countries.csv").read_text("utf-8")
    return tuple((r["country"], r["continent"], r["name"]) for r in csv.DictReader(text.splitlines()))


def country_continents() -> pd.DataFrame:
    """The packaged table: country (ISO alpha-2), continent, name."""
    return pd.DataFrame(list(_rows()), columns=["country", "continent", "name"])


def continent_of(country: str | None) -> str:
    """Continent of an ISO alpha-2 code ("Unknown" for None or an unknown code)."""
    lookup = {c: k for c, k, _ in _rows()}
    return lookup.get((country or "").upper(), UNKNOWN)


def with_region(events: ir.Table) -> ir.Table:
    """Events with ``country`` ("Unknown" when missing) and ``continent`` from the package table."""
    table = ibis.memtable(
        {"geo_country": [c for c, _, _ in _rows()], "geo_continent": [k for _, k, _ in _rows()]}
    )
    joined = events.left_join(table, events.country == table.geo_country)
    return joined.mutate(
        country=joined.country.fill_null(UNKNOWN),
        continent=joined.geo_continent.fill_null(UNKNOWN),
    ).drop("geo_country", "geo_continent")


def region_share(events: ir.Table, level: str = "continent", period: str | None = "week") -> ir.Table:
    """Tokens, spend and requests by ``level`` ("continent" or "country") per ``period``.

    ``period`` is "week", "month" or None (the whole data). Columns: [period,] <level>, requests,
    tokens, spend, token_share, spend_share, users; shares are of the period's totals.
    """
    if level not in LEVELS:
        raise ValueError(f"level={level!r}; choose one of {LEVELS}")
    ev = with_region(events)
    keys = [period, level] if period else [level]
    cells = ev.group_by(keys).aggregate(
        requests=ev.requests.sum(),
        tokens=ev.tokens.sum(),
        spend=spend_sum(ev.cost_usd).fill_null(0.0),
        **user_counts(ev),
    )
    part = {"group_by": cells[period]} if period else {}
    tokens_total = cells.tokens.sum().over(**part)
    spend_total = cells.spend.sum().over(**part)
    f = "float64"
    return (
        cells.mutate(
            token_share=ibis.ifelse(tokens_total > 0, cells.tokens.cast(f) / tokens_total.cast(f), None),
            spend_share=ibis.ifelse(spend_total > 0, cells.spend / spend_total, None),
        )
        .select(*keys, "requests", "tokens", "spend", "token_share", "spend_share", "users")
        .order_by(keys)
    )


def language_share(events: ir.Table, labels: ir.Table) -> ir.Table:
    """Weekly share of labelled tokens by language (labels: request_id, language).

    Columns: week, language, tokens, share, users. Missing languages are "Unknown".
    """
    lab = labels.select(lab_id=labels.request_id, language=labels.language.fill_null(UNKNOWN))
    ev = events.inner_join(lab, events.request_id == lab.lab_id)
    cells = ev.group_by(["week", "language"]).aggregate(tokens=ev.tokens.sum(), users=ev.user_id.nunique())
    total = cells.tokens.sum().over(group_by=cells.week)
    return (
        cells.filter(total > 0)
        .mutate(share=cells.tokens.cast("float64") / total.cast("float64"))
        .select("week", "language", "tokens", "share", "users")
        .order_by(["week", "language"])
    )
