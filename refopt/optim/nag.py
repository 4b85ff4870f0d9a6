"""Nesterov accelerated gradient, look-ahead form (:ref:`spec-classic`, Ruder 2016 §4.2; Nesterov 1983)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from refopt import base, rule
from refopt.elementwise import Kernel


@base.register_state
class NAGState(NamedTuple):
    """State of :func:`nag`."""

    t: int         # number of updates applied so far
    velocity: Any  # v_t (η inside)


@base.rule_factory("nag", NAGState)
def nag(lr: Any = 0.01, momentum: Any = 0.9, *, weight_decay: float = 0.0,
        decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""Nesterov accelerated gradient in the paper's look-ahead form (Ruder eq. NAG), γ = ``momentum``.

    .. math::
        v_t = \gamma v_{t-1} + \eta_t \nabla\ell(\theta_{t-1} - \gamma v_{t-1}),\qquad
        \theta_t = \theta_{t-1} - v_t

    The gradient is needed at the look-ahead point, so the rule declares
    ``extra_args={"grad_fn"}``: ``update(None, state, params, grad_fn=f)`` with
    ``f(tree) -> grads``; ``grads`` must be ``None`` (the gradient at θ_{t−1} is not used).

    ``momentum`` may be a schedule t ↦ γ_t ∈ [0, 1); γ_t = (t−2)/(t+1) (0 for t = 1) is
    Nesterov's 1983 scheme x_k = y_{k−1} − η∇ℓ(y_{k−1}),
    y_k = x_k + (k−1)/(k+2)(x_k − x_{k−1}) (Su, Boyd, Candès 2016), whose convex rate is tested
    in ``tests/test_theorems.py``.

    **Conventions.** No framework ships this form; torch's and optax's ``nesterov=True`` is
    :func:`refopt.nag_reparameterised`, whose iterates are this rule's look-ahead points
    θ_t − γv_t (proved on the proof page). A constant ``momentum`` must be > 0: Nesterov
    without momentum is plain :func:`refopt.sgd` and is rejected to catch typos.

    Example (an oracle for ∇(½‖θ‖²) = θ; the first step is plain gradient descent, v_0 = 0):

    >>> import numpy as np, refopt
    >>> opt = refopt.nag(lr=0.05, momentum=0.9)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> params, state = opt.update(None, state, params, grad_fn=lambda p: p)
    >>> print(params)
    [ 0.95 -1.9 ]

    References: Nesterov (1983); Sutskever et al. (2013); Ruder §4.2. Proof page: :ref:`rule-nag`.
    """
    lr_fn = base.as_schedule("lr", lr)
    if callable(momentum):
        def gamma_of(t: int) -> float:
            return base.check_real(f"momentum({t})", momentum(t), low=0.0, high=1.0, high_open=True)
    else:
        gamma = base.check_real("momentum", momentum, low=0.0, high=1.0, low_open=True,
                                high_open=True)

        def gamma_of(t: int) -> float:
            return gamma
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> NAGState:
        base.check_init_params(params)
        return NAGState(t=0, velocity=base.zeros_like(params))

    def lookahead_leaf(xp, p, v, *, gamma):
        return p - gamma * v

    def leaf(xp, p, g, v, *, lr_t, gamma):
        v = gamma * v + lr_t * g
        return p - v, v

    def regularised(xp, p, g, v, ahead, *, lr_t, gamma):
        # weight decay and maximize act on the gradient where it is taken: the look-ahead
        # point (so rule.leafwise, whose L2 term uses θ_{t−1}, does not apply here)
        g = rule.effective_grad(reg, g, ahead)
        p = rule.decayed_param(reg, p, lr_t)
        return leaf(xp, p, g, v, lr_t=lr_t, gamma=gamma)

    lookahead_kernel = Kernel(lookahead_leaf, n_out=1, name="nag_lookahead")
    kernel = Kernel(regularised, n_out=2, name="nag")

    def update(grads: Any, state: NAGState, params: Any, *,
               grad_fn: Callable[[Any], Any] | None = None) -> tuple[Any, NAGState]:
        if grad_fn is None:
            raise ValueError("grad_fn is required: look-ahead NAG evaluates ∇ℓ at θ − γv itself "
                             "(refopt.nag_reparameterised takes grads instead)")
        if grads is not None:
            raise ValueError("grads must be None for look-ahead NAG (the gradient at θ is not "
                             "used; the rule calls grad_fn at the look-ahead point)")
        xp = base.check_update_args(params, state, params)  # state vs params before θ − γv
        gamma = gamma_of(state.t + 1)
        (lookahead,) = lookahead_kernel(xp, (params, state.velocity), gamma=gamma)
        g_ahead = grad_fn(lookahead)
        xp, t, lr_t = rule.begin(g_ahead, state, lookahead, lr_fn)
        params, velocity = kernel(xp, (params, g_ahead, state.velocity, lookahead),
                                  lr_t=lr_t, gamma=gamma)
        return params, NAGState(t=t, velocity=velocity)

    return base.optimizer(init, update, {"grad_fn"})
