"""The checkers of the chapter "Q-learning and deep Q-networks" (rlnotes.exercises.dqn), tested
against the chapter's own cells.

For every checker: the reference solution from the chapter's ``{solution}`` cell passes, and so
do other correct formulations (the library's own functions, torch inputs and outputs); typical
mistakes fail with their specific hint; the chapter's untouched stub is reported as "not
attempted"; a crashing function or an odd answer gives a sentence, not a traceback.
"""
from __future__ import annotations

import pathlib
import re

import numpy as np
import torch

from rlnotes.exercises import dqn as ex
from tests.chapter_cells import run_checker as _run

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "dqn.ipynb"


# ---------------------------------------------------------------------------------- helpers
def _define(code, name):
    namespace = {"np": np, "torch": torch}   # what the chapter has imported
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the chapter's own code
    return namespace[name]


# (exercise label, function name, checker, parameters of the stub)
EXERCISES = [
    ("ex-dqn-q-update", "q_learning_update", ex.check_q_learning_update,
     "Q, s, a, r, s_next, a_next, terminated, alpha, gamma"),
    ("ex-dqn-targets", "dqn_targets", ex.check_dqn_targets,
     "rewards, next_q, terminated, truncated, gamma"),
    ("ex-dqn-double", "double_dqn_targets", ex.check_double_dqn_targets,
     "rewards, next_q_online, next_q_target, terminated, gamma"),
]


# -------------------------------------------------------------- 1. the solutions pass
def _lookup_net(table):
    """A 'network' that maps a tensor of row indices to the rows of ``table``: lets the library's
    target functions of rlnotes.returns run on given Q-values."""
    table = torch.as_tensor(np.asarray(table), dtype=torch.float64)
    return lambda idx: table[idx.long()]


def test_other_correct_answers_pass(capsys):
    from rlnotes.returns import double_dqn_targets, dqn_targets

    # (a) in-place-free variants; torch scalar output
    def q_vectorised(Q, s, a, r, s2, a2, term, alpha, gamma):
        return (1 - alpha) * Q[s, a] + alpha * (r + gamma * (not term) * np.max(Q[s2]))
    assert _run(ex.check_q_learning_update, q_vectorised, capsys).passed
    assert _run(ex.check_q_learning_update, lambda Q, s, a, r, s2, a2, t, al, g: torch.tensor(
        q_vectorised(Q, s, a, r, s2, a2, t, al, g)), capsys).passed

    # (b) the library's dqn_targets, fed the given values through a lookup "network"; torch code
    def lib_targets(r, next_q, term, trunc, gamma):
        idx = torch.arange(len(r))
        return dqn_targets(_lookup_net(next_q), torch.as_tensor(r), idx,
                         torch.as_tensor(term, dtype=torch.float64), gamma)
    assert _run(ex.check_dqn_targets, lib_targets, capsys).passed
    assert _run(ex.check_dqn_targets, lambda r, nq, te, tr, g: torch.as_tensor(r) + g * (
        1 - torch.as_tensor(te).float()) * torch.as_tensor(nq).max(dim=1).values, capsys).passed
    assert _run(ex.check_dqn_targets, lambda r, nq, te, tr, g: list(
        np.where(te, r, r + g * nq.max(1))), capsys).passed

    # (c) the library's Double DQN branch; take_along_axis
    def lib_double(r, online, target, term, gamma):
        idx = torch.arange(len(r))
        return double_dqn_targets(_lookup_net(online), _lookup_net(target), torch.as_tensor(r),
                                  idx, torch.as_tensor(term, dtype=torch.float64), gamma)
    assert _run(ex.check_double_dqn_targets, lib_double, capsys).passed
    assert _run(ex.check_double_dqn_targets, lambda r, on, ta, te, g: r + g * (1 - te) * np.take_along_axis(
        ta, on.argmax(1)[:, None], axis=1)[:, 0], capsys).passed


# ------------------------------------------------------ 2. typical mistakes get their hint
def _q_sarsa(Q, s, a, r, s2, a2, term, alpha, gamma):
    return Q[s, a] + alpha * (r + gamma * (1 - term) * Q[s2, a2] - Q[s, a])


def _q_terminal_bootstrap(Q, s, a, r, s2, a2, term, alpha, gamma):
    return Q[s, a] + alpha * (r + gamma * Q[s2].max() - Q[s, a])


def _q_no_alpha(Q, s, a, r, s2, a2, term, alpha, gamma):
    return r + gamma * (1 - term) * Q[s2].max()


def _q_no_gamma(Q, s, a, r, s2, a2, term, alpha, gamma):
    return Q[s, a] + alpha * (r + (1 - term) * Q[s2].max() - Q[s, a])


def _q_whole_table(Q, s, a, r, s2, a2, term, alpha, gamma):
    Q[s, a] += alpha * (r + gamma * (1 - term) * Q[s2].max() - Q[s, a])
    return Q


def _q_in_place_scalar(Q, s, a, r, s2, a2, term, alpha, gamma):
    Q[s, a] += alpha * (r + gamma * (1 - term) * Q[s2].max() - Q[s, a])
    return Q[s, a]


def _t_through_termination(r, nq, te, tr, g):
    return r + g * nq.max(1)


def _t_truncation_as_termination(r, nq, te, tr, g):
    return r + g * (1 - (te | tr)) * nq.max(1)


def _t_wrong_axis(r, nq, te, tr, g):
    return r + g * (1 - te) * nq.max(0)


def _t_max_everything(r, nq, te, tr, g):
    return r + g * (1 - te) * nq.max()


def _t_no_gamma(r, nq, te, tr, g):
    return r + (1 - te) * nq.max(1)


def _t_mean(r, nq, te, tr, g):
    return r + g * (1 - te) * nq.mean(1)


def _d_target_argmax(r, on, ta, te, g):
    return r + g * (1 - te) * ta.max(1)


def _d_online_eval(r, on, ta, te, g):
    return r + g * (1 - te) * on.max(1)


def _d_swapped(r, on, ta, te, g):
    return r + g * (1 - te) * on[np.arange(len(r)), ta.argmax(1)]


def _d_no_termination(r, on, ta, te, g):
    return r + g * ta[np.arange(len(r)), on.argmax(1)]


def _d_no_gamma(r, on, ta, te, g):
    return r + (1 - te) * ta[np.arange(len(r)), on.argmax(1)]


def _d_matrix(r, on, ta, te, g):
    return r + g * (1 - te) * ta[:, on.argmax(1)]


MISTAKES = [
    # (checker, wrong function, substrings the hint must contain)
    (ex.check_q_learning_update, _q_sarsa, ["SARSA", "Q[s_next].max()"]),
    (ex.check_q_learning_update, _q_terminal_bootstrap, ["bootstrapped from a terminal state",
                                                         "(1 - terminated)"]),
    (ex.check_q_learning_update, _q_no_alpha, ["as if α = 1", "expected 1.15, got 2.8"]),
    (ex.check_q_learning_update, _q_no_gamma, ["forgot the discount"]),
    (ex.check_q_learning_update, _q_whole_table, ["whole table", "single number"]),
    (ex.check_q_learning_update, _q_in_place_scalar, ["changed the table Q"]),
    (ex.check_dqn_targets, _t_through_termination, ["bootstrapped through termination"]),
    (ex.check_dqn_targets, _t_truncation_as_termination, ["treated truncation as termination",
                                                          "(1 - terminated) only"]),
    (ex.check_dqn_targets, _t_wrong_axis, ["wrong axis", "axis=1"]),
    (ex.check_dqn_targets, _t_max_everything, ["whole batch"]),
    (ex.check_dqn_targets, _t_no_gamma, ["forgot the discount"]),
    (ex.check_dqn_targets, _t_mean, ["averaged over the actions"]),
    (ex.check_double_dqn_targets, _d_target_argmax, ["argmax with the target network", "plain DQN"]),
    (ex.check_double_dqn_targets, _d_online_eval, ["evaluated the action with the online network"]),
    (ex.check_double_dqn_targets, _d_swapped, ["swapped the roles"]),
    (ex.check_double_dqn_targets, _d_no_termination, ["forgot (1 − terminated)"]),
    (ex.check_double_dqn_targets, _d_no_gamma, ["forgot the discount"]),
    (ex.check_double_dqn_targets, _d_matrix, ["shape (6, 6)", "one target per transition"]),
]


def test_hints_name_the_transition_and_the_numbers(capsys):
    verdict = _run(ex.check_dqn_targets, _t_through_termination, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+ for transition \d+", verdict.message), verdict.message
    verdict = _run(ex.check_double_dqn_targets, _d_target_argmax, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+ for transition \d+", verdict.message), verdict.message


def test_an_unrecognised_wrong_answer_still_gets_the_numbers(capsys):
    verdict = _run(ex.check_dqn_targets, lambda r, nq, te, tr, g: r + g * (1 - te) * nq.max(1) + 0.5, capsys)
    assert verdict.status == "fail"
    assert "the target is wrong for transition 0" in verdict.message


# ------------------------------------------------------ 3. untouched stubs: "not attempted"
# ------------------------------------------------- 4. crashes and wrong arguments never raise
# ------------------------------------------------------------- 5. the checkers can fail
def test_the_references_agree_with_the_library():
    """The checkers' plain-loop references against rlnotes.tabular / rlnotes.returns."""
    from rlnotes.returns import double_dqn_targets, dqn_targets

    for _, r, nq, te, tr, g in ex._dqn_cases():
        lib = dqn_targets(_lookup_net(nq), torch.as_tensor(r), torch.arange(len(r)),
                          torch.as_tensor(te, dtype=torch.float64), g).numpy()
        assert np.allclose(ex._dqn_target(r, nq, te, g), lib)
    for _, r, on, ta, te, g in ex._double_cases():
        lib = double_dqn_targets(_lookup_net(on), _lookup_net(ta), torch.as_tensor(r),
                                 torch.arange(len(r)), torch.as_tensor(te, dtype=torch.float64),
                                 g).numpy()
        assert np.allclose(ex._double_target(r, on, ta, te, g), lib)
        # the cases are built so that the networks disagree: the mistakes are distinguishable
        assert (on.argmax(1) != ta.argmax(1)).sum() >= 2
