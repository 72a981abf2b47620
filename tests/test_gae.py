"""rlnotes.returns.gae and td_targets against plain loops; the PPO pieces of rlnotes.estimators."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rlnotes.estimators import adapt_kl_beta, approx_kl, importance_weights, ppo_clip_loss, ppo_kl_loss
from rlnotes.returns import gae, reward_to_go, td_targets


# --------------------------------------------------------------------------------------------
# GAE
# --------------------------------------------------------------------------------------------
def gae_double_loop(r, v, v_next, term, trunc, gamma, lam):
    """Â_t = Σ_{l ≥ 0} (γλ)^l δ_{t+l}, summed until the episode (or the array) ends."""
    T = len(r)
    adv = np.zeros(T)
    for t in range(T):
        total = 0.0
        for l in range(T - t):
            k = t + l
            delta = r[k] + gamma * (0.0 if term[k] else v_next[k]) - v[k]
            total += (gamma * lam) ** l * delta
            if term[k] or trunc[k]:
                break
        adv[t] = total
    return adv


def rollout(T=12, N=3, seed=0):
    rng = np.random.default_rng(seed)
    r, v, v_next = rng.normal(size=(3, T, N))
    term = np.zeros((T, N), dtype=bool)
    trunc = np.zeros((T, N), dtype=bool)
    term[3, 0] = term[8, 1] = True              # terminations mid-array
    trunc[5, 0] = trunc[2, 2] = True            # truncations mid-array
    term[T - 1, 2] = True                       # and an episode that terminates at the end
    return r, v, v_next, term, trunc


@pytest.mark.parametrize("gamma, lam", [(0.99, 0.95), (0.9, 0.0), (1.0, 1.0), (0.5, 0.7)])
def test_gae_equals_double_loop_numpy_T_N(gamma, lam):
    r, v, vn, term, trunc = rollout()
    got = gae(r, v, vn, term, trunc, gamma, lam)
    assert isinstance(got, np.ndarray) and got.shape == r.shape
    for i in range(r.shape[1]):
        np.testing.assert_allclose(
            got[:, i], gae_double_loop(r[:, i], v[:, i], vn[:, i], term[:, i], trunc[:, i], gamma, lam),
            rtol=1e-12, atol=1e-12)


def test_gae_one_env_and_torch():
    r, v, vn, term, trunc = (x[:, :1] for x in rollout(T=15, N=3, seed=1))   # column 0: both ends
    expect = gae_double_loop(r[:, 0], v[:, 0], vn[:, 0], term[:, 0], trunc[:, 0], 0.95, 0.9)
    got = gae(r[:, 0], v[:, 0], vn[:, 0], term[:, 0], trunc[:, 0], 0.95, 0.9)
    assert got.shape == (15,)
    np.testing.assert_allclose(got, expect, rtol=1e-12)
    # torch in -> torch out (float32 follows the input; values with a graph are fine)
    vt = torch.tensor(v, dtype=torch.float32, requires_grad=True)
    got_t = gae(torch.tensor(r, dtype=torch.float32), vt, torch.tensor(vn, dtype=torch.float32),
                torch.tensor(term), torch.tensor(trunc), 0.95, 0.9)
    assert isinstance(got_t, torch.Tensor) and got_t.dtype == torch.float32
    assert got_t.shape == (15, 1) and not got_t.requires_grad
    np.testing.assert_allclose(got_t[:, 0].numpy(), expect, rtol=1e-5, atol=1e-5)
    # (T, N) torch
    r, v, vn, term, trunc = rollout()
    got_t = gae(*(torch.as_tensor(x) for x in (r, v, vn, term, trunc)), gamma=0.9, lam=0.8)
    assert got_t.dtype == torch.float64
    np.testing.assert_allclose(got_t.numpy(), gae(r, v, vn, term, trunc, 0.9, 0.8), rtol=1e-12)


def test_lambda_zero_is_the_td_error():
    r, v, vn, term, trunc = rollout()
    td = td_targets(r, vn, term, 0.97)
    np.testing.assert_allclose(td, r + 0.97 * np.where(term, 0.0, vn))     # r + γ(1−term)V(s')
    np.testing.assert_allclose(gae(r, v, vn, term, trunc, 0.97, 0.0), td - v, rtol=1e-12)
    # truncation keeps the bootstrap inside δ
    assert td[5, 0] == pytest.approx(r[5, 0] + 0.97 * vn[5, 0]) and td[3, 0] == r[3, 0]


def test_lambda_one_is_monte_carlo_minus_value():
    rng = np.random.default_rng(2)
    T, gamma = 20, 0.95
    r, v = rng.normal(size=(2, T))
    v_next = np.append(v[1:], 123.0)                        # V(s_{t+1}); the last is ignored
    term = np.zeros(T, bool)
    term[-1] = True                                         # the episode terminates at the end
    adv = gae(r, v, v_next, term, np.zeros(T, bool), gamma, 1.0)
    np.testing.assert_allclose(adv, reward_to_go(r, gamma) - v, rtol=1e-10, atol=1e-10)  # G_t − V(s_t)


def test_truncation_bootstraps_termination_does_not():
    # one step, reward 1, V(s) = 0, V(s') = 10: terminated -> 1; truncated -> 1 + γ·10
    one = dict(rewards=[1.0], values=[0.0], next_values=[10.0], gamma=0.9, lam=0.95)
    assert gae(**one, terminated=[True], truncated=[False])[0] == pytest.approx(1.0)
    assert gae(**one, terminated=[False], truncated=[True])[0] == pytest.approx(10.0)
    # the sum stops at a truncation: the next row's δ does not leak back
    adv = gae([0.0, 5.0], [0.0, 0.0], [0.0, 0.0], [False, False], [True, False], 0.9, 1.0)
    np.testing.assert_allclose(adv, [0.0, 5.0])


def test_gae_errors():
    with pytest.raises(ValueError, match="one shape"):
        gae(np.zeros(3), np.zeros(3), np.zeros(4), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="one shape"):
        gae(np.zeros((2, 2, 2)), *[np.zeros((2, 2, 2))] * 4)
    with pytest.raises(ValueError, match="lam"):
        gae([1.0], [0.0], [0.0], [0], [0], 0.9, 1.5)
    with pytest.raises(ValueError, match="booleans"):
        gae([1.0], [0.0], [0.0], [2], [0])
    with pytest.raises(ValueError, match="gamma"):
        td_targets([1.0], [0.0], [0], -0.1)


# --------------------------------------------------------------------------------------------
# Importance weights and the PPO losses
# --------------------------------------------------------------------------------------------
def test_importance_weights_types_and_values():
    p, q = np.array([0.5, 0.1, 0.9]), np.array([0.25, 0.2, 0.9])
    w = importance_weights(np.log(p), np.log(q))
    assert isinstance(w, np.ndarray)
    np.testing.assert_allclose(w, p / q)
    lt = torch.log(torch.tensor(p, requires_grad=True))
    wt = importance_weights(lt, torch.log(torch.tensor(q)))
    assert isinstance(wt, torch.Tensor) and wt.requires_grad and wt.dtype == torch.float64
    np.testing.assert_allclose(wt.detach().numpy(), p / q)
    assert isinstance(importance_weights(np.log(p), torch.log(torch.tensor(q))), torch.Tensor)
    with pytest.raises(ValueError, match="same shape"):
        importance_weights(np.zeros(3), np.zeros((3, 1)))


def test_ppo_clip_loss_by_hand():
    eps = 0.2
    r = np.array([0.5, 0.9, 1.1, 1.5, 0.5, 1.5])
    A = np.array([1.0, 2.0, -1.0, 3.0, -2.0, -1.0])
    # min(r A, clip(r) A) by hand: 0.5·1=0.5 (unclipped smaller); 0.9·2=1.8; 1.1·−1=−1.1;
    # clip 1.2·3=3.6 < 4.5; clip 0.8·−2=−1.6 < −1.0; 1.5·−1=−1.5 < 1.2·−1
    hand = -np.mean([0.5, 1.8, -1.1, 3.6, -1.6, -1.5])
    logp_old = torch.log(torch.tensor([0.3, 0.2, 0.5, 0.1, 0.4, 0.6], dtype=torch.float64))
    logp = (logp_old + torch.log(torch.tensor(r))).requires_grad_(True)
    assert ppo_clip_loss(logp, logp_old, A, eps).item() == pytest.approx(hand, abs=1e-12)


def test_clipped_gradient_is_zero_outside_the_clip_range_only():
    eps = 0.2

    def grad(ratio, A):
        logp = torch.tensor([np.log(ratio)], dtype=torch.float64, requires_grad=True)
        ppo_clip_loss(logp, torch.zeros(1, dtype=torch.float64), [A], eps).backward()
        return logp.grad.item()

    assert grad(1.3, 1.0) == 0.0            # A > 0 and r > 1 + ε: no incentive to go further
    assert grad(0.7, -1.0) == 0.0           # A < 0 and r < 1 − ε
    assert grad(1.1, 1.0) == pytest.approx(-1.1)     # inside: d(−r A)/d log r = −r A
    assert grad(0.9, -1.0) == pytest.approx(0.9)
    assert grad(0.7, 1.0) == pytest.approx(-0.7)     # below 1 − ε with A > 0: never clipped
    assert grad(1.3, -1.0) == pytest.approx(1.3)     # above 1 + ε with A < 0: never clipped
    # at θ = θ_old the gradient is the policy gradient −A ∇ log π
    assert grad(1.0, 2.0) == pytest.approx(-2.0)


def test_ppo_kl_loss_and_approx_kl_by_hand():
    logp_old = torch.log(torch.tensor([0.2, 0.5, 0.7], dtype=torch.float64))
    r = torch.tensor([1.5, 0.8, 1.0], dtype=torch.float64)
    logp = (logp_old + r.log()).requires_grad_(True)
    A = [1.0, -2.0, 0.5]
    k3 = ((r - 1) - r.log()).mean().item()                      # (r − 1) − log r
    assert approx_kl(logp, logp_old).item() == pytest.approx(k3, rel=1e-12) and k3 > 0
    hand = -(1.5 * 1.0 + 0.8 * -2.0 + 1.0 * 0.5) / 3 + 0.7 * k3
    assert ppo_kl_loss(logp, logp_old, A, beta=0.7).item() == pytest.approx(hand, rel=1e-12)
    assert ppo_kl_loss(logp, logp_old, A, beta=0.7, kl=torch.tensor(2.0, dtype=torch.float64)).item() == \
        pytest.approx(-(1.5 - 1.6 + 0.5) / 3 + 1.4, rel=1e-12)
    # the k3 estimate is unbiased for KL(π_old ‖ π): check against the exact KL of two categoricals
    p_old = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    p_new = torch.tensor([0.3, 0.3, 0.4], dtype=torch.float64)
    exact = float((p_old * (p_old / p_new).log()).sum())
    a = torch.multinomial(p_old, 200_000, replacement=True, generator=torch.Generator().manual_seed(0))
    est = approx_kl(p_new.log()[a], p_old.log()[a]).item()
    assert est == pytest.approx(exact, rel=0.03)
    # its gradient is zero at θ = θ_old
    lp = logp_old.clone().requires_grad_(True)
    approx_kl(lp, logp_old).backward()
    assert torch.all(lp.grad == 0)


def test_ppo_loss_errors():
    lp = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="same shape"):
        ppo_clip_loss(lp, torch.zeros(3, 1), torch.zeros(3))
    with pytest.raises(ValueError, match="torch tensor"):
        ppo_clip_loss(np.zeros(3), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="clip_eps"):
        ppo_clip_loss(lp, torch.zeros(3), torch.zeros(3), clip_eps=0)
    with pytest.raises(ValueError, match="beta"):
        ppo_kl_loss(lp, torch.zeros(3), torch.zeros(3), beta=-1)


def test_adapt_kl_beta():
    assert adapt_kl_beta(1.0, 0.001, 0.01) == 0.5            # d < d_targ / 1.5: halve
    assert adapt_kl_beta(1.0, 0.02, 0.01) == 2.0             # d > 1.5 d_targ: double
    assert adapt_kl_beta(1.0, 0.01, 0.01) == 1.0             # in between: keep
    assert adapt_kl_beta(1.0, 0.0067, 0.01) == 1.0 and adapt_kl_beta(1.0, 0.0149, 0.01) == 1.0
    assert adapt_kl_beta(3.0, torch.tensor(0.1), 0.01) == 6.0
    with pytest.raises(ValueError):
        adapt_kl_beta(1.0, float("nan"), 0.01)
    with pytest.raises(ValueError):
        adapt_kl_beta(1.0, 0.01, 0.0)
