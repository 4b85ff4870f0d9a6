"""Promises of the shared kernel (refopt.rule, refopt.treemath) that every rule relies on (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest

import refopt
from refopt import rule


def test_safe_divide_is_no_step_where_the_denominator_is_zero_and_exact_elsewhere():
    num = np.array([0.0, 1.0, 2.0, -3.0])
    den = np.array([0.0, 2.0, 0.0, 7.0])
    with np.errstate(all="raise"):   # no warning, no NaN on the way
        out = rule.safe_divide(np, num, den)
    np.testing.assert_array_equal(out, [0.0, 0.5, 0.0, -3.0 / 7.0])


@pytest.mark.parametrize("make", [lambda: refopt.adam(lr=0.1, eps=0.0),
                                  lambda: refopt.rmsprop(lr=0.1, eps=0.0),
                                  lambda: refopt.adagrad(lr=0.1, eps=0.0),
                                  lambda: refopt.amsgrad(lr=0.1, eps=0.0)],
                         ids=["adam", "rmsprop", "adagrad", "amsgrad"])
def test_a_coordinate_that_never_saw_a_gradient_does_not_move_with_eps_zero(make):
    opt = make()
    params = np.array([1.0, -2.0])
    state = opt.init(params)
    for _ in range(3):
        params, state = opt.update(np.array([0.5, 0.0]), state, params)
    assert params[1] == -2.0 and np.isfinite(params[0]) and params[0] < 1.0


# --- refopt.treemath: each operation against its one-line definition, on a two-leaf tree whose
# values are exact in binary (so equality is exact)
A = {"w": np.array([3.0, -1.0]), "b": np.array(2.0)}
B_ = {"w": np.array([0.5, 4.0]), "b": np.array(-0.25)}


def test_treemath_reductions_are_their_definitions():
    from refopt import treemath
    assert treemath.vdot(A, B_) == 3.0 * 0.5 + (-1.0) * 4.0 + 2.0 * (-0.25)   # = −3
    assert treemath.sum_sq(A) == 9.0 + 1.0 + 4.0
    assert treemath.norm({"w": np.array([3.0, 0.0]), "b": np.array(4.0)}) == 5.0
    total, magnitude = treemath.vdot_with_scale(A, B_)
    assert (total, magnitude) == (-3.0, 1.5 + 4.0 + 0.5)   # Σ|a ⊙ b| is taken before cancelling


def test_treemath_combinations_are_their_definitions():
    from refopt import treemath
    out = treemath.add_scaled(A, -2.0, B_)
    np.testing.assert_array_equal(out["w"], [2.0, -9.0])
    assert float(out["b"]) == 2.5
    np.testing.assert_array_equal(treemath.scale(0.5, A)["w"], [1.5, -0.5])
    lc = treemath.lincomb(A, [(2.0, B_), (0.0, A), (-1.0, A)])   # base + 2B + 0·A − A = 2B
    np.testing.assert_array_equal(lc["w"], 2.0 * B_["w"])
    assert float(lc["b"]) == -0.5
    ws = treemath.weighted_sum([(3.0, A), (-4.0, B_)])
    np.testing.assert_array_equal(ws["w"], [7.0, -19.0])
    assert float(ws["b"]) == 7.0
