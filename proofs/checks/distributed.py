"""Exact checks for the distributed pages (proofs/distributed/*.md) and batch norm (proofs/nn)."""

import sympy as sp
from _util import is_zero


def _easgd_sync_map(p):
    """The linear map of synchronous EASGD (τ = 1, local SGD) on ℓ(x) = h x²/2 with p workers:
    x^i ← x^i − ηh x^i − α(x^i − x̃), x̃ ← x̃ + Σ_i α(x^i − x̃) (state: x^1..x^p, x̃)."""
    eta_h, alpha = sp.symbols("eta_h alpha", positive=True)
    M = sp.zeros(p + 1, p + 1)
    for i in range(p):
        M[i, i] = 1 - eta_h - alpha
        M[i, p] = alpha
        M[p, i] = alpha
    M[p, p] = 1 - p * alpha
    return M, eta_h, alpha


def check_easgd_sync_characteristic_polynomial_factors():
    """dist-easgd: det(λI − M) = (λ − (1 − ηh − α))^{p−1} (λ² − Tλ + D) with
    T = 2 − ηh − α − β, D = 1 − ηh − α − β + ηhβ, β = pα (for p = 2, 3)."""
    lam = sp.symbols("lam")
    for p in (2, 3):
        M, eta_h, alpha = _easgd_sync_map(p)
        beta = p * alpha
        T, D = 2 - eta_h - alpha - beta, 1 - eta_h - alpha - beta + eta_h * beta
        claimed = (lam - (1 - eta_h - alpha)) ** (p - 1) * (lam ** 2 - T * lam + D)
        assert is_zero((lam * sp.eye(p + 1) - M).det() - claimed)


def check_easgd_sync_jury_conditions():
    """dist-easgd: for λ² − Tλ + D, 1 − T + D = ηhβ and 1 + T + D = 4 − 2ηh − 2α − 2β + ηhβ;
    the boundary 1 + T + D = 0 is α* = (4 − 2ηh)/(2 + 2p − pηh); there the root −1 exists."""
    eta_h, alpha, p, lam = sp.symbols("eta_h alpha p lam", positive=True)
    beta = p * alpha
    T, D = 2 - eta_h - alpha - beta, 1 - eta_h - alpha - beta + eta_h * beta
    assert is_zero(1 - T + D - eta_h * beta)
    assert is_zero(1 + T + D - (4 - 2 * eta_h - 2 * alpha - 2 * beta + eta_h * beta))
    a_star = (4 - 2 * eta_h) / (2 + 2 * p - p * eta_h)
    assert is_zero((1 + T + D).subs(alpha, a_star))
    assert is_zero(((-1) ** 2 - T * (-1) + D).subs(alpha, a_star))     # λ = −1 is a root there


def check_adaptive_revision_reduces_and_revises():
    """dist-adaptive-revision, from Ḡ_max = Ḡ = G_0 > 0: (a) with g_bck = 0 one update is
    Adagrad's; (b) gradients g1, g2 both read at θ_0 and applied in turn give
    Ḡ = G_0 + (g1 + g2)² and θ_0 − α(g1 + g2)/√Ḡ_max, whatever Ḡ_max = max(G_0 + g1², Ḡ) is."""
    x0, g1, g2, a, G0, Mx = sp.symbols("x0 g1 g2 alpha G0 Gmax", positive=True)

    def update(x, z, G, Gmax_old, g, z_old, Gmax_new=None):
        g_bck = z - z_old
        eta_old = a / sp.sqrt(Gmax_old)
        G = G + g ** 2 + 2 * g * g_bck
        Gmax = G if Gmax_new is None else Gmax_new        # Ḡ_max = max(Ḡ_max, Ḡ), kept symbolic
        eta = a / sp.sqrt(Gmax)
        return x - eta * g + (eta_old - eta) * g_bck, z + g, G, Gmax

    x1, z1, G1, Gm1 = update(x0, 0, G0, G0, g1, 0)                # (a) no delay: Ḡ grows, Ḡ_max = Ḡ
    assert is_zero(x1 - (x0 - a * g1 / sp.sqrt(G0 + g1 ** 2)))
    assert is_zero(G1 - (G0 + g1 ** 2))
    x2, _, G2, _ = update(x1, z1, G1, Gm1, g2, 0, Gmax_new=Mx)   # (b) read before g1 landed
    assert is_zero(G2 - (G0 + (g1 + g2) ** 2))
    assert is_zero(x2 - (x0 - a * (g1 + g2) / sp.sqrt(Mx)))


def check_batchnorm_compact_backward():
    """nn-batchnorm: for one feature over N = 3 examples, ∂⟨dy, y⟩/∂x_n from the chain rule equals
    γ/(N s) (N dy_n − Σ dy − x̂_n Σ dy x̂), s = √(σ² + ε); ∂/∂γ = Σ dy x̂, ∂/∂β = Σ dy."""
    N = 3
    x = sp.symbols("x0:3", real=True)
    dy = sp.symbols("d0:3", real=True)
    gamma, beta, eps = sp.symbols("gamma beta epsilon", positive=True)
    mu = sum(x) / N
    var = sum((xi - mu) ** 2 for xi in x) / N                       # biased
    s = sp.sqrt(var + eps)
    xhat = [(xi - mu) / s for xi in x]
    L = sum(d * (gamma * xh + beta) for d, xh in zip(dy, xhat))
    sum_dy, sum_dy_xhat = sum(dy), sum(d * xh for d, xh in zip(dy, xhat))
    for n in range(N):
        compact = gamma / (N * s) * (N * dy[n] - sum_dy - xhat[n] * sum_dy_xhat)
        assert is_zero(sp.diff(L, x[n]) - compact)
    assert is_zero(sp.diff(L, gamma) - sum_dy_xhat)
    assert is_zero(sp.diff(L, beta) - sum_dy)
