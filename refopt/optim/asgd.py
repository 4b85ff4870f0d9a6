"""Averaged SGD (Polyak & Juditsky 1992) with Bottou's step sizes, as in torch.optim.ASGD."""

from __future__ import annotations

from functools import partial
from typing import Any, Literal, NamedTuple

from refopt import base, rule


@base.register_state
class ASGDState(NamedTuple):
    """State of :func:`asgd`; the averaged iterate θ̄_t is ``avg`` (see :func:`asgd_average`)."""

    t: int     # number of updates applied so far
    avg: Any   # θ̄_t: the mean of θ_{t0+1}, …, θ_t (θ_t itself while t <= t0; 0 at init)


@base.rule_factory("asgd", ASGDState)
def asgd(lr: float = 0.01, lambd: float = 1e-4, alpha: float = 0.75, t0: int = 0, *,
         weight_decay: float = 0.0, decay: Literal["l2", "decoupled", "fixed"] = "l2",
         maximize: bool = False) -> base.Optimizer:
    r"""Averaged SGD: SGD on ℓ + λ/2‖θ‖² with decreasing steps, plus the running mean of iterates.

    .. math::
        \eta_t = \frac{\eta_0}{(1 + \lambda\eta_0 (t-1))^{\alpha}},\qquad
        \theta_t = \theta_{t-1}(1 - \lambda\eta_t) - \eta_t g_t

    .. math::
        \bar\theta_t = \frac{1}{t - t_0}\sum_{s=t_0+1}^{t}\theta_s \;(t > t_0),\qquad
        \bar\theta_t = \theta_t \;(t \le t_0)

    computed as θ̄_t = θ̄_{t−1} + μ_t(θ_t − θ̄_{t−1}), μ_t = 1/(t − t0). The parameters follow
    the SGD path; the average, which Polyak & Juditsky show attains the optimal asymptotic
    variance, is read from the state with :func:`asgd_average`. The λ term is the gradient of
    Bottou's regulariser λ/2‖θ‖², which also sets the step-size decay (α = 3/4 in his recipe).

    **Conventions.** ``torch.optim.ASGD(lr, lambd, alpha, t0=T)`` is ``t0=T + 1`` here: torch
    applies μ one update late, so its ``ax`` averages θ_{T+2}, …, θ_t. torch's default T = 1e6
    means no averaging in practice; refopt's default t0 = 0 averages every iterate (the paper).

    Args:
      lr: η0, a constant float >= 0. lambd: λ >= 0. alpha: α >= 0.
      t0: the number of initial iterates left out of the average, an integer >= 0.
      weight_decay, decay, maximize: see :ref:`rule-conventions` (decay uses η_t).

    Example (with λ = 0 the parameters are SGD's and the average is their mean):

    >>> import numpy as np, refopt
    >>> opt = refopt.asgd(lr=0.1, lambd=0.0)
    >>> p = np.array([1.0, -2.0]); s = opt.init(p); path = []
    >>> for _ in range(4):
    ...     p, s = opt.update(p, s, p); path.append(p)
    >>> print(np.allclose(refopt.asgd_average(s), np.mean(path, axis=0), rtol=1e-15, atol=0))
    True

    References: Polyak & Juditsky, SIAM J. Control Optim. 1992; Bottou, "Stochastic gradient
    descent tricks", 2012. Proof page: :ref:`rule-asgd`.
    """
    if callable(lr):
        raise TypeError("lr must be a constant float for asgd (η_t = η0/(1 + λη0(t−1))^α)")
    lr = base.check_real("lr", lr, low=0.0)
    lambd = base.check_real("lambd", lambd, low=0.0)
    alpha = base.check_real("alpha", alpha, low=0.0)
    t0 = base.check_int("t0", t0, low=0)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def eta(t: int) -> float:
        # the same float operations, in the same order, as torch's step-size update
        return lr / ((1 + lambd * lr * float(t - 1)) ** alpha)

    lr_fn = base.as_schedule("lr", eta)

    def init(params: Any) -> ASGDState:
        base.check_init_params(params)
        return ASGDState(t=0, avg=base.zeros_like(params))

    # restart: μ_t = 1 (a Python bool, so that the fused path chooses between two kernels)
    def leaf(xp, p, g, avg, *, lr_t, shrink, mu, restart):
        eta_t = lr_t
        p = p * shrink - eta_t * g
        # θ·1 = θ bit for bit, in a new array: the state must not share an array with the params
        return p, (p * 1.0 if restart else avg + (p - avg) * mu)

    kernels = {restart: rule.leafwise(partial(leaf, restart=restart), reg, n_out=2, name="asgd")
               for restart in (True, False)}

    def update(grads: Any, state: ASGDState, params: Any) -> tuple[Any, ASGDState]:
        xp, t, eta_t = rule.begin(grads, state, params, lr_fn)
        shrink = 1.0 - lambd * eta_t
        mu = 1.0 / (t - t0) if t > t0 else 1.0
        params, avg = kernels[mu == 1.0](xp, (params, grads, state.avg), lr_t=eta_t, shrink=shrink,
                                         mu=mu)
        return params, ASGDState(t=t, avg=avg)

    return base.optimizer(init, update)


def asgd_average(state: ASGDState) -> Any:
    """The averaged iterate θ̄_t of an :func:`asgd` state (the paper's output)."""
    if not isinstance(state, ASGDState):
        raise TypeError(f"state must be an ASGDState from refopt.asgd, got {type(state).__name__}")
    return state.avg
