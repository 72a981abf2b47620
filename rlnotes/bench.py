r"""The benchmark of the default configurations: ``python -m rlnotes bench``.

For each algorithm and seed: train with the default ``Config`` (timing the training loop
only), then evaluate the trained agent greedily on 10 episodes of the algorithm's environment,
episode $k$ of training seed $s$ with environment seed $1000 + 10 s + k$ (:func:`eval_seed`:
episodes never seen in training and not shared between seeds), and call the seed *solved* if
the mean evaluation return reaches the environment's threshold. The results go to
``OUT/<algo>.json`` (everything, with a description of the machine and every training
episode), ``OUT/<algo>.csv`` (one row per seed) and ``OUT/<algo>.png`` (learning curves:
mean ± one standard deviation over seeds, against environment steps and against wall time).

The committed results (``benchmarks/``) are read back by :func:`load_results` and summarised
by :func:`summary_rows` for the book's benchmarks appendix and its closing chapter. Besides
the numbers at the end of each run's budget, the summary gives the *time to threshold* on the
training curve (:func:`first_reach`): the environment steps and the wall seconds after which
the mean return of the last 20 training episodes first reaches the threshold, per seed, with
the median, minimum and maximum over seeds. Unlike the budget (``total_steps``), which is a
setting, the time to threshold is measured, and comparable between runs with different
budgets.

A new algorithm joins the benchmark with one line in :data:`rlnotes.tasks.ALGOS` (the peers
share it).
"""
from __future__ import annotations

import csv
import datetime
import importlib
import json
import math
import os
import platform
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .tasks import ALGOS, EVAL_EPISODES, EVAL_SEED_OFFSET, eval_seed  # noqa: F401 (re-exported)

__all__ = ["ALGOS", "eval_seed", "machine_info", "run_seed", "bench", "learning_curve", "plot_learning_curves",
           "format_table", "load_results", "summary_rows", "TRAIN_WINDOW", "first_reach",
           "steps_to_threshold", "wall_to_threshold", "threshold_summary", "format_spread",
           "network_sizes", "run_settings"]


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
    import matplotlib.pyplot as plt
    import matplotlib.ticker

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
        written = [out / f"{algo}.json", out / f"{algo}.csv"]
        if any(r["history"] for r in rows):
            plot_learning_curves(rows, out / f"{algo}.png",
                                 f"{algo} on {env_id}, {len(rows)} seeds ({machine['cpu_model'] or 'CPU'}, "
                                 f"{machine['torch_threads']} torch thread)")
            written.append(out / f"{algo}.png")
        else:                                   # e.g. --steps 100 on Pendulum: no episode ended
            print(f"no training episode of {algo} ended within its budget: no learning-curve plot",
                  file=file, flush=True)
        print(f"wrote {', '.join(str(p) for p in written)}", file=file, flush=True)
        summaries[algo] = summary
    return summaries


# --------------------------------------------------------------------------------------------
# Reading committed results (the book's benchmarks appendix and closing chapter)
# --------------------------------------------------------------------------------------------
def load_results(directory):
    """Every ``<algo>.json`` written by :func:`bench` in ``directory``, with its peer if any.

    Returns ``{algo: {"ours": summary, "peer": peer_summary or None}}`` in the order of
    :data:`rlnotes.tasks.ALGOS` (algorithms it does not know come last, by name). Raises FileNotFoundError
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


#: training episodes averaged for the time to threshold (:func:`first_reach`), the same 20 as the
#: curves of :func:`learning_curve`
TRAIN_WINDOW = 20


def first_reach(history, threshold, window=TRAIN_WINDOW):
    r"""Index of the training episode after which the training curve first reaches ``threshold``.

    The training curve after episode $i$ (episodes counted from 0 in the order they finished)
    is the mean return of the last $w$ = ``window`` finished episodes,
    $\bar G_i = \frac{1}{w} \sum_{j=i-w+1}^{i} G_j$, defined from the $w$-th episode on
    ($i \ge w - 1$). Returns the smallest $i$ with $\bar G_i \ge$ ``threshold``, or None if
    the curve never gets there within the run (the seed is *censored*: not reached).
    Training returns are those of the policy that explores (sampled actions, ε-greedy, action
    noise), so the training curve can stay below a threshold that greedy evaluation reaches.
    history: a seed row's ``history``, one ``[env_step, episode_return, wall_seconds]`` per
    finished training episode, in the order they finished; shape (E, 3).
    """
    if int(window) != window or window < 1:
        raise ValueError(f"window must be a positive whole number of episodes, got {window!r}")
    window = int(window)
    returns = np.asarray(history, dtype=float).reshape(-1, 3)[:, 1]
    if len(returns) < window:
        return None
    means = np.lib.stride_tricks.sliding_window_view(returns, window).mean(axis=1)   # Ḡ_{w-1}, ..., Ḡ_{E-1}
    hits = np.flatnonzero(means >= threshold)
    return int(hits[0]) + window - 1 if len(hits) else None


def steps_to_threshold(history, threshold, window=TRAIN_WINDOW):
    """Environment steps of training when the training curve first reaches ``threshold``.

    The ``env_step`` of episode :func:`first_reach` (all environment copies counted), or
    ``math.inf`` if the curve never reaches it (censored: a median over seeds then treats
    the seed as slower than every seed that got there).
    history: ``[env_step, episode_return, wall_seconds]`` per finished episode, shape (E, 3).
    """
    i = first_reach(history, threshold, window)
    return math.inf if i is None else float(history[i][0])


def wall_to_threshold(history, threshold, window=TRAIN_WINDOW):
    """Training wall seconds when the training curve first reaches ``threshold`` (or ``math.inf``).

    The ``wall_seconds`` of episode :func:`first_reach`: seconds since the training clock
    started (the same clock as the row's ``wall_seconds``), as recorded when the episode
    finished.
    history: ``[env_step, episode_return, wall_seconds]`` per finished episode, shape (E, 3).
    """
    i = first_reach(history, threshold, window)
    return math.inf if i is None else float(history[i][2])


def threshold_summary(seeds, threshold, window=TRAIN_WINDOW):
    r"""Time to threshold of every seed of a run, and its median, min and max over seeds.

    seeds: the seed rows of a run (``data["seeds"]``, ours or the peer's), each with a
    ``history``. Returns a dict: ``window``, ``n`` (seeds), ``reached`` (how many seeds'
    training curves reach ``threshold``), ``steps`` and ``wall`` (per seed, in the order of
    ``seeds``; ``math.inf`` for a seed that does not reach it), and ``median_steps``,
    ``min_steps``, ``max_steps``, ``median_wall``, ``min_wall``, ``max_wall`` over seeds, with
    the censored seeds counted as $+\infty$ (so a median is ``math.inf`` when half or more of
    the seeds do not reach the threshold).
    """
    steps = [steps_to_threshold(s["history"], threshold, window) for s in seeds]
    wall = [wall_to_threshold(s["history"], threshold, window) for s in seeds]
    out = {"window": int(window), "n": len(seeds), "reached": sum(math.isfinite(x) for x in steps),
           "steps": steps, "wall": wall}
    for name, xs in (("steps", steps), ("wall", wall)):
        out[f"median_{name}"] = float(np.median(xs)) if xs else math.nan
        out[f"min_{name}"] = float(min(xs)) if xs else math.nan
        out[f"max_{name}"] = float(max(xs)) if xs else math.nan
    return out


def format_spread(summary, name, digits=0):
    """``"median (min–max)"`` of ``summary``'s ``name`` ("steps" or "wall"), as the appendix shows it.

    summary: a :func:`threshold_summary` dict. Numbers get thousands separators and ``digits``
    decimals; a value that is not reached (``math.inf``) is shown as ``∞``, and a run none of
    whose seeds reaches the threshold as ``"not reached"``.
    E.g. ``"54,072 (44,592–59,032)"``, ``"∞ (33,935–∞)"``.
    """
    if math.isinf(summary[f"min_{name}"]):
        return "not reached"

    def fmt(x):
        return "∞" if math.isinf(x) else f"{x:,.{digits}f}"
    return (f"{fmt(summary[f'median_{name}'])} ({fmt(summary[f'min_{name}'])}–"
            f"{fmt(summary[f'max_{name}'])})")


def _sizes(sizes):
    return "(" + ", ".join(str(int(n)) for n in sizes) + ")"


def network_sizes(config):
    """The hidden layer widths of a run's networks, in words, from its saved ``config``.

    config: a seed row's ``config`` — one of our ``Config`` objects as a dict, or the
    settings of a Stable-Baselines3 peer (with ``sb3_class``; its ``net_arch`` when the zoo
    sets one, else SB3's default, :data:`rlnotes.peers.SB3_DEFAULT_NET_ARCH`).
    Returns e.g. ``"policy (64, 64), value (64, 64)"``, ``"Q (128, 128)"``.
    """
    if "sb3_class" in config:                                  # a Stable-Baselines3 peer
        from .peers import SB3_DEFAULT_NET_ARCH

        kwargs = config.get("policy_kwargs") or {}
        arch = kwargs.get("net_arch") or SB3_DEFAULT_NET_ARCH.get(config["sb3_class"])
        if isinstance(arch, dict):                             # actor-critic: pi and vf
            return f"policy {_sizes(arch['pi'])}, value {_sizes(arch['vf'])}"
        if config["sb3_class"] == "DQN":
            return f"Q {_sizes(arch)}"
        if config["sb3_class"] in ("DDPG", "TD3"):
            critics = kwargs.get("n_critics", 1 if config["sb3_class"] == "DDPG" else 2)
            return f"actor {_sizes(arch)}, critic {_sizes(arch)}" + (f" ×{critics}" if critics > 1 else "")
        return f"hidden {_sizes(arch)}" if arch is not None else "SB3 default"
    hidden = config.get("hidden_sizes")
    if hidden is None:
        return "–"
    if "value_hidden_sizes" in config:                         # REINFORCE, PPO
        if config.get("baseline", "value") != "value":
            return f"policy {_sizes(hidden)}"
        return f"policy {_sizes(hidden)}, value {_sizes(config['value_hidden_sizes'])}"
    if "shared" in config:                                     # A2C, A3C
        return (f"shared {_sizes(hidden)}, two heads" if config["shared"]
                else f"policy {_sizes(hidden)}, value {_sizes(hidden)}")
    if "twin_critics" in config:                               # DDPG (TD3 with twin critics)
        return f"actor {_sizes(hidden)}, critic {_sizes(hidden)}" + (" ×2" if config["twin_critics"] else "")
    if "eps_start" in config:                                  # DQN
        return f"Q {_sizes(hidden)}"
    return f"hidden {_sizes(hidden)}"


def run_settings(data):
    """What a run was configured to do, beside what it measured: budget, networks, envs, speed.

    data: one summary as written by :func:`bench` (``OUT/<algo>.json`` or ``OUT/<algo>-sb3.json``).
    Returns a dict: ``name`` ("rlnotes" or "SB3 <class>"), ``budget`` (configured environment
    steps, ``total_steps`` or SB3's ``total_timesteps``), ``networks`` (:func:`network_sizes`),
    ``n_envs`` (environment copies; A3C's as "workers × copies per worker") and
    ``steps_per_second`` (median over seeds of env steps / training wall seconds).
    Read from the first seed's ``config`` (every seed of a run has the same one).
    """
    config = data["seeds"][0]["config"]
    if "n_workers" in config:
        n_envs = f"{config['n_workers']} × {config['envs_per_worker']}"
    else:
        n_envs = str(config.get("n_envs", 1))
    return {
        "name": f"SB3 {config['sb3_class']}" if "sb3_class" in config else "rlnotes",
        "budget": int(config.get("total_steps", config.get("total_timesteps", 0)) or 0),
        "networks": network_sizes(config),
        "n_envs": n_envs,
        "steps_per_second": float(np.median([s["steps_per_second"] for s in data["seeds"]])),
    }


def summary_rows(results, window=TRAIN_WINDOW):
    """One row per algorithm, the numbers of the appendix tables, computed from the seed rows.

    Each row: algo, env_id, threshold, seeds, solved, median env steps, median wall seconds,
    median eval return (of the per-seed means), and for the peer (None without one): its
    solved count, median wall seconds, the ratio of median walls (ours / peer), its median
    env steps and median eval return; plus the date and CPU of the run. These are numbers at the end of each run's budget, which differ
    between ours and the peer (other budgets, networks, numbers of environments).

    Measured rather than configured, comparable across budgets: ``to_threshold`` and
    ``peer_to_threshold`` (:func:`threshold_summary`: steps and wall seconds until the mean
    return of the last ``window`` training episodes first reaches the threshold, per seed and
    median / min / max over seeds), and ``threshold_ratio``, our median wall to threshold
    divided by the peer's (None without a peer, or when either median is not reached).
    ``settings`` and ``peer_settings`` (:func:`run_settings`) give each side's budget,
    networks, environment copies and throughput.
    """
    rows = []
    for algo, r in results.items():
        ours, peer = r["ours"], r["peer"]
        seeds = ours["seeds"]
        wall = float(np.median([x["wall_seconds"] for x in seeds]))
        to_threshold = threshold_summary(seeds, ours["threshold"], window)
        row = {
            "algo": algo, "env_id": ours["env_id"], "threshold": ours["threshold"],
            "seeds": len(seeds), "solved": sum(bool(x["solved"]) for x in seeds),
            "median_steps": float(np.median([x["env_steps"] for x in seeds])),
            "median_wall": wall,
            "median_eval": float(np.median([x["eval_mean"] for x in seeds])),
            "peer": None, "peer_solved": None, "peer_wall": None, "ratio": None,
            "peer_median_steps": None, "peer_median_eval": None,
            "date": ours["machine"]["date"], "cpu": ours["machine"]["cpu_model"],
            "window": int(window), "to_threshold": to_threshold, "settings": run_settings(ours),
            "peer_to_threshold": None, "peer_settings": None, "threshold_ratio": None,
        }
        if peer is not None:
            peer_wall = float(np.median([x["wall_seconds"] for x in peer["seeds"]]))
            row.update(peer=f"SB3 {peer['peer']}", peer_solved=sum(bool(x["solved"]) for x in peer["seeds"]),
                       peer_wall=peer_wall, ratio=wall / peer_wall,
                       peer_median_steps=float(np.median([x["env_steps"] for x in peer["seeds"]])),
                       peer_median_eval=float(np.median([x["eval_mean"] for x in peer["seeds"]])))
            peer_to = threshold_summary(peer["seeds"], ours["threshold"], window)
            row.update(peer_to_threshold=peer_to, peer_settings=run_settings(peer))
            ours_t, peer_t = to_threshold["median_wall"], peer_to["median_wall"]
            if math.isfinite(ours_t) and math.isfinite(peer_t) and peer_t > 0:
                row["threshold_ratio"] = ours_t / peer_t
        rows.append(row)
    return rows
