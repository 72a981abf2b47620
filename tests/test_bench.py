"""rlnotes.bench, the reading side: time to threshold on a training curve, its summary over
seeds, the settings of a run, and the appendix's summary rows — against plain loops on small
hand-made histories."""
from __future__ import annotations

import math

import pytest

from rlnotes.bench import (
    TRAIN_WINDOW,
    first_reach,
    format_spread,
    network_sizes,
    run_settings,
    steps_to_threshold,
    summary_rows,
    threshold_summary,
    wall_to_threshold,
)


def reference_first_reach(history, threshold, window):
    """The definition, as a plain loop: the first episode i (from the window-th on) whose last
    `window` returns have a mean >= threshold."""
    for i in range(window - 1, len(history)):
        total = 0.0
        for j in range(i - window + 1, i + 1):
            total += history[j][1]
        if total / window >= threshold:
            return i
    return None


def history_from(returns, steps_per_episode=10, seconds_per_episode=0.5):
    """[env_step, return, wall] per episode: episode i ends at step 10 (i + 1), second 0.5 (i + 1)."""
    return [[steps_per_episode * (i + 1), float(r), seconds_per_episode * (i + 1)]
            for i, r in enumerate(returns)]


RISING = [10, 20, 30, 40, 50, 60, 70, 80]          # windows of 3: means 20, 30, ..., 70
CASES = [
    # (returns, threshold, window, expected episode index)
    (RISING, 50, 3, 5),               # mean of 40, 50, 60 = 50 >= 50 (equality counts), at episode 5
    (RISING, 50.5, 3, 6),             # 60 at episode 6
    (RISING, 100, 3, None),           # never reached: censored
    ([500, 0, 0, 0, 0], 100, 1, 0),   # window 1: the first episode's own return
    ([500, 500], 400, 3, None),       # fewer episodes than the window: the curve is not defined yet
    ([], 0, 3, None),                 # no episode at all
    ([-300, -250, -190, -180, -170], -200, 2, 3),    # negative returns (Pendulum): (-190-180)/2 = -185
    ([400] * 19 + [0] + [500] * 25, 475, 20, 38),    # the bad episode and 19 perfect ones: 475 exactly
]


@pytest.mark.parametrize("returns, threshold, window, expected", CASES)
def test_first_reach_matches_the_definition(returns, threshold, window, expected):
    history = history_from(returns)
    assert reference_first_reach(history, threshold, window) == expected     # the cases are right
    assert first_reach(history, threshold, window) == expected


@pytest.mark.parametrize("returns, threshold, window, expected", CASES)
def test_steps_and_wall_to_threshold_read_the_episode_that_reached_it(returns, threshold, window, expected):
    history = history_from(returns)
    steps = steps_to_threshold(history, threshold, window)
    wall = wall_to_threshold(history, threshold, window)
    if expected is None:
        assert steps == math.inf and wall == math.inf
    else:
        assert steps == 10 * (expected + 1) and wall == pytest.approx(0.5 * (expected + 1))


def test_first_reach_agrees_with_the_loop_on_random_histories():
    import numpy as np

    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(0, 60))
        returns = rng.integers(0, 501, size=n).cumsum() % 501        # wandering, integer returns
        window = int(rng.integers(1, 25))
        threshold = float(rng.integers(100, 500))
        history = history_from(returns)
        assert first_reach(history, threshold, window) == reference_first_reach(history, threshold, window), \
            (trial, list(returns), threshold, window)


def test_first_reach_rejects_a_window_that_is_not_a_positive_count():
    for window in (0, -1, 2.5):
        with pytest.raises(ValueError, match="window"):
            first_reach(history_from(RISING), 50, window)


def test_the_default_window_is_the_learning_curves_20():
    assert TRAIN_WINDOW == 20


def _seed(returns, **kw):
    return {"history": history_from(returns, **kw)}


def test_threshold_summary_counts_censored_seeds_as_slower_than_every_other():
    fast, slow, never = _seed(RISING), _seed([0, 0] + RISING), _seed([0] * 8)
    s = threshold_summary([never, fast, slow], threshold=50, window=3)
    assert s["n"] == 3 and s["reached"] == 2 and s["window"] == 3
    assert s["steps"] == [math.inf, 60.0, 80.0]                # per seed, in the given order
    assert s["wall"] == [math.inf, 3.0, 4.0]
    assert (s["median_steps"], s["min_steps"], s["max_steps"]) == (80.0, 60.0, math.inf)
    assert (s["median_wall"], s["min_wall"], s["max_wall"]) == (4.0, 3.0, math.inf)
    # most seeds never get there: the median is "not reached"
    s = threshold_summary([never, never, fast], threshold=50, window=3)
    assert s["reached"] == 1 and s["median_steps"] == math.inf and s["min_steps"] == 60.0


def test_threshold_summary_of_an_even_number_of_seeds_averages_the_middle_two():
    s = threshold_summary([_seed(RISING), _seed([0, 0] + RISING)], threshold=50, window=3)
    assert s["median_steps"] == 70.0
    s = threshold_summary([_seed(RISING), _seed([0] * 8)], threshold=50, window=3)
    assert s["median_steps"] == math.inf                       # (60 + ∞) / 2


def test_format_spread_shows_infinity_for_not_reached():
    s = threshold_summary([_seed(RISING), _seed([0, 0] + RISING), _seed([0] * 8)], threshold=50, window=3)
    assert format_spread(s, "steps") == "80 (60–∞)"
    s = threshold_summary([_seed([0] * 8)] * 2, threshold=50, window=3)
    assert format_spread(s, "steps") == format_spread(s, "wall", 1) == "not reached"
    s = threshold_summary([_seed(RISING, steps_per_episode=10_000)] * 3, threshold=50, window=3)
    assert format_spread(s, "steps") == "60,000 (60,000–60,000)"
    assert format_spread(s, "wall", 1) == "3.0 (3.0–3.0)"


@pytest.mark.parametrize("config, expected", [
    ({"hidden_sizes": [64, 64], "value_hidden_sizes": [32], "baseline": "value"},
     "policy (64, 64), value (32)"),
    ({"hidden_sizes": [64, 64], "value_hidden_sizes": [64, 64], "baseline": "none"}, "policy (64, 64)"),
    ({"hidden_sizes": [64, 64], "value_hidden_sizes": [64, 64]}, "policy (64, 64), value (64, 64)"),  # PPO
    ({"hidden_sizes": [64, 64], "shared": False}, "policy (64, 64), value (64, 64)"),
    ({"hidden_sizes": [64, 64], "shared": True}, "shared (64, 64), two heads"),
    ({"hidden_sizes": [64, 64], "twin_critics": False}, "actor (64, 64), critic (64, 64)"),
    ({"hidden_sizes": [64, 64], "twin_critics": True}, "actor (64, 64), critic (64, 64) ×2"),
    ({"hidden_sizes": [128, 128], "eps_start": 1.0}, "Q (128, 128)"),
    ({"sb3_class": "PPO"}, "policy (64, 64), value (64, 64)"),                 # SB3's default
    ({"sb3_class": "A2C", "ent_coef": 0.0}, "policy (64, 64), value (64, 64)"),
    ({"sb3_class": "DQN", "policy_kwargs": {"net_arch": [256, 256]}}, "Q (256, 256)"),
    ({"sb3_class": "DQN"}, "Q (64, 64)"),
    ({"sb3_class": "DDPG", "policy_kwargs": {"net_arch": [400, 300], "n_critics": 1}},
     "actor (400, 300), critic (400, 300)"),
    ({"sb3_class": "PPO", "policy_kwargs": {"net_arch": {"pi": [32], "vf": [16, 16]}}},
     "policy (32), value (16, 16)"),
])
def test_network_sizes_describes_each_kind_of_run(config, expected):
    assert network_sizes(config) == expected


def _run(config, steps_per_second, **extra):
    return {"seeds": [{"config": config, "steps_per_second": v, **extra} for v in steps_per_second]}


def test_run_settings_reads_budget_envs_networks_and_median_throughput():
    ours = run_settings(_run({"total_steps": 60_000, "n_envs": 8, "hidden_sizes": [64, 64],
                              "value_hidden_sizes": [64, 64]}, [100.0, 300.0, 200.0]))
    assert ours == {"name": "rlnotes", "budget": 60_000, "networks": "policy (64, 64), value (64, 64)",
                    "n_envs": "8", "steps_per_second": 200.0}
    a3c = run_settings(_run({"total_steps": 10, "n_workers": 2, "envs_per_worker": 4,
                             "hidden_sizes": [64, 64], "shared": False}, [1.0]))
    assert a3c["n_envs"] == "2 × 4"
    ddpg = run_settings(_run({"total_steps": 10, "hidden_sizes": [64, 64], "twin_critics": False}, [1.0, 3.0]))
    assert ddpg["n_envs"] == "1" and ddpg["steps_per_second"] == 2.0
    peer = run_settings(_run({"sb3_class": "DQN", "n_envs": 1, "total_timesteps": 50_000,
                              "policy_kwargs": {"net_arch": [256, 256]}}, [5.0]))
    assert peer == {"name": "SB3 DQN", "budget": 50_000, "networks": "Q (256, 256)", "n_envs": "1",
                    "steps_per_second": 5.0}


def _summary(histories, threshold, wall=10.0, config=None, solved=True):
    config = config or {"total_steps": 100, "n_envs": 1, "hidden_sizes": [8], "eps_start": 1.0}
    return {"algo": "toy", "peer": "DQN", "env_id": "Toy-v0", "threshold": threshold,
            "machine": {"date": "today", "cpu_model": "cpu"},
            "seeds": [{"seed": k, "history": h, "env_steps": 100, "wall_seconds": wall,
                       "steps_per_second": 100 / wall, "eval_mean": threshold, "solved": solved,
                       "config": config} for k, h in enumerate(histories)]}


def test_summary_rows_add_time_to_threshold_and_the_like_for_like_ratio():
    ours = _summary([history_from(RISING), history_from([0, 0] + RISING), history_from([0] * 8)], 50)
    peer = _summary([history_from(RISING, seconds_per_episode=2.0)] * 3, 50, wall=40.0,
                    config={"sb3_class": "DQN", "n_envs": 1, "total_timesteps": 200})
    results = {"toy": {"ours": ours, "peer": peer}}
    (row,) = summary_rows(results, window=3)
    assert row["ratio"] == pytest.approx(10.0 / 40.0)               # whole runs (unchanged key)
    assert row["window"] == 3 and row["to_threshold"]["reached"] == 2
    assert row["to_threshold"]["median_wall"] == 4.0                 # seeds: 3.0 s, 4.0 s, never
    assert row["peer_to_threshold"]["median_wall"] == 12.0           # episode 5 at 2 s per episode
    assert row["threshold_ratio"] == pytest.approx(4.0 / 12.0)
    assert row["settings"]["budget"] == 100 and row["peer_settings"]["budget"] == 200
    # a median that is not reached gives no ratio
    results["toy"]["ours"] = _summary([history_from([0] * 8)] * 3, 50)
    (row,) = summary_rows(results, window=3)
    assert row["to_threshold"]["median_wall"] == math.inf and row["threshold_ratio"] is None
    # wall times are compared on the seeds both sides ran (side by side): a seed of ours the
    # peer did not run, however slow, changes neither ratio
    slow = _summary([history_from([0] * 6 + RISING, seconds_per_episode=100.0)] * 4, 50, wall=1000.0)["seeds"]
    extra = [x | {"seed": 7 + k} for k, x in enumerate(slow)]         # 4 slow seeds the peer did not run
    results["toy"]["ours"] = ours | {"seeds": ours["seeds"] + extra}
    (row,) = summary_rows(results, window=3)
    assert row["seeds"] == 7 and row["paired_seeds"] == 3 and row["median_wall"] == 1000.0
    assert row["ratio"] == pytest.approx(10.0 / 40.0) and row["threshold_ratio"] == pytest.approx(4.0 / 12.0)
    assert row["to_threshold"]["reached"] == 6                       # steps use every seed
    # no peer: no peer numbers
    (row,) = summary_rows({"toy": {"ours": ours, "peer": None}}, window=3)
    assert row["peer_to_threshold"] is None and row["peer_settings"] is None
    assert row["threshold_ratio"] is None and row["ratio"] is None


# --------------------------------------------------------------------------------------------
# Running: nothing finished is lost (fast: run_seed replaced by a stand-in that records its calls)
# --------------------------------------------------------------------------------------------
import dataclasses  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
from dataclasses import asdict  # noqa: E402

import rlnotes.bench as bench_mod  # noqa: E402


def fake_row(algo, seed, steps, overrides=None):
    """A seed row as run_seed writes it, for the default Config of ``algo`` (with ``overrides``)
    and budget ``steps``."""
    config = json.loads(json.dumps({**asdict(bench_mod.default_config(algo)), **(overrides or {})}))
    config["total_steps"] = steps
    returns = [10.0 + seed, 12.0 + seed]
    return {"seed": seed, "env_steps": steps, "wall_seconds": 1.0, "steps_per_second": float(steps),
            "eval_returns": returns, "eval_mean": sum(returns) / 2, "eval_std": 1.0, "solved": False,
            "training_episodes": 3, "stats": {}, "config": config,
            "history": [[steps // 3, 9.0, 0.3], [2 * steps // 3, 10.0, 0.6], [steps, 11.0, 1.0]]}


@pytest.fixture
def fake_runs(monkeypatch):
    """Replace run_seed: returns fake rows and records (algo, seed); `fail` maps what should raise."""
    calls, fail = [], {}

    def run_seed(algo, seed, steps=None, progress=True, env_id=None, overrides=None):
        calls.append((algo, seed) if not overrides else (algo, seed, overrides))
        if (algo, seed) in fail:
            raise fail[(algo, seed)]
        return fake_row(algo, seed, steps, overrides)
    monkeypatch.setattr(bench_mod, "run_seed", run_seed)
    monkeypatch.setattr(bench_mod, "machine_info", lambda: {"cpu_model": "test", "torch_threads": 1})
    return calls, fail


def seeds_in(path):
    return [r["seed"] for r in json.loads(path.read_text())["seeds"]]


def test_bench_writes_each_seed_as_soon_as_it_finishes(tmp_path, fake_runs):
    calls, fail = fake_runs
    written = []
    real_write = bench_mod._write_json

    def spy(path, data):                              # what is on disk after each seed
        real_write(path, data)
        written.append(seeds_in(path))
    bench_mod._write_json = spy
    try:
        bench_mod.bench(["reinforce"], seeds=[0, 1, 2], steps=300, out=tmp_path, file=io.StringIO())
    finally:
        bench_mod._write_json = real_write
    assert written == [[0], [0, 1], [0, 1, 2]]
    summary = json.loads((tmp_path / "reinforce.json").read_text())
    assert summary["n_seeds"] == 3 and summary["total_steps_override"] == 300
    assert (tmp_path / "reinforce.csv").read_text().count("\n") == 4 and (tmp_path / "reinforce.png").exists()
    assert set(bench_mod.load_results(tmp_path)) == {"reinforce"}     # the reading side still reads it


def test_ctrl_c_keeps_the_finished_seeds_and_prints_the_resume_command(tmp_path, fake_runs):
    calls, fail = fake_runs
    fail[("reinforce", 1)] = KeyboardInterrupt()
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        bench_mod.bench(["reinforce", "dqn"], seeds=[0, 1, 2], steps=300, out=tmp_path, file=out)
    assert calls == [("reinforce", 0), ("reinforce", 1)]                # dqn never started
    assert seeds_in(tmp_path / "reinforce.json") == [0]
    assert (tmp_path / "reinforce.csv").read_text().count("\n") == 2    # header + seed 0
    text = out.getvalue()
    assert "kept reinforce seed 0" in text
    assert (f"python -m rlnotes bench reinforce dqn --seeds 0 1 2 --steps 300 --out {tmp_path} --resume"
            in text)


def test_resume_skips_the_seeds_already_run_with_the_same_config(tmp_path, fake_runs):
    calls, fail = fake_runs
    bench_mod.bench(["reinforce"], seeds=[0, 1], steps=300, out=tmp_path, file=io.StringIO())
    calls.clear()
    bench_mod.bench(["reinforce"], seeds=[0, 1, 2], steps=300, out=tmp_path, file=io.StringIO(), resume=True)
    assert calls == [("reinforce", 2)]
    assert seeds_in(tmp_path / "reinforce.json") == [0, 1, 2]
    calls.clear()                                      # another budget: nothing can be kept
    bench_mod.bench(["reinforce"], seeds=[0, 1], steps=400, out=tmp_path, file=io.StringIO(), resume=True)
    assert calls == [("reinforce", 0), ("reinforce", 1)]
    calls.clear()                                      # without resume every seed runs again
    bench_mod.bench(["reinforce"], seeds=[0], steps=400, out=tmp_path, file=io.StringIO())
    assert calls == [("reinforce", 0)] and seeds_in(tmp_path / "reinforce.json") == [0]


def test_a_failing_algorithm_is_reported_and_the_others_still_run(tmp_path, fake_runs, capsys):
    calls, fail = fake_runs
    fail[("dqn", 1)] = ValueError("something broke")
    with pytest.raises(bench_mod.BenchFailed, match="dqn failed on seed 1: ValueError: something broke") as info:
        bench_mod.bench(["dqn", "reinforce"], seeds=[0, 1, 2], steps=2000, out=tmp_path, file=io.StringIO())
    assert calls == [("dqn", 0), ("dqn", 1), ("reinforce", 0), ("reinforce", 1), ("reinforce", 2)]
    assert seeds_in(tmp_path / "dqn.json") == [0] and seeds_in(tmp_path / "reinforce.json") == [0, 1, 2]
    assert set(info.value.summaries) == {"dqn", "reinforce"} and list(info.value.failures) == ["dqn"]
    err = capsys.readouterr().err
    assert "dqn failed on seed 1: ValueError: something broke" in err and len(err.strip().splitlines()) == 1
    assert "ValueError: something broke" in (tmp_path / "dqn-error.txt").read_text()   # the traceback


def test_a_real_failure_does_not_stop_the_others(tmp_path, monkeypatch):
    """No stand-in: an algorithm whose env cannot work with it (DDPG on a discrete env) fails in
    train, the next one still runs."""
    monkeypatch.setitem(bench_mod.ALGOS, "ddpg", ("rlnotes.algos.ddpg", "CartPole-v1", 475.0))
    with pytest.raises(bench_mod.BenchFailed, match=r"ddpg failed on seed 0: ValueError: .*use DQN"):
        bench_mod.bench(["ddpg", "reinforce"], seeds=[0], steps=500, out=tmp_path, file=io.StringIO(),
                        progress=False)
    assert seeds_in(tmp_path / "reinforce.json") == [0] and not (tmp_path / "ddpg.json").exists()


def test_an_unwritable_out_folder_is_refused_before_any_training(fake_runs):
    calls, fail = fake_runs
    with pytest.raises(ValueError, match=r"cannot write the results to '/proc/no-such-dir'.*Choose another"):
        bench_mod.bench(["reinforce"], seeds=[0], out="/proc/no-such-dir", file=io.StringIO())
    assert calls == []


@pytest.mark.parametrize("algo, field_names", [
    ("dqn", ("learning_starts", "train_freq")), ("ddpg", ("learning_starts", "train_freq")),
    ("ppo", ("n_envs", "n_steps")), ("ppo-pendulum", ("n_envs", "n_steps")), ("a2c", ("n_envs", "n_steps")),
    ("a3c", ("n_workers", "envs_per_worker", "n_steps")), ("reinforce", ("batch_steps",)),
])
def test_a_budget_below_an_algorithms_minimum_gets_a_note_before_training(algo, field_names):
    config = bench_mod.default_config(algo)
    values = [getattr(config, f) for f in field_names]
    minimum = sum(values) if "learning_starts" in field_names else math.prod(values)
    assert bench_mod.minimum_steps(config)[0] == minimum
    (note,) = bench_mod.budget_notes([algo], minimum - 1)
    assert note.startswith(("warning: ", "note: ")) and f"Use --steps {minimum} or more" in note
    assert bench_mod.budget_notes([algo], minimum) == bench_mod.budget_notes([algo], None) == []
    if "learning_starts" in field_names:
        assert "untrained agent" in note


# --------------------------------------------------------------------------------------------
# Sweeps: --set FIELD=V1,V2 (a grid of Config settings), one task per (algorithm, setting, seed)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, field, values", [
    ("lr=1e-3,3e-3", "lr", [0.001, 0.003]),
    ("lr=0.01", "lr", [0.01]),
    ("hidden_sizes=(32, 32),(64,64)", "hidden_sizes", [(32, 32), (64, 64)]),   # commas in brackets
    ("max_grad_norm=None,0.5", "max_grad_norm", [None, 0.5]),
    ("baseline=value,'none'", "baseline", ["value", "none"]),                  # a bare word is a string
    ("normalize_advantages=True,False", "normalize_advantages", [True, False]),
])
def test_parse_set_reads_python_literals(text, field, values):
    assert bench_mod.parse_set(text) == (field, values)


@pytest.mark.parametrize("text, message", [
    ("lr", "expected FIELD=V1,V2"), ("=1", "expected FIELD=V1,V2"), ("lr=", "an empty value"),
    ("lr=1,,2", "an empty value"), ("lr=1e-3+", "is not a Python literal"),
])
def test_parse_set_refuses_what_it_cannot_read(text, message):
    with pytest.raises(ValueError, match=message):
        bench_mod.parse_set(text)


def test_a_set_grid_runs_every_combination_each_setting_in_its_own_file(tmp_path, fake_runs):
    calls, fail = fake_runs
    grid = {"lr": [0.001, 0.003], "gamma": [0.9, 0.99]}
    bench_mod.bench(["reinforce"], seeds=[0, 1], steps=300, out=tmp_path, file=io.StringIO(), grid=grid)
    expected = [("reinforce", seed, {"lr": lr, "gamma": gamma})
                for lr in grid["lr"] for gamma in grid["gamma"] for seed in (0, 1)]
    assert calls == expected                                   # 2 x 2 settings x 2 seeds, each once
    for lr in grid["lr"]:
        for gamma in grid["gamma"]:
            data = json.loads((tmp_path / f"reinforce-lr={lr}-gamma={gamma}.json").read_text())
            assert data["overrides"] == {"lr": lr, "gamma": gamma} and seeds_in(
                tmp_path / f"reinforce-lr={lr}-gamma={gamma}.json") == [0, 1]
            assert (tmp_path / f"reinforce-lr={lr}-gamma={gamma}.csv").exists()
    assert not (tmp_path / "reinforce.json").exists()
    assert bench_mod.load_results(tmp_path) == {}              # a sweep's settings are not the default runs


def test_setting_config_applies_the_overrides_through_the_config():
    config = bench_mod.setting_config("ppo-pendulum", {"lr": 1e-3})
    assert config.lr == 1e-3
    assert config == dataclasses.replace(bench_mod.default_config("ppo-pendulum"), lr=1e-3)   # the env's preset
    assert bench_mod.setting_config("dqn") == bench_mod.default_config("dqn")


@pytest.mark.parametrize("algos, grid, message", [
    (["reinforce"], {"no_such_field": [1]}, r"reinforce\.Config \(reinforce\) has no field 'no_such_field'; "
                                            r"its fields are .*batch_steps.*Fix the --set"),
    (["reinforce"], {"lr": [0.01, -1]}, r"reinforce\.Config\.lr must be a positive number"),
    (["reinforce", "dqn"], {"batch_steps": [1000]}, r"dqn\.Config \(dqn\) has no field 'batch_steps'"),
])
def test_an_unknown_field_or_a_bad_value_is_refused_before_anything_runs(tmp_path, fake_runs, algos, grid, message):
    calls, fail = fake_runs
    with pytest.raises(ValueError, match=message):
        bench_mod.bench(algos, seeds=[0], steps=300, out=tmp_path, file=io.StringIO(), grid=grid)
    assert calls == [] and list(tmp_path.iterdir()) == []


def test_resume_of_a_sweep_keeps_each_settings_finished_seeds(tmp_path, fake_runs):
    calls, fail = fake_runs
    grid = {"lr": [0.001, 0.003]}
    fail[("reinforce", 1)] = KeyboardInterrupt()                # Ctrl-C during the first setting's seed 1
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        bench_mod.bench(["reinforce"], seeds=[0, 1], steps=300, out=tmp_path, file=out, grid=grid)
    assert "kept reinforce-lr=0.001 seed 0" in out.getvalue()
    assert (f"python -m rlnotes bench reinforce --seeds 0 1 --steps 300 --set lr=0.001,0.003 --out {tmp_path} "
            f"--resume") in out.getvalue()
    del fail[("reinforce", 1)]
    calls.clear()
    bench_mod.bench(["reinforce"], seeds=[0, 1], steps=300, out=tmp_path, file=io.StringIO(), grid=grid,
                    resume=True)
    assert calls == [("reinforce", 1, {"lr": 0.001}), ("reinforce", 0, {"lr": 0.003}),
                     ("reinforce", 1, {"lr": 0.003})]


def test_the_resume_command_gives_back_the_grid_and_the_ray_address():
    grid = dict([bench_mod.parse_set("hidden_sizes=(32, 32),(64, 64)"), bench_mod.parse_set("baseline=value,none")])
    command = bench_mod.resume_command(["reinforce"], [0, 1], None, "out", grid=grid, ray="127.0.0.1:6379")
    assert command == ("python -m rlnotes bench reinforce --seeds 0 1 --set 'hidden_sizes=(32, 32),(64, 64)' "
                       "--set baseline=value,none --out out --ray 127.0.0.1:6379 --resume")
    import shlex
    args = shlex.split(command)
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    assert dict(bench_mod.parse_set(s) for s in sets) == grid      # read back, the same grid
    assert bench_mod.resume_command(["dqn"], [0], 500, "o", ray="local").endswith("--out o --ray --resume")


def test_peers_with_ray_or_set_is_refused_before_anything_runs(tmp_path, fake_runs):
    calls, fail = fake_runs
    for kwargs in ({"ray": "local"}, {"grid": {"lr": [0.01]}}):
        with pytest.raises(ValueError, match="--peers runs the default settings"):
            bench_mod.bench(["reinforce"], seeds=[0], out=tmp_path, file=io.StringIO(), peers=True, **kwargs)
    assert calls == []
