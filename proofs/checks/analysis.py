"""Exact checks for the numerical-analysis pages (proofs/analysis/*.md)."""

import sympy as sp
from _util import is_zero

h, y0 = sp.symbols("h y0")
f = sp.Function("f")


def check_euler_local_error():
    """analysis-euler: y(h) − (y0 + h f(y0)) = (h²/2) f(y0) f'(y0) + O(h³) for y' = f(y)."""
    y = sp.Symbol("y")
    F = f(y)
    d2 = (F * sp.diff(F, y)).subs(y, y0)          # y'' = f f'
    exact = y0 + h * F.subs(y, y0) + h ** 2 / 2 * d2
    euler = y0 + h * F.subs(y, y0)
    assert is_zero(exact - euler - h ** 2 / 2 * d2)


def check_runge_kutta_order_conditions():
    """analysis-runge-kutta: every named tableau satisfies its order conditions exactly, and
    fails the next order's (so its order is exactly what refopt reports)."""
    from refopt.ode import tableau as T
    expected = {"euler": 1, "heun": 2, "midpoint": 2, "ralston": 2, "rk4": 4}
    for name, p in expected.items():
        res = T.order_conditions(T.TABLEAUX[name])
        assert all(r == 0 for k, r in res.items() if int(k[0]) <= p), name
        if p < 4:
            assert any(r != 0 for k, r in res.items() if int(k[0]) == p + 1), name


def check_runge_kutta_stability_interval_rk4():
    """analysis-runge-kutta: |1 − x + x²/2 − x³/6 + x⁴/24| = 1 has its first positive root at
    x ≈ 2.785293563405 (RK4's real stability boundary)."""
    x = sp.symbols("x", positive=True)
    R = 1 - x + x ** 2 / 2 - x ** 3 / 6 + x ** 4 / 24
    root = sp.nsolve(R - 1, x, 2.8)
    assert abs(float(root) - 2.785293563405) < 1e-10


def check_multistep_orders_and_roots():
    """analysis-multistep: AB2, the 4-instant scheme and leapfrog are consistent of order 2;
    ρ(ζ) = (ζ−1)(ζ² − ζ/2 + 1/2) for the 4-instant scheme (parasitic |ζ|² = 1/2);
    leapfrog's ρ = ζ² − 1 has the root −1 on the unit circle."""
    from refopt.ode import multistep as M
    for m in M.METHODS.values():
        assert M.is_consistent(m) and M.order(m) == 2
    zeta = sp.Symbol("zeta")
    rho4 = zeta ** 3 - sp.Rational(3, 2) * zeta ** 2 + zeta - sp.Rational(1, 2)
    assert is_zero(rho4 - (zeta - 1) * (zeta ** 2 - zeta / 2 + sp.Rational(1, 2)))
    assert set(sp.roots(zeta ** 2 - 1)) == {1, -1}


def check_ab2_stability_boundary():
    """analysis-multistep: for AB2 on θ' = −λθ, ζ² − (1 − 3x/2)ζ − x/2 = 0 (x = hλ) has the
    root ζ = −1 exactly at x = 1: the real stability interval is hλ < 1."""
    x, zeta = sp.symbols("x zeta")
    char = zeta ** 2 - (1 - sp.Rational(3, 2) * x) * zeta - x / 2
    assert is_zero(char.subs({zeta: -1, x: 1}))


def check_modified_equation():
    """analysis-modified-equation: for y' = −ℓ'(y) (1-D), one GD step y0 − hℓ'(y0) matches the
    flow of ℓ̃ = ℓ + (h/4)ℓ'² to O(h³), but the flow of ℓ only to O(h²)."""
    y = sp.Symbol("y")
    ell = sp.Function("ell")(y)
    def flow_series(F, order=3):
        """Taylor series of the flow of y' = F(y) at time h, to the given order."""
        term, series = F, y
        for k in range(1, order):
            series += h ** k / sp.factorial(k) * term
            term = sp.diff(term, y) * F
        return series
    grad = sp.diff(ell, y)
    gd = y - h * grad
    plain = flow_series(-grad)
    modified = flow_series(-sp.diff(ell + h / 4 * grad ** 2, y))
    err_plain = sp.expand(gd - plain)
    err_mod = sp.expand(gd - modified)
    assert not is_zero(err_plain.coeff(h, 2))          # O(h²) against ℓ
    for k in range(3):                                   # O(h³) against ℓ̃
        assert is_zero(err_mod.coeff(h, k))


def check_heavy_ball_ode_limit():
    """analysis-modified-equation: θ_{k+1} = θ_k + (1−ah)(θ_k − θ_{k−1}) − h²∇ℓ(θ_k) is
    (θ_{k+1} − 2θ_k + θ_{k−1})/h² + a(θ_k − θ_{k−1})/h + ∇ℓ(θ_k) = 0: a consistent
    discretisation of θ'' + aθ' + ∇ℓ = 0."""
    a, tp, tk, tm, grad = sp.symbols("a theta_next theta_k theta_prev gradient")
    step = tk + (1 - a * h) * (tk - tm) - h ** 2 * grad
    residual = (step - 2 * tk + tm) / h ** 2 + a * (tk - tm) / h + grad
    assert is_zero(residual)


def check_finite_difference_leading_errors():
    """analysis-finite-differences: for f = sin at x: forward error −(h/2) sin x + O(h²),
    central −(h²/6) cos x + O(h⁴), five-point −(h⁴/30) cos x + O(h⁶), complex step
    +(h²/6) cos x + O(h⁴) (Im sin(x+ih)/h = cos x · sinh(h)/h)."""
    x = sp.Symbol("x", real=True)
    h = sp.Symbol("h", positive=True)
    fwd = sp.series((sp.sin(x + h) - sp.sin(x)) / h - sp.cos(x), h, 0, 2).removeO()
    assert is_zero(fwd + h / 2 * sp.sin(x))
    cen = sp.series((sp.sin(x + h) - sp.sin(x - h)) / (2 * h) - sp.cos(x), h, 0, 3).removeO()
    assert is_zero(cen + h ** 2 / 6 * sp.cos(x))
    five = sp.series((-sp.sin(x + 2 * h) + 8 * sp.sin(x + h) - 8 * sp.sin(x - h) + sp.sin(x - 2 * h))
                     / (12 * h) - sp.cos(x), h, 0, 5).removeO()
    assert is_zero(five + h ** 4 / 30 * sp.cos(x))
    cs = sp.series(sp.im(sp.expand_complex(sp.sin(x + sp.I * h))) / h - sp.cos(x), h, 0, 3).removeO()
    assert is_zero(cs - h ** 2 / 6 * sp.cos(x))
