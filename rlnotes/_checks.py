r"""Input checks for the math of :mod:`rlnotes`: validation at the boundary, out of the equations.

The public functions of :mod:`rlnotes.returns`, :mod:`rlnotes.policies` and
:mod:`rlnotes.estimators` keep their bodies to the math the chapters derive; everything that
checks and converts their inputs lives here, and every error says what was wrong and names the
fix. Two decorators serve :mod:`rlnotes.returns`:

* :func:`checked_episode` — ``rewards`` is one episode, shape (T,); the function body gets it as
  a float64 numpy array, ``gamma`` as a float in [0, 1], and an array it returns goes back to the
  type of ``rewards`` (numpy or torch, with its floating dtype);
* :func:`checked_rollout` — every argument but ``gamma`` and ``lam`` is an array of one shape,
  (T,) or (T, N), time first; the body gets float64 numpy arrays (``terminated``/``truncated``
  as 0.0/1.0), and its array result goes back to a torch tensor if any input was one, else numpy.

The other helpers are called on the first line of a function and return its inputs converted.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np
import torch

_SPACE_TYPES = ("Box", "Discrete", "MultiDiscrete", "Dict", "MultiBinary", "Tuple")


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------
def discount(gamma, who):
    """gamma as a float in [0, 1]."""
    try:
        gamma = float(gamma)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: gamma must be a number in [0, 1]; got {gamma!r}.") from None
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"{who}: gamma must be a discount factor in [0, 1]; got {gamma}. "
                         "Typical choices are 0.99, or 1 for the undiscounted return.")
    return gamma


def unit_interval(x, name, who):
    """x as a float in [0, 1]."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: {name} must be a number in [0, 1]; got {x!r}.") from None
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{who}: {name} must be in [0, 1]; got {x}.")
    return x


def positive_int(n, name, who, example=None):
    """n as an int >= 1; a gymnasium space passed instead of its size gets a hint."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        kind = type(n).__name__
        extra = ""
        if kind in _SPACE_TYPES:
            extra = (" You passed a gymnasium space; pass its size, or build the policy "
                     "with make_policy(env.observation_space, env.action_space).")
            if name == "n_actions" and kind != "Discrete":
                extra += (" Note: a categorical policy needs a Discrete action space; "
                          "CartPole-v1 has Discrete(2), Pendulum-v1 has Box(-2.0, 2.0, (1,)) — "
                          "use DiagGaussianPolicy (or make_policy) for Box actions.")
        example = f" ({example})" if example else ""
        raise ValueError(f"{who} needs {name} to be a positive int{example}; got {n!r}.{extra}")
    return int(n)


def positive(x, name, who, hint):
    """x as a float > 0 (bool and non-numbers rejected)."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not x > 0:
        raise ValueError(f"{who} needs {name} > 0 ({hint}); got {x!r}.")
    return float(x)


def non_negative(x, name, who, hint):
    """x as a finite float >= 0."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{who} needs {name} as a number >= 0; got {x!r}.") from None
    if not (x >= 0.0 and np.isfinite(x)):
        raise ValueError(f"{who} needs a finite {name} >= 0 ({hint}); got {x}.")
    return x


# --------------------------------------------------------------------------------------------
# Returns: one episode, or a rollout of T steps of N environments
# --------------------------------------------------------------------------------------------
def episode_rewards(rewards, who):
    """-> (float64 numpy array (T,), function turning a float64 (T,) array into the input's type)."""
    if isinstance(rewards, torch.Tensor):
        like = rewards
        arr = rewards.detach().cpu().numpy().astype(np.float64)
        dtype = like.dtype if like.is_floating_point() else torch.get_default_dtype()

        def back(out):
            return torch.as_tensor(out, dtype=dtype, device=like.device)
    else:
        try:
            arr = np.asarray(rewards)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{who} needs the rewards of one episode as a numpy array, torch "
                             f"tensor or list of numbers; np.asarray failed with: {err}") from None
        dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{who} needs numeric rewards; got an array of dtype {arr.dtype}."
                             ) from None

        def back(out):
            return out.astype(dtype, copy=False)
    if arr.ndim != 1:
        raise ValueError(
            f"{who} needs the rewards of one episode, shape (T,); got shape {arr.shape}. Call it "
            "once per episode (episodes have different lengths, so a (T, n_envs) array from a "
            "vector env mixes several of them); a (T, 1) array can be flattened with "
            "rewards.reshape(-1).")
    if arr.size == 0:
        raise ValueError(f"{who} got an empty reward sequence; an episode has at least one step "
                         "(T >= 1). Skip empty episodes, or check that the rollout records one "
                         "reward per env.step.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{who}: the rewards contain NaN or inf (first at t = "
                         f"{int(np.flatnonzero(~np.isfinite(arr))[0])}); every reward must be a "
                         "finite number. Check the environment or the wrapper that produced it.")
    return arr, back


def rollout_arrays(who, **arrays):
    """Check (T,) / (T, N) arrays of one shape -> (dict of float64 numpy arrays, back-converter).

    The output type follows the first torch tensor among the inputs (its floating dtype), else
    numpy (the floating dtype of ``values`` or ``rewards``, float64 otherwise).
    """
    like = next((a for a in arrays.values() if isinstance(a, torch.Tensor)), None)
    out, shapes = {}, {}
    for name, a in arrays.items():
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        try:
            a = np.asarray(a)
            if a.dtype == object:
                raise TypeError
            out[name] = a.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{who}: {name} must be a numeric numpy array, torch tensor or list; "
                             f"got {type(arrays[name]).__name__}.") from None
        shapes[name] = a.shape
    first = next(iter(shapes.values()))
    if any(s != first for s in shapes.values()) or len(first) not in (1, 2) or first[0] == 0:
        raise ValueError(
            f"{who} needs arrays of one shape, (T,) for one env or (T, N) for N envs stepped "
            f"together (time first), T >= 1; got " + ", ".join(f"{k} {v}" for k, v in shapes.items())
            + ". next_values[t] is V(s_{t+1}), the value of the observation that followed step t "
            "(for a truncated step: of the true final observation, info['final_obs']).")
    for name, a in out.items():
        if not np.isfinite(a).all():
            raise ValueError(
                f"{who}: {name} contains NaN or inf (first at index "
                f"{tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])}); check the environment "
                f"(a reward or observation) or the value network (a diverging critic) that "
                f"produced it.")
    for name in ("terminated", "truncated"):
        if name in out and not np.isin(out[name], (0.0, 1.0)).all():
            raise ValueError(f"{who}: {name} must hold booleans (or 0/1); got other values.")
    if like is not None:
        dtype = like.dtype if like.is_floating_point() else torch.get_default_dtype()

        def back(x):
            return torch.as_tensor(x, dtype=dtype, device=like.device)
    else:
        ref = next((np.asarray(arrays[k]) for k in ("values", "rewards") if k in arrays), None)
        dtype = ref.dtype if ref is not None and np.issubdtype(ref.dtype, np.floating) else np.float64

        def back(x):
            return x.astype(dtype, copy=False)
    return out, back


def checked_episode(func):
    """Decorator for a function of one episode's ``rewards`` and a discount ``gamma``.

    ``rewards`` (numpy, torch or list, shape (T,), T >= 1, finite) reaches the body as a float64
    numpy array and ``gamma`` as a float in [0, 1]; an array the body returns is converted back
    to the type of ``rewards`` (a float result is returned as it is).
    """
    signature = inspect.signature(func)

    @functools.wraps(func)
    def checked(*args, **kwargs):
        call = signature.bind(*args, **kwargs)
        call.apply_defaults()
        call.arguments["rewards"], back = episode_rewards(call.arguments["rewards"], func.__name__)
        call.arguments["gamma"] = discount(call.arguments["gamma"], func.__name__)
        out = func(*call.args, **call.kwargs)
        return back(out) if isinstance(out, np.ndarray) else out
    return checked


def checked_rollout(func):
    """Decorator for a function of rollout arrays (every argument but ``gamma`` and ``lam``).

    The arrays (numpy, torch or lists of one shape, (T,) or (T, N) with time first, finite;
    ``terminated`` and ``truncated`` boolean) reach the body as float64 numpy arrays, ``gamma``
    and ``lam`` as floats in [0, 1]; the body's array result is converted back to a torch tensor
    (no graph) if any input was one, else to numpy.
    """
    signature = inspect.signature(func)
    names = [name for name in signature.parameters if name not in ("gamma", "lam")]

    @functools.wraps(func)
    def checked(*args, **kwargs):
        call = signature.bind(*args, **kwargs)
        call.apply_defaults()
        arrays, back = rollout_arrays(func.__name__, **{k: call.arguments[k] for k in names})
        call.arguments.update(arrays)
        call.arguments["gamma"] = discount(call.arguments["gamma"], func.__name__)
        if "lam" in call.arguments:
            call.arguments["lam"] = unit_interval(call.arguments["lam"], "lam", func.__name__)
        return back(func(*call.args, **call.kwargs))
    return checked


# --------------------------------------------------------------------------------------------
# Policies: networks, observations, actions
# --------------------------------------------------------------------------------------------
def layer_sizes(sizes):
    """[in, h1, ..., out] as a list of at least two positive ints."""
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"mlp needs sizes = [in, h1, ..., out] with at least two positive "
                         f"ints, e.g. [4, 64, 64, 2]; got {sizes}.")
    return sizes


def parameter_pairs(target, source, who):
    """The (target parameter, source parameter) pairs of two networks of one architecture."""
    targets, sources = list(target.parameters()), list(source.parameters())
    if len(targets) != len(sources) or any(pt.shape != p.shape for pt, p in zip(targets, sources)):
        raise ValueError(
            f"{who} needs a target network with the architecture of its source (build it with "
            f"target = copy.deepcopy(source)); got parameter shapes "
            f"{[tuple(p.shape) for p in targets]} for the target and "
            f"{[tuple(p.shape) for p in sources]} for the source.")
    return zip(targets, sources)


def observations(obs, obs_dim, who):
    """numpy / torch / list -> float32 tensor of shape (obs_dim,) or (B, obs_dim)."""
    obs = torch.as_tensor(obs, dtype=torch.float32)
    if obs.dim() not in (1, 2) or obs.shape[-1] != obs_dim:
        hint = ""
        if obs.dim() > 2:
            hint = (" Flatten image-like observations first (gymnasium.wrappers."
                    "FlattenObservation); a vector env gives (n_envs, obs_dim).")
        elif obs.dim() >= 1:
            hint = (" Is the policy built for this environment? Build it with make_policy("
                    "env.observation_space, env.action_space) so obs_dim matches.")
        raise ValueError(f"{who} expects observations of shape (obs_dim,) or (batch, obs_dim) = "
                         f"({obs_dim},) or (B, {obs_dim}); got {tuple(obs.shape)}.{hint}")
    return obs


def _one_action_per_observation(act_shape, expected, who, obs_shape):
    if tuple(act_shape) != tuple(expected):
        raise ValueError(f"{who} expects actions of shape {tuple(expected)} to match observations "
                         f"of shape {tuple(obs_shape)}; got {tuple(act_shape)}. Pass one action per "
                         "observation (a mismatch here would silently broadcast to a wrong result)."
                         + (" Reshape with act.reshape(-1, 1) for a 1-D action space."
                            if len(expected) == 2 and expected[1] == 1 and len(act_shape) == 1
                            else ""))


def action_indices(act, obs, n_actions, who):
    """Actions of a categorical policy -> int64 tensor of shape obs.shape[:-1], entries in 0..A-1."""
    act = torch.as_tensor(act)
    _one_action_per_observation(act.shape, obs.shape[:-1], who, obs.shape)
    if act.is_floating_point():
        if not torch.equal(act, act.round()):
            raise ValueError(
                f"{who} expects integer actions in {{0, ..., {n_actions - 1}}}; got non-integer "
                f"values such as {act[act != act.round()].flatten()[0].item():g}. Continuous "
                "actions need a DiagGaussianPolicy (make_policy chooses it for a Box action space).")
    elif act.dtype == torch.bool:
        raise ValueError(f"{who} expects integer actions; got booleans. Convert with act.long() if "
                         "they are action indices 0/1.")
    act = act.long()
    if act.numel() and (act.min() < 0 or act.max() >= n_actions):
        bad = act[(act < 0) | (act >= n_actions)].flatten()[0].item()
        raise ValueError(f"action {bad} is out of range for a CategoricalPolicy with "
                         f"n_actions = {n_actions} (valid: 0 ... {n_actions - 1}). "
                         "Check that the actions come from this environment.")
    return act


def continuous_actions(act, mean, obs_dim, who):
    """Actions of a Gaussian policy -> tensor of mean's dtype and shape (one per observation)."""
    act = torch.as_tensor(act, dtype=mean.dtype)
    _one_action_per_observation(act.shape, mean.shape, who, (*mean.shape[:-1], obs_dim))
    return act


# --------------------------------------------------------------------------------------------
# Estimators: samples, log-probabilities, weights
# --------------------------------------------------------------------------------------------
def parameter_tensor(theta, who):
    """theta as a detached copy of a float torch tensor."""
    if not isinstance(theta, torch.Tensor) or not theta.is_floating_point():
        raise ValueError(f"{who} needs theta as a float torch tensor, e.g. "
                         f"torch.tensor([0.5, 0.0], dtype=torch.float64); got {theta!r}.")
    return theta.detach().clone()


def one_value_per_sample(fx, x, theta):
    """f(x) as a tensor of theta's dtype and shape (N,), N = len(x)."""
    fx = torch.as_tensor(fx, dtype=theta.dtype)
    N = x.shape[0]
    if fx.shape != (N,):
        raise ValueError(
            f"f must return one value per sample, shape (N,) = ({N},); got shape "
            f"{tuple(fx.shape)} for samples of shape {tuple(x.shape)}. Reduce over the sample "
            "dimensions inside f, e.g. f = lambda x: (x ** 2).sum(-1), and do not average "
            "over the N samples (the estimator does that).")
    return fx


def baseline_like(baseline, theta):
    """A baseline as a tensor of theta's dtype: a number (shape ()) or one per parameter."""
    b = torch.as_tensor(baseline, dtype=theta.dtype)
    if b.shape not in ((), theta.shape):
        raise ValueError(f"baseline must be a number or a tensor of theta's shape "
                         f"{tuple(theta.shape)} (one per parameter); got shape {tuple(b.shape)}.")
    return b


def _log_prob_tensor(logp, who):
    if not isinstance(logp, torch.Tensor) or not logp.is_floating_point():
        raise ValueError(f"{who} needs logp as a float torch tensor with an autograd graph, e.g. "
                         f"policy.log_prob(obs, act); got {type(logp).__name__}.")


def _same_shape(a, b, who, name_a, name_b):
    if a != b:
        raise ValueError(f"{who} needs {name_a} and {name_b} of the same shape (one entry per "
                         f"sample); got {a} and {b}. Flatten both with .reshape(-1) (an (N, 1) "
                         "against an (N,) would broadcast to (N, N) silently).")


def _non_empty(logp, who, hint=""):
    if logp.numel() == 0:
        raise ValueError(f"{who} got an empty batch (N = 0){hint}.")


def weights_for(logp, weights, who):
    """logp: float tensor (N,) with graph; weights -> a detached tensor of logp's dtype, shape (N,)."""
    _log_prob_tensor(logp, who)
    weights = torch.as_tensor(weights, dtype=logp.dtype, device=logp.device).detach()
    if weights.shape != logp.shape or logp.dim() != 1:
        raise ValueError(
            f"{who} needs logp and weights of the same shape (N,); got logp "
            f"{tuple(logp.shape)} and weights {tuple(weights.shape)}. Flatten both with "
            ".reshape(-1) (an (N, 1) against an (N,) would broadcast to (N, N) silently).")
    _non_empty(logp, who, "; collect at least one step")
    return weights


def ppo_inputs(logp, logp_old, adv, who):
    """logp: tensor with graph; logp_old, adv -> detached tensors of logp's dtype, same shape (N,)."""
    _log_prob_tensor(logp, who)
    logp_old = torch.as_tensor(logp_old, dtype=logp.dtype, device=logp.device).detach()
    adv = torch.as_tensor(adv, dtype=logp.dtype, device=logp.device).detach()
    if logp.dim() != 1 or logp_old.shape != logp.shape or adv.shape != logp.shape:
        raise ValueError(
            f"{who} needs logp, logp_old and adv of the same shape (N,); got "
            f"{tuple(logp.shape)}, {tuple(logp_old.shape)} and {tuple(adv.shape)}. Flatten them "
            "with .reshape(-1) (an (N, 1) against an (N,) would broadcast to (N, N) silently).")
    _non_empty(logp, who)
    return logp_old, adv


def log_prob_pair(logp_target, logp_behavior, who):
    """Two log-probabilities of one shape: torch tensors if either is one (logp_behavior
    detached, dtype of the first tensor), else float numpy arrays."""
    if isinstance(logp_target, torch.Tensor) or isinstance(logp_behavior, torch.Tensor):
        like = logp_target if isinstance(logp_target, torch.Tensor) else logp_behavior
        dtype = like.dtype if like.is_floating_point() else torch.get_default_dtype()
        lt = torch.as_tensor(logp_target, dtype=dtype, device=like.device)
        lb = torch.as_tensor(logp_behavior, dtype=dtype, device=like.device).detach()
        _same_shape(tuple(lt.shape), tuple(lb.shape), who, "logp_target", "logp_behavior")
        return lt, lb
    lt, lb = np.asarray(logp_target, dtype=float), np.asarray(logp_behavior, dtype=float)
    _same_shape(lt.shape, lb.shape, who, "logp_target", "logp_behavior")
    return lt, lb


def gradient_rows(grad_logp, returns, who):
    """-> (g: numpy (N, P) or (N,), R: numpy (N,), back: numpy -> the type of grad_logp)."""
    is_torch = isinstance(grad_logp, torch.Tensor)
    g = grad_logp.detach().cpu().numpy() if is_torch else np.asarray(grad_logp, dtype=float)
    R = (returns.detach().cpu().numpy() if isinstance(returns, torch.Tensor)
         else np.asarray(returns, dtype=float))
    if g.ndim not in (1, 2) or R.shape != g.shape[:1] or g.shape[0] == 0:
        raise ValueError(
            f"{who} needs grad_logp of shape (N, P) (one gradient row per sample) "
            f"and returns of shape (N,), N >= 1; got {g.shape} and {R.shape}. Stack the "
            "per-sample gradients with np.stack(rows) and flatten the returns.")

    def back(b):
        return torch.as_tensor(b, dtype=grad_logp.dtype, device=grad_logp.device) if is_torch else b
    return g, R, back


def kl_schedule_inputs(beta, kl, kl_target, who):
    """beta > 0, a finite measured kl and kl_target > 0, as floats."""
    beta, kl, kl_target = float(beta), float(kl), float(kl_target)
    if not kl_target > 0 or not beta > 0:
        raise ValueError(f"{who} needs beta > 0 and kl_target > 0; got beta={beta}, "
                         f"kl_target={kl_target}.")
    if not np.isfinite(kl):
        raise ValueError(f"{who} got kl = {kl}: the policy update diverged (try a smaller "
                         "learning rate).")
    return beta, kl, kl_target
