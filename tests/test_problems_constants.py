"""Documented constants of refopt.problems pinned exactly, not only as bounds (issue 18).

Logistic regression's L = λ_max(XᵀX)/(4N) + λ is the Hessian's largest eigenvalue at w = 0
(σ′(0) = ¼ is σ′'s maximum), so it is attained there; softmax regression's Böhning bound
λ_max(XᵀX)/(2N) + λ is attained at W = 0 for K = 2 classes. Both are checked against a
Hessian formed by central differences of a gradient written here from the loss's formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from refopt import problems as P

RNG = np.random.default_rng(3)
X = RNG.standard_normal((30, 3)) * np.array([1.0, 2.0, 0.5])
LABELS = (X[:, 0] + 0.3 * RNG.standard_normal(30) > 0).astype(int)


def _fd_hessian(grad, dim, h=1e-5):
    """Central differences of grad at 0 (error O(h²)·‖∇³ℓ‖ ≈ 1e-10 here)."""
    H = np.empty((dim, dim))
    for i in range(dim):
        e = np.zeros(dim)
        e[i] = h
        H[:, i] = (grad(e) - grad(-e)) / (2 * h)
    return 0.5 * (H + H.T)


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_logistic_regression_L_is_attained_at_zero(l2):
    prob = P.LogisticRegression(X, LABELS, l2=l2)

    def grad(w):     # ∇ℓ = Xᵀ(σ(Xw) − y)/N + λw
        return X.T @ (1 / (1 + np.exp(-(X @ w))) - LABELS) / len(X) + l2 * w

    top = np.linalg.eigvalsh(_fd_hessian(grad, 3)).max()
    assert prob.L == pytest.approx(top, rel=1e-8)   # finite-difference Hessian, see _fd_hessian


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_softmax_regression_L_is_attained_at_zero_for_two_classes(l2):
    prob = P.SoftmaxRegression(X, LABELS, l2=l2)

    def grad(w):     # W (d, K) row-major; ∇_W = Xᵀ(softmax(XW) − Y)/N + λW
        W = w.reshape(3, 2)
        z = X @ W
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return (X.T @ (p - np.eye(2)[LABELS]) / len(X)).ravel() + l2 * w

    top = np.linalg.eigvalsh(_fd_hessian(grad, 6)).max()
    assert prob.L == pytest.approx(top, rel=1e-8)


def test_cosine_mixture_constants_by_hand():
    a, B = np.array([1.0, -2.0]), np.array([[1.0, 2.0], [0.5, -1.0]])
    prob = P.CosineMixture(a, B, c=0.25)
    assert prob.L == pytest.approx(1 * 5 + 2 * 1.25 + 0.25, rel=1e-15)
    assert prob.lower_bound == -3.0
    x = np.array([0.3, -0.8])
    z = B @ x                                           # ∇ = −Σ a_i sin(b_iᵀx) b_i + c x
    want = -(a[0] * np.sin(z[0]) * B[0] + a[1] * np.sin(z[1]) * B[1]) + 0.25 * x
    np.testing.assert_allclose(prob.grad(x), want, rtol=1e-14)
    want_h = -(a[0] * np.cos(z[0]) * np.outer(B[0], B[0]) + a[1] * np.cos(z[1]) * np.outer(B[1], B[1]))
    np.testing.assert_allclose(prob.hessian(x), want_h + 0.25 * np.eye(2), rtol=1e-14)


def test_least_squares_constants_and_square_norms_by_hand():
    Xs = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    y = np.array([1.0, 0.0, 3.0])
    prob = P.LeastSquares(Xs, y)
    w = np.array([0.5, -1.0])
    r = Xs @ w - y                                     # (-0.5, -2, -3.5)
    np.testing.assert_allclose(prob.example_grad_sq_norms(w, np.arange(3)),
                               r ** 2 * np.array([1.0, 4.0, 2.0]), rtol=1e-15)
    # minimiser of ½ mean (x·w − y)²: normal equations [[2, 1], [1, 5]] w = (4, 3) → w = (17, 2)/9
    np.testing.assert_allclose(prob.minimiser, [17 / 9, 2 / 9], rtol=1e-13)
    res = Xs @ np.array([17 / 9, 2 / 9]) - y
    assert prob.min_value == pytest.approx(0.5 * np.mean(res ** 2), rel=1e-12)


def test_quadratic_with_condition_number_spreads_eigenvalues_geometrically():
    q = P.Quadratic.with_condition_number(4, 1000.0, L=2.0)
    np.testing.assert_allclose(q.eigenvalues, [2e-3, 2e-2, 2e-1, 2.0], rtol=1e-14)
    assert (q.L, q.mu) == (2.0, pytest.approx(2e-3, rel=1e-14))


def test_epoch_batches_follow_the_documented_generator():
    order = np.random.default_rng([4, 2]).permutation(23)   # SeedSequence [seed, epoch]
    got = P.epoch_batches(23, 5, seed=4, epoch=2)
    assert [b.tolist() for b in got] == [order[i:i + 5].tolist() for i in range(0, 23, 5)]


def test_indices_past_the_end_are_refused():
    prob = P.LeastSquares(X, X[:, 0])
    with pytest.raises(ValueError, match="idx must lie in"):
        prob.batch_grad(np.zeros(3), np.array([0, 30]))


def test_teacher_labels_are_the_sign_of_the_teacher():
    Xt, y, teacher = P.teacher_student(200, d=5, hidden=4, seed=1)
    out = np.tanh(Xt @ teacher["W1"]) @ teacher["w2"]
    np.testing.assert_array_equal(y, (out > 0).astype(int))
    assert 0.2 < y.mean() < 0.8 and math.isfinite(float(out.std()))


def test_mlp_objective_example_gradients_are_each_examples_own():
    from refopt.nn import MLP
    net = MLP([3, 4, 2])
    obj = P.MLPObjective(net, X[:6], LABELS[:6])
    params = net.init(0)
    per = obj.example_grads(params, np.arange(6))
    for n in range(6):
        _, g = net.loss_and_grad(params, X[n:n + 1], LABELS[n:n + 1])
        for layer, got in zip(g, per):
            np.testing.assert_allclose(got["W"][n], layer["W"], rtol=1e-15)
