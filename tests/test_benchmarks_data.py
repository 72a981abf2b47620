"""The committed benchmark results (benchmarks/*.json) behind the appendix and the closing
chapter: complete, self-consistent, and summarised correctly; the script that merges the parts
of a run (benchmarks/merge.py); the sensitivity sweep (benchmarks/sensitivity/); and the
appendix's computed numbers (its tables and glued values) against plain recomputations."""
from __future__ import annotations

import copy
import importlib.util
import itertools
import json
import math
import pathlib
import re
import statistics
from dataclasses import asdict

import pytest

from rlnotes.bench import ALGOS, TRAIN_WINDOW, default_config, load_results, summary_rows
from rlnotes.peers import PEERS
from tests.test_bench import reference_first_reach

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks"
SWEEP = "sensitivity"                              # the --set sweep of the appendix, under DATA


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
    seeds = [s["seed"] for s in data["seeds"]]
    assert len(seeds) >= 5 and len(set(seeds)) == len(seeds), f"{algo}.json: at least 5 seeds, each once"
    assert data.get("n_seeds", len(seeds)) == len(seeds)
    assert data["total_steps_override"] is None, "the appendix shows default-Config runs only"
    for key in ("cpu_model", "cpu_cores", "date", "torch", "gymnasium", "rlnotes"):
        assert data["machine"].get(key), f"{algo}.json does not say {key!r}"
    if algo in PEERS:
        assert (DATA / f"{algo}-sb3.json").exists(), f"{algo} has a peer but no {algo}-sb3.json"
        peer = [s["seed"] for s in json.loads((DATA / f"{algo}-sb3.json").read_text())["seeds"]]
        assert len(peer) >= 5 and len(set(peer)) == len(peer)
        assert set(peer) <= set(seeds), f"{algo}: the peer ran seeds ours did not ({sorted(set(peer) - set(seeds))})"
    for cfg in (s["config"] for s in data["seeds"]):
        assert cfg == data["seeds"][0]["config"], f"{algo}.json mixes Configs (see benchmarks/merge.py)"


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
            paired = [s for s in ours if s["seed"] in {q["seed"] for q in peer}]    # ran beside the peer
            assert row["paired_seeds"] == len(paired) == len(peer)
            assert row["ratio"] == pytest.approx(_median([s["wall_seconds"] for s in paired])
                                                 / _median([s["wall_seconds"] for s in peer]))
            assert row["peer_median_steps"] == pytest.approx(_median([s["env_steps"] for s in peer]))
            assert row["peer_median_eval"] == pytest.approx(_median([s["eval_mean"] for s in peer]))
            _check_time_to_threshold(row["peer_to_threshold"], peer, row["threshold"])
            _check_time_to_threshold(row["paired_to_threshold"], paired, row["threshold"])
            ours_t, peer_t = row["paired_to_threshold"]["median_wall"], row["peer_to_threshold"]["median_wall"]
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


# --------------------------------------------------------------------------------------------
# benchmarks/merge.py
# --------------------------------------------------------------------------------------------
def _merge_module():
    spec = importlib.util.spec_from_file_location("bench_merge", ROOT / "benchmarks" / "merge.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parts(tmp_path, name="ppo", split=2):
    """The committed <name>.json cut into two part folders (seeds[:split], seeds[split:])."""
    data = json.loads((DATA / f"{name}.json").read_text())
    dirs = []
    for i, rows in enumerate((data["seeds"][:split], data["seeds"][split:])):
        part = copy.deepcopy(data)
        part["seeds"] = rows
        part.pop("parts", None), part.pop("commands", None)
        d = tmp_path / f"p{i}"
        d.mkdir()
        (d / f"{name}.json").write_text(json.dumps(part))
        dirs.append(d)
    return data, dirs


@pytest.mark.parametrize("name", ["ppo", "ppo-sb3"])
def test_merge_joins_the_parts_and_recomputes_the_summary(tmp_path, name):
    merge = _merge_module()
    data, (a, b) = _parts(tmp_path, name)
    out = tmp_path / "out"
    assert merge.main([str(b), str(a), "--out", str(out), "--command", "bench --seeds X"]) == 0
    merged = json.loads((out / f"{name}.json").read_text())
    assert [r["seed"] for r in merged["seeds"]] == sorted(r["seed"] for r in data["seeds"])
    assert merged["seeds"] == sorted(data["seeds"], key=lambda r: r["seed"])
    assert merged["n_solved"] == sum(1 for r in data["seeds"] if r["solved"])
    assert merged["median_wall_seconds"] == pytest.approx(_median([r["wall_seconds"] for r in data["seeds"]]))
    assert merged["commands"] == ["bench --seeds X"] and len(merged["parts"]) == 2
    assert {k for k in data if k not in ("parts", "commands")} <= set(merged)


def test_merge_refuses_another_config_and_writes_nothing(tmp_path, capsys):
    merge = _merge_module()
    _, (a, b) = _parts(tmp_path)
    part = json.loads((b / "ppo.json").read_text())
    part["seeds"][-1]["config"]["lr"] *= 2
    (b / "ppo.json").write_text(json.dumps(part))
    out = tmp_path / "out"
    assert merge.main([str(a), str(b), "--out", str(out)]) == 1
    assert "lr=" in capsys.readouterr().err and not out.exists()


def test_merge_refuses_another_setting_or_a_seed_twice(tmp_path, capsys):
    merge = _merge_module()
    _, (a, b) = _parts(tmp_path)
    assert merge.main([str(a), str(a), "--out", str(tmp_path / "out")]) == 1
    assert "each seed must be counted once" in capsys.readouterr().err
    part = json.loads((b / "ppo.json").read_text())
    part["threshold"] = 400.0
    (b / "ppo.json").write_text(json.dumps(part))
    assert merge.main([str(a), str(b), "--out", str(tmp_path / "out")]) == 1
    assert "threshold=400.0" in capsys.readouterr().err and not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# The sensitivity sweep (benchmarks/sensitivity/)
# --------------------------------------------------------------------------------------------
def _sweep():
    return [json.loads(p.read_text()) for p in sorted((DATA / SWEEP).glob("*.json"))]


def test_the_sweep_is_a_complete_grid_of_one_algorithm():
    sweep = _sweep()
    assert sweep, f"no sweep in {DATA / SWEEP}: python -m rlnotes bench ppo --set ... --out {DATA / SWEEP}"
    algo, fields = sweep[0]["algo"], sorted(sweep[0]["overrides"])
    values = {f: {d["overrides"][f] for d in sweep} for f in fields}
    assert sorted(tuple(d["overrides"][f] for f in fields) for d in sweep) == sorted(
        itertools.product(*(sorted(values[f]) for f in fields))), "every combination, once"
    default = default_config(algo)
    seeds = sorted(s["seed"] for s in sweep[0]["seeds"])
    for d in sweep:
        assert d["algo"] == algo and sorted(d["overrides"]) == fields and d["total_steps_override"] is None
        assert sorted(s["seed"] for s in d["seeds"]) == seeds, "every setting on the same seeds"
        for s in d["seeds"]:
            expected = {**json.loads(json.dumps(asdict(default))), **d["overrides"]}
            assert s["config"] == expected, "the default Config with the setting's overrides, nothing else"
            assert s["solved"] == (s["eval_mean"] >= d["threshold"])
    for f in fields:
        assert getattr(default, f) in values[f], f"the default {f} is not in the grid, so it cannot be marked"


# --------------------------------------------------------------------------------------------
# The appendix's numbers: its code cells run here, their tables and glued values recomputed
# --------------------------------------------------------------------------------------------
def _iqm(xs):                                      # the 25 % trimmed mean, as a plain loop
    xs = sorted(xs)
    k = len(xs) // 4
    middle = xs[k:len(xs) - k]
    return sum(middle) / len(middle)


def _table(markdowns, first_columns):
    """The rows of the Markdown table whose header starts with ``first_columns``, as dicts."""
    for text in markdowns:
        lines = [line for line in text.splitlines() if line.startswith("|")]
        if lines and [c.strip() for c in lines[0].strip("|").split("|")][:len(first_columns)] == first_columns:
            header = [c.strip() for c in lines[0].strip("|").split("|")]
            return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")))) for line in lines[2:]]
    raise AssertionError(f"the page shows no table starting with {first_columns}")


@pytest.fixture(scope="module")
def page():
    """Run the appendix's code cells; return (glued values, Markdown outputs, the cells' namespace)."""
    import IPython.display
    import matplotlib
    import myst_nb

    import rlnotes.data

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    glued, shown = {}, []

    class Recorded(str):
        def __new__(cls, text):
            shown.append(text)
            return str.__new__(cls, text)

    mp = pytest.MonkeyPatch()
    mp.setattr(myst_nb, "glue", lambda name, value, display=True: glued.__setitem__(name, value))
    mp.setattr(IPython.display, "Markdown", Recorded)
    mp.setattr(IPython.display, "display", lambda *a, **k: None)
    mp.setattr(rlnotes.data, "data_path", lambda *parts: DATA.joinpath(*parts[1:]))
    mp.setattr(plt, "show", lambda *a, **k: plt.close("all"))
    nb = json.loads((ROOT / "book" / "benchmarks.ipynb").read_text())
    namespace = {}
    try:
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                exec(compile("".join(cell["source"]), f"benchmarks.ipynb:{cell['id']}", "exec"), namespace)
    finally:
        mp.undo()
        plt.close("all")
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return glued, shown, markdown


def test_every_glued_name_in_the_text_is_computed(page):
    glued, _, markdown = page
    used = set(re.findall(r"\{glue:text\}`([^`]+)`", markdown))
    assert used and not used - set(glued), f"the text uses names no cell glues: {sorted(used - set(glued))}"


def test_seed_counts_in_the_text_are_the_data(page):
    glued, _, _ = page
    results = load_results(DATA)

    def text(seeds):                      # "0–19", or "0, 2, 5"; the prose says "seeds"
        seeds = sorted(seeds)
        consecutive = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
        return f"{seeds[0]}–{seeds[-1]}" if consecutive else ", ".join(map(str, seeds))
    for key, runs in (("n-seeds", [r["ours"] for r in results.values()]),
                      ("n-peer-seeds", [r["peer"] for r in results.values() if r["peer"]])):
        texts = {text([s["seed"] for s in run["seeds"]]) for run in runs}
        assert glued[key] == "; ".join(sorted(texts))


def test_iqm_table_and_its_counts_are_the_data(page):
    glued, shown, _ = page
    results = load_results(DATA)
    table = _table(shown, ["algorithm", "environment", "run", "seeds", "IQM of final return"])
    expected = [(a, side) for a, r in results.items() for side in ("ours", "peer") if r[side] is not None]
    assert [(row["algorithm"], "ours" if row["run"] == "rlnotes" else "peer") for row in table] == expected
    above = below = 0
    for row, (algo, side) in zip(table, expected):
        data = results[algo][side]
        finals = [s["eval_mean"] for s in data["seeds"]]
        assert int(row["seeds"]) == len(finals)
        assert float(row["IQM of final return"]) == pytest.approx(_iqm(finals), abs=0.051)
        low, high = map(float, re.fullmatch(r"\[(\S+), (\S+)\]", row["95 % CI"]).groups())
        assert min(finals) - 0.051 <= low <= float(row["IQM of final return"]) <= high <= max(finals) + 0.051
        threshold = results[algo]["ours"]["threshold"]
        above += low >= threshold
        below += high < threshold
    assert (glued["iqm-runs"], glued["iqm-above"], glued["iqm-below"]) == (str(len(table)), str(above), str(below))


def test_ratio_table_and_its_counts_are_the_data(page):
    glued, shown, _ = page
    rows = [r for r in summary_rows(load_results(DATA)) if r["peer"] is not None]
    table = _table(shown, ["algorithm", "time to threshold, ours / peer"])
    assert [row["algorithm"] for row in table] == [r["algo"] for r in rows]
    below = above = 0
    for row, r in zip(table, rows):
        ours, peer = r["to_threshold"]["steps"], r["peer_to_threshold"]["steps"]
        steps = _median(ours) / _median(peer)
        shown_steps = row["steps to threshold, ours / peer"]
        if math.isfinite(steps):
            assert float(shown_steps) == pytest.approx(steps, abs=0.0051)
        else:
            assert shown_steps == "–"
        if row["95 % CI"] != "–":
            low, high = (math.inf if x == "∞" else float(x)
                         for x in re.fullmatch(r"\[(\S+), (\S+)\]", row["95 % CI"]).groups())
            assert low <= high
            below += high < 1
            above += low > 1
    assert (glued["ratio-n"], glued["ratio-below"], glued["ratio-above"]) == (str(len(rows)), str(below), str(above))


def test_sensitivity_numbers_are_the_data(page):
    glued, _, _ = page
    sweep = _sweep()
    algo = sweep[0]["algo"]
    default = default_config(algo)
    cells = {}
    for d in sweep:
        finals = [s["eval_mean"] for s in d["seeds"]]
        cells[tuple(d["overrides"].items())] = (sum(f >= d["threshold"] for f in finals), len(finals), _iqm(finals))
    default_cell = next(v for k, v in cells.items() if all(getattr(default, f) == x for f, x in k))
    assert glued["sens-default-solved"] == f"{default_cell[0]}/{default_cell[1]}"
    assert glued["sens-settings"] == str(len(sweep)) and glued["sens-algo"] == algo
    assert glued["sens-all-solved"] == str(sum(k == n for k, n, _ in cells.values()))
    worst = min(cells, key=lambda c: (cells[c][0], cells[c][2]))
    assert glued["sens-worst"] == ", ".join(f"{f} = {x:g}" for f, x in worst)
    assert glued["sens-worst-solved"] == f"{cells[worst][0]}/{cells[worst][1]}"
    assert float(glued["sens-worst-iqm"]) == pytest.approx(cells[worst][2], abs=0.051)
    to_reach = {}                                   # median env steps to threshold, from the plain definition
    for d in sweep:
        steps = [math.inf if (i := reference_first_reach(s["history"], d["threshold"], TRAIN_WINDOW)) is None
                 else s["history"][i][0] for s in d["seeds"]]
        to_reach[tuple(d["overrides"].items())] = _median(steps)
    fastest = min(to_reach, key=to_reach.get)
    assert glued["sens-fastest"] == ", ".join(f"{f} = {x:g}" for f, x in fastest)
    assert glued["sens-fastest-steps"] == f"{to_reach[fastest]:,.0f}"
    default_steps = next(v for k, v in to_reach.items() if all(getattr(default, f) == x for f, x in k))
    assert glued["sens-default-steps"] == ("not reached" if math.isinf(default_steps) else f"{default_steps:,.0f}")


def test_ddpg_numbers_in_the_text_are_the_data(page):
    glued, _, _ = page
    results = load_results(DATA)["ddpg"]
    finals = [s["eval_mean"] for s in results["ours"]["seeds"]]
    assert glued["ddpg-eval-min"] == f"{min(finals):.0f}".replace("-", "−")
    assert glued["ddpg-eval-max"] == f"{max(finals):.0f}".replace("-", "−")
    threshold = ALGOS["ddpg"][2]
    assert glued["ddpg-solved"] == f"{sum(f >= threshold for f in finals)}/{len(finals)}"
    peer = results["peer"]["seeds"]
    assert glued["ddpg-peer-solved"] == f"{sum(s['eval_mean'] >= threshold for s in peer)}/{len(peer)}"
    walls = [s["wall_seconds"] for s in results["ours"]["seeds"] if s["seed"] in {q["seed"] for q in peer}]
    assert float(glued["ddpg-wall"]) == pytest.approx(statistics.median(walls), abs=0.051)
