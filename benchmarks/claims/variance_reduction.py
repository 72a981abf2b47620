"""The claims of the chapter 'Reducing variance', recomputed over seeds.

Each experiment below computes, for one seed, the statistics that asserts of
book/variance_reduction.ipynb check (the chapter runs one seed, or a group of seeds). This
script recomputes them for a list of seeds, in whatever numerical setting the process runs (for
example the combined variant ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE
RLNOTES_TORCH_THREADS=2; add OMP_WAIT_POLICY=PASSIVE on a busy machine, which changes no
number), prints one line per seed and stores the values, with their minimum and maximum, under
the name of the setting in benchmarks/claims/variance_reduction.json. The chapter's margins are
set from that file: its table `claims` lists every assert the experiments measure, with the
threshold and the smallest and largest recorded value over all seeds and settings.
`--summary-only` recomputes that table without measuring; the exit status is 1 if a recorded
value fails an assert.

    python benchmarks/claims/variance_reduction.py --summary-only
    python benchmarks/claims/variance_reduction.py --experiments frozen_policy --seeds 0-9
    python benchmarks/claims/variance_reduction.py --experiments learning --seeds 0-29

Seeds: for ``frozen_policy`` the training seed of the partly trained CartPole policy (the
chapter uses 2); for ``learning`` the training seed of each of the three REINFORCE variants
(the chapter pools seeds 0, 1, ..., LEARNING_SEEDS - 1); for the numpy-only claims the seed of
the sampling generator (the chapter's own seed reproduces the page).
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import torch

CHAPTER = "book/variance_reduction.ipynb"
OUT = pathlib.Path(__file__).with_suffix(".json")
VARIANT_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "RLNOTES_TORCH_THREADS")
LEARNING_SEEDS = 8          # seeds per variant in the chapter's learning-curve cell


# --------------------------------------------------------------------------------------------
# cells 3-33: a partly trained CartPole policy, frozen; 1000 + 300 episodes; five estimators
# --------------------------------------------------------------------------------------------
def frozen_policy(seed):
    from rlnotes.algos import reinforce
    from rlnotes.estimators import optimal_baseline
    from rlnotes.policies import mlp
    from rlnotes.returns import reward_to_go
    from rlnotes.rollout import collect_episodes

    train_config = reinforce.Config(reward_to_go=True, baseline="value", gamma=0.99,
                                    normalize_advantages=True, lr=0.01, batch_steps=4000, n_envs=8,
                                    hidden_sizes=(64, 64), value_lr=0.01, value_iters=40)
    trained = reinforce.train("CartPole-v1", train_config, seed=seed, total_steps=24_000, progress=False)
    policy = trained.agent
    params = list(policy.parameters())
    M, N = 100, 10
    data = collect_episodes(policy, "CartPole-v1", n_episodes=M * N, seed=1000, n_envs=16)
    held_out = collect_episodes(policy, "CartPole-v1", n_episodes=300, seed=2000, n_envs=16)
    out = {"mean_return": float(data.returns.mean())}                                # cell 3

    def episode_gradients(batch, weights_of):
        grads_all = []
        for k in range(batch.n_episodes):
            logp = policy.log_prob(torch.as_tensor(batch.obs[k]), torch.as_tensor(batch.actions[k]))
            W = torch.as_tensor(weights_of(k), dtype=logp.dtype)
            grads = torch.autograd.grad(logp, params, grad_outputs=W, is_grads_batched=True)
            grads_all.append(torch.cat([g.reshape(len(W), -1) for g in grads], dim=1))
        return torch.stack(grads_all, dim=1)

    def trajectory_weights(batch):
        def weights_of(k):
            rtg = reward_to_go(batch.rewards[k])
            return np.stack([np.ones_like(rtg), np.full_like(rtg, rtg[0]), rtg])
        return weights_of

    score_traj, g_return, g_rtg = episode_gradients(data, trajectory_weights(data))
    score_held, g_return_held, g_rtg_held = episode_gradients(held_out, trajectory_weights(held_out))
    batch_estimates = lambda per_episode: per_episode.reshape(M, N, -1).mean(1)

    g_ref = g_rtg.mean(0)                                                            # cell 7
    u = g_ref / g_ref.norm()
    est_return = batch_estimates(g_return)
    out["noise_to_signal"] = ((est_return - g_ref).norm(dim=1).mean() / g_ref.norm()).item()
    out["frac_downhill"] = (est_return @ u < 0).float().mean().item()

    states = torch.as_tensor(data.flat_obs[::500][:200])                             # cell 17
    log_pi = torch.log_softmax(policy.logits_net(states), dim=-1)
    weights = torch.eye(len(states))[:, :, None] * log_pi.exp().detach()
    eglp = torch.autograd.grad(log_pi, params, grad_outputs=weights, is_grads_batched=True,
                               retain_graph=True)
    eglp = torch.cat([g.reshape(len(states), -1) for g in eglp], dim=1)
    one_score = torch.autograd.grad(log_pi[:, 0].sum(), params)
    scale = torch.cat([g.reshape(-1) for g in one_score]).abs().max() / len(states)
    out["eglp_over_tolerance"] = float(eglp.abs().max() / (1e-5 * max(1.0, float(scale))))   # < 1

    R_held = torch.as_tensor(held_out.returns, dtype=torch.float32)                  # cell 21
    b_star_return = optimal_baseline(score_held, R_held)
    general = (g_return_held * score_held).mean(0) / (score_held ** 2).mean(0)
    out["b_star_forms_agree"] = bool(torch.allclose(b_star_return, general, rtol=1e-4))
    A, B = g_rtg_held, score_held
    b_star = (A * B).mean(0) / (B ** 2).mean(0)
    rtg_held = torch.as_tensor(np.concatenate([reward_to_go(r) for r in held_out.rewards]),
                               dtype=torch.float32)
    b_bar = float(rtg_held.mean())
    lo, hi = np.percentile(b_star.numpy(), [5, 95])
    out["b_star_spread_over_mean"] = float((hi - lo) / b_bar)                        # > 0.2

    torch.manual_seed(0)                                                             # cell 24
    value_net = mlp([4, 64, 64, 1])
    value_opt = torch.optim.Adam(value_net.parameters(), lr=0.01)
    reinforce.fit_value(value_net, value_opt, torch.as_tensor(held_out.flat_obs), rtg_held, iters=500,
                        batch_size=512, generator=torch.Generator().manual_seed(0))

    def V(obs):
        with torch.no_grad():
            return value_net(torch.as_tensor(obs)).squeeze(-1).numpy()

    rtg_data = np.concatenate([reward_to_go(r) for r in data.rewards])
    out["r2"] = float(1 - np.mean((V(data.flat_obs) - rtg_data) ** 2) / np.var(rtg_data))   # > 0.4

    (g_value,) = episode_gradients(data, lambda k: V(data.obs[k])[None])             # cell 33
    per_episode = {"R(τ)": g_return, "reward-to-go": g_rtg,
                   "reward-to-go − mean": g_rtg - b_bar * score_traj,
                   "reward-to-go − optimal b": g_rtg - b_star * score_traj,
                   "reward-to-go − V(s)": g_rtg - g_value}
    estimates = {name: batch_estimates(x) for name, x in per_episode.items()}
    variance = {name: e.var(0).mean().item() for name, e in estimates.items()}
    rng_boot = np.random.default_rng(0)
    boot = {name: [] for name in estimates}
    for _ in range(300):
        idx = torch.as_tensor(rng_boot.integers(0, M, M))
        for name, e in estimates.items():
            boot[name].append(e[idx].var(0).mean().item())
    names = list(estimates)
    short = dict(zip(names, ["R", "rtg", "mean", "opt", "V"]))
    for i, a in enumerate(names):                   # every pair: variance ratio and z of its log
        for b in names[i + 1:]:
            log_ratio = np.log(variance[a] / variance[b])
            out[f"z_{short[a]}_{short[b]}"] = float(log_ratio / np.log(np.array(boot[a]) / np.array(boot[b])).std())
            out[f"ratio_{short[b]}_{short[a]}"] = variance[b] / variance[a]
    out["ranking_z_min"] = min(out[f"z_{short[a]}_{short[b]}"] for a, b in zip(names[:-1], names[1:]))
    return out


# --------------------------------------------------------------------------------------------
# cell 37: three REINFORCE variants, 40 000 steps each, batches of 2000 steps
# --------------------------------------------------------------------------------------------
VARIANTS = {"plain": dict(reward_to_go=False, baseline="none"),
            "rtg": dict(reward_to_go=True, baseline="none"),
            "rtg_value": dict(reward_to_go=True, baseline="value")}


def learning(seed):
    from rlnotes.algos import reinforce

    out = {}
    for name, fields in VARIANTS.items():
        config = reinforce.Config(normalize_advantages=False, batch_steps=2000, **fields)
        result = reinforce.train("CartPole-v1", config, seed=seed, total_steps=40_000, progress=False)
        out[name] = float(result.returns[result.steps > result.steps.max() - 4000].mean())
    return out


def learning_groups(rows, size=LEARNING_SEEDS):
    """The chapter's statistics for consecutive groups of `size` seeds."""
    groups = []
    for i in range(0, len(rows) - size + 1, size):
        g = rows[i:i + size]
        plain, rtg, rtg_v = (np.array([r[k] for r in g]) for k in VARIANTS)
        se_diff = np.sqrt(plain.var(ddof=1) / size + rtg_v.var(ddof=1) / size)
        se_rtg = np.sqrt(rtg.var(ddof=1) / size + rtg_v.var(ddof=1) / size)
        groups.append({"seeds": [r["seed"] for r in g],
                       "value_minus_plain_in_se": float((rtg_v.mean() - plain.mean()) / se_diff),
                       "value_minus_rtg_in_se": float((rtg_v.mean() - rtg.mean()) / se_rtg),
                       "rtg_over_plain": float(rtg.mean() / plain.mean()),
                       "value_over_plain": float(rtg_v.mean() / plain.mean())})
    return groups


# --------------------------------------------------------------------------------------------
# cell 9: gradient ascent on a 2-D toy with noisy gradients, 50 runs (seed s: runs 50 s ... 50 s + 49)
# --------------------------------------------------------------------------------------------
def toy_ascent(seed):
    def toy_f(x):
        return 20.0 - 0.5 * (x[..., 0] ** 2 + 5.0 * x[..., 1] ** 2)

    def ascent_path(theta0, n_samples, use_baseline, rng, steps=40, alpha=0.05):
        theta = np.array(theta0, dtype=float)
        path = [theta.copy()]
        for _ in range(steps):
            if n_samples is None:
                g = -np.array([1.0, 5.0]) * theta
            else:
                x = theta + rng.standard_normal((n_samples, 2))
                fx = toy_f(x)
                b = (fx.sum() - fx) / (n_samples - 1) if use_baseline else 0.0
                g = ((fx - b)[:, None] * (x - theta)).mean(0)
            theta = theta + alpha * g
            path.append(theta.copy())
        return np.array(path)

    path_length = lambda p: np.linalg.norm(np.diff(p, axis=0), axis=1).sum()
    theta0 = (-3.0, 1.5)
    exact = path_length(ascent_path(theta0, None, False, None))
    runs = {"no baseline": [], "baseline": []}
    for rep in range(50 * seed, 50 * seed + 50):
        for name, use_b in [("no baseline", False), ("baseline", True)]:
            runs[name].append(ascent_path(theta0, 10, use_b, np.random.default_rng(rep)))
    length = {k: np.mean([path_length(p) for p in v]) for k, v in runs.items()}
    final = {k: np.mean([np.linalg.norm(p[-1]) for p in v]) for k, v in runs.items()}
    return {"noisy_over_exact_length": length["no baseline"] / exact,           # > 2.5
            "baseline_over_noisy_length": length["baseline"] / length["no baseline"],   # < 0.7
            "final_baseline_over_noisy": final["baseline"] / final["no baseline"]}       # < 1


# --------------------------------------------------------------------------------------------
# cell 27: Monte-Carlo and TD(0) values on the random walk, 500 runs of 50 episodes
# --------------------------------------------------------------------------------------------
def random_walk(seed):
    from rlnotes.mdp import TabularMDP, policy_evaluation
    from rlnotes.returns import reward_to_go

    S = 7
    P, R = np.zeros((S, 1, S)), np.zeros((S, 1, S))
    for s in range(1, 6):
        P[s, 0, s - 1] = P[s, 0, s + 1] = 0.5
    R[5, 0, 6] = 1.0
    walk = TabularMDP(P, R, 1.0, rho0=np.eye(S)[3], terminal=[0, 6])
    V_true = policy_evaluation(walk, np.ones((S, 1)))
    rng = np.random.default_rng(seed)
    n_runs, n_episodes = 500, 50
    est = {"MC": np.zeros((n_runs, n_episodes, S)), "TD": np.zeros((n_runs, n_episodes, S))}
    for run in range(n_runs):
        V_mc, n_mc, V_td, n_td = np.zeros(S), np.zeros(S), np.zeros(S), np.zeros(S)
        for k in range(n_episodes):
            s, visited, rewards = 3, [], []
            while not walk.terminal[s]:
                s_next = s + (1 if rng.random() < 0.5 else -1)
                r = R[s, 0, s_next]
                n_td[s] += 1
                y_td = r + (0.0 if walk.terminal[s_next] else V_td[s_next])
                V_td[s] += (y_td - V_td[s]) / n_td[s]
                visited.append(s)
                rewards.append(r)
                s = s_next
            for s_t, y_mc in zip(visited, reward_to_go(np.array(rewards))):
                n_mc[s_t] += 1
                V_mc[s_t] += (y_mc - V_mc[s_t]) / n_mc[s_t]
            est["MC"][run, k], est["TD"][run, k] = V_mc, V_td
    inner = slice(1, 6)
    bias2 = {m: ((e.mean(0) - V_true)[:, inner] ** 2).mean(1) for m, e in est.items()}
    var = {m: e.var(0)[:, inner].mean(1) for m, e in est.items()}
    mse = {m: bias2[m] + var[m] for m in bias2}
    return {"max_var_td_over_mc": float((var["TD"] / var["MC"]).max()),               # < 1
            "max_var_td_over_mc_first20": float((var["TD"][:20] / var["MC"][:20]).max()),   # < 0.5
            "max_bias2_mc_from10": float(bias2["MC"][9:].max()),                      # < 2e-3
            "min_bias2_td_over_mc_from10": float((bias2["TD"][9:] / bias2["MC"][9:]).min()),   # > 10
            "bias2_td_50_over_5": float(bias2["TD"][49] / bias2["TD"][4]),             # < 0.75
            "max_mse_mc_over_td_from5": float((mse["MC"][4:] / mse["TD"][4:]).max())}   # < 1


# --------------------------------------------------------------------------------------------
# cell 30 and the cell after it: four estimators on the 4x4 grid world with an exact gradient, and
# the best state-dependent baseline (seed s: the generator of the episodes; the chapter uses 2)
# --------------------------------------------------------------------------------------------
def grid(seed):
    from rlnotes.mdp import gridworld_4x4, policy_evaluation
    from rlnotes.returns import reward_to_go

    grid = gridworld_4x4()
    S4, A4 = grid.n_states, grid.n_actions
    nonterminal = ~grid.terminal
    theta_grid = np.random.default_rng(1).normal(0.0, 0.5, size=(S4, A4))
    pi_grid = np.exp(theta_grid) / np.exp(theta_grid).sum(1, keepdims=True)

    def exact_J(theta):
        pi = torch.softmax(theta, dim=1)
        P_pi = torch.einsum("sa,sat->st", pi, torch.tensor(np.array(grid.P)))
        r_pi = (pi * torch.tensor(np.array(grid.r))).sum(1)
        n = torch.as_tensor(np.flatnonzero(nonterminal))
        V_n = torch.linalg.solve(torch.eye(len(n), dtype=theta.dtype) - P_pi[n][:, n], r_pi[n])
        return torch.tensor(np.array(grid.rho0))[n] @ V_n

    theta_t = torch.tensor(theta_grid, requires_grad=True)
    grad_exact = torch.autograd.grad(exact_J(theta_t), theta_t)[0].numpy()
    V_grid = policy_evaluation(grid, pi_grid)
    cum_pi, cum_P = pi_grid.cumsum(1), grid.P.cumsum(2)

    def episodes(n, rng):
        # per episode: Σ_t ∇log π(a_t|s_t) Ψ_t for Ψ = 1, R(τ), R̂_t, discounted R̂_t (γ = 0.9); (n, 4, S, A)
        out = np.zeros((n, 4, S4, A4))
        for i in range(n):
            s, steps = rng.choice(S4, p=grid.rho0), []
            while not grid.terminal[s]:
                a = min(int(np.searchsorted(cum_pi[s], rng.random())), A4 - 1)
                s_next = min(int(np.searchsorted(cum_P[s, a], rng.random())), S4 - 1)
                steps.append((s, a, grid.r[s, a]))
                s = s_next
            s_t, a_t, r_t = (np.array(x) for x in zip(*steps))
            score = np.eye(A4)[a_t] - pi_grid[s_t]
            rtg = reward_to_go(r_t)
            for j, psi in enumerate([np.ones(len(r_t)), np.full(len(r_t), rtg[0]), rtg, reward_to_go(r_t, 0.9)]):
                np.add.at(out[i, j], s_t, psi[:, None] * score)
        return out

    rng = np.random.default_rng(seed)
    g = episodes(3000, rng)
    B, G_return, G_rtg, G_disc = g[:, 0], g[:, 1], g[:, 2], g[:, 3]
    G_value = G_rtg - V_grid[None, :, None] * B                       # Ψ = R̂_t − V^π(s_t)
    out, var = {}, {}
    for name, terms in [("R", G_return), ("rtg", G_rtg), ("rtg_V", G_value), ("disc", G_disc)]:
        terms = terms[:, nonterminal].reshape(len(terms), -1)
        se_terms = terms.std(0, ddof=1) / np.sqrt(len(terms))
        z = (terms.mean(0) - grad_exact[nonterminal].ravel()) / se_terms
        out[f"max_abs_z_{name}"], out[f"mean_z2_{name}"] = float(np.abs(z).max()), float(np.mean(z ** 2))
        var[name] = terms.var(0).mean()
    out["var_R_over_rtg"] = var["R"] / var["rtg"]                        # > 1.5
    out["var_rtg_over_rtg_V"] = var["rtg"] / var["rtg_V"]                # > 1.5
    out["disc_least_variable"] = bool(var["disc"] < min(var["R"], var["rtg"], var["rtg_V"]))
    # the best baseline b(s): per state, b_s = E[<A_s, B_s>] / E[|B_s|²] (A: Ψ = R̂_t), fitted on other episodes
    f = episodes(3000, rng)                                           # the next 3000 episodes
    b_opt = (f[:, 2] * f[:, 0]).sum(2).mean(0) / np.maximum((f[:, 0] ** 2).sum(2).mean(0), 1e-300)
    total_var = lambda b: (G_rtg - b[None, :, None] * B)[:, nonterminal].var(0).sum()
    v_none, v_V, v_opt = total_var(np.zeros(S4)), total_var(V_grid), total_var(b_opt)
    out["value_share_of_best_reduction"] = float((v_none - v_V) / (v_none - v_opt))   # close to 1
    out["value_over_best_variance"] = float(v_V / v_opt)                              # close to 1
    return out


EXPERIMENTS = {"frozen_policy": frozen_policy, "learning": learning, "toy_ascent": toy_ascent,
               "random_walk": random_walk, "grid": grid}
GROUPS = {"learning": learning_groups}                 # the chapter pools LEARNING_SEEDS seeds
DERIVED = {}


def _claim(experiment, statistic, op, threshold, cell, text, over=None):
    return dict(experiment=experiment, statistic=statistic, op=op, threshold=threshold, cell=cell,
                assert_=text, **({"over": over} if over else {}))


# the chapter's asserts: the statistic of an experiment's rows (or of its groups, "over")
CLAIMS = {
    "partly_trained_low": _claim("frozen_policy", "mean_return", ">", 50, "vr-003", "50 < data.returns.mean()"),
    "partly_trained_high": _claim("frozen_policy", "mean_return", "<", 400, "vr-003", "data.returns.mean() < 400"),
    "noise_to_signal": _claim("frozen_policy", "noise_to_signal", ">", 1.5, "vr-007", "noise_to_signal > 1.5"),
    "downhill": _claim("frozen_policy", "frac_downhill", ">", 0.1, "vr-007", "frac_downhill > 0.1"),
    "eglp": _claim("frozen_policy", "eglp_over_tolerance", "<", 1, "vr-017",
                   "eglp.abs().max() < 1e-5 * max(1.0, float(scale))"),
    "b_star_forms": _claim("frozen_policy", "b_star_forms_agree", "==", True, "vr-021",
                           "torch.allclose(b_star_return, general, rtol=1e-4)"),
    "b_star_spread": _claim("frozen_policy", "b_star_spread_over_mean", ">", 0.15, "vr-021",
                            "hi - lo > 0.15 * b_bar"),
    "r2": _claim("frozen_policy", "r2", ">", 0.25, "vr-024", "r2 > 0.25"),
    "rtg_ratio": _claim("frozen_policy", "ratio_rtg_R", "<", 0.5, "vr-033",
                        "variance[rtg] < 0.5 * variance['R(τ)']"),
    "rtg_z": _claim("frozen_policy", "z_R_rtg", ">", 3, "vr-033", "log_ratio_z('R(τ)', rtg) > 3"),
    "optimal_b_ratio": _claim("frozen_policy", "ratio_opt_rtg", "<", 2 / 3, "vr-033",
                              "variance[optimal b] < 2/3 * variance[rtg]"),
    "optimal_b_z": _claim("frozen_policy", "z_rtg_opt", ">", 3, "vr-033", "log_ratio_z(rtg, optimal b) > 3"),
    "value_ratio": _claim("frozen_policy", "ratio_V_rtg", "<", 2 / 3, "vr-033",
                          "variance[V(s)] < 2/3 * variance[rtg]"),
    "value_z": _claim("frozen_policy", "z_rtg_V", ">", 3, "vr-033", "log_ratio_z(rtg, V(s)) > 3"),
    "learning_lead": _claim("learning", "value_minus_plain_in_se", ">", 2, "vr-037",
                            "rtg_v.mean() > plain.mean() + 2 * se_diff", over=LEARNING_SEEDS),
    "learning_value": _claim("learning", "value_over_plain", ">", 2, "vr-037",
                             "rtg_v.mean() > 2 * plain.mean()", over=LEARNING_SEEDS),
    "learning_rtg": _claim("learning", "rtg_over_plain", ">", 1.5, "vr-037",
                           "rtg_only.mean() > 1.5 * plain.mean()", over=LEARNING_SEEDS),
    "toy_zigzag": _claim("toy_ascent", "noisy_over_exact_length", ">", 2.5, "vr-009",
                         "length['no baseline'] > 2.5 * path_length(exact_path)"),
    "toy_baseline": _claim("toy_ascent", "baseline_over_noisy_length", "<", 0.7, "vr-009",
                           "length['baseline'] < 0.7 * length['no baseline']"),
    "toy_final": _claim("toy_ascent", "final_baseline_over_noisy", "<", 1, "vr-009",
                        "final['baseline'] < final['no baseline']"),
    "walk_td_variance": _claim("random_walk", "max_var_td_over_mc", "<", 1, "vr-027", "var['TD'] < var['MC']"),
    "walk_td_variance_20": _claim("random_walk", "max_var_td_over_mc_first20", "<", 0.6, "vr-027",
                                  "var['TD'][:20] < 0.6 * var['MC'][:20]"),
    "walk_mc_unbiased": _claim("random_walk", "max_bias2_mc_from10", "<", 2e-3, "vr-027", "bias2['MC'][9:] < 2e-3"),
    "walk_td_biased": _claim("random_walk", "min_bias2_td_over_mc_from10", ">", 10, "vr-027",
                             "bias2['TD'][9:] > 10 * bias2['MC'][9:]"),
    "walk_td_bias_fades": _claim("random_walk", "bias2_td_50_over_5", "<", 0.75, "vr-027",
                                 "bias2['TD'][49] < 0.75 * bias2['TD'][4]"),
    "walk_mse": _claim("random_walk", "max_mse_mc_over_td_from5", "<", 1, "vr-027", "mse['MC'][4:] < mse['TD'][4:]"),
    **{f"grid_unbiased_{n}": _claim("grid", f"max_abs_z_{n}", "<", 4, "vr-030", f"max |z| < 4 ({n})")
       for n in ("R", "rtg", "rtg_V")},
    **{f"grid_z2_low_{n}": _claim("grid", f"mean_z2_{n}", ">", 0.5, "vr-030", f"0.5 < mean z² ({n})")
       for n in ("R", "rtg", "rtg_V")},
    **{f"grid_z2_high_{n}": _claim("grid", f"mean_z2_{n}", "<", 2, "vr-030", f"mean z² < 2 ({n})")
       for n in ("R", "rtg", "rtg_V")},
    "grid_discounted_biased": _claim("grid", "max_abs_z_disc", ">", 10, "vr-030", "max |z| > 10 (discounted)"),
    "grid_discounted_least": _claim("grid", "disc_least_variable", "==", True, "vr-030",
                                    "discounted: the least variable"),
    "grid_causality": _claim("grid", "var_R_over_rtg", ">", 1.5, "vr-030",
                             "grid_var['R(τ)'] > 1.5 * grid_var['reward-to-go']"),
    "grid_value": _claim("grid", "var_rtg_over_rtg_V", ">", 1.5, "vr-030",
                         "grid_var['reward-to-go'] > 1.5 * grid_var['reward-to-go − V']"),
    "grid_best_baseline_variance": _claim("grid", "value_over_best_variance", "<", 1.05, "vr-031b",
                                          "v_value < 1.05 * v_best"),
    "grid_best_baseline_share": _claim("grid", "value_share_of_best_reduction", ">", 0.95, "vr-031b",
                                       "share > 0.95"),
}


if __name__ == "__main__":
    import recording  # beside this script

    sys.exit(recording.main(sys.modules[__name__]))
