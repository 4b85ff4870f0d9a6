"""The public gradient checker: it accepts right backward passes and rejects wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from refopt.nn import MLP
from refopt.numdiff import derivative, directional_derivative
from refopt.testing import check_grad, check_vjp


def test_reference_finite_difference_errors_on_sin():
    """docs/specification.md, spec-numerical: f = sin at x = 1, h = 1e-2 — forward, central and 5-point errors."""
    exact = math.cos(1.0)
    assert derivative(math.sin, 1.0, method="forward", h=1e-2) - exact == pytest.approx(-4.216e-3, rel=1e-3)
    assert derivative(math.sin, 1.0, method="central", h=1e-2) - exact == pytest.approx(-9.005e-6, rel=1e-3)
    assert derivative(math.sin, 1.0, method="five_point", h=1e-2) - exact == pytest.approx(-1.801e-10, rel=1e-3)
    assert derivative(np.sin, 1.0, method="complex_step", h=1e-20) == pytest.approx(exact, rel=1e-15)


def test_a_wrong_backward_is_caught():
    """Mutation check: dropping the activation derivative (a classic bug) is detected."""
    net = MLP([3, 4, 2], activation="tanh")
    params, x, y = net.init(0), np.random.default_rng(0).standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])

    def f(p):
        return net.loss(p, x, y)

    def right(p):
        return net.loss_and_grad(p, x, y)[1]

    def wrong(p):  # pretend tanh' ≡ 1 in the hidden layer
        from refopt.nn import activations
        net.activations[0] = activations.identity._replace(forward=activations.tanh.forward)
        try:
            return net.loss_and_grad(p, x, y)[1]
        finally:
            net.activations[0] = activations.tanh

    assert check_grad(f, right, params) < 1e-8
    assert check_grad(f, wrong, params) > 1e-3
    assert check_grad(f, wrong, params, method="complex_step") > 1e-3


def test_scaled_gradient_is_caught():
    def f(x):
        return np.sum(x ** 3)

    x = np.array([0.5, -1.0, 2.0])
    assert check_grad(f, lambda x: 3 * x ** 2, x) < 1e-9
    assert check_grad(f, lambda x: 3 * x ** 2 * (1 + 1e-6), x) > 1e-7  # even a tiny scale error


def test_vjp_check_on_a_vector_function_and_bad_arguments():
    A = np.random.default_rng(1).standard_normal((3, 4))
    assert check_vjp(lambda x: A @ x, lambda x, u: A.T @ u, np.ones(4)) < 1e-9
    assert check_vjp(lambda x: A @ x, lambda x, u: A[:, ::-1].T @ u, np.ones(4)) > 1e-3
    with pytest.raises(ValueError, match="method must be one of"):
        directional_derivative(np.sin, 1.0, 1.0, method="richardson")
    with pytest.raises(ValueError, match="h must be > 0"):
        directional_derivative(np.sin, 1.0, 1.0, h=0.0)
