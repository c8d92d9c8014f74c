"""Model size: open-weights tokens by size class."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.report.figure import Figure, Options, Partition, Period, on_frame, on_period
from tokencensus.report.headlines import Caveat, headline_share, largest_recent, published_rows
from tokencensus.report.numbers import fmt_pct
from tokencensus.report.sources import Sources, weekly_segments, with_users


def headline_size(frame: pd.DataFrame, period: Period | None = None) -> str:
    """The largest known size class in the last weeks, against the first weeks."""
    if frame.empty:
        return Caveat("No open-weights tokens in this period.")
    present = set(frame["segment"])
    known = [c for c in ("large", "medium", "small") if c in present] or ["unknown"]
    top = largest_recent(frame, "segment", known, period)  # a tie keeps the larger class (list order)
    subject = "Models of unknown size" if top == "unknown" else f"{top.capitalize()} models"
    return headline_share(frame, "segment", top, subject, of="open-weights tokens", period=period)


SIZES = ("small", "medium", "large")


def size_supply(s: Sources, _: Options) -> ir.Table:
    """Its cells are share_size's (the same tokens, shares and users) with the models served."""
    supply = analyses.market.size_supply(s.cells)
    return with_users(supply, s.users["share_size"], ["week", "segment"])


def headline_supply(frame: pd.DataFrame) -> str:
    """The last week's open-weights models by size class against each class's share of tokens."""
    rows = published_rows(frame)
    rows = rows[rows["segment"].isin(SIZES)]
    if rows.empty:
        return Caveat("No size class of open-weights models has published cells in this period.")
    last = max(rows["week"])
    week = rows[rows["week"] == last].set_index("segment")
    known = [c for c in SIZES if c in week.index]
    counts = ", ".join(f"{int(week.at[c, 'models'])} {c}" for c in known)
    models = {c: int(week.at[c, "models"]) for c in known}
    most = max(known, key=lambda c: models[c])
    busiest = max(known, key=lambda c: (float(week.at[c, "share"]), SIZES.index(c)))
    text = f"In the week of {last.isoformat()}, {counts} open-weights models served tokens"
    alone = list(models.values()).count(models[most]) == 1  # strictly the most numerous
    if most != busiest and alone:
        text += (
            f"; {most} models were the most numerous but carried {fmt_pct(week.at[most, 'share'])} of "
            f"open-weights tokens, {busiest} ones {fmt_pct(week.at[busiest, 'share'])}"
        )
    return text + "."


FIGURES = (
    Figure(
        "share_size",
        "Open-weights models by size",
        "size",
        "share",
        "Share within open-weights tokens only, by total parameters: small < 15B, medium 15–70B, "
        "large ≥ 70B; unknown when the catalog has no parameter count.",
        data=weekly_segments("share_size", lambda cells, _: analyses.share_size(cells)),
        headline=on_period(headline_size),
        segment=lambda cells, _: analyses.market.size_label(cells),
        partitions=(Partition(("week",), ("tokens",), "segments sum to the week's total (through shares)"),),
        category="segment",
        order=SIZES,
        trailing=("unknown",),
    ),
    Figure(
        "size_supply",
        "Open-weights models served, by size",
        "size",
        "category_lines",
        "Supply beside demand: the open-weights models of each size class that served any tokens in "
        "the week (its share of open-weights tokens is in the figure above and in the CSV). Size "
        "classes as above.",
        data=size_supply,
        headline=on_frame(headline_supply),
        category="segment",
        value="models",
        order=SIZES,
        trailing=("unknown",),
        percent=False,
        axis="Models served",
    ),
)
