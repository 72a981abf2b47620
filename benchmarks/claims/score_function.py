"""The claims of the chapter 'The score-function gradient estimator', recomputed over seeds.

Each experiment below computes, for one seed, the statistics that asserts of
book/score_function.ipynb check (the chapter runs one seed, or a group of seeds). This script
recomputes them for a list of seeds, in whatever numerical setting the process runs (for example
the combined variant ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE RLNOTES_TORCH_THREADS=2;
add OMP_WAIT_POLICY=PASSIVE on a busy machine, which changes no number), prints one line per
seed and stores the values, with their minimum and maximum, under the name of the setting in
benchmarks/claims/score_function.json. The chapter's margins are set from that file: its table
`claims` lists every assert the experiments measure, with the threshold and the smallest and
largest recorded value over all seeds and settings. `--summary-only` recomputes that table
without measuring; the exit status is 1 if a recorded value fails an assert.

    python benchmarks/claims/score_function.py --seeds 0-9              # every experiment
    python benchmarks/claims/score_function.py --summary-only
    python benchmarks/claims/score_function.py --experiments default_run --seeds 0-4
"""
from __future__ import annotations

import math
import pathlib
import sys

import numpy as np
import torch

CHAPTER = "book/score_function.ipynb"
OUT = pathlib.Path(__file__).with_suffix(".json")
VARIANT_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "RLNOTES_TORCH_THREADS")
f64 = torch.float64


# --------------------------------------------------------------------------------------------
# cell 8: gradient ascent on E[f] for a bump f, 30 steps of 64 samples (seed: the generator)
# --------------------------------------------------------------------------------------------
def bump(seed):
    from torch.distributions import Normal

    f_bump = lambda x: torch.exp(-(x - 3.0) ** 2 / 8.0)

    def expected_bump(mu, sigma=1.0):
        v = 4.0 + sigma ** 2
        return math.sqrt(4.0 / v) * math.exp(-(mu - 3.0) ** 2 / (2.0 * v))

    sigma, alpha, n, n_frames = 1.0, 2.5, 64, 30
    mu, mus, gen = -2.0, [-2.0], torch.Generator().manual_seed(seed)
    for _ in range(n_frames):
        x = mu + sigma * torch.randn(n, generator=gen, dtype=f64)
        mu_t = torch.tensor(mu, dtype=f64, requires_grad=True)
        g_hat, = torch.autograd.grad((f_bump(x) * Normal(mu_t, sigma).log_prob(x)).mean(), mu_t)
        mu = mu + alpha * g_hat.item()
        mus.append(mu)
    mus = np.array(mus)
    steps = np.diff(mus)
    return {"late_mean_mu": float(mus[-10:].mean()),                      # |. - 3| < margin
            "gain": expected_bump(mus[-1]) / expected_bump(mus[0]),       # > margin
            "smallest_step_left_of_0": float(steps[mus[:-1] < 0].min())}  # > 0: it slides right


# --------------------------------------------------------------------------------------------
# cell 30: plain REINFORCE, raw returns as weights, 30 Adam steps (lr 0.01) on ~2000 steps each;
# the chapter pools five seeds (GROUP), so the claims are statistics of groups of five runs
# --------------------------------------------------------------------------------------------
GROUP = 5


def pseudo_loss_run(seed):
    import rlnotes
    from rlnotes.algos import reinforce
    from rlnotes.estimators import pg_loss
    from rlnotes.policies import make_policy
    from rlnotes.rollout import collect_episodes, make_vec_env

    rlnotes.seed_everything(seed)
    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    policy = make_policy(env.single_observation_space, env.single_action_space)
    optimizer = torch.optim.Adam(policy.parameters(), lr=0.01)
    losses, avg_returns = [], []
    for iteration in range(30):
        batch = collect_episodes(policy, env, min_steps=2000, seed=seed if iteration == 0 else None)
        weights = reinforce.policy_weights(batch, gamma=1.0, reward_to_go_weights=False)
        logp = policy.log_prob(torch.as_tensor(batch.flat_obs), torch.as_tensor(batch.flat_actions))
        loss = pg_loss(logp, weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        avg_returns.append(batch.returns.mean())
    env.close()
    losses, avg_returns = np.array(losses), np.array(avg_returns)
    d_loss, d_return = np.diff(losses), np.diff(avg_returns)
    return {"improvement": float(avg_returns.max() / avg_returns[0]),          # best batch / first
            "changes": len(d_loss),
            "same_direction": int(np.sum(np.sign(d_loss) == np.sign(d_return))),
            "return_fell": int(np.sum(d_return < 0)),
            "loss_fell_with_it": int(np.sum((d_return < 0) & (d_loss < 0))),
            "corr": float(np.corrcoef(losses, avg_returns)[0, 1]),
            "argmax_loss_is_best": bool(np.argmax(losses) == np.argmax(avg_returns)),
            "collapsed": bool(avg_returns[-1] < 0.5 * avg_returns.max()),
            "losses": losses.round(3).tolist(), "avg_returns": avg_returns.round(2).tolist()}


def pseudo_loss_groups(rows):
    """The chapter's three statistics for consecutive groups of GROUP seeds."""
    groups = []
    for i in range(0, len(rows) - GROUP + 1, GROUP):
        g = rows[i:i + GROUP]
        groups.append({"seeds": [r["seed"] for r in g],
                       "same_direction": sum(r["same_direction"] for r in g) / sum(r["changes"] for r in g),
                       "loss_fell_when_return_fell": (sum(r["loss_fell_with_it"] for r in g)
                                                      / sum(r["return_fell"] for r in g)),
                       "mean_improvement": float(np.mean([r["improvement"] for r in g]))})
    return groups


# --------------------------------------------------------------------------------------------
# cells 35-38: REINFORCE with the default Config, evaluated as the benchmark does it
# --------------------------------------------------------------------------------------------
def default_run(seed):
    import gymnasium as gym

    from rlnotes import bench
    from rlnotes.algos import reinforce
    from rlnotes.rollout import evaluate

    result = reinforce.train("CartPole-v1", reinforce.Config(), seed=seed, progress=False)
    rets = result.returns
    window = 20
    smooth = np.convolve(rets, np.ones(window) / window, mode="valid")
    first = rets[:window].mean()
    eval_returns = evaluate(result.agent, "CartPole-v1", n_episodes=bench.EVAL_EPISODES,
                            seed=bench.eval_seed(seed))
    env = gym.make("CartPole-v1")                       # cell 38 replays evaluation episode 0
    obs, _ = env.reset(seed=bench.eval_seed(seed))
    replay = 0.0
    for _ in range(500):
        obs, reward, terminated, truncated, _ = env.step(int(result.agent.act(obs, deterministic=True)))
        replay += reward
        if terminated or truncated:
            break
    return {"first": float(first), "eval_mean": float(eval_returns.mean()),
            "eval_over_first": float(eval_returns.mean() / first),
            "smooth_max_over_first": float(smooth.max() / first),
            "replay_equals_eval_0": bool(replay == eval_returns[0]),
            "train_seconds": round(result.wall_time, 1)}


# --------------------------------------------------------------------------------------------
# cell 40: cosine between batch estimates and the exact gradient on the tiny MDP
# (seed: the sampling generator; the MDP and the policy are the chapter's)
# --------------------------------------------------------------------------------------------
def cosine(seed):
    import itertools

    import torch.nn.functional as F
    from torch.autograd.functional import jacobian

    S, A, T = 3, 2, 3
    rng = np.random.default_rng(0)
    P = torch.tensor(rng.dirichlet(np.ones(S), size=(S, A)))
    R = torch.tensor(rng.uniform(-1, 1, size=(S, A)).round(2))
    rho0 = torch.tensor([0.5, 0.3, 0.2], dtype=f64)
    taus = torch.tensor(list(itertools.product(range(S), range(A), repeat=T)))
    ts, ta = taus[:, 0::2], taus[:, 1::2]

    def exact_J(theta):
        log_P = torch.log(rho0[ts[:, 0]]) + torch.log_softmax(theta, -1)[ts, ta].sum(1)
        log_P = log_P + torch.log(P[ts[:, :-1], ta[:, :-1], ts[:, 1:]]).sum(1)
        return (log_P.exp() * R[ts, ta].sum(1)).sum()

    theta = torch.tensor(np.random.default_rng(0).normal(size=(S, A)))
    th = theta.clone().requires_grad_(True)
    exact, = torch.autograd.grad(exact_J(th), th)
    n, sample_rng = 40_000, np.random.default_rng(seed)
    pi = torch.softmax(theta, -1).numpy()
    s = sample_rng.choice(S, size=n, p=rho0.numpy())
    states, actions = np.zeros((n, T), int), np.zeros((n, T), int)
    for t in range(T):
        a = np.minimum((sample_rng.random(n)[:, None] > np.cumsum(pi[s], 1)).sum(1), A - 1)
        states[:, t], actions[:, t] = s, a
        s = np.minimum((sample_rng.random(n)[:, None] > np.cumsum(P.numpy()[s, a], 1)).sum(1), S - 1)
    states, actions = torch.tensor(states), torch.tensor(actions)
    returns = R[states, actions].sum(1)
    scores = jacobian(lambda t: torch.log_softmax(t, -1)[states, actions].sum(1), theta,
                      strategy="forward-mode", vectorize=True)
    flat_terms, flat_exact = (returns[:, None, None] * scores).reshape(n, -1), exact.reshape(-1)
    mean_cos = []
    for b in [1, 4, 16, 64, 256, 1024]:
        g = flat_terms[: (n // b) * b].reshape(-1, b, flat_terms.shape[1]).mean(1)
        mean_cos.append(F.cosine_similarity(g, flat_exact[None, :], dim=1).mean().item())
    return {"mean_cos_1": mean_cos[0], "mean_cos_1024": mean_cos[-1],
            "increasing": bool(np.all(np.diff(mean_cos) > 0))}


# --------------------------------------------------------------------------------------------
# cell 20: sum_a pi(a|s) grad log pi(a|s) = 0 for an untrained policy network (float32 round-off)
# --------------------------------------------------------------------------------------------
def eglp_network(seed):
    import gymnasium as gym

    from rlnotes.policies import make_policy

    torch.manual_seed(seed)
    cartpole = gym.make("CartPole-v1")
    net = make_policy(cartpole.observation_space, cartpole.action_space)
    obs = 0.5 * torch.randn(5, 4, generator=torch.Generator().manual_seed(6))
    dist = net.distribution(obs)
    actions_all = torch.arange(2)[:, None].expand(2, 5)
    weighted = (dist.probs.T.detach() * dist.log_prob(actions_all)).sum()
    grads = torch.autograd.grad(weighted, list(net.parameters()))
    return {"largest": max(g.abs().max().item() for g in grads)}          # < 1e-6


EXPERIMENTS = {"bump": bump, "eglp_network": eglp_network, "pseudo_loss": pseudo_loss_run,
               "default_run": default_run, "cosine": cosine}
GROUPS = {"pseudo_loss": pseudo_loss_groups}          # the chapter pools GROUP seeds
DERIVED = {"late_mean_deviation": lambda r: abs(r["late_mean_mu"] - 3.0)}
# the chapter's asserts: the statistic of an experiment's rows (or of its groups, "over")
CLAIMS = {
    "bump_settles": dict(experiment="bump", statistic="late_mean_deviation", op="<", threshold=0.6,
                         cell="sf-008", assert_="abs(late.mean() - 3.0) < 0.6"),
    "bump_gain": dict(experiment="bump", statistic="gain", op=">", threshold=10, cell="sf-008",
                      assert_="expected_bump(mus[-1]) > 10 * expected_bump(mus[0])"),
    "bump_slides_right": dict(experiment="bump", statistic="smallest_step_left_of_0", op=">", threshold=0,
                              cell="sf-008", assert_="np.all(steps_left > 0)"),
    "eglp_network": dict(experiment="eglp_network", statistic="largest", op="<", threshold=1e-6,
                         cell="sf-020", assert_="largest < 1e-6"),
    "pseudo_loss_improvement": dict(experiment="pseudo_loss", over=GROUP, statistic="mean_improvement",
                                    op=">", threshold=3, cell="sf-030", assert_="improvement > 3"),
    "pseudo_loss_same_direction": dict(experiment="pseudo_loss", over=GROUP, statistic="same_direction",
                                       op=">", threshold=0.7, cell="sf-030", assert_="same > 0.7"),
    "pseudo_loss_fell": dict(experiment="pseudo_loss", over=GROUP, statistic="loss_fell_when_return_fell",
                             op=">", threshold=0.65, cell="sf-030", assert_="fell > 0.65"),
    "default_eval": dict(experiment="default_run", statistic="eval_over_first", op=">", threshold=5,
                         cell="sf-036", assert_="eval_returns.mean() > 5 * first"),
    "default_growth": dict(experiment="default_run", statistic="smooth_max_over_first", op=">", threshold=10,
                           cell="sf-036", assert_="smooth.max() > 10 * first"),
    "default_replay": dict(experiment="default_run", statistic="replay_equals_eval_0", op="==", threshold=True,
                           cell="sf-038", assert_="episode_return == eval_returns[0]"),
    "cosine_single": dict(experiment="cosine", statistic="mean_cos_1", op="<", threshold=0.25, cell="sf-040",
                          assert_="mean_cos[0] < 0.25"),
    "cosine_1024": dict(experiment="cosine", statistic="mean_cos_1024", op=">", threshold=0.9, cell="sf-040",
                        assert_="mean_cos[-1] > 0.9"),
    "cosine_increasing": dict(experiment="cosine", statistic="increasing", op="==", threshold=True,
                              cell="sf-040", assert_="all(np.diff(mean_cos) > 0)"),
}


if __name__ == "__main__":
    import recording  # beside this script

    sys.exit(recording.main(sys.modules[__name__]))
