r"""Experience replay: a fixed-size memory of transitions, sampled uniformly.

Off-policy value methods (DQN, DDPG) learn from transitions
$(s_t, a_t, r_t, s_{t+1}, \text{terminated}_{t+1})$ collected by *older* versions of the agent.
A :class:`ReplayBuffer` keeps the last ``capacity`` of them in preallocated numpy arrays used as
a ring: once full, each new transition overwrites the oldest. A minibatch is drawn uniformly at
random from everything stored, which (i) breaks the correlation between consecutive steps that
makes naive online Q-learning with a network unstable, and (ii) reuses each transition in many
updates {cite}`lin1992,mnih2015`. Derived in the chapter "Q-learning and deep Q-networks"
({ref}`ch-dqn`).

Why ``terminated`` and not ``done``. Gymnasium reports two different ways an episode can stop:
``terminated`` — the environment reached a terminal state, after which no reward can follow,
so the target is $y = r_t$; and ``truncated`` — a time limit (or any other outside reason)
stopped the experiment in a state that is *not* terminal. The value of that state is still
$\gamma \max_{a'} Q(s_{t+1}, a')$ away from zero, so the target keeps bootstrapping,
$y = r_t + \gamma \max_{a'} Q(s_{t+1}, a')$ {cite}`pardo2018timelimits`. Storing
``done = terminated or truncated`` would teach the network that CartPole's pole is worth 0 at
step 500 although it is perfectly balanced — exactly the states of a good policy. The buffer
therefore stores only ``terminated``; a truncated transition is stored as an ordinary one,
with ``next_obs`` the *true* last observation $o_T$ (with same-step autoreset, that is
``info["final_obs"]``, not the reset observation the vector env returns; see
:mod:`rlnotes.rollout`).

Usage::

    buf = ReplayBuffer(capacity=50_000, obs_shape=(4,), seed=0)    # CartPole: 4 numbers, Discrete
    buf.add(obs, action, reward, next_obs, terminated)             # one transition, or a batch of N
    batch = buf.sample(64)            # ReplayBatch of numpy arrays; batch.as_tensors() for torch
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["ReplayBuffer", "ReplayBatch"]


class ReplayBatch(NamedTuple):
    r"""A minibatch of $B$ transitions drawn from a :class:`ReplayBuffer` (numpy arrays).

    obs:        (B, *obs_shape) ``obs_dtype`` — $s_t$
    actions:    (B, *act_shape) ``act_dtype`` — $a_t$
    rewards:    (B,) float32 — $r_t$
    next_obs:   (B, *obs_shape) ``obs_dtype`` — $s_{t+1}$ (the true next observation, also
                after a truncation)
    terminated: (B,) float32, 1.0 where $s_{t+1}$ is terminal and 0.0 otherwise, ready for the
                factor $(1 - \text{terminated})$ of the target
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray

    def as_tensors(self):
        """The same batch as torch tensors (no copy: they share memory with the numpy arrays)."""
        import torch

        return ReplayBatch(*(torch.from_numpy(np.ascontiguousarray(x)) for x in self))


class ReplayBuffer:
    r"""A ring buffer of the last ``capacity`` transitions $(s, a, r, s', \text{terminated})$.

    capacity:  the number of transitions kept (a positive int); when full, new transitions
               overwrite the oldest (first in, first out).
    obs_shape: the shape of one observation, e.g. ``(4,)`` for CartPole or ``()`` for the
               integer states of a toy-text env.
    act_shape: the shape of one action: ``()`` for a discrete action (an int), ``(act_dim,)``
               for a continuous one.
    obs_dtype, act_dtype: storage types (defaults: float32 observations, int64 actions; use
               ``act_dtype=np.float32`` for continuous actions, ``obs_dtype=np.int64`` for
               integer states).
    seed:      seeds the buffer's own ``numpy.random.Generator`` used by :meth:`sample`
               (None: fresh entropy).

    Memory: ``2 * capacity * prod(obs_shape)`` observation entries (``obs`` and ``next_obs``
    are stored separately; simpler to read than sharing them, and small for the vector
    observations of this book).
    """

    def __init__(self, capacity, obs_shape, act_shape=(), obs_dtype=np.float32,
                 act_dtype=np.int64, seed=None):
        if isinstance(capacity, (bool, np.bool_)) or not isinstance(capacity, (int, np.integer)) \
                or capacity < 1:
            raise ValueError(f"ReplayBuffer capacity must be a positive int (the number of "
                             f"transitions kept, e.g. 100_000), got {capacity!r}")
        self.capacity = int(capacity)
        self.obs_shape = _shape(obs_shape, "obs_shape", "(4,) for CartPole, () for integer states")
        self.act_shape = _shape(act_shape, "act_shape", "() for a discrete action, (act_dim,) "
                                                        "for a continuous one")
        self.obs_dtype, self.act_dtype = np.dtype(obs_dtype), np.dtype(act_dtype)
        self.obs = np.zeros((self.capacity, *self.obs_shape), dtype=self.obs_dtype)
        self.actions = np.zeros((self.capacity, *self.act_shape), dtype=self.act_dtype)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.next_obs = np.zeros((self.capacity, *self.obs_shape), dtype=self.obs_dtype)
        self.terminated = np.zeros(self.capacity, dtype=bool)
        self.pos = 0           # where the next transition goes
        self.size = 0          # how many slots hold data (≤ capacity)
        self.n_added = 0       # transitions added in total (including those overwritten)
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        """The number of transitions stored: min(transitions added, capacity)."""
        return self.size

    def __repr__(self):
        return (f"ReplayBuffer({self.size}/{self.capacity} transitions, obs_shape={self.obs_shape}, "
                f"act_shape={self.act_shape}, {self.n_added} added)")

    # ----------------------------------------------------------------------------------------
    def add(self, obs, action, reward, next_obs, terminated):
        r"""Store one transition, or a batch of $N$ (e.g. one vector-env step with $N$ copies).

        One transition: ``obs`` and ``next_obs`` of shape ``obs_shape``, ``action`` of shape
        ``act_shape``, ``reward`` and ``terminated`` scalars. A batch: the same with a leading
        dimension $N$ on every argument (rewards and terminated of shape (N,)). A batch is
        stored exactly as $N$ single adds in order would be.

        terminated: True only if ``next_obs`` is a terminal state (gymnasium's ``terminated``).
        Do not pass ``terminated or truncated``: a transition cut by a time limit must still
        bootstrap (see the module docstring); pass its true final observation as ``next_obs``.
        """
        obs = np.asarray(obs)
        n_lead = obs.ndim - len(self.obs_shape)
        if n_lead not in (0, 1) or obs.shape[n_lead:] != self.obs_shape:
            raise ValueError(
                f"ReplayBuffer.add: obs must have shape obs_shape = {self.obs_shape} (one "
                f"transition) or (N, *obs_shape) = (N, {', '.join(map(str, self.obs_shape))}) (a "
                f"batch of N), got {obs.shape}. Build the buffer with the env's "
                f"observation_space.shape (single_observation_space.shape for a vector env).")
        N = obs.shape[0] if n_lead == 1 else None
        lead = () if N is None else (N,)
        what = "one transition" if N is None else f"a batch of N = {N} (from obs {obs.shape})"

        next_obs = np.asarray(next_obs)
        if next_obs.shape != obs.shape:
            raise ValueError(f"ReplayBuffer.add: next_obs must have the same shape as obs, "
                             f"{obs.shape}, got {next_obs.shape}")
        action = np.asarray(action)
        if action.shape != (*lead, *self.act_shape):
            hint = (" For a discrete action space use act_shape=() (actions are single ints); "
                    "for a continuous one act_shape=(act_dim,) and act_dtype=np.float32."
                    if action.shape[len(lead):] != self.act_shape else "")
            raise ValueError(f"ReplayBuffer.add: for {what} actions must have shape "
                             f"{(*lead, *self.act_shape)}, got {action.shape}.{hint}")
        if np.issubdtype(self.act_dtype, np.integer) and not (
                np.issubdtype(action.dtype, np.integer) or action.dtype == bool):
            raise ValueError(f"ReplayBuffer.add: this buffer stores integer (discrete) actions "
                             f"(act_dtype={self.act_dtype}) but got actions of dtype "
                             f"{action.dtype}. For continuous actions build it with "
                             f"act_dtype=np.float32 and act_shape=(act_dim,).")
        reward, terminated = np.asarray(reward), np.asarray(terminated)
        for name, x in (("reward", reward), ("terminated", terminated)):
            if x.shape != lead:
                raise ValueError(f"ReplayBuffer.add: for {what} {name} must have shape {lead} "
                                 f"({'a scalar' if N is None else 'one per transition'}), got "
                                 f"{x.shape}")
        if terminated.dtype != bool:
            if not np.all((terminated == 0) | (terminated == 1)):
                raise ValueError(f"ReplayBuffer.add: terminated must be boolean (gymnasium's "
                                 f"terminated flag), got values {np.unique(terminated)}")
            terminated = terminated.astype(bool)
        if not (np.all(np.isfinite(reward)) and np.all(np.isfinite(np.asarray(obs, dtype=float)))
                and np.all(np.isfinite(np.asarray(next_obs, dtype=float)))):
            raise ValueError("ReplayBuffer.add: reward, obs or next_obs contains NaN or inf; check "
                             "the environment (or a wrapper) that produced them")

        if N is None:                                   # one transition: write it at pos
            i = self.pos
            self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
            self.next_obs[i], self.terminated[i] = next_obs, terminated
            self.pos = (i + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)
            self.n_added += 1
            return
        # a batch: the slots N sequential adds would use, pos, pos+1, ... modulo capacity. If
        # N > capacity only the last `capacity` transitions survive, as with sequential adds.
        keep = min(N, self.capacity)
        idx = (self.pos + np.arange(N - keep, N)) % self.capacity
        sl = slice(N - keep, N)
        self.obs[idx], self.actions[idx], self.rewards[idx] = obs[sl], action[sl], reward[sl]
        self.next_obs[idx], self.terminated[idx] = next_obs[sl], terminated[sl]
        self.pos = (self.pos + N) % self.capacity
        self.size = min(self.size + N, self.capacity)
        self.n_added += N

    def sample(self, batch_size):
        r"""A minibatch of ``batch_size`` transitions drawn uniformly, with replacement.

        Each stored transition is picked with probability $1/|\mathcal D|$ per draw
        ($|\mathcal D|$ = ``len(self)``), independently, as in {cite}`mnih2015`.
        Returns a :class:`ReplayBatch` of numpy arrays (``.as_tensors()`` converts it to torch).
        Raises ``ValueError`` while fewer than ``batch_size`` transitions are stored.
        """
        self._check_sample_size(batch_size)
        idx = self.rng.integers(0, self.size, size=batch_size)          # B indices, uniform
        return self._batch_at(idx)

    def sample_batches(self, n_batches, batch_size):
        r"""``n_batches`` minibatches at once: a :class:`ReplayBatch` whose arrays have the
        leading shape ``(n_batches, batch_size)``, e.g. obs (n_batches, B, *obs_shape).

        The same draws, in the same order, as ``n_batches`` calls of :meth:`sample` (one
        generator call for all indices; ``Generator.integers`` gives the same stream either
        way, checked in the tests), but one gather instead of ``n_batches``: DQN samples all
        the minibatches of an update phase this way, since no transition is added in between.
        """
        self._check_sample_size(batch_size, n_batches)
        idx = self.rng.integers(0, self.size, size=(n_batches, batch_size))   # uniform
        return self._batch_at(idx)

    def _batch_at(self, idx):
        """The transitions at slots ``idx`` (an int array of any shape) as a ReplayBatch."""
        return ReplayBatch(self.obs[idx], self.actions[idx], self.rewards[idx],
                           self.next_obs[idx], self.terminated[idx].astype(np.float32))

    def _check_sample_size(self, batch_size, n_batches=1):
        for name, value in (("n_batches", n_batches), ("batch_size", batch_size)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
                    or value < 1:
                raise ValueError(f"ReplayBuffer.sample: {name} must be a positive int, got "
                                 f"{value!r}")
        if self.size < batch_size:
            raise ValueError(
                f"ReplayBuffer.sample({batch_size}): not enough data — the buffer holds "
                f"{self.size} transition{'s' if self.size != 1 else ''}, and sampling a batch "
                f"needs at least batch_size = {batch_size}. Add "
                f"{batch_size - self.size} more first (in DQN: learning_starts >= batch_size "
                f"steps of exploration before the first update).")


def _shape(shape, name, example):
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise ValueError(f"ReplayBuffer {name} must be a tuple of ints ({example}), got "
                         f"{shape!r}") from None
    if any(d < 1 for d in shape):
        raise ValueError(f"ReplayBuffer {name} must have positive dimensions ({example}), got "
                         f"{shape}")
    return shape
