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

__all__ = ["discounted_return", "reward_to_go", "discount_cumsum"]


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
