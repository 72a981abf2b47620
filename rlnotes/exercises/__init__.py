r"""Checkers for the exercises in the book.

Every exercise in a chapter has three cells: a stub the reader completes (its body is ``...``
or ``raise NotImplementedError``), a checker cell ``check_xxx(fn)``, and a hidden solution.
A checker runs the reader's function on a few cases and prints one of

* ``✓ <what was verified>``                      — the answer is right;
* ``✗ <a specific hint>``                        — e.g. "your backup ignores the discount:
  expected 4.6, got 5.0 for state 3";
* ``… not attempted yet: <what to do>``          — the stub is untouched;
* ``✗ <name> returned None: did you forget `return`?`` — a body without a ``return``;
* ``✗ <name> ran too long (more than 10 s) …`` — e.g. a loop that never ends (stopped where
  the platform allows: SIGALRM in the main thread, as in Jupyter).

It never lets a traceback escape: a crash in the reader's code is one line naming the exception
and the line that raised it. The mechanism is in :mod:`rlnotes.exercises.core`; the
checkers of each chapter live in a module named after the chapter and are all importable from
here, e.g. ``from rlnotes.exercises import check_bellman_backup``.
"""
from .actor_critic import *  # noqa: F401,F403
from .comparing import *  # noqa: F401,F403
from .core import Hint, NotAttempted, ReturnsNone, Verdict, as_array, call, checker, time_limit  # noqa: F401
from .ddpg import *  # noqa: F401,F403
from .dqn import *  # noqa: F401,F403
from .importance_sampling import *  # noqa: F401,F403
from .mdps import *  # noqa: F401,F403
from .policies import *  # noqa: F401,F403
from .ppo import *  # noqa: F401,F403
from .score_function import *  # noqa: F401,F403
from .variance_reduction import *  # noqa: F401,F403
