"""Optimizers as integrators (docs/specification.md, spec-numerical): orders derived symbolically and measured.

Evidence per scheme: (1) SymPy expands one step on a generic ODE and finds the first Taylor
coefficient that differs from the exact solution — an independent derivation of the order that
must equal the one refopt computes from its order conditions; (2) the observed global order on
θ' = −Aθ (hypothesis-drawn SPD A, exact flow by eigen-decomposition) and on a non-linear flow
is within ±0.15 of it, and the local order is one higher; (3) stability intervals hold at ±1%.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import refopt
from refopt.ode import modified
from refopt.ode import multistep as M
from refopt.ode import tableau as T
from refopt.problems import Quadratic, Rosenbrock, StrictSaddle
from refopt.registry import SPECS
from refopt.testing import check_grad, observed_order

RK_NAMES = sorted(T.TABLEAUX)
LMM_NAMES = sorted(M.METHODS)


# ------------------------------------------------------------------ symbolic orders (SymPy)

H = sp.Symbol("h")
Y0 = sp.Symbol("y0")
FC = sp.symbols("f0:6")  # f(y0), f'(y0), ..., f^(5)(y0): independent elementary values


def _f(y):
    """A generic analytic f, as its Taylor polynomial around y0 with symbolic derivatives."""
    d = sp.expand(y - Y0)
    return sum(FC[k] * d ** k / math.factorial(k) for k in range(6))


def _truncate(expr, order):
    expr = sp.expand(expr)
    return sum(expr.coeff(H, k) * H ** k for k in range(order + 1))


@functools.cache
def _exact_series(order):
    """y(h) for y' = f(y), y(0) = y0: y^{(k+1)} = D^k f with D = f d/dy.

    Works in d = y − y0 and drops powers of d above `order` after each product: only the value
    at d = 0 of at most `order` further derivatives is ever needed.
    """
    d = sp.Symbol("d")
    f_d = sum(FC[k] * d ** k / math.factorial(k) for k in range(6))

    def trunc(e):
        e = sp.expand(e)
        return sum(e.coeff(d, k) * d ** k for k in range(order + 1))

    term, series = f_d, Y0
    for k in range(1, order + 1):
        series += H ** k / math.factorial(k) * term.subs(d, 0)
        term = trunc(f_d * sp.diff(term, d))
    return sp.expand(series)


def _first_difference(numeric, exact, max_order):
    diff = sp.expand(numeric - exact)
    for k in range(max_order + 1):
        if sp.simplify(diff.coeff(H, k)) != 0:
            return k
    return max_order + 1


@pytest.mark.parametrize("name", RK_NAMES)
def test_runge_kutta_order_derived_by_sympy_equals_order_conditions(name):
    tab = T.TABLEAUX[name]
    top = 5
    ks = []
    for i in range(tab.stages):
        arg = Y0 + H * sum(sp.Rational(tab.A[i][j]) * ks[j] for j in range(i))
        ks.append(_truncate(_f(arg), top))
    step = _truncate(Y0 + H * sum(sp.Rational(b) * k for b, k in zip(tab.b, ks)), top)
    p_sympy = _first_difference(step, _exact_series(top), top) - 1
    assert p_sympy == T.order(tab) == SPECS[name].ode_order
    # the order conditions themselves, exactly
    res = T.order_conditions(tab)
    assert all(r == 0 for k, r in res.items() if int(k[0]) <= T.order(tab))


@pytest.mark.parametrize("name", LMM_NAMES)
def test_multistep_order_and_error_constant_derived_by_sympy(name):
    """Insert a generic smooth y(t) = Σ y_k t^k/k! into the scheme: the residual
    y(h) − Σ a_j y(−jh) − h Σ b_j y'(−jh) is C_{p+1} y_{p+1} h^{p+1} + O(h^{p+2})."""
    m = M.METHODS[name]
    yk = sp.symbols("y0:8")
    t = sp.Symbol("t")
    y = sum(yk[k] * t ** k / math.factorial(k) for k in range(8))
    dy = sp.diff(y, t)
    residual = y.subs(t, H) - sum(sp.Rational(m.a[j]) * y.subs(t, -j * H) for j in range(m.steps)) \
        - H * sum(sp.Rational(m.b[j]) * dy.subs(t, -j * H) for j in range(m.steps))
    residual = sp.expand(residual)
    p = next(k for k in range(8) if residual.coeff(H, k) != 0) - 1
    assert p == M.order(m) == SPECS[name].ode_order == 2
    lead = residual.coeff(H, p + 1)
    c = sp.Rational(M.error_constant(m).numerator, M.error_constant(m).denominator)
    assert sp.simplify(lead - c * sum(sp.Rational(x) for x in m.b) * yk[p + 1]) == 0


@pytest.mark.parametrize("name", LMM_NAMES)
def test_root_condition_symbolically(name):
    m = M.METHODS[name]
    zeta = sp.Symbol("zeta")
    rho = sum(sp.Rational(c) * zeta ** (len(M.rho(m)) - 1 - i) for i, c in enumerate(M.rho(m)))
    roots = sp.roots(sp.Poly(rho, zeta))
    moduli = {r: sp.nsimplify(sp.Abs(r)) for r in roots}
    assert all(mod <= 1 for mod in moduli.values())
    assert all(mult == 1 for r, mult in roots.items() if moduli[r] == 1)  # weak root condition
    on_circle = [r for r in roots if moduli[r] == 1]
    strong = on_circle == [1]
    assert M.root_condition(m) and M.root_condition(m, strong=True) == strong
    assert strong == (name != "leapfrog")  # leapfrog: roots ±1 — zero-stable only weakly
    assert M.is_consistent(m)


def test_four_instant_parasitic_roots_and_leapfrog_roots_exactly():
    zeta = sp.Symbol("zeta")
    assert sp.factor(zeta ** 3 - sp.Rational(3, 2) * zeta ** 2 + zeta - sp.Rational(1, 2)) == \
        sp.factor((zeta - 1) * (zeta ** 2 - zeta / 2 + sp.Rational(1, 2)))
    # |ζ|² = product of the conjugate pair = 1/2 < 1: zero-stable, strongly
    assert set(sp.roots(zeta ** 2 - 1)) == {1, -1}


# ------------------------------------------------------------------ running the schemes


def integrate(name, h, steps, x0, grad, flow=None):
    """`steps` updates of size h; LMMs start from exact history (flow) when given."""
    spec = SPECS[name]
    if spec.ode_order is not None and name in M.METHODS:
        opt = refopt.ode.linear_multistep(name, lr=h, bootstrap="rk4",
                                          allow_unstable=name == "leapfrog")
        s = M.METHODS[name].steps
        if flow is not None:
            past = [flow(x0, i * h) for i in range(s - 1)]
            x = flow(x0, (s - 1) * h)
            state = opt.init(x, past=past, grad_fn=grad)
            steps -= s - 1
        else:
            x, state = x0, opt.init(x0)
    else:
        opt = refopt.ode.runge_kutta(name, lr=h)
        x, state = x0, opt.init(x0)
    for _ in range(steps):
        x, state = opt.update(None, state, x, grad_fn=grad)
    return x


# order-2 steps start at h = 1/32: leapfrog's parasitic mode keeps h = 1/16 pre-asymptotic
# rk4 from h = 1/8: with λ up to 2, h = 1/4 is pre-asymptotic
NS = {1: [16, 32, 64, 128], 2: [32, 64, 128, 256], 4: [8, 16, 32, 64]}


def step_counts(name):
    # leapfrog's parasitic root grows like (1 + hλ)^n = e^{λT}·e^{−λ²Th/2}(1 + …): an O(h)
    # correction with a large constant keeps its local slopes near 2.3 → 2.1 until h ≈ 1/256
    return [256, 512, 1024, 2048] if name == "leapfrog" else NS[SPECS[name].ode_order]


def assert_global_order(name, prob, x0):
    """Observed order of the error at T = 1 against the exact flow, within ±0.15 of the order
    computed from the coefficients."""
    ns = step_counts(name)
    errs = [np.linalg.norm(integrate(name, 1.0 / n, n, x0, prob.grad, prob.flow) - prob.flow(x0, 1.0))
            for n in ns]
    assert abs(observed_order([1.0 / n for n in ns], errs) - SPECS[name].ode_order) <= 0.15


@settings(max_examples=5, deadline=None)
@given(dim=st.integers(2, 4), seed=st.integers(0, 10_000))
@pytest.mark.parametrize("name", RK_NAMES + LMM_NAMES)
def test_observed_global_order_on_linear_systems(name, dim, seed):
    rng = np.random.default_rng(seed)
    assert_global_order(name, Quadratic(rng.uniform(0.5, 2.0, dim), seed=seed), rng.uniform(-2, 2, dim))


@pytest.mark.parametrize("name", RK_NAMES + LMM_NAMES)
def test_observed_global_order_on_a_nonlinear_flow(name):
    assert_global_order(name, StrictSaddle(), np.array([1.0, 0.5]))


@pytest.mark.parametrize("name", RK_NAMES + LMM_NAMES)
def test_local_error_order_is_one_higher(name):
    prob = StrictSaddle()
    x0 = np.array([1.0, 0.5])
    p = SPECS[name].ode_order
    hs = [0.2, 0.1, 0.05, 0.025] if p < 4 else [0.4, 0.2, 0.1, 0.05]
    s = M.METHODS[name].steps if name in M.METHODS else 1
    # one step from exact history: the error of θ at time s·h
    errs = [np.linalg.norm(integrate(name, h, s, x0, prob.grad, prob.flow) - prob.flow(x0, s * h))
            for h in hs]
    assert abs(observed_order(hs, errs) - (p + 1)) <= 0.15


def test_reference_numbers_of_section_3():
    """θ' = −θ, θ(0) = 1, T = 1, n = 10, 20, 40, 80."""
    def decay(p):
        return p

    def flow(x0, t):
        return x0 * math.exp(-t)

    ns = [10, 20, 40, 80]
    hs = [1.0 / n for n in ns]
    x0 = np.array([1.0])

    def errors(name, **kw):
        return [abs(integrate(name, 1.0 / n, n, x0, decay, **kw)[0] - math.exp(-1)) for n in ns]

    euler = errors("euler")
    assert euler[0] == pytest.approx(1.92e-2, rel=3e-3) and euler[-1] == pytest.approx(2.31e-3, rel=3e-3)
    local = np.log2(np.array(euler[:-1]) / euler[1:])
    assert np.all((local >= 1.005) & (local <= 1.035))          # 1.01–1.03
    for name in ("heun", "midpoint"):
        assert observed_order(hs, errors(name)) == pytest.approx(2.03, abs=0.01)
    assert observed_order(hs, errors("rk4")) == pytest.approx(4.03, abs=0.01)
    opt_errs = []
    for n in ns:
        o = refopt.ode.linear_multistep("ab2", lr=1.0 / n, bootstrap="heun")
        p, s = x0, o.init(x0)
        for _ in range(n):
            p, s = o.update(None, s, p, grad_fn=decay)
        opt_errs.append(abs(p[0] - math.exp(-1)))
    assert observed_order(hs, opt_errs) == pytest.approx(2.00, abs=0.01)   # AB2, Heun start
    assert observed_order(hs, errors("four_instant", flow=flow)) == pytest.approx(1.96, abs=0.02)


# ------------------------------------------------------------------ stability


REFERENCE_INTERVALS = {"euler": 2.0, "heun": 2.0, "midpoint": 2.0, "ralston": 2.0,
                       "rk4": 2.785293563405282, "ab2": 1.0, "four_instant": 1.0, "leapfrog": 0.0}


@pytest.mark.parametrize("name", sorted(REFERENCE_INTERVALS))
def test_stability_interval_computed_from_coefficients(name):
    got = T.real_stability_interval(T.TABLEAUX[name]) if name in T.TABLEAUX else \
        M.real_stability_interval(M.METHODS[name])
    assert got == pytest.approx(REFERENCE_INTERVALS[name], rel=1e-9, abs=1e-12)


def _amplification(name, x):
    if name in T.TABLEAUX:
        R = T.stability_polynomial(T.TABLEAUX[name])
        return abs(sum(float(r) * (-x) ** k for k, r in enumerate(R)))
    return M.spectral_radius(M.METHODS[name], x)


def _final_ratio(name, x_bound, factor, steps=None):
    """|θ_n/θ_0| on ℓ = λθ²/2 (λ = 1) with hλ = factor · x_bound.

    By default n is chosen from the method's amplification factor so that the predicted change
    is 10⁶ (contraction or growth): near the boundary that factor is within ~1e−3 of 1, and a
    growing parasitic root starts from a small excitation (~0.1 for AB2).
    """
    h = factor * x_bound
    if steps is None:
        amp = _amplification(name, h)
        steps = min(200_000, math.ceil(math.log(1e6) / abs(math.log(amp))) + 10)
    x = integrate(name, h, steps, np.array([1.0]), lambda p: p)
    return abs(float(x[0]))


@pytest.mark.parametrize("name", [n for n in sorted(REFERENCE_INTERVALS) if n != "leapfrog"])
def test_contracts_just_inside_and_diverges_just_outside(name):
    bound = REFERENCE_INTERVALS[name]
    assert _final_ratio(name, bound, 0.99) < 1e-3
    assert _final_ratio(name, bound, 1.01) > 1e3


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_heavy_ball_interval_is_two_times_one_plus_beta(beta):
    m = M.heavy_ball(sp.Rational(beta).limit_denominator(10))
    assert M.real_stability_interval(m) == pytest.approx(2 * (1 + beta), rel=1e-9)
    for factor in (0.99, 1.01):
        h = factor * 2 * (1 + beta)
        steps = math.ceil(math.log(1e6) / abs(math.log(M.spectral_radius(m, h)))) + 10
        opt = refopt.momentum(lr=h, momentum=beta, lr_in_buffer=False)
        x, s = np.array([1.0]), opt.init(np.array([1.0]))
        for _ in range(steps):
            x, s = opt.update(x, s, x)
        assert np.isfinite(x[0])
        assert abs(x[0]) < 1e-3 if factor < 1 else abs(x[0]) > 1e3


def test_leapfrog_is_consistent_but_diverges_on_gradient_flow():
    m = M.LEAPFROG
    assert M.is_consistent(m) and M.order(m) == 2
    assert M.root_condition(m) and not M.root_condition(m, strong=True)
    assert M.real_stability_interval(m) == 0.0
    assert M.spectral_radius(m, 1e-3) > 1.0   # even a tiny step has a growing parasitic root
    for h in (0.1, 0.01):
        assert _final_ratio("leapfrog", h, 1.0, steps=int(60 / h)) > 1e3   # the flow decays to 0


# ------------------------------------------------------------------ finite differences


@pytest.mark.parametrize("method,order", [("forward", 1), ("backward", 1), ("central", 2),
                                          ("five_point", 4), ("complex_step", 2)])
def test_finite_difference_slopes(method, order):
    from refopt.numdiff import derivative
    hs = [0.2, 0.1, 0.05, 0.025]
    errs = [derivative(np.sin, 1.0, method=method, h=h) - math.cos(1.0) for h in hs]
    assert abs(observed_order(hs, errs) - order) <= 0.15


def test_observed_order_refuses_a_round_off_dominated_range():
    from refopt.numdiff import derivative
    hs = [1e-7, 1e-8, 1e-9, 1e-10]
    errs = [derivative(math.sin, 1.0, method="central", h=h) - math.cos(1.0) for h in hs]
    with pytest.raises(ValueError, match="round-off dominates|not a truncation-dominated range"):
        observed_order(hs, errs)
    with pytest.raises(ValueError, match="round-off dominates"):
        observed_order([0.1, 0.05, 0.025], [1e-3, 1e-4, 0.0])


# ------------------------------------------------------------------ modified equation


def test_modified_equation_reference_numbers():
    """ℓ = θ² (λ = 2), θ0 = 1 (docs/specification.md, spec-numerical)."""
    hs = [0.1, 0.05, 0.025]
    plain, mod = zip(*[modified.quadratic_gd_errors(2.0, 1.0, h) for h in hs])
    np.testing.assert_allclose(plain, [1.87e-2, 4.84e-3, 1.23e-3], rtol=5e-3)
    np.testing.assert_allclose(mod, [2.52e-3, 3.25e-4, 4.11e-5], rtol=5e-3)
    assert abs(observed_order(hs, plain) - 2) <= 0.15
    assert abs(observed_order(hs, mod) - 3) <= 0.15


@settings(max_examples=10, deadline=None)
@given(dim=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_gd_follows_the_modified_flow_to_third_order(dim, seed):
    """One GD step vs the flow of ℓ (O(h²)) and of ℓ̃ = ℓ + (h/4)‖∇ℓ‖² (O(h³)) on quadratics.

    For ℓ = ½(x−x*)ᵀA(x−x*), ℓ̃ has Hessian A + (h/2)A², so its flow uses eigenvalues λ + hλ²/2.
    """
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.5, 2.0, dim)
    prob = Quadratic(lam, seed=seed)
    x0 = rng.uniform(-2, 2, dim)
    hs = [0.08, 0.04, 0.02, 0.01]
    plain, mod = [], []
    for h in hs:
        gd = x0 - h * prob.grad(x0)
        plain.append(np.linalg.norm(gd - prob.flow(x0, h)))
        modq = Quadratic(lam + 0.5 * h * lam ** 2, seed=seed, minimiser=prob.minimiser)
        mod.append(np.linalg.norm(gd - modq.flow(x0, h)))
    assert abs(observed_order(hs, plain) - 2) <= 0.15
    assert abs(observed_order(hs, mod) - 3) <= 0.15


def test_modified_gradient_is_the_gradient_of_the_modified_loss():
    prob = Rosenbrock()
    for h in (0.01, 0.1):
        lt = modified.modified_loss(prob.value, prob.grad, h)
        gt = modified.modified_gradient(prob.grad, lambda x, v: prob.hessian(x) @ v, h)
        assert check_grad(lt, gt, np.array([-0.7, 0.4])) <= 1e-8


def test_heavy_ball_converges_to_its_damped_ode_at_first_order():
    """η = h², β = 1 − ah on ℓ = λθ²/2 → θ'' + aθ' + λθ = 0, θ(0) = 1, θ'(0) = 0."""
    a, lam, T_end = 1.0, 4.0, 2.0
    w = math.sqrt(lam - a * a / 4)
    exact = math.exp(-a * T_end / 2) * (math.cos(w * T_end) + a / (2 * w) * math.sin(w * T_end))
    hs = [0.02, 0.01, 0.005, 0.0025]
    errs = [abs(modified.heavy_ball_with_ode_scaling(lambda x: lam * x, 1.0, a, h, round(T_end / h)) - exact)
            for h in hs]
    assert abs(observed_order(hs, errs) - 1) <= 0.15


def test_nesterov_approaches_its_ode_limit():
    """Su–Boyd–Candès: x_k ≈ X(k√s) with X'' + (3/t)X' + ∇ℓ(X) = 0; the gap shrinks with s."""
    from scipy.integrate import solve_ivp
    lam, x0, T_end = 2.0, 1.0, 3.0
    t0 = 1e-6
    rhs = modified.nesterov_ode(lambda x: lam * x)
    sol = solve_ivp(lambda t, y: list(rhs(t, y)), (t0, T_end), [x0 - lam * x0 * t0 ** 2 / 8, -lam * x0 * t0 / 4],
                    rtol=1e-12, atol=1e-14)
    exact = sol.y[0, -1]
    gaps = []
    for s_step in (1e-2, 1e-3, 1e-4):
        k_end = round(T_end / math.sqrt(s_step))
        x_prev = y = x0
        for k in range(1, k_end + 1):
            x = y - s_step * lam * y
            y = x + (k - 1) / (k + 2) * (x - x_prev)
            x_prev = x
        gaps.append(abs(x_prev - exact))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-2
