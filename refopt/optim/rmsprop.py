"""RMSprop (:ref:`spec-classic`; Hinton, Coursera lecture 6e; Ruder 2016 §4.5)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class RMSpropState(NamedTuple):
    """State of :func:`rmsprop` (not centered, no momentum)."""

    t: int              # number of updates applied so far
    mean_sq_grad: Any   # E[g²]_t


@base.register_state
class RMSpropCenteredState(NamedTuple):
    """State of :func:`rmsprop` with ``centered=True`` and no momentum."""

    t: int              # number of updates applied so far
    mean_sq_grad: Any   # E[g²]_t
    mean_grad: Any      # E[g]_t


@base.register_state
class RMSpropMomentumState(NamedTuple):
    """State of :func:`rmsprop` with ``momentum > 0``, not centered."""

    t: int                # number of updates applied so far
    mean_sq_grad: Any     # E[g²]_t
    momentum_buffer: Any  # b_t


@base.register_state
class RMSpropCenteredMomentumState(NamedTuple):
    """State of :func:`rmsprop` with ``centered=True`` and ``momentum > 0``."""

    t: int                # number of updates applied so far
    mean_sq_grad: Any     # E[g²]_t
    mean_grad: Any        # E[g]_t
    momentum_buffer: Any  # b_t


_STATES = {(False, False): RMSpropState, (True, False): RMSpropCenteredState,
           (False, True): RMSpropMomentumState, (True, True): RMSpropCenteredMomentumState}


@base.rule_factory("rmsprop", tuple(_STATES.values()))
def rmsprop(lr: Any = 1e-3, rho: float = 0.9, *, eps: float = 1e-8, eps_inside: bool = True,
            centered: bool = False, momentum: float = 0.0, lr_in_buffer: bool = False,
            bias_correction: bool = False, weight_decay: float = 0.0,
            decay: rule.Decay = "l2",
            maximize: bool = False) -> base.Optimizer:
    r"""RMSprop: divide the gradient by a running RMS of recent gradients.

    .. math::
        E[g^2]_t = \rho E[g^2]_{t-1} + (1-\rho) g_t^2,\qquad
        \theta_t = \theta_{t-1} - \eta_t \frac{g_t}{D_t},\quad D_t = \sqrt{E[g^2]_t + \epsilon}

    Switches: ``eps_inside=False`` gives D = √E[g²] + ε; ``centered`` subtracts the square of an
    EMA of g, D = √(E[g²] − E[g]² + ε); ``bias_correction`` divides both EMAs by 1 − ρ^t
    (combined with ``centered`` the variance estimate at t = 1 is exactly 0, so
    that first step is g/√ε, and in floating point it is dominated by cancellation);
    ``momentum`` μ > 0 adds a buffer b_t = μ b_{t−1} + g_t/D_t with
    θ_t = θ_{t−1} − η_t b_t (``lr_in_buffer=False``) or b_t = μ b_{t−1} + η_t g_t/D_t with
    θ_t = θ_{t−1} − b_t (``lr_in_buffer=True``).

    **Conventions.** ``rho=0.99, eps_inside=False`` (+ ``centered``, ``momentum``) equals
    ``torch.optim.RMSprop``; the defaults equal ``optax.rmsprop`` (its momentum is
    ``lr_in_buffer=True``, its ``eps_in_sqrt=False`` is ``eps_inside=False``); ``eps=1e-7``
    (momentum with ``lr_in_buffer=True``) equals ``keras.optimizers.RMSprop``;
    ``eps=1e-7, eps_inside=False`` equals ``numpy_ml.neural_nets.optimizers.RMSProp``.

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
    # a configuration without a buffer has a state type without its field
    State = _STATES[(centered, mu > 0)]
    buffers = State._fields[1:]  # "mean_sq_grad", then "mean_grad", "momentum_buffer" if used

    def init(params: Any) -> Any:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return State(0, *(zeros for _ in buffers))

    # the denominator is ≥ ε when the variance estimate is a (non-negative) mean of squares;
    # the centred estimate v − m² may round below 0, so it keeps the 0/0 guard
    floor = 0.0 if centered else eps

    def leaf(xp, p, g, eg2, *rest, lr_t, correction):
        rest = iter(rest)  # the buffers this configuration keeps, in State's field order
        eg = next(rest) if centered else None
        b = next(rest) if mu > 0 else None
        eg2 = rho * eg2 + (1.0 - rho) * (g * g)
        var = eg2 / correction
        if centered:
            eg = rho * eg + (1.0 - rho) * g
            mean = eg / correction
            var = var - mean * mean
        denom = xp.sqrt(var + eps) if eps_inside else xp.sqrt(var) + eps
        if mu == 0.0:
            p = p - lr_t * rule.safe_divide(xp, g, denom, floor=floor)
        elif lr_in_buffer:
            b = mu * b + lr_t * rule.safe_divide(xp, g, denom, floor=floor)
            p = p - b
        else:
            b = mu * b + rule.safe_divide(xp, g, denom, floor=floor)
            p = p - lr_t * b
        return (p, eg2) + ((eg,) if centered else ()) + ((b,) if mu > 0 else ())

    kernel = rule.leafwise(leaf, reg, n_out=1 + len(buffers), name="rmsprop")

    def update(grads: Any, state: Any, params: Any) -> tuple[Any, Any]:
        base.check_state_type("rmsprop", state, State)  # this configuration's own state type
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        correction = 1.0 - rho ** t if bias_correction else 1.0
        fields = [getattr(state, name) for name in buffers]
        params, *new = kernel(xp, (params, grads, *fields), lr_t=lr_t, correction=correction)
        return params, State(t, *new)

    return base.optimizer(init, update)
