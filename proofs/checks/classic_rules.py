"""Checks for the classic rules' pages (proofs/rules/*.md).

Where the claim is about a rule, the rule is refopt's own ``update`` run on SymPy symbols
(_symbolic.run); hyperparameters are dyadic so the float arithmetic inside the rule is exact.
"""

import sympy as sp
from _symbolic import run
from _util import is_zero, wrong

import refopt

g, eta, eps, gamma, b1, b2 = sp.symbols("g eta epsilon gamma beta1 beta2", positive=True)
gs = sp.symbols("g1:5", real=True)
th0 = sp.Symbol("theta0", real=True)
H = sp.Rational(1, 2)
Q = sp.Rational(1, 4)


@wrong(half_curvature=dict(factor=lambda e, lam: 1 - e * lam / 2),
       plus_sign=dict(factor=lambda e, lam: 1 + e * lam))
def check_sgd_step_on_quadratic(factor=lambda e, lam: 1 - e * lam):
    """rule-sgd: refopt.sgd on ℓ = λθ²/2 gives θ_t = (1 − ηλ)^t θ_0 (so GD is stable iff
    |1 − ηλ| < 1, i.e. ηλ < 2)."""
    lam = sp.Symbol("lambda", positive=True)
    traj = run(refopt.sgd(lr=0.25), [lambda th: lam * th] * 4, th0)
    for t, th in enumerate(traj):
        assert is_zero(th - factor(Q, lam) ** t * th0), t


@wrong(eta_twice=dict(scale=lambda e: 2 * e), no_eta=dict(scale=lambda e: 1))
def check_momentum_lr_in_buffer_equivalence(scale=lambda e: e):
    """rule-momentum: with constant η the paper form (v_t = γv_{t−1} + ηg_t, θ_t = θ_{t−1} − v_t)
    and the framework form (b_t = γb_{t−1} + g_t, θ_t = θ_{t−1} − ηb_t) give the same iterates,
    because v_t = η b_t: both forms are refopt.momentum, run on four symbolic gradients."""
    paper = run(refopt.momentum(lr=0.25, momentum=0.5, lr_in_buffer=True), gs, th0)
    frame = run(refopt.momentum(lr=0.25, momentum=0.5, lr_in_buffer=False), gs, th0)
    b = 0
    for t, gt in enumerate(gs, start=1):
        b = H * b + gt
        assert is_zero(paper[t] - frame[t])
        assert is_zero(paper[t - 1] - paper[t] - scale(Q) * b), t   # the step is η b_t


@wrong(no_gamma_on_b=dict(coef=0), gamma_squared=dict(coef=gamma ** 2))
def check_nag_reparameterisation(coef=gamma):
    """rule-nag: with φ_t := θ_t − γ v_t and b_t := v_t/η (constant η), the look-ahead recursion
    v_t = γv_{t−1} + η∇ℓ(θ_{t−1} − γv_{t−1}), θ_t = θ_{t−1} − v_t becomes
    b_t = γ b_{t−1} + g_t, φ_t = φ_{t−1} − η(g_t + γ b_t) with g_t = ∇ℓ(φ_{t−1})."""
    th_prev, v_prev, g_t = sp.symbols("theta_prev v_prev g_t")
    v_t = gamma * v_prev + eta * g_t            # g_t is ∇ℓ at θ_{t−1} − γ v_{t−1} = φ_{t−1}
    th_t = th_prev - v_t
    phi_prev, phi_t = th_prev - gamma * v_prev, th_t - gamma * v_t
    b_prev, b_t = v_prev / eta, v_t / eta
    assert is_zero(b_t - (gamma * b_prev + g_t))
    assert is_zero(phi_t - (phi_prev - eta * (g_t + coef * b_t)))


@wrong(no_sign=dict(limit=lambda e, gg: -e),
       wrong_size=dict(limit=lambda e, gg: -e * sp.sign(gg) / 2))
def check_adagrad_first_step(limit=lambda e, gg: -e * sp.sign(gg)):
    """rule-adagrad: refopt.adagrad's first step is −η g/√(g² + ε) (read from the code at
    ε = 2⁻⁸, for either sign of g), which → −η sign(g) as ε → 0."""
    G = sp.Symbol("G", positive=True)
    for gg in (G, -G):
        e = sp.Rational(1, 256)
        step = run(refopt.adagrad(lr=0.25, eps=float(e)), [gg], th0)[1] - th0
        assert is_zero(step - (-Q * gg / sp.sqrt(gg ** 2 + e)))
        assert is_zero(sp.limit(-Q * gg / sp.sqrt(gg ** 2 + eps), eps, 0) - limit(Q, gg))


@wrong(sqrt_eps=dict(size=lambda e, r: sp.sqrt(e)),
       one_minus_rho=dict(size=lambda e, r: sp.sqrt(e) * (1 - r)))
def check_adadelta_first_step(size=lambda e, r: sp.sqrt(e / (1 - r))):
    """rule-adadelta: refopt.adadelta's first step is −√ε g/√((1−ρ)g² + ε), whose size for
    |g|² ≫ ε/(1−ρ) is √(ε/(1−ρ)) (not √ε: 3.16× larger at ρ = 0.9)."""
    rho, e = 0.75, 2.0 ** -16
    G = sp.Symbol("G", positive=True)
    step = run(refopt.adadelta(lr=1.0, rho=rho, eps=e), [G], th0)[1] - th0
    R, E = sp.Rational(rho), sp.Rational(e)
    assert is_zero(step + sp.sqrt(E) * G / sp.sqrt((1 - R) * G ** 2 + E))
    assert is_zero(sp.limit(-step, G, sp.oo) - size(E, R))


@wrong(uncorrected=dict(corrected=lambda t: sp.Integer(1)),
       wrong_power=dict(corrected=lambda t: 1 - b1 ** (t + 1)))
def check_adam_bias_correction(corrected=lambda t: 1 - b1 ** t):
    """rule-adam: for a constant gradient g, refopt.adam's m_t = (1 − β1^t) g, so m̂_t = g and
    (with ε = 0) every step is exactly −η sign(g)."""
    G = sp.Symbol("G", positive=True)
    opt = refopt.adam(lr=0.25, beta1=0.5, beta2=0.75, eps=0.0)
    state = opt.init(_sym(th0))
    params = _sym(th0)
    for t in range(1, 5):
        params, state = opt.update(_sym(G), state, params)
        assert is_zero(state.m.e - corrected(t).subs(b1, H) * G), t
        assert is_zero(params.e - (th0 - Q * t))


@wrong(no_sqrt=dict(eps_t=lambda e, c2: e / c2), no_correction=dict(eps_t=lambda e, c2: e))
def check_adam_eps_hat_form(eps_t=lambda e, c2: e / sp.sqrt(c2)):
    """rule-adam: refopt.adam(eps_hat=True) with ε̂ equals the paper form with the
    step-dependent ε_t = ε̂/√(1−β2^t): the code's first step on a symbolic gradient against the
    paper form written out with ε_1 (t = 1 only: √(1−β2^t) is an exact float only there for a
    dyadic β2; tests/test_equivalences.py covers later steps in float64)."""
    ehat = sp.Rational(1, 64)
    code = run(refopt.adam(lr=0.25, beta1=0.5, beta2=0.75, eps=float(ehat), eps_hat=True), gs[:1], th0)
    m = v = 0
    th = th0
    for t, gt in enumerate(gs[:1], start=1):
        m, v = H * m + H * gt, sp.Rational(3, 4) * v + Q * gt ** 2
        c1, c2 = 1 - H ** t, 1 - sp.Rational(3, 4) ** t
        th = th - Q * (m / c1) / (sp.sqrt(v / c2) + eps_t(ehat, c2))
        assert is_zero(code[t] - th), t


@wrong(no_bias_correction=dict(bias_correction=False), eps_inside=dict(eps_inside=True))
def check_adam_beta1_zero_is_rmsprop_with_bias_correction(bias_correction=True, eps_inside=False):
    """equivalence: refopt.adam(β1 = 0) and refopt.rmsprop(ρ = β2, bias_correction=True,
    eps_inside=False) produce the same iterates, second moment and ε included (three symbolic
    gradients, ε = 2⁻⁶)."""
    e = 2.0 ** -6
    adam = run(refopt.adam(lr=0.25, beta1=0.0, beta2=0.75, eps=e), gs[:3], th0)
    rms = run(refopt.rmsprop(lr=0.25, rho=0.75, eps=e, eps_inside=eps_inside,
                             bias_correction=bias_correction), gs[:3], th0)
    for t in range(1, 4):
        assert is_zero(adam[t] - rms[t]), t


@wrong(ruder=dict(coef_m_claim=lambda t: b1 / (1 - b1 ** t)))
def check_nadam_psi_infinity_is_optax_form(coef_m_claim=lambda t: b1 / (1 - b1 ** (t + 1))):
    """rule-nadam: ψ → ∞ gives μ_t → β1, Π_t = β1^t, and Dozat's coefficients become
    (1−β1)/(1−β1^t) on g and β1/(1−β1^{t+1}) on m — optax's nadam, not Ruder's 1/(1−β1^t)."""
    psi, t = sp.symbols("psi t", positive=True)
    mu_t = b1 * (1 - sp.Rational(1, 2) * sp.Rational(96, 100) ** (t * psi))
    assert sp.limit(mu_t, psi, sp.oo) == b1
    mu_next = sp.limit(b1 * (1 - sp.Rational(1, 2) * sp.Rational(96, 100) ** ((t + 1) * psi)), psi, sp.oo)
    prod = b1 ** t                                  # Π_{i≤t} μ_i with every μ_i = β1
    coef_m = mu_next / (1 - prod * mu_next)
    assert is_zero(coef_m - coef_m_claim(t))


@wrong(without_max=dict(with_max=False))
def check_amsgrad_effective_step_nonincreasing(with_max=True):
    """rule-amsgrad: v̂_t = max(v̂_{t−1}, v_t) ≥ v̂_{t−1} and α_t = α/√t decreasing ⇒
    (α_t/√v̂_t)² / (α_{t−1}/√v̂_{t−1})² = t v̂_{t−1}/((t+1) v̂_t) < 1 for every t ≥ 1 and every
    new v_t (both branches of the max, symbolically). Without the max (v̂_t = v_t, Adam) the
    ratio is not bounded by 1."""
    t, vprev, d = sp.symbols("t vprev d", positive=True)
    branches = (vprev, vprev + d) if with_max else (vprev, vprev / (1 + d))
    for vhat in branches:
        num, den = sp.fraction(sp.together(1 - t * vprev / ((t + 1) * vhat)))
        assert sp.expand(num).is_positive and sp.expand(den).is_positive, vhat


@wrong(sum_recursion=dict(u_claim=lambda u, gg: H * u + abs(gg)),
       no_decay=dict(u_claim=lambda u, gg: sp.Max(u, abs(gg))))
def check_adamax_is_the_p_to_infinity_limit(u_claim=lambda u, gg: sp.Max(H * u, abs(gg))):
    """rule-adamax: (i) ‖(a, c)‖_p → max(a, c) as p → ∞, the limit behind u_t; (ii) refopt.adamax
    keeps u_t = max(β2 u_{t−1}, |g_t|) (β2 = 1/2, three symbolic gradients read from its state)."""
    p = sp.symbols("p", positive=True)
    assert sp.limit((sp.Integer(3) ** p + sp.Integer(2) ** p) ** (1 / p), p, sp.oo) == 3
    opt = refopt.adamax(lr=0.375, beta1=0.5, beta2=0.5)
    params, state = _sym(th0), opt.init(_sym(th0))
    u = 0
    for gt in gs[:3]:
        params, state = opt.update(_sym(gt), state, params)
        u = u_claim(u, gt)
        assert is_zero(sp.simplify(state.u.e - u))


@wrong(no_decay=dict(var=lambda e, t, gm: e), linear=dict(var=lambda e, t, gm: e / (1 + gm * t)))
def check_gradient_noise_variance(var=lambda e, t, gm: e / (1 + t) ** gm):
    """rule-gradient-noise: σ_t² = η/(1+t)^γ with t = 0 first: σ_0² = η, decreasing in t —
    compared with the std that refopt's wrapper passes to its noise generator."""
    from refopt.optim import noise
    seen = []
    real = noise.noise_tree

    def spy(like, *, seed, t, std):
        seen.append((t, std))
        return real(like, seed=seed, t=t, std=std)
    import numpy as np
    noise.noise_tree = spy
    try:
        opt = noise.add_gradient_noise(refopt.sgd(lr=0.25), eta=0.5, gamma=0.5)
        p = np.zeros(2)
        s = opt.init(p)
        for _ in range(3):
            p, s = opt.update(np.ones(2), s, p)
    finally:
        noise.noise_tree = real
    assert len(seen) == 3
    for t, std in seen:
        assert abs(std ** 2 - float(var(sp.Rational(1, 2), t, sp.Rational(1, 2)))) < 1e-15, (t, std)


def _raw_displacements(opt, grads):
    """θ_t − θ_0 from refopt's update, unsimplified (so both runs keep the same tree shape)."""
    from _symbolic import Sym
    params, state, out = Sym(th0), opt.init(Sym(th0)), []
    for g in grads:
        params, state = opt.update(Sym(g), state, params)
        out.append(params.e - th0)
    return out


def _pull_out(expr, c):
    """Move the positive factor c out of square roots and of Max/Min (√(c²a) = c√a,
    max(ca, cb) = c·max(a, b) for c > 0): SymPy does not do this by itself."""
    def sqrt_rule(e):
        return sp.sqrt(sp.factor(e.base))

    def max_rule(e):
        for k in (2, 1):                       # c² (under a root) or c
            parts = [sp.simplify(a / c ** k) for a in e.args]
            if not any(p.has(c) for p in parts):
                return c ** k * type(e)(*parts)
        return e
    expr = expr.replace(lambda e: isinstance(e, (sp.Max, sp.Min)), max_rule)
    return expr.replace(lambda e: isinstance(e, sp.Pow) and e.exp == sp.Rational(1, 2), sqrt_rule)


def _sym(x):
    from _symbolic import Sym
    return Sym(x)


def _scaling_rules():
    """Rule name -> refopt optimizer with ε = 0 (δ = 0 for AGD): the regime where a rule's
    response to g ↦ c·g is exact; Adadelta keeps its ε, which is part of its step size."""
    import refopt.research as R
    return {
        "sgd": refopt.sgd(lr=0.25),
        "momentum": refopt.momentum(lr=0.25, momentum=0.5),
        "adagrad": refopt.adagrad(lr=0.25, eps=0.0),
        "rmsprop": refopt.rmsprop(lr=0.25, rho=0.75, eps=0.0),
        "adam": refopt.adam(lr=0.25, beta1=0.5, beta2=0.75, eps=0.0),
        "adamax": refopt.adamax(lr=0.375, beta1=0.5, beta2=0.75),
        "amsgrad": refopt.amsgrad(lr=0.25, beta1=0.5, beta2=0.75, eps=0.0),
        "nadam": refopt.nadam(lr=0.25, beta1=0.5, beta2=0.75, eps=0.0),
        "adadelta": refopt.adadelta(lr=1.0, rho=0.75, eps=2.0 ** -8),
        "agd": R.agd(lr=0.25, beta1=0.5, beta2=0.75, delta=0.0, weight_decay=0.0),
    }


SCALING = {"sgd": "linear", "momentum": "linear", "adagrad": "invariant", "rmsprop": "invariant",
           "adam": "invariant", "adamax": "invariant", "amsgrad": "invariant", "nadam": "invariant",
           "adadelta": "neither",
           "agd": "invariant"}


@wrong(sgd_invariant=dict(claims=dict(SCALING, sgd="invariant")),
       adam_linear=dict(claims=dict(SCALING, adam="linear")),
       adadelta_invariant=dict(claims=dict(SCALING, adadelta="invariant")))
def check_gradient_scaling(claims=SCALING):
    """rule pages: how each rule's displacement θ_t − θ_0 responds to scaling every gradient by
    c > 0, read from refopt's code on three symbolic gradients: "invariant" (the same
    displacement: the adaptive rules with ε = 0), "linear" (c times it: SGD, momentum), or
    "neither" (Adadelta, whose ε sets the step size)."""
    c = sp.Symbol("c", positive=True)
    G = sp.symbols("G1:4", positive=True)
    for name, opt in _scaling_rules().items():
        d0 = [_pull_out(d, c) for d in _raw_displacements(opt, G)]
        dc = [_pull_out(d, c) for d in _raw_displacements(opt, [c * x for x in G])]
        invariant = all(is_zero(a - b) for a, b in zip(d0, dc))
        linear = all(is_zero(c * a - b) for a, b in zip(d0, dc))
        observed = "invariant" if invariant else "linear" if linear else "neither"
        assert observed == claims[name], (name, observed)


@wrong(no_gamma_factor=dict(bound=lambda b1, b2, t: (1 - b1) / (1 - b1 ** t)
                             * sp.sqrt((1 - b2 ** t) / (1 - b2))),
       one=dict(bound=lambda b1, b2, t: sp.Integer(1)))
def check_adam_step_bound(bound=lambda b1, b2, t: (1 - b1) / (1 - b1 ** t) * sp.sqrt((1 - b2 ** t) / (1 - b2))
                          * sp.sqrt((1 - (b1 ** 2 / b2) ** t) / (1 - b1 ** 2 / b2))):
    """rule-adam: with ε = 0 and β1² < β2, |θ_t − θ_{t−1}| ≤ η·B_t with
    B_t = (1−β1)/(1−β1^t) · √((1−β2^t)/(1−β2)) · √((1−γ^t)/(1−γ)), γ = β1²/β2 (Cauchy–Schwarz), and
    the bound is attained: at t = 2 the largest |step|/η of refopt.adam over all (g1, g2) (found
    by maximising the code's exact step over g1/g2) equals B_2 (β1 = 1/2, β2 = 3/4)."""
    b1, b2 = H, sp.Rational(3, 4)
    r = sp.Symbol("r", positive=True)               # g1/g2 > 0 (same signs maximise |m|)
    G2 = sp.Symbol("G2", positive=True)
    step = run(refopt.adam(lr=1.0, beta1=0.5, beta2=0.75, eps=0.0), [r * G2, G2], th0)
    s2 = sp.simplify((step[1] - step[2]) ** 2)      # (step at t = 2)², homogeneous of degree 0
    crit = [x for x in sp.solve(sp.diff(s2, r), r) if x.is_positive]
    best = max([s2.subs(r, x) for x in crit] + [sp.limit(s2, r, 0), sp.limit(s2, r, sp.oo)])
    assert is_zero(best - bound(b1, b2, 2) ** 2)     # compare squares: both sides are ≥ 0


@wrong(kingma_ba_eta=dict(bound=lambda b1, b2, t: sp.Integer(1)))
def check_adamax_step_bound(bound=lambda b1, b2, t: (1 - b1) / (1 - b1 ** t)
                            * sum((b1 / b2) ** k for k in range(t))):
    """rule-adamax: |θ_t − θ_{t−1}| ≤ η(1−β1)/(1−β1^t) Σ_{k<t} (β1/β2)^k, attained at t = 2 by
    g = (1, β2) (refopt.adamax run on it, β1 = β2 = 1/2: the step is 4η/3 > η, so the bound
    |Δθ| ≤ η sometimes quoted for AdaMax does not hold in general). The upper bound itself
    holds for every (g1, g2): the code's exact step at t = 2 is maximised over g1/g2 > 0."""
    b1 = b2 = H
    eta = sp.Rational(3, 4)                             # η/(1 − β1^t) is an exact float at t ≤ 2
    opt = refopt.adamax(lr=float(eta), beta1=0.5, beta2=0.5)
    steps = run(opt, [sp.Integer(1), b2], th0)
    assert is_zero(sp.Abs(steps[2] - steps[1]) / eta - bound(b1, b2, 2))
    r = sp.Symbol("r", positive=True)                   # g1 = r, g2 = 1
    gen = run(opt, [r, sp.Integer(1)], th0)
    f = sp.simplify((gen[1] - gen[2]) / eta)            # > 0: both gradients positive
    (mx,) = f.atoms(sp.Max)                             # u_2 = max(β2 r, 1)
    below, above = f.subs(mx, 1), f.subs(mx, r / 2)     # r ≤ 2 and r ≥ 2
    assert sp.simplify(sp.diff(below, r)).is_positive and sp.simplify(-sp.diff(above, r)).is_positive
    assert is_zero(below.subs(r, 2) - bound(b1, b2, 2)) and is_zero(above.subs(r, 2) - bound(b1, b2, 2))
