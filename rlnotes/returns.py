r"""Returns and targets: every return and regression target of the book, in one module.

For an episode with rewards $r_0, \dots, r_{T-1}$ and discount $\gamma \in [0, 1]$:

* the **return** of the trajectory, $R(\tau) = \sum_{t=0}^{T-1} \gamma^t r_t$, is what the
  basic policy gradient weights every $\nabla_\theta \log \pi_\theta(a_t \mid s_t)$ with
  ({ref}`ch-score-function`);
* the **reward-to-go** $\hat R_t = \sum_{t'=t}^{T-1} \gamma^{t'-t} r_{t'}$ keeps only the
  rewards that come *after* the action $a_t$ — causality: an action cannot change the past
  ({ref}`ch-variance-reduction`). It satisfies $\hat R_t = r_t + \gamma \hat R_{t+1}$ with
  $\hat R_T = 0$, and $\hat R_0 = R(\tau)$.

:func:`reward_to_go` is the plain backward loop; :func:`discount_cumsum` computes the same
numbers without a Python loop (tested against each other). An episode cut by a time limit is
completed by :func:`truncation_bootstrap`, $\gamma^{T-t} V(o_T)$. Rewards may be a numpy array, a
torch tensor or a list, of shape (T,) — one episode; the output type follows the input.
Returns are constants for the policy gradient (they are weights, not functions of $\theta$),
so torch outputs carry no autograd graph.

Bootstrapped targets replace the rest of the return by a learned value: the one-step TD target
:func:`td_targets` $r_t + \gamma (1 - \text{terminated}_t) V(s_{t+1})$, the $n$-step returns of
A2C/A3C (:func:`n_step_returns`) and GAE (:func:`gae`) over a rollout of $N$ environments, and
the targets of the Q-learning family, where the value of the next state comes from target
networks: DQN (:func:`dqn_targets`), Double DQN (:func:`double_dqn_targets`) and DDPG/TD3
(:func:`ddpg_targets`). Only termination stops a bootstrap; a truncated step bootstraps from
the true final observation {cite}`pardo2018timelimits`.

The input checks live in ``rlnotes._checks``: the decorators ``checked_episode`` and
``checked_rollout`` hand each function float64 numpy arrays and return its result in the
input's type, so the body of each function is its equation.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ._checks import checked_episode, checked_rollout, discount

__all__ = ["discounted_return", "reward_to_go", "discount_cumsum", "truncation_bootstrap", "td_targets",
           "n_step_returns", "gae", "dqn_targets", "double_dqn_targets", "ddpg_targets"]


@checked_episode
def discounted_return(rewards, gamma):
    r"""The discounted return of one episode, $R(\tau) = \sum_{t=0}^{T-1} \gamma^t r_t$.

    Defined in {ref}`ch-score-function` (and the notation page, {ref}`notation`).
    rewards: shape (T,), T >= 1, numpy array, torch tensor or list; gamma in [0, 1].
    Returns a Python float.
    """
    discounts = gamma ** np.arange(len(rewards))                  # γ^t, t = 0 .. T-1
    return float(np.dot(discounts, rewards))                      # Σ_t γ^t r_t


@checked_episode
def reward_to_go(rewards, gamma=1.0):
    r"""Return still ahead at each step: $\hat R_t = \sum_{t'=t}^{T-1} \gamma^{t'-t} r_{t'}$.

    Derived in {ref}`ch-variance-reduction`. Computed by the recursion
    $\hat R_t = r_t + \gamma \hat R_{t+1}$, $\hat R_T = 0$, in a plain backward loop.
    rewards: shape (T,), T >= 1, numpy array, torch tensor or list; gamma in [0, 1].
    Returns shape (T,), of the input's type (numpy for lists) and floating dtype.
    """
    out = np.zeros(len(rewards))
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running                    # R̂_t = r_t + γ R̂_{t+1}
        out[t] = running
    return out


@checked_episode
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
    T = len(rewards)
    if gamma == 0.0:
        return rewards.copy()                                      # R̂_t = r_t
    if gamma == 1.0:
        return np.cumsum(rewards[::-1])[::-1].copy()               # R̂_t = Σ_{t'≥t} r_t'
    chunk = max(1, int(-150 * math.log(10) / math.log(gamma)))    # γ^chunk ≥ 1e-150
    out = np.empty(T)
    carry = 0.0                                                    # R̂_b at the chunk's end b
    for a in range(((T - 1) // chunk) * chunk, -1, -chunk):        # chunks from the last one
        b = min(a + chunk, T)
        powers = gamma ** np.arange(b - a)                         # γ^(t − a), t = a .. b-1
        suffix = np.cumsum((powers * rewards[a:b])[::-1])[::-1]    # Σ_{t'=t}^{b-1} γ^(t'−a) r_t'
        out[a:b] = suffix / powers + gamma * powers[::-1] * carry  # ... / γ^(t−a) + γ^(b−t) R̂_b
        carry = out[a]
    return out


def truncation_bootstrap(final_values, steps_left, gamma):
    r"""What the reward-to-go of a truncated episode leaves out: $\gamma^{T-t}\, V(o_T)$ at step $t$.

    An episode cut by a time limit after $T$ steps did not end; the rewards it would have
    collected after $o_T$, its true final observation, are worth $V(o_T)$ there and
    $\gamma^{T-t} V(o_T)$ seen from step $t$. Added to $\hat R_t$ (:func:`reward_to_go`) it
    gives the value target of a truncated episode {cite}`pardo2018timelimits`; a terminated
    episode gets nothing added (no reward follows a terminal state). Derived in
    {ref}`ch-variance-reduction`.

    final_values: $V(o_T)$ of each step's episode, shape (n,); steps_left: $T - t$ per step,
    integers >= 1, shape (n,); gamma in [0, 1]. Returns float64 (n,).
    """
    gamma = discount(gamma, "truncation_bootstrap")
    steps_left = np.asarray(steps_left)
    if not np.issubdtype(steps_left.dtype, np.integer) or (steps_left < 1).any():
        raise ValueError(f"truncation_bootstrap: steps_left must be integers T - t >= 1 (the steps from t to the "
                         f"end of the episode); got {steps_left!r}.")
    return gamma ** steps_left * np.asarray(final_values, dtype=np.float64)        # γ^{T−t} V(o_T)


# --------------------------------------------------------------------------------------------
# Bootstrapped targets of a rollout: TD targets, n-step returns, GAE
# --------------------------------------------------------------------------------------------
@checked_rollout
def td_targets(rewards, next_values, terminated, gamma=0.99):
    r"""One-step TD targets $y_t = r_t + \gamma\,(1 - \text{terminated}_t)\, V(s_{t+1})$.

    A terminal state has value 0, so nothing is bootstrapped after termination; after a
    truncation (time limit) the state was not terminal and $V(s_{t+1})$ — the value of the true
    final observation — is kept {cite}`pardo2018timelimits`. Derived in {ref}`ch-ppo`.

    rewards, next_values, terminated: (T,) or (T, N), numpy arrays or torch tensors (or lists);
    ``next_values[t]`` $= V(s_{t+1})$. gamma in [0, 1]. Returns the same shape; a torch tensor
    (without graph) if any input is one, else numpy.
    """
    return rewards + gamma * (1.0 - terminated) * next_values     # r + γ(1−term) V(s')


@checked_rollout
def n_step_returns(rewards, next_values, terminated, truncated, gamma=0.99):
    r"""$n$-step returns to the end of a rollout, bootstrapped from the critic.

    $$\hat G_t = r_t + \gamma\,(1 - \text{terminated}_t)\,
      \begin{cases} V(s_{t+1}) & \text{if } t = T-1 \text{ or truncated}_t\\
                    \hat G_{t+1} & \text{otherwise,}\end{cases}$$

    so a step $n$ steps before the end of the rollout gets
    $\sum_{k<n} \gamma^k r_{t+k} + \gamma^n V(s_{t+n})$: the last step gets the one-step TD
    target, the first one the longest return. A termination stops the sum with $V = 0$; a
    truncation (time limit) stops it too, but keeps $\gamma V(s_{t+1})$ of the true final
    observation. Equal to GAE with $\lambda = 1$ plus $V(s_t)$ (tested). Derived in
    {ref}`ch-actor-critic`.

    rewards, next_values, terminated, truncated: (T,) or (T, N) (time first), numpy arrays or
    torch tensors (or lists); ``next_values[t]`` $= V(s_{t+1})$. gamma in [0, 1]. Returns the
    same shape: a torch tensor (no graph) if any input is one, else numpy (float64 unless the
    rewards are another floating type). A plain backward loop over $t$, vectorised over the N
    copies.
    """
    out = np.zeros_like(rewards)
    running = next_values[-1]                              # bootstrap V(s_T) after the last row
    for t in reversed(range(len(rewards))):
        if t < len(rewards) - 1:
            running = np.where(truncated[t] > 0, next_values[t], running)  # truncated: V(final obs)
        running = rewards[t] + gamma * (1.0 - terminated[t]) * running     # Ĝ_t = r_t + γ(1−term)·(...)
        out[t] = running
    return out


@checked_rollout
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
    done = np.maximum(terminated, truncated)                       # terminated or truncated
    delta = rewards + gamma * (1.0 - terminated) * next_values - values  # δ_t = r_t + γ(1−term_t)V(s_{t+1}) − V(s_t)
    adv = np.zeros_like(delta)
    running = np.zeros_like(delta[0])                              # Â_{t+1}, 0 after the last row
    for t in reversed(range(len(delta))):
        running = delta[t] + gamma * lam * (1.0 - done[t]) * running   # Â_t = δ_t + γλ(1−done_t)Â_{t+1}
        adv[t] = running
    return adv


# --------------------------------------------------------------------------------------------
# Targets of the Q-learning family: the next state's value from target networks
# --------------------------------------------------------------------------------------------
def dqn_targets(target_net, rewards, next_obs, terminated, gamma):
    r"""The regression targets of DQN {cite}`mnih2015`, no gradient:
    $y = r + \gamma (1 - \text{terminated}) \max_{a'} Q_{\theta^-}(s', a')$.

    The TD target of :func:`td_targets` with the next state's value
    $\max_{a'} Q_{\theta^-}(s', a')$ of the target network. Derived in {ref}`ch-dqn`.

    target_net: $Q_{\theta^-}$, observations (B, obs_dim) -> values (B, A).
    rewards, terminated: float tensors (B,) (terminated 1.0 / 0.0 — *not* "done": a truncated
    transition bootstraps); next_obs: (B, obs_dim), the true next observation.
    Returns a float tensor (B,).
    """
    with torch.no_grad():
        v_next = target_net(next_obs).max(-1).values                      # max_a' Q_θ⁻(s', a')
        return rewards + gamma * (1.0 - terminated) * v_next               # r + γ(1 − term) v'


def double_dqn_targets(q_net, target_net, rewards, next_obs, terminated, gamma):
    r"""The regression targets of Double DQN {cite}`vanhasselt2016`, no gradient:
    $y = r + \gamma (1 - \text{terminated})\,
    Q_{\theta^-}\big(s', \arg\max_{a'} Q_\theta(s', a')\big)$.

    The online network $Q_\theta$ chooses the next action, the target network $Q_{\theta^-}$
    evaluates it: the max of :func:`dqn_targets` picks the action whose noisy estimate happens
    to be largest and so overestimates. Derived in {ref}`ch-dqn`.

    q_net, target_net: $Q_\theta$ and $Q_{\theta^-}$, observations (B, obs_dim) -> (B, A).
    rewards, terminated, next_obs: as for :func:`dqn_targets`. Returns a float tensor (B,).
    """
    with torch.no_grad():
        a_star = q_net(next_obs).argmax(-1, keepdim=True)                  # argmax_a' Q_θ(s', a')
        v_next = target_net(next_obs).gather(-1, a_star).squeeze(-1)       # Q_θ⁻(s', a*)
        return rewards + gamma * (1.0 - terminated) * v_next               # r + γ(1 − term) v'


def ddpg_targets(actor_targ, critic_targ, rewards, next_obs, terminated, gamma,
                 target_noise=0.0, target_noise_clip=0.5, generator=None):
    r"""The regression targets of DDPG's critic {cite}`lillicrap2016ddpg` (and TD3's), no gradient.

    DDPG: $y = r + \gamma (1 - \text{terminated})\, Q_{\phi^-}(s', \mu_{\theta^-}(s'))$.
    TD3 {cite}`fujimoto2018td3`: $y = r + \gamma (1 - \text{terminated}) \min_{j} Q_{\phi^-_j}(s', a')$
    over the target critics, with
    $a' = \text{clip}(\mu_{\theta^-}(s') + \text{clip}(\epsilon, -c, c), -1, 1)$,
    $\epsilon \sim \mathcal N(0, \tilde\sigma^2)$ if ``target_noise`` $= \tilde\sigma > 0$.
    With one critic the min is that critic itself. Derived in {ref}`ch-ddpg`.

    actor_targ: $\mu_{\theta^-}$, (B, obs_dim) -> actions (B, d) in [-1, 1];
    critic_targ: $Q_{\phi^-}$, (obs (B, obs_dim), actions (B, d)) -> (n_critics, B).
    rewards, terminated: float tensors (B,) (terminated 1.0/0.0 — not "done": a truncated
    transition bootstraps); next_obs: (B, obs_dim). generator: a ``torch.Generator`` for the
    smoothing noise (None: torch's global one). Returns (B,).
    """
    with torch.no_grad():
        a_next = actor_targ(next_obs)                                        # μ_θ⁻(s')
        if target_noise > 0:
            eps = torch.randn(a_next.shape, generator=generator) * target_noise
            a_next = (a_next + eps.clamp(-target_noise_clip, target_noise_clip)).clamp(-1.0, 1.0)
        q_next = critic_targ(next_obs, a_next).min(dim=0).values            # min_j Q_φ⁻_j(s', a')
        return rewards + gamma * (1.0 - terminated) * q_next                # r + γ(1 − term) Q'
