"""Lookahead around any rule: k fast steps, then one step of the slow weights (Zhang et al. 2019)."""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

from refopt import _xp, base, rule
from refopt.elementwise import Kernel


@base.register_state
class LookaheadState(NamedTuple):
    """State of :func:`lookahead`."""

    t: int       # number of (fast) updates applied so far
    inner: Any   # the wrapped (fast) rule's state
    slow: Any    # φ, the slow weights (evaluate the model here)


@base.rule_factory("lookahead", LookaheadState)
def lookahead(inner: base.Optimizer, sync_period: int = 5, slow_step_size: float = 0.5, *,
              reset_state: bool = False) -> base.Optimizer:
    r"""Lookahead: the wrapped rule moves the fast weights θ; every k-th step the slow weights
    φ move a fraction α of the way to θ and θ restarts from φ.

    .. math::
        \theta_t = \mathcal A(\theta_{t-1}),\qquad
        \text{if } k \mid t:\ \ \phi \leftarrow \phi + \alpha(\theta_t - \phi),\ \ \theta_t \leftarrow \phi

    with φ₀ = θ₀, k = ``sync_period`` and α = ``slow_step_size``. ``update`` returns the fast
    weights θ_t (where the next gradient is taken); the slow weights are ``state.slow``. At a
    synchronisation both are equal. α = 1 recovers the wrapped rule; α = 0 freezes φ = θ₀.
    With ``reset_state=True`` the wrapped rule's state is re-initialised at each
    synchronisation.

    **Conventions.** ``optax.lookahead(rule, sync_period=k, slow_step_size=α, reset_state)``
    with ``LookaheadParams(fast=θ, slow=φ)``; the paper's k = 5, α = 0.5 are the defaults.

    Example (SGD on ½θ², k = 2, α = 0.5: two fast steps 8 → 4 → 2, then φ = 8 + ½(2 − 8) = 5):

    >>> import numpy as np, refopt
    >>> opt = refopt.lookahead(refopt.sgd(lr=0.5), sync_period=2, slow_step_size=0.5)
    >>> p = np.array([8.0]); s = opt.init(p)
    >>> p, s = opt.update(p, s, p); print(p, s.slow)
    [4.] [8.]
    >>> p, s = opt.update(p, s, p); print(p, s.slow)
    [5.] [5.]

    References: Zhang et al., arXiv:1907.08610. Proof page: :ref:`rule-lookahead`.
    """
    rule.check_inner(inner)
    if isinstance(sync_period, bool) or not isinstance(sync_period, numbers.Integral) or sync_period < 1:
        raise ValueError(f"sync_period must be an integer >= 1, got {sync_period!r}")
    k = int(sync_period)
    alpha = base.check_real("slow_step_size", slow_step_size, low=0.0, high=1.0)
    reset_state = base.check_bool("reset_state", reset_state)

    def init(params: Any) -> LookaheadState:
        return LookaheadState(t=0, inner=inner.init(params), slow=params)

    def leaf(xp, s, f):
        return s + alpha * (f - s)

    kernel = Kernel(leaf, 1, "lookahead")

    def update(grads: Any, state: LookaheadState, params: Any, **oracles: Any
               ) -> tuple[Any, LookaheadState]:
        fast, inner_state = inner.update(grads, state.inner, params, **oracles)
        t = state.t + 1
        if t % k:
            return fast, LookaheadState(t=t, inner=inner_state, slow=state.slow)
        (slow,) = kernel(_xp.namespace(fast), (state.slow, fast))
        if reset_state:
            inner_state = inner.init(params)
        return slow, LookaheadState(t=t, inner=inner_state, slow=slow)

    return base.optimizer(init, update, inner.extra_args)
