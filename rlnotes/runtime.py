r"""Seeding and threads: the two things that make a run on this machine repeatable.

``seed_everything(seed, env)`` seeds every random number generator a chapter touches
(Python's ``random``, NumPy's global generator, torch, and optionally a gymnasium env and its
spaces) and returns a fresh ``numpy.random.Generator`` to use from then on.
"""
from __future__ import annotations

import os
import random

import numpy as np

try:  # torch is a requirement of the book, but the tabular chapters do not need it
    import torch
except ImportError:  # pragma: no cover - exercised only without torch installed
    torch = None


def set_torch_threads(n: int = 1) -> None:
    """Let torch use ``n`` CPU threads (the book's default is 1; see :mod:`rlnotes`).

    n: a positive integer. Raises ValueError otherwise.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_torch_threads needs a positive integer number of threads, got {n!r}")
    if torch is not None:
        torch.set_num_threads(int(n))


def torch_threads_from_environ(environ=None) -> int:
    """The number of torch threads asked for by ``RLNOTES_TORCH_THREADS`` (1 when unset or empty).

    environ: a mapping like ``os.environ`` (the default). A value that is not a positive
    integer raises ValueError naming the variable, the value and the fix, at ``import rlnotes``.
    """
    environ = os.environ if environ is None else environ
    text = environ.get("RLNOTES_TORCH_THREADS", "").strip() or "1"      # set but empty: unset
    try:
        n = int(text)
    except ValueError:
        n = None
    if n is None or n < 1:
        raise ValueError(
            f"RLNOTES_TORCH_THREADS={text!r}: it must be a positive whole number of torch threads, "
            f"e.g. RLNOTES_TORCH_THREADS=1 (the book's default) or 2. Set it to one, or unset it "
            f"(`unset RLNOTES_TORCH_THREADS`), before importing rlnotes.")
    return n


def seed_everything(seed: int, env=None) -> np.random.Generator:
    """Seed Python, NumPy, torch and (optionally) a gymnasium env in one call.

    seed: a non-negative integer.
    env:  a ``gymnasium.Env`` or ``gymnasium.vector.VectorEnv``, or None. It is reset with
          ``env.reset(seed=seed)`` and its action and observation spaces are seeded, so
          ``env.action_space.sample()`` is repeatable too.
    Returns ``numpy.random.default_rng(seed)``, the generator to pass on to code that takes one.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["PYTHONHASHSEED"] = str(seed)  # affects subprocesses started from here on
    if torch is not None:
        torch.manual_seed(seed)
    if env is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
        env.observation_space.seed(seed)
    return np.random.default_rng(seed)
