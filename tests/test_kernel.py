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


# --- refopt.tree: the documented behaviours a small pytree can get subtly wrong
def test_tree_unflatten_refuses_leaves_left_over():
    from refopt import tree
    td = tree.structure({"a": 1, "b": [2, 3]})
    assert tree.unflatten(td, [10, 20, 30]) == {"a": 10, "b": [20, 30]}
    with pytest.raises(ValueError, match="1 leaves left over"):
        tree.unflatten(td, [10, 20, 30, 40])


def test_tree_container_kinds_survive_a_round_trip_and_print_distinctly():
    from refopt import tree
    t = {"l": [1, 2], "t": (3,), "n": 4}
    leaves, td = tree.flatten(t)
    back = tree.unflatten(td, leaves)
    assert type(back["l"]) is list and type(back["t"]) is tuple and back == t
    assert str(td) == "{'l': [*, *], 'n': *, 't': (*,)}"   # a 1-tuple prints with its comma


def test_tree_map_with_three_outputs_returns_each_output_tree():
    from refopt import tree
    a, b, c = tree.map(lambda x: (x, 2 * x, 3 * x), {"p": 1.0, "q": [2.0]}, n_out=3)
    assert (a, b, c) == ({"p": 1.0, "q": [2.0]}, {"p": 2.0, "q": [4.0]}, {"p": 3.0, "q": [6.0]})


def test_tree_map_keeps_zero_dimensional_leaves_arrays():
    from refopt import tree
    out = tree.map(lambda x: x * 2.0, {"s": np.array(1.5)})   # NumPy returns a np.float64 here
    assert type(out["s"]) is np.ndarray and out["s"].shape == () and float(out["s"]) == 3.0


# --- wrappers that rewrite gradients must reach rules that take grad_fn (documented in both)
def test_gradient_noise_reaches_a_look_ahead_rule_through_grad_fn():
    from refopt.optim.noise import noise_tree

    def grad_fn(p):
        return 2.0 * p

    params = np.array([1.0, -2.0])
    opt = refopt.add_gradient_noise(refopt.nag(lr=0.1, momentum=0.5), eta=0.3, seed=4)
    got, _ = opt.update(None, opt.init(params), params, grad_fn=grad_fn)
    # t = 0 at the first update: σ² = η/(1 + 0)^γ; nag's first look-ahead point is θ itself
    noisy = grad_fn(params) + noise_tree(params, seed=4, t=0, std=0.3 ** 0.5)
    np.testing.assert_array_equal(got, params - 0.1 * noisy)


def test_a_gradient_transform_reaches_a_look_ahead_rule_through_grad_fn():
    params = np.array([1.0, -3.0])
    opt = refopt.clip_by_value(refopt.nag(lr=0.1, momentum=0.5), max_delta=1.0)
    got, _ = opt.update(None, opt.init(params), params, grad_fn=lambda p: 2.0 * p)
    np.testing.assert_array_equal(got, params - 0.1 * np.array([1.0, -1.0]))   # g = 2θ clipped to ±1
