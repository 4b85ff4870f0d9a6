r"""Gradient checks for hand-written backward passes — usable on your own code.

A backward pass is a vector–Jacobian product ``vjp(x, u) = Jᵀu`` of a function ``y = f(x)``.
The check draws a random direction v (shaped like x) and a random upstream gradient u (shaped
like y), and compares

    numeric  = ⟨u, D_v f(x)⟩      (D_v by finite differences or the complex step)
    analytic = ⟨vjp(x, u), v⟩     (= ⟨u, J v⟩ when vjp is right)

returning \|numeric − analytic\| / scale. Contracting with random u and v tests every entry of J
at once, for the price of two or four evaluations of f.

The scale is max(Σ\|u ⊙ D_v f(x)\|, Σ\|vjp(x, u) ⊙ v\|) — the size of the *terms* being summed, not of
their sum: random signs can make the inner product cancel to almost nothing, and dividing by it
would report ordinary finite-difference rounding as a large relative error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from refopt import _xp, treemath
from refopt import tree as _tree
from refopt.numdiff import Method, directional_derivative


def random_like(tree: Any, seed: int) -> Any:
    """A standard-normal tree shaped like ``tree`` (same namespace, real dtype), seeded."""
    rng = np.random.default_rng(seed)

    def leaf(a):
        xp = _xp.namespace(a, names=("x",))
        real = xp.float32 if a.dtype in (xp.float32, xp.complex64) else xp.float64
        return xp.asarray(rng.standard_normal(tuple(a.shape)), dtype=real, device=_xp.device(a))

    return _tree.map(leaf, tree)




def relative_error(a: float, b: float, scale: float = 0.0) -> float:
    r"""\|a − b\| / max(\|a\|, \|b\|, scale); 0 when all three are 0."""
    scale = max(abs(a), abs(b), scale)
    return 0.0 if scale == 0.0 else abs(a - b) / scale


def check_vjp(f: Callable[[Any], Any], vjp: Callable[[Any, Any], Any], x: Any, *,
              method: Method = "central", h: float | None = None, seed: int = 0) -> float:
    """Relative error of ``vjp`` against a numerical directional derivative of ``f`` at ``x``.

    ``method``: ``"central"`` (expect ~1e−10 for smooth f in float64), ``"five_point"``, or
    ``"complex_step"`` (expect ~1e−15; f must be complex-analytic).
    """
    v = random_like(x, seed)
    y = f(x)
    u = random_like(y, seed + 1)
    numeric, num_scale = treemath.vdot_with_scale(u, directional_derivative(f, x, v, method=method, h=h))
    analytic, ana_scale = treemath.vdot_with_scale(vjp(x, u), v)
    return relative_error(numeric, analytic, max(num_scale, ana_scale))


def check_grad(f: Callable[[Any], Any], grad: Callable[[Any], Any], x: Any, *,
               method: Method = "central", h: float | None = None, seed: int = 0) -> float:
    """Relative error of ``grad`` for a scalar-valued ``f``: ⟨∇f(x), v⟩ vs D_v f(x)."""
    v = random_like(x, seed)
    numeric = float(directional_derivative(f, x, v, method=method, h=h))
    analytic, scale = treemath.vdot_with_scale(grad(x), v)
    return relative_error(numeric, analytic, scale)
