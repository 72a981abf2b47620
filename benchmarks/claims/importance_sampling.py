"""The claims of the chapter 'Importance sampling', recomputed over seeds.

Most of the chapter's checks are Monte-Carlo estimates from numpy generators with tolerances of
four standard errors, or exact computations in float64. The exception is the float32 check that
the surrogate's gradient at theta = theta' equals the policy gradient (and the gradients of
PPO's two losses): its tolerance must cover the round-off of other floating-point paths. This
script recomputes that check for a list of seeds (of the untrained policy and its CartPole
batch), in whatever numerical setting the process runs (for example the combined variant
ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE RLNOTES_TORCH_THREADS=2; add
OMP_WAIT_POLICY=PASSIVE on a busy machine, which changes no number), prints one line per seed
and stores the values, with their minimum and maximum, under the name of the setting in
benchmarks/claims/importance_sampling.json. The chapter's margins are set from that file: its
table `claims` lists every assert the experiments measure, with the threshold and the smallest
and largest recorded value over all seeds and settings. `--summary-only` recomputes that table
without measuring; the exit status is 1 if a recorded value fails an assert.

    python benchmarks/claims/importance_sampling.py --seeds 0-19
    python benchmarks/claims/importance_sampling.py --summary-only
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import sys
import time

import numpy as np
import torch

CHAPTER = "book/importance_sampling.ipynb"
OUT = pathlib.Path(__file__).with_suffix(".json")
VARIANT_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "RLNOTES_TORCH_THREADS")


# --------------------------------------------------------------------------------------------
# cell 15: at theta = theta' the surrogate, pg_loss, ppo_clip_loss and ppo_kl_loss have one gradient
# --------------------------------------------------------------------------------------------
def surrogate_gradients(seed):
    from rlnotes.estimators import importance_weights, pg_loss, ppo_clip_loss, ppo_kl_loss
    from rlnotes.policies import CategoricalPolicy
    from rlnotes.returns import reward_to_go
    from rlnotes.rollout import collect_episodes

    torch.manual_seed(seed)
    policy = CategoricalPolicy(obs_dim=4, n_actions=2)
    batch = collect_episodes(policy, "CartPole-v1", n_episodes=20, seed=seed)
    rtg = np.concatenate([reward_to_go(r, 0.99) for r in batch.rewards])
    adv = torch.as_tensor(rtg - rtg.mean(), dtype=torch.float32)
    obs, act = torch.as_tensor(batch.flat_obs), torch.as_tensor(batch.flat_actions)
    params = list(policy.parameters())
    logp = policy.log_prob(obs, act)
    logp_old = logp.detach()
    surrogate = (importance_weights(logp, logp_old) * adv).mean()

    def flat_grad(scalar):
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(scalar, params, retain_graph=True)])

    g_surrogate = flat_grad(surrogate)
    g_pg = -flat_grad(pg_loss(logp, adv))
    out = {}
    for name, g in [("pg", g_pg), ("clip", -flat_grad(ppo_clip_loss(logp, logp_old, adv, clip_eps=0.2))),
                    ("kl", -flat_grad(ppo_kl_loss(logp, logp_old, adv, beta=1.0)))]:
        # torch.allclose(g_surrogate, g, rtol=1e-5, atol=1e-7 max|g_pg|) holds iff this is <= 1
        tol = 1e-7 * g_pg.abs().max() + 1e-5 * g.abs()
        out[f"{name}_error_over_tolerance"] = float(((g_surrogate - g).abs() / tol).max())
    out["surrogate_is_mean_advantage"] = bool(torch.isclose(surrogate, adv.mean()))
    return out


EXPERIMENTS = {"surrogate_gradients": surrogate_gradients}
GROUPS = {}
DERIVED = {}
# the chapter's asserts (torch.allclose(..., rtol=1e-5, atol=1e-7 max|g_pg|) holds iff the ratio is <= 1)
CLAIMS = {
    f"{name}_gradient": dict(experiment="surrogate_gradients", statistic=f"{name}_error_over_tolerance", op="<=",
                             threshold=1.0, cell="is-016", assert_=f"torch.allclose(g_surrogate, g_{name}, ...)")
    for name in ("pg", "clip", "kl")
}
CLAIMS["surrogate_value"] = dict(experiment="surrogate_gradients", statistic="surrogate_is_mean_advantage",
                                 op="==", threshold=True, cell="is-016",
                                 assert_="torch.isclose(surrogate, adv.mean())")


# --------------------------------------------------------------------------------------------
# measuring, recording, and checking the recorded values against the chapter's asserts
# --------------------------------------------------------------------------------------------
OPS = {"<": lambda v, t: v < t, "<=": lambda v, t: v <= t, ">": lambda v, t: v > t,
       ">=": lambda v, t: v >= t, "==": lambda v, t: v == t}


def seed_list(text):
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    return seeds


def variant_name():
    set_vars = {v: os.environ[v] for v in VARIANT_VARS if v in os.environ}
    if not set_vars:
        return "base"
    if set_vars == {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "RLNOTES_TORCH_THREADS": "2"}:
        return "combined"
    return ",".join(f"{k}={v}" for k, v in sorted(set_vars.items()))


def summarize(data):
    """Check every recorded value of every claim against the chapter's assert: data["claims"]."""
    data["claims"], failed = {}, []
    for name, claim in CLAIMS.items():
        claim = {key.rstrip("_"): value for key, value in claim.items()}      # assert_ -> assert
        recorded = data.get("measured", {}).get(claim["experiment"], {})
        values = []
        for variant, entry in recorded.items():
            items = entry.get("groups", []) if claim.get("over") else entry["rows"]
            for item in items:
                value = DERIVED[claim["statistic"]](item) if claim["statistic"] in DERIVED else item[claim["statistic"]]
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiments", default=",".join(EXPERIMENTS),
                        help="comma-separated, from: " + ", ".join(EXPERIMENTS))
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5-7")
    parser.add_argument("--out", default=str(OUT), help="JSON file to update ('-': print only)")
    parser.add_argument("--summary-only", action="store_true",
                        help="measure nothing: check the recorded values against the asserts again")
    args = parser.parse_args(argv)
    from rlnotes.bench import machine_info

    variant, seeds = variant_name(), seed_list(args.seeds)
    path = None if args.out == "-" else pathlib.Path(args.out)
    data = json.loads(path.read_text()) if path is not None and path.exists() else {}
    data.setdefault("chapter", CHAPTER)
    data.setdefault("script", f"benchmarks/claims/{pathlib.Path(__file__).name}")
    for name in [] if args.summary_only else args.experiments.split(","):
        rows = []
        for seed in seeds:
            t0 = time.perf_counter()
            row = {"seed": seed, **EXPERIMENTS[name](seed)}
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
        entry = {"env": {v: os.environ.get(v) for v in VARIANT_VARS}, "seeds": seeds,
                 "summary": summary, "machine": machine_info(), "rows": rows}
        if name in GROUPS:
            entry["groups"] = GROUPS[name](rows)
        data.setdefault("measured", {}).setdefault(name, {})[variant] = entry
    failed = summarize(data)
    if path is not None:
        path.write_text(dumps(data) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
