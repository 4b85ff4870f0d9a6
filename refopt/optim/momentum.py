"""Classical (heavy-ball) momentum (:ref:`spec-classic`, Ruder 2016 §4.1; Polyak 1964)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, get_args

from refopt import base, rule

BufferInit = Literal["zero", "first_grad"]


@base.register_state
class MomentumState(NamedTuple):
    """State of :func:`momentum`."""

    t: int          # number of updates applied so far
    velocity: Any   # v_t (lr_in_buffer=True) or b_t (lr_in_buffer=False); zeros at t = 0


@base.rule_factory("momentum", MomentumState)
def momentum(lr: Any = 0.01, momentum: float = 0.9, *, lr_in_buffer: bool = True,
             dampening: float = 0.0, buffer_init: BufferInit = "zero", weight_decay: float = 0.0,
             decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""Heavy-ball momentum.

    Paper form (``lr_in_buffer=True``, default), γ = ``momentum``:

    .. math:: v_t = \gamma v_{t-1} + \eta_t (1-d) g_t, \qquad \theta_t = \theta_{t-1} - v_t

    Framework form (``lr_in_buffer=False``):

    .. math:: b_t = \gamma b_{t-1} + (1-d) g_t, \qquad \theta_t = \theta_{t-1} - \eta_t b_t

    The two are identical under a constant η (v_t = η b_t) and differ when η changes: the paper
    form keeps old steps at the η they were taken with. d = ``dampening`` (0 in the paper).

    **Conventions.** The defaults equal ``keras.optimizers.SGD(momentum=γ)`` and
    ``numpy_ml.neural_nets.optimizers.SGD(momentum=γ)``; ``lr_in_buffer=False`` equals
    ``optax.sgd(momentum=γ)``; ``lr_in_buffer=False, buffer_init="first_grad"`` equals
    ``torch.optim.SGD(momentum=γ, dampening=d)`` (b_1 = g_1, undamped). Nesterov's variant is
    :func:`refopt.nag`.

    Args:
      lr: η, float or schedule. momentum: γ in [0, 1).
      lr_in_buffer: paper form (True) or framework form (False).
      dampening: d in [0, 1).
      buffer_init: ``"zero"`` (v_0 = 0, paper) or ``"first_grad"`` (the first buffer is the
        undamped gradient, torch).
      weight_decay, decay, maximize: :ref:`spec-conventions`.

    Example:

    >>> import numpy as np, refopt
    >>> opt = refopt.momentum(lr=0.05, momentum=0.9)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(200):
    ...     params, state = opt.update(params, state, params)
    >>> print(float(np.max(np.abs(params))) < 1e-4)
    True

    References: Polyak (1964); Ruder, arXiv:1609.04747 §4.1. Proof page: :ref:`rule-momentum`.
    """
    lr_fn = base.as_schedule("lr", lr)
    gamma = base.check_beta("momentum", momentum)
    base.check_bool("lr_in_buffer", lr_in_buffer)
    damp = base.check_beta("dampening", dampening)
    base.check_choice("buffer_init", buffer_init, get_args(BufferInit))
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> MomentumState:
        base.check_init_params(params)
        return MomentumState(t=0, velocity=base.zeros_like(params))

    def leaf(xp, p, g, v, *, lr_t, scale):
        if lr_in_buffer:
            v = gamma * v + (lr_t * scale) * g
            return p - v, v
        v = gamma * v + scale * g
        return p - lr_t * v, v

    kernel = rule.leafwise(leaf, reg, n_out=2, name="momentum")

    def update(grads: Any, state: MomentumState, params: Any) -> tuple[Any, MomentumState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        # torch's first step copies g_1 into the buffer without dampening
        scale = 1.0 if (t == 1 and buffer_init == "first_grad") else 1.0 - damp
        params, velocity = kernel(xp, (params, grads, state.velocity), lr_t=lr_t, scale=scale)
        return params, MomentumState(t=t, velocity=velocity)

    return base.optimizer(init, update)
