r"""Checkers for the exercises of the chapter "Reducing variance: causality, baselines and value
functions" (book/variance_reduction.ipynb, {ref}`ch-variance-reduction`).

(a) ``reward_to_go(rewards, gamma)``: $\hat R_t = \sum_{t'=t}^{T-1} \gamma^{t'-t} r_{t'}$ for
    every step of one episode, eq. {eq}`eq-vr-rtg`;
(b) ``optimal_baseline(grad_logp, returns)``: the variance-minimising constant baseline, one per
    parameter, $b^*_j = \mathbb E[g_j^2 R] / \mathbb E[g_j^2]$, eq. {eq}`eq-vr-optimal-baseline`;
(c) ``advantages(episode_rewards, values, gamma)``: $\hat A_t = \hat R_t - V(s_t)$ for every
    step of a batch of episodes, flattened in the order of the steps, eq. {eq}`eq-vr-advantage`.

The references are computed here from the formulas with plain loops, independently of
``rlnotes.returns`` and ``rlnotes.estimators`` (which are tested against their own references
in tests/test_returns.py and tests/test_estimators.py). Each typical mistake is simulated and
recognised by comparing the reader's answer with the mistake's answer.
"""
from __future__ import annotations

import numpy as np

from .core import Hint, _, as_array, call, checker, close, diagnose, fmt, number, require_unchanged, to_numpy

__all__ = ["check_reward_to_go", "check_optimal_baseline", "check_advantages"]


# ============================================================================================
# (a) reward-to-go of one episode
# ============================================================================================
def _rtg(rewards, gamma):
    """Reference: R̂_t = Σ_{t'≥t} γ^{t'-t} r_t' by the backward recursion R̂_t = r_t + γ R̂_{t+1}."""
    out, running = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def _rtg_mistakes(r, gamma):
    T = len(r)
    t = np.arange(T)
    forward, running = np.zeros(T), 0.0
    for k in range(T):                                   # accumulating from the start instead
        running = r[k] + gamma * running
        forward[k] = running
    total = float(np.sum(gamma ** t * r))
    return [
        (forward, _("your sums run in the wrong direction: entry t holds the (discounted) rewards "
         "up to step t, i.e. the past"), _("The reward-to-go looks ahead: loop over t in "
         "reversed(range(T)) with running = rewards[t] + gamma * running.")),
        (np.cumsum(r), _("your sums run in the wrong direction and ignore the discount: entry t holds "
         "r_0 + ... + r_t"), _("Sum the rewards from t to the end, each weighted by gamma**(t' - t).")),
        (_rtg(r, 1.0), _("you forgot the discount: entry t is the plain sum r_t + r_{t+1} + ..."),
         _("Weight the reward t' - t steps ahead by gamma**(t' - t): running = rewards[t] + gamma * running.")),
        (np.full(T, total), _("every entry is the return of the whole episode R(τ): you included "
         "the rewards that came before step t"), _("Causality: the action at step t cannot change "
         "r_0, ..., r_{t-1}; sum only from t' = t to the end.")),
        (np.full(T, float(np.sum(r))), _("every entry is the undiscounted return of the whole "
         "episode: you included the past rewards and forgot the discount"), _("Sum only from t' = t "
         "to the end, with weights gamma**(t' - t).")),
        (gamma ** t * _rtg(r, gamma), _("you discounted from the start of the episode "
         "(weights gamma**t' instead of gamma**(t' - t))"), _("The first reward counted at step t is "
         "r_t itself, with weight 1: the exponent is t' - t, the delay after step t.")),
        (_rtg(r, gamma) - r, _("you left out the reward of step t itself (the sum starts at t + 1)"),
         _("r_t is received after the action a_t, so it belongs to a_t's reward-to-go: start the sum at t' = t.")),
        (gamma * _rtg(r, gamma), _("every entry is gamma times too small: you discounted r_t too"),
         _("r_t gets weight gamma**0 = 1.")),
    ]


def _rtg_cases():
    rng = np.random.default_rng(11)
    return [
        (_("rewards [1, 2, 3] with γ = 0.5"), np.array([1.0, 2.0, 3.0]), 0.5),
        (_("rewards [0, 0, 0, 1] with γ = 0.9 (a reward only at the end)"), np.array([0.0, 0.0, 0.0, 1.0]), 0.9),
        (_("12 random rewards with γ = 0.95"), np.round(rng.uniform(-1, 1, 12), 2), 0.95),
        (_("CartPole-like rewards [1, 1, 1, 1, 1] with γ = 1"), np.ones(5), 1.0),
        (_("a single reward [5] with γ = 0.9"), np.array([5.0]), 0.9),
    ]


@checker
def check_reward_to_go(fn):
    r"""Exercise: ``reward_to_go(rewards, gamma)`` $= \big(\sum_{t'=t}^{T-1}\gamma^{t'-t} r_{t'}\big)_{t=0}^{T-1}$."""
    for case, rewards, gamma in _rtg_cases():
        given = rewards.copy()
        answer = to_numpy(call(fn, given, gamma))
        T = len(rewards)
        if number(answer) is not None and T > 1:
            raise Hint(_("for {case} you returned a single number; return one reward-to-go per "
                         "step, an array of shape ({T},).").format(case=case, T=T))
        answer = as_array(answer, (T,), _("the reward-to-go for {case}").format(case=case))
        expected = _rtg(rewards, gamma)
        diagnose(answer, expected, _rtg_mistakes(rewards, gamma), _("the reward-to-go"), case,
                 index_name=_("step"))
        require_unchanged(given, rewards, _("the rewards array it was given"), case,
                          _("Compute the reward-to-go into a new array (np.zeros(len(rewards)))."))
    return _("reward_to_go computes R̂_t = Σ_{t'≥t} γ^{t'-t} r_t' on 5 episodes (γ = 0.5 ... 1, "
             "one-step episodes included).")


# ============================================================================================
# (b) the optimal constant baseline, per parameter
# ============================================================================================
def _optimal_baseline_cases():
    """(description, grad_logp (N, P), returns (N,)): returns correlated with g², so that b*
    differs from the mean return, and parameters on different scales, so that b* differs
    between parameters."""
    rng = np.random.default_rng(5)
    cases = []
    for desc, N, P, scales in [
        (_("200 samples of 4 parameters on different scales"), 200, 4, np.array([0.1, 1.0, 3.0, 0.5])),
        (_("50 samples of 7 parameters"), 50, 7, rng.uniform(0.2, 2.0, 7)),
        (_("30 samples of a single parameter (grad_logp of shape (30, 1))"), 30, 1, np.array([1.0])),
    ]:
        g = rng.standard_normal((N, P)) * scales
        # returns depend on the size of the first parameters' scores: large |g| goes with
        # large returns, so the g²-weighted average differs from the plain mean
        R = 20.0 + 5.0 * np.abs(g[:, 0]) / scales[0] + rng.standard_normal(N)
        if P > 2:
            R = R - 4.0 * np.abs(g[:, 2]) / scales[2]
        cases.append((desc, np.round(g, 4), np.round(R, 3)))
    return cases


def _b_star(g, R):
    return (g ** 2 * R[:, None]).sum(0) / (g ** 2).sum(0)


@checker
def check_optimal_baseline(fn):
    r"""Exercise: ``optimal_baseline(grad_logp, returns)`` $= \big(\sum_i g_{ij}^2 R_i / \sum_i g_{ij}^2\big)_j$."""
    for case, g, R in _optimal_baseline_cases():
        N, P = g.shape
        g_given, R_given = g.copy(), R.copy()
        answer = to_numpy(call(fn, g_given, R_given))
        expected = _b_star(g, R)
        value = number(answer)
        if value is not None and P > 1:
            overall = float((g ** 2 * R[:, None]).sum() / (g ** 2).sum())
            if close(value, R.mean()):
                raise Hint(_("you returned the mean return {value} ({case}): that is the "
                             "average-return baseline, not b*. Weight each return by g_ij² and "
                             "compute one baseline per parameter j: shape (P,) = "
                             "({P},).").format(value=fmt(value), case=case, P=P))
            if close(value, overall) or close(value, expected.mean()):
                raise Hint(_("you returned one number for all parameters ({case}): you summed or "
                             "averaged over the parameter axis too. b* is computed separately for "
                             "each parameter j: reduce over the samples only (axis=0), giving shape "
                             "({P},).").format(case=case, P=P))
            raise Hint(_("you returned a single number ({case}); return one baseline per "
                         "parameter, shape ({P},).").format(case=case, P=P))
        if np.shape(answer) == (N,) and N != P:
            raise Hint(_("your baseline has shape ({N},), one per sample ({case}): you reduced over "
                         "the wrong axis. Average over the samples (axis=0) to get one value per "
                         "parameter, shape ({P},).").format(N=N, case=case, P=P))
        answer = as_array(answer, (P,), _("the baseline for {case}").format(case=case))
        with np.errstate(all="ignore"):
            mistakes = [
                (np.full(P, R.mean()), _("you used the mean return E[R] (the average-return "
                 "baseline) for every parameter"), _("b*_j weights each return by the squared score "
                 "g_ij²: b*_j = Σ_i g_ij² R_i / Σ_i g_ij².")),
                ((g * R[:, None]).sum(0) / g.sum(0), _("you forgot the square: you weighted the "
                 "returns by g_ij instead of g_ij²"), _("The weights come from the variance, which is "
                 "quadratic in g: b*_j = Σ_i g_ij² R_i / Σ_i g_ij².")),
                (np.abs(g * R[:, None]).sum(0) / np.abs(g).sum(0), _("you weighted the returns by "
                 "|g_ij| instead of g_ij²"), _("Square the scores: b*_j = Σ_i g_ij² R_i / Σ_i g_ij².")),
                (np.full(P, (g ** 2 * R[:, None]).sum() / (g ** 2).sum()), _("every parameter "
                 "got the same baseline: you summed over the parameters too (axis=None)"),
                 _("Reduce over the samples only, axis=0: each parameter j has its own b*_j.")),
                (np.full(P, expected.mean()), _("every parameter got the same baseline: you "
                 "averaged b*_j over the parameters"), _("Return the vector of per-parameter "
                 "baselines, one for each j.")),
                ((g ** 2 * R[:, None]).mean(0), _("you left out the denominator E[g_j²]"),
                 _("b*_j = E[g_j² R] / E[g_j²]: divide by the mean of g_j² (or sum both).")),
                ((g ** 2 * R[:, None]).sum(0) / (g ** 2).sum(0).mean(), _("you divided by the "
                 "average of E[g_j²] over the parameters"), _("Divide parameter j's numerator by its "
                 "own Σ_i g_ij².")),
                ((g ** 2 * R[:, None]).mean(0) / (g ** 2).mean(0) ** 2, _("you squared the "
                 "denominator"), _("b*_j = E[g_j² R] / E[g_j²].")),
            ]
        diagnose(answer, expected, mistakes, _("the baseline"), case, index_name=_("parameter"))
        require_unchanged((g_given, R_given), (g, R), _("its input arrays"), case,
                          _("Compute the squares into new arrays (g2 = grad_logp ** 2)."))
    return _("optimal_baseline computes b*_j = E[g_j² R] / E[g_j²] for each parameter on 3 "
             "batches (including a single parameter).")


# ============================================================================================
# (c) advantages Â_t = R̂_t − V(s_t) for a batch of episodes
# ============================================================================================
def _advantage_cases():
    rng = np.random.default_rng(8)
    episodes = [np.round(rng.uniform(-1, 2, n), 2) for n in (4, 1, 6)]
    values = np.round(rng.uniform(-2, 3, sum(len(e) for e in episodes)), 2)
    cartpole = [np.ones(n) for n in (5, 3)]
    return [
        (_("3 episodes of lengths 4, 1 and 6 with γ = 0.9"), episodes, values, 0.9),
        (_("2 CartPole-like episodes (reward 1 per step) of lengths 5 and 3 with γ = 0.99"),
         cartpole, np.round(rng.uniform(0, 5, 8), 2), 0.99),
        (_("a single episode of length 5 with γ = 0.5"), [np.array([1.0, 0.0, 2.0, 0.0, 1.0])],
         np.array([0.5, 1.0, -1.0, 2.0, 0.0]), 0.5),
    ]


@checker
def check_advantages(fn):
    r"""Exercise: ``advantages(episode_rewards, values, gamma)`` $= \hat R_t - V(s_t)$, flattened."""
    for case, episodes, values, gamma in _advantage_cases():
        n = sum(len(e) for e in episodes)
        given = [e.copy() for e in episodes]
        answer = to_numpy(call(fn, given, values.copy(), gamma))
        if isinstance(answer, (list, tuple)) and len(answer) == len(episodes) and len(episodes) > 1:
            if all(np.ndim(a) == 1 for a in answer):
                raise Hint(_("you returned one array per episode ({case}); concatenate them into "
                             "one flat array of shape ({n},), in the order of the steps "
                             "(np.concatenate).").format(case=case, n=n))
        answer = as_array(answer, (n,), _("the advantages for {case}").format(case=case))
        rtg = np.concatenate([_rtg(e, gamma) for e in episodes])
        expected = rtg - values
        joined = _rtg(np.concatenate(episodes), gamma)
        whole = np.concatenate([np.full(len(e), np.sum(gamma ** np.arange(len(e)) * e)) for e in episodes])
        mistakes = [
            (joined - values, _("your reward-to-go runs across episode boundaries: the last steps of "
             "an episode also count the rewards of the next episode"), _("Compute the reward-to-go "
             "of each episode separately (reset the running sum at the start of every episode), "
             "then concatenate.")),
            (values - rtg, _("your advantages have the wrong sign (V(s_t) − R̂_t)"),
             _("Â_t = R̂_t − V(s_t): positive when the episode went better than expected.")),
            (rtg, _("you did not subtract the baseline V(s_t)"), _("Â_t = R̂_t − V(s_t).")),
            (whole - values, _("you used the whole episode's return R(τ) instead of the reward-to-go"),
             _("Causality: step t only gets credit for the rewards from t on, R̂_t = Σ_{t'≥t} "
               "γ^{t'-t} r_t'.")),
            (np.concatenate([_rtg(e, 1.0) for e in episodes]) - values, _("you forgot the discount "
             "in the reward-to-go"), _("Weight the reward t' − t steps ahead by gamma**(t' − t).")),
            (rtg - values.mean(), _("you subtracted the mean of V instead of V(s_t) at each step"),
             _("Each step has its own baseline value V(s_t) = values[i] for the i-th step.")),
        ]
        diagnose(answer, expected, mistakes, _("the advantage"), case, index_name=_("step"))
        require_unchanged(given, episodes, _("the reward arrays it was given"), case, _("Work on new arrays."))
    return _("advantages computes Â_t = R̂_t − V(s_t) episode by episode on 3 batches (episodes "
             "of length 1 included), flattened in the order of the steps.")
