"""Settings of the simulator, including the planted effects the analyses must recover."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import cast

import numpy as np

Trajectory = tuple[float, float] | tuple[tuple[date, float], ...]
"""A planted quantity over the period: ``(first, last)`` moves from the first to the last day
(linearly or geometrically, as the field says), or ``((date, value), ...)`` knots in date order,
interpolated between them and held flat before the first and after the last."""


def _knots(spec: Trajectory) -> list[tuple[date, float]] | None:
    """The knots of a ``((date, value), ...)`` trajectory in date order; None for a pair."""
    if spec and isinstance(spec[0], tuple):
        return sorted(cast("tuple[tuple[date, float], ...]", spec))
    return None


def _values(spec: Trajectory) -> list[float]:
    knots = _knots(spec)
    return (
        [float(v) for _, v in knots]
        if knots is not None
        else [float(v) for v in cast("tuple[float, float]", spec)]
    )


def along(spec: Trajectory, days: list[date], geometric: bool = False) -> np.ndarray:
    """The value of ``spec`` on each of ``days`` (see :data:`Trajectory`)."""
    knots = _knots(spec)
    if knots is not None:
        xs = np.array([d.toordinal() for d, _ in knots], dtype=np.float64)
        ys = np.array([v for _, v in knots], dtype=np.float64)
        at = np.array([d.toordinal() for d in days], dtype=np.float64)
        return np.exp(np.interp(at, xs, np.log(ys))) if geometric else np.interp(at, xs, ys)
    a, b = _values(spec)
    x = np.arange(len(days)) / max(len(days) - 1, 1)
    return a * (b / a) ** x if geometric else a + (b - a) * x


PLANT_KINDS = ("foundational", "boomerang", "plain")


@dataclass(frozen=True)
class RetentionPlant:
    """A named model's planted retention: its ``cohort`` month follows ``curve`` and every other
    cohort ``later`` (values at months since first use k = 1, 2, ...; flat after the last one)."""

    model: str
    cohort: date
    """First day of the cohort's month."""
    curve: tuple[float, ...]
    later: tuple[float, ...]
    kind: str = "foundational"
    """One of PLANT_KINDS: foundational (the cohort stays far above the later ones), boomerang (its
    curve dips, then rises) or plain (a control: the cohort like the others)."""


@dataclass(frozen=True)
class SimConfig:
    """How much traffic to simulate, and the planted effects (each a (start, end) of the period).

    Planted quantities are :data:`Trajectory` values: pairs ``(a, b)`` move linearly (shares,
    rates) or geometrically (token lengths) from the first to the last week of the period; knots
    ``((date, value), ...)`` follow a calendar. The defaults are the analyses' test world; the
    demo's world, calibrated to the published study, is :func:`tokencensus.simulator.study_config`.
    """

    requests: int = 1_000_000
    """Rows to generate (exactly)."""
    users: int = 60_000
    """Pseudonymous users in the pool (``u000123``); most of them appear at the default size."""
    start: date = date(2025, 6, 2)
    """First day of the period; must be a Monday."""
    weeks: int = 52
    """Length of the period in weeks."""
    seed: int = 7
    """Random seed: the same config gives the same tables."""
    min_models: int = 150
    """Raise ValueError when fewer catalog models are released before the period ends."""
    max_models: int = 200
    """Simulate at most this many models (the most recent releases; every segment kept)."""
    exclude: tuple[str, ...] = ()
    """Regular expressions: catalog slugs that match any are never simulated (models that are not
    chat models: guards, embeddings, image and audio models)."""

    # Market (effect 1)
    chinese_open_share: Trajectory = (0.05, 0.25)
    """Token share of open-weights models of Chinese origin."""
    row_open_share: Trajectory = (0.12, 0.14)
    """Token share of other open-weights models; proprietary models take the rest."""
    volume_growth: float = 2.0
    """Requests per day on the last day relative to the first."""
    popularity_sigma: float = 1.0
    """Spread (log-normal sigma) of model popularity within a segment."""
    author_popularity: Mapping[str, float] | None = None
    """Popularity multiplier by author (lower case; others 1); None: the built-in
    ``world.AUTHOR_POPULARITY``."""
    model_popularity: Mapping[str, float] = field(default_factory=dict)
    """Popularity multiplier by slug (others 1), on top of the author's."""
    open_author_tokens: Mapping[str, float] = field(default_factory=dict)
    """Relative tokens of open-weights authors over the period (from ``calibrate_from``): their
    popularity is solved so that each author's share of the open-weights tokens matches."""
    calibrate_from: date | None = None
    """First day of the span ``open_author_tokens`` describes (None: the period's start)."""
    adoption_days: float = 10.0
    """Days after release at which a model reaches half its adoption (logistic ramp)."""
    half_life_days: float = 240.0
    """Ageing: a model's weight halves every this many days after release (down to a floor)."""
    reasoning_boost: float = 2.0
    """Weight multiplier of reasoning models on the last day (1 on the first)."""

    # Agentic use and lengths (effect 2)
    tool_call_rate: Trajectory = (0.05, 0.25)
    """P(finish_reason = tool_calls) for a model with tools (0 for the others), among non-errors."""
    tool_category_weight: Mapping[str, float] = field(default_factory=dict)
    """Relative tool-call propensity by category (others 1): P(tool_calls | category) is the
    week's rate times this weight, rescaled so the rate over the week's tool-model requests holds."""
    mean_input_tokens: Trajectory = (1500.0, 6000.0)
    """Mean input tokens per request over all traffic."""
    mean_output_tokens: Trajectory = (400.0, 1000.0)
    """Mean output tokens per request over all traffic (errors count as 0)."""
    input_sigma: float = 1.0
    """Log-normal sigma of input lengths."""
    output_sigma: float = 0.9
    """Log-normal sigma of output lengths."""
    reasoning_fraction: float = 0.4
    """Mean share of a reasoning model's output that is reasoning tokens."""
    error_rate: float = 0.005
    """Share of requests that fail (finish_reason error, no output)."""
    length_rate: float = 0.02
    """Share of the other requests cut at the length limit."""

    # Categories (effect 4)
    programming_share: Trajectory = (0.11, 0.50)
    """Programming's share of all tokens."""
    author_mix: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Request mix by category (before the programming trend) of an author's models, overriding
    the built-in profiles (open, coder, general) for that author."""

    # Users and retention (effects 3 and 5)
    user_zipf: float = 1.0
    """Activity of the user of rank r is proportional to r ** -user_zipf (a few heavy users)."""
    new_user_rate: float = 0.3
    """New users a model gains in a month, per request it serves that month."""
    slipper_plateau: tuple[float, float] = (0.6, 0.2)
    """Retention plateau of the glass-slipper model's launch cohort, and of its later cohorts."""
    boomerang_curve: tuple[float, ...] = (0.45, 0.25, 0.35, 0.45)
    """Retention of the boomerang model's cohorts at k = 1, 2, ...; flat after the last value."""
    retention_plants: tuple[RetentionPlant, ...] = ()
    """Named models' planted cohorts; when given, they replace the automatically chosen glass
    slipper and boomerang."""
    countries: tuple[tuple[str, str, float], ...] | None = None
    """(ISO alpha-2, continent, share of activity) of the users; None: ``world.COUNTRIES``."""
    continent_growth: Mapping[str, float] = field(default_factory=dict)
    """Activity of a continent's users on the period's last day relative to its first (others 1)."""

    chunk_rows: int = 2_000_000
    """iter_simulate yields a month at a time, split into tables of at most this many rows."""

    @property
    def end(self) -> date:
        """The day after the last day of the period."""
        return self.start + timedelta(weeks=self.weeks)

    def check(self) -> None:
        """Raise ValueError naming the field when a setting cannot be simulated."""
        if self.start.weekday() != 0:
            raise ValueError(f"SimConfig.start={self.start} is a {self.start:%A}; weeks start on Monday")
        if self.weeks < 1:
            raise ValueError(f"SimConfig.weeks={self.weeks}; simulate at least 1 week")
        if self.requests < 1:
            raise ValueError(f"SimConfig.requests={self.requests}; simulate at least 1 request")
        if self.users < 100:
            raise ValueError(f"SimConfig.users={self.users}; the retention layer needs at least 100 users")
        if self.max_models < 3:
            raise ValueError(f"SimConfig.max_models={self.max_models}; need at least one model per segment")
        for name in ("chinese_open_share", "row_open_share"):
            values = _values(getattr(self, name))
            if not all(0 <= v <= 1 for v in values):
                raise ValueError(f"SimConfig.{name}={getattr(self, name)}; shares lie in [0, 1]")
        days = [self.start + timedelta(days=d) for d in range(7 * self.weeks)]
        both = along(self.chinese_open_share, days) + along(self.row_open_share, days)
        if (both > 1).any():
            raise ValueError("SimConfig.chinese_open_share + row_open_share exceeds 1")
        for plant in self.retention_plants:
            if plant.kind not in PLANT_KINDS:
                raise ValueError(
                    f"SimConfig.retention_plants: {plant.model} has kind {plant.kind!r}; "
                    f"kinds: {', '.join(PLANT_KINDS)}"
                )
            if not all(0 <= v <= 1 for v in plant.curve + plant.later) or not plant.curve or not plant.later:
                raise ValueError(
                    f"SimConfig.retention_plants: {plant.model}'s curves must be shares in [0, 1]"
                )
        if not all(0 < v < 1 for v in _values(self.programming_share)):
            raise ValueError(
                f"SimConfig.programming_share={self.programming_share}; shares lie strictly in (0, 1)"
            )
