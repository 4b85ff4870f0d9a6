"""refopt.ode: the tableau analysis from SymPy, the root condition on repeated roots, and the
integrators' regularisation at every stage (issue 18; proof pages rule-runge-kutta and
rule-linear-multistep).

On ℓ = ½ Σ d_i θ_i², F = −∇ℓ is linear, so one Runge–Kutta step multiplies each coordinate by
the stability polynomial R(z) at z = −h d_i — with L2 decay the whole flow is F = −(d + λ)θ (z =
−h(d + λ)), with ``maximize`` it is F = +dθ (z = +hd): every stage must see the same F. The
expected values use the textbook stability polynomials, not refopt's.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import refopt
from refopt.ode import multistep as M
from refopt.ode import tableau as T

# textbook stability polynomials (every 2-stage order-2 method has 1 + z + z²/2)
R_TEXTBOOK = {
    "euler": lambda z: 1 + z,
    "heun": lambda z: 1 + z + z ** 2 / 2,
    "midpoint": lambda z: 1 + z + z ** 2 / 2,
    "ralston": lambda z: 1 + z + z ** 2 / 2,
    "rk4": lambda z: 1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24,
}
Z = sp.Symbol("z")


@pytest.mark.parametrize("name", sorted(T.TABLEAUX))
def test_stability_polynomial_and_error_constant_from_sympy(name):
    """R(z) = 1 + z bᵀ(I − zA)⁻¹𝟙 by SymPy; e^z − R(z) = C z^{p+1} + O(z^{p+2})."""
    tab = T.TABLEAUX[name]
    s = tab.stages
    A = sp.Matrix(s, s, lambda i, j: sp.Rational(tab.A[i][j]))
    b = sp.Matrix(1, s, lambda i, j: sp.Rational(tab.b[j]))
    R = sp.expand(sp.simplify(1 + Z * (b * (sp.eye(s) - Z * A).inv() * sp.ones(s, 1))[0]))
    assert sp.expand(R - R_TEXTBOOK[name](Z)) == 0
    coeffs = sp.Poly(R, Z).all_coeffs()[::-1]
    assert T.stability_polynomial(tab) == tuple(Fraction(int(c.p), int(c.q)) for c in coeffs)
    diff = sp.expand(sp.series(sp.exp(Z), Z, 0, s + 3).removeO() - R)
    p = next(k for k in range(s + 3) if diff.coeff(Z, k) != 0) - 1
    assert p == T.order(tab)
    c = diff.coeff(Z, p + 1)
    assert T.error_constant(tab) == Fraction(int(c.p), int(c.q))


def test_error_constants_by_hand():
    # Euler: e^z − (1 + z) = z²/2 + …; order 2: z³/6; RK4: z⁵/120
    assert [T.error_constant(T.TABLEAUX[n]) for n in ("euler", "heun", "midpoint", "ralston", "rk4")] \
        == [Fraction(1, 2), Fraction(1, 6), Fraction(1, 6), Fraction(1, 6), Fraction(1, 120)]


@pytest.mark.parametrize("rho_roots, ok", [
    ((1, 1), False),                 # (ζ − 1)²: a double root on the circle grows like k
    ((1, -1, -1), False),            # (ζ − 1)(ζ + 1)²
    ((1, 1, Fraction(1, 2)), False),
    ((1, Fraction(-3, 2)), False),   # a root outside the disc
    ((1, -1), True),                 # leapfrog's simple ±1: weakly zero-stable
    ((1, Fraction(1, 2), Fraction(1, 2)), True),   # a double root inside the disc is harmless
])
def test_root_condition_rejects_repeated_roots_on_the_unit_circle(rho_roots, ok):
    poly = sp.Poly(sp.prod([Z - sp.Rational(r) for r in rho_roots]), Z).all_coeffs()
    a = [-Fraction(int(c.p), int(c.q)) for c in poly[1:]]     # ρ(ζ) = ζ^s − Σ a_j ζ^{s−1−j}
    m = M.multistep("test", a, [0] * len(a))
    assert M.rho(m) == [Fraction(int(c.p), int(c.q)) for c in poly]
    assert M.root_condition(m) is ok


def test_a_repeated_root_at_one_is_refused_by_linear_multistep():
    # ρ = (ζ − 1)², σ = ζ − 1: consistent (ρ(1) = 0, ρ'(1) = 0 = σ(1)) but not zero-stable
    m = M.multistep("double_one", [2, -1], [1, -1])
    assert M.is_consistent(m)
    with pytest.raises(ValueError, match="not zero-stable"):
        refopt.ode.linear_multistep(m, lr=0.1)


D = np.array([0.5, 1.0, 2.0])
THETA0 = np.array([1.0, -2.0, 0.5])


def _quadratic_grad(p):
    return D * p


@pytest.mark.parametrize("name", sorted(T.TABLEAUX))
@pytest.mark.parametrize("mode", ["l2", "maximize", "maximize+l2"])
def test_runge_kutta_regularises_every_stage(name, mode):
    h, lam = 0.3, 0.4
    kwargs = {"l2": dict(weight_decay=lam), "maximize": dict(maximize=True),
              "maximize+l2": dict(weight_decay=lam, maximize=True)}[mode]
    # F = −(d + λ)θ, +dθ, or +dθ − λθ (maximize negates ∇ℓ, then L2 adds λθ)
    z = {"l2": -h * (D + lam), "maximize": h * D, "maximize+l2": h * (D - lam)}[mode]
    opt = refopt.ode.runge_kutta(name, lr=h, decay="l2", **kwargs)
    new, _ = opt.update(None, opt.init(THETA0), THETA0, grad_fn=_quadratic_grad)
    np.testing.assert_allclose(new, R_TEXTBOOK[name](z) * THETA0, rtol=1e-14)  # a few roundings


@pytest.mark.parametrize("decay, shrink", [("decoupled", 0.3 * 0.4), ("fixed", 0.4)])
def test_decoupled_and_fixed_decay_in_both_integrator_families(decay, shrink):
    """With a zero gradient only the decay acts: θ ← θ(1 − ηλ) (decoupled) or θ(1 − λ) (fixed)
    each step — for every tableau, and for AB2 (θ_{k+1} = θ_k + h(…)) from its Euler start on."""
    zero = lambda p: 0.0 * p   # noqa: E731
    for name in sorted(T.TABLEAUX):
        opt = refopt.ode.runge_kutta(name, lr=0.3, weight_decay=0.4, decay=decay)
        new, _ = opt.update(zero(THETA0), opt.init(THETA0), THETA0, grad_fn=zero)
        np.testing.assert_allclose(new, (1 - shrink) * THETA0, rtol=1e-15, err_msg=name)
    opt = refopt.ode.linear_multistep("ab2", lr=0.3, weight_decay=0.4, decay=decay)
    p, s = THETA0, opt.init(THETA0)
    for k in range(1, 5):
        p, s = opt.update(zero(p), s, p)
        np.testing.assert_allclose(p, (1 - shrink) ** k * THETA0, rtol=1e-14)


@pytest.mark.parametrize("mode", ["l2", "maximize"])
def test_multistep_force_and_start_up_see_l2_and_maximize(mode):
    """AB2 by hand: θ_1 = θ_0 + hF_0 (Euler start), θ_{k+1} = θ_k + h(3/2 F_k − 1/2 F_{k−1})."""
    h, lam = 0.1, 0.3
    force = (lambda p: -(D + lam) * p) if mode == "l2" else (lambda p: D * p)
    kwargs = dict(weight_decay=lam) if mode == "l2" else dict(maximize=True)
    opt = refopt.ode.linear_multistep("ab2", lr=h, **kwargs)
    p, s = THETA0, opt.init(THETA0)
    mine = [THETA0, THETA0 + h * force(THETA0)]
    for _ in range(4):
        mine.append(mine[-1] + h * (1.5 * force(mine[-1]) - 0.5 * force(mine[-2])))
    for k in range(1, 6):
        p, s = opt.update(_quadratic_grad(p), s, p)
        np.testing.assert_allclose(p, mine[k], rtol=1e-13)  # different summation order, 5 steps


def test_order_needs_every_lower_order_condition():
    """A tableau built (by hand) to satisfy the order-1 and both order-3 conditions but not
    Σbc = 1/2 has order 1: the order is the largest p with *all* conditions of order ≤ p."""
    tab = T.tableau("gap", [[0, 0, 0], [1, 0, 0], ["7/16", "1/16", 0]], ["-4/3", "-1/3", "8/3"],
                    [0, 1, "1/2"])
    res = T.order_conditions(tab)
    assert res["1: Σb = 1"] == 0 and res["2: Σbc = 1/2"] == Fraction(1, 2)
    assert res["3: Σbc² = 1/3"] == 0 and res["3: ΣbAc = 1/6"] == 0
    assert T.order(tab) == 1


def test_tableau_refuses_nodes_that_are_not_the_row_sums():
    with pytest.raises(ValueError, match="row-sum condition"):
        T.tableau("bad_c", [[0, 0], [1, 0]], ["1/2", "1/2"], [0, "1/2"])


def test_consistency_needs_rho_prime_one_equal_to_sigma_one():
    # ρ = ζ² − ζ, σ = 2ζ: ρ(1) = 0 but ρ'(1) = 1 ≠ σ(1) = 2 (it follows θ' = 2F, not θ' = F)
    m = M.multistep("twice", [1, 0], [2, 0])
    assert not M.is_consistent(m)
    with pytest.raises(ValueError, match="not consistent"):
        refopt.ode.linear_multistep(m, lr=0.1)


def test_a_diagonal_entry_is_an_implicit_tableau_and_refused():
    with pytest.raises(ValueError, match="strictly lower triangular"):
        T.tableau("diagonal", [["1/2", 0], ["1/2", "1/2"]], ["1/2", "1/2"], ["1/2", 1])


def test_three_step_methods_pair_each_past_point_with_its_coefficient():
    """AB3 (b = 23/12, −16/12, 5/12) and seed 001's four-instant formula (a = 3/2, −1, 1/2)
    from exact past values, replayed by hand on F(θ) = −dθ."""
    ab3 = M.multistep("ab3", [1, 0, 0], ["23/12", "-4/3", "5/12"])
    h = 0.1
    force = lambda p: -D * p   # noqa: E731
    for m, a, b in ((ab3, (1.0, 0.0, 0.0), (23 / 12, -16 / 12, 5 / 12)),
                    (M.FOUR_INSTANT, (1.5, -1.0, 0.5), (1.0, 0.0, 0.0))):
        past = [THETA0 * 1.3, THETA0 * 1.1]                     # θ_{−2}, θ_{−1}
        opt = refopt.ode.linear_multistep(m, lr=h)
        s = opt.init(THETA0, past=past, grad_fn=_quadratic_grad)
        mine = [past[0], past[1], THETA0]
        p = THETA0
        for _ in range(4):
            k = len(mine) - 1
            mine.append(sum(a[j] * mine[k - j] for j in range(3))
                        + h * sum(b[j] * force(mine[k - j]) for j in range(3)))
            p, s = opt.update(_quadratic_grad(p), s, p)
            np.testing.assert_allclose(p, mine[-1], rtol=1e-13, err_msg=m.name)  # summation order


def test_momentum_ode_right_hand_sides_by_hand():
    """θ'' + aθ' + ∇ℓ = 0 and X'' + (3/t)X' + ∇ℓ = 0 as first-order systems, on ∇ℓ(θ) = 2θ."""
    from refopt.ode.modified import heavy_ball_ode, nesterov_ode
    grad = lambda th: 2.0 * th   # noqa: E731
    assert heavy_ball_ode(3.0, grad)(0.0, (1.0, 0.5)) == (0.5, -3.0 * 0.5 - 2.0)
    assert nesterov_ode(grad)(2.0, (1.0, 0.5)) == (0.5, -1.5 * 0.5 - 2.0)
