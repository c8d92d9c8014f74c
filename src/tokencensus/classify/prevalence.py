"""Category shares corrected for the classifier's errors, with bootstrap intervals.

Counting the labels a classifier gives (classify-and-count) is biased whenever it errs: a category
it confuses with others loses share to them, and the bias moves with the category mix, so a trend
in raw shares can be a trend in the mix of errors. Two corrections from the quantification
literature, both estimating the true shares ``q`` behind the labelled sample:

* **Adjusted classify-and-count** (Forman 2008; Saerens et al. call the same estimator the
  confusion-matrix method): with ``M[j, i] = P(predicted j | true i)`` measured on labelled prompts,
  the expected raw shares are ``p = M q``. :func:`adjust` solves that system for ``q`` by least
  squares on the probability simplex (``q ≥ 0``, ``Σ q = 1``): a singular or noisy ``M`` gives an
  answer still in the simplex, never negative shares. It needs only each prompt's label, which is
  what the lake's labels table keeps.
* **EM prior shift** (Saerens, Latinne & Decaestecker 2002): with each prompt's posterior vector
  under the training mix ``π``, alternate ``q ← mean_n(P_n · q/π, renormalised)`` to the maximum
  likelihood shares (:func:`em_shares`). It needs calibrated posteriors for every category.

Both assume what the literature calls prior shift: the classifier's errors within a category are
the same in the labelled prompts that measured them and in the traffic (``P(x | category)`` does not
change, only how often each category occurs). When the traffic's prompts of a category look unlike
the labelled ones, no correction can see it; the confusion matrix should be measured on prompts
like the traffic (``eval-classifier --data`` on the user's own labelled sample).

Shares are weighted (each labelled request counts its tokens times its model's inverse sampling
rate, as :mod:`tokencensus.analyses.categories` does): the correction applies to weighted shares
when the classifier's errors do not depend on a request's length within its category.

:func:`corrected_shares` gives raw and corrected shares with percentile bootstrap intervals that
carry both the sampling error of the prompt sample (labelled requests resampled with their
weights; above :data:`EXACT_BOOTSTRAP` requests, the resampled category sums drawn from their normal
approximation) and the measurement error of ``M`` (each true category's row of the confusion counts
redrawn from its multinomial).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

BOOTSTRAP = 1000
"""Bootstrap replicates of :func:`corrected_shares`."""
LEVEL = 0.95
"""Coverage of the intervals."""
EXACT_BOOTSTRAP = 50_000
"""Up to this many labelled requests the bootstrap redraws them (~1 s for 1,000 replicates); above,
it draws each replicate's category sums from their normal approximation (the redraw's own mean and
covariance, which the central limit theorem makes exact enough at that size): a report over 100M
requests classified at 0.25% has 250,000, whose redraws would cost ~5 s."""


@dataclass(frozen=True)
class Confusion:
    """Counts of labelled prompts by true category (rows) and predicted category (columns), over
    ``labels`` (the order of both axes): how a classifier errs, as ``eval-classifier`` measures it."""

    labels: tuple[str, ...]
    counts: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.counts.shape != (n, n):
            raise ValueError(f"confusion counts must be {n}×{n} for {n} labels, not {self.counts.shape}")
        if (self.counts < 0).any():
            raise ValueError("confusion counts must be non-negative")

    @property
    def measured(self) -> np.ndarray:
        """The categories with labelled prompts: only their errors are known, so only their shares
        are estimated; any other label is an outcome of the classifier, not a category the traffic
        is assumed to hold (e.g. ``other`` from the confidence floor, when no prompt is labelled
        other)."""
        return self.counts.sum(axis=1) > 0

    def rates(self, counts: np.ndarray | None = None) -> np.ndarray:
        """``M[j, i] = P(predicted j | true i)`` for every label j and every :attr:`measured`
        category i (columns in the order of ``labels[measured]``)."""
        counts = (self.counts if counts is None else counts)[self.measured]
        return (counts / counts.sum(axis=1, keepdims=True)).T

    def among(self, present: Sequence[str]) -> Confusion:
        """The same errors with only the ``present`` categories as possible true ones: the rows of
        the others are zeroed, so their shares are not estimated (a category the classifier never
        named in the traffic is taken to be absent from it)."""
        keep = np.isin(np.array(self.labels), list(present))
        return Confusion(self.labels, np.where(keep[:, None], self.counts, 0))

    def resample(self, rng: np.random.Generator) -> np.ndarray:
        """Counts drawn again, each true category's row from its own multinomial (the measurement
        error of :meth:`rates`)."""
        out = np.zeros_like(self.counts)
        for i, row in enumerate(self.counts):
            n = int(row.sum())
            if n:
                out[i] = rng.multinomial(n, row / n)
        return out


def adjust(raw: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """True shares ``q`` from raw shares ``p`` and ``rates`` (``M``, :meth:`Confusion.rates`;
    ``p`` over its rows, ``q`` over its columns): ``argmin ‖M q − p‖²`` over ``q ≥ 0, Σ q = 1``.

    Solved as non-negative least squares with the sum constraint as a heavily weighted extra row,
    then renormalised (the row holds the sum to within 1e-9 of 1 before that).
    """
    from scipy.optimize import nnls

    raw = np.asarray(raw, dtype=float)
    if raw.sum() <= 0:
        return np.zeros(rates.shape[1])
    p = raw / raw.sum()
    weight = 1e4
    a = np.vstack([rates, np.full((1, rates.shape[1]), weight)])
    b = np.concatenate([p, [weight]])
    q, _ = nnls(a, b, maxiter=50 * a.shape[1])
    total = q.sum()
    return q / total if total > 0 else np.full(rates.shape[1], 1 / rates.shape[1])


def em_shares(
    posteriors: np.ndarray,
    train_prior: np.ndarray,
    weights: np.ndarray | None = None,
    tol: float = 1e-8,
    max_iter: int = 1000,
) -> np.ndarray:
    """Maximum-likelihood shares under prior shift (Saerens et al. 2002).

    ``posteriors`` (n × C): each prompt's class probabilities under ``train_prior`` (the mix the
    classifier was fitted to); ``weights``: each prompt's weight (default 1). Iterates
    ``P'_n ∝ P_n · q / π``, ``q = Σ w_n P'_n / Σ w_n`` from the raw mean until ``q`` moves by less
    than ``tol``.
    """
    post = np.asarray(posteriors, dtype=float)
    prior = np.asarray(train_prior, dtype=float)
    w = np.ones(len(post)) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    q = w @ post
    ratio_base = np.where(prior > 0, 1.0 / np.where(prior > 0, prior, 1.0), 0.0)
    for _ in range(max_iter):
        scaled = post * (q * ratio_base)
        scaled /= np.maximum(scaled.sum(axis=1, keepdims=True), 1e-300)
        new = w @ scaled
        if np.abs(new - q).max() < tol:
            return new
        q = new
    return q


def _shares(codes: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    total = np.bincount(codes, weights=weights, minlength=n)
    s = total.sum()
    return total / s if s > 0 else total


def _resampled_sums(
    codes: np.ndarray, weights: np.ndarray, n: int, replicates: int, rng: np.random.Generator
) -> np.ndarray:
    """Each category's summed weight in ``replicates`` redraws (with replacement) of the requests:
    a (replicates × n) array. Up to :data:`EXACT_BOOTSTRAP` requests they are redrawn; above, the
    sums are drawn from their normal approximation, with the redraw's exact mean and covariance
    (S and diag(Q) − S Sᵀ / N, S and Q a category's Σ w and Σ w², N the requests), clipped at 0."""
    size = len(codes)
    if size <= EXACT_BOOTSTRAP:
        out = np.empty((replicates, n))
        for r in range(replicates):
            pick = rng.integers(0, size, size)
            out[r] = np.bincount(codes[pick], weights=weights[pick], minlength=n)
        return out
    s = np.bincount(codes, weights=weights, minlength=n)
    q = np.bincount(codes, weights=weights * weights, minlength=n)
    cov = np.diag(q) - np.outer(s, s) / size
    return np.clip(rng.multivariate_normal(s, cov, size=replicates, method="eigh"), 0.0, None)


def corrected_shares(
    categories: Sequence[str],
    weights: Sequence[float] | np.ndarray,
    confusion: Confusion,
    replicates: int = BOOTSTRAP,
    level: float = LEVEL,
    seed: int = 0,
) -> pd.DataFrame:
    """Raw and corrected shares of each category with bootstrap intervals.

    ``categories`` are the labels given to the sampled requests (after the confidence floor), one
    per request, with their ``weights``. Columns: category, raw_share, raw_low, raw_high, share
    (corrected, :func:`adjust`), low, high; one row per label of ``confusion``, in its order. A label
    without labelled prompts (not :attr:`Confusion.measured`) has its raw share and no corrected
    one (missing): its requests count as errors of the measured categories. A label unknown to
    ``confusion`` raises.
    """
    index = {c: i for i, c in enumerate(confusion.labels)}
    unknown = sorted({c for c in categories} - set(index))
    if unknown:
        raise ValueError(f"categories without measured errors: {', '.join(unknown)}")
    n = len(confusion.labels)
    codes = np.fromiter((index[c] for c in categories), dtype=np.int64, count=len(categories))
    w = np.asarray(weights, dtype=float)
    if len(w) != len(codes):
        raise ValueError(f"{len(codes)} categories but {len(w)} weights")
    raw = _shares(codes, w, n)
    measured = confusion.measured
    point = np.full(n, np.nan)
    point[measured] = adjust(raw, confusion.rates())
    rng = np.random.default_rng(seed)
    sums = _resampled_sums(codes, w, n, replicates, rng)
    total = sums.sum(axis=1, keepdims=True)
    raw_boot = np.divide(sums, total, out=np.zeros_like(sums), where=total > 0)
    boot = np.full((replicates, n), np.nan)
    for r in range(replicates):
        boot[r, measured] = adjust(raw_boot[r], confusion.rates(confusion.resample(rng)))
    tail = (1 - level) / 2 * 100
    low, high = np.full(n, np.nan), np.full(n, np.nan)
    if measured.any():
        low[measured], high[measured] = np.percentile(boot[:, measured], [tail, 100 - tail], axis=0)
    return pd.DataFrame(
        {
            "category": list(confusion.labels),
            "raw_share": raw,
            "raw_low": np.percentile(raw_boot, tail, axis=0),
            "raw_high": np.percentile(raw_boot, 100 - tail, axis=0),
            "share": point,
            "low": low,
            "high": high,
        }
    )


@dataclass(frozen=True)
class Errors:
    """A classifier's measured errors, and whether they were measured on the traffic itself."""

    confusion: Confusion
    on_traffic: bool
    """True: measured on a labelled sample of the lake's own prompts (``eval-classifier --data
    FILE.jsonl --lake LAKE``); False: the shipped classifier's errors on public sources it was not
    trained on (``eval-classifier --data DIR``, leave one source out)."""

    @property
    def prompts(self) -> int:
        return int(self.confusion.counts.sum())

    @property
    def where(self) -> str:
        """Where the errors were measured, for a reader."""
        if self.on_traffic:
            return f"a labelled sample of this traffic ({self.prompts:,} prompts)"
        return f"public sources the classifier was not trained on ({self.prompts:,} prompts)"


def errors_for(classifier: str, lake_file: Path | None = None) -> Errors | None:
    """The errors to correct ``classifier``'s labels with: those measured on the lake's own labelled
    sample (``lake_file``, :data:`tokencensus.lake.CALIBRATION_FILE`) when it holds them, else the
    shipped classifier's out-of-source errors; ``None`` when neither exists (an LLM endpoint)."""
    from tokencensus.classify.classifiers import load_confusion, shipped_confusion

    if lake_file is not None and lake_file.exists():
        confusion = load_confusion(classifier, lake_file)
        if confusion is not None:
            return Errors(confusion, on_traffic=True)
    confusion = shipped_confusion(classifier)
    return None if confusion is None else Errors(confusion, on_traffic=False)


CORRECTED_COLUMNS = ("corrected_share", "corrected_low", "corrected_high", "headlined")
"""The columns of :func:`corrected_mix` that every category's requests enter (through the
correction): the report blanks them in every row when any row is hidden by the privacy floor."""


def corrected_mix(
    mix: pd.DataFrame,
    categories: Sequence[str],
    weights: Sequence[float] | np.ndarray,
    errors: Errors | None,
    replicates: int = BOOTSTRAP,
    seed: int = 0,
) -> pd.DataFrame:
    """The category mix with raw and corrected shares and their intervals (:func:`corrected_shares`).

    ``mix`` has one row per category (category, tokens, users: the classified requests' estimated
    tokens and distinct users); ``categories`` and ``weights`` are the labelled requests' categories
    (after the confidence floor) and estimated tokens, the sample the bootstrap redraws.

    Columns: category, tokens, users, raw_share, raw_low, raw_high, corrected_share, corrected_low,
    corrected_high, headlined ('corrected' when the errors were measured on this traffic, else
    'raw'), errors (where they were measured). The correction estimates the shares of the categories
    the labels name (one no request was labelled with is taken to be absent, :meth:`Confusion.among`);
    a label whose errors were not measured (``other`` from the confidence floor, when no labelled
    prompt is other) is an outcome of the classifier: its requests count as errors of the measured
    categories and it has no corrected share. Without ``errors``, or with errors measured over other
    labels, there is no corrected share at all.
    """
    rows = mix[["category", "tokens", "users"]].sort_values("category").reset_index(drop=True)
    labels = tuple(rows["category"].astype(str))
    where = errors.where if errors else "not measured"
    if errors is not None and set(labels) - set(errors.confusion.labels):
        errors, where = None, f"{where}, over other categories than these"
    # without errors, a classifier taken to be right (the identity) gives the raw shares and intervals
    identity = Confusion(labels, np.eye(len(labels), dtype=np.int64))
    confusion = errors.confusion.among(labels) if errors else identity
    shares = corrected_shares(categories, weights, confusion, replicates=replicates, seed=seed)
    renamed = {"share": "corrected_share", "low": "corrected_low", "high": "corrected_high"}
    out = rows.merge(shares.rename(columns=renamed), on="category", how="left")
    if errors is None:
        out[list(CORRECTED_COLUMNS[:3])] = np.nan
    out["headlined"] = "corrected" if errors and errors.on_traffic else "raw"
    out["errors"] = where
    return out
