"""The checkers of the chapter "Policies" (rlnotes.exercises.policies), tested against the
chapter's own cells.

For every checker: the reference solution from the chapter's ``{solution}`` cell passes;
typical mistakes fail with their specific hint; the chapter's untouched stub is reported as
"not attempted"; a crashing function gives a sentence, not a traceback. The checkers are
statistical only in exercise (c), which uses fixed seeds and does not disturb the reader's
torch random stream.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np
import torch

from rlnotes.exercises import policies as ex
from tests.chapter_cells import run_checker as _run
from tests.chapter_cells import solution_code as _solution_code

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "policies.ipynb"


# ---------------------------------------------------------------------------------- helpers
def _define(code, name):
    namespace = {"np": np, "torch": torch, "math": math}   # what the chapter has imported
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the chapter's own code
    return namespace[name]


# (exercise label, function name, checker)
EXERCISES = [
    ("ex-policies-gaussian-logp", "diag_gaussian_log_likelihood", ex.check_diag_gaussian_log_likelihood),
    ("ex-policies-categorical-logp", "categorical_log_likelihood", ex.check_categorical_log_likelihood),
    ("ex-policies-gaussian-sample", "diag_gaussian_sample", ex.check_diag_gaussian_sample),
]


# -------------------------------------------------------------- 1. the solutions pass
def test_other_right_answers_pass_too(capsys):
    """Equivalent formulations: torch.distributions, float32 arithmetic, rsample, gather."""
    def logp_distributions(mean, log_std, action):
        return torch.distributions.Normal(mean, log_std.exp()).log_prob(action).sum(-1)

    def logp_float32(mean, log_std, action):
        mean, log_std, action = mean.float(), log_std.float(), action.float()
        var = torch.exp(2 * log_std)
        return -0.5 * ((action - mean) ** 2 / var + 2 * log_std + math.log(2 * math.pi)).sum(-1)

    def categorical_gather(logits, actions):
        return (logits - torch.logsumexp(logits, -1, keepdim=True)).gather(-1, actions[:, None]).squeeze(-1)

    def categorical_distribution(logits, actions):
        return torch.distributions.Categorical(logits=logits).log_prob(actions)

    def sample_rsample(mean, log_std):
        return torch.distributions.Normal(mean, log_std.exp()).rsample()

    for check, fn in [(ex.check_diag_gaussian_log_likelihood, logp_distributions),
                      (ex.check_diag_gaussian_log_likelihood, logp_float32),
                      (ex.check_categorical_log_likelihood, categorical_gather),
                      (ex.check_categorical_log_likelihood, categorical_distribution),
                      (ex.check_diag_gaussian_sample, sample_rsample)]:
        verdict = _run(check, fn, capsys)
        assert verdict.passed, (fn.__name__, verdict.message)


# ------------------------------------------------------ 2. typical mistakes get their hint
_LOG_2PI = math.log(2 * math.pi)


def _logp_no_log_2pi(mean, log_std, action):
    return -0.5 * (((action - mean) / log_std.exp()) ** 2 + 2 * log_std).sum(-1)


def _logp_log_std_as_sigma(mean, log_std, action):
    return -0.5 * (((action - mean) / log_std) ** 2 + 2 * torch.log(log_std) + _LOG_2PI).sum(-1)


def _logp_variance_for_std(mean, log_std, action):
    return -0.5 * (((action - mean) / torch.exp(2 * log_std)) ** 2 + 2 * log_std + _LOG_2PI).sum(-1)


def _logp_sigma_for_log_sigma(mean, log_std, action):
    return -0.5 * (((action - mean) / log_std.exp()) ** 2 + 2 * log_std.exp() + _LOG_2PI).sum(-1)


def _logp_no_sum(mean, log_std, action):
    return -0.5 * (((action - mean) / log_std.exp()) ** 2 + 2 * log_std + _LOG_2PI)


def _logp_sum_everything(mean, log_std, action):
    return _logp_no_sum(mean, log_std, action).sum()


def _logp_sign(mean, log_std, action):
    return 0.5 * (((action - mean) / log_std.exp()) ** 2 + 2 * log_std + _LOG_2PI).sum(-1)


def _logp_no_factor_2(mean, log_std, action):
    return -0.5 * (((action - mean) / log_std.exp()) ** 2 + log_std + _LOG_2PI).sum(-1)


def _logp_mean_over_dims(mean, log_std, action):
    return -0.5 * (((action - mean) / log_std.exp()) ** 2 + 2 * log_std + _LOG_2PI).mean(-1)


def _cat_probabilities(logits, actions):
    return torch.softmax(logits, -1)[torch.arange(len(actions)), actions]


def _cat_wrong_axis(logits, actions):
    return torch.log_softmax(logits, 0)[torch.arange(len(actions)), actions]


def _cat_not_normalised(logits, actions):
    return logits[torch.arange(len(actions)), actions]


def _cat_log_of_softmax(logits, actions):
    return torch.log(torch.softmax(logits, -1))[torch.arange(len(actions)), actions]


def _cat_every_column(logits, actions):
    return torch.log_softmax(logits, -1)[:, actions]


def _cat_whole_rows(logits, actions):
    return torch.log_softmax(logits, -1)


def _cat_sign(logits, actions):
    return -torch.log_softmax(logits, -1)[torch.arange(len(actions)), actions]


def _sample_no_gradient(mean, log_std):
    return torch.distributions.Normal(mean, log_std.exp()).sample()


def _sample_torch_normal(mean, log_std):
    return torch.normal(mean, log_std.exp())


def _sample_log_std_as_sigma(mean, log_std):
    return mean + log_std * torch.randn_like(mean)


def _sample_variance(mean, log_std):
    return mean + torch.exp(2 * log_std) * torch.randn_like(mean)


def _sample_no_mean(mean, log_std):
    return log_std.exp() * torch.randn_like(mean)


def _sample_one_z_per_batch(mean, log_std):
    return mean + log_std.exp() * torch.randn_like(log_std)


def _sample_one_z_per_row(mean, log_std):
    return mean + log_std.exp() * torch.randn(*mean.shape[:-1], 1)


def _sample_numpy(mean, log_std):
    return (mean + log_std.exp() * torch.randn_like(mean)).detach().numpy()


def _sample_the_mean(mean, log_std):
    return mean.clone()


MISTAKES = [
    # (checker, wrong function, substrings the hint must contain)
    (ex.check_diag_gaussian_log_likelihood, _logp_no_log_2pi, ["forgot the log 2π", "expected -1.9756"]),
    (ex.check_diag_gaussian_log_likelihood, _logp_log_std_as_sigma, ["NaN", "σ = exp(log_std)"]),
    (ex.check_diag_gaussian_log_likelihood, _logp_variance_for_std, ["variance σ²", "standard deviation σ"]),
    (ex.check_diag_gaussian_log_likelihood, _logp_sigma_for_log_sigma, ["used σ where log σ belongs"]),
    (ex.check_diag_gaussian_log_likelihood, _logp_no_sum, ["shape (5, 2)", "sum over the last axis"]),
    (ex.check_diag_gaussian_log_likelihood, _logp_sum_everything, ["single number", "not over the batch"]),
    (ex.check_diag_gaussian_log_likelihood, _logp_sign, ["sign error"]),
    (ex.check_diag_gaussian_log_likelihood, _logp_no_factor_2, ["factor 2 in front of log σ"]),
    (ex.check_diag_gaussian_log_likelihood, _logp_mean_over_dims, ["averaged over the action dimensions"]),
    (ex.check_categorical_log_likelihood, _cat_probabilities, ["probability π(a|s), not its logarithm"]),
    (ex.check_categorical_log_likelihood, _cat_wrong_axis, ["over the batch (dim=0)", "dim=-1"]),
    (ex.check_categorical_log_likelihood, _cat_not_normalised, ["forgot to normalise", "logsumexp"]),
    (ex.check_categorical_log_likelihood, _cat_log_of_softmax, ["-inf", "underflows", "log_softmax"]),
    (ex.check_categorical_log_likelihood, _cat_every_column, ["shape (B, B)", "torch.arange(B)"]),
    (ex.check_categorical_log_likelihood, _cat_whole_rows, ["shape (B, A)", "action taken"]),
    (ex.check_categorical_log_likelihood, _cat_sign, ["sign error"]),
    (ex.check_diag_gaussian_sample, _sample_no_gradient, ["no gradient", "reparameterisation"]),
    (ex.check_diag_gaussian_sample, _sample_torch_normal, ["no gradient", "torch.normal"]),
    (ex.check_diag_gaussian_sample, _sample_log_std_as_sigma, ["used log_std as the standard deviation"]),
    (ex.check_diag_gaussian_sample, _sample_variance, ["variance σ² instead of σ"]),
    (ex.check_diag_gaussian_sample, _sample_no_mean, ["centred at 0", "Add the mean"]),
    (ex.check_diag_gaussian_sample, _sample_one_z_per_batch, ["every row of your sample is the same"]),
    (ex.check_diag_gaussian_sample, _sample_one_z_per_row, ["share one z", "randn_like(mean)"]),
    (ex.check_diag_gaussian_sample, _sample_numpy, ["return a torch tensor"]),
    (ex.check_diag_gaussian_sample, _sample_the_mean, ["the mean itself"]),
]


def test_an_unrecognised_wrong_answer_still_fails_with_numbers(capsys):
    def off_by_a_bit(mean, log_std, action):
        return ex._gaussian_reference(mean, log_std, action) + 0.01    # noqa: SLF001

    verdict = _run(ex.check_diag_gaussian_log_likelihood,
                   lambda m, s, a: torch.as_tensor(off_by_a_bit(m, s, a)), capsys)
    assert verdict.status == "fail" and "expected" in verdict.message and "got" in verdict.message

    def scaled(mean, log_std):
        return mean + 1.1 * log_std.exp() * torch.randn_like(mean)     # σ 10 % too large

    verdict = _run(ex.check_diag_gaussian_sample, scaled, capsys)
    assert verdict.status == "fail" and "sample moments" in verdict.message


# -------------------------------------------------- 3. stubs and crashes
def test_the_sampling_checker_leaves_the_readers_random_stream_alone(capsys):
    fn = _define(_solution_code(CHAPTER, "ex-policies-gaussian-sample"), "diag_gaussian_sample")
    torch.manual_seed(123)
    expected = torch.randn(3)
    torch.manual_seed(123)
    _run(ex.check_diag_gaussian_sample, fn, capsys)
    assert torch.equal(torch.randn(3), expected)
