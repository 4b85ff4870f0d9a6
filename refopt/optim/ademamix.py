"""AdEMAMix: Adam with a mixture of a fast and a slow gradient EMA (Pagliardini et al. 2024)."""

from __future__ import annotations

import math
from typing import Any, Literal, NamedTuple

from refopt import base, rule


@base.register_state
class AdEMAMixState(NamedTuple):
    """State of :func:`ademamix`."""

    t: int     # number of updates applied so far
    m1: Any    # fast EMA of g (β1), not bias-corrected
    m2: Any    # slow EMA of g (β3), never bias-corrected
    nu: Any    # EMA of g² (β2), not bias-corrected


@base.rule_factory("ademamix", AdEMAMixState)
def ademamix(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, beta3: Any = 0.9999,
             alpha: Any = 5.0, *, eps: float = 1e-8, eps_root: float = 0.0,
             weight_decay: float = 0.0, decay: Literal["l2", "decoupled", "fixed"] = "decoupled",
             maximize: bool = False) -> base.Optimizer:
    r"""AdEMAMix (Algorithm 1 of Pagliardini, Ablin & Grangier 2024).

    .. math::
        m^{(1)}_t = \beta_1 m^{(1)}_{t-1} + (1-\beta_1) g_t,\quad
        m^{(2)}_t = \beta_{3,t} m^{(2)}_{t-1} + (1-\beta_{3,t}) g_t,\quad
        \nu_t = \beta_2 \nu_{t-1} + (1-\beta_2) g_t^2

    .. math::
        \theta_t = \theta_{t-1} - \eta_t\,\frac{m^{(1)}_t/(1-\beta_1^t) + \alpha_t m^{(2)}_t}
        {\sqrt{\nu_t/(1-\beta_2^t) + \epsilon_{root}} + \epsilon}

    The slow EMA m⁽²⁾ is deliberately not bias-corrected; with α = 0 the rule is Adam. ``alpha``
    and ``beta3`` may be schedules ``t -> value`` (t = 1 on the first update), e.g. the paper's
    warm-ups :func:`refopt.optim.alpha_warmup` and :func:`refopt.optim.beta3_warmup`.

    **Conventions.** Weight decay is decoupled by default, θ ← θ − ηλθ, as in the paper and
    ``optax.contrib.ademamix`` (whose ``alpha`` default is 5, ``scale_by_ademamix``'s is 6).
    optax evaluates its α and β3 schedules at the 0-based count t − 1: optax's ``s`` is refopt's
    ``lambda t: s(t - 1)``.

    Args:
      lr: η, a float >= 0 or a schedule.
      beta1, beta2: fast-EMA and second-moment rates in [0, 1).
      beta3: slow-EMA rate in [0, 1), or a schedule with values in [0, 1).
      alpha: mixing weight α >= 0 of the slow EMA, or a schedule.
      eps, eps_root: ε outside and inside the square root.
      weight_decay, decay, maximize: see :ref:`rule-conventions`.

    Example (α = 0 is exactly Adam with the same decay):

    >>> import numpy as np, refopt
    >>> a, b = refopt.ademamix(lr=0.1, alpha=0.0), refopt.adamw(lr=0.1, weight_decay=0.0)
    >>> p = np.array([1.0, -2.0])
    >>> sa, sb = a.init(p), b.init(p); pa = pb = p
    >>> for _ in range(10):
    ...     (pa, sa), (pb, sb) = a.update(pa, sa, pa), b.update(pb, sb, pb)
    >>> print(np.array_equal(pa, pb))
    True

    References: Pagliardini, Ablin, Grangier, arXiv:2409.03137. Proof page: :ref:`rule-ademamix`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    if not callable(beta3):
        base.check_beta("beta3", beta3)
    beta3_fn = base.as_schedule("beta3", beta3)
    alpha_fn = base.as_schedule("alpha", alpha)
    eps = base.check_real("eps", eps, low=0.0)
    eps_root = base.check_real("eps_root", eps_root, low=0.0)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> AdEMAMixState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return AdEMAMixState(t=0, m1=zeros, m2=zeros, nu=zeros)

    def leaf(xp, p, g, m1, m2, nu, *, lr_t, bc1, bc2, beta3_t, alpha_t):
        m1 = beta1 * m1 + (1.0 - beta1) * g
        m2 = beta3_t * m2 + (1.0 - beta3_t) * g
        nu = beta2 * nu + (1.0 - beta2) * (g * g)
        mix = m1 / bc1 + alpha_t * m2
        return p - lr_t * rule.safe_divide(xp, mix, xp.sqrt(nu / bc2 + eps_root) + eps, floor=eps), m1, m2, nu

    kernel = rule.leafwise(leaf, reg, n_out=4, name="ademamix")

    def update(grads: Any, state: AdEMAMixState, params: Any) -> tuple[Any, AdEMAMixState]:
        t = state.t + 1
        beta3_t, alpha_t = beta3_fn(t), alpha_fn(t)   # validated before anything changes
        if beta3_t >= 1.0:
            raise ValueError(f"schedule beta3 returned an invalid value at t={t}: "
                             f"beta3({t}) must be in [0.0, 1.0), got {beta3_t!r}")
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        bc1 = 1.0 - beta1 ** t
        bc2 = 1.0 - beta2 ** t
        params, m1, m2, nu = kernel(xp, (params, grads, state.m1, state.m2, state.nu), lr_t=lr_t,
                                    bc1=bc1, bc2=bc2, beta3_t=beta3_t, alpha_t=alpha_t)
        return params, AdEMAMixState(t=t, m1=m1, m2=m2, nu=nu)

    return base.optimizer(init, update)


def alpha_warmup(alpha: float, warmup: int, alpha_start: float = 0.0) -> base.Schedule:
    """The paper's α scheduler: linear from ``alpha_start`` (t = 0) to ``alpha`` (t ≥ warmup)."""
    alpha = base.check_real("alpha", alpha, low=0.0)
    alpha_start = base.check_real("alpha_start", alpha_start, low=0.0)
    warmup = base._check_positive_int("warmup", warmup)
    return lambda t: alpha if t >= warmup else alpha_start + (t / warmup) * (alpha - alpha_start)


def beta3_warmup(beta3: float, warmup: int, beta_start: float) -> base.Schedule:
    r"""The paper's β3 scheduler: half-lives h(β) = ln ½ / ln β interpolated linearly,

    .. math:: \beta_3(t) = \exp\frac{\ln\beta_{start}\,\ln\beta_3}
              {(1-a)\ln\beta_3 + a\ln\beta_{start}},\quad a = \min(t/T, 1)

    (the paper uses β_start = β1). :ref:`rule-ademamix` derives the half-life form.
    """
    beta3 = base.check_real("beta3", beta3, low=0.0, high=1.0, low_open=True, high_open=True)
    beta_start = base.check_real("beta_start", beta_start, low=0.0, high=beta3, low_open=True)
    warmup = base._check_positive_int("warmup", warmup)
    lb3, lbs = math.log(beta3), math.log(beta_start)

    def schedule(t: int) -> float:
        if t >= warmup:
            return beta3
        a = t / warmup
        return math.exp(lbs * lb3 / ((1.0 - a) * lb3 + a * lbs))
    return schedule
