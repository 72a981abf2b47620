r"""Command line: ``python -m rlnotes train ...``, ``evaluate ...`` and ``bench ...``.

    python -m rlnotes train reinforce --env CartPole-v1 --seed 0 [--steps N] [--save FILE]
    python -m rlnotes evaluate FILE [--episodes N] [--seed S] [--video FILE.gif]
    python -m rlnotes bench [reinforce ppo ...] [--seeds 0 1 2 3 4] [--steps N] [--out DIR] [--peers] [--resume]
    python -m rlnotes bench --all [--peers] --out benchmarks     # the data of the book's appendix
    python -m rlnotes bench ppo --n-seeds 20 --set lr=1e-3,3e-3 --set clip_eps=0.1,0.2 --ray [ADDRESS]

``train`` trains one agent with the algorithm's default Config (a progress bar counts
environment steps) and evaluates it greedily on 10 episodes. ``bench`` does that for several
seeds, prints a table and writes JSON, CSV and a learning-curve plot (see :mod:`rlnotes.bench`);
``--seeds`` lists seeds, ``--n-seeds N`` means seeds 0 to N-1, each ``--set FIELD=V1,V2`` adds
a Config field's values to a grid of settings, and ``--ray`` runs the tasks on Ray (this
machine's cores, or a cluster's ADDRESS).
``train --save FILE`` writes the trained agent to one file (:func:`rlnotes.save`);
``evaluate FILE`` loads it (:func:`rlnotes.load`) and evaluates it on the same episodes again.
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


def _setting(text):
    """An argparse type: ``FIELD=V1,V2`` -> ``(FIELD, [V1, V2])`` (:func:`rlnotes.bench.parse_set`)."""
    from .bench import parse_set

    try:
        return parse_set(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _writable(directory):
    """None if ``directory`` can be created and written to, else the reason (checked before training)."""
    from .bench import unwritable

    problem = unwritable(directory)
    return f"{problem}. Choose another --out" if problem else None


def _video_path(text):
    """An argparse type: a path ending in .gif or .mp4 (MP4 only if matplotlib finds ffmpeg)."""
    from matplotlib import animation

    suffix = text.lower().rsplit(".", 1)[-1] if "." in text else ""
    if suffix not in ("gif", "mp4"):
        raise argparse.ArgumentTypeError(f"{text!r} must end in .gif or .mp4")
    if suffix == "mp4" and not animation.writers.is_available("ffmpeg"):
        raise argparse.ArgumentTypeError(f"writing {text!r} needs ffmpeg, which is not installed; install it "
                                         f"(e.g. apt install ffmpeg) or write a .gif")
    return text


def _write_video(agent, env_id, path, seed):
    """Play one greedy episode (env seed ``seed``) and write its frames to ``path`` (.gif or .mp4).

    Returns ``(n_frames, episode_return)``."""
    import gymnasium as gym
    from matplotlib import animation
    from matplotlib import pyplot as plt
    from PIL import Image

    from .plotting import record_frames

    env = gym.make(env_id, render_mode="rgb_array")
    space = env.action_space

    def act(obs):                                       # one observation -> the greedy action for env.step
        a = np.asarray(agent.act(np.asarray(obs, dtype=np.float32)[None], deterministic=True))[0]
        return np.clip(a, space.low, space.high).astype(space.dtype) if isinstance(space, gym.spaces.Box) else int(a)

    try:
        frames, total = record_frames(env, act, seed=seed, max_steps=env.spec.max_episode_steps or 1000)
        fps = env.metadata.get("render_fps") or 30
    finally:
        env.close()
    if path.lower().endswith(".gif"):                   # the frames as they are, with Pillow
        images = [Image.fromarray(frame) for frame in frames]
        images[0].save(path, save_all=True, append_images=images[1:], duration=1000 / fps, loop=0)
    else:                                               # an MP4 through matplotlib's ffmpeg writer
        h, w = frames[0].shape[:2]
        fig = plt.figure(figsize=(w / 100, h / 100), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        image = ax.imshow(frames[0])
        writer = animation.FFMpegWriter(fps=fps)
        with writer.saving(fig, path, dpi=100):
            for frame in frames:
                image.set_data(frame)
                writer.grab_frame()
        plt.close(fig)
    return len(frames), total


def _save_problem(module, path):
    """None if the trained agent can be saved to ``path``, else the reason (checked before training)."""
    import os

    from .saving import _algorithm_module

    if os.path.isdir(path):
        return f"--save {path!r} is a folder; give a file name, e.g. --save {os.path.join(path, 'agent.pt')}"
    try:
        _algorithm_module(module.__name__.rsplit(".", 1)[-1])
    except ValueError as err:
        return f"--save: {err}"
    problem = _writable(os.path.dirname(os.path.abspath(path)))
    return problem and problem.replace("the results", "the agent").replace("--out", "--save FILE")


def _evaluate_command(args):
    """``python -m rlnotes evaluate FILE``: load, evaluate greedily, print mean ± std (and a video)."""
    import os

    from .bench import eval_seed
    from .rollout import evaluate
    from .saving import load

    if args.video:
        problem = _writable(os.path.dirname(os.path.abspath(args.video)))
        if problem:
            print(problem.replace("the results", "the video").replace("--out", "--video FILE"),
                  file=sys.stderr)
            return 2
    try:
        result = load(args.file)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    algorithm = type(result.config).__module__.rsplit(".", 1)[-1]
    seed = args.seed if args.seed is not None else eval_seed(result.seed or 0)   # as `train` evaluated
    returns = evaluate(result.agent, result.env_id, n_episodes=args.episodes, seed=seed)
    steps = result.history[-1][0] if result.history else 0
    print(f"{algorithm} on {result.env_id} (training seed {result.seed}, {steps} env steps, "
          f"{len(result.history)} training episodes), from {args.file}")
    print(f"greedy evaluation over {len(returns)} episodes (env seeds from {seed}): {np.mean(returns):.1f} ± "
          f"{np.std(returns):.1f} (min {np.min(returns):g}, max {np.max(returns):g})")
    if args.video:
        try:
            n_frames, total = _write_video(result.agent, result.env_id, args.video, seed)
        except Exception as err:                        # e.g. an env that cannot render frames
            print(f"error: could not record a video of {result.env_id}: {err}", file=sys.stderr)
            return 1
        print(f"video of the episode with env seed {seed} (return {total:g}, {n_frames} frames): {args.video}")
    return 0


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
    t.add_argument("--save", default=None, metavar="FILE",
                   help="write the trained agent to FILE (load it with rlnotes.load or `evaluate FILE`)")

    e = sub.add_parser("evaluate", help="evaluate an agent saved with `train --save FILE`")
    e.add_argument("file", metavar="FILE", help="a file written by `train --save` or rlnotes.save")
    e.add_argument("--episodes", type=_count(1), default=10)
    e.add_argument("--seed", type=_count(0), default=None,
                   help="env seed of the first episode (default: the one `train` evaluated with)")
    e.add_argument("--video", type=_video_path, default=None, metavar="FILE.gif|FILE.mp4",
                   help="also record one greedy episode (env seed --seed) to a GIF or MP4 (MP4 needs ffmpeg)")

    b = sub.add_parser("bench", help="train and evaluate over several seeds; write JSON/CSV/PNG")
    b.add_argument("algos", nargs="*", default=None, metavar="ALGO",
                   help=f"algorithms (default: all of {', '.join(ALGOS)})")
    b.add_argument("--all", action="store_true", help="every algorithm (the same as naming none)")
    which = b.add_mutually_exclusive_group()
    which.add_argument("--seeds", type=_count(0), nargs="+", default=None, metavar="SEED",
                       help="the seeds to run (default: 0 1 2 3 4)")
    which.add_argument("--n-seeds", type=_count(1), default=None, metavar="N", help="seeds 0 to N-1")
    b.add_argument("--steps", type=_count(1), default=None, help="total env steps per run (default: the Config's)")
    b.add_argument("--out", default="bench-results", help="output directory (default: bench-results/)")
    b.add_argument("--no-progress", action="store_true", help="no progress bars")
    b.add_argument("--peers", action="store_true",
                   help="also run the Stable-Baselines3 peer (optional extra: pip install -e .[peers]) "
                        "and print the comparison")
    b.add_argument("--resume", action="store_true",
                   help="keep the seeds already in --out that ran with the same Config and --steps "
                        "(e.g. after Ctrl-C); run only the others")
    b.add_argument("--set", type=_setting, action="append", default=[], metavar="FIELD=V1,V2", dest="sets",
                   help="try these values of a Config field (Python literals, e.g. lr=1e-3,3e-3 or "
                        "hidden_sizes=(32, 32),(64, 64)); several --set run every combination, each "
                        "setting written to OUT/ALGO-FIELD=V.json")
    b.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run the tasks in parallel on Ray (optional extra: pip install rlnotes[scale]): "
                        "alone, on this machine's cores; with `auto` or a HOST:PORT, on that running cluster")
    return p


def main(argv=None):
    from .bench import ALGOS, BenchFailed, _algo, bench, eval_seed
    from .rollout import evaluate

    args = _parser().parse_args(argv)
    if args.command == "train":
        module, default_env, threshold = _algo(args.algo)
        env_id = args.env or default_env
        if args.save:                                  # fail now, not after the training
            problem = _save_problem(module, args.save)
            if problem:
                print(problem, file=sys.stderr)
                return 2
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
        if args.save:
            from .saving import save

            save(result, args.save)
            print(f"saved to {args.save}: evaluate it with `python -m rlnotes evaluate {args.save}`, "
                  f"load it with rlnotes.load({args.save!r})")
        return 0
    if args.command == "evaluate":
        return _evaluate_command(args)
    if args.command == "bench":
        if args.all and args.algos:
            print("give either --all or algorithm names, not both", file=sys.stderr)
            return 2
        if args.ray in ALGOS:                          # `bench --ray ppo`: ppo is an algorithm, not an address
            args.algos, args.ray = [args.ray, *(args.algos or [])], "local"
        if args.ray not in (None, "local", "auto") and ":" not in args.ray:
            print(f"--ray {args.ray}: give a cluster's address HOST:PORT (as `ray start --head` prints it), "
                  f"`auto`, or nothing for this machine's cores", file=sys.stderr)
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
        grid = {}
        for field, values in args.sets:
            if field in grid:
                print(f"--set {field}=... is given twice; put all its values in one: --set {field}=V1,V2",
                      file=sys.stderr)
                return 2
            grid[field] = values
        seeds = args.seeds if args.seeds is not None else list(range(args.n_seeds or 5))
        try:
            bench(algos, seeds=seeds, steps=args.steps, out=args.out, progress=not args.no_progress,
                  peers=args.peers, resume=args.resume, grid=grid, ray=args.ray)
        except BenchFailed as err:                     # each failure was reported as it happened
            print(f"finished with {len(err.failures)} failed algorithm(s): {', '.join(err.failures)}; "
                  f"the others' results are in {args.out}/", file=sys.stderr)
            return 1
        except ValueError as err:                      # a --set the Config refuses, --peers with --ray
            print(f"error: {err}", file=sys.stderr)
            return 2
        except ImportError as err:
            if not (args.peers or args.ray is not None):
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
