"""Exact checks for R-SGD, AGD and Big Batch SGD (proofs/rules/rsgd.md, agd.md, bigbatch.md)."""

from fractions import Fraction
from itertools import combinations

import sympy as sp
from _util import is_zero


def check_rsgd_conditional_expectation():
    """rule-rsgd: E[g + Γh | past] = g + p h for Γ ~ Bernoulli(p) (linearity)."""
    g, h, p = sp.symbols("g h p")
    expectation = p * (g + h) + (1 - p) * g
    assert is_zero(expectation - (g + p * h))


def check_agd_first_step_branches():
    """rule-agd: m̂_1 = g, b̂_1 = g², so θ_1 − θ_0 = −η g/max(|g|, δ)."""
    g, eta, b1, b2, delta = sp.symbols("g eta beta1 beta2 delta", positive=True)
    m1, s1 = (1 - b1) * g, g
    bhat1 = (1 - b2) * s1 ** 2 / (1 - b2)
    assert is_zero(m1 / (1 - b1) - g) and is_zero(bhat1 - g ** 2)


def check_agd_second_difference():
    """rule-agd: s_2 = m_2/(1−β1²) − m_1/(1−β1) = (g_2 − g_1)/(1 + β1)."""
    g1, g2, b1 = sp.symbols("g1 g2 beta1")
    m1 = (1 - b1) * g1
    m2 = b1 * m1 + (1 - b1) * g2
    s2 = m2 / (1 - b1 ** 2) - m1 / (1 - b1)
    assert is_zero(s2 - (g2 - g1) / (1 + b1))


def check_agd_switch_time():
    """rule-agd: constant g ⇒ b̂_t = β2^{t−1}(1−β2)g²/(1−β2^t); first t with √b̂_t ≤ δ is 2398
    for g = 1e−3, δ = 1e−5, β2 = 0.999 (exact rational arithmetic)."""
    g, delta, beta2 = Fraction(1, 1000), Fraction(1, 100000), Fraction(999, 1000)
    t = 1
    while beta2 ** (t - 1) * (1 - beta2) * g * g / (1 - beta2 ** t) > delta ** 2:
        t += 1
    assert t == 2398


def check_agd_code_form_equals_hat_form():
    """rule-agd: η√c2/c1 · m/max(√b, δ√c2) = η (m/c1)/max(√(b/c2), δ) for c1, c2 > 0."""
    m, b, eta, delta, c1, c2 = sp.symbols("m b eta delta c1 c2", positive=True)
    for branch_b in (delta ** 2 * c2 * 4, delta ** 2 * c2 / 4):  # both sides of the clamp
        code = eta * sp.sqrt(c2) / c1 * m / sp.Max(sp.sqrt(branch_b), delta * sp.sqrt(c2))
        hat = eta * (m / c1) / sp.Max(sp.sqrt(branch_b / c2), delta)
        assert is_zero(code - hat)


def check_bigbatch_variance_unbiased_without_replacement():
    """rule-bigbatch: averaging the sample variance (|B|−1 denominator) over *all* subsets of
    size k of a population gives S² = (1/(N−1)) Σ (x_n − x̄)² exactly."""
    pop = [Fraction(v) for v in (3, -1, 4, 1, -5, 9)]
    n = len(pop)
    mean = sum(pop) / n
    s2 = sum((v - mean) ** 2 for v in pop) / (n - 1)
    for k in (2, 3, 4):
        total, count = Fraction(0), 0
        for subset in combinations(pop, k):
            m = sum(subset) / k
            total += sum((v - m) ** 2 for v in subset) / (k - 1)
            count += 1
        assert total / count == s2


def check_bigbatch_expected_decrease():
    """rule-bigbatch: descent lemma with E‖ḡ‖² ≤ (1+θ²)‖∇ℓ‖² and α = 1/(L(1+θ²)):
    −α‖∇ℓ‖² + (L α²/2)(1+θ²)‖∇ℓ‖² = −‖∇ℓ‖²/(2L(1+θ²))."""
    L, th, G = sp.symbols("L theta G", positive=True)
    alpha = 1 / (L * (1 + th ** 2))
    bound = -alpha * G + L * alpha ** 2 / 2 * (1 + th ** 2) * G
    assert is_zero(bound + G / (2 * L * (1 + th ** 2)))


def check_bigbatch_bb_one_dimensional_quadratic():
    """rule-bigbatch: on ℓ = λx²/2 at |B| = N, ν = ⟨Δx, Δg⟩/‖Δx‖² = λ, so α̃ = 1/λ."""
    lam, x0, x1 = sp.symbols("lambda x0 x1", positive=True)
    nu = (x1 - x0) * (lam * x1 - lam * x0) / (x1 - x0) ** 2
    assert is_zero(nu - lam)
