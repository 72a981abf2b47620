"""The chapters as Chinese notebooks, generated from the catalogs (never edited by hand).

A notebook's prose is the messages Sphinx extracted from it; each message records where it
came from (``book/ppo.ipynb:80004``: cell 8, line 4 of its source, counted from 1). This puts
each translation back at that place of a copy of the notebook: the lines of a paragraph, list
item, heading or caption become the translated line (keeping the list marker or heading
hashes), a table cell its translated cell, a directive's title (an exercise, a theorem) or a
figure's ``:alt:`` its translation. Code cells, math and directive options stay as they are.
The copy gets a first cell that sets the exercise checkers' language (RLNOTES_LANG=zh_CN).

    python tools/translate_notebooks.py OUT        # every chapter into OUT/book/...
    python tools/i18n.py notebooks OUT             # the same

Every message must find its place; a message that does not (the English source changed in a
way the catalog does not know yet) is reported, and `tests/test_translate_notebooks.py` fails.
"""
from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LANG = "zh_CN"
LOCALES = ROOT / "locales" / LANG / "LC_MESSAGES"

# the folded-solution placeholder tools/jupyter_exercises.py writes, and the language cell
SOLUTION_PLACEHOLDER = ("% Solution (click to show)", "% 解答（点击展开）")
LANGUAGE_CELL = ("# 中文版笔记本：练习检查器用中文回答（环境变量 RLNOTES_LANG）\n"
                 "%env RLNOTES_LANG=zh_CN")

_PREFIX = re.compile(r"^(\s*(?:>\s*)*(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+)?)")
_DIRECTIVE = re.compile(r"^(\s*(?::{3,}|`{3,})\{[\w:-]+\}\s+)(.*?)\s*$")
_OPTION = re.compile(r"^(\s*:alt:\s+)(.*?)\s*$")
_QUOTE = re.compile(r"^\s*(?:>\s*)*")


def _norm(text):
    return " ".join(text.split())


def _content(line):
    """A line without its block prefix (indentation, quote, heading hashes, list marker)."""
    m = _PREFIX.match(line)
    return m.group(1), line[m.end():]


def _place(lines, used, start, msgid, msgstr, window=4):
    """Put one translation into ``lines`` near line ``start`` (0-based); True if placed."""
    target = _norm(msgid)
    order = sorted(range(max(0, start - window), min(len(lines), start + min(window, 2) + 1)),
                   key=lambda i: abs(i - start))
    for i in order:
        if i in used or lines[i] is None:
            continue
        line = lines[i]
        # a directive's title: ":::{exercise} Title", "```{prf:theorem} Title" (sphinx-proof
        # shows it as "(Title)", and so does its message)
        m = _DIRECTIVE.match(line)
        if m and m.group(2):
            arg = _norm(m.group(2))
            if arg == target or f"({arg})" == target:
                text = msgstr
                if f"({arg})" == target:
                    text = re.sub(r"^[(（](.*)[)）]$", r"\1", msgstr.strip())
                lines[i] = m.group(1) + text
                used.add(i)
                return True
        m = _OPTION.match(line)
        if m and _norm(m.group(2)) == target:
            lines[i] = m.group(1) + msgstr
            used.add(i)
            return True
        # a table: one cell, anywhere in the table (its messages all point at its first row)
        if line.lstrip().startswith("|"):
            first, last = i, i
            while first > 0 and (lines[first - 1] or "").lstrip().startswith("|"):
                first -= 1
            while last + 1 < len(lines) and (lines[last + 1] or "").lstrip().startswith("|"):
                last += 1
            for r in range(first, last + 1):
                cells = lines[r].split("|")
                for k, cell in enumerate(cells):
                    if (r, k) not in used and cell.strip() and _norm(cell) == target:
                        cells[k] = f" {msgstr} "
                        lines[r] = "|".join(cells)
                        used.add((r, k))
                        return True
            continue
        # a paragraph, heading, list item or caption: lines i..j
        prefix, first = _content(line)
        if not target.startswith(_norm(first)[:20]) or not first.strip():
            continue
        text = ""
        for j in range(i, len(lines)):
            if j in used or (j > i and not lines[j].strip()):
                break
            text = _norm(text + " " + (first if j == i else _QUOTE.sub("", lines[j])))
            if text == target:
                lines[i:j + 1] = [prefix + msgstr] + [None] * (j - i)
                used.update(range(i, j + 1))
                return True
            if not target.startswith(text):
                break
    return False


def _proof(msgid, msgstr):
    """sphinx-proof writes "Proof. " before a proof's first paragraph; the notebook has the
    paragraph alone."""
    if msgid.startswith("Proof. "):
        return msgid[len("Proof. "):], re.sub(r"^\s*(?:证明|Proof)\s*[.。:：]\s*", "", msgstr)
    return msgid, msgstr


def _place_in_tables(lines, used, msgid, msgstr):
    """A table cell anywhere in ``lines`` (Sphinx records odd lines for table cells)."""
    for i, line in enumerate(lines):
        if line is not None and line.lstrip().startswith("|") and _place(lines, used, i, msgid, msgstr, window=0):
            return True
    return False


def translate_source(text, messages):
    """``text`` (a markdown cell, or a page) with ``messages`` [(line from 1, msgid, msgstr)] put
    in place; returns (new lines, used, [(msgid, msgstr) that found no place])."""
    lines = text.split("\n")
    used, missed = set(), []
    for line, msgid, msgstr in sorted(messages, key=lambda m: (-len(m[1]), m[0])):
        msgid, msgstr = _proof(msgid, msgstr)
        if not _place(lines, used, line - 1, msgid, msgstr):
            missed.append((msgid, msgstr))
    return lines, used, missed


def _join(lines):
    return "\n".join(line for line in lines if line is not None).replace(*SOLUTION_PLACEHOLDER)


def _messages(doc):
    """{(cell or None, line): [(msgid, msgstr)]} of the catalog of ``doc`` (e.g. "book/ppo")."""
    po = LOCALES / f"{doc}.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=LANG)
    name = Path(doc).name
    out = []
    for m in catalog:
        if not m.id or not m.string or m.fuzzy:
            continue
        for path, line in m.locations:
            if Path(path).stem == name and line:
                out.append((line, m.id, m.string))
    return out


def translate_notebook(doc):
    """The Chinese notebook of ``doc`` ("book/ppo"), and the messages that found no place."""
    nb = json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))
    by_cell = {}
    for line, msgid, msgstr in _messages(doc):
        # myst-nb numbers a notebook's lines as (cell index + 1) * 10000 + line in the cell
        cell, within = divmod(line, 10000)
        by_cell.setdefault(cell - 1, []).append((within, msgid, msgstr))
    out = copy.deepcopy(nb)
    state, pending = {}, []
    for index, messages in by_cell.items():
        if not 0 <= index < len(out["cells"]) or out["cells"][index]["cell_type"] != "markdown":
            # computed outputs (not stored in the notebook), or a table's odd line
            pending += [(*_proof(m, t), True) for _, m, t in messages]
            continue
        lines, used, lost = translate_source("".join(out["cells"][index]["source"]), messages)
        state[index] = (lines, used)
        pending += [(m, t, False) for m, t in lost]
    missed = []
    for msgid, msgstr, in_code_cell in pending:
        for index, cell in enumerate(out["cells"]):
            if cell["cell_type"] == "markdown" and index not in state:
                state[index] = (cell["source"] and "".join(cell["source"]).split("\n") or [], set())
            if cell["cell_type"] == "markdown" and _place_in_tables(*state[index], msgid, msgstr):
                break
        else:
            if not in_code_cell:          # else: a computed output's text, not in the notebook
                missed.append(msgid)
    for index, (lines, _) in state.items():
        out["cells"][index]["source"] = _join(lines).splitlines(keepends=True)
    out["cells"].insert(0, {"cell_type": "code", "execution_count": None, "id": "rlnotes-zh",
                            "metadata": {"tags": ["remove-cell"]}, "outputs": [],
                            "source": LANGUAGE_CELL.splitlines(keepends=True)})
    out["metadata"]["language"] = LANG
    return out, missed


def _toc_captions():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return {part["caption"] for part in toc.get("parts", []) if "caption" in part}


def translate_page(doc, suffix=".md"):
    """A Markdown page of the book in Chinese, and the messages that found no place. (The root
    page's catalog also holds the captions of _toc.yml's parts, which are not in the page.)"""
    text = (ROOT / f"{doc}{suffix}").read_text(encoding="utf-8")
    lines, used, missed = translate_source(text, _messages(doc))
    captions = _toc_captions()
    missed = [(m, t) for m, t in missed if m not in captions and not _place_in_tables(lines, used, m, t)]
    return _join(lines), [m for m, _ in missed]


def chapters():
    return sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "book").glob("*.ipynb"))


def write_all(out):
    """Every chapter as a Chinese notebook under ``out`` (same layout as the repository);
    returns {doc: messages that found no place}."""
    out = Path(out)
    problems = {}
    for doc in chapters():
        nb, missed = translate_notebook(doc)
        target = out / f"{doc}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        if missed:
            problems[doc] = missed
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__)
        return 2
    problems = write_all(argv[0])
    for doc, missed in problems.items():
        print(f"{doc}: {len(missed)} messages found no place, e.g. {missed[0][:80]!r}")
    print(f"Chinese notebooks in {argv[0]}/book" + (" (incomplete)" if problems else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
