"""The dense layer y = xW + b and its backward pass (:ref:`spec-networks`)."""

from __future__ import annotations

from typing import Any

import array_api_compat

from refopt import _buffers


def dense_forward(x: Any, W: Any, b: Any) -> Any:
    """y = x W + b with x: (N, d_in), W: (d_in, d_out), b: (d_out,)."""
    if x.ndim != 2 or W.ndim != 2 or b.ndim != 1:
        raise ValueError(f"dense_forward expects x (N, d_in), W (d_in, d_out), b (d_out,); got "
                         f"x {tuple(x.shape)}, W {tuple(W.shape)}, b {tuple(b.shape)}")
    if x.shape[1] != W.shape[0] or W.shape[1] != b.shape[0]:
        raise ValueError(f"dense_forward: x {tuple(x.shape)}, W {tuple(W.shape)} and "
                         f"b {tuple(b.shape)} do not fit together")
    return affine(x, W, b)


def affine(x: Any, W: Any, b: Any) -> Any:
    """x W + b for shapes already checked: the bias is added into the fresh product in place.

    Same operations and rounding as ``x @ W + b`` with one (N, d_out) array instead of two; when
    b's dtype differs from the product's (a complex-step b on real x W) the sum promotes instead.
    """
    z = _buffers.matmul(x, W)
    if z.dtype == b.dtype:
        z += b
        return z
    return z + b


def dense_backward(x: Any, W: Any, dy: Any) -> tuple[Any, Any, Any]:
    """Given dy = ∂L/∂y: dx = dy Wᵀ, dW = xᵀ dy, db = Σ_n dy_n."""
    xp = array_api_compat.array_namespace(x, W, dy)
    return (_buffers.matmul(dy, W.T),) + dense_param_grads(xp, x, dy)


def dense_param_grads(xp: Any, x: Any, dy: Any) -> tuple[Any, Any]:
    """(dW, db) = (xᵀ dy, Σ_n dy_n); xᵀ is a view, so the BLAS reads x transposed in place."""
    return _buffers.matmul(x.T, dy), xp.sum(dy, axis=0)


def dense_per_example_sq_norms(x: Any, dy_per_example: Any) -> Any:
    """‖∂ℓ_n/∂W‖² + ‖∂ℓ_n/∂b‖² = ‖x_n‖²‖dy_n‖² + ‖dy_n‖², without forming x_n dy_nᵀ.

    ``dy_per_example`` holds ∂ℓ_n/∂y_n (the per-example loss, not the batch mean); the outer
    product x_n dy_nᵀ has Frobenius norm ‖x_n‖‖dy_n‖ (Goodfellow 2015's trick).
    """
    xp = array_api_compat.array_namespace(x, dy_per_example)
    dy2 = xp.sum(dy_per_example * dy_per_example, axis=1)
    return xp.sum(x * x, axis=1) * dy2 + dy2
