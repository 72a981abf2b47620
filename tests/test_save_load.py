"""rlnotes.save / rlnotes.load: every algorithm's agent goes through a file into a fresh Python
process and comes back acting the same; anything that is not such a file gets a clear error."""
from __future__ import annotations

import dataclasses
import importlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import rlnotes
from rlnotes.saving import FORMAT_VERSION, _checksum

SEED, EVAL_SEED, EVAL_EPISODES = 3, 123, 3

#: run name -> (algorithm, env id, Config fields, total_steps): a tiny budget with a few updates
#: and at least one finished episode
RUNS = {
    "reinforce": ("reinforce", "CartPole-v1", dict(n_envs=2, batch_steps=100, value_iters=2), 200),
    "ppo": ("ppo", "CartPole-v1", dict(n_envs=2, n_steps=64), 256),
    "ppo-pendulum": ("ppo", "Pendulum-v1", dict(n_envs=2, n_steps=100, normalize_obs=True), 400),  # + buffers
    "a2c": ("a2c", "CartPole-v1", dict(n_envs=2, n_steps=8), 256),
    "a3c": ("a3c", "CartPole-v1", dict(n_workers=1, envs_per_worker=2, n_steps=8), 256),
    "dqn": ("dqn", "CartPole-v1", dict(batch_size=32, learning_starts=64, train_freq=32, gradient_steps=4), 256),
    "ddpg": ("ddpg", "Pendulum-v1", dict(batch_size=32, learning_starts=32), 200),
}


def tensors_of(agent):
    """Every parameter and buffer of the agent's networks by name (the agent itself if it is a
    module, else its module attributes), found here without rlnotes.saving's help."""
    holders = ({"": agent} if isinstance(agent, torch.nn.Module) else
               {f"{k}.": v for k, v in vars(agent).items() if isinstance(v, torch.nn.Module)})
    return {p + n: t.detach().clone() for p, m in holders.items()
            for n, t in [*m.named_parameters(), *m.named_buffers()]}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """run name -> (result, path) after training and saving in this process (or the exception)."""
    folder = tmp_path_factory.mktemp("saved")
    out = {}
    for name, (algo, env_id, fields, steps) in RUNS.items():
        try:
            module = importlib.import_module(f"rlnotes.algos.{algo}")
            result = module.train(env_id, module.Config(**fields), seed=SEED, total_steps=steps, progress=False)
            out[name] = (result, rlnotes.save(result, folder / f"{name}.pt"))
        except Exception as err:           # reported by the test of that algorithm
            out[name] = err
    return out


FRESH = textwrap.dedent("""
    import json, sys, torch, rlnotes
    from tests.test_save_load import tensors_of
    out = {}
    for name, path in json.loads(sys.argv[1]).items():
        r = rlnotes.load(path)
        out[name] = dict(returns=torch.as_tensor(rlnotes.evaluate(r.agent, r.env_id, n_episodes=int(sys.argv[3]),
                                                                   seed=int(sys.argv[4]))),
                         weights=tensors_of(r.agent), agent=type(r.agent).__name__, env_id=r.env_id, seed=r.seed)
    torch.save(out, sys.argv[2])
""")


@pytest.fixture(scope="module")
def fresh(saved, tmp_path_factory):
    """Every saved file loaded and evaluated in ONE new Python process: name -> what it found."""
    paths = {name: str(v[1]) for name, v in saved.items() if not isinstance(v, Exception)}
    out = tmp_path_factory.mktemp("fresh") / "fresh.pt"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", FRESH, json.dumps(paths), str(out), str(EVAL_EPISODES),
                           str(EVAL_SEED)], capture_output=True, text=True, timeout=300, cwd=root,
                          env=dict(os.environ, OMP_NUM_THREADS="1", RLNOTES_PROGRESS="off"))
    assert proc.returncode == 0, proc.stderr
    return torch.load(out, weights_only=True)


@pytest.mark.parametrize("name", list(RUNS))
def test_round_trip_in_a_fresh_process(name, saved, fresh):
    if isinstance(saved[name], Exception):
        raise saved[name]
    result, path = saved[name]
    got = fresh[name]
    # the same agent class, env and seed; every tensor the same, bit for bit
    assert got["agent"] == type(result.agent).__name__ and got["env_id"] == result.env_id == RUNS[name][1]
    assert got["seed"] == result.seed == SEED
    want = tensors_of(result.agent)
    assert want and sorted(got["weights"]) == sorted(want)
    for k, t in want.items():
        assert got["weights"][k].dtype == t.dtype and torch.equal(got["weights"][k], t), k
    # the same greedy returns on the same episodes
    returns = rlnotes.evaluate(result.agent, result.env_id, n_episodes=EVAL_EPISODES, seed=EVAL_SEED)
    np.testing.assert_array_equal(got["returns"].numpy(), returns)


@pytest.mark.parametrize("name", list(RUNS))
def test_everything_else_round_trips(name, saved):
    if isinstance(saved[name], Exception):
        raise saved[name]
    result, path = saved[name]
    loaded = rlnotes.load(path)
    assert type(loaded) is type(result) and type(loaded.config) is type(result.config)
    assert loaded.config == result.config                        # tuples again, not lists
    assert all(type(getattr(loaded.config, f.name)) is type(getattr(result.config, f.name))
               for f in dataclasses.fields(result.config))
    assert loaded.history == [tuple(h) for h in result.history] and loaded.history
    np.testing.assert_equal(loaded.stats, result.stats)           # NaN == NaN here
    assert loaded.wall_time == result.wall_time and loaded.seed == result.seed
    plain = {k: v for k, v in vars(result.agent).items() if isinstance(v, (int, float)) and not k.startswith("_")}
    assert plain == {k: getattr(loaded.agent, k) for k in plain}    # e.g. DQN's final ε, not make_agent's


PLAIN = (str, int, float, bool, type(None))


def assert_plain(value, where="file"):
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), (where, k)
            assert_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert_plain(v, f"{where}[{i}]")
    else:
        assert isinstance(value, PLAIN), (where, type(value))


def test_the_file_is_tensors_and_plain_data(saved):
    result, path = saved["ppo"]
    content = torch.load(path, weights_only=True)               # refuses anything that could run code
    assert content["algorithm"] == "ppo" and content["env_id"] == "CartPole-v1" and content["seed"] == SEED
    assert set(content["versions"]) == {"rlnotes", "torch", "gymnasium"}
    assert content["versions"]["rlnotes"] == rlnotes.__version__
    assert content["config"]["hidden_sizes"] == list(result.config.hidden_sizes)
    weights = content.pop("weights")
    assert_plain(content)
    assert all(isinstance(t, torch.Tensor) for state in weights.values() for t in state.values())


# --------------------------------------------------------------------------------------------
# files that are not an rlnotes save, damaged, from elsewhere
# --------------------------------------------------------------------------------------------
def rewrite(path, tmp_path, **changes):
    """A copy of the saved file with some entries changed, and a checksum that fits them."""
    content = torch.load(path, weights_only=True)
    content.update(changes)
    content["sha256"] = _checksum(content)
    new = tmp_path / "changed.pt"
    torch.save(content, new)
    return new


def test_files_that_are_not_rlnotes_saves(saved, tmp_path):
    result, _ = saved["ppo"]
    cases = {"tensor.pt": lambda p: torch.save(torch.zeros(3), p),
             "state_dict.pt": lambda p: torch.save(result.agent.state_dict(), p),
             "text.txt": lambda p: p.write_text("not a model\n")}
    for name, write in cases.items():
        write(tmp_path / name)
        with pytest.raises(ValueError, match="is not a file written by rlnotes.save"):
            rlnotes.load(tmp_path / name)
    torch.save(result, tmp_path / "pickled.pt")                  # a whole TrainResult, pickled
    with pytest.raises(ValueError, match="holds Python objects.*could run code"):
        rlnotes.load(tmp_path / "pickled.pt")


def test_damaged_files(saved, tmp_path):
    result, path = saved["ppo"]
    data = path.read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or damaged"):
        rlnotes.load(tmp_path / "truncated.pt")
    (tmp_path / "garbage.pt").write_bytes(np.random.default_rng(0).bytes(4000))   # not even a zip
    with pytest.raises(ValueError, match="truncated or damaged: it is not the zip archive"):
        rlnotes.load(tmp_path / "garbage.pt")
    # one flipped byte inside a weight matrix: torch.load reads it without complaint
    weight = result.agent.value_net[0].weight.detach().numpy().tobytes()
    at = data.index(weight) + len(weight) // 2
    flipped = data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1:]
    (tmp_path / "flipped.pt").write_bytes(flipped)
    assert torch.load(tmp_path / "flipped.pt", weights_only=True)["format"] == "rlnotes.save"
    with pytest.raises(ValueError, match="damaged: its contents do not match the checksum"):
        rlnotes.load(tmp_path / "flipped.pt")


def test_files_from_another_algorithm_version_or_machine(saved, tmp_path):
    _, ppo_path = saved["ppo"]
    with pytest.raises(ValueError, match=r"Config .* has fields .* that rlnotes.algos.a2c.Config .* does not have"):
        rlnotes.load(rewrite(ppo_path, tmp_path, algorithm="a2c"))     # PPO's Config, said to be A2C's
    other = saved["a2c"]
    if not isinstance(other, Exception):                         # PPO's weights with A2C's Config
        ppo_weights = torch.load(ppo_path, weights_only=True)["weights"]
        with pytest.raises(ValueError, match="weights .* (do not fit|are for the modules)"):
            rlnotes.load(rewrite(other[1], tmp_path, weights=ppo_weights))
    with pytest.raises(ValueError, match="newer rlnotes .* Upgrade rlnotes"):
        rlnotes.load(rewrite(ppo_path, tmp_path, format_version=FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match="has no algorithm rlnotes.algos.sac.*install that version"):
        rlnotes.load(rewrite(ppo_path, tmp_path, algorithm="sac"))
    with pytest.raises(ValueError, match="'NoSuchEnv-v0', which is not registered here.*install the package"):
        rlnotes.load(rewrite(ppo_path, tmp_path, env_id="NoSuchEnv-v0"))
    with pytest.raises(ValueError, match="not registered here: import antigravity first"):   # and not imported
        rlnotes.load(rewrite(ppo_path, tmp_path, env_id="antigravity:NoSuchEnv-v0"))
    assert "antigravity" not in sys.modules


def test_save_refuses_what_load_could_not_rebuild(saved, tmp_path):
    result, _ = saved["ppo"]
    with pytest.raises(ValueError, match="env_id is None.*result.env_id = "):
        rlnotes.save(dataclasses.replace(result, env_id=None), tmp_path / "x.pt")
    with pytest.raises(ValueError, match="do not fit the agent .*make_agent builds"):
        rlnotes.save(dataclasses.replace(result, env_id="Acrobot-v1"), tmp_path / "x.pt")   # 6 obs, not 4
    with pytest.raises(ValueError, match=r"stats\['f'\] is a object .*save stores only str, int"):
        rlnotes.save(dataclasses.replace(result, stats={"f": object()}), tmp_path / "x.pt")
    with pytest.raises(ValueError, match="needs a TrainResult"):
        rlnotes.save(result.agent, tmp_path / "x.pt")
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder. Give a file name"):
        rlnotes.save(result, tmp_path / "folder")
    with pytest.raises(FileNotFoundError, match="does not exist. Create it first"):
        rlnotes.save(result, tmp_path / "missing" / "x.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["folder"]    # nothing written, no temporary left


# --------------------------------------------------------------------------------------------
# the command line: train --save, evaluate
# --------------------------------------------------------------------------------------------
def cli(*args):
    env = dict(os.environ, RLNOTES_PROGRESS="off", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "rlnotes", *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.parametrize("algo", ["reinforce", "ppo", "a2c", "a3c", "dqn", "ddpg"])
def test_cli_train_save_then_evaluate(algo, tmp_path):
    agent, video = tmp_path / "agents" / f"{algo}.pt", tmp_path / f"{algo}.gif"
    trained = cli("train", algo, "--steps", "512", "--seed", "1", "--eval-episodes", "3", "--save", str(agent))
    assert trained.returncode == 0, trained.stderr
    evaluated = cli("evaluate", str(agent), "--episodes", "3", *(["--video", str(video)] if algo == "ppo" else []))
    assert evaluated.returncode == 0, evaluated.stderr
    # the evaluation `train` printed, and the one of the loaded agent: the same episodes, the same numbers
    line = [ln for ln in trained.stdout.splitlines() if ln.startswith("greedy evaluation")][0]
    assert line.split(";")[0] in evaluated.stdout
    if algo == "ppo":
        assert video.read_bytes()[:6] == b"GIF89a"


def test_cli_bad_input_is_one_line_and_exit_2(saved, tmp_path, capsys):
    from rlnotes.__main__ import main

    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "file").write_text("")
    bad = {("evaluate", str(tmp_path / "notes.txt")): "is not a file written by rlnotes.save",
           ("evaluate", str(tmp_path / "missing.pt")): "No such file",
           ("train", "ppo", "--save", str(tmp_path / "file" / "ppo.pt")): "cannot write the agent",  # before training
           ("train", "ppo", "--save", str(tmp_path)): "is a folder"}
    for args, message in bad.items():
        assert main(list(args)) == 2, args
        out, err = capsys.readouterr()
        assert message in err and len(err.strip().splitlines()) == 1 and not out, (args, out, err)
    for video in ("clip.avi", "clip"):
        with pytest.raises(SystemExit) as exit_:
            main(["evaluate", str(saved["ppo"][1]), "--video", str(tmp_path / video)])
        assert exit_.value.code == 2 and "must end in .gif or .mp4" in capsys.readouterr().err
