"""Properties and framework switches of the issue-16 (part B) rules: Rprop, AdEMAMix, optimistic
GD/Adam, ASGD, Adan, NovoGrad, FTRL-Proximal and Polyak step size SGD.

Each test states which two runs must coincide and at what tolerance; "bitwise" where the
arithmetic is literally the same. Framework conventions are pinned on both sides here; the
whole-trajectory agreement with each framework is in tests/test_oracles.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import refopt

from .helpers import DiagonalQuadratic, assert_trees_equal

P0 = {"w": np.array([1.5, -0.5, 0.25, 2.0]), "b": np.array([[0.3, -1.2]])}
QUAD = DiagonalQuadratic(P0, seed=11)


def trajectory(opt, steps=25, grad=QUAD.grad, params=P0):
    state = opt.init(params)
    out = []
    for _ in range(steps):
        params, state = opt.update(grad(params), state, params)
        out.append(params)
    return out


# --- Rprop ------------------------------------------------------------------------------------

def test_rprop_sees_only_gradient_signs_bitwise():
    """rule-rprop, lem-rprop-sign: any positive per-coordinate rescaling of g gives the same
    iterates, bit for bit (sign(c g) = sign(g), sign(c g_{t−1} · c g_t) = sign(g_{t−1} g_t))."""
    rng = np.random.default_rng(0)
    scale = {k: 10.0 ** rng.uniform(-6, 6, v.shape) for k, v in P0.items()}

    def scaled(p):
        return {k: scale[k] * v for k, v in QUAD.grad(p).items()}

    for kw in ({}, {"sign_change": "skip"}, {"sign_change": "skip", "delayed": True}):
        opt = refopt.rprop(lr=0.3, **kw)   # Δ_0 = 0.3 overshoots: sign flips occur
        assert_trees_equal(trajectory(opt, grad=scaled), trajectory(opt))


def _one_coordinate(opt, grads):
    p, s, out = np.array([0.0]), None, []
    s = opt.init(p)
    for g in grads:
        p, s = opt.update(np.array([g]), s, p)
        out.append(float(p[0]))
    return out


def test_rprop_sign_change_backtracks_in_the_paper_and_skips_in_torch():
    """The paper (backtrack) undoes the last move where g flips; iRprop⁻/torch (skip) stays.
    Hand values with Δ_0 = 0.1, η+ = 1.2, η− = 0.5: moves −0.1, −0.12, then a flip."""
    grads = [1.0, 1.0, -1.0, -1.0]
    paper = _one_coordinate(refopt.rprop(lr=0.1), grads)
    torch_form = _one_coordinate(refopt.rprop(lr=0.1, sign_change="skip"), grads)
    # after the flip both take the "= 0" branch with Δ = 0.06 and g < 0: move +0.06
    np.testing.assert_allclose(paper, [-0.1, -0.22, -0.1, -0.04], rtol=1e-15)
    np.testing.assert_allclose(torch_form, [-0.1, -0.22, -0.22, -0.16], rtol=1e-15)


def test_rprop_delayed_is_the_skip_form_one_step_late_without_sign_flips():
    """optax's delayed form (delayed=True) applies at t the move proposed at t−1: with gradients
    of constant sign, its θ_{t+1} is the skip form's θ_t, bitwise, and its first move is 0."""
    grads = [np.array([0.3, -2.0, 5.0]) * (1 + 0.1 * k) for k in range(12)]
    p0 = np.array([1.0, 2.0, -3.0])

    def run(opt):
        p, s, out = p0, opt.init(p0), []
        for g in grads:
            p, s = opt.update(g, s, p)
            out.append(p)
        return out

    delayed = run(refopt.rprop(lr=0.05, sign_change="skip", delayed=True))
    now = run(refopt.rprop(lr=0.05, sign_change="skip"))
    np.testing.assert_array_equal(delayed[0], p0)
    for a, b in zip(delayed[1:], now[:-1]):
        np.testing.assert_array_equal(a, b)


# --- AdEMAMix ---------------------------------------------------------------------------------

def test_ademamix_with_alpha_zero_is_adam_bitwise():
    """α = 0 removes the slow EMA: m̂1 + 0·m2 = m̂1 exactly, so AdEMAMix is Adam (same decay)."""
    for wd, decay in ((0.0, "decoupled"), (0.1, "decoupled"), (0.05, "l2")):
        a = refopt.ademamix(lr=0.05, beta3=0.99, alpha=0.0, weight_decay=wd, decay=decay)
        b = refopt.adam(lr=0.05, weight_decay=wd, decay=decay)
        assert_trees_equal(trajectory(a), trajectory(b))


def test_ademamix_constant_gradient_step_is_one_plus_alpha_times_slow_ema_mass():
    """lem-ademamix-weights on the code: for a constant g and ε = 0 the t-th move is
    −η (1 + α(1 − β3^t)) sign(g) (m̂1 = g, √ν̂ = |g|, m2 = (1 − β3^t) g).
    rtol 1e-14: each move is a few roundings of O(1) numbers."""
    g = np.array([0.3, -2.0, 1e-3])
    opt = refopt.ademamix(lr=0.01, beta3=0.9, alpha=4.0, eps=0.0)
    p, s = np.zeros(3), opt.init(np.zeros(3))
    for t in range(1, 30):
        q, s = opt.update(g, s, p)
        np.testing.assert_allclose(q - p, -0.01 * (1 + 4.0 * (1 - 0.9 ** t)) * np.sign(g),
                                   rtol=1e-14)
        p = q


def test_ademamix_beta3_warmup_interpolates_half_lives():
    """lem-ademamix-halflife: h(β3(t)) = (1 − t/T) h(β_start) + (t/T) h(β3), h(β) = ln ½ / ln β;
    β3(0) = β_start and β3(t ≥ T) = β3. rtol 1e-12: exp/log of numbers near 1 lose ~1e-14."""
    from refopt.optim import alpha_warmup, beta3_warmup
    sched = beta3_warmup(0.9999, 100, beta_start=0.9)

    def h(b):
        return np.log(0.5) / np.log(b)

    assert sched(100) == 0.9999 and sched(250) == 0.9999
    np.testing.assert_allclose(sched(0), 0.9, rtol=1e-15)
    for t in (1, 37, 99):
        np.testing.assert_allclose(h(sched(t)), (1 - t / 100) * h(0.9) + t / 100 * h(0.9999),
                                   rtol=1e-12)
    a = alpha_warmup(5.0, 10)
    assert [a(t) for t in (0, 1, 5, 10, 11)] == [0.0, 0.5, 2.5, 5.0, 5.0]


def test_ademamix_optax_schedules_count_from_zero():
    """optax.contrib.ademamix evaluates α and β3 schedules at t − 1: refopt with
    ``lambda t: s(t - 1)`` reproduces it (rtol 1e-12, float64), refopt with ``s`` does not."""
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jax.config.update("jax_enable_x64", True)

    def alpha(c):
        return 5.0 * jax.numpy.minimum(c / 10.0, 1.0)

    def beta3(c):
        return 0.9 + 0.09 * jax.numpy.minimum(c / 10.0, 1.0)

    d, b = QUAD.d["w"], QUAD.b["w"]
    topt = optax.contrib.ademamix(learning_rate=0.05, b3=beta3, alpha=alpha)
    p = jax.numpy.asarray(P0["w"])
    s = topt.init(p)
    theirs = []
    for _ in range(20):
        u, s = topt.update(d * p - b, s, p)
        p = p + u
        theirs.append(np.asarray(p))

    def ours(shift):
        opt = refopt.ademamix(lr=0.05, alpha=lambda t: 5.0 * min((t - shift) / 10.0, 1.0),
                              beta3=lambda t: 0.9 + 0.09 * min((t - shift) / 10.0, 1.0))
        q, out = P0["w"], []
        st = opt.init(q)
        for _ in range(20):
            q, st = opt.update(d * q - b, st, q)
            out.append(q)
        return np.array(out)

    np.testing.assert_allclose(ours(1), np.array(theirs), rtol=1e-12, atol=1e-12)
    assert np.max(np.abs(ours(0) - np.array(theirs))) > 1e-4


# --- optimistic GD / Adam ---------------------------------------------------------------------

def test_optimistic_with_beta_zero_is_sgd_and_adam_bitwise():
    """β = 0 drops the correction: (1+0)·d − 0·d_prev = d exactly, so α = 1 gives SGD / Adam."""
    assert_trees_equal(trajectory(refopt.optimistic_gd(lr=0.1, beta=0.0)), trajectory(refopt.sgd(lr=0.1)))
    assert_trees_equal(trajectory(refopt.optimistic_adam(lr=0.05, beta=0.0, weight_decay=0.1)),
                       trajectory(refopt.adam(lr=0.05, weight_decay=0.1)))


def test_optimistic_adam_nesterov_with_beta_zero_is_nadam_psi_infinity():
    """nesterov=True uses NAdam's ψ = ∞ numerator (rule-nadam). rtol 1e-13: the two modules
    group the same products differently over 25 steps."""
    a = trajectory(refopt.optimistic_adam(lr=0.05, beta=0.0, nesterov=True))
    b = trajectory(refopt.nadam(lr=0.05, momentum_decay=math.inf))
    for x, y in zip(a, b):
        np.testing.assert_allclose(x["w"], y["w"], rtol=1e-13, atol=1e-15)


def test_optimistic_gd_telescopes_to_gd_on_the_summed_gradients():
    """lem-optimistic-telescope on the code: θ_T = θ_0 − ηα Σ g_t − ηβ(g_T − g_0), with
    g_0 = g_1 (first_grad) or 0 (zero). rtol 1e-13: 30 roundings of O(1) sums."""
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(4) for _ in range(30)]
    for prev_init, g0 in (("first_grad", grads[0]), ("zero", 0.0 * grads[0])):
        opt = refopt.optimistic_gd(lr=0.1, alpha=0.7, beta=1.3, prev_init=prev_init)
        p, s = np.ones(4), opt.init(np.ones(4))
        for t, g in enumerate(grads, 1):
            p, s = opt.update(g, s, p)
            expected = 1.0 - 0.1 * 0.7 * np.sum(grads[:t], axis=0) - 0.1 * 1.3 * (g - g0)
            np.testing.assert_allclose(p, expected, rtol=1e-13, atol=1e-14)


def test_optimistic_gd_contracts_the_bilinear_game_where_gd_expands():
    """lem-optimistic-bilinear: on min_x max_y xy (descent field (y, −x)), GD multiplies ‖z‖ by
    √(1+η²) per step exactly; optimistic GD (α = β = 1, η ≤ ½) by |μ₊| = √((1+√(1−4η²))/2)
    asymptotically. rtol 1e-12 for GD (a scaled rotation); 1e-9 for OGD after 150 steps (the
    other mode has decayed by (|μ₋|/|μ₊|)^150 < 1e-80)."""
    eta = 0.25

    def field(z):
        return np.array([z[1], -z[0]])

    def norms(opt, steps):
        z, s, out = np.array([1.0, 0.5]), None, []
        s = opt.init(z)
        for _ in range(steps):
            z, s = opt.update(field(z), s, z)
            out.append(np.linalg.norm(z))
        return np.array(out)

    gd = norms(refopt.sgd(lr=eta), 50)
    np.testing.assert_allclose(gd, np.hypot(1.0, 0.5) * (1 + eta**2) ** (np.arange(1, 51) / 2), rtol=1e-12)
    ogd = norms(refopt.optimistic_gd(lr=eta), 200)
    rate = np.sqrt((1 + np.sqrt(1 - 4 * eta**2)) / 2)
    np.testing.assert_allclose(ogd[199] / ogd[149], rate ** 50, rtol=1e-9)
    assert ogd[199] < 1e-2 * ogd[0]


def test_optax_optimistic_adam_v1_is_v2_with_beta_equal_to_optimism_over_lr():
    """"v2" changes optax's interface only: optimistic_adam(η, optimism=o) = α = 1, β = o/η
    (both with Nesterov's m̂). 30 steps in float64, rtol 1e-12."""
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jax.config.update("jax_enable_x64", True)
    d, b = QUAD.d["w"], QUAD.b["w"]
    with pytest.warns(DeprecationWarning):
        topt = optax.optimistic_adam(learning_rate=0.01, optimism=0.03)
    p = jax.numpy.asarray(P0["w"])
    s, theirs = topt.init(p), []
    for _ in range(30):
        u, s = topt.update(d * p - b, s, p)
        p = p + u
        theirs.append(np.asarray(p))
    ours = trajectory(refopt.optimistic_adam(lr=0.01, alpha=1.0, beta=3.0, nesterov=True), 30,
                      grad=lambda q: d * q - b, params=P0["w"])
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=1e-12)


# --- ASGD -------------------------------------------------------------------------------------

def test_asgd_with_lambda_zero_is_sgd_bitwise_and_averages_every_iterate():
    """λ = 0: η_t = η0 and θ·(1 − 0) = θ, so the parameters are SGD's bit for bit; with t0 = 0
    θ̄_t is the mean of θ_1..θ_t (rtol 1e-14: the running mean and np.mean round differently)."""
    opt = refopt.asgd(lr=0.1, lambd=0.0)
    params, state, path = P0, opt.init(P0), []
    for _ in range(25):
        params, state = opt.update(QUAD.grad(params), state, params)
        path.append(params)
    assert_trees_equal(path, trajectory(refopt.sgd(lr=0.1)))
    for k in P0:
        np.testing.assert_allclose(refopt.asgd_average(state)[k], np.mean([p[k] for p in path], axis=0),
                                   rtol=1e-14, atol=1e-15)


def test_asgd_lambda_term_is_l2_regularisation_with_bottou_steps():
    """θ(1 − λη_t) − η_t g = θ − η_t(g + λθ): ASGD is SGD with L2 decay λ on the schedule
    η_t = η0/(1 + λη0(t−1))^α. rtol 1e-13: the two forms round differently over 25 steps."""
    lr, lam, alpha = 0.1, 0.3, 0.75
    a = trajectory(refopt.asgd(lr=lr, lambd=lam, alpha=alpha))
    b = trajectory(refopt.sgd(lr=lambda t: lr / (1 + lam * lr * (t - 1)) ** alpha, weight_decay=lam))
    for x, y in zip(a, b):
        np.testing.assert_allclose(x["w"], y["w"], rtol=1e-13, atol=1e-15)


@pytest.mark.oracle
def test_asgd_average_matches_torch_ax_with_t0_shifted_by_one():
    """torch.optim.ASGD(t0=T) keeps ax = mean(θ_{T+2}..θ_t), which is refopt's θ̄ with t0 = T + 1.
    60 float64 steps on the oracle problem, rtol 1e-12; t0 = T instead differs visibly."""
    torch = pytest.importorskip("torch")
    d, b = QUAD.d["w"], QUAD.b["w"]
    # torch keeps η_t and μ_t in tensors of its default dtype: float64 runs its rule in float64
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        x = torch.tensor(P0["w"], dtype=torch.float64, requires_grad=True)
        topt = torch.optim.ASGD([x], lr=0.05, lambd=0.1, alpha=0.5, t0=5.0)
        axs = []
        for _ in range(60):
            x.grad = torch.tensor(d * x.detach().numpy() - b, dtype=torch.float64)
            topt.step()
            axs.append(topt.state[x]["ax"].detach().numpy().copy())
    finally:
        torch.set_default_dtype(previous)

    def ours(t0):
        opt = refopt.asgd(lr=0.05, lambd=0.1, alpha=0.5, t0=t0)
        p, s, out = P0["w"], opt.init(P0["w"]), []
        for _ in range(60):
            p, s = opt.update(d * p - b, s, p)
            out.append(refopt.asgd_average(s))
        return np.array(out)

    np.testing.assert_allclose(ours(6), np.array(axs), rtol=1e-12, atol=1e-12)
    assert np.max(np.abs(ours(5) - np.array(axs))) > 1e-4


# --- Adan -------------------------------------------------------------------------------------

def test_adan_with_beta2_zero_is_adam_with_beta3_bitwise():
    """c = β2 = 0 removes every difference term (0·v = 0, g + 0·Δ = g): Adan(β1, 0, β3) is
    Adam(β1, β3) for any gradients, bit for bit (decoupled decay on both sides)."""
    a = refopt.adan(lr=0.05, beta1=0.9, beta2=0.0, beta3=0.99, weight_decay=0.1, decay="decoupled")
    b = refopt.adam(lr=0.05, beta1=0.9, beta2=0.99, weight_decay=0.1, decay="decoupled")
    assert_trees_equal(trajectory(a), trajectory(b))


def test_adan_with_equal_betas_is_adam_on_the_extrapolated_gradient():
    """lem-adan-nesterov on the code: β1 = β2 = β ⇒ Adan(β, β, β3) is Adam(β, β3) fed
    ĝ_t = g_t + β(g_t − g_{t−1}) (ĝ_1 = g_1). rtol 1e-13: (m + βv)/bc vs m̂ of ĝ round
    differently; 25 steps on O(1) iterates."""
    beta = 0.9
    adan_opt = refopt.adan(lr=0.05, beta1=beta, beta2=beta, beta3=0.99)
    adam_opt = refopt.adam(lr=0.05, beta1=beta, beta2=0.99)
    pa, sa = P0, adan_opt.init(P0)
    pb, sb, g_prev = P0, adam_opt.init(P0), None
    for _ in range(25):
        pa, sa = adan_opt.update(QUAD.grad(pa), sa, pa)
        g = QUAD.grad(pb)
        g_hat = g if g_prev is None else {k: g[k] + beta * (g[k] - g_prev[k]) for k in g}
        pb, sb = adam_opt.update(g_hat, sb, pb)
        g_prev = g
        for k in P0:
            np.testing.assert_allclose(pa[k], pb[k], rtol=1e-13, atol=1e-15)


def test_adan_difference_scale_pins_paper_and_optax():
    """Δ_1 = 0, so both scales agree exactly on step 1 and differ from step 2 on; the
    proximal decay θ/(1 + ηλ) and the decoupled θ(1 − ηλ) differ at O((ηλ)²) per step."""
    paper = trajectory(refopt.adan(lr=0.05), steps=3)
    optax_form = trajectory(refopt.adan(lr=0.05, diff_scale="one_minus_beta2"), steps=3)
    assert_trees_equal(paper[0], optax_form[0])
    assert np.max(np.abs(paper[1]["w"] - optax_form[1]["w"])) > 1e-4
    prox = trajectory(refopt.adan(lr=0.05, weight_decay=0.5), steps=1)[0]["w"]
    shrink = trajectory(refopt.adan(lr=0.05, weight_decay=0.5, decay="decoupled"), steps=1)[0]["w"]
    plain = trajectory(refopt.adan(lr=0.05), steps=1)[0]["w"]
    np.testing.assert_allclose(prox, plain / (1 + 0.05 * 0.5), rtol=1e-15)
    np.testing.assert_allclose(shrink, plain - 0.05 * 0.5 * P0["w"], rtol=1e-14)


# --- NovoGrad ---------------------------------------------------------------------------------

def test_novograd_is_invariant_to_rescaling_each_layer_separately():
    """lem-novograd-layer-scale on the code: with ε = 0 and λ = 0, multiplying each leaf's
    gradients by its own c_l > 0 changes nothing. rtol 1e-13: √(c²v) = c√v up to rounding."""
    scale = {"w": 1e-4, "b": 3e3}

    def scaled(p):
        return {k: scale[k] * v for k, v in QUAD.grad(p).items()}

    opt = refopt.novograd(lr=0.05, eps=0.0)
    for x, y in zip(trajectory(opt, grad=scaled), trajectory(opt)):
        for k in P0:
            np.testing.assert_allclose(x[k], y[k], rtol=1e-13, atol=1e-15)


def test_novograd_layer_step_norm_is_bounded():
    """lem-novograd-bound on the code: with ε = λ = 0, ‖θ^l_t − θ^l_{t−1}‖ = η at t = 1 and
    ≤ η/((1 − β1)√(1 − β2)) always: 30 random gradients with 10⁶ jumps, then 30 aligned ones
    growing 100× per step, which drive the step to the bound (v_t → (1 − β2)‖g_t‖², and the
    normalised gradients add up coherently). Tolerance 1e-12 relative: a few roundings per step."""
    rng = np.random.default_rng(7)
    b1, b2, lr = 0.9, 0.25, 0.1
    bound = lr / ((1 - b1) * np.sqrt(1 - b2))
    opt = refopt.novograd(lr=lr, beta1=b1, beta2=b2, eps=0.0)
    p, s = np.zeros(5), opt.init(np.zeros(5))
    largest = 0.0
    for t in range(1, 61):
        if t <= 30:
            g = rng.standard_normal(5) * (1e6 if t % 7 == 0 else 1.0)
        else:
            g = np.array([1.0, -2.0, 0.5, 0.0, 3.0]) * 100.0 ** (t - 30)
        q, s = opt.update(g, s, p)
        move = np.linalg.norm(q - p)
        if t == 1:
            np.testing.assert_allclose(move, lr, rtol=1e-14)
        assert move <= bound * (1 + 1e-12)
        largest = max(largest, move)
        p = q
    assert largest > 0.9 * bound   # 30 aligned steps reach ≈ (1 − β1³⁰) of it: not slack


# --- FTRL-Proximal ----------------------------------------------------------------------------

def test_ftrl_without_regularisers_is_adagrad():
    """lem-ftrl-adagrad on the code: λ1 = λ2 = β = 0, p = ½, n_0 = 0 ⇒ θ_t = θ_{t−1} − α g_t/√n_t,
    i.e. AdaGrad with ε = 0, from any θ_0. rtol 1e-12: FTRL recomputes θ from z each step, so
    the two accumulate rounding differently over 25 steps (the gradients are never 0 here)."""
    a = trajectory(refopt.ftrl(lr=0.3, beta=0.0))
    b = trajectory(refopt.adagrad(lr=0.3, eps=0.0))
    for x, y in zip(a, b):
        for k in P0:
            np.testing.assert_allclose(x[k], y[k], rtol=1e-12, atol=1e-14)


def test_ftrl_keras_l2_is_half_the_papers():
    """Keras's stabilising L2 enters its denominator as 2·λ2 (the ½·2λ2 convention): the
    registry's Keras oracle passes λ2/2 for refopt's λ2. Pinned on refopt's side: doubling
    refopt's l2 is the same as adding λ2 to the denominator once more (first step, closed form)."""
    g, lr, beta, n0, l2 = np.array([0.5, -2.0]), 0.5, 0.5, 0.2, 0.1
    opt = refopt.ftrl(lr=lr, l2=l2, beta=beta, initial_accumulator=n0)
    p, _ = opt.update(g, opt.init(np.zeros(2)), np.zeros(2))
    np.testing.assert_allclose(p, -g / ((beta + np.sqrt(n0 + g * g)) / lr + l2), rtol=1e-15)


# --- Polyak step size -------------------------------------------------------------------------

def test_polyak_requires_a_finite_value_before_anything_changes():
    opt = refopt.polyak_sgd()
    p, s = np.ones(3), refopt.polyak_sgd().init(np.ones(3))
    for bad, match in ((None, "value is required"), (float("nan"), "value must be a finite"),
                       (np.inf, "value must be a finite"), ("1.0", "value must be a finite"),
                       (True, "value must be a finite"), (np.ones(2), "value must be a finite")):
        with pytest.raises(ValueError, match=match):
            opt.update(np.ones(3), s, p, value=bad)
    q, s1 = opt.update(np.ones(3), s, p, value=np.float64(1.5))   # 0-d values are accepted
    np.testing.assert_allclose(q, 0.5, rtol=1e-15)                 # γ = 1.5/3 = 0.5


def test_polyak_step_lands_on_the_solution_set_of_a_sharp_loss():
    """lem-polyak-linear on the code: ℓ = |aᵀθ − b| is its own linearisation on each side, so
    one Polyak step with ℓ* = 0 (γ_max = ∞) reaches aᵀθ = b exactly (the projection onto the
    hyperplane). rtol 1e-14: a few roundings of O(1) numbers."""
    a, b = np.array([1.0, -2.0, 0.5]), 0.7
    opt = refopt.polyak_sgd(max_lr=np.inf)
    theta = np.array([2.0, 1.0, -1.0])
    r = a @ theta - b
    new, _ = opt.update(np.sign(r) * a, opt.init(theta), theta, value=abs(r))
    np.testing.assert_allclose(a @ new, b, rtol=1e-14)
    np.testing.assert_allclose(new, theta - r * a / (a @ a), rtol=1e-14)


@pytest.mark.oracle
def test_polyak_optax_scaling_is_lr_s_with_c_s_squared():
    """optax.polyak_sgd(scaling=s) computes s·min(gap/(s²‖g‖² + ε), γ_max): refopt's lr = s, c = s²
    reproduces it (rtol 1e-12); the docstring's c = 1 does not once the cap is inactive."""
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jax.config.update("jax_enable_x64", True)
    g, theta, value, s = np.array([0.3, -0.4]), np.array([1.0, 2.0]), 0.8, 0.5
    topt = optax.polyak_sgd(max_learning_rate=100.0, scaling=s)
    u, _ = topt.update(jax.numpy.asarray(g), topt.init(theta), theta, value=value)
    theirs = theta + np.asarray(u)
    ours, _ = refopt.polyak_sgd(lr=s, c=s * s, max_lr=100.0).update(g, refopt.polyak_sgd().init(theta),
                                                                   theta, value=value)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    documented, _ = refopt.polyak_sgd(lr=s, max_lr=100.0).update(g, refopt.polyak_sgd().init(theta),
                                                                 theta, value=value)
    assert np.max(np.abs(documented - theirs)) > 0.1


def test_accessors_and_schedule_builders_reject_bad_input():
    with pytest.raises(TypeError, match="state must be an ASGDState"):
        refopt.asgd_average(refopt.sgd().init(np.ones(2)))
    from refopt.optim import alpha_warmup, beta3_warmup
    with pytest.raises(ValueError, match="warmup must be an integer >= 1"):
        alpha_warmup(5.0, 0)
    with pytest.raises(ValueError, match=r"beta_start must be in \(0.0, 0.999\]"):
        beta3_warmup(0.999, 10, beta_start=0.9999)
    with pytest.raises(ValueError, match=r"beta3 must be in \(0.0, 1.0\)"):
        beta3_warmup(1.0, 10, beta_start=0.9)
    opt = refopt.ademamix(beta3=lambda t: 1.0)   # a schedule value outside [0, 1) at t = 1
    p = np.ones(2)
    s = opt.init(p)
    with pytest.raises(ValueError, match="schedule beta3 returned an invalid value at t=1"):
        opt.update(p, s, p)


def test_every_framework_rule_of_issue_16b_has_an_oracle():
    """The torch.optim / optax / Keras rules these modules claim to reproduce are all rows of the
    conventions table (each row is a trajectory test in tests/test_oracles.py, Keras on JAX)."""
    from refopt.conventions import CONVENTIONS
    targets = {c.target for c in CONVENTIONS}
    assert {"torch.optim.Rprop", "torch.optim.ASGD", "optax.rprop", "optax.adan", "optax.novograd",
            "optax.polyak_sgd", "optax.optimistic_gradient_descent", "optax.optimistic_adam_v2",
            "optax.contrib.ademamix", "keras.optimizers.Ftrl"} <= targets
