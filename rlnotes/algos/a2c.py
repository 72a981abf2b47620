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

The agent (:func:`make_agent`) is an :class:`ActorCritic`: the categorical policy of
:mod:`rlnotes.policies` as the actor, and a critic $V_\phi$ beside it or on its body.

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
import torch
from torch import nn
from torch.distributions import Categorical

from ..policies import CategoricalPolicy, mlp
from ..returns import gae, n_step_returns
from ..rollout import collect_rollout, make_vec_env
from ..runtime import seed_everything
from . import check_spaces, fields, gradient_step, record_episodes, resolve_config, train_result, training_bar

__all__ = ["Config", "ActorCritic", "make_agent", "a2c_loss", "advantages_and_targets", "train"]

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
    gamma: float = fields.in_range(0.99, "[0, 1]", "a discount")  #: discount γ
    lam: float = fields.in_range(0.95, "[0, 1]")               #: GAE's λ (1 gives n-step returns, 0 TD)
    vf_coef: float = fields.non_negative(0.5)                  #: c_v, weight of L_v (0 for no critic)
    ent_coef: float = fields.non_negative(0.0)                 #: c_reg, weight of L_reg = -H(π)
    normalize_advantages: bool = fields.flag(False)            #: Â to mean 0, std 1 over the batch
    # rollout and optimisation
    n_envs: int = fields.positive_int(8)                       #: N, env copies stepped together
    n_steps: int = fields.positive_int(32)                     #: n, steps per copy between updates
    total_steps: int = fields.positive_int(500_000)            #: env steps to train for (whole batches)
    optimizer: str = fields.one_of("adam", OPTIMIZERS)         #: Adam, or RMSprop (the paper's)
    lr: float = fields.learning_rate(2e-3)                     #: step size α
    anneal_lr: bool = fields.flag(True)                        #: α decays linearly to 0 over training
    rmsprop_eps: float = fields.positive(1e-5)                 #: RMSprop's ε (optimizer="rmsprop" only)
    max_grad_norm: float | None = fields.or_none(fields.positive(0.5), "no clipping")  #: clip ‖∇L‖ to this
    # networks (tanh)
    shared: bool = fields.flag(False)                          #: one body with two heads for π_θ and V_φ
    hidden_sizes: tuple = fields.layer_sizes((64, 64))         #: hidden widths (of each network)

    def __post_init__(self):
        fields.check_fields(self)


# --------------------------------------------------------------------------------------------
# The actor and the critic
# --------------------------------------------------------------------------------------------
class ActorCritic(nn.Module):
    r"""The actor, a categorical policy $\pi_\theta$ (:class:`rlnotes.policies.CategoricalPolicy`), and the critic $V_\phi$.

    ``shared=False``: two MLPs, ``policy.logits_net`` (obs_dim -> hidden -> n_actions logits) and
    ``critic`` (obs_dim -> hidden -> 1). ``shared=True``: one body with two heads — the critic is a
    linear head ``v_head`` on the policy network's last hidden layer (``policy.logits_net[:-1]``,
    tanh), next to the policy's own output layer. Methods take observations (B, obs_dim) (or (obs_dim,)):

    * ``distribution(obs)`` -> $\pi_\theta(\cdot|s)$, a ``torch.distributions.Categorical`` with batch shape (B,);
    * ``value(obs)`` -> $V_\phi(s)$, shape (B,);
    * ``forward(obs)`` -> (distribution, value) with one pass through a shared body;
    * ``act(obs, deterministic=False)`` -> the policy's numpy int64 actions (B,) (or a scalar),
      sampled or $\arg\max$; no graph.
    """

    def __init__(self, obs_dim, n_actions, hidden_sizes=(64, 64), shared=False):
        super().__init__()
        self.shared = bool(shared)
        self.policy = CategoricalPolicy(obs_dim, n_actions, hidden_sizes)          # π_θ
        if self.shared:
            self.v_head = nn.Linear(hidden_sizes[-1], 1)                          # V_φ on π's features
        else:
            self.critic = mlp([self.obs_dim, *hidden_sizes, 1])                   # V_φ

    @property
    def obs_dim(self):
        return self.policy.obs_dim

    @property
    def n_actions(self):
        return self.policy.n_actions

    def forward(self, obs):
        obs = torch.as_tensor(obs, dtype=torch.float32)
        if not self.shared:
            return self.policy.distribution(obs), self.critic(obs).squeeze(-1)
        h = self.policy.logits_net[:-1](obs)                      # the shared body's features
        logits = self.policy.logits_net[-1](h)                    # the policy's head
        return Categorical(logits=logits, validate_args=False), self.v_head(h).squeeze(-1)

    def distribution(self, obs):
        return self.policy.distribution(obs)

    def value(self, obs):
        obs = torch.as_tensor(obs, dtype=torch.float32)
        v = self.v_head(self.policy.logits_net[:-1](obs)) if self.shared else self.critic(obs)
        return v.squeeze(-1)

    def act(self, obs, deterministic=False):
        return self.policy.act(obs, deterministic)


def make_agent(env, config, seed=0):
    r"""The untrained :class:`ActorCritic` for the spaces of ``env`` (a vector env) and ``config``
    (``hidden_sizes``, ``shared``; an A2C or A3C Config). Discrete actions only. The initial
    weights come from torch's global generator (``train`` seeds it); ``seed`` is not used."""
    algo = type(config).__module__.split(".")[-1]                 # "a2c" or "a3c"
    obs_space, act_space = check_spaces(
        env, algo, gym.spaces.Discrete,
        "For continuous actions use rlnotes.algos.ppo (Gaussian policy) or rlnotes.algos.ddpg.",
        "Wrap the env in gymnasium.wrappers.FlattenObservation.")
    return ActorCritic(obs_space.shape[0], act_space.n, config.hidden_sizes, config.shared)


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
    agent = make_agent(env, config, seed)
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(agent.parameters(), lr=config.lr, eps=1e-5)
    else:
        optimizer = torch.optim.RMSprop(agent.parameters(), lr=config.lr, alpha=0.99,
                                        eps=config.rmsprop_eps)
    N, T = config.n_envs, config.n_steps
    batch_size = N * T
    n_iters = math.ceil(config.total_steps / batch_size)

    history, rollout, losses = [], None, (float("nan"),) * 4
    bar = training_bar(progress, n_iters * batch_size, f"A2C {env_id}")
    try:
        for k in range(n_iters):
            # 1. collect n_steps steps of each of the N copies, a_t ~ π_θ(·|s_t) batched
            rollout = collect_rollout(env, agent.act, T, previous=rollout, seed=seed)
            record_episodes(history, rollout.finished(k * batch_size), time.perf_counter() - start_time, bar)

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
            gradient_step(optimizer, loss, config.max_grad_norm)
            losses = (loss.item(), pi_loss.item(), v_loss.item(), entropy.item())
            bar.update(batch_size)
    finally:
        bar.close()
        env.close()
    stats = {"updates": n_iters, "env_steps": n_iters * batch_size, "last_loss": losses[0],
             "last_pi_loss": losses[1], "last_v_loss": losses[2], "last_entropy": losses[3]}
    return train_result(agent, history, config, stats, start_time, env_id, seed)
