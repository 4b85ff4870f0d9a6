"""Nesterov accelerated gradient, re-parameterised at the look-ahead point (Sutskever et al. 2013)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class NAGReparameterisedState(NamedTuple):
    """State of :func:`nag_reparameterised`."""

    t: int       # number of updates applied so far
    buffer: Any  # b_t (η outside)


@base.rule_factory("nag_reparameterised", NAGReparameterisedState)
def nag_reparameterised(lr: Any = 0.01, momentum: float = 0.9, *, weight_decay: float = 0.0,
                        decay: rule.Decay = "l2",
                        maximize: bool = False) -> base.Optimizer:
    r"""Nesterov accelerated gradient with the look-ahead point as the stored parameter.

    The stored parameters are φ = θ − γv, the points where :func:`refopt.nag` evaluates its
    gradient, so the gradient is the ordinary ``grads`` at φ_{t−1}:

    .. math::
        b_t = \gamma b_{t-1} + g_t,\qquad \phi_t = \phi_{t-1} - \eta_t (g_t + \gamma b_t),
        \quad g_t = \nabla\ell(\phi_{t-1})

    With constant η and b_0 = 0 the φ iterates equal the look-ahead points θ_t − γv_t of
    :func:`refopt.nag` (proved on the proof page, tested in ``tests/test_equivalences.py``).

    **Conventions.** Equals ``torch.optim.SGD(nesterov=True)``, ``optax.sgd(nesterov=True)``
    and, for a constant η, ``keras.optimizers.SGD(nesterov=True)``. ``momentum`` is a constant in (0, 1): the
    re-parameterisation assumes a constant γ, and γ = 0 is plain :func:`refopt.sgd`.

    Example (on ½‖θ‖², g = φ: the first step moves by η(1 + γ)g, more than SGD's ηg):

    >>> import numpy as np, refopt
    >>> opt = refopt.nag_reparameterised(lr=0.05, momentum=0.9)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> params, state = opt.update(params, state, params)
    >>> print(params)
    [ 0.905 -1.81 ]

    References: Sutskever, Martens, Dahl, Hinton (2013); Ruder §4.2. Proof page: :ref:`rule-nag`.
    """
    lr_fn = base.as_schedule("lr", lr)
    if callable(momentum):
        raise TypeError("momentum must be a constant for nag_reparameterised (the "
                        "re-parameterisation assumes a constant γ); use refopt.nag for a schedule")
    gamma = base.check_real("momentum", momentum, low=0.0, high=1.0, low_open=True, high_open=True)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> NAGReparameterisedState:
        base.check_init_params(params)
        return NAGReparameterisedState(t=0, buffer=base.zeros_like(params))

    def leaf(xp, p, g, b, *, lr_t):
        b = gamma * b + g
        return p - lr_t * (g + gamma * b), b

    kernel = rule.leafwise(leaf, reg, n_out=2, name="nag_reparameterised")

    def update(grads: Any, state: NAGReparameterisedState, params: Any
               ) -> tuple[Any, NAGReparameterisedState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        params, buffer = kernel(xp, (params, grads, state.buffer), lr_t=lr_t)
        return params, NAGReparameterisedState(t=t, buffer=buffer)

    return base.optimizer(init, update)
