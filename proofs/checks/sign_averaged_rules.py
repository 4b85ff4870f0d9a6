"""Exact checks for the issue-16 (part B) rule pages: rprop, ademamix, optimistic, asgd, adan,
novograd, ftrl and polyak (proofs/rules/*.md)."""

import sympy as sp
from _util import is_zero, wrong


def _rprop_step(g_prev, g, delta, eta_minus, eta_plus):
    """One Rprop step away from the bounds: (new Δ, move, stored gradient), skip form."""
    s = sp.sign(g_prev * g)
    if s == 0:
        return delta, -sp.sign(g) * delta, g
    if s.is_positive:
        return eta_plus * delta, -sp.sign(g) * eta_plus * delta, g
    return eta_minus * delta, 0, 0


@wrong(proportional=dict(move_scale=lambda c: c), inverse=dict(move_scale=lambda c: 1 / c))
def check_rprop_sign_invariance(move_scale=lambda c: 1):
    """rule-rprop: rescaling g_{t−1}, g_t by any c, c' > 0 leaves Δ_t and the move unchanged,
    for every sign pattern of (g_{t−1}, g_t) (including g = 0)."""
    a, b, c, c2, delta, em = sp.symbols("a b c c2 Delta eta_minus", positive=True)
    ep = 1 + sp.symbols("e", positive=True)
    for gp in (-a, 0, a):
        for g in (-b, 0, b):
            plain = _rprop_step(gp, g, delta, em, ep)
            scaled = _rprop_step(c * gp, c2 * g, delta, em, ep)
            assert is_zero(scaled[0] - plain[0])
            assert is_zero(scaled[1] - move_scale(c2) * plain[1])
            assert sp.sign(plain[2]) == sp.sign(scaled[2])


@wrong(complement=dict(ratio_claim=lambda em: 1 - em), whole_bracket=dict(ratio_claim=lambda em: 1))
def check_rprop_backtrack_stays_in_the_bracket(ratio_claim=lambda em: em):
    """rule-rprop: in 1-D, after a sign flip the backtracked point θ_{t−2} and the next point
    θ_{t+1} = θ_{t−2} + η−Δ_{t−1} (moving toward θ_{t−1} = θ_{t−2} + Δ_{t−1}) satisfy
    (θ_{t+1} − θ_{t−2})/(θ_{t−1} − θ_{t−2}) = η− ∈ (0, 1): θ_{t+1} is strictly inside the bracket."""
    a, delta, em = sp.symbols("a Delta eta_minus", positive=True)
    g_at_a = -1                                 # ℓ decreases to the right of θ_{t−2} = a
    th_prev = a - sp.sign(g_at_a) * delta       # θ_{t−1} = a + Δ, where g flips to > 0
    d_new, move, stored = _rprop_step(g_at_a, 1, delta, em, 1)
    assert move == 0 and stored == 0 and d_new == em * delta   # skip form: no move at the flip
    th_back = th_prev - (th_prev - a)           # backtrack undoes the last move: θ_t = a
    d_next, move_next, _ = _rprop_step(stored, g_at_a, d_new, em, 1)   # g(θ_t) = g(a) < 0
    ratio = sp.simplify((th_back + move_next - a) / (th_prev - a))
    assert is_zero(th_back - a) and is_zero(ratio - ratio_claim(em))
    assert sp.ask(sp.Q.positive(ratio)) is True
    assert sp.ask(sp.Q.positive(1 - ratio), sp.Q.positive(1 - em)) is True


@wrong(unit_slow_weight=dict(total=lambda alpha, b3, t: 1 + alpha),
       adam_only=dict(total=lambda alpha, b3, t: 1))
def check_ademamix_mixture_weights(total=lambda alpha, b3, t: 1 + alpha * (1 - b3 ** t)):
    """rule-ademamix: unrolled, m̂1_t + α m2_t = Σ_k w_k g_{t−k} with
    w_k = (1−β1)β1^k/(1−β1^t) + α(1−β3)β3^k, and Σ_{k<t} w_k = 1 + α(1 − β3^t)."""
    b1, b3, alpha = sp.symbols("beta1 beta3 alpha", positive=True)
    t, k = sp.symbols("t k", integer=True, positive=True)
    w = (1 - b1) * b1 ** k / (1 - b1 ** t) + alpha * (1 - b3) * b3 ** k
    summed = sp.summation(w, (k, 0, t - 1))
    summed = summed.replace(lambda e: isinstance(e, sp.Piecewise),   # β < 1: the geometric branch
                            lambda e: next(x for x, cond in e.args if cond is sp.true))
    assert is_zero(sp.simplify(summed - total(alpha, b3, t)))
    for steps in (1, 2, 5):                     # and by unrolling the recursions directly
        gs = sp.symbols(f"g1:{steps + 1}")
        m1 = m2 = 0
        for g in gs:
            m1, m2 = b1 * m1 + (1 - b1) * g, b3 * m2 + (1 - b3) * g
        mix = m1 / (1 - b1 ** steps) + alpha * m2
        unrolled = sum(w.subs({t: steps, k: steps - 1 - i}) * g for i, g in enumerate(gs))
        assert is_zero(mix - unrolled)


@wrong(swapped=dict(half_life=lambda a, hs, h3: (1 - a) * h3 + a * hs),
       geometric=dict(half_life=lambda a, hs, h3: hs ** (1 - a) * h3 ** a))
def check_ademamix_beta3_halflife(half_life=lambda a, hs, h3: (1 - a) * hs + a * h3):
    """rule-ademamix: the paper's β3 scheduler exp(ln βs ln β3 / ((1−a) ln β3 + a ln βs)) is
    ½^{1/h} with h = (1−a) h(βs) + a h(β3), h(β) = ln ½ / ln β (half-life in steps)."""
    bs, b3 = sp.symbols("beta_s beta_3", positive=True)
    a = sp.symbols("a", nonnegative=True)
    exponent = sp.log(bs) * sp.log(b3) / ((1 - a) * sp.log(b3) + a * sp.log(bs))
    paper = sp.exp(exponent)

    def h(b):
        return sp.log(sp.Rational(1, 2)) / sp.log(b)

    h_a = half_life(a, h(bs), h(b3))
    # ½^{1/h_a} = exp(ln ½ / h_a): compare exponents
    assert is_zero(exponent - sp.log(sp.Rational(1, 2)) / h_a)
    assert sp.simplify(paper.subs(a, 0) - bs) == 0 and sp.simplify(paper.subs(a, 1) - b3) == 0


@wrong(no_g0=dict(correction=lambda beta, g, g0: beta * g), none=dict(correction=lambda beta, g, g0: 0))
def check_optimistic_telescoping(correction=lambda beta, g, g0: beta * (g - g0)):
    """rule-optimistic: θ_T = θ_0 − ηα Σ_{t≤T} g_t − ηβ(g_T − g_0) for T = 1..6, symbolic g."""
    eta, alpha, beta, th0, g0 = sp.symbols("eta alpha beta theta0 g0")
    gs = sp.symbols("g1:7")
    th, prev = th0, g0
    for T, g in enumerate(gs, 1):
        th = th - eta * ((alpha + beta) * g - beta * prev)
        prev = g
        assert is_zero(th - (th0 - eta * alpha * sum(gs[:T]) - eta * correction(beta, g, g0)))


@wrong(no_half=dict(mod2=lambda sgn, s: 1 + sgn * s), unit=dict(mod2=lambda sgn, s: 1))
def check_optimistic_bilinear_rates(mod2=lambda sgn, s: (1 + sgn * s) / 2):
    """rule-optimistic: on min_x max_y xy each eigen-mode (λ = ±i of the field) of optimistic GD
    (α = β = 1) solves μ² − (1 − 2ηλ)μ − ηλ = 0; for 0 < η ≤ ½ the roots are
    μ± = (1 ± s)/2 − ηλ, s = √(1 − 4η²), with |μ±|² = (1 ± s)/2 < 1, while GD's μ = 1 − ηλ has
    |μ|² = 1 + η² > 1."""
    eta = sp.symbols("eta", positive=True)
    mu = sp.symbols("mu")
    s = sp.sqrt(1 - 4 * eta ** 2)
    for lam in (sp.I, -sp.I):
        poly = mu ** 2 - (1 - 2 * eta * lam) * mu - eta * lam
        for sign in (1, -1):
            root = (1 + sign * s) / 2 - eta * lam
            assert is_zero(sp.expand(poly.subs(mu, root)))
            # for η ≤ ½, s is real: |root|² = ((1 ± s)/2)² + η²
            modulus2 = ((1 + sign * s) / 2) ** 2 + eta ** 2
            assert is_zero(sp.expand(modulus2 - mod2(sign, s)))
        gd = 1 - eta * lam
        assert is_zero(sp.expand(gd * sp.conjugate(gd)) - (1 + eta ** 2))
    for e in (sp.Rational(1, 10), sp.Rational(1, 4), sp.Rational(1, 2)):   # < 1 on (0, ½]
        assert sp.simplify(mod2(1, s.subs(eta, e)) - 1).is_negative


@wrong(off_by_one=dict(mean=lambda ths: sum(ths) / (len(ths) + 1)), last=dict(mean=lambda ths: ths[-1]))
def check_asgd_running_mean(mean=lambda ths: sum(ths) / len(ths)):
    """rule-asgd: θ̄_t = θ̄_{t−1} + (θ_t − θ̄_{t−1})/(t − t0), started by θ̄_{t0+1} = θ_{t0+1}
    (μ = 1), is the plain mean of θ_{t0+1}, …, θ_t; checked for t0 = 0, 2 and 7 iterates."""
    ths = sp.symbols("theta1:8")
    for t0 in (0, 2):
        avg = None
        for t, th in enumerate(ths, 1):
            if t <= t0:
                avg = th
                continue
            mu = sp.Rational(1, t - t0)
            avg = th if mu == 1 else avg + (th - avg) * mu
            assert is_zero(avg - mean(ths[t0:t]))


@wrong(twice=dict(inverse_gap=lambda lam: 2 * lam), constant=dict(inverse_gap=lambda lam: 0))
def check_asgd_step_is_l2_sgd(inverse_gap=lambda lam: lam):
    """rule-asgd: θ(1 − λη) − ηg = θ − η(g + λθ), and η_t = η0/(1 + λη0(t−1))^α satisfies
    η_1 = η0 and, for α = 1, 1/η_{t+1} − 1/η_t = λ (the step size of SGD on a λ-strongly convex
    objective)."""
    th, g, eta, lam, eta0 = sp.symbols("theta g eta lambda eta0", positive=True)
    assert is_zero(th * (1 - lam * eta) - eta * g - (th - eta * (g + lam * th)))
    t = sp.symbols("t", integer=True, positive=True)

    def step(tt, a):
        return eta0 / (1 + lam * eta0 * (tt - 1)) ** a

    assert step(1, sp.Rational(3, 4)) == eta0
    assert is_zero(1 / step(t + 1, 1) - 1 / step(t, 1) - inverse_gap(lam))


@wrong(one_minus_beta=dict(extrapolation=lambda beta, diff: (1 - beta) * diff),
       none=dict(extrapolation=lambda beta, diff: 0))
def check_adan_equal_betas_is_adam_on_extrapolated_gradient(extrapolation=lambda beta, diff: beta * diff):
    """rule-adan: with β1 = β2 = β, m_t + β v_t is the β-EMA of ĝ_t = g_t + β(g_t − g_{t−1})
    (ĝ_1 = g_1), so the numerator m_t/(1−β^t) + β v_t/(1−β^t) is Adam's m̂_t for ĝ and the
    denominator's (g_t + βΔ_t)² is ĝ_t²: symbolic gradients, 5 steps."""
    beta = sp.symbols("beta", positive=True)
    gs = sp.symbols("g1:6")
    m = v = m_hat_g = 0
    g_prev = None
    for t, g in enumerate(gs, 1):
        diff = 0 if g_prev is None else g - g_prev
        m, v = beta * m + (1 - beta) * g, beta * v + (1 - beta) * diff
        g_hat = g + extrapolation(beta, diff)
        m_hat_g = beta * m_hat_g + (1 - beta) * g_hat
        assert is_zero(m / (1 - beta ** t) + beta * v / (1 - beta ** t) - m_hat_g / (1 - beta ** t))
        g_prev = g


@wrong(decoupled=dict(prox=lambda th, u, eta, lam: th * (1 - eta * lam) - eta * u),
       first_order_gap=dict(gap_claim=lambda u, eta, lam: eta * lam * u))
def check_adan_proximal_decay(prox=lambda th, u, eta, lam: (th - eta * u) / (1 + eta * lam),
                              gap_claim=lambda u, eta, lam: eta ** 2 * lam * u):
    """rule-adan: θ⁺ = (θ − ηu)/(1 + ηλ) is the exact minimiser of the proximal step
    ⟨u, x⟩ + λ/2‖x‖² + ‖x − θ‖²/(2η); the decoupled θ(1 − ηλ) − ηu differs from it by
    η²λu + O(λ²)."""
    x, th, u, eta, lam = sp.symbols("x theta u eta lambda", positive=True)
    objective = u * x + lam / 2 * x ** 2 + (x - th) ** 2 / (2 * eta)
    (sol,) = sp.solve(sp.diff(objective, x), x)
    assert is_zero(sol - prox(th, u, eta, lam))
    gap = sp.series(sol - (th * (1 - eta * lam) - eta * u), lam, 0, 2).removeO()
    assert is_zero(gap - gap_claim(u, eta, lam))


@wrong(linear=dict(v_scale=lambda c: c), infinite_sum=dict(geometric_sum=lambda b1, t: 1 / (1 - b1)))
def check_novograd_layer_scale_and_bound(v_scale=lambda c: c ** 2,
                                         geometric_sum=lambda b1, t: (1 - b1 ** t) / (1 - b1)):
    """rule-novograd: (i) with ε = 0, g ↦ c g (c > 0) maps v ↦ c² v and leaves g/√v unchanged
    (3 steps, symbolic); (ii) v_t ≥ (1 − β2)‖g_t‖² gives ‖g_t‖/√v_t ≤ 1/√(1 − β2), and
    Σ_{k<t} β1^k = (1 − β1^t)/(1 − β1) ≤ 1/(1 − β1), so ‖m_t‖ ≤ 1/((1 − β1)√(1 − β2))."""
    b1, b2, c, v_prev, q = sp.symbols("beta1 beta2 c v_prev q", positive=True)
    gs = sp.symbols("n1:4", positive=True)           # ‖g_t‖² of one layer
    v = vs = None
    for t, n in enumerate(gs, 1):
        v = n if t == 1 else b2 * v + (1 - b2) * n
        vs = c ** 2 * n if t == 1 else b2 * vs + (1 - b2) * c ** 2 * n
        assert is_zero(vs - v_scale(c) * v)
        assert is_zero(sp.sqrt(vs) - c * sp.sqrt(v))  # so (c g)/√(c²v) = g/√v
    # v_t − (1 − β2) q = β2 v_{t−1} ≥ 0 with q = ‖g_t‖²
    assert is_zero((b2 * v_prev + (1 - b2) * q) - (1 - b2) * q - b2 * v_prev)
    t, k = sp.symbols("t k", integer=True, positive=True)
    geometric = sp.summation(b1 ** k, (k, 0, t - 1))
    geometric = geometric.replace(lambda e: isinstance(e, sp.Piecewise),   # β1 < 1
                                  lambda e: next(x for x, cond in e.args if cond is sp.true))
    assert is_zero(geometric - geometric_sum(b1, t))


@wrong(no_shrink=dict(star=lambda z, l1, q: -z / q),
       wrong_side=dict(star=lambda z, l1, q: -(z + sp.sign(z) * l1) / q))
def check_ftrl_closed_form_is_the_argmin(star=lambda z, l1, q: -(z - sp.sign(z) * l1) / q):
    """rule-ftrl: per coordinate, θ* = −(z − sign(z)λ1)/q for |z| > λ1 and 0 otherwise minimises
    F(θ) = zθ + ½qθ² + λ1|θ| (q > 0): F'(θ*) = 0 on the smooth side, and 0 ∈ z + λ1[−1, 1] at 0.
    With q = σ_{1:t} + λ2 this is the FTRL-Proximal objective, because
    Σ_s ½σ_s(θ − θ_{s−1})² = ½σ_{1:t}θ² − θ Σ_s σ_s θ_{s−1} + const (three rounds, symbolic)."""
    th, q, l1 = sp.symbols("theta q lambda1", positive=True)
    for z in (l1 + sp.symbols("d", positive=True), -l1 - sp.symbols("d", positive=True)):
        point = star(z, l1, q)
        smooth = z * th + q * th ** 2 / 2 + l1 * sp.sign(point) * th   # |θ| = sign(θ*)θ near θ*
        assert is_zero(sp.diff(smooth, th).subs(th, point))
        assert sp.simplify(sp.sign(point) * sp.sign(-z)) == 1           # θ* on the side it claims
    # |z| < λ1 (z = λ1(a − b)/(a + b), a, b > 0): F(θ) > F(0) = 0 for θ = ±s, s > 0
    a, b, s_ = sp.symbols("a b s", positive=True)
    z_in = l1 * (a - b) / (a + b)
    for theta in (s_, -s_):
        f = z_in * theta + q * theta ** 2 / 2 + l1 * s_
        assert sp.simplify(sp.factor(f)).is_positive
    x = sp.symbols("x", real=True)
    sig, ths, gs = sp.symbols("s1:4", positive=True), sp.symbols("w0:3"), sp.symbols("g1:4")
    prox = sum(s * (x - w) ** 2 / 2 for s, w in zip(sig, ths))
    linear = sum(gs) * x
    z = sum(gs) - sum(s * w for s, w in zip(sig, ths))
    const = prox.subs(x, 0)
    assert is_zero(linear + prox - (z * x + sum(sig) * x ** 2 / 2 + const))


@wrong(no_root=dict(adagrad=lambda th, alpha, g, n: th - alpha * g / n),
       plain_sgd=dict(adagrad=lambda th, alpha, g, n: th - alpha * g))
def check_ftrl_without_regularisers_is_adagrad(adagrad=lambda th, alpha, g, n: th - alpha * g / sp.sqrt(n)):
    """rule-ftrl: with λ1 = λ2 = β = 0, n_0 = 0 and σ_t = (√n_t − √n_{t−1})/α, the recursion
    z_t = z_{t−1} + g_t − σ_tθ_{t−1}, θ_t = −αz_t/√n_t gives θ_t = θ_{t−1} − αg_t/√n_t for any θ_0
    (z_0 = 0): AdaGrad with ε = 0 (four rounds, symbolic)."""
    alpha, th0 = sp.symbols("alpha theta0", positive=True)
    gs = sp.symbols("g1:5", positive=True)
    z, n, th = 0, 0, th0
    for g in gs:
        n_new = n + g ** 2
        z = z + g - (sp.sqrt(n_new) - sp.sqrt(n)) / alpha * th
        new = -alpha * z / sp.sqrt(n_new)
        assert is_zero(new - adagrad(th, alpha, g, n_new))
        th, n = new, n_new


@wrong(half=dict(step=lambda gap, gsq: gap / (2 * gsq)), double=dict(step=lambda gap, gsq: 2 * gap / gsq))
def check_polyak_step_is_the_exact_minimiser(step=lambda gap, gsq: gap / gsq):
    """rule-polyak: (i) the linearisation ℓ + ⟨g, −γg⟩ = ℓ − γ‖g‖² reaches ℓ* exactly at
    γ = (ℓ − ℓ*)/‖g‖²; (ii) for convex ℓ, ‖θ − γg − θ*‖² ≤ ‖θ − θ*‖² − 2γ(ℓ − ℓ*) + γ²‖g‖²,
    whose right side is minimised at the same γ, with decrease (ℓ − ℓ*)²/‖g‖²."""
    gamma, gap, gsq, dist = sp.symbols("gamma gap G D", positive=True)   # gap = ℓ − ℓ*, G = ‖g‖²
    (root,) = sp.solve(sp.Eq(-gamma * gsq, -gap), gamma)                  # ℓ − γG = ℓ*
    bound = dist - 2 * gamma * gap + gamma ** 2 * gsq
    (argmin,) = sp.solve(sp.diff(bound, gamma), gamma)
    assert is_zero(root - step(gap, gsq)) and is_zero(argmin - step(gap, gsq))
    assert sp.diff(bound, gamma, 2).is_positive
    assert is_zero(bound.subs(gamma, step(gap, gsq)) - (dist - gap ** 2 / gsq))
