r"""Returns of one episode: the total discounted reward and the reward-to-go.

For an episode with rewards $r_0, \dots, r_{T-1}$ and discount $\gamma \in [0, 1]$:

* the **return** of the trajectory, $R(\tau) = \sum_{t=0}^{T-1} \gamma^t r_t$, is what the
  basic policy gradient weights every $\nabla_\theta \log \pi_\theta(a_t \mid s_t)$ with
  ({ref}`ch-score-function`);
* the **reward-to-go** $\hat R_t = \sum_{t'=t}^{T-1} \gamma^{t'-t} r_{t'}$ keeps only the
  rewards that come *after* the action $a_t$ — causality: an action cannot change the past
  ({ref}`ch-variance-reduction`). It satisfies $\hat R_t = r_t + \gamma \hat R_{t+1}$ with
  $\hat R_T = 0$, and $\hat R_0 = R(\tau)$.

:func:`reward_to_go` is the plain backward loop; :func:`discount_cumsum` computes the same
numbers without a Python loop (tested against each other). Rewards may be a numpy array, a
torch tensor or a list, of shape (T,) — one episode; the output type follows the input.
Returns are constants for the policy gradient (they are weights, not functions of $\theta$),
so torch outputs carry no autograd graph.
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["discounted_return", "reward_to_go", "discount_cumsum", "gae", "td_targets"]


def _episode_rewards(rewards, who):
    """-> (float64 numpy array (T,), function turning a float64 (T,) array into the input's type)."""
    if isinstance(rewards, torch.Tensor):
        like = rewards
        arr = rewards.detach().cpu().numpy().astype(np.float64)
        dtype = like.dtype if like.is_floating_point() else torch.get_default_dtype()

        def back(out):
            return torch.as_tensor(out, dtype=dtype, device=like.device)
    else:
        try:
            arr = np.asarray(rewards)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{who} needs the rewards of one episode as a numpy array, torch "
                             f"tensor or list of numbers; np.asarray failed with: {err}") from None
        dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{who} needs numeric rewards; got an array of dtype {arr.dtype}."
                             ) from None

        def back(out):
            return out.astype(dtype, copy=False)
    if arr.ndim != 1:
        raise ValueError(
            f"{who} needs the rewards of one episode, shape (T,); got shape {arr.shape}. Call it "
            "once per episode (episodes have different lengths, so a (T, n_envs) array from a "
            "vector env mixes several of them); a (T, 1) array can be flattened with "
            "rewards.reshape(-1).")
    if arr.size == 0:
        raise ValueError(f"{who} got an empty reward sequence; an episode has at least one step "
                         "(T >= 1). Skip empty episodes, or check that the rollout records one "
                         "reward per env.step.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{who}: the rewards contain NaN or inf (first at t = "
                         f"{int(np.flatnonzero(~np.isfinite(arr))[0])}); every reward must be a "
                         "finite number. Check the environment or the wrapper that produced it.")
    return arr, back


def _check_gamma(gamma, who):
    try:
        gamma = float(gamma)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: gamma must be a number in [0, 1]; got {gamma!r}.") from None
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"{who}: gamma must be a discount factor in [0, 1]; got {gamma}. "
                         "Typical choices are 0.99, or 1 for the undiscounted return.")
    return gamma


def discounted_return(rewards, gamma):
    r"""The discounted return of one episode, $R(\tau) = \sum_{t=0}^{T-1} \gamma^t r_t$.

    Defined in {ref}`ch-score-function` (and the notation page, {ref}`notation`).
    rewards: shape (T,), T >= 1, numpy array, torch tensor or list; gamma in [0, 1].
    Returns a Python float.
    """
    r, _ = _episode_rewards(rewards, "discounted_return")
    gamma = _check_gamma(gamma, "discounted_return")
    discounts = gamma ** np.arange(len(r))                        # γ^t, t = 0 .. T-1
    return float(np.dot(discounts, r))                            # Σ_t γ^t r_t


def reward_to_go(rewards, gamma=1.0):
    r"""Return still ahead at each step: $\hat R_t = \sum_{t'=t}^{T-1} \gamma^{t'-t} r_{t'}$.

    Derived in {ref}`ch-variance-reduction`. Computed by the recursion
    $\hat R_t = r_t + \gamma \hat R_{t+1}$, $\hat R_T = 0$, in a plain backward loop.
    rewards: shape (T,), T >= 1, numpy array, torch tensor or list; gamma in [0, 1].
    Returns shape (T,), of the input's type (numpy for lists) and floating dtype.
    """
    r, back = _episode_rewards(rewards, "reward_to_go")
    gamma = _check_gamma(gamma, "reward_to_go")
    out = np.zeros(len(r))
    running = 0.0
    for t in reversed(range(len(r))):
        running = r[t] + gamma * running                          # R̂_t = r_t + γ R̂_{t+1}
        out[t] = running
    return back(out)


def discount_cumsum(rewards, gamma=1.0):
    r"""Same as :func:`reward_to_go`, $\hat R_t = \sum_{t' \ge t} \gamma^{t'-t} r_{t'}$, vectorised.

    Derived in {ref}`ch-variance-reduction`. Uses
    $\hat R_t = \gamma^{-t} \sum_{t' \ge t} \gamma^{t'} r_{t'}$: a reversed cumulative sum of
    $\gamma^{t'} r_{t'}$, rescaled. So that $\gamma^{t}$ never underflows, the episode is cut
    into chunks short enough that $\gamma^{\text{chunk length}} \ge 10^{-150}$, joined by the
    recursion $\hat R_t = (\text{sum within the chunk}) + \gamma^{b - t} \hat R_b$.
    rewards: shape (T,), T >= 1, numpy array, torch tensor or list; gamma in [0, 1].
    Returns shape (T,), of the input's type and floating dtype.
    """
    r, back = _episode_rewards(rewards, "discount_cumsum")
    gamma = _check_gamma(gamma, "discount_cumsum")
    T = len(r)
    if gamma == 0.0:
        return back(r.copy())                                      # R̂_t = r_t
    if gamma == 1.0:
        return back(np.cumsum(r[::-1])[::-1].copy())               # R̂_t = Σ_{t'≥t} r_t'
    chunk = max(1, int(-150 * math.log(10) / math.log(gamma)))    # γ^chunk ≥ 1e-150
    out = np.empty(T)
    carry = 0.0                                                    # R̂_b at the chunk's end b
    for a in range(((T - 1) // chunk) * chunk, -1, -chunk):        # chunks from the last one
        b = min(a + chunk, T)
        powers = gamma ** np.arange(b - a)                         # γ^(t − a), t = a .. b-1
        suffix = np.cumsum((powers * r[a:b])[::-1])[::-1]          # Σ_{t'=t}^{b-1} γ^(t'−a) r_t'
        out[a:b] = suffix / powers + gamma * powers[::-1] * carry  # ... / γ^(t−a) + γ^(b−t) R̂_b
        carry = out[a]
    return back(out)


# --------------------------------------------------------------------------------------------
# Bootstrapped targets: TD targets and generalised advantage estimation (chapter "PPO")
# --------------------------------------------------------------------------------------------
def _rollout_arrays(who, **arrays):
    """Check (T,) / (T, N) arrays of one shape -> (dict of float64 numpy arrays, back-converter).

    The output type follows the first torch tensor among the inputs (its floating dtype), else
    numpy (the floating dtype of ``rewards`` or ``values``, float64 otherwise).
    """
    like = next((a for a in arrays.values() if isinstance(a, torch.Tensor)), None)
    out, shapes = {}, {}
    for name, a in arrays.items():
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        try:
            a = np.asarray(a)
            if a.dtype == object:
                raise TypeError
            out[name] = a.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{who}: {name} must be a numeric numpy array, torch tensor or list; "
                             f"got {type(arrays[name]).__name__}.") from None
        shapes[name] = a.shape
    first = next(iter(shapes.values()))
    if any(s != first for s in shapes.values()) or len(first) not in (1, 2) or first[0] == 0:
        raise ValueError(
            f"{who} needs arrays of one shape, (T,) for one env or (T, N) for N envs stepped "
            f"together (time first), T >= 1; got " + ", ".join(f"{k} {v}" for k, v in shapes.items())
            + ". next_values[t] is V(s_{t+1}), the value of the observation that followed step t "
            "(for a truncated step: of the true final observation, info['final_obs']).")
    for name, a in out.items():
        if not np.isfinite(a).all():
            raise ValueError(
                f"{who}: {name} contains NaN or inf (first at index "
                f"{tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])}); check the environment "
                f"(a reward or observation) or the value network (a diverging critic) that "
                f"produced it.")
    for name in ("terminated", "truncated"):
        if name in out and not np.isin(out[name], (0.0, 1.0)).all():
            raise ValueError(f"{who}: {name} must hold booleans (or 0/1); got other values.")
    if like is not None:
        dtype = like.dtype if like.is_floating_point() else torch.get_default_dtype()

        def back(x):
            return torch.as_tensor(x, dtype=dtype, device=like.device)
    else:
        ref = next((np.asarray(arrays[k]) for k in ("values", "rewards") if k in arrays), None)
        dtype = ref.dtype if ref is not None and np.issubdtype(ref.dtype, np.floating) else np.float64

        def back(x):
            return x.astype(dtype, copy=False)
    return out, back


def _check_unit(x, name, who):
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: {name} must be a number in [0, 1]; got {x!r}.") from None
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{who}: {name} must be in [0, 1]; got {x}.")
    return x


def td_targets(rewards, next_values, terminated, gamma=0.99):
    r"""One-step TD targets $y_t = r_t + \gamma\,(1 - \text{terminated}_t)\, V(s_{t+1})$.

    A terminal state has value 0, so nothing is bootstrapped after termination; after a
    truncation (time limit) the state was not terminal and $V(s_{t+1})$ — the value of the true
    final observation — is kept {cite}`pardo2018timelimits`. Derived in {ref}`ch-ppo`.

    rewards, next_values, terminated: (T,) or (T, N), numpy arrays or torch tensors (or lists);
    ``next_values[t]`` $= V(s_{t+1})$. gamma in [0, 1]. Returns the same shape; a torch tensor
    (without graph) if any input is one, else numpy.
    """
    a, back = _rollout_arrays("td_targets", rewards=rewards, next_values=next_values,
                              terminated=terminated)
    gamma = _check_unit(gamma, "gamma", "td_targets")
    return back(a["rewards"] + gamma * (1.0 - a["terminated"]) * a["next_values"])  # r + γ(1−term)V(s')


def gae(rewards, values, next_values, terminated, truncated, gamma=0.99, lam=0.95):
    r"""Generalised advantage estimates $\hat A_t$ {cite}`schulman2016gae`.

    $$\delta_t = r_t + \gamma\,(1 - \text{terminated}_t)\, V(s_{t+1}) - V(s_t), \qquad
      \hat A_t = \delta_t + \gamma\lambda\,(1 - \text{done}_t)\, \hat A_{t+1},$$

    with $\text{done}_t = \text{terminated}_t \lor \text{truncated}_t$ and $\hat A_T = 0$ after
    the last step of the array. Within an episode this is
    $\hat A_t = \sum_{l \ge 0} (\gamma\lambda)^l \delta_{t+l}$: $\lambda = 0$ gives the TD error
    $\delta_t$, $\lambda = 1$ gives $G_t - V(s_t)$ (Monte Carlo return minus the value) for an
    episode that terminates inside the array. Two kinds of episode end, treated differently:

    * **termination** (a terminal state): no value is bootstrapped, $V(s_{t+1})$ is dropped;
    * **truncation** (time limit, or the array ending): the episode did not end, so $\delta_t$
      keeps $\gamma V(s_{t+1})$, with ``next_values[t]`` the value of the *true* final
      observation (``info["final_obs"]``), not of the next episode's first observation.

    In both cases the sum stops at the episode end — the next row of the array belongs to a new
    episode. The last row of the array is cut by the rollout length: there the sum stops too
    and $\delta$ bootstraps from ``next_values``. Derived in {ref}`ch-ppo`.

    rewards, values, next_values, terminated, truncated: (T,) for one env or (T, N) for N envs
    (time first), numpy arrays or torch tensors (or lists); ``values[t]`` $= V(s_t)$,
    ``next_values[t]`` $= V(s_{t+1})$. gamma, lam in [0, 1].
    Returns $\hat A$ of the same shape: a torch tensor (no graph; advantages are constants in
    the policy loss) if any input is a tensor, else numpy. The value targets of PPO's value
    loss are $\hat A_t + V(s_t)$ (the λ-return).
    This is a plain backward loop over $t$, vectorised over the N envs.
    """
    a, back = _rollout_arrays("gae", rewards=rewards, values=values, next_values=next_values,
                              terminated=terminated, truncated=truncated)
    gamma = _check_unit(gamma, "gamma", "gae")
    lam = _check_unit(lam, "lam", "gae")
    r, v, v_next = a["rewards"], a["values"], a["next_values"]
    term = a["terminated"]
    done = np.maximum(term, a["truncated"])                        # terminated or truncated
    delta = r + gamma * (1.0 - term) * v_next - v                  # δ_t = r_t + γ(1−term_t)V(s_{t+1}) − V(s_t)
    adv = np.zeros_like(delta)
    running = np.zeros_like(delta[0])                              # Â_{t+1}, 0 after the last row
    for t in reversed(range(len(delta))):
        running = delta[t] + gamma * lam * (1.0 - done[t]) * running   # Â_t = δ_t + γλ(1−done_t)Â_{t+1}
        adv[t] = running
    return back(adv)
