"""Settings of the simulator, including the planted effects the analyses must recover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class SimConfig:
    """How much traffic to simulate, and the planted effects (each a (start, end) of the period).

    Pairs ``(a, b)`` move linearly (shares, rates) or geometrically (token lengths) from the first
    to the last week of the period.
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

    # Market (effect 1)
    chinese_open_share: tuple[float, float] = (0.05, 0.25)
    """Token share of open-weights models of Chinese origin."""
    row_open_share: tuple[float, float] = (0.12, 0.14)
    """Token share of other open-weights models; proprietary models take the rest."""
    volume_growth: float = 2.0
    """Requests per day on the last day relative to the first."""
    popularity_sigma: float = 1.0
    """Spread (log-normal sigma) of model popularity within a segment."""
    adoption_days: float = 10.0
    """Days after release at which a model reaches half its adoption (logistic ramp)."""
    half_life_days: float = 240.0
    """Ageing: a model's weight halves every this many days after release (down to a floor)."""
    reasoning_boost: float = 2.0
    """Weight multiplier of reasoning models on the last day (1 on the first)."""

    # Agentic use and lengths (effect 2)
    tool_call_rate: tuple[float, float] = (0.05, 0.25)
    """P(finish_reason = tool_calls) for a model with tools (0 for the others), among non-errors."""
    mean_input_tokens: tuple[float, float] = (1500.0, 6000.0)
    """Mean input tokens per request over all traffic."""
    mean_output_tokens: tuple[float, float] = (400.0, 1000.0)
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
    programming_share: tuple[float, float] = (0.11, 0.50)
    """Programming's share of all tokens."""

    # Users and retention (effects 3 and 5)
    user_zipf: float = 1.0
    """Activity of the user of rank r is proportional to r ** -user_zipf (a few heavy users)."""
    new_user_rate: float = 0.3
    """New users a model gains in a month, per request it serves that month."""
    slipper_plateau: tuple[float, float] = (0.6, 0.2)
    """Retention plateau of the glass-slipper model's launch cohort, and of its later cohorts."""
    boomerang_curve: tuple[float, ...] = (0.45, 0.25, 0.35, 0.45)
    """Retention of the boomerang model's cohorts at k = 1, 2, ...; flat after the last value."""

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
            a, b = getattr(self, name)
            if not (0 <= a <= 1 and 0 <= b <= 1):
                raise ValueError(f"SimConfig.{name}={(a, b)}; shares lie in [0, 1]")
        a0, b0 = self.chinese_open_share
        a1, b1 = self.row_open_share
        if a0 + a1 > 1 or b0 + b1 > 1:
            raise ValueError("SimConfig.chinese_open_share + row_open_share exceeds 1")
        a, b = self.programming_share
        if not (0 < a < 1 and 0 < b < 1):
            raise ValueError(f"SimConfig.programming_share={(a, b)}; shares lie strictly in (0, 1)")
