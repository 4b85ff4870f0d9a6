"""Fromage: a per-layer relative step followed by a norm-preserving shrink (Bernstein et al. 2020)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule
from refopt import tree as _tree


@base.register_state
class FromageState(NamedTuple):
    """State of :func:`fromage` (the rule keeps no buffers)."""

    t: int   # number of updates applied so far


@base.rule_factory("fromage", FromageState)
def fromage(lr: Any = 0.01, *, min_norm: float = 1e-6, weight_decay: float = 0.0,
            decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""Fromage (Bernstein et al. 2020, Algorithm 1), layer = one leaf of the tree.

    .. math::
        \theta_t = \frac{1}{\sqrt{1+\eta_t^2}}\Big(\theta_{t-1}
        - \eta_t \frac{\lVert\theta_{t-1}\rVert}{\lVert g_t\rVert} g_t\Big)

    with Frobenius norms over each leaf, each floored at ``min_norm`` (and a ratio of 1 if a
    norm is still 0). The step has size η‖θ‖; the factor 1/√(1+η²) undoes the growth of ‖θ‖
    that a step orthogonal to θ causes (Pythagoras), so such steps keep every layer's norm.

    **Conventions.** ``optax.fromage`` is this rule with ``min_norm`` = 1e−6 (its default): the
    trust ratio of optax's trust-ratio scaling with ``min_norm``, and the shrink written as decoupled
    weight decay (1/√(1+η²) − 1)θ.

    Args:
        lr: η_t, float or schedule. min_norm: floor ≥ 0 of both norms.
        weight_decay, decay, maximize: the shared options of :mod:`refopt.rule`.

    Example (a gradient orthogonal to the layer leaves the layer's norm unchanged):

    >>> import numpy as np, refopt
    >>> opt = refopt.fromage(lr=0.3)
    >>> p = np.array([3.0, 4.0])
    >>> new, _ = opt.update(np.array([-40.0, 30.0]), opt.init(p), p)
    >>> round(float(np.linalg.norm(new)), 12)
    5.0

    References: Bernstein, Vahdat, Yue & Liu, "On the distance between two neural networks and
    the stability of learning", NeurIPS 2020 (arXiv:2002.03432). Proof page: :ref:`rule-fromage`.
    """
    lr_fn = base.as_schedule("lr", lr)
    min_norm = base.check_real("min_norm", min_norm, low=0.0)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> FromageState:
        base.check_init_params(params)
        return FromageState(t=0)

    def update(grads: Any, state: FromageState, params: Any) -> tuple[Any, FromageState]:
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)
        shrink = 1.0 / (1.0 + lr_t * lr_t) ** 0.5

        def leaf(p, g):
            p_norm = max(float(xp.sqrt(xp.sum(p * p))), min_norm)
            g_norm = max(float(xp.sqrt(xp.sum(g * g))), min_norm)
            r = p_norm / g_norm if (p_norm > 0.0 and g_norm > 0.0) else 1.0
            return shrink * (p - (lr_t * r) * g)

        return _tree.map(leaf, params, grads), FromageState(t=t)

    return base.optimizer(init, update)
