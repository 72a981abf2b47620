r"""Deep Q-networks (DQN) {cite}`mnih2015`, with the Double DQN target {cite}`vanhasselt2016` (on by default).

The chapter "Q-learning and deep Q-networks" ({ref}`ch-dqn`) replaces the table of tabular
Q-learning (:mod:`rlnotes.tabular`) by a network $Q_\theta(s, \cdot) \in \mathbb R^{A}$ (one output
per action) and fits it to one-step targets by gradient descent. Naively that is unstable: the
target moves with every step of $\theta$, and consecutive transitions are strongly correlated.
DQN adds two fixes and keeps everything else simple:

1. **experience replay** — transitions $(s, a, r, s', \text{terminated})$ go into a
   :class:`rlnotes.buffers.ReplayBuffer`; every update uses a minibatch drawn uniformly from it;
2. **a target network** $Q_{\theta^-}$ — a copy of $Q_\theta$ that is only refreshed every $C$
   gradient steps (``target_update_interval``; a hard copy $\theta^- \leftarrow \theta$, or with
   ``tau < 1`` a Polyak average $\theta^- \leftarrow \tau\theta + (1-\tau)\theta^-$), so that the
   regression target stays fixed for a while:

$$
y = r + \gamma\,(1 - \text{terminated})\, \max_{a'} Q_{\theta^-}(s', a'), \qquad
L(\theta) = \frac1B \sum_{\text{batch}} \ell_\delta\big(y - Q_\theta(s, a)\big),
$$

with $\ell_\delta$ the Huber loss (quadratic for $|x| \le 1$, linear beyond, so one large TD
error cannot produce a huge gradient — the "error clipping" of {cite}`mnih2015`). Double DQN
(``Config.double_dqn``, on by default; ``double_dqn=False`` gives the original target) picks
the next action with the online network and evaluates it with the target network,
$y = r + \gamma (1 - \text{terminated})\, Q_{\theta^-}(s', \arg\max_{a'} Q_\theta(s', a'))$,
which removes most of the overestimation that the max of noisy estimates causes
{cite}`vanhasselt2016`.

**Termination vs truncation.** Only ``terminated`` stops the bootstrap. CartPole-v1 truncates
every successful episode at 500 steps; the state there is as good as any other, and the
target must still be $r + \gamma \max_{a'} Q_{\theta^-}(s', a')$ with $s'$ the *true* last
observation (``info["final_obs"]`` of the same-step-autoreset vector env, see
:mod:`rlnotes.rollout`), not the first observation of the next episode
{cite}`pardo2018timelimits`.

**Exploration.** ε-greedy with ε decaying linearly from ``eps_start`` to ``eps_end`` over the
first ``eps_fraction`` of training (:func:`rlnotes.tabular.linear_schedule`).

The loop, per step of $N$ environment copies: act ε-greedily; store the $N$ transitions; every
``train_freq`` environment steps (after ``learning_starts``) do ``gradient_steps`` Adam steps on
$L(\theta)$ with the gradient norm clipped to ``max_grad_norm``; refresh $\theta^-$ every
``target_update_interval`` gradient steps.

Usage::

    from rlnotes.algos import dqn
    result = dqn.train("CartPole-v1", seed=0)            # the defaults solve CartPole-v1
    result.agent.act(obs, deterministic=True)              # greedy action(s)
    result.agent.q_net                                     # the network Q_θ
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from ..buffers import ReplayBuffer
from ..policies import mlp
from ..progress import TextBar, progress as progress_bar
from ..rollout import make_vec_env
from ..runtime import seed_everything
from ..tabular import linear_schedule
from . import TrainResult

__all__ = ["Config", "DQNAgent", "train", "td_target", "dqn_loss", "update_target"]


# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------
@dataclass
class Config:
    r"""Every knob of :func:`train`. The defaults solve CartPole-v1 (greedy return ≥ 475).

    The budget and the environments:

    * ``total_steps``: environment steps (transitions, summed over copies) to train for;
      ``train(..., total_steps=N)`` overrides it.
    * ``n_envs``: copies of the environment stepped together (one forward pass of $Q_\theta$
      per vector step for all copies).

    The network and the optimiser:

    * ``hidden_sizes``: hidden layers of $Q_\theta$ (ReLU), e.g. (64, 64); the output layer has
      one unit per action.
    * ``lr``: Adam's learning rate $\alpha$ at the start; ``lr_final``: if not None, $\alpha$
      decays linearly to this value at the end of training. A small final step size keeps
      the last policy from drifting away from a good one (DQN on CartPole otherwise often
      "forgets" a solved task late in training).
    * ``max_grad_norm``: clip the gradient's norm to this before each step (None: no clipping).
    * ``loss``: ``"huber"`` (smooth L1, $\delta = 1$, as in {cite}`mnih2015`) or ``"mse"``.

    The targets:

    * ``gamma``: the discount $\gamma$.
    * ``double_dqn``: use the Double DQN target {cite}`vanhasselt2016`.
    * ``target_update_interval``: $C$, gradient steps between refreshes of $\theta^-$.
      ``target_update_interval=1`` with ``tau=1`` makes $\theta^- = \theta$ at every step:
      no target network (the unstable "naive" variant of the chapter).
    * ``tau``: 1.0 — hard copy $\theta^- \leftarrow \theta$; $\tau < 1$ — Polyak averaging
      $\theta^- \leftarrow \tau \theta + (1 - \tau)\theta^-$ at each refresh.

    Replay and updates:

    * ``buffer_size``: replay capacity (transitions); ``batch_size``: minibatch size $B$.
    * ``learning_starts``: environment steps of ε-greedy play before updates begin (must be
      ≥ ``batch_size``: the buffer cannot be sampled before); the first update phase comes
      after ``learning_starts + train_freq`` steps.
    * ``train_freq``: environment steps between update phases; ``gradient_steps``: Adam steps
      per phase. (Mnih et al.: one step every 4 environment steps.)

    Exploration:

    * ``eps_start``, ``eps_end``, ``eps_fraction``: ε decays linearly from ``eps_start`` to
      ``eps_end`` over the first ``eps_fraction * total_steps`` environment steps, then stays.
      The trained agent keeps ``eps_end`` for ``act(obs)``; ``act(obs, deterministic=True)`` is
      greedy.

    How the defaults were chosen (CartPole-v1, ``python -m rlnotes bench dqn --peers``). The
    replay, exploration and update schedule are rl-baselines3-zoo's tuned CartPole-v1 values
    for SB3's DQN (hyperparams/dqn.yml: batch 64, learning_starts 1000, 128 gradient steps
    every 256 env steps, ε → 0.04 over the first 16% of 50k steps; the zoo's
    ``target_update_interval: 10`` env steps refreshes $\theta^-$ once between two update
    phases, which is ``target_update_interval=128`` gradient steps here). DQN on CartPole
    often solves the task and then *forgets* it, so what was tuned is the stability of the
    final policy (greedy return after the last update):

    * zoo values (lr 2.3e-3, constant), 64×64 network, plain DQN target: seed 0 reached a
      training return of 475 after 42k steps, then collapsed (greedy 80 at the end);
    * the same with the learning rate annealed linearly to 1e-5: seed 0 still ended at 85;
    * 128×128, Double DQN, lr 2.3e-3 annealed to 1e-5: 3 of 5 seeds at 500, seed 2 ended at
      92 and seed 3 at 407 (both had reached 475 first);
    * the same with lr 1e-3 (the defaults): greedy return 500 on seeds 0, 1, 2, 4 and 360 on
      seed 3 (``python -m rlnotes bench dqn --peers``: 4/5 solved, median training wall 22.4 s
      vs 39.7 s for SB3 with the zoo's values, which solved 3/5). The stability is marginal:
      the same run with Adam's ``fused=True`` (the same update up to rounding) solved 3/5;
    * the same without gradient-norm clipping (``max_grad_norm=None``, the default): the Huber
      loss already bounds each sample's gradient, the clip at 10 was rarely active, and
      computing the norm cost ~20% of the update time; 4/5 solved (seed 3 ends at 374).
      Cheaper still but less stable: 64×64 networks (1/5), 64 gradient steps per phase (2/5),
      42k steps (3/5), plain DQN target (2/5).

    * the same numbers, computed faster (every change checked to leave the training history
      identical, bit for bit): the minibatches of an update phase drawn at once
      (:meth:`rlnotes.buffers.ReplayBuffer.sample_batches`), Adam's ``foreach`` update, and
      forward passes without ``nn.Module``'s per-call overhead (``_PlainForward``):
      ``python -m rlnotes bench dqn --peers`` on a quiet machine, 4/5 solved (seed 3 at 374
      again), median training wall 15.8 s vs 35.1 s for SB3 (3/5 solved), a ratio of 0.45
      (it was 19.2 s vs 37.9 s, 0.51, before).

    So: a 128×128 network (cheaper per gradient step than the zoo's 256×256), the Double DQN
    target (less overestimation), and a smaller learning rate annealed to 1e-5, so that the
    last updates cannot undo a solved task. The whole run fits in the buffer (50k
    transitions), so the failures seen early are never forgotten.
    """

    # budget and environments
    total_steps: int = 50_000
    n_envs: int = 1
    # network and optimiser
    hidden_sizes: tuple = (128, 128)
    lr: float = 1e-3
    lr_final: float | None = 1e-5
    max_grad_norm: float | None = None
    loss: str = "huber"
    # targets
    gamma: float = 0.99
    double_dqn: bool = True
    target_update_interval: int = 128
    tau: float = 1.0
    # replay and updates
    buffer_size: int = 50_000
    batch_size: int = 64
    learning_starts: int = 1_000
    train_freq: int = 256
    gradient_steps: int = 128
    # exploration
    eps_start: float = 1.0
    eps_end: float = 0.04
    eps_fraction: float = 0.16

    def __post_init__(self):
        for name in ("total_steps", "n_envs", "target_update_interval", "buffer_size",
                     "batch_size", "train_freq", "gradient_steps"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Config.{name} must be a positive integer, got {value!r}")
        if not isinstance(self.learning_starts, (int, np.integer)) or self.learning_starts < self.batch_size:
            raise ValueError(
                f"Config.learning_starts = {self.learning_starts!r} must be an integer >= "
                f"batch_size = {self.batch_size}: the replay buffer cannot be sampled before it "
                f"holds a batch. Raise learning_starts (e.g. 1000) or lower batch_size.")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"Config.gamma is a discount in [0, 1], got {self.gamma!r}")
        for name in ("lr", "lr_final"):
            value = getattr(self, name)
            if value is None and name == "lr_final":
                continue
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"Config.{name} is a learning rate and must be > 0, got "
                                 f"{value!r} (typical for DQN with Adam: 1e-4 to 1e-3)")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"Config.tau must be in (0, 1] (1: hard copy), got {self.tau!r}")
        if self.loss not in ("huber", "mse"):
            raise ValueError(f"Config.loss must be 'huber' or 'mse', got {self.loss!r}")
        for name in ("eps_start", "eps_end"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"Config.{name} is a probability in [0, 1], got {getattr(self, name)!r}")
        if not 0.0 < self.eps_fraction <= 1.0:
            raise ValueError(f"Config.eps_fraction must be in (0, 1], got {self.eps_fraction!r}")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ValueError(f"Config.max_grad_norm must be > 0 or None, got {self.max_grad_norm!r}")
        self.hidden_sizes = tuple(int(h) for h in self.hidden_sizes)


# --------------------------------------------------------------------------------------------
# The agent
# --------------------------------------------------------------------------------------------
class DQNAgent:
    r"""ε-greedy actions from a Q-network.

    q_net:     $Q_\theta$, a module mapping observations (B, obs_dim) to values (B, A).
    n_actions: $A$. epsilon: the exploration probability of ``act(obs)``.
    rng:       a ``numpy.random.Generator`` for exploration (default: seeded with 0).

    ``act(obs, deterministic=False)``: obs of shape (obs_dim,) → an int; (N, obs_dim) → int64
    array (N,). Greedy $\arg\max_a Q_\theta(s, a)$ if ``deterministic``, else ε-greedy.
    """

    def __init__(self, q_net, n_actions, epsilon=0.0, rng=None):
        self.q_net, self.n_actions, self.epsilon = q_net, int(n_actions), float(epsilon)
        self.rng = np.random.default_rng(0) if rng is None else rng
        self._plain = (None, None)                         # (q_net, its _PlainForward)

    def _forward(self, x):
        """``self.q_net(x)``, through ``_PlainForward`` when the net is an rlnotes mlp."""
        if self._plain[0] is not self.q_net:               # (re)build if q_net was replaced
            try:
                self._plain = (self.q_net, _PlainForward(self.q_net))
            except TypeError:                              # another architecture: call it
                self._plain = (self.q_net, self.q_net)
        return self._plain[1](x)

    def q_values(self, obs):
        r"""$Q_\theta(s, \cdot)$ as a numpy array (..., A), without building a graph."""
        with torch.no_grad():
            return self.q_net(torch.as_tensor(np.asarray(obs), dtype=torch.float32)).numpy()

    def act(self, obs, deterministic=False):
        obs = np.asarray(obs, dtype=np.float32)
        single = obs.ndim == 1
        batch = obs[None] if single else obs
        N = batch.shape[0]
        if deterministic:
            explore = np.zeros(N, dtype=bool)
        else:
            explore = self.rng.random(N) < self.epsilon                  # which copies explore
        actions = self.rng.integers(self.n_actions, size=N) if explore.any() else np.zeros(N, np.int64)
        if not explore.all():                                            # someone acts greedily
            with torch.no_grad():
                greedy = self._forward(torch.from_numpy(batch)).argmax(-1).numpy()   # argmax_a Q_θ(s,a)
            actions = np.where(explore, actions, greedy)
        actions = actions.astype(np.int64)
        return int(actions[0]) if single else actions

    def __repr__(self):
        return f"DQNAgent(n_actions={self.n_actions}, epsilon={self.epsilon:.3g}, q_net={self.q_net})"


# --------------------------------------------------------------------------------------------
# Targets and loss
# --------------------------------------------------------------------------------------------
def td_target(target_net, rewards, next_obs, terminated, gamma, double_dqn=False, q_net=None):
    r"""The regression target $y$ of DQN, no gradient.

    DQN:        $y = r + \gamma (1 - \text{terminated}) \max_{a'} Q_{\theta^-}(s', a')$
    Double DQN: $y = r + \gamma (1 - \text{terminated})\, Q_{\theta^-}\big(s', \arg\max_{a'}
    Q_\theta(s', a')\big)$ (needs ``q_net`` = $Q_\theta$).

    rewards, terminated: float tensors (B,) (terminated 1.0 / 0.0 — *not* "done": a truncated
    transition bootstraps); next_obs: (B, obs_dim), the true next observation.
    Returns a float tensor (B,). Derived in {ref}`ch-dqn`.
    """
    with torch.no_grad():
        q_next = target_net(next_obs)                                      # Q_θ⁻(s', ·)  (B, A)
        if double_dqn:
            if q_net is None:
                raise ValueError("td_target(double_dqn=True) needs q_net (the online network "
                                 "Q_θ that chooses the next action)")
            a_star = q_net(next_obs).argmax(-1, keepdim=True)              # argmax_a' Q_θ(s', a')
            v_next = q_next.gather(-1, a_star).squeeze(-1)                 # Q_θ⁻(s', a*)
        else:
            v_next = q_next.max(-1).values                                 # max_a' Q_θ⁻(s', a')
        return rewards + gamma * (1.0 - terminated) * v_next               # r + γ(1 − term) v'


def dqn_loss(q_net, target_net, batch, gamma, double_dqn=False, loss="huber"):
    r"""$L(\theta) = \frac1B\sum \ell(y - Q_\theta(s, a))$ on a :class:`rlnotes.buffers.ReplayBatch`
    of torch tensors; $\ell$ = Huber (``"huber"``) or squared error (``"mse"``).
    Returns ``(loss, q_taken)``, q_taken = $Q_\theta(s, a)$ (B,) (for logging)."""
    obs, actions, rewards, next_obs, terminated = batch
    y = td_target(target_net, rewards, next_obs, terminated, gamma, double_dqn, q_net)
    q_taken = q_net(obs).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)   # Q_θ(s, a)
    if loss == "huber":
        value = nn.functional.smooth_l1_loss(q_taken, y)                   # Huber, δ = 1
    else:
        value = nn.functional.mse_loss(q_taken, y)
    return value, q_taken


def update_target(target_net, q_net, tau=1.0):
    r"""$\theta^- \leftarrow \tau\theta + (1 - \tau)\theta^-$ (τ = 1: a hard copy)."""
    with torch.no_grad():
        for p_targ, p in zip(target_net.parameters(), q_net.parameters()):
            if tau == 1.0:
                p_targ.copy_(p)
            else:
                p_targ.mul_(1.0 - tau).add_(p, alpha=tau)


class _PlainForward:
    r"""An rlnotes ``mlp`` with ReLU (Linear, ReLU, ..., Linear) called as a plain function.

    Bit for bit the same computation as ``net(x)`` (the same ``F.linear`` and ``relu`` on the
    same parameter tensors, so gradients flow to them as usual), without ``nn.Module``'s
    per-call machinery, which here costs more than the arithmetic of a 64-sample batch: DQN
    makes three forward passes per gradient step and one per environment step.
    """

    def __init__(self, net):
        kinds = [type(m) for m in net]
        expected = [nn.Linear, nn.ReLU] * (len(kinds) // 2) + [nn.Linear]
        if kinds != expected:
            raise TypeError(f"_PlainForward needs Linear, ReLU, ..., Linear; got {kinds}")
        self.layers = [(m.weight, m.bias) for m in net if isinstance(m, nn.Linear)]

    def __call__(self, x):
        *hidden, (w_out, b_out) = self.layers
        for w, b in hidden:
            x = torch.relu(nn.functional.linear(x, w, b))
        return nn.functional.linear(x, w_out, b_out)


def _check_env(env, env_id):
    space = env.single_action_space
    if isinstance(space, gym.spaces.Box):
        raise ValueError(
            f"DQN needs a discrete action space; {env_id} has continuous actions {space}. For "
            f"continuous actions use DDPG (rlnotes.algos.ddpg, ch. DDPG): its actor "
            f"mu_theta(s) replaces the max over actions that DQN needs.")
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(f"DQN needs a Discrete action space, {env_id} has {space}")
    obs_space = env.single_observation_space
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise ValueError(
            f"rlnotes' DQN takes observations that are vectors (a 1-D Box), {env_id} has "
            f"{obs_space}. For Discrete observations (FrozenLake, CliffWalking, Taxi) use tabular "
            f"Q-learning (rlnotes.tabular.q_learning); flatten image observations first.")


def _check_finite(loss, config):
    if not torch.isfinite(loss):
        raise FloatingPointError(
            f"the DQN loss became {float(loss.detach())} (not a finite number). Likely causes: a "
            f"learning rate too high (lr={config.lr}; try 10x smaller), no gradient clipping "
            f"(max_grad_norm={config.max_grad_norm}; try 10), loss='mse' with large TD errors "
            f"(try 'huber'), or NaN/inf in the environment's rewards or observations.")


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
def train(env_id, config=None, seed=0, total_steps=None, progress=True):
    r"""Train a DQN agent on ``env_id``; return a :class:`rlnotes.algos.TrainResult`.

    env_id:      a gymnasium id with a 1-D Box observation space and Discrete actions
                 (e.g. ``"CartPole-v1"``). A continuous action space raises ValueError
                 (use DDPG).
    config:      a :class:`Config` (default: ``Config()``).
    seed:        seeds Python, NumPy and torch (network initialisation), the exploration and
                 replay generators and the environments: the same seed gives the same history.
    total_steps: overrides ``config.total_steps``.
    progress:    show a progress bar counting environment steps, with the mean return of the
                 last 20 training episodes and the current ε.

    ``result.agent`` is a :class:`DQNAgent` (``.act``, ``.q_net``); ``result.history`` holds one
    ``(env_step, episode_return, wall_seconds)`` per finished training episode;
    ``result.stats`` counts gradient steps and target refreshes and gives the final loss.
    """
    config = Config() if config is None else config
    if not isinstance(config, Config):
        raise TypeError(f"config must be a rlnotes.algos.dqn.Config, got {type(config).__name__}")
    if total_steps is not None:
        config = Config(**{**asdict(config), "total_steps": total_steps})   # validates it
    start_time = time.perf_counter()

    # set-up: seeds, N env copies, Q_θ and its target copy Q_θ⁻, the replay buffer
    seed_everything(seed)
    env = make_vec_env(env_id, n_envs=config.n_envs, seed=seed)
    _check_env(env, env_id)
    N = env.num_envs
    obs_dim, n_actions = env.single_observation_space.shape[0], int(env.single_action_space.n)
    q_net = mlp([obs_dim, *config.hidden_sizes, n_actions], activation=nn.ReLU)
    target_net = copy.deepcopy(q_net).requires_grad_(False)                  # θ⁻ ← θ
    # foreach: Adam's update for all parameter tensors in a few vectorised calls - the same
    # numbers as the default per-tensor loop, bit for bit, with less Python overhead per step
    optimizer = torch.optim.Adam(q_net.parameters(), lr=config.lr, foreach=True)
    q_fast, target_fast = _PlainForward(q_net), _PlainForward(target_net)   # = q_net, target_net
    buffer = ReplayBuffer(config.buffer_size, (obs_dim,), seed=seed)
    agent = DQNAgent(q_net, n_actions, epsilon=config.eps_start, rng=np.random.default_rng(seed + 1))
    epsilon = linear_schedule(config.eps_start, config.eps_end,
                              max(1.0, config.eps_fraction * config.total_steps))
    lr_of = (None if config.lr_final is None else
             linear_schedule(config.lr, config.lr_final, config.total_steps))

    history, recent = [], []
    steps = grad_steps = target_updates = 0
    since_update = 0                              # env steps since the last update phase
    ep_return = np.zeros(N)
    last_loss = float("nan")
    obs, _ = env.reset(seed=seed)
    bar = (progress_bar(total=config.total_steps, desc=f"DQN {env_id}", unit="steps")
           if progress else TextBar(total=config.total_steps, disable=True))
    try:
        while steps < config.total_steps:
            # 1. act ε-greedily in all N copies and store the N transitions
            agent.epsilon = epsilon(steps)
            actions = agent.act(obs)
            next_obs, rewards, terminated, truncated, info = env.step(actions)
            done = terminated | truncated
            real_next = next_obs
            if done.any():                        # same-step autoreset: o_T is in final_obs
                real_next = next_obs.copy()
                for i in np.flatnonzero(done):
                    real_next[i] = info["final_obs"][i]
            buffer.add(obs, actions, rewards, real_next, terminated)      # terminated, not done
            obs = next_obs
            steps += N
            since_update += N
            ep_return += rewards
            for i in np.flatnonzero(done):
                history.append((steps, float(ep_return[i]), time.perf_counter() - start_time))
                recent = (recent + [ep_return[i]])[-20:]
                ep_return[i] = 0.0

            # 2. every train_freq env steps: gradient_steps Adam steps on the TD loss
            if steps > config.learning_starts:
                while since_update >= config.train_freq:
                    since_update -= config.train_freq
                    if lr_of is not None:
                        for group in optimizer.param_groups:
                            group["lr"] = lr_of(steps)
                    # all the phase's minibatches in one draw (the buffer does not change
                    # during a phase): tensors (gradient_steps, batch_size, ...)
                    batches = buffer.sample_batches(config.gradient_steps,
                                                    config.batch_size).as_tensors()
                    for batch in zip(*batches):           # (obs, actions, rewards, next_obs, terminated)
                        loss, _ = dqn_loss(q_fast, target_fast, batch, config.gamma,
                                           config.double_dqn, config.loss)
                        optimizer.zero_grad()
                        loss.backward()
                        if config.max_grad_norm is not None:
                            nn.utils.clip_grad_norm_(q_net.parameters(), config.max_grad_norm)
                        optimizer.step()
                        grad_steps += 1
                        # 3. refresh the target network every C gradient steps
                        if grad_steps % config.target_update_interval == 0:
                            update_target(target_net, q_net, config.tau)
                            target_updates += 1
                    last_loss = float(loss.detach())
                    _check_finite(loss, config)
            else:
                since_update = 0                  # warm-up: the first phase comes after
                                                  # learning_starts + train_freq env steps

            if steps % 1000 < N:
                bar.set_postfix(ret=float(np.mean(recent)) if recent else 0.0, eps=agent.epsilon)
                bar.update(min(steps, config.total_steps) - bar.n)
    finally:
        bar.update(min(steps, config.total_steps) - bar.n)
        bar.close()
        env.close()
    agent.epsilon = config.eps_end
    wall = time.perf_counter() - start_time
    stats = {"env_steps": steps, "gradient_steps": grad_steps, "target_updates": target_updates,
             "final_loss": last_loss, "steps_per_second": steps / wall if wall > 0 else float("nan")}
    return TrainResult(agent=agent, history=history, config=config, wall_time=wall, stats=stats)
