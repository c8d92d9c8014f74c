"""The user pool: pseudonymous ids, a fixed country each, and Zipf-like activity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokencensus.simulate.config import SimConfig
from tokencensus.simulate.sampling import PowerLaw
from tokencensus.simulate.world import COUNTRIES

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


def build_users(config: SimConfig) -> Users:
    """Draw the pool."""
    n = config.users
    rng = np.random.default_rng([config.seed, 2])
    by_rank = rng.permutation(n)
    activity = np.empty(n)
    activity[by_rank] = np.arange(1, n + 1, dtype=np.float64) ** -config.user_zipf
    shares = np.array([s for _, _, s in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n, p=shares / shares.sum()).astype(np.int16)
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
        countries=pa.array([c for c, _, _ in COUNTRIES]),
    )
