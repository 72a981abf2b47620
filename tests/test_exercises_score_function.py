"""The checkers of the chapter "The score-function gradient estimator"
(rlnotes.exercises.score_function), tested against the chapter's own cells.

For every checker: the reference solution from the chapter's ``{solution}`` cell passes, and so
do other correct formulations (autograd, the library's own function); typical mistakes fail
with their specific hint; the chapter's untouched stub is reported as "not attempted"; a
crashing function gives a sentence, not a traceback.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np
import torch

from rlnotes.estimators import pg_loss
from rlnotes.exercises import score_function as ex
from rlnotes.returns import discounted_return
from tests.chapter_cells import run_checker as _run
from tests.chapter_cells import solution_code as _solution_code

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "score_function.ipynb"


# ---------------------------------------------------------------------------------- helpers
def _define(code, name):
    namespace = {"np": np, "torch": torch, "math": math}   # what the chapter has imported
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the chapter's own code
    return namespace[name]


# (exercise label, function name, checker)
EXERCISES = [
    ("ex-sf-gaussian-mean", "score_function_estimate", ex.check_score_function_estimate),
    ("ex-sf-pseudo-loss", "pseudo_loss", ex.check_pseudo_loss),
    ("ex-sf-episode-weights", "episode_weights", ex.check_episode_weights),
]


# -------------------------------------------------------------- 1. the solutions pass
def _sf_autograd(f, x, mu, sigma):
    """The same estimate by autodiff: the gradient of mean(f(x) log p(x; μ)) with f(x) fixed."""
    mu_t = torch.tensor(float(mu), dtype=torch.float64, requires_grad=True)
    x_t = torch.as_tensor(x, dtype=torch.float64)
    fx = torch.as_tensor(f(x), dtype=torch.float64)
    (fx * torch.distributions.Normal(mu_t, float(sigma)).log_prob(x_t)).mean().backward()
    return mu_t.grad                                            # a 0-d tensor


def _sf_loop(f, x, mu, sigma):
    total = 0.0
    for xi in x:
        total += f(np.array([xi]))[0] * (xi - mu) / sigma ** 2
    return total / len(x)


def _loss_torch_mean(logp, weights):
    return torch.mean(-logp * weights.detach())


def _weights_torch(episode_rewards, gamma):
    return torch.cat([torch.full((len(r),), discounted_return(r, gamma)) for r in episode_rewards])


def _weights_list(episode_rewards, gamma):
    out = []
    for r in episode_rewards:
        out += [discounted_return(r, gamma)] * len(r)
    return out


def test_other_right_answers_pass_too(capsys):
    """Equivalent formulations: autograd, a loop, the library's pg_loss, torch or list outputs."""
    for check, fn in [(ex.check_score_function_estimate, _sf_autograd),
                      (ex.check_score_function_estimate, _sf_loop),
                      (ex.check_pseudo_loss, pg_loss),
                      (ex.check_pseudo_loss, _loss_torch_mean),
                      (ex.check_episode_weights, _weights_torch),
                      (ex.check_episode_weights, _weights_list)]:
        verdict = _run(check, fn, capsys)
        assert verdict.passed, (fn.__name__, verdict.message)


# ------------------------------------------------------ 2. typical mistakes get their hint
def _deriv(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)                      # central difference


def _sf_no_mu(f, x, mu, sigma):
    return np.mean(f(x) * x / sigma ** 2)


def _sf_no_variance(f, x, mu, sigma):
    return np.mean(f(x) * (x - mu))


def _sf_sigma_not_variance(f, x, mu, sigma):
    return np.mean(f(x) * (x - mu) / sigma)


def _sf_sign(f, x, mu, sigma):
    return np.mean(f(x) * (mu - x) / sigma ** 2)


def _sf_sum(f, x, mu, sigma):
    return np.sum(f(x) * (x - mu) / sigma ** 2)


def _sf_product_of_means(f, x, mu, sigma):
    return np.mean(f(x)) * np.mean((x - mu) / sigma ** 2)


def _sf_pathwise(f, x, mu, sigma):
    return np.mean(_deriv(f, x))


def _sf_f_prime(f, x, mu, sigma):
    return np.mean(_deriv(f, x) * (x - mu) / sigma ** 2)


def _sf_per_sample(f, x, mu, sigma):
    return f(x) * (x - mu) / sigma ** 2


def _sf_no_f(f, x, mu, sigma):
    return np.mean((x - mu) / sigma ** 2)


def _loss_sign(logp, weights):
    return (logp * weights.detach()).mean()


def _loss_sum(logp, weights):
    return -(logp * weights.detach()).sum()


def _loss_not_detached(logp, weights):
    return -(logp * weights).mean()


def _loss_not_reduced(logp, weights):
    return -(logp * weights.detach())


def _loss_float(logp, weights):
    return (-(logp * weights.detach()).mean()).item()


def _loss_probabilities(logp, weights):
    return -(logp.exp() * weights.detach()).mean()


def _loss_no_weights(logp, weights):
    return -logp.mean()


def _loss_logp_detached(logp, weights):
    return -(logp.detach() * weights.detach()).mean()


def _loss_separate_means(logp, weights):
    return -logp.mean() * weights.detach().mean()


def _ret(r, gamma):
    return sum(gamma ** t * x for t, x in enumerate(r))


def _w_reward_to_go(episode_rewards, gamma):
    return np.concatenate([[_ret(r[t:], gamma) for t in range(len(r))] for r in episode_rewards])


def _w_per_episode(episode_rewards, gamma):
    return np.array([_ret(r, gamma) for r in episode_rewards])


def _w_not_concatenated(episode_rewards, gamma):
    return [np.full(len(r), _ret(r, gamma)) for r in episode_rewards]


def _w_rewards(episode_rewards, gamma):
    return np.concatenate([np.asarray(r, float) for r in episode_rewards])


def _w_no_discount(episode_rewards, gamma):
    return np.concatenate([np.full(len(r), sum(r)) for r in episode_rewards])


def _w_from_the_end(episode_rewards, gamma):
    return np.concatenate([np.full(len(r), _ret(r[::-1], gamma)) for r in episode_rewards])


def _w_batch_total(episode_rewards, gamma):
    total = sum(_ret(r, gamma) for r in episode_rewards)
    return np.full(sum(len(r) for r in episode_rewards), total)


def _w_batch_mean(episode_rewards, gamma):
    mean = np.mean([_ret(r, gamma) for r in episode_rewards])
    return np.full(sum(len(r) for r in episode_rewards), mean)


MISTAKES = [
    # (checker, wrong function, substrings the hint must contain)
    (ex.check_score_function_estimate, _sf_no_mu, ["forgot to subtract μ", "expected"]),
    (ex.check_score_function_estimate, _sf_no_variance, ["forgot to divide by σ²"]),
    (ex.check_score_function_estimate, _sf_sigma_not_variance, ["divided by σ instead of σ²"]),
    (ex.check_score_function_estimate, _sf_sign, ["sign error"]),
    (ex.check_score_function_estimate, _sf_sum, ["summed the terms instead of averaging"]),
    (ex.check_score_function_estimate, _sf_product_of_means, ["averaged f and the score separately"]),
    (ex.check_score_function_estimate, _sf_pathwise, ["pathwise", "never differentiates f"]),
    (ex.check_score_function_estimate, _sf_f_prime, ["derivative f'(x) in place of f(x)"]),
    (ex.check_score_function_estimate, _sf_per_sample, ["per-sample terms", ".mean()"]),
    (ex.check_score_function_estimate, _sf_no_f, ["left f out"]),
    (ex.check_pseudo_loss, _loss_sign, ["sign error", "Optimisers minimise"]),
    (ex.check_pseudo_loss, _loss_sum, ["summed over the batch"]),
    (ex.check_pseudo_loss, _loss_not_detached, ["gradients into the weights", "weights.detach()"]),
    (ex.check_pseudo_loss, _loss_not_reduced, ["one term per step", ".mean()"]),
    (ex.check_pseudo_loss, _loss_float, ["return a torch tensor"]),
    (ex.check_pseudo_loss, _loss_probabilities, ["probabilities π(a|s) = exp(logp)"]),
    (ex.check_pseudo_loss, _loss_no_weights, ["left the weights out"]),
    (ex.check_pseudo_loss, _loss_logp_detached, ["no gradient", "detach logp"]),
    (ex.check_pseudo_loss, _loss_separate_means, ["averaged logp and the weights separately"]),
    (ex.check_episode_weights, _w_reward_to_go, ["rewards-to-go", "R(τ_i) at every step"]),
    (ex.check_episode_weights, _w_per_episode, ["one number per episode", "repeat it T_i times"]),
    (ex.check_episode_weights, _w_not_concatenated, ["one array per episode", "np.concatenate"]),
    (ex.check_episode_weights, _w_rewards, ["rewards r_t themselves"]),
    (ex.check_episode_weights, _w_no_discount, ["ignore the discount", "γ = 0.9"]),
    (ex.check_episode_weights, _w_from_the_end, ["discounted from the end"]),
    (ex.check_episode_weights, _w_batch_total, ["total return of the whole batch"]),
    (ex.check_episode_weights, _w_batch_mean, ["batch's average return", "baseline"]),
]


def test_an_unrecognised_wrong_answer_still_fails_with_numbers(capsys):
    def off_by_a_bit(f, x, mu, sigma):
        return 1.01 * np.mean(f(x) * (x - mu) / sigma ** 2)

    verdict = _run(ex.check_score_function_estimate, off_by_a_bit, capsys)
    assert verdict.status == "fail" and "expected" in verdict.message and "got" in verdict.message

    def scaled_loss(logp, weights):
        return -1.5 * (logp * weights.detach()).mean()

    verdict = _run(ex.check_pseudo_loss, scaled_loss, capsys)
    assert verdict.status == "fail" and "expected" in verdict.message

    def one_weight_wrong(episode_rewards, gamma):
        w = np.concatenate([np.full(len(r), _ret(r, gamma)) for r in episode_rewards])
        w[-1] += 1.0
        return w

    verdict = _run(ex.check_episode_weights, one_weight_wrong, capsys)
    assert verdict.status == "fail" and "weight 4 (episode 1)" in verdict.message


def test_the_loss_checker_accepts_no_gradient_through_the_weights(capsys):
    """A loss that is right in value and in ∇θ but lets gradient reach the value model fails."""
    verdict = _run(ex.check_pseudo_loss, _loss_not_detached, capsys)
    assert "value model" in verdict.message


# -------------------------------------------------- 3. stubs and crashes
def test_the_checkers_leave_the_readers_random_stream_alone(capsys):
    for label, name, check in EXERCISES:
        fn = _define(_solution_code(CHAPTER, label), name)
        torch.manual_seed(123)
        np.random.seed(123)
        expected_t, expected_np = torch.randn(3), np.random.rand(3)
        torch.manual_seed(123)
        np.random.seed(123)
        _run(check, fn, capsys)
        assert torch.equal(torch.randn(3), expected_t) and np.array_equal(np.random.rand(3), expected_np)
