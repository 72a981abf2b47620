"""Tests of rlnotes.returns against independent references.

* a brute-force double loop R̂_t = Σ_{t' ≥ t} γ^{t'−t} r_{t'} (no recursion);
* the closed form of a geometric series for constant rewards, r (1 − γ^T) / (1 − γ);
* the vectorised discount_cumsum against the plain reward_to_go loop, including long
  episodes where γ^T underflows;
* input types (numpy / torch / list in, same type out) and every ValueError;
* n-step returns against a forward loop per step and a closed form, and GAE(λ=1) + V;
* the DQN and Double DQN targets against hand formulas on tabulated Q-functions, the DDPG/TD3
  targets against a plain loop over the batch (GAE and TD targets: tests/test_gae.py).
"""
import numpy as np
import pytest
import torch

from rlnotes.algos import ddpg
from rlnotes.returns import (
    ddpg_targets,
    discount_cumsum,
    discounted_return,
    double_dqn_targets,
    dqn_targets,
    gae,
    n_step_returns,
    reward_to_go,
    truncation_bootstrap,
)
from tests.qtables import ONLINE, TARGET, TableQ

RTG = [reward_to_go, discount_cumsum]


def brute_force_rtg(rewards, gamma):
    rewards = [float(x) for x in rewards]
    T = len(rewards)
    return np.array([sum(gamma ** (k - t) * rewards[k] for k in range(t, T)) for t in range(T)])


@pytest.mark.parametrize("fn", RTG)
@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99, 1.0])
def test_reward_to_go_equals_double_loop(fn, gamma):
    rng = np.random.default_rng(int(gamma * 100))
    r = rng.normal(size=37)
    got = fn(r, gamma)
    assert isinstance(got, np.ndarray) and got.shape == (37,)
    np.testing.assert_allclose(got, brute_force_rtg(r, gamma), rtol=1e-12, atol=1e-12)
    assert got[0] == pytest.approx(discounted_return(r, gamma), rel=1e-12)   # R̂_0 = R(τ)


@pytest.mark.parametrize("fn", RTG)
def test_reward_to_go_by_hand(fn):
    np.testing.assert_allclose(fn([1.0, 2.0, 3.0], 0.5), [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3])
    np.testing.assert_allclose(fn([1, 1, 1, 1]), [4, 3, 2, 1])    # default γ = 1, int rewards
    np.testing.assert_allclose(fn([5.0], 0.9), [5.0])              # T = 1


@pytest.mark.parametrize("fn", RTG)
def test_types_follow_the_input(fn):
    r = np.array([1.0, -2.0, 0.5, 3.0])
    want = brute_force_rtg(r, 0.9)
    t32 = fn(torch.tensor(r, dtype=torch.float32), 0.9)
    assert isinstance(t32, torch.Tensor) and t32.dtype == torch.float32 and t32.shape == (4,)
    assert torch.allclose(t32, torch.tensor(want, dtype=torch.float32))
    t64 = fn(torch.tensor(r, requires_grad=True), 0.9)
    assert t64.dtype == torch.float64 and not t64.requires_grad    # returns are constants
    tint = fn(torch.tensor([1, 2, 3]), 1.0)
    assert tint.is_floating_point() and tint.tolist() == [6.0, 5.0, 3.0]
    n32 = fn(r.astype(np.float32), 0.9)
    assert isinstance(n32, np.ndarray) and n32.dtype == np.float32
    assert fn(np.array([1, 2, 3]), 1.0).dtype == np.float64
    assert isinstance(fn([1.0, 2.0], 0.9), np.ndarray)


def test_discount_cumsum_equals_loop_on_long_episodes():
    # long enough that γ^T underflows a float64 (0.5^5000 = 1e-1505): the chunks must work
    rng = np.random.default_rng(0)
    for gamma, T in [(0.5, 5000), (0.9, 20_000), (0.99, 3000), (0.999, 1234), (1e-3, 300)]:
        r = rng.normal(size=T)
        got, want = discount_cumsum(r, gamma), reward_to_go(r, gamma)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99, 1.0])
@pytest.mark.parametrize("T", [1, 10, 500])
def test_discounted_return_closed_form_for_constant_rewards(gamma, T):
    r = 2.5
    want = r * T if gamma == 1.0 else r * (1 - gamma ** T) / (1 - gamma)
    got = discounted_return(np.full(T, r), gamma)
    assert isinstance(got, float)
    assert got == pytest.approx(want, rel=1e-12)
    assert discounted_return(torch.full((T,), r), gamma) == pytest.approx(want, rel=1e-6)
    assert reward_to_go([r] * T, gamma)[0] == pytest.approx(want, rel=1e-12)


def test_discounted_return_by_hand():
    assert discounted_return([1.0, 0.0, 4.0], 0.5) == pytest.approx(1 + 0.25 * 4)
    assert discounted_return([3.0, 3.0], 0.0) == 3.0              # γ = 0: only r_0 counts


@pytest.mark.parametrize("fn", [discounted_return, reward_to_go, discount_cumsum])
def test_bad_input_raises_clear_errors(fn):
    with pytest.raises(ValueError, match=r"empty reward sequence.*at least one step"):
        fn(np.array([]), 0.9)
    with pytest.raises(ValueError, match=r"empty reward sequence"):
        fn(torch.zeros(0), 0.9)
    with pytest.raises(ValueError, match=r"one episode, shape \(T,\); got shape \(5, 2\).*once per episode"):
        fn(np.zeros((5, 2)), 0.9)
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        fn(3.0, 0.9)
    with pytest.raises(ValueError, match=r"reshape\(-1\)"):
        fn(torch.zeros(4, 1), 0.9)
    with pytest.raises(ValueError, match=r"gamma must be a discount factor in \[0, 1\]; got 1.5"):
        fn([1.0, 2.0], 1.5)
    with pytest.raises(ValueError, match=r"gamma must be a number"):
        fn([1.0, 2.0], "high")
    with pytest.raises(ValueError, match=r"numeric rewards"):
        fn(np.array(["a", "b"]), 0.9)


# --------------------------------------------------------------------------------------------
# n-step returns (A2C, A3C)
# --------------------------------------------------------------------------------------------
def plain_n_step(rewards, next_values, terminated, truncated, gamma):
    """Per-step reference: walk forward from t until an episode end or the rollout's end."""
    T = len(rewards)
    out = np.zeros(T)
    for t in range(T):
        g, discount, k = 0.0, 1.0, t
        while True:
            g += discount * rewards[k]
            discount *= gamma
            if terminated[k]:
                break                                   # terminal: V = 0
            if truncated[k] or k == T - 1:
                g += discount * next_values[k]          # bootstrap V(s_{k+1})
                break
            k += 1
        out[t] = g
    return out


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9])
def test_truncation_bootstrap_completes_a_cut_episode_to_its_full_reward_to_go(gamma):
    """An episode cut after T = 6 steps whose continuation pays c forever: its final observation
    is worth V(o_T) = c / (1 − γ), and R̂_t + γ^(T−t) V(o_T) is the reward-to-go of the episode
    that was never cut (the long continuation, 400 steps, stands in for "forever")."""
    rewards, c, T = np.array([1.0, -2.0, 0.5, 3.0, 0.0, 1.5]), 2.0, 6
    uncut = np.concatenate([rewards, np.full(400, c)])
    expected = brute_force_rtg(uncut, gamma)[:T] if gamma > 0 else rewards
    v_final = c / (1 - gamma)
    completed = reward_to_go(rewards, gamma) + truncation_bootstrap(np.full(T, v_final), T - np.arange(T), gamma)
    np.testing.assert_allclose(completed, expected, rtol=1e-12, atol=1e-12)
    assert truncation_bootstrap([2.0], [1], gamma)[0] == gamma * 2.0       # one step before the cut: γ V(o_T)


def test_truncation_bootstrap_rejects_bad_input():
    with pytest.raises(ValueError, match=r"steps_left must be integers T - t >= 1"):
        truncation_bootstrap([1.0, 2.0], [1, 0], 0.9)                   # t = T is not a step
    with pytest.raises(ValueError, match=r"steps_left must be integers"):
        truncation_bootstrap([1.0], [1.5], 0.9)
    with pytest.raises(ValueError, match=r"gamma must be a discount factor in \[0, 1\]"):
        truncation_bootstrap([1.0], [1], 1.5)


def test_n_step_returns_against_a_forward_loop():
    rng = np.random.default_rng(0)
    T, N = 9, 3
    r = rng.normal(size=(T, N))
    v_next = rng.normal(size=(T, N))
    term = rng.random((T, N)) < 0.2
    trunc = (rng.random((T, N)) < 0.2) & ~term
    got = n_step_returns(r, v_next, term, trunc, 0.9)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (T, N)
    for i in range(N):
        np.testing.assert_allclose(got[:, i], plain_n_step(r[:, i], v_next[:, i], term[:, i],
                                                           trunc[:, i], 0.9), rtol=1e-12)
    # closed form without episode ends: Σ_k γ^k r_{t+k} + γ^(T−t) V(s_T)
    none = np.zeros(T, bool)
    g = n_step_returns(r[:, 0], v_next[:, 0], none, none, 0.9)
    for t in range(T):
        ref = sum(0.9 ** k * r[t + k, 0] for k in range(T - t)) + 0.9 ** (T - t) * v_next[-1, 0]
        assert g[t] == pytest.approx(ref, rel=1e-12)
    # = GAE(λ=1) + V(s_t) when the arrays are consistent: V(s_{t+1}) = values[t+1] inside episodes
    values = rng.normal(size=(T, N))
    inside = ~(term | trunc)[:-1]
    v_next[:-1][inside] = values[1:][inside]
    got = n_step_returns(r, v_next, term, trunc, 0.9)
    np.testing.assert_allclose(got, gae(r, values, v_next, term, trunc, 0.9, 1.0) + values,
                               rtol=1e-10, atol=1e-12)


def test_n_step_truncation_bootstraps_and_termination_does_not():
    r, v_next = np.ones(3), np.array([10.0, 20.0, 30.0])
    g_trunc = n_step_returns(r, v_next, [False, False, False], [False, True, False], 0.5)
    g_term = n_step_returns(r, v_next, [False, True, False], [False, False, False], 0.5)
    assert g_trunc[1] == 1 + 0.5 * 20 and g_trunc[0] == 1 + 0.5 * g_trunc[1]
    assert g_term[1] == 1.0 and g_term[0] == 1.5
    assert g_trunc[2] == g_term[2] == 1 + 0.5 * 30             # rollout end: bootstrap V(s_T)


def test_n_step_returns_types_and_errors():
    r, v_next, none = np.ones(3), np.array([10.0, 20.0, 30.0]), np.zeros(3, bool)
    want = n_step_returns(r, v_next, none, none, 0.5)
    got = n_step_returns(torch.ones(3), torch.tensor(v_next, dtype=torch.float32), none, none, 0.5)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32 and not got.requires_grad
    np.testing.assert_allclose(got.numpy(), want)
    with pytest.raises(ValueError, match=r"arrays of one shape.*info\['final_obs'\]"):
        n_step_returns(np.ones(3), np.ones(4), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"truncated must hold booleans"):
        n_step_returns(np.ones(3), np.ones(3), np.zeros(3), np.array([0, 3, 0]))
    with pytest.raises(ValueError, match=r"next_values contains NaN.*diverging critic"):
        n_step_returns(np.ones(3), np.array([0, np.nan, 0]), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"gamma must be a discount factor in \[0, 1\]"):
        n_step_returns(r, v_next, none, none, 1.5)


# --------------------------------------------------------------------------------------------
# DQN and Double DQN targets
# --------------------------------------------------------------------------------------------


def test_dqn_targets_match_the_hand_formula():
    gamma = 0.9
    next_obs = torch.tensor([[0.0], [1.0], [2.0], [0.0]])
    rewards = torch.tensor([1.0, -1.0, 0.5, 2.0])
    terminated = torch.tensor([0.0, 1.0, 0.0, 0.0])      # the 2nd ended in a terminal state
    # a truncated transition is stored with terminated = 0 and its true final obs: it bootstraps
    y = dqn_targets(TableQ(TARGET), rewards, next_obs, terminated, gamma)
    hand = [1.0 + gamma * 7.0,       # max_a' Q⁻(0, a') = 7
            -1.0,                    # terminated: no bootstrap
            0.5 + gamma * 3.0,       # max_a' Q⁻(2, a') = 3
            2.0 + gamma * 7.0]
    np.testing.assert_allclose(y.numpy(), hand, rtol=1e-6)
    assert not y.requires_grad                           # a target: no gradient flows into it


def test_double_dqn_targets_match_the_hand_formula():
    gamma = 0.9
    next_obs = torch.tensor([[0.0], [1.0], [2.0]])
    rewards = torch.tensor([1.0, -1.0, 0.5])
    terminated = torch.tensor([0.0, 0.0, 1.0])
    y = double_dqn_targets(TableQ(ONLINE), TableQ(TARGET), rewards, next_obs, terminated, gamma)
    # a* = argmax Q_θ(s', ·) = 1, 2, (1); evaluated by Q_θ⁻: 1.0, -2.0, (terminated)
    hand = [1.0 + gamma * 1.0, -1.0 + gamma * (-2.0), 0.5]
    np.testing.assert_allclose(y.numpy(), hand, rtol=1e-6)
    assert not y.requires_grad
    # the online network chooses, the target network evaluates: swapping them changes y
    swapped = double_dqn_targets(TableQ(TARGET), TableQ(ONLINE), rewards, next_obs, terminated, gamma)
    assert not torch.allclose(swapped, y)


# --------------------------------------------------------------------------------------------
# DDPG and TD3 targets
# --------------------------------------------------------------------------------------------
def _nets(obs_dim=3, act_dim=2, hidden=(16, 16), n_critics=1, seed=0):
    torch.manual_seed(seed)
    return ddpg.Actor(obs_dim, act_dim, hidden), ddpg.Critic(obs_dim, act_dim, hidden, n_critics)


def _transitions(B=12, obs_dim=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    rew = torch.randn(B, generator=g)
    nxt = torch.randn(B, obs_dim, generator=g)
    term = (torch.arange(B) % 3 == 0).float()            # some terminal transitions
    return rew, nxt, term


def _q_single(net, s, a):
    """One critic net on one (s, a), by hand: Linear/ReLU layers applied to the concatenation."""
    x = torch.cat([s, a])
    for m in net:
        x = x @ m.weight.T + m.bias if isinstance(m, torch.nn.Linear) else torch.relu(x)
    return float(x[0].detach())


def test_ddpg_targets_match_a_plain_loop():
    actor, critic = _nets()
    rew, nxt, term = _transitions()
    gamma = 0.9
    y = ddpg_targets(actor, critic, rew, nxt, term, gamma)
    for i in range(len(rew)):
        a_next = torch.tanh(actor.net(nxt[i])).detach()                        # μ'(s')
        bootstrap = 0.0 if term[i] else gamma * _q_single(critic.nets[0], nxt[i], a_next)
        assert float(y[i]) == pytest.approx(float(rew[i]) + bootstrap, abs=1e-5)
    assert not y.requires_grad
    assert torch.allclose(y[term == 1], rew[term == 1])                 # terminal: y = r


def test_td3_targets_clip_and_min_match_a_plain_reference():
    actor, critic = _nets(n_critics=2)
    rew, nxt, term = _transitions(B=40)
    gamma, sigma, c = 0.99, 0.8, 0.3                                  # σ > c: the clip is active
    y = ddpg_targets(actor, critic, rew, nxt, term, gamma, target_noise=sigma,
                     target_noise_clip=c, generator=torch.Generator().manual_seed(5))
    eps = torch.randn((40, 2), generator=torch.Generator().manual_seed(5)) * sigma   # same draws
    assert (eps.abs() > c).any() and (eps.abs() < c).any()
    used_min_of_two = False
    for i in range(40):
        a = torch.tanh(actor.net(nxt[i])).detach()
        a = torch.tensor([min(1.0, max(-1.0, float(a[j]) + min(c, max(-c, float(eps[i, j])))))
                          for j in range(2)])
        q1, q2 = (_q_single(critic.nets[k], nxt[i], a) for k in range(2))
        used_min_of_two |= q2 < q1
        ref = float(rew[i]) + (0.0 if term[i] else gamma * min(q1, q2))
        assert float(y[i]) == pytest.approx(ref, abs=1e-5)
    assert used_min_of_two                                     # the second critic mattered
