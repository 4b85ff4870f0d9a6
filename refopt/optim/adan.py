"""Adan, adaptive Nesterov momentum (Xie, Zhou, Li, Lin & Yan 2022)."""

from __future__ import annotations

from functools import partial
from typing import Any, Literal, NamedTuple

from refopt import base, rule

DIFF_SCALES = ("beta2", "one_minus_beta2")
DECAYS = ("proximal",) + rule.DECAY_KINDS


@base.register_state
class AdanState(NamedTuple):
    """State of :func:`adan`."""

    t: int          # number of updates applied so far
    m: Any          # EMA of g (β1), not bias-corrected
    v: Any          # EMA of g_t − g_{t−1} (β2), not bias-corrected
    n: Any          # EMA of (g_t + c(g_t − g_{t−1}))² (β3), not bias-corrected
    prev_grad: Any  # g_{t−1} (0 before the first update)


@base.rule_factory("adan", AdanState)
def adan(lr: Any = 1e-3, beta1: float = 0.98, beta2: float = 0.92, beta3: float = 0.99, *,
         eps: float = 1e-8, eps_root: float = 0.0,
         diff_scale: Literal["beta2", "one_minus_beta2"] = "beta2", weight_decay: float = 0.0,
         decay: Literal["proximal", "decoupled", "l2", "fixed"] = "proximal",
         maximize: bool = False) -> base.Optimizer:
    r"""Adan: Adam on a Nesterov-extrapolated gradient, with the difference term kept separately.

    With Δ_t = g_t − g_{t−1} (Δ_1 = 0) and c = β2 (``diff_scale="beta2"``):

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2)\Delta_t,\quad
        n_t = \beta_3 n_{t-1} + (1-\beta_3)(g_t + c\,\Delta_t)^2

    .. math::
        \theta_t = \Big(\theta_{t-1} - \eta_t\,\frac{m_t/(1-\beta_1^t) + c\,v_t/(1-\beta_2^t)}
        {\sqrt{n_t/(1-\beta_3^t) + \epsilon_{root}} + \epsilon}\Big) \Big/ (1 + \eta_t\lambda)

    The β's are retention factors (the paper's β is 1 − ours, as in the authors' code). The last
    division is the paper's proximal weight decay (``decay="proximal"``); the other decays are
    :ref:`rule-conventions`'s. With β1 = β2 = β the rule is Adam(β, β3) fed the extrapolated
    gradient g_t + β(g_t − g_{t−1}) (:ref:`rule-adan`).

    **Conventions.** Defaults follow the authors' reference code (bias corrections, Δ_1 = 0).
    ``optax.adan`` (0.2.8) is ``diff_scale="one_minus_beta2", decay="decoupled"``,
    ``eps_root=1e-8``: it scales Δ by 1 − β2 = 0.08 where the paper and the authors' code use
    β2 = 0.92 (reported in google-deepmind/optax PR #1715).

    Args:
      lr: η, a float >= 0 or a schedule. beta1, beta2, beta3: retention factors in [0, 1).
      eps, eps_root: ε outside and inside the root. diff_scale: c = β2 or 1 − β2.
      weight_decay, decay, maximize: λ; ``"proximal"`` divides by 1 + ηλ after the step.

    Example (with β2 = 0 the difference terms vanish and Adan is Adam with β2 := β3):

    >>> import numpy as np, refopt
    >>> a, b = refopt.adan(lr=0.1, beta2=0.0), refopt.adam(lr=0.1, beta1=0.98, beta2=0.99)
    >>> p = np.array([1.0, -2.0]); pa, sa, pb, sb = p, a.init(p), p, b.init(p)
    >>> for _ in range(10):
    ...     (pa, sa), (pb, sb) = a.update(pa, sa, pa), b.update(pb, sb, pb)
    >>> print(np.array_equal(pa, pb))
    True

    References: Xie et al., arXiv:2208.06677 (TPAMI 2024). Proof page: :ref:`rule-adan`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    beta3 = base.check_beta("beta3", beta3)
    eps = base.check_real("eps", eps, low=0.0)
    eps_root = base.check_real("eps_root", eps_root, low=0.0)
    c = beta2 if base.check_choice("diff_scale", diff_scale, DIFF_SCALES) == "beta2" else 1.0 - beta2
    proximal = base.check_choice("decay", decay, DECAYS) == "proximal"
    reg = rule.regularisation(0.0 if proximal else weight_decay, "l2" if proximal else decay, maximize)
    lam = base.check_real("weight_decay", weight_decay, low=0.0)

    def init(params: Any) -> AdanState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return AdanState(t=0, m=zeros, v=zeros, n=zeros, prev_grad=zeros)

    # first: t = 1 (a Python bool, so that the fused path chooses between two kernels)
    def leaf(xp, p, g, m, v, n, g_prev, *, lr_t, bc1, bc2, bc3, first):
        diff = xp.zeros_like(g) if first else g - g_prev
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * diff
        extrapolated = g + c * diff
        n = beta3 * n + (1.0 - beta3) * (extrapolated * extrapolated)
        step = rule.safe_divide(xp, m / bc1 + c * (v / bc2), xp.sqrt(n / bc3 + eps_root) + eps,
                                floor=eps)
        p = p - lr_t * step
        if proximal and lam != 0.0:
            p = p / (1.0 + lr_t * lam)
        # g·1 = g bit for bit, in a new array: the caller may reuse its gradient buffer
        return p, m, v, n, g * 1.0

    kernels = {first: rule.leafwise(partial(leaf, first=first), reg, n_out=5, name="adan")
               for first in (True, False)}

    def update(grads: Any, state: AdanState, params: Any) -> tuple[Any, AdanState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        bc1, bc2, bc3 = 1.0 - beta1 ** t, 1.0 - beta2 ** t, 1.0 - beta3 ** t
        params, m, v, n, g_prev = kernels[t == 1](
            xp, (params, grads, state.m, state.v, state.n, state.prev_grad),
            lr_t=lr_t, bc1=bc1, bc2=bc2, bc3=bc3)
        return params, AdanState(t=t, m=m, v=v, n=n, prev_grad=g_prev)

    return base.optimizer(init, update)
