"""rlnotes.algos.dqn: the loss against hand formulas, the agent, errors, determinism, learning.

(The targets, rlnotes.returns.dqn_targets and double_dqn_targets, are tested in
tests/test_returns.py; the target network's update, rlnotes.policies.polyak_update, in
tests/test_policies.py.)

The full performance bar (greedy return >= 475 on CartPole-v1 on 4 of 5 seeds) is measured by
``python -m rlnotes bench dqn``, not here.
"""

import numpy as np
import pytest
import torch

from rlnotes.algos import TrainResult, dqn
from rlnotes.buffers import ReplayBatch
from rlnotes.rollout import evaluate
from rlnotes.tasks import EVAL_EPISODES, eval_seed, selection_seed
from tests.qtables import ONLINE, TARGET, TableQ


def test_loss_is_huber_of_the_td_error_and_only_moves_the_online_net():
    gamma = 0.5
    online, target = TableQ(ONLINE), TableQ(TARGET)
    batch = ReplayBatch(torch.tensor([[0.0], [1.0]]), torch.tensor([1, 2]), torch.tensor([0.0, 10.0]),
                        torch.tensor([[2.0], [0.0]]), torch.tensor([0.0, 0.0]))
    loss, q_taken = dqn.dqn_loss(online, target, batch, gamma, loss="huber")
    np.testing.assert_allclose(q_taken.detach().numpy(), [5.0, 3.0])
    y = np.array([0.0 + gamma * 3.0, 10.0 + gamma * 7.0])
    d = y - np.array([5.0, 3.0])                                        # -3.5, 10.5
    huber = np.where(np.abs(d) <= 1, 0.5 * d**2, np.abs(d) - 0.5)
    assert float(loss.detach()) == pytest.approx(huber.mean())
    mse, _ = dqn.dqn_loss(online, target, batch, gamma, loss="mse")
    assert float(mse.detach()) == pytest.approx((d**2).mean())
    loss.backward()
    assert online.table.grad is not None and target.table.grad is None   # θ⁻ gets no gradient


def test_agent_greedy_and_epsilon():
    net = TableQ(ONLINE)
    agent = dqn.DQNAgent(net, 3, epsilon=0.0, rng=np.random.default_rng(0))
    obs = np.array([[0.0], [1.0], [2.0]])
    np.testing.assert_array_equal(agent.act(obs), [1, 2, 1])
    assert agent.act(np.array([1.0])) == 2 and isinstance(agent.act(np.array([1.0])), int)
    agent.epsilon = 1.0
    acts = np.concatenate([agent.act(obs) for _ in range(2000)])
    assert set(np.unique(acts)) == {0, 1, 2}                           # uniform when ε = 1
    np.testing.assert_array_equal(agent.act(obs, deterministic=True), [1, 2, 1])
    agent.epsilon = 0.3                                                # P(greedy) = 0.7 + 0.1
    frac = np.mean([agent.act(np.array([0.0])) == 1 for _ in range(4000)])
    assert abs(frac - 0.8) < 5 * np.sqrt(0.8 * 0.2 / 4000)


def test_errors():
    with pytest.raises(ValueError, match=r"DQN supports Discrete action spaces only.*DDPG \(rlnotes.algos.ddpg"):
        dqn.train("Pendulum-v1", dqn.Config(total_steps=100, learning_starts=128), progress=False)
    with pytest.raises(ValueError, match="tabular"):
        dqn.train("FrozenLake-v1", dqn.Config(total_steps=100, learning_starts=128), progress=False)
    with pytest.raises(TypeError, match="Config"):
        dqn.train("CartPole-v1", config={"lr": 1e-3})


def short(seed, **kw):
    cfg = dqn.Config(learning_starts=500, target_update_interval=100, **kw)
    return dqn.train("CartPole-v1", cfg, seed=seed, total_steps=2000, progress=False)


def test_same_seed_same_history_and_weights():
    a, b, c = short(3), short(3), short(4)
    assert isinstance(a, TrainResult) and len(a.history) > 20
    assert [h[:2] for h in a.history] == [h[:2] for h in b.history]
    for p, q in zip(a.agent.q_net.parameters(), b.agent.q_net.parameters()):
        assert torch.equal(p, q)
    assert [h[:2] for h in a.history] != [h[:2] for h in c.history]
    assert (np.diff(a.steps) > 0).all() and a.stats["env_steps"] == 2000
    # update phases after learning_starts + k * train_freq env steps, gradient_steps each
    config = dqn.Config()
    assert a.stats["gradient_steps"] == (2000 - 500) // config.train_freq * config.gradient_steps
    assert a.stats["target_updates"] == a.stats["gradient_steps"] // 100


def test_vector_envs_and_double_dqn_run():
    r = short(0, n_envs=4, double_dqn=True, tau=0.5)
    assert r.stats["env_steps"] == 2000 and np.isfinite(r.stats["final_loss"])


@pytest.mark.slow                                  # a learning run
def test_short_run_learns():
    """15k steps of the default Config: far above a random policy (~22), though not yet solved."""
    r = dqn.train("CartPole-v1", seed=0, total_steps=15_000, progress=False)
    returns = evaluate(r.agent, "CartPole-v1", n_episodes=10, seed=1000)
    assert returns.mean() > 100, returns


def test_a_budget_that_ends_before_the_first_update_warns():
    config = dqn.Config()
    with pytest.warns(UserWarning, match="untrained agent. Raise total_steps or lower learning_starts"):
        r = dqn.train("CartPole-v1", total_steps=config.learning_starts, progress=False)
    assert r.stats["gradient_steps"] == 0                    # the warning was right


def test_train_returns_the_best_greedy_evaluation_and_evaluating_changes_nothing_else():
    plain = short(5, eval_interval=None)
    chosen = short(5, eval_interval=500, eval_episodes=3)
    # the evaluations do not touch the training run: the same episodes, the same step count
    assert [h[:2] for h in plain.history] == [h[:2] for h in chosen.history]
    assert plain.stats["evaluations"] == [] and chosen.stats["env_steps"] == 2000
    steps, scores = zip(*chosen.stats["evaluations"])
    assert steps == (500, 1000, 1500, 2000)                       # every eval_interval and at the end
    # played again, independently, on the same held-out episodes the returned network scores the
    # best evaluation; it is the last network (plain's) only if the last evaluation was the best
    again = evaluate(chosen.agent, "CartPole-v1", n_episodes=3, seed=selection_seed(5))
    assert again.mean() == max(scores)
    same = all(torch.equal(p, q) for p, q in zip(plain.agent.q_net.parameters(), chosen.agent.q_net.parameters()))
    assert same == (scores[-1] == max(scores)), scores
    # and the held-out episodes are none of the benchmark's (training seeds below 99,900)
    assert selection_seed(0) > eval_seed(99_899) + EVAL_EPISODES - 1
