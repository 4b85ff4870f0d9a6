"""Gradient centralisation around any rule (Yong et al. 2020)."""

from __future__ import annotations

from typing import Any

from refopt import _xp, base, rule
from refopt import tree as _tree


@base.rule_factory("centralize", None)
def centralize(inner: base.Optimizer) -> base.Optimizer:
    r"""Subtract from each row of every leaf of rank ≥ 2 its mean before ``inner`` sees it.

    For a leaf of shape (n₀, n₁, …) and each index i of the leading axis,

    .. math:: \tilde g_{i,\cdot} = g_{i,\cdot} - \frac{1}{m}\sum_{j} g_{i,j},\qquad m = n_1 n_2\cdots

    Vectors and scalars pass unchanged (biases are not centralised). The map is the orthogonal
    projection onto the rows of mean zero, so ‖g̃‖ ≤ ‖g‖ and g̃ ⟂ 𝟙 row by row.

    **Conventions.** ``optax.centralize()`` chained before the rule: the leading axis is the
    output axis (the layout of torch's ``(out, in)`` weights used by Yong et al.).

    Example (each row of the step has mean zero, so row sums of θ are conserved):

    >>> import numpy as np, refopt
    >>> opt = refopt.centralize(refopt.sgd(lr=1.0))
    >>> g = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 9.0]])
    >>> p, s = opt.update(g, opt.init(np.zeros((2, 3))), np.zeros((2, 3)))
    >>> print(p)
    [[ 1.  0. -1.]
     [ 2.  1. -3.]]

    References: Yong et al., arXiv:2004.01461. Proof page: :ref:`rule-gradient-transforms`.
    """

    def leaf(g: Any) -> Any:
        if g.ndim < 2:
            return g
        return g - _xp.namespace(g).mean(g, axis=tuple(range(1, g.ndim)), keepdims=True)

    return rule.gradient_transform(inner, lambda grads, params: _tree.map(leaf, grads))
