"""The PPO chapter's training claims, measured for one seed (see run.py).

Each statistic is computed exactly as the chapter computes it, for the runs of one seed:
the default Config on CartPole-v1 (clip and KL-penalty objectives), the truncation
measurement with that seed's agent, and the short Pendulum-v1 run.
"""
import numpy as np
import torch

import rlnotes
from rlnotes import bench, evaluate
from rlnotes.algos import ppo
from rlnotes.returns import gae, reward_to_go
from rlnotes.rollout import collect_episodes, make_vec_env

PEND_STEPS = 50_000     # the chapter's Pendulum budget

CLAIMS = {
    "clip_eval": {"assert": "greedy evaluation of the default Config (CartPole), per seed",
                  "threshold": 475.0},
    "mean_eval": {"op": ">=", "over": 3, "threshold": 350.0,
                  "assert": "mean greedy evaluation of 3 seeds' default runs"},
    "n_solved": {"op": ">=", "over": 3, "threshold": 1,
                 "assert": "of 3 seeds, how many greedy evaluations reach 475"},
    "learn_ratio": {"op": ">", "threshold": 4.0,
                    "assert": "last 20 / first 20 training returns, clip and KL runs (min of the two)"},
    "kl_final_beta": {"op": "<", "threshold": 0.1, "assert": "final β of the KL run (< β_0 / 10)"},
    # the truncation measurement uses the best of the 3 seeds' agents (highest greedy evaluation)
    "cut": {"op": ">=", "over": 3, "threshold": 16,
            "assert": "of 32 sampled 1500-step episodes, number longer than 500"},
    "wrong_end_frac": {"op": "<", "over": 3, "threshold": 0.3,
                       "assert": "terminal-flagged target / reference over the last 10 steps"},
    "gap_growth": {"op": "<", "over": 3, "threshold": 10.0,
                   "assert": "|gap over last 50| − |gap over first 50| (bootstrapped vs reference)"},
    "adv_wrong_end": {"op": "<", "over": 3, "threshold": -20.0,
                      "assert": "mean terminal-flagged advantage over the last 10 steps"},
    "adv_boot_end": {"op": "<", "over": 3, "threshold": 5.0,
                     "assert": "|mean bootstrapped advantage over the last 10 steps|"},
    "boot_below_ref": {"over": 3, "threshold": 1.0,
                       "assert": "fraction of steps where the bootstrapped target < the reference"},
    "pend_gain": {"op": ">", "threshold": 400.0, "assert": "Pendulum: last 16 − first 16 training returns"},
    "pend_eval": {"op": ">", "threshold": -600.0, "assert": "Pendulum: greedy evaluation mean"},
    # the swing-up is shown for the better of 2 seeds' agents (by greedy evaluation)
    "pend_angle_last50": {"op": "<", "over": 2, "threshold": 40.0,
                          "assert": "Pendulum: largest angle from upright over the last 50 steps (deg)"},
}


def aggregate(name, rows):
    """The chapter's statistic over several seeds' measurements (one dict per seed): the mean
    and count over seeds, or the statistic of the seed whose agent the chapter picks (the first
    with the highest greedy evaluation)."""
    if name == "mean_eval":
        return float(np.mean([r["clip_eval"] for r in rows]))
    if name == "n_solved":
        return sum(r["clip_eval"] >= 475.0 for r in rows)
    key = "pend_eval" if name.startswith("pend_") else "clip_eval"
    best = max(rows, key=lambda r: r[key])          # max keeps the first of equal values
    return best[name]


def truncation_stats(agent, config, limit=500):
    long_env = make_vec_env("CartPole-v1", n_envs=16, seed=3000, max_episode_steps=1500)
    long = collect_episodes(agent, long_env, n_episodes=32, seed=3000)
    cut = [k for k in range(long.n_episodes) if long.lengths[k] > limit]
    out = {"cut": len(cut)}
    if len(cut) < 2:
        return out

    def targets(k, as_terminal):
        obs = long.obs[k][: limit + 1]
        with torch.no_grad():
            v = agent.value(obs).numpy().astype(float)
        flags = np.zeros(limit)
        flags[-1] = 1.0
        term, trunc = (flags, 0 * flags) if as_terminal else (0 * flags, flags)
        adv = gae(long.rewards[k][:limit], v[:limit], v[1:], term, trunc, config.gamma, config.lam)
        return adv + v[:limit], adv

    reference = np.array([reward_to_go(long.rewards[k], config.gamma)[:limit] for k in cut])
    boot, adv_boot = map(np.array, zip(*[targets(k, False) for k in cut]))
    wrong, adv_wrong = map(np.array, zip(*[targets(k, True) for k in cut]))
    last, end = slice(limit - 50, limit), slice(limit - 10, limit)
    out.update(
        wrong_end_frac=float(wrong[:, end].mean() / reference[:, end].mean()),
        gap_growth=float(abs((boot - reference)[:, last].mean()) - abs((boot - reference)[:, :50].mean())),
        adv_wrong_end=float(adv_wrong[:, end].mean()),
        adv_boot_end=float(abs(adv_boot[:, end].mean())),
        boot_below_ref=float(np.mean(boot.mean(0) < reference.mean(0))),
    )
    return out


def pendulum_stats(seed):
    import gymnasium as gym
    config = ppo.Config.pendulum()
    r = ppo.train("Pendulum-v1", config, seed=seed, total_steps=PEND_STEPS, progress=False)
    ev = evaluate(r.agent, "Pendulum-v1", n_episodes=bench.EVAL_EPISODES, seed=bench.eval_seed(seed))
    eval_seeds = [bench.eval_seed(seed) + k for k in range(bench.EVAL_EPISODES)]
    env = gym.make("Pendulum-v1")
    start_cos = [env.reset(seed=es)[0][0] for es in eval_seeds]
    k = int(np.argmin(start_cos))
    o, _ = env.reset(seed=eval_seeds[k])
    angle = []
    for _ in range(200):
        o, *_ = env.step(np.clip(r.agent.act(o[None], deterministic=True)[0], -2.0, 2.0))
        angle.append(abs(np.degrees(np.arctan2(o[1], o[0]))))
    return {"pend_gain": float(r.returns[-16:].mean() - r.returns[:16].mean()),
            "pend_eval": float(ev.mean()), "pend_angle_last50": float(max(angle[-50:]))}


def measure(seed):
    rlnotes.seed_everything(0)
    config = ppo.Config()
    clip = ppo.train("CartPole-v1", config, seed=seed, progress=False)
    kl = ppo.train("CartPole-v1", ppo.Config(objective="kl"), seed=seed, progress=False)
    ev = evaluate(clip.agent, "CartPole-v1", n_episodes=bench.EVAL_EPISODES, seed=bench.eval_seed(seed))
    out = {"clip_eval": float(ev.mean()),
           "learn_ratio": float(min(r.returns[-20:].mean() / r.returns[:20].mean() for r in (clip, kl))),
           "kl_final_beta": float(kl.stats["final_beta"])}
    out.update(truncation_stats(clip.agent, config))
    out.update(pendulum_stats(seed))
    return out
