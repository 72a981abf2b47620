r"""The benchmark of the default configurations: ``python -m rlnotes bench``.

For each algorithm and seed: train with the default ``Config`` (timing the training loop
only), then evaluate the trained agent greedily on 10 episodes of the algorithm's environment,
episode $k$ of training seed $s$ with environment seed $1000 + 10 s + k$ (:func:`eval_seed`:
episodes never seen in training and not shared between seeds), and call the seed *solved* if
the mean evaluation return reaches the environment's threshold. The results go to
``OUT/<algo>.json`` (everything, with a description of the machine and every training
episode), ``OUT/<algo>.csv`` (one row per seed) and ``OUT/<algo>.png`` (learning curves:
mean ± one standard deviation over seeds, against environment steps and against wall time).

A long benchmark loses nothing it finished: the output folder is checked writable before any
training, each seed's row joins ``OUT/<algo>.json`` as soon as the seed finishes, Ctrl-C writes
the tables of the finished seeds and prints the command that resumes (``--resume`` keeps the
rows run with the same Config and budget), and an algorithm that fails is reported while the
others still run.

A sweep runs every (algorithm, setting, seed) as one *task*. ``--set FIELD=V1,V2`` gives the
values of a Config field to try (several ``--set`` give every combination, :func:`settings_grid`);
the results of a setting go to ``OUT/<algo>-FIELD=V.json`` (:func:`run_name`), read and resumed
like the others. Without Ray the tasks run one after another in this process; with
``--ray`` they run in parallel on a Ray instance (:func:`bench`'s ``ray``: this machine's
cores, or an existing cluster's address), each task on one torch thread and seeded as in the
sequential run, so every seed's history is the same either way (its wall-clock times aside).

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
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np

from .tasks import ALGOS, EVAL_EPISODES, EVAL_SEED_OFFSET, eval_seed  # noqa: F401 (re-exported)

__all__ = ["ALGOS", "eval_seed", "machine_info", "run_seed", "bench", "BenchFailed", "default_config",
           "minimum_steps", "budget_notes", "unwritable", "resume_command", "learning_curve", "plot_learning_curves",
           "format_table", "load_results", "summary_rows", "TRAIN_WINDOW", "first_reach",
           "steps_to_threshold", "wall_to_threshold", "threshold_summary", "format_spread",
           "network_sizes", "run_settings", "parse_set", "settings_grid", "setting_config", "run_name",
           "require_ray", "SCALE_HINT"]


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


def run_seed(algo, seed, steps=None, progress=True, env_id=None, overrides=None):
    """Train ``algo`` on one seed and evaluate it; return a dict row.

    The Config is the default one of ``env_id`` (the algorithm's benchmark env if None) with
    the fields in ``overrides`` (a dict, :func:`setting_config`) replaced.
    """
    from .rollout import evaluate

    module, default_env, threshold = _algo(algo)
    env_id = env_id or default_env
    config = setting_config(algo, overrides, env_id) if overrides else None
    result = module.train(env_id, config=config, seed=seed, total_steps=steps, progress=progress)
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


def setting_config(algo, overrides=None, env_id=None):
    """The default Config of ``algo`` on ``env_id`` (its benchmark env if None) with ``overrides``.

    overrides: ``{field: value}``. Checked by the Config itself (a bad value raises its
    ValueError); a field the Config does not have raises a ValueError listing the fields.
    """
    module, default_env, _ = _algo(algo)
    config = getattr(module, "PRESETS", {}).get(env_id or default_env, module.Config)()
    names = [f.name for f in fields(config)]
    unknown = [k for k in overrides or {} if k not in names]
    if unknown:
        raise ValueError(f"{type(config).__module__.split('.')[-1]}.Config ({algo}) has no field "
                         f"{unknown[0]!r}; its fields are {', '.join(names)}. Fix the --set")
    return replace(config, **overrides) if overrides else config


def _split_top_level(text):
    """``"1,(2, 3),'a,b'"`` -> ``["1", "(2, 3)", "'a,b'"]``: the commas outside brackets and quotes."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def parse_set(text):
    """``"FIELD=V1,V2"`` (one ``--set``) -> ``(FIELD, [V1, V2])``.

    Each value is a Python literal (``ast.literal_eval``: ``3e-4``, ``(64, 64)``, ``None``,
    ``True``); a bare word that is not one (``value``) is taken as a string. Commas inside
    brackets or quotes belong to a value: ``hidden_sizes=(32, 32),(64, 64)`` gives two values.
    Raises ValueError, naming the fix, for a text without ``=`` or with an empty value.
    """
    import ast

    field, sep, values = text.partition("=")
    field = field.strip()
    if not sep or not field.isidentifier():
        raise ValueError(f"--set {text!r}: expected FIELD=V1,V2,..., e.g. --set lr=1e-3,3e-3")
    parsed = []
    for piece in _split_top_level(values):
        piece = piece.strip()
        if not piece:
            raise ValueError(f"--set {text!r}: an empty value; give e.g. --set {field}=V1,V2")
        try:
            parsed.append(ast.literal_eval(piece))
        except (ValueError, SyntaxError):
            if not piece.isidentifier():
                raise ValueError(f"--set {text!r}: {piece!r} is not a Python literal (a number, a tuple "
                                 f"such as (64, 64), a quoted string, True/False/None)") from None
            parsed.append(piece)
    return field, parsed


def settings_grid(grid):
    """Every combination of the values of ``grid`` (``{field: [values]}``, as given by ``--set``).

    Returns a list of ``{field: value}`` dicts, the last field varying fastest; ``[{}]`` (the
    default Config alone) for an empty grid. E.g. ``{"lr": [1, 2], "gamma": [0.9, 0.99]}`` gives
    4 settings.
    """
    import itertools

    grid = dict(grid or {})
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def _value_slug(value):
    if isinstance(value, (tuple, list)):
        return "x".join(_value_slug(v) for v in value)          # (64, 64) -> 64x64
    return str(value).replace("/", "_").replace(" ", "")


def run_name(algo, overrides=None):
    """The stem of a setting's files: ``algo``, or ``algo-FIELD=V-FIELD=V`` for the overrides
    (e.g. ``ppo-lr=0.001-clip_eps=0.1``, ``reinforce-hidden_sizes=32x32``)."""
    return "-".join([algo] + [f"{k}={_value_slug(v)}" for k, v in (overrides or {}).items()])


def _set_args(grid):
    """The ``--set`` arguments that give ``grid`` back (for the resume command)."""
    args = []
    for field, values in (grid or {}).items():
        args += ["--set", f"{field}=" + ",".join(v if isinstance(v, str) and v.isidentifier() else repr(v)
                                               for v in values)]
    return args


#: the one line ``bench --ray`` prints without Ray installed
SCALE_HINT = ("bench --ray needs Ray, an optional extra of rlnotes: pip install rlnotes[scale] "
              "(in a checkout: pip install -e .[scale])")


def require_ray():
    """``import ray``, or ImportError with :data:`SCALE_HINT` (Ray is imported only for ``--ray``)."""
    try:
        import ray
    except ImportError:
        raise ImportError(SCALE_HINT) from None
    return ray


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


def default_config(algo):
    """The Config ``train`` uses for ``algo`` on its benchmark env (an env's preset, else ``Config()``)."""
    module, env_id, _ = _algo(algo)
    return getattr(module, "PRESETS", {}).get(env_id, module.Config)()


def minimum_steps(config):
    r"""The smallest budget (``total_steps``) worth running with ``config``: ``(steps, why, untrained)``.

    Off-policy (DQN, DDPG): ``learning_starts + train_freq``; with fewer steps training ends
    before the first gradient step and the agent stays untrained (``untrained`` True). On-policy,
    the first update needs a batch of ``n_workers * envs_per_worker * n_steps`` (A3C),
    ``n_envs * n_steps`` (PPO, A2C: one rollout) or ``batch_steps`` (REINFORCE) steps, and a
    smaller budget is rounded up to it (``untrained`` False). None for a Config without such fields.
    """
    c = config
    if hasattr(c, "learning_starts") and hasattr(c, "train_freq"):
        return c.learning_starts + c.train_freq, "learning_starts + train_freq", True
    if hasattr(c, "n_workers"):
        return (c.n_workers * c.envs_per_worker * c.n_steps,
                "one segment per worker, n_workers * envs_per_worker * n_steps", False)
    if hasattr(c, "n_steps") and hasattr(c, "n_envs"):
        return c.n_envs * c.n_steps, "one rollout, n_envs * n_steps", False
    if hasattr(c, "batch_steps"):
        return c.batch_steps, "one batch of episodes, batch_steps", False
    return None


def budget_notes(algos, steps):
    """One line per algorithm for which ``steps`` is below :func:`minimum_steps` of its default Config."""
    notes = []
    for algo in algos:
        minimum = None if steps is None else minimum_steps(default_config(algo))
        if minimum is None or steps >= minimum[0]:
            continue
        n, why, untrained = minimum
        if untrained:
            notes.append(f"warning: {algo}: --steps {steps} is below its minimum of {n:,} ({why} of its "
                         f"Config): training ends before the first gradient step, so its results "
                         f"measure an untrained agent. Use --steps {n} or more.")
        else:
            notes.append(f"note: {algo}: --steps {steps} is less than {why} = {n:,} steps of its "
                         f"Config: it runs that one batch anyway ({n:,} steps or more). Use --steps {n} "
                         f"or more to set the budget yourself.")
    return notes


def unwritable(directory):
    """None if ``directory`` can be created and written to, else why not (checked before training)."""
    import tempfile

    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as err:
        return f"cannot write the results to {str(directory)!r}: {err.strerror or err}"
    return None


def resume_command(algos, seeds, steps, out, peers=False, grid=None, ray=None):
    """The command line that runs the same benchmark again, keeping the seeds already in ``out``.

    grid: the ``--set`` values (``{field: [values]}``); ray: None, or ``--ray``'s address
    (``"local"`` for this machine's cores)."""
    import shlex

    args = ["python", "-m", "rlnotes", "bench", *algos, "--seeds", *map(str, seeds)]
    args += ["--steps", str(steps)] if steps is not None else []
    args += _set_args(grid)
    args += ["--out", str(out)] + (["--peers"] if peers else [])
    args += [] if ray is None else ["--ray"] if ray == "local" else ["--ray", str(ray)]
    return shlex.join(args + ["--resume"])


def _jsonable(config_dict):
    return json.loads(json.dumps(config_dict))          # tuples -> lists, as in a written file


def _finished_rows(path, expected_config, env_id):
    """The seed rows of ``path`` (an ``<algo>.json``) run on ``env_id`` with ``expected_config``,
    by seed: what :func:`bench` with ``resume=True`` does not run again."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if data.get("env_id") != env_id:
        return {}
    return {r["seed"]: r for r in data.get("seeds", []) if r.get("config") == expected_config}


def _summary(algo, env_id, threshold, steps, rows, machine, overrides=None):
    walls = [r["wall_seconds"] for r in rows]
    return {
        "algo": algo, "env_id": env_id, "threshold": threshold,
        "eval": {"episodes": EVAL_EPISODES, "seed": f"{EVAL_SEED_OFFSET} + {EVAL_EPISODES} * training seed + episode",
                 "policy": "greedy (deterministic=True)"},
        "total_steps_override": steps, "overrides": _jsonable(overrides or {}),
        "n_seeds": len(rows), "n_solved": int(sum(r["solved"] for r in rows)),
        "median_wall_seconds": float(np.median(walls)),
        "median_steps_per_second": float(np.median([r["steps_per_second"] for r in rows])),
        "machine": machine, "seeds": rows,
    }


def _peer_summary(algo, spec, rows, machine):
    return {"algo": algo, "peer": spec["sb3_class"], "source": spec["source"],
            "n_solved": int(sum(r["solved"] for r in rows)),
            "median_wall_seconds": float(np.median([r["wall_seconds"] for r in rows])),
            "machine": machine, "seeds": rows}


def _write_json(path, data):
    """Write ``data`` to ``path`` whole or not at all (a crash mid-write leaves the previous file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def _write_tables(name, env_id, rows, machine, out, file):
    """``OUT/<name>.csv`` and ``OUT/<name>.png`` of the finished ``rows`` (``name``: :func:`run_name`);
    returns the paths written."""
    with open(out / f"{name}.csv", "w", newline="") as f:
        fields = ["algo", "env_id", "seed", "env_steps", "wall_seconds", "steps_per_second",
                  "eval_mean", "eval_std", "eval_min", "eval_max", "solved"]
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({"algo": name, "env_id": env_id, "seed": r["seed"],
                        "env_steps": r["env_steps"], "wall_seconds": round(r["wall_seconds"], 3),
                        "steps_per_second": round(r["steps_per_second"], 1),
                        "eval_mean": r["eval_mean"], "eval_std": round(r["eval_std"], 3),
                        "eval_min": min(r["eval_returns"]), "eval_max": max(r["eval_returns"]),
                        "solved": "yes" if r["solved"] else "no"})
    written = [out / f"{name}.json", out / f"{name}.csv"]
    if any(r["history"] for r in rows):
        plot_learning_curves(rows, out / f"{name}.png",
                             f"{name} on {env_id}, {len(rows)} seeds ({machine['cpu_model'] or 'CPU'}, "
                             f"{machine['torch_threads']} torch thread)")
        written.append(out / f"{name}.png")
    else:                                   # e.g. --steps 100 on Pendulum: no episode ended
        print(f"no training episode of {name} ended within its budget: no learning-curve plot",
              file=file, flush=True)
    return written


class BenchFailed(RuntimeError):
    """Raised by :func:`bench` at the end when some runs failed (the others ran and were written).

    ``failures``: ``{name: (seed, exception)}`` (``name``: the algorithm, or :func:`run_name` of a
    setting; the first seed that failed); ``summaries``: what :func:`bench` would have returned.
    """

    def __init__(self, failures, summaries):
        self.failures, self.summaries = failures, summaries
        super().__init__("; ".join(f"{a} failed on seed {s}: {type(e).__name__}: {e}"
                                   for a, (s, e) in failures.items()))


def _run(algo, overrides, steps, out, resume):
    """One (algorithm, setting) of a sweep: its name, env, threshold, and the rows ``--resume`` keeps."""
    _, env_id, threshold = _algo(algo)
    name = run_name(algo, overrides)
    expected = _jsonable(asdict(setting_config(algo, overrides)))
    if steps is not None:
        expected["total_steps"] = steps
    done = _finished_rows(out / f"{name}.json", expected, env_id) if resume else {}
    return {"algo": algo, "overrides": overrides, "name": name, "env_id": env_id, "threshold": threshold,
            "done": done, "resume": resume}


def _kept_line(kept):
    return ", ".join(f"{a} seed{'s' * (len(rows) > 1)} {' '.join(str(r['seed']) for r in rows)}"
                     for a, rows in kept.items() if rows) or "no finished seed"


def bench(algos=("reinforce",), seeds=(0, 1, 2, 3, 4), steps=None, out="bench-results",
          progress=True, file=None, peers=False, resume=False, grid=None, ray=None):
    """Run every (algorithm, setting, seed); print and write the results.

    Nothing finished is lost. ``out`` is checked writable before any training (ValueError
    otherwise). Each seed's row is added to ``OUT/<algo>.json`` as soon as the seed finishes,
    so a crash loses only the seed under way; the CSV, the plot and the table follow when the
    algorithm is done. Ctrl-C (KeyboardInterrupt) writes the tables of the finished seeds,
    prints what was kept and the command that resumes, and is raised again.
    resume: keep the rows already in ``OUT/<algo>.json`` that were run with the same env and
    Config (budget included) instead of running those seeds again (the file's ``machine`` then
    describes the latest run).
    An algorithm that raises an exception is reported in one line (its traceback goes to
    ``OUT/<algo>-error.txt``) and the others still run; then :class:`BenchFailed` is raised.
    A ``steps`` below an algorithm's :func:`minimum_steps` is reported before training.

    grid: ``{field: [values]}`` (``--set``): every combination (:func:`settings_grid`) of every
    algorithm is run, each setting with its own files ``OUT/<algo>-FIELD=V.json`` etc.
    (:func:`run_name`). Every setting's Config is built before any training, so an unknown field
    or a bad value raises its ValueError first.
    ray: None runs the tasks one after another in this process. ``"local"`` starts a Ray
    instance on this machine's cores; ``"auto"`` or an address (``"HOST:PORT"``) connects to
    a running cluster (``ray start --head``). Each (algorithm, setting, seed) is then one Ray
    task on one CPU and one torch thread; finished tasks are written as they arrive, in any
    order (the rows of a file are kept sorted by seed), a failing task is reported and the
    others complete, and Ctrl-C cancels the unfinished tasks. An A3C task reserves a CPU for each
    of its ``n_workers`` processes (at most the cluster's CPUs). Needs ``pip install rlnotes[scale]``
    (ImportError with :data:`SCALE_HINT` otherwise, before any training).

    peers: also run the Stable-Baselines3 peer of each algorithm that has one
    (:data:`rlnotes.peers.PEERS`), seed by seed interleaved with ours, and print the comparison
    (``OUT/<algo>-sb3.json`` gets its rows). Needs the optional extra ``pip install -e .[peers]``.
    Not with ``ray`` or ``grid``: the peers run the default settings, one after another.
    Returns a dict ``{name: summary_dict}`` (the content of ``OUT/<name>.json``).
    """
    import torch

    algos, seeds = list(algos), [int(s) for s in seeds]
    for algo in algos:
        _algo(algo)                                # unknown names fail before any training
    if peers and (ray is not None or grid):
        raise ValueError("--peers runs the default settings one after another: drop --ray and --set, "
                         "or run the peers in a separate bench --peers")
    problem = unwritable(out)
    if problem:
        raise ValueError(f"{problem}. Choose another output folder (out=...)")
    out = Path(out)
    runs = [_run(algo, overrides, steps, out, resume)       # Config checks: before any training
            for algo in algos for overrides in settings_grid(grid)]
    if ray is not None:
        ray_mod = require_ray()                    # fail before any training, with the hint
    if peers:
        from . import peers as peers_mod
        peers_mod.require_sb3()                    # fail before any training, with the hint

    file = file or sys.stdout
    for note in budget_notes(algos, steps):
        print(note, file=file, flush=True)
    machine = machine_info()
    summaries, failures, kept = {}, {}, {}
    if ray is not None:
        _bench_ray(ray_mod, ray, runs, seeds, steps, out, file, machine, summaries, failures, kept,
                   lambda: resume_command(algos, seeds, steps, out, grid=grid, ray=ray))
        if failures:
            raise BenchFailed(failures, summaries)
        return summaries
    # warm-up: the first torch optimiser of a process imports torch._dynamo (~1.5 s here); pay it
    # before the clock of the first seed starts, so every seed is timed the same way
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    for run in runs:
        name = run["name"]
        try:
            summaries[name], failure = _bench_algo(run, seeds, steps, out, progress, file,
                                                   peers_mod if peers else None, machine, kept)
        except KeyboardInterrupt:
            print(f"interrupted: kept {_kept_line(kept)} in {out}/ (the seed under way is lost). Resume with:\n  "
                  f"{resume_command(algos, seeds, steps, out, peers, grid)}", file=file, flush=True)
            raise
        if failure is not None:
            failures[name] = failure
        if summaries[name] is None:
            del summaries[name]
    if failures:
        raise BenchFailed(failures, summaries)
    return summaries


def _bench_algo(run, seeds, steps, out, progress, file, peers_mod, machine, kept):
    """Every seed of one (algorithm, setting) (see :func:`bench`), one after another:
    ``(summary or None, (seed, exception) or None)``.

    ``kept[name]`` is the list of finished seed rows, growing as seeds finish (what a Ctrl-C
    keeps); on KeyboardInterrupt their tables are written and the exception is raised again.
    """
    import traceback

    algo, name, env_id, threshold, done = run["algo"], run["name"], run["env_id"], run["threshold"], run["done"]
    with_peer = peers_mod is not None and algo in peers_mod.PEERS
    if peers_mod is not None and not with_peer:
        print(f"no SB3 peer for {algo}; peers exist for {', '.join(peers_mod.PEERS)}", file=file, flush=True)
    if with_peer:
        spec = peers_mod.PEERS[algo]
        done_peer = {r["seed"]: r for r in json.loads((out / f"{algo}-sb3.json").read_text())["seeds"]} \
            if run["resume"] and (out / f"{algo}-sb3.json").exists() else {}
    (out / f"{name}-error.txt").unlink(missing_ok=True)      # from an earlier run
    rows, peer_rows, failure = [], [], None
    kept[name] = rows
    try:
        for seed in seeds:
            if seed in done:
                row = done[seed]
                print(f"{name} seed {seed}: kept from {out / f'{name}.json'} (resume)", file=file, flush=True)
            else:
                try:
                    row = run_seed(algo, seed, steps=steps, progress=progress, overrides=run["overrides"])
                except Exception as err:  # noqa: BLE001 - reported, and the other algorithms run
                    (out / f"{name}-error.txt").write_text(traceback.format_exc())
                    print(f"{name} failed on seed {seed}: {type(err).__name__}: {err} (traceback in "
                          f"{out / f'{name}-error.txt'}); going on with the other algorithms",
                          file=sys.stderr, flush=True)
                    failure = (seed, err)
                    break
                print(f"{name} seed {seed}: {row['env_steps']} steps, {row['wall_seconds']:.1f} s, "
                      f"eval {row['eval_mean']:.1f} ± {row['eval_std']:.1f}", file=file, flush=True)
            rows.append(row)
            _write_json(out / f"{name}.json",
                        _summary(algo, env_id, threshold, steps, rows, machine, run["overrides"]))
            if with_peer:
                prow = done_peer.get(seed) or peers_mod.run_peer(algo, seed)
                peer_rows.append(prow)
                print(f"SB3 {algo} seed {seed}: {prow['env_steps']} steps, "
                      f"{prow['wall_seconds']:.1f} s, eval {prow['eval_mean']:.1f} ± "
                      f"{prow['eval_std']:.1f}", file=file, flush=True)
                _write_json(out / f"{algo}-sb3.json", _peer_summary(algo, spec, peer_rows, machine))
    finally:                                       # also on Ctrl-C: the tables of what finished
        summary = _summary(algo, env_id, threshold, steps, rows, machine, run["overrides"]) if rows else None
        if rows:
            _print_and_write_tables(run, rows, machine, out, file)
            if with_peer and peer_rows:
                print(format_table(f"SB3 {spec['sb3_class']} ({algo} peer)", spec["env_id"],
                                   threshold, peer_rows), file=file, flush=True)
                print(peers_mod.format_comparison(algo, rows[:len(peer_rows)], peer_rows), file=file, flush=True)
    return summary, failure


def _print_and_write_tables(run, rows, machine, out, file):
    print(format_table(run["name"], run["env_id"], run["threshold"], rows), file=file, flush=True)
    written = _write_tables(run["name"], run["env_id"], rows, machine, out, file)
    print(f"wrote {', '.join(str(p) for p in written)}", file=file, flush=True)


def _task(algo, seed, steps, env_id, overrides):
    """One (algorithm, setting, seed) on a Ray worker: :func:`run_seed` on one torch thread.

    ``train`` seeds every generator from ``seed``, so the row is the sequential run's (wall
    times aside). The env id comes from the caller, whose :data:`ALGOS` the worker cannot see.
    """
    import torch

    torch.set_num_threads(1)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])   # the warm-up of bench, before the clock
    return run_seed(algo, seed, steps=steps, progress=False, env_id=env_id, overrides=overrides)


def _bench_ray(ray, address, runs, seeds, steps, out, file, machine, summaries, failures, kept, resume_line):
    """The tasks of :func:`bench` on Ray: submitted at once, written as they finish (``ray.wait``)."""
    started = not ray.is_initialized()             # a caller's own ray.init is used as it is
    if started and address == "local":
        ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    elif started:
        try:
            ray.init(address=address, log_to_driver=False)
        except ConnectionError as err:
            raise ValueError(f"cannot connect to a Ray cluster at {address!r}: {err}. Start one with `ray start "
                             f"--head` and give the address it prints, or use --ray alone for this machine's "
                             f"cores") from None
    try:
        resources = ray.cluster_resources()
        nodes = sum(key.startswith("node:") and not key.startswith("node:__") for key in resources)
        machine = {**machine, "ray": {"address": address, "nodes": nodes, "cpus": resources.get("CPU"),
                                      "torch_threads_per_task": 1}}
        print(f"Ray: {machine['ray']['nodes']} node(s), {resources.get('CPU', 0):g} CPUs ({address})",
              file=file, flush=True)
        task = ray.remote(num_cpus=1, max_retries=0)(_task)
        tasks, rows = {}, {}
        for run in runs:
            name = run["name"]
            workers = getattr(setting_config(run["algo"], run["overrides"]), "n_workers", 1)   # A3C's processes
            cpus = max(1, min(workers, int(resources.get("CPU", 1))))
            rows[name] = kept[name] = sorted(run["done"].values(), key=lambda r: r["seed"])
            (out / f"{name}-error.txt").unlink(missing_ok=True)      # from an earlier run
            for seed in seeds:
                if seed in run["done"]:
                    print(f"{name} seed {seed}: kept from {out / f'{name}.json'} (resume)", file=file, flush=True)
                else:
                    ref = task.options(num_cpus=cpus).remote(run["algo"], seed, steps, run["env_id"], run["overrides"])
                    tasks[ref] = (run, seed)
        pending, finished = list(tasks), 0
        try:
            while pending:
                (ref,), pending = ray.wait(pending, num_returns=1)
                run, seed = tasks[ref]
                name = run["name"]
                finished += 1
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayError as err:              # the task raised, or its worker died
                    cause = getattr(err, "cause", None) or err
                    with open(out / f"{name}-error.txt", "a") as f:
                        f.write(f"seed {seed}:\n{err}\n")
                    print(f"[{finished}/{len(tasks)}] {name} failed on seed {seed}: {type(cause).__name__}: "
                          f"{cause} (traceback in {out / f'{name}-error.txt'}); the other tasks go on",
                          file=sys.stderr, flush=True)
                    failures.setdefault(name, (seed, cause))
                    continue
                rows[name].append(row)
                rows[name].sort(key=lambda r: r["seed"])
                _write_json(out / f"{name}.json", _summary(run["algo"], run["env_id"], run["threshold"], steps,
                                                           rows[name], machine, run["overrides"]))
                print(f"[{finished}/{len(tasks)}] {name} seed {seed}: {row['env_steps']} steps, "
                      f"{row['wall_seconds']:.1f} s, eval {row['eval_mean']:.1f} ± {row['eval_std']:.1f}",
                      file=file, flush=True)
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            print(f"interrupted: cancelled {len(pending)} unfinished task(s); kept {_kept_line(kept)} in "
                  f"{out}/. Resume with:\n  {resume_line()}", file=file, flush=True)
            raise
        finally:                                   # also on Ctrl-C: the tables of what finished
            for run in runs:
                if rows.get(run["name"]):
                    _print_and_write_tables(run, rows[run["name"]], machine, out, file)
                    summaries[run["name"]] = _summary(run["algo"], run["env_id"], run["threshold"], steps,
                                                      rows[run["name"]], machine, run["overrides"])
    finally:
        if started:
            ray.shutdown()


# --------------------------------------------------------------------------------------------
# Reading committed results (the book's benchmarks appendix and closing chapter)
# --------------------------------------------------------------------------------------------
def load_results(directory):
    """Every ``<algo>.json`` written by :func:`bench` in ``directory``, with its peer if any.

    The files of a ``--set`` sweep's settings (``<algo>-FIELD=V.json``, with ``overrides``) are
    not the default configurations and are left out.

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
        if ours.get("overrides"):                      # a setting of a sweep, not the default Config
            continue
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

    Wall times are compared like for like: ``ratio`` and ``threshold_ratio`` use only our seeds
    that the peer also ran (``paired_to_threshold``, ``paired_seeds``), because those ran in one
    process, ours and the peer's interleaved seed by seed, under the same load; our other seeds
    may have run elsewhere or alongside other jobs. Step counts do not depend on the machine,
    so the steps columns use every seed.
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
            "paired_seeds": None, "paired_wall": None, "paired_to_threshold": None,
        }
        if peer is not None:
            peer_seeds = {x["seed"] for x in peer["seeds"]}
            paired = [x for x in seeds if x["seed"] in peer_seeds]        # ran beside the peer's seeds
            if not paired:
                raise ValueError(f"{algo}: none of our seeds is one of the peer's seeds {sorted(peer_seeds)}; "
                                 f"rerun with `bench {algo} --peers` so the two sides run side by side")
            paired_wall = float(np.median([x["wall_seconds"] for x in paired]))
            peer_wall = float(np.median([x["wall_seconds"] for x in peer["seeds"]]))
            row.update(peer=f"SB3 {peer['peer']}", peer_solved=sum(bool(x["solved"]) for x in peer["seeds"]),
                       peer_wall=peer_wall, ratio=paired_wall / peer_wall, paired_seeds=len(paired),
                       paired_wall=paired_wall,
                       paired_to_threshold=threshold_summary(paired, ours["threshold"], window),
                       peer_median_steps=float(np.median([x["env_steps"] for x in peer["seeds"]])),
                       peer_median_eval=float(np.median([x["eval_mean"] for x in peer["seeds"]])))
            peer_to = threshold_summary(peer["seeds"], ours["threshold"], window)
            row.update(peer_to_threshold=peer_to, peer_settings=run_settings(peer))
            ours_t, peer_t = row["paired_to_threshold"]["median_wall"], peer_to["median_wall"]
            if math.isfinite(ours_t) and math.isfinite(peer_t) and peer_t > 0:
                row["threshold_ratio"] = ours_t / peer_t
        rows.append(row)
    return rows
