"""Prodigy: Adam with a scale d estimated from the distance travelled (Mishchenko & Defazio 2023)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from refopt import _xp, base, rule, treemath
from refopt import tree as _tree


@base.register_state
class ProdigyState(NamedTuple):
    """State of :func:`prodigy`."""

    t: int              # number of updates applied so far
    m: Any              # m_t, first moment of d·g
    v: Any              # v_t, second moment of d·g
    s: Any              # s_t, weighted sum of d·g (its ℓ1 norm is the denominator of d̂)
    theta0: Any         # θ_0, the starting point distances are measured from
    d: float            # d_t, the step-size scale (non-decreasing)
    r: float            # r_t, weighted sum of ⟨g, θ_0 − θ⟩ (the numerator of d̂)


def l1_norm(tree: Any) -> float:
    """‖x‖₁ over every leaf."""
    return sum(float(_xp.namespace(x).sum(_xp.namespace(x).abs(x))) for x in _tree.leaves(tree))


@base.rule_factory("prodigy", ProdigyState)
def prodigy(lr: Any = 1.0, beta1: float = 0.9, beta2: float = 0.999, *, beta3: float | None = None,
            eps: float = 1e-8, d0: float = 1e-6, d_coef: float = 1.0, safeguard_warmup: bool = False,
            weight_decay: float = 0.0, decay: rule.Decay = "decoupled", maximize: bool = False
            ) -> base.Optimizer:
    r"""Prodigy: Adam on d·g with η_t = d·η·√(1−β₂^t)/(1−β₁^t) and d estimated online.

    .. math::
        m_t &= \beta_1 m + (1-\beta_1) d g,\qquad v_t = \beta_2 v + (1-\beta_2) d^2 g^2\\
        s_t &= \beta_3 s + \lambda_t\, d g/d_0,\qquad
        r_t = \beta_3 r + (d/d_0)\,\eta_t\,\langle g, \theta_0 - \theta_{t-1}\rangle\\
        d_t &= \max\bigl(d, c\, r_t/\lVert s_t\rVert_1\bigr),\qquad
        \theta_t = \theta_{t-1} - \eta_t\, m_t/(\sqrt{v_t} + d_t\epsilon)

    with d = d_{t−1} (d₀ at the start), λ_t = η_t (or d/… with ``safeguard_warmup``: λ_t = d),
    β₃ = √β₂ by default and c = ``d_coef``. r/‖s‖₁ is a lower estimate of the distance to the
    solution, so d grows until it is of that size (proof page). A zero ‖s‖₁ (g ≡ 0 so far)
    leaves d unchanged. Weight decay is decoupled with the step's η_t by default.

    **Conventions.** ``optax.contrib.prodigy(lr, betas=(β₁, β₂), beta3, eps, estim_lr0=d₀,
    estim_lr_coef=c, weight_decay, safeguard_warmup)``: ε is scaled by the *updated* d_t as
    there; optax evaluates a schedule at t − 1 (equal for constant η); its ‖s‖₁ = 0 gives NaN.

    Example (on ½‖θ‖² from a distance ~2, d grows from d₀ = 10⁻⁶ by about ×10 every 3–4
    steps, never decreasing, until it reaches the scale of that distance):

    >>> import numpy as np, refopt
    >>> opt = refopt.prodigy(); p = np.array([1.0, -2.0]); s = opt.init(p); ds = []
    >>> for _ in range(30):
    ...     p, s = opt.update(p, s, p); ds.append(s.d)
    >>> print(all(b >= a for a, b in zip(ds, ds[1:])), f"{ds[9]:.1e} {ds[29]:.1e}")
    True 1.7e-05 5.9e-02

    References: Mishchenko & Defazio, arXiv:2306.06101. Proof page: :ref:`rule-prodigy`.
    """
    lr_fn = base.as_schedule("lr", lr)
    b1, b2 = base.check_beta("beta1", beta1), base.check_beta("beta2", beta2)
    b3 = math.sqrt(b2) if beta3 is None else base.check_beta("beta3", beta3)
    eps = base.check_real("eps", eps, low=0.0)
    d0 = base.check_real("d0", d0, low=0.0, low_open=True)
    coef = base.check_real("d_coef", d_coef, low=0.0, low_open=True)
    safeguard = base.check_bool("safeguard_warmup", safeguard_warmup)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> ProdigyState:
        base.check_init_params(params)
        z = base.zeros_like(params)
        return ProdigyState(t=0, m=z, v=z, s=z, theta0=params, d=d0, r=0.0)

    def update(grads: Any, state: ProdigyState, params: Any) -> tuple[Any, ProdigyState]:
        base.check_update_args(grads, state, params)
        t, d = state.t + 1, state.d
        grads = _tree.map(lambda g, p: rule.effective_grad(reg, g, p), grads, params)
        lr_t = d * lr_fn(t) * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        weight = d if safeguard else lr_t
        progress = treemath.vdot(grads, treemath.add_scaled(state.theta0, -1.0, params))

        def moments(g, m, v, s):
            dg = d * g
            return b1 * m + (1 - b1) * dg, b2 * v + (1 - b2) * dg * dg, b3 * s + weight * dg / d0

        m, v, s = _tree.map(moments, grads, state.m, state.v, state.s, n_out=3)
        r = b3 * state.r + (d / d0) * lr_t * progress
        size = l1_norm(s)
        d_new = max(d, coef * r / size) if size > 0 else d

        def leaf(p, m, v):
            p = rule.decayed_param(reg, p, lr_t)
            xp = _xp.namespace(v)
            return p - lr_t * rule.safe_divide(xp, m, xp.sqrt(v) + d_new * eps)   # 0/0: no step

        params = _tree.map(leaf, params, m, v)
        return params, ProdigyState(t=t, m=m, v=v, s=s, theta0=state.theta0, d=d_new, r=r)

    return base.optimizer(init, update)
