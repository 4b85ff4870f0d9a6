"""Exact checks for the distributed pages (proofs/distributed/*.md) and batch norm (proofs/nn).

Each check takes the page's claim as a keyword argument and derives the other side from refopt's
own code run on SymPy values: EASGD's read/compute/message/apply on :mod:`_symbolic` scalars,
AdaptiveRevision's ``apply`` likewise, and ``batchnorm_backward`` on NumPy object arrays of
SymPy expressions (it only adds, multiplies and sums).
"""

import numpy as np
import sympy as sp
from _symbolic import Sym
from _util import is_zero, wrong

import refopt
import refopt.distributed as rd
from refopt.distributed.adaptive_revision import RevisionServer
from refopt.distributed.easgd import EASGD
from refopt.nn.batchnorm import BatchNormCache, batchnorm_backward

eta_h, alpha = sp.symbols("eta_h alpha", positive=True)
lam = sp.symbols("lam")


def _easgd_sync_map(p):
    """The linear map of one synchronous EASGD round (τ = 1, local SGD) on ℓ(x) = h x²/2 with p
    workers, read off refopt's own EASGD (state x^1..x^p, x̃). The class is built directly with
    a symbolic α (the ``easgd`` factory validates α as a float); η = 1 and the gradient is
    ηh·x, so ηh stays symbolic too."""
    xs = sp.symbols(f"x0:{p}")
    xc = sp.Symbol("xc")
    alg = EASGD(refopt.sgd(lr=1.0), "sgd", Sym(alpha), 1, "sync")
    assert alg.plan(0) == (True, True)                   # τ = 1: every step communicates
    workers = [alg.read(alg.init_worker(Sym(x), i), Sym(xc)) for i, x in enumerate(xs)]
    workers = [alg.compute(w, Sym(eta_h * w.x.e)) for w in workers]
    messages = []
    for i, w in enumerate(workers):
        elastic, workers[i] = alg.message(w, 0)
        messages.append((i, 0, elastic))
    center = alg.apply(Sym(xc), messages)
    new = [w.x.e for w in workers] + [center.e]
    return sp.Matrix(new).jacobian(list(xs) + [xc])


@wrong(center_moves_by_the_mean=dict(beta=lambda p, a: a), one_worker=dict(beta=lambda p, a: (p - 1) * a))
def check_easgd_sync_characteristic_polynomial_factors(beta=lambda p, a: p * a):
    """dist-easgd: for the map of refopt's synchronous EASGD, det(λI − M) =
    (λ − (1 − ηh − α))^{p−1} (λ² − Tλ + D) with T = 2 − ηh − α − β, D = 1 − ηh − α − β + ηhβ,
    β = pα (for p = 2, 3)."""
    for p in (2, 3):
        M = _easgd_sync_map(p)
        b = beta(p, alpha)
        T, D = 2 - eta_h - alpha - b, 1 - eta_h - alpha - b + eta_h * b
        claimed = (lam - (1 - eta_h - alpha)) ** (p - 1) * (lam ** 2 - T * lam + D)
        assert is_zero((lam * sp.eye(p + 1) - M).det() - claimed), p


@wrong(no_eta_h_beta_term=dict(alpha_star=lambda eh, p: (4 - 2 * eh) / (2 + 2 * p)),
       gd_bound=dict(alpha_star=lambda eh, p: (2 - eh) / p))
def check_easgd_sync_jury_conditions(alpha_star=lambda eh, p: (4 - 2 * eh) / (2 + 2 * p - p * eh)):
    """dist-easgd: for λ² − Tλ + D, 1 − T + D = ηhβ and 1 + T + D = 4 − 2ηh − 2α − 2β + ηhβ
    (symbolic p); the boundary 1 + T + D = 0 is α* = (4 − 2ηh)/(2 + 2p − pηh), where λ = −1 is an
    eigenvalue of refopt's own synchronous EASGD map (p = 2, 3)."""
    p = sp.Symbol("p", positive=True)
    beta = p * alpha
    T, D = 2 - eta_h - alpha - beta, 1 - eta_h - alpha - beta + eta_h * beta
    assert is_zero(1 - T + D - eta_h * beta)
    assert is_zero(1 + T + D - (4 - 2 * eta_h - 2 * alpha - 2 * beta + eta_h * beta))
    assert is_zero((1 + T + D).subs(alpha, alpha_star(eta_h, p)))
    for n in (2, 3):
        M = _easgd_sync_map(n).subs(alpha, alpha_star(eta_h, n))
        assert is_zero((-sp.eye(n + 1) - M).det()), n                 # λ = −1 is a root there


@wrong(plain_adagrad_sum=dict(G_after=lambda G0, g1, g2: G0 + g1 ** 2 + g2 ** 2),
       each_at_its_own_rate=dict(x_after=lambda x0, a, g1, g2, G1max, G2max, e:
                                 x0 - a * g1 / sp.sqrt(G1max + e) - a * g2 / sp.sqrt(G2max + e)))
def check_adaptive_revision_reduces_and_revises(
        G_after=lambda G0, g1, g2: G0 + (g1 + g2) ** 2,
        x_after=lambda x0, a, g1, g2, G1max, G2max, e: x0 - a * (g1 + g2) / sp.sqrt(G2max + e)):
    """dist-adaptive-revision, refopt's AdaptiveRevision ``apply`` from Ḡ_max = Ḡ = G_0 > 0
    (α = 1/2, ε = 2⁻⁸): (a) with g_bck = 0 one update is refopt.adagrad's (ε inside the root,
    run from the accumulator G_0); (b) gradients g1, g2 both read at θ_0 and applied in turn give
    Ḡ = G_0 + (g1 + g2)² and θ_0 − α(g1 + g2)/√(Ḡ_max + ε), whatever Ḡ_max = max(G_0 + g1², Ḡ) is."""
    x0, g1, G0 = sp.symbols("x0 g1 G0", positive=True)
    g2 = sp.Symbol("g2", real=True)                      # either sign: Ḡ_max stays a Max
    a, e = sp.Rational(1, 2), sp.Rational(1, 256)
    alg = rd.adaptive_revision(lr=float(a), eps=float(e))
    s0 = RevisionServer(Sym(x0), Sym(0), Sym(G0), Sym(G0))
    s1 = alg.apply(s0, [(0, 0, (Sym(g1), Sym(0)))])     # (a) read after every landed gradient
    ada = refopt.adagrad(lr=float(a), eps=float(e))
    state = ada.init(Sym(x0))._replace(sum_squares=Sym(G0))
    x_ada, _ = ada.update(Sym(g1), state, Sym(x0))
    assert is_zero(s1.x.e - x_ada.e)
    s2 = alg.apply(s1, [(1, 0, (Sym(g2), Sym(0)))])     # (b) read at θ_0, before g1 landed
    assert is_zero(s2.G.e - G_after(G0, g1, g2))
    assert is_zero(s2.x.e - x_after(x0, a, g1, g2, s1.G_max.e, s2.G_max.e, e))


@wrong(unbiased_variance=dict(ddof=1),
       no_projection_term=dict(compact=lambda N, s, gm, dy_n, sum_dy, xh_n, sum_dy_xh:
                               gm / (N * s) * (N * dy_n - sum_dy)))
def check_batchnorm_compact_backward(
        ddof=0,
        compact=lambda N, s, gm, dy_n, sum_dy, xh_n, sum_dy_xh:
        gm / (N * s) * (N * dy_n - sum_dy - xh_n * sum_dy_xh)):
    """nn-batchnorm: for one feature over N = 3 examples, with σ² the batch variance with
    ``ddof`` (the paper's biased one, ddof = 0), ∂⟨dy, y⟩/∂x_n from the chain rule equals the
    compact formula γ/(N s)(N dy_n − Σ dy − x̂_n Σ dy x̂), s = √(σ² + ε), and equals refopt's
    ``batchnorm_backward`` (run on object arrays of SymPy expressions); ∂/∂γ = Σ dy x̂,
    ∂/∂β = Σ dy, also from the code."""
    N = 3
    x = sp.symbols("x0:3", real=True)
    dy = sp.symbols("d0:3", real=True)
    gamma, beta, eps = sp.symbols("gamma beta epsilon", positive=True)
    mu = sum(x) / N
    var = sum((xi - mu) ** 2 for xi in x) / (N - ddof)
    s = sp.sqrt(var + eps)
    xhat = [(xi - mu) / s for xi in x]
    L = sum(d * (gamma * xh + beta) for d, xh in zip(dy, xhat))
    sum_dy, sum_dy_xhat = sum(dy), sum(d * xh for d, xh in zip(dy, xhat))
    # the code's backward, fed the biased forward's cache (what batchnorm_forward stores)
    var_code = sum((xi - mu) ** 2 for xi in x) / N
    inv_std = 1 / sp.sqrt(var_code + eps)
    cache = BatchNormCache(np.array([[(xi - mu) * inv_std] for xi in x], dtype=object),
                           np.array([inv_std], dtype=object), np.array([gamma], dtype=object))
    dx, dgamma, dbeta = batchnorm_backward(cache, np.array([[d] for d in dy], dtype=object))
    for n in range(N):
        chain = sp.diff(L, x[n])
        assert is_zero(chain - compact(N, s, gamma, dy[n], sum_dy, xhat[n], sum_dy_xhat)), n
        assert is_zero(chain - dx[n, 0]), n
    assert is_zero(sp.diff(L, gamma) - dgamma[0])
    assert is_zero(sp.diff(L, beta) - dbeta[0])
