"""Checks for the numerical-analysis pages (proofs/analysis/*.md).

The exact solution is never typed: it is the Taylor series of the flow, y^(k+1) = (y^(k))' f,
computed by differentiation; the methods are refopt's own tableaux and multistep coefficients.
"""

import sympy as sp
from _util import is_zero, positive_on, schur_stable_quadratic_on, wrong

from refopt.ode import multistep as M
from refopt.ode import tableau as T

h = sp.Symbol("h")
RK_ORDERS = {"euler": 1, "heun": 2, "midpoint": 2, "ralston": 2, "rk4": 4}
LMM_ORDERS = {"ab2": 2, "four_instant": 2, "leapfrog": 2}
HALF = sp.Rational(1, 2)
QUARTER = sp.Rational(1, 4)
y = sp.Symbol("y")
f = sp.Function("f")(y)


def flow_series(F, order):
    """Σ_{k≤order} h^k/k! y^(k) for y' = F(y): y'' = F'F, y''' = (F'F)'F, ..."""
    term, series = F, y
    for k in range(1, order + 1):
        series += h ** k / sp.factorial(k) * term
        term = sp.diff(term, y) * F
    return sp.expand(series)


def rk_step(tab, F):
    """One step of the tableau's method on y' = F(y) (F an expression in y), exactly."""
    ks = []
    for i in range(tab.stages):
        yi = y + h * sum(sp.Rational(tab.A[i][j]) * ks[j] for j in range(i))
        ks.append(F.subs(y, yi))
    return y + h * sum(sp.Rational(tab.b[i]) * ks[i] for i in range(tab.stages))


def series_in_h(expr, order):
    return sp.expand(sp.series(expr, h, 0, order + 1).removeO().doit())


@wrong(f_squared=dict(coef=lambda F: F ** 2 / 2), seven_f_fpp=dict(coef=lambda F: 7 * F * sp.diff(F, y, 2)))
def check_euler_local_error(coef=lambda F: F * sp.diff(F, y) / 2):
    """analysis-euler: exact flow minus refopt's Euler tableau step = h² f f′/2 + O(h³)."""
    err = flow_series(f, 3) - series_in_h(rk_step(T.TABLEAUX["euler"], f), 3)
    assert is_zero(err.coeff(h, 0)) and is_zero(err.coeff(h, 1))
    assert is_zero(err.coeff(h, 2) - coef(f))


@wrong(heun_third_order=dict(claimed=dict(RK_ORDERS, heun=3)),
       rk4_third_order=dict(claimed=dict(RK_ORDERS, rk4=3)))
def check_runge_kutta_order_conditions(claimed=RK_ORDERS):
    """analysis-runge-kutta: each shipped tableau's step agrees with the exact flow of
    y' = f(y) (f generic) to exactly its claimed order p: error O(h^{p+1}), with a nonzero
    h^{p+1} term (for p < 4, where the scalar expansion is decisive); and refopt.ode.tableau.order
    reports the same p."""
    for name, tab in T.TABLEAUX.items():
        p = claimed[name]
        top = min(p + 1, 4) if p < 4 else 4
        err = flow_series(f, top) - series_in_h(rk_step(tab, f), top)
        for k in range(p + 1):
            assert is_zero(err.coeff(h, k)), (name, k)
        if p < 4:
            assert not is_zero(err.coeff(h, p + 1)), name
        assert T.order(tab) == p, name


@wrong(rk3_boundary=dict(boundary=2.5127453266), one_step_early=dict(boundary=2.78))
def check_runge_kutta_stability_interval_rk4(boundary=2.785293563405):
    """analysis-runge-kutta: R(z) from refopt's RK4 tableau applied to y' = zy; |R(−x)| < 1 on the
    whole interval (0, x*) (exact root isolation of R(−x) ∓ 1) and |R(−x*)| = 1, with x* within
    1e−10 of the claimed 2.785293563405."""
    z, x = sp.symbols("z x")
    R = sp.expand(rk_step(T.TABLEAUX["rk4"], z * y).subs(h, 1) / y)
    Rx = sp.Poly(R.subs(z, -x), x)
    assert [sp.Rational(c) for c in T.stability_polynomial(T.TABLEAUX["rk4"])] == \
        list(reversed(sp.Poly(R, z).all_coeffs()))
    # an isolating interval [lo, hi] (rational, width < 1e−12) of the first positive root x* of
    # R(−x) = 1; then |R(−x)| < 1 on (0, lo] is proved by root counting, and [lo, hi] holds x*
    # and no root of R(−x) = −1
    lo, hi = [iv for iv, _ in sp.Poly(Rx - 1, x).intervals(eps=sp.Rational(1, 10 ** 12))
              if iv[0] > 0][0]
    assert positive_on(1 - Rx.as_expr(), x, 0, lo) and Rx.eval(lo) < 1
    assert positive_on(1 + Rx.as_expr(), x, 0, hi) and Rx.eval(hi) > -1
    assert sp.Poly(Rx - 1, x).count_roots(lo, hi) == 1
    assert lo - sp.Rational(1, 10 ** 10) < sp.nsimplify(boundary) < hi + sp.Rational(1, 10 ** 10)


@wrong(ab2_third_order=dict(orders=dict(LMM_ORDERS, ab2=3)),
       parasitic_root_one=dict(parasitic=sp.Integer(1)))
def check_multistep_orders_and_roots(orders=LMM_ORDERS, parasitic=HALF):
    """analysis-multistep: each shipped method's residual on a smooth solution,
    y(t+h) − Σ a_i y(t−ih) − h Σ b_i y'(t−ih), is O(h^{p+1}) with a nonzero h^{p+1} term (p its
    claimed order); the 4-instant scheme's ρ has parasitic roots with |ζ|² = 1/2 and leapfrog's
    ρ has the root −1 on the unit circle."""
    for name, m in M.METHODS.items():
        p = orders[name]
        # u(s) = Σ_k c_k s^k/k! with symbolic c_k (a generic smooth solution), t_k = 0
        c = sp.symbols(f"c0:{p + 3}")
        s_ = sp.Symbol("s")
        u = sum(ck * s_ ** k / sp.factorial(k) for k, ck in enumerate(c))
        du = sp.diff(u, s_)
        res = u.subs(s_, h) - sum(sp.Rational(a) * u.subs(s_, -i * h) for i, a in enumerate(m.a)) \
            - h * sum(sp.Rational(b) * du.subs(s_, -i * h) for i, b in enumerate(m.b))
        ser = sp.expand(res)
        for k in range(p + 1):
            assert is_zero(ser.coeff(h, k)), (name, k)
        assert not is_zero(ser.coeff(h, p + 1)), name
    zeta = sp.Symbol("zeta")
    rho = lambda m: sp.Poly([sp.Rational(c) for c in M.rho(m)], zeta)   # noqa: E731
    rho4 = rho(M.METHODS["four_instant"])
    assert rho4.eval(1) == 0
    quad = sp.quo(rho4, sp.Poly(zeta - 1, zeta))
    for r in sp.roots(quad):
        assert is_zero(sp.Abs(r) ** 2 - parasitic)
    assert set(sp.roots(rho(M.METHODS["leapfrog"]))) == {1, -1}


@wrong(interval_two=dict(boundary=2), interval_half=dict(boundary=sp.Rational(1, 2)))
def check_ab2_stability_boundary(boundary=1):
    """analysis-multistep: refopt's AB2 on θ' = −λθ (x = hλ) has characteristic polynomial
    ρ(ζ) + xσ(ζ) built from its coefficients; both roots are strictly inside the unit disc for
    every x in (0, boundary) (Jury's conditions, proved on the whole interval by exact root
    counting) and a root lies on the unit circle at x = boundary."""
    _multistep_interval(M.METHODS["ab2"], sp.nsimplify(boundary))


@wrong(no_beta=dict(boundary=lambda b: 2), one_plus_two_beta=dict(boundary=lambda b: 2 + 3 * b))
def check_heavy_ball_stability_interval(boundary=lambda b: 2 * (1 + b)):
    """thm-heavy-ball: refopt.ode.multistep.heavy_ball(β) on ℓ = λθ²/2 is stable exactly for
    0 < hλ < 2(1 + β): proved on the whole interval for β ∈ {0, 1/2, 9/10} (Jury + Sturm), with a
    root on the unit circle at the end."""
    for beta in (sp.Integer(0), sp.Rational(1, 2), sp.Rational(9, 10)):
        _multistep_interval(M.heavy_ball(beta), boundary(beta))


def _multistep_interval(m, boundary):
    x, zeta = sp.symbols("x zeta")
    coeffs = [sp.Rational(r) + x * sp.Rational(s) for r, s in zip(M.rho(m), M.sigma(m))]
    assert len(coeffs) == 3 and coeffs[0] == 1
    a1, a0 = coeffs[1], coeffs[2]
    assert schur_stable_quadratic_on(a1, a0, x, 0, boundary)
    char = sp.Poly(zeta ** 2 + a1.subs(x, boundary) * zeta + a0.subs(x, boundary), zeta)
    assert any(is_zero(sp.Abs(r) - 1) for r in sp.roots(char)), boundary


@wrong(half=dict(c=sp.Rational(1, 2)), none=dict(c=0))
def check_modified_equation(c=QUARTER):
    """analysis-modified-equation: for y' = −ℓ'(y) (1-D), the Euler tableau's step y0 − hℓ'(y0)
    matches the flow of ℓ̃ = ℓ + c h ℓ'² to O(h³) for c = 1/4, and the flow of ℓ only to O(h²)."""
    ell = sp.Function("ell")(y)
    grad = sp.diff(ell, y)
    gd = rk_step(T.TABLEAUX["euler"], -grad)
    err_plain = sp.expand(gd - flow_series(-grad, 2))
    err_mod = sp.expand(gd - flow_series(-sp.diff(ell + c * h * grad ** 2, y), 2))
    assert not is_zero(err_plain.coeff(h, 2))          # O(h²) against ℓ
    for k in range(3):                                   # O(h³) against ℓ̃
        assert is_zero(err_mod.coeff(h, k)), k


@wrong(damping_doubled=dict(beta=lambda a: 1 - 2 * a * h), no_h_squared=dict(step=lambda: h))
def check_heavy_ball_ode_limit(beta=lambda a: 1 - a * h, step=lambda: h ** 2):
    """analysis-modified-equation: θ_{k+1} = θ_k + (1−ah)(θ_k − θ_{k−1}) − h²∇ℓ(θ_k), evaluated on a
    smooth curve θ(t), has residual h²(θ'' + aθ' + ∇ℓ(θ)) + O(h³): a consistent discretisation of
    θ'' + aθ' + ∇ℓ = 0 (Taylor expansion, 1-D, generic ℓ)."""
    a, t = sp.symbols("a t")
    th = sp.Function("theta")
    grad = sp.Function("gradl")
    res = th(t + h) - th(t) - beta(a) * (th(t) - th(t - h)) + step() * grad(th(t))
    ser = series_in_h(res, 3)
    target = sp.diff(th(t), t, 2) + a * sp.diff(th(t), t) + grad(th(t))
    assert is_zero(ser.coeff(h, 0)) and is_zero(ser.coeff(h, 1))
    assert is_zero(ser.coeff(h, 2) - target)


@wrong(forward_sign=dict(leading={"forward": sp.Rational(1, 2)}),
       central_order=dict(leading={"central": sp.Rational(1, 3)}))
def check_finite_difference_leading_errors(leading=None):
    """analysis-finite-differences: the difference quotients of refopt.numdiff, written out for sin
    at a symbolic x, have leading errors (from their Taylor series) forward
    −(h/2) sin x, central −(h²/6) cos x, five-point −(h⁴/30) cos x; the complex step
    Im sin(x+ih)/h has +(h²/6) cos x."""
    claim = {"forward": -sp.Rational(1, 2), "central": -sp.Rational(1, 6),
             "five_point": -sp.Rational(1, 30), "complex": sp.Rational(1, 6)}
    claim.update(leading or {})
    x = sp.Symbol("x", real=True)
    hh = sp.Symbol("h", positive=True)
    fwd = sp.series((sp.sin(x + hh) - sp.sin(x)) / hh - sp.cos(x), hh, 0, 2).removeO()
    assert is_zero(fwd - claim["forward"] * hh * sp.sin(x))
    cen = sp.series((sp.sin(x + hh) - sp.sin(x - hh)) / (2 * hh) - sp.cos(x), hh, 0, 3).removeO()
    assert is_zero(cen - claim["central"] * hh ** 2 * sp.cos(x))
    five = sp.series((-sp.sin(x + 2 * hh) + 8 * sp.sin(x + hh) - 8 * sp.sin(x - hh) + sp.sin(x - 2 * hh))
                     / (12 * hh) - sp.cos(x), hh, 0, 5).removeO()
    assert is_zero(five - claim["five_point"] * hh ** 4 * sp.cos(x))
    cs = sp.series(sp.im(sp.expand_complex(sp.sin(x + sp.I * hh))) / hh - sp.cos(x), hh, 0, 3).removeO()
    assert is_zero(cs - claim["complex"] * hh ** 2 * sp.cos(x))


@wrong(no_minus_one=dict(closed=lambda C, h, L, k: C * h ** 2 * (1 + h * L) ** k / (h * L)),
       no_h=dict(closed=lambda C, h, L, k: C * h * ((1 + h * L) ** k - 1) / (h * L)))
def check_euler_global_error_gronwall(
        closed=lambda C, h, L, k: C * h ** 2 * ((1 + h * L) ** k - 1) / (h * L)):
    """analysis-euler: E_k = Ch²((1+hL)^k − 1)/(hL) solves E_{k+1} = (1+hL)E_k + Ch², E_0 = 0
    (symbolic k); it is ≤ (Ch/L)(e^{Lkh} − 1) because (1+x)^k ≤ e^{xk}, i.e. log(1+x) ≤ x: the
    difference log(1+x) − x vanishes at 0 and has derivative −x/(1+x) ≤ 0."""
    C, L, h = sp.symbols("C L h", positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    E = closed(C, h, L, k)
    assert is_zero(E.subs(k, 0))
    assert is_zero(E.subs(k, k + 1) - ((1 + h * L) * E + C * h ** 2))
    x = sp.Symbol("x", positive=True)
    diff = sp.log(1 + x) - x
    assert diff.subs(x, 0) == 0 and sp.simplify(sp.diff(diff, x) + x / (1 + x)) == 0


def _trees(n):
    """Rooted trees with n vertices, as sorted tuples of child subtrees (canonical form)."""
    if n == 1:
        return [()]
    out = set()

    def forests(total, max_tree):
        if total == 0:
            yield ()
            return
        for size in range(1, total + 1):
            for t in _trees(size):
                if (size, t) > max_tree:
                    continue
                for rest in forests(total - size, (size, t)):
                    yield ((size, t),) + rest
    for forest in forests(n - 1, (n, ())):
        out.add(tuple(sorted((t for _, t in forest), key=repr)))
    return sorted(out, key=repr)


def _size(t):
    return 1 + sum(_size(c) for c in t)


def _gamma(t):
    g = _size(t)
    for c in t:
        g *= _gamma(c)
    return g


def _phi(tab, t):
    """Φ_i(t) for every stage i, from the tableau (exact)."""
    A = [[sp.Rational(x) for x in row] for row in tab.A]
    s = tab.stages
    out = [sp.Integer(1)] * s
    for c in t:
        phic = _phi(tab, c)
        out = [out[i] * sum(A[i][j] * phic[j] for j in range(s)) for i in range(s)]
    return out


@wrong(ralston_third=dict(claimed=dict(RK_ORDERS, ralston=3)),
       gamma_without_size=dict(gamma=lambda t: max(1, _gamma(t) // _size(t))))
def check_runge_kutta_tree_conditions(claimed=RK_ORDERS, gamma=_gamma):
    """analysis-runge-kutta: the 1, 1, 2, 4 rooted trees of orders 1–4 are generated recursively;
    Σ b_i Φ_i(t) = 1/γ(t) holds for every tree with ≤ p vertices of each shipped tableau and fails
    for some tree with p + 1 (p < 4); refopt's own residual list order_conditions() has the same
    zero pattern."""
    counts = [len(_trees(n)) for n in range(1, 5)]
    assert counts == [1, 1, 2, 4], counts
    for name, tab in T.TABLEAUX.items():
        p = claimed[name]
        b = [sp.Rational(x) for x in tab.b]
        ok = {n: all(is_zero(sum(bi * f for bi, f in zip(b, _phi(tab, t))) - sp.Rational(1, gamma(t)))
                     for t in _trees(n)) for n in range(1, 5)}
        assert all(ok[n] for n in range(1, p + 1)), name
        if p < 4:
            assert not ok[p + 1], name
        residuals = T.order_conditions(tab)
        for n in range(1, 5):
            assert ok[n] == all(r == 0 for key, r in residuals.items() if key.startswith(f"{n}:")), name
