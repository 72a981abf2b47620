"""The checkers of the chapter "Actor-critic methods" (rlnotes.exercises.actor_critic), tested
against the chapter's own cells.

For every checker: the reference solution from the chapter's ``{solution}`` cell passes, and so
do other correct formulations (the library's own functions, torch code); typical mistakes fail
with their specific hint; the chapter's untouched stub is reported as "not attempted"; a
crashing function or an odd answer gives a sentence, not a traceback.
"""
from __future__ import annotations

import pathlib
import re

import numpy as np
import torch

from rlnotes.exercises import actor_critic as ex
from rlnotes.returns import n_step_returns
from tests.chapter_cells import run_checker as _run

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "actor_critic.ipynb"


def _define(code, name):
    namespace = {"np": np, "torch": torch}   # what the chapter has imported
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the chapter's own code
    return namespace[name]


EXERCISES = [
    ("ex-ac-nstep", "n_step_targets", ex.check_n_step_targets,
     "rewards, next_values, terminated, truncated, gamma"),
    ("ex-ac-entropy", "entropy_bonus", ex.check_entropy_bonus, "logits"),
]


def test_other_correct_answers_pass(capsys):
    assert _run(ex.check_n_step_targets, n_step_returns, capsys).passed
    assert _run(ex.check_n_step_targets, lambda *a: torch.as_tensor(n_step_returns(*a)),
                capsys).passed
    assert _run(ex.check_entropy_bonus,
                lambda lg: torch.distributions.Categorical(logits=lg).entropy().mean(), capsys).passed
    assert _run(ex.check_entropy_bonus, lambda lg: -(torch.softmax(lg, 1) * torch.log_softmax(lg, 1))
                .sum(1).mean(), capsys).passed


def test_the_references_agree_with_the_library():
    for _, r, v, te, tr, g in ex._nstep_cases():
        assert np.allclose(ex._targets(r, v, te, tr, g), n_step_returns(r, v, te, tr, g))
        assert te.any() or tr.any()
    for _, logits in ex._entropy_cases():
        ref = torch.distributions.Categorical(logits=torch.tensor(logits)).entropy().numpy()
        assert np.allclose(ex._entropy_rows(logits), ref)


# ------------------------------------------------------------------ typical mistakes
def _n_loop(r, v, te, tr, g, *, term=True, trunc=True, end=True):
    G, running = np.zeros(len(r)), (v[-1] if end else 0.0)
    for t in reversed(range(len(r))):
        if tr[t] and trunc:
            running = v[t]
        running = r[t] + g * ((1 - te[t]) if term else 1.0) * running
        G[t] = running
    return G


def _n_through_termination(r, v, te, tr, g):
    return _n_loop(r, v, te, tr, g, term=False)


def _n_truncation_as_termination(r, v, te, tr, g):
    return _n_loop(r, v, te | tr, np.zeros_like(tr), g)


def _n_across_truncation(r, v, te, tr, g):
    return _n_loop(r, v, te, tr, g, trunc=False)


def _n_no_end_bootstrap(r, v, te, tr, g):
    return _n_loop(r, v, te, tr, g, end=False)


def _n_one_step(r, v, te, tr, g):
    return r + g * (1 - te) * v


def _n_no_gamma(r, v, te, tr, g):
    return _n_loop(r, v, te, tr, 1.0)


def _e_sum(lg):
    return torch.distributions.Categorical(logits=lg).entropy().sum()


def _e_per_state(lg):
    return torch.distributions.Categorical(logits=lg).entropy()


def _e_sign(lg):
    return -torch.distributions.Categorical(logits=lg).entropy().mean()


def _e_naive_log(lg):
    p = torch.softmax(lg, -1)
    return -(p * torch.log(p)).sum(-1).mean()


def _e_item(lg):
    return torch.distributions.Categorical(logits=lg).entropy().mean().item()


def _e_detached(lg):
    return torch.distributions.Categorical(logits=lg.detach()).entropy().mean()


def _e_logits_as_logp(lg):
    return -(torch.softmax(lg, -1) * lg).sum(-1).mean()


MISTAKES = [
    (ex.check_n_step_targets, _n_through_termination, ["bootstrapped through a termination"]),
    (ex.check_n_step_targets, _n_truncation_as_termination, ["treated the truncation like a termination"]),
    (ex.check_n_step_targets, _n_across_truncation, ["across the truncation"]),
    (ex.check_n_step_targets, _n_no_end_bootstrap, ["did not bootstrap at the end"]),
    (ex.check_n_step_targets, _n_one_step, ["one-step TD targets"]),
    (ex.check_n_step_targets, _n_no_gamma, ["forgot the discount"]),
    (ex.check_entropy_bonus, _e_sum, ["summed over the batch"]),
    (ex.check_entropy_bonus, _e_per_state, ["one entropy per state"]),
    (ex.check_entropy_bonus, _e_sign, ["sign is flipped"]),
    (ex.check_entropy_bonus, _e_naive_log, ["log_softmax"]),
    (ex.check_entropy_bonus, _e_item, ["return a torch tensor"]),
    (ex.check_entropy_bonus, _e_detached, ["no gradient"]),
    (ex.check_entropy_bonus, _e_logits_as_logp, ["logits instead of log p"]),
]


def test_an_unrecognised_wrong_answer_still_gets_the_numbers(capsys):
    verdict = _run(ex.check_n_step_targets, lambda *a: n_step_returns(*a) + 0.5, capsys)
    assert verdict.status == "fail" and re.search(r"expected -?[\d.]+, got -?[\d.]+", verdict.message)


# ------------------------------------------------------------ stubs, crashes, odd answers
