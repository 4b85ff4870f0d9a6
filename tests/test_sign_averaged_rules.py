"""Properties and framework switches of the issue-16 (part B) rules: Rprop, ...

Each test states which two runs must coincide and at what tolerance; "bitwise" where the
arithmetic is literally the same. Framework conventions are pinned on both sides here; the
whole-trajectory agreement with each framework is in tests/test_oracles.py.
"""

from __future__ import annotations

import numpy as np

import refopt

from .helpers import DiagonalQuadratic, assert_trees_equal

P0 = {"w": np.array([1.5, -0.5, 0.25, 2.0]), "b": np.array([[0.3, -1.2]])}
QUAD = DiagonalQuadratic(P0, seed=11)


def trajectory(opt, steps=25, grad=QUAD.grad, params=P0):
    state = opt.init(params)
    out = []
    for _ in range(steps):
        params, state = opt.update(grad(params), state, params)
        out.append(params)
    return out


# --- Rprop ------------------------------------------------------------------------------------

def test_rprop_sees_only_gradient_signs_bitwise():
    """rule-rprop, lem-rprop-sign: any positive per-coordinate rescaling of g gives the same
    iterates, bit for bit (sign(c g) = sign(g), sign(c g_{t−1} · c g_t) = sign(g_{t−1} g_t))."""
    rng = np.random.default_rng(0)
    scale = {k: 10.0 ** rng.uniform(-6, 6, v.shape) for k, v in P0.items()}

    def scaled(p):
        return {k: scale[k] * v for k, v in QUAD.grad(p).items()}

    for kw in ({}, {"sign_change": "skip"}, {"sign_change": "skip", "delayed": True}):
        opt = refopt.rprop(lr=0.3, **kw)   # Δ_0 = 0.3 overshoots: sign flips occur
        assert_trees_equal(trajectory(opt, grad=scaled), trajectory(opt))


def _one_coordinate(opt, grads):
    p, s, out = np.array([0.0]), None, []
    s = opt.init(p)
    for g in grads:
        p, s = opt.update(np.array([g]), s, p)
        out.append(float(p[0]))
    return out


def test_rprop_sign_change_backtracks_in_the_paper_and_skips_in_torch():
    """The paper (backtrack) undoes the last move where g flips; iRprop⁻/torch (skip) stays.
    Hand values with Δ_0 = 0.1, η+ = 1.2, η− = 0.5: moves −0.1, −0.12, then a flip."""
    grads = [1.0, 1.0, -1.0, -1.0]
    paper = _one_coordinate(refopt.rprop(lr=0.1), grads)
    torch_form = _one_coordinate(refopt.rprop(lr=0.1, sign_change="skip"), grads)
    # after the flip both take the "= 0" branch with Δ = 0.06 and g < 0: move +0.06
    np.testing.assert_allclose(paper, [-0.1, -0.22, -0.1, -0.04], rtol=1e-15)
    np.testing.assert_allclose(torch_form, [-0.1, -0.22, -0.22, -0.16], rtol=1e-15)


def test_rprop_delayed_is_the_skip_form_one_step_late_without_sign_flips():
    """optax's delayed form (delayed=True) applies at t the move proposed at t−1: with gradients
    of constant sign, its θ_{t+1} is the skip form's θ_t, bitwise, and its first move is 0."""
    grads = [np.array([0.3, -2.0, 5.0]) * (1 + 0.1 * k) for k in range(12)]
    p0 = np.array([1.0, 2.0, -3.0])

    def run(opt):
        p, s, out = p0, opt.init(p0), []
        for g in grads:
            p, s = opt.update(g, s, p)
            out.append(p)
        return out

    delayed = run(refopt.rprop(lr=0.05, sign_change="skip", delayed=True))
    now = run(refopt.rprop(lr=0.05, sign_change="skip"))
    np.testing.assert_array_equal(delayed[0], p0)
    for a, b in zip(delayed[1:], now[:-1]):
        np.testing.assert_array_equal(a, b)
