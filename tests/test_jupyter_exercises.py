"""The chapters' exercises in their Jupyter form (tools/jupyter_exercises.py), and the book unchanged.

In JupyterLab, Notebook 7 or a downloaded notebook every solution must be folded until clicked
and every exercise must read as a task. The tool makes it so; this test keeps the chapters that
way (a chapter edited since fails with the command that fixes it), checks the rewrite on small
cells, and checks with MyST's own parser that the rewrite changes nothing the book renders.
"""
from __future__ import annotations

import importlib.util
import json
import pathlib
import re

import pytest
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("jupyter_exercises", ROOT / "tools" / "jupyter_exercises.py")
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

CHAPTERS = sorted(p for p in (ROOT / "book").glob("*.ipynb") if "{exercise}" in p.read_text())
MYST = create_md_parser(MdParserConfig(enable_extensions={"colon_fence", "dollarmath", "amsmath", "deflist",
                                                          "substitution"}), RendererHTML)


def _nb(*cells):
    return {"cells": [{"cell_type": kind, "id": f"c{i}", "metadata": {}, "source": tool._source(text),
                       **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                      for i, (kind, text) in enumerate(cells)],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _text(cell):
    return "".join(cell["source"])


EXERCISE = "Read this.\n\n````{exercise} The return\n:label: ex-r\n\nWrite `f(r)`: $R = \\sum_t r_t$.\n````"
SOLUTION = "````{solution} ex-r\n:class: dropdown\n\n```python\ndef f(r):\n    return sum(r)\n```\n````"


def test_the_chapters_are_in_their_jupyter_form():
    assert CHAPTERS, "no chapter has exercises"
    problems = tool.apply(CHAPTERS, check=True)
    assert not problems, "\n".join(problems)


def test_an_exercise_is_fenced_with_colons_and_stays_visible():
    before = _nb(("markdown", EXERCISE), ("code", "def f(r):\n    raise NotImplementedError"))
    nb, changes = tool.rewrite(before)
    assert _text(nb["cells"][0]) == ("Read this.\n\n:::{exercise} The return\n:label: ex-r\n\n"
                                     "Write `f(r)`: $R = \\sum_t r_t$.\n:::")
    assert nb["cells"][0]["metadata"] == {} and nb["cells"][1] == before["cells"][1]
    assert changes == ["cell c0: exercise fenced with colons"]


def test_a_solution_gets_its_own_folded_cell_with_a_readable_first_line():
    nb, changes = tool.rewrite(_nb(("markdown", EXERCISE + "\n\n" + SOLUTION + "\n\nAfter it.")))
    kinds = [(c["id"], c["metadata"]) for c in nb["cells"]]
    assert kinds == [("c0", {}), ("c0-1", {"jupyter": {"source_hidden": True}}), ("c0-2", {})]
    solution = _text(nb["cells"][1])
    assert solution.splitlines()[0] == tool.HINT            # what JupyterLab shows while folded
    assert solution.endswith(":::{solution} ex-r\n:class: dropdown\n\n```python\ndef f(r):\n"
                             "    return sum(r)\n```\n:::")
    assert _text(nb["cells"][2]) == "After it."
    assert "split into 3 cells" in changes[0]


def test_the_rewrite_is_idempotent_and_check_mode_sees_the_difference(tmp_path):
    path = tmp_path / "chapter.ipynb"
    path.write_text(tool.dumps(_nb(("markdown", EXERCISE), ("markdown", SOLUTION))))
    assert tool.apply([path], check=True)                    # not yet in Jupyter form
    assert tool.apply([path]) == []
    once = path.read_text()
    assert tool.apply([path], check=True) == []
    tool.apply([path])
    assert path.read_text() == once
    assert json.loads(once)["cells"][1]["metadata"] == {"jupyter": {"source_hidden": True}}


def test_nested_colon_fences_get_a_longer_outer_fence():
    inner = ":::{note}\nA note.\n:::"
    nb, _ = tool.rewrite(_nb(("markdown", f"````{{solution}} ex-r\n:class: dropdown\n\n{inner}\n````")))
    lines = _text(nb["cells"][0]).splitlines()
    assert lines[2] == "::::{solution} ex-r" and lines[-1] == "::::" and inner in _text(nb["cells"][0])


def test_a_text_cell_is_never_folded():
    nb = _nb(("markdown", EXERCISE))
    nb["cells"][0]["metadata"] = {"jupyter": {"source_hidden": True, "outputs_hidden": False}}
    new, _ = tool.rewrite(nb)
    assert new["cells"][0]["metadata"] == {"jupyter": {"outputs_hidden": False}}


def _blocks(text):
    """What the book's parser sees: MyST's block tokens, a directive's spelling (backticks or
    colons) and comments left out."""
    return [(t.type.replace("colon_fence", "fence"), t.info, t.content, t.tag)
            for t in MYST.parse(text) if t.type != "myst_line_comment"]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_the_rewrite_changes_nothing_the_book_renders(notebook):
    before = json.loads(notebook.read_text())
    after, _ = tool.rewrite(before)

    def parsed(nb):
        return [_blocks(_text(c)) if c["cell_type"] == "markdown" else _text(c) for c in nb["cells"]]
    # a split cell (new ids: the original's id, "-1", "-2", ...) is the same MyST as its pieces in a row
    old_ids, joined = {c.get("id") for c in before["cells"]}, []
    for cell in after["cells"]:
        piece = _blocks(_text(cell)) if cell["cell_type"] == "markdown" else _text(cell)
        if cell.get("id") not in old_ids and re.fullmatch(re.escape(joined[-1][0]) + r"-\d+", cell["id"]):
            joined[-1][1].extend(piece)
        else:
            joined.append((cell.get("id"), piece))
    assert [p for _, p in joined] == parsed(before)


def test_hidden_code_is_hidden_in_jupyter_too():
    """tools/hide_inputs.py: the listed cells carry hide-input, and every hide-input cell is folded
    in JupyterLab/Notebook 7 as on the page."""
    spec = importlib.util.spec_from_file_location("hide_inputs", ROOT / "tools" / "hide_inputs.py")
    hide_inputs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hide_inputs)
    assert hide_inputs.apply(check=True) == []
