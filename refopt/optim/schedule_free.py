"""Schedule-free learning around a momentum-free rule: the y/z/x sequences (Defazio et al. 2024)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import _xp, base, rule
from refopt.elementwise import Kernel
from refopt.optim.adam import adam
from refopt.optim.sgd import sgd


@base.register_state
class ScheduleFreeState(NamedTuple):
    """State of :func:`schedule_free`."""

    t: int              # number of updates applied so far
    inner: Any          # the wrapped (momentum-free) rule's state
    z: Any              # z_t, the base sequence the wrapped rule moves
    x: Any              # x_t, the weighted average of z (evaluate the model here)
    weight_sum: float   # Σ_{s≤t} w_s, w_s = (max_{r≤s} η_r)^p
    max_lr: float       # max_{s≤t} η_s


@base.rule_factory("schedule_free", ScheduleFreeState)
def schedule_free(inner: base.Optimizer, lr: Any, *, b1: float = 0.9,
                  weight_lr_power: float = 2.0) -> base.Optimizer:
    r"""Schedule-free learning: gradients at y, steps on z, evaluation at x (Defazio et al. 2024).

    With z₁ = x₁ = y₁ = θ₀, β = ``b1``, p = ``weight_lr_power`` and 𝒜 the wrapped rule:

    .. math::
        z_{t+1} &= z_t + \bigl(\mathcal A(y_t;\ g_t) - y_t\bigr),\qquad g_t = \nabla\ell(y_t)\\
        c_{t+1} &= w_t \big/ \textstyle\sum_{s\le t} w_s,\qquad w_t = (\max_{s\le t}\eta_s)^{p}\\
        x_{t+1} &= (1 - c_{t+1})\,x_t + c_{t+1}\,z_{t+1}\\
        y_{t+1} &= \beta\,x_{t+1} + (1-\beta)\,z_{t+1}

    ``update`` returns y (where the next gradient is taken); x is ``state.x``. The wrapped
    rule's step is taken *at y* (so L2 or decoupled weight decay acts on y) and applied to z.
    ``lr`` is the wrapped rule's learning rate (the weights need it); with a constant η,
    c_t = 1/t and x is the uniform average of z (proof page). β = 1 is primal averaging
    (gradients at the average), β = 0 is the wrapped rule on z with Polyak averaging.
    A sum of weights of 0 (η = 0 so far) gives c = 0. ``inner`` must have no momentum:
    the interpolation replaces it.

    **Conventions.** ``optax.contrib.schedule_free(base, lr, b1, weight_lr_power)``; see
    :func:`schedule_free_sgd` and :func:`schedule_free_adamw`. optax evaluates the base rule's
    schedule at t − 1 and the weight's at t; refopt uses t for both (equal for constant η).

    Example (β = 1, SGD with η = ½ on ½θ²: z₂ = 4 − 2 = 2 = x₂; z₃ = 2 − 1 = 1; the next
    gradient is taken at the average y₃ = x₃ = (z₂ + z₃)/2):

    >>> import numpy as np, refopt
    >>> opt = refopt.schedule_free(refopt.sgd(lr=0.5), 0.5, b1=1.0)
    >>> p = np.array([4.0]); s = opt.init(p)
    >>> for _ in range(2):
    ...     p, s = opt.update(p, s, p)
    >>> print(p, s.z, s.x)
    [1.5] [1.] [1.5]

    References: Defazio et al., arXiv:2405.15682. Proof page: :ref:`rule-schedule-free`.
    """
    rule.check_inner(inner)
    lr_fn = base.as_schedule("lr", lr)
    beta = base.check_real("b1", b1, low=0.0, high=1.0)
    power = base.check_real("weight_lr_power", weight_lr_power, low=0.0)

    def init(params: Any) -> ScheduleFreeState:
        return ScheduleFreeState(t=0, inner=inner.init(params), z=params, x=params,
                                 weight_sum=0.0, max_lr=0.0)

    def leaf(xp, z, m, y, x, *, c):
        z = z + (m - y)
        # written as moves toward z, so that x = z (a fixed point, g = 0) is kept exactly
        x = x + c * (z - x)
        return z + beta * (x - z), z, x

    kernel = Kernel(leaf, 3, "schedule_free")

    def update(grads: Any, state: ScheduleFreeState, params: Any, **oracles: Any
               ) -> tuple[Any, ScheduleFreeState]:
        if grads is not None:   # z and x are checked against params too (grad_fn: by inner)
            xp = base.check_update_args(grads, state, params)
        else:
            xp = _xp.namespace(params)
        t = state.t + 1
        max_lr = max(state.max_lr, lr_fn(t))
        weight = max_lr ** power
        weight_sum = state.weight_sum + weight
        c = weight / weight_sum if weight_sum > 0 else 0.0
        moved, inner_state = inner.update(grads, state.inner, params, **oracles)
        y, z, x = kernel(xp, (state.z, moved, params, state.x), c=c)
        return y, ScheduleFreeState(t=t, inner=inner_state, z=z, x=x, weight_sum=weight_sum,
                                    max_lr=max_lr)

    return base.optimizer(init, update, inner.extra_args)


def schedule_free_sgd(lr: Any = 1.0, b1: float = 0.9, *, weight_decay: float = 0.0,
                      weight_lr_power: float = 2.0, maximize: bool = False) -> base.Optimizer:
    r"""Schedule-free SGD: :func:`schedule_free` around SGD with L2 decay at y,
    z_{t+1} = z_t − η(∇ℓ(y_t) + λy_t).

    **Conventions.** ``optax.contrib.schedule_free_sgd(lr, b1=b1, weight_decay=λ)``
    (``weight_decay=None`` there is λ = 0 here). ``maximize`` negates g (refopt's shared option).

    Example (constant η: x is the running mean of the z's the updates produced, z₂, z₃, …):

    >>> import numpy as np, refopt
    >>> opt = refopt.schedule_free_sgd(lr=0.5, b1=0.9)
    >>> p = np.array([4.0]); s = opt.init(p); zs = []
    >>> for _ in range(3):
    ...     p, s = opt.update(p, s, p); zs.append(s.z)
    >>> print(np.allclose(s.x, np.mean(zs, axis=0), rtol=1e-15))
    True

    Proof page: :ref:`rule-schedule-free`.
    """
    return schedule_free(sgd(lr=lr, weight_decay=weight_decay, maximize=maximize), lr, b1=b1,
                         weight_lr_power=weight_lr_power)


def schedule_free_adamw(lr: Any = 0.0025, b1: float = 0.9, b2: float = 0.999, *, eps: float = 1e-8,
                        weight_decay: float = 0.0, weight_lr_power: float = 2.0,
                        maximize: bool = False) -> base.Optimizer:
    r"""Schedule-free AdamW: :func:`schedule_free` around RMS scaling with bias correction and
    decoupled decay at y, z_{t+1} = z_t − η(g_t/(√v̂_t + ε) + λy_t) (Adam with β₁ = 0).

    **Conventions.** ``optax.contrib.schedule_free_adamw(lr, b1=b1, b2=b2, eps=eps,
    weight_decay=λ)``. ``maximize`` negates g (refopt's shared option).

    Example (the first z-step has size η in every coordinate, as Adam's first step):

    >>> import numpy as np, refopt
    >>> opt = refopt.schedule_free_adamw(lr=0.1)
    >>> p = np.array([4.0, -1.0]); p, s = opt.update(p, opt.init(p), p)
    >>> print(s.z)
    [ 3.9 -0.9]

    Proof page: :ref:`rule-schedule-free`.
    """
    b2 = base.check_beta("b2", b2)   # named as this factory names it
    inner = adam(lr=lr, beta1=0.0, beta2=b2, eps=eps, weight_decay=weight_decay, decay="decoupled",
                 maximize=maximize)
    return schedule_free(inner, lr, b1=b1, weight_lr_power=weight_lr_power)
