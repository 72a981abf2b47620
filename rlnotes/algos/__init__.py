r"""The book's algorithms, one module each, all with the same two names.

Each ``rlnotes.algos.<name>`` module has a ``Config`` dataclass (every field documented, with
defaults that solve the chapter's environment) and
``train(env_id, config=None, seed=0, total_steps=None, progress=True) -> TrainResult``.
``rlnotes.evaluate(result.agent, env_id)`` works on every agent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["TrainResult"]


@dataclass
class TrainResult:
    r"""What a ``train`` function returns.

    agent:     the trained agent; it has ``act(obs, deterministic=False)`` (for REINFORCE the
               policy network $\pi_\theta$ itself), so ``rlnotes.evaluate(result.agent, env_id)``
               works.
    history:   a list of ``(env_step, episode_return, wall_seconds)`` tuples, one per finished
               training episode, in order: the number of environment steps used for training
               up to and including that episode, the episode's undiscounted return, and the
               seconds since training started when the episode was recorded (for algorithms
               that learn from batches: when its batch was complete).
    config:    the ``Config`` the run used.
    wall_time: seconds spent in the training loop (building the env and networks included,
               evaluation excluded).
    stats:     extra numbers an algorithm reports (e.g. updates made, env steps discarded).
    """

    agent: Any
    history: list
    config: Any
    wall_time: float
    stats: dict = field(default_factory=dict)

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
