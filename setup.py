"""Build step of the rlnotes package: carry the book's data inside the wheel.

Everything else about the package is declared in pyproject.toml. The chapters that show results
rather than compute them read files committed at the root of the repository (the benchmark
results in ``benchmarks/``, the citation metadata in ``CITATION.cff``); the repository keeps the
only copy of each, where the writers put them (``python -m rlnotes bench --out benchmarks``) and
where GitHub looks for ``CITATION.cff``. A wheel built from the repository (``pip install .``)
copies them into ``rlnotes/_data/``, so a chapter run outside a checkout finds them through the
installed package (``rlnotes.data.data_path``). An editable install copies nothing: the package
is imported from the checkout, and ``data_path`` reads the repository's files directly.
MANIFEST.in puts the same files into the source distribution, so a wheel built from it carries
them too.
"""
import glob
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

#: the book's data, as glob patterns relative to the repository root (MANIFEST.in lists the same)
BOOK_DATA = ["CITATION.cff", "benchmarks/*.json", "benchmarks/unseen-seeds/*/*.csv", "benchmarks/sensitivity/*.json",
             "benchmarks/tuning/*.jsonl", "benchmarks/tuning/*.json"]


class build_py_with_book_data(build_py):
    """build_py, then copy BOOK_DATA into the built package as ``rlnotes/_data/<same path>``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):        # imported from the checkout: nothing to copy
            return
        here = os.path.dirname(os.path.abspath(__file__))
        target = os.path.join(self.build_lib, "rlnotes", "_data")
        shutil.rmtree(target, ignore_errors=True)         # no stale file from an earlier build
        for pattern in BOOK_DATA:
            found = sorted(glob.glob(os.path.join(here, pattern)))
            if not found:
                raise FileNotFoundError(f"the book's data {pattern!r} is missing from {here}: build the "
                                        "package from a complete checkout or source distribution")
            for path in found:
                dest = os.path.join(target, os.path.relpath(path, here))
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(path, dest)


setup(cmdclass={"build_py": build_py_with_book_data})
