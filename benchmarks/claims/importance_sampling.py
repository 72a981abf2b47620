"""The claims of the chapter 'Importance sampling', recomputed over seeds.

Most of the chapter's checks are Monte-Carlo estimates from numpy generators with tolerances of
four standard errors, or exact computations in float64. The exception is the float32 check that
the surrogate's gradient at theta = theta' equals the policy gradient (and the gradients of
PPO's two losses): its tolerance must cover the round-off of other floating-point paths. This
script recomputes that check for a list of seeds (of the untrained policy and its CartPole
batch), in whatever numerical setting the process runs (for example the combined variant
ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE RLNOTES_TORCH_THREADS=2; add
OMP_WAIT_POLICY=PASSIVE on a busy machine, which changes no number), prints one line per seed
and stores the values, with their minimum and maximum, under the name of the setting in
benchmarks/claims/importance_sampling.json. The chapter's margins are set from that file: its
table `claims` lists every assert the experiments measure, with the threshold and the smallest
and largest recorded value over all seeds and settings. `--summary-only` recomputes that table
without measuring; the exit status is 1 if a recorded value fails an assert.

    python benchmarks/claims/importance_sampling.py --seeds 0-19
    python benchmarks/claims/importance_sampling.py --summary-only
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import torch

CHAPTER = "book/importance_sampling.ipynb"
OUT = pathlib.Path(__file__).with_suffix(".json")
VARIANT_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "RLNOTES_TORCH_THREADS")


# --------------------------------------------------------------------------------------------
# cell 15: at theta = theta' the surrogate, pg_loss, ppo_clip_loss and ppo_kl_loss have one gradient
# --------------------------------------------------------------------------------------------
def surrogate_gradients(seed):
    from rlnotes.estimators import importance_weights, pg_loss, ppo_clip_loss, ppo_kl_loss
    from rlnotes.policies import CategoricalPolicy
    from rlnotes.returns import reward_to_go
    from rlnotes.rollout import collect_episodes

    torch.manual_seed(seed)
    policy = CategoricalPolicy(obs_dim=4, n_actions=2)
    batch = collect_episodes(policy, "CartPole-v1", n_episodes=20, seed=seed)
    rtg = np.concatenate([reward_to_go(r, 0.99) for r in batch.rewards])
    adv = torch.as_tensor(rtg - rtg.mean(), dtype=torch.float32)
    obs, act = torch.as_tensor(batch.flat_obs), torch.as_tensor(batch.flat_actions)
    params = list(policy.parameters())
    logp = policy.log_prob(obs, act)
    logp_old = logp.detach()
    surrogate = (importance_weights(logp, logp_old) * adv).mean()

    def flat_grad(scalar):
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(scalar, params, retain_graph=True)])

    g_surrogate = flat_grad(surrogate)
    g_pg = -flat_grad(pg_loss(logp, adv))
    out = {}
    for name, g in [("pg", g_pg), ("clip", -flat_grad(ppo_clip_loss(logp, logp_old, adv, clip_eps=0.2))),
                    ("kl", -flat_grad(ppo_kl_loss(logp, logp_old, adv, beta=1.0)))]:
        # torch.allclose(g_surrogate, g, rtol=1e-5, atol=1e-7 max|g_pg|) holds iff this is <= 1
        tol = 1e-7 * g_pg.abs().max() + 1e-5 * g.abs()
        out[f"{name}_error_over_tolerance"] = float(((g_surrogate - g).abs() / tol).max())
    out["surrogate_is_mean_advantage"] = bool(torch.isclose(surrogate, adv.mean()))
    return out


EXPERIMENTS = {"surrogate_gradients": surrogate_gradients}
GROUPS = {}
DERIVED = {}
# the chapter's asserts (torch.allclose(..., rtol=1e-5, atol=1e-7 max|g_pg|) holds iff the ratio is <= 1)
CLAIMS = {
    f"{name}_gradient": dict(experiment="surrogate_gradients", statistic=f"{name}_error_over_tolerance", op="<=",
                             threshold=1.0, cell="is-016", assert_=f"torch.allclose(g_surrogate, g_{name}, ...)")
    for name in ("pg", "clip", "kl")
}
CLAIMS["surrogate_value"] = dict(experiment="surrogate_gradients", statistic="surrogate_is_mean_advantage",
                                 op="==", threshold=True, cell="is-016",
                                 assert_="torch.isclose(surrogate, adv.mean())")


if __name__ == "__main__":
    import recording  # beside this script

    sys.exit(recording.main(sys.modules[__name__]))
