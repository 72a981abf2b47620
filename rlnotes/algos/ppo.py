r"""Proximal policy optimisation (PPO) {cite}`schulman2017ppo`, clipped or KL-penalised.

The chapter "Proximal policy optimisation" ({ref}`ch-ppo`) builds PPO from the surrogate
objective of {ref}`ch-importance-sampling`: data collected with the policy
$\pi_{\theta_\text{old}}$ serves several gradient steps on

$$J^{\theta_\text{old}}(\theta) = \mathbb E_{\pi_{\theta_\text{old}}}\big[r_t(\theta)\,\hat A_t\big],
  \qquad r_t(\theta) = \frac{\pi_\theta(a_t|s_t)}{\pi_{\theta_\text{old}}(a_t|s_t)},$$

as long as $\pi_\theta$ stays close to $\pi_{\theta_\text{old}}$. Two ways to keep it close:

* ``objective="clip"``: maximise $\mathbb E[\min(r_t \hat A_t, \operatorname{clip}(r_t, 1-\epsilon, 1+\epsilon)\hat A_t)]$
  (:func:`rlnotes.estimators.ppo_clip_loss`);
* ``objective="kl"``: maximise $\mathbb E[r_t \hat A_t] - \beta\,\mathrm{KL}(\pi_{\theta_\text{old}}\|\pi_\theta)$
  (:func:`rlnotes.estimators.ppo_kl_loss`), with $\beta$ halved or doubled after each
  iteration when the measured KL is far below or above a target
  (:func:`rlnotes.estimators.adapt_kl_beta`).

One iteration of :func:`train`:

1. **collect** ``n_steps`` steps from each of ``n_envs`` copies of the environment (a fixed-length
   rollout, episodes cut anywhere: :func:`rlnotes.rollout.collect_rollout`, which stores the
   true last observation as $s_{t+1}$ where an episode ended), sampling
   $a_t \sim \pi_{\theta'}(\cdot|s_t)$ with one batched network call per vector step; then
   $\log\pi_{\theta'}(a_t|s_t)$ for the whole rollout in one batched call;
2. **advantages**: $V_\phi(s_t)$ and $V_\phi(s_{t+1})$ in one batched call each, $\hat A_t$ by GAE
   (:func:`rlnotes.returns.gae`), which bootstraps through truncation but not through
   termination; value targets $G^\lambda_t = \hat A_t + V_\phi(s_t)$;
3. **update** (:func:`update`) for ``n_epochs`` passes over the rollout in ``n_minibatches``
   random minibatches: :func:`compute_loss_pi` + ``vf_coef`` × :func:`compute_loss_v` −
   ``ent_coef`` × entropy, one Adam step each, the gradient norm clipped, the learning rate
   annealed linearly to 0 over training;
4. **measure** how far the policy moved (KL estimate, clip fraction); with ``objective="kl"``
   adapt $\beta$.

Implementation details that are not in the paper's pseudocode (each documented at its
``Config`` field; see also {cite}`huang2022details` and {cite}`andrychowicz2021matters`):
advantage normalisation per minibatch, gradient-norm clipping, linear learning-rate annealing,
separate actor and critic networks with one optimiser, optional value clipping, truncation
bootstrapping, and — for Pendulum — a constant reward scale and running observation
normalisation.

Usage::

    from rlnotes.algos import ppo
    result = ppo.train("CartPole-v1", seed=0)                 # Config() defaults
    result = ppo.train("Pendulum-v1", seed=0)                 # Config.pendulum() by default
    kl = ppo.train("CartPole-v1", ppo.Config(objective="kl"))
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from ..estimators import adapt_kl_beta, approx_kl, ppo_clip_loss, ppo_kl_loss
from ..policies import make_policy, mlp
from ..returns import gae
from ..rollout import collect_rollout, make_vec_env
from ..runtime import seed_everything
from . import fields, gradient_step, record_episodes, resolve_config, train_result, training_bar

__all__ = ["Config", "PRESETS", "PPOAgent", "RunningNormalizer", "make_agent", "compute_loss_pi",
           "compute_loss_v", "update", "train"]

OBJECTIVES = ("clip", "kl")
#: what makes PPO's loss NaN or inf, and the fixes (the message of a FloatingPointError)
LIKELY_CAUSES = ("a learning rate too high (lr={lr}; try 3x smaller), rewards or observations with a huge scale "
                 "(set reward_scale, normalize_obs=True), NaN or inf coming from the environment, or a policy "
                 "collapsed onto one action (keep max_grad_norm, add ent_coef).")


# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------
@dataclass
class Config:
    r"""Every knob of :func:`train`. The defaults are for CartPole-v1; :meth:`pendulum` for Pendulum-v1.

    The objectives, GAE and the loss are derived in {ref}`ch-ppo`, which also lists where this
    implementation departs from the paper. How the defaults were chosen:
    {ref}`the benchmarks appendix <bench-defaults-ppo>`.
    """

    # the objective
    objective: str = fields.one_of("clip", OBJECTIVES)         #: clipped surrogate, or KL penalty ("kl")
    clip_eps: float = fields.positive(0.2)                     #: clip range ε of the ratio ("clip" only)
    kl_target: float = fields.positive(0.01)                   #: d_targ ("kl" only; paper 0.003 to 0.03)
    kl_beta_init: float = fields.positive(1.0)                 #: initial β ("kl" only; paper 1)
    gamma: float = fields.in_range(0.99, "[0, 1]", "a discount")  #: discount γ
    lam: float = fields.in_range(0.95, "[0, 1]")               #: GAE's λ
    # rollout and optimisation
    n_envs: int = fields.positive_int(8)                       #: env copies stepped together
    n_steps: int = fields.positive_int(128)                    #: steps per copy in a rollout
    n_epochs: int = fields.positive_int(4)                     #: passes over each rollout
    n_minibatches: int = fields.positive_int(4)                #: minibatches per pass, one Adam step each
    total_steps: int = fields.positive_int(100_000)            #: env steps to train for (whole rollouts)
    lr: float = fields.learning_rate(2.5e-3)                   #: Adam's step size α, both networks
    anneal_lr: bool = fields.flag(True)                        #: α decays linearly to 0 over training
    max_grad_norm: float | None = fields.or_none(fields.positive(0.5), "no clipping")  #: clip ‖∇L‖ to this
    normalize_advantages: bool = fields.flag(True)             #: Â to mean 0, std 1 in each minibatch
    # networks (separate actor and critic, tanh; one optimiser)
    hidden_sizes: tuple = fields.layer_sizes((64, 64))         #: hidden widths of π_θ
    value_hidden_sizes: tuple = fields.layer_sizes((64, 64))   #: hidden widths of V_φ
    vf_coef: float = fields.non_negative(0.5)                  #: c_1, weight of the value loss
    clip_value: bool = fields.flag(False)                      #: clip V_φ's change to ±ε (as baselines)
    ent_coef: float = fields.non_negative(0.0)                 #: c_2, weight of the entropy bonus
    log_std_init: float = fields.number(0.0)                   #: initial log σ (Gaussian policies only)
    # continuous-control details
    normalize_obs: bool = fields.flag(False)                   #: observations by running mean and std
    reward_scale: float = fields.positive(1.0)                 #: rewards × this for GAE and V_φ's loss

    @classmethod
    def pendulum(cls, **overrides):
        r"""The preset for Pendulum-v1 (diagonal Gaussian policy), used by ``train("Pendulum-v1")``.

        Keyword arguments override fields. How the preset was chosen:
        {ref}`the benchmarks appendix <bench-defaults-ppo>`.
        """
        base = dict(gamma=0.98, lam=0.95, n_envs=8, n_steps=256, n_epochs=10, n_minibatches=16,
                    total_steps=300_000, lr=1e-3, ent_coef=0.0, log_std_init=0.0,
                    normalize_obs=True, reward_scale=0.1)
        return cls(**{**base, **overrides})

    def __post_init__(self):
        fields.check_fields(self)
        if self.n_minibatches > self.n_envs * self.n_steps:
            raise ValueError(f"Config.n_minibatches={self.n_minibatches} is more than the "
                             f"{self.n_envs * self.n_steps} transitions of a rollout "
                             f"(n_envs * n_steps)")


#: env id -> the Config ``train`` uses when called with ``config=None`` (others: ``Config()``).
PRESETS = {"Pendulum-v1": Config.pendulum}


# --------------------------------------------------------------------------------------------
# The agent: policy π_θ, value V_φ and (optionally) observation statistics
# --------------------------------------------------------------------------------------------
class RunningNormalizer(nn.Module):
    r"""Running mean and variance of observations: $o \mapsto (o - m) / \sqrt{v + 10^{-8}}$, clipped to ±10.

    ``update(batch)`` merges a batch (B, obs_dim) into the statistics (parallel-variance formula
    of Chan et al.); the statistics are buffers, so they are saved with the agent's state_dict.
    """

    def __init__(self, obs_dim):
        super().__init__()
        self.register_buffer("mean", torch.zeros(obs_dim, dtype=torch.float64))
        self.register_buffer("var", torch.ones(obs_dim, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    def update(self, batch):
        x = torch.as_tensor(np.asarray(batch), dtype=torch.float64).reshape(-1, self.mean.shape[0])
        b_mean, b_var, b = x.mean(0), x.var(0, unbiased=False), x.shape[0]
        delta, total = b_mean - self.mean, self.count + b
        self.mean += delta * b / total
        self.var = (self.var * self.count + b_var * b + delta ** 2 * self.count * b / total) / total
        self.count = total

    def forward(self, obs):
        obs = torch.as_tensor(obs, dtype=torch.float32)
        std = torch.sqrt(self.var + 1e-8).float()
        return torch.clamp((obs - self.mean.float()) / std, -10.0, 10.0)


class PPOAgent(nn.Module):
    r"""What :func:`train` returns as ``result.agent``: the policy, the value network, the obs statistics.

    * ``policy``: a :class:`rlnotes.policies.CategoricalPolicy` or ``DiagGaussianPolicy`` acting
      on (normalised) observations;
    * ``value_net``: $V_\phi$, an ``mlp`` (obs_dim -> 1);
    * ``obs_norm``: a :class:`RunningNormalizer`, or None.

    ``act(obs, deterministic=False)`` takes raw environment observations (one or a batch) and
    returns actions like the policy's ``act`` (Gaussian actions unclipped: clip them to the
    action space before ``env.step``; :func:`rlnotes.evaluate` does). ``value(obs)`` returns
    $V_\phi(s)$ as a tensor (shape (B,)).
    """

    def __init__(self, policy, value_net, obs_norm=None):
        super().__init__()
        self.policy, self.value_net, self.obs_norm = policy, value_net, obs_norm

    @property
    def obs_dim(self):
        """The observation length (the :class:`rlnotes.rollout.Agent` interface)."""
        return self.policy.obs_dim

    @property
    def n_actions(self):
        """A, for a categorical policy; None for a Gaussian one."""
        return getattr(self.policy, "n_actions", None)

    @property
    def act_dim(self):
        """d, for a Gaussian policy; None for a categorical one."""
        return getattr(self.policy, "act_dim", None)

    def normalize(self, obs):
        obs = torch.as_tensor(obs, dtype=torch.float32)
        return obs if self.obs_norm is None else self.obs_norm(obs)

    @torch.no_grad()
    def act(self, obs, deterministic=False):
        return self.policy.act(self.normalize(obs), deterministic=deterministic)

    def value(self, obs):
        return self.value_net(self.normalize(obs)).squeeze(-1)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
def make_agent(env, config, seed=0):
    r"""The untrained :class:`PPOAgent` for the spaces of ``env`` (a vector env) and ``config``:
    $\pi_\theta$ (categorical or Gaussian, by the action space), $V_\phi$, the observation statistics.
    The initial weights come from torch's global generator (``train`` seeds it); ``seed`` is not used."""
    obs_space, act_space = env.single_observation_space, env.single_action_space
    kw = {"log_std_init": config.log_std_init} if isinstance(act_space, gym.spaces.Box) else {}
    policy = make_policy(obs_space, act_space, hidden_sizes=config.hidden_sizes, **kw)
    obs_dim = obs_space.shape[0]
    value_net = mlp([obs_dim, *config.value_hidden_sizes, 1])
    return PPOAgent(policy, value_net, RunningNormalizer(obs_dim) if config.normalize_obs else None)


def compute_loss_pi(policy, data, config, beta):
    r"""The policy's loss on a minibatch: $-J_\text{CLIP}$ (or $-J_\text{KLPEN}$), and the entropy.

    data: a dict of tensors, ``obs`` (normalised $s_t$), ``act`` ($a_t$), ``logp_old``
    ($\log\pi_{\theta_\text{old}}(a_t|s_t)$), ``adv`` ($\hat A_t$, normalised here to mean 0,
    std 1 if ``config.normalize_advantages``). Returns ``(loss_pi, entropy)``, scalars.
    """
    adv = data["adv"]
    if config.normalize_advantages and len(adv) > 1:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)            # per-minibatch normalisation
    dist = policy.distribution(data["obs"])
    logp = dist.log_prob(data["act"])                            # log π_θ(a_t|s_t)
    if config.objective == "clip":
        loss_pi = ppo_clip_loss(logp, data["logp_old"], adv, config.clip_eps)
    else:
        loss_pi = ppo_kl_loss(logp, data["logp_old"], adv, beta)
    return loss_pi, dist.entropy().mean()


def compute_loss_v(value_net, data, config):
    r"""The value loss $\frac12 \operatorname{mean}(V_\phi(s_t) - G^\lambda_t)^2$ on a minibatch.

    data: ``obs`` (normalised $s_t$), ``ret`` (targets $G^\lambda_t$), ``v_old`` ($V$ at
    collection, for ``config.clip_value``: the change of $V_\phi$ clipped to ±ε).
    """
    v = value_net(data["obs"]).squeeze(-1)                       # V_φ(s_t)
    loss_v = (v - data["ret"]) ** 2                              # (V_φ(s_t) − G^λ_t)²
    if config.clip_value:
        v_clip = data["v_old"] + torch.clamp(v - data["v_old"], -config.clip_eps, config.clip_eps)
        loss_v = torch.max(loss_v, (v_clip - data["ret"]) ** 2)
    return 0.5 * loss_v.mean()


def update(agent, optimizer, data, config, beta, generator):
    r"""``n_epochs`` passes over the rollout in ``n_minibatches`` random minibatches, one Adam step each.

    Each step (:func:`rlnotes.algos.gradient_step`): $L = L_\pi + c_1 L_V - c_2 \mathcal H$
    ({eq}`eq-ppo-total-loss`), the gradient's norm clipped to ``max_grad_norm``. data: the rollout's tensors (see :func:`compute_loss_pi`,
    :func:`compute_loss_v`), all of length ``n_envs * n_steps``. Returns the number of steps.
    """
    batch_size = len(data["adv"])
    mb_size = batch_size // config.n_minibatches
    causes = LIKELY_CAUSES.format(lr=config.lr)                 # why a NaN loss, if one comes
    for _ in range(config.n_epochs):
        perm = torch.randperm(batch_size, generator=generator)
        for k in range(config.n_minibatches):
            idx = perm[k * mb_size:(k + 1) * mb_size]
            mb = {key: value[idx] for key, value in data.items()}
            loss_pi, entropy = compute_loss_pi(agent.policy, mb, config, beta)
            loss = loss_pi + config.vf_coef * compute_loss_v(agent.value_net, mb, config)
            if config.ent_coef > 0:
                loss = loss - config.ent_coef * entropy          # entropy bonus
            gradient_step(optimizer, loss, config.max_grad_norm, causes)
    return config.n_epochs * config.n_minibatches


def policy_change(policy, data, clip_eps):
    """How far the update moved π on the rollout: (KL estimate, fraction of ratios outside 1 ± ε)."""
    with torch.no_grad():
        logp_new = policy.log_prob(data["obs"], data["act"])
        ratio = (logp_new - data["logp_old"]).exp()
        return (float(approx_kl(logp_new, data["logp_old"])),
                float((ratio - 1.0).abs().gt(clip_eps).float().mean()))


def train(env_id, config=None, seed=0, total_steps=None, progress=True):
    r"""Train an actor-critic on ``env_id`` with PPO; return a :class:`rlnotes.algos.TrainResult`.

    env_id:      a gymnasium id with a 1-D Box observation space and Discrete or 1-D Box
                 actions (e.g. ``"CartPole-v1"``, ``"Pendulum-v1"``).
    config:      a :class:`Config`. None: ``PRESETS[env_id]()`` if the env has a preset
                 (``Config.pendulum()`` for Pendulum-v1), else ``Config()`` (tuned for CartPole).
    seed:        seeds Python, NumPy and torch (initialisation, action sampling, minibatches)
                 and the environments: the same seed on the same machine gives the same history.
    total_steps: overrides ``config.total_steps``.
    progress:    a progress bar counting environment steps, with the mean return of the last 20
                 finished training episodes.

    ``result.history``: one ``(env_step, episode_return, wall_seconds)`` per finished training
    episode (undiscounted, unscaled return; ``env_step`` counts the steps of all copies taken
    when it finished). ``result.agent``: a :class:`PPOAgent`. ``result.stats``: iterations,
    gradient steps, the last KL estimate, clip fraction and, for ``"kl"``, the final $\beta$.
    """
    config = resolve_config(Config, PRESETS.get(env_id, Config)() if config is None else config,
                            total_steps)
    start_time = time.perf_counter()

    # set-up: seeds, N copies of the env, π_θ and V_φ (separate networks, one optimiser)
    seed_everything(seed)
    env = make_vec_env(env_id, n_envs=config.n_envs, seed=seed)
    agent = make_agent(env, config, seed)
    optimizer = torch.optim.Adam(agent.parameters(), lr=config.lr, eps=1e-5)
    generator = torch.Generator().manual_seed(seed)              # minibatch shuffles
    N, T = config.n_envs, config.n_steps
    batch_size = N * T
    n_iters = math.ceil(config.total_steps / batch_size)

    history, rollout = [], None
    grad_steps = 0
    beta = config.kl_beta_init
    kl_value = clip_frac = float("nan")
    bar = training_bar(progress, n_iters * batch_size, f"PPO {env_id}")
    try:
        for k in range(n_iters):
            # 1. collect T steps from each of the N copies with π_θ' (one batched call per step),
            #    then log π_θ'(a_t|s_t) for the whole rollout in one call
            rollout = collect_rollout(env, agent.act, T, previous=rollout, seed=seed)
            record_episodes(history, rollout.finished(k * batch_size), time.perf_counter() - start_time, bar)
            act = torch.from_numpy(rollout.flat("actions"))
            with torch.no_grad():
                obs = agent.normalize(torch.from_numpy(rollout.flat("obs")))   # normalised s_t
                logp_old = agent.policy.log_prob(obs, act)

            # 2. V_φ(s_t), V_φ(s_{t+1}); GAE advantages Â_t (bootstrap through truncation, not
            #    termination) and value targets G^λ_t = Â_t + V_φ(s_t)
            with torch.no_grad():
                values = agent.value_net(obs).squeeze(-1)
                next_values = agent.value(rollout.flat("next_obs"))  # true s_{t+1} at an end
            adv = gae(rollout.rewards * config.reward_scale, values.numpy().reshape(T, N),
                      next_values.numpy().reshape(T, N), rollout.terminated, rollout.truncated,
                      config.gamma, config.lam)
            adv = torch.as_tensor(adv.reshape(-1), dtype=torch.float32)
            data = dict(obs=obs, act=act, logp_old=logp_old, adv=adv, ret=adv + values,
                        v_old=values)

            # 3. n_epochs passes of n_minibatches Adam steps on L, learning rate α_k = α(1 − k/K)
            if config.anneal_lr:
                for group in optimizer.param_groups:
                    group["lr"] = config.lr * (1.0 - k / n_iters)
            grad_steps += update(agent, optimizer, data, config, beta, generator)

            # 4. how far π moved (KL, clipped ratios); β adapted ("kl"); observation statistics
            kl_value, clip_frac = policy_change(agent.policy, data, config.clip_eps)
            if config.objective == "kl":
                beta = adapt_kl_beta(beta, kl_value, config.kl_target)   # β/2 or 2β or β
            if agent.obs_norm is not None:           # statistics change between iterations only,
                agent.obs_norm.update(rollout.obs)   # so log π_θ' is the behaviour policy's
            bar.update(batch_size)
    finally:
        bar.close()
        env.close()
    stats = {"iterations": n_iters, "grad_steps": grad_steps, "env_steps": n_iters * batch_size,
             "last_kl": kl_value, "last_clip_fraction": clip_frac}
    if config.objective == "kl":
        stats["final_beta"] = beta
    return train_result(agent, history, config, stats, start_time, env_id, seed)
