"""rlnotes.algos.a2c: the loss, determinism, errors.

(The n-step targets, rlnotes.returns.n_step_returns, are tested in tests/test_returns.py; the
true final observation at a truncation, in tests/test_rollout.py.)

Losses are checked against independent references (plain loops over the batch, torch.distributions
and explicit formulas); the full performance bar (CartPole-v1 greedy return >= 475 on 4 of 5
seeds, faster than SB3's A2C) is measured by ``python -m rlnotes bench a2c --peers``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rlnotes.algos import TrainResult, a2c, a3c
from rlnotes.policies import CategoricalPolicy
from rlnotes.rollout import make_vec_env


def test_a2c_loss_against_plain_loop_and_torch_distributions():
    torch.manual_seed(0)
    B, A = 7, 3
    logits = torch.randn(B, A, requires_grad=True)
    values = torch.randn(B, requires_grad=True)
    actions = torch.randint(A, (B,))
    adv, ret = torch.randn(B), torch.randn(B)
    dist = torch.distributions.Categorical(logits=logits)
    loss, pi_loss, v_loss, ent = a2c.a2c_loss(dist, actions, adv, values, ret, 0.3, 0.02)
    pi_ref = v_ref = h_ref = 0.0
    for i in range(B):
        p = [math.exp(x) for x in logits[i].tolist()]
        p = [x / sum(p) for x in p]
        pi_ref += -adv[i].item() * math.log(p[actions[i]]) / B
        v_ref += 0.5 * (ret[i].item() - values[i].item()) ** 2 / B
        h_ref += -sum(x * math.log(x) for x in p) / B
    assert pi_loss.item() == pytest.approx(pi_ref, rel=1e-5)
    assert v_loss.item() == pytest.approx(v_ref, rel=1e-5)
    assert ent.item() == pytest.approx(h_ref, rel=1e-5)
    assert loss.item() == pytest.approx(pi_ref + 0.3 * v_ref - 0.02 * h_ref, rel=1e-5)
    # gradients: ∂L/∂V_i = c_v (V_i − G_i) / B; advantages and returns are constants
    loss.backward()
    np.testing.assert_allclose(values.grad.numpy(), 0.3 * (values - ret).detach().numpy() / B,
                               rtol=1e-5)
    # the policy gradient of L_π: −Â_i (onehot(a_i) − p_i) / B per logit (softmax score)
    logits2 = logits.detach().clone().requires_grad_(True)
    _, pl, _, _ = a2c.a2c_loss(torch.distributions.Categorical(logits=logits2), actions, adv,
                               values.detach(), ret)
    pl.backward()
    p = torch.softmax(logits2.detach(), -1)
    ref = -(adv[:, None] * (torch.nn.functional.one_hot(actions, A) - p)) / B
    np.testing.assert_allclose(logits2.grad.numpy(), ref.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shared", [False, True])
def test_actor_critic_shapes(shared):
    net = a2c.ActorCritic(4, 2, (8, 8), shared=shared)
    obs = torch.randn(5, 4)
    dist, v = net(obs)
    assert dist.probs.shape == (5, 2) and v.shape == (5,)
    torch.testing.assert_close(net.value(obs), v)
    torch.testing.assert_close(net.distribution(obs).logits, dist.logits)
    a = net.act(obs.numpy())
    assert a.shape == (5,) and a.dtype == np.int64
    assert net.act(obs[0].numpy(), deterministic=True) == dist.probs[0].argmax().item()
    names = {n.split(".")[0] for n, _ in net.named_parameters()}
    assert names == ({"policy", "v_head"} if shared else {"policy", "critic"})
    assert isinstance(net.policy, CategoricalPolicy)                   # π_θ is the book's policy
    torch.testing.assert_close(dist.logits, net.policy.distribution(obs).logits)
    # shared: the critic reads the policy network's last hidden layer, so a change of the body
    # moves V_φ too; separate: the critic does not depend on the policy's parameters
    first = net.policy.logits_net[0]
    v_grad = torch.autograd.grad(net.value(obs).sum(), first.weight, allow_unused=True)[0]
    assert (v_grad is not None and v_grad.abs().sum() > 0) if shared else v_grad is None


def short(seed, steps=2048, **kw):
    cfg = a2c.Config(**{**dict(n_envs=4, n_steps=16), **kw})
    return a2c.train("CartPole-v1", cfg, seed=seed, total_steps=steps, progress=False)


def test_same_seed_same_history():
    a, b, c = short(3), short(3), short(4)
    assert isinstance(a, TrainResult) and isinstance(a.agent, a2c.ActorCritic)
    assert len(a.history) > 20
    assert [h[:2] for h in a.history] == [h[:2] for h in b.history]    # all but the wall column
    for p, q in zip(a.agent.parameters(), b.agent.parameters()):
        assert torch.equal(p, q)
    assert [h[:2] for h in a.history] != [h[:2] for h in c.history]
    assert a.stats["updates"] == 2048 // 64 and a.stats["env_steps"] == 2048
    assert (np.diff(a.steps) >= 0).all() and sum(a.returns) <= 2048


def test_options_run():
    for kw in (dict(shared=True, optimizer="rmsprop", lam=1.0, ent_coef=0.01),
               dict(lam=0.0, anneal_lr=False, max_grad_norm=None, normalize_advantages=False)):
        r = short(0, steps=512, **kw)
        assert len(r.history) > 5 and math.isfinite(r.stats["last_loss"])


@pytest.mark.slow                                  # a learning run
def test_cartpole_learns_quickly():
    result = a2c.train("CartPole-v1", seed=0, total_steps=40_000, progress=False)
    assert result.returns[:20].mean() < 40                             # random policy ≈ 22
    assert result.returns[-20:].mean() > 150, result.returns[-20:]


def test_bad_input():
    """(Bad Config values and budgets: tests/test_config.py.)"""
    with pytest.raises(TypeError, match="Config"):
        a2c.train("CartPole-v1", config={"lr": 1e-3})
    with pytest.raises(ValueError, match="Discrete action spaces only.*ppo"):
        a2c.train("Pendulum-v1", seed=0, total_steps=64, progress=False)
    with pytest.raises(ValueError, match="a2c supports Discrete action spaces only"):
        a2c.make_agent(make_vec_env("MountainCarContinuous-v0", n_envs=1), a2c.Config())
    with pytest.raises(ValueError, match=r"a3c needs a 1-D Box observation space.*FlattenObservation"):
        a2c.make_agent(make_vec_env("FrozenLake-v1", n_envs=1), a3c.Config())
