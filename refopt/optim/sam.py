"""Sharpness-aware minimisation around any rule (Foret et al. 2021)."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

from refopt import base, rule, treemath


@base.register_state
class SAMState(NamedTuple):
    """State of :func:`sam`."""

    t: int       # number of (outer) updates applied so far
    inner: Any   # the wrapped rule's state


@base.rule_factory("sam", SAMState)
def sam(inner: base.Optimizer, rho: float = 0.05, *, ascent_steps: int = 1,
        eps: float = 0.0) -> base.Optimizer:
    r"""SAM: hand the wrapped rule the gradient at the worst nearby point of an ascent step.

    .. math::
        \tilde\theta_0 = \theta_{t-1},\quad
        \tilde\theta_{j} = \tilde\theta_{j-1} + \rho\,\frac{\nabla\ell(\tilde\theta_{j-1})}
        {\lVert\nabla\ell(\tilde\theta_{j-1})\rVert_2 + \epsilon}\ (j = 1..n),\qquad
        \theta_t = \mathcal A\bigl(\theta_{t-1};\ \nabla\ell(\tilde\theta_n)\bigr)

    with ρ = ``rho``, n = ``ascent_steps`` (Foret et al. use n = 1) and the global norm over
    every leaf. The wrapped rule's step is taken at θ_{t−1} (so its weight decay acts there),
    with the gradient from the perturbed point. Where ‖∇ℓ‖ + ε = 0 the ascent direction is
    undefined and the step is 0 (optax divides by zero there).

    The rule evaluates the gradients itself, so it declares ``extra_args={"grad_fn"}``:
    ``update(None, state, params, grad_fn=f)``, n + 1 gradient calls per update. The wrapped
    rule must take plain gradients.

    **Conventions.** ``optax.contrib.sam(rule, chain(normalize(), sgd(ρ)), sync_period=n + 1,
    opaque_mode=True)`` with ``eps=0``. Foret et al.'s reference code adds ε = 1e-12.

    Example (ℓ = ½θ², ρ = 0.5: the gradient is taken at θ + ρ·sign(θ) = 1.5, so SGD(η = 1)
    lands at 1 − 1.5):

    >>> import numpy as np, refopt
    >>> opt = refopt.sam(refopt.sgd(lr=1.0), rho=0.5)
    >>> p, s = opt.update(None, opt.init(np.array([1.0])), np.array([1.0]), grad_fn=lambda q: q)
    >>> print(p)
    [-0.5]

    References: Foret et al., arXiv:2010.01412. Proof page: :ref:`rule-sam`.
    """
    rule.check_inner(inner)
    if inner.extra_args:
        raise ValueError(f"inner must take plain gradients (it declares {sorted(inner.extra_args)}); "
                         "SAM supplies the gradient from the perturbed point")
    rho = base.check_real("rho", rho, low=0.0)
    eps = base.check_real("eps", eps, low=0.0)
    if isinstance(ascent_steps, bool) or not isinstance(ascent_steps, numbers.Integral) \
            or ascent_steps < 1:
        raise ValueError(f"ascent_steps must be an integer >= 1, got {ascent_steps!r}")
    n = int(ascent_steps)

    def init(params: Any) -> SAMState:
        return SAMState(t=0, inner=inner.init(params))

    def update(grads: Any, state: SAMState, params: Any, *,
               grad_fn: Callable[[Any], Any] | None = None) -> tuple[Any, SAMState]:
        if grad_fn is None:
            raise ValueError("grad_fn is required: SAM evaluates ∇ℓ at θ and at the perturbed "
                             "point itself")
        if grads is not None:
            raise ValueError("grads must be None for SAM (the rule calls grad_fn itself)")
        point = params
        for _ in range(n):
            g = grad_fn(point)
            base.check_update_args(g, state.inner, params)
            size = treemath.norm(g) + eps
            point = point if size == 0.0 else treemath.add_scaled(point, rho / size, g)
        params, inner_state = inner.update(grad_fn(point), state.inner, params)
        return params, SAMState(t=state.t + 1, inner=inner_state)

    return base.optimizer(init, update, {"grad_fn"})
