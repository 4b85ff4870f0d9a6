"""Exact checks for the layer-wise and matrix rules' pages (LAMB, LARS, Adafactor, SM3, Muon)."""

import sympy as sp
from _util import is_zero, wrong

eta, c = sp.symbols("eta c", positive=True)
CUBIC = (sp.Rational(3, 2), -sp.Rational(1, 2), 0)                          # Newton–Schulz
QUINTIC = (sp.Rational(15, 8), -sp.Rational(5, 4), sp.Rational(3, 8))
JORDAN_SLOPE, JORDAN_AT_ONE = sp.Rational(34445, 10000), sp.Rational(701, 1000)


def _norm(x):
    return sp.sqrt(sum(a**2 for a in x))


def _trust_step(theta, u):
    """η ‖θ‖/‖u‖ · u: the trust-ratio step of LAMB and LARS on one layer."""
    return [eta * _norm(theta) / _norm(u) * a for a in u]


@wrong(no_square=dict(norm_sq=lambda th: eta * sum(t**2 for t in th)),
       unit=dict(norm_sq=lambda th: sum(t**2 for t in th)))
def check_trust_ratio_step_is_relative(norm_sq=lambda th: eta**2 * sum(t**2 for t in th)):
    """rule-lamb: ‖η (‖θ‖/‖u‖) u‖ = η‖θ‖ for every direction u ≠ 0 (here u ∈ ℝ³ symbolic)."""
    theta = sp.symbols("theta1:4", real=True)
    u = sp.symbols("u1:4", real=True)
    step = _trust_step(theta, u)
    assert is_zero(sum(s**2 for s in step) - norm_sq(theta))


@wrong(linear=dict(power=1), inverse=dict(power=-1))
def check_trust_ratio_invariant_to_direction_scale(power=0):
    """rule-lamb: u → c u (c > 0, e.g. one layer's gradient scaled by c under LARS) leaves the
    step unchanged; so the step of a layer does not depend on the scale of its own gradient."""
    theta = sp.symbols("theta1:3", real=True)
    u = sp.symbols("u1:3", positive=True)
    for a, b in zip(_trust_step(theta, [c * x for x in u]), _trust_step(theta, u)):
        assert is_zero(a - c**power * b)


@wrong(invariant=dict(power=0), quadratic=dict(power=2))
def check_trust_ratio_equivariant_to_layer_scale(power=1):
    """rule-lamb: a layer reparametrised θ = c φ moves by c times the step of φ: the relative
    step ‖Δθ‖/‖θ‖ is the same whatever the layer's scale (u unchanged, as for a scale-free
    direction such as m̂/√v̂)."""
    phi = sp.symbols("phi1:3", positive=True)
    u = sp.symbols("u1:3", real=True)
    for a, b in zip(_trust_step([c * x for x in phi], u), _trust_step(phi, u)):
        assert is_zero(a - c**power * b)


@wrong(linear=dict(power=1))
def check_adam_direction_is_invariant_to_gradient_scale(power=0):
    """rule-lamb: with ε = 0, m̂/√v̂ after two steps is unchanged by g → c g (c > 0)."""
    g1, g2, b1, b2 = sp.symbols("g1 g2 beta1 beta2", positive=True)

    def direction(s):
        m = (1 - b1) * (b1 * s * g1 + s * g2) / (1 - b1**2)
        v = (1 - b2) * (b2 * (s * g1) ** 2 + (s * g2) ** 2) / (1 - b2**2)
        return m / sp.sqrt(v)

    assert is_zero(direction(c) - c**power * direction(1))


@wrong(no_two=dict(gap=lambda lam, ng, nt, inner: lam * (ng * nt - inner)),
       plus_inner=dict(gap=lambda lam, ng, nt, inner: 2 * lam * (ng * nt + inner)))
def check_lars_sum_of_norms_bounds_norm_of_sum(gap=lambda lam, ng, nt, inner: 2 * lam * (ng * nt - inner)):
    """rule-lars: (‖g‖ + λ‖θ‖)² − ‖g + λθ‖² = 2λ(‖g‖‖θ‖ − ⟨g, θ⟩), and ‖g‖²‖θ‖² − ⟨g, θ⟩² is
    Lagrange's sum of squares Σ_{i<j} (g_i θ_j − g_j θ_i)² ≥ 0: the paper's denominator is never
    smaller than optax's, so its ratio is never larger (checked in ℝ³)."""
    lam = sp.symbols("lambda", positive=True)
    g = sp.symbols("g1:4", real=True)
    th = sp.symbols("theta1:4", real=True)
    ng, nt = _norm(g), _norm(th)
    inner = sum(a * b for a, b in zip(g, th))
    lhs = (ng + lam * nt) ** 2 - sum((a + lam * b) ** 2 for a, b in zip(g, th))
    assert is_zero(lhs - gap(lam, ng, nt, inner))
    lagrange = sum((g[i] * th[j] - g[j] * th[i]) ** 2 for i in range(3) for j in range(i + 1, 3))
    assert is_zero(ng**2 * nt**2 - inner**2 - lagrange)


def _i_divergence(V, Q):
    return sum(v * sp.log(sp.cancel(v / q)) - v + q for v, q in zip(V, Q))


@wrong(unnormalised_columns=dict(col=lambda V, j: sum(V.col(j))))
def check_adafactor_factors_are_a_stationary_point_of_the_i_divergence(
        col=lambda V, j: sum(V.col(j)) / sum(V)):
    """rule-adafactor: for V > 0 (2×3, symbolic), R_i = Σ_j V_ij and S_j = Σ_i V_ij / ΣV make
    every partial derivative of d(V, R Sᵀ) = Σ V log(V/RSᵀ) − V + RSᵀ vanish."""
    V = sp.Matrix(2, 3, sp.symbols("v1:7", positive=True))
    R = sp.symbols("r1:3", positive=True)
    S = sp.symbols("s1:4", positive=True)
    Q = [R[i] * S[j] for i in range(2) for j in range(3)]
    d = _i_divergence(list(V), Q)
    at = {**{R[i]: sum(V.row(i)) for i in range(2)}, **{S[j]: col(V, j) for j in range(3)}}
    for x in (*R, *S):
        assert is_zero(sp.diff(d, x).subs(at))


@wrong(sum_not_mean=dict(normaliser=lambda row_mean: sum(row_mean)))
def check_adafactor_means_form_equals_the_sums_form(
        normaliser=lambda row_mean: sum(row_mean) / len(row_mean)):
    """rule-adafactor: with row/column *means* (as implemented), R̄_i C̄_j / mean(R̄) equals the
    paper's R_i C_j / (1ᵀR) with row/column *sums*, i.e. (row sum)(column sum)/total."""
    V = sp.Matrix(2, 3, sp.symbols("v1:7", positive=True))
    row_mean = [sum(V.row(i)) / 3 for i in range(2)]
    col_mean = [sum(V.col(j)) / 2 for j in range(3)]
    for i in range(2):
        for j in range(3):
            ours = row_mean[i] * col_mean[j] / normaliser(row_mean)
            assert is_zero(ours - sum(V.row(i)) * sum(V.col(j)) / sum(V))


@wrong(no_total=dict(normaliser=lambda V: 1))
def check_adafactor_is_exact_on_rank_one_second_moments(normaliser=sum):
    """rule-adafactor: if V = a bᵀ (rank 1, positive), the factored estimate reproduces V, and
    the I-divergence at the estimate is 0 (its minimum, since d ≥ 0)."""
    a = sp.symbols("a1:3", positive=True)
    b = sp.symbols("b1:4", positive=True)
    V = [a[i] * b[j] for i in range(2) for j in range(3)]
    total = normaliser(V)
    est = [sum(V[3 * i:3 * i + 3]) * sum(V[j::3]) / total for i in range(2) for j in range(3)]
    for v, e in zip(V, est):
        assert is_zero(v - e)
    assert is_zero(_i_divergence(V, est))


def _odd(coeffs, s):
    a, b, c = coeffs
    return a * s + b * s**3 + c * s**5


@wrong(no_quintic=dict(p=lambda a, b, c, s: a * s + b * s**3),
       even=dict(p=lambda a, b, c, s: a * s + b * s**2 + c * s**4))
def check_newton_schulz_step_acts_on_singular_values(p=lambda a, b, c, s: _odd((a, b, c), s)):
    """rule-muon: for X = U diag(σ1, σ2) Vᵀ (U, V exact rational rotations), one step
    aX + (bA + cA²)X with A = XXᵀ equals U diag(p(σ1), p(σ2)) Vᵀ, p(σ) = aσ + bσ³ + cσ⁵."""
    a, b, c = sp.symbols("a b c", real=True)
    s1, s2 = sp.symbols("sigma1 sigma2", positive=True)
    U = sp.Matrix([[sp.Rational(3, 5), -sp.Rational(4, 5)], [sp.Rational(4, 5), sp.Rational(3, 5)]])
    V = sp.Matrix([[sp.Rational(5, 13), -sp.Rational(12, 13)], [sp.Rational(12, 13), sp.Rational(5, 13)]])
    X = U * sp.diag(s1, s2) * V.T
    A = X * X.T
    step = a * X + (b * A + c * A * A) * X
    target = U * sp.diag(p(a, b, c, s1), p(a, b, c, s2)) * V.T
    assert all(is_zero(e) for e in step - target)


@wrong(quintic_off=dict(quintic=QUINTIC[:2] + (sp.Rational(1, 4),)),
       cubic_off=dict(cubic=(CUBIC[0], -sp.Rational(1, 4), 0)))
def check_newton_schulz_polynomials_fix_one(cubic=CUBIC, quintic=QUINTIC):
    """rule-muon: the cubic (3/2, −1/2, 0) has p(1) = 1, p'(1) = 0 and p(σ) − σ = σ(1 − σ²)/2 > 0
    on (0, 1); the quintic (15/8, −5/4, 3/8) has p(1) = 1, p'(1) = p''(1) = 0. Both are odd."""
    s = sp.symbols("sigma", positive=True)
    cubic = _odd(cubic, s)
    quintic = _odd(quintic, s)
    assert cubic.subs(s, 1) == 1 and sp.diff(cubic, s).subs(s, 1) == 0
    assert is_zero(cubic - s - s * (1 - s**2) / 2)
    assert quintic.subs(s, 1) == 1
    assert sp.diff(quintic, s).subs(s, 1) == 0 and sp.diff(quintic, s, 2).subs(s, 1) == 0
    x = sp.symbols("x", real=True)
    for p in (cubic, quintic):
        assert is_zero(p.subs(s, -x) + p.subs(s, x))


@wrong(fixes_one=dict(p_at_one=1), quintic_slope=dict(slope=QUINTIC[0]))
def check_jordan_coefficients_trade_the_fixed_point_for_slope(slope=JORDAN_SLOPE, p_at_one=JORDAN_AT_ONE):
    """rule-muon: Jordan's (3.4445, −4.7750, 2.0315) has slope p'(0) = 3.4445 (quintic NS: 15/8)
    but p(1) = 0.701 ≠ 1: 1 is not a fixed point, so singular values are pushed into a band
    around 1 rather than onto 1."""
    s = sp.symbols("sigma", positive=True)
    jordan = _odd((sp.Rational(34445, 10000), -sp.Rational(4775, 1000), sp.Rational(20315, 10000)), s)
    assert sp.diff(jordan, s).subs(s, 0) == slope
    assert jordan.subs(s, 1) == p_at_one


@wrong(no_floor=dict(floor_of=lambda r, c: 0))
def check_sm3_accumulator_bounds_adagrads(floor_of=min):
    """rule-sm3: the induction step of the bound, exactly, on 300 random rational 3×4 gradient
    sequences of 5 steps: with row/column cover sets, min(μ'_row(i), μ'_col(j)) ≥ γ_{t−1}(i, j)
    (the invariant) and hence ν'_t(i, j) ≥ γ_t(i, j) = Σ_{s≤t} g_s(i, j)² at every step."""
    import random

    rnd = random.Random(11)
    for _ in range(300):
        row, col = [0] * 3, [0] * 4
        gamma = [[0] * 4 for _ in range(3)]
        for _ in range(5):
            g = [[sp.Rational(rnd.randint(-9, 9), rnd.randint(1, 5)) for _ in range(4)] for _ in range(3)]
            floor = [[floor_of(row[i], col[j]) for j in range(4)] for i in range(3)]
            assert all(floor[i][j] >= gamma[i][j] for i in range(3) for j in range(4))
            nu = [[floor[i][j] + g[i][j] ** 2 for j in range(4)] for i in range(3)]
            gamma = [[gamma[i][j] + g[i][j] ** 2 for j in range(4)] for i in range(3)]
            assert all(nu[i][j] >= gamma[i][j] for i in range(3) for j in range(4))
            row = [max(nu[i]) for i in range(3)]
            col = [max(nu[i][j] for i in range(3)) for j in range(4)]


@wrong(no_two=dict(rhs=lambda nt, ng, inner: nt**2 * (1 + eta**2) - eta * nt * inner / ng),
       no_eta_sq=dict(rhs=lambda nt, ng, inner: nt**2 - 2 * eta * nt * inner / ng))
def check_fromage_norm_identity(rhs=lambda nt, ng, inner: nt**2 * (1 + eta**2) - 2 * eta * nt * inner / ng):
    """rule-fromage: ‖θ − η(‖θ‖/‖g‖)g‖² = ‖θ‖²(1 + η²) − 2η‖θ‖⟨θ, g⟩/‖g‖ (in ℝ³), so after
    dividing by √(1+η²) the norm is unchanged exactly when ⟨θ, g⟩ = 0 and shrinks when ⟨θ, g⟩ > 0."""
    th = sp.symbols("theta1:4", real=True)
    g = sp.symbols("g1:4", real=True)
    nt, ng = _norm(th), _norm(g)
    new = [a - eta * nt / ng * b for a, b in zip(th, g)]
    inner = sum(a * b for a, b in zip(th, g))
    assert is_zero(sum(x**2 for x in new) - rhs(nt, ng, inner))
    # the orthogonal case, after the shrink: ‖θ_t‖² = ‖θ_{t−1}‖²
    ortho = sum(x**2 for x in new).subs(th[2], -(th[0] * g[0] + th[1] * g[1]) / g[2])
    nt_o = nt.subs(th[2], -(th[0] * g[0] + th[1] * g[1]) / g[2])
    assert is_zero(ortho / (1 + eta**2) - nt_o**2)
