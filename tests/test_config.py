"""Every algorithm's ``Config``, one table: the shared field checks of :mod:`rlnotes.algos`.

Each field of each Config is listed in ``BAD`` with values it must refuse (and, in ``GOOD``, the
edge values it must accept). A refused value is a ValueError that names the algorithm, the field,
the value and what the field must be; the few rules between fields are checked after them; the
``total_steps`` override of every ``train`` validates like the constructor.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from rlnotes.algos import a2c, a3c, check_fields, ddpg, dqn, ppo, reinforce

ALGOS = {"reinforce": reinforce, "ppo": ppo, "a2c": a2c, "a3c": a3c, "dqn": dqn, "ddpg": ddpg}

NAN, INF = math.nan, math.inf
POS_INT = [0, -1, 2.5, True, "8", None]
POS = [0, 0.0, -1e-3, NAN, INF, True, "1e-3", None]
NON_NEG = [-1e-3, NAN, INF, "0", None]
FLAG = [0, 1, "yes", None]
UNIT = [-0.01, 1.01, NAN, "0.9", None]                       # [0, 1]
SIZES = [(), (0,), (64, -1), (64.5,), 64, "64", None]

#: field -> values every Config that has the field must refuse
BAD = {
    # budget, batch and replay sizes, schedules
    **dict.fromkeys(["total_steps", "n_envs", "batch_steps", "value_iters", "n_steps", "n_epochs",
                     "n_minibatches", "n_workers", "envs_per_worker", "target_update_interval",
                     "buffer_size", "batch_size", "learning_starts", "train_freq",
                     "gradient_steps", "policy_delay", "eval_episodes"], POS_INT),
    **dict.fromkeys(["value_batch_size", "eval_interval"], [0, -1, 2.5, True]),   # None allowed
    # step sizes and positive constants
    **dict.fromkeys(["lr", "value_lr", "actor_lr", "critic_lr", "clip_eps", "kl_target",
                     "kl_beta_init", "reward_scale", "rmsprop_eps", "ou_theta", "ou_dt",
                     "worker_timeout"], POS),
    **dict.fromkeys(["max_grad_norm", "lr_final"], [0, -1.0, NAN, "1"]),   # None allowed
    **dict.fromkeys(["vf_coef", "ent_coef", "noise_std", "target_noise", "target_noise_clip"],
                    NON_NEG),
    "log_std_init": [NAN, INF, "0", None],
    # probabilities, discounts, rates
    **dict.fromkeys(["gamma", "lam", "eps_start", "eps_end"], UNIT),
    "tau": [0.0, -0.1, 1.01, NAN, None],                     # (0, 1]
    "eps_fraction": [0.0, 1.01, None],                       # (0, 1]
    "rmsprop_alpha": [0.0, 1.0, None],                       # (0, 1)
    # switches and choices
    **dict.fromkeys(["reward_to_go", "normalize_advantages", "bootstrap_truncated", "anneal_lr",
                     "clip_value", "normalize_obs", "shared", "double_dqn", "twin_critics"], FLAG),
    "baseline": ["average", None],
    "objective": ["trpo", "CLIP"],
    "optimizer": ["sgd"],
    "loss": ["l1"],
    "noise": ["pink"],
    # networks
    **dict.fromkeys(["hidden_sizes", "value_hidden_sizes"], SIZES),
}

#: field -> values at the edge of the valid range, which must be accepted
GOOD = {"gamma": [0, 1.0], "lam": [0.0, 1], "tau": [1.0, 1e-3], "eps_end": [0.0, 1.0],
        "eps_fraction": [1.0], "max_grad_norm": [None, 10], "lr_final": [None],
        "value_batch_size": [None, np.int64(64)], "eval_interval": [None, 1], "ent_coef": [0.0], "total_steps": [np.int64(7)],
        "hidden_sizes": [[32], (np.int64(8), 8)], "normalize_obs": [np.bool_(True)]}


def cases(table):
    return [pytest.param(algo, name, value, id=f"{algo}-{name}={value!r}")
            for algo, module in ALGOS.items() for f in dataclasses.fields(module.Config)
            if f.name in table for name in [f.name] for value in table[f.name]]


@pytest.mark.parametrize("algo", ALGOS)
def test_defaults_validate_and_every_field_has_a_check(algo):
    config = ALGOS[algo].Config()
    assert dataclasses.replace(config) == config                       # validates again, unchanged
    for f in dataclasses.fields(config):
        assert "ok" in f.metadata, f"{algo}.Config.{f.name} is declared without a check"
        assert f.name in BAD, f"{algo}.Config.{f.name}: add its bad values to this test's table"


def test_a_field_declared_without_a_check_is_refused():
    @dataclasses.dataclass
    class Config:
        lr: float = 0.1                                                   # no learning_rate(...)

        def __post_init__(self):
            check_fields(self)

    with pytest.raises(TypeError, match="Config.lr has no check"):
        Config()


@pytest.mark.parametrize("algo, name, value", cases(BAD))
def test_a_bad_value_names_the_field_the_value_and_the_range(algo, name, value):
    with pytest.raises(ValueError) as info:
        ALGOS[algo].Config(**{name: value})
    message = str(info.value)
    assert message.startswith(f"{algo}.Config.{name} must be "), message
    assert message.endswith(f", got {value!r}"), message


@pytest.mark.parametrize("algo, name, value", cases(GOOD))
def test_values_at_the_edge_of_the_range_are_accepted(algo, name, value):
    config = ALGOS[algo].Config(**{name: value})
    if name == "hidden_sizes":
        assert config.hidden_sizes == tuple(int(h) for h in value)      # stored as a tuple of ints


# (algorithm, fields, part of the message: the hint that names the fix)
HINTS = [
    ("reinforce", dict(lr=-1), r"a learning rate, typical: 1e-3 to 1e-2 with Adam"),
    ("reinforce", dict(value_batch_size=0), r"or None \(the whole batch\)"),
    ("reinforce", dict(gamma=1.5), r"gamma must be a discount in \[0, 1\]"),
    ("ppo", dict(lam=2.0), r"lam must be in \[0, 1\]"),
    ("a2c", dict(hidden_sizes=()), r"e\.g\. \(64, 64\)"),
    ("a2c", dict(max_grad_norm=0), r"or None \(no clipping\)"),
    ("a3c", dict(worker_timeout=0), r"\(seconds\)"),
    ("dqn", dict(lr=-1.0), r"a learning rate, typical: 1e-4 to 3e-3 with Adam"),
    ("dqn", dict(tau=0.0), r"in \(0, 1\] \(1: hard copy\)"),
    ("dqn", dict(eps_end=2.0), r"a probability in \[0, 1\]"),
    ("ddpg", dict(tau=0), r"the Polyak rate in \(0, 1\] \(1: hard copy; DDPG uses 0.001 to 0.005\)"),
    ("ddpg", dict(noise="pink"), r"'gaussian' or 'ou' \(ou: Ornstein-Uhlenbeck\)"),
    ("ddpg", dict(critic_lr=0), r"typical: 1e-4 to 1e-3"),
]


@pytest.mark.parametrize("algo, kw, hint", HINTS, ids=[f"{a}-{next(iter(k))}" for a, k, _ in HINTS])
def test_messages_keep_their_hints(algo, kw, hint):
    with pytest.raises(ValueError, match=hint):
        ALGOS[algo].Config(**kw)


# the rules between fields, checked after every field passed its own
CROSS = [
    ("ppo", dict(n_envs=2, n_steps=4, n_minibatches=16),
     r"n_minibatches=16 is more than the 8 transitions of a rollout"),
    ("dqn", dict(batch_size=64, learning_starts=10),
     r"learning_starts = 10 must be an integer >= batch_size = 64: .* Raise learning_starts"),
    ("ddpg", dict(batch_size=512, learning_starts=100),
     r"learning_starts = 100 must be an integer >= batch_size = 512: .* Raise learning_starts"),
]


@pytest.mark.parametrize("algo, kw, match", CROSS, ids=[c[0] for c in CROSS])
def test_rules_between_fields_raise(algo, kw, match):
    with pytest.raises(ValueError, match=match):
        ALGOS[algo].Config(**kw)
    with pytest.raises(ValueError, match=match):                          # replace re-validates
        dataclasses.replace(ALGOS[algo].Config(), **kw)


# a budget small enough that a run that ignored the override would still end quickly
ENV = {"ddpg": "Pendulum-v1"}
SMALL = {"reinforce": dict(n_envs=2, batch_steps=32), "ppo": dict(n_envs=2, n_steps=16),
         "a2c": dict(n_envs=2, n_steps=16), "a3c": dict(n_workers=1, envs_per_worker=1, n_steps=16),
         "dqn": dict(learning_starts=32, batch_size=32), "ddpg": dict(learning_starts=32, batch_size=32)}


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("total_steps", [0, -100, 2.5, True])
def test_the_total_steps_override_of_train_validates(algo, total_steps):
    module = ALGOS[algo]
    config = module.Config(total_steps=64, **SMALL[algo])
    with pytest.raises(ValueError, match=rf"{algo}\.Config\.total_steps must be a positive integer"):
        module.train(ENV.get(algo, "CartPole-v1"), config, seed=0, total_steps=total_steps,
                     progress=False)


@pytest.mark.parametrize("algo", ALGOS)
def test_the_total_steps_override_of_train_is_the_configs_total_steps(algo):
    module = ALGOS[algo]
    config = module.Config(total_steps=10_000, **SMALL[algo])
    result = module.train(ENV.get(algo, "CartPole-v1"), config, seed=0, total_steps=32,
                          progress=False)
    assert result.config == dataclasses.replace(config, total_steps=32)
