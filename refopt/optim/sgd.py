"""Gradient descent: batch, stochastic and mini-batch (:ref:`spec-classic`, Ruder 2016 §2)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class SGDState(NamedTuple):
    """State of :func:`sgd`."""

    t: int  # number of updates applied so far


@base.rule_factory("sgd", SGDState)
def sgd(lr: Any = 0.01, *, weight_decay: float = 0.0, decay: rule.Decay = "l2",
        maximize: bool = False) -> base.Optimizer:
    r"""Gradient descent θ_t = θ_{t−1} − η_t g_t.

    .. math:: \theta_t = \theta_{t-1} - \eta_t\, g_t

    Batch GD, SGD and mini-batch GD are the same rule; they differ only in which gradient the
    caller passes (full batch, one example, or a mini-batch mean).

    **Conventions.** Equals ``torch.optim.SGD`` (``momentum=0``), ``optax.sgd``,
    ``keras.optimizers.SGD`` and ``numpy_ml.neural_nets.optimizers.SGD`` with the same η (rows of
    :mod:`refopt.conventions`, each trajectory-tested).

    Args:
      lr: η, a float >= 0 or a schedule ``t -> float`` (t = 1 on the first update).
      weight_decay, decay, maximize: see :ref:`spec-conventions` (``decay`` in l2 / decoupled / fixed).

    Returns:
      An :class:`~refopt.base.Optimizer`.

    Example (∇(½‖θ‖²) = θ, so each step multiplies θ by 1 − η):

    >>> import numpy as np, refopt
    >>> opt = refopt.sgd(lr=0.1)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(50):
    ...     params, state = opt.update(params, state, params)
    >>> print(np.allclose(params, 0.9 ** 50 * np.array([1.0, -2.0]), rtol=1e-14, atol=0))
    True

    References: Ruder, arXiv:1609.04747 §2. Proof page: :ref:`rule-sgd`.
    """
    lr_fn = base.as_schedule("lr", lr)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> SGDState:
        base.check_init_params(params)
        return SGDState(t=0)

    def leaf(xp, p, g, *, lr_t):
        return p - lr_t * g

    kernel = rule.leafwise(leaf, reg, n_out=1, name="sgd")

    def update(grads: Any, state: SGDState, params: Any) -> tuple[Any, SGDState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        (params,) = kernel(xp, (params, grads), lr_t=lr_t)
        return params, SGDState(t=t)

    return base.optimizer(init, update)
