r"""The exercise-checker mechanism shared by every chapter (re-exported by rlnotes.exercises).

Every exercise in a chapter has three cells: a stub the reader completes (its body is ``...``
or ``raise NotImplementedError``), a checker cell ``check_xxx(fn)``, and a hidden solution.
A checker runs the reader's function on a few cases and prints one line:

* ``✓ <what was verified>``                      — the answer is right;
* ``✗ <a specific hint>``                        — e.g. "your backup ignores the discount:
  expected 4.6, got 5.0 for state 3";
* ``… not attempted yet: <what to do>``          — the stub is untouched;
* ``✗ … returned None: did you forget `return`?`` — the body runs but returns nothing;
* ``✗ … ran too long (more than 10 s) …``        — the answer never finished (a time limit,
  where the platform has one: SIGALRM in the main thread; elsewhere there is no limit);
* ``✗ … raised KeyError: … (line 3: …)``         — the reader's code crashed: the exception and
  the line of their code, never a traceback.

The checker also returns a :class:`Verdict` (``.passed``, ``.status``, ``.message``) so tests
and scripts can inspect the outcome; in Jupyter the verdict is not echoed a second time.

How a checker is written
------------------------
A check is a plain function that calls the reader's function through :func:`call`, compares
the answer with an independent reference, names the typical mistake that reproduces a wrong
answer (:func:`diagnose`, with a table of ``(answer of the mistake, what it is, how to fix it)``)
and returns a sentence saying what it verified. :func:`checker` turns it into the public
``check_xxx``. The chapters' checks live in the modules named after the chapters.
"""
from __future__ import annotations

import contextlib
import contextvars
import dis
import functools
import inspect
import os
import pathlib
import signal
import sys
import sysconfig
import threading
import traceback
from dataclasses import dataclass

import numpy as np

from ..i18n import _

__all__ = ["Verdict", "Hint", "NotAttempted", "ReturnsNone", "checker", "call", "TIME_LIMIT", "time_limit",
           "to_numpy", "number", "as_array", "as_scalar_tensor", "require_unchanged", "through_value_model",
           "gradients", "fmt", "close", "first_diff", "match_mistake", "diagnose"]

TIME_LIMIT = 10.0
"""Seconds one call of the reader's function may take before the checker stops it."""


# The checkers speak the reader's language (rlnotes.i18n): their messages are English templates
# wrapped in _() where they are made, translated in rlnotes/locales/zh_CN/LC_MESSAGES/exercises/
# and filled in ({fields}) after translation.


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


class ReturnsNone(Hint):
    """The reader's function has a body but returned None (a missing ``return``)."""


# ------------------------------------------------------------------ running the reader's code
_limit = contextvars.ContextVar("rlnotes_exercises_time_limit", default=TIME_LIMIT)
_STUB_OPS = {"RESUME", "NOP", "CACHE", "LOAD_CONST", "RETURN_VALUE", "RETURN_CONST"}
# where the frames of a traceback are not the reader's code: the standard library, installed
# packages, and rlnotes itself
_LIBRARY_DIRS = tuple({os.path.join(p, "") for p in [
    *(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")),
    str(pathlib.Path(__file__).resolve().parents[1])]})


@contextlib.contextmanager
def time_limit(seconds):
    """Within this block, stop each call of the reader's function after ``seconds`` (None: never).

    E.g. ``with time_limit(1.0): check_reward_to_go(reward_to_go)``; the default is TIME_LIMIT.
    """
    token = _limit.set(seconds)
    try:
        yield
    finally:
        _limit.reset(token)


class _TimeUp(BaseException):
    """Raised by the alarm in the reader's code; a BaseException, so ``except Exception`` in
    that code does not swallow it."""


def _run_limited(fn, args, kwargs, seconds):
    """fn(*args, **kwargs), stopped by SIGALRM after ``seconds`` where an alarm can be set: in the
    main thread of a platform with ``signal.setitimer`` and no other timer running. Elsewhere
    (Windows, a worker thread) it runs without a limit."""
    if (not seconds or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        return fn(*args, **kwargs)

    def on_alarm(signum, frame):
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)      # one shot: it fires at most once
        try:
            return fn(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)


def _does_nothing(fn) -> bool:
    """True if ``fn``'s body is empty (``...``, ``pass``, a docstring): the untouched stub."""
    code = getattr(inspect.unwrap(fn), "__code__", None)
    return code is not None and all(i.opname in _STUB_OPS for i in dis.get_instructions(code))


def _one_line(text, limit=300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _where(tb, name) -> str:
    """' (line 3: `x = y[0]`)' for the deepest frame of the reader's own code in traceback ``tb``."""
    frames = [f for f in traceback.extract_tb(tb)
              if not f.filename.startswith(_LIBRARY_DIRS) and not f.filename.startswith("<frozen")]
    if not frames:
        return ""
    f = frames[-1]
    fields = dict(function=f.name, line=f.lineno, code=f"`{_one_line(f.line, 120)}`" if f.line else "")
    if f.name == name:
        where = _(" (line {line}: {code})") if f.line else _(" (line {line})")
    else:
        where = _(" (in {function}, line {line}: {code})") if f.line else _(" (in {function}, line {line})")
    return where.format(**fields)


def call(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` for the reader's ``fn``, every outcome other than an answer turned
    into an exception the checker reports in one line.

    NotAttempted: ``fn`` raises NotImplementedError, or its body is still ``...``.
    ReturnsNone (a Hint): ``fn`` has a body but returned None.
    Hint: ``fn`` ran longer than the time limit (see :func:`time_limit`), or raised an exception
    (named, with the line of the reader's code that raised it). A Hint raised by the checker's
    own helpers that ``fn`` calls passes through unchanged.
    """
    name = getattr(fn, "__name__", None)
    if name is None:
        name = _("your function")
    seconds = _limit.get()
    try:
        out = _run_limited(fn, args, kwargs, seconds)
    except NotImplementedError:
        raise NotAttempted() from None
    except _TimeUp as e:
        raise Hint(_("{name} ran too long (more than {seconds} s) and was stopped{where}. The usual "
                     "cause is a loop that never ends: a `while` loop whose condition never becomes "
                     "false (is the variable it tests updated inside the loop?), or a loop over a list "
                     "that grows as you append to it.").format(
            name=name, seconds=f"{seconds:g}", where=_where(e.__traceback__, name))) from None
    except Hint:
        raise
    except Exception as e:  # noqa: BLE001 - the reader's code may raise anything
        text = _one_line(e)
        raise Hint((_("{name} raised {error}: {text}{where}") if text else _("{name} raised {error}{where}")).format(
            name=name, error=type(e).__name__, text=text, where=_where(e.__traceback__, name))) from None
    if out is Ellipsis or (out is None and _does_nothing(fn)):
        raise NotAttempted()
    if out is None:
        raise ReturnsNone(_("{name} returned None: did you forget `return`? A function that reaches "
                            "its end without a `return` statement gives None; end it with "
                            "`return <your answer>`.").format(name=name))
    return out


def checker(check):
    """Turn ``check(fn) -> str`` into a public checker that prints and returns a Verdict."""

    @functools.wraps(check)
    def run(fn=None) -> Verdict:
        if fn is None or not callable(fn):
            verdict = Verdict("fail", "✗ " + _("pass your function itself, e.g. {checker}(my_function); "
                                               "got {got}").format(checker=check.__name__, got=type(fn).__name__))
        else:
            try:
                what = check(fn)
            except NotAttempted:
                verdict = Verdict("not attempted",
                                  "… " + _("not attempted yet: replace the `...` / NotImplementedError in "
                                           "the cell above with your code, run it, then run this cell again."))
            except Hint as h:
                verdict = Verdict("fail", f"✗ {_one_line(h, 2000)}")
            except Exception as e:  # noqa: BLE001 - a checker must never show a traceback
                verdict = Verdict("fail", "✗ " + _("the check could not run your function: {error}: {text}").format(
                    error=type(e).__name__, text=_one_line(e)))
            else:
                verdict = Verdict("pass", f"✓ {what}")
        print(verdict.message)
        return verdict

    return run


# ------------------------------------------------------------------ reading the reader's answer
def to_numpy(value):
    """A torch tensor as a float64 numpy array (detached, on the CPU); anything else unchanged."""
    torch = sys.modules.get("torch")       # a tensor exists only if torch has been imported
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64).numpy()
    return value


def number(value):
    """The reader's answer as a float if it is one number (a scalar or one element), else None."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        return None
    try:
        arr = np.asarray(to_numpy(value), dtype=float)
    except (TypeError, ValueError):
        return None
    return float(arr.reshape(-1)[0]) if arr.size == 1 else None


def as_array(value, shape, what, finite=True):
    """The reader's answer (numpy, list or torch) as a float array of ``shape`` (None: any shape),
    or a Hint; with ``finite``, NaN and infinite entries get a Hint too."""
    try:
        arr = np.asarray(to_numpy(value), dtype=float)
    except (TypeError, ValueError):
        raise Hint(_("{what} should be an array of numbers, got {got}").format(
            what=what, got=type(value).__name__)) from None
    if shape is not None and arr.shape != tuple(shape):
        raise Hint(_("{what} should have shape {shape}, got {got}").format(
            what=what, shape=tuple(shape), got=arr.shape))
    if finite and not np.all(np.isfinite(arr)):
        raise Hint(_("{what} contains NaN or infinite values").format(what=what))
    return arr


def as_scalar_tensor(answer, n, what, case):
    """The reader's loss or objective as a 0-d torch tensor, or a Hint: a plain number (float(),
    .item() and .numpy() cut the autograd graph), the ``n`` per-step terms not yet averaged, or
    another shape. ``what``: e.g. "your loss"."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(answer, torch.Tensor):
        raise Hint(_("return a torch tensor, got {got} ({case}). float(...), .item() or .numpy() cut the "
                     "autograd graph, and the gradient steps on {what} need it.").format(
            got=type(answer).__name__, case=case, what=what))
    if answer.dim() != 0:
        if tuple(answer.shape) == (n,):
            raise Hint(_("{what} has shape ({n},), one term per step ({case}); it is one number: "
                         "average the terms with .mean().").format(what=what, n=n, case=case))
        raise Hint(_("{what} should be a scalar (shape ()), got shape {shape} ({case}).").format(
            what=what, shape=tuple(answer.shape), case=case))
    return answer


def gradients(answer, inputs, what, case, hint):
    """The gradients of the reader's right-valued scalar ``answer`` with respect to the tensors
    ``inputs`` (None for an input that is None or that it does not depend on), or a Hint: no
    autograd graph (``hint`` says what to keep differentiable), or autograd failed."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(answer, torch.Tensor) or not answer.requires_grad:
        raise Hint(_("{what} has the right value but no gradient: no autograd graph leads to it "
                     "({case}). {hint}").format(what=what, case=case, hint=hint))
    try:
        grads = iter(torch.autograd.grad(answer.reshape(()), [x for x in inputs if x is not None],
                                         allow_unused=True))
        return [None if x is None else next(grads) for x in inputs]
    except RuntimeError as e:
        raise Hint(_("{what} has the right value, but differentiating it failed ({case}): "
                     "{error}: {text}").format(what=what, case=case, error=type(e).__name__,
                                               text=_one_line(e))) from None


def through_value_model(values, seed):
    """``values − s·φ`` with fixed random states s (N, 3) and a leaf φ that requires gradients:
    weights or advantages as a learned baseline gives them, carrying an autograd graph into φ,
    so that a check can see whether the reader detached them. values: (N,) float64 tensor.
    Returns (that tensor, φ)."""
    import torch

    states = torch.randn(len(values), 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    phi = torch.tensor([0.5, -1.0, 0.25], dtype=torch.float64, requires_grad=True)
    return values - states @ phi, phi                     # R − V_φ(s)


def require_unchanged(given, original, what, case, fix):
    """Raise a Hint if the reader's function wrote into its inputs: ``given`` (the arrays it was
    passed) differs from ``original`` (copies the check kept). Both are an array or a tuple/list
    of arrays (numpy or torch)."""
    pairs = zip(given, original) if isinstance(given, (tuple, list)) else [(given, original)]
    if not all(np.array_equal(to_numpy(g), to_numpy(o)) for g, o in pairs):
        raise Hint(_("your function changed {what} in place ({case}). {fix}").format(
            what=what, case=case, fix=fix))


# ------------------------------------------------------------------ comparing and diagnosing
def fmt(x) -> str:
    """A number as the hints print it: at most 4 decimals, no trailing zeros (2.75, 6, -0.1235)."""
    return np.format_float_positional(float(x), precision=4, trim="-")


def close(a, b, atol=1e-6, rtol=1e-6) -> bool:
    """Same shape and equal within ``atol + rtol·|b|`` entrywise (NaN is never close)."""
    return np.shape(a) == np.shape(b) and bool(np.allclose(a, b, atol=atol, rtol=rtol))


def first_diff(a, b, atol=1e-6, rtol=1e-6) -> int:
    """The first flat index where same-shaped ``a`` and ``b`` differ (else where they differ most)."""
    a, b = np.ravel(a).astype(float), np.ravel(b).astype(float)
    diff = np.flatnonzero(~np.isclose(a, b, atol=atol, rtol=rtol))
    return int(diff[0]) if diff.size else int(np.argmax(np.abs(a - b)))


def match_mistake(answer, expected, mistakes, atol=1e-6, rtol=1e-6):
    """The first ``(mistake, fix)`` of ``mistakes`` whose answer reproduces ``answer``, or None.

    mistakes: ``(the answer that mistake gives, what the mistake is, how to fix it)`` triples;
    a mistake that gives the right answer on this case is skipped.
    """
    for wrong, mistake, fix in mistakes:
        with np.errstate(all="ignore"):
            wrong = np.asarray(to_numpy(wrong), dtype=float)
        if close(answer, wrong, atol, rtol) and not close(wrong, expected, atol, rtol):
            return mistake, fix
    return None


def diagnose(answer, expected, mistakes, what, case, index_name=None, atol=1e-6, rtol=1e-6):
    """Return if ``answer`` ≈ ``expected``; else raise a Hint with the numbers.

    The hint names the first mistake of ``mistakes`` (see :func:`match_mistake`) that reproduces
    the answer, or says that ``what`` is wrong; it quotes both values at the first entry that
    differs ("for step 3" with ``index_name="step"``, default "entry"; no index for a single number)
    and ``case``.
    A mistake may give an answer of another shape than ``expected`` (e.g. the per-sample terms,
    shape (N,), where the mean belongs): then the hint names it with the two shapes.
    """
    if close(answer, expected, atol, rtol):
        return
    found = match_mistake(answer, expected, mistakes, atol, rtol)
    if np.shape(answer) != np.shape(expected):
        mistake, fix = found or (_("{what} should have shape {shape}").format(what=what, shape=np.shape(expected)), "")
        template = (_("{mistake}: got shape {shape} ({case}). {fix}") if fix.strip()
                    else _("{mistake}: got shape {shape} ({case})."))
        raise Hint(template.format(mistake=mistake, shape=np.shape(answer), case=case, fix=fix).rstrip())
    i = first_diff(answer, expected, atol, rtol)
    fields = dict(want=fmt(np.ravel(expected)[i]), got=fmt(np.ravel(answer)[i]), what=what, case=case,
                  index=_("entry") if index_name is None else index_name, i=i)
    several = np.size(expected) > 1
    if found:
        fields["mistake"], fields["fix"] = found
        raise Hint((_("{mistake}: expected {want}, got {got} for {index} {i} ({case}). {fix}") if several
                    else _("{mistake}: expected {want}, got {got} ({case}). {fix}")).format(**fields))
    raise Hint((_("{what} is wrong for {index} {i} ({case}): expected {want}, got {got}.") if several
                else _("{what} is wrong ({case}): expected {want}, got {got}.")).format(**fields))
