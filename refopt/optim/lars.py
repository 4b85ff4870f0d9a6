"""LARS: momentum SGD with a per-layer trust ratio (You, Gitman & Ginsburg 2017)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple, get_args

from refopt import base, rule
from refopt import tree as _tree

RatioDenominator = Literal["norm_of_sum", "sum_of_norms"]
Mask = Callable[[Any], Any] | Any | None


@base.register_state
class LarsState(NamedTuple):
    """State of :func:`lars`."""

    t: int   # number of updates applied so far
    m: Any   # momentum buffer m_t (η inside, as in the paper's v)


def matrix_leaves(params: Any) -> Any:
    """A mask for the usual exclusion: ``True`` for leaves of rank ≥ 2 (weights), ``False`` for
    vectors and scalars (biases, normalisation scales and shifts)."""
    return _tree.map(lambda p: len(p.shape) >= 2, params)


def leaf_mask(name: str, mask: Mask, params: Any) -> list[bool]:
    """One bool per leaf from ``mask``: None or True (every leaf), False (none), a tree of bools
    shaped like params, or a callable ``params -> tree of bools``; raise naming ``name``."""
    n = len(_tree.leaves(params))
    if mask is None or isinstance(mask, bool):   # optax's True: every leaf
        return [mask is not False] * n
    tree = mask(params) if callable(mask) else mask
    try:
        _tree.assert_same_structure(("params", name), (params, tree))
    except ValueError as err:
        raise ValueError(f"{name} must be None, a tree of bools shaped like params, or a callable "
                         f"returning one: {err}") from None
    flags = _tree.leaves(tree)
    if not all(isinstance(f, bool) for f in flags):
        raise TypeError(f"{name} must have True/False leaves, got {flags!r}")
    return flags


@base.rule_factory("lars", LarsState)
def lars(lr: Any = 0.1, momentum: float = 0.9, *, trust_coefficient: float = 0.001, eps: float = 0.0,
         nesterov: bool = False, ratio_denominator: RatioDenominator = "norm_of_sum",
         weight_decay_mask: Mask = None, trust_ratio_mask: Mask = None, weight_decay: float = 0.0,
         decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""LARS (You et al. 2017, Algorithm 1), layer = one leaf of the tree.

    .. math::
        d_t = g_t + \lambda\theta_{t-1},\qquad
        r_t = \frac{\kappa\,\lVert\theta_{t-1}\rVert}{\lVert d_t\rVert + \epsilon}
        \ \Big(\text{or } \frac{\kappa\,\lVert\theta_{t-1}\rVert}
        {\lVert g_t\rVert + \lambda\lVert\theta_{t-1}\rVert + \epsilon}\Big)

    .. math::
        m_t = \mu\, m_{t-1} + \eta_t\, r_t\, d_t,\qquad
        \theta_t = \theta_{t-1} - m_t \quad(\text{Nesterov: } \theta_{t-1} - \eta_t r_t d_t - \mu m_t)

    with Frobenius norms over each leaf and r_t = 1 when ‖θ‖ or the denominator is 0.

    **Conventions.** ``ratio_denominator="norm_of_sum"`` (‖g + λθ‖) is ``optax.lars``;
    ``"sum_of_norms"`` (‖g‖ + λ‖θ‖, an upper bound by the triangle inequality) is the paper's
    Algorithm 1. Weight decay is the shared ``decay="l2"`` (λθ added to g, inside the ratio);
    ``"decoupled"``/``"fixed"`` shrink θ outside it. ``weight_decay_mask`` and
    ``trust_ratio_mask`` (optax's names) select the leaves that are decayed and that are
    rescaled; unmasked leaves take the plain momentum step η_t d_t.
    :func:`~refopt.optim.lars.matrix_leaves` is the usual choice that excludes biases and
    normalisation parameters. η is inside the buffer
    (optax applies the learning rate before ``trace``). Defaults κ = 1e−3, μ = 0.9 are optax's.

    Args:
        lr: η_t, a float or a schedule ``t -> float``.
        momentum: μ in [0, 1). nesterov: use the Nesterov form of the momentum step.
        trust_coefficient: κ > 0. eps: ε ≥ 0 added to the ratio's denominator.
        ratio_denominator: ``"norm_of_sum"`` or ``"sum_of_norms"`` (see Conventions).
        weight_decay_mask, trust_ratio_mask: None (all leaves), a tree of bools shaped like the
            params, or a callable ``params -> tree of bools``.
        weight_decay, decay, maximize: the shared options of :mod:`refopt.rule`.

    Example (without momentum every rescaled layer moves by ηκ times its own norm):

    >>> import numpy as np, refopt
    >>> from refopt.optim.lars import matrix_leaves
    >>> params = {"w": np.array([[3.0, 4.0]]), "b": np.array([0.5])}
    >>> opt = refopt.lars(lr=0.1, momentum=0.0, trust_coefficient=0.5,
    ...                   trust_ratio_mask=matrix_leaves)
    >>> grads = {"w": np.array([[1e-3, 8.0]]), "b": np.array([2.0])}
    >>> new, _ = opt.update(grads, opt.init(params), params)
    >>> step_w = np.linalg.norm(new["w"] - params["w"])      # ηκ‖w‖ = 0.05·5, whatever g_w is
    >>> round(float(step_w), 12), float(new["b"][0])          # b is unmasked: 0.5 − 0.1·2
    (0.25, 0.3)

    References: You, Gitman & Ginsburg, "Large Batch Training of Convolutional Networks",
    arXiv:1708.03888 (2017). Proof page: :ref:`rule-lars`.
    """
    lr_fn = base.as_schedule("lr", lr)
    mu = base.check_beta("momentum", momentum)
    kappa = base.check_real("trust_coefficient", trust_coefficient, low=0.0, low_open=True)
    eps = base.check_real("eps", eps, low=0.0)
    base.check_bool("nesterov", nesterov)
    base.check_choice("ratio_denominator", ratio_denominator, get_args(RatioDenominator))
    for name, mask in (("weight_decay_mask", weight_decay_mask), ("trust_ratio_mask", trust_ratio_mask)):
        if not (mask is None or callable(mask) or isinstance(mask, (dict, list, tuple, bool))):
            raise TypeError(f"{name} must be None, a tree of bools or a callable, got {mask!r}")
    reg = rule.regularisation(weight_decay, decay, maximize)
    # rule.begin_step applies only maximize; the decay is applied per leaf, under its mask
    sign_only = rule.regularisation(0.0, "l2", reg.maximize)
    decay_only = rule.regularisation(reg.weight_decay, reg.decay, False)
    lam = reg.weight_decay if reg.decay == "l2" else 0.0   # the λ that enters the ratio

    def init(params: Any) -> LarsState:
        base.check_init_params(params)
        return LarsState(t=0, m=base.zeros_like(params))

    def update(grads: Any, state: LarsState, params: Any) -> tuple[Any, LarsState]:
        decayed = leaf_mask("weight_decay_mask", weight_decay_mask, params)
        rescaled = leaf_mask("trust_ratio_mask", trust_ratio_mask, params)
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, sign_only)
        treedef = _tree.structure(params)
        decayed, rescaled = _tree.unflatten(treedef, decayed), _tree.unflatten(treedef, rescaled)

        def leaf(p, g, m, do_decay, do_ratio):
            d = rule.effective_grad(decay_only, g, p) if do_decay else g
            p = rule.decayed_param(decay_only, p, lr_t) if do_decay else p
            r = 1.0
            if do_ratio:
                p_norm = float(xp.sqrt(xp.sum(p * p)))
                if ratio_denominator == "norm_of_sum":
                    den = float(xp.sqrt(xp.sum(d * d)))
                else:
                    den = float(xp.sqrt(xp.sum(g * g))) + (lam if do_decay else 0.0) * p_norm
                if p_norm > 0.0 and den > 0.0:
                    r = kappa * p_norm / (den + eps)
            u = lr_t * (r * d)
            m = mu * m + u
            return p - (u + mu * m if nesterov else m), m

        params, m = _tree.map(leaf, params, grads, state.m, decayed, rescaled, n_out=2)
        return params, LarsState(t=t, m=m)

    return base.optimizer(init, update)
