"""The outcomes every checker of every chapter reports for answers that are not answers yet.

For each exercise of each chapter (the ``EXERCISES`` tables of ``tests/test_exercises*.py``), a
reader's function with the chapter stub's parameters and

* a body but no ``return``: "… returned None: did you forget `return`?", not "not attempted";
* a loop that does not end in time: "ran too long", within a few seconds (a short time limit),
  naming the line it was stopped at;
* a crash: one line naming the exception and the line of the reader's code, no traceback.

The functions are defined as Jupyter defines a cell's code: compiled from a string whose source
is registered with ``linecache``, so the checker can quote the reader's line.
"""
from __future__ import annotations

import importlib
import linecache
import re
import time

import pytest

from rlnotes.exercises import time_limit
from tests.chapter_cells import run_checker, stub_code

CHAPTER_TESTS = ["tests.test_exercises", "tests.test_exercises_policies",
                 "tests.test_exercises_score_function", "tests.test_exercises_variance_reduction",
                 "tests.test_exercises_importance_sampling", "tests.test_exercises_ppo",
                 "tests.test_exercises_actor_critic", "tests.test_exercises_dqn",
                 "tests.test_exercises_ddpg"]
LIMIT = 0.2          # seconds: the time limit of these tests (the default is 10 s)


def _cases():
    out = []
    for name in CHAPTER_TESTS:
        module = importlib.import_module(name)
        for _label, fn_name, check, *_ in module.EXERCISES:
            out.append(pytest.param(module, fn_name, check, id=f"{module.CHAPTER.stem}-{fn_name}"))
    return out


CASES = _cases()


def _readers_function(module, name, body):
    """``def name(<the stub's parameters>):`` + ``body``, its source registered as a cell's."""
    params = re.search(rf"^def {name}\((.*?)\):", stub_code(module.CHAPTER, name), flags=re.M | re.S).group(1)
    source = f"def {name}({params}):\n{body}"
    filename = f"<cell defining {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - a stand-in for the reader's cell
    return namespace[name]


def test_every_chapter_is_covered():
    assert len({p.values[0] for p in CASES}) == len(CHAPTER_TESTS) and len(CASES) >= 27


@pytest.mark.parametrize("module, name, check", CASES)
def test_a_body_without_return_gets_the_returns_none_hint(module, name, check, capsys):
    fn = _readers_function(module, name, "    answer = 0.0\n")
    verdict = run_checker(check, fn, capsys)
    assert verdict.status == "fail", verdict.message
    assert verdict.message.startswith(f"✗ {name} returned None: did you forget `return`?"), verdict.message
    assert "not attempted" not in verdict.message


@pytest.mark.parametrize("module, name, check", CASES)
def test_an_endless_loop_is_stopped_and_named(module, name, check, capsys):
    # endless for the checker; it does end after 5 s, so that a broken time limit fails the test
    # instead of hanging it
    fn = _readers_function(module, name, "    import time\n    end = time.monotonic() + 5\n"
                                         "    while time.monotonic() < end:\n        pass\n")
    start = time.perf_counter()
    with time_limit(LIMIT):
        verdict = run_checker(check, fn, capsys)
    elapsed = time.perf_counter() - start
    assert verdict.status == "fail"
    assert verdict.message.startswith(f"✗ {name} ran too long (more than {LIMIT:g} s) and was stopped (line "), \
        verdict.message
    assert "loop that never ends" in verdict.message
    assert elapsed < 3.0, f"the checker took {elapsed:.1f} s to stop a {LIMIT} s answer"


@pytest.mark.parametrize("module, name, check", CASES)
def test_a_crash_is_one_line_with_the_exception_and_the_readers_line(module, name, check, capsys):
    fn = _readers_function(module, name, "    values = []\n    return values[1]\n")
    verdict = run_checker(check, fn, capsys)
    assert verdict.status == "fail"
    assert verdict.message == (f"✗ {name} raised IndexError: list index out of range "
                               "(line 3: `return values[1]`)")
    assert "\n" not in verdict.message and "Traceback" not in verdict.message
