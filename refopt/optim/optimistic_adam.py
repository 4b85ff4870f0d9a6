"""Optimistic Adam (Daskalakis et al. 2018), with Mokhtari et al.'s α, β."""

from __future__ import annotations

from functools import partial
from typing import Any, Literal, NamedTuple

from refopt import base, rule
from refopt.optim.optimistic import check_optimism, optimistic_step


@base.register_state
class OptimisticAdamState(NamedTuple):
    """State of :func:`optimistic_adam`."""

    t: int       # number of updates applied so far
    m: Any       # first-moment EMA (not bias-corrected)
    v: Any       # second-moment EMA (not bias-corrected)
    prev: Any    # d_{t−1} = r_{t−1}, the previous Adam direction, 0 before the first update


@base.rule_factory("optimistic_adam", OptimisticAdamState)
def optimistic_adam(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *,
                    alpha: float = 1.0, beta: float = 1.0, eps: float = 1e-8, eps_root: float = 0.0,
                    nesterov: bool = False, prev_init: Literal["first_grad", "zero"] = "first_grad",
                    weight_decay: float = 0.0, decay: Literal["l2", "decoupled", "fixed"] = "l2",
                    maximize: bool = False) -> base.Optimizer:
    r"""Optimistic Adam (Daskalakis et al. 2018, Algorithm 1, with Mokhtari et al.'s α, β).

    .. math::
        r_t = \frac{\hat m_t}{\sqrt{\hat v_t + \epsilon_{root}} + \epsilon},\qquad
        \theta_t = \theta_{t-1} - \eta_t\big((\alpha+\beta)\, r_t - \beta\, r_{t-1}\big)

    with m̂_t, v̂_t Adam's bias-corrected moments (:ref:`rule-adam`); α = β = 1 is the paper's
    θ_t = θ_{t−1} − 2η r_t + η r_{t−1}. ``nesterov=True`` replaces m̂_t by Dozat's look-ahead
    β1 m_t/(1−β1^{t+1}) + (1−β1) g_t/(1−β1^t) (the NAdam numerator of :ref:`rule-nadam`, ψ = ∞).

    **Conventions.** ``optax.optimistic_adam_v2(lr, alpha=α, beta=β)`` is ``nesterov=True`` (its
    default) with ``prev_init="first_grad"``. "v2" changes optax's interface, not the algorithm:
    optax's deprecated v1 call ``optimistic_adam(lr, optimism=o)`` is α = 1, β = o/η here.

    Args:
      lr: η. beta1, beta2: Adam's rates in [0, 1). alpha, beta: α, β >= 0.
      eps, eps_root: ε outside and inside the root. nesterov: Dozat's look-ahead m̂.
      prev_init: r_0 = r_1 (``"first_grad"``) or 0. weight_decay, decay, maximize: see
        :ref:`rule-conventions`.

    Example (β = 0, α = 1 is Adam, bit for bit):

    >>> import numpy as np, refopt
    >>> a, b = refopt.optimistic_adam(lr=0.1, beta=0.0), refopt.adam(lr=0.1)
    >>> p = np.array([1.0, -2.0]); pa, sa, pb, sb = p, a.init(p), p, b.init(p)
    >>> for _ in range(10):
    ...     (pa, sa), (pb, sb) = a.update(pa, sa, pa), b.update(pb, sb, pb)
    >>> print(np.array_equal(pa, pb))
    True

    References: Daskalakis et al., ICLR 2018. Proof page: :ref:`rule-optimistic`.
    """
    lr_fn, alpha, beta, prev_init = check_optimism(lr, alpha, beta, prev_init)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    eps = base.check_real("eps", eps, low=0.0)
    eps_root = base.check_real("eps_root", eps_root, low=0.0)
    base.check_bool("nesterov", nesterov)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> OptimisticAdamState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return OptimisticAdamState(t=0, m=zeros, v=zeros, prev=zeros)

    # bc1 = 1 − β1^t, bc1_next = 1 − β1^(t+1), bc2 = 1 − β2^t: the step's bias corrections
    def leaf(xp, p, g, m, v, r_prev, *, lr_t, bc1, bc1_next, bc2, first):
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * (g * g)
        if nesterov:
            m_hat = beta1 * (m / bc1_next) + (1.0 - beta1) * (g / bc1)
        else:
            m_hat = m / bc1
        r = rule.safe_divide(xp, m_hat, xp.sqrt(v / bc2 + eps_root) + eps, floor=eps)
        return optimistic_step(p, r, r_prev, first, lr_t, alpha, beta, prev_init), m, v, r

    kernels = {first: rule.leafwise(partial(leaf, first=first), reg, n_out=4, name="optimistic_adam")
               for first in (True, False)}

    def update(grads: Any, state: OptimisticAdamState, params: Any) -> tuple[Any, OptimisticAdamState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        params, m, v, r = kernels[t == 1](
            xp, (params, grads, state.m, state.v, state.prev), lr_t=lr_t,
            bc1=1.0 - beta1 ** t, bc1_next=1.0 - beta1 ** (t + 1), bc2=1.0 - beta2 ** t)
        return params, OptimisticAdamState(t=t, m=m, v=v, prev=r)

    return base.optimizer(init, update)
