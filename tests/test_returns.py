"""Tests of rlnotes.returns against independent references.

* a brute-force double loop R̂_t = Σ_{t' ≥ t} γ^{t'−t} r_{t'} (no recursion);
* the closed form of a geometric series for constant rewards, r (1 − γ^T) / (1 − γ);
* the vectorised discount_cumsum against the plain reward_to_go loop, including long
  episodes where γ^T underflows;
* input types (numpy / torch / list in, same type out) and every ValueError.
"""
import numpy as np
import pytest
import torch

from rlnotes.returns import discount_cumsum, discounted_return, reward_to_go

RTG = [reward_to_go, discount_cumsum]


def brute_force_rtg(rewards, gamma):
    rewards = [float(x) for x in rewards]
    T = len(rewards)
    return np.array([sum(gamma ** (k - t) * rewards[k] for k in range(t, T)) for t in range(T)])


@pytest.mark.parametrize("fn", RTG)
@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99, 1.0])
def test_reward_to_go_equals_double_loop(fn, gamma):
    rng = np.random.default_rng(int(gamma * 100))
    r = rng.normal(size=37)
    got = fn(r, gamma)
    assert isinstance(got, np.ndarray) and got.shape == (37,)
    np.testing.assert_allclose(got, brute_force_rtg(r, gamma), rtol=1e-12, atol=1e-12)
    assert got[0] == pytest.approx(discounted_return(r, gamma), rel=1e-12)   # R̂_0 = R(τ)


@pytest.mark.parametrize("fn", RTG)
def test_reward_to_go_by_hand(fn):
    np.testing.assert_allclose(fn([1.0, 2.0, 3.0], 0.5), [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3])
    np.testing.assert_allclose(fn([1, 1, 1, 1]), [4, 3, 2, 1])    # default γ = 1, int rewards
    np.testing.assert_allclose(fn([5.0], 0.9), [5.0])              # T = 1


@pytest.mark.parametrize("fn", RTG)
def test_types_follow_the_input(fn):
    r = np.array([1.0, -2.0, 0.5, 3.0])
    want = brute_force_rtg(r, 0.9)
    t32 = fn(torch.tensor(r, dtype=torch.float32), 0.9)
    assert isinstance(t32, torch.Tensor) and t32.dtype == torch.float32 and t32.shape == (4,)
    assert torch.allclose(t32, torch.tensor(want, dtype=torch.float32))
    t64 = fn(torch.tensor(r, requires_grad=True), 0.9)
    assert t64.dtype == torch.float64 and not t64.requires_grad    # returns are constants
    tint = fn(torch.tensor([1, 2, 3]), 1.0)
    assert tint.is_floating_point() and tint.tolist() == [6.0, 5.0, 3.0]
    n32 = fn(r.astype(np.float32), 0.9)
    assert isinstance(n32, np.ndarray) and n32.dtype == np.float32
    assert fn(np.array([1, 2, 3]), 1.0).dtype == np.float64
    assert isinstance(fn([1.0, 2.0], 0.9), np.ndarray)


def test_discount_cumsum_equals_loop_on_long_episodes():
    # long enough that γ^T underflows a float64 (0.5^5000 = 1e-1505): the chunks must work
    rng = np.random.default_rng(0)
    for gamma, T in [(0.5, 5000), (0.9, 20_000), (0.99, 3000), (0.999, 1234), (1e-3, 300)]:
        r = rng.normal(size=T)
        got, want = discount_cumsum(r, gamma), reward_to_go(r, gamma)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99, 1.0])
@pytest.mark.parametrize("T", [1, 10, 500])
def test_discounted_return_closed_form_for_constant_rewards(gamma, T):
    r = 2.5
    want = r * T if gamma == 1.0 else r * (1 - gamma ** T) / (1 - gamma)
    got = discounted_return(np.full(T, r), gamma)
    assert isinstance(got, float)
    assert got == pytest.approx(want, rel=1e-12)
    assert discounted_return(torch.full((T,), r), gamma) == pytest.approx(want, rel=1e-6)
    assert reward_to_go([r] * T, gamma)[0] == pytest.approx(want, rel=1e-12)


def test_discounted_return_by_hand():
    assert discounted_return([1.0, 0.0, 4.0], 0.5) == pytest.approx(1 + 0.25 * 4)
    assert discounted_return([3.0, 3.0], 0.0) == 3.0              # γ = 0: only r_0 counts


@pytest.mark.parametrize("fn", [discounted_return, reward_to_go, discount_cumsum])
def test_bad_input_raises_clear_errors(fn):
    with pytest.raises(ValueError, match=r"empty reward sequence.*at least one step"):
        fn(np.array([]), 0.9)
    with pytest.raises(ValueError, match=r"empty reward sequence"):
        fn(torch.zeros(0), 0.9)
    with pytest.raises(ValueError, match=r"one episode, shape \(T,\); got shape \(5, 2\).*once per episode"):
        fn(np.zeros((5, 2)), 0.9)
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        fn(3.0, 0.9)
    with pytest.raises(ValueError, match=r"reshape\(-1\)"):
        fn(torch.zeros(4, 1), 0.9)
    with pytest.raises(ValueError, match=r"gamma must be a discount factor in \[0, 1\]; got 1.5"):
        fn([1.0, 2.0], 1.5)
    with pytest.raises(ValueError, match=r"gamma must be a number"):
        fn([1.0, 2.0], "high")
    with pytest.raises(ValueError, match=r"numeric rewards"):
        fn(np.array(["a", "b"]), 0.9)
