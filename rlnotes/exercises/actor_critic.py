r"""Checkers for the exercises of the chapter "Actor-critic methods" (book/actor_critic.ipynb,
{ref}`ch-actor-critic`).

(a) ``n_step_targets(rewards, next_values, terminated, truncated, gamma)``: the $n$-step
    targets of one copy's rollout, $\hat G_t = r_t + \gamma (1 - \text{terminated}_t)\,
    [\hat G_{t+1}$, or $V(s_{t+1})$ at a truncation or at the last step$]$,
    eq. {eq}`eq-ac-nstep`;
(b) ``entropy_bonus(logits)``: the mean entropy $\frac1B\sum_i \mathcal H(\pi(\cdot|s_i))$ of a
    batch of categorical policies given by their logits, $\mathcal H(p) = -\sum_a p_a \log p_a$
    (so $L_\text{reg}$ = minus this), eq. {eq}`eq-ac-loss`.

The references are computed here with plain loops, independently of
:func:`rlnotes.returns.n_step_returns` and :func:`rlnotes.algos.a2c.a2c_loss` (tested against
their own references in tests/test_a2c.py). Typical mistakes are simulated and recognised.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .core import Hint, _, as_array, call, checker, diagnose, to_numpy

__all__ = ["check_n_step_targets", "check_entropy_bonus"]

_TOL = dict(atol=1e-5, rtol=1e-5)


# ============================================================================================
# (a) n-step targets
# ============================================================================================
def _targets(r, v_next, term, trunc, gamma, *, stop_at_term=True, boot_trunc=True,
             boot_end=True, split_trunc=True, one_step=False):
    """Reference by a plain backward loop; each flag switches off one rule (a typical mistake)."""
    T = len(r)
    out = np.zeros(T)
    running = v_next[-1] if boot_end else 0.0           # after the last step: V(s_T)
    for t in reversed(range(T)):
        if one_step:
            running = v_next[t]                          # (mistake) always V(s_{t+1})
        elif t < T - 1 and trunc[t] and split_trunc:
            running = v_next[t] if boot_trunc else 0.0   # truncated: V(true final obs)
        cont = (1.0 - term[t]) if stop_at_term else 1.0
        running = r[t] + gamma * cont * running          # Ĝ_t = r_t + γ(1 − term_t)(...)
        out[t] = running
    return out


def _nstep_cases():
    rng = np.random.default_rng(5)
    cases = []
    for desc, T, gamma, term, trunc in [
        (_("T = 6 steps, an episode terminates at t = 2, γ = 0.9"), 6, 0.9,
         [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]),
        (_("T = 7 steps, one truncation (time limit) at t = 3, γ = 0.5"), 7, 0.5,
         [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0]),
        (_("T = 8 steps, a termination at t = 1 and a truncation at t = 5, γ = 0.99"), 8, 0.99,
         [0, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1, 0, 0]),
    ]:
        r = np.round(rng.uniform(-1, 2, T), 2)
        v_next = np.round(rng.uniform(2, 10, T), 2)
        cases.append((desc, r, v_next, np.array(term, bool), np.array(trunc, bool), gamma))
    return cases


@checker
def check_n_step_targets(fn):
    r"""Exercise: ``n_step_targets(rewards, next_values, terminated, truncated, gamma)`` -> $\hat G_t$, shape (T,)."""
    for case, r, v_next, term, trunc, gamma in _nstep_cases():
        args = (r.copy(), v_next.copy(), term.copy(), trunc.copy(), gamma)
        answer = as_array(call(fn, *args), r.shape, _("the targets for {case}").format(case=case))
        expected = _targets(r, v_next, term, trunc, gamma)
        mistakes = [
            (_targets(r, v_next, term, trunc, gamma, stop_at_term=False),
             _("you bootstrapped through a termination"), _("A terminal state has value 0: after "
             "terminated[t] nothing follows, so multiply the bootstrap by (1 - terminated[t]).")),
            (_targets(r, v_next, term, trunc, gamma, boot_trunc=False),
             _("you treated the truncation like a termination (no bootstrap)"), _("A time limit "
             "does not end the task: at truncated[t] the target is r_t + γ V(s_{t+1}), with "
             "next_values[t] the value of the true final observation.")),
            (_targets(r, v_next, term, trunc, gamma, split_trunc=False),
             _("your sum runs across the truncation into the next episode"), _("At truncated[t] "
             "the episode ends: use V(s_{t+1}) = next_values[t] there, not the next step's "
             "target.")),
            (_targets(r, v_next, term, trunc, gamma, boot_end=False),
             _("you did not bootstrap at the end of the rollout"), _("The last step's episode "
             "goes on: start the backward recursion from next_values[-1], "
             "Ĝ_{T-1} = r_{T-1} + γ V(s_T).")),
            (_targets(r, v_next, term, trunc, gamma, one_step=True),
             _("you computed one-step TD targets r_t + γ V(s_{t+1})"), _("The n-step target uses "
             "the real rewards up to the end of the rollout: Ĝ_t = r_t + γ Ĝ_{t+1} inside an "
             "episode.")),
            (_targets(r, v_next, term, trunc, 1.0), _("you forgot the discount γ"),
             "Ĝ_t = r_t + gamma * Ĝ_{t+1}."),
        ]
        diagnose(answer, expected, mistakes, _("the n-step target Ĝ_t"), case,
                 index_name=_("step"), **_TOL)
    return _("n_step_targets gives the n-step targets on 3 rollouts (terminations, a truncation "
             "and the rollout's end bootstrapped correctly).")


# ============================================================================================
# (b) the entropy bonus
# ============================================================================================
def _entropy_rows(logits):
    """Per-row entropy by a plain loop: p = softmax(ℓ), H = −Σ_a p_a log p_a (natural log)."""
    out = []
    for row in logits:
        m = max(row)
        e = [math.exp(x - m) for x in row]
        z = sum(e)
        p = [x / z for x in e]
        out.append(-sum(q * math.log(q) for q in p if q > 0))
    return np.array(out)


def _entropy_cases():
    rng = np.random.default_rng(11)
    return [
        (_("a batch of B = 5 states, A = 2 actions"), rng.normal(size=(5, 2)) * 2),
        (_("B = 4 states, A = 5 actions"), rng.normal(size=(4, 5))),
        (_("B = 3 states with large logits (one is 800)"),
         np.array([[800.0, 0.0, -5.0], [1.0, 2.0, 3.0], [-40.0, 10.0, 10.0]])),
    ]


@checker
def check_entropy_bonus(fn):
    r"""Exercise: ``entropy_bonus(logits)`` $= \frac1B \sum_i \mathcal H(\operatorname{softmax}(\ell_i))$, a scalar."""
    for case, logits in _entropy_cases():
        x = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
        answer = call(fn, x)
        if not isinstance(answer, torch.Tensor):
            raise Hint(_("return a torch tensor ({case}), got {type}: the bonus is part of the "
                         "loss, so keep it a tensor with its gradient (no .item() or .numpy()).")
                       .format(case=case, type=type(answer).__name__))
        if answer.numel() == 1 and not answer.requires_grad:
            raise Hint(_("your entropy carries no gradient ({case}): the bonus is part of the loss, "
                         "so compute it with torch operations on the logits (no .item(), .numpy() "
                         "or torch.no_grad()).").format(case=case))
        value = to_numpy(answer)
        arr = np.asarray(value, dtype=float) if not isinstance(value, (str, dict)) else None
        if arr is None:
            raise Hint(_("return a single number (a 0-d tensor) ({case}); got {type}").format(
                case=case, type=type(value).__name__))
        rows = _entropy_rows(logits)
        if arr.shape == (len(logits),):
            raise Hint(_("you returned one entropy per state, shape {shape} ({case}); the bonus "
                         "is their mean over the batch (.mean()).").format(shape=arr.shape, case=case))
        if arr.size != 1:
            raise Hint(_("return a single number ({case}); got shape {shape}").format(
                case=case, shape=arr.shape))
        got = float(arr.reshape(-1)[0])
        expected = rows.mean()
        if not np.isfinite(got):
            raise Hint(_("your entropy is {value} ({case}): log(softmax(ℓ)) underflows to log(0) "
                         "for large logits; use torch.log_softmax(logits, dim=-1).").format(
                value=got, case=case))
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        with np.errstate(all="ignore"):                 # log 0 in the mistakes' answers
            mistakes = [
                (rows.sum(), _("you summed over the batch instead of averaging"),
                 _("Use .mean() over states.")),
                (-expected, _("your sign is flipped (that is L_reg = −H)"), "H(p) = −Σ_a p_a log p_a ≥ 0."),
                (expected / math.log(2), _("you used log base 2"), _("Use the natural logarithm.")),
                (float(np.mean(-(logits * np.log(np.clip(np.abs(logits), 1e-300, None))).sum(1))),
                 _("you used the logits as probabilities"), _("First p = softmax(logits) (or "
                 "log p = log_softmax(logits)).")),
                (float(np.mean(-(p * logits).sum(1))), _("you used the logits instead of log p"),
                 _("log p_a = ℓ_a − log Σ_b exp(ℓ_b): use torch.log_softmax(logits, dim=-1).")),
                (float(-(p * np.log(p)).sum(0).mean()), _("you summed over the batch axis and "
                 "averaged over actions"), _("Sum over actions (dim=-1), then average over "
                 "states.")),
            ]
        diagnose(got, expected, mistakes, _("the mean entropy"), case, **_TOL)
    return _("entropy_bonus gives the mean entropy of softmax(logits) on 3 batches (large logits "
             "included), differentiable.")
