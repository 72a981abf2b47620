"""The public helpers of rlnotes.exercises.core, against plain references.

Running the reader's code (``call`` under a ``time_limit``, on and off the main thread), reading
answers (``number``, ``to_numpy``, ``as_scalar_tensor``, ``require_unchanged``, ``gradients``,
``through_value_model``) and comparing them (``fmt``, ``close``, ``first_diff``,
``match_mistake``, ``diagnose``). The outcomes on every chapter's checkers are tested in
tests/test_exercises_core_outcomes.py.
"""
from __future__ import annotations

import re
import signal
import threading
import time

import numpy as np
import pytest
import torch

from rlnotes.exercises import core


# ------------------------------------------------------------------ running the reader's code
def _stub(x):
    ...


def _stub_with_docstring(x):
    """Compute something."""
    pass


def _no_return(x):
    y = 2 * x  # noqa: F841 - the reader forgot to return it


def _returns_ellipsis(x):
    return ...


def test_call_tells_a_stub_from_a_body_without_return():
    for stub in (_stub, _stub_with_docstring, _returns_ellipsis):
        with pytest.raises(core.NotAttempted):
            core.call(stub, 1)
    with pytest.raises(core.ReturnsNone, match=r"_no_return returned None: did you forget `return`\?"):
        core.call(_no_return, 1)
    assert issubclass(core.ReturnsNone, core.Hint)            # a checker reports it as a hint
    assert core.call(lambda x: 0, 1) == 0                       # a falsy answer is an answer


def test_call_names_the_exception_and_the_readers_line():
    def crashes(x):
        table = {"a": 1}
        return table[x]

    with pytest.raises(core.Hint) as info:
        core.call(crashes, "b")
    assert re.fullmatch(r"crashes raised KeyError: 'b' \(line \d+: `return table\[x\]`\)", str(info.value))

    def helper(x):
        return np.zeros(2) + np.zeros(x)

    def calls_a_helper(x):
        return helper(x)

    with pytest.raises(core.Hint, match=r"^calls_a_helper raised ValueError: operands could not be broadcast "
                                        r".* \(in helper, line \d+: `return np.zeros\(2\) \+ np.zeros\(x\)`\)$"):
        core.call(calls_a_helper, 3)


def test_a_hint_from_the_checks_own_helpers_passes_through():
    def q(a):
        raise core.Hint("q takes a (B, d) array")

    with pytest.raises(core.Hint, match=r"^q takes a \(B, d\) array$"):
        core.call(lambda f: f(1), q)


def test_an_endless_loop_is_stopped_and_the_alarm_restored():
    end = time.monotonic() + 5        # "endless": a broken time limit fails the test, not hangs it

    def endless(x):
        while time.monotonic() < end:
            x += 1

    def swallows_exceptions(x):
        while time.monotonic() < end:
            try:
                time.sleep(0.5)
            except Exception:  # noqa: BLE001, S112 - what a reader might write
                continue

    handler = signal.getsignal(signal.SIGALRM)
    for fn in (endless, swallows_exceptions):
        start = time.perf_counter()
        with core.time_limit(0.2), pytest.raises(core.Hint, match=rf"^{fn.__name__} ran too long \(more than "
                                                                  r"0.2 s\) and was stopped \(line \d+: "):
            core.call(fn, 0)
        assert time.perf_counter() - start < 2.0
    assert signal.getsignal(signal.SIGALRM) is handler
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert core.call(lambda x: x + 1, 1) == 2                   # the default limit is back


def test_without_a_limit_or_off_the_main_thread_the_answer_simply_runs():
    def slow(x):
        time.sleep(0.3)
        return x

    with core.time_limit(None):
        assert core.call(slow, 5) == 5
    out = {}

    def worker():                                              # no SIGALRM here: no limit, no crash
        with core.time_limit(0.05):
            out["value"] = core.call(slow, 7)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert out == {"value": 7}


def test_the_checker_prints_one_line_even_for_a_multi_line_error(capsys):
    @core.checker
    def check_anything(fn):
        core.call(fn)
        return "fine"

    def raises_two_lines():
        raise RuntimeError("first line\nsecond line")

    verdict = check_anything(raises_two_lines)
    assert verdict.status == "fail"
    assert verdict.message.startswith("✗ raises_two_lines raised RuntimeError: first line second line (line ")
    assert capsys.readouterr().out == verdict.message + "\n"


# ------------------------------------------------------------------ reading the reader's answer
@pytest.mark.parametrize("value, expected", [
    (2.5, 2.5), (3, 3.0), (np.float32(0.25), 0.25), (np.array(1.5), 1.5), (np.array([[4.0]]), 4.0),
    (torch.tensor(2.0, requires_grad=True), 2.0), ([7.0], 7.0),
    (np.array([1.0, 2.0]), None), ("7", None), (b"7", None), ({"a": 1}, None), (None, None),
    ([[1, 2], [3]], None)])
def test_number_reads_one_number_and_nothing_else(value, expected):
    assert core.number(value) == expected


def test_to_numpy_turns_tensors_into_float64_arrays_and_leaves_the_rest():
    x = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    out = core.to_numpy(x * 2)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.tolist() == [2.0, 4.0]
    for other in ([1, 2], np.arange(3), "text", None):
        assert core.to_numpy(other) is other


def test_as_array_takes_torch_and_any_shape_on_request():
    assert core.as_array(torch.tensor([1.0, 2.0]), (2,), "V").tolist() == [1.0, 2.0]
    assert core.as_array([[1, 2]], None, "V").shape == (1, 2)
    assert np.isnan(core.as_array([np.nan], (1,), "V", finite=False)[0])
    with pytest.raises(core.Hint, match="NaN or infinite"):
        core.as_array([np.nan], None, "V")


def test_as_scalar_tensor_names_a_cut_graph_and_unreduced_terms():
    loss = torch.tensor(1.0, requires_grad=True) * 2
    assert core.as_scalar_tensor(loss, 4, "your loss", "case") is loss
    with pytest.raises(core.Hint, match=r"return a torch tensor, got float \(case\)"):
        core.as_scalar_tensor(2.0, 4, "your loss", "case")
    with pytest.raises(core.Hint, match=r"your loss has shape \(4,\), one term per step \(case\).*\.mean\(\)"):
        core.as_scalar_tensor(torch.ones(4), 4, "your loss", "case")
    with pytest.raises(core.Hint, match=r"your loss should be a scalar \(shape \(\)\), got shape \(2, 2\)"):
        core.as_scalar_tensor(torch.ones(2, 2), 4, "your loss", "case")


def test_require_unchanged_compares_numpy_torch_and_tuples():
    a, t = np.arange(3.0), torch.arange(3.0)
    core.require_unchanged((a.copy(), t.clone()), (a, t), "its inputs", "case", "Copy them.")
    changed = a.copy()
    changed[1] = 9.0
    with pytest.raises(core.Hint, match=r"^your function changed the array V in place \(case\)\. Copy it\.$"):
        core.require_unchanged(changed, a, "the array V", "case", "Copy it.")
    with pytest.raises(core.Hint, match="changed its inputs"):
        core.require_unchanged((a.copy(), t + 1), (a, t), "its inputs", "case", "Copy them.")


def test_gradients_against_the_closed_form():
    x = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    unused = torch.zeros(2, requires_grad=True)
    gx, g_none, g_unused = core.gradients((x ** 2).sum(), [x, None, unused], "your loss", "case", "Keep x.")
    assert torch.equal(gx, 2 * x.detach()) and g_none is None and g_unused is None
    with pytest.raises(core.Hint, match=r"your loss has the right value but no gradient.*\(case\)\. Keep x\.$"):
        core.gradients((x ** 2).sum().detach(), [x], "your loss", "case", "Keep x.")
    with pytest.raises(core.Hint, match="no gradient"):
        core.gradients(14.0, [x], "your loss", "case", "Keep x.")


def test_through_value_model_shifts_the_values_and_carries_a_graph_into_phi():
    values = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    out, phi = core.through_value_model(values, seed=3)
    again, _ = core.through_value_model(values, seed=3)
    assert out.shape == values.shape and out.requires_grad and phi.requires_grad
    assert torch.equal(out, again) and not torch.allclose(out, values)
    states = -torch.stack([torch.autograd.grad(out[i], phi, retain_graph=True)[0] for i in range(4)])
    assert states.shape == (4, 3) and torch.all(states != 0)                # ∂out_i/∂φ = −s_i
    assert torch.allclose(out, values - states @ phi.detach())              # out = values − S φ


# ------------------------------------------------------------------ comparing and diagnosing
@pytest.mark.parametrize("x", [2.75, 6.0, -0.123456, 1e-7, 123.0, 0.1, 1234.56789, np.float32(0.5),
                               torch.tensor(-1.25)])
def test_fmt_prints_at_most_four_decimals(x):
    reference = ("%.4f" % float(x)).rstrip("0").rstrip(".")
    assert core.fmt(x) == reference


def _plain_close(a, b, atol, rtol):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and all(abs(x - y) <= atol + rtol * abs(y) for x, y in zip(a.ravel(), b.ravel()))


def _plain_first_diff(a, b, atol, rtol):
    a, b = np.ravel(a), np.ravel(b)
    for i, (x, y) in enumerate(zip(a, b)):
        if not abs(x - y) <= atol + rtol * abs(y):
            return i
    return int(np.argmax(np.abs(a - b)))


def test_close_and_first_diff_against_plain_loops():
    rng = np.random.default_rng(0)
    for trial in range(200):
        b = rng.normal(size=rng.integers(1, 6)) * 10.0 ** rng.integers(-3, 4)
        a = b + rng.choice([0.0, 1e-7, 1e-5, 1e-3], size=b.shape) * rng.normal(size=b.shape)
        if trial % 10 == 0:
            a[rng.integers(len(a))] = np.nan
        for atol, rtol in [(1e-6, 1e-6), (1e-5, 1e-5), (1e-8, 1e-6)]:
            assert core.close(a, b, atol, rtol) == _plain_close(a, b, atol, rtol)
            if not np.isnan(a).any():
                assert core.first_diff(a, b, atol, rtol) == _plain_first_diff(a, b, atol, rtol)
    assert not core.close(np.zeros(3), np.zeros((3, 1)))
    assert core.close(2.0, np.float64(2.0)) and not core.close(2.0, [2.0])


MISTAKES = [(np.array([1.0, 2.0, 3.0]), "the right answer as a mistake", "never named"),
            (np.array([1.0, 2.0, 9.0]), "you changed the last entry", "Keep it."),
            (np.array([1.0, 2.0, 9.0]), "a later mistake with the same answer", "never named"),
            (np.array([6.0]), "you summed the entries", "Return all three."),
            (np.array([[1.0, 2.0, 3.0]]), "you added an axis", "Squeeze it.")]
EXPECTED = np.array([1.0, 2.0, 3.0])


def test_match_mistake_names_the_first_mistake_that_reproduces_the_answer():
    assert core.match_mistake(np.array([1.0, 2.0, 9.0]), EXPECTED, MISTAKES) == (
        "you changed the last entry", "Keep it.")
    assert core.match_mistake(EXPECTED, EXPECTED, MISTAKES) is None
    assert core.match_mistake(np.array([1.0, 2.0, 4.0]), EXPECTED, MISTAKES) is None
    assert core.match_mistake([[1.0, 2.0, 3.0]], EXPECTED, MISTAKES) == ("you added an axis", "Squeeze it.")


def test_diagnose_quotes_the_first_entry_that_differs():
    core.diagnose(EXPECTED + 1e-9, EXPECTED, MISTAKES, "the value", "case")           # close: no hint
    with pytest.raises(core.Hint) as info:
        core.diagnose(np.array([1.0, 2.0, 9.0]), EXPECTED, MISTAKES, "the value", "case", index_name="step")
    assert str(info.value) == "you changed the last entry: expected 3, got 9 for step 2 (case). Keep it."
    with pytest.raises(core.Hint) as info:
        core.diagnose(np.array([1.0, 2.5, 4.0]), EXPECTED, MISTAKES, "the value", "case")
    assert str(info.value) == "the value is wrong for entry 1 (case): expected 2, got 2.5."
    with pytest.raises(core.Hint) as info:
        core.diagnose(4.0, 3.0, [], "the return", "case")
    assert str(info.value) == "the return is wrong (case): expected 3, got 4."


def test_diagnose_names_a_mistake_of_another_shape_or_the_shape():
    with pytest.raises(core.Hint) as info:
        core.diagnose(np.array([6.0]), EXPECTED, MISTAKES, "the value", "case")
    assert str(info.value) == "you summed the entries: got shape (1,) (case). Return all three."
    with pytest.raises(core.Hint) as info:
        core.diagnose(np.zeros(2), EXPECTED, MISTAKES, "the value", "case")
    assert str(info.value) == "the value should have shape (3,): got shape (2,) (case)."
