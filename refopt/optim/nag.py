"""Nesterov accelerated gradient (:ref:`spec-classic`, Ruder 2016 §4.2; Nesterov 1983)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from refopt import base, rule
from refopt import tree as _tree

FORMS = ("lookahead", "reparameterised")


class NAGState(NamedTuple):
    """State of :func:`nag`."""

    t: int         # number of updates applied so far
    velocity: Any  # look-ahead form: v_t (η inside); reparameterised form: b_t (η outside)


def nag(lr: Any = 0.01, momentum: float = 0.9, *, form: str = "lookahead",
        weight_decay: float = 0.0, decay: str = "l2", maximize: bool = False) -> base.Optimizer:
    r"""Nesterov accelerated gradient, in the paper's look-ahead form or the reparameterised one.

    Look-ahead form (``form="lookahead"``, default; Ruder eq. NAG), γ = ``momentum``:

    .. math::
        v_t = \gamma v_{t-1} + \eta_t \nabla\ell(\theta_{t-1} - \gamma v_{t-1}),\qquad
        \theta_t = \theta_{t-1} - v_t

    The gradient is needed at the look-ahead point, so ``update`` takes a gradient oracle:
    ``update(None, state, params, grad_fn=f)`` with ``f(tree) -> grads``; the ``grads``
    argument must be ``None`` (the gradient at θ_{t−1} is not used by this form).

    Reparameterised form (``form="reparameterised"``): the stored parameters are the look-ahead
    points φ = θ − γv and the gradient is taken there, as ordinary ``update(grads, ...)``:

    .. math::
        b_t = \gamma b_{t-1} + g_t,\qquad \phi_t = \phi_{t-1} - \eta_t (g_t + \gamma b_t),
        \quad g_t = \nabla\ell(\phi_{t-1})

    With constant η and v_0 = 0 the φ iterates equal the look-ahead points θ_t − γv_t of the
    first form (proved on the proof page, tested in ``tests/test_equivalences.py``).

    ``momentum`` may be a schedule t ↦ γ_t ∈ [0, 1) in the look-ahead form; γ_t = (t−2)/(t+1)
    (0 for t = 1) is Nesterov's 1983 scheme x_k = y_{k−1} − η∇ℓ(y_{k−1}),
    y_k = x_k + (k−1)/(k+2)(x_k − x_{k−1}) (Su, Boyd, Candès 2016), whose convex rate is tested
    in ``tests/test_theorems.py``.

    **Conventions.** The reparameterised form equals ``torch.optim.SGD(lr, momentum,
    nesterov=True)`` and ``optax.sgd(lr, momentum, nesterov=True)``. ``momentum`` must be > 0:
    Nesterov without momentum is plain :func:`refopt.sgd` and is rejected to catch typos.

    Example (look-ahead form with an oracle for ∇(½‖θ‖²) = θ):

    >>> import numpy as np, refopt
    >>> opt = refopt.nag(lr=0.05, momentum=0.9)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(200):
    ...     params, state = opt.update(None, state, params, grad_fn=lambda p: p)
    >>> print(float(np.max(np.abs(params))) < 1e-4)
    True

    References: Nesterov (1983); Sutskever et al. (2013); Ruder §4.2. Proof page: :ref:`rule-nag`.
    """
    lr_fn = base.as_schedule("lr", lr)
    base.check_choice("form", form, FORMS)
    if callable(momentum):
        if form != "lookahead":
            raise TypeError("momentum must be a constant for form='reparameterised' (the "
                            "reparameterisation assumes a constant γ)")

        def gamma_of(t: int) -> float:
            return base.check_real(f"momentum({t})", momentum(t), low=0.0, high=1.0, high_open=True)
    else:
        gamma = base.check_real("momentum", momentum, low=0.0, high=1.0, low_open=True,
                                high_open=True)

        def gamma_of(t: int) -> float:
            return gamma
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> NAGState:
        base.check_init_params(params)
        return NAGState(t=0, velocity=base.zeros_like(params))

    def update(grads: Any, state: NAGState, params: Any, *,
               grad_fn: Callable[[Any], Any] | None = None) -> tuple[Any, NAGState]:
        if form == "reparameterised":
            if grad_fn is not None:
                raise ValueError("grad_fn: the reparameterised form takes the gradient at the "
                                 "stored parameters as grads; pass grad_fn only with "
                                 "form='lookahead'")
            _, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)
            gamma = gamma_of(t)

            def leaf(p, g, b):
                b = gamma * b + g
                return p - lr_t * (g + gamma * b), b

            params, velocity = _tree.map(leaf, params, grads, state.velocity, n_out=2)
            return params, NAGState(t=t, velocity=velocity)

        if grad_fn is None:
            raise ValueError("grad_fn is required for form='lookahead': the rule evaluates "
                             "∇ℓ at θ − γv itself")
        if grads is not None:
            raise ValueError("grads must be None for form='lookahead' (the gradient at θ is "
                             "not used; the rule calls grad_fn at the look-ahead point)")
        gamma = gamma_of(state.t + 1)
        lookahead = _tree.map(lambda p, v: p - gamma * v, params, state.velocity,
                              names=("params", "state.velocity"))
        g_ahead = grad_fn(lookahead)
        # weight decay and maximize act on the gradient where it is taken: the look-ahead point
        _, t, lr_t, g_ahead, _ = rule.begin_step(g_ahead, state, lookahead, lr_fn, reg)
        params = _tree.map(lambda p: rule.decayed_param(reg, p, lr_t), params)

        def leaf(p, g, v):
            v = gamma * v + lr_t * g
            return p - v, v

        params, velocity = _tree.map(leaf, params, g_ahead, state.velocity, n_out=2)
        return params, NAGState(t=t, velocity=velocity)

    return base.Optimizer(init, update)
