"""Objectives: gradients, Hessians, stated constants, minimisers, flows, finite sums, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from refopt import problems as P
from refopt.testing import check_grad, check_vjp

X5, Y5, _ = P.teacher_student(40, d=4, hidden=3, seed=2)


def make(name):
    return {
        "quadratic": lambda: P.Quadratic([0.1, 0.5, 2.0, 3.0], seed=1),
        "least_squares": lambda: P.LeastSquares(X5, X5 @ np.arange(1.0, 5.0) + 0.1),
        "logistic": lambda: P.LogisticRegression(X5, Y5, l2=0.05),
        "softmax": lambda: P.SoftmaxRegression(X5, (X5[:, 0] > 0).astype(int) + (X5[:, 1] > 0), l2=0.05),
        "rosenbrock": lambda: P.Rosenbrock(),
        "beale": lambda: P.Beale(),
        "saddle": lambda: P.StrictSaddle(),
    }[name]()


NAMES = ["quadratic", "least_squares", "logistic", "softmax", "rosenbrock", "beale", "saddle"]
FINITE_SUMS = ["least_squares", "logistic", "softmax"]


def point(prob, seed):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, prob.dim)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_and_hessian_against_finite_differences(name, seed):
    prob = make(name)
    x = point(prob, seed)
    assert check_grad(prob.value, prob.grad, x, seed=seed) <= 1e-8   # central: see test_nn
    # the Hessian is the Jacobian of the gradient, and symmetric, so Hᵀu = Hu
    assert check_vjp(prob.grad, lambda x, u: prob.hessian(x) @ u, x, seed=seed) <= 1e-7


def test_matrix_factorisation_gradient_and_hvp():
    mf = P.MatrixFactorisation(5, 4, 2, seed=3)
    p = mf.random_point(1)
    assert check_grad(mf.value, mf.grad, p) <= 1e-8
    assert check_vjp(mf.grad, lambda x, u: mf.hvp(x, u), p) <= 1e-7
    assert mf.value(mf.minimiser) == pytest.approx(0.0, abs=1e-24)


@pytest.mark.parametrize("name", ["quadratic", "least_squares", "logistic", "softmax"])
def test_stated_smoothness_and_strong_convexity_bound_the_hessian(name):
    prob = make(name)
    for seed in range(5):
        eig = np.linalg.eigvalsh(prob.hessian(point(prob, seed)))
        assert eig.max() <= prob.L * (1 + 1e-12)
        assert eig.min() >= prob.mu * (1 - 1e-12)
    if name in ("quadratic", "least_squares"):  # exact: the Hessian is constant
        eig = np.linalg.eigvalsh(prob.hessian(point(prob, 0)))
        assert eig.max() == pytest.approx(prob.L, rel=1e-12)
        assert eig.min() == pytest.approx(prob.mu, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_minimiser_is_stationary_with_the_stated_value(name):
    prob = make(name)
    x_star = prob.minimiser
    assert np.linalg.norm(prob.grad(x_star)) <= 1e-10
    assert prob.value(x_star) == pytest.approx(prob.min_value, abs=1e-14)
    # and it is a minimum: nearby points are not lower
    for seed in range(5):
        assert prob.value(x_star + 1e-3 * point(prob, seed)) >= prob.min_value - 1e-14


def test_quadratic_constructor_states_kappa():
    q = P.Quadratic.with_condition_number(6, kappa=50.0, L=2.0, seed=0)
    assert q.L == pytest.approx(2.0) and q.L / q.mu == pytest.approx(50.0)


@pytest.mark.parametrize("name", ["quadratic", "least_squares", "saddle"])
def test_exact_gradient_flow(name):
    """x(0) = x0, x'(t) = −∇ℓ(x(t)) (central difference in t), and the semigroup property."""
    prob = make(name)
    x0 = point(prob, 4)
    # Q e^{0} Qᵀ = I only up to the rounding of the computed orthogonal factor,
    # ‖QQᵀ − I‖ ≲ n·ε (LAPACK's backward-stable eigh; the constant depends on the BLAS), applied
    # to x0 − x*: bound the error by 10·n·ε·(‖x0‖ + ‖x*‖), not by one machine's few ulps
    x_star = prob.minimiser if prob.minimiser is not None else np.zeros_like(x0)
    bound = 10 * x0.size * np.finfo(np.float64).eps * (np.linalg.norm(x0) + np.linalg.norm(x_star))
    np.testing.assert_allclose(prob.flow(x0, 0.0), x0, rtol=0, atol=bound)
    for t in (0.3, 1.7):
        h = 1e-5  # central difference in t: truncation ~h², round-off ~ε/h, both < 1e-9
        deriv = (prob.flow(x0, t + h) - prob.flow(x0, t - h)) / (2 * h)
        np.testing.assert_allclose(deriv, -prob.grad(prob.flow(x0, t)), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(prob.flow(prob.flow(x0, 0.5), t), prob.flow(x0, 0.5 + t),
                                   rtol=1e-12, atol=1e-14)


def test_saddle_flow_stays_on_the_stable_manifold():
    s = P.StrictSaddle()
    np.testing.assert_array_equal(s.flow(np.array([1.0, 0.0]), 5.0)[1], 0.0)
    assert s.flow(np.array([1.0, 1e-3]), 20.0)[1] == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("name", FINITE_SUMS)
def test_finite_sum_per_example_quantities(name):
    prob = make(name)
    x = point(prob, 5)
    idx = np.array([3, 0, 7, 7, 12])
    per = prob.example_grads(x, idx)
    np.testing.assert_allclose(per.mean(axis=0), prob.batch_grad(x, idx), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.sum(per ** 2, axis=1), prob.example_grad_sq_norms(x, idx), rtol=1e-12)
    np.testing.assert_allclose(prob.example_losses(x, idx).mean(), prob.batch_value(x, idx), rtol=1e-13)
    all_idx = np.arange(prob.n_examples)
    np.testing.assert_allclose(prob.example_grads(x, all_idx).mean(axis=0), prob.grad(x), rtol=1e-12,
                               atol=1e-15)


def test_mlp_objective_batch_gradient_is_the_mean_of_example_gradients():
    from refopt.nn import MLP
    obj = P.MLPObjective(MLP([4, 3, 2]), X5, Y5)
    params = obj.net.init(0)
    assert check_grad(obj.value, obj.grad, params) <= 1e-8


def test_epoch_batches_are_reproducible_and_partition_the_data():
    a = P.epoch_batches(23, 5, seed=4, epoch=2)
    b = P.epoch_batches(23, 5, seed=4, epoch=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert sorted(np.concatenate(a).tolist()) == list(range(23))
    assert [len(x) for x in a] == [5, 5, 5, 5, 3]
    assert not np.array_equal(np.concatenate(a), np.concatenate(P.epoch_batches(23, 5, seed=4, epoch=3)))
    assert len(P.epoch_batches(23, 5, seed=4, epoch=2, drop_last=True)) == 4
    r = P.epoch_batches(23, 5, seed=4, epoch=2, replacement=True)
    assert len(r) == 5 and all(len(x) == 5 and x.min() >= 0 and x.max() < 23 for x in r)


def test_datasets_are_seeded_and_shaped():
    X, y = P.two_moons(101, seed=3)
    assert X.shape == (101, 2) and set(np.unique(y)) == {0, 1}
    assert np.array_equal(X, P.two_moons(101, seed=3)[0])
    X, y = P.spirals(90, classes=3, seed=1)
    assert X.shape == (90, 2) and np.bincount(y).tolist() == [30, 30, 30]
    X, y, teacher = P.teacher_student(200, d=6, hidden=4, seed=0)
    assert X.shape == (200, 6) and 0.2 < y.mean() < 0.8
    np.testing.assert_array_equal(y, (np.tanh(X @ teacher["W1"]) @ teacher["w2"] > 0).astype(int))
    s = P.train_test_split(X, y, test_fraction=0.25, seed=0)
    assert s.X_test.shape[0] == 50 and s.X_train.shape[0] == 150


def test_digits_when_scikit_learn_is_installed():
    pytest.importorskip("sklearn", reason="scikit-learn is not installed")
    X, y = P.digits()
    assert X.shape == (1797, 64) and X.min() == 0.0 and X.max() == 1.0 and set(y) == set(range(10))


@pytest.mark.parametrize("call,error,match", [
    (lambda: P.LeastSquares(np.array([[np.nan]]), np.array([1.0])), ValueError, "finite"),
    (lambda: P.LeastSquares(np.ones((3, 2)), np.ones(2)), ValueError, r"X must be \(N, d\) and y \(N,\)"),
    (lambda: P.SoftmaxRegression(np.ones((2, 2)), np.array([0, 3]), n_classes=2), ValueError, "labels must lie"),
    (lambda: P.LogisticRegression(np.ones((2, 2)), np.array([0, 2])), ValueError, "labels must be 0 or 1"),
    (lambda: P.SoftmaxRegression(np.ones((2, 2)), np.array([0.0, 1.0])), TypeError, "labels must be integers"),
    (lambda: make("least_squares").batch_grad(np.zeros(4), np.array([40])), ValueError, r"idx must lie in \[0, 39\]"),
    (lambda: make("quadratic").grad(np.zeros(3)), ValueError, r"x must have shape \(4,\)"),
    (lambda: P.Quadratic([1.0, -1.0]), ValueError, "eigenvalues must be"),
    (lambda: P.epoch_batches(10, 0, seed=0, epoch=0), ValueError, "batch_size must be an integer >= 1"),
])
def test_bad_problem_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()
