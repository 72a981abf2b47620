r"""Checkers for the exercises of the chapter "Policies" (book/policies.ipynb, {ref}`ch-policies`).

(a) ``diag_gaussian_log_likelihood(mean, log_std, action)``: the closed-form log-likelihood of a
    diagonal Gaussian policy, eq. {eq}`eq-diag-gaussian-logp`, one value per action;
(b) ``categorical_log_likelihood(logits, actions)``: $\log \pi_\theta(a \mid s)$ by indexing the
    log-softmax of the logits, eq. {eq}`eq-categorical-logp`;
(c) ``diag_gaussian_sample(mean, log_std)``: a sample $a = \mu + \sigma \odot z$,
    $z \sim \mathcal N(0, I)$, through which gradients flow to ``mean`` and ``log_std``.

The references are ``torch.distributions`` (independent of ``rlnotes.policies``, which is
tested against the same distributions). Each typical mistake is simulated here and recognised
by comparing the reader's answer with the mistake's answer, as in the other chapters' checkers.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .core import Hint, _, as_array, call, checker, diagnose, fmt

__all__ = ["check_diag_gaussian_log_likelihood", "check_categorical_log_likelihood",
           "check_diag_gaussian_sample"]

_LOG_2PI = math.log(2.0 * math.pi)
_TOL = dict(atol=1e-5, rtol=1e-5)


# ----------------------------------------------------- (a) diagonal Gaussian log-likelihood
def _gaussian_cases():
    """(description, mean, log_std, action) as float64 tensors."""
    g = torch.Generator().manual_seed(0)

    def randn(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=g, dtype=torch.float64)

    mean = randn(5, 2)
    log_std = torch.tensor([-0.7, 0.4], dtype=torch.float64)
    return [
        (_("a batch of 5 two-dimensional actions, log_std of shape (2,) shared by the batch"),
         mean, log_std, mean + log_std.exp() * randn(5, 2, scale=1.5)),
        (_("a single 3-dimensional action without a batch dimension"),
         torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64),
         torch.tensor([0.2, -0.3, 0.9], dtype=torch.float64),
         torch.tensor([1.1, -2.0, 0.3], dtype=torch.float64)),
        (_("a batch of 4 one-dimensional actions (shape (4, 1)), one log_std per state"),
         randn(4, 1), torch.tensor([[0.3], [-1.2], [0.0], [0.8]], dtype=torch.float64),
         randn(4, 1, scale=2.0)),
        (_("a batch of 3 four-dimensional actions with positive log_std"),
         randn(3, 4), torch.tensor([0.3, 0.6, 0.9, 1.2], dtype=torch.float64),
         randn(3, 4, scale=3.0)),
    ]


def _gaussian_reference(mean, log_std, action):
    dist = torch.distributions.Normal(mean, log_std.exp())
    return torch.distributions.Independent(dist, 1).log_prob(action).numpy()


def _gaussian_mistakes(mean, log_std, action):
    """(answer of the mistake, what it is, how to fix it) for the typical mistakes."""
    m, ls, a = (x.numpy() for x in torch.broadcast_tensors(mean, log_std, action))
    k = m.shape[-1]
    sigma = np.exp(ls)
    z2 = ((a - m) / sigma) ** 2
    right = z2 + 2 * ls + _LOG_2PI

    def total(terms):
        return -0.5 * terms.sum(axis=-1)

    with np.errstate(all="ignore"):
        log_std_as_sigma = total(((a - m) / ls) ** 2 + 2 * np.log(np.abs(ls)) + _LOG_2PI)
    out = [
        (-total(right), _("sign error: your log-likelihood has the wrong sign"),
         _("The formula starts with −½: log π(a|s) = −½ Σ_i [((a_i − μ_i)/σ_i)² + 2 log σ_i + log 2π].")),
        (total(z2 + 2 * ls), _("you forgot the log 2π term"),
         _("Each action dimension contributes its own normalising constant: add log(2π) inside the sum "
           "(k log 2π in total for a k-dimensional action).")),
        (total(z2 + 2 * ls) - 0.5 * _LOG_2PI, _("you added log 2π once instead of once per action "
         "dimension"), _("The sum over the k = {k} dimensions contains log 2π k times.").format(k=k)),
        (total(((a - m) / sigma ** 2) ** 2 + 2 * ls + _LOG_2PI),
         _("you divided (a − μ) by the variance σ² instead of the standard deviation σ"),
         _("Standardise with σ = exp(log_std): ((a − μ)/σ)².")),
        (total((a - m) ** 2 / sigma + 2 * ls + _LOG_2PI),
         _("you divided (a − μ)² by σ instead of by σ²"), _("The quadratic term is ((a − μ)/σ)² = (a − μ)²/σ².")),
        (total((a - m) / sigma + 2 * ls + _LOG_2PI), _("you forgot to square (a − μ)/σ"),
         _("The quadratic term is ((a − μ)/σ)².")),
        (total(z2 + ls + _LOG_2PI), _("you forgot the factor 2 in front of log σ"),
         _("The density has 1/σ (not 1/√σ): −½ · 2 log σ = −log σ, so the term inside the sum is 2 log σ.")),
        (total(z2 + 2 * sigma + _LOG_2PI), _("you used σ where log σ belongs"),
         _("The term inside the sum is 2 log σ_i, and log σ_i is log_std itself: no exp there.")),
        (total(z2 + np.log(2 * ls) + _LOG_2PI) if (ls > 0).all() else np.full(m.shape[:-1], np.nan),
         _("you took the log of 2 log σ"), _("log σ is log_std itself: the term is simply 2 * log_std.")),
        (log_std_as_sigma, _("you used log_std as if it were σ"),
         _("log_std holds log σ: the standard deviation is σ = exp(log_std), and log σ = log_std.")),
        (-(right).sum(axis=-1), _("you forgot the factor ½ in front of the sum"),
         _("log π(a|s) = −½ Σ_i [...]; each term comes from log of exp(−((a − μ)/σ)²/2) / (σ√(2π)).")),
        (total(right) / k, _("you averaged over the action dimensions instead of summing"),
         _("The dimensions are independent, so their log-densities add up: sum over the last axis.")),
    ]
    return out


@checker
def check_diag_gaussian_log_likelihood(fn):
    r"""Exercise: ``fn(mean, log_std, action)`` $= -\tfrac12 \sum_i [((a_i-\mu_i)/\sigma_i)^2
    + 2\log\sigma_i + \log 2\pi]$, summed over the last dimension."""
    for case, mean, log_std, action in _gaussian_cases():
        expected = _gaussian_reference(mean, log_std, action)
        answer = call(fn, mean.clone(), log_std.clone(), action.clone())
        full = torch.broadcast_shapes(mean.shape, log_std.shape, action.shape)
        shape = np.shape(answer.detach() if isinstance(answer, torch.Tensor) else answer)
        if shape == tuple(full) and full[-1] > 1:
            raise Hint(_("your answer has shape {shape}, one value per action dimension ({case}). "
                         "The log-likelihood of an action is the sum over its dimensions: sum over the "
                         "last axis, giving shape {want}.").format(
                             shape=tuple(full), case=case, want=expected.shape))
        if shape == () and expected.shape != ():
            raise Hint(_("your answer is a single number ({case}); return one log-likelihood per action, "
                         "shape {want}: sum over the last axis only, not over the batch.").format(
                             case=case, want=expected.shape))
        value = as_array(answer, expected.shape, _("the log-likelihood ({case})").format(case=case),
                         finite=False)
        if not np.all(np.isfinite(value)):
            raise Hint(_("your log-likelihood contains NaN or inf ({case}): did you use log_std as if it "
                         "were σ, e.g. torch.log(log_std)? log_std is often negative; σ = exp(log_std) "
                         "and log σ is log_std itself.").format(case=case))
        diagnose(value, expected, _gaussian_mistakes(mean, log_std, action), _("the log-likelihood"), case,
                 **_TOL)
    return _("diag_gaussian_log_likelihood equals torch.distributions' Normal log-density summed over "
             "the action dimensions, for batched and single actions, k = 1 to 4, shared and per-state "
             "log σ.")


# ------------------------------------------------------- (b) categorical log-likelihood
def _categorical_cases():
    """(description, logits float32 (B, A), actions int64 (B,))."""
    g = torch.Generator().manual_seed(1)
    return [
        (_("a batch of 6 states with 4 actions"),
         2.0 * torch.randn(6, 4, generator=g), torch.tensor([0, 3, 1, 2, 2, 0])),
        (_("a batch of 3 states with 5 actions whose logits are all around +40"),
         40.0 + torch.randn(3, 5, generator=g), torch.tensor([4, 0, 2])),
        (_("extreme logits: [0, -200, 5] and [-150, 150, 0] (a confident policy)"),
         torch.tensor([[0.0, -200.0, 5.0], [-150.0, 150.0, 0.0]]), torch.tensor([1, 0])),
    ]


def _categorical_mistakes(logits, actions):
    rows = torch.arange(len(actions))
    lg = logits.double()
    pick = lambda x: x[rows, actions].numpy()  # noqa: E731 - one entry per row
    return [
        (pick(torch.softmax(lg, -1)), _("you returned the probability π(a|s), not its logarithm"),
         _("Take the log: use torch.log_softmax(logits, dim=-1) and index it with the actions.")),
        (pick(torch.log_softmax(lg, 0)), _("you normalised over the batch (dim=0) instead of over the "
         "actions"), _("The softmax runs over the last axis, the actions: torch.log_softmax(logits, dim=-1).")),
        (pick(lg), _("you forgot to normalise: raw logits are not log-probabilities"),
         _("Subtract logsumexp over the actions, i.e. use torch.log_softmax(logits, dim=-1).")),
        (pick(lg - lg.exp().sum(-1, keepdim=True)), _("you subtracted Σ exp(logits) instead of its log"),
         _("log softmax(x)_a = x_a − log Σ_b exp(x_b) = x_a − logsumexp(x).")),
        (-pick(torch.log_softmax(lg, -1)), _("sign error: you returned −log π(a|s)"),
         _("A log-probability is ≤ 0: drop the minus sign.")),
    ]


@checker
def check_categorical_log_likelihood(fn):
    r"""Exercise: ``fn(logits, actions)`` $= \log \mathrm{softmax}(\text{logits})_{a}$ per row, shape (B,)."""
    for case, logits, actions in _categorical_cases():
        B, A = logits.shape
        expected = torch.log_softmax(logits.double(), -1)[torch.arange(B), actions].numpy()
        answer = call(fn, logits.clone(), actions.clone())
        shape = np.shape(answer.detach() if isinstance(answer, torch.Tensor) else answer)
        if shape == (B, A):
            raise Hint(_("your answer has shape (B, A) = {shape} ({case}): that is log π(·|s) for every "
                         "action. Pick the entry of the action taken in each row: "
                         "logp[torch.arange(B), actions] or logp.gather(-1, actions[:, None]).squeeze(-1).").format(
                             shape=(B, A), case=case))
        if shape == (B, B):
            raise Hint(_("your answer has shape (B, B) = {shape} ({case}): logp[:, actions] takes every "
                         "action of the batch in every row. Pair row i with actions[i]: "
                         "logp[torch.arange(B), actions].").format(shape=(B, B), case=case))
        value = as_array(answer, (B,), _("the log-likelihood ({case})").format(case=case), finite=False)
        if np.any(np.isneginf(value)) and np.all(np.isfinite(expected)):
            i = int(np.flatnonzero(np.isneginf(value))[0])
            raise Hint(_("your log-likelihood is -inf for entry {i} ({case}) where the right value is "
                         "{want}: log(softmax(logits)) underflows, since the probability "
                         "exp({want}) rounds to 0 in float32. Compute it in log space with "
                         "torch.log_softmax(logits, dim=-1) = logits − logsumexp(logits).").format(
                             i=i, case=case, want=fmt(expected[i])))
        if not np.all(np.isfinite(value)):
            raise Hint(_("your log-likelihood contains NaN or inf ({case}): exp(logits) overflows for "
                         "large logits. Use torch.log_softmax(logits, dim=-1), which subtracts the "
                         "largest logit first.").format(case=case))
        diagnose(value, expected, _categorical_mistakes(logits, actions), _("the log-likelihood"), case,
                 atol=1e-4, rtol=1e-5)
    return _("categorical_log_likelihood equals log softmax(logits)[a] on a batch, on large shifted "
             "logits and on extreme logits where log(softmax) would give -inf.")


# ----------------------------------------------------- (c) reparameterised Gaussian sample
_N_SAMPLES = 20_000
_SE_TOL = 5.0   # tolerance in standard errors: a right answer fails with probability < 1e-5


def _sample_moments_hint(a, mu, log_std, case):
    """Compare per-dimension sample mean and std with μ and σ = exp(log_std); raise a Hint if off."""
    N = a.shape[0]
    sigma = np.exp(log_std)
    m, s = a.mean(axis=0), a.std(axis=0, ddof=1)
    mean_ok = np.abs(m - mu) <= _SE_TOL * sigma / np.sqrt(N)
    var_ok = np.abs(s ** 2 - sigma ** 2) <= _SE_TOL * sigma ** 2 * np.sqrt(2.0 / (N - 1))
    if mean_ok.all() and var_ok.all():
        return
    if np.all(s < 1e-12):
        if np.allclose(a[0], mu):
            raise Hint(_("your sample is the mean itself, with no noise ({case}). Add σ ⊙ z with "
                         "σ = exp(log_std) and z = torch.randn_like(mean).").format(case=case))
        raise Hint(_("every row of your sample is the same ({case}): one z was drawn for the whole "
                     "batch. z must have the shape of mean: z = torch.randn_like(mean).").format(case=case))

    def scale_is(target):
        return np.all(np.abs(s - target) <= _SE_TOL * target / np.sqrt(2.0 * (N - 1)) + 1e-12)

    i = int(np.flatnonzero(~(mean_ok & var_ok))[0])
    summary = _("dimension {i}: sample mean {mean} (μ = {mu}), sample std {std} (σ = {sigma})").format(
        i=i, mean=fmt(m[i]), mu=fmt(mu[i]), std=fmt(s[i]), sigma=fmt(sigma[i]))
    if not mean_ok.all() and np.all(np.abs(m) <= _SE_TOL * s / np.sqrt(N)):
        raise Hint(_("your samples are centred at 0, not at the mean ({summary}; {case}). "
                     "Add the mean: a = mean + σ ⊙ z.").format(summary=summary, case=case))
    if scale_is(np.abs(log_std)):
        raise Hint(_("you used log_std as the standard deviation ({summary}; {case}). "
                     "Scale z by σ = exp(log_std).").format(summary=summary, case=case))
    if scale_is(sigma ** 2):
        raise Hint(_("you scaled z by the variance σ² instead of σ ({summary}; {case}). "
                     "Use σ = exp(log_std), not exp(2 * log_std).").format(summary=summary, case=case))
    if scale_is(np.sqrt(sigma)):
        raise Hint(_("you scaled z by √σ = exp(log_std / 2) ({summary}; {case}). log_std is log σ, "
                     "so σ = exp(log_std).").format(summary=summary, case=case))
    if not var_ok.all() and scale_is(np.ones_like(sigma)):
        raise Hint(_("your samples have standard deviation 1 ({summary}; {case}): scale z by "
                     "σ = exp(log_std).").format(summary=summary, case=case))
    raise Hint(_("the sample moments do not match N(μ, σ²) ({summary}; {case}, {n} samples; "
                 "tolerance {tol} standard errors).").format(
                     summary=summary, case=case, n=N, tol=f"{_SE_TOL:g}"))


@checker
def check_diag_gaussian_sample(fn):
    r"""Exercise: ``fn(mean, log_std)`` returns $\mu + \sigma \odot z$, $z \sim \mathcal N(0, I)$, shaped
    like ``mean``, with gradients flowing to ``mean`` and ``log_std`` (the reparameterisation)."""
    # a single action: the shape must follow mean
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        single = call(fn, torch.tensor([0.5, -1.0]), torch.tensor([0.0, -1.0]))
    if not isinstance(single, torch.Tensor):
        raise Hint(_("return a torch tensor (got {type}): a sample kept in torch "
                     "carries the gradient with respect to mean and log_std.").format(type=type(single).__name__))
    if tuple(single.shape) != (2,):
        raise Hint(_("for a mean of shape (2,) your sample has shape {shape}; it should "
                     "have the shape of mean.").format(shape=tuple(single.shape)))

    case = _("{n} rows of a 3-dimensional Gaussian, mean of shape ({n}, 3), log_std (3,)").format(n=_N_SAMPLES)
    mu = np.array([0.5, -1.0, 2.0])
    log_std_np = np.array([-0.5, 0.4, 1.0])
    mean_leaf = torch.tensor(mu, requires_grad=True)
    log_std = torch.tensor(log_std_np, requires_grad=True)
    mean = mean_leaf.expand(_N_SAMPLES, 3)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        out = call(fn, mean, log_std)
    if not isinstance(out, torch.Tensor):
        raise Hint(_("return a torch tensor (got {type}), so that gradients can flow.").format(
            type=type(out).__name__))
    a = as_array(out, (_N_SAMPLES, 3), _("your sample ({case})").format(case=case), finite=False)
    if not np.all(np.isfinite(a)):
        raise Hint(_("your sample contains NaN or inf ({case}).").format(case=case))
    _sample_moments_hint(a, mu, log_std_np, case)

    corr = np.corrcoef(a, rowvar=False)
    off = np.abs(corr[np.triu_indices(3, 1)])
    if np.any(off > _SE_TOL / np.sqrt(_N_SAMPLES)):
        i, j = [(i, j) for i in range(3) for j in range(i + 1, 3)][int(np.argmax(off))]
        if off.max() > 0.99:
            raise Hint(_("dimensions {i} and {j} of your sample move together (correlation "
                         "{corr}): all dimensions share one z. Draw an independent z_i for "
                         "each dimension, z = torch.randn_like(mean).").format(i=i, j=j, corr=fmt(corr[i, j])))
        raise Hint(_("dimensions {i} and {j} of your sample are correlated ({corr}); a "
                     "diagonal Gaussian has independent dimensions.").format(i=i, j=j, corr=fmt(corr[i, j])))

    grad_hint = _("no gradient reaches mean and log_std: .sample() and torch.normal(mean, std) cut the "
                  "graph (their gradient is zero or missing). Write the sample as a function of the "
                  "parameters, mean + torch.exp(log_std) * z with z = torch.randn_like(mean) drawn "
                  "separately (the reparameterisation), or use Normal(...).rsample().")
    if not out.requires_grad:
        raise Hint(grad_hint)
    try:
        out.sum().backward()
    except RuntimeError as e:
        raise Hint(_("backpropagating through your sample failed ({error}: {text}).").format(
            error=type(e).__name__, text=e)) from None
    g_mean = None if mean_leaf.grad is None else mean_leaf.grad.numpy()
    g_log_std = None if log_std.grad is None else log_std.grad.numpy()
    if g_mean is None or g_log_std is None or (np.all(g_mean == 0) and np.all(g_log_std == 0)):
        raise Hint(grad_hint)
    if not np.allclose(g_mean, _N_SAMPLES, rtol=1e-6):
        raise Hint(_("∂a/∂μ should be 1 for every sample (so the gradient of Σ a with respect to mean is "
                     "{n} per dimension), got {got}. The mean enters the sample "
                     "as a plain sum: a = mean + σ ⊙ z.").format(n=_N_SAMPLES, got=fmt(g_mean[0])))
    expected_g = (a - mu).sum(axis=0)          # ∂a/∂ log σ = σ z = a − μ
    if not np.allclose(g_log_std, expected_g, rtol=1e-5, atol=1e-3):
        raise Hint(_("the gradient with respect to log_std is {got} for dimension 0, "
                     "expected Σ_n σ z_n = Σ_n (a_n − μ) = {want}: the noise z must not "
                     "depend on log_std (draw it with torch.randn_like(mean), outside the graph).").format(
                         got=fmt(g_log_std[0]), want=fmt(expected_g[0])))
    return _("diag_gaussian_sample: on {n} samples the mean and variance of every dimension "
             "match μ and σ² = exp(2 log σ) within {tol} standard errors, the dimensions are "
             "uncorrelated, and gradients reach mean (∂a/∂μ = 1) and log_std (∂a/∂log σ = σ z).").format(
                 n=_N_SAMPLES, tol=f"{_SE_TOL:g}")
