"""AdaMax (:ref:`spec-classic`; Kingma & Ba 2015 §7.1; Ruder 2016 §4.7)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, get_args

from refopt import base, rule

EpsPlacement = Literal["max", "denominator"]


@base.register_state
class AdamaxState(NamedTuple):
    """State of :func:`adamax`."""

    t: int   # number of updates applied so far
    m: Any   # first-moment EMA m_t
    u: Any   # infinity norm u_t = max(β2 u_{t−1}, |g_t|)


@base.rule_factory("adamax", AdamaxState)
def adamax(lr: Any = 2e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 0.0,
           eps_placement: EpsPlacement = "max", weight_decay: float = 0.0, decay: rule.Decay = "l2",
           maximize: bool = False) -> base.Optimizer:
    r"""AdaMax: Adam with the ℓ∞ norm in place of the ℓ2 second moment.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad u_t = \max(\beta_2 u_{t-1}, |g_t|),\quad
        \theta_t = \theta_{t-1} - \frac{\eta_t}{1-\beta_1^t}\,\frac{m_t}{u_t}

    The paper has no ε (default ``eps=0``). Coordinates with u_t = 0 — whose gradient has been
    exactly 0 so far — take **no step** (the paper's 0/0 is defined as 0). With ε > 0,
    ``eps_placement="max"`` uses u_t = max(β2 u_{t−1}, \|g_t\| + ε) and
    ``"denominator"`` divides by u_t + ε.

    **Conventions.** ``eps=1e-8, eps_placement="max"`` equals ``torch.optim.Adamax`` and
    ``optax.adamax``, and with ``weight_decay=λ, decay="decoupled"`` (:func:`refopt.adamaxw`)
    ``optax.adamaxw``; ``eps=1e-7, eps_placement="denominator"`` equals
    ``keras.optimizers.Adamax``.

    Example:

    >>> import numpy as np, refopt
    >>> opt = refopt.adamax(lr=0.05)
    >>> params = np.array([1.0, -2.0, 0.0]); state = opt.init(params)
    >>> for _ in range(300):
    ...     params, state = opt.update(params, state, params)
    >>> print(float(np.max(np.abs(params))) < 0.01, params[2] == 0.0)
    True True

    References: Kingma & Ba, arXiv:1412.6980 §7.1. Proof page: :ref:`rule-adamax`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    eps = base.check_real("eps", eps, low=0.0)
    base.check_choice("eps_placement", eps_placement, get_args(EpsPlacement))
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> AdamaxState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return AdamaxState(t=0, m=zeros, u=zeros)

    in_max = eps if eps_placement == "max" else 0.0
    in_denominator = eps if eps_placement == "denominator" else 0.0

    def leaf(xp, p, g, m, u, *, lr_t, step):
        m = beta1 * m + (1.0 - beta1) * g
        u = xp.maximum(beta2 * u, xp.abs(g) + in_max)
        denom = u + in_denominator
        zero = denom == 0
        # divide by 1 where the denominator is 0, then zero those coordinates: no step
        ratio = xp.where(zero, xp.zeros_like(m), m / xp.where(zero, xp.ones_like(denom), denom))
        return p - step * ratio, m, u

    kernel = rule.leafwise(leaf, reg, n_out=3, name="adamax")

    def update(grads: Any, state: AdamaxState, params: Any) -> tuple[Any, AdamaxState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        step = lr_t / (1.0 - beta1 ** t)
        params, m, u = kernel(xp, (params, grads, state.m, state.u), lr_t=lr_t, step=step)
        return params, AdamaxState(t=t, m=m, u=u)

    return base.optimizer(init, update)


def adamaxw(lr: Any = 2e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 0.0,
            eps_placement: EpsPlacement = "max", weight_decay: float = 1e-4,
            maximize: bool = False) -> base.Optimizer:
    """AdamaxW: :func:`adamax` with decoupled weight decay, θ ← θ − η_t λ θ before the step.

    ``eps=1e-8`` equals ``optax.adamaxw`` (whose default λ = 1e−4 is the default here).
    Proof page: :ref:`rule-adamax`.
    """
    return adamax(lr, beta1, beta2, eps=eps, eps_placement=eps_placement,
                  weight_decay=weight_decay, decay="decoupled", maximize=maximize)
