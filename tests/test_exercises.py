"""The exercise checkers (rlnotes.exercises), tested against the chapters' own cells.

For every checker:

1. the reference solution passes - the code is taken from the chapter's ``{solution}`` cell,
   so the solution a reader sees is the one that is tested;
2. typical mistakes fail, each with its specific hint;
3. the untouched stub (``raise NotImplementedError`` as in the chapter, or a ``...`` body) is
   reported as "not attempted";
4. a crashing function gives a "fail" verdict with a sentence, never a traceback, and a
   non-callable argument gets a clear message.

The core helpers (``call``, ``as_array``, ``checker``) are tested briefly at the end; all of them in
tests/test_exercises_core.py, and the outcomes "returns None", "ran too long" and a crash on every
chapter's checkers in tests/test_exercises_core_outcomes.py.
"""
from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

from rlnotes import exercises as ex
from tests.chapter_cells import run_checker as _run
from tests.chapter_cells import solution_code as _solution_code

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = MDPS = ROOT / "book" / "mdps.ipynb"


# ---------------------------------------------------------------------------------- helpers
def _define(code, name):
    namespace = {"np": np}
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the chapter's own code
    return namespace[name]


# (exercise label, function name, checker)
EXERCISES = [
    ("ex-mdps-return", "discounted_return", ex.check_discounted_return),
    ("ex-mdps-backup", "bellman_backup", ex.check_bellman_backup),
    ("ex-mdps-vi-sweep", "value_iteration_sweep", ex.check_value_iteration_sweep),
    ("ex-mdps-greedy", "greedy_actions", ex.check_greedy_policy),
]


# -------------------------------------------------------------- 1. the solutions pass
# ------------------------------------------------------ 2. typical mistakes get their hint
def _discount_ignored(rewards, gamma):
    return float(np.sum(rewards))


def _discount_off_by_one(rewards, gamma):
    return sum(gamma ** (t + 1) * r for t, r in enumerate(rewards))


def _discount_from_the_end(rewards, gamma):
    return sum(gamma ** t * r for t, r in enumerate(reversed(rewards)))


def _reward_to_go_list(rewards, gamma):
    return [sum(gamma ** k * r for k, r in enumerate(rewards[t:])) for t in range(len(rewards))]


def _unmasked(mdp, V):
    return np.asarray(V, dtype=float)


def _masked(mdp, V):
    return np.where(mdp.terminal, 0.0, V)


def _backup_no_discount(mdp, pi, V):
    return (pi * (mdp.r + mdp.P @ _masked(mdp, V))).sum(axis=1)


def _backup_from_terminal(mdp, pi, V):
    return (pi * (mdp.r + mdp.gamma * mdp.P @ _unmasked(mdp, V))).sum(axis=1)


def _backup_no_policy_weights(mdp, pi, V):
    return (mdp.r + mdp.gamma * mdp.P @ _masked(mdp, V)).mean(axis=1)


def _backup_max(mdp, pi, V):
    return (mdp.r + mdp.gamma * mdp.P @ _masked(mdp, V)).max(axis=1)


def _backup_returns_q(mdp, pi, V):
    return pi * (mdp.r + mdp.gamma * mdp.P @ _masked(mdp, V))


def _backup_no_reward(mdp, pi, V):
    return (pi * (mdp.gamma * mdp.P @ _masked(mdp, V))).sum(axis=1)


def _sweep_gauss_seidel(mdp, V):
    V = _masked(mdp, V)                         # a copy, then updated in place
    for s in range(mdp.n_states):
        V[s] = np.max(mdp.r[s] + mdp.gamma * mdp.P[s] @ V)
    return V


def _sweep_in_place(mdp, V):
    V[:] = (mdp.r + mdp.gamma * mdp.P @ _masked(mdp, V)).max(axis=1)
    return V


def _sweep_no_discount(mdp, V):
    return (mdp.r + mdp.P @ _masked(mdp, V)).max(axis=1)


def _sweep_from_terminal(mdp, V):
    return (mdp.r + mdp.gamma * mdp.P @ _unmasked(mdp, V)).max(axis=1)


def _sweep_min(mdp, V):
    return (mdp.r + mdp.gamma * mdp.P @ _masked(mdp, V)).min(axis=1)


def _sweep_mean(mdp, V):
    return (mdp.r + mdp.gamma * mdp.P @ _masked(mdp, V)).mean(axis=1)


def _sweep_argmax(mdp, V):
    return (mdp.r + mdp.gamma * mdp.P @ _masked(mdp, V)).argmax(axis=1)


def _sweep_returns_q(mdp, V):
    return mdp.r + mdp.gamma * mdp.P @ _masked(mdp, V)


def _greedy_q(mdp, V, gamma=None, mask=True):
    gamma = mdp.gamma if gamma is None else gamma
    return mdp.r + gamma * mdp.P @ (_masked(mdp, V) if mask else _unmasked(mdp, V))


def _greedy_argmin(mdp, V):
    return _greedy_q(mdp, V).argmin(axis=1)


def _greedy_values(mdp, V):
    return _greedy_q(mdp, V).max(axis=1)


def _greedy_no_discount(mdp, V):
    return _greedy_q(mdp, V, gamma=1.0).argmax(axis=1)


def _greedy_from_terminal(mdp, V):
    return _greedy_q(mdp, V, mask=False).argmax(axis=1)


def _greedy_reward_only(mdp, V):
    return mdp.r.argmax(axis=1)


def _greedy_no_reward(mdp, V):
    return (mdp.gamma * mdp.P @ _masked(mdp, V)).argmax(axis=1)


def _greedy_one_hot(mdp, V):
    return np.eye(mdp.n_actions)[_greedy_q(mdp, V).argmax(axis=1)]


MISTAKES = [
    # (checker, wrong function, substrings the hint must contain)
    (ex.check_discounted_return, _discount_ignored, ["ignores the discount", "expected 2.75, got 6"]),
    (ex.check_discounted_return, _discount_off_by_one, ["discounts the first reward", "t starting at 0"]),
    (ex.check_discounted_return, _discount_from_the_end, ["from the end"]),
    (ex.check_discounted_return, _reward_to_go_list, ["single number"]),
    (ex.check_bellman_backup, _backup_no_discount, ["ignores the discount", "for state", "mdp.gamma"]),
    (ex.check_bellman_backup, _backup_from_terminal, ["bootstraps from terminal states", "value is 0"]),
    (ex.check_bellman_backup, _backup_no_policy_weights, ["ignores the policy weights"]),
    (ex.check_bellman_backup, _backup_max, ["max over actions", "optimality backup"]),
    (ex.check_bellman_backup, _backup_returns_q, ["shape (S, A)", "policy weights"]),
    (ex.check_bellman_backup, _backup_no_reward, ["leaves out the reward"]),
    (ex.check_value_iteration_sweep, _sweep_gauss_seidel, ["Gauss-Seidel", "synchronous"]),
    (ex.check_value_iteration_sweep, _sweep_in_place, ["changed the array V it was given"]),
    (ex.check_value_iteration_sweep, _sweep_no_discount, ["ignores the discount"]),
    (ex.check_value_iteration_sweep, _sweep_from_terminal, ["bootstraps from terminal states"]),
    (ex.check_value_iteration_sweep, _sweep_min, ["min over actions"]),
    (ex.check_value_iteration_sweep, _sweep_mean, ["averages over actions"]),
    (ex.check_value_iteration_sweep, _sweep_argmax, ["argmax", "not their values"]),
    (ex.check_value_iteration_sweep, _sweep_returns_q, ["shape (S, A)", "max(axis=1)"]),
    (ex.check_greedy_policy, _greedy_argmin, ["worst action", "argmin"]),
    (ex.check_greedy_policy, _greedy_values, ["best values", "argmax instead of max"]),
    (ex.check_greedy_policy, _greedy_no_discount, ["ignores the discount"]),
    (ex.check_greedy_policy, _greedy_from_terminal, ["bootstraps from terminal states"]),
    (ex.check_greedy_policy, _greedy_reward_only, ["ignores the future", "immediate reward"]),
    (ex.check_greedy_policy, _greedy_no_reward, ["ignores the reward"]),
    (ex.check_greedy_policy, _greedy_one_hot, ["shape (S, A)", "one action"]),
]


def test_discount_hint_names_state_and_numbers(capsys):
    verdict = _run(ex.check_bellman_backup, _backup_no_discount, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+ for state \d+", verdict.message), verdict.message


def test_greedy_accepts_any_tied_action(capsys):
    """Ties: the 4x4 grid world has several optimal actions; picking the last one is fine."""
    def last_of_ties(mdp, V):
        Q = _greedy_q(mdp, V)
        best = Q >= Q.max(axis=1, keepdims=True) - 1e-9
        return mdp.n_actions - 1 - np.argmax(best[:, ::-1], axis=1)

    assert _run(ex.check_greedy_policy, last_of_ties, capsys).passed


def test_greedy_accepts_integral_floats(capsys):
    fn = _define(_solution_code(MDPS, "ex-mdps-greedy"), "greedy_actions")
    assert _run(ex.check_greedy_policy, lambda mdp, V: fn(mdp, V).astype(float), capsys).passed


def test_vectorised_backup_passes_too(capsys):
    def vectorised(mdp, pi, V):
        return (pi * (mdp.r + mdp.gamma * mdp.P @ _masked(mdp, V))).sum(axis=1)

    assert _run(ex.check_bellman_backup, vectorised, capsys).passed


def test_return_accepts_the_backward_recursion(capsys):
    def backward(rewards, gamma):
        G = 0.0
        for r in reversed(rewards):
            G = r + gamma * G
        return G

    assert _run(ex.check_discounted_return, backward, capsys).passed


# ------------------------------------------------------ 3. untouched stubs: "not attempted"
# ------------------------------------------------- 4. crashes and wrong arguments never raise
def test_checkers_leave_the_readers_arrays_alone():
    """The cases are rebuilt for every call, so a function that scribbles on them cannot
    make the next call pass or fail."""
    def scribble(mdp, V):
        V[:] = 0.0
        return V

    first = ex.check_value_iteration_sweep(scribble)
    second = ex.check_value_iteration_sweep(scribble)
    assert first == second


# ------------------------------------------------------------------------------- the core
def test_call_translates_stubs_and_crashes():
    def stub():
        raise NotImplementedError

    with pytest.raises(ex.NotAttempted):
        ex.call(stub)
    with pytest.raises(ex.NotAttempted):
        ex.call(lambda: None)
    with pytest.raises(ex.NotAttempted):
        ex.call(lambda: ...)
    with pytest.raises(ex.Hint, match="raised ZeroDivisionError"):
        ex.call(lambda: 1 / 0)
    assert ex.call(lambda x, y=0: x + y, 1, y=2) == 3


def test_as_array_checks_shape_type_and_finiteness():
    assert ex.as_array([1, 2], (2,), "V").dtype == float
    with pytest.raises(ex.Hint, match=r"V should have shape \(3,\), got \(2,\)"):
        ex.as_array([1, 2], (3,), "V")
    with pytest.raises(ex.Hint, match="array of numbers"):
        ex.as_array("abc", (3,), "V")
    with pytest.raises(ex.Hint, match="NaN or infinite"):
        ex.as_array([1.0, np.inf], (2,), "V")


def test_checker_wraps_a_check_into_a_printing_verdict(capsys):
    @ex.checker
    def check_double(fn):
        if ex.call(fn, 2) != 4:
            raise ex.Hint("double 2 should be 4")
        return "doubling works"

    def broken_check(fn):
        raise RuntimeError("bug in the check")

    assert check_double.__name__ == "check_double"
    v = check_double(lambda x: 2 * x)
    assert v.passed and v.status == "pass" and str(v) == "✓ doubling works"
    assert capsys.readouterr().out == "✓ doubling works\n"
    v = check_double(lambda x: x)
    assert v.status == "fail" and capsys.readouterr().out == "✗ double 2 should be 4\n"
    v = ex.checker(broken_check)(lambda x: x)
    assert v.status == "fail" and "could not run your function: RuntimeError" in v.message
    capsys.readouterr()
    assert v._ipython_display_() is None   # nothing is shown twice in Jupyter
