r"""REINFORCE: the vanilla policy gradient {cite}`williams1992`.

The chapter "The score-function gradient estimator" ({ref}`ch-score-function`) derives

$$
\nabla_\theta J(\theta) = \mathbb E_{\tau \sim \pi_\theta}\Big[\sum_{t=0}^{T-1}
   \nabla_\theta \log \pi_\theta(a_t \mid s_t)\, \Psi_t\Big],
$$

first with $\Psi_t = R(\tau)$, the return of the whole episode. The chapter "Reducing
variance" ({ref}`ch-variance-reduction`) keeps the expectation and shrinks the variance of its
sample average: by causality an action can only change rewards that come after it, so
$\Psi_t = \hat R_t = \sum_{t'=t}^{T-1} \gamma^{t'-t} r_{t'}$ (reward-to-go), and any baseline
$b(s_t)$ may be subtracted, $\Psi_t = \hat R_t - b(s_t)$, without bias. This module implements
all of these as options of one loop:

1. **collect** a batch of complete episodes with the current policy from $N$ copies of the
   environment (:func:`rlnotes.rollout.collect_episodes`);
2. **weigh** every step: $\Psi_t = R(\tau)$ or $\hat R_t$ (:func:`policy_weights`), minus a
   baseline — none, the batch's mean weight, or a learned value function $V_\phi(s_t)$;
3. **step** $\theta$ with Adam on the pseudo-loss
   $L(\theta) = -\frac{1}{|D|}\sum_{(s_t, a_t) \in D} \log\pi_\theta(a_t|s_t)\,\Psi_t$
   (:func:`rlnotes.estimators.pg_loss`), whose gradient is minus the estimate above;
4. **fit** $V_\phi$ by regression on the reward-to-go targets (several gradient steps);

and repeat until ``total_steps`` environment steps have been used. The trained agent is the
policy itself: ``result.agent.act(obs, deterministic=True)``.

Usage::

    from rlnotes.algos import reinforce
    result = reinforce.train("CartPole-v1", seed=0)                       # the defaults
    plain = reinforce.train("CartPole-v1", reinforce.Config(reward_to_go=False, baseline="none"))
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..estimators import pg_loss
from ..policies import make_policy, mlp
from ..returns import discounted_return, reward_to_go, truncation_bootstrap
from ..rollout import collect_episodes, make_vec_env
from ..runtime import seed_everything
from . import fields, gradient_step, record_episodes, resolve_config, train_result, training_bar

__all__ = ["Config", "make_agent", "policy_weights", "batch_mean_return", "value_targets", "fit_value",
           "train"]

BASELINES = ("none", "mean", "value")
#: what makes REINFORCE's losses NaN or inf, and the fixes (the message of a FloatingPointError)
LIKELY_CAUSES = ("a learning rate too high for this problem (lr={lr}, value_lr={value_lr}; try 10x smaller), "
                 "rewards or observations with a huge scale (normalise them, or keep normalize_advantages=True), "
                 "NaN or inf in the environment's rewards or observations, or a policy that collapsed to "
                 "probability 0 for a taken action (try max_grad_norm=0.5).")


# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------
@dataclass
class Config:
    r"""Every knob of :func:`train`. The defaults solve CartPole-v1 (greedy return ≥ 475).

    The estimator multiplies $\nabla_\theta \log \pi_\theta(a_t|s_t)$ by a weight $\Psi_t$
    ({ref}`ch-score-function`, {ref}`ch-variance-reduction`); one Adam step of $\theta$ per
    batch. How the defaults were chosen: {ref}`the benchmarks appendix <bench-defaults-reinforce>`.
    """

    # the estimator
    reward_to_go: bool = fields.flag(True)                     #: Ψ_t = R̂_t, or R(τ) if False
    baseline: str = fields.one_of("value", BASELINES)          #: none, the batch mean or V_φ(s_t)
    gamma: float = fields.in_range(0.99, "[0, 1]", "a discount")  #: discount γ (0.99 sees ~100 steps)
    normalize_advantages: bool = fields.flag(True)             #: rescale the batch's Ψ_t to mean 0, std 1
    # batch and budget
    n_envs: int = fields.positive_int(8)                       #: env copies stepped together
    batch_steps: int = fields.positive_int(4000)               #: min. steps per batch (whole episodes)
    total_steps: int = fields.positive_int(400_000)            #: environment steps to train for
    # networks and optimisers (Adam)
    hidden_sizes: tuple = fields.layer_sizes((64, 64))         #: hidden widths of π_θ (tanh)
    lr: float = fields.learning_rate(0.005, "1e-3 to 1e-2")    #: π_θ's step size α
    value_hidden_sizes: tuple = fields.layer_sizes((64, 64))   #: hidden widths of V_φ
    value_lr: float = fields.learning_rate(0.01, "1e-3 to 1e-2")  #: V_φ's step size
    value_iters: int = fields.positive_int(40)                 #: steps on (V_φ(s_t) - R̂_t)² per batch
    value_batch_size: int | None = fields.or_none(fields.positive_int(512), "the whole batch")  #: states per step
    bootstrap_truncated: bool = fields.flag(True)              #: if truncated, R̂_t += γ^(T-t) V_φ(o_T)
    max_grad_norm: float | None = fields.or_none(fields.positive(None), "no clipping")  #: clip ‖∇_θ‖ to this

    def __post_init__(self):
        fields.check_fields(self)


def make_agent(env, config, seed=0):
    r"""The untrained agent for the spaces of ``env`` (a vector env) and ``config``: the policy
    $\pi_\theta$ itself (:func:`rlnotes.policies.make_policy`: categorical for Discrete actions,
    diagonal Gaussian for a Box). The initial weights come from torch's global generator
    (``train`` seeds it); ``seed`` is not used. The value network $V_\phi$ is a training aid, not
    part of the agent."""
    return make_policy(env.single_observation_space, env.single_action_space, hidden_sizes=config.hidden_sizes)


# --------------------------------------------------------------------------------------------
# The pieces of one iteration
# --------------------------------------------------------------------------------------------
def policy_weights(batch, gamma, reward_to_go_weights=True):
    r"""$\Psi_t$ before any baseline, one per step of the batch.

    reward_to_go_weights=True: $\hat R_t = \sum_{t'=t}^{T-1} \gamma^{t'-t} r_{t'}$ (causality);
    False: $R(\tau) = \sum_{t=0}^{T-1} \gamma^t r_t$ repeated at every step of the episode.
    Derived in {ref}`ch-variance-reduction`.
    batch: an :class:`rlnotes.rollout.EpisodeBatch`; returns float64 (T_tot,), in the order of
    ``batch.flat_obs``.
    """
    if reward_to_go_weights:
        return np.concatenate([reward_to_go(r, gamma) for r in batch.rewards])      # R̂_t
    return np.concatenate([np.full(len(r), discounted_return(r, gamma))             # R(τ)
                           for r in batch.rewards])


def batch_mean_return(batch, gamma):
    r"""The average-return baseline $b = \frac1E \sum_{k=1}^{E} R(\tau_k)$, one number per batch.

    Derived in {ref}`ch-variance-reduction`. (With reward-to-go weights, :func:`train` uses the
    mean of $\hat R_t$ over all steps of the batch instead.)
    """
    return float(np.mean([discounted_return(r, gamma) for r in batch.rewards]))


def value_targets(batch, gamma, value_fn=None):
    r"""Regression targets for $V_\phi(s_t)$: the reward-to-go $\hat R_t$.

    With ``value_fn`` (a function obs (E, obs_dim) -> (E,) values), an episode cut by the time
    limit (``batch.truncated``) is completed by bootstrapping from its final observation:
    $\hat R_t + \gamma^{T-t} V_\phi(o_T)$ (:func:`rlnotes.returns.truncation_bootstrap`). Episodes
    that reached a terminal state are not: no reward follows a terminal state. Returns float64
    (T_tot,).
    """
    targets = policy_weights(batch, gamma, reward_to_go_weights=True)
    if value_fn is not None and batch.truncated.any():
        v_final = np.asarray(value_fn(batch.final_obs), dtype=np.float64)            # V_φ(o_T)
        T = batch.lengths[batch.episode_index]                                       # T per step
        tail = truncation_bootstrap(v_final[batch.episode_index], T - batch.time_index, gamma)  # γ^{T−t} V_φ(o_T)
        targets = targets + np.where(batch.truncated[batch.episode_index], tail, 0.0)
    return targets


def fit_value(value_net, optimizer, obs, targets, iters, batch_size=None, generator=None):
    r"""Regress $V_\phi$ on targets: ``iters`` Adam steps on $\frac1B\sum (V_\phi(s) - \hat R)^2$.

    obs: float tensor (n, obs_dim); targets: float tensor (n,); batch_size: minibatch size B
    (None or ≥ n: the whole batch every step); generator: a ``torch.Generator`` for the
    minibatch draws. Returns the last minibatch loss (a float).
    Derived in {ref}`ch-variance-reduction` (Monte-Carlo value fitting).
    """
    n = len(targets)
    loss = torch.tensor(float("nan"))
    for _ in range(iters):
        if batch_size is None or batch_size >= n:
            idx = slice(None)
        else:
            idx = torch.randint(n, (batch_size,), generator=generator)
        loss = ((value_net(obs[idx]).squeeze(-1) - targets[idx]) ** 2).mean()      # (V_φ(s) − R̂)²
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return float(loss.detach())


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
def train(env_id, config=None, seed=0, total_steps=None, progress=True):
    r"""Train a policy on ``env_id`` with REINFORCE; return a :class:`rlnotes.algos.TrainResult`.

    env_id:      a gymnasium id with a 1-D Box observation space and Discrete or 1-D Box
                 actions (e.g. ``"CartPole-v1"``).
    config:      a :class:`Config` (default: ``Config()``).
    seed:        seeds Python, NumPy and torch (network initialisation, action sampling,
                 minibatches) and the environments: the same seed gives the same history.
    total_steps: overrides ``config.total_steps``.
    progress:    show a progress bar (``rlnotes.progress``) counting environment steps, with
                 the mean return of the last 20 training episodes.

    ``result.history`` holds one ``(env_step, episode_return, wall_seconds)`` per training
    episode; ``result.agent`` is the policy network (``CategoricalPolicy`` or
    ``DiagGaussianPolicy``); ``result.stats`` counts updates and env steps (including the
    steps discarded at batch ends, see :mod:`rlnotes.rollout`).
    """
    config = resolve_config(Config, config, total_steps)
    start_time = time.perf_counter()

    # set-up: seeds, N copies of the env, the policy π_θ and (optionally) the value net V_φ
    seed_everything(seed)
    env = make_vec_env(env_id, n_envs=config.n_envs, seed=seed)
    policy = make_agent(env, config, seed)
    policy_opt = torch.optim.Adam(policy.parameters(), lr=config.lr)
    value_net = value_opt = None
    if config.baseline == "value":
        obs_dim = env.single_observation_space.shape[0]
        value_net = mlp([obs_dim, *config.value_hidden_sizes, 1])
        value_opt = torch.optim.Adam(value_net.parameters(), lr=config.value_lr)
    generator = torch.Generator().manual_seed(seed)          # minibatches of the value fit

    def values(obs):                                         # V_φ(s) without a graph, numpy
        with torch.no_grad():
            return value_net(torch.as_tensor(obs, dtype=torch.float32)).squeeze(-1).numpy()

    history = []
    steps = env_steps = updates = 0
    causes = LIKELY_CAUSES.format(lr=config.lr, value_lr=config.value_lr)
    bar = training_bar(progress, config.total_steps, f"REINFORCE {env_id}")
    try:
        while steps < config.total_steps:
            # 1. collect complete episodes with the current policy (first batch: seeded reset)
            batch = collect_episodes(policy, env, min_steps=config.batch_steps,
                                     seed=seed if updates == 0 else None)
            steps += batch.n_steps
            env_steps += batch.n_env_steps
            ends = steps - batch.n_steps + np.cumsum(batch.lengths)                  # env step of each end
            record_episodes(history, zip(ends, batch.returns), time.perf_counter() - start_time, bar)

            # 2. weights Ψ_t: R(τ) or R̂_t, minus a baseline
            obs = torch.as_tensor(batch.flat_obs, dtype=torch.float32)
            weights = policy_weights(batch, config.gamma, config.reward_to_go)       # R(τ) or R̂_t
            if config.baseline == "mean" and config.reward_to_go:
                weights = weights - weights.mean()                                   # R̂_t − mean of R̂
            elif config.baseline == "mean":
                weights = weights - batch_mean_return(batch, config.gamma)           # R(τ) − (1/E) Σ R(τ_i)
            elif config.baseline == "value":
                v_fn = values if config.bootstrap_truncated else None
                targets = value_targets(batch, config.gamma, v_fn)                   # R̂_t (+ γ^{T−t}V(o_T))
                if config.reward_to_go:
                    weights = targets
                weights = weights - values(batch.flat_obs)                           # Ψ_t − V_φ(s_t)
            if config.normalize_advantages and len(weights) > 1:
                weights = (weights - weights.mean()) / (weights.std() + 1e-8)
            weights = torch.as_tensor(weights, dtype=torch.float32)

            # 3. one Adam step on the pseudo-loss −mean(log π_θ(a_t|s_t) Ψ_t)
            logp = policy.log_prob(obs, torch.as_tensor(batch.flat_actions))         # log π_θ(a_t|s_t)
            loss = pg_loss(logp, weights)                                            # −mean(logp · Ψ)
            gradient_step(policy_opt, loss, config.max_grad_norm, causes)
            updates += 1

            # 4. regress V_φ(s_t) on the reward-to-go targets
            if value_net is not None:
                v_loss = fit_value(value_net, value_opt, obs,
                                   torch.as_tensor(targets, dtype=torch.float32),
                                   config.value_iters, config.value_batch_size, generator)
                if not math.isfinite(v_loss):
                    raise FloatingPointError(f"the value loss became {v_loss} (not finite). Likely causes: {causes}")
            bar.update(min(batch.n_steps, config.total_steps - bar.n))
    finally:
        bar.close()
        env.close()
    stats = {"updates": updates, "env_steps": steps, "env_steps_incl_discarded": env_steps}
    return train_result(policy, history, config, stats, start_time, env_id, seed)
