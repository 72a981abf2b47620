r"""Asynchronous advantage actor-critic (A3C) {cite}`mnih2016a3c` with worker processes.

The chapter "Actor-critic methods" ({ref}`ch-actor-critic`) follows lecture note 001:

* the **main process** builds the *global* actor-critic (policy and value networks, an
  :class:`rlnotes.algos.a2c.ActorCritic`) and a :class:`SharedRMSprop` optimiser, and moves
  both into shared memory (``share_memory_()``: every process sees the same tensors);
* it starts ``n_workers`` **worker processes** (``torch.multiprocessing``, ``spawn`` context,
  so it works the same on Linux and macOS and from a notebook) running :func:`worker`;
* each worker, in a loop: copies the global weights into its *local* networks, plays
  ``n_steps`` steps in each of its own ``envs_per_worker`` copies of the environment (the
  paper's worker has one; :func:`rlnotes.rollout.collect_rollout`, as A2C), computes the
  gradient of the A2C loss $L = L_\pi + c_v L_v + c_\text{reg} L_\text{reg}$ on those steps
  with respect to its local weights, and applies it to the *global* weights with the shared RMSprop
  ($\theta_\text{global} \leftarrow \theta_\text{global} - \eta\, g_\text{local} / \sqrt{s + \epsilon}$)
  without any lock (Hogwild-style: updates from different workers may interleave);
* a **global step counter** (``multiprocessing.Value``, updated under its lock after each
  segment of ``n_steps`` steps) tells every worker when the budget ``total_steps`` is spent;
* finished episodes travel back to the main process through a ``multiprocessing.Queue`` as
  ``(global env step, return, wall seconds)`` (the step: the counter before the segment plus
  the worker's own steps up to the episode's end), which builds ``result.history``.

Stability here comes from the workers: at any moment they are in different parts of
different episodes, so consecutive updates of the global network are computed from
decorrelated data — what DQN gets from its replay buffer and target network.

Reproducibility: with ``n_workers=1`` a run is deterministic (same seed, same history). With
two or more workers the order in which their updates reach the global network depends on
the operating system's scheduling, so runs with the same seed differ.

Processes: workers ignore SIGINT (Ctrl-C, or the notebook's interrupt button, reaches only
the main process); whatever happens in the main process — the end of training, an error in a
worker, a KeyboardInterrupt — :func:`train` stops and joins every worker in a ``finally``
block (terminating any that does not stop within a few seconds), so no process is left behind.

Scripts: ``spawn`` starts each worker by running the main script again (as ``__mp_main__``), so a
script calls :func:`train` under ``if __name__ == "__main__":``. Without that guard every worker
dies while it starts, before it reports anything; :func:`train` then raises a RuntimeError that
names the script and the guard.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue as queue_mod
import signal
import sys
import time
import traceback
from dataclasses import dataclass

import gymnasium as gym
import torch
import torch.multiprocessing as mp
from torch import nn

from ..rollout import collect_rollout, make_vec_env
from ..runtime import seed_everything
from . import a2c, fields, record_episodes, resolve_config, train_result, training_bar
from .a2c import a2c_loss, advantages_and_targets

__all__ = ["Config", "SharedRMSprop", "make_agent", "worker", "train"]


# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------
@dataclass
class Config:
    r"""Every knob of :func:`train`. The defaults solve CartPole-v1 with 2 workers.

    The loss and its targets are A2C's (:class:`rlnotes.algos.a2c.Config`, {ref}`ch-actor-critic`).
    How the defaults were chosen: {ref}`the benchmarks appendix <bench-defaults-a3c>`.
    """

    # workers and budget
    n_workers: int = fields.positive_int(2)                    #: worker processes (at most the CPU cores)
    envs_per_worker: int = fields.positive_int(4)              #: env copies per worker (1 in the paper)
    n_steps: int = fields.positive_int(32)                     #: n, steps per copy between two updates
    total_steps: int = fields.positive_int(1_000_000)          #: env steps of all workers together
    # the loss and its targets (as in A2C)
    gamma: float = fields.in_range(0.99, "[0, 1]", "a discount")  #: discount γ
    lam: float = fields.in_range(0.95, "[0, 1]")               #: GAE's λ (1 is the paper's n-step return)
    vf_coef: float = fields.non_negative(0.5)                  #: c_v, weight of L_v
    ent_coef: float = fields.non_negative(0.0)                 #: c_reg, weight of L_reg = -H(π)
    normalize_advantages: bool = fields.flag(False)            #: Â to mean 0, std 1 within each segment
    # the shared RMSprop
    lr: float = fields.learning_rate(1e-3)                     #: step size η
    anneal_lr: bool = fields.flag(True)                        #: η decays linearly to 0 (global steps)
    rmsprop_alpha: float = fields.in_range(0.99, "(0, 1)")     #: RMSprop's decay α
    rmsprop_eps: float = fields.positive(1e-5)                 #: RMSprop's ε
    max_grad_norm: float | None = fields.or_none(fields.positive(0.5), "no clipping")  #: clip each local ‖∇L‖
    # networks and processes
    shared: bool = fields.flag(False)                          #: one body with two heads, as in A2C
    hidden_sizes: tuple = fields.layer_sizes((64, 64))         #: hidden widths (of each network)
    worker_timeout: float = fields.positive(10.0, "seconds")   #: seconds a worker gets to stop by itself

    def __post_init__(self):
        fields.check_fields(self)


def make_agent(env, config, seed=0):
    r"""The untrained global network for the spaces of ``env`` and ``config``: A2C's
    :class:`rlnotes.algos.a2c.ActorCritic` (:func:`rlnotes.algos.a2c.make_agent`)."""
    return a2c.make_agent(env, config, seed)


# --------------------------------------------------------------------------------------------
# The shared optimiser
# --------------------------------------------------------------------------------------------
class SharedRMSprop:
    r"""RMSprop whose statistics live in shared memory, so all workers update the same ones.

    For each global parameter $\theta$ and a worker's gradient $g$:

    $$s \leftarrow \alpha s + (1 - \alpha) g^2, \qquad
      \theta \leftarrow \theta - \eta\, \frac{g}{\sqrt{s} + \epsilon}$$

    (torch's ``RMSprop`` without momentum, written out so the shared state is visible).
    ``params``: the global parameters (already in shared memory); ``share_memory()`` moves the
    statistics $s$ there too. ``step(grads, lr)`` applies one update in place (no lock:
    concurrent updates may interleave, as in the paper).
    """

    def __init__(self, params, alpha=0.99, eps=1e-5):
        self.params = list(params)
        self.alpha, self.eps = float(alpha), float(eps)
        self.square_avg = [torch.zeros_like(p, memory_format=torch.preserve_format)
                           for p in self.params]

    def share_memory(self):
        for s in self.square_avg:
            s.share_memory_()
        return self

    @torch.no_grad()
    def step(self, grads, lr):
        for p, s, g in zip(self.params, self.square_avg, grads):
            s.mul_(self.alpha).addcmul_(g, g, value=1.0 - self.alpha)   # s ← α s + (1−α) g²
            p.addcdiv_(g, s.sqrt().add_(self.eps), value=-lr)           # θ ← θ − η g / (√s + ε)


# --------------------------------------------------------------------------------------------
# A worker process
# --------------------------------------------------------------------------------------------
def _die_with_parent():
    """Ask the operating system to kill this process when its parent dies (Linux only).

    ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` is the kernel's own mechanism: it works even when the
    worker is blocked (say, on a lock the killed main process held), where the worker's own
    ``os.getppid()`` check in its loop would never run. Elsewhere that check is all there is.
    """
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1                                          # from <linux/prctl.h>
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def worker(rank, env_id, config, seed, global_net, optimizer, counter, events, stop, start_wall):
    r"""One A3C worker (runs in its own process; module-level so ``spawn`` can import it).

    rank: worker index $k$ (its $K$ env copies are seeded ``seed + K k + i``, torch with ``seed + 1000 (k + 1)``).
    global_net, optimizer: the shared :class:`rlnotes.algos.a2c.ActorCritic` and :class:`SharedRMSprop`.
    counter: ``mp.Value`` — environment steps taken by all workers. events: ``mp.Queue`` for
    ``("started", rank)``, ``("episode", env_step, return, wall)``, ``("done", rank)`` and
    ``("error", rank, text)``.
    stop: ``mp.Event`` set by the main process to stop early. start_wall: ``time.time()`` at start.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the main process's business
    if hasattr(signal, "pthread_sigmask"):             # started with SIGINT blocked (see train):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})   # now it is ignored
    _die_with_parent()                                 # killed main process → killed worker
    parent = multiprocessing.parent_process().pid      # the main process
    if os.getppid() != parent:                         # it died while this worker started
        return
    torch.set_num_threads(1)
    events.put(("started", rank))                      # past start-up: this worker runs A3C code
    env = None
    try:
        seed_everything(seed + 1000 * (rank + 1))
        K, T = config.envs_per_worker, config.n_steps
        env = make_vec_env(env_id, n_envs=K, seed=seed + K * rank)   # copies seed + K·rank + i
        local_net = make_agent(env, config)                      # θ_local (weights copied below)
        rollout = None
        # stop when asked, or when the main process is gone (killed: nobody would ever ask)
        while not stop.is_set() and os.getppid() == parent:
            local_net.load_state_dict(global_net.state_dict())   # 1. θ_local ← θ_global (dθ, dφ reset in 3.)
            # 2. play t_max = n_steps steps in each of the worker's K copies; add them to the counter
            rollout = collect_rollout(env, local_net.act, T, previous=rollout, seed=seed + K * rank)
            with counter.get_lock():                             # the global step counter
                counter.value += T * K
                step_now = counter.value
            wall = time.time() - start_wall
            for env_step, ret in rollout.finished(step_now - T * K):
                events.put(("episode", env_step, ret, wall))
            # 3. dθ, dφ: the gradient of L accumulated over the segment (T·K transitions)
            dist, values = local_net(torch.from_numpy(rollout.flat("obs")))
            with torch.no_grad():
                next_values = local_net.value(torch.from_numpy(rollout.flat("next_obs")))
            adv, returns = advantages_and_targets(rollout, values.detach(), next_values,
                                                  config.gamma, config.lam)
            if config.normalize_advantages and T * K > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            loss, *_ = a2c_loss(dist, torch.from_numpy(rollout.flat("actions")), adv, values,
                                returns, config.vf_coef, config.ent_coef)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"the A3C loss became {loss.item()} (not finite); try a "
                                         f"smaller lr (now {config.lr}) or set max_grad_norm")
            local_net.zero_grad()                                   # dθ, dφ ← 0
            loss.backward()                                         # dθ, dφ = ∂L/∂(θ_local, φ_local)
            if config.max_grad_norm is not None:
                nn.utils.clip_grad_norm_(local_net.parameters(), config.max_grad_norm)
            # 4. asynchronous update of the global θ, φ with dθ, dφ: shared RMSprop, η annealed with T
            frac = min(step_now / config.total_steps, 1.0)
            lr = config.lr * (1.0 - frac) if config.anneal_lr else config.lr
            optimizer.step([p.grad for p in local_net.parameters()], lr)
            if step_now >= config.total_steps:
                break
        events.put(("done", rank))
    except Exception:  # noqa: BLE001 - reported to the main process, which raises it
        events.put(("error", rank, traceback.format_exc()))
    finally:
        if env is not None:
            env.close()


# --------------------------------------------------------------------------------------------
# The main process
# --------------------------------------------------------------------------------------------
def _stop_workers(procs, stop, timeout):
    """Ask every worker to stop, wait ``timeout`` s, terminate (then kill) the stragglers, join all."""
    stop.set()
    deadline = time.monotonic() + timeout
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(2.0)
        if p.is_alive():
            p.kill()
            p.join()


def _death_message(proc, started):
    """Why a worker that exited with an error code and reported nothing died, and what to do."""
    if started:
        return (f"A3C worker {proc.name} died with exit code {proc.exitcode} without reporting an error "
                f"(killed, or out of memory?); anything it printed is on stderr")
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    script = f"the script {os.path.basename(script)}" if script else "the main module"
    return (f"A3C worker {proc.name} died while starting, before it ran any A3C code (exit code "
            f"{proc.exitcode}; its own error is printed on stderr). The usual cause: {script} calls "
            f"a3c.train(...) at its top level. A3C starts its workers with the 'spawn' method, which runs the "
            f"main script again in every worker, so each worker would start training (and workers) again. "
            f'Put the training code of the script under  if __name__ == "__main__":  (see the '
            f"multiprocessing documentation, 'Safe importing of main module').")


def train(env_id, config=None, seed=0, total_steps=None, progress=True):
    r"""Train an actor-critic on ``env_id`` with A3C; return a :class:`rlnotes.algos.TrainResult`.

    env_id:      a gymnasium id with a 1-D Box observation space and Discrete actions.
    config:      a :class:`Config` (None: ``Config()``: 2 workers, tuned for CartPole-v1).
    seed:        seeds the global network's initialisation and the workers (worker $k$ steps
                 ``envs_per_worker`` = $K$ copies seeded ``seed + K k``, …, ``seed + K k + K − 1``,
                 and seeds torch with ``seed + 1000 (k + 1)``). Reproducible only with
                 ``n_workers=1`` (see the module).
    total_steps: overrides ``config.total_steps``.
    progress:    a progress bar counting the global steps, with the mean of the last 20 returns.

    ``result.history``: ``(global env step, return, wall seconds)`` per finished episode of any
    worker, in order of env step. ``result.agent``: the global :class:`rlnotes.algos.a2c.ActorCritic` (a copy
    outside shared memory). ``result.stats``: env steps, updates are not counted.
    A KeyboardInterrupt stops and joins the workers, prints one line, and is re-raised.
    """
    config = resolve_config(Config, config, total_steps)
    start_time, start_wall = time.perf_counter(), time.time()

    seed_everything(seed)
    probe = gym.make(env_id)                       # spaces only (the workers make their own)
    try:
        global_net = make_agent(probe, config, seed)
    finally:
        probe.close()
    global_net.share_memory()                      # θ_global in shared memory
    optimizer = SharedRMSprop(global_net.parameters(), config.rmsprop_alpha,
                              config.rmsprop_eps).share_memory()

    ctx = mp.get_context("spawn")
    counter = ctx.Value("q", 0)                    # global step counter (process-safe via its lock)
    events, stop = ctx.Queue(), ctx.Event()
    history, procs, started, done = [], [], set(), set()
    bar = training_bar(progress, config.total_steps, f"A3C {env_id}")
    shown = 0
    try:
        # Ctrl-C belongs to the main process. While the workers start, SIGINT is *blocked* here:
        # children inherit the blocked mask (so a Ctrl-C cannot hit a worker before it ignores
        # SIGINT), and a Ctrl-C pressed meanwhile stays pending and is delivered to this
        # process as KeyboardInterrupt as soon as the mask is lifted. (Without
        # pthread_sigmask, e.g. on Windows, SIGINT is ignored during start-up instead.)
        masked = hasattr(signal, "pthread_sigmask")
        if masked:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        else:
            old_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for rank in range(config.n_workers):
                p = ctx.Process(target=worker, name=f"a3c-worker-{rank}", daemon=True,
                                args=(rank, env_id, config, seed, global_net, optimizer, counter,
                                      events, stop, start_wall))
                p.start()
                procs.append(p)
        finally:
            if masked:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            else:
                signal.signal(signal.SIGINT, old_handler)
        while len(done) < config.n_workers:
            try:
                msg = events.get(timeout=0.2)
            except queue_mod.Empty:
                dead = [rank for rank, p in enumerate(procs) if not p.is_alive() and p.exitcode not in (0, None)]
                if dead:
                    raise RuntimeError(_death_message(procs[dead[0]], dead[0] in started)) from None
                continue
            if msg[0] == "episode":
                record_episodes(history, [msg[1:3]], msg[3], bar)
            elif msg[0] == "started":
                started.add(msg[1])
            elif msg[0] == "done":
                done.add(msg[1])
            else:
                raise RuntimeError(f"A3C worker {msg[1]} failed:\n{msg[2]}")
            now = min(counter.value, config.total_steps)
            if now > shown:
                bar.update(now - shown)
                shown = now
    except KeyboardInterrupt:
        print("A3C interrupted: stopping the workers", flush=True)
        raise
    finally:
        _stop_workers(procs, stop, config.worker_timeout)
        bar.close()
        events.close()
        events.join_thread()
    history.sort(key=lambda h: (h[0], h[2]))
    agent = a2c.ActorCritic(global_net.obs_dim, global_net.n_actions, config.hidden_sizes, config.shared)
    agent.load_state_dict(global_net.state_dict())  # a private copy, out of shared memory
    stats = {"env_steps": int(counter.value), "n_workers": config.n_workers}
    return train_result(agent, history, config, stats, start_time, env_id, seed)
