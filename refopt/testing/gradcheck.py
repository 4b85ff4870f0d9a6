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

import math
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
    r"""\|a − b\| / max(\|a\|, \|b\|, scale); 0 when all three are 0; inf when any is NaN/inf.

    A NaN would compare False against every tolerance (``err > tol`` never fires), so it is
    reported as an infinite error instead.
    """
    if not all(math.isfinite(v) for v in (a, b, scale)):
        return math.inf
    scale = max(abs(a), abs(b), scale)
    return 0.0 if scale == 0.0 else abs(a - b) / scale


def _check_point(x: Any) -> list[str]:
    """x must be a tree of real or complex floating arrays; returns its leaf paths."""
    leaves, treedef = _tree.flatten(x)
    paths = _tree.leaf_paths(treedef)
    xp = _xp.namespace(x, names=("x",))
    for path, leaf in zip(paths, leaves):
        if not xp.isdtype(leaf.dtype, ("real floating", "complex floating")):
            raise TypeError(f"x{'' if path == '<root>' else path} has dtype {leaf.dtype}: a gradient "
                            "check needs a floating-point point (an integer x cannot be perturbed)")
    return paths


def _check_like(x: Any, g: Any, name: str) -> None:
    """``g`` must have x's structure, and each leaf x's shape and dtype (no broadcasting)."""
    _tree.assert_same_structure(("x", name), (x, g))
    _xp.namespace(x, g, names=("x", name))
    paths = _tree.leaf_paths(_tree.structure(x))
    for path, a, b in zip(paths, _tree.leaves(x), _tree.leaves(g)):
        where = "" if path == "<root>" else path
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(f"{name}{where} has shape {tuple(b.shape)}, x{where} has {tuple(a.shape)}")
        if a.dtype != b.dtype:
            raise TypeError(f"{name}{where} has dtype {b.dtype}, x{where} has {a.dtype}")


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
    _check_point(x)
    g = grad(x)
    _check_like(x, g, "grad(x)")
    v = random_like(x, seed)
    numeric = float(directional_derivative(f, x, v, method=method, h=h))
    analytic, scale = treemath.vdot_with_scale(g, v)
    return relative_error(numeric, analytic, scale)


def assert_grad_close(f: Callable[[Any], Any], grad: Callable[[Any], Any], x: Any, *,
                      rtol: float = 1e-6, atol: float = 1e-8, method: str = "central",
                      h: float | None = None) -> float:
    r"""Assert ``grad(x)`` ≈ ∇f(x) coordinate by coordinate; return the worst error ratio.

    Checks first that x is floating point and that ``grad(x)`` has x's structure, shapes and
    dtypes (a broadcastable wrong shape is an error, not a pass). Then every coordinate's
    numerical partial derivative (``method``, 2 or 4 calls of f each — meant for small
    problems) is compared: \|analytic − numeric\| ≤ atol + rtol·\|numeric\|. NaN or inf
    anywhere fails. The ``AssertionError`` names the leaf and the coordinate with the largest
    error, and both values there.
    """
    paths = _check_point(x)
    g = grad(x)
    _check_like(x, g, "grad(x)")
    leaves, treedef = _tree.flatten(x)
    worst = (-1.0, "", (), 0.0, 0.0)
    for k, (path, leaf, g_leaf) in enumerate(zip(paths, leaves, _tree.leaves(g))):
        xp = _xp.namespace(leaf)
        analytic = np.asarray(g_leaf)
        for idx in np.ndindex(*tuple(leaf.shape)):
            unit = np.zeros(tuple(leaf.shape))
            unit[idx] = 1.0
            direction = [xp.zeros_like(other) for other in leaves]
            direction[k] = xp.asarray(unit, dtype=leaf.dtype, device=_xp.device(leaf))
            numeric = complex(directional_derivative(
                f, x, _tree.unflatten(treedef, direction), method=method, h=h))
            numeric = numeric.real if numeric.imag == 0 else numeric
            a = complex(analytic[idx])
            a = a.real if a.imag == 0 else a
            err = abs(a - numeric)
            ratio = err / (atol + rtol * abs(numeric))
            if not (math.isfinite(abs(a)) and math.isfinite(abs(numeric)) and math.isfinite(ratio)):
                ratio = math.inf
            if ratio > worst[0]:
                worst = (ratio, path, idx, a, numeric)
    ratio, path, idx, a, numeric = worst
    if ratio > 1.0:
        raise AssertionError(
            f"gradient mismatch at x{'' if path == '<root>' else path}[{', '.join(map(str, idx))}]: "
            f"analytic {a!r}, numeric ({method}) {numeric!r}; error/(atol + rtol·|numeric|) = "
            f"{ratio:.3g} > 1 (rtol={rtol:g}, atol={atol:g})")
    return max(ratio, 0.0)
