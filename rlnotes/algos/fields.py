r"""The fields of every algorithm's ``Config``, each declared with its check.

An algorithm file imports this module once (``from . import fields``) and declares each field
with its default and the rule it must follow, the comment beside it saying what it is::

    gamma: float = fields.in_range(0.99, "[0, 1]", "a discount")  #: discount γ
    lr: float = fields.learning_rate(2e-3)                           #: step size α

``Config.__post_init__`` calls :func:`check_fields`, which runs every field's check and raises a
ValueError naming the algorithm, the field, the value and what it must be, e.g.
``a2c.Config.lr must be a positive number (a learning rate), got 0``. The few rules between
fields follow it (:func:`check_learning_starts` for the off-policy algorithms).
"""
from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
import warnings
from dataclasses import field, fields
from pathlib import Path

import numpy as np

__all__ = ["checked", "flag", "number", "positive", "learning_rate", "non_negative", "positive_int",
           "in_range", "one_of", "layer_sizes", "or_none", "check_fields", "check_learning_starts"]


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
            f"learning_starts.", stacklevel=_callers_level())


def _callers_level():
    """The ``stacklevel`` of the first frame outside rlnotes and dataclasses, relative to the
    function that calls this one: a warning then points at the user's line (``Config(...)`` or
    ``train(...)``), wherever the Config was built."""
    package = str(Path(__file__).resolve().parents[1])
    for level, frame in enumerate(inspect.stack(context=0)[2:], start=2):
        name = frame.filename
        if not (name.startswith(package) or name == "<string>" or name == dataclasses.__file__):
            return level
    return 2
