"""The lean MLP step keeps the textbook math: same numbers, same dtype, inputs untouched.

The manual backward pass adds biases in place, multiplies activation derivatives into one array
and frees arrays early (issue 12); these tests pin that none of it changes a result's bits or
dtype, writes an input, or skips validation.
"""

from __future__ import annotations

import numpy as np
import pytest

from refopt.nn import MLP, activations, losses

ACTS = sorted(activations.ACTIVATIONS)


def _textbook_loss_and_grad(params, x, labels, act):
    """Softmax cross-entropy MLP written out with NumPy operators, in the textbook order."""
    sigma = {"relu": lambda z: np.where(z > 0, z, 0.0), "tanh": np.tanh}[act]
    hs, zs = [x], []
    for i, layer in enumerate(params):
        z = hs[-1] @ layer["W"] + layer["b"]
        zs.append(z)
        hs.append(sigma(z) if i < len(params) - 1 else z)
    out = hs[-1]
    shifted = out - np.max(out, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    onehot = (labels[:, None] == np.arange(out.shape[1])[None, :]).astype(out.dtype)
    n = out.shape[0]
    loss, dz = -np.sum(onehot * logp) / n, (np.exp(logp) - onehot) / n
    grads = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        grads[i] = {"W": hs[i].T @ dz, "b": np.sum(dz, axis=0)}
        if i:
            dh = dz @ params[i]["W"].T
            a = hs[i]
            dz = np.where(zs[i - 1] > 0, dh, 0.0) if act == "relu" else (1.0 - a * a) * dh
    return loss, grads


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_lean_step_equals_the_textbook_formulas_exactly(act):
    # same operations in the same order: equal to the last bit (relu's da·0 may be −0.0 where
    # where() gives +0.0; == treats them as equal, as does every later sum)
    net = MLP([6, 16, 12, 4], activation=act)
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((32, 6)), rng.integers(0, 4, 32)
    params = net.init(5)
    loss, grads = net.loss_and_grad(params, x, y)
    ref_loss, ref_grads = _textbook_loss_and_grad(params, x, y, act)
    assert loss == ref_loss
    for ours, ref in zip(grads, ref_grads):
        assert np.array_equal(ours["W"], ref["W"]) and np.array_equal(ours["b"], ref["b"])


def _targets(loss, rng, n, k, dtype):
    if loss == "mse":
        return rng.standard_normal((n, k)).astype(dtype)
    if loss == "binary_logistic":
        return rng.integers(0, 2, (n, k))
    return rng.integers(0, k, n)


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("loss", sorted(losses.LOSSES))
@pytest.mark.parametrize("act", ACTS)
def test_float32_network_keeps_float32_everywhere(act, loss, batch_norm):
    # a float64 constant anywhere (np.float64 scalar, float64 array) would promote the result
    net = MLP([3, 5, 4, 2], activation=act, loss=loss, batch_norm=batch_norm)
    params = net.init(0, dtype=np.float32)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)).astype(np.float32), _targets(loss, rng, 6, 2, np.float32)
    value, grads = net.loss_and_grad(params, x, y)
    assert np.asarray(value).dtype == np.float32
    assert {leaf.dtype for layer in grads for leaf in layer.values()} == {np.dtype(np.float32)}
    assert net.forward(params, x).dtype == np.float32
    dout = np.ones((6, 2), np.float32)
    assert {leaf.dtype for layer in net.backward(params, x, dout) for leaf in layer.values()} \
        == {np.dtype(np.float32)}


def test_float32_network_keeps_float32_on_array_api_strict():
    xs = pytest.importorskip("array_api_strict")
    for act in ("relu", "tanh"):
        net = MLP([3, 5, 2], activation=act)
        params = net.init(1, xp=xs, dtype=xs.float32)
        rng = np.random.default_rng(1)
        x, y = xs.asarray(rng.standard_normal((4, 3)), dtype=xs.float32), xs.asarray(rng.integers(0, 2, 4))
        value, grads = net.loss_and_grad(params, x, y)
        assert value.dtype == xs.float32
        assert all(leaf.dtype == xs.float32 for layer in grads for leaf in layer.values())


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "softplus"])
def test_relu_and_smooth_networks_on_array_api_strict_equal_numpy_exactly(act):
    # array-api-strict wraps NumPy: the same operations must give the same bits
    xs = pytest.importorskip("array_api_strict")
    net = MLP([3, 7, 5, 2], activation=act)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((9, 3)), rng.integers(0, 2, 9)
    value_np, g_np = net.loss_and_grad(net.init(2), x, y)
    value_xs, g_xs = net.loss_and_grad(net.init(2, xp=xs), xs.asarray(x), xs.asarray(y))
    assert float(value_xs) == float(value_np)
    for a, b in zip(g_np, g_xs):
        assert all(np.array_equal(a[k], np.asarray(b[k])) for k in a)


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("loss", sorted(losses.LOSSES))
@pytest.mark.parametrize("act", ACTS)
def test_no_input_is_written(act, loss, batch_norm):
    net = MLP([3, 5, 4, 2], activation=act, loss=loss, batch_norm=batch_norm)
    params = net.init(3)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((6, 3)), _targets(loss, rng, 6, 2, np.float64)
    dout = rng.standard_normal((6, 2))
    before = [{k: v.copy() for k, v in layer.items()} for layer in params], x.copy(), y.copy(), dout.copy()
    net.loss_and_grad(params, x, y)
    net.backward(params, x, dout)      # identity output: dz is dout itself
    if not batch_norm:                 # undefined with batch norm
        net.per_example_grad_sq_norms(params, x, y)
    for layer, saved in zip(params, before[0]):
        assert all(np.array_equal(layer[k], saved[k]) for k in layer)
    assert np.array_equal(x, before[1]) and np.array_equal(y, before[2]) and np.array_equal(dout, before[3])


@pytest.mark.parametrize("act", ACTS)
def test_activation_backward_writes_none_of_its_arguments(act):
    fn = activations.get(act)
    rng = np.random.default_rng(4)
    z, da = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    a = fn.forward(z)
    saved = z.copy(), a.copy(), da.copy()
    dz = fn.backward(z, a, da)
    assert dz is da or not np.shares_memory(dz, da)  # identity passes da through unchanged
    assert all(np.array_equal(u, v) for u, v in zip((z, a, da), saved))


@pytest.mark.parametrize("act", [a for a in ACTS if not activations.ACTIVATIONS[a].uses_z])
def test_activations_declared_free_of_z_do_not_read_it(act):
    # the MLP frees z for these: their backward must give the same result without it
    fn = activations.get(act)
    rng = np.random.default_rng(6)
    z, da = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    a = fn.forward(z)
    assert np.array_equal(fn.backward(None, a, da), fn.backward(z, a, da))


@pytest.mark.parametrize("mutate,match", [
    (lambda p: p[1].update(W=np.zeros((4, 3))), r"params\[1\] must have shapes"),
    (lambda p: p[0].update(b=np.zeros(5)), r"params\[0\] must have shapes"),
    (lambda p: p[0].pop("b"), r"params\[0\] must be a dict with 'W' and 'b'"),
])
def test_parameter_shapes_are_checked_once_up_front(mutate, match):
    net = MLP([3, 4, 2])
    params = net.init(0)
    mutate(params)
    with pytest.raises(ValueError, match=match):
        net.loss_and_grad(params, np.ones((2, 3)), np.array([0, 1]))
