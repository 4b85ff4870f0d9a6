"""RAdam: Adam with the variance of its adaptive step rectified (Liu et al. 2020)."""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class RAdamState(NamedTuple):
    """State of :func:`radam`."""

    t: int  # number of updates applied so far
    m: Any  # first-moment EMA m_t (not bias-corrected)
    v: Any  # second-moment EMA v_t (not bias-corrected)


def sma_length(t: int, beta2: float) -> float:
    """ρ_t = ρ_∞ − 2tβ2^t/(1 − β2^t), ρ_∞ = 2/(1 − β2) − 1: the length of the simple moving
    average that v_t approximates (ρ_1 = 1, increasing to ρ_∞)."""
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    b2t = beta2 ** t
    return rho_inf - 2.0 * t * b2t / (1.0 - b2t)


def rectification(rho_t: float, beta2: float) -> float:
    """r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t)), defined for ρ_t > 4."""
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    return math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                     / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))


@base.rule_factory("radam", RAdamState)
def radam(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-8,
          eps_hat: bool = False, threshold: float = 4.0, weight_decay: float = 0.0,
          decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""Rectified Adam: momentum SGD while the adaptive step's variance is intractable.

    Adam's m_t, v_t, m̂_t = m_t/(1−β1^t), and ρ_t (``refopt.optim.radam.sma_length``). If ρ_t > ``threshold``:

    .. math::
        \theta_t = \theta_{t-1} - \eta_t\, r_t\, \frac{\hat m_t}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon},
        \qquad r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}

    otherwise θ_t = θ_{t−1} − η_t m̂_t (bias-corrected momentum SGD). r_t is the ratio of the
    standard deviation of the adaptive step at ρ_∞ to that at ρ_t, under the paper's scaled
    inverse χ² model, which has a finite variance only for ρ_t > 4; r_t increases from 0 at
    ρ_t = 4 to 1 at ρ_∞ (proof page). For β2 = 0.999, ρ_t stays just below t, so
    the first rectified step is t = 5 with ``threshold=4`` and t = 6 with 5.

    **Conventions.** The paper's test is ρ_t > 4 and its adaptive factor √((1−β2^t)/v_t) has no
    ε (``eps=0``). ``threshold=5`` is the authors' code, torch and optax (torch tests ρ_t > 5,
    optax ρ_t ≥ 5: they differ only if ρ_t lands exactly on 5). ``eps_hat=True`` adds ε to the
    raw √v_t, η_t r_t √(1−β2^t) m̂_t/(√v_t + ε) (torch's form); so ``threshold=5,
    eps_hat=True`` equals ``torch.optim.RAdam`` (with ``decay="decoupled"`` for its
    ``decoupled_weight_decay=True``), and ``threshold=5`` equals ``optax.radam``.

    Args:
      lr: η, a float >= 0 or a schedule ``t -> float``.
      beta1, beta2: EMA rates in [0, 1).
      eps: ε >= 0. eps_hat: add ε to √v_t (torch) instead of √v̂_t (optax).
      threshold: rectify when ρ_t > threshold; must be >= 4 (r_t is undefined below 4).
      weight_decay, decay, maximize: the shared options (``decay`` in l2 / decoupled / fixed).

    Example (ρ_t for β2 = 0.999 and the first steps' rectification):

    >>> from refopt.optim.radam import sma_length, rectification
    >>> rho = [sma_length(t, 0.999) for t in (1, 4, 5, 6)]
    >>> print([round(r, 3) for r in rho], [round(rectification(r, 0.999), 4) for r in rho[2:]])
    [1.0, 3.997, 4.996, 5.994] [0.0173, 0.0258]

    References: Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*,
    ICLR 2020, arXiv:1908.03265, Algorithm 2. Proof page: :ref:`rule-radam`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    eps = base.check_real("eps", eps, low=0.0)
    base.check_bool("eps_hat", eps_hat)
    threshold = base.check_real("threshold", threshold, low=4.0)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> RAdamState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return RAdamState(t=0, m=zeros, v=zeros)

    def leaf(xp, p, g, m, v, *, lr_t, bc1, bc2, r_t, rectify):
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * (g * g)
        m_hat = m / bc1
        if not rectify:
            return p - lr_t * m_hat, m, v
        if eps_hat:
            return p - lr_t * r_t * bc2 ** 0.5 * (m_hat / (xp.sqrt(v) + eps)), m, v
        return p - lr_t * r_t * (m_hat / (xp.sqrt(v / bc2) + eps)), m, v

    # whether a step is rectified is decided per step, not per element: one kernel for each
    # answer, with ``rectify`` bound as a constant (a traced leaf cannot branch on a step scalar)
    kernels = {r: rule.leafwise(functools.partial(leaf, rectify=r), reg, n_out=3, name="radam")
               for r in (False, True)}

    def update(grads: Any, state: RAdamState, params: Any) -> tuple[Any, RAdamState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        bc1, bc2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        rho_t = sma_length(t, beta2)
        rectify = rho_t > threshold
        r_t = rectification(rho_t, beta2) if rectify else 0.0
        params, m, v = kernels[rectify](xp, (params, grads, state.m, state.v),
                                        lr_t=lr_t, bc1=bc1, bc2=bc2, r_t=r_t)
        return params, RAdamState(t=t, m=m, v=v)

    return base.optimizer(init, update)
