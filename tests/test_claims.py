"""The recorded distributions behind the chapters' margins (benchmarks/claims/) support them.

Each chapter that asserts a claim about training runs records, in
``benchmarks/claims/<chapter>.json``, the statistic behind each assert for many seeds and
numerical variants (``python benchmarks/claims/run.py <chapter>``), with the comparison the
chapter makes (``op``, ``threshold``; ``over``: the chapter's statistic is over that many
seeds, checked here for every such set of recorded seeds). This test recomputes every value from
the recorded runs and checks that each satisfies the claim: a margin that the data do not
support fails here, before a reader's machine finds out.
"""
from __future__ import annotations

import json
import operator
import pathlib
import sys

import pytest

CLAIMS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "claims"
OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
# the chapters measured by run.py (a module with CLAIMS and measure(seed)); the other scripts
# in benchmarks/claims/ record their own tables, which their chapters' text cites
FILES = sorted(p for p in CLAIMS.glob("*.json") if "values" in json.loads(p.read_text()))
sys.path.insert(0, str(CLAIMS))
import run  # noqa: E402  (benchmarks/claims/run.py)


def test_there_are_recorded_claims():
    assert FILES, f"no recorded claims in {CLAIMS}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_recorded_value_satisfies_its_claim(path):
    data = json.loads(path.read_text())
    module = run.load(path.stem)
    checked = 0
    for name, claim in module.CLAIMS.items():
        if "op" not in claim:                      # recorded for the text, not asserted
            continue
        values = run.statistic_values(module, name, claim, data["values"])
        assert values, f"{path.name}: no recorded value of {name}"
        bad = [v for v in values if not OPS[claim["op"]](v, claim["threshold"])]
        assert not bad, (f"{path.name}: {name} ({claim['assert']}) {claim['op']} {claim['threshold']} "
                         f"fails for {len(bad)} of {len(values)} recorded values, e.g. {bad[:3]}")
        checked += 1
    assert checked > 0, f"{path.name} asserts no claim"


# The other chapters' scripts keep their own tables ("claims": one entry per assert, with its
# threshold and the recorded minimum and maximum); `--summary-only` recomputes that table from
# the recorded values and exits 1 if any recorded value breaks its assert.
OTHER = sorted(p for p in CLAIMS.glob("*.json") if "values" not in json.loads(p.read_text()))


@pytest.mark.parametrize("path", OTHER, ids=[p.stem for p in OTHER])
def test_other_chapters_recorded_values_satisfy_their_claims(path):
    import subprocess

    before = path.read_text()
    proc = subprocess.run([sys.executable, str(path.with_suffix(".py")), "--summary-only"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{path.name}: a recorded value breaks its claim:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    assert path.read_text() == before, f"{path.name} is out of date with its recorded values; rerun --summary-only"
