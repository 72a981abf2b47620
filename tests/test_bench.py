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
    # no peer: no peer numbers
    (row,) = summary_rows({"toy": {"ours": ours, "peer": None}}, window=3)
    assert row["peer_to_threshold"] is None and row["peer_settings"] is None
    assert row["threshold_ratio"] is None and row["ratio"] is None
