r"""rlnotes: the reference implementations of the book *rlnotes*.

Every algorithm in the book lives here, unit-tested, and the chapters import it.
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

set_torch_threads(int(_os.environ.get("RLNOTES_TORCH_THREADS", "1")))

__all__ = ["__version__", "seed_everything", "set_torch_threads", "progress", "evaluate"]
