"""rlnotes' runtime set-up: one torch thread by default, headless SDL, one-call seeding."""
from __future__ import annotations

import os
import random
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlnotes


def test_import_sets_one_torch_thread_and_headless_sdl():
    code = "import rlnotes, torch, os; print(torch.get_num_threads(), os.environ['SDL_VIDEODRIVER'])"
    env = {k: v for k, v in os.environ.items() if k not in ("RLNOTES_TORCH_THREADS", "SDL_VIDEODRIVER", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["1", "dummy"]


def test_thread_count_is_overridable():
    code = "import rlnotes, torch; print(torch.get_num_threads())"
    env = dict(os.environ, RLNOTES_TORCH_THREADS="2")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "2"
    before = torch.get_num_threads()
    try:
        rlnotes.set_torch_threads(2)
        assert torch.get_num_threads() == 2
    finally:
        rlnotes.set_torch_threads(before)
    with pytest.raises(ValueError, match="positive integer"):
        rlnotes.set_torch_threads(0)


def draw_everything():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


def test_seed_everything_repeats_every_generator():
    rlnotes.seed_everything(123)
    a = draw_everything()
    rlnotes.seed_everything(123)
    assert draw_everything() == a
    rlnotes.seed_everything(124)
    assert draw_everything() != a


def test_seed_everything_seeds_env_and_spaces():
    def run():
        env = gym.make("CartPole-v1")
        rng = rlnotes.seed_everything(7, env)
        obs, _ = env.reset()  # note: reset without a seed continues the seeded stream
        acts = [int(env.action_space.sample()) for _ in range(20)]
        return obs, acts, rng.random()
    (o1, a1, r1), (o2, a2, r2) = run(), run()
    np.testing.assert_array_equal(o1, o2)
    assert a1 == a2 and r1 == r2


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        rlnotes.seed_everything(bad)


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_a_bad_thread_count_in_the_environment_names_the_variable_and_the_fix(value):
    with pytest.raises(ValueError, match=rf"RLNOTES_TORCH_THREADS='{value}'.*positive whole number.*unset it"):
        rlnotes.runtime.torch_threads_from_environ({"RLNOTES_TORCH_THREADS": value})


@pytest.mark.parametrize("environ, expected", [({}, 1), ({"RLNOTES_TORCH_THREADS": ""}, 1),
                                               ({"RLNOTES_TORCH_THREADS": " 3 "}, 3)])
def test_the_thread_count_from_the_environment(environ, expected):
    assert rlnotes.runtime.torch_threads_from_environ(environ) == expected


def test_import_with_a_bad_thread_count_fails_with_that_message():
    env = dict(os.environ, RLNOTES_TORCH_THREADS="abc")
    out = subprocess.run([sys.executable, "-c", "import rlnotes"], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "invalid literal" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("ValueError: RLNOTES_TORCH_THREADS='abc'")
