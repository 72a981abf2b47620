"""rlnotes.algos.a3c: the shared optimiser, worker processes, reproducibility, clean shutdown.

Only 1-worker runs are reproducible: with 2 or more workers the order in which their updates
reach the global network depends on the operating system's scheduling (documented in the
module). The performance bar (CartPole-v1 greedy return >= 475 on 4 of 5 seeds with 2 workers,
median wall <= 180 s) is measured by ``python -m rlnotes bench a3c``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import psutil
import pytest
import torch

from rlnotes.algos import TrainResult, a2c, a3c

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_shared_rmsprop_matches_torch_rmsprop():
    torch.manual_seed(0)
    p1 = torch.nn.Parameter(torch.randn(3, 4))
    p2 = torch.nn.Parameter(p1.detach().clone())
    ours = a3c.SharedRMSprop([p1], alpha=0.9, eps=1e-3).share_memory()
    ref = torch.optim.RMSprop([p2], lr=0.05, alpha=0.9, eps=1e-3)
    for _ in range(5):
        g = torch.randn(3, 4)
        ours.step([g], lr=0.05)
        p2.grad = g.clone()
        ref.step()
    torch.testing.assert_close(p1.detach(), p2.detach(), rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(ours.square_avg[0], ref.state[p2]["square_avg"])
    assert ours.square_avg[0].is_shared()


def short(seed, steps=2000, **kw):
    cfg = a3c.Config(**{**dict(n_workers=1, n_steps=16), **kw})
    return a3c.train("CartPole-v1", cfg, seed=seed, total_steps=steps, progress=False)


def _children():
    """Live worker processes of this process. (The spawn context also starts multiprocessing's
    resource tracker, a helper that lives as long as its parent; it is not a worker.)"""
    out = []
    for c in psutil.Process().children(recursive=True):
        try:
            if c.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(c.cmdline()):
                out.append(c)
        except psutil.NoSuchProcess:
            pass
    return out


def test_one_worker_is_reproducible_and_leaves_no_process():
    a, b = short(3), short(3)
    assert isinstance(a, TrainResult) and isinstance(a.agent, a2c.ActorCritic)
    assert len(a.history) > 20
    assert [h[:2] for h in a.history] == [h[:2] for h in b.history]    # all but the wall column
    for p, q in zip(a.agent.parameters(), b.agent.parameters()):
        assert torch.equal(p, q)
    assert not any(p.is_shared() for p in a.agent.parameters())       # a private copy
    assert a.stats["env_steps"] >= 2000 and (np.diff(a.steps) >= 0).all()
    assert _children() == []


def test_two_workers_share_the_counter_and_the_network():
    r = short(0, steps=3000, n_workers=2)
    K = r.config.envs_per_worker
    assert r.stats["n_workers"] == 2 and 3000 <= r.stats["env_steps"] < 3000 + 2 * 16 * K
    assert (np.diff(r.steps) >= 0).all() and r.steps[-1] <= r.stats["env_steps"]
    assert sum(r.returns) <= r.stats["env_steps"]          # CartPole: reward 1 per step
    assert _children() == []


def test_keyboard_interrupt_stops_every_worker(tmp_path):
    """Ctrl-C reaches every process of the group: the workers must ignore it (no traceback from
    them), the main process must stop and join them and exit with its own message."""
    script = tmp_path / "run_a3c.py"
    script.write_text(textwrap.dedent("""
        import sys
        from rlnotes.algos import a3c
        if __name__ == "__main__":
            try:
                a3c.train("CartPole-v1", a3c.Config(n_workers=2), seed=0,
                          total_steps=10_000_000, progress=False)
            except KeyboardInterrupt:
                print("interrupted cleanly", flush=True)
                sys.exit(130)
    """))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
                            preexec_fn=_default_sigint)
    parent = psutil.Process(proc.pid)
    try:
        deadline = time.monotonic() + 60
        workers = []
        while time.monotonic() < deadline:      # wait until both workers run (spawn: ~2 s)
            workers = [c for c in parent.children(recursive=True)
                       if "spawn_main" in " ".join(c.cmdline())]
            if len(workers) == 2:
                break
            time.sleep(0.2)
        assert len(workers) == 2, "the two worker processes did not start"
        time.sleep(3.0)                         # let them train for a moment
        os.killpg(proc.pid, signal.SIGINT)      # like Ctrl-C: to the whole process group
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:                 # the test failed: leave no process behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "A3C interrupted: stopping the workers" in out and "interrupted cleanly" in out
    assert "Traceback" not in err, err
    gone, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == [], f"orphaned worker processes: {alive}"


def test_bad_input():
    """(Bad Config values and budgets: tests/test_config.py.)"""
    with pytest.raises(TypeError, match="Config"):
        a3c.train("CartPole-v1", config=a2c.Config())
    with pytest.raises(ValueError, match="Discrete action spaces only"):
        a3c.train("Pendulum-v1", seed=0, total_steps=64, progress=False)
    assert _children() == []


def test_a_script_without_the_main_guard_gets_an_error_that_names_the_guard(tmp_path):
    """Workers are spawned: each runs the main script again. A script that calls train() at its
    top level makes every worker die while it starts; the main process says why and what to do."""
    script = tmp_path / "unguarded_a3c.py"
    script.write_text(textwrap.dedent("""
        from rlnotes.algos import a3c
        a3c.train("CartPole-v1", a3c.Config(n_workers=1), seed=0, total_steps=256, progress=False)
        print("trained")
    """))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ROOT}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 1 and "trained" not in proc.stdout
    last = proc.stderr.strip().splitlines()[-1]                   # the main process's error
    assert last.startswith("RuntimeError: A3C worker a3c-worker-0 died while starting"), proc.stderr
    assert "unguarded_a3c.py calls a3c.train(...) at its top level" in last
    assert 'under  if __name__ == "__main__":' in last
    assert "During handling of the above exception" not in proc.stderr


def test_workers_stop_when_the_main_process_is_killed(tmp_path):
    """If the main process dies without cleaning up (SIGKILL, a crash), its workers notice and
    exit instead of training forever as orphans."""
    script = tmp_path / "run_a3c_forever.py"
    script.write_text(textwrap.dedent("""
        from rlnotes.algos import a3c
        if __name__ == "__main__":
            a3c.train("CartPole-v1", a3c.Config(n_workers=2), seed=0, total_steps=10_000_000,
                      progress=False)
    """))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True,
                            preexec_fn=_default_sigint)
    parent = psutil.Process(proc.pid)
    workers = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [c for c in parent.children(recursive=True)
                       if "spawn_main" in " ".join(c.cmdline())]
            time.sleep(0.2)
        assert len(workers) == 2, "the two worker processes did not start"
        # kill the main process while the workers train, not while they import: wait until
        # each has used a few CPU seconds (however long that takes on a busy machine)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and min(sum(w.cpu_times()[:2]) for w in workers) < 4.0:
            time.sleep(0.2)
        assert all(w.is_running() for w in workers), "a worker stopped before the test killed its main process"
        proc.kill()                             # SIGKILL to the main process only
        proc.wait()
        gone, alive = psutil.wait_procs(workers, timeout=30)
        assert alive == [], f"workers outlived their main process: {alive}"
    finally:
        for w in workers:
            if w.is_running():
                w.kill()


def _default_sigint():
    """In the child, before exec: Ctrl-C does what it does in a terminal. (A test run started in
    the background of a non-interactive shell, as CI may do, inherits SIGINT *ignored*, and
    Python would then never raise KeyboardInterrupt.)"""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
