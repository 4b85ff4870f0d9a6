"""Adadelta (:ref:`spec-classic`; Zeiler 2012; Ruder 2016 §4.4)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class AdadeltaState(NamedTuple):
    """State of :func:`adadelta`."""

    t: int            # number of updates applied so far
    mean_sq_grad: Any   # E[g²]_t
    mean_sq_delta: Any  # E[Δθ²]_t, accumulated from Δ without η


@base.rule_factory("adadelta", AdadeltaState)
def adadelta(lr: Any = 1.0, rho: float = 0.9, *, eps: float = 1e-6, weight_decay: float = 0.0,
             decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""Adadelta: a unit-consistent step from the ratio of two running RMS values.

    .. math::
        E[g^2]_t = \rho E[g^2]_{t-1} + (1-\rho) g_t^2,\qquad
        \Delta_t = -\frac{\sqrt{E[\Delta^2]_{t-1}+\epsilon}}{\sqrt{E[g^2]_t+\epsilon}}\, g_t

    .. math::
        E[\Delta^2]_t = \rho E[\Delta^2]_{t-1} + (1-\rho)\Delta_t^2,\qquad
        \theta_t = \theta_{t-1} + \eta_t \Delta_t

    The paper has no learning rate (η = 1, the default). A different η scales the step but
    not the accumulated E[Δ²].

    **Conventions.** Equals ``torch.optim.Adadelta(lr, rho, eps)`` and
    ``optax.adadelta(lr, rho, eps)``; ``rho=0.95, eps=1e-7`` equals ``keras.optimizers.Adadelta``
    (whose default η is 1e−3). Zeiler used ρ = 0.95.

    Example:

    >>> import numpy as np, refopt
    >>> opt = refopt.adadelta(rho=0.9)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(200):
    ...     params, state = opt.update(params, state, params)
    >>> print(np.round(params, 4))
    [ 0.3313 -1.2142]

    (Adadelta starts slowly — its first step has size ≈ √(ε/(1−ρ)) when ε ≪ (1−ρ)g₁², not √ε,
    and the steps grow as E[Δ²] builds up; proved on the proof page.)

    References: Zeiler, arXiv:1212.5701; Ruder §4.4. Proof page: :ref:`rule-adadelta`.
    """
    lr_fn = base.as_schedule("lr", lr)
    rho = base.check_beta("rho", rho)
    eps = base.check_real("eps", eps, low=0.0)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> AdadeltaState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return AdadeltaState(t=0, mean_sq_grad=zeros, mean_sq_delta=zeros)

    def leaf(xp, p, g, eg2, ed2, *, lr_t):
        eg2 = rho * eg2 + (1.0 - rho) * (g * g)
        delta = -rule.safe_divide(xp, xp.sqrt(ed2 + eps), xp.sqrt(eg2 + eps), floor=eps) * g
        ed2 = rho * ed2 + (1.0 - rho) * (delta * delta)
        return p + lr_t * delta, eg2, ed2

    kernel = rule.leafwise(leaf, reg, n_out=3, name="adadelta")

    def update(grads: Any, state: AdadeltaState, params: Any) -> tuple[Any, AdadeltaState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        params, eg2, ed2 = kernel(xp, (params, grads, state.mean_sq_grad, state.mean_sq_delta),
                                  lr_t=lr_t)
        return params, AdadeltaState(t=t, mean_sq_grad=eg2, mean_sq_delta=ed2)

    return base.optimizer(init, update)
