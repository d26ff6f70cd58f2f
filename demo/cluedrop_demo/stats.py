"""Intervals and comparisons of the demo's QA scores, from per-question
outcomes.

A run (mode, seed) answers the same questions about the same evaluated
people. Its score is the mean over questions; the unit that is sampled, in
the sense of "would another set of people give the same result", is the
person (a person's six questions share one biography, so they are not
independent), and the other source of variation is the seed (dropout masks,
sample order). Every interval here is a two-stage percentile bootstrap over
both: each resample draws the seeds with replacement and the people with
replacement, and takes the mean of the drawn (seed, person) cells.

- level(): one mode's score. A mean of scores in [0, 100] stays in
  [0, 100], so its percentile interval does too (Student t intervals over
  two seeds did not: -30 to +47 points).
- paired(): the difference A - B of two modes, resampling the same seeds and
  people for both (paired), so what the two runs share cancels.
- power(): how many seeds a paired comparison needs to detect a given
  difference, from the variance components of the observed differences.

Resamples use a fixed numpy seed, so a report is a function of its data.
"""

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

RESAMPLES = 4000
_RNG_SEED = 20250225
Z95 = 1.959964
Z80 = 0.841621


@dataclasses.dataclass(frozen=True)
class Cells:
    """Scores of several runs (seeds) of one mode over the same people:
    sums[run, person] is the sum of the person's question scores in percent,
    counts[person] the number of their questions. A score is
    sum / count over the people drawn, so the point estimate is the
    question mean the job reports."""
    sums: np.ndarray
    counts: np.ndarray

    def __sub__(self, other: "Cells") -> "Cells":
        if self.sums.shape != other.sums.shape or not np.array_equal(self.counts, other.counts):
            raise ValueError("paired cells differ in runs or questions")
        return Cells(self.sums - other.sums, self.counts)

    @property
    def per_person(self) -> np.ndarray:
        """(runs x people) mean score of each person's questions."""
        return self.sums / self.counts


def cells(runs: Sequence[Sequence[Sequence]], field: str | None = None,
          metric: str = "em") -> Cells:
    """Cells from one list of [subject, field, exact match, F1] per run
    (a run = a seed), of `field`'s questions only when given. Every run
    must hold the same questions in the same order; people in order of
    first appearance."""
    if not runs:
        raise ValueError("no runs")
    column = {"em": 2, "f1": 3}[metric]
    keys = [(q[0], q[1]) for q in runs[0]]
    for i, run in enumerate(runs[1:], 1):
        if [(q[0], q[1]) for q in run] != keys:
            raise ValueError(f"run {i} answered other questions than run 0")
    people: dict[str, int] = {}
    for subject, f in keys:
        if field is None or f == field:
            people.setdefault(subject, len(people))
    if not people:
        raise ValueError(f"no questions{'' if field is None else ' of field ' + field}")
    sums = np.zeros((len(runs), len(people)))
    counts = np.zeros(len(people))
    for subject, f in keys:
        if field is None or f == field:
            counts[people[subject]] += 1
    for row, run in enumerate(runs):
        for q in run:
            if field is None or q[1] == field:
                sums[row, people[q[0]]] += 100.0 * q[column]
    return Cells(sums, counts)


def _resample_means(c: Cells, resamples: int = RESAMPLES) -> np.ndarray:
    """Scores of `resamples` two-stage bootstrap draws: runs (seeds) with
    replacement, then people with replacement (the same people for every
    run of a draw)."""
    rng = np.random.default_rng(_RNG_SEED)
    n_runs, n_people = c.sums.shape
    run_draw = rng.integers(0, n_runs, size=(resamples, n_runs))
    person_draw = rng.integers(0, n_people, size=(resamples, n_people))
    # (runs, resamples): each run's score over the drawn people.
    per_run = (c.sums[:, person_draw].sum(axis=2) / c.counts[person_draw].sum(axis=1)).T
    return np.take_along_axis(per_run, run_draw, axis=1).mean(axis=1)


@dataclasses.dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    seeds: int
    people: int

    def cell(self) -> str:
        return f"{self.mean:.1f} [{self.low:.1f}, {self.high:.1f}]"


def level(c: Cells, confidence: float = 0.95) -> Interval:
    """Score (mean over runs of the question mean) and its percentile
    bootstrap interval at `confidence`."""
    means = _resample_means(c)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    point = float((c.sums.sum(axis=1) / c.counts.sum()).mean())
    return Interval(point, float(low), float(high), *c.sums.shape)


def paired(a: Cells, b: Cells, confidence: float = 0.95) -> Interval:
    """A - B and its interval, the same seeds and people resampled for
    both (runs must be in the same seed order)."""
    return level(a - b, confidence)


@dataclasses.dataclass(frozen=True)
class Power:
    """Variance components of a paired difference d[seed, person] =
    mu + person effect + seed effect + residual (two-way ANOVA without
    replication), and what they imply."""
    sd_person: float   # between people (fixed by the population, not by seeds)
    sd_seed: float     # between seeds
    sd_residual: float
    people: int

    def standard_error(self, seeds: int) -> float:
        """Standard error of the mean difference with `seeds` seeds."""
        return math.sqrt(self.sd_person ** 2 / self.people + self.sd_seed ** 2 / seeds +
                         self.sd_residual ** 2 / (self.people * seeds))

    def seeds_for(self, effect: float, limit: int = 64) -> int | None:
        """The fewest seeds for 80% power to detect `effect` points at the
        two-sided 5% level (normal approximation); None if even `limit`
        seeds are not enough (the person term alone is too large: that
        takes more people, not more seeds)."""
        target = effect / (Z95 + Z80)
        for seeds in range(1, limit + 1):
            if self.standard_error(seeds) <= target:
                return seeds
        return None

    def detectable(self, seeds: int) -> float:
        """The difference (points) detected with 80% power with `seeds` seeds."""
        return (Z95 + Z80) * self.standard_error(seeds)


def power(a: Cells, b: Cells) -> Power:
    """Variance components of the paired per-person differences of A and B
    (seeds x people); needs at least 2 seeds and 2 people."""
    diff = (a - b).per_person
    n_seeds, n_people = diff.shape
    if n_seeds < 2 or n_people < 2:
        raise ValueError("variance components need at least 2 seeds and 2 people")
    grand = diff.mean()
    seed_means = diff.mean(axis=1)
    person_means = diff.mean(axis=0)
    ms_seed = n_people * ((seed_means - grand) ** 2).sum() / (n_seeds - 1)
    ms_person = n_seeds * ((person_means - grand) ** 2).sum() / (n_people - 1)
    resid = diff - seed_means[:, None] - person_means[None, :] + grand
    ms_resid = (resid ** 2).sum() / ((n_seeds - 1) * (n_people - 1))
    var_seed = max(0.0, (ms_seed - ms_resid) / n_people)
    var_person = max(0.0, (ms_person - ms_resid) / n_seeds)
    return Power(math.sqrt(var_person), math.sqrt(var_seed), math.sqrt(ms_resid), n_people)


def verdict(interval: Interval) -> str:
    """better / worse / inconclusive from a paired interval of A - B."""
    if interval.low > 0:
        return "better"
    if interval.high < 0:
        return "worse"
    return "inconclusive"


def compare(a: Cells, b: Cells, label_a: str, label_b: str,
            unit: str = "points") -> tuple[str, str, Interval]:
    """A plain statement of how A compares with B (paired over seeds and
    people); only claims what the 95% interval supports."""
    iv = paired(a, b)
    text = (f"{iv.mean:+.1f} {unit} (95% CI [{iv.low:+.1f}, {iv.high:+.1f}], paired over "
            f"{iv.seeds} seed{'s' if iv.seeds != 1 else ''} and {iv.people} people)")
    kind = verdict(iv)
    if kind == "better":
        return kind, f"{label_a} beat {label_b}: {text}.", iv
    if kind == "worse":
        return kind, f"{label_a} did worse than {label_b}: {text}.", iv
    return (kind, f"no clear difference between {label_a} and {label_b}: {text}; the interval "
                  f"includes 0, so this run does not show that either is better.", iv)
