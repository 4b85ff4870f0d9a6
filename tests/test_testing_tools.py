"""refopt.testing against its own design claims (issue 18).

check_grad / check_vjp: u and v are independent (a VJP that forgot the transpose fails on a
square Jacobian), the error is relative to the size of the summed terms (invariant under scaling
f, not fooled by cancellation), and NaN is an infinite error. assert_grad_close: the documented
test |analytic − numeric| ≤ atol + rtol·|numeric|, NaN fails. observed_order: the round-off
floor follows ``scale``, erratic local slopes and fewer than three points are refused, and the
error's sign is ignored (log|error|).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from refopt.numdiff import derivative
from refopt.testing import assert_grad_close, check_grad, check_vjp, observed_order
from refopt.testing.gradcheck import random_like

A = np.array([[2.0, 1.0, 0.0, -1.0],
              [3.0, -1.0, 4.0, 0.5],
              [0.0, 2.0, 1.0, 1.0],
              [-2.0, 0.0, 1.5, 3.0]])   # square, far from symmetric


def test_check_vjp_catches_a_missing_transpose_on_a_square_jacobian():
    x = np.linspace(-1.0, 1.0, 4)
    assert check_vjp(lambda z: A @ z, lambda z, u: A.T @ u, x) < 1e-9
    # Ju instead of Jᵀu: ⟨Ju, v⟩ = ⟨u, Jᵀv⟩ ≠ ⟨u, Jv⟩ unless u and v coincide
    assert check_vjp(lambda z: A @ z, lambda z, u: A @ u, x) > 1e-2
    for seed in (1, 2, 3):
        assert check_vjp(lambda z: A @ z, lambda z, u: A @ u, x, seed=seed) > 1e-2


@pytest.mark.parametrize("c", [1e-9, 1.0, 1e9])
def test_check_grad_and_check_vjp_are_invariant_under_scaling_the_function(c):
    x = np.array([0.5, -1.0, 2.0, 0.3])

    def f(z):
        return c * np.sum(z ** 3)

    def right(z):
        return 3 * c * z ** 2

    assert check_grad(f, right, x) < 1e-8
    wrong = check_grad(f, lambda z: 2 * right(z), x)
    # a 2× gradient: |a − 2a| / max(|a|, |2a|, Σ|2g ⊙ v|) — the same number for every c
    reference = check_grad(lambda z: np.sum(z ** 3), lambda z: 6 * z ** 2, x)
    assert reference > 0.1 and wrong == pytest.approx(reference, rel=1e-6)  # FD rounding differs
    vjp_wrong = check_vjp(lambda z: c * (A @ z), lambda z, u: 2 * c * (A.T @ u), x)
    assert vjp_wrong > 0.1
    assert check_vjp(lambda z: c * (A @ z), lambda z, u: c * (A.T @ u), x) < 1e-8


def test_check_grad_is_not_fooled_by_a_cancelling_inner_product():
    """A correct gradient orthogonal to the random direction: ⟨∇f, v⟩ ≈ 0, while the central
    difference of f = 100 + wᵀx carries rounding ~ε·100/h ≈ 1e-9. Relative to the inner
    product that is an error of order 1; relative to Σ|w ⊙ v| (the size of its terms) it is
    ~1e-9."""
    x = np.array([0.3, -0.7, 1.1, 2.0, -1.5])
    v = random_like(x, 0)                       # the direction check_grad(seed=0) uses
    a = np.array([1.0, 2.0, -1.0, 0.5, 3.0])
    w = a - (a @ v) / (v @ v) * v               # w ⟂ v up to rounding
    assert abs(w @ v) < 1e-14 * np.abs(w * v).sum()
    assert check_grad(lambda z: 100.0 + w @ z, lambda z: w, x) < 1e-6


def test_nan_is_an_infinite_error():
    x = np.array([1.0, 2.0])
    assert check_grad(lambda z: np.sum(z ** 2), lambda z: np.array([np.nan, 4.0]), x) == math.inf
    assert check_grad(lambda z: np.sum(z ** 2) * np.nan, lambda z: 2 * z, x) == math.inf
    assert check_vjp(lambda z: z * 2.0, lambda z, u: u * np.nan, x) == math.inf
    with pytest.raises(AssertionError, match="gradient mismatch"):
        assert_grad_close(lambda z: np.sum(z ** 2), lambda z: np.array([np.nan, 4.0]), x)


def test_check_grad_refuses_a_broadcastable_wrong_shape():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="shape"):
        check_grad(lambda z: np.sum(z), lambda z: np.ones(1), x)


def test_assert_grad_close_uses_the_documented_tolerance():
    """|analytic − numeric| ≤ atol + rtol·|numeric|; the return value is the worst ratio.
    f = Σx² has exact central differences up to rounding (~1e-10 relative here)."""
    x = np.array([0.5, -1.0, 2.0])

    def f(z):
        return np.sum(z ** 2)

    ratio = assert_grad_close(f, lambda z: 2 * z * (1 + 1e-7), x, rtol=1e-6, atol=0.0)
    assert ratio == pytest.approx(0.1, rel=1e-3)          # 2e-7|x| / (1e-6 · 2|x|)
    with pytest.raises(AssertionError, match=r"= 3 > 1"):  # 3× the tolerance
        assert_grad_close(f, lambda z: 2 * z * (1 + 3e-6), x, rtol=1e-6, atol=0.0)
    with pytest.raises(AssertionError, match="gradient mismatch"):
        # rtol = ½ and a 2.5× gradient: 1.5|n| > ½|n| (a tolerance on |analytic| would pass it)
        assert_grad_close(f, lambda z: 5 * z, x, rtol=0.5, atol=0.0)


def test_backward_difference_formula():
    """(f(x) − f(x − h))/h on sin at 1 with h = 1e-2, evaluated by hand in floats: Taylor gives
    cos 1 + (h/2) sin 1 − (h²/6) cos 1 + … ≈ cos 1 + 4.198e-3."""
    h = 1e-2
    got = derivative(math.sin, 1.0, method="backward", h=h)
    assert got == pytest.approx((math.sin(1.0) - math.sin(1.0 - h)) / h, rel=1e-12)
    assert got - math.cos(1.0) == pytest.approx(4.198e-3, rel=1e-3)


HS = [1e-3, 2e-3, 4e-3, 8e-3]


def test_observed_order_floor_follows_the_scale():
    errors = [1e-4 * h ** 2 for h in HS]          # smallest 1e-10
    assert observed_order(HS, errors) == pytest.approx(2.0, abs=1e-9)
    # at a solution scale of 1e8 the floor is 1e3 ε 1e8 ≈ 2e-5: round-off dominates
    with pytest.raises(ValueError, match="round-off dominates"):
        observed_order(HS, errors, scale=1e8)
    # at a scale of 1e-8 errors of 1e-20 are still 5× above the floor 1e3 ε 1e-8 ≈ 2e-21
    tiny = [1e-14 * h ** 2 for h in HS]
    assert observed_order(HS, tiny, scale=1e-8) == pytest.approx(2.0, abs=1e-9)


def test_observed_order_refuses_erratic_slopes_and_two_points_and_ignores_the_sign():
    bent = [h ** 2 for h in HS[:3]] + [1.5 * HS[3] ** 2]   # last local slope 2 + log2 1.5 ≈ 2.58
    with pytest.raises(ValueError, match="not a truncation-dominated range"):
        observed_order(HS, bent)
    with pytest.raises(ValueError, match="length >= 3"):
        observed_order(HS[:2], [h ** 2 for h in HS[:2]])
    assert observed_order(HS, [-(h ** 3) for h in HS]) == pytest.approx(3.0, abs=1e-9)
