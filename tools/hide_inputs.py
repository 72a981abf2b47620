"""Collapse the code of cells that only set up a chapter or only draw a figure.

The code on a page should be the code the lesson is about. Cells that import, or that only
draw a diagram or a learning curve, keep running and keep their output, but their input is
collapsed behind a "Show code cell source" toggle: myst-nb's ``hide-input`` cell tag. The same
cells are folded in JupyterLab and Notebook 7 (cell metadata ``"jupyter": {"source_hidden": true}``),
so a reader running the chapter sees the same code as a reader of the page; every cell tagged
``hide-input``, listed here or tagged by hand, gets it.

``HIDE`` below is the list, by notebook and cell id (cell ids are stable; they survive edits of
the cell's text). Not listed, on purpose: the code a chapter explains, exercise stubs and their
checkers, and cells whose asserts are the claim the text makes (a cell that checks a claim and
also draws it stays visible).

    python tools/hide_inputs.py           # add the tag where it is missing (idempotent)
    python tools/hide_inputs.py --check   # exit 1 if a listed cell lacks the tag or is gone

The tool only adds the tag; it never removes a ``hide-input`` that a chapter's author set by
hand. Notebooks are rewritten only when something changes, in the repository's format
(``json.dumps(nb, indent=1, ensure_ascii=False)`` and a final newline), outputs untouched.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TAG = "hide-input"

#: notebook (relative to the repository root) -> ids of the cells whose input is collapsed
HIDE = {
    "book/mdps.ipynb": [
        "fe00f74f",         # imports
        "b2d99bf9",         # diagram: the agent-environment loop
        "a8ae2f4a",         # figure: V^pi and V* of the grid world (the tables are checked above it)
    ],
    "book/policies.ipynb": [
        "c3c05126",         # imports
    ],
    "book/score_function.ipynb": [
        "sf-001",           # imports and two small helpers (mean and s.e., the normal density)
        "sf-015f",          # diagram: the factors of a trajectory's probability (fig-trajectory-factorisation)
        "sf-038",           # animation of the trained agent
    ],
    "book/variance_reduction.ipynb": [
        "vr-001",           # imports
        "vr-011f",          # diagram: the causality grid (fig-causality-grid)
        "vr-035",           # figure: the variance of each estimator (computed and checked above it)
    ],
    "book/importance_sampling.ipynb": [
        "is-002",           # imports and the normal density helpers
        "is-004b",          # figure: p, q, f and the weights (fig-importance-sampling)
    ],
    "book/ppo.ipynb": [
        "ppo-001",          # imports
        "ppo-007",          # figure: the clipped objective against the ratio
    ],
    "book/actor_critic.ipynb": [
        "95841a7b",         # imports
    ],
    "book/dqn.ipynb": [
        "dqn-01",           # imports
        "dqn-11",           # figure: online returns and greedy paths of Q-learning and SARSA
        "dqn-34",           # figure: DQN's learning curves
        "dqn-38",           # animation of the trained agent
    ],
    "book/ddpg.ipynb": [
        "ddpg-1",           # imports
        "ddpg-23",          # figure: DDPG's learning curves
        "ddpg-28",          # figure: critic and actor over the state space
        "ddpg-31",          # figure: DDPG and TD3 side by side
    ],
    "book/where_next.ipynb": [
        "b5764d90",         # figure: the algorithms on two axes
        "56273148",         # figure: the learning curves of the benchmarks
        "7c2d4e91",         # figure: steps and seconds to the threshold
    ],
    "book/comparing.ipynb": [],    # its figure cells are tagged by hand; listed so they are folded in Jupyter
    "book/benchmarks.ipynb": [
        "1bd697a5",         # imports and loading the committed results
        "62459f7f",         # figure: learning curves, ours and the peer's
    ],
}


def dumps(nb):
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def apply(root=ROOT, hide=HIDE, check=False):
    """Tag the listed cells (or, with ``check``, only report). Returns a list of problems:
    cells that are missing, or (with ``check``) listed cells without the tag."""
    problems = []
    for rel, ids in hide.items():
        path = pathlib.Path(root) / rel
        if not path.exists():
            problems.append(f"{rel}: no such notebook (remove it from HIDE in {pathlib.Path(__file__).name})")
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = {c.get("id"): c for c in nb["cells"]}
        changed = []
        for cell_id in ids:
            cell = cells.get(cell_id)
            if cell is None:
                problems.append(f"{rel}: no cell with id {cell_id!r} (update HIDE in "
                                f"{pathlib.Path(__file__).name})")
                continue
            if cell["cell_type"] != "code":
                problems.append(f"{rel}: cell {cell_id!r} is a {cell['cell_type']} cell, not code")
                continue
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if TAG in tags:
                continue
            if "remove-input" in tags:
                problems.append(f"{rel}: cell {cell_id!r} is tagged remove-input already; drop it from HIDE")
                continue
            if check:
                problems.append(f"{rel}: cell {cell_id!r} should be tagged {TAG} "
                                f"(run: python tools/hide_inputs.py)")
                continue
            tags.append(TAG)
            changed.append(cell_id)
        for cell in nb["cells"]:                      # the page's hidden code is folded in Jupyter too
            if TAG in cell.get("metadata", {}).get("tags", []) and \
                    not cell["metadata"].get("jupyter", {}).get("source_hidden"):
                if check:
                    problems.append(f"{rel}: cell {cell.get('id')!r} is tagged {TAG} but not folded in "
                                    f"Jupyter (run: python tools/hide_inputs.py)")
                    continue
                cell["metadata"].setdefault("jupyter", {})["source_hidden"] = True
                changed.append(f"{cell.get('id')} (folded in Jupyter)")
        if changed:
            path.write_text(dumps(nb), encoding="utf-8")
            print(f"{rel}: tagged {TAG}: {', '.join(changed)}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a listed cell lacks the tag or does not exist")
    parser.add_argument("--root", default=str(ROOT), help="repository root (default: this checkout)")
    args = parser.parse_args(argv)
    problems = apply(args.root, check=args.check)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        n = sum(len(ids) for ids in HIDE.values())
        print(f"{n} cells in {len(HIDE)} notebooks carry the {TAG} tag")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
