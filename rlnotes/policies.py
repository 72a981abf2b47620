r"""Parameterised stochastic policies $\pi_\theta(a \mid s)$ as small torch networks.

The chapter "Policies" ({ref}`ch-policies`) builds two families, and every policy-gradient
algorithm of the book uses one of them:

* a **categorical policy** for a finite action set $\{0, \dots, A-1\}$ (``Discrete(A)`` in
  gymnasium): a network maps the observation to *logits* $\ell_\theta(s) \in \mathbb R^A$, and
  $\pi_\theta(a \mid s) = \operatorname{softmax}(\ell_\theta(s))_a$;
* a **diagonal Gaussian policy** for actions in $\mathbb R^d$ (a 1-D ``Box``): a network gives
  the mean $\mu_\theta(s)$, a vector of log standard deviations $\log \sigma$ (free parameters,
  or a second network $\log\sigma_\theta(s)$), and $a = \mu_\theta(s) + \sigma \odot z$ with
  $z \sim \mathcal N(0, I)$.

Both offer the same three methods:

* ``distribution(obs)`` — the ``torch.distributions`` object $\pi_\theta(\cdot \mid s)$;
* ``log_prob(obs, act)`` — $\log \pi_\theta(a \mid s)$, one number per (observation, action)
  pair, differentiable in $\theta$ (this is what the policy gradient differentiates);
* ``act(obs, deterministic=False)`` — a sampled action as numpy, ready for ``env.step``,
  computed without building the autograd graph (this sits in the inner loop of data
  collection, so it is written for speed).

Shapes: an observation is a vector of ``obs_dim`` numbers; methods take one observation
``(obs_dim,)`` or a batch ``(B, obs_dim)`` (e.g. from a vector env), as numpy arrays or torch
tensors. :func:`make_policy` picks the right family from a gymnasium environment's spaces.

Two network helpers serve every algorithm of the book: :func:`mlp`, the one network builder
(policies, critics, Q-networks, actors), and :func:`polyak_update`, the one update of a target
network (DQN's hard copy, DDPG's soft average). Input checks live in ``rlnotes._checks``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal

from ._checks import (
    action_indices,
    continuous_actions,
    layer_sizes,
    observations,
    parameter_pairs,
    positive_int,
    unit_interval,
)

__all__ = ["mlp", "polyak_update", "CategoricalPolicy", "DiagGaussianPolicy",
           "diag_gaussian_log_prob", "make_policy"]

_LOG_2PI = math.log(2.0 * math.pi)


def mlp(sizes, activation=nn.Tanh, output_activation=nn.Identity):
    r"""A multilayer perceptron: affine layers with ``activation`` between them.

    $x \mapsto W_L\, h(\cdots h(W_1 x + b_1) \cdots) + b_L$, with $h$ = ``activation``
    (and ``output_activation`` applied to the output, the identity by default).
    Defined in {ref}`ch-policies`.

    sizes: ``[in, h1, ..., out]``, at least two positive ints; ``len(sizes) - 1`` layers.
    Returns an ``nn.Sequential`` ``Linear, activation, ..., Linear`` (plus ``output_activation``
    unless it is ``nn.Identity``) mapping ``(..., in)`` to ``(..., out)``; ``net[-1]`` is the
    output layer when there is no output activation.
    """
    sizes = layer_sizes(sizes)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        act = activation if i < len(sizes) - 2 else output_activation
        if act is not nn.Identity:                                 # skip a no-op layer
            layers.append(act())
    return nn.Sequential(*layers)


def polyak_update(target, source, tau):
    r"""Move a target network towards its online network: $\phi^- \leftarrow \tau\phi + (1 - \tau)\phi^-$.

    For every parameter, in place and without gradient, as $\phi^- + \tau(\phi - \phi^-)$
    (``Tensor.lerp_``). $\tau = 1$ is an exact copy $\phi^- \leftarrow \phi$ (DQN's refresh of
    its target network every $C$ steps, {ref}`ch-dqn`); a small $\tau$ is the soft update of
    DDPG, an exponential average over about $1/\tau$ updates ({ref}`ch-ddpg`).

    target, source: networks of one architecture (e.g. ``target = copy.deepcopy(source)``);
    tau in [0, 1].
    """
    tau = unit_interval(tau, "tau", "polyak_update")
    with torch.no_grad():
        for p_target, p in parameter_pairs(target, source, "polyak_update"):  # shapes checked
            if tau == 1.0:
                p_target.copy_(p)                                  # φ⁻ ← φ
            else:
                p_target.lerp_(p, tau)                             # φ⁻ ← φ⁻ + τ(φ − φ⁻)


def diag_gaussian_log_prob(mean, log_std, action):
    r"""Log-density of a diagonal Gaussian, in closed form (not via ``torch.distributions``).

    $$\log \pi(a \mid s) = -\frac12 \sum_{i=1}^{d} \Big[ \Big(\frac{a_i - \mu_i}{\sigma_i}\Big)^2
      + 2 \log \sigma_i + \log 2\pi \Big],$$

    with $\mu = \mu_\theta(s)$ and $\sigma = e^{\log \sigma}$. Derived in {ref}`ch-policies`.

    mean, log_std, action: torch tensors of shape (..., d) that broadcast against each other
    (e.g. mean (B, d), log_std (d,), action (B, d)). Returns shape (...,): the sum runs over
    the last (action) dimension. Differentiable in ``mean`` and ``log_std``.
    """
    z = (action - mean) * torch.exp(-log_std)                      # z_i = (a_i − μ_i) / σ_i
    return -0.5 * (z ** 2 + 2.0 * log_std + _LOG_2PI).sum(-1)      # −½ Σ_i [z_i² + 2 log σ_i + log 2π]


# --------------------------------------------------------------------------------------------
# Categorical policy
# --------------------------------------------------------------------------------------------
class CategoricalPolicy(nn.Module):
    r"""$\pi_\theta(a \mid s) = \operatorname{softmax}(\ell_\theta(s))_a$ over actions $0 .. A-1$.

    Derived in {ref}`ch-policies`. The network ``logits_net`` = ``mlp([obs_dim,
    *hidden_sizes, n_actions])`` maps an observation (obs_dim,) to logits (n_actions,).
    """

    def __init__(self, obs_dim, n_actions, hidden_sizes=(64, 64), activation=nn.Tanh):
        super().__init__()
        self.obs_dim = positive_int(obs_dim, "obs_dim", "CategoricalPolicy",
                                    "the length of an observation, e.g. 4 for CartPole-v1")
        self.n_actions = positive_int(n_actions, "n_actions", "CategoricalPolicy",
                                      "the number of actions, e.g. env.action_space.n = 2 "
                                      "for CartPole-v1")
        self.logits_net = mlp([self.obs_dim, *hidden_sizes, self.n_actions], activation)

    def distribution(self, obs):
        r"""$\pi_\theta(\cdot \mid s)$ as ``torch.distributions.Categorical(logits=`` $\ell_\theta(s)$ ``)``.

        obs: (obs_dim,) or (B, obs_dim); the distribution has batch shape () or (B,).
        """
        obs = observations(obs, self.obs_dim, "CategoricalPolicy")
        return Categorical(logits=self.logits_net(obs), validate_args=False)

    def forward(self, obs):
        r"""``policy(obs)`` is :meth:`distribution`: $\pi_\theta(\cdot \mid s)$."""
        return self.distribution(obs)

    def log_prob(self, obs, act):
        r"""$\log \pi_\theta(a \mid s) = \ell_\theta(s)_a - \log \sum_{b} e^{\ell_\theta(s)_b}$.

        Computed by indexing the log-softmax at the taken action. Derived in {ref}`ch-policies`.
        obs: (B, obs_dim) and act: (B,) integers in {0, ..., n_actions-1} -> (B,);
        or obs (obs_dim,) and a single action -> shape (). Differentiable in $\theta$.
        """
        obs = observations(obs, self.obs_dim, "CategoricalPolicy.log_prob")
        act = action_indices(act, obs, self.n_actions, "CategoricalPolicy.log_prob")
        log_pi = torch.log_softmax(self.logits_net(obs), dim=-1)   # log softmax(ℓ_θ(s)), (B, A)
        return log_pi.gather(-1, act.unsqueeze(-1)).squeeze(-1)    # log π_θ(a|s) = log_pi[a]

    @torch.no_grad()
    def act(self, obs, deterministic=False):
        r"""Sample $a \sim \pi_\theta(\cdot \mid s)$, or $\arg\max_a \ell_\theta(s)_a$ if ``deterministic``.

        obs: (obs_dim,) -> a numpy int64 scalar; (B, obs_dim) -> numpy int64 array (B,).
        No autograd graph is built.
        """
        obs = observations(obs, self.obs_dim, "CategoricalPolicy.act")
        logits = self.logits_net(obs)
        if deterministic:
            a = logits.argmax(-1)                                  # the most likely action
        else:
            probs = torch.softmax(logits, dim=-1)                  # π_θ(·|s)
            a = torch.multinomial(probs, 1).squeeze(-1)            # a ~ π_θ(·|s)
        return a.numpy() if a.dim() else np.int64(a.item())


# --------------------------------------------------------------------------------------------
# Diagonal Gaussian policy
# --------------------------------------------------------------------------------------------
class DiagGaussianPolicy(nn.Module):
    r"""$\pi_\theta(\cdot \mid s) = \mathcal N\big(\mu_\theta(s), \operatorname{diag}(\sigma^2)\big)$.

    Derived in {ref}`ch-policies`. ``mean_net`` = ``mlp([obs_dim, *hidden_sizes, act_dim])``
    gives $\mu_\theta(s)$. The log standard deviation is either

    * state-independent (default): ``log_std``, an ``nn.Parameter`` of shape (act_dim,)
      initialised to ``log_std_init`` (so $\sigma = e^{-0.5} \approx 0.61$); or
    * state-dependent (``state_dependent_std=True``): ``log_std_net`` =
      ``mlp([obs_dim, *hidden_sizes, act_dim])`` gives $\log \sigma_\theta(s)$; its last layer
      starts at weights 0 and bias ``log_std_init``, so at initialisation $\sigma$ is the same
      as in the state-independent case. Then ``log_std`` is None.

    Actions are unbounded: clip them to the action space (``np.clip(a, low, high)``) before
    ``env.step`` if the environment does not.
    """

    def __init__(self, obs_dim, act_dim, hidden_sizes=(64, 64), log_std_init=-0.5,
                 state_dependent_std=False, activation=nn.Tanh):
        super().__init__()
        self.obs_dim = positive_int(obs_dim, "obs_dim", "DiagGaussianPolicy",
                                    "the length of an observation, e.g. 3 for Pendulum-v1")
        self.act_dim = positive_int(act_dim, "act_dim", "DiagGaussianPolicy",
                                    "the length of an action, e.g. 1 for Pendulum-v1")
        self.state_dependent_std = bool(state_dependent_std)
        self.mean_net = mlp([self.obs_dim, *hidden_sizes, self.act_dim], activation)
        if self.state_dependent_std:
            self.log_std_net = mlp([self.obs_dim, *hidden_sizes, self.act_dim], activation)
            last = self.log_std_net[-1]                            # the final nn.Linear
            nn.init.zeros_(last.weight)
            nn.init.constant_(last.bias, float(log_std_init))
            self.register_parameter("log_std", None)
        else:
            self.log_std = nn.Parameter(torch.full((self.act_dim,), float(log_std_init)))

    def mean_and_log_std(self, obs):
        r"""$(\mu_\theta(s), \log\sigma)$, both of shape (act_dim,) or (B, act_dim)."""
        obs = observations(obs, self.obs_dim, "DiagGaussianPolicy")
        mean = self.mean_net(obs)
        if self.state_dependent_std:
            return mean, self.log_std_net(obs)                     # log σ_θ(s)
        return mean, self.log_std.expand_as(mean)                  # the same log σ for every s

    def distribution(self, obs):
        r"""$\pi_\theta(\cdot \mid s)$ as ``Independent(Normal(`` $\mu_\theta(s), \sigma$ ``), 1)``.

        obs: (obs_dim,) or (B, obs_dim); event shape (act_dim,), so ``log_prob`` sums over the
        action dimensions and returns () or (B,).
        """
        mean, log_std = self.mean_and_log_std(obs)
        return Independent(Normal(mean, log_std.exp(), validate_args=False), 1,
                           validate_args=False)

    def forward(self, obs):
        r"""``policy(obs)`` is :meth:`distribution`: $\pi_\theta(\cdot \mid s)$."""
        return self.distribution(obs)

    def log_prob(self, obs, act):
        r"""$\log \pi_\theta(a \mid s)$ by the closed form of :func:`diag_gaussian_log_prob`.

        Derived in {ref}`ch-policies`. obs (B, obs_dim) and act (B, act_dim) -> (B,); or obs
        (obs_dim,) and act (act_dim,) -> shape (). Differentiable in $\theta$.
        """
        mean, log_std = self.mean_and_log_std(obs)
        act = continuous_actions(act, mean, self.obs_dim, "DiagGaussianPolicy.log_prob")
        return diag_gaussian_log_prob(mean, log_std, act)

    @torch.no_grad()
    def act(self, obs, deterministic=False):
        r"""Sample $a = \mu_\theta(s) + \sigma \odot z$, $z \sim \mathcal N(0, I)$; or $\mu_\theta(s)$.

        obs: (obs_dim,) -> numpy float32 (act_dim,); (B, obs_dim) -> (B, act_dim).
        No autograd graph is built.
        """
        mean, log_std = self.mean_and_log_std(obs)
        if deterministic:
            return mean.numpy()
        return (mean + log_std.exp() * torch.randn_like(mean)).numpy()   # a = μ + σ ⊙ z


# --------------------------------------------------------------------------------------------
# From gymnasium spaces to a policy
# --------------------------------------------------------------------------------------------
def make_policy(observation_space, action_space, hidden_sizes=(64, 64), **kw):
    r"""The policy family that fits a gymnasium environment's spaces.

    * ``Discrete(A)`` actions -> :class:`CategoricalPolicy` (e.g. CartPole-v1);
    * 1-D ``Box`` actions of shape (d,) -> :class:`DiagGaussianPolicy` (e.g. Pendulum-v1).

    The observation space must be a 1-D ``Box`` (obs_dim,). Other spaces raise a ValueError
    that says what to do (e.g. wrap the env in ``gymnasium.wrappers.FlattenObservation``).
    For a vector env pass ``envs.single_observation_space, envs.single_action_space``.
    Extra keyword arguments go to the policy class (e.g. ``log_std_init=-1.0``).
    Defined in {ref}`ch-policies`.
    """
    from gymnasium import spaces

    vec_hint = (" If this space comes from a vector env, pass envs.single_observation_space "
                "and envs.single_action_space instead.")
    if not isinstance(observation_space, spaces.Box):
        raise ValueError(
            f"make_policy needs a 1-D Box observation space (a vector of numbers); got "
            f"{observation_space}. Wrap the env in gymnasium.wrappers.FlattenObservation "
            "(it turns Discrete observations into one-hot vectors and flattens Dict/Tuple "
            "observations into one Box).")
    if len(observation_space.shape) != 1:
        raise ValueError(
            f"make_policy needs a 1-D Box observation space (obs_dim,); got shape "
            f"{observation_space.shape}. Image observations need a convolutional network, "
            "which these policies do not have; small arrays can be flattened with "
            "gymnasium.wrappers.FlattenObservation." + vec_hint)
    obs_dim = observation_space.shape[0]

    if isinstance(action_space, spaces.Discrete):
        if int(action_space.start) != 0:
            raise ValueError(f"make_policy supports Discrete action spaces that start at 0; got "
                             f"{action_space} (start={action_space.start}). Map the policy's "
                             "action a to a + start before env.step, or wrap the env.")
        return CategoricalPolicy(obs_dim, int(action_space.n), hidden_sizes, **kw)
    if isinstance(action_space, spaces.Box):
        if len(action_space.shape) != 1:
            raise ValueError(f"make_policy needs a 1-D Box action space (act_dim,) for a "
                             f"diagonal Gaussian policy; got shape {action_space.shape}. Flatten "
                             "the action with a wrapper (gymnasium.wrappers.TransformAction "
                             "reshaping a flat vector to the env's shape)." + vec_hint)
        return DiagGaussianPolicy(obs_dim, action_space.shape[0], hidden_sizes, **kw)
    raise ValueError(
        f"make_policy supports Discrete actions (categorical policy, e.g. CartPole-v1: "
        f"Discrete(2)) and 1-D Box actions (diagonal Gaussian, e.g. Pendulum-v1: Box(-2.0, 2.0, "
        f"(1,))); got {type(action_space).__name__}: {action_space}. MultiDiscrete, "
        "MultiBinary, Dict and Tuple action spaces need a policy with one head per component, "
        "which the book does not build; wrap the env so it exposes a Discrete or Box action "
        "space." + (vec_hint if isinstance(action_space, spaces.MultiDiscrete) else ""))
