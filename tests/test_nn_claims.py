"""refopt.nn's documented values, pinned exactly (issue 18): activation derivatives (relu′(0) = 0,
leaky relu′(0) = slope), the overflow-safe branches, the loss conventions' scaling (mean over
all elements for mse and binary logistic, over examples for cross-entropy), the dense layer's
bias sum and per-example norms, and the initialisers' bounds. Expected values come from SymPy
or from hand formulas, not from refopt.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from refopt.nn import MLP, activations, losses
from refopt.nn.init import init_weight
from refopt.nn.layers import dense_backward, dense_per_example_sq_norms

ZS = [-30.0, -3.0, -0.5, 0.0, 0.7, 4.0, 25.0]
x = sp.Symbol("x")
EXACT = {   # SymPy expressions of the documented activations
    "tanh": sp.tanh(x),
    "sigmoid": 1 / (1 + sp.exp(-x)),
    "softplus": sp.log(1 + sp.exp(x)),
    "gelu": x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Rational(44715, 10 ** 6) * x ** 3))),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_smooth_activation_values_and_derivatives_from_sympy(name):
    act = activations.ACTIVATIONS[name]
    z = np.array(ZS)
    a = act.forward(z)
    da = act.backward(z, a, np.ones_like(z))
    expr = EXACT[name]
    want_a = [float(expr.subs(x, sp.Float(v, 40)).evalf(30)) for v in ZS]
    want_da = [float(sp.diff(expr, x).subs(x, sp.Float(v, 40)).evalf(30)) for v in ZS]
    # float64 formulas: a few ulps relative; GELU's 1 + tanh(·) and the 1 − a² / a(1 − a)
    # forms cancel for large |z| (a → ±1), leaving an absolute error of a few ε there
    np.testing.assert_allclose(a, want_a, rtol=4e-15, atol=1e-15)
    np.testing.assert_allclose(da, want_da, rtol=1e-13, atol=1e-15)


def test_relu_and_leaky_relu_derivatives_at_zero():
    z = np.array([-1.0, 0.0, 2.0])
    one = np.ones(3)
    np.testing.assert_array_equal(activations.relu.backward(z, activations.relu.forward(z), one), [0, 0, 1])
    leaky = activations.leaky_relu(0.1)
    np.testing.assert_array_equal(leaky.backward(z, leaky.forward(z), one), [0.1, 0.1, 1.0])
    np.testing.assert_array_equal(activations.relu.backward(z, activations.relu.forward(z), 3 * one), [0, 0, 3])


PRED = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
TARGET = np.array([[0.0, -1.0, 1.5], [2.0, 3.0, 0.0]])


def test_mse_is_the_mean_over_all_elements():
    diff = PRED - TARGET                     # squares 1, 1, 1 / 4, 0, 1: sum 8 over 6 elements
    loss, grad = losses.mse(PRED, TARGET)
    assert loss == 8 / 6
    np.testing.assert_allclose(grad, diff * 2 / 6, rtol=1e-15)
    np.testing.assert_allclose(losses.per_example_mse(PRED, TARGET), [3 / 3, 5 / 3], rtol=1e-15)


def test_cross_entropy_is_the_mean_over_examples_and_stable():
    logits = np.array([[1000.0, 0.0, -1000.0], [2.0, 2.0, 2.0]])
    loss, grad = losses.softmax_cross_entropy(logits, np.array([1, 2]))
    # row 1: logsumexp = 1000 (to 1e-400), minus z_1 = 0 → 1000; row 2: log 3. Mean over N = 2
    assert loss == pytest.approx((1000.0 + math.log(3.0)) / 2, rel=1e-15)
    want = np.array([[1.0, -1.0, 0.0], [1 / 3, 1 / 3, -2 / 3]]) / 2
    np.testing.assert_allclose(grad, want, rtol=1e-15, atol=1e-300)
    with pytest.raises(ValueError, match="labels must lie in"):
        losses.softmax_cross_entropy(logits, np.array([1, 3]))


def test_binary_logistic_is_the_mean_over_all_elements():
    z = np.array([[0.0, 2.0], [-1.0, 0.5]])
    y = np.array([[1, 0], [0, 1]])
    loss, grad = losses.binary_logistic(z, y)
    sig = 1 / (1 + np.exp(-z))
    want = np.log1p(np.exp(z)) - y * z
    assert loss == pytest.approx(want.sum() / 4, rel=1e-15)
    np.testing.assert_allclose(grad, (sig - y) / 4, rtol=1e-15)
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        losses.binary_logistic(z, np.array([[1, 2], [0, 1]]))


def test_dense_bias_gradient_is_a_sum_and_per_example_norms_match_outer_products():
    rng = np.random.default_rng(0)
    xs, W, dy = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    _, dW, db = dense_backward(xs, W, dy)
    np.testing.assert_allclose(db, dy[0] + dy[1] + dy[2] + dy[3], rtol=1e-15)
    want = [np.sum(np.outer(xs[n], dy[n]) ** 2) + np.sum(dy[n] ** 2) for n in range(4)]
    np.testing.assert_allclose(dense_per_example_sq_norms(xs, dy), want, rtol=1e-14)


def test_mlp_biases_start_at_zero():
    for layer in MLP([3, 5, 2]).init(0):
        np.testing.assert_array_equal(layer["b"], 0.0)


@pytest.mark.parametrize("scheme, var", [("glorot_uniform", 2 / 250), ("he_uniform", 2 / 50)])
def test_uniform_initialisers_fill_their_documented_interval(scheme, var):
    """U(−a, a) with a = √(3 Var): 10 000 draws stay inside and reach beyond 0.999 a (the chance
    that all miss the top 0.1% is (0.999)^10000 ≈ 5e-5, and the draw is seeded)."""
    W = init_weight(scheme, 50, 200, np.random.default_rng(1))
    a = math.sqrt(3 * var)
    assert np.abs(W).max() <= a and np.abs(W).max() > 0.999 * a
