"""Adam and AdamW (:ref:`spec-classic`; Kingma & Ba 2015; Loshchilov & Hutter 2019)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule
from refopt import tree as _tree


@base.register_state
class AdamState(NamedTuple):
    """State of :func:`adam`."""

    t: int   # number of updates applied so far
    m: Any   # first-moment EMA m_t (not bias-corrected)
    v: Any   # second-moment EMA v_t (not bias-corrected)


@base.rule_factory("adam", AdamState)
def adam(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-8,
         eps_hat: bool = False, eps_root: float = 0.0, lazy: bool = False,
         weight_decay: float = 0.0, decay: rule.Decay = "l2", maximize: bool = False
         ) -> base.Optimizer:
    r"""Adam, in the paper's form (Algorithm 1) by default.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2

    .. math::
        \hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t},\quad
        \theta_t = \theta_{t-1} - \eta_t \frac{\hat m_t}{\sqrt{\hat v_t + \epsilon_{root}} + \epsilon}

    ``eps_hat=True`` is Kingma–Ba's "efficient" ordering,
    θ_t = θ_{t−1} − η_t (√(1−β2^t)/(1−β1^t)) m_t/(√v_t + ε̂), which is the paper form with a
    step-dependent ε_t = ε̂/√(1−β2^t); it is used without ``eps_root``.

    ``lazy=True`` (SparseAdam) leaves m, v and θ of every *row* whose gradient is entirely zero
    untouched; a row is one index along a leaf's first axis (an embedding row; a coordinate of
    a 1-d leaf; the whole of a 0-d leaf). t and the bias corrections still advance every step.
    refopt's gradients are dense, so "present in the sparse gradient" reads "has a non-zero
    entry"; torch also updates a row that a sparse gradient lists with an explicit zero value.
    Without weight decay (a decay term would make every row active).

    **Conventions.** Defaults equal ``torch.optim.Adam`` and ``optax.adam`` (``eps_root`` is
    optax's argument); ``decay="decoupled"`` equals ``torch.optim.AdamW`` (λ = 1e−2) and
    ``optax.adamw`` (λ = 1e−4); ``eps_hat=True, eps=1e-7`` equals ``keras.optimizers.Adam`` and,
    with decoupled λ = 4e−3, ``keras.optimizers.AdamW``; ``eps=1e-7`` equals
    ``numpy_ml.neural_nets.optimizers.Adam``. AMSGrad is :func:`refopt.amsgrad`.
    ``lazy=True, eps_hat=True`` reproduces torch's SparseAdam fed the gradient's non-zero rows
    as a sparse tensor (a sparse-gradient convention the dense probe battery cannot carry; pinned
    in ``tests/test_modern_rules.py``).

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
    base.check_bool("lazy", lazy)
    reg = rule.regularisation(weight_decay, decay, maximize)
    if lazy and reg.weight_decay != 0.0:
        raise ValueError("weight_decay must be 0 when lazy=True (decay would move the rows that "
                         "a lazy update leaves untouched; torch.optim.SparseAdam has none)")

    def init(params: Any) -> AdamState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return AdamState(t=0, m=zeros, v=zeros)

    def leaf(xp, p, g, m, v, *, lr_t, bc1, bc2):
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * (g * g)
        if eps_hat:
            step = lr_t * bc2 ** 0.5 / bc1
            return p - step * rule.safe_divide(xp, m, xp.sqrt(v) + eps, floor=eps), m, v
        m_hat = m / bc1
        v_hat = v / bc2
        if eps_root:  # v̂ ≥ +0, so adding ε_root = 0 would change no bit: skip the pass
            v_hat = v_hat + eps_root
        return p - lr_t * rule.safe_divide(xp, m_hat, xp.sqrt(v_hat) + eps, floor=eps), m, v

    kernel = rule.leafwise(leaf, reg, n_out=3, name="adam")

    def update(grads: Any, state: AdamState, params: Any) -> tuple[Any, AdamState]:
        if lazy:
            return lazy_update(grads, state, params)
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        params, m, v = kernel(xp, (params, grads, state.m, state.v),
                              lr_t=lr_t, bc1=1.0 - beta1 ** t, bc2=1.0 - beta2 ** t)
        return params, AdamState(t=t, m=m, v=v)

    def lazy_update(grads: Any, state: AdamState, params: Any) -> tuple[Any, AdamState]:
        # rows are not element-wise (a row is active if any entry is), so this stays readable
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)
        bc1, bc2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t

        def lazy_leaf(p, g, m, v):
            new = leaf(xp, p, g, m, v, lr_t=lr_t, bc1=bc1, bc2=bc2)
            active = _active_rows(xp, g)
            return tuple(xp.where(active, a, b) for a, b in zip(new, (p, m, v)))

        params, m, v = _tree.map(lazy_leaf, params, grads, state.m, state.v, n_out=3)
        return params, AdamState(t=t, m=m, v=v)

    return base.optimizer(init, update)


def _active_rows(xp: Any, g: Any) -> Any:
    """True for the rows (indices along axis 0) of g with a non-zero entry, broadcastable to g."""
    if g.ndim <= 1:
        return g != 0
    return xp.any(g != 0, axis=tuple(range(1, g.ndim)), keepdims=True)


@base.rule_factory("adamw", AdamState)
def adamw(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-8,
          weight_decay: float = 1e-2, maximize: bool = False) -> base.Optimizer:
    """AdamW: :func:`adam` with ``decay="decoupled"`` and torch's default λ = 1e−2.

    θ ← θ − η_t λ θ, then the Adam step. Equals ``torch.optim.AdamW`` with the same arguments.
    """
    return adam(lr, beta1, beta2, eps=eps, weight_decay=weight_decay, decay="decoupled",
                maximize=maximize)
