"""rlnotes.buffers.ReplayBuffer: ring-buffer bookkeeping, uniform sampling, batched adds, errors.

References: a plain Python list that keeps the last `capacity` items (the ring buffer's
definition), sequential single adds (for batched adds), and the multinomial distribution of
uniform draws (a chi-square test with a fixed seed).
"""
import numpy as np
import pytest
import torch

from rlnotes.buffers import ReplayBatch, ReplayBuffer


def transition(k):
    """A transition whose every field encodes its index k."""
    return (np.array([k, -k], np.float32), k % 3, float(k), np.array([k + 1, -k - 1], np.float32),
            k % 5 == 0)


def test_wraparound_keeps_the_last_capacity_transitions():
    buf = ReplayBuffer(capacity=7, obs_shape=(2,), seed=0)
    reference = []                                          # the definition: last 7 items, FIFO
    for k in range(23):
        buf.add(*transition(k))
        reference = (reference + [k])[-7:]
        assert len(buf) == len(reference)
        assert sorted(buf.rewards[:len(buf)].astype(int).tolist()) == sorted(reference)
    assert buf.n_added == 23 and buf.pos == 23 % 7
    # every stored field belongs to the same transition
    for i in range(7):
        k = int(buf.rewards[i])
        o, a, r, o2, term = transition(k)
        assert np.array_equal(buf.obs[i], o) and buf.actions[i] == a
        assert np.array_equal(buf.next_obs[i], o2) and buf.terminated[i] == term
    batch = ReplayBatch(*(np.concatenate(x) for x in zip(*(buf.sample(7) for _ in range(8)))))
    assert set(batch.rewards.astype(int)) <= set(reference)
    np.testing.assert_array_equal(batch.obs[:, 0], batch.rewards)            # fields stay aligned
    np.testing.assert_array_equal(batch.actions, batch.rewards.astype(int) % 3)
    np.testing.assert_array_equal(batch.terminated, (batch.rewards.astype(int) % 5 == 0))


def test_sampling_is_uniform_chi_square():
    n, draws = 20, 40_000
    buf = ReplayBuffer(capacity=n, obs_shape=(1,), seed=123)
    for k in range(n + 7):                                  # wrapped around once
        buf.add([k], 0, k, [k], False)
    counts = np.zeros(n)
    for _ in range(draws // n):
        b = buf.sample(n)
        idx = b.rewards.astype(int) - 7                     # stored rewards are 7..26
        np.add.at(counts, idx, 1)
    expected = draws / n
    chi2 = ((counts - expected) ** 2 / expected).sum()
    # chi-square with 19 dof: the 0.999 quantile is 43.8; a bias of 20% on one slot gives ~80
    assert chi2 < 43.8, (chi2, counts)
    # no slot may be missing (e.g. an off-by-one that never draws the newest transition)
    assert counts.min() > expected - 5 * np.sqrt(expected)


def test_batched_add_equals_sequential_adds():
    rng = np.random.default_rng(0)
    for N, capacity in [(3, 10), (4, 4), (7, 5), (1, 3)]:   # incl. a batch larger than capacity
        a, b = ReplayBuffer(capacity, (3,), seed=1), ReplayBuffer(capacity, (3,), seed=1)
        for _ in range(5):
            obs, nxt = rng.normal(size=(N, 3)), rng.normal(size=(N, 3))
            act, rew, term = rng.integers(4, size=N), rng.normal(size=N), rng.random(N) < 0.3
            a.add(obs, act, rew, nxt, term)
            for i in range(N):
                b.add(obs[i], act[i], rew[i], nxt[i], term[i])
            assert (len(a), a.pos, a.n_added) == (len(b), b.pos, b.n_added)
            for name in ("obs", "actions", "rewards", "next_obs", "terminated"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        sa, sb = a.sample(len(a)), b.sample(len(b))
        for x, y in zip(sa, sb):
            np.testing.assert_array_equal(x, y)


def test_sample_types_shapes_and_tensors():
    buf = ReplayBuffer(100, (4,), act_shape=(2,), act_dtype=np.float32, seed=0)
    for k in range(10):
        buf.add(np.full(4, k), np.array([k, k], np.float32), 1.0, np.zeros(4), k == 9)
    b = buf.sample(5)
    assert isinstance(b, ReplayBatch)
    assert b.obs.shape == (5, 4) and b.obs.dtype == np.float32
    assert b.actions.shape == (5, 2) and b.actions.dtype == np.float32
    assert b.rewards.shape == (5,) and b.terminated.dtype == np.float32
    t = b.as_tensors()
    assert isinstance(t.obs, torch.Tensor) and t.obs.dtype == torch.float32 and t.obs.shape == (5, 4)
    # same seed, same draws
    a2 = ReplayBuffer(100, (4,), act_shape=(2,), act_dtype=np.float32, seed=0)
    for k in range(10):
        a2.add(np.full(4, k), np.array([k, k], np.float32), 1.0, np.zeros(4), k == 9)
    np.testing.assert_array_equal(a2.sample(5).obs, b.obs)


def test_integer_states_for_tabular_envs():
    buf = ReplayBuffer(10, obs_shape=(), obs_dtype=np.int64, seed=0)
    buf.add(3, 1, -1.0, 4, False)
    buf.add(np.array([4, 5]), np.array([0, 2]), np.array([0.0, 1.0]), np.array([5, 15]),
            np.array([False, True]))
    assert len(buf) == 3 and buf.obs[:3].tolist() == [3, 4, 5]
    assert buf.sample(3).obs.dtype == np.int64


def test_errors_name_the_fix():
    buf = ReplayBuffer(100, (4,))
    with pytest.raises(ValueError, match=r"holds 0 transitions.*needs at least batch_size = 32"):
        buf.sample(32)
    for k in range(5):
        buf.add(np.zeros(4), 0, 0.0, np.zeros(4), False)
    with pytest.raises(ValueError, match=r"holds 5 transitions.*batch_size = 32.*Add 27 more"):
        buf.sample(32)
    with pytest.raises(ValueError, match=r"obs_shape = \(4,\).*observation_space.shape"):
        buf.add(np.zeros(3), 0, 0.0, np.zeros(3), False)
    with pytest.raises(ValueError, match="next_obs must have the same shape"):
        buf.add(np.zeros(4), 0, 0.0, np.zeros(5), False)
    with pytest.raises(ValueError, match="act_dtype=np.float32"):
        buf.add(np.zeros(4), 0.5, 0.0, np.zeros(4), False)
    with pytest.raises(ValueError, match=r"actions must have shape \(2,\)"):
        buf.add(np.zeros((2, 4)), 0, [0.0, 0.0], np.zeros((2, 4)), [False, False])
    with pytest.raises(ValueError, match=r"reward must have shape \(2,\)"):
        buf.add(np.zeros((2, 4)), [0, 1], 0.0, np.zeros((2, 4)), [False, False])
    with pytest.raises(ValueError, match="terminated must be boolean"):
        buf.add(np.zeros(4), 0, 0.0, np.zeros(4), 0.5)
    with pytest.raises(ValueError, match="NaN or inf"):
        buf.add(np.zeros(4), 0, float("nan"), np.zeros(4), False)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="capacity must be a positive int"):
            ReplayBuffer(bad, (4,))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        buf.sample(0)


def test_sample_batches_draws_exactly_what_repeated_sample_calls_draw():
    """DQN samples a whole update phase at once; it must not change a single draw."""
    one, many = (ReplayBuffer(1000, (3,), seed=7) for _ in range(2))
    for buf in (one, many):
        data = np.random.default_rng(1)
        buf.add(data.normal(size=(777, 3)).astype(np.float32), data.integers(4, size=777),
                data.normal(size=777).astype(np.float32), data.normal(size=(777, 3)).astype(np.float32),
                data.random(777) < 0.1)
    for batch_size in (1, 63, 64):
        looped = [one.sample(batch_size) for _ in range(5)]
        stacked = many.sample_batches(5, batch_size)
        assert stacked.obs.shape == (5, batch_size, 3) and stacked.terminated.dtype == np.float32
        for field in range(5):
            np.testing.assert_array_equal(np.stack([b[field] for b in looped]), stacked[field])
    single, batched = one.sample(32), many.sample_batches(1, 32)     # the same generator state
    for field in range(5):
        np.testing.assert_array_equal(single[field], batched[field][0])
    with pytest.raises(ValueError, match="n_batches must be a positive int"):
        many.sample_batches(0, 8)
