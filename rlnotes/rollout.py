r"""Running a policy in gymnasium environments: batches of complete episodes, and evaluation.

Policy-gradient methods learn from trajectories $\tau = (s_0, a_0, r_0, s_1, a_1, r_1, \dots)$
sampled with the current policy $\pi_\theta$. This module samples them fast and returns them
in a form the chapters can index episode by episode:

* :func:`make_vec_env` builds ``n_envs`` copies of an environment that step in lock-step
  (a gymnasium ``SyncVectorEnv``), so that the policy network is called **once per vector
  step for all copies** (batched inference) instead of once per environment step;
* :func:`collect_episodes` runs a policy until it has a batch of **complete** episodes and
  returns an :class:`EpisodeBatch` (REINFORCE);
* :func:`collect_rollout` steps the copies a fixed number of steps $T$, episodes cut anywhere,
  and returns a :class:`Rollout` of arrays (T, N, ...) (PPO, A2C, A3C's workers);
* :func:`evaluate` plays episodes with the greedy (categorical) or mean (Gaussian) action and
  returns their undiscounted returns (also exported as ``rlnotes.evaluate``).

Why ``autoreset_mode=SAME_STEP``. A vector env resets a copy automatically when its episode
ends. Gymnasium 1.x's default (``NEXT_STEP``) does it one call *later*: the step that ends
an episode returns its last observation, and the *next* ``step(actions)`` ignores the action
of that copy and returns the first observation of a new episode with reward 0 — a transition
that never happened, which every algorithm would have to recognise and drop. With
``SAME_STEP`` the step that ends an episode already resets the copy: it returns the new
episode's first observation $o_0$ in ``obs[i]`` and puts the true last observation $o_T$ in
``info["final_obs"][i]`` (with ``info["_final_obs"][i] = True``). Every transition returned
is real, so an episode of length $T$ has exactly $T$ observations, actions and rewards; the
final observation is kept in ``EpisodeBatch.final_obs``, where algorithms that bootstrap
at a time limit ($V(o_T)$ of a truncated episode) find it.

Why complete episodes, and why some samples are dropped. REINFORCE weighs the log-likelihood
of each action with returns that need the episode's end. :func:`collect_episodes` therefore
decides *in advance* how much each copy collects — a fixed number of episodes per copy, or
episodes until the copy has run a fixed number of steps (the episode under way at that moment
is finished) — and never "the first ``n`` episodes to end", which would favour short
episodes and bias every average taken over the batch. Copies that are done keep being
stepped (a vector env steps all copies together) and those extra steps are discarded; their
number is ``EpisodeBatch.n_env_steps`` minus :attr:`EpisodeBatch.n_steps`.

An agent is anything that implements the :class:`Agent` protocol: ``act(obs,
deterministic=False)`` on a batch of observations, and ``obs_dim`` plus ``n_actions`` or
``act_dim``, which :func:`evaluate` compares with the environment before the first step.

Derived in {ref}`ch-score-function` (sampling trajectories) and used by every algorithm of
:mod:`rlnotes.algos`.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import gymnasium as gym
import numpy as np
import torch

__all__ = ["Agent", "EpisodeBatch", "Rollout", "make_vec_env", "collect_episodes", "collect_rollout",
           "evaluate", "VecStep", "step_env"]


# --------------------------------------------------------------------------------------------
# Environments
# --------------------------------------------------------------------------------------------
def _unknown_env_message(env_id, err):
    ids = [str(k) for k in gym.registry.keys()]
    close = difflib.get_close_matches(str(env_id), ids, n=5, cutoff=0.5)
    if not close:  # try case-insensitively, e.g. "cartpole-v1"
        lower = {i.lower(): i for i in ids}
        close = [lower[c] for c in difflib.get_close_matches(str(env_id).lower(), list(lower), n=5, cutoff=0.5)]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (f"unknown environment id {env_id!r} ({err}).{hint} "
            f"All ids: sorted(gymnasium.registry.keys()).")


def make_vec_env(env_id, n_envs=8, seed=0, **make_kwargs):
    r"""``n_envs`` copies of ``env_id`` stepping together, with same-step autoreset.

    env_id:  a registered gymnasium id, e.g. ``"CartPole-v1"``.
    n_envs:  number of copies $N$ (a positive integer).
    seed:    copy $i$ is reset with ``seed + i``; the action and observation spaces are seeded
             with ``seed`` too (so ``env.action_space.sample()`` repeats). None: no seeding.
    make_kwargs: passed on to ``gymnasium.make`` (e.g. ``max_episode_steps=200``).

    Returns a ``gymnasium.vector.SyncVectorEnv`` with
    ``autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP`` (see the module docstring for
    why), already reset. ``obs`` has shape (N, *obs_shape); ``step(actions)`` takes actions of
    shape (N,) (discrete) or (N, act_dim) (continuous) and returns the 5-tuple
    ``(obs, rewards, terminated, truncated, info)``; when copy $i$'s episode ends,
    ``info["final_obs"][i]`` holds its last observation and ``obs[i]`` is already the first
    observation of the next episode.
    """
    if not isinstance(n_envs, (int, np.integer)) or isinstance(n_envs, bool) or n_envs < 1:
        raise ValueError(f"n_envs must be a positive integer, got {n_envs!r}")
    if not isinstance(env_id, str):
        raise TypeError(f"make_vec_env needs an environment id string such as 'CartPole-v1', got "
                        f"{type(env_id).__name__}")
    try:
        gym.spec(env_id)
    except gym.error.Error as err:
        raise ValueError(_unknown_env_message(env_id, err)) from None
    env = gym.vector.SyncVectorEnv(
        [lambda: gym.make(env_id, **make_kwargs) for _ in range(int(n_envs))],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    if seed is not None:
        env.action_space.seed(int(seed))
        env.single_action_space.seed(int(seed))
        env.observation_space.seed(int(seed))
    env.reset(seed=None if seed is None else int(seed))
    return env


# --------------------------------------------------------------------------------------------
# A batch of episodes
# --------------------------------------------------------------------------------------------
@dataclass
class EpisodeBatch:
    r"""Complete episodes collected by :func:`collect_episodes`.

    Notation: $E$ episodes; episode $k$ has length $T_k$ (number of actions taken);
    $T_\text{tot} = \sum_k T_k$. ``obs_shape`` is the env's single observation shape, e.g. (4,)
    for CartPole; ``act_shape`` is () for discrete actions and (act_dim,) for continuous ones.

    Per episode (lists of length $E$, in order of the copy that produced them, then time):

    * ``obs[k]``: (T_k, *obs_shape) — $o_0, \dots, o_{T_k-1}$, the observation each action
      was chosen from;
    * ``actions[k]``: (T_k, *act_shape) — $a_0, \dots, a_{T_k-1}$ as sampled by the policy
      (int64 for discrete actions; continuous ones unclipped, even if the env got them clipped);
    * ``rewards[k]``: (T_k,) float64 — $r_0, \dots, r_{T_k-1}$, $r_t$ received after $a_t$.

    Per episode (arrays of length $E$):

    * ``terminated``: (E,) bool — the episode reached a terminal state (no future rewards);
    * ``truncated``: (E,) bool — it was cut by a time limit (the state was not terminal);
    * ``final_obs``: (E, *obs_shape) — $o_{T_k}$, the observation after the last action
      (from ``info["final_obs"]``; needed to bootstrap $V(o_{T_k})$ after a truncation);
    * ``env_index``: (E,) int — which copy of the vector env played it;
    * ``lengths``: (E,) int — $T_k$;
    * ``returns``: (E,) float — undiscounted returns $\sum_t r_t$.

    Flat views, all episodes concatenated in the order above (length $T_\text{tot}$):

    * ``flat_obs``: (T_tot, *obs_shape); ``flat_actions``: (T_tot, *act_shape);
      ``flat_rewards``: (T_tot,);
    * ``episode_index``: (T_tot,) int — the episode $k$ each step belongs to;
    * ``time_index``: (T_tot,) int — the step's time $t$ within its episode.

    Counters: ``n_steps`` $= T_\text{tot}$ (transitions kept); ``n_env_steps`` — steps the
    vector env actually took (all copies), including those discarded after a copy was done.
    """

    obs: list
    actions: list
    rewards: list
    terminated: np.ndarray
    truncated: np.ndarray
    final_obs: np.ndarray
    env_index: np.ndarray
    n_env_steps: int = 0
    lengths: np.ndarray = field(init=False)
    returns: np.ndarray = field(init=False)
    flat_obs: np.ndarray = field(init=False)
    flat_actions: np.ndarray = field(init=False)
    flat_rewards: np.ndarray = field(init=False)
    episode_index: np.ndarray = field(init=False)
    time_index: np.ndarray = field(init=False)

    def __post_init__(self):
        if len(self.obs) == 0:
            raise ValueError("an EpisodeBatch needs at least one episode")
        self.lengths = np.array([len(r) for r in self.rewards], dtype=np.int64)
        self.returns = np.array([float(np.sum(r)) for r in self.rewards])
        self.flat_obs = np.concatenate(self.obs)
        self.flat_actions = np.concatenate(self.actions)
        self.flat_rewards = np.concatenate(self.rewards)
        self.episode_index = np.repeat(np.arange(len(self.lengths)), self.lengths)
        self.time_index = np.concatenate([np.arange(T) for T in self.lengths])

    @property
    def n_episodes(self) -> int:
        """E, the number of episodes."""
        return len(self.lengths)

    @property
    def n_steps(self) -> int:
        r"""$T_\text{tot}$, the number of transitions in the batch."""
        return int(self.lengths.sum())

    def __len__(self):
        return self.n_episodes

    def __repr__(self):
        return (f"EpisodeBatch({self.n_episodes} episodes, {self.n_steps} steps, "
                f"mean return {self.returns.mean():.4g}, "
                f"lengths {self.lengths.min()}..{self.lengths.max()})")


# --------------------------------------------------------------------------------------------
# The agent interface
# --------------------------------------------------------------------------------------------
class Agent(Protocol):
    r"""What every agent of the book implements (policies, PPO's, A2C/A3C's, DQN's, DDPG's agents).

    * ``act(obs, deterministic=False)``: observations (N, obs_dim) → N actions, numpy: int64
      (N,) for discrete actions, float (N, act_dim) for continuous ones (unclipped is fine:
      the rollout clips them to the action box for the env). ``deterministic=True``: the greedy
      or mean action (evaluation); False: the behaviour policy (sampling, exploration).
    * ``obs_dim``: the observation length the agent was built for;
    * ``n_actions`` (discrete: actions $0, \dots, A-1$) or ``act_dim`` (continuous: $a \in
      \mathbb R^d$) — the action space it was built for; the other one is absent or None.

    :func:`collect_episodes` and :func:`evaluate` read only these (never the agent's class), and
    compare ``obs_dim``, ``n_actions``, ``act_dim`` with the env before the first step, so an
    agent trained on another env gets a clear message. A hand-written agent needs only ``act``.
    """

    obs_dim: int

    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray: ...


# --------------------------------------------------------------------------------------------
# Collecting episodes
# --------------------------------------------------------------------------------------------
def _env_name(env):
    spec = getattr(getattr(env, "envs", [None])[0], "spec", None)
    return spec.id if spec is not None else type(env).__name__


def _check_finite(env, what, x):
    """Name NaN or inf in ``what`` (observations (N, *obs_shape) or rewards (N,)) at the source:
    the env, the copy and the value, before a policy turns it into NaN actions or losses."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.number) and not np.isfinite(x).all():
        i = int(np.argwhere(~np.isfinite(x))[0][0])               # the first bad copy
        wrapper = ("TransformObservation(env, np.nan_to_num, env.observation_space) or a "
                   "gymnasium.ObservationWrapper" if what == "observation" else
                   "TransformReward(env, np.nan_to_num)")
        raise ValueError(
            f"{_env_name(env)} returned a NaN or inf {what} (copy {i} of {env.num_envs}: "
            f"{np.array2string(x[i], precision=4, threshold=8)}); rlnotes needs finite "
            f"observations and rewards. Check the environment (its reset and step), or wrap it "
            f"so that it gives finite values, e.g. with gymnasium.wrappers.{wrapper}.")
    return x

def _check_agent(agent):
    if not callable(getattr(agent, "act", None)):
        raise TypeError(
            f"the agent must have a method act(obs, deterministic=False) returning actions, got "
            f"{type(agent).__name__} without one. Use a policy from rlnotes.policies "
            f"(e.g. make_policy(env.observation_space, env.action_space)) or a TrainResult's "
            f".agent; for a plain function f(obs) -> action, wrap it in a class with an act method.")


def _check_agent_fits_env(agent, env):
    """Compare what the agent was built for (see :class:`Agent`) with the env, before a step."""
    name = type(agent).__name__
    obs_dim = getattr(agent, "obs_dim", None)
    n_actions, act_dim = getattr(agent, "n_actions", None), getattr(agent, "act_dim", None)
    obs_shape, space = env.single_observation_space.shape, env.single_action_space
    if obs_dim is not None and tuple(obs_shape) != (obs_dim,):
        raise ValueError(
            f"the agent ({name}) expects observations of size obs_dim = {obs_dim}, but this "
            f"environment's observations have shape {tuple(obs_shape)}. Is the policy built for "
            f"this environment? Train or build the agent on this env (for a policy: "
            f"make_policy(env.observation_space, env.action_space)) so obs_dim matches.")
    if isinstance(space, gym.spaces.Box) and n_actions is not None:
        raise ValueError(
            f"this environment has continuous actions ({space}) but the agent ({name}) picks "
            f"one of {n_actions} actions. Use rlnotes.policies.DiagGaussianPolicy(obs_dim, "
            f"act_dim), or let rlnotes.policies.make_policy(env.observation_space, "
            f"env.action_space) choose (or an algorithm for continuous actions: PPO, DDPG).")
    if isinstance(space, gym.spaces.Discrete) and act_dim is not None:
        raise ValueError(
            f"this environment has discrete actions ({space}) but the agent ({name}) outputs "
            f"real vectors of length {act_dim}. Use rlnotes.policies.CategoricalPolicy(obs_dim, "
            f"n_actions), or let rlnotes.policies.make_policy(env.observation_space, "
            f"env.action_space) choose.")
    if isinstance(space, gym.spaces.Discrete) and n_actions not in (None, int(space.n)):
        raise ValueError(f"the agent ({name}) picks one of {n_actions} actions but this "
                         f"environment has {space}. Is the policy built for this environment?")
    if isinstance(space, gym.spaces.Box) and act_dim not in (None, *space.shape[:1]):
        raise ValueError(f"the agent ({name}) outputs actions of length {act_dim} but this "
                         f"environment's actions are {space}. Is the policy built for this "
                         f"environment?")


def _actions_for_env(actions, env):
    """Check the agent's actions (N, *act_shape) against the action space; return what to send."""
    space, N = env.single_action_space, env.num_envs
    actions = np.asarray(actions)
    if isinstance(space, gym.spaces.Discrete):
        if actions.shape != (N,) or not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(
                f"for {N} copies of an env with {space} actions the agent must return {N} integer "
                f"actions, shape ({N},), got dtype {actions.dtype} and shape {actions.shape}. A "
                f"continuous policy (DiagGaussianPolicy) does not fit a discrete env: use "
                f"CategoricalPolicy or rlnotes.policies.make_policy(env.observation_space, "
                f"env.action_space).")
        return actions.astype(np.int64), actions.astype(np.int64)
    if isinstance(space, gym.spaces.Box):
        want = (N, *space.shape)
        if actions.shape != want or not np.issubdtype(actions.dtype, np.floating):
            raise ValueError(
                f"for {N} copies of an env with continuous actions {space} the agent must return "
                f"real actions of shape {want}, got dtype {actions.dtype} and shape "
                f"{actions.shape}. A CategoricalPolicy does not fit a continuous env: use "
                f"rlnotes.policies.DiagGaussianPolicy or rlnotes.policies.make_policy("
                f"env.observation_space, env.action_space).")
        sent = np.clip(actions, space.low, space.high).astype(space.dtype)
        return actions, sent
    raise ValueError(f"action space {space} is not supported: rlnotes handles Discrete and 1-D Box "
                     f"action spaces")


def collect_episodes(policy, env_or_id, n_episodes=None, min_steps=None, seed=0, n_envs=8,
                     deterministic=False, max_episode_steps=100_000):
    r"""Run ``policy`` in a vector env and return a batch of complete episodes.

    policy:     an :class:`Agent` (anything with ``act(obs, deterministic=False)`` taking a
                batch of observations (N, *obs_shape) and returning N actions, e.g. a policy
                from :mod:`rlnotes.policies`). It is called once per vector step, under
                ``torch.no_grad()``.
    env_or_id:  an env id (a vector env with ``n_envs`` copies is made with
                :func:`make_vec_env`), or a vector env made by :func:`make_vec_env` (reused:
                training calls this once per batch on the same env).
    n_episodes: collect exactly this many episodes: copy $i$ plays
                ``n_episodes // N + (i < n_episodes % N)`` of them.
    min_steps:  collect at least this many steps: every copy plays episodes until it has taken
                ``ceil(min_steps / N)`` steps, finishing the episode under way.
                With both given, a copy stops once both of its quotas are met. At least one is
                required. The quotas are fixed before any episode is seen, so the batch is not
                biased toward short episodes (see the module docstring).
    seed:       the vector env is reset with ``reset(seed=seed)`` first (copy $i$ gets
                ``seed + i``; copy $i$'s later episodes continue its own random stream). None:
                ``reset()`` without a seed, continuing the env's random streams — use this for
                the second and later batches of a training run.
    deterministic: passed to ``policy.act`` (greedy/mean actions when True).
    max_episode_steps: an episode still running after this many steps raises RuntimeError, so
                that an env without a time limit cannot hang a chapter or a benchmark.

    Returns an :class:`EpisodeBatch`. Actions come from ``policy.act``, so a stochastic policy
    draws from torch's global random generator (seed it with ``rlnotes.seed_everything``).
    """
    _check_agent(policy)
    if n_episodes is None and min_steps is None:
        raise ValueError("collect_episodes needs a batch size: pass n_episodes=... (number of "
                         "complete episodes) and/or min_steps=... (minimum number of steps)")
    for name, value in (("n_episodes", n_episodes), ("min_steps", min_steps)):
        if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
                                  or value < 1):
            raise ValueError(f"{name} must be a positive integer or None, got {value!r}")

    if isinstance(env_or_id, str):
        env = make_vec_env(env_or_id, n_envs=n_envs, seed=seed)
    elif isinstance(env_or_id, gym.vector.VectorEnv):
        env = env_or_id
        mode = env.metadata.get("autoreset_mode")
        if mode != gym.vector.AutoresetMode.SAME_STEP:
            raise ValueError(
                f"collect_episodes needs a vector env with autoreset_mode=SAME_STEP (got {mode}); "
                f"make it with rlnotes.rollout.make_vec_env(env_id, n_envs, seed)")
    elif isinstance(env_or_id, gym.Env):
        raise TypeError("collect_episodes takes an env id or a vector env; for a single env made "
                        "with gym.make, pass its id instead (e.g. env.spec.id) or use "
                        "rlnotes.rollout.make_vec_env(env_id, n_envs=1)")
    else:
        raise TypeError(f"env_or_id must be an env id string or a gymnasium vector env, got "
                        f"{type(env_or_id).__name__}")
    _check_agent_fits_env(policy, env)

    N = env.num_envs
    if n_episodes is not None:
        quota = np.array([n_episodes // N + (i < n_episodes % N) for i in range(N)])
    else:
        quota = np.zeros(N, dtype=np.int64)
    t_min = 0 if min_steps is None else math.ceil(min_steps / N)   # steps each copy must take

    obs, _ = env.reset(seed=None if seed is None else int(seed))
    _check_finite(env, "observation", obs)            # step_env checks every later one
    obs_buf, act_buf, rew_buf = [], [], []            # one (N, ...) array per vector step
    start = np.zeros(N, dtype=np.int64)               # vector step at which copy i's episode began
    done_count = np.zeros(N, dtype=np.int64)          # episodes copy i has finished
    active = (quota > 0) | (t_min > 0)                # copy i is still recording
    episodes = []                                     # (copy, start, end, terminated, final_obs)
    t = 0
    while active.any():
        with torch.no_grad():
            actions = policy.act(obs, deterministic=deterministic)
        actions, sent = _actions_for_env(actions, env)
        step = step_env(env, sent)                    # the truncation rule: see step_env
        obs_buf.append(obs)
        act_buf.append(actions)
        rew_buf.append(np.asarray(step.rewards, dtype=np.float64))
        t += 1
        for i in np.flatnonzero(step.done & active):
            # step.next_obs[i] is o_T; step.obs[i] already starts the copy's next episode
            episodes.append((i, start[i], t, bool(step.terminated[i]), step.next_obs[i]))
            done_count[i] += 1
            start[i] = t
            if done_count[i] >= quota[i] and t >= t_min:
                active[i] = False
        if (active & (t - start >= max_episode_steps)).any():
            raise RuntimeError(
                f"an episode has run for {max_episode_steps:,} steps without ending: the env has "
                f"no time limit (or a longer one). Give it one: pass make_vec_env(env_id, n_envs, "
                f"seed, max_episode_steps=1000) instead of the id, or register the env with "
                f"max_episode_steps; or raise max_episode_steps.")
        obs = step.obs

    episodes.sort(key=lambda e: (e[0], e[1]))         # by copy, then time
    O, A, R = np.stack(obs_buf), np.stack(act_buf), np.stack(rew_buf)   # (t, N, ...)
    return EpisodeBatch(
        obs=[O[s:e, i] for i, s, e, _, _ in episodes],
        actions=[A[s:e, i] for i, s, e, _, _ in episodes],
        rewards=[R[s:e, i] for i, s, e, _, _ in episodes],
        terminated=np.array([term for *_, term, _ in episodes], dtype=bool),
        truncated=np.array([not term for *_, term, _ in episodes], dtype=bool),
        final_obs=np.stack([np.asarray(f) for *_, f in episodes]),
        env_index=np.array([i for i, *_ in episodes], dtype=np.int64),
        n_env_steps=t * N,
    )


# --------------------------------------------------------------------------------------------
# A fixed-length rollout (PPO, A2C, A3C)
# --------------------------------------------------------------------------------------------
@dataclass
class Rollout:
    r"""$T$ steps of $N$ env copies, as :func:`collect_rollout` returns them.

    Per step, time first (episodes are cut anywhere; a copy whose episode ends goes on with
    the next one):

    * ``obs``: (T, N, *obs_shape) float32 — $s_t$, the observation $a_t$ was chosen from;
    * ``actions``: (T, N, *act_shape) — $a_t$ as the agent returned it (int64 for discrete
      actions; continuous ones float32 and unclipped, even if the env got them clipped);
    * ``rewards``: (T, N) float64 — $r_t$;
    * ``terminated``, ``truncated``: (T, N) bool — the episode ended at this step in a terminal
      state / was cut by a time limit;
    * ``next_obs``: (T, N, *obs_shape) float32 — $s_{t+1}$, the true next observation: where an
      episode ended, its last observation $o_T$ (``info["final_obs"]``), never the next
      episode's first one. Elsewhere ``next_obs[t] == obs[t + 1]``.

    Episodes that finished during the rollout, in order of step, then copy (length $E$):
    ``episode_returns`` (E,) undiscounted returns and ``episode_lengths`` (E,), counted from
    the episode's first step (maybe in an earlier rollout); ``episode_steps`` (E,) — the vector
    step $1 \dots T$ at whose end it finished.

    Carried over to the next rollout (``collect_rollout(..., previous=this)``): ``last_obs``
    (N, *obs_shape), the observation to act on next, and ``running_returns``,
    ``running_lengths`` (N,) of the episodes under way.
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    next_obs: np.ndarray
    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    episode_steps: np.ndarray
    last_obs: np.ndarray
    running_returns: np.ndarray
    running_lengths: np.ndarray

    def flat(self, name):
        """A per-step field with time and copies merged: (T, N, ...) → (T·N, ...), a view."""
        x = getattr(self, name)
        return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])

    def finished(self, env_steps=0):
        """``(env_step, return)`` of each finished episode, ``env_step`` counting the steps of
        all copies: ``env_steps`` taken before this rollout + N × the vector step it ended at."""
        N = self.rewards.shape[1]
        return [(env_steps + int(s) * N, float(r))
                for s, r in zip(self.episode_steps, self.episode_returns)]




def collect_rollout(env, act, n_steps, previous=None, seed=None):
    r"""Step the $N$ copies of ``env`` for $T$ = ``n_steps`` steps; return a :class:`Rollout`.

    env:      a vector env from :func:`make_vec_env` (same-step autoreset).
    act:      a function observations (N, *obs_shape) → actions (N, *act_shape), e.g. an
              agent's ``act`` (:class:`Agent`); called once per vector step (batched inference),
              under ``torch.no_grad()``. Continuous actions are clipped to the action box for
              the env and stored as returned.
    previous: the previous rollout of the same run: go on from its ``last_obs`` and the
              returns of the episodes under way. None: the first rollout — the env is reset
              with ``reset(seed=seed)``.

    Each step goes through :func:`step_env`, where the truncation rule is written once: the
    stored $s_{t+1}$ of a finished episode is its true last observation. Raises
    ValueError, naming the env and the value, if it returns a NaN or inf observation or reward.
    """
    if previous is None:
        obs, _ = env.reset(seed=seed)
        _check_finite(env, "observation", obs)        # step_env checks every later one
        running_returns, running_lengths = np.zeros(env.num_envs), np.zeros(env.num_envs, np.int64)
    else:
        obs = previous.last_obs
        running_returns = previous.running_returns.copy()
        running_lengths = previous.running_lengths.copy()
    T, N, space = int(n_steps), env.num_envs, env.single_action_space
    obs_shape = env.single_observation_space.shape
    obs_buf = np.zeros((T, N, *obs_shape), dtype=np.float32)                    # s_t
    next_obs_buf = np.zeros((T, N, *obs_shape), dtype=np.float32)               # s_{t+1}
    act_buf = np.zeros((T, N, *space.shape),
                       dtype=np.float32 if isinstance(space, gym.spaces.Box) else np.int64)
    rew_buf = np.zeros((T, N))
    term_buf, trunc_buf = np.zeros((T, N), dtype=bool), np.zeros((T, N), dtype=bool)
    finished = []                                     # (vector step, return, length)
    for t in range(T):
        with torch.no_grad():
            actions = act(obs)                                                  # a_t ~ π(·|s_t)
        actions, sent = _actions_for_env(actions, env)                          # sent: clipped
        step = step_env(env, sent)
        obs_buf[t], act_buf[t], rew_buf[t] = obs, actions, step.rewards
        term_buf[t], trunc_buf[t] = step.terminated, step.truncated
        next_obs_buf[t] = step.next_obs                                         # o_T at an end
        running_returns += step.rewards
        running_lengths += 1
        for i in np.flatnonzero(step.done):
            finished.append((t + 1, running_returns[i], running_lengths[i]))
            running_returns[i], running_lengths[i] = 0.0, 0
        obs = step.obs                                # the next episode's first obs at an end
    ends, returns, lengths = (np.array(c) for c in zip(*finished)) if finished else ([], [], [])
    return Rollout(obs_buf, act_buf, rew_buf, term_buf, trunc_buf, next_obs_buf,
                   episode_returns=np.asarray(returns, dtype=np.float64),
                   episode_lengths=np.asarray(lengths, dtype=np.int64),
                   episode_steps=np.asarray(ends, dtype=np.int64),
                   last_obs=obs, running_returns=running_returns, running_lengths=running_lengths)


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------
def evaluate(agent, env_id, n_episodes=10, seed=0, n_envs=None, max_episode_steps=100_000):
    r"""Undiscounted returns $\sum_t r_t$ of ``n_episodes`` episodes played greedily.

    agent:      an :class:`Agent` (a policy, or a TrainResult's ``.agent``; anything with
                ``act(obs, deterministic=True)`` will do); with ``deterministic=True`` a
                categorical policy takes $\arg\max_a \pi(a|s)$ and a Gaussian policy its mean
                $\mu_\theta(s)$. Its ``obs_dim`` and ``n_actions`` or ``act_dim`` are compared
                with the env first: an agent built for another env gets a clear message.
    env_id:     a gymnasium id, e.g. ``"CartPole-v1"``, or a vector env from :func:`make_vec_env`.
    n_episodes: number of episodes; seed: the env seed. With the default ``n_envs`` (one
                copy per episode, at most 16) episode $k$ starts from
                ``reset(seed=seed + k)`` — the same episodes for every agent evaluated.
    max_episode_steps: an episode still running after this many steps raises RuntimeError
                (an env without a time limit would otherwise play forever), as in
                :func:`collect_episodes`; an env's own time limit ends its episodes first.
    Returns a float array of shape (n_episodes,). A NaN or inf observation from the env raises
    ValueError naming it (a Gaussian policy would return NaN actions, and NaN returns).
    """
    _check_agent(agent)
    if not isinstance(n_episodes, (int, np.integer)) or n_episodes < 1:
        raise ValueError(f"n_episodes must be a positive integer, got {n_episodes!r}")
    if n_envs is None:
        n_envs = min(int(n_episodes), 16)
    batch = collect_episodes(agent, env_id, n_episodes=int(n_episodes), seed=seed, n_envs=n_envs,
                             deterministic=True, max_episode_steps=max_episode_steps)
    return batch.returns


# --------------------------------------------------------------------------------------------
# One step, for the off-policy algorithms (DQN, DDPG)
# --------------------------------------------------------------------------------------------
class VecStep(NamedTuple):
    r"""One step of $N$ env copies, as :func:`step_env` returns it (each field has length $N$).

    next_obs:   (N, *obs_shape) — $s_{t+1}$ to *store*: the true next observation, also where
                an episode ended (its last observation $o_T$, from ``info["final_obs"]``);
    rewards:    (N,) — $r_t$;
    terminated: (N,) bool — $s_{t+1}$ is terminal (the only flag that stops a bootstrap);
    truncated:  (N,) bool — the episode was cut by a time limit ($s_{t+1}$ is not terminal);
    obs:        (N, *obs_shape) — the observation to *act on* next: ``next_obs``, except
                where an episode ended, where it is the first observation of the next one.

    ``done`` = terminated | truncated: the copies whose episode finished at this step.
    """

    next_obs: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    obs: np.ndarray

    @property
    def done(self):
        return self.terminated | self.truncated


def step_env(env, actions):
    r"""Step a vector env from :func:`make_vec_env` once; return a :class:`VecStep`.

    The truncation rule of the off-policy algorithms, written once: with same-step autoreset
    the env returns, for a copy whose episode just ended, the *next* episode's first
    observation; the transition to store needs the true last observation $o_T$ instead
    (``info["final_obs"]``), which still bootstraps after a truncation
    {cite}`pardo2018timelimits`. ``actions``: what ``env.step`` takes, (N,) or (N, act_dim).
    A NaN or inf observation or reward raises ValueError here, at the source, naming the env
    and the value (a policy would turn it into NaN actions without complaint).
    """
    if env.metadata.get("autoreset_mode") != gym.vector.AutoresetMode.SAME_STEP:
        raise ValueError("step_env needs a vector env with autoreset_mode=SAME_STEP; make it "
                         "with rlnotes.rollout.make_vec_env(env_id, n_envs, seed)")
    obs, rewards, terminated, truncated, info = env.step(actions)
    _check_finite(env, "observation", obs)            # np.isfinite on the batch: cheap
    _check_finite(env, "reward", rewards)
    next_obs = obs
    done = terminated | truncated
    if done.any():                                    # o_T of a finished episode is in final_obs
        next_obs = obs.copy()
        for i in np.flatnonzero(done):
            next_obs[i] = info["final_obs"][i]
        _check_finite(env, "observation", next_obs)
    return VecStep(next_obs, rewards, terminated, truncated, obs)
