"""The checkers of the chapter "Proximal policy optimisation" (rlnotes.exercises.ppo), tested
against the chapter's own cells.

For every checker: the reference solution from the chapter's ``{solution}`` cell passes, and so
do other correct formulations (the library's own functions, other ways of writing the same
formula); typical mistakes fail with their specific hint; the chapter's untouched stub is
reported as "not attempted"; a crashing function or an odd answer gives a sentence, not a
traceback.
"""
from __future__ import annotations

import pathlib
import re

import numpy as np
import torch

from rlnotes.estimators import adapt_kl_beta, ppo_clip_loss
from rlnotes.exercises import ppo as ex
from rlnotes.returns import gae
from tests.chapter_cells import run_checker as _run

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "ppo.ipynb"


# ---------------------------------------------------------------------------------- helpers
def _define(code, name):
    namespace = {"np": np, "torch": torch}   # what the chapter has imported
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the chapter's own code
    return namespace[name]


# (exercise label, function name, checker, parameters of the stub)
EXERCISES = [
    ("ex-ppo-clip-loss", "clipped_surrogate_loss", ex.check_clipped_surrogate_loss,
     "logp, logp_old, adv, clip_eps"),
    ("ex-ppo-gae", "episode_gae", ex.check_episode_gae,
     "rewards, values, final_value, terminated, gamma, lam"),
    ("ex-ppo-adapt-beta", "adapt_beta", ex.check_adapt_beta, "beta, kl, kl_target"),
]


# -------------------------------------------------------------- 1. the solutions pass
def _library_episode_gae(rewards, values, final_value, terminated, gamma, lam):
    """One episode through rlnotes.returns.gae: the end flag on the last step only."""
    T = len(rewards)
    next_values = np.append(np.asarray(values[1:], dtype=float), final_value)
    term, trunc = np.zeros(T), np.zeros(T)
    term[-1], trunc[-1] = float(terminated), float(not terminated)
    return gae(rewards, values, next_values, term, trunc, gamma, lam)


def _gae_closed_form(rewards, values, final_value, terminated, gamma, lam):
    """Â_t = Σ_l (γλ)^l δ_{t+l}, summed directly (no recursion)."""
    T = len(rewards)
    v_next = np.append(values[1:], 0.0 if terminated else final_value)
    delta = rewards + gamma * v_next - values
    return np.array([sum((gamma * lam) ** (k - t) * delta[k] for k in range(t, T)) for t in range(T)])


def test_other_correct_answers_pass(capsys):
    assert _run(ex.check_clipped_surrogate_loss, ppo_clip_loss, capsys).passed

    def clip_by_cases(logp, logp_old, adv, clip_eps):
        # the case analysis of the objective: clip the ratio on the side the advantage favours
        r = torch.exp(logp - logp_old)
        bound = torch.where(adv >= 0, torch.clamp(r, max=1 + clip_eps), torch.clamp(r, min=1 - clip_eps))
        return -(bound * adv).mean()

    assert _run(ex.check_clipped_surrogate_loss, clip_by_cases, capsys).passed
    assert _run(ex.check_episode_gae, _library_episode_gae, capsys).passed
    assert _run(ex.check_episode_gae, _gae_closed_form, capsys).passed
    assert _run(ex.check_episode_gae, lambda *a: torch.as_tensor(_gae_closed_form(*a)), capsys).passed
    assert _run(ex.check_adapt_beta, adapt_kl_beta, capsys).passed
    assert _run(ex.check_adapt_beta, lambda b, k, d: np.float32(adapt_kl_beta(b, k, d)), capsys).passed


# ------------------------------------------------------ 2. typical mistakes get their hint
def _ratio(logp, logp_old):
    return torch.exp(logp - logp_old)


def _clip_max(logp, logp_old, adv, eps):
    r = _ratio(logp, logp_old)
    return -torch.max(r * adv, torch.clamp(r, 1 - eps, 1 + eps) * adv).mean()


def _clip_advantage(logp, logp_old, adv, eps):
    r = _ratio(logp, logp_old)
    return -torch.min(r * adv, r * torch.clamp(adv, 1 - eps, 1 + eps)).mean()


def _clip_product(logp, logp_old, adv, eps):
    r = _ratio(logp, logp_old)
    return -torch.min(r * adv, torch.clamp(r * adv, 1 - eps, 1 + eps)).mean()


def _clip_no_minus(logp, logp_old, adv, eps):
    r = _ratio(logp, logp_old)
    return torch.min(r * adv, torch.clamp(r, 1 - eps, 1 + eps) * adv).mean()


def _clip_log_ratio(logp, logp_old, adv, eps):
    r = logp - logp_old                                   # forgot the exp
    return -torch.min(r * adv, torch.clamp(r, 1 - eps, 1 + eps) * adv).mean()


def _clip_inverted(logp, logp_old, adv, eps):
    r = torch.exp(logp_old - logp)
    return -torch.min(r * adv, torch.clamp(r, 1 - eps, 1 + eps) * adv).mean()


def _clip_sum(logp, logp_old, adv, eps):
    r = _ratio(logp, logp_old)
    return -torch.min(r * adv, torch.clamp(r, 1 - eps, 1 + eps) * adv).sum()


def _clip_no_clip(logp, logp_old, adv, eps):
    return -(_ratio(logp, logp_old) * adv).mean()


def _clip_detached(logp, logp_old, adv, eps):
    return ppo_clip_loss(logp, logp_old, adv, eps).detach()


def _clip_numpy(logp, logp_old, adv, eps):
    return ppo_clip_loss(logp, logp_old, adv, eps).item()


def _clip_per_sample(logp, logp_old, adv, eps):
    r = _ratio(logp, logp_old)
    return -torch.min(r * adv, torch.clamp(r, 1 - eps, 1 + eps) * adv)


def _gae_no_bootstrap(r, v, vf, term, gamma, lam):
    return _library_episode_gae(r, v, vf, True, gamma, lam)          # every end treated as terminal


def _gae_always_bootstrap(r, v, vf, term, gamma, lam):
    return _library_episode_gae(r, v, vf, False, gamma, lam)


def _gae_swapped(r, v, vf, term, gamma, lam):
    return _library_episode_gae(r, v, vf, term, lam, gamma)


def _gae_no_gamma_in_recursion(r, v, vf, term, gamma, lam):
    T = len(r)
    v_next = np.append(v[1:], 0.0 if term else vf)
    out, running = np.zeros(T), 0.0
    for t in reversed(range(T)):
        running = r[t] + gamma * v_next[t] - v[t] + lam * running
        out[t] = running
    return out


def _gae_lambda_return(r, v, vf, term, gamma, lam):
    return _library_episode_gae(r, v, vf, term, gamma, lam) + v


def _gae_forward(r, v, vf, term, gamma, lam):
    T = len(r)
    v_next = np.append(v[1:], 0.0 if term else vf)
    out, running = np.zeros(T), 0.0
    for t in range(T):
        running = r[t] + gamma * v_next[t] - v[t] + gamma * lam * running
        out[t] = running
    return out


def _gae_in_place(r, v, vf, term, gamma, lam):
    out = _library_episode_gae(r, v, vf, term, gamma, lam)
    r[:] = out
    return r


def _beta_wrong_way(beta, kl, target):
    return beta * 2 if kl < target / 1.5 else (beta / 2 if kl > 1.5 * target else beta)


def _beta_no_band(beta, kl, target):
    return beta / 2 if kl < target else (beta * 2 if kl > target else beta)


def _beta_factor_1_5(beta, kl, target):
    return beta / 1.5 if kl < target / 1.5 else (beta * 1.5 if kl > 1.5 * target else beta)


def _beta_returns_kl(beta, kl, target):
    return kl


def _beta_returns_tuple(beta, kl, target):
    return (beta, kl)


MISTAKES = [
    # (checker, wrong function, substrings the hint must contain)
    (ex.check_clipped_surrogate_loss, _clip_max, ["max of the two terms", "pessimistic"]),
    (ex.check_clipped_surrogate_loss, _clip_advantage, ["clipped the advantage"]),
    (ex.check_clipped_surrogate_loss, _clip_product, ["clipped the product"]),
    (ex.check_clipped_surrogate_loss, _clip_no_minus, ["wrong sign", "minimise"]),
    (ex.check_clipped_surrogate_loss, _clip_log_ratio, ["logp − logp_old", "exp"]),
    (ex.check_clipped_surrogate_loss, _clip_inverted, ["upside down"]),
    (ex.check_clipped_surrogate_loss, _clip_sum, ["summed over the batch"]),
    (ex.check_clipped_surrogate_loss, _clip_no_clip, ["did not clip at all"]),
    (ex.check_clipped_surrogate_loss, _clip_detached, ["no autograd graph"]),
    (ex.check_clipped_surrogate_loss, _clip_numpy, ["no autograd graph"]),
    (ex.check_clipped_surrogate_loss, _clip_per_sample, ["one value per sample"]),
    (ex.check_episode_gae, _gae_no_bootstrap, ["did not bootstrap at the time limit", "truncated"]),
    (ex.check_episode_gae, _gae_always_bootstrap, ["although the episode terminated"]),
    (ex.check_episode_gae, _gae_swapped, ["swapped γ and λ"]),
    (ex.check_episode_gae, _gae_no_gamma_in_recursion, ["forgot γ in the recursion"]),
    (ex.check_episode_gae, _gae_lambda_return, ["λ-return"]),
    (ex.check_episode_gae, _gae_forward, ["forwards in time", "reversed"]),
    (ex.check_episode_gae, _gae_in_place, ["changed the rewards or values"]),
    (ex.check_adapt_beta, _beta_wrong_way, ["wrong way"]),
    (ex.check_adapt_beta, _beta_no_band, ["tolerance band"]),
    (ex.check_adapt_beta, _beta_factor_1_5, ["factor is 2"]),
    (ex.check_adapt_beta, _beta_returns_kl, ["the new β is wrong"]),
    (ex.check_adapt_beta, _beta_returns_tuple, ["one number"]),
]


def test_hints_name_the_numbers(capsys):
    verdict = _run(ex.check_clipped_surrogate_loss, _clip_max, capsys)
    assert re.search(r"expected a loss of -?[\d.]+, got -?[\d.]+", verdict.message), verdict.message
    verdict = _run(ex.check_episode_gae, _gae_swapped, capsys)
    assert re.search(r"expected -?[\d.]+, got -?[\d.]+ for step \d+", verdict.message), verdict.message
    verdict = _run(ex.check_adapt_beta, _beta_wrong_way, capsys)
    assert re.search(r"expected [\d.]+, got [\d.]+ \(β = ", verdict.message), verdict.message


def test_an_unrecognised_wrong_answer_still_gets_the_numbers(capsys):
    verdict = _run(ex.check_episode_gae, lambda *a: _library_episode_gae(*a) + 0.5, capsys)
    assert verdict.status == "fail"
    assert "the advantage is wrong for step 0" in verdict.message
    verdict = _run(ex.check_clipped_surrogate_loss, lambda *a: ppo_clip_loss(*a) + 0.5, capsys)
    assert verdict.status == "fail" and "the loss is wrong" in verdict.message


def test_a_wrong_gradient_with_the_right_value_is_caught(capsys):
    def clamp_without_gradient(logp, logp_old, adv, eps):
        r = torch.exp(logp - logp_old)
        r_clip = torch.clamp(r, 1 - eps, 1 + eps)
        # the value of the min, but the gradient always flows through r·A
        obj = r * adv + (torch.min(r * adv, r_clip * adv) - r * adv).detach()
        return -obj.mean()

    verdict = _run(ex.check_clipped_surrogate_loss, clamp_without_gradient, capsys)
    assert verdict.status == "fail" and "gradient with respect to logp" in verdict.message


# ------------------------------------------------------ 3. untouched stubs: "not attempted"
# ------------------------------------------------- 4. crashes and wrong arguments never raise
def test_checkers_do_not_depend_on_earlier_calls(capsys):
    """The cases are rebuilt for every call, so a function that scribbles on its inputs cannot
    make the next call pass or fail."""
    assert _run(ex.check_episode_gae, _gae_in_place, capsys) == _run(ex.check_episode_gae, _gae_in_place, capsys)

    def scribble(logp, logp_old, adv, eps):
        adv.zero_()
        return ppo_clip_loss(logp, logp_old, adv, eps)

    assert (_run(ex.check_clipped_surrogate_loss, scribble, capsys)
            == _run(ex.check_clipped_surrogate_loss, scribble, capsys))
