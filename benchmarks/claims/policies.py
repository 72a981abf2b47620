"""The claims of the chapter 'Policies', recomputed over seeds.

Each experiment below computes, for one seed, the statistics that asserts of book/policies.ipynb
check for the chapter's own seed. This script recomputes them for a list of seeds, in whatever
numerical setting the process runs (for example the combined variant ATEN_CPU_CAPABILITY=default
MKL_CBWR=COMPATIBLE RLNOTES_TORCH_THREADS=2; add OMP_WAIT_POLICY=PASSIVE on a busy machine,
which changes no number), prints one line per seed and stores the values, with their minimum and
maximum, under the name of the setting in benchmarks/claims/policies.json. The chapter's margins
are set from that file: its table `claims` lists every assert the experiments measure, with the
threshold and the smallest and largest recorded value over all seeds and settings.
`--summary-only` recomputes that table without measuring; the exit status is 1 if a recorded
value fails an assert.

    python benchmarks/claims/policies.py --seeds 0-19
    python benchmarks/claims/policies.py --summary-only
    python benchmarks/claims/policies.py --experiments behaviour_cloning --seeds 0-4
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import torch

CHAPTER = "book/policies.ipynb"
OUT = pathlib.Path(__file__).with_suffix(".json")
VARIANT_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "RLNOTES_TORCH_THREADS")


# --------------------------------------------------------------------------------------------
# cells 38 and 40: a Pendulum policy fitted by maximum likelihood to a ≈ -2 sin(angle) + N(0, 0.3²)
# (seed: the initialisation, the 2048 states and the noise)
# --------------------------------------------------------------------------------------------
def behaviour_cloning(seed):
    import gymnasium as gym

    import rlnotes
    from rlnotes.policies import make_policy

    rng = rlnotes.seed_everything(seed)
    pendulum = gym.make("Pendulum-v1")
    pend_policy = make_policy(pendulum.observation_space, pendulum.action_space)
    n = 2048
    angle, velocity = rng.uniform(-np.pi, np.pi, n), rng.uniform(-8, 8, n)
    states = torch.as_tensor(np.stack([np.cos(angle), np.sin(angle), velocity], axis=1), dtype=torch.float32)
    targets = torch.as_tensor((-2 * np.sin(angle) + 0.3 * rng.standard_normal(n))[:, None], dtype=torch.float32)
    with torch.no_grad():
        mu_before = pend_policy.mean_net(states).abs().max().item()
    optimizer = torch.optim.Adam(pend_policy.parameters(), lr=1e-2)
    for _ in range(300):
        loss = -pend_policy.log_prob(states, targets).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    sigma_fit = pend_policy.log_std.exp().item()
    errors = []
    for th in (-np.pi / 2, 0.0, 3 * np.pi / 4):                     # the three states of cell 40
        o = torch.tensor([np.cos(th), np.sin(th), 0.0], dtype=torch.float32)
        with torch.no_grad():
            errors.append(abs(pend_policy.mean_net(o).item() - (-2 * np.sin(th))))
    return {"mu_before_max": mu_before,                  # < 0.5
            "sigma_fit": sigma_fit,                      # |. - 0.3| < margin
            "mean_error_max": max(errors)}               # < margin


# --------------------------------------------------------------------------------------------
# cell 38, first assert: the mean of an untrained Pendulum policy on the 2048 states
# --------------------------------------------------------------------------------------------
def untrained_pendulum(seed):
    import gymnasium as gym

    import rlnotes
    from rlnotes.policies import make_policy

    rng = rlnotes.seed_everything(seed)
    pend_policy = make_policy(gym.make("Pendulum-v1").observation_space, gym.make("Pendulum-v1").action_space)
    angle, velocity = rng.uniform(-np.pi, np.pi, 2048), rng.uniform(-8, 8, 2048)
    states = torch.as_tensor(np.stack([np.cos(angle), np.sin(angle), velocity], axis=1), dtype=torch.float32)
    with torch.no_grad():
        return {"mu_before_max": pend_policy.mean_net(states).abs().max().item()}     # < 1


# --------------------------------------------------------------------------------------------
# cell 42: 200 CartPole episodes of an untrained CategoricalPolicy and of the uniform policy
# --------------------------------------------------------------------------------------------
def untrained_cartpole(seed):
    import gymnasium as gym

    import rlnotes
    from rlnotes.policies import make_policy
    from rlnotes.rollout import collect_episodes

    cartpole = gym.make("CartPole-v1")
    rlnotes.seed_everything(seed)
    untrained = make_policy(cartpole.observation_space, cartpole.action_space)
    uniform = make_policy(cartpole.observation_space, cartpole.action_space)
    with torch.no_grad():
        uniform.logits_net[-1].weight.zero_()
        uniform.logits_net[-1].bias.zero_()
    b_untrained = collect_episodes(untrained, "CartPole-v1", n_episodes=200, seed=3000 * seed)
    b_uniform = collect_episodes(uniform, "CartPole-v1", n_episodes=200, seed=3000 * seed + 1000)
    with torch.no_grad():
        p_left = untrained.distribution(b_untrained.flat_obs).probs[:, 0].numpy()
    return {"mean_untrained": float(b_untrained.returns.mean()),      # in (15, 30)
            "mean_uniform": float(b_uniform.returns.mean()),          # in (15, 30)
            "p_left_max_deviation": float(np.abs(p_left - 0.5).max())}   # < 0.25


# --------------------------------------------------------------------------------------------
# cell 44: ten sampled episodes of the untrained policy from the same start state
# --------------------------------------------------------------------------------------------
def distinct_episodes(seed):
    import gymnasium as gym

    import rlnotes
    from rlnotes.policies import make_policy

    cartpole = gym.make("CartPole-v1")
    rlnotes.seed_everything(seed)
    untrained = make_policy(cartpole.observation_space, cartpole.action_space)

    def episode_actions(deterministic):
        env = gym.make("CartPole-v1")
        obs, _ = env.reset(seed=0)
        actions = []
        while True:
            a = int(untrained.act(obs, deterministic=deterministic))
            actions.append(a)
            obs, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                return tuple(actions)

    greedy = {episode_actions(True) for _ in range(10)}
    sampled = {episode_actions(False) for _ in range(10)}
    return {"greedy_distinct": len(greedy), "sampled_distinct": len(sampled)}   # 1 and >= 8


EXPERIMENTS = {"untrained_pendulum": untrained_pendulum, "behaviour_cloning": behaviour_cloning,
               "untrained_cartpole": untrained_cartpole, "distinct_episodes": distinct_episodes}
GROUPS = {}
DERIVED = {"sigma_deviation": lambda r: abs(r["sigma_fit"] - 0.3)}
# the chapter's asserts: the statistic of an experiment's rows
CLAIMS = {
    "untrained_mean_small": dict(experiment="untrained_pendulum", statistic="mu_before_max", op="<",
                                 threshold=1.0, cell="0d9e7e65", assert_="mu_before.abs().max() < 1.0"),
    "sigma_recovered": dict(experiment="behaviour_cloning", statistic="sigma_deviation", op="<",
                            threshold=0.03, cell="0d9e7e65", assert_="abs(sigma_fit - 0.3) < 0.03"),
    "means_follow_rule": dict(experiment="behaviour_cloning", statistic="mean_error_max", op="<",
                              threshold=0.25, cell="817058db", assert_="abs(mu_s - (-2 * np.sin(th))) < 0.25"),
    "untrained_return_low": dict(experiment="untrained_cartpole", statistic="mean_untrained", op=">",
                                 threshold=15, cell="105fc78e", assert_="15 < mean (untrained)"),
    "untrained_return_high": dict(experiment="untrained_cartpole", statistic="mean_untrained", op="<",
                                  threshold=30, cell="105fc78e", assert_="mean < 30 (untrained)"),
    "uniform_return_low": dict(experiment="untrained_cartpole", statistic="mean_uniform", op=">",
                               threshold=15, cell="105fc78e", assert_="15 < mean (uniform)"),
    "uniform_return_high": dict(experiment="untrained_cartpole", statistic="mean_uniform", op="<",
                                threshold=30, cell="105fc78e", assert_="mean < 30 (uniform)"),
    "near_one_half": dict(experiment="untrained_cartpole", statistic="p_left_max_deviation", op="<",
                          threshold=0.25, cell="105fc78e", assert_="np.abs(p_left - 0.5).max() < 0.25"),
    "greedy_repeats": dict(experiment="distinct_episodes", statistic="greedy_distinct", op="==", threshold=1,
                           cell="42423371", assert_="len(set(greedy)) == 1"),
    "sampled_differ": dict(experiment="distinct_episodes", statistic="sampled_distinct", op=">=", threshold=8,
                           cell="42423371", assert_="len(set(sampled)) >= 8"),
}


if __name__ == "__main__":
    import recording  # beside this script

    sys.exit(recording.main(sys.modules[__name__]))
