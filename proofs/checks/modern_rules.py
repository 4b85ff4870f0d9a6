"""Exact checks for the issue-16 rule pages (proofs/rules/radam.md, adabelief.md, yogi.md,
lion.md, signum.md, sparse-adam.md).

Each check takes the page's claim as a keyword argument and derives the other side from
refopt's own objects: RAdam's ``sma_length``/``rectification`` evaluated on SymPy symbols, and
the rules' ``update`` run on :mod:`_symbolic` scalars with dyadic hyperparameters (so the float
arithmetic inside the rule is exact).
"""

import contextlib
import importlib
import types

import sympy as sp
from _symbolic import Sym, run
from _util import is_zero, wrong

import refopt
from refopt.optim.adam import AdamState

radam_module = importlib.import_module("refopt.optim.radam")   # refopt.optim.radam is the function

t = sp.symbols("t", positive=True, integer=True)
b1, b2, eta, lam = sp.symbols("beta1 beta2 eta lambda", positive=True)
rho = sp.symbols("rho", positive=True)
G = sp.Symbol("G", positive=True)
gs = sp.symbols("g1:5", real=True)
th0 = sp.Symbol("theta0", real=True)
R = sp.Rational


def _rational(expr):
    """refopt's float constants (2.0, 1.0) inside a SymPy expression, as exact rationals."""
    return sp.nsimplify(sp.sympify(expr), rational=True)


@contextlib.contextmanager
def _symbolic_math():
    """Run radam.py's own ``rectification`` on symbols: its ``math.sqrt`` becomes ``sp.sqrt``."""
    real = radam_module.math
    radam_module.math = types.SimpleNamespace(sqrt=sp.sqrt)
    try:
        yield
    finally:
        radam_module.math = real


def _rho_code(step, beta2):
    return _rational(radam_module.sma_length(step, beta2))


def _rho_inf_code(beta2):
    """ρ_∞ as the code defines it: the ρ of ``rectification``'s denominator, read as
    sma_length's first term (its value at t → ∞ for β2 < 1)."""
    return _rational(2.0 / (1.0 - beta2) - 1.0)


@wrong(no_bias_denominator=dict(rho_1=2 / (1 - b2) - 1 - 2 * b2),
       rho_inf=dict(rho_1=2 / (1 - b2) - 1))
def check_radam_first_step_has_rho_one(rho_1=1):
    """rule-radam: refopt's ρ_t (``sma_length``) at t = 1 is 1 for every β2: one gradient."""
    assert is_zero(_rho_code(1, b2) - rho_1)


@wrong(ema_length=dict(limit=lambda b: 1 / (1 - b)), no_minus_one=dict(limit=lambda b: 2 / (1 - b)))
def check_radam_rho_tends_to_rho_inf(limit=lambda b: 2 / (1 - b) - 1):
    """rule-radam: refopt's ρ_t → ρ_∞ = 2/(1 − β2) − 1 as t → ∞ (β2 = 999/1000, the code's
    sma_length with a symbolic t)."""
    beta = R(999, 1000)
    assert sp.limit(_rho_code(t, beta), t, sp.oo) == limit(beta)


@wrong(no_rho_numerator=dict(variance=lambda r: 1 / ((r - 2) * (r - 4))),
       one_pole=dict(variance=lambda r: r / (r - 4)))
def check_radam_rectification_is_the_ratio_of_variances(variance=lambda r: r / ((r - 2) * (r - 4))):
    """rule-radam: refopt's ``rectification`` (run on symbols) squared is V(ρ_∞)/V(ρ_t) for the
    page's V(ρ) = ρ/((ρ − 2)(ρ − 4)); it is 0 at ρ = 4 and 1 at ρ_∞."""
    with _symbolic_math():
        r_code = _rational(radam_module.rectification(rho, b2))
        r_at_inf = _rational(radam_module.rectification(2 / (1 - b2) - 1, b2))
        r_at_4 = _rational(radam_module.rectification(4, b2))
    ri = _rho_inf_code(b2)
    assert is_zero(r_code ** 2 - variance(ri) / variance(rho))
    assert is_zero(r_at_inf - 1)
    assert is_zero(r_at_4)


@wrong(code_threshold=dict(threshold=5), other_pole=dict(threshold=2))
def check_radam_variance_is_finite_and_positive_only_above_four(threshold=4):
    """rule-radam: V(ρ) = ρ/((ρ−2)(ρ−4)) has its pole at the threshold, is positive on
    (0, 2) ∪ (threshold, ∞), and refopt's ``rectification`` vanishes there; refopt.radam accepts
    that threshold and rejects anything below it. r² increases above 4:
    d/dρ [(ρ−4)(ρ−2)/ρ] = 1 − 8/ρ² > 0 for ρ > 2√2."""
    V = rho / ((rho - 2) * (rho - 4))
    assert sp.limit(V, rho, threshold, "+") == sp.oo
    assert sp.solve_univariate_inequality(V > 0, rho, relational=False) \
        == sp.Union(sp.Interval.open(0, 2), sp.Interval.open(threshold, sp.oo))
    with _symbolic_math():
        assert is_zero(_rational(radam_module.rectification(threshold, b2)))
    refopt.radam(threshold=float(threshold))
    try:
        refopt.radam(threshold=float(threshold) - 0.125)
    except ValueError:
        pass
    else:
        raise AssertionError("refopt.radam accepts a threshold below the claimed one")
    assert is_zero(sp.diff((rho - 4) * (rho - 2) / rho, rho) - (1 - 8 / rho**2))


@wrong(uncorrected=dict(shift=lambda b, e: e), over_one_minus_b_t=dict(shift=lambda b, e: e / (1 - b) ** 2))
def check_adabelief_eps_root_is_a_constant_on_the_corrected_moment(shift=lambda b, e: e / (1 - b)):
    """rule-adabelief: ε_root added every step becomes the constant ε_root/(1 − β2) on
    ŝ_t = s_t/(1 − β2^t): refopt.adabelief's s_t under zero gradients (four steps, β2 = 3/4,
    ε_root = 2⁻⁸), and Σ_{k<t} β2^k ε/(1 − β2^t) for a symbolic t."""
    e, beta = 2.0 ** -8, 0.75
    opt = refopt.adabelief(lr=0.25, beta1=0.5, beta2=beta, eps=0.5, eps_root=e)
    params, state = Sym(th0), opt.init(Sym(th0))
    for step in range(1, 5):
        params, state = opt.update(Sym(0), state, params)
        assert is_zero(state.s.e / (1 - R(beta) ** step) - shift(R(beta), R(e))), step
    k = sp.symbols("k", integer=True, nonnegative=True)
    eps = sp.Symbol("epsilon", positive=True)
    acc = sp.summation(b2**k * eps, (k, 0, t - 1))
    assert is_zero(sp.simplify(acc / (1 - b2**t)) - shift(b2, eps))


@wrong(adams_first_step=dict(step=lambda e, beta1, gg: e * sp.sign(gg)),
       one_minus_beta1=dict(step=lambda e, beta1, gg: e * sp.sign(gg) / (1 - beta1)))
def check_adabelief_first_step_is_lr_over_beta1(step=lambda e, beta1, gg: e * sp.sign(gg) / beta1):
    """rule-adabelief: m_1 = (1−β1)g, d_1 = g − m_1 = β1 g, ŝ_1 = β1²g², m̂_1 = g, so the first
    step of refopt.adabelief (ε = ε_root = 0, β1 = 3/4) is −η g/(β1|g|), for either sign of g."""
    for gg in (G, -G):
        opt = refopt.adabelief(lr=0.25, beta1=0.75, beta2=0.5, eps=0.0, eps_root=0.0)
        moved = run(opt, [gg], th0)[1] - th0
        assert is_zero(moved + step(R(1, 4), R(3, 4), gg)), gg


@wrong(beta_not_one_minus=dict(size=lambda beta, g2: beta * g2),
       adams_change=dict(size=lambda beta, g2: (1 - beta) * sp.Symbol("v", positive=True)))
def check_yogi_second_moment_bounds(size=lambda beta, g2: (1 - beta) * g2):
    """rule-yogi, on refopt.yogi's own v update (β2 = 3/4): if v_{t−1} > g², v falls by exactly
    (1−β2)g² and v_t − β2 v_{t−1} = (1−β2)(v_{t−1} − g²) > 0; if v_{t−1} < g², v rises by
    (1−β2)g²; with g = 0, v is kept (Adam's would lose (1−β2)v_{t−1})."""
    v, d = sp.symbols("v d", positive=True)
    beta = R(3, 4)
    opt = refopt.yogi(lr=0.25, beta1=0.5, beta2=float(beta), eps=0.5)

    def v_next(v_prev, grad):
        state = opt.init(Sym(th0))._replace(v=Sym(v_prev))
        return sp.simplify(opt.update(Sym(grad), state, Sym(th0))[1].v.e)

    gg = sp.Symbol("g", positive=True)
    above = v_next(gg ** 2 + d, gg)                  # case 1: v_{t−1} = g² + d > g²
    assert is_zero((gg ** 2 + d) - above - size(beta, gg ** 2))
    assert is_zero(above - beta * (gg ** 2 + d) - (1 - beta) * d)
    below = v_next(gg ** 2 - d, gg)                  # case 2: v_{t−1} = g² − d < g²
    assert is_zero(below - (gg ** 2 - d) - size(beta, gg ** 2))
    assert is_zero(v_next(v, 0) - v)


@wrong(one_minus_beta1=dict(beta2=lambda b: 1 - b), squared=dict(beta2=lambda b: b * b))
def check_lion_equal_betas_is_signum(beta2=lambda b: b):
    """rule-lion: refopt.lion(β1, β2 = beta2(β1)) and refopt.signum(β = β1) give the same
    iterates on three symbolic gradients (β1 = 3/4): with β2 = β1 the interpolation c_t is the
    new momentum itself. The iterates are sums of signs of linear forms in g1..g3; equal ones
    expand to the same terms, so the test is ``expand(a − b) == 0`` (simplifying a difference
    of signs that does not vanish takes SymPy minutes)."""
    lion = run(refopt.lion(lr=0.25, beta1=0.75, beta2=float(beta2(R(3, 4)))), gs[:3], th0)
    signum = run(refopt.signum(lr=0.25, momentum=0.75), gs[:3], th0)
    for step, (a, b) in enumerate(zip(lion, signum)):
        assert sp.expand(a - b) == 0, step


@wrong(over_eta_lambda=dict(radius=lambda e, la: 1 / (e * la)), half=dict(radius=lambda e, la: 1 / (2 * la)))
def check_lion_decoupled_decay_keeps_the_box(radius=lambda e, la: 1 / la):
    """rule-lion: with decoupled decay (η = 1/4, λ = 1/2) the edge θ = 1/λ of the box is mapped
    to itself by refopt.lion under the worst sign (every step moves by η outwards), so the box
    of radius 1/λ is the smallest invariant one; outside it, θ_1 = θ − η(λθ − 1) < θ."""
    e, la = R(1, 4), R(1, 2)
    opt = refopt.lion(lr=float(e), weight_decay=float(la), decay="decoupled")
    r = radius(e, la)
    edge = run(opt, [-G], r)[1]                     # gradient −G: the step pushes θ outwards
    assert is_zero(edge - r)
    d = sp.Symbol("d", positive=True)
    outside = run(opt, [-G], 1 / la + d)[1]
    assert is_zero(outside - ((1 / la + d) - e * (la * (1 / la + d) - 1)))
    assert (outside - (1 / la + d)).is_negative


@wrong(l2_steepest=dict(step=lambda e, gg: -e * gg), half=dict(step=lambda e, gg: -e * sp.sign(gg) / 2))
def check_sign_step_is_steepest_descent_in_linf(step=lambda e, gg: -e * sp.sign(gg)):
    """rule-signum: refopt.sign_sgd's step (η = 1/4, either sign of g) is δ = −η sign(g), which
    decreases the linear model by −g·δ = η|g|, the maximum over |δ| ≤ η (a linear function on
    an interval is maximal at an endpoint, ±η)."""
    e = R(1, 4)
    for gg in (G, -G):
        delta = run(refopt.sign_sgd(lr=float(e)), [gg], th0)[1] - th0
        assert is_zero(delta - step(e, gg))
        best = max(-gg * e, gg * e, key=lambda x: x.subs(G, 1))
        assert is_zero(-gg * step(e, gg) - best)


@wrong(adams_first_step=dict(step=lambda e, c1, c2, n: e, limit=lambda e, c1, c2: e),
       no_sqrt=dict(step=lambda e, c1, c2, n: e * (1 - c1) * (1 - c2 ** n) / ((1 - c1 ** n) * (1 - c2)),
                    limit=lambda e, c1, c2: e * (1 - c1) / (1 - c2)))
def check_sparse_adam_first_touch_step_limit(
        step=lambda e, c1, c2, n: e * (1 - c1) * sp.sqrt(1 - c2 ** n) / ((1 - c1 ** n) * sp.sqrt(1 - c2)),
        limit=lambda e, c1, c2: e * (1 - c1) / sp.sqrt(1 - c2)):
    """rule-sparse-adam: a row first touched at step n (m = v = 0 before, as lazy Adam keeps it)
    moves by η(1−β1)√(1−β2^n)/((1−β1^n)√(1−β2)) (ε = 0): refopt.adam's update from
    AdamState(t = n − 1, m = 0, v = 0), n = 1..4, β1 = 3/4, β2 = 1/2; at n = 1 it is Adam's
    first step η, and it tends to η(1−β1)/√(1−β2) as n → ∞."""
    e, c1, c2 = R(1, 4), R(3, 4), R(1, 2)
    opt = refopt.adam(lr=float(e), beta1=float(c1), beta2=float(c2), eps=0.0)
    for n in range(1, 5):
        state = AdamState(t=n - 1, m=Sym(0), v=Sym(0))
        moved = th0 - opt.update(Sym(G), state, Sym(th0))[0].e
        assert is_zero(moved - step(e, c1, c2, n)), n
    assert is_zero(step(e, c1, c2, 1) - e)
    n = sp.Symbol("n", positive=True, integer=True)
    assert is_zero(sp.limit(step(e, c1, c2, n), n, sp.oo) - limit(e, c1, c2))
