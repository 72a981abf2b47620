r"""Peers: the same benchmark run with Stable-Baselines3 {cite}`raffin2021sb3`, for a side-by-side comparison.

``python -m rlnotes bench ppo --peers`` trains our agent and the peer on the same seeds, in the
same process (one torch thread each), interleaving the seeds (ours, peer, ours, peer, ...) so
that a change in the machine's load affects both sides alike; it prints both tables and the
ratio of median training wall times (ours / peer).

Stable-Baselines3 is an optional extra, never a core dependency of rlnotes:
``pip install -e .[peers]`` (it pins ``stable-baselines3==2.9.2``).

The peers use the tuned hyperparameters of rl-baselines3-zoo (quoted below with the file they
come from), SB3's ``make_vec_env`` (``DummyVecEnv`` with ``Monitor``) and SB3's own defaults
for everything the zoo does not set. Only ``model.learn`` is timed (like our training loop,
building the networks included; SB3 builds them in the constructor, which is not timed — a
few milliseconds). Evaluation is the same as ours: :func:`rlnotes.evaluate` on 10 episodes,
episode $k$ of training seed $s$ with environment seed $1000 + 10 s + k$
(:func:`rlnotes.bench.eval_seed`), greedy actions (``model.predict(obs, deterministic=True)``).

Each peer seed row also keeps every training episode (``history``, from SB3's ``Monitor``) so
that the appendix can compare the time to threshold of both sides
(:func:`rlnotes.bench.threshold_summary`). Two differences from our histories: a peer's
environment step is approximate (the copies step in lock-step, so a copy's $k$-th step is
counted as step $k \cdot$ ``n_envs``), and its clock (``Monitor``'s) starts when the
environments are created, just before the SB3 model is built, so it also counts building
the model (milliseconds).
"""
from __future__ import annotations

import time

import numpy as np

__all__ = ["PEERS", "INSTALL_HINT", "SB3_DEFAULT_NET_ARCH", "sb3_available", "require_sb3", "run_peer",
           "SB3Agent", "format_comparison"]

#: The message shown when ``--peers`` is asked for and Stable-Baselines3 is missing.
INSTALL_HINT = ("Stable-Baselines3 is not installed; the --peers comparison needs it. Install the "
                "optional extra with: pip install -e .[peers]   (stable-baselines3==2.9.2)")


def _lin(x):
    """rl-baselines3-zoo's ``lin_<x>``: a value decreasing linearly from x to 0 over training."""
    return ("lin", float(x))


#: our algorithm name (a key of :data:`rlnotes.tasks.ALGOS`) -> the SB3 run it is compared with.
#: ``hyperparams`` are passed to the SB3 class; ``_lin(x)`` becomes SB3's linear schedule.
PEERS = {
    # rl-baselines3-zoo, hyperparams/ppo.yml (commit 208b6fd), "# Tuned  CartPole-v1":
    #   n_envs: 8, n_timesteps: 1e5, policy: 'MlpPolicy', n_steps: 32, batch_size: 256,
    #   gae_lambda: 0.8, gamma: 0.98, n_epochs: 20, ent_coef: 0.0, learning_rate: lin_0.001,
    #   clip_range: lin_0.2
    "ppo": {
        "sb3_class": "PPO", "env_id": "CartPole-v1", "n_envs": 8, "total_timesteps": 100_000,
        "policy": "MlpPolicy",
        "hyperparams": {"n_steps": 32, "batch_size": 256, "gae_lambda": 0.8, "gamma": 0.98,
                        "n_epochs": 20, "ent_coef": 0.0, "learning_rate": _lin(0.001),
                        "clip_range": _lin(0.2)},
        "source": "rl-baselines3-zoo hyperparams/ppo.yml, CartPole-v1",
    },
    # rl-baselines3-zoo, hyperparams/ppo.yml (commit 208b6fd), "# Tuned  Pendulum-v1":
    #   n_envs: 4, n_timesteps: 1e5, policy: 'MlpPolicy', n_steps: 1024, gae_lambda: 0.95,
    #   gamma: 0.9, n_epochs: 10, ent_coef: 0.0, learning_rate: 1e-3, clip_range: 0.2,
    #   use_sde: True, sde_sample_freq: 4
    "ppo-pendulum": {
        "sb3_class": "PPO", "env_id": "Pendulum-v1", "n_envs": 4, "total_timesteps": 100_000,
        "policy": "MlpPolicy",
        "hyperparams": {"n_steps": 1024, "gae_lambda": 0.95, "gamma": 0.9, "n_epochs": 10,
                        "ent_coef": 0.0, "learning_rate": 1e-3, "clip_range": 0.2,
                        "use_sde": True, "sde_sample_freq": 4},
        "source": "rl-baselines3-zoo hyperparams/ppo.yml, Pendulum-v1",
    },
    # rl-baselines3-zoo, hyperparams/dqn.yml (commit ce95481), "# Almost Tuned  CartPole-v1":
    #   n_timesteps: 5e4, policy: 'MlpPolicy', learning_rate: 2.3e-3, batch_size: 64,
    #   buffer_size: 100000, learning_starts: 1000, gamma: 0.99, target_update_interval: 10,
    #   train_freq: 256, gradient_steps: 128, exploration_fraction: 0.16,
    #   exploration_final_eps: 0.04, policy_kwargs: "dict(net_arch=[256, 256])"
    #   (no n_envs key: the zoo's default, 1 env)
    "dqn": {
        "sb3_class": "DQN", "env_id": "CartPole-v1", "n_envs": 1, "total_timesteps": 50_000,
        "policy": "MlpPolicy",
        "hyperparams": {"learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000,
                        "learning_starts": 1000, "gamma": 0.99, "target_update_interval": 10,
                        "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
                        "exploration_final_eps": 0.04,
                        "policy_kwargs": {"net_arch": [256, 256]}},
        "source": "rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1",
    },
    # rl-baselines3-zoo, hyperparams/a2c.yml (commit 02846e4), CartPole-v1:
    #   n_envs: 8, n_timesteps: !!float 5e5, policy: 'MlpPolicy', ent_coef: 0.0
    #   (everything else SB3's A2C defaults: RMSprop, lr 7e-4, n_steps 5, gamma 0.99)
    "a2c": {
        "sb3_class": "A2C", "env_id": "CartPole-v1", "n_envs": 8, "total_timesteps": 500_000,
        "policy": "MlpPolicy", "hyperparams": {"ent_coef": 0.0},
        "source": "rl-baselines3-zoo hyperparams/a2c.yml, CartPole-v1",
    },
    # rl-baselines3-zoo, hyperparams/ddpg.yml, Pendulum-v1 (recent zoo, as quoted in issue 7):
    #   n_timesteps: 20000, policy: 'MlpPolicy', gamma: 0.98, buffer_size: 200000,
    #   learning_starts: 10000, noise_type: 'normal', noise_std: 0.1, gradient_steps: 1,
    #   train_freq: 1, learning_rate: !!float 1e-3, policy_kwargs: "dict(net_arch=[400, 300])"
    #   (the copy we could read, commit 1159e28, is the older "# Tuned" Pendulum-v0 entry: the
    #   same values except gradient_steps: -1, train_freq: [1, "episode"], i.e. as many gradient
    #   steps as env steps, done at each episode's end instead of after each step)
    # "noise_std" is the zoo's noise_type 'normal': NormalActionNoise(0, noise_std) per action dim.
    "ddpg": {
        "sb3_class": "DDPG", "env_id": "Pendulum-v1", "n_envs": 1, "total_timesteps": 20_000,
        "policy": "MlpPolicy", "noise_std": 0.1,
        "hyperparams": {"gamma": 0.98, "buffer_size": 200_000, "learning_starts": 10_000,
                        "gradient_steps": 1, "train_freq": 1, "learning_rate": 1e-3,
                        "policy_kwargs": {"net_arch": [400, 300]}},
        "source": "rl-baselines3-zoo hyperparams/ddpg.yml, Pendulum-v1",
    },
}


#: SB3's hidden layers when ``policy_kwargs`` sets no ``net_arch`` (MLP policies, SB3 2.x):
#: ``ActorCriticPolicy`` (PPO, A2C) builds separate policy (pi) and value (vf) networks of
#: (64, 64), tanh; DQN's ``QNetwork`` (64, 64), ReLU; DDPG's and TD3's actor and critic
#: (400, 300), ReLU. Used to describe the peers' networks in the appendix
#: (:func:`rlnotes.bench.network_sizes`).
SB3_DEFAULT_NET_ARCH = {
    "PPO": {"pi": [64, 64], "vf": [64, 64]},
    "A2C": {"pi": [64, 64], "vf": [64, 64]},
    "DQN": [64, 64],
    "DDPG": [400, 300],
    "TD3": [400, 300],
}


def sb3_available():
    """True if ``stable_baselines3`` can be imported."""
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        return False
    return True


def require_sb3():
    """Import and return ``stable_baselines3``, or raise ImportError with :data:`INSTALL_HINT`."""
    try:
        import stable_baselines3
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err
    return stable_baselines3


class SB3Agent:
    """Adapter so :func:`rlnotes.evaluate` can play an SB3 model: ``act`` calls ``model.predict``."""

    def __init__(self, model):
        self.model = model

    def act(self, obs, deterministic=False):
        action, _ = self.model.predict(obs, deterministic=deterministic)
        return action


def _schedule(value):
    if isinstance(value, tuple) and value and value[0] == "lin":
        start = value[1]
        return lambda progress_remaining: progress_remaining * start   # 1 -> 0 over training
    return value


def _history(vec_env, n_envs):
    """(env_step, return, wall) per finished episode from the Monitor wrappers (steps approximate:
    copies step in lock-step, so a copy's k-th step is the (k · n_envs)-th step overall)."""
    rows = []
    for env in vec_env.envs:
        lengths = np.cumsum(env.get_episode_lengths())
        for steps, ret, wall in zip(lengths, env.get_episode_rewards(), env.get_episode_times()):
            rows.append((int(steps) * n_envs, float(ret), float(wall)))
    rows.sort(key=lambda r: (r[0], r[2]))
    return rows


def run_peer(algo, seed, steps=None):
    """Train the SB3 peer of ``algo`` on one seed and evaluate it; return a row like ``bench.run_seed``.

    steps: overrides the peer's ``total_timesteps`` (for quick checks; the comparison uses the
    zoo's). torch uses one thread (as ours). Only ``model.learn`` is timed.
    """
    import torch

    from .rollout import evaluate
    from .tasks import ALGOS, EVAL_EPISODES, eval_seed

    if algo not in PEERS:
        raise ValueError(f"no peer for {algo!r}; peers exist for: {', '.join(PEERS)}")
    sb3 = require_sb3()
    from stable_baselines3.common.env_util import make_vec_env

    spec = PEERS[algo]
    threshold = ALGOS[algo][2] if algo in ALGOS else None
    torch.set_num_threads(1)
    cls = getattr(sb3, spec["sb3_class"])
    env = make_vec_env(spec["env_id"], n_envs=spec["n_envs"], seed=int(seed))
    kwargs = {k: _schedule(v) for k, v in spec["hyperparams"].items()}
    if "noise_std" in spec:                        # the zoo's noise_type 'normal', noise_std σ
        from stable_baselines3.common.noise import NormalActionNoise
        n_act = env.action_space.shape[-1]
        kwargs["action_noise"] = NormalActionNoise(mean=np.zeros(n_act),
                                                   sigma=spec["noise_std"] * np.ones(n_act))
    model = cls(spec["policy"], env, seed=int(seed), device="cpu", verbose=0, **kwargs)
    start = time.perf_counter()
    total = spec["total_timesteps"] if steps is None else int(steps)
    model.learn(total_timesteps=total, progress_bar=False)
    wall = time.perf_counter() - start
    history = _history(env, spec["n_envs"])
    env.close()
    returns = evaluate(SB3Agent(model), spec["env_id"], n_episodes=EVAL_EPISODES,
                       seed=eval_seed(seed))
    steps = int(model.num_timesteps)
    return {
        "seed": int(seed),
        "env_steps": steps,
        "wall_seconds": float(wall),
        "steps_per_second": steps / wall if wall > 0 else None,
        "eval_returns": [float(r) for r in returns],
        "eval_mean": float(np.mean(returns)),
        "eval_std": float(np.std(returns)),
        "solved": bool(threshold is not None and np.mean(returns) >= threshold),
        "training_episodes": len(history),
        "stats": {"sb3_version": sb3.__version__},
        "history": [[s, r, round(w, 3)] for s, r, w in history],
        "config": {"sb3_class": spec["sb3_class"], "policy": spec["policy"],
                   "n_envs": spec["n_envs"], "total_timesteps": total,
                   "source": spec["source"],
                   **({"noise_type": "normal", "noise_std": spec["noise_std"]}
                      if "noise_std" in spec else {}),
                   **{k: (f"lin_{v[1]:g}" if isinstance(v, tuple) else v)
                      for k, v in spec["hyperparams"].items()}},
    }


def format_comparison(algo, ours, peer):
    """The summary lines printed by ``bench --peers``: solved counts and median wall-time ratio."""
    w_ours = float(np.median([r["wall_seconds"] for r in ours]))
    w_peer = float(np.median([r["wall_seconds"] for r in peer]))
    s_ours, s_peer = sum(r["solved"] for r in ours), sum(r["solved"] for r in peer)
    spec = PEERS[algo]
    return "\n".join([
        f"{algo} vs SB3 {spec['sb3_class']} ({spec['source']}, {spec['n_envs']} envs, "
        f"{spec['total_timesteps']} steps), same session, one torch thread each:",
        f"  solved: rlnotes {s_ours}/{len(ours)}, SB3 {s_peer}/{len(peer)}",
        f"  median training wall: rlnotes {w_ours:.1f} s, SB3 {w_peer:.1f} s; "
        f"ratio (ours / SB3) = {w_ours / w_peer:.2f}",
        f"  median env steps: rlnotes {np.median([r['env_steps'] for r in ours]):.0f}, "
        f"SB3 {np.median([r['env_steps'] for r in peer]):.0f}",
    ])
