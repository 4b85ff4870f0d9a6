"""Yogi: Adam with an additive second-moment update (Zaheer et al. 2018)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class YogiState(NamedTuple):
    """State of :func:`yogi`."""

    t: int  # number of updates applied so far
    m: Any  # first moment m_t (not bias-corrected)
    v: Any  # second moment v_t, updated additively (not bias-corrected)


@base.rule_factory("yogi", YogiState)
def yogi(lr: Any = 1e-2, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-3,
         initial_accumulator: float = 1e-6, initial_momentum: float = 0.0,
         weight_decay: float = 0.0, decay: rule.Decay = "l2", maximize: bool = False
         ) -> base.Optimizer:
    r"""Yogi: the second moment moves by at most (1−β2) g_t² per step.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
        v_t = v_{t-1} - (1-\beta_2)\,\mathrm{sign}(v_{t-1} - g_t^2)\, g_t^2

    .. math::
        \theta_t = \theta_{t-1} - \eta_t\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}

    Adam's v_t − v_{t−1} = (1−β2)(g_t² − v_{t−1}) is proportional to v_{t−1} when v_{t−1} ≫ g_t²,
    so v can collapse geometrically and the effective step η/√v̂ grow fast. Yogi's change has
    size (1−β2)g_t² whatever v_{t−1} is, v_t ≥ β2 v_{t−1} > 0, and v_t ≥ β2^t v_0 (proof page).

    **Conventions.** v_0 = ``initial_accumulator`` (1e−6) and m_0 = ``initial_momentum``.
    ``initial_momentum=1e-6`` (optax starts both moments at its ``initial_accumulator_value``)
    with the other defaults equals ``optax.yogi(lr)``; the bias corrections are optax's (the
    paper's pseudo-code was not available to us to check whether it debiases).

    Args:
      lr: η, a float >= 0 or a schedule ``t -> float``.
      beta1, beta2: EMA rates in [0, 1).
      eps: ε >= 0 added to √v̂ (1e−3, much larger than Adam's, as in optax).
      initial_accumulator: v_0 >= 0. initial_momentum: m_0 (any real).
      weight_decay, decay, maximize: the shared options (``decay`` in l2 / decoupled / fixed).

    Example (after a burst, zero gradients leave v where it was; Adam's would shrink by β2 per
    step, so its effective step η/√v̂ would grow):

    >>> import numpy as np, refopt
    >>> opt = refopt.yogi(lr=0.01)
    >>> p, s = np.zeros(1), opt.init(np.zeros(1))
    >>> for g in (100.0, 0.0, 0.0):
    ...     p, s = opt.update(np.array([g]), s, p)
    ...     print(s.v)
    [10.000001]
    [10.000001]
    [10.000001]

    References: Zaheer, Reddi, Sachan, Kale, Kumar, *Adaptive Methods for Nonconvex
    Optimization*, NeurIPS 2018. Proof page: :ref:`rule-yogi`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    eps = base.check_real("eps", eps, low=0.0)
    v0 = base.check_real("initial_accumulator", initial_accumulator, low=0.0)
    m0 = base.check_real("initial_momentum", initial_momentum)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> YogiState:
        base.check_init_params(params)
        return YogiState(t=0, m=base.full_like(params, m0), v=base.full_like(params, v0))

    def leaf(xp, p, g, m, v, *, lr_t, bc1, bc2):
        g2 = g * g
        m = beta1 * m + (1.0 - beta1) * g
        v = v - (1.0 - beta2) * xp.sign(v - g2) * g2
        return p - lr_t * ((m / bc1) / (xp.sqrt(v / bc2) + eps)), m, v

    kernel = rule.leafwise(leaf, reg, n_out=3, name="yogi")

    def update(grads: Any, state: YogiState, params: Any) -> tuple[Any, YogiState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        bc1, bc2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        params, m, v = kernel(xp, (params, grads, state.m, state.v), lr_t=lr_t, bc1=bc1, bc2=bc2)
        return params, YogiState(t=t, m=m, v=v)

    return base.optimizer(init, update)
