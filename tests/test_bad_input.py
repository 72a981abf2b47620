"""Bad input, one table: wrong inputs to the public functions and to every ``train``, and the
clear error each one gets. Every message must say what was wrong *and* name the fix (the
``match`` column holds the part of the message that names it).

Algorithm-specific tables live beside each algorithm's tests as well; this one is the overview
a reader can scan.
"""
from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlnotes import buffers, estimators, mdp, plotting, policies, returns, rollout, runtime, tabular
from rlnotes.algos import a2c, a3c, ddpg, dqn, ppo, reinforce

P = np.full((2, 2, 2), 0.5)
R = np.zeros((2, 2))
GOOD = mdp.TabularMDP(P, R, 0.9)
T5 = torch.zeros(5)


def _env(env_id):
    return gym.make(env_id)


# (case, call, exception, regex that the message must match)
CASES = [
    # --- finite MDPs -----------------------------------------------------------------------
    ("mdp: rows of P do not sum to 1", lambda: mdp.TabularMDP(np.ones((2, 2, 2)), R, 0.9),
     ValueError, r"must sum to 1.*normalise with P = P / P\.sum"),
    ("mdp: R of the wrong shape", lambda: mdp.TabularMDP(P, np.zeros(3), 0.9),
     ValueError, r"R must have shape \(S, A\) = \(2, 2\)"),
    ("mdp: gamma > 1", lambda: mdp.TabularMDP(P, R, 1.5), ValueError, r"\[0, 1\].*Typical choices"),
    ("mdp: NaN reward", lambda: mdp.TabularMDP(P, np.full((2, 2), np.nan), 0.9),
     ValueError, r"NaN or inf.*finite"),
    ("mdp: policy of the wrong shape", lambda: mdp.policy_evaluation(GOOD, np.ones((3, 2)) / 2),
     ValueError, r"\(S, A\) = \(2, 2\)"),
    ("mdp: policy rows do not sum to 1", lambda: mdp.policy_evaluation(GOOD, np.ones((2, 2))),
     ValueError, r"Normalise with pi = pi / pi\.sum"),
    ("mdp: V of the wrong length", lambda: mdp.bellman_optimality_backup(GOOD, np.zeros(5)),
     ValueError, r"one value per state, shape \(2,\)"),
    ("mdp: from_gymnasium on a continuous env",
     lambda: mdp.TabularMDP.from_gymnasium(_env("CartPole-v1")), ValueError, r"toy-text.*Supported"),
    # --- tabular methods -------------------------------------------------------------------
    ("tabular: continuous env", lambda: tabular.q_learning(_env("CartPole-v1"), 1),
     ValueError, r"Discrete observation and action spaces, e\.g\. FrozenLake"),
    ("tabular: epsilon > 1", lambda: tabular.q_learning(_env("FrozenLake-v1"), 1, epsilon=2.0),
     ValueError, r"probability in \[0, 1\] or a schedule"),
    ("tabular: zero episodes", lambda: tabular.q_learning(_env("FrozenLake-v1"), 0),
     ValueError, r"n_episodes must be a positive int"),
    ("tabular: schedule of duration 0", lambda: tabular.linear_schedule(1, 0, 0),
     ValueError, r"duration > 0"),
    # --- policies --------------------------------------------------------------------------
    ("policies: mlp with one size", lambda: policies.mlp([4]), ValueError, r"e\.g\. \[4, 64, 64, 2\]"),
    ("policies: observation of the wrong length",
     lambda: policies.CategoricalPolicy(4, 2)(torch.zeros(3, 5)), ValueError,
     r"Build it with make_policy\(env\.observation_space, env\.action_space\)"),
    ("policies: zero actions", lambda: policies.CategoricalPolicy(4, 0),
     ValueError, r"env\.action_space\.n"),
    ("policies: image observations",
     lambda: policies.make_policy(gym.spaces.Box(0, 1, (2, 2)), gym.spaces.Discrete(2)),
     ValueError, r"1-D Box observation space"),
    ("policies: MultiDiscrete actions",
     lambda: policies.make_policy(gym.spaces.Box(0, 1, (2,)), gym.spaces.MultiDiscrete([2, 2])),
     ValueError, r"supports Discrete actions .* and 1-D Box actions"),
    # --- returns ---------------------------------------------------------------------------
    ("returns: zero-length episode", lambda: returns.reward_to_go([]),
     ValueError, r"at least one step.*Skip empty episodes"),
    ("returns: (T, N) rewards for one episode", lambda: returns.discounted_return(np.zeros((2, 2)), 0.9),
     ValueError, r"Call it once per episode"),
    ("returns: negative gamma", lambda: returns.reward_to_go([1.0], gamma=-0.1),
     ValueError, r"discount factor in \[0, 1\]"),
    ("returns: NaN reward", lambda: returns.reward_to_go([1.0, np.nan]),
     ValueError, r"NaN or inf \(first at t = 1\).*Check the environment"),
    ("returns: string rewards", lambda: returns.discounted_return(["a", "b"], 0.9),
     ValueError, r"numeric rewards"),
    ("returns: gae with mismatched shapes",
     lambda: returns.gae(np.zeros(3), np.zeros(2), np.zeros(3), np.zeros(3), np.zeros(3)),
     ValueError, r"arrays of one shape.*info\['final_obs'\]"),
    ("returns: gae with NaN values",
     lambda: returns.gae(np.zeros(3), np.array([0, np.nan, 0]), np.zeros(3), np.zeros(3), np.zeros(3)),
     ValueError, r"values contains NaN.*diverging critic"),
    ("returns: gae with lam > 1",
     lambda: returns.gae(np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), lam=1.5),
     ValueError, r"lam must be in \[0, 1\]"),
    ("returns: td_targets with mismatched shapes",
     lambda: returns.td_targets(np.zeros(3), np.zeros(4), np.zeros(3)), ValueError, r"arrays of one shape"),
    ("returns: terminated that is not boolean",
     lambda: returns.td_targets(np.zeros(3), np.zeros(3), np.array([0, 2, 0])),
     ValueError, r"terminated must hold booleans"),
    # --- estimators ------------------------------------------------------------------------
    ("estimators: pg_loss shapes (N, 1) vs (N,)", lambda: estimators.pg_loss(torch.zeros(3, 1), torch.zeros(3)),
     ValueError, r"reshape\(-1\)"),
    ("estimators: importance_weights shapes",
     lambda: estimators.importance_weights(torch.zeros(3), torch.zeros(4)), ValueError, r"reshape\(-1\)"),
    ("estimators: clip_eps = 0", lambda: estimators.ppo_clip_loss(T5, T5, T5, clip_eps=0.0),
     ValueError, r"clip_eps > 0 \(typically 0\.1 to 0\.3\)"),
    ("estimators: ppo_clip_loss shapes", lambda: estimators.ppo_clip_loss(T5, torch.zeros(4), T5),
     ValueError, r"reshape\(-1\)"),
    ("estimators: negative KL coefficient", lambda: estimators.ppo_kl_loss(T5, T5, T5, beta=-1.0),
     ValueError, r"beta >= 0"),
    ("estimators: KL target 0", lambda: estimators.adapt_kl_beta(1.0, 0.1, 0.0),
     ValueError, r"kl_target > 0"),
    ("estimators: zero samples",
     lambda: estimators.score_function_grad(lambda x: x, lambda th: torch.distributions.Normal(th, 1.0),
                                            torch.zeros(1, requires_grad=True), 0),
     ValueError, r"n_samples to be a positive int"),
    ("estimators: optimal_baseline shapes",
     lambda: estimators.optimal_baseline(torch.zeros(5, 2), torch.zeros(4)), ValueError, r"Stack the per-s"),
    # --- rollouts --------------------------------------------------------------------------
    ("rollout: unknown env id", lambda: rollout.make_vec_env("NoSuchEnv-v0"),
     ValueError, r"unknown environment id.*gymnasium\.registry"),
    ("rollout: zero env copies", lambda: rollout.make_vec_env("CartPole-v1", n_envs=0),
     ValueError, r"n_envs must be a positive integer"),
    ("rollout: no batch size", lambda: rollout.collect_episodes(policies.CategoricalPolicy(4, 2), "CartPole-v1"),
     ValueError, r"pass n_episodes=\.\.\..*min_steps="),
    ("rollout: agent without act", lambda: rollout.evaluate(object(), "CartPole-v1"),
     TypeError, r"act\(obs, deterministic=False\).*make_po"),
    ("rollout: zero evaluation episodes",
     lambda: rollout.evaluate(policies.CategoricalPolicy(4, 2), "CartPole-v1", n_episodes=0),
     ValueError, r"n_episodes must be a positive integer"),
    ("rollout: a policy built for another env",
     lambda: rollout.evaluate(policies.CategoricalPolicy(3, 2), "CartPole-v1", n_episodes=1),
     ValueError, r"Is the policy built for this environment"),
    # --- replay ----------------------------------------------------------------------------
    ("buffers: capacity 0", lambda: buffers.ReplayBuffer(0, (4,)), ValueError, r"e\.g\. 100_000"),
    ("buffers: sampling before enough data", lambda: buffers.ReplayBuffer(10, (4,)).sample(4),
     ValueError, r"Add 4 more first.*learning_starts >= batch_size"),
    ("buffers: observation of the wrong shape",
     lambda: buffers.ReplayBuffer(10, (4,)).add(np.zeros(3), 0, 1.0, np.zeros(4), False),
     ValueError, r"obs must have shape obs_shape = \(4,\)"),
    ("buffers: NaN reward",
     lambda: buffers.ReplayBuffer(10, (4,)).add(np.zeros(4), 0, np.nan, np.zeros(4), False),
     ValueError, r"NaN or inf; check the environment"),
    # --- plotting and runtime --------------------------------------------------------------
    ("plotting: values for another grid", lambda: plotting.plot_values(np.zeros(7), shape=(2, 3)),
     ValueError, r"one value per cell of the 2x3 grid"),
    ("plotting: animate nothing", lambda: plotting.animate([]), ValueError, r"record_frames returns"),
    ("runtime: negative seed", lambda: runtime.seed_everything(-1), ValueError, r"non-negative integer"),
    ("runtime: zero threads", lambda: runtime.set_torch_threads(0), ValueError, r"positive integer"),
    # --- train: wrong env type, config, budget ---------------------------------------------
    ("reinforce: Discrete observations",
     lambda: reinforce.train("CliffWalking-v1", total_steps=100, progress=False),
     ValueError, r"FlattenObservation"),
    ("reinforce: a dict as config", lambda: reinforce.train("CartPole-v1", config={"lr": 1}, progress=False),
     TypeError, r"must be a rlnotes\.algos\.reinforce\.Config"),
    ("reinforce: negative learning rate", lambda: reinforce.Config(lr=-1), ValueError, r"typical: 1e-3"),
    ("reinforce: zero steps", lambda: reinforce.train("CartPole-v1", total_steps=0, progress=False),
     ValueError, r"total_steps must be a positive integer"),
    ("ppo: clip 0", lambda: ppo.Config(clip_eps=0), ValueError, r"clip_eps must be a positive number"),
    ("ppo: unknown env id", lambda: ppo.train("NoSuchEnv-v0", progress=False),
     ValueError, r"unknown environment id"),
    ("ppo: lambda > 1", lambda: ppo.Config(lam=2.0), ValueError, r"lam must be in \[0, 1\]"),
    ("dqn: continuous actions", lambda: dqn.train("Pendulum-v1", progress=False),
     ValueError, r"use DDPG \(rlnotes\.algos\.ddpg"),
    ("dqn: learning_starts < batch_size", lambda: dqn.Config(learning_starts=10, batch_size=64),
     ValueError, r"Raise learning_starts"),
    ("dqn: Discrete observations", lambda: dqn.train("FrozenLake-v1", progress=False),
     ValueError, r"use tabular Q-learning \(rlnotes\.tabular\.q_learning\)"),
    ("dqn: gamma > 1", lambda: dqn.Config(gamma=1.5), ValueError, r"discount in \[0, 1\]"),
    ("a2c: continuous actions", lambda: a2c.train("Pendulum-v1", progress=False),
     ValueError, r"use rlnotes\.algos\.ppo \(Gaussian policy\) or rlnotes\.algos\.ddpg"),
    ("a2c: Discrete observations", lambda: a2c.train("FrozenLake-v1", progress=False),
     ValueError, r"FlattenObservation"),
    ("a2c: zero env copies", lambda: a2c.Config(n_envs=0), ValueError, r"n_envs must be a positive integer"),
    ("a2c: learning rate 0", lambda: a2c.Config(lr=0), ValueError, r"lr must be a positive number"),
    ("a3c: continuous actions", lambda: a3c.train("Pendulum-v1", progress=False),
     ValueError, r"use rlnotes\.algos\.ppo \(Gaussian policy\) or rlnotes\.algos\.ddpg"),
    ("a3c: zero workers", lambda: a3c.Config(n_workers=0), ValueError, r"n_workers must be a positive integer"),
    ("ddpg: discrete actions", lambda: ddpg.train("CartPole-v1", progress=False),
     ValueError, r"use DQN \(rlnotes\.algos\.dqn\) or PPO"),
    ("ddpg: tau = 0", lambda: ddpg.Config(tau=0), ValueError, r"Polyak rate in \(0, 1\]"),
    ("ddpg: unknown noise", lambda: ddpg.Config(noise="pink"), ValueError, r"'gaussian' or 'ou'"),
    ("ddpg: learning_starts < batch_size", lambda: ddpg.Config(batch_size=512, learning_starts=100),
     ValueError, r"Raise learning_starts"),
]


@pytest.mark.parametrize("case, call, exc, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(case, call, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # gymnasium's own warnings are not the point
        with pytest.raises(exc, match=match) as info:
            call()
    message = str(info.value)
    assert "Traceback" not in message and len(message) > 30, f"{case}: message too terse: {message!r}"


def test_every_train_rejects_a_config_of_another_algorithm():
    """Passing one algorithm's Config to another's train is a TypeError that names the class."""
    modules = [reinforce, ppo, dqn, a2c, a3c, ddpg]
    for module in modules:
        other = next(m for m in modules if m is not module and m.Config is not module.Config)
        with pytest.raises(TypeError, match=rf"config must be a rlnotes\.algos\.{module.__name__.split('.')[-1]}\.Config"):
            module.train("CartPole-v1", config=other.Config(), total_steps=100, progress=False)
