"""The DQN tuning runs behind the defaults (benchmarks appendix, "How the defaults were chosen").

    python benchmarks/tuning/dqn_sweep.py NAME SEED[,SEED...] FIELD=VALUE ...

trains ``dqn.train("CartPole-v1", Config(FIELD=VALUE, ...), seed)`` for each seed, evaluates the
final agent as ``python -m rlnotes bench`` does (10 greedy episodes, environment seeds
``rlnotes.bench.eval_seed(seed)`` onwards) and appends one JSON line per seed to
``dqn_sweep.jsonl`` beside this file, with the run's training curve: the mean return of the
training episodes that ended in each twentieth of the budget (-1: none ended there). The rows
of names before "AC" have no curve and judge the last network; from "AC" on, ``eval_interval``
says which network was evaluated (None: the last; a number: the best greedy evaluation,
:class:`rlnotes.algos.dqn.Config`). ``--summary`` prints solved counts per setting.
The wall times in the file were measured with other jobs sharing the machine's two cores: they
are not comparable with each other or with the benchmark's.
"""
from __future__ import annotations

import ast
import collections
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("dqn_sweep.jsonl")
#: the fields every row records (besides any other field a run sets)
TUNED = ("total_steps", "lr", "batch_size", "train_freq", "gradient_steps", "target_update_interval",
         "eval_interval")


def summary():
    runs = collections.defaultdict(dict)
    for line in OUT.read_text().splitlines():
        row = json.loads(line)
        runs[row["name"]][row["seed"]] = row                   # the last run of a seed counts
    for name, by_seed in runs.items():
        evals = sorted(round(r["eval"]) for r in by_seed.values())
        print(f"{name:22s} {sum(e >= 475 for e in evals):2d}/{len(evals):<2d} solved  "
              f"greedy returns {evals}  {next(iter(by_seed.values()))['config']}")


def main(argv):
    import rlnotes
    from rlnotes import bench
    from rlnotes.algos import dqn

    name, seeds, *fields = argv
    over = {k: ast.literal_eval(v) for k, v in (f.split("=", 1) for f in fields)}
    for seed in (int(s) for s in seeds.split(",")):
        result = dqn.train("CartPole-v1", dqn.Config(**over), seed=seed, progress=False)
        returns = rlnotes.evaluate(result.agent, "CartPole-v1", n_episodes=bench.EVAL_EPISODES,
                                   seed=bench.eval_seed(seed))
        steps, ended = result.steps, result.returns
        edges = np.linspace(0, result.config.total_steps, 21)
        curve = [int(ended[(steps > a) & (steps <= b)].mean()) if np.any((steps > a) & (steps <= b)) else -1
                 for a, b in zip(edges[:-1], edges[1:])]
        row = {"name": name, "seed": seed, "wall": result.wall_time, "eval": float(np.mean(returns)),
               "config": {k: v for k, v in asdict(result.config).items() if k in TUNED or k in over},
               "curve": curve}
        print(json.dumps(row), flush=True)
        with OUT.open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    summary() if sys.argv[1:] == ["--summary"] else main(sys.argv[1:])
