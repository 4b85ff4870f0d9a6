"""Gradient clipping around any rule: by value, by global norm, and adaptive (unit-wise) clipping."""

from __future__ import annotations

import numbers
from typing import Any

from refopt import _xp, base, rule, treemath
from refopt import tree as _tree
from refopt.elementwise import Kernel


@base.rule_factory("clip_by_value", None)
def clip_by_value(inner: base.Optimizer, max_delta: float) -> base.Optimizer:
    r"""Clip every gradient coordinate to [−c, c] before ``inner`` sees it, c = ``max_delta``.

    .. math:: \tilde g_i = \min(\max(g_i, -c), c)

    **Conventions.** ``optax.clip(c)`` chained before the rule. Composition: ``a(b(rule))`` is
    ``optax.chain(a, b, rule)`` (see ``refopt.rule.gradient_transform``).

    Example (every coordinate of g̃ lies in [−c, c], so an SGD step moves each by at most ηc):

    >>> import numpy as np, refopt
    >>> opt = refopt.clip_by_value(refopt.sgd(lr=1.0), max_delta=0.5)
    >>> p, s = opt.update(np.array([3.0, -0.2]), opt.init(np.zeros(2)), np.zeros(2))
    >>> print(p)
    [-0.5  0.2]

    Proof page: :ref:`rule-gradient-transforms`.
    """
    c = base.check_real("max_delta", max_delta, low=0.0, low_open=True)

    def leaf(xp, g):
        return xp.clip(g, -c, c)

    kernel = Kernel(leaf, 1, "clip_by_value")

    def transform(grads: Any, params: Any) -> Any:
        (grads,) = kernel(_xp.namespace(grads), (grads,))
        return grads

    return rule.gradient_transform(inner, transform)


@base.rule_factory("clip_by_global_norm", None)
def clip_by_global_norm(inner: base.Optimizer, max_norm: float, *, eps: float = 0.0) -> base.Optimizer:
    r"""Rescale the whole gradient tree so that its global norm is at most ``max_norm``.

    .. math:: \tilde g = g \cdot \min\Bigl(1, \frac{c}{\lVert g\rVert_2 + \epsilon}\Bigr)

    with ‖g‖₂ over every leaf (:func:`refopt.treemath.norm`). The direction is unchanged and
    ‖g̃‖₂ ≤ c (proved on the proof page; strictly < c when ε > 0).

    **Conventions.** ``eps=0``: ``optax.clip_by_global_norm(c)``. ``eps=1e-6``:
    ``torch.nn.utils.clip_grad_norm_(params, c)`` before ``step()``.

    Example (g = (3, 4) has norm 5; clipped to norm 1 it is (0.6, 0.8)):

    >>> import numpy as np, refopt
    >>> opt = refopt.clip_by_global_norm(refopt.sgd(lr=1.0), max_norm=1.0)
    >>> p, s = opt.update(np.array([3.0, 4.0]), opt.init(np.zeros(2)), np.zeros(2))
    >>> print(p)
    [-0.6 -0.8]

    References: Pascanu et al., arXiv:1211.5063. Proof page: :ref:`rule-gradient-transforms`.
    """
    c = base.check_real("max_norm", max_norm, low=0.0, low_open=True)
    eps = base.check_real("eps", eps, low=0.0)

    def transform(grads: Any, params: Any) -> Any:
        size = treemath.norm(grads) + eps
        # the factor min(1, c/size) is 1 (and g untouched, even g = 0) exactly when size <= c
        return grads if size <= c else treemath.scale(c / size, grads)

    return rule.gradient_transform(inner, transform)


def unit_axes(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes a unit-wise norm sums over (layout: inputs first, outputs last, as HWIO).

    A vector (or an array with at most one axis longer than 1) is one unit; a matrix (in, out)
    or a stack of them (in, heads, out) sums over axis 0; a 4-d HWIO kernel over (0, 1, 2); a
    5-d DHWIO kernel over (0, 1, 2, 3).
    """
    if sum(1 for n in shape if n != 1) <= 1:
        return tuple(range(len(shape)))
    by_rank = {2: (0,), 3: (0,), 4: (0, 1, 2), 5: (0, 1, 2, 3)}
    if len(shape) not in by_rank:
        raise ValueError(f"adaptive_grad_clip: no default unit for shape {shape}; pass axis=")
    return by_rank[len(shape)]


@base.rule_factory("adaptive_grad_clip", None)
def adaptive_grad_clip(inner: base.Optimizer, clipping: float, *, eps: float = 1e-3,
                       axis: int | tuple[int, ...] | None = None) -> base.Optimizer:
    r"""Adaptive gradient clipping (Brock et al. 2021): bound each unit's ‖g‖ by λ·max(‖θ‖, ε).

    Per unit u (a slice of a leaf, ``unit_axes``), with λ = ``clipping``:

    .. math:: b_u = \lambda\max(\lVert\theta_u\rVert, \epsilon),\qquad
              \tilde g_u = \begin{cases} g_u & \lVert g_u\rVert < b_u\\
              g_u\, b_u / \max(\lVert g_u\rVert, 10^{-6}) & \text{otherwise}\end{cases}

    ε keeps zero-initialised units movable; the 10⁻⁶ floor only guards a division that the
    case split already avoids.

    **Conventions.** ``optax.adaptive_grad_clip(clipping, eps)`` chained before the rule;
    ``axis`` overrides the unit's summed axes for every leaf (optax's ``axis``).

    Example (θ = (3, 4), ‖θ‖ = 5, λ = 0.1: any gradient is shortened to norm 0.5):

    >>> import numpy as np, refopt
    >>> opt = refopt.adaptive_grad_clip(refopt.sgd(lr=1.0), clipping=0.1)
    >>> p, s = opt.update(np.array([0.0, 10.0]), opt.init(np.zeros(2)), np.array([3.0, 4.0]))
    >>> print(p)
    [3.  3.5]

    References: Brock et al., arXiv:2102.06171. Proof page: :ref:`rule-gradient-transforms`.
    """
    lam = base.check_real("clipping", clipping, low=0.0, low_open=True)
    eps = base.check_real("eps", eps, low=0.0)
    if axis is not None:
        axes = (axis,) if isinstance(axis, numbers.Integral) else axis
        if not isinstance(axes, tuple) or not all(
                isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
            raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")

    def leaf(g: Any, p: Any) -> Any:
        xp = _xp.namespace(g)
        summed = unit_axes(tuple(g.shape)) if axis is None else axes
        if any(not -g.ndim <= a < g.ndim for a in summed):
            raise ValueError(f"adaptive_grad_clip: axis={axis!r} does not fit a leaf of shape "
                             f"{tuple(g.shape)}")
        g_norm = xp.sqrt(xp.sum(g * g, axis=summed, keepdims=True))
        bound = lam * xp.maximum(xp.sqrt(xp.sum(p * p, axis=summed, keepdims=True)), eps)
        clipped = g * (bound / xp.maximum(g_norm, 1e-6))
        return xp.where(g_norm < bound, g, clipped)

    def transform(grads: Any, params: Any) -> Any:
        return _tree.map(leaf, grads, params, names=("grads", "params"))

    return rule.gradient_transform(inner, transform)
