r"""Checkers for the chapter "Key concepts and MDPs" (book/mdps.ipynb)."""
from __future__ import annotations

import numpy as np

# ============================================================================================
# Chapter "Key concepts and MDPs" (book/mdps.ipynb)
# ============================================================================================
# The reader's functions take a rlnotes.mdp.TabularMDP and use its arrays: mdp.P (S, A, S),
# mdp.r (S, A), mdp.gamma, mdp.terminal (S,) bool. The references come from rlnotes.mdp (tested
# against Sutton & Barto's tables in tests/test_mdp.py); each typical mistake is simulated
# here and recognised by comparing the reader's answer with the mistake's answer.
from rlnotes import mdp as _mdp

from .core import Hint, _, as_array, call, checker, close, diagnose, fmt, require_unchanged

__all__ = ["check_discounted_return", "check_bellman_backup", "check_value_iteration_sweep",
            "check_greedy_policy"]


def _random_mdp(seed, n_states=6, n_actions=3, gamma=0.9, terminal=None):
    """A random MDP: every next state possible (Dirichlet rows), rewards in [-2, 2] (1 decimal)."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions))
    R = np.round(rng.uniform(-2.0, 2.0, size=(n_states, n_actions)), 1)
    return _mdp.TabularMDP(P, R, gamma, terminal=terminal)


def _random_policy(seed, n_states, n_actions):
    """A random stochastic policy pi[s, a], far from uniform (so weighting by π matters)."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(0.5 * np.ones(n_actions), size=n_states)


def _random_values(seed, n_states, scale=5.0):
    return np.round(np.random.default_rng(seed).uniform(-scale, scale, size=n_states), 1)


def _masked(mdp, V):
    """V with terminal entries read as 0 (a terminal state's value is 0 by definition)."""
    return np.where(mdp.terminal, 0.0, V)


def _q(mdp, V, gamma=None, mask=True):
    """r(s,a) + γ Σ_s' P(s'|s,a) V(s'), optionally with the mistakes: other γ, no terminal mask."""
    gamma = mdp.gamma if gamma is None else gamma
    return mdp.r + gamma * (mdp.P @ (_masked(mdp, V) if mask else np.asarray(V, float)))


# ----------------------------------------------------------------------------- (d) returns
def _discounted_return_cases():
    rng = np.random.default_rng(3)
    return [
        (_("rewards [1, 2, 3] with γ = 0.5"), [1.0, 2.0, 3.0], 0.5),
        (_("rewards [0, 0, 1] with γ = 0.9"), [0.0, 0.0, 1.0], 0.9),
        (_("20 random rewards with γ = 0.95"), list(np.round(rng.uniform(-1, 1, 20), 2)), 0.95),
        (_("rewards [1, 1, 1, 1] with γ = 1 (an undiscounted episode)"), [1.0, 1.0, 1.0, 1.0], 1.0),
        (_("a single reward [5] with γ = 0.9"), [5.0], 0.9),
    ]


@checker
def check_discounted_return(fn):
    r"""Exercise: ``discounted_return(rewards, gamma)`` $= \sum_t \gamma^t r_t$ (a float)."""
    for case, rewards, gamma in _discounted_return_cases():
        r = np.asarray(rewards, dtype=float)
        t = np.arange(len(r))
        answer = call(fn, list(rewards), gamma)
        if len(r) > 1 and np.shape(answer) == r.shape:
            raise Hint(_("for {case} you returned {n} numbers (one per step?); return a single "
                         "number, the return of the whole list R = Σ_t γ^t r_t.").format(case=case, n=len(r)))
        value = as_array(answer, (), _("the return"))
        expected = float(np.sum(gamma ** t * r))
        mistakes = [
            (np.sum(r), _("your return ignores the discount (it is the plain sum of rewards)"),
             _("Weight the reward of step t by gamma**t.")),
            (np.sum(gamma ** (t + 1) * r), _("your return discounts the first reward too "
             "(exponents 1, 2, 3, ... instead of 0, 1, 2, ...)"), _("The reward of step t = 0 is not "
             "discounted: weight r_t by gamma**t with t starting at 0.")),
            (np.sum(gamma ** t[::-1] * r), _("your return discounts from the end of the list "
             "(the last reward gets weight 1)"), _("The first reward gets weight 1, the next gamma, "
             "then gamma**2, ...: count t from the start.")),
            (np.mean(gamma ** t * r), _("your return is the average of the discounted rewards, not "
             "their sum"), _("Add the terms up instead of averaging them.")),
        ]
        diagnose(value, expected, mistakes, _("the return R = Σ_t γ^t r_t"), case)
    return _("discounted_return matches Σ_t γ^t r_t on 5 reward lists (including γ = 1).")


# ---------------------------------------------------------------- (a) Bellman expectation backup
def _mdp_cases():
    """(description, mdp, seed) for the MDP exercises: random, with terminal states, γ = 1."""
    return [
        (_("a random 6-state MDP with γ = 0.9"), _random_mdp(0, gamma=0.9), 10),
        (_("a random 7-state MDP with γ = 0.8 whose states 5 and 6 are terminal"),
         _random_mdp(1, n_states=7, gamma=0.8, terminal=[5, 6]), 11),
        (_("Sutton & Barto's 4x4 grid world: γ = 1, terminal corners 0 and 15"),
         _mdp.gridworld_4x4(), 12),
    ]


def _terminal_fix():
    """The fix of the mistake "bootstraps from terminal states", in the reader's language."""
    return _("Nothing follows a terminal state: a terminal state's value is 0 by definition, "
             "whatever V holds there: read V as np.where(mdp.terminal, 0.0, V).")


def _check_values_shape(answer, mdp, what, case, q_hint):
    S, A = mdp.n_states, mdp.n_actions
    shape = np.shape(answer)
    if shape == (S, A):
        raise Hint(_("{what} has shape (S, A) = {shape} ({case}): that is Q(s, a), one value per "
                     "action. {q_hint}").format(what=what, shape=(S, A), case=case, q_hint=q_hint))
    return as_array(answer, (S,), what)


@checker
def check_bellman_backup(fn):
    r"""Exercise: ``bellman_backup(mdp, pi, V)`` $= (T^\pi V)(s)$ for every state, shape (S,)."""
    for case, mdp, seed in _mdp_cases():
        S, A = mdp.n_states, mdp.n_actions
        pi = _random_policy(seed, S, A)
        V = _random_values(seed + 100, S)        # nonzero on terminal states on purpose
        answer = call(fn, mdp, pi.copy(), V.copy())
        answer = _check_values_shape(answer, mdp, _("the backed-up V"), case,
                                     _("Average over actions with the policy weights: "
                                       "Σ_a pi[s, a] Q[s, a]."))
        expected = _mdp.bellman_expectation_backup(mdp, pi, V)
        Q = _q(mdp, V)
        mistakes = [
            (np.einsum("sa,sa->s", pi, _q(mdp, V, gamma=1.0)), _("your backup ignores the discount"),
             _("Multiply the expected next-state value Σ_s' P(s'|s,a) V(s') by mdp.gamma.")),
            (np.einsum("sa,sa->s", pi, _q(mdp, V, mask=False)),
             _("your backup bootstraps from terminal states"), _terminal_fix()),
            (Q.max(axis=1), _("your backup takes the max over actions (that is the optimality "
             "backup T*)"), _("The expectation backup averages over actions with the policy: "
             "Σ_a pi[s, a] Q[s, a].")),
            (Q.mean(axis=1), _("your backup ignores the policy weights (it averages the actions "
             "uniformly)"), _("Weight Q[s, a] by pi[s, a] = π(a|s), the policy passed in.")),
            (Q.sum(axis=1), _("your backup ignores the policy weights (it adds up all actions)"),
             _("Weight Q[s, a] by pi[s, a] = π(a|s) before summing over a.")),
            (np.einsum("sa,sa->s", pi, mdp.gamma * (mdp.P @ _masked(mdp, V))),
             _("your backup leaves out the reward"), _("Add r(s, a) = mdp.r[s, a] before weighting "
             "by the policy.")),
            (np.einsum("sa,sa->s", pi, mdp.r), _("your backup leaves out the next-state values"),
             _("Add γ Σ_s' P(s'|s,a) V(s') = mdp.gamma * (mdp.P @ V) to the reward.")),
        ]
        diagnose(answer, expected, mistakes, _("the backed-up value"), case, index_name=_("state"))
    return _("bellman_backup computes (T^π V)(s) = Σ_a π(a|s)[r(s,a) + γ Σ_s' P(s'|s,a) V(s')] "
             "on a random MDP, one with terminal states, and the γ = 1 grid world.")


# ------------------------------------------------------------ (b) one sweep of value iteration
def _gauss_seidel_sweep(mdp, V):
    """The in-place variant: states later in the sweep already see the new values."""
    V = _masked(mdp, np.asarray(V, dtype=float)).copy()
    for s in range(mdp.n_states):
        if not mdp.terminal[s]:
            V[s] = np.max(mdp.r[s] + mdp.gamma * mdp.P[s] @ V)
    return V


@checker
def check_value_iteration_sweep(fn):
    r"""Exercise: ``value_iteration_sweep(mdp, V)`` $= T^* V$, computed from the old V only."""
    for case, mdp, seed in _mdp_cases():
        V = _random_values(seed + 200, mdp.n_states)
        V_given = V.copy()
        answer = call(fn, mdp, V_given)
        answer = _check_values_shape(answer, mdp, _("the new V"), case,
                                     _("Value iteration keeps the best action's value: "
                                       "Q.max(axis=1)."))
        expected = _mdp.bellman_optimality_backup(mdp, V)
        Q = _q(mdp, V)
        mistakes = [
            (_gauss_seidel_sweep(mdp, V), _("your sweep updates V in place, so later states already "
             "use the new values of earlier ones (a Gauss-Seidel sweep)"), _("That variant converges "
             "too, but this exercise asks for the synchronous (Jacobi) sweep V_{k+1} = T* V_k: "
             "compute every new value from the old V, into a new array.")),
            (_q(mdp, V, gamma=1.0).max(axis=1), _("your sweep ignores the discount"),
             _("Multiply the expected next-state value Σ_s' P(s'|s,a) V(s') by mdp.gamma.")),
            (_q(mdp, V, mask=False).max(axis=1), _("your sweep bootstraps from terminal states"),
             _terminal_fix()),
            (Q.min(axis=1), _("your sweep takes the min over actions"), _("Value iteration keeps the "
             "best action: max over a, not min.")),
            (Q.mean(axis=1), _("your sweep averages over actions (that evaluates the random "
             "policy)"), _("Value iteration takes the max over actions: Q.max(axis=1).")),
            (Q.argmax(axis=1).astype(float), _("your sweep returns the best actions (argmax), "
             "not their values"), _("Return Q.max(axis=1), the value of the best action.")),
            (mdp.gamma * (mdp.P @ _masked(mdp, V)).max(axis=1), _("your sweep leaves out the "
             "reward"), _("Add r(s, a) = mdp.r[s, a] inside the max.")),
        ]
        diagnose(answer, expected, mistakes, _("the new value"), case, index_name=_("state"))
        require_unchanged(V_given, V, _("the array V it was given"), case, _("The caller still needs V_k, "
                          "e.g. to measure max|V_{k+1} - V_k|: write the new values into a new array "
                          "(V_new = np.empty_like(V), or build it with numpy)."))
    return _("value_iteration_sweep computes V_{k+1}(s) = max_a [r(s,a) + γ Σ_s' P(s'|s,a) V_k(s')] "
             "synchronously, on a random MDP, one with terminal states, and the γ = 1 grid world.")


# --------------------------------------------------------------------- (c) the greedy policy
def _greedy_cases():
    mdp5 = _mdp.gridworld_5x5()
    V5 = _mdp.policy_evaluation(mdp5, _mdp.uniform_random_policy(mdp5))
    mdp4 = _mdp.gridworld_4x4()
    V4 = _mdp.policy_evaluation(mdp4, _mdp.uniform_random_policy(mdp4))
    mdp_t = _random_mdp(21, n_states=7, gamma=0.5, terminal=[5, 6])
    V_t = _random_values(221, 7, scale=20.0)
    V_t[mdp_t.terminal] = 100.0          # large, so bootstrapping from them changes the argmax
    return [(_("a random 6-state MDP with γ = 0.5 and random V"),   # rewards and γ matter here
             _random_mdp(29, gamma=0.5), _random_values(229, 6, scale=3.0)),
            (_("a random 6-state MDP with γ = 0.9 and random V"),   # the future dominates here
             _random_mdp(20, gamma=0.9), _random_values(220, 6, scale=20.0)),
            (_("a random 7-state MDP with γ = 0.5, terminal states 5 and 6, and V nonzero there"),
             mdp_t, V_t),
            (_("Sutton & Barto's 5x5 grid world (γ = 0.9), V of the random policy"), mdp5, V5),
            (_("Sutton & Barto's 4x4 grid world (γ = 1), V of the random policy"), mdp4, V4)]


def _best_sets(Q):
    """Bool (S, A): the actions within round-off of the maximum of each row (ties allowed)."""
    tol = 1e-8 * max(1.0, float(np.max(np.abs(Q))))
    return Q >= Q.max(axis=1, keepdims=True) - tol


@checker
def check_greedy_policy(fn):
    r"""Exercise: ``greedy_actions(mdp, V)`` $= \arg\max_a [r(s,a) + \gamma \sum_{s'} P(s' \mid s,a) V(s')]$."""
    for case, mdp, V in _greedy_cases():
        S, A = mdp.n_states, mdp.n_actions
        answer = call(fn, mdp, V.copy())
        shape = np.shape(answer)
        if shape == (S, A):
            raise Hint(_("your policy has shape (S, A) = {shape} ({case}); return one action "
                         "index per state, shape ({S},), e.g. Q.argmax(axis=1).").format(
                             shape=(S, A), case=case, S=S))
        arr = as_array(answer, (S,), _("the greedy policy"))
        Q = _mdp.q_from_v(mdp, V)
        if not np.all(arr == np.round(arr)):
            if close(arr, Q.max(axis=1)):
                raise Hint(_("your function returns the best values max_a Q(s, a), not the best "
                             "actions ({case}); use argmax instead of max.").format(case=case))
            raise Hint(_("the greedy policy should hold action indices (integers 0 ... {last}), "
                         "got non-integer entries such as {example} ({case}).").format(
                             last=A - 1, example=fmt(arr[arr != np.round(arr)][0]), case=case))
        actions = arr.astype(int)
        if actions.min() < 0 or actions.max() >= A:
            raise Hint(_("actions must be integers in 0 ... {last}; got {example} ({case}).").format(
                last=A - 1, example=int(actions[(actions < 0) | (actions >= A)][0]), case=case))
        states = np.arange(S)
        ok = _best_sets(Q)[states, actions]
        if ok.all():
            continue
        mistakes = [
            (-Q, _("your policy picks the worst action (argmin instead of argmax)"),
             _("Use argmax over actions.")),
            (_q(mdp, V, gamma=1.0), _("your policy ignores the discount in the one-step look-ahead"),
             _("Use Q(s,a) = r(s,a) + mdp.gamma * Σ_s' P(s'|s,a) V(s').")),
            (_q(mdp, V, mask=False), _("your policy bootstraps from terminal states"),
             _terminal_fix()),
            (np.array(mdp.r, dtype=float), _("your policy ignores the future: it maximises the "
             "immediate reward r(s, a) only"), _("Add γ Σ_s' P(s'|s,a) V(s') to r(s, a) before the "
             "argmax.")),
            (mdp.gamma * (mdp.P @ _masked(mdp, V)), _("your policy ignores the reward: it maximises "
             "γ Σ_s' P(s'|s,a) V(s') only"), _("Add r(s, a) = mdp.r[s, a] before the argmax.")),
        ]
        for wrong_q, mistake, fix in mistakes:
            if _best_sets(wrong_q)[states, actions].all() and not _best_sets(wrong_q)[
                    states, Q.argmax(axis=1)].all():
                s = int(np.flatnonzero(~ok)[0])
                raise Hint(_("{mistake}: in state {s} ({case}) you chose action {chosen} with "
                             "Q = {q_chosen}, but action {best} has Q = {q_best}. {fix}").format(
                                 mistake=mistake, s=s, case=case, chosen=actions[s],
                                 q_chosen=fmt(Q[s, actions[s]]), best=int(Q[s].argmax()),
                                 q_best=fmt(Q[s].max()), fix=fix))
        s = int(np.flatnonzero(~ok)[0])
        raise Hint(_("in state {s} ({case}) you chose action {chosen} with Q(s, a) = {q_chosen}, "
                     "but action {best} has Q(s, a) = {q_best} "
                     "(Q(s, a) = r(s,a) + γ Σ_s' P(s'|s,a) V(s')).").format(
                         s=s, case=case, chosen=actions[s], q_chosen=fmt(Q[s, actions[s]]),
                         best=int(Q[s].argmax()), q_best=fmt(Q[s].max())))
    return _("greedy_actions picks an action of maximal Q(s,a) = r(s,a) + γ Σ_s' P(s'|s,a) V(s') in "
             "every state (any of tied actions counts) on 5 MDPs, including terminal states and γ = 1.")
