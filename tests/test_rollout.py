"""rlnotes.rollout: episodes from vector envs against a plain single-env loop."""
from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlnotes
from rlnotes.algos.a2c import ActorCritic
from rlnotes.policies import CategoricalPolicy, DiagGaussianPolicy
from rlnotes.rollout import EpisodeBatch, collect_episodes, collect_rollout, evaluate, make_vec_env, step_env


class HashAgent:
    """Deterministic but erratic: the action is a hash of the observation (varied episode lengths)."""

    def act(self, obs, deterministic=False):
        obs = np.asarray(obs)
        return (np.floor(np.abs(obs[..., 0] + obs[..., 1]) * 1e4) % 2).astype(np.int64)


class Balancer:
    """A decent hand-written CartPole controller: push toward the side the pole falls to."""

    def act(self, obs, deterministic=False):
        obs = np.asarray(obs)
        return (obs[..., 2] + 0.5 * obs[..., 3] > 0).astype(np.int64)


def plain_loop(agent, env_id, seed, n_episodes, **make_kwargs):
    """The textbook loop: one env, reset(seed=...) once, then reset() between episodes."""
    env = gym.make(env_id, **make_kwargs)
    episodes = []
    obs, _ = env.reset(seed=seed)
    for _ in range(n_episodes):
        O, A, R = [], [], []
        while True:
            a = agent.act(obs[None])[0]
            O.append(obs)
            A.append(a)
            obs, r, term, trunc, _ = env.step(a)
            R.append(r)
            if term or trunc:
                episodes.append((np.array(O), np.array(A), np.array(R), term, trunc, obs))
                obs, _ = env.reset()
                break
    return episodes


def assert_same_episodes(batch, reference):
    assert batch.n_episodes == len(reference)
    for k, (O, A, R, term, trunc, final) in enumerate(reference):
        np.testing.assert_array_equal(batch.obs[k], O)
        np.testing.assert_array_equal(batch.actions[k], A)
        np.testing.assert_array_equal(batch.rewards[k], R)
        assert batch.terminated[k] == term and batch.truncated[k] == trunc
        np.testing.assert_array_equal(batch.final_obs[k], final)


def test_episodes_equal_a_plain_single_env_loop():
    agent = HashAgent()
    batch = collect_episodes(agent, "CartPole-v1", n_episodes=7, seed=3, n_envs=3)
    assert list(batch.env_index) == [0, 0, 0, 1, 1, 2, 2]           # 7 = 3 + 2 + 2
    reference = []
    for i, n in enumerate([3, 2, 2]):                                # copy i is seeded seed + i
        reference += plain_loop(agent, "CartPole-v1", 3 + i, n)
    assert_same_episodes(batch, reference)
    assert len(set(batch.lengths.tolist())) > 3                      # the lengths really vary


def test_truncated_episodes_keep_their_true_final_observation():
    env = make_vec_env("CartPole-v1", n_envs=2, seed=5, max_episode_steps=30)
    batch = collect_episodes(Balancer(), env, n_episodes=4, seed=5)
    assert batch.truncated.all() and not batch.terminated.any()
    assert (batch.lengths == 30).all()
    reference = (plain_loop(Balancer(), "CartPole-v1", 5, 2, max_episode_steps=30)
                 + plain_loop(Balancer(), "CartPole-v1", 6, 2, max_episode_steps=30))
    assert_same_episodes(batch, reference)
    # the final observation is o_T, not the reset observation of the next episode
    assert not np.allclose(batch.final_obs[0], batch.obs[1][0])


def test_no_fake_transitions_with_same_step_autoreset():
    torch.manual_seed(0)
    policy = CategoricalPolicy(4, 2)
    batch = collect_episodes(policy, "CartPole-v1", min_steps=3000, seed=0, n_envs=8)
    for k in range(batch.n_episodes):
        T = batch.lengths[k]
        assert len(batch.obs[k]) == len(batch.actions[k]) == len(batch.rewards[k]) == T
        # CartPole pays +1 per step, so a fake reset transition (reward 0) would show up here
        assert batch.returns[k] == T
    assert (batch.terminated ^ batch.truncated).all()
    # flat views
    assert batch.flat_obs.shape == (batch.n_steps, 4)
    assert batch.flat_actions.shape == (batch.n_steps,) and batch.flat_actions.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(batch.episode_index), batch.lengths)
    k, t = batch.episode_index[-5], batch.time_index[-5]
    np.testing.assert_array_equal(batch.flat_obs[-5], batch.obs[k][t])


def test_min_steps_finishes_the_episode_under_way_and_nothing_more():
    torch.manual_seed(1)
    N, min_steps = 4, 1000
    batch = collect_episodes(CategoricalPolicy(4, 2), "CartPole-v1", min_steps=min_steps, seed=1, n_envs=N)
    t_min = math.ceil(min_steps / N)
    assert batch.n_steps >= min_steps
    for i in range(N):
        lengths = batch.lengths[batch.env_index == i]
        assert lengths.sum() >= t_min > lengths[:-1].sum()         # last episode started before t_min
    assert batch.n_env_steps >= batch.n_steps


def test_same_seed_same_batch_and_first_observation_comes_from_reset():
    def run():
        torch.manual_seed(0)
        return collect_episodes(CategoricalPolicy(4, 2), "CartPole-v1", n_episodes=5, seed=11, n_envs=2)
    a, b = run(), run()
    np.testing.assert_array_equal(a.flat_obs, b.flat_obs)
    np.testing.assert_array_equal(a.flat_actions, b.flat_actions)
    first, _ = gym.make("CartPole-v1").reset(seed=11)
    np.testing.assert_array_equal(a.obs[0][0], first)


def plain_steps(agent, env_id, seed, n_steps, **make_kwargs):
    """The textbook loop for a fixed number of steps: per step (s, a, r, term, trunc, s'), with
    s' the true next observation (the last one of an episode where it ends), then reset()."""
    env = gym.make(env_id, **make_kwargs)
    rows = []
    obs, _ = env.reset(seed=seed)
    for _ in range(n_steps):
        a = agent.act(obs[None])[0]
        next_obs, r, term, trunc, _ = env.step(a)
        rows.append((obs, a, r, term, trunc, next_obs))
        obs = env.reset()[0] if term or trunc else next_obs
    return [np.array(column) for column in zip(*rows)]


def test_rollouts_equal_a_plain_single_env_loop_and_keep_the_true_final_observation():
    """collect_rollout (PPO, A2C, A3C), two rollouts in a row: per copy, the steps of the
    textbook loop; at an episode's end next_obs is its last observation o_T (terminated or
    truncated); returns of episodes that span two rollouts are carried over."""
    N, T, seed = 3, 40, 7
    env = make_vec_env("CartPole-v1", n_envs=N, seed=seed, max_episode_steps=15)
    first = collect_rollout(env, HashAgent().act, T, seed=seed)
    second = collect_rollout(env, HashAgent().act, T, previous=first)      # carries on
    assert first.obs.shape == (T, N, 4) and first.actions.shape == (T, N) and first.rewards.shape == (T, N)
    for i in range(N):                                                   # copy i is seeded seed + i
        O, A, R, TERM, TRUNC, NEXT = plain_steps(HashAgent(), "CartPole-v1", seed + i, 2 * T,
                                                 max_episode_steps=15)
        for k, r in enumerate((first, second)):
            part = slice(k * T, (k + 1) * T)
            np.testing.assert_array_equal(r.obs[:, i], O[part])
            np.testing.assert_array_equal(r.actions[:, i], A[part])
            np.testing.assert_array_equal(r.rewards[:, i], R[part])
            np.testing.assert_array_equal(r.terminated[:, i], TERM[part])
            np.testing.assert_array_equal(r.truncated[:, i], TRUNC[part])
            np.testing.assert_array_equal(r.next_obs[:, i], NEXT[part])
    assert first.truncated.any() and first.terminated.any()              # both kinds of ends
    ended = first.terminated | first.truncated
    t, i = np.argwhere(ended[:-1])[0]
    assert not np.allclose(first.next_obs[t, i], first.obs[t + 1, i])    # o_T, not the reset obs
    # CartPole pays 1 per step: a return is the episode's length, also across two rollouts
    assert len(first.episode_returns) == ended.sum()
    for r in (first, second):
        np.testing.assert_array_equal(r.episode_returns, r.episode_lengths)
        assert r.episode_lengths.max() <= 15
    assert second.episode_lengths[0] > second.episode_steps[0]          # began in the first one
    assert first.episode_lengths.sum() + first.running_lengths.sum() == N * T
    assert first.finished(env_steps=100)[0] == (100 + N * int(first.episode_steps[0]),
                                                float(first.episode_returns[0]))
    assert first.flat("obs").shape == (T * N, 4)


class CountEnv(gym.Env):
    """4 steps; reward = action; a known return for any fixed action."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.uniform(-1, 1, 2).astype(np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(2, np.float32), float(action), self.t >= 4, False, {}


class ReachEnv(CountEnv):
    """Continuous 1-D action in [-1, 1]; reward = the (clipped) action."""

    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def step(self, action):
        assert -1.0 <= action[0] <= 1.0
        return super().step(float(action[0]))


gym.register("rlnotes-test/Count-v0", entry_point=CountEnv)
gym.register("rlnotes-test/Reach-v0", entry_point=ReachEnv)


class FixedAgent:
    def __init__(self, greedy, explore):
        self.greedy, self.explore = greedy, explore

    def act(self, obs, deterministic=False):
        return np.full(len(obs), self.greedy if deterministic else self.explore, dtype=np.int64)


def test_evaluate_returns_the_known_greedy_returns():
    returns = evaluate(FixedAgent(greedy=2, explore=0), "rlnotes-test/Count-v0", n_episodes=7)
    assert returns.shape == (7,)
    np.testing.assert_array_equal(returns, 8.0)                     # 4 steps x reward 2
    assert rlnotes.evaluate is evaluate


def test_evaluate_episode_k_uses_seed_plus_k_and_matches_a_plain_loop():
    returns = evaluate(HashAgent(), "CartPole-v1", n_episodes=5, seed=100)
    expected = [plain_loop(HashAgent(), "CartPole-v1", 100 + k, 1)[0][2].sum() for k in range(5)]
    np.testing.assert_array_equal(returns, expected)


def test_continuous_actions_are_clipped_for_the_env_but_stored_as_sampled():
    class Big:
        def act(self, obs, deterministic=False):
            return np.full((len(obs), 1), 3.0, dtype=np.float32)
    batch = collect_episodes(Big(), "rlnotes-test/Reach-v0", n_episodes=2, n_envs=2)
    np.testing.assert_array_equal(batch.returns, 4.0)              # the env saw a = 1
    assert batch.flat_actions.shape == (8, 1) and (batch.flat_actions == 3.0).all()
    torch.manual_seed(0)
    gauss = collect_episodes(DiagGaussianPolicy(2, 1), "rlnotes-test/Reach-v0", n_episodes=3, n_envs=2)
    assert gauss.actions[0].shape == (4, 1)


def test_errors_name_the_fix():
    with pytest.raises(ValueError, match="CartPole-v1"):
        make_vec_env("CartPol-v1")
    with pytest.raises(TypeError, match="act"):
        collect_episodes(object(), "CartPole-v1", n_episodes=1)
    with pytest.raises(ValueError, match="n_episodes.*min_steps"):
        collect_episodes(HashAgent(), "CartPole-v1")
    with pytest.raises(ValueError, match="positive integer"):
        collect_episodes(HashAgent(), "CartPole-v1", n_episodes=0)
    with pytest.raises(ValueError, match="DiagGaussianPolicy.*make_policy"):
        collect_episodes(CategoricalPolicy(3, 2), "Pendulum-v1", n_episodes=1)
    with pytest.raises(ValueError, match="CategoricalPolicy"):
        collect_episodes(DiagGaussianPolicy(4, 1), "CartPole-v1", n_episodes=1)
    with pytest.raises(ValueError, match="make_policy"):                 # any agent, wrong actions
        collect_episodes(HashAgent(), "Pendulum-v1", n_episodes=1)
    with pytest.raises(ValueError, match=r"ActorCritic\) expects observations of size obs_dim = 4.*\(6,\)"):
        evaluate(ActorCritic(4, 3), "Acrobot-v1", n_episodes=1)           # a CartPole-sized agent
    next_step = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
    with pytest.raises(ValueError, match="SAME_STEP.*make_vec_env"):
        collect_episodes(HashAgent(), next_step, n_episodes=1)
    with pytest.raises(ValueError, match="at least one episode"):
        EpisodeBatch([], [], [], np.zeros(0, bool), np.zeros(0, bool), np.zeros((0, 4)), np.zeros(0, int))


def test_step_env_equals_a_plain_single_env_loop():
    """The off-policy step (DQN, DDPG): per copy, the transitions of the textbook loop. At an
    episode's end the stored s' is the true last observation (also after a truncation, where
    it still bootstraps); the observation to act on next is the reset observation."""
    agent, N, T = HashAgent(), 3, 150
    env = make_vec_env("CartPole-v1", n_envs=N, seed=3, max_episode_steps=20)
    obs, _ = env.reset(seed=3)
    got = [[] for _ in range(N)]
    for _ in range(T):
        actions = agent.act(obs)
        step = step_env(env, actions)
        np.testing.assert_array_equal(step.done, step.terminated | step.truncated)
        for i in range(N):
            got[i].append((obs[i], actions[i], step.rewards[i], step.next_obs[i],
                           step.terminated[i], step.truncated[i], step.obs[i]))
        obs = step.obs
    for i in range(N):                                               # copy i is seeded seed + i
        single = gym.make("CartPole-v1", max_episode_steps=20)
        o, _ = single.reset(seed=3 + i)
        for t in range(T):
            a = agent.act(o[None])[0]
            o2, r, term, trunc, _ = single.step(a)
            act_on = single.reset()[0] if term or trunc else o2
            for x, y in zip(got[i][t], (o, a, r, o2, term, trunc, act_on)):
                np.testing.assert_array_equal(x, y)
            o = act_on
    flags = np.array([[g[4], g[5]] for rows in got for g in rows])
    assert flags[:, 0].any() and flags[:, 1].any()                   # both kinds of episode end
    trunc = [g for rows in got for g in rows if g[5]]
    assert not np.allclose(trunc[0][3], trunc[0][6])                 # o_T is not the reset obs
    with pytest.raises(ValueError, match="SAME_STEP"):
        step_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), np.zeros(2, np.int64))


class _NeverEnds(gym.Env):
    """An env with no time limit whose episodes end only after 10,000 steps."""
    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(1, np.float32), 0.0, self.t >= 10_000, False, {}


def test_an_episode_that_does_not_end_stops_with_a_clear_error():
    if "rlnotes-test/NeverEnds-v0" not in gym.registry:
        gym.register("rlnotes-test/NeverEnds-v0", entry_point=_NeverEnds, max_episode_steps=None)
    policy = CategoricalPolicy(1, 2)
    with pytest.raises(RuntimeError, match="run for 200 steps without ending: the env has no time limit"):
        collect_episodes(policy, "rlnotes-test/NeverEnds-v0", n_episodes=1, n_envs=1, max_episode_steps=200)
    batch = collect_episodes(policy, "rlnotes-test/NeverEnds-v0", n_episodes=1, n_envs=1)   # 10,000 < cap
    assert batch.lengths.tolist() == [10_000]
    with pytest.raises(RuntimeError, match="run for 50 steps without ending"):        # evaluate: the same cap
        evaluate(policy, "rlnotes-test/NeverEnds-v0", n_episodes=1, max_episode_steps=50)


class _GoesNaN(gym.Env):
    """Observations (2,) that turn NaN at step ``nan_at`` (0: already at reset); continuous actions."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def __init__(self, nan_at=3, bad=np.nan, reward_too=False):
        self.nan_at, self.bad, self.reward_too = nan_at, bad, reward_too

    def _obs(self):
        return np.array([0.5, self.bad if self.t >= self.nan_at and not self.reward_too else 0.25])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        reward = self.bad if self.reward_too and self.t >= self.nan_at else 1.0
        return self._obs(), reward, False, self.t >= 20, {}


def _register_nan_envs():
    for name, kwargs in [("GoesNaN-v0", {}), ("StartsNaN-v0", {"nan_at": 0}), ("GoesInf-v0", {"bad": np.inf}),
                         ("RewardGoesNaN-v0", {"reward_too": True})]:
        if f"rlnotes-test/{name}" not in gym.registry:
            gym.register(f"rlnotes-test/{name}", entry_point=_GoesNaN, kwargs=kwargs)


OBS_FIX = r"TransformObservation\(env, np\.nan_to_num, env\.observation_space\)"


@pytest.mark.parametrize("env_id, what, fix", [
    ("rlnotes-test/GoesNaN-v0", r"NaN or inf observation .*nan", OBS_FIX),
    ("rlnotes-test/StartsNaN-v0", r"NaN or inf observation .*nan", OBS_FIX),
    ("rlnotes-test/GoesInf-v0", r"NaN or inf observation .*inf", OBS_FIX),
    ("rlnotes-test/RewardGoesNaN-v0", r"NaN or inf reward", r"TransformReward\(env, np\.nan_to_num\)")])
def test_nan_observations_are_named_at_the_source(env_id, what, fix):
    """Without the check a Gaussian policy turns NaN observations into NaN actions and evaluate
    returns NaN without complaint; every way rlnotes steps an env names the env and the value."""
    _register_nan_envs()
    policy = DiagGaussianPolicy(2, 1)
    match = rf"{env_id} returned a {what}.*{fix}"
    with pytest.raises(ValueError, match=match):
        evaluate(policy, env_id, n_episodes=2)
    with pytest.raises(ValueError, match=match):
        collect_episodes(policy, env_id, n_episodes=2, n_envs=2)
    with pytest.raises(ValueError, match=match):
        collect_rollout(make_vec_env(env_id, n_envs=2, seed=0), lambda o: policy.act(o), 10)
    with pytest.raises(ValueError, match=match):                   # the off-policy algorithms' step
        env = make_vec_env(env_id, n_envs=2, seed=0)
        for _ in range(5):
            step_env(env, np.zeros((2, 1), np.float32))


def test_the_nan_check_names_the_first_bad_copy():
    _register_nan_envs()
    env = gym.vector.SyncVectorEnv([lambda: gym.make("rlnotes-test/GoesNaN-v0", nan_at=50),
                                    lambda: gym.make("rlnotes-test/GoesNaN-v0", nan_at=2)],
                                   autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    env.reset(seed=0)
    step_env(env, np.zeros((2, 1), np.float32))                    # step 1: all finite
    with pytest.raises(ValueError, match=r"copy 1 of 2: \[0\.5 +nan\]"):
        step_env(env, np.zeros((2, 1), np.float32))
