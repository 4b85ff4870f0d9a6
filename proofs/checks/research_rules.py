"""Checks for R-SGD, AGD and Big Batch SGD (proofs/rules/rsgd.md, agd.md, bigbatch.md).

AGD's claims are read from refopt.agd itself, run on SymPy symbols (_symbolic.run) with dyadic
hyperparameters; β2 = 0 where a second step is needed, so that √(1 − β2^t) = 1 is exact.
"""

from fractions import Fraction
from itertools import combinations

import numpy as np
import sympy as sp
from _symbolic import Sym, run
from _util import is_zero, wrong

import refopt.research as R

th0 = sp.Symbol("theta0", real=True)
H = sp.Rational(1, 2)


@wrong(full_noise=dict(mean=lambda g, h, p: g + h), no_noise=dict(mean=lambda g, h, p: g))
def check_rsgd_conditional_expectation(mean=lambda g, h, p: g + p * h):
    """rule-rsgd: E[g + Γh | past] = g + p h for Γ ~ Bernoulli(p): the expectation over the two
    outcomes of Γ."""
    g, h, p = sp.symbols("g h p")
    expectation = sum(prob * (g + gamma * h) for gamma, prob in ((1, p), (0, 1 - p)))
    assert is_zero(expectation - mean(g, h, p))



@wrong(boundary_two=dict(bound=lambda beta: 2),
       boundary_one_plus_beta=dict(bound=lambda beta: 1 + beta))
def check_rsgd_heavy_ball_stability(bound=lambda beta: 2 * (1 + beta)):
    """rule-rsgd, thm-rsgd-stability: the expected iteration on λx²/2 with momentum β has
    characteristic polynomial z² − (1 + β − ηλ)z + β and determinant β; z = 1 is a root at ηλ = 0
    and z = −1 at ηλ = 2(1 + β); the spectral radius is < 1 exactly inside 0 < ηλ < 2(1 + β)
    for 0 ≤ β < 1 (checked on a grid of rational points 1/40 apart, never on the boundary, both
    sides), and equals 1 at β = 1 for 0 < ηλ < 4."""
    z, beta, a = sp.symbols("z beta a")       # a = ηλ
    # state (x, u = ηh): u ← a x + β u, x ← x − u = (1 − a) x − β u
    M = sp.Matrix([[1 - a, -beta], [a, beta]])
    poly = (M - z * sp.eye(2)).det()
    assert is_zero(poly - (z ** 2 - (1 + beta - a) * z + beta))
    assert is_zero(M.det() - beta)
    assert is_zero(poly.subs({z: 1, a: 0})) and is_zero(poly.subs({z: -1, a: bound(beta)}))
    for b in [Fraction(k, 10) for k in range(10)] + [Fraction(99, 100)]:
        for a_val in [Fraction(2 * k + 1, 40) for k in range(-2, 90)]:   # never on the boundary
            radius = max(abs(np.roots([1.0, -float(1 + b - a_val), float(b)])))
            inside = 0 < a_val < bound(b)   # boundary points are checked exactly above
            assert (radius < 1) == inside, (b, a_val, radius)
    for a_val in [Fraction(k, 10) for k in range(1, 40)]:
        radius = max(abs(np.roots([1.0, -float(2 - a_val), 1.0])))
        assert abs(radius - 1) < 1e-12   # roots on the unit circle, to rounding


@wrong(no_clamp=dict(step=lambda eta, g, d: -eta * sp.sign(g)),
       clamp_squared=dict(step=lambda eta, g, d: -eta * g / sp.Max(abs(g), d ** 2)))
def check_agd_first_step_branches(step=lambda eta, g, d: -eta * g / sp.Max(abs(g), d)):
    """rule-agd: refopt.agd's first step is θ_1 − θ_0 = −η g/max(|g|, δ): run on a symbolic g on
    both sides of the switch, g = δ(1 + s) (Adam-like: −η sign g) and g = δ/(1 + s) (SGD-like:
    −η g/δ), s > 0, for both signs of g."""
    s = sp.Symbol("s", positive=True)
    lr, delta = sp.Rational(1, 4), sp.Rational(1, 16)
    opt = R.agd(lr=float(lr), beta1=0.5, beta2=0.75, delta=float(delta), weight_decay=0.0)
    for g in (delta * (1 + s), delta / (1 + s), -delta * (1 + s), -delta / (1 + s)):
        got = run(opt, [g], th0)[1] - th0
        got = sp.piecewise_fold(got).simplify()
        assert is_zero(got - step(lr, g, delta).simplify()), g


@wrong(no_one_plus_beta=dict(s2=lambda g1, g2, b: g2 - g1),
       sum=dict(s2=lambda g1, g2, b: (g2 + g1) / (1 + b)))
def check_agd_second_difference(s2=lambda g1, g2, b: (g2 - g1) / (1 + b)):
    """rule-agd: s_2 = m_2/(1−β1²) − m_1/(1−β1) = (g_2 − g_1)/(1 + β1): read from refopt.agd's state
    b_2 = s_2² after two symbolic steps (β2 = 0 so b_t = s_t²; β1 = 1/2)."""
    g1, g2 = sp.symbols("g1 g2", positive=True)
    opt = R.agd(lr=0.25, beta1=0.5, beta2=0.0, delta=2.0 ** -10, weight_decay=0.0)
    params, state = Sym(th0), opt.init(Sym(th0))
    for g in (g1, g2):
        params, state = opt.update(Sym(g), state, params)
    assert is_zero(state.b.e - s2(g1, g2, H) ** 2)


@wrong(off_by_one=dict(claimed=2397), adam_like=dict(claimed=1))
def check_agd_switch_time(claimed=2398):
    """rule-agd: constant g ⇒ b̂_t = β2^{t−1}(1−β2)g²/(1−β2^t) (s_1 = g, s_t = 0 after); the first t
    with √b̂_t ≤ δ is 2398 for g = 1e−3, δ = 1e−5, β2 = 0.999 (exact rational arithmetic). The
    closed form of b̂_t is itself read from refopt.agd's state on a symbolic constant gradient
    for the first four steps."""
    G = sp.Symbol("G", positive=True)
    opt = R.agd(lr=0.25, beta1=0.5, beta2=0.75, delta=2.0 ** -30, weight_decay=0.0)
    params, state = Sym(th0), opt.init(Sym(th0))
    b2 = sp.Rational(3, 4)
    for t in range(1, 5):
        params, state = opt.update(Sym(G), state, params)
        assert is_zero(state.b.e - b2 ** (t - 1) * (1 - b2) * G ** 2), t   # b_t; b̂_t = b_t/(1−β2^t)
    g, delta, beta2 = Fraction(1, 1000), Fraction(1, 100000), Fraction(999, 1000)
    t = 1
    while beta2 ** (t - 1) * (1 - beta2) * g * g / (1 - beta2 ** t) > delta ** 2:
        t += 1
    assert t == claimed


@wrong(no_sqrt_on_floor=dict(floor=lambda d, c2: d * c2))
def check_agd_code_form_equals_hat_form(floor=lambda d, c2: d * sp.sqrt(c2)):
    """rule-agd: η√c2/c1 · m/max(√b, δ√c2) = η (m/c1)/max(√(b/c2), δ) for c1, c2 > 0 (the code's
    floor δ√(1−β2^t) is the hat form's δ), on both sides of the clamp."""
    m, b, eta, delta, c1, c2 = sp.symbols("m b eta delta c1 c2", positive=True)
    for branch_b in (delta ** 2 * c2 * 4, delta ** 2 * c2 / 4):  # both sides of the clamp
        code = eta * sp.sqrt(c2) / c1 * m / sp.Max(sp.sqrt(branch_b), floor(delta, c2))
        hat = eta * (m / c1) / sp.Max(sp.sqrt(branch_b / c2), delta)
        assert is_zero(code - hat)


@wrong(biased=dict(ddof=0))
def check_bigbatch_variance_unbiased_without_replacement(ddof=1):
    """rule-bigbatch: averaging the sample variance (|B| − 1 denominator) over *all* subsets of
    size k of a population gives S² = (1/(N−1)) Σ (x_n − x̄)² exactly."""
    pop = [Fraction(v) for v in (3, -1, 4, 1, -5, 9)]
    n = len(pop)
    mean = sum(pop) / n
    s2 = sum((v - mean) ** 2 for v in pop) / (n - 1)
    for k in (2, 3, 4):
        total, count = Fraction(0), 0
        for subset in combinations(pop, k):
            m = sum(subset) / k
            total += sum((v - m) ** 2 for v in subset) / (k - ddof)
            count += 1
        assert total / count == s2


@wrong(step_one_over_L=dict(alpha=lambda L, th: 1 / L))
def check_bigbatch_expected_decrease(alpha=lambda L, th: 1 / (L * (1 + th ** 2))):
    """rule-bigbatch: descent lemma with E‖ḡ‖² ≤ (1+θ²)‖∇ℓ‖² (given an unbiased ḡ): the bound
    −α‖∇ℓ‖² + (Lα²/2)(1+θ²)‖∇ℓ‖² is minimised at α = 1/(L(1+θ²)), where it is
    −‖∇ℓ‖²/(2L(1+θ²))."""
    L, th, G, a = sp.symbols("L theta G a", positive=True)
    bound = -a * G + L * a ** 2 / 2 * (1 + th ** 2) * G
    (best,) = sp.solve(sp.diff(bound, a), a)
    assert is_zero(best - alpha(L, th))
    assert is_zero(bound.subs(a, best) + G / (2 * L * (1 + th ** 2)))


@wrong(half=dict(nu_claim=lambda lam: lam / 2))
def check_bigbatch_bb_one_dimensional_quadratic(nu_claim=lambda lam: lam):
    """rule-bigbatch: on ℓ = λx²/2 at |B| = N, ν = ⟨Δx, Δg⟩/‖Δx‖² = λ, so α̃ = 1/λ."""
    lam, x0, x1 = sp.symbols("lambda x0 x1", positive=True)
    grad = lambda x: sp.diff(lam * x ** 2 / 2, x)      # noqa: E731
    nu = (x1 - x0) * (grad(x1) - grad(x0)) / (x1 - x0) ** 2
    assert is_zero(nu - nu_claim(lam))
