"""LAMB: Adam's direction rescaled per layer by a trust ratio (You et al. 2020)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule
from refopt import tree as _tree


@base.register_state
class LambState(NamedTuple):
    """State of :func:`lamb`."""

    t: int   # number of updates applied so far
    m: Any   # first-moment EMA m_t (not bias-corrected)
    v: Any   # second-moment EMA v_t (not bias-corrected)


def trust_ratio(param_norm: float, update_norm: float) -> float:
    """‖θ‖/‖u‖, and 1 when either norm is 0 (a zero layer, or no step, is left to the base rule)."""
    if param_norm > 0.0 and update_norm > 0.0:
        return param_norm / update_norm
    return 1.0


@base.rule_factory("lamb", LambState)
def lamb(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-6,
         eps_root: float = 0.0, direction_decay: float = 0.0, weight_decay: float = 0.0,
         decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""LAMB (You et al. 2020, Algorithm 2 with φ = identity), layer = one leaf of the tree.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,
        \quad u_t = \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t) + \epsilon_{root}} + \epsilon}
        + \lambda_u \theta_{t-1}

    .. math::
        \theta_t = \theta_{t-1} - \eta_t\, r_t\, u_t,\qquad
        r_t = \frac{\lVert\theta_{t-1}\rVert_2}{\lVert u_t\rVert_2}
        \ (r_t = 1 \text{ if either norm is } 0)

    with Frobenius norms over each leaf. Every leaf therefore moves by exactly
    ‖θ_t − θ_{t−1}‖ = η_t ‖θ_{t−1}‖: the step is relative to the layer's size, whatever the
    gradient's scale.

    **Conventions.** ``direction_decay`` λ_u is the paper's weight decay: λθ added to the Adam
    direction *inside* the trust ratio (``optax.lamb``'s ``weight_decay``). The shared
    ``weight_decay``/``decay`` options act outside it: ``decay="decoupled"`` shrinks θ by η_tλθ
    before the step, which is how ``keras.optimizers.Lamb``'s ``weight_decay`` works, and the
    trust ratio then sees the shrunk θ. ``eps`` = 1e−6 is optax's default (keras: 1e−7);
    ``eps_root`` is optax's. The paper's clipping function φ of ‖θ‖ is the identity here, as
    in both frameworks.

    Args:
        lr: η_t, a float or a schedule ``t -> float``.
        beta1, beta2: EMA rates in [0, 1).
        eps, eps_root: ε outside and ε_root inside the square root, ≥ 0.
        direction_decay: λ_u ≥ 0, decay added to the direction before the trust ratio.
        weight_decay, decay, maximize: the shared options of :mod:`refopt.rule`.

    Example (each leaf moves by η times its own norm, here 0.01):

    >>> import numpy as np, refopt
    >>> params = {"w": np.array([[3.0, 4.0]]), "b": np.array([0.1])}
    >>> opt = refopt.lamb(lr=0.01)
    >>> new, _ = opt.update({"w": np.array([[1e-3, 5.0]]), "b": np.array([7.0])}, opt.init(params), params)
    >>> [round(float(np.linalg.norm(new[k] - params[k]) / np.linalg.norm(params[k])), 12) for k in params]
    [0.01, 0.01]

    References: You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76
    minutes", ICLR 2020 (arXiv:1904.00962). Proof page: :ref:`rule-lamb`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    eps = base.check_real("eps", eps, low=0.0)
    eps_root = base.check_real("eps_root", eps_root, low=0.0)
    direction_decay = base.check_real("direction_decay", direction_decay, low=0.0)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> LambState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return LambState(t=0, m=zeros, v=zeros)

    def update(grads: Any, state: LambState, params: Any) -> tuple[Any, LambState]:
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)
        bc1 = 1.0 - beta1 ** t
        bc2 = 1.0 - beta2 ** t

        def leaf(p, g, m, v):
            m = beta1 * m + (1.0 - beta1) * g
            v = beta2 * v + (1.0 - beta2) * (g * g)
            u = rule.safe_divide(xp, m / bc1, xp.sqrt(v / bc2 + eps_root) + eps) + direction_decay * p
            r = trust_ratio(float(xp.sqrt(xp.sum(p * p))), float(xp.sqrt(xp.sum(u * u))))
            return p - (lr_t * r) * u, m, v

        params, m, v = _tree.map(leaf, params, grads, state.m, state.v, n_out=3)
        return params, LambState(t=t, m=m, v=v)

    return base.optimizer(init, update)
