"""The contract every exercise checker of the book keeps, tested once for all chapters.

For each exercise of each chapter (the ``EXERCISES`` table of its ``tests/test_exercises_*.py``):
the checker is exported by ``rlnotes.exercises``; it passes the solution printed in the chapter's
dropdown; the chapter has the exercise box, the stub cell, the checker cell and a dropdown
solution; the untouched stub and an ``...`` body are "not attempted"; a crash, an odd answer or
something that is not a function gets a verdict in a sentence, never a traceback; and every
typical mistake of the chapter's ``MISTAKES`` table gets a hint with the words listed there. The
chapter files keep only what is specific to their exercises (the ``MISTAKES`` tables, other
correct answers, references).
"""
from __future__ import annotations

import importlib
import re

import numpy as np
import pytest

from rlnotes import exercises
from tests.chapter_cells import cells, run_checker, solution_code, stub_code

CHAPTER_TESTS = ["tests.test_exercises", "tests.test_exercises_policies",
                 "tests.test_exercises_score_function", "tests.test_exercises_variance_reduction",
                 "tests.test_exercises_importance_sampling", "tests.test_exercises_ppo",
                 "tests.test_exercises_actor_critic", "tests.test_exercises_dqn",
                 "tests.test_exercises_ddpg", "tests.test_exercises_comparing"]


def _cases():
    out = []
    for name in CHAPTER_TESTS:
        module = importlib.import_module(name)
        for label, fn_name, check, *_ in module.EXERCISES:
            out.append(pytest.param(module, label, fn_name, check, id=f"{module.CHAPTER.stem}-{fn_name}"))
    return out


CASES = _cases()


def test_every_chapter_with_exercises_is_covered():
    covered = {importlib.import_module(n).CHAPTER.name for n in CHAPTER_TESTS}
    book = importlib.import_module(CHAPTER_TESTS[0]).CHAPTER.parent
    with_exercises = {p.name for p in book.glob("*.ipynb")
                      if "{exercise}" in p.read_text()}
    assert with_exercises <= covered, f"chapters whose exercises are not tested: {with_exercises - covered}"


@pytest.mark.parametrize("module, label, name, check", CASES)
def test_the_checker_is_exported_by_the_package(module, label, name, check):
    assert getattr(exercises, check.__name__) is check


@pytest.mark.parametrize("module, label, name, check", CASES)
def test_the_chapters_solution_passes(module, label, name, check, capsys):
    fn = module._define(solution_code(module.CHAPTER, label), name)
    verdict = run_checker(check, fn, capsys)
    assert verdict.passed and verdict.message.startswith("✓"), verdict.message


@pytest.mark.parametrize("module, label, name, check", CASES)
def test_the_chapter_has_box_stub_checker_and_dropdown_solution(module, label, name, check):
    chapter = cells(module.CHAPTER)
    box = [s for k, s in chapter if k == "markdown" and f":label: {label}" in s]
    assert box and "{exercise}" in box[0], f"no {{exercise}} cell labelled {label}"
    solution = [s for k, s in chapter if k == "markdown" and re.search(rf"\{{solution\}}\s+{label}\b", s)]
    assert solution and ":class: dropdown" in solution[0], f"the solution of {label} must be a dropdown"
    assert any(k == "code" and f"{check.__name__}({name})" in s for k, s in chapter), \
        f"no checker cell {check.__name__}({name})"


@pytest.mark.parametrize("module, label, name, check", CASES)
def test_the_untouched_stub_is_not_attempted(module, label, name, check, capsys):
    stub = stub_code(module.CHAPTER, name)
    assert "raise NotImplementedError" in stub and "# your code here" in stub
    verdict = run_checker(check, module._define(stub, name), capsys)
    assert verdict.status == "not attempted", verdict.message


@pytest.mark.parametrize("module, label, name, check", CASES)
def test_an_ellipsis_body_is_not_attempted(module, label, name, check, capsys):
    params = re.search(rf"^def {name}\((.*?)\):", stub_code(module.CHAPTER, name), flags=re.M | re.S).group(1)
    fn = module._define(f"def {name}({params}):\n    ...\n", name)
    assert run_checker(check, fn, capsys).status == "not attempted"


@pytest.mark.parametrize("module, label, name, check", CASES)
def test_a_crash_is_a_fail_with_a_sentence(module, label, name, check, capsys):
    def crashes(*args, **kwargs):
        return {}["missing"]

    verdict = run_checker(check, crashes, capsys)
    assert verdict.status == "fail"
    assert "crashes raised KeyError" in verdict.message and "Traceback" not in verdict.message


@pytest.mark.parametrize("module, label, name, check", CASES)
@pytest.mark.parametrize("answer", [None, "text", [1, 2, 3], np.full(3, np.nan), 7, {"a": 1}],
                         ids=["none", "str", "list", "nan", "int", "dict"])
def test_odd_answers_give_a_verdict_not_an_exception(module, label, name, check, answer, capsys):
    verdict = run_checker(check, lambda *args, **kwargs: answer, capsys)
    assert verdict.status in ("fail", "not attempted")
    if answer is not None:
        assert verdict.status == "fail"
        assert "could not run your function" not in verdict.message, verdict.message


@pytest.mark.parametrize("module, label, name, check", CASES)
def test_a_non_callable_gets_a_clear_message(module, label, name, check, capsys):
    verdict = run_checker(check, 42, capsys)
    assert verdict.status == "fail"
    assert "pass your function itself" in verdict.message and check.__name__ in verdict.message


def _mistakes():
    out = []
    for name in CHAPTER_TESTS:
        module = importlib.import_module(name)
        for check, wrong, expected in module.MISTAKES:
            out.append(pytest.param(check, wrong, expected,
                                    id=f"{module.CHAPTER.stem}-{check.__name__}-{wrong.__name__.lstrip('_')}"))
    return out


@pytest.mark.parametrize("check, wrong, expected", _mistakes())
def test_typical_mistakes_get_a_specific_hint(check, wrong, expected, capsys):
    """Each chapter's ``MISTAKES`` table: a typical wrong answer and the words its hint must use."""
    verdict = run_checker(check, wrong, capsys)
    assert verdict.status == "fail", verdict.message
    assert verdict.message.startswith("✗")
    for text in expected:
        assert text in verdict.message, f"hint {verdict.message!r} should mention {text!r}"
