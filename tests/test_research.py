"""R-SGD, AGD and Big Batch SGD: the facts on their proof pages (rule-rsgd, rule-agd, rule-bigbatch).

Statistical tests state their false-alarm rate; every random draw is seeded, so each test is
deterministic and a failure reproduces exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import refopt
from refopt.problems import LeastSquares, Quadratic
from refopt.research import agd_sgd_fraction, norm_test_statistics, rsgd_masks, run_bigbatch

# z = 4.89 is the two-sided normal quantile for a false-alarm rate of 1e-6 per comparison
Z = 4.89


# ----------------------------------------------------------------------------------- R-SGD

def test_rsgd_with_p_zero_is_sgd_bitwise():
    quad = Quadratic([0.5, 1.0, 2.0], seed=0)
    for mode in ("accumulate", "previous"):
        a = refopt.rsgd(lr=0.1, gamma=0.5, schedule=lambda t: 0.0, mode=mode)
        b = refopt.sgd(lr=0.1)
        pa = pb = np.array([1.0, -1.0, 2.0])
        sa, sb = a.init(pa), b.init(pb)
        for _ in range(30):
            pa, sa = a.update(quad.grad(pa), sa, pa)
            pb, sb = b.update(quad.grad(pb), sb, pb)
            np.testing.assert_array_equal(pa, pb)


@pytest.mark.parametrize("granularity", ["coordinate", "array", "global"])
def test_rsgd_mask_rate_matches_p_t(granularity):
    """Binomial test at false-alarm 1e-6: |k − np| ≤ 4.89 √(np(1−p)), per step t."""
    like = [np.zeros(2000), np.zeros((10, 100))] if granularity == "coordinate" else [np.zeros(3)]
    gamma, p0 = 0.8, 1.0
    for t in (1, 3, 8):
        p = 1 - p0 * gamma ** t
        if granularity == "coordinate":
            draws = np.concatenate([m.ravel() for m in rsgd_masks(like, seed=5, t=t, p=p, granularity=granularity)])
        else:  # one draw per leaf or per step: collect over many seeds
            draws = np.array([rsgd_masks(like, seed=s, t=t, p=p, granularity=granularity)[0][0]
                              for s in range(3000)])
        n = draws.size
        assert abs(draws.sum() - n * p) <= Z * math.sqrt(n * p * (1 - p))


def test_rsgd_expected_direction_is_heavy_ball_with_beta_p_t():
    """E[h_t | past] = g_t + p_t h_{t−1}: Monte Carlo over 4000 seeds from one fixed state,
    each coordinate within 4.89 standard errors (false alarm 1e-6 per coordinate)."""
    g_prev, g_now = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -0.7])
    t, gamma = 2, 0.7
    p = 1 - gamma ** t
    hs = []
    for seed in range(4000):
        opt = refopt.rsgd(lr=1.0, gamma=gamma, seed=seed)
        _, s1 = opt.update(g_prev, opt.init(np.zeros(3)), np.zeros(3))
        _, s2 = opt.update(g_now, s1, np.zeros(3))
        hs.append(s2.memory)
    # h_1 = g_1 whatever the mask (h_0 = 0), so E[h_2] = g_2 + p_2 g_1
    expected = g_now + p * g_prev
    se = np.sqrt(p * (1 - p) / len(hs)) * np.abs(g_prev)
    assert np.all(np.abs(np.mean(hs, axis=0) - expected) <= Z * se)


def test_rsgd_with_p_one_is_undamped_heavy_ball_and_does_not_converge():
    quad = Quadratic([0.5, 1.0], seed=1)
    opt = refopt.rsgd(lr=0.1, gamma=0.5, schedule=lambda t: 1.0)
    x, s = np.array([2.0, -2.0]), opt.init(np.zeros(2))
    start = np.linalg.norm(x - quad.minimiser)
    dists = []
    for _ in range(3000):
        x, s = opt.update(quad.grad(x), s, x)
        dists.append(np.linalg.norm(x - quad.minimiser))
    # β = 1 heavy ball: eigenvalues of the iteration on the unit circle (hλ < 4) — no decay
    assert max(dists[-200:]) > 0.3 * start
    sgd_x = np.array([2.0, -2.0])
    for _ in range(3000):
        sgd_x = sgd_x - 0.1 * quad.grad(sgd_x)
    assert np.linalg.norm(sgd_x - quad.minimiser) < 1e-10  # the same step size converges for SGD


def test_rsgd_is_identical_across_backends():
    import array_api_strict as xs
    opt = refopt.rsgd(lr=0.05, gamma=0.9, seed=4)
    p_np = {"a": np.linspace(-1, 1, 5)}
    p_xs = {"a": xs.asarray(p_np["a"])}
    s_np, s_xs = opt.init(p_np), opt.init(p_xs)
    for _ in range(20):
        p_np, s_np = opt.update({"a": 2 * p_np["a"]}, s_np, p_np)
        p_xs, s_xs = opt.update({"a": 2 * p_xs["a"]}, s_xs, p_xs)
    np.testing.assert_array_equal(np.asarray(p_xs["a"]), p_np["a"])


def test_rsgd_schedule_needs_no_gamma_and_replaces_the_built_in_one():
    """Issue 15 item 13: a custom schedule used to still require gamma."""
    opt = refopt.rsgd(lr=0.1, schedule=lambda t: 0.0)
    x, s = opt.update(np.array([1.0]), opt.init(np.zeros(1)), np.zeros(1))
    _, s = opt.update(np.array([2.0]), s, x)
    np.testing.assert_array_equal(s.memory, [2.0])   # p ≡ 0: no reinforcement, h_2 = g_2


def test_reinforcement_schedule_saturates_at_p_max_and_counts_steps_or_epochs():
    per_step = refopt.research.reinforcement_schedule(gamma=0.5, p0=1.0, p_max=0.7)
    assert [per_step(t) for t in (1, 2, 3)] == [0.5, 0.7, 0.7]     # 1 − 0.5^t, capped at 0.7
    per_epoch = refopt.research.reinforcement_schedule(gamma=0.5, p_max=1.0, time_unit="epoch",
                                                       steps_per_epoch=3)
    assert [per_epoch(t) for t in range(1, 8)] == [0.5] * 3 + [0.75] * 3 + [0.875]
    default = refopt.research.reinforcement_schedule()           # γ = 0.99, p_max = 0.9
    assert default(229) < 0.9 and default(230) == 0.9            # saturates at step 230
    with pytest.raises(ValueError, match="steps_per_epoch"):
        refopt.rsgd(lr=0.1, time_unit="epoch")
    with pytest.raises(ValueError, match="steps_per_epoch"):
        refopt.rsgd(lr=0.1, steps_per_epoch=10)
    with pytest.raises(ValueError, match="time_unit must be one of"):
        refopt.rsgd(lr=0.1, time_unit="epochs")
    with pytest.raises(ValueError, match=r"p_max must be in \[0.0, 1.0\]"):
        refopt.rsgd(lr=0.1, p_max=1.5)


def _expected_rsgd_on_quadratic(lam, eta, p_of, steps):
    """The expected R-SGD iteration on ℓ = λx²/2: heavy ball x_t = x_{t−1} − η(λx_{t−1} + p_t m)."""
    x, h = 1.0, 0.0
    for t in range(1, steps + 1):
        h = lam * x + p_of(t) * h
        x -= eta * h
    return x


def test_rsgd_expected_dynamics_converge_iff_saturated_below_one():
    """thm-rsgd-stability: saturated at p_max < 1 the expected dynamics converge for
    ηλ < 2(1 + p_max) (here ηλ = 3.5 < 3.8, beyond SGD's limit 2) and diverge beyond (ηλ = 3.9);
    unsaturated (p_max = 1, γ = 0.99 per step) the error does not go to zero for ηλ = 1."""
    sched = refopt.research.reinforcement_schedule
    assert abs(_expected_rsgd_on_quadratic(1.0, 3.5, sched(p_max=0.9), 3000)) < 1e-10
    assert abs(_expected_rsgd_on_quadratic(1.0, 3.9, sched(p_max=0.9), 500)) > 1e3


def test_rsgd_default_configuration_trains_where_the_unsaturated_schedule_diverges():
    """Noisy gradients (σ = 0.1) on a κ = 10 quadratic at an SGD-stable step: the default
    (p_max = 0.9) stays in a noise ball; the unsaturated per-step schedule (p_max = 1) does not.
    Σ(1 − p_t) < ∞, so after finitely many resets h is the running sum of the gradients and their
    noise (thm-rsgd-stability). Seeded; the margin seen is ≥ 9×, asserted 4×."""
    quad = Quadratic(np.linspace(0.2, 2.0, 10), seed=3)
    for seed in range(3):
        tails = {}
        for p_max in (0.9, 1.0):
            opt, rng = refopt.rsgd(lr=0.1, p_max=p_max, seed=seed), np.random.default_rng(seed)
            x = np.ones(10)
            s, dists = opt.init(x), []
            for _ in range(3000):
                x, s = opt.update(quad.grad(x) + 0.1 * rng.standard_normal(10), s, x)
                dists.append(np.linalg.norm(x - quad.minimiser))
            tails[p_max] = np.mean(dists[-500:])
        assert tails[0.9] < 0.5 and tails[1.0] > 4 * tails[0.9], (seed, tails)


# -------------------------------------------------------------------------------------- AGD

def test_agd_first_step_both_branches():
    g1 = np.array([0.5, -3.0, 4e-6, -1e-6])
    out, _ = refopt.agd(lr=0.1, delta=1e-5).update(g1, refopt.agd().init(np.zeros(4)), np.zeros(4))
    expected = np.where(np.abs(g1) > 1e-5, -0.1 * np.sign(g1), -(0.1 / 1e-5) * g1)
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_agd_second_difference_is_g2_minus_g1_over_one_plus_beta1():
    beta1, beta2 = 0.9, 0.999
    g1, g2 = np.array([0.7, -0.2]), np.array([0.1, 0.4])
    opt = refopt.agd(lr=0.1, beta1=beta1, beta2=beta2)
    _, s1 = opt.update(g1, opt.init(np.zeros(2)), np.zeros(2))
    _, s2 = opt.update(g2, s1, np.zeros(2))
    s_2 = (g2 - g1) / (1 + beta1)
    np.testing.assert_allclose(s2.b, beta2 * (1 - beta2) * g1 ** 2 + (1 - beta2) * s_2 ** 2, rtol=1e-13)


def test_agd_switches_to_sgd_mode_at_t_star_2398():
    """Constant g: m̂ = g, s_t = 0 for t ≥ 2, b̂_t = β2^{t−1}(1−β2)g²/(1−β2^t); the first t with
    √b̂_t ≤ δ is 2398 for g = 1e-3, δ = 1e-5, β2 = 0.999 — recomputed here, then observed."""
    g, delta, beta2 = 1e-3, 1e-5, 0.999
    t_star = next(t for t in range(1, 10_000)
                  if beta2 ** (t - 1) * (1 - beta2) * g * g / (1 - beta2 ** t) <= delta ** 2)
    assert t_star == 2398
    opt = refopt.agd(lr=1e-3, delta=delta, beta2=beta2)
    x, s = np.zeros(1), opt.init(np.zeros(1))
    fractions = []
    for _ in range(2400):
        x, s = opt.update(np.array([g]), s, x)
        fractions.append(agd_sgd_fraction(s, delta=delta, beta2=beta2))
    assert fractions[t_star - 2] == 0.0 and fractions[t_star - 1] == 1.0


def test_agd_code_form_equals_hat_form():
    """η√(1−β2^t)/(1−β1^t)·m/max(√b, δ√(1−β2^t)) = η m̂/max(√b̂, δ), to 1e-14."""
    rng = np.random.default_rng(0)
    beta1, beta2, delta, lr = 0.9, 0.999, 1e-3, 0.01
    opt = refopt.agd(lr=lr, beta1=beta1, beta2=beta2, delta=delta)
    x, s = rng.standard_normal(50), opt.init(np.zeros(50))
    for t in range(1, 40):
        g = rng.standard_normal(50) * (1e-4 if t % 3 else 1.0)
        new, s_new = opt.update(g, s, x)
        m_hat, b_hat = s_new.m / (1 - beta1 ** t), s_new.b / (1 - beta2 ** t)
        hat_form = x - lr * m_hat / np.maximum(np.sqrt(b_hat), delta)
        np.testing.assert_allclose(new, hat_form, rtol=1e-14, atol=1e-15)
        x, s = new, s_new


def test_agd_with_large_delta_is_bias_corrected_ema_momentum_sgd_with_lr_over_delta():
    rng = np.random.default_rng(1)
    lr, delta, beta1 = 0.5, 1e3, 0.9
    opt = refopt.agd(lr=lr, delta=delta, beta1=beta1)
    x, s = np.ones(4), opt.init(np.ones(4))
    y, m = np.ones(4), np.zeros(4)
    for t in range(1, 60):
        g = rng.standard_normal(4)
        x, s = opt.update(g, s, x)
        m = beta1 * m + (1 - beta1) * g
        y = y - (lr / delta) * m / (1 - beta1 ** t)
        np.testing.assert_allclose(x, y, rtol=1e-13)


def test_agd_amsgrad_denominator_never_decreases_and_clip_bounds_the_step():
    rng = np.random.default_rng(2)
    opt = refopt.agd(lr=0.1, amsgrad=True, clip=0.5, delta=1e-8)
    x, s = np.zeros(20), opt.init(np.zeros(20))
    prev = s.b_max
    for t in range(1, 80):
        g = rng.standard_normal(20) * (100.0 if t == 5 else 1.0)
        new, s = opt.update(g, s, x)
        assert np.all(s.b_max >= prev)
        prev = s.b_max
        bound = 0.1 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * 0.5
        assert np.max(np.abs(new - x)) <= bound * (1 + 1e-12)
        x = new


@pytest.mark.oracle
def test_agd_matches_our_torch_transcription():
    """A torch transcription of the authors' algorithm, written by us from the rule-agd proof page,
    in float64 (amsgrad, clip and decoupled decay on), over 60 steps: rtol 1e-12."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    beta1, beta2, delta, lr, wd, clip = 0.9, 0.99, 1e-4, 0.01, 0.05, 3.0
    rng = np.random.default_rng(3)
    x0 = rng.uniform(1, 2, 6)
    opt = refopt.agd(lr=lr, beta1=beta1, beta2=beta2, delta=delta, amsgrad=True, clip=clip,
                     weight_decay=wd)
    x, s = x0.copy(), opt.init(x0)
    p = torch.tensor(x0)
    m, b, bmax = torch.zeros(6, dtype=torch.float64), torch.zeros(6, dtype=torch.float64), torch.zeros(6, dtype=torch.float64)
    for t in range(1, 61):
        g = rng.standard_normal(6) * (1e-5 if t % 4 == 0 else 1.0) + 0.1 * x
        x, s = opt.update(g, s, x)
        tg = torch.tensor(g)
        p = p * (1 - lr * wd)
        m_old = m.clone()
        m = beta1 * m + (1 - beta1) * tg
        diff = m / (1 - beta1 ** t) - (m_old / (1 - beta1 ** (t - 1)) if t > 1 else 0.0)
        b = beta2 * b + (1 - beta2) * diff * diff
        bmax = torch.maximum(bmax, b)
        denom = torch.clamp(bmax.sqrt(), min=delta * math.sqrt(1 - beta2 ** t))
        update = torch.clamp(m / denom, -clip, clip)
        p = p - lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t) * update
        np.testing.assert_allclose(x, p.numpy(), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------- Big Batch

def _noisy_least_squares(n=400, d=5, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 1.5, d)
    return LeastSquares(X, X @ rng.uniform(-1, 1, d) + noise * rng.standard_normal(n))


def test_variance_estimator_is_unbiased():
    """Batches without replacement: E[V_B] = S² = (1/(N−1)) Σ‖g_n − ∇ℓ‖². 20 000 batches of
    size 5; the Monte Carlo mean is within 4.89 standard errors (false alarm 1e-6)."""
    prob = _noisy_least_squares(n=60)
    x = np.zeros(5)
    G = prob.example_grads(x, np.arange(60))
    S2 = np.sum((G - G.mean(axis=0)) ** 2) / 59
    rng = np.random.default_rng(0)
    vs = np.array([norm_test_statistics(G[rng.choice(60, 5, replace=False)])[1] for _ in range(20_000)])
    assert abs(vs.mean() - S2) <= Z * vs.std(ddof=1) / math.sqrt(len(vs))


def test_norms_variance_equals_two_pass_variance():
    prob = _noisy_least_squares()
    x, idx = np.full(5, 0.3), np.arange(37)
    gbar, v2, gsq = norm_test_statistics(prob.example_grads(x, idx))
    sq = prob.example_grad_sq_norms(x, idx)
    v_norms = (sq.sum() - 37 * gsq) / 36
    assert v_norms == pytest.approx(v2, rel=1e-10)  # cancellation-free enough here (V ≫ ‖ḡ‖²·ε)


def test_growth_stops_exactly_when_the_test_passes_and_never_exceeds_n():
    prob = _noisy_least_squares(n=300)
    opt = refopt.bigbatch(lr=0.05, theta=0.5, batch_size=2, growth=0.25, seed=3)
    x, s = np.zeros(5), opt.init(np.zeros(5))
    for _ in range(60):
        k_before = s.batch_size
        x_before = x
        x, s = opt.update(None, s, x, objective=prob)
        assert k_before <= s.batch_size <= prob.n_examples
        # recompute the final batch and the one before the last growth step
        perm = np.random.default_rng([3, s.t]).permutation(prob.n_examples)
        _, v, gsq = norm_test_statistics(prob.example_grads(x_before, perm[:s.batch_size]))
        assert s.passed == ((v / s.batch_size) <= 0.25 * gsq)
        assert s.passed or s.batch_size == prob.n_examples
        if s.grew:
            prev = s.batch_size - min(prob.n_examples - 1, max(1, math.floor(0.25 * s.batch_size)))
            k = k_before
            while True:  # replay the growth schedule to find the size tested just before
                nxt = k + min(prob.n_examples - k, max(1, math.floor(0.25 * k)))
                if nxt >= s.batch_size:
                    prev = k
                    break
                k = nxt
            _, vp, gp = norm_test_statistics(prob.example_grads(x_before, perm[:prev]))
            assert (vp / prev) > 0.25 * gp  # it grew only because the smaller batch failed
        if s.batch_size == prob.n_examples:
            break


def test_infinite_theta_is_fixed_batch_sgd():
    prob = _noisy_least_squares()
    opt = refopt.bigbatch(lr=0.05, theta=math.inf, batch_size=10, seed=1)
    x, s = np.zeros(5), opt.init(np.zeros(5))
    y = np.zeros(5)
    for t in range(1, 40):
        x, s = opt.update(None, s, x, objective=prob)
        idx = np.random.default_rng([1, t]).permutation(prob.n_examples)[:10]
        y = y - 0.05 * prob.batch_grad(y, idx)
        assert s.batch_size == 10 and not s.grew
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-15)  # mean of rows vs Xᵀr/K


def test_full_batch_armijo_is_backtracking_gradient_descent():
    prob = _noisy_least_squares()
    n = prob.n_examples
    opt = refopt.bigbatch(lr=4.0, batch_size=n, step_rule="armijo", armijo_c=0.1)
    x, s = np.zeros(5), opt.init(np.zeros(5))
    for _ in range(25):
        f0, g0 = prob.value(x), prob.grad(x)
        x_new, s = opt.update(None, s, x, objective=prob)
        np.testing.assert_allclose(x_new, x - s.lr * g0, rtol=1e-12, atol=1e-15)   # a GD step
        assert prob.value(x_new) <= f0 - 0.1 * s.lr * np.sum(g0 ** 2) + 1e-15  # sufficient decrease
        x = x_new
    again, _ = run_bigbatch(prob, np.zeros(5), opt, max_iters=25, record_objective=False,
                            stop_at_full_batch=False)[:2]
    np.testing.assert_array_equal(again, x)  # deterministic


def test_barzilai_borwein_at_full_batch_on_a_1d_quadratic_is_one_over_lambda():
    lam = 2.5
    X = np.full((8, 1), math.sqrt(lam))          # ℓ(w) = (1/2N)Σ(√λ w − y)², curvature λ
    prob = LeastSquares(X, np.arange(8.0))
    opt = refopt.bigbatch(lr=0.01, batch_size=8, step_rule="bb")
    x, s = np.array([5.0]), opt.init(np.array([5.0]))
    x, s = opt.update(None, s, x, objective=prob)   # first iteration: α_0
    x, s = opt.update(None, s, x, objective=prob)
    assert s.lr == pytest.approx(1 / lam, rel=1e-14)
    assert x[0] == pytest.approx(prob.minimiser[0], rel=1e-13)


def test_zero_per_example_gradients_are_a_fixed_point():
    X = np.zeros((10, 3))
    prob = LeastSquares(X, np.zeros(10))
    opt = refopt.bigbatch(lr=0.1, batch_size=2)
    x, s = np.array([1.0, 2.0, 3.0]), opt.init(np.zeros(3))
    new, s = opt.update(None, s, x, objective=prob)
    np.testing.assert_array_equal(new, x)


def test_linear_rate_bound_on_a_strongly_convex_finite_sum():
    """With α = 1/(L(1+θ²)), E[ℓ(x_t) − ℓ*] ≤ (1 − μ/(L(1+θ²)))^t (ℓ(x_0) − ℓ*) (§4, under PL).

    The expectation is estimated by the mean over 20 seeds and must lie below the bound at every
    iteration (no slack: the bound is conservative here by orders of magnitude, see the ratio).
    """
    prob = _noisy_least_squares(n=400, noise=0.3)
    theta = 1.0
    alpha = 1.0 / (prob.L * (1 + theta ** 2))
    rate = 1 - prob.mu / (prob.L * (1 + theta ** 2))
    x0 = np.full(5, 3.0)
    gap0 = prob.value(x0) - prob.min_value
    gaps = []
    for seed in range(20):
        res = run_bigbatch(prob, x0, lr=alpha, theta=theta, batch_size=4, seed=seed, max_iters=30,
                           stop_at_full_batch=False)
        gaps.append(np.array(res.history["objective"]) - prob.min_value)
    mean_gap = np.mean(gaps, axis=0)
    bound = gap0 * rate ** np.arange(1, 31)
    assert np.all(mean_gap <= bound)


def test_batch_size_grows_roughly_geometrically():
    """Near a noisy optimum ‖∇ℓ‖² decays linearly while the per-example variance does not, so
    the size the test demands grows geometrically: log K_t is close to linear in t."""
    prob = _noisy_least_squares(n=20_000, d=3, noise=1.0, seed=4)
    res = run_bigbatch(prob, np.full(3, 2.0), lr=1 / (2 * prob.L), theta=1.0, batch_size=2,
                       growth=0.1, seed=0, max_iters=60, record_objective=False)
    sizes = np.array(res.history["batch_size"], dtype=float)
    sizes = sizes[sizes < prob.n_examples]
    t = np.arange(sizes.size)
    slope, intercept = np.polyfit(t, np.log(sizes), 1)
    resid = np.log(sizes) - (slope * t + intercept)
    r2 = 1 - resid.var() / np.log(sizes).var()
    assert slope > 0.02 and r2 > 0.8


def test_armijo_step_does_not_collapse_by_round_off_at_full_batch():
    """At full batch near the optimum the decrease cα‖ḡ‖² is below the rounding of ℓ_B; without
    slack (armijo_atol=0) the test fails for every α and α halves to ~1e-9 (reproduced here);
    the default slack of 8 ε|ℓ_B| keeps α at the scale of 1/L."""
    from refopt.problems import LogisticRegression, teacher_student
    X, y, _ = teacher_student(400, d=5, hidden=3, noise=0.5, seed=1)
    prob = LogisticRegression(X, y, l2=1e-2)
    runs = {atol: run_bigbatch(prob, np.zeros(prob.dim), lr=1.0 / prob.L, theta=0.5, batch_size=400,
                               step_rule="armijo", seed=0, max_iters=300, stop_at_full_batch=False,
                               armijo_atol=atol).history for atol in (None, 0.0)}
    assert min(runs[0.0]["lr"]) < 1e-6                      # the collapse the slack prevents
    assert min(runs[None]["lr"]) >= 0.5 / prob.L             # never below the first halving of 1/L
    assert runs[None]["objective"][-1] - prob.min_value <= 1e-14   # and it still converges
    with pytest.raises(ValueError, match="armijo_atol must be in"):
        refopt.bigbatch(armijo_atol=-1.0)


class _BadObjective(LeastSquares):
    """A least-squares finite sum whose per-example gradients are corrupted by ``corrupt``."""

    def __init__(self, corrupt):
        rng = np.random.default_rng(0)
        super().__init__(rng.standard_normal((12, 3)), rng.standard_normal(12))
        self.corrupt = corrupt

    def example_grads(self, x, idx):
        return self.corrupt(super().example_grads(x, idx))


@pytest.mark.parametrize("corrupt, error, message", [
    (lambda g: g[:, :, None], ValueError, r"leaf <root> is numpy float64 \(\d+, 3, 1\)"),  # (3,1) rows
    (lambda g: g.astype(np.float32), TypeError, "numpy float32"),
    (lambda g: __import__("array_api_strict").asarray(g), TypeError, "leaf <root> is array_api_strict"),
    (lambda g: g[:, :1], ValueError, r"expected numpy float64 \(\d+, 3\)"),          # broadcastable
])
def test_run_bigbatch_validates_the_objectives_per_example_gradients(corrupt, error, message):
    """Issue 15 item 9: mis-shaped, float32 or foreign per-example gradients used to be broadcast
    or cast into the parameters ((3,1) gradients turned (3,) params into (3,3,3))."""
    x0 = np.array([0.5, -1.0, 2.0])
    before = x0.copy()
    with pytest.raises(error, match=message):
        run_bigbatch(_BadObjective(corrupt), x0, lr=0.01, batch_size=4, max_iters=3)
    np.testing.assert_array_equal(x0, before)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"max_iters": -1}, ValueError, "max_iters must be an integer >= 0"),
    ({"max_iters": True}, ValueError, "max_iters must be an integer >= 0"),
    ({"max_examples": 0}, ValueError, "max_examples must be None or an integer >= 1"),
    ({"tol_grad": math.nan}, ValueError, "tol_grad must be in"),
    ({"tol_grad": math.inf}, ValueError, "tol_grad must be finite, in"),
    ({"tol_objective": -1e-3}, ValueError, "tol_objective must be in"),
    ({"stop_at_full_batch": 1}, TypeError, "stop_at_full_batch"),
])
def test_run_bigbatch_rejects_bad_stopping_arguments(kwargs, error, message):
    """Issue 15 item 13: max_iters=-1 and tol_grad=nan used to be accepted."""
    prob = LeastSquares(np.eye(4), np.ones(4))
    with pytest.raises(error, match=message):
        run_bigbatch(prob, np.zeros(4), lr=0.1, **kwargs)
