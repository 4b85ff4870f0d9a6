"""AMSGrad (:ref:`spec-classic`; Reddi, Kale, Kumar, ICLR 2018; Ruder's blog update)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule
from refopt import tree as _tree

VARIANTS = ("reddi", "torch", "optax")


class AMSGradState(NamedTuple):
    """State of :func:`amsgrad`."""

    t: int      # number of updates applied so far
    m: Any      # first-moment EMA m_t
    v: Any      # second-moment EMA v_t
    v_max: Any  # running max: of v (reddi, torch) or of v̂ = v/(1−β2^t) (optax)


def amsgrad(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-8,
            variant: str = "reddi", weight_decay: float = 0.0, decay: str = "l2",
            maximize: bool = False) -> base.Optimizer:
    r"""AMSGrad: Adam whose denominator never decreases.

    ``variant="reddi"`` (default; the paper's Algorithm 2 with constant β1 and η, no bias
    correction):

    .. math::
        \hat v_t = \max(\hat v_{t-1}, v_t),\qquad
        \theta_t = \theta_{t-1} - \eta_t \frac{m_t}{\sqrt{\hat v_t} + \epsilon}

    ``variant="torch"``: max over raw v, then θ −= (η/(1−β1^t)) m_t/(√v̂_t/√(1−β2^t) + ε)
    (``torch.optim.Adam(amsgrad=True)``). ``variant="optax"``: max over the bias-corrected
    v/(1−β2^t), then θ −= η (m_t/(1−β1^t))/(√max + ε) (``optax.amsgrad``).

    Example:

    >>> import numpy as np, refopt
    >>> opt = refopt.amsgrad(lr=0.05)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(300):
    ...     params, state = opt.update(params, state, params)
    >>> print(float(np.max(np.abs(params))) < 0.01)
    True

    References: Reddi, Kale, Kumar, ICLR 2018. Proof page: :ref:`rule-amsgrad`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    eps = base.check_real("eps", eps, low=0.0)
    base.check_choice("variant", variant, VARIANTS)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> AMSGradState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return AMSGradState(t=0, m=zeros, v=zeros, v_max=zeros)

    def update(grads: Any, state: AMSGradState, params: Any) -> tuple[Any, AMSGradState]:
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)
        bc1 = 1.0 - beta1 ** t
        bc2 = 1.0 - beta2 ** t

        def leaf(p, g, m, v, v_max):
            m = beta1 * m + (1.0 - beta1) * g
            v = beta2 * v + (1.0 - beta2) * (g * g)
            if variant == "reddi":
                v_max = xp.maximum(v_max, v)
                return p - lr_t * (m / (xp.sqrt(v_max) + eps)), m, v, v_max
            if variant == "torch":
                v_max = xp.maximum(v_max, v)
                denom = xp.sqrt(v_max) / bc2 ** 0.5 + eps
                return p - (lr_t / bc1) * (m / denom), m, v, v_max
            v_max = xp.maximum(v_max, v / bc2)
            return p - lr_t * ((m / bc1) / (xp.sqrt(v_max) + eps)), m, v, v_max

        params, m, v, v_max = _tree.map(leaf, params, grads, state.m, state.v, state.v_max,
                                        n_out=4)
        return params, AMSGradState(t=t, m=m, v=v, v_max=v_max)

    return base.Optimizer(init, update)
