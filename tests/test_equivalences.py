"""The equivalence lattice between rules (TESTING.md §3), for the classic rules.

Each test states which two runs must coincide and at what tolerance; "bitwise" where the
arithmetic is literally the same, otherwise a tolerance with its reason.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import refopt
from refopt.registry import SPECS

from .helpers import DiagonalQuadratic, assert_trees_equal, run

P0 = {"w": np.array([1.5, -0.5, 0.25, 2.0]), "b": np.array([[0.3, -1.2]])}
QUAD = DiagonalQuadratic(P0, seed=11)


def trajectory(opt, steps=25, grads=None, params=P0):
    state = opt.init(params)
    out = []
    for k in range(steps):
        g = QUAD.grad(params) if grads is None else grads[k]
        params, state = opt.update(g, state, params)
        out.append(params)
    return out


def test_momentum_zero_is_sgd_bitwise():
    assert_trees_equal(trajectory(refopt.momentum(lr=0.1, momentum=0.0)), trajectory(refopt.sgd(lr=0.1)))


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "rmsprop", "adagrad", "nadam"])
@pytest.mark.parametrize("decay", ["decoupled", "fixed", "l2"])
def test_zero_weight_decay_is_no_decay_bitwise(name, decay):
    cfg = SPECS[name].configs[0]
    assert_trees_equal(trajectory(SPECS[name].build(**cfg, weight_decay=0.0, decay=decay)),
                       trajectory(SPECS[name].build(**cfg)))


def test_adam_beta1_zero_is_bias_corrected_rmsprop_eps_outside():
    """Adam(β1=0): m̂ = g, so θ −= η g/(√v̂ + ε) — RMSprop with ρ=β2, ε outside, bias correction.

    rtol 1e-15: the two divide g by 1.0 in a different place (one rounding at most).
    """
    a = trajectory(refopt.adam(lr=0.01, beta1=0.0, beta2=0.99))
    r = trajectory(refopt.rmsprop(lr=0.01, rho=0.99, eps_inside=False, bias_correction=True))
    for x, y in zip(a, r):
        for k in x:
            np.testing.assert_allclose(x[k], y[k], rtol=1e-15, atol=0)


def test_reparameterised_nag_iterates_are_the_lookahead_points():
    """φ_t = θ_t − γ v_t with constant η and v_0 = 0 (proved on the rule-nag page).

    rtol 1e-13: the two forms accumulate the same sums in a different order over 25 steps.
    """
    gamma, lr = 0.9, 0.05
    look = refopt.nag(lr=lr, momentum=gamma)
    rep = refopt.nag_reparameterised(lr=lr, momentum=gamma)
    theta, s_look = P0, look.init(P0)
    phi, s_rep = P0, rep.init(P0)
    for _ in range(25):
        theta, s_look = look.update(None, s_look, theta, grad_fn=QUAD.grad)
        phi, s_rep = rep.update(QUAD.grad(phi), s_rep, phi)
        for k in P0:
            np.testing.assert_allclose(phi[k], theta[k] - gamma * s_look.velocity[k], rtol=1e-13,
                                       atol=1e-15)


def test_reparameterised_nag_is_not_plain_momentum():
    """The look-ahead matters: on the same problem NAG and heavy ball differ after step 1."""
    nag = trajectory(refopt.nag_reparameterised(lr=0.05, momentum=0.9), steps=3)
    hb = trajectory(refopt.momentum(lr=0.05, momentum=0.9, lr_in_buffer=False), steps=3)
    assert not np.allclose(nag[-1]["w"], hb[-1]["w"], rtol=1e-6)


@pytest.mark.parametrize("name", [n for n, s in SPECS.items() if s.family == "classic"])
def test_maximize_f_is_minimize_minus_f_bitwise(name):
    spec = SPECS[name]
    cfg = spec.configs[0]
    up, down = spec.build(**cfg, maximize=True), spec.build(**cfg)

    def neg(g):
        return {k: -v for k, v in g.items()}

    a, _ = run(up, spec, QUAD.grad, P0, steps=10)
    b, _ = run(down, spec, lambda p: neg(QUAD.grad(p)), P0, steps=10)
    assert_trees_equal(a, b)


def test_lr_in_buffer_is_invisible_under_constant_lr_and_visible_under_a_schedule():
    """v_t = η b_t when η is constant (rtol 1e-14: η·b vs accumulated η·g rounding);
    with η changing, the paper form keeps old steps at their own η — both sides pinned."""
    paper = trajectory(refopt.momentum(lr=0.05, momentum=0.9))
    framework = trajectory(refopt.momentum(lr=0.05, momentum=0.9, lr_in_buffer=False))
    for x, y in zip(paper, framework):
        # atol: iterates are O(1) and some pass near 0, where one ulp (2.2e-16) is a large
        # relative error
        np.testing.assert_allclose(x["w"], y["w"], rtol=1e-14, atol=1e-15)

    sched = refopt.step_decay(0.1, 0.5, step_size=2)
    g, p1 = [{"w": np.array([1.0])}] * 4, {"w": np.array([1.5])}
    p_paper = trajectory(refopt.momentum(lr=sched, momentum=0.5), steps=4, grads=g, params=p1)
    p_frame = trajectory(refopt.momentum(lr=sched, momentum=0.5, lr_in_buffer=False), steps=4,
                         grads=g, params=p1)
    # by hand with g ≡ 1, θ_0 = 1.5: η = 0.1, 0.1, 0.05, 0.05
    v, b, th_v, th_b = 0.0, 0.0, 1.5, 1.5
    for eta in (0.1, 0.1, 0.05, 0.05):
        v = 0.5 * v + eta
        b = 0.5 * b + 1.0
        th_v, th_b = th_v - v, th_b - eta * b
    assert p_paper[-1]["w"][0] == pytest.approx(th_v, rel=1e-15)
    assert p_frame[-1]["w"][0] == pytest.approx(th_b, rel=1e-15)
    assert abs(th_v - th_b) > 1e-3


def test_rmsprop_momentum_lr_placement_equivalent_under_constant_lr():
    a = trajectory(refopt.rmsprop(lr=0.01, momentum=0.9))
    b = trajectory(refopt.rmsprop(lr=0.01, momentum=0.9, lr_in_buffer=True))
    for x, y in zip(a, b):
        np.testing.assert_allclose(x["w"], y["w"], rtol=1e-13, atol=1e-15)  # η·Σ vs Ση·; O(1) iterates


def test_adam_eps_hat_is_paper_adam_with_step_dependent_eps():
    """ε̂ form ≡ paper form with ε_t = ε̂/√(1−β2^t) (docs/specification.md, spec-classic, [D]).

    Both forms share m_t, v_t; we apply the paper form with the matching ε_t from the same state
    at every t. rtol 1e-14: √(1−β2^t) is moved between numerator and denominator.
    """
    eps_hat, beta2 = 1e-3, 0.999
    hat = refopt.adam(lr=0.01, eps=eps_hat, eps_hat=True)
    params, state = P0, hat.init(P0)
    for t in range(1, 15):
        g = QUAD.grad(params)
        paper = refopt.adam(lr=0.01, eps=eps_hat / math.sqrt(1 - beta2 ** t))
        expected, _ = paper.update(g, state, params)
        params, state = hat.update(g, state, params)
        np.testing.assert_allclose(params["w"], expected["w"], rtol=1e-14, atol=1e-15)


def test_adagrad_lr_decay_is_inverse_time_schedule_bitwise():
    assert_trees_equal(trajectory(refopt.adagrad(lr=0.1, lr_decay=0.3)),
                       trajectory(refopt.adagrad(lr=refopt.inverse_time_decay(0.1, 0.3))))


def test_adamw_is_adam_with_decoupled_decay_bitwise():
    assert_trees_equal(trajectory(refopt.adamw(lr=0.01, weight_decay=0.1)),
                       trajectory(refopt.adam(lr=0.01, weight_decay=0.1, decay="decoupled")))


def test_nadam_psi_to_infinity_is_the_optax_form_not_ruders():
    """ψ → ∞ gives μ ≡ β1 and the m-correction 1−β1^{t+1} (optax); Ruder's form uses 1−β1^t.

    Step 1 from m_0 = 0 (θ_0 = 0, g = 1, v̂_1 = 1, ε = 0): Ruder moves by η(β1 + 1);
    ψ = ∞ by η(β1(1−β1)/(1−β1²) + 1) = η(β1/(1+β1) + 1). Large finite ψ converges to ψ = ∞.
    """
    b1, lr = 0.9, 0.01
    g = np.array([1.0])
    ruder, _ = refopt.nadam(lr=lr, eps=0.0).update(g, refopt.nadam().init(g), np.zeros(1))
    inf, _ = refopt.nadam(lr=lr, eps=0.0, momentum_decay=math.inf).update(
        g, refopt.nadam().init(g), np.zeros(1))
    assert -ruder[0] == pytest.approx(lr * (b1 + 1), rel=1e-15)
    assert -inf[0] == pytest.approx(lr * (b1 / (1 + b1) + 1), rel=1e-15)
    big = trajectory(refopt.nadam(lr=0.01, momentum_decay=1e4))
    limit = trajectory(refopt.nadam(lr=0.01, momentum_decay=math.inf))
    np.testing.assert_allclose(big[-1]["w"], limit[-1]["w"], rtol=1e-15)  # 0.96^(1e4) underflows


def test_amsgrad_denominator_never_decreases():
    rng = np.random.default_rng(0)
    grads = [{"w": rng.standard_normal(4) * (10.0 if k < 3 else 0.1), "b": rng.standard_normal((1, 2))}
             for k in range(30)]
    for bias_correction, max_over in ((False, "v"), (True, "v"), (True, "v_hat")):
        opt = refopt.amsgrad(lr=0.01, bias_correction=bias_correction, max_over=max_over)
        params, state = P0, opt.init(P0)
        prev = state.v_max["w"]
        for g in grads:
            params, state = opt.update(g, state, params)
            assert np.all(state.v_max["w"] >= prev)
            prev = state.v_max["w"]


def test_bias_correction_counts_t_from_one():
    """Bias corrections use t = 1 on the first update: Adam's first step is −η sign(g) (ε=0)."""
    g = np.array([3.0, -0.2])
    out, state = refopt.adam(lr=0.1, eps=0.0).update(g, refopt.adam().init(np.zeros(2)), np.zeros(2))
    np.testing.assert_array_equal(out, -0.1 * np.sign(g))
    assert state.t == 1
