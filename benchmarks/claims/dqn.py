"""The DQN chapter's training claims, measured for one seed (see run.py).

For one seed: the chapter's short run (the benchmark's schedules, cut at 20 000 steps), its
greedy evaluation and its first training episodes, and, with that seed's agent, the two targets
of the last transition of an episode cut by the time limit. Computed as the chapter does.
"""
from dataclasses import asdict

import gymnasium as gym
import numpy as np
import torch

import rlnotes
from rlnotes import bench
from rlnotes.algos import dqn
from rlnotes.returns import dqn_targets

BUDGET = 20_000     # the chapter's budget

CLAIMS = {
    "first": {"op": "<", "threshold": 40.0, "assert": "mean return of the first 10 training episodes"},
    "greedy_over_first": {"op": ">", "threshold": 2.0,
                          "assert": "greedy evaluation / first 10 training episodes, every seed"},
    "mean_greedy_over_first": {"op": ">", "over": 3, "threshold": 3.0,
                               "assert": "mean greedy evaluation / mean of the first episodes, 3 seeds"},
    # the truncation targets use the best of the 3 seeds' agents (by greedy evaluation)
    "truncated_at": {"over": 3, "threshold": 500,
                     "assert": "time limit at which the best agent's episode is truncated (500, else 100)"},
    "right_rel_error": {"op": "<", "over": 3, "threshold": 0.25,
                        "assert": "|correct target − max_a Q(s_{T−1}, a)| / max_a Q(s_{T−1}, a)"},
    "wrong_over_q": {"op": "<", "over": 3, "threshold": 0.2,
                     "assert": "buggy target (the reward) / max_a Q(s_{T−1}, a)"},
}


def aggregate(name, rows):
    """The chapter's statistic over several seeds' measurements (one dict per seed)."""
    if name == "mean_greedy_over_first":
        return float(np.mean([r["greedy"] for r in rows]) / np.mean([r["first"] for r in rows]))
    best = max(rows, key=lambda r: r["greedy"])      # the first of the best
    return best[name]


def chapter_config():
    full = dqn.Config()
    frac = BUDGET / full.total_steps
    return dqn.Config(**{**asdict(full), "total_steps": BUDGET, "eps_fraction": full.eps_fraction / frac,
                         "lr_final": None if full.lr_final is None
                         else full.lr + (full.lr_final - full.lr) * frac, "eval_interval": None})


def truncation_targets(agent, gamma):
    for limit in (500, 100):
        env = gym.make("CartPole-v1", max_episode_steps=limit)
        for episode_seed in range(20):
            obs, _ = env.reset(seed=episode_seed)
            for t in range(limit):
                next_obs, reward, terminated, truncated, _ = env.step(agent.act(obs, deterministic=True))
                if terminated or truncated:
                    break
                obs = next_obs
            if truncated and not terminated:          # cut by the time limit, the pole still up
                with torch.no_grad():
                    q_before = agent.q_net(torch.as_tensor(obs)).max().item()
                r_t, s_T, term = (torch.as_tensor(np.asarray([x]), dtype=torch.float32)
                                  for x in (reward, next_obs, terminated))
                right = dqn_targets(agent.q_net, r_t, s_T, term, gamma).item()
                wrong = dqn_targets(agent.q_net, r_t, s_T, torch.ones(1), gamma).item()
                return {"truncated_at": limit, "right_rel_error": abs(right - q_before) / q_before,
                        "wrong_over_q": wrong / q_before}
    return {"truncated_at": 0}


def measure(seed):
    rlnotes.seed_everything(0)
    config = chapter_config()
    r = dqn.train("CartPole-v1", config, seed=seed, progress=False)
    greedy = float(rlnotes.evaluate(r.agent, "CartPole-v1", n_episodes=10, seed=bench.eval_seed(seed)).mean())
    first = float(r.returns[:10].mean())
    return {"greedy": greedy, "first": first, "greedy_over_first": greedy / first,
            **truncation_targets(r.agent, config.gamma)}
