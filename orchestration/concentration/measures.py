"""Concentration of counts over a fixed universe of places, and how far chance alone goes: the Gini
index and the top share, their bootstrap intervals (the period's crimes drawn again from each place's
smoothed risk), and their distribution when the same crimes fall on the same places at random.

Every function takes counts as an array whose last axis is the universe of places (places with no
crime at zero), so one call handles many draws at once."""

from __future__ import annotations

import math

import numpy as np

DRAWS = 1000  # resamples for the bootstrap, and random spreads for the benchmark
LEVEL = 0.95


def gini(counts: np.ndarray) -> np.ndarray:
    """Gini index over the last axis: 2 sum(i x_(i)) / (n sum x) - (n + 1) / n, x ascending, i from 1
    (0 = spread evenly, (n - 1) / n = all in one place); NaN where the total is 0."""
    x = np.sort(np.asarray(counts, dtype=float), axis=-1)
    n = x.shape[-1]
    total = x.sum(axis=-1)
    weighted = (x * np.arange(1, n + 1)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2 * weighted / (n * total) - (n + 1) / n, np.nan)


def top_share(counts: np.ndarray, fraction: float) -> np.ndarray:
    """Share of the total in the top ceil(n x fraction) places (at least one) over the last axis."""
    x = -np.sort(-np.asarray(counts, dtype=float), axis=-1)
    top = max(1, math.ceil(x.shape[-1] * fraction))
    total = x.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, x[..., :top].sum(axis=-1) / total, np.nan)


def universe_counts(counts: np.ndarray, places: int) -> np.ndarray:
    """The counts of the places that had a crime, padded with zeros to the whole universe."""
    if places < len(counts):
        raise ValueError(f"{len(counts)} places with a count, but a universe of only {places}")
    return np.concatenate([np.asarray(counts, dtype=np.int64), np.zeros(places - len(counts), dtype=np.int64)])


def smoothed_risk(counts: np.ndarray) -> np.ndarray:
    """Each place's share of the risk, its count shrunk toward the mean (gamma-Poisson empirical
    Bayes): count + a, with a = mean^2 / (variance - mean) by the method of moments; every place
    alike when the counts are no more spread than Poisson. A place with no crime this period keeps
    some risk, as it has in truth: resampling the raw counts would hold it at zero forever."""
    x = np.asarray(counts, dtype=float)
    mean, variance = x.mean(), x.var(ddof=1)
    risk = x + mean * mean / (variance - mean) if variance > mean else np.full(len(x), 1.0)
    return risk / risk.sum()


def bootstrap(counts: np.ndarray, rng: np.random.Generator, draws: int = DRAWS) -> np.ndarray:
    """The period's crimes drawn again over the same places from their smoothed risk: draws x places."""
    return rng.multinomial(int(counts.sum()), smoothed_risk(counts), size=draws)


def random_spread(total: int, places: int, rng: np.random.Generator, draws: int = DRAWS) -> np.ndarray:
    """The same number of crimes, each on a place chosen uniformly at random: draws x places."""
    return rng.multinomial(total, np.full(places, 1.0 / places), size=draws)


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` percentile range of the draws."""
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return float(low), float(high)


def interval_around(observed: float, resampled: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The resamples' spread placed around the observed value: observed - (mean - low) to observed +
    (high - mean), within [0, 1]. With sparse counts the resampled indices are not centred on the
    observed one (sparsity moves the index), so their own percentiles can miss it; the spread
    around their own mean is the sampling variability the interval is for."""
    low, high = interval(resampled, level)
    centre = float(np.nanmean(resampled))
    return max(0.0, observed - (centre - low)), min(1.0, observed + (high - centre))
