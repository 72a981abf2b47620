"""Recording a chapter's claims over seeds and checking them against its asserts: the command
line shared by the standalone claims scripts of this folder (policies, score_function,
variance_reduction, importance_sampling; the other chapters use run.py).

Each script defines CHAPTER, OUT, VARIANT_VARS, EXPERIMENTS (name -> measure(seed) -> dict),
GROUPS (name -> rows -> groups of seeds the chapter pools), DERIVED (statistic -> row -> value)
and CLAIMS (one entry per assert of the chapter), and ends with
``sys.exit(recording.main(sys.modules[__name__]))``.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import time

OPS = {"<": lambda v, t: v < t, "<=": lambda v, t: v <= t, ">": lambda v, t: v > t,
       ">=": lambda v, t: v >= t, "==": lambda v, t: v == t}


def seed_list(text):
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    return seeds


def variant_name(spec):
    set_vars = {v: os.environ[v] for v in spec.VARIANT_VARS if v in os.environ}
    if not set_vars:
        return "base"
    if set_vars == {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "RLNOTES_TORCH_THREADS": "2"}:
        return "combined"
    return ",".join(f"{k}={v}" for k, v in sorted(set_vars.items()))


def summarize(spec, data):
    """Check every recorded value of every claim against the chapter's assert: data["claims"]."""
    data["claims"], failed = {}, []
    for name, claim in spec.CLAIMS.items():
        claim = {key.rstrip("_"): value for key, value in claim.items()}      # assert_ -> assert
        recorded = data.get("measured", {}).get(claim["experiment"], {})
        values = []
        for variant, entry in recorded.items():
            items = entry.get("groups", []) if claim.get("over") else entry["rows"]
            for item in items:
                stat = claim["statistic"]
                value = spec.DERIVED[stat](item) if stat in spec.DERIVED else item[stat]
                values.append(value)
        if not values:
            continue
        holds = all(OPS[claim["op"]](v, claim["threshold"]) for v in values)
        numeric = [float(v) for v in values]
        data["claims"][name] = {**claim, "variants": sorted(recorded), "n": len(values),
                                "min": min(numeric), "max": max(numeric), "holds": holds}
        if not holds:
            failed.append(name)
        what = f"groups of {claim['over']} seeds" if claim.get("over") else "seeds"
        print(f"{'ok  ' if holds else 'FAIL'} {name}: {claim['assert']} ({claim['cell']}) — "
              f"{len(values)} {what} in {', '.join(sorted(recorded))}: min {min(numeric):.4g}, "
              f"max {max(numeric):.4g}")
    return failed


def _short(obj):
    """Floats to 6 significant digits, recursively."""
    if isinstance(obj, float):
        return float(f"{obj:.6g}")
    if isinstance(obj, dict):
        return {k: _short(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_short(v) for v in obj]
    return obj


def dumps(data):
    """JSON, indented, with one line per recorded row or group (readable, and a small diff)."""
    rows = []

    def mark(obj, key=None):
        if isinstance(obj, dict):
            return {k: mark(v, k) for k, v in obj.items()}
        if key in ("rows", "groups") and isinstance(obj, list):
            rows.extend(json.dumps(_short(r), ensure_ascii=False) for r in obj)
            return [f"@@row{i}@@" for i in range(len(rows) - len(obj), len(rows))]
        return obj

    first = ("chapter", "script", "claims")                      # the table of asserts before the data
    data = {**{k: data[k] for k in first if k in data}, **{k: v for k, v in data.items() if k not in first}}
    text = json.dumps(mark(data), indent=1, ensure_ascii=False)
    return re.sub(r'"@@row(\d+)@@"', lambda m: rows[int(m.group(1))], text)


def main(spec, argv=None):
    """The command line of a chapter's script ``spec`` (a module with CHAPTER, OUT, VARIANT_VARS,
    EXPERIMENTS, GROUPS, DERIVED and CLAIMS)."""
    parser = argparse.ArgumentParser(description=spec.__doc__.split("\n")[0])
    parser.add_argument("--experiments", default=",".join(spec.EXPERIMENTS),
                        help="comma-separated, from: " + ", ".join(spec.EXPERIMENTS))
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5-7")
    parser.add_argument("--out", default=str(spec.OUT), help="JSON file to update ('-': print only)")
    parser.add_argument("--summary-only", action="store_true",
                        help="measure nothing: check the recorded values against the asserts again")
    args = parser.parse_args(argv)
    from rlnotes.bench import machine_info

    variant, seeds = variant_name(spec), seed_list(args.seeds)
    path = None if args.out == "-" else pathlib.Path(args.out)
    data = json.loads(path.read_text()) if path is not None and path.exists() else {}
    data.setdefault("chapter", spec.CHAPTER)
    data.setdefault("script", f"benchmarks/claims/{pathlib.Path(spec.__file__).name}")
    for name in [] if args.summary_only else args.experiments.split(","):
        rows = []
        for seed in seeds:
            t0 = time.perf_counter()
            row = {"seed": seed, **spec.EXPERIMENTS[name](seed)}
            rows.append(row)
            print(json.dumps({"experiment": name, "variant": variant,
                              **{k: v for k, v in row.items() if not isinstance(v, list)},
                              "seconds": round(time.perf_counter() - t0, 1)}), flush=True)
        summary = {}
        for key in rows[0]:
            values = [r[key] for r in rows]
            if key == "seed" or isinstance(values[0], list):
                continue
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                summary[key] = {"min": min(values), "max": max(values)}
            else:
                summary[key] = {"true": sum(bool(v) for v in values), "of": len(values)}
        entry = {"env": {v: os.environ.get(v) for v in spec.VARIANT_VARS}, "seeds": seeds,
                 "summary": summary, "machine": machine_info(), "rows": rows}
        if name in spec.GROUPS:
            entry["groups"] = spec.GROUPS[name](rows)
        data.setdefault("measured", {}).setdefault(name, {})[variant] = entry
    failed = summarize(spec, data)
    if path is not None:
        path.write_text(dumps(data) + "\n")
    return 1 if failed else 0

