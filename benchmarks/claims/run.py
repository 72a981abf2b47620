"""Measure a chapter's training claims over many seeds and numerical variants.

The chapters assert claims about training runs with a margin (see the README, "Numerical
variants"). The margin comes from the distribution this script records: for each seed it runs
``measure(seed)`` of ``benchmarks/claims/<chapter>.py`` (the chapter's statistic for one
seed) in a fresh process under each numerical variant, and writes every value to
``benchmarks/claims/<chapter>.json``, with the smallest and largest over seeds and variants
beside the chapter's threshold.

    python benchmarks/claims/run.py ppo --seeds 0-19 --variants base combined --jobs 2
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime
import importlib.util
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the same variants as `make test-variants` (Makefile); "base" is the book's own setting
VARIANTS = {
    "base": {},
    "cpu": {"ATEN_CPU_CAPABILITY": "default"},
    "mkl": {"MKL_CBWR": "COMPATIBLE"},
    "threads": {"RLNOTES_TORCH_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"},
    "combined": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "RLNOTES_TORCH_THREADS": "2",
                 "OMP_WAIT_POLICY": "PASSIVE"},
}


def load(chapter):
    spec = importlib.util.spec_from_file_location(f"claims_{chapter}", HERE / f"{chapter}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def one(chapter, seed, variant):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "RLNOTES_PROGRESS": "off", **VARIANTS[variant]}
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import run; "
            f"print(json.dumps(run.load({chapter!r}).measure({seed})))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if p.returncode:
        raise RuntimeError(f"{chapter} seed {seed} ({variant}) failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def statistic_values(module, name, claim, values):
    """Every recorded value of a claim's statistic: one per run, or, for a claim about the
    mean over ``over`` seeds (``"over"`` in the claim), one per set of that many recorded seeds
    of the same variant (every combination), computed by the module's ``aggregate``."""
    out = []
    for per_seed in values.values():
        rows = [per_seed[s] for s in sorted(per_seed, key=int)]
        if "over" in claim:
            out += [module.aggregate(name, list(c)) for c in itertools.combinations(rows, claim["over"])]
        else:
            out += [r[name] for r in rows if name in r]
    return out


def seeds_arg(text):
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("chapter")
    ap.add_argument("--seeds", type=seeds_arg, default=seeds_arg("0-9"), help="e.g. 0-19")
    ap.add_argument("--variants", nargs="+", default=["base", "combined"], choices=list(VARIANTS))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--summary-only", action="store_true",
                    help="measure nothing: recompute the summary of the recorded values")
    args = ap.parse_args()
    module = load(args.chapter)
    path = HERE / f"{args.chapter}.json"
    data = json.loads(path.read_text()) if path.exists() else {"chapter": args.chapter, "values": {}}
    jobs = [] if args.summary_only else [(s, v) for v in args.variants for s in args.seeds]
    with cf.ThreadPoolExecutor(args.jobs) as ex:
        futures = {ex.submit(one, args.chapter, *sv): sv for sv in jobs}
        for future in cf.as_completed(futures):            # each run is kept as it finishes
            seed, variant = futures[future]
            data["values"].setdefault(variant, {})[str(seed)] = future.result()
            print(variant, seed, data["values"][variant][str(seed)], flush=True)
            path.write_text(json.dumps(data, indent=1, sort_keys=True))
    data["claims"] = {}
    for name, claim in module.CLAIMS.items():
        xs = statistic_values(module, name, claim, data["values"])
        data["claims"][name] = {**claim, "n": len(xs), "min": min(xs), "max": max(xs)}
        what = f"sets of {claim['over']} seeds" if "over" in claim else "runs"
        print(f"{name}: {claim['assert']}  — over {len(xs)} {what}: min {min(xs):.4g}, max {max(xs):.4g}")
    data["machine"] = {"cpu": _cpu(), "date": datetime.date.today().isoformat()}
    path.write_text(json.dumps(data, indent=1, sort_keys=True))
    print(f"wrote {path}")


def _cpu():
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                    if line.lower().startswith("model name"))
    except (OSError, StopIteration):
        return None


if __name__ == "__main__":
    main()
