"""Optimistic gradient descent (Daskalakis et al. 2018; Mokhtari et al. 2020)."""

from __future__ import annotations

from functools import partial
from typing import Any, Literal, NamedTuple

from refopt import base, rule

PREV_INITS = ("first_grad", "zero")


@base.register_state
class OptimisticState(NamedTuple):
    """State of :func:`optimistic_gd`."""

    t: int       # number of updates applied so far
    prev: Any    # d_{t−1}: the previous direction (g_{t−1}), 0 before the first update


def check_optimism(lr: Any, alpha: float, beta: float, prev_init: str) -> tuple:
    """Validate the options shared by optimistic GD and optimistic Adam."""
    return (base.as_schedule("lr", lr), base.check_real("alpha", alpha, low=0.0),
            base.check_real("beta", beta, low=0.0), base.check_choice("prev_init", prev_init, PREV_INITS))


def optimistic_step(p: Any, d: Any, d_prev: Any, first: bool, lr: float, alpha: float, beta: float,
                    prev_init: str) -> Any:
    """θ_t = θ_{t−1} − η((α+β) d_t − β d_{t−1}); d_0 = d_1 ("first_grad") or 0 ("zero").

    ``first`` is t = 1, a Python bool: the fused path chooses between two kernels with it.
    """
    if first and prev_init == "first_grad":
        d_prev = d
    return p - lr * ((alpha + beta) * d - beta * d_prev)


@base.rule_factory("optimistic_gd", OptimisticState)
def optimistic_gd(lr: Any = 0.01, alpha: float = 1.0, beta: float = 1.0, *,
                  prev_init: Literal["first_grad", "zero"] = "first_grad", weight_decay: float = 0.0,
                  decay: Literal["l2", "decoupled", "fixed"] = "l2",
                  maximize: bool = False) -> base.Optimizer:
    r"""Optimistic gradient descent, generalised form (α, β) of Mokhtari, Ozdaglar & Pattathil.

    .. math:: \theta_t = \theta_{t-1} - \eta_t\big((\alpha+\beta)\, g_t - \beta\, g_{t-1}\big)

    α = β = 1 is Daskalakis et al.'s optimistic GD, θ_t = θ_{t−1} − 2ηg_t + ηg_{t−1}: a gradient
    step plus the correction −ηβ(g_t − g_{t−1}) that predicts the next gradient. β = 0 is GD
    with step ηα. ``prev_init`` sets g_0: ``"first_grad"`` (g_0 = g_1, so the first step is
    −ηα g_1) or ``"zero"`` (first step −η(α+β) g_1).

    **Conventions.** ``optax.optimistic_gradient_descent(lr, alpha, beta)`` is the default
    ``prev_init="first_grad"`` (optax issue #1082).

    Args:
      lr: η, a float >= 0 or a schedule. alpha, beta: α, β >= 0.
      prev_init: the previous gradient used at the first update.
      weight_decay, decay, maximize: see :ref:`rule-conventions`.

    Example (the iterate is GD on the summed gradients plus a correction that does not
    accumulate, −ηβ(g_T − g_1); here g = θ):

    >>> import numpy as np, refopt
    >>> opt = refopt.optimistic_gd(lr=0.1)
    >>> p = np.array([1.0, -2.0]); s = opt.init(p); total = np.zeros(2); g1 = p
    >>> for _ in range(5):
    ...     total = total + p; last = p
    ...     p, s = opt.update(p, s, p)
    >>> print(np.allclose(p, np.array([1.0, -2.0]) - 0.1 * total - 0.1 * (last - g1)))
    True

    References: Daskalakis et al., ICLR 2018; Mokhtari et al., AISTATS 2020. Proof page:
    :ref:`rule-optimistic`.
    """
    lr_fn, alpha, beta, prev_init = check_optimism(lr, alpha, beta, prev_init)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> OptimisticState:
        base.check_init_params(params)
        return OptimisticState(t=0, prev=base.zeros_like(params))

    def leaf(xp, p, g, g_prev, *, lr_t, first):
        # g·1 = g bit for bit, in a new array: the caller may reuse its gradient buffer
        return optimistic_step(p, g, g_prev, first, lr_t, alpha, beta, prev_init), g * 1.0

    kernels = {first: rule.leafwise(partial(leaf, first=first), reg, n_out=2, name="optimistic_gd")
               for first in (True, False)}

    def update(grads: Any, state: OptimisticState, params: Any) -> tuple[Any, OptimisticState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        params, prev = kernels[t == 1](xp, (params, grads, state.prev), lr_t=lr_t)
        return params, OptimisticState(t=t, prev=prev)

    return base.optimizer(init, update)
