"""Classic deterministic test functions: Rosenbrock, Beale, a strict saddle, matrix factorisation."""

from __future__ import annotations

from typing import Any

import numpy as np

from refopt import _xp
from refopt.problems.base import Objective, as_const


def _check2(x):
    xp = _xp.namespace(x, names=("x",))
    if tuple(x.shape) != (2,):
        raise ValueError(f"x must have shape (2,), got {tuple(x.shape)}")
    return xp


class Rosenbrock(Objective):
    r"""ℓ(x, y) = (a − x)² + b (y − x²)²; minimiser (a, a²), ℓ* = 0. Not globally L-smooth."""

    dim = 2

    def __init__(self, a: float = 1.0, b: float = 100.0):
        self.a, self.b = float(a), float(b)
        self.minimiser, self.min_value = np.array([self.a, self.a ** 2]), 0.0

    def value(self, x):
        _check2(x)
        return (self.a - x[0]) ** 2 + self.b * (x[1] - x[0] ** 2) ** 2

    def grad(self, x):
        xp = _check2(x)
        r = x[1] - x[0] ** 2
        return xp.stack([-2 * (self.a - x[0]) - 4 * self.b * x[0] * r, 2 * self.b * r])

    def hessian(self, x):
        xp = _check2(x)
        a, b = x[0], x[1]
        return xp.stack([xp.stack([2 - 4 * self.b * (b - a * a) + 8 * self.b * a * a, -4 * self.b * a]),
                         xp.stack([-4 * self.b * a, xp.asarray(2 * self.b, dtype=x.dtype)])])


class Beale(Objective):
    r"""ℓ(x, y) = Σ_{k=1}^{3} (c_k − x + x y^k)², c = (1.5, 2.25, 2.625); minimiser (3, ½), ℓ* = 0."""

    dim = 2
    _C = (1.5, 2.25, 2.625)

    def __init__(self):
        self.minimiser, self.min_value = np.array([3.0, 0.5]), 0.0

    def value(self, x):
        _check2(x)
        return sum((c - x[0] + x[0] * x[1] ** k) ** 2 for k, c in enumerate(self._C, start=1))

    def grad(self, x):
        xp = _check2(x)
        gx = gy = 0.0
        for k, c in enumerate(self._C, start=1):
            a = c - x[0] + x[0] * x[1] ** k
            gx = gx + 2 * a * (x[1] ** k - 1)
            gy = gy + 2 * a * k * x[0] * x[1] ** (k - 1)
        return xp.stack([gx, gy])

    def hessian(self, x):
        """Σ_k 2(∇a_k ∇a_kᵀ + a_k ∇²a_k), a_k = c_k − x + x y^k."""
        xp = _check2(x)
        hxx = hxy = hyy = 0.0
        X, Y = x[0], x[1]
        for k, c in enumerate(self._C, start=1):
            a = c - X + X * Y ** k
            ax, ay = Y ** k - 1, k * X * Y ** (k - 1)
            axy = k * Y ** (k - 1)
            ayy = k * (k - 1) * X * Y ** (k - 2) if k >= 2 else 0.0
            hxx = hxx + 2 * ax * ax
            hxy = hxy + 2 * (ax * ay + a * axy)
            hyy = hyy + 2 * (ay * ay + a * ayy)
        return xp.stack([xp.stack([hxx, hxy]), xp.stack([hxy, hyy])])


class StrictSaddle(Objective):
    r"""ℓ(x, y) = ½x² − ½y² + ¼y⁴: a strict saddle at 0 (Hessian diag(1, −1)), minima (0, ±1)
    with ℓ* = −¼. The stable manifold of the saddle is the line y = 0.

    Exact gradient flow: x(t) = x0 e^{−t}, y(t) = y0 e^t / √(1 + y0²(e^{2t} − 1)) (Bernoulli).
    """

    dim = 2

    def __init__(self):
        self.minimiser, self.min_value = np.array([0.0, 1.0]), -0.25
        self.saddle = np.zeros(2)

    def value(self, x):
        _check2(x)
        return 0.5 * x[0] ** 2 - 0.5 * x[1] ** 2 + 0.25 * x[1] ** 4

    def grad(self, x):
        xp = _check2(x)
        return xp.stack([x[0], -x[1] + x[1] ** 3])

    def hessian(self, x):
        xp = _check2(x)
        zero = xp.zeros((), dtype=x.dtype)
        return xp.stack([xp.stack([zero + 1.0, zero]), xp.stack([zero, -1.0 + 3 * x[1] ** 2])])

    def flow(self, x0, t):
        xp = _check2(x0)
        et = float(np.exp(t))
        y = x0[1] * et / xp.sqrt(1.0 + x0[1] ** 2 * (et * et - 1.0))
        return xp.stack([x0[0] / et, y])


class MatrixFactorisation(Objective):
    r"""ℓ(U, V) = ½‖U Vᵀ − M‖_F² over the pytree ``{"U": (m, r), "V": (n, r)}``.

    M = U* V*ᵀ is generated with rank r (seeded), so ℓ* = 0 at (U*, V*) (and along its
    GL(r) orbit). Non-convex; ∇_U = R V, ∇_V = Rᵀ U with R = U Vᵀ − M; exact HVP below.
    """

    def __init__(self, m: int, n: int, rank: int, *, seed: int = 0):
        rng = np.random.default_rng(seed)
        U, V = rng.standard_normal((m, rank)), rng.standard_normal((n, rank))
        self.M, self.shape, self.rank = U @ V.T, (m, n), rank
        self.minimiser, self.min_value = {"U": U, "V": V}, 0.0

    def _residual(self, p):
        xp = _xp.namespace(p, names=("params",))
        return xp, p["U"] @ xp.matrix_transpose(p["V"]) - as_const(xp, self.M, p["U"])

    def value(self, p):
        xp, R = self._residual(p)
        return 0.5 * xp.sum(R * R)

    def grad(self, p):
        xp, R = self._residual(p)
        return {"U": R @ p["V"], "V": xp.matrix_transpose(R) @ p["U"]}

    def hvp(self, p, v):
        """d/ds ∇ℓ(p + s v): dR = dU Vᵀ + U dVᵀ; (dR V + R dV, dRᵀ U + Rᵀ dU)."""
        xp, R = self._residual(p)
        T = xp.matrix_transpose
        dR = v["U"] @ T(p["V"]) + p["U"] @ T(v["V"])
        return {"U": dR @ p["V"] + R @ v["V"], "V": T(dR) @ p["U"] + T(R) @ v["U"]}

    def random_point(self, seed: int, scale: float = 1.0) -> dict[str, Any]:
        rng = np.random.default_rng(seed)
        m, n = self.shape
        return {"U": scale * rng.standard_normal((m, self.rank)),
                "V": scale * rng.standard_normal((n, self.rank))}


class CosineMixture(Objective):
    r"""A smooth non-convex function with known smoothness and lower bound.

    ℓ(x) = Σ_i a_i cos(b_iᵀx) + (c/2)‖x‖², with a_i ∈ ℝ, b_i ∈ ℝ^d, c ≥ 0. Its Hessian is
    −Σ a_i cos(b_iᵀx) b_i b_iᵀ + cI, so ∇ℓ is L-Lipschitz with L = Σ\|a_i\|‖b_i‖² + c (an upper
    bound), and ℓ ≥ ℓ_inf = −Σ\|a_i\| (a lower bound). Non-convex whenever some \|a_i\|‖b_i‖² > c.
    """

    def __init__(self, a: Any, B: Any, c: float = 0.0):
        a, B = np.asarray(a, dtype=np.float64), np.asarray(B, dtype=np.float64)
        if a.ndim != 1 or B.ndim != 2 or B.shape[0] != a.shape[0]:
            raise ValueError(f"a must be (m,) and B (m, d); got {a.shape} and {B.shape}")
        if c < 0:
            raise ValueError(f"c must be >= 0, got {c!r}")
        self.a, self.B, self.c = a, B, float(c)
        self.dim = B.shape[1]
        self.L = float(np.sum(np.abs(a) * np.sum(B * B, axis=1)) + c)
        self.lower_bound = float(-np.sum(np.abs(a)))

    def __repr__(self) -> str:
        return (f"CosineMixture(a={np.round(self.a, 6).tolist()}, B={np.round(self.B, 6).tolist()}, "
                f"c={self.c:.6g})")

    def value(self, x):
        xp = _xp.namespace(x, names=("x",))
        z = as_const(xp, self.B, x) @ x
        return xp.sum(as_const(xp, self.a, x) * xp.cos(z)) + 0.5 * self.c * xp.sum(x * x)

    def grad(self, x):
        xp = _xp.namespace(x, names=("x",))
        B = as_const(xp, self.B, x)
        w = -as_const(xp, self.a, x) * xp.sin(B @ x)
        return xp.matrix_transpose(B) @ w + self.c * x

    def hessian(self, x):
        xp = _xp.namespace(x, names=("x",))
        B = as_const(xp, self.B, x)
        w = -as_const(xp, self.a, x) * xp.cos(B @ x)
        eye = xp.eye(self.dim, dtype=x.dtype)
        return xp.matrix_transpose(B) @ (w[:, None] * B) + self.c * eye
