r"""Advantage actor-critic (A2C): the synchronous version of A3C {cite}`mnih2016a3c`.

The chapter "Actor-critic methods" ({ref}`ch-actor-critic`) replaces the Monte-Carlo return
$G_t$ of REINFORCE by a critic $V_\phi$: the advantage of $a_t$ is estimated from a few real
rewards and the critic's value of the state reached,

$$\hat A_t = \underbrace{\textstyle\sum_{k=0}^{n-1} \gamma^k r_{t+k} + \gamma^n V_\phi(s_{t+n})}_{\hat G^{(n)}_t}
 \;-\; V_\phi(s_t),$$

(the one-step case $n = 1$ is the TD error $\delta_t = r_t + \gamma V_\phi(s_{t+1}) - V_\phi(s_t)$),
and one loss trains actor and critic together (lecture note 001):

$$L = L_\pi + c_v L_v + c_\text{reg} L_\text{reg},\quad
  L_\pi = -\tfrac1B\textstyle\sum \hat A_t \log\pi_\theta(a_t|s_t),\;
  L_v = \tfrac1B\textstyle\sum \tfrac12\big(\hat G_t - V_\phi(s_t)\big)^2,\;
  L_\text{reg} = -\tfrac1B\textstyle\sum \mathcal H\big(\pi_\theta(\cdot|s_t)\big).$$

One iteration of :func:`train`:

1. **collect** ``n_steps`` steps from each of ``n_envs`` copies of the environment
   (:func:`rlnotes.rollout.collect_rollout`), one batched network call per vector step; where
   an episode ended (by truncation too), the stored $s_{t+1}$ is its true last observation;
2. **targets** (:func:`advantages_and_targets`): $V_\phi(s_{t+1})$ for every step in one
   batched call; the $n$-step returns $\hat G_t$ (:func:`rlnotes.returns.n_step_returns`, or
   :func:`rlnotes.returns.gae` with ``lam < 1``) bootstrap from the end of the rollout and
   through truncations, never through terminations;
3. **one gradient step** on $L$ (:func:`a2c_loss`) over the whole batch of
   ``n_envs * n_steps`` transitions — the data is used once and thrown away (on-policy).

The parallel copies decorrelate the batch: its transitions come from ``n_envs`` independent
episodes, which is A3C's stabiliser without the asynchrony (and what DQN gets from its replay
buffer). Implementation details not in the paper, each documented at its ``Config`` field:
advantage normalisation, gradient-norm clipping, a learning rate annealed linearly to 0,
separate actor and critic networks by default, truncation bootstrapping.

Usage::

    from rlnotes.algos import a2c
    result = a2c.train("CartPole-v1", seed=0)
    shared = a2c.train("CartPole-v1", a2c.Config(shared=True))
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

from ..policies import mlp
from ..progress import TextBar
from ..progress import progress as progress_bar
from ..returns import gae, n_step_returns
from ..rollout import collect_rollout, make_vec_env
from ..runtime import seed_everything
from . import (
    TrainResult,
    check_fields,
    flag,
    in_range,
    layer_sizes,
    learning_rate,
    non_negative,
    one_of,
    or_none,
    positive,
    positive_int,
    resolve_config,
)

__all__ = ["Config", "ActorCritic", "a2c_loss", "advantages_and_targets", "make_actor_critic",
           "train"]

OPTIMIZERS = ("adam", "rmsprop")


# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------
@dataclass
class Config:
    r"""Every knob of :func:`train`. The defaults solve CartPole-v1 (greedy return ≥ 475).

    The loss $L = L_\pi + c_v L_v + c_\text{reg} L_\text{reg}$, $n$-step returns and GAE are
    derived in {ref}`ch-actor-critic`; how the defaults were chosen, in
    {ref}`the benchmarks appendix <bench-defaults-a2c>`.
    """

    # the loss and its targets
    gamma: float = in_range(0.99, "[0, 1]", "a discount")  #: discount γ
    lam: float = in_range(0.95, "[0, 1]")               #: GAE's λ (1 gives n-step returns, 0 TD)
    vf_coef: float = non_negative(0.5)                  #: c_v, weight of L_v (0 for no critic)
    ent_coef: float = non_negative(0.0)                 #: c_reg, weight of L_reg = -H(π)
    normalize_advantages: bool = flag(False)            #: Â to mean 0, std 1 over the batch
    # rollout and optimisation
    n_envs: int = positive_int(8)                       #: N, env copies stepped together
    n_steps: int = positive_int(32)                     #: n, steps per copy between updates
    total_steps: int = positive_int(500_000)            #: env steps to train for (whole batches)
    optimizer: str = one_of("adam", OPTIMIZERS)         #: Adam, or RMSprop (the paper's)
    lr: float = learning_rate(2e-3)                     #: step size α
    anneal_lr: bool = flag(True)                        #: α decays linearly to 0 over training
    rmsprop_eps: float = positive(1e-5)                 #: RMSprop's ε (optimizer="rmsprop" only)
    max_grad_norm: float | None = or_none(positive(0.5), "no clipping")  #: clip ‖∇L‖ to this
    # networks (tanh)
    shared: bool = flag(False)                          #: one body with two heads for π_θ and V_φ
    hidden_sizes: tuple = layer_sizes((64, 64))         #: hidden widths (of each network)

    def __post_init__(self):
        check_fields(self)


# --------------------------------------------------------------------------------------------
# The actor and the critic
# --------------------------------------------------------------------------------------------
class ActorCritic(nn.Module):
    r"""A categorical policy $\pi_\theta(a|s) = \operatorname{softmax}(\ell_\theta(s))_a$ and a value $V_\phi(s)$.

    ``shared=False``: two MLPs, ``actor`` (obs_dim -> hidden -> n_actions logits) and ``critic``
    (obs_dim -> hidden -> 1). ``shared=True``: one ``body`` (obs_dim -> hidden, tanh) and two
    linear heads on its features. Methods take observations (B, obs_dim) (or (obs_dim,)):

    * ``logits(obs)`` -> $\ell_\theta(s)$, shape (B, n_actions);
    * ``distribution(obs)`` -> ``torch.distributions.Categorical`` with batch shape (B,);
    * ``value(obs)`` -> $V_\phi(s)$, shape (B,);
    * ``forward(obs)`` -> (distribution, value) with one pass through a shared body;
    * ``act(obs, deterministic=False)`` -> numpy int64 actions (B,) (or a scalar), sampled or
      $\arg\max$; no graph.
    """

    def __init__(self, obs_dim, n_actions, hidden_sizes=(64, 64), shared=False):
        super().__init__()
        self.obs_dim, self.n_actions, self.shared = int(obs_dim), int(n_actions), bool(shared)
        if self.shared:
            self.body = mlp([self.obs_dim, *hidden_sizes], output_activation=nn.Tanh)
            self.pi_head = nn.Linear(hidden_sizes[-1], self.n_actions)
            self.v_head = nn.Linear(hidden_sizes[-1], 1)
        else:
            self.actor = mlp([self.obs_dim, *hidden_sizes, self.n_actions])
            self.critic = mlp([self.obs_dim, *hidden_sizes, 1])

    def forward(self, obs):
        obs = torch.as_tensor(obs, dtype=torch.float32)
        if self.shared:
            h = self.body(obs)
            logits, v = self.pi_head(h), self.v_head(h)
        else:
            logits, v = self.actor(obs), self.critic(obs)
        return Categorical(logits=logits, validate_args=False), v.squeeze(-1)

    def logits(self, obs):
        r"""$\ell_\theta(s)$, shape (B, n_actions): $\pi_\theta(\cdot|s) = \operatorname{softmax}(\ell_\theta(s))$."""
        obs = torch.as_tensor(obs, dtype=torch.float32)
        return self.pi_head(self.body(obs)) if self.shared else self.actor(obs)

    def distribution(self, obs):
        return Categorical(logits=self.logits(obs), validate_args=False)

    def value(self, obs):
        obs = torch.as_tensor(obs, dtype=torch.float32)
        v = self.v_head(self.body(obs)) if self.shared else self.critic(obs)
        return v.squeeze(-1)

    @torch.no_grad()
    def act(self, obs, deterministic=False):
        dist = self.distribution(obs)
        a = dist.probs.argmax(-1) if deterministic else dist.sample()
        return a.numpy() if a.dim() else np.int64(a.item())


def make_actor_critic(env_or_spaces, hidden_sizes=(64, 64), shared=False, who="a2c"):
    """An :class:`ActorCritic` for a gymnasium env (or vector env); Discrete actions only."""
    obs_space = getattr(env_or_spaces, "single_observation_space", None) or env_or_spaces.observation_space
    act_space = getattr(env_or_spaces, "single_action_space", None) or env_or_spaces.action_space
    if not isinstance(act_space, gym.spaces.Discrete):
        raise ValueError(f"{who} supports Discrete action spaces only (a categorical policy); got "
                         f"{act_space}. For continuous actions use rlnotes.algos.ppo (Gaussian "
                         f"policy) or rlnotes.algos.ddpg.")
    if not (isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 1):
        raise ValueError(f"{who} needs a 1-D Box observation space (obs_dim,); got {obs_space}. "
                         "Wrap the env in gymnasium.wrappers.FlattenObservation.")
    return ActorCritic(obs_space.shape[0], act_space.n, hidden_sizes, shared)


# --------------------------------------------------------------------------------------------
# The loss (the targets are rlnotes.returns.n_step_returns and gae)
# --------------------------------------------------------------------------------------------
def a2c_loss(dist, actions, advantages, values, returns, vf_coef=0.5, ent_coef=0.0):
    r"""$L = L_\pi + c_v L_v + c_\text{reg} L_\text{reg}$ on a batch, and its three terms.

    * $L_\pi = -\frac1B \sum_i \hat A_i \log \pi_\theta(a_i|s_i)$ — its gradient is the policy
      gradient with the advantage as weight ($\hat A$ is a constant: detached here);
    * $L_v = \frac1B \sum_i \frac12 (\hat G_i - V_\phi(s_i))^2$ — value regression to the
      $n$-step targets ($\hat G$ detached: a semi-gradient, like TD learning);
    * $L_\text{reg} = -\frac1B \sum_i \mathcal H(\pi_\theta(\cdot|s_i))$,
      $\mathcal H(p) = -\sum_a p_a \log p_a$ — minimising it maximises the entropy.

    dist: a ``Categorical`` with batch shape (B,); actions (B,) int; advantages, values,
    returns: (B,) tensors (``values`` with graph, the others without).
    Returns ``(loss, pi_loss, v_loss, entropy)`` with ``entropy`` $= -L_\text{reg}$ (scalars).
    """
    logp = dist.log_prob(torch.as_tensor(actions))                  # log π_θ(a_i|s_i)
    pi_loss = -(advantages.detach() * logp).mean()                  # L_π = −mean(Â log π)
    v_loss = 0.5 * (returns.detach() - values).pow(2).mean()        # L_v = mean(½(Ĝ − V)²)
    entropy = dist.entropy().mean()                                 # H = −L_reg
    loss = pi_loss + vf_coef * v_loss - ent_coef * entropy          # L = L_π + c_v L_v + c_reg L_reg
    return loss, pi_loss, v_loss, entropy


def advantages_and_targets(rollout, values, next_values, gamma, lam):
    r"""Step 2 of A2C and A3C: advantages $\hat A_t$ and targets $\hat G_t$ for a rollout.

    ``lam == 1``: the $n$-step returns $\hat G_t$ (:func:`rlnotes.returns.n_step_returns`,
    bootstrapped from $V_\phi(s_{t+n})$ at the end of the rollout) and $\hat A_t = \hat G_t -
    V_\phi(s_t)$; ``lam < 1``: GAE (:func:`rlnotes.returns.gae`) and $\hat G_t = \hat A_t +
    V_\phi(s_t)$. Both bootstrap through truncations, never through terminations.
    rollout: a :class:`rlnotes.rollout.Rollout` (T, N); values, next_values: $V_\phi(s_t)$,
    $V_\phi(s_{t+1})$ as tensors (T·N,) without graph. Returns ``(adv, returns)``, (T·N,) each.
    """
    T, N = rollout.rewards.shape
    next_values = next_values.numpy().reshape(T, N)
    if lam == 1.0:
        returns = n_step_returns(rollout.rewards, next_values, rollout.terminated,
                                 rollout.truncated, gamma)
        returns = torch.as_tensor(returns.reshape(-1), dtype=torch.float32)
        adv = returns - values                                   # Â_t = Ĝ_t − V_φ(s_t)
    else:
        adv = gae(rollout.rewards, values.numpy().reshape(T, N), next_values, rollout.terminated,
                  rollout.truncated, gamma, lam)
        adv = torch.as_tensor(adv.reshape(-1), dtype=torch.float32)
        returns = adv + values                                   # λ-return targets for V_φ
    return adv, returns


def _check_finite(value, what, config):
    if not torch.isfinite(value).all():
        raise FloatingPointError(
            f"the {what} became not finite. Likely causes: a learning rate too high "
            f"(lr={config.lr}; try 3x smaller), NaN or inf from the environment, or no gradient "
            f"clipping (set max_grad_norm).")


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
def train(env_id, config=None, seed=0, total_steps=None, progress=True):
    r"""Train an actor-critic on ``env_id`` with A2C; return a :class:`rlnotes.algos.TrainResult`.

    env_id:      a gymnasium id with a 1-D Box observation space and Discrete actions
                 (e.g. ``"CartPole-v1"``).
    config:      a :class:`Config` (None: ``Config()``, tuned for CartPole-v1).
    seed:        seeds Python, NumPy, torch (initialisation, action sampling) and the envs:
                 the same seed on the same machine gives the same history.
    total_steps: overrides ``config.total_steps``.
    progress:    a progress bar counting environment steps, with the mean of the last 20 returns.

    ``result.history``: one ``(env_step, episode_return, wall_seconds)`` per finished training
    episode. ``result.agent``: the :class:`ActorCritic`. ``result.stats``: updates, env steps,
    the last losses.
    """
    config = resolve_config(Config, config, total_steps)
    start_time = time.perf_counter()

    # set-up: seeds, N copies of the env, π_θ and V_φ, one optimiser
    seed_everything(seed)
    env = make_vec_env(env_id, n_envs=config.n_envs, seed=seed)
    try:
        agent = make_actor_critic(env, config.hidden_sizes, config.shared)
    except ValueError:
        env.close()
        raise
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(agent.parameters(), lr=config.lr, eps=1e-5)
    else:
        optimizer = torch.optim.RMSprop(agent.parameters(), lr=config.lr, alpha=0.99,
                                        eps=config.rmsprop_eps)
    N, T = config.n_envs, config.n_steps
    batch_size = N * T
    n_iters = math.ceil(config.total_steps / batch_size)

    history, recent, rollout = [], [], None
    steps = 0
    losses = (float("nan"),) * 4
    bar = (progress_bar(total=n_iters * batch_size, desc=f"A2C {env_id}", unit="steps")
           if progress else TextBar(total=n_iters * batch_size, disable=True))
    try:
        for k in range(n_iters):
            # 1. collect n_steps steps of each of the N copies, a_t ~ π_θ(·|s_t) batched
            rollout = collect_rollout(env, agent.act, T, previous=rollout, seed=seed)
            now = time.perf_counter() - start_time
            history += [(step, ret, now) for step, ret in rollout.finished(steps)]
            recent = (recent + rollout.episode_returns.tolist())[-20:]
            steps += batch_size

            # 2. targets: π_θ(·|s_t), V_φ(s_t) with graph and V_φ(s_{t+1}) without, one call
            #    each; n-step returns (λ = 1) or GAE(λ), bootstrapped through truncations only
            dist, values = agent(torch.from_numpy(rollout.flat("obs")))
            with torch.no_grad():
                next_values = agent.value(torch.from_numpy(rollout.flat("next_obs")))
            adv, returns = advantages_and_targets(rollout, values.detach(), next_values,
                                                  config.gamma, config.lam)
            if config.normalize_advantages:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)

            # 3. one gradient step on L = L_π + c_v L_v + c_reg L_reg, learning rate annealed
            if config.anneal_lr:
                for group in optimizer.param_groups:
                    group["lr"] = config.lr * (1.0 - k / n_iters)
            loss, pi_loss, v_loss, entropy = a2c_loss(
                dist, torch.from_numpy(rollout.flat("actions")), adv, values, returns,
                config.vf_coef, config.ent_coef)
            _check_finite(loss, "A2C loss", config)
            optimizer.zero_grad()
            loss.backward()
            if config.max_grad_norm is not None:
                nn.utils.clip_grad_norm_(agent.parameters(), config.max_grad_norm)
            optimizer.step()
            losses = (loss.item(), pi_loss.item(), v_loss.item(), entropy.item())

            if recent:
                bar.set_postfix(ret=float(np.mean(recent)))
            bar.update(batch_size)
    finally:
        bar.close()
        env.close()
    wall = time.perf_counter() - start_time
    stats = {"updates": n_iters, "env_steps": steps,
             "steps_per_second": steps / wall if wall > 0 else float("nan"),
             "last_loss": losses[0], "last_pi_loss": losses[1], "last_v_loss": losses[2],
             "last_entropy": losses[3]}
    return TrainResult(agent=agent, history=history, config=config, wall_time=wall, stats=stats,
                       env_id=env_id, seed=seed)
