"""Weight decay on a chosen subset of leaves (a mask) around any rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, get_args

from refopt import base, rule
from refopt import tree as _tree

MaskedDecay = Literal["l2", "decoupled"]


@base.rule_factory("masked_weight_decay", None)
def masked_weight_decay(inner: base.Optimizer, weight_decay: float, mask: Any, *,
                        decay: MaskedDecay = "decoupled", lr: Any = None) -> base.Optimizer:
    r"""Weight decay λ on the leaves where ``mask`` is True only (biases and norms are usually left out).

    With m_ℓ ∈ {0, 1} the mask of leaf ℓ and θ'_ℓ the wrapped rule's new value:

    .. math::
        \text{decoupled:}\ \theta_{\ell,t} = \theta'_{\ell,t} - m_\ell\,\eta_t\lambda\,\theta_{\ell,t-1},
        \qquad \text{l2:}\ g_\ell \leftarrow g_\ell + m_\ell\lambda\,\theta_{\ell,t-1}

    ``inner`` should have no weight decay of its own. For ``decay="decoupled"`` the shrink uses
    θ_{t−1}, the point where the gradient was taken, and η_t = ``lr`` (required: pass the wrapped
    rule's learning rate or schedule; ``lr=1`` gives the fixed shrink θ ← θ − λθ).

    **Conventions.** ``decay="decoupled"`` around ``adam(lr)``: ``optax.adamw(lr,
    weight_decay=λ, mask=mask)``, and ``torch.optim.AdamW`` with parameter groups whose
    ``weight_decay`` is λ or 0. ``decay="l2"``: ``optax.add_decayed_weights(λ, mask)`` chained
    before the rule.

    Args:
      mask: a tree of booleans shaped like params (one per leaf), or a callable
        ``params -> tree of booleans`` (evaluated at ``init``).

    Example (only ``w`` decays; ``b``'s zero gradient leaves it where it is):

    >>> import numpy as np, refopt
    >>> opt = refopt.masked_weight_decay(refopt.sgd(lr=0.1), 0.5, {"w": True, "b": False}, lr=0.1)
    >>> p = {"w": np.array([1.0]), "b": np.array([1.0])}
    >>> p, s = opt.update({"w": np.zeros(1), "b": np.zeros(1)}, opt.init(p), p)
    >>> print(p["w"], p["b"])
    [0.95] [1.]

    Proof page: :ref:`rule-gradient-transforms`.
    """
    rule.check_inner(inner)
    lam = base.check_real("weight_decay", weight_decay, low=0.0)
    decay = base.check_choice("decay", decay, get_args(MaskedDecay))
    if decay == "decoupled" and lr is None:
        raise ValueError("lr is required for decay='decoupled' (the η in θ ← θ − ηλθ): pass the "
                         "wrapped rule's learning rate or schedule")
    lr_fn = base.as_schedule("lr", 0.0 if lr is None else lr)
    if not callable(mask):
        _check_mask(mask)

    def mask_of(params: Any) -> Any:
        m = mask(params) if isinstance(mask, Callable) else mask
        _check_mask(m)
        _tree.assert_same_structure(("params", "mask"), (params, m))
        return m

    def init(params: Any) -> Any:
        base.check_init_params(params)   # before the mask function sees them
        mask_of(params)
        return inner.init(params)

    def update(grads: Any, state: Any, params: Any, **oracles: Any) -> tuple[Any, Any]:
        if grads is not None:   # checked before the mask function sees params (grad_fn: by inner)
            base.check_update_args(grads, state, params)
        m = mask_of(params)
        if decay == "l2":
            def add_l2(g, p, on):
                return g + lam * p if on else g
            if grads is None and "grad_fn" in oracles:
                fn = oracles["grad_fn"]
                oracles = {**oracles, "grad_fn": lambda q: _tree.map(add_l2, fn(q), q, m)}
            else:
                base.check_update_args(grads, state, params)
                grads = _tree.map(add_l2, grads, params, m)
            return inner.update(grads, state, params, **oracles)
        coeff = lr_fn(state.t + 1) * lam
        new, state = inner.update(grads, state, params, **oracles)
        return _tree.map(lambda q, p, on: q - coeff * p if on else q, new, params, m), state

    return base.optimizer(init, update, inner.extra_args)


def _check_mask(mask: Any) -> None:
    for leaf in _tree.leaves(mask):
        if not isinstance(leaf, bool):
            raise TypeError(f"mask must be a tree of True/False (one per leaf) or a callable, "
                            f"got a leaf {leaf!r}")
