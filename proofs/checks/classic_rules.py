"""Exact checks for the classic rules' pages (proofs/rules/*.md)."""

import sympy as sp
from _util import is_zero

g, eta, eps, gamma, b1, b2 = sp.symbols("g eta epsilon gamma beta1 beta2", positive=True)


def check_sgd_step_on_quadratic():
    """rule-sgd: on ℓ = λθ²/2, θ_t = (1 − ηλ)^t θ_0 (so GD is stable iff ηλ < 2)."""
    lam, th0 = sp.symbols("lambda theta0", positive=True)
    th = th0
    for _ in range(4):
        th = th - eta * lam * th
    assert is_zero(th - (1 - eta * lam) ** 4 * th0)


def check_momentum_lr_in_buffer_equivalence():
    """rule-momentum: with constant η, v_t = η b_t for all t (induction, checked for 5 steps
    with symbolic gradients)."""
    gs = sp.symbols("g1:6")
    v = b = 0
    for gt in gs:
        v = gamma * v + eta * gt
        b = gamma * b + gt
        assert is_zero(v - eta * b)


def check_nag_reparameterisation():
    """rule-nag: with φ_t := θ_t − γ v_t and b_t := v_t/η (constant η), the look-ahead recursion
    v_t = γv_{t−1} + η∇ℓ(θ_{t−1} − γv_{t−1}), θ_t = θ_{t−1} − v_t becomes
    b_t = γ b_{t−1} + g_t, φ_t = φ_{t−1} − η(g_t + γ b_t) with g_t = ∇ℓ(φ_{t−1})."""
    th_prev, v_prev, g_t = sp.symbols("theta_prev v_prev g_t")
    v_t = gamma * v_prev + eta * g_t            # g_t is ∇ℓ at θ_{t−1} − γ v_{t−1} = φ_{t−1}
    th_t = th_prev - v_t
    phi_prev, phi_t = th_prev - gamma * v_prev, th_t - gamma * v_t
    b_prev, b_t = v_prev / eta, v_t / eta
    assert is_zero(b_t - (gamma * b_prev + g_t))
    assert is_zero(phi_t - (phi_prev - eta * (g_t + gamma * b_t)))


def check_adagrad_first_step():
    """rule-adagrad: θ_1 = θ_0 − η g/√(g² + ε) → −η sign(g) as ε → 0."""
    step = -eta * g / sp.sqrt(g ** 2 + eps)
    assert sp.limit(step, eps, 0) == -eta


def check_adadelta_first_step():
    """rule-adadelta: E[g²]_1 = (1−ρ)g², Δ_1 = −√ε g/√((1−ρ)g² + ε): size ≈ √(ε/(1−ρ))."""
    rho = sp.symbols("rho", positive=True)
    d1 = -sp.sqrt(0 + eps) / sp.sqrt((1 - rho) * g ** 2 + eps) * g
    rho_ = sp.symbols("rho_", positive=True)          # 1 − ρ > 0
    d1 = d1.subs(rho, 1 - rho_)
    assert is_zero(sp.limit(d1 / sp.sqrt(eps), eps, 0) + 1 / sp.sqrt(rho_))


def check_adam_bias_correction():
    """rule-adam: for a constant gradient g, m_t = (1 − β1^t) g, so m̂_t = g exactly."""
    m = 0
    for t in range(1, 6):
        m = b1 * m + (1 - b1) * g
        assert is_zero(m - (1 - b1 ** t) * g)


def check_adam_eps_hat_form():
    """rule-adam: η(√(1−β2^t)/(1−β1^t)) m/(√v + ε̂) = η m̂/(√v̂ + ε̂/√(1−β2^t))."""
    m, v = sp.symbols("m v", positive=True)
    c1, c2 = sp.symbols("c1 c2", positive=True)   # 1 − β1^t, 1 − β2^t ∈ (0, 1]
    lhs = eta * sp.sqrt(c2) / c1 * m / (sp.sqrt(v) + eps)
    rhs = eta * (m / c1) / (sp.sqrt(v / c2) + eps / sp.sqrt(c2))
    assert is_zero(lhs - rhs)


def check_adam_beta1_zero_is_rmsprop_with_bias_correction():
    """equivalence: β1 = 0 ⇒ m̂_t = g_t, the step is η g/(√v̂ + ε)."""
    m1 = 0 * 0 + (1 - 0) * g
    assert is_zero(m1 / (1 - 0 ** 1) - g)


def check_nadam_psi_infinity_is_optax_form():
    """rule-nadam: ψ → ∞ gives μ_t → β1, Π_t = β1^t, and Dozat's coefficients become
    (1−β1)/(1−β1^t) on g and β1/(1−β1^{t+1}) on m — optax's nadam, not Ruder's 1/(1−β1^t)."""
    psi, t = sp.symbols("psi t", positive=True)
    mu_t = b1 * (1 - sp.Rational(1, 2) * sp.Rational(96, 100) ** (t * psi))
    assert sp.limit(mu_t, psi, sp.oo) == b1
    prod = b1 ** t
    coef_g = (1 - b1) / (1 - prod)
    coef_m = b1 / (1 - prod * b1)
    assert is_zero(coef_m - b1 / (1 - b1 ** (t + 1)))
    ruder_m = b1 / (1 - b1 ** t)
    assert not is_zero(coef_m - ruder_m)
    assert is_zero(coef_g - (1 - b1) / (1 - b1 ** t))


def check_amsgrad_effective_step_nonincreasing():
    """rule-amsgrad: v̂_t = max(v̂_{t−1}, v_t) ≥ v̂_{t−1} and α_t = α/√t decreasing ⇒
    α_t/√v̂_t ≤ α_{t−1}/√v̂_{t−1}."""
    t, vprev, vnew = sp.symbols("t vprev vnew", positive=True)
    ratio = (1 / sp.sqrt(t + 1) / sp.sqrt(sp.Max(vprev, vnew))) / (1 / sp.sqrt(t) / sp.sqrt(vprev))
    for sub in ({vnew: vprev / 2}, {vnew: 2 * vprev}):
        assert sp.simplify(ratio.subs(sub).subs({t: 3, vprev: 5})) <= 1


def check_adamax_is_the_p_to_infinity_limit():
    """rule-adamax: ((1−β2) Σ β2^{t−i}|g_i|^p)^{1/p} → max_i β2^{(t−i)/p}... → max(β2 u, |g|)
    in Kingma–Ba's parameterisation (β2^p ↦ β2); checked for two terms."""
    p = sp.symbols("p", positive=True)
    a, c = sp.Rational(3), sp.Rational(2)   # two magnitudes: the larger one wins
    expr = (a ** p + c ** p) ** (1 / p)
    assert sp.limit(expr, p, sp.oo) == 3


def check_gradient_noise_variance():
    """rule-gradient-noise: σ_t² = η/(1+t)^γ with t = 0 first: σ_0² = η, decreasing in t."""
    t = sp.symbols("t", nonnegative=True)
    sig2 = eta / (1 + t) ** gamma
    assert sig2.subs(t, 0) == eta
    assert sp.simplify(sp.diff(sig2, t) + gamma * eta * (1 + t) ** (-gamma - 1)) == 0
