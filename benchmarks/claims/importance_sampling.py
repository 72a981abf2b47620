"""The claims of the chapter 'Importance sampling', recomputed over seeds.

Most of the chapter's checks are Monte-Carlo estimates from numpy generators with tolerances of
four standard errors, or exact computations in float64. The exception is the float32 check that
the surrogate's gradient at theta = theta' equals the policy gradient (and the gradients of PPO's
two losses): its tolerance must cover the round-off of other floating-point paths. This script
recomputes that check for a list of seeds (of the untrained policy and its CartPole batch), in
whatever numerical setting the process runs (for example the combined variant
ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE RLNOTES_TORCH_THREADS=2), prints one line per
seed and stores the values, with their minimum and maximum, under the name of the setting in
benchmarks/claims/importance_sampling.json.

    python benchmarks/claims/importance_sampling.py --seeds 0-19
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
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


CLAIMS = {"surrogate_gradients": surrogate_gradients}


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", default=",".join(CLAIMS), help="comma-separated: " + ", ".join(CLAIMS))
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5-7")
    parser.add_argument("--out", default=str(OUT), help="JSON file to update ('-': print only)")
    args = parser.parse_args(argv)
    from rlnotes.bench import machine_info

    variant, seeds = variant_name(), seed_list(args.seeds)
    data = json.loads(pathlib.Path(args.out).read_text()) if args.out != "-" and pathlib.Path(args.out).exists() else {}
    data.setdefault("chapter", CHAPTER)
    data.setdefault("script", f"benchmarks/claims/{pathlib.Path(__file__).name}")
    for name in args.claims.split(","):
        rows = []
        for seed in seeds:
            t0 = time.perf_counter()
            row = {"seed": seed, **CLAIMS[name](seed)}
            rows.append(row)
            print(json.dumps({"claim": name, "variant": variant,
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
        entry = data.setdefault("measured", {}).setdefault(name, {})
        entry[variant] = {"env": {v: os.environ.get(v) for v in VARIANT_VARS}, "seeds": seeds,
                          "summary": summary, "machine": machine_info()}
        entry[variant]["rows"] = rows
    if args.out != "-":
        pathlib.Path(args.out).write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
