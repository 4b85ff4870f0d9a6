"""Layer-wise and matrix rules (issue 17 part A): the properties their proofs/ pages derive,
asserted on the code. Oracle trajectories are in test_oracles.py (registry-driven) and exact
first steps in test_exact.py."""

from __future__ import annotations

import numpy as np
import pytest

import refopt

RNG = np.random.default_rng(17)
PARAMS = {"w": RNG.uniform(-1, 1, (3, 4)), "b": RNG.uniform(-1, 1, 4)}
GRADS = [{k: RNG.uniform(-1, 1, v.shape) for k, v in PARAMS.items()} for _ in range(5)]

# (factory, relative step of each layer on the first update)
TRUST_RULES = {
    "lamb": (lambda: refopt.lamb(lr=0.01), 0.01),
}


def _trajectory(opt, grads, params=PARAMS):
    state, out = opt.init(params), []
    for g in grads:
        params, state = opt.update(g, state, params)
        out.append(params)
    return out


@pytest.mark.parametrize("name", list(TRUST_RULES))
def test_each_layer_moves_by_lr_times_its_norm(name):
    """lem-lamb-relative: ‖θ_1 − θ_0‖ = η‖θ_0‖ per leaf, for gradients of very different sizes.
    rtol 1e-14: one norm, one division and one scaling in float64."""
    make, rel = TRUST_RULES[name]
    grads = {"w": 1e4 * GRADS[0]["w"], "b": 1e-4 * GRADS[0]["b"]}
    new = _trajectory(make(), [grads])[0]
    for k in PARAMS:
        ratio = np.linalg.norm(new[k] - PARAMS[k]) / np.linalg.norm(PARAMS[k])
        np.testing.assert_allclose(ratio, rel, rtol=1e-14)


@pytest.mark.parametrize("name", list(TRUST_RULES))
def test_one_layers_gradient_scale_does_not_change_any_step(name):
    """thm-lamb-layer-scaling (b): scaling only leaf "w"'s gradients by 1e3 leaves all five
    steps of both leaves unchanged (ε = 0). A single global trust ratio would fail this.
    rtol 1e-13: the scaling changes only the rounding of squares, roots and divisions."""
    make = {"lamb": lambda: refopt.lamb(lr=0.01, eps=0.0)}[name]
    scaled = [{"w": 1e3 * g["w"], "b": g["b"]} for g in GRADS]
    for a, b in zip(_trajectory(make(), scaled), _trajectory(make(), GRADS)):
        for k in PARAMS:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-13, atol=0)


def test_lamb_zero_layer_takes_the_plain_adam_step():
    """r = 1 when ‖θ‖ = 0: a zero-initialised bias moves by η·m̂/(√v̂ + ε) (= η·sign(g) at t=1)."""
    opt = refopt.lamb(lr=0.01, eps=0.0)
    params = {"b": np.zeros(3)}
    new, _ = opt.update({"b": np.array([2.0, -0.5, 3.0])}, opt.init(params), params)
    # rtol 1e-15: m̂ and √v̂ equal |g| up to the rounding of the bias corrections
    np.testing.assert_allclose(new["b"], [-0.01, 0.01, -0.01], rtol=1e-15)
