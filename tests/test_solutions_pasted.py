"""Every chapter's exercises run with the solutions pasted in, and every checker then says ✓.

``make test`` already executes each chapter top to bottom in a fresh kernel as it is published,
stubs untouched (nbval): every checker then says "not attempted yet". This test is the reader
who has done the exercises: it replaces each stub cell by the code of that exercise's
``{solution}`` dropdown and executes, in a new kernel, the chapter's set-up cell (its imports)
followed by the cells of its exercises (each stub and checker, wherever in the chapter it
stands: an exercise comes where its idea is introduced, before the package's code that
answers it), and requires every checker to print ✓.

Why not the whole chapter a second time: the other cells are the same in both runs and nbval
has just run them; executing them again would double the time of the test suite. Leaving them
out can only make this test stricter: a solution that relied on a variable of another cell
would fail here (the exercises are meant to stand on their own).
"""
from __future__ import annotations

import json
import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow                   # each test executes a whole chapter

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p for p in (ROOT / "book").glob("*.ipynb") if "{solution}" in p.read_text())


CHECKER = re.compile(r"\s*check_\w+\(")


def pasted(notebook):
    """The notebook with every stub replaced by its solution; returns (nb, n_replaced, n_checks, n_solutions).

    Each replaced stub is marked ``metadata["exercise_stub"]``, so that :func:`setup_and_exercises`
    can find it after its source changed.
    """
    nb = nbformat.read(notebook, as_version=4)
    solutions = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{solution}" in cell.source:
            for block in re.findall(r"```python\n(.*?)\n```", cell.source, flags=re.S):
                for name in re.findall(r"^def (\w+)\(", block, flags=re.M):
                    solutions[name] = block
    replaced = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        names = re.findall(r"^def (\w+)\(", cell.source, flags=re.M)
        if names and "raise NotImplementedError" in cell.source and names[0] in solutions:
            cell.source = solutions[names[0]]
            cell.metadata["exercise_stub"] = names[0]
            replaced += 1
    checks = sum(1 for c in nb.cells if c.cell_type == "code" and CHECKER.match(c.source))
    return nb, replaced, checks, len(solutions)


def setup_and_exercises(nb):
    """The notebook reduced to its first code cell and the stub and checker cells of its exercises."""
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    kept, defined = [nb.cells[first_code]], set()
    for cell in nb.cells[first_code + 1:]:
        if cell.cell_type != "code":
            continue
        if "exercise_stub" in cell.metadata:
            kept.append(cell)
            defined.add(cell.metadata["exercise_stub"])
        elif CHECKER.match(cell.source):
            checked = re.match(r"\s*check_\w+\((\w+)\)", cell.source)
            assert checked and checked.group(1) in defined, \
                f"the checker cell {cell.source.strip()!r} should follow the stub cell of the function it checks"
            kept.append(cell)
    reduced = nbformat.from_dict(nb)
    reduced.cells = kept
    return reduced


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_with_the_solutions_pasted_in(notebook):
    nb, replaced, checks, n_solutions = pasted(notebook)
    assert replaced == n_solutions > 0, \
        f"{notebook.name}: {n_solutions} solutions but {replaced} stub cells to paste them into"
    nb = setup_and_exercises(nb)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    verdicts = []
    for cell in nb.cells:
        if cell.cell_type == "code" and CHECKER.match(cell.source):
            text = "".join(o.get("text", "") + json.dumps(o.get("data", {}), ensure_ascii=False)
                           for o in cell.outputs)
            verdicts.append((cell.source.strip().splitlines()[0], text))
    assert len(verdicts) == checks >= replaced
    failed = [(src, text[:300]) for src, text in verdicts if "✓" not in text or "✗" in text]
    assert not failed, f"{notebook.name}: checkers that did not pass with the book's solutions: {failed}"
