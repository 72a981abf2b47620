r"""Checkers for the exercises of the chapter "Proximal policy optimisation"
(book/ppo.ipynb, {ref}`ch-ppo`).

(a) ``clipped_surrogate_loss(logp, logp_old, adv, clip_eps)``: minus the clipped surrogate
    objective, $-\frac1N\sum_t \min\big(r_t \hat A_t,\ \mathrm{clip}(r_t, 1-\epsilon, 1+\epsilon)\,\hat A_t\big)$
    with $r_t = \exp(\log\pi_\theta - \log\pi_{\theta'})$, eq. {eq}`eq-ppo-clip`; checked in
    value *and* in its gradient with respect to ``logp``;
(b) ``episode_gae(rewards, values, final_value, terminated, gamma, lam)``: generalised
    advantage estimates of one episode, $\hat A_t = \delta_t + \gamma\lambda \hat A_{t+1}$,
    bootstrapping from $V(o_T)$ when the episode was truncated but not when it terminated,
    eq. {eq}`eq-ppo-gae-recursion`;
(c) ``adapt_beta(beta, kl, kl_target)``: the adaptive KL coefficient of PPO's penalty
    variant, eq. {eq}`eq-ppo-beta-rule`: halve $\beta$ when the measured KL is below
    $d_\text{targ}/1.5$, double it above $1.5\,d_\text{targ}$, keep it otherwise.

The references are computed here from the formulas with plain loops, independently of
``rlnotes.returns`` and ``rlnotes.estimators`` (which have their own tests). Each typical
mistake is simulated and recognised by comparing the reader's answer with the mistake's answer.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .core import (
    Hint,
    _,
    as_array,
    call,
    checker,
    close,
    diagnose,
    first_diff,
    fmt,
    gradients,
    number,
    require_unchanged,
    to_numpy,
)

__all__ = ["check_clipped_surrogate_loss", "check_episode_gae", "check_adapt_beta"]


# ============================================================================================
# (a) the clipped surrogate loss
# ============================================================================================
def _clip_reference(logp, logp_old, adv, eps):
    """−(1/N) Σ min(r A, clip(r, 1−ε, 1+ε) A), one term at a time (torch, differentiable in logp)."""
    terms = []
    for k in range(len(logp)):
        r = torch.exp(logp[k] - logp_old[k])                          # r_t = π_θ / π_θ'
        r_clip = torch.clamp(r, 1.0 - eps, 1.0 + eps)
        terms.append(torch.minimum(r * adv[k], r_clip * adv[k]))     # min(r A, clip(r) A)
    return -torch.stack(terms).mean()


def _clip_mistakes(logp, logp_old, adv, eps):
    """(function of logp giving the loss that mistake gives, what the mistake is, how to fix it)."""
    ratio = lambda lp: torch.exp(lp - logp_old)                      # noqa: E731
    clip = lambda x: torch.clamp(x, 1.0 - eps, 1.0 + eps)           # noqa: E731
    return [
        (lambda lp: -torch.maximum(ratio(lp) * adv, clip(ratio(lp)) * adv).mean(),
         _("you took the max of the two terms instead of the min"),
         _("PPO keeps the *pessimistic* term: min(r·A, clip(r, 1−ε, 1+ε)·A). With the max, "
           "moving the ratio further out of the range is never penalised.")),
        (lambda lp: -torch.minimum(ratio(lp) * adv, ratio(lp) * clip(adv)).mean(),
         _("you clipped the advantage instead of the probability ratio"),
         _("Clip the ratio r = exp(logp − logp_old) to [1 − ε, 1 + ε] and multiply the clipped "
           "ratio by the (unclipped) advantage.")),
        (lambda lp: -torch.minimum(ratio(lp) * adv, clip(adv)).mean(),
         _("you clipped the advantage instead of the probability ratio (and dropped r from the "
           "second term)"), _("The second term is clip(r, 1 − ε, 1 + ε) · A.")),
        (lambda lp: -torch.minimum(ratio(lp) * adv, clip(ratio(lp) * adv)).mean(),
         _("you clipped the product r·A instead of the ratio r"),
         _("Clip r alone to [1 − ε, 1 + ε], then multiply by A: torch.clamp(ratio, 1 - clip_eps, "
           "1 + clip_eps) * adv.")),
        (lambda lp: torch.minimum(ratio(lp) * adv, clip(ratio(lp)) * adv).mean(),
         _("your loss has the wrong sign: you returned the objective itself"),
         _("Optimisers minimise, and PPO maximises the clipped objective: return minus its mean.")),
        (lambda lp: torch.maximum(ratio(lp) * adv, clip(ratio(lp)) * adv).mean(),
         _("you returned +max(...) instead of −min(...): both the sign and the min/max are flipped"),
         _("loss = −mean(min(r·A, clip(r, 1−ε, 1+ε)·A)).")),
        (lambda lp: -torch.minimum((lp - logp_old) * adv, clip(lp - logp_old) * adv).mean(),
         _("your ratio is logp − logp_old, a difference of log-probabilities, not a ratio"),
         _("r = π_θ(a|s) / π_θ'(a|s) = exp(logp − logp_old): take torch.exp of the difference.")),
        (lambda lp: -torch.minimum(lp / logp_old * adv, clip(lp / logp_old) * adv).mean(),
         _("your ratio is logp / logp_old, a ratio of log-probabilities"),
         _("r = π_θ / π_θ' = exp(logp − logp_old): the ratio of probabilities, not of their logs.")),
        (lambda lp: -torch.minimum(torch.exp(logp_old - lp) * adv,
                                   clip(torch.exp(logp_old - lp)) * adv).mean(),
         _("your ratio is upside down: exp(logp_old − logp) = π_θ' / π_θ"),
         _("r = π_θ / π_θ' = exp(logp − logp_old): the new policy on top.")),
        (lambda lp: -torch.minimum(ratio(lp) * adv, clip(ratio(lp)) * adv).sum(),
         _("you summed over the batch instead of averaging"),
         _("Take the mean over the N samples, so that the step size does not grow with the batch.")),
        (lambda lp: -(clip(ratio(lp)) * adv).mean(),
         _("you used only the clipped term, without the min"),
         _("Take the elementwise min of r·A and clip(r, 1−ε, 1+ε)·A: the clipped term alone has "
           "zero gradient wherever r left the range, even where the change made the objective "
           "worse and the min keeps the unclipped r·A (with its gradient).")),
        (lambda lp: -(ratio(lp) * adv).mean(),
         _("you did not clip at all: that is the plain surrogate −mean(r·A)"),
         _("Add the clipped term: −mean(min(r·A, clip(r, 1−ε, 1+ε)·A)).")),
        (lambda lp: -torch.minimum(ratio(lp) * adv, torch.clamp(ratio(lp), -eps, eps) * adv).mean(),
         _("you clipped the ratio to [−ε, ε] instead of [1 − ε, 1 + ε]"),
         _("The ratio is 1 where the policies agree: clip it to [1 − clip_eps, 1 + clip_eps].")),
        (lambda lp: -torch.minimum(ratio(lp) * adv, torch.clamp(ratio(lp), 1 - 2 * eps, 1 + 2 * eps)
                                   * adv).mean(),
         _("your clip range is twice too wide ([1 − 2ε, 1 + 2ε])"),
         _("Clip to [1 − clip_eps, 1 + clip_eps].")),
    ]


def _clip_cases():
    """(description, logp_old, logp, adv, clip_eps): ratios inside and outside the range, on
    both sides, with advantages of both signs."""
    ratios = np.array([0.5, 0.85, 0.95, 1.0, 1.1, 1.35, 0.7, 1.6, 1.15, 0.9])
    adv = np.array([1.5, -2.0, 0.7, -0.4, 1.2, -1.0, -0.8, 2.0, 0.3, 1.1])
    logp_old = np.log(np.array([0.2, 0.6, 0.35, 0.8, 0.1, 0.45, 0.5, 0.25, 0.3, 0.55]))
    cases = [(_("10 samples with ratios from 0.5 to 1.6, ε = 0.2"), logp_old, logp_old + np.log(ratios),
              adv, 0.2)]
    ratios2 = np.array([1.4, 0.6, 1.05, 0.97, 1.5, 0.8])
    adv2 = np.array([-1.0, 1.0, 2.5, -3.0, 1.05, -0.2])
    lo2 = np.log(np.array([0.3, 0.3, 0.7, 0.2, 0.9, 0.4]))
    cases.append((_("6 samples with ε = 0.1"), lo2, lo2 + np.log(ratios2), adv2, 0.1))
    cases.append((_("θ = θ' (all ratios 1), ε = 0.2"), lo2, lo2.copy(), adv2, 0.2))
    return cases


@checker
def check_clipped_surrogate_loss(fn):
    r"""Exercise: ``clipped_surrogate_loss(logp, logp_old, adv, clip_eps)``
    $= -\frac1N\sum_t \min(r_t \hat A_t, \mathrm{clip}(r_t, 1-\epsilon, 1+\epsilon)\hat A_t)$."""
    # 1. the reader's loss on every case (a malformed answer is reported at once)
    runs = []
    for case, lo, lp, a, eps in _clip_cases():
        logp_old = torch.tensor(lo, dtype=torch.float64)
        adv = torch.tensor(a, dtype=torch.float64)
        ref_logp = torch.tensor(lp, dtype=torch.float64, requires_grad=True)
        expected = _clip_reference(ref_logp, logp_old, adv, eps)       # before the reader's call
        (expected_grad,) = torch.autograd.grad(expected, ref_logp)
        logp = torch.tensor(lp, dtype=torch.float64, requires_grad=True)
        given = (logp_old.clone(), adv.clone())                        # what the reader receives
        answer = call(fn, logp, given[0], given[1], eps)
        if not (torch.equal(given[0], logp_old) and torch.equal(given[1], adv)):
            raise Hint(_("your function changed logp_old or adv in place ({case}); compute into "
                         "new tensors.").format(case=case))
        value = number(answer)
        if value is None:
            shape = tuple(np.shape(to_numpy(answer))) if not isinstance(answer, (str, dict)) else None
            if shape == (len(lp),):
                raise Hint(_("you returned one value per sample, shape {shape} ({case}): the loss "
                             "is a single number, the mean over the batch (then `loss.backward()` "
                             "works).").format(shape=shape, case=case))
            raise Hint(_("the loss should be a single number (a 0-d torch tensor), got "
                         "{got} ({case}).").format(got=type(answer).__name__, case=case))
        if not math.isfinite(value):
            raise Hint(_("your loss is {value} ({case}); check for log of negative numbers or "
                         "division by zero.").format(value=value, case=case))
        runs.append((case, logp, logp_old, adv, eps, answer, value, expected.item(), expected_grad))

    # 2. a wrong value: name the mistake that reproduces the reader's values on every case
    def mistake_values(k):
        _case, logp, logp_old, adv, eps, *_rest = runs[0] if k is None else runs[k]
        with torch.no_grad():
            return [float(f(logp.detach())) for f, _m, _fix in _clip_mistakes(logp.detach(), logp_old, adv, eps)]

    table = [mistake_values(k) for k in range(len(runs))]             # table[case][mistake]
    names = [(m, fix) for _f, m, fix in _clip_mistakes(*runs[0][1:4], runs[0][4])]
    same = lambda x, y: math.isfinite(y) and close(x, y)                 # noqa: E731
    for k, (case, *_rest, value, expected, _grad) in enumerate(runs):
        if same(value, expected):
            continue
        candidates = [j for j in range(len(names)) if same(value, table[k][j])
                      and not same(table[k][j], expected)]
        everywhere = [j for j in candidates if all(same(r[6], table[c][j]) for c, r in enumerate(runs))]
        for j in everywhere + candidates:
            mistake, fix = names[j]
            raise Hint(_("{mistake}: expected a loss of {want}, got {got} ({case}). {fix}").format(
                mistake=mistake, want=fmt(expected), got=fmt(value), case=case, fix=fix))
        raise Hint(_("the loss is wrong ({case}): expected {want}, got {got}.").format(
            case=case, want=fmt(expected), got=fmt(value)))

    # 3. the values are right: now the gradient with respect to logp
    for case, logp, logp_old, adv, eps, answer, value, expected, expected_grad in runs:
        (grad,) = gradients(answer, [logp], _("your loss"), case, _(
            "The optimiser cannot differentiate it: compute it with torch operations on `logp` "
            "(no .item(), .numpy(), .detach() or math.exp on the way)."))
        if grad is None:
            raise Hint(_("the value is right, but your loss does not depend on `logp` through "
                         "autograd ({case}); compute the ratio from logp itself.").format(case=case))
        grad = grad.detach().numpy()
        if not close(grad, expected_grad.numpy()):
            i = first_diff(grad, expected_grad.numpy())
            raise Hint(_("the value is right, but the gradient with respect to logp is not: "
                         "expected {want}, got {got} for sample {index} ({case}). Was a tensor "
                         "detached, or the clip applied with a non-differentiable operation?").format(
                want=fmt(expected_grad[i]), got=fmt(grad[i]), index=i, case=case))
    return _("clipped_surrogate_loss gives −mean(min(r·A, clip(r, 1−ε, 1+ε)·A)) and its gradient "
             "in logp on 3 batches (ratios inside and outside the range, A of both signs, θ = θ').")


# ============================================================================================
# (b) GAE for one episode that ended by termination or by truncation
# ============================================================================================
def _gae_ref(rewards, values, final_value, terminated, gamma, lam, *, bootstrap=None,
             gamma_in_delta=True, gamma_in_rec=True, lam_in_rec=True):
    """Â_t = δ_t + γλ Â_{t+1}, δ_t = r_t + γ V(s_{t+1}) − V(s_t), with V(s_T) = V(o_T) when the
    episode was truncated and 0 when it terminated. The keyword flags simulate mistakes."""
    T = len(rewards)
    if bootstrap is None:
        bootstrap = not terminated
    v_next = np.append(np.asarray(values[1:], dtype=float), final_value if bootstrap else 0.0)
    g_d = gamma if gamma_in_delta else 1.0
    out, running = np.zeros(T), 0.0
    for t in reversed(range(T)):
        delta = rewards[t] + g_d * v_next[t] - values[t]                # δ_t
        running = delta + (gamma if gamma_in_rec else 1.0) * (lam if lam_in_rec else 1.0) * running
        out[t] = running                                                # Â_t = δ_t + γλ Â_{t+1}
    return out


def _gae_forward(rewards, values, final_value, terminated, gamma, lam):
    T = len(rewards)
    v_next = np.append(np.asarray(values[1:], dtype=float), 0.0 if terminated else final_value)
    out, running = np.zeros(T), 0.0
    for t in range(T):
        running = rewards[t] + gamma * v_next[t] - values[t] + gamma * lam * running
        out[t] = running
    return out


def _gae_cases():
    rng = np.random.default_rng(46)
    r1, v1 = np.round(rng.uniform(-1, 2, 6), 2), np.round(rng.uniform(0, 4, 6), 2)
    r2, v2 = np.round(rng.uniform(-1, 2, 5), 2), np.round(rng.uniform(0, 4, 5), 2)
    r3, v3 = np.ones(8), np.round(np.linspace(6.0, 1.0, 8), 2)
    return [
        (_("an episode of 6 steps cut by the time limit (truncated), γ = 0.9, λ = 0.8"),
         r1, v1, 3.5, False, 0.9, 0.8),
        (_("an episode of 5 steps that reached a terminal state, γ = 0.9, λ = 0.8 (V(o_T) = 2.5 "
           "is passed but must not be used)"), r2, v2, 2.5, True, 0.9, 0.8),
        (_("a CartPole-like episode of 8 steps (reward 1), truncated, γ = 0.99, λ = 0.95"),
         r3, v3, 5.0, False, 0.99, 0.95),
        (_("a one-step episode, terminated, γ = 0.9, λ = 0.5"), np.array([2.0]), np.array([1.5]),
         4.0, True, 0.9, 0.5),
        (_("a one-step episode, truncated, γ = 0.9, λ = 0.5"), np.array([2.0]), np.array([1.5]),
         4.0, False, 0.9, 0.5),
        (_("the truncated 6-step episode with λ = 0 (advantages = TD errors)"), r1, v1, 3.5, False, 0.9, 0.0),
    ]


@checker
def check_episode_gae(fn):
    r"""Exercise: ``episode_gae(rewards, values, final_value, terminated, gamma, lam)``:
    $\hat A_t = \delta_t + \gamma\lambda\hat A_{t+1}$, bootstrapping only at truncation."""
    for case, r, v, vf, term, gamma, lam in _gae_cases():
        given = (r.copy(), v.copy())
        answer = to_numpy(call(fn, given[0], given[1], vf, term, gamma, lam))
        require_unchanged(given, (r, v), _("the rewards or values array it was given"), case,
                          _("Compute into a new array (np.zeros(len(rewards)))."))
        T = len(r)
        if number(answer) is not None and T > 1:
            raise Hint(_("for {case} you returned a single number; return one advantage per step, "
                         "an array of shape ({steps},).").format(case=case, steps=T))
        answer = as_array(answer, (T,), _("the advantages for {case}").format(case=case))
        expected = _gae_ref(r, v, vf, term, gamma, lam)
        ref = lambda **kw: _gae_ref(r, v, vf, term, gamma, lam, **kw)           # noqa: E731
        mistakes = [
            (ref(bootstrap=False), _("you did not bootstrap at the time limit: this episode was "
                                     "truncated, not terminated, so the state it was cut in still "
                                     "has value V(o_T)"),
             _("Use V(s_T) = final_value when terminated is False, so δ_{T-1} = r_{T-1} + γ "
               "final_value − V(s_{T-1}); only a terminal state has value 0.")),
            (ref(bootstrap=True), _("you bootstrapped from V(o_T) although the episode terminated: "
                                    "no reward follows a terminal state"),
             _("Use V(s_T) = 0 when terminated is True, whatever final_value says.")),
            (_gae_ref(r, v, vf, term, lam, gamma), _("you swapped γ and λ"),
             _("γ discounts the value in δ_t = r_t + γ V(s_{t+1}) − V(s_t); the recursion "
               "multiplies by γλ. (With γ = gamma, λ = lam, not the other way round.)")),
            (ref(gamma_in_rec=False), _("you forgot γ in the recursion: Â_t = δ_t + λ Â_{t+1}"),
             _("The sum is Σ_l (γλ)^l δ_{t+l}: the recursion is Â_t = δ_t + γ λ Â_{t+1}.")),
            (ref(lam_in_rec=False), _("you forgot λ in the recursion: Â_t = δ_t + γ Â_{t+1}"),
             _("That is λ = 1 (the Monte-Carlo advantage); use Â_t = δ_t + γ λ Â_{t+1}.")),
            (ref(gamma_in_delta=False), _("you forgot γ in the TD error: δ_t = r_t + V(s_{t+1}) − V(s_t)"),
             _("δ_t = r_t + γ V(s_{t+1}) − V(s_t).")),
            (ref(gamma_in_delta=False, gamma_in_rec=False), _("you forgot γ everywhere"),
             _("δ_t = r_t + γ V(s_{t+1}) − V(s_t) and Â_t = δ_t + γλ Â_{t+1}.")),
            (expected + v, _("you returned the λ-return Â_t + V(s_t), the value target, not the "
                             "advantage"),
             _("Do not add V(s_t) back: the advantage is Â_t = Σ_l (γλ)^l δ_{t+l}.")),
            (-expected, _("your advantages have the wrong sign"),
             _("δ_t = r_t + γ V(s_{t+1}) − V(s_t): positive when the step went better than V predicted.")),
            (_gae_forward(r, v, vf, term, gamma, lam), _("your recursion runs forwards in time"),
             _("Â_t depends on the TD errors from t on: loop over t in reversed(range(T)), "
               "starting from Â_T = 0.")),
            (_gae_ref(r, v, vf, term, gamma, 0.0), _("you returned the TD errors δ_t only (λ = 0)"),
             _("Accumulate them backwards: Â_t = δ_t + γλ Â_{t+1}.")),
        ]
        diagnose(answer, expected, mistakes, _("the advantage"), case, index_name=_("step"))
    return _("episode_gae computes Â_t = Σ_l (γλ)^l δ_{t+l} on 6 episodes, bootstrapping from "
             "V(o_T) after truncation and not after termination (one-step episodes and λ = 0 "
             "included).")


# ============================================================================================
# (c) the adaptive KL coefficient
# ============================================================================================
def _beta_ref(beta, kl, kl_target):
    if kl < kl_target / 1.5:
        return beta / 2.0
    if kl > kl_target * 1.5:
        return beta * 2.0
    return beta


def _beta_cases():
    """(description, beta, kl, kl_target): below, inside and above the band, several scales."""
    return [
        (_("β = 1, KL = 0.001, target 0.01 (KL far below the target)"), 1.0, 0.001, 0.01),
        (_("β = 1, KL = 0.05, target 0.01 (KL far above the target)"), 1.0, 0.05, 0.01),
        (_("β = 0.5, KL = 0.012, target 0.01 (KL close to the target)"), 0.5, 0.012, 0.01),
        (_("β = 0.5, KL = 0.008, target 0.01 (KL close to the target, below it)"), 0.5, 0.008, 0.01),
        (_("β = 3, KL = 0.0055, target 0.01 (just below target/1.5)"), 3.0, 0.0055, 0.01),
        (_("β = 3, KL = 0.0145, target 0.01 (just below 1.5 × target)"), 3.0, 0.0145, 0.01),
        (_("β = 0.2, KL = 0.0155, target 0.01 (just above 1.5 × target)"), 0.2, 0.0155, 0.01),
        (_("β = 0.2, KL = 0.07, target 0.03"), 0.2, 0.07, 0.03),
        (_("β = 2, KL = 0.0, target 0.02 (the policy did not move)"), 2.0, 0.0, 0.02),
    ]


def _beta_mistakes(beta, kl, kl_target):
    def rule(lo, hi, down, up):
        return beta * down if kl < lo else (beta * up if kl > hi else beta)

    d = kl_target
    return [
        (rule(d / 1.5, 1.5 * d, 2.0, 0.5), _("you moved β the wrong way: it must grow when the KL "
                                             "is too large (a stronger penalty pulls the next policy "
                                             "closer) and shrink when the KL is too small"),
         _("If KL > 1.5·target: β ← 2β; if KL < target/1.5: β ← β/2.")),
        (rule(d, d, 0.5, 2.0), _("you changed β whenever the KL differed from the target: the rule "
                                 "has a tolerance band [target/1.5, 1.5·target] in which β stays "
                                 "the same"),
         _("Halve β only if KL < target/1.5, double it only if KL > 1.5·target.")),
        (rule(d / 1.5, 1.5 * d, 1 / 1.5, 1.5), _("you scaled β by 1.5; 1.5 is the tolerance of the "
                                                 "band, the factor is 2"),
         _("β ← β/2 below the band, β ← 2β above it.")),
        (rule(d / 2, 2 * d, 0.5, 2.0), _("your band is [target/2, 2·target]; the thresholds are "
                                         "target/1.5 and 1.5·target"),
         _("Compare KL with kl_target / 1.5 and 1.5 * kl_target.")),
        (rule(d - 1.5, d + 1.5, 0.5, 2.0), _("you added/subtracted 1.5 to the target instead of "
                                             "multiplying/dividing"),
         _("The thresholds are kl_target / 1.5 and kl_target * 1.5.")),
        (rule(d / 1.5, 1.5 * d, 2.0, 2.0), _("you doubled β below the band too"),
         _("Below target/1.5 the policy moved too little: β ← β/2.")),
        (rule(d / 1.5, 1.5 * d, 0.5, 0.5), _("you halved β above the band too"),
         _("Above 1.5·target the policy moved too far: β ← 2β.")),
    ]


@checker
def check_adapt_beta(fn):
    r"""Exercise: ``adapt_beta(beta, kl, kl_target)``: $\beta/2$ if $d < d_\text{targ}/1.5$,
    $2\beta$ if $d > 1.5\, d_\text{targ}$, else $\beta$."""
    for case, beta, kl, target in _beta_cases():
        answer = to_numpy(call(fn, beta, kl, target))
        value = number(answer)
        if value is None:
            raise Hint(_("return the new β as one number; got {got} ({case}).").format(
                got=type(answer).__name__, case=case))
        if not math.isfinite(value):
            raise Hint(_("your new β is {value} ({case}).").format(value=value, case=case))
        expected = _beta_ref(beta, kl, target)
        diagnose(value, expected, _beta_mistakes(beta, kl, target), _("the new β"), case, atol=1e-12,
                 rtol=1e-6)
    return _("adapt_beta halves β below target/1.5, doubles it above 1.5·target and keeps it in "
             "between, on 9 cases (both edges of the band included).")
