r"""Checkers for the exercises of the chapter "Importance sampling and off-policy policy
gradients" (book/importance_sampling.ipynb, {ref}`ch-importance-sampling`).

(a) ``is_estimate(f, x, log_p, log_q)``: the ordinary importance-sampling estimate
    $\frac1N \sum_i f(x_i)\, p(x_i)/q(x_i)$ of $\mathbb E_{x \sim p}[f(x)]$ from samples
    $x_i \sim q$, eq. {eq}`eq-is-estimator`;
(b) ``causal_weights(logp_target, logp_behavior)``: the per-decision weights
    $w_{0:t} = \prod_{k=0}^{t} \pi_\theta(a_k|s_k)/\pi_{\theta'}(a_k|s_k)$ of one trajectory,
    one per step, eq. {eq}`eq-is-causal-weights`;
(c) ``surrogate_objective(logp, logp_old, adv)``: the sample surrogate
    $\frac1N \sum_n \frac{\pi_\theta(a_n|s_n)}{\pi_{\theta'}(a_n|s_n)} \hat A_n$, a torch scalar
    whose gradient at $\theta = \theta'$ is the policy gradient, eq. {eq}`eq-is-surrogate-estimate`.

The references are computed here from the formulas, independently of
``rlnotes.estimators.importance_weights`` (tested in tests/test_estimators.py). Each typical
mistake is simulated and recognised by comparing the reader's answer with the mistake's answer.
"""
from __future__ import annotations

import math

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
    gradients,
    require_unchanged,
    through_value_model,
    to_numpy,
)

__all__ = ["check_is_estimate", "check_causal_weights", "check_surrogate_objective"]

_TOL = dict(atol=1e-8, rtol=1e-6)


# ============================================================================================
# (a) the importance-sampling estimate of E_p[f] from samples of q
# ============================================================================================
def _normal_logpdf(mu, sigma):
    return lambda x: -0.5 * ((np.asarray(x) - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)


def _laplace_logpdf(x):
    return -np.abs(np.asarray(x)) - math.log(2.0)


def _is_cases():
    """(description, f, x ~ q, log_p, log_q): fixed samples, rounded so that the cases are readable."""
    rng = np.random.default_rng(21)
    return [
        (_("p = N(0, 1), q = N(1, 1), f(x) = x², 40 samples of q"),
         lambda x: x ** 2, np.round(rng.normal(1.0, 1.0, 40), 3), _normal_logpdf(0.0, 1.0),
         _normal_logpdf(1.0, 1.0)),
        (_("p = N(0, 1), q = N(0, 2²), f(x) = 1[x > 1], 60 samples of q"),
         lambda x: (x > 1.0).astype(float), np.round(rng.normal(0.0, 2.0, 60), 3),
         _normal_logpdf(0.0, 1.0), _normal_logpdf(0.0, 2.0)),
        (_("p = Laplace(0, 1), q = N(0.5, 1.5²), f(x) = |x|, 25 samples of q"),
         np.abs, np.round(rng.normal(0.5, 1.5, 25), 3), _laplace_logpdf, _normal_logpdf(0.5, 1.5)),
    ]


@checker
def check_is_estimate(fn):
    r"""Exercise: ``is_estimate(f, x, log_p, log_q)`` $= \frac1N \sum_i f(x_i)\, p(x_i)/q(x_i)$, a number."""
    for case, f, x, log_p, log_q in _is_cases():
        given = x.copy()
        value = as_array(call(fn, f, given, log_p, log_q), None, _("the estimate"))
        require_unchanged(given, x, _("the samples x it was given"), case,
                          _("Compute the weights into a new array."))
        n, fx = len(x), f(x)
        w = np.exp(log_p(x) - log_q(x))                              # p(x_i) / q(x_i)
        expected = float(np.mean(w * fx))                            # (1/N) Σ w_i f(x_i)
        mistakes = [
            (w * fx, _("you returned the {n} per-sample terms w_i f(x_i)").format(n=n),
             _("The estimate is their average: add .mean().")),
            (w, _("you returned the {n} weights p(x_i)/q(x_i)").format(n=n), _("The estimate is "
             "the average of the weighted values, (1/N) Σ_i w_i f(x_i).")),
            (np.mean(fx / w), _("your weights are inverted: you used q(x)/p(x)"),
             _("The samples come from q, so each must be re-weighted by how much more likely it is "
               "under p: w_i = p(x_i)/q(x_i) = exp(log_p(x_i) − log_q(x_i)).")),
            (np.mean(fx), _("you averaged f(x_i) without weights, as if the samples came from p: "
                            "that estimates E_q[f], not E_p[f]"),
             _("The samples x_i were drawn from q. Multiply each f(x_i) by the weight "
               "p(x_i)/q(x_i).")),
            (np.sum(w * fx), _("you summed the weighted values instead of averaging them"),
             _("The estimate is (1/N) Σ_i w_i f(x_i); a sum grows with the number of samples.")),
            (np.sum(w * fx) / np.sum(w), _("you normalised the weights to sum to one: that is the "
             "self-normalised estimator Σ w_i f(x_i) / Σ w_i, a different (consistent, but biased "
             "for finite N) estimate"), _("This exercise asks for the ordinary estimator "
             "(1/N) Σ_i w_i f(x_i), which is unbiased: divide by N, not by the sum of the "
             "weights.")),
            (np.mean(fx * (log_p(x) - log_q(x))), _("you weighted with the log-ratio "
             "log p(x) − log q(x): exponentiate it"), "w_i = exp(log_p(x_i) − log_q(x_i))."),
            (np.mean(fx * np.exp(log_p(x))), _("you weighted with p(x_i) alone and forgot to divide "
             "by q(x_i)"), _("The weight is the ratio p(x_i)/q(x_i).")),
            (np.mean(w) * np.mean(fx), _("you averaged the weights and the values separately and "
             "multiplied the averages"), _("Each value gets its own sample's weight: "
             "np.mean(w * f(x)).")),
            (np.mean(w), _("you averaged the weights alone and left f out"), _("Multiply each weight "
             "by f(x_i) before averaging.")),
        ]
        diagnose(value, expected, mistakes, _("the estimate (1/N) Σ_i f(x_i) p(x_i)/q(x_i)"), case, **_TOL)
    return _("is_estimate computes the ordinary importance-sampling estimate (1/N) Σ_i f(x_i) "
             "p(x_i)/q(x_i) for Gaussian and Laplace targets, a smooth f, a step and |x|.")


# ============================================================================================
# (b) per-decision (causal) importance weights of one trajectory
# ============================================================================================
def _causal_cases():
    rng = np.random.default_rng(8)
    lt = np.log(np.array([0.5, 0.8, 0.3, 0.9]))
    lb = np.log(np.array([0.25, 0.4, 0.6, 0.9]))
    cases = [(_("a 4-step trajectory with ratios 2, 2, 0.5, 1"), lt, lb)]
    for desc, T in [(_("a 12-step trajectory with random probabilities"), 12),
                    (_("a 1-step trajectory"), 1),
                    (_("a 6-step trajectory with random probabilities"), 6)]:
        pt = np.round(rng.uniform(0.05, 0.95, T), 3)
        pb = np.round(rng.uniform(0.05, 0.95, T), 3)
        cases.append((desc, np.log(pt), np.log(pb)))
    return cases


def _causal_mistakes(lt, lb):
    T = len(lt)
    log_r = lt - lb
    ratio = np.exp(log_r)
    exclusive = np.exp(np.concatenate([[0.0], np.cumsum(log_r)[:-1]]))
    future = np.exp(np.cumsum(log_r[::-1])[::-1])
    return [
        (np.full(T, np.exp(log_r.sum())), _("every step got the weight of the whole trajectory "
         "(the product over all T steps)"), _("Causality: the reward r_t depends only on the "
         "actions up to step t, and the ratios of later steps average to 1. Use the running "
         "product up to t: np.exp(np.cumsum(logp_target - logp_behavior)).")),
        (np.exp(np.cumsum(lb - lt)), _("your ratios are inverted: you used π_θ'(a|s)/π_θ(a|s)"),
         _("The data come from the behaviour policy π_θ', so each factor is "
           "π_θ(a_k|s_k)/π_θ'(a_k|s_k) = exp(logp_target − logp_behavior).")),
        (np.cumsum(ratio), _("you summed the ratios instead of multiplying them"),
         _("The probability of a trajectory is a product over steps, so its ratio is a product of "
           "the per-step ratios: a cumulative product (np.cumprod), or exp of a cumulative sum of "
           "the log-ratios.")),
        (ratio, _("you used only the ratio of step t itself"), _("The state s_t was reached "
         "through the earlier actions a_0, ..., a_{t-1}, whose probabilities also changed: "
         "multiply the ratios of all steps k = 0, ..., t.")),
        (exclusive, _("you left out the ratio of step t itself (your product stops at t − 1)"),
         _("r_t is received after a_t, so the probability of a_t is part of it: the product runs "
           "over k = 0, ..., t inclusive.")),
        (future, _("your product runs from step t to the end of the trajectory (the future)"),
         _("The weight of step t needs the steps that led to it, k = 0, ..., t, not those after "
           "it.")),
        (np.cumsum(log_r), _("these are the log-weights: you forgot to exponentiate"),
         "np.exp(np.cumsum(logp_target - logp_behavior))."),
        (np.exp(np.cumsum(lt)), _("you forgot the behaviour policy: this is the product of the "
         "target probabilities alone"), _("Each factor is a ratio π_θ(a_k|s_k)/π_θ'(a_k|s_k).")),
        (np.cumprod(np.exp(lt) - np.exp(lb)), _("you subtracted the probabilities instead of "
         "dividing them"), _("The ratio is exp(log π_θ − log π_θ'): subtract the *logs*, then "
         "exponentiate.")),
    ]


@checker
def check_causal_weights(fn):
    r"""Exercise: ``causal_weights(logp_target, logp_behavior)`` $= \big(\prod_{k \le t} \pi_\theta/\pi_{\theta'}\big)_{t}$."""
    cases = _causal_cases()
    for case, lt, lb in cases:
        T = len(lt)
        lt_given, lb_given = lt.copy(), lb.copy()
        answer = to_numpy(call(fn, lt_given, lb_given))
        if np.ndim(answer) == 0 and T > 1:
            raise Hint(_("for {case} you returned a single number; return one weight per step, an "
                         "array of shape ({T},).").format(case=case, T=T))
        answer = as_array(answer, (T,), _("the weights for {case}").format(case=case))
        require_unchanged((lt_given, lb_given), (lt, lb), _("the arrays it was given"), case,
                          _("Compute the weights into a new array."))
        expected = np.exp(np.cumsum(lt - lb))                       # Π_{k≤t} π_θ / π_θ'
        diagnose(answer, expected, _causal_mistakes(lt, lb), _("the weight"), case,
                 index_name=_("step"), **_TOL)
    return _("causal_weights computes w_{{0:t}} = Π_{{k=0}}^{{t}} π_θ(a_k|s_k)/π_θ'(a_k|s_k) for "
             "every step t of {n} trajectories (a one-step trajectory included).").format(n=len(cases))


# ============================================================================================
# (c) the surrogate objective J^{θ'}(θ) on a batch
# ============================================================================================
def _surrogate_cases():
    """(description, logits θ' (B, A), shift θ − θ' (B, A) or None, actions, advantages, kind).

    kind: "plain" (logp_old a detached constant), "attached" (θ = θ' and logp_old computed from
    the same leaf with its graph), "value" (advantages R − V_φ(s) with a graph into φ).
    """
    g = torch.Generator().manual_seed(17)
    out = []
    for desc, B, A, shifted, kind in [
        (_("a batch of 6 steps, 3 actions, θ ≠ θ'"), 6, 3, True, "plain"),
        (_("a batch of 8 steps, 2 actions, θ = θ' and logp_old computed by the same network (it "
           "still carries the autograd graph)"), 8, 2, False, "attached"),
        (_("a batch of 5 steps, 4 actions, θ ≠ θ', advantages R − V_φ(s) from a value model whose "
           "parameters φ require gradients"), 5, 4, True, "value"),
    ]:
        logits_old = torch.randn(B, A, generator=g, dtype=torch.float64)
        shift = 0.5 * torch.randn(B, A, generator=g, dtype=torch.float64) if shifted else None
        actions = torch.randint(A, (B,), generator=g)
        adv = torch.round(10 * torch.randn(B, generator=g, dtype=torch.float64)) / 4
        out.append((desc, logits_old, shift, actions, adv, kind))
    return out


@checker
def check_surrogate_objective(fn):
    r"""Exercise: ``surrogate_objective(logp, logp_old, adv)`` $= \frac1N \sum_n e^{\log\pi_\theta - \log\pi_{\theta'}} \hat A_n$."""
    for case, logits_old, shift, actions, adv0, kind in _surrogate_cases():
        B = len(actions)
        idx = torch.arange(B)
        logits = (logits_old if shift is None else logits_old + shift).clone().requires_grad_(True)
        logp = torch.log_softmax(logits, -1)[idx, actions]                    # log π_θ(a|s), graph
        if kind == "attached":
            logp_old = torch.log_softmax(logits, -1)[idx, actions]            # same values, graph kept
        else:
            logp_old = torch.log_softmax(logits_old, -1)[idx, actions]        # a constant
        adv, phi = through_value_model(adv0, 5) if kind == "value" else (adv0.clone(), None)
        answer = as_scalar_tensor(call(fn, logp, logp_old, adv), B, _("your surrogate"), case)
        lp, lo, A = (t.detach().numpy() for t in (logp, logp_old, adv))
        r = np.exp(lp - lo)                                                   # π_θ / π_θ'
        value, expected = float(answer.detach()), float(np.mean(r * A))
        mistakes = [
            (-np.mean(r * A), _("sign error: you returned the loss −mean(ratio · A)"),
             _("This exercise asks for the objective J^θ'(θ) itself, to be maximised: "
               "+mean(ratio · adv).")),
            (np.mean(A / r), _("your ratio is inverted: you used π_θ'/π_θ"),
             _("The data come from π_θ': the ratio is π_θ/π_θ' = exp(logp − logp_old).")),
            (np.mean((lp - lo) * A), _("you weighted with the log-ratio logp − logp_old: "
             "exponentiate it"), "ratio = torch.exp(logp - logp_old)."),
            (np.mean(lp * A), _("this is the on-policy pseudo-objective mean(logp · A): its "
             "gradient agrees with the surrogate's only at θ = θ', and its value is not "
             "an estimate of anything"), _("Use the probability ratio "
             "torch.exp(logp - logp_old) in place of logp.")),
            (-np.mean(lp * A), _("this is the policy-gradient pseudo-loss −mean(logp · A)"),
             _("The surrogate weights each advantage with the probability ratio: "
               "mean(torch.exp(logp - logp_old) * adv).")),
            (np.sum(r * A), _("you summed over the batch instead of averaging"),
             _("The surrogate is a sample mean, (1/N) Σ_n ratio_n A_n; use .mean().")),
            (np.mean(r) * np.mean(A), _("you averaged the ratios and the advantages separately "
             "and multiplied the averages"), _("Each advantage is weighted by its own step's "
             "ratio: (ratio * adv).mean().")),
            (np.mean(np.exp(lp) * A), _("you weighted with π_θ(a|s) alone and forgot to divide "
             "by π_θ'(a|s)"), "ratio = torch.exp(logp - logp_old)."),
            (np.mean(r), _("you left the advantages out"), _("Weight each ratio by its advantage.")),
        ]
        diagnose(value, expected, mistakes, _("the surrogate mean(π_θ/π_θ' · A)"), case, atol=1e-10, rtol=1e-8)
        grad, grad_phi = gradients(answer, [logits, phi], _("your surrogate"), case,
                                   _("It must stay a function of logp: did you detach logp, or "
                                     "compute in numpy / under torch.no_grad()? Only logp_old and "
                                     "adv are constants."))
        probs = torch.softmax(logits.detach(), -1).numpy()
        onehot = np.eye(logits.shape[1])[actions.numpy()]
        expected_grad = (r * A)[:, None] * (onehot - probs) / B       # (1/N) r_n A_n ∇ log π(a_n|s_n)
        got = np.zeros_like(expected_grad) if grad is None else grad.numpy()
        if not close(got, expected_grad, atol=1e-10, rtol=1e-6):
            if kind == "attached" and np.allclose(got, 0.0):
                raise Hint(_("the gradient of your surrogate is zero at θ = θ' ({case}): logp_old "
                             "was computed by the same network and still carries its graph, so "
                             "logp − logp_old is constant and the ratio cannot move. logp_old "
                             "belongs to the behaviour policy θ' and is a constant: use "
                             "logp_old.detach().").format(case=case))
            raise Hint(_("the gradient of your surrogate with respect to the logits is wrong ({case}): "
                         "it should be (1/N) Σ_n ratio_n A_n ∇ log π_θ(a_n|s_n). Treat logp_old and "
                         "adv as constants (.detach()).").format(case=case))
        if grad_phi is not None and torch.any(grad_phi != 0):
            raise Hint(_("your surrogate sends gradients into the advantages ({case}): here they are "
                         "R − V_φ(s), and differentiating the surrogate moves the value model's φ "
                         "(gradient {gradient}). The advantages are constants of the estimator: "
                         "use adv.detach().").format(
                case=case, gradient=np.round(grad_phi.numpy(), 3).tolist()))
    return _("surrogate_objective returns mean(π_θ/π_θ' · A) as a differentiable scalar; its "
             "gradient is (1/N) Σ_n ratio_n A_n ∇ log π_θ(a_n|s_n) (the policy gradient at "
             "θ = θ'), with logp_old and the advantages treated as constants.")
