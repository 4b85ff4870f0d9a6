"""Properties of the wrappers (proofs/rules/gradient-transforms.md, parameter-averaging.md,
lookahead.md), each checked on the implementation with a value a wrong one would miss."""

from __future__ import annotations

import numpy as np
import pytest

import refopt
from refopt import treemath

RNG = np.random.default_rng(0)
G = {"w": RNG.standard_normal((3, 4)) * 5, "b": RNG.standard_normal(4)}
P = {"w": RNG.standard_normal((3, 4)), "b": RNG.standard_normal(4)}


def one_sgd_step(wrapper, grads=G, params=P):
    """The gradient a wrapper hands to SGD(η = 1): θ − θ' for one step."""
    opt = wrapper(refopt.sgd(lr=1.0))
    new, _ = opt.update(grads, opt.init(params), params)
    return {k: params[k] - new[k] for k in params}


@pytest.mark.parametrize("eps", [0.0, 1e-6])
def test_global_norm_clip_bound_and_direction(eps):
    g = one_sgd_step(lambda r: refopt.clip_by_global_norm(r, 2.0, eps=eps))
    assert treemath.norm(g) == pytest.approx(2.0 * treemath.norm(G) / (treemath.norm(G) + eps), rel=1e-14)
    ratio = g["w"] / G["w"]
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-14)       # same direction
    small = {k: v * 1e-3 for k, v in G.items()}
    assert one_sgd_step(lambda r: refopt.clip_by_global_norm(r, 2.0), small)["b"] == pytest.approx(small["b"])


def test_clip_by_value_bound():
    g = one_sgd_step(lambda r: refopt.clip_by_value(r, 0.7))
    assert max(np.max(np.abs(v)) for v in g.values()) == pytest.approx(0.7, rel=1e-15)


def test_adaptive_clip_bounds_each_unit():
    """Each column of the (in, out) matrix and the whole vector end with ‖g_u‖ ≤ λ max(‖θ_u‖, ε)."""
    g = one_sgd_step(lambda r: refopt.adaptive_grad_clip(r, 0.1))
    col_g, col_p = np.linalg.norm(g["w"], axis=0), np.linalg.norm(P["w"], axis=0)
    np.testing.assert_allclose(col_g, 0.1 * col_p, rtol=1e-14)          # every column was clipped
    assert np.linalg.norm(g["b"]) == pytest.approx(0.1 * np.linalg.norm(P["b"]), rel=1e-14)
    with pytest.raises(ValueError, match=r"axis=2 does not fit a leaf of shape \(4,\)"):
        one_sgd_step(lambda r: refopt.adaptive_grad_clip(r, 0.1, axis=2))


def test_centralize_projects_rows_to_mean_zero():
    g = one_sgd_step(refopt.centralize)
    np.testing.assert_allclose(g["w"].mean(axis=1), 0.0, atol=1e-14)
    # vectors untouched (θ − θ' recovers g up to the rounding of one subtraction)
    np.testing.assert_allclose(g["b"], G["b"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(g["w"], G["w"] - G["w"].mean(axis=1, keepdims=True), rtol=1e-15)


def test_mask_decays_only_the_masked_leaves():
    mask = {"w": True, "b": False}
    zero = {k: np.zeros_like(v) for k, v in P.items()}
    opt = refopt.masked_weight_decay(refopt.sgd(lr=0.1), 0.5, mask, lr=0.1)
    new, _ = opt.update(zero, opt.init(P), P)
    np.testing.assert_allclose(new["w"], 0.95 * P["w"], rtol=1e-15)
    np.testing.assert_array_equal(new["b"], P["b"])
    with pytest.raises(ValueError, match="lr is required"):
        refopt.masked_weight_decay(refopt.sgd(), 0.5, mask)
    with pytest.raises(TypeError, match="mask must be a tree of True/False"):
        refopt.masked_weight_decay(refopt.sgd(), 0.5, {"w": 1, "b": 0}, lr=0.1)
    with pytest.raises(ValueError, match="structure"):
        opt = refopt.masked_weight_decay(refopt.sgd(), 0.5, {"w": True}, lr=0.1)
        opt.init(P)


def test_lookahead_slow_weights_and_limits():
    """α = 1 is the wrapped rule; one outer step of SGD on ½λθ² multiplies φ by 1 − α + α(1 − ηλ)^k."""
    lam, eta, k, alpha = 2.0, 0.1, 3, 0.5
    x0 = np.array([1.0, -3.0])
    opt = refopt.lookahead(refopt.sgd(lr=eta), sync_period=k, slow_step_size=alpha)
    p, s = x0, opt.init(x0)
    for _ in range(2 * k):
        p, s = opt.update(lam * p, s, p)
    np.testing.assert_allclose(s.slow, (1 - alpha + alpha * (1 - eta * lam) ** k) ** 2 * x0, rtol=1e-14)
    np.testing.assert_array_equal(p, s.slow)                           # synchronised
    plain, one = refopt.momentum(lr=eta, momentum=0.9), refopt.lookahead(
        refopt.momentum(lr=eta, momentum=0.9), sync_period=k, slow_step_size=1.0)
    p1, s1, p2, s2 = x0, plain.init(x0), x0, one.init(x0)
    for _ in range(7):
        p1, s1 = plain.update(lam * p1, s1, p1)
        p2, s2 = one.update(lam * p2, s2, p2)
    np.testing.assert_allclose(p2, p1, rtol=1e-15)


def test_wrappers_pass_grad_fn_through():
    """lookahead(nag) with α = 1 and clip(nag) call the look-ahead gradient oracle."""
    x0 = np.array([1.0, -3.0])
    nag = refopt.nag(lr=0.1, momentum=0.9)
    for wrapped in (refopt.lookahead(nag, 2, 1.0), refopt.clip_by_value(nag, 100.0)):
        assert wrapped.extra_args == {"grad_fn"}
        p1, s1, p2, s2 = x0, nag.init(x0), x0, wrapped.init(x0)
        for _ in range(5):
            p1, s1 = nag.update(None, s1, p1, grad_fn=lambda q: 2.0 * q)
            p2, s2 = wrapped.update(None, s2, p2, grad_fn=lambda q: 2.0 * q)
        np.testing.assert_allclose(p2, p1, rtol=1e-15)
    clipped = refopt.clip_by_value(nag, 0.1)
    p, _ = clipped.update(None, clipped.init(x0), x0, grad_fn=lambda q: 2.0 * q)
    np.testing.assert_allclose(p, x0 - 0.1 * np.clip(2.0 * x0, -0.1, 0.1))  # v₀ = 0: point x0


def test_wrappers_reject_bad_inner_and_objective_rules():
    with pytest.raises(TypeError, match="inner must be a refopt Optimizer"):
        refopt.lookahead("adam")
    with pytest.raises(ValueError, match="a gradient transform needs a rule that takes grads"):
        refopt.clip_by_value(refopt.bigbatch(lr=0.1), 1.0)


def test_uniform_average_is_the_mean_of_the_iterates():
    opt = refopt.average_params(refopt.sgd(lr=0.3), weights="uniform")
    p, s, seen = np.array([2.0]), opt.init(np.array([2.0])), []
    for _ in range(6):
        p, s = opt.update(p, s, p)
        seen.append(p)
    np.testing.assert_allclose(s.average, np.mean(seen, axis=0), rtol=1e-15)


def test_schedule_free_limits():
    """β = 0: y = z follows the wrapped rule and x is the mean of its iterates (constant η);
    β = 1: gradients are taken at x itself (primal averaging)."""
    x0 = np.array([1.0, -3.0])
    opt, plain = refopt.schedule_free(refopt.adagrad(lr=0.2), 0.2, b1=0.0), refopt.adagrad(lr=0.2)
    p1, s1, p2, s2, seen = x0, opt.init(x0), x0, plain.init(x0), []
    for _ in range(6):
        p1, s1 = opt.update(2.0 * p1, s1, p1)
        p2, s2 = plain.update(2.0 * p2, s2, p2)
        seen.append(p2)
    np.testing.assert_allclose(p1, p2, rtol=1e-14)   # z + (𝒜(y) − y) vs 𝒜(y): one rounding a step
    np.testing.assert_allclose(s1.x, np.mean(seen, axis=0), rtol=1e-14)
    opt = refopt.schedule_free_sgd(lr=0.1, b1=1.0)
    p, s = x0, opt.init(x0)
    for _ in range(4):
        p, s = opt.update(2.0 * p, s, p)
        np.testing.assert_array_equal(p, s.x)
