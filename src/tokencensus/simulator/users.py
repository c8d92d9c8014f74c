"""The user pool: pseudonymous ids, a fixed country each, and Zipf-like activity.

Countries are planted as shares of activity and of users at once: the heaviest users (who carry
most requests) are dealt out one by one to the country furthest below its share of the activity
dealt so far, the long tail at random by the same shares. A continent's users may grow busier over
the period (``continent_growth``): the requests a model's active users send beyond one each go to
them by activity times that growth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.simulator.config import SimConfig
from tokencensus.simulator.sampling import PowerLaw
from tokencensus.simulator.world import COUNTRIES

DEALT = 5_000
"""The heaviest users, dealt to countries by activity; the rest draw a country at random."""
COHORT_FLATTEN = 0.5
"""Joining a model's cohort favours heavy users by rank ** -(user_zipf * this): they try more
models, but light users try some too (so that most of the pool shows up)."""


@dataclass(frozen=True)
class Users:
    """``config.users`` users; index = user code."""

    ids: pa.Array
    """``u000123``-style ids (string)."""
    country: np.ndarray
    """Country code per user (index into COUNTRIES)."""
    activity: np.ndarray
    """Relative request rate: rank ** -user_zipf over a random ranking."""
    by_rank: np.ndarray
    """User code of each activity rank (0 = heaviest)."""
    join: PowerLaw
    """Distribution of the rank of a model's next new user."""
    countries: pa.Array
    """ISO alpha-2 codes (string), indexed by ``country``."""
    table: tuple[tuple[str, str, float], ...]
    """(ISO alpha-2, continent, share) of each country code."""
    growth: np.ndarray
    """(countries,) activity on the period's last day relative to its first (geometric in between)."""

    def activity_in(self, user: np.ndarray, when: float) -> np.ndarray:
        """Activity of ``user`` at ``when`` (0 = the period's start, 1 = its end)."""
        return self.activity[user] * self.growth[self.country[user]] ** when


def build_users(config: SimConfig) -> Users:
    """Draw the pool."""
    n = config.users
    rng = np.random.default_rng([config.seed, 2])
    by_rank = rng.permutation(n)
    activity = np.empty(n)
    activity[by_rank] = np.arange(1, n + 1, dtype=np.float64) ** -config.user_zipf
    table = COUNTRIES if config.countries is None else config.countries
    shares = np.array([s for _, _, s in table], dtype=float)
    shares /= shares.sum()
    country = rng.choice(len(table), size=n, p=shares).astype(np.int16)
    _deal(country, by_rank[: min(n, DEALT)], activity, shares)
    width = max(6, len(str(n - 1)))
    ids = pc.binary_join_element_wise(
        "u", pc.utf8_lpad(pa.array(np.arange(n)).cast(pa.string()), width, "0"), ""
    )
    return Users(
        ids=ids,
        country=country,
        activity=activity,
        by_rank=by_rank,
        join=PowerLaw(n, config.user_zipf * COHORT_FLATTEN),
        countries=pa.array([c for c, _, _ in table]),
        table=tuple(table),
        growth=np.array([config.continent_growth.get(k, 1.0) for _, k, _ in table], dtype=float),
    )


def _deal(country: np.ndarray, heaviest: np.ndarray, activity: np.ndarray, shares: np.ndarray) -> None:
    """Give each of ``heaviest`` (in rank order) the country furthest below its share of the
    activity dealt so far."""
    dealt = np.zeros(len(shares))
    for user in heaviest:
        c = int(np.argmax(shares * (dealt.sum() + activity[user]) - dealt))
        country[user] = c
        dealt[c] += activity[user]
