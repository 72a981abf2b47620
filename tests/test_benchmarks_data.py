"""The committed benchmark results (benchmarks/*.json) behind the appendix and the closing
chapter: complete, self-consistent, and summarised correctly."""
from __future__ import annotations

import json
import pathlib

import pytest

from rlnotes.bench import ALGOS, load_results, summary_rows
from rlnotes.peers import PEERS

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


@pytest.mark.parametrize("algo", [a for a in ALGOS if (DATA / f"{a}.json").exists()])
def test_results_are_self_consistent(algo):
    data = json.loads((DATA / f"{algo}.json").read_text())
    for s in data["seeds"]:
        mean = sum(s["eval_returns"]) / len(s["eval_returns"])
        assert s["eval_mean"] == pytest.approx(mean)
        assert s["solved"] == (mean >= data["threshold"])
        assert len(s["eval_returns"]) == 10
        steps = [h[0] for h in s["history"]]
        assert steps == sorted(steps) and steps[-1] <= s["env_steps"]
    assert data["n_solved"] == sum(s["solved"] for s in data["seeds"])
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
        peer_path = DATA / f"{row['algo']}-sb3.json"
        if peer_path.exists():
            peer = json.loads(peer_path.read_text())["seeds"]
            assert row["ratio"] == pytest.approx(row["median_wall"] / _median([s["wall_seconds"] for s in peer]))
        else:
            assert row["ratio"] is None and row["peer"] is None


def test_load_results_names_the_command_when_there_is_no_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m rlnotes bench --all --peers"):
        load_results(tmp_path)
