"""The Chinese notebooks (tools/translate_notebooks.py): generated from the catalogs, complete.

Every chapter's prose message finds its place in a copy of the notebook; no English sentence is
left in a markdown cell (after math, code, roles and directive options are set aside); the code
cells are the English notebook's, unchanged, after one first cell that sets the checkers'
language. (A Chinese notebook is run in JupyterLab by tests/test_jupyterlab.py.)
"""
from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
tn = importlib.import_module("translate_notebooks")

CHAPTERS = tn.chapters()
# four English words in a row: a sentence the translation missed
SENTENCE = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,;]+[a-z]{2,}){3,}\b")


def _prose(markdown):
    text = re.sub(r"^(\s*)(`{3,}|~{3,})(?!\{).*?^\1\2", " ", markdown, flags=re.S | re.M)   # code blocks
    text = re.sub(r"（[^）]*）", " ", text)       # the English of a term at its first use: 策略梯度（policy gradient）
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$(?:[^$\\]|\\.)+?\$", " ", text)
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text)              # roles
    text = re.sub(r"`[^`\n]*`", " ", text)                      # code
    lines = [ln for ln in text.splitlines()
             if not re.match(r"\s*(:::|```|:[\w-]+:|%|\(\S+\)=|\\begin|\\end)", ln)]
    text = "\n".join(lines)
    return re.sub(r"\[[^\]]*\]\([^)]*\)|https?://\S+", " ", text)


@pytest.mark.parametrize("doc", CHAPTERS)
def test_the_chinese_notebook_is_complete(doc):
    zh, missed = tn.translate_notebook(doc)
    assert not missed, (f"{doc}: messages that found no place in the notebook (python "
                        f"tools/i18n.py update, translate, or fix tools/translate_notebooks.py): {missed[:3]}")
    en = json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))
    assert len(zh["cells"]) == len(en["cells"]) + 1 and "RLNOTES_LANG=zh_CN" in "".join(zh["cells"][0]["source"])
    for a, b in zip(en["cells"], zh["cells"][1:]):
        assert a["cell_type"] == b["cell_type"] and a.get("id") == b.get("id")
        if a["cell_type"] == "code":
            assert a["source"] == b["source"], f"{doc}: a code cell changed in translation"
        else:
            english = SENTENCE.findall(_prose("".join(b["source"])))
            assert not english, f"{doc}: English left in a markdown cell: {english[:3]}"


def test_a_message_that_lost_its_place_is_reported():
    """Break the source: a catalog message whose English is not in the cell is reported."""
    lines, used, missed = tn.translate_source("# A heading\n\nSome prose that the catalog knows.\n",
                                              [(2, "A heading", "标题"), (3, "Prose the catalog does not know.", "x")])
    assert lines[0] == "# 标题" and missed == [("Prose the catalog does not know.", "x")]
