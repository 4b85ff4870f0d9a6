"""Property tests driven by theorems. Statements, with hypotheses, are on the
proofs/ pages; each test names its theorem, generates instances with hypothesis and asserts the
inequality with constants computed from the instance.

Every theorem test has a *mutation check* beside it: a deliberately wrong variant (a step past
2/L, a missing accumulator, ...) violates the same inequality on some instance, which shows the
test can fail. Tolerances: 1e-9 relative slack on bounds absorbs float64 rounding of the
iterates only (the bounds are exact inequalities for exact arithmetic).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refopt
from refopt.problems import LeastSquares, Quadratic, StrictSaddle
from refopt.registry import SPECS
from refopt.testing import strategies as S

SLACK = 1e-9


def gd(prob, x0, lr, steps):
    """The iterates of refopt's own rule, ``refopt.sgd`` with full gradients: a bug in the rule
    shows up as a violated theorem."""
    opt = refopt.sgd(lr=lr)
    xs, state = [x0], opt.init(x0)
    for _ in range(steps):
        x, state = opt.update(prob.grad(xs[-1]), state, xs[-1])
        xs.append(x)
    return xs


def x_start(prob, seed, scale=2.0):
    return np.random.default_rng(seed).uniform(-scale, scale, prob.dim)


# ------------------------------------------------- GD, strongly convex (Nesterov 2004, Thm 2.1.15)

def strongly_convex_gd_holds(prob, x0, lr_factor, steps=60):
    """η = lr_factor/L: ℓ(θ_k) − ℓ* ≤ (1 − μ/L)^k (ℓ(θ_0) − ℓ*) for lr_factor = 1."""
    xs = gd(prob, x0, lr_factor / prob.L, steps)
    gap0 = prob.value(x0) - prob.min_value
    rate = 1 - prob.mu / prob.L
    return all(prob.value(x) - prob.min_value <= rate ** k * gap0 * (1 + SLACK) + 1e-15
               for k, x in enumerate(xs))


@given(prob=S.quadratics(), seed=st.integers(0, 1000))
def test_gd_strongly_convex_function_gap(prob, seed):
    assert strongly_convex_gd_holds(prob, x_start(prob, seed), 1.0)


@given(prob=S.logistic_problems(), seed=st.integers(0, 1000))
def test_gd_strongly_convex_function_gap_on_logistic_regression(prob, seed):
    assert strongly_convex_gd_holds(prob, x_start(prob, seed), 1.0, steps=30)


def test_mutation_gd_step_past_two_over_L_violates_the_gap_bound():
    prob = Quadratic([0.5, 1.0], seed=0)
    assert not strongly_convex_gd_holds(prob, np.array([1.0, 1.0]), 2.1)


@given(prob=S.quadratics(), seed=st.integers(0, 1000))
def test_gd_strongly_convex_iterate_contraction_with_optimal_step(prob, seed):
    """η = 2/(L+μ): ‖θ_k − θ*‖ ≤ ((κ−1)/(κ+1))^k ‖θ_0 − θ*‖ (Nesterov 2004, Thm 2.1.15)."""
    x0 = x_start(prob, seed)
    kappa = prob.L / prob.mu
    q = (kappa - 1) / (kappa + 1)
    xs = gd(prob, x0, 2 / (prob.L + prob.mu), 60)
    e0 = np.linalg.norm(x0 - prob.minimiser)
    for k, x in enumerate(xs):
        assert np.linalg.norm(x - prob.minimiser) <= q ** k * e0 * (1 + SLACK) + 1e-14


def test_mutation_wrong_optimal_step_violates_the_contraction():
    prob = Quadratic([0.2, 1.0], seed=0)
    x0 = np.array([1.0, -1.0])
    q = (5 - 1) / (5 + 1)
    xs = gd(prob, x0, 2.2 / (prob.L + prob.mu), 40)
    e0 = np.linalg.norm(x0 - prob.minimiser)
    assert any(np.linalg.norm(x - prob.minimiser) > q ** k * e0 * (1 + SLACK) for k, x in enumerate(xs))


# ------------------------------------------------------ GD, convex (Nesterov 2004, Cor. 2.1.2)

def convex_gd_holds(prob, x0, lr_factor, steps=80):
    """ℓ(θ_k) − ℓ* ≤ L‖θ_0 − θ*‖²/(2k), θ* the minimiser nearest θ_0 (A may be singular)."""
    xs = gd(prob, x0, lr_factor / prob.L, steps)
    r = x0 - prob.minimiser
    lam, Q = np.linalg.eigh(prob.A)
    coords = Q.T @ r
    dist2 = float(np.sum(coords[lam > 1e-12 * prob.L] ** 2))  # distance to the minimiser set
    return all(prob.value(x) - prob.min_value <= prob.L * dist2 / (2 * k) * (1 + SLACK) + 1e-15
               for k, x in enumerate(xs) if k >= 1)


@given(prob=S.quadratics(min_dim=2, singular=True), seed=st.integers(0, 1000))
def test_gd_convex_rate_one_over_k(prob, seed):
    assert prob.mu is None  # convex, not strongly convex
    assert convex_gd_holds(prob, x_start(prob, seed), 1.0)


def test_mutation_convex_rate_fails_for_step_beyond_two_over_L():
    prob = Quadratic([0.0, 1.0], seed=1)
    assert not convex_gd_holds(prob, np.array([1.0, 1.0]), 2.05)


# -------------------------------------------------- GD, non-convex (Nesterov 2004, §1.2.3)

def nonconvex_gd_holds(prob, x0, lr, T=50):
    """η = 1/L: min_{k<T} ‖∇ℓ(θ_k)‖² ≤ 2L(ℓ(θ_0) − ℓ_inf)/T (with ℓ_inf a lower bound)."""
    xs = gd(prob, x0, lr, T)
    best = min(float(np.sum(prob.grad(x) ** 2)) for x in xs[:T])
    return best <= 2 * prob.L * (prob.value(x0) - prob.lower_bound) / T * (1 + SLACK)


@given(prob=S.nonconvex_problems(), seed=st.integers(0, 1000), T=st.integers(1, 60))
def test_gd_nonconvex_min_gradient_bound(prob, seed, T):
    assert nonconvex_gd_holds(prob, x_start(prob, seed), 1.0 / prob.L, T)


def test_mutation_nonconvex_bound_fails_for_a_large_step():
    """ℓ = 0.1 cos x + x²/2 (L = 1.1, ℓ_inf = −0.1): GD with 2.5/L diverges, so no gradient along
    the run is small and the bound breaks; the same start with 1/L satisfies it."""
    from refopt.problems import CosineMixture
    prob = CosineMixture([0.1], [[1.0]], 1.0)
    assert nonconvex_gd_holds(prob, np.array([2.0]), 1.0 / prob.L, T=20)
    assert not nonconvex_gd_holds(prob, np.array([2.0]), 2.5 / prob.L, T=20)


# ------------------------------------------------ Nesterov's method (Su, Boyd, Candès 2016, eq. 4)

def nesterov_momentum(t):
    return max(0.0, (t - 2) / (t + 1))   # (k−1)/(k+2) with k = t − 1


def nesterov_holds(prob, x0, lr_factor, momentum=nesterov_momentum, steps=80):
    """x_k = y_{k−1} − s∇ℓ(y_{k−1}), y_k = x_k + (k−1)/(k+2)(x_k − x_{k−1}), s ≤ 1/L:
    ℓ(x_k) − ℓ* ≤ 2‖x_0 − x*‖²/(s(k+1)²)."""
    s = lr_factor / prob.L
    opt = refopt.nag(lr=s, momentum=momentum)
    x, state = x0, opt.init(x0)
    r = x0 - prob.minimiser
    lam, Q = np.linalg.eigh(prob.A)
    dist2 = float(np.sum((Q.T @ r)[lam > 1e-12 * prob.L] ** 2))
    for k in range(1, steps + 1):
        x, state = opt.update(None, state, x, grad_fn=prob.grad)
        if prob.value(x) - prob.min_value > 2 * dist2 / (s * (k + 1) ** 2) * (1 + SLACK) + 1e-15:
            return False
    return True


@given(prob=S.quadratics(min_dim=2, singular=True), seed=st.integers(0, 1000),
       frac=S.step_fraction(0.1, 1.0))
def test_nesterov_accelerated_rate(prob, seed, frac):
    assert nesterov_holds(prob, x_start(prob, seed), frac)


def test_mutation_nesterov_with_too_much_momentum_violates_the_rate():
    """γ ≡ 0.999 instead of (k−1)/(k+2): on the slow mode (λ = 1e-3, s = 1) the iteration's
    roots have modulus ≈ 0.999, so the gap decays far slower than 1/k²."""
    prob = Quadratic([0.0, 1e-3, 1.0], seed=2)
    x0 = np.ones(3)
    assert nesterov_holds(prob, x0, 1.0, steps=300)
    assert not nesterov_holds(prob, x0, 1.0, momentum=lambda t: 0.999 if t > 1 else 0.0, steps=300)


# ------------------------------------------------------ heavy ball, Polyak's tuning (Polyak 1964)

def heavy_ball_rate_ok(prob, x0, lr, beta, rho, K=None):
    # measure while truncation, not round-off, sets the error: stop where ρ^K ≈ 1e-10
    K = K or min(400, 2 * math.ceil(math.log(1e-10) / math.log(rho) / 2))
    opt = refopt.momentum(lr=lr, momentum=beta, lr_in_buffer=False)
    x, state = x0, opt.init(x0)
    errs = []
    for _ in range(K):
        x, state = opt.update(prob.grad(x), state, x)
        errs.append(np.linalg.norm(x - prob.minimiser))
    observed = (errs[-1] / errs[K // 2 - 1]) ** (1 / (K - K // 2))
    # the double root at the spectrum's ends adds a factor ≤ (K+1)/(K/2+1) ≈ 2 over K/2 steps
    return observed <= rho * 2 ** (2 / K) * (1 + 1e-6)


@settings(max_examples=15, deadline=None)
@given(prob=S.quadratics(min_dim=2, kappa=(2.0, 200.0)), seed=st.integers(0, 1000))
def test_heavy_ball_polyak_rate(prob, seed):
    """η = 4/(√L+√μ)², β = ((√κ−1)/(√κ+1))²: every mode of the iteration has modulus
    ρ = (√κ−1)/(√κ+1), so the observed rate over the second half of K steps is ≤ ρ·2^{2/K}
    (K ≤ 400, chosen so that ρ^K ≈ 1e-10 stays above round-off)."""
    sl, sm = math.sqrt(prob.L), math.sqrt(prob.mu)
    rho = (sl - sm) / (sl + sm)
    lr, beta = 4 / (sl + sm) ** 2, rho ** 2
    for lam in prob.eigenvalues:  # the modulus claim itself, per eigenvalue
        T = np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]])
        assert max(abs(np.linalg.eigvals(T))) <= rho * (1 + 1e-6)
    assert heavy_ball_rate_ok(prob, x_start(prob, seed), lr, beta, rho)


def test_mutation_heavy_ball_with_unsquared_beta_is_slower_than_the_rate():
    prob = Quadratic([0.01, 1.0], seed=0)
    rho = (1 - 0.1) / (1 + 0.1)
    assert not heavy_ball_rate_ok(prob, np.array([1.0, 1.0]), 4 / 1.1 ** 2, rho / 2, rho)


# --------------------------------------------- online regret with per-coordinate steps (Adagrad)

def run_online(opt, g, D):
    """Play x_t, suffer ⟨g_t, x_t⟩; return (regret vs the best box point, effective steps)."""
    T, d = g.shape
    x, state = np.zeros(d), opt.init(np.zeros(d))
    plays, states = [], []
    for t in range(T):
        plays.append(x)
        x, state = opt.update(g[t], state, x)
        states.append(state)
    best = -np.abs(g.sum(axis=0)).sum() * D / 2   # linear losses: a vertex of [−D/2, D/2]^d
    return float(np.sum(np.array(plays) * g)) - best, states


def adaptive_ogd_bound(g, steps, D):
    """Regret ≤ Σ_i D²/(2η_{T,i}) + ½ Σ_t Σ_i η_{t,i} g_{t,i}² for per-coordinate steps η_{t,i}
    that never increase (McMahan & Streeter 2010; Duchi et al. 2011, proof of Thm 5)."""
    steps = np.asarray(steps)
    assert np.all(np.diff(steps, axis=0) <= 1e-15 * steps[:-1])  # the lemma's hypothesis
    return float(np.sum(D ** 2 / (2 * steps[-1])) + 0.5 * np.sum(steps * g ** 2))


@given(g=S.online_linear_losses(), D=st.floats(0.5, 4.0))
def test_adagrad_regret_bound(g, D):
    """Projected Adagrad (ε = 0), η = D/√2: Regret_T ≤ (D²/(2η) + η) Σ_i ‖g_{1:T,i}‖₂ — O(√T)
    (Duchi, Hazan, Singer 2011, Thm 5, diagonal case) — and the adaptive-OGD lemma bound."""
    eta = D / math.sqrt(2)
    opt = refopt.project_box(refopt.adagrad(lr=eta, eps=0.0), -D / 2, D / 2)
    regret, states = run_online(opt, g, D)
    steps = [eta / np.sqrt(s.sum_squares) for s in states]
    assert regret <= adaptive_ogd_bound(g, steps, D) * (1 + SLACK)
    duchi = (D ** 2 / (2 * eta) + eta) * np.sum(np.sqrt(np.sum(g ** 2, axis=0)))
    assert regret <= duchi * (1 + SLACK)
    assert duchi <= math.sqrt(2) * D * g.shape[1] * np.abs(g).max() * math.sqrt(g.shape[0]) * (1 + 1e-12)


def test_mutation_adagrad_without_accumulation_violates_the_regret_bound():
    """G_t = g_t² only (RMSprop with ρ = 0): a constant-size sign step, regret grows linearly."""
    D, T = 2.0, 2000
    g = np.tile([[1.0], [-0.9]], (T // 2, 1))
    eta = D / math.sqrt(2)
    wrong = refopt.project_box(refopt.rmsprop(lr=eta, rho=0.0, eps=0.0), -D / 2, D / 2)
    regret, _ = run_online(wrong, g, D)
    duchi = (D ** 2 / (2 * eta) + eta) * np.sum(np.sqrt(np.sum(g ** 2, axis=0)))
    assert regret > duchi


@given(g=S.online_linear_losses(), D=st.floats(0.5, 4.0), beta2=st.floats(0.5, 0.999))
def test_amsgrad_regret_bound(g, D, beta2):
    """Projected AMSGrad (β1 = 0, ε = 0, α_t = α/√t): its effective steps α_t/√v̂_t never
    increase — the property Reddi et al. (2018) add to Adam — so the adaptive-OGD regret bound
    holds, and with |g| ≤ G it is O(√T)."""
    alpha = D
    opt = refopt.project_box(refopt.amsgrad(lr=lambda t: alpha / math.sqrt(t), beta1=0.0,
                                            beta2=beta2, eps=0.0), -D / 2, D / 2)
    regret, states = run_online(opt, g, D)
    steps = [alpha / math.sqrt(t) / np.sqrt(s.v_max) for t, s in enumerate(states, start=1)]
    assert regret <= adaptive_ogd_bound(g, steps, D) * (1 + SLACK)


def test_mutation_adam_in_place_of_amsgrad_has_increasing_effective_steps():
    """Without the running max, Adam's α_t/√v̂_t grows after a large gradient fades: the
    regret lemma's hypothesis fails (and on Reddi's game its regret is linear, below)."""
    g = np.concatenate([np.full((5, 1), 1.0), np.full((50, 1), 0.01)])
    opt = refopt.project_box(refopt.adam(lr=lambda t: 1 / math.sqrt(t), beta1=0.0, beta2=0.9,
                                         eps=0.0), -1, 1)
    _, states = run_online(opt, g, 2.0)
    steps = np.array([1 / math.sqrt(t) / np.sqrt(s.v / (1 - 0.9 ** t))
                      for t, s in enumerate(states, start=1)])
    assert np.any(np.diff(steps, axis=0) > 0)
    with pytest.raises(AssertionError):
        adaptive_ogd_bound(g, steps, 2.0)


# -------------------------------------------------- Reddi et al.'s counterexample (Thm 1)

def reddi_game(opt, T=3000, C=3.0):
    x, state = np.zeros(1), opt.init(np.zeros(1))
    regret = 0.0
    for t in range(1, T + 1):
        g = np.array([C if t % 3 == 1 else -1.0])
        regret += float(g[0] * (x[0] - (-1.0)))   # the best fixed point is x* = −1
        x, state = opt.update(g, state, x)
    return float(x[0]), regret / T


def test_reddi_counterexample_adam_drifts_to_the_wrong_point_amsgrad_does_not():
    """f_t(x) = Cx (t ≡ 1 mod 3), −x otherwise, x ∈ [−1, 1], C = 3: β1 = 0, β2 = 1/(1+C²),
    α_t = 0.1/√t. Adam's iterate ends at +1 with average regret bounded away from 0; AMSGrad's
    ends near −1 with vanishing average regret."""
    C = 3.0
    common = {"lr": lambda t: 0.1 / math.sqrt(t), "beta1": 0.0, "beta2": 1 / (1 + C * C), "eps": 0.0}
    x_adam, avg_adam = reddi_game(refopt.project_box(refopt.adam(**common), -1, 1))
    x_ams, avg_ams = reddi_game(refopt.project_box(refopt.amsgrad(**common), -1, 1))
    assert x_adam > 0.9 and avg_adam > 0.5
    assert x_ams < -0.9 and avg_ams < 0.1


# ------------------------------------ SGD with η_t = 1/(μt) (Rakhlin, Shamir, Sridharan 2012, L.1)

def sgd_runs(prob, R, lr, seeds, T):
    """Projected SGD from w = 0 for many seeds at once: row s of the parameter array is seed s's
    run (SGD and the box projection act elementwise, so rows never interact). Seed s samples
    example i_t uniformly with replacement. Returns ‖w_t − w*‖² per step and seed, (T, S)."""
    rng = np.random.default_rng(seeds)
    opt = refopt.project_box(refopt.sgd(lr=lr), -R, R)
    W = np.zeros((seeds, prob.dim))
    state = opt.init(W)
    errs = np.empty((T, seeds))
    for t in range(T):
        i = rng.integers(0, prob.n_examples, seeds)
        X, y = prob.X[i], prob.y[i]
        grads = (np.sum(X * W, axis=1) - y)[:, None] * X   # ∇ℓ_{i_s}(w_s) for every row s
        W, state = opt.update(grads, state, W)
        errs[t] = np.sum((W - prob.minimiser) ** 2, axis=1)
    return errs


def sq_grad_bound(prob, R):
    """G² ≥ sup_{w∈[−R,R]^d} max_n ‖∇ℓ_n(w)‖², from |x_nᵀw − y_n| ≤ R‖x_n‖₁ + |y_n|."""
    X, y = prob.X, prob.y
    return float(np.max((R * np.abs(X).sum(axis=1) + np.abs(y)) ** 2 * np.sum(X * X, axis=1)))


@settings(max_examples=10, deadline=None)
@given(prob=S.least_squares(max_n=40, max_dim=3, noise=(0.1, 1.0)))
def test_sgd_one_over_t_mean_squared_error(prob):
    """E‖w_t − w*‖² ≤ 4G²/(μ²t) for projected SGD, η_t = 1/(μt), over a box containing w*
    (Rakhlin, Shamir, Sridharan 2012, Lemma 1).

    E is estimated by the mean over 200 seeds. The bound holds for the true expectation; the
    margin is wide here, so the mean falls below it at every t (the failure message gives the
    largest mean/bound ratio)."""
    R = float(np.abs(prob.minimiser).max()) + 1.0
    G2 = sq_grad_bound(prob, R)
    T = 300
    mean = sgd_runs(prob, R, lambda t: 1.0 / (prob.mu * t), 200, T).mean(axis=1)
    bound = 4 * G2 / (prob.mu ** 2 * np.arange(1, T + 1))
    assert np.all(mean <= bound), float(np.max(mean / bound))


def test_mutation_constant_step_sgd_violates_the_one_over_t_bound():
    """No 1/t decay (η ≡ 1/μ): the error stalls at a noise floor while the bound keeps falling."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    prob = LeastSquares(X, X @ np.array([0.5, -0.5]) + rng.standard_normal(30))
    R = float(np.abs(prob.minimiser).max()) + 1.0
    T = 5000
    mean = sgd_runs(prob, R, 1.0 / prob.mu, 50, T).mean(axis=1)
    bound = 4 * sq_grad_bound(prob, R) / (prob.mu ** 2 * np.arange(1, T + 1))
    assert np.any(mean > bound)


# --------------------------------------------- escape from a strict saddle (empirical property)

def steps_to_escape(opt, x0, limit=3000):
    prob = StrictSaddle()
    x, state = x0, opt.init(x0)
    for k in range(1, limit + 1):
        x, state = opt.update(prob.grad(x), state, x)
        if abs(x[1]) > 0.5:
            return k
    return None


def test_saddle_escape():
    """Empirical, not a theorem: started exactly on the stable manifold y = 0, GD converges to
    the saddle; gradient noise escapes. Started 1e-8 off it, heavy ball and R-SGD escape in
    fewer steps than GD."""
    on = np.array([1.0, 0.0])
    assert steps_to_escape(refopt.sgd(lr=0.1), on) is None
    assert steps_to_escape(refopt.add_gradient_noise(refopt.sgd(lr=0.1), eta=0.01, seed=0), on) is not None
    off = np.array([1.0, 1e-8])
    k_gd = steps_to_escape(refopt.sgd(lr=0.1), off)
    assert k_gd is not None
    assert steps_to_escape(refopt.momentum(lr=0.1, momentum=0.9), off) < k_gd
    assert steps_to_escape(refopt.rsgd(lr=0.1, gamma=0.99, seed=0), off) < k_gd


# ------------------------------------------- every rule on a well-conditioned quadratic (guard)

GUARD_STEPS, GUARD_TOL = 3000, 1e-3


@pytest.mark.parametrize("name", [n for n in SPECS if n != "leapfrog"])
def test_regression_guard_every_rule_converges_on_a_well_conditioned_quadratic(name):
    """Regression guard (not a theorem): from the spec's first example configuration, each rule
    brings ℓ − ℓ* below 1e-3 of its initial value within 3000 steps on a 4-d quadratic with
    κ = 2. Leapfrog, the documented unstable control, must instead diverge."""
    spec = SPECS[name]
    prob = Quadratic([0.5, 0.7, 0.8, 1.0], seed=3)
    x0 = np.array([1.0, -1.0, 2.0, 0.5])
    gap0 = prob.value(x0) - prob.min_value
    opt = spec.build(**spec.configs[0])
    x, state = x0, opt.init(x0)
    if "objective" in opt.extra_args:
        X = np.linalg.cholesky(prob.A).T  # ℓ_n with (1/N)ΣXᵀX = A: a finite sum with this Hessian
        rows = np.sqrt(4.0) * X
        fs = LeastSquares(rows, rows @ prob.minimiser)
        for _ in range(GUARD_STEPS):
            x, state = opt.update(None, state, x, objective=fs)
    else:
        for _ in range(GUARD_STEPS):
            if "grad_fn" in opt.extra_args:
                x, state = opt.update(None, state, x, grad_fn=prob.grad)
            elif "value" in opt.extra_args:
                x, state = opt.update(prob.grad(x), state, x, value=prob.value(x))
            else:
                x, state = opt.update(prob.grad(x), state, x)
    assert prob.value(x) - prob.min_value <= GUARD_TOL * gap0


def test_leapfrog_does_not_converge_on_the_guard_problem():
    prob = Quadratic([0.5, 0.7, 0.8, 1.0], seed=3)
    opt = refopt.ode.linear_multistep("leapfrog", lr=0.1, allow_unstable=True)
    x, state = np.array([1.0, -1.0, 2.0, 0.5]), opt.init(np.zeros(4))
    for _ in range(500):
        x, state = opt.update(prob.grad(x), state, x)
    assert not np.all(np.isfinite(x)) or prob.value(x) - prob.min_value > 1.0
