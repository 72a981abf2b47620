"""The checkers of the chapter "Importance sampling and off-policy policy gradients"
(rlnotes.exercises.importance_sampling), tested against the chapter's own cells.

For every checker: the reference solution from the chapter's ``{solution}`` cell passes, and so
do other correct formulations (the library's own functions, torch inputs and outputs); typical
mistakes fail with their specific hint; the chapter's untouched stub is reported as "not
attempted"; a crashing function or an odd answer gives a sentence, not a traceback.
"""
from __future__ import annotations

import json
import pathlib
import re

import numpy as np
import pytest
import torch

import rlnotes.exercises as exercises
from rlnotes.estimators import importance_weights, ppo_kl_loss
from rlnotes.exercises import importance_sampling as ex
from tests.chapter_cells import cells as _cells, run_checker as _run  # noqa: F401
from tests.chapter_cells import solution_code as _solution_code, stub_code as _stub_code  # noqa: F401

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "importance_sampling.ipynb"


# ---------------------------------------------------------------------------------- helpers
def _define(code, name):
    namespace = {"np": np, "torch": torch}   # what the chapter has imported
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the chapter's own code
    return namespace[name]


# (exercise label, function name, checker, parameters of the stub)
EXERCISES = [
    ("ex-is-estimate", "is_estimate", ex.check_is_estimate, "f, x, log_p, log_q"),
    ("ex-is-causal-weights", "causal_weights", ex.check_causal_weights, "logp_target, logp_behavior"),
    ("ex-is-surrogate", "surrogate_objective", ex.check_surrogate_objective, "logp, logp_old, adv"),
]
IDS = [e[1] for e in EXERCISES]


def test_the_checkers_are_exported_by_the_package():
    for _, _, check, _ in EXERCISES:
        assert getattr(exercises, check.__name__) is check
        assert check.__name__ in ex.__all__


# -------------------------------------------------------------- 1. the solutions pass
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
    # the library's own functions, torch tensors, lists, loops
    assert _run(ex.check_is_estimate, lambda f, x, lp, lq: float(np.mean(
        importance_weights(lp(x), lq(x)) * f(x))), capsys).passed
    assert _run(ex.check_is_estimate, lambda f, x, lp, lq: torch.as_tensor(
        np.exp(lp(x)) / np.exp(lq(x)) * f(x)).mean(), capsys).passed
    assert _run(ex.check_causal_weights, lambda lt, lb: np.cumprod(importance_weights(lt, lb)), capsys).passed
    assert _run(ex.check_causal_weights, lambda lt, lb: torch.cumprod(
        importance_weights(torch.as_tensor(lt), torch.as_tensor(lb)), 0), capsys).passed

    def loop(lt, lb):
        out, w = [], 1.0
        for a, b in zip(lt, lb):
            w *= np.exp(a) / np.exp(b)
            out.append(w)
        return out

    assert _run(ex.check_causal_weights, loop, capsys).passed
    assert _run(ex.check_surrogate_objective, lambda lp, lo, a: (importance_weights(lp, lo) * a.detach()).mean(),
                capsys).passed
    assert _run(ex.check_surrogate_objective, lambda lp, lo, a: -ppo_kl_loss(lp, lo, a, beta=0.0), capsys).passed


# ------------------------------------------------------ 2. typical mistakes get their hint
def _w(lp, lq, x):
    return np.exp(lp(x) - lq(x))


def _est_inverted(f, x, lp, lq):
    return np.mean(f(x) / _w(lp, lq, x))


def _est_no_weights(f, x, lp, lq):
    return np.mean(f(x))


def _est_sum(f, x, lp, lq):
    return np.sum(f(x) * _w(lp, lq, x))


def _est_self_normalised(f, x, lp, lq):
    w = _w(lp, lq, x)
    return np.sum(w * f(x)) / np.sum(w)


def _est_log_weights(f, x, lp, lq):
    return np.mean(f(x) * (lp(x) - lq(x)))


def _est_per_sample(f, x, lp, lq):
    return f(x) * _w(lp, lq, x)


def _est_changes_x(f, x, lp, lq):
    w = _w(lp, lq, x)
    x *= w
    return np.mean(f(x / w) * w)


def _cw_full(lt, lb):
    return np.full(len(lt), np.exp(np.sum(lt - lb)))


def _cw_sum(lt, lb):
    return np.cumsum(np.exp(lt - lb))


def _cw_inverted(lt, lb):
    return np.exp(np.cumsum(lb - lt))


def _cw_one_step(lt, lb):
    return np.exp(lt - lb)


def _cw_exclusive(lt, lb):
    return np.exp(np.concatenate([[0.0], np.cumsum(lt - lb)[:-1]]))


def _cw_future(lt, lb):
    return np.exp(np.cumsum((lt - lb)[::-1])[::-1])


def _cw_log(lt, lb):
    return np.cumsum(lt - lb)


def _cw_scalar(lt, lb):
    return float(np.exp(np.sum(lt - lb)))


def _so_loss(lp, lo, a):
    return -(torch.exp(lp - lo.detach()) * a.detach()).mean()


def _so_inverted(lp, lo, a):
    return (torch.exp(lo.detach() - lp) * a.detach()).mean()


def _so_log_ratio(lp, lo, a):
    return ((lp - lo.detach()) * a.detach()).mean()


def _so_on_policy(lp, lo, a):
    return (lp * a.detach()).mean()


def _so_sum(lp, lo, a):
    return (torch.exp(lp - lo.detach()) * a.detach()).sum()


def _so_not_detached_old(lp, lo, a):
    return (torch.exp(lp - lo) * a.detach()).mean()


def _so_not_detached_adv(lp, lo, a):
    return (torch.exp(lp - lo.detach()) * a).mean()


def _so_item(lp, lo, a):
    return (torch.exp(lp - lo.detach()) * a.detach()).mean().item()


def _so_per_step(lp, lo, a):
    return torch.exp(lp - lo.detach()) * a.detach()


def _so_no_grad(lp, lo, a):
    return (torch.exp(lp.detach() - lo.detach()) * a.detach()).mean()


MISTAKES = [
    # (checker, wrong function, substrings the hint must contain)
    (ex.check_is_estimate, _est_inverted, ["inverted", "p(x_i)/q(x_i)"]),
    (ex.check_is_estimate, _est_no_weights, ["without weights", "E_q[f]"]),
    (ex.check_is_estimate, _est_sum, ["summed"]),
    (ex.check_is_estimate, _est_self_normalised, ["self-normalised", "divide by N"]),
    (ex.check_is_estimate, _est_log_weights, ["log-ratio", "exponentiate"]),
    (ex.check_is_estimate, _est_per_sample, ["per-sample terms", ".mean()"]),
    (ex.check_is_estimate, _est_changes_x, ["changed the samples"]),
    (ex.check_causal_weights, _cw_full, ["whole trajectory", "Causality"]),
    (ex.check_causal_weights, _cw_sum, ["summed the ratios"]),
    (ex.check_causal_weights, _cw_inverted, ["inverted"]),
    (ex.check_causal_weights, _cw_one_step, ["only the ratio of step t"]),
    (ex.check_causal_weights, _cw_exclusive, ["left out the ratio of step t"]),
    (ex.check_causal_weights, _cw_future, ["to the end of the trajectory"]),
    (ex.check_causal_weights, _cw_log, ["log-weights", "exponentiate"]),
    (ex.check_causal_weights, _cw_scalar, ["single number", "shape (4,)"]),
    (ex.check_surrogate_objective, _so_loss, ["sign error", "maximised"]),
    (ex.check_surrogate_objective, _so_inverted, ["inverted"]),
    (ex.check_surrogate_objective, _so_log_ratio, ["log-ratio"]),
    (ex.check_surrogate_objective, _so_on_policy, ["on-policy pseudo-objective"]),
    (ex.check_surrogate_objective, _so_sum, ["summed over the batch"]),
    (ex.check_surrogate_objective, _so_not_detached_old, ["gradient of your surrogate is zero", "logp_old.detach()"]),
    (ex.check_surrogate_objective, _so_not_detached_adv, ["gradients into the advantages", "adv.detach()"]),
    (ex.check_surrogate_objective, _so_item, ["return a torch tensor"]),
    (ex.check_surrogate_objective, _so_per_step, ["one term per step", ".mean()"]),
    (ex.check_surrogate_objective, _so_no_grad, ["no gradient"]),
]


@pytest.mark.parametrize("check, wrong, expected", MISTAKES,
                         ids=[f"{c.__name__}-{w.__name__.lstrip('_')}" for c, w, _ in MISTAKES])
def test_typical_mistakes_get_a_specific_hint(check, wrong, expected, capsys):
    verdict = _run(check, wrong, capsys)
    assert verdict.status == "fail", verdict.message
    assert verdict.message.startswith("✗")
    for text in expected:
        assert text in verdict.message, f"hint {verdict.message!r} should mention {text!r}"


def test_hints_name_the_numbers(capsys):
    verdict = _run(ex.check_causal_weights, _cw_full, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+ for step \d+", verdict.message), verdict.message
    verdict = _run(ex.check_is_estimate, _est_inverted, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+", verdict.message), verdict.message


def test_an_unrecognised_wrong_answer_still_gets_the_numbers(capsys):
    verdict = _run(ex.check_causal_weights, lambda lt, lb: np.exp(np.cumsum(lt - lb)) + 0.5, capsys)
    assert verdict.status == "fail"
    assert "the weights are wrong for step 0" in verdict.message
    verdict = _run(ex.check_is_estimate, lambda f, x, lp, lq: 123.0, capsys)
    assert verdict.status == "fail" and "expected" in verdict.message


# ------------------------------------------------------ 3. untouched stubs: "not attempted"
@pytest.mark.parametrize("label, name, check, params", EXERCISES, ids=IDS)
def test_the_chapters_stub_is_not_attempted(label, name, check, params, capsys):
    stub = _stub_code(CHAPTER, name)
    assert "raise NotImplementedError" in stub and "# your code here" in stub
    verdict = _run(check, _define(stub, name), capsys)
    assert verdict.status == "not attempted", verdict.message
    assert verdict.message.startswith("… not attempted yet")


@pytest.mark.parametrize("label, name, check, params", EXERCISES, ids=IDS)
def test_an_ellipsis_body_is_not_attempted(label, name, check, params, capsys):
    fn = _define(f"def {name}({params}):\n    ...\n", name)
    assert _run(check, fn, capsys).status == "not attempted"


# ------------------------------------------------- 4. crashes and wrong arguments never raise
@pytest.mark.parametrize("label, name, check, params", EXERCISES, ids=IDS)
def test_a_crash_is_a_fail_with_a_sentence(label, name, check, params, capsys):
    def crashes(*args):
        return {}["missing"]

    verdict = _run(check, crashes, capsys)
    assert verdict.status == "fail"
    assert "crashes raised KeyError" in verdict.message and "Traceback" not in verdict.message


@pytest.mark.parametrize("label, name, check, params", EXERCISES, ids=IDS)
@pytest.mark.parametrize("answer", [None, "text", [1, 2, 3], np.full(3, np.nan), 7, {"a": 1},
                                    torch.tensor(float("nan"))],
                         ids=["none", "str", "list", "nan", "int", "dict", "nan-tensor"])
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


def test_checkers_do_not_depend_on_earlier_calls(capsys):
    """The cases are rebuilt for every call, so a function that scribbles on its inputs cannot
    make the next call pass or fail."""
    first = _run(ex.check_is_estimate, _est_changes_x, capsys)
    assert first == _run(ex.check_is_estimate, _est_changes_x, capsys)

    def scribble(lt, lb):
        lt[:] = 0.0
        return np.exp(np.cumsum(lt - lb))

    assert _run(ex.check_causal_weights, scribble, capsys) == _run(ex.check_causal_weights, scribble, capsys)


def test_the_surrogate_check_can_fail_on_the_gradient_alone(capsys):
    """A surrogate with the right value but a gradient that ignores the ratio (θ ≠ θ') fails."""
    def wrong_gradient(lp, lo, a):
        value = (torch.exp(lp - lo.detach()) * a.detach()).mean()
        on_policy = (lp * a.detach()).mean()
        return value.detach() + on_policy - on_policy.detach()   # value of the surrogate, gradient of mean(logp·A)

    verdict = _run(ex.check_surrogate_objective, wrong_gradient, capsys)
    assert verdict.status == "fail" and "gradient of your surrogate" in verdict.message
