r"""Gradient estimators: the score function, the policy-gradient pseudo-loss, the optimal baseline.

The chapter "The score-function gradient estimator" ({ref}`ch-score-function`) shows that the
gradient of an expectation can be estimated from samples alone,

$$\nabla_\theta\, \mathbb E_{x \sim p(x;\theta)}[f(x)]
  = \mathbb E_{x \sim p(x;\theta)}\big[f(x)\, \nabla_\theta \log p(x;\theta)\big],$$

without differentiating $f$ — so $f$ may be discontinuous, unknown (a simulator, an
environment) and $x$ may be discrete. :func:`score_function_grad` implements the Monte-Carlo
version for any ``torch.distributions`` family, and returns the per-sample terms on request so
a chapter can put a confidence interval on the estimate.

For policies, $x$ becomes a trajectory and $\log p$ a sum of $\log \pi_\theta(a_t \mid s_t)$;
autodiff then computes the estimate as the gradient of a *pseudo-loss*, :func:`pg_loss`.
Subtracting a baseline $b$ leaves the expectation unchanged (because
$\mathbb E[\nabla_\theta \log p] = 0$) and can shrink the variance; :func:`optimal_baseline`
is the per-parameter $b$ that shrinks it most ({ref}`ch-variance-reduction`).

Input checks live in ``rlnotes._checks``: each function converts and checks its inputs in
one call on its first line, and the rest of its body is the estimator.
"""
from __future__ import annotations

import numpy as np
import torch

from ._checks import (
    baseline_like,
    gradient_rows,
    kl_schedule_inputs,
    log_prob_pair,
    non_negative,
    one_value_per_sample,
    parameter_tensor,
    positive,
    positive_int,
    ppo_inputs,
    weights_for,
)

__all__ = ["score_function_grad", "pg_loss", "optimal_baseline", "importance_weights",
           "approx_kl", "ppo_clip_loss", "ppo_kl_loss", "adapt_kl_beta"]


def _sample(dist, n, generator):
    """n samples from dist, drawn with ``generator`` (a torch.Generator or an int seed) if given.

    torch.distributions always draw from torch's global generator; to use another one we
    swap its state in for the draw and back out afterwards (the global state is untouched).
    """
    if generator is None:
        return dist.sample((n,))
    if isinstance(generator, (int, np.integer)):
        generator = torch.Generator().manual_seed(int(generator))
    with torch.random.fork_rng(devices=[]):
        torch.set_rng_state(generator.get_state())
        x = dist.sample((n,))
        generator.set_state(torch.get_rng_state())
    return x


def _per_sample_log_prob(dist, x, n):
    """log p(x_i; θ) for each of the n samples, shape (n,).

    A batch of independent distributions (batch_shape != ()) is read as one joint
    distribution: log p(x) = Σ_k log p_k(x_k).
    """
    return dist.log_prob(x).reshape(n, -1).sum(1)


def _per_sample_scores(make_dist, theta, x):
    """The Jacobian of log p(x_i; θ) in θ, shape (N, *theta.shape): one score per sample.

    Reverse-mode autodiff gives gradients of *one* number; for N of them we use the
    "double-backward" trick: g(u) = ∇_θ Σ_i u_i log p(x_i; θ) = Jᵀu is linear in u, so
    ∂g_j/∂u = column j of J. That is one backward pass per component of θ (θ is small here).
    """
    N = x.shape[0]
    th = theta.clone().requires_grad_(True)
    log_p = _per_sample_log_prob(make_dist(th), x, N)              # log p(x_i; θ), (N,)
    u = torch.zeros(N, dtype=log_p.dtype, requires_grad=True)
    (g,) = torch.autograd.grad((u * log_p).sum(), th, create_graph=True, allow_unused=True)
    if g is None:
        raise ValueError("make_dist(theta) must build the distribution from theta (its log-"
                         "probability does not depend on theta), e.g. lambda th: "
                         "Normal(th[0], th[1].exp()).")
    cols = []
    for gj in g.reshape(-1):                                       # g_j = Σ_i u_i ∂_j log p(x_i)
        (col,) = torch.autograd.grad(gj, u, retain_graph=True, allow_unused=True)
        cols.append(torch.zeros(N, dtype=log_p.dtype) if col is None else col)
    return torch.stack(cols, 1).reshape(N, *theta.shape).detach()


def score_function_grad(f, make_dist, theta, n_samples, baseline=0.0, generator=None,
                        return_samples=False):
    r"""Monte-Carlo estimate of $\nabla_\theta\, \mathbb E_{x \sim p(x;\theta)}[f(x)]$.

    $$\hat g = \frac1N \sum_{i=1}^N \big(f(x_i) - b\big)\, \nabla_\theta \log p(x_i;\theta),
      \qquad x_i \sim p(\cdot\,;\theta) \text{ i.i.d.}$$

    Unbiased for every constant $b$. Derived in {ref}`ch-score-function`; the baseline in
    {ref}`ch-variance-reduction`.

    f:         maps a batch of samples x, shape (N, *sample_shape), to a tensor (or array) of
               shape (N,) — one value per sample. It is never differentiated: it may be
               discontinuous, e.g. ``lambda x: (x > 0).double()``.
    make_dist: maps θ to a ``torch.distributions.Distribution`` $p(\cdot\,;\theta)$, e.g.
               ``lambda th: Normal(th[0], th[1].exp())`` (then θ = (μ, log σ)). A batch of
               independent distributions counts as one joint distribution (log-probabilities
               summed over the batch dimensions).
    theta:     a float tensor of any shape (float64 recommended); not modified.
    n_samples: N, a positive int.
    baseline:  $b$: a number, or a tensor of theta's shape (one baseline per parameter, as
               returned by :func:`optimal_baseline`).
    generator: None (torch's global generator), a ``torch.Generator``, or an int seed.
    return_samples: if True, also return the per-sample terms
               $(f(x_i) - b) \nabla_\theta \log p(x_i;\theta)$, shape (N, *theta.shape); their
               standard deviation over $\sqrt N$ is the standard error of the estimate.

    Returns $\hat g$ with theta's shape (and the terms if ``return_samples``). The per-sample
    scores $\nabla_\theta \log p(x_i;\theta)$ cost one backward pass per component of θ.
    """
    theta = parameter_tensor(theta, "score_function_grad")        # a detached copy
    N = positive_int(n_samples, "n_samples", "score_function_grad")
    with torch.no_grad():
        x = _sample(make_dist(theta), N, generator)                # x_i ~ p(·; θ)
        fx = one_value_per_sample(f(x), x, theta)                  # f(x_i), (N,)
    b = baseline_like(baseline, theta)
    scores = _per_sample_scores(make_dist, theta, x)               # ∇_θ log p(x_i; θ)
    weights = fx.reshape(N, *([1] * theta.dim())) - b              # f(x_i) − b, (N, 1, ...)
    terms = weights * scores                                       # (f(x_i) − b) ∇_θ log p(x_i; θ)
    grad = terms.mean(0)                                           # ĝ = (1/N) Σ_i ...
    return (grad, terms) if return_samples else grad


def pg_loss(logp, weights):
    r"""The pseudo-loss whose gradient is the policy gradient (a surrogate, not a performance measure).

    $$L(\theta) = -\frac1N \sum_{i=1}^N \log \pi_\theta(a_i \mid s_i)\, w_i, \qquad
      -\nabla_\theta L(\theta) = \frac1N \sum_{i=1}^N w_i\, \nabla_\theta \log \pi_\theta(a_i \mid s_i),$$

    with weights $w_i$ held constant: $R(\tau)$, the reward-to-go $\hat R_t$, or an advantage
    estimate $\hat A_t$. Minimising $L$ with gradient descent is gradient *ascent* on $J(\theta)$.
    Its value is not the expected return and need not fall as the policy improves.
    Derived in {ref}`ch-score-function`.

    logp:    shape (N,), $\log \pi_\theta(a_i \mid s_i)$ with autograd graph (``policy.log_prob``).
    weights: shape (N,), tensor, numpy array or list; detached (no gradient flows into them).
    Returns a scalar tensor. The average runs over the N (state, action) pairs of the batch.
    """
    weights = weights_for(logp, weights, "pg_loss")               # a constant: detached
    return -(logp * weights).mean()                                # −(1/N) Σ_i log π_θ(a_i|s_i) w_i


def optimal_baseline(grad_logp, returns):
    r"""The variance-minimising constant baseline, one per parameter.

    $$b^*_j = \frac{\mathbb E\big[g_j^2\, R\big]}{\mathbb E\big[g_j^2\big]}, \qquad
      g_j = \frac{\partial}{\partial \theta_j} \log p(\tau;\theta),$$

    estimated with sample averages. $b^*_j$ minimises
    $\mathbb E[(R - b)^2 g_j^2]$, hence the variance of $(R - b)\, g_j$ (the two differ by
    $(\mathbb E[R g_j])^2$, which does not depend on $b$ since $\mathbb E[g_j] = 0$).
    Derived in {ref}`ch-variance-reduction`.

    grad_logp: shape (N, P): row i is $\nabla_\theta \log p(\tau_i;\theta)$ of sample i
               (or shape (N,) for one parameter); numpy array or torch tensor.
    returns:   shape (N,), the $R(\tau_i)$ (or any weights the baseline is subtracted from).
    Returns shape (P,) (or () for (N,) input), of grad_logp's type. A parameter whose
    $\sum_i g_{ij}^2 = 0$ gets $b^*_j = 0$ (every $b$ gives the same, zero, variance).
    """
    g, R, back = gradient_rows(grad_logp, returns, "optimal_baseline")   # numpy
    R = R.reshape(-1, *([1] * (g.ndim - 1)))                       # (N, 1) against (N, P)
    num = (g ** 2 * R).sum(0)                                      # Σ_i g_ij² R_i
    den = (g ** 2).sum(0)                                          # Σ_i g_ij²
    b = np.divide(num, den, out=np.zeros_like(num, dtype=float), where=den > 0)  # b*_j
    return back(b)


# --------------------------------------------------------------------------------------------
# Off-policy gradients and PPO (chapters "Importance sampling" and "Proximal policy optimisation")
# --------------------------------------------------------------------------------------------
def importance_weights(logp_target, logp_behavior):
    r"""Importance weights $w_i = \pi_\theta(a_i \mid s_i) / \pi_{\theta'}(a_i \mid s_i)$ from log-probabilities.

    $$w_i = \exp\big(\log \pi_\theta(a_i \mid s_i) - \log \pi_{\theta'}(a_i \mid s_i)\big),$$

    the ratio that turns an average over samples of the behaviour policy $\pi_{\theta'}$ into an
    estimate of an average under the target policy $\pi_\theta$:
    $\mathbb E_{x \sim q}[f(x)\, p(x)/q(x)] = \mathbb E_{x \sim p}[f(x)]$. Computed from the
    difference of logs (a ratio of two tiny probabilities would underflow). In PPO it is the
    probability ratio $r_t(\theta)$. Derived in {ref}`ch-importance-sampling`.

    logp_target:   $\log \pi_\theta$, any shape; numpy array or torch tensor (with an autograd
                   graph if you want gradients with respect to $\theta$).
    logp_behavior: $\log \pi_{\theta'}$, the same shape; treated as a constant (detached).
    Returns the same shape; a torch tensor if either input is one (differentiable through
    ``logp_target``), else a numpy array. Works for log-probabilities of whole trajectories too
    (sums over $t$), where the weight is $\prod_t \pi_\theta(a_t|s_t)/\pi_{\theta'}(a_t|s_t)$.
    """
    lt, lb = log_prob_pair(logp_target, logp_behavior, "importance_weights")   # lb: detached
    exp = torch.exp if isinstance(lt, torch.Tensor) else np.exp
    return exp(lt - lb)                                            # π_θ / π_θ' = exp(log π_θ − log π_θ')


def approx_kl(logp, logp_old):
    r"""Sample estimate of $\mathrm{KL}(\pi_{\theta_\text{old}} \,\|\, \pi_\theta)$ from actions drawn with $\pi_{\theta_\text{old}}$.

    With $r_i = \pi_\theta(a_i|s_i)/\pi_{\theta_\text{old}}(a_i|s_i)$ this is the "k3" estimator
    {cite}`schulman2020klapprox`,

    $$\widehat{\mathrm{KL}} = \frac1N \sum_{i=1}^N \big[(r_i - 1) - \log r_i\big].$$

    Why this one: $\mathrm{KL}(\pi_\text{old}\|\pi_\theta) = \mathbb E_{a \sim \pi_\text{old}}[-\log r]$,
    so $-\log r_i$ alone ("k1") is unbiased too, but it is negative for half the samples and
    noisy. Adding $r_i - 1$, which has mean $\mathbb E_{\pi_\text{old}}[r] - 1 = 0$, keeps the
    estimate unbiased, makes every term $\ge 0$ (since $\log r \le r - 1$), and cancels the
    first-order noise: for $\pi_\theta$ near $\pi_\text{old}$ each term is
    $\approx \tfrac12(\log r_i)^2$. Its gradient $(r_i - 1)\nabla_\theta \log\pi_\theta(a_i|s_i)$
    is an unbiased estimate of $\nabla_\theta \mathrm{KL}$ as well, and is exactly zero at
    $\theta = \theta_\text{old}$ (where the KL is minimal). The PPO paper
    {cite}`schulman2017ppo` uses the exact KL of the two action distributions at each state;
    the sample estimate needs only the log-probabilities of the taken actions, so one function
    serves categorical and Gaussian policies alike.

    logp: (N,) $\log\pi_\theta(a_i|s_i)$ (torch, may carry a graph); logp_old: (N,) constants.
    Returns a scalar tensor (differentiable in $\theta$). Derived in {ref}`ch-ppo`.
    """
    logp_old, _ = ppo_inputs(logp, logp_old, torch.zeros_like(logp), "approx_kl")
    log_r = logp - logp_old                                        # log r_i
    return (torch.exp(log_r) - 1.0 - log_r).mean()                 # mean of (r − 1) − log r


def ppo_clip_loss(logp, logp_old, adv, clip_eps=0.2):
    r"""PPO's clipped surrogate loss {cite}`schulman2017ppo` (to be minimised).

    $$L^\text{CLIP}(\theta) = -\frac1N \sum_{i=1}^N \min\Big(r_i(\theta)\, \hat A_i,\;
      \operatorname{clip}\big(r_i(\theta), 1-\epsilon, 1+\epsilon\big)\, \hat A_i\Big),
      \qquad r_i(\theta) = \frac{\pi_\theta(a_i|s_i)}{\pi_{\theta_\text{old}}(a_i|s_i)}.$$

    The min makes the objective a pessimistic bound: once the ratio has moved past
    $1+\epsilon$ in the direction the advantage rewards ($\hat A > 0$) or below $1-\epsilon$
    ($\hat A < 0$), the clipped term is the smaller one and is constant in $\theta$, so that
    sample contributes no gradient; moves that make the objective *worse* are never clipped.
    At $\theta = \theta_\text{old}$ its gradient is the policy gradient. Derived in {ref}`ch-ppo`.

    logp:     (N,) $\log\pi_\theta(a_i|s_i)$, torch with autograd graph;
    logp_old: (N,) $\log\pi_{\theta_\text{old}}(a_i|s_i)$ recorded when the data was collected;
    adv:      (N,) advantage estimates $\hat A_i$ (e.g. from :func:`rlnotes.returns.gae`);
    clip_eps: $\epsilon > 0$. logp_old and adv may be tensors, numpy arrays or lists (detached).
    Returns a scalar tensor.
    """
    logp_old, adv = ppo_inputs(logp, logp_old, adv, "ppo_clip_loss")       # detached
    clip_eps = positive(clip_eps, "clip_eps", "ppo_clip_loss", "typically 0.1 to 0.3")
    ratio = torch.exp(logp - logp_old)                             # r_i(θ)
    unclipped = ratio * adv                                        # r A
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * adv   # clip(r, 1−ε, 1+ε) A
    return -torch.min(unclipped, clipped).mean()                   # −mean(min(...))


def ppo_kl_loss(logp, logp_old, adv, beta, kl=None):
    r"""PPO's KL-penalised surrogate loss {cite}`schulman2017ppo` (to be minimised).

    $$L^\text{KLPEN}(\theta) = -\frac1N \sum_{i=1}^N r_i(\theta)\, \hat A_i
      \;+\; \beta\, \widehat{\mathrm{KL}}\big(\pi_{\theta_\text{old}} \,\|\, \pi_\theta\big),$$

    with $r_i(\theta) = \pi_\theta(a_i|s_i)/\pi_{\theta_\text{old}}(a_i|s_i)$ and the KL
    estimated by :func:`approx_kl` — the non-negative, unbiased "k3" estimate
    $\frac1N\sum_i [(r_i - 1) - \log r_i]$ from the same samples (see its docstring for why).
    Pass ``kl`` to use another estimate instead, e.g. the exact per-state KL of the two action
    distributions averaged over the batch (what the paper uses). Derived in {ref}`ch-ppo`.

    logp, logp_old, adv: (N,), as in :func:`ppo_clip_loss`; beta: $\beta \ge 0$ (a number);
    kl: None, or a scalar tensor with graph. Returns a scalar tensor.
    """
    logp_old, adv = ppo_inputs(logp, logp_old, adv, "ppo_kl_loss")         # detached
    beta = non_negative(beta, "beta", "ppo_kl_loss", "the KL coefficient")
    ratio = torch.exp(logp - logp_old)                             # r_i(θ)
    kl = approx_kl(logp, logp_old) if kl is None else kl           # KL̂(π_old ‖ π_θ)
    return -(ratio * adv).mean() + beta * kl                       # −mean(r A) + β KL̂


def adapt_kl_beta(beta, kl, kl_target):
    r"""The adaptive KL coefficient of PPO {cite}`schulman2017ppo`, applied after each policy update.

    With $d$ the KL between the old and the updated policy, measured on the batch:

    * $d < d_\text{targ} / 1.5$: the policy moved too little, $\beta \leftarrow \beta / 2$;
    * $d > 1.5\, d_\text{targ}$: it moved too much, $\beta \leftarrow 2 \beta$;
    * otherwise $\beta$ is kept.

    beta: the current $\beta > 0$; kl: $d$ (a number or a scalar tensor); kl_target:
    $d_\text{targ} > 0$. Returns the new $\beta$ as a float. Derived in {ref}`ch-ppo`.
    """
    beta, kl, kl_target = kl_schedule_inputs(beta, kl, kl_target, "adapt_kl_beta")   # floats
    if kl < kl_target / 1.5:
        return beta / 2.0                                          # moved too little: weaker penalty
    if kl > kl_target * 1.5:
        return beta * 2.0                                          # moved too much: stronger penalty
    return beta
