"""R-SGD replayed from its documented masks and schedule; AGD's documented constants (issue 18).

The R-SGD replay draws Γ_t itself — PCG64 seeded with SeedSequence [seed, t, i] per leaf i
(one uniform per coordinate, or one per leaf) or [seed, t] for one global draw, Γ = (u < p_t)
with p_t = min(p_max, 1 − p0 γ^τ(t)) — and runs h_t = g_t + Γ_t ⊙ h_{t−1} (or g_{t−1} for
mode="previous"), θ_t = θ_{t−1} − η h_t on a fixed gradient sequence (proof page rule-rsgd).
"""

from __future__ import annotations

import numpy as np
import pytest

import refopt
from refopt.research import agd_sgd_fraction, reinforcement_schedule, rsgd_masks


def _masks_by_hand(shapes, *, seed, t, p, granularity):
    if granularity == "global":
        on = np.random.default_rng([seed, t]).random() < p
        return [np.full(s, on) for s in shapes]
    out = []
    for i, s in enumerate(shapes):
        rng = np.random.default_rng([seed, t, i])
        out.append(np.full(s, rng.random() < p) if granularity == "array" else rng.random(s) < p)
    return out


CASES = {
    # name: (rsgd arguments, p_t by hand)
    "coordinate-accumulate": (dict(gamma=0.8, p0=0.9, p_max=0.7, seed=3),
                              lambda t: min(0.7, 1 - 0.9 * 0.8 ** t)),
    "array-previous": (dict(gamma=0.8, p0=0.9, p_max=0.7, seed=3, mode="previous",
                            granularity="array"), lambda t: min(0.7, 1 - 0.9 * 0.8 ** t)),
    "global-epochs": (dict(gamma=0.5, p0=0.8, p_max=0.95, seed=11, granularity="global",
                           time_unit="epoch", steps_per_epoch=3),
                      lambda t: min(0.95, 1 - 0.8 * 0.5 ** ((t - 1) // 3 + 1))),
    "custom-schedule": (dict(schedule=lambda t: 0.5 if t % 2 else 0.2, seed=7),
                        lambda t: 0.5 if t % 2 else 0.2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rsgd_follows_its_documented_masks_and_schedule(name):
    kwargs, p_of = CASES[name]
    mode = kwargs.get("mode", "accumulate")
    granularity = kwargs.get("granularity", "coordinate")
    seed, lr = kwargs["seed"], 0.1
    rng = np.random.default_rng(0)
    shapes = [(3, 2), (5,)]
    params = {"a": rng.standard_normal(shapes[0]), "b": rng.standard_normal(shapes[1])}
    opt = refopt.rsgd(lr=lr, **kwargs)
    state = opt.init(params)
    theta = [params["a"].copy(), params["b"].copy()]
    memory = [np.zeros(s) for s in shapes]
    reinforced = 0
    for t in range(1, 13):
        grads = {"a": rng.standard_normal(shapes[0]), "b": rng.standard_normal(shapes[1])}
        masks = _masks_by_hand(shapes, seed=seed, t=t, p=p_of(t), granularity=granularity)
        published = rsgd_masks(params, seed=seed, t=t, p=p_of(t), granularity=granularity)
        for mine, theirs in zip(masks, published):
            np.testing.assert_array_equal(theirs, mine)
        for i, g in enumerate((grads["a"], grads["b"])):
            h = np.where(masks[i], g + memory[i], g)
            theta[i] = theta[i] - lr * h
            memory[i] = h if mode == "accumulate" else g
            reinforced += int(masks[i].sum())
        params, state = opt.update(grads, state, params)
        # the same element-wise operations in the same order: bitwise equal
        np.testing.assert_array_equal(params["a"], theta[0], err_msg=f"{name}, step {t}")
        np.testing.assert_array_equal(params["b"], theta[1], err_msg=f"{name}, step {t}")
    assert 0 < reinforced < 12 * 11  # masks both on and off occurred: the replay tests them


def test_reinforcement_schedule_values_by_hand():
    step = reinforcement_schedule(gamma=0.9, p0=0.5, p_max=0.8)
    assert [step(t) for t in (1, 2, 30)] == pytest.approx([1 - 0.5 * 0.9, 1 - 0.5 * 0.81, 0.8], rel=1e-15)
    epoch = reinforcement_schedule(gamma=0.5, p0=1.0, p_max=1.0, time_unit="epoch", steps_per_epoch=4)
    # steps 1–4 are epoch 1 (p = 1/2), steps 5–8 epoch 2 (p = 3/4)
    assert [epoch(t) for t in (1, 4, 5, 8, 9)] == [0.5, 0.5, 0.75, 0.75, 0.875]


def test_agd_default_weight_decay_is_decoupled():
    """Documented default (the authors' code): θ ← θ(1 − ηλ), then the AGD step. At t = 1 with
    |g| > δ the step is −η sign(g): θ_1 = 1·(1 − 0.1·0.1) + 0.1 = 1.09. L2 (g + λθ = +0.05) would
    give 1 − 0.1 = 0.9."""
    opt = refopt.agd(lr=0.1, weight_decay=0.1)
    new, _ = opt.update(np.array([-0.05]), opt.init(np.array([1.0])), np.array([1.0]))
    assert new[0] == pytest.approx(1.09, rel=1e-14)


def test_agd_sgd_fraction_uses_the_bias_corrected_floor():
    """After step 1, b̂ = s_1² = g_1², so a coordinate is in SGD mode iff |g_1| ≤ δ (the clamp
    δ√(1 − β2^t) on √b_t = √(1 − β2)|g_1|). Of |g| = 0.5δ, 2δ, 10δ, 100δ one coordinate is."""
    delta = 1e-3
    opt = refopt.agd(lr=0.1, delta=delta)
    g = np.array([0.5, 2.0, -10.0, 100.0]) * delta
    new, state = opt.update(g, opt.init(np.zeros(4)), np.zeros(4))
    assert agd_sgd_fraction(state, delta=delta) == 0.25
    # SGD mode steps by −η ĝ/δ, adaptive mode by −η sign(g)
    np.testing.assert_allclose(new, [-0.05, -0.1, 0.1, -0.1], rtol=1e-12)  # bias corrections round
