"""rlnotes.peers: a clear message without Stable-Baselines3; a tiny peer run when it is installed.

The tiny run takes a few seconds; skip it with RLNOTES_SKIP_PEERS=1.
"""
from __future__ import annotations

import builtins
import os

import pytest

from rlnotes import peers
from rlnotes.__main__ import main


@pytest.fixture
def no_sb3(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "stable_baselines3" or name.startswith("stable_baselines3."):
            raise ImportError("No module named 'stable_baselines3'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_clear_message_without_sb3(no_sb3, capsys, tmp_path):
    assert not peers.sb3_available()
    with pytest.raises(ImportError, match=r"pip install -e \.\[peers\]"):
        peers.require_sb3()
    with pytest.raises(ImportError, match=r"pip install -e \.\[peers\]"):
        peers.run_peer("ppo", 0)
    # the command line says so before training anything, and exits with status 2
    assert main(["bench", "ppo", "--peers", "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "pip install -e .[peers]" in err
    assert not list(tmp_path.iterdir())


def test_peer_table_lists_zoo_hyperparameters():
    spec = peers.PEERS["ppo"]
    assert spec["env_id"] == "CartPole-v1" and spec["n_envs"] == 8
    assert spec["total_timesteps"] == 100_000 and spec["hyperparams"]["n_epochs"] == 20
    from rlnotes.bench import ALGOS
    assert set(peers.PEERS) <= set(ALGOS) | {"dqn"}
    with pytest.raises(ValueError, match="no peer"):
        peers.run_peer("reinforce", 0)


@pytest.mark.skipif(bool(os.environ.get("RLNOTES_SKIP_PEERS")), reason="RLNOTES_SKIP_PEERS set")
def test_tiny_peer_run():
    pytest.importorskip("stable_baselines3")
    row = peers.run_peer("ppo", 0, steps=512)
    assert row["env_steps"] >= 512 and row["wall_seconds"] > 0
    assert len(row["eval_returns"]) == 10 and row["solved"] in (True, False)
    assert row["training_episodes"] == len(row["history"]) > 0
    assert row["config"]["learning_rate"] == "lin_0.001"
    text = peers.format_comparison("ppo", [row], [row])
    assert "ratio (ours / SB3) = 1.00" in text
