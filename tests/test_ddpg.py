"""rlnotes.algos.ddpg against independent references: plain loops, closed forms, finite
differences, and the statistics of the Ornstein-Uhlenbeck process.

(The critic's targets, rlnotes.returns.ddpg_targets, are tested in tests/test_returns.py; the
target networks' update, rlnotes.policies.polyak_update, in tests/test_policies.py.)"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from rlnotes import evaluate
from rlnotes.algos import ddpg


def _nets(obs_dim=3, act_dim=2, hidden=(16, 16), n_critics=1, seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    actor = ddpg.Actor(obs_dim, act_dim, hidden).to(dtype)
    critic = ddpg.Critic(obs_dim, act_dim, hidden, n_critics).to(dtype)
    return actor, critic


def _batch(B=12, obs_dim=3, act_dim=2, seed=1, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(B, obs_dim, generator=g, dtype=dtype)
    act = torch.rand(B, act_dim, generator=g, dtype=dtype) * 2 - 1
    rew = torch.randn(B, generator=g, dtype=dtype)
    nxt = torch.randn(B, obs_dim, generator=g, dtype=dtype)
    term = (torch.arange(B) % 3 == 0).to(dtype)          # some terminal transitions
    return obs, act, rew, nxt, term


def _q_single(net, s, a):
    """One critic net on one (s, a), by hand: Linear/ReLU layers applied to the concatenation."""
    x = torch.cat([s, a])
    for m in net:
        x = x @ m.weight.T + m.bias if isinstance(m, torch.nn.Linear) else torch.relu(x)
    return float(x[0].detach())


# ------------------------------------------------------------------------ critic loss
def test_critic_loss_is_the_mean_squared_error_summed_over_critics():
    _, critic = _nets(n_critics=2)
    obs, act, rew, _, _ = _batch()
    loss = ddpg.critic_loss(critic, obs, act, rew)
    ref = sum(np.mean([(_q_single(net, obs[i], act[i]) - float(rew[i])) ** 2 for i in range(len(rew))])
              for net in critic.nets)
    assert float(loss.detach()) == pytest.approx(ref, rel=1e-5)


# ------------------------------------------------------------------------ actor gradient
def test_actor_gradient_is_the_chain_rule_and_matches_finite_differences():
    actor, critic = _nets(dtype=torch.float64)
    obs = _batch(dtype=torch.float64)[0]
    loss = ddpg.actor_loss(actor, critic, obs)
    loss.backward()
    grads = [p.grad.clone() for p in actor.parameters()]
    # chain rule: -1/B Σ_i ∇_a Q(s_i, a)|_{a=μ(s_i)} · ∇_θ μ(s_i)
    a = actor(obs).detach().requires_grad_(True)
    dq_da, = torch.autograd.grad(critic(obs, a)[0].sum(), a)                 # (B, d)
    actor.zero_grad()
    mu = actor(obs)
    mu.backward(-dq_da / len(obs))
    for g, p in zip(grads, actor.parameters()):
        assert torch.allclose(g, p.grad, atol=1e-10)
    # finite differences of −J(θ) on a few parameters
    w = actor.net[0].weight
    for (i, j) in [(0, 0), (3, 1), (7, 2)]:
        h = 1e-6
        with torch.no_grad():
            w[i, j] += h
            up = float(ddpg.actor_loss(actor, critic, obs))
            w[i, j] -= 2 * h
            down = float(ddpg.actor_loss(actor, critic, obs))
            w[i, j] += h
        assert (up - down) / (2 * h) == pytest.approx(float(grads[0][i, j]), abs=1e-7)


# ------------------------------------------------------------------------ one update, in the papers' order
def _flat(module):
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _set_flat(module, vector):
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(vector, module.parameters())
    return module


def _reference_update(actor, critic, actor_targ, critic_targ, batch, gamma, lr_q, lr_pi, actor_sees_old_critic=False):
    """Plain gradient descent by hand, in the order of Lillicrap et al. (2016, Algorithm 1):
    φ₁ = φ₀ − α_Q ∇_φ L(φ₀); θ₁ = θ₀ − α_μ ∇_θ(−J) with J through Q_{φ₁} (the chain rule
    ∇_a Q · ∇_θ μ). Returns (φ₁, θ₁, ∇_φ L(φ₀)), flat vectors."""
    obs, act, rew, nxt, term = batch
    with torch.no_grad():
        y = rew + gamma * (1 - term) * critic_targ(nxt, actor_targ(nxt))[0]          # one critic
    critic = copy.deepcopy(critic)
    g_q = torch.autograd.grad(((critic(obs, act)[0] - y) ** 2).mean(), list(critic.parameters()))
    g_q = torch.cat([g.flatten() for g in g_q])
    phi1 = _flat(critic) - lr_q * g_q
    critic_for_actor = critic if actor_sees_old_critic else _set_flat(critic, phi1)
    a = actor(obs).detach().requires_grad_(True)
    dq_da, = torch.autograd.grad(critic_for_actor(obs, a)[0].sum(), a)              # ∇_a Q(s_i, a)
    g_pi = torch.autograd.grad(actor(obs), list(actor.parameters()), grad_outputs=-dq_da / len(obs))
    theta1 = _flat(actor) - lr_pi * torch.cat([g.flatten() for g in g_pi])
    return phi1, theta1, g_q


def test_update_steps_the_critic_then_the_actor_against_the_updated_critic():
    actor, critic = _nets(dtype=torch.float64)
    agent = ddpg.DDPGAgent(actor, critic, np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    actor_targ, critic_targ = (_set_flat(copy.deepcopy(n), _flat(n) + 0.1) for n in (actor, critic))
    theta_targ0, phi_targ0 = _flat(actor_targ), _flat(critic_targ)
    batch = _batch(dtype=torch.float64)
    config = ddpg.Config(tau=0.1)
    lr_q, lr_pi = 0.05, 0.02
    phi1, theta1, g_q = _reference_update(actor, critic, actor_targ, critic_targ, batch, config.gamma, lr_q, lr_pi)
    _, theta1_old_critic, _ = _reference_update(actor, critic, actor_targ, critic_targ, batch, config.gamma,
                                                lr_q, lr_pi, actor_sees_old_critic=True)
    assert not torch.allclose(theta1, theta1_old_critic, atol=1e-6)       # the order is visible
    optimizers = (torch.optim.SGD(critic.parameters(), lr=lr_q), torch.optim.SGD(actor.parameters(), lr=lr_pi))
    loss_q, loss_pi = ddpg.update(agent, (actor_targ, critic_targ), optimizers, batch, config)
    assert torch.allclose(_flat(critic), phi1, atol=1e-12)
    assert torch.allclose(_flat(actor), theta1, atol=1e-12), "the actor must climb the critic just updated"
    # φ's gradient is the critic loss's alone: the actor's loss did not reach it
    assert torch.allclose(torch.cat([p.grad.flatten() for p in critic.parameters()]), g_q, atol=1e-12)
    assert all(p.requires_grad for p in critic.parameters())              # unfrozen again
    # soft updates from the new parameters: φ⁻ ← τφ₁ + (1−τ)φ⁻₀, θ⁻ ← τθ₁ + (1−τ)θ⁻₀
    assert torch.allclose(_flat(critic_targ), 0.1 * phi1 + 0.9 * phi_targ0, atol=1e-12)
    assert torch.allclose(_flat(actor_targ), 0.1 * theta1 + 0.9 * theta_targ0, atol=1e-12)
    assert float(loss_q) > 0 and loss_pi is not None


def test_a_delayed_update_moves_only_the_critic():
    actor, critic = _nets()
    agent = ddpg.DDPGAgent(actor, critic, np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    targets = copy.deepcopy(actor), copy.deepcopy(critic)
    before = [_flat(n) for n in (actor, critic, *targets)]
    optimizers = (torch.optim.Adam(critic.parameters()), torch.optim.Adam(actor.parameters()))
    _, loss_pi = ddpg.update(agent, targets, optimizers, _batch(), ddpg.Config(), update_actor=False)
    after = [_flat(n) for n in (actor, critic, *targets)]
    assert loss_pi is None and not torch.equal(before[1], after[1])
    assert all(torch.equal(b, a) for k, (b, a) in enumerate(zip(before, after)) if k != 1)


# ------------------------------------------------------------------------ make_agent
def test_make_agent_fits_the_env_and_reloads_a_trained_agent():
    from rlnotes.rollout import make_vec_env
    env = make_vec_env("Pendulum-v1", n_envs=1, seed=0)
    config = ddpg.Config(**SMALL, twin_critics=True, noise="ou")
    agent = ddpg.make_agent(env, config, seed=0)
    assert (agent.obs_dim, agent.act_dim) == (3, 1) and len(agent.critic.nets) == 2
    assert isinstance(agent.noise, ddpg.OUNoise)
    assert np.all(agent.low == -2.0) and np.all(agent.high == 2.0)
    trained = ddpg.train("Pendulum-v1", config, seed=0, total_steps=200, progress=False).agent
    obs = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    assert not np.allclose(agent.act(obs, deterministic=True), trained.act(obs, deterministic=True))
    agent.actor.load_state_dict(trained.actor.state_dict())
    agent.critic.load_state_dict(trained.critic.state_dict())
    assert np.array_equal(agent.act(obs, deterministic=True), trained.act(obs, deterministic=True))
    assert np.array_equal(agent.q_value(obs, agent.act(obs, True)), trained.q_value(obs, trained.act(obs, True)))
    with pytest.raises(ValueError, match="DQN.*PPO"):
        ddpg.make_agent(make_vec_env("CartPole-v1", n_envs=1), config)


# ------------------------------------------------------------------------ actions in bounds
def test_scale_action_maps_the_unit_box_onto_the_env_box():
    low, high = np.array([0.0, -3.0]), np.array([1.0, 5.0])
    assert np.allclose(ddpg.scale_action(np.array([-1.0, -1.0]), low, high), low)
    assert np.allclose(ddpg.scale_action(np.array([1.0, 1.0]), low, high), high)
    assert np.allclose(ddpg.scale_action(np.array([0.0, 0.5]), low, high), [0.5, 3.0])
    assert np.allclose(ddpg.scale_action(np.array([7.0, -9.0]), low, high), [1.0, -3.0])   # clipped


def test_agent_actions_stay_in_bounds_and_one_observation_matches_a_batch():
    actor, critic = _nets()
    low, high = np.array([0.0, -3.0], np.float32), np.array([1.0, 5.0], np.float32)
    noise = ddpg.GaussianNoise((2,), 5.0, np.random.default_rng(0))       # huge noise
    agent = ddpg.DDPGAgent(actor, critic, low, high, noise)
    obs = np.random.default_rng(1).normal(size=(50, 3)).astype(np.float32) * 10
    for o in obs:
        a = agent.act(o)
        assert a.shape == (2,) and a.dtype == np.float32 and np.all((a >= low) & (a <= high))
    batch = agent.act(obs)
    assert batch.shape == (50, 2) and np.all((batch >= low) & (batch <= high))
    with torch.no_grad():
        mu = actor(torch.from_numpy(obs)).numpy()
    greedy = np.stack([agent.act(o, deterministic=True) for o in obs])
    assert np.allclose(greedy, low + (mu + 1) / 2 * (high - low), atol=1e-5)
    assert np.allclose(agent.act(obs, deterministic=True), greedy, atol=1e-5)


# ------------------------------------------------------------------------ noise processes
def test_ou_noise_mean_reversion_and_stationary_variance():
    n, theta, sigma, dt, x0 = 20_000, 0.15, 0.3, 1.0, 2.0
    ou = ddpg.OUNoise((n,), sigma, np.random.default_rng(0), theta=theta, dt=dt, x0=np.full(n, x0))
    var_inf = sigma ** 2 / (2 * theta)
    for k in range(1, 11):                                  # E[x_k | x_0] = x_0 e^{−θ k dt}
        x = ou()
        mean, var_k = x0 * math.exp(-theta * k * dt), var_inf * (1 - math.exp(-2 * theta * k * dt))
        assert abs(x.mean() - mean) < 4 * math.sqrt(var_k / n)
    for _ in range(200):                                    # e^{−θ·200} ≈ 1e-13: stationary
        x = ou()
    se = var_inf * math.sqrt(2 / (n - 1))                    # standard error of a sample variance
    assert abs(x.var(ddof=1) - var_inf) < 4 * se
    assert abs(x.mean()) < 4 * math.sqrt(var_inf / n)
    # successive values are correlated: corr(x_k, x_{k+1}) = e^{−θ dt}
    y = ou()
    assert np.corrcoef(x, y)[0, 1] == pytest.approx(math.exp(-theta * dt), abs=4 / math.sqrt(n))
    ou.reset()
    assert np.all(ou.x == x0)


def test_gaussian_noise_statistics():
    g = ddpg.GaussianNoise((100_000,), 0.3, np.random.default_rng(0))
    x = g()
    assert abs(x.mean()) < 4 * 0.3 / math.sqrt(len(x))
    assert abs(x.std() - 0.3) < 4 * 0.3 / math.sqrt(2 * len(x))


# ------------------------------------------------------------------------ training
SMALL = dict(hidden_sizes=(16, 16), batch_size=32, learning_starts=100)


def test_same_seed_same_history():
    cfg = ddpg.Config(**SMALL, noise="ou")
    r1 = ddpg.train("Pendulum-v1", cfg, seed=3, total_steps=600, progress=False)
    r2 = ddpg.train("Pendulum-v1", cfg, seed=3, total_steps=600, progress=False)
    assert len(r1.history) == 3
    assert [h[:2] for h in r1.history] == [h[:2] for h in r2.history]
    assert all(torch.equal(p, q) for p, q in zip(r1.agent.actor.parameters(), r2.agent.actor.parameters()))
    r3 = ddpg.train("Pendulum-v1", cfg, seed=4, total_steps=600, progress=False)
    assert [h[1] for h in r3.history] != [h[1] for h in r1.history]


def test_td3_options_delay_the_actor_and_the_agent_evaluates():
    cfg = ddpg.Config(**SMALL, twin_critics=True, policy_delay=2, target_noise=0.2)
    r = ddpg.train("Pendulum-v1", cfg, seed=0, total_steps=300, progress=False)
    assert r.stats["gradient_steps"] == 201 and r.stats["actor_steps"] == 100
    assert len(r.agent.critic.nets) == 2
    returns = evaluate(r.agent, "Pendulum-v1", n_episodes=2, seed=0)
    assert returns.shape == (2,) and np.all(returns < 0)


def test_bad_inputs_have_clear_messages():
    with pytest.raises(ValueError, match="DQN.*PPO"):
        ddpg.train("CartPole-v1", progress=False)
    with pytest.raises(TypeError, match="ddpg.Config"):
        ddpg.train("Pendulum-v1", config={"lr": 1e-3}, progress=False)
