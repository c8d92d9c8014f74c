"""Headlines: the one-sentence finding of each figure, computed from its published (suppressed) frame.

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

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from tokencensus.definitions import WINDOW_WEEKS
from tokencensus.report.figures import NO_MODEL, OTHER, FigureDef
from tokencensus.report.numbers import (
    fmt_count,
    fmt_pct,
    fmt_points,
    fmt_price,
    fmt_ratio,
    fmt_signed,
    fmt_tokens,
    missing,
)
from tokencensus.report.privacy import SUPPRESSED


class Caveat(str):
    """A headline that reports no finding (no data, suppressed, nothing flagged)."""


Period = tuple[date, date]
"""A report's first and last day (:class:`~tokencensus.report.data.ReportMeta`'s period)."""


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
_ONLY_WEEK_SUPPRESSED = "The only week of data is suppressed (fewer users than the privacy floor)."


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


def _windows(frame: pd.DataFrame, period: Period | None) -> Windows | None:
    """The windows of ``period``, or of the (non-empty) frame's own span when None."""
    return windows(period if period is not None else frame_period(frame))


def recent_weeks(frame: pd.DataFrame, win: Windows | None) -> tuple[date, ...]:
    """The last window's weeks, or all the frame's weeks when the period lies within one week."""
    return win.last if win else tuple(frame["week"])


def _has_rows(frame: pd.DataFrame, weeks: Sequence[date]) -> bool:
    """Whether any row (published or suppressed) falls in ``weeks``."""
    return bool(frame["week"].isin(weeks).any())


def _no_data(win: Windows, which: str, noun: str) -> str:
    """ "no requests in the last four weeks of the period (2025-11-03 … 2025-11-30)"."""
    return f"no {noun} in {_weeks(which, win.n)} of the period ({win.dates(which)})"


def _empty(win: Windows, which: str, noun: str) -> Caveat:
    """The caveat of a window without data."""
    text = _no_data(win, which, noun)
    return Caveat(text[0].upper() + text[1:] + ".")


def _weeks(which: str, n: int, noun: bool = True) -> str:
    """ "the first four weeks" / "the last four" / "the first week" / "the last"."""
    if n == 1:
        return f"the {which} week" if noun else f"the {which}"
    count = _NUMBERS.get(n, str(n))
    return f"the {which} {count} weeks" if noun else f"the {which} {count}"


def _change(now: float, then: float, n: int, fmt: Callable[[float], str] = fmt_pct) -> str:
    """ "up from 12% in the first four" / "the same as in the first four"."""
    now_s, then_s = fmt(now), fmt(then)
    if now_s == then_s:
        return f"the same as in {_weeks('first', n, noun=False)}"
    return f"{'up' if now > then else 'down'} from {then_s} in {_weeks('first', n, noun=False)}"


def _published(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[~frame[SUPPRESSED].astype(bool)]


def window_share(
    frame: pd.DataFrame,
    category: str,
    value: str,
    periods: Sequence[date],
    share: str = "share",
    key: str = "week",
) -> float | None:
    """Token-weighted share of ``value`` over ``periods`` (weeks, or months of a monthly frame with
    ``key="month"``): Σ its tokens / Σ the periods' totals.

    A period's total is recovered from any published cell (tokens / share). Periods where
    ``value``'s own cell is suppressed, or no cell is published, are left out; a period without a row
    for ``value`` counts as 0 (the analyses emit no row for a segment with no tokens).
    """
    num = den = 0.0
    for period in periods:
        rows = frame[frame[key] == period]
        published = rows[~rows[SUPPRESSED].astype(bool) & (rows[share] > 0)]
        if published.empty:
            continue
        total = float(published["tokens"].iloc[0]) / float(published[share].iloc[0])
        own = rows[rows[category] == value]
        if not own.empty and bool(own[SUPPRESSED].iloc[0]):
            continue
        num += float(own["tokens"].sum()) if not own.empty else 0.0
        den += total
    return num / den if den > 0 else None


def window_ratio(frame: pd.DataFrame, num: str, den: str, weeks: Sequence[date]) -> float | None:
    """Σ ``num`` / Σ ``den`` over the published rows of ``weeks`` (None when nothing is published)."""
    rows = _published(frame)
    rows = rows[rows["week"].isin(weeks)]
    total = float(rows[den].sum()) if not rows.empty else 0.0
    return float(rows[num].sum()) / total if total > 0 else None


def _compare(
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
    if not _has_rows(frame, win.first):
        return now, None
    then = measure(win.first)
    return None if then is None else (now, then)


def _trend(
    frame: pd.DataFrame,
    win: Windows | None,
    measure: Callable[[Sequence[date]], float | None],
    sentence: Callable[[str, str], str],
    fmt: Callable[[float], str] = fmt_pct,
    noun: str = "requests",
) -> str:
    """``sentence(value, "in the last four weeks, up from …")`` for a weekly measure."""
    if win is not None and not _has_rows(frame, win.last):
        return _empty(win, "last", noun)
    got = _compare(frame, win, measure)
    if got is None:
        return Caveat("Too few users in the first or last weeks to compare this measure.")
    now, then = got
    if win is None:
        return sentence(fmt(now), "in the single week of data")
    if then is None:
        return sentence(fmt(now), f"in {_weeks('last', win.n)}, with {_no_data(win, 'first', noun)}")
    return sentence(fmt(now), f"in {_weeks('last', win.n)}, {_change(now, then, win.n, fmt)}")


# ---------------------------------------------------------------- weekly totals and shares


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
    return float(_published(rows)["tokens"].sum()) / len(known)


def headline_volume(frame: pd.DataFrame, period: Period | None = None) -> str:
    """E.g. "Weekly token volume grew 4.2× from the first four weeks to the last four (…)."."""
    if frame.empty:
        return Caveat("No token volume in this period.")
    win = _windows(frame, period)
    published = _published(frame)
    if win is None:
        if published.empty:
            return Caveat(_ONLY_WEEK_SUPPRESSED)
        return f"{fmt_count(published['tokens'].iloc[0])} tokens in the single week of data."
    if not _has_rows(frame, win.last):
        return _empty(win, "last", "requests")
    now = _weekly_tokens(frame, win.last)
    if not _has_rows(frame, win.first) and now is not None:
        return (
            f"{fmt_count(now)} tokens a week in {_weeks('last', win.n)}, "
            f"with {_no_data(win, 'first', 'requests')}."
        )
    then = _weekly_tokens(frame, win.first)
    if then is None or now is None:
        return Caveat("Too few users in the first or last weeks to compare token volume.")
    if then == 0:
        return f"Weekly token volume rose from zero to {fmt_count(now)} tokens a week."
    span = f"from {_weeks('first', win.n)} to {_weeks('last', win.n, noun=False)}"
    a_week = f"(from {fmt_count(then)} to {fmt_count(now)} tokens a week)"
    ratio = now / then
    if fmt_ratio(ratio) == "1.0×":
        return f"Weekly token volume was flat {span} {a_week}."
    if ratio > 1:
        return f"Weekly token volume grew {fmt_ratio(ratio)} {span} {a_week}."
    return f"Weekly token volume fell {fmt_pct(1 - ratio)} {span} {a_week}."


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
    period: Period | None = None,
) -> str:
    """E.g. "Open-weights models carried 31% of tokens in the last four weeks, up from 12% in the first four."

    With ``complement`` the subject is everything *but* ``value`` (the top models vs Other).
    """
    if frame.empty:
        return Caveat("No tokens in this period.")

    def measure(weeks: Sequence[date]) -> float | None:
        s = window_share(frame, category, value, weeks, share)
        return None if s is None else (1 - s if complement else s)

    win = _windows(frame, period)
    if win is None:
        only = measure(list(frame["week"]))
        if only is None:
            return Caveat(_ONLY_WEEK_SUPPRESSED)
        return f"{subject} {verb} {fmt_pct(only)} of {of} in the single week of data."
    if not _has_rows(frame, win.last):
        return _empty(win, "last", of)
    now = measure(win.last)
    if now is None:
        return Caveat(f"Too few users in the last weeks to report this share ({subject.lower()}).")
    if not _has_rows(frame, win.first):
        when = f"in {_weeks('last', win.n)}, with {_no_data(win, 'first', of)}"
        return f"{subject} {verb} {fmt_pct(now)} of {of} {when}."
    then = measure(win.first)
    if then is None:
        return (
            f"{subject} {verb} {fmt_pct(now)} of {of} in {_weeks('last', win.n)} "
            f"({_weeks('first', win.n, noun=False)} are below the privacy floor)."
        )
    return f"{subject} {verb} {fmt_pct(now)} of {of} in {_weeks('last', win.n)}, {_change(now, then, win.n)}."


def _largest_recent(
    frame: pd.DataFrame, category: str, candidates: Sequence[str], period: Period | None, share: str = "share"
) -> str:
    """The candidate with the largest share over the last weeks (ties: the first candidate)."""
    recent = recent_weeks(frame, _windows(frame, period))
    shares = {c: window_share(frame, category, c, recent, share) or 0.0 for c in candidates}
    return max(candidates, key=lambda c: shares[c])


def headline_size(frame: pd.DataFrame, period: Period | None = None) -> str:
    """The largest known size class in the last weeks, against the first weeks."""
    if frame.empty:
        return Caveat("No open-weights tokens in this period.")
    present = set(frame["segment"])
    known = [c for c in ("large", "medium", "small") if c in present] or ["unknown"]
    top = _largest_recent(frame, "segment", known, period)  # a tie keeps the larger class (list order)
    subject = "Models of unknown size" if top == "unknown" else f"{top.capitalize()} models"
    return headline_share(frame, "segment", top, subject, of="open-weights tokens", period=period)


def headline_category(frame: pd.DataFrame, period: Period | None = None) -> str:
    """The largest category of the last month, against the first month (e.g. programming's rise):
    the period's first and last complete months when it has two, else the frame's first and last."""
    if frame.empty:
        return Caveat("No classified prompts in this period.")
    months = sorted(set(frame["month"]))
    if period is not None:
        complete = [m for m in months if m >= period[0] and _next_month(m) - timedelta(days=1) <= period[1]]
        months = complete if len(complete) >= 2 else months
    first, last = months[0], months[-1]

    def share(category: str, month: date) -> float | None:
        return window_share(frame, "segment", category, [month], key="month")

    known = sorted(set(frame["segment"]) - {"other"}) or ["other"]
    top = max(sorted(known, reverse=True), key=lambda c: share(c, last) or 0.0)  # ties: the later name
    now = share(top, last)
    if now is None:
        return Caveat(f"Too few users in {_month_name(last)} to report its category shares.")
    said = f"{_label(top).capitalize()} carried {fmt_pct(now)} of classified tokens in {_month_name(last)}"
    if len(months) == 1:
        return f"{said}, the only month of data."
    then = share(top, first)
    if then is None:
        return f"{said} ({_month_name(first)} is below the privacy floor)."
    if fmt_pct(now) == fmt_pct(then):
        return f"{said}, the same as in {_month_name(first)}."
    return f"{said}, {'up' if now > then else 'down'} from {fmt_pct(then)} in {_month_name(first)}."


def headline_category_corrected(frame: pd.DataFrame) -> str:
    """The largest category, raw and corrected, saying which estimate is headlined and why."""
    rows = _published(frame)
    if (rows["category"] != "other").any():
        rows = rows[rows["category"] != "other"]
    if rows.empty:
        return Caveat("No published category shares (too few users or no classified prompts).")
    errors = str(rows["errors"].iloc[0])
    withheld = bool(rows["headlined"].isna().any())  # blanked with a hidden category
    estimated = rows[rows["corrected_share"].notna()]
    on_traffic = not withheld and not estimated.empty and (rows["headlined"] == "corrected").all()
    pool, key = (estimated, "corrected_share") if on_traffic else (rows, "raw_share")
    top = pool.sort_values([key, "category"], ascending=[False, True], kind="stable").iloc[0]
    name = _label(top["category"])

    def est(prefix: str) -> str:
        low, high = fmt_pct(top[f"{prefix}_low"]), fmt_pct(top[f"{prefix}_high"])
        return f"{fmt_pct(top[f'{prefix}_share'])} (95% interval {low}–{high})"

    if on_traffic:
        return (
            f"Corrected for the classifier's errors on {errors}, {name} carried {est('corrected')} of "
            f"classified tokens, against {fmt_pct(top['raw_share'])} as labelled."
        )
    said = f"As labelled, {name} carried {est('raw')} of classified tokens"
    if withheld:
        return f"{said}; the corrected shares are withheld, as a category has too few users to publish."
    if errors == "not measured":
        return f"{said}; the classifier's errors are not measured, so the shares are not corrected."
    if missing(top["corrected_share"]):
        return f"{said}; the classifier's errors on it are not measured ({errors}), so it is not corrected."
    return (
        f"{said}; corrected with the errors measured on {errors} it would be {est('corrected')}. The raw "
        "share is headlined: those prompts are not this traffic's."
    )


def headline_author(frame: pd.DataFrame, period: Period | None = None) -> str:
    """The author with most tokens in the last weeks (models missing from the catalog excluded)."""
    if frame.empty:
        return Caveat("No tokens in this period.")
    authors = sorted(set(frame["author"].astype(str)) - {"unknown", "Unknown"}) or ["unknown"]
    top = _largest_recent(frame, "author", authors, period)
    return headline_share(frame, "author", top, f"Models by {top}", period=period)


def headline_new_models(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Share of tokens on models launched in the last N days."""
    launched = sorted(s for s in set(frame["segment"].astype(str)) if s.startswith("Launched"))
    if frame.empty or not launched:
        return Caveat("No tokens on newly launched models in this period.")
    seg = launched[0]
    return headline_share(frame, "segment", seg, "Models l" + seg[1:], period=period)


def headline_geo_continent(frame: pd.DataFrame, period: Period | None = None) -> str:
    """The continent with most tokens in the last weeks."""
    if frame.empty:
        return Caveat("No tokens in this period.")
    known = sorted(set(frame["continent"].astype(str)) - {"Unknown"}) or ["Unknown"]
    top = _largest_recent(frame, "continent", known, period, share="token_share")
    subject = "Accounts of unknown country" if top == "Unknown" else f"Accounts in {top}"
    return headline_share(frame, "continent", top, subject, share="token_share", period=period)


def headline_top_models(frame: pd.DataFrame) -> str:
    """E.g. "m1 led the last four weeks with 24% of tokens; the top 3 together carried 61%."."""
    if frame.empty:
        return Caveat("No models to rank in the last weeks of the period (none above the privacy floor).")
    ordered = frame.sort_values("rank", kind="stable")
    leader = ordered.iloc[0]
    text = f"{leader['model']} led {_weeks('last', WINDOW_WEEKS)} with {fmt_pct(leader['share'])} of tokens"
    top3 = ordered.head(3)
    if len(top3) == 3:
        text += f"; the top 3 together carried {fmt_pct(float(top3['share'].sum()))}"
    return text + "."


def headline_top_weekly(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Concentration: the share of the named top models (everything but Other)."""
    if frame.empty:
        return Caveat("No tokens in this period.")
    n = frame.loc[frame["model"] != OTHER, "model"].nunique()
    subject = f"The top {n} {'model' if n == 1 else 'models'}"
    return headline_share(frame, "model", OTHER, subject, complement=True, period=period)


def headline_leaderboard(frame: pd.DataFrame) -> str:
    """The last week's leader and its biggest climber."""
    if frame.empty:
        return Caveat("No models to rank in this period (none above the privacy floor).")
    last = max(frame["week"])
    week = frame[frame["week"] == last].sort_values("rank", kind="stable")
    leader = week.iloc[0]
    text = (
        f"In the week of {last.isoformat()}, {leader['model']} ranked first "
        f"with {fmt_pct(leader['share'])} of tokens"
    )
    movers = _published(week)
    movers = movers[movers["rank_change"].notna() & (movers["rank_change"] > 0)]
    if movers.empty:
        return text + "."
    best = movers.sort_values(["rank_change", "rank"], ascending=[False, True], kind="stable").iloc[0]
    places = int(best["rank_change"])
    return (
        f"{text}; the biggest climber, {best['model']}, rose {places} "
        f"{'place' if places == 1 else 'places'} to #{int(best['rank'])}."
    )


def headline_concentration(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Token-weighted top-5 share among open-weights models, and the effective number of models."""
    if frame.empty:
        return Caveat("No open-weights tokens in this period.")
    win = _windows(frame, period)
    weighted = frame.assign(_top5=frame["top5_share"] * frame["tokens"], _hhi=frame["hhi"] * frame["tokens"])
    text = _trend(
        weighted,
        win,
        lambda w: window_ratio(weighted, "_top5", "tokens", w),
        lambda v, when: f"The five largest open-weights models carried {v} of open-weights tokens {when}",
        noun="open-weights tokens",
    )
    if isinstance(text, Caveat):
        return text
    hhi = window_ratio(weighted, "_hhi", "tokens", recent_weeks(frame, win))
    if hhi:
        effective = f"{1 / hhi:.1f}" if 1 / hhi < 9.95 else f"{1 / hhi:.0f}"
        text += f"; the effective number of open models was {effective.removesuffix('.0')} (1 / HHI)"
    return text + "."


# ---------------------------------------------------------------- agentic use


def headline_reasoning(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Reasoning tokens' share of output tokens, over all models and within reasoning models."""
    if frame.empty:
        return Caveat("No tokens in this period.")
    win = _windows(frame, period)
    text = _trend(
        frame,
        win,
        lambda w: window_ratio(frame, "reasoning_tokens", "output_tokens", w),
        lambda v, when: f"Reasoning tokens made up {v} of output tokens {when}",
    )
    if isinstance(text, Caveat):
        return text
    weeks = recent_weeks(frame, win)
    rows = _published(frame)
    rows = rows[rows["week"].isin(weeks)]
    within = rows["reasoning_model_tokens"].sum()
    if within > 0:
        # the frame has no output tokens of reasoning models alone: weight their weekly shares by the
        # reasoning models' tokens instead
        share = float(
            (rows["reasoning_token_share_in_reasoning_models"] * rows["reasoning_model_tokens"]).sum()
        )
        text += f" ({fmt_pct(share / float(within))} within reasoning models)"
    return text + "."


def headline_tool_calls(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Share of requests ending in a tool call, and of tokens."""
    if frame.empty:
        return Caveat("No requests in this period.")
    win = _windows(frame, period)
    text = _trend(
        frame,
        win,
        lambda w: window_ratio(frame, "tool_call_requests", "requests", w),
        lambda v, when: f"Tool calls ended {v} of requests {when}",
    )
    if isinstance(text, Caveat):
        return text
    tokens = window_ratio(frame, "tool_call_tokens", "tokens", recent_weeks(frame, win))
    if tokens is not None:
        text += f", and those requests carried {fmt_pct(tokens)} of tokens"
    return text + "."


def headline_lengths(frame: pd.DataFrame, period: Period | None = None) -> str:
    """Mean prompt and completion tokens per request, last weeks against first weeks."""
    if frame.empty:
        return Caveat("No requests in this period.")
    win = _windows(frame, period)
    text = _trend(
        frame,
        win,
        lambda w: window_ratio(frame, "input_tokens", "requests", w),
        lambda v, when: f"Prompts averaged {v} tokens per request {when}",
        fmt=fmt_tokens,
    )
    if isinstance(text, Caveat):
        return text
    got = _compare(frame, win, lambda w: window_ratio(frame, "output_tokens", "requests", w))
    if got is not None:
        now, then = got
        text += f"; completions averaged {fmt_tokens(now)}"
        if then is not None and win is not None:
            text += f" ({_change(now, then, win.n, fmt_tokens)})"
    return text + "."


# ---------------------------------------------------------------- categories, geography, language

_SEGMENT_PHRASES = {
    "Open weights": "open-weights models",
    "Chinese open": "Chinese open models",
    "Rest-of-world open": "rest-of-world open models",
    "Proprietary": "proprietary models",
    "Unknown": "models missing from the catalog",
}


def headline_category_segments(frame: pd.DataFrame) -> str:
    """The leading category of proprietary and of open-weights models' classified tokens."""
    published = _published(frame)
    published = published[published["category"] != "other"]
    parts: list[str] = []
    for segment in ("Proprietary", "Open weights", "Chinese open"):
        rows = published[published["segment"] == segment]
        if rows.empty or len(parts) == 2:
            continue
        top = rows.sort_values(["share", "category"], ascending=[False, True], kind="stable").iloc[0]
        phrase = _SEGMENT_PHRASES[segment]
        parts.append(f"{_label(top['category'])} led {phrase}' classified tokens ({fmt_pct(top['share'])})")
    if not parts:
        return Caveat("No published category mix per segment.")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


@functools.cache
def _country_names() -> dict[str, str]:
    from tokencensus.analyses.geography import country_continents

    table = country_continents()
    return dict(zip(table["country"], table["name"], strict=True))


def country_name(code: str) -> str:
    """ "United States (US)"; the code alone when the package table does not know it."""
    name = _country_names().get(code)
    return f"{name} ({code})" if name else code


def headline_geo_country(frame: pd.DataFrame) -> str:
    """The last month's leading country and the top five's share."""
    if frame.empty:
        return Caveat("No tokens in this period.")
    last = max(frame["month"])
    month = _published(frame[frame["month"] == last])
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


LANGUAGES = {
    "ar": "Arabic", "bn": "Bengali", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish", "fr": "French", "he": "Hebrew",
    "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "ms": "Malay", "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "ru": "Russian", "sv": "Swedish", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian",
    "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip
"""Names of common ISO 639-1 codes for headlines; other codes are shown as they are."""


def language_name(code: str) -> str:
    """ "English (en)"; the code alone for codes not in :data:`LANGUAGES`."""
    name = LANGUAGES.get(code)
    return f"{name} ({code})" if name else code


def headline_language(frame: pd.DataFrame) -> str:
    """The leading prompt language and the next one."""
    published = _published(frame).sort_values(["share", "language"], ascending=[False, True], kind="stable")
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


# ---------------------------------------------------------------- cost vs usage


def headline_costs(frame: pd.DataFrame) -> str:
    """The price elasticity of usage across the published models (an association)."""
    from tokencensus.analyses.costs import fit_elasticity

    try:
        fit = fit_elasticity(_published(frame))
    except ValueError:
        return Caveat("Too few published models with a price to relate price and usage.")
    direction = "less" if fit.slope < 0 else "more"
    size = f"{abs(fit.slope):.1f}%" if abs(fit.slope) >= 0.05 else f"{abs(fit.slope):.2f}%"
    text = (
        f"Across {fit.n} models, a 1% higher price went with {size} {direction} usage "
        f"(elasticity {fmt_signed(fit.slope)}, 95% CI {fmt_signed(fit.ci_low)} to {fmt_signed(fit.ci_high)}"
    )
    if fit.ci_low <= 0 <= fit.ci_high:
        text += ", not distinguishable from zero"
    return text + "): an association across models, not the effect of a price change."


def headline_category_costs(frame: pd.DataFrame) -> str:
    """The most-used category and its price, and the priciest category."""
    published = _published(frame)
    priced = published[published["price_per_1m"].notna()]
    if priced.empty:
        return Caveat("No category has a published price.")
    used = priced.sort_values(["tokens", "category"], ascending=[False, True], kind="stable").iloc[0]
    dear = priced.sort_values(["price_per_1m", "category"], ascending=[False, True], kind="stable").iloc[0]
    text = (
        f"{_label(used['category']).capitalize()} carried the most classified tokens at "
        f"{fmt_price(used['price_per_1m'])} per million"
    )
    if dear["category"] != used["category"]:
        text += f"; the priciest category was {_label(dear['category'])} at {fmt_price(dear['price_per_1m'])}"
    return text + "."


# ---------------------------------------------------------------- retention


def headline_curves(frame: pd.DataFrame) -> str:
    """Month-1 retention: the best and the worst of the largest models."""
    month1 = _published(frame)
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


def headline_triangle(frame: pd.DataFrame, models: Sequence[str]) -> str:
    """Month-1 retention across the cohorts of the largest drawn model."""
    if not models:
        return Caveat("No published retention cohorts.")
    rows = _published(frame)
    rows = rows[(rows["model"] == models[0]) & (rows["k"] == 1)]
    rows = rows[~rows["left_censored"].astype(bool)].sort_values(["retention", "cohort"], kind="stable")
    if rows.empty:
        return Caveat(f"No published month-1 retention for {models[0]}'s cohorts.")
    low, high = rows.iloc[0], rows.iloc[-1]
    if len(rows) == 1:
        cohort = _month(low["cohort"])
        return f"{fmt_pct(low['retention'])} of {models[0]}'s {cohort} cohort came back a month later."
    return (
        f"Month-1 retention of {models[0]}'s cohorts ranged from {fmt_pct(low['retention'])} "
        f"({_month(low['cohort'])} cohort) to {fmt_pct(high['retention'])} ({_month(high['cohort'])}) "
        f"across {len(rows)} cohorts."
    )


def headline_glass_slipper(frame: pd.DataFrame) -> str:
    """The models whose launch cohort is foundational, and their lift."""
    published = _published(frame)
    flagged = published[published["foundational"].fillna(False).astype(bool)]
    flagged = flagged.sort_values(["lift", "model"], ascending=[False, True], kind="stable")
    if flagged.empty:
        return Caveat(f"No model among {len(published)} published has a foundational launch cohort.")
    if len(flagged) == 1:
        r = flagged.iloc[0]
        return (
            f"{r['model']} has a foundational launch cohort: {fmt_pct(r['launch_retention'])} of its "
            f"{_month(r['launch_cohort'])} launch users were active in month {int(r['k'])}, "
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
    published = _published(frame)
    flagged = published[published["boomerang"].fillna(False).astype(bool)]
    flagged = flagged.sort_values(["rise", "model"], ascending=[False, True], kind="stable")
    if flagged.empty:
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
    published = _published(frame)
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


# ---------------------------------------------------------------- dispatch


def _label(category: object) -> str:
    """A category slug as words: general_qa → general qa."""
    return str(category).replace("_", " ")


def _month(value: date) -> str:
    return value.strftime("%Y-%m")


def _month_name(value: date) -> str:
    return value.strftime("%B %Y")


def _next_month(value: date) -> date:
    return date(value.year + value.month // 12, value.month % 12 + 1, 1)


_WEEKLY: dict[str, Callable[[pd.DataFrame, Period | None], str]] = {
    "volume": headline_volume,
    "share_open": lambda f, p: headline_share(f, "segment", "Open weights", "Open-weights models", period=p),
    "share_origin": lambda f, p: headline_share(
        f, "segment", "Chinese open", "Chinese open-weights models", period=p
    ),
    "share_author": headline_author,
    "top_models_weekly": headline_top_weekly,
    "open_concentration": headline_concentration,
    "share_new_models": headline_new_models,
    "share_size": headline_size,
    "share_reasoning": lambda f, p: headline_share(
        f, "segment", "Reasoning", "Reasoning models", verb="served", period=p
    ),
    "reasoning": headline_reasoning,
    "tool_calls": headline_tool_calls,
    "lengths": headline_lengths,
    "share_category": headline_category,
    "geo_continent": headline_geo_continent,
}
"""Headlines comparing the first and last windows of the period (:func:`windows`)."""

_BY_ID: dict[str, Callable[[pd.DataFrame], str]] = {
    "top_models": headline_top_models,
    "leaderboard": headline_leaderboard,
    "category_corrected": headline_category_corrected,
    "category_segments": headline_category_segments,
    "geo_country": headline_geo_country,
    "language": headline_language,
    "cost_vs_usage": headline_costs,
    "category_costs": headline_category_costs,
    "retention_curves": headline_curves,
    "glass_slipper": headline_glass_slipper,
    "boomerang": headline_boomerang,
    "churn_flows": headline_flows,
}


def headline(
    fig: FigureDef, frame: pd.DataFrame, drawn: Sequence[str] = (), period: Period | None = None
) -> str:
    """The one-sentence finding of a figure, computed from its published (suppressed) frame.

    ``drawn`` names the categories the chart draws (the heatmap's models); ``period`` is the
    report's first and last day, whose calendar weeks the weekly headlines compare (None: the
    frame's own first to last week).
    """
    if fig.id == "retention_triangle":
        return headline_triangle(frame, drawn)
    weekly = _WEEKLY.get(fig.id)
    if weekly is not None:
        if "week" in frame.columns and pd.api.types.is_datetime64_any_dtype(frame["week"]):
            frame = frame.assign(week=frame["week"].dt.date)
        return weekly(frame, period)
    make = _BY_ID.get(fig.id)
    return make(frame) if make else ""
