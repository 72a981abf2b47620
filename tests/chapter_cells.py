"""Reading a chapter notebook's cells from the exercise tests (tests/test_exercises*.py).

The tests take the code a reader sees - the ``{solution}`` dropdown and the stub cell - straight
from the notebook, so the solution printed in the book is the one that is tested.
"""
from __future__ import annotations

import json
import re

__all__ = ["cells", "solution_code", "stub_code", "run_checker"]


def cells(notebook):
    return [(c["cell_type"], "".join(c["source"])) for c in json.loads(notebook.read_text())["cells"]]


def solution_code(notebook, label):
    """The ```python block of the chapter's {solution} cell for exercise ``label``."""
    for kind, source in cells(notebook):
        if kind == "markdown" and re.search(r"\{solution\}\s+" + re.escape(label) + r"(?![\w-])", source):
            blocks = re.findall(r"```python\n(.*?)\n```", source, flags=re.S)
            assert len(blocks) == 1, f"the solution of {label} should hold one ```python block"
            return blocks[0]
    raise AssertionError(f"{notebook.name} has no {{solution}} cell for {label}")


def stub_code(notebook, name):
    """The chapter's stub cell that defines function ``name``."""
    for kind, source in cells(notebook):
        if kind == "code" and re.search(rf"^def {name}\(", source, flags=re.M):
            return source
    raise AssertionError(f"{notebook.name} has no stub cell defining {name}")


def run_checker(check, fn, capsys):
    verdict = check(fn)
    printed = capsys.readouterr().out
    assert printed.strip() == verdict.message, "the checker prints exactly its verdict, once"
    return verdict
