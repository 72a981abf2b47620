"""The repository as a reader gets it: notebooks stripped, every chapter in the table of
contents, every dependency pinned, a valid CITATION.cff, and a README that shows the commands."""
from __future__ import annotations

import json
import pathlib
import re
import subprocess

import pytest
import yaml

import rlnotes

ROOT = pathlib.Path(__file__).resolve().parent.parent


def tracked(pattern):
    out = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True)
    files = [ROOT / f for f in out.stdout.split()] if out.returncode == 0 else []
    return files or sorted(ROOT.glob(pattern))


NOTEBOOKS = [p for p in tracked("book/*.ipynb")]


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    def walk(entries):
        for entry in entries:
            files.append(entry["file"])
            walk(entry.get("sections", []))
    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    return files


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks found in book/"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_outputs_are_stripped(nb):
    cells = json.loads(nb.read_text())["cells"]
    dirty = [i for i, c in enumerate(cells)
             if c.get("cell_type") == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (f"{nb.name}: cells {dirty} carry outputs or execution counts; strip them with "
                       f"`.venv/bin/jupyter nbconvert --clear-output --inplace {nb.relative_to(ROOT)}`")


def test_every_page_is_in_the_toc_and_exists():
    listed = toc_files()
    for doc in listed:
        assert any((ROOT / f"{doc}{ext}").exists() for ext in (".md", ".ipynb")), f"_toc.yml lists missing {doc}"
    pages = [p for p in tracked("book/*.ipynb") + tracked("book/*.md") + tracked("book/api/*.md")]
    missing = [p.relative_to(ROOT).with_suffix("").as_posix() for p in pages
               if p.relative_to(ROOT).with_suffix("").as_posix() not in listed]
    assert not missing, f"pages not in _toc.yml (readers would never see them): {missing}"


def test_requirements_are_pinned():
    lines = [l.split("#")[0].strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    lines = [l for l in lines if l]
    assert "-e ." in lines
    loose = [l for l in lines if not l.startswith("-") and not re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[^=\s]+", l)]
    assert not loose, f"requirements.txt lines not pinned with ==: {loose}"
    names = {l.split("==")[0].lower() for l in lines if "==" in l}
    for needed in ("jupyter-book", "sphinx", "myst-nb", "torch", "gymnasium", "nbval", "numpy"):
        assert needed in names, f"{needed} is not pinned in requirements.txt"


def test_citation_cff_is_valid_and_current():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors", "version", "date-released", "license"):
        assert key in cff, f"CITATION.cff lacks the required key {key!r}"
    assert str(cff["cff-version"]).startswith("1.2")
    assert str(cff["version"]) == rlnotes.__version__, "CITATION.cff's version must match rlnotes.__version__"
    assert all("name" in a or "family-names" in a for a in cff["authors"])
    assert cff.get("preferred-citation", {}).get("type") in ("book", None)


def test_citation_cff_validates_against_the_cff_schema():
    """The Citation File Format 1.2.0 JSON schema (vendored from cffconvert 2.0.0, Apache-2.0)."""
    import jsonschema

    schema = json.loads((ROOT / "tests" / "data" / "citation-cff-1.2.0.schema.json").read_text())
    cff = json.loads(json.dumps(yaml.safe_load((ROOT / "CITATION.cff").read_text()), default=str))
    jsonschema.validate(cff, schema)              # raises with the offending key
    broken = dict(cff, authors=[{"nickname": 1}])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)       # and it can fail


def test_readme_shows_the_commands():
    text = (ROOT / "README.md").read_text()
    for needed in ("make book", "make test", "make lab", "CITATION.cff"):
        assert needed in text, f"README.md does not mention {needed!r}"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_mathjax_is_vendored_where_the_config_points():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = cfg["sphinx"]["config"]
    static = [ROOT / p for p in sphinx["html_static_path"]]
    js = [p / sphinx["mathjax_path"] for p in static]
    assert any(p.exists() for p in js), f"MathJax not found at {js}"
    fonts = list((static[0] / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) > 10, "MathJax's CHTML fonts are not vendored"
    assert (static[0] / "mathjax" / "input" / "tex" / "extensions" / "boldsymbol.js").exists()


CHAPTERS_WITH_CODE = [p for p in NOTEBOOKS if re.search(r"from rlnotes|import rlnotes", p.read_text())
                      and p.stem not in ("benchmarks", "citing", "where_next")]


@pytest.mark.parametrize("nb", CHAPTERS_WITH_CODE, ids=lambda p: p.name)
def test_chapter_links_forward_to_the_api_entries_it_uses(nb):
    import nbformat

    from tests.chapter_api import HEAD, api_cell, used

    book = nbformat.read(nb, as_version=4)
    last = book.cells[-1]
    expected = api_cell(used(book))
    assert last.cell_type == "markdown" and last.source == expected, (
        f"{nb.name}: its last cell should be the current '{HEAD}' list; regenerate it with "
        f"`.venv/bin/python -m tests.chapter_api {nb.relative_to(ROOT)}`")
