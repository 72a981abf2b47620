"""Execute each chapter once: hand nbval's executed notebooks to the book build.

Used by ``make test`` in two ways:

* as a pytest plugin (``-p tests.nbcache``): while ``pytest --nbval-lax`` executes a chapter,
  this plugin collects every cell's outputs; when all cells of a notebook passed, it stores the
  executed notebook in the book's jupyter-cache (``_build/.jupyter_cache``, see _config.yml).
  The Jupyter Book build that follows (``execute_notebooks: cache``) then finds each chapter in
  the cache and renders its outputs instead of running it again.
* as a script (``python -m tests.nbcache --check-build _build/html``): after the build, fail if
  the build had to execute any notebook itself (a cache miss), so "executed once" stays true,
  and fail if a chapter took longer than the budget of 3 minutes (``BUDGET_SECONDS``).

It also times each notebook (the sum of its cells' execution times under nbval), prints the
table at the end of the pytest run and keeps it in ``_build/notebook-times.json``.
"""
from __future__ import annotations

import copy
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"
TIMES = ROOT / "_build" / "notebook-times.json"
BUDGET_SECONDS = 180.0          # each chapter must execute in at most 3 minutes

_outputs: dict = {}  # notebook path -> {cell index: outputs}
_failed: set = set()
_files: dict = {}  # notebook path -> nbval's IPyNbFile
_seconds: dict = {}  # notebook path -> seconds spent executing its cells


def pytest_runtest_makereport(item, call):
    parent = getattr(item, "parent", None)
    if call.when != "call" or not hasattr(item, "test_outputs") or not hasattr(parent, "nb"):
        return
    path = str(item.fspath)
    _files[path] = parent
    _seconds[path] = _seconds.get(path, 0.0) + (call.stop - call.start)
    if call.excinfo is not None:
        _failed.add(path)
    _outputs.setdefault(path, {})[item.cell_num] = list(item.test_outputs or [])


def _quiet(source: str) -> bool:
    """True if a cell ends with ';' (IPython's rule for not displaying the last value)."""
    from IPython.core.displayhook import DisplayHook

    try:
        return DisplayHook.semicolon_at_end_of_expression(source)
    except Exception:  # noqa: BLE001 - a cell that does not tokenize: keep its outputs
        return False


def _report_times(session):
    import json

    times = {pathlib.Path(p).relative_to(ROOT).as_posix(): round(t, 1) for p, t in _seconds.items()}
    TIMES.parent.mkdir(parents=True, exist_ok=True)
    TIMES.write_text(json.dumps(times, indent=1))
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.ensure_newline()
        tr.write_line(f"nbcache: execution time per notebook (budget {BUDGET_SECONDS:.0f} s each):")
        for name, t in sorted(times.items(), key=lambda kv: -kv[1]):
            tr.write_line(f"  {t:7.1f} s  {name}" + ("   OVER BUDGET" if t > BUDGET_SECONDS else ""))
        tr.write_line(f"  {sum(times.values()):7.1f} s  in total")


def pytest_sessionfinish(session, exitstatus):
    if not _outputs:
        return
    _report_times(session)
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(CACHE))
    stored = []
    for path, outputs in _outputs.items():
        if path in _failed:
            continue
        nb = copy.deepcopy(_files[path].nb)
        count = 0
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        if len(outputs) != len(code_cells):  # a cell was skipped or not run: do not cache
            continue
        for index, cell in enumerate(code_cells):
            count += 1
            cell.outputs = outputs.get(index, [])
            if _quiet(cell.source):  # nbval runs cells with store_history=False, so IPython
                # cannot see a trailing ';' and echoes the value; drop it as Jupyter would
                cell.outputs = [o for o in cell.outputs if o.get("output_type") != "execute_result"]
            cell.execution_count = count
            for out in cell.outputs:
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = count
        cache.cache_notebook_bundle(CacheBundleIn(nb, path, data={"executed_by": "nbval"}),
                                    check_validity=False, overwrite=True)
        stored.append(pathlib.Path(path).relative_to(ROOT).as_posix())
    if stored:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            tr.ensure_newline()
            tr.write_line(f"nbcache: stored {len(stored)} executed notebook(s) for the book build: "
                          + ", ".join(sorted(stored)))


def check_build() -> int:
    """Exit status 1 if the book build executed a notebook instead of using nbval's outputs."""
    from jupyter_cache import get_cache

    if not CACHE.exists():
        print("nbcache: no jupyter-cache found; run the nbval step first", file=sys.stderr)
        return 1
    cache = get_cache(str(CACHE))
    executed = [r.uri for r in cache.list_project_records()]
    if executed:
        print("nbcache: the book build executed these notebooks again (their nbval run was not "
              "cached - did a cell change between the two steps?):\n  " + "\n  ".join(executed),
              file=sys.stderr)
        return 1
    n = len(cache.list_cache_records())
    print(f"nbcache: the build rendered {n} notebook(s) from nbval's execution, none executed twice")
    if TIMES.exists():
        import json

        slow = {k: v for k, v in json.loads(TIMES.read_text()).items() if v > BUDGET_SECONDS}
        if slow:
            print(f"nbcache: notebooks over the budget of {BUDGET_SECONDS:.0f} s: {slow}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(check_build() if "--check-build" in sys.argv else 2)
