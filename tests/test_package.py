"""rlnotes as a reader installs it: ``pip install .``, then a chapter downloaded on its own.

The wheel is built the way a release is (a source distribution from a copy of the repository,
then a wheel from the source distribution, offline). Its metadata must declare every package
that rlnotes imports, and the chapters' imports must be covered by the ``book`` extra; it must
carry the book's data. Then it is installed into a fresh virtual environment that sees the book
environment's packages (torch and the rest, so nothing is downloaded) but not its editable
rlnotes, and the chapters that read data files are executed there from a folder with no
checkout around them, on a kernel running the new environment's python.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent

#: the chapters that read the book's data rather than compute it
DATA_CHAPTERS = ["citing.ipynb", "benchmarks.ipynb", "where_next.ipynb", "comparing.ipynb"]
#: the files they read, in the repository (the wheel must carry each, unchanged)
BOOK_DATA = ["CITATION.cff", "benchmarks/*.json", "benchmarks/unseen-seeds/*/*.csv", "benchmarks/sensitivity/*.json",
             "benchmarks/tuning/*.jsonl", "benchmarks/tuning/*.json"]
#: what rlnotes may import without declaring it: only inside a function, and named by an extra
OPTIONAL = {"stable_baselines3": "peers", "IPython": "book", "ipywidgets": "book", "rliable": "stats", "scipy": "stats",
            "ray": "scale"}
#: not part of a fresh clone: the environment, builds, caches
NOT_IN_A_CLONE = shutil.ignore_patterns(".git", ".venv", "_build", "build", "dist", "*.egg-info", "__pycache__",
                                        ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "bench-results")


def _run(cmd, **kwargs):
    out = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Path of the wheel built (offline) from a source distribution of a copy of the repository."""
    tmp = tmp_path_factory.mktemp("build")
    clone = tmp / "clone"
    shutil.copytree(ROOT, clone, ignore=NOT_IN_A_CLONE)
    (tmp / "sdist").mkdir()
    _run([sys.executable, "-c", f"import setuptools.build_meta as b; b.build_sdist({str(tmp / 'sdist')!r})"],
         cwd=clone)
    (sdist,) = (tmp / "sdist").glob("rlnotes-*.tar.gz")
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "unpacked", filter="data")
    (source,) = (tmp / "unpacked").iterdir()
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--disable-pip-version-check", "-q", "-w", str(tmp / "dist"), str(source)])
    (built,) = (tmp / "dist").glob("rlnotes-*.whl")
    return built


def _requirements(whl):
    """{extra or "": {canonical name of each distribution it requires}} from the wheel's METADATA."""
    with zipfile.ZipFile(whl) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        lines = z.read(name).decode().splitlines()
    extras = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Provides-Extra:")]
    requires = [Requirement(line.split(":", 1)[1]) for line in lines if line.startswith("Requires-Dist:")]

    def wanted(r, extra):                   # no marker, or one that holds with this extra
        return r.marker is None or r.marker.evaluate({"extra": extra})

    return {extra: {canonicalize_name(r.name) for r in requires if wanted(r, extra) and (extra == "" or not wanted(r, ""))}
            for extra in ["", *extras]}


def _imports(tree):
    """[(top-level module name, imported inside a function?)] of an ast, absolute imports only."""
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((a.name.split(".")[0], in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0:
                found.append((child.module.split(".")[0], in_function))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return found


@cache
def _providers():
    return packages_distributions()           # {importable name: [distributions]}, slow to compute


@cache
def _distribution(module):
    """Canonical name of the installed distribution that provides the importable ``module``; for
    an optional one that is not installed here (e.g. stable_baselines3 outside the peers extra),
    the module's own name, canonicalised (stable_baselines3 -> stable-baselines3)."""
    dists = _providers().get(module)
    return canonicalize_name(dists[0] if dists else module)


@pytest.mark.slow
def test_wheel_declares_every_package_rlnotes_imports(wheel):
    required = _requirements(wheel)
    for core in ("torch", "gymnasium", "numpy", "matplotlib"):
        assert core in required[""], f"the wheel does not declare {core}: add it to pyproject's dependencies"
    with zipfile.ZipFile(wheel) as z:
        sources = {n: z.read(n).decode() for n in z.namelist() if n.startswith("rlnotes/") and n.endswith(".py")}
    assert "rlnotes/__init__.py" in sources and "rlnotes/algos/ppo.py" in sources
    for name, source in sources.items():
        for module, in_function in _imports(ast.parse(source)):
            if module in sys.stdlib_module_names or module == "rlnotes":
                continue
            if module in OPTIONAL:
                assert in_function, f"{name} imports the optional {module} at module level: import it where it is used"
                assert _distribution(module) in required[OPTIONAL[module]], (
                    f"{module} (imported by {name}) is not in the wheel's [{OPTIONAL[module]}] extra")
            else:
                assert _distribution(module) in required[""], (
                    f"{name} imports {module}, which the wheel does not declare: add it to pyproject's dependencies")


@pytest.mark.slow
def test_book_extra_covers_what_the_chapters_import(wheel):
    required = _requirements(wheel)
    declared = required[""] | required.get("book", set())
    for chapter in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(chapter.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
        for module, _ in _imports(ast.parse(code)):
            if module not in sys.stdlib_module_names and module != "rlnotes":
                assert _distribution(module) in declared, (
                    f"{chapter.name} imports {module}: add its distribution to the book extra in pyproject.toml")


@pytest.mark.slow
def test_wheel_carries_the_books_data(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for pattern in BOOK_DATA:
            files = sorted(ROOT.glob(pattern))
            assert files, f"no {pattern} in the repository"
            for path in files:
                inside = f"rlnotes/_data/{path.relative_to(ROOT).as_posix()}"
                assert inside in names, f"the wheel does not carry {path.relative_to(ROOT)} (as {inside})"
                assert z.read(inside) == path.read_bytes(), f"{inside} differs from the repository's file"


EXECUTE = textwrap.dedent("""
    import sys
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    for path in map(Path, sys.argv[1:]):
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(
            "import sys, rlnotes.data; print(sys.executable); print(rlnotes.__file__); "
            "print(rlnotes.data.data_path('benchmarks'))"))
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        print(path.name, *nb.cells[-1].outputs[0]["text"].split(), sep="\\n")
""")


@pytest.mark.slow
def test_downloaded_chapters_run_against_the_wheel(wheel, tmp_path):
    venv, chapters = tmp_path / "venv", tmp_path / "chapters"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    chapters.mkdir()

    # The book environment's packages (torch, gymnasium, jupyter, ...) without downloading them: a path
    # file names its site-packages. Path files there are not run, so its editable rlnotes stays out.
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env=env).strip())
    book_env = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    pth = site / "zz_book_env.pth"
    pth.write_text("".join(f"{p}\n" for p in book_env))
    out = subprocess.run([python, "-c", "import torch, nbclient; import rlnotes"], cwd=chapters, env=env,
                         capture_output=True, text=True)
    assert "No module named 'rlnotes'" in out.stderr, (
        f"the venv should see the book env's torch and nbclient, but not its rlnotes:\n{out.stderr[-2000:]}")
    pth.unlink()                                 # pip in the venv must not see the book env's rlnotes at all
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check", "-q", str(wheel)],
         cwd=chapters, env=env)
    pth.write_text("".join(f"{p}\n" for p in book_env))

    where = _run([python, "-c", "import rlnotes, torch; print(rlnotes.__file__)"], cwd=chapters, env=env).strip()
    assert Path(where).is_relative_to(venv), f"rlnotes was imported from {where}, not from the wheel in {venv}"
    for name in DATA_CHAPTERS:
        shutil.copy(ROOT / "book" / name, chapters / name)
    assert not any((p / "CITATION.cff").exists() for p in chapters.parents), "the chapters' folder is in a checkout"

    (tmp_path / "execute.py").write_text(EXECUTE)
    lines = _run([python, tmp_path / "execute.py", *[chapters / n for n in DATA_CHAPTERS]],
                 cwd=chapters, env=env).split()
    for name in DATA_CHAPTERS:                   # the kernel ran the venv's python and read the wheel's data
        executable, module, data = lines[lines.index(name) + 1: lines.index(name) + 4]
        assert Path(executable).parent == python.parent, f"{name} ran on {executable}, not the venv's {python}"
        assert Path(module).is_relative_to(venv) and Path(data).is_relative_to(venv), (name, module, data)


def test_data_path_in_the_checkout_reads_the_repository():
    from rlnotes.data import data_path

    assert data_path("benchmarks") == ROOT / "benchmarks"
    assert data_path("CITATION.cff") == ROOT / "CITATION.cff"
    with pytest.raises(FileNotFoundError, match="nosuch.json is not part of the book's data"):
        data_path("benchmarks", "nosuch.json")


def test_data_path_without_data_names_the_fix(tmp_path):
    """rlnotes/data.py alone, neither in a wheel nor in a checkout: the error says how to install."""
    package = tmp_path / "rlnotes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(ROOT / "rlnotes" / "data.py", package / "data.py")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONNOUSERSITE": "1"}
    out = subprocess.run([sys.executable, "-c", "from rlnotes.data import data_path; data_path('benchmarks')"],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "FileNotFoundError" in out.stderr, out.stderr[-2000:]
    assert "pip install ." in out.stderr and str(package) in out.stderr, out.stderr[-2000:]
