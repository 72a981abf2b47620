r"""Merge the output folders of several ``python -m rlnotes bench`` runs into one file per run name.

A benchmark with many seeds is run in parts: seeds 0-4 and 5-9 in two processes side by side,
seeds 10-19 on Ray, each part writing its own folder (``--out DIR``). This script joins the
parts into the committed files, one ``<name>.json`` per algorithm (``ppo.json``) and per peer
(``ppo-sb3.json``), in the schema ``bench`` writes: every seed row of every part in one
``"seeds"`` list, sorted by seed, with the summary numbers (``n_seeds``, ``n_solved``, the
medians) recomputed from all the rows. The top-level ``"machine"`` is the first part's; each
part's own machine description and seeds are kept under ``"parts"``, and the commands that
produced the parts (given with ``--command``) under ``"commands"``.

Rows are only merged when they answer the same question: the same algorithm, environment,
threshold, evaluation protocol, budget override and ``--set`` overrides, and for every seed row
the same ``config`` (our ``Config`` as a dict, or the peer's SB3 settings). A seed that appears
in two parts is refused too. Either refusal names the files and the difference, and nothing is
written.

Usage (from the repository root)::

    python benchmarks/merge.py --out benchmarks RUN_DIR [RUN_DIR ...] \
        --command "python -m rlnotes bench --all --peers --seeds 0 1 2 3 4 --out RUN_DIR" ...

``--only NAME`` (repeatable) merges only those run names (file stems, e.g. ``ppo``, ``ppo-sb3``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

#: summary fields recomputed from the merged rows (the others must agree between parts)
DERIVED = ("n_seeds", "n_solved", "median_wall_seconds", "median_steps_per_second", "machine", "seeds",
           "parts", "commands")


class MergeRefused(ValueError):
    """Two parts cannot be merged: a different setting, or the same seed twice."""


def read_parts(run_dirs, name):
    """The ``<name>.json`` of each folder that has one, as ``[(path, data), ...]`` in the given order."""
    parts = []
    for d in map(Path, run_dirs):
        path = d / f"{name}.json"
        if path.exists():
            parts.append((path, json.loads(path.read_text())))
    return parts


def _first_difference(a, b):
    """The first key whose values differ between dicts ``a`` and ``b`` (with both values), or None."""
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            return key, a.get(key, "<missing>"), b.get(key, "<missing>")
    return None


def merge(parts, commands=()):
    """One summary from the parts ``[(path, data), ...]`` of the same run name.

    Raises :class:`MergeRefused` when the parts' settings (anything but :data:`DERIVED`) or any
    row's ``config`` differ from the first part's, or when a seed appears twice.
    Returns the merged dict, in the schema of the parts.
    """
    if not parts:
        raise MergeRefused("nothing to merge: no part has this file")
    first_path, first = parts[0]
    settings = {k: v for k, v in first.items() if k not in DERIVED}
    config = first["seeds"][0]["config"] if first["seeds"] else None
    rows, seen = [], {}
    for path, data in parts:
        diff = _first_difference(settings, {k: v for k, v in data.items() if k not in DERIVED})
        if diff:
            raise MergeRefused(f"{path} was run with {diff[0]}={diff[2]!r}, {first_path} with {diff[1]!r}; "
                               "merge only runs of the same setting (or merge them into different folders)")
        for row in data["seeds"]:
            diff = _first_difference(config, row["config"])
            if diff:
                raise MergeRefused(f"{path} seed {row['seed']} has Config {diff[0]}={diff[2]!r}, but "
                                   f"{first_path} has {diff[1]!r}: the parts trained different Configs "
                                   "(another code version or --set); rerun that part with the same code")
            if row["seed"] in seen:
                raise MergeRefused(f"seed {row['seed']} is in both {seen[row['seed']]} and {path}; "
                                   "remove it from one part (each seed must be counted once)")
            seen[row["seed"]] = path
            rows.append(row)
    rows.sort(key=lambda r: r["seed"])

    merged = {}
    for key, value in first.items():                      # keep the parts' key order
        merged[key] = value
    if "n_seeds" in first:                                 # ours (a peer's summary has no n_seeds)
        merged["n_seeds"] = len(rows)
    merged["n_solved"] = sum(bool(r["solved"]) for r in rows)
    merged["median_wall_seconds"] = statistics.median(r["wall_seconds"] for r in rows)
    if "median_steps_per_second" in first:
        merged["median_steps_per_second"] = statistics.median(r["steps_per_second"] for r in rows)
    merged["machine"] = first["machine"]
    merged["parts"] = [{"file": str(path), "seeds": [r["seed"] for r in data["seeds"]], "machine": data["machine"]}
                       for path, data in parts]
    merged["commands"] = list(commands)
    merged.pop("seeds", None)
    merged["seeds"] = rows                                 # last, as bench writes it
    return merged


def run_names(run_dirs):
    """Every file stem ``<name>`` with a ``<name>.json`` in any of the folders, sorted."""
    return sorted({p.stem for d in map(Path, run_dirs) for p in Path(d).glob("*.json")})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dirs", nargs="+", help="output folders of bench runs (--out DIR)")
    parser.add_argument("--out", required=True, help="folder for the merged files (e.g. benchmarks)")
    parser.add_argument("--command", action="append", default=[],
                        help="a command that produced a part, recorded in the merged files (repeatable)")
    parser.add_argument("--only", action="append", default=None, help="merge only this run name (repeatable)")
    args = parser.parse_args(argv)
    for d in args.run_dirs:
        if not Path(d).is_dir():
            parser.error(f"{d} is not a folder of bench results (the --out of a bench run)")
    names = args.only or run_names(args.run_dirs)
    merged = {}
    try:                                                   # check everything before writing anything
        for name in names:
            parts = read_parts(args.run_dirs, name)
            if not parts:
                raise MergeRefused(f"no folder has {name}.json (--only {name})")
            merged[name] = merge(parts, args.command)
    except MergeRefused as err:
        print(f"merge refused, nothing written: {err}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in merged.items():
        tmp = out / f"{name}.json.tmp"
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, out / f"{name}.json")             # whole or not at all
        print(f"{out / f'{name}.json'}: {len(data['seeds'])} seeds "
              f"({', '.join(str(len(p['seeds'])) for p in data['parts'])} from {len(data['parts'])} part(s)), "
              f"{data['n_solved']} solved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
