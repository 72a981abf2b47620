"""The checkers of the chapter "Importance sampling and off-policy policy gradients"
(rlnotes.exercises.importance_sampling), tested against the chapter's own cells.

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

from rlnotes.estimators import importance_weights, ppo_kl_loss
from rlnotes.exercises import importance_sampling as ex
from tests.chapter_cells import run_checker as _run

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


# -------------------------------------------------------------- 1. the solutions pass
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


def test_hints_name_the_numbers(capsys):
    verdict = _run(ex.check_causal_weights, _cw_full, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+ for step \d+", verdict.message), verdict.message
    verdict = _run(ex.check_is_estimate, _est_inverted, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+", verdict.message), verdict.message


def test_an_unrecognised_wrong_answer_still_gets_the_numbers(capsys):
    verdict = _run(ex.check_causal_weights, lambda lt, lb: np.exp(np.cumsum(lt - lb)) + 0.5, capsys)
    assert verdict.status == "fail"
    assert "the weight is wrong for step 0" in verdict.message
    verdict = _run(ex.check_is_estimate, lambda f, x, lp, lq: 123.0, capsys)
    assert verdict.status == "fail" and "expected" in verdict.message


# ------------------------------------------------------ 3. untouched stubs: "not attempted"
# ------------------------------------------------- 4. crashes and wrong arguments never raise
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
