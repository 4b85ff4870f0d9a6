"""Batch normalization (proofs/nn/batchnorm.md): gradchecks, torch.nn.BatchNorm1d, MLP use."""

from __future__ import annotations

import numpy as np
import pytest

from refopt.nn import MLP, batchnorm
from refopt.nn.batchnorm import (
    batchnorm_backward,
    batchnorm_eval,
    batchnorm_forward,
    init_running,
    update_running,
)
from refopt.testing import check_grad, check_vjp


def _data(n=6, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": 2.0 * rng.normal(size=(n, d)) + 1.0, "gamma": rng.normal(size=d), "beta": rng.normal(size=d)}


def _f(args):
    return batchnorm_forward(args["x"], args["gamma"], args["beta"])[0]


def _vjp(backward):
    def vjp(args, u):
        _, cache, _ = batchnorm_forward(args["x"], args["gamma"], args["beta"])
        dx, dg, db = backward(cache, u)
        return {"x": dx, "gamma": dg, "beta": db}
    return vjp


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batchnorm_backward_passes_complex_step_and_central_checks(seed):
    args = _data(seed=seed)
    assert check_vjp(_f, _vjp(batchnorm_backward), args, method="complex_step", seed=seed) <= 1e-12
    assert check_vjp(_f, _vjp(batchnorm_backward), args, seed=seed) <= 1e-8       # central differences


def test_batchnorm_backward_mutation_without_the_projection_term_fails():
    def no_projection(cache, dy):         # bug: drops −x̂ Σ dy x̂ (treats σ as a constant)
        n = dy.shape[0]
        dx = cache.gamma * cache.inv_std / n * (n * dy - np.sum(dy, axis=0))
        return dx, np.sum(dy * cache.xhat, axis=0), np.sum(dy, axis=0)
    assert check_vjp(_f, _vjp(no_projection), _data(), method="complex_step") > 1e-3


@pytest.mark.oracle
@pytest.mark.parametrize("average,momentum", [("exponential", 0.1), ("exponential", 0.3), ("cumulative", None)])
def test_batchnorm_matches_torch_batchnorm1d(average, momentum):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    args, rng = _data(n=7, d=4), np.random.default_rng(5)
    bn = torch.nn.BatchNorm1d(4, momentum=momentum, dtype=torch.float64)
    bn.weight.data, bn.bias.data = torch.tensor(args["gamma"]), torch.tensor(args["beta"])
    running = biased = init_running(args["gamma"])
    for n in (5, 8, 3):                                    # batches of different sizes
        xb = 3.0 * rng.normal(size=(n, 4)) - 1.0
        tx, dy = torch.tensor(xb, requires_grad=True), rng.normal(size=(n, 4))
        bn.weight.grad = bn.bias.grad = None
        out = bn(tx)
        out.backward(torch.tensor(dy))
        y, cache, stats = batchnorm_forward(xb, args["gamma"], args["beta"])
        dx, dg, db = batchnorm_backward(cache, dy)
        running = update_running(running, stats, n, momentum=momentum or 0.1, average=average)
        # mutation: the biased σ² in the running estimate (the normalising one) instead of n σ²/(n−1)
        biased = update_running(biased, (stats[0], stats[1] * (n - 1) / n), n, momentum=momentum or 0.1,
                                average=average)
        # float64, a few reductions over ≤ 8 rows: agreement to 1e-12 relative
        for ours, theirs in ((y, out.detach()), (dx, tx.grad), (dg, bn.weight.grad), (db, bn.bias.grad)):
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(running.mean, bn.running_mean.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(running.var, bn.running_var.numpy(), rtol=1e-12, atol=1e-15)
    assert not np.allclose(biased.var, bn.running_var.numpy(), rtol=1e-3, atol=0)
    bn.eval()
    np.testing.assert_allclose(batchnorm_eval(args["x"], args["gamma"], args["beta"], running),
                               bn(torch.tensor(args["x"])).detach().numpy(), rtol=1e-12, atol=1e-13)


def test_cumulative_average_is_the_mean_of_the_batches_unbiased_variances():
    """The paper's population statistics: E_B[μ_B] and N/(N−1) E_B[σ²_B] (equal batch sizes)."""
    rng = np.random.default_rng(3)
    batches = [rng.normal(size=(4, 2)) for _ in range(5)]
    running = init_running(np.zeros(2))
    for xb in batches:
        running = update_running(running, batchnorm_forward(xb, np.ones(2), np.zeros(2))[2], 4,
                                 average="cumulative")
    np.testing.assert_allclose(running.mean, np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-14)
    np.testing.assert_allclose(running.var, np.mean([b.var(0, ddof=1) for b in batches], axis=0), rtol=1e-14)
    assert running.n_batches == 5


def test_mlp_with_batch_norm_gradients_and_torch():
    net = MLP([3, 5, 4, 2], activation="tanh", batch_norm=True)
    params = net.init(seed=1)
    assert sorted(params[0]) == ["W", "b", "beta", "gamma"] and sorted(params[2]) == ["W", "b"]
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 3)), np.array([0, 1, 1, 0, 1, 0])
    assert check_grad(lambda p: net.loss(p, x, y), lambda p: net.loss_and_grad(p, x, y)[1], params,
                      method="complex_step") <= 1e-12
    running = [None if s is None else update_running(init_running(s[0]), s, 6)
               for s in net.batch_statistics(params, x)]
    eval_out = net.forward(params, x, running=running)
    assert not np.allclose(eval_out, net.forward(params, x))          # eval differs from train
    with pytest.raises(ValueError, match="batch_norm"):
        net.per_example_grad_sq_norms(params, x, y)
    torch = pytest.importorskip("torch", reason="torch is not installed")
    tp = [{k: torch.tensor(v, requires_grad=True) for k, v in layer.items()} for layer in params]
    h = torch.tensor(x)
    for i, layer in enumerate(tp):
        z = h @ layer["W"] + layer["b"]
        if "gamma" in layer:
            z = torch.nn.functional.batch_norm(z, None, None, layer["gamma"], layer["beta"], training=True)
        h = torch.tanh(z) if i < 2 else z
    torch.nn.functional.cross_entropy(h, torch.tensor(y)).backward()
    for ours, theirs in zip(net.loss_and_grad(params, x, y)[1], tp):
        for k in ours:      # float64 through three layers: 1e-12 relative, 1e-14 absolute for ~0 entries
            np.testing.assert_allclose(ours[k], theirs[k].grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("call,error,match", [
    (lambda r, s: update_running(r, s, 1), ValueError, "n must be"),
    (lambda r, s: update_running(r, s, True), ValueError, "n must be"),
    (lambda r, s: update_running(r, s, 4, average="paper"), ValueError, "average must be"),
    (lambda r, s: update_running(r, s, 4, momentum=1.5), ValueError, "momentum"),
    (lambda r, s: batchnorm.batchnorm_forward(np.ones((3, 2)), np.ones(3), np.ones(2)), ValueError, "gamma"),
    (lambda r, s: MLP([2, 2], batch_norm=1), TypeError, "batch_norm"),
])
def test_batchnorm_invalid_input(call, error, match):
    r = init_running(np.zeros(2))
    with pytest.raises(error, match=match):
        call(r, (np.zeros(2), np.ones(2)))
