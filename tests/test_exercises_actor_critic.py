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
import pytest
import torch

import rlnotes.exercises as exercises
from rlnotes.algos import a2c
from rlnotes.exercises import actor_critic as ex
from tests.chapter_cells import cells as _cells, run_checker as _run  # noqa: F401
from tests.chapter_cells import solution_code as _solution_code, stub_code as _stub_code  # noqa: F401

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
IDS = [e[1] for e in EXERCISES]


def test_the_checkers_are_exported_by_the_package():
    for _, _, check, _ in EXERCISES:
        assert getattr(exercises, check.__name__) is check
        assert check.__name__ in ex.__all__


@pytest.mark.parametrize("label, name, check, params", EXERCISES, ids=IDS)
def test_the_chapters_solution_passes(label, name, check, params, capsys):
    fn = _define(_solution_code(CHAPTER, label), name)
    verdict = _run(check, fn, capsys)
    assert verdict.passed, verdict.message
    assert verdict.message.startswith("✓")


def test_every_exercise_has_stub_checker_and_dropdown_solution():
    cells = _cells(CHAPTER)
    for label, name, check, _ in EXERCISES:
        exercise = [s for k, s in cells if k == "markdown" and f":label: {label}" in s]
        assert exercise and "{exercise}" in exercise[0], f"no {{exercise}} cell labelled {label}"
        solution = [s for k, s in cells if k == "markdown" and re.search(rf"\{{solution\}}\s+{label}\b", s)]
        assert solution and ":class: dropdown" in solution[0], f"the solution of {label} must be a dropdown"
        assert any(k == "code" and f"{check.__name__}({name})" in s for k, s in cells), \
            f"no checker cell {check.__name__}({name})"


def test_other_correct_answers_pass(capsys):
    assert _run(ex.check_n_step_targets, a2c.n_step_returns, capsys).passed
    assert _run(ex.check_n_step_targets, lambda *a: torch.as_tensor(a2c.n_step_returns(*a)),
                capsys).passed
    assert _run(ex.check_entropy_bonus,
                lambda lg: torch.distributions.Categorical(logits=lg).entropy().mean(), capsys).passed
    assert _run(ex.check_entropy_bonus, lambda lg: -(torch.softmax(lg, 1) * torch.log_softmax(lg, 1))
                .sum(1).mean(), capsys).passed


def test_the_references_agree_with_the_library():
    for _, r, v, te, tr, g in ex._nstep_cases():
        assert np.allclose(ex._targets(r, v, te, tr, g), a2c.n_step_returns(r, v, te, tr, g))
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


@pytest.mark.parametrize("check, wrong, expected", MISTAKES,
                         ids=[f"{c.__name__}-{w.__name__.lstrip('_')}" for c, w, _ in MISTAKES])
def test_typical_mistakes_get_a_specific_hint(check, wrong, expected, capsys):
    verdict = _run(check, wrong, capsys)
    assert verdict.status == "fail", verdict.message
    assert verdict.message.startswith("✗")
    for text in expected:
        assert text in verdict.message, f"hint {verdict.message!r} should mention {text!r}"


def test_an_unrecognised_wrong_answer_still_gets_the_numbers(capsys):
    verdict = _run(ex.check_n_step_targets, lambda *a: a2c.n_step_returns(*a) + 0.5, capsys)
    assert verdict.status == "fail" and re.search(r"expected -?[\d.]+, got -?[\d.]+", verdict.message)


# ------------------------------------------------------------ stubs, crashes, odd answers
@pytest.mark.parametrize("label, name, check, params", EXERCISES, ids=IDS)
def test_the_chapters_stub_is_not_attempted(label, name, check, params, capsys):
    stub = _stub_code(CHAPTER, name)
    assert "raise NotImplementedError" in stub and "# your code here" in stub
    verdict = _run(check, _define(stub, name), capsys)
    assert verdict.status == "not attempted", verdict.message


@pytest.mark.parametrize("label, name, check, params", EXERCISES, ids=IDS)
def test_an_ellipsis_body_is_not_attempted(label, name, check, params, capsys):
    fn = _define(f"def {name}({params}):\n    ...\n", name)
    assert _run(check, fn, capsys).status == "not attempted"


@pytest.mark.parametrize("label, name, check, params", EXERCISES, ids=IDS)
def test_a_crash_is_a_fail_with_a_sentence(label, name, check, params, capsys):
    def crashes(*args):
        return {}["missing"]

    verdict = _run(check, crashes, capsys)
    assert verdict.status == "fail"
    assert "crashes raised KeyError" in verdict.message and "Traceback" not in verdict.message


@pytest.mark.parametrize("label, name, check, params", EXERCISES, ids=IDS)
@pytest.mark.parametrize("answer", [None, "text", [1, 2, 3], np.full(3, np.nan), 7, {"a": 1}],
                         ids=["none", "str", "list", "nan", "int", "dict"])
def test_odd_answers_give_a_verdict_not_an_exception(label, name, check, params, answer, capsys):
    verdict = _run(check, lambda *args: answer, capsys)
    assert verdict.status in ("fail", "not attempted")
    if answer is not None:
        assert verdict.status == "fail"
        assert "could not run your function" not in verdict.message, verdict.message


@pytest.mark.parametrize("label, name, check, params", EXERCISES, ids=IDS)
def test_a_non_callable_gets_a_clear_message(label, name, check, params, capsys):
    verdict = _run(check, 42, capsys)
    assert verdict.status == "fail"
    assert "pass your function itself" in verdict.message and check.__name__ in verdict.message
