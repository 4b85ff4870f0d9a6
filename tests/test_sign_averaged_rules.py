"""Properties and framework switches of the issue-16 (part B) rules: Rprop, ...

Each test states which two runs must coincide and at what tolerance; "bitwise" where the
arithmetic is literally the same. Framework conventions are pinned on both sides here; the
whole-trajectory agreement with each framework is in tests/test_oracles.py.
"""

from __future__ import annotations

import numpy as np
import pytest

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


# --- AdEMAMix ---------------------------------------------------------------------------------

def test_ademamix_with_alpha_zero_is_adam_bitwise():
    """α = 0 removes the slow EMA: m̂1 + 0·m2 = m̂1 exactly, so AdEMAMix is Adam (same decay)."""
    for wd, decay in ((0.0, "decoupled"), (0.1, "decoupled"), (0.05, "l2")):
        a = refopt.ademamix(lr=0.05, beta3=0.99, alpha=0.0, weight_decay=wd, decay=decay)
        b = refopt.adam(lr=0.05, weight_decay=wd, decay=decay)
        assert_trees_equal(trajectory(a), trajectory(b))


def test_ademamix_constant_gradient_step_is_one_plus_alpha_times_slow_ema_mass():
    """lem-ademamix-weights on the code: for a constant g and ε = 0 the t-th move is
    −η (1 + α(1 − β3^t)) sign(g) (m̂1 = g, √ν̂ = |g|, m2 = (1 − β3^t) g).
    rtol 1e-14: each move is a few roundings of O(1) numbers."""
    g = np.array([0.3, -2.0, 1e-3])
    opt = refopt.ademamix(lr=0.01, beta3=0.9, alpha=4.0, eps=0.0)
    p, s = np.zeros(3), opt.init(np.zeros(3))
    for t in range(1, 30):
        q, s = opt.update(g, s, p)
        np.testing.assert_allclose(q - p, -0.01 * (1 + 4.0 * (1 - 0.9 ** t)) * np.sign(g),
                                   rtol=1e-14)
        p = q


def test_ademamix_beta3_warmup_interpolates_half_lives():
    """lem-ademamix-halflife: h(β3(t)) = (1 − t/T) h(β_start) + (t/T) h(β3), h(β) = ln ½ / ln β;
    β3(0) = β_start and β3(t ≥ T) = β3. rtol 1e-12: exp/log of numbers near 1 lose ~1e-14."""
    from refopt.optim import alpha_warmup, beta3_warmup
    sched = beta3_warmup(0.9999, 100, beta_start=0.9)

    def h(b):
        return np.log(0.5) / np.log(b)

    assert sched(100) == 0.9999 and sched(250) == 0.9999
    np.testing.assert_allclose(sched(0), 0.9, rtol=1e-15)
    for t in (1, 37, 99):
        np.testing.assert_allclose(h(sched(t)), (1 - t / 100) * h(0.9) + t / 100 * h(0.9999),
                                   rtol=1e-12)
    a = alpha_warmup(5.0, 10)
    assert [a(t) for t in (0, 1, 5, 10, 11)] == [0.0, 0.5, 2.5, 5.0, 5.0]


def test_ademamix_optax_schedules_count_from_zero():
    """optax.contrib.ademamix evaluates α and β3 schedules at t − 1: refopt with
    ``lambda t: s(t - 1)`` reproduces it (rtol 1e-12, float64), refopt with ``s`` does not."""
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jax.config.update("jax_enable_x64", True)

    def alpha(c):
        return 5.0 * jax.numpy.minimum(c / 10.0, 1.0)

    def beta3(c):
        return 0.9 + 0.09 * jax.numpy.minimum(c / 10.0, 1.0)

    d, b = QUAD.d["w"], QUAD.b["w"]
    topt = optax.contrib.ademamix(learning_rate=0.05, b3=beta3, alpha=alpha)
    p = jax.numpy.asarray(P0["w"])
    s = topt.init(p)
    theirs = []
    for _ in range(20):
        u, s = topt.update(d * p - b, s, p)
        p = p + u
        theirs.append(np.asarray(p))

    def ours(shift):
        opt = refopt.ademamix(lr=0.05, alpha=lambda t: 5.0 * min((t - shift) / 10.0, 1.0),
                              beta3=lambda t: 0.9 + 0.09 * min((t - shift) / 10.0, 1.0))
        q, out = P0["w"], []
        st = opt.init(q)
        for _ in range(20):
            q, st = opt.update(d * q - b, st, q)
            out.append(q)
        return np.array(out)

    np.testing.assert_allclose(ours(1), np.array(theirs), rtol=1e-12, atol=1e-12)
    assert np.max(np.abs(ours(0) - np.array(theirs))) > 1e-4
