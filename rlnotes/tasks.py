r"""The benchmark's tasks and its evaluation protocol, shared by :mod:`rlnotes.bench` and
:mod:`rlnotes.peers` (which both train on them and evaluate the same way).

A new algorithm joins the benchmark with one line in :data:`ALGOS`.
"""
from __future__ import annotations

__all__ = ["ALGOS", "EVAL_EPISODES", "EVAL_SEED_OFFSET", "SELECTION_SEED_OFFSET", "eval_seed", "selection_seed"]

#: algorithm name -> (module with Config/train, environment id, solved threshold on the
#: mean greedy return of 10 evaluation episodes)
ALGOS = {
    "reinforce": ("rlnotes.algos.reinforce", "CartPole-v1", 475.0),
    "ppo": ("rlnotes.algos.ppo", "CartPole-v1", 475.0),
    # Pendulum-v1 returns are negative: solved when the mean greedy return is >= -200
    "ppo-pendulum": ("rlnotes.algos.ppo", "Pendulum-v1", -200.0),
    "dqn": ("rlnotes.algos.dqn", "CartPole-v1", 475.0),
    "a2c": ("rlnotes.algos.a2c", "CartPole-v1", 475.0),
    "a3c": ("rlnotes.algos.a3c", "CartPole-v1", 475.0),
    "ddpg": ("rlnotes.algos.ddpg", "Pendulum-v1", -200.0),
}

EVAL_EPISODES = 10
EVAL_SEED_OFFSET = 1000
SELECTION_SEED_OFFSET = 1_000_000


def eval_seed(seed):
    """Environment seed of the first evaluation episode for training seed ``seed``.

    Evaluation episode k of training seed s uses environment seed
    ``EVAL_SEED_OFFSET + EVAL_EPISODES * s + k``: each training seed gets its own block of
    episodes, never seen in training and not shared with another seed, so "solved on 4 of 5
    seeds" counts five independent evaluations.
    """
    return EVAL_SEED_OFFSET + EVAL_EPISODES * int(seed)


def selection_seed(seed):
    """Environment seed of the first episode with which a training run of seed ``seed`` chooses
    among its own snapshots (:class:`rlnotes.algos.dqn.Config`'s ``eval_interval``).

    Episode k uses ``SELECTION_SEED_OFFSET + 1000 * seed + k``. For every training seed below
    99,900 these episodes are disjoint from all of :func:`eval_seed`'s, so the benchmark never
    evaluates an agent on the episodes it was chosen with.
    """
    return SELECTION_SEED_OFFSET + 1000 * int(seed)
