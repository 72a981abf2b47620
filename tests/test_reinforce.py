"""rlnotes.algos.reinforce: the weights it uses, determinism, a short learning test, bad input.

The full performance bar (greedy return >= 475 on CartPole-v1) is measured by
``python -m rlnotes bench reinforce``, not here.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlnotes.algos import TrainResult, reinforce
from rlnotes.rollout import EpisodeBatch, evaluate


def small_batch():
    """Two hand-made episodes: one terminated (T=3), one truncated (T=2)."""
    return EpisodeBatch(
        obs=[np.zeros((3, 1)), np.ones((2, 1))],
        actions=[np.zeros(3, np.int64), np.zeros(2, np.int64)],
        rewards=[np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0])],
        terminated=np.array([True, False]), truncated=np.array([False, True]),
        final_obs=np.array([[5.0], [7.0]]), env_index=np.array([0, 1]))


def test_policy_weights_are_returns_or_reward_to_go():
    b, g = small_batch(), 0.5
    R0, R1 = 1 + g * 2 + g**2 * 3, 10 + g * 20                       # R(τ) = Σ_t γ^t r_t
    np.testing.assert_allclose(reinforce.policy_weights(b, g, False), [R0, R0, R0, R1, R1])
    np.testing.assert_allclose(reinforce.policy_weights(b, g, True),  # R̂_t = Σ_{t'≥t} γ^{t'−t} r_t'
                               [1 + g * 2 + g**2 * 3, 2 + g * 3, 3, 10 + g * 20, 20])
    assert reinforce.batch_mean_return(b, g) == pytest.approx((R0 + R1) / 2)  # per episode, not per step


def test_value_targets_bootstrap_only_after_truncation():
    b, g = small_batch(), 0.5
    v = lambda obs: 100.0 * np.asarray(obs)[:, 0]                    # V(o_T) = 100 · o_T
    plain = reinforce.value_targets(b, g)
    np.testing.assert_allclose(plain, reinforce.policy_weights(b, g, True))
    boot = reinforce.value_targets(b, g, value_fn=v)
    np.testing.assert_allclose(boot[:3], plain[:3])                  # terminated: no bootstrap
    np.testing.assert_allclose(boot[3:], plain[3:] + np.array([g**2, g]) * 700.0)   # + γ^{T−t} V(o_T)


def test_fit_value_reduces_the_regression_error():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    x = torch.linspace(-1, 1, 64).unsqueeze(-1)
    y = 3 * x.squeeze(-1) ** 2
    def error():
        with torch.no_grad():
            return float(((net(x).squeeze(-1) - y) ** 2).mean())
    before = error()
    reinforce.fit_value(net, torch.optim.Adam(net.parameters(), lr=0.02), x, y, iters=300)
    assert error() < 0.05 * before


def short(seed, **kw):
    cfg = reinforce.Config(batch_steps=1000, n_envs=4, **kw)
    return reinforce.train("CartPole-v1", cfg, seed=seed, total_steps=3000, progress=False)


def test_same_seed_same_history_and_weights():
    a, b, c = short(3), short(3), short(4)
    assert isinstance(a, TrainResult) and len(a.history) > 10
    assert [h[:2] for h in a.history] == [h[:2] for h in b.history]  # (env_step, return): identical
    for p, q in zip(a.agent.parameters(), b.agent.parameters()):
        assert torch.equal(p, q)
    assert [h[:2] for h in a.history] != [h[:2] for h in c.history]
    steps = a.steps
    assert (np.diff(steps) > 0).all() and steps[-1] >= 3000 and steps[-1] == a.stats["env_steps"]
    assert (np.diff(a.wall) >= 0).all() and a.wall[-1] <= a.wall_time


@pytest.mark.parametrize("kw", [dict(reward_to_go=False, baseline="none"),
                                dict(reward_to_go=True, baseline="mean"),
                                dict(reward_to_go=False, baseline="mean"),
                                dict(reward_to_go=False, baseline="value", normalize_advantages=False)])
def test_variants_of_the_variance_chapter_run(kw):
    result = short(0, **kw)
    assert result.config.baseline == kw["baseline"] and len(result.history) > 10


@pytest.mark.slow                                  # a learning run
def test_learns_cartpole_in_a_few_seconds():
    result = reinforce.train("CartPole-v1", seed=0, total_steps=30_000, progress=False)
    last = result.returns[-20:]
    # a uniformly random policy averages ~22 (standard error of a 20-episode mean ≈ 3)
    assert last.mean() > 50, f"mean training return of the last 20 episodes: {last.mean():.1f}"
    returns = evaluate(result.agent, "CartPole-v1", n_episodes=5, seed=123)
    assert returns.mean() > 40


def test_continuous_actions_get_a_gaussian_policy():
    result = reinforce.train("Pendulum-v1", reinforce.Config(batch_steps=400, n_envs=2), seed=0,
                             total_steps=800, progress=False)
    assert type(result.agent).__name__ == "DiagGaussianPolicy" and len(result.history) == 4


class NaNRewardEnv(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), float("nan"), True, False, {}


gym.register("rlnotes-test/NaNReward-v0", entry_point=NaNRewardEnv)


@pytest.mark.filterwarnings("ignore:.*NaN")
def test_nan_rewards_raise_a_clear_error():
    """NaN rewards are caught before they reach a return or a loss, naming the environment as
    the cause."""
    with pytest.raises(ValueError, match=r"NaN-?Reward.*NaN or inf.*Check the environment"):
        reinforce.train("rlnotes-test/NaNReward-v0", reinforce.Config(batch_steps=8, n_envs=2),
                        total_steps=16, progress=False)


def test_bad_train_arguments_raise():
    """(Bad Config values and budgets: tests/test_config.py.)"""
    with pytest.raises(TypeError, match="Config"):
        reinforce.train("CartPole-v1", config={"lr": 0.01}, progress=False)
    with pytest.raises(ValueError, match="CartPole-v1"):
        reinforce.train("CartPol-v1", total_steps=100, progress=False)
