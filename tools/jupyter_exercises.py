"""Exercises that read as tasks, and solutions that stay folded, in Jupyter as in the book.

The rendered book draws an ``{exercise}`` as a box and a ``{solution}`` as a collapsed
dropdown. A chapter opened in plain JupyterLab or Notebook 7 (a downloaded notebook, or
``make lab`` without the MyST extension) renders the same cells as ordinary Markdown, where a
directive fenced with backticks is a code block: the task shows as raw monospace text, math not
typeset, and the full solution stands right under the exercise. This tool rewrites the chapters
so that in Jupyter too

* every exercise and solution is fenced with colons (``:::{exercise}`` ... ``:::``), MyST's
  other spelling of the same directive: plain Markdown then renders its body as text and math,
  with the directive's first line as a short header (the book's output is unchanged: the two
  spellings parse to the same directive);
* every solution stands alone in its own markdown cell (a cell that holds more is split), whose
  metadata ``"jupyter": {"source_hidden": true}`` makes JupyterLab and Notebook 7 show only a
  one-line placeholder until it is clicked. The placeholder shows the cell's first line, so the
  cell starts with a MyST comment (``% Solution (click to show)``) that the book does not print.

    python tools/jupyter_exercises.py             # rewrite book/*.ipynb where needed (idempotent)
    python tools/jupyter_exercises.py --check     # change nothing; exit 1 if a chapter needs it
    python tools/jupyter_exercises.py a.ipynb     # only these notebooks

Only the fence lines of those two directives, the split and the metadata change; every other
cell, its id and its outputs stay as they are. A notebook is written only when something
changes, in the repository's format (``json.dumps(nb, indent=1, ensure_ascii=False)`` and a
final newline); a cell split off keeps its original's id followed by ``-1``, ``-2``, ...
"""
from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DIRECTIVES = ("exercise", "solution")
HINT = "% Solution (click to show)"         # the placeholder's text: the first line of the cell
HIDDEN = {"source_hidden": True}
FIX = "run: python tools/jupyter_exercises.py"

# a fence that opens a block at the start of a line: ``` or ~~~ (code or directive), ::: (directive)
_OPEN = re.compile(r"^(`{3,}|~{3,}|:{3,})(.*)$")


def _closes(line, fence):
    """Does ``line`` close a block opened by ``fence`` (the same character, at least as many)?"""
    stripped = line.rstrip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def blocks(text):
    """Split a markdown cell into [(kind, lines)]: kind "exercise" or "solution" for a top-level
    block of that directive (the fence lines included), "text" for everything else."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            out.append(("text", [lines[i]]))
            i += 1
            continue
        fence = m.group(1)
        end = next((j for j in range(i + 1, len(lines)) if _closes(lines[j], fence)), len(lines) - 1)
        name = re.match(r"\{([\w:-]+)\}", m.group(2).strip())
        kind = name.group(1) if name and name.group(1) in DIRECTIVES else "text"
        out.append((kind, lines[i:end + 1]))
        i = end + 1
    merged = []                                   # consecutive text lines into one piece
    for kind, chunk in out:
        if kind == "text" and merged and merged[-1][0] == "text":
            merged[-1][1].extend(chunk)
        else:
            merged.append((kind, list(chunk)))
    return merged


def colon_fenced(chunk):
    """The directive block ``chunk`` (its lines) fenced with colons: one more colon than any
    colon fence inside it, at least three."""
    inner = chunk[1:-1] if len(chunk) > 1 and _closes(chunk[-1], _OPEN.match(chunk[0]).group(1)) else chunk[1:]
    runs = [len(m.group(1)) for line in inner if (m := re.match(r"^(:{3,})", line))]
    colons = ":" * max(3, max(runs, default=0) + 1)
    head = _OPEN.match(chunk[0]).group(2)
    return [colons + head, *inner, colons]


def _trim(lines):
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def cell_pieces(text):
    """The markdown of one cell as the cells it should become: [(is_solution, text)]."""
    pieces, current = [], []
    for kind, chunk in blocks(text):
        if kind == "solution":
            current = _trim(current)
            if current and current[-1].strip() == HINT:     # this solution's own hint, added before
                current = _trim(current[:-1])
            if current:
                pieces.append((False, "\n".join(current)))
            pieces.append((True, "\n".join([HINT, "", *colon_fenced(chunk)])))
            current = []
        else:
            current.extend(colon_fenced(chunk) if kind == "exercise" else chunk)
    if _trim(current):
        pieces.append((False, "\n".join(_trim(current))))
    return pieces


def _source(text):
    """A cell's source as nbformat stores it: lines with their newlines, the last one without."""
    return text.splitlines(keepends=True)


def rewrite(nb):
    """The notebook (a dict as stored) with its exercises and solutions in Jupyter form, and a
    list of what changed (empty if nothing did). ``nb`` itself is not modified."""
    nb = json.loads(json.dumps(nb))
    ids = {c.get("id") for c in nb["cells"]}
    cells, changes = [], []
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] != "markdown" or not any("{" + d + "}" in text for d in DIRECTIVES):
            cells.append(cell)
            continue
        pieces = cell_pieces(text)
        if len(pieces) == 1 and text.endswith("\n"):      # keep a final newline: the smallest diff
            pieces = [(pieces[0][0], pieces[0][1] + "\n")]
        for k, (is_solution, new_text) in enumerate(pieces):
            same = new_text == text                        # then keep the source exactly as stored
            new = dict(cell, source=cell["source"] if same else _source(new_text),
                       metadata=json.loads(json.dumps(cell["metadata"])))
            if k > 0 and "id" in cell:
                n = k
                while f"{cell['id']}-{n}" in ids:
                    n += 1
                new["id"] = f"{cell['id']}-{n}"
                ids.add(new["id"])
            jupyter = new["metadata"].get("jupyter", {})
            if is_solution:
                new["metadata"]["jupyter"] = {**jupyter, **HIDDEN}
            elif jupyter.get("source_hidden"):            # a task or a text is never folded away
                jupyter = {key: v for key, v in jupyter.items() if key != "source_hidden"}
                if jupyter:
                    new["metadata"]["jupyter"] = jupyter
                else:
                    del new["metadata"]["jupyter"]
            cells.append(new)
        if len(pieces) > 1:
            changes.append(f"cell {cell.get('id')}: split into {len(pieces)} cells (a solution alone in its cell)")
        elif cells[-1] != cell:
            changes.append(f"cell {cell.get('id')}: " + ("solution folded in Jupyter" if pieces[0][0]
                                                         else "exercise fenced with colons"))
    nb["cells"] = cells
    return nb, changes


def dumps(nb):
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def apply(paths, check=False):
    """Rewrite (or, with ``check``, only inspect) the notebooks. Returns the problems found with
    ``check`` (notebooks that need the rewrite), else an empty list."""
    problems = []
    for path in map(pathlib.Path, paths):
        nb = json.loads(path.read_text(encoding="utf-8"))
        new, changes = rewrite(nb)
        if not changes:
            continue
        try:
            name = path.resolve().relative_to(ROOT)
        except ValueError:
            name = path
        if check:
            problems += [f"{name}: {c}" for c in changes]
        else:
            path.write_text(dumps(new), encoding="utf-8")
            print(f"{name}: " + "; ".join(changes))
    if problems:
        problems.append(f"the exercises above are not in their Jupyter form ({FIX})")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to rewrite (default: book/*.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a notebook is not in its Jupyter form")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    problems = apply(paths, check=args.check)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems and args.check:
        print(f"{len(paths)} notebooks: every exercise reads as a task and every solution is folded in Jupyter")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
