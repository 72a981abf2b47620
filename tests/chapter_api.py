"""Each chapter ends with "The code of this chapter": links to the API entries it uses.

``python -m tests.chapter_api book/<chapter>.ipynb ...`` (re)writes that last cell from the
rlnotes names the chapter's code cells import or call; tests/test_repo.py checks that every
chapter's cell is current, so a chapter that starts using a new function links to it.
"""
import importlib
import inspect
import re
import sys

import nbformat

HEAD = "## The code of this chapter"
_FROM = re.compile(r"^from (rlnotes(?:\.\w+)*) import (?:\(([^)]*)\)|([^\n(]*)$)", re.M)
_IMPORT_AS = re.compile(r"^import (rlnotes(?:\.\w+)+) as (\w+)$", re.M)
_DOTTED = re.compile(r"\b(rlnotes(?:\.\w+)+)")


def _resolve(dotted):
    """(role, target) for a dotted rlnotes name, or None (private, an exercise, not found)."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        try:
            for p in parts[k:]:
                obj = getattr(obj, p)
        except AttributeError:
            return None
        break
    else:
        return None
    if inspect.ismodule(obj):
        name = obj.__name__
        if name == "rlnotes" or (name.startswith("rlnotes.exercises") and name != "rlnotes.exercises.core"):
            return None
        return "py:mod", name
    module = getattr(obj, "__module__", "") or ""
    qual = getattr(obj, "__qualname__", parts[-1])
    if not module.startswith("rlnotes") or module.startswith("rlnotes.exercises"):
        return None
    if any(p.startswith("_") for p in qual.split(".")):
        return None
    role = "py:class" if inspect.isclass(obj) else ("py:meth" if "." in qual else "py:func")
    return role, f"{module}.{qual}"


def used(nb):
    """The (role, target) pairs of the rlnotes API that the notebook's code cells use, sorted."""
    names, aliases = [], {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = cell.source
        for m in _FROM.finditer(src):
            imported = re.sub(r"#[^\n]*", "", m.group(2) or m.group(3) or "")
            for name in re.split(r"[,\s]+", imported):
                if name and name != "as":
                    names.append(f"{m.group(1)}.{name}")
                    aliases[name] = f"{m.group(1)}.{name}"
        for m in _IMPORT_AS.finditer(src):
            aliases[m.group(2)] = m.group(1)
        names += _DOTTED.findall(src)
        for alias, full in aliases.items():                 # mdp.value_iteration(...) etc.
            names += [f"{full}.{a}" for a in re.findall(rf"(?<![\w.]){alias}\.(\w+)", src)]
    found = {r for r in map(_resolve, names) if r}
    members = {t.rsplit(".", 1)[0] for r, t in found if r != "py:mod"}
    members |= {t.rsplit(".", 2)[0] for r, t in found if r == "py:meth"}
    found = {(r, t) for r, t in found if not (r == "py:mod" and (t in members or t == "rlnotes.algos"))}
    return sorted(found, key=lambda rt: rt[1])


def api_cell(items):
    """The markdown of the last cell for ``items`` = [(role, target), ...]."""
    lines = [HEAD, "", "The functions and classes this chapter uses, in the {ref}`api` (each with "
             "its source, line by line):", ""]
    return "\n".join(lines + [f"- {{{r}}}`{t}`" for r, t in items])


def rewrite(path):
    nb = nbformat.read(path, as_version=4)
    items = used(nb)
    nb.cells = [c for c in nb.cells if not (c.cell_type == "markdown" and c.source.startswith(HEAD))]
    if items:
        nb.cells.append(nbformat.v4.new_markdown_cell(api_cell(items)))
    nbformat.write(nb, path)
    return items


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(arg, [t for _, t in rewrite(arg)])
