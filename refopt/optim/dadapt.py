"""D-Adaptation for AdamW: d from a running lower bound on the distance (Defazio & Mishchenko 2023)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from refopt import _xp, base, rule, treemath
from refopt import tree as _tree
from refopt.optim.prodigy import l1_norm


@base.register_state
class DAdaptAdamState(NamedTuple):
    """State of :func:`dadapt_adamw`."""

    t: int      # number of updates applied so far
    m: Any      # m_t, first moment of η_t g (η_t includes d)
    v: Any      # v_t, second moment of g
    s: Any      # s_t, weighted sum of η_t g
    d: float    # d_t, the step-size scale (non-decreasing)
    r: float    # r_t, weighted sum of η_t ⟨g, s/(√v + ε)⟩


@base.rule_factory("dadapt_adamw", DAdaptAdamState)
def dadapt_adamw(lr: Any = 1.0, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-8,
                 d0: float = 1e-6, weight_decay: float = 0.0, decay: rule.Decay = "decoupled",
                 maximize: bool = False) -> base.Optimizer:
    r"""D-Adapted AdamW: Adam whose η_t = d·η·√(1−β₂^t)/(1−β₁^t), d from a distance estimate.

    With b = √β₂, d = d_{t−1} (d₀ at the start), and s, v *before* this step in the numerator:

    .. math::
        r_t &= b\,r + (1-b)\,\eta_t\,\bigl\langle g, s/(\sqrt v + \epsilon)\bigr\rangle,\qquad
        s_t = b\,s + (1-b)\,\eta_t g\\
        m_t &= \beta_1 m + (1-\beta_1)\eta_t g,\quad v_t = \beta_2 v + (1-\beta_2) g^2,\quad
        d_t = \max\Bigl(d, \frac{r_t}{(1-b)\lVert s_t\rVert_1}\Bigr)\\
        \theta_t &= \theta_{t-1} - m_t/(\sqrt{v_t} + \epsilon)

    A zero ‖s_t‖₁ leaves d unchanged. Weight decay is decoupled with the step's η_t by default.

    **Conventions.** ``optax.contrib.dadapt_adamw(lr, betas=(β₁, β₂), eps, estim_lr0=d₀,
    weight_decay)``; optax evaluates a schedule at t − 1 (equal for constant η) and gives NaN
    for ‖s‖₁ = 0.

    Example (d is non-decreasing and grows from d₀ on ½‖θ‖²):

    >>> import numpy as np, refopt
    >>> opt = refopt.dadapt_adamw(); p = np.array([1.0, -2.0]); s = opt.init(p); ds = []
    >>> for _ in range(20):
    ...     p, s = opt.update(p, s, p); ds.append(s.d)
    >>> print(all(b >= a for a, b in zip(ds, ds[1:])), ds[-1] > 100 * 1e-6)
    True True

    References: Defazio & Mishchenko, arXiv:2301.07733. Proof page: :ref:`rule-prodigy`.
    """
    lr_fn = base.as_schedule("lr", lr)
    b1, b2 = base.check_beta("beta1", beta1), base.check_beta("beta2", beta2)
    b = math.sqrt(b2)
    eps = base.check_real("eps", eps, low=0.0)
    d0 = base.check_real("d0", d0, low=0.0, low_open=True)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> DAdaptAdamState:
        base.check_init_params(params)
        z = base.zeros_like(params)
        return DAdaptAdamState(t=0, m=z, v=z, s=z, d=d0, r=0.0)

    def update(grads: Any, state: DAdaptAdamState, params: Any) -> tuple[Any, DAdaptAdamState]:
        base.check_update_args(grads, state, params)
        t, d = state.t + 1, state.d
        grads = _tree.map(lambda g, p: rule.effective_grad(reg, g, p), grads, params)
        lr_t = d * lr_fn(t) * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        def scaled(s, v):   # s/(√v + ε); 0/0 (ε = 0, v = 0): 0
            xp = _xp.namespace(v)
            return rule.safe_divide(xp, s, xp.sqrt(v) + eps)

        scaled_s = _tree.map(scaled, state.s, state.v)
        r = b * state.r + (1 - b) * lr_t * treemath.vdot(grads, scaled_s)

        def moments(g, m, v, s):
            return (b1 * m + (1 - b1) * lr_t * g, b2 * v + (1 - b2) * g * g,
                    b * s + (1 - b) * lr_t * g)

        m, v, s = _tree.map(moments, grads, state.m, state.v, state.s, n_out=3)
        size = l1_norm(s)
        d_new = max(d, r / ((1 - b) * size)) if size > 0 else d

        def leaf(p, m, v):
            xp = _xp.namespace(v)   # 0/0 (ε = 0, v = 0): no step
            return rule.decayed_param(reg, p, lr_t) - rule.safe_divide(xp, m, xp.sqrt(v) + eps)

        params = _tree.map(leaf, params, m, v)
        return params, DAdaptAdamState(t=t, m=m, v=v, s=s, d=d_new, r=r)

    return base.optimizer(init, update)
