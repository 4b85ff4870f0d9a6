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
