r"""Command line: ``python -m rlnotes train ...`` and ``python -m rlnotes bench ...``.

    python -m rlnotes train reinforce --env CartPole-v1 --seed 0 [--steps N]
    python -m rlnotes bench [reinforce ppo ...] [--seeds 0 1 2 3 4] [--steps N] [--out DIR] [--peers]
    python -m rlnotes bench --all [--peers] --out benchmarks     # the data of the book's appendix

``train`` trains one agent with the algorithm's default Config (a progress bar counts
environment steps) and evaluates it greedily on 10 episodes. ``bench`` does that for several
seeds, prints a table and writes JSON, CSV and a learning-curve plot (see :mod:`rlnotes.bench`).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np


def _count(minimum):
    """An argparse type: an integer >= ``minimum``, else a one-line usage error."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value
    return parse


def _writable(directory):
    """None if ``directory`` can be created and written to, else the reason (checked before training)."""
    import pathlib
    import tempfile

    try:
        pathlib.Path(directory).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as err:
        return f"cannot write the results to {directory!r}: {err.strerror or err}. Choose another --out"
    return None


def _parser():
    from .bench import ALGOS

    p = argparse.ArgumentParser(prog="python -m rlnotes", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train one agent and evaluate it")
    t.add_argument("algo", choices=sorted(ALGOS), help="algorithm")
    t.add_argument("--env", default=None, help="gymnasium env id (default: the algorithm's benchmark env)")
    t.add_argument("--seed", type=_count(0), default=0)
    t.add_argument("--steps", type=_count(1), default=None, help="total env steps (default: the Config's)")
    t.add_argument("--eval-episodes", type=_count(1), default=10)

    b = sub.add_parser("bench", help="train and evaluate over several seeds; write JSON/CSV/PNG")
    b.add_argument("algos", nargs="*", default=None, metavar="ALGO",
                   help=f"algorithms (default: all of {', '.join(ALGOS)})")
    b.add_argument("--all", action="store_true", help="every algorithm (the same as naming none)")
    b.add_argument("--seeds", type=_count(0), nargs="+", default=[0, 1, 2, 3, 4])
    b.add_argument("--steps", type=_count(1), default=None, help="total env steps per run (default: the Config's)")
    b.add_argument("--out", default="bench-results", help="output directory (default: bench-results/)")
    b.add_argument("--no-progress", action="store_true", help="no progress bars")
    b.add_argument("--peers", action="store_true",
                   help="also run the Stable-Baselines3 peer (optional extra: pip install -e .[peers]) "
                        "and print the comparison")
    return p


def main(argv=None):
    from .bench import ALGOS, _algo, bench, eval_seed
    from .rollout import evaluate

    args = _parser().parse_args(argv)
    if args.command == "train":
        module, default_env, threshold = _algo(args.algo)
        env_id = args.env or default_env
        try:
            result = module.train(env_id, seed=args.seed, total_steps=args.steps, progress=True)
            returns = evaluate(result.agent, env_id, n_episodes=args.eval_episodes,
                               seed=eval_seed(args.seed))      # the bench's evaluation episodes
        except ValueError as err:                      # bad input: the message names the fix
            print(f"error: {err}", file=sys.stderr)
            return 2
        steps = result.history[-1][0] if result.history else 0
        print(f"{args.algo} on {env_id}, seed {args.seed}: {steps} env steps in "
              f"{result.wall_time:.1f} s ({steps / result.wall_time:.0f} steps/s), "
              f"{len(result.history)} training episodes")
        print(f"greedy evaluation over {len(returns)} episodes (env seeds from {eval_seed(args.seed)}): "
              f"{np.mean(returns):.1f} ± {np.std(returns):.1f} (min {np.min(returns):g}, "
              f"max {np.max(returns):g})" + (f"; threshold {threshold:g}: "
                                              f"{'solved' if np.mean(returns) >= threshold else 'not solved'}"
                                              if env_id == default_env else ""))
        return 0
    if args.command == "bench":
        if args.all and args.algos:
            print("give either --all or algorithm names, not both", file=sys.stderr)
            return 2
        algos = args.algos or list(ALGOS)
        for a in algos:
            if a not in ALGOS:
                print(f"unknown algorithm {a!r}; available: {', '.join(ALGOS)}", file=sys.stderr)
                return 2
        problem = _writable(args.out)
        if problem:
            print(problem, file=sys.stderr)
            return 2
        try:
            bench(algos, seeds=args.seeds, steps=args.steps, out=args.out,
                  progress=not args.no_progress, peers=args.peers)
        except ImportError as err:
            if not args.peers:
                raise
            print(str(err), file=sys.stderr)
            return 2
        return 0
    return 2


def _main_interruptible(argv=None):
    """``main``, with Ctrl-C ending the command with one line instead of a traceback (the
    algorithms clean up after themselves first: A3C stops and joins its workers)."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C): the run in progress was stopped and not written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(_main_interruptible())
