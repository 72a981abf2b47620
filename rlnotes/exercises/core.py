r"""The exercise-checker mechanism shared by every chapter (re-exported by rlnotes.exercises).

Every exercise in a chapter has three cells: a stub the reader completes (its body is ``...``
or ``raise NotImplementedError``), a checker cell ``check_xxx(fn)``, and a hidden solution.
A checker runs the reader's function on a few cases and prints one of

* ``✓ <what was verified>``                      — the answer is right;
* ``✗ <a specific hint>``                        — e.g. "your backup ignores the discount:
  expected 4.6, got 5.0 for state 3";
* ``… not attempted yet: <what to do>``          — the stub is untouched.

It never lets a traceback escape: an exception raised by the reader's code is reported as a
hint naming the exception and the input that caused it. The checker also returns a
:class:`Verdict` (``.passed``, ``.status``, ``.message``) so tests and scripts can inspect the
outcome; in Jupyter the verdict is not echoed a second time.

How a checker is written
------------------------
A check is a plain function that calls the reader's function through :func:`call`, compares
the answer with the reference, raises :class:`Hint` with a specific message for each typical
mistake, and returns a sentence saying what it verified. :func:`checker` turns it into the
public ``check_xxx``. The chapter-specific checks live below, grouped by chapter.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["Verdict", "Hint", "NotAttempted", "checker", "call", "as_array"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of a checker: ``status`` is "pass", "fail" or "not attempted"."""

    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def __str__(self) -> str:
        return self.message

    def _ipython_display_(self):
        # The checker has already printed the message; do not show the return value again.
        pass


class Hint(Exception):
    """Raised inside a check to report a wrong answer; the message is what the reader sees."""


class NotAttempted(Exception):
    """Raised inside a check when the reader's function is still the stub."""


def call(fn, *args, **kwargs):
    """Call the reader's ``fn``; translate stubs and crashes into NotAttempted / Hint.

    A function whose body is still ``...`` returns None (or Ellipsis); one that still raises
    NotImplementedError is a stub too. Any other exception becomes a Hint that names it, so
    the reader sees a sentence rather than a traceback.
    """
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted() from None
    except Exception as e:  # noqa: BLE001 - the reader's code may raise anything
        name = getattr(fn, "__name__", "your function")
        raise Hint(f"{name} raised {type(e).__name__}: {e}") from None
    if out is None or out is Ellipsis:
        raise NotAttempted()
    return out


def as_array(value, shape, what):
    """Convert the reader's answer to a float array of ``shape``, or raise a Hint saying why not."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Hint(f"{what} should be an array of numbers, got {type(value).__name__}") from None
    if arr.shape != tuple(shape):
        raise Hint(f"{what} should have shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise Hint(f"{what} contains NaN or infinite values")
    return arr


def checker(check):
    """Turn ``check(fn) -> str`` into a public checker that prints and returns a Verdict."""

    @functools.wraps(check)
    def run(fn=None) -> Verdict:
        if fn is None or not callable(fn):
            verdict = Verdict("fail", f"✗ pass your function itself, e.g. {check.__name__}(my_function); "
                                      f"got {type(fn).__name__}")
        else:
            try:
                what = check(fn)
            except NotAttempted:
                verdict = Verdict("not attempted",
                                  "… not attempted yet: replace the `...` / NotImplementedError in the "
                                  "cell above with your code, run it, then run this cell again.")
            except Hint as h:
                verdict = Verdict("fail", f"✗ {h}")
            except Exception as e:  # noqa: BLE001 - a checker must never show a traceback
                verdict = Verdict("fail", f"✗ the check could not run your function: "
                                          f"{type(e).__name__}: {e}")
            else:
                verdict = Verdict("pass", f"✓ {what}")
        print(verdict.message)
        return verdict

    return run


def _fmt(x) -> str:
    return np.format_float_positional(float(x), precision=4, trim="-")


