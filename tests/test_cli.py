"""python -m rlnotes: train and bench, run as a reader would (subprocess)."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from rlnotes.bench import ALGOS, learning_curve


def run(*args, cwd=None):
    env = dict(os.environ, RLNOTES_PROGRESS="text", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "rlnotes", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def test_bench_writes_json_csv_and_png(tmp_path):
    out = tmp_path / "results"
    proc = run("bench", "reinforce", "--seeds", "0", "--steps", "3000", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "median wall" in proc.stdout and "env steps" in proc.stdout

    summary = json.loads((out / "reinforce.json").read_text())
    assert summary["algo"] == "reinforce" and summary["env_id"] == "CartPole-v1"
    assert summary["threshold"] == 475.0 and summary["n_seeds"] == 1
    for key in ("platform", "cpu_model", "cpu_cores", "torch", "gymnasium", "numpy",
                "torch_threads", "date"):
        assert key in summary["machine"], key
    assert summary["machine"]["torch_threads"] == 1
    (row,) = summary["seeds"]
    assert row["seed"] == 0 and 3000 <= row["env_steps"] < 6000
    assert len(row["eval_returns"]) == 10 and row["eval_mean"] == np.mean(row["eval_returns"])
    assert row["solved"] == (row["eval_mean"] >= 475) and row["wall_seconds"] > 0
    assert f"solved {int(row['solved'])}/1 seeds" in proc.stdout     # the printout says what the JSON holds
    assert row["history"][-1][0] == row["env_steps"] and row["config"]["total_steps"] == 3000

    with open(out / "reinforce.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and rows[0]["seed"] == "0" and rows[0]["solved"] in ("yes", "no")
    assert float(rows[0]["eval_mean"]) == row["eval_mean"]
    assert (out / "reinforce.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_prints_progress_and_the_final_evaluation():
    proc = run("train", "reinforce", "--env", "CartPole-v1", "--seed", "1", "--steps", "2000")
    assert proc.returncode == 0, proc.stderr
    assert "steps" in proc.stdout and "greedy evaluation over 10 episodes" in proc.stdout


def test_unknown_algorithm_is_refused():
    proc = run("bench", "sarsa-lambda", "--seeds", "0")
    assert proc.returncode != 0 and "reinforce" in proc.stderr + proc.stdout


def test_learning_curve_averages_seeds_on_a_common_grid():
    h1 = [(10, 1.0, 0.1), (20, 1.0, 0.2), (30, 1.0, 0.3)]
    h2 = [(10, 3.0, 0.1), (20, 3.0, 0.2), (40, 3.0, 0.4)]
    grid, mean, std = learning_curve([h1, h2], x="steps", n_points=5, window=1)
    np.testing.assert_allclose(grid, [10, 15, 20, 25, 30])            # up to the shortest run
    np.testing.assert_allclose(mean, 2.0) and np.testing.assert_allclose(std, 1.0)
    assert set(ALGOS["reinforce"][1:]) == {"CartPole-v1", 475.0}


def test_ctrl_c_ends_a_command_with_one_line_and_no_orphans():
    """Ctrl-C during `python -m rlnotes train a3c`: exit status 130, one line, no traceback, and
    no worker process left behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    env = {**os.environ, "OMP_NUM_THREADS": "1", "RLNOTES_PROGRESS": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "rlnotes", "train", "a3c", "--steps", "100000000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True,
                            preexec_fn=_default_sigint)
    parent = psutil.Process(proc.pid)
    try:
        workers, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [c for c in parent.children(recursive=True) if "spawn_main" in " ".join(c.cmdline())]
            time.sleep(0.2)
        assert len(workers) == 2, "the A3C workers did not start"
        time.sleep(2.0)
        os.killpg(proc.pid, signal.SIGINT)                 # Ctrl-C reaches the whole group
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:                            # failed: leave no process behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted (Ctrl-C)" in err and "Traceback" not in err, err
    gone, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive, f"orphaned worker processes: {alive}"


def _default_sigint():
    """In the child, before exec: Ctrl-C does what it does in a terminal. (A test run started in
    the background of a non-interactive shell, as CI may do, inherits SIGINT *ignored*, and
    Python would then never raise KeyboardInterrupt.)"""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


BAD_COMMANDS = [
    (["train", "ppo", "--steps", "0"], "--steps: must be an integer >= 1, got 0"),
    (["train", "ppo", "--seed", "-1"], "--seed: must be an integer >= 0, got -1"),
    (["train", "dqn", "--env", "Pendulum-v1", "--steps", "100"], "use DDPG"),
    (["train", "ppo", "--env", "NoSuchEnv-v9", "--steps", "100"], "unknown environment id 'NoSuchEnv-v9'"),
    (["bench", "reinforce", "--seeds", "0", "--steps", "100", "--out", "/proc/no-such-dir"],
     "cannot write the results to '/proc/no-such-dir'"),
]


@pytest.mark.parametrize("args, message", BAD_COMMANDS, ids=[" ".join(a[:3]) for a, _ in BAD_COMMANDS])
def test_bad_input_ends_with_one_clear_line_and_no_traceback(args, message):
    proc = run(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout == ""                                  # nothing was trained or printed


def test_bench_with_no_finished_episode_writes_its_results_without_a_plot(tmp_path):
    proc = run("bench", "ddpg", "--seeds", "0", "--steps", "100", "--out", str(tmp_path))   # Pendulum: 200-step episodes
    assert proc.returncode == 0, proc.stderr
    assert "no training episode of ddpg ended within its budget" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddpg.csv", "ddpg.json"]


def test_ctrl_c_during_a_bench_keeps_the_finished_seeds_and_says_how_to_resume(tmp_path):
    """Ctrl-C once seed 0's result is on disk: seed 0 stays written (JSON and CSV), the exit
    status is 130, and the output gives the command that resumes."""
    import signal
    import time

    env = {**os.environ, "OMP_NUM_THREADS": "1", "RLNOTES_PROGRESS": "off"}
    steps = "30000"                                   # a few seconds per seed
    proc = subprocess.Popen([sys.executable, "-m", "rlnotes", "bench", "reinforce", "--seeds", "0", "1", "2",
                             "--steps", steps, "--out", str(tmp_path), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True, preexec_fn=_default_sigint)
    path = tmp_path / "reinforce.json"
    try:
        deadline = time.monotonic() + 240
        while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert path.exists(), "seed 0 was never written"
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    kept = [r["seed"] for r in json.loads(path.read_text())["seeds"]]
    assert kept in ([0], [0, 1]), kept                # seed 1 may have finished in between
    with open(tmp_path / "reinforce.csv") as f:
        assert [int(r["seed"]) for r in csv.DictReader(f)] == kept
    assert f"kept reinforce seed{'s' if len(kept) > 1 else ''} {' '.join(map(str, kept))}" in out
    assert (f"python -m rlnotes bench reinforce --seeds 0 1 2 --steps {steps} --out {tmp_path} --resume"
            in out), out


def test_bench_with_a_failing_algorithm_runs_the_others_and_exits_1(tmp_path):
    """An algorithm that raises is reported in one line; the next one still runs; exit status 1."""
    code = ("import sys, rlnotes.bench as b, rlnotes.__main__ as m\n"
            "b.ALGOS['ddpg'] = ('rlnotes.algos.ddpg', 'CartPole-v1', 475.0)   # discrete: ddpg refuses it\n"
            f"sys.exit(m.main(['bench', 'ddpg', 'reinforce', '--seeds', '0', '--steps', '500', "
            f"'--out', {str(tmp_path)!r}, '--no-progress']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 1, proc.stderr
    assert "ddpg failed on seed 0: ValueError" in proc.stderr and "Traceback" not in proc.stderr
    assert "finished with 1 failed algorithm(s): ddpg" in proc.stderr
    assert (tmp_path / "reinforce.json").exists() and "wrote" in proc.stdout


# --------------------------------------------------------------------------------------------
# bench's sweep options, parsed in this process (bench itself replaced: nothing trains)
# --------------------------------------------------------------------------------------------
@pytest.fixture
def bench_calls(monkeypatch):
    import rlnotes.bench as bench_mod

    calls = []
    monkeypatch.setattr(bench_mod, "bench", lambda algos, **kwargs: calls.append((algos, kwargs)) or {})
    return calls


def test_n_seeds_counts_from_zero_and_seeds_lists_them(tmp_path, bench_calls):
    from rlnotes.__main__ import main

    assert main(["bench", "reinforce", "--n-seeds", "3", "--out", str(tmp_path)]) == 0
    assert main(["bench", "reinforce", "--seeds", "3", "--out", str(tmp_path)]) == 0
    assert main(["bench", "reinforce", "--out", str(tmp_path)]) == 0
    assert [kw["seeds"] for _, kw in bench_calls] == [[0, 1, 2], [3], [0, 1, 2, 3, 4]]
    assert [kw["ray"] for _, kw in bench_calls] == [None] * 3 and bench_calls[0][1]["grid"] == {}


def test_set_and_ray_reach_bench(tmp_path, bench_calls):
    from rlnotes.__main__ import main

    assert main(["bench", "ppo", "--set", "lr=1e-3,3e-3", "--set", "hidden_sizes=(32, 32),(64, 64)",
                 "--ray", "--out", str(tmp_path)]) == 0
    assert main(["bench", "ppo", "--ray", "auto", "--out", str(tmp_path)]) == 0
    assert main(["bench", "ppo", "--ray", "10.1.2.3:6379", "--out", str(tmp_path)]) == 0
    assert main(["bench", "--ray", "ppo", "dqn", "--out", str(tmp_path)]) == 0    # ppo: an algorithm, not an address
    (algos, kw), auto, address, first = bench_calls
    assert algos == ["ppo"] and kw["grid"] == {"lr": [0.001, 0.003], "hidden_sizes": [(32, 32), (64, 64)]}
    assert [kw["ray"], auto[1]["ray"], address[1]["ray"]] == ["local", "auto", "10.1.2.3:6379"]
    assert first[0] == ["ppo", "dqn"] and first[1]["ray"] == "local"


@pytest.mark.parametrize("args, message", [
    (["--seeds", "0", "--n-seeds", "2"], "not allowed with argument"),
    (["--n-seeds", "0"], "must be an integer >= 1"),
    (["--set", "lr"], "expected FIELD=V1,V2"),
    (["--set", "lr=1", "--set", "lr=2"], "given twice; put all its values in one: --set lr=V1,V2"),
    (["--set", "no_such_field=1"], "reinforce.Config (reinforce) has no field 'no_such_field'"),
    (["--set", "lr=0"], "reinforce.Config.lr must be a positive number"),
    (["--peers", "--ray"], "--peers runs the default settings one after another"),
    (["--ray", "headnode"], "--ray headnode: give a cluster's address HOST:PORT"),
])
def test_bad_sweep_options_are_refused_with_exit_2_before_anything_runs(tmp_path, capsys, args, message):
    from rlnotes.__main__ import main

    try:
        code = main(["bench", "reinforce", *args, "--out", str(tmp_path / "out")])
    except SystemExit as exit:                                # argparse's own usage errors
        code = exit.code
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
