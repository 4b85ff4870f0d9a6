"""SGD with Polyak's step size (Polyak 1987; Loizou et al. 2021's SPS_max)."""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal, NamedTuple

from refopt import base, rule, treemath
from refopt import tree as _tree

GAPS = ("signed", "positive")


@base.register_state
class PolyakState(NamedTuple):
    """State of :func:`polyak_sgd`."""

    t: int   # number of updates applied so far


@base.rule_factory("polyak_sgd", PolyakState)
def polyak_sgd(lr: Any = 1.0, max_lr: float = 1.0, f_min: float = 0.0, *, c: float = 1.0,
               eps: float = 0.0, gap: Literal["signed", "positive"] = "signed",
               weight_decay: float = 0.0, decay: Literal["l2", "decoupled", "fixed"] = "l2",
               maximize: bool = False) -> base.Optimizer:
    r"""SGD whose step is Polyak's: the step at which the linear model reaches ℓ*.

    ``update(grads, state, params, value=ℓ(θ_{t−1}))`` needs the loss value (the mini-batch
    loss whose gradient is ``grads``):

    .. math::
        \gamma_t = \min\Big(\frac{\ell(\theta_{t-1}) - \ell^*}{c\,\|g_t\|^2 + \epsilon},\ \gamma_{max}\Big),
        \qquad \theta_t = \theta_{t-1} - \eta_t\,\gamma_t\, g_t

    with ℓ* = ``f_min``, ‖·‖ the norm over the whole pytree, and γ_t = 0 where c‖g‖² + ε = 0.
    With c = η = 1 and γ_max = ∞, γ_t is the exact minimiser of the distance bound
    ‖θ_t − θ*‖² ≤ ‖θ_{t−1} − θ*‖² − 2γ(ℓ − ℓ*) + γ²‖g‖² for convex ℓ, and the step at which the
    linearisation ℓ + ⟨g, θ − θ_{t−1}⟩ reaches ℓ* (:ref:`rule-polyak`). ``gap="positive"`` uses
    max(ℓ − ℓ*, 0) (SPS⁺ of Garrigos et al. 2023). With ``maximize`` the rule minimises −ℓ: pass
    ℓ's value; ℓ* is then the lower bound of −ℓ.

    **Conventions.** ``optax.polyak_sgd(max_learning_rate=γ_max, scaling=s, f_min, eps,
    variant)`` is ``lr=s, c=s²`` here: optax applies its Polyak scaling to the already scaled
    update −s·g, so its code computes s·min(gap/(s²‖g‖² + ε), γ_max), not the
    s·min(gap/(‖g‖² + ε), γ_max) of its docstring; the two agree for s = 1. optax returns a zero
    step when c‖g‖² + ε ≤ 2.2e−16 (float64 machine ε), refopt only when it is 0.

    Args:
      lr: η (optax's ``scaling``), a float >= 0 or a schedule. max_lr: γ_max > 0 (may be inf).
      f_min: ℓ*, a finite float. c: c > 0 (Loizou et al.'s c; Polyak's step is c = 1).
      eps: ε >= 0. gap: ``"signed"`` or ``"positive"``.
      weight_decay, decay, maximize: see :ref:`rule-conventions`.

    Example (on ℓ = ½‖θ‖² with ℓ* = 0 the Polyak step is γ = ½: each step halves θ):

    >>> import numpy as np, refopt
    >>> opt = refopt.polyak_sgd(max_lr=10.0)
    >>> p = np.array([1.0, -2.0]); s = opt.init(p)
    >>> p, s = opt.update(p, s, p, value=0.5 * float(p @ p))
    >>> print(p)
    [ 0.5 -1. ]

    References: Polyak, Introduction to Optimization (1987) §5.3; Loizou et al., AISTATS 2021.
    Proof page: :ref:`rule-polyak`.
    """
    lr_fn = base.as_schedule("lr", lr)
    max_lr = base.check_real("max_lr", max_lr, low=0.0, low_open=True, finite=False)  # inf: uncapped
    f_min = base.check_real("f_min", f_min)
    c = base.check_real("c", c, low=0.0, low_open=True)
    eps = base.check_real("eps", eps, low=0.0)
    positive = base.check_choice("gap", gap, GAPS) == "positive"
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> PolyakState:
        base.check_init_params(params)
        return PolyakState(t=0)

    def update(grads: Any, state: PolyakState, params: Any, *, value: Any = None) -> tuple[Any, PolyakState]:
        base.check_update_args(grads, state, params)
        loss = _check_value(value)
        loss = -loss if maximize else loss
        _, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)
        denominator = c * treemath.sum_sq(grads) + eps
        excess = max(loss - f_min, 0.0) if positive else loss - f_min
        step = 0.0 if denominator == 0.0 else min(excess / denominator, max_lr)
        params = _tree.map(lambda p, g: p - lr_t * step * g, params, grads)
        return params, PolyakState(t=t)

    return base.optimizer(init, update, {"value"})


def _check_value(value: Any) -> float:
    """The loss value: a finite real number or a 0-d array (read back as a float)."""
    if value is None:
        raise ValueError("value is required: polyak_sgd's step needs the loss ℓ(θ_{t−1}) "
                         "(update(grads, state, params, value=loss))")
    if hasattr(value, "shape") and tuple(value.shape) == () and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"value must be a finite real number (the loss), got {value!r}")
    return float(value)
