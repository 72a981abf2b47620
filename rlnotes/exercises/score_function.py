r"""Checkers for the exercises of the chapter "The score-function gradient estimator"
(book/score_function.ipynb, {ref}`ch-score-function`).

(a) ``score_function_estimate(f, x, mu, sigma)``: the estimate
    $\hat g = \frac1N \sum_i f(x_i)\,(x_i - \mu)/\sigma^2$ of
    $\partial_\mu \mathbb E_{x \sim \mathcal N(\mu, \sigma^2)}[f(x)]$ from given samples;
(b) ``pseudo_loss(logp, weights)``: $L(\theta) = -\frac1N \sum_n \log\pi_\theta(a_n \mid s_n)\,
    \Psi_n$, a torch scalar whose gradient is minus the policy-gradient estimate (weights
    treated as constants);
(c) ``episode_weights(episode_rewards, gamma)``: the weight $R(\tau_i)$ of every step of every
    episode of a batch, flattened in the order of the steps.

The references are computed here from the formulas, independently of ``rlnotes.estimators``
(tested against closed forms in tests/test_estimators.py). Each typical mistake is simulated
and recognised by comparing the reader's answer with the mistake's answer.
"""
from __future__ import annotations

import numpy as np
import torch

from .core import (
    Hint,
    _,
    as_array,
    as_scalar_tensor,
    call,
    checker,
    close,
    diagnose,
    first_diff,
    fmt,
    gradients,
    match_mistake,
    through_value_model,
    to_numpy,
)

__all__ = ["check_score_function_estimate", "check_pseudo_loss", "check_episode_weights"]


# ============================================================================================
# (a) the score-function estimate for the mean of a Gaussian
# ============================================================================================
def _step(x):
    return (x > 0.5).astype(float)


def _sf_cases():
    """(description, f, f', x, mu, sigma): fixed samples x ~ N(mu, sigma^2)."""
    rng = np.random.default_rng(7)
    cases = []
    for desc, f, df, mu, sigma, n in [
        (_("f(x) = x², μ = 1, σ = 2, 40 samples"), lambda x: x ** 2, lambda x: 2 * x, 1.0, 2.0, 40),
        (_("f(x) = 1[x > 0.5] (a step: no useful derivative), μ = -0.3, σ = 0.7, 60 samples"),
         _step, lambda x: np.zeros_like(x), -0.3, 0.7, 60),
        (_("f(x) = sin(3x) + 2, μ = 0.4, σ = 1.5, 25 samples"), lambda x: np.sin(3 * x) + 2.0,
         lambda x: 3 * np.cos(3 * x), 0.4, 1.5, 25),
    ]:
        x = np.round(mu + sigma * rng.standard_normal(n), 3)
        cases.append((desc, f, df, x, mu, sigma))
    return cases


@checker
def check_score_function_estimate(fn):
    r"""Exercise: ``fn(f, x, mu, sigma)`` $= \frac1N \sum_i f(x_i)(x_i - \mu)/\sigma^2$, a number."""
    for case, f, df, x, mu, sigma in _sf_cases():
        value = as_array(call(fn, f, x.copy(), mu, sigma), None, _("the estimate"))
        fx, n = f(x), len(x)
        score = (x - mu) / sigma ** 2                                # ∂/∂μ log N(x; μ, σ²)
        expected = float(np.mean(fx * score))
        mistakes = [
            (fx * score, _("you returned the {n} per-sample terms f(x_i)(x_i − μ)/σ²").format(n=n),
             _("The estimate is their average: add .mean().")),
            (np.mean(fx * x / sigma ** 2), _("you forgot to subtract μ: the score is (x − μ)/σ², "
             "not x/σ²"), _("∂/∂μ log N(x; μ, σ²) = ∂/∂μ [−(x − μ)²/(2σ²)] = (x − μ)/σ².")),
            (np.mean(fx * (x - mu)), _("you forgot to divide by σ²"),
             _("The score of the mean is (x − μ)/σ²: the derivative of −(x − μ)²/(2σ²).")),
            (np.mean(fx * (x - mu) / sigma), _("you divided by σ instead of σ²"),
             _("Differentiating −(x − μ)²/(2σ²) in μ gives (x − μ)/σ²: the variance, not the "
               "standard deviation.")),
            (np.mean(fx * (mu - x) / sigma ** 2), _("sign error: you used (μ − x)/σ²"),
             _("∂/∂μ [−(x − μ)²/(2σ²)] = +(x − μ)/σ²: samples above the mean push μ up.")),
            (np.sum(fx * score), _("you summed the terms instead of averaging them"),
             _("The estimate is the sample mean (1/N) Σ_i f(x_i)(x_i − μ)/σ²; a sum grows with N.")),
            (np.mean(fx) * np.mean(score), _("you averaged f and the score separately and "
             "multiplied the averages"), _("The estimator is the average of the products "
             "f(x_i)·(x_i − μ)/σ²: the mean of a product is not the product of the means "
             "(and the mean score is ≈ 0, so this is ≈ 0).")),
            (np.mean(df(x)), _("you averaged f'(x): that is the pathwise (reparameterisation) "
             "estimate, not the score-function one"), _("The score-function estimator never "
             "differentiates f (which may be a step, or unknown): weight f(x_i) itself by the "
             "score (x_i − μ)/σ².")),
            (np.mean(df(x) * score), _("you used the derivative f'(x) in place of f(x)"),
             _("Weight the function values f(x_i), not their derivatives, by the score "
               "(x_i − μ)/σ².")),
            (np.mean(score), _("you left f out: this averages the score alone (≈ 0 by the EGLP "
             "lemma)"), _("Multiply each score (x_i − μ)/σ² by f(x_i).")),
        ]
        diagnose(value, expected, mistakes, _("the estimate ĝ = (1/N) Σ_i f(x_i)(x_i − μ)/σ²"), case)
    return _("score_function_estimate computes (1/N) Σ_i f(x_i)(x_i − μ)/σ² for a smooth f, a step "
             "function and a shifted sine, on fixed samples.")


# ============================================================================================
# (b) the pseudo-loss whose gradient is the policy gradient
# ============================================================================================
def _loss_cases():
    """(description, logits leaf (B, A), actions (B,), returns (B,), value params or None).

    The weights are built inside the check: either plain returns (no graph), or returns minus
    a linear 'value function' V_φ(s) = s·φ whose parameters φ require gradients, as with a
    learned baseline.
    """
    g = torch.Generator().manual_seed(3)
    out = []
    for desc, B, A, with_value, both_signs in [
        (_("a batch of 6 steps, 3 actions, weights = returns"), 6, 3, False, False),
        (_("a batch of 8 steps, 2 actions, weights = returns − V_φ(s) from a value model whose "
           "parameters φ require gradients"), 8, 2, True, False),
        (_("a batch of 5 steps, 4 actions, weights of both signs"), 5, 4, False, True),
    ]:
        logits = torch.randn(B, A, generator=g, dtype=torch.float64)
        actions = torch.randint(A, (B,), generator=g)
        returns = torch.round(10 * torch.randn(B, generator=g, dtype=torch.float64)) / 2
        if not both_signs:
            returns = returns.abs() + 1.0
        out.append((desc, logits, actions, returns, with_value))
    return out


@checker
def check_pseudo_loss(fn):
    r"""Exercise: ``fn(logp, weights)`` $= -\frac1N \sum_n \log\pi_\theta(a_n|s_n)\,\Psi_n$, weights detached."""
    for case, logits0, actions, returns, with_value in _loss_cases():
        B = len(actions)
        logits = logits0.clone().requires_grad_(True)
        logp = torch.log_softmax(logits, -1)[torch.arange(B), actions]       # log π_θ(a|s), (B,)
        weights, phi = through_value_model(returns, 11) if with_value else (returns.clone(), None)
        answer = as_scalar_tensor(call(fn, logp, weights), B, _("your loss"), case)
        lp, w = logp.detach().numpy(), weights.detach().numpy()
        value = float(answer.detach())
        expected = float(-np.mean(lp * w))
        mistakes = [
            (np.mean(lp * w), _("sign error: your loss is +mean(logp · weights)"),
             _("Optimisers minimise. To climb J(θ) by gradient ascent, gradient descent must run "
               "on minus the objective: loss = −mean(logp · weights).")),
            (-np.sum(lp * w), _("you summed over the batch instead of averaging"),
             _("With a sum the gradient (and so the step size) grows with the batch size; the "
               "estimator is a sample mean: −(logp * weights).mean().")),
            (np.sum(lp * w), _("sign error and a sum instead of a mean"),
             _("Use −(logp * weights).mean().")),
            (-np.mean(np.exp(lp) * w), _("you weighted the probabilities π(a|s) = exp(logp), not "
             "the log-probabilities"), _("The policy gradient is E[∇ log π · Ψ]: multiply logp "
             "itself by the weights.")),
            (-np.mean(lp) * np.mean(w), _("you averaged logp and the weights separately and "
             "multiplied the averages"), _("Each log-probability is weighted by its own step's "
             "weight: −(logp * weights).mean().")),
            (-np.mean(lp), _("you left the weights out: this is the negative log-likelihood "
             "(behaviour cloning of every action taken)"), _("Weight each log-probability by its "
             "Ψ_n: −(logp * weights).mean().")),
        ]
        diagnose(value, expected, mistakes, _("the loss −mean(logp · weights)"), case, atol=1e-8, rtol=1e-8)
        grad, grad_phi = gradients(answer, [logits, phi], _("your loss"), case,
                                   _("It must stay a function of logp: did you detach logp, or compute in "
                                     "numpy / under torch.no_grad()? Only the weights are detached."))
        probs = torch.softmax(logits0, -1).numpy()
        onehot = np.eye(logits0.shape[1])[actions.numpy()]
        expected_grad = -(w[:, None] * (onehot - probs)) / B                 # −(1/N) Ψ_n (e_a − π)
        if grad is None or not close(grad.numpy(), expected_grad, atol=1e-8, rtol=1e-6):
            raise Hint(_("the gradient of your loss with respect to the logits is wrong ({case}): "
                         "it should be −(1/N) Ψ_n ∇ log π(a_n|s_n). Make the loss a differentiable "
                         "function of logp times constant weights.").format(case=case))
        if grad_phi is not None and torch.any(grad_phi != 0):
            raise Hint(_("your loss sends gradients into the weights ({case}): here the weights are "
                         "R − V_φ(s), and backward() would change the value model's φ (grad "
                         "{grad}). The weights are constants of the estimator: use "
                         "weights.detach().").format(case=case,
                                                     grad=np.round(grad_phi.numpy(), 3).tolist()))
    return _("pseudo_loss returns the scalar −(1/N) Σ_n logp_n · Ψ_n; its gradient with respect to "
             "the policy's logits is −(1/N) Σ_n Ψ_n (e_{a_n} − π(·|s_n)), and no gradient leaks into "
             "a value model that produced the weights.")


# ============================================================================================
# (c) R(τ) as the weight of every step of its episode
# ============================================================================================
def _weights_cases():
    rng = np.random.default_rng(5)
    return [
        (_("two episodes with rewards [1, 1, 1] and [1, 1], γ = 1 (CartPole-like)"),
         [[1.0, 1.0, 1.0], [1.0, 1.0]], 1.0),
        (_("three episodes of lengths 4, 1 and 6 with random rewards, γ = 0.9"),
         [list(np.round(rng.uniform(-1, 2, T), 2)) for T in (4, 1, 6)], 0.9),
        (_("one episode [0, 0, 5, -1] with γ = 0.5"), [[0.0, 0.0, 5.0, -1.0]], 0.5),
        (_("two episodes [2, 0, 1] and [0, 3] with γ = 0.8"), [[2.0, 0.0, 1.0], [0.0, 3.0]], 0.8),
    ]


def _ret(r, gamma):
    r = np.asarray(r, float)
    return float(np.sum(gamma ** np.arange(len(r)) * r))


@checker
def check_episode_weights(fn):
    r"""Exercise: ``fn(episode_rewards, gamma)``: $R(\tau_i)$ repeated at each of the $T_i$ steps of episode $i$."""
    for case, episodes, gamma in _weights_cases():
        lengths = [len(r) for r in episodes]
        total = sum(lengths)
        answer = call(fn, [list(r) for r in episodes], gamma)
        if (isinstance(answer, (list, tuple)) and len(answer) == len(episodes) and len(episodes) > 1
                and all(np.ndim(to_numpy(a)) == 1 and len(a) == T for a, T in zip(answer, lengths))):
            raise Hint(_("you returned one array per episode ({case}); the weights of all steps go "
                         "in one flat array, episodes one after another: np.concatenate(...), "
                         "shape ({total},).").format(case=case, total=total))
        answer = to_numpy(answer)
        if isinstance(answer, (list, tuple)):
            answer = [to_numpy(a) for a in answer]
        try:
            shape = np.shape(answer)
        except ValueError:                                   # a ragged list of lists
            raise Hint(_("your weights are a ragged list ({case}); return one flat array with one "
                         "weight per step, shape ({total},).").format(case=case, total=total)) from None
        returns = np.array([_ret(r, gamma) for r in episodes])
        if shape == (len(episodes),) and len(episodes) != total:
            raise Hint(_("you returned one number per episode, shape {shape} ({case}). Every step "
                         "of episode i gets the weight R(τ_i): repeat it T_i times "
                         "(np.full(len(rewards), R)) and concatenate, shape ({total},).").format(
                shape=shape, case=case, total=total))
        if shape == () and total > 1:
            raise Hint(_("you returned a single number ({case}); return one weight per step, shape "
                         "({total},).").format(case=case, total=total))
        value = as_array(answer, (total,), _("the weights"))
        expected = np.repeat(returns, lengths)
        if close(value, expected):
            continue
        flat = np.concatenate([np.asarray(r, float) for r in episodes])
        mistakes = [
            (np.array([_ret(r[t:], gamma) for r in episodes for t in range(len(r))]),   # R̂_t
             _("these are the rewards-to-go R̂_t = Σ_{t'≥t} γ^{t'−t} r_t' (the next chapter's "
               "improvement), not R(τ)"), _("This exercise asks for the estimator as first derived: "
             "the whole episode's return R(τ_i) at every step of episode i.")),
            (flat, _("you returned the rewards r_t themselves"), _("Each step's weight is the return "
             "of its whole episode, R(τ_i) = Σ_t γ^t r_{i,t}, repeated at every step.")),
            (np.repeat([float(np.sum(r)) for r in episodes], lengths),
             _("your returns ignore the discount"), _("R(τ) = Σ_t γ^t r_t: weight r_t by gamma**t.")),
            (np.repeat([float(np.sum(gamma ** np.arange(len(r))[::-1] * np.asarray(r, float)))
                        for r in episodes], lengths),
             _("you discounted from the end of the episode (the last reward gets weight 1)"),
             _("The first reward r_0 gets weight 1, then γ, γ², ...: count t from the start.")),
            (np.repeat([_ret(r, gamma) * gamma for r in episodes], lengths),
             _("your returns discount the first reward too"), _("R(τ) = Σ_{t=0}^{T−1} γ^t r_t: the "
             "exponent of the first reward is 0.")),
            (np.full(total, returns.sum()), _("every step got the total return of the whole batch"),
             _("Each episode keeps its own return: step t of episode i gets R(τ_i).")),
            (np.full(total, returns.mean()), _("every step got the batch's average return"),
             _("That is a constant baseline b, not a weight: step t of episode i gets R(τ_i).")),
            (np.repeat([_ret(r, gamma) / len(r) for r in episodes], lengths),
             _("you divided each return by the episode's length"), _("The weight is R(τ_i) itself.")),
        ]
        found = match_mistake(value, expected, mistakes)
        if found:
            mistake, fix = found
            raise Hint(_("{mistake} ({case}): expected {want}, got {got}. {fix}").format(
                mistake=mistake, case=case, want=np.round(expected, 4).tolist(),
                got=np.round(value, 4).tolist(), fix=fix))
        i = first_diff(value, expected)
        ep = int(np.searchsorted(np.cumsum(lengths), i, side="right"))
        raise Hint(_("weight {i} (episode {ep}) is wrong ({case}): expected R(τ_{ep}) = "
                     "{want}, got {got}.").format(i=i, ep=ep, case=case, want=fmt(expected[i]),
                                                  got=fmt(value[i])))
    return _("episode_weights repeats R(τ_i) = Σ_t γ^t r_{i,t} over the T_i steps of each episode, "
             "for γ = 1 and γ < 1, one-step and multi-step episodes.")
