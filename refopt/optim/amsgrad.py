"""AMSGrad (:ref:`spec-classic`; Reddi, Kale, Kumar, ICLR 2018; Ruder's blog update)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from refopt import base, rule

MAX_OVER = ("v", "v_hat")


@base.register_state
class AMSGradState(NamedTuple):
    """State of :func:`amsgrad`."""

    t: int      # number of updates applied so far
    m: Any      # first-moment EMA m_t
    v: Any      # second-moment EMA v_t
    v_max: Any  # running max of v (max_over="v") or of v̂ = v/(1−β2^t) (max_over="v_hat")


@base.rule_factory("amsgrad", AMSGradState)
def amsgrad(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-8,
            bias_correction: bool = False, max_over: Literal["v", "v_hat"] = "v",
            weight_decay: float = 0.0, decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""AMSGrad: Adam whose denominator never decreases.

    Default (``bias_correction=False, max_over="v"``; the paper's Algorithm 2 with constant
    β1 and η):

    .. math::
        \hat v_t = \max(\hat v_{t-1}, v_t),\qquad
        \theta_t = \theta_{t-1} - \eta_t \frac{m_t}{\sqrt{\hat v_t} + \epsilon}

    ``bias_correction=True, max_over="v"``: the max is over raw v and both moments are then
    bias-corrected, θ −= (η/(1−β1^t)) m_t/(√v̂_t/√(1−β2^t) + ε).
    ``bias_correction=True, max_over="v_hat"``: the max is over the bias-corrected
    v_t/(1−β2^t), θ −= η (m_t/(1−β1^t))/(√max + ε). Taking the max of v̂ needs the correction,
    so ``max_over="v_hat"`` requires ``bias_correction=True``.

    **Conventions.** ``bias_correction=True, max_over="v"`` equals
    ``torch.optim.Adam(amsgrad=True)``; ``bias_correction=True, max_over="v_hat"`` equals
    ``optax.amsgrad``. Keras's ``Adam(amsgrad=True)`` takes the max over raw v but adds ε in
    the ε̂ ordering of :func:`refopt.adam` (``eps_hat=True``), which this rule does not offer.

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
    base.check_bool("bias_correction", bias_correction)
    base.check_choice("max_over", max_over, MAX_OVER)
    if max_over == "v_hat" and not bias_correction:
        raise ValueError("max_over='v_hat' requires bias_correction=True (v̂ is the bias-corrected v)")
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> AMSGradState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return AMSGradState(t=0, m=zeros, v=zeros, v_max=zeros)

    def leaf(xp, p, g, m, v, v_max, *, lr_t, bc1, bc2):
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * (g * g)
        if not bias_correction:
            v_max = xp.maximum(v_max, v)
            return p - lr_t * rule.safe_divide(xp, m, xp.sqrt(v_max) + eps, floor=eps), m, v, v_max
        if max_over == "v":
            v_max = xp.maximum(v_max, v)
            denom = xp.sqrt(v_max) / bc2 ** 0.5 + eps
            return p - (lr_t / bc1) * rule.safe_divide(xp, m, denom, floor=eps), m, v, v_max
        v_max = xp.maximum(v_max, v / bc2)
        return p - lr_t * rule.safe_divide(xp, m / bc1, xp.sqrt(v_max) + eps, floor=eps), m, v, v_max

    kernel = rule.leafwise(leaf, reg, n_out=4, name="amsgrad")

    def update(grads: Any, state: AMSGradState, params: Any) -> tuple[Any, AMSGradState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        bc1 = 1.0 - beta1 ** t
        bc2 = 1.0 - beta2 ** t
        params, m, v, v_max = kernel(xp, (params, grads, state.m, state.v, state.v_max),
                                     lr_t=lr_t, bc1=bc1, bc2=bc2)
        return params, AMSGradState(t=t, m=m, v=v, v_max=v_max)

    return base.Optimizer(init, update)
