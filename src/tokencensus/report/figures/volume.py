"""Volume: the weekly token volume."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import ibis.expr.types as ir
import pandas as pd

from tokencensus import analyses
from tokencensus.report.disclosure import SUMS
from tokencensus.report.figure import Figure, Options, Partition, Period, on_period
from tokencensus.report.headlines import (
    ONLY_WEEK_SUPPRESSED,
    Caveat,
    empty_caveat,
    frame_windows,
    has_rows,
    no_data,
    published_rows,
    weeks_phrase,
)
from tokencensus.report.numbers import fmt_count, fmt_pct, fmt_ratio
from tokencensus.report.privacy import SUPPRESSED
from tokencensus.report.sources import Sources, with_users


def volume(s: Sources, _: Options) -> ir.Table:
    return with_users(analyses.weekly_volume(s.cells), s.users["all"], ["week"])


def _weekly_tokens(frame: pd.DataFrame, weeks: Sequence[date]) -> float | None:
    """Mean tokens a week over ``weeks``: a week without a row had none, a suppressed week is left
    out (None when every week with a row is suppressed)."""
    rows = frame[frame["week"].isin(weeks)]
    suppressed = rows[SUPPRESSED].astype(bool)
    if len(rows) and suppressed.all():  # the weeks left would be weeks without data: not a mean
        return None
    hidden = set(rows.loc[suppressed, "week"])
    known = [w for w in weeks if w not in hidden]
    if not known:
        return None
    return float(published_rows(rows)["tokens"].sum()) / len(known)


def headline_volume(frame: pd.DataFrame, period: Period | None = None) -> str:
    """E.g. "Weekly token volume grew 4.2× from the first four weeks to the last four (…)."."""
    if frame.empty:
        return Caveat("No token volume in this period.")
    win = frame_windows(frame, period)
    published = published_rows(frame)
    if win is None:
        if published.empty:
            return Caveat(ONLY_WEEK_SUPPRESSED)
        return f"{fmt_count(published['tokens'].iloc[0])} tokens in the single week of data."
    if not has_rows(frame, win.last):
        return empty_caveat(win, "last", "requests")
    now = _weekly_tokens(frame, win.last)
    if not has_rows(frame, win.first) and now is not None:
        return (
            f"{fmt_count(now)} tokens a week in {weeks_phrase('last', win.n)}, "
            f"with {no_data(win, 'first', 'requests')}."
        )
    then = _weekly_tokens(frame, win.first)
    if then is None or now is None:
        return Caveat("Too few users in the first or last weeks to compare token volume.")
    if then == 0:
        return f"Weekly token volume rose from zero to {fmt_count(now)} tokens a week."
    span = f"from {weeks_phrase('first', win.n)} to {weeks_phrase('last', win.n, noun=False)}"
    a_week = f"(from {fmt_count(then)} to {fmt_count(now)} tokens a week)"
    ratio = now / then
    if fmt_ratio(ratio) == "1.0×":
        return f"Weekly token volume was flat {span} {a_week}."
    if ratio > 1:
        return f"Weekly token volume grew {fmt_ratio(ratio)} {span} {a_week}."
    return f"Weekly token volume fell {fmt_pct(1 - ratio)} {span} {a_week}."


FIGURES = (
    Figure(
        "volume",
        "Weekly token volume",
        "volume",
        "volume",
        "Token volume = input + output tokens, summed per week (weeks start Monday, UTC). Output tokens "
        "include reasoning tokens.",
        data=volume,
        headline=on_period(headline_volume),
        partitions=(Partition((), SUMS, "weeks sum to the period's totals (the summary)", via_shares=False),),
    ),
)
