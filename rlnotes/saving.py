r"""Save a trained agent to one file and load it back: ``rlnotes.save(result, path)``, ``rlnotes.load(path)``.

The file is a ``torch.save`` of one dictionary that holds only tensors and plain data
(``str``, ``int``, ``float``, ``bool``, ``None``, lists and dicts), so it is read with
``torch.load(path, weights_only=True)``: nothing in it can run code when it is loaded.

* ``weights``: the ``state_dict`` of every ``torch.nn.Module`` of the agent (the networks and
  buffers such as PPO's observation statistics) — tensors only, never the agent's class;
  ``agent_settings``: the agent's public attributes that are plain numbers (e.g. DQN's
  exploration rate $\varepsilon$ at the end of training);
* ``algorithm`` (``"ppo"``, ...), ``env_id``, ``config`` (the fields of the algorithm's
  ``Config``), ``seed``, ``history``, ``wall_time``, ``stats`` of the
  :class:`rlnotes.algos.TrainResult`;
* ``versions`` of rlnotes, torch and gymnasium that wrote the file, the ``format_version`` of
  the layout, and a SHA-256 checksum of everything else (a damaged copy is refused instead of
  being loaded with wrong weights).

:func:`load` rebuilds the agent the way training built it — ``rlnotes.algos.<algorithm>.make_agent(env,
config)`` on ``rlnotes.rollout.make_vec_env(env_id, n_envs=1)`` — and copies the weights in with
``load_state_dict``. The loaded agent acts greedily exactly like the saved one:
``rlnotes.evaluate`` gives the same returns. (Random number generators are not state that is
saved: exploration noise, e.g. DQN's ε-greedy draws, starts from ``make_agent``'s fresh streams.)
Use it like this::

    import rlnotes
    from rlnotes.algos import ppo

    result = ppo.train("CartPole-v1", seed=0)
    rlnotes.save(result, "ppo-cartpole.pt")
    result = rlnotes.load("ppo-cartpole.pt")           # later, in another process
    rlnotes.evaluate(result.agent, result.env_id)

or from the command line: ``python -m rlnotes train ppo --save ppo-cartpole.pt``, then
``python -m rlnotes evaluate ppo-cartpole.pt``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import pickle
import secrets
import warnings
import zipfile

import numpy as np
import torch
from torch import nn

__all__ = ["FORMAT", "FORMAT_VERSION", "save", "load"]

#: the value of the file's ``"format"`` entry: what marks a file as written by :func:`save`
FORMAT = "rlnotes.save"
#: the layout version :func:`save` writes; :func:`load` reads this one and every older one
FORMAT_VERSION = 1
#: what a file of FORMAT_VERSION holds
_KEYS = ("format", "format_version", "algorithm", "env_id", "config", "seed", "history", "wall_time", "stats",
         "versions", "agent_settings", "weights", "sha256")


# --------------------------------------------------------------------------------------------
# The pieces of a file: the agent's modules, plain data, a checksum
# --------------------------------------------------------------------------------------------
def _modules(agent):
    """The agent's networks by name: ``{"agent": agent}`` for an ``nn.Module`` agent, else its
    attributes that are modules (e.g. DQN's ``q_net``; DDPG's ``actor`` and ``critic``)."""
    if isinstance(agent, nn.Module):
        return {"agent": agent}
    return {name: m for name, m in sorted(vars(agent).items()) if isinstance(m, nn.Module)}


def _weights(agent):
    """``{module name: {tensor name: tensor}}``, the state_dicts of :func:`_modules`."""
    return {name: dict(m.state_dict()) for name, m in _modules(agent).items()}


def _settings(agent):
    """The agent's public attributes that are plain numbers, flags or strings (e.g. DQN's
    exploration rate ``epsilon``): saved beside the weights and set again on load."""
    mode = {"training"} if isinstance(agent, nn.Module) else set()     # nn.Module's train/eval flag
    return {k: v for k, v in sorted(vars(agent).items())
            if not k.startswith("_") and k not in mode and isinstance(v, (bool, int, float, str))}


def _plain(value, where):
    """``value`` as plain data: numpy scalars and arrays become Python numbers and lists, tuples
    become lists; anything else that is not str/int/float/bool/None/list/dict is refused."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(list(value))]
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ValueError(f"{where} has a key {bad[0]!r} that is not a string; save stores dicts with str keys")
        return {k: _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise ValueError(f"{where} is a {type(value).__name__} ({value!r}); save stores only str, int, float, "
                    f"bool, None, lists and dicts of them. Convert it (e.g. float(x)) before saving")


def _tuples(value):
    """The inverse of :func:`_plain` for Configs: lists back to tuples (Configs hold tuples)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _checksum(content):
    """SHA-256 of everything in the file but the checksum itself: the plain data as sorted JSON,
    then each tensor's name, dtype, shape and bytes."""
    h = hashlib.sha256()
    plain = {k: v for k, v in content.items() if k not in ("weights", "sha256")}
    h.update(json.dumps(plain, sort_keys=True).encode())
    for module, state in sorted(content["weights"].items()):
        for name, t in sorted(state.items()):
            t = t.detach().cpu().contiguous()
            h.update(f"{module}.{name} {t.dtype} {tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _algorithm_module(name, versions=None):
    """``rlnotes.algos.<name>``, with its ``Config`` and ``make_agent``; a clear error if absent."""
    from . import __version__

    saved_with = f" The file was written by rlnotes {versions.get('rlnotes')}" if versions else ""
    try:
        if not (isinstance(name, str) and name.isidentifier()):
            raise ImportError(name)
        module = importlib.import_module(f"rlnotes.algos.{name}")
    except ImportError:
        raise ValueError(f"this file holds a {name!r} agent, and rlnotes {__version__} has no algorithm "
                         f"rlnotes.algos.{name}.{saved_with}: install that version of rlnotes to load "
                         f"it.") from None
    if not (callable(getattr(module, "make_agent", None)) and dataclasses.is_dataclass(getattr(module, "Config",
                                                                                                None))):
        raise ValueError(f"rlnotes.algos.{name} (rlnotes {__version__}) has no make_agent(env, config) to "
                         f"rebuild its agent, so it cannot be saved or loaded.{saved_with}")
    return module


def _make_env(env_id):
    """The one-copy vector env ``make_agent`` reads the spaces of; a clear error if it cannot be made.

    Only an id already registered is made: an id such as ``"package:Env-v0"`` would import
    ``package``, and a file must not be able to choose what :func:`load` imports."""
    import gymnasium as gym

    from .rollout import make_vec_env

    module, _, name = str(env_id).rpartition(":")
    if name not in gym.registry:
        how = f"import {module} first" if module else "import the module that registers it first"
        raise ValueError(f"the agent was trained on the environment {env_id!r}, which is not registered "
                         f"here: {how}, or install the package that provides it.")
    try:
        return make_vec_env(name, n_envs=1)
    except (ValueError, ImportError, gym.error.Error) as err:
        raise ValueError(f"cannot make the environment {env_id!r} the agent was trained on: {err}. "
                         f"Install the package that provides it (e.g. pip install 'gymnasium[box2d]' "
                         f"for Box2D envs), or import the module that registers it before loading.") from None


def _rebuild(module, config, env_id):
    """A fresh agent for ``config`` and ``env_id`` from ``module.make_agent``; torch's global
    random state is left as it was (the initial weights are overwritten anyway)."""
    env = _make_env(env_id)
    try:
        with torch.random.fork_rng(devices=[]):
            return module.make_agent(env, config)
    finally:
        env.close()


def _shapes(weights):
    return {f"{m}.{k}": tuple(t.shape) for m, state in weights.items() for k, t in state.items()}


# --------------------------------------------------------------------------------------------
# save and load
# --------------------------------------------------------------------------------------------
def save(result, path):
    r"""Write ``result`` (a :class:`rlnotes.algos.TrainResult`) to the file ``path``.

    The file holds the agent's weights (tensors) and, as plain data, the algorithm, env id,
    Config, seed, history, wall time, stats and the versions of rlnotes, torch and gymnasium
    (see the module). It is written to a temporary file beside ``path`` and then renamed, so
    an interrupted save never leaves a half-written file. Before writing, the agent is rebuilt
    with ``make_agent`` to check that :func:`load` will fit the weights back.
    Returns ``path``. Raises ValueError (naming the fix) for a result that cannot be saved, and
    FileNotFoundError / IsADirectoryError if ``path``'s folder does not exist or ``path`` is one.
    """
    import gymnasium

    from . import __version__

    config = getattr(result, "config", None)
    if not dataclasses.is_dataclass(config) or not type(config).__module__.startswith("rlnotes.algos."):
        raise ValueError(f"save needs a TrainResult from an rlnotes.algos train(), whose .config is that "
                         f"algorithm's Config; got a {type(result).__name__} with config "
                         f"{type(config).__name__}")
    algorithm = type(config).__module__.rsplit(".", 1)[-1]           # rlnotes.algos.<name>
    module = _algorithm_module(algorithm)
    if not isinstance(result.env_id, str):
        raise ValueError("result.env_id is None: save records the environment the agent was trained on, "
                         "to rebuild the agent on load. Set it first, e.g. result.env_id = 'CartPole-v1' "
                         "(train() sets it).")
    weights = _weights(result.agent)
    if not weights:
        raise ValueError(f"the agent ({type(result.agent).__name__}) has no torch.nn.Module, so there are "
                         f"no weights to save")
    for m, state in weights.items():
        for k, t in state.items():
            if not isinstance(t, torch.Tensor):
                raise ValueError(f"{m}.state_dict()[{k!r}] is a {type(t).__name__}, not a tensor; save "
                                 f"stores tensors only")
    fresh = _shapes(_weights(_rebuild(module, config, result.env_id)))
    if fresh != _shapes(weights):
        raise ValueError(f"the agent's weights do not fit the agent rlnotes.algos.{algorithm}.make_agent "
                         f"builds for this Config and {result.env_id!r}, so load could not rebuild it: "
                         f"saved {sorted(_shapes(weights).items())}, make_agent {sorted(fresh.items())}")

    content = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "algorithm": algorithm,
        "env_id": result.env_id,
        "config": _plain(dataclasses.asdict(config), "config"),
        "seed": _plain(result.seed, "seed"),
        "history": _plain(result.history, "history"),
        "wall_time": _plain(result.wall_time, "wall_time"),
        "stats": _plain(result.stats, "stats"),
        "versions": {"rlnotes": __version__, "torch": str(torch.__version__),
                     "gymnasium": str(gymnasium.__version__)},
        "agent_settings": _settings(result.agent),
        "weights": {m: {k: t.detach().cpu().clone() for k, t in state.items()} for m, state in weights.items()},
    }
    content["sha256"] = _checksum(content)

    head, name = os.path.split(os.path.abspath(os.fspath(path)))
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save to {os.fspath(path)!r}: it is a folder. Give a file name, e.g. "
                                f"{os.path.join(os.fspath(path), 'agent.pt')!r}")
    if not os.path.isdir(head):
        raise FileNotFoundError(f"cannot save to {os.fspath(path)!r}: the folder {head!r} does not exist. "
                                f"Create it first (os.makedirs({head!r}, exist_ok=True)) or choose another path")
    tmp = os.path.join(head, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:
            torch.save(content, f)
        os.replace(tmp, os.fspath(path))                        # all or nothing
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _read(path):
    """The dictionary in ``path``, read with ``weights_only=True``; a clear error for anything else."""
    not_ours = (f"{path!r} is not a file written by rlnotes.save")
    if os.path.isfile(path) and not zipfile.is_zipfile(path):    # rlnotes.save writes torch's zip format
        raise ValueError(f"{not_ours}, or it is truncated or damaged: it is not the zip archive torch.save "
                         f"writes. Save it again, or copy it again if a download or copy was interrupted.")
    try:
        with open(path, "rb") as f:                             # a missing file etc. raise OSError here
            content = torch.load(f, map_location="cpu", weights_only=True)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except pickle.UnpicklingError as err:
        if "weights only load failed" in str(err).lower():
            raise ValueError(f"{not_ours}: it holds Python objects, not only tensors and plain data, and "
                             f"loading them could run code (for example a torch.save of a whole agent). "
                             f"rlnotes.load reads only what rlnotes.save(result, path) wrote: save the "
                             f"TrainResult with it.") from None
        raise ValueError(f"{not_ours}, or it is damaged (torch.load: {err}). Save it again, or copy it again "
                         f"if a download or copy was interrupted.") from None
    except Exception as err:                                    # text, truncated zip, garbage bytes
        raise ValueError(f"{not_ours}, or it is truncated or damaged (torch.load could not read it: "
                         f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}). Save "
                         f"it again, or copy it again if a download or copy was interrupted.") from None
    if not (isinstance(content, dict) and content.get("format") == FORMAT):
        what = type(content).__name__ + (f" with keys {sorted(map(str, content))[:6]}" if isinstance(content, dict)
                                         else "")
        raise ValueError(f"{not_ours}: it holds a {what}. rlnotes.load reads only files that "
                         f"rlnotes.save(result, path) wrote.")
    missing = [k for k in _KEYS if k not in content]
    if missing and isinstance(content.get("format_version"), int) and content["format_version"] <= FORMAT_VERSION:
        raise ValueError(f"{path!r} is damaged: it has no {missing}. Save it again.")
    return content


def load(path):
    r"""Read a file written by :func:`save`; return a :class:`rlnotes.algos.TrainResult`.

    The result has the saved ``history`` (a list of ``(env_step, episode_return,
    wall_seconds)`` tuples), ``config`` (the algorithm's ``Config``), ``wall_time``, ``stats``,
    ``env_id`` and ``seed``, and an ``agent`` rebuilt with the algorithm's ``make_agent`` and
    the saved weights: ``rlnotes.evaluate(result.agent, result.env_id, seed=s)`` gives the same
    returns as the agent that was saved.

    The file is read with ``torch.load(path, weights_only=True)``. Raises ValueError, naming
    the fix, for a file that :func:`save` did not write or that is damaged, a file from a newer
    rlnotes, and an algorithm or environment that is not installed here.
    """
    from . import __version__
    from .algos import TrainResult

    path = os.fspath(path)
    content = _read(path)
    versions = content.get("versions") if isinstance(content.get("versions"), dict) else {}
    if not isinstance(content.get("format_version"), int) or content["format_version"] > FORMAT_VERSION:
        raise ValueError(f"{path!r} was written by a newer rlnotes ({versions.get('rlnotes', '?')}, file format "
                         f"{content.get('format_version')!r}); rlnotes {__version__} reads formats up to "
                         f"{FORMAT_VERSION}. Upgrade rlnotes (pip install -U rlnotes) to load it.")
    if content.get("sha256") != _checksum(content):
        raise ValueError(f"{path!r} is damaged: its contents do not match the checksum written with them. "
                         f"Save it again, or copy it again if a download or copy was interrupted.")

    algorithm, env_id = content["algorithm"], content["env_id"]
    module = _algorithm_module(algorithm, versions)
    names = {f.name for f in dataclasses.fields(module.Config) if f.init}
    saved = content["config"]
    unknown = sorted(set(saved) - names)
    if unknown:
        raise ValueError(f"the Config in {path!r} has fields {unknown} that rlnotes.algos.{algorithm}.Config "
                         f"(rlnotes {__version__}) does not have: the file is not a {algorithm} agent of this "
                         f"rlnotes (it was written by rlnotes {versions.get('rlnotes', '?')}: install that "
                         f"version to load it).")
    missing = sorted(names - set(saved))
    if missing:
        warnings.warn(f"the Config in {path!r} has no fields {missing} (written by rlnotes "
                      f"{versions.get('rlnotes', '?')}); they take this rlnotes' defaults", stacklevel=2)
    try:
        with warnings.catch_warnings():               # a Config's training-budget warnings were given
            warnings.simplefilter("ignore")           # when it trained; loading trains nothing
            config = module.Config(**{k: _tuples(v) for k, v in saved.items()})
    except (TypeError, ValueError) as err:
        raise ValueError(f"the Config in {path!r} is not a valid rlnotes.algos.{algorithm}.Config here: "
                         f"{err}") from None

    agent = _rebuild(module, config, env_id)
    modules, weights = _modules(agent), content["weights"]
    if set(modules) != set(weights):
        raise ValueError(f"the weights in {path!r} are for the modules {sorted(weights)}, but rlnotes "
                         f"{__version__}'s {algorithm} agent has {sorted(modules)}: the file is from "
                         f"another algorithm or rlnotes version ({versions.get('rlnotes', '?')}); install "
                         f"that version to load it.")
    for name, m in modules.items():
        try:
            m.load_state_dict(weights[name])
        except RuntimeError as err:                    # missing, unexpected or mis-shaped tensors
            raise ValueError(f"the weights in {path!r} do not fit rlnotes {__version__}'s {algorithm} agent "
                             f"for its Config and {env_id!r} (they are from another algorithm, Config "
                             f"or rlnotes version, {versions.get('rlnotes', '?')}): "
                             f"{' '.join(str(err).split())[:300]}") from None

    settings = _settings(agent)
    for k, v in content["agent_settings"].items():    # e.g. DQN's ε at the end of training
        if k in settings:
            setattr(agent, k, v)

    history = [tuple(h) for h in content["history"]]            # (env_step, return, seconds)
    return TrainResult(agent=agent, history=history, config=config, wall_time=content["wall_time"],
                       stats=content["stats"], env_id=env_id, seed=content["seed"])

