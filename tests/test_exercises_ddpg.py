"""The checkers of the chapter "Deep deterministic policy gradient" (rlnotes.exercises.ddpg), tested
against the chapter's own cells.

For every checker: the reference solution from the chapter's ``{solution}`` cell passes, and so
do other correct formulations (the library's own functions, torch, in-place updates); typical
mistakes fail with their specific hint; the chapter's untouched stub is reported as "not
attempted"; a crashing function or an odd answer gives a sentence, not a traceback.
"""
from __future__ import annotations

import pathlib
import re

import numpy as np
import torch

from rlnotes.exercises import ddpg as ex
from rlnotes.policies import polyak_update
from rlnotes.returns import ddpg_targets
from tests.chapter_cells import run_checker as _run

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "ddpg.ipynb"


def _define(code, name):
    namespace = {"np": np, "torch": torch}   # what the chapter has imported
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the chapter's own code
    return namespace[name]


EXERCISES = [
    ("ex-ddpg-polyak", "polyak", ex.check_polyak, "target, source, tau"),
    ("ex-ddpg-targets", "ddpg_targets", ex.check_ddpg_targets,
     "rewards, next_q, terminated, truncated, gamma"),
    ("ex-ddpg-td3", "td3_targets", ex.check_td3_targets,
     "rewards, mu_next, eps, noise_clip, q1, q2, terminated, gamma"),
]


# -------------------------------------------------------------- 1. the solutions pass
def test_other_correct_answers_pass(capsys):
    # (a) the library's polyak_update on torch modules wrapping the arrays; an in-place update
    def lib_polyak(target, source, tau):
        t, s = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
        t.weight, s.weight = (torch.nn.Parameter(torch.as_tensor(x, dtype=torch.float64))
                              for x in (target, source))
        polyak_update(t, s, tau)
        return t.weight.detach()
    assert _run(ex.check_polyak, lib_polyak, capsys).passed

    def in_place(target, source, tau):
        target *= 1 - tau
        target += tau * source
    assert _run(ex.check_polyak, in_place, capsys).passed

    # (b) torch code; a loop returning a list
    assert _run(ex.check_ddpg_targets, lambda r, nq, te, tr, g: torch.as_tensor(r) + g * (
        1 - torch.as_tensor(te).double()) * torch.as_tensor(nq), capsys).passed
    assert _run(ex.check_ddpg_targets, lambda r, nq, te, tr, g: [
        r[i] if te[i] else r[i] + g * nq[i] for i in range(len(r))], capsys).passed

    # (c) the library's ddpg_targets with stand-in networks: μ' returns mu_next, the critics
    # are the given functions, and the generator replays eps (target_noise = 1)
    def lib_td3(r, mu, eps, c, q1, q2, te, g):
        class Mu(torch.nn.Module):
            def forward(self, idx):
                return torch.as_tensor(mu)

        class Q(torch.nn.Module):
            def forward(self, idx, a):
                return torch.stack([torch.as_tensor(q1(a.numpy())), torch.as_tensor(q2(a.numpy()))])

        real_randn = torch.randn                    # ddpg_targets draws eps with torch.randn
        try:
            torch.randn = lambda shape, generator=None: torch.as_tensor(eps)
            return ddpg_targets(Mu(), Q(), torch.as_tensor(r), torch.arange(len(r)),
                                      torch.as_tensor(te, dtype=torch.float64), g,
                                      target_noise=1.0, target_noise_clip=c)
        finally:
            torch.randn = real_randn
    assert _run(ex.check_td3_targets, lib_td3, capsys).passed


# ------------------------------------------------------ 2. typical mistakes get their hint
def _p_swapped(t, s, tau):
    return (1 - tau) * s + tau * t


def _p_copy(t, s, tau):
    return s.copy()


def _p_delta(t, s, tau):
    return tau * (s - t)


def _p_changes_source(t, s, tau):
    s[...] = tau * s + (1 - tau) * t                 # overwrites the online parameters
    return s.copy()


def _y_done(r, nq, te, tr, g):
    return r + g * (1 - (te | tr)) * nq


def _y_through_termination(r, nq, te, tr, g):
    return r + g * nq


def _y_no_gamma(r, nq, te, tr, g):
    return r + (1 - te) * nq


def _a_ok(mu, eps, c):
    return np.clip(mu + np.clip(eps, -c, c), -1, 1)


def _td3_max(r, mu, eps, c, q1, q2, te, g):
    a = _a_ok(mu, eps, c)
    return r + g * (1 - te) * np.maximum(q1(a), q2(a))


def _td3_first_only(r, mu, eps, c, q1, q2, te, g):
    return r + g * (1 - te) * q1(_a_ok(mu, eps, c))


def _td3_no_inner_clip(r, mu, eps, c, q1, q2, te, g):
    a = np.clip(mu + eps, -1, 1)
    return r + g * (1 - te) * np.minimum(q1(a), q2(a))


def _td3_no_outer_clip(r, mu, eps, c, q1, q2, te, g):
    a = mu + np.clip(eps, -c, c)
    return r + g * (1 - te) * np.minimum(q1(a), q2(a))


def _td3_no_noise(r, mu, eps, c, q1, q2, te, g):
    return r + g * (1 - te) * np.minimum(q1(mu), q2(mu))


def _td3_per_row(r, mu, eps, c, q1, q2, te, g):
    return r + g * (1 - te) * np.minimum(q1(mu[0]), q2(mu[0]))


MISTAKES = [
    (ex.check_polyak, _p_swapped, ["swapped the weights", "tau * source + (1 - tau) * target"]),
    (ex.check_polyak, _p_copy, ["hard update"]),
    (ex.check_polyak, _p_delta, ["only the change"]),
    (ex.check_polyak, _p_changes_source, ["changed the online parameters"]),
    (ex.check_ddpg_targets, _y_done, ["treated truncation as termination", "Pendulum"]),
    (ex.check_ddpg_targets, _y_through_termination, ["bootstrapped through termination"]),
    (ex.check_ddpg_targets, _y_no_gamma, ["forgot the discount"]),
    (ex.check_td3_targets, _td3_max, ["larger of the two critics"]),
    (ex.check_td3_targets, _td3_first_only, ["only the first critic"]),
    (ex.check_td3_targets, _td3_no_inner_clip, ["did not clip the noise"]),
    (ex.check_td3_targets, _td3_no_outer_clip, ["left the box"]),
    (ex.check_td3_targets, _td3_no_noise, ["ignored the smoothing noise"]),
    (ex.check_td3_targets, _td3_per_row, ["(B, d)"]),
]


def test_an_unrecognised_wrong_answer_still_gets_the_numbers(capsys):
    verdict = _run(ex.check_ddpg_targets, lambda r, nq, te, tr, g: r + g * (1 - te) * nq + 0.5, capsys)
    assert verdict.status == "fail"
    assert re.search(r"the target is wrong for transition 0 .*expected -?[\d.]+, got -?[\d.]+",
                     verdict.message), verdict.message


# ------------------------------------------------------ 3. untouched stubs: "not attempted"
# ------------------------------------------------- 4. crashes and wrong arguments never raise
# ------------------------------------------------------------- 5. the checkers can fail
def test_the_td3_cases_make_every_clip_and_the_min_matter():
    for _, r, mu, eps, c, q1, q2, te, g in ex._td3_cases():
        assert (np.abs(eps) > c).any(), "the inner clip must be active somewhere"
        assert (np.abs(mu + np.clip(eps, -c, c)) > 1).any(), "the outer clip must be active"
        a = np.clip(mu + np.clip(eps, -c, c), -1, 1)
        assert (q1(a) < q2(a)).any() and (q2(a) < q1(a)).any(), "both critics must be the min somewhere"
