"""Exact checks for the algebraic steps of the theorem pages (proofs/theorems/*.md)."""

import sympy as sp
from _util import is_zero


def check_descent_lemma_with_step_one_over_L():
    """thm-gd: ℓ(θ − ∇ℓ/L) ≤ ℓ(θ) − ‖∇ℓ‖²/(2L): −η G + (L/2)η² G at η = 1/L."""
    L, G, eta = sp.symbols("L G eta", positive=True)
    decrease = -eta * G + L / 2 * eta ** 2 * G
    assert is_zero(decrease.subs(eta, 1 / L) + G / (2 * L))
    # and 1/L maximises the guaranteed decrease
    assert sp.solve(sp.diff(decrease, eta), eta) == [1 / L]


def check_gd_strongly_convex_contraction_factor():
    """thm-gd: with η = 2/(L+μ), max_{λ∈[μ,L]} |1 − ηλ| = (κ−1)/(κ+1), attained at both ends."""
    L, mu = sp.symbols("L mu", positive=True)
    eta = 2 / (L + mu)
    kappa = L / mu
    q = (kappa - 1) / (kappa + 1)
    assert is_zero((1 - eta * mu) - q)
    assert is_zero((eta * L - 1) - q)


def check_polyak_heavy_ball_double_root():
    """thm-heavy-ball: with η = 4/(√L+√μ)², β = ρ², ρ = (√L−√μ)/(√L+√μ), the characteristic
    polynomial r² − (1+β−ηλ)r + β has a double root ±ρ at λ = μ and λ = L."""
    sL, sm, r = sp.symbols("sL smu r", positive=True)
    rho = (sL - sm) / (sL + sm)
    eta, beta = 4 / (sL + sm) ** 2, rho ** 2
    for lam, root in ((sm ** 2, rho), (sL ** 2, -rho)):
        char = r ** 2 - (1 + beta - eta * lam) * r + beta
        assert is_zero(char.subs(r, root)) and is_zero(sp.diff(char, r).subs(r, root))


def check_adagrad_sum_bound():
    """thm-regret: Σ_t a_t/√(Σ_{s≤t} a_s) ≤ 2√(Σ_t a_t) for a_t ≥ 0 (the step that turns the
    adaptive-OGD bound into Duchi et al.'s), checked by its induction step
    a/√(S+a) ≤ 2√(S+a) − 2√S."""
    S, a = sp.symbols("S a", positive=True)
    gap = 2 * sp.sqrt(S + a) - 2 * sp.sqrt(S) - a / sp.sqrt(S + a)
    # multiply by √(S+a) > 0: 2(S+a) − 2√(S(S+a)) − a = (S+a) + S − 2√(S(S+a)) = (√(S+a) − √S)² ≥ 0
    assert is_zero(gap * sp.sqrt(S + a) - (sp.sqrt(S + a) - sp.sqrt(S)) ** 2)


def check_reddi_counterexample_optimum():
    """thm-reddi: over one period of three rounds, Σ f_t(x) = Cx − 2x = (C − 2)x, minimised on
    [−1, 1] at x = −1 for C > 2; Adam's drift to +1 costs 2(C−2) per period."""
    x, C = sp.symbols("x C", real=True)
    period = C * x - x - x
    assert is_zero(period - (C - 2) * x)
    assert is_zero(period.subs(x, 1) - period.subs(x, -1) - 2 * (C - 2))


def check_sgd_one_over_t_recursion():
    """thm-sgd: with η_t = 1/(μt), e_{t+1} ≤ (1 − 2/t)e_t + G²/(μ²t²) and e_t ≤ 4G²/(μ²t)
    are consistent: (1 − 2/t)·4c/t + c/t² ≤ 4c/(t+1) for t ≥ 2 (c = G²/μ²)."""
    t, c = sp.symbols("t c", positive=True)
    lhs = (1 - 2 / t) * 4 * c / t + c / t ** 2
    gap = sp.together(4 * c / (t + 1) - lhs)
    num, den = sp.fraction(gap)
    # numerator = c(3t + 7)... positive for t > 0
    assert is_zero(num - c * (3 * t + 7)) or sp.simplify(num / c).is_positive
    assert sp.simplify(gap.subs({t: 2, c: 1})) > 0
