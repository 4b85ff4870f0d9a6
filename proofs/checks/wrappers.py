"""Exact checks for the wrapper pages: gradient transforms, parameter averaging, Lookahead.

Where the rule's arithmetic allows it, a check also runs refopt's own code on :mod:`_symbolic`
values (masked decay, Lookahead, L-BFGS's two-loop recursion), with dyadic hyperparameters so
every float operation inside is exact; the rest derive the page's algebra in SymPy.
"""

import contextlib

import sympy as sp
from _symbolic import Sym, exact
from _util import is_zero, wrong

import refopt
from refopt import tree, treemath
from refopt.optim.lbfgs import two_loop

c, eps, n = sp.symbols("c epsilon n", positive=True)
beta, alpha, eta, lam = sp.symbols("beta alpha eta lambda", positive=True)


@wrong(no_eps_below=dict(slack=lambda c, eps, n: c * eps / n))
def check_global_norm_clip_bound(slack=lambda c, eps, n: c * eps / (n + eps)):
    """rule-gradient-transforms: when ‖g‖ + ε > c the clipped norm is c‖g‖/(‖g‖ + ε), and
    c − c‖g‖/(‖g‖ + ε) = cε/(‖g‖ + ε) ≥ 0, = 0 exactly when ε = 0; the direction is unchanged."""
    clipped_norm = (c / (n + eps)) * n          # ‖α g‖ = α‖g‖ for α > 0
    gap = sp.simplify(c - clipped_norm)
    assert is_zero(gap - slack(c, eps, n))
    assert gap.subs(eps, 0) == 0
    g = sp.Matrix(sp.symbols("g1:4"))
    assert is_zero((g * (c / (n + eps))).cross(g).norm())   # parallel to g


@wrong(off_by_one=dict(denominator=lambda m: m - 1))
def check_centralization_is_an_orthogonal_projection(denominator=lambda m: m):
    """rule-gradient-transforms: P = I − 𝟙𝟙ᵀ/m is symmetric and idempotent with P𝟙 = 0, so
    ‖Pg‖ ≤ ‖g‖ and Pg ⟂ 𝟙 (checked for a row of m = 4 symbolic entries)."""
    m = 4
    one = sp.ones(m, 1)
    P = sp.eye(m) - one * one.T / denominator(m)
    assert P == P.T and P * P == P and P * one == sp.zeros(m, 1)
    g = sp.Matrix(sp.symbols("g1:5"))
    assert is_zero((g.T * g)[0] - ((P * g).T * (P * g))[0] - ((g.T * one)[0]) ** 2 / m)


@wrong(no_lr=dict(decayed=lambda th, u, m: (th - eta * u) - m * lam * th))
def check_masked_decoupled_decay(decayed=lambda th, u, m: (th - eta * u) - m * eta * lam * th):
    """rule-gradient-transforms: masked decoupled decay gives θ' − mηλθ: m = 1 is AdamW's
    θ(1 − ηλ) − ηu, m = 0 the rule's own step; refopt's wrapper, run on symbolic θ and u, gives
    the claim at η = 1/4, λ = 1/2."""
    th, u, m = sp.symbols("theta u m")
    wrapped = decayed(th, u, m)
    assert is_zero(wrapped.subs(m, 1) - (th * (1 - eta * lam) - eta * u))
    assert is_zero(wrapped.subs(m, 0) - (th - eta * u))
    # refopt's masked_weight_decay around SGD (η = 1/4, λ = 1/2) on a masked and an unmasked leaf
    a, b, ua, ub = sp.symbols("a b u_a u_b")
    rule = refopt.masked_weight_decay(refopt.sgd(lr=0.25), 0.5, {"a": True, "b": False}, lr=0.25)
    params = {"a": Sym(a), "b": Sym(b)}
    new, _ = rule.update({"a": Sym(ua), "b": Sym(ub)}, rule.init(params), params)
    at = {eta: sp.Rational(1, 4), lam: sp.Rational(1, 2)}
    assert is_zero(new["a"].e - decayed(a, ua, 1).subs(at))
    assert is_zero(new["b"].e - decayed(b, ub, 0).subs(at))


@wrong(not_debiased=dict(weight=lambda t: 1 - beta))
def check_recursive_average_is_debiased_ema(weight=lambda t: (1 - beta) / (1 - beta ** t)):
    """rule-parameter-averaging: θ̄_t = θ̄_{t−1} + c_t(θ_t − θ̄_{t−1}), c_t = (1−β)/(1−β^t),
    θ̄_0 = 0 equals m_t/(1 − β^t), m_t = βm_{t−1} + (1−β)θ_t; with c_t = 1/t it is the mean."""
    thetas = sp.symbols("theta1:6")
    avg = ema = mean = 0
    for t, th in enumerate(thetas, start=1):
        avg = avg + weight(t) * (th - avg)
        ema = beta * ema + (1 - beta) * th
        assert is_zero(sp.factor(avg - ema / (1 - beta ** t)))
        mean = mean + (th - mean) / t
        assert is_zero(mean - sum(thetas[:t]) / t)


@wrong(no_slow_weight=dict(factor=lambda alpha, rho, k: alpha * rho ** k))
def check_lookahead_on_a_quadratic(factor=lambda alpha, rho, k: 1 - alpha + alpha * rho ** k):
    """rule-lookahead: SGD on ℓ = λθ²/2 with k fast steps multiplies θ by ρ = 1 − ηλ each; one
    outer step multiplies φ by 1 − α + αρ^k (k = 3); α = 1 is k plain steps, α = 0 freezes φ.
    refopt's lookahead around SGD, run on a symbolic φ, gives the claim at η = 1/4, λ = 1/2,
    α = 3/4."""
    phi = sp.symbols("phi")
    rho = 1 - eta * lam
    k = 3
    theta = phi
    for _ in range(k):
        theta = theta - eta * lam * theta
    new_phi = phi + alpha * (theta - phi)
    assert is_zero(new_phi - factor(alpha, rho, k) * phi)
    assert is_zero(new_phi.subs(alpha, 1) - rho ** k * phi)
    assert new_phi.subs(alpha, 0) == phi
    # refopt's lookahead(sgd) on λθ²/2 with η = 1/4, λ = 1/2, α = 3/4: φ after one sync
    rule = refopt.lookahead(refopt.sgd(lr=0.25), sync_period=k, slow_step_size=0.75)
    x = Sym(phi)
    state = rule.init(x)
    for _ in range(k):
        x, state = rule.update(Sym(sp.Rational(1, 2) * x.e), state, x)
    at = {eta: sp.Rational(1, 4), lam: sp.Rational(1, 2)}
    expected = factor(sp.Rational(3, 4), rho.subs(at), k) * phi
    assert is_zero(state.slow.e - expected) and is_zero(x.e - expected)   # fast weights reset to φ


@wrong(one_more=dict(c_of=lambda t: sp.Rational(1, t + 1)))
def check_schedule_free_constant_lr_weights_are_uniform(c_of=lambda t: sp.Rational(1, t)):
    """rule-schedule-free: with constant η, w_t = η^p and c_t = η^p/(tη^p) = 1/t, so x_{T+1} is
    the mean of z_2, …, z_{T+1} (checked for T = 4 with symbolic z's and p)."""
    p = sp.symbols("p", positive=True)
    zs = sp.symbols("z2:6")
    x, total = sp.Symbol("x1"), 0
    for t, z in enumerate(zs, start=1):
        total += eta ** p
        c_t = sp.simplify(eta ** p / total)
        assert is_zero(c_t - c_of(t))
        x = x + c_t * (z - x)
        assert is_zero(x - sum(zs[:t]) / t)


@wrong(swapped=dict(y_of=lambda x1, z1, b: b * z1 + (1 - b) * x1))
def check_schedule_free_is_primal_averaging_and_sgd_with_averaging(
        y_of=lambda x1, z1, b: b * x1 + (1 - b) * z1):
    """rule-schedule-free: one full step with symbolic gradient g at y: z' = z − ηg,
    x' = x + c(z' − x), y' = z' + b(x' − z'); b = 1 gives y' = x' (gradients at the average:
    primal averaging), b = 0 gives y' = z' (the base rule on z)."""
    x, z, g, cc, b = sp.symbols("x z g c b")
    z1 = z - eta * g
    x1 = x + cc * (z1 - x)
    y1 = z1 + b * (x1 - z1)
    assert is_zero(y1 - y_of(x1, z1, b))
    assert is_zero(y1.subs(b, 1) - ((1 - cc) * x + cc * (z - eta * g)))
    assert is_zero(y1.subs(b, 0) - z1)


@wrong(unnormalised=dict(perturbation=lambda g, size, rho: rho * g))
def check_sam_first_order_objective(perturbation=lambda g, size, rho: rho * g / size):
    """rule-sam: ε* = ρg/‖g‖ maximises the linearisation ℓ + ⟨g, ε⟩ over ‖ε‖ ≤ ρ (Cauchy–
    Schwarz: ⟨g, ε⟩ ≤ ‖g‖ρ, attained at ε*); on ℓ = ½θᵀHθ the SAM gradient is H(θ + ε*) =
    g + ρHg/‖g‖ (2-d, symbolic H and θ)."""
    g1, g2, rho = sp.symbols("g1 g2 rho", positive=True)
    g = sp.Matrix([g1, g2])
    size = sp.sqrt(g1 ** 2 + g2 ** 2)
    eps_star = perturbation(g, size, rho)
    assert is_zero(eps_star.norm() - rho)
    assert is_zero((g.T * eps_star)[0] - rho * size)        # attains ‖g‖ρ, the Cauchy–Schwarz bound
    a, b, d, t1, t2 = sp.symbols("a b d t1 t2")
    H = sp.Matrix([[a, b], [b, d]])
    theta = sp.Matrix([t1, t2])
    grad = H * theta
    n = sp.sqrt(grad[0] ** 2 + grad[1] ** 2)
    sam_grad = H * (theta + rho * grad / n)
    assert is_zero((sam_grad - (grad + rho * H * grad / n)).norm())


def _two_loop(g, pairs, gamma):
    """The two-loop recursion as written on the page (newest to oldest, then back)."""
    q, alphas = g, []
    for s, y in reversed(pairs):
        a = (s.T * q)[0] / (s.T * y)[0]
        q = q - a * y
        alphas.append(a)
    r = gamma * q
    for (s, y), a in zip(pairs, reversed(alphas)):
        b = (y.T * r)[0] / (s.T * y)[0]
        r = r + (a - b) * s
    return r


@contextlib.contextmanager
def _symbolic_vdot():
    """refopt's ``treemath.vdot`` returns a Python float; on :mod:`_symbolic` leaves the code's
    two-loop recursion needs the exact sum ⟨a, b⟩ instead (the only change)."""
    real = treemath.vdot
    treemath.vdot = lambda a, b: sum(exact(x) * exact(y) for x, y in zip(tree.leaves(a), tree.leaves(b)))
    try:
        yield
    finally:
        treemath.vdot = real


def _code_two_loop(g, pairs, gamma):
    """refopt's ``two_loop`` on SymPy column vectors (as lists of :mod:`_symbolic` leaves)."""
    def leaves(v):
        return [Sym(e) for e in v]
    code_pairs = tuple((leaves(s), leaves(y), 1 / (s.T * y)[0]) for s, y in pairs)
    with _symbolic_vdot():
        return sp.Matrix([exact(e) for e in two_loop(leaves(g), code_pairs, Sym(gamma))])


def _bfgs_inverse(pairs, gamma, n):
    H = gamma * sp.eye(n)
    for s, y in pairs:
        rho = 1 / (s.T * y)[0]
        V = sp.eye(n) - rho * y * s.T
        H = V.T * H * V + rho * s * s.T
    return H


@wrong(initial_only=dict(inverse=lambda pairs, gamma, n: gamma * sp.eye(n)))
def check_two_loop_is_the_limited_memory_bfgs_product(inverse=_bfgs_inverse):
    """rule-lbfgs: the two-loop recursion returns H g with H the BFGS inverse update of γI by the
    stored pairs: fully symbolic for one pair in 2-d, and with symbolic g, γ and two fixed
    rational pairs in 3-d — the page's recursion and refopt's ``two_loop`` (run on symbols)."""
    s1, s2, y1, y2, g1, g2, gam = sp.symbols("s1 s2 y1 y2 g1 g2 gamma")
    pair = (sp.Matrix([s1, s2]), sp.Matrix([y1, y2]))
    g = sp.Matrix([g1, g2])
    for recursion in (_two_loop, _code_two_loop):
        assert is_zero((recursion(g, [pair], gam) - inverse([pair], gam, 2) * g).norm() ** 2)
    R = sp.Rational
    pairs = [(sp.Matrix([1, R(1, 2), -1]), sp.Matrix([2, 1, R(-1, 3)])),
             (sp.Matrix([R(1, 4), -1, 2]), sp.Matrix([1, -3, R(5, 2)]))]
    g = sp.Matrix(sp.symbols("h1:4"))
    for recursion in (_two_loop, _code_two_loop):
        diff = recursion(g, pairs, gam) - inverse(pairs, gam, 3) * g
        assert all(is_zero(e) for e in diff)


@wrong(maps_to_y=dict(image=lambda s, y: y))
def check_lbfgs_secant_condition(image=lambda s, y: s):
    """rule-lbfgs: the newest pair's update gives H y = s for any symmetric H before it
    (2-d, all symbolic), and H stays symmetric; refopt's ``two_loop`` (run on symbols) maps y to
    the same image."""
    s = sp.Matrix(sp.symbols("s1 s2"))
    y = sp.Matrix(sp.symbols("y1 y2"))
    a, b, d = sp.symbols("a b d")
    H0 = sp.Matrix([[a, b], [b, d]])
    rho = 1 / (s.T * y)[0]
    V = sp.eye(2) - rho * y * s.T
    H = V.T * H0 * V + rho * s * s.T
    assert all(is_zero(e) for e in H * y - image(s, y))
    assert all(is_zero(e) for e in H - H.T)
    # refopt's two_loop with that one pair and H0 = γI returns exactly the claimed image of y
    assert all(is_zero(e) for e in _code_two_loop(y, [(s, y)], sp.Symbol("gamma")) - image(s, y))


@wrong(minus_b=dict(step=lambda h, a, b, d1, d2: h - h * ((d2 - b - a) / (d2 - d1 - 2 * b))))
def check_cubic_interpolation_step(step=lambda h, a, b, d1, d2: h - h * ((d2 + b - a) / (d2 - d1 + 2 * b))):
    """rule-lbfgs: the zoom step t = t2 − (t2 − t1)(d2 + b − a)/(d2 − d1 + 2b), a = d1 + d2 −
    3(f1 − f2)/(t1 − t2), b = √(a² − d1d2), is a stationary point of the Hermite cubic through
    (t1, f1, d1), (t2, f2, d2) (t1 = 0 < t2 = h, everything else symbolic; checked by
    substituting into the cubic's derivative at rational sample values and symbolically)."""
    h, f1, f2, d1, d2, tt = sp.symbols("h f1 f2 d1 d2 t", real=True)
    # Hermite cubic on [0, h]: p(0) = f1, p'(0) = d1, p(h) = f2, p'(h) = d2
    c2 = (3 * (f2 - f1) / h - 2 * d1 - d2) / h
    c3 = (d1 + d2 - 2 * (f2 - f1) / h) / h ** 2
    cubic = f1 + d1 * tt + c2 * tt ** 2 + c3 * tt ** 3
    assert is_zero(cubic.subs(tt, h) - f2) and is_zero(sp.diff(cubic, tt).subs(tt, h) - d2)
    a = d1 + d2 - 3 * (f1 - f2) / (0 - h)
    b = sp.sqrt(a ** 2 - d1 * d2)
    t_star = step(h, a, b, d1, d2)
    slope = sp.diff(cubic, tt).subs(tt, t_star)
    R = sp.Rational
    for vals in ({h: 2, f1: 0, f2: 2, d1: -3, d2: 9}, {h: R(1, 2), f1: 1, f2: R(3, 4), d1: -2, d2: 1}):
        assert is_zero(slope.subs(vals))
        assert sp.diff(cubic, tt, 2).subs(tt, t_star).subs(vals) > 0   # a minimiser
    assert is_zero(sp.numer(sp.together(sp.expand(slope))).subs(b ** 2, a ** 2 - d1 * d2))


@wrong(plus=dict(sign=1))
def check_prodigy_estimate_decomposition(sign=-1):
    """rule-prodigy: Σ_k w_k⟨g_k, θ_0 − θ_k⟩ = ⟨Σ_k w_k g_k, θ_0 − θ*⟩ − Σ_k w_k⟨g_k, θ_k − θ*⟩
    (two steps in 2-d, all symbolic), the identity behind d̂ ≤ ‖θ_0 − θ*‖_∞ for convex ℓ."""
    w = sp.symbols("w1:3", positive=True)
    g = [sp.Matrix(sp.symbols(f"g{k}_1:3")) for k in range(2)]
    th = [sp.Matrix(sp.symbols(f"x{k}_1:3")) for k in range(2)]
    th0, star = sp.Matrix(sp.symbols("a1:3")), sp.Matrix(sp.symbols("b1:3"))
    lhs = sum(w[k] * (g[k].T * (th0 - th[k]))[0] for k in range(2))
    total = sum((w[k] * g[k] for k in range(2)), sp.zeros(2, 1))
    rhs = (total.T * (th0 - star))[0] + sign * sum(w[k] * (g[k].T * (th[k] - star))[0] for k in range(2))
    assert is_zero(lhs - rhs)
