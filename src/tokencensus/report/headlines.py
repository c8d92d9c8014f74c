"""Headlines: what the one-sentence findings of the figures share (each figure's own sentence is in
its module of :mod:`tokencensus.report.figures`), computed from the published (suppressed) frame.

Weekly figures compare the first and the last :data:`WINDOW_WEEKS` calendar weeks of the report's
period (:func:`windows`), weighting weeks by their tokens (or requests): a share over a window is
Σ the segment's tokens / Σ the weeks' tokens, not a mean of weekly shares. The windows are the
period's weeks, not the weeks that happen to have data: on sparse data a window may hold fewer
weeks of data, or none, and a headline then says so rather than compare other weeks. Only
published cells enter a sum; a suppressed cell is left out with its whole week, so a headline never
depends on a value below the privacy floor.

A sentence that states no finding (no data, everything suppressed, nothing flagged) is a
:class:`Caveat`: it is still shown under its figure but never picked for the summary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from tokencensus.definitions import WINDOW_WEEKS
from tokencensus.report.figure import Figure, Period, Shown
from tokencensus.report.numbers import (
    fmt_pct,
)
from tokencensus.report.privacy import SUPPRESSED


class Caveat(str):
    """A headline that reports no finding (no data, suppressed, nothing flagged)."""


@dataclass(frozen=True)
class Windows:
    """The first and last ``n`` calendar weeks of a period (they never overlap).

    ``first`` and ``last`` hold the weeks' Mondays, whether or not a frame has rows for them;
    ``period`` is the period they were cut from.
    """

    first: tuple[date, ...]
    last: tuple[date, ...]
    period: Period

    @property
    def n(self) -> int:
        return len(self.last)

    def dates(self, which: str) -> str:
        """ "2025-11-03 … 2025-11-30": the days of the first or last window, within the period."""
        weeks = self.first if which == "first" else self.last
        start, end = max(weeks[0], self.period[0]), min(weeks[-1] + timedelta(days=6), self.period[1])
        return f"{start.isoformat()} … {end.isoformat()}"


_NUMBERS = {2: "two", 3: "three", 4: "four"}
ONLY_WEEK_SUPPRESSED = "The only week of data is suppressed (fewer users than the privacy floor)."


def week_start(day: date) -> date:
    """The Monday of ``day``'s week: weeks start on Monday (UTC), as the events' ``week`` does."""
    return day - timedelta(days=day.weekday())


def windows(period: Period, size: int = WINDOW_WEEKS) -> Windows | None:
    """The first and last ``size`` calendar weeks of ``period``, shrunk so they do not overlap.

    The weeks are counted on the calendar from the period's first and last days, whether or not
    they have data. None when the period lies within one week.
    """
    first, last = week_start(period[0]), week_start(period[1])
    n = min(size, ((last - first).days // 7 + 1) // 2)
    if n == 0:
        return None
    return Windows(
        first=tuple(first + timedelta(weeks=i) for i in range(n)),
        last=tuple(last - timedelta(weeks=n - 1 - i) for i in range(n)),
        period=period,
    )


def frame_period(frame: pd.DataFrame) -> Period:
    """A weekly frame's own span, first week's Monday to last week's Sunday: the period of a
    headline computed without the report's."""
    weeks = sorted(set(frame["week"]))
    return weeks[0], weeks[-1] + timedelta(days=6)


def frame_windows(frame: pd.DataFrame, period: Period | None) -> Windows | None:
    """The windows of ``period``, or of the (non-empty) frame's own span when None."""
    return windows(period if period is not None else frame_period(frame))


def recent_weeks(frame: pd.DataFrame, win: Windows | None) -> tuple[date, ...]:
    """The last window's weeks, or all the frame's weeks when the period lies within one week."""
    return win.last if win else tuple(frame["week"])


def has_rows(frame: pd.DataFrame, weeks: Sequence[date]) -> bool:
    """Whether any row (published or suppressed) falls in ``weeks``."""
    return bool(frame["week"].isin(weeks).any())


def no_data(win: Windows, which: str, noun: str) -> str:
    """ "no requests in the last four weeks of the period (2025-11-03 … 2025-11-30)"."""
    return f"no {noun} in {weeks_phrase(which, win.n)} of the period ({win.dates(which)})"


def empty_caveat(win: Windows, which: str, noun: str) -> Caveat:
    """The caveat of a window without data."""
    text = no_data(win, which, noun)
    return Caveat(text[0].upper() + text[1:] + ".")


def weeks_phrase(which: str, n: int, noun: bool = True) -> str:
    """ "the first four weeks" / "the last four" / "the first week" / "the last"."""
    if n == 1:
        return f"the {which} week" if noun else f"the {which}"
    count = _NUMBERS.get(n, str(n))
    return f"the {which} {count} weeks" if noun else f"the {which} {count}"


def change(now: float, then: float, n: int, fmt: Callable[[float], str] = fmt_pct) -> str:
    """ "up from 12% in the first four" / "the same as in the first four"."""
    now_s, then_s = fmt(now), fmt(then)
    if now_s == then_s:
        return f"the same as in {weeks_phrase('first', n, noun=False)}"
    return f"{'up' if now > then else 'down'} from {then_s} in {weeks_phrase('first', n, noun=False)}"


def published_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[~frame[SUPPRESSED].astype(bool)]


def window_share(
    frame: pd.DataFrame,
    category: str,
    value: str,
    periods: Sequence[date],
    share: str = "share",
    key: str = "week",
    amount: str = "tokens",
) -> float | None:
    """Token-weighted share of ``value`` over ``periods`` (weeks, or months of a monthly frame with
    ``key="month"``): Σ its tokens / Σ the periods' totals (``amount``: spend for a share of spend).

    A period's total is recovered from any published cell (amount / share). Periods where
    ``value``'s own cell is suppressed, or no cell is published, are left out; a period without a row
    for ``value`` counts as 0 (the analyses emit no row for a segment with no tokens).
    """
    num = den = 0.0
    for period in periods:
        rows = frame[frame[key] == period]
        published = rows[~rows[SUPPRESSED].astype(bool) & (rows[share] > 0)]
        if published.empty:
            continue
        total = float(published[amount].iloc[0]) / float(published[share].iloc[0])
        own = rows[rows[category] == value]
        if not own.empty and bool(own[SUPPRESSED].iloc[0]):
            continue
        num += float(own[amount].sum()) if not own.empty else 0.0
        den += total
    return num / den if den > 0 else None


def window_ratio(frame: pd.DataFrame, num: str, den: str, weeks: Sequence[date]) -> float | None:
    """Σ ``num`` / Σ ``den`` over the published rows of ``weeks`` (None when nothing is published)."""
    rows = published_rows(frame)
    rows = rows[rows["week"].isin(weeks)]
    total = float(rows[den].sum()) if not rows.empty else 0.0
    return float(rows[num].sum()) / total if total > 0 else None


def compare(
    frame: pd.DataFrame, win: Windows | None, measure: Callable[[Sequence[date]], float | None]
) -> tuple[float, float | None] | None:
    """(last-window value, first-window value) of a weekly measure; the first is None when the
    first window has no data (or there are no two windows: the value is then over all weeks).
    None when a window with data has no published value."""
    if win is None:
        only = measure(list(frame["week"]))
        return None if only is None else (only, None)
    now = measure(win.last)
    if now is None:
        return None
    if not has_rows(frame, win.first):
        return now, None
    then = measure(win.first)
    return None if then is None else (now, then)


def trend(
    frame: pd.DataFrame,
    win: Windows | None,
    measure: Callable[[Sequence[date]], float | None],
    sentence: Callable[[str, str], str],
    fmt: Callable[[float], str] = fmt_pct,
    noun: str = "requests",
) -> str:
    """``sentence(value, "in the last four weeks, up from …")`` for a weekly measure."""
    if win is not None and not has_rows(frame, win.last):
        return empty_caveat(win, "last", noun)
    got = compare(frame, win, measure)
    if got is None:
        return Caveat("Too few users in the first or last weeks to compare this measure.")
    now, then = got
    if win is None:
        return sentence(fmt(now), "in the single week of data")
    if then is None:
        return sentence(fmt(now), f"in {weeks_phrase('last', win.n)}, with {no_data(win, 'first', noun)}")
    return sentence(fmt(now), f"in {weeks_phrase('last', win.n)}, {change(now, then, win.n, fmt)}")


def headline_share(
    frame: pd.DataFrame,
    category: str,
    value: str,
    subject: str,
    *,
    verb: str = "carried",
    of: str = "tokens",
    complement: bool = False,
    share: str = "share",
    amount: str = "tokens",
    period: Period | None = None,
) -> str:
    """E.g. "Open-weights models carried 31% of tokens in the last four weeks, up from 12% in the first four."

    With ``complement`` the subject is everything *but* ``value`` (the top models vs Other).
    """
    if frame.empty:
        return Caveat("No tokens in this period.")

    def measure(weeks: Sequence[date]) -> float | None:
        s = window_share(frame, category, value, weeks, share, amount=amount)
        return None if s is None else (1 - s if complement else s)

    win = frame_windows(frame, period)
    if win is None:
        only = measure(list(frame["week"]))
        if only is None:
            return Caveat(ONLY_WEEK_SUPPRESSED)
        return f"{subject} {verb} {fmt_pct(only)} of {of} in the single week of data."
    if not has_rows(frame, win.last):
        return empty_caveat(win, "last", of)
    now = measure(win.last)
    if now is None:
        return Caveat(f"{subject}: too few users in the last weeks to report their share of {of}.")
    if not has_rows(frame, win.first):
        when = f"in {weeks_phrase('last', win.n)}, with {no_data(win, 'first', of)}"
        return f"{subject} {verb} {fmt_pct(now)} of {of} {when}."
    then = measure(win.first)
    if then is None:
        return (
            f"{subject} {verb} {fmt_pct(now)} of {of} in {weeks_phrase('last', win.n)} "
            f"({weeks_phrase('first', win.n, noun=False)} are below the privacy floor)."
        )
    last = weeks_phrase("last", win.n)
    return f"{subject} {verb} {fmt_pct(now)} of {of} in {last}, {change(now, then, win.n)}."


def largest_recent(
    frame: pd.DataFrame,
    category: str,
    candidates: Sequence[str],
    period: Period | None,
    share: str = "share",
    amount: str = "tokens",
) -> str:
    """The candidate with the largest share over the last weeks (ties: the first candidate)."""
    recent = recent_weeks(frame, frame_windows(frame, period))
    shares = {c: window_share(frame, category, c, recent, share, amount=amount) or 0.0 for c in candidates}
    return max(candidates, key=lambda c: shares[c])


def compared_months(frame: pd.DataFrame, period: Period | None) -> list[date]:
    """A monthly frame's months to compare: the period's complete months when it has two, else the
    frame's months."""
    months = sorted(set(frame["month"]))
    if period is not None:
        complete = [m for m in months if m >= period[0] and next_month(m) - timedelta(days=1) <= period[1]]
        months = complete if len(complete) >= 2 else months
    return months


def headline_month_share(
    frame: pd.DataFrame,
    value: str,
    subject: str,
    of: str,
    period: Period | None = None,
) -> str:
    """E.g. "Programming carried 41% of classified tokens in May 2025, up from 12% in June 2024":
    ``value``'s share (of the ``segment`` column) in the last month against the first
    (:func:`compared_months`), or against the first month whose share is published when the first
    is below the privacy floor."""
    if frame.empty:
        return Caveat(f"No {of} in this period.")
    months = compared_months(frame, period)
    first, last = months[0], months[-1]
    now = window_share(frame, "segment", value, [last], key="month")
    if now is None:
        return Caveat(f"Too few users in {month_name(last)} to report these shares.")
    said = f"{subject} carried {fmt_pct(now)} of {of} in {month_name(last)}"
    if len(months) == 1:
        return f"{said}, the only month of data."
    then = window_share(frame, "segment", value, [first], key="month")
    if then is None:
        shares = ((m, window_share(frame, "segment", value, [m], key="month")) for m in months[1:-1])
        first, then = next(((m, s) for m, s in shares if s is not None), (first, None))
    if then is None:
        return f"{said} (earlier months are below the privacy floor)."
    if fmt_pct(now) == fmt_pct(then):
        return f"{said}, the same as in {month_name(first)}."
    return f"{said}, {'up' if now > then else 'down'} from {fmt_pct(then)} in {month_name(first)}."


def headline_top_category(frame: pd.DataFrame, period: Period | None, of: str) -> str:
    """The category with the largest share of the last month (``other`` only when alone), against
    the first month."""
    if frame.empty:
        return Caveat("No classified prompts in this period.")
    last = compared_months(frame, period)[-1]
    known = sorted(set(frame["segment"]) - {"other"}) or ["other"]
    top = max(  # ties: the later name
        sorted(known, reverse=True),
        key=lambda c: window_share(frame, "segment", c, [last], key="month") or 0.0,
    )
    if window_share(frame, "segment", top, [last], key="month") is None:
        return Caveat(f"Too few users in {month_name(last)} to report its category shares.")
    return headline_month_share(frame, top, words(top).capitalize(), of, period)


# ---------------------------------------------------------------- words


def words(category: object) -> str:
    """A category slug as words: general_qa → general qa."""
    return str(category).replace("_", " ")


def month_iso(value: date) -> str:
    return value.strftime("%Y-%m")


def month_name(value: date) -> str:
    return value.strftime("%B %Y")


def next_month(value: date) -> date:
    return date(value.year + value.month // 12, value.month % 12 + 1, 1)


def headline(
    fig: Figure, frame: pd.DataFrame, drawn: Sequence[str] = (), period: Period | None = None
) -> str:
    """The one-sentence finding of a figure (its :attr:`Figure.headline`), computed from its
    published (suppressed) frame; "" for a figure without one.

    ``drawn`` names the categories the chart draws (the heatmap's models); ``period`` is the
    report's first and last day, whose calendar weeks the weekly headlines compare (None: the
    frame's own first to last week).
    """
    if fig.headline is None:
        return ""
    if "week" in frame.columns and pd.api.types.is_datetime64_any_dtype(frame["week"]):
        frame = frame.assign(week=frame["week"].dt.date)
    return fig.headline(frame, Shown(period=period, drawn=tuple(drawn)))
