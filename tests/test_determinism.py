"""Determinism: every algorithm of the benchmark, trained twice with the same seed on CPU, gives
the identical history and identical final weights; a different seed gives a different one.

One short run per algorithm (a few thousand environment steps, enough for several updates).
Every algorithm's ``make_agent(env, config)`` rebuilds its trained agent from the weights alone
(what ``rlnotes.load`` does).
A3C runs with one worker: with two or more, the order in which workers apply their gradients
to the shared networks depends on the operating system's scheduling, so only a one-worker run
can be reproduced exactly (see rlnotes.algos.a3c).
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

from rlnotes.bench import ALGOS
from rlnotes.rollout import make_vec_env

STEPS = {"reinforce": 3000, "ppo": 2048, "ppo-pendulum": 2048, "dqn": 2500, "a2c": 2000,
         "a3c": 2000, "ddpg": 2000}
OVERRIDES = {"a3c": {"n_workers": 1}}


def _modules(agent):
    """Every torch module an agent holds (the agent itself if it is one), by attribute name."""
    if isinstance(agent, torch.nn.Module):
        return {"agent": agent}
    found = {k: v for k, v in vars(agent).items() if isinstance(v, torch.nn.Module)}
    assert found, f"{type(agent).__name__} holds no torch module to compare"
    return found


def _weights(agent):
    return {f"{name}.{k}": v.detach().clone() for name, m in _modules(agent).items()
            for k, v in m.state_dict().items()}


def _train(algo, seed):
    module_name, env_id, _ = ALGOS[algo]
    module = importlib.import_module(module_name)
    # None: the algorithm's default for env_id, as `python -m rlnotes bench` uses it
    config = module.Config(**OVERRIDES[algo]) if algo in OVERRIDES else None
    return module.train(env_id, config=config, seed=seed, total_steps=STEPS.get(algo, 2000),
                        progress=False)


@pytest.mark.parametrize("algo", list(ALGOS))
def test_same_seed_same_history_and_weights(algo):
    a, b = _train(algo, seed=3), _train(algo, seed=3)
    assert a.history, f"{algo}: the short run finished no episode; raise STEPS[{algo!r}]"
    assert [h[:2] for h in a.history] == [h[:2] for h in b.history], \
        f"{algo}: two runs with seed 3 differ"
    wa, wb = _weights(a.agent), _weights(b.agent)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), f"{algo}: final weights {k} differ between two runs"
    c = _train(algo, seed=4)
    assert [h[:2] for h in c.history] != [h[:2] for h in a.history] or \
        any(not torch.equal(wa[k], v) for k, v in _weights(c.agent).items()), \
        f"{algo}: seed 4 gave exactly the run of seed 3 — the seed is ignored"


@pytest.mark.parametrize("algo", list(ALGOS))
def test_make_agent_rebuilds_the_trained_agent_from_its_state_dicts(algo):
    """``module.make_agent(env, config)`` builds an untrained agent of the trained one's shape;
    loading the trained agent's state_dicts into its modules gives the same greedy actions."""
    module = importlib.import_module(ALGOS[algo][0])
    trained = _train(algo, seed=3)
    env = make_vec_env(trained.env_id, n_envs=1, seed=0)
    fresh = module.make_agent(env, trained.config)
    env.close()
    assert type(fresh) is type(trained.agent)
    space = env.single_observation_space
    space.seed(1)
    obs = np.stack([space.sample() for _ in range(256)])
    greedy = trained.agent.act(obs, deterministic=True)
    src, dst = _modules(trained.agent), _modules(fresh)
    assert src.keys() == dst.keys()
    assert not np.array_equal(fresh.act(obs, deterministic=True), greedy) or \
        any(not torch.equal(v, _weights(trained.agent)[k]) for k, v in _weights(fresh).items()), \
        f"{algo}: make_agent returned the trained weights, not an untrained agent"
    for name, module_ in dst.items():
        module_.load_state_dict(src[name].state_dict())
    np.testing.assert_array_equal(fresh.act(obs, deterministic=True), greedy)
