r"""The book's algorithms, one module each, all with the same two names.

Each ``rlnotes.algos.<name>`` module has a ``Config`` dataclass (every field documented, with
defaults that solve the chapter's environment) and
``train(env_id, config=None, seed=0, total_steps=None, progress=True) -> TrainResult``.
``rlnotes.evaluate(result.agent, env_id)`` works on every agent.

Every ``Config`` field is declared with its check, e.g. ``gamma: float = in_range(0.99, "[0, 1]")``,
and every ``Config.__post_init__`` first calls :func:`check_fields`, which runs them all.
"""
from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from ..rollout import Agent

__all__ = ["TrainResult", "resolve_config", "check_fields", "check_learning_starts", "checked", "flag", "number",
           "positive", "learning_rate", "non_negative", "positive_int", "in_range", "one_of",
           "layer_sizes", "or_none"]


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


# --------------------------------------------------------------------------------------------
# Config fields: each default is declared with its check; check_fields runs them all
# --------------------------------------------------------------------------------------------
def checked(default, must, ok, hint="", convert=None):
    """A dataclass field whose value must pass ``ok``; else "<field> must be <must> (<hint>)"."""
    return field(default=default, metadata=dict(must=must, ok=ok, hint=hint, convert=convert))


def _real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def _integer(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def flag(default):
    return checked(default, "True or False", lambda x: isinstance(x, (bool, np.bool_)))


def number(default, hint=""):
    return checked(default, "a finite number", _real, hint)


def positive(default, hint=""):
    return checked(default, "a positive number", lambda x: _real(x) and x > 0, hint)


def learning_rate(default, typical=""):
    typical = f", typical: {typical} with Adam" if typical else ""
    return positive(default, f"a learning rate{typical}")


def non_negative(default, hint=""):
    return checked(default, "a number >= 0", lambda x: _real(x) and x >= 0, hint)


def positive_int(default, hint=""):
    return checked(default, "a positive integer", lambda x: _integer(x) and x >= 1, hint)


def in_range(default, interval, what="", hint=""):
    """A number in ``interval``, written as in math: "[0, 1]", "(0, 1]", "(0, 1)"."""
    lo, hi = (float(end) for end in interval[1:-1].split(","))

    def ok(x):
        return (_real(x) and (lo <= x if interval[0] == "[" else lo < x)
                and (x <= hi if interval[-1] == "]" else x < hi))
    return checked(default, f"{what} in {interval}".strip(), ok, hint)


def one_of(default, choices, hint=""):
    names = [repr(c) for c in choices]
    must = ", ".join(names[:-1]) + " or " + names[-1]              # 'a', 'b' or 'c'
    return checked(default, must, lambda x: x in choices, hint)


def layer_sizes(default):
    """Hidden layer widths: a non-empty sequence of positive integers, stored as a tuple."""
    return checked(default, "a non-empty tuple of positive layer widths, e.g. (64, 64)",
                   lambda x: len(x) > 0 and all(_integer(h) and h >= 1 for h in x),
                   convert=lambda x: tuple(int(h) for h in x))


def or_none(checked_field, meaning):
    """The same check as ``checked_field``, or None, which means ``meaning``."""
    m = checked_field.metadata
    return checked(checked_field.default, f"{m['must']} or None ({meaning})",
                   lambda x: x is None or m["ok"](x), m["hint"])


def check_fields(config):
    """Run the check of every field of ``config``; raise ValueError naming field, value and fix."""
    for f in fields(config):
        value, m = getattr(config, f.name), f.metadata
        if "ok" not in m:
            raise TypeError(f"Config.{f.name} has no check: declare it with checked() or its kin")
        try:
            good = m["ok"](value)
        except (TypeError, ValueError):                    # e.g. len() of a number
            good = False
        if not good:
            hint = f" ({m['hint']})" if m["hint"] else ""
            raise ValueError(f"{type(config).__module__.split('.')[-1]}.Config.{f.name} must be "
                             f"{m['must']}{hint}, got {value!r}")
        if m["convert"] is not None:
            setattr(config, f.name, m["convert"](value))


def resolve_config(cls, config, total_steps=None):
    """The Config a ``train`` call runs with: ``cls()`` if ``config`` is None, else ``config``
    (which must be a ``cls``), with ``total_steps`` (if given) in place of ``config.total_steps``."""
    config = cls() if config is None else config
    if not isinstance(config, cls):
        raise TypeError(f"config must be a {cls.__module__}.Config, got {type(config).__name__}")
    return config if total_steps is None else replace(config, total_steps=total_steps)  # checked


def check_learning_starts(config):
    """The rules between fields of the off-policy Configs (DQN, DDPG): a sample needs a full
    batch in the buffer (an error), and a run with no update is most likely a mistake (a warning)."""
    if config.learning_starts < config.batch_size:
        raise ValueError(
            f"Config.learning_starts = {config.learning_starts!r} must be an integer >= "
            f"batch_size = {config.batch_size}: the replay buffer cannot be sampled before it "
            f"holds a batch. Raise learning_starts (e.g. 1000) or lower batch_size.")
    if config.buffer_size < config.batch_size:
        raise ValueError(
            f"Config.buffer_size = {config.buffer_size!r} must be >= batch_size = "
            f"{config.batch_size}: a minibatch is drawn from the transitions the buffer holds. "
            f"Raise buffer_size (e.g. 50_000) or lower batch_size.")
    if config.total_steps < config.learning_starts + config.train_freq:   # no update would happen
        warnings.warn(
            f"total_steps = {config.total_steps} < learning_starts + train_freq = "
            f"{config.learning_starts + config.train_freq}: training would end before the first "
            f"gradient step and return an untrained agent. Raise total_steps or lower "
            f"learning_starts.", stacklevel=4)
