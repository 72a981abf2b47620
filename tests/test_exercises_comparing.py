"""The checkers of the chapter "Comparing algorithms honestly" (rlnotes.exercises.comparing),
tested against the chapter's own cells.

For every checker: the reference solution from the chapter's ``{solution}`` cell passes (in
tests/test_exercise_contract.py, with the stub, crash and odd-answer cases), and so do other
correct formulations (scipy, rlnotes.stats, vectorised numpy); typical mistakes fail with their
specific hint; the checkers' own references agree with independent computations.
"""
from __future__ import annotations

import itertools
import math
import pathlib
import re

import numpy as np
import scipy.stats

from rlnotes.exercises import comparing as ex
from tests.chapter_cells import run_checker as _run

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "comparing.ipynb"


def _define(code, name):
    namespace = {"np": np, "itertools": itertools, "math": math}   # what the chapter has imported
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the chapter's own code
    return namespace[name]


# (exercise label, function name, checker, parameters of the stub)
EXERCISES = [
    ("ex-cmp-flip", "flip_probability", ex.check_flip_probability, "a, b, k"),
    ("ex-cmp-iqm", "interquartile_mean", ex.check_interquartile_mean, "scores"),
    ("ex-cmp-bootstrap", "percentile_bootstrap_ci", ex.check_percentile_bootstrap_ci,
     "scores, resamples, statistic, confidence=0.95"),
]


# -------------------------------------------------------------- 1. other correct answers pass
def _flip_sorted(a, b, k):
    """Vectorised: every subset mean of b sorted, count those above each subset mean of a."""
    ma = np.array([np.mean(s) for s in itertools.combinations(a, k)])
    mb = np.sort([np.mean(t) for t in itertools.combinations(b, k)])
    return float((len(mb) - np.searchsorted(mb, ma, side="right")).sum() / (len(ma) * len(mb)))


def test_other_correct_answers_pass(capsys):
    assert _run(ex.check_flip_probability, _flip_sorted, capsys).passed
    assert _run(ex.check_interquartile_mean, lambda x: scipy.stats.trim_mean(x, 0.25), capsys).passed
    assert _run(ex.check_interquartile_mean, lambda x: sorted(x)[len(x) // 4:len(x) - len(x) // 4], capsys).status \
        == "fail"                                              # the middle scores, not their mean

    def via_rlnotes(x):
        from rlnotes.stats import iqm
        return iqm(x)

    assert _run(ex.check_interquartile_mean, via_rlnotes, capsys).passed

    def ci_vectorised(scores, resamples, statistic, confidence=0.95):
        thetas = np.apply_along_axis(statistic, 1, scores[resamples])
        return tuple(np.percentile(thetas, [50 * (1 - confidence), 50 * (1 + confidence)]))

    assert _run(ex.check_percentile_bootstrap_ci, ci_vectorised, capsys).passed


def test_the_references_agree_with_independent_computations():
    for _, x in ex._iqm_cases():
        assert math.isclose(ex._iqm(x), scipy.stats.trim_mean(x, 0.25), rel_tol=1e-12)
    for _, a, b, k in ex._flip_cases():
        assert math.isclose(ex._flip(a, b, k), _flip_sorted(a, b, k), abs_tol=1e-12)
        assert np.mean(a) > np.mean(b)                                # the exercise's premise
        # a Monte Carlo estimate lands near the exact value (and the checker calls it close, not right)
        rng = np.random.default_rng(0)
        draws = [np.mean(rng.choice(a, k, replace=False)) < np.mean(rng.choice(b, k, replace=False))
                 for _ in range(4000)]
        assert abs(np.mean(draws) - ex._flip(a, b, k)) < 4 * 0.5 / math.sqrt(4000)
    for _, scores, idx, statistic, _, confidence in ex._boot_cases():
        thetas = [statistic(scores[row]) for row in idx]
        for q in ((1 - confidence) / 2, (1 + confidence) / 2):
            assert math.isclose(ex._quantile(thetas, q), np.quantile(thetas, q), rel_tol=1e-12, abs_tol=1e-12)


# ------------------------------------------------------------------ 2. typical mistakes
def _subsets(x, k, replace=False):
    pick = itertools.product(x, repeat=k) if replace else itertools.combinations(x, k)
    return [np.mean(s) for s in pick]


def _f_ties(a, b, k):
    return float(np.mean([x <= y for x in _subsets(a, k) for y in _subsets(b, k)]))


def _f_agree(a, b, k):
    return float(np.mean([x > y for x in _subsets(a, k) for y in _subsets(b, k)]))


def _f_replace(a, b, k):
    return float(np.mean([x < y for x in _subsets(a, k, True) for y in _subsets(b, k, True)]))


def _f_paired(a, b, k):
    idx = list(itertools.combinations(range(len(a)), k))
    return float(np.mean([a[list(s)].mean() < b[list(s)].mean() for s in idx]))


def _f_monte_carlo(a, b, k):
    rng = np.random.default_rng(1)
    return float(np.mean([rng.choice(a, k, replace=False).mean() < rng.choice(b, k, replace=False).mean()
                          for _ in range(20000)]))


def _f_percent(a, b, k):
    return 100 * _flip_sorted(a, b, k)


def _f_per_subset(a, b, k):
    return np.array(_subsets(a, k)) < np.mean(b)


def _i_mean(x):
    return float(np.mean(x))


def _i_median(x):
    return float(np.median(x))


def _i_ceil(x):
    q = math.ceil(len(x) / 4)
    return float(np.sort(x)[q:len(x) - q].mean())


def _i_eighth(x):
    return float(scipy.stats.trim_mean(x, 0.125))


def _i_unsorted(x):
    q = len(x) // 4
    return float(np.mean(x[q:len(x) - q]))


def _i_percentile(x):
    lo, hi = np.percentile(x, [25, 75])
    return float(x[(x >= lo) & (x <= hi)].mean())


def _i_divide_by_n(x):
    q = len(x) // 4
    return float(np.sort(x)[q:len(x) - q].sum() / len(x))


def _i_in_place(x):
    x.sort()
    q = len(x) // 4
    return float(x[q:len(x) - q].mean())


def _thetas(scores, resamples, statistic):
    return np.array([statistic(scores[r]) for r in resamples])


def _b_swapped(scores, resamples, statistic, confidence=0.95):
    a = 1 - confidence
    return np.quantile(_thetas(scores, resamples, statistic), [1 - a / 2, a / 2])


def _b_raw_scores(scores, resamples, statistic, confidence=0.95):
    a = 1 - confidence
    return np.quantile(scores, [a / 2, 1 - a / 2])


def _b_alpha_each_tail(scores, resamples, statistic, confidence=0.95):
    return np.quantile(_thetas(scores, resamples, statistic), [1 - confidence, confidence])


def _b_percent_fractions(scores, resamples, statistic, confidence=0.95):
    a = 1 - confidence
    return np.percentile(_thetas(scores, resamples, statistic), [a / 2, 1 - a / 2])


def _b_basic(scores, resamples, statistic, confidence=0.95):
    a = 1 - confidence
    lo, hi = np.quantile(_thetas(scores, resamples, statistic), [a / 2, 1 - a / 2])
    theta = statistic(scores)
    return 2 * theta - hi, 2 * theta - lo


def _b_normal(scores, resamples, statistic, confidence=0.95):
    t = _thetas(scores, resamples, statistic)
    z = scipy.stats.norm.ppf(1 - (1 - confidence) / 2)
    return statistic(scores) - z * t.std(), statistic(scores) + z * t.std()


def _b_all_thetas(scores, resamples, statistic, confidence=0.95):
    return _thetas(scores, resamples, statistic)


MISTAKES = [
    # (checker, wrong function, substrings the hint must contain)
    (ex.check_flip_probability, _f_ties, ["ties", "strictly"]),
    (ex.check_flip_probability, _f_agree, ["keep the ranking"]),
    (ex.check_flip_probability, _f_replace, ["with replacement"]),
    (ex.check_flip_probability, _f_paired, ["same seed indices"]),
    (ex.check_flip_probability, _f_monte_carlo, ["Monte Carlo", "itertools.combinations"]),
    (ex.check_flip_probability, _f_percent, ["[0, 1]"]),
    (ex.check_flip_probability, _f_per_subset, ["return one number"]),
    (ex.check_interquartile_mean, _i_mean, ["mean of all scores"]),
    (ex.check_interquartile_mean, _i_median, ["median"]),
    (ex.check_interquartile_mean, _i_ceil, ["rounded up", "n // 4"]),
    (ex.check_interquartile_mean, _i_eighth, ["an eighth at each end"]),
    (ex.check_interquartile_mean, _i_unsorted, ["without sorting"]),
    (ex.check_interquartile_mean, _i_percentile, ["np.percentile"]),
    (ex.check_interquartile_mean, _i_divide_by_n, ["divided by n", "n − 2k"]),
    (ex.check_interquartile_mean, _i_in_place, ["changed the scores in place"]),
    (ex.check_percentile_bootstrap_ci, _b_swapped, ["(high, low)"]),
    (ex.check_percentile_bootstrap_ci, _b_raw_scores, ["quantiles of the scores themselves"]),
    (ex.check_percentile_bootstrap_ci, _b_alpha_each_tail, ["α in each tail"]),
    (ex.check_percentile_bootstrap_ci, _b_percent_fractions, ["np.percentile", "percentages"]),
    (ex.check_percentile_bootstrap_ci, _b_basic, ["basic"]),
    (ex.check_percentile_bootstrap_ci, _b_normal, ["normal interval"]),
    (ex.check_percentile_bootstrap_ci, _b_all_thetas, ["resampled statistics", "np.quantile"]),
]


def test_hints_name_the_numbers(capsys):
    verdict = _run(ex.check_interquartile_mean, _i_mean, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+", verdict.message), verdict.message
    verdict = _run(ex.check_percentile_bootstrap_ci, _b_alpha_each_tail, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+ for end [01]", verdict.message), verdict.message


def test_an_unrecognised_wrong_answer_still_gets_the_numbers(capsys):
    verdict = _run(ex.check_flip_probability, lambda a, b, k: 0.5 + 0.4 * _flip_sorted(a, b, k), capsys)
    assert verdict.status == "fail" and re.search(r"expected -?[\d.]+, got -?[\d.]+", verdict.message)
    verdict = _run(ex.check_interquartile_mean, lambda x: float(np.max(x)), capsys)
    assert verdict.status == "fail" and "the interquartile mean is wrong" in verdict.message


def test_checkers_do_not_depend_on_earlier_calls(capsys):
    first = _run(ex.check_interquartile_mean, _i_in_place, capsys)
    assert first == _run(ex.check_interquartile_mean, _i_in_place, capsys)
