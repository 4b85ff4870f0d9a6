"""sign SGD and Signum: steps along the sign of the gradient or of its EMA (Bernstein et al. 2018)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class SignSGDState(NamedTuple):
    """State of :func:`signum` with ``momentum=0`` (sign SGD): no buffer."""

    t: int  # number of updates applied so far


@base.register_state
class SignumState(NamedTuple):
    """State of :func:`signum` with ``momentum > 0``."""

    t: int  # number of updates applied so far
    m: Any  # momentum m_t, an EMA of gradients


@base.rule_factory("signum", (SignSGDState, SignumState))
def signum(lr: Any = 1e-3, momentum: float = 0.9, *, weight_decay: float = 0.0,
           decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""Signum (sign of momentum); ``momentum=0`` is sign SGD.

    .. math::
        m_t = \beta m_{t-1} + (1-\beta) g_t,\qquad \theta_t = \theta_{t-1} - \eta_t\,\mathrm{sign}(m_t)

    β = ``momentum``; with β = 0, m_t = g_t and the rule is sign SGD, θ_t = θ_{t−1} − η_t sign(g_t)
    (its state has no buffer). Each coordinate moves by exactly η_t or, where m_t = 0, not at
    all; :func:`refopt.lion` with β1 = β2 = β is this rule (proof page).

    **Conventions.** ``momentum=0`` equals ``optax.sign_sgd(lr)``; ``momentum=β`` equals
    ``optax.signum(lr, beta=β)`` (an EMA without bias correction, m_0 = 0). Weight decay is L2
    by default (added to g before the sign, as optax's ``add_decayed_weights`` placed before the
    sign would); ``decay="decoupled"`` shrinks θ outside the sign.

    Args:
      lr: η, a float >= 0 or a schedule ``t -> float``.
      momentum: β in [0, 1); 0 gives sign SGD.
      weight_decay, decay, maximize: the shared options (``decay`` in l2 / decoupled / fixed).

    Example (sign SGD: the step ignores the gradient's size):

    >>> import numpy as np, refopt
    >>> opt = refopt.sign_sgd(lr=0.1)
    >>> p, s = opt.update(np.array([3.0, -1e-9]), opt.init(np.zeros(2)), np.zeros(2))
    >>> print(p)
    [-0.1  0.1]

    References: Bernstein, Wang, Azizzadenesheli, Anandkumar, *signSGD: Compressed Optimisation
    for Non-Convex Problems*, ICML 2018, arXiv:1802.04434. Proof page: :ref:`rule-signum`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta = base.check_beta("momentum", momentum)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> SignSGDState | SignumState:
        base.check_init_params(params)
        if beta == 0.0:
            return SignSGDState(t=0)
        return SignumState(t=0, m=base.zeros_like(params))

    def sign_leaf(xp, p, g, *, lr_t):
        return p - lr_t * xp.sign(g)

    def leaf(xp, p, g, m, *, lr_t):
        m = beta * m + (1.0 - beta) * g
        return p - lr_t * xp.sign(m), m

    sign_kernel = rule.leafwise(sign_leaf, reg, n_out=1, name="sign_sgd")
    kernel = rule.leafwise(leaf, reg, n_out=2, name="signum")

    def update(grads: Any, state: Any, params: Any) -> tuple[Any, Any]:
        base.check_state_type("signum", state, SignSGDState if beta == 0.0 else SignumState)
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        if beta == 0.0:
            (params,) = sign_kernel(xp, (params, grads), lr_t=lr_t)
            return params, SignSGDState(t=t)
        params, m = kernel(xp, (params, grads, state.m), lr_t=lr_t)
        return params, SignumState(t=t, m=m)

    return base.optimizer(init, update)


def sign_sgd(lr: Any = 1e-3, *, weight_decay: float = 0.0, decay: rule.Decay = "l2",
             maximize: bool = False) -> base.Optimizer:
    """sign SGD, θ_t = θ_{t−1} − η_t sign(g_t): :func:`signum` with ``momentum=0``.

    Equals ``optax.sign_sgd(lr)``. Proof page: :ref:`rule-signum`.
    """
    return signum(lr, 0.0, weight_decay=weight_decay, decay=decay, maximize=maximize)
