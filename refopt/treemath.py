"""Linear algebra over pytrees: inner products, norms, and linear combinations.

One floor above ``refopt.tree`` and ``refopt._xp`` (which must not import it, or the
imports would form a cycle), and below every rule. Before writing a loop over
``tree.leaves`` in a rule, look here; if the operation is missing, add it here.

Reductions return Python floats (they are used for step-size decisions and diagnostics, on the
host); element-wise combinations return trees of the inputs' namespace.

>>> import numpy as np
>>> from refopt import treemath
>>> a = {"w": np.array([3.0, 0.0]), "b": np.array(4.0)}
>>> treemath.norm(a), treemath.vdot(a, a)
(5.0, 25.0)
>>> treemath.add_scaled(a, -1.0, a)["w"]
array([0., 0.])
"""

from __future__ import annotations

from typing import Any

from refopt import _xp
from refopt import tree as _tree


def vdot(a: Any, b: Any) -> float:
    """⟨a, b⟩ = Σ over leaves and coordinates of a ⊙ b."""
    _tree.assert_same_structure(("a", "b"), (a, b))
    total = 0.0
    for x, y in zip(_tree.leaves(a), _tree.leaves(b)):
        total += float(_xp.namespace(x).sum(x * y))
    return total


def vdot_with_scale(a: Any, b: Any) -> tuple[float, float]:
    r"""(⟨a, b⟩, Σ\|a ⊙ b\|): the inner product and the size of the terms it sums.

    The second number is the scale against which the round-off of the first is judged: when
    the terms cancel, ⟨a, b⟩ can be far smaller than its error.
    """
    _tree.assert_same_structure(("a", "b"), (a, b))
    total = magnitude = 0.0
    for x, y in zip(_tree.leaves(a), _tree.leaves(b)):
        xp = _xp.namespace(x)
        total += float(xp.sum(x * y))
        magnitude += float(xp.sum(xp.abs(x * y)))
    return total, magnitude


def sum_sq(a: Any) -> float:
    """‖a‖² = Σ a ⊙ a over every leaf."""
    total = 0.0
    for x in _tree.leaves(a):
        total += float(_xp.namespace(x).sum(x * x))
    return total


def norm(a: Any) -> float:
    """The global Euclidean norm ‖a‖₂ over every leaf (as in global-norm clipping)."""
    return sum_sq(a) ** 0.5


def add_scaled(x: Any, alpha: float, y: Any) -> Any:
    """x + α·y, leaf by leaf."""
    return _tree.map(lambda a, b: a + alpha * b, x, y, names=("x", "y"))


def scale(alpha: float, x: Any) -> Any:
    """α·x, leaf by leaf."""
    return _tree.map(lambda a: alpha * a, x)


def lincomb(base_tree: Any, terms: list[tuple[float, Any]]) -> Any:
    """base + Σ c_i·y_i over trees y_i, skipping zero coefficients (explicit tableaux are sparse).

    Terms are added left to right, so the rounding is that of the written sum.
    """
    terms = [(c, t) for c, t in terms if c != 0.0]
    if not terms:
        return base_tree

    def leaf(b, *ys):
        out = b
        for (c, _), y in zip(terms, ys):
            out = out + c * y
        return out

    return _tree.map(leaf, base_tree, *[t for _, t in terms])


def weighted_sum(terms: list[tuple[float, Any]]) -> Any:
    """Σ c_i·y_i over trees y_i (at least one term), evaluated left to right."""
    if not terms:
        raise ValueError("terms: need at least one (coefficient, tree) pair")
    (c0, y0), rest = terms[0], terms[1:]
    out = scale(c0, y0)
    for c, y in rest:
        out = add_scaled(out, c, y)
    return out
