r"""Checkers for the exercises of the chapter "Comparing algorithms honestly"
(book/comparing.ipynb, {ref}`ch-comparing`).

(a) ``flip_probability(a, b, k)``: with all seeds, algorithm A's mean score is above B's; the
    probability that the mean of $k$ seeds of A drawn at random (without replacement) is
    *strictly below* the mean of $k$ seeds of B drawn independently,
    $P\big(\bar a_S < \bar b_T\big)$ over all $\binom{n_a}{k}\binom{n_b}{k}$ equally likely
    pairs of subsets $(S, T)$, eq. {eq}`eq-cmp-flip`;
(b) ``interquartile_mean(scores)``: the mean of the sorted scores without the lowest and the
    highest $\lfloor n/4 \rfloor$, eq. {eq}`eq-cmp-iqm`;
(c) ``percentile_bootstrap_ci(scores, resamples, statistic, confidence)``: the statistic of each
    resample ``scores[resamples[j]]`` and the $\alpha/2$ and $1-\alpha/2$ quantiles of those
    values, $\alpha = 1 -$ confidence, eq. {eq}`eq-cmp-percentile-ci`.

The references are computed here with plain loops over subsets and sorted lists, independently
of :mod:`rlnotes.stats` (which wraps rliable and is tested in tests/test_stats.py). Each typical
mistake is simulated and recognised by comparing the reader's answer with the mistake's answer.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .core import Hint, _, as_array, call, checker, close, diagnose, fmt, match_mistake, number, require_unchanged

__all__ = ["check_flip_probability", "check_interquartile_mean", "check_percentile_bootstrap_ci"]

_TOL = dict(atol=1e-9, rtol=1e-9)


# ============================================================================================
# (a) the probability that k seeds reverse the ranking
# ============================================================================================
def _flip(a, b, k, *, ties=False, replace=False, paired=False, stat=None, agree=False):
    """P(stat of k seeds of a < stat of k seeds of b), by enumerating every pair of subsets.

    Each keyword switches on one typical mistake: ``ties`` counts equal means as a flip,
    ``replace`` draws with replacement (k-tuples), ``paired`` uses the same seed indices for
    both, ``stat`` replaces the mean (e.g. the median), ``agree`` returns P(a's mean > b's).
    """
    stat = stat or (lambda x: sum(x) / len(x))
    draw = ((lambda n: itertools.product(range(n), repeat=k)) if replace
            else (lambda n: itertools.combinations(range(n), k)))
    subsets_a = list(draw(len(a)))
    subsets_b = subsets_a if paired else list(draw(len(b)))
    hits, total = 0.0, 0
    for s in subsets_a:
        mean_a = stat([a[i] for i in s])
        for t in ([s] if paired else subsets_b):
            mean_b = stat([b[i] for i in t])
            if agree:
                hits += mean_a > mean_b
            else:
                hits += mean_a < mean_b or (ties and mean_a == mean_b)
            total += 1
    return hits / total


def _flip_cases():
    """(description, a, b, k): A's mean above B's on all seeds; integer scores, so subset means tie."""
    seeds = _("a = {na} seeds, b = {nb} seeds, k = {k}")
    return [
        (seeds.format(na=6, nb=6, k=3), [500, 420, 480, 300, 500, 460], [410, 470, 350, 440, 380, 455], 3),
        (_("a = {na} seeds, b = {nb} seeds, k = {k} (ties possible)").format(na=5, nb=7, k=2),
         [10, 12, 9, 15, 11], [9, 10, 12, 8, 11, 10, 9], 2),
        (seeds.format(na=7, nb=5, k=3), [0.9, 0.2, 0.8, 0.7, 0.75, 0.85, 0.6], [0.5, 0.7, 0.65, 0.9, 0.3], 3),
    ]


@checker
def check_flip_probability(fn):
    r"""Exercise: ``flip_probability(a, b, k)`` $= P(\bar a_S < \bar b_T)$ over random k-subsets, a float."""
    for case, a, b, k in _flip_cases():
        args = (np.array(a, dtype=float), np.array(b, dtype=float), k)
        given = [x.copy() for x in args[:2]]
        out = call(fn, *args)
        require_unchanged(args[:2], given, _("the scores"), case, _("Draw the subsets without writing into a and b."))
        got = number(out)
        if got is None:
            raise Hint((_("return one number, the probability ({case}); got {got} of shape {shape}") if np.ndim(out)
                        else _("return one number, the probability ({case}); got {got}")).format(
                case=case, got=type(out).__name__, shape=np.shape(out)))
        expected = _flip(a, b, k)
        if not 0.0 <= got <= 1.0:
            raise Hint(_("a probability lies in [0, 1]; got {got} ({case}). Count the pairs of subsets "
                         "where A's mean is below B's and divide by the number of pairs.").format(
                got=fmt(got), case=case))
        pairs = math.comb(len(a), k) * math.comb(len(b), k)
        mistakes = [
            (_flip(a, b, k, ties=True), _("you counted ties (equal means) as flips"),
             _("A tie does not reverse the ranking: count only the pairs where A's mean is strictly below B's (<).")),
            (_flip(a, b, k, agree=True), _("you returned the probability that the k seeds keep the ranking"),
             _("The question is how often they reverse it: A's mean strictly below B's.")),
            (_flip(a, b, k, replace=True), _("you drew the seeds with replacement"),
             _("A paper's k seeds are k different runs: draw subsets without replacement, "
               "itertools.combinations(range(n), k).")),
            (_flip(a, b, k, stat=lambda x: float(np.median(x))), _("you compared medians"),
             _("Compare the means of the k seeds, as a paper that reports the mean of k runs does.")),
        ]
        if len(a) == len(b):
            mistakes.append((_flip(a, b, k, paired=True), _("you drew the same seed indices for both algorithms"),
                             _("Seed i of A has nothing to do with seed i of B: draw the subsets of A and of B "
                               "independently, every pair of subsets counts.")))
        if (not close(got, expected, **_TOL) and abs(got - expected) < 0.03
                and match_mistake(got, expected, mistakes, **_TOL) is None):
            raise Hint(_("your answer {got} is close to the exact {want} ({case}): a Monte Carlo "
                         "estimate? Enumerate every subset instead, itertools.combinations(range(len(a)), k) and "
                         "the same for b, and count the pairs of subsets where A's mean is below B's.").format(
                got=fmt(got), want=fmt(expected), case=case))
        diagnose(got, expected, mistakes, _("the flip probability"),
                 _("{case}; {pairs} pairs of subsets").format(case=case, pairs=pairs), **_TOL)
    return _("flip_probability gives the exact probability that k seeds reverse the ranking on 3 cases "
             "(ties not counted as flips, unequal numbers of seeds).")


# ============================================================================================
# (b) the interquartile mean
# ============================================================================================
def _iqm(x, *, cut=None, sort=True):
    """Mean of the sorted scores without the lowest and highest ``cut`` (default ⌊n/4⌋)."""
    xs = sorted(x) if sort else list(x)
    n = len(xs)
    k = n // 4 if cut is None else cut
    middle = xs[k:n - k]
    return sum(middle) / len(middle)


def _iqm_cases():
    cut = _("{n} scores (⌊{n}/4⌋ = {k} cut at each end)")
    return [
        (_("{n} scores, one collapsed run (0) and ties").format(n=8),
         [500.0, 480.0, 0.0, 480.0, 490.0, 500.0, 480.0, 500.0]),
        (cut.format(n=10, k=2), [3.0, -1.0, 7.5, 2.0, 9.0, 4.0, 4.5, 100.0, 0.5, 6.0]),
        (cut.format(n=7, k=1), [-170.0, -133.0, -146.0, -900.0, -167.0, -150.0, -140.0]),
        (cut.format(n=5, k=1), [1.0, 2.0, 30.0, 4.0, 5.0]),
    ]


@checker
def check_interquartile_mean(fn):
    r"""Exercise: ``interquartile_mean(scores)``: the mean of the sorted scores without the ⌊n/4⌋ lowest and highest."""
    for case, x in _iqm_cases():
        arr = np.array(x)
        out = call(fn, arr)
        require_unchanged(arr, np.array(x), _("the scores"), case, _("Sort a copy: np.sort(scores) or sorted(scores)."))
        got = number(out)
        if got is None:
            raise Hint((_("return one number ({case}); got {got} of shape {shape}") if np.ndim(out)
                        else _("return one number ({case}); got {got}")).format(
                case=case, got=type(out).__name__, shape=np.shape(out)))
        n = len(x)
        q25, q75 = np.percentile(x, [25, 75])
        mistakes = [
            (float(np.mean(x)), _("you returned the mean of all scores"), _("Sort them and drop the ⌊n/4⌋ lowest "
             "and the ⌊n/4⌋ highest first.")),
            (float(np.median(x)), _("you returned the median"), _("The IQM averages the whole middle half.")),
            (_iqm(x, cut=math.ceil(n / 4)), _("you cut ⌈n/4⌉ scores at each end (rounded up)"),
             _("Cut k = n // 4 (rounded down), so that at least half of the scores are kept.")),
            (_iqm(x, cut=n // 8), _("you cut a quarter of the scores in total, an eighth at each end"),
             _("Cut a quarter at *each* end: k = n // 4 lowest and k highest.")),
            (_iqm(x, sort=False), _("you cut the first and last scores without sorting"),
             _("Sort first (np.sort), then drop the ends.")),
            (float(np.mean([v for v in x if q25 <= v <= q75])), _("you kept the scores between np.percentile 25 "
             "and 75"), _("Those interpolated quartiles do not cut whole scores consistently: sort and drop "
             "k = n // 4 scores at each end.")),
            (sum(sorted(x)[n // 4:n - n // 4]) / n, _("you summed the middle scores but divided by n"),
             _("Divide by the number of scores kept, n − 2k.")),
        ]
        diagnose(got, _iqm(x), mistakes, _("the interquartile mean"), case, **_TOL)
    return _("interquartile_mean gives the mean of the middle scores on 4 cases (n = 8, 10, 7, 5: "
             "⌊n/4⌋ cut at each end, outliers ignored).")


# ============================================================================================
# (c) the percentile bootstrap confidence interval
# ============================================================================================
def _quantile(values, q):
    """The q-quantile of ``values`` with linear interpolation between order statistics (numpy's default)."""
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (pos - lo) * (v[hi] - v[lo])


def _boot_cases():
    """(description, scores, resamples (B, n) of indices, statistic, its name, confidence)."""
    rng = np.random.default_rng(16)
    described = {"mean": _("{n} scores, the mean, {percent} %, {reps} resamples"),
                 "median": _("{n} scores, the median, {percent} %, {reps} resamples")}
    cases = []
    for scores, statistic, name, confidence, reps in [
        ([500, 480, 0, 495, 470, 500, 460, 499], np.mean, "mean", 0.95, 200),
        ([3.0, -1.0, 7.5, 2.0, 9.0, 4.0, 4.5, 10.0, 0.5, 6.0], np.median, "median", 0.90, 150),
        ([-170.0, -133.0, -146.0, -190.0, -167.0, -150.0], np.mean, "mean", 0.80, 101),
    ]:
        desc = described[name].format(n=len(scores), percent=round(100 * confidence), reps=reps)
        idx = rng.integers(0, len(scores), size=(reps, len(scores)))
        cases.append((desc, np.array(scores, dtype=float), idx, statistic, name, confidence))
    return cases


@checker
def check_percentile_bootstrap_ci(fn):
    r"""Exercise: ``percentile_bootstrap_ci(scores, resamples, statistic, confidence)`` -> ``(low, high)``."""
    for case, scores, idx, statistic, name, confidence in _boot_cases():
        args = (scores.copy(), idx.copy(), statistic, confidence)
        out = call(fn, *args)
        require_unchanged(args[:2], (scores, idx), _("the scores or the resamples"), case,
                          _("Index a copy: scores[resamples[j]] makes a new array."))
        answer = as_array(out, None, _("your interval ({case})").format(case=case))
        thetas = [float(statistic(scores[row])) for row in idx]          # θ*_j, one per resample
        alpha = 1.0 - confidence
        expected = np.array([_quantile(thetas, alpha / 2), _quantile(thetas, 1 - alpha / 2)])
        if answer.shape == (len(idx),):
            raise Hint(_("you returned the {reps} resampled statistics ({case}); the interval is two of their "
                         "quantiles: np.quantile(values, [α/2, 1 − α/2]).").format(reps=len(idx), case=case))
        if answer.shape != (2,):
            raise Hint(_("return two numbers, (low, high) ({case}); got shape {shape}").format(
                case=case, shape=answer.shape))
        theta = float(statistic(scores))
        spread = float(np.std(thetas))
        z = {0.95: 1.959963984540054, 0.9: 1.6448536269514722, 0.8: 1.2815515655446004}[confidence]
        first_compute = {
            "mean": _("First compute the mean of each resample, statistic(scores[resamples[j]]), then the "
                      "quantiles of those values."),
            "median": _("First compute the median of each resample, statistic(scores[resamples[j]]), then the "
                        "quantiles of those values."),
        }[name]
        mistakes = [
            (expected[::-1], _("your interval is (high, low)"), _("Return the lower quantile first.")),
            (np.array([_quantile(list(scores), alpha / 2), _quantile(list(scores), 1 - alpha / 2)]),
             _("you took the quantiles of the scores themselves"), first_compute),
            (np.array([_quantile(thetas, alpha), _quantile(thetas, 1 - alpha)]),
             _("you put α in each tail instead of α/2"),
             _("A {confidence} interval leaves α/2 = {tail} in each tail: quantiles α/2 and 1 − α/2.").format(
                 confidence=f"{confidence:.0%}", tail=fmt(alpha / 2))),
            (np.array([_quantile(thetas, alpha / 200), _quantile(thetas, (1 - alpha / 2) / 100)]),
             _("you gave np.percentile fractions"), _("np.percentile takes percentages (2.5, 97.5); np.quantile "
             "takes fractions (0.025, 0.975).")),
            (np.array([2 * theta - expected[1], 2 * theta - expected[0]]), _("you computed the basic (reverse "
             "percentile) bootstrap interval 2θ̂ − q"), _("The percentile interval is the quantiles themselves, "
             "[q_{α/2}, q_{1−α/2}].")),
            (np.array([theta - z * spread, theta + z * spread]), _("you computed a normal interval θ̂ ± z·sd"),
             _("Use the quantiles of the resampled statistics, not their standard deviation.")),
        ]
        diagnose(answer, expected, mistakes, _("the interval"), case, index_name=_("end"), **_TOL)
    return _("percentile_bootstrap_ci gives the α/2 and 1 − α/2 quantiles of the resampled statistic on 3 cases "
             "(mean and median; 95 %, 90 % and 80 %).")
