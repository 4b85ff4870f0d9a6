"""The MLP-on-data objective: a finite sum whose parameters are the MLP's pytree."""

from __future__ import annotations

from typing import Any

import numpy as np

from refopt import _xp
from refopt import tree as _tree
from refopt.nn.mlp import MLP
from refopt.problems.base import FiniteSum


class MLPObjective(FiniteSum):
    """ℓ(θ) = (1/N) Σ_n loss(MLP_θ(x_n), y_n) on a fixed data set (X, y).

    Data are kept as NumPy arrays and moved to the parameters' namespace per call.
    ``example_grad_sq_norms`` uses ``MLP.per_example_grad_sq_norms`` (no per-example
    gradients are formed); ``example_grads`` materialises them (for tests and small data).
    """

    def __init__(self, net: MLP, X: Any, y: Any):
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim != 2 or X.shape[1] != net.sizes[0]:
            raise ValueError(f"X must have shape (N, {net.sizes[0]}), got {X.shape}")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} examples but X has {X.shape[0]}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X must be finite (no NaN or inf)")
        self.net, self.X, self.y = net, X, y
        self.n_examples = X.shape[0]

    def _data(self, params, idx):
        xp = _xp.namespace(params, names=("params",))
        idx = self.check_indices(idx)
        like = params[0]["W"]
        dtype = like.dtype if xp.isdtype(like.dtype, "real floating") else (
            xp.float32 if like.dtype == xp.complex64 else xp.float64)
        X = xp.asarray(self.X[idx], dtype=dtype, device=_xp.device(like))
        y = xp.asarray(self.y[idx], device=_xp.device(like))
        return X, y

    def example_losses(self, params, idx):
        return self.net.per_example_losses(params, *self._data(params, idx))

    def batch_value_and_grad(self, params, idx):
        return self.net.loss_and_grad(params, *self._data(params, idx))

    def example_grads(self, params, idx):
        idx = self.check_indices(idx)
        per = [self.batch_grad(params, idx[i:i + 1]) for i in range(idx.shape[0])]
        xp = _xp.namespace(params)
        leaves = [_tree.leaves(g) for g in per]
        stacked = [xp.stack([row[j] for row in leaves]) for j in range(len(leaves[0]))]
        return _tree.unflatten(_tree.structure(params), stacked)

    def example_grad_sq_norms(self, params, idx):
        return self.net.per_example_grad_sq_norms(params, *self._data(params, idx))

    def accuracy(self, params, X: Any = None, y: Any = None) -> float:
        if X is None:
            X, y = self._data(params, self._all())
        else:
            xp = _xp.namespace(params)
            X, y = xp.asarray(X, dtype=params[0]["W"].dtype), xp.asarray(y)
        return self.net.accuracy(params, X, y)
