r"""Checkers for the exercises of the chapter "Deep deterministic policy gradient" (book/ddpg.ipynb,
{ref}`ch-ddpg`).

(a) ``polyak(target, source, tau)``: the soft target update $\tau\,\text{source} + (1 - \tau)\,\text{target}$
    of one parameter array, eq. {eq}`eq-ddpg-polyak`;
(b) ``ddpg_targets(rewards, next_q, terminated, truncated, gamma)``: the critic targets
    $y_i = r_i + \gamma (1 - \text{terminated}_i)\, Q_{\phi'}(s'_i, \mu_{\theta'}(s'_i))$ of a batch,
    given ``next_q`` $= Q_{\phi'}(s'_i, \mu_{\theta'}(s'_i))$ (B,), eq. {eq}`eq-ddpg-target`;
(c) ``td3_targets(rewards, mu_next, eps, noise_clip, q1, q2, terminated, gamma)``: TD3's target
    with target policy smoothing and clipped double Q, eq. {eq}`eq-ddpg-td3`; the target critics
    are given as functions ``q1(a), q2(a)`` of the (B, d) target actions.

The references are computed here with plain loops, independently of ``rlnotes.algos.ddpg``
(tested against its own references in tests/test_ddpg.py). Typical mistakes are simulated and
recognised by the answer they give.
"""
from __future__ import annotations

import numpy as np

from .core import Hint, ReturnsNone, _, as_array, call, checker, diagnose, number, require_unchanged, to_numpy

__all__ = ["check_polyak", "check_ddpg_targets", "check_td3_targets"]

_TOL = dict(atol=1e-5, rtol=1e-5)        # float32 answers (torch) must pass too


# ============================================================================================
# (a) the Polyak (soft) target update
# ============================================================================================
@checker
def check_polyak(fn):
    r"""Exercise: ``polyak(target, source, tau)`` $= \tau\,\text{source} + (1-\tau)\,\text{target}$."""
    rng = np.random.default_rng(4)
    for case, shape, tau in [(_("a (3, 2) weight matrix, τ = 0.005"), (3, 2), 0.005),
                             (_("a bias vector of 4, τ = 0.1"), (4,), 0.1),
                             (_("a (2, 2) matrix, τ = 1 (a hard copy)"), (2, 2), 1.0)]:
        target, source = np.round(rng.normal(size=shape), 3), np.round(rng.normal(size=shape), 3)
        given_t, given_s = target.copy(), source.copy()
        try:
            answer = call(fn, given_t, given_s, tau)
        except ReturnsNone:
            if np.array_equal(given_t, target):
                raise
            answer = given_t                      # updated `target` in place, returned nothing: fine
        answer = as_array(answer, shape, _("the new target parameters ({case})").format(case=case))
        expected = np.zeros(shape)
        for idx in np.ndindex(shape):             # reference, entry by entry
            expected[idx] = tau * source[idx] + (1 - tau) * target[idx]
        mistakes = [
            ((1 - tau) * source + tau * target, _("you swapped the weights: the target jumped a fraction "
             "1 − τ of the way to the online parameters"), _("The target takes a small step τ "
             "towards the online parameters: tau * source + (1 - tau) * target.")),
            (source, _("you copied the online parameters (a hard update)"), _("Polyak averaging moves "
             "the target only a fraction τ towards them.")),
            (target + tau * source, _("you added τ·source without shrinking the target"),
             _("target + tau * (source - target) = tau * source + (1 - tau) * target.")),
            (tau * (source - target), _("you returned only the change τ (source − target)"),
             _("Return the new target: target + tau * (source - target).")),
        ]
        diagnose(answer, expected, mistakes, _("the new target"), case, **_TOL)
        require_unchanged(given_s, source, _("the online parameters `source`"), case, _("Only the target moves."))
    return _("polyak computes τ·source + (1 − τ)·target (3 cases, τ = 1 a hard copy).")


# ============================================================================================
# (b) the DDPG critic targets
# ============================================================================================
def _ddpg_cases():
    rng = np.random.default_rng(8)
    cases = []
    for desc, gamma, term, trunc in [
        (_("a batch of B = 6 transitions, γ = 0.98"), 0.98, [0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 1]),
        (_("B = 4 Pendulum transitions (all truncated or running: Pendulum never terminates), γ = 0.9"),
         0.9, [0, 0, 0, 0], [1, 0, 1, 0]),
        (_("B = 5 transitions, γ = 0.5"), 0.5, [1, 0, 0, 1, 0], [0, 1, 0, 0, 0]),
    ]:
        B = len(term)
        rewards = np.round(rng.uniform(-8, 0, B), 2)
        next_q = np.round(rng.uniform(-60, -1, B), 2)
        cases.append((desc, rewards, next_q, np.array(term, bool), np.array(trunc, bool), gamma))
    return cases


@checker
def check_ddpg_targets(fn):
    r"""Exercise: ``ddpg_targets(rewards, next_q, terminated, truncated, gamma)`` $= r + \gamma(1-\text{term})\,Q_{\phi'}(s', \mu_{\theta'}(s'))$."""
    for case, r, next_q, term, trunc, gamma in _ddpg_cases():
        B = len(r)
        args = (r.copy(), next_q.copy(), term.copy(), trunc.copy())
        answer = to_numpy(call(fn, *args, gamma))
        if number(answer) is not None:
            raise Hint(_("you returned a single number ({case}); return one target per transition, "
                         "an array of shape ({B},).").format(case=case, B=B))
        answer = as_array(answer, (B,), _("the targets for {case}").format(case=case))
        expected = np.array([r[i] + (0.0 if term[i] else gamma * next_q[i]) for i in range(B)])
        done = term | trunc
        mistakes = [
            (r + gamma * (1 - done) * next_q, _("you treated truncation as termination: a transition "
             "cut by the time limit got the target r alone"), _("A time limit is not a terminal state; "
             "Pendulum is only ever truncated, so every one of its targets must bootstrap: multiply "
             "by (1 - terminated) only.")),
            (r + gamma * next_q, _("you bootstrapped through termination"), _("Nothing follows a terminal "
             "state: y = r there; multiply the bootstrap term by (1 - terminated).")),
            (r + (1 - term) * next_q, _("you forgot the discount γ"), _("y = r + gamma * (1 - terminated) "
             "* next_q.")),
            ((1 - term) * (r + gamma * next_q), _("you dropped the reward of terminal transitions"),
             _("(1 - terminated) multiplies the bootstrap term only.")),
            (r + gamma * (1 - trunc) * next_q, _("you used truncated where terminated belongs"),
             _("Termination stops the bootstrap, truncation does not.")),
            (r + gamma * (1 - term) * np.max(next_q), _("you took a max over the batch"), _("DDPG needs "
             "no max: next_q is already Q'(s', μ'(s')), one value per transition.")),
        ]
        diagnose(answer, expected, mistakes, _("the target"), case, index_name=_("transition"), **_TOL)
        require_unchanged(args, (r, next_q, term, trunc), _("its input arrays"), case,
                          _("Compute into a new array."))
    return _("ddpg_targets computes y = r + γ(1 − terminated) Q'(s', μ'(s')) on 3 batches: "
             "terminal transitions stop the bootstrap, truncated ones do not.")


# ============================================================================================
# (c) the TD3 target: target policy smoothing and clipped double Q
# ============================================================================================
class _LinearQ:
    """A stand-in target critic Q(a) = w·a + b per transition, callable on (B, d) actions."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def __call__(self, a):
        a = np.asarray(to_numpy(a), dtype=float)
        if a.shape != self.w.shape:
            raise Hint(_("q1 and q2 take the target actions as one (B, d) = {want} array; "
                         "they were called with shape {got}").format(want=self.w.shape, got=a.shape))
        return (a * self.w).sum(1) + self.b

    def ref(self, i, a_i):
        return sum(self.w[i, j] * a_i[j] for j in range(len(a_i))) + self.b[i]


def _td3_cases():
    rng = np.random.default_rng(21)
    cases = []
    for desc, B, d, gamma, c, term in [
        (_("B = 5 transitions, d = 1 action dimension, γ = 0.98, noise clip c = 0.5"), 5, 1, 0.98, 0.5,
         [0, 0, 1, 0, 0]),
        (_("B = 4 transitions, d = 2, γ = 0.9, c = 0.3"), 4, 2, 0.9, 0.3, [0, 1, 0, 0]),
    ]:
        mu = np.round(rng.uniform(-0.95, 0.95, (B, d)), 2)
        mu[0, 0] = 0.9                                 # near the box edge: the outer clip matters
        eps = np.round(rng.normal(0, 0.6, (B, d)), 2)
        eps[0, 0] = 0.45 if c > 0.45 else 0.25          # pushes a' beyond 1: outer clip active
        eps[1, 0] = 1.2                                 # beyond c: inner clip active
        q1 = _LinearQ(np.round(rng.normal(size=(B, d)) * 5, 2), np.round(rng.uniform(-20, -5, B), 2))
        q2 = _LinearQ(np.round(rng.normal(size=(B, d)) * 5, 2), np.round(rng.uniform(-20, -5, B), 2))
        r = np.round(rng.uniform(-5, 0, B), 2)
        cases.append((desc, r, mu, eps, c, q1, q2, np.array(term, bool), gamma))
    return cases


@checker
def check_td3_targets(fn):
    r"""Exercise: ``td3_targets(...)`` $= r + \gamma(1-\text{term})\min_j Q_j(\text{clip}(\mu' + \text{clip}(\epsilon, -c, c), -1, 1))$."""
    for case, r, mu, eps, c, q1, q2, term, gamma in _td3_cases():
        B, d = mu.shape
        args = (r.copy(), mu.copy(), eps.copy())
        answer = to_numpy(call(fn, *args, c, q1, q2, term.copy(), gamma))
        if number(answer) is not None:
            raise Hint(_("you returned a single number ({case}); return one target per transition, "
                         "an array of shape ({B},).").format(case=case, B=B))
        answer = as_array(answer, (B,), _("the targets for {case}").format(case=case))
        expected = np.zeros(B)
        for i in range(B):                               # reference, transition by transition
            a = [min(1.0, max(-1.0, mu[i, j] + min(c, max(-c, eps[i, j])))) for j in range(d)]
            q = min(q1.ref(i, a), q2.ref(i, a))
            expected[i] = r[i] + (0.0 if term[i] else gamma * q)
        a_ok = np.clip(mu + np.clip(eps, -c, c), -1, 1)
        cont = gamma * (1 - term)

        def y(a, combine=np.minimum):
            return r + cont * combine(q1(a), q2(a))
        mistakes = [
            (y(a_ok, np.maximum), _("you took the larger of the two critics"), _("Clipped double Q "
             "takes the *smaller* one, min(Q1, Q2), to counter the overestimation of a max.")),
            (y(a_ok, lambda x, z: (x + z) / 2), _("you averaged the two critics"), _("TD3 takes their "
             "minimum, min(Q1, Q2).")),
            (r + cont * q1(a_ok), _("you used only the first critic"), _("Evaluate both target critics "
             "and take the minimum.")),
            (y(np.clip(mu + eps, -1, 1)), _("you did not clip the noise ε to [−c, c]"), _("Target policy "
             "smoothing clips the noise first: np.clip(eps, -noise_clip, noise_clip).")),
            (y(mu + np.clip(eps, -c, c)), _("the smoothed action left the box [−1, 1]"), _("Clip the "
             "noisy target action too: np.clip(mu_next + clipped noise, -1, 1).")),
            (y(mu), _("you ignored the smoothing noise"), _("a' = clip(μ'(s') + clip(ε, −c, c), −1, 1).")),
            (r + gamma * np.minimum(q1(a_ok), q2(a_ok)), _("you bootstrapped through termination"),
             _("Multiply the bootstrap term by (1 - terminated).")),
        ]
        diagnose(answer, expected, mistakes, _("the TD3 target"), case, index_name=_("transition"), **_TOL)
        require_unchanged(args, (r, mu, eps), _("its input arrays"), case, _("Compute into a new array."))
    return _("td3_targets computes r + γ(1 − terminated) min(Q1, Q2)(clip(μ' + clip(ε, −c, c), −1, 1)) "
             "on 2 batches (both clips and the min active).")
