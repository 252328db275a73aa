"""Seed spread: the bootstrap confidence interval of a mean over seeds, and the rule that one condition lies above
another (:func:`ci_above`).

A condition's value per run (e.g. the fraction of grid-like units) is one draw per training seed. The percentile
bootstrap resamples the seeds with replacement; with ``n`` seeds there are only ``C(2n - 1, n)`` distinct resamples
(10 for 3 seeds), so the interval is coarse but honest: a single seed has no interval at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["AUC", "CI_LEVEL", "N_BOOTSTRAP", "N_PERMUTATIONS", "DifferenceTest", "RankTest", "SeedCI", "ci_above",
           "difference_test", "rank_correlation_test", "roc_auc", "seed_ci"]

CI_LEVEL = 0.95  # two-sided confidence level of every interval in the book
N_BOOTSTRAP = 10_000  # bootstrap resamples of the seeds
N_PERMUTATIONS = 9_999  # random pairings of a permutation test (exact when there are fewer distinct pairings)


@dataclass(frozen=True)
class SeedCI:
    """The mean of ``n`` per-seed values and its percentile-bootstrap interval [low, high] at ``level`` (NaN bounds
    with fewer than 2 seeds: no spread to resample)."""

    mean: float
    low: float
    high: float
    n: int
    level: float = CI_LEVEL

    def text(self, scale: float = 1.0, digits: int = 1) -> str:
        """"12.3 [10.1, 14.0] (3 seeds)" with values times ``scale`` (e.g. 100 for percentages)."""
        seeds = f"{self.n} seed{'s' * (self.n != 1)}"
        if not np.isfinite(self.low):
            return f"{scale * self.mean:.{digits}f} ({seeds}, no interval)"
        mean, low, high = (f"{scale * v:.{digits}f}" for v in (self.mean, self.low, self.high))
        return f"{mean} [{low}, {high}] ({seeds})"


def seed_ci(values, level: float = CI_LEVEL, n_resamples: int = N_BOOTSTRAP, seed: int = 0) -> SeedCI:
    """The mean of the finite ``values`` (one per seed) with its percentile-bootstrap interval: ``n_resamples``
    resamples of the seeds with replacement (generator seeded by ``seed``, so the interval is reproducible)."""
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} is invalid; allowed values: 0 < level < 1")
    x = np.asarray(values, dtype=float).ravel()
    x = x[np.isfinite(x)]  # (n,)
    if x.size == 0:
        return SeedCI(float("nan"), float("nan"), float("nan"), 0, level)
    if x.size == 1:
        return SeedCI(float(x[0]), float("nan"), float("nan"), 1, level)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(axis=1)  # (n_resamples,)
    low, high = np.percentile(means, [50 * (1 - level), 50 * (1 + level)])
    return SeedCI(float(x.mean()), float(low), float(high), int(x.size), level)


def ci_above(upper: SeedCI, lower: SeedCI) -> bool:
    """Whether ``upper`` lies above ``lower``: both have an interval (at least 2 seeds) and ``upper``'s low end is
    above ``lower``'s high end."""
    return bool(np.isfinite(upper.low) and np.isfinite(lower.high) and upper.low > lower.high)


@dataclass(frozen=True)
class RankTest:
    """Spearman's rank correlation ``rho`` of ``n`` pairs and its one-sided permutation p-value for ``rho > 0``
    (exact over all pairings when ``n!`` is at most :data:`N_PERMUTATIONS`; NaN with fewer than 3 pairs)."""

    rho: float
    p_value: float
    n: int


def rank_correlation_test(x, y, seed: int = 0) -> RankTest:
    """Whether ``y`` rises with ``x``: Spearman's rho and the fraction of random pairings of the values with a rho at
    least as large (scipy.stats.permutation_test; pairs with a NaN are left out)."""
    from scipy import stats

    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x has {x.size} values but y has {y.size}; they must pair up")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return RankTest(float("nan"), float("nan"), int(x.size))
    rx, ry = stats.rankdata(x), stats.rankdata(y)  # Spearman's rho is Pearson's r of the ranks

    def rho(ranks, axis=-1):  # ranks (..., n) of y in some order against the fixed ranks of x
        a, b = rx - rx.mean(), ranks - ranks.mean(axis=axis, keepdims=True)
        return (a * b).sum(axis=axis) / np.sqrt((a * a).sum() * (b * b).sum(axis=axis))

    exact = math.factorial(x.size) <= N_PERMUTATIONS  # then every order of y is tried
    result = stats.permutation_test((ry,), rho, vectorized=True, permutation_type="pairings", alternative="greater",
                                    n_resamples=np.inf if exact else N_PERMUTATIONS, rng=np.random.default_rng(seed))
    return RankTest(float(result.statistic), float(result.pvalue), int(x.size))


@dataclass(frozen=True)
class DifferenceTest:
    """Whether one set of per-seed values exceeds another: the difference of their means (``effect``) with its
    bootstrap interval (seeds resampled within each set), and the one-sided permutation p-value of a difference at
    least as large when the seeds' labels are shuffled."""

    effect: float
    low: float
    high: float
    p_value: float
    n: tuple[int, int]


def difference_test(a, b, seed: int = 0, level: float = CI_LEVEL) -> DifferenceTest:
    """``a`` (per-seed values of one condition) against ``b`` (another's): :class:`DifferenceTest`, NaN where either
    has fewer than 2 finite values."""
    from scipy import stats

    a, b = (np.asarray(v, dtype=float).ravel() for v in (a, b))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        nan = float("nan")
        return DifferenceTest(nan, nan, nan, nan, (int(a.size), int(b.size)))
    rng = np.random.default_rng(seed)
    draws = (a[rng.integers(0, a.size, size=(N_BOOTSTRAP, a.size))].mean(1)
             - b[rng.integers(0, b.size, size=(N_BOOTSTRAP, b.size))].mean(1))  # (N_BOOTSTRAP,)
    low, high = np.percentile(draws, [50 * (1 - level), 50 * (1 + level)])
    result = stats.permutation_test((a, b), lambda x, y, axis=-1: x.mean(axis=axis) - y.mean(axis=axis),
                                    vectorized=True, alternative="greater", n_resamples=N_PERMUTATIONS,
                                    rng=np.random.default_rng(seed))
    return DifferenceTest(float(a.mean() - b.mean()), float(low), float(high), float(result.pvalue),
                          (int(a.size), int(b.size)))


@dataclass(frozen=True)
class AUC:
    """The area under the ROC curve of a score predicting a yes/no outcome, with its bootstrap interval over runs."""

    auc: float
    low: float
    high: float
    positives: int
    negatives: int


def roc_auc(scores, outcomes, seed: int = 0, level: float = CI_LEVEL, n_resamples: int = 2_000) -> AUC:
    """How well ``scores`` rank the runs with ``outcomes`` True above those without: the probability that a random
    positive scores above a random negative (ties count one half; the Mann-Whitney form of the AUC), and its
    percentile-bootstrap interval (runs resampled). NaN without both outcomes."""
    s, y = np.asarray(scores, dtype=float).ravel(), np.asarray(outcomes, dtype=bool).ravel()
    keep = np.isfinite(s)
    s, y = s[keep], y[keep]

    def auc(s, y) -> float:
        pos, neg = s[y], s[~y]
        if not pos.size or not neg.size:
            return float("nan")
        greater = (pos[:, None] > neg[None, :]).mean()
        ties = (pos[:, None] == neg[None, :]).mean()
        return float(greater + 0.5 * ties)

    value = auc(s, y)
    if not np.isfinite(value):
        return AUC(value, value, value, int(y.sum()), int((~y).sum()))
    rng = np.random.default_rng(seed)
    draws = [auc(s[i], y[i]) for i in rng.integers(0, s.size, size=(n_resamples, s.size))]
    low, high = np.nanpercentile(draws, [50 * (1 - level), 50 * (1 + level)])
    return AUC(value, float(low), float(high), int(y.sum()), int((~y).sum()))
