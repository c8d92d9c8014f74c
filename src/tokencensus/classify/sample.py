"""Which sampled prompts to classify: deterministic, at a configurable rate, stratified by model.

Ingest keeps the text of requests whose :func:`~tokencensus.ingest.samples.sample_fraction` (a
hash of the request id) is below its ``--sample-rate``. Classification takes a nested subset with the
same hash: request ``r`` of model ``m`` is classified when ``fraction(r) < max(rate, t_m)``, where
``t_m`` is just above the ``min_per_model``-th smallest fraction among model ``m``'s available samples.
So every model gets at least ``min_per_model`` labels when it has that many samples (small models get
labels too), the choice never depends on run order, and re-running picks the same requests.

Shares are re-weighted to tokens and to the unequal sampling in the analyses
(``analyses.categories``): each labelled request stands for ``N_m / n_m`` requests of its model
(all requests / labelled requests of that model), and counts with its own tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokencensus import settings
from tokencensus.errors import ConfigError
from tokencensus.ingest.samples import sample_fraction

DEFAULT_RATE: float = settings.CLASSIFY_RATE.default
"""The study classified about 0.25% of prompts (the ``--rate`` setting)."""
MIN_PER_MODEL: int = settings.MIN_PER_MODEL.default


@dataclass(frozen=True)
class SamplePlan:
    """The chosen request ids and each model's effective rate."""

    request_ids: pa.Array
    rate_by_model: dict[str, float]


def fractions(request_ids: pa.Array | list[str]) -> np.ndarray:
    """The sampling fraction in [0, 1) of each request id (same hash as ingest)."""
    ids = request_ids.to_pylist() if isinstance(request_ids, pa.Array | pa.ChunkedArray) else request_ids
    return np.fromiter((sample_fraction(r) for r in ids), dtype=np.float64, count=len(ids))


def choose(
    candidates: pa.Table, rate: float = DEFAULT_RATE, min_per_model: int = MIN_PER_MODEL
) -> SamplePlan:
    """The requests of ``candidates`` (request_id, model) to classify (see the module docstring)."""
    if not 0.0 < rate <= 1.0:
        raise ConfigError(f"classification rate must be in (0, 1], not {rate}")
    if min_per_model < 0:
        raise ConfigError(f"min_per_model must be >= 0, not {min_per_model}")
    if candidates.num_rows == 0:
        return SamplePlan(pa.array([], pa.string()), {})
    frac = fractions(candidates.column("request_id"))
    models = pc.fill_null(candidates.column("model"), "unknown").to_numpy(zero_copy_only=False).astype(str)
    keep = np.zeros(len(frac), dtype=bool)
    rates: dict[str, float] = {}
    for model in np.unique(models):
        idx = np.flatnonzero(models == model)
        threshold = rate
        if min_per_model and len(idx) > 0:
            k = min(min_per_model, len(idx))
            kth = np.partition(frac[idx], k - 1)[k - 1]
            threshold = max(rate, float(np.nextafter(kth, 1.0)))
        keep[idx] = frac[idx] < threshold
        rates[str(model)] = min(threshold, 1.0)
    return SamplePlan(candidates.column("request_id").filter(pa.array(keep)).combine_chunks(), rates)
