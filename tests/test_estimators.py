"""Tests of rlnotes.estimators against independent references.

* closed-form gradients of expectations: Gaussian E[x²] (θ = (μ, log σ): ∇_μ = 2μ,
  ∇_{log σ} = 2σ²), Gaussian P(x > 0) = Φ(μ/σ) (a discontinuous f), Bernoulli and
  categorical expectations (discrete x) — the estimate must lie within 4 standard errors,
  computed from the returned per-sample terms, with fixed seeds;
* baselines: the mean is unchanged (within a standard error) and the variance falls;
* pg_loss: autograd through a linear-softmax / linear-Gaussian policy against the hand-written
  score (e_a − π(·|s)) sᵀ and (a − μ)/σ²;
* optimal_baseline: a plain loop, a grid search over b, and the analytic b* of an example.
"""
import math

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Categorical, Normal

from rlnotes.estimators import optimal_baseline, pg_loss, score_function_grad
from rlnotes.policies import CategoricalPolicy, DiagGaussianPolicy


def gaussian(th):                                  # θ = (μ, log σ)
    return Normal(th[0], th[1].exp())


def theta_of(mu, sigma):
    return torch.tensor([mu, math.log(sigma)], dtype=torch.float64)


def phi(x):                                        # standard normal density
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def assert_within_se(grad, terms, exact, k=4.0):
    """|ĝ − exact| < k standard errors, the SE estimated from the per-sample terms."""
    se = terms.std(0) / math.sqrt(terms.shape[0])
    exact = torch.as_tensor(exact, dtype=grad.dtype)
    assert torch.all(se > 0)
    assert torch.all((grad - exact).abs() < k * se), (grad, exact, se)
    assert torch.allclose(terms.mean(0), grad)
    return se


# --------------------------------------------------------------------------------------------
# score_function_grad: unbiasedness against closed forms
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mu, sigma, seed", [(1.0, 0.5, 0), (-0.7, 1.3, 1), (0.0, 2.0, 2)])
def test_gaussian_square(mu, sigma, seed):
    grad, terms = score_function_grad(lambda x: x ** 2, gaussian, theta_of(mu, sigma), 20_000,
                                      generator=seed, return_samples=True)
    assert grad.shape == (2,) and terms.shape == (20_000, 2)
    assert_within_se(grad, terms, [2 * mu, 2 * sigma ** 2])       # ∇_μ = 2μ, ∇_{log σ} = 2σ²


@pytest.mark.parametrize("mu, sigma, seed", [(0.3, 1.0, 3), (-1.0, 0.7, 4)])
def test_discontinuous_f(mu, sigma, seed):
    # E[1{x > 0}] = Φ(μ/σ): ∇_μ = φ(μ/σ)/σ, ∇_{log σ} = −φ(μ/σ) μ/σ
    grad, terms = score_function_grad(lambda x: (x > 0).double(), gaussian, theta_of(mu, sigma),
                                      20_000, generator=seed, return_samples=True)
    assert_within_se(grad, terms, [phi(mu / sigma) / sigma, -phi(mu / sigma) * mu / sigma])


def test_discrete_bernoulli():
    # E[f(x)] = f(0) + (f(1) − f(0)) sigmoid(θ): ∇_θ = (f(1) − f(0)) p (1 − p)
    th = torch.tensor(0.4, dtype=torch.float64)
    grad, terms = score_function_grad(lambda x: 5.0 - 3.0 * x, lambda t: Bernoulli(logits=t), th,
                                      20_000, generator=5, return_samples=True)
    p = torch.sigmoid(th)
    assert grad.shape == () and terms.shape == (20_000,)
    assert_within_se(grad, terms, -3.0 * p * (1 - p))


def test_discrete_categorical_with_matrix_theta():
    # two independent categoricals (logits (2, 3)), f(x) = c[x_0] + d[x_1]:
    # ∇_{θ_k} E = p_k ⊙ (c − p_k·c) per row
    th = torch.tensor([[0.2, -0.5, 1.0], [0.0, 0.3, -0.4]], dtype=torch.float64)
    c = torch.tensor([1.0, 4.0, -2.0], dtype=torch.float64)
    d = torch.tensor([0.0, -1.0, 3.0], dtype=torch.float64)
    grad, terms = score_function_grad(lambda x: c[x[:, 0]] + d[x[:, 1]],
                                      lambda t: Categorical(logits=t), th, 20_000, generator=6,
                                      return_samples=True)
    assert grad.shape == (2, 3) and terms.shape == (20_000, 2, 3)
    p = torch.softmax(th, -1)
    exact = torch.stack([p[0] * (c - p[0] @ c), p[1] * (d - p[1] @ d)])
    assert_within_se(grad, terms, exact)


def test_batch_of_independent_gaussians_is_one_joint_distribution():
    mu = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    grad, terms = score_function_grad(lambda x: (x ** 2).sum(-1), lambda t: Normal(t, 1.0), mu,
                                      20_000, generator=7, return_samples=True)
    assert_within_se(grad, terms, 2 * mu)


def test_error_shrinks_like_one_over_sqrt_n():
    th = theta_of(1.0, 0.5)
    errs = {}
    for n in (500, 50_000):
        g = torch.stack([score_function_grad(lambda x: x ** 2, gaussian, th, n, generator=s)
                         for s in range(20)])
        errs[n] = (g[:, 0] - 2.0).pow(2).mean().sqrt().item()      # RMS error of ∇_μ
    ratio = errs[500] / errs[50_000]
    assert 5 < ratio < 20                                          # √100 = 10


# --------------------------------------------------------------------------------------------
# score_function_grad: baselines
# --------------------------------------------------------------------------------------------
def test_baseline_keeps_the_mean_and_cuts_the_variance():
    mu, sigma = 1.0, 0.5
    th = theta_of(mu, sigma)
    f = lambda x: x ** 2 + 10.0                                     # noqa: E731
    exact = torch.tensor([2 * mu, 2 * sigma ** 2], dtype=torch.float64)
    g0, t0 = score_function_grad(f, gaussian, th, 20_000, generator=8, return_samples=True)
    gb, tb = score_function_grad(f, gaussian, th, 20_000, baseline=10.0 + mu ** 2 + sigma ** 2,
                                 generator=8, return_samples=True)  # b = E[f]
    se0 = assert_within_se(g0, t0, exact)
    seb = assert_within_se(gb, tb, exact)
    assert torch.all((gb - g0).abs() < 4 * se0)                    # same mean, within SE
    assert torch.all(tb.var(0) < 0.1 * t0.var(0))                  # 10x smaller variance here
    assert torch.all(seb < se0)


def test_score_has_mean_zero():
    # E[∇_θ log p] = 0: the reason a constant baseline adds no bias
    grad, terms = score_function_grad(lambda x: torch.ones(len(x), dtype=torch.float64), gaussian,
                                      theta_of(0.3, 1.7), 20_000, generator=9,
                                      return_samples=True)
    assert_within_se(grad, terms, [0.0, 0.0])


def test_per_parameter_baseline_and_optimal_baseline_beat_the_mean():
    th = theta_of(1.0, 0.5)
    f = lambda x: x ** 2 + 10.0                                     # noqa: E731
    _, scores = score_function_grad(lambda x: torch.ones(len(x), dtype=torch.float64), gaussian,
                                    th, 20_000, generator=10, return_samples=True)
    _, t0 = score_function_grad(f, gaussian, th, 20_000, generator=10, return_samples=True)
    fx = t0[:, 0] / scores[:, 0]                                   # recover f(x_i) from the terms
    b_star = optimal_baseline(scores, fx)
    assert b_star.shape == (2,) and isinstance(b_star, torch.Tensor)
    g_star, t_star = score_function_grad(f, gaussian, th, 20_000, baseline=b_star, generator=10,
                                         return_samples=True)
    _, t_mean = score_function_grad(f, gaussian, th, 20_000, baseline=fx.mean(), generator=10,
                                    return_samples=True)
    assert torch.allclose(t_star, (fx[:, None] - b_star) * scores)  # per-parameter b_j used
    assert torch.all(t_star.var(0) <= t_mean.var(0) * (1 + 1e-9))
    assert_within_se(g_star, t_star, [2.0, 0.5])


# --------------------------------------------------------------------------------------------
# score_function_grad: random numbers and errors
# --------------------------------------------------------------------------------------------
def test_generator_is_reproducible_and_leaves_global_rng_alone():
    th = theta_of(0.0, 1.0)
    state = torch.get_rng_state()
    a = score_function_grad(lambda x: x, gaussian, th, 100, generator=123)
    b = score_function_grad(lambda x: x, gaussian, th, 100, generator=123)
    assert torch.equal(a, b)
    assert torch.equal(torch.get_rng_state(), state)
    gen = torch.Generator().manual_seed(123)
    c = score_function_grad(lambda x: x, gaussian, th, 100, generator=gen)
    d = score_function_grad(lambda x: x, gaussian, th, 100, generator=gen)  # gen advanced
    assert torch.equal(a, c) and not torch.equal(c, d)
    torch.manual_seed(123)
    assert torch.equal(score_function_grad(lambda x: x, gaussian, th, 100), a)   # global RNG
    assert th.tolist() == [0.0, 0.0] and not th.requires_grad     # theta untouched


def test_score_function_grad_errors():
    th = theta_of(0.0, 1.0)
    with pytest.raises(ValueError, match=r"one value per sample, shape \(N,\) = \(10,\); got shape \(\)"):
        score_function_grad(lambda x: (x ** 2).mean(), gaussian, th, 10)
    with pytest.raises(ValueError, match=r"got shape \(10, 3\).*sum\(-1\)"):
        score_function_grad(lambda x: x ** 2, lambda t: Normal(t, 1.0),
                            torch.zeros(3, dtype=torch.float64), 10)
    with pytest.raises(ValueError, match=r"float torch tensor"):
        score_function_grad(lambda x: x, gaussian, [0.0, 0.0], 10)
    with pytest.raises(ValueError, match=r"positive int"):
        score_function_grad(lambda x: x, gaussian, th, 0)
    with pytest.raises(ValueError, match=r"baseline must be a number or a tensor of theta's shape \(2,\)"):
        score_function_grad(lambda x: x, gaussian, th, 10, baseline=torch.zeros(3))


# --------------------------------------------------------------------------------------------
# pg_loss
# --------------------------------------------------------------------------------------------
def test_pg_loss_gradient_equals_hand_formula_categorical():
    torch.manual_seed(0)
    pi = CategoricalPolicy(3, 4, hidden_sizes=())                  # π(a|s) = softmax(W s + c)
    W, c = pi.logits_net[0].weight, pi.logits_net[0].bias
    N = 9
    obs, act, w = torch.randn(N, 3), torch.randint(0, 4, (N,)), torch.randn(N)
    loss = pg_loss(pi.log_prob(obs, act), w)
    assert loss.item() == pytest.approx(-(pi.log_prob(obs, act) * w).mean().item())
    loss.backward()
    with torch.no_grad():
        p = torch.softmax(obs @ W.T + c, -1)                       # (N, A)
        score_logits = torch.nn.functional.one_hot(act, 4) - p      # ∂ log π / ∂ logits = e_a − π
        gW = -(w[:, None, None] * score_logits[:, :, None] * obs[:, None, :]).sum(0) / N
        gc = -(w[:, None] * score_logits).sum(0) / N
    assert torch.allclose(W.grad, gW, atol=1e-6) and torch.allclose(c.grad, gc, atol=1e-6)


def test_pg_loss_gradient_equals_hand_formula_gaussian():
    torch.manual_seed(1)
    pi = DiagGaussianPolicy(3, 2, hidden_sizes=(), log_std_init=-0.3)   # μ = W s + c
    W, c = pi.mean_net[0].weight, pi.mean_net[0].bias
    N = 11
    obs, act = torch.randn(N, 3), torch.randn(N, 2)
    w = np.random.default_rng(0).normal(size=N)                     # numpy weights are fine
    pg_loss(pi.log_prob(obs, act), w).backward()
    with torch.no_grad():
        wt = torch.as_tensor(w, dtype=torch.float32)
        sigma = pi.log_std.exp()
        z = (act - (obs @ W.T + c)) / sigma
        d_mu = z / sigma                                            # (a − μ)/σ²
        assert torch.allclose(W.grad, -(wt[:, None, None] * d_mu[:, :, None]
                                        * obs[:, None, :]).sum(0) / N, atol=1e-5)
        assert torch.allclose(c.grad, -(wt[:, None] * d_mu).sum(0) / N, atol=1e-5)
        assert torch.allclose(pi.log_std.grad, -(wt[:, None] * (z ** 2 - 1)).sum(0) / N,
                              atol=1e-5)


def test_pg_loss_detaches_weights_and_checks_shapes():
    torch.manual_seed(2)
    pi = CategoricalPolicy(3, 2, hidden_sizes=(4,))
    obs, act = torch.randn(6, 3), torch.randint(0, 2, (6,))
    v = torch.randn(6, requires_grad=True)                          # e.g. a value-net output
    logp = pi.log_prob(obs, act)
    pg_loss(logp, 2.0 * v).backward()
    assert v.grad is None                                           # nothing flowed into v
    assert all(p.grad is not None for p in pi.parameters())
    with pytest.raises(ValueError, match=r"same shape \(N,\); got logp \(6,\) and weights \(6, 1\)"):
        pg_loss(pi.log_prob(obs, act), torch.ones(6, 1))
    with pytest.raises(ValueError, match=r"got logp \(6, 1\)"):
        pg_loss(pi.log_prob(obs, act)[:, None], torch.ones(6, 1))
    with pytest.raises(ValueError, match=r"empty batch"):
        pg_loss(torch.zeros(0, requires_grad=True), [])
    with pytest.raises(ValueError, match=r"torch tensor"):
        pg_loss(np.zeros(3), np.zeros(3))


# --------------------------------------------------------------------------------------------
# optimal_baseline
# --------------------------------------------------------------------------------------------
def test_optimal_baseline_equals_loop():
    rng = np.random.default_rng(0)
    g, R = rng.normal(size=(50, 4)), rng.normal(3.0, 2.0, size=50)
    want = [sum(g[i, j] ** 2 * R[i] for i in range(50)) / sum(g[i, j] ** 2 for i in range(50))
            for j in range(4)]
    got = optimal_baseline(g, R)
    assert isinstance(got, np.ndarray) and got.shape == (4,)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    t = optimal_baseline(torch.tensor(g, dtype=torch.float32), torch.tensor(R))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), want, rtol=1e-5)
    one = optimal_baseline(g[:, 1], R)                             # one parameter: (N,) -> ()
    assert np.ndim(one) == 0 and one == pytest.approx(want[1])


def test_optimal_baseline_minimises_the_variance():
    # g = z ~ N(0, 1) (the score of a unit Gaussian's mean), R = 5 + 3 z² + noise:
    # b* = E[z² R] / E[z²] = 5 + 3 E[z⁴] = 14
    rng = np.random.default_rng(1)
    N = 50_000
    z = rng.normal(size=N)
    R = 5 + 3 * z ** 2 + rng.normal(size=N)
    g = np.stack([z, z ** 2 - 1], 1)                               # two parameters: μ and log σ
    b = optimal_baseline(g, R)
    num = g[:, 0] ** 2 * R                                          # SE of b*_0 (ratio, delta method)
    se = np.std(num - b[0] * g[:, 0] ** 2) / np.sqrt(N) / np.mean(g[:, 0] ** 2)
    assert abs(b[0] - 14.0) < 4 * se
    for j in range(2):                                             # grid search, step 0.005
        grid = np.linspace(b[j] - 2, b[j] + 2, 801)
        second_moment = [np.mean(((R - bb) * g[:, j]) ** 2) for bb in grid]
        variance = np.array([np.var((R - bb) * g[:, j]) for bb in grid])
        assert abs(grid[np.argmin(second_moment)] - b[j]) <= 0.005           # exact minimiser
        assert abs(grid[np.argmin(variance)] - b[j]) < 0.02 * abs(b[j])       # up to E[g] ≈ 0
        assert variance.min() < variance[0] and variance.min() < variance[-1]  # interior minimum


def test_optimal_baseline_edge_cases_and_errors():
    g = np.array([[1.0, 0.0], [2.0, 0.0]])
    np.testing.assert_allclose(optimal_baseline(g, [3.0, 6.0]), [(3 + 4 * 6) / 5, 0.0])
    with pytest.raises(ValueError, match=r"\(N, P\).*returns of shape \(N,\).*got \(3, 2\) and \(4,\)"):
        optimal_baseline(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"N >= 1"):
        optimal_baseline(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match=r"got \(2, 3, 4\)"):
        optimal_baseline(np.zeros((2, 3, 4)), np.zeros(2))
