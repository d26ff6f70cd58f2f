"""Means, 95% confidence intervals (Student t) and paired comparisons of
the per-seed results."""

import math
from collections.abc import Sequence

# Two-sided 95% critical values of Student's t, df = 1..30 (standard table).
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
       2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
       2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t95(df: int) -> float:
    """The two-sided 95% critical value of Student's t with `df` degrees of freedom."""
    if df < 1:
        raise ValueError("a confidence interval needs at least 2 values")
    return T95[df - 1] if df <= len(T95) else 1.960


def mean_ci(values: Sequence[float]) -> tuple[float, float | None]:
    """(mean, half-width of the 95% CI); half-width None for one value."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = sum(values) / n
    if n == 1:
        return mean, None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, t95(n - 1) * sd / math.sqrt(n)


def compare(better: Sequence[float], worse: Sequence[float], label_better: str, label_worse: str,
            unit: str = "points") -> tuple[str, str]:
    """A plain statement of how `better` (per-seed values) compares with
    `worse` (same seeds, same order), paired by seed. Only claims what the
    interval supports."""
    diffs = [b - w for b, w in zip(better, worse)]
    mean, half = mean_ci(diffs)
    if half is None:
        if mean == 0:
            what = f"{label_better} scored the same {unit} as {label_worse}"
        else:
            direction = "higher" if mean > 0 else "lower"
            what = f"{label_better} scored {abs(mean):.1f} {unit} {direction} than {label_worse}"
        return ("inconclusive",
                f"{what} in a single seed; one seed gives no confidence interval, so this is no "
                f"evidence either way.")
    lo, hi = mean - half, mean + half
    interval = f"{mean:+.1f} {unit} (95% CI [{lo:+.1f}, {hi:+.1f}], {len(diffs)} seeds, paired)"
    if lo > 0:
        return "better", f"{label_better} beat {label_worse}: {interval}."
    if hi < 0:
        return "worse", f"{label_better} did worse than {label_worse}: {interval}."
    return ("inconclusive",
            f"no clear difference between {label_better} and {label_worse}: {interval}; the "
            f"interval includes 0, so this run does not show that either is better.")
