"""Logistic and softmax regression with optional ℓ2 regularisation (finite sums)."""

from __future__ import annotations

from typing import Any

import numpy as np

from refopt import _xp
from refopt.nn.losses import per_example_binary_logistic, per_example_softmax_cross_entropy
from refopt.problems.base import FiniteSum, as_const


def _check_data(X, labels, integer: bool):
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    if X.ndim != 2 or labels.shape != (X.shape[0],):
        raise ValueError(f"X must be (N, d) and labels (N,); got {X.shape} and {labels.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite (no NaN or inf)")
    if integer and not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers, got {labels.dtype}")
    return X, labels


def _newton(problem: FiniteSum) -> np.ndarray:
    """Newton's method from 0 until ‖∇ℓ‖ ≤ 1e−12 (at most 100 steps); records the final norm."""
    w = np.zeros(problem.dim)
    for _ in range(100):
        g = problem.grad(w)
        if np.linalg.norm(g) <= 1e-12:
            break
        w = w - np.linalg.solve(problem.hessian(w), g)
    problem.minimiser_grad_norm = float(np.linalg.norm(problem.grad(w)))
    return w


class _RegularisedGLM(FiniteSum):
    """Shared by the two ℓ2-regularised GLMs: μ = λ, the Newton minimiser, a readable repr."""

    l2: float

    def _finish_constants(self) -> None:
        self.mu = self.l2 if self.l2 > 0 else None
        self.minimiser = _newton(self) if self.l2 > 0 else None
        self.min_value = None if self.minimiser is None else float(self.value(self.minimiser))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(N={self.n_examples}, dim={self.dim}, l2={self.l2:.6g}, "
                f"L={self.L:.6g})")


class LogisticRegression(_RegularisedGLM):
    r"""ℓ(w) = (1/N) Σ_n [softplus(x_nᵀw) − y_n x_nᵀw] + (λ/2)‖w‖², y_n ∈ {0, 1}.

    Each example's loss includes the regulariser, so per-example gradients average to the full
    gradient. L = λ_max(XᵀX)/(4N) + λ (σ' ≤ ¼), μ = λ. The minimiser has no closed form: it is
    computed once by Newton's method to ‖∇ℓ‖ ≤ 1e−12 (``minimiser_grad_norm`` records it) and
    exists only for λ > 0 or non-separable data.
    """

    def __init__(self, X: Any, labels: Any, *, l2: float = 0.0):
        X, y = _check_data(X, labels, integer=False)
        if not np.all((y == 0) | (y == 1)):
            raise ValueError("labels must be 0 or 1")
        if l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {l2!r}")
        self.X, self.y, self.l2 = X, y.astype(np.float64), float(l2)
        self.n_examples, self.dim = X.shape
        self.L = float(np.linalg.eigvalsh(X.T @ X).max() / (4 * self.n_examples) + self.l2)
        self._finish_constants()

    def example_losses(self, w, idx):
        xp, X, y = self.rows(w, idx)
        return per_example_binary_logistic(X @ w, y) + 0.5 * self.l2 * xp.sum(w * w)

    def _residual(self, X, w, y):
        from refopt.nn.activations import _sigmoid_fwd
        return _sigmoid_fwd(X @ w) - y

    def example_grads(self, w, idx):
        xp, X, y = self.rows(w, idx)
        return self._residual(X, w, y)[:, None] * X + self.l2 * w[None, :]

    def batch_value_and_grad(self, w, idx):
        xp, X, y = self.rows(w, idx)
        n = X.shape[0]
        value = xp.mean(per_example_binary_logistic(X @ w, y)) + 0.5 * self.l2 * xp.sum(w * w)
        return value, xp.matrix_transpose(X) @ self._residual(X, w, y) / n + self.l2 * w

    def hessian(self, w):
        xp, X, _ = self.rows(w, np.arange(self.n_examples))
        from refopt.nn.activations import _sigmoid_fwd
        s = _sigmoid_fwd(X @ w)
        eye = xp.eye(self.dim, dtype=w.dtype, device=_xp.device(w))
        return xp.matrix_transpose(X) @ ((s * (1 - s))[:, None] * X) / self.n_examples + self.l2 * eye


class SoftmaxRegression(_RegularisedGLM):
    r"""ℓ(W) = (1/N) Σ_n CE(softmax(x_nᵀW), c_n) + (λ/2)‖W‖², W of shape (d, K) (parameters
    passed flattened, row-major, as a vector of length d·K).

    L = λ_max(XᵀX)/(2N) + λ (the softmax Hessian is ≼ ½ I, Böhning 1992); μ = λ. Minimiser by
    Newton's method as for :class:`LogisticRegression` (λ > 0).
    """

    def __init__(self, X: Any, labels: Any, n_classes: int | None = None, *, l2: float = 0.0):
        X, c = _check_data(X, labels, integer=True)
        k = int(c.max()) + 1 if n_classes is None else int(n_classes)
        if c.min() < 0 or c.max() >= k:
            raise ValueError(f"labels must lie in [0, {k - 1}]")
        if l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {l2!r}")
        self.X, self.labels, self.n_classes, self.l2 = X, c, k, float(l2)
        self.n_examples = X.shape[0]
        self.dim = X.shape[1] * k
        self.L = float(np.linalg.eigvalsh(X.T @ X).max() / (2 * self.n_examples) + self.l2)
        self._finish_constants()

    def _data(self, w, idx):
        xp = _xp.namespace(w, names=("w",))
        if tuple(w.shape) != (self.dim,):
            raise ValueError(f"w must have shape ({self.dim},), got {tuple(w.shape)}")
        idx = self.check_indices(idx)
        X = as_const(xp, self.X[idx], w)
        labels = xp.asarray(self.labels[idx], device=_xp.device(w))
        return xp, X, labels, xp.reshape(w, (self.X.shape[1], self.n_classes))

    def example_losses(self, w, idx):
        xp, X, c, W = self._data(w, idx)
        return per_example_softmax_cross_entropy(X @ W, c) + 0.5 * self.l2 * xp.sum(w * w)

    def _probs_minus_onehot(self, xp, X, c, W):
        from refopt.nn.losses import _log_softmax, _one_hot
        logits = X @ W
        return xp.exp(_log_softmax(logits)) - _one_hot(logits, c)

    def example_grads(self, w, idx):
        xp, X, c, W = self._data(w, idx)
        r = self._probs_minus_onehot(xp, X, c, W)
        per = X[:, :, None] * r[:, None, :]
        return xp.reshape(per, (X.shape[0], self.dim)) + self.l2 * w[None, :]

    def batch_value_and_grad(self, w, idx):
        xp, X, c, W = self._data(w, idx)
        n = X.shape[0]
        value = xp.mean(per_example_softmax_cross_entropy(X @ W, c)) + 0.5 * self.l2 * xp.sum(w * w)
        grad = xp.matrix_transpose(X) @ self._probs_minus_onehot(xp, X, c, W) / n
        return value, xp.reshape(grad, (self.dim,)) + self.l2 * w

    def hessian(self, w):
        """Σ_n (diag(p_n) − p_n p_nᵀ) ⊗ x_n x_nᵀ / N + λI, in the row-major (d, K) flattening."""
        xp, X, c, W = self._data(w, np.arange(self.n_examples))
        from refopt.nn.losses import _log_softmax
        p = xp.exp(_log_softmax(X @ W))
        d, k = self.X.shape[1], self.n_classes
        S = (p[:, :, None] * xp.eye(k, dtype=w.dtype)[None, :, :]) - p[:, :, None] * p[:, None, :]
        H = xp.sum(X[:, :, None, None, None] * X[:, None, None, :, None] * S[:, None, :, None, :],
                   axis=0) / self.n_examples
        H = xp.reshape(H, (d * k, d * k))
        return H + self.l2 * xp.eye(d * k, dtype=w.dtype)
