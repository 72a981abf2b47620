"""The committed benchmark results (benchmarks/*.json) behind the appendix and the closing
chapter: complete, self-consistent, and summarised correctly."""
from __future__ import annotations

import json
import math
import pathlib

import pytest

from rlnotes.bench import ALGOS, TRAIN_WINDOW, load_results, summary_rows
from rlnotes.peers import PEERS
from tests.test_bench import reference_first_reach

DATA = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


def _median(xs):                                   # a plain reference, not numpy
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


@pytest.mark.parametrize("algo", list(ALGOS))
def test_every_algorithm_has_committed_results(algo):
    path = DATA / f"{algo}.json"
    assert path.exists(), (f"no committed benchmark for {algo}: run `python -m rlnotes bench {algo} "
                           f"--peers --out benchmarks` and commit benchmarks/{algo}.json")
    data = json.loads(path.read_text())
    assert data["algo"] == algo and data["env_id"] == ALGOS[algo][1]
    assert data["threshold"] == ALGOS[algo][2]
    assert len(data["seeds"]) == 5 and sorted(s["seed"] for s in data["seeds"]) == [0, 1, 2, 3, 4]
    assert data["total_steps_override"] is None, "the appendix shows default-Config runs only"
    for key in ("cpu_model", "cpu_cores", "date", "torch", "gymnasium", "rlnotes"):
        assert data["machine"].get(key), f"{algo}.json does not say {key!r}"
    if algo in PEERS:
        assert (DATA / f"{algo}-sb3.json").exists(), f"{algo} has a peer but no {algo}-sb3.json"


@pytest.mark.parametrize("name", [p.stem for p in sorted(DATA.glob("*.json"))])
def test_results_are_self_consistent(name):
    data = json.loads((DATA / f"{name}.json").read_text())
    threshold = ALGOS[data["algo"]][2]
    for s in data["seeds"]:
        assert s["history"], f"{name}.json seed {s['seed']} has no training episodes (history)"
        assert all(len(h) == 3 for h in s["history"]), "history rows are [env_step, return, wall]"
        mean = sum(s["eval_returns"]) / len(s["eval_returns"])
        assert s["eval_mean"] == pytest.approx(mean)
        assert s["solved"] == (mean >= threshold)
        assert len(s["eval_returns"]) == 10
        steps = [h[0] for h in s["history"]]
        assert steps == sorted(steps) and steps[-1] <= s["env_steps"]
    assert data["n_solved"] == sum(s["solved"] for s in data["seeds"])
    walls = [h[2] for s in data["seeds"] for h in s["history"]]
    assert min(walls) >= 0, "the wall column of a history is seconds since training started"
    assert data["median_wall_seconds"] == pytest.approx(_median([s["wall_seconds"] for s in data["seeds"]]))


def test_summary_rows_match_a_plain_recomputation():
    results = load_results(DATA)
    assert list(results) == [a for a in ALGOS if a in results], "rows follow the order of ALGOS"
    for row in summary_rows(results):
        ours = json.loads((DATA / f"{row['algo']}.json").read_text())["seeds"]
        assert row["solved"] == sum(1 for s in ours if s["eval_mean"] >= row["threshold"])
        assert row["median_wall"] == pytest.approx(_median([s["wall_seconds"] for s in ours]))
        assert row["median_steps"] == pytest.approx(_median([s["env_steps"] for s in ours]))
        assert row["median_eval"] == pytest.approx(_median([s["eval_mean"] for s in ours]))
        _check_time_to_threshold(row["to_threshold"], ours, row["threshold"])
        peer_path = DATA / f"{row['algo']}-sb3.json"
        if peer_path.exists():
            peer = json.loads(peer_path.read_text())["seeds"]
            assert row["ratio"] == pytest.approx(row["median_wall"] / _median([s["wall_seconds"] for s in peer]))
            assert row["peer_median_steps"] == pytest.approx(_median([s["env_steps"] for s in peer]))
            assert row["peer_median_eval"] == pytest.approx(_median([s["eval_mean"] for s in peer]))
            _check_time_to_threshold(row["peer_to_threshold"], peer, row["threshold"])
            ours_t, peer_t = row["to_threshold"]["median_wall"], row["peer_to_threshold"]["median_wall"]
            if math.isinf(ours_t) or math.isinf(peer_t):
                assert row["threshold_ratio"] is None
            else:
                assert row["threshold_ratio"] == pytest.approx(ours_t / peer_t)
            assert row["peer_settings"]["budget"] == peer[0]["config"]["total_timesteps"]
        else:
            assert row["ratio"] is None and row["peer"] is None
            assert row["peer_to_threshold"] is None and row["threshold_ratio"] is None
        assert row["settings"]["budget"] == ours[0]["config"]["total_steps"]
        assert row["settings"]["steps_per_second"] == pytest.approx(_median([s["steps_per_second"] for s in ours]))


def _check_time_to_threshold(summary, seeds, threshold):
    """summary_rows' time to threshold, against the definition as a plain loop over each history."""
    assert summary["window"] == TRAIN_WINDOW
    steps, wall = [], []
    for s in seeds:
        i = reference_first_reach(s["history"], threshold, TRAIN_WINDOW)
        steps.append(math.inf if i is None else s["history"][i][0])
        wall.append(math.inf if i is None else s["history"][i][2])
    assert summary["steps"] == steps and summary["wall"] == wall
    assert summary["reached"] == sum(x < math.inf for x in steps)
    assert summary["median_steps"] == _median(steps) and summary["median_wall"] == _median(wall)
    assert (summary["min_steps"], summary["max_steps"]) == (min(steps), max(steps))


def test_load_results_names_the_command_when_there_is_no_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m rlnotes bench --all --peers"):
        load_results(tmp_path)
