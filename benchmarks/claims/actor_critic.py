"""The actor-critic chapter's training claims, measured for one seed (see run.py).

For one seed: the five A2C variants of the ablation, each trained for the chapter's 40 000
steps (the final training return: mean of the last 20 episodes), the greedy evaluation of the
default run, and the 2-worker A3C run with the same budget. The chapter's claims are about the
mean over its three seeds: ``aggregate`` computes them for any three recorded seeds.
"""
import numpy as np

import rlnotes
from rlnotes.algos import a2c, a3c
from rlnotes.bench import eval_seed

STEPS = 40_000      # the chapter's ablation budget
VARIANTS = {
    "default": {},
    "no_critic": {"vf_coef": 0.0},
    "td0": {"lam": 0.0},
    "entropy": {"ent_coef": 0.05},
    "shared": {"shared": True, "vf_coef": 5.0},
}

CLAIMS = {
    "default_final": {"op": ">", "over": 3, "threshold": 150.0,
                      "assert": "mean final training return of the default, 3 seeds"},
    "default_over_no_critic": {"over": 3, "threshold": 1.5,
                               "assert": "default / no critic (means over 3 seeds)"},
    "default_over_td0": {"op": ">", "over": 3, "threshold": 2.0,
                         "assert": "default / one-step TD (means over 3 seeds)"},
    "default_minus_entropy": {"over": 3, "threshold": 20.0,
                              "assert": "default − entropy bonus (means over 3 seeds)"},
    "shared_over_default": {"op": "<", "over": 3, "threshold": 0.25,
                            "assert": "shared body c_v = 5 / default (means over 3 seeds)"},
    "best_eval": {"op": ">", "over": 3, "threshold": 300.0,
                  "assert": "best greedy evaluation of the 3 default runs"},
    "a3c_ratio": {"op": ">", "threshold": 2.0,
                  "assert": "A3C (2 workers): last 20 / first 20 training returns"},
}


def aggregate(name, rows):
    """The chapter's statistic over several seeds' measurements (one dict per seed)."""
    m = {k: np.mean([r[f"final_{k}"] for r in rows]) for k in VARIANTS}
    return float({
        "default_final": m["default"],
        "default_over_no_critic": m["default"] / m["no_critic"],
        "default_over_td0": m["default"] / m["td0"],
        "default_minus_entropy": m["default"] - m["entropy"],
        "shared_over_default": m["shared"] / m["default"],
        "best_eval": max(r["eval_default"] for r in rows),
    }[name])


def measure(seed):
    rlnotes.seed_everything(0)
    out = {}
    for name, over in VARIANTS.items():
        r = a2c.train("CartPole-v1", a2c.Config(**over), seed=seed, total_steps=STEPS, progress=False)
        out[f"final_{name}"] = float(r.returns[-20:].mean())
        if name == "default":
            out["eval_default"] = float(rlnotes.evaluate(r.agent, "CartPole-v1", n_episodes=10,
                                                         seed=eval_seed(seed)).mean())
    r = a3c.train("CartPole-v1", seed=seed, total_steps=STEPS, progress=False)
    out["a3c_ratio"] = float(r.returns[-20:].mean() / r.returns[:20].mean())
    return out
