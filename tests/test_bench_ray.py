"""python -m rlnotes bench --ray: the same results as the sequential run, on a local Ray instance
and on a cluster's address; a failing task is reported and the others complete; without Ray,
one line naming the extra.

Every Ray process these tests start listens on 127.0.0.1 only (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0:
Ray then keeps a node on the loopback address instead of the machine's network address) and
uses a token of its own (RAY_AUTH_TOKEN) and a temporary folder of its own (RAY_TMPDIR). The
head node is started and stopped by the test (its process group only: no other Ray on the
machine is touched).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import rlnotes.bench as bench_mod
from rlnotes.bench import SCALE_HINT, run_seed

STEPS = 5000                                   # REINFORCE: about one second a seed here


@contextlib.contextmanager
def ray_env():
    """The environment of a test's Ray processes (loopback only, a token of its own, its files in
    a temporary folder of its own, removed at the end); yields ``(env, folder)``."""
    temp = tempfile.mkdtemp(prefix="rlray-", dir="/tmp")            # short: Ray's socket paths live in it
    try:
        yield dict(os.environ, OMP_NUM_THREADS="1", RLNOTES_PROGRESS="off", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",
                   RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32), RAY_TMPDIR=temp), temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def bench(*args, env):
    return subprocess.run([sys.executable, "-m", "rlnotes", "bench", *args, "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=240)


def rows(path):
    return {r["seed"]: r for r in json.loads(Path(path).read_text())["seeds"]}


def same_run(a, b):
    """Two seed rows of one training run: the same episodes (steps and returns), evaluation and
    Config. Wall-clock times differ from run to run and are not compared."""
    assert [h[:2] for h in a["history"]] == [h[:2] for h in b["history"]]
    assert a["eval_returns"] == b["eval_returns"] and a["env_steps"] == b["env_steps"]
    untimed = lambda stats: {k: v for k, v in stats.items() if not k.endswith(("_per_second", "_seconds"))}
    assert a["config"] == b["config"] and untimed(a["stats"]) == untimed(b["stats"])


def test_ray_without_ray_installed_names_the_extra_and_exits_2(tmp_path):
    code = ("import sys\nsys.modules['ray'] = None            # `import ray` fails, as without the extra\n"
            "import rlnotes.__main__ as m\n"
            f"sys.exit(m.main(['bench', 'reinforce', '--seeds', '0', '--ray', '--out', {str(tmp_path)!r}]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == SCALE_HINT and "pip install rlnotes[scale]" in SCALE_HINT
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []          # nothing ran


def test_local_ray_writes_the_histories_of_the_sequential_run(tmp_path):
    """The bar: `bench reinforce --seeds 0 1 --steps 5000 --ray` and the same without --ray."""
    pytest.importorskip("ray", reason="bench --ray needs the optional extra rlnotes[scale]")
    bench_mod.bench(["reinforce"], seeds=[0, 1], steps=STEPS, out=tmp_path / "seq", progress=False,
                    file=io.StringIO())                              # the sequential run, in this process
    with ray_env() as (env, _):
        par = bench("reinforce", "--seeds", "0", "1", "--steps", str(STEPS), "--out", str(tmp_path / "ray"),
                    "--ray", env=env)
    assert par.returncode == 0, par.stderr
    a, b = rows(tmp_path / "seq" / "reinforce.json"), rows(tmp_path / "ray" / "reinforce.json")
    assert sorted(a) == sorted(b) == [0, 1]
    for seed in a:
        same_run(a[seed], b[seed])
    assert a[0]["eval_returns"] != a[1]["eval_returns"]          # the comparison can tell seeds apart
    assert "[1/2] reinforce seed" in par.stdout and "[2/2] reinforce seed" in par.stdout   # progress
    ray_info = json.loads((tmp_path / "ray" / "reinforce.json").read_text())["machine"]["ray"]
    assert ray_info["address"] == "local" and ray_info["cpus"] == os.cpu_count()
    assert (tmp_path / "ray" / "reinforce.csv").exists() and (tmp_path / "ray" / "reinforce.png").exists()


@pytest.fixture(scope="module")
def head_node():
    """A one-node Ray cluster on 127.0.0.1 (`ray start --head --block`, 2 CPUs), its address and
    environment; stopped at the end, process group and temporary folder."""
    pytest.importorskip("ray", reason="bench --ray needs the optional extra rlnotes[scale]")
    with socket.socket() as s:                                      # a free port on the loopback
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ray_cli = Path(sys.executable).with_name("ray")
    with ray_env() as (env, temp):
        proc = subprocess.Popen([str(ray_cli), "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
                                 "--num-cpus=2", "--include-dashboard=false", f"--temp-dir={temp}", "--block"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        yield from _running(proc, port, env, temp)


def _running(proc, port, env, temp):
    """Wait for the head node ``proc`` to be up, yield its address and env, then stop it."""
    try:
        deadline = time.monotonic() + 90
        while not list(Path(temp).glob("session_*/sockets/raylet")) and time.monotonic() < deadline:
            assert proc.poll() is None, "ray start --head exited"
            time.sleep(0.2)
        yield f"127.0.0.1:{port}", env
    finally:
        for sig, wait in ((signal.SIGTERM, 2), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)                            # the head's own process group only
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass


def test_a_sweep_on_a_cluster_address_matches_the_sequential_runs_and_survives_a_failing_task(tmp_path, head_node):
    """`--ray ADDRESS` with a --set grid: one task per (algorithm, setting, seed), each setting in
    its own file, each row the one a sequential run_seed of that setting gives. DDPG given
    CartPole (discrete actions: its train refuses them) fails on the workers: each failing
    setting is reported, the REINFORCE tasks still complete and are written; exit status 1."""
    address, env = head_node
    code = ("import sys, rlnotes.bench as b, rlnotes.__main__ as m\n"
            "b.ALGOS['ddpg'] = ('rlnotes.algos.ddpg', 'CartPole-v1', 475.0)   # the tasks get this env\n"
            f"sys.exit(m.main(['bench', 'ddpg', 'reinforce', '--n-seeds', '2', '--steps', '2000', "
            f"'--set', 'gamma=0.99,0.9', '--out', {str(tmp_path)!r}, '--no-progress', '--ray', {address!r}]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 1, proc.stderr
    assert f"({address})" in proc.stdout and "[8/8] " in proc.stdout + proc.stderr
    for gamma in (0.99, 0.9):
        assert f"ddpg-gamma={gamma} failed on seed" in proc.stderr and "use DQN" in proc.stderr
        assert "ValueError" in (tmp_path / f"ddpg-gamma={gamma}-error.txt").read_text()
        assert not (tmp_path / f"ddpg-gamma={gamma}.json").exists()
        got = rows(tmp_path / f"reinforce-gamma={gamma}.json")
        assert sorted(got) == [0, 1]
        for seed, row in got.items():
            assert row["config"]["gamma"] == gamma
            same_run(row, json.loads(json.dumps(run_seed("reinforce", seed, steps=2000, progress=False,
                                                         overrides={"gamma": gamma}))))
    assert "finished with 2 failed algorithm(s): ddpg-gamma=0.99, ddpg-gamma=0.9" in proc.stderr
    assert "Traceback" not in proc.stderr
