"""NovoGrad: a layer-wise second moment (Ginsburg et al. 2019)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from refopt import base, rule
from refopt import tree as _tree

DECAYS = ("in_moment",) + rule.DECAY_KINDS


@base.register_state
class NovoGradState(NamedTuple):
    """State of :func:`novograd`."""

    t: int    # number of updates applied so far
    m: Any    # momentum of the normalised gradients, one array per leaf
    v: Any    # EMA of the squared norm ‖g^l‖², one 0-d array per leaf (layer)

    PER_LEAF_SCALARS = ("v",)   # base.check_update_args: v's leaves are 0-d, not params-shaped


@base.rule_factory("novograd", NovoGradState)
def novograd(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.25, *, eps: float = 1e-6,
             eps_root: float = 0.0, weight_decay: float = 0.0,
             decay: Literal["in_moment", "l2", "decoupled", "fixed"] = "in_moment",
             maximize: bool = False) -> base.Optimizer:
    r"""NovoGrad: Adam-like normalisation by one second moment per layer (pytree leaf).

    For each leaf l, with v^l_1 = ‖g^l_1‖² and m_0 = 0:

    .. math::
        v^l_t = \beta_2 v^l_{t-1} + (1-\beta_2)\|g^l_t\|^2\ (t \ge 2),\qquad
        m^l_t = \beta_1 m^l_{t-1} + \frac{g^l_t}{\sqrt{v^l_t + \epsilon_{root}} + \epsilon}
        + \lambda\theta^l_{t-1},\qquad \theta^l_t = \theta^l_{t-1} - \eta_t m^l_t

    The first moment sums normalised gradients (no 1 − β1 factor), and the second moment is a
    scalar per layer, so each layer's gradient is divided by its own RMS norm: rescaling one
    layer's gradients leaves the whole run unchanged (:ref:`rule-novograd`). ``decay="in_moment"``
    is the paper's weight decay λθ added to the normalised gradient; the shared decays
    (:ref:`rule-conventions`) are also available.

    **Conventions.** Equals ``optax.novograd(lr, b1, b2, eps, eps_root, weight_decay)``, whose
    defaults (β1 = 0.9, β2 = 0.25, ε = 1e−6) are used here.

    Args:
      lr: η, a float >= 0 or a schedule. beta1, beta2: rates in [0, 1).
      eps, eps_root: ε outside and inside the root.
      weight_decay, decay, maximize: λ and where it enters.

    Example (each layer's first move has length exactly η, whatever its gradient's size):

    >>> import numpy as np, refopt
    >>> opt = refopt.novograd(lr=0.1, eps=0.0)
    >>> p = {"a": np.array([3.0, 4.0]), "b": np.array([1e-3])}; s = opt.init(p)
    >>> q, s = opt.update(p, s, p)
    >>> print([round(float(np.linalg.norm(q[k] - p[k])), 12) for k in p])
    [0.1, 0.1]

    References: Ginsburg et al., arXiv:1905.11286. Proof page: :ref:`rule-novograd`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    eps = base.check_real("eps", eps, low=0.0)
    eps_root = base.check_real("eps_root", eps_root, low=0.0)
    in_moment = base.check_choice("decay", decay, DECAYS) == "in_moment"
    lam = base.check_real("weight_decay", weight_decay, low=0.0)
    reg = rule.regularisation(0.0 if in_moment else lam, "l2" if in_moment else decay, maximize)

    def init(params: Any) -> NovoGradState:
        xp = base.check_init_params(params)
        return NovoGradState(t=0, m=base.zeros_like(params),
                             v=_tree.map(lambda p: xp.zeros((), dtype=p.dtype), params))

    def update(grads: Any, state: NovoGradState, params: Any) -> tuple[Any, NovoGradState]:
        theta_prev = params   # the in-moment decay uses θ_{t−1}
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)

        def leaf(p, p_prev, g, m, v):
            sq_norm = xp.sum(g * g)
            v = sq_norm if t == 1 else beta2 * v + (1.0 - beta2) * sq_norm
            normalised = rule.safe_divide(xp, g, xp.sqrt(v + eps_root) + eps)
            if in_moment and lam != 0.0:
                normalised = normalised + lam * p_prev
            m = beta1 * m + normalised
            # NumPy turns 0-d results into scalars; the state keeps 0-d arrays of the leaf dtype
            return p - lr_t * m, m, xp.asarray(v, dtype=g.dtype)

        params, m, v = _tree.map(leaf, params, theta_prev, grads, state.m, state.v, n_out=3)
        return params, NovoGradState(t=t, m=m, v=v)

    return base.optimizer(init, update)
