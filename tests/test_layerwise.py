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
    "lars": (lambda: refopt.lars(lr=0.1, momentum=0.0, trust_coefficient=0.2), 0.02),
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
    make = {"lamb": lambda: refopt.lamb(lr=0.01, eps=0.0),
            "lars": lambda: refopt.lars(lr=0.1, momentum=0.9, nesterov=True)}[name]
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


def test_lars_masked_leaves_take_the_plain_momentum_step():
    """trust_ratio_mask / weight_decay_mask = matrix_leaves: the vector "b" is neither decayed
    nor rescaled, so it follows momentum SGD with η inside the buffer (refopt.momentum's
    default form), to the last bit."""
    from refopt.optim.lars import matrix_leaves
    opt = refopt.lars(lr=0.1, momentum=0.9, weight_decay=0.1, weight_decay_mask=matrix_leaves,
                      trust_ratio_mask=matrix_leaves)
    ours = _trajectory(opt, GRADS)
    plain = _trajectory(refopt.momentum(lr=0.1, momentum=0.9), [{"b": g["b"]} for g in GRADS],
                        params={"b": PARAMS["b"]})
    for a, b in zip(ours, plain):
        np.testing.assert_array_equal(a["b"], b["b"])
        assert not np.allclose(a["w"], PARAMS["w"])


def test_lars_mask_of_the_wrong_shape_is_rejected_before_any_change():
    opt = refopt.lars(trust_ratio_mask={"w": True})
    state = opt.init(PARAMS)
    with pytest.raises(ValueError, match="trust_ratio_mask must be None, a tree of bools"):
        opt.update(GRADS[0], state, PARAMS)
    with pytest.raises(TypeError, match="weight_decay_mask must have True/False leaves"):
        refopt.lars(weight_decay_mask={"w": 1, "b": 0}).update(GRADS[0], state, PARAMS)
