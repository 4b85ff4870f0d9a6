"""Adam and AdamW (:ref:`spec-classic`; Kingma & Ba 2015; Loshchilov & Hutter 2019)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule
from refopt import tree as _tree


class AdamState(NamedTuple):
    """State of :func:`adam`."""

    t: int   # number of updates applied so far
    m: Any   # first-moment EMA m_t (not bias-corrected)
    v: Any   # second-moment EMA v_t (not bias-corrected)


def adam(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-8,
         eps_hat: bool = False, eps_root: float = 0.0, weight_decay: float = 0.0,
         decay: str = "l2", maximize: bool = False) -> base.Optimizer:
    r"""Adam, in the paper's form (Algorithm 1) by default.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2

    .. math::
        \hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t},\quad
        \theta_t = \theta_{t-1} - \eta_t \frac{\hat m_t}{\sqrt{\hat v_t + \epsilon_{root}} + \epsilon}

    ``eps_hat=True`` is Kingma–Ba's "efficient" ordering used by TF/Keras,
    θ_t = θ_{t−1} − η_t (√(1−β2^t)/(1−β1^t)) m_t/(√v_t + ε̂), which is the paper form with a
    step-dependent ε_t = ε̂/√(1−β2^t); it is used without ``eps_root``.

    **Conventions.** Defaults equal ``torch.optim.Adam`` and ``optax.adam`` (``eps_root`` is
    optax's). ``weight_decay=λ, decay="decoupled"`` is AdamW (torch's, λ = 1e−2 there; optax's
    ``adamw`` too). torch's ``Adam(amsgrad=True)`` is :func:`refopt.amsgrad` with
    ``variant="torch"``.

    Example:

    >>> import numpy as np, refopt
    >>> opt = refopt.adam(lr=0.05)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(300):
    ...     params, state = opt.update(params, state, params)
    >>> print(float(np.max(np.abs(params))) < 0.01)
    True

    References: Kingma & Ba, arXiv:1412.6980; Ruder §4.6. Proof page: :ref:`rule-adam`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    eps = base.check_real("eps", eps, low=0.0)
    base.check_bool("eps_hat", eps_hat)
    eps_root = base.check_real("eps_root", eps_root, low=0.0)
    if eps_hat and eps_root != 0.0:
        raise ValueError("eps_root must be 0 when eps_hat=True (the ε̂ form has no root term)")
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> AdamState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return AdamState(t=0, m=zeros, v=zeros)

    def update(grads: Any, state: AdamState, params: Any) -> tuple[Any, AdamState]:
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)
        bc1 = 1.0 - beta1 ** t
        bc2 = 1.0 - beta2 ** t

        def leaf(p, g, m, v):
            m = beta1 * m + (1.0 - beta1) * g
            v = beta2 * v + (1.0 - beta2) * (g * g)
            if eps_hat:
                step = lr_t * bc2 ** 0.5 / bc1
                return p - step * (m / (xp.sqrt(v) + eps)), m, v
            m_hat = m / bc1
            v_hat = v / bc2
            return p - lr_t * (m_hat / (xp.sqrt(v_hat + eps_root) + eps)), m, v

        params, m, v = _tree.map(leaf, params, grads, state.m, state.v, n_out=3)
        return params, AdamState(t=t, m=m, v=v)

    return base.Optimizer(init, update)


def adamw(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-8,
          weight_decay: float = 1e-2, maximize: bool = False) -> base.Optimizer:
    """AdamW: :func:`adam` with ``decay="decoupled"`` and torch's default λ = 1e−2.

    θ ← θ − η_t λ θ, then the Adam step. Equals ``torch.optim.AdamW`` with the same arguments.
    """
    return adam(lr, beta1, beta2, eps=eps, weight_decay=weight_decay, decay="decoupled",
                maximize=maximize)
