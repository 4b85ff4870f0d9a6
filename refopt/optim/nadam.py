"""Nadam (:ref:`spec-classic`; Dozat 2016; Ruder 2016 §4.8)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class NadamState(NamedTuple):
    """State of :func:`nadam`."""

    t: int              # number of updates applied so far
    m: Any              # first-moment EMA m_t (constant β1, as in every implementation)
    v: Any              # second-moment EMA v_t
    mu_product: float   # Π_{i≤t} μ_i for the ψ schedule (1.0 at t = 0; unused when ψ is None)


@base.rule_factory("nadam", NadamState)
def nadam(lr: Any = 2e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-8,
          momentum_decay: float | None = None, weight_decay: float = 0.0, decay: rule.Decay = "l2",
          maximize: bool = False) -> base.Optimizer:
    r"""Nadam: Adam with a Nesterov look-ahead on the first moment.

    Ruder's form (``momentum_decay=None``, default; constant β1):

    .. math::
        \theta_t = \theta_{t-1} - \frac{\eta_t}{\sqrt{\hat v_t} + \epsilon}
        \Big(\beta_1 \hat m_t + \frac{(1-\beta_1) g_t}{1-\beta_1^t}\Big),
        \quad \hat m_t = \frac{m_t}{1-\beta_1^t}

    Dozat's momentum schedule (``momentum_decay=ψ``): μ_t = β1(1 − ½·0.96^{tψ}),
    Π_t = ∏_{i≤t} μ_i,

    .. math::
        \theta_t = \theta_{t-1} - \eta_t \frac{\frac{1-\mu_t}{1-\Pi_t} g_t
          + \frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}} m_t}{\sqrt{\hat v_t} + \epsilon}

    ``momentum_decay=math.inf`` gives μ ≡ β1 and the update
    (β1 m_t/(1−β1^{t+1}) + (1−β1) g_t/(1−β1^t))/(√v̂_t + ε): this is not
    Ruder's form, which corrects m_t with 1−β1^t instead of 1−β1^{t+1}; the two differ by the
    factor (1−β1^t)/(1−β1^{t+1}) → 1 on the momentum term (proof page :ref:`rule-nadam`).

    **Conventions.** ``momentum_decay=0.004`` equals ``torch.optim.NAdam``;
    ``momentum_decay=1, eps=1e-7`` equals ``keras.optimizers.Nadam`` (μ_t = β1(1 − ½·0.96^t));
    ``momentum_decay=math.inf`` equals ``optax.nadam``. With ``weight_decay=λ,
    decay="decoupled"`` (:func:`refopt.nadamw`) ψ = 0.004 equals torch's NAdam with
    ``decoupled_weight_decay=True`` and ψ = ∞ equals ``optax.nadamw``. torch stores Π_t in a tensor of its
    default dtype, so unless ``torch.set_default_dtype(torch.float64)`` is in force its float64
    NAdam rounds Π_t to float32 and differs from this rule by ~1e−10 relative (seen with
    torch 2.13).

    Example:

    >>> import numpy as np, refopt
    >>> opt = refopt.nadam(lr=0.05)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(300):
    ...     params, state = opt.update(params, state, params)
    >>> print(float(np.max(np.abs(params))) < 0.01)
    True

    References: Dozat, ICLR 2016 workshop; Ruder §4.8. Proof page: :ref:`rule-nadam`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    eps = base.check_real("eps", eps, low=0.0)
    psi = None if momentum_decay is None else base.check_real(
        "momentum_decay", momentum_decay, low=0.0, low_open=True, finite=False)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def mu(t: int) -> float:
        # 0.96 ** inf == 0.0 in Python, so ψ = inf gives μ ≡ β1 exactly
        return beta1 * (1.0 - 0.5 * 0.96 ** (t * psi)) if not math.isinf(psi) else beta1

    def init(params: Any) -> NadamState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return NadamState(t=0, m=zeros, v=zeros, mu_product=1.0)

    def leaf(xp, p, g, m, v, *, lr_t, bc2, coef_g, coef_m):
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * (g * g)
        denom = xp.sqrt(v / bc2) + eps
        return p - lr_t * rule.safe_divide(xp, coef_g * g + coef_m * m, denom, floor=eps), m, v

    kernel = rule.leafwise(leaf, reg, n_out=3, name="nadam")

    def update(grads: Any, state: NadamState, params: Any) -> tuple[Any, NadamState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        bc2 = 1.0 - beta2 ** t
        if psi is None:
            bc1 = 1.0 - beta1 ** t
            coef_g = (1.0 - beta1) / bc1
            coef_m = beta1 / bc1
            mu_product = state.mu_product
        else:
            mu_t, mu_next = mu(t), mu(t + 1)
            mu_product = state.mu_product * mu_t
            coef_g = (1.0 - mu_t) / (1.0 - mu_product)
            coef_m = mu_next / (1.0 - mu_product * mu_next)
        params, m, v = kernel(xp, (params, grads, state.m, state.v),
                              lr_t=lr_t, bc2=bc2, coef_g=coef_g, coef_m=coef_m)
        return params, NadamState(t=t, m=m, v=v, mu_product=mu_product)

    return base.optimizer(init, update)


def nadamw(lr: Any = 2e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-8,
           momentum_decay: float | None = None, weight_decay: float = 1e-4,
           maximize: bool = False) -> base.Optimizer:
    """NAdamW: :func:`nadam` with decoupled weight decay, θ ← θ − η_t λ θ before the step.

    ``momentum_decay=0.004`` equals ``torch.optim.NAdam(decoupled_weight_decay=True)`` and
    ``momentum_decay=math.inf`` equals ``optax.nadamw`` (whose default λ = 1e−4 is the default
    here). Proof page: :ref:`rule-nadam`.
    """
    return nadam(lr, beta1, beta2, eps=eps, momentum_decay=momentum_decay,
                 weight_decay=weight_decay, decay="decoupled", maximize=maximize)
