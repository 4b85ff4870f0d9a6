"""Issue 16, part A: the equivalences and properties of RAdam, AdaBelief, Yogi, Lion, Signum,
NAdamW/AdamaxW and lazy Adam (SparseAdam), and the SparseAdam oracle (torch needs sparse grads,
so the generic oracle test cannot run it)."""

from __future__ import annotations

import numpy as np
import pytest

import refopt
from refopt.optim.radam import sma_length

from .helpers import assert_trees_equal
from .test_equivalences import P0, QUAD, trajectory

NOISY = [{k: v + np.random.default_rng([7, t]).standard_normal(v.shape) for k, v in QUAD.grad(P0).items()}
         for t in range(30)]  # gradients of both signs and mixed sizes, for state-level checks


def test_lion_with_equal_betas_is_signum_bitwise():
    """β1 = β2 = β: Lion's c_t = β m_{t−1} + (1−β) g_t is Signum's m_t, the same expression."""
    assert_trees_equal(trajectory(refopt.lion(lr=0.05, beta1=0.8, beta2=0.8)),
                       trajectory(refopt.signum(lr=0.05, momentum=0.8)))


def test_signum_without_momentum_is_sign_sgd_bitwise():
    assert_trees_equal(trajectory(refopt.signum(lr=0.05, momentum=0.0)),
                       trajectory(refopt.sign_sgd(lr=0.05)))
    assert refopt.sign_sgd(lr=0.05).init(P0)._fields == ("t",)  # no buffer, no placeholder


def test_lion_moves_every_coordinate_by_exactly_lr():
    """‖θ_t − θ_{t−1}‖∞ = η_t, and each |Δθ_i| is η_t (c_i ≠ 0 here) — whatever the gradient
    scale (×1e6 below). rtol 1e-15·|θ|/η: θ − η rounds to the ulp of θ."""
    opt = refopt.lion(lr=lambda t: 0.01 / t)
    params, state = P0, opt.init(P0)
    for t, g in enumerate(NOISY[:10], start=1):
        new, state = opt.update({k: 1e6 * v for k, v in g.items()}, state, params)
        for k in P0:
            step = np.abs(new[k] - params[k])
            np.testing.assert_allclose(step, 0.01 / t, rtol=0, atol=4e-16 * np.max(np.abs(params[k])) + 1e-18)
        params = new


def test_radam_early_steps_are_bias_corrected_momentum_sgd():
    """While ρ_t ≤ 4 (t ≤ 4 for β2 = 0.999) RAdam is θ −= η m_t/(1−β1^t): momentum SGD with
    dampening β1 and the schedule η/(1−β1^t). rtol 1e-15: η·(m/c) vs (η/c)·m, one rounding."""
    beta1, lr = 0.9, 0.05
    assert sma_length(4, 0.999) <= 4.0 < sma_length(5, 0.999)
    a = trajectory(refopt.radam(lr=lr, beta1=beta1), steps=6, grads=NOISY)
    b = trajectory(refopt.momentum(lr=lambda t: lr / (1 - beta1 ** t), momentum=beta1,
                                   dampening=beta1, lr_in_buffer=False), steps=6, grads=NOISY)
    for x, y in zip(a[:4], b[:4]):
        for k in x:
            np.testing.assert_allclose(x[k], y[k], rtol=1e-15, atol=0)
    assert not np.allclose(a[4]["w"], b[4]["w"], rtol=1e-3)  # t = 5 is rectified: they split


def test_adabelief_second_moment_is_adams_on_the_prediction_error():
    """With ε_root = 0, AdaBelief's s_t is Adam's v_t fed d_t = g_t − m_t (bitwise: same
    recursion on the same numbers)."""
    belief, adam = refopt.adabelief(lr=0.01, eps_root=0.0), refopt.adam(lr=0.01)
    p, s = P0, belief.init(P0)
    q, s_adam = P0, adam.init(P0)
    m = {k: np.zeros_like(v) for k, v in P0.items()}
    for g in NOISY:
        p, s = belief.update(g, s, p)
        m = {k: 0.9 * m[k] + (1.0 - 0.9) * g[k] for k in g}  # m_t, to form d_t = g_t − m_t
        _, s_adam = adam.update({k: g[k] - m[k] for k in g}, s_adam, q)
        assert_trees_equal(s.s, s_adam.v)
        assert_trees_equal(s.m, m)


def test_yogi_second_moment_moves_additively_and_stays_positive():
    """|v_t − v_{t−1}| ≤ (1−β2) g_t² and v_t ≥ β2 v_{t−1} (proof page); in floats up to the
    roundings of v ± (1−β2)g² and of the difference, 2 ulp of v (ULP below)."""
    opt = refopt.yogi(lr=0.01, beta2=0.9)
    p, s = P0, opt.init(P0)
    for g in NOISY + [{k: np.zeros_like(v) for k, v in P0.items()}] * 3:
        v_old = s.v
        p, s = opt.update(g, s, p)
        for k in g:
            ulp = 2 * np.finfo(float).eps * np.maximum(s.v[k], v_old[k])
            assert np.all(np.abs(s.v[k] - v_old[k]) <= (1 - 0.9) * g[k] ** 2 + ulp)
            assert np.all(s.v[k] >= 0.9 * v_old[k] - ulp)


def test_yogi_keeps_its_second_moment_under_zero_gradients_where_adam_decays():
    """Yogi's change is (1−β2)g² = 0; Adam's v shrinks by β2 per step (rtol 1e-14: 5 roundings)."""
    g = {k: 3.0 * np.ones_like(v) for k, v in P0.items()}
    zero = {k: np.zeros_like(v) for k, v in P0.items()}
    after = {}
    for name, opt in (("yogi", refopt.yogi(lr=0.01)), ("adam", refopt.adam(lr=0.01))):
        p, s = opt.update(g, opt.init(P0), P0)
        before = s.v["w"][0]
        for _ in range(5):
            p, s = opt.update(zero, s, p)
        after[name] = (before, s.v["w"][0])
    assert after["yogi"][1] == after["yogi"][0]
    assert after["adam"][1] == pytest.approx(0.999 ** 5 * after["adam"][0], rel=1e-14)


@pytest.mark.parametrize(("alias", "rule", "kwargs"), [
    (refopt.nadamw, refopt.nadam, {"momentum_decay": 0.004}),
    (refopt.adamaxw, refopt.adamax, {"eps": 1e-8}),
    (refopt.adamw, refopt.adam, {}),
])
def test_w_aliases_are_the_rule_with_decoupled_decay_bitwise(alias, rule, kwargs):
    assert_trees_equal(trajectory(alias(lr=0.01, weight_decay=0.05, **kwargs)),
                       trajectory(rule(lr=0.01, weight_decay=0.05, decay="decoupled", **kwargs)))


# ------------------------------------------------------------------------------ lazy Adam

EMB = {"E": np.linspace(-1.0, 1.0, 15).reshape(5, 3), "b": np.array([0.5, -0.25])}


def _sparse_grads(steps: int, seed: int) -> list[dict]:
    """Each step a seeded subset of E's rows (and b's coordinates) has non-zero gradient."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        g = {k: rng.standard_normal(v.shape) for k, v in EMB.items()}
        g["E"][rng.random(5) < 0.5] = 0.0
        g["b"][rng.random(2) < 0.5] = 0.0
        out.append(g)
    return out


def test_lazy_adam_leaves_rows_without_gradient_untouched_bitwise():
    opt = refopt.adam(lr=0.01, lazy=True)
    p, s = EMB, opt.init(EMB)
    for g in _sparse_grads(20, 3):
        new_p, new_s = opt.update(g, s, p)
        idle = ~np.any(g["E"] != 0, axis=1)
        for tree_new, tree_old in ((new_p, p), (new_s.m, s.m), (new_s.v, s.v)):
            np.testing.assert_array_equal(tree_new["E"][idle], tree_old["E"][idle])
            np.testing.assert_array_equal(tree_new["b"][g["b"] == 0], tree_old["b"][g["b"] == 0])
        assert np.all(new_p["E"][~idle] != p["E"][~idle])
        p, s = new_p, new_s


def test_lazy_adam_without_zero_rows_is_adam_bitwise():
    assert_trees_equal(trajectory(refopt.adam(lr=0.01, lazy=True)), trajectory(refopt.adam(lr=0.01)))


@pytest.mark.oracle
@pytest.mark.parametrize("seed", [0, 1])
def test_lazy_adam_matches_torch_sparse_adam(seed):
    """60 float64 steps; torch gets each leaf's gradient as a sparse COO tensor of its non-zero
    rows (sparse_dim=1). rtol = atol = 1e-12 as in tests/test_oracles.py (torch writes the
    moment update as m + (1−β1)(g − m), a few ulps from β1 m + (1−β1) g)."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    grads = _sparse_grads(60, seed)
    opt = refopt.adam(lr=0.01, eps_hat=True, lazy=True)
    p, s = EMB, opt.init(EMB)
    ours = []
    for g in grads:
        p, s = opt.update(g, s, p)
        ours.append(np.concatenate([p["E"].ravel(), p["b"]]))
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in EMB.items()}
    topt = torch.optim.SparseAdam(list(tensors.values()), lr=0.01)
    theirs = []
    for g in grads:
        for k, v in tensors.items():
            dense = torch.tensor(g[k], dtype=torch.float64)
            rows = torch.nonzero(dense.reshape(dense.shape[0], -1).ne(0).any(dim=1)).reshape(1, -1)
            v.grad = torch.sparse_coo_tensor(rows, dense[rows[0]], dense.shape,
                                             check_invariants=True).coalesce()
        topt.step()
        theirs.append(np.concatenate([tensors["E"].numpy().ravel(), tensors["b"].numpy()]))
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=1e-12)


def test_lion_with_decoupled_decay_stays_in_the_box_of_radius_one_over_lambda():
    """|θ| ≤ 1/λ is invariant and |θ| outside it shrinks every step (rule-lion), whatever the
    gradients. 2 ulp slack: θ(1−ηλ) − ηs rounds twice."""
    lam, lr = 2.0, 0.05
    opt = refopt.lion(lr=lr, weight_decay=lam)
    params = {"w": np.array([0.4, -0.5, 3.0, -2.0]), "b": np.array([[0.49, 0.0]])}
    s = opt.init(params)
    outside_before = np.abs(params["w"][2:])
    for g in NOISY:
        new, s = opt.update({"w": 1e3 * g["w"], "b": g["b"]}, s, params)
        for k in new:
            inside = np.abs(params[k]) <= 1 / lam
            assert np.all(np.abs(new[k][inside]) <= 1 / lam + 4e-16)
            assert np.all(np.abs(new[k][~inside]) < np.abs(params[k][~inside]))
        params = new
    assert np.all(np.abs(params["w"][2:]) < outside_before)


def test_sparse_adam_row_first_touched_late_takes_the_predicted_step():
    """A row first touched at t moves by η(1−β1)√(1−β2^t)/((1−β1^t)√(1−β2)) with ε = 0
    (rule-sparse-adam); at t = 200 that is ≈ 1.35η where Adam's first step is η (→ 3.16η).
    rtol 1e-13: a handful of roundings in each side's powers and roots."""
    lr, b1, b2 = 0.01, 0.9, 0.999
    opt = refopt.adam(lr=lr, eps=0.0, eps_hat=True, lazy=True)
    p = np.array([[1.0, 2.0], [3.0, 4.0]])
    s = opt.init(p)
    with np.errstate(invalid="ignore"):  # ε = 0: the idle row's discarded candidate is 0/0
        for _ in range(199):
            p, s = opt.update(np.array([[0.0, 0.0], [1.0, -1.0]]), s, p)
        assert np.all(p[0] == [1.0, 2.0]) and np.all(s.m[0] == 0)
        new, s = opt.update(np.array([[0.5, -2.0], [1.0, -1.0]]), s, p)
    t = 200
    predicted = lr * (1 - b1) * (1 - b2**t) ** 0.5 / ((1 - b1**t) * (1 - b2) ** 0.5)
    np.testing.assert_allclose(p[0] - new[0], predicted * np.array([1.0, -1.0]), rtol=1e-13)
    assert predicted > 1.3 * lr
