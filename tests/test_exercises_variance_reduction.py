"""The checkers of the chapter "Reducing variance: causality, baselines and value functions"
(rlnotes.exercises.variance_reduction), tested against the chapter's own cells.

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

from rlnotes.estimators import optimal_baseline as library_optimal_baseline
from rlnotes.exercises import variance_reduction as ex
from rlnotes.returns import reward_to_go as library_reward_to_go
from tests.chapter_cells import run_checker as _run

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "variance_reduction.ipynb"


# ---------------------------------------------------------------------------------- helpers
def _define(code, name):
    namespace = {"np": np, "torch": torch}   # what the chapter has imported
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the chapter's own code
    return namespace[name]


# (exercise label, function name, checker, parameters of the stub)
EXERCISES = [
    ("ex-vr-reward-to-go", "reward_to_go", ex.check_reward_to_go, "rewards, gamma"),
    ("ex-vr-optimal-baseline", "optimal_baseline", ex.check_optimal_baseline, "grad_logp, returns"),
    ("ex-vr-advantages", "advantages", ex.check_advantages, "episode_rewards, values, gamma"),
]


# -------------------------------------------------------------- 1. the solutions pass
def _rtg(rewards, gamma):
    out, running = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def test_other_correct_answers_pass(capsys):
    # the library's own functions, torch tensors, lists, vectorised versions
    assert _run(ex.check_reward_to_go, library_reward_to_go, capsys).passed
    assert _run(ex.check_reward_to_go, lambda r, g: list(_rtg(r, g)), capsys).passed
    assert _run(ex.check_reward_to_go,
                lambda r, g: torch.as_tensor(_rtg(r, g), dtype=torch.float32), capsys).passed
    assert _run(ex.check_optimal_baseline, library_optimal_baseline, capsys).passed
    assert _run(ex.check_optimal_baseline, lambda g, R: library_optimal_baseline(
        torch.as_tensor(g), torch.as_tensor(R)), capsys).passed
    assert _run(ex.check_optimal_baseline,
                lambda g, R: (g ** 2 * R[:, None]).mean(0) / (g ** 2).mean(0), capsys).passed
    assert _run(ex.check_advantages, lambda E, V, g: np.concatenate(
        [library_reward_to_go(e, g) for e in E]) - V, capsys).passed


# ------------------------------------------------------ 2. typical mistakes get their hint
def _rtg_forward(rewards, gamma):
    out, running = np.zeros(len(rewards)), 0.0
    for t in range(len(rewards)):                   # the loop runs forwards: sums the past
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def _rtg_no_discount(rewards, gamma):
    return _rtg(rewards, 1.0)


def _rtg_whole_return(rewards, gamma):
    return np.full(len(rewards), sum(gamma ** t * r for t, r in enumerate(rewards)))


def _rtg_discount_from_start(rewards, gamma):
    return np.array([sum(gamma ** k * rewards[k] for k in range(t, len(rewards)))
                     for t in range(len(rewards))])


def _rtg_skips_current(rewards, gamma):
    return _rtg(rewards, gamma) - np.asarray(rewards)


def _rtg_scalar(rewards, gamma):
    return float(_rtg(rewards, gamma)[0])


def _rtg_in_place(rewards, gamma):
    for t in reversed(range(len(rewards) - 1)):
        rewards[t] += gamma * rewards[t + 1]
    return rewards


def _b_mean(g, R):
    return np.full(g.shape[1], R.mean())


def _b_no_square(g, R):
    return (g * R[:, None]).sum(0) / g.sum(0)


def _b_averaged_over_parameters(g, R):
    b = (g ** 2 * R[:, None]).sum(0) / (g ** 2).sum(0)
    return np.full(g.shape[1], b.mean())


def _b_one_number(g, R):
    return float((g ** 2 * R[:, None]).sum() / (g ** 2).sum())


def _b_wrong_axis(g, R):
    return (g ** 2 * R[:, None]).sum(1) / (g ** 2).sum(1)


def _b_no_denominator(g, R):
    return (g ** 2 * R[:, None]).mean(0)


def _adv_across_episodes(E, V, gamma):
    return _rtg(np.concatenate(E), gamma) - V


def _adv_wrong_sign(E, V, gamma):
    return V - np.concatenate([_rtg(e, gamma) for e in E])


def _adv_no_baseline(E, V, gamma):
    return np.concatenate([_rtg(e, gamma) for e in E])


def _adv_whole_return(E, V, gamma):
    return np.concatenate([np.full(len(e), _rtg(e, gamma)[0]) for e in E]) - V


def _adv_no_discount(E, V, gamma):
    return np.concatenate([_rtg(e, 1.0) for e in E]) - V


def _adv_per_episode(E, V, gamma):
    out, i = [], 0
    for e in E:
        out.append(_rtg(e, gamma) - V[i:i + len(e)])
        i += len(e)
    return out


MISTAKES = [
    # (checker, wrong function, substrings the hint must contain)
    (ex.check_reward_to_go, _rtg_forward, ["wrong direction", "reversed(range(T))"]),
    (ex.check_reward_to_go, _rtg_no_discount, ["forgot the discount", "expected 2.75, got 6"]),
    (ex.check_reward_to_go, _rtg_whole_return, ["whole episode", "Causality"]),
    (ex.check_reward_to_go, _rtg_discount_from_start, ["discounted from the start", "t' - t"]),
    (ex.check_reward_to_go, _rtg_skips_current, ["left out the reward of step t"]),
    (ex.check_reward_to_go, _rtg_scalar, ["single number", "shape (3,)"]),
    (ex.check_reward_to_go, _rtg_in_place, ["changed the rewards array"]),
    (ex.check_optimal_baseline, _b_mean, ["mean return", "average-return baseline"]),
    (ex.check_optimal_baseline, _b_no_square, ["forgot the square"]),
    (ex.check_optimal_baseline, _b_averaged_over_parameters, ["averaged b*_j over the parameters"]),
    (ex.check_optimal_baseline, _b_one_number, ["one number for all parameters", "axis=0"]),
    (ex.check_optimal_baseline, _b_wrong_axis, ["one per sample", "wrong axis"]),
    (ex.check_optimal_baseline, _b_no_denominator, ["denominator"]),
    (ex.check_advantages, _adv_across_episodes, ["across episode boundaries", "separately"]),
    (ex.check_advantages, _adv_wrong_sign, ["wrong sign"]),
    (ex.check_advantages, _adv_no_baseline, ["did not subtract the baseline"]),
    (ex.check_advantages, _adv_whole_return, ["whole episode's return", "Causality"]),
    (ex.check_advantages, _adv_no_discount, ["forgot the discount"]),
    (ex.check_advantages, _adv_per_episode, ["one array per episode", "np.concatenate"]),
]


def test_hints_name_the_entry_and_the_numbers(capsys):
    verdict = _run(ex.check_optimal_baseline, _b_no_square, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+ for parameter \d+", verdict.message), verdict.message
    verdict = _run(ex.check_advantages, _adv_wrong_sign, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+ for step \d+", verdict.message), verdict.message


def test_an_unrecognised_wrong_answer_still_gets_the_numbers(capsys):
    verdict = _run(ex.check_reward_to_go, lambda r, g: _rtg(r, g) + 0.5, capsys)
    assert verdict.status == "fail"
    assert "the reward-to-go is wrong for step 0" in verdict.message


# ------------------------------------------------------ 3. untouched stubs: "not attempted"
# ------------------------------------------------- 4. crashes and wrong arguments never raise
def test_checkers_do_not_depend_on_earlier_calls(capsys):
    """The cases are rebuilt for every call, so a function that scribbles on its inputs cannot
    make the next call pass or fail."""
    first = _run(ex.check_reward_to_go, _rtg_in_place, capsys)
    second = _run(ex.check_reward_to_go, _rtg_in_place, capsys)
    assert first == second

    def scribble(g, R):
        g[:] = 0.0
        return np.full(g.shape[1], 1.0)

    assert _run(ex.check_optimal_baseline, scribble, capsys) == _run(ex.check_optimal_baseline, scribble, capsys)
