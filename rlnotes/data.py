r"""Where the book's data is: the committed benchmark results and the citation metadata.

The chapters that show results rather than compute them (the benchmarks appendix, the closing
chapter, the page on citing) read files committed at the root of the repository:
``benchmarks/<algo>.json`` (written by ``python -m rlnotes bench --out benchmarks``),
``benchmarks/unseen-seeds/<variant>/<algo>.csv``, ``benchmarks/tuning/dqn_sweep.jsonl`` and
``CITATION.cff``. The repository holds
the only copy of each. :func:`data_path` finds them in either of the two ways the package can
be installed:

* **from a wheel** (``pip install .``): the build copies the files into the package, as
  ``rlnotes/_data/<path in the repository>``, and they are found through the installed
  package (``importlib.resources``), wherever a chapter is run from;
* **from a checkout** (the editable install of ``make book``): the files are read where they
  are committed, one folder above the package, so a fresh benchmark run shows up at once.
"""
from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["data_path"]


def data_path(*parts):
    """The path of a file or folder of the book's data, given as its path in the repository.

    ``data_path("benchmarks")`` is the folder of committed benchmark results,
    ``data_path("CITATION.cff")`` the citation metadata. Looks in the copy a wheel installs
    inside the package first, then in the checkout the package is imported from.
    parts: path components relative to the repository root, e.g. ``("benchmarks", "ppo.json")``.
    Returns a ``pathlib.Path`` that exists; raises FileNotFoundError naming where it looked and
    how to get the data if neither place has it.
    """
    packaged = Path(importlib.resources.files(__package__) / "_data")   # a wheel's copy
    checkout = Path(__file__).resolve().parents[1]                       # the repository root
    if packaged.is_dir():
        root = packaged
    elif (checkout / "CITATION.cff").is_file():
        root = checkout
    else:
        raise FileNotFoundError(
            f"the book's data (benchmarks/, CITATION.cff) is neither packaged with rlnotes ({packaged}) "
            f"nor in a checkout around it ({checkout}); install rlnotes from the repository with "
            "`pip install .` (or a wheel built from it), or `pip install -e .` in a checkout")
    path = root.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"{'/'.join(parts)} is not part of the book's data in {root}; its files are the ones committed "
            "in the repository's benchmarks/ folder and CITATION.cff")
    return path
