"""Quadratics with a prescribed spectrum, and linear least squares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from refopt import _xp
from refopt.problems.base import FiniteSum, Objective, as_const


def _spd(eigenvalues: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    d = eigenvalues.shape[0]
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))  # a Haar-distributed orthogonal matrix
    return q @ np.diag(eigenvalues) @ q.T, q


class Quadratic(Objective):
    r"""ℓ(x) = ½ (x − x*)ᵀ A (x − x*) + ℓ* with A = Q diag(λ) Qᵀ, Q random orthogonal (seeded).

    L = max λ, μ = min λ (κ = L/μ), minimiser x*, Hessian A, and the exact gradient flow
    x(t) = x* + Q e^{−Λt} Qᵀ (x0 − x*).
    """

    def __init__(self, eigenvalues: Sequence[float], *, seed: int = 0, minimiser: Any = None,
                 min_value: float = 0.0):
        lam = np.asarray(eigenvalues, dtype=np.float64)
        if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
            raise ValueError("eigenvalues must be a non-empty 1-D list of finite values >= 0")
        rng = np.random.default_rng(seed)
        self._seed = seed
        self.A, self.Q = _spd(lam, rng)
        self.eigenvalues = lam
        self.dim = lam.size
        x_star = rng.uniform(-1, 1, self.dim) if minimiser is None else np.asarray(minimiser, float)
        if x_star.shape != (self.dim,):
            raise ValueError(f"minimiser must have shape ({self.dim},), got {x_star.shape}")
        self.minimiser, self.min_value = x_star, float(min_value)
        self.L, self.mu = float(lam.max()), float(lam.min()) if lam.min() > 0 else None

    def __repr__(self) -> str:
        lam = ", ".join(f"{v:.6g}" for v in self.eigenvalues)
        return f"Quadratic(eigenvalues=[{lam}], seed={self._seed})"

    @classmethod
    def with_condition_number(cls, dim: int, kappa: float, *, L: float = 1.0, seed: int = 0):
        """Eigenvalues spread geometrically over [L/κ, L]."""
        if kappa < 1:
            raise ValueError(f"kappa must be >= 1, got {kappa!r}")
        return cls(np.geomspace(L / kappa, L, dim), seed=seed)

    def _check(self, x):
        xp = _xp.namespace(x, names=("x",))
        if tuple(x.shape) != (self.dim,):
            raise ValueError(f"x must have shape ({self.dim},), got {tuple(x.shape)}")
        return xp

    def value(self, x):
        xp = self._check(x)
        r = x - as_const(xp, self.minimiser, x)
        return 0.5 * xp.sum(r * (as_const(xp, self.A, x) @ r)) + self.min_value

    def grad(self, x):
        xp = self._check(x)
        return as_const(xp, self.A, x) @ (x - as_const(xp, self.minimiser, x))

    def hessian(self, x):
        xp = self._check(x)
        return as_const(xp, self.A, x)

    def flow(self, x0, t):
        xp = self._check(x0)
        decay = np.exp(-self.eigenvalues * float(t))
        M = self.Q @ np.diag(decay) @ self.Q.T
        x_star = as_const(xp, self.minimiser, x0)
        return x_star + as_const(xp, M, x0) @ (x0 - x_star)


class LeastSquares(FiniteSum):
    r"""ℓ(w) = (1/N) Σ_n ½ (x_nᵀ w − y_n)² = (1/2N)‖Xw − y‖².

    Hessian XᵀX/N, L and μ its extreme eigenvalues, minimiser by ``lstsq`` (exact up to
    rounding when X has full column rank), gradient flow as for a quadratic.
    """

    def __init__(self, X: Any, y: Any):
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ValueError(f"X must be (N, d) and y (N,); got {X.shape} and {y.shape}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise ValueError("X and y must be finite (no NaN or inf)")
        self.X, self.y = X, y
        self.n_examples, self.dim = X.shape
        H = X.T @ X / self.n_examples
        lam, self._Q = np.linalg.eigh(H)
        self._lam = np.clip(lam, 0.0, None)
        self.H = H
        self.L = float(self._lam.max())
        self.mu = float(self._lam.min()) if self._lam.min() > 1e-12 * self.L else None
        self.minimiser = np.linalg.lstsq(X, y, rcond=None)[0]
        self.min_value = float(0.5 * np.mean((X @ self.minimiser - y) ** 2))

    def __repr__(self) -> str:
        return (f"LeastSquares(N={self.n_examples}, d={self.dim}, L={self.L:.6g}, "
                f"mu={self.mu if self.mu is None else f'{self.mu:.6g}'})")

    def example_losses(self, w, idx):
        xp, X, y = self.rows(w, idx)
        r = X @ w - y
        return 0.5 * r * r

    def example_grads(self, w, idx):
        xp, X, y = self.rows(w, idx)
        return (X @ w - y)[:, None] * X

    def example_grad_sq_norms(self, w, idx):
        xp, X, y = self.rows(w, idx)
        r = X @ w - y
        return r * r * xp.sum(X * X, axis=1)

    def batch_value_and_grad(self, w, idx):
        xp, X, y = self.rows(w, idx)
        r = X @ w - y
        n = X.shape[0]
        return 0.5 * xp.sum(r * r) / n, (xp.matrix_transpose(X) @ r) / n

    def hessian(self, w):
        xp = _xp.namespace(w)
        return as_const(xp, self.H, w)

    def flow(self, w0, t):
        xp = _xp.namespace(w0)
        if self.mu is None:
            raise NotImplementedError("flow needs X of full column rank")
        M = self._Q @ np.diag(np.exp(-self._lam * float(t))) @ self._Q.T
        w_star = as_const(xp, self.minimiser, w0)
        return w_star + as_const(xp, M, w0) @ (w0 - w_star)


class IndefiniteQuadratic(Objective):
    r"""ℓ(x) = ½ (x − x_s)ᵀ A (x − x_s) with A = Q diag(λ) Qᵀ and eigenvalues of either sign.

    With a negative eigenvalue ℓ is non-convex and unbounded below; x_s is its only stationary
    point (a strict saddle when λ has both signs). The gradient A(x − x_s) is linear, so every
    linear rule acts on each eigen-coordinate of x − x_s separately — the class on which the
    per-mode recurrences of ``tests/test_convergence.py`` are exact. ``L = max |λ|``.
    """

    def __init__(self, eigenvalues: Sequence[float], *, seed: int = 0):
        lam = np.asarray(eigenvalues, dtype=np.float64)
        if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)):
            raise ValueError("eigenvalues must be a non-empty 1-D list of finite values")
        rng = np.random.default_rng(seed)
        self._seed = seed
        self.A, self.Q = _spd(lam, rng)
        self.eigenvalues, self.dim = lam, lam.size
        self.saddle = rng.uniform(-1, 1, self.dim)
        self.L = float(np.abs(lam).max())

    def __repr__(self) -> str:
        lam = ", ".join(f"{v:.6g}" for v in self.eigenvalues)
        return f"IndefiniteQuadratic(eigenvalues=[{lam}], seed={self._seed})"

    def value(self, x):
        xp = _xp.namespace(x, names=("x",))
        r = x - as_const(xp, self.saddle, x)
        return 0.5 * xp.sum(r * (as_const(xp, self.A, x) @ r))

    def grad(self, x):
        xp = _xp.namespace(x, names=("x",))
        return as_const(xp, self.A, x) @ (x - as_const(xp, self.saddle, x))

    def hessian(self, x):
        xp = _xp.namespace(x, names=("x",))
        return as_const(xp, self.A, x)
