"""Vectorised discrete sampling: alias tables, power-law ranks, successive sampling."""

from __future__ import annotations

import numpy as np


class AliasTable:
    """Draw from one of several discrete distributions per row in O(1) (Walker/Vose alias method).

    ``p`` is (groups, outcomes); each row is normalised. :meth:`draw` takes each row's group.
    """

    def __init__(self, p: np.ndarray) -> None:
        p = np.atleast_2d(np.asarray(p, dtype=np.float64))
        groups, width = p.shape
        prob = np.ones((groups, width))
        alias = np.tile(np.arange(width), (groups, 1))
        for g in range(groups):
            q = p[g] / p[g].sum() * width
            small = [i for i in range(width) if q[i] < 1.0]
            large = [i for i in range(width) if q[i] >= 1.0]
            while small and large:
                s, big = small.pop(), large.pop()
                prob[g, s], alias[g, s] = q[s], big
                q[big] += q[s] - 1.0
                (small if q[big] < 1.0 else large).append(big)
        self.width = width
        self._prob = prob.ravel()
        self._alias = alias.ravel()

    def draw(self, rng: np.random.Generator, group: np.ndarray | int, n: int | None = None) -> np.ndarray:
        """One outcome per row of ``group`` (or ``n`` draws from group ``group``)."""
        size = n if n is not None else len(group)  # type: ignore[arg-type]
        j = np.minimum((rng.random(size) * self.width).astype(np.int64), self.width - 1)
        flat = np.asarray(group, dtype=np.int64) * self.width + j
        keep = rng.random(size) < self._prob[flat]
        return np.where(keep, j, self._alias[flat])


class PowerLaw:
    """Ranks 0..n-1 with P(rank r) = F(r + 1) - F(r), F(x) = ((x + 1)^a - 1) / ((n + 1)^a - 1).

    With a = 1 - beta this is P(r) ≈ (r + 1)^-beta up to a constant (beta = 1 is the log case), and
    the inverse of F makes every draw O(1).
    """

    def __init__(self, n: int, beta: float) -> None:
        self.n = n
        self.a = 1.0 - beta
        edges = self._cdf(np.arange(n + 1, dtype=np.float64))
        self.weights = np.diff(edges)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        if abs(self.a) < 1e-9:
            return np.log1p(x) / np.log1p(self.n)
        return ((x + 1.0) ** self.a - 1.0) / ((self.n + 1.0) ** self.a - 1.0)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        u = rng.random(size)
        if abs(self.a) < 1e-9:
            x = np.expm1(u * np.log1p(self.n))
        else:
            x = (u * ((self.n + 1.0) ** self.a - 1.0) + 1.0) ** (1.0 / self.a) - 1.0
        return np.minimum(x.astype(np.int64), self.n - 1)


def successive_sample(rng: np.random.Generator, law: PowerLaw, k: int) -> np.ndarray:
    """``k`` distinct ranks drawn one after another with probability ∝ ``law.weights``.

    Drawing with replacement and skipping repeats is exactly successive sampling without
    replacement; when ``k`` is a large part of the population the equivalent Gumbel top-k
    ordering is cheaper.
    """
    n = law.n
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k > n:
        raise ValueError(f"cannot draw {k} distinct users from {n}")
    if k > n // 8:
        keys = np.log(law.weights) + rng.gumbel(size=n)
        top = np.argpartition(-keys, k - 1)[:k]
        return top[np.argsort(-keys[top], kind="stable")]
    got = np.empty(0, dtype=np.int64)
    while len(got) < k:
        seq = np.concatenate([got, law.draw(rng, 2 * (k - len(got)) + 16)])
        _, first = np.unique(seq, return_index=True)
        got = seq[np.sort(first)]
    return got[:k]


def group_shuffle(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """An order that sorts ``group`` (non-negative ints < 32768) and is random within each group."""
    perm = rng.permutation(len(group))
    return perm[np.argsort(group[perm].astype(np.int16), kind="stable")]
