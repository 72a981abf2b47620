r"""rlnotes: the reference implementations of the book *rlnotes*.

Every algorithm in the book lives here, unit-tested, and the chapters import it. Each idea has
one home, so a reader finds it where the chapter says:

* every return and target (reward-to-go, $n$-step returns, GAE, TD and Double-DQN targets) in
  :mod:`rlnotes.returns`; the estimators the policy-gradient chapters derive (score function,
  baselines, importance weights, PPO's surrogates) in :mod:`rlnotes.estimators`;
* the policies, the one network builder ``mlp`` and the one Polyak update in
  :mod:`rlnotes.policies`; stepping vector environments (the truncation rule, once) in
  :mod:`rlnotes.rollout`;
* each algorithm in ``rlnotes.algos.<name>``, with its own losses next to its ``train`` (the
  rule for where a loss lives is stated in :mod:`rlnotes.algos`).

Importing the package also sets up the runtime the book is measured on:

* ``torch`` uses **one thread** (``torch.set_num_threads(1)``). On a small CPU machine the
  networks in this book are tiny, and a second thread competing with the environment for a
  core made batched inference up to 8x slower in our measurements. Override with the
  environment variable ``RLNOTES_TORCH_THREADS=N`` before import, or call
  :func:`rlnotes.set_torch_threads` afterwards.
* ``SDL_VIDEODRIVER=dummy`` (unless already set), so environments render to arrays on a
  machine without a screen.

Cite a function by name and version, e.g. "``rlnotes.mdp.value_iteration``, rlnotes v0.1.0".
"""
import os as _os

__version__ = "0.1.0"

_os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
_os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from .progress import progress  # noqa: E402
from .rollout import evaluate  # noqa: E402
from .runtime import seed_everything, set_torch_threads  # noqa: E402
from .runtime import torch_threads_from_environ as _threads  # noqa: E402
from .saving import load, save  # noqa: E402

set_torch_threads(_threads())     # RLNOTES_TORCH_THREADS, checked: a clear error unless it is a whole number >= 1

__all__ = ["__version__", "seed_everything", "set_torch_threads", "progress", "evaluate", "save", "load"]
