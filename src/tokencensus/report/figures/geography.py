"""Geography and language: where the accounts are, and what language their prompts are in."""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.definitions import UNKNOWN_SEGMENT
from tokencensus.report.disclosure import SEGMENTS_OF_WEEK
from tokencensus.report.figure import Figure, Options, Partition, Period, on_frame, on_period
from tokencensus.report.headlines import Caveat, headline_share, largest_recent, published_rows
from tokencensus.report.names import country_name, language_name
from tokencensus.report.numbers import fmt_pct
from tokencensus.report.sources import Sources, with_users


def geo_continent(s: Sources, _: Options) -> ir.Table:
    share = analyses.region_share(s.geo, "continent", "week")
    return with_users(share, s.users["geo_continent"], ["week", "continent"])


def continent_figure(fid: str, title: str, note: str, amount: str) -> Figure:
    """Each continent's weekly share of the tokens or of the spend: the same cells, two charts."""
    return Figure(
        fid,
        title,
        "geography",
        "share",
        note,
        data=geo_continent,
        headline=on_period(continent_headline(amount)),
        partitions=(SEGMENTS_OF_WEEK,),
        category="continent",
        value="spend_share" if amount == "spend" else "token_share",
        trailing=(UNKNOWN_SEGMENT,),
    )


def geo_country(s: Sources, _: Options) -> ir.Table:
    share = analyses.region_share(s.geo, "country", "month")
    return with_users(share, s.users["geo_country"], ["month", "country"])


def language(s: Sources, _: Options) -> ir.Table:
    assert s.labelled is not None
    assert s.labels is not None
    return analyses.language_share(s.labelled, s.labels, population=s.cells)


def continent_headline(amount: str) -> Callable[[pd.DataFrame, Period | None], str]:
    """The continent with most of the last weeks' tokens (or spend), against the first weeks."""
    share, verb = ("spend_share", "paid") if amount == "spend" else ("token_share", "carried")

    def headline(frame: pd.DataFrame, period: Period | None) -> str:
        if frame.empty or not (frame[amount].fillna(0) > 0).any():
            return Caveat(
                f"No {amount} in this period." if amount == "tokens" else "No request has a known cost."
            )
        known = sorted(set(frame["continent"].astype(str)) - {UNKNOWN_SEGMENT}) or [UNKNOWN_SEGMENT]
        top = largest_recent(frame, "continent", known, period, share=share, amount=amount)
        subject = "Accounts of unknown country" if top == UNKNOWN_SEGMENT else f"Accounts in {top}"
        return headline_share(
            frame, "continent", top, subject, verb=verb, of=amount, share=share, amount=amount, period=period
        )

    return headline


def headline_geo_country(frame: pd.DataFrame) -> str:
    """The last month's leading country and the top five's share."""
    if frame.empty:
        return Caveat("No tokens in this period.")
    last = max(frame["month"])
    month = published_rows(frame[frame["month"] == last])
    month = month[month["country"] != "Unknown"].sort_values(
        ["token_share", "country"], ascending=[False, True], kind="stable"
    )
    if month.empty:
        return Caveat(f"No country has a published share in {last.strftime('%B %Y')}.")
    lead = month.iloc[0]
    where = country_name(str(lead["country"]))
    text = f"In {last.strftime('%B %Y')}, accounts in {where} used {fmt_pct(lead['token_share'])} of tokens"
    if len(month) >= 5:
        text += f"; the top 5 countries together {fmt_pct(float(month['token_share'].head(5).sum()))}"
    return text + "."


def headline_language(frame: pd.DataFrame) -> str:
    """The leading prompt language and the next one."""
    published = published_rows(frame).sort_values(
        ["share", "language"], ascending=[False, True], kind="stable"
    )
    published = published[published["language"] != "und"]
    if published.empty:
        return Caveat("No language has a published share.")
    lead = published.iloc[0]
    name = language_name(str(lead["language"]))
    text = f"Prompts in {name} carried {fmt_pct(lead['share'])} of classified tokens"
    if len(published) > 1:
        nxt = published.iloc[1]
        text += f"; next came {language_name(str(nxt['language']))} with {fmt_pct(nxt['share'])}"
    return text + "."


FIGURES = (
    continent_figure(
        "geo_continent",
        "Tokens by continent",
        "Each continent's share of the week's tokens, by the account's country (ISO 3166-1; Unknown "
        "when the log has no country).",
        "tokens",
    ),
    continent_figure(
        "geo_spend",
        "Spend by continent",
        "Each continent's share of the week's spend (USD, over requests with a known cost), by the "
        "account's country; beside the token shares above, it shows where the money comes from.",
        "spend",
    ),
    Figure(
        "geo_country",
        "Top countries",
        "geography",
        "bars",
        "Each country's share of the last month's tokens (the account's country); the chart draws the "
        "15 largest, every month is in the CSV.",
        data=geo_country,
        headline=on_frame(headline_geo_country),
        partitions=(
            Partition(("month",), ("requests", "tokens", "spend"), "countries sum to the month"),
            Partition(
                (), ("requests", "tokens"), "countries sum to the period (the summary)", via_shares=False
            ),
        ),
        category="country",
        value="token_share",
        top=15,
    ),
    Figure(
        "language",
        "Prompt languages",
        "geography",
        "bars",
        "Share of classified tokens by the prompt's detected language (ISO 639 code; und = "
        "undetermined), over the whole period, weighted like the category shares.",
        data=language,
        headline=on_frame(headline_language),
        labels=True,
        partitions=(
            Partition((), ("tokens", "requests", "labelled"), "languages sum to the classified total"),
        ),
        category="language",
        top=15,
    ),
)
