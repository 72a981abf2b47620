r"""Tabular Q-learning and SARSA: learning $Q^*$ (or $Q^\pi$) from samples, one table entry at a time.

The chapter "Q-learning and deep Q-networks" ({ref}`ch-dqn`) starts from the Bellman optimality
equation

$$
Q^*(s, a) = \mathbb E_{s' \sim P(\cdot \mid s, a)}\Big[ r(s, a, s') + \gamma \max_{a'} Q^*(s', a') \Big],
$$

which value iteration (:func:`rlnotes.mdp.value_iteration`) solves when $P$ is known. Without
$P$, an agent can only *sample* the expectation: after each step $(s_t, a_t, r_t, s_{t+1})$ it
moves its estimate a step $\alpha$ towards a one-sample target,

$$
Q(s_t, a_t) \leftarrow Q(s_t, a_t) + \alpha \big[ y_t - Q(s_t, a_t) \big],
$$

with two choices of target {cite}`sutton2018`:

* **Q-learning** {cite}`watkins1992` (off-policy): $y_t = r_t + \gamma \max_{a'} Q(s_{t+1}, a')$ —
  the value of acting greedily from $s_{t+1}$, whatever the agent actually does next. With every
  $(s, a)$ tried infinitely often and step sizes with $\sum_n \alpha_n = \infty$,
  $\sum_n \alpha_n^2 < \infty$, $Q \to Q^*$.
* **SARSA** {cite}`rummery1994` (on-policy): $y_t = r_t + \gamma Q(s_{t+1}, a_{t+1})$ with
  $a_{t+1}$ the action the ε-greedy agent really takes next — it learns the value $Q^\pi$ of the
  exploring policy itself, and so prefers paths where exploration is cheap (Sutton & Barto's
  cliff-walking example 6.6).

Terminal states and time limits. If $s_{t+1}$ is terminal (gymnasium's ``terminated``) no
reward follows and the target is just $y_t = r_t$. If the episode was only *truncated* (a time
limit), $s_{t+1}$ is an ordinary state and the target still bootstraps — stopping the
experiment does not change the value of the state {cite}`pardo2018timelimits`. In code:
``y = r + gamma * (1 - terminated) * ...``, never ``(1 - done)``.

Exploration is ε-greedy (:func:`epsilon_greedy`): a uniformly random action with probability
ε, otherwise a greedy one (ties broken at random, which matters at the start when the whole
table is 0). ε may follow a schedule over episodes (:func:`linear_schedule`), and the step
size may decay with the number of visits $n(s,a)$ of each pair: $\alpha_n = \alpha / n^\omega$
(``alpha_power`` $= \omega$; $\omega \in (0.5, 1]$ satisfies the conditions above, $\omega = 0$ is
a constant step).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["epsilon_greedy", "greedy_action", "linear_schedule", "q_learning", "sarsa",
           "TabularResult", "greedy_rollout"]


class TabularResult(NamedTuple):
    r"""What :func:`q_learning` and :func:`sarsa` return.

    Q:       (S, A) float — the learned action values.
    returns: (n_episodes,) float — the undiscounted return $\sum_t r_t$ of each training
             episode (the *online* performance of the exploring agent).
    lengths: (n_episodes,) int — the number of steps of each training episode.
    visits:  (S, A) int — $n(s, a)$, how many updates each pair received.
    """

    Q: np.ndarray
    returns: np.ndarray
    lengths: np.ndarray
    visits: np.ndarray


def greedy_action(Q, s, rng):
    r"""$\arg\max_a Q(s, a)$, ties broken uniformly at random with ``rng``."""
    q = Q[s]
    best = np.flatnonzero(q == q.max())
    return int(best[0]) if len(best) == 1 else int(best[rng.integers(len(best))])


def epsilon_greedy(Q, s, epsilon, rng):
    r"""The ε-greedy action in state ``s``.

    $$\pi(a \mid s) = \frac{\varepsilon}{A} + (1 - \varepsilon)\,
      \mathbb 1\big[a = \arg\max_{a'} Q(s, a')\big]$$

    (with ties among the maximisers shared equally). Q: (S, A) array; s: int state; epsilon in
    [0, 1]; rng: a ``numpy.random.Generator``. Returns an int action.
    """
    if rng.random() < epsilon:
        return int(rng.integers(Q.shape[1]))          # explore: uniform over all A actions
    return greedy_action(Q, s, rng)                   # exploit: argmax_a Q(s, a)


def linear_schedule(start, end, duration):
    r"""A schedule $k \mapsto$ value that goes linearly from ``start`` (at $k = 0$) to ``end``
    (at $k$ = ``duration``) and stays at ``end`` afterwards. Use as ``epsilon=linear_schedule(1.0,
    0.05, 5000)`` (k counts episodes in this module; env steps in :mod:`rlnotes.algos.dqn`)."""
    if duration <= 0:
        raise ValueError(f"linear_schedule needs duration > 0, got {duration!r}")

    def schedule(k):
        return end + (start - end) * max(0.0, 1.0 - k / duration)
    schedule.__doc__ = f"linear from {start} to {end} over {duration} steps, then constant"
    return schedule


# --------------------------------------------------------------------------------------------
def _make_env(env):
    import gymnasium as gym

    if isinstance(env, str):
        env = gym.make(env)
    obs_space, act_space = env.observation_space, env.action_space
    if not isinstance(obs_space, gym.spaces.Discrete) or not isinstance(act_space, gym.spaces.Discrete):
        raise ValueError(
            f"tabular methods need finitely many states and actions (Discrete observation and "
            f"action spaces, e.g. FrozenLake-v1, CliffWalking-v1, Taxi-v4); got observations "
            f"{obs_space} and actions {act_space}. For a continuous observation space use a "
            f"network: DQN (rlnotes.algos.dqn).")
    return env, int(obs_space.n), int(act_space.n)


def _check_args(n_episodes, alpha, gamma, epsilon, alpha_power):
    if isinstance(n_episodes, bool) or not isinstance(n_episodes, (int, np.integer)) or n_episodes < 1:
        raise ValueError(f"n_episodes must be a positive int, got {n_episodes!r}")
    if not (isinstance(alpha, (int, float)) and 0 < alpha <= 1):
        raise ValueError(f"alpha is a step size in (0, 1], got {alpha!r}")
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma is a discount in [0, 1], got {gamma!r}")
    if not callable(epsilon) and not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon must be a probability in [0, 1] or a schedule episode -> "
                         f"epsilon (see linear_schedule), got {epsilon!r}")
    if not 0 <= alpha_power <= 1:
        raise ValueError(f"alpha_power must be in [0, 1] (0: constant step; (0.5, 1]: the "
                         f"Robbins-Monro conditions hold), got {alpha_power!r}")


def _td_control(target, env, n_episodes, alpha, gamma, epsilon, seed, alpha_power, Q0,
                progress):
    """The loop shared by Q-learning and SARSA; ``target`` is "max" or "sarsa"."""
    from .progress import TextBar
    from .progress import progress as progress_bar

    env, S, A = _make_env(env)
    _check_args(n_episodes, alpha, gamma, epsilon, alpha_power)
    rng = np.random.default_rng(seed)
    Q = np.zeros((S, A)) if Q0 is None else np.array(Q0, dtype=float)
    if Q.shape != (S, A):
        raise ValueError(f"Q0 must have shape (S, A) = {(S, A)}, got {Q.shape}")
    visits = np.zeros((S, A), dtype=np.int64)
    returns, lengths = np.zeros(n_episodes), np.zeros(n_episodes, dtype=np.int64)
    eps_of = epsilon if callable(epsilon) else (lambda k: epsilon)
    env.action_space.seed(seed)
    bar = (progress_bar(total=n_episodes, desc="Q-learning" if target == "max" else "SARSA",
                        unit="episodes") if progress else TextBar(total=n_episodes, disable=True))
    try:
        for k in range(n_episodes):
            eps = eps_of(k)
            s, _ = env.reset(seed=seed if k == 0 else None)    # later episodes continue the stream
            a = epsilon_greedy(Q, s, eps, rng)
            G, T, done = 0.0, 0, False
            while not done:
                s2, r, terminated, truncated, _ = env.step(a)
                if target == "max":
                    bootstrap = Q[s2].max()                     # max_a' Q(s', a')   (Q-learning)
                else:
                    a2 = epsilon_greedy(Q, s2, eps, rng)        # the action SARSA takes next
                    bootstrap = Q[s2, a2]                       # Q(s', a'), a' ~ ε-greedy (SARSA)
                y = r + gamma * (not terminated) * bootstrap    # y = r + γ(1 − terminated)(...)
                visits[s, a] += 1
                step = alpha / visits[s, a] ** alpha_power      # α_n = α / n(s,a)^ω
                Q[s, a] += step * (y - Q[s, a])                 # Q(s,a) ← Q(s,a) + α[y − Q(s,a)]
                G += r
                T += 1
                done = terminated or truncated                  # stop the episode either way
                s = s2
                if target == "max":                             # Q-learning acts on the updated Q
                    a = epsilon_greedy(Q, s, eps, rng) if not done else a
                else:
                    a = a2
            returns[k], lengths[k] = G, T
            bar.update(1)
            if k % 100 == 99:
                bar.set_postfix(ret=float(returns[max(0, k - 99):k + 1].mean()))
    finally:
        bar.close()
    return TabularResult(Q, returns, lengths, visits)


def q_learning(env, n_episodes, alpha=1.0, gamma=0.99, epsilon=0.1, seed=0, alpha_power=0.6,
               Q0=None, progress=False):
    r"""Tabular Q-learning {cite}`watkins1992` with ε-greedy exploration.

    After every step: $Q(s,a) \leftarrow Q(s,a) + \alpha_n \big[r + \gamma (1 - \text{terminated})
    \max_{a'} Q(s', a') - Q(s,a)\big]$, with $\alpha_n = \alpha / n(s,a)^\omega$.
    Derived in {ref}`ch-dqn`.

    env:         a gymnasium env with Discrete observations and actions, or its id
                 (``"FrozenLake-v1"``, ``"CliffWalking-v1"``, ``"Taxi-v4"``); its time limit, if
                 any, truncates episodes (truncation bootstraps, termination does not).
    n_episodes:  number of training episodes.
    alpha:       step size $\alpha \in (0, 1]$ (the first update of each pair uses exactly
                 $\alpha$).
    gamma:       discount $\gamma$.
    epsilon:     exploration probability ε, or a schedule ``episode -> ε``
                 (e.g. :func:`linear_schedule`).
    seed:        seeds the agent's generator (exploration, tie-breaking) and the env's first
                 reset; the same seed gives the same result.
    alpha_power: $\omega$ in $\alpha_n = \alpha / n(s,a)^\omega$; 0 = constant step size.
    Q0:          initial table (S, A) (default zeros).
    progress:    show a progress bar over episodes.

    Returns a :class:`TabularResult` ``(Q, returns, lengths, visits)``.

    The defaults ($\alpha_n = 1/n(s,a)^{0.6}$, ε = 0.1) were chosen on FrozenLake-v1 (slippery,
    $\gamma = 0.99$): 30 000 episodes (10–20 s here) give a greedy policy that is optimal
    ($V^{\pi} = V^*$ in every state) and $\max_{s,a} |Q - Q^*| \approx 0.04$–$0.09$ over the
    non-terminal states, limited by the noise of the rarely visited pairs next to the goal;
    exploring with ε = 1 (off-policy: Q-learning learns $Q^*$ from a random behaviour) or a
    :func:`linear_schedule` from 1 to 0.1 does as well. On a deterministic env (CliffWalking,
    FrozenLake with ``is_slippery=False``) ``alpha=1`` with a constant step is exact: each update
    is a Bellman optimality backup of one entry. Sutton & Barto's cliff example uses
    ``alpha=0.5, alpha_power=0, gamma=1, epsilon=0.1``.
    """
    return _td_control("max", env, n_episodes, alpha, gamma, epsilon, seed, alpha_power, Q0,
                       progress)


def sarsa(env, n_episodes, alpha=1.0, gamma=0.99, epsilon=0.1, seed=0, alpha_power=0.6, Q0=None,
          progress=False):
    r"""Tabular SARSA {cite}`rummery1994`: on-policy TD control with ε-greedy actions.

    After every step: $Q(s,a) \leftarrow Q(s,a) + \alpha_n \big[r + \gamma (1 - \text{terminated})
    Q(s', a') - Q(s,a)\big]$, where $a'$ is the ε-greedy action the agent takes in $s'$.
    It learns $Q^{\pi}$ of the ε-greedy policy $\pi$ (and, with ε → 0, $Q^*$).
    Arguments and result as in :func:`q_learning`. Derived in {ref}`ch-dqn`.
    """
    return _td_control("sarsa", env, n_episodes, alpha, gamma, epsilon, seed, alpha_power, Q0,
                       progress)


def greedy_rollout(env, Q, max_steps=None, seed=0):
    r"""Play one episode with the greedy policy $\pi(s) = \arg\max_a Q(s,a)$ (ties: lowest
    action). Returns ``(states, actions, return)``: the list of visited states $s_0, s_1,
    \dots$ (including the last), the actions, and the undiscounted return. ``max_steps``
    (default: 10 × the number of states) guards against a policy that loops forever.
    """
    env, S, A = _make_env(env)
    max_steps = 10 * S if max_steps is None else max_steps
    s, _ = env.reset(seed=seed)
    states, actions, G = [int(s)], [], 0.0
    for _ in range(max_steps):
        a = int(np.argmax(Q[s]))
        s, r, terminated, truncated, _ = env.step(a)
        states.append(int(s))
        actions.append(a)
        G += r
        if terminated or truncated:
            break
    return states, actions, G
