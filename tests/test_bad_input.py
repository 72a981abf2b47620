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

import rlnotes
from rlnotes import bench, buffers, estimators, mdp, plotting, policies, returns, rollout, runtime, tabular
from rlnotes.__main__ import main as cli
from rlnotes.algos import a2c, a3c, ddpg, dqn, ppo, reinforce
from rlnotes.exercises import time_limit
from rlnotes.exercises.variance_reduction import check_reward_to_go

P = np.full((2, 2, 2), 0.5)
R = np.zeros((2, 2))
GOOD = mdp.TabularMDP(P, R, 0.9)
T5 = torch.zeros(5)


def _env(env_id):
    return gym.make(env_id)


class _Toy(gym.Env):
    """A (2,) observation that turns NaN at step ``nan_at`` (None: never), an episode that ends
    at step ``end`` (None: never, and no time limit); continuous or discrete actions."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)

    def __init__(self, nan_at=None, end=None, continuous=True):
        self.nan_at, self.end = nan_at, end
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32) if continuous else gym.spaces.Discrete(2)

    def _obs(self):
        return np.array([0.5, np.nan if self.nan_at is not None and self.t >= self.nan_at else 0.25])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), 1.0, self.end is not None and self.t >= self.end, False, {}


for _name, _kwargs in [("BadInputNaN-v0", {"nan_at": 3, "end": 20}),
                       ("BadInputNeverEnds-v0", {"continuous": False})]:
    if f"rlnotes-test/{_name}" not in gym.registry:
        gym.register(f"rlnotes-test/{_name}", entry_point=_Toy, kwargs=_kwargs, max_episode_steps=None)


def _agent(module, env_id="CartPole-v1"):
    """An untrained agent of ``module`` built for ``env_id`` (what ``train`` returns, without training)."""
    return module.make_agent(rollout.make_vec_env(env_id, n_envs=1), module.Config())


def _file(write):
    """A path in a fresh temporary folder, after ``write(path)``."""
    import pathlib
    import tempfile

    path = pathlib.Path(tempfile.mkdtemp()) / "agent.pt"
    write(path)
    return path


def _truncated(path):
    """A file torch.save wrote, cut in half (an interrupted copy)."""
    torch.save({"weights": torch.zeros(100)}, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _softmax_rows(shape):
    """float32 rows that sum to 1 only up to float32 rounding, as torch.softmax gives them."""
    return torch.softmax(torch.randn(shape, generator=torch.Generator().manual_seed(0)), -1).numpy()


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
    ("runtime: RLNOTES_TORCH_THREADS=abc",
     lambda: runtime.torch_threads_from_environ({"RLNOTES_TORCH_THREADS": "abc"}),
     ValueError, r"positive whole number.*RLNOTES_TORCH_THREADS=1.*or unset it"),
    ("runtime: RLNOTES_TORCH_THREADS=0",
     lambda: runtime.torch_threads_from_environ({"RLNOTES_TORCH_THREADS": "0"}),
     ValueError, r"positive whole number.*or unset it"),
    # --- an env that misbehaves, an agent for another env ------------------------------------
    ("rollout: NaN observations (a Gaussian policy would act NaN)",
     lambda: rollout.evaluate(policies.DiagGaussianPolicy(2, 1), "rlnotes-test/BadInputNaN-v0", n_episodes=2),
     ValueError, r"rlnotes-test/BadInputNaN-v0 returned a NaN or inf observation.*TransformObservation"),
    ("rollout: evaluate on an env without a time limit that never ends",
     lambda: rollout.evaluate(policies.CategoricalPolicy(2, 2), "rlnotes-test/BadInputNeverEnds-v0",
                              n_episodes=1, max_episode_steps=100),
     RuntimeError, r"no time limit.*max_episode_steps=1000"),
    *[(f"rollout: evaluate a {m.__name__.split('.')[-1]} agent for CartPole on Acrobot",
       lambda m=m: rollout.evaluate(_agent(m), "Acrobot-v1", n_episodes=1),
       ValueError, r"obs_dim = 4.*shape \(6,\).*Train or build the agent on this env") for m in (dqn, a2c, a3c)],
    ("rollout: evaluate a ddpg agent for Pendulum on MountainCarContinuous",
     lambda: rollout.evaluate(_agent(ddpg, "Pendulum-v1"), "MountainCarContinuous-v0", n_episodes=1),
     ValueError, r"obs_dim = 3.*Train or build the agent on this env"),
    # --- bench ---------------------------------------------------------------------------------
    ("bench: an output folder that cannot be written",
     lambda: bench.bench(["reinforce"], seeds=[0], out="/proc/no-such-dir"),
     ValueError, r"cannot write the results to '/proc/no-such-dir'.*Choose another output folder"),
    # --- save and load -------------------------------------------------------------------------
    ("load: a torch.save of a whole agent",
     lambda: rlnotes.load(_file(lambda p: torch.save(_agent(dqn), p))),
     ValueError, r"not a file written by rlnotes\.save.*rlnotes\.save\(result, path\)"),
    ("load: a truncated file", lambda: rlnotes.load(_file(_truncated)),
     ValueError, r"truncated or damaged.*Save it again"),
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
    ("dqn: buffer_size < batch_size", lambda: dqn.Config(buffer_size=10, batch_size=64),
     ValueError, r"Raise buffer_size \(e\.g\. 50_000\) or lower batch_size"),
    ("ddpg: buffer_size < batch_size", lambda: ddpg.Config(buffer_size=100, batch_size=256),
     ValueError, r"Raise buffer_size \(e\.g\. 50_000\) or lower batch_size"),
    *[(f"{m.__name__.split('.')[-1]}: gamma=None", lambda m=m: m.Config(gamma=None),
       ValueError, r"Config\.gamma must be a discount in \[0, 1\], got None") for m in (reinforce, dqn, ddpg, ppo)],
    *[(f"{m.__name__.split('.')[-1]}: hidden_sizes=64", lambda m=m: m.Config(hidden_sizes=64),
       ValueError, r"hidden_sizes must be a non-empty tuple of positive layer widths, e\.g\. \(64, 64\), got 64")
      for m in (reinforce, dqn, ddpg, ppo)],
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


# (case, call, warning category, regex): input that runs but would give a useless result warns
WARNS = [
    ("dqn: total_steps below learning_starts",
     lambda: dqn.train("CartPole-v1", total_steps=300, progress=False),
     UserWarning, r"before the first gradient step.*Raise total_steps or lower learning_starts"),
    ("ddpg: total_steps below learning_starts", lambda: ddpg.Config(total_steps=500),
     UserWarning, r"before the first gradient step.*Raise total_steps or lower learning_starts"),
]


@pytest.mark.parametrize("case, call, category, match", WARNS, ids=[c[0] for c in WARNS])
def test_a_useless_setting_gets_a_warning(case, call, category, match):
    with pytest.warns(category, match=match):
        call()


# (case, call returning the text a reader sees, regex): messages that are printed, not raised
MESSAGES = [
    ("bench: --steps 100, below the off-policy minimum",
     lambda: "\n".join(bench.budget_notes(list(bench.ALGOS), 100)),
     r"warning: dqn: --steps 100 is below its minimum.*untrained agent\. Use --steps \d+ or more"),
    ("bench: --steps 100, less than one PPO rollout",
     lambda: "\n".join(bench.budget_notes(["ppo"], 100)),
     r"note: ppo: --steps 100 is less than one rollout.*Use --steps \d+ or more"),
    ("exercise: an answer with a body but no return",
     lambda: check_reward_to_go(_forgets_return).message,
     r"returned None: did you forget `return`\?.*end it with `return <your answer>`"),
    ("exercise: an answer that loops forever",
     lambda: _with_time_limit(0.3, lambda: check_reward_to_go(_loops_forever)).message,
     r"ran too long \(more than 0\.3 s\).*a loop that never ends"),
]


def _forgets_return(rewards, gamma):
    out = np.zeros(len(rewards))
    for t in reversed(range(len(rewards))):
        out[t] = rewards[t] + (gamma * out[t + 1] if t + 1 < len(rewards) else 0.0)
    # (no return: the function gives None)


def _loops_forever(rewards, gamma):
    t = 0
    while t < len(rewards):
        pass                                             # t is never updated
    return rewards


def _with_time_limit(seconds, call):
    with time_limit(seconds):
        return call()


@pytest.mark.parametrize("case, call, match", MESSAGES, ids=[c[0] for c in MESSAGES])
def test_a_printed_message_names_the_fix(case, call, match, capsys):
    import re

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = call()
    assert re.search(match, text, re.S), f"{case}: {text!r}"


# (case, command line, what stderr must say): python -m rlnotes, run in this process
COMMANDS = [
    ("train: --steps 0", ["train", "ppo", "--steps", "0"], "--steps: must be an integer >= 1, got 0"),
    ("train: --seed -1", ["train", "ppo", "--seed", "-1"], "--seed: must be an integer >= 0, got -1"),
    ("train: --eval-episodes 0 (refused before training)", ["train", "reinforce", "--eval-episodes", "0"],
     "--eval-episodes: must be an integer >= 1, got 0"),
    ("train: an unknown env id", ["train", "ppo", "--env", "NoSuchEnv-v9", "--steps", "100"],
     "unknown environment id 'NoSuchEnv-v9'"),
    ("train: dqn on continuous actions", ["train", "dqn", "--env", "Pendulum-v1", "--steps", "100"], "use DDPG"),
    ("bench: an unwritable --out", ["bench", "reinforce", "--seeds", "0", "--out", "/proc/no-such-dir"],
     "cannot write the results to '/proc/no-such-dir': "),
]


@pytest.mark.parametrize("case, argv, message", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_bad_command_line_ends_with_one_clear_line_and_status_2(case, argv, message, capsys):
    try:
        status = cli(argv)
    except SystemExit as exit_:                          # argparse's usage errors
        status = exit_.code
    captured = capsys.readouterr()
    assert status == 2, captured.err
    assert message in captured.err and "Traceback" not in captured.err, captured.err
    assert captured.out == ""                            # nothing was trained


# (case, call, check of the result): input of the kinds a careful user passes, which must work
ACCEPTED = [
    ("mdp: float32 P from a softmax", lambda: mdp.TabularMDP(_softmax_rows((3, 2, 3)), np.zeros((3, 2)), 0.9),
     lambda m: m.n_states == 3),
    ("mdp: float32 policy from a softmax, evaluated exactly",
     lambda: mdp.policy_evaluation(mdp.TabularMDP(P, np.ones((2, 2)), 0.9), _softmax_rows((2, 2))),
     lambda V: np.allclose(V, 10.0)),                    # reward 1 forever: 1 / (1 - 0.9)
    *[(f"{m.__name__.split('.')[-1]}: numpy scalars in a Config",
       lambda m=m: m.Config(gamma=np.float32(0.99), total_steps=np.int64(m.Config().total_steps)),
       lambda c: abs(c.gamma - 0.99) < 1e-6 and c.total_steps == type(c)().total_steps)
      for m in (reinforce, ppo, a2c, a3c, dqn, ddpg)],
    ("dqn: a numpy integer batch size", lambda: dqn.Config(batch_size=np.int64(64)), lambda c: c.batch_size == 64),
]


@pytest.mark.parametrize("case, call, check", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_input_of_a_usual_kind_is_accepted(case, call, check):
    assert check(call())
