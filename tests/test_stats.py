"""rlnotes.stats against small cases computed independently (by hand, plain numpy, scipy.stats)."""
import importlib.util
import math
import re
import sys

import numpy as np
import pytest
import scipy.stats

from rlnotes import stats
from rlnotes.bench import threshold_summary


# --------------------------------------------------------------------------------------------
# IQM
# --------------------------------------------------------------------------------------------
def test_iqm_of_8_values_is_the_mean_of_the_middle_4():
    x = np.array([7.0, -3.0, 100.0, 2.0, 5.0, 1.0, 4.0, -50.0])   # sorted: -50 -3 1 2 4 5 7 100
    assert stats.iqm(x) == pytest.approx((1 + 2 + 4 + 5) / 4)


def test_iqm_when_a_quarter_cuts_through_a_value_rounds_the_cut_down():
    # n = 10: a quarter is 2.5 scores; the trimmed mean cuts floor(2.5) = 2 from each end and keeps
    # 6 scores whole (scipy.stats.trim_mean(x, 0.25); no fractional weight for the 3rd and 8th)
    x = np.array([10.0, 0.0, 9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 40.0])  # sorted: 0 1 2 3 6 7 8 9 10 40
    assert stats.iqm(x) == pytest.approx((2 + 3 + 6 + 7 + 8 + 9) / 6)
    assert stats.iqm(x) == pytest.approx(scipy.stats.trim_mean(x, 0.25))


def test_iqm_pools_runs_and_tasks():
    x = np.arange(12.0).reshape(4, 3) ** 2
    assert stats.iqm(x) == pytest.approx(np.sort(x.ravel())[3:9].mean())


# --------------------------------------------------------------------------------------------
# Bootstrap confidence intervals
# --------------------------------------------------------------------------------------------
def plain_stratified_bootstrap(x, statistic, reps, seed, confidence):
    """Percentile bootstrap in plain numpy: per rep, every task column redraws its runs with replacement.

    Drawn as rliable does (numpy's global generator, one (n_runs, n_tasks) index array per rep),
    so both see the same resamples; the interval is numpy's percentiles of the replicates.
    """
    x = x.reshape(len(x), -1)
    rng = np.random.RandomState(seed)
    columns = np.arange(x.shape[1])[None, :]
    replicates = [statistic(x[rng.choice(len(x), x.shape), columns]) for _ in range(reps)]
    alpha = (1 - confidence) / 2
    return np.percentile(replicates, [100 * alpha, 100 * (1 - alpha)])


@pytest.mark.parametrize("statistic, plain", [
    ("iqm", lambda s: scipy.stats.trim_mean(s, 0.25, axis=None)),
    ("mean", np.mean),
    ("median", np.median),
])
def test_bootstrap_ci_matches_a_plain_percentile_bootstrap_on_the_same_resamples(statistic, plain):
    x = np.random.default_rng(0).normal(size=(12, 3)) * [1.0, 3.0, 10.0]
    est, low, high = stats.bootstrap_ci(x, statistic, confidence=0.9, reps=300, seed=7)
    assert est == pytest.approx(plain(x))
    np.testing.assert_allclose([low, high], plain_stratified_bootstrap(x, plain, 300, 7, 0.9), rtol=1e-12)


def test_bootstrap_ci_is_reproducible_and_leaves_numpys_global_generator_alone():
    x = np.random.default_rng(1).normal(size=15)
    np.random.seed(123)
    expected_next = np.random.rand()
    np.random.seed(123)
    a = stats.bootstrap_ci(x, reps=200, seed=3)
    assert np.random.rand() == expected_next
    assert stats.bootstrap_ci(x, reps=200, seed=3) == a
    assert stats.bootstrap_ci(x, reps=200, seed=4) != a


def test_bootstrap_ci_of_several_algorithms_gives_one_interval_each():
    rng = np.random.default_rng(2)
    out = stats.bootstrap_ci({"a": rng.normal(0, 1, 10), "b": rng.normal(5, 1, 20)}, "mean", reps=300)
    assert list(out) == ["a", "b"]
    for name, (est, low, high) in out.items():
        assert low <= est <= high
    assert out["a"].high < out["b"].low           # five standard deviations apart


def test_bootstrap_ci_of_a_normal_mean_covers_the_true_mean_about_as_often_as_promised():
    # 200 samples of 30 N(0, 1) scores; the 95 % interval should contain 0 in ~95 % of them.
    # Binomial sd of the covered fraction: sqrt(.95 * .05 / 200) = 0.015; the percentile bootstrap
    # of a mean of 30 is slightly too narrow (about 0.935 coverage: z, not t, and the plug-in sd),
    # so the band is [0.95 - 0.015 - 3 * 0.015, 0.95 + 3 * 0.015].
    rng = np.random.default_rng(3)
    covered = 0
    for i in range(200):
        _, low, high = stats.bootstrap_ci(rng.normal(size=30), "mean", confidence=0.95, reps=500, seed=i)
        covered += low <= 0.0 <= high
    assert 0.89 <= covered / 200 <= 0.995, covered


# --------------------------------------------------------------------------------------------
# Performance profiles and probability of improvement
# --------------------------------------------------------------------------------------------
def test_performance_profile_is_the_fraction_of_runs_above_each_threshold():
    x = np.array([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0], [3.0, 0.0]])
    taus = [0.0, 2.0, 3.0, 5.5, 10.0]
    profile = stats.performance_profile(x, taus, reps=300)
    count = [sum(v > tau for v in x.ravel()) / x.size for tau in taus]       # strictly above
    np.testing.assert_allclose(profile.fraction, count)
    assert np.all(profile.low <= profile.fraction + 1e-12) and np.all(profile.fraction <= profile.high + 1e-12)
    assert np.all((0 <= profile.low) & (profile.high <= 1))
    assert profile.high[-1] == 0.0                                         # no resample scores above 10
    both = stats.performance_profile({"x": x, "y": x + 1}, taus, reps=100)
    np.testing.assert_allclose(both["x"].fraction, count)


def pairwise_improvement(x, y):
    """P(X > Y) with ties as 1/2, by counting all n m pairs."""
    return np.mean([(a > b) + 0.5 * (a == b) for a in x for b in y])


def test_probability_of_improvement_is_mann_whitney_u_over_n_m_ties_counting_half():
    x = np.array([3, 5, 5, 8, 1, 9], dtype=float)             # ties with y at 5 and 3
    y = np.array([2, 5, 3, 4, 7], dtype=float)
    est, low, high = stats.probability_of_improvement(x, y, reps=500)
    u = scipy.stats.mannwhitneyu(x, y).statistic
    assert est == pytest.approx(u / (len(x) * len(y)))
    assert est == pytest.approx(pairwise_improvement(x, y))
    assert 0 <= low <= est <= high <= 1


def test_probability_of_improvement_averages_over_tasks_and_is_a_half_for_equal_algorithms():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(7, 3)), rng.normal(0.5, 1, size=(9, 3))
    est, _, _ = stats.probability_of_improvement(x, y, reps=50)
    assert est == pytest.approx(np.mean([pairwise_improvement(x[:, m], y[:, m]) for m in range(3)]))
    assert stats.probability_of_improvement(x, x, reps=50).estimate == 0.5


# --------------------------------------------------------------------------------------------
# Time to threshold with censored seeds
# --------------------------------------------------------------------------------------------
def history(returns, steps_per_episode=10, seconds_per_episode=0.5):
    return [[(i + 1) * steps_per_episode, r, (i + 1) * seconds_per_episode] for i, r in enumerate(returns)]


def test_time_to_threshold_reports_censored_seeds_and_their_budgets():
    histories = [history([0, 4, 6, 9, 9]),          # means of 2: 2 5 7.5 9, first >= 7 after episode 3 (40 steps)
                 history([0, 1, 2, 3]),             # never: censored at 40 steps, 2.0 s
                 {"history": history([8, 8, 1])}]   # a seed row: 8 at episode 1
    t = stats.time_to_threshold(histories, threshold=7, window=2)
    np.testing.assert_array_equal(t.steps, [40, math.inf, 20])
    np.testing.assert_array_equal(t.wall, [2.0, math.inf, 1.0])
    np.testing.assert_array_equal(t.reached, [True, False, True])
    np.testing.assert_array_equal(t.budget_steps, [50, 40, 30])
    np.testing.assert_array_equal(t.budget_wall, [2.5, 2.0, 1.5])
    assert t.n_censored == 1
    summary = threshold_summary([{"history": h} if not isinstance(h, dict) else h for h in histories], 7, 2)
    assert list(t.steps) == summary["steps"] and list(t.wall) == summary["wall"]   # the bench's numbers


def test_reached_fraction_with_one_budget_is_the_fraction_of_all_seeds():
    # 4 seeds, 100 steps each: two reach the threshold (at 30 and 60), two are censored at 100
    histories = [history([0, 0, 9, 9, 9, 9, 9, 9, 9, 9]), history([0] * 5 + [9] * 5), history([0] * 10), history([1] * 10)]
    t = stats.time_to_threshold(histories, threshold=5, window=1)
    np.testing.assert_array_equal(t.steps, [30, 60, math.inf, math.inf])
    f = stats.reached_fraction(t, [10, 30, 59, 60, 100, 1000])
    np.testing.assert_allclose(f.fraction, [0, 0.25, 0.25, 0.5, 0.5, 0.5])   # never the 2/2 of the reached only
    assert np.all(f.low <= f.fraction) and np.all(f.fraction <= f.high)


def test_reached_fraction_keeps_a_censored_seed_at_risk_until_its_budget():
    # reached at 10 and 30 steps; one seed censored at 20 (its budget). Kaplan–Meier by hand:
    # t=10: 3 at risk, 1 reaches -> S = 2/3;  t=30: 1 at risk, 1 reaches -> S = 0
    t = stats.time_to_threshold([history([9]), history([0, 0]), history([0, 0, 9])], threshold=5, window=1)
    np.testing.assert_array_equal(t.reached, [True, False, True])
    f = stats.reached_fraction(t, [5, 10, 25, 30], x="steps")
    np.testing.assert_allclose(f.fraction, [0, 1 / 3, 1 / 3, 1])
    f_wall = stats.reached_fraction(t, [0.5, 1.5], x="wall")           # the same seeds on the clock
    np.testing.assert_allclose(f_wall.fraction, [1 / 3, 1])


def test_reached_fraction_when_no_seed_gets_there_is_zero():
    t = stats.time_to_threshold([history([0, 0]), history([1])], threshold=5, window=1)
    assert t.n_censored == 2
    np.testing.assert_array_equal(stats.reached_fraction(t, [10, 1e9]).fraction, [0, 0])


# --------------------------------------------------------------------------------------------
# Bad input and the optional dependency
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: stats.iqm([]), "empty"),
    (lambda: stats.iqm([1.0, float("nan"), 2.0]), r"scores\[1, 0\] is nan"),
    (lambda: stats.bootstrap_ci({"a": [1.0, math.inf]}), r"scores\['a'\]\[1, 0\] is inf.*time_to_threshold"),
    (lambda: stats.bootstrap_ci({}), "dict of scores is empty"),
    (lambda: stats.bootstrap_ci([1.0, 2.0], confidence=95), r"\(0, 1\).*use 0.95"),
    (lambda: stats.bootstrap_ci([1.0, 2.0], confidence=1.0), r"\(0, 1\)"),
    (lambda: stats.bootstrap_ci([1.0, 2.0], statistic="trimmed"), "one of 'iqm', 'mean', 'median'"),
    (lambda: stats.bootstrap_ci([1.0, 2.0], reps=0), "reps"),
    (lambda: stats.performance_profile([1.0, 2.0], []), "taus"),
    (lambda: stats.probability_of_improvement(np.ones((3, 2)), np.ones((3, 3))), "same tasks"),
    (lambda: stats.probability_of_improvement([1.0], [1.0], confidence=0), r"\(0, 1\)"),
    (lambda: stats.time_to_threshold([], 1.0), "no histories"),
])
def test_bad_input_names_the_fix(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_without_rliable_the_module_imports_and_a_call_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "rliable", None)        # None in sys.modules: `import rliable` fails
    spec = importlib.util.spec_from_file_location("rlnotes._stats_without_rliable", stats.__file__)
    fresh = importlib.util.module_from_spec(spec)            # a fresh copy of the module, imported now
    spec.loader.exec_module(fresh)
    with pytest.raises(ImportError, match=re.escape('pip install "rlnotes[stats]"')):
        fresh.iqm([1.0, 2.0])
    with pytest.raises(ImportError, match="rlnotes.stats"):
        fresh.bootstrap_ci([1.0, 2.0])
