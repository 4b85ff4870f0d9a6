"""Exact checks for the issue-16 rule pages (proofs/rules/radam.md, adabelief.md, yogi.md,
lion.md, signum.md, sparse-adam.md)."""

import sympy as sp
from _util import is_zero

t = sp.symbols("t", positive=True, integer=True)
b1, b2, eta, lam, eps = sp.symbols("beta1 beta2 eta lambda epsilon", positive=True)
g = sp.symbols("g", real=True, nonzero=True)
rho = sp.symbols("rho", positive=True)


def _rho_inf(beta2):
    return 2 / (1 - beta2) - 1


def _rho(step, beta2):
    return _rho_inf(beta2) - 2 * step * beta2**step / (1 - beta2**step)


def _variance(r):
    """The paper's variance of the adaptive step under a scaled inverse χ² with r degrees of
    freedom, up to a factor that does not depend on r."""
    return r / ((r - 2) * (r - 4))


def check_radam_first_step_has_rho_one():
    assert is_zero(_rho(1, b2) - 1)


def check_radam_rho_tends_to_rho_inf():
    beta = sp.Rational(999, 1000)
    assert sp.limit(_rho(t, beta) - _rho_inf(beta), t, sp.oo) == 0


def check_radam_rectification_is_the_ratio_of_variances():
    ri = sp.symbols("rho_inf", positive=True)
    r2 = (rho - 4) * (rho - 2) * ri / ((ri - 4) * (ri - 2) * rho)
    assert is_zero(_variance(ri) / _variance(rho) - r2)
    assert is_zero(r2.subs(rho, ri) - 1)          # r = 1 once ρ_t reaches ρ_∞
    assert is_zero(r2.subs(rho, 4))               # r = 0 at the threshold


def check_radam_variance_is_finite_and_positive_only_above_four():
    assert sp.limit(_variance(rho), rho, 4, "+") == sp.oo
    assert sp.solve_univariate_inequality(_variance(rho) > 0, rho, relational=False) \
        == sp.Union(sp.Interval.open(0, 2), sp.Interval.open(4, sp.oo))
    # and r² increases with ρ above 4: d/dρ [(ρ−4)(ρ−2)/ρ] = 1 − 8/ρ² > 0 for ρ > 2√2
    assert is_zero(sp.diff((rho - 4) * (rho - 2) / rho, rho) - (1 - 8 / rho**2))


def check_adabelief_eps_root_is_a_constant_on_the_corrected_moment():
    """Σ_{k<t} β2^k ε_root / (1 − β2^t) = ε_root/(1 − β2): ε_root added every step becomes a
    constant ε_root/(1−β2) on ŝ_t."""
    k = sp.symbols("k", integer=True, nonnegative=True)
    acc = sp.summation(b2**k * eps, (k, 0, t - 1))
    assert is_zero(sp.simplify(acc / (1 - b2**t)) - eps / (1 - b2))


def check_adabelief_first_step_is_lr_over_beta1():
    """m_1 = (1−β1)g, d_1 = g − m_1 = β1 g, ŝ_1 = β1² g², m̂_1 = g: the first step is η g/(β1|g|)."""
    m1 = (1 - b1) * g
    s1 = (1 - b2) * (g - m1) ** 2
    step = eta * (m1 / (1 - b1)) / sp.sqrt(s1 / (1 - b2))
    assert is_zero(sp.simplify(step - eta * sp.sign(g) / b1))


def check_yogi_second_moment_bounds():
    """v > g² ≥ 0: v_t − β2 v = (1−β2)(v − g²) > 0 and v_t < v; v ≤ g²: v_t − v = (1−β2)g² ≥ 0."""
    v, d = sp.symbols("v d", positive=True)      # v_{t−1} > 0; d = v − g² > 0 in case 1
    beta = sp.symbols("beta", positive=True)
    g2 = v - d                                    # case 1: v_{t−1} > g²
    vt = v - (1 - beta) * g2
    assert is_zero(vt - beta * v - (1 - beta) * d)
    assert is_zero((v - vt) - (1 - beta) * g2)    # a decrease of exactly (1−β2)g²
    g2 = v + d                                    # case 2: v_{t−1} < g²
    vt = v + (1 - beta) * g2
    assert is_zero(vt - v - (1 - beta) * g2)
    # Adam's change is (1−β2)(g² − v): with g = 0 it loses (1−β2)v, Yogi loses 0
    assert is_zero((beta * v + (1 - beta) * 0) - v + (1 - beta) * v)


def check_lion_equal_betas_is_signum():
    m, grad = sp.symbols("m g", real=True)
    c_lion = b1 * m + (1 - b1) * grad             # with β2 = β1 the new momentum is the same
    m_signum = b1 * m + (1 - b1) * grad
    assert is_zero(c_lion - m_signum)


def check_lion_decoupled_decay_keeps_the_box():
    """|θ| ≤ 1/λ ⇒ |θ(1−ηλ) − η s| ≤ (1−ηλ)/λ + η = 1/λ for |s| ≤ 1, ηλ ≤ 1; and for
    |θ| > 1/λ the new |θ| is at most |θ| − η(λ|θ| − 1) < |θ|."""
    assert is_zero((1 - eta * lam) / lam + eta - 1 / lam)
    th = sp.symbols("theta", positive=True)
    assert is_zero((th * (1 - eta * lam) + eta) - (th - eta * (lam * th - 1)))


def check_sign_step_is_steepest_descent_in_linf():
    """−g·δ over |δ| ≤ η is maximal at δ = −η sign(g), with value η|g| (per coordinate)."""
    assert is_zero(-g * (-eta * sp.sign(g)) - eta * sp.Abs(g))


def check_sparse_adam_first_touch_step_limit():
    """A row first touched at step t (m = v = 0 before) moves by
    η (1−β1)√(1−β2^t)/((1−β1^t)√(1−β2)) (ε = 0), which tends to η(1−β1)/√(1−β2) as t → ∞,
    where Adam's first step is η."""
    m = (1 - b1) * g
    v = (1 - b2) * g**2
    step = eta * sp.sqrt(1 - b2**t) / (1 - b1**t) * m / sp.sqrt(v)
    expected = eta * (1 - b1) * sp.sqrt(1 - b2**t) / ((1 - b1**t) * sp.sqrt(1 - b2)) * sp.sign(g)
    assert is_zero(sp.simplify(step - expected))
    half, tenth = sp.Rational(1, 2), sp.Rational(9, 10)
    lim = sp.limit(expected.subs({b1: tenth, b2: half, g: 1}), t, sp.oo)
    assert is_zero(lim - eta * (1 - tenth) / sp.sqrt(1 - half))
    assert is_zero(expected.subs({t: 1, g: 1}) - eta)   # at t = 1 it is Adam's first step
