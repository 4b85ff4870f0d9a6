"""RMSprop (:ref:`spec-classic`; Hinton, Coursera lecture 6e; Ruder 2016 §4.5)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule
from refopt import tree as _tree


class RMSpropState(NamedTuple):
    """State of :func:`rmsprop`. Fields a configuration does not use hold ``()``."""

    t: int              # number of updates applied so far
    mean_sq_grad: Any   # E[g²]_t
    mean_grad: Any      # E[g]_t when centered, else ()
    momentum_buffer: Any  # b_t when momentum > 0, else ()


def rmsprop(lr: Any = 1e-3, rho: float = 0.9, *, eps: float = 1e-8, eps_inside: bool = True,
            centered: bool = False, momentum: float = 0.0, lr_in_buffer: bool = False,
            bias_correction: bool = False, weight_decay: float = 0.0, decay: str = "l2",
            maximize: bool = False) -> base.Optimizer:
    r"""RMSprop: divide the gradient by a running RMS of recent gradients.

    .. math::
        E[g^2]_t = \rho E[g^2]_{t-1} + (1-\rho) g_t^2,\qquad
        \theta_t = \theta_{t-1} - \eta_t \frac{g_t}{D_t},\quad D_t = \sqrt{E[g^2]_t + \epsilon}

    Switches: ``eps_inside=False`` gives D = √E[g²] + ε; ``centered`` subtracts the square of an
    EMA of g, D = √(E[g²] − E[g]² + ε); ``bias_correction`` divides both EMAs by 1 − ρ^t
    (optax's option; combined with ``centered`` the variance estimate at t = 1 is exactly 0, so
    that first step is g/√ε, and in floating point it is dominated by cancellation);
    ``momentum`` μ > 0 adds a buffer b_t = μ b_{t−1} + g_t/D_t with
    θ_t = θ_{t−1} − η_t b_t (``lr_in_buffer=False``, torch) or b_t = μ b_{t−1} + η_t g_t/D_t with
    θ_t = θ_{t−1} − b_t (``lr_in_buffer=True``: Keras and optax).

    **Conventions.** ``rho=0.99, eps_inside=False`` (+ centered, momentum) equals
    ``torch.optim.RMSprop``; the defaults equal ``optax.rmsprop`` (decay 0.9, ε inside), whose
    momentum needs ``lr_in_buffer=True``.

    Example:

    >>> import numpy as np, refopt
    >>> opt = refopt.rmsprop(lr=0.01)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(300):
    ...     params, state = opt.update(params, state, params)
    >>> print(float(np.max(np.abs(params))) < 0.01)
    True

    References: Hinton, Srivastava, Swersky, lecture 6e; Graves (2013) for the centered form;
    Ruder §4.5. Proof page: :ref:`rule-rmsprop`.
    """
    lr_fn = base.as_schedule("lr", lr)
    rho = base.check_beta("rho", rho)
    eps = base.check_real("eps", eps, low=0.0)
    for name, flag in (("eps_inside", eps_inside), ("centered", centered),
                       ("lr_in_buffer", lr_in_buffer), ("bias_correction", bias_correction)):
        base.check_bool(name, flag)
    mu = base.check_beta("momentum", momentum)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> RMSpropState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return RMSpropState(t=0, mean_sq_grad=zeros, mean_grad=zeros if centered else (),
                            momentum_buffer=zeros if mu > 0 else ())

    def update(grads: Any, state: RMSpropState, params: Any) -> tuple[Any, RMSpropState]:
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)
        correction = 1.0 - rho ** t if bias_correction else 1.0
        # unused state fields are () — give the per-leaf function a placeholder instead
        mean_grad = state.mean_grad if centered else base.zeros_like(params)
        buffer = state.momentum_buffer if mu > 0 else base.zeros_like(params)

        def leaf(p, g, eg2, eg, b):
            eg2 = rho * eg2 + (1.0 - rho) * (g * g)
            var = eg2 / correction
            if centered:
                eg = rho * eg + (1.0 - rho) * g
                mean = eg / correction
                var = var - mean * mean
            denom = xp.sqrt(var + eps) if eps_inside else xp.sqrt(var) + eps
            if mu == 0.0:
                return p - lr_t * (g / denom), eg2, eg, b
            if lr_in_buffer:
                b = mu * b + lr_t * (g / denom)
                return p - b, eg2, eg, b
            b = mu * b + g / denom
            return p - lr_t * b, eg2, eg, b

        params, eg2, eg, b = _tree.map(leaf, params, grads, state.mean_sq_grad, mean_grad,
                                       buffer, n_out=4)
        return params, RMSpropState(t=t, mean_sq_grad=eg2, mean_grad=eg if centered else (),
                                    momentum_buffer=b if mu > 0 else ())

    return base.Optimizer(init, update)
