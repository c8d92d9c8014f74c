"""View-models of the report: figure definitions, the privacy floor, number formats and headlines.

Everything the templates show is decided here, as plain dataclasses of strings and frames, so that
the templates only loop and escape (coverage.py's html.py does the same). Nothing here depends on
the time of generation: the same results and meta give the same view, byte for byte.

Privacy: a published cell backed by fewer than ``min_users`` distinct users is *suppressed*: its
value columns (and its user count) are blanked and ``suppressed`` is True. Headlines, tables, charts
and CSVs are all computed from the suppressed frames, so nothing below the floor leaks through them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from tokencensus.errors import AnalysisError

WINDOW_WEEKS = 4
"""Headlines compare the first and the last this-many weeks of the period."""

SUPPRESSED = "suppressed"
"""Name of the boolean column :func:`suppress` adds, and the text tables show for a blanked cell."""

OTHER = "Other"
"""The top-models frames' label for every model outside the top N."""

KEY_COLUMNS = frozenset({"week", "rank"})
"""Numeric columns that identify a cell rather than measure it: never blanked."""


@dataclass(frozen=True)
class ReportMeta:
    """Facts about the whole report: its period, data size, and privacy floor.

    Deliberately holds nothing about when the report was generated, so output is deterministic.
    """

    period_start: date
    period_end: date
    requests: int
    tokens: int
    users: int
    models: int
    providers: int
    unresolved_share: float
    """Share of tokens whose model could not be resolved to a catalog entry."""
    min_users: int
    """The privacy floor k: cells backed by fewer distinct users are suppressed."""
    source: str = ""
    title: str = "State of AI — tokencensus"


@dataclass(frozen=True)
class FigureDef:
    """What one figure is: its id (= results key), title, chart kind and method note."""

    id: str
    title: str
    kind: str
    """"volume" (weekly stacked bars), "share" (weekly stacked area) or "ranking" (bars)."""
    note: str
    category: str | None = None
    """Column holding the stacked category (share figures) or None."""
    order: tuple[str, ...] = ()
    """Known categories in legend/stack order; others follow alphabetically."""
    trailing: tuple[str, ...] = ()
    """Categories kept last whatever their size (Unknown, Other)."""


FIGURES: tuple[FigureDef, ...] = (
    FigureDef(
        "volume",
        "Weekly token volume",
        "volume",
        "Token volume = input + output tokens, summed per week (weeks start Monday, UTC). Output tokens "
        "include reasoning tokens.",
    ),
    FigureDef(
        "share_open",
        "Open vs closed weights",
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
        "share",
        "Share of the week's tokens: open-weights models by the origin of their author (China vs the "
        "rest of the world), proprietary (closed-weights) models, and models missing from the catalog.",
        category="segment",
        order=("Chinese open", "Rest-of-world open", "Proprietary"),
        trailing=("Unknown",),
    ),
    FigureDef(
        "share_size",
        "Open-weights models by size",
        "share",
        "Share within open-weights tokens only, by total parameters: small < 15B, medium 15–70B, "
        "large ≥ 70B; unknown when the catalog has no parameter count.",
        category="segment",
        order=("small", "medium", "large"),
        trailing=("unknown",),
    ),
    FigureDef(
        "share_reasoning",
        "Reasoning models",
        "share",
        "Share of the week's tokens served by reasoning models (the catalog's reasoning flag), whatever "
        "the request asked for.",
        category="segment",
        order=("Reasoning", "Non-reasoning"),
    ),
    FigureDef(
        "share_category",
        "What people use AI for",
        "share",
        "Share of classified tokens by use-case category, from a deterministic sample of prompts "
        "(PII scrubbed, then classified); each label counts its request's tokens times its model's "
        "inverse sampling rate, and labels below the confidence floor count as other.",
        category="segment",
        trailing=("other",),
    ),
    FigureDef(
        "top_models",
        "Top models",
        "ranking",
        f"The models with most tokens over the last {WINDOW_WEEKS} weeks of the period; share is of all "
        "tokens in those weeks.",
    ),
    FigureDef(
        "top_models_weekly",
        "Top models over time",
        "share",
        "Weekly token share of the period's largest models; every other model is grouped as Other.",
        category="model",
        trailing=("Other",),
    ),
)
FIGURES_BY_ID: dict[str, FigureDef] = {fig.id: fig for fig in FIGURES}


@dataclass(frozen=True)
class Table:
    """A small data table, already formatted: header cells and rows of strings."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class FigureView:
    """One figure as shown: definition, headline, the published (suppressed) frame and a table."""

    figure: FigureDef
    headline: str
    frame: pd.DataFrame = field(repr=False)
    """The data the figure shows after suppression, in deterministic order: this is its CSV."""
    categories: tuple[str, ...]
    """Categories in legend/stack order (empty for volume and ranking)."""
    n_suppressed: int
    suppression_note: str
    table: Table
    table_caption: str

    @property
    def id(self) -> str:
        return self.figure.id

    @property
    def csv_path(self) -> str:
        """Path of the figure's CSV relative to the report."""
        return f"figures/{self.figure.id}.csv"

    @property
    def drawable(self) -> pd.DataFrame:
        """The rows a chart draws: suppressed cells are not drawn."""
        return self.frame[~self.frame[SUPPRESSED].astype(bool)]


@dataclass(frozen=True)
class Fact:
    """One line of the summary block; ``wide`` facts are sentences rather than numbers."""

    label: str
    value: str
    wide: bool = False


@dataclass(frozen=True)
class ReportView:
    """The whole report: summary facts and the figures, in order."""

    meta: ReportMeta
    summary: tuple[Fact, ...]
    figures: tuple[FigureView, ...]
    n_suppressed: int


# ---------------------------------------------------------------- privacy floor


def suppress(df: pd.DataFrame, min_users: int) -> tuple[pd.DataFrame, int]:
    """Blank every cell backed by fewer than ``min_users`` distinct users; return it and the count.

    A suppressed row keeps its keys (week, segment, model, rank, ...) but its numeric value columns
    (tokens, share, requests, users, ...) become missing, and the added ``suppressed`` column is True.
    Integer columns become nullable ``Int64`` so published values stay integers.
    """
    if "users" not in df.columns:
        raise AnalysisError(
            f"cannot apply the privacy floor: frame with columns {list(df.columns)} has no 'users' column; "
            "every analysis feeding the report must count distinct users per cell"
        )
    out = df.copy()
    mask = (out["users"].isna() | (out["users"] < min_users)).astype(bool).to_numpy()
    for col in out.columns:
        if col in KEY_COLUMNS or not pd.api.types.is_numeric_dtype(out[col]):
            continue
        if pd.api.types.is_bool_dtype(out[col]):
            continue
        if pd.api.types.is_integer_dtype(out[col]):
            out[col] = out[col].astype("Int64")
            out.loc[mask, col] = pd.NA
        else:
            out[col] = out[col].astype("float64")
            out.loc[mask, col] = math.nan
    out[SUPPRESSED] = mask
    return out, int(mask.sum())


def suppression_note(n: int, min_users: int) -> str:
    """E.g. "3 cells under 50 users suppressed" ("" when nothing was)."""
    if n == 0:
        return ""
    return f"{n} {'cell' if n == 1 else 'cells'} under {min_users} {_users(min_users)} suppressed"


def _users(n: int) -> str:
    return "user" if n == 1 else "users"


# ---------------------------------------------------------------- number formats

_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def fmt_count(value: float | int | None) -> str:
    """1.2T, 340B, 5.6M, 12K, 950 — two significant digits below 10 of a unit, whole units above."""
    if value is None or _missing(value):
        return ""
    v = float(value)
    sign, v = ("-" if v < 0 else ""), abs(v)
    for i, (size, unit) in enumerate(_UNITS):
        if v >= size * 0.9995:
            scaled = v / size
            text = f"{scaled:.1f}" if scaled < 9.95 else f"{scaled:.0f}"
            if text == "1000" and i > 0:  # 999.6B rounds up to the next unit
                return sign + "1" + _UNITS[i - 1][1]
            return sign + text.removesuffix(".0") + unit
    return sign + f"{v:.0f}"


def fmt_int(value: float | int | None) -> str:
    """An exact count with thousands separators: 12,345."""
    if value is None or _missing(value):
        return ""
    return f"{int(value):,}"


def fmt_pct(value: float | None) -> str:
    """31%, 4.5%, 0.3%, <0.1%, 0% — whole percents from 10%, one decimal below."""
    if value is None or _missing(value):
        return ""
    p = float(value) * 100
    if p == 0:
        return "0%"
    if abs(p) < 0.05:
        return "<0.1%"
    if abs(p) < 9.95:
        return f"{p:.1f}%"
    return f"{p:.0f}%"


def fmt_ratio(value: float) -> str:
    """4.2×, 12×."""
    return f"{value:.1f}×" if value < 9.95 else f"{value:.0f}×"


def _missing(value: object) -> bool:
    return value is pd.NA or (isinstance(value, float) and math.isnan(value))


# ---------------------------------------------------------------- windows and headlines


@dataclass(frozen=True)
class Windows:
    """The first and last ``n`` weeks of a figure's period (they never overlap)."""

    first: tuple[date, ...]
    last: tuple[date, ...]

    @property
    def n(self) -> int:
        return len(self.last)


_NUMBERS = {2: "two", 3: "three", 4: "four"}


def windows(weeks: Sequence[date], size: int = WINDOW_WEEKS) -> Windows | None:
    """First and last ``size`` weeks, shrunk so they do not overlap; None under two weeks."""
    ordered = sorted(set(weeks))
    n = min(size, len(ordered) // 2)
    if n == 0:
        return None
    return Windows(first=tuple(ordered[:n]), last=tuple(ordered[-n:]))


def _weeks(which: str, n: int, noun: bool = True) -> str:
    """ "the first four weeks" / "the last four" / "the first week" / "the last"."""
    if n == 1:
        return f"the {which} week" if noun else f"the {which}"
    count = _NUMBERS.get(n, str(n))
    return f"the {which} {count} weeks" if noun else f"the {which} {count}"


def _change(now: float, then: float, n: int) -> str:
    """ "up from 12% in the first four" / "the same as in the first four"."""
    now_s, then_s = fmt_pct(now), fmt_pct(then)
    if now_s == then_s:
        return f"the same as in {_weeks('first', n, noun=False)}"
    return f"{'up' if now > then else 'down'} from {then_s} in {_weeks('first', n, noun=False)}"


def window_share(frame: pd.DataFrame, category: str, value: str, weeks: Sequence[date]) -> float | None:
    """Token-weighted share of ``value`` over ``weeks``: Σ its tokens / Σ the weeks' totals.

    A week's total is recovered from any published cell (tokens / share). Weeks where ``value``'s
    own cell is suppressed, or no cell is published, are left out; a week without a row for
    ``value`` counts as 0 (the analyses emit no row for a segment with no tokens).
    """
    num = den = 0.0
    for week in weeks:
        rows = frame[frame["week"] == week]
        published = rows[~rows[SUPPRESSED] & (rows["share"] > 0)]
        if published.empty:
            continue
        total = float(published["tokens"].iloc[0]) / float(published["share"].iloc[0])
        own = rows[rows[category] == value]
        if not own.empty and bool(own[SUPPRESSED].iloc[0]):
            continue
        num += float(own["tokens"].sum()) if not own.empty else 0.0
        den += total
    return num / den if den > 0 else None


def headline_volume(frame: pd.DataFrame) -> str:
    """E.g. "Weekly token volume grew 4.2× from the first four weeks to the last four (…)."."""
    if frame.empty:
        return "No token volume in this period."
    win = windows(list(frame["week"]))
    published = frame[~frame[SUPPRESSED]]
    if win is None:
        if published.empty:
            return _ONLY_WEEK_SUPPRESSED
        return f"{fmt_count(published['tokens'].iloc[0])} tokens in the single week of data."
    first = published[published["week"].isin(win.first)]["tokens"]
    last = published[published["week"].isin(win.last)]["tokens"]
    if first.empty or last.empty:
        return "Too few users in the first or last weeks to compare token volume."
    then, now = float(first.mean()), float(last.mean())
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


_ONLY_WEEK_SUPPRESSED = "The only week of data is suppressed (fewer users than the privacy floor)."


def headline_share(
    frame: pd.DataFrame,
    category: str,
    value: str,
    subject: str,
    *,
    verb: str = "carried",
    of: str = "tokens",
    complement: bool = False,
) -> str:
    """E.g. "Open-weights models carried 31% of tokens in the last four weeks, up from 12% in the first four."

    With ``complement`` the subject is everything *but* ``value`` (the top models vs Other).
    """
    if frame.empty:
        return "No tokens in this period."

    def share(weeks: Sequence[date]) -> float | None:
        s = window_share(frame, category, value, weeks)
        return None if s is None else (1 - s if complement else s)

    win = windows(list(frame["week"]))
    if win is None:
        only = share(list(frame["week"]))
        if only is None:
            return _ONLY_WEEK_SUPPRESSED
        return f"{subject} {verb} {fmt_pct(only)} of {of} in the single week of data."
    then, now = share(win.first), share(win.last)
    if then is None or now is None:
        return f"Too few users in the first or last weeks to compare this share ({subject.lower()})."
    return f"{subject} {verb} {fmt_pct(now)} of {of} in {_weeks('last', win.n)}, {_change(now, then, win.n)}."


def headline_size(frame: pd.DataFrame) -> str:
    """The largest known size class in the last weeks, against the first weeks."""
    if frame.empty:
        return "No open-weights tokens in this period."
    win = windows(list(frame["week"]))
    recent = win.last if win else tuple(frame["week"])
    present = set(frame["segment"])
    known = [c for c in ("large", "medium", "small") if c in present] or ["unknown"]
    shares = {c: window_share(frame, "segment", c, recent) or 0.0 for c in known}
    top = max(known, key=lambda c: shares[c])  # a tie keeps the larger class (list order)
    subject = "Models of unknown size" if top == "unknown" else f"{top.capitalize()} models"
    return headline_share(frame, "segment", top, subject, of="open-weights tokens")


def headline_category(frame: pd.DataFrame) -> str:
    """The largest category of the last weeks, against the first weeks (e.g. programming's rise)."""
    if frame.empty:
        return "No classified prompts in this period."
    win = windows(list(frame["week"]))
    recent = win.last if win else tuple(frame["week"])
    known = sorted(set(frame["segment"]) - {"other"}) or ["other"]
    shares = {c: window_share(frame, "segment", c, recent) or 0.0 for c in known}
    top = max(known, key=lambda c: (shares[c], c))
    return headline_share(frame, "segment", top, top.replace("_", " ").capitalize(), of="classified tokens")


def headline_top_models(frame: pd.DataFrame) -> str:
    """E.g. "m1 led the last four weeks with 24% of tokens; the top 3 together carried 61%."."""
    if frame.empty:
        return "No models in the last weeks of the period."
    ordered = frame.sort_values("rank", kind="stable")
    leader = ordered.iloc[0]
    if bool(leader[SUPPRESSED]):
        return "The leading model is backed by fewer users than the privacy floor and is suppressed."
    text = f"{leader['model']} led {_weeks('last', WINDOW_WEEKS)} with {fmt_pct(leader['share'])} of tokens"
    top3 = ordered.head(3)
    if len(top3) == 3 and not top3[SUPPRESSED].any():
        text += f"; the top 3 together carried {fmt_pct(float(top3['share'].sum()))}"
    return text + "."


def headline_top_weekly(frame: pd.DataFrame) -> str:
    """Concentration: the share of the named top models (everything but Other)."""
    if frame.empty:
        return "No tokens in this period."
    n = frame.loc[frame["model"] != OTHER, "model"].nunique()
    subject = f"The top {n} {'model' if n == 1 else 'models'}"
    return headline_share(frame, "model", OTHER, subject, complement=True)


def headline(fig: FigureDef, frame: pd.DataFrame) -> str:
    """The one-sentence finding of a figure, computed from its published (suppressed) frame."""
    if fig.id == "volume":
        return headline_volume(frame)
    if fig.id == "share_open":
        return headline_share(frame, "segment", "Open weights", "Open-weights models")
    if fig.id == "share_origin":
        return headline_share(frame, "segment", "Chinese open", "Chinese open-weights models")
    if fig.id == "share_size":
        return headline_size(frame)
    if fig.id == "share_reasoning":
        return headline_share(frame, "segment", "Reasoning", "Reasoning models", verb="served")
    if fig.id == "share_category":
        return headline_category(frame)
    if fig.id == "top_models":
        return headline_top_models(frame)
    if fig.id == "top_models_weekly":
        return headline_top_weekly(frame)
    return ""


# ---------------------------------------------------------------- view-models


def report_view(results: Mapping[str, pd.DataFrame], meta: ReportMeta) -> ReportView:
    """Build every figure present in ``results`` (in report order) and the summary block.

    Keys of ``results`` that are not in :data:`FIGURES` are ignored; missing keys skip their figure.
    """
    figures = tuple(figure_view(fig, results[fig.id], meta.min_users) for fig in FIGURES if fig.id in results)
    n_suppressed = sum(f.n_suppressed for f in figures)
    return ReportView(
        meta=meta, summary=summary(meta, n_suppressed), figures=figures, n_suppressed=n_suppressed
    )


def summary(meta: ReportMeta, n_suppressed: int) -> tuple[Fact, ...]:
    """The summary block: period, data size, unresolved share and the privacy floor."""
    floor = f"cells backed by fewer than {meta.min_users} distinct {_users(meta.min_users)} are suppressed"
    cells = f"{n_suppressed} {'cell' if n_suppressed == 1 else 'cells'} suppressed in this report"
    items = [
        Fact("Period", f"{meta.period_start.isoformat()} to {meta.period_end.isoformat()}", wide=True),
        Fact("Requests", fmt_count(meta.requests)),
        Fact("Tokens", fmt_count(meta.tokens)),
        Fact("Users", fmt_count(meta.users)),
        Fact("Models", fmt_int(meta.models)),
        Fact("Providers", fmt_int(meta.providers)),
        Fact("Unresolved models", f"{fmt_pct(meta.unresolved_share)} of tokens"),
        Fact("Privacy floor", f"{floor} ({cells})", wide=True),
    ]
    if meta.source:
        items.append(Fact("Source", meta.source, wide=True))
    return tuple(items)


def figure_view(fig: FigureDef, raw: pd.DataFrame, min_users: int) -> FigureView:
    """Suppress, order and describe one figure's frame."""
    frame, n = suppress(_ordered(fig, raw), min_users)
    categories = category_order(fig, frame)
    table, caption = figure_table(fig, frame, categories)
    return FigureView(
        figure=fig,
        headline=headline(fig, frame),
        frame=frame,
        categories=categories,
        n_suppressed=n,
        suppression_note=suppression_note(n, min_users),
        table=table,
        table_caption=caption,
    )


def _ordered(fig: FigureDef, raw: pd.DataFrame) -> pd.DataFrame:
    """Weeks as dates and rows in a fixed order (by week then category, or by rank)."""
    frame = raw.copy()
    if "week" in frame.columns and pd.api.types.is_datetime64_any_dtype(frame["week"]):
        frame["week"] = frame["week"].dt.date
    keys = [c for c in ("week", fig.category, "rank") if c and c in frame.columns]
    if fig.kind == "ranking" and "model" in frame.columns:
        keys.append("model")
    if keys:
        frame = frame.sort_values(keys, kind="stable")
    return frame.reset_index(drop=True)


def category_order(fig: FigureDef, frame: pd.DataFrame) -> tuple[str, ...]:
    """Known categories in their order, then the rest by published tokens (desc, then name), then
    the trailing ones (Unknown, Other)."""
    if fig.category is None or frame.empty:
        return ()
    present = set(frame[fig.category].astype(str))
    published = frame[~frame[SUPPRESSED]]
    totals = published.groupby(published[fig.category].astype(str))["tokens"].sum()
    rest = sorted(
        (c for c in present if c not in fig.order and c not in fig.trailing),
        key=lambda c: (-float(totals.get(c, 0) or 0), c),
    )
    known = [c for c in fig.order if c in present]
    trailing = [c for c in fig.trailing if c in present]
    return tuple(known + rest + trailing)


def figure_table(fig: FigureDef, frame: pd.DataFrame, categories: Sequence[str]) -> tuple[Table, str]:
    """A small table of what the chart shows: the last weeks, or the ranking."""
    if frame.empty:
        return Table((), ()), ""
    if fig.kind == "ranking":
        rows = tuple(
            (str(r["rank"]), str(r["model"]), str(r["author"]), *_values(r, ("tokens", "share")))
            for r in frame.to_dict("records")
        )
        return Table(("Rank", "Model", "Author", "Tokens", "Share"), rows), f"Last {WINDOW_WEEKS} weeks."
    weeks = sorted(set(frame["week"]))[-WINDOW_WEEKS:]
    recent = frame[frame["week"].isin(weeks)]
    caption = f"Last {len(weeks)} {'week' if len(weeks) == 1 else 'weeks'} shown; every week is in the CSV."
    if fig.kind == "volume":
        cols = ("requests", "input_tokens", "output_tokens", "tokens", "users")
        rows = tuple((r["week"].isoformat(), *_values(r, cols)) for r in recent.to_dict("records"))
        header = ("Week", "Requests", "Input tokens", "Output tokens", "Tokens", "Users")
        return Table(header, rows), caption
    assert fig.category is not None
    cells = {(r["week"], str(r[fig.category])): r for r in recent.to_dict("records")}
    share_rows = []
    for cat in categories:
        row = [cat]
        for week in weeks:
            rec = cells.get((week, cat))
            row.append("–" if rec is None else _values(rec, ("share",))[0])
        share_rows.append(tuple(row))
    header = (fig.category.capitalize(), *(w.isoformat() for w in weeks))
    return Table(header, tuple(share_rows)), caption


def _values(record: Mapping[str, object], cols: Sequence[str]) -> tuple[str, ...]:
    if record[SUPPRESSED]:
        return tuple(SUPPRESSED for _ in cols)
    return tuple(fmt_pct(record[c]) if c == "share" else fmt_count(record[c]) for c in cols)  # type: ignore[arg-type]
