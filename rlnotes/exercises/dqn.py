r"""Checkers for the exercises of the chapter "Q-learning and deep Q-networks" (book/dqn.ipynb,
{ref}`ch-dqn`).

(a) ``q_learning_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma)``: the new value
    $Q(s,a) + \alpha\,[r + \gamma (1 - \text{terminated}) \max_{a'} Q(s', a') - Q(s,a)]$ of one
    tabular Q-learning step, eq. {eq}`eq-dqn-q-learning`;
(b) ``dqn_targets(rewards, next_q, terminated, truncated, gamma)``: the DQN targets
    $y_i = r_i + \gamma (1 - \text{terminated}_i) \max_{a'} Q_{\theta^-}(s'_i, a')$ of a batch,
    eq. {eq}`eq-dqn-target`; truncation does not stop the bootstrap;
(c) ``double_dqn_targets(rewards, next_q_online, next_q_target, terminated, gamma)``: the Double
    DQN targets $y_i = r_i + \gamma (1 - \text{terminated}_i)\,
    Q_{\theta^-}(s'_i, \arg\max_{a'} Q_\theta(s'_i, a'))$, eq. {eq}`eq-dqn-double`.

The references are computed here from the formulas with plain loops, independently of
``rlnotes.tabular`` and ``rlnotes.algos.dqn`` (tested against their own references in their test
modules). Each typical mistake is simulated and recognised by comparing the reader's answer
with the answer that mistake gives.
"""
from __future__ import annotations

import numpy as np

from .core import Hint, _, as_array, call, checker, diagnose, number, require_unchanged, to_numpy

__all__ = ["check_q_learning_update", "check_dqn_targets", "check_double_dqn_targets"]

_TOL = dict(atol=1e-5, rtol=1e-5)        # float32 answers (torch) must pass too


def _call_batch(fn, *args):
    """call(), with a broadcasting error explained: it almost always means a max over the
    wrong axis (a vector of one value per *action* added to the rewards, one per transition)."""
    try:
        return call(fn, *args)
    except Hint as h:
        if "broadcast" in str(h) or "size of tensor" in str(h):
            raise Hint(_("{error}. This usually means a max over the wrong axis: next_q has shape (B, A), "
                         "one row per transition, so the max over the actions a' is over axis 1 "
                         "(next_q.max(axis=1)), which gives one value per transition, shape (B,).").format(
                error=str(h).rstrip())) from None
        raise


def _targets_answer(fn, args, gamma, case, B, wrong_shapes, fix):
    """The reader's targets for a batch of B transitions as a (B,) array; a single number or an
    answer of one of ``wrong_shapes`` gets a Hint that ends with ``fix``."""
    answer = to_numpy(_call_batch(fn, *args, gamma))
    if B > 1 and number(answer) is not None:
        raise Hint(_("your targets have a single number ({case}); there is one target per transition, "
                     "an array of shape ({B},). {fix}").format(case=case, B=B, fix=fix))
    if B > 1 and np.shape(answer) in set(wrong_shapes) - {(B,)}:
        raise Hint(_("your targets have shape {shape} ({case}); there is one target per transition, "
                     "an array of shape ({B},). {fix}").format(shape=np.shape(answer), case=case, B=B, fix=fix))
    return as_array(answer, (B,), _("the targets for {case}").format(case=case))


# ============================================================================================
# (a) one tabular Q-learning update
# ============================================================================================
def _q_update_cases():
    """(description, Q, s, a, r, s_next, a_next, terminated, alpha, gamma). The tables have
    non-zero entries in the rows of the terminal states and the next action a_next is never the
    greedy one, so that every typical mistake gives a different number."""
    rng = np.random.default_rng(6)
    Q1 = np.round(rng.uniform(-2, 2, (6, 3)), 2)
    Q1[4] = [0.5, 2.0, -1.0]                    # s' = 4: greedy action 1, the agent takes 2
    Q1[5] = [3.0, 0.0, 1.0]                     # the table's maximum is elsewhere
    Q2 = np.round(rng.uniform(-1, 3, (5, 4)), 2)
    Q2[3] = [1.5, -0.5, 2.5, 0.0]               # a terminal state with (meaningless) values
    Q3 = np.round(rng.uniform(-10, 0, (8, 2)), 2)
    Q3[7] = [-3.0, -1.0]
    return [
        (_("s=1, a=0, r=1, s'=4, a'=2, not terminated, α=0.5, γ=0.9"), Q1, 1, 0, 1.0, 4, 2, False, 0.5, 0.9),
        (_("s=2, a=1, r=5, s'=3 terminal, a'=0, α=0.5, γ=0.9 (the table holds non-zero values for "
           "the terminal state s'=3)"), Q2, 2, 1, 5.0, 3, 0, True, 0.5, 0.9),
        (_("s=0, a=1, r=-1, s'=7, a'=0, not terminated, α=0.1, γ=0.99"), Q3, 0, 1, -1.0, 7, 0, False, 0.1, 0.99),
    ]


def _q_update_mistakes(Q, s, a, r, s2, a2, term, alpha, gamma):
    q, cont = Q[s, a], 0.0 if term else 1.0
    y = r + gamma * cont * Q[s2].max()
    return [
        (q + alpha * (r + gamma * cont * Q[s2, a2] - q), _("you bootstrapped from Q(s', a'), the value "
         "of the action the agent takes next: that is SARSA's target"), _("Q-learning is off-policy: "
         "its target uses the best next action, max_a' Q(s', a') = Q[s_next].max(), whatever a' is.")),
        (q + alpha * (r + gamma * Q[s2].max() - q), _("you bootstrapped from a terminal state"),
         _("After termination no reward follows: the target is just r, i.e. multiply the bootstrap "
           "term by (1 - terminated).")),
        (y, _("you returned the target y itself (as if α = 1)"), _("Move Q(s, a) only a step α towards "
         "the target: Q(s, a) + alpha * (y - Q(s, a)).")),
        (q + alpha * (r + cont * Q[s2].max() - q), _("you forgot the discount γ on the bootstrap term"),
         _("y = r + gamma * (1 - terminated) * max_a' Q(s', a').")),
        (alpha * (y - q), _("you returned only the change α (y − Q(s, a))"), _("Return the new value, "
         "Q(s, a) + alpha * (y - Q(s, a)).")),
        (q - alpha * (y - q), _("your update moves Q(s, a) away from the target (wrong sign)"),
         _("Q(s, a) + alpha * (y - Q(s, a)): the TD error y − Q(s, a) is added.")),
        (q + alpha * y, _("you forgot to subtract Q(s, a) inside the brackets"),
         _("The step is proportional to the TD error y − Q(s, a), not to y.")),
        ((1 - alpha) * q + alpha * (r + gamma * cont * Q[s].max()), _("you bootstrapped from the "
         "current state s instead of the next state s'"), _("The target looks one step ahead: "
         "max_a' Q(s_next, a').")),
        (q + alpha * (r + gamma * cont * Q.max() - q), _("you took the max over the whole table"),
         _("Only the next state's row counts: Q[s_next].max().")),
    ]


@checker
def check_q_learning_update(fn):
    r"""Exercise: ``q_learning_update(...)`` $= Q(s,a) + \alpha[r + \gamma(1-\text{term})\max_{a'} Q(s',a') - Q(s,a)]$."""
    for case, Q, s, a, r, s2, a2, term, alpha, gamma in _q_update_cases():
        given = Q.copy()
        answer = to_numpy(call(fn, given, s, a, r, s2, a2, term, alpha, gamma))
        value = number(answer)
        if value is None:
            shape = np.shape(answer) if not isinstance(answer, (str, bytes, dict)) else None
            if shape == Q.shape:
                raise Hint(_("you returned a whole table of shape {shape} ({case}); return only the "
                             "new value of the entry Q(s, a), a single number (and leave Q unchanged).").format(
                    shape=Q.shape, case=case))
            raise Hint(_("return the new value of Q(s, a) as a single number ({case}); got {kind} {got}").format(
                case=case, kind=type(answer).__name__, got=f"{answer!r:.60}"))
        if not np.isfinite(value):
            raise Hint(_("your update returned {value} ({case})").format(value=value, case=case))
        q, cont = Q[s, a], 0.0 if term else 1.0
        expected = q + alpha * (r + gamma * cont * Q[s2].max() - q)
        diagnose(value, expected, _q_update_mistakes(Q, s, a, r, s2, a2, term, alpha, gamma),
                 _("the updated Q(s, a)"), case, **_TOL)
        require_unchanged(given, Q, _("the table Q it was given"), case, _("Compute the new value and return it, "
                          "without writing into Q."))
    return _("q_learning_update computes Q(s,a) + α[r + γ(1 − terminated) max_a' Q(s',a') − Q(s,a)] on "
             "3 transitions (a terminal one included).")


# ============================================================================================
# (b) the DQN targets of a batch
# ============================================================================================
def _dqn_cases():
    """(description, rewards (B,), next_q (B, A), terminated (B,), truncated (B,), gamma)."""
    rng = np.random.default_rng(3)
    cases = []
    for desc, B, A, gamma, term, trunc in [
        (_("a batch of B = 6 CartPole-like transitions (A = 2), γ = 0.99"), 6, 2, 0.99,
         [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0]),
        (_("B = 3 transitions with A = 3 actions, γ = 0.9"), 3, 3, 0.9, [0, 0, 1], [1, 0, 0]),
        (_("B = 5 transitions with A = 4 actions, γ = 0.5"), 5, 4, 0.5, [1, 0, 0, 0, 0], [0, 0, 0, 1, 1]),
    ]:
        rewards = np.round(rng.uniform(-1, 2, B), 2)
        next_q = np.round(rng.uniform(-3, 10, (B, A)), 2)
        cases.append((desc, rewards, next_q, np.array(term, bool), np.array(trunc, bool), gamma))
    return cases


def _dqn_target(r, next_q, term, gamma):
    """Reference, one transition at a time: y_i = r_i + γ (1 − terminated_i) max_a' Q⁻(s'_i, a')."""
    y = np.zeros(len(r))
    for i in range(len(r)):
        y[i] = r[i] + (0.0 if term[i] else gamma * max(next_q[i]))
    return y


@checker
def check_dqn_targets(fn):
    r"""Exercise: ``dqn_targets(rewards, next_q, terminated, truncated, gamma)`` $= r + \gamma(1-\text{term})\max_{a'} Q_{\theta^-}(s', a')$."""
    for case, r, next_q, term, trunc, gamma in _dqn_cases():
        B, A = next_q.shape
        args = (r.copy(), next_q.copy(), term.copy(), trunc.copy())
        answer = _targets_answer(fn, args, gamma, case, B, [(A,), (B, A), (B, B)],
                                 _("Take the max over the actions only, axis 1 of next_q (shape (B, A)): "
                                   "next_q.max(axis=1); and check that nothing broadcasts to a matrix."))
        expected = _dqn_target(r, next_q, term, gamma)
        done = term | trunc
        best = next_q.max(1)
        mistakes = [
            (r + gamma * (1 - done) * best, _("you treated truncation as termination: a transition "
             "cut by the time limit got the target r alone"), _("Truncation only stops the experiment; "
             "the next state still has a future, so bootstrap: multiply by (1 - terminated) only, "
             "never by (1 - (terminated or truncated)).")),
            (r + gamma * best, _("you bootstrapped through termination: a terminal transition got "
             "r + γ max Q"), _("Nothing follows a terminal state: y = r there; multiply the bootstrap "
             "term by (1 - terminated).")),
            (r + gamma * (1 - term) * next_q.max(0)[:B] if A >= B else np.full(B, np.nan),
             _("you took the max over the wrong axis (over the transitions, axis 0)"),
             _("next_q has shape (B, A): the max over the actions is next_q.max(axis=1).")),
            (r + gamma * (1 - term) * next_q.max(), _("you took the max over the whole batch (one "
             "number for all transitions)"), _("Each transition has its own next state: the max is over "
             "the actions of each row, next_q.max(axis=1).")),
            (r + gamma * (1 - term) * next_q.mean(1), _("you averaged over the actions instead of "
             "taking the max"), _("DQN's target uses the greedy value max_a' Q⁻(s', a').")),
            (r + (1 - term) * best, _("you forgot the discount γ"), _("y = r + gamma * (1 - terminated) * "
             "max_a' Q⁻(s', a').")),
            ((1 - term) * (r + gamma * best), _("you dropped the reward of terminal transitions"),
             _("The last reward is still received: y = r + gamma * (1 - terminated) * max Q⁻, with "
               "(1 - terminated) on the bootstrap term only.")),
            (r + gamma * (1 - term) * next_q.argmax(1), _("you used the index of the best action "
             "(argmax) instead of its value (max)"), _("Take next_q.max(axis=1), the values.")),
            (r + gamma * (1 - trunc) * best, _("you used truncated where terminated belongs"),
             _("Multiply by (1 - terminated): termination stops the bootstrap, truncation does not.")),
        ]
        diagnose(answer, expected, mistakes, _("the target"), case, index_name=_("transition"), **_TOL)
        require_unchanged(args, (r, next_q, term, trunc), _("its input arrays"), case,
                          _("Compute the targets into a new array."))
    return _("dqn_targets computes y = r + γ(1 − terminated) max_a' Q⁻(s', a') on 3 batches: "
             "terminal transitions stop the bootstrap, truncated ones do not.")


# ============================================================================================
# (c) the Double DQN targets of a batch
# ============================================================================================
def _double_cases():
    """(description, rewards (B,), next_q_online (B, A), next_q_target (B, A), terminated, gamma).
    The online and target networks disagree about the best action in most rows."""
    rng = np.random.default_rng(12)
    cases = []
    for desc, B, A, gamma, term in [
        (_("B = 6 transitions, A = 2 actions, γ = 0.99"), 6, 2, 0.99, [0, 0, 1, 0, 0, 0]),
        (_("B = 4 transitions, A = 3 actions, γ = 0.9"), 4, 3, 0.9, [0, 1, 0, 0]),
        (_("B = 5 transitions, A = 4 actions, γ = 0.5"), 5, 4, 0.5, [0, 0, 0, 0, 1]),
    ]:
        online = np.round(rng.uniform(0, 10, (B, A)), 2)
        target = np.round(rng.uniform(0, 10, (B, A)), 2)
        for i in range(B):         # make the two networks prefer different actions in most rows
            if i % 3 != 2 and online[i].argmax() == target[i].argmax():
                target[i] = target[i][::-1].copy()
                if online[i].argmax() == target[i].argmax():
                    target[i, online[i].argmax()] -= 10.0
        rewards = np.round(rng.uniform(-1, 2, B), 2)
        cases.append((desc, rewards, online, target, np.array(term, bool), gamma))
    return cases


def _double_target(r, online, target, term, gamma):
    """Reference: y_i = r_i + γ (1 − terminated_i) Q⁻(s'_i, argmax_a' Q_θ(s'_i, a'))."""
    y = np.zeros(len(r))
    for i in range(len(r)):
        a_star = int(np.argmax(online[i]))              # selected by the online network θ
        y[i] = r[i] + (0.0 if term[i] else gamma * target[i, a_star])   # evaluated by θ⁻
    return y


@checker
def check_double_dqn_targets(fn):
    r"""Exercise: ``double_dqn_targets(...)`` $= r + \gamma(1-\text{term})\,Q_{\theta^-}(s', \arg\max_{a'} Q_\theta(s', a'))$."""
    for case, r, online, target, term, gamma in _double_cases():
        B, A = online.shape
        args = (r.copy(), online.copy(), target.copy(), term.copy())
        answer = _targets_answer(fn, args, gamma, case, B, [(A,), (B, A), (B, B)],
                                 _("Pick one entry per row: next_q_target[np.arange(B), a_star] (or "
                                   "take_along_axis / gather)."))
        expected = _double_target(r, online, target, term, gamma)
        rows = np.arange(B)
        cont = gamma * (1 - term)
        swapped = online[rows, target.argmax(1)]
        mistakes = [
            (r + cont * target.max(1), _("you took the argmax with the target network: that is the "
             "plain DQN target max_a' Q⁻(s', a')"), _("Double DQN *selects* the action with the online "
             "network, a* = argmax_a' Q_θ(s', a') (next_q_online), and *evaluates* it with the target "
             "network, Q⁻(s', a*).")),
            (r + cont * online.max(1), _("you evaluated the action with the online network: "
             "Q_θ(s', argmax_a' Q_θ(s', a')) is just max_a' Q_θ(s', a'), the overestimating target "
             "Double DQN avoids"), _("Evaluate the online network's choice with the target network: "
             "next_q_target[rows, a_star].")),
            (r + cont * swapped, _("you swapped the roles of the two networks: the action was chosen "
             "by the target network and evaluated by the online one"), _("a* = argmax of next_q_online; "
             "its value is read from next_q_target.")),
            (r + gamma * target[rows, online.argmax(1)], _("you forgot (1 − terminated): a terminal "
             "transition still bootstrapped"), _("Nothing follows a terminal state: multiply the "
             "bootstrap term by (1 - terminated).")),
            (r + (1 - term) * target[rows, online.argmax(1)], _("you forgot the discount γ"),
             _("y = r + gamma * (1 - terminated) * Q⁻(s', a*).")),
            (r + cont * online.argmax(1), _("you used the index a* of the best action instead of its "
             "value"), _("Look the value up: next_q_target[np.arange(B), a_star].")),
            ((1 - term) * (r + gamma * target[rows, online.argmax(1)]), _("you dropped the reward of "
             "terminal transitions"), _("(1 - terminated) multiplies the bootstrap term only.")),
        ]
        diagnose(answer, expected, mistakes, _("the Double DQN target"), case, index_name=_("transition"),
                 **_TOL)
        require_unchanged(args, (r, online, target, term), _("its input arrays"), case,
                          _("Compute the targets into a new array."))
    return _("double_dqn_targets computes y = r + γ(1 − terminated) Q⁻(s', argmax_a' Q_θ(s', a')) on "
             "3 batches: online network selects, target network evaluates.")
