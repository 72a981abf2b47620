"""Tests of rlnotes.policies against independent references.

* torch.distributions (Normal, Categorical) for log-likelihoods;
* the closed-form score of a Gaussian, d log π / dμ = (a − μ)/σ² and d log π / d log σ = z² − 1;
* sampling: empirical means, standard deviations and action frequencies within 4 standard
  errors of the exact values (fixed seeds);
* gymnasium's CartPole-v1 and Pendulum-v1 spaces for make_policy; every ValueError names a fix;
* the Polyak update against its closed form after k steps, and τ = 1 as an exact copy.
"""
import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Categorical, Normal

from rlnotes.policies import (
    CategoricalPolicy,
    DiagGaussianPolicy,
    diag_gaussian_log_prob,
    make_policy,
    mlp,
    polyak_update,
)

CARTPOLE = gym.make("CartPole-v1")
PENDULUM = gym.make("Pendulum-v1")


def randomise(module, seed, scale=0.5):
    """Give every parameter random values, so the tests do not depend on the initialisation."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=g))
    return module


# --------------------------------------------------------------------------------------------
# mlp
# --------------------------------------------------------------------------------------------
def test_mlp_layers_and_shapes():
    net = mlp([4, 32, 16, 3])
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(4, 32), (32, 16), (16, 3)]
    assert sum(isinstance(m, nn.Tanh) for m in net) == 2          # between layers, not at the end
    assert isinstance(net[-1], nn.Linear)
    assert net(torch.zeros(5, 7, 4)).shape == (5, 7, 3)
    net = mlp([2, 8, 1], activation=nn.ReLU, output_activation=nn.Sigmoid)
    assert isinstance(net[1], nn.ReLU) and isinstance(net[-1], nn.Sigmoid)
    assert torch.all((net(torch.randn(10, 2)) > 0) & (net(torch.randn(10, 2)) < 1))


def test_mlp_computes_the_composition():
    net = randomise(mlp([3, 5, 2]), 0)
    x = torch.randn(4, 3)
    W1, b1, W2, b2 = net[0].weight, net[0].bias, net[2].weight, net[2].bias
    assert torch.allclose(net(x), torch.tanh(x @ W1.T + b1) @ W2.T + b2, atol=1e-6)


@pytest.mark.parametrize("sizes", [[4], [], [4, 0, 2]])
def test_mlp_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match=r"sizes = \[in, h1, \.\.\., out\]"):
        mlp(sizes)


# --------------------------------------------------------------------------------------------
# polyak_update
# --------------------------------------------------------------------------------------------
def test_polyak_update_matches_the_closed_form():
    source = randomise(mlp([3, 16, 16, 2], activation=nn.ReLU), 0)
    target = randomise(mlp([3, 16, 16, 2], activation=nn.ReLU), 1)
    start = [p.detach().clone() for p in target.parameters()]
    polyak_update(target, source, 0.25)                           # one step: τφ + (1 − τ)φ⁻
    for p0, p, q in zip(start, source.parameters(), target.parameters()):
        torch.testing.assert_close(q, 0.25 * p + 0.75 * p0)
        assert not q.requires_grad or q.grad is None
    tau, k = 0.1, 7
    for _ in range(k):
        polyak_update(target, source, tau)
    # k + 1 updates towards a fixed source: φ⁻_k = φ + (1 − τ)^k · 0.75 (φ⁻_0 − φ)
    for p0, p, q in zip(start, source.parameters(), target.parameters()):
        assert torch.allclose(q, p + (1 - tau) ** k * 0.75 * (p0 - p), atol=1e-6)
    assert all(not torch.equal(p, q) for p, q in zip(source.parameters(), target.parameters()))
    polyak_update(target, source, 1.0)                            # τ = 1: an exact copy
    assert all(torch.equal(p, q) for p, q in zip(source.parameters(), target.parameters()))


def test_polyak_update_rejects_another_architecture_and_bad_tau():
    net = mlp([3, 8, 2])
    with pytest.raises(ValueError, match=r"architecture of its source.*copy\.deepcopy\(source\)"):
        polyak_update(mlp([3, 16, 2]), net, 0.5)
    with pytest.raises(ValueError, match=r"tau must be in \[0, 1\]"):
        polyak_update(mlp([3, 8, 2]), net, 5.0)


# --------------------------------------------------------------------------------------------
# diag_gaussian_log_prob
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [
    ((5, 3), (3,), (5, 3)),            # state-independent log σ, a batch
    ((5, 3), (5, 3), (5, 3)),          # state-dependent log σ
    ((3,), (3,), (7, 5, 3)),           # one Gaussian, many actions
    ((1,), (1,), (1,)),                # one action dimension, no batch
    ((2, 1, 4), (4,), (6, 4)),         # broadcasting to (2, 6, 4)
])
def test_diag_gaussian_log_prob_equals_torch_normal(shapes):
    g = torch.Generator().manual_seed(len(str(shapes)))
    mean, log_std, act = (torch.randn(s, generator=g, dtype=torch.float64) for s in shapes)
    got = diag_gaussian_log_prob(mean, log_std, act)
    want = Normal(mean, log_std.exp()).log_prob(act).sum(-1)
    assert got.shape == want.shape
    assert torch.allclose(got, want, rtol=1e-12, atol=1e-12)


def test_diag_gaussian_log_prob_by_hand():
    # one dimension, a = μ + σ: log π = −½ (1 + 2 log σ + log 2π)
    got = diag_gaussian_log_prob(torch.tensor([1.0]), torch.tensor([np.log(2.0)]),
                                 torch.tensor([3.0]))
    assert got.item() == pytest.approx(-0.5 * (1 + 2 * np.log(2.0) + np.log(2 * np.pi)))


def test_diag_gaussian_score_matches_closed_form():
    g = torch.Generator().manual_seed(1)
    mean = torch.randn(6, 2, generator=g, dtype=torch.float64, requires_grad=True)
    log_std = torch.randn(2, generator=g, dtype=torch.float64, requires_grad=True)
    act = torch.randn(6, 2, generator=g, dtype=torch.float64)
    diag_gaussian_log_prob(mean, log_std, act).sum().backward()
    sigma = log_std.detach().exp()
    z = (act - mean.detach()) / sigma
    assert torch.allclose(mean.grad, (act - mean.detach()) / sigma ** 2)   # (a − μ)/σ²
    assert torch.allclose(log_std.grad, (z ** 2 - 1).sum(0))               # z² − 1


# --------------------------------------------------------------------------------------------
# DiagGaussianPolicy
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("state_dependent_std", [False, True])
def test_gaussian_log_prob_equals_its_distribution(state_dependent_std):
    torch.manual_seed(0)
    pi = randomise(DiagGaussianPolicy(3, 2, hidden_sizes=(16,),
                                      state_dependent_std=state_dependent_std), 1)
    obs, act = torch.randn(10, 3), torch.randn(10, 2)
    lp = pi.log_prob(obs, act)
    assert lp.shape == (10,)
    assert torch.allclose(lp, pi.distribution(obs).log_prob(act), atol=1e-5)
    mean, log_std = pi.mean_and_log_std(obs)
    assert torch.allclose(lp, Normal(mean, log_std.exp()).log_prob(act).sum(-1), atol=1e-5)
    # unbatched: one observation, one action -> a scalar
    one = pi.log_prob(obs[0].numpy(), act[0].numpy())
    assert one.shape == () and one.item() == pytest.approx(lp[0].item(), abs=1e-5)
    # the log-likelihood is differentiable in every parameter
    lp.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in pi.parameters())


def test_gaussian_std_parameterisations():
    pi = DiagGaussianPolicy(4, 3, log_std_init=-1.0)
    assert isinstance(pi.log_std, nn.Parameter) and pi.log_std.shape == (3,)
    assert torch.allclose(pi.log_std, torch.full((3,), -1.0))
    assert not hasattr(pi, "log_std_net")

    sd = DiagGaussianPolicy(4, 3, log_std_init=-1.0, state_dependent_std=True)
    assert sd.log_std is None
    obs = torch.randn(5, 4)
    _, log_std = sd.mean_and_log_std(obs)
    assert torch.allclose(log_std, torch.full((5, 3), -1.0))        # same σ as above at init
    randomise(sd, 2)
    _, log_std = sd.mean_and_log_std(obs)
    assert log_std.shape == (5, 3) and log_std[:, 0].std() > 0.01  # now σ depends on s


@pytest.mark.parametrize("state_dependent_std", [False, True])
def test_gaussian_sampling_moments(state_dependent_std):
    pi = randomise(DiagGaussianPolicy(3, 2, hidden_sizes=(8,),
                                      state_dependent_std=state_dependent_std), 3, scale=0.3)
    N = 20_000
    obs = torch.tensor([[0.5, -1.0, 2.0], [-1.5, 0.3, 0.0]])
    torch.manual_seed(0)
    a = pi.act(obs.repeat(N, 1)).reshape(N, 2, 2)                  # (sample, state, action dim)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    mean, log_std = (x.detach().numpy() for x in pi.mean_and_log_std(obs))
    sigma = np.exp(log_std)
    se_mean = sigma / np.sqrt(N)
    se_std = sigma / np.sqrt(2 * N)
    assert np.all(np.abs(a.mean(0) - mean) < 4 * se_mean)
    assert np.all(np.abs(a.std(0) - sigma) < 4 * se_std)
    # deterministic: the mean
    assert np.allclose(pi.act(obs, deterministic=True), mean, atol=1e-6)


def test_gaussian_act_shapes_and_inputs():
    pi = DiagGaussianPolicy(3, 2)
    o = np.array([0.1, 0.2, 0.3])                                   # float64 numpy
    assert pi.act(o).shape == (2,) and pi.act(o).dtype == np.float32
    assert pi.act(torch.tensor(o)).shape == (2,)
    assert pi.act([0.1, 0.2, 0.3]).shape == (2,)
    assert pi.act(np.zeros((8, 3), np.float32)).shape == (8, 2)
    torch.manual_seed(5)
    a1 = pi.act(np.zeros((4, 3)))
    torch.manual_seed(5)
    assert np.array_equal(a1, pi.act(np.zeros((4, 3))))           # same seed, same actions
    assert torch.is_grad_enabled()                                  # act leaves grad mode alone


# --------------------------------------------------------------------------------------------
# CategoricalPolicy
# --------------------------------------------------------------------------------------------
def test_categorical_log_prob_equals_torch_categorical():
    pi = randomise(CategoricalPolicy(4, 5, hidden_sizes=(16, 16)), 4)
    obs = torch.randn(50, 4)
    act = torch.randint(0, 5, (50,))
    lp = pi.log_prob(obs, act)
    assert lp.shape == (50,)
    assert torch.allclose(lp, Categorical(logits=pi.logits_net(obs)).log_prob(act), atol=1e-6)
    assert torch.allclose(lp, pi.distribution(obs).log_prob(act), atol=1e-6)
    # the probabilities of all actions sum to one
    all_lp = torch.stack([pi.log_prob(obs, torch.full((50,), a)) for a in range(5)], 1)
    assert torch.allclose(all_lp.exp().sum(1), torch.ones(50), atol=1e-5)
    # numpy inputs, an unbatched observation, float actions holding integers
    one = pi.log_prob(obs[3].numpy().astype(np.float64), np.int64(act[3]))
    assert one.shape == () and one.item() == pytest.approx(lp[3].item(), abs=1e-6)
    assert torch.allclose(pi.log_prob(obs.numpy(), act.numpy().astype(np.float32)), lp)
    lp.sum().backward()
    assert all(p.grad is not None for p in pi.parameters())


def test_categorical_action_frequencies_match_softmax():
    pi = randomise(CategoricalPolicy(4, 3, hidden_sizes=(8,)), 5, scale=0.4)
    o = np.array([0.3, -0.2, 1.0, 0.5], dtype=np.float32)
    p = torch.softmax(pi.logits_net(torch.as_tensor(o)), -1).detach().numpy()
    assert p.min() > 0.05                                         # all actions visible

    torch.manual_seed(0)
    N = 30_000
    batched = pi.act(np.tile(o, (N, 1)))                           # one batched call
    assert batched.shape == (N,) and batched.dtype == np.int64
    freq = np.bincount(batched, minlength=3) / N
    se = np.sqrt(p * (1 - p) / N)
    assert np.all(np.abs(freq - p) < 4 * se), (freq, p)

    n = 3000                                                       # the unbatched path
    single = np.array([pi.act(o) for _ in range(n)])
    freq = np.bincount(single, minlength=3) / n
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / n)), (freq, p)


def test_categorical_deterministic_is_argmax():
    pi = randomise(CategoricalPolicy(4, 6), 6)
    obs = torch.randn(100, 4)
    want = pi.logits_net(obs).argmax(-1).numpy()
    assert np.array_equal(pi.act(obs, deterministic=True), want)
    assert len(set(want.tolist())) > 1                             # a non-trivial check
    a = pi.act(obs[0].numpy(), deterministic=True)
    assert isinstance(a, np.integer) and a == want[0]


def test_categorical_act_types_and_spaces():
    pi = make_policy(CARTPOLE.observation_space, CARTPOLE.action_space)
    obs, _ = CARTPOLE.reset(seed=0)
    a = pi.act(obs)
    assert isinstance(a, np.int64) and CARTPOLE.action_space.contains(a)
    CARTPOLE.step(a)
    assert pi.act(torch.as_tensor(obs)).shape == ()
    assert pi.act(np.stack([obs] * 8)).shape == (8,)
    assert pi.act(torch.as_tensor(np.stack([obs] * 8), dtype=torch.float64)).shape == (8,)


# --------------------------------------------------------------------------------------------
# make_policy and error messages
# --------------------------------------------------------------------------------------------
def test_make_policy_picks_the_family():
    cat = make_policy(CARTPOLE.observation_space, CARTPOLE.action_space, hidden_sizes=(32,))
    assert isinstance(cat, CategoricalPolicy)
    assert (cat.obs_dim, cat.n_actions) == (4, 2)
    assert [m.out_features for m in cat.logits_net if isinstance(m, nn.Linear)] == [32, 2]
    gauss = make_policy(PENDULUM.observation_space, PENDULUM.action_space, log_std_init=-1.0)
    assert isinstance(gauss, DiagGaussianPolicy)
    assert (gauss.obs_dim, gauss.act_dim) == (3, 1)
    assert gauss.log_std.item() == -1.0
    obs, _ = PENDULUM.reset(seed=0)
    PENDULUM.step(np.clip(gauss.act(obs), -2, 2))                  # an action the env accepts
    sd = make_policy(PENDULUM.observation_space, PENDULUM.action_space, state_dependent_std=True)
    assert sd.state_dependent_std
    envs = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
    vec = make_policy(envs.single_observation_space, envs.single_action_space)
    assert vec.act(envs.reset(seed=0)[0]).shape == (2,)
    envs.close()


BOX4 = spaces.Box(-1, 1, (4,))


@pytest.mark.parametrize("obs_space, act_space, pattern", [
    (BOX4, spaces.MultiDiscrete([2, 3]), r"MultiDiscrete.*Discrete or Box"),
    (BOX4, spaces.MultiBinary(3), r"MultiBinary.*Discrete or Box"),
    (BOX4, spaces.Dict({"a": spaces.Discrete(2)}), r"Dict.*Discrete or Box"),
    (spaces.Dict({"x": BOX4}), spaces.Discrete(2), r"FlattenObservation"),
    (spaces.Discrete(16), spaces.Discrete(4), r"FlattenObservation.*one-hot"),   # FrozenLake
    (spaces.Box(0, 255, (84, 84, 3)), spaces.Discrete(4), r"Image observations.*convolutional"),
    (spaces.Box(-1, 1, (8, 4)), spaces.Discrete(2), r"single_observation_space"),
    (BOX4, spaces.Box(-1, 1, (2, 3)), r"1-D Box action space"),
    (BOX4, spaces.Discrete(3, start=1), r"start at 0"),
])
def test_make_policy_rejects_unsupported_spaces(obs_space, act_space, pattern):
    with pytest.raises(ValueError, match=pattern):
        make_policy(obs_space, act_space)


def test_wrong_observation_shape_names_the_expected_shape():
    pi = CategoricalPolicy(4, 2)
    msg = r"expects observations of shape \(obs_dim,\) or \(batch, obs_dim\) = \(4,\) .*got \(3,\)"
    for call in (lambda: pi.act(np.zeros(3)), lambda: pi.log_prob(np.zeros(3), 0),
                 lambda: pi.distribution(np.zeros(3))):
        with pytest.raises(ValueError, match=msg):
            call()
    with pytest.raises(ValueError, match=r"got \(2, 3, 4\).*FlattenObservation"):
        pi.act(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"got \(\)"):
        pi.act(np.float32(1.0))
    g = DiagGaussianPolicy(3, 1)
    with pytest.raises(ValueError, match=r"DiagGaussianPolicy .*\(3,\) or \(B, 3\); got \(5, 4\)"):
        g.act(np.zeros((5, 4)))


def test_wrong_action_shape_is_rejected_not_broadcast():
    g = DiagGaussianPolicy(3, 1)
    with pytest.raises(ValueError, match=r"shape \(5, 1\).*got \(5,\).*reshape\(-1, 1\)"):
        g.log_prob(torch.zeros(5, 3), torch.zeros(5))               # would broadcast to (5, 5)
    c = CategoricalPolicy(4, 2)
    with pytest.raises(ValueError, match=r"actions of shape \(5,\).*got \(5, 1\)"):
        c.log_prob(torch.zeros(5, 4), torch.zeros(5, 1, dtype=torch.long))


def test_categorical_rejects_bad_actions():
    pi = CategoricalPolicy(4, 2)
    obs = torch.zeros(3, 4)
    with pytest.raises(ValueError, match=r"action 2 is out of range .*n_actions = 2 \(valid: 0 \.\.\. 1\)"):
        pi.log_prob(obs, [0, 1, 2])
    with pytest.raises(ValueError, match=r"action -1 is out of range"):
        pi.log_prob(obs, [0, -1, 1])
    with pytest.raises(ValueError, match=r"non-integer values such as 0\.3.*DiagGaussianPolicy"):
        pi.log_prob(obs, [0.3, 1.0, 0.0])


def test_constructors_reject_spaces_and_bad_sizes():
    with pytest.raises(ValueError, match=r"categorical policy needs a Discrete action space.*"
                                         r"Pendulum-v1 has Box.*DiagGaussianPolicy"):
        CategoricalPolicy(3, PENDULUM.action_space)
    with pytest.raises(ValueError, match=r"env.action_space.n = 2 for CartPole-v1"):
        CategoricalPolicy(4, CARTPOLE.action_space)
    with pytest.raises(ValueError, match=r"obs_dim to be a positive int"):
        DiagGaussianPolicy(0, 1)
    with pytest.raises(ValueError, match=r"act_dim to be a positive int"):
        DiagGaussianPolicy(3, 1.5)
