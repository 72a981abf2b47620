r"""Finite Markov decision processes, solved exactly.

A *tabular* MDP has finitely many states $s \in \{0, \dots, S-1\}$ and actions
$a \in \{0, \dots, A-1\}$, so everything the chapter "Key concepts and MDPs" ({ref}`ch-mdps`)
defines fits in a few arrays:

* transition probabilities $P(s' \mid s, a)$ — ``P[s, a, s2]``, shape (S, A, S);
* expected rewards $r(s, a)$ — ``r[s, a]``, shape (S, A);
* the discount $\gamma \in [0, 1]$ and the start-state distribution $\rho_0$ — ``rho0``, shape (S,);
* policies: a stochastic policy $\pi(a \mid s)$ is a matrix ``pi[s, a]`` of shape (S, A) whose
  rows sum to 1; a deterministic policy is an int array of shape (S,) holding one action per
  state; value functions $V$ are arrays of shape (S,), action values $Q$ of shape (S, A).

With these arrays, each Bellman equation is one line of numpy. The module builds up, in the
order of the chapter: the backups $T^\pi$ and $T^*$, action values from state values, the
greedy policy, exact policy evaluation (a linear solve), value iteration and policy
iteration {cite}`bellman1957,howard1960,sutton2018`. The example grid worlds reproduce the
published tables of Sutton & Barto (2018), Examples 3.5 and 4.1, and
:meth:`TabularMDP.from_gymnasium` turns gymnasium's toy-text environments (FrozenLake,
CliffWalking, Taxi) into the same arrays, so the later Q-learning chapter can compare what an
agent learns from samples with the exact answer.

Terminal states. In an episodic task the episode ends when a terminal state is reached. Here
a terminal state is *absorbing with value 0 by definition*: :class:`TabularMDP` replaces the
rows ``P[s_term]`` by a self-loop and the rewards from ``s_term`` by 0, and every function
reads $V(s_\text{term})$ as 0. A backup therefore never bootstraps from beyond a terminal
state: the reward for *entering* it is kept (e.g. +1 for reaching FrozenLake's goal), nothing
after it counts. This is also what makes $\gamma = 1$ meaningful in episodic tasks.
"""
from __future__ import annotations

import numpy as np

from ._checks import discount

__all__ = [
    "TabularMDP",
    "bellman_expectation_backup",
    "bellman_optimality_backup",
    "q_from_v",
    "greedy_policy",
    "policy_evaluation",
    "value_iteration",
    "policy_iteration",
    "uniform_random_policy",
    "gridworld_5x5",
    "gridworld_4x4",
    "LEFT", "DOWN", "RIGHT", "UP",
]

# Action order of the example grid worlds: the same as gymnasium's FrozenLake.
LEFT, DOWN, RIGHT, UP = 0, 1, 2, 3
_GRID_ACTION_DELTAS = np.array([[0, -1], [1, 0], [0, 1], [-1, 0]])   # (drow, dcol) per action
_GRID_ACTION_NAMES = ["left", "down", "right", "up"]

_PROB_ATOL = 1e-8        # how far a probability row may be from summing to 1
_SUPPORTED_ENVS = ("FrozenLake-v1, FrozenLake8x8-v1, CliffWalking-v1, CliffWalkingSlippery-v1 "
                   "and Taxi-v4")


# --------------------------------------------------------------------------------------------
# The MDP
# --------------------------------------------------------------------------------------------
class TabularMDP:
    r"""A finite MDP $(\mathcal S, \mathcal A, P, r, \gamma, \rho_0)$ stored as numpy arrays.

    Defined in the chapter Key concepts and MDPs ({ref}`ch-mdps`).

    Arguments
    ---------
    P:        shape (S, A, S); ``P[s, a, s2]`` $= P(s' \mid s, a)$ with s' = s2; each row
              a probability distribution (rows of terminal states may be anything finite and
              non-negative, e.g. zeros: they are replaced, see below).
    R:        shape (S, A), the expected reward $r(s, a)$; or shape (S, A, S), the reward
              $r(s, a, s')$ of the transition $s \to s'$.
    gamma:    discount $\gamma \in [0, 1]$; $\gamma = 1$ needs terminal states.
    rho0:     shape (S,), the start-state distribution $\rho_0$; default: uniform over the
              non-terminal states.
    terminal: ``None`` (no terminal states), a boolean mask of shape (S,), or a list of state
              indices.
    grid_shape, action_deltas, action_names: optional metadata for grid worlds, used to draw
              a value heat map with the policy as arrows (:func:`rlnotes.plotting.plot_values`):
              ``grid_shape = (rows, cols)`` with state ``s`` in cell ``divmod(s, cols)``
              (row-major); ``action_deltas`` shape (A, 2), the move ``(drow, dcol)`` of each
              action; ``action_names`` a list of A strings.

    Attributes
    ----------
    ``P`` (S, A, S) and ``R`` (S, A) or (S, A, S): float copies of the arguments, with the
    terminal rows made absorbing: ``P[s_term, a]`` is a self-loop and ``R[s_term, a]`` is 0
    for every action. So $V(s_\text{term}) = 0$ and a backup never looks past a terminal
    state. Both arrays are read-only; build a new ``TabularMDP`` to change them.
    ``r`` (S, A): the expected reward $r(s,a) = \sum_{s'} P(s' \mid s,a)\, r(s,a,s')$ (equal to
    ``R`` when ``R`` is given as (S, A)); every function of this module uses ``r``.
    ``gamma``, ``rho0`` (S,), ``terminal`` (S,) bool mask, ``n_states`` = S,
    ``n_actions`` = A, ``grid_shape`` (rows, cols) or None, ``action_deltas`` (A, 2) int
    array or None, ``action_names`` list of str or None.

    Every invalid argument raises ``ValueError`` with a message saying what is wrong and how
    to fix it.
    """

    def __init__(self, P, R, gamma, rho0=None, terminal=None, *, grid_shape=None,
                 action_deltas=None, action_names=None):
        p_dtype = getattr(P, "dtype", None)                        # float32 rows sum less exactly
        P = _float_array(P, "P")
        if P.ndim != 3 or P.shape[0] != P.shape[2]:
            raise ValueError(
                f"P must be a 3-D array of shape (S, A, S) with P[s, a, s2] = P(s2|s,a); got shape "
                f"{P.shape}. Build it with P = np.zeros((S, A, S)) and fill in one probability "
                "distribution over next states per (s, a).")
        S, A = P.shape[0], P.shape[1]
        if S == 0 or A == 0:
            raise ValueError(f"P has shape {P.shape}: an MDP needs at least one state and one "
                             "action.")
        R = _float_array(R, "R")
        if R.shape not in ((S, A), (S, A, S)):
            raise ValueError(
                f"R must have shape (S, A) = {(S, A)} for expected rewards r(s,a), or "
                f"(S, A, S) = {(S, A, S)} for rewards r(s,a,s') (S and A taken from P); got shape "
                f"{R.shape}. Check that R is indexed R[s, a] (or R[s, a, s2]) like P.")
        for name, x in (("P", P), ("R", R)):
            if not np.all(np.isfinite(x)):
                bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
                raise ValueError(f"{name} contains NaN or inf (first at index {bad}: "
                                 f"{x[bad]}); every entry must be a finite number. Replace it "
                                 "(e.g. unreachable transitions get probability 0 and reward 0).")

        term = _terminal_mask(terminal, S)

        if np.any(P < 0):
            bad = tuple(int(i) for i in np.argwhere(P < 0)[0])
            raise ValueError(f"P has a negative probability P[s, a, s2] = {P[bad]:g} at "
                             f"(s, a, s2) = {bad}; probabilities must be >= 0.")
        row_sums = P.sum(axis=2)                                   # Σ_s' P(s'|s,a), shape (S, A)
        bad_rows = ~np.isclose(row_sums, 1.0, rtol=0.0, atol=_prob_atol(p_dtype, S)) & ~term[:, None]
        if bad_rows.any():
            s, a = (int(i) for i in np.argwhere(bad_rows)[0])
            raise ValueError(
                f"rows of P must sum to 1, but P[{s}, {a}, :] (state s={s}, action a={a}) sums to "
                f"{row_sums[s, a]:.6g}. Fix the transition probabilities of (s, a), normalise "
                "with P = P / P.sum(axis=2, keepdims=True), or mark the state terminal "
                "(terminal states' rows are ignored).")

        gamma = discount(gamma, "TabularMDP")                       # a float in [0, 1]
        if gamma == 1.0 and not term.any():
            raise ValueError(
                "gamma = 1 with no terminal states: the values diverge (the return adds up "
                "rewards forever). Use gamma < 1, or mark the states where episodes end with "
                "terminal=[...].")

        if rho0 is None:
            if term.all():
                raise ValueError("every state is terminal, so there is no default start "
                                 "distribution: pass rho0, or mark fewer states terminal.")
            rho0 = (~term) / (~term).sum()                         # uniform over non-terminal
        rho0_atol = _prob_atol(getattr(rho0, "dtype", None), S)
        rho0 = _float_array(rho0, "rho0")
        if rho0.shape != (S,):
            raise ValueError(f"rho0 must be a start-state distribution of shape (S,) = ({S},); "
                             f"got shape {rho0.shape}. Give one probability per state.")
        if (not np.all(np.isfinite(rho0)) or np.any(rho0 < 0)
                or not np.isclose(rho0.sum(), 1.0, rtol=0.0, atol=rho0_atol)):
            raise ValueError(f"rho0 must be a probability distribution (finite entries >= 0 "
                             f"summing to 1); got min {rho0.min():g} and sum {rho0.sum():.6g}. "
                             "Normalise it with rho0 = rho0 / rho0.sum().")

        if grid_shape is not None:
            grid_shape = tuple(int(n) for n in grid_shape)
            if len(grid_shape) != 2 or grid_shape[0] * grid_shape[1] != S:
                raise ValueError(f"grid_shape must be (rows, cols) with rows * cols = S = {S}; "
                                 f"got {grid_shape}. Pass the shape of the grid, or None if "
                                 "the states are not grid cells.")
        if action_deltas is not None:
            action_deltas = np.array(action_deltas, dtype=int)
            if action_deltas.shape != (A, 2):
                raise ValueError(f"action_deltas must have shape (A, 2) = ({A}, 2), one "
                                 f"(drow, dcol) move per action; got shape "
                                 f"{action_deltas.shape}.")
        if action_names is not None:
            action_names = [str(n) for n in action_names]
            if len(action_names) != A:
                raise ValueError(f"action_names must name each of the A = {A} actions; got "
                                 f"{len(action_names)} names.")

        # Terminal states are absorbing with value 0: a self-loop with zero reward.
        t = np.flatnonzero(term)
        P[t] = 0.0
        P[t, :, t] = 1.0                                           # P(s_term | s_term, a) = 1
        R[t] = 0.0                                                 # r(s_term, a) = 0
        if R.ndim == 3:
            r = np.einsum("sat,sat->sa", P, R)     # r(s,a) = Σ_s' P(s'|s,a) r(s,a,s')
        else:
            r = R.copy()
        for x in (P, R, r, rho0, term):
            x.flags.writeable = False

        self.P, self.R, self.r = P, R, r
        self.gamma = gamma
        self.rho0 = rho0
        self.terminal = term
        self.n_states, self.n_actions = S, A
        self.grid_shape = grid_shape
        self.action_deltas = action_deltas
        self.action_names = action_names

    def __repr__(self):
        term = np.flatnonzero(self.terminal).tolist()
        term = term if len(term) <= 10 else f"<{len(term)} states>"
        grid = f", grid_shape={self.grid_shape}" if self.grid_shape else ""
        return (f"TabularMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
                f"gamma={self.gamma}, terminal={term}{grid})")

    @classmethod
    def from_gymnasium(cls, env, gamma=0.99):
        r"""The exact MDP of a gymnasium toy-text environment.

        Used in the chapters Key concepts and MDPs ({ref}`ch-mdps`) and Q-learning.
        env:   an environment from ``gymnasium.make`` (or its id, e.g. ``"FrozenLake-v1"``)
               whose ``env.unwrapped.P`` is the transition table
               ``P[s][a] = [(prob, next_state, reward, done), ...]``: FrozenLake-v1,
               FrozenLake8x8-v1, CliffWalking-v1, CliffWalkingSlippery-v1, Taxi-v4
               {cite}`towers2024gymnasium`. Keyword arguments of ``gymnasium.make``
               (``is_slippery=False``, ``map_name``, ``desc``) are respected, since the
               table is read from the environment itself.
        gamma: the discount $\gamma$.

        The table becomes arrays as follows. Entries with the same next state are merged:
        $P(s' \mid s,a) = \sum_i p_i$ over the entries $i$ with next state $s'$ (slippery
        FrozenLake lists a next state twice when two slip directions hit the same wall), and
        $r(s,a,s') = \sum_i p_i r_i / P(s' \mid s, a)$. A state entered by a ``done=True``
        transition is terminal (FrozenLake's holes and goal, CliffWalking's goal, Taxi's
        "passenger delivered" states). ``rho0`` is the env's ``initial_state_distrib``.
        FrozenLake and CliffWalking also get ``grid_shape``, ``action_deltas`` and
        ``action_names`` — note their different action orders: FrozenLake 0 = left, 1 = down,
        2 = right, 3 = up; CliffWalking 0 = up, 1 = right, 2 = down, 3 = left.

        The time limit that ``gymnasium.make`` adds (``TimeLimit``) is *not* part of the MDP:
        the arrays describe the unbounded task, and truncation is a property of the
        experiment, not of the environment's dynamics.
        """
        import gymnasium as gym

        if isinstance(env, str):
            env = gym.make(env)
        base = getattr(env, "unwrapped", env)
        table = getattr(base, "P", None)
        spec = getattr(env, "spec", None)
        name = spec.id if spec is not None else type(base).__name__
        if not isinstance(table, dict):
            raise ValueError(
                f"TabularMDP.from_gymnasium needs a gymnasium toy-text environment that exposes "
                f"its transition table as env.unwrapped.P; {name} has none. Supported: "
                f"{_SUPPORTED_ENVS}. Environments with continuous or huge state spaces (e.g. "
                "CartPole) have no table: learn from samples instead (Q-learning, DQN).")
        S, A = int(base.observation_space.n), int(base.action_space.n)

        P = np.zeros((S, A, S))
        reward_mass = np.zeros((S, A, S))                          # Σ_i p_i r_i per (s, a, s')
        terminal = np.zeros(S, dtype=bool)
        continues = []                                             # (s, a, s') with done=False
        for s, by_action in table.items():
            for a, outcomes in by_action.items():
                for prob, s2, reward, done in outcomes:
                    P[s, a, s2] += prob                            # merge duplicate next states
                    reward_mass[s, a, s2] += prob * reward
                    if prob > 0 and done:
                        terminal[s2] = True
                    elif prob > 0:
                        continues.append((s, a, s2))
        R = np.divide(reward_mass, P, out=np.zeros_like(P), where=P > 0)  # r(s,a,s')

        rho0 = getattr(base, "initial_state_distrib", None)
        rho0 = None if rho0 is None else np.asarray(rho0, dtype=float)
        _check_terminal_states_consistent(P, terminal, continues, rho0, name)

        from gymnasium.envs.toy_text.cliffwalking import CliffWalkingEnv
        from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv
        from gymnasium.envs.toy_text.taxi import TaxiEnv

        grid = {}
        if isinstance(base, FrozenLakeEnv):      # LEFT = 0, DOWN = 1, RIGHT = 2, UP = 3
            grid = dict(grid_shape=base.desc.shape, action_deltas=_GRID_ACTION_DELTAS,
                        action_names=_GRID_ACTION_NAMES)
        elif isinstance(base, CliffWalkingEnv):  # UP = 0, RIGHT = 1, DOWN = 2, LEFT = 3
            grid = dict(grid_shape=tuple(base.shape),
                        action_deltas=[[-1, 0], [0, 1], [1, 0], [0, -1]],
                        action_names=["up", "right", "down", "left"])
        elif isinstance(base, TaxiEnv):
            grid = dict(action_names=["south", "north", "east", "west", "pickup", "dropoff"])
        return cls(P, R, gamma, rho0=rho0, terminal=terminal, **grid)


def _prob_atol(dtype, n):
    """How far a row of ``n`` probabilities given with ``dtype`` (numpy's or torch's; None for a
    list) may be from summing to 1: 1e-8, or the rounding of n entries in that precision if it
    is coarser (float32 entries normalised exactly still sum to 1 only within ~n times 1.2e-7)."""
    try:
        eps = float(np.finfo(np.dtype(str(dtype).replace("torch.", ""))).eps)
    except (TypeError, ValueError):                                # lists, ints: exact enough
        eps = 0.0
    return max(_PROB_ATOL, 4 * n * eps)


def _float_array(x, name):
    try:
        return np.array(x, dtype=float)                            # a copy: inputs stay untouched
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array; np.array({name}, dtype=float) failed "
                         f"with: {err}") from None


def _terminal_mask(terminal, S):
    """terminal (None, a bool mask (S,), or state indices) -> bool mask (S,)."""
    if terminal is None:
        return np.zeros(S, dtype=bool)
    arr = np.asarray(terminal)
    if arr.dtype == bool:
        if arr.shape != (S,):
            raise ValueError(f"a terminal mask must be a boolean array of shape (S,) = ({S},); "
                             f"got shape {arr.shape}. Or pass a list of terminal state indices.")
        return arr.copy()
    arr = arr.reshape(-1)
    if arr.size and not (np.issubdtype(arr.dtype, np.integer)
                         or (np.issubdtype(arr.dtype, np.floating)
                             and np.all(arr == np.round(arr)))):
        raise ValueError(f"terminal must be None, a boolean mask of shape ({S},), or a list of "
                         f"integer state indices; got {terminal!r}.")
    arr = arr.astype(int)
    if arr.size and (arr.min() < 0 or arr.max() >= S):
        bad = int(arr[(arr < 0) | (arr >= S)][0])
        raise ValueError(f"terminal state index {bad} is out of range for S = {S} states (valid: "
                         f"0 ... {S - 1}). Number states from 0.")
    mask = np.zeros(S, dtype=bool)
    mask[arr] = True
    return mask


def _check_terminal_states_consistent(P, terminal, continues, rho0, name):
    """Refuse tables that end the episode on *some* transitions into a state but not others.

    TabularMDP models episode ends by terminal *states*. That is exact when, among states
    reachable from the start, every transition into a terminal state is flagged done (true
    for FrozenLake, CliffWalking, Taxi: Taxi's only exceptions start in unreachable states).
    """
    reach = (rho0 > 0) if rho0 is not None else ~terminal
    while True:                                                    # states reachable from ρ_0
        expand = reach & ~terminal
        new = reach | (P[expand] > 0).any(axis=(0, 1))
        if np.array_equal(new, reach):
            break
        reach = new
    for s, a, s2 in continues:
        if terminal[s2] and reach[s] and not terminal[s]:
            raise ValueError(
                f"{name}: the transition from state {s} with action {a} enters state {s2} "
                f"without ending the episode, while other transitions into {s2} end it. "
                "TabularMDP marks terminal *states*, so it cannot represent this environment "
                f"exactly. Supported environments: {_SUPPORTED_ENVS}.")


def _describe_states(mdp, states, limit=6):
    """'states [3, 7] (cells (0, 3), (1, 3))' for error messages."""
    states = [int(s) for s in states]
    text = f"{states[:limit]}" + (" ..." if len(states) > limit else "")
    if mdp.grid_shape is not None:
        cells = ", ".join(str(divmod(s, mdp.grid_shape[1])) for s in states[:limit])
        text += f" (grid cells (row, col): {cells}{' ...' if len(states) > limit else ''})"
    return text


# --------------------------------------------------------------------------------------------
# Policies and value functions as arrays
# --------------------------------------------------------------------------------------------
def uniform_random_policy(mdp):
    r"""The equiprobable random policy $\pi(a \mid s) = 1/A$, shape (S, A)."""
    return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


def _policy_matrix(mdp, policy):
    """policy: (S, A) matrix with rows summing to 1, or int array (S,) of actions -> (S, A)."""
    S, A = mdp.n_states, mdp.n_actions
    pi = np.asarray(policy)
    if pi.ndim == 1:
        integral = (np.issubdtype(pi.dtype, np.integer)
                    or (np.issubdtype(pi.dtype, np.floating) and np.all(np.isfinite(pi))
                        and np.all(pi == np.round(pi))))
        if pi.shape != (S,) or not integral:
            raise ValueError(f"a deterministic policy must be an int array of shape (S,) = ({S},) "
                             f"holding one action per state; got dtype {pi.dtype}, shape "
                             f"{pi.shape}. A stochastic policy is an (S, A) = ({S}, {A}) matrix.")
        actions = pi.astype(int)
        if actions.min() < 0 or actions.max() >= A:
            raise ValueError(f"policy actions must be in 0 ... {A - 1}; got "
                             f"{int(actions[(actions < 0) | (actions >= A)][0])}.")
        return np.eye(A)[actions]                                  # one-hot: π(a|s) = 1[a = π(s)]
    pi_atol = _prob_atol(pi.dtype, A)
    pi = pi.astype(float)
    if pi.shape != (S, A):
        raise ValueError(f"a policy must be an (S, A) = ({S}, {A}) matrix pi[s, a] = π(a|s), or "
                         f"an int array of shape ({S},) of actions; got shape {pi.shape}.")
    if not np.all(np.isfinite(pi)) or np.any(pi < 0):
        raise ValueError("policy probabilities pi[s, a] must be finite and >= 0.")
    sums = pi.sum(axis=1)
    bad = ~np.isclose(sums, 1.0, rtol=0.0, atol=pi_atol) & ~mdp.terminal
    if bad.any():
        s = int(np.flatnonzero(bad)[0])
        raise ValueError(f"each row of the policy must sum to 1, but pi[{s}, :] sums to "
                         f"{sums[s]:.6g}. Normalise with pi = pi / pi.sum(axis=1, keepdims=True).")
    # rows accepted within the input's rounding (e.g. float32) are made to sum to 1 in float64,
    # so the functions this policy is passed on to accept it too
    return np.where(mdp.terminal[:, None] | (sums[:, None] == 0), pi, pi / np.where(sums == 0, 1, sums)[:, None])


def _values(mdp, V):
    """V as a float array (S,), read as 0 on terminal states (their value by definition)."""
    V = np.asarray(V, dtype=float)
    if V.shape != (mdp.n_states,):
        raise ValueError(f"V must have one value per state, shape ({mdp.n_states},); got shape "
                         f"{V.shape}.")
    return np.where(mdp.terminal, 0.0, V)


def _tie_tolerance(Q):
    """Q values closer than this to the maximum count as ties (round-off, not preference)."""
    return 1e-8 * max(1.0, float(np.max(np.abs(Q))) if Q.size else 1.0)


# --------------------------------------------------------------------------------------------
# Bellman backups
# --------------------------------------------------------------------------------------------
def q_from_v(mdp, V):
    r"""Action values from state values: $Q(s,a) = r(s,a) + \gamma \sum_{s'} P(s' \mid s,a)\, V(s')$.

    Derived in the chapter Key concepts and MDPs ({ref}`ch-mdps`), eq. {eq}`eq-q-from-v`.
    mdp: a :class:`TabularMDP`; V: shape (S,) (entries of terminal states are read as 0).
    Returns Q, shape (S, A); $Q(s_\text{term}, a) = 0$.
    """
    V = _values(mdp, V)
    return mdp.r + mdp.gamma * (mdp.P @ V)      # Q(s,a) = r(s,a) + γ Σ_s' P(s'|s,a) V(s')


def bellman_expectation_backup(mdp, policy, V):
    r"""One application of the Bellman expectation operator $T^\pi$:

    $$(T^\pi V)(s) = \sum_a \pi(a \mid s) \Big[ r(s,a) + \gamma \sum_{s'} P(s' \mid s,a)\, V(s') \Big].$$

    Derived in the chapter Key concepts and MDPs ({ref}`ch-mdps`),
    eq. {eq}`eq-bellman-expectation`. $V^\pi$ is its unique fixed point ($\gamma < 1$, or
    $\gamma = 1$ with a policy that reaches a terminal state with probability 1).
    mdp: a :class:`TabularMDP`; policy: (S, A) matrix ``pi[s, a]`` $= \pi(a \mid s)$ or an
    int array (S,) of actions; V: shape (S,). Returns $T^\pi V$, shape (S,).
    """
    pi = _policy_matrix(mdp, policy)
    Q = q_from_v(mdp, V)                         # r(s,a) + γ Σ_s' P(s'|s,a) V(s')
    return np.einsum("sa,sa->s", pi, Q)          # (T^π V)(s) = Σ_a π(a|s) Q(s,a)


def bellman_optimality_backup(mdp, V):
    r"""One application of the Bellman optimality operator $T^*$:

    $$(T^* V)(s) = \max_a \Big[ r(s,a) + \gamma \sum_{s'} P(s' \mid s,a)\, V(s') \Big].$$

    Derived in the chapter Key concepts and MDPs ({ref}`ch-mdps`),
    eq. {eq}`eq-bellman-optimality`. $V^*$ is its fixed point: $T^* V^* = V^*$.
    mdp: a :class:`TabularMDP`; V: shape (S,). Returns $T^* V$, shape (S,).
    """
    return q_from_v(mdp, V).max(axis=1)          # (T* V)(s) = max_a Q(s,a)


def greedy_policy(mdp, V):
    r"""The greedy policy with respect to $V$: $\pi(s) = \arg\max_a Q(s,a)$ (Q from :func:`q_from_v`).

    Derived in the chapter Key concepts and MDPs ({ref}`ch-mdps`), eq. {eq}`eq-greedy-policy`;
    greedy with respect to $V^*$ it is an optimal policy $\pi^*$.
    mdp: a :class:`TabularMDP`; V: shape (S,). Returns an int array of shape (S,).
    Ties go to the lowest action index. Actions whose $Q(s,a)$ is within
    $10^{-8} \max(1, \max|Q|)$ of the maximum count as tied, so that round-off in $V$ (e.g.
    from value iteration stopped at a tolerance) does not decide between equally good actions.
    """
    Q = q_from_v(mdp, V)
    tied = Q >= Q.max(axis=1, keepdims=True) - _tie_tolerance(Q)
    return np.argmax(tied, axis=1)               # π(s) = argmax_a Q(s,a), first of the ties


# --------------------------------------------------------------------------------------------
# Solving the MDP
# --------------------------------------------------------------------------------------------
def _never_terminating(mdp, P_pi):
    """Bool mask (S,): non-terminal states from which no terminal state is reachable under P_pi.

    In a finite chain, "reaches a terminal state with probability 1" from every state is the
    same as "some terminal state is reachable" from every state.
    """
    edge = P_pi > 0
    reaches = mdp.terminal.copy()
    while True:
        new = reaches | edge[:, reaches].any(axis=1)   # one step back from the states that reach
        if np.array_equal(new, reaches):
            return ~reaches
        reaches = new


def policy_evaluation(mdp, policy, tol=1e-10):
    r"""The value $V^\pi$ of a policy, solved exactly from the Bellman expectation equation.

    $V^\pi = r^\pi + \gamma P^\pi V^\pi$, i.e. the linear system

    $$(I - \gamma P^\pi)\, V^\pi = r^\pi, \qquad
      P^\pi(s' \mid s) = \sum_a \pi(a \mid s) P(s' \mid s,a), \quad
      r^\pi(s) = \sum_a \pi(a \mid s)\, r(s,a),$$

    restricted to the non-terminal states ($V^\pi = 0$ on terminal states).
    Derived in the chapter Key concepts and MDPs ({ref}`ch-mdps`),
    eq. {eq}`eq-policy-evaluation-linear`.

    mdp:    a :class:`TabularMDP`.
    policy: (S, A) matrix ``pi[s, a]`` $= \pi(a \mid s)$ (rows sum to 1), or an int array
            (S,) of actions (a deterministic policy, converted to one-hot rows).
    tol:    the solution is checked to satisfy $\max_s |(T^\pi V)(s) - V(s)| \le$
            ``tol`` $\cdot \max(1, \max|V|)$; a larger residual (a numerically singular
            system) raises ``ValueError``.
    Returns $V^\pi$, shape (S,).

    With $\gamma = 1$ the system is singular when the policy does not reach a terminal state
    with probability 1 from every state (e.g. a policy that walks into a wall forever): the
    values there diverge, and ``ValueError`` names those states. Iterating
    :func:`bellman_expectation_backup` gives the same $V^\pi$ slowly; the linear solve is the
    fast, exact version of that iteration.
    """
    pi = _policy_matrix(mdp, policy)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)    # P^π(s'|s) = Σ_a π(a|s) P(s'|s,a)
    r_pi = np.einsum("sa,sa->s", pi, mdp.r)      # r^π(s) = Σ_a π(a|s) r(s,a)
    if mdp.gamma == 1.0:
        stuck = _never_terminating(mdp, P_pi)
        if stuck.any():
            raise ValueError(
                "with gamma = 1 the values diverge under this policy: from states "
                f"{_describe_states(mdp, np.flatnonzero(stuck))} it never reaches a terminal "
                "state (e.g. it walks into a wall forever), so (I - P^pi) is singular. Use "
                "gamma < 1, or change the policy in those states so that every state "
                "eventually reaches a terminal state (the uniform random policy often does).")
    n = ~mdp.terminal                            # solve for the non-terminal states only
    V = np.zeros(mdp.n_states)
    A = np.eye(n.sum()) - mdp.gamma * P_pi[np.ix_(n, n)]   # I − γ P^π (non-terminal block)
    V[n] = np.linalg.solve(A, r_pi[n])                      # (I − γ P^π) V = r^π
    residual = np.max(np.abs(bellman_expectation_backup(mdp, pi, V) - V))
    if not residual <= tol * max(1.0, np.max(np.abs(V))):
        raise ValueError(f"policy_evaluation: the linear system is numerically singular (Bellman "
                         f"residual {residual:.3g} > tol = {tol:g}). The values are (nearly) "
                         "infinite; use a smaller gamma or a policy that terminates sooner.")
    return V


def value_iteration(mdp, tol=1e-10, max_iter=100_000):
    r"""Optimal values and an optimal policy by value iteration.

    $$V_{k+1} = T^* V_k, \quad V_0 = 0, \quad\text{i.e.}\quad
      V_{k+1}(s) = \max_a \Big[ r(s,a) + \gamma \sum_{s'} P(s' \mid s,a)\, V_k(s') \Big],$$

    until $\max_s |V_{k+1}(s) - V_k(s)| <$ ``tol``; then $\pi = $ :func:`greedy_policy`
    of the final $V$. Derived in the chapter Key concepts and MDPs ({ref}`ch-mdps`),
    eq. {eq}`eq-value-iteration` {cite}`bellman1957`.
    For $\gamma < 1$, $T^*$ is a $\gamma$-contraction, so the error of the result is at most
    $\gamma\,$``tol``$/(1-\gamma)$.

    mdp: a :class:`TabularMDP`. Returns ``(V, pi)``: V shape (S,) float, pi shape (S,) int.
    Raises ``RuntimeError`` if the values have not converged after ``max_iter`` backups
    (with $\gamma = 1$: some policy collects reward forever, or never reaches a terminal
    state while losing reward — the optimal values are infinite).
    """
    V, delta = np.zeros(mdp.n_states), np.inf
    for _ in range(max_iter):
        V_new = bellman_optimality_backup(mdp, V)   # V_{k+1} = T* V_k
        delta = np.max(np.abs(V_new - V))           # max_s |V_{k+1}(s) − V_k(s)|
        V = V_new
        if delta < tol:
            return V, greedy_policy(mdp, V)
    raise RuntimeError(
        f"value_iteration did not converge in max_iter = {max_iter} backups (last change "
        f"max|V_k+1 - V_k| = {delta:.3g} >= tol = {tol:g}). Raise max_iter or tol; with "
        "gamma = 1 the optimal values may be infinite (use gamma < 1).")


def policy_iteration(mdp, max_iter=1000, pi0=None):
    r"""Optimal values and an optimal policy by Howard's policy iteration {cite}`howard1960`.

    Starting from $\pi_0$, alternate

    * evaluation: $V^{\pi_k}$ from :func:`policy_evaluation` (an exact linear solve), and
    * improvement: $\pi_{k+1}(s) = \arg\max_a Q^{\pi_k}(s,a)$, with
      $Q^{\pi_k}$ = :func:`q_from_v` of $V^{\pi_k}$,

    until no state can improve. Derived in the chapter Key concepts and MDPs ({ref}`ch-mdps`),
    eq. {eq}`eq-policy-iteration`. A state switches action only when the best action beats
    the current one by more than round-off (the tie tolerance of :func:`greedy_policy`), so
    the loop cannot flip-flop between equally good actions; every switch strictly improves
    the policy, and there are finitely many policies, so it stops.

    mdp:  a :class:`TabularMDP`.
    pi0:  the initial deterministic policy, int array (S,); default action 0 in every state.
          With $\gamma = 1$ that default may never terminate (e.g. always LEFT in a grid),
          which makes its values infinite; then the first evaluation uses the uniform random
          policy instead, and $\pi_1$ is greedy with respect to its values. An explicit ``pi0``
          that never terminates raises ``ValueError`` (from :func:`policy_evaluation`).
    Returns ``(V, pi)``: $V^*$ shape (S,), pi shape (S,) int. Where several actions are
    optimal, pi is :func:`greedy_policy` of $V^*$ (lowest action index), as in
    :func:`value_iteration`; should that policy not terminate with $\gamma = 1$ (possible
    only through zero-reward cycles), the final policy of the iteration is returned instead.
    Raises ``RuntimeError`` if the policy is still changing after ``max_iter`` improvements.
    """
    S, states = mdp.n_states, np.arange(mdp.n_states)
    if pi0 is not None:
        if np.ndim(pi0) != 1:
            raise ValueError(f"pi0 must be a deterministic policy: an int array of shape ({S},) "
                             f"of actions; got shape {np.shape(pi0)}.")
        pi = np.argmax(_policy_matrix(mdp, pi0), axis=1)                # validated copy
    else:
        pi = np.zeros(S, dtype=int)                                     # π_0(s) = action 0
        if mdp.gamma == 1.0 and _never_terminating(mdp, mdp.P[:, 0, :]).any():
            V = policy_evaluation(mdp, uniform_random_policy(mdp))      # a finite V to start
            pi = greedy_policy(mdp, V)                                  # π_1 = greedy(V^random)
    for _ in range(max_iter):
        V = policy_evaluation(mdp, pi)                                  # V^{π_k}
        Q = q_from_v(mdp, V)                                            # Q^{π_k}(s,a)
        best = greedy_policy(mdp, V)                                    # argmax_a Q^{π_k}(s,a)
        improves = Q[states, best] > Q[states, pi] + _tie_tolerance(Q)  # strictly better?
        if not improves.any():                                          # π_k is greedy: optimal
            if mdp.gamma < 1.0 or not _never_terminating(mdp, mdp.P[states, best]).any():
                pi = best
            return V, pi
        pi = np.where(improves, best, pi)                               # π_{k+1}(s) = argmax_a Q
    raise RuntimeError(f"policy_iteration: the policy still changed after max_iter = {max_iter} "
                       "improvement steps; raise max_iter.")


# --------------------------------------------------------------------------------------------
# Example MDPs (Sutton & Barto 2018)
# --------------------------------------------------------------------------------------------
def _grid_moves(n_rows, n_cols):
    """For every cell s and action a of the grid: (next cell, whether the move left the grid)."""
    nxt = np.zeros((n_rows * n_cols, 4), dtype=int)
    off = np.zeros((n_rows * n_cols, 4), dtype=bool)
    for s in range(n_rows * n_cols):
        row, col = divmod(s, n_cols)
        for a, (drow, dcol) in enumerate(_GRID_ACTION_DELTAS):
            r2, c2 = row + drow, col + dcol
            if 0 <= r2 < n_rows and 0 <= c2 < n_cols:
                nxt[s, a] = r2 * n_cols + c2
            else:                                  # off the grid: stay where you are
                nxt[s, a], off[s, a] = s, True
    return nxt, off


def gridworld_5x5(gamma=0.9):
    r"""The 5x5 grid world of Sutton & Barto (2018), Example 3.5 {cite}`sutton2018`.

    Used in the chapter Key concepts and MDPs ({ref}`ch-mdps`). States are the 25 cells,
    numbered row-major ($s = 5\,\text{row} + \text{col}$); actions LEFT, DOWN, RIGHT, UP
    (0, 1, 2, 3, the order of FrozenLake); moves are deterministic. A move off the grid
    leaves the state unchanged with reward −1. From A = (0, 1) every action moves to
    A' = (4, 1) with reward +10; from B = (0, 3) every action moves to B' = (2, 3) with
    reward +5. Every other move has reward 0. No terminal states (a continuing task),
    so gamma must be < 1. Values: Figures 3.2 ($V^\pi$ of the random policy) and 3.5 ($V^*$).
    """
    n = 5
    nxt, off = _grid_moves(n, n)
    R = np.where(off, -1.0, 0.0)                   # −1 for bumping into the edge
    A_, A_prime, B_, B_prime = 0 * n + 1, 4 * n + 1, 0 * n + 3, 2 * n + 3
    nxt[A_], R[A_] = A_prime, 10.0                 # A → A', +10, whatever the action
    nxt[B_], R[B_] = B_prime, 5.0                  # B → B', +5
    P = np.zeros((n * n, 4, n * n))
    P[np.arange(n * n)[:, None], np.arange(4)[None, :], nxt] = 1.0
    return TabularMDP(P, R, gamma, grid_shape=(n, n), action_deltas=_GRID_ACTION_DELTAS,
                      action_names=_GRID_ACTION_NAMES)


def gridworld_4x4(gamma=1.0):
    r"""The 4x4 grid world of Sutton & Barto (2018), Example 4.1 {cite}`sutton2018`.

    Used in the chapter Key concepts and MDPs ({ref}`ch-mdps`). Cells numbered row-major;
    the corners 0 = (0, 0) and 15 = (3, 3) are terminal; actions LEFT, DOWN, RIGHT, UP
    (0, 1, 2, 3); every transition has reward −1; a move off the grid leaves the state
    unchanged. An undiscounted episodic task ($\gamma = 1$): $V^*(s)$ is minus the number of
    steps to the nearest terminal corner, and Figure 4.1 lists $V^\pi$ of the random policy.
    """
    n = 4
    nxt, _ = _grid_moves(n, n)
    P = np.zeros((n * n, 4, n * n))
    P[np.arange(n * n)[:, None], np.arange(4)[None, :], nxt] = 1.0
    R = np.full((n * n, 4), -1.0)                  # −1 per step until the episode ends
    return TabularMDP(P, R, gamma, terminal=[0, n * n - 1], grid_shape=(n, n),
                      action_deltas=_GRID_ACTION_DELTAS, action_names=_GRID_ACTION_NAMES)
