"""Checks for the algebraic and inequality steps of the theorem pages (proofs/theorems/*.md).

Each step is derived here (not typed as its answer) and compared with the page's claim; the
claims are keyword arguments with wrong variants registered for tests/test_proofs.py.
"""

import sympy as sp
from _util import is_zero, wrong

HALF = sp.Rational(1, 2)


@wrong(no_half=dict(decrease=lambda L, G: -G / L), best_step_2_over_L=dict(best=lambda L: 2 / L))
def check_descent_lemma_with_step_one_over_L(decrease=lambda L, G: -G / (2 * L),
                                             best=lambda L: 1 / L):
    """thm-gd: the descent lemma ℓ(θ − η∇ℓ) ≤ ℓ(θ) − ηG + (L/2)η²G (G = ‖∇ℓ‖²) is minimised over
    η at η = 1/L, where the guaranteed decrease is −G/(2L)."""
    L, G, eta = sp.symbols("L G eta", positive=True)
    bound = -eta * G + L / 2 * eta ** 2 * G
    (eta_star,) = sp.solve(sp.diff(bound, eta), eta)
    assert is_zero(eta_star - best(L))
    assert is_zero(bound.subs(eta, eta_star) - decrease(L, G))


@wrong(kappa_over=dict(q=lambda k: (k - 1) / k), not_squared=dict(q=lambda k: sp.sqrt((k - 1) / (k + 1))))
def check_gd_strongly_convex_contraction_factor(q=lambda k: (k - 1) / (k + 1)):
    """thm-gd: co-coercivity of a μ-strongly convex L-smooth ℓ (Nesterov 2004, Thm 2.1.12),
    ⟨D, d⟩ ≥ μL/(μ+L) r² + 1/(μ+L) ‖D‖² (d = x − y, D = ∇ℓ(x) − ∇ℓ(y), r = ‖d‖), bounds
    ‖d − ηD‖² = r² − 2η⟨D, d⟩ + η²‖D‖² by (1 − 2ημL/(μ+L)) r² + η(η − 2/(μ+L))‖D‖²; at
    η = 2/(μ+L) the second term vanishes and the factor is ((κ−1)/(κ+1))², κ = L/μ."""
    L, mu, r2, D2, eta = sp.symbols("L mu r2 D2 eta", positive=True)
    inner_lower = mu * L / (mu + L) * r2 + D2 / (mu + L)
    upper = r2 - 2 * eta * inner_lower + eta ** 2 * D2      # ⟨D,d⟩ enters with −2η < 0
    at = sp.expand(upper.subs(eta, 2 / (mu + L)))
    assert is_zero(at.coeff(D2))
    assert is_zero(at.coeff(r2) - q(L / mu) ** 2)


@wrong(rho_not_squared=dict(beta_of=lambda rho: rho),
       sum_step=dict(eta_of=lambda sL, sm: 4 / (sL ** 2 + sm ** 2)))
def check_polyak_heavy_ball_double_root(beta_of=lambda rho: rho ** 2,
                                        eta_of=lambda sL, sm: 4 / (sL + sm) ** 2):
    """thm-heavy-ball: with η = 4/(√L+√μ)², β = ρ², ρ = (√L−√μ)/(√L+√μ): ημ = (1−√β)² and
    ηL = (1+√β)² (the ends of the complex-root band), and the characteristic polynomial
    r² − (1+β−ηλ)r + β has a double root ±ρ at λ = μ and λ = L."""
    sm, dd, r = sp.symbols("smu d r", positive=True)
    sL = sm + dd                                   # √L > √μ
    rho = (sL - sm) / (sL + sm)
    eta, beta = eta_of(sL, sm), beta_of(rho)
    assert is_zero(eta * sm ** 2 - (1 - sp.sqrt(beta)) ** 2)
    assert is_zero(eta * sL ** 2 - (1 + sp.sqrt(beta)) ** 2)
    for lam, root in ((sm ** 2, rho), (sL ** 2, -rho)):
        char = r ** 2 - (1 + beta - eta * lam) * r + beta
        assert is_zero(char.subs(r, root)) and is_zero(sp.diff(char, r).subs(r, root))


@wrong(constant_one=dict(C=1), constant_three_halves=dict(C=sp.Rational(3, 2)))
def check_adagrad_sum_bound(C=2):
    """thm-regret: Σ_t a_t/√(Σ_{s≤t} a_s) ≤ C√(Σ_t a_t) with C = 2, for a_t ≥ 0, by induction:
    the step a/√(S+a) ≤ C√(S+a) − C√S holds for all S, a > 0 iff C ≥ 2 — at C = 2 the gap times
    √(S+a) is the square (√(S+a) − √S)², and as S → ∞ with a fixed the gap/(a/√S) → C/2 − 1."""
    S, a = sp.symbols("S a", positive=True)
    gap = C * sp.sqrt(S + a) - C * sp.sqrt(S) - a / sp.sqrt(S + a)
    assert sp.limit(gap * sp.sqrt(S) / a, S, sp.oo) >= 0
    if C == 2:
        assert is_zero(gap * sp.sqrt(S + a) - (sp.sqrt(S + a) - sp.sqrt(S)) ** 2)
    assert gap.subs({S: 1, a: 3}) >= 0


@wrong(cost_half=dict(cost=lambda C: C - 2), optimum_plus=dict(optimum=1))
def check_reddi_counterexample_optimum(optimum=-1, cost=lambda C: 2 * (C - 2)):
    """thm-reddi: over one period of three rounds (f = Cx, −x, −x), Σ f_t(x) = (C − 2)x is
    minimised on [−1, 1] at x = −1 for C > 2; sitting at +1 instead costs 2(C − 2) per period."""
    x = sp.Symbol("x", real=True)
    C = sp.Symbol("C", positive=True)
    period = C * x - x - x
    Cv = sp.Integer(3)                       # any C > 2: the slope C − 2 is positive
    best = min((-1, 1), key=lambda v: period.subs({C: Cv, x: v}))
    assert best == optimum
    assert is_zero(period.subs(x, 1) - period.subs(x, -1) - cost(C))


@wrong(constant_one=dict(const=1), constant_two=dict(const=2))
def check_sgd_one_over_t_recursion(const=4):
    """thm-sgd: e_t ≤ const·G²/(μ²t) for all t ≥ 1 with const = 4. Base t = 1: μ/2·e ≤ F(w) − F*
    ≤ G√e (strong convexity; ‖∇F‖ ≤ G) gives √e_1 ≤ 2G/μ, i.e. e_1 ≤ 4G²/μ² (derived below by
    solving the inequality). Base t = 2: 1 − 2/1 < 0 so e_2 ≤ G²/μ² ≤ const·G²/(2μ²). Induction
    for t ≥ 2: (1 − 2/t)·const/t + 1/t² ≤ const/(t+1), numerator (const−1)t + 2const − 1 ≥ 0."""
    t, G, mu, r = sp.symbols("t G mu r", positive=True)
    (root,) = [s for s in sp.solve(mu / 2 * r ** 2 - G * r, r) if s != 0]   # largest √e allowed
    e1_bound = sp.simplify(root ** 2 * mu ** 2 / G ** 2)                     # in units of G²/μ²
    assert e1_bound <= const                                                 # t = 1
    contraction_t1 = 1 - sp.Integer(2) / 1     # the recursion's factor 1 − 2/t at t = 1
    assert contraction_t1 <= 0                 # so (1 − 2/1)e_1 ≤ 0 whatever e_1 ≥ 0 is
    e2_bound = 1                               # what remains: η_1²G² = G²/μ²
    assert e2_bound <= sp.Rational(const, 2)                                # t = 2
    gap = sp.together(const / (t + 1) - ((1 - 2 / t) * const / t + 1 / t ** 2))
    num, den = sp.fraction(gap)
    num = sp.Poly(sp.expand(num), t)
    assert all(c >= 0 for c in num.all_coeffs()) and num.eval(2) > 0     # t ≥ 2 ⇒ num > 0


@wrong(factor_L=dict(half=1), minus=dict(sign=-1))
def check_gd_convex_three_point_identity(half=HALF, sign=1):
    """thm-gd: ⟨g, d⟩ − ‖g‖²/(2L) = (L/2)(‖d‖² − ‖d − g/L‖²), componentwise in R³."""
    L = sp.Symbol("L", positive=True)
    g = sp.Matrix(sp.symbols("g0:3", real=True))
    d = sp.Matrix(sp.symbols("d0:3", real=True))
    lhs = g.dot(d) - g.dot(g) / (2 * L)
    e = d - g / L
    rhs = half * L * (d.dot(d) - sign * e.dot(e))
    assert is_zero(lhs - rhs)


@wrong(half_rate=dict(rate=lambda mu, L: 1 - mu / (2 * L)), pl_constant_mu=dict(pl=lambda mu: mu))
def check_pl_inequality_and_linear_rate(rate=lambda mu, L: 1 - mu / L, pl=lambda mu: 2 * mu):
    """thm-gd: min_y ⟨g, y−x⟩ + (μ/2)‖y−x‖² = −‖g‖²/(2μ) (so ‖g‖² ≥ 2μ(ℓ − ℓ*), the PL
    inequality), and the descent lemma E − G/(2L) with G ≥ 2μE gives E(1 − μ/L)."""
    mu, L, E = sp.symbols("mu L E", positive=True)
    g = sp.Matrix(sp.symbols("g0:2", real=True))
    y = sp.Matrix(sp.symbols("y0:2", real=True))     # y − x
    q = g.dot(y) + mu / 2 * y.dot(y)
    sol = sp.solve([sp.diff(q, v) for v in y], list(y), dict=True)[0]
    qmin = sp.simplify(q.subs(sol))
    assert is_zero(qmin + g.dot(g) / (2 * mu))
    # ℓ* ≥ ℓ + qmin, i.e. E = ℓ − ℓ* ≤ ‖g‖²/(2μ): the smallest ‖g‖² compatible with E
    Gs = sp.Symbol("G", positive=True)
    (Gmin,) = sp.solve(sp.Eq(E, Gs / (2 * mu)), Gs)
    assert is_zero(Gmin - pl(mu) * E)
    G = pl(mu) * E                                     # the smallest ‖g‖² allowed
    assert is_zero((E - G / (2 * L)) - rate(mu, L) * E)


@wrong(mu_plus_L_missing=dict(coef=lambda mu, L: 1 / L))
def check_cocoercivity_rearrangement(coef=lambda mu, L: 1 / (mu + L)):
    """thm-gd: (L−μ)·[⟨D−μd, d⟩ − ‖D−μd‖²/(L−μ)] = (L+μ)[⟨D,d⟩ − μL/(μ+L)‖d‖² − ‖D‖²/(μ+L)], so
    co-coercivity of φ = ℓ − μ‖·‖²/2 is the stated inequality for ℓ (scalars: I = ⟨D,d⟩,
    r2 = ‖d‖², D2 = ‖D‖²)."""
    mu, L, I, r2, D2 = sp.symbols("mu L I r2 D2", positive=True)
    phi_form = (L - mu) * ((I - mu * r2) - (D2 - 2 * mu * I + mu ** 2 * r2) / (L - mu))
    claim = (L + mu) * (I - mu * L / (mu + L) * r2 - coef(mu, L) * D2)
    assert is_zero(phi_form - claim)


@wrong(no_half=dict(half=1))
def check_nesterov_gradient_step_inequality(half=HALF):
    """thm-nesterov: ⟨g, y−z⟩ − (s/2)‖g‖² = (1/(2s))(‖y−z‖² − ‖y − z − s g‖²), in R³."""
    s = sp.Symbol("s", positive=True)
    g = sp.Matrix(sp.symbols("g0:3", real=True))
    w = sp.Matrix(sp.symbols("w0:3", real=True))         # w = y − z
    e = w - s * g
    assert is_zero(g.dot(w) - half * s * g.dot(g) - (w.dot(w) - e.dot(e)) / (2 * s))


@wrong(momentum_k_over_k3=dict(momentum=lambda k: k / (k + 3)),
       t_k_plus_two=dict(t=lambda k: (k + 2) / 2))
def check_nesterov_lyapunov_algebra(momentum=lambda k: (k - 1) / (k + 2), t=lambda k: (k + 1) / 2):
    """thm-nesterov: with t_k = (k+1)/2, v_k = x_{k−1} + t_k(x_k − x_{k−1}), ϑ = 1/t_{k+1},
    z = (1−ϑ)x_k + ϑx*, and y_k = x_k + momentum_k (x_k − x_{k−1}): y_k − z = ϑ(v_k − x*),
    x_{k+1} − z = ϑ(v_{k+1} − x*), t_1 = 1, t_{k+1}² − t_{k+1} ≤ t_k², 1/(2t_k²) = 2/(k+1)²."""
    k = sp.Symbol("k", positive=True)
    xm, x, xp, xs = sp.symbols("x_prev x_k x_next x_star", real=True)
    tk, tk1 = t(k), t(k + 1)
    th = 1 / tk1
    z = (1 - th) * x + th * xs
    v_k = xm + tk * (x - xm)
    v_k1 = x + tk1 * (xp - x)
    y_k = x + momentum(k) * (x - xm)
    assert is_zero(y_k - z - th * (v_k - xs))
    assert is_zero(xp - z - th * (v_k1 - xs))
    assert t(sp.Integer(1)) == 1
    gap = sp.simplify(tk ** 2 - (tk1 ** 2 - tk1))
    assert gap.is_nonnegative
    assert is_zero(1 / (2 * tk ** 2) - 2 / (k + 1) ** 2)


@wrong(eta_D=dict(eta_best=lambda D: D), sqrt_T_sum_3=dict(sum_const=3))
def check_regret_constants(eta_best=lambda D: D / sp.sqrt(2), sum_const=2):
    """thm-regret: D²/(2η) + η is minimised at η = D/√2 with value √2·D; Σ_{t≤T} 1/√t ≤ 2√T by the
    induction step 1/√(T+1) ≤ 2√(T+1) − 2√T (equality of the gap·√(T+1) with a square), base
    T = 1: 1 ≤ 2; and (1/2)·2αG/√(1−β2) = αG/√(1−β2), AMSGrad's second constant."""
    D, eta, T = sp.symbols("D eta T", positive=True)
    f = D ** 2 / (2 * eta) + eta
    (best,) = sp.solve(sp.diff(f, eta), eta)
    assert is_zero(best - eta_best(D))
    assert is_zero(f.subs(eta, best) - sp.sqrt(2) * D)
    gap = sum_const * sp.sqrt(T + 1) - sum_const * sp.sqrt(T) - 1 / sp.sqrt(T + 1)
    assert is_zero(gap * sp.sqrt(T + 1) - (sp.sqrt(T + 1) - sp.sqrt(T)) ** 2)
    assert 1 <= sum_const * 1


@wrong(beta2_one_over_c=dict(beta2=lambda C: 1 / (1 + C)), threshold_one=dict(t_from=1))
def check_reddi_upward_drift(beta2=lambda C: 1 / (1 + C ** 2), t_from=3):
    """thm-reddi: with 1 − β2 = C²/(1+C²): the down step ≤ α_t √(1+C²)/C; v ≤ β2C² + (1−β2) =
    2C²/(1+C²) on both −1 rounds (2β2 ≤ 1 for C > 2); the two up steps ≥ α_{t+2}√((1+C²)/(2C²))
    each; and 2·(1/√(t+2))·√((1+C²)/(2C²)) > √(1+C²)/(C√t) for every integer t ≥ t_from = 3."""
    C = sp.Symbol("C", positive=True)
    b2 = beta2(C)
    down = C / sp.sqrt((1 - b2) * C ** 2)                 # per unit α_t
    assert is_zero(down - sp.sqrt(1 + C ** 2) / C)
    vmax = b2 * C ** 2 + (1 - b2)
    assert is_zero(vmax - 2 * C ** 2 / (1 + C ** 2))
    assert sp.simplify(1 - 2 * b2.subs(C, 2)) >= 0       # 2β2 ≤ 1 already at C = 2
    t = sp.Symbol("t", positive=True)
    up = 2 / sp.sqrt(t + 2) / sp.sqrt(vmax)
    # up > down/√t ⟺ (squared, both positive) 4·(1+C²)/(2C²(t+2)) > (1+C²)/(C² t) ⟺ 2t > t + 2
    ratio = sp.simplify((up ** 2) / ((down / sp.sqrt(t)) ** 2))
    assert is_zero(ratio - 2 * t / (t + 2))
    assert all(ratio.subs(t, tv) > 1 for tv in range(t_from, t_from + 50))
