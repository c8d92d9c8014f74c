"""Complementary suppression: a privacy floor that survives subtraction.

Primary suppression hides every cell backed by fewer than k users (:mod:`.privacy`). On its own it
does not hold: the report also publishes totals and shares, and the same quantity in several
figures, so a hidden cell is often the published total minus the published cells beside it. A
statistical agency answers with *complementary* (secondary) suppression, and so does this module:

1. Every published fact that ties cells together is stated as a linear :class:`Relation` over the
   figures' rows ("cells"): the segments of a week sum to the week's tokens (the total is known to a
   reader through any published share), the Chinese and rest-of-world open segments sum to the
   open-weights segment, a model's weekly tokens sum to its tokens over the period, a churned user
   goes to at least one place, and so on (:func:`relations`). Cells that are the same quantity in
   two figures (a model's week in the leaderboard and in the weekly top models) form one *unit*,
   hidden together.
2. :func:`protect` hides, besides every sensitive cell (< k users), the fewest further cells
   needed so that in every relation the other hidden cells add up to at least :data:`PROTECTION`
   (50%) of each sensitive cell, for every additive column (tokens, requests, spend, churns ...).
3. It then checks the result as an attacker would (:func:`audit`): for each sensitive cell and
   column it solves the published linear system (all relations at once, values ≥ 0) for the
   smallest and largest value the cell can take, and requires the interval to reach below
   (1 − p)·x and above (1 + p)·x. A cell the system pins closer gets another complementary cell,
   and the audit runs again.

What is not covered (the report and docs/privacy.md say so): distinct-user counts, which do not
add up across cells; derived statistics (medians, quantiles, the HHI, retention lifts and rises),
which are not linear in the cells; and differencing across reports of different periods, floors
or lakes (each report is protected on its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tokencensus.classify.prevalence import CORRECTED_COLUMNS
from tokencensus.definitions import (
    CHINESE_OPEN,
    CLOSED,
    OPEN_WEIGHTS,
    PROPRIETARY,
    REASONING,
    REST_OF_WORLD_OPEN,
)
from tokencensus.report.figure import NO_MODEL, OTHER, Partition
from tokencensus.report.numbers import significant
from tokencensus.report.privacy import below_floor

if TYPE_CHECKING:  # scipy is imported where the audit runs (a report without hidden cells needs none)
    from scipy.optimize import OptimizeResult

PROTECTION = 0.5
"""p: no suppressed sensitive cell may be pinned by the published figures to within ±p of its
value (the interval a reader can solve for must reach below (1 − p)·x and above (1 + p)·x)."""

_TOL = 1e-6


@dataclass(frozen=True)
class Relation:
    """Σ coeff · cell = b (``exact``) or ≥ ``known`` (not exact), for each of ``columns``.

    For an exact relation a reader knows b (a published total or share, or 0 when the relation
    balances cells against each other); it is the true Σ coeff · value. An inequality's right side
    is the published constant ``known`` (per column)."""

    cells: np.ndarray
    coeffs: np.ndarray
    columns: tuple[str, ...]
    why: str
    exact: bool = True
    known: Mapping[str, float] = field(default_factory=dict)
    via_shares: bool = False
    """The right side is known only through a published cell of the relation (its share, or the
    total it repeats): a relation whose every cell is hidden tells a reader nothing."""

    def holds(self, hidden: np.ndarray) -> bool:
        """Whether a reader can use the relation, given the hidden cells."""
        return not (self.via_shares and hidden[self.cells].all())


class Cells:
    """Every row of every figure frame as one numbered cell (frames in the order given)."""

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self.frames = frames
        self.offset: dict[str, int] = {}
        n = 0
        for fid, frame in frames.items():
            self.offset[fid] = n
            n += len(frame)
        self.n = n
        self._values: dict[str, np.ndarray] = {}

    def ids(self, fid: str, rows: Iterable[int]) -> np.ndarray:
        return self.offset[fid] + np.asarray(list(rows), dtype=np.int64)

    def values(self, column: str) -> np.ndarray:
        """Every cell's value in ``column`` (NaN where its figure has no such column)."""
        if column not in self._values:
            parts = []
            for frame in self.frames.values():
                if column in frame.columns:
                    parts.append(pd.to_numeric(frame[column], errors="coerce").astype("float64").to_numpy())
                else:
                    parts.append(np.full(len(frame), np.nan))
            self._values[column] = np.concatenate(parts) if parts else np.empty(0)
        return self._values[column]

    def where(self, cell: int) -> tuple[str, int]:
        """(figure id, row) of a cell."""
        fid = max(
            (f for f, o in self.offset.items() if o <= cell and len(self.frames[f])),
            key=lambda f: self.offset[f],
        )
        return fid, cell - self.offset[fid]


# ---------------------------------------------------------------- the published relations


class _Builder:
    """Collects relations, units (cells that are one quantity) and dependent columns."""

    def __init__(self, cells: Cells) -> None:
        self.cells = cells
        self.frames = cells.frames
        self.relations: list[Relation] = []
        self.links: list[tuple[int, int]] = []
        self.dependents: list[tuple[int, tuple[str, ...], int]] = []

    def has(self, *fids: str) -> bool:
        return all(f in self.frames and not self.frames[f].empty for f in fids)

    def groups(self, fid: str, keys: list[str]) -> list[tuple[tuple, np.ndarray]]:
        """Rows of ``fid`` by their keys (as :func:`_key` writes them), in the keys' order."""
        frame = self.frames[fid]
        if not keys:
            return [((), np.arange(len(frame)))]
        grouped = frame.groupby([frame[k].map(_key) for k in keys], sort=True, dropna=False).indices
        return [
            ((key if isinstance(key, tuple) else (key,)), np.asarray(rows)) for key, rows in grouped.items()
        ]

    def index(self, fid: str, keys: list[str]) -> dict[tuple, int]:
        frame = self.frames[fid]
        cols = [frame[k].map(_key).to_numpy() for k in keys]
        return {tuple(c[i] for c in cols): i for i in range(len(frame))}

    def columns(self, fid: str, wanted: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(c for c in wanted if c in self.frames[fid].columns)

    def partition(
        self, fid: str, keys: list[str], columns: tuple[str, ...], what: str, via_shares: bool = True
    ) -> None:
        """The cells of each group of ``keys`` sum to a total a reader knows: through the shares of
        its published cells (``via_shares``), or always (another figure or the summary states it)."""
        if not self.has(fid):
            return
        cols = self.columns(fid, columns)
        for key, rows in self.groups(fid, keys):
            ids = self.cells.ids(fid, rows)
            why = f"{fid} {'/'.join(key) or 'all'}: {what}"
            self.relations.append(Relation(ids, np.ones(len(ids)), cols, why, via_shares=via_shares))

    def balance(
        self, plus: Iterable[int | None], minus: Iterable[int | None], columns: tuple[str, ...], why: str
    ) -> None:
        """Σ plus − Σ minus = 0 (both sides published in some form). A missing cell (None: the
        figure has no such row) holds nothing; a side with no cell gives no relation."""
        pos = [c for c in plus if c is not None]
        neg = [c for c in minus if c is not None]
        if not pos or not neg:
            return
        ids = np.asarray(pos + neg, dtype=np.int64)
        coeffs = np.concatenate([np.ones(len(pos)), -np.ones(len(neg))])
        self.relations.append(Relation(ids, coeffs, columns, why))

    def at_least(self, total: int, parts: np.ndarray, column: str, why: str) -> None:
        """total ≥ Σ parts: a published figure holds at least the cells another one shows of it."""
        self.relations.append(
            Relation(
                np.concatenate([[total], parts]).astype(np.int64),
                np.concatenate([[1.0], -np.ones(len(parts))]),
                (column,),
                why,
                exact=False,
                known={column: 0.0},
            )
        )

    def link(self, a: int | None, b: int | None) -> None:
        if a is not None and b is not None:
            self.links.append((a, b))

    def cell(self, fid: str, lookup: dict[tuple, int], key: tuple) -> int | None:
        row = lookup.get(tuple(_key(k) for k in key))
        return None if row is None else int(self.cells.offset[fid] + row)


def _key(value: object) -> str:
    """A key as text, the same in every figure: dates (and timestamps) as ISO dates."""
    if isinstance(value, (date, datetime, pd.Timestamp)):
        return pd.Timestamp(value).date().isoformat()
    return str(value)


WEEK_ROWS = ("reasoning", "tool_calls", "lengths")
"""Weekly figures with one row per week over all requests: the same cell as the volume's week."""
SUMS = ("requests", "input_tokens", "output_tokens", "tokens", "spend")
SEGMENTS_OF_WEEK = Partition(
    ("week",), ("requests", "tokens", "spend"), "segments sum to the week (volume)", via_shares=False
)
"""The cells of a weekly figure that splits every request into segments sum to the week's volume."""


def relations(cells: Cells) -> _Builder:
    """Every linear fact the report publishes about its cells (see the module docstring)."""
    from tokencensus.report.figures import FIGURES

    b = _Builder(cells)
    for fig in FIGURES:  # each figure's own sums (a figure declares them)
        for p in fig.partitions:
            b.partition(fig.id, list(p.keys), p.columns, p.why, p.via_shares)
    # one row per week over all requests: the volume's week (their totals are known through shares,
    # so the weekly figures need no relation to the volume's cells)
    if b.has("volume"):
        vol = b.index("volume", ["week"])
        for fid in WEEK_ROWS:
            if b.has(fid):
                for key, row in b.index(fid, ["week"]).items():
                    b.link(cells.offset[fid] + row, b.cell("volume", vol, key))
    _market(b)
    _models(b)
    _categories(b)
    _geography(b)
    _retention(b)
    _churn(b)
    _same_values(b)
    return b


def _period(b: _Builder, fid: str, key: str, value: str) -> list[int]:
    """Every cell of ``fid`` (all its weeks or months) whose ``key`` is ``value``."""
    frame = b.frames[fid]
    return list(b.cells.ids(fid, np.flatnonzero(frame[key].map(_key).to_numpy() == value)))


def _same_values(b: _Builder) -> None:
    """Cells that are one quantity (:attr:`_Builder.links`) are one value to a reader solving the
    relations: an equation each, for every additive column both show alike."""
    columns = ("requests", "input_tokens", "output_tokens", "tokens", "spend", "labelled", "churns")
    for a, c in b.links:
        same = tuple(
            col
            for col in columns
            if not np.isnan(va := b.cells.values(col)[a]) and va == b.cells.values(col)[c]
        )
        if same:
            b.balance([a], [c], same, "one quantity in two places")


def _market(b: _Builder) -> None:
    """Open vs closed against origin, size and concentration; reasoning lines against their segment."""
    if b.has("share_open"):
        opn = b.index("share_open", ["week", "segment"])
        if b.has("share_origin"):
            origin = b.index("share_origin", ["week", "segment"])
            for week in sorted({k[0] for k in opn}):
                parts = [
                    b.cell("share_origin", origin, (week, s)) for s in (CHINESE_OPEN, REST_OF_WORLD_OPEN)
                ]
                b.balance(
                    parts,
                    [b.cell("share_open", opn, (week, OPEN_WEIGHTS))],
                    ("tokens",),
                    f"share_origin {week}: Chinese + rest-of-world open = open weights",
                )
                b.link(
                    b.cell("share_origin", origin, (week, PROPRIETARY)),
                    b.cell("share_open", opn, (week, CLOSED)),
                )
                b.link(
                    b.cell("share_origin", origin, (week, "Unknown")),
                    b.cell("share_open", opn, (week, "Unknown")),
                )
        if b.has("cost_vs_usage") and "open_segment" in b.frames["cost_vs_usage"].columns:
            for (segment,), _ in b.groups("share_open", ["segment"]):
                b.balance(
                    _period(b, "share_open", "segment", segment),
                    _period(b, "cost_vs_usage", "open_segment", segment),
                    ("tokens",),
                    f"share_open {segment}: its weeks sum to its models' periods",
                )
        if b.has("share_size", "size_supply"):  # the same cells, with the models served
            sizes = b.index("share_size", ["week", "segment"])
            for key, row in b.index("size_supply", ["week", "segment"]).items():
                b.link(b.cells.offset["size_supply"] + row, b.cell("share_size", sizes, key))
        if b.has("share_size"):
            for (week,), rows in b.groups("share_size", ["week"]):
                b.balance(
                    list(b.cells.ids("share_size", rows)),
                    [b.cell("share_open", opn, (week, OPEN_WEIGHTS))],
                    ("tokens",),
                    f"share_size {week}: sizes sum to open weights",
                )
        if b.has("open_concentration"):
            for (week,), row in b.index("open_concentration", ["week"]).items():
                b.link(
                    b.cells.offset["open_concentration"] + row,
                    b.cell("share_open", opn, (week, OPEN_WEIGHTS)),
                )
    if b.has("share_reasoning", "reasoning_models"):
        seg = b.index("share_reasoning", ["week", "segment"])
        for (week,), rows in b.groups("reasoning_models", ["week"]):
            b.balance(
                list(b.cells.ids("reasoning_models", rows)),
                [b.cell("share_reasoning", seg, (week, REASONING))],
                ("tokens",),
                f"reasoning_models {week}: the reasoning models sum to the reasoning segment",
            )
    if b.has("share_reasoning", "reasoning"):
        seg = b.index("share_reasoning", ["week", "segment"])
        for (week,), row in b.index("reasoning", ["week"]).items():
            cell = b.cell("share_reasoning", seg, (week, REASONING))
            if cell is not None:
                b.dependents.append(
                    (
                        b.cells.offset["reasoning"] + row,
                        (
                            "reasoning_model_tokens",
                            "reasoning_model_share",
                            "reasoning_token_share_in_reasoning_models",
                        ),
                        cell,
                    )
                )


def _models(b: _Builder) -> None:
    """A model's weeks, its period total, its ranks and its author."""
    cells, frames = b.cells, b.frames
    weekly = b.index("top_models_weekly", ["week", "model"]) if b.has("top_models_weekly") else {}
    if weekly and b.has("leaderboard"):
        for (week, model), row in b.index("leaderboard", ["week", "model"]).items():
            b.link(cells.offset["leaderboard"] + row, b.cell("top_models_weekly", weekly, (week, model)))
    if weekly and b.has("cost_vs_usage"):
        cvu = b.index("cost_vs_usage", ["model"])
        for (model,), rows in b.groups("top_models_weekly", ["model"]):
            b.balance(
                list(cells.ids("top_models_weekly", rows)),
                [b.cell("cost_vs_usage", cvu, (model,))],
                ("tokens",),
                f"top_models_weekly {model}: its weeks sum to its period (cost vs usage)",
            )
    if weekly and b.has("top_models", "volume"):
        weeks = sorted(set(frames["volume"]["week"].astype(str)))[-4:]
        for (model,), row in b.index("top_models", ["model"]).items():
            parts = [b.cell("top_models_weekly", weekly, (w, model)) for w in weeks]
            if all(p is not None for p in parts):  # a week out of the weekly figure: its sum is unknown
                b.balance(
                    parts,
                    [cells.offset["top_models"] + row],
                    ("tokens",),
                    f"top_models {model}: the last weeks' tokens",
                )
    if weekly and b.has("reasoning_models"):  # a named reasoning model's week is one cell
        for (week, model), row in b.index("reasoning_models", ["week", "model"]).items():
            if model == OTHER:  # the other reasoning models, not the other models
                continue
            b.link(cells.offset["reasoning_models"] + row, b.cell("top_models_weekly", weekly, (week, model)))
    if b.has("open_concentration"):  # the largest open model's share is its weekly cell
        conc = frames["open_concentration"]
        ranked = {f: b.index(f, ["week", "model"]) for f in ("top_models_weekly", "leaderboard") if b.has(f)}
        for row, (week, model) in enumerate(zip(conc["week"], conc["top_model"], strict=True)):
            for fid, lookup in ranked.items():
                cell = b.cell(fid, lookup, (week, model))
                if cell is not None:
                    b.dependents.append(
                        (cells.offset["open_concentration"] + row, ("top_model", "top1_share"), cell)
                    )
    if b.has("share_author", "cost_vs_usage"):
        cvu_frame = frames["cost_vs_usage"]
        by_author = cvu_frame.groupby(cvu_frame["author"].astype(str)).indices
        for (author,), rows in b.groups("share_author", ["author"]):
            models = by_author.get(author)
            if models is not None:
                b.balance(
                    list(cells.ids("share_author", rows)),
                    list(cells.ids("cost_vs_usage", models)),
                    ("tokens",),
                    f"share_author {author}: its weeks sum to its models' periods",
                )
    if b.has("leaderboard"):  # a model's ranked weeks are within its period and its last weeks
        board = b.frames["leaderboard"]
        recent = set(sorted(set(board["week"].map(_key)))[-4:])
        for fid, last in (("cost_vs_usage", False), ("top_models", True)):
            if not b.has(fid):
                continue
            own = b.index(fid, ["model"])
            for (model,), rows in b.groups("leaderboard", ["model"]):
                total = b.cell(fid, own, (model,))
                if last:
                    rows = rows[board["week"].iloc[rows].map(_key).isin(recent).to_numpy()]
                if total is not None and len(rows):
                    weeks_ranked = cells.ids("leaderboard", rows)
                    b.at_least(total, weeks_ranked, "tokens", f"{fid} {model}: at least its ranked weeks")
    if b.has("share_author", "leaderboard"):
        authors = b.index("share_author", ["week", "author"])
        for (week, author), rows in b.groups("leaderboard", ["week", "author"]):
            total = b.cell("share_author", authors, (week, author))
            if total is not None:
                why = f"share_author {week}/{author}: at least its ranked models"
                b.at_least(total, cells.ids("leaderboard", rows), "tokens", why)


def _categories(b: _Builder) -> None:
    """Open = Chinese + rest-of-world open per category; a category's months are its segments and
    its period total, and its authors too; the languages and the categories share one classified
    total; a corrected share is blanked with any category it is computed from; the top models for
    programming are within programming and within their author's programming."""
    if b.has("share_category", "language"):
        b.balance(
            list(b.cells.ids("share_category", range(len(b.frames["share_category"])))),
            list(b.cells.ids("language", range(len(b.frames["language"])))),
            ("tokens",),
            "share_category and language: one classified total",
        )
    if b.has("category_corrected"):
        frame = b.frames["category_corrected"]
        rows = list(b.cells.ids("category_corrected", range(len(frame))))
        for row in rows:  # every corrected share depends on every category's count
            b.dependents += [(row, CORRECTED_COLUMNS, other) for other in rows if other != row]
        if b.has("share_category"):
            idx = b.index("category_corrected", ["category"])
            for (cat,), _ in b.groups("share_category", ["segment"]):
                b.balance(
                    _period(b, "share_category", "segment", cat),
                    [b.cell("category_corrected", idx, (cat,))],
                    ("tokens",),
                    f"share_category {cat}: its months sum to its tokens over the period",
                )
    if b.has("category_authors", "category_corrected"):
        corrected = b.index("category_corrected", ["category"])
        for (cat,), authors in b.groups("category_authors", ["category"]):
            b.balance(
                list(b.cells.ids("category_authors", authors)),
                [b.cell("category_corrected", corrected, (cat,))],
                ("tokens",),
                f"category_authors {cat}: the authors sum to the category",
            )
    _within_segments(b)
    _programming_models(b)
    if not b.has("category_segments"):
        return
    idx = b.index("category_segments", ["segment", "category"])
    if b.has("share_category"):
        for (cat,), _ in b.groups("share_category", ["segment"]):
            parts = [b.cell("category_segments", idx, (s, cat)) for s in (OPEN_WEIGHTS, PROPRIETARY)]
            b.balance(
                _period(b, "share_category", "segment", cat),
                parts,
                ("tokens",),
                f"share_category {cat}: its weeks sum to its open and proprietary tokens",
            )
    for (cat,), _ in b.groups("category_segments", ["category"]):
        parts = [b.cell("category_segments", idx, (s, cat)) for s in (CHINESE_OPEN, REST_OF_WORLD_OPEN)]
        b.balance(
            parts,
            [b.cell("category_segments", idx, (OPEN_WEIGHTS, cat))],
            ("tokens", "labelled"),
            f"category_segments {cat}: Chinese + rest-of-world open = open",
        )


def _programming_models(b: _Builder) -> None:
    """The ranked models' programming tokens are within programming's, and within their author's."""
    if not b.has("programming_models"):
        return
    ranked = b.frames["programming_models"]
    rows = np.arange(len(ranked))
    if b.has("category_corrected"):
        total = b.cell("category_corrected", b.index("category_corrected", ["category"]), ("programming",))
        if total is not None:
            b.at_least(
                total,
                b.cells.ids("programming_models", rows),
                "tokens",
                "programming: at least its top models",
            )
    if b.has("category_authors"):
        authors = b.index("category_authors", ["author", "category"])
        for (author,), mine in b.groups("programming_models", ["author"]):
            total = b.cell("category_authors", authors, (author, "programming"))
            if total is not None:
                why = f"category_authors {author}/programming: at least its top models"
                b.at_least(total, b.cells.ids("programming_models", mine), "tokens", why)


def _within_segments(b: _Builder) -> None:
    """The monthly origin split of a category sums over its segments to the category's month, and
    over the months to the category's segments."""
    for fid, cat in (("programming_origin", "programming"), ("roleplay_origin", "roleplay")):
        if not b.has(fid):
            continue
        if b.has("share_category"):
            months = b.index("share_category", ["month", "segment"])
            for (month,), rows in b.groups(fid, ["month"]):
                b.balance(
                    list(b.cells.ids(fid, rows)),
                    [b.cell("share_category", months, (month, cat))],
                    ("tokens",),
                    f"{fid} {month}: the origins sum to the month's {cat}",
                )
        if b.has("category_segments"):
            mix = b.index("category_segments", ["segment", "category"])
            for (segment,), _ in b.groups(fid, ["segment"]):
                b.balance(
                    _period(b, fid, "segment", segment),
                    [b.cell("category_segments", mix, (segment, cat))],
                    ("tokens",),
                    f"{fid} {segment}: its months sum to the segment's {cat}",
                )


def _geography(b: _Builder) -> None:
    """Countries over the months against their continent over the weeks, and against the volume;
    spend by continent is the continents' cells again."""
    if b.has("geo_spend", "geo_continent"):
        tokens = b.index("geo_continent", ["week", "continent"])
        for key, row in b.index("geo_spend", ["week", "continent"]).items():
            b.link(b.cells.offset["geo_spend"] + row, b.cell("geo_continent", tokens, key))
    if not b.has("geo_country", "geo_continent"):
        return
    from tokencensus.analyses.geography import country_continents

    continent = dict(country_continents()[["country", "continent"]].itertuples(index=False))
    countries = b.frames["geo_country"]["country"].map(lambda c: continent.get(c, "Unknown"))
    for (name,), _ in b.groups("geo_continent", ["continent"]):
        mine = np.flatnonzero(countries.to_numpy() == name)
        b.balance(
            _period(b, "geo_continent", "continent", name),
            list(b.cells.ids("geo_country", mine)),
            ("requests", "tokens", "spend"),
            f"geo_continent {name}: its weeks sum to its countries' months",
        )


def _churn(b: _Builder) -> None:
    """Every churn goes somewhere (flows sum to at least the model's churns); no flow is larger
    than the churns, and those who went nowhere else went to no other model."""
    if not b.has("churn_flows") or "from_churns" not in b.frames["churn_flows"].columns:
        return
    flows = b.frames["churn_flows"]
    for (model,), rows in b.groups("churn_flows", ["from_model"]):
        total = pd.to_numeric(flows["from_churns"].iloc[rows]).max()
        if pd.isna(total):
            continue
        ids = b.cells.ids("churn_flows", rows)
        nowhere = [int(c) for c, to in zip(ids, flows["to_model"].iloc[rows], strict=True) if to == NO_MODEL]

        def bound(cells: list[int], coeff: float, known: float, why: str) -> None:
            b.relations.append(
                Relation(
                    np.asarray(cells, dtype=np.int64), np.full(len(cells), coeff), ("churns",), why,
                    exact=False, known={"churns": known}, via_shares=True,
                )
            )  # fmt: skip

        bound(list(ids), 1.0, float(total), f"churn_flows {model}: every churn goes somewhere")
        for c in ids:
            pair = sorted({int(c), *nowhere})
            bound(pair, -1.0, -float(total), f"churn_flows {model}: a flow (and nowhere) within the churns")


def _retention(b: _Builder) -> None:
    """A cohort is one quantity at every k; a launch cohort is one quantity in two figures."""
    if not b.has("retention_triangle"):
        return
    cells = b.cells
    if b.has("retention_cohorts"):  # the followed models' rows are the triangle's
        tri = b.index("retention_triangle", ["model", "cohort", "k"])
        for key, row in b.index("retention_cohorts", ["model", "cohort", "k"]).items():
            b.link(cells.offset["retention_cohorts"] + row, b.cell("retention_triangle", tri, key))
    for _, rows in b.groups("retention_triangle", ["model", "cohort"]):
        ids = cells.ids("retention_triangle", rows)
        for other in ids[1:]:
            b.link(int(ids[0]), int(other))
    if b.has("glass_slipper"):
        tri = b.index("retention_triangle", ["model", "cohort", "k"])
        gs = b.frames["glass_slipper"]
        for row, (model, cohort) in enumerate(
            zip(gs["model"].astype(str), gs["launch_cohort"].astype(str), strict=True)
        ):
            b.link(cells.offset["glass_slipper"] + row, b.cell("retention_triangle", tri, (model, cohort, 0)))


# ---------------------------------------------------------------- suppression


@dataclass
class Protection:
    """What :func:`protect` decided: per figure, the hidden rows and the columns blanked in rows
    that stay published (a value copied from a hidden cell)."""

    hidden: dict[str, np.ndarray]
    blanked: dict[str, dict[str, np.ndarray]]
    exposures: list[Exposure]
    """What the audit could still solve for after the last round: empty unless hiding more cells
    cannot help (a total the summary states, held by a single hidden cell); the summary says so."""


@dataclass(frozen=True)
class Exposure:
    """A sensitive cell a reader can pin to [low, high] from the published figures."""

    figure: str
    row: int
    column: str
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return (
            f"{self.figure} row {self.row} {self.column}: {self.value:g} within [{self.low:g}, {self.high:g}]"
        )


class _DisjointSets:
    """Union–find over 0 … n − 1; a set's root is its smallest member."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class _Units:
    def __init__(self, n: int, links: list[tuple[int, int]]) -> None:
        sets = _DisjointSets(n)
        for a, c in links:
            sets.union(a, c)
        roots = np.array([sets.find(i) for i in range(n)], dtype=np.int64)
        order = np.argsort(roots, kind="stable")
        bounds = np.flatnonzero(np.diff(roots[order])) + 1
        self.root = roots
        self.size = np.bincount(roots, minlength=n)[roots]
        self.members = {int(roots[g[0]]): g for g in np.split(order, bounds) if len(g)}

    def of(self, cell: int) -> np.ndarray:
        return self.members[int(self.root[cell])]


def protect(frames: Mapping[str, pd.DataFrame], min_users: int, p: float = PROTECTION) -> Protection:
    """Primary and complementary suppression over every figure at once (module docstring)."""
    cells = Cells(frames)
    built = relations(cells)
    units = _Units(cells.n, built.links)
    sensitive = below_floor(cells.values("users"), min_users)
    # a unit is sensitive when any of its cells is (the same quantity has the same users)
    unit_sensitive = np.zeros(cells.n, dtype=bool)
    for members in units.members.values():
        if sensitive[members].any():
            unit_sensitive[members] = True
    sensitive = unit_sensitive
    hidden = sensitive.copy()
    rels = [r for r in built.relations if len(r.cells)]
    exposures: list[Exposure] = []
    solved: dict = {}
    for _ in range(50 if p > 0 else 0):
        _complement(cells, rels, units, hidden, sensitive, p)
        exposures = audit(cells, rels, hidden, sensitive, p, solved)
        if not exposures:
            break
        if not _widen(cells, rels, units, hidden, exposures, p):
            break
    blanked: dict[str, dict[str, np.ndarray]] = {}
    for row_cell, columns, on in built.dependents:
        if hidden[on] and not hidden[row_cell]:
            fid, row = cells.where(row_cell)
            for col in columns:
                blanked.setdefault(fid, {}).setdefault(col, np.zeros(len(frames[fid]), dtype=bool))[row] = (
                    True
                )
    split = {fid: slice(o, o + len(frames[fid])) for fid, o in cells.offset.items()}
    return Protection(
        hidden={fid: hidden[s] for fid, s in split.items()},
        blanked=blanked,
        exposures=exposures,
    )


def _magnitudes(cells: Cells, rel: Relation, column: str) -> np.ndarray:
    return np.nan_to_num(np.abs(cells.values(column)[rel.cells]))


def _hide(units: _Units, hidden: np.ndarray, cell: int) -> None:
    hidden[units.of(cell)] = True


def _pick(v: np.ndarray, candidates: np.ndarray, need: float, size: np.ndarray) -> int:
    """The candidate (index into ``v``) that protects enough (value ≥ need) at the least cost (its
    value times the cells hidden with it), else the largest."""
    vals = v[candidates]
    enough = candidates[vals >= need]
    if len(enough):
        return int(enough[np.argmin(v[enough] * size[enough])])
    return int(candidates[np.argmax(vals)])


def _complement(
    cells: Cells, rels: list[Relation], units: _Units, hidden: np.ndarray, sensitive: np.ndarray, p: float
) -> None:
    """Hide cells until, in every relation, the other hidden cells add up to p of each sensitive one."""
    changed = True
    while changed:
        changed = False
        for rel in rels:
            if not rel.holds(hidden):
                continue
            h = hidden[rel.cells]
            if rel.exact and h.sum() == 1 and len(rel.cells) > 1:
                # a hidden cell alone in an equation is the equation solved (a complementary cell
                # pinned this way would give its partner away in another relation)
                v = _magnitudes(cells, rel, rel.columns[0]) if rel.columns else np.zeros(len(rel.cells))
                _hide(units, hidden, int(rel.cells[_pick(v, np.flatnonzero(~h), 0.0, units.size[rel.cells])]))
                changed = True
            sens = sensitive[rel.cells] & hidden[rel.cells]
            if not sens.any():
                continue
            for column in rel.columns:
                v = _magnitudes(cells, rel, column)
                while True:
                    h = hidden[rel.cells]
                    need = p * v[sens].max() - (v[h].sum() - v[sens].max())
                    free = np.flatnonzero(~h)
                    if need <= _TOL * max(1.0, v[sens].max()) or not len(free):
                        break
                    _hide(units, hidden, int(rel.cells[_pick(v, free, need, units.size[rel.cells])]))
                    changed = True


def _widen(
    cells: Cells, rels: list[Relation], units: _Units, hidden: np.ndarray, exposures: list[Exposure], p: float
) -> bool:
    """One more complementary cell for each exposed cell, in each relation it belongs to; where
    every cell of those relations is hidden already, in a relation of one of its hidden partners
    (the sum of the partners is what gives it away: two hidden cells that add up to it, whose sum
    a third relation states)."""
    changed = False
    for exp in exposures:
        cell = cells.offset[exp.figure] + exp.row
        mine = [rel for rel in rels if exp.column in rel.columns and cell in rel.cells]
        widened = False
        for rel in mine:
            free = np.flatnonzero(~hidden[rel.cells])
            if len(free):
                v = _magnitudes(cells, rel, exp.column)
                _hide(
                    units, hidden, int(rel.cells[_pick(v, free, p * abs(exp.value), units.size[rel.cells])])
                )
                changed = widened = True
        if not widened:
            changed |= _widen_through_partners(cells, rels, units, hidden, exp, cell, mine, p)
    return changed


def _widen_through_partners(
    cells: Cells,
    rels: list[Relation],
    units: _Units,
    hidden: np.ndarray,
    exp: Exposure,
    cell: int,
    mine: list[Relation],
    p: float,
) -> bool:
    """Hide the cheapest free cell (its value times the cells hidden with it) that is large enough,
    in the relations of ``cell``'s hidden partners; False when they have none left."""
    partners = {int(c) for rel in mine for c in rel.cells if c != cell and hidden[c]}
    values = np.nan_to_num(np.abs(cells.values(exp.column)))
    candidates: set[int] = set()
    for rel in rels:
        if exp.column in rel.columns and cell not in rel.cells and partners & set(rel.cells.tolist()):
            candidates |= {int(c) for c in rel.cells[~hidden[rel.cells]]}
    if not candidates:
        return False
    free = np.fromiter(sorted(candidates), dtype=np.int64)
    _hide(units, hidden, _cheapest(values[free], units.size[free], free, p * abs(exp.value)))
    return True


def _cheapest(v: np.ndarray, size: np.ndarray, ids: np.ndarray, need: float) -> int:
    """The cell of ``ids`` that protects enough (value ≥ need) at the least cost, else the largest."""
    enough = np.flatnonzero(v >= need)
    if len(enough):
        return int(ids[enough[np.argmin(v[enough] * size[enough])]])
    return int(ids[np.argmax(v)])


# ---------------------------------------------------------------- the attack


def audit(
    cells: Cells,
    rels: list[Relation],
    hidden: np.ndarray,
    sensitive: np.ndarray,
    p: float = PROTECTION,
    cache: dict | None = None,
) -> list[Exposure]:
    """Solve the published relations for every hidden sensitive cell, as an attacker would.

    For each column, the unknowns are the hidden cells (≥ 0) of the relations a reader can use; each
    relation's published side is moved to the right. A sensitive unknown x is safe when the system
    lets it reach both (1 − p)·x and (1 + p)·x; otherwise it is exposed, with the interval an
    attacker solves for (linear programs, HiGHS; a lone relation is solved by hand). ``cache`` keeps
    the answers of systems already solved (:func:`protect` audits again after each round).
    """
    out: list[Exposure] = []
    cache = {} if cache is None else cache
    columns = sorted({c for r in rels for c in r.columns})
    for column in columns:
        values = np.nan_to_num(cells.values(column))
        active = [
            i for i, r in enumerate(rels) if column in r.columns and hidden[r.cells].any() and r.holds(hidden)
        ]
        for group, var_cells in _components(rels, active, hidden):
            targets = np.array([int(c) for c in var_cells if sensitive[c] and values[c] > 0], dtype=np.int64)
            if not len(targets):
                continue
            key = (column, tuple(group), var_cells.tobytes())
            if key not in cache:
                system = _System([rels[i] for i in group], var_cells, values, hidden, column)
                cache[key] = [
                    Exposure(*cells.where(int(c)), column, float(values[c]), lo, hi)
                    for c, lo, hi in system.exposed(targets, p)
                ]
            out.extend(cache[key])
    return out


class _System:
    """The relations of one component over its hidden cells: A_eq·x = b_eq, A_ub·x ≤ b_ub, x ≥ 0."""

    def __init__(
        self,
        group: list[Relation],
        var_cells: np.ndarray,
        values: np.ndarray,
        hidden: np.ndarray,
        column: str,
    ) -> None:
        self.group, self.values, self.hidden = group, values, hidden
        self.pos = {int(c): i for i, c in enumerate(var_cells)}
        self.n = len(var_cells)
        eq_rows, eq_b, ub_rows, ub_b = [], [], [], []
        for rel in group:
            h = hidden[rel.cells]
            row = np.zeros(self.n)
            for c, k in zip(rel.cells[h], rel.coeffs[h], strict=True):
                row[self.pos[int(c)]] += k
            if rel.exact:
                eq_rows.append(row)
                eq_b.append(float(np.dot(rel.coeffs[h], values[rel.cells[h]])))
            else:  # Σ c·x ≥ known − published  →  −Σ c·x ≤ published − known
                ub_rows.append(-row)
                ub_b.append(float(np.dot(rel.coeffs[~h], values[rel.cells[~h]])) - rel.known.get(column, 0.0))
        self.a_eq = np.array(eq_rows).reshape(len(eq_rows), self.n)
        self.b_eq = np.array(eq_b)
        self.a_ub = np.array(ub_rows).reshape(len(ub_rows), self.n)
        self.b_ub = np.array(ub_b)
        self.column = column

    def exposed(self, targets: np.ndarray, p: float) -> list[tuple[int, float, float]]:
        """(cell, low, high) of each target a reader pins to within ±p."""
        if len(self.group) == 1:
            return self._by_hand(targets, p)
        v = self.values[targets]
        up = self._certify(targets, (1 + p) * v, upper=True)
        down = self._certify(targets, (1 - p) * v, upper=False)
        out = []
        for c, ok_up, ok_down in zip(targets, up, down, strict=True):
            if not (ok_up and ok_down):
                lo, hi = self._extreme(int(c), lowest=True), self._extreme(int(c), lowest=False)
                if not _reaches(float(self.values[c]), lo, hi, p):
                    out.append((int(c), lo, hi))
        return out

    def _by_hand(self, targets: np.ndarray, p: float) -> list[tuple[int, float, float]]:
        rel = self.group[0]
        h = self.hidden[rel.cells]
        coeffs = rel.coeffs[h]
        alone = len(coeffs) == 1
        if (coeffs > 0).all() and rel.exact:  # the hidden cells sum to S: each lies in [0, S]
            total = float(np.dot(coeffs, self.values[rel.cells[h]]))
            bounds = [(total if alone else 0.0, total)] * len(targets)
        elif (coeffs > 0).all():  # their sum is at least F: each lies in [0, ∞) (F when alone)
            floor = rel.known.get(self.column, 0.0) - float(
                np.dot(rel.coeffs[~h], self.values[rel.cells[~h]])
            )
            bounds = [(max(0.0, floor) if alone else 0.0, np.inf)] * len(targets)
        else:
            bounds = [(self._extreme(int(c), True), self._extreme(int(c), False)) for c in targets]
        return [
            (int(c), lo, hi)
            for c, (lo, hi) in zip(targets, bounds, strict=True)
            if not _reaches(float(self.values[c]), lo, hi, p)
        ]

    def _lp(
        self,
        cost: np.ndarray,
        extra_ub: np.ndarray | None = None,
        extra_b: np.ndarray | None = None,
        bounds: list | None = None,
    ) -> OptimizeResult:
        from scipy.optimize import linprog
        from scipy.sparse import csr_matrix, hstack, vstack

        width = len(cost)
        pad = width - self.n

        def widen(a: np.ndarray) -> object:
            m = csr_matrix(a)
            return hstack([m, csr_matrix((a.shape[0], pad))]) if pad else m

        a_ub, b_ub = (widen(self.a_ub), self.b_ub) if len(self.b_ub) else (None, None)
        if extra_ub is not None:
            a_ub = csr_matrix(extra_ub) if a_ub is None else vstack([a_ub, csr_matrix(extra_ub)])
            b_ub = extra_b if b_ub is None else np.concatenate([b_ub, extra_b])
        return linprog(
            cost,
            A_eq=widen(self.a_eq) if len(self.b_eq) else None,
            b_eq=self.b_eq if len(self.b_eq) else None,
            A_ub=a_ub,
            b_ub=b_ub,
            bounds=bounds or (0, None),
            method="highs",
        )

    def _certify(self, targets: np.ndarray, goal: np.ndarray, upper: bool) -> np.ndarray:
        """Which targets the system lets reach their goal (x ≥ goal when ``upper``, else x ≤ goal).

        One linear program serves many targets, and a target counts only when the program's point
        (which satisfies every relation) has it at its goal. Up: maximise Σ s over s ∈ [0, 1] with
        s·goal ≤ x. Down: minimise Σ x / v, which pushes the targets' mass onto as few as it can.
        Targets that pull against each other (two halves of one sum) take a few rounds; those never
        shown to reach their goal are solved one by one (:meth:`_extreme`)."""
        done = np.zeros(len(targets), dtype=bool)
        v = self.values[targets]
        tol = _TOL * np.maximum(1.0, v)
        if not upper:
            done |= goal >= v  # p = 0: the true value is its own goal
        while not done.all():
            todo = np.flatnonzero(~done)
            m = len(todo)
            cols = np.array([self.pos[int(c)] for c in targets[todo]])
            if upper:  # maximise Σ s subject to s·goal − x ≤ 0, s ∈ [0, 1]
                cost = np.concatenate([np.zeros(self.n), -np.ones(m)])
                rows = np.zeros((m, self.n + m))
                rows[np.arange(m), cols] = -1.0
                rows[np.arange(m), self.n + np.arange(m)] = goal[todo]
                res = self._lp(cost, rows, np.zeros(m), [(0, None)] * self.n + [(0, 1)] * m)
            else:  # minimise Σ x / v
                cost = np.zeros(self.n)
                cost[cols] = 1.0 / v[todo]
                res = self._lp(cost)
            if res.status != 0:
                break
            x = np.asarray(res.x[: self.n])[cols]
            reached = x >= goal[todo] - tol[todo] if upper else x <= goal[todo] + tol[todo]
            if not reached.any():
                break
            done[todo[reached]] = True
        return done

    def _extreme(self, cell: int, lowest: bool) -> float:
        """The cell's smallest or largest value over the system. Unbounded above: infinity; a
        program the solver cannot finish counts as the cell pinned to its value (fail closed)."""
        cost = np.zeros(self.n)
        cost[self.pos[cell]] = 1.0 if lowest else -1.0
        res = self._lp(cost)
        if res.status == 3 and not lowest:  # unbounded
            return np.inf
        if res.status != 0:
            return float(self.values[cell])
        return float(res.fun) if lowest else -float(res.fun)


def _reaches(x: float, low: float, high: float, p: float) -> bool:
    tol = _TOL * max(1.0, x)
    return low <= (1 - p) * x + tol and high >= (1 + p) * x - tol


def _components(
    rels: list[Relation], active: list[int], hidden: np.ndarray
) -> list[tuple[list[int], np.ndarray]]:
    """Group the ``active`` relations that share a hidden cell; each group with its hidden cells."""
    owner: dict[int, int] = {}
    sets = _DisjointSets(len(rels))
    for i in active:
        rel = rels[i]
        for c in rel.cells[hidden[rel.cells]]:
            sets.union(owner.setdefault(int(c), i), i)
    groups: dict[int, list[int]] = {}
    for i in active:
        groups.setdefault(sets.find(i), []).append(i)
    return [
        (group, np.unique(np.concatenate([rels[i].cells[hidden[rels[i].cells]] for i in group])))
        for group in groups.values()
    ]


def rerank(frame: pd.DataFrame, hidden: np.ndarray, leaderboard: bool) -> pd.DataFrame:
    """A ranking without its hidden rows, ranked again among the published ones.

    A hidden row's place in a ranking would bound its value between its neighbours', and its model
    would name it, so a ranking lists only cells at the floor. The leaderboard's previous-week
    columns are recomputed from the previous week's published ranking (a model outside it is new).
    """
    kept = frame[~hidden].copy()
    if kept.empty:
        return kept.reset_index(drop=True)
    if not leaderboard:
        kept["rank"] = np.arange(1, len(kept) + 1)
        return kept.reset_index(drop=True)
    kept["rank"] = kept.groupby("week").cumcount() + 1
    weeks = pd.to_datetime(kept["week"].map(_key))
    prev = pd.DataFrame(
        {
            "_week": (weeks + pd.Timedelta(days=7)).to_numpy(),
            "model": kept["model"].to_numpy(),
            "prev_rank": kept["rank"].to_numpy(),
            "prev_tokens": kept["tokens"].to_numpy(),
            "prev_share": kept["share"].to_numpy(),
        }
    )
    changes = ["prev_rank", "prev_tokens", "prev_share", "rank_change", "share_change", "tokens_change"]
    kept = kept.drop(columns=changes, errors="ignore").assign(_week=weeks.to_numpy())
    kept = kept.merge(prev, on=["_week", "model"], how="left").drop(columns="_week")
    kept["prev_rank"] = kept["prev_rank"].astype("Int64")
    if pd.api.types.is_integer_dtype(frame["tokens"]):
        kept["prev_tokens"] = kept["prev_tokens"].astype("Int64")
    kept["rank_change"] = (kept["prev_rank"] - kept["rank"]).astype("Int64")
    kept["share_change"] = significant(kept["share"] - kept["prev_share"])
    before = kept["prev_tokens"].astype("float64")
    change = kept["tokens"].astype("float64") / before.where(before > 0) - 1.0
    kept["tokens_change"] = significant(change)
    return kept[list(frame.columns)].reset_index(drop=True)
