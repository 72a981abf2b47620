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

**Which network is returned.** DQN's greedy policy does not improve monotonically: on CartPole
it often solves the task and loses it again a few thousand steps later. With ``eval_interval``
set (the default), ``train`` plays ``eval_episodes`` greedy episodes every ``eval_interval``
environment steps and at the end — always the same held-out episodes
(:func:`rlnotes.tasks.selection_seed`, disjoint from the benchmark's) — and returns the network
of the best evaluation (ties: the later). This is model selection, not learning: the evaluations
neither change the training run nor count as its environment steps; ``stats["evaluations"]``
lists them. ``eval_interval=None`` returns the last network.

Usage::

    from rlnotes.algos import dqn
    result = dqn.train("CartPole-v1", seed=0)            # the defaults, tuned on CartPole-v1
    result.agent.act(obs, deterministic=True)              # greedy action(s)
    result.agent.q_net                                     # the network Q_θ
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from ..buffers import ReplayBuffer
from ..policies import mlp, polyak_update
from ..returns import double_dqn_targets, dqn_targets
from ..rollout import evaluate, make_vec_env, step_env
from ..runtime import seed_everything
from ..tabular import linear_schedule
from ..tasks import selection_seed
from . import check_spaces, fields, gradient_step, record_episodes, resolve_config, train_result, training_bar

__all__ = ["Config", "DQNAgent", "make_agent", "dqn_loss", "train"]


# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------
@dataclass
class Config:
    r"""Every knob of :func:`train`. The defaults solve CartPole-v1 (greedy return ≥ 475) on most
    seeds, not all; DQN may forget a solved task late in training, which is why ``train``
    returns its best greedy snapshot (``eval_interval``).

    The targets, the target network and replay are derived in {ref}`ch-dqn`. How the defaults
    were chosen: {ref}`the benchmarks appendix <bench-defaults-dqn>`.
    """

    # budget and environments
    total_steps: int = fields.positive_int(50_000)             #: env steps to train for (all copies)
    n_envs: int = fields.positive_int(1)                       #: env copies stepped together
    # network and optimiser (Adam)
    hidden_sizes: tuple = fields.layer_sizes((128, 128))       #: hidden widths of Q_θ (ReLU)
    lr: float = fields.learning_rate(2e-3, "1e-4 to 3e-3")     #: step size α at the start
    lr_final: float | None = fields.or_none(fields.learning_rate(1e-5), "constant α")  #: α at the end
    max_grad_norm: float | None = fields.or_none(fields.positive(None), "no clipping")  #: clip ‖∇L‖ to this
    loss: str = fields.one_of("huber", ("huber", "mse"))       #: Huber (δ = 1, as Mnih et al.) or squared
    # targets
    gamma: float = fields.in_range(0.99, "[0, 1]", "a discount")  #: discount γ
    double_dqn: bool = fields.flag(True)                       #: the Double DQN target
    target_update_interval: int = fields.positive_int(32)      #: C, gradient steps between refreshes of θ⁻
    tau: float = fields.in_range(1.0, "(0, 1]", hint="1: hard copy")  #: θ⁻ ← τθ + (1-τ)θ⁻ per refresh
    # replay and updates
    buffer_size: int = fields.positive_int(50_000)             #: replay capacity (transitions)
    batch_size: int = fields.positive_int(128)                 #: B, transitions per minibatch
    learning_starts: int = fields.positive_int(1_000, "at least batch_size")  #: ε-greedy steps, no updates
    train_freq: int = fields.positive_int(256)                 #: env steps between update phases
    gradient_steps: int = fields.positive_int(64)              #: Adam steps per update phase
    # exploration: ε decays linearly over the first eps_fraction * total_steps, then stays
    eps_start: float = fields.in_range(1.0, "[0, 1]", "a probability")  #: ε at the start
    eps_end: float = fields.in_range(0.04, "[0, 1]", "a probability")   #: ε at the end (act() keeps it)
    eps_fraction: float = fields.in_range(0.16, "(0, 1]")      #: fraction of the budget ε decays over
    # which network train() returns: the best of its greedy evaluations, or the last (None)
    #: env steps between greedy evaluations
    eval_interval: int | None = fields.or_none(fields.positive_int(2_500), "the last network")
    eval_episodes: int = fields.positive_int(10)               #: greedy episodes per evaluation

    def __post_init__(self):
        fields.check_fields(self)
        fields.check_learning_starts(self)                     # learning_starts >= batch_size


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

    @property
    def obs_dim(self):
        """The observation length the Q-network takes (the :class:`rlnotes.rollout.Agent` interface)."""
        return next(m for m in self.q_net.modules() if isinstance(m, nn.Linear)).in_features

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
                greedy = self.q_net(torch.from_numpy(batch)).argmax(-1).numpy()   # argmax_a Q_θ(s,a)
            actions = np.where(explore, actions, greedy)
        actions = actions.astype(np.int64)
        return int(actions[0]) if single else actions

    def __repr__(self):
        return f"DQNAgent(n_actions={self.n_actions}, epsilon={self.epsilon:.3g}, q_net={self.q_net})"


def make_agent(env, config, seed=0):
    r"""The untrained :class:`DQNAgent` for the spaces of ``env`` (a vector env) and ``config``:
    $Q_\theta$ = ``mlp([obs_dim, *hidden_sizes, A])`` with ReLU (initial weights from torch's global
    generator, which ``train`` seeds), ε = ``eps_start``, exploration drawn from a generator seeded
    with ``seed + 1``. Its weights are those of ``agent.q_net``."""
    obs_space, act_space = check_spaces(
        env, "DQN", gym.spaces.Discrete,
        "For continuous actions use DDPG (rlnotes.algos.ddpg, ch. DDPG): its actor mu_theta(s) replaces the max "
        "over actions that DQN needs.",
        "For Discrete observations (FrozenLake, CliffWalking, Taxi) use tabular Q-learning "
        "(rlnotes.tabular.q_learning); flatten image observations first.")
    n_actions = int(act_space.n)
    q_net = mlp([obs_space.shape[0], *config.hidden_sizes, n_actions], activation=nn.ReLU)
    return DQNAgent(q_net, n_actions, epsilon=config.eps_start, rng=np.random.default_rng(seed + 1))


# --------------------------------------------------------------------------------------------
# Loss (the targets are rlnotes.returns.dqn_targets and double_dqn_targets)
# --------------------------------------------------------------------------------------------
def dqn_loss(q_net, target_net, batch, gamma, double_dqn=False, loss="huber"):
    r"""$L(\theta) = \frac1B\sum \ell(y - Q_\theta(s, a))$ on a :class:`rlnotes.buffers.ReplayBatch`
    of torch tensors; $\ell$ = Huber (``"huber"``) or squared error (``"mse"``); the targets $y$
    are :func:`rlnotes.returns.dqn_targets`, or :func:`rlnotes.returns.double_dqn_targets` if
    ``double_dqn``. Returns ``(loss, q_taken)``, q_taken = $Q_\theta(s, a)$ (B,) (for logging)."""
    obs, actions, rewards, next_obs, terminated = batch
    if double_dqn:
        y = double_dqn_targets(q_net, target_net, rewards, next_obs, terminated, gamma)
    else:
        y = dqn_targets(target_net, rewards, next_obs, terminated, gamma)
    q_taken = q_net(obs).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)   # Q_θ(s, a)
    if loss == "huber":
        value = nn.functional.smooth_l1_loss(q_taken, y)                   # Huber, δ = 1
    else:
        value = nn.functional.mse_loss(q_taken, y)
    return value, q_taken


#: what makes DQN's loss NaN or inf, and the fixes (the message of a FloatingPointError)
LIKELY_CAUSES = ("a learning rate too high (lr={lr}; try 10x smaller), no gradient clipping (max_grad_norm="
                 "{max_grad_norm}; try 10), loss='mse' with large TD errors (try 'huber'), or NaN/inf in the "
                 "environment's rewards or observations.")


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

    ``result.agent`` is a :class:`DQNAgent` (``.act``, ``.q_net``) with the network of the best
    greedy evaluation (the last network if ``config.eval_interval`` is None); ``result.history``
    holds one ``(env_step, episode_return, wall_seconds)`` per finished training episode;
    ``result.stats`` counts gradient steps and target refreshes, gives the final loss, and lists
    the greedy evaluations as ``(env_step, mean_return)`` in ``stats["evaluations"]``.
    """
    config = resolve_config(Config, config, total_steps)
    start_time = time.perf_counter()

    # 1. set-up: seeds, N env copies, Q_θ and its target copy Q_θ⁻, the replay buffer
    seed_everything(seed)
    env = make_vec_env(env_id, n_envs=config.n_envs, seed=seed)
    agent = make_agent(env, config, seed)                                     # ε-greedy on Q_θ
    q_net, N, obs_dim = agent.q_net, env.num_envs, agent.obs_dim
    target_net = copy.deepcopy(q_net).requires_grad_(False)                  # θ⁻ ← θ
    # foreach: Adam's update for all parameter tensors in a few vectorised calls - the same
    # numbers as the default per-tensor loop, bit for bit, with less Python overhead per step
    optimizer = torch.optim.Adam(q_net.parameters(), lr=config.lr, foreach=True)
    buffer = ReplayBuffer(config.buffer_size, (obs_dim,), seed=seed)
    epsilon = linear_schedule(config.eps_start, config.eps_end,
                              max(1.0, config.eps_fraction * config.total_steps))
    lr_of = (None if config.lr_final is None else
             linear_schedule(config.lr, config.lr_final, config.total_steps))

    history, evaluations = [], []
    best_score, best_state = -np.inf, None
    steps = grad_steps = target_updates = 0
    since_update = 0                              # env steps since the last update phase
    ep_return = np.zeros(N)
    last_loss = float("nan")
    causes = LIKELY_CAUSES.format(lr=config.lr, max_grad_norm=config.max_grad_norm)   # if the loss is NaN
    obs, _ = env.reset(seed=seed)
    bar = training_bar(progress, config.total_steps, f"DQN {env_id}")
    try:
        while steps < config.total_steps:
            # 2.1 act ε-greedily in all N copies
            agent.epsilon = epsilon(steps)
            actions = agent.act(obs)
            # 2.2 step the envs; store (s, a, r, s', terminated), s' = o_T where an episode ended
            step = step_env(env, actions)
            buffer.add(obs, actions, step.rewards, step.next_obs, step.terminated)  # not done
            obs = step.obs                        # act on: the next episode's o_0 after an end
            steps += N
            since_update += N
            ep_return += step.rewards
            if step.done.any():
                ended = np.flatnonzero(step.done)
                record_episodes(history, [(steps, ep_return[i]) for i in ended], time.perf_counter() - start_time,
                                bar, eps=agent.epsilon)
                ep_return[ended] = 0.0

            # 2.3 every train_freq env steps: gradient_steps Adam steps on the TD loss
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
                        loss, _ = dqn_loss(q_net, target_net, batch, config.gamma,
                                           config.double_dqn, config.loss)
                        gradient_step(optimizer, loss, config.max_grad_norm, causes)
                        grad_steps += 1
                        # 2.4 refresh the target network every C gradient steps
                        if grad_steps % config.target_update_interval == 0:
                            polyak_update(target_net, q_net, config.tau)
                            target_updates += 1
                    last_loss = float(loss.detach())
            else:
                since_update = 0                  # warm-up: the first phase comes after
                                                  # learning_starts + train_freq env steps

            # 2.5 every eval_interval env steps and at the end: evaluate the greedy policy on
            # the same held-out episodes each time; keep the best snapshot (ties: the later)
            if config.eval_interval is not None and (steps % config.eval_interval < N
                                                     or steps >= config.total_steps):
                returns = evaluate(agent, env_id, config.eval_episodes, seed=selection_seed(seed))
                score = float(np.mean(returns))
                evaluations.append((steps, score))
                if score >= best_score:
                    best_score, best_state = score, copy.deepcopy(q_net.state_dict())
            if steps % 1000 < N:
                bar.update(min(steps, config.total_steps) - bar.n)
    finally:
        bar.update(min(steps, config.total_steps) - bar.n)
        bar.close()
        env.close()
    if best_state is not None:
        q_net.load_state_dict(best_state)                 # the best greedy snapshot
    agent.epsilon = config.eps_end
    stats = {"env_steps": steps, "gradient_steps": grad_steps, "target_updates": target_updates,
             "final_loss": last_loss, "evaluations": evaluations}
    return train_result(agent, history, config, stats, start_time, env_id, seed)
