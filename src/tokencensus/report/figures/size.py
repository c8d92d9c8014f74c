"""Model size: open-weights tokens by size class."""

from __future__ import annotations

import pandas as pd

from tokencensus import analyses
from tokencensus.report.figure import Figure, Partition, Period, on_period
from tokencensus.report.headlines import Caveat, headline_share, largest_recent
from tokencensus.report.sources import weekly_segments


def headline_size(frame: pd.DataFrame, period: Period | None = None) -> str:
    """The largest known size class in the last weeks, against the first weeks."""
    if frame.empty:
        return Caveat("No open-weights tokens in this period.")
    present = set(frame["segment"])
    known = [c for c in ("large", "medium", "small") if c in present] or ["unknown"]
    top = largest_recent(frame, "segment", known, period)  # a tie keeps the larger class (list order)
    subject = "Models of unknown size" if top == "unknown" else f"{top.capitalize()} models"
    return headline_share(frame, "segment", top, subject, of="open-weights tokens", period=period)


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
        order=("small", "medium", "large"),
        trailing=("unknown",),
    ),
)
