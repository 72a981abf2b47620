"""The claims of the chapter 'Policies', recomputed over seeds.

Each claim below is a statistic that an assert of book/policies.ipynb checks for one seed.
This script recomputes it for a list of seeds, in whatever numerical setting the process runs
(for example the combined variant ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE
RLNOTES_TORCH_THREADS=2), prints one line per seed and stores the values, with their minimum
and maximum, under the name of the setting in benchmarks/claims/policies.json. The chapter's
margins are set from that file.

    python benchmarks/claims/policies.py --seeds 0-19
    python benchmarks/claims/policies.py --claims behaviour_cloning --seeds 0-4
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


CLAIMS = {"untrained_pendulum": untrained_pendulum, "behaviour_cloning": behaviour_cloning, "untrained_cartpole": untrained_cartpole,
          "distinct_episodes": distinct_episodes}


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
