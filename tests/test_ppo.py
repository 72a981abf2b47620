"""rlnotes.algos.ppo: determinism, a short learning test, both objectives, continuous actions, errors.

The full performance bars (CartPole-v1 greedy return >= 475, Pendulum-v1 >= -200) are measured
by ``python -m rlnotes bench ppo ppo-pendulum``, not here.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rlnotes.algos import TrainResult, ppo
from rlnotes.rollout import evaluate


def short(seed, env_id="CartPole-v1", steps=1024, **kw):
    base = dict(n_envs=4, n_steps=64, n_epochs=2, n_minibatches=4)
    cfg = (ppo.Config.pendulum(**{**base, **kw}) if env_id == "Pendulum-v1"
           else ppo.Config(**{**base, **kw}))
    return ppo.train(env_id, cfg, seed=seed, total_steps=steps, progress=False)


def test_same_seed_same_history_and_weights():
    a, b, c = short(3), short(3), short(4)
    assert isinstance(a, TrainResult) and isinstance(a.agent, ppo.PPOAgent) and len(a.history) > 10
    assert [h[:2] for h in a.history] == [h[:2] for h in b.history]   # (env_step, return): identical
    for p, q in zip(a.agent.parameters(), b.agent.parameters()):
        assert torch.equal(p, q)
    assert [h[:2] for h in a.history] != [h[:2] for h in c.history]
    steps = a.steps
    assert (np.diff(steps) >= 0).all() and steps[-1] <= 1024 == a.stats["env_steps"]
    assert a.stats["iterations"] == 4 and a.stats["grad_steps"] == 4 * 2 * 4
    # finished episodes' lengths sum to at most the steps taken (CartPole: reward 1 per step)
    assert sum(a.returns) <= 1024


@pytest.mark.slow                                  # a learning run
def test_cartpole_learns_in_a_few_seconds():
    random_return = 22.0                                                 # a uniform policy: ≈ 22
    result = ppo.train("CartPole-v1", seed=0, total_steps=16_384, progress=False)
    assert result.returns[:20].mean() < 60
    assert result.returns[-20:].mean() > 5 * random_return, result.returns[-20:]


@pytest.mark.slow                                  # a learning run
def test_kl_objective_adapts_beta_and_learns():
    result = short(0, steps=8192, objective="kl", kl_beta_init=1.0, kl_target=0.01)
    assert result.stats["final_beta"] != 1.0                 # β was halved or doubled
    b = result.stats["final_beta"]
    assert np.log2(b) == round(np.log2(b))                   # β = 2^k: only halving and doubling
    assert result.returns[-20:].mean() > result.returns[:20].mean()


def test_pendulum_gaussian_policy_and_preset():
    result = short(0, "Pendulum-v1", steps=1024, n_epochs=1)            # 4 iterations of 256
    assert result.config.gamma == ppo.Config.pendulum().gamma and result.config.normalize_obs
    assert isinstance(result.agent.obs_norm, ppo.RunningNormalizer)
    assert float(result.agent.obs_norm.count) == pytest.approx(1024, abs=1)
    a = result.agent.act(np.zeros((5, 3), np.float32))
    assert a.shape == (5, 1) and a.dtype == np.float32
    ret = evaluate(result.agent, "Pendulum-v1", n_episodes=2, seed=0)
    assert ret.shape == (2,) and (ret < 0).all()
    assert all(h[0] % 200 == 0 for h in result.history)      # every episode truncated at 200 steps
    # train(env_id) with config=None uses the preset
    preset = ppo.train("Pendulum-v1", seed=0, total_steps=256, progress=False)
    assert preset.config == ppo.Config.pendulum(total_steps=256)
    assert ppo.train("CartPole-v1", seed=0, total_steps=256, progress=False).config == \
        ppo.Config(total_steps=256)


def test_value_clipping_and_entropy_options_run():
    result = short(1, steps=1024, clip_value=True, ent_coef=0.01, anneal_lr=False,
                   max_grad_norm=None, normalize_advantages=False)
    assert len(result.history) > 5 and np.isfinite(result.stats["last_kl"])


def test_bad_input():
    """(Bad Config values and budgets: tests/test_config.py.)"""
    with pytest.raises(TypeError, match="Config"):
        ppo.train("CartPole-v1", config={"lr": 1e-3}, progress=False)


def test_nan_is_caught():
    with pytest.raises(FloatingPointError, match="not finite"):
        short(0, steps=512, lr=1e30)
