r"""Deep deterministic policy gradient (DDPG) {cite}`lillicrap2016ddpg`, with TD3's three fixes {cite}`fujimoto2018td3` as options.

The chapter "Deep deterministic policy gradient" ({ref}`ch-ddpg`) learns two networks for a
continuous action space $\mathcal A = [\text{low}, \text{high}]^d$:

* the **critic** $Q_\phi(s, a)$, fitted like DQN's Q-network to one-step targets — but the
  $\max_{a'}$ of DQN's target is replaced by the action the actor picks,
  $a' = \mu_{\theta^-}(s')$, so no optimisation over actions is needed:

$$
y = r + \gamma\,(1 - \text{terminated})\; Q_{\phi^-}\big(s', \mu_{\theta^-}(s')\big), \qquad
L(\phi) = \frac1B \sum_{\text{batch}} \big(Q_\phi(s, a) - y\big)^2 ;
$$

* the **actor** $\mu_\theta(s)$, a deterministic policy moved uphill on the critic,
  $J(\theta) \approx \frac1B\sum_{\text{batch}} Q_\phi(s, \mu_\theta(s))$, whose gradient is the
  chain rule of the deterministic policy gradient theorem {cite}`silver2014dpg`,
  $\nabla_\theta J \approx \frac1B \sum \nabla_a Q_\phi(s, a)\big|_{a=\mu_\theta(s)}\,
  \nabla_\theta \mu_\theta(s)$.

Each update follows the papers' order: a critic step on $L(\phi)$ (its own Adam), then an
actor step up $J(\theta)$ against the critic *just updated* (its own Adam; $\phi$ is frozen
meanwhile, so the actor's gradient does not reach it), then the soft updates of the **target
networks** $\phi^-, \theta^-$, Polyak averages $\phi^- \leftarrow \tau\phi + (1-\tau)\phi^-$
(with ``policy_delay`` $> 1$, the actor step and the soft updates come after every
``policy_delay``-th critic step only). Transitions come from a
:class:`rlnotes.buffers.ReplayBuffer`; exploration is added to the deterministic actor by a **behaviour policy**
$\beta(s) = \text{clip}(\mu_\theta(s) + \varepsilon)$ with Gaussian or Ornstein–Uhlenbeck noise
$\varepsilon$ {cite}`uhlenbeck1930`.

**Units of actions.** The actor ends in $\tanh$, so $\mu_\theta(s) \in [-1, 1]^d$; the critic,
the noise, the replay buffer and every equation of the chapter work in these *normalised*
units. Only :meth:`DDPGAgent.act` maps them to the environment's box,
$a_\text{env} = \text{low} + \frac{a + 1}{2}(\text{high} - \text{low})$.

**Termination vs truncation.** Only ``terminated`` stops the bootstrap. Pendulum-v1 never
terminates, it is only truncated after 200 steps, so every target bootstraps, from the true last
observation {cite}`pardo2018timelimits`.

**TD3** (``Config.twin_critics``, ``policy_delay``, ``target_noise``): clipped double Q
(two critics, the target uses the smaller of the two target critics), delayed actor (and target)
updates, and target policy smoothing (clipped Gaussian noise on the target action).
``Config(twin_critics=True, policy_delay=2, target_noise=0.2)`` is TD3.

Usage::

    from rlnotes.algos import ddpg
    result = ddpg.train("Pendulum-v1", seed=0)            # the defaults solve Pendulum-v1
    result.agent.act(obs, deterministic=True)              # μ_θ(s), in the env's action box
    result.agent.actor, result.agent.critic                # the networks μ_θ and Q_φ
    agent = ddpg.make_agent(env, ddpg.Config(), seed=0)   # an untrained agent for a vector env
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from ..buffers import ReplayBuffer
from ..policies import mlp, polyak_update
from ..progress import TextBar
from ..progress import progress as progress_bar
from ..returns import ddpg_targets
from ..rollout import make_vec_env, step_env
from ..runtime import seed_everything
from . import (
    TrainResult,
    check_fields,
    check_learning_starts,
    flag,
    in_range,
    layer_sizes,
    learning_rate,
    non_negative,
    one_of,
    positive,
    positive_int,
    resolve_config,
)

__all__ = ["Config", "Actor", "Critic", "DDPGAgent", "GaussianNoise", "OUNoise", "make_agent", "critic_loss",
           "actor_loss", "update", "train", "scale_action"]


# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------
@dataclass
class Config:
    r"""Every knob of :func:`train`. The defaults solve Pendulum-v1 (greedy return ≥ −200).

    Plain DDPG by default; ``Config(twin_critics=True, policy_delay=2, target_noise=0.2)`` is TD3
    ({ref}`ch-ddpg`). How the defaults were chosen: {ref}`the benchmarks appendix
    <bench-defaults-ddpg>`.
    """

    total_steps: int = positive_int(10_000)             #: env steps to train for
    hidden_sizes: tuple = layer_sizes((64, 64))         #: hidden widths of μ_θ and Q_φ (ReLU)
    actor_lr: float = learning_rate(1e-3, "1e-4 to 1e-3")   #: Adam's step size for θ
    critic_lr: float = learning_rate(1e-3, "1e-4 to 1e-3")  #: Adam's step size for φ
    gamma: float = in_range(0.98, "[0, 1]", "a discount")  #: discount γ
    tau: float = in_range(0.005, "(0, 1]", "the Polyak rate",
                          "1: hard copy; DDPG uses 0.001 to 0.005")  #: φ⁻ ← τφ + (1-τ)φ⁻, and θ⁻
    # replay and updates
    buffer_size: int = positive_int(100_000)            #: replay capacity (transitions)
    batch_size: int = positive_int(256)                 #: B, transitions per minibatch
    learning_starts: int = positive_int(1_000, "at least batch_size")  #: uniform random steps first
    train_freq: int = positive_int(1)                   #: env steps between update phases
    gradient_steps: int = positive_int(1)               #: critic steps per update phase
    # exploration: a = clip(μ_θ(s) + ε, -1, 1) in normalised units
    noise: str = one_of("gaussian", ("gaussian", "ou"), "ou: Ornstein-Uhlenbeck")  #: ε's process
    noise_std: float = non_negative(0.1)                #: σ, in units of half the action range
    ou_theta: float = positive(0.15)                    #: κ, OU mean-reversion rate ("ou" only)
    ou_dt: float = positive(1e-2)                       #: OU time step dt ("ou" only)
    # TD3 (off by default)
    twin_critics: bool = flag(False)                    #: two critics; the target takes the min
    policy_delay: int = positive_int(1)                 #: critic steps per actor and target update
    target_noise: float = non_negative(0.0)             #: σ̃, target policy smoothing (0 for none)
    target_noise_clip: float = non_negative(0.5)        #: c, clip of the smoothing noise

    def __post_init__(self):
        check_fields(self)
        check_learning_starts(self)                     # learning_starts >= batch_size


# --------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------
class Actor(nn.Module):
    r"""The deterministic policy $\mu_\theta(s) = \tanh(\text{MLP}(s)) \in [-1, 1]^d$ (normalised units).

    obs (B, obs_dim) → actions (B, act_dim).
    """

    def __init__(self, obs_dim, act_dim, hidden_sizes=(64, 64)):
        super().__init__()
        self.net = mlp([obs_dim, *hidden_sizes, act_dim], activation=nn.ReLU)

    def forward(self, obs):
        return torch.tanh(self.net(obs))


class Critic(nn.Module):
    r"""$Q_\phi(s, a)$: ``n_critics`` independent MLPs on $(s, a)$ concatenated (two for TD3).

    forward(obs (B, obs_dim), act (B, act_dim)) → (n_critics, B).
    """

    def __init__(self, obs_dim, act_dim, hidden_sizes=(64, 64), n_critics=1):
        super().__init__()
        self.nets = nn.ModuleList(mlp([obs_dim + act_dim, *hidden_sizes, 1], activation=nn.ReLU)
                                  for _ in range(n_critics))

    def forward(self, obs, act):
        x = torch.cat([obs, act], dim=-1)
        return torch.stack([net(x).squeeze(-1) for net in self.nets])


def scale_action(a, low, high):
    r"""Normalised action $a \in [-1, 1]^d$ → the env's box: $\text{low} + \frac{a+1}{2}(\text{high} - \text{low})$.

    a: (..., d) numpy array; low, high: (d,). Values of ``a`` outside [-1, 1] are clipped first,
    so the result is always inside [low, high].
    """
    a = np.clip(a, -1.0, 1.0)
    return low + 0.5 * (a + 1.0) * (high - low)


# --------------------------------------------------------------------------------------------
# Exploration noise
# --------------------------------------------------------------------------------------------
class GaussianNoise:
    r"""$\varepsilon_t \sim \mathcal N(0, \sigma^2 I)$, independent at every step. shape: (d,)."""

    def __init__(self, shape, sigma, rng):
        self.shape, self.sigma, self.rng = tuple(shape), float(sigma), rng

    def reset(self):
        pass

    def __call__(self):
        return self.sigma * self.rng.standard_normal(self.shape)


class OUNoise:
    r"""An Ornstein–Uhlenbeck process {cite}`uhlenbeck1930`, $dx = \theta(m - x)\,dt + \sigma\,dW$, sampled exactly.

    Each call advances it by ``dt`` with the exact transition of the SDE,
    $x_{k+1} = m + (x_k - m)e^{-\theta\,dt} + \sigma\sqrt{\tfrac{1 - e^{-2\theta\,dt}}{2\theta}}\;\xi_k$,
    $\xi_k \sim \mathcal N(0, I)$, so $\mathbb E[x_{k+n} \mid x_k] = m + (x_k - m)e^{-\theta n\,dt}$
    (mean reversion) and the stationary variance is $\sigma^2 / (2\theta)$ for any ``dt``.
    Successive values are correlated over about $1/(\theta\,dt)$ steps: the exploration of
    {cite}`lillicrap2016ddpg` ($\theta = 0.15$, $\sigma = 0.2$). ``reset()`` puts $x$ back to
    ``x0`` (default $m$). shape: (d,).
    """

    def __init__(self, shape, sigma, rng, theta=0.15, dt=1e-2, mean=0.0, x0=None):
        self.shape, self.sigma, self.theta, self.dt = tuple(shape), float(sigma), float(theta), float(dt)
        self.mean, self.rng = mean, rng
        self.x0 = np.full(self.shape, mean, dtype=float) if x0 is None else np.asarray(x0, float)
        self.decay = math.exp(-self.theta * self.dt)                          # e^{-θ dt}
        self.scale = self.sigma * math.sqrt((1 - self.decay ** 2) / (2 * self.theta))
        self.reset()

    def reset(self):
        self.x = self.x0.copy()

    def __call__(self):
        xi = self.rng.standard_normal(self.shape)
        self.x = self.mean + (self.x - self.mean) * self.decay + self.scale * xi   # exact OU step
        return self.x.copy()


# --------------------------------------------------------------------------------------------
# The agent
# --------------------------------------------------------------------------------------------
class DDPGAgent:
    r"""Acts with the actor $\mu_\theta$, in the environment's action box.

    actor: an :class:`Actor`; critic: a :class:`Critic`; low, high: the action box (d,); noise: a
    :class:`GaussianNoise` or :class:`OUNoise` (normalised units) used by ``act(obs)`` (None: no
    noise). ``act(obs, deterministic=False)``: obs (obs_dim,) → action (d,); (N, obs_dim) →
    (N, d), float32, always inside [low, high]. ``deterministic=True``: $\mu_\theta(s)$ scaled;
    otherwise the behaviour policy $\text{clip}(\mu_\theta(s) + \varepsilon)$ scaled.
    ``obs_dim``, ``act_dim``: the spaces it was built for (see :class:`rlnotes.rollout.Agent`).
    """

    def __init__(self, actor, critic, low, high, noise=None):
        self.actor, self.critic, self.noise = actor, critic, noise
        self.low, self.high = np.asarray(low, np.float32), np.asarray(high, np.float32)
        self.obs_dim, self.act_dim = actor.net[0].in_features, len(self.low)

    def act_normalised(self, obs, deterministic=False):
        """The same as :meth:`act` in normalised units [-1, 1]."""
        with torch.no_grad():
            a = self.actor(torch.as_tensor(np.asarray(obs, np.float32))).numpy()   # μ_θ(s)
        if not deterministic and self.noise is not None:
            a = a + (self.noise() if a.ndim == 1 else np.stack([self.noise() for _ in a]))  # one ε per row
        return np.clip(a, -1.0, 1.0).astype(np.float32)                 # β(s) = clip(μ + ε)

    def act(self, obs, deterministic=False):
        r"""The action in the environment's box: $\mu_\theta(s)$ if ``deterministic``, else the
        behaviour policy $\beta(s) = \operatorname{clip}(\mu_\theta(s) + \varepsilon)$, scaled by
        :func:`scale_action`. obs (obs_dim,) → (d,); (B, obs_dim) → (B, d), float32."""
        return scale_action(self.act_normalised(obs, deterministic), self.low, self.high).astype(np.float32)

    def q_value(self, obs, action):
        r"""$Q_\phi(s, a)$ (first critic) for env-unit actions: obs (B, obs_dim), action (B, d) → (B,)."""
        a = 2.0 * (np.asarray(action, np.float32) - self.low) / (self.high - self.low) - 1.0
        with torch.no_grad():
            return self.critic(torch.as_tensor(np.asarray(obs, np.float32)),
                               torch.as_tensor(a, dtype=torch.float32))[0].numpy()

    def __repr__(self):
        return f"DDPGAgent(low={self.low}, high={self.high}, actor={self.actor})"


def _check_env(env, env_id):
    space = env.single_action_space
    if isinstance(space, gym.spaces.Discrete):
        raise ValueError(
            f"DDPG needs a continuous (Box) action space; {env_id} has discrete actions {space}. "
            f"For discrete actions use DQN (rlnotes.algos.dqn) or PPO (rlnotes.algos.ppo): "
            f"with finitely many actions the max over a is a lookup, no actor is needed.")
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"DDPG needs a 1-D Box action space, {env_id} has {space}")
    if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
        raise ValueError(f"DDPG scales tanh outputs into the action box, which must be bounded; "
                         f"{env_id} has low={space.low}, high={space.high}. Wrap the env with "
                         f"gymnasium.wrappers.ClipAction / RescaleAction to a bounded box.")
    obs_space = env.single_observation_space
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise ValueError(f"rlnotes' DDPG takes observations that are vectors (a 1-D Box), "
                         f"{env_id} has {obs_space}")


def make_agent(env, config, seed=0):
    r"""The untrained :class:`DDPGAgent` for the spaces of ``env`` (a vector env, e.g. from
    :func:`rlnotes.rollout.make_vec_env`) and a :class:`Config`: $\mu_\theta$, $Q_\phi$ (two
    critics if ``config.twin_critics``), and the exploration noise, seeded with ``seed + 1``.
    The networks are initialised from torch's global generator (seed it first for a repeatable
    agent). A saved agent is rebuilt with this function, then each network loads its saved
    ``state_dict``.
    """
    spec = getattr(env, "spec", None)
    _check_env(env, spec.id if spec is not None else "this env")
    obs_dim = env.single_observation_space.shape[0]
    act_dim = env.single_action_space.shape[0]
    actor = Actor(obs_dim, act_dim, config.hidden_sizes)
    critic = Critic(obs_dim, act_dim, config.hidden_sizes, n_critics=2 if config.twin_critics else 1)
    rng = np.random.default_rng(seed + 1)                                    # exploration
    if config.noise == "gaussian":
        noise = GaussianNoise((act_dim,), config.noise_std, rng)
    else:
        noise = OUNoise((act_dim,), config.noise_std, rng, theta=config.ou_theta, dt=config.ou_dt)
    return DDPGAgent(actor, critic, env.single_action_space.low, env.single_action_space.high, noise)


# --------------------------------------------------------------------------------------------
# Losses (the critic's targets are rlnotes.returns.ddpg_targets) and one update
# --------------------------------------------------------------------------------------------
def critic_loss(critic, obs, actions, y):
    r"""$L(\phi) = \sum_j \frac1B \sum_i (Q_{\phi_j}(s_i, a_i) - y_i)^2$ (one term per critic)."""
    q = critic(obs, actions)                                                 # (n_critics, B)
    return ((q - y) ** 2).mean(dim=1).sum()


def actor_loss(actor, critic, obs):
    r"""$-J(\theta) = -\frac1B \sum_i Q_{\phi_1}(s_i, \mu_\theta(s_i))$ (first critic).

    Its gradient with respect to $\theta$ is $-\frac1B \sum_i \nabla_a Q_{\phi_1}(s_i,
    a)|_{a = \mu_\theta(s_i)} \nabla_\theta \mu_\theta(s_i)$, the deterministic policy gradient.
    $\phi$ is held fixed by the caller: :func:`update` freezes the critic
    (``requires_grad_(False)``) while it differentiates this loss.
    """
    return -critic(obs, actor(obs))[0].mean()


def update(agent, targets, optimizers, batch, config, update_actor=True, generator=None):
    r"""One update on a minibatch, in the order of {cite}`lillicrap2016ddpg` and {cite}`fujimoto2018td3`.

    1. the targets $y$ (:func:`rlnotes.returns.ddpg_targets`) and a critic step on $L(\phi)$;
    2. if ``update_actor``: an actor step up $J(\theta)$ against the critic just updated, with
       $\phi$ frozen, then the soft updates $\phi^- \leftarrow \tau\phi + (1-\tau)\phi^-$ and
       $\theta^- \leftarrow \tau\theta + (1-\tau)\theta^-$.

    targets: ``(actor_targ, critic_targ)``; optimizers: ``(critic_optimizer, actor_optimizer)``;
    batch: tensors ``(obs, actions, rewards, next_obs, terminated)``, actions in normalised units.
    Returns ``(loss_q, loss_pi)``, detached scalars (``loss_pi`` None without an actor step).
    """
    actor_targ, critic_targ = targets
    critic_optimizer, actor_optimizer = optimizers
    obs, actions, rewards, next_obs, terminated = batch
    # critic: y = r + γ(1 − terminated) Q_φ⁻(s', μ_θ⁻(s')); a gradient step on L(φ)
    y = ddpg_targets(actor_targ, critic_targ, rewards, next_obs, terminated, config.gamma,
                     config.target_noise, config.target_noise_clip, generator)
    loss_q = critic_loss(agent.critic, obs, actions, y)
    critic_optimizer.zero_grad()
    loss_q.backward()
    critic_optimizer.step()
    if not update_actor:
        return loss_q.detach(), None
    # actor: a gradient step on −J(θ) through the updated critic, whose φ gets no gradient
    agent.critic.requires_grad_(False)
    loss_pi = actor_loss(agent.actor, agent.critic, obs)
    actor_optimizer.zero_grad()
    loss_pi.backward()
    actor_optimizer.step()
    agent.critic.requires_grad_(True)
    # targets: Polyak averages
    polyak_update(critic_targ, agent.critic, config.tau)                     # φ⁻ ← τφ + (1−τ)φ⁻
    polyak_update(actor_targ, agent.actor, config.tau)                       # θ⁻ ← τθ + (1−τ)θ⁻
    return loss_q.detach(), loss_pi.detach()


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
def _check_finite(loss, config):
    if not torch.isfinite(loss):
        raise FloatingPointError(
            f"the DDPG loss became {float(loss)} (not finite). Likely causes: learning "
            f"rates too high (actor_lr={config.actor_lr}, critic_lr={config.critic_lr}; try 10x "
            f"smaller) or NaN/inf in the environment's rewards or observations.")


def train(env_id, config=None, seed=0, total_steps=None, progress=True):
    r"""Train a DDPG (or TD3) agent on ``env_id``; return a :class:`rlnotes.algos.TrainResult`.

    env_id:      a gymnasium id with a 1-D Box observation space and a bounded 1-D Box action
                 space (e.g. ``"Pendulum-v1"``). Discrete actions raise ValueError (use DQN/PPO).
    config:      a :class:`Config` (default: ``Config()``).
    seed:        seeds Python, NumPy, torch, the noise, the replay sampling and the env: the same
                 seed gives the same history on CPU.
    total_steps: overrides ``config.total_steps``.
    progress:    a progress bar over environment steps with the mean return of the last 10 episodes.

    ``result.agent`` is a :class:`DDPGAgent` (``.act``, ``.actor``, ``.critic``);
    ``result.history`` holds one ``(env_step, episode_return, wall_seconds)`` per finished
    episode; ``result.stats`` counts gradient steps and gives the last losses.
    """
    config = resolve_config(Config, config, total_steps)
    start_time = time.perf_counter()

    # set-up: seeds, the env, μ_θ and Q_φ, their targets, one Adam for each (fused: the update
    # of all of a network's parameters in one kernel, a documented torch option), the buffer
    seed_everything(seed)
    env = make_vec_env(env_id, n_envs=1, seed=seed)                          # same-step autoreset
    _check_env(env, env_id)
    agent = make_agent(env, config, seed)
    actor_targ = copy.deepcopy(agent.actor).requires_grad_(False)            # θ⁻ ← θ
    critic_targ = copy.deepcopy(agent.critic).requires_grad_(False)          # φ⁻ ← φ
    optimizers = (torch.optim.Adam(agent.critic.parameters(), lr=config.critic_lr, fused=True),
                  torch.optim.Adam(agent.actor.parameters(), lr=config.actor_lr, fused=True))
    obs_dim, act_dim = agent.obs_dim, agent.act_dim
    buffer = ReplayBuffer(config.buffer_size, (obs_dim,), (act_dim,), act_dtype=np.float32, seed=seed)
    rng = np.random.default_rng(seed + 3)                                    # warm-up actions
    gen = torch.Generator().manual_seed(seed + 2)                            # target smoothing

    history, recent = [], []
    steps = grad_steps = actor_steps = 0
    ep_return = 0.0
    loss_q = loss_pi = torch.tensor(float("nan"))
    obs, _ = env.reset(seed=seed)                                            # (1, obs_dim)
    name = "TD3" if config.twin_critics and config.policy_delay > 1 and config.target_noise > 0 else "DDPG"
    bar = (progress_bar(total=config.total_steps, desc=f"{name} {env_id}", unit="steps")
           if progress else TextBar(total=config.total_steps, disable=True))
    try:
        while steps < config.total_steps:
            # 1. act with the behaviour policy β (uniformly random before learning starts)
            if steps < config.learning_starts:
                a = rng.uniform(-1.0, 1.0, (1, act_dim)).astype(np.float32)
            else:
                a = agent.act_normalised(obs)                                # clip(μ_θ(s) + ε)
            # 2. step the env; store (s, a, r, s', terminated), s' the true last obs at an end
            step = step_env(env, scale_action(a, agent.low, agent.high))
            buffer.add(obs, a, step.rewards, step.next_obs, step.terminated)
            obs = step.obs                                                   # reset obs at an end
            steps += 1
            ep_return += float(step.rewards[0])
            if step.done[0]:
                history.append((steps, ep_return, time.perf_counter() - start_time))
                recent = (recent + [ep_return])[-10:]
                ep_return = 0.0
                agent.noise.reset()

            # 3. updates: a critic step; every policy_delay-th, an actor step and the targets
            if steps >= config.learning_starts and steps % config.train_freq == 0:
                for _ in range(config.gradient_steps):
                    grad_steps += 1
                    update_actor = grad_steps % config.policy_delay == 0
                    batch = buffer.sample(config.batch_size).as_tensors()
                    loss_q, pi = update(agent, (actor_targ, critic_targ), optimizers, batch, config,
                                        update_actor, gen)
                    if update_actor:
                        actor_steps, loss_pi = actor_steps + 1, pi
                if steps % 1000 == 0:
                    _check_finite(loss_q, config)

            if steps % 1000 == 0:
                bar.set_postfix(ret=float(np.mean(recent)) if recent else 0.0)
                bar.update(steps - bar.n)
    finally:
        bar.update(min(steps, config.total_steps) - bar.n)
        bar.close()
        env.close()
    wall = time.perf_counter() - start_time
    stats = {"env_steps": steps, "gradient_steps": grad_steps, "actor_steps": actor_steps,
             "final_critic_loss": float(loss_q), "final_actor_loss": float(loss_pi),
             "steps_per_second": steps / wall if wall > 0 else float("nan")}
    return TrainResult(agent=agent, history=history, config=config, wall_time=wall, stats=stats,
                       env_id=env_id, seed=seed)
