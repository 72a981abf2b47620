"""Tests of rlnotes.mdp against independent references.

* published tables: Sutton & Barto (2018), Figures 3.2, 3.5 and 4.1;
* closed forms: a one-state MDP, a chain, V*(A) = 10 / (1 - gamma^5) in the 5x5 grid;
* plain Python loops written here, independently of the vectorised code;
* the real gymnasium environments: Monte-Carlo returns of the greedy policy (FrozenLake),
  exact returns of deterministic episodes (CliffWalking, Taxi);
* every ValueError: the message names the problem and the fix.
"""
import re

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlnotes.mdp import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    TabularMDP,
    bellman_expectation_backup,
    bellman_optimality_backup,
    greedy_policy,
    gridworld_4x4,
    gridworld_5x5,
    policy_evaluation,
    policy_iteration,
    q_from_v,
    uniform_random_policy,
    value_iteration,
)

SOLVERS = {"value_iteration": value_iteration, "policy_iteration": policy_iteration}


# --------------------------------------------------------------------------------------------
# Independent references: plain loops
# --------------------------------------------------------------------------------------------
def random_mdp(seed, S=7, A=3, gamma=0.9, reward_per_transition=False, terminal=None):
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S)) ** 3           # some near-zero probabilities
    P /= P.sum(axis=2, keepdims=True)
    R = rng.normal(size=(S, A, S) if reward_per_transition else (S, A))
    return TabularMDP(P, R, gamma, terminal=terminal)


def random_policy_matrix(seed, S, A):
    pi = np.random.default_rng(seed).random((S, A))
    return pi / pi.sum(axis=1, keepdims=True)


def loop_q(mdp, V):
    """Q(s,a) = Σ_s' P(s'|s,a) [r(s,a,s') + γ V(s')], with V(terminal) = 0, in plain loops."""
    S, A = mdp.n_states, mdp.n_actions
    Q = np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            if mdp.terminal[s]:
                continue                       # the episode is over: nothing more to collect
            for s2 in range(S):
                reward = mdp.R[s, a, s2] if mdp.R.ndim == 3 else mdp.R[s, a]
                value = 0.0 if mdp.terminal[s2] else V[s2]
                Q[s, a] += mdp.P[s, a, s2] * (reward + mdp.gamma * value)
    return Q


def loop_expectation_backup(mdp, pi, V):
    Q = loop_q(mdp, V)
    return np.array([sum(pi[s][a] * Q[s][a] for a in range(mdp.n_actions))
                     for s in range(mdp.n_states)])


def loop_iterative_evaluation(mdp, pi, sweeps=2000):
    V = np.zeros(mdp.n_states)
    for _ in range(sweeps):
        V = loop_expectation_backup(mdp, pi, V)
    return V


# --------------------------------------------------------------------------------------------
# Sutton & Barto (2018): Figures 3.2, 3.5, 4.1
# --------------------------------------------------------------------------------------------
FIGURE_3_2 = np.array([[3.3, 8.8, 4.4, 5.3, 1.5],
                       [1.5, 3.0, 2.3, 1.9, 0.5],
                       [0.1, 0.7, 0.7, 0.4, -0.4],
                       [-1.0, -0.4, -0.4, -0.6, -1.2],
                       [-1.9, -1.3, -1.2, -1.4, -2.0]])

FIGURE_3_5 = np.array([[22.0, 24.4, 22.0, 19.4, 17.5],
                       [19.8, 22.0, 19.8, 17.8, 16.0],
                       [17.8, 19.8, 17.8, 16.0, 14.4],
                       [16.0, 17.8, 16.0, 14.4, 13.0],
                       [14.4, 16.0, 14.4, 13.0, 11.7]])

FIGURE_4_1 = np.array([[0, -14, -20, -22],
                       [-14, -18, -20, -20],
                       [-20, -20, -18, -14],
                       [-22, -20, -14, 0]], dtype=float)


def test_figure_3_2_random_policy_on_5x5_grid():
    mdp = gridworld_5x5()
    V = policy_evaluation(mdp, uniform_random_policy(mdp))
    np.testing.assert_allclose(V.reshape(5, 5), FIGURE_3_2, atol=0.05)   # printed to 1 decimal


@pytest.mark.parametrize("solver", SOLVERS)
def test_figure_3_5_optimal_values_on_5x5_grid(solver):
    mdp = gridworld_5x5()
    V, pi = SOLVERS[solver](mdp)
    np.testing.assert_allclose(V.reshape(5, 5), FIGURE_3_5, atol=0.05)
    # V*(A): A -> A' (+10), then 4 moves back up to A at reward 0: V*(A) = 10 + γ^5 V*(A).
    assert V[1] == pytest.approx(10 / (1 - 0.9 ** 5), abs=1e-6)
    assert 10 / (1 - 0.9 ** 5) == pytest.approx(24.419, abs=1e-3)
    # the returned policy is optimal: its own value is V*
    np.testing.assert_allclose(policy_evaluation(mdp, pi), V, atol=1e-6)


def test_5x5_grid_follows_the_rules_of_example_3_5():
    mdp = gridworld_5x5()
    assert mdp.grid_shape == (5, 5) and mdp.n_actions == 4
    assert mdp.action_names == ["left", "down", "right", "up"]
    assert (LEFT, DOWN, RIGHT, UP) == (0, 1, 2, 3)
    for s in range(25):
        row, col = divmod(s, 5)
        for a, (drow, dcol) in enumerate([(0, -1), (1, 0), (0, 1), (-1, 0)]):
            if (row, col) == (0, 1):
                want_next, want_r = 21, 10.0                     # A -> A' = (4, 1)
            elif (row, col) == (0, 3):
                want_next, want_r = 13, 5.0                      # B -> B' = (2, 3)
            elif 0 <= row + drow < 5 and 0 <= col + dcol < 5:
                want_next, want_r = 5 * (row + drow) + col + dcol, 0.0
            else:
                want_next, want_r = s, -1.0
            assert mdp.P[s, a, want_next] == 1.0 and mdp.r[s, a] == want_r, (s, a)


def test_figure_4_1_random_policy_on_4x4_grid_is_exact():
    mdp = gridworld_4x4()
    assert mdp.gamma == 1.0 and np.flatnonzero(mdp.terminal).tolist() == [0, 15]
    V = policy_evaluation(mdp, uniform_random_policy(mdp))
    np.testing.assert_allclose(V.reshape(4, 4), FIGURE_4_1, atol=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_4x4_grid_optimal_values_are_minus_distance_to_nearest_corner(solver):
    mdp = gridworld_4x4()
    V, pi = SOLVERS[solver](mdp)                     # γ = 1; PI starts from "always LEFT"
    want = [-min(r + c, (3 - r) + (3 - c)) for r in range(4) for c in range(4)]
    np.testing.assert_allclose(V, want, atol=1e-9)
    np.testing.assert_allclose(policy_evaluation(mdp, pi), want, atol=1e-9)


# --------------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99])
def test_one_state_mdp_has_value_r_over_one_minus_gamma(gamma):
    r = 2.5
    mdp = TabularMDP(np.ones((1, 1, 1)), [[r]], gamma)
    want = r / (1 - gamma)                            # V = r + γ V
    assert policy_evaluation(mdp, [0])[0] == pytest.approx(want, rel=1e-9)
    assert value_iteration(mdp, tol=1e-12)[0][0] == pytest.approx(want, rel=1e-8)
    assert policy_iteration(mdp)[0][0] == pytest.approx(want, rel=1e-9)
    assert q_from_v(mdp, [want])[0, 0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("gamma", [0.8, 1.0])
def test_chain_values(gamma):
    """States 0 -> 1 -> ... -> n-1 (terminal), reward 1 per step; action 1 stays put at reward 0.

    V*(s) = Σ_{k=0}^{n-2-s} γ^k = (1 - γ^{n-1-s}) / (1 - γ)   (= n - 1 - s for γ = 1).
    """
    n = 6
    P = np.zeros((n, 2, n))
    R = np.zeros((n, 2))
    for s in range(n - 1):
        P[s, 0, s + 1], R[s, 0] = 1.0, 1.0            # step right, +1
        P[s, 1, s] = 1.0                              # wait, 0
    mdp = TabularMDP(P, R, gamma, terminal=[n - 1])   # the terminal row of P is left all zero
    steps = n - 1 - np.arange(n)
    want = steps.astype(float) if gamma == 1.0 else (1 - gamma ** steps) / (1 - gamma)
    np.testing.assert_allclose(policy_evaluation(mdp, np.zeros(n, dtype=int)), want, atol=1e-12)
    for solver in SOLVERS.values():
        V, pi = solver(mdp)
        np.testing.assert_allclose(V, want, atol=1e-9)
        assert (pi[:-1] == 0).all()
    if gamma == 1.0:                                  # "always wait" never terminates
        with pytest.raises(ValueError, match="diverge"):
            policy_evaluation(mdp, np.ones(n, dtype=int))


# --------------------------------------------------------------------------------------------
# Vectorised code vs plain loops on random MDPs
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("per_transition", [False, True])
@pytest.mark.parametrize("terminal", [None, [2, 5]])
def test_q_from_v_and_greedy_policy_match_plain_loops(per_transition, terminal):
    mdp = random_mdp(0, reward_per_transition=per_transition, terminal=terminal)
    V = np.random.default_rng(1).normal(size=mdp.n_states)
    Q_ref = loop_q(mdp, V)
    np.testing.assert_allclose(q_from_v(mdp, V), Q_ref, atol=1e-12)
    greedy_ref = [max(range(mdp.n_actions), key=lambda a: Q_ref[s][a]) for s in range(mdp.n_states)]
    if terminal is not None:                          # all actions tie at terminal states: 0
        greedy_ref = [0 if s in terminal else g for s, g in enumerate(greedy_ref)]
    assert greedy_policy(mdp, V).tolist() == greedy_ref
    assert np.allclose(bellman_optimality_backup(mdp, V), Q_ref.max(axis=1), atol=1e-12)


@pytest.mark.parametrize("terminal", [None, [0, 4]])
def test_policy_evaluation_matches_iterated_plain_loop_backup(terminal):
    mdp = random_mdp(2, S=6, A=3, gamma=0.9, reward_per_transition=True, terminal=terminal)
    pi = random_policy_matrix(3, mdp.n_states, mdp.n_actions)
    V_ref = loop_iterative_evaluation(mdp, pi, sweeps=400)    # 0.9^400 ≈ 5e-19
    V = policy_evaluation(mdp, pi)
    np.testing.assert_allclose(V, V_ref, atol=1e-10)
    np.testing.assert_allclose(bellman_expectation_backup(mdp, pi, V), V, atol=1e-10)
    W = np.random.default_rng(4).normal(size=mdp.n_states)
    np.testing.assert_allclose(bellman_expectation_backup(mdp, pi, W),
                               loop_expectation_backup(mdp, pi, W), atol=1e-12)


def test_deterministic_policy_is_its_one_hot_matrix():
    mdp = random_mdp(5)
    actions = np.array([0, 2, 1, 1, 0, 2, 2])
    one_hot = np.eye(mdp.n_actions)[actions]
    np.testing.assert_allclose(policy_evaluation(mdp, actions), policy_evaluation(mdp, one_hot))
    V = np.arange(mdp.n_states, dtype=float)
    np.testing.assert_allclose(bellman_expectation_backup(mdp, actions, V),
                               q_from_v(mdp, V)[np.arange(mdp.n_states), actions])


@pytest.mark.parametrize("seed", [6, 7])
def test_optimal_values_are_the_bellman_optimality_fixed_point(seed):
    for mdp in (gridworld_5x5(), random_mdp(seed, terminal=[3]), gridworld_4x4()):
        V, pi = value_iteration(mdp)
        np.testing.assert_allclose(bellman_optimality_backup(mdp, V), V, atol=1e-9)   # T*V* = V*
        V_pi, pi_pi = policy_iteration(mdp)
        np.testing.assert_allclose(V_pi, V, atol=1e-8)
        np.testing.assert_allclose(bellman_optimality_backup(mdp, V_pi), V_pi, atol=1e-9)
        # no policy beats V* anywhere: check against a few random policies
        for k in range(3):
            if mdp.gamma < 1:
                other = random_policy_matrix(100 + k, mdp.n_states, mdp.n_actions)
                assert np.all(policy_evaluation(mdp, other) <= V + 1e-8)


# --------------------------------------------------------------------------------------------
# Terminal states and ties
# --------------------------------------------------------------------------------------------
def test_terminal_states_are_absorbing_with_value_zero():
    S, A = 4, 2
    P = np.zeros((S, A, S))
    P[:, :, 3] = 1.0                                   # everything leads to state 3 ...
    P[3, :, :] = [0.5, 0.5, 0.0, 0.0]                  # ... whose own row leads elsewhere,
    R = np.ones((S, A))
    R[3] = 100.0                                       # with a large reward: must be ignored
    P_in, R_in = P.copy(), R.copy()
    mdp = TabularMDP(P, R, gamma=1.0, terminal=[3])
    np.testing.assert_array_equal(P, P_in)             # the caller's arrays are not modified
    np.testing.assert_array_equal(R, R_in)
    np.testing.assert_array_equal(mdp.P[3], np.tile([0, 0, 0, 1.0], (A, 1)))   # self-loop
    np.testing.assert_array_equal(mdp.r[3], 0.0)
    np.testing.assert_allclose(value_iteration(mdp)[0], [1, 1, 1, 0])
    # a V given with a value at the terminal state: read as 0 (the value of the end)
    V = np.array([0.0, 0.0, 0.0, 50.0])
    np.testing.assert_allclose(bellman_optimality_backup(mdp, V), [1, 1, 1, 0])
    np.testing.assert_allclose(q_from_v(mdp, V), [[1, 1]] * 3 + [[0, 0]])
    with pytest.raises(ValueError, match="read-only"):
        mdp.P[0, 0, 0] = 1.0


def test_greedy_policy_breaks_ties_to_the_lowest_action_despite_round_off():
    S, A = 2, 3
    P = np.zeros((S, A, S))
    P[:, :, 1] = 1.0
    R = np.array([[1.0, 1.0 + 1e-13, 1.0], [0, 0, 0]])       # a round-off "preference" for 1
    mdp = TabularMDP(P, R, 0.5, terminal=[1])
    assert greedy_policy(mdp, np.zeros(S))[0] == 0
    R[0, 2] = 1.001                                           # a real preference for 2
    assert greedy_policy(TabularMDP(P, R, 0.5, terminal=[1]), np.zeros(S))[0] == 2


def test_policy_iteration_from_a_given_initial_policy():
    mdp = gridworld_4x4()                    # γ = 1: pi0 must reach a terminal state
    pi0 = np.array([UP if col == 0 else LEFT for row in range(4) for col in range(4)])
    V, pi = policy_iteration(mdp, pi0=pi0)
    np.testing.assert_allclose(V, value_iteration(mdp)[0], atol=1e-9)
    mdp5 = gridworld_5x5()
    V5, _ = policy_iteration(mdp5, pi0=np.full(25, RIGHT))
    np.testing.assert_allclose(V5, value_iteration(mdp5)[0], atol=1e-8)
    with pytest.raises(ValueError, match="pi0 must be a deterministic policy"):
        policy_iteration(mdp5, pi0=uniform_random_policy(mdp5))


# --------------------------------------------------------------------------------------------
# gymnasium toy-text environments
# --------------------------------------------------------------------------------------------
def test_frozen_lake_arrays():
    env = gym.make("FrozenLake-v1")                    # 4x4, slippery
    mdp = TabularMDP.from_gymnasium(env, gamma=0.99)
    desc = env.unwrapped.desc
    assert mdp.grid_shape == desc.shape == (4, 4)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0, atol=1e-12)
    holes_and_goal = np.isin(desc.ravel(), [b"H", b"G"])
    np.testing.assert_array_equal(mdp.terminal, holes_and_goal)
    np.testing.assert_array_equal(mdp.rho0, (desc.ravel() == b"S").astype(float))
    # slipping LEFT or UP in the top-left corner both bump into a wall: merged to 2/3
    assert mdp.P[0, LEFT, 0] == pytest.approx(2 / 3) and mdp.P[0, LEFT, 4] == pytest.approx(1 / 3)
    # reward 1 only for entering the goal: from cell 14, RIGHT reaches the goal with prob 1/3
    assert mdp.r[14, RIGHT] == pytest.approx(1 / 3)
    assert mdp.r[mdp.terminal].sum() == 0.0


def test_frozen_lake_optimal_value_matches_monte_carlo_in_the_real_env():
    """V*(start) vs the mean discounted return of the greedy policy over 3000 seeded episodes."""
    gamma, n_episodes = 0.99, 3000
    env = gym.make("FrozenLake-v1", max_episode_steps=2000)   # γ^2000 ≈ 2e-9: no truncation bias
    mdp = TabularMDP.from_gymnasium(env, gamma=gamma)
    V, pi = value_iteration(mdp)
    returns = np.zeros(n_episodes)
    obs, _ = env.reset(seed=2024)
    for episode in range(n_episodes):
        if episode:
            obs, _ = env.reset()
        discount, done = 1.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(pi[obs]))
            returns[episode] += discount * reward
            discount *= gamma
            done = terminated or truncated
    standard_error = returns.std(ddof=1) / np.sqrt(n_episodes)
    v_start = float(mdp.rho0 @ V)
    assert abs(returns.mean() - v_start) < 4 * standard_error, (returns.mean(), v_start)
    assert 0.4 < v_start < 0.7                      # and the test can tell them apart (SE ≈ 0.006)


@pytest.mark.parametrize("env_id, kwargs", [("FrozenLake-v1", {"is_slippery": False}),
                                            ("FrozenLake8x8-v1", {"is_slippery": False}),
                                            ("CliffWalking-v1", {})])
def test_grid_metadata_matches_the_env_moves(env_id, kwargs):
    """action_deltas must say where each action goes (the two envs order their actions differently)."""
    env = gym.make(env_id, **kwargs)
    mdp = TabularMDP.from_gymnasium(env, gamma=0.9)
    rows, cols = mdp.grid_shape
    assert len(mdp.action_names) == mdp.n_actions == 4
    for s in np.flatnonzero(~mdp.terminal):
        row, col = divmod(int(s), cols)
        for a, (drow, dcol) in enumerate(mdp.action_deltas):
            target = (min(max(row + drow, 0), rows - 1), min(max(col + dcol, 0), cols - 1))
            s2 = int(np.argmax(mdp.P[s, a]))
            if "Cliff" in env_id and target[0] == 3 and 0 < target[1] < cols - 1:
                assert s2 == 36                                 # the cliff sends you back to start
            else:
                assert divmod(s2, cols) == target, (s, a, mdp.action_names[a])


@pytest.mark.parametrize("solver", SOLVERS)
def test_cliff_walking_optimal_path_along_the_edge(solver):
    env = gym.make("CliffWalking-v1")
    mdp = TabularMDP.from_gymnasium(env, gamma=1.0)
    assert np.flatnonzero(mdp.terminal).tolist() == [47]
    assert mdp.action_names == ["up", "right", "down", "left"]
    V, pi = SOLVERS[solver](mdp)
    assert float(mdp.rho0 @ V) == pytest.approx(-13.0, abs=1e-9)
    obs, _ = env.reset(seed=0)                                 # deterministic: one episode
    total, steps, done = 0.0, 0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(int(pi[obs]))
        total, steps, done = total + reward, steps + 1, terminated or truncated
    assert (total, steps) == (-13.0, 13)


def test_taxi_optimal_values_equal_the_returns_of_real_episodes():
    env = gym.make("Taxi-v4")
    mdp = TabularMDP.from_gymnasium(env, gamma=1.0)
    assert (mdp.n_states, mdp.n_actions) == (500, 6) and mdp.terminal.sum() == 4
    np.testing.assert_array_equal(mdp.rho0, env.unwrapped.initial_state_distrib)
    V, pi = value_iteration(mdp)
    for seed in range(5):                                      # the dry Taxi is deterministic
        obs, _ = env.reset(seed=seed)
        start, total, done = obs, 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(pi[obs]))
            total, done = total + reward, terminated or truncated
        assert terminated and total == pytest.approx(V[start], abs=1e-9)


def test_from_gymnasium_rejects_envs_without_a_table():
    with pytest.raises(ValueError, match=r"env\.unwrapped\.P.*Supported: FrozenLake-v1.*Taxi-v4"):
        TabularMDP.from_gymnasium(gym.make("CartPole-v1"))


def test_from_gymnasium_rejects_episode_ends_on_some_transitions_only():
    class FakeEnv:                       # entering state 1 ends the episode from 0 but not from 2
        observation_space = gym.spaces.Discrete(3)
        action_space = gym.spaces.Discrete(1)
        initial_state_distrib = np.array([0.5, 0.0, 0.5])
        P = {0: {0: [(1.0, 1, 1.0, True)]}, 1: {0: [(1.0, 1, 0.0, True)]},
             2: {0: [(1.0, 1, 0.0, False)]}}
    with pytest.raises(ValueError, match="cannot represent"):
        TabularMDP.from_gymnasium(FakeEnv())
    FakeEnv.initial_state_distrib = np.array([1.0, 0.0, 0.0])  # state 2 unreachable: fine
    mdp = TabularMDP.from_gymnasium(FakeEnv(), gamma=1.0)
    assert mdp.terminal.tolist() == [False, True, False] and mdp.action_names is None


# --------------------------------------------------------------------------------------------
# Errors: each says what is wrong and how to fix it
# --------------------------------------------------------------------------------------------
def _ok(S=3, A=2):
    P = np.full((S, A, S), 1.0 / S)
    return dict(P=P, R=np.zeros((S, A)), gamma=0.9)


def _with(**changes):
    kwargs = _ok()
    kwargs.update(changes)
    return kwargs


def _bad_row_sum():
    P = _ok()["P"].copy()
    P[1, 1, 0] = 0.5                                      # row (1, 1) sums to 1/3 + 1/3 + 1/2
    return _with(P=P)


def _set(name, index, value):
    kwargs = _ok()
    x = np.array(kwargs[name], dtype=float)
    x[index] = value
    kwargs[name] = x
    return kwargs


BAD_MDPS = {
    # case: (kwargs, [regexes the message must contain: the problem ..., the fix])
    "P 2-D": (_with(P=np.ones((3, 3)) / 3), [r"P must be a 3-D array of shape \(S, A, S\)",
                                             r"got shape \(3, 3\)", "np.zeros"]),
    "P not (S,A,S)": (_with(P=np.ones((3, 2, 4)) / 4), [r"\(S, A, S\)", r"got shape \(3, 2, 4\)"]),
    "R wrong shape": (_with(R=np.zeros((2, 3))), [r"R must have shape \(S, A\) = \(3, 2\)",
                                                  r"\(S, A, S\) = \(3, 2, 3\)", r"R\[s, a\]"]),
    "R (S,A,S') wrong": (_with(R=np.zeros((3, 2, 2))), [r"got shape \(3, 2, 2\)"]),
    "NaN in P": (_set("P", (0, 1, 2), np.nan), ["P contains NaN or inf", r"\(0, 1, 2\)",
                                                "finite"]),
    "inf in R": (_set("R", (2, 0), np.inf), ["R contains NaN or inf", r"\(2, 0\)"]),
    "negative prob": (_set("P", (0, 0, 0), -0.1), ["negative probability", r"\(0, 0, 0\)",
                                                   ">= 0"]),
    "row sum": (_bad_row_sum(), [r"P\[1, 1, :\]", "sums to 1.16667", "normalise",
                                 "P / P.sum"]),
    "gamma > 1": (_with(gamma=1.5), ["gamma must be a discount factor in", "got 1.5", "0.99"]),
    "gamma < 0": (_with(gamma=-0.1), [r"\[0, 1\]", "got -0.1"]),
    "gamma nan": (_with(gamma=float("nan")), [r"\[0, 1\]"]),
    "gamma not a number": (_with(gamma="high"), [r"gamma must be a number"]),
    "gamma 1 no terminal": (_with(gamma=1.0), ["gamma = 1 with no terminal states",
                                               "values diverge", "use gamma < 1",
                                               "mark the states where episodes end"]),
    "rho0 shape": (_with(rho0=[0.5, 0.5]), [r"rho0 must be a start-state distribution of shape",
                                            r"\(3,\)", "one probability per state"]),
    "rho0 not a distribution": (_with(rho0=[0.5, 0.6, 0.0]), ["rho0 must be a probability "
                                                              "distribution", "sum 1.1",
                                                              "rho0 / rho0.sum"]),
    "rho0 negative": (_with(rho0=[1.5, -0.5, 0.0]), ["probability distribution", "min -0.5"]),
    "terminal mask shape": (_with(terminal=np.array([True, False])),
                            ["terminal mask must be a boolean array of shape", r"\(3,\)",
                             "list of terminal state indices"]),
    "terminal index": (_with(terminal=[0, 3]), ["terminal state index 3 is out of range",
                                                "S = 3", r"0 \.\.\. 2"]),
    "terminal negative index": (_with(terminal=[-1]), ["index -1 is out of range"]),
    "terminal not ints": (_with(terminal=[0.5]), ["list of integer state indices"]),
    "grid_shape": (_with(grid_shape=(2, 2)), [r"rows \* cols = S = 3", "None if"]),
    "action_deltas": (_with(action_deltas=[(0, 1)]), [r"\(A, 2\) = \(2, 2\)"]),
    "action_names": (_with(action_names=["a"]), ["name each of the A = 2 actions"]),
    "P ragged": (_with(P=[[[1.0]], [[0.5, 0.5]]]), ["P must be a numeric array"]),
}


@pytest.mark.parametrize("case", BAD_MDPS)
def test_invalid_mdp_raises_a_helpful_error(case):
    kwargs, patterns = BAD_MDPS[case]
    with pytest.raises(ValueError) as info:
        TabularMDP(**kwargs)
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message, flags=re.IGNORECASE), (pattern, message)


def test_valid_corner_cases_are_accepted():
    TabularMDP(**_with(terminal=[]))                              # no terminal states
    TabularMDP(**_with(terminal=np.array([False, True, False]), gamma=1.0))
    P = _ok()["P"].copy()
    P[2] = 0.0                                                    # terminal rows may be zeros
    mdp = TabularMDP(P, np.zeros((3, 2)), 1.0, terminal=[2])
    np.testing.assert_allclose(mdp.rho0, [0.5, 0.5, 0.0])         # default: non-terminal uniform


BAD_POLICIES = {
    "wrong matrix shape": (np.full((16, 3), 1 / 3), [r"\(S, A\) = \(16, 4\) matrix",
                                                     r"got shape \(16, 3\)"]),
    "row sum": (np.full((16, 4), 0.3), [r"pi\[1, :\] sums to 1.2",
                                        "pi / pi.sum"]),
    "negative": (np.full((16, 4), 0.25) * np.array([1, 1, 3, -1]), ["finite and >= 0"]),
    "action out of range": (np.full(16, 4), ["actions must be in 0 ... 3", "got 4"]),
    "non-integer actions": (np.full(16, 0.5), ["int array of shape", "(S, A)"]),
    "wrong length": (np.zeros(15, dtype=int), [r"int array of shape \(S,\) = \(16,\)"]),
}


@pytest.mark.parametrize("case", BAD_POLICIES)
def test_invalid_policy_raises_a_helpful_error(case):
    policy, patterns = BAD_POLICIES[case]
    with pytest.raises(ValueError) as info:
        policy_evaluation(gridworld_4x4(), policy)
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), (pattern, str(info.value))


def test_policy_that_never_terminates_with_gamma_1_is_refused():
    mdp = gridworld_4x4()
    with pytest.raises(ValueError) as info:      # "always LEFT": rows 1-3 end stuck in column 0
        policy_evaluation(mdp, np.full(16, LEFT))
    message = str(info.value)
    for pattern in ["values diverge under this policy", "never reaches a terminal state",
                    r"states \[4, 5, 6, 7, 8, 9\] \.\.\.", r"\(1, 0\), \(1, 1\), \(1, 2\)",
                    "gamma < 1",
                    "change the policy"]:
        assert re.search(pattern, message), (pattern, message)
    with pytest.raises(ValueError, match="diverge"):
        policy_iteration(mdp, pi0=np.full(16, LEFT))
    # with gamma < 1 the same policy has finite values: -1/(1-γ) in the stuck column
    V = policy_evaluation(gridworld_4x4(gamma=0.5), np.full(16, LEFT))
    assert V[4] == pytest.approx(-2.0)


def test_values_shape_is_checked():
    with pytest.raises(ValueError, match=r"one value per state, shape \(25,\)"):
        q_from_v(gridworld_5x5(), np.zeros(24))


def test_non_convergence_is_reported():
    with pytest.raises(RuntimeError, match="did not converge in max_iter = 5.*Raise max_iter"):
        value_iteration(gridworld_5x5(), max_iter=5)
    with pytest.raises(RuntimeError, match="max_iter = 1"):
        policy_iteration(gridworld_5x5(), max_iter=1)


@pytest.mark.parametrize("as_float32", [lambda x: x.astype(np.float32),
                                        lambda x: torch.softmax(torch.as_tensor(np.log(x), dtype=torch.float32), 2)],
                         ids=["numpy", "torch"])
def test_float32_probabilities_normalised_in_float32_are_accepted(as_float32):
    """float32 rows sum to 1 only within float32 rounding; a row that is really off still fails."""
    rng = np.random.default_rng(3)
    S, A = 16, 4
    P64 = rng.random((S, A, S)) ** 4
    P32 = as_float32(P64 / P64.sum(axis=2, keepdims=True))
    P32 = P32 / P32.sum(axis=2, keepdims=True)                  # normalised as the error says
    mdp = TabularMDP(P32, np.zeros((S, A)), 0.9)
    pi = np.full((S, A), 1 / A, dtype=np.float32)
    assert np.allclose(policy_evaluation(mdp, pi), 0.0)
    off = np.array(P32, dtype=np.float32)
    off[0, 0] *= 1.001                                           # sums to 1.001: a real mistake
    with pytest.raises(ValueError, match="rows of P must sum to 1"):
        TabularMDP(off, np.zeros((S, A)), 0.9)
