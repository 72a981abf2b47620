r"""The benchmark behind each chapter's performance claim: ``python -m rlnotes bench``.

For each algorithm and seed: train with the default ``Config`` (timing the training loop
only), then evaluate the trained agent greedily on 10 episodes of the chapter's environment
with environment seed ``1000 + seed`` (episodes never seen in training), and call the seed
*solved* if the mean evaluation return reaches the environment's threshold. The results go to
``OUT/<algo>.json`` (everything, with a description of the machine and every training
episode), ``OUT/<algo>.csv`` (one row per seed) and ``OUT/<algo>.png`` (learning curves:
mean ± one standard deviation over seeds, against environment steps and against wall time).

A new algorithm joins the benchmark with one line in :data:`ALGOS`.
"""
from __future__ import annotations

import csv
import datetime
import importlib
import json
import os
import platform
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

__all__ = ["ALGOS", "eval_seed", "machine_info", "run_seed", "bench", "learning_curve", "plot_learning_curves",
           "format_table", "load_results", "summary_rows"]

#: algorithm name -> (module with Config/train, environment id, solved threshold on the
#: mean greedy return of 10 evaluation episodes)
ALGOS = {
    "reinforce": ("rlnotes.algos.reinforce", "CartPole-v1", 475.0),
    "ppo": ("rlnotes.algos.ppo", "CartPole-v1", 475.0),
    # Pendulum-v1 returns are negative: solved when the mean greedy return is >= -200
    "ppo-pendulum": ("rlnotes.algos.ppo", "Pendulum-v1", -200.0),
    "dqn": ("rlnotes.algos.dqn", "CartPole-v1", 475.0),
    "a2c": ("rlnotes.algos.a2c", "CartPole-v1", 475.0),
    "a3c": ("rlnotes.algos.a3c", "CartPole-v1", 475.0),
    "ddpg": ("rlnotes.algos.ddpg", "Pendulum-v1", -200.0),
}

EVAL_EPISODES = 10
EVAL_SEED_OFFSET = 1000


def eval_seed(seed):
    """Environment seed of the first evaluation episode for training seed ``seed``.

    Evaluation episode k of training seed s uses environment seed
    ``EVAL_SEED_OFFSET + EVAL_EPISODES * s + k``: each training seed gets its own block of
    episodes, never seen in training and not shared with another seed, so "solved on 4 of 5
    seeds" counts five independent evaluations.
    """
    return EVAL_SEED_OFFSET + EVAL_EPISODES * int(seed)


def machine_info():
    """Where the numbers were measured: platform, CPU, cores, library versions, threads, date."""
    import gymnasium
    import torch

    import rlnotes

    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu or platform.processor() or None,
        "cpu_cores": os.cpu_count(),
        "python": platform.python_version(),
        "rlnotes": rlnotes.__version__,
        "torch": torch.__version__,
        "gymnasium": gymnasium.__version__,
        "numpy": np.__version__,
        "torch_threads": torch.get_num_threads(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _algo(name):
    if name not in ALGOS:
        raise ValueError(f"unknown algorithm {name!r}; available: {', '.join(ALGOS)}")
    module, env_id, threshold = ALGOS[name]
    return importlib.import_module(module), env_id, threshold


def run_seed(algo, seed, steps=None, progress=True, env_id=None):
    """Train ``algo`` with its default Config on one seed and evaluate it; return a dict row."""
    from .rollout import evaluate

    module, default_env, threshold = _algo(algo)
    env_id = env_id or default_env
    result = module.train(env_id, seed=seed, total_steps=steps, progress=progress)
    returns = evaluate(result.agent, env_id, n_episodes=EVAL_EPISODES, seed=eval_seed(seed))
    env_steps = result.stats.get("env_steps",                      # all training steps, or
                                 result.history[-1][0] if result.history else 0)   # the last episode's
    return {
        "seed": int(seed),
        "env_steps": int(env_steps),
        "wall_seconds": float(result.wall_time),
        "steps_per_second": float(env_steps / result.wall_time) if result.wall_time > 0 else None,
        "eval_returns": [float(r) for r in returns],
        "eval_mean": float(np.mean(returns)),
        "eval_std": float(np.std(returns)),
        "solved": bool(np.mean(returns) >= threshold),
        "training_episodes": len(result.history),
        "stats": {k: (float(v) if isinstance(v, (float, np.floating)) else v)
                  for k, v in result.stats.items()},
        "history": [[int(s), float(r), round(float(w), 3)] for s, r, w in result.history],
        "config": asdict(result.config),
    }


def learning_curve(histories, x="steps", n_points=100, window=20):
    r"""Mean ± std over seeds of the training return, on a common grid.

    histories: one list of ``(env_step, episode_return, wall_seconds)`` per seed.
    x: "steps" or "wall" (the grid's axis); each seed's curve is the mean return of its last
    ``window`` episodes, interpolated onto ``n_points`` grid points up to the smallest final x
    over seeds (so every seed contributes at every point).
    Returns ``(grid, mean, std)``, each of shape (n_points,).
    """
    col = {"steps": 0, "wall": 2}[x]
    curves = []
    for h in histories:
        h = np.asarray(h, dtype=float)
        if len(h) == 0:
            continue
        ret = np.convolve(h[:, 1], np.ones(window), "full")[: len(h)]
        ret /= np.minimum(np.arange(1, len(h) + 1), window)       # running mean of ≤ window episodes
        curves.append((h[:, col], ret))
    if not curves:
        raise ValueError("learning_curve needs at least one non-empty history")
    end = min(c[0][-1] for c in curves)
    start = max(c[0][0] for c in curves)
    grid = np.linspace(start, end, n_points)
    ys = np.stack([np.interp(grid, xs, ys) for xs, ys in curves])
    return grid, ys.mean(0), ys.std(0)


def plot_learning_curves(rows, path, title):
    """Two panels: return vs env steps and vs wall seconds (mean ± std over seeds)."""
    import matplotlib
    import matplotlib.ticker
    import matplotlib.pyplot as plt

    histories = [r["history"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, x, label in ((axes[0], "steps", "environment steps"), (axes[1], "wall", "wall time (s)")):
        grid, mean, std = learning_curve(histories, x=x)
        ax.plot(grid, mean, color="C0", label=f"mean over {len(rows)} seeds")
        ax.fill_between(grid, mean - std, mean + std, color="C0", alpha=0.25, label="± 1 std")
        ax.set_xlabel(label)
        if x == "steps":
            ax.xaxis.set_major_formatter(matplotlib.ticker.EngFormatter())   # 100k, 200k, ...
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("training return (last 20 episodes)")
    axes[0].legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)     # (savefig works with any backend, no display needed)
    plt.close(fig)


def format_table(algo, env_id, threshold, rows):
    """The per-seed table and the summary, as printed by ``python -m rlnotes bench``."""
    lines = [f"{algo} on {env_id} (solved: mean greedy return over {EVAL_EPISODES} episodes "
             f">= {threshold:g})",
             f"{'seed':>4}  {'env steps':>9}  {'wall s':>7}  {'steps/s':>7}  {'eval mean ± std':>17}  solved"]
    for r in rows:
        lines.append(f"{r['seed']:>4}  {r['env_steps']:>9d}  {r['wall_seconds']:>7.1f}  "
                     f"{r['steps_per_second']:>7.0f}  {r['eval_mean']:>8.1f} ± {r['eval_std']:<6.1f}  "
                     f"{'yes' if r['solved'] else 'no'}")
    walls = [r["wall_seconds"] for r in rows]
    lines.append(f"solved {sum(r['solved'] for r in rows)}/{len(rows)} seeds; median wall "
                 f"{np.median(walls):.1f} s (training loop only); median throughput "
                 f"{np.median([r['steps_per_second'] for r in rows]):.0f} env steps/s")
    return "\n".join(lines)


def bench(algos=("reinforce",), seeds=(0, 1, 2, 3, 4), steps=None, out="bench-results",
          progress=True, file=None, peers=False):
    """Run every seed of every algorithm, one after another; print and write the results.

    peers: also run the Stable-Baselines3 peer of each algorithm that has one
    (:data:`rlnotes.peers.PEERS`), seed by seed interleaved with ours, and print the comparison
    (``OUT/<algo>-sb3.json`` gets its rows). Needs the optional extra ``pip install -e .[peers]``.
    Returns a dict ``{algo: summary_dict}`` (the content of ``OUT/<algo>.json``).
    """
    import torch

    if peers:
        from . import peers as peers_mod
        peers_mod.require_sb3()                    # fail before any training, with the hint

    file = file or sys.stdout
    # warm-up: the first torch optimiser of a process imports torch._dynamo (~1.5 s here); pay it
    # before the clock of the first seed starts, so every seed is timed the same way
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    summaries = {}
    for algo in algos:
        module, env_id, threshold = _algo(algo)
        rows, peer_rows = [], []
        with_peer = peers and algo in peers_mod.PEERS
        if peers and not with_peer:
            print(f"no SB3 peer for {algo}; peers exist for {', '.join(peers_mod.PEERS)}",
                  file=file, flush=True)
        for seed in seeds:
            row = run_seed(algo, seed, steps=steps, progress=progress)
            rows.append(row)
            print(f"{algo} seed {seed}: {row['env_steps']} steps, {row['wall_seconds']:.1f} s, "
                  f"eval {row['eval_mean']:.1f} ± {row['eval_std']:.1f}", file=file, flush=True)
            if with_peer:
                prow = peers_mod.run_peer(algo, seed)
                peer_rows.append(prow)
                print(f"SB3 {algo} seed {seed}: {prow['env_steps']} steps, "
                      f"{prow['wall_seconds']:.1f} s, eval {prow['eval_mean']:.1f} ± "
                      f"{prow['eval_std']:.1f}", file=file, flush=True)
        table = format_table(algo, env_id, threshold, rows)
        print(table, file=file, flush=True)
        if with_peer:
            spec = peers_mod.PEERS[algo]
            print(format_table(f"SB3 {spec['sb3_class']} ({algo} peer)", spec["env_id"],
                               threshold, peer_rows), file=file, flush=True)
            print(peers_mod.format_comparison(algo, rows, peer_rows), file=file, flush=True)
            (out / f"{algo}-sb3.json").write_text(json.dumps(
                {"algo": algo, "peer": spec["sb3_class"], "source": spec["source"],
                 "n_solved": int(sum(r["solved"] for r in peer_rows)),
                 "median_wall_seconds": float(np.median([r["wall_seconds"] for r in peer_rows])),
                 "machine": machine, "seeds": peer_rows}, indent=1))
        walls = [r["wall_seconds"] for r in rows]
        summary = {
            "algo": algo, "env_id": env_id, "threshold": threshold,
            "eval": {"episodes": EVAL_EPISODES, "seed": f"{EVAL_SEED_OFFSET} + {EVAL_EPISODES} * training seed + episode",
                     "policy": "greedy (deterministic=True)"},
            "total_steps_override": steps,
            "n_seeds": len(rows), "n_solved": int(sum(r["solved"] for r in rows)),
            "median_wall_seconds": float(np.median(walls)),
            "median_steps_per_second": float(np.median([r["steps_per_second"] for r in rows])),
            "machine": machine, "seeds": rows,
        }
        (out / f"{algo}.json").write_text(json.dumps(summary, indent=1))
        with open(out / f"{algo}.csv", "w", newline="") as f:
            fields = ["algo", "env_id", "seed", "env_steps", "wall_seconds", "steps_per_second",
                      "eval_mean", "eval_std", "eval_min", "eval_max", "solved"]
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            for r in rows:
                w.writerow({"algo": algo, "env_id": env_id, "seed": r["seed"],
                            "env_steps": r["env_steps"], "wall_seconds": round(r["wall_seconds"], 3),
                            "steps_per_second": round(r["steps_per_second"], 1),
                            "eval_mean": r["eval_mean"], "eval_std": round(r["eval_std"], 3),
                            "eval_min": min(r["eval_returns"]), "eval_max": max(r["eval_returns"]),
                            "solved": "yes" if r["solved"] else "no"})
        plot_learning_curves(rows, out / f"{algo}.png",
                             f"{algo} on {env_id}, {len(rows)} seeds ({machine['cpu_model'] or 'CPU'}, "
                             f"{machine['torch_threads']} torch thread)")
        print(f"wrote {out / f'{algo}.json'}, {out / f'{algo}.csv'}, {out / f'{algo}.png'}",
              file=file, flush=True)
        summaries[algo] = summary
    return summaries


# --------------------------------------------------------------------------------------------
# Reading committed results (the book's benchmarks appendix and closing chapter)
# --------------------------------------------------------------------------------------------
def load_results(directory):
    """Every ``<algo>.json`` written by :func:`bench` in ``directory``, with its peer if any.

    Returns ``{algo: {"ours": summary, "peer": peer_summary or None}}`` in the order of
    :data:`ALGOS` (algorithms it does not know come last, by name). Raises FileNotFoundError
    with the command that produces the data if there is none.
    """
    directory = Path(directory)
    files = sorted(p for p in directory.glob("*.json") if not p.stem.endswith("-sb3"))
    if not files:
        raise FileNotFoundError(
            f"no benchmark results in {directory}/; produce them with: python -m rlnotes bench "
            f"--all --peers --out {directory}")
    order = {name: i for i, name in enumerate(ALGOS)}
    results = {}
    for path in sorted(files, key=lambda p: (order.get(p.stem, len(order)), p.stem)):
        ours = json.loads(path.read_text())
        peer_path = path.with_name(f"{path.stem}-sb3.json")
        peer = json.loads(peer_path.read_text()) if peer_path.exists() else None
        results[ours["algo"]] = {"ours": ours, "peer": peer}
    return results


def summary_rows(results):
    """One row per algorithm, the numbers of the appendix table, computed from the seed rows.

    Each row: algo, env_id, threshold, seeds, solved, median env steps, median wall seconds,
    median eval return (of the per-seed means), and for the peer (None without one): its
    solved count, median wall seconds, and the ratio of median walls (ours / peer); plus the
    date and CPU of the run.
    """
    rows = []
    for algo, r in results.items():
        ours, peer = r["ours"], r["peer"]
        seeds = ours["seeds"]
        wall = float(np.median([x["wall_seconds"] for x in seeds]))
        row = {
            "algo": algo, "env_id": ours["env_id"], "threshold": ours["threshold"],
            "seeds": len(seeds), "solved": sum(bool(x["solved"]) for x in seeds),
            "median_steps": float(np.median([x["env_steps"] for x in seeds])),
            "median_wall": wall,
            "median_eval": float(np.median([x["eval_mean"] for x in seeds])),
            "peer": None, "peer_solved": None, "peer_wall": None, "ratio": None,
            "date": ours["machine"]["date"], "cpu": ours["machine"]["cpu_model"],
        }
        if peer is not None:
            peer_wall = float(np.median([x["wall_seconds"] for x in peer["seeds"]]))
            row.update(peer=f"SB3 {peer['peer']}", peer_solved=sum(bool(x["solved"]) for x in peer["seeds"]),
                       peer_wall=peer_wall, ratio=wall / peer_wall)
        rows.append(row)
    return rows
