"""The DDPG chapter's training claims, measured for one seed (see run.py).

For one seed: DDPG and TD3 trained for the chapter's budget, each evaluated greedily on the
benchmark's episodes, and the mean return of their training episodes; for the DDPG agent, the
swing-up from hanging down, the critic's map over (angle, velocity) and the actor's check against a brute-force maximum of the critic; for both,
the critic's bias at the start state. Every statistic is computed as the chapter computes it.
"""
import math

import gymnasium as gym
import numpy as np

import rlnotes
from rlnotes import bench
from rlnotes.algos import ddpg

BUDGET = 8_000      # the chapter's budget

CLAIMS = {
    "ddpg_eval": {"threshold": -250.0, "assert": "DDPG greedy evaluation, per seed (recorded, not asserted)"},
    "ddpg_mean": {"op": ">", "over": 3, "threshold": -350.0,
                  "assert": "mean DDPG greedy evaluation over 3 seeds"},
    # the swing-up and the maps use the best of the 3 seeds' DDPG agents (by greedy evaluation)
    "swing_angle": {"op": "<", "over": 3, "threshold": 0.5,
                    "assert": "|final angle| of the swing-up from hanging down (rad)"},
    "swing_velocity": {"op": "<", "over": 3, "threshold": 0.5,
                       "assert": "|final angular velocity| of the swing-up (rad/s)"},
    "rel_gap": {"op": "<", "over": 3, "threshold": 0.01,
                "assert": "mean brute-force max of Q minus Q(s, μ(s)), relative to |Q|"},
    "q_upright_minus_down": {"op": ">", "over": 3, "threshold": 0.5,
                             "assert": "mean Q(s, μ(s)) upright and slow minus hanging down and slow, "
                                       "in units of the mean |Q| over the grid"},
    "push_ok": {"op": ">=", "over": 3, "threshold": 1.0,
                "assert": "near upright the torque pushes back (1 = yes)"},
    "td3_eval": {"threshold": -600.0, "assert": "TD3 greedy evaluation, per seed (recorded, not asserted)"},
    "td3_mean": {"op": ">", "over": 3, "threshold": -749.5,
                 "assert": "mean TD3 greedy evaluation over 3 seeds (the chapter: > 0.6 × random = −749.5)"},
    "ddpg_minus_td3": {"over": 3, "threshold": 0.0,
                       "assert": "mean DDPG − mean TD3 greedy evaluation over 3 seeds (recorded, not asserted)"},
    "train_ddpg_minus_td3": {"op": ">", "over": 3, "threshold": 0.0,
                             "assert": "mean over 3 seeds of DDPG's minus TD3's mean training-episode return "
                                       "over the run (TD3 learns more slowly)"},
    "bias_ddpg": {"op": ">", "threshold": 0.0, "assert": "DDPG critic bias Q(s0, μ(s0)) − discounted return"},
    "bias_td3": {"op": ">", "threshold": 0.0, "assert": "TD3 critic bias Q(s0, μ(s0)) − discounted return"},
}


def aggregate(name, rows):
    """The chapter's statistic over several seeds' measurements (one dict per seed): a mean
    over seeds, or the statistic of the DDPG agent the chapter picks (the first with the
    highest greedy evaluation)."""
    if name in ("ddpg_minus_td3", "train_ddpg_minus_td3"):
        return float(np.mean([r[name] for r in rows]))
    if name == "td3_mean":
        return float(np.mean([r["td3_eval"] for r in rows]))
    if name == "ddpg_mean":
        return float(np.mean([r["ddpg_eval"] for r in rows]))
    best = max(rows, key=lambda r: r["ddpg_eval"])
    return best[name]


def swing_up(agent, start_angle=math.pi - 0.1):
    env = gym.make("Pendulum-v1")
    env.reset(seed=0)
    env.unwrapped.state = np.array([start_angle, 0.0])
    obs = np.array([math.cos(start_angle), math.sin(start_angle), 0.0], np.float32)
    for _ in range(200):
        obs, *_ = env.step(agent.act(obs, deterministic=True))
    env.close()
    return abs(math.atan2(obs[1], obs[0])), abs(float(obs[2]))


def q_map(agent):
    angles = np.linspace(-math.pi, math.pi, 121)
    velocities = np.linspace(-8, 8, 101)
    TH, THD = np.meshgrid(angles, velocities)
    grid_obs = np.stack([np.cos(TH), np.sin(TH), THD], axis=-1).reshape(-1, 3).astype(np.float32)
    q_grid = agent.q_value(grid_obs, agent.act(grid_obs, deterministic=True)).reshape(TH.shape)
    sub = grid_obs[::7]
    torques = np.linspace(-2, 2, 201, dtype=np.float32)
    q_all = np.stack([agent.q_value(sub, np.full((len(sub), 1), u)) for u in torques], axis=1)
    q_actor = agent.q_value(sub, agent.act(sub, deterministic=True))
    rel_gap = (q_all.max(axis=1) - q_actor).mean() / np.abs(q_all.max(axis=1)).mean()
    upright = (np.abs(TH) < 0.5) & (np.abs(THD) < 2.0)
    down = (np.abs(TH) > math.pi - 0.5) & (np.abs(THD) < 2.0)
    contrast = (q_grid[upright].mean() - q_grid[down].mean()) / np.abs(q_grid).mean()
    near = np.array([[math.cos(0.3), math.sin(0.3), 0.0], [math.cos(-0.3), math.sin(-0.3), 0.0]], np.float32)
    push = agent.act(near, deterministic=True)[:, 0]
    return float(rel_gap), float(contrast), float(push[0] < 0 < push[1])


def value_bias(agent, gamma, n_episodes=10, seed=500):
    env = gym.make("Pendulum-v1")
    errors = []
    for k in range(n_episodes):
        obs, _ = env.reset(seed=seed + k)
        s0, discounted, discount = obs, 0.0, 1.0
        for _ in range(200):
            obs, reward, *_ = env.step(agent.act(obs, deterministic=True))
            discounted += discount * reward
            discount *= gamma
        errors.append(agent.q_value(s0[None], agent.act(s0[None], deterministic=True))[0] - discounted)
    env.close()
    return float(np.mean(errors))


def measure(seed):
    rlnotes.seed_everything(0)
    config = ddpg.Config()
    td3_config = ddpg.Config(twin_critics=True, policy_delay=2, target_noise=0.2)
    runs = {name: ddpg.train("Pendulum-v1", c, seed=seed, total_steps=BUDGET, progress=False)
            for name, c in (("ddpg", config), ("td3", td3_config))}
    ev = {name: float(np.mean(rlnotes.evaluate(r.agent, "Pendulum-v1", n_episodes=10,
                                                seed=bench.eval_seed(seed))))
          for name, r in runs.items()}
    agent = runs["ddpg"].agent
    angle, velocity = swing_up(agent)
    rel_gap, contrast, push_ok = q_map(agent)
    train_mean = {name: float(r.returns.mean()) for name, r in runs.items()}      # all training episodes
    return {"ddpg_eval": ev["ddpg"], "td3_eval": ev["td3"], "ddpg_minus_td3": ev["ddpg"] - ev["td3"],
            "train_ddpg_minus_td3": train_mean["ddpg"] - train_mean["td3"],
            "swing_angle": angle, "swing_velocity": velocity, "rel_gap": rel_gap,
            "q_upright_minus_down": contrast, "push_ok": push_ok,
            "bias_ddpg": value_bias(agent, config.gamma),
            "bias_td3": value_bias(runs["td3"].agent, config.gamma)}
