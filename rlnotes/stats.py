r"""Statistics for comparing algorithms over seeds, on rliable and scipy.stats.

A handful of seeds and a mean mislead (Henderson et al. 2018); Agarwal et al. (2021,
{cite}`agarwal2021`) recommend reporting an aggregate that is robust to outlying runs, the
*interquartile mean*, with a *stratified bootstrap* confidence interval, together with
*performance profiles* and the *probability of improvement*. This module is a thin, documented
layer over their reference implementation, `rliable <https://github.com/google-research/rliable>`_,
and over ``scipy.stats``: it checks the inputs, names the shapes and returns plain numbers;
the statistics themselves are the libraries'.

Scores are one number per run (seed), e.g. a seed's mean evaluation return, shape
``(n_runs,)``, or one per run and task, shape ``(n_runs, n_tasks)`` (a task is an environment;
runs are resampled within each task, which is what *stratified* means). Several algorithms are
passed as a dict ``{name: scores}``.

:func:`time_to_threshold` turns training histories into the distribution over seeds of the
environment steps and wall seconds needed to reach a return threshold, built on
:func:`rlnotes.bench.steps_to_threshold` and :func:`rlnotes.bench.wall_to_threshold`. A seed
that never gets there is right-censored (we only know it needs more than its budget), and
:func:`reached_fraction` estimates the fraction of seeds that reach the threshold by a given
time with the Kaplan–Meier estimator, which uses the censored seeds instead of dropping them.

rliable is an optional extra: ``import rlnotes.stats`` works without it, and a function that
needs it says how to install it: ``pip install "rlnotes[stats]"``.
"""
from __future__ import annotations

import contextlib
import math
import warnings
from typing import NamedTuple

import numpy as np

from .bench import TRAIN_WINDOW, steps_to_threshold, wall_to_threshold

__all__ = ["Interval", "Profile", "TimeToThreshold", "iqm", "bootstrap_ci", "performance_profile",
           "probability_of_improvement", "time_to_threshold", "reached_fraction", "STATISTICS"]

#: what ``bootstrap_ci(statistic=...)`` accepts by name (or pass a function of scores (n_runs, n_tasks))
STATISTICS = ("iqm", "mean", "median")


class Interval(NamedTuple):
    """A point estimate and its confidence interval ``[low, high]``."""
    estimate: float
    low: float
    high: float


class Profile(NamedTuple):
    r"""A curve of fractions with a pointwise confidence band, each field of shape (n_points,).

    From :func:`performance_profile`: at each threshold $\tau$ (in the order of ``taus``), the
    fraction of runs scoring above it. From :func:`reached_fraction`: at each time, the
    fraction of seeds that have reached the threshold.
    """
    fraction: np.ndarray
    low: np.ndarray
    high: np.ndarray


class TimeToThreshold(NamedTuple):
    """Time to threshold of every seed (arrays of shape (n_seeds,), in the order of the histories).

    ``steps`` and ``wall``: environment steps and training wall seconds when the training curve
    first reaches the threshold, ``math.inf`` for a seed that does not (censored).
    ``reached``: True where the seed reaches it. ``budget_steps`` and ``budget_wall``: the last
    env step and wall second the seed's history records; a censored seed needs more than these.
    """
    steps: np.ndarray
    wall: np.ndarray
    reached: np.ndarray
    budget_steps: np.ndarray
    budget_wall: np.ndarray

    @property
    def n_censored(self):
        """How many seeds do not reach the threshold within their run."""
        return int((~self.reached).sum())


# --------------------------------------------------------------------------------------------
# Inputs (checked here, so that each function's body is the statistic)
# --------------------------------------------------------------------------------------------
def _rliable():
    """rliable's ``library`` and ``metrics`` modules, or an ImportError naming the extra."""
    try:
        from rliable import library, metrics
    except ImportError as err:
        raise ImportError('rlnotes.stats needs rliable, an optional extra of rlnotes: pip install "rlnotes[stats]" '
                          f"(or pip install rliable). ({err})") from err
    return library, metrics


def _scipy_stats():
    """``scipy.stats`` (installed with rliable), or an ImportError naming the extra."""
    try:
        import scipy.stats
    except ImportError as err:
        raise ImportError('rlnotes.stats needs scipy, installed with the optional extra: pip install "rlnotes[stats]" '
                          f"(or pip install scipy). ({err})") from err
    return scipy.stats


def _scores(scores, who, name="scores"):
    """scores as a float array of shape (n_runs, n_tasks): (n_runs,) becomes (n_runs, 1)."""
    try:
        x = np.asarray(scores, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: {name} must be numbers, shape (n_runs,) or (n_runs, n_tasks), with the same "
                         f"number of runs for every task; got {type(scores).__name__}.") from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{who}: {name} must have shape (n_runs,) or (n_runs, n_tasks); got shape {x.shape}.")
    if x.size == 0:
        raise ValueError(f"{who}: {name} is empty (shape {x.shape}); pass at least one run's score.")
    bad = ~np.isfinite(x)
    if bad.any():
        run, task = np.argwhere(bad)[0]
        raise ValueError(f"{who}: {name}[{run}, {task}] is {x[run, task]} ({int(bad.sum())} score(s) not finite). "
                         "Drop or replace those runs before aggregating (e.g. scores[np.isfinite(scores)]); for times "
                         "that are infinite because a seed never reached a threshold, use time_to_threshold and "
                         "reached_fraction, which treat them as censored.")
    return x


def _score_dict(scores, who):
    """``(dict name -> (n_runs, n_tasks) array, was_a_dict)``."""
    if isinstance(scores, dict):
        if not scores:
            raise ValueError(f"{who}: the dict of scores is empty; pass {{name: scores}} for at least one algorithm.")
        return {k: _scores(v, who, f"scores[{k!r}]") for k, v in scores.items()}, True
    return {"scores": _scores(scores, who)}, False


def _confidence(confidence, who):
    try:
        c = float(confidence)
    except (TypeError, ValueError):
        c = math.nan
    if not 0.0 < c < 1.0:
        raise ValueError(f"{who}: confidence is the coverage of the interval, a number in (0, 1) such as 0.95; "
                         f"got {confidence!r}" + (" (use 0.95 for 95 %)." if c in (90, 95, 99) else "."))
    return c


def _reps(reps, who):
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 2:
        raise ValueError(f"{who}: reps is the number of bootstrap resamples, an int >= 2 (thousands for a "
                         f"published interval); got {reps!r}.")
    return int(reps)


@contextlib.contextmanager
def _numpy_seed(seed):
    """Seed numpy's global generator for the block, and restore its state afterwards.

    rliable's stratified bootstrap draws its resamples with ``np.random.choice`` (numpy's
    global generator, not the ``random_state`` it accepts), so a seed has to go there.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


# --------------------------------------------------------------------------------------------
# Aggregates and their confidence intervals
# --------------------------------------------------------------------------------------------
def iqm(scores):
    r"""Interquartile mean: the mean of the middle half of all scores, pooled over runs and tasks.

    With the $n$ scores sorted, $x_{(1)} \le \dots \le x_{(n)}$, and $k = \lfloor n/4 \rfloor$,
    $\mathrm{IQM} = \frac{1}{n - 2k} \sum_{i=k+1}^{n-k} x_{(i)}$: the 25 % trimmed mean
    (rliable's ``metrics.aggregate_iqm``, i.e. ``scipy.stats.trim_mean(x, 0.25)``). When $n$ is
    not a multiple of 4, $k$ rounds down, so a little more than half of the scores is kept (no
    fractional weights). Robust to a few outlying seeds, unlike the mean; less noisy than the
    median, which keeps one or two scores.
    scores: shape (n_runs,) or (n_runs, n_tasks). Returns a float.
    """
    x = _scores(scores, "iqm")
    _, metrics = _rliable()
    return float(metrics.aggregate_iqm(x))


def _statistic(statistic, metrics, who):
    """The function of scores (n_runs, n_tasks) -> float that ``statistic`` names."""
    if callable(statistic):
        return statistic
    named = {"iqm": metrics.aggregate_iqm,          # 25 % trimmed mean of all scores
             "mean": metrics.aggregate_mean,        # mean over tasks of each task's mean over runs
             "median": np.median}                   # median of all scores (runs and tasks pooled)
    if statistic not in named:
        raise ValueError(f"{who}: statistic must be one of {', '.join(map(repr, STATISTICS))} or a function of "
                         f"scores (n_runs, n_tasks) -> float; got {statistic!r}.")
    return named[statistic]


def bootstrap_ci(scores, statistic="iqm", confidence=0.95, reps=10_000, seed=0):
    r"""An aggregate of the scores with its stratified percentile-bootstrap confidence interval.

    Each of ``reps`` resamples draws, for every task separately, $n$ runs with replacement from
    that task's $n$ runs, and computes the statistic $\hat\theta^*_b$; the interval is
    $[q_{\alpha/2}, q_{1-\alpha/2}]$ of $\hat\theta^*_1, \dots, \hat\theta^*_B$ with
    $\alpha = 1 -$ ``confidence`` (rliable's ``library.get_interval_estimates``, percentile
    method; Agarwal et al. 2021).

    scores: shape (n_runs,) or (n_runs, n_tasks), or a dict ``{name: scores}`` for several
        algorithms (each with its own number of runs).
    statistic: ``"iqm"`` (:func:`iqm`), ``"mean"`` (mean of the tasks' means over runs),
        ``"median"`` (median of all scores, runs and tasks pooled), or a function of an array
        (n_runs, n_tasks) returning a float (e.g. rliable's ``metrics.aggregate_median``, the
        median over tasks of the tasks' means, the Atari convention).
    confidence: the coverage of the interval, in (0, 1).
    reps: bootstrap resamples (rliable's own default is 50,000; fewer give a noisier interval).
    seed: seeds the resampling (the same seed gives the same interval).

    Returns an :class:`Interval` ``(estimate, low, high)``, or for a dict ``{name: Interval}``.
    """
    who = "bootstrap_ci"
    data, was_dict = _score_dict(scores, who)
    confidence, reps = _confidence(confidence, who), _reps(reps, who)
    library, metrics = _rliable()
    f = _statistic(statistic, metrics, who)
    with _numpy_seed(seed):
        points, cis = library.get_interval_estimates(
            data, lambda x: np.array([f(x)]), reps=reps, confidence_interval_size=confidence)
    out = {k: Interval(float(points[k][0]), float(cis[k][0, 0]), float(cis[k][1, 0])) for k in data}
    return out if was_dict else out["scores"]


def performance_profile(scores, taus, confidence=0.95, reps=2000, seed=0):
    r"""The score distribution $\hat F(\tau) = \frac{1}{N M} \sum_{n,m} \mathbb{1}[x_{n,m} > \tau]$, with CIs.

    The fraction of all runs (of all tasks) that score above each threshold $\tau$, a curve
    that shows the whole distribution rather than one aggregate, with a stratified bootstrap
    confidence band at each $\tau$ (rliable's ``library.create_performance_profile``, score
    distributions, percentile method).

    scores: shape (n_runs,) or (n_runs, n_tasks), or a dict ``{name: scores}``.
    taus: thresholds, shape (n_taus,).

    Returns a :class:`Profile` of three arrays of shape (n_taus,), or for a dict ``{name: Profile}``.
    """
    who = "performance_profile"
    data, was_dict = _score_dict(scores, who)
    taus = np.asarray(taus, dtype=float).reshape(-1)
    if taus.size == 0 or not np.isfinite(taus).all():
        raise ValueError(f"{who}: taus must be finite thresholds, shape (n_taus,), e.g. np.linspace(0, 500, 51); "
                         f"got {taus}.")
    confidence, reps = _confidence(confidence, who), _reps(reps, who)
    library, _ = _rliable()
    with _numpy_seed(seed):
        fractions, cis = library.create_performance_profile(data, taus, reps=reps,
                                                            confidence_interval_size=confidence)
    out = {k: Profile(np.asarray(fractions[k], dtype=float), np.asarray(cis[k][0], dtype=float),
                      np.asarray(cis[k][1], dtype=float)) for k in data}
    return out if was_dict else out["scores"]


def probability_of_improvement(x, y, confidence=0.95, reps=10_000, seed=0):
    r"""$P(X > Y)$: how likely a run of algorithm X scores above a run of algorithm Y, with its CI.

    Per task, $P(X > Y) = \frac{1}{n m} \sum_{i=1}^{n} \sum_{j=1}^{m}
    \left(\mathbb{1}[x_i > y_j] + \tfrac12 \mathbb{1}[x_i = y_j]\right)$, the Mann–Whitney $U$
    statistic divided by $n m$; averaged over tasks (rliable's
    ``metrics.probability_of_improvement``). 0.5 means neither is better. The interval is a
    stratified bootstrap that resamples the runs of X and of Y independently.

    x: shape (n,) or (n, n_tasks).
    y: shape (m,) or (m, n_tasks), the same tasks in the same order.

    Returns an :class:`Interval` ``(estimate, low, high)``.
    """
    who = "probability_of_improvement"
    x, y = _scores(x, who, "x"), _scores(y, who, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{who}: x and y must score the same tasks (columns); got {x.shape[1]} and {y.shape[1]} "
                         f"(shapes {x.shape} and {y.shape}).")
    confidence, reps = _confidence(confidence, who), _reps(reps, who)
    library, metrics = _rliable()
    with _numpy_seed(seed):
        points, cis = library.get_interval_estimates(
            {"x>y": [x, y]}, lambda a, b: np.array([metrics.probability_of_improvement(a, b)]),
            reps=reps, confidence_interval_size=confidence)
    return Interval(float(points["x>y"][0]), float(cis["x>y"][0, 0]), float(cis["x>y"][1, 0]))


# --------------------------------------------------------------------------------------------
# Time to threshold, with censored seeds
# --------------------------------------------------------------------------------------------
def time_to_threshold(histories, threshold, window=TRAIN_WINDOW):
    r"""Environment steps and wall seconds to reach ``threshold``, per seed, censored seeds marked.

    For each seed, :func:`rlnotes.bench.steps_to_threshold` and
    :func:`rlnotes.bench.wall_to_threshold`: when the mean return of the last ``window``
    training episodes first reaches ``threshold``. A seed whose curve never gets there is
    *right-censored*: its time is ``math.inf`` and ``reached`` is False; all we know is that it
    needs more than its budget (``budget_steps``, ``budget_wall``). Nothing is dropped: pass the
    result to :func:`reached_fraction` for the distribution over seeds.

    histories: one history per seed, each ``[env_step, episode_return, wall_seconds]`` per
        finished episode, shape (E, 3); or the seed rows of a benchmark file (dicts with a
        ``"history"``).
    threshold: the training return to reach.
    window: training episodes averaged into the training curve (:func:`rlnotes.bench.first_reach`).

    Returns a :class:`TimeToThreshold` of arrays of shape (n_seeds,).
    """
    histories = [h["history"] if isinstance(h, dict) else h for h in histories]
    if not histories:
        raise ValueError("time_to_threshold: no histories; pass one [[env_step, return, wall_seconds], ...] per seed.")
    steps = np.array([steps_to_threshold(h, threshold, window) for h in histories])
    wall = np.array([wall_to_threshold(h, threshold, window) for h in histories])
    last = [np.asarray(h, dtype=float).reshape(-1, 3)[-1] if len(h) else np.zeros(3) for h in histories]
    return TimeToThreshold(steps=steps, wall=wall, reached=np.isfinite(steps),
                           budget_steps=np.array([r[0] for r in last]), budget_wall=np.array([r[2] for r in last]))


def reached_fraction(result, at, x="steps", confidence=0.95):
    r"""Kaplan–Meier estimate of the fraction of seeds that reach the threshold by time ``at``, with CIs.

    $\hat F(t) = 1 - \prod_{t_i \le t} \left(1 - \frac{d_i}{r_i}\right)$, over the distinct times
    $t_i$ at which $d_i$ seeds reach the threshold while $r_i$ seeds are still running (not yet
    reached and not yet past their budget). A censored seed counts among those at risk up to
    its budget, so different budgets are handled; with one common budget,
    $\hat F(t)$ is simply the fraction of all seeds that reached it by $t$
    (``scipy.stats.ecdf`` on ``scipy.stats.CensoredData``; pointwise CIs by the Greenwood
    formula; where it is undefined, $[0, 1]$). $\hat F$ levels off below 1 when seeds are
    censored, since beyond the budgets the data say nothing.

    result: a :class:`TimeToThreshold`.
    at: times (env steps or wall seconds), shape (n_t,).
    x: ``"steps"`` or ``"wall"``, the clock of ``at``.

    Returns a :class:`Profile` ``(fraction, low, high)`` of arrays of shape (n_t,).
    """
    stats = _scipy_stats()
    if x not in ("steps", "wall"):
        raise ValueError(f'reached_fraction: x must be "steps" or "wall"; got {x!r}.')
    confidence = _confidence(confidence, "reached_fraction")
    times, budgets = (result.steps, result.budget_steps) if x == "steps" else (result.wall, result.budget_wall)
    at = np.asarray(at, dtype=float).reshape(-1)
    if not result.reached.any():                      # nobody got there: the estimate is 0 throughout
        zero = np.zeros(len(at))
        return Profile(zero, zero, zero.copy())
    data = stats.CensoredData(uncensored=times[result.reached], right=budgets[~result.reached])
    cdf = stats.ecdf(data).cdf
    with warnings.catch_warnings():                  # undefined where F = 1: reported as [0, 1] below
        warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
        ci = cdf.confidence_interval(confidence_level=confidence)
    return Profile(cdf.evaluate(at), np.nan_to_num(ci.low.evaluate(at), nan=0.0),
                   np.nan_to_num(ci.high.evaluate(at), nan=1.0))
