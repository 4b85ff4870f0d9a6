"""Projection onto a box after every step: the projected versions of any rule."""

from __future__ import annotations

from typing import Any

from refopt import _xp, base
from refopt import tree as _tree


@base.rule_factory("project_box", None)
def project_box(inner: base.Optimizer, lower: float, upper: float) -> base.Optimizer:
    r"""θ_t = Π_[lower, upper](θ_t^{inner}): clip every coordinate after ``inner``'s step.

    For a box, the projection in any *diagonal* norm ‖x‖_H² = Σ h_i x_i² (the norms of Adagrad,
    RMSprop, Adam, AMSGrad) is the same coordinate-wise clip as the Euclidean one, because the
    problem separates by coordinate. So this wrapper is exactly the projected method of the
    online-learning analyses (Duchi et al. 2011; Reddi et al. 2018) for all refopt rules with
    diagonal preconditioners, and projected (S)GD for plain gradient rules.

    Example:

    >>> import numpy as np, refopt
    >>> opt = refopt.project_box(refopt.sgd(lr=1.0), -1.0, 1.0)
    >>> p, s = opt.update(np.array([5.0, -0.5]), opt.init(np.zeros(2)), np.zeros(2))
    >>> print(p)
    [-1.   0.5]
    """
    if not isinstance(inner, base.Optimizer):
        raise TypeError(f"inner must be a refopt Optimizer, got {type(inner).__name__}")
    lower = base.check_real("lower", lower, finite=False)
    upper = base.check_real("upper", upper, finite=False)
    if not lower <= upper:
        raise ValueError(f"lower must be <= upper, got {lower} > {upper}")

    def init(params: Any) -> Any:
        return inner.init(params)

    def update(grads: Any, state: Any, params: Any, **oracles: Any) -> tuple[Any, Any]:
        params, state = inner.update(grads, state, params, **oracles)
        return _tree.map(lambda p: _xp.namespace(p).clip(p, lower, upper), params), state

    return base.optimizer(init, update, inner.extra_args)  # the wrapper passes them through
