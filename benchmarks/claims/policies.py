"""The claims of the chapter 'Policies', recomputed over seeds.

Each experiment below computes, for one seed, the statistics that asserts of book/policies.ipynb
check for the chapter's own seed. This script recomputes them for a list of seeds, in whatever
numerical setting the process runs (for example the combined variant ATEN_CPU_CAPABILITY=default
MKL_CBWR=COMPATIBLE RLNOTES_TORCH_THREADS=2; add OMP_WAIT_POLICY=PASSIVE on a busy machine,
which changes no number), prints one line per seed and stores the values, with their minimum and
maximum, under the name of the setting in benchmarks/claims/policies.json. The chapter's margins
are set from that file: its table `claims` lists every assert the experiments measure, with the
threshold and the smallest and largest recorded value over all seeds and settings.
`--summary-only` recomputes that table without measuring; the exit status is 1 if a recorded
value fails an assert.

    python benchmarks/claims/policies.py --seeds 0-19
    python benchmarks/claims/policies.py --summary-only
    python benchmarks/claims/policies.py --experiments behaviour_cloning --seeds 0-4
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

CHAPTER = "book/policies.ipynb"
OUT = pathlib.Path(__file__).with_suffix(".json")
VARIANT_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "RLNOTES_TORCH_THREADS")


# --------------------------------------------------------------------------------------------
# cells 38 and 40: a Pendulum policy fitted by maximum likelihood to a ≈ -2 sin(angle) + N(0, 0.3²)
# (seed: the initialisation, the 2048 states and the noise)
# --------------------------------------------------------------------------------------------
def behaviour_cloning(seed):
    import gymnasium as gym

    import rlnotes
    from rlnotes.policies import make_policy

    rng = rlnotes.seed_everything(seed)
    pendulum = gym.make("Pendulum-v1")
    pend_policy = make_policy(pendulum.observation_space, pendulum.action_space)
    n = 2048
    angle, velocity = rng.uniform(-np.pi, np.pi, n), rng.uniform(-8, 8, n)
    states = torch.as_tensor(np.stack([np.cos(angle), np.sin(angle), velocity], axis=1), dtype=torch.float32)
    targets = torch.as_tensor((-2 * np.sin(angle) + 0.3 * rng.standard_normal(n))[:, None], dtype=torch.float32)
    with torch.no_grad():
        mu_before = pend_policy.mean_net(states).abs().max().item()
    optimizer = torch.optim.Adam(pend_policy.parameters(), lr=1e-2)
    for _ in range(300):
        loss = -pend_policy.log_prob(states, targets).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    sigma_fit = pend_policy.log_std.exp().item()
    errors = []
    for th in (-np.pi / 2, 0.0, 3 * np.pi / 4):                     # the three states of cell 40
        o = torch.tensor([np.cos(th), np.sin(th), 0.0], dtype=torch.float32)
        with torch.no_grad():
            errors.append(abs(pend_policy.mean_net(o).item() - (-2 * np.sin(th))))
    return {"mu_before_max": mu_before,                  # < 0.5
            "sigma_fit": sigma_fit,                      # |. - 0.3| < margin
            "mean_error_max": max(errors)}               # < margin


# --------------------------------------------------------------------------------------------
# cell 38, first assert: the mean of an untrained Pendulum policy on the 2048 states
# --------------------------------------------------------------------------------------------
def untrained_pendulum(seed):
    import gymnasium as gym

    import rlnotes
    from rlnotes.policies import make_policy

    rng = rlnotes.seed_everything(seed)
    pend_policy = make_policy(gym.make("Pendulum-v1").observation_space, gym.make("Pendulum-v1").action_space)
    angle, velocity = rng.uniform(-np.pi, np.pi, 2048), rng.uniform(-8, 8, 2048)
    states = torch.as_tensor(np.stack([np.cos(angle), np.sin(angle), velocity], axis=1), dtype=torch.float32)
    with torch.no_grad():
        return {"mu_before_max": pend_policy.mean_net(states).abs().max().item()}     # < 1


# --------------------------------------------------------------------------------------------
# cell 42: 200 CartPole episodes of an untrained CategoricalPolicy and of the uniform policy
# --------------------------------------------------------------------------------------------
def untrained_cartpole(seed):
    import gymnasium as gym

    import rlnotes
    from rlnotes.policies import make_policy
    from rlnotes.rollout import collect_episodes

    cartpole = gym.make("CartPole-v1")
    rlnotes.seed_everything(seed)
    untrained = make_policy(cartpole.observation_space, cartpole.action_space)
    uniform = make_policy(cartpole.observation_space, cartpole.action_space)
    with torch.no_grad():
        uniform.logits_net[-1].weight.zero_()
        uniform.logits_net[-1].bias.zero_()
    b_untrained = collect_episodes(untrained, "CartPole-v1", n_episodes=200, seed=3000 * seed)
    b_uniform = collect_episodes(uniform, "CartPole-v1", n_episodes=200, seed=3000 * seed + 1000)
    with torch.no_grad():
        p_left = untrained.distribution(b_untrained.flat_obs).probs[:, 0].numpy()
    return {"mean_untrained": float(b_untrained.returns.mean()),      # in (15, 30)
            "mean_uniform": float(b_uniform.returns.mean()),          # in (15, 30)
            "p_left_max_deviation": float(np.abs(p_left - 0.5).max())}   # < 0.25


# --------------------------------------------------------------------------------------------
# cell 44: ten sampled episodes of the untrained policy from the same start state
# --------------------------------------------------------------------------------------------
def distinct_episodes(seed):
    import gymnasium as gym

    import rlnotes
    from rlnotes.policies import make_policy

    cartpole = gym.make("CartPole-v1")
    rlnotes.seed_everything(seed)
    untrained = make_policy(cartpole.observation_space, cartpole.action_space)

    def episode_actions(deterministic):
        env = gym.make("CartPole-v1")
        obs, _ = env.reset(seed=0)
        actions = []
        while True:
            a = int(untrained.act(obs, deterministic=deterministic))
            actions.append(a)
            obs, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                return tuple(actions)

    greedy = {episode_actions(True) for _ in range(10)}
    sampled = {episode_actions(False) for _ in range(10)}
    return {"greedy_distinct": len(greedy), "sampled_distinct": len(sampled)}   # 1 and >= 8


EXPERIMENTS = {"untrained_pendulum": untrained_pendulum, "behaviour_cloning": behaviour_cloning,
               "untrained_cartpole": untrained_cartpole, "distinct_episodes": distinct_episodes}
GROUPS = {}
DERIVED = {"sigma_deviation": lambda r: abs(r["sigma_fit"] - 0.3)}
# the chapter's asserts: the statistic of an experiment's rows
CLAIMS = {
    "untrained_mean_small": dict(experiment="untrained_pendulum", statistic="mu_before_max", op="<",
                                 threshold=1.0, cell="0d9e7e65", assert_="mu_before.abs().max() < 1.0"),
    "sigma_recovered": dict(experiment="behaviour_cloning", statistic="sigma_deviation", op="<",
                            threshold=0.03, cell="0d9e7e65", assert_="abs(sigma_fit - 0.3) < 0.03"),
    "means_follow_rule": dict(experiment="behaviour_cloning", statistic="mean_error_max", op="<",
                              threshold=0.25, cell="817058db", assert_="abs(mu_s - (-2 * np.sin(th))) < 0.25"),
    "untrained_return_low": dict(experiment="untrained_cartpole", statistic="mean_untrained", op=">",
                                 threshold=15, cell="105fc78e", assert_="15 < mean (untrained)"),
    "untrained_return_high": dict(experiment="untrained_cartpole", statistic="mean_untrained", op="<",
                                  threshold=30, cell="105fc78e", assert_="mean < 30 (untrained)"),
    "uniform_return_low": dict(experiment="untrained_cartpole", statistic="mean_uniform", op=">",
                               threshold=15, cell="105fc78e", assert_="15 < mean (uniform)"),
    "uniform_return_high": dict(experiment="untrained_cartpole", statistic="mean_uniform", op="<",
                                threshold=30, cell="105fc78e", assert_="mean < 30 (uniform)"),
    "near_one_half": dict(experiment="untrained_cartpole", statistic="p_left_max_deviation", op="<",
                          threshold=0.25, cell="105fc78e", assert_="np.abs(p_left - 0.5).max() < 0.25"),
    "greedy_repeats": dict(experiment="distinct_episodes", statistic="greedy_distinct", op="==", threshold=1,
                           cell="42423371", assert_="len(set(greedy)) == 1"),
    "sampled_differ": dict(experiment="distinct_episodes", statistic="sampled_distinct", op=">=", threshold=8,
                           cell="42423371", assert_="len(set(sampled)) >= 8"),
}


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
