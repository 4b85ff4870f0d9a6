"""Layer-wise and matrix rules (issue 17 part A): the properties their proofs/ pages derive,
asserted on the code. Oracle trajectories are in test_oracles.py (driven by the conventions table) and exact
first steps in test_exact.py."""

from __future__ import annotations

import numpy as np
import pytest

import refopt

RNG = np.random.default_rng(17)
PARAMS = {"w": RNG.uniform(-1, 1, (3, 4)), "b": RNG.uniform(-1, 1, 4)}
GRADS = [{k: RNG.uniform(-1, 1, v.shape) for k, v in PARAMS.items()} for _ in range(5)]

# (factory, relative step of each layer on the first update)
TRUST_RULES = {
    "lamb": (lambda: refopt.lamb(lr=0.01), 0.01),
    "lars": (lambda: refopt.lars(lr=0.1, momentum=0.0, trust_coefficient=0.2), 0.02),
}


def _trajectory(opt, grads, params=PARAMS):
    state, out = opt.init(params), []
    for g in grads:
        params, state = opt.update(g, state, params)
        out.append(params)
    return out


@pytest.mark.parametrize("name", list(TRUST_RULES))
def test_each_layer_moves_by_lr_times_its_norm(name):
    """lem-lamb-relative: ‖θ_1 − θ_0‖ = η‖θ_0‖ per leaf, for gradients of very different sizes.
    rtol 1e-14: one norm, one division and one scaling in float64."""
    make, rel = TRUST_RULES[name]
    grads = {"w": 1e4 * GRADS[0]["w"], "b": 1e-4 * GRADS[0]["b"]}
    new = _trajectory(make(), [grads])[0]
    for k in PARAMS:
        ratio = np.linalg.norm(new[k] - PARAMS[k]) / np.linalg.norm(PARAMS[k])
        np.testing.assert_allclose(ratio, rel, rtol=1e-14)


@pytest.mark.parametrize("name", list(TRUST_RULES))
def test_one_layers_gradient_scale_does_not_change_any_step(name):
    """thm-lamb-layer-scaling (b): scaling only leaf "w"'s gradients by 1e3 leaves all five
    steps of both leaves unchanged (ε = 0). A single global trust ratio would fail this.
    rtol 1e-13: the scaling changes only the rounding of squares, roots and divisions."""
    make = {"lamb": lambda: refopt.lamb(lr=0.01, eps=0.0),
            "lars": lambda: refopt.lars(lr=0.1, momentum=0.9, nesterov=True)}[name]
    scaled = [{"w": 1e3 * g["w"], "b": g["b"]} for g in GRADS]
    for a, b in zip(_trajectory(make(), scaled), _trajectory(make(), GRADS)):
        for k in PARAMS:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-13, atol=0)


def test_lamb_zero_layer_takes_the_plain_adam_step():
    """r = 1 when ‖θ‖ = 0: a zero-initialised bias moves by η·m̂/(√v̂ + ε) (= η·sign(g) at t=1)."""
    opt = refopt.lamb(lr=0.01, eps=0.0)
    params = {"b": np.zeros(3)}
    new, _ = opt.update({"b": np.array([2.0, -0.5, 3.0])}, opt.init(params), params)
    # rtol 1e-15: m̂ and √v̂ equal |g| up to the rounding of the bias corrections
    np.testing.assert_allclose(new["b"], [-0.01, 0.01, -0.01], rtol=1e-15)


def test_lars_masked_leaves_take_the_plain_momentum_step():
    """trust_ratio_mask / weight_decay_mask = matrix_leaves: the vector "b" is neither decayed
    nor rescaled, so it follows momentum SGD with η inside the buffer (refopt.momentum's
    default form), to the last bit."""
    from refopt.optim.lars import matrix_leaves
    opt = refopt.lars(lr=0.1, momentum=0.9, weight_decay=0.1, weight_decay_mask=matrix_leaves,
                      trust_ratio_mask=matrix_leaves)
    ours = _trajectory(opt, GRADS)
    plain = _trajectory(refopt.momentum(lr=0.1, momentum=0.9), [{"b": g["b"]} for g in GRADS],
                        params={"b": PARAMS["b"]})
    for a, b in zip(ours, plain):
        np.testing.assert_array_equal(a["b"], b["b"])
        assert not np.allclose(a["w"], PARAMS["w"])


def test_lars_mask_of_the_wrong_shape_is_rejected_before_any_change():
    opt = refopt.lars(trust_ratio_mask={"w": True})
    state = opt.init(PARAMS)
    with pytest.raises(ValueError, match="trust_ratio_mask must be None, a tree of bools"):
        opt.update(GRADS[0], state, PARAMS)
    with pytest.raises(TypeError, match="weight_decay_mask must have True/False leaves"):
        refopt.lars(weight_decay_mask={"w": 1, "b": 0}).update(GRADS[0], state, PARAMS)


def test_adafactor_factored_leaf_matches_exact_arithmetic():
    """Two steps on a 2×3 leaf of ℓ = Σ ½ d θ² − bθ: the factored R, C, V̂ = R C/mean(R), update
    clipping and the relative step, against exact SymPy iterates (tests/exact_reference.py);
    c = 1 (β̂_2 = 1/2) and ε1 = 0 keep the radicals small enough for SymPy to evaluate quickly.
    rtol 1e-12 as in test_exact.py."""
    import sympy as sp

    from . import exact_reference as ex
    R = sp.Rational
    theta0 = [[R(3, 2), R(-1, 2), R(1, 4)], [R(1), R(2), R(-3, 4)]]
    dd = [[R(1), R(2), R(1, 2)], [R(3, 2), R(1, 4), R(1)]]
    bb = [[R(1, 4), R(-1, 3), R(0)], [R(1, 2), R(0), R(-1, 5)]]

    def grad_exact(th):
        return [[d * x - b for d, x, b in zip(*rows)] for rows in zip(dd, th, bb)]

    expected = ex.adafactor(theta0, grad_exact, 2, R(1, 10), R(1), R(0), R(1, 1000),
                            R(3, 4), factored=True)
    to_np = np.vectorize(lambda x: float(sp.N(x, 30)))
    d_np, b_np = to_np(np.array(dd, dtype=object)), to_np(np.array(bb, dtype=object))
    opt = refopt.adafactor(lr=0.1, clip_threshold=0.75, decay_exponent=1.0, eps1=0.0)
    params = to_np(np.array(theta0, dtype=object))
    state = opt.init(params)
    assert state.row.shape == (2,) and state.col.shape == (3,) and state.v.shape == (0,)
    for exact in expected:
        params, state = opt.update(d_np * params - b_np, state, params)
        np.testing.assert_allclose(params, to_np(np.array(exact, dtype=object)), rtol=1e-12, atol=0)


def test_adafactor_two_largest_axes_is_last_two_on_the_transpose():
    """factored="two_largest" on a 4×2 leaf averages over the size-4 axis for R: it is the
    "last_two" rule applied to the 2×4 transpose (bitwise: the same sums in the same order are
    not guaranteed, so rtol 1e-15)."""
    rng = np.random.default_rng(3)
    p0 = rng.uniform(-1, 1, (4, 2))
    grads = [rng.uniform(-1, 1, (4, 2)) for _ in range(4)]
    a = _trajectory(refopt.adafactor(lr=0.05, factored="two_largest"), grads, params=p0)
    b = _trajectory(refopt.adafactor(lr=0.05, factored="last_two"), [g.T for g in grads], params=p0.T)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y.T, rtol=1e-15, atol=0)
    state = refopt.adafactor(factored="two_largest").init(p0)
    assert state.row.shape == (2,) and state.col.shape == (4,)
    assert refopt.adafactor(min_dim_size_to_factor=3).init(p0).v.shape == (4, 2)  # 2 < 3: not factored


def test_muon_first_step_matches_exact_arithmetic_on_a_tall_matrix():
    """One step on a 3×2 leaf whose gradient has ‖g‖_F = 5: everything is rational except the
    shape scale √(3/2), so the Newton–Schulz iterate (on the 2×3 transpose) is exact.
    rtol 1e-12: five degree-5 matrix polynomials in float64."""
    import sympy as sp

    from . import exact_reference as ex
    R = sp.Rational
    g = sp.Matrix([[1, 2], [2, 0], [0, 4]])
    theta = sp.Matrix([[R(1, 2), -1], [R(1, 4), 2], [1, R(-3, 2)]])
    coeffs = (R(34445, 10000), R(-47750, 10000), R(20315, 10000))
    exact = ex.muon_first_step(theta, g, R(1, 50), R(95, 100), coeffs, 5, sp.sqrt(R(3, 2)))
    to_np = np.vectorize(lambda x: float(sp.N(x, 30)))
    p0 = to_np(np.array(theta.tolist(), dtype=object))
    opt = refopt.muon(lr=0.02, eps=0.0)
    new, _ = opt.update(to_np(np.array(g.tolist(), dtype=object)), opt.init(p0), p0)
    np.testing.assert_allclose(new, to_np(np.array(exact.tolist(), dtype=object)), rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_newton_schulz_with_convergent_coefficients_reaches_the_polar_factor(shape):
    """lem-muon-odd-polynomial: with the cubic p(σ) = (3σ − σ³)/2 (p(1) = 1, p'(1) = 0) the
    iteration from G/‖G‖_F converges to U Vᵀ of G = U Σ Vᵀ; 40 steps reach it to 1e-12 for this
    well-conditioned G (singular values within a factor 10). The rounding floor is ~1e-15."""
    from refopt.optim.muon import newton_schulz
    rng = np.random.default_rng(1)
    u, _, vt = np.linalg.svd(rng.standard_normal(shape), full_matrices=False)
    g = u @ np.diag(np.linspace(1.0, 10.0, min(shape))) @ vt
    x = newton_schulz(np, g, (1.5, -0.5, 0.0), 40, 0.0)
    np.testing.assert_allclose(x, u @ vt, atol=1e-12, rtol=0)


def test_muon_jordan_coefficients_leave_singular_values_in_a_band_not_at_one():
    """lem-muon-jordan: five steps of Jordan's quintic send singular values spread over two
    decades into [0.6, 1.25] (here 0.68..1.05), not to 1: the polar factor is approximated."""
    from refopt.optim.muon import JORDAN_COEFFICIENTS, newton_schulz
    rng = np.random.default_rng(2)
    u, _, vt = np.linalg.svd(rng.standard_normal((6, 6)))
    g = u @ np.diag(np.logspace(-2, 0, 6)) @ vt
    s = np.linalg.svd(newton_schulz(np, g, JORDAN_COEFFICIENTS, 5, 1e-7), compute_uv=False)
    assert 0.6 < s.min() and s.max() < 1.25 and np.ptp(s) > 0.05


def test_muon_leaves_other_than_matrices_follow_the_fallback_rule_exactly():
    """The vector leaf "b" takes exactly the fallback's steps (here NAdam); the matrix "w" does
    not."""
    fb = refopt.nadam(lr=0.01)
    ours = _trajectory(refopt.muon(lr=0.02, fallback=refopt.nadam(lr=0.01)), GRADS)
    plain = _trajectory(fb, [[g["b"]] for g in GRADS], params=[PARAMS["b"]])
    for a, b in zip(ours, plain):
        np.testing.assert_array_equal(a["b"], b[0])


SM3_GRADS = [np.array(g) for g in ([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]],
                                   [[2.0, 0.0, -1.5], [1.0, -1.0, 0.0]],
                                   [[0.0, 1.0, 1.0], [-2.5, 0.5, 2.0]])]


def test_sm3_matrix_matches_exact_arithmetic():
    """Three steps of SM3-II with momentum on a 2×3 leaf and a fixed gradient sequence (so every
    ν' is rational), against tests/exact_reference.py. rtol 1e-12 as in test_exact.py."""
    import sympy as sp

    from . import exact_reference as ex
    R = sp.Rational
    theta0 = [[R(1, 2), -1, R(1, 4)], [1, R(3, 2), 0]]
    grads = [[[sp.nsimplify(x) for x in row] for row in g.tolist()] for g in SM3_GRADS]
    expected = ex.sm3_matrix(theta0, grads, R(1, 10), R(1, 2))
    opt = refopt.sm3(lr=0.1, momentum=0.5, eps=0.0)
    params = np.array([[float(x) for x in row] for row in theta0])
    state = opt.init(params)
    for g, exact in zip(SM3_GRADS, expected):
        params, state = opt.update(g, state, params)
        np.testing.assert_allclose(params, [[float(sp.N(x, 30)) for x in row] for row in exact],
                                   rtol=1e-12, atol=0)


def test_sm3_steps_never_exceed_adagrads_and_equal_them_on_vectors():
    """thm-sm3-bound: with ε = 0 and no momentum, |Δθ| of SM3 ≤ |Δθ| of Adagrad (ε = 0) entry
    by entry on every step for a matrix leaf (ν' ≥ Σ g²), with equality on a vector leaf
    (singleton cover sets). The steps do not depend on θ, so one gradient sequence serves both."""
    rng = np.random.default_rng(4)
    grads = [{"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)} for _ in range(6)]
    p0 = {"w": np.zeros((3, 4)), "b": np.zeros(4)}
    sm3 = _trajectory(refopt.sm3(lr=0.1, momentum=0.0, eps=0.0), grads, params=p0)
    ada = _trajectory(refopt.adagrad(lr=0.1, eps=0.0), grads, params=p0)
    prev_s, prev_a = p0, p0
    strict = 0
    for s, a in zip(sm3, ada):
        step_s, step_a = np.abs(s["w"] - prev_s["w"]), np.abs(a["w"] - prev_a["w"])
        assert np.all(step_s <= step_a * (1 + 1e-15))   # 1e-15: one rounding of √ and /
        strict += int(np.sum(step_s < step_a * (1 - 1e-12)))
        np.testing.assert_allclose(s["b"] - prev_s["b"], a["b"] - prev_a["b"], rtol=1e-15, atol=0)
        prev_s, prev_a = s, a
    assert strict > 0   # the bound is not an equality on matrices


def test_fromage_keeps_the_norm_under_orthogonal_gradients_and_ignores_gradient_scale():
    """lem-fromage-norm: g ⊥ θ per leaf ⇒ ‖θ_1‖ = ‖θ_0‖ (rtol 1e-15: a norm, a division and a
    square root); and scaling one leaf's gradient by 1e3 leaves every step unchanged (rtol 1e-13,
    min_norm = 0 so that the floor plays no part)."""
    w = PARAMS["w"]
    g_w = np.roll(w, 1, axis=1) - (np.vdot(np.roll(w, 1, axis=1), w) / np.vdot(w, w)) * w   # ⊥ w
    grads = {"w": g_w, "b": GRADS[0]["b"]}
    opt = refopt.fromage(lr=0.3, min_norm=0.0)
    new = _trajectory(opt, [grads])[0]
    np.testing.assert_allclose(np.linalg.norm(new["w"]), np.linalg.norm(w), rtol=1e-15)
    scaled = [{"w": 1e3 * g["w"], "b": g["b"]} for g in GRADS]
    for a, b in zip(_trajectory(opt, scaled), _trajectory(opt, GRADS)):
        for k in PARAMS:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-13, atol=0)


# ---- matrix rules on non-square leaves against their oracles (the registry's generic oracle
# problem has only a 2×2 matrix, where every shape scale is 1 and no transpose happens)

RECT = {"w": (3, 5), "v": (5, 3), "b": (4,)}


def _rect_problem(seed=0):
    rng = np.random.default_rng(seed)
    p0 = {k: rng.uniform(-1, 1, s) for k, s in RECT.items()}
    scale = {k: rng.uniform(0.5, 2.0, s) for k, s in RECT.items()}

    def grad(p, t):   # separable quadratic plus seeded noise, the same for both sides
        noise = np.random.default_rng([seed, t])
        return {k: scale[k] * np.asarray(p[k]) + 0.1 * noise.standard_normal(RECT[k]) for k in RECT}

    return p0, grad


@pytest.mark.oracle
def test_muon_matches_optax_on_wide_tall_and_vector_leaves():
    """optax.contrib.muon vs the registry's optax configuration on 3×5, 5×3 and a vector, 30
    float64 steps: √max(1, n/m) and the transposition of tall matrices are exercised.
    rtol/atol 1e-12 as in test_oracles.py."""
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jax.config.update("jax_enable_x64", True)
    from refopt import conventions
    from refopt.registry import SPECS
    oracle = conventions.rows("muon", "optax")[0]
    p0, grad = _rect_problem()
    opt = SPECS["muon"].build(**oracle.refopt_kwargs)
    ours, state = dict(p0), opt.init(p0)
    topt = optax.contrib.muon(**oracle.kwargs)
    theirs = {k: jax.numpy.asarray(v) for k, v in p0.items()}
    tstate, update = topt.init(theirs), jax.jit(topt.update)
    for t in range(30):
        ours, state = opt.update(grad(ours, t), state, ours)
        u, tstate = update({k: jax.numpy.asarray(v) for k, v in grad(theirs, t).items()}, tstate, theirs)
        theirs = optax.apply_updates(theirs, u)
    for k in RECT:
        np.testing.assert_allclose(ours[k], np.asarray(theirs[k]), rtol=1e-12, atol=1e-12)


@pytest.mark.oracle
def test_adafactor_matches_torch_on_wide_and_tall_leaves():
    """torch.optim.Adafactor vs refopt (torch's registry configuration) on 3×5, 5×3 and a
    vector, 30 float64 steps: the factored row/column statistics of non-square matrices."""
    torch = pytest.importorskip("torch")
    from refopt import conventions
    from refopt.registry import SPECS
    oracle = conventions.rows("adafactor", "torch")[0]
    p0, grad = _rect_problem(1)
    opt = SPECS["adafactor"].build(**oracle.refopt_kwargs)
    ours, state = dict(p0), opt.init(p0)
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in p0.items()}
    topt = torch.optim.Adafactor(list(tensors.values()), **oracle.kwargs)
    for t in range(30):
        ours, state = opt.update(grad(ours, t), state, ours)
        g = grad({k: v.detach().numpy() for k, v in tensors.items()}, t)
        for k, v in tensors.items():
            v.grad = torch.tensor(g[k], dtype=torch.float64)
        topt.step()
    for k in RECT:
        np.testing.assert_allclose(ours[k], tensors[k].detach().numpy(), rtol=1e-12, atol=1e-12)


def test_issue_17a_framework_rules_are_in_the_conventions_table():
    """The framework rules these six refopt rules claim to reproduce at 1e-12 are all in the
    conventions table (keras's Adafactor and Muon and torch's Muon do not agree to 1e-12, see
    their proof pages)."""
    from refopt.conventions import CONVENTIONS
    targets = {c.target for c in CONVENTIONS}
    assert {"optax.lamb", "optax.lars", "optax.adafactor", "optax.sm3", "optax.fromage",
            "optax.contrib.muon", "torch.optim.Adafactor", "keras.optimizers.Lamb"} <= targets


def test_muon_mask_sends_an_excluded_matrix_to_the_fallback_and_rejects_non_matrices():
    """muon_mask={"w": False, ...}: the 3×4 matrix then takes exactly the fallback's (SGD's)
    steps; a mask selecting the vector leaf is refused at init."""
    opt = refopt.muon(lr=0.02, fallback=refopt.sgd(lr=0.1), muon_mask={"w": False, "b": False})
    ours = _trajectory(opt, GRADS)
    plain = _trajectory(refopt.sgd(lr=0.1), [[g["b"], g["w"]] for g in GRADS],
                        params=[PARAMS["b"], PARAMS["w"]])
    for a, b in zip(ours, plain):
        np.testing.assert_array_equal(a["w"], b[1])
    with pytest.raises(ValueError, match="muon_mask may select only rank-2 leaves"):
        refopt.muon(muon_mask={"w": True, "b": True}).init(PARAMS)


# ---- frameworks whose float64 runs round some intermediates to a narrower type. Each test
# pins both sides: with the narrowing removed (test-side patch of the framework only) the
# framework equals refopt's configuration at 1e-12 over 60 float64 steps, so the rounding is the
# whole difference; unpatched it differs by more than 1e-12 and stays within a bound derived from
# the narrower type. The rules' proof pages state these facts; they are not conventions-table rows
# because the table's rows hold at 1e-12 for the framework call exactly as a user makes it.

def _import_keras():
    import os
    os.environ.setdefault("KERAS_BACKEND", "jax")   # as test_oracles.py: Keras 3 on JAX
    return pytest.importorskip("keras")


def _keras_float64(monkeypatch):
    """Keras 3 in float64 throughout (JAX backend here; by Keras's dtypes.py every backend but
    TensorFlow narrows): floatx float64 (Muon computes its shape factor √max(m, n) from integers
    in floatx) and 64-bit type promotion (Keras maps float64 to float32 in ``result_type``, so
    ``ops.mean`` and ``ops.norm`` reduce float64 arrays in float32)."""
    import keras
    from keras.src.backend.common import dtypes
    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    monkeypatch.setattr(keras.config, "floatx", lambda: "float64")
    keras.config.set_floatx(previous)
    monkeypatch.setitem(dtypes.BIT64_TO_BIT32_DTYPE, "float64", "float64")


def _oracle_gap(ours, target, seed, **kwargs):
    """Max |θ_ours − θ_theirs| / max(1, |θ_theirs|) over test_oracles' 60-step float64 problem."""
    from refopt.conformance.targets import from_target
    from tests.test_oracles import CoupledNoisyQuadratic, _run
    prob = CoupledNoisyQuadratic(seed)
    a, b = _run(ours, prob), _run(from_target(target, **kwargs), prob)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def _keras_muon_configuration():
    """keras.optimizers.Muon(learning_rate=0.02) as refopt: sum buffer, ‖M‖_F + 1e−7, 0.2·√max(m, n),
    decoupled decay 0.004 on both kinds of leaf, the ε̂-form Adam (ε = 1e−7) on non-matrices."""
    return refopt.muon(lr=0.02, buffer="sum", eps=1e-7, shape_scale="max_dim", weight_decay=0.004,
                       fallback=refopt.adam(0.02, eps_hat=True, eps=1e-7, weight_decay=0.004,
                                            decay="decoupled"))


KERAS_NARROWED = {   # target: refopt configuration
    "keras.optimizers.Adafactor": (lambda: refopt.adafactor(lr=0.01), {"learning_rate": 0.01}),
    "keras.optimizers.Muon": (_keras_muon_configuration, {"learning_rate": 0.02}),
}


@pytest.mark.oracle
def test_keras_reduces_float64_arrays_in_float32():
    """The framework fact behind the Keras rows below: ops.mean / ops.norm of a float64 array
    return float64 holding the float32 result."""
    _import_keras()
    import jax
    jax.config.update("jax_enable_x64", True)
    from keras import ops
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    mean = np.asarray(ops.mean(x, axis=-1))
    assert mean.dtype == np.float64
    np.testing.assert_array_equal(mean, np.mean(x.astype(np.float32), axis=-1).astype(np.float64))
    assert np.max(np.abs(mean - x.mean(axis=-1))) > 1e-9
    norm = float(np.asarray(ops.norm(x, axis=(-2, -1))))
    assert norm == float(np.float32(norm)) and abs(norm - np.linalg.norm(x)) > 1e-9


@pytest.mark.oracle
@pytest.mark.parametrize("target", list(KERAS_NARROWED))
def test_keras_rule_is_refopts_configuration_up_to_float32_reductions(target, monkeypatch):
    """Unpatched: more than 1e-12 apart (measured 6.2e-9 and 2.9e-9; seed 1: 8.7e-9 and 1.7e-9)
    but within 1e-7 ≈ 2 float32 unit roundoffs (2⁻²⁴ ≈ 6e-8 per reduced statistic; the square
    root in Adafactor's V̂ halves it, Muon's normalisation passes it on once). In float64
    throughout: 1e-12 as every oracle row."""
    _import_keras()
    make, kwargs = KERAS_NARROWED[target]
    gap = _oracle_gap(make(), target, 0, **kwargs)   # one seed, as test_oracles.py for Keras
    assert 1e-12 < gap < 1e-7, gap
    _keras_float64(monkeypatch)
    assert _oracle_gap(make(), target, 0, **kwargs) <= 1e-12


def _torch_muon_gap(torch, steps=60, **kwargs):
    """Max |θ_refopt − θ_torch| over ``steps`` float64 steps on a 4×6 and a 6×4 matrix (torch's
    Muon takes matrices only), refopt in its torch configuration."""
    ours_kw = {"nesterov": kwargs.get("nesterov", True), "momentum": kwargs.get("momentum", 0.95),
               "weight_decay": kwargs.get("weight_decay", 0.1),
               "shape_scale": {"original": "rows_over_cols", "match_rms_adamw": "max_dim"}[
                   kwargs.get("adjust_lr_fn", "original")]}
    opt = refopt.muon(lr=kwargs["lr"], buffer="average", norm_eps="floor", **ours_kw)
    rng = np.random.default_rng(6)
    p0 = {"a": rng.uniform(-1, 1, (4, 6)), "b": rng.uniform(-1, 1, (6, 4))}
    scale = {k: rng.uniform(0.5, 2.0, v.shape) for k, v in p0.items()}

    def grad(p, t):
        return {k: scale[k] * p[k] + 0.1 * np.random.default_rng([6, t]).standard_normal(p[k].shape)
                for k in p}

    ours, state = dict(p0), opt.init(p0)
    tensors = {k: torch.tensor(v) for k, v in p0.items()}
    topt = torch.optim.Muon(list(tensors.values()), **kwargs)
    gap = 0.0
    for t in range(steps):
        ours, state = opt.update(grad(ours, t), state, ours)
        g = grad({k: v.numpy() for k, v in tensors.items()}, t)
        for k, v in tensors.items():
            v.grad = torch.tensor(g[k])
        topt.step()
        gap = max(gap, max(float(np.max(np.abs(ours[k] - tensors[k].numpy()))) for k in p0))
    return gap


TORCH_MUON_CALLS = [{"lr": 0.02},
                    {"lr": 0.02, "momentum": 0.9, "nesterov": False, "weight_decay": 0.05,
                     "adjust_lr_fn": "match_rms_adamw"}]


@pytest.mark.oracle
@pytest.mark.parametrize("kwargs", TORCH_MUON_CALLS, ids=["defaults", "plain-momentum-rms"])
def test_torch_muon_is_refopts_configuration_up_to_its_bfloat16_newton_schulz(kwargs, monkeypatch):
    """torch.optim.Muon casts M_t to bfloat16 before Newton–Schulz (8 significant bits). Unpatched:
    one step already differs by more than 1e-5 (a float64 or float32 iteration would not; measured
    2e-4 – 4e-4) and 60 steps stay within 2e-2 (measured 1.2e-3 – 7e-3: bfloat16's unit roundoff
    2⁻⁸ ≈ 4e-3 on steps of size η·κ). With the cast made a copy in the input's dtype (test-side
    patch), torch equals refopt at 1e-12 over 60 float64 steps: the cast is the whole difference."""
    torch = pytest.importorskip("torch")
    assert _torch_muon_gap(torch, steps=1, **kwargs) > 1e-5
    assert _torch_muon_gap(torch, **kwargs) < 2e-2
    monkeypatch.setattr(torch.Tensor, "bfloat16", lambda self, *a, **k: self.clone())
    assert _torch_muon_gap(torch, **kwargs) <= 1e-12
