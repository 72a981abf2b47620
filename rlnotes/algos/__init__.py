r"""The book's algorithms, one module each, all with the same three names.

Each ``rlnotes.algos.<name>`` module has

* a ``Config`` dataclass: every field declared with its default and its check
  (:mod:`rlnotes.algos.fields`), one short comment beside it;
* ``make_agent(env, config, seed=0)``: the untrained agent for the spaces of ``env`` (a vector env
  from :func:`rlnotes.rollout.make_vec_env`) — what ``train`` starts from, and what
  ``rlnotes.load`` rebuilds before it copies the saved weights into the agent's modules;
* ``train(env_id, config=None, seed=0, total_steps=None, progress=True) -> TrainResult``, whose
  numbered steps are the chapter's algorithm box (collect → targets → losses → update).

``rlnotes.evaluate(result.agent, env_id)`` works on every agent.

**Where a loss lives.** A loss has one home, chosen by what it is:

* every return and target — reward-to-go and the bootstrap of a truncated episode, $n$-step
  returns, GAE, the TD targets of $V$ and $Q$, the Double-DQN and DDPG targets — is computed by a
  function of :mod:`rlnotes.returns`; an algorithm's file only applies them to its own data
  (``reinforce.value_targets`` to a batch of episodes, ``a2c.advantages_and_targets`` to a rollout);
* an *estimator*, a function of log-probabilities, weights and advantages alone (tensors in, a
  scalar out, no network) that the policy-gradient chapters derive and compare on their own —
  the score-function pseudo-loss ``pg_loss``, the optimal baseline, importance weights, the
  clipped and KL-penalised surrogates ``ppo_clip_loss`` / ``ppo_kl_loss`` of the
  importance-sampling chapter — is in :mod:`rlnotes.estimators`, whichever algorithms use it;
* an *algorithm's loss*, the one it takes its gradient steps on (it calls the algorithm's networks
  or combines the terms with its ``Config`` coefficients), is in that algorithm's file next to
  its ``train``: ``reinforce.fit_value`` (the regression of $V_\phi$), ``a2c.a2c_loss`` (A3C, the same algorithm run
  asynchronously, imports it from there), ``ppo.compute_loss_pi`` / ``ppo.compute_loss_v``,
  ``dqn.dqn_loss``, and DDPG's actor and critic losses.

The small pieces every ``train`` shares (the check of the env's spaces, the progress bar, the episode
log, a gradient step, the final :class:`TrainResult`) are the functions below; there is no base class.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from ..progress import TextBar
from ..progress import progress as progress_bar
from ..rollout import Agent
from .fields import (
    check_fields,
    check_learning_starts,
    checked,
    flag,
    in_range,
    layer_sizes,
    learning_rate,
    non_negative,
    number,
    one_of,
    or_none,
    positive,
    positive_int,
)

__all__ = ["TrainResult", "resolve_config", "check_spaces", "training_bar", "record_episodes",
           "gradient_step", "train_result",
           # the Config fields, also importable from here (see rlnotes.algos.fields)
           "check_fields", "check_learning_starts", "checked", "flag", "number", "positive", "learning_rate",
           "non_negative", "positive_int", "in_range", "one_of", "layer_sizes", "or_none"]


@dataclass
class TrainResult:
    r"""What a ``train`` function returns.

    agent:     the trained agent, an :class:`rlnotes.rollout.Agent`: it has ``act(obs,
               deterministic=False)`` and says what it was built for (``obs_dim``, ``n_actions``
               or ``act_dim``; for REINFORCE it is the policy network $\pi_\theta$ itself), so
               ``rlnotes.evaluate(result.agent, env_id)`` works.
    history:   a list of ``(env_step, episode_return, wall_seconds)`` tuples, one per finished
               training episode, in order: the number of environment steps used for training
               up to and including that episode, the episode's undiscounted return, and the
               seconds since training started when the episode was recorded (for algorithms
               that learn from batches: when its batch was complete).
    config:    the ``Config`` the run used.
    wall_time: seconds spent in the training loop (building the env and networks included,
               evaluation excluded).
    stats:     extra numbers an algorithm reports (e.g. updates made, env steps discarded).
    env_id:    the gymnasium id the agent was trained on.
    seed:      the seed of the run (the same seed, Config and machine give the same history).
    """

    agent: Agent
    history: list
    config: Any
    wall_time: float
    stats: dict = field(default_factory=dict)
    env_id: str | None = None
    seed: int | None = None

    @property
    def steps(self) -> np.ndarray:
        """The ``env_step`` column of the history, an int array of shape (n_episodes,)."""
        return np.array([h[0] for h in self.history], dtype=np.int64)

    @property
    def returns(self) -> np.ndarray:
        """The ``episode_return`` column of the history, a float array of shape (n_episodes,)."""
        return np.array([h[1] for h in self.history], dtype=float)

    @property
    def wall(self) -> np.ndarray:
        """The ``wall_seconds`` column of the history, a float array of shape (n_episodes,)."""
        return np.array([h[2] for h in self.history], dtype=float)

    def __repr__(self):
        last = self.returns[-20:]
        tail = f", mean return of the last {len(last)} episodes {last.mean():.4g}" if len(last) else ""
        return (f"TrainResult({type(self.agent).__name__}, {len(self.history)} episodes, "
                f"{self.history[-1][0] if self.history else 0} env steps, "
                f"{self.wall_time:.1f} s{tail})")


def resolve_config(cls, config, total_steps=None):
    """The Config a ``train`` call runs with: ``cls()`` if ``config`` is None, else ``config``
    (which must be a ``cls``), with ``total_steps`` (if given) in place of ``config.total_steps``."""
    config = cls() if config is None else config
    if not isinstance(config, cls):
        raise TypeError(f"config must be a {cls.__module__}.Config, got {type(config).__name__}")
    return config if total_steps is None else replace(config, total_steps=total_steps)  # checked


# --------------------------------------------------------------------------------------------
# What every train() shares
# --------------------------------------------------------------------------------------------
def check_spaces(env, algo, actions, instead, observations_instead):
    r"""The observation and action spaces of ``env`` (a vector env's single spaces, or a plain
    env's), after checking that ``algo`` can learn on them: a 1-D Box of observations (obs_dim,)
    and an action space of type ``actions`` (``gym.spaces.Discrete`` or ``gym.spaces.Box``).
    Otherwise a ValueError that ends with ``instead`` (for the actions) or ``observations_instead``."""
    obs_space = getattr(env, "single_observation_space", None) or env.observation_space
    act_space = getattr(env, "single_action_space", None) or env.action_space
    if not isinstance(act_space, actions):
        raise ValueError(f"{algo} supports {actions.__name__} action spaces only; got {act_space}. {instead}")
    if not (isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 1):
        raise ValueError(f"{algo} needs a 1-D Box observation space, vectors (obs_dim,); got {obs_space}. "
                         f"{observations_instead}")
    return obs_space, act_space


def training_bar(progress, total, desc):
    """The progress bar of a ``train`` call (``rlnotes.progress``), counting ``total`` env steps;
    a silent one if ``progress`` is False."""
    if progress:
        return progress_bar(total=total, desc=desc, unit="steps")
    return TextBar(total=total, disable=True)


def record_episodes(history, episodes, wall, bar, **postfix):
    """Append ``(env_step, episode_return, wall)`` to ``history`` for every ``(env_step,
    episode_return)`` in ``episodes`` (finished training episodes); if there were any, ``bar``
    shows the mean return of the last 20 episodes (and ``postfix``, e.g. ``eps=0.1``)."""
    n = len(history)
    history.extend((int(step), float(ret), float(wall)) for step, ret in episodes)
    if len(history) > n:
        bar.set_postfix(ret=float(np.mean([h[1] for h in history[-20:]])), **postfix)


def gradient_step(optimizer, loss, max_grad_norm=None, likely_causes=None):
    r"""One step of ``optimizer`` on ``loss``: $\nabla L$ by backpropagation, its norm over all the
    optimiser's parameters clipped to ``max_grad_norm`` (None: not clipped), then the update.

    A loss that is NaN or inf raises FloatingPointError before the step, with ``likely_causes``
    (a sentence naming the fixes; by default the usual ones) in the message.
    """
    if not torch.isfinite(loss):
        lr = optimizer.param_groups[0]["lr"]
        raise FloatingPointError(
            f"the loss became {loss.item()} (not finite). Likely causes: "
            + (likely_causes or f"a learning rate too high (now {lr:.3g}; try 3x smaller), no gradient clipping "
                                 f"(set Config.max_grad_norm), or NaN or inf in the environment's observations "
                                 f"or rewards."))
    optimizer.zero_grad()
    loss.backward()
    if max_grad_norm is not None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
    optimizer.step()


def train_result(agent, history, config, stats, start_time, env_id, seed):
    """The :class:`TrainResult` of a run started at ``start_time`` (``time.perf_counter()``); adds
    ``stats["steps_per_second"]`` from ``stats["env_steps"]``."""
    wall = time.perf_counter() - start_time
    stats["steps_per_second"] = stats["env_steps"] / wall if wall > 0 else math.nan
    return TrainResult(agent=agent, history=history, config=config, wall_time=wall, stats=stats,
                       env_id=env_id, seed=seed)
