r"""Finite-difference and complex-step derivatives (:ref:`spec-numerical`).

For f smooth and step h, along a direction v (so pytrees and vector-valued f are covered):

=============  ==============================================================  =====
method         formula for D_v f(x)                                            order
=============  ==============================================================  =====
forward        (f(x + hv) − f(x)) / h                                          1
backward       (f(x) − f(x − hv)) / h                                          1
central        (f(x + hv) − f(x − hv)) / (2h)                                  2
five_point     (−f(x+2hv) + 8f(x+hv) − 8f(x−hv) + f(x−2hv)) / (12h)            4
complex_step   Im f(x + i h v) / h                     (f real-analytic)       2
=============  ==============================================================  =====

The complex step has no subtractive cancellation, so h can be tiny (1e−20) and the result is
exact to rounding; it needs f written with complex-analytic operations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import array_api_compat

from refopt import _xp, treemath
from refopt import tree as _tree

# the formulas by name; tests/test_core.py checks Method against ORDERS
Method = Literal["forward", "backward", "central", "five_point", "complex_step"]
ORDERS = {"forward": 1, "backward": 1, "central": 2, "five_point": 4, "complex_step": 2}

# step sizes that balance truncation against round-off in float64 for f, x of size O(1):
# h ≈ ε^{1/(p+1)} for a formula of order p; the complex step has no round-off floor.
DEFAULT_STEPS = {"forward": 1.5e-8, "backward": 1.5e-8, "central": 6e-6, "five_point": 1e-3,
                 "complex_step": 1e-20}






def directional_derivative(f: Callable[[Any], Any], x: Any, v: Any, *, method: Method = "central",
                           h: float | None = None) -> Any:
    """Estimate D_v f(x) = d/ds f(x + s v) at s = 0 with the named formula (see module doc)."""
    if method not in ORDERS:
        raise ValueError(f"method must be one of {sorted(ORDERS)}, got {method!r}")
    h = DEFAULT_STEPS[method] if h is None else float(h)
    if not h > 0:
        raise ValueError(f"h must be > 0, got {h!r}")
    def at(s: float) -> Any:  # f(x + s·v)
        return f(treemath.add_scaled(x, s, v))

    if method == "forward":
        return treemath.weighted_sum([(1 / h, at(h)), (-1 / h, f(x))])
    if method == "backward":
        return treemath.weighted_sum([(1 / h, f(x)), (-1 / h, at(-h))])
    if method == "central":
        return treemath.weighted_sum([(0.5 / h, at(h)), (-0.5 / h, at(-h))])
    if method == "five_point":
        return treemath.weighted_sum([(-1 / (12 * h), at(2 * h)), (8 / (12 * h), at(h)),
                                      (-8 / (12 * h), at(-h)), (1 / (12 * h), at(-2 * h))])
    xz = _tree.map(lambda xi, vi: _complex(xi) + _complex(vi) * complex(0.0, h), x, v)
    return _tree.map(lambda y: _imag(y) / h, f(xz))


def _complex(a: Any) -> Any:
    if isinstance(a, (int, float, complex)):
        return complex(a)
    xp = array_api_compat.array_namespace(a)
    target = xp.complex64 if a.dtype == xp.float32 else xp.complex128
    return xp.astype(a, target)


def _imag(y: Any) -> Any:
    if isinstance(y, complex):
        return y.imag
    if isinstance(y, float):
        return 0.0
    return array_api_compat.array_namespace(y).imag(y)


def derivative(f: Callable[[float], float], x: float, *, method: Method = "central",
               h: float | None = None) -> float:
    """f'(x) for a scalar function of a scalar (e.g. the §3 reference f = sin at x = 1)."""
    return directional_derivative(f, x, 1.0, method=method, h=h)


def gradient(f: Callable[[Any], Any], x: Any, *, method: Method = "central",
             h: float | None = None) -> Any:
    """∇f(x) for a scalar f of a 1-D array, one coordinate direction at a time (O(d) calls)."""
    xp = _xp.namespace(x, names=("x",))
    if x.ndim != 1:
        raise ValueError(f"gradient expects a 1-D x, got shape {tuple(x.shape)}")
    eye = xp.eye(x.shape[0], dtype=x.dtype, device=_xp.device(x))
    parts = [directional_derivative(f, x, eye[i, :], method=method, h=h) for i in range(x.shape[0])]
    return xp.stack([xp.asarray(p, dtype=x.dtype) if not hasattr(p, "shape") else p for p in parts])
