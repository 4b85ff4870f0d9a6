"""Manual backward passes vs central differences, the complex step and torch autograd (TESTING.md §7).

Tolerances: central differences with h = 6e-6 have truncation ~h² and round-off ~ε/h, both
≲1e-10 relative here, so 1e-8 leaves two orders of margin; the complex step has no cancellation,
so its error is rounding only (1e-12); torch autograd computes the same float64 formulas in a
different order (1e-12).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refopt.nn import MLP, activations, dense_backward, dense_forward, losses
from refopt.problems import MLPObjective
from refopt.testing import check_grad, check_vjp

ACTS = sorted(activations.ACTIVATIONS)
SMOOTH = [a for a in ACTS if activations.ACTIVATIONS[a].smooth]


def away_from_kinks(rng, shape):
    """Inputs with |z| ≥ 0.05, so a finite-difference step never crosses relu's kink."""
    z = rng.uniform(0.05, 2.5, shape)
    return z * rng.choice([-1.0, 1.0], shape)


@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), d=st.integers(1, 4))
@pytest.mark.parametrize("name", ACTS)
def test_activation_backward(name, seed, n, d):
    act = activations.get(name)
    z = away_from_kinks(np.random.default_rng(seed), (n, d))

    def vjp(z, u):
        return act.backward(z, act.forward(z), u)

    assert check_vjp(act.forward, vjp, z, seed=seed) <= 1e-8
    if act.smooth:
        assert check_vjp(act.forward, vjp, z, method="complex_step", seed=seed) <= 1e-12


@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), din=st.integers(1, 4),
       dout=st.integers(1, 4))
def test_dense_backward(seed, n, din, dout):
    rng = np.random.default_rng(seed)
    args = (rng.standard_normal((n, din)), rng.standard_normal((din, dout)), rng.standard_normal(dout))

    def f(a):
        return dense_forward(*a)

    def vjp(a, u):
        return dense_backward(a[0], a[1], u)

    assert check_vjp(f, vjp, args, seed=seed) <= 1e-8
    assert check_vjp(f, vjp, args, method="complex_step", seed=seed) <= 1e-12


def _targets(loss, rng, n, k):
    if loss == "mse":
        return rng.standard_normal((n, k))
    if loss == "binary_logistic":
        return rng.integers(0, 2, (n, k))
    return rng.integers(0, k, n)


@given(seed=st.integers(0, 10_000), n=st.integers(1, 6), k=st.integers(2, 5))
@pytest.mark.parametrize("loss", sorted(losses.LOSSES))
def test_loss_gradients(loss, seed, n, k):
    rng = np.random.default_rng(seed)
    fn, per_example = losses.LOSSES[loss]
    pred, y = 3 * rng.standard_normal((n, k)), _targets(loss, rng, n, k)
    assert check_grad(lambda p: fn(p, y)[0], lambda p: fn(p, y)[1], pred, seed=seed) <= 1e-8
    assert check_grad(lambda p: fn(p, y)[0], lambda p: fn(p, y)[1], pred,
                      method="complex_step", seed=seed) <= 1e-12
    np.testing.assert_allclose(np.mean(per_example(pred, y)), fn(pred, y)[0], rtol=1e-13)


def test_softmax_cross_entropy_one_hot_equals_integer_labels_and_is_stable():
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    onehot = np.eye(4)[labels]
    a, b = losses.softmax_cross_entropy(logits, labels), losses.softmax_cross_entropy(logits, onehot)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    big = np.array([[1000.0, 0.0, -1000.0]])
    value, grad = losses.softmax_cross_entropy(big, np.array([1]))
    assert value == pytest.approx(1000.0) and np.all(np.isfinite(grad))
    for fn in (activations.sigmoid.forward, activations.softplus.forward):
        assert np.all(np.isfinite(fn(np.array([-800.0, 800.0]))))


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 4)) for _ in range(depth + 1)]
    sizes[-1] = max(sizes[-1], 2)
    acts = [draw(st.sampled_from(ACTS)) for _ in range(depth - 1)]
    loss = draw(st.sampled_from(sorted(losses.LOSSES)))
    return MLP(sizes, activation=acts, loss=loss), draw(st.integers(0, 10_000)), draw(st.integers(1, 5))


def _batch(net, seed, n):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, net.sizes[0]))
    return x, _targets(net.loss_name, rng, n, net.sizes[-1])


@given(case=networks())
def test_mlp_backward_central_and_complex_step(case):
    net, seed, n = case
    params = net.init(seed)
    x, y = _batch(net, seed, n)

    def f(p):
        return net.loss(p, x, y)

    def g(p):
        return net.loss_and_grad(p, x, y)[1]

    # relu kinks: a step can cross one only if some pre-activation is within ~h of 0 —
    # probability ~1e-5 per example at h = 6e-6; hypothesis is derandomized in CI
    assert check_grad(f, g, params, seed=seed) <= 1e-8
    if net.smooth:
        assert check_grad(f, g, params, method="complex_step", seed=seed) <= 1e-12


@given(case=networks())
def test_per_example_grad_norms_without_materialising(case):
    net, seed, n = case
    params = net.init(seed)
    x, y = _batch(net, seed, n)
    obj = MLPObjective(net, x, y)
    idx = np.arange(n)
    per = obj.example_grads(params, idx)
    explicit = sum(np.sum(leaf.reshape(n, -1) ** 2, axis=1) for layer in per for leaf in layer.values())
    np.testing.assert_allclose(obj.example_grad_sq_norms(params, idx), explicit, rtol=1e-12)
    mean = [{k: v.mean(axis=0) for k, v in layer.items()} for layer in per]
    batch = obj.batch_grad(params, idx)
    for a, b in zip(mean, batch):
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=1e-15)


TORCH_ACTS = {"identity": lambda F, z: z, "relu": lambda F, z: F.relu(z),
              "leaky_relu": lambda F, z: F.leaky_relu(z, 0.01), "tanh": lambda F, z: F.tanh(z),
              "sigmoid": lambda F, z: F.sigmoid(z), "softplus": lambda F, z: F.softplus(z, threshold=50),
              "gelu": lambda F, z: F.gelu(z, approximate="tanh")}


@pytest.mark.oracle
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("loss", sorted(losses.LOSSES))
def test_mlp_gradients_match_torch_autograd(act, loss):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    F = torch.nn.functional
    net = MLP([4, 6, 5, 3], activation=act, loss=loss)
    params = net.init(3)
    x, y = _batch(net, 3, 7)
    value, grads = net.loss_and_grad(params, x, y)

    tp = [{k: torch.tensor(v, requires_grad=True) for k, v in layer.items()} for layer in params]
    h = torch.tensor(x)
    for i, layer in enumerate(tp):
        z = h @ layer["W"] + layer["b"]
        h = TORCH_ACTS[act](F, z) if i < len(tp) - 1 else z
    target = torch.tensor(y)
    if loss == "mse":
        tl = F.mse_loss(h, target)
    elif loss == "binary_logistic":
        tl = F.binary_cross_entropy_with_logits(h, target.double())
    else:
        tl = F.cross_entropy(h, target)
    tl.backward()
    assert float(value) == pytest.approx(tl.item(), rel=1e-12)
    for ours, theirs in zip(grads, tp):
        for k in ours:
            np.testing.assert_allclose(ours[k], theirs[k].grad.numpy(), rtol=1e-12, atol=1e-15)


def test_mlp_on_array_api_strict_matches_numpy():
    import array_api_strict as xs
    net = MLP([3, 5, 2], activation="gelu")
    x, y = _batch(net, 1, 4)
    p_np, p_xs = net.init(1), net.init(1, xp=xs)
    value_np, g_np = net.loss_and_grad(p_np, x, y)
    value_xs, g_xs = net.loss_and_grad(p_xs, xs.asarray(x), xs.asarray(y))
    assert float(value_xs) == pytest.approx(float(value_np), rel=1e-14)
    np.testing.assert_allclose(np.asarray(g_xs[0]["W"]), g_np[0]["W"], rtol=1e-13)
    assert check_grad(lambda p: net.loss(p, xs.asarray(x), xs.asarray(y)),
                      lambda p: net.loss_and_grad(p, xs.asarray(x), xs.asarray(y))[1], p_xs) <= 1e-8


@pytest.mark.parametrize("call,error,match", [
    (lambda n, p: n.loss(p, np.ones((3, 2)), np.array([0, 1, 0])), ValueError, r"x must have shape \(N, 3\)"),
    (lambda n, p: n.loss(p, np.ones((3, 3)), np.array([0, 1])), ValueError, "target has 2 examples but pred has 3"),
    (lambda n, p: n.loss(p, np.ones((2, 3)), np.array([0, 5])), ValueError, r"labels must lie in \[0, 1\]"),
    (lambda n, p: n.loss(p, np.full((2, 3), np.nan), np.array([0, 1])), ValueError, "x contains NaN or inf"),
    (lambda n, p: n.loss(p, np.ones((2, 3), np.float32), np.array([0, 1])), TypeError, "x dtype float32 differs"),
    (lambda n, p: n.loss(p, np.ones((2, 3)), np.array([[0], [1]])), ValueError, r"integer labels must have shape \(N,\)"),
    (lambda n, p: n.loss(p, np.ones((2, 3)), np.array([[0.5, 0.5, 0.0], [1, 0, 0]])), ValueError, "labels must be integers"),
    (lambda n, p: n.loss(p, np.ones((2, 3)), np.array([[np.nan, 1.0], [1.0, 0.0]])), ValueError, "labels contains NaN"),
])
def test_bad_inputs_raise_clear_errors(call, error, match):
    net = MLP([3, 4, 2])
    with pytest.raises(error, match=match):
        call(net, net.init(0))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="sizes must be a list of at least two positive integers"):
        MLP([3])
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP([3, 4, 2], activation="swish")
    with pytest.raises(ValueError, match="one entry per hidden layer"):
        MLP([3, 4, 2], activation=["tanh", "relu"])
    with pytest.raises(ValueError, match="loss must be one of"):
        MLP([3, 2], loss="hinge")
    with pytest.raises(ValueError, match="binary_logistic"):
        losses.binary_logistic(np.zeros((2, 1)), np.array([[0.5], [1.0]]))
    with pytest.raises(ValueError, match="init must be one of"):
        MLP([3, 2], init="lecun")


def test_initialisers_have_the_stated_variance_and_are_seeded():
    from refopt.nn import init_weight
    for scheme, var in [("glorot_uniform", 2 / 600), ("glorot_normal", 2 / 600),
                        ("he_uniform", 2 / 400), ("he_normal", 2 / 400)]:
        W = init_weight(scheme, 400, 200, np.random.default_rng(0))
        # 80 000 draws: the sample variance has relative standard error √(2/n) ≈ 0.5%
        assert np.var(W) == pytest.approx(var, rel=0.03)
        assert np.array_equal(W, init_weight(scheme, 400, 200, np.random.default_rng(0)))
