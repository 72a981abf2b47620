"""rlnotes.tabular: Q-learning and SARSA against exact answers.

References: Q* from rlnotes.mdp.value_iteration (an independent dynamic-programming solver) on
tiny MDPs written as toy-text style envs; the closed forms 1/(1 - γ) vs 1 for a step that is
truncated vs terminated; Sutton & Barto's cliff-walking example 6.6 (Q-learning's greedy path
is the optimal one along the cliff, SARSA's is a safer one, and SARSA's online returns are
higher with ε = 0.1).
"""
import gymnasium as gym
import numpy as np
import pytest

from rlnotes.mdp import TabularMDP, q_from_v, value_iteration
from rlnotes.tabular import epsilon_greedy, greedy_rollout, linear_schedule, q_learning, sarsa


class TableEnv(gym.Env):
    """A toy-text style env from a table P[s][a] = [(prob, s2, reward, terminated), ...]."""

    def __init__(self, table, n_states, n_actions, start=0):
        self.P = table
        self.observation_space = gym.spaces.Discrete(n_states)
        self.action_space = gym.spaces.Discrete(n_actions)
        self.start = start

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.s = self.start
        return self.s, {}

    def step(self, a):
        outcomes = self.P[self.s][a]
        i = self.np_random.choice(len(outcomes), p=[o[0] for o in outcomes])
        _, self.s, r, term = outcomes[i]
        return self.s, r, term, False, {}


def chain(slip=0.0):
    """States 0, 1, 2 (terminal); action 1 moves right, 0 moves left (with prob `slip` the move
    is reversed). Reward -1 per step, +10 for entering state 2."""
    table = {}
    for s in range(3):
        table[s] = {}
        for a in range(2):
            if s == 2:
                table[s][a] = [(1.0, 2, 0.0, True)]
                continue
            outs = {}
            for move, p in ((1 if a == 1 else -1, 1 - slip), (-1 if a == 1 else 1, slip)):
                if p == 0:
                    continue
                s2 = min(max(s + move, 0), 2)
                outs[s2] = outs.get(s2, 0.0) + p
            table[s][a] = [(p, s2, 10.0 if s2 == 2 else -1.0, s2 == 2) for s2, p in outs.items()]
    return TableEnv(table, 3, 2)


def q_star(env, gamma):
    mdp = TabularMDP.from_gymnasium(env, gamma=gamma)
    V, _ = value_iteration(mdp)
    return mdp, q_from_v(mdp, V)


def test_q_learning_is_exact_on_a_deterministic_mdp():
    env = gym.wrappers.TimeLimit(chain(), max_episode_steps=50)
    mdp, Qs = q_star(env, 0.9)
    res = q_learning(env, 300, alpha=1.0, alpha_power=0.0, gamma=0.9, epsilon=1.0, seed=0)
    nonterm = ~mdp.terminal
    np.testing.assert_allclose(res.Q[nonterm], Qs[nonterm], atol=1e-6)
    assert res.visits[nonterm].min() > 0 and res.visits[2].sum() == 0    # terminal: never updated


def test_q_learning_converges_on_a_stochastic_mdp():
    env = gym.wrappers.TimeLimit(chain(slip=0.3), max_episode_steps=50)
    mdp, Qs = q_star(env, 0.9)
    res = q_learning(env, 4000, alpha=1.0, alpha_power=0.6, gamma=0.9, epsilon=1.0, seed=1)
    err = np.abs(res.Q - Qs)[~mdp.terminal].max()
    # Q*(0, ·) ≈ 3..6; with ~10^4 visits per pair the noise of 1/n^0.6 steps is ~0.05
    assert err < 0.2, err
    # a constant large step keeps fluctuating: its error is clearly bigger
    noisy = q_learning(env, 4000, alpha=0.9, alpha_power=0.0, gamma=0.9, epsilon=1.0, seed=1)
    assert np.abs(noisy.Q - Qs)[~mdp.terminal].max() > 2 * err


class OneState(gym.Env):
    """One state, one action, reward 1 per step; `terminates` decides how the step ends."""

    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(1)

    def __init__(self, terminates):
        self.terminates = terminates

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, a):
        return 0, 1.0, self.terminates, False, {}


@pytest.mark.parametrize("algo", [q_learning, sarsa])
def test_truncation_bootstraps_termination_does_not(algo):
    gamma = 0.5
    # cut by a time limit after every step: the state is not terminal, Q = 1 + γQ = 1/(1 − γ)
    truncated = gym.wrappers.TimeLimit(OneState(terminates=False), max_episode_steps=1)
    res = algo(truncated, 200, alpha=1.0, alpha_power=0.0, gamma=gamma, epsilon=0.0, seed=0)
    assert res.lengths.max() == 1
    assert res.Q[0, 0] == pytest.approx(1 / (1 - gamma), abs=1e-9)       # 2, not 1
    # terminated after every step: nothing follows, Q = r = 1
    terminated = OneState(terminates=True)
    res = algo(terminated, 200, alpha=1.0, alpha_power=0.0, gamma=gamma, epsilon=0.0, seed=0)
    assert res.Q[0, 0] == pytest.approx(1.0)


def test_sarsa_vs_q_learning_on_the_cliff():
    """Sutton & Barto (2018), Example 6.6: α = 0.5, ε = 0.1, γ = 1, 500 episodes."""
    kw = dict(alpha=0.5, alpha_power=0.0, gamma=1.0, epsilon=0.1, seed=0)
    q = q_learning("CliffWalking-v1", 500, **kw)
    s = sarsa("CliffWalking-v1", 500, **kw)
    q_states, _, q_ret = greedy_rollout("CliffWalking-v1", q.Q)
    s_states, _, s_ret = greedy_rollout("CliffWalking-v1", s.Q)
    assert q_ret == -13                                   # the optimal path along the cliff
    assert min(st // 12 for st in q_states) == 2          # never higher than the row above it
    assert s_ret <= -15                                   # a longer, safer path ...
    assert min(st // 12 for st in s_states) <= 1          # ... at least two rows from the cliff
    # online (exploring) performance: SARSA falls off the cliff less often
    assert s.returns[100:].mean() > q.returns[100:].mean() + 5


def test_epsilon_greedy_probabilities_and_ties():
    rng = np.random.default_rng(0)
    Q = np.array([[0.0, 1.0, 0.5, 1.0]])                # actions 1 and 3 tie for the max
    eps, n = 0.2, 20_000
    counts = np.bincount([epsilon_greedy(Q, 0, eps, rng) for _ in range(n)], minlength=4) / n
    expected = np.array([eps / 4, (1 - eps) / 2 + eps / 4, eps / 4, (1 - eps) / 2 + eps / 4])
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(counts - expected) < 5 * se), (counts, expected)


def test_linear_schedule():
    f = linear_schedule(1.0, 0.1, 10)
    assert f(0) == 1.0 and f(5) == pytest.approx(0.55) and f(10) == pytest.approx(0.1)
    assert f(1000) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        linear_schedule(1.0, 0.0, 0)


def test_same_seed_same_result_and_errors():
    a = q_learning("FrozenLake-v1", 200, seed=3)
    b = q_learning("FrozenLake-v1", 200, seed=3)
    np.testing.assert_array_equal(a.Q, b.Q)
    np.testing.assert_array_equal(a.returns, b.returns)
    with pytest.raises(ValueError, match="DQN"):
        q_learning("CartPole-v1", 10)
    with pytest.raises(ValueError, match="step size"):
        q_learning("FrozenLake-v1", 10, alpha=0.0)
    with pytest.raises(ValueError, match="epsilon"):
        sarsa("FrozenLake-v1", 10, epsilon=1.5)
    with pytest.raises(ValueError, match=r"Q0 must have shape \(S, A\) = \(16, 4\)"):
        q_learning("FrozenLake-v1", 10, Q0=np.zeros((4, 4)))
