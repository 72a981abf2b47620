r"""Progress bars that work everywhere the book runs.

``progress(...)`` returns a bar with the tqdm interface (iterate over it, or ``update(n)``,
``set_postfix(...)``, ``close()``, use it as a context manager). Which bar depends on where
the code runs:

=====================================  ==============================================
where                                  bar
=====================================  ==============================================
JupyterLab / Notebook (``make lab``)   tqdm's widget (needs ``ipywidgets``)
a terminal                             tqdm's terminal bar
the built book, CI, pipes, logs        plain text lines, no carriage returns
=====================================  ==============================================

The built book must never contain a widget: its JavaScript comes from a CDN, so offline the
page would show a broken box. ``make book`` and ``make test`` therefore set
``RLNOTES_PROGRESS=text``; so does any environment with ``CI`` set. Choose explicitly with
``RLNOTES_PROGRESS=widget|terminal|text|off``. ``TQDM_DISABLE=1`` also turns every bar off
(tqdm's own ``tqdm.notebook`` ignores that variable; this module does not).
"""
from __future__ import annotations

import math
import os
import sys
import time

__all__ = ["progress", "progress_mode", "TextBar"]

_MODES = ("widget", "terminal", "text", "off")


def _in_jupyter_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def progress_mode() -> str:
    """The bar ``progress`` will draw here: "widget", "terminal", "text" or "off"."""
    if os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes"):
        return "off"
    mode = os.environ.get("RLNOTES_PROGRESS", "").strip().lower()
    if mode:
        if mode not in _MODES:
            raise ValueError(f"RLNOTES_PROGRESS={mode!r} is not one of {', '.join(_MODES)}")
        return mode
    if os.environ.get("CI"):
        return "text"
    if _in_jupyter_kernel():
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            return "text"
        return "widget"
    return "terminal" if sys.stderr.isatty() else "text"


class TextBar:
    """A minimal tqdm look-alike that prints whole lines (safe in logs and static pages).

    It prints one line every ``interval`` seconds while running and a final summary line on
    ``close()``, e.g. ``training: 100% 20000/20000 steps [12.3 s, 1626 steps/s] return=500``.
    """

    def __init__(self, iterable=None, total=None, desc="", unit="it", interval=15.0,
                 file=None, disable=False):
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total, self.desc, self.unit = total, desc, unit
        self.interval, self.file, self.disable = interval, file, disable
        self.n = 0
        self.postfix = ""
        self.start = self._last_print = time.perf_counter()
        self.closed = False

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __len__(self):
        return self.total

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def update(self, n=1):
        self.n += n
        now = time.perf_counter()
        if now - self._last_print >= self.interval:
            self._last_print = now
            self._print()

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
        items = dict(ordered_dict or {}, **kwargs)
        self.postfix = " ".join(f"{k}={_short(v)}" for k, v in items.items())

    def set_description(self, desc=None, refresh=True):
        self.desc = desc or ""

    def refresh(self):
        pass

    def close(self):
        if not self.closed:
            self.closed = True
            self._print()

    def _print(self):
        if self.disable:
            return
        elapsed = time.perf_counter() - self.start
        rate = self.n / elapsed if elapsed > 0 else math.inf
        head = f"{self.desc}: " if self.desc else ""
        if self.total:
            count = f"{100 * self.n / self.total:3.0f}% {self.n}/{self.total} {self.unit}"
        else:
            count = f"{self.n} {self.unit}"
        line = f"{head}{count} [{elapsed:.1f} s, {rate:.0f} {self.unit}/s]"
        if self.postfix:
            line += " " + self.postfix
        print(line, file=self.file or sys.stdout, flush=True)


def _short(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def progress(iterable=None, total=None, desc="", unit="it", **kwargs):
    """A progress bar with tqdm's interface, right for where the code runs (see module doc).

    iterable: optional iterable to wrap; total: the expected number of updates;
    desc: a label; unit: what is counted ("steps", "episodes"). Extra keyword arguments go to
    tqdm (ignored by the text bar).
    """
    mode = progress_mode()
    if mode in ("text", "off"):
        return TextBar(iterable, total=total, desc=desc, unit=unit, disable=(mode == "off"),
                       interval=kwargs.get("mininterval", 15.0))
    if mode == "widget":
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(iterable, total=total, desc=desc, unit=unit, **kwargs)
