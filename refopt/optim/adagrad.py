"""Adagrad (:ref:`spec-classic`; Duchi, Hazan, Singer 2011; Ruder 2016 §4.3)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class AdagradState(NamedTuple):
    """State of :func:`adagrad`."""

    t: int             # number of updates applied so far
    sum_squares: Any   # G_t = G_0 + Σ_{i≤t} g_i²


@base.rule_factory("adagrad", AdagradState)
def adagrad(lr: Any = 0.01, *, eps: float = 1e-8, eps_inside: bool = True,
            initial_accumulator: float = 0.0, lr_decay: float = 0.0,
            weight_decay: float = 0.0, decay: rule.Decay = "l2", maximize: bool = False
            ) -> base.Optimizer:
    r"""Adagrad with ε inside the root (paper form).

    .. math::
        G_t = G_{t-1} + g_t^2,\qquad
        \theta_t = \theta_{t-1} - \frac{\eta_t}{1 + (t-1)\kappa}\,\frac{g_t}{\sqrt{G_t + \epsilon}}

    with κ = ``lr_decay`` (0 in the paper) and ``eps_inside=False`` replacing √(G+ε) by √G + ε.

    **Conventions.** ``eps_inside=False, eps=1e-10`` equals ``torch.optim.Adagrad`` (its
    ``lr_decay`` and ``initial_accumulator_value`` are κ and G_0); ``eps=1e-7,
    initial_accumulator=0.1`` equals ``optax.adagrad`` and ``keras.optimizers.Adagrad``;
    ``eps_inside=False, eps=1e-7`` equals ``numpy_ml.neural_nets.optimizers.AdaGrad``.

    Args:
      lr: η. eps: ε >= 0. eps_inside: ε under the root (True) or added to √G (False).
      initial_accumulator: G_0 >= 0. lr_decay: κ >= 0 (inverse-time decay).
      weight_decay, decay, maximize: :ref:`spec-conventions`.

    Example:

    >>> import numpy as np, refopt
    >>> opt = refopt.adagrad(lr=0.5)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(100):
    ...     params, state = opt.update(params, state, params)
    >>> print(bool(np.max(np.abs(params)) < 1e-6))
    True

    References: Duchi et al., JMLR 2011; Ruder §4.3. Proof page: :ref:`rule-adagrad`.
    """
    lr_fn = base.as_schedule("lr", lr)
    eps = base.check_real("eps", eps, low=0.0)
    base.check_bool("eps_inside", eps_inside)
    g0 = base.check_real("initial_accumulator", initial_accumulator, low=0.0)
    kappa = base.check_real("lr_decay", lr_decay, low=0.0)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> AdagradState:
        base.check_init_params(params)
        return AdagradState(t=0, sum_squares=base.full_like(params, g0))

    def leaf(xp, p, g, s, *, lr_t, step):
        s = s + g * g
        denom = xp.sqrt(s + eps) if eps_inside else xp.sqrt(s) + eps
        return p - step * rule.safe_divide(xp, g, denom, floor=eps), s

    kernel = rule.leafwise(leaf, reg, n_out=2, name="adagrad")

    def update(grads: Any, state: AdagradState, params: Any) -> tuple[Any, AdagradState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        step = lr_t / (1.0 + (t - 1) * kappa)
        params, sums = kernel(xp, (params, grads, state.sum_squares), lr_t=lr_t, step=step)
        return params, AdagradState(t=t, sum_squares=sums)

    return base.optimizer(init, update)
