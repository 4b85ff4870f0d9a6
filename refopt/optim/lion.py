"""Lion: evolved sign momentum (Chen et al. 2023)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class LionState(NamedTuple):
    """State of :func:`lion`."""

    t: int  # number of updates applied so far
    m: Any  # momentum m_t, an EMA of gradients with rate β2


@base.rule_factory("lion", LionState)
def lion(lr: Any = 1e-4, beta1: float = 0.9, beta2: float = 0.99, *, weight_decay: float = 0.0,
         decay: rule.Decay = "decoupled", maximize: bool = False) -> base.Optimizer:
    r"""Lion: the sign of an interpolation between the momentum and the gradient.

    .. math::
        c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
        \theta_t = \theta_{t-1} - \eta_t\,\mathrm{sign}(c_t),\qquad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

    Every coordinate moves by exactly η_t or not at all (sign(0) = 0), so ‖θ_t − θ_{t−1}‖∞ = η_t
    whenever some c_t ≠ 0, whatever the size of the gradients. With β1 = β2 the interpolation
    is the new momentum itself and Lion is :func:`refopt.signum` (both on the proof page).

    **Conventions.** Weight decay is decoupled by default, θ ← θ − η_t λ θ, as in the paper.
    ``lr, beta1, beta2, weight_decay=λ`` equals ``optax.lion(lr, b1, b2, weight_decay=λ)``
    (optax's default λ is 1e−3) and ``keras.optimizers.Lion(lr, beta_1, beta_2,
    weight_decay=λ)`` (Keras's default has no decay).

    Args:
      lr: η, a float >= 0 or a schedule ``t -> float``. The paper uses a 3–10× smaller η than
        for AdamW, since each coordinate moves by η.
      beta1: interpolation weight of the momentum in c_t, in [0, 1).
      beta2: EMA rate of the momentum m_t, in [0, 1).
      weight_decay, decay, maximize: the shared options (``decay`` in l2 / decoupled / fixed).

    Example (a gradient of 1000 and one of 1e−6 move their coordinates equally):

    >>> import numpy as np, refopt
    >>> opt = refopt.lion(lr=0.01)
    >>> p, s = opt.update(np.array([1000.0, 1e-6, 0.0]), opt.init(np.zeros(3)), np.zeros(3))
    >>> print(p)
    [-0.01 -0.01  0.  ]

    References: Chen et al., *Symbolic Discovery of Optimization Algorithms*, arXiv:2302.06675,
    Program 1. Proof page: :ref:`rule-lion`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> LionState:
        base.check_init_params(params)
        return LionState(t=0, m=base.zeros_like(params))

    def leaf(xp, p, g, m, *, lr_t):
        c = beta1 * m + (1.0 - beta1) * g
        return p - lr_t * xp.sign(c), beta2 * m + (1.0 - beta2) * g

    kernel = rule.leafwise(leaf, reg, n_out=2, name="lion")

    def update(grads: Any, state: LionState, params: Any) -> tuple[Any, LionState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        params, m = kernel(xp, (params, grads, state.m), lr_t=lr_t)
        return params, LionState(t=t, m=m)

    return base.optimizer(init, update)
